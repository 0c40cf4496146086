// What the benchmark scripts' summary tables share (bench/ext.sh, rpc.sh, metrics.sh): their
// Node snippets import it by the path the script passes as the first argument.

import fs from 'node:fs';

// The rows of a CSV file with a header line, as objects keyed by the header's names (text
// values); [] when the file does not exist (a part of the run that was skipped).
export function readCsv(path) {
  if (!fs.existsSync(path)) return [];
  const [head, ...lines] = fs.readFileSync(path, 'utf8').trim().split('\n');
  const keys = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i], v])));
}

// The median of the values that are numbers; NaN when none is.
export function median(xs) {
  const v = xs.map(Number).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

// `x` with `digits` decimals and thousands separators, or '-' when it is not a number.
export function formatNumber(x, digits = 0) {
  return Number.isFinite(x)
    ? x.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits})
    : '-';
}

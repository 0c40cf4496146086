#!/usr/bin/env bash
# Metrics benchmark (issue 11): what counting costs on the delivery path. The broadcast
# benchmark (`cablecast bench broadcast`, bench/README.md) against the server with metrics on
# (the default, scraped every SCRAPE_INTERVAL seconds during the run, as Prometheus would) and
# off (`--metrics=false`), alternating on/off and off/on per repeat so that the shared machine's
# drift hits both alike; medians over METRICS_REPEATS and their ratio. Target: at most 2 % apart.
#
# `--metrics=false` only turns the endpoint off: the per-loop counters are always kept (they are
# single-writer relaxed stores, core/loop_metrics.hpp). To measure the counters themselves, give
# BASELINE_BIN, a `cablecast` built without them (e.g. from the commit before metrics): "off"
# then runs that binary instead (it must be named `cablecast`).
#
# Server on SERVER_CORE (one event loop), generator on BENCH_CORE, a fresh server per run.
# Results: bench/results/<stamp>-metrics.csv (every run's row) and <stamp>-metrics.md (table).
#
# Knobs (environment): METRICS_STEPS=1000,10000  METRICS_SAMPLES=100  METRICS_REPEATS=5
#   SCRAPE_INTERVAL=1
#   BASELINE_BIN=  SERVER_CORE=0  BENCH_CORE=1  BUILD_DIR=build/release  OUT_DIR=bench/results
#   SKIP_BUILD=0
set -euo pipefail

BENCH_NAME=metrics.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ROOT, STAMP, LOG_DIR...; say, die, need, stop...

METRICS_STEPS=${METRICS_STEPS:-1000,10000}
METRICS_SAMPLES=${METRICS_SAMPLES:-100}
METRICS_REPEATS=${METRICS_REPEATS:-5}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-1}
BASELINE_BIN=${BASELINE_BIN:-}

CSV="$OUT_DIR/$STAMP-metrics.csv"
TABLE="$OUT_DIR/$STAMP-metrics.md"

bench_cleanup() { rm -rf "$LOG_DIR"; }
stop_on_exit SCRAPER_PID SERVER_PID

prepare_load_run
need curl "it scrapes /metrics during the runs"
need node "it builds the summary table"
build_cablecast "$ROOT"
if [[ -n "$BASELINE_BIN" ]]; then [[ -x "$BASELINE_BIN" ]] || die "BASELINE_BIN $BASELINE_BIN is not executable"; fi

# scrape_every PORT: GET /metrics every SCRAPE_INTERVAL seconds until killed (the "on" runs).
scrape_every() {
  local port=$1
  while true; do
    curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" || echo "metrics.sh: scrape failed" >&2
    sleep "$SCRAPE_INTERVAL"
  done
}

# run LABEL: a fresh server with metrics on (scraped) or off, one generator run, stopped.
run() {
  local label=$1 port
  port=$(free_port)
  if [[ $label == on ]]; then
    start_cablecast "$port"
    scrape_every "$port" &
    SCRAPER_PID=$!
  elif [[ -n "$BASELINE_BIN" ]]; then
    BUILD_DIR=$(dirname "$BASELINE_BIN") start_cablecast "$port"  # lib.sh runs $BUILD_DIR/cablecast
  else
    start_cablecast "$port" --metrics=false
  fi
  say "metrics $label: broadcast --steps $METRICS_STEPS --samples $METRICS_SAMPLES (load $(load))"
  taskset -c "$BENCH_CORE" "$BIN" bench broadcast --url "ws://127.0.0.1:$port/cable" --threads 1 \
    --server-pid "$SERVER_PID" --label "metrics-$label" --csv "$CSV" --steps "$METRICS_STEPS" \
    --clients "${METRICS_STEPS##*,}" --samples "$METRICS_SAMPLES" || echo "metrics.sh: $label run exited with $?" >&2
  stop "$SCRAPER_PID"
  SCRAPER_PID=""
  stop "$SERVER_PID"
  SERVER_PID=""
}

off_is="--metrics=false (same binary: the endpoint off, counters kept)"
[[ -n "$BASELINE_BIN" ]] && off_is="$BASELINE_BIN (no counters)"
say "machine: $(nproc) cores, kernel $(uname -r), load: $(load), commit $COMMIT; off = $off_is"
for repeat in $(seq 1 "$METRICS_REPEATS"); do
  order=(on off)
  if (( repeat % 2 == 0 )); then order=(off on); fi
  for label in "${order[@]}"; do run "$label"; done
done

node --input-type=module - "$ROOT/bench/table.mjs" "$CSV" "$off_is" "$COMMIT" >"$TABLE" <<'JS'
const [tableLib, csvPath, offIs, commit] = process.argv.slice(2);
const {readCsv, median, formatNumber: f} = await import(tableLib);
const rows = readCsv(csvPath);
const steps = [...new Set(rows.map((r) => Number(r.clients)))].sort((a, b) => a - b);
const of = (label, n) => rows.filter((r) => r.label === `metrics-${label}` && Number(r.clients) === n);
const out = [];
out.push(`Broadcast benchmark, metrics on (scraped during the run) vs off = ${offIs}; commit ${commit}; medians of ${of('on', steps[0]).length} run(s) each, alternating; on/off = ratio of the medians.`, '');
out.push('| Clients | p50 on / off (ms) | p50 on/off | p99 on / off (ms) | deliveries per server CPU-s on / off | CPU on/off |', '|---|---:|---:|---:|---:|---:|');
for (const n of steps) {
  const m = (label, col) => median(of(label, n).map((r) => r[col]));
  out.push(`| ${f(n)} | ${f(m('on', 'p50_ms'), 2)} / ${f(m('off', 'p50_ms'), 2)} | **${f(m('on', 'p50_ms') / m('off', 'p50_ms'), 3)}** | ` +
           `${f(m('on', 'p99_ms'), 1)} / ${f(m('off', 'p99_ms'), 1)} | ` +
           `${f(m('on', 'deliveries_per_server_cpu_s'))} / ${f(m('off', 'deliveries_per_server_cpu_s'))} | ` +
           `**${f(m('off', 'deliveries_per_server_cpu_s') / m('on', 'deliveries_per_server_cpu_s'), 3)}** |`);
}
const sum = (col) => rows.reduce((s, r) => s + Number(r[col]), 0);
out.push('', `Delivery checks: missing ${sum('missing')}, duplicates ${sum('duplicates')}, out of order ${sum('reordered')}, timeouts ${sum('timeouts')}.`);
console.log(out.join('\n'));
JS
say "results: $CSV"
cat "$TABLE"

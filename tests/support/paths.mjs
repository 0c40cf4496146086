// Where the repository and the server binary are. ctest sets CABLECAST_ROOT and CABLECAST_BIN;
// running a test file by hand falls back to the repository this file lives in.
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const repoRoot =
  process.env.CABLECAST_ROOT ||
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const cablecastBin =
  process.env.CABLECAST_BIN || path.join(repoRoot, 'build', 'release', 'cablecast');

// bench/limit: the smallest fan-out server, the yardstick of bench/compare.sh (issue 12).
export const limitBin =
  process.env.CABLECAST_LIMIT_BIN || path.join(repoRoot, 'build', 'release', 'cablecast-limit');

export const rubyReferenceApp = path.join(repoRoot, 'reference', 'ruby', 'config.ru');

// tests/support/without_io_uring.cpp: runs a program where the kernel refuses io_uring.
export const withoutIoUringBin =
  process.env.CABLECAST_WITHOUT_IO_URING ||
  path.join(repoRoot, 'build', 'release', 'tests', 'support', 'cablecast_without_io_uring');

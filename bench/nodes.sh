#!/usr/bin/env bash
# Broadcast throughput and latency across two Cablecast nodes through Redis and through
# PostgreSQL (private brokers on loopback, started and stopped by scripts/with-services.sh).
# The measurements are the node tests' own (tests/integration/redis_throughput.test.mjs and
# the latency test of tests/integration/postgres_nodes.test.mjs): 10,000 broadcasts B -> A in
# order, then 200 single broadcasts B -> broker -> A, p50/p99. Figures: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CABLECAST_BIN=${CABLECAST_BIN:-$PWD/build/release/cablecast}
[[ -x "$CABLECAST_BIN" ]] || { echo "nodes.sh: build first (make build)" >&2; exit 1; }
bash scripts/with-services.sh node --test --test-reporter=tap \
  tests/integration/redis_throughput.test.mjs tests/integration/postgres_nodes.test.mjs \
  | grep -E '^ *# [0-9a-z].*(broadcasts B|latency over|p50)' | grep -v Subtest | sed 's/^ *# //' | sort -u

#!/usr/bin/env bash
# `make bench`: builds the release binaries, runs the micro-benchmarks, then bench/compare.sh
# (Cablecast vs the limit server and the Rails Action Cable reference, medians of 3 runs) with
# default sizes (~30 minutes on 2 cores).
# Benchmarks report, they never fail a build: a server missing a target still exits 0 here.
#
# Environment: every compare.sh knob (STEPS, SAMPLES, REPEATS, ...; see bench/compare.sh) and
# bench/rpc.sh knob (RPC_CLIENTS, BROADCAST_STEPS, ...) and bench/ext.sh knob (EXT_STEPS,
# RECOVER_CLIENTS, MEMORY_CLIENTS, ...), plus MICRO=0 to skip the micro-benchmarks, COMPARE=0
# the comparison, RPC=0 the RPC benchmarks, EXT=0 the extended protocol's, METRICS=0 the metrics
# on/off run (bench/metrics.sh: METRICS_STEPS, METRICS_SAMPLES, METRICS_REPEATS, BASELINE_BIN), NODES=0 the nodes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
OUT_DIR=${OUT_DIR:-$ROOT/bench/results}
MICRO=${MICRO:-1}
COMPARE=${COMPARE:-1}

# The plot needs gnuplot (Debian: gnuplot-nox); the rest comes with the build dependencies.
is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}
if ! command -v gnuplot >/dev/null 2>&1 && ! is_installed gnuplot-nox; then
  echo "bench: installing gnuplot-nox" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${sudo_cmd[@]}" apt-get update -q && \
         "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends gnuplot-nox; }; then
    echo "bench: could not install gnuplot-nox; the comparison runs without its plot" >&2
  fi
fi

if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
targets=(cablecast cablecast-limit)
if [[ "$MICRO" == 1 ]]; then targets+=(cablecast-micro); fi
cmake --build "$BUILD_DIR" --target "${targets[@]}"
mkdir -p "$OUT_DIR"
stamp=$(date +%Y%m%d-%H%M%S)

if [[ "$MICRO" == 1 ]]; then
  if [[ -x "$BUILD_DIR/cablecast-micro" ]]; then
    echo "== micro-benchmarks (pinned to core ${BENCH_CORE:-1})" >&2
    taskset -c "${BENCH_CORE:-1}" "$BUILD_DIR/cablecast-micro" --benchmark_min_time=0.3 \
      --benchmark_out="$OUT_DIR/$stamp-micro.json" --benchmark_out_format=json
  else
    echo "bench: cablecast-micro not built (libbenchmark-dev missing?)" >&2
  fi
fi

if [[ "$COMPARE" == 1 ]]; then
  echo "== load: system load before starting: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  BUILD_DIR="$BUILD_DIR" OUT_DIR="$OUT_DIR" SKIP_BUILD=1 bench/compare.sh
fi

if [[ "${RPC:-1}" == 1 ]]; then
  echo "== RPC: connect through an @anycable/serverless-js backend; broadcast with RPC configured" >&2
  BUILD_DIR="$BUILD_DIR" OUT_DIR="$OUT_DIR" SKIP_BUILD=1 bash bench/rpc.sh
fi

if [[ "${EXT:-1}" == 1 ]]; then
  echo "== extended protocol: history on vs off, recovery of 10,000 sessions, memory" >&2
  BUILD_DIR="$BUILD_DIR" OUT_DIR="$OUT_DIR" SKIP_BUILD=1 bash bench/ext.sh
fi

if [[ "${METRICS:-1}" == 1 ]]; then
  echo "== metrics: the broadcast benchmark with metrics on vs off" >&2
  BUILD_DIR="$BUILD_DIR" OUT_DIR="$OUT_DIR" SKIP_BUILD=1 bash bench/metrics.sh
fi

if [[ "${NODES:-1}" == 1 ]]; then
  echo "== several nodes: broadcasts through Redis and PostgreSQL" >&2
  CABLECAST_BIN="$BUILD_DIR/cablecast" bash bench/nodes.sh | tee "$OUT_DIR/$stamp-nodes.txt"
fi

#!/usr/bin/env bash
# RPC benchmarks (issue 9): Cablecast in front of an application over AnyCable's RPC over HTTP.
# The application is bench/rpc_backend.mjs (@anycable/serverless-js, Node).
#
# 1. Connect through RPC. Per repeat, alternating, each with a fresh backend:
#    - the backend alone: bench/rpc_backend_load.mjs POSTs one connect and one subscribe call per
#      client straight to it, RPC_CONCURRENCY (28, Cablecast's default) in flight: calls/s;
#    - through Cablecast: `cablecast serve --rpc-url <backend> --demo-channels false` and
#      `cablecast bench connect --clients RPC_CLIENTS`: the time until every client is welcomed
#      and confirmed, and the calls/s the backend answered meanwhile (its own count over its own
#      clock), so the ratio to the line above says how close Cablecast drives it to its limit.
#    The backend has BACKEND_CORE to itself; the server, the generator and the load script
#    share SERVER_CORE (the backend is the bottleneck; giving it the same core in both runs
#    keeps the ratio fair).
# 2. Broadcast with RPC configured vs not: `cablecast bench broadcast --steps BROADCAST_STEPS`
#    against `serve` (label "plain") and `serve --rpc-url <backend> --demo-channels true` (label
#    "rpc-configured": BenchmarkChannel and the ?user= identification stay in C++, so only the
#    configuration differs), alternating, server on SERVER_CORE, generator on BENCH_CORE, one
#    idle backend on BACKEND_CORE throughout. It must answer no call at all: the script checks.
#
# Results: bench/results/<stamp>-rpc.csv (every `cablecast bench` row), <stamp>-rpc-backend.csv
# (what the backend answered per run, alone and through Cablecast) and <stamp>-rpc.md (medians
# over REPEATS, ratios). About 3 minutes with the defaults on 2 cores.
#
# Knobs (environment): RPC_CLIENTS=10000  RPC_CONCURRENCY=28  BROADCAST_STEPS=1000,10000
#   SAMPLES=50  REPEATS=3  CONNECT=1 (part 1)  BROADCAST=1 (part 2)  SERVER_CORE=0  BENCH_CORE=1
#   BACKEND_CORE=1  BUILD_DIR=build/release  OUT_DIR=bench/results  SKIP_BUILD=0
set -euo pipefail

BENCH_NAME=rpc.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ROOT, STAMP, LOG_DIR...; say, die, need, stop...

RPC_CLIENTS=${RPC_CLIENTS:-10000}
RPC_CONCURRENCY=${RPC_CONCURRENCY:-28}
BROADCAST_STEPS=${BROADCAST_STEPS:-1000,10000}
SAMPLES=${SAMPLES:-50}
REPEATS=${REPEATS:-3}
CONNECT=${CONNECT:-1}
BROADCAST=${BROADCAST:-1}
BACKEND_CORE=${BACKEND_CORE:-1}
SKIP_BUILD=${SKIP_BUILD:-0}

CSV="$OUT_DIR/$STAMP-rpc.csv"
TABLE="$OUT_DIR/$STAMP-rpc.md"
BACKEND_CSV="$OUT_DIR/$STAMP-rpc-backend.csv"

bench_cleanup() { rm -rf "$LOG_DIR"; }
stop_on_exit SERVER_PID BACKEND_PID

prepare_load_run
need node "it runs the RPC backend and builds the summary table"
[[ -d "$ROOT/node_modules/@anycable/serverless-js" ]] || die "npm packages missing (npm ci)"
build_cablecast "$ROOT"

# start_backend: a fresh bench/rpc_backend.mjs on BACKEND_CORE; sets BACKEND_PID, BACKEND_URL
# and BACKEND_OUT (its stdout: the URL line, then the statistics line when stopped).
start_backend() {
  BACKEND_OUT="$LOG_DIR/backend-$RANDOM.out"
  taskset -c "$BACKEND_CORE" node "$ROOT/bench/rpc_backend.mjs" >"$BACKEND_OUT" \
    2>"$BACKEND_OUT.err" &
  BACKEND_PID=$!
  for _ in $(seq 1 300); do
    if [[ -s "$BACKEND_OUT" ]]; then
      BACKEND_URL=$(sed -n '1s/.*"url":"\([^"]*\)".*/\1/p' "$BACKEND_OUT")
      [[ -n "$BACKEND_URL" ]] && return
    fi
    kill -0 "$BACKEND_PID" 2>/dev/null || { cat "$BACKEND_OUT.err" >&2; die "backend exited"; }
    sleep 0.1
  done
  die "backend did not start within 30 s"
}

# stop_backend: stops it and prints its statistics line.
stop_backend() {
  stop "$BACKEND_PID"
  BACKEND_PID=""
  sed -n 2p "$BACKEND_OUT"
}

# One row per backend measurement: what it answered over which span.
echo "run,kind,calls,failed,seconds,calls_per_s,backend_cpu_s,calls_per_backend_cpu_s,load" \
  >"$BACKEND_CSV"

backend_alone() {
  local run=$1
  start_backend
  say "backend alone: $RPC_CLIENTS connects + $RPC_CLIENTS subscribes, $RPC_CONCURRENCY in flight (load $(load))"
  taskset -c "$SERVER_CORE" node "$ROOT/bench/rpc_backend_load.mjs" --url "$BACKEND_URL" \
    --clients "$RPC_CLIENTS" --concurrency "$RPC_CONCURRENCY" >&2
  backend_row "$run" alone "$(stop_backend)"
}

# backend_row RUN KIND STATS: the connect and command calls the backend answered, over the span
# from its first to its last answer (its own clock, the same for both kinds).
backend_row() {
  echo "backend: $3" >&2
  node -e '
    const s = JSON.parse(process.argv[1]);
    const calls = (s.calls.connect ?? 0) + (s.calls.command ?? 0);
    const seconds = (s.last_ms - s.first_ms) / 1000;
    const cpu = s.cpu_ms / 1000;
    console.log([process.argv[2], process.argv[3], calls, s.failed, seconds.toFixed(3),
                 Math.round(calls / seconds), cpu.toFixed(3), Math.round(calls / cpu),
                 process.argv[4]].join(","));
  ' "$3" "$1" "$2" "$(load | tr ' ' '/')" >>"$BACKEND_CSV"
}

through_cablecast() {
  local run=$1 port
  start_backend
  port=$(free_port)
  start_cablecast "$port" --rpc-url "$BACKEND_URL" --demo-channels false
  say "through Cablecast: connect $RPC_CLIENTS clients (load $(load))"
  local rc=0
  taskset -c "$SERVER_CORE" "$BIN" bench connect --url "ws://127.0.0.1:$port/cable?user=bench" \
    --threads 1 --clients "$RPC_CLIENTS" --connect-timeout 120 --settle 0 \
    --server-pid "$SERVER_PID" --label rpc-connect --csv "$CSV" || rc=$?
  [[ $rc -eq 0 ]] || echo "rpc.sh: bench connect exited with $rc" >&2
  # The backend's count first: the clients' disconnect calls follow the generator's exit.
  local stats
  stats=$(stop_backend)
  stop "$SERVER_PID"
  SERVER_PID=""
  backend_row "$run" via-cablecast "$stats"
}

broadcast_run() {
  local label=$1; shift
  local port
  port=$(free_port)
  start_cablecast "$port" "$@"
  say "broadcast, $label (load $(load))"
  local rc=0
  taskset -c "$BENCH_CORE" "$BIN" bench broadcast --url "ws://127.0.0.1:$port/cable" \
    --threads 1 --steps "$BROADCAST_STEPS" --clients "${BROADCAST_STEPS##*,}" \
    --samples "$SAMPLES" --server-pid "$SERVER_PID" --label "$label" --csv "$CSV" || rc=$?
  [[ $rc -eq 0 ]] || echo "rpc.sh: bench broadcast ($label) exited with $rc" >&2
  stop "$SERVER_PID"
  SERVER_PID=""
}

say "machine: $(nproc) cores, kernel $(uname -r), load: $(load), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ "$CONNECT" == 1 ]]; then
  for repeat in $(seq 1 "$REPEATS"); do
    say "repeat $repeat/$REPEATS: connect through RPC"
    backend_alone "$repeat"
    through_cablecast "$repeat"
  done
fi
if [[ "$BROADCAST" == 1 ]]; then
  # One backend, idle, for every run of both servers: a Node process that has just started
  # compiles and collects for a second or two on the generator's core, which a fresh backend
  # per run would charge to the rpc-configured runs only.
  start_backend
  sleep 3
  for repeat in $(seq 1 "$REPEATS"); do
    say "repeat $repeat/$REPEATS: broadcast, RPC configured vs not"
    broadcast_run plain
    broadcast_run rpc-configured --rpc-url "$BACKEND_URL" --demo-channels true
  done
  stats=$(stop_backend)
  echo "backend (must have answered nothing): $stats" >&2
  if [[ "$stats" != *'"calls":{}'* ]]; then
    echo "rpc.sh: the backend was called while every channel is native: $stats" >&2
  fi
fi

# The table: medians over repeats, ratios.
node --input-type=module - "$ROOT/bench/table.mjs" "$CSV" "$BACKEND_CSV" "$RPC_CONCURRENCY" >"$TABLE" <<'JS'
const [tableLib, csvPath, backendPath, concurrency] = process.argv.slice(2);
const {readCsv: read, median, formatNumber: f} = await import(tableLib);
const rows = read(csvPath);
const backend = read(backendPath);
const out = [];
if (backend.length) {
  const alone = backend.filter((r) => r.kind === 'alone');
  const via = backend.filter((r) => r.kind === 'via-cablecast');
  const connect = rows.filter((r) => r.mode === 'connect' && r.label === 'rpc-connect');
  const aloneRate = median(alone.map((r) => r.calls_per_s));
  const viaRate = median(via.map((r) => r.calls_per_s));
  const ratios = via.map((r, i) => (alone[i] ? Number(r.calls_per_s) / Number(alone[i].calls_per_s) : NaN));
  out.push(`Connect through RPC, medians of ${via.length} run(s) (per run: ${via.map((r, i) => `${f(Number(alone[i]?.calls_per_s))} alone / ${f(Number(r.calls_per_s))} via Cablecast`).join('; ')}).`, '');
  out.push('| Metric | Median |', '|---|---:|');
  out.push(`| backend alone: calls/s (${alone[0]?.calls ?? '-'} calls, ${concurrency} in flight) | ${f(aloneRate)} |`);
  out.push(`| through Cablecast: ${connect[0]?.clients ?? '-'} clients connected + confirmed (s) | ${f(median(connect.map((r) => r.connect_s)), 2)} |`);
  out.push(`| through Cablecast: clients/s | ${f(median(connect.map((r) => r.connect_rate)))} |`);
  out.push(`| through Cablecast: calls/s answered by the backend | ${f(viaRate)} |`);
  out.push(`| ratio through Cablecast / backend alone (per run, median) | ${f(median(ratios), 2)} |`);
  out.push(`| backend calls per its own CPU-second: alone / through Cablecast | ${f(median(alone.map((r) => r.calls_per_backend_cpu_s)))} / ${f(median(via.map((r) => r.calls_per_backend_cpu_s)))} |`);
  out.push(`| connect failures / dropped (all runs) | ${connect.reduce((s, r) => s + Number(r.failures), 0)} / ${connect.reduce((s, r) => s + Number(r.dropped), 0)} |`);
  out.push(`| server CPU for the whole connect (s) | ${f(median(connect.map((r) => r.server_cpu_s)), 2)} |`);
  out.push('');
}
const bc = rows.filter((r) => r.mode === 'broadcast');
if (bc.length) {
  const steps = [...new Set(bc.map((r) => Number(r.clients)))].sort((a, b) => a - b);
  const stat = (label, n, col) => median(bc.filter((r) => r.label === label && Number(r.clients) === n).map((r) => r[col]));
  const runs = bc.filter((r) => r.label === 'plain' && Number(r.clients) === steps[0]).length;
  out.push(`Broadcast, RPC configured vs not, medians of ${runs} run(s), alternating.`, '');
  out.push('| Metric | plain | rpc-configured | rpc-configured / plain |', '|---|---:|---:|---:|');
  for (const n of steps) {
    for (const [name, col, d] of [['RTT p50 (ms)', 'p50_ms', 1], ['RTT p99 (ms)', 'p99_ms', 1],
                                  ['deliveries per server CPU-second', 'deliveries_per_server_cpu_s', 0],
                                  ['server RSS idle (MiB)', 'rss_kib', 1]]) {
      let a = stat('plain', n, col);
      let b = stat('rpc-configured', n, col);
      if (col === 'rss_kib') { a /= 1024; b /= 1024; }
      out.push(`| ${name} @ ${f(n)} clients | ${f(a, d)} | ${f(b, d)} | ${f(b / a, 2)} |`);
    }
  }
  const sum = (label, col) => bc.filter((r) => r.label === label).reduce((s, r) => s + Number(r[col]), 0);
  out.push('', `Delivery checks: plain missing ${sum('plain', 'missing')}, duplicates ${sum('plain', 'duplicates')}, ` +
    `out of order ${sum('plain', 'reordered')}; rpc-configured missing ${sum('rpc-configured', 'missing')}, ` +
    `duplicates ${sum('rpc-configured', 'duplicates')}, out of order ${sum('rpc-configured', 'reordered')}.`);
}
console.log(out.join('\n'));
JS
cat "$TABLE"
say "load at the end: $(load)"
echo "csv: $CSV, $BACKEND_CSV" >&2
echo "table: $TABLE" >&2

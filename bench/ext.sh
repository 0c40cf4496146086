#!/usr/bin/env bash
# Extended protocol benchmarks (issue 10): what stream history, positions and resumable sessions
# cost, and how fast 10,000 clients recover. Server on SERVER_CORE, load generator (`cablecast
# bench`, one loop) on BENCH_CORE, a fresh server per run.
#
# 1. History on vs off (HISTORY=0 skips): `bench broadcast --steps EXT_STEPS` against
#    `serve --history-limit 100` (the default) and `--history-limit 0`, with ext clients
#    (--ext-protocol: positions on every frame) and plain ones; per repeat the four runs back to
#    back, on/off order swapped every other repeat so drift hits both alike.
# 2. Recovery (RECOVER=0 skips): a private redis-server (scripts/services.sh) pinned to
#    REDIS_CORE, `serve --pubsub redis --broadcast-key …` (history and sessions in Redis), then
#    `bench recover --clients RECOVER_CLIENTS --rate RECOVER_RATE --outage RECOVER_OUTAGE`: the
#    generator cuts every connection at once (RST) while HTTP broadcasts go on, reconnects them
#    with their sid and asks for the history; time until all recovered, lost and duplicated per
#    client. Redis INFO memory (used_memory) and key count: after FLUSHALL with the server up
#    (idle), with every client recovered and connected, and after they closed (sessions cached).
# 3. Memory (MEMORY=0 skips): `bench connect --clients MEMORY_CLIENTS`, ext vs plain clients,
#    server RSS growth per idle subscribed connection (as compare.sh's connect step).
#
# Results: bench/results/<stamp>-ext.csv (every `cablecast bench` row), <stamp>-ext-redis.csv
# (Redis memory per recovery run), <stamp>-ext-recover.txt (the recovery runs' reports) and
# <stamp>-ext.md (medians over REPEATS, ratios). About 4 minutes with the defaults on 2 cores (3.7 at load 3, 4.7 at load 6-10).
#
# Knobs (environment): EXT_STEPS=1000,10000  SAMPLES=50  REPEATS=3  HISTORY=1  RECOVER=1
#   MEMORY=1  RECOVER_CLIENTS=10000  RECOVER_RATE=5 (broadcasts/s)  RECOVER_OUTAGE=1 (s)
#   MEMORY_CLIENTS=19000  SERVER_CORE=0  BENCH_CORE=1  REDIS_CORE=SERVER_CORE
#   BUILD_DIR=build/release  OUT_DIR=bench/results  SKIP_BUILD=0
set -euo pipefail

# services.sh first: lib.sh's free_port (below the ephemeral range) replaces its own.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/services.sh"  # services_start_redis, ..._stop_
BENCH_NAME=ext.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ROOT, STAMP, LOG_DIR...; say, die, need, stop...

EXT_STEPS=${EXT_STEPS:-1000,10000}
SAMPLES=${SAMPLES:-50}
REPEATS=${REPEATS:-3}
HISTORY=${HISTORY:-1}
RECOVER=${RECOVER:-1}
MEMORY=${MEMORY:-1}
RECOVER_CLIENTS=${RECOVER_CLIENTS:-10000}
RECOVER_RATE=${RECOVER_RATE:-5}
RECOVER_OUTAGE=${RECOVER_OUTAGE:-1}
MEMORY_CLIENTS=${MEMORY_CLIENTS:-19000}
REDIS_CORE=${REDIS_CORE:-$SERVER_CORE}

CSV="$OUT_DIR/$STAMP-ext.csv"
REDIS_CSV="$OUT_DIR/$STAMP-ext-redis.csv"
RECOVER_LOG="$OUT_DIR/$STAMP-ext-recover.txt"
TABLE="$OUT_DIR/$STAMP-ext.md"
chmod 755 "$LOG_DIR"

bench_cleanup() {
  services_stop_redis "$LOG_DIR" || true
  rm -rf "$LOG_DIR"
}
stop_on_exit GENERATOR_PID SERVER_PID

prepare_load_run
need node "it builds the summary table"
if [[ "$RECOVER" == 1 ]]; then need redis-server "apt-get install redis-server"; fi
build_cablecast "$ROOT"

# bench_run LABEL MODE SERVER_ARGS -- BENCH_ARGS: a fresh server, one generator run, stopped.
bench_run() {
  local label=$1 mode=$2; shift 2
  local server_args=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do server_args+=("$1"); shift; done
  shift
  local port rc=0
  port=$(free_port)
  start_cablecast "$port" "${server_args[@]}"
  say "$label: $mode $* (load $(load))"
  taskset -c "$BENCH_CORE" "$BIN" bench "$mode" --url "ws://127.0.0.1:$port/cable" --threads 1 \
    --server-pid "$SERVER_PID" --label "$label" --csv "$CSV" "$@" || rc=$?
  # 2 = lost or duplicated deliveries: reported in the table, the run goes on.
  [[ $rc -eq 0 ]] || echo "ext.sh: $label $mode exited with $rc" >&2
  stop "$SERVER_PID"
  SERVER_PID=""
}

history_runs() {
  local repeat=$1 order=(on off)
  if (( repeat % 2 == 0 )); then order=(off on); fi
  for proto in ext plain; do
    local flag=()
    [[ $proto == ext ]] && flag=(--ext-protocol)
    for history in "${order[@]}"; do
      local limit=100
      [[ $history == off ]] && limit=0
      bench_run "$proto-history-$history" broadcast --history-limit "$limit" -- \
        --steps "$EXT_STEPS" --clients "${EXT_STEPS##*,}" --samples "$SAMPLES" "${flag[@]}"
    done
  done
}

redis() { redis-cli -p "$REDIS_PORT" "$@"; }
redis_used_memory() { redis INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
# Waits until used_memory stops moving (the server writes sessions as connections close).
redis_settled_memory() {
  local last now
  last=$(redis_used_memory)
  for _ in $(seq 1 50); do
    sleep 0.3
    now=$(redis_used_memory)
    [[ "$now" == "$last" ]] && break
    last=$now
  done
  echo "$last"
}

recover_run() {
  local run=$1 port key=bench-broadcast-key
  redis FLUSHALL >/dev/null
  port=$(free_port)
  start_cablecast "$port" --pubsub redis --redis-url "redis://127.0.0.1:$REDIS_PORT/0" \
    --broadcast-key "$key"
  local idle_mem idle_keys
  idle_mem=$(redis_settled_memory)
  idle_keys=$(redis DBSIZE)
  say "recovery $run/$REPEATS: $RECOVER_CLIENTS ext clients, broadcasts at $RECOVER_RATE/s, outage $RECOVER_OUTAGE s (load $(load))"
  local out="$LOG_DIR/recover-$run.out"
  taskset -c "$BENCH_CORE" "$BIN" bench recover --url "ws://127.0.0.1:$port/cable" --threads 1 \
    --server-pid "$SERVER_PID" --label "recover" --csv "$CSV" --clients "$RECOVER_CLIENTS" \
    --broadcast-key "$key" --rate "$RECOVER_RATE" --outage "$RECOVER_OUTAGE" --hold 60 \
    >"$out" 2>&1 &
  GENERATOR_PID=$!
  # Sample Redis while every client is back and connected ("holding"), then end the hold.
  local connected_mem="" connected_keys="" history_bytes=""
  while kill -0 "$GENERATOR_PID" 2>/dev/null; do
    if grep -q '^holding ' "$out"; then
      connected_mem=$(redis_used_memory)
      connected_keys=$(redis DBSIZE)
      history_bytes=$(redis MEMORY USAGE "cablecast:history:log:allbench")
      kill -TERM "$GENERATOR_PID"
      break
    fi
    sleep 0.1
  done
  local rc=0
  wait "$GENERATOR_PID" || rc=$?
  GENERATOR_PID=""
  [[ $rc -eq 0 ]] || echo "ext.sh: recover exited with $rc" >&2
  local after_mem after_keys
  after_mem=$(redis_settled_memory)
  after_keys=$(redis DBSIZE)
  { echo "== run $run ($(date -u '+%F %T') UTC, load $(load))"; cat "$out"; } | tee -a "$RECOVER_LOG"
  echo "$run,$idle_mem,$idle_keys,$connected_mem,$connected_keys,$history_bytes,$after_mem,$after_keys" \
    >>"$REDIS_CSV"
  stop "$SERVER_PID"
  SERVER_PID=""
}

memory_runs() {
  local repeat=$1 order=(ext plain)
  if (( repeat % 2 == 0 )); then order=(plain ext); fi
  for proto in "${order[@]}"; do
    local flag=()
    [[ $proto == ext ]] && flag=(--ext-protocol)
    bench_run "memory-$proto" connect -- --clients "$MEMORY_CLIENTS" "${flag[@]}"
  done
}

say "machine: $(nproc) cores, kernel $(uname -r), load: $(load), commit $COMMIT"
if [[ "$HISTORY" == 1 ]]; then
  for repeat in $(seq 1 "$REPEATS"); do
    say "repeat $repeat/$REPEATS: broadcast, history on vs off, ext and plain clients"
    history_runs "$repeat"
  done
fi
if [[ "$RECOVER" == 1 ]]; then
  REDIS_PORT=$(free_port)
  services_start_redis "$LOG_DIR"
  taskset -apc "$REDIS_CORE" "$(cat "$LOG_DIR/redis.pid")" >/dev/null
  say "redis-server $(redis INFO server | sed -n 's/^redis_version:\(.*\)\r$/\1/p') on port $REDIS_PORT, core $REDIS_CORE"
  echo "run,idle_used_memory,idle_keys,connected_used_memory,connected_keys,history_stream_bytes,after_used_memory,after_keys" \
    >"$REDIS_CSV"
  for repeat in $(seq 1 "$REPEATS"); do recover_run "$repeat"; done
  services_stop_redis "$LOG_DIR"
fi
if [[ "$MEMORY" == 1 ]]; then
  for repeat in $(seq 1 "$REPEATS"); do
    say "repeat $repeat/$REPEATS: memory, $MEMORY_CLIENTS idle subscribed connections"
    memory_runs "$repeat"
  done
fi

# The table: medians over repeats, ratios.
node --input-type=module - "$ROOT/bench/table.mjs" "$CSV" "$REDIS_CSV" "$RECOVER_RATE" "$RECOVER_OUTAGE" >"$TABLE" <<'JS'
const [tableLib, csvPath, redisPath, rate, outage] = process.argv.slice(2);
const {readCsv: read, median, formatNumber: f} = await import(tableLib);
const sum = (rows, col) => rows.reduce((s, r) => s + Number(r[col]), 0);
const rows = read(csvPath);
const out = [];

const bc = rows.filter((r) => r.mode === 'broadcast');
if (bc.length) {
  const steps = [...new Set(bc.map((r) => Number(r.clients)))].sort((a, b) => a - b);
  const runsOf = (label, n) => bc.filter((r) => r.label === label && Number(r.clients) === n);
  const stat = (label, n, col) => median(runsOf(label, n).map((r) => r[col]));
  const runs = runsOf('ext-history-on', steps[0]).length;
  out.push(`Broadcast RTT (time until every client has the message), history on (--history-limit 100) vs off (0), medians of ${runs} run(s); on/off = ratio of the medians (per run in brackets).`, '');
  out.push('| Clients | p50 on / off (ms) | p50 on/off | p99 on / off (ms) | p99 on/off | deliveries per server CPU-s on / off |', '|---|---:|---:|---:|---:|---:|');
  for (const proto of ['ext', 'plain']) {
    for (const n of steps) {
      const on = `${proto}-history-on`, off = `${proto}-history-off`;
      const perRun = (col) => runsOf(on, n).map((r, i) => Number(r[col]) / Number(runsOf(off, n)[i]?.[col])).map((x) => f(x, 2)).join(', ');
      const ratio = (col) => stat(on, n, col) / stat(off, n, col);
      out.push(`| ${f(n)} ${proto} | ${f(stat(on, n, 'p50_ms'), 1)} / ${f(stat(off, n, 'p50_ms'), 1)} | **${f(ratio('p50_ms'), 2)}** (${perRun('p50_ms')}) | ` +
               `${f(stat(on, n, 'p99_ms'), 1)} / ${f(stat(off, n, 'p99_ms'), 1)} | ${f(ratio('p99_ms'), 2)} (${perRun('p99_ms')}) | ` +
               `${f(stat(on, n, 'deliveries_per_server_cpu_s'))} / ${f(stat(off, n, 'deliveries_per_server_cpu_s'))} |`);
    }
  }
  for (const n of steps) {
    const r = stat('ext-history-on', n, 'p50_ms') / stat('plain-history-off', n, 'p50_ms');
    out.push('', `Ext clients with history vs plain clients without it @ ${f(n)}: p50 ratio ${f(r, 2)}.`);
  }
  out.push('', `Delivery checks (all broadcast runs): missing ${sum(bc, 'missing')}, duplicates ${sum(bc, 'duplicates')}, out of order ${sum(bc, 'reordered')}, timeouts ${sum(bc, 'timeouts')}.`, '');
}

const rec = rows.filter((r) => r.mode === 'recover');
if (rec.length) {
  const redis = read(redisPath);
  const n = Number(rec[0].clients);
  const per = (col, d, scale = 1) => rec.map((r) => f(Number(r[col]) * scale, d)).join(' / ');
  out.push(`Recovery: ${f(n)} ext clients cut off together (RST), back after ${outage} s, HTTP broadcasts at ${rate}/s throughout, --pubsub redis; medians of ${rec.length} run(s).`, '');
  out.push('| Metric | Median | Per run |', '|---|---:|---|');
  out.push(`| every client restored + history confirmed, after reconnecting (s) | **${f(median(rec.map((r) => r.connect_s)), 2)}** | ${per('connect_s', 2)} |`);
  out.push(`| per client: p50 / p99 (s) | ${f(median(rec.map((r) => r.p50_ms)) / 1000, 2)} / ${f(median(rec.map((r) => r.p99_ms)) / 1000, 2)} | |`);
  out.push(`| server CPU while recovering (s) | ${f(median(rec.map((r) => r.server_cpu_s)), 2)} | ${per('server_cpu_s', 2)} |`);
  out.push(`| clients not back / history rejected | ${sum(rec, 'failures')} / ${sum(rec, 'timeouts')} (all runs) | |`);
  out.push(`| messages lost (sum over clients, all runs) | **${sum(rec, 'missing')}** | ${per('missing', 0)} |`);
  out.push(`| duplicates / out of order (all runs) | **${sum(rec, 'duplicates')}** / ${sum(rec, 'reordered')} | |`);
  out.push(`| server RSS per idle ext connection, --pubsub redis (B) | ${f(median(rec.map((r) => r.rss_per_conn_bytes)))} | ${per('rss_per_conn_bytes', 0)} |`);
  if (redis.length) {
    const mib = (col) => median(redis.map((r) => r[col])) / 1048576;
    const perKiB = (col) => redis.map((r) => f(Number(r[col]) / 1024)).join(' / ');
    out.push(`| Redis used_memory idle, server up (MiB) | ${f(mib('idle_used_memory'), 2)} | ${perKiB('idle_used_memory')} KiB |`);
    out.push(`| Redis used_memory, ${f(n)} recovered clients connected (MiB) | ${f(mib('connected_used_memory'), 2)} | ${perKiB('connected_used_memory')} KiB |`);
    out.push(`| Redis used_memory after they closed (sessions kept for --sessions-ttl) (MiB) | ${f(mib('after_used_memory'), 2)} | ${perKiB('after_used_memory')} KiB |`);
    out.push(`| Redis bytes per session ((after - idle) / clients) | ${f(median(redis.map((r) => (r.after_used_memory - r.idle_used_memory) / n)))} | |`);
    out.push(`| the stream's history (MEMORY USAGE, bytes) | ${f(median(redis.map((r) => r.history_stream_bytes)))} | |`);
    out.push(`| Redis keys idle / connected / after | ${redis[0].idle_keys} / ${redis[0].connected_keys} / ${redis[0].after_keys} | |`);
  }
  out.push('');
}

const mem = rows.filter((r) => r.mode === 'connect' && r.label.startsWith('memory-'));
if (mem.length) {
  const n = Number(mem[0].clients);
  const of = (label, col) => median(mem.filter((r) => r.label === label).map((r) => r[col]));
  const per = (label) => mem.filter((r) => r.label === label).map((r) => f(Number(r.rss_per_conn_bytes))).join(' / ');
  out.push(`Memory: ${f(n)} idle subscribed connections, fresh server each, --pubsub memory; medians of ${mem.filter((r) => r.label === 'memory-ext').length} run(s).`, '');
  out.push('| Clients | RSS idle (MiB) | RSS growth per connection (B) | per run (B) | connect (s) | failures |', '|---|---:|---:|---|---:|---:|');
  for (const label of ['memory-ext', 'memory-plain']) {
    out.push(`| ${label.slice(7)} | ${f(of(label, 'rss_kib') / 1024, 1)} | **${f(of(label, 'rss_per_conn_bytes'))}** (${f(of(label, 'rss_per_conn_bytes') / 1024, 2)} KiB) | ${per(label)} | ${f(of(label, 'connect_s'), 2)} | ${sum(mem.filter((r) => r.label === label), 'failures')} |`);
  }
  out.push('', `ext - plain: ${f(of('memory-ext', 'rss_per_conn_bytes') - of('memory-plain', 'rss_per_conn_bytes'))} B per connection.`);
}
console.log(out.join('\n'));
JS
cat "$TABLE"
say "load at the end: $(load)"
echo "csv: $CSV, $REDIS_CSV; recovery reports: $RECOVER_LOG" >&2
echo "table: $TABLE" >&2

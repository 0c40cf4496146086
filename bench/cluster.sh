#!/usr/bin/env bash
# Target T1's stretch: CLIENTS subscribed clients (default 100,000) on NODES `cablecast serve`
# processes that share one port with SO_REUSEPORT (--reuse-port; the kernel spreads the
# connections) and are joined by a private Redis on loopback (--pubsub redis). One process can
# hold at most ~19,900 clients here (20,000 open files per process, a hard limit).
#
# Load: several `cablecast bench connect --hold` processes ("holders", up to PER_HOLDER clients
# each, for the same reason) plus one `cablecast bench broadcast` process with MEASURED clients
# that sends SAMPLES broadcasts one at a time and measures their RTT to its own clients. Every
# client of every process is subscribed to the same stream, so each broadcast goes to all
# CLIENTS through Redis; the holders count what they receive and the script checks it is
# exactly clients x broadcasts (none missing, none duplicated).
#
# Prints: connect time for all clients, connections per node, the nodes' summed RSS idle
# before and after (growth per connection), the RTT line of the measured process, and the
# delivery check. Exit status 0 only with 0 failures, 0 dropped and exact delivery counts.
#
# Knobs (environment): CLIENTS=100000 NODES=6 MEASURED=10000 PER_HOLDER=18000 SAMPLES=20
#   SOURCE_IPS=8 (127.0.0.1..N, ~28k ports each) CONNECT_TIMEOUT=180 BUILD_DIR=build/release
#   KEEP_LOGS=1 (keep every process's log; also kept when the run fails)
# Needs redis-server (scripts/install-deps.sh installs it). Command and figures:
# docs/benchmarks.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
CLIENTS=${CLIENTS:-100000}
NODES=${NODES:-6}
MEASURED=${MEASURED:-10000}
PER_HOLDER=${PER_HOLDER:-18000}
SAMPLES=${SAMPLES:-20}
SOURCE_IPS=${SOURCE_IPS:-8}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-180}
SERVER=$BUILD_DIR/cablecast
BENCH=("$SERVER" bench)
[[ -x "$SERVER" ]] || { echo "cluster.sh: $SERVER missing (make build)" >&2; exit 1; }
(( MEASURED < CLIENTS && MEASURED <= PER_HOLDER )) || { echo "cluster.sh: need MEASURED < CLIENTS and <= PER_HOLDER" >&2; exit 1; }

source "$ROOT/scripts/services.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cablecast-cluster.XXXXXX")
chmod 755 "$WORK"
NODE_PIDS=()
HOLDER_PIDS=()
cleanup() {
  for pid in "${HOLDER_PIDS[@]}" "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${HOLDER_PIDS[@]}" "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  services_stop_redis "$WORK" || true
  if [[ "${KEEP_LOGS:-0}" == 1 ]]; then echo "cluster.sh: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
nodes_rss_kib() {
  local sum=0
  for pid in "${NODE_PIDS[@]}"; do sum=$((sum + $(rss_kib "$pid"))); done
  echo "$sum"
}
now() { date +%s.%N; }
# wait_for_line FILE PATTERN PID: until FILE has a line matching PATTERN; fails (printing FILE)
# if process PID ends first.
wait_for_line() {
  until grep -q "$2" "$1"; do
    kill -0 "$3" 2>/dev/null || { cat "$1"; return 1; }
    sleep 0.1
  done
}

services_start_redis "$WORK"
PORT=$(free_port)
echo "cluster: $NODES nodes on 127.0.0.1:$PORT (SO_REUSEPORT), Redis on port $REDIS_PORT, $CLIENTS clients"
for i in $(seq 1 "$NODES"); do
  "$SERVER" serve --host 127.0.0.1 --port "$PORT" --reuse-port --threads 1 --log-level info \
    --pubsub redis --redis-url "redis://127.0.0.1:$REDIS_PORT/0" >"$WORK/node$i.log" 2>&1 &
  NODE_PIDS+=($!)
done
for i in $(seq 1 "$NODES"); do
  wait_for_line "$WORK/node$i.log" 'listening on' "${NODE_PIDS[$((i - 1))]}"
done
sleep 0.5
rss_before=$(nodes_rss_kib)

holders=$(( (CLIENTS - MEASURED + PER_HOLDER - 1) / PER_HOLDER ))
left=$((CLIENTS - MEASURED))
declare -a HOLDER_CLIENTS
t0=$(now)
for h in $(seq 1 "$holders"); do
  n=$(( left < PER_HOLDER ? left : PER_HOLDER ))
  left=$((left - n))
  HOLDER_CLIENTS+=("$n")
  "${BENCH[@]}" connect --url "ws://127.0.0.1:$PORT/cable" --clients "$n" --hold 3600 \
    --source-ips "$SOURCE_IPS" --connect-timeout "$CONNECT_TIMEOUT" --settle 0 \
    --label "holder$h" >"$WORK/holder$h.log" 2>&1 &
  HOLDER_PIDS+=($!)
done
for h in $(seq 1 "$holders"); do
  wait_for_line "$WORK/holder$h.log" '^holding' "${HOLDER_PIDS[$((h - 1))]}"
done
t1=$(now)
echo "cluster: $((CLIENTS - MEASURED)) holder clients connected and subscribed in $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s ($holders processes at once)"

# The measured process connects its clients (timed by itself) and broadcasts.
"${BENCH[@]}" broadcast --url "ws://127.0.0.1:$PORT/cable" --steps "$MEASURED" --samples "$SAMPLES" \
  --source-ips "$SOURCE_IPS" --connect-timeout "$CONNECT_TIMEOUT" --settle 0.5 \
  --label cluster >"$WORK/broadcast.log" 2>&1 || true
t2=$(now)
rss_after=$(nodes_rss_kib)
echo "cluster: all $CLIENTS clients connected in $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s + the measured process's connect below"
sed -n 's/^/  measured process: /p' "$WORK/broadcast.log" | grep -E 'connect:|latency|delivery|throughput' || true
sent=$(grep -oE 'latency over [0-9]+ samples' "$WORK/broadcast.log" | grep -oE '[0-9]+' || echo 0)
timeouts=$(grep -oE 'timeouts [0-9]+' "$WORK/broadcast.log" | grep -oE '[0-9]+' || echo 0)
sent=$((sent + timeouts))

echo "cluster: descriptors per node (connections + a few):"
for i in "${!NODE_PIDS[@]}"; do
  echo "  node$((i + 1)) pid ${NODE_PIDS[$i]}: $(ls "/proc/${NODE_PIDS[$i]}/fd" | wc -l) fds, RSS $(( $(rss_kib "${NODE_PIDS[$i]}") / 1024 )) MiB"
done
echo "cluster: nodes' RSS $((rss_before / 1024)) MiB idle -> $((rss_after / 1024)) MiB with $CLIENTS clients = $(( (rss_after - rss_before) * 1024 / CLIENTS )) B per connection"

# Let the last broadcast reach every holder, then stop them (SIGTERM ends the hold; they print
# their report).
sleep 3
for pid in "${HOLDER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
ok=1
for h in $(seq 1 "$holders"); do
  wait "${HOLDER_PIDS[$((h - 1))]}" || ok=0
  got=$(grep -oE '[0-9]+ messages received while holding' "$WORK/holder$h.log" | grep -oE '^[0-9]+' || echo -1)
  line=$(grep -E 'failures' "$WORK/holder$h.log" | head -1 | sed 's/^ *//')
  expected=$(( HOLDER_CLIENTS[h - 1] * sent ))
  verdict=ok
  [[ "$got" -eq "$expected" ]] || { verdict="MISMATCH"; ok=0; }
  grep -qE 'failures 0, dropped 0' "$WORK/holder$h.log" || { verdict="$verdict, FAILURES"; ok=0; }
  echo "  holder$h: ${HOLDER_CLIENTS[$((h - 1))]} clients, $line; received $got of $expected ($verdict)"
done
HOLDER_PIDS=()
grep -qE 'missing 0, duplicates 0, out of order 0' "$WORK/broadcast.log" || ok=0
grep -qE 'failures 0, dropped 0' "$WORK/broadcast.log" || ok=0
[[ "$timeouts" -eq 0 ]] || ok=0
if (( ok )); then
  echo "cluster: PASSED: $CLIENTS clients on $NODES processes, $sent broadcasts each delivered to all of them exactly once"
else
  echo "cluster: FAILED"
  KEEP_LOGS=1
  exit 1
fi

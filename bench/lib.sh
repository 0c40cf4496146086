# Shell helpers the benchmark scripts share (sourced, not run): bench/compare.sh, bench/rpc.sh,
# bench/ext.sh, bench/metrics.sh. Set BENCH_NAME (for messages and the log folder's name) before
# sourcing.
#
# Sourcing also sets what every one of them starts from: ROOT (this checkout); BUILD_DIR, OUT_DIR,
# SERVER_CORE and BENCH_CORE from the environment, else build/release, bench/results, 0 and 1;
# STAMP, this run's prefix for its files in OUT_DIR (which then exists); COMMIT, the one measured;
# LOG_DIR, a fresh folder for the servers' and generators' logs. The helpers that start servers
# read BUILD_DIR, SERVER_CORE and LOG_DIR, and record what they started in SERVER_PID.

BENCH_NAME=${BENCH_NAME:-bench}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
OUT_DIR=${OUT_DIR:-$ROOT/bench/results}
SERVER_CORE=${SERVER_CORE:-0}
BENCH_CORE=${BENCH_CORE:-1}
STAMP=$(date +%Y%m%d-%H%M%S)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cablecast-${BENCH_NAME%.sh}.XXXXXX")
mkdir -p "$OUT_DIR"

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# need COMMAND WHY: dies with "COMMAND missing (WHY)" unless COMMAND is on PATH.
need() { command -v "$1" >/dev/null || die "$1 missing ($2)"; }

# prepare_load_run: what a run of thousands of clients pinned to cores needs: one descriptor per
# client, in the server and in the generator (the hard limit here: 20,000), and taskset.
prepare_load_run() {
  ulimit -n "$(ulimit -Hn)"
  need taskset "Debian package util-linux"
}

# stop_on_exit VAR...: empties the VARs, meant to hold the PIDs of the processes the script
# starts; when the script ends (normally, by die, or on Ctrl-C or TERM, then with status 130),
# stops those processes in that order (see stop), then runs the script's function bench_cleanup
# if it defines one. stop_started does the stopping at any time and empties the VARs.
stop_on_exit() {
  STARTED_PID_VARS=("$@")
  local var
  for var in "$@"; do printf -v "$var" '%s' ''; done
  trap 'stop_started; if declare -F bench_cleanup >/dev/null; then bench_cleanup; fi' EXIT
  trap 'stop_started; exit 130' INT TERM
}
stop_started() {
  local var
  for var in "${STARTED_PID_VARS[@]}"; do
    stop "${!var:-}"
    printf -v "$var" '%s' ''
  done
}

# A port below the ephemeral range (32768+), so it never collides with the clients' ports.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 10000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  die "no free port found"
}

# stop PID: SIGTERM, then SIGKILL after 10 s; waits for it. Nothing when PID is empty or gone.
stop() {
  local pid=$1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# wait_listening NAME PID PORT LOG: until PORT accepts TCP (30 s at most); dies with the log if
# the process exits first.
wait_listening() {
  local name=$1 pid=$2 port=$3 log=$4
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name exited at start"; }
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
    sleep 0.1
  done
  die "$name did not listen on $port within 30 s"
}

# start_cablecast PORT ARGS...: `cablecast serve` on SERVER_CORE, one event loop, warnings only,
# plus ARGS; sets SERVER_PID and waits until it accepts TCP.
start_cablecast() {
  local port=$1; shift
  local log="$LOG_DIR/server-$port.log"
  taskset -c "$SERVER_CORE" "$BUILD_DIR/cablecast" serve --host 127.0.0.1 --port "$port" \
    --threads 1 --log-level warn "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  wait_listening cablecast "$SERVER_PID" "$port" "$log"
}

# build_cablecast ROOT [TARGET...]: configures and builds the `cablecast` target (and the other
# TARGETs, e.g. cablecast-limit) unless SKIP_BUILD=1; sets BIN, the `cablecast` binary.
build_cablecast() {
  local root=$1
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
      cmake -S "$root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    fi
    cmake --build "$BUILD_DIR" --target cablecast "${@:2}" >&2
  fi
  BIN="$BUILD_DIR/cablecast"
  [[ -x "$BIN" ]] || die "$BIN missing"
}

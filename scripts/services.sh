# Functions to start and stop the private brokers used by tests (sourced, not run).
# services_start_redis DIR / services_stop_redis DIR: redis-server on a free loopback port.
# services_start_postgres DIR / services_stop_postgres DIR: a PostgreSQL 15 cluster in DIR/pg,
# owned by the `postgres` user (initdb refuses root), trust auth on loopback only.
# Also usable from tests to restart a broker: bash -c 'source scripts/services.sh; ...'.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [[ -n "$dir" ]] || { echo "services: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; return 1; }
  echo "$dir"
}

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

services_start_redis() {
  local dir=$1
  REDIS_PORT=${REDIS_PORT:-$(free_port)}
  echo "$REDIS_PORT" >"$dir/redis.port"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
  for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "services: redis-server did not start (see $dir/redis.log)" >&2
  return 1
}

services_stop_redis() {
  local dir=$1 port
  [[ -f "$dir/redis.port" ]] || return 0
  port=$(cat "$dir/redis.port")
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do
    [[ -f "$dir/redis.pid" ]] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -9 "$(cat "$dir/redis.pid")" 2>/dev/null || true
}

services_start_postgres() {
  local dir=$1 bin
  bin=$(pg_bin)
  POSTGRES_PORT=${POSTGRES_PORT:-$(free_port)}
  echo "$POSTGRES_PORT" >"$dir/postgres.port"
  if [[ ! -d "$dir/pg" ]]; then
    mkdir -p "$dir/pg"
    chown postgres:postgres "$dir/pg" 2>/dev/null || true
    as_postgres "$bin/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { echo "services: initdb failed (see $dir/initdb.log)" >&2; return 1; }
  fi
  touch "$dir/postgres.log" && chown postgres:postgres "$dir/postgres.log" 2>/dev/null || true
  as_postgres "$bin/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $POSTGRES_PORT -k $dir/pg -c fsync=off" start >/dev/null \
    || { echo "services: PostgreSQL did not start (see $dir/postgres.log)" >&2; return 1; }
}

services_stop_postgres() {
  local dir=$1 bin
  [[ -d "$dir/pg" ]] || return 0
  bin=$(pg_bin) || return 0
  as_postgres "$bin/pg_ctl" -D "$dir/pg" -m fast -w -t 20 stop >/dev/null 2>&1 || true
}

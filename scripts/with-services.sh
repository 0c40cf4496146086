#!/usr/bin/env bash
# Runs a command with the brokers the tests need running on loopback, and always stops them:
#   scripts/with-services.sh ctest --preset release
# Starts a private redis-server and a private PostgreSQL cluster (in a temporary directory, on
# free ports), exports their URLs for the tests, runs the command, then stops both whatever
# happened. The command's exit code is returned.
#   CABLECAST_TEST_REDIS_URL     redis://127.0.0.1:<port>/0
#   CABLECAST_TEST_POSTGRES_URL  postgres://postgres@127.0.0.1:<port>/postgres
#   CABLECAST_TEST_REDIS_PORT, CABLECAST_TEST_POSTGRES_PORT, CABLECAST_TEST_POSTGRES_DATA
# (Tests that restart a broker use the *_PORT / *_DATA values with scripts/services.sh.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/services.sh

workdir=$(mktemp -d /tmp/cablecast-services.XXXXXX)
chmod 755 "$workdir"
cleanup() {
  services_stop_redis "$workdir" || true
  services_stop_postgres "$workdir" || true
  rm -rf "$workdir"
}
trap cleanup EXIT

services_start_redis "$workdir"
services_start_postgres "$workdir"
export CABLECAST_TEST_REDIS_PORT="$REDIS_PORT"
export CABLECAST_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export CABLECAST_TEST_POSTGRES_PORT="$POSTGRES_PORT"
export CABLECAST_TEST_POSTGRES_DATA="$workdir/pg"
export CABLECAST_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$POSTGRES_PORT/postgres"
export CABLECAST_TEST_SERVICES_DIR="$workdir"

set +e
"$@"
status=$?
set -e
exit $status

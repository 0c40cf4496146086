#!/usr/bin/env bash
# Installs the Debian packages and npm modules the build and the test suites need.
# Idempotent and fast when everything is present: dpkg-query decides, and `apt-get update`
# runs only when a package is actually missing. Must work as root on a fresh Debian 12.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Prerequisites this script cannot install (README.md, "A fresh box"): Node.js 20 or later with
# npm. Debian 12's nodejs is 18, too old for the Node test runner features and the npm packages
# the tests use, so it is checked first, with what to do, before anything is installed.
NODE_MIN_MAJOR=20
check_node() {
  local how="install Node.js ${NODE_MIN_MAJOR} or later with npm (the Node.js project's Linux \
binaries or nvm; Debian 12's nodejs package is 18), put it first on PATH, and run 'make deps' again"
  if ! command -v node >/dev/null 2>&1; then
    echo "install-deps: Node.js not found: $how" >&2
    return 1
  fi
  local version major
  version=$(node --version 2>/dev/null || echo unknown)
  major=${version#v}
  major=${major%%.*}
  if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < NODE_MIN_MAJOR)); then
    echo "install-deps: Node.js $version found at $(command -v node), ${NODE_MIN_MAJOR}+ needed: $how" >&2
    return 1
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm not found beside Node.js $version: $how" >&2
    return 1
  fi
}
check_node || exit 1

# Every package a build, test, benchmark or script runs is named here, even when another one
# would pull it in today: a dependency of a dependency can go away in the next Debian release.
packages=(
  build-essential cmake ninja-build g++ pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libsimdjson-dev libspdlog-dev libfmt-dev
  libcli11-dev libtomlplusplus-dev libhiredis-dev libpq-dev libssl-dev
  liburing-dev  # batched sends (src/ws/batch_sender.hpp)
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium ruby ruby-actioncable ruby-redis ruby-pg ruby-activerecord puma clang-format
  redis-server postgresql gnuplot-nox
  redis-tools  # redis-cli: scripts/services.sh, tests/support/redis_env.mjs, bench/ext.sh
  python3  # scripts/services.sh picks free ports with it
  util-linux  # taskset (bench/*.sh), runuser (scripts/services.sh: initdb refuses root)
  procps  # kill, ps
  git  # bench/*.sh record the commit they measured
  bc  # bench/cluster.sh
  systemd  # systemd-analyze verify of packaging/cablecast.service (tests/integration/packaging)
  prometheus  # promtool and a Prometheus server scraping /metrics in the tests
  openssl  # tests/integration/tls.test.mjs makes its certificate with `openssl req`
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer (-fsanitize=fuzzer) and its runtime
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # --rpc-url grpc://
  ruby-grpc ruby-activesupport  # tests: a gRPC RPC backend, Rails' MessageVerifier
  ruby-google-protobuf  # tests/support/grpc_backend: message classes from `protoc --ruby_out`
)

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

missing=()
for pkg in "${packages[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm modules: reinstall when node_modules is absent or older than the lock file. A git
# worktree may link node_modules to another checkout's: `npm ci` would empty that shared
# directory through the link (under every other worktree's feet) before replacing the link, so a
# linked one is only checked; the checkout that owns it keeps it up to date.
if [[ -L node_modules ]]; then
  if [[ ! -f node_modules/@rails/actioncable/package.json ]]; then
    echo "install-deps: node_modules links to $(readlink node_modules), which has no" \
         "@rails/actioncable: run 'make deps' in the checkout that owns it" >&2
    exit 1
  fi
elif [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  echo "install-deps: npm ci" >&2
  npm ci --no-audit --no-fund
  touch node_modules
fi

#!/usr/bin/env bash
# Installs the Debian packages and npm modules the build and the test suites need.
# Idempotent and fast when everything is present: dpkg-query decides, and `apt-get update`
# runs only when a package is actually missing. Must work as root on a fresh Debian 12.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  build-essential cmake ninja-build g++ pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libsimdjson-dev libspdlog-dev libfmt-dev
  libcli11-dev libtomlplusplus-dev libhiredis-dev libpq-dev libssl-dev
  liburing-dev  # batched sends (src/ws/batch_sender.hpp)
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium ruby ruby-actioncable ruby-redis ruby-pg ruby-activerecord puma clang-format
  redis-server postgresql gnuplot-nox
  prometheus  # promtool and a real server for tests/integration/metrics.test.mjs
  openssl  # tests/integration/tls.test.mjs makes its certificate with `openssl req`
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer (-fsanitize=fuzzer) and its runtime
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # --rpc-url grpc://
  ruby-grpc ruby-activesupport  # tests: a gRPC RPC backend, Rails' MessageVerifier
  ruby-google-protobuf  # tests/support/grpc_backend: message classes from `protoc --ruby_out`
)
# Node may come from somewhere other than Debian (e.g. a vendor build that bundles npm);
# only ask apt for it when the tools are not on PATH at all.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

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

# npm modules: reinstall when node_modules is absent or older than the lock file.
if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  echo "install-deps: npm ci" >&2
  npm ci --no-audit --no-fund
  touch node_modules
fi

#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build/fuzz and runs each one for a bounded time
# against its seed corpus (fuzz/corpus/<target>/). Fails on any crash, sanitizer report, leak
# or timeout, and prints the input that caused it.
#
#   bash scripts/fuzz.sh                      # every target, 60 s each, 2 at a time (CI)
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh    # a long local run
#   bash scripts/fuzz.sh frame_parser         # only the named targets
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_JOBS     targets fuzzed at the same time (default 2: CI has 2 cores)
#   FUZZ_KEEP     1: merge the new interesting inputs into fuzz/corpus/<target>/ at the end
#                 (for long local runs; CI never grows the committed corpus)
#   FUZZ_OUT      where logs, new inputs and crash files go (default: a fresh temporary dir,
#                 kept when something failed and printed at the end)
#   FUZZ_BUILD_ONLY  1: build the targets and stop (`make fuzz-build`; .ci/run builds them
#                 while the release tests run, then `make fuzz` only fuzzes)
#
# The committed corpus is only read: libFuzzer writes new inputs into the first corpus folder it
# is given, which is a scratch folder under FUZZ_OUT, so the seeds stay as reviewed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-2}
FUZZ_KEEP=${FUZZ_KEEP:-0}
build_dir=build/fuzz
all_targets=(frame_parser handshake command auth publication)
targets=("$@")
if ((${#targets[@]} == 0)); then targets=("${all_targets[@]}"); fi

for t in "${targets[@]}"; do
  if [[ ! -d fuzz/corpus/$t ]]; then
    echo "fuzz: unknown target '$t' (known: ${all_targets[*]})" >&2
    exit 2
  fi
done

# clang (for -fsanitize=fuzzer) and its runtime come from Debian; install-deps.sh lists them.
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ is missing (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 2
fi

# Configured once; ninja rebuilds only what changed. Tests and benchmarks are not built here:
# only the fuzz binaries (and the libraries they exercise). -O1 -g1 as in the ASan tree: this
# build is on CI's critical path, and line tables are all a sanitizer report needs.
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake -S . -B "$build_dir" -G Ninja \
    -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DCABLECAST_LIBFUZZER=ON \
    -DCABLECAST_BUILD_BENCH=OFF \
    -DCABLECAST_UNITY_LIBRARIES=ON  # libraries in unity batches: cmake/unity_build.cmake
fi
cmake --build "$build_dir" --target "${targets[@]/#/fuzz_}"
if [[ ${FUZZ_BUILD_ONLY:-0} == 1 ]]; then exit 0; fi

out=${FUZZ_OUT:-$(mktemp -d /tmp/cablecast-fuzz.XXXXXX)}
mkdir -p "$out"
echo "fuzz: ${targets[*]} for ${FUZZ_SECONDS} s each, ${FUZZ_JOBS} at a time; output in $out"

# Runs one target; its exit code is libFuzzer's (0: no finding within the time).
run_target() {
  local t=$1
  mkdir -p "$out/$t/new" "$out/$t/crashes"
  # -timeout: one input taking over 10 s is a hang (a finding). -rss_limit_mb: one run using
  # over 2 GiB is a memory blow-up (a finding). Leak detection is on (libFuzzer's default).
  "$build_dir/fuzz/fuzz_$t" \
    -max_total_time="$FUZZ_SECONDS" \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$out/$t/crashes/" \
    "$out/$t/new" "fuzz/corpus/$t" \
    >"$out/$t/log" 2>&1
}

declare -A pid_of_target
declare -A status_of_target
running=0
for t in "${targets[@]}"; do
  if ((running >= FUZZ_JOBS)); then
    wait -n || true  # statuses are collected per pid below
    running=$((running - 1))
  fi
  run_target "$t" &
  pid_of_target[$t]=$!
  running=$((running + 1))
done
for t in "${targets[@]}"; do
  set +e
  wait "${pid_of_target[$t]}"
  status_of_target[$t]=$?
  set -e
done

failed=0
for t in "${targets[@]}"; do
  log=$out/$t/log
  stats=$(grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | tr -s ' \n' ' ' || true)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  if [[ ${status_of_target[$t]} -eq 0 ]]; then
    echo "fuzz: $t ok ($cov; $stats)"
  else
    failed=1
    echo "fuzz: $t FAILED (exit ${status_of_target[$t]}); last lines of $log:" >&2
    tail -n 60 "$log" >&2
    for crash in "$out/$t/crashes"/*; do
      [[ -f $crash ]] || continue
      echo "fuzz: $t input that failed: $crash (hex below); reproduce with" >&2
      echo "  $build_dir/fuzz/fuzz_$t $crash" >&2
      echo "  and add it to fuzz/corpus/$t/ once fixed, so make test replays it for ever" >&2
      od -A x -t x1z -v "$crash" | head -n 40 >&2
    done
  fi
done

if [[ $FUZZ_KEEP == 1 && $failed -eq 0 ]]; then
  # -merge keeps only inputs that add coverage, so the committed corpus stays small.
  for t in "${targets[@]}"; do
    "$build_dir/fuzz/fuzz_$t" -merge=1 "fuzz/corpus/$t" "$out/$t/new" >"$out/$t/merge.log" 2>&1
    echo "fuzz: $t corpus now $(find "fuzz/corpus/$t" -type f | wc -l) files"
  done
fi

if ((failed)); then
  echo "fuzz: findings kept in $out" >&2
  exit 1
fi
if [[ -z ${FUZZ_OUT:-} ]]; then rm -rf "$out"; fi

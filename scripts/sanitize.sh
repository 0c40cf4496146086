#!/usr/bin/env bash
# Builds the `asan` preset (g++, AddressSanitizer + UndefinedBehaviorSanitizer; -O1 -g1: line
# tables suffice for symbolized reports, and it compiles in half the time of -O2 -g) in
# build/asan and runs the ctest suite from it under scripts/with-services.sh. The Node tests
# start the binary named by CABLECAST_BIN, which tests/CMakeLists.txt sets per build directory,
# so every integration, conformance and soak test here exercises the sanitized server.
#
#   bash scripts/sanitize.sh                        # what CI runs
#   SANITIZE_LABELS='unit|integration' bash scripts/sanitize.sh   # a subset (ctest -L regex)
#   SANITIZE_BUILD_ONLY=1 bash scripts/sanitize.sh  # only build build/asan (CI does this while
#                                                   # the release tests run, then runs it all)
#
# A sanitizer finding fails the run: the sanitized code aborts at the first report
# (-fno-sanitize-recover=all, abort_on_error, halt_on_error), a leak is reported when the
# server exits (the tests require exit code 0 after SIGTERM), and the unit test binaries fail
# on their own reports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# detect_stack_use_after_return: also catch use of a dead stack frame (e.g. a lambda capturing a
# local by reference that runs later on the loop). check_initialization_order: static init
# order bugs. LeakSanitizer runs at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The soak and the slow-consumer test run here at a smaller scale than in the release run: the
# point is the sanitizers watching the same code paths (churn, fan-out, dropping a slow client);
# the release run proves the sizes and bounds. At full scale under ASan the slow-consumer test
# alone takes about 2 minutes of this run.
export CABLECAST_SOAK_SECONDS=${CABLECAST_SOAK_SECONDS:-60}
export CABLECAST_SLOW_CONSUMER_BROADCASTS=${CABLECAST_SLOW_CONSUMER_BROADCASTS:-10000}

# The benchmarks are not tests; -Werror is enforced by the release build (`make test`), and
# g++'s sanitizer instrumentation may add warnings of its own that say nothing about the code.
# Libraries in unity batches: this tree only runs the tests (cmake/unity_build.cmake).
cmake --preset asan -DCABLECAST_BUILD_BENCH=OFF -DCABLECAST_WERROR=OFF -DCABLECAST_UNITY_LIBRARIES=ON >/dev/null
cmake --build --preset asan
if [[ ${SANITIZE_BUILD_ONLY:-0} == 1 ]]; then exit 0; fi

# The browser test is excluded: it drives a headless Chromium through the demo page, which adds
# minutes under ASan while exercising no server path that the integration tests
# (official_client, many_connections, ...) do not already cover with the same binary. So is the
# install test: it checks packaging (make install, find_package), and would compile its example
# with the sanitizer flags the ASan tree passes on to its users.
ctest_args=(--preset asan --output-on-failure -j2 -LE 'browser|install')
if [[ -n ${SANITIZE_LABELS:-} ]]; then ctest_args+=(-L "$SANITIZE_LABELS"); fi
bash scripts/with-services.sh ctest "${ctest_args[@]}"

#!/usr/bin/env bash
# The README's second command: installs what is missing, then builds and runs every test three
# times: as built for use (build/, GCC), under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/, clang, which also builds the libFuzzer targets: each then runs for 10 s,
# scripts/fuzz.sh), and under ThreadSanitizer (build-tsan/, GCC). Exits non-zero if anything
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/lint-openapi.sh

echo "== build and test (build/)"
scripts/build.sh build -DSEEDHOOK_TESTS=ON
ctest --test-dir build --output-on-failure --timeout 180 -j2

echo "== build and test under ASan + UBSan, then fuzz each parser for 10 s (build-asan/, clang)"
# The configuration of scripts/fuzz.sh, which then finds its targets built.
scripts/build.sh build-asan -DCMAKE_CXX_COMPILER=clang++-14 -DSEEDHOOK_TESTS=ON -DSEEDHOOK_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --timeout 300 -j2
scripts/fuzz.sh 10

echo "== build and test under ThreadSanitizer (build-tsan/)"
scripts/build.sh build-tsan -DSEEDHOOK_TESTS=ON -DSEEDHOOK_TSAN=ON -DCMAKE_BUILD_TYPE=Debug
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan --output-on-failure --timeout 300 -j2

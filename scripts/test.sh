#!/usr/bin/env bash
# The README's second command: installs what is missing, then builds and runs every test three
# times: as built for use (build/), under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/), and under ThreadSanitizer (build-tsan/). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/lint-openapi.sh

echo "== build and test (build/)"
scripts/build.sh build -DSEEDHOOK_TESTS=ON
ctest --test-dir build --output-on-failure --timeout 180

echo "== build and test under ASan + UBSan (build-asan/)"
scripts/build.sh build-asan -DSEEDHOOK_TESTS=ON -DSEEDHOOK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --timeout 300

echo "== build and test under ThreadSanitizer (build-tsan/)"
scripts/build.sh build-tsan -DSEEDHOOK_TESTS=ON -DSEEDHOOK_TSAN=ON -DCMAKE_BUILD_TYPE=Debug
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan --output-on-failure --timeout 300

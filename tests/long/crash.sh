#!/usr/bin/env bash
# Crash safety, long form (SPEC §6): the CI test CrashSafety.* with more jobs and more SIGKILLs.
# Usage: tests/long/crash.sh [KILLS] [JOBS]     (defaults: 30 kills, 70 jobs per kill)
# Builds build/ if needed and prints sent / acknowledged / stored and what was lost or doubled.
# Each job takes 99 deliveries and a kill comes every 0.6 s: on 2 cores a release build
# acknowledges ~5,500 callbacks/s, ~35 jobs' worth between two kills, so fewer than ~70 jobs
# per kill lets the load run out before the last kills (the test then fails, saying so).
set -euo pipefail
cd "$(dirname "$0")/../.."
kills=${1:-30}
jobs=${2:-$((kills * 70))}
[[ -x build/tests/integration/seedhook_integration_tests ]] || scripts/build.sh build -DSEEDHOOK_TESTS=ON
SEEDHOOK_CRASH_KILLS=$kills SEEDHOOK_CRASH_JOBS=$jobs \
  build/tests/integration/seedhook_integration_tests --gtest_filter='CrashSafety.*'

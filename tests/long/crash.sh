#!/usr/bin/env bash
# Crash safety, long form (SPEC §6): the CI test CrashSafety.* with more jobs and more SIGKILLs.
# Usage: tests/long/crash.sh [KILLS] [JOBS]     (defaults: 30 kills, 70 jobs per kill)
# Builds build/ if needed and prints sent / acknowledged / stored and what was lost or doubled.
# Each kill comes once (jobs × 99) / (kills + 2) more callbacks have been acknowledged, so the
# load lasts past the last kill whatever the numbers; more jobs per kill means longer stretches.
set -euo pipefail
cd "$(dirname "$0")/../.."
kills=${1:-30}
jobs=${2:-$((kills * 70))}
[[ -x build/tests/integration/seedhook_integration_tests ]] || scripts/build.sh build -DSEEDHOOK_TESTS=ON
SEEDHOOK_CRASH_KILLS=$kills SEEDHOOK_CRASH_JOBS=$jobs \
  build/tests/integration/seedhook_integration_tests --gtest_filter='CrashSafety.*'

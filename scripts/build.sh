#!/usr/bin/env bash
# Configures and builds seedhook into build/ (or $1) with the given extra CMake arguments.
# Usage: scripts/build.sh [BUILD_DIR] [CMAKE_ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DSEEDHOOK_WERROR=ON "$@" >/dev/null
cmake --build "$dir" --parallel "$(nproc)"

#!/usr/bin/env bash
# Installs the Debian 12 packages seedhook needs to build, test and run, if any is missing.
# Usage: scripts/install-deps.sh [--runtime | --node]
#   --runtime: only what the binary needs to run
#   --node:    only Node.js and npm (scripts/lint-openapi.sh)
# Shared by the README's commands, CI and the Dockerfile.
set -euo pipefail

build_packages=(
  build-essential g++ cmake ninja-build ccache pkg-config git ca-certificates openssl curl
  libboost1.81-dev libboost-url1.81-dev libssl-dev rapidjson-dev
  libsqlite3-dev libsqlitecpp-dev sqlite3 libgtest-dev libgmock-dev  # GTest::gmock (not a dependency of libgtest-dev)
  prometheus  # promtool: the tests check /metrics with it
  libyaml-cpp-dev  # the integration tests read docs/openapi.yaml
  libjemalloc-dev  # the binary's allocator (bench/README.md)
  clang-14 libclang-rt-14-dev llvm-14  # scripts/fuzz.sh: clang, libFuzzer + sanitizer runtimes, llvm-symbolizer
)
# Node.js and npm run the OpenAPI linter (scripts/lint-openapi.sh, which asks for them with
# --node; the image build needs neither). They are looked for as commands, not packages: a
# machine may have another build of Node whose nodejs package bundles npm, which Debian's npm
# would conflict with.
node_packages=(nodejs npm)
runtime_packages=(libssl3 libsqlite3-0 libboost-url1.81.0 libjemalloc2 ca-certificates curl)

wanted=()
with_node=false
case "${1:-}" in
  --runtime) wanted=("${runtime_packages[@]}") ;;
  --node) with_node=true ;;
  *) wanted=("${build_packages[@]}") ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if $with_node && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  missing+=("${node_packages[@]}")
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

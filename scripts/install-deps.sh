#!/usr/bin/env bash
# Installs the Debian 12 packages seedhook needs to build, test and run, if any is missing.
# Usage: scripts/install-deps.sh [--runtime]   (--runtime: only what the binary needs to run)
# Shared by the README's commands, CI and the Dockerfile.
set -euo pipefail

build_packages=(
  build-essential g++ cmake ninja-build ccache pkg-config git ca-certificates openssl curl
  libboost1.81-dev libboost-url1.81-dev libssl-dev rapidjson-dev
  libsqlite3-dev libsqlitecpp-dev sqlite3 libgtest-dev
  prometheus  # promtool: the tests check /metrics with it
)
runtime_packages=(libssl3 libsqlite3-0 libboost-url1.81.0 ca-certificates curl)

if [[ "${1:-}" == "--runtime" ]]; then
  wanted=("${runtime_packages[@]}")
else
  wanted=("${build_packages[@]}")
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

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

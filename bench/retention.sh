#!/usr/bin/env bash
# Issue 6 item 5: the database file does not grow without bound once retention prunes old
# callback bodies. Same load with retention.days=1 and with 0 (kept forever), the file's size
# recorded after every round; see bench/README.md ("Retention and file size").
# Usage: bench/retention.sh   (knobs: RETENTION_ROUNDS, RETENTION_ROUND_SIZE, ... in retention.py)
set -euo pipefail
cd "$(dirname "$0")/.."

# ---------------------------------------------------------------- packages
wanted=(python3 sqlite3)
missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- binary
# RETENTION_BINARY, else build/seedhook as it is (never rebuilt here), else a Release build
# into build-bench/.
if [[ -n ${RETENTION_BINARY:-} ]]; then
  source_binary=$(realpath "$RETENTION_BINARY")
elif [[ -x build/seedhook ]]; then
  source_binary=$PWD/build/seedhook
else
  echo "== building build-bench/seedhook (Release)"
  scripts/install-deps.sh
  scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
  source_binary=$PWD/build-bench/seedhook
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$source_binary")/CMakeCache.txt" 2>/dev/null || true)
echo "== binary $source_binary (CMAKE_BUILD_TYPE '${build_type}'; empty means the project default, RelWithDebInfo)"

# Configuration comes only from the file retention.py writes and the two secrets it sets.
for var in $(compgen -e); do
  case $var in SEEDHOOK_* | EVOLINK_API_KEY | TOAPIS_API_KEY | ACEDATA_API_KEY) unset "$var" ;; esac
done

# ---------------------------------------------------------------- temp dir, cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seedhook-retention.XXXXXX")
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ ${RETENTION_KEEP:-0} == 1 || $rc -ne 0 ]]; then
    echo "files kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A copy, so a rebuild of build/ by someone else during the run changes neither run's binary.
cp "$source_binary" "$tmp/seedhook"

# Which SQLite seedhook writes with, and its secure_delete default (seedhook does not set it):
# with 1, every page pruning frees is overwritten with zeros, and that write goes through the WAL.
lib=$(ldd "$tmp/seedhook" 2>/dev/null | awk '/libsqlite3/ {print $3}')
echo "== seedhook uses ${lib:-a static SQLite}; the sqlite3 CLI's library: $(sqlite3 :memory: \
  "SELECT 'SQLite ' || sqlite_version() || ', secure_delete default ' || (SELECT secure_delete FROM pragma_secure_delete);")"

python3 bench/retention.py "$tmp/seedhook" "$tmp"

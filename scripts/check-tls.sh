#!/usr/bin/env bash
# Checks seedhook's TLS as a client sees it, with testssl.sh (Debian's package), against the
# real binary on 127.0.0.1. Not part of CI: it takes a few minutes.
#
#  1. Installs testssl.sh and jq with apt if missing (as root), and builds build/ if it has no
#     binary (scripts/build.sh).
#  2. Makes a throwaway test CA and an ECDSA P-256 server certificate (tests/support/make_certs.sh;
#     --self-signed uses tls.self_signed instead), and starts seedhook on a free port with the
#     simulator and a database in a temporary folder.
#  3. Runs testssl.sh on it: protocols (-p), cipher categories (-s), forward secrecy (-f), every
#     cipher per protocol (-E), server preferences (-P) and vulnerabilities (-U). Nothing is
#     fetched from the internet (no --phone-out). The certificate checks (-S) are left out: they
#     judge the certificate you deploy, not seedhook.
#  4. Prints the protocols offered, the ciphers offered per protocol with the server's order,
#     and every finding rated MEDIUM, HIGH, CRITICAL or WARN; the full report and the JSON are
#     kept in build/check-tls/.
#
# Exits non-zero when a HIGH or CRITICAL finding is reported, a protocol below TLS 1.2 is
# offered, or seedhook did not survive the scan (it must still exit 0 on SIGTERM).
# Usage: scripts/check-tls.sh [--self-signed] [--binary PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

self_signed=false
binary=build/seedhook
while [ $# -gt 0 ]; do
  case "$1" in
    --self-signed) self_signed=true ;;
    --binary) binary=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

started=$(date +%s)
say() { printf '== %s\n' "$*"; }

# 1. Tools and binary.
missing=()
command -v testssl >/dev/null 2>&1 || missing+=(testssl.sh)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} with apt"
  if [ "$(id -u)" -ne 0 ]; then
    echo "run as root to install ${missing[*]} (or install them first)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -x "$binary" ]; then
  if [ -f build/CMakeCache.txt ]; then  # configured already: keep its options, build the binary
    say "building build/seedhook"
    cmake --build build --target seedhook --parallel "$(nproc)"
  else
    say "configuring and building build/ without the tests (scripts/build.sh)"
    scripts/build.sh build -DSEEDHOOK_TESTS=OFF
  fi
  binary=build/seedhook
fi
say "testssl.sh $(dpkg-query -W -f='${Version}' testssl.sh 2>/dev/null || echo '(not from apt)'), $("$binary" --version)"

# 2. Certificate, configuration, server.
work=$(mktemp -d "${TMPDIR:-/tmp}/seedhook-tls-XXXXXX")
out_dir=build/check-tls
mkdir -p "$out_dir"
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if $self_signed; then
  tls='"self_signed": true'
else
  bash tests/support/make_certs.sh "$work"
  tls="\"cert_file\": \"$work/server.crt\", \"key_file\": \"$work/server.key\""
fi
cat >"$work/config.json" <<EOF
{
  "listen": {"address": "127.0.0.1", "port": $port},
  "tls": {$tls},
  "public_base_url": "https://127.0.0.1:$port",
  "callbacks": {"allow_private_hosts": true},
  "database": {"path": "$work/seedhook.db"},
  "simulator": {"enabled": true},
  "log": {"level": "info"}
}
EOF
SEEDHOOK_AUTH_API_TOKENS=check-tls-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ') \
  "$binary" --config "$work/config.json" >"$out_dir/seedhook.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q '"seedhook ready"' "$out_dir/seedhook.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$out_dir/seedhook.log" >&2; echo "seedhook did not start" >&2; exit 1; }
  sleep 0.1
done
grep -q '"seedhook ready"' "$out_dir/seedhook.log" || { echo "seedhook was not ready within 10 s" >&2; exit 1; }
say "seedhook on 127.0.0.1:$port ($($self_signed && echo self-signed || echo 'test CA, ECDSA P-256'))"

# 3. The scan. testssl.sh's exit status counts findings, so it is read from the JSON instead.
rm -f "$out_dir/testssl.json" "$out_dir/testssl.txt"
say "testssl.sh -p -s -f -E -P -U (a few minutes)"
scan_started=$(date +%s)
testssl --quiet --color 0 --warnings batch --jsonfile "$out_dir/testssl.json" \
  -p -s -f -E -P -U "127.0.0.1:$port" >"$out_dir/testssl.txt" 2>&1 || true
scan_seconds=$(( $(date +%s) - scan_started ))
if [ ! -s "$out_dir/testssl.json" ]; then
  cat "$out_dir/testssl.txt" >&2
  echo "testssl.sh wrote no findings" >&2
  exit 1
fi

# 4. Findings.
json=$out_dir/testssl.json
echo
say "protocols"
jq -r '.[] | select(.id | test("^(SSLv2|SSLv3|TLS1|TLS1_1|TLS1_2|TLS1_3)$")) | "  \(.id | gsub("_"; ".")): \(.finding) [\(.severity)]"' "$json"
say "ciphers offered (testssl -E), per protocol"
jq -r '.[] | select(.id | startswith("cipher-")) | "  \(.finding)"' "$json" | sed 's/  */ /g; s/^ /  /'
say "server's cipher order"
jq -r '.[] | select(.id | test("^(cipher_order|cipherorder_|protocol_negotiated|cipher_negotiated)")) | "  \(.id): \(.finding)"' "$json"
say "forward secrecy"
jq -r '.[] | select(.id | test("^(PFS|FS)(_ciphers|_ECDHE_curves|)$")) | "  \(.id): \(.finding)"' "$json"
say "findings rated MEDIUM, HIGH, CRITICAL or WARN"
# engine_problem is about the scanner's own openssl (no GOST engine), not about seedhook.
notable=$(jq -r '.[] | select(.severity | test("^(MEDIUM|HIGH|CRITICAL|WARN)$")) | select(.id != "engine_problem") | "  \(.severity) \(.id): \(.finding)"' "$json")
echo "${notable:-  none}"
scanner=$(jq -r '.[] | select(.id == "engine_problem") | "  (scanner, not seedhook) \(.severity) \(.id): \(.finding)"' "$json")
[ -z "$scanner" ] || echo "$scanner"
say "vulnerability checks"
jq -r '[.[] | select(.cve != null or (.id | test("^(heartbleed|CCS|ticketbleed|ROBOT|secure_renego|secure_client_renego|CRIME_TLS|BREACH|POODLE_SSL|fallback_SCSV|SWEET32|FREAK|DROWN|LOGJAM|BEAST|LUCKY13|RC4|winshock)")))] | group_by(.severity)[] | "  \(.[0].severity): \([.[].id] | unique | join(", "))"' "$json"

failed=0
bad_protocols=$(jq -r '.[] | select(.id | test("^(SSLv2|SSLv3|TLS1|TLS1_1)$")) | select(.finding | test("^offered")) | .id' "$json")
if [ -n "$bad_protocols" ]; then
  echo "FAIL: protocols below TLS 1.2 offered: $bad_protocols"
  failed=1
fi
high=$(jq -r '[.[] | select(.severity == "HIGH" or .severity == "CRITICAL")] | length' "$json")
if [ "$high" -gt 0 ]; then
  echo "FAIL: $high HIGH or CRITICAL finding(s)"
  failed=1
fi

# seedhook must have survived the scan (thousands of odd handshakes) and stop cleanly.
if ! kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: seedhook died during the scan (see $out_dir/seedhook.log)"
  failed=1
else
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  pid=
  if [ "$status" -ne 0 ]; then
    echo "FAIL: seedhook exited $status on SIGTERM after the scan"
    failed=1
  fi
fi
errors=$(grep -c '"level":"error"' "$out_dir/seedhook.log" || true)
echo
say "seedhook logged $errors error line(s); report: $root/$out_dir/testssl.txt (and .json, seedhook.log)"
say "scan $scan_seconds s, total $(( $(date +%s) - started )) s"
if [ "$failed" -ne 0 ]; then
  echo "check-tls: FAIL"
  exit 1
fi
echo "check-tls: PASS (no HIGH/CRITICAL finding, nothing below TLS 1.2)"

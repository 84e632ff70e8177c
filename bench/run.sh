#!/usr/bin/env bash
# Benchmark of issue 4: nginx (the HTTPS ceiling) and seedhook side by side in the same run.
# Usage: bench/run.sh            (knobs in bench/README.md: BENCH_ROUNDS, BENCH_SECONDS, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
bench=bench

rounds=${BENCH_ROUNDS:-3}
seconds=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-64}
submit_conns=${BENCH_SUBMIT_CONNECTIONS:-8}
submit_delay=${BENCH_SUBMIT_DELAY_MS:-80}
njobs=${BENCH_JOBS:-2000}
soak=${BENCH_SOAK_SECONDS:-0}
soak_interval=${BENCH_SOAK_INTERVAL:-60}
starts=${BENCH_STARTS:-5}
loads=" ${BENCH_LOADS:-callback read handshake submit} "
synchronous=${BENCH_SYNCHRONOUS:-FULL}
case $synchronous in
  FULL) ;;
  NORMAL) sync_note="database.synchronous NORMAL (BENCH_SYNCHRONOUS): seedhook's acknowledged callbacks were not durable in this run; its figures are a bound, not the service's" ;;
  *) echo "BENCH_SYNCHRONOUS must be FULL or NORMAL, not '$synchronous'" >&2; exit 2 ;;
esac

# ---------------------------------------------------------------- packages and build
wanted=(nginx-light wrk python3 openssl curl)
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
scripts/install-deps.sh

if [[ -n ${BENCH_BINARY:-} ]]; then
  binary=$(realpath "$BENCH_BINARY")
  echo "== using $binary (BENCH_BINARY; not building)"
else
  echo "== building build-release/seedhook"
  scripts/build.sh build-release -DCMAKE_BUILD_TYPE=Release -DSEEDHOOK_TESTS=OFF >/dev/null
  binary=$PWD/build-release/seedhook
fi
# the storage-only load (bench/storage_load.cpp), built beside the server
storage_binary=$(dirname "$binary")/seedhook_storage_load
[[ -x $storage_binary ]] || { storage_binary=""; echo "   no seedhook_storage_load beside $binary: no storage-alone figures"; }

# Configuration comes only from the file written below. SSL_CERT_FILE goes too, as in the
# container (Dockerfile): with it, OpenSSL parses the whole CA bundle at startup instead of
# reading the hashed directory lazily (+1.8 MiB idle, +~40 ms to ready; bench/README.md).
for var in $(compgen -e); do
  case $var in SEEDHOOK_* | EVOLINK_API_KEY | TOAPIS_API_KEY | ACEDATA_API_KEY | SSL_CERT_FILE) unset "$var" ;; esac
done

# ---------------------------------------------------------------- temp dir, cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seedhook-bench.XXXXXX")
seedhook_pid=""
nginx_pid=""
stop_pid() {  # stop_pid PID: SIGTERM, up to 15 s, then SIGKILL
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$seedhook_pid"
  stop_pid "$nginx_pid"
  if [[ ${BENCH_KEEP:-0} == 1 || $rc -ne 0 ]]; then
    echo "files kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

py() { python3 "$bench/bench.py" "$@"; }
results=$tmp/results.jsonl

# ---------------------------------------------------------------- certificate, configs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

seedhook_port=$(py freeport)
nginx_port=$(py freeport)
while [[ $nginx_port == "$seedhook_port" ]]; do nginx_port=$(py freeport); done
seedhook_url=https://127.0.0.1:$seedhook_port
nginx_url=https://127.0.0.1:$nginx_port
api_token=bench-api-token-$RANDOM$RANDOM
secret="bench-callback-secret-0123456789abcdef"

cat >"$tmp/seedhook.json" <<EOF
{
  "listen": {"address": "127.0.0.1", "port": $seedhook_port},
  "tls": {"cert_file": "$tmp/cert.pem", "key_file": "$tmp/key.pem"},
  "public_base_url": "$seedhook_url",
  "callbacks": {"allow_private_hosts": true, "secret": "$secret"},
  "auth": {"api_tokens": ["$api_token"]},
  "database": {"path": "$tmp/seedhook.db", "synchronous": "$synchronous"},
  "polling": {"grace_ms": 86400000},
  "simulator": {"enabled": true},
  "log": {"level": "info"}
}
EOF
"$binary" --config "$tmp/seedhook.json" --check-config >/dev/null

user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user root;"
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_max_body_size 1m;
  client_body_buffer_size 16k;
  client_body_temp_path $tmp/nginx-body;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_certificate $tmp/cert.pem;
  ssl_certificate_key $tmp/key.pem;
  ssl_session_cache shared:SSL:1m;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    default_type application/json;
    location / { return 200 '{"received":true}'; }
  }
}
EOF

# ---------------------------------------------------------------- start both servers
echo "== starting nginx on $nginx_port and seedhook on $seedhook_port (work dir $tmp)"
nginx -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" -g 'daemon off;' \
  >"$tmp/nginx.out" 2>&1 &
nginx_pid=$!
"$binary" --config "$tmp/seedhook.json" >"$tmp/seedhook.log" 2>&1 &
seedhook_pid=$!
py wait-ready "$nginx_url/" 10 || { cat "$tmp/nginx-error.log" "$tmp/nginx.out" >&2; exit 1; }
py wait-ready "$seedhook_url/readyz" 10 || { tail -5 "$tmp/seedhook.log" >&2; exit 1; }
sleep 1
py idle "$results" nginx "$nginx_pid"
py idle "$results" seedhook "$seedhook_pid"

# the simulator's base URL, from its startup warning in seedhook's log
sim_url=$(grep -m1 -o '"base_url":"[^"]*"' "$tmp/seedhook.log" | cut -d'"' -f4 || true)
[[ -n $sim_url ]] || { echo "cannot find the simulator's base_url in seedhook's log" >&2; exit 1; }
echo "   simulator at $sim_url"

# ---------------------------------------------------------------- jobs, and a check of the token
echo "== preparing $njobs jobs"
py prepare "$seedhook_url" "$api_token" "$secret" "$njobs" "$tmp/jobs.txt"
read -r job task token < "$tmp/jobs.txt"
post_callback() {  # post_callback TOKEN: prints the status
  curl -sk -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "{\"id\":\"$task\",\"object\":\"video.generation.task\",\"status\":\"processing\",\"progress\":10}" \
    "$seedhook_url/v1/callbacks/evolink/$job?token=$1"
}
good=$(post_callback "$token")
wrong=A${token:1}
[[ $wrong == "$token" ]] && wrong=B${token:1}
bad=$(post_callback "$wrong")
if [[ $good != 200 || $bad != 401 ]]; then
  echo "callback token check failed: right token got $good (want 200), wrong token got $bad (want 401)" >&2
  exit 1
fi
echo "   callback token check: right token 200, wrong token 401"
# the same callbacks with wrong tokens: answered 401 once the token is checked, never stored
awk '{t = $3; gsub(/[A-Za-z0-9_-]/, "A", t); print $1, $2, t}' "$tmp/jobs.txt" > "$tmp/jobs-wrong.txt"

# the disk's own floor for a durable commit, beside the database, while both servers idle
if [[ $loads == *" submit "* ]]; then
  py fsync "$results" "$tmp" 1000
fi

py resumption "$results" nginx 127.0.0.1 "$nginx_port"
py resumption "$results" seedhook 127.0.0.1 "$seedhook_port"

# ---------------------------------------------------------------- rounds
# [dur=SECONDS] load ROUND TEST SERVER CONNS MODE [KEY=VALUE...]   (round 0: not counted)
load() {
  local rnd=$1 test=$2 server=$3 n=$4 mode=$5
  shift 5
  local pid=$seedhook_pid url=$seedhook_url extra=("BENCH_METRICS_URL=$seedhook_url")
  case $server in
    nginx) pid=$nginx_pid url=$nginx_url extra=() ;;
    simulator) url=$sim_url ;;
  esac
  py load "$results" "$test" "$server" "$rnd" "$pid" "$url/" "${dur:-$seconds}" "$n" "$mode" \
    "BENCH_JOBS_FILE=$tmp/jobs.txt" "BENCH_TOKEN=$api_token" ${extra[@]+"${extra[@]}"} "$@"
}

echo "== warm-up"
dur=2 load 0 callback nginx "$conns" callback
dur=2 load 0 callback seedhook "$conns" callback

for round in $(seq "$rounds"); do
  echo "== round $round of $rounds (${seconds} s per load)"
  # alternate who goes first, so neither always meets the other's leftovers
  order=(nginx seedhook)
  (( round % 2 == 0 )) && order=(seedhook nginx)
  if [[ $loads == *" callback "* ]]; then
    for server in "${order[@]}"; do load "$round" callback "$server" "$conns" callback; done
    # what a callback's cost is made of: the HTTPS path without storage, then storage alone
    load "$round" refused seedhook "$conns" callback BENCH_EXPECT=401 "BENCH_JOBS_FILE=$tmp/jobs-wrong.txt"
    [[ -z $storage_binary ]] || py storage "$results" "$storage_binary" "$tmp" "$round" "$seconds" "$njobs" "$conns"
  fi
  if [[ $loads == *" read "* ]]; then
    for server in "${order[@]}"; do load "$round" read "$server" "$conns" read; done
  fi
  if [[ $loads == *" handshake "* ]]; then
    for server in "${order[@]}"; do load "$round" handshake "$server" "$conns" plain BENCH_CLOSE=1; done
  fi
  if [[ $loads == *" submit "* ]]; then
    # submissions at the same light pace, straight to the simulated provider and through seedhook
    load "$round" submit simulator "$submit_conns" sim-create "BENCH_DELAY=$submit_delay" \
      "BENCH_CB_URL=$seedhook_url/v1/callbacks/evolink/job_bench?token=x"
    load "$round" submit seedhook "$submit_conns" submit "BENCH_DELAY=$submit_delay" BENCH_EXPECT=201
  fi
done

if (( soak > 0 )); then
  echo "== soak: callback load for $soak s, RSS every $soak_interval s"
  py soak "$results" "$seedhook_pid" "$seedhook_url/" "$soak" "$soak_interval" "$tmp/jobs.txt" "$tmp/wrk.log"
fi

# ---------------------------------------------------------------- startup on the filled database
if (( starts > 0 )); then
  echo "== startup to ready, $starts starts on the existing database ($(du -h "$tmp/seedhook.db" | cut -f1))"
  stop_pid "$seedhook_pid"
  seedhook_pid=""
  py startup "$results" "$binary" "$tmp/seedhook.json" "$seedhook_url/readyz" "$starts" "$tmp/seedhook.log"
fi

py report "$results"
[[ -z ${sync_note:-} ]] || echo "NOTE: $sync_note"

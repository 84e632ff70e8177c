#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan) into build-asan/ when they
# are missing or stale, then runs each for SECONDS_PER_TARGET (default 60) seeded from
# tests/fuzz/corpus/<target>/. build-asan/ is the tree scripts/test.sh runs the tests under the
# sanitizers in, configured alike, so that one build serves both.
# The seeds are copied into build-asan/corpus/<target>/, where the
# inputs the fuzzer finds accumulate from run to run; the repository's corpus stays as committed.
# Prints per target the executions, exec/s, coverage (edges) and features; a crashing input is
# saved under build-asan/crashes/<target>/ and makes the script exit non-zero once every target
# has run. Full output: build-asan/fuzz-logs/<target>.log.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   e.g. scripts/fuzz.sh 600 fuzz_http_request
# Reproduce a crash: build-asan/fuzz/<target> build-asan/crashes/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
dir=build-asan
all_targets=(fuzz_evolink fuzz_toapis fuzz_acedata fuzz_job_request fuzz_http_request)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=("${all_targets[@]}")
fi
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi

echo "== build the fuzz targets ($dir/)"
# The configuration of scripts/test.sh's build-asan/ (scripts/build.sh adds -Werror).
cmake -S . -B "$dir" -G Ninja -DSEEDHOOK_WERROR=ON -DCMAKE_CXX_COMPILER=clang++-14 \
  -DSEEDHOOK_TESTS=ON -DSEEDHOOK_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$dir" --target "${targets[@]}" --parallel "$(nproc)"

mkdir -p "$dir/fuzz-logs"
# Debian's llvm-14 has the symbolizer under a versioned name only.
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} && -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
failed=()
printf '%-20s %12s %10s %8s %8s %8s  %s\n' target executions exec/s cov ft corpus result
for target in "${targets[@]}"; do
  corpus="$dir/corpus/$target"
  crashes="$dir/crashes/$target"
  log="$dir/fuzz-logs/$target.log"
  mkdir -p "$corpus" "$crashes"
  cp -n tests/fuzz/corpus/"$target"/* "$corpus"/
  rc=0
  # max_len: bodies past 64 KiB reach no parsing code that smaller ones do not. A slow input
  # (over 10 s) or one using over 2 GiB counts as a crash.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$dir/fuzz/$target" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  status_line=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
  units=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$status_line")
  result=ok
  if [[ $rc -ne 0 ]]; then
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    result="CRASH (exit $rc) ${artifact:-see $log}"
    failed+=("$target")
  fi
  printf '%-20s %12s %10s %8s %8s %8s  %s\n' "$target" "${execs:-?}" "${speed:-?}" "${cov:-?}" \
    "${ft:-?}" "${units:-?}" "$result"
done

if [[ ${#failed[@]} -gt 0 ]]; then
  for target in "${failed[@]}"; do
    echo "== $target: the report in $dir/fuzz-logs/$target.log" >&2
    grep -a -m1 -A14 -E 'invariant broken|runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' \
      "$dir/fuzz-logs/$target.log" | cut -c1-240 >&2 || true
    grep -a 'Test unit written' "$dir/fuzz-logs/$target.log" >&2 || true
  done
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  exit 1
fi

#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run):
#   1. installs dependencies (Debian packages),
#   2. builds with ASan + UBSan and runs every test (ctest), then the
#      concurrent parts' tests built with ThreadSanitizer, then the
#      dashboard's end-to-end tests in headless Chromium against the same
#      binary (tests/e2e/run.sh), the SARIF report against its official
#      schema (tests/schemas/run.sh), then lints (clang-format, clang-tidy),
#   3. builds the libFuzzer targets with clang and runs each for a bounded time,
#   4. builds the benchmarks optimised and runs each briefly, so they stay runnable.
# FUZZ_SECONDS (default 15) bounds each fuzz target; run longer by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${FUZZ_SECONDS:-15}"
# Each phase is announced with the seconds spent so far, so a slow phase shows.
phase() { echo "== $1 [${SECONDS} s]"; }

bash scripts/install-deps.sh

phase "tests (ASan + UBSan)"
bash scripts/build.sh asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build/asan && ctest --output-on-failure -j "$(nproc)" --timeout 300)

phase "the concurrent parts under ThreadSanitizer (server, workflow, safety, notify, audit)"
bash scripts/build.sh tsan
# setarch -R: TSan's fixed memory layout does not survive the kernel's full
# address randomisation.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  setarch "$(uname -m)" -R build/tsan/interlock_concurrency_tests --gtest_brief=1

phase "dashboard in headless Chromium (tests/e2e; screenshots in build/e2e-artifacts)"
bash tests/e2e/run.sh build/asan/interlock build/e2e-artifacts

phase "the SARIF report against the official SARIF 2.1.0 schema (tests/schemas)"
bash tests/schemas/run.sh build/asan/interlock

phase "lint"
bash scripts/lint.sh 2>&1 | grep -v "warnings generated" || exit 1

phase "fuzzing (${fuzz_seconds}s per target)"
bash scripts/build.sh fuzz
fuzz_one() {
  local name corpus
  name="$(basename "$1")"
  corpus="build/fuzz/corpus-$name"
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"${name%_fuzz}"/* "$corpus"/ 2>/dev/null || true
  "$1" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="build/fuzz/$name-" "$corpus" >"build/fuzz/$name.log" 2>&1 || true
}
# Each target is single-threaded: one per core at a time.
running=0
for target in build/fuzz/*_fuzz; do
  if [ "$running" -ge "$(nproc)" ]; then
    wait -n
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait
fuzz_failed=0
for target in build/fuzz/*_fuzz; do
  name="$(basename "$target")"
  echo "-- $name"
  grep -E "^(#[0-9]+[[:space:]]+DONE|Done|==|SUMMARY)" "build/fuzz/$name.log" || true
  # libFuzzer leaves a crash-*/leak-*/timeout-* file when it finds something.
  if ls build/fuzz/"$name"-* >/dev/null 2>&1; then
    echo "FAIL: $name found a problem: $(ls build/fuzz/"$name"-*)"
    fuzz_failed=1
  fi
done
[ "$fuzz_failed" = 0 ] || exit 1

phase "benchmarks (smoke run)"
benches=$(ls bench/*_bench.cc | xargs -n 1 basename | sed 's/\.cc$//')
bash scripts/build.sh release $benches
for bench in build/release/*_bench; do
  "$bench" --benchmark_min_time=0.01 >/dev/null
  echo "-- $(basename "$bench") ran"
done
echo "test.sh: all passed [${SECONDS} s]"

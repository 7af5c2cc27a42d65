#!/usr/bin/env bash
# Configures and builds one flavour of Interlock.
#   scripts/build.sh release   build/release   optimised, for running and benchmarks
#   scripts/build.sh asan      build/asan      AddressSanitizer + UndefinedBehaviorSanitizer, tests
#   scripts/build.sh tsan      build/tsan      ThreadSanitizer, the concurrent parts' test binary
#                                              only
#   scripts/build.sh fuzz      build/fuzz      clang-19 libFuzzer targets
# The sanitizer and fuzz flavours build with -O1 and line tables only (-g1):
# what the sanitizers need for their reports, in half the compile time of
# -O2 -g.
# Further arguments name the targets to build instead of the flavour's default.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="$(nproc)"
quick="-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release -DINTERLOCK_TESTS=OFF) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "$quick" -DINTERLOCK_SANITIZE=ON -DINTERLOCK_BENCH=OFF) ;;
  tsan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "$quick" -DINTERLOCK_TSAN=ON -DINTERLOCK_BENCH=OFF) ;;
  fuzz) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "$quick" -DCMAKE_CXX_COMPILER=clang++-19
              -DINTERLOCK_FUZZ=ON) ;;
  *) echo "usage: $0 release|asan|tsan|fuzz" >&2; exit 2 ;;
esac
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  case "$flavour" in
    tsan) targets=(interlock_concurrency_tests) ;;
    fuzz) mapfile -t targets < <(ls fuzz/*_fuzz.cc | xargs -n 1 basename | sed 's/\.cc$//') ;;
  esac
fi
cmake -S . -B "build/$flavour" -G Ninja "${args[@]}" >/dev/null
ninja -C "build/$flavour" -j "$jobs" "${targets[@]}"

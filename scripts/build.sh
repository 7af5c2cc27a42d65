#!/usr/bin/env bash
# Configures and builds one flavour of Interlock.
#   scripts/build.sh release   build/release   optimised, for running and benchmarks
#   scripts/build.sh asan      build/asan      AddressSanitizer + UndefinedBehaviorSanitizer, tests
#   scripts/build.sh fuzz      build/fuzz      clang-19 libFuzzer targets
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="$(nproc)"
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release -DINTERLOCK_TESTS=OFF) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DINTERLOCK_SANITIZE=ON -DINTERLOCK_BENCH=OFF) ;;
  fuzz) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-19 -DINTERLOCK_FUZZ=ON) ;;
  *) echo "usage: $0 release|asan|fuzz" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja "${args[@]}" >/dev/null
ninja -C "build/$flavour" -j "$jobs"

#!/usr/bin/env bash
# clang-format and clang-tidy over the sources, with clang's -Wthread-safety
# checking the locking annotations (core/mutex.h). clang-tidy-22 comes from
# bookworm-security: Debian's clang-tidy 14 cannot parse C++23 with
# libstdc++ 12, and 22 no longer runs its checks over system headers, which
# takes a third of 19's time. Configures build/lint for its
# compile_commands.json: the asan flavour's flags without GCC's precompiled
# headers, which clang cannot read.
set -euo pipefail
cd "$(dirname "$0")/.."
sources=$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'fuzz/*.cc')
clang-format --dry-run --Werror $sources
bash scripts/check-layers.sh
cmake -S . -B build/lint -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINTERLOCK_SANITIZE=ON \
  -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON >/dev/null
git ls-files 'src/*.cc' | grep -v '_test\.cc$' | xargs -P "$(nproc)" -n 1 clang-tidy-22 -p build/lint --quiet \
  --extra-arg=-Wthread-safety \
  --extra-arg=-Wno-unknown-warning-option  # GCC-only flags in compile_commands.json
echo "lint: clean"

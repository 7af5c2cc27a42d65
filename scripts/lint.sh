#!/usr/bin/env bash
# clang-format and clang-tidy (clang-tidy-19; Debian's clang-tidy 14 cannot
# parse C++23 with libstdc++ 12) over the sources. Needs build/asan (for
# compile_commands.json): run scripts/build.sh asan first.
set -euo pipefail
cd "$(dirname "$0")/.."
sources=$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'fuzz/*.cc')
clang-format --dry-run --Werror $sources
git ls-files 'src/*.cc' | grep -v '_test\.cc$' | xargs -P "$(nproc)" -n 1 clang-tidy-19 -p build/asan --quiet \
  --extra-arg=-Wno-unknown-warning-option  # GCC-only flags in compile_commands.json
echo "lint: clean"

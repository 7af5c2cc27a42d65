#!/usr/bin/env bash
# Holds every #include of src/ to the layering CMakeLists.txt declares: the
# sources of a folder (tests aside) may include their own headers and those
# of the folders its `interlock_library(<folder> DEPS ...)` line names,
# directly or through them. Prints each include that breaks the layering,
# and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

# "folder dep dep ..." for each interlock_library line (continuations joined).
declared=$(awk '
  /^interlock_library\(/ { line = $0; while (line !~ /\)/ && (getline next_line) > 0) line = line " " next_line
    gsub(/^interlock_library\(|\).*$|EXTRA.*$/, "", line); sub(/ DEPS /, " ", line); print line }' CMakeLists.txt)

declare -A deps
while read -r folder rest; do
  deps[$folder]=""
  for dep in $rest; do
    [ -d "src/$dep" ] && deps[$folder]+=" $dep"
  done
done <<<"$declared"

# The folders a folder may include: itself and its dependencies' closure.
allowed() {
  local -A seen=()
  local queue=("$1")
  while [ ${#queue[@]} -gt 0 ]; do
    local f="${queue[0]}"
    queue=("${queue[@]:1}")
    [ -n "${seen[$f]:-}" ] && continue
    seen[$f]=1
    for d in ${deps[$f]:-}; do queue+=("$d"); done
  done
  echo "${!seen[@]}"
}

status=0
for dir in src/*/; do
  folder=$(basename "$dir")
  if [ -z "${deps[$folder]+set}" ]; then
    echo "check-layers: src/$folder has no interlock_library line in CMakeLists.txt"
    status=1
    continue
  fi
  ok=" $(allowed "$folder") "
  while IFS=: read -r file line include; do
    target=$(sed -n 's|.*#include "\([a-z_]*\)/.*|\1|p' <<<"$include")
    [ -z "$target" ] && continue
    if [[ "$ok" != *" $target "* ]]; then
      echo "check-layers: $file:$line: $folder may not include $target/ (declared: ${deps[$folder]:- none})"
      status=1
    fi
  done < <(grep -n '#include "' "$dir"*.cc "$dir"*.h 2>/dev/null | grep -v '_test\.cc:' || true)
done
[ "$status" = 0 ] && echo "check-layers: every include follows the declared layering"
exit "$status"

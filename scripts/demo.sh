#!/usr/bin/env bash
# The main job until `interlock serve` exists: installs dependencies, builds
# Interlock, scaffolds a governance directory and decides the sample requests
# in examples/requests/, printing each decision.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release >/dev/null
interlock=build/release/interlock
dir="${1:-demo-governance}"

[ -d "$dir" ] || "$interlock" init "$dir" >/dev/null
echo "\$ interlock check $dir"
"$interlock" check "$dir"
for request in examples/requests/*.json; do
  echo
  echo "\$ interlock decide --governance $dir --request $request"
  status=0
  "$interlock" decide --governance "$dir" --request "$request" || status=$?
  echo "exit $status"
done

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

# The audit trail: record each decision, sign a checkpoint, verify, prove.
data=.interlock
echo
echo "\$ interlock audit append --data $data   (one event per sample request)"
for request in examples/requests/*.json; do
  printf '{"event_type":"decision","actor":{"type":"service","id":"demo"},"action":{"type":"decide","target":"%s"},"environment":"dev"}\n' \
    "$(basename "$request" .json)"
done | "$interlock" audit append --data "$data"
echo "\$ interlock audit checkpoint --data $data"
"$interlock" audit checkpoint --data "$data" | tee "$data/demo-checkpoint.txt"
echo "\$ interlock audit verify --data $data --checkpoint $data/demo-checkpoint.txt"
"$interlock" audit verify --data "$data" --checkpoint "$data/demo-checkpoint.txt"
echo "\$ interlock audit prove --data $data --index 0"
"$interlock" audit prove --data "$data" --index 0

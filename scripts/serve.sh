#!/usr/bin/env bash
# The main job: installs dependencies, builds Interlock, writes the default
# governance directory (./governance) if there is none, and runs
# `interlock serve` on the embedded SQLite store (./.interlock) until stopped.
#   scripts/serve.sh [--listen HOST:PORT] [other `interlock serve` flags]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release >/dev/null
interlock=build/release/interlock
governance="${INTERLOCK_GOVERNANCE:-governance}"
data="${INTERLOCK_DATA:-.interlock}"

[ -d "$governance" ] || "$interlock" init "$governance" >/dev/null
"$interlock" check "$governance"
exec "$interlock" serve --governance "$governance" --data "$data" "$@"

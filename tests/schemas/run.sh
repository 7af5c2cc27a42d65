#!/usr/bin/env bash
# Validates the real binary's SARIF report against the official SARIF
# 2.1.0 JSON schema (the npm package @microsoft/jest-sarif ships it) with
# ajv, under Node's built-in test runner.
#
#   bash tests/schemas/run.sh PATH_TO_INTERLOCK_BINARY
#
# Needs the Debian package nodejs (with npm); installs the locked packages
# with `npm ci` when node_modules is missing or stale. Exits non-zero on
# any failure. OSCAL and OCSF have no schema package on the registries the
# project uses: src/compliance/report_schema_test.cc checks them against
# the rules of their specifications.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 1 ]; then
  echo "usage: bash tests/schemas/run.sh PATH_TO_INTERLOCK_BINARY" >&2
  exit 2
fi
bin="$(realpath "$1")"
if [ ! -x "$bin" ]; then
  echo "run.sh: $1 is not an executable interlock binary" >&2
  exit 2
fi
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (apt-get install nodejs npm)" >&2; exit 2; }
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"

stamp="$here/node_modules/.schemas-installed"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1) node-$node_major"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "run.sh: npm ci in tests/schemas"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi

cd "$here"
INTERLOCK_BIN="$bin" timeout 300 node --test --test-reporter=spec ./*.test.mjs

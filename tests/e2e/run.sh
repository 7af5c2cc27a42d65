#!/usr/bin/env bash
# End-to-end browser tests of the dashboard: headless Debian Chromium driven
# by playwright-core (Node's built-in test runner) against real
# `interlock serve` processes on loopback.
#
#   bash tests/e2e/run.sh PATH_TO_INTERLOCK_BINARY [ARTIFACT_DIR]
#
# ARTIFACT_DIR (default build/e2e-artifacts) receives full-page screenshots
# named <test>--<step number>-<step>.png, and *-FAILED-*.png for a failing
# test. Exits non-zero on any failure.
# Needs the Debian packages chromium and nodejs (Node >= 20, with npm);
# installs playwright-core with `npm ci` when node_modules is missing or
# stale. Environment: CHROMIUM_PATH (default /usr/bin/chromium),
# E2E_KEEP_TMP=1 keeps each server's temporary directory,
# E2E_UI_TIMEOUT_MS (default 10000) bounds each wait in the browser.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash tests/e2e/run.sh PATH_TO_INTERLOCK_BINARY [ARTIFACT_DIR]" >&2
  exit 2
fi
bin="$(realpath "$1")"
if [ ! -x "$bin" ]; then
  echo "run.sh: $1 is not an executable interlock binary" >&2
  exit 2
fi
artifacts="${2:-$repo/build/e2e-artifacts}"
mkdir -p "$artifacts"
artifacts="$(realpath "$artifacts")"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "run.sh: no Chromium at $chromium (apt-get install chromium)" >&2
  exit 2
fi
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (apt-get install nodejs npm)" >&2; exit 2; }
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "run.sh: Node $(node --version) is too old: playwright-core needs Node 20 or later" >&2
  exit 2
fi

# npm ci when node_modules is missing or was installed from another lock
# file (or by another Node).
stamp="$here/node_modules/.e2e-installed"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1) node-$node_major"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "run.sh: npm ci in tests/e2e"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi

# Screenshots of an earlier run would be mistaken for this one's.
find "$artifacts" -maxdepth 1 -type f -name '*--[0-9][0-9]-*.png' -delete

echo "run.sh: $("$chromium" --version 2>/dev/null), node $(node --version), interlock at $bin"
cd "$here"
status=0
INTERLOCK_BIN="$bin" E2E_ARTIFACTS="$artifacts" CHROMIUM_PATH="$chromium" \
  timeout 600 node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs || status=$?
shots="$(find "$artifacts" -maxdepth 1 -type f -name '*.png' | wc -l)"
echo "run.sh: $shots screenshots in $artifacts"
if [ "$status" -ne 0 ]; then
  echo "run.sh: end-to-end tests FAILED (exit $status)" >&2
  exit 1
fi
echo "run.sh: end-to-end tests passed"

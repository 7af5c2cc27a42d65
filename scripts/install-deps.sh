#!/usr/bin/env bash
# Installs everything Interlock needs to build, test and fuzz, from Debian
# bookworm packages. Safe to run again: it installs only what is missing.
#   scripts/install-deps.sh          build + test dependencies (Node.js packages
#                                    for the browser tests come from npm, in
#                                    tests/e2e/run.sh)
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libyaml-dev libssl-dev libsqlite3-dev openssl libfmt-dev nlohmann-json3-dev libcli11-dev
  libboost-dev                  # Beast and Asio (HTTP)
  libcurl4-openssl-dev          # SMTP (e-mail notifications)
  libvectorscan-dev libre2-dev libtomlplusplus-dev  # the scanners (src/scan)
  wrk curl                      # bench/load.sh
  prometheus                    # tests/prometheus_source_test.cc runs its own, on a free port
  libgtest-dev libbenchmark-dev
  clang-19 libclang-rt-19-dev   # libFuzzer targets
  clang-tidy-22 clang-format    # lint (scripts/lint.sh)
  chromium                      # dashboard browser tests (tests/e2e)
)
# Node.js and npm run the browser tests' driver (playwright-core, from npm).
# The machine's own Node.js is used when there is one; otherwise Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"

#!/usr/bin/env bash
# Crash soak of the audit trail: the AuditCrash test for many more rounds.
#   scripts/soak-audit.sh                 500 rounds
#   ROUNDS=5000 scripts/soak-audit.sh     more
#   SEED=1234 scripts/soak-audit.sh       repeat the kill delays of a failed run
# Builds the ASan + UBSan flavour, then runs tests/audit_crash_test.cc: each
# round a child process appends from several threads and is killed with
# SIGKILL at a random moment; the log is reopened, every acknowledged record
# must be there and the log must verify. The rounds share one data directory;
# at the end the real binary verifies it too (`interlock audit verify`).
# The directory is kept when a round fails, and its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-500}"

bash scripts/build.sh asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

dir="$(mktemp -d "${TMPDIR:-/tmp}/interlock-soak-XXXXXX")"
export INTERLOCK_CRASH_ROUNDS="$rounds" INTERLOCK_CRASH_DIR="$dir/data"
if [ -n "${SEED:-}" ]; then export INTERLOCK_CRASH_SEED="$SEED"; fi

echo "== $rounds crash rounds in $dir/data"
if ! build/asan/interlock_tests --gtest_filter='AuditCrash.*' --gtest_brief=1; then
  echo "soak-audit.sh: FAILED; the log is kept in $dir/data" >&2
  exit 1
fi

echo "== interlock audit verify"
# The key every round of the test opens the log with (kMasterKey there).
if ! INTERLOCK_MASTER_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
  build/asan/interlock audit verify --data "$dir/data" --quiet; then
  echo "soak-audit.sh: FAILED; the log is kept in $dir/data" >&2
  exit 1
fi
rm -rf "$dir"
echo "soak-audit.sh: $rounds rounds passed"

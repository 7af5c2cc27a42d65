#!/usr/bin/env bash
# Load on the gate: wrk against POST /v1/decisions of a release
# `interlock serve` on loopback, every decision durable in the audit log.
# Prints throughput, p50/p90/p99 latency, the group-commit batch size, and
# checks that the audit log holds one record per answered decision.
#   bench/load.sh [--seconds N] [--connections C] [--threads T] [--soak]
# --soak runs for 10 minutes (unless --seconds says otherwise) and samples
# the server's resident memory every 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
connections=64
threads=2
soak=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --soak) soak=1; [ "$seconds" = 30 ] && seconds=600; shift ;;
    *) echo "load.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done

command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
bash scripts/build.sh release >/dev/null
interlock="$PWD/build/release/interlock"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export INTERLOCK_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$interlock" init "$work/governance" >/dev/null
token=$("$interlock" token create --governance "$work/governance" --data "$work/data" \
          --principal alice | awk 'END {print $NF}')
"$interlock" serve --governance "$work/governance" --data "$work/data" \
  --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/serve.log" && break
  sleep 0.1
done
url=$(grep -o "http://[0-9.:]*" "$work/serve.log" | head -1)
[ -n "$url" ] || { cat "$work/serve.log"; exit 1; }
metric() { curl -s -H "Authorization: Bearer $token" "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
size_before=$(metric interlock_audit_size)
commits_before=$(metric interlock_audit_commits_total)
records_before=$(metric interlock_audit_committed_records_total)

rss() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
if [ "$soak" = 1 ]; then
  ( for _ in $(seq $((seconds / 30))); do
      sleep 30; echo "soak: $(date +%T) server RSS $(rss) KiB"
    done ) &
  sampler=$!
fi
echo "load: wrk -t$threads -c$connections -d${seconds}s $url/v1/decisions (server RSS $(rss) KiB)"
INTERLOCK_TOKEN=$token wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency \
  -s bench/decisions.lua "$url/v1/decisions" | grep "^load:"
[ "$soak" = 1 ] && wait "$sampler"

size_after=$(metric interlock_audit_size)
commits=$(( $(metric interlock_audit_commits_total) - commits_before ))
records=$(( $(metric interlock_audit_committed_records_total) - records_before ))
allowed=$(metric 'interlock_decisions_total{outcome="allow"}')
failures=$(metric interlock_decision_audit_failures_total)
echo "load: group commit: $records records in $commits transactions, mean batch $(( records / (commits > 0 ? commits : 1) ))"
echo "load: decisions allowed $allowed, audit failures $failures, audit records added $(( size_after - size_before ))"
echo "load: server RSS at the end $(rss) KiB"
if [ $(( size_after - size_before )) -lt "$allowed" ]; then
  echo "load: FAIL: fewer audit records than answered decisions" >&2
  exit 1
fi

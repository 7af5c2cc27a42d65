#!/usr/bin/env bash
# Load on the gate: wrk against a release `interlock serve` on loopback,
# every decision durable in the audit log.
#
#   bench/load.sh [--seconds N] [--connections C] [--threads T] [--soak]
#   bench/load.sh --stop [--seconds N] [--connections C] [--threads T]
#
# The default run drives GET /healthz, then POST /v1/decisions, for N
# seconds each against the same server, and prints each one's throughput
# and latency, the ratio of decisions to /healthz answers (the gate's cost
# over the HTTP stack's own), the group-commit batch size, and checks that
# the audit log holds one record per answered decision.
#
# --stop measures how long the emergency stop takes to act under load: 300
# approvals pending, 8 clients listing them in a loop and wrk driving
# decisions, while the stop is activated and lifted (two signatures) again
# and again; it prints the activation latency's p50, p99 and maximum as a
# client sees it (curl's total time).
#
# --soak runs for 10 minutes (unless --seconds says otherwise) and samples
# the server's resident memory every 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
connections=64
threads=2
soak=0
mode=gate
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --soak) soak=1; [ "$seconds" = 30 ] && seconds=600; shift ;;
    --stop) mode=stop; shift ;;
    *) echo "load.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done

command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
bash scripts/build.sh release interlock >/dev/null
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
token_for() {
  "$interlock" token create --governance "$work/governance" --data "$work/data" \
    --principal "$1" | awk 'END {print $NF}'
}
token=$(token_for alice)
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
rss() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
# Microseconds of server CPU per answer: ticks before, ticks after, answers.
cpu_per() { awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" \
  'BEGIN {printf "%.1f", (n > 0 ? (b - a) * 1e6 / hz / n : 0)}'; }
# The request count in a wrk script's throughput line.
count() { sed -n 's/^[a-z]*: \([0-9]*\) requests.*/\1/p' "$1" | head -1; }
# The figure after "= " in a wrk script's throughput line, and after "p99 ".
rate() { sed -n 's/.*= \([0-9]*\) .*/\1/p' "$1" | head -1; }
p99() { sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$1" | head -1; }

decisions() {  # seconds, output file
  INTERLOCK_TOKEN=$token wrk -t"$threads" -c"$connections" -d"$1s" --latency \
    -s bench/decisions.lua "$url/v1/decisions" | grep "^load:" >"$2"
}

# Prints the nearest-rank percentiles of the numbers (seconds) in a file, in ms.
percentiles() {
  sort -g "$1" | awk '{v[NR] = $1 * 1000}
    function rank(p) { r = int((p * NR + 99) / 100); return v[r < 1 ? 1 : r] }
    END { printf "%d samples, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", NR, rank(50), rank(99), v[NR] }'
}

if [ "$mode" = stop ]; then
  carol=$(token_for carol)  # on-call-engineer: activates
  dave=$(token_for dave)    # engineering-lead: signs the deactivation
  erin=$(token_for erin)    # security-lead: signs the deactivation
  echo "stop: opening 300 approvals"
  for i in $(seq 300); do
    curl -sf -o /dev/null -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
      -d "{\"change\":{\"type\":\"code\",\"environment\":\"production\",\"service\":\"api\",
           \"version\":\"1.0.$i\",\"previous_version\":\"1.0.0\"},
           \"checks\":{\"tests_passed\":true,\"security_scan\":{\"passed\":true}}}" \
      "$url/v1/decisions"
  done
  INTERLOCK_LIST_TOKEN=$dave wrk -t2 -c8 -d"${seconds}s" -s bench/approvals.lua \
    "$url/v1/approvals" | grep "^listing:" >"$work/listing.out" &
  lister=$!
  decisions "$seconds" "$work/decisions.out" &
  driver=$!
  stop() {  # token, body: prints curl's total time; fails unless 200
    curl -s -o "$work/stop.json" -w '%{http_code} %{time_total}\n' \
      -H "Authorization: Bearer $1" -H "Content-Type: application/json" -d "$2" \
      "$url/api/emergency-stop" >"$work/stop.status"
    read -r code time <"$work/stop.status"
    [ "$code" = 200 ] || { echo "stop: HTTP $code: $(cat "$work/stop.json")" >&2; return 1; }
    echo "$time"
  }
  sign='"post_incident_review":"held","root_cause":"load","prevention_measures":"none"'
  sleep 1
  start=$SECONDS
  : >"$work/activations"
  while [ $((SECONDS - start)) -lt $((seconds - 3)) ]; do
    stop "$carol" '{"action":"activate","reason":"stop latency bench"}' >>"$work/activations"
    stop "$dave" "{\"action\":\"deactivate\",$sign}" >/dev/null
    stop "$erin" "{\"action\":\"deactivate\",$sign}" >/dev/null
    sleep 0.1
  done
  wait "$lister" "$driver"
  cat "$work/listing.out" "$work/decisions.out"
  echo "stop: activation latency under load: $(percentiles "$work/activations")"
  exit 0
fi

size_before=$(metric interlock_audit_size)
commits_before=$(metric interlock_audit_commits_total)
records_before=$(metric interlock_audit_committed_records_total)

if [ "$soak" = 1 ]; then
  ( for _ in $(seq $((seconds / 30))); do
      sleep 30; echo "soak: $(date +%T) server RSS $(rss) KiB"
    done ) &
  sampler=$!
fi
if [ "$soak" = 0 ]; then
  echo "load: wrk -t$threads -c$connections -d${seconds}s $url/healthz"
  ticks=$(cpu_ticks)
  wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s bench/healthz.lua \
    "$url/healthz" | grep "^healthz:" | tee "$work/healthz.out"
  echo "healthz: server CPU $(cpu_per "$ticks" "$(cpu_ticks)" "$(count "$work/healthz.out")") µs per answer"
fi
echo "load: wrk -t$threads -c$connections -d${seconds}s $url/v1/decisions (server RSS $(rss) KiB)"
ticks=$(cpu_ticks)
decisions "$seconds" "$work/decisions.out"
cat "$work/decisions.out"
echo "load: server CPU $(cpu_per "$ticks" "$(cpu_ticks)" "$(count "$work/decisions.out")") µs per decision"
[ "$soak" = 1 ] && wait "$sampler"
if [ "$soak" = 0 ]; then
  echo "load: decisions/s over /healthz answers/s: $(awk -v d="$(rate "$work/decisions.out")" \
    -v h="$(rate "$work/healthz.out")" 'BEGIN {printf "%.0f %%", 100 * d / h}'), decisions p99 $(p99 "$work/decisions.out") ms"
fi

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

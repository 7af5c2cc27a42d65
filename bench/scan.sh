#!/usr/bin/env bash
# The scanners' benchmark: throughput of a release `interlock scan secrets`
# over a generated repository and of `interlock scan pii` over a generated
# log, secretlint (npm) on the same files in the same run, and precision and
# recall over the labelled corpora; then a table of each figure against its
# goal.
#
#   bench/scan.sh [--mb N] [--interlock PATH] [--bench-dir DIR] [--work DIR]
#                 [--subset-mb N] [--secretlint-budget SECONDS] [--no-secretlint]
#
#   --mb N            size of the repository and of the log, in MiB (default 1024)
#   --interlock PATH  the binary to measure (default build/release/interlock)
#   --bench-dir DIR   where secrets_bench, pii_bench and corpus_bench are
#                     (default build/release)
#   --work DIR        where to write the inputs (default: a new temporary
#                     folder, removed at the end); needs 2 x N MiB free.
#                     Inputs already there (DIR/repo, DIR/app.log) are
#                     reused as they are, whatever their size, and kept
#   --subset-mb N     the size of the subset secretlint runs on when the
#                     whole repository would take it longer than the budget
#                     (default 64)
#   --secretlint-budget SECONDS   (default 900)
#   --no-secretlint   skip secretlint (and the ratio)
#
# It builds nothing: build first with
#   scripts/build.sh release interlock secrets_bench pii_bench corpus_bench
#
# What it does, in order:
#  1. Writes the inputs with a fixed seed, so every run scans the same bytes:
#     `secrets_bench --write=DIR` (mixed source in seven languages,
#     configuration, Markdown, lock files, minified JavaScript, a sprinkling
#     of credentials among many look-alikes; bench/source_tree.h) and
#     `pii_bench --write=FILE` (application logs, JSON lines and access
#     logs, PII on about one line in twenty).
#  2. Reads every input once (cat > /dev/null) so that the page cache holds
#     it: the figures are the scanners', not the disk's. Then times
#     `interlock scan secrets DIR --format json` and `interlock scan pii FILE
#     --format json` (each with its default of 2 threads) with bash's `time`
#     (wall clock, and user + system CPU), and prints MB/s (MB = 10^6 bytes).
#  3. Installs secretlint and its recommended preset from npm into a
#     temporary prefix, times it on samples of about 8 and 32 MiB to
#     estimate the whole repository (its time grows faster than the input), and runs it on the whole repository if that fits the
#     budget, else on a subset: every k-th file in byte order of their paths
#     until they hold --subset-mb MiB, hard-linked into a folder of their own (the
#     sample is chosen the same way). interlock is timed on exactly the
#     files secretlint is, and the ratio of their MB/s is printed.
#  4. Runs corpus_bench: precision and recall over the labelled corpora of
#     src/scan/corpus.h (the data the tests hold to 95 %).
#  5. Prints the table, and the load average before and after (the figures
#     are only as good as the machine was idle).
# Goals on 2 cores: secrets >= 500 MB/s and >= 50 x secretlint; PII >= 300
# MB/s; precision and recall >= 95 % on both corpora.
set -euo pipefail
cd "$(dirname "$0")/.."

mb=1024
interlock=build/release/interlock
bench_dir=build/release
work=""
subset_mb=64
budget=900
secretlint=1
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) mb="$2"; shift 2 ;;
    --interlock) interlock="$2"; shift 2 ;;
    --bench-dir) bench_dir="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --subset-mb) subset_mb="$2"; shift 2 ;;
    --secretlint-budget) budget="$2"; shift 2 ;;
    --no-secretlint) secretlint=0; shift ;;
    *) echo "scan.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
for n in "$mb" "$subset_mb" "$budget"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "scan.sh: '$n' is not a positive whole number" >&2; exit 2; }
done
for bin in "$interlock" "$bench_dir/secrets_bench" "$bench_dir/pii_bench" "$bench_dir/corpus_bench"; do
  if [ ! -x "$bin" ]; then
    echo "scan.sh: $bin is missing; build it with" >&2
    echo "  scripts/build.sh release interlock secrets_bench pii_bench corpus_bench" >&2
    exit 1
  fi
done
interlock=$(realpath "$interlock")
bench_dir=$(realpath "$bench_dir")
if [ "$secretlint" = 1 ] && ! command -v npm >/dev/null; then
  echo "scan.sh: npm is not installed (needed for secretlint; --no-secretlint skips it)" >&2
  exit 1
fi

if [ -n "$work" ]; then
  mkdir -p "$work"
  work=$(realpath "$work")
  remove_work=0
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/scan-bench.XXXXXX")
  remove_work=1
fi
cleanup() { [ "$remove_work" = 1 ] && rm -rf "$work"; return 0; }
trap cleanup EXIT

export INTERLOCK_SCAN_KEY=scan-bench-key-0123456789abcdef
load() { cut -d' ' -f1-3 /proc/loadavg; }
# Sum of the sizes of the files below $1.
bytes_of() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.1f", (s > 0 ? b / 1e6 / s : 0)}'; }

load_before=$(load)
echo "scan bench: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load average (1, 5, 15 min) before: $load_before"
echo "interlock: $interlock"
echo

# 1. Inputs.
tree="$work/repo"
log="$work/app.log"
[ -e "$tree" ] || "$bench_dir/secrets_bench" --write="$tree" --mb="$mb" >/dev/null
[ -e "$log" ] || "$bench_dir/pii_bench" --write="$log" --mb="$mb" >/dev/null
tree_bytes=$(bytes_of "$tree")
tree_files=$(find "$tree" -type f | wc -l)
log_bytes=$(stat -c %s "$log")
log_lines=$(wc -l <"$log")
echo "inputs (seeded): $tree_files files, $tree_bytes bytes in $tree"
echo "                 $log_lines lines, $log_bytes bytes in $log"

# 2. Warm the page cache, then time the scans.
find "$tree" -type f -print0 | xargs -0 cat >/dev/null
cat "$log" >/dev/null
echo "page cache warmed (every input read once): the disk is not measured"
echo

# Runs a command with its output in $work/NAME.out and .err, and sets
# wall, cpu (user + system seconds) and rc. Exit 0 and 1 (findings) are
# success; anything else stops the run.
timed() {
  local name="$1"
  shift
  local TIMEFORMAT='%3R %3U %3S'
  rc=0
  { time "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?; } 2>"$work/$name.time"
  if [ "$rc" -gt 1 ]; then
    echo "scan.sh: $name failed (exit $rc):" >&2
    cat "$work/$name.err" >&2
    exit 1
  fi
  read -r wall user sys <"$work/$name.time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
}
# The number after "KEY": in a JSON report: its first (or with last, its
# last) occurrence.
json_count() {
  grep -o "\"$2\": *[0-9][0-9]*" "$1" | if [ "${3:-}" = last ]; then tail -1; else head -1; fi |
    grep -o '[0-9]*$'
}

rows=()
# case bytes seconds value goal met
row() { rows+=("$(printf '%s|%s|%s|%s|%s|%s' "$@")"); }
met() { awk -v v="$1" -v g="$2" 'BEGIN {print (v >= g ? "met" : "NOT met")}'; }

timed secrets "$interlock" scan secrets "$tree" --format json
secrets_wall=$wall
scanned=$(json_count "$work/secrets.out" bytes_scanned)
secrets_rate=$(mbps "$scanned" "$wall")
echo "interlock scan secrets: $(json_count "$work/secrets.out" files_scanned) files," \
  "$scanned bytes, $(json_count "$work/secrets.out" findings) findings;" \
  "${wall} s wall, ${cpu} s CPU: $secrets_rate MB/s"
row "secrets, interlock, whole repository" "$scanned" "$wall" "$secrets_rate MB/s" ">= 500 MB/s" \
  "$(met "$secrets_rate" 500)"

timed pii "$interlock" scan pii "$log" --format json
pii_rate=$(mbps "$log_bytes" "$wall")
echo "interlock scan pii: $log_bytes bytes, $(json_count "$work/pii.out" total last) values;" \
  "${wall} s wall, ${cpu} s CPU: $pii_rate MB/s"
row "pii, interlock, log" "$log_bytes" "$wall" "$pii_rate MB/s" ">= 300 MB/s" "$(met "$pii_rate" 300)"
echo

# 3. secretlint.
if [ "$secretlint" = 1 ]; then
  sl="$work/secretlint"
  mkdir -p "$sl"
  npm install --prefix "$sl" --no-audit --no-fund --loglevel=error \
    secretlint @secretlint/secretlint-rule-preset-recommend >"$work/npm.log" 2>&1 ||
    { cat "$work/npm.log" >&2; echo "scan.sh: npm install secretlint failed" >&2; exit 1; }
  echo '{"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]}' >"$sl/.secretlintrc.json"
  sl_version=$(node -p "require('$sl/node_modules/secretlint/package.json').version")
  preset_version=$(node -p \
    "require('$sl/node_modules/@secretlint/secretlint-rule-preset-recommend/package.json').version")
  echo "secretlint $sl_version, @secretlint/secretlint-rule-preset-recommend $preset_version" \
    "(node $(node --version)), installed in $sl"

  # Every k-th file of the repository in byte order of their paths until
  # they hold $2 MiB, k chosen so that they reach it before the end (so the
  # sample has the whole repository's mix of kinds), hard-linked (same
  # bytes, same cached pages) into $1.
  subset() {
    local dir="$1" limit=$(($2 << 20)) total=0 i=0 size path stride
    stride=$((tree_bytes / limit - 1))
    [ "$stride" -ge 1 ] || stride=1
    rm -rf "$dir"
    mkdir -p "$dir"
    while IFS=' ' read -r size path; do
      i=$((i + 1))
      [ $(((i - 1) % stride)) = 0 ] || continue
      mkdir -p "$dir/$(dirname "$path")"
      ln "$tree/$path" "$dir/$path"
      total=$((total + size))
      [ "$total" -ge "$limit" ] && break
    done < <(cd "$tree" && find . -type f -printf '%s %P\n' | LC_ALL=C sort -k2)
    return 0
  }
  # secretlint over every file below $2 (from that folder, as
  # `secretlint "**/*"`), its findings one a line.
  run_secretlint() {
    local name="$1" dir="$2"
    (cd "$dir" && timed "$name" "$sl/node_modules/.bin/secretlint" "**/*" \
      --secretlintrc "$sl/.secretlintrc.json" --format unix --no-color && echo "$wall $cpu" \
      >"$work/$name.result")
    read -r wall cpu <"$work/$name.result"
  }

  # Two samples, of about 8 and 32 MiB: secretlint's time grows faster
  # than the input, so the estimate extrapolates the growth between them
  # (time ~ bytes^e, e at least 1) rather than a rate.
  declare -A probe_bytes probe_wall
  for probe in 8 32; do
    subset "$work/probe-$probe" "$probe"
    run_secretlint "probe-$probe" "$work/probe-$probe"
    probe_bytes[$probe]=$(bytes_of "$work/probe-$probe")
    probe_wall[$probe]=$wall
    echo "secretlint on a sample of $(find "$work/probe-$probe" -type f | wc -l) files," \
      "${probe_bytes[$probe]} bytes: ${wall} s, $(mbps "${probe_bytes[$probe]}" "$wall") MB/s"
  done
  read -r exponent estimate < <(awk -v b1="${probe_bytes[8]}" -v t1="${probe_wall[8]}" \
    -v b2="${probe_bytes[32]}" -v t2="${probe_wall[32]}" -v b="$tree_bytes" 'BEGIN {
      e = (t1 > 0 && t2 > t1 && b2 > b1) ? log(t2 / t1) / log(b2 / b1) : 1
      if (e < 1) e = 1
      printf "%.2f %d\n", e, t2 * exp(e * log(b / b2))
    }')
  echo "secretlint's time grows as bytes^$exponent between the samples:" \
    "the whole repository would take about $estimate s"
  if [ "$estimate" -le "$budget" ]; then
    target="$tree"
    what="whole repository"
  else
    subset "$work/subset" "$subset_mb"
    target="$work/subset"
    what="subset of $(find "$target" -type f | wc -l) files"
    echo "over the budget of $budget s: secretlint and interlock both scan the same subset," \
      "every k-th file (in byte order of their paths) until they hold $subset_mb MiB"
  fi
  target_bytes=$(bytes_of "$target")
  target_files=$(find "$target" -type f | wc -l)
  find "$target" -type f -print0 | xargs -0 cat >/dev/null
  run_secretlint secretlint "$target"
  sl_wall=$wall
  sl_rate=$(mbps "$target_bytes" "$wall")
  sl_findings=$(grep -c ' \[Error/' "$work/secretlint.out" || true)
  echo "secretlint on the $what: $target_files files, $target_bytes bytes, $sl_findings findings;" \
    "${wall} s wall, ${cpu} s CPU: $sl_rate MB/s"
  if [ "$target" = "$tree" ]; then
    il_wall=$secrets_wall
  else
    timed secrets-subset "$interlock" scan secrets "$target" --format json
    il_wall=$wall
    echo "interlock scan secrets on the $what: $(json_count "$work/secrets-subset.out" files_scanned)" \
      "files, $(json_count "$work/secrets-subset.out" findings) findings;" \
      "${wall} s wall, ${cpu} s CPU: $(mbps "$target_bytes" "$wall") MB/s"
  fi
  ratio=$(awk -v a="$sl_wall" -v b="$il_wall" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}')
  echo "interlock is ${ratio} x secretlint's throughput on identical files"
  [ "$target" = "$tree" ] ||
    row "secrets, interlock, $what" "$target_bytes" "$il_wall" "$(mbps "$target_bytes" "$il_wall") MB/s" "" ""
  row "secrets, secretlint $sl_version, $what" "$target_bytes" "$sl_wall" "$sl_rate MB/s" "" ""
  row "secrets, interlock / secretlint" "" "" "${ratio} x" ">= 50 x" "$(met "$ratio" 50)"
  echo
fi

# 4. Precision and recall over the labelled corpora.
corpus_rc=0
"$bench_dir/corpus_bench" >"$work/corpus.out" || corpus_rc=$?
cat "$work/corpus.out"
[ "$corpus_rc" -le 1 ] || { echo "scan.sh: corpus_bench failed (exit $corpus_rc)" >&2; exit 1; }
for scanner in secrets pii; do
  line=$(grep "^$scanner " "$work/corpus.out")
  precision=$(sed -n 's/.*precision \([0-9.]*\) %.*/\1/p' <<<"$line")
  recall=$(sed -n 's/.*recall \([0-9.]*\) %.*/\1/p' <<<"$line")
  samples=$(sed -n 's/.*samples \([0-9]*\) .*/\1/p' <<<"$line")
  row "$scanner corpus ($samples samples), precision" "" "" "$precision %" ">= 95 %" "$(met "$precision" 95)"
  row "$scanner corpus ($samples samples), recall" "" "" "$recall %" ">= 95 %" "$(met "$recall" 95)"
done
echo

# 5. The table.
load_after=$(load)
printf '%-48s %12s %9s %12s %12s %s\n' case bytes seconds value goal result
for r in "${rows[@]}"; do
  IFS='|' read -r c b s v g m <<<"$r"
  printf '%-48s %12s %9s %12s %12s %s\n' "$c" "$b" "$s" "$v" "$g" "$m"
done
echo
echo "load average (1, 5, 15 min) before: $load_before; after: $load_after ($(nproc) cores)"

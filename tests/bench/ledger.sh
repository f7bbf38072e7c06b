#!/usr/bin/env bash
# Ledger benchmark: appends per second (one process per append, and batched in one
# transaction) and verify speed over a large ledger. Prints figures for
# docs/benchmarks.md. Usage: tests/bench/ledger.sh [ENTRIES]   (default 1000000)
# CUSTODY_BIN=/path/to/custody runs another build (an earlier version, to compare).
set -euo pipefail
cd "$(dirname "$0")/../.."
entries=${1:-1000000}
if [ -z "${CUSTODY_BIN:-}" ]; then
  cargo build --release --locked -q
fi
bin=${CUSTODY_BIN:-$PWD/target/release/custody}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CUSTODY_HOME=$work/home CUSTODY_ACTOR=bench
$bin init --org bench --station bench >/dev/null

now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }

# One append per process: what a clerk's `custody note` costs, process start included.
n=300
t0=$(now)
for ((i = 0; i < n; i++)); do $bin note "single append $i" >/dev/null 2>&1; done
t1=$(now)
single=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "one append per process:   $n appends in ${single}s = $(rate $n "$single") appends/s"

# Batched: many appends in one transaction (custody note --file).
seq 1 "$entries" | sed 's/^/batched note /' >"$work/lines.txt"
batch=$((entries < 250000 ? entries : 250000))
t0=$(now)
done_=0
while ((done_ < entries)); do
  take=$((entries - done_ < batch ? entries - done_ : batch))
  sed -n "$((done_ + 1)),$((done_ + take))p" "$work/lines.txt" >"$work/chunk.txt"
  $bin note --file "$work/chunk.txt" >/dev/null 2>&1
  done_=$((done_ + take))
done
t1=$(now)
batched=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "batched in transactions of $batch: $entries appends in ${batched}s = $(rate "$entries" "$batched") appends/s"

total=$($bin ledger verify --json | sed -n 's/.*"entries": \([0-9]*\).*/\1/p')
best=""
for run in 1 2 3; do
  t0=$(now)
  $bin ledger verify >/dev/null
  t1=$(now)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  echo "verify run $run: $total entries in ${secs}s = $(rate "$total" "$secs") entries/s"
  best=$(awk -v a="${best:-999999}" -v b="$secs" 'BEGIN { print (b < a) ? b : a }')
done
echo "verify best: $(rate "$total" "$best") entries/s (aim: >= 500000)"
echo "ledger size: $(du -h "$CUSTODY_HOME/ledger.db" | cut -f1)"

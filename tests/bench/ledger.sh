#!/usr/bin/env bash
# Ledger benchmark: appends per second (one process per append, appenders that stay
# open with `note --follow`, and batched in one transaction) and verify speed over a large ledger, for this build and, when
# BEFORE_BIN names one, an earlier build in the same run, with ratios (after/before).
# Prints figures for docs/benchmarks.md.
#
#   tests/bench/ledger.sh [ENTRIES]          (default 1000000)
#   BEFORE_BIN=/path/to/old/custody tests/bench/ledger.sh 1000000
#   CUSTODY_BIN=/path/to/custody runs another build as "after".
#   POSTGRES=1 tests/bench/ledger.sh 100000   also runs this build on PostgreSQL (a
#     throwaway server in the temporary folder, run as the postgres user, on
#     127.0.0.1), beside SQLite in the same run, with ratios (PostgreSQL / SQLite),
#     and 12 processes appending at once on each backend (on PostgreSQL over three
#     stations: the first, and two that `custody station join` adds). The SQLite
#     ledger of ENTRIES is then moved into PostgreSQL with `custody ledger migrate`
#     and verified there: the same chain on both backends. PG_BATCHED=N batches only
#     N appends on PostgreSQL (a million batched appends there take about an hour).
#
# Every entry of this build is signed by its actor's personal key (issue 13); the
# passphrase comes from a file in the throwaway folder, as a script's would, and the
# key is unlocked once (`custody unlock`) before the one-append-per-process loop, as a
# person at a desk would.
set -euo pipefail
cd "$(dirname "$0")/../.."
entries=${1:-1000000}
if [ -z "${CUSTODY_BIN:-}" ]; then
  cargo build --release --locked -q
fi
after=${CUSTODY_BIN:-$PWD/target/release/custody}
before=${BEFORE_BIN:-}
work=$(mktemp -d)
pg_stop() { :; }
trap 'pg_stop; rm -rf "$work"' EXIT
init_args=()
if [ -n "${POSTGRES:-}" ]; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  runas=()
  [ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
  mkdir -p "$work/pg" && chmod 711 "$work"
  [ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${runas[@]}" "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync >/dev/null
  "${runas[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
    -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
  pg_stop() { "${runas[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" stop -m fast >/dev/null 2>&1 || true; }
  psql_() { "$pgbin/psql" -X -q -h "$work/pg" -p "$port" -U postgres "$@"; }
  n_db=0
fi

# new_database: a fresh database with an owner and a station role; sets init_args.
new_database() {
  n_db=$((n_db + 1))
  local db=bench$n_db
  psql_ -c "CREATE ROLE ${db}_owner LOGIN PASSWORD 'o$n_db'; CREATE ROLE ${db}_station LOGIN PASSWORD 's$n_db';" \
    -c "CREATE DATABASE $db OWNER ${db}_owner"
  psql_ -d "$db" -c "REVOKE ALL ON DATABASE $db FROM PUBLIC; GRANT CONNECT, TEMPORARY ON DATABASE $db TO ${db}_station;"
  printf '127.0.0.1:%s:%s:%s:o%s\n127.0.0.1:%s:%s:%s:s%s\n' "$port" "$db" "${db}_owner" "$n_db" "$port" "$db" "${db}_station" "$n_db" >"$work/pgpass-$db"
  chmod 600 "$work/pgpass-$db"
  init_args=(--database "postgres://${db}_station@127.0.0.1:$port/$db"
    --schema-owner "postgres://${db}_owner@127.0.0.1:$port/$db" --password-file "$work/pgpass-$db")
}
export CUSTODY_ACTOR=bench XDG_CONFIG_HOME=$work/config XDG_RUNTIME_DIR=$work/run
mkdir -p "$work/run"
printf 'violet kettle harbour 1987 bench\n' >"$work/passphrase"
export CUSTODY_KEY_PASSPHRASE_FILE=$work/passphrase

now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
# pace RATE N PREFIX: N lines, one every 1/RATE s, each written as soon as it is due.
pace() {
  python3 -c 'import sys, time
rate, n, prefix = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
start = time.monotonic()
for i in range(n):
    time.sleep(max(0.0, start + i / rate - time.monotonic()))
    print(f"{prefix} {i}", flush=True)' "$@"
}
# twelve VAR N WHAT APPEND: runs `APPEND p` for p = 0..11 at once, each with the data
# home of station p mod the number of stations (homes), and sets VAR to N appends
# over the time they all took.
twelve() {
  local var=$1 n=$2 what=$3 append=$4 p t0 t1 secs
  t0=$(now)
  for ((p = 0; p < 12; p++)); do
    (export CUSTODY_HOME=${homes[p % ${#homes[@]}]}
      "$append" "$p" || echo "failed" >&2) &
  done
  wait
  t1=$(now)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  printf -v "$var" '%s' "$(rate "$n" "$secs")"
  echo "[$label] $what over ${#homes[@]} station(s): $n in ${secs}s = ${!var}/s"
}
# What each of the twelve does: 25 processes, one per append; a feed of 100 lines
# waiting; a feed of 300 lines arriving 100 a second.
one_per_process() {
  local i
  for ((i = 0; i < 25; i++)); do $bin note "concurrent $1 $i" >/dev/null 2>&1 || echo "failed" >&2; done
}
follow_waiting() { $bin note --follow <"$work/feed.txt" >/dev/null 2>&1; }
follow_paced() { pace 100 300 "paced $1" | $bin note --follow >/dev/null 2>&1; }
# verify_best TAG TOTAL VAR: `ledger verify` three times; VAR = the best rate.
verify_best() {
  local tag=$1 total=$2 best=999999 run t0 t1 secs
  for run in 1 2 3; do
    t0=$(now)
    $bin ledger verify >/dev/null
    t1=$(now)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    echo "[$tag] verify run $run: $total entries in ${secs}s = $(rate "$total" "$secs") entries/s"
    best=$(awk -v a="$best" -v b="$secs" 'BEGIN { print (b < a) ? b : a }')
  done
  printf -v "$3" '%s' "$(rate "$total" "$best")"
  echo "[$tag] verify best of 3: ${!3} entries/s"
}
seq 1 "$entries" | sed 's/^/batched note /' >"$work/lines.txt"

# measure LABEL BIN: sets single_LABEL, batched_LABEL, verify_LABEL (per second).
measure() {
  local label=$1 bin=$2
  export CUSTODY_HOME=$work/home-$label
  rm -rf "$XDG_CONFIG_HOME"
  init_args=()
  [ "$label" = postgres ] && new_database
  $bin init --org bench --station bench "${init_args[@]}" >/dev/null
  # A person at a desk unlocks once per sitting (the agent then signs): without it,
  # every command would pay scrypt to decrypt the key. Builds before personal keys
  # have no `unlock`.
  $bin unlock >/dev/null 2>&1 || true
  local homes=("$CUSTODY_HOME") s
  if [ "$label" = postgres ]; then
    for s in 2 3; do
      CUSTODY_HOME=$work/home-$label-$s $bin station join "${init_args[1]}" --station "bench-$s" \
        --password-file "${init_args[5]}" >/dev/null
      homes+=("$work/home-$label-$s")
    done
  fi
  local n=300 t0 t1 secs
  t0=$(now)
  for ((i = 0; i < n; i++)); do $bin note "single append $i" >/dev/null 2>&1; done
  t1=$(now)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  printf -v "single_$label" '%s' "$(rate $n "$secs")"
  echo "[$label] one append per process: $n in ${secs}s = $(rate $n "$secs")/s"

  # 12 processes at once, 25 appends each, one process per append; on PostgreSQL,
  # four at each of the three stations.
  twelve "concurrent_$label" 300 "12 processes at once" one_per_process

  # 12 appenders that stay open (`custody note --follow`), 100 notes waiting for each
  # (the lines that wait are recorded together, each its own entry); on PostgreSQL
  # four at each station. Then 12 feeds whose lines arrive one at a time, 100 a second
  # each (1,200/s offered in all, 300 lines each). Then one appender. (Builds before
  # --follow skip it.)
  printf -v "follow12_$label" '%s' "n/a"
  printf -v "paced12_$label" '%s' "n/a"
  printf -v "follow1_$label" '%s' "n/a"
  if $bin note --help 2>/dev/null | grep -q -- --follow; then
    seq 1 100 | sed 's/^/followed note /' >"$work/feed.txt"
    twelve "follow12_$label" 1200 "12 appenders at once (note --follow)" follow_waiting
    twelve "paced12_$label" 3600 "12 feeds offering 100 lines/s each (note --follow)" follow_paced
    seq 1 300 | sed 's/^/one follower /' >"$work/feed.txt"
    t0=$(now)
    $bin note --follow <"$work/feed.txt" >/dev/null 2>&1
    t1=$(now)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    printf -v "follow1_$label" '%s' "$(rate 300 "$secs")"
    echo "[$label] one appender (note --follow): 300 in ${secs}s = $(rate 300 "$secs")/s"
  fi

  local fill=$entries
  [ "$label" = postgres ] && fill=${PG_BATCHED:-$entries}
  local batch=$((fill < 250000 ? fill : 250000)) done_=0 take
  t0=$(now)
  while ((done_ < fill)); do
    take=$((fill - done_ < batch ? fill - done_ : batch))
    sed -n "$((done_ + 1)),$((done_ + take))p" "$work/lines.txt" >"$work/chunk.txt"
    $bin note --file "$work/chunk.txt" >/dev/null 2>&1
    done_=$((done_ + take))
  done
  t1=$(now)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  printf -v "batched_$label" '%s' "$(rate "$fill" "$secs")"
  echo "[$label] batched in transactions of $batch: $fill in ${secs}s = $(rate "$fill" "$secs")/s"

  local total
  total=$($bin ledger verify --json | sed -n 's/.*"entries": \([0-9]*\).*/\1/p')
  verify_best "$label" "$total" "verify_$label"
  printf -v "total_$label" '%s' "$total"
  [ -f "$CUSTODY_HOME/ledger.db" ] && echo "[$label] ledger $(du -h "$CUSTODY_HOME/ledger.db" | cut -f1)"
  $bin ledger verify | sed -n 's/^/['"$label"'] /p' | tail -n 3
  if [ "$label" = after ] && [ -n "${POSTGRES:-}" ]; then
    # The same chain, moved into PostgreSQL, verified there.
    new_database
    t0=$(now)
    $bin ledger migrate --to "${init_args[1]}" --schema-owner "${init_args[3]}" \
      --password-file "${init_args[5]}" >/dev/null
    t1=$(now)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    migrate_rate=$(rate "$total" "$secs")
    echo "[migrated] $total entries moved into PostgreSQL in ${secs}s = ${migrate_rate} entries/s"
    verify_best migrated "$total" verify_migrated
    migrated_total=$total
    init_args=()
  fi
  $bin lock >/dev/null 2>&1 || true
  rm -rf "$CUSTODY_HOME" "${homes[@]}"
}

if [ -n "$before" ]; then measure before "$before"; fi
measure after "$after"
if [ -n "${POSTGRES:-}" ]; then measure postgres "$after"; fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "summary ($entries entries; after = this build, signed by personal keys)"
if [ -n "$before" ]; then
  echo "one append per process: before ${single_before}/s, after ${single_after}/s, ratio $(ratio "$single_after" "$single_before") (aim >= 0.9)"
  echo "batched appends:        before ${batched_before}/s, after ${batched_after}/s, ratio $(ratio "$batched_after" "$batched_before")"
  echo "ledger verify:          before ${verify_before}/s, after ${verify_after}/s, ratio $(ratio "$verify_after" "$verify_before") (aim after >= 200000)"
else
  echo "one append per process: ${single_after}/s; batched: ${batched_after}/s; verify: ${verify_after} entries/s (aim >= 200000)"
fi
if [ -n "${POSTGRES:-}" ]; then
  echo "PostgreSQL beside SQLite (ratio = PostgreSQL / SQLite):"
  echo "  one append per process: ${single_postgres}/s vs ${single_after}/s, ratio $(ratio "$single_postgres" "$single_after")"
  echo "  12 processes at once:   ${concurrent_postgres}/s vs ${concurrent_after}/s, ratio $(ratio "$concurrent_postgres" "$concurrent_after")"
  echo "  12 appenders at once (note --follow): ${follow12_postgres}/s vs ${follow12_after}/s, ratio $(ratio "$follow12_postgres" "$follow12_after") (aim >= 500/s)"
  echo "  12 feeds, lines one at a time, 1,200/s offered: ${paced12_postgres}/s vs ${paced12_after}/s, ratio $(ratio "$paced12_postgres" "$paced12_after") (aim >= 500/s)"
  echo "  one appender (note --follow):         ${follow1_postgres}/s vs ${follow1_after}/s, ratio $(ratio "$follow1_postgres" "$follow1_after")"
  echo "  batched appends:        ${batched_postgres}/s vs ${batched_after}/s, ratio $(ratio "$batched_postgres" "$batched_after")"
  echo "  ledger verify of each one's own ledger (not the same size, so no ratio): ${verify_postgres}/s over ${total_postgres} entries vs ${verify_after}/s over ${total_after}"
  echo "  the same chain of ${migrated_total} entries, migrated: verify ${verify_migrated}/s vs ${verify_after}/s, ratio $(ratio "$verify_migrated" "$verify_after") (aim >= 0.8); migrate ${migrate_rate} entries/s"
fi

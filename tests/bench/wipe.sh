#!/usr/bin/env bash
# Wipe benchmark: custody against dd, shred and nwipe on the same loop devices, in the
# same run, on one target and on three at once. Prints MB/s per tool and the time ratio
# custody/peer, for docs/benchmarks.md.
#
# Usage (as root): tests/bench/wipe.sh [SIZE_MIB] [ROUNDS]   (default 1024 MiB, best of 2)
#
# Loop devices are attached with --direct-io=on over preallocated, fully written files
# in a temporary folder on disk (/var/tmp; never tmpfs), and detached on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}
(( size_mib % 4 == 0 )) || { echo "wipe.sh: SIZE_MIB must be a multiple of 4" >&2; exit 2; }
rounds=${2:-2}

[ "$(id -u)" -eq 0 ] || { echo "wipe.sh: needs root for loop devices" >&2; exit 2; }
if ! command -v nwipe >/dev/null 2>&1; then
  echo "wipe.sh: installing nwipe" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nwipe >/dev/null
fi

cargo build --release --locked -q -p custody
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/custody

work=$(mktemp -d /var/tmp/custody-wipe-bench.XXXXXX)
if [ "$(stat -f -c %T "$work")" = tmpfs ]; then
  echo "wipe.sh: $work is on tmpfs; the benchmark needs a disk" >&2
  exit 2
fi
devs=()
cleanup() {
  for d in "${devs[@]}"; do losetup -d "$d" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

for i in 1 2 3; do
  f=$work/disk$i.img
  fallocate -l "${size_mib}M" "$f"
  # Write every block once, so that no tool pays for converting unwritten extents.
  dd if=/dev/zero of="$f" bs=4M count=$((size_mib / 4)) oflag=direct conv=notrunc status=none
  d=$(losetup --find --show --direct-io=on "$f")
  case $d in /dev/loop*) devs+=("$d") ;; *) echo "losetup gave $d" >&2; exit 1 ;; esac
done
one=("${devs[0]}")
three=("${devs[@]}")

export CUSTODY_HOME=$work/home CUSTODY_ACTOR=bench NO_COLOR=1 XDG_CONFIG_HOME=$work/config XDG_RUNTIME_DIR=$work/run
# The first manager's personal key, for the benchmark only.
mkdir -p "$work/config" "$work/run"
echo "violet kettle harbour 1987 bench" >"$work/passphrase"
export CUSTODY_KEY_PASSPHRASE_FILE=$work/passphrase
$bin init --org bench --station bench >/dev/null

now() { date +%s.%N; }

# Each tool, given the devices as arguments; every run ends with the data on the
# device (dd and shred fsync, custody and nwipe flush each pass).
# custody's result JSON is kept: its pass start and end times give the engine's own
# time, without process start, the ledger's two fsync'd transactions and signing.
custody_zero() { $bin wipe "$@" --method zero --verify off --yes --quiet --json >"$work/last.json"; }
custody_random() { $bin wipe "$@" --method random --verify off --yes --quiet --json >"$work/last.json"; }
# pass_span: seconds from the earliest pass start to the latest pass end in last.json.
pass_span() {
  local starts ends
  starts=$(grep -o '"start": "[^"]*"' "$work/last.json" | cut -d'"' -f4 | sort | head -1)
  ends=$(grep -o '"end": "[^"]*"' "$work/last.json" | cut -d'"' -f4 | sort | tail -1)
  awk -v a="$(date -d "$starts" +%s.%N)" -v b="$(date -d "$ends" +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}
dd_zero() {
  for d in "$@"; do
    dd if=/dev/zero of="$d" bs=4M count=$((size_mib / 4)) oflag=direct conv=fsync status=none &
  done
  wait
}
shred_1() {
  for d in "$@"; do shred -n 1 "$d" & done
  wait
}
nwipe_prng() {
  nwipe --method=prng --noblank --nogui --autonuke --verify=off --nousb \
    --logfile="$work/nwipe.log" "$@" >/dev/null 2>&1
}

# best_time FUNC DEVICES...: the shortest of $rounds runs, in seconds; for custody
# also the shortest engine time, in $engine_best.
best_time() {
  local fn=$1 best="" t0 t1 t e
  shift
  engine_best=""
  for ((r = 0; r < rounds; r++)); do
    sync
    echo 3 >/proc/sys/vm/drop_caches
    t0=$(now)
    "$fn" "$@"
    t1=$(now)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
    if [[ $fn == custody_* ]]; then
      e=$(pass_span)
      if [ -z "$engine_best" ] || awk -v t="$e" -v b="$engine_best" 'BEGIN { exit !(t < b) }'; then engine_best=$e; fi
    fi
  done
  best_result=$best
}

mbps() { awk -v n="$1" -v m="$size_mib" -v t="$2" 'BEGIN { printf "%.0f", n * m * 1048576 / t / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "wipe benchmark: ${size_mib} MiB loop devices (--direct-io=on) in $work, best of $rounds"
echo "$(nproc) cores, $(uname -r), nwipe $(nwipe --version 2>/dev/null | head -1 | awk '{print $NF}')"
for n in 1 3; do
  if [ "$n" = 1 ]; then set -- "${one[@]}"; else set -- "${three[@]}"; fi
  echo
  echo "== $n target(s) at once, $((n * size_mib)) MiB in all"
  declare -A t=()
  for tool in custody_zero custody_random dd_zero shred_1 nwipe_prng; do
    best_time "$tool" "$@"
    t[$tool]=$best_result
    printf '%-16s %8.3f s  %6s MB/s' "$tool" "${t[$tool]}" "$(mbps "$n" "${t[$tool]}")"
    if [ -n "$engine_best" ]; then
      t[$tool.engine]=$engine_best
      printf '   (engine: %.3f s, %s MB/s)' "$engine_best" "$(mbps "$n" "$engine_best")"
    fi
    echo
  done
  echo "time ratios (below 1: custody faster):"
  echo "  custody zero   / dd zero       $(ratio "${t[custody_zero]}" "${t[dd_zero]}")"
  echo "  custody random / dd zero       $(ratio "${t[custody_random]}" "${t[dd_zero]}")  (aim: speed >= 0.95x dd, i.e. ratio <= 1.05)"
  echo "  custody random engine / dd     $(ratio "${t[custody_random.engine]}" "${t[dd_zero]}")  (the overwrite alone)"
  echo "  custody random / shred -n 1    $(ratio "${t[custody_random]}" "${t[shred_1]}")"
  echo "  custody random / nwipe prng    $(ratio "${t[custody_random]}" "${t[nwipe_prng]}")"
  if [ "$n" = 1 ]; then
    single_custody=${t[custody_random]} single_dd=${t[dd_zero]}
  else
    echo "scaling from 1 to 3 targets (time for 3 / time for 1; 1.00 is perfect, 3.00 is serial):"
    echo "  custody random $(ratio "${t[custody_random]}" "$single_custody")   dd zero $(ratio "${t[dd_zero]}" "$single_dd")"
  fi
  unset t
done

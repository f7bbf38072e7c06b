#!/usr/bin/env bash
# Resume benchmark (issue 18, item 1), for docs/benchmarks.md:
#
# 1. The overwrite with journaling on against the same overwrite by the binary of a
#    commit from before journaling (BASE, default 309d0d5), alternating on the same
#    loop device in the same run. Twice: over a file on disk, where every durable
#    checkpoint costs one flush of the disk's write cache, and over a file in RAM
#    (tmpfs), where a flush costs nothing and what remains is custody's own
#    journaling.
# 2. Resume against redo: a `zero` wipe of the disk-backed device is killed
#    (SIGKILL) once its journal says half of it is durably written; the time of
#    `custody wipe --resume` is compared with the time of the whole wipe.
#
# Usage (as root): tests/bench/wipe-resume.sh [SIZE_MIB] [ROUNDS]   (default 4096 MiB, best of 3)
# BASE_BIN=path skips building BASE.
#
# Loop devices are attached with --direct-io=on over preallocated, fully written
# files, and detached on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-4096}
rounds=${2:-3}
base=${BASE:-309d0d5}
(( size_mib % 4 == 0 )) || { echo "wipe-resume.sh: SIZE_MIB must be a multiple of 4" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "wipe-resume.sh: needs root for loop devices" >&2; exit 2; }

work=$(mktemp -d /var/tmp/custody-resume-bench.XXXXXX)
if [ "$(stat -f -c %T "$work")" = tmpfs ]; then
  echo "wipe-resume.sh: $work is on tmpfs; the benchmark needs a disk" >&2
  exit 2
fi
ram=$(mktemp -d /dev/shm/custody-resume-bench.XXXXXX)
devs=()
cleanup() {
  for d in "${devs[@]}"; do losetup -d "$d" 2>/dev/null || true; done
  git worktree remove --force "$work/base-src" 2>/dev/null || true
  rm -rf "$work" "$ram"
}
trap cleanup EXIT INT TERM

cargo build --release --locked -q -p custody
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/custody
if [ -n "${BASE_BIN:-}" ]; then
  old=$BASE_BIN
else
  echo "building the binary of $base (before journaling) for comparison" >&2
  git worktree add -q --detach "$work/base-src" "$base"
  (cd "$work/base-src" && CARGO_TARGET_DIR=$work/base-target cargo build --release --locked -q -p custody)
  old=$work/base-target/release/custody
fi

# attach FILE: a loop device over FILE, fully written first, in $attached.
attach() {
  fallocate -l "${size_mib}M" "$1"
  dd if=/dev/zero of="$1" bs=4M count=$((size_mib / 4)) oflag=direct conv=notrunc status=none 2>/dev/null \
    || dd if=/dev/zero of="$1" bs=4M count=$((size_mib / 4)) conv=notrunc status=none
  local d
  d=$(losetup --find --show --direct-io=on "$1")
  case $d in /dev/loop*) devs+=("$d") ;; *) echo "losetup gave $d" >&2; exit 1 ;; esac
  attached=$d
}
attach "$work/disk.img"
disk_dev=$attached
attach "$ram/disk.img"
ram_dev=$attached

export NO_COLOR=1 CUSTODY_ACTOR=bench XDG_RUNTIME_DIR=$work/run
mkdir -p "$work/run" "$work/config-new" "$work/config-old"
echo "violet kettle harbour 1987 bench" >"$work/passphrase"
export CUSTODY_KEY_PASSPHRASE_FILE=$work/passphrase
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
mbps() { awk -v t="$1" -v m="$size_mib" 'BEGIN { printf "%.0f", m * 1048576 / t / 1e6 }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }

# A data home per binary, so that neither reads the other's ledger.
XDG_CONFIG_HOME=$work/config-new CUSTODY_HOME=$work/home-new $bin init --org bench --station bench >/dev/null
XDG_CONFIG_HOME=$work/config-old CUSTODY_HOME=$work/home-old $old init --org bench --station bench >/dev/null

# time_wipe new|old DEVICE: seconds for one `zero` wipe, caches dropped first.
time_wipe() {
  local b=$bin
  [ "$1" = old ] && b=$old
  sync
  echo 3 >/proc/sys/vm/drop_caches
  local t0 t1
  t0=$(now)
  XDG_CONFIG_HOME=$work/config-$1 CUSTODY_HOME=$work/home-$1 "$b" wipe "$2" --method zero --verify off --yes --quiet --json >/dev/null
  t1=$(now)
  secs "$t0" "$t1"
}

echo "resume benchmark: ${size_mib} MiB loop devices (--direct-io=on), best of $rounds"
echo "$(nproc) cores, $(uname -r); journal every 1024 MiB and 30 s (the default)"
for where in disk ram; do
  dev=$disk_dev
  [ "$where" = ram ] && dev=$ram_dev
  best_new="" best_old=""
  # Alternate the two binaries so that neither always runs on a warmer device.
  for ((r = 0; r < rounds; r++)); do
    best_old=$(min "$(time_wipe old "$dev")" "$best_old")
    best_new=$(min "$(time_wipe new "$dev")" "$best_new")
  done
  echo
  echo "== the overwrite over a file on $where, with and without journaling (zero, verify off)"
  printf '%-34s %8.3f s  %6s MB/s\n' "custody $base (no journal)" "$best_old" "$(mbps "$best_old")"
  printf '%-34s %8.3f s  %6s MB/s\n' "custody now (journaling)" "$best_new" "$(mbps "$best_new")"
  echo "time ratio journaling / before: $(ratio "$best_new" "$best_old")  (aim: <= 1.05)"
  [ "$where" = disk ] && redo=$best_new
done

echo
echo "== resume against redo, killed at 50 % (file on disk)"
best_resume="" written=""
home=$work/home-new
half=$((size_mib * 1048576 / 2))
for ((r = 0; r < rounds; r++)); do
  rm -rf "$home/wipes"
  XDG_CONFIG_HOME=$work/config-new CUSTODY_HOME=$home $bin wipe "$disk_dev" --method zero --verify off --yes --quiet --json >/dev/null &
  pid=$!
  while :; do
    j=$(ls "$home"/wipes/*.journal 2>/dev/null | head -1 || true)
    if [ -n "$j" ] && grep -o '"offset":[0-9]*' "$j" | cut -d: -f2 | awk -v h="$half" '$1 >= h { f = 1 } END { exit !f }'; then
      break
    fi
    kill -0 "$pid" 2>/dev/null || { echo "the wipe ended before half way" >&2; exit 1; }
    sleep 0.01
  done
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  run=$(basename "$j" .journal)
  written=$(grep -o '"offset":[0-9]*' "$j" | tail -1 | cut -d: -f2)
  sync
  echo 3 >/proc/sys/vm/drop_caches
  t0=$(now)
  XDG_CONFIG_HOME=$work/config-new CUSTODY_HOME=$home $bin wipe --resume "$run" --yes --quiet --json >"$work/resumed.json"
  t1=$(now)
  grep -q '"status": "erased"' "$work/resumed.json" || { echo "the resume did not erase" >&2; exit 1; }
  best_resume=$(min "$(secs "$t0" "$t1")" "$best_resume")
done
echo "killed with $written of $((size_mib * 1048576)) bytes journaled durable"
printf '%-34s %8.3f s\n' "redo: the whole wipe again" "$redo"
printf '%-34s %8.3f s\n' "custody wipe --resume" "$best_resume"
echo "time ratio resume / redo: $(ratio "$best_resume" "$redo")"

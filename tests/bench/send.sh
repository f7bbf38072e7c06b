#!/usr/bin/env bash
# Send/open benchmark: custody against the age CLI in the same run, on a 1 GiB file and
# on a folder of 20,000 small files (~500 MB). Prints wall seconds, peak RSS and the
# time ratio custody/peer (best of ROUNDS each), for docs/benchmarks.md.
#
# custody makes its output durable (fsync before the rename) before it records the
# transfer; age does not. Each peer is therefore timed twice: as it is, and followed by
# `sync` of what it wrote, which is what the same durability costs it.
#
# Extracting 20,000 files is timed into a new folder each round, never into one just
# emptied: ext4 skips inodes freed in the last minute or so when it allocates new ones,
# which made a round after an `rm -rf` of 20,000 files several times slower, for custody
# and tar alike.
#
# Usage: tests/bench/send.sh [FILE_MIB] [FILES] [ROUNDS] [DIR]   (default 1024 20000 3
# /var/tmp). DIR=/dev/shm runs everything in memory, which leaves only the CPU work.
set -euo pipefail
cd "$(dirname "$0")/../.."
file_mib=${1:-1024}
files=${2:-20000}
rounds=${3:-3}
base=${4:-/var/tmp}

for tool in age age-keygen tar; do
  command -v "$tool" >/dev/null || { echo "send.sh: needs $tool (apt-get install age tar)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "send.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release --locked -q -p custody
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/custody

work=$(mktemp -d "$base/custody-send-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export CUSTODY_HOME=$work/home CUSTODY_ACTOR=bench
$bin init --org bench --station bench >/dev/null
age-keygen -o "$work/key.txt" 2>/dev/null
recipient=$(sed -n 's/^# public key: //p' "$work/key.txt")

echo "preparing: one ${file_mib} MiB file, a folder of $files files" >&2
head -c "$((file_mib * 1024 * 1024))" /dev/urandom >"$work/big.bin"
mkdir -p "$work/many"
per=$((500 * 1024 * 1024 / files))
python3 - "$work/many" "$files" "$per" <<'PY'
import os, sys
root, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = os.urandom(size)
for i in range(n):
    d = os.path.join(root, f"dir{i // 1000:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i:05d}.dat"), "wb") as f:
        f.write(block[i % 97:] + block[:i % 97])
PY
sync

# best "WALL_SECONDS PEAK_KIB CPU_SECONDS" of ROUNDS runs of a shell command (output files
# removed first); CPU is user + system time of the best run, over all its processes.
best() {
  local cmd=$1 clean=$2 bw="" bm="" bc=""
  for ((r = 0; r < rounds; r++)); do
    eval "$clean"
    sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
    export ROUND=$r
    /usr/bin/time -f '%e %M %U %S' -o "$work/t" bash -c "$cmd" >/dev/null 2>&1
    read -r w m u s <"$work/t"
    if [ -z "$bw" ] || awk -v a="$w" -v b="$bw" 'BEGIN{exit !(a<b)}'; then
      bw=$w; bm=$m; bc=$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')
    fi
  done
  echo "$bw $bm $bc"
}

row() { # label custody_result peer_label peer_result
  local cw cm cc pw pm pc
  read -r cw cm cc <<<"$2"; read -r pw pm pc <<<"$4"
  printf '%-30s custody %6.2fs %4d MiB cpu %5.2fs | %-24s %6.2fs %4d MiB cpu %5.2fs | ratio %.2f\n' \
    "$1" "$cw" $((cm / 1024)) "$cc" "$3" "$pw" $((pm / 1024)) "$pc" \
    "$(awk -v a="$cw" -v b="$pw" 'BEGIN{print a/b}')"
}

c_send_big=$(best "$bin send $work/big.bin --to bench --recipient $recipient -o $work/c.age --quiet" "rm -f $work/c.age")
a_send_big=$(best "age -r $recipient -o $work/a.age $work/big.bin" "rm -f $work/a.age")
s_send_big=$(best "age -r $recipient -o $work/a.age $work/big.bin && sync $work/a.age" "rm -f $work/a.age")
row "send 1 file (${file_mib} MiB)" "$c_send_big" "age -r" "$a_send_big"
row "" "$c_send_big" "age -r; sync" "$s_send_big"
# The same result as custody's: the ciphertext on disk and the SHA-256 of the input and
# of the output for the record (openssl uses SHA-NI, as custody does).
if command -v openssl >/dev/null; then
  e_send_big=$(best "age -r $recipient -o $work/a.age $work/big.bin && openssl dgst -sha256 $work/big.bin $work/a.age && sync $work/a.age" "rm -f $work/a.age")
  row "" "$c_send_big" "age -r; sha256 x2; sync" "$e_send_big"
fi

c_send_many=$(best "$bin send $work/many --to bench --recipient $recipient -o $work/cm.tar.age --quiet" "rm -f $work/cm.tar.age")
a_send_many=$(best "tar -cf - -C $work many | age -r $recipient -o $work/am.tar.age" "rm -f $work/am.tar.age")
s_send_many=$(best "tar -cf - -C $work many | age -r $recipient -o $work/am.tar.age && sync $work/am.tar.age" "rm -f $work/am.tar.age")
row "send folder ($files files)" "$c_send_many" "tar -c | age -r" "$a_send_many"
row "" "$c_send_many" "tar -c | age -r; sync" "$s_send_many"

c_open_big=$(best "$bin open $work/c.age -i $work/key.txt -o $work/co --quiet" "rm -rf $work/co; mkdir $work/co")
a_open_big=$(best "age -d -i $work/key.txt -o $work/ao.bin $work/a.age" "rm -f $work/ao.bin")
s_open_big=$(best "age -d -i $work/key.txt -o $work/ao.bin $work/a.age && sync $work/ao.bin" "rm -f $work/ao.bin")
row "open 1 file (${file_mib} MiB)" "$c_open_big" "age -d" "$a_open_big"
row "" "$c_open_big" "age -d; sync" "$s_open_big"
if command -v openssl >/dev/null; then
  e_open_big=$(best "age -d -i $work/key.txt -o $work/ao.bin $work/a.age && openssl dgst -sha256 $work/a.age $work/ao.bin && sync $work/ao.bin" "rm -f $work/ao.bin")
  row "" "$c_open_big" "age -d; sha256 x2; sync" "$e_open_big"
fi

# A new output folder every round (see the top); all removed after the three series.
c_open_many=$(best "$bin open $work/cm.tar.age -i $work/key.txt -o $work/cmo.\$ROUND --quiet" "")
a_open_many=$(best "mkdir $work/amo.\$ROUND && age -d -i $work/key.txt $work/am.tar.age | tar -xf - -C $work/amo.\$ROUND" "")
s_open_many=$(best "mkdir $work/smo.\$ROUND && age -d -i $work/key.txt $work/am.tar.age | tar -xf - -C $work/smo.\$ROUND && sync -f $work/smo.\$ROUND" "")
rm -rf "$work"/cmo.* "$work"/amo.* "$work"/smo.*
row "open folder ($files files)" "$c_open_many" "age -d | tar -x" "$a_open_many"
row "" "$c_open_many" "age -d | tar -x; sync" "$s_open_many"

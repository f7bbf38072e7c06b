#!/usr/bin/env bash
# Desk benchmark (issue 17): a ledger of ENTRIES entries (default 100,000), with
# requests waiting and certificates issued; `custody serve` on 127.0.0.1; a manager
# signed in with a passkey (a P-256 key made by openssl, signing as an authenticator
# does); then CLIENTS concurrent clients (default 50) load the inbox, then the
# certificate list, then the inbox while another person appends an entry a second,
# for SECONDS each (default 30), with wrk. Prints requests/s, p50, p95 and p99
# latency and the server's peak memory, for docs/benchmarks.md.
#
#   tests/bench/desk.sh [ENTRIES] [CLIENTS] [SECONDS]
#   CUSTODY_BIN=/path/to/custody runs another build.
#   PROFILE=DIR also records the server with perf under each load (DIR/PAGE.data).
#
# Needs wrk, curl, openssl and python3 (apt-get install wrk curl openssl python3).
# Everything listens on 127.0.0.1 and stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
entries=${1:-100000}
clients=${2:-50}
seconds=${3:-30}
for tool in wrk curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "desk.sh: needs $tool (apt-get install $tool)" >&2; exit 2; }
done
if [ -z "${CUSTODY_BIN:-}" ]; then
  cargo build --release --locked -q -p custody
fi
bin=${CUSTODY_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/custody}
work=$(mktemp -d)
desk_pid=
stop() {
  [ -n "$desk_pid" ] && kill "$desk_pid" 2>/dev/null && wait "$desk_pid" 2>/dev/null
  rm -rf "$work"
}
trap stop EXIT
export XDG_CONFIG_HOME=$work/config XDG_RUNTIME_DIR=$work/run CUSTODY_HOME=$work/home
mkdir -p "$work/run"
printf 'violet kettle harbour 1987 bench\n' >"$work/passphrase"
export CUSTODY_KEY_PASSPHRASE_FILE=$work/passphrase
as() { CUSTODY_ACTOR=$1 "$bin" "${@:2}"; }
# json FIELD: the field of the JSON object on standard input.
json() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

echo "[desk] a ledger of $entries entries, with requests waiting and certificates"
as sato init --org bench --station desk-bench >/dev/null
as sato people add tanaka --role manager >/dev/null
key=$(as tanaka people enroll --json | json key_id)
as sato people confirm tanaka --key-id "$key" >/dev/null
# Twenty disposals, each approved by the other manager: twenty certificates.
for i in $(seq 1 20); do
  printf 'no,name\n%s,bench\n' "$i" >"$work/old-$i.csv"
  item=$(as sato retain add "$work/old-$i.csv" --class backup --since 2000-01-01 \
    --backdate-reason "transcribed from the paper register" --json | json id)
  # Starting its period before today is itself approved by the other manager.
  for rq in $(as sato requests --pending --json | python3 -c 'import json, sys
print(" ".join(r["id"] for r in json.load(sys.stdin) if r["kind"] == "backdate"))'); do
    as tanaka approve "$rq" >/dev/null 2>&1
  done
  rq=$(as sato retain dispose "$item" --request --json | json id)
  as tanaka approve "$rq" >/dev/null 2>&1
  as sato retain dispose "$item" >/dev/null 2>&1
done
# Thirty requests waiting for a decision.
for i in $(seq 1 30); do
  as tanaka request new --kind send --summary "会員名簿の送付 $i" >/dev/null 2>&1
done
# The rest as notes, batched.
have=$(as sato log --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
if [ "$entries" -gt "$have" ]; then
  seq 1 $((entries - have)) | sed 's/^/bench note /' >"$work/notes.txt"
  as sato note --file "$work/notes.txt" >/dev/null 2>&1
fi
total=$(as sato ledger verify --json | sed -n 's/.*"entries": \([0-9]*\).*/\1/p')
certs=$(as sato cert list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["certificates"]))')
echo "[desk] ledger: $total entries, $certs certificates"

# The desk, run by sato, on a free port of 127.0.0.1.
CUSTODY_ACTOR=sato "$bin" serve --listen 127.0.0.1:0 2>"$work/desk.log" >/dev/null &
desk_pid=$!
for _ in $(seq 1 100); do
  grep -q 'http://' "$work/desk.log" 2>/dev/null && break
  sleep 0.1
done
url=$(grep -o 'http://[0-9.:]*' "$work/desk.log" | head -1)
port=${url##*:}
[ -n "$port" ] || { echo "desk.sh: the desk did not start: $(cat "$work/desk.log")" >&2; exit 1; }
echo "[desk] serving on $url (pid $desk_pid)"

# sato is invited, enrols a passkey (which tanaka confirms) and signs in, as a browser
# would.
link=$(as sato people invite sato --desk "http://localhost:$port" 2>/dev/null)
openssl ecparam -name prime256v1 -genkey -noout -out "$work/passkey.pem" 2>/dev/null
cookie=$(python3 - "$link" "$port" "$work/passkey.pem" "$bin" <<'EOF'
import base64, hashlib, http.cookiejar, json, os, re, subprocess, sys, urllib.request

link, port, key, custody = sys.argv[1].strip(), sys.argv[2], sys.argv[3], sys.argv[4]
origin = f"http://localhost:{port}"
jar = http.cookiejar.CookieJar()
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
b64url = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def page(path):
    body = web.open(origin + path, timeout=60).read().decode()
    return re.search(r'<meta name="csrf" content="([^"]+)"', body).group(1)

def post(path, csrf, data):
    request = urllib.request.Request(origin + path, json.dumps(data).encode(), {
        "content-type": "application/json", "x-csrf-token": csrf})
    return json.load(web.open(request, timeout=60))

def sign(prepared):
    client = json.dumps({"type": "webauthn.get", "challenge": prepared["challenge"],
                         "origin": origin, "crossOrigin": False}).encode()
    data = hashlib.sha256(b"localhost").digest() + bytes([0x05, 0, 0, 0, 1])
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                               input=data + hashlib.sha256(client).digest(),
                               capture_output=True, check=True).stdout
    return {"pending": prepared["pending"], "credential": b64url(b"bench-passkey"),
            "authenticator_data": b64url(data), "client_data_json": b64url(client),
            "signature": b64url(signature)}

public = subprocess.run(["openssl", "ec", "-in", key, "-pubout", "-outform", "DER"],
                        capture_output=True, check=True).stdout
token = link.rsplit("/", 1)[1]
csrf = page(f"/enrol/{token}")
prepared = post(f"/api/enrol/{token}/prepare", csrf, {
    "credential": b64url(b"bench-passkey"), "public_key": base64.b64encode(public).decode()})
enrolled = post(f"/api/enrol/{token}/finish", csrf, sign(prepared))
# The other manager confirms the passkey, its id read out to them.
subprocess.run([custody, "people", "confirm", "sato", "--passkey", "--key-id", enrolled["key_id"]],
               env=dict(os.environ, CUSTODY_ACTOR="tanaka"), capture_output=True, check=True)
csrf = page("/signin")
prepared = post("/api/signin/prepare", csrf, {"name": "sato"})
post("/api/signin/finish", csrf, sign(prepared))
print("; ".join(f"{c.name}={c.value}" for c in jar))
EOF
)
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$url/inbox")
[ "$status" = 200 ] || { echo "desk.sh: signed in, yet the inbox answers $status" >&2; exit 1; }

cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %.1f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
EOF
declare -A figures
# "growing": the inbox again, while another person appends an entry every second, so
# that each signed-in reader's standing is proven again after every entry.
for run in inbox certificates growing; do
  page=${run/growing/inbox}
  writer=
  if [ "$run" = growing ]; then
    (
      end=$((SECONDS + seconds))
      while [ "$SECONDS" -lt "$end" ]; do
        as tanaka note "bench: the ledger grows" >/dev/null 2>&1 && echo >>"$work/grown"
        sleep 1
      done
    ) &
    writer=$!
  fi
  # PROFILE=DIR records where the server spends its time under load (perf).
  perf_pid=
  if [ -n "${PROFILE:-}" ]; then
    mkdir -p "$PROFILE"
    perf record -g -o "$PROFILE/$page.data" -p "$desk_pid" 2>/dev/null &
    perf_pid=$!
  fi
  out=$(wrk -t "$((clients < 2 ? clients : 2))" -c "$clients" -d "${seconds}s" --timeout 10s -H "Cookie: $cookie" \
    -s "$work/report.lua" "$url/$page")
  read -r rps p50 p95 p99 errors count <<<"$(grep '^RESULT' <<<"$out" | cut -d' ' -f2-)"
  [ -n "$perf_pid" ] && kill -INT "$perf_pid" && wait "$perf_pid" || true
  if [ -n "$writer" ]; then
    wait "$writer"
    echo "[desk] entries appended during the load: $(wc -l <"$work/grown")"
  fi
  # wrk counts only 4xx and 5xx as errors: the page must still be the page after the
  # load, not a redirect to sign in.
  after=$(curl -s -o "$work/$page.html" -w '%{http_code}' -H "Cookie: $cookie" "$url/$page")
  [ "$after" = 200 ] || { echo "desk.sh: after the load, /$page answers $after" >&2; exit 1; }
  echo "[desk] /$page after the load: 200, $(wc -c <"$work/$page.html") bytes, $(grep -c -E '<tr|class="card request"' "$work/$page.html") rows or requests shown"
  figures[$run]="$rps $p50 $p95 $p99 $errors $count"
  echo "[desk] /$page ($run), $clients clients for ${seconds}s: $count requests, $rps/s, p50 ${p50} ms, p95 ${p95} ms, p99 ${p99} ms, non-2xx $errors"
done
peak=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$desk_pid/status")
echo "[desk] server peak memory (VmHWM): $peak MiB"
echo
echo "| page | clients | requests/s | p50 ms | p95 ms | p99 ms | non-2xx |"
echo "|---|---|---|---|---|---|---|"
for run in inbox certificates growing; do
  read -r rps p50 p95 p99 errors _ <<<"${figures[$run]}"
  page=/${run/growing/inbox, an entry a second}
  echo "| $page | $clients | $rps | $p50 | $p95 | $p99 | $errors |"
done
echo "ledger $total entries; server peak memory $peak MiB (aim: inbox p95 ≤ 100 ms, ≤ 100 MiB); non-2xx counts answers of 400 and above, as wrk does"

#!/usr/bin/env bash
# Instructions per HTTP image_code + sms_code (a wrong captcha, answered 4004)
# in the release server under callgrind: a run with 1 and with 1+N flows, the
# difference divided by N. Memory store, discard sender, per-IP limits off,
# one worker, warn logs. Unlike scripts/callgrind.sh this counts the HTTP
# layer too (the middleware, JSON, the route), and the default captcha style.
#
#   scripts/callgrind-http.sh [N] [PORT]      (default 100, 18961; after
#   cargo build --release -p passport-server; BIN= names another binary)
set -euo pipefail
n=${1:-100}; port=${2:-18961}
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind-http: valgrind not found (apt install valgrind)" >&2; exit 2; }
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release/passport-server}
bin=$(realpath "$bin")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  # From an empty directory: no ./config layer, the compiled-in defaults.
  cd "$out"
  PASSPORT__SERVER__PORT=$port PASSPORT__SERVER__WORKERS=1 PASSPORT__SERVER__METRICS_ADDR= \
  PASSPORT__SERVER__STATIC_DIR= PASSPORT__SMS__SENDER=discard PASSPORT__LOG__LEVEL=warn \
  PASSPORT__LIMITS__IMAGE_CODES_PER_IP_PER_MINUTE=0 PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR=0 \
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" "$bin" >"$out/log.$1" 2>&1 &
  local pid=$!
  python3 - "$port" "$1" <<'PY'
import sys, time, json, urllib.request, urllib.error
port, n = int(sys.argv[1]), int(sys.argv[2])
base = f"http://127.0.0.1:{port}"
for _ in range(600):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=5).read(); break
    except Exception:
        time.sleep(0.5)
else:
    sys.exit("server did not come up")
for i in range(n):
    cid = f"00000000-0000-4000-8000-{i:012d}"
    urllib.request.urlopen(f"{base}/passport/image_code?code_id={cid}", timeout=60).read()
    body = json.dumps({"mobile": f"138{i:08d}", "image_code": "XXXX", "image_code_id": cid}).encode()
    req = urllib.request.Request(base + "/passport/sms_code", data=body, headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=60).read()
    except urllib.error.HTTPError as e:
        e.read()
PY
  kill -INT "$pid"; wait "$pid" || true
  sed -n 's/^summary: //p' "$out/cg.$1"
}
one=$(count 1)
many=$(count $((n + 1)))
echo "instructions per HTTP image_code + sms_code: $(( (many - one) / n )) (over $n flows; start-up with one flow: $one)"

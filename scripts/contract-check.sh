#!/usr/bin/env bash
# The served OpenAPI document against the running server, checked by
# schemathesis (a private virtualenv under the target directory): every check
# except positive_data_acceptance (a well-formed but wrong captcha must answer
# 400, which that check forbids), at least $CASES generated cases for every
# operation that takes input. Any failure fails the run.
#
#   scripts/contract-check.sh [CASES]     (default 300; run by `make test`)
#
# Needs: the debug server binary ($PASSPORT_SERVER_BIN), redis-server, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

cases=${1:-300}
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=${PASSPORT_SERVER_BIN:-$target/debug/passport-server}
venv=$target/schemathesis-venv
version=4.32.5
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

[[ -x $bin ]] || { echo "contract-check: no server binary at $bin" >&2; exit 1; }
if [[ ! -x $venv/bin/schemathesis ]] || [[ $("$venv/bin/schemathesis" --version) != *"$version"* ]]; then
    echo "contract-check: installing schemathesis $version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A private Redis: nothing on disk, nothing shared with other tests.
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)

key=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
# Limits high enough that generated cases reach the handlers, not the
# per-IP buckets (the 429s are documented and checked all the same).
PASSPORT_CONFIG_DIR="$work" \
PASSPORT__SERVER__PORT=0 \
PASSPORT__SERVER__METRICS_ADDR= \
PASSPORT__SERVER__STATIC_DIR= \
PASSPORT__STORE__BACKEND=redis \
PASSPORT__STORE__REDIS__URL="redis://127.0.0.1:$redis_port" \
PASSPORT__VERIFY_API__KEY="$key" \
PASSPORT__LIMITS__IMAGE_CODES_PER_IP_PER_MINUTE=1000000 \
PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR=1000000 \
PASSPORT__LOG__LEVEL="warn,passport_server::startup=info" \
    "$bin" >"$work/server.log" 2>&1 &
pids+=($!)

# The server logs its port once it listens; then the store must answer.
deadline=$((SECONDS + 60))
port=
until [[ -n $port ]]; do
    port=$(grep -o 'port=[0-9]*' "$work/server.log" | head -1 | cut -d= -f2 || true)
    if [[ -z $port ]]; then
        kill -0 "${pids[1]}" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
        ((SECONDS < deadline)) || { echo "contract-check: server did not start" >&2; exit 1; }
        sleep 0.1
    fi
done
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; do
    ((SECONDS < deadline)) || { echo "contract-check: server not ready" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done

status=0
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$cases" --seed "${SCHEMATHESIS_SEED:-$RANDOM}" \
    --header "Authorization: Bearer $key" \
    --report ndjson --report-ndjson-path "$work/events.ndjson" \
    --output-truncate true || status=$?

# Cases per operation, from the event log; an operation with parameters or a
# body below $cases fails the run (one without any input has a handful of
# distinct requests to make, and gets those).
python3 - "$work/events.ndjson" "$cases" "http://127.0.0.1:$port/openapi.json" <<'EOF' || status=1
import collections, json, sys, urllib.request

events, want, doc_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
doc = json.load(urllib.request.urlopen(doc_url))
takes_input = set()
for path, item in doc["paths"].items():
    for method, op in item.items():
        if op.get("parameters") or op.get("requestBody"):
            takes_input.add(f"{method.upper()} {path}")
counts = collections.Counter()
for line in open(events):
    event = json.loads(line)
    finished = event.get("ScenarioFinished")
    if finished:
        rec = finished.get("recorder", {})
        counts[rec.get("label")] += len(rec.get("cases", {}))
low = []
for label, n in sorted(counts.items()):
    print(f"contract-check: {n:5d} cases  {label}")
    if label in takes_input and n < want:
        low.append(label)
for label in sorted(takes_input - set(counts)):
    print(f"contract-check: never tested: {label}")
    low.append(label)
if low:
    print(f"contract-check: fewer than {want} cases for: {', '.join(low)}", file=sys.stderr)
    sys.exit(1)
EOF

grep -q ' ERROR passport' "$work/server.log" && { echo "contract-check: the server logged errors:" >&2; grep ' ERROR passport' "$work/server.log" | head -20 >&2; status=1; }
exit "$status"

#!/usr/bin/env bash
# The connection-cap figures of docs/benchmarks.md, against the release build
# on loopback (memory store, discard sender):
#   1. image_code under wrk (64 connections from 127.0.0.1), no flood: the baseline;
#   2. 200 requests each on a new connection, then the same wrk run, during a slow-body flood of 1,100 connections from 127.0.0.3
#      (scripts/flood.py slow), with the default caps;
#   3. the same flood with the per-address cap lifted (what the issue measured);
#   4. RSS at rest, just after and 10 s after a burst of 5,000 concurrent
#      connections (scripts/flood.py burst, from 100 addresses).
# Flood runs give the server a 1,024-descriptor limit, as in the issue; the
# burst gets 20,000 so that all 5,000 connections are accepted.
# Env: BIN (default $CARGO_TARGET_DIR or target, /release/passport-server),
#      DURATION=10s, FLOOD_CONNS=1100; ONLY=burst skips 1-3; BURST_ENV="VAR=value ..."
#      adds settings (or allocator variables) to the server of the burst.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/passport-server}
DURATION=${DURATION:-10s}
FLOOD_CONNS=${FLOOD_CONNS:-1100}
export WRK_DIR=$PWD/scripts/wrk
command -v wrk >/dev/null || { echo "flood-figures.sh: wrk missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "flood-figures.sh: build first: cargo build --release -p passport-server" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
metric() { curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

start_server() { # $1 = descriptor limit, then extra VAR=value settings
  local nofile=$1; shift
  PORT=$(free_port); METRICS_PORT=$(free_port)
  env PASSPORT__SERVER__HOST=127.0.0.1 PASSPORT__SERVER__PORT="$PORT" \
    PASSPORT__SERVER__METRICS_ADDR="127.0.0.1:$METRICS_PORT" \
    PASSPORT__STORE__BACKEND=memory PASSPORT__STORE__MEMORY__MAX_CAPTCHA_ANSWERS=5000000 \
    PASSPORT__SMS__SENDER=discard PASSPORT__LIMITS__IMAGE_CODES_PER_IP_PER_MINUTE=0 \
    PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR=0 PASSPORT__LOG__LEVEL=warn "$@" \
    bash -c "ulimit -n $nofile; exec $BIN" >/tmp/passport-flood-server.log 2>&1 &
  SERVER_PID=$!
  until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat /tmp/passport-flood-server.log >&2; exit 1; }
    sleep 0.05
  done
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

wrk_image_code() {
  wrk -t2 -c64 -d"$DURATION" -s "$WRK_DIR/image_code.lua" "http://127.0.0.1:$PORT" | grep '^RESULT'
}

# 200 requests from 127.0.0.1, each on a new connection, one after another:
# how a client that connects during the flood fares. Prints "<200s>/200 served".
fresh_probe() {
  local ok=0
  for _ in $(seq 1 200); do
    [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" = 200 ] && ok=$((ok + 1))
  done
  echo "$ok/200 served"
}

flood_case() { # $1 = name, then extra settings
  local name=$1; shift
  start_server 1024 "$@"
  local secs=${DURATION%s}
  python3 scripts/flood.py slow --port "$PORT" --source 127.0.0.3 --conns "$FLOOD_CONNS" \
    --seconds $((secs + 15)) >/tmp/passport-flood.json &
  local flood=$!
  sleep 5 # the flood's ramp-up: every slot has connected at least once
  echo "$name: fresh connections from 127.0.0.1: $(fresh_probe)"
  echo "$name: wrk $(wrk_image_code)"
  echo "$name: open $(metric passport_connections_open), refused per_ip" \
    "$(metric 'passport_connections_refused_total{cap="per_ip"}') total" \
    "$(metric 'passport_connections_refused_total{cap="total"}'), rss $(rss_mb "$SERVER_PID") MB"
  wait "$flood"
  echo "$name: flood $(cat /tmp/passport-flood.json)"
  stop_server
}

echo "machine: $(nproc) cores; $(wrk -v 2>&1 | head -1); bin $BIN"

if [ "${ONLY:-}" != burst ]; then
  start_server 1024
  echo "baseline: wrk $(wrk_image_code)"
  stop_server

  flood_case "flood, default caps"
  flood_case "flood, per-address cap lifted" PASSPORT__SERVER__MAX_CONNECTIONS_PER_IP=1000000
fi

# shellcheck disable=SC2086 # BURST_ENV is a list of assignments
start_server 20000 ${BURST_ENV:-}
curl -fs "http://127.0.0.1:$PORT/passport/image_code?code_id=$(python3 -c 'import uuid; print(uuid.uuid4())')" >/dev/null
sleep 1
rest=$(rss_mb "$SERVER_PID")
echo "burst: $(python3 scripts/flood.py burst --port "$PORT" --conns 5000 --sources 100)"
after=$(rss_mb "$SERVER_PID")
sleep 10
later=$(rss_mb "$SERVER_PID")
echo "burst${BURST_ENV:+ ($BURST_ENV)}: rss at rest $rest MB, just after $after MB, 10 s after $later MB;" \
  "ratio 10 s after / rest $(awk -v a="$later" -v b="$rest" 'BEGIN {printf "%.2f", a/b}')"
stop_server

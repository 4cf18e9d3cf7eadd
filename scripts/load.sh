#!/usr/bin/env bash
# Load benchmark of the running server under wrk (run by `make load`).
#
# Builds the release server, starts a private redis-server on a free port and
# the server (Redis store, the discard SMS sender, per-IP and global limits off,
# the per-address connection cap raised above wrk's 64 connections and the
# readiness probe's, warn-level logs), then runs wrk on loopback:
#   image_code (Redis) at 16 and 64 connections,
#   sms_code   (Redis) at 64 connections, with captchas seeded beforehand,
#   image_code (memory store) at 64 connections, for comparison;
#   with STORE=cluster also image_code and sms_code (64 connections) on a
#   three-primary Redis Cluster started here, beside the standalone cases.
# For each it prints req/s, p50, p99, errors, the server's CPU µs per request,
# Redis commands per request and the server's peak RSS. RUNS (default 3) runs
# per case; the last line of each case is the median. Stops all it started.
#
# Env: RUNS=3 DURATION=10s THREADS=2 PIN=1 (pin server to CPU 0, wrk and redis to CPU 1),
#      STORE=cluster (add the Cluster cases).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
PIN=${PIN:-0}
STORE=${STORE:-}
export WRK_DIR="$ROOT/scripts/wrk"

command -v wrk >/dev/null || { echo "load.sh: wrk missing (apt-get install wrk)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "load.sh: redis-server missing" >&2; exit 1; }

cargo build --release --locked -p passport-server --bin passport-server
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/passport-server

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# A Cluster node also listens on its port + 10000 (the cluster bus).
free_cluster_port() { python3 -c '
import random, socket
while True:
    p = random.randint(20000, 50000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass'; }
pin() { if [ "$PIN" = 1 ]; then echo "taskset -c $1"; fi; }

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

REDIS_PORT=$(free_port)
$(pin 1) redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --maxmemory-policy noeviction --dir /tmp >/dev/null &
PIDS+=($!)
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.05; done

# STORE=cluster: three primaries, no replicas (the Cluster's routing is what
# is measured, not its failover).
CLUSTER_PORTS=()
if [ "$STORE" = cluster ]; then
  CLUSTER_DIR=$(mktemp -d)
  for _ in 1 2 3; do
    p=$(free_cluster_port); CLUSTER_PORTS+=("$p"); mkdir -p "$CLUSTER_DIR/$p"
    (cd "$CLUSTER_DIR/$p" && exec $(pin 1) redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-node-timeout 2000 --save "" --appendonly no --maxmemory-policy noeviction >/dev/null) &
    PIDS+=($!)
  done
  for p in "${CLUSTER_PORTS[@]}"; do until redis-cli -p "$p" ping >/dev/null 2>&1; do sleep 0.05; done; done
  redis-cli --cluster create "${CLUSTER_PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null
  for p in "${CLUSTER_PORTS[@]}"; do
    until redis-cli -p "$p" cluster info | grep -q cluster_state:ok; do sleep 0.05; done
  done
  CLUSTER_NODES=$(printf 'redis://127.0.0.1:%s,' "${CLUSTER_PORTS[@]}"); CLUSTER_NODES=${CLUSTER_NODES%,}
fi

SERVER_PID=""
start_server() { # $1 = backend, $2 = redis mode (default standalone)
  local port; port=$(free_port)
  PASSPORT__STORE__REDIS__MODE=${2:-standalone} PASSPORT__STORE__REDIS__NODES=${CLUSTER_NODES:-} \
  PASSPORT__SERVER__HOST=127.0.0.1 PASSPORT__SERVER__PORT=$port PASSPORT__SERVER__METRICS_ADDR= \
  PASSPORT__STORE__BACKEND=$1 PASSPORT__STORE__REDIS__URL=redis://127.0.0.1:$REDIS_PORT \
  PASSPORT__STORE__MEMORY__MAX_CAPTCHA_ANSWERS=5000000 PASSPORT__STORE__MEMORY__MAX_MOBILE_ENTRIES=10000000 PASSPORT__STORE__MEMORY__MAX_SMS_CODES=5000000 \
  PASSPORT__SMS__SENDER=discard PASSPORT__LIMITS__SMS_GLOBAL_PER_HOUR=0 \
  PASSPORT__LIMITS__IMAGE_CODES_PER_IP_PER_MINUTE=0 PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR=0 \
  PASSPORT__SERVER__MAX_CONNECTIONS_PER_IP=1024 PASSPORT__LOG__LEVEL=warn \
    $(pin 0) "$BIN" >/tmp/passport-load-server.log 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  URL=http://127.0.0.1:$port
  until curl -fs "$URL/healthz" >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat /tmp/passport-load-server.log >&2; exit 1; }
    sleep 0.05
  done
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
REDIS_PORTS=("$REDIS_PORT")
redis_cmds() {
  local total=0 p
  for p in "${REDIS_PORTS[@]}"; do
    total=$(( total + $(redis-cli -p "$p" info stats | awk -F: '/^total_commands_processed/ {print $2+0}') ))
  done
  echo "$total"
}
peak_rss_mb() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
TICK=$(getconf CLK_TCK)

seed_captchas() { # $1 = base: THREADS blocks of 200,000 solved captchas
  if [ "${REDIS_PORTS[0]}" != "$REDIS_PORT" ]; then seed_cluster "$1"; return; fi
  awk -v base="$1" -v threads="$THREADS" 'BEGIN {
    for (t = 0; t < threads; t++) for (n = 0; n < 200000; n++) {
      k = base + t * 1000000 + n; id = sprintf("00000000-0000-4000-8000-%012d", k)
      key = "ImageCode_" id
      printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$4\r\nACEF\r\n$2\r\nEX\r\n$3\r\n900\r\n", length(key), key
    } }' | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
}

# The same captchas on the Cluster: each key sent to the primary of its slot.
seed_cluster() { # $1 = base
  python3 - "$1" "$THREADS" "${REDIS_PORTS[@]}" <<'PY'
import subprocess, sys
base, threads, ports = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
owner = {}
for port in ports:
    for line in subprocess.run(["redis-cli", "-p", port, "cluster", "nodes"], capture_output=True, text=True).stdout.splitlines():
        if "myself" in line:
            for r in line.split()[8:]:
                lo, _, hi = r.partition("-")
                for slot in range(int(lo), int(hi or lo) + 1):
                    owner[slot] = port
out = {p: [] for p in ports}
for t in range(threads):
    for n in range(200000):
        key = "ImageCode_%s" % ("00000000-0000-4000-8000-%012d" % (base + t * 1000000 + n))
        k = key.encode()
        out[owner[crc16(k) % 16384]].append(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$4\r\nACEF\r\n$2\r\nEX\r\n$3\r\n900\r\n" % (len(k), k))
for port, cmds in out.items():
    subprocess.run(["redis-cli", "-p", port, "--pipe"], input=b"".join(cmds), stdout=subprocess.DEVNULL, check=True)
PY
}

results=()
run_case() { # $1 = name, $2 = lua, $3 = connections, $4 = method label
  local name=$1 lua=$2 conns=$3 lines=()
  for run in $(seq 1 "$RUNS"); do
    if [ "$lua" = sms_code ]; then
      export SEED_BASE=$(( run * 10000000 )) SEED_STRIDE=1000000
      seed_captchas "$SEED_BASE"
    fi
    local t0 c0 out
    t0=$(cpu_ticks "$SERVER_PID"); c0=$(redis_cmds)
    out=$($(pin 1) wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency -s "$WRK_DIR/$lua.lua" "$URL" | grep '^RESULT')
    local t1 c1 reqs
    t1=$(cpu_ticks "$SERVER_PID"); c1=$(redis_cmds)
    reqs=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$out")
    local cpu_us cmds
    cpu_us=$(awk -v a="$t0" -v b="$t1" -v r="$reqs" -v hz="$TICK" 'BEGIN {printf "%.1f", (b-a)/hz*1e6/r}')
    cmds=$(awk -v a="$c0" -v b="$c1" -v r="$reqs" 'BEGIN {printf "%.2f", (b-a)/r}')
    local line="${out#RESULT } cpu_us_per_req=$cpu_us redis_cmds_per_req=$cmds rss_peak_mb=$(peak_rss_mb "$SERVER_PID")"
    echo "$name c=$conns run $run: $line"
    lines+=("$line")
  done
  local med
  med=$(printf '%s\n' "${lines[@]}" | sed -E 's/.*rps=([0-9.]+).*/\1 &/' | sort -n | awk -v m=$(( (RUNS + 1) / 2 )) 'NR == m {$1=""; print substr($0, 2)}')
  echo "$name c=$conns MEDIAN: $med"
  results+=("$(awk -v name="$name" -v c="$conns" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |", name, c, v["rps"], v["p50_ms"], v["p99_ms"],
      v["errors"] "/" v["non2xx"], v["cpu_us_per_req"], v["redis_cmds_per_req"], v["rss_peak_mb"]
  }' <<<"$med")")
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); pin=$PIN; $(wrk -v 2>&1 | head -1)"
start_server redis
run_case "image_code redis" image_code 16
run_case "image_code redis" image_code 64
run_case "sms_code redis" sms_code 64
stop_server
if [ "$STORE" = cluster ]; then
  REDIS_PORTS=("${CLUSTER_PORTS[@]}")
  start_server redis cluster
  run_case "image_code cluster" image_code 64
  run_case "sms_code cluster" sms_code 64
  stop_server
  REDIS_PORTS=("$REDIS_PORT")
fi
start_server memory
run_case "image_code memory" image_code 64
stop_server

echo
echo "Medians of $RUNS runs of $DURATION (the run with the median req/s):"
echo "| case | conns | req/s | p50 ms | p99 ms | errors / non-2xx | server CPU µs/req | Redis cmds/req | server peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"

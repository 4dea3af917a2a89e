#!/usr/bin/env bash
# kv guest vs a real redis-server, same machine, same client, one run:
#   benchmarks/kv-vs-redis.sh [REQUESTS]
# Prints ops/s for SET and GET with and without pipelining, and the kv/redis ratio.
# Loopback only; every server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-200000}
clients=50

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
if ((${#need[@]} > 0)); then
  echo "kv-vs-redis: installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "kv-vs-redis: nothing answers on port $1" >&2
  return 1
}

redis_port=$(free_port)
kv_port=$(free_port)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
pids+=($!)
tools/migration run src/guests/bin/kv.elf --memory 1G --port "6379:$kv_port" >/dev/null 2>&1 &
pids+=($!)
wait_port "$redis_port"
wait_port "$kv_port"

rps() { # port pipeline test -> ops/s
  redis-benchmark -h 127.0.0.1 -p "$1" -t "$3" -n "$requests" -c "$clients" -P "$2" -r 100000 --csv \
    | awk -F'","' 'NR > 1 { gsub(/"/, "", $2); print $2; exit }'
}

printf '| test | pipeline | kv guest ops/s | redis-server ops/s | kv / redis |\n'
printf '|---|---:|---:|---:|---:|\n'
for pipeline in 1 16; do
  for test in set get; do
    kv=$(rps "$kv_port" "$pipeline" "$test")
    redis=$(rps "$redis_port" "$pipeline" "$test")
    ratio=$(awk -v a="$kv" -v b="$redis" 'BEGIN { printf "%.2f", a / b }')
    printf '| %s | %d | %.0f | %.0f | %s |\n' "${test^^}" "$pipeline" "$kv" "$redis" "$ratio"
  done
done

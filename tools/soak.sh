#!/usr/bin/env bash
# Soak: the kv guest migrates back and forth between two host daemons under continuous redis-benchmark load, then
# every key is checked. Exit 0 only when every migration succeeded, every redis-benchmark run ended without an error
# (redis-benchmark stops at the first connection error and never reconnects), the INCR counter equals the INCRs the
# runs sent, and every preloaded key holds its value.
#
#   tools/soak.sh [--migrations N] [--max-seconds S] [--keys K] [--interval SECONDS] [--network auto|repair|relay]
#                 [--cli PATH/migration.dll]
#
# Defaults: 200 migrations, at most 1200 s, 10,000 preloaded keys, 0.2 s of load between migrations. As root the hosts
# use TCP repair; otherwise (or with --network relay) a relay is started and the clients connect through it.
set -euo pipefail
cd "$(dirname "$0")/.."

migrations=200
max_seconds=1200
keys=10000
interval=0.2
network=auto
cli_dll=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --migrations) migrations="$2"; shift 2 ;;
    --max-seconds) max_seconds="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    --interval) interval="$2"; shift 2 ;;
    --network) network="$2"; shift 2 ;;
    --cli) cli_dll="$2"; shift 2 ;;
    *) echo "soak: unknown option $1 (see the head of tools/soak.sh)" >&2; exit 2 ;;
  esac
done
for value in "$migrations" "$max_seconds" "$keys"; do
  [[ "$value" =~ ^[1-9][0-9]*$ ]] || { echo "soak: '$value' is not a positive whole number" >&2; exit 2; }
done
[[ "$network" =~ ^(auto|repair|relay)$ ]] || { echo "soak: --network takes auto, repair or relay, not '$network'" >&2; exit 2; }
if [[ -z "$cli_dll" ]]; then
  command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null || tools/setup.sh >&2
  tools/migration --help >/dev/null  # builds the tool when a source is newer than the last build
  cli_dll=tools/Migration.Cli/bin/Release/net10.0/migration.dll
fi
[[ -f "$cli_dll" ]] || { echo "soak: no command-line tool at $cli_dll" >&2; exit 2; }
for tool in redis-benchmark redis-cli ss pkill; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is not installed (tools/setup.sh installs it)" >&2; exit 2; }
done
cli=(dotnet "$cli_dll")
work=$(mktemp -d)
pids=()
load_pid=""
cleanup() {
  if [[ -n "$load_pid" ]]; then
    # The loop's running redis-benchmark (under timeout, which passes the signal on) first, then the loop.
    pkill -TERM -P "$load_pid" 2>/dev/null || true
    kill "$load_pid" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
deadline=$((SECONDS + max_seconds))
fail() { echo "soak: $*" >&2; exit 1; }

head -c 32 /dev/urandom | base64 >"$work/secret"
chmod 600 "$work/secret"

# Waits for a line matching $2 in log $1 and prints its last field; bounded by 60 s.
await_line() {
  for _ in $(seq 600); do
    if line=$(grep -m1 -E "$2" "$1" 2>/dev/null); then echo "${line##* }"; return 0; fi
    sleep 0.1
  done
  fail "no '$2' within 60 s in $1: $(tail -5 "$1")"
}

host_options=()
if [[ "$network" == relay || ( "$network" == auto && $(id -u) -ne 0 ) ]]; then
  "${cli[@]}" relay --listen 127.0.0.1:0 --secret-file "$work/secret" >"$work/relay.log" 2>&1 &
  pids+=($!)
  relay=$(await_line "$work/relay.log" "relay ready: hosts link to")
  host_options=(--network relay --relay "$relay")
elif [[ "$network" == repair ]]; then
  host_options=(--network repair)
fi

declare -A migration_port
for name in a b; do
  "${cli[@]}" host --name "$name" --api "unix:$work/$name.sock" --migration-port 0 --secret-file "$work/secret" \
    "${host_options[@]}" >"$work/$name.log" 2>&1 &
  pids+=($!)
done
for name in a b; do
  migration_port[$name]=$(await_line "$work/$name.log" " ready: api .*, migration port [0-9]+$")
done
grep -h " network " "$work/a.log" | head -1

port=""
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 30000))
  [[ -z $(ss -Hltn "sport = :$candidate") ]] && { port=$candidate; break; }
done
[[ -n "$port" ]] || fail "no free port found for the guest"
vm=$("${cli[@]}" vm create --api "unix:$work/a.sock" src/guests/bin/kv.elf --memory 64M --port "6379:$port")
for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
[[ $(redis-cli -p "$port" PING) == PONG ]] || fail "kv on 127.0.0.1:$port does not answer PING"

# Preloaded keys, each with a value of its own; redis-cli --pipe reports how many replies were errors.
seed=$RANDOM$RANDOM
seq 1 "$keys" | awk -v seed="$seed" '{ v = "v" seed "-" $1; printf "*3\r\n$3\r\nSET\r\n$%d\r\nsoak:%d\r\n$%d\r\n%s\r\n", length("soak:" $1), $1, length(v), v }' \
  | redis-cli -p "$port" --pipe >"$work/preload.log" 2>&1 || fail "preloading $keys keys failed: $(cat "$work/preload.log")"
grep -q "errors: 0, replies: $keys" "$work/preload.log" || fail "preloading: $(tail -1 "$work/preload.log")"

# The load: bounded redis-benchmark runs one after another until the migrations are done. Each run's INCRs are
# counted only when it exits 0 (no error, every request answered); a failed run is recorded and ends the load.
: >"$work/load.count"
(
  runs=0
  while [[ ! -e "$work/stop" ]] && ((runs < 100000)); do
    runs=$((runs + 1))
    if ! timeout 120 redis-benchmark -p "$port" -t set,get,incr -n 20000 -c 20 -P 1 -q >"$work/load.out" 2>&1; then
      { echo "run $runs failed:"; cat "$work/load.out"; } >"$work/load.error"
      exit 1
    fi
    if grep -qi "error" "$work/load.out"; then
      { echo "run $runs reported:"; cat "$work/load.out"; } >"$work/load.error"
      exit 1
    fi
    echo 20000 >>"$work/load.count"
  done
) &
load_pid=$!

declare -a downtimes=()
started=$SECONDS
from=a
for i in $(seq "$migrations"); do
  ((SECONDS < deadline)) || fail "time limit of $max_seconds s reached after $((i - 1)) migrations"
  [[ -e "$work/load.error" ]] && fail "client load failed before migration $i: $(cat "$work/load.error")"
  sleep "$interval"
  to=$([[ $from == a ]] && echo b || echo a)
  if ! out=$(timeout 120 "${cli[@]}" migrate --api "unix:$work/$from.sock" "$vm" --to "127.0.0.1:${migration_port[$to]}" 2>&1); then
    fail "migration $i ($from -> $to) failed: $out"
  fi
  # "… in 520.6 ms; guest paused 67.17 ms (…)"
  downtime=$(sed -n 's/.*guest paused \([0-9.]*\) ms.*/\1/p' <<<"$out" | head -1)
  downtimes+=("${downtime:-0}")
  from=$to
  if ((i % 10 == 0 || i == migrations)); then
    printf 'soak: %d/%d migrations, %d s, %d load runs completed\n' "$i" "$migrations" "$((SECONDS - started))" "$(wc -l <"$work/load.count")" >&2
  fi
done

touch "$work/stop"
for _ in $(seq 1300); do kill -0 "$load_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$load_pid" 2>/dev/null && fail "the client load did not finish its last run within 130 s"
wait "$load_pid" || true
load_pid=""
[[ -e "$work/load.error" ]] && fail "client load failed: $(cat "$work/load.error")"

runs=$(wc -l <"$work/load.count")
incrs=$((runs * 20000))
counter=$(redis-cli -p "$port" GET "counter:__rand_int__")
[[ "$counter" == "$incrs" ]] || fail "counter is '$counter' after $incrs INCRs"
seq 1 "$keys" | awk '{ printf "GET soak:%d\n", $1 }' | redis-cli -p "$port" >"$work/values"
lost=$(seq 1 "$keys" | awk -v seed="$seed" '{ print "v" seed "-" $1 }' | diff - "$work/values" | grep -c '^[<>]' || true)
((lost == 0)) || fail "$lost of $keys keys lost or changed"
dbsize=$(redis-cli -p "$port" DBSIZE)
# redis-benchmark without -r uses the literal keys key:__rand_int__ and counter:__rand_int__.
[[ "$dbsize" == $((keys + 2)) ]] || fail "DBSIZE is $dbsize, expected $((keys + 2))"

median=$(printf '%s\n' "${downtimes[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
worst=$(printf '%s\n' "${downtimes[@]}" | sort -g | tail -1)
requests=$((runs * 60000))
echo "soak: $migrations migrations in $((SECONDS - started)) s under redis-benchmark load ($runs runs, $requests requests, 20 connections): 0 client errors, counter $counter = INCRs sent, $keys of $keys keys intact; guest downtime median $median ms, worst $worst ms"

#!/usr/bin/env bash
# Peer comparison: QEMU (TCG, Debian's qemu-system-x86) and this project migrate and checkpoint 1 GiB guests holding
# the same memory contents over loopback, in one run; prints one Markdown table with medians and ratios.
#
#   benchmarks/peers/qemu.sh [--runs N]
#
# Cases: 1 GiB of RAM holding 512 MiB of random bytes at 16 MiB (QEMU: -device loader; ours: the same file through
# `migration bench migrate --load`), and 1 GiB all zero. QEMU migrates with its defaults and with its best settings
# here (max-bandwidth 10 GiB/s, 2 multifd channels, downtime-limit 20 ms); its checkpoint is `migrate exec:cat > FILE`
# (bandwidth cap lifted) and `migrate-incoming exec:cat FILE`.
set -euo pipefail

runs=3
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs)
            [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]?$ ]] || { echo "qemu.sh: --runs needs a number 1..99" >&2; exit 2; }
            runs=$2; shift 2 ;;
        *) echo "qemu.sh: unknown argument '$1' (usage: benchmarks/peers/qemu.sh [--runs N])" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
qmp="$root/benchmarks/peers/qmp.py"
table="$root/benchmarks/peers/table.py"

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v python3 >/dev/null || need+=(python3)
if [[ ${#need[@]} -gt 0 ]]; then
    echo "qemu.sh: installing ${need[*]}" >&2
    apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/peers-qemu.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

blob="$work/blob.bin"
head -c 512M /dev/urandom >"$blob"
results="$work/results.jsonl"
: >"$results"

# Starts one QEMU with a QMP socket; extra arguments follow (the loader, -incoming defer). Sets $started to its pid.
start_qemu() {
    local sock=$1; shift
    rm -f "$sock"
    qemu-system-x86_64 -machine pc -accel tcg -m 1024 -nographic -nodefaults -display none -S \
        -qmp "unix:$sock,server=on,wait=off" "$@" </dev/null >>"$work/qemu.log" 2>&1 &
    started=$!
    pids+=("$started")
}

stop_qemu() {
    local sock=$1 pid=$2
    timeout 30 python3 "$qmp" quit "$sock" >/dev/null 2>&1 || true
    timeout 30 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true
}

# Appends one result line: {"side", "case", "op", "mode", ...figures}.
record() {
    python3 -c 'import json,sys; d=json.loads(sys.argv[5]); d.update(side=sys.argv[1], case=sys.argv[2], op=sys.argv[3], mode=sys.argv[4]); print(json.dumps(d))' \
        "$@" >>"$results"
}

for case in random zero; do
    loader=()
    [[ $case == random ]] && loader=(-device "loader,file=$blob,addr=0x1000000")

    for mode in defaults best; do
        for ((run = 1; run <= runs; run++)); do
            start_qemu "$work/src.sock" "${loader[@]}"; src=$started
            start_qemu "$work/dst.sock" "${loader[@]}" -incoming defer; dst=$started
            port=$(python3 "$qmp" free-port)
            figures=$(timeout 330 python3 "$qmp" migrate "$work/src.sock" "$work/dst.sock" "$port" "$mode")
            echo "qemu.sh: QEMU $mode, $case, run $run/$runs: $figures" >&2
            record qemu "$case" migrate "$mode" "$figures"
            stop_qemu "$work/src.sock" "$src"
            stop_qemu "$work/dst.sock" "$dst"
        done
    done

    for ((run = 1; run <= runs; run++)); do
        start_qemu "$work/src.sock" "${loader[@]}"; src=$started
        saved=$(timeout 330 python3 "$qmp" save "$work/src.sock" "$work/state.qemu" unlimited)
        stop_qemu "$work/src.sock" "$src"
        start_qemu "$work/dst.sock" "${loader[@]}" -incoming defer; dst=$started
        loaded=$(timeout 330 python3 "$qmp" load "$work/dst.sock" "$work/state.qemu")
        stop_qemu "$work/dst.sock" "$dst"
        bytes=$(stat -c %s "$work/state.qemu")
        rm -f "$work/state.qemu"
        echo "qemu.sh: QEMU checkpoint, $case, run $run/$runs: save $saved, load $loaded, file $bytes bytes" >&2
        record qemu "$case" save unlimited "$saved"
        record qemu "$case" load unlimited "$loaded"
    done

    load=()
    [[ $case == random ]] && load=(--load "$blob@0x1000000")
    ours=$(timeout 1200 "$root/tools/migration" bench migrate --memory 1G "${load[@]}" --runs "$runs" --dir "$work" --json)
    echo "qemu.sh: ours, $case: $ours" >&2
    record ours "$case" all ours "$ours"
done

echo
echo "Peers on $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(qemu-system-x86_64 --version | head -1)"
echo
python3 "$table" "$results" "$runs"

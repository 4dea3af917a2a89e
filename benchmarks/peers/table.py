#!/usr/bin/env python3
"""Turns the result lines of benchmarks/peers/qemu.sh into one Markdown table: medians side by side, with ratios.

usage: table.py RESULTS.jsonl RUNS
"""
import json
import statistics
import sys

GUEST_BYTES = 1 << 30
CASES = {"random": "1 GiB, 512 MiB random", "zero": "1 GiB, all zero"}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rate(milliseconds):
    """Guest RAM (10^9 bytes) per second: the same measure for both sides."""
    return GUEST_BYTES / (milliseconds / 1e3) / 1e9 if milliseconds else None


def ms(value):
    return "—" if value is None else f"{value:,.1f} ms"


def gbps(value):
    return "—" if value is None else f"{value:.2f}"


def ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return "—"
    return f"{numerator / denominator:.2f}×"


def main(path, runs):
    lines = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]

    def qemu(case, op, mode, field):
        return median([r.get(field) for r in lines if r["side"] == "qemu" and r["case"] == case and r["op"] == op and r["mode"] == mode])

    ours = {r["case"]: r for r in lines if r["side"] == "ours"}
    print(f"Median of {runs} runs each. GB/s = guest RAM (2^30 bytes, in 10^9 bytes) / total time, both sides; "
          "QEMU's own rate (`ram.mbps`, bytes it sent) in brackets. Ratios > 1 mean ours is ahead.")
    print()
    print("| case | QEMU settings | QEMU total | QEMU downtime | QEMU GB/s (own) | ours total | ours downtime (stop-and-copy round) | ours GB/s "
          "| total QEMU/ours | downtime QEMU/ours | GB/s ours/QEMU |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case, label in CASES.items():
        mine = ours.get(case)
        if mine is None:
            continue
        migration = mine["migration"]
        our_total = median(migration["totalMsRuns"])
        our_down = median(migration["downtimeMsRuns"])
        our_stop = median(migration["stopAndCopyMsRuns"])
        for mode, settings in (("defaults", "defaults"), ("best", "10 GiB/s, multifd 2, 20 ms")):
            total = qemu(case, "migrate", mode, "total_ms")
            down = qemu(case, "migrate", mode, "downtime_ms")
            own = qemu(case, "migrate", mode, "mbps")
            own_text = "" if own is None else f" ({own / 8e3:.2f})"
            print(f"| {label}: live migration | {settings} | {ms(total)} | {ms(down)} | {gbps(rate(total))}{own_text} "
                  f"| {ms(our_total)} | {ms(our_down)} ({ms(our_stop)}) | {gbps(rate(our_total))} "
                  f"| {ratio(total, our_total)} | {ratio(down, our_down)} | {ratio(rate(our_total), rate(total))} |")
    for case, label in CASES.items():
        mine = ours.get(case)
        if mine is None:
            continue
        checkpoint = mine["checkpoint"]
        our_save = median(checkpoint["saveMsRuns"])
        our_load = median(checkpoint["loadMsRuns"])
        save = qemu(case, "save", "unlimited", "total_ms")
        save_down = qemu(case, "save", "unlimited", "downtime_ms")
        load = qemu(case, "load", "unlimited", "load_ms")
        print(f"| {label}: checkpoint save | `exec:cat > FILE`, 10 GiB/s | {ms(save)} | {ms(save_down)} | {gbps(rate(save))} "
              f"| {ms(our_save)} | — | {gbps(rate(our_save))} | {ratio(save, our_save)} | — | {ratio(rate(our_save), rate(save))} |")
        print(f"| {label}: checkpoint load | `exec:cat FILE` | {ms(load)} | — | {gbps(rate(load))} "
              f"| {ms(our_load)} | — | {gbps(rate(our_load))} | {ratio(load, our_load)} | — | {ratio(rate(our_load), rate(load))} |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Interleaved A/B timing of keyleak builds on one corpus.

    bench/ab.py RUNS "SUBCOMMAND ARGS" BIN [BIN...]
    bench/ab.py 30 "dir /work/bench-corpus/ccxt --no-ignore" old/keyleak new/keyleak

Each round runs every binary once, in order (A B A B …), so a load change on a shared machine
hits all of them alike. Every run gets `-f json -o /dev/null --no-progress -q`. Prints, per
binary, the median wall time, the fastest run, the median user+sys CPU and the median peak RSS.
"""
import os
import shlex
import statistics as st
import sys
import time


def run(binary: str, args: list[str]) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.execv(binary, [binary, *args, "-f", "json", "-o", "/dev/null", "--no-progress", "-q"])
    _, _, ru = os.wait4(pid, 0)
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    runs, args, bins = int(sys.argv[1]), shlex.split(sys.argv[2]), sys.argv[3:]
    res: dict[str, list] = {b: [] for b in bins}
    for _ in range(runs):
        for b in bins:
            res[b].append(run(b, args))
    for b, r in res.items():
        wall = [x[0] for x in r]
        print(f"{b:40s} wall {st.median(wall):.4f} s  min {min(wall):.4f}  "
              f"cpu {st.median(x[1] for x in r):.3f} s  rss {st.median(x[2] for x in r):.0f} MiB  n={len(r)}")


if __name__ == "__main__":
    main()

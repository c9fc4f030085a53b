#!/usr/bin/env python3
"""CPU use per thread name of the given processes (and their children) over a window.

    thread_cpu.py SECONDS PID [PID ...] > table.txt

Reads /proc/PID/task/TID/{comm,stat} at the start and the end of the window and prints, per
process and thread name (switchyard names its threads: sy-http-N, sy-dispatch, sy-results, ...),
the number of threads and their CPU use in % of one core, busiest first. Worker processes are
found as children of the given PIDs. A thread that is near 100 % is a bottleneck.
"""
import os
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def children(pid):
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


def sample(pids):
    """{(pid, process name, thread name, tid): cpu ticks}"""
    ticks = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm") as f:
                process = f.read().strip()
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    name = f.read().strip()
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks[(pid, process, name, tid)] = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


def main():
    seconds = float(sys.argv[1])
    roots = [int(p) for p in sys.argv[2:]]
    pids = set(roots)
    for root in roots:
        pids.update(children(root))
    before = sample(pids)
    start = time.monotonic()
    time.sleep(seconds)
    after = sample(pids)
    elapsed = time.monotonic() - start
    groups = {}
    for key, end in after.items():
        pid, process, name, _ = key
        used = (end - before.get(key, end)) / TICKS / elapsed * 100
        group = groups.setdefault((pid, process, name), [0, 0.0])
        group[0] += 1
        group[1] += used
    print(f"CPU per thread name over {elapsed:.1f} s (% of one core)")
    print(f"{'pid':>8} {'process':<16} {'thread':<16} {'threads':>7} {'cpu %':>8}")
    for (pid, process, name), (count, used) in sorted(groups.items(), key=lambda g: -g[1][1]):
        if used >= 0.5:
            print(f"{pid:>8} {process:<16} {name:<16} {count:>7} {used:>8.1f}")


if __name__ == "__main__":
    main()

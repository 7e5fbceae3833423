#!/usr/bin/env python3
"""Runs a command and samples its /proc/<pid>/smaps every 5 ms; prints, at the sample with the
most resident memory, how it splits: regions advised for huge pages (a worker's placed input and
gather buffers, exec/memory_pages.h), other anonymous memory (the allocator's heap, stacks) and
mapped files (binary, libraries, spill files). Used on a worker's task file, kept from a run:

  .venv/bin/python bench/smaps_peak.py build/release/intraday worker <task.json>

(the task's scratch directory must exist; workers also get ARROW_DEFAULT_MEMORY_POOL=jemalloc and
JE_ARROW_MALLOC_CONF=narenas:1 from the driver, exec/memory_pages.h: set them to measure the same).
With --timeline first it also prints the resident memory over time (about 40 samples, "seconds:MB"),
which shows the phase that holds the peak (docs/benchmarks.md, "Session 21").
"""
import re
import subprocess
import sys
import time


def sample(pid: int):
    try:
        text = open(f"/proc/{pid}/smaps").read()
    except OSError:
        return None
    advised = anonymous = files = 0
    name, rss = "", 0
    for line in text.splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            parts = line.split()
            name, rss = (parts[5] if len(parts) > 5 else ""), 0
        elif line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("VmFlags:"):
            if " hg" in line:
                advised += rss
            elif name.startswith("/"):
                files += rss
            else:
                anonymous += rss
    return advised, anonymous, files


def main() -> int:
    args = sys.argv[1:]
    timeline = bool(args) and args[0] == "--timeline"
    if timeline:
        args = args[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = (0, 0, 0)
    over_time = []
    while proc.poll() is None:
        s = sample(proc.pid)
        if s is not None:
            over_time.append((time.monotonic() - start, sum(s) // 1024))
            if sum(s) > sum(best):
                best = s
        time.sleep(0.005)
    if timeline and over_time:
        step = max(1, len(over_time) // 40)
        print(" ".join(f"{t:.2f}:{mb}" for t, mb in over_time[::step]))
    advised, anonymous, files = (x // 1024 for x in best)
    print(f"peak {advised + anonymous + files} MB: huge-page advised {advised}, other anonymous {anonymous}, "
          f"files {files} (exit {proc.returncode})")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())

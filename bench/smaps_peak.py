#!/usr/bin/env python3
"""Runs a command and samples its /proc/<pid>/smaps every 5 ms; prints, at the sample with the
most resident memory, how it splits: regions advised for huge pages (a worker's placed input and
gather buffers, exec/memory_pages.h), other anonymous memory (the allocator's heap, stacks) and
mapped files (binary, libraries, spill files). Used on a worker's task file, kept from a run:

  .venv/bin/python bench/smaps_peak.py build/release/intraday worker <task.json>

(the task's scratch directory must exist; workers also get MIMALLOC_ALLOW_THP=0 and
MIMALLOC_PURGE_DELAY=-1 from the driver, exec/memory_pages.h: set them to measure the same).
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
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = (0, 0, 0)
    while proc.poll() is None:
        s = sample(proc.pid)
        if s is not None and sum(s) > sum(best):
            best = s
        time.sleep(0.005)
    advised, anonymous, files = (x // 1024 for x in best)
    print(f"peak {advised + anonymous + files} MB: huge-page advised {advised}, other anonymous {anonymous}, "
          f"files {files} (exit {proc.returncode})")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())

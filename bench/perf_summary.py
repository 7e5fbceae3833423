#!/usr/bin/env python3
"""Summarises a `perf record` of `intraday run` (driver and workers together) into where the CPU
time goes: samples per phase of the run (plan, shred, worker input, sort, modules, output) with
the share spent in the kernel's page-fault path, and the top functions by self time.

Record with call graphs that unwind through Arrow and libstdc++ (built without frame pointers),
e.g.:
  perf record --call-graph dwarf,32768 -F 250 -o perf.data -- intraday run pipeline.yaml --progress never
  .venv/bin/python bench/perf_summary.py perf.data [--top 20]
With --timeline MS it also prints, per MS milliseconds of the run, each process's samples and its
main phases: where cores sit idle (a bucket holds at most frequency x MS / 1000 samples per core),
e.g. recorded with `-F 1000` and read with `--timeline 20` (docs/benchmarks.md, "Session 13").
Phases are recognised from the function names on each sample's stack (first rule that matches);
a sample whose stack stops before reaching intraday code is attributed by the library function it
is in (FALLBACK); the rest counts as "other" of its process (start-up, exit).
"""
import argparse
import collections
import re
import subprocess
import sys

# The first pass's own loop: the first lambda of RunSlicedDirectBatch (its rows' slots and buckets).
FIRST_PASS = re.compile(r"RunSlicedDirectBatch\(.*\)::\{lambda\(unsigned long\)#1\}")
# (phase, symbols that must all appear, at least one of these must appear (empty: no condition));
# a symbol is a substring of a frame's name or a compiled pattern searched in it.
RULES = [
    ("driver: plan (size estimates, ListingId scans)", ["PlanDay"], []),
    ("driver: shred, read + decode Parquet", ["FileShredder::Run"], ["TableFileReader", "parquet::"]),
    ("driver: shred, route rows (Take) + write spill IPC", ["ShredDay"], []),
    ("driver: shred, route rows (Take) + write spill IPC", ["FileShredder"], []),
    ("driver: day output (concatenate batches, write Parquet)", ["WriteDayParquet"], []),
    ("driver: day output (concatenate batches, write Parquet)", ["DayFileFromOutputs"], []),
    ("worker: read lake files, place rows by listing", ["ReadTablesGrouped"], []),
    # A day in time slices (exec/sliced_day.cc): the first pass reads ListingId and the event time
    # of every row; then each slice's rows are decoded and placed (PlaceTables), computed per
    # listing, and its output rows set aside and merged (SliceOutputs).
    ("worker: time slices' first pass (ListingId, event times)", ["PieceInt64Columns"], []),
    ("worker: time slices' first pass (ListingId, event times)", [FIRST_PASS], []),
    ("worker: read lake files, place rows by listing", ["PlaceTables"], []),
    ("worker: time slices' output rows set aside and merged", ["SliceOutputs"], []),
    ("worker: read spill files", ["ReadSpill"], []),
    ("worker: module l2tw", ["L2TwModule"], []),
    ("worker: module l2", ["L2Module"], []),
    ("worker: module l3", ["L3Module"], []),
    ("worker: module trade", ["TradeModule"], []),
    ("worker: timeline", ["BuildTimeline"], []),
    ("worker: assemble + write batch output (IPC)", ["OutputAssembler"], []),
    ("worker: assemble + write batch output (IPC)", ["WriteIpcAtomic"], []),
    ("worker: write output (day file or IPC)", ["OutputChunks"], []),
    ("worker: other per-listing work", ["ListingDayComputer"], []),
]
# When unwinding stops early (Arrow's kernels, libc), the stack does not reach intraday code; these
# rules then attribute the sample by the library function it is in, per process role.
FALLBACK = [
    (["TakeImpl", "TakeExec", "CheckIndexBounds"], "worker: gather rows in sorted order (Take)",
     "driver: shred, route rows (Take) + write spill IPC"),
    (["merge_sort", "move_merge", "merge_adaptive", "ColumnSorter"], "worker: sort indices (ListingId, time)", None),
    (["ZSTD_", "ColumnWriter", "PageWriter", "parquet::arrow::FileWriter", "WritePath"],
     "worker: write output (day file or IPC)", "driver: day output (concatenate batches, write Parquet)"),
    (["pread", "snappy::", "parquet::"], "worker: read inputs (spill IPC or Parquet)",
     "driver: shred, read + decode Parquet"),
    (["unlink"], "worker: delete spill inputs", None),
    (["memset", "memcpy", "memmove", "mi_page_free_list_extend"],
     "worker: unattributed copies/fills (truncated stacks)", "driver: unattributed copies/fills (truncated stacks)"),
]
PAGE_FAULT = "asm_exc_page_fault"
WORKER_ONLY = ("RunWorker", "RunBatchTask", "LoadTable", "GatherColumn", "ListingDayComputer")
HEADER = re.compile(r"^\s*(\d+)/(\d+)\s+([\d.]+):\s*$")


def samples(path: str):
    """Yields (pid, time in seconds, [(symbol, dso), ...] leaf first) for every sample of a perf.data file."""
    proc = subprocess.Popen(["perf", "script", "-i", path, "-F", "pid,tid,time,ip,sym,dso"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
    pid, time, frames = None, 0.0, []
    for line in proc.stdout:
        if not line.strip():
            continue
        header = HEADER.match(line)
        if header:  # a sample's header: "pid/tid time:" (perf may indent it)
            if pid is not None:
                yield pid, time, frames
            pid, time, frames = int(header.group(1)), float(header.group(3)), []
            continue
        parts = line.strip().split(" ", 1)
        rest = parts[1] if len(parts) > 1 else ""
        sym, _, dso = rest.rpartition(" (")
        frames.append((sym, dso.rstrip(")")))
    if pid is not None:
        yield pid, time, frames
    proc.wait()


def phase_of(pid: int, frames, workers) -> str:
    """The phase of one sample: the first rule its stack matches, else its library (FALLBACK)."""
    names = [s for s, _ in frames]

    def found(symbol) -> bool:
        if isinstance(symbol, re.Pattern):
            return any(symbol.search(s) for s in names)
        return any(symbol in s for s in names)

    for name, required, any_of in RULES:
        if all(found(r) for r in required) and (
                not any_of or any(a in s for a in any_of for s in names)):
            return name
    for keys, as_worker, as_driver in FALLBACK:
        phase = as_worker if pid in workers else as_driver
        if phase is not None and any(k in s for k in keys for s in names):
            return phase
    return "worker: other (start-up, config, exit, pool threads)" if pid in workers else \
        "driver: other (start-up, config, waiting, pool threads)"


def print_timeline(data, workers, bucket_ms: int) -> None:
    """Per bucket of the run: each process's samples, and its two main phases."""
    start = min(t for _, t, _ in data)
    buckets = collections.defaultdict(lambda: collections.defaultdict(collections.Counter))
    for pid, time, frames in data:
        phase = phase_of(pid, frames, workers).split(": ", 1)[-1]
        buckets[int((time - start) * 1000 // bucket_ms)][pid][phase] += 1
    print(f"\nTimeline ({bucket_ms} ms buckets; per process: samples, main phases)")
    for b in sorted(buckets):
        parts = []
        for pid, phases in sorted(buckets[b].items()):
            role = "worker" if pid in workers else "driver"
            top = ", ".join(f"{p} {n}" for p, n in phases.most_common(2))
            parts.append(f"{role} {pid}: {sum(phases.values())} ({top})")
        print(f"{b * bucket_ms / 1000:7.2f} s  " + "; ".join(parts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("perf_data")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--by-phase", type=int, default=0, metavar="N",
                    help="also print the N functions with most self time within each phase")
    ap.add_argument("--timeline", type=int, default=0, metavar="MS",
                    help="also print each process's samples and main phases per MS milliseconds")
    args = ap.parse_args()

    data = list(samples(args.perf_data))
    if not data:
        print("no samples", file=sys.stderr)
        return 1
    # A pid is a worker if any of its samples runs the worker command, else the driver.
    # (Threads of a worker's pool have stacks that never reach RunWorker: any worker-only
    # function marks the process.)
    workers = {pid for pid, _, frames in data if any(w in s for s, _ in frames for w in WORKER_ONLY)}
    phases = collections.Counter()
    faults = collections.Counter()
    self_time = collections.Counter()
    phase_self = collections.defaultdict(collections.Counter)
    for pid, _, frames in data:
        names = [s for s, _ in frames]
        phase = phase_of(pid, frames, workers)
        phases[phase] += 1
        if any(PAGE_FAULT in s for s in names):
            faults[phase] += 1
        leaf, dso = frames[0] if frames else ("?", "?")
        self_time[(leaf[:110], dso.rsplit("/", 1)[-1])] += 1
        phase_self[phase][leaf[:90]] += 1

    total = len(data)
    print(f"{total} samples; {len(workers)} worker processes")
    print("\n| phase | % of samples | of which page faults (% of all samples) |\n|---|---:|---:|")
    for phase, n in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"| {phase} | {100 * n / total:.1f} | {100 * faults[phase] / total:.1f} |")
    print(f"| all | 100.0 | {100 * sum(faults.values()) / total:.1f} |")
    print(f"\n| function (self time) | library | % of samples |\n|---|---|---:|")
    for (sym, dso), n in self_time.most_common(args.top):
        print(f"| `{sym}` | {dso} | {100 * n / total:.1f} |")
    if args.by_phase:
        for phase, n in sorted(phases.items(), key=lambda kv: -kv[1]):
            print(f"\n{phase} ({100 * n / total:.1f}%):")
            for sym, k in phase_self[phase].most_common(args.by_phase):
                print(f"  {100 * k / total:5.1f}  {sym}")
    if args.timeline:
        print_timeline(data, workers, args.timeline)
    return 0


if __name__ == "__main__":
    sys.exit(main())

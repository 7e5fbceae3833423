#!/usr/bin/env python3
"""Engine scaling benchmark (issue 3): `intraday run` on generated lakes of growing size with a
fixed per-worker memory budget. Prints, per run: input rows, wall time, rows/s, peak RSS of the
driver and of the largest worker (from the run report, i.e. the kernel's ru_maxrss), batches.
It also samples the process tree (bench/_util.py): each process's own peak (VmHWM) is printed
beside the report's figures, because a process started with vfork + exec inherits its parent's
ru_maxrss (see docs/benchmarks.md, "How memory is measured").

Usage (from the repository root, after scripts/setup.sh):
  .venv/bin/python bench/engine_scaling.py [--profile small] [--budget 256MiB] [--workers 2]
      [--days 1,2,4] [--listings 25,50,100] [--base-listings 50] [--base-days 2] [--data DIR] [--bin PATH]
      [--pass activity|bars] [--overlap on|off|both]
Lakes are generated once into --data (default bench/data, git-ignored) and reused.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import PASS_YAML, measure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("INTRADAY_BIN", REPO / "build" / "release" / "intraday"))
START = "2026-03-02"  # a Monday


def weekdays_end(days: int) -> str:
    import datetime as dt

    d = dt.date.fromisoformat(START)
    n = 0
    while True:
        if d.weekday() < 5:
            n += 1
            if n == days:
                return d.isoformat()
        d += dt.timedelta(days=1)


def lake(data: Path, listings: int, days: int, profile: str) -> Path:
    root = data / f"lake-{profile}-{listings}x{days}"
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([str(BIN), "generate", "--out", str(root), "--listings", str(listings), "--start", START,
                        "--end", weekdays_end(days), "--mics", "XLON,XPAR", "--profile", profile, "--seed", "42"],
                       check=True, stdout=subprocess.DEVNULL)
        (root / ".complete").write_text("")
    return root


# The passes --pass selects: `activity` (counts only: the engine's own cost), `bars` (the pass of
# bench/compare.py: trade, l2 levels 5, l2tw, l3 on 1-minute dense buckets).
PASSES = {
    "activity": """passes:
  - name: activity
    bucket: 1m
    modules:
      activity: {tables: [trades, l2, l3]}
""",
    "bars": PASS_YAML,
}


def run(data: Path, root: Path, days: int, budget: str, workers: int, passes: str = "activity",
        overlap: bool = True) -> dict:
    work = data / "runs" / root.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config = work / "pipeline.yaml"
    config.write_text(f"""
data: {{root: {root}}}
universe: {{mics: [XLON, XPAR]}}
dates: {{start: {START}, end: {weekdays_end(days)}}}
run: {{output: {work / 'out'}, scratch: {work / 'scratch'}, workers: {workers}, memory_per_worker: {budget}, overlap_days: {str(overlap).lower()}}}
""" + PASSES[passes])
    m = measure([str(BIN), "run", str(config), "--progress", "never"], log=work / "stderr.log")
    if not m.ok:
        raise SystemExit(f"intraday run {config} failed: {m.error}")
    wall = m.wall
    report = json.loads(next((work / "out" / "_runs").glob("*.json")).read_text())
    batches = [b for d in report["days"] for b in d["batches"]]
    rows = sum(b.get("input_rows", 0) for b in batches)
    return {
        "wall": wall,
        "rows": rows,
        "driver_rss": report["driver_peak_rss_bytes"],
        "worker_rss": max(b["peak_rss_bytes"] for b in batches),
        "driver_hwm": m.root_hwm,
        "worker_hwm": max(m.child_hwm, default=0),
        "batches": len(batches),
        "strategies": sorted({d["strategy"] for d in report["days"]}),
    }


def main() -> int:
    global BIN  # --bin replaces the default for lake() and run()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="small")
    ap.add_argument("--budget", default="256MiB")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--days", default="1,2,4")
    ap.add_argument("--listings", default="25,50,100")
    ap.add_argument("--base-listings", type=int, default=50)
    ap.add_argument("--base-days", type=int, default=2)
    ap.add_argument("--data", type=Path, default=REPO / "bench" / "data")
    ap.add_argument("--pass", dest="passes", choices=sorted(PASSES), default="activity",
                    help="the pass to run (default activity)")
    ap.add_argument("--bin", type=Path, default=BIN, help="intraday binary (default $INTRADAY_BIN or build/release/intraday)")
    ap.add_argument("--overlap", choices=["on", "off", "both"], default="on",
                    help="run.overlap_days; both = each point twice, without then with")
    args = ap.parse_args()
    BIN = args.bin
    if not BIN.exists():
        print(f"{BIN} is missing: run scripts/setup.sh first", file=sys.stderr)
        return 1
    series = [(args.base_listings, int(d)) for d in args.days.split(",")]
    series += [(int(n), args.base_days) for n in args.listings.split(",")]
    print(f"command: {' '.join(sys.argv)}")
    print(f"profile {args.profile}, budget {args.budget} per worker, {args.workers} workers, pass {args.passes}")
    print(f"{'listings':>8} {'days':>4} {'input rows':>12} {'wall s':>8} {'rows/s':>12} {'driver RSS':>11} "
          f"{'max worker RSS':>15} {'driver HWM':>11} {'worker HWM':>11} {'batches':>7} {'overlap':>7}  strategy")
    overlaps = {"on": [True], "off": [False], "both": [False, True]}[args.overlap]
    for (listings, days), overlap in [(point, o) for point in series for o in overlaps]:
        root = lake(args.data, listings, days, args.profile)
        r = run(args.data, root, days, args.budget, args.workers, args.passes, overlap)
        print(f"{listings:>8} {days:>4} {r['rows']:>12,} {r['wall']:>8.2f} {r['rows'] / r['wall']:>12,.0f} "
              f"{r['driver_rss'] / 2**20:>8.1f} MiB {r['worker_rss'] / 2**20:>12.1f} MiB "
              f"{r['driver_hwm'] / 2**20:>7.1f} MiB {r['worker_hwm'] / 2**20:>7.1f} MiB {r['batches']:>7} "
              f"{'on' if overlap else 'off':>7}  "
              f"{','.join(r['strategies'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

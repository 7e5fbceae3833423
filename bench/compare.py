#!/usr/bin/env python3
"""intraday against Polars and DuckDB (issue 6), in one run, on generated lakes of growing size.

For every lake of the two scaling series (days at a fixed universe, listings at fixed days):
  1. runs each engine once and checks that Polars' and DuckDB's outputs equal intraday's (same
     columns and types, same rows in the same order, floats within relative 1e-9 / absolute 1e-12,
     everything else exact); a difference stops the script, naming engine, column and first row;
  2. times each engine --reps times (that first run included), the engines alternating in a
     rotating order: wall time, CPU time (user + sys of the whole process tree, from wait4; the
     tables give the sys part as "kernel s": mostly first touches of fresh memory), the wall
     time's ratio to intraday with a bootstrap 95% interval (bench/_util.py), and
     peak RSS of the process tree (see bench/_util.py and docs/benchmarks.md for how);
  3. also times "arrow": pyarrow reading and decoding the columns the pass needs from the same
     files, with no compute: the I/O floor.
Before each run the script reads the lake's files of the run's days (so that every engine finds
them in the page cache, which on this machine does not keep every lake).
The machine may be shared (builds): before each run the script waits until other processes use
less than --quiet-share of the CPU, measures what they used during the run (from /proc/stat), and
reruns a run during which they used more than --noisy-share (the tables show the worst kept).
Then prints one table per series (medians, ratios against intraday) and writes a Markdown report,
the raw results (JSON) and PNG plots into --report (default docs/bench; bench/data/quick for
--quick).

The pass (bench/_util.py, PASS_YAML): one pass `bars`, 1-minute buckets, anchor end, closed right,
dense timeline, modules trade: {}, l2: {levels: 5}, l2tw: {}, l3: {}. The Polars and DuckDB
versions are bench/_polars_job.py and bench/_duckdb_job.py; every engine runs as a child process
with the same threads (--workers, default 2) and memory (intraday: --budget per worker x workers;
DuckDB: memory_limit = the same total; Polars has no limit: it runs the streaming engine). With
--memory-cap each engine also runs in a memory cgroup of that size (bench/_util.py, MemoryCap): all
have the same memory, and a run the kernel's OOM killer ends is reported as failed.

Usage (from the repository root, after scripts/setup.sh):
  .venv/bin/python bench/compare.py --quick                      # smoke run, about a minute
  .venv/bin/python bench/compare.py                              # the recorded series
  .venv/bin/python bench/compare.py --profile medium --days 1,2,4,8 --base-listings 50 \\
      --listings 25,50,100,200 --base-days 2 --reps 3 --budget 1GiB --workers 2
  .venv/bin/python bench/compare.py --memory-cap auto --report docs/bench/capped   # same memory for all
Lakes are generated once into --data (default bench/data, git-ignored) and reused.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _util  # noqa: E402
from _util import DEFAULT_DATA, REPO, START, Mismatch, compare_outputs, measure, read_output, weekdays  # noqa: E402

ENGINES = ("intraday", "polars", "duckdb", "arrow")
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: profile small, days 1,2 at 10 listings, listings 10,20 at 1 day, 2 reps")
    # Sizes default to the recorded series, or to the smoke run's with --quick; explicit flags win.
    ap.add_argument("--profile", help="generator profile (docs/generator.md); default medium (quick: small)")
    ap.add_argument("--days", help="days series, at --base-listings; default 1,2,4,8 (quick: 1,2)")
    ap.add_argument("--base-listings", type=int, help="default 50 (quick: 10)")
    ap.add_argument("--listings", help="listings series, at --base-days; default 25,50,100,200 (quick: 10,20)")
    ap.add_argument("--base-days", type=int, help="default 2 (quick: 1)")
    ap.add_argument("--reps", type=int, help="timed runs per engine and lake (the first is also checked); "
                                             "default 3 (quick: 2)")
    ap.add_argument("--workers", type=int, default=2, help="intraday workers = Polars/DuckDB/Arrow threads")
    ap.add_argument("--budget", default="1GiB", help="intraday memory_per_worker; DuckDB gets workers x budget")
    ap.add_argument("--intraday-set", metavar="KEY=VALUE", action="append", default=[],
                    help="a setting of intraday's run: section (docs/config.md), e.g. time_slice=128MiB; "
                         "repeatable; the report's settings name them")
    ap.add_argument("--memory-cap", metavar="BYTES|auto",
                    help="run every engine in a memory cgroup of this size ('auto': workers x budget, "
                         "DuckDB's memory_limit), so that all have the same memory; a run the kernel's OOM "
                         "killer ends is reported as failed (Linux; needs root or a delegated cgroup)")
    ap.add_argument("--engines", default=",".join(ENGINES), help="subset of " + ",".join(ENGINES))
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed and reported")
    ap.add_argument("--quiet-share", type=float, default=0.10,
                    help="before each run, wait until other processes use less than this share of the CPU")
    ap.add_argument("--quiet-timeout", type=float, default=600, help="longest wait for a quiet machine (s)")
    ap.add_argument("--noisy-share", type=float, default=0.15,
                    help="rerun a run during which other processes used more than this share of the CPU")
    ap.add_argument("--noisy-retries", type=int, default=2, help="reruns of a noisy run, at most")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="lakes and scratch (git-ignored)")
    ap.add_argument("--bin", default=os.environ.get("INTRADAY_BIN", str(REPO / "build" / "release" / "intraday")),
                    help="intraday binary (default $INTRADAY_BIN or build/release/intraday)")
    ap.add_argument("--report", type=Path, help="where the report goes (default docs/bench, or bench/data/quick)")
    ap.add_argument("--replot", action="store_true",
                    help="rewrite the report (tables, plots) from REPORT/compare.json without running anything")
    args = ap.parse_args()
    defaults = (dict(profile="small", days="1,2", base_listings=10, listings="10,20", base_days=1, reps=2)
                if args.quick else
                dict(profile="medium", days="1,2,4,8", base_listings=50, listings="25,50,100,200", base_days=2, reps=3))
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.report is None:
        args.report = args.data / "quick" if args.quick else REPO / "docs" / "bench"
    args.memory_cap_bytes = None
    if args.memory_cap:
        args.memory_cap_bytes = (_util.parse_bytes(args.budget) * args.workers if args.memory_cap == "auto"
                                 else _util.parse_bytes(args.memory_cap))
    args.intraday_run = {}
    for setting in args.intraday_set:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            ap.error(f"--intraday-set: expected KEY=VALUE, got {setting!r}")
        args.intraday_run[key] = value
    args.engines = [e for e in args.engines.split(",") if e]
    unknown = set(args.engines) - set(ENGINES)
    if unknown or "intraday" not in args.engines:
        ap.error(f"--engines: intraday is required, known engines are {', '.join(ENGINES)}")
    return args


# ---------------------------------------------------------------------------------------------
# The machine and the versions, for the report


def sh(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine(args) -> dict:
    import duckdb
    import polars
    import pyarrow

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
    os_name = next((line.split("=", 1)[1].strip('"') for line in Path("/etc/os-release").read_text().splitlines()
                    if line.startswith("PRETTY_NAME")), platform.system())
    return {
        "cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(mem_kib / 2**20, 1), "os": os_name,
        "kernel": platform.release(), "python": platform.python_version(),
        "intraday": sh(args.bin, "--version"), "intraday_bin": args.bin,
        # the binary may be a copy older than the checkout: identify the binary itself
        "intraday_sha256": hashlib.sha256(Path(args.bin).read_bytes()).hexdigest()[:16],
        "polars": polars.__version__, "duckdb": duckdb.__version__, "pyarrow": pyarrow.__version__,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_at_start": load_average(),
        "memory_cap": args.memory_cap, "memory_cap_bytes": args.memory_cap_bytes,
        "memory_reclaim": _util.memory_reclaim(), "intraday_run": args.intraday_run,
    }


# ---------------------------------------------------------------------------------------------
# One engine run


def engine_command(engine: str, args, lake: Path, days: list[str], workdir: Path) -> list[str]:
    budget_total = _util.parse_bytes(args.budget) * args.workers
    day_list = ",".join(days)
    if engine == "intraday":
        config = workdir / "pipeline.yaml"
        _util.write_pipeline(config, lake, days, workdir / "out", workdir / "scratch", args.workers, args.budget,
                             args.intraday_run)
        return [args.bin, "run", str(config), "--progress", "never"]
    if engine == "polars":
        return [PYTHON, str(BENCH / "_polars_job.py"), "--lake", str(lake), "--days", day_list,
                "--out", str(workdir / "out"), "--threads", str(args.workers)]
    if engine == "duckdb":
        return [PYTHON, str(BENCH / "_duckdb_job.py"), "--lake", str(lake), "--days", day_list,
                "--out", str(workdir / "out"), "--threads", str(args.workers),
                "--memory", f"{budget_total // 2**20}MiB", "--temp", str(workdir / "duckdb-tmp")]
    return [PYTHON, str(BENCH / "_arrow_job.py"), "--lake", str(lake), "--days", day_list,
            "--threads", str(args.workers)]


def output_dir(engine: str, workdir: Path) -> Path:
    return workdir / "out" / "bars" if engine == "intraday" else workdir / "out"


def run_engine(engine: str, args, lake: Path, days: list[str], workdir: Path) -> dict:
    shutil.rmtree(workdir, ignore_errors=True)  # a fresh output (and, for intraday, size cache) every run
    workdir.mkdir(parents=True)
    env = dict(os.environ, POLARS_MAX_THREADS=str(args.workers))
    command = engine_command(engine, args, lake, days, workdir)
    if args.memory_cap_bytes:
        with _util.MemoryCap(args.memory_cap_bytes, f"intraday-bench-{os.getpid()}") as cap:
            m = measure(command, env=env, log=workdir / "stderr.log", timeout=args.timeout, cap=cap)
    else:
        m = measure(command, env=env, log=workdir / "stderr.log", timeout=args.timeout)
    result = {"engine": engine, "ok": m.ok, "wall": m.wall, "cpu": m.cpu, "user": m.user, "sys": m.sys,
              "foreign_share": m.foreign_cpu / (m.wall * (os.cpu_count() or 1)),
              "tree_peak": m.tree_peak, "max_process_hwm": max([m.root_hwm, *m.child_hwm]),
              "samples": m.samples, "error": m.error, "cgroup_peak": m.cgroup_peak, "oom_kills": m.oom_kills,
              "host_reported_kib": m.host_reported_kib}
    if m.ok and engine != "intraday":
        job = json.loads(m.stdout.strip().splitlines()[-1])
        result["job"] = job
        # The job's own VmHWM is exact; the sampled values can only be lower.
        result["max_process_hwm"] = max(result["max_process_hwm"], job["vm_hwm"])
    if m.ok and engine == "intraday":
        report = json.loads(next((workdir / "out" / "_runs").glob("*.json")).read_text())
        batches = [b for d in report["days"] for b in d["batches"]]
        # A worker's peak in the report is max(its own peak, the driver's peak when it was spawned)
        # (vfork + exec: docs/benchmarks.md); a figure above the driver's whole-run peak is
        # therefore the worker's own, exact. Otherwise the sampled VmHWM is the best we have.
        exact = [b["peak_rss_bytes"] for b in batches if b["peak_rss_bytes"] > m.root_hwm]
        worker_hwm = max([*exact, *m.child_hwm], default=0)
        result["max_process_hwm"] = max(m.root_hwm, worker_hwm)
        result["intraday"] = {
            "driver_hwm": m.root_hwm, "worker_hwm": worker_hwm, "worker_hwm_sampled": max(m.child_hwm, default=0),
            "report_driver_rss": report["driver_peak_rss_bytes"],
            "report_max_worker_rss": max((b["peak_rss_bytes"] for b in batches), default=0),
            "batches": len(batches), "strategies": sorted({day_strategy(d) for d in report["days"]}),
            "shred_seconds": sum((d.get("shred") or {}).get("seconds", 0) for d in report["days"]),
            "worker_cpu": sum(b["cpu_seconds"] for b in batches),
            # batches run again (a failed or killed worker; one killed for memory is split in two)
            "retries": sum(1 for b in batches if b.get("attempt", 0) > 0),
        }
    # Peak RSS of the tree: the sampled sum of the tree's RSS, or a single process's own peak if that
    # is larger (a spike between two samples).
    result["peak_rss"] = max(result["tree_peak"], result["max_process_hwm"])
    return result


# ---------------------------------------------------------------------------------------------
# Series


def points(args) -> list[dict]:
    """The lakes to run: each (listings, days) once, with the series it belongs to."""
    out: dict[tuple[int, int], dict] = {}
    for d in map(int, args.days.split(",")):
        out.setdefault((args.base_listings, d), {"listings": args.base_listings, "days": d, "series": []})["series"].append("days")
    for n in map(int, args.listings.split(",")):
        out.setdefault((n, args.base_days), {"listings": n, "days": args.base_days, "series": []})["series"].append("listings")
    # One lake per universe size, with as many days as its longest point: the generator's files of
    # a day do not depend on how many days are generated (checked: byte-identical), so the 1-, 2-
    # and 4-day points read the first days of the 8-day lake instead of lakes of their own.
    for p in out.values():
        p["lake_days"] = max(q["days"] for q in out.values() if q["listings"] == p["listings"])
    return list(out.values())


def run_point(args, point: dict, log) -> dict:
    listings, ndays = point["listings"], point["days"]
    lake = _util.ensure_lake(args.bin, args.data, args.profile, listings, point["lake_days"])
    days = weekdays(START, ndays)
    point["lake"] = str(lake)
    point["load_at_start"] = load_average()
    point["stats"] = _util.lake_stats(lake, days)
    rows = point["stats"]["rows"]
    log(f"\n== {listings} listings x {ndays} day(s), profile {args.profile}: {sum(rows.values()):,} input rows "
        f"(l3 {rows['l3']:,}, l2 {rows['l2']:,}, trades {rows['trades']:,}), "
        f"{point['stats']['bytes'] / 2**20:.0f} MiB of Parquet; load {load_average()}")
    work = args.data / "runs" / "compare" / f"{args.profile}-{listings}x{ndays}"
    runs: dict[str, list[dict]] = {e: [] for e in args.engines}
    failed: set[str] = set()
    for rep in range(args.reps):
        order = args.engines[rep % len(args.engines):] + args.engines[:rep % len(args.engines)]
        for engine in order:
            if engine in failed:
                continue
            for attempt in range(args.noisy_retries + 1):
                _util.read_into_page_cache(lake, days)
                _util.wait_until_quiet(args.quiet_share, args.quiet_timeout, log)
                r = run_engine(engine, args, lake, days, work / f"{engine}-{rep}")
                if not r["ok"] or r["foreign_share"] <= args.noisy_share or attempt == args.noisy_retries:
                    break
                log(f"  {engine:<8} rep {rep}: other processes used {100 * r['foreign_share']:.0f}% of the CPU "
                    f"meanwhile ({r['wall']:.2f} s): run again")
            runs[engine].append(r)
            if not r["ok"]:
                failed.add(engine)  # a failure is reported once, not retried at this size
                log(f"  {engine:<8} rep {rep}: FAILED after {r['wall']:.1f} s: {r['error']}")
                continue
            capped = (f"  cgroup peak {r['cgroup_peak'] / 2**20:.0f} MiB, OOM kills {r['oom_kills']}"
                      if args.memory_cap_bytes else "")
            host = (f", host took {r['host_reported_kib'] / 1024:.0f} MiB"
                    if r.get("host_reported_kib") is not None else "")
            log(f"  {engine:<8} rep {rep}: wall {r['wall']:7.2f} s  cpu {r['cpu']:7.2f} s (kernel {r['sys']:.2f}{host})  "
                f"peak RSS {r['peak_rss'] / 2**20:7.0f} MiB  (other load {100 * r['foreign_share']:.0f}%){capped}")
        if rep == 0:
            verify(args, work, failed, log)
        for engine in args.engines:
            shutil.rmtree(work / f"{engine}-{rep}", ignore_errors=True)
    point["runs"] = runs
    return point


def verify(args, work: Path, failed: set[str], log) -> None:
    """The first repetition's outputs of Polars and DuckDB against intraday's; stops the script on a
    difference (timing wrong results would mean nothing)."""
    if "intraday" in failed:
        log("  check skipped: intraday failed")
        return
    reference = read_output(output_dir("intraday", work / "intraday-0"))
    for engine in ("polars", "duckdb"):
        if engine not in args.engines or engine in failed:
            continue
        try:
            compare_outputs(reference, read_output(output_dir(engine, work / f"{engine}-0")), engine)
        except Mismatch as e:
            raise SystemExit(f"OUTPUTS DIFFER: {e}\n(outputs kept under {work})")
        log(f"  check: {engine} output equals intraday's ({reference.height:,} rows x {reference.width} columns)")


# ---------------------------------------------------------------------------------------------
# Summaries, tables, plots


def median(values):
    return statistics.median(values) if values else None


def summarise(point: dict, engine: str) -> dict | None:
    runs = point["runs"].get(engine, [])
    ok = [r for r in runs if r["ok"]]
    if not runs:
        return None
    if not ok:
        return {"failed": runs[0]["error"], "oom_kills": sum(r.get("oom_kills", 0) for r in runs)}
    inner = [r["job"]["seconds"] for r in ok if "job" in r]
    return {"wall": median([r["wall"] for r in ok]), "walls": [r["wall"] for r in ok],
            "cpu": median([r["cpu"] for r in ok]),
            "sys": median([r["sys"] for r in ok]),
            "foreign": max(r["foreign_share"] for r in ok),
            "rss": median([r["peak_rss"] for r in ok]), "n": len(ok), "inner": median(inner),
            "cgroup_peak": median([r.get("cgroup_peak", 0) for r in ok]),
            "oom_kills": sum(r.get("oom_kills", 0) for r in runs),
            "failed": None if len(ok) == len(runs) else runs[-1]["error"]}


def table(args, results: list[dict], series: str) -> list[str]:
    """Markdown rows, one per (size, engine): medians and ratios against intraday."""
    key = "days" if series == "days" else "listings"
    pts = sorted((p for p in results if series in p["series"]), key=lambda p: p[key])
    capped = bool(args.memory_cap_bytes)
    lines = ["| listings | days | input rows | engine | wall s | in-process s | CPU s | kernel s | peak RSS MiB | "
             "wall / intraday (95% interval) | RSS / intraday | intraday / floor | runs | other load % |"
             + (" cgroup peak MiB | OOM kills |" if capped else ""),
             "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if capped else "")]
    for p in pts:
        base = summarise(p, "intraday")
        for engine in args.engines:
            s = summarise(p, engine)
            if s is None:
                continue
            lead = f"| {p['listings']} | {p['days']} | {sum(p['stats']['rows'].values()):,} | {engine} |"
            if s["failed"] and "wall" not in s:
                error = s["failed"][:100].replace("|", "/")  # a '|' would end the table cell
                lines.append(f"{lead} failed: {error} | | | | | | | | 0 | |"
                             + (f" | {s['oom_kills']} |" if capped else ""))
                continue
            ratio_wall = ratio_rss = floor = ""
            if engine != "intraday" and base and "wall" in base:
                # with a bootstrap 95% interval of the ratio of medians (bench/_util.py)
                low, high = _util.median_ratio_interval(base["walls"], s["walls"])
                ratio_wall = f"{s['wall'] / base['wall']:.2f} ({low:.2f}-{high:.2f})"
                ratio_rss = f"{s['rss'] / base['rss']:.2f}"
            arrow = summarise(p, "arrow")
            if engine == "intraday" and arrow and "wall" in arrow:
                # how far from just decoding the inputs, taking the decode's in-process time (no
                # interpreter start-up): the strictest floor
                floor = f"{s['wall'] / arrow['inner']:.2f}"
            inner = f"{s['inner']:.2f}" if s["inner"] is not None else ""
            note = f" ({len(p['runs'][engine]) - s['n']} failed)" if s["failed"] else ""
            lines.append(f"{lead} {s['wall']:.2f} | {inner} | {s['cpu']:.2f} | {s['sys']:.2f} | {s['rss'] / 2**20:.0f} | "
                         f"{ratio_wall} | "
                         f"{ratio_rss} | {floor} | {s['n']}{note} | {100 * s['foreign']:.0f} |"
                         + (f" {s['cgroup_peak'] / 2**20:.0f} | {s['oom_kills']} |" if capped else ""))
    return lines


def day_strategy(day: dict) -> str:
    """A day's input strategy as the run report gives it; a wide batch (one worker taking several
    worker places instead of a shredded day: docs/planning.md) is marked with its places."""
    places = max((b.get("worker_slots", 1) for b in day["batches"]), default=1)
    return f"{day['strategy']} (wide: {places} places)" if places > 1 else day["strategy"]


def intraday_table(results: list[dict]) -> list[str]:
    """intraday's own details: plan, batches, shredding, driver and worker peaks."""
    lines = ["| listings | days | strategies | batches | shred s | driver peak MiB | worker peak MiB | "
             "report: driver / worker MiB | batches run again |", "|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for p in sorted(results, key=lambda p: (p["listings"], p["days"])):
        ok = [r for r in p["runs"].get("intraday", []) if r["ok"]]
        if not ok:
            continue
        d = [r["intraday"] for r in ok]
        lines.append(f"| {p['listings']} | {p['days']} | {', '.join(d[0]['strategies'])} | {d[0]['batches']} | "
                     f"{median([x['shred_seconds'] for x in d]):.2f} | "
                     f"{median([x['driver_hwm'] for x in d]) / 2**20:.0f} | "
                     f"{median([x['worker_hwm'] for x in d]) / 2**20:.0f} | "
                     f"{median([x['report_driver_rss'] for x in d]) / 2**20:.0f} / "
                     f"{median([x['report_max_worker_rss'] for x in d]) / 2**20:.0f} | "
                     f"{median([x.get('retries', 0) for x in d]):g} |")
    return lines


def plot(args, results: list[dict], series: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = "days" if series == "days" else "listings"
    pts = sorted((p for p in results if series in p["series"]), key=lambda p: p[key])
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    fails_drawn = 0
    for engine in args.engines:
        xs, walls, rss, fails = [], [], [], []
        for p in pts:
            s = summarise(p, engine)
            if s is None:
                continue
            if "wall" in s:
                xs.append(p[key])
                walls.append(s["wall"])
                rss.append(s["rss"] / 2**20)
            else:
                fails.append(p[key])
        label = "arrow (decode only)" if engine == "arrow" else engine
        line, = ax_t.plot(xs, walls, marker="o", label=label)
        ax_m.plot(xs, rss, marker="o", label=label, color=line.get_color())
        for x in fails:  # a failed run: a cross on the axis, labelled
            ax_t.plot([x], [0], marker="x", markersize=10, color=line.get_color(), clip_on=False)
            ax_t.annotate(f"{engine} failed", (x, 0), textcoords="offset points", xytext=(0, 8 + 12 * fails_drawn),
                          ha="center", fontsize=8, color=line.get_color())
            fails_drawn += 1
    fixed = f"{args.base_listings} listings" if series == "days" else f"{args.base_days} day(s)"
    for ax, what in ((ax_t, "wall time (s, median)"), (ax_m, "peak RSS of the process tree (MiB, median)")):
        ax.set_xticks([p[key] for p in pts], [str(p[key]) for p in pts])
        ax.set_xlabel(f"{key} ({fixed}, profile {args.profile})")
        ax.set_ylabel(what)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    ax_t.legend()
    cap = (f"; every engine in {args.memory_cap_bytes / 2**20:.0f} MiB (memory cgroup)"
           if args.memory_cap_bytes else "")
    fig.suptitle(f"{key} series: {args.workers} threads/workers, intraday budget {args.budget} per worker{cap}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(args, info: dict, results: list[dict]) -> None:
    args.report.mkdir(parents=True, exist_ok=True)
    (args.report / "compare.json").write_text(json.dumps({"machine": info, "points": results}, indent=1))
    md = [f"Command: `{info['command']}`", "",
          f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, {info['os']}, kernel "
          f"{info['kernel']}; {info['intraday']} (binary sha256 {info['intraday_sha256']}...), Python {info['python']}, Polars "
          f"{info['polars']}, DuckDB {info['duckdb']}, pyarrow {info['pyarrow']}; "
          f"{_util.describe_memory_reclaim(info['memory_reclaim'], info.get('reported_kib_during'))}.",
          f"Started {info['started']}, finished {info['finished']}; load average at start {info['load_at_start']}, "
          f"at end {info['load_at_end']}.",
          f"Settings: profile {args.profile}, {args.workers} workers / threads, intraday memory_per_worker "
          f"{args.budget} (DuckDB memory_limit {args.workers} x {args.budget})"
          + "".join(f", intraday {k}: {v}" for k, v in args.intraday_run.items())
          + f", {args.reps} runs per engine and lake, "
          f"engines run in rotating order, each after the lake's files of its days were read into the page cache; "
          f"wait for other processes below {100 * args.quiet_share:.0f}% of the CPU "
          f"before a run, rerun (up to {args.noisy_retries} times) a run during which they used more than "
          f"{100 * args.noisy_share:.0f}%. \"other load %\" is the largest such share among the runs kept."
          + (f" Every engine ran in a memory cgroup of {args.memory_cap_bytes / 2**20:.0f} MiB (--memory-cap "
             f"{args.memory_cap}): \"cgroup peak\" counts RSS and the page cache a run filled itself, "
             f"\"OOM kills\" the processes the kernel ended for memory (over all runs)."
             if args.memory_cap_bytes else ""), ""]
    for series in ("days", "listings"):
        md += [f"### {series.capitalize()} series", ""] + table(args, results, series) + [""]
        if any(series in p["series"] for p in results):
            plot(args, results, series, args.report / f"scaling-{series}.png")
    md += ["### intraday details (medians)", ""] + intraday_table(results) + [""]
    (args.report / "compare.md").write_text("\n".join(md))


def main() -> int:
    args = parse_args()
    if not os.access(args.bin, os.X_OK):
        print(f"{args.bin} is missing: run scripts/setup.sh first (or pass --bin)", file=sys.stderr)
        return 1
    if args.replot:
        saved = json.loads((args.report / "compare.json").read_text())
        if saved["machine"].get("memory_cap_bytes"):  # the run's cap, not this command line's
            args.memory_cap, args.memory_cap_bytes = saved["machine"]["memory_cap"], saved["machine"]["memory_cap_bytes"]
        args.intraday_run = saved["machine"].get("intraday_run", {})
        write_report(args, saved["machine"], saved["points"])
        print(f"report rewritten from {args.report / 'compare.json'}")
        return 0
    if args.memory_cap_bytes:
        try:  # before any run: a series that stops at its first capped run would waste its lakes
            _util.MemoryCap(args.memory_cap_bytes, f"intraday-bench-{os.getpid()}").close()
        except RuntimeError as e:
            print(f"--memory-cap: {e}", file=sys.stderr)
            return 1
    info = machine(args)
    print(f"command: {info['command']}")
    print(f"{info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB, {info['os']}; {info['intraday']}, "
          f"Polars {info['polars']}, DuckDB {info['duckdb']}, pyarrow {info['pyarrow']}; load {info['load_at_start']}")
    print(f"profile {args.profile}, {args.workers} workers/threads, intraday budget {args.budget} per worker"
          f"{''.join(f', {k}: {v}' for k, v in args.intraday_run.items())}, {args.reps} reps, engines {', '.join(args.engines)}")
    results = []
    for point in points(args):
        results.append(run_point(args, point, lambda text: print(text, flush=True)))
    info["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    info["load_at_end"] = load_average()
    start, end = info["memory_reclaim"].get("page_reporting", {}).get("reported_kib"), _util.reported_kib()
    info["reported_kib_during"] = None if start is None or end is None else end - start
    for series in ("days", "listings"):
        print(f"\n{series} series (medians of {args.reps} runs; ratios = engine / intraday)")
        print("\n".join(table(args, results, series)))
    print("\nintraday details\n" + "\n".join(intraday_table(results)))
    write_report(args, info, results)
    print(f"\nreport: {args.report}/compare.md, compare.json, scaling-*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

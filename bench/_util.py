"""Helpers shared by the benchmark scripts of bench/: generated lakes, the benchmark pipeline, the
columns the metrics need, measuring a child process tree (wall, CPU, peak RSS) and comparing the
engines' outputs.

Only the standard library is imported at module level: the job scripts (_polars_job.py, ...) import
this module too, and their memory figures must not include libraries they do not use.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / "bench" / "data"
START = "2026-03-02"  # a Monday
MICS = ("XLON", "XPAR")
SEED = 42

# The benchmark pass: 1-minute buckets, end-anchored, right-closed, dense timeline with the
# default 10-minute session padding (which the peers' timelines rely on being a multiple of N).
BUCKET_NS = 60 * 10**9
PADDING_NS = 10 * 60 * 10**9
L2_LEVELS = 5      # l2: {levels: 5}
L2TW_LEVELS = 10   # l2tw: {} (default depth)
SIDES = ("Bid", "Ask")

PASS_YAML = """passes:
  - name: bars
    bucket: 1m
    anchor: end
    closed: right
    timeline: dense
    modules:
      trade: {}
      l2: {levels: 5}
      l2tw: {}
      l3: {}
"""

# Lake layout (docs/generator.md, DefaultPathTemplate): folder and file prefix per table.
LAYOUT = {"trades": ("Trades-Plus", "trades-plus-"), "l2": ("Equity", ""), "l3": ("Equity-L3", "l3-"),
          "marketstate": ("MarketState", "market-state-"), "reference": ("Reference", "reference-")}

# The columns the pass needs from each table: what the peers read and what the decode floor
# reads. intraday itself reads one more (l3 ExecutionSize; see `intraday plan`), which the
# docs mention.
NEEDED_COLUMNS = {
    "trades": ["ListingId", "TradeTimestamp", "Classification", "Size", "TradeNotional", "TradeNotionalEUR",
               "AggressorSide", "PricePoint", "MarketState"],
    "l2": ["ListingId", "EventTimestamp", "MarketState"]
          + [f"{s}Price{l}" for l in range(1, L2TW_LEVELS + 1) for s in SIDES]
          + [f"{s}Quantity{l}" for l in range(1, L2TW_LEVELS + 1) for s in SIDES]
          + [f"{s}NumOrders{l}" for l in range(1, L2_LEVELS + 1) for s in SIDES],
    "l3": ["ListingId", "TimestampNanoseconds", "Side", "LobAction", "Size", "OldSize"],
    "marketstate": ["ListingId", "TimestampNanoseconds", "MarketState"],
    "reference": ["ListingId"],
}


def weekdays(start: str, count: int) -> list[str]:
    """The first `count` weekdays from `start` (the generator skips weekends the same way)."""
    day, out = dt.date.fromisoformat(start), []
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day.isoformat())
        day += dt.timedelta(days=1)
    return out


def lake_file(root: Path, table: str, mic: str, day: str) -> Path:
    folder, prefix = LAYOUT[table]
    y, m, d = day.split("-")
    return root / folder / mic / y / m / d / f"{prefix}{mic}-{y}{m}{d}.parquet"


def day_files(root: Path, table: str, day: str) -> list[Path]:
    """The table's files of one day, one per MIC; a missing file is no data (data-model.md)."""
    return [p for p in (lake_file(root, table, mic, day) for mic in MICS) if p.exists()]


def lake_dir(data: Path, profile: str, listings: int, days: int) -> Path:
    # Same name as bench/engine_scaling.py, so both scripts share the cached lakes.
    return data / f"lake-{profile}-{listings}x{days}"


def ensure_lake(binary: str, data: Path, profile: str, listings: int, days: int) -> Path:
    """Generates the lake once; `.complete` marks a finished generation (an interrupted one is redone)."""
    root = lake_dir(data, profile, listings, days)
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([binary, "generate", "--out", str(root), "--listings", str(listings), "--start", START,
                        "--end", weekdays(START, days)[-1], "--mics", ",".join(MICS), "--profile", profile,
                        "--seed", str(SEED)], check=True, stdout=subprocess.DEVNULL)
        (root / ".complete").write_text("")
    return root


def lake_stats(root: Path, days: list[str]) -> dict:
    """Rows per table and bytes on disk of the files the pass reads (from the Parquet footers)."""
    import pyarrow.parquet as pq

    rows, size = {}, 0
    for table in ("trades", "l2", "l3", "marketstate"):
        rows[table] = 0
        for day in days:
            for path in day_files(root, table, day):
                rows[table] += pq.ParquetFile(path).metadata.num_rows
                size += path.stat().st_size
    return {"rows": rows, "bytes": size}


def read_into_page_cache(root: Path, days: list[str]) -> int:
    """Reads every file the pass reads on `days`, so that each engine's run finds them in the page
    cache: this machine's page cache does not keep every lake (a run's first reader of a lake
    otherwise paid its disk reads alone: docs/benchmarks.md, "Session 11"). Returns the bytes read."""
    total = 0
    for table in ("trades", "l2", "l3", "marketstate"):
        for day in days:
            for path in day_files(root, table, day):
                with open(path, "rb") as f:
                    while chunk := f.read(1 << 24):
                        total += len(chunk)
    return total


def write_pipeline(path: Path, lake: Path, days: list[str], output: Path, scratch: Path, workers: int,
                   budget: str, extra_run: dict[str, str] | None = None, passes_yaml: str | None = None) -> None:
    """The benchmark pipeline; `extra_run` adds keys to its `run:` section, or replaces `workers`
    and `memory_per_worker` (bench/ab.py); `passes_yaml`, a `passes:` section, replaces PASS_YAML."""
    run = {"output": output, "scratch": scratch, "workers": workers, "memory_per_worker": budget,
           **(extra_run or {})}
    path.write_text(f"data: {{root: {lake}}}\n"
                    f"universe: {{mics: [{', '.join(MICS)}]}}\n"
                    f"dates: {{start: {days[0]}, end: {days[-1]}}}\n"
                    f"run: {{{', '.join(f'{k}: {v}' for k, v in run.items())}}}\n"
                    + (passes_yaml if passes_yaml is not None else PASS_YAML))


def parse_bytes(text: str) -> int:
    """'1GiB', '512MiB', '2GB' -> bytes (the units intraday's config accepts)."""
    units = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "KB": 10**3, "MB": 10**6, "GB": 10**9, "B": 1}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def vm_hwm_bytes() -> int:
    """This process's own peak RSS (VmHWM of its address space since exec). Unlike ru_maxrss as seen
    by a parent, it does not include the parent's high-water mark, which Linux folds into the
    child's ru_maxrss when the child was started with vfork + exec (posix_spawn, Python's
    subprocess): see the docs, "How memory is measured"."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


# ---------------------------------------------------------------------------------------------
# Measuring a child process tree


def _children(pid: int) -> list[int]:
    """Direct children of every thread of pid (intraday's driver spawns workers from threads)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def _status_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in KiB of a live process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rss = hwm = 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants every `interval` seconds.

    tree_peak: the largest sum of VmRSS over the tree seen in one sample (a lower bound of the
    true simultaneous peak: a spike between two samples is missed); peak_parts: that sample's
    VmRSS per process, the root first (which processes make the peak).
    hwm: per pid, the last VmHWM seen (the process's own peak up to that sample; a process's
    growth after the last sample before it exits is missed).
    """

    def __init__(self, root_pid: int, interval: float = 0.01):
        super().__init__(daemon=True)
        self.root_pid, self.interval = root_pid, interval
        self.tree_peak = 0
        self.peak_parts: list[int] = []
        self.hwm: dict[int, int] = {}
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def sample(self) -> None:
        total, stack, seen, parts = 0, [self.root_pid], set(), []
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            status = _status_kb(pid)
            if status is None:
                continue
            rss, hwm = status
            total += rss * 1024
            parts.append(rss * 1024)
            self.hwm[pid] = max(self.hwm.get(pid, 0), hwm * 1024)
            stack += _children(pid)
        self.samples += 1
        if total > self.tree_peak:
            self.tree_peak, self.peak_parts = total, parts

    def stop(self) -> None:
        self._halt.set()
        self.join()


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores; idle and iowait excluded)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def foreign_share(window: float = 2.0) -> float:
    """The share of the machine's CPU used by other processes (not this one, which has no children
    while this runs) over `window` seconds."""
    b0, o0 = busy_cpu_seconds(), own_cpu_seconds()
    time.sleep(window)
    b1, o1 = busy_cpu_seconds(), own_cpu_seconds()
    return max(0.0, (b1 - b0) - (o1 - o0)) / (window * (os.cpu_count() or 1))


def wait_until_quiet(max_share: float, timeout: float, log=None) -> float:
    """Waits (up to `timeout` seconds) until other processes use less than max_share of the CPU;
    returns the seconds waited. The machine is shared: this keeps, say, a compiler's burst from
    landing in the middle of a timed run."""
    started = time.perf_counter()
    told = False
    while time.perf_counter() - started < timeout:
        share = foreign_share()
        if share < max_share:
            return time.perf_counter() - started
        if log and not told:
            log(f"  (waiting: other processes use {100 * share:.0f}% of the CPU)")
            told = True
    return time.perf_counter() - started


def memory_reclaim(sys_root: Path = Path("/sys")) -> dict:
    """How this machine hands memory back and what a first touch costs (docs/benchmarks.md,
    "Session 18"): the transparent huge page mode, and, on a virtual machine whose balloon reports
    free pages to the host (Linux's page_reporting), the smallest block it reports (an order of
    4 KiB pages), how long a block must stay free first, and the KiB reported since boot. Memory the
    host took back is zeroed again by it at the next touch, so an engine that frees memory (a
    process per day) pays more than one that keeps it. Keys are absent where the kernel lacks them."""
    facts: dict = {}
    thp = sys_root / "kernel/mm/transparent_hugepage/enabled"
    if thp.exists():
        mode = next((w.strip("[]") for w in thp.read_text().split() if w.startswith("[")), "")
        facts["thp"] = mode
    params = sys_root / "module/page_reporting/parameters"
    reporting = {}
    for key in ("page_reporting_order", "min_free_ms", "reported_kib"):
        try:
            reporting[key] = int((params / key).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    if reporting:
        facts["page_reporting"] = reporting
    return facts


def reported_kib(sys_root: Path = Path("/sys")) -> int | None:
    """KiB of free memory this virtual machine reported to its host since boot, or None."""
    return memory_reclaim(sys_root).get("page_reporting", {}).get("reported_kib")


def describe_memory_reclaim(facts: dict, reported_during: int | None = None) -> str:
    """One sentence for a report: the facts of memory_reclaim(), and the KiB reported meanwhile."""
    parts = []
    if "thp" in facts:
        parts.append(f"transparent huge pages: {facts['thp']}")
    r = facts.get("page_reporting")
    if r is None:
        parts.append("no free page reporting to a host")
    else:
        text = "free memory reported to the host"
        if "page_reporting_order" in r:
            text += f" in free blocks of {4 << r['page_reporting_order']} KiB and more"
        if "min_free_ms" in r:
            text += f" once free for {r['min_free_ms']} ms"
        if reported_during is not None:
            text += f" ({reported_during / 1024:.0f} MiB reported during these runs)"
        parts.append(text)
    return "; ".join(parts)


def median_ratio_interval(base: list[float], other: list[float], level: float = 0.95, resamples: int = 4000,
                          seed: int = 1) -> tuple[float, float]:
    """A bootstrap interval of median(other) / median(base): both samples resampled with
    replacement `resamples` times (a fixed seed: the same runs give the same interval), the
    ratio's central `level` share. On this machine identical binaries came out 7% apart in 6-rep
    medians (docs/benchmarks.md, "Session 18"): an interval that holds 1.0 is no difference."""
    import random
    import statistics

    if not base or not other:
        raise ValueError("both samples need at least one run")
    rng = random.Random(seed)
    ratios = sorted(statistics.median(rng.choices(other, k=len(other)))
                    / statistics.median(rng.choices(base, k=len(base))) for _ in range(resamples))
    tail = (1.0 - level) / 2
    return ratios[int(tail * (resamples - 1))], ratios[int((1.0 - tail) * (resamples - 1))]


class MemoryCap:
    """A memory cgroup of its own for one measured run, limited to `limit` bytes (anonymous memory
    and the page cache the run itself fills; pages already cached before, such as the lake's files,
    stay charged where they were). Linux cgroup v2 (`memory.max`) where the unified hierarchy has
    the memory controller, else v1 (`memory.limit_in_bytes`); created under this process's own
    memory cgroup, so it needs write access there (root, or a delegated subtree). When the
    processes inside need more, the kernel first reclaims their page cache, then kills one of them
    (the OOM killer: SIGKILL), which the run reports.

    Used by compare.py --memory-cap: every engine then has the same memory available. A context
    manager: the cgroup is removed on leaving (once its last process is gone)."""

    def __init__(self, limit: int, name: str):
        self.limit = limit
        v2_root = Path("/sys/fs/cgroup")
        controllers = v2_root / "cgroup.controllers"
        if controllers.exists() and "memory" in controllers.read_text().split():
            self.v2 = True
            parent = v2_root / _own_cgroup("")
        elif (v2_root / "memory").is_dir():
            self.v2 = False
            parent = v2_root / "memory" / _own_cgroup("memory")
        else:
            raise RuntimeError("no memory cgroup controller (neither cgroup v2 with 'memory' nor v1 /sys/fs/cgroup/memory)")
        self.path = parent / name
        try:
            if self.path.exists():
                self.path.rmdir()
            self.path.mkdir()
            if self.v2:
                (self.path / "memory.max").write_text(str(limit))
                if (self.path / "memory.swap.max").exists():  # no swapping out instead of the OOM killer
                    (self.path / "memory.swap.max").write_text("0")
            else:
                (self.path / "memory.limit_in_bytes").write_text(str(limit))
        except OSError as e:
            raise RuntimeError(f"cannot create a memory cgroup at {self.path}: {e} (root or a delegated cgroup is needed)")

    def __enter__(self) -> "MemoryCap":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def join(self) -> None:
        """Moves the calling process into the cgroup (a child's preexec_fn, before exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def peak(self) -> int:
        """The cgroup's largest memory use (RSS and page cache) since it was created, bytes."""
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:
            return int((self.path / name).read_text().split()[0])
        except (OSError, ValueError):
            return 0

    def oom_kills(self) -> int:
        """Processes of the cgroup the kernel's OOM killer ended."""
        name = "memory.events" if self.v2 else "memory.oom_control"
        try:
            for line in (self.path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def close(self) -> None:
        for _ in range(50):  # the last processes may still be exiting
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path (relative) in the v1 hierarchy of `controller`, or in v2 for ""."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller == "" and controllers == "") or controller in controllers.split(","):
            return path.lstrip("/")
    return ""


@dataclass
class Measurement:
    ok: bool
    wall: float = 0.0
    user: float = 0.0
    sys: float = 0.0
    rc: int = 0
    tree_peak: int = 0          # sampled sum of the tree's VmRSS
    peak_parts: list[int] = field(default_factory=list)  # each process's VmRSS then, root first
    root_hwm: int = 0           # sampled VmHWM of the root process
    child_hwm: list[int] = field(default_factory=list)  # sampled VmHWM of each descendant
    samples: int = 0
    foreign_cpu: float = 0.0    # CPU seconds other processes used during the run
    error: str = ""
    stdout: str = ""
    cgroup_peak: int = 0        # with a memory cap: the cgroup's peak (RSS + page cache it filled)
    oom_kills: int = 0          # with a memory cap: processes the OOM killer ended
    host_reported_kib: int | None = None  # free memory the VM reported to its host during the run

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def measure(cmd: list[str], env: dict | None = None, log: Path | None = None, timeout: float = 3600,
            interval: float = 0.01, cap: MemoryCap | None = None) -> Measurement:
    """Runs cmd as a child process and measures it: wall time around spawn..reap, user+sys CPU of
    the child and every descendant it reaped (wait4 returns both), and sampled RSS of the tree.
    Never raises for a failing child: the caller reports it. The child leads a process group of its
    own, so that a timeout or Ctrl-C ends its workers too, not only the child."""
    log_file = open(log, "w") if log else subprocess.DEVNULL
    busy0, own0 = busy_cpu_seconds(), own_cpu_seconds()
    reported0 = reported_kib()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log_file, text=True,
                            start_new_session=True, preexec_fn=cap.join if cap else None)
    sampler = TreeSampler(proc.pid, interval)
    sampler.start()
    timed_out = threading.Event()

    def kill_group() -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def on_timeout() -> None:
        timed_out.set()
        kill_group()

    killer = threading.Timer(timeout, on_timeout)
    killer.start()
    try:
        # The child's stdout is small (one JSON line from the job scripts); read it before wait4.
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        kill_group()
        raise
    finally:
        killer.cancel()
    wall = time.perf_counter() - started
    sampler.stop()
    # What else ran meanwhile: the machine's busy time minus the child tree's and this process's
    # (the sampler). Page-cache writeback by kernel threads also lands here.
    foreign = (busy_cpu_seconds() - busy0) - (usage.ru_utime + usage.ru_stime) - (own_cpu_seconds() - own0)
    reported1 = reported_kib()
    proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen the child is reaped
    if log:
        log_file.close()
    m = Measurement(ok=proc.returncode == 0, wall=wall, user=usage.ru_utime, sys=usage.ru_stime,
                    rc=proc.returncode, tree_peak=sampler.tree_peak, peak_parts=sampler.peak_parts,
                    samples=sampler.samples, stdout=out,
                    foreign_cpu=max(0.0, foreign),
                    root_hwm=sampler.hwm.get(proc.pid, 0),
                    child_hwm=[v for pid, v in sampler.hwm.items() if pid != proc.pid],
                    cgroup_peak=cap.peak() if cap else 0, oom_kills=cap.oom_kills() if cap else 0,
                    host_reported_kib=None if reported0 is None or reported1 is None else reported1 - reported0)
    if not m.ok:
        tail = log.read_text().strip().splitlines()[-5:] if log and log.exists() else []
        what = f"killed by signal {-m.rc}" if m.rc < 0 else f"exit code {m.rc}"
        if timed_out.is_set():
            what += f" (timeout after {timeout:g} s)"
        elif m.oom_kills:
            what += f" (out of memory: the memory cap's OOM killer ended {m.oom_kills} process(es))"
        elif m.rc == -9:
            what += " (SIGKILL: out of memory?)"
        m.error = what + ("; " + " | ".join(tail) if tail else "")
    return m


# ---------------------------------------------------------------------------------------------
# Comparing outputs

REL_TOL = 1e-9
ABS_TOL = 1e-12


class Mismatch(AssertionError):
    pass


def read_output(out: Path):
    """An engine's output: every date=D/*.parquet file under `out`, in date order."""
    import polars as pl

    files = sorted(out.glob("date=*/*.parquet"))
    if not files:
        raise Mismatch(f"no output file under {out}")
    return pl.concat([pl.read_parquet(f) for f in files], how="vertical")


def compare_outputs(reference, other, engine: str) -> None:
    """Same columns (names, order, dtypes), same rows in the same order, same values: floats within
    relative 1e-9 or absolute 1e-12, everything else exact, nulls in the same places. Raises
    Mismatch naming the engine, the column and the first differing row."""
    import polars as pl

    if reference.columns != other.columns:
        missing = [c for c in reference.columns if c not in other.columns]
        extra = [c for c in other.columns if c not in reference.columns]
        raise Mismatch(f"{engine}: columns differ from intraday's: missing {missing}, extra {extra}"
                       + ("" if missing or extra else " (same names, different order)"))
    for c in reference.columns:
        if reference.schema[c] != other.schema[c]:
            raise Mismatch(f"{engine}: column {c} is {other.schema[c]}, intraday's is {reference.schema[c]}")
    if reference.height != other.height:
        raise Mismatch(f"{engine}: {other.height} rows, intraday has {reference.height}")
    keys = ["ListingId", "TimeBucket"]
    for c in keys:
        bad = (reference[c] != other[c]).arg_true()
        if bad.len():
            i = bad[0]
            raise Mismatch(f"{engine}: row {i} is {other.row(i, named=True)[c]!r} in {c}, intraday has "
                           f"{reference.row(i, named=True)[c]!r} (listing {reference['ListingId'][i]})")
    for c in reference.columns[2:]:
        pair = pl.DataFrame({"a": reference[c], "b": other[c]}).with_row_index("_i")
        a, b = pl.col("a"), pl.col("b")
        differ = a.is_null() != b.is_null()
        both = a.is_not_null() & b.is_not_null()
        if reference.schema[c].is_float():
            close = ((a - b).abs() <= REL_TOL * pl.max_horizontal(a.abs(), b.abs()) + ABS_TOL) | (a == b)
            differ = differ | (both & (a.is_nan() != b.is_nan())) | (both & ~a.is_nan() & ~close)
        else:
            differ = differ | (both & (a != b))
        bad = pair.filter(differ.fill_null(False))
        if bad.height:
            i, want, got = bad.row(0)
            raise Mismatch(f"{engine}: column {c} differs in {bad.height} rows; first: row {i}, listing "
                           f"{reference['ListingId'][i]}, bucket {reference['TimeBucket'][i]}: {engine} "
                           f"{got!r}, intraday {want!r}")

"""The run sizes itself by the memory it may use, not the host's RAM: inside a memory cgroup (a
container's or a batch job's limit), `workers: auto` counts the cgroup's limit, workers beyond it
are warned about, and the driver's shredding of the next day waits for the current day's workers
when the limit cannot hold both (docs/engine.md, "The machine's limits" and "Shredding ahead").
Each run goes into a memory cgroup of its own (bench/_util.py's MemoryCap); skipped without one."""
import json
import math
import os
import sys
from pathlib import Path

import pytest

from conftest import day_files, run_intraday, run_report

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _util import PASS_YAML, MemoryCap, measure  # noqa: E402

DAYS = ["2026-01-05", "2026-01-06"]
MIB = 1 << 20
WORKER_BASE = 96 * MIB  # kWorkerBaseBytes (plan/size_estimator.h)
SHRED_OVERHEAD = 192 * MIB  # kShredOverheadBytes (exec/pipeline_runner.cc)


@pytest.fixture(scope="module")
def lake(tmp_path_factory, intraday_bin) -> Path:
    path = tmp_path_factory.mktemp("lake")
    run_intraday(intraday_bin, "generate", "--out", path, "--listings", 12, "--start", DAYS[0], "--days", 2,
                 "--mics", "XLON,XPAR", "--profile", "medium", "--seed", 3)
    return path


def write_config(directory: Path, lake: Path, run_keys: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "p.yaml"
    config.write_text(f"""
data: {{root: {lake}}}
universe: {{mics: [XLON, XPAR]}}
dates: {{start: {DAYS[0]}, end: {DAYS[1]}}}
run: {{output: {directory / 'out'}, scratch: {directory / 'scratch'}, {run_keys}}}
""" + PASS_YAML)
    return config


def in_cgroup(command: list, limit: int, log: Path) -> str:
    """Runs `command` in a memory cgroup of `limit` bytes; its stdout."""
    try:
        cap = MemoryCap(limit, f"intraday-test-limits-{os.getpid()}")
    except RuntimeError as e:
        pytest.skip(f"no memory cgroup to run in: {e}")
    with cap:
        m = measure([str(c) for c in command], log=log, timeout=300, cap=cap)
    assert m.ok, m.error
    return m.stdout


def run_in_cgroup(binary: str, config: Path, limit: int) -> dict:
    """`intraday run` in a memory cgroup of `limit` bytes; its run report."""
    in_cgroup([binary, "run", config], limit, config.parent / "stderr.log")
    return run_report(config.parent / "out")


def test_auto_workers_count_the_memory_cgroups_limit(intraday_bin, lake, tmp_path):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: auto workers are 1 whatever the memory")
    # 768 MiB holds one worker of 512 MiB, not two; the host's RAM would hold as many as its cores.
    config = write_config(tmp_path, lake, "memory_per_worker: 512MiB")
    report = run_in_cgroup(intraday_bin, config, 768 * MIB)
    assert report["workers"] == 1, report["machine"]
    assert report["machine"]["memory_bytes"] == 768 * MIB
    assert report["machine"]["memory_source"].startswith("cgroup /"), report["machine"]
    assert report["warnings"] == []
    # `intraday plan` says how many and why.
    plan = in_cgroup([intraday_bin, "plan", config, "--day", DAYS[0]], 768 * MIB, tmp_path / "plan.log")
    line = next(line for line in plan.splitlines() if line.strip().startswith("workers"))
    assert line.split()[1] == "1" and "run.workers auto" in line and "768.0 MiB of memory, cgroup /" in line, line


def test_workers_beyond_the_memory_cgroups_limit_are_warned_about(intraday_bin, lake, tmp_path):
    report = run_in_cgroup(intraday_bin, write_config(tmp_path, lake, "workers: 2, memory_per_worker: 512MiB"),
                           768 * MIB)
    assert report["workers"] == 2
    warnings = [w for w in report["warnings"] if "run.workers x run.memory_per_worker" in w]
    assert len(warnings) == 1, report["warnings"]
    assert "1.0 GiB is more than the 768.0 MiB this process may use (cgroup /" in warnings[0], warnings[0]


def test_the_next_days_shredding_waits_for_the_workers_when_the_limit_cannot_hold_both(intraday_bin, lake,
                                                                                         tmp_path):
    # A budget of about 60% of a day's estimate (two or more shredded batches a day), two workers.
    probe = write_config(tmp_path / "probe", lake, "workers: 1, memory_per_worker: 64GiB")
    plan = json.loads(run_intraday(intraday_bin, "plan", probe, "--day", DAYS[0], "--json", "--no-size-cache").stdout)
    estimate = sum(b["memory_bytes"] for b in plan["passes"][0]["batches"])
    budget = WORKER_BASE + math.ceil(estimate * 0.6)
    keys = f"workers: 2, memory_per_worker: {budget}, shred_buffer: 64MiB, wide_batches: false, time_slice: off"

    # With room, the second day is shredded while the first day's workers run.
    roomy = run_in_cgroup(intraday_bin, write_config(tmp_path / "roomy", lake, keys), 64 << 30)
    assert roomy["shred_ahead"] is True
    assert [d["strategy"] for d in roomy["days"]] == ["shred", "shred"], roomy["days"]
    assert roomy["days"][1]["prepared_ahead"] is True
    assert "shred_waited_for_workers_seconds" not in roomy["days"][1]

    # Below the workers' budgets plus the driver's shredding, it waits until they are all done.
    limit = 2 * budget + 64 * MIB + SHRED_OVERHEAD - 64 * MIB
    tight = run_in_cgroup(intraday_bin, write_config(tmp_path / "tight", lake, keys), limit)
    assert tight["shred_ahead"] is False
    first, second = tight["days"]
    assert second["strategy"] == "shred" and second["prepared_ahead"] is True
    assert second["shred_waited_for_workers_seconds"] > 0
    shred_from = second["shred"]["started_seconds"]
    first_day_workers_done = max(b["started_seconds"] + b["wall_seconds"] for b in first["batches"])
    assert shred_from >= first_day_workers_done - 0.01, (shred_from, first_day_workers_done)
    assert tight["warnings"] == []
    assert day_files(tmp_path / "tight" / "out", "bars") == day_files(tmp_path / "roomy" / "out", "bars")

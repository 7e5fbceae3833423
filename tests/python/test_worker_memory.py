"""Workers stay within `run.memory_per_worker` when a day is planned to fill it: the planner's
worker-memory estimate (1.25x the decoded input plus output rows, and for a shredded batch copies
of its largest listings: docs/planning.md) must cover what a worker really holds,
for rows in time order (listings are views of the placed input), rows out of time order
(listings sorted in place) and spill inputs (a shredded day: listings gathered into buffers); a
wide batch (run.wide_batches) within the budgets of the worker places it takes, and a day in time
slices (run.time_slice) within one worker's budget.
The budget is set from the plan itself so that the day's estimate fills the data budget; a lower
factor that no longer covers a worker fails here."""
import json
import math
import os
import random
import sys
from pathlib import Path

import pytest

from conftest import day_files, run_intraday, run_report

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _util import PASS_YAML  # noqa: E402  the benchmark pass: trade, l2 (5 levels), l2tw, l3

DAY = "2026-01-05"
MIB = 1 << 20
WORKER_BASE = 96 * MIB  # kWorkerBaseBytes (plan/size_estimator.h)


def write_config(path: Path, lake: Path, memory_bytes: int, passes: str = PASS_YAML, workers: int = 1,
                 time_slice: str = "auto") -> Path:
    path.write_text(f"""
data: {{root: {lake}}}
universe: {{mics: [XLON, XPAR]}}
dates: {{start: {DAY}, end: {DAY}}}
run: {{output: {path.parent / 'out'}, scratch: {path.parent / 'scratch'}, workers: {workers}, memory_per_worker: {memory_bytes}, time_slice: {time_slice}}}
""" + passes)
    return path


def planned_memory(binary: str, config: Path) -> int:
    plan = json.loads(run_intraday(binary, "plan", config, "--day", DAY, "--json", "--no-size-cache").stdout)
    batches = plan["passes"][0]["batches"]
    return sum(b["memory_bytes"] for b in batches)


def run_day(binary: str, config: Path) -> dict:
    """The run report's entry of the day: its strategy and its batches."""
    run_intraday(binary, "run", config)
    return run_report(config.parent / "out")["days"][0]


def run_and_peaks(binary: str, config: Path):
    day = run_day(binary, config)
    return day["strategy"], [b["peak_rss_bytes"] for b in day["batches"]]


@pytest.fixture(scope="module")
def lakes(tmp_path_factory, intraday_bin):
    """A 12-listing medium-profile day as generated (rows in time order), and the same day with the
    rows of every XLON trades and book file shuffled."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    ordered = tmp_path_factory.mktemp("ordered")
    run_intraday(intraday_bin, "generate", "--out", ordered, "--listings", 12, "--start", DAY, "--days", 1,
                 "--mics", "XLON,XPAR", "--profile", "medium", "--seed", 3)
    shuffled = tmp_path_factory.mktemp("shuffled")
    rng = random.Random(5)
    for src in ordered.rglob("*.parquet"):
        dst = shuffled / src.relative_to(ordered)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not (src.name.startswith("trades-plus-XLON") or src.name.startswith("XLON-")):
            dst.write_bytes(src.read_bytes())
            continue
        table = pq.read_table(src)
        order = list(range(table.num_rows))
        rng.shuffle(order)
        pq.write_table(table.take(pa.array(order)), dst, row_group_size=max(1, table.num_rows // 3))
    return {"ordered": ordered, "shuffled": shuffled}


@pytest.mark.parametrize("layout", ["ordered", "shuffled"])
def test_a_day_planned_to_fill_the_budget_runs_within_it(intraday_bin, lakes, layout, tmp_path):
    # First a plan with room to spare, for the day's estimate; then a budget the estimate fills
    # (within 2%), so the day is one direct batch as large as the budget allows.
    estimate = planned_memory(intraday_bin, write_config(tmp_path / "probe.yaml", lakes[layout], 64 << 30))
    assert estimate > 40 * MIB, f"the day is too small to test the estimate: {estimate / MIB:.1f} MiB"
    budget = WORKER_BASE + math.ceil(estimate * 1.02)
    config = write_config(tmp_path / "p.yaml", lakes[layout], budget)
    day = run_day(intraday_bin, config)
    strategy, peaks = day["strategy"], [b["peak_rss_bytes"] for b in day["batches"]]
    assert strategy == "direct"
    # Rows out of time order are sorted in place, listing by listing: no listing is copied.
    sorted_listings = day["batches"][0]["sorted_listings"]
    assert day["batches"][0]["gathered_listings"] == 0
    assert (sorted_listings > 0) == (layout == "shuffled"), sorted_listings
    assert len(peaks) == 1 and 0 < peaks[0] <= budget, (
        f"{layout}: worker peaked at {peaks[0] / MIB:.1f} MiB, budget {budget / MIB:.1f} MiB "
        f"(estimate {estimate / MIB:.1f} MiB)")


def test_a_shredded_day_runs_each_batch_within_the_budget(intraday_bin, lakes, tmp_path):
    # A budget of about 60% of the day's estimate: two or more batches, shredded, each filled
    # (not computed in time slices, which the shuffled files' row groups would not pay for anyway).
    lake = lakes["shuffled"]
    estimate = planned_memory(intraday_bin, write_config(tmp_path / "probe.yaml", lake, 64 << 30))
    budget = WORKER_BASE + math.ceil(estimate * 0.6)
    config = write_config(tmp_path / "p.yaml", lake, budget, time_slice="off")
    day = run_day(intraday_bin, config)
    strategy, peaks = day["strategy"], [b["peak_rss_bytes"] for b in day["batches"]]
    assert strategy == "shred" and len(peaks) >= 2, (strategy, len(peaks))
    assert all(0 < p <= budget for p in peaks), (
        f"worker peaks {[round(p / MIB, 1) for p in peaks]} MiB, budget {budget / MIB:.1f} MiB")
    # The mapped spill input of the listings done leaves the worker's memory as it goes.
    assert all(b["input_bytes_released"] > MIB for b in day["batches"] if b["listings"] > 1), day["batches"]


def test_a_day_in_time_slices_runs_within_the_budget(intraday_bin, lakes, tmp_path):
    # The ordered day with row groups of 8192 rows (a cut then splits little), and a budget of
    # about 60% of its estimate: one direct batch computed in time slices (run.time_slice auto),
    # its worker within the one budget. The shuffled files' row groups each span the day: at the
    # same budget that day is shredded instead.
    lake = tmp_path / "lake"
    run_intraday(intraday_bin, "generate", "--out", lake, "--listings", 12, "--start", DAY, "--days", 1,
                 "--mics", "XLON,XPAR", "--profile", "medium", "--seed", 3, "--row-group-rows", 8192)
    (tmp_path / "probe").mkdir()
    estimate = planned_memory(intraday_bin, write_config(tmp_path / "probe" / "p.yaml", lake, 64 << 30))
    budget = WORKER_BASE + math.ceil(estimate * 0.6)
    config = write_config(tmp_path / "p.yaml", lake, budget)
    day = run_day(intraday_bin, config)
    assert day["strategy"] == "direct", day["strategy_reason"]
    [batch] = day["batches"]
    assert batch["time_slice_bytes"] > 0 and batch["time_slices"] > 1, batch
    print(f"sliced worker peak {batch['peak_rss_bytes'] / MIB:.1f} MiB, budget {budget / MIB:.1f} MiB, "
          f"{batch['time_slices']} slices of {batch['time_slice_bytes'] / MIB:.1f} MiB")
    assert 0 < batch["peak_rss_bytes"] <= budget, (
        f"worker peaked at {batch['peak_rss_bytes'] / MIB:.1f} MiB, budget {budget / MIB:.1f} MiB "
        f"(estimate {estimate / MIB:.1f} MiB)")
    (tmp_path / "shuffled").mkdir()
    shuffled = write_config(tmp_path / "shuffled" / "p.yaml", lakes["shuffled"], budget)
    plan = json.loads(run_intraday(intraday_bin, "plan", shuffled, "--day", DAY, "--json", "--no-size-cache").stdout)
    assert plan["passes"][0]["strategy"] == "shred"


def test_a_wide_batch_runs_within_the_budgets_of_its_worker_places(intraday_bin, lakes, tmp_path):
    # Two workers whose budgets hold the day's estimate together (within 2%), one alone not: the
    # day is one batch taking both places, its worker within their two budgets.
    lake = lakes["shuffled"]
    estimate = planned_memory(intraday_bin, write_config(tmp_path / "probe.yaml", lake, 64 << 30))
    budget = math.ceil((WORKER_BASE + estimate * 1.02) / 2)
    config = write_config(tmp_path / "p.yaml", lake, budget, workers=2)
    day = run_day(intraday_bin, config)
    assert day["strategy"] == "direct", day["strategy_reason"]
    assert [b["worker_slots"] for b in day["batches"]] == [2], day["batches"]
    peak = day["batches"][0]["peak_rss_bytes"]
    assert 0 < peak <= 2 * budget, (
        f"worker peaked at {peak / MIB:.1f} MiB, two budgets {2 * budget / MIB:.1f} MiB "
        f"(estimate {estimate / MIB:.1f} MiB)")


def test_outputs_of_small_buckets_count_in_the_plan(intraday_bin, lakes, tmp_path):
    # 1-second buckets on a dense timeline: ~32 000 output rows of 129 columns per listing, far
    # more than the listing's input. Planned on the input alone, the day was one direct batch whose
    # worker held ~400 MiB of output rows in a 256 MiB budget; the output rows now count.
    assert "bucket: 1m" in PASS_YAML
    budget = 256 * MIB
    config = write_config(tmp_path / "p.yaml", lakes["ordered"], budget, PASS_YAML.replace("bucket: 1m", "bucket: 1s"))
    plan = json.loads(run_intraday(intraday_bin, "plan", config, "--day", DAY, "--json", "--no-size-cache").stdout)
    sizes = plan["passes"][0]["sizes"]
    assert all(s["output_bytes"] >= 86_401 * 129 * 8 for s in sizes), sizes[0]
    strategy, peaks = run_and_peaks(intraday_bin, config)
    assert len(peaks) > 1
    assert all(0 < p <= budget for p in peaks), (
        f"{strategy}: worker peaks {[round(p / MIB, 1) for p in peaks]} MiB, budget {budget / MIB:.1f} MiB")


def test_a_worker_the_kernel_kills_for_memory_is_split_and_the_day_completes(intraday_bin, lakes, tmp_path):
    """The machine has less memory than the plan assumed: the run goes into a memory cgroup below
    what the day's one worker needs, the kernel's OOM killer ends that worker, and the driver splits
    its batch in two and runs the halves (execution.md, "No retries"); the output is the one of a
    run with room to spare. Needs a memory cgroup (bench/_util.py's MemoryCap); skipped without."""
    from _util import MemoryCap, measure

    def run_capped(name: str, limit: int):
        """The day with room to spare in the plan (4 GiB a worker), in a memory cgroup of `limit`."""
        (tmp_path / name).mkdir()
        config = write_config(tmp_path / name / "p.yaml", lakes["ordered"], 4 << 30)
        config.write_text(config.read_text().replace("workers: 1,", "workers: 1, retries: 4,"))
        try:
            cap = MemoryCap(limit, f"intraday-test-oom-{os.getpid()}")
        except RuntimeError as e:
            pytest.skip(f"no memory cgroup to run in: {e}")
        with cap:
            m = measure([intraday_bin, "run", str(config)], log=tmp_path / name / "stderr.log", timeout=300, cap=cap)
        return m, tmp_path / name / "out"

    # What a roomy run charges to its cgroup (the RSS of its processes but the lake's mapped pages,
    # cached before; the page cache it fills) sets the cap of the second.
    roomy, roomy_out = run_capped("roomy", 64 << 30)
    assert roomy.ok and roomy.oom_kills == 0, roomy.error
    day = run_report(roomy_out)["days"][0]
    assert day["strategy"] == "direct" and len(day["batches"]) == 1
    assert roomy.cgroup_peak > 64 * MIB, f"the day is too small to test: {roomy.cgroup_peak / MIB:.0f} MiB"
    # A fifth below: the one batch cannot fit. A half of it can, as what the processes need
    # whatever their listings (the driver, the libraries' relocated pages, buffers) is a large part
    # of a small day's; the retries allow a split or two more.
    m, out = run_capped("capped", roomy.cgroup_peak * 4 // 5)
    assert m.ok, m.error
    assert m.oom_kills >= 1, "the cap did not bite: no process was killed for memory"
    report = run_report(out)
    assert any("SIGKILL" in r["what"] and "split into two" in r["what"] for r in report["retries"]), report["retries"]
    assert len(report["days"][0]["batches"]) >= 2
    expected = day_files(roomy_out, "bars")
    assert expected, f"no day file under {roomy_out}"
    assert day_files(out, "bars") == expected

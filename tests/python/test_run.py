"""`intraday run` end to end on generated lakes: determinism across worker counts, budgets and
input layouts; process isolation and cleanup; faults (kill -9, truncated file, SIGTERM + resume)."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import conftest
from conftest import ENGINE_END as END, ENGINE_START as START, generate_engine_lake, run_intraday, run_report


def write_config(path: Path, lake: Path, out: Path, scratch: Path, workers=1, memory="4GiB", extra_run="",
                 end=END):
    path.write_text(f"""
data:
  root: {lake}
universe:
  mics: [XLON, XPAR]
dates:
  start: {START}
  end: {end}
run:
  output: {out}
  scratch: {scratch}
  workers: {workers}
  memory_per_worker: {memory}
  retries: 2
{extra_run}
passes:
  - name: activity
    bucket: 1m
    timeline: dense
    modules:
      activity: {{tables: [trades, l2, l3]}}
""")
    return path


def generate(binary, out: Path, layout="time", row_group_rows=131072):
    return generate_engine_lake(binary, out, layout, row_group_rows)


def day_files(out: Path):
    return conftest.day_files(out, "activity")


@pytest.fixture(scope="module")
def lake(tmp_path_factory, intraday_bin):
    return generate(intraday_bin, tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, intraday_bin, lake):
    """One uninterrupted run: 1 worker, a budget that fits a whole day (no shredding)."""
    base = tmp_path_factory.mktemp("reference")
    config = write_config(base / "p.yaml", lake, base / "out", base / "scratch")
    run_intraday(intraday_bin, "run", config)
    return base / "out"


def test_reference_run_outputs_and_manifest(reference):
    files = day_files(reference)
    assert sorted(files) == [f"activity/date={d}/part-00000.parquet" for d in ("2026-01-05", "2026-01-06", "2026-01-07")]
    import polars as pl

    df = pl.read_parquet(reference / "activity" / "date=2026-01-05" / "part-00000.parquet")
    assert df.columns[:2] == ["ListingId", "TimeBucket"]
    assert df.height > 0
    assert df.select(pl.col("ActivityTradesCount").sum()).item() > 0
    # sorted by (ListingId, TimeBucket), unique
    assert df.select(pl.struct("ListingId", "TimeBucket").is_unique().all()).item()
    assert df.sort("ListingId", "TimeBucket").equals(df)
    manifest = json.loads((reference / "_manifest.json").read_text())
    assert set(manifest["passes"]["activity"]) == {"2026-01-05", "2026-01-06", "2026-01-07"}
    report = run_report(reference)
    assert report["status"] == "finished"
    assert all(day["strategy"] == "direct" for day in report["days"])


def test_identical_outputs_for_any_workers_and_budget(intraday_bin, lake, reference, tmp_path):
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2, memory="96KiB")
    run_intraday(intraday_bin, "run", config)
    assert day_files(tmp_path / "out") == day_files(reference)
    report = run_report(tmp_path / "out")
    assert all(day["strategy"] == "shred" for day in report["days"])
    assert all(len(day["batches"]) > 2 for day in report["days"])
    # The files of several batches come from the driver, the reference's (one batch a day) from
    # their workers: the same bytes.
    assert all(day["day_file_written_by"] == "driver" for day in report["days"])
    assert all(day["day_file_written_by"] == "worker" for day in run_report(reference)["days"])
    # The driver writes each batch's output into the day's file once the batches before it are
    # done, while the later ones run: some outputs of every day go in before its last batch ends.
    assert all(day["outputs_written_while_batches_ran"] >= 1 for day in report["days"]), report["days"]


@pytest.mark.parametrize("workers,memory", [(1, "4GiB"), (2, "96KiB")])
def test_day_files_have_the_configured_compression_and_the_same_rows(intraday_bin, lake, reference, tmp_path,
                                                                      workers, memory):
    """run.output_compression reaches both writers of day files: a one-batch day's worker and the
    driver (from several batches' outputs); the values are those of the default (zstd) run."""
    import pyarrow.parquet as pq

    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=workers,
                          memory=memory, extra_run="  output_compression: gzip\n  output_compression_level: 9")
    run_intraday(intraday_bin, "run", config)
    writers = {day["day_file_written_by"] for day in run_report(tmp_path / "out")["days"]}
    assert writers == ({"worker"} if workers == 1 else {"driver"})
    files = day_files(tmp_path / "out")
    assert sorted(files) == sorted(day_files(reference))
    for name in files:
        metadata = pq.ParquetFile(tmp_path / "out" / name).metadata
        codecs = {metadata.row_group(g).column(c).compression
                  for g in range(metadata.num_row_groups) for c in range(metadata.num_columns)}
        assert codecs == {"GZIP"}, name
        reference_metadata = pq.ParquetFile(reference / name).metadata
        assert reference_metadata.row_group(0).column(0).compression == "ZSTD"
        assert pq.read_table(tmp_path / "out" / name).equals(pq.read_table(reference / name)), name


@pytest.fixture(scope="module")
def interleaved_lake(tmp_path_factory, intraday_bin):
    """The lake's rows in row groups of 512 rows, each holding many listings: a day of several
    batches is shredded (in one row group per file, each batch would read its row groups)."""
    return generate(intraday_bin, tmp_path_factory.mktemp("interleaved-lake"), row_group_rows=512)


@pytest.fixture(scope="module")
def wide_memory(tmp_path_factory, intraday_bin, interleaved_lake) -> str:
    """A worker budget that no day fits, but every day fits two of together: each day's memory as
    one batch reading the lake (`intraday plan`, sizes scanned) is between the data budget of one
    worker (half the budget, at budgets this small) and that of two (the budget)."""
    base = tmp_path_factory.mktemp("wide-memory")
    config = write_config(base / "p.yaml", interleaved_lake, base / "out", base / "scratch", workers=2)
    memory = []
    for day in ("2026-01-05", "2026-01-06", "2026-01-07"):
        plan = json.loads(run_intraday(intraday_bin, "plan", config, "--day", day, "--json",
                                       "--size-estimates", "scan").stdout)
        batches = plan["passes"][0]["batches"]
        assert len(batches) == 1, batches
        memory.append(batches[0]["memory_bytes"])
    kib = -(-max(memory) // 1024)
    assert kib * 1024 < 2 * min(memory), f"the days differ too much in size for one budget: {memory}"
    return f"{kib}KiB"


def test_a_wide_batch_computed_in_slices_takes_the_places_of_a_slice(intraday_bin, interleaved_lake, reference,
                                                                     wide_memory, tmp_path):
    # The same days in time slices: a worker holds a slice, not its day, and takes one place, so
    # that the next day's worker can start beside it (plan/planner.cc SliceLargeDirectDay).
    config = write_config(tmp_path / "p.yaml", interleaved_lake, tmp_path / "out", tmp_path / "scratch", workers=2,
                          memory=wide_memory, extra_run="  time_slice: 64KiB")
    plan = run_intraday(intraday_bin, "plan", config, "--day", START).stdout
    assert "run.wide_batches" in plan and "in slices it takes 1 worker place" in plan, plan
    run_intraday(intraday_bin, "run", config)
    assert day_files(tmp_path / "out") == day_files(reference)
    batches = []
    for day in run_report(tmp_path / "out")["days"]:
        assert day["strategy"] == "direct", day
        batches += day["batches"]
    assert len(batches) == 3 and all(b["worker_slots"] == 1 and b["time_slice_bytes"] > 0 for b in batches), batches
    assert any(b["time_slices"] > 1 for b in batches), batches  # (a day of one slice is computed whole)


def test_a_day_over_one_workers_budget_within_two_runs_as_one_wide_batch(intraday_bin, interleaved_lake, reference,
                                                                          wide_memory, tmp_path):
    config = write_config(tmp_path / "p.yaml", interleaved_lake, tmp_path / "out", tmp_path / "scratch", workers=2,
                          memory=wide_memory)
    run_intraday(intraday_bin, "run", config)
    assert day_files(tmp_path / "out") == day_files(reference)
    for day in run_report(tmp_path / "out")["days"]:
        assert day["strategy"] == "direct", day
        assert "run.wide_batches" in day["strategy_reason"], day["strategy_reason"]
        assert [b["worker_slots"] for b in day["batches"]] == [2], day["batches"]
        assert day["day_file_written_by"] == "worker", day
    plan = run_intraday(intraday_bin, "plan", config, "--day", START).stdout
    assert "takes 2 worker places" in plan, plan
    # Turned off (and time slices, which would otherwise take such a day), the same days are
    # shredded into batches of one worker place each.
    off = write_config(tmp_path / "off.yaml", interleaved_lake, tmp_path / "out-off", tmp_path / "scratch-off", workers=2,
                       memory=wide_memory, extra_run="  wide_batches: false\n  time_slice: off")
    run_intraday(intraday_bin, "run", off)
    assert day_files(tmp_path / "out-off") == day_files(reference)
    for day in run_report(tmp_path / "out-off")["days"]:
        assert day["strategy"] == "shred", day
        assert len(day["batches"]) > 1 and all(b["worker_slots"] == 1 for b in day["batches"]), day["batches"]


def test_one_worker_writes_each_output_into_the_day_file_while_the_next_batch_runs(intraday_bin, lake, reference,
                                                                                   tmp_path):
    """With one worker, batches run one after the other in ListingId order: each output but the
    last is handed over to the day's file as its batch ends, while the next batch runs."""
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=1, memory="96KiB")
    run_intraday(intraday_bin, "run", config)
    assert day_files(tmp_path / "out") == day_files(reference)
    days = run_report(tmp_path / "out")["days"]
    assert all(len(day["batches"]) > 2 for day in days)
    assert [day["outputs_written_while_batches_ran"] for day in days] == [len(day["batches"]) - 1 for day in days]


def test_next_day_is_shredded_while_a_day_runs_and_outputs_do_not_change(intraday_bin, lake, reference, tmp_path):
    # Shredded days (a tiny budget), with the workers slowed down so that the overlap is real.
    env = dict(os.environ, INTRADAY_TEST_WORKER_DELAY_MS="100")
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2, memory="96KiB")
    run_intraday(intraday_bin, "run", config, env=env)
    assert day_files(tmp_path / "out") == day_files(reference)
    days = run_report(tmp_path / "out")["days"]
    assert [d["prepared_ahead"] for d in days] == [False, True, True]
    for before, ahead in zip(days, days[1:]):
        # Planned and shredded before the previous day's batches were done.
        assert ahead["prepare_started_seconds"] < before["batches_finished_seconds"]
        assert ahead["strategy"] == "shred" and ahead["shred"]["rows_routed"] > 0

    sequential = write_config(tmp_path / "s.yaml", lake, tmp_path / "seq", tmp_path / "scratch2", workers=2,
                              memory="96KiB", extra_run="  overlap_days: false")
    run_intraday(intraday_bin, "run", sequential)
    assert day_files(tmp_path / "seq") == day_files(reference)
    days = run_report(tmp_path / "seq")["days"]
    assert not any(d["prepared_ahead"] for d in days)
    for before, after in zip(days, days[1:]):
        assert after["prepare_started_seconds"] >= before["batches_finished_seconds"]
    assert list((tmp_path / "scratch").iterdir()) == [] and list((tmp_path / "scratch2").iterdir()) == []


def batch_intervals(report):
    """(start, end) of every batch of the run while it computed, in seconds since the run started:
    it ends at the worker's exit, or earlier when the worker said it only writes its output."""
    return [(b["started_seconds"], b.get("output_only_seconds", b["started_seconds"] + b["wall_seconds"]))
            for d in report["days"] for b in d["batches"]]


def most_at_once(intervals):
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_a_one_batch_day_keeps_every_core_and_the_next_day_starts_while_its_file_is_written(
        intraday_bin, lake, reference, tmp_path):
    # One batch per day (a budget that fits a day), 2 workers: the day's only worker has every
    # core (threads); the next day's batch starts once it is done, before the day's file is
    # written and published, never beside it (that doubled the memory for a few per cent).
    env = dict(os.environ, INTRADAY_TEST_WORKER_DELAY_MS="600", INTRADAY_TEST_WORKER_DELAY_DAY=START)
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2)
    run_intraday(intraday_bin, "run", config, env=env)
    assert day_files(tmp_path / "out") == day_files(reference)
    report = run_report(tmp_path / "out")
    days = report["days"]
    assert [d["strategy"] for d in days] == ["direct"] * 3
    assert not any(b.get("started_early") for b in days[0]["batches"])
    # The second day was prepared during the held 600 ms: its batch started before the first day
    # was published, and once the first day's batch had computed (it said it only writes its output).
    assert days[1]["batches"][0].get("started_early")
    for before, after in zip(days, days[1:]):
        assert after["batches"][0]["started_seconds"] >= before["batches"][0]["output_only_seconds"]
    assert most_at_once(batch_intervals(report)) == 1

    sequential = write_config(tmp_path / "s.yaml", lake, tmp_path / "seq", tmp_path / "scratch2", workers=2,
                              extra_run="  overlap_days: false")
    run_intraday(intraday_bin, "run", sequential, env=env)
    assert day_files(tmp_path / "seq") == day_files(reference)
    assert not any(b.get("started_early") for d in run_report(tmp_path / "seq")["days"] for b in d["batches"])
    assert list((tmp_path / "scratch").iterdir()) == [] and list((tmp_path / "scratch2").iterdir()) == []


def test_the_next_day_starts_while_the_day_before_finishes_its_output(intraday_bin, lake, reference, tmp_path):
    # One batch per day, 2 workers: once a worker has let go of its input and only writes its
    # output, it tells the driver, which starts the next day's batch with every core at once (a
    # worker still computing keeps them). The first day's output is held 1.5 s after that notice:
    # the next day's batch runs meanwhile, never two computing at once.
    env = dict(os.environ, INTRADAY_TEST_OUTPUT_DELAY_MS="1500")
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2)
    run_intraday(intraday_bin, "run", config, env=env)
    assert day_files(tmp_path / "out") == day_files(reference)
    report = run_report(tmp_path / "out")
    days = report["days"]
    assert [len(d["batches"]) for d in days] == [1, 1, 1]
    for before, after in zip(days, days[1:]):
        first, second = before["batches"][0], after["batches"][0]
        assert first["started_seconds"] < first["output_only_seconds"] <= second["started_seconds"]
    # Only one day is prepared ahead: the third is prepared once the first is published.
    first, second = days[0]["batches"][0], days[1]["batches"][0]
    assert second["started_early"]
    assert second["started_seconds"] < first["started_seconds"] + first["wall_seconds"] - 1.0
    assert most_at_once(batch_intervals(report)) == 1

    # `workers` bounds the worker processes, output-only ones included: with one, the next
    # day's batch waits for the exit.
    single = write_config(tmp_path / "w1.yaml", lake, tmp_path / "w1", tmp_path / "scratch1", workers=1)
    run_intraday(intraday_bin, "run", single, env=env)
    assert day_files(tmp_path / "w1") == day_files(reference)
    days = run_report(tmp_path / "w1")["days"]
    for before, after in zip(days, days[1:]):
        first, second = before["batches"][0], after["batches"][0]
        assert second["started_seconds"] >= first["started_seconds"] + first["wall_seconds"]
    assert list((tmp_path / "scratch").iterdir()) == []


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the next day takes idle cores: needs two")
def test_next_days_batches_take_the_cores_the_day_before_leaves_idle(intraday_bin, lake, reference, tmp_path):
    # Three batches on the first day (shredded, a tiny budget), 2 workers, the first day's held
    # 600 ms each: while its last batch runs alone, the second day's batches take the idle core.
    env = dict(os.environ, INTRADAY_TEST_WORKER_DELAY_MS="600", INTRADAY_TEST_WORKER_DELAY_DAY=START)
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2,
                          memory="900KiB", extra_run="  time_slice: off")  # shredded, not sliced
    run_intraday(intraday_bin, "run", config, env=env)
    assert day_files(tmp_path / "out") == day_files(reference)
    report = run_report(tmp_path / "out")
    days = report["days"]
    assert len(days[0]["batches"]) == 3, "an odd number of batches leaves the last one alone"
    early = [b for b in days[1]["batches"] if b.get("started_early")]
    assert early and min(b["started_seconds"] for b in early) < days[0]["batches_finished_seconds"]
    assert most_at_once(batch_intervals(report)) <= 2


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="days side by side take a core each: needs two")
def test_days_side_by_side_compute_at_once_one_thread_each(intraday_bin, lake, reference, tmp_path):
    # One batch per day, 2 workers, run.days_side_by_side: the second day's batch starts beside the
    # first day's while that one still computes (held 600 ms), each with one of the two cores; the
    # last day, with no day after it to join it, keeps both. Outputs are those of the default.
    env = dict(os.environ, INTRADAY_TEST_WORKER_DELAY_MS="600", INTRADAY_TEST_WORKER_DELAY_DAY=START)
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2,
                          extra_run="  days_side_by_side: true")
    run_intraday(intraday_bin, "run", config, env=env)
    assert day_files(tmp_path / "out") == day_files(reference)
    report = run_report(tmp_path / "out")
    days = report["days"]
    assert [len(d["batches"]) for d in days] == [1, 1, 1]
    first, second = days[0]["batches"][0], days[1]["batches"][0]
    assert second["started_early"]
    assert second["started_seconds"] < first["output_only_seconds"] - 0.3, (first, second)
    assert most_at_once(batch_intervals(report)) == 2
    threads = [d["batches"][0]["threads"] for d in days]
    assert list((tmp_path / "scratch").iterdir()) == []

    # The default run gives the one computing batch every core (see the test above), as the last
    # day side by side has them: a worker's share is half of that.
    default = write_config(tmp_path / "d.yaml", lake, tmp_path / "default", tmp_path / "scratch2", workers=2)
    run_intraday(intraday_bin, "run", default)
    every_core = [d["batches"][0]["threads"] for d in run_report(tmp_path / "default")["days"]]
    assert every_core == [every_core[0]] * 3 and every_core[0] >= 2
    assert threads == [every_core[0] // 2, every_core[0] // 2, every_core[0]]

    # Shredded days (several batches a day, one thread each anyway): the same outputs.
    shredded = write_config(tmp_path / "sh.yaml", lake, tmp_path / "shredded", tmp_path / "scratch4", workers=2,
                            memory="96KiB", extra_run="  days_side_by_side: true\n  time_slice: off")
    run_intraday(intraday_bin, "run", shredded)
    assert day_files(tmp_path / "shredded") == day_files(reference)
    assert all(d["strategy"] == "shred" and len(d["batches"]) > 1 for d in run_report(tmp_path / "shredded")["days"])

    # Only with the next day prepared ahead: a clear error names both keys.
    bad = write_config(tmp_path / "bad.yaml", lake, tmp_path / "bad", tmp_path / "scratch3", workers=2,
                       extra_run="  overlap_days: false\n  days_side_by_side: true")
    failed = run_intraday(intraday_bin, "validate", bad, check=False)
    assert failed.returncode != 0
    assert "run.days_side_by_side" in failed.stderr and "run.overlap_days" in failed.stderr, failed.stderr


def test_a_day_started_early_that_fails_keeps_the_day_before(intraday_bin, tmp_path):
    # Listing-clustered files and a budget of 3 batches a day, each reading its row groups itself.
    # The second day's trades have a time column of the wrong type: its first worker, started on
    # the core the first day's last batch (held) leaves idle, fails while that batch still runs.
    # The first day is published, then the run fails naming the file.
    if (os.cpu_count() or 1) < 2:
        pytest.skip("the next day takes idle cores: needs two")
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    pq = pytest.importorskip("pyarrow.parquet")
    broken = generate(intraday_bin, tmp_path / "lake", layout="listing", row_group_rows=256)
    victim = broken / "Trades-Plus" / "XPAR" / "2026" / "01" / "06" / "trades-plus-XPAR-20260106.parquet"
    table = pq.read_table(victim)
    i = table.schema.get_field_index("TradeTimestamp")
    table = table.set_column(i, pa.field("TradeTimestamp", pa.string()), pc.cast(table.column(i), pa.string()))
    pq.write_table(table, victim, row_group_size=256)
    # Every worker's output is held too: a batch that starts while the others only write their
    # output takes every core, so the first day's last one leaves a core idle only once it too
    # writes its output, and the day's file is published 0.8 s after that.
    env = dict(os.environ, INTRADAY_TEST_WORKER_DELAY_MS="800", INTRADAY_TEST_WORKER_DELAY_DAY=START,
               INTRADAY_TEST_OUTPUT_DELAY_MS="800")
    config = write_config(tmp_path / "p.yaml", broken, tmp_path / "out", tmp_path / "scratch", workers=2,
                          memory="900KiB")
    proc = run_intraday(intraday_bin, "run", config, env=env, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "trades-plus-XPAR-20260106.parquet" in proc.stderr and "TradeTimestamp" in proc.stderr
    assert list(day_files(tmp_path / "out")) == [f"activity/date={START}/part-00000.parquet"]
    days = run_report(tmp_path / "out")["days"]
    assert days[0]["strategy"] == "row_groups" and len(days[0]["batches"]) == 3
    failed = [b for b in days[1]["batches"] if b["exit"] == "exit code 2"]
    assert failed and all(b["started_early"] for b in failed)
    # It failed while the first day's last batch was still running.
    assert min(b["started_seconds"] + b["wall_seconds"] for b in failed) < days[0]["batches_finished_seconds"]
    assert list((tmp_path / "scratch").iterdir()) == []


def test_identical_outputs_from_a_listing_clustered_lake(intraday_bin, reference, tmp_path):
    # Small row groups: a batch then reads only the few row groups of its listings.
    lake = generate(intraday_bin, tmp_path / "lake", layout="listing", row_group_rows=256)
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2, memory="96KiB")
    run_intraday(intraday_bin, "run", config)
    assert day_files(tmp_path / "out") == day_files(reference)
    report = run_report(tmp_path / "out")
    assert any(day["strategy"] == "row_groups" for day in report["days"])


# Open/Close and the book at bucket end depend on the order of rows with equal times.
ORDER_SENSITIVE_PASS = """passes:
  - name: activity
    bucket: 1m
    timeline: dense
    modules:
      trade: {}
      l2: {levels: 3}
"""


def test_lake_files_read_row_group_by_row_group_give_the_same_rows_in_the_same_order(intraday_bin, lake, tmp_path):
    # A worker reading a day directly reads its files' row groups in parallel and puts them back
    # in file order: 64-row row groups give the day files of one row group per file.
    small = generate(intraday_bin, tmp_path / "lake", row_group_rows=64)
    outputs = {}
    for name, root in (("one", lake), ("small", small)):
        base = tmp_path / name
        base.mkdir()
        config = write_config(base / "p.yaml", root, base / "out", base / "scratch", workers=1)
        text = config.read_text()
        config.write_text(text[:text.index("passes:")] + ORDER_SENSITIVE_PASS)
        run_intraday(intraday_bin, "run", config)
        outputs[name] = day_files(base / "out")
        assert {day["strategy"] for day in run_report(base / "out")["days"]} == {"direct"}
    import pyarrow.parquet as pq
    assert max(pq.ParquetFile(p).metadata.num_row_groups for p in small.rglob("*.parquet")) > 10
    assert outputs["one"] == outputs["small"]


def test_rows_out_of_time_order_give_the_output_of_the_same_rows_in_time_order(intraday_bin, lake, tmp_path):
    # Workers take each listing's rows as read when they are in time order (vendor files) and sort
    # them otherwise. One lake has the XLON trades and book files of a day shuffled; the other has
    # the same rows sorted by time (a stable sort: equal times keep the shuffled order, which is
    # the engine's order for ties). Both must give the same day files, read directly or shredded.
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = __import__("random").Random(7)
    lakes = {"shuffled": tmp_path / "shuffled", "sorted": tmp_path / "sorted"}
    changed = 0
    for src in lake.rglob("*"):
        for name, root in lakes.items():
            dst = root / src.relative_to(lake)
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
                continue
            time_column = ("TradeTimestamp" if src.name.startswith("trades-plus-XLON") else
                           "EventTimestamp" if src.name.startswith("XLON-") else None)
            if time_column is None or START.replace("-", "") not in src.name:
                dst.write_bytes(src.read_bytes())
                continue
            table = pq.read_table(src)
            order = list(range(table.num_rows))
            rng.seed(src.name)
            rng.shuffle(order)
            table = table.take(pa.array(order))
            if name == "sorted":
                table = table.take(pc.sort_indices(table, sort_keys=[(time_column, "ascending")]))
            pq.write_table(table, dst, row_group_size=max(1, table.num_rows // 3))
            changed += 1
    assert changed == 4  # two files, in each lake

    outputs = {}
    for name, root in lakes.items():
        for memory in ("4GiB", "96KiB"):
            base = tmp_path / f"{name}-{memory}"
            base.mkdir()
            config = write_config(base / "p.yaml", root, base / "out", base / "scratch", workers=2, memory=memory)
            text = config.read_text()
            config.write_text(text[:text.index("passes:")] + ORDER_SENSITIVE_PASS)
            run_intraday(intraday_bin, "run", config)
            outputs[name, memory] = day_files(base / "out")
            days = run_report(base / "out")["days"]
            strategies = {day["strategy"] for day in days}
            assert strategies == ({"direct"} if memory == "4GiB" else {"shred"}), (name, memory, strategies)
            if memory == "4GiB":
                # A direct read sorts the shuffled listings in place and copies none.
                batches = [b for day in days for b in day["batches"]]
                assert all(b["gathered_listings"] == 0 for b in batches)
                assert (sum(b["sorted_listings"] for b in batches) > 0) == (name == "shuffled")
                # Fixed-width columns come straight from their pages (io/column_pages.h), the
                # others through the Arrow reader; the shredded runs read every column through it.
                assert all(b["page_column_chunks"] > 0 for b in batches), batches
    assert outputs["shuffled", "4GiB"] == outputs["sorted", "4GiB"]
    assert outputs["shuffled", "96KiB"] == outputs["sorted", "96KiB"]
    assert outputs["sorted", "4GiB"] == outputs["sorted", "96KiB"]


def test_workers_are_fresh_processes_and_scratch_is_left_empty(intraday_bin, lake, tmp_path):
    scratch = tmp_path / "scratch"
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", scratch, workers=2, memory="96KiB")
    proc = subprocess.run([intraday_bin, "run", str(config)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = run_report(tmp_path / "out")
    pids = [b["pid"] for day in report["days"] for b in day["batches"]]
    assert len(pids) == len(set(pids)) > 3  # one process per batch
    batches = [b for day in report["days"] for b in day["batches"]]
    assert all(b["peak_rss_bytes"] > 0 for b in batches)
    # The peak is the worker's own (VmHWM), never above what wait4 reports: a posix_spawn'd child
    # starts wait4's figure at the driver's peak.
    assert all(0 < b["peak_rss_bytes"] <= b["wait4_maxrss_bytes"] for b in batches)
    assert list(scratch.iterdir()) == []  # spill files and task files are gone
    assert not (tmp_path / "out" / "_staging").exists()


def _status_field(pid: int, name: str):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _advised_huge_bytes(pid: int):
    """The bytes of a worker's mappings advised for transparent huge pages (VmFlags "hg"), or None
    when it is gone or not yet a worker (a child shares the driver's memory until its exec)."""
    try:  # the command line first: once it is a worker's, so is the memory read after it
        if b"worker" not in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
            return None
        text = Path(f"/proc/{pid}/smaps").read_text()
    except OSError:
        return None
    total, size = 0, 0
    for line in text.splitlines():
        if line.startswith("Size:"):
            size = int(line.split()[1]) * 1024
        elif line.startswith("VmFlags:") and " hg" in line:
            total += size
    return total


def _environment(pid: int) -> dict:
    try:
        entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return {}
    return dict(e.decode(errors="replace").split("=", 1) for e in entries if b"=" in e)


def _mapped_libraries(pid: int) -> set:
    try:
        lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    except OSError:
        return set()
    return {Path(line.split()[-1]).name for line in lines if ".so" in line}


def _watch_run(intraday_bin, config, env):
    """Runs `intraday run config` and polls its processes until it exits. Returns the driver's pid,
    the last THP_enabled seen per pid, the most bytes advised for huge pages per worker, and each
    worker's environment and shared libraries (in `environs[pid]["/maps"]`)."""
    proc = subprocess.Popen([intraday_bin, "run", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    last_thp, advised = {}, {}  # pid -> the last THP_enabled seen; pid -> most bytes advised huge
    environs = {}  # pid -> a worker's environment
    while proc.poll() is None:
        pids = [proc.pid]
        for task in Path(f"/proc/{proc.pid}/task").glob("*"):
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                pass
        for pid in pids:
            value = _status_field(pid, "THP_enabled")
            if value is not None:
                last_thp[pid] = value
            if pid != proc.pid:
                bytes_ = _advised_huge_bytes(pid)
                if bytes_ is not None:
                    advised[pid] = max(advised.get(pid, 0), bytes_)
                    environment = _environment(pid)
                    if environment:  # empty if it exited meanwhile
                        environs.setdefault(pid, dict(environment, **{"/maps": set()}))
                    if pid in environs:  # the loader maps the libraries after the exec: every poll adds
                        environs[pid]["/maps"] |= _mapped_libraries(pid)
        time.sleep(0.002)
    assert proc.returncode == 0, proc.stderr.read()
    return proc.pid, last_thp, advised, environs


def _watch_days(intraday_bin, lake, tmp_path, memory: str, user_thp: str, end=END):
    """_watch_run of a run with `memory` per worker and the user's environment asking for another
    allocator than the workers' (the system's), and jemalloc's huge pages on (`user_thp` "1") or
    off, plus the run report's days."""
    if _status_field(os.getpid(), "THP_enabled") != "1":
        pytest.skip("this kernel does not report THP_enabled, or huge pages are already off here")
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2,
                          memory=memory, end=end)
    env = dict(os.environ, ARROW_DEFAULT_MEMORY_POOL="system",
               JE_ARROW_MALLOC_CONF="narenas:4,thp:always" if user_thp == "1" else "thp:never")
    watched = _watch_run(intraday_bin, config, env)
    return (*watched, run_report(tmp_path / "out")["days"])


def test_driver_and_spill_readers_keep_the_allocator_off_huge_pages(intraday_bin, lake, tmp_path):
    """Transparent huge pages are off in the driver (THP_enabled 0) and, in every worker that reads
    spill files, for Arrow's allocator (exec/memory_pages.h): its regions
    are not advised for huge pages, even when the user's environment asks for them. Only a worker's
    filled arrays are, and on this lake they are far below 64 MiB. Workers use jemalloc in one
    arena, whatever the user's environment says."""
    driver, last_thp, advised, environs, days = _watch_days(intraday_bin, lake, tmp_path, "96KiB", user_thp="1")
    assert all(day["strategy"] == "shred" for day in days), [day["strategy"] for day in days]
    workers = [b["pid"] for day in days for b in day["batches"]]
    seen_workers = [pid for pid in workers if pid in advised]
    assert last_thp.get(driver) == "0", last_thp
    assert seen_workers, "no worker was seen running"
    assert all(advised[pid] < 64 << 20 for pid in seen_workers), advised
    # The workers' allocator: jemalloc in one arena, its regions not advised for huge pages.
    read = [pid for pid in seen_workers if pid in environs]
    assert read, "no worker's environment was read"
    assert all(environs[pid].get("ARROW_DEFAULT_MEMORY_POOL") == "jemalloc" for pid in read), environs
    assert all(environs[pid].get("JE_ARROW_MALLOC_CONF") == "narenas:1" for pid in read), environs


def test_the_binary_and_its_workers_allocate_through_jemalloc(intraday_bin, lake, tmp_path):
    """The release binary's malloc is jemalloc (common/allocator.h): `--version` and the run report
    say so, and the workers have it mapped, whatever allocator the user's environment asks Arrow for."""
    version = subprocess.run([intraday_bin, "--version"], capture_output=True, text=True, check=True).stdout
    assert re.search(r"\(jemalloc \d+\.\d+", version), version
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch", workers=2,
                          memory="96KiB")
    _, _, _, environs = _watch_run(intraday_bin, config, dict(os.environ, ARROW_DEFAULT_MEMORY_POOL="system"))
    assert run_report(tmp_path / "out")["machine"]["allocator"].startswith("jemalloc ")
    assert environs, "no worker was seen running"
    assert all(any(name.startswith("libjemalloc.so") for name in e["/maps"]) for e in environs.values()), environs


FOURTH_DAY = "2026-01-08"


@pytest.fixture(scope="module")
def four_day_lake(tmp_path_factory, intraday_bin):
    return generate_engine_lake(intraday_bin, tmp_path_factory.mktemp("lake4"), end=FOURTH_DAY)


def test_lake_readers_let_the_allocator_use_huge_pages_on_memory_just_freed(intraday_bin, lake, four_day_lake,
                                                                           tmp_path):
    """A worker that reads the lake's files (a day of one batch here) lets Arrow's allocator advise
    its regions for huge pages (jemalloc's thp:always), even when the user's environment says no: it
    decodes the day's Parquet through that allocator, and 4 KiB pages cost it three times the
    faults (exec/memory_pages.h). Its regions then show as advised.
    But only on memory a worker has just freed, and only where that pays (UseHugePages): the run's
    first worker, which starts on memory nobody freed a moment before, keeps 4 KiB pages
    (no thp:always); the next days' workers start as soon as the one before exits, and
    switch to huge pages when at least two more days follow (four days here). The run report
    says which."""
    # Three days: the second day's worker has one day after it, the third follows a worker in
    # 4 KiB pages: none switches.
    (tmp_path / "three").mkdir()
    *_, three = _watch_days(intraday_bin, lake, tmp_path / "three", "1GiB", user_thp="0")
    assert len([b for day in three for b in day["batches"]]) == 3, three
    assert not any(b["huge_pages"] for day in three for b in day["batches"]), three
    driver, last_thp, advised, environs, days = _watch_days(intraday_bin, four_day_lake, tmp_path, "1GiB",
                                                            user_thp="0", end=FOURTH_DAY)
    assert all(day["strategy"] == "direct" for day in days), [day["strategy"] for day in days]
    assert last_thp.get(driver) == "0", last_thp
    batches = sorted((b for day in days for b in day["batches"]), key=lambda b: b["started_seconds"])
    assert len(batches) == 4, batches
    assert batches[0]["huge_pages"] is False, batches[0]
    # The next days' workers start right after an exit (a loaded machine could make one miss the
    # second, so not all are required to).
    assert any(b["huge_pages"] is True for b in batches[1:]), [b["huge_pages"] for b in batches]
    read = [b for b in batches if b["pid"] in environs]
    assert any(b["huge_pages"] for b in read), "no later worker's environment was read"
    for b in read:
        environment = environs[b["pid"]]
        assert environment.get("ARROW_DEFAULT_MEMORY_POOL") == "jemalloc", environment
        assert environment.get("JE_ARROW_MALLOC_CONF") == (
            "narenas:1,thp:always" if b["huge_pages"] else "narenas:1"), (b, environment)
    # jemalloc's regions, a few MiB on this lake, advised in the workers on huge pages alone (the
    # filled arrays of this lake are too small to have their own mapping).
    huge = [advised[b["pid"]] for b in read if b["huge_pages"]]
    small = [advised[b["pid"]] for b in read if not b["huge_pages"]]
    # (a worker seen only as it starts shows less: the most advised of them counts)
    assert max(huge) >= 2 << 20 and max(huge) > max(small, default=0), advised


def test_rerun_needs_resume_or_force(intraday_bin, lake, tmp_path):
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", tmp_path / "scratch")
    run_intraday(intraday_bin, "run", config)
    again = run_intraday(intraday_bin, "run", config, check=False)
    assert again.returncode == 1 and "--resume" in again.stderr
    before = day_files(tmp_path / "out")
    run_intraday(intraday_bin, "run", config, "--resume")  # nothing to do
    forced = run_intraday(intraday_bin, "run", config, "--force")
    assert day_files(tmp_path / "out") == before
    # Run ids (report names) sort in start order: time to the millisecond, then a padded pid.
    names = [p.stem for p in sorted((tmp_path / "out" / "_runs").glob("*.json"))]
    assert all(re.fullmatch(r"\d{8}T\d{6}\.\d{3}-\d{7}", name) for name in names), names
    assert names[-1] in forced.stderr, (names, forced.stderr)


def _worker_pids(scratch: Path):
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in cmdline and any(str(scratch).encode() in part for part in cmdline):
            pids.append(int(entry.name))
    return pids


@pytest.mark.parametrize("memory", ["96KiB", "4GiB", "wide", "sliced"])
def test_kill_9_of_a_worker_is_retried_and_output_unchanged(intraday_bin, lake, reference, tmp_path, memory, request):
    # 96KiB: shredded days of several batches; 4GiB: days of one batch, whose worker writes the
    # day's file: killed (as if for memory), the batch is split in two and the driver writes it;
    # wide: days of one batch taking both worker places, split into two of one place each;
    # sliced: days of one batch computed in time slices, split into two halves that keep the setting.
    extra_run = ""
    if memory == "wide":
        memory = request.getfixturevalue("wide_memory")
        lake = request.getfixturevalue("interleaved_lake")
    elif memory == "sliced":
        memory, extra_run = "4GiB", "  time_slice: 64KiB"
        lake = request.getfixturevalue("interleaved_lake")
    scratch = tmp_path / "scratch"
    config = write_config(tmp_path / "p.yaml", lake, tmp_path / "out", scratch, workers=2, memory=memory,
                          extra_run=extra_run)
    env = dict(os.environ, INTRADAY_TEST_WORKER_DELAY_MS="400")
    proc = subprocess.Popen([intraday_bin, "run", str(config)], stderr=subprocess.PIPE, text=True, env=env)
    killed = None
    deadline = time.time() + 60
    while killed is None and time.time() < deadline and proc.poll() is None:
        pids = _worker_pids(scratch)
        if pids:
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    _, stderr = proc.communicate(timeout=300)
    assert killed is not None, "no worker seen"
    assert proc.returncode == 0, stderr
    assert day_files(tmp_path / "out") == day_files(reference)
    report = run_report(tmp_path / "out")
    assert report["retries"], "the kill must be recorded as a retry"
    assert any("SIGKILL" in r["what"] for r in report["retries"])
    if memory != "96KiB":
        split_days = {r["day"] for r in report["retries"] if "split into two" in r["what"]}
        assert len(split_days) == 1, report["retries"]
        for day in report["days"]:
            written_by = "driver" if day["day"] in split_days else "worker"
            assert day["day_file_written_by"] == written_by, day
            if memory != "4GiB":  # wide: the halves take one place each, the others both
                places = [b["worker_slots"] for b in day["batches"] if b["exit"] == "exit code 0"]
                assert places == ([1, 1] if day["day"] in split_days else [2]), day["batches"]
            if extra_run:  # sliced: the halves keep the setting (one slice holds a half of this small
                # day: computed whole), the other days ran in slices
                done = [b for b in day["batches"] if b["exit"] == "exit code 0"]
                assert done and all(b["time_slice_bytes"] == 64 << 10 for b in done), day["batches"]
                if day["day"] not in split_days:
                    assert done[0]["time_slices"] > 1, day["batches"]


def test_truncated_parquet_fails_naming_the_file_and_keeps_finished_days(intraday_bin, lake, tmp_path):
    broken = tmp_path / "lake"
    shutil.copytree(lake, broken)
    victim = broken / "Equity-L3" / "XPAR" / "2026" / "01" / "06" / "l3-XPAR-20260106.parquet"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    config = write_config(tmp_path / "p.yaml", broken, tmp_path / "out", tmp_path / "scratch")
    proc = run_intraday(intraday_bin, "run", config, check=False)
    assert proc.returncode == 1
    assert "l3-XPAR-20260106.parquet" in proc.stderr
    files = day_files(tmp_path / "out")
    assert list(files) == ["activity/date=2026-01-05/part-00000.parquet"]  # the day before is kept


@pytest.mark.parametrize("memory", ["4GiB", "96KiB", "sliced"])
def test_null_event_times_fail_naming_the_table_and_keep_finished_days(intraday_bin, lake, tmp_path, memory):
    """A row without an event time cannot be bucketed: the day fails naming the table and the
    column, whether its worker reads the lake (its ListingId column then rebuilt for the general
    path, as the table cannot be sorted in place) or spill files; the day before is kept."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    broken = tmp_path / "lake"
    shutil.copytree(lake, broken)
    victim = broken / "Trades-Plus" / "XLON" / "2026" / "01" / "06" / "trades-plus-XLON-20260106.parquet"
    table = pq.read_table(victim)
    times = table.column("TradeTimestamp").to_pylist()
    times[len(times) // 2] = None
    index = table.schema.get_field_index("TradeTimestamp")
    table = table.set_column(index, table.schema.field(index), pa.array(times, type=table.schema.field(index).type))
    pq.write_table(table, victim)
    extra_run = "  time_slice: 64KiB" if memory == "sliced" else ""
    config = write_config(tmp_path / "p.yaml", broken, tmp_path / "out", tmp_path / "scratch",
                          memory="4GiB" if memory == "sliced" else memory, extra_run=extra_run)
    proc = run_intraday(intraday_bin, "run", config, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "table trades: 1 rows have a null TradeTimestamp" in proc.stderr, proc.stderr
    files = day_files(tmp_path / "out")
    assert list(files) == ["activity/date=2026-01-05/part-00000.parquet"]  # the day before is kept


def test_sigterm_then_resume_gives_the_uninterrupted_output(intraday_bin, lake, reference, tmp_path):
    out = tmp_path / "out"
    config = write_config(tmp_path / "p.yaml", lake, out, tmp_path / "scratch", workers=1, memory="96KiB")
    env = dict(os.environ, INTRADAY_TEST_WORKER_DELAY_MS="150")
    proc = subprocess.Popen([intraday_bin, "run", str(config)], stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (out / "activity" / "date=2026-01-05").exists():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0, "the run was meant to be interrupted mid-way"
    assert "--resume" in stderr
    published = day_files(out)
    assert 1 <= len(published) < 3
    for name in published:  # whatever is visible is complete
        assert published[name] == day_files(reference)[name]
    assert not list((tmp_path / "scratch").iterdir())
    run_intraday(intraday_bin, "run", config, "--resume")
    assert day_files(out) == day_files(reference)


def test_conformance_harness_activity_matches_polars(intraday_bin, conformance_lake, tmp_path):
    """The shared conformance harness on the activity module: counts and volume per 1-minute
    bucket recomputed with Polars from the same files."""
    import polars as pl
    from conftest import CONFORMANCE_DAYS, lake_file, run_pipeline

    out = run_pipeline(intraday_bin, tmp_path, conformance_lake,
                       "  - name: a\n    bucket: 1m\n    timeline: sparse\n    modules:\n"
                       "      activity: {tables: [trades]}\n")
    for day in CONFORMANCE_DAYS:
        ours = pl.read_parquet(out / "a" / f"date={day}" / "part-00000.parquet")
        trades = pl.concat([pl.read_parquet(lake_file(conformance_lake, "trades", mic, day),
                                            columns=["ListingId", "TradeTimestamp", "Size"]) for mic in ("XLON", "XPAR")])
        ts = pl.col("TradeTimestamp").cast(pl.Datetime("ns"))
        floor = ts.dt.truncate("1m")
        label = pl.when(ts == floor).then(floor).otherwise(floor + pl.duration(minutes=1))  # end/right
        ref = (trades.with_columns(label.alias("TimeBucket"))
               .group_by("ListingId", "TimeBucket")
               .agg(pl.len().cast(pl.Int64).alias("ActivityTradesCount"),
                    pl.col("Size").sum().alias("ActivityTradesVolume"))
               .sort("ListingId", "TimeBucket"))
        assert ours.select(ref.columns).equals(ref)


def test_a_day_without_any_data_is_published_empty_with_warnings(intraday_bin, lake, tmp_path):
    """Wednesday 2026-01-07 exists in the range but its files are gone: not an error (no strict
    mode), an empty file with the pass's schema, and warnings naming the missing files."""
    partial = tmp_path / "lake"
    shutil.copytree(lake, partial)
    for path in partial.rglob("*20260107.parquet"):
        path.unlink()
    config = write_config(tmp_path / "p.yaml", partial, tmp_path / "out", tmp_path / "scratch")
    proc = run_intraday(intraday_bin, "run", config)
    import polars as pl

    empty = pl.read_parquet(tmp_path / "out" / "activity" / "date=2026-01-07" / "part-00000.parquet")
    full = pl.read_parquet(tmp_path / "out" / "activity" / "date=2026-01-06" / "part-00000.parquet")
    assert empty.height == 0 and empty.schema == full.schema and full.height > 0
    report = run_report(tmp_path / "out")
    assert any("20260107" in w for w in report["warnings"]), report["warnings"]
    assert "20260107" in proc.stderr

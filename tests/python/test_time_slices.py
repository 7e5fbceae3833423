"""Days computed in time slices (run.time_slice; docs/engine.md "A day in time slices",
docs/planning.md): the day files equal a whole day's for any slice size, worker count and
timeline, with files out of time order too; the planner slices a day too large for the workers'
budgets instead of shredding it, and not where slices do not pay; a sliced worker's peak RSS does
not grow with the day's rows."""
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import run_intraday, upload_tree
from test_streaming import DAY, batches_of, day_files, generate, plan_json, reversed_trades_lake, write_config


@pytest.fixture(scope="module")
def lake(tmp_path_factory, intraday_bin):
    return generate(intraday_bin, tmp_path_factory.mktemp("slices") / "lake", listings=8, events=3000)


@pytest.fixture(scope="module")
def whole(tmp_path_factory, intraday_bin, lake):
    """Per timeline, the day files of the day computed whole."""
    outs = {}
    for timeline in ("dense", "sparse"):
        config = write_config(tmp_path_factory.mktemp(f"whole-{timeline}") / "p.yaml", lake, time_slice="off",
                              timeline=timeline)
        run_intraday(intraday_bin, "run", config)
        assert not any("time_slices" in b for b in batches_of(config.parent / "out"))
        outs[timeline] = day_files(config.parent / "out")
    return outs


@pytest.mark.parametrize("time_slice,workers,timeline",
                         [("256KiB", 1, "dense"), ("256KiB", 2, "dense"), ("1MiB", 2, "sparse"),
                          ("64KiB", 2, "sparse")])
def test_sliced_day_files_equal_whole_days(intraday_bin, lake, whole, tmp_path, time_slice, workers, timeline):
    config = write_config(tmp_path / "p.yaml", lake, time_slice=time_slice, workers=workers, timeline=timeline)
    plan = plan_json(intraday_bin, config)
    [batch] = plan["batches"]
    assert plan["strategy"] == "direct" and batch["time_slice_bytes"] > 0
    assert "in time slices of" in run_intraday(intraday_bin, "plan", config, "--day", DAY).stdout
    run_intraday(intraday_bin, "run", config)
    out = tmp_path / "out"
    assert day_files(out) == whole[timeline]
    [ran] = batches_of(out)
    assert ran["time_slices"] > 2 and ran["time_slice_bytes"] == batch["time_slice_bytes"]
    assert "stream_fallback" not in ran
    # Files in time order: row groups cut by a slice are read on by the next from where it
    # stopped, and no row is decoded before its slice.
    assert ran["slice_resumed_reads"] > 0 and ran["slice_held_rows"] == 0
    # A reader kept for the next slice lets go of the file pages it has read (io/mapped_file.h).
    assert ran["slice_released_readers"] > 0
    # Eight listings' output rows are more than an eighth of these slices: set aside in scratch
    # between slices, and the files gone with the day's scratch.
    assert ran["slice_output_bytes"] > 0
    assert not list((tmp_path / "scratch").rglob("*.slices"))


@pytest.mark.parametrize("grid,timeline", [
    ("{bucket: 5m, anchor: start, closed: left}", "dense"),
    ("{bucket: 30s, anchor: end, closed: right}", "sparse"),
    ("{bucket: 7s, anchor: start, closed: right}", "dense"),
])
def test_other_bucket_grids_slice_the_same(intraday_bin, lake, tmp_path, grid, timeline):
    # Cuts fall between labels of the pass's grid, whatever its length, anchor and closed side.
    outs = {}
    for time_slice in ("off", "128KiB"):
        config = write_config(tmp_path / time_slice / "p.yaml", lake, time_slice=time_slice, workers=2,
                              timeline=timeline, grid=grid.replace("{", "").replace("}", "").replace(", ", "\n    "))
        run_intraday(intraday_bin, "run", config)
        outs[time_slice] = day_files(config.parent / "out")
    assert outs["128KiB"] == outs["off"]
    [ran] = batches_of(tmp_path / "128KiB" / "out")
    assert ran["time_slices"] > 2


def test_a_lake_on_s3_is_sliced_the_same(intraday_bin, lake, whole, s3_server, s3_env, tmp_path):
    # Files on an object store are read through the Arrow reader (no pages reader): keys, slices
    # and held rows all take that path. Scratch there too: the slices' output rows, with no local
    # file to go to, stay in memory until the last slice.
    upload_tree(s3_server, lake, "slices-bucket", "lake")
    config = write_config(tmp_path / "p.yaml", "s3://slices-bucket/lake", time_slice="256KiB", workers=2)
    config.write_text(config.read_text().replace(f"scratch: {tmp_path / 'scratch'}", "scratch: s3://slices-bucket/scratch"))
    run_intraday(intraday_bin, "run", config, env=s3_env)
    assert day_files(tmp_path / "out") == whole["dense"]
    [ran] = batches_of(tmp_path / "out")
    assert ran["time_slices"] > 2 and ran["page_column_chunks"] == 0 and ran["arrow_column_chunks"] > 0
    assert ran["slice_output_bytes"] == 0
    assert ran["slice_resumed_reads"] > 0 and ran["slice_held_rows"] == 0
    assert ran["slice_released_readers"] == 0  # nothing mapped to let go of


def test_files_out_of_time_order_are_sliced_and_sorted(intraday_bin, lake, tmp_path):
    # One trades file in reverse row order: every listing's trades arrive out of time order, from
    # row groups that each span several slices; every slice's rows are sorted in place.
    shuffled = reversed_trades_lake(lake, tmp_path / "lake", row_group_size=512)
    outs = {}
    for time_slice in ("off", "256KiB"):
        config = write_config(tmp_path / time_slice / "p.yaml", shuffled, time_slice=time_slice, workers=2)
        run_intraday(intraday_bin, "run", config)
        outs[time_slice] = day_files(config.parent / "out")
    assert outs["256KiB"] == outs["off"]
    [ran] = batches_of(tmp_path / "256KiB" / "out")
    assert ran["time_slices"] > 2 and ran["sorted_listings"] > 0
    # A reversed row group's rows of later slices come first: decoded with the slice's and held.
    assert ran["slice_held_rows"] > 0


def test_listings_gathered_out_of_time_order_are_sliced_the_same(intraday_bin, lake, tmp_path):
    # A table the worker cannot sort in place (a column type it cannot move; here the test hook
    # INTRADAY_TEST_NO_SORT_IN_PLACE) leaves each listing's rows out of time order to be gathered
    # into buffers reused from listing to listing: what a listing carries into the next slice is
    # copied before the next listing's gather.
    shuffled = reversed_trades_lake(lake, tmp_path / "lake", row_group_size=512)
    outs = {}
    for time_slice in ("off", "256KiB"):
        config = write_config(tmp_path / time_slice / "p.yaml", shuffled, time_slice=time_slice, workers=2)
        run_intraday(intraday_bin, "run", config, env=dict(os.environ, INTRADAY_TEST_NO_SORT_IN_PLACE="1"))
        outs[time_slice] = day_files(config.parent / "out")
    assert outs["256KiB"] == outs["off"]
    [ran] = batches_of(tmp_path / "256KiB" / "out")
    assert ran["time_slices"] > 2 and ran["gathered_listings"] > 0 and ran["sorted_listings"] == 0


def silent_listing_lake(lake: Path, out: Path) -> Path:
    """A copy of `lake` in which its lowest listing has no trade, snapshot or order message over
    the middle third of the day."""
    time_column = {"Trades-Plus": "TradeTimestamp", "Equity": "EventTimestamp", "Equity-L3": "TimestampNanoseconds"}
    for src in sorted(lake.rglob("*")):
        dst = out / src.relative_to(lake)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
            continue
        column = time_column.get(src.relative_to(lake).parts[0])
        if column is None:
            dst.write_bytes(src.read_bytes())
            continue
        data = pq.read_table(src)
        time = data[column].cast(pa.int64())
        lo, hi = pc.min(time).as_py(), pc.max(time).as_py()
        listing = pc.min(data["ListingId"]).as_py()
        silent = pc.and_(pc.equal(data["ListingId"], listing),
                         pc.and_(pc.greater(time, lo + (hi - lo) // 3), pc.less(time, lo + 2 * (hi - lo) // 3)))
        pq.write_table(data.filter(pc.invert(silent)), dst, row_group_size=4096)
    return out


def test_a_listing_without_buckets_in_a_slice_carries_its_events_over_it(intraday_bin, lake, tmp_path):
    # On a sparse timeline a listing silent for hours has no bucket in the slices of its silence:
    # the events it carries (the book in force, the last prices) wait there for its next bucket.
    silent = silent_listing_lake(lake, tmp_path / "lake")
    outs = {}
    for time_slice in ("off", "64KiB"):
        config = write_config(tmp_path / time_slice / "p.yaml", silent, time_slice=time_slice, workers=2,
                              timeline="sparse")
        run_intraday(intraday_bin, "run", config)
        outs[time_slice] = day_files(config.parent / "out")
    assert outs["64KiB"] == outs["off"]
    [ran] = batches_of(tmp_path / "64KiB" / "out")
    assert ran["time_slices"] > 6


def test_a_day_too_large_for_the_workers_is_sliced_instead_of_shredded(intraday_bin, tmp_path):
    # One worker, budgets from small to large: shredded while a slice would not fit (or the day
    # would take more than 16 slices), then sliced, then whole once the day fits. More events per
    # listing than the other tests' lake, so that the input outweighs the output rows.
    lake = generate(intraday_bin, tmp_path / "lake", listings=8, events=20000)
    strategies = []
    sliced_at = None
    for mib in range(6, 140, 4):
        config = write_config(tmp_path / f"{mib}" / "p.yaml", lake, memory=f"{mib}MiB")
        plan = plan_json(intraday_bin, config)
        sliced = plan["strategy"] == "direct" and plan["batches"][0]["time_slice_bytes"] > 0
        strategies.append("sliced" if sliced else plan["strategy"])
        if sliced and sliced_at is None:
            sliced_at = config
            assert "in time slices of about" in plan["strategy_reason"]
            assert plan["batches"][0]["memory_bytes"] <= plan["data_budget"]
            # At the smallest budget that slices, the output rows are set aside in scratch.
            assert plan["batches"][0]["slice_output_spilled"]
            assert "output rows set aside in scratch" in plan["strategy_reason"]
    order = [s for i, s in enumerate(strategies) if i == 0 or s != strategies[i - 1]]
    assert order == ["shred", "sliced", "direct"], strategies
    reference = write_config(tmp_path / "whole" / "p.yaml", lake, time_slice="off")
    run_intraday(intraday_bin, "run", reference)
    run_intraday(intraday_bin, "run", sliced_at)
    assert day_files(sliced_at.parent / "out") == day_files(reference.parent / "out")
    [ran] = batches_of(sliced_at.parent / "out")
    assert ran["time_slices"] > 1 and ran["slice_output_bytes"] > 0

    # The same budget with slicing off, or with a module that does not stream over time: shredded.
    memory = sliced_at.parent.name + "MiB"
    off = write_config(tmp_path / "off" / "p.yaml", lake, memory=memory, time_slice="off")
    assert plan_json(intraday_bin, off)["strategy"] == "shred"
    orders = write_config(tmp_path / "orders" / "p.yaml", lake, memory=memory,
                          modules="      l3: {advanced: [AvgRestingTime]}\n")
    assert all(b["time_slice_bytes"] == 0 for b in plan_json(intraday_bin, orders)["batches"])


def test_a_day_that_fits_whole_is_sliced_by_default_when_large(intraday_bin, tmp_path):
    # run.time_slice auto: a day of one direct batch whose worker would take more than two slices
    # of 128 MiB is computed in slices of 128 MiB (no measured cost, a bounded worker); smaller
    # days whole. The day files equal the whole day's.
    modules = "      l2: {levels: 10}\n      trade: {}\n      l2tw: {levels: 10}\n"
    lake = generate(intraday_bin, tmp_path / "lake", listings=4, events=500000, mics="XLON")
    auto = write_config(tmp_path / "auto" / "p.yaml", lake, memory="1GiB", workers=2, modules=modules, mics="XLON")
    plan = plan_json(intraday_bin, auto)
    [batch] = plan["batches"]
    assert plan["strategy"] == "direct" and batch["memory_bytes"] > 256 * 2**20, plan
    assert batch["time_slice_bytes"] == 128 * 2**20
    assert "time slices of about 128.0 MiB (run.time_slice: auto)" in plan["strategy_reason"]
    off = write_config(tmp_path / "off" / "p.yaml", lake, memory="1GiB", workers=2, modules=modules, mics="XLON",
                       time_slice="off")
    assert plan_json(intraday_bin, off)["batches"][0]["time_slice_bytes"] == 0
    run_intraday(intraday_bin, "run", auto)
    run_intraday(intraday_bin, "run", off)
    assert day_files(auto.parent / "out") == day_files(off.parent / "out")
    [ran] = batches_of(auto.parent / "out")
    assert ran["time_slices"] >= 2 and ran["slice_held_rows"] == 0
    # The other tests' small day (8 listings x 3000 events) stays whole under auto.
    small = generate(intraday_bin, tmp_path / "small", listings=8, events=3000)
    small_auto = write_config(tmp_path / "small-auto" / "p.yaml", small, memory="1GiB")
    assert all(b["time_slice_bytes"] == 0 for b in plan_json(intraday_bin, small_auto)["batches"])


def test_files_with_row_groups_by_listing_are_not_sliced(intraday_bin, tmp_path):
    # Row groups by listing span the whole day: the first slice would decode and hold all of it.
    lake = generate(intraday_bin, tmp_path / "lake", listings=8, events=3000, layout="listing",
                    row_group_rows=256)
    config = write_config(tmp_path / "p.yaml", lake, time_slice="64KiB")
    assert all(b["time_slice_bytes"] == 0 for b in plan_json(intraday_bin, config)["batches"])


@pytest.mark.parametrize("value,ok", [("auto", True), ("off", True), ("0", True), ("8MiB", True),
                                      ("fast", False), ("1KiB", False)])
def test_time_slice_setting(intraday_bin, lake, tmp_path, value, ok):
    config = write_config(tmp_path / "p.yaml", lake, time_slice=value)
    proc = run_intraday(intraday_bin, "validate", config, check=False)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    if not ok:
        assert "run.time_slice" in proc.stdout + proc.stderr


def test_peak_rss_of_a_sliced_day_does_not_grow_with_its_rows(intraday_bin, tmp_path):
    # Four listings with N and with 4N events each. Whole, the worker's peak RSS grows with the
    # day's rows; in slices of 4 MiB, it grows by the per-row keys and the output only.
    modules = "      l2: {levels: 10}\n      trade: {}\n      l2tw: {levels: 10}\n"
    peaks = {}
    small, large = 40000, 160000
    for events in (small, large):
        lake = generate(intraday_bin, tmp_path / f"lake{events}", listings=4, events=events, mics="XLON")
        for time_slice in ("off", "4MiB"):
            config = write_config(tmp_path / f"{events}-{time_slice}" / "p.yaml", lake, time_slice=time_slice,
                                  workers=2, modules=modules, mics="XLON")
            run_intraday(intraday_bin, "run", config)
            [batch] = batches_of(config.parent / "out")
            assert (batch.get("time_slices", 0) > 1) == (time_slice != "off")
            peaks[events, time_slice] = batch["peak_rss_bytes"]
        assert day_files(tmp_path / f"{events}-4MiB" / "out") == day_files(tmp_path / f"{events}-off" / "out")
    whole_growth = peaks[large, "off"] - peaks[small, "off"]
    sliced_growth = peaks[large, "4MiB"] - peaks[small, "4MiB"]
    figures = {f"{e} events, {s}": f"{p / 2**20:.1f} MiB" for (e, s), p in peaks.items()}
    print("worker peak RSS:", figures)  # docs/engine.md records them (pytest -s shows them)
    assert whole_growth > 40 * 2**20, figures
    assert sliced_growth < whole_growth / 3, figures

"""An oversize listing streamed over time (docs/engine.md, "Streaming an oversize listing"): the
plan says so, the output is byte-identical to a run with a huge budget, the worker's peak RSS
does not grow with the listing's rows, rows out of time order fall back to the whole-listing path
with a warning, and a pass with a module that cannot stream (l3 following orders) keeps the "may exceed"
warning."""
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import conftest
from conftest import run_intraday, run_report

DAY = "2026-01-05"
STREAMING_MODULES = """      trade: {}
      retail_imbalance: {}
      l2: {levels: 3, ohlc: {sources: [mid, weighted_mid], mode: prev_close}}
      l2tw: {levels: 2, volatility: {sources: [mid]}}
      activity: {tables: [trades, l2, l3]}
      execution: {include: [executions, lit, dark]}
      l3: {actions: [insert, remove, update, execution], advanced: [ArrivalFlowImbalance, CancelToTradeRatio]}
"""


def write_config(path: Path, lake: Path, memory: str = "4GiB", workers=1, modules=STREAMING_MODULES,
                 mics="XLON, XPAR", time_slice=None, timeline="dense", grid="bucket: 1m"):
    path.parent.mkdir(parents=True, exist_ok=True)
    slice_line = f"\n  time_slice: {time_slice}" if time_slice is not None else ""
    path.write_text(f"""data:
  root: {lake}
universe:
  mics: [{mics}]
dates:
  start: {DAY}
  end: {DAY}
run:
  output: {path.parent / "out"}
  scratch: {path.parent / "scratch"}
  workers: {workers}
  memory_per_worker: {memory}{slice_line}
passes:
  - name: bars
    {grid}
    timeline: {timeline}
    modules:
{modules}""")
    return path


def day_files(out: Path):
    return conftest.day_files(out, "bars")


def batches_of(out: Path):
    return [b for day in run_report(out)["days"] for b in day["batches"]]


def generate(binary, out: Path, listings: int, events: int, mics="XLON,XPAR", seed=3, layout="time",
             row_group_rows=4096):
    run_intraday(binary, "generate", "--out", out, "--listings", listings, "--start", DAY, "--days", 1,
                 "--mics", mics, "--events", events, "--seed", seed, "--layout", layout,
                 "--row-group-rows", row_group_rows)
    return out


@pytest.fixture(scope="module")
def lake(tmp_path_factory, intraday_bin):
    return generate(intraday_bin, tmp_path_factory.mktemp("stream") / "lake", listings=8, events=3000)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, intraday_bin, lake):
    config = write_config(tmp_path_factory.mktemp("reference") / "p.yaml", lake, "4GiB")
    run_intraday(intraday_bin, "run", config)
    assert not any(b.get("streamed") for b in batches_of(config.parent / "out"))
    return config.parent / "out"


def reversed_trades_lake(lake: Path, out: Path, row_group_size=None) -> Path:
    """A copy of `lake` with every XLON trades file in reverse row order (rows out of time order)."""
    for src in lake.rglob("*"):
        dst = out / src.relative_to(lake)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        elif "trades-plus-XLON" in src.name:
            table = pq.read_table(src)
            pq.write_table(table.take(list(range(table.num_rows - 1, -1, -1))), dst, row_group_size=row_group_size)
        else:
            dst.write_bytes(src.read_bytes())
    return out


def plan_json(binary, config: Path):
    proc = run_intraday(binary, "plan", config, "--day", DAY, "--json")
    return json.loads(proc.stdout)["passes"][0]


def test_plan_says_which_oversize_batches_stream(intraday_bin, lake, tmp_path):
    config = write_config(tmp_path / "p.yaml", lake, "1MiB")
    plan = plan_json(intraday_bin, config)
    oversize = [b for b in plan["batches"] if b["oversize"]]
    assert oversize, "the 1 MiB budget should make some listing oversize"
    # Streamed when its input is over the budget; over it only with its output rows (which time
    # slices do not bound), computed whole. The input's part: the listing's memory less its output
    # rows, and on a shredded day the copy of its rows a spill reader gathers.
    size_of = {s["listing_id"]: s for s in plan["sizes"]}

    def input_part(size):
        copy = sum(size["bytes"].values()) if plan["gather_threads"] > 0 else 0
        return size["memory_bytes"] - size["output_bytes"] + copy

    input_over = {b["id"]: input_part(size_of[b["listings"][0]]) > plan["data_budget"] for b in oversize}
    assert any(input_over.values())
    assert all(b["streamed"] == input_over[b["id"]] for b in oversize)
    if not all(input_over.values()):
        assert any("are held whole; its input fits" in w for w in plan["warnings"])
    assert not any(b["streamed"] for b in plan["batches"] if not b["oversize"])
    assert any("it will be streamed over time in slices within the budget" in w for w in plan["warnings"])
    text = run_intraday(intraday_bin, "plan", config, "--day", DAY).stdout
    assert "OVERSIZE, streamed over time" in text

    # l3 following orders (their resting time) keeps them across the day: the same listings are
    # oversize, not streamed, and the warning says why.
    l3 = write_config(tmp_path / "l3" / "p.yaml", lake, "1MiB", modules="      l3: {advanced: [AvgRestingTime]}\n")
    plan = plan_json(intraday_bin, l3)
    assert any(b["oversize"] for b in plan["batches"])
    assert not any(b["streamed"] for b in plan["batches"])
    assert any("may exceed the budget (module l3 does not stream over time)" in w for w in plan["warnings"])


@pytest.mark.parametrize("memory,workers", [("1MiB", 1), ("1MiB", 2), ("3MiB", 2)])
def test_streamed_output_is_byte_identical(intraday_bin, lake, reference, tmp_path, memory, workers):
    config = write_config(tmp_path / "p.yaml", lake, memory, workers=workers)
    run_intraday(intraday_bin, "run", config)
    out = tmp_path / "out"
    assert day_files(out) == day_files(reference)
    streamed = [b for b in batches_of(out) if b.get("streamed")]
    assert streamed, "no batch was streamed over time"
    assert all(b["listings"] == 1 and b["time_slices"] > 1 for b in streamed)
    assert not any("stream_fallback" in b for b in batches_of(out))


def test_streamed_from_row_groups_of_a_listing_clustered_lake(intraday_bin, tmp_path):
    # Small row groups: each batch reads only its listings' row groups.
    lake = generate(intraday_bin, tmp_path / "lake", listings=8, events=3000, layout="listing", row_group_rows=256)
    outputs = {}
    for memory in ("1MiB", "4GiB"):
        config = write_config(tmp_path / memory / "p.yaml", lake, memory, workers=2)
        run_intraday(intraday_bin, "run", config)
        outputs[memory] = day_files(config.parent / "out")
    assert outputs["1MiB"] == outputs["4GiB"]
    report = run_report(tmp_path / "1MiB" / "out")
    assert report["days"][0]["strategy"] == "row_groups"
    assert any(b.get("streamed") and b["time_slices"] > 1 for b in batches_of(tmp_path / "1MiB" / "out"))


def test_rows_out_of_time_order_fall_back_with_a_warning(intraday_bin, lake, tmp_path):
    # The same lake with one trades file in reverse row order: every listing's trades are then
    # out of time order, and the worker loads the listing whole (sorting it), as with a huge budget.
    shuffled = reversed_trades_lake(lake, tmp_path / "lake")
    config = write_config(tmp_path / "p.yaml", shuffled, "1MiB")
    proc = run_intraday(intraday_bin, "run", config)
    out = tmp_path / "out"
    # Reversed ties change Open/Close: the reference is the whole-listing path on this lake.
    whole = write_config(tmp_path / "whole" / "p.yaml", shuffled, "4GiB")
    run_intraday(intraday_bin, "run", whole)
    assert day_files(out) == day_files(whole.parent / "out")
    fallbacks = [b for b in batches_of(out) if "stream_fallback" in b]
    assert fallbacks, "no streamed batch fell back"
    assert all(not b["streamed"] and "trades" in b["stream_fallback"] for b in fallbacks)
    assert "not in time order" in fallbacks[0]["stream_fallback"]
    assert "not streamed over time" in proc.stderr
    warnings = run_report(out)["warnings"]
    assert any("its worker may exceed the budget" in w for w in warnings)


def test_peak_rss_of_a_streamed_listing_does_not_grow_with_its_rows(intraday_bin, tmp_path):
    # One listing with N and with 4N events. Loaded whole (huge budget), the worker's peak RSS
    # grows with the rows (by ~60 MiB here: its input, viewed rather than copied since the worker
    # places a lake listing's rows contiguously); streamed (1 MiB budget), it stays about the same
    # (a few MiB of noise).
    modules = "      l2: {levels: 10}\n      trade: {}\n      l2tw: {levels: 10}\n"
    peaks = {}
    small, large = 150000, 600000
    for events in (small, large):
        lake = generate(intraday_bin, tmp_path / f"lake{events}", listings=1, events=events, mics="XLON")
        for memory in ("1MiB", "4GiB"):
            config = write_config(tmp_path / f"{events}-{memory}" / "p.yaml", lake, memory, modules=modules,
                                  mics="XLON")
            run_intraday(intraday_bin, "run", config)
            [batch] = batches_of(config.parent / "out")
            assert batch.get("streamed", False) == (memory == "1MiB")
            peaks[events, memory] = batch["peak_rss_bytes"]
        # The listing is read straight from the lake files (one batch: direct strategy).
        assert day_files(tmp_path / f"{events}-1MiB" / "out") == day_files(tmp_path / f"{events}-4GiB" / "out")
    whole_growth = peaks[large, "4GiB"] - peaks[small, "4GiB"]
    streamed_growth = peaks[large, "1MiB"] - peaks[small, "1MiB"]
    figures = {f"{e} events, {m}": f"{p / 2**20:.1f} MiB" for (e, m), p in peaks.items()}
    print("worker peak RSS:", figures)  # docs/engine.md records them (pytest -s shows them)
    # The data is large enough for the whole-listing path to show it...
    assert whole_growth > 40 * 2**20, figures
    # ... and the streamed worker holds a bounded slice of it.
    assert streamed_growth < whole_growth / 4, figures
    assert peaks[large, "1MiB"] < peaks[large, "4GiB"], figures

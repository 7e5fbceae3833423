"""Sizes from history (docs/planning.md, "Sizes from history"): runs record the rows each listing
had per table; a later day is then planned from the medians of those records without reading any
ListingId column, and its output is byte-identical to a run that sized everything from the files."""
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import conftest
from conftest import ENGINE_END as END, ENGINE_START as START, generate_engine_lake, lake_file, run_intraday

TABLES = ("trades", "l2", "l3", "marketstate")


def write_config(path: Path, lake: Path, out: Path, scratch: Path, mode: str) -> Path:
    path.write_text(f"""
data: {{root: {lake}}}
universe: {{mics: [XLON, XPAR]}}
dates: {{start: {START}, end: {END}}}
run:
  output: {out}
  scratch: {scratch}
  workers: 2
  memory_per_worker: 96KiB
  size_estimates: {mode}
passes:
  - name: activity
    bucket: 1m
    timeline: dense
    modules:
      activity: {{tables: [trades, l2, l3]}}
""")
    return path


def day_files(out: Path):
    return conftest.day_files(out, "activity")


def run_reports(out: Path):
    return [json.loads(p.read_text()) for p in sorted((out / "_runs").glob("*.json"))]


def plan_json(binary: str, config: Path, day: str, *extra: str) -> dict:
    proc = run_intraday(binary, "plan", config, "--day", day, "--json", *extra)
    return json.loads(proc.stdout)["passes"][0]


@pytest.fixture(scope="module")
def lake(tmp_path_factory, intraday_bin):
    # Listings interleaved by time: sizing from the files needs a scan of every ListingId column.
    return generate_engine_lake(intraday_bin, tmp_path_factory.mktemp("history-lake"))


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, intraday_bin, lake):
    """Every day sized from its files."""
    base = tmp_path_factory.mktemp("scanned")
    run_intraday(intraday_bin, "run", write_config(base / "p.yaml", lake, base / "out", base / "scratch", "scan"))
    return base / "out"


def test_runs_record_exact_rows_per_listing(intraday_bin, lake, scanned):
    records = sorted((scanned / "_size_history").glob("*.json"))
    assert [p.name for p in records] == ["2026-01-05.json", "2026-01-06.json", "2026-01-07.json"]
    record = json.loads(records[0].read_text())
    assert record["day"] == START and set(record["tables"]) == set(TABLES)
    universe = set()
    for mic in ("XLON", "XPAR"):
        universe |= set(pq.read_table(lake_file(lake, "reference", mic, START), columns=["ListingId"])
                        .column(0).to_pylist())
    for table in TABLES:
        counts = Counter()
        for mic in ("XLON", "XPAR"):
            counts.update(pq.read_table(lake_file(lake, table, mic, START), columns=["ListingId"]).column(0).to_pylist())
        recorded = dict(zip(record["tables"][table]["listings"], record["tables"][table]["rows"]))
        # Every listing of the universe, zeros included, with exactly the rows its file holds.
        assert recorded == {listing: counts.get(listing, 0) for listing in universe}, table


def test_a_day_planned_from_history_reads_no_listing_ids_and_gives_the_same_output(
        intraday_bin, lake, scanned, tmp_path):
    out = tmp_path / "out"
    scan = write_config(tmp_path / "scan.yaml", lake, out, tmp_path / "scratch", "scan")
    run_intraday(intraday_bin, "run", scan, "--end", "2026-01-06")
    cache_entries = sorted(p.name for p in (out / "_size_cache").iterdir())
    assert len(cache_entries) == 2 * 2 * len(TABLES)  # the files of two days were scanned

    history = write_config(tmp_path / "history.yaml", lake, out, tmp_path / "scratch", "history")
    plan = plan_json(intraday_bin, history, END)
    estimates = plan["size_estimates"]
    assert estimates["mode"] == "history" and estimates["source"] == "history", estimates
    assert estimates["history_days"] == ["2026-01-06", "2026-01-05"]
    assert estimates["files_from_history"] == 2 * len(TABLES)
    assert estimates["files_profiled"] == estimates["files_scanned"] == estimates["scanned_rows"] == 0
    assert all(set(size["source"].values()) == {"history"} for size in plan["sizes"])
    text = run_intraday(intraday_bin, "plan", history, "--day", END).stdout
    assert "estimates  history (run.size_estimates: history): every listing has recorded days" in text
    assert "0 scanned" in text

    # Same day, sizes from the files: exact figures, which the medians only approximate.
    exact = plan_json(intraday_bin, history, END, "--size-estimates", "scan", "--no-size-cache")
    assert exact["size_estimates"]["source"] == "scan" and exact["size_estimates"]["files_scanned"] > 0
    assert [s["rows"] for s in exact["sizes"]] != [s["rows"] for s in plan["sizes"]]

    # The run completes the range from history (the config hash ignores run.*, so --resume holds).
    run_intraday(intraday_bin, "run", history, "--resume")
    last = run_reports(out)[-1]
    [day] = last["days"]
    assert day["day"] == END and day["size_estimates"]["source"] == "history", day["size_estimates"]
    assert day["size_estimates"]["files_scanned"] == 0
    # No file of that day was profiled: the size cache holds the first two days' files only.
    assert sorted(p.name for p in (out / "_size_cache").iterdir()) == cache_entries
    # Outputs do not depend on how the day was sized.
    assert day_files(out) == day_files(scanned)
    # ... and the day's exact rows were recorded for the days after it.
    assert (out / "_size_history" / f"{END}.json").exists()


def test_auto_sizes_from_the_files_until_listings_have_enough_history(intraday_bin, lake, scanned, tmp_path):
    config = write_config(tmp_path / "auto.yaml", lake, scanned, tmp_path / "scratch", "auto")
    plan = plan_json(intraday_bin, config, END)
    estimates = plan["size_estimates"]
    assert estimates["mode"] == "auto" and estimates["source"] == "scan"
    assert "2 recorded days" in estimates["reason"] and "fewer than 5" in estimates["reason"], estimates
    # history: a listing without any history is never counted as zero: its MIC's files are read.
    record = json.loads((scanned / "_size_history" / "2026-01-06.json").read_text())
    xpar = set(pq.read_table(lake_file(lake, "reference", "XPAR", END), columns=["ListingId"]).column(0).to_pylist())
    for table in record["tables"].values():
        keep = [i for i, listing in enumerate(table["listings"]) if listing not in xpar]
        table["listings"] = [table["listings"][i] for i in keep]
        table["rows"] = [table["rows"][i] for i in keep]
    mixed_out = tmp_path / "out"
    (mixed_out / "_size_history").mkdir(parents=True)
    (mixed_out / "_size_history" / "2026-01-06.json").write_text(json.dumps(record))
    config = write_config(tmp_path / "mixed.yaml", lake, mixed_out, tmp_path / "scratch", "history")
    plan = plan_json(intraday_bin, config, END)
    estimates = plan["size_estimates"]
    assert estimates["source"] == "mixed", estimates
    assert estimates["files_from_history"] == len(TABLES) and estimates["files_scanned"] == len(TABLES)
    for size, listing in zip(plan["sizes"], plan["universe"]["listings"]):
        assert set(size["source"].values()) == ({"scan"} if listing["mic"] == "XPAR" else {"history"})


def test_a_day_that_fits_whole_is_not_counted_and_still_records_its_rows(intraday_bin, lake, scanned, tmp_path):
    """auto, a budget the day's files fit whole (docs/planning.md, "A day that fits whole"): every
    day is one direct batch planned from the files' footers, no ListingId is counted and nothing
    goes to the size cache; the workers still record each listing's exact rows, and the output is
    the one of days sized by counting."""
    out = tmp_path / "out"
    config = write_config(tmp_path / "whole.yaml", lake, out, tmp_path / "scratch", "auto")
    config.write_text(config.read_text().replace("memory_per_worker: 96KiB", "memory_per_worker: 4GiB"))
    run_intraday(intraday_bin, "run", config)
    days = run_reports(out)[-1]["days"]
    assert [d["day"] for d in days] == ["2026-01-05", "2026-01-06", END]
    for day in days:
        estimates = day["size_estimates"]
        assert estimates["source"] == "footer" and estimates["files_from_footer"] == 2 * len(TABLES), estimates
        assert estimates["files_scanned"] == estimates["scanned_rows"] == estimates["files_profiled"] == 0
        assert day["strategy"] == "direct" and "fit one worker's budget whole" in day["strategy_reason"]
    assert not (out / "_size_cache").exists() or not any((out / "_size_cache").iterdir())
    for record in sorted((scanned / "_size_history").glob("*.json")):
        assert json.loads((out / "_size_history" / record.name).read_text())["tables"] == \
            json.loads(record.read_text())["tables"], record.name
    assert day_files(out) == day_files(scanned)

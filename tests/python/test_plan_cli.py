"""`intraday plan` on generated lakes: batch counts under a tiny and a huge budget, batches that
cover the universe exactly once and in order, exact per-listing row counts, and the input
strategy (direct / row_groups / shred) with its reason."""
import json
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import run_intraday, upload_tree

DAY = "2026-01-05"
TABLES = {"trades": ("Trades-Plus", "trades-plus-"), "l2": ("Equity", ""), "l3": ("Equity-L3", "l3-")}
TINY = "1MiB"  # the smallest budget the config accepts
HUGE = "64GiB"


def generate(binary: str, out: Path, layout: str) -> Path:
    run_intraday(
        binary, "generate", "--out", out, "--listings", "20", "--start", "2026-01-05", "--end", "2026-01-06",
        "--mics", "XLON,XPAR", "--profile", "small", "--seed", "7", "--layout", layout,
        "--row-group-rows", "2000",
    )
    return out


@pytest.fixture(scope="module")
def listing_lake(intraday_bin, tmp_path_factory) -> Path:
    """Rows sorted by ListingId, small row groups: every file clustered."""
    return generate(intraday_bin, tmp_path_factory.mktemp("plan") / "lake", "listing")


@pytest.fixture(scope="module")
def time_lake(intraday_bin, tmp_path_factory) -> Path:
    """Listings interleaved by event time over several row groups: not clustered."""
    return generate(intraday_bin, tmp_path_factory.mktemp("plan") / "lake", "time")


def write_config(directory: Path, lake, memory: str, extra_run: str = "", mics: str = "XLON, XPAR",
                 dates: tuple = ("2026-01-05", "2026-01-06")) -> Path:
    config = directory / "pipeline.yaml"
    config.write_text(
        f"""data:
  root: {lake}
universe:
  mics: [{mics}]
dates:
  start: {dates[0]}
  end: {dates[1]}
run:
  output: out
  scratch: scratch
  memory_per_worker: {memory}
{extra_run}passes:
  - name: bars
    bucket: 1m
    modules:
      activity: {{tables: [trades, l2, l3]}}
"""
    )
    return config


def plan_json(binary: str, config: Path, *extra: str, day: str = DAY, env: dict | None = None) -> dict:
    proc = run_intraday(binary, "plan", config, "--day", day, "--json", *extra, env=env)
    out = json.loads(proc.stdout)
    assert out["day"] == day
    assert len(out["passes"]) == 1
    return out["passes"][0]


def check_batches(plan: dict) -> None:
    """Ids 0..n-1; the batches, concatenated in order, are the sorted universe, each listing once."""
    universe = [listing["listing_id"] for listing in plan["universe"]["listings"]]
    assert universe == sorted(universe) and len(set(universe)) == len(universe)
    assert [b["id"] for b in plan["batches"]] == list(range(len(plan["batches"])))
    concatenated = [lid for b in plan["batches"] for lid in b["listings"]]
    assert concatenated == universe
    for b in plan["batches"]:
        if b["oversize"]:
            assert len(b["listings"]) == 1
        else:
            assert b["memory_bytes"] <= plan["data_budget"] < plan["memory_budget"]
        if plan["whole_day"] is not None:  # sized whole from the footers: the bound of all the files
            assert plan["sizes"] == [] and b["memory_bytes"] == plan["whole_day"]["memory_bytes"]
            continue
        # Its listings' memory, and for a shredded day copies of its largest listings
        # (test_shredded_and_direct_days_are_sized_for_their_reads).
        listings = sum(s["memory_bytes"] for s in plan["sizes"] if s["listing_id"] in b["listings"])
        assert b["memory_bytes"] == listings if plan["gather_threads"] == 0 else b["memory_bytes"] > listings


def rows_per_listing(lake: Path, table: str, mic: str) -> Counter:
    folder, prefix = TABLES[table]
    path = lake / folder / mic / "2026" / "01" / "05" / f"{prefix}{mic}-20260105.parquet"
    return Counter(pq.read_table(path, columns=["ListingId"]).column("ListingId").to_pylist())


def test_huge_budget_is_one_direct_batch(intraday_bin, listing_lake, tmp_path):
    config = write_config(tmp_path, listing_lake, HUGE)
    counted = plan_json(intraday_bin, config, "--size-estimates", "scan")
    # run.size_estimates auto (the default): the files fit one worker whole, nothing is counted.
    plan = plan_json(intraday_bin, config)
    for p in (counted, plan):
        assert p["pass"] == "bars"
        assert len(p["universe"]["listings"]) == 20
        assert p["universe"]["mics"] == ["XLON", "XPAR"]
        assert len(p["batches"]) == 1
        check_batches(p)
        assert p["strategy"] == "direct"
        assert p["warnings"] == []
        assert set(p["columns"]) == {"trades", "l2", "l3", "marketstate"}  # dense pass: market states too
        assert p["columns"]["trades"][:2] == ["ListingId", "TradeTimestamp"]
    assert "day fits one worker's budget" in counted["strategy_reason"]
    assert "files fit one worker's budget whole" in plan["strategy_reason"]
    assert counted["whole_day"] is None and len(counted["sizes"]) == 20
    estimates = plan["size_estimates"]
    assert (estimates["source"], estimates["files_from_footer"]) == ("footer", len(plan["files"]))
    assert estimates["files_scanned"] == estimates["scanned_rows"] == estimates["files_profiled"] == 0
    # The universe is every listing of the files: the bound is what counting gives, and a byte per
    # listing and file more (counting rounds each listing's bytes up).
    bound, exact = plan["batches"][0]["memory_bytes"], counted["batches"][0]["memory_bytes"]
    assert exact <= bound <= exact + 2 * 20 * len(plan["files"])
    assert plan["batches"][0]["rows"] == counted["batches"][0]["rows"] == plan["whole_day"]["rows"]
    assert plan["files"] == counted["files"]
    text = run_intraday(intraday_bin, "plan", config, "--day", DAY).stdout
    assert "estimates  footer (run.size_estimates: auto)" in text
    assert "not counted per listing: the files hold" in text


def test_tiny_budget_clustered_files_use_row_groups(intraday_bin, listing_lake, tmp_path):
    plan = plan_json(intraday_bin, write_config(tmp_path, listing_lake, TINY))
    assert plan["memory_budget"] == 1 << 20
    assert plan["data_budget"] == 1 << 19  # a budget this small leaves half to data (docs/planning.md)
    assert len(plan["batches"]) > 1
    check_batches(plan)
    assert all(f["clustered"] for f in plan["files"])
    assert plan["strategy"] == "row_groups", plan["strategy_reason"]
    assert "clustered by ListingId" in plan["strategy_reason"]
    # Every oversize batch is reported with its listing.
    for b in plan["batches"]:
        if b["oversize"]:
            assert any(f"listing {b['listings'][0]} needs" in w for w in plan["warnings"])


def test_tiny_budget_interleaved_files_are_shredded(intraday_bin, time_lake, tmp_path):
    plan = plan_json(intraday_bin, write_config(tmp_path, time_lake, TINY))
    assert len(plan["batches"]) > 1
    check_batches(plan)
    assert plan["strategy"] == "shred"
    assert "is not clustered by ListingId" in plan["strategy_reason"]
    # With room for the whole day, the order of the rows does not matter: one direct batch.
    huge = plan_json(intraday_bin, write_config(tmp_path, time_lake, HUGE))
    assert len(huge["batches"]) == 1 and huge["strategy"] == "direct"


def test_sizes_are_exact_row_counts(intraday_bin, time_lake, tmp_path):
    plan = plan_json(intraday_bin, write_config(tmp_path, time_lake, TINY))
    mic_of = {l["listing_id"]: l["mic"] for l in plan["universe"]["listings"]}
    for table in TABLES:
        expected = {mic: rows_per_listing(time_lake, table, mic) for mic in ("XLON", "XPAR")}
        for size in plan["sizes"]:
            assert size["estimated"]
            assert size["rows"][table] == expected[mic_of[size["listing_id"]]][size["listing_id"]], (table, size)
    batch_rows = sum(b["rows"]["l3"] for b in plan["batches"])
    assert batch_rows == sum(f["rows"] for f in plan["files"] if f["table"] == "l3")


def test_row_caps_split_batches(intraday_bin, listing_lake, tmp_path):
    config = write_config(tmp_path, listing_lake, HUGE, "  max_rows_per_table: {l3: 20000}\n")
    plan = plan_json(intraday_bin, config)
    assert len(plan["batches"]) > 1
    check_batches(plan)
    for b in plan["batches"]:
        assert b["oversize"] or b["rows"]["l3"] <= 20000


def test_replan_reads_the_size_cache(intraday_bin, listing_lake, tmp_path):
    config = write_config(tmp_path, listing_lake, TINY)
    first = plan_json(intraday_bin, config)
    entries = sorted((tmp_path / "out" / "_size_cache").glob("*.json"))
    assert len(entries) == len(first["files"])
    # Doctor one cached count (same key; lower, as the entry is checked against the file's rows):
    # a re-plan that believes it proves the cache is read.
    l3_xlon = next(f for f in first["files"] if f["table"] == "l3" and f["mic"] == "XLON")
    doctored = None
    for entry in entries:
        data = json.loads(entry.read_text())
        if data["path"].endswith(Path(l3_xlon["path"]).name):
            data["listings"][0][1] -= 1
            doctored = data["listings"][0][0]
            entry.write_text(json.dumps(data))
    assert doctored is not None
    second = plan_json(intraday_bin, config)
    before = next(s for s in first["sizes"] if s["listing_id"] == doctored)["rows"]["l3"]
    after = next(s for s in second["sizes"] if s["listing_id"] == doctored)["rows"]["l3"]
    assert after == before - 1
    third = plan_json(intraday_bin, config, "--no-size-cache")
    assert next(s for s in third["sizes"] if s["listing_id"] == doctored)["rows"]["l3"] == before


def test_text_output(intraday_bin, listing_lake, tmp_path):
    proc = run_intraday(intraday_bin, "plan", write_config(tmp_path, listing_lake, TINY), "--day", DAY)
    out = proc.stdout
    assert f"pass bars, {DAY}: row_groups" in out
    assert "universe   20 listings: XLON" in out
    assert "top 10 by memory" in out
    assert "strategy   row_groups:" in out
    assert "budget     1.0 MiB per worker" in out
    # Row-group batches read the lake themselves: their input counts once, not as spill files.
    assert "worker memory (x1.25 + " in out


def test_shredded_and_direct_days_are_sized_for_their_reads(intraday_bin, time_lake, tmp_path):
    shred = plan_json(intraday_bin, write_config(tmp_path, time_lake, TINY))
    direct = plan_json(intraday_bin, write_config(tmp_path, time_lake, HUGE), "--size-estimates", "scan")
    assert (shred["strategy"], direct["strategy"]) == ("shred", "direct")
    assert direct["gather_threads"] == 0 and shred["gather_threads"] >= 1
    inputs = {}
    for s, d in zip(shred["sizes"], direct["sizes"]):
        decoded = sum(d["bytes"].values())
        inputs[s["listing_id"]] = decoded
        # 1.25x the decoded input, output rows on top, however the worker reads.
        assert s["memory_bytes"] - s["output_bytes"] == decoded * 5 // 4 == d["memory_bytes"] - d["output_bytes"]
    # A shredded batch adds copies of its largest listings (spread over spill files, gathered).
    memory = {s["listing_id"]: s["memory_bytes"] for s in shred["sizes"]}
    for b in shred["batches"]:
        largest = sorted((inputs[i] for i in b["listings"]), reverse=True)[: shred["gather_threads"]]
        assert b["memory_bytes"] == sum(memory[i] for i in b["listings"]) + sum(largest), b
    text = run_intraday(intraday_bin, "plan", write_config(tmp_path, time_lake, TINY), "--day", DAY).stdout
    assert "worker memory (x1.25 + " in text and "largest listings)" in text


def test_not_a_trading_day(intraday_bin, listing_lake, tmp_path):
    config = write_config(tmp_path, listing_lake, TINY)
    proc = run_intraday(intraday_bin, "plan", config, "--day", "2026-01-10", check=False)
    assert proc.returncode != 0
    assert "2026-01-10 is not a trading day: a Saturday" in proc.stderr
    proc = run_intraday(intraday_bin, "plan", config, "--day", "2026-01-07", check=False)
    assert proc.returncode != 0
    assert "outside dates 2026-01-05 .. 2026-01-06" in proc.stderr


def test_unknown_pass(intraday_bin, listing_lake, tmp_path):
    config = write_config(tmp_path, listing_lake, TINY)
    proc = run_intraday(intraday_bin, "plan", config, "--day", DAY, "--pass", "nope", check=False)
    assert proc.returncode != 0
    assert "no pass 'nope'" in proc.stderr and "bars" in proc.stderr


def test_vendor_sample_files(intraday_bin, sample_day_dir, tmp_path):
    # The real sample files (one listing, XLON, 2026-01-02) laid out as a one-day lake.
    names = {"trades-plus": "Trades-Plus/XLON/2026/01/02/trades-plus-XLON-20260102.parquet",
             "l2": "Equity/XLON/2026/01/02/XLON-20260102.parquet",
             "l3": "Equity-L3/XLON/2026/01/02/l3-XLON-20260102.parquet",
             "market-state": "MarketState/XLON/2026/01/02/market-state-XLON-20260102.parquet",
             "reference": "Reference/XLON/2026/01/02/reference-XLON-20260102.parquet"}
    for name, rel in names.items():
        (tmp_path / "lake" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_day_dir / f"{name}.parquet", tmp_path / "lake" / rel)
    config = write_config(tmp_path, tmp_path / "lake", TINY, mics="XLON", dates=("2026-01-02", "2026-01-02"))
    plan = plan_json(intraday_bin, config, "--size-estimates", "scan", day="2026-01-02")
    assert [l["ticker"] for l in plan["universe"]["listings"]] == ["VOD"]
    [size] = plan["sizes"]
    assert size["rows"] == {"trades": 50, "l2": 50, "l3": 50, "marketstate": 9}
    assert size["estimated"] and size["memory_bytes"] > 0
    assert len(plan["batches"]) == 1 and plan["strategy"] == "direct"


def test_lake_on_s3_plans_like_local(intraday_bin, listing_lake, tmp_path, s3_server, s3_env):
    upload_tree(s3_server, listing_lake, "plan-bucket", "lake")
    (tmp_path / "local").mkdir()
    local = plan_json(intraday_bin, write_config(tmp_path / "local", listing_lake, TINY))
    remote_dir = tmp_path / "remote"
    remote_dir.mkdir()
    remote = plan_json(intraday_bin, write_config(remote_dir, "s3://plan-bucket/lake", TINY), env=s3_env)
    assert remote["batches"] == local["batches"]
    assert remote["sizes"] == local["sizes"]
    assert remote["strategy"] == local["strategy"] == "row_groups"
    assert all(f["path"].startswith("s3://plan-bucket/lake/") for f in remote["files"])
    # The second plan is answered by the size cache (entries keyed by the s3 paths).
    assert len(list((remote_dir / "out" / "_size_cache").glob("*.json"))) == len(remote["files"])
    again = plan_json(intraday_bin, write_config(remote_dir, "s3://plan-bucket/lake", TINY), env=s3_env)
    cost = again.pop("size_estimates")
    assert cost["cache_hits"] == len(remote["files"]) and cost["files_scanned"] == 0, cost
    remote.pop("size_estimates")
    assert again == remote

"""`intraday generate`: the lake it writes is readable by Polars and DuckDB, has the vendor's
layout, columns and types, plausible row counts and a realistic skew across listings, and is the
same for the same options."""
import re
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from conftest import SAMPLE_DAY, run_intraday

LISTINGS = 30
MICS = ["XLON", "XPAR", "XETR"]
DAYS = ["2026-01-02", "2026-01-05"]  # a Friday and the next Monday
FOLDERS = {
    "trades": ("Trades-Plus", "trades-plus-", "trades-plus"),
    "l2": ("Equity", "", "l2"),
    "l3": ("Equity-L3", "l3-", "l3"),
    "marketstate": ("MarketState", "market-state-", "market-state"),
    "reference": ("Reference", "reference-", "reference"),
    "cbbo": ("CBBO", "cbbo-", "cbbo"),
    "imbalance": ("Imbalance", "imbalance-", "imbalance"),
}


def generate(binary: str, out: Path, *extra) -> str:
    proc = run_intraday(binary, "generate", "--out", out, "--listings", LISTINGS, "--start", DAYS[0], "--end",
                        DAYS[-1], "--mics", ",".join(MICS), "--profile", "small", "--seed", 3, *extra)
    return proc.stdout


@pytest.fixture(scope="module")
def lake(tmp_path_factory, intraday_bin):
    out = tmp_path_factory.mktemp("generate") / "lake"
    stdout = generate(intraday_bin, out)
    return out, stdout


def path_of(root: Path, table: str, day: str, mic: str) -> Path:
    folder, prefix, _ = FOLDERS[table]
    y, m, d = day.split("-")
    return root / folder / mic / y / m / d / f"{prefix}{mic}-{y}{m}{d}.parquet"


def test_vendor_layout_and_weekdays_only(lake):
    root, _ = lake
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))
    expected = sorted(path_of(root, t, day, mic).relative_to(root).as_posix()
                      for t in FOLDERS for day in DAYS for mic in MICS)
    assert files == expected
    assert not list(root.rglob("*/2026/01/03/*")) and not list(root.rglob("*/2026/01/04/*"))


def test_polars_and_duckdb_read_every_file(lake):
    root, _ = lake
    for path in sorted(root.rglob("*.parquet")):
        n_meta = pq.ParquetFile(path).metadata.num_rows
        frame = pl.read_parquet(path)
        assert frame.height == n_meta, path
        n_duck = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
        assert n_duck == n_meta, path
        lazy = pl.scan_parquet(path).select(pl.len()).collect().item()
        assert lazy == n_meta, path


def test_columns_and_types_match_the_vendor(lake):
    root, _ = lake
    for table, (_, _, vendor) in FOLDERS.items():
        schema = pl.read_parquet_schema(path_of(root, table, DAYS[0], "XLON"))
        if SAMPLE_DAY.is_dir():
            sample = pl.read_parquet_schema(SAMPLE_DAY / f"{vendor}.parquet")
            assert list(schema.items()) == list(sample.items()), table
    trades = pl.read_parquet_schema(path_of(root, "trades", DAYS[0], "XLON"))
    assert len(trades) == 152
    assert trades["TradeTimestamp"] == pl.Datetime("us")
    assert trades["TradeTimestampNanoseconds"] == pl.Datetime("ns")
    assert trades["TradeDate"] == pl.Datetime("ms")
    assert trades["Size"] == pl.Float64
    assert trades["BrokerIdBuyer"] == pl.Null
    assert pl.read_parquet_schema(path_of(root, "l3", DAYS[0], "XLON"))["TimestampNanoseconds"] == pl.Datetime("ns")
    assert pl.read_parquet_schema(path_of(root, "l2", DAYS[0], "XLON"))["EventTimestamp"] == pl.Datetime("us")


def test_row_counts_are_plausible(lake):
    root, stdout = lake
    # One summary line per day and a total.
    for day in DAYS:
        assert re.search(rf"^{day}: trades \d+, l2 \d+, l3 \d+", stdout, re.M), stdout
    assert re.search(r"^total: trades \d+", stdout, re.M), stdout
    glob = lambda folder: str(root / folder / "**" / "*.parquet")  # noqa: E731
    l3 = duckdb.sql(f"select count(*) from read_parquet('{glob('Equity-L3')}')").fetchall()[0][0]
    l2 = duckdb.sql(f"select count(*) from read_parquet('{glob('Equity')}')").fetchall()[0][0]
    lit, total = duckdb.sql(
        f"select count(*) filter (where Classification = 'LIT_CONTINUOUS'), count(*) "
        f"from read_parquet('{glob('Trades-Plus')}')").fetchall()[0]
    assert 25 < l3 / lit < 100
    assert 8 < l2 / lit < 40
    assert 0.55 < lit / total < 0.8
    reference = pl.read_parquet(glob("Reference"))
    assert reference.height == LISTINGS * len(DAYS)
    assert reference.group_by("Date").len()["len"].to_list() == [LISTINGS] * len(DAYS)
    assert set(reference.filter(pl.col("MIC") == "XLON")["CurrencyCode"]) == {"GBp"}
    assert set(reference.filter(pl.col("MIC") != "XLON")["CurrencyCode"]) == {"EUR"}
    # Some instruments trade on two MICs: one InstrumentId, two ListingIds.
    per_instrument = reference.filter(pl.col("Date") == reference["Date"].min()).group_by("InstrumentId").agg(
        pl.col("ListingId").n_unique().alias("n"), pl.col("IsPrimary").sum().alias("primaries"))
    assert per_instrument["n"].max() == 2
    assert (per_instrument["primaries"] == 1).all()
    states = pl.read_parquet(glob("MarketState")).group_by("ListingId", pl.col("TimestampNanoseconds").dt.date()).len()
    assert states["len"].min() >= 6 and states["len"].max() <= 10


def test_activity_is_skewed_across_listings(lake):
    root, _ = lake
    counts = duckdb.sql(
        f"select ListingId, count(*) as n from read_parquet('{root / 'Trades-Plus' / '**' / '*.parquet'}') "
        "group by ListingId order by n desc").pl()
    top = counts.head(max(1, LISTINGS // 10))["n"].sum()
    assert top / counts["n"].sum() > 0.5, counts


def test_same_options_same_bytes(tmp_path, intraday_bin):
    args = ("--listings", 6, "--days", 1, "--mics", "XLON,XPAR", "--profile", "tiny", "--seed", 9)
    run_intraday(intraday_bin, "generate", "--out", tmp_path / "a", *args, "--threads", 1)
    run_intraday(intraday_bin, "generate", "--out", tmp_path / "b", *args, "--threads", 2)
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.parquet")}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.parquet")}
    assert a and a == b


def test_listing_layout_row_groups(tmp_path, intraday_bin):
    out = tmp_path / "lake"
    run_intraday(intraday_bin, "generate", "--out", out, "--listings", 12, "--days", 1, "--mics", "XLON",
                 "--profile", "tiny", "--layout", "listing", "--row-group-rows", 500)
    meta = pq.ParquetFile(path_of(out, "l3", "2026-01-02", "XLON")).metadata
    column = meta.schema.names.index("ListingId")
    ranges = [(meta.row_group(i).column(column).statistics.min, meta.row_group(i).column(column).statistics.max)
              for i in range(meta.num_row_groups)]
    assert len(ranges) > 1
    for (lo0, hi0), (lo1, hi1) in zip(ranges, ranges[1:]):
        assert hi0 <= lo1
        if hi0 == lo1:
            assert lo0 == hi0 and lo1 == hi1  # a split listing has its row groups to itself


def test_help_documents_every_option(intraday_bin):
    text = run_intraday(intraday_bin, "generate", "--help").stdout
    for option in ["--out", "--listings", "--days", "--start", "--end", "--mics", "--seed", "--profile", "--events",
                   "--layout", "--row-group-rows", "--threads", "--tables", "--s3-endpoint", "--s3-region"]:
        assert option in text, option


def test_bad_options_fail_clearly(tmp_path, intraday_bin):
    proc = run_intraday(intraday_bin, "generate", "--out", tmp_path / "x", "--mics", "XNYS", check=False)
    assert proc.returncode != 0 and "XNYS" in proc.stderr
    proc = run_intraday(intraday_bin, "generate", "--out", tmp_path / "x", "--profile", "huge", check=False)
    assert proc.returncode != 0 and "huge" in proc.stderr


def test_writes_to_s3_the_same_bytes_as_to_disk(tmp_path, intraday_bin, s3_server, s3_env):
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="testing",
                      aws_secret_access_key="testing", region_name="us-east-1")
    s3.create_bucket(Bucket="generated")
    args = ("--listings", 4, "--days", 1, "--mics", "XLON,XPAR", "--profile", "tiny", "--seed", 4)
    run_intraday(intraday_bin, "generate", "--out", "s3://generated/synthetic/v1", *args, env=s3_env)
    run_intraday(intraday_bin, "generate", "--out", tmp_path, *args)
    local = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*.parquet")}
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="generated", Prefix="synthetic/v1/")["Contents"]]
    remote = {k.removeprefix("synthetic/v1/"): s3.get_object(Bucket="generated", Key=k)["Body"].read()
              for k in keys if k.endswith(".parquet")}
    assert len(local) == 2 * 7 and remote == local

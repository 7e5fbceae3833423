"""Conformance of the `l2` and `l2tw` modules: `intraday run` with their default sets (1-minute
buckets, end/right, dense timeline) on the generated conformance lake, every default column
recomputed independently with Polars from the same l2 files and compared on every output row,
including the dense timeline's empty buckets.

- l2 (state at bucket end): an as-of join of the bucket labels on the snapshots (last snapshot at
  or before the label; ties: the later input row).
- l2tw (time-weighted): each snapshot holds from its time to the next snapshot of the
  listing-day (the last one to the end of the listing's last bucket); the pieces are clipped to
  the buckets they overlap and averaged, null values leaving the denominator.

Floats must agree to a relative tolerance of 1e-9 (plus 1e-12 absolute, for averages that cancel
to about 0); ints, strings and nulls exactly.
"""
import polars as pl
import pytest

from conftest import CONFORMANCE_DAYS, lake_file, run_pipeline

LEVELS = range(1, 11)
SIDES = ("Bid", "Ask")
N = pl.duration(minutes=1, time_unit="ns")


@pytest.fixture(scope="module")
def l2_output(intraday_bin, conformance_lake, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("l2-conformance")
    return run_pipeline(intraday_bin, workdir, conformance_lake,
                        "  - name: book\n    bucket: 1m\n    timeline: dense\n    modules:\n"
                        "      l2: {}\n      l2tw: {}\n")


def read_snapshots(lake, day):
    level_columns = [f"{side}{what}{l}" for l in LEVELS for side in SIDES for what in ("Price", "Quantity", "NumOrders")]
    frames = [pl.read_parquet(lake_file(lake, "l2", mic, day),
                              columns=["ListingId", "EventTimestamp", "MarketState", *level_columns])
              for mic in ("XLON", "XPAR")]
    snaps = pl.concat(frames).with_row_index("input_order")
    snaps = snaps.with_columns(pl.col("EventTimestamp").cast(pl.Datetime("ns")).alias("t"),
                               *[pl.col(f"{s}NumOrders{l}").cast(pl.Int64) for s in SIDES for l in LEVELS])
    return snaps.sort("ListingId", "t", "input_order", maintain_order=True)


def top_of_book_values(df):
    bid, ask = pl.col("BidPrice1"), pl.col("AskPrice1")
    bq, aq = pl.col("BidQuantity1").cast(pl.Float64), pl.col("AskQuantity1").cast(pl.Float64)
    valid = bid.is_not_null() & ask.is_not_null() & (bid > 0) & (ask > 0) & (bid <= ask)
    return df.with_columns(
        pl.when(valid).then(ask - bid).alias("SpreadAbs"),
        pl.when(valid).then(20000 * (ask - bid) / (ask + bid)).alias("SpreadBps"),
        pl.when(valid).then((ask + bid) / 2).alias("Mid"),
        pl.when(valid & bq.is_not_null() & aq.is_not_null() & (bq + aq > 0))
        .then((bid * aq + ask * bq) / (aq + bq)).alias("WeightedMid"))


def cumulative_values(df):
    exprs = []
    for side in SIDES:
        for l in LEVELS:
            exprs.append(pl.sum_horizontal([pl.col(f"{side}Quantity{k}").fill_null(0) for k in range(1, l + 1)])
                         .cast(pl.Int64).alias(f"{side}CumQuantity{l}"))
            exprs.append(pl.sum_horizontal([pl.col(f"{side}NumOrders{k}").fill_null(0) for k in range(1, l + 1)])
                         .cast(pl.Int64).alias(f"{side}CumOrders{l}"))
    df = df.with_columns(exprs)
    imb = []
    for l in LEVELS:
        for stem, cum in (("ImbalanceCumQuantity", "CumQuantity"), ("ImbalanceOrders", "CumOrders")):
            b = pl.col(f"Bid{cum}{l}").cast(pl.Float64)
            a = pl.col(f"Ask{cum}{l}").cast(pl.Float64)
            imb.append(pl.when(b + a > 0).then((b - a) / (b + a)).alias(f"{stem}{l}"))
    return df.with_columns(imb)


def l2_default_columns():
    cols = []
    for what in ("Price", "Quantity", "NumOrders", "CumQuantity", "CumOrders"):
        cols += [f"{side}{what}{l}" for side in SIDES for l in LEVELS]
    for stem in ("ImbalanceCumQuantity", "ImbalanceOrders"):
        cols += [f"{stem}{l}" for l in LEVELS]
    return cols + ["SpreadBps", "MarketState"]


def l2tw_default_values():
    vals = ["SpreadAbs", "SpreadBps", "Mid", "WeightedMid"]
    for what in ("Price", "Quantity"):
        vals += [f"{side}{what}{l}" for side in SIDES for l in LEVELS]
    return vals + ["ImbalanceCumQuantity1"]


def assert_same(ours, ref, columns, what):
    keys = ["ListingId", "TimeBucket"]
    joined = ours.select(keys + columns).join(ref.select(keys + columns), on=keys, how="left", suffix="_ref")
    assert joined.height == ours.height
    problems = []
    for c in columns:
        a, b = pl.col(c), pl.col(f"{c}_ref")
        if ours.schema[c] == pl.Float64:
            bad = (a.is_null() != b.is_null()) | (
                a.is_not_null() & ((a - b).abs() > 1e-9 * pl.max_horizontal(a.abs(), b.abs()) + 1e-12))
        else:
            bad = (a.is_null() != b.is_null()) | (a.is_not_null() & (a != b))
        mism = joined.filter(bad)
        if mism.height:
            problems.append(f"{what} {c}: {mism.height} rows differ, e.g.\n{mism.select(keys + [c, c + '_ref']).head(3)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("day", CONFORMANCE_DAYS)
def test_l2_state_at_bucket_end_matches_polars(l2_output, conformance_lake, day):
    ours = pl.read_parquet(l2_output / "book" / f"date={day}" / "part-00000.parquet")
    snaps = cumulative_values(top_of_book_values(read_snapshots(conformance_lake, day)))
    # No snapshot is dropped: each one's bucket (end/right) is an output row.
    floor = pl.col("t").dt.truncate("1m")
    labels = snaps.select("ListingId", pl.when(pl.col("t") == floor).then(floor).otherwise(floor + N).alias("TimeBucket"))
    assert labels.unique().join(ours.select("ListingId", "TimeBucket"), on=["ListingId", "TimeBucket"], how="anti").height == 0
    # State at bucket end: the last snapshot at or before the label (ties: the later input row).
    last = snaps.unique(subset=["ListingId", "t"], keep="last", maintain_order=True).sort("ListingId", "t")
    ref = (ours.select("ListingId", "TimeBucket").sort("ListingId", "TimeBucket")
           .join_asof(last, left_on="TimeBucket", right_on="t", by="ListingId", strategy="backward", check_sortedness=False))
    columns = l2_default_columns()
    assert [c for c in ours.columns if c in set(columns)] == columns  # documented column order
    # The dense timeline has buckets without snapshots (carried state), which are compared too.
    assert ours.join(labels.unique(), on=["ListingId", "TimeBucket"], how="anti").height > 0
    assert_same(ours, ref, columns, "l2")


@pytest.mark.parametrize("day", CONFORMANCE_DAYS)
def test_l2tw_time_weighted_matches_polars(l2_output, conformance_lake, day):
    ours = pl.read_parquet(l2_output / "book" / f"date={day}" / "part-00000.parquet")
    values = l2tw_default_values()
    snaps = cumulative_values(top_of_book_values(read_snapshots(conformance_lake, day)))
    snaps = snaps.with_columns(*[pl.col(v).cast(pl.Float64) for v in values])
    day_end = ours.group_by("ListingId").agg(pl.col("TimeBucket").max().alias("day_end"))  # end of the last interval
    pieces = (snaps.join(day_end, on="ListingId")
              .with_columns(pl.col("t").shift(-1).over("ListingId").alias("t1"))
              .with_columns(pl.col("t").alias("t0"), pl.coalesce("t1", "day_end").alias("t1"))
              .filter(pl.col("t1") > pl.col("t0"))
              # the buckets [B - N, B) a piece [t0, t1) overlaps: B in (t0, t1 + N)
              .with_columns(pl.datetime_ranges(pl.col("t0").dt.truncate("1m") + N,
                                               (pl.col("t1") - pl.duration(nanoseconds=1)).dt.truncate("1m") + N,
                                               interval="1m", time_unit="ns").alias("TimeBucket"))
              .explode("TimeBucket")
              .with_columns((pl.min_horizontal("t1", "TimeBucket") - pl.max_horizontal("t0", pl.col("TimeBucket") - N))
                            .dt.total_nanoseconds().cast(pl.Float64).alias("dt"))
              .filter(pl.col("dt") > 0))
    aggs = []
    for v in values:
        den = pl.when(pl.col(v).is_not_null()).then(pl.col("dt")).otherwise(0.0).sum()
        num = (pl.col(v) * pl.col("dt")).sum()
        aggs.append(pl.when(den > 0).then(num / den).alias(f"{v}TWA"))
    twa = pieces.group_by("ListingId", "TimeBucket").agg(aggs)
    ref = ours.select("ListingId", "TimeBucket").join(twa, on=["ListingId", "TimeBucket"], how="left")
    columns = [f"{v}TWA" for v in values]
    assert [c for c in ours.columns if c.endswith("TWA")] == columns  # documented column order
    assert ours.filter(pl.col("SpreadAbsTWA").is_not_null()).height > 100
    assert_same(ours, ref, columns, "l2tw")


def test_option_errors_name_the_key_and_line(intraday_bin, tmp_path):
    from conftest import run_intraday

    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "data: {root: lake}\nuniverse: {mics: [XLON]}\ndates: {start: 2026-01-05, end: 2026-01-05}\n"
        "run: {output: out, scratch: scratch}\n"
        "passes:\n"
        "  - name: book\n"
        "    bucket: 1m\n"
        "    modules:\n"
        "      l2: {levels: 11, metrics: [prices, BidPrice11], ohlc: {sources: [vwap], mode: last}}\n"
        "      l2tw: {metrics: [market_state, BidPrice1], market_states: [OPEN], volatility: {sample: 1x}, lvls: 2}\n")
    result = run_intraday(intraday_bin, "validate", path, check=False)
    assert result.returncode == 1
    err = result.stderr
    for key in ("passes[0].modules.l2.levels", "passes[0].modules.l2.metrics[0]", "passes[0].modules.l2.metrics[1]",
                "passes[0].modules.l2.ohlc.sources[0]", "passes[0].modules.l2.ohlc.mode",
                "passes[0].modules.l2tw.metrics[0]", "passes[0].modules.l2tw.metrics[1]",
                "passes[0].modules.l2tw.market_states[0]", "passes[0].modules.l2tw.volatility.sample",
                "passes[0].modules.l2tw.lvls"):
        assert f"{key}:" in err, (key, err)
    assert f"{path}:9:" in err and f"{path}:10:" in err
    assert "did you mean 'price'" in err

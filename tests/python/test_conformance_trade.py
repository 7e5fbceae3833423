"""Conformance of the `trade` and `retail_imbalance` modules: every output row of `intraday run`
on the generated lake against the same formulas written independently in Polars on the same
files (LocalPrice = TradeNotional / Size). Floats: relative tolerance 1e-9; ints, strings and
nulls: exact. Empty buckets of the dense timeline: 0 for flows, null for statistics, MarketState
carried from the last trade of the listing-day."""
import math

import polars as pl
import pytest

from conftest import CONFORMANCE_DAYS, lake_file, run_pipeline

YEAR_SECONDS = 252 * 86400
UNSET = ["-", "", "N", "FALSE", "0"]

DEFAULT_COLUMNS = ["TradeTotalVolume", "TradeTotalCount", "TradeTotalNotionalEUR", "TradeTotalVWAP", "Open", "High",
                   "Low", "Close", "TradeBuyVolume", "TradeSellVolume", "VolumeWeightedPricePlacement", "MarketState"]

FAMILY_METRICS = [
    "TradeTotalVolume", "TradeUnknownVolume", "TradeUnknownCount", "TradeTotalNotionalUSD", "TradeTotalNotional",
    "TradeTotalAvgPrice", "TradeTotalMedianPrice", "TradeTotalRetailCount", "TradeTotalBlockCount", "TradeBuyVWAP",
    "TradeSellNotionalEUR", "Volatility", "DiscrepancyToPreTradeMid", "DiscrepancyToMidAtPrimaryStd",
    "DiscrepancyToBestAskAtVenueBuyMax", "DiscrepancyToPostTradeMid1000msMedian", "BlockTradeCount",
    "AlgorithmicTradeVolume", "OddLotTradeCount", "NegotiatedTradeCount", "CrossTradeAvgNotional",
    "EffectiveSpread1000ms", "RealizedSpread1000ms", "PriceImpact1000ms", "RealizedSpread5000ms", "PriceImpact5000ms",
]
FLOWS = {"TradeTotalVolume", "TradeTotalCount", "TradeTotalNotionalEUR", "TradeBuyVolume", "TradeSellVolume",
         "TradeUnknownVolume", "TradeUnknownCount", "TradeTotalNotionalUSD", "TradeTotalNotional",
         "TradeTotalRetailCount", "TradeTotalBlockCount", "TradeSellNotionalEUR", "BlockTradeCount",
         "AlgorithmicTradeVolume", "OddLotTradeCount", "NegotiatedTradeCount"}


def load_trades(lake, day):
    frames = [pl.read_parquet(lake_file(lake, "trades", mic, day)) for mic in ("XLON", "XPAR")]
    trades = pl.concat(frames, how="diagonal_relaxed").with_row_index("row")
    ts = pl.col("TradeTimestamp").cast(pl.Datetime("ns"))
    price = pl.when(pl.col("Size") != 0).then(pl.col("TradeNotional") / pl.col("Size"))
    return (trades.with_columns(ts.alias("ts"), price.fill_nan(None).alias("p"))
            .sort("ListingId", "ts", "row"))  # event time, then input order


def label_of(every: str, anchor: str, closed: str):
    ts = pl.col("ts")
    floor = ts.dt.truncate(every).cast(pl.Datetime("ns"))
    step = pl.duration(minutes=int(every[:-1]))
    on_edge = ts == floor
    if (anchor, closed) == ("end", "right"):
        return pl.when(on_edge).then(floor).otherwise(floor + step).cast(pl.Datetime("ns"))
    if (anchor, closed) == ("start", "left"):
        return floor
    raise ValueError((anchor, closed))


def wmean(x, w):
    ok = x.is_not_null() & w.is_not_null()
    den = w.filter(ok).sum()
    return pl.when(den != 0).then((x * w).filter(ok).sum() / den)


def side_is(code):
    return pl.col("AggressorSide").fill_null(0).replace_strict({1: 1, 2: 2}, default=0) == code


def disc(ref, side=None):
    ok = pl.col("p").is_not_null() & ref.is_not_null() & (ref != 0)
    if side is not None:
        ok = ok & side_is(side)
    return (10000 * (pl.col("p") - ref) / ref).filter(ok)


def tca(kind, ref, post):
    s = pl.when(pl.col("AggressorSide") == 1).then(1.0).otherwise(-1.0)
    ok = (pl.col("AggressorSide").is_in([1, 2]) & pl.col("p").is_not_null() & pl.col(ref).is_not_null()
          & pl.col(post).is_not_null())
    expr = {"E": 2 * (pl.col("p") - pl.col(ref)).abs(), "R": 2 * s * (pl.col("p") - pl.col(post)),
            "I": 2 * s * (pl.col(post) - pl.col(ref))}[kind]
    return expr.filter(ok).mean()


def volatility(bucket_seconds):
    returns = pl.col("p").filter(pl.col("p") > 0).log().diff().drop_nulls()
    n = returns.len()
    return pl.when(n >= 2).then(returns.std(ddof=1) * (n.cast(pl.Float64) * YEAR_SECONDS / bucket_seconds).sqrt())


def aggregations(bucket_seconds):
    p, size = pl.col("p"), pl.col("Size")
    flag_set = lambda c: pl.col(c).is_not_null() & ~pl.col(c).str.strip_chars().str.to_uppercase().is_in(UNSET)
    mid_primary = (pl.col("BestBidPriceAtPrimary") + pl.col("BestAskPriceAtPrimary")) / 2
    return {
        "TradeTotalVolume": size.sum(),
        "TradeTotalCount": pl.len().cast(pl.Int64),
        "TradeTotalNotionalEUR": pl.col("TradeNotionalEUR").sum(),
        "TradeTotalVWAP": wmean(p, size),
        "Open": p.drop_nulls().first(),
        "High": p.max(),
        "Low": p.min(),
        "Close": p.drop_nulls().last(),
        "TradeBuyVolume": size.filter(side_is(1)).sum(),
        "TradeSellVolume": size.filter(side_is(2)).sum(),
        "VolumeWeightedPricePlacement": wmean(2 * pl.col("PricePoint").clip(0, 1) - 1, size),
        "TradeUnknownVolume": size.filter(side_is(0)).sum(),
        "TradeUnknownCount": side_is(0).sum().cast(pl.Int64),
        "TradeTotalNotionalUSD": pl.col("TradeNotionalUSD").sum(),
        "TradeTotalNotional": pl.col("TradeNotional").sum(),
        "TradeTotalAvgPrice": p.mean(),
        "TradeTotalMedianPrice": p.median(),
        "TradeTotalRetailCount": (pl.col("BMLLParticipantType") == "RETAIL").sum().cast(pl.Int64),
        "TradeTotalBlockCount": (pl.col("IsBlock") == "TRUE").sum().cast(pl.Int64),
        "TradeBuyVWAP": wmean(p.filter(side_is(1)), size.filter(side_is(1))),
        "TradeSellNotionalEUR": pl.col("TradeNotionalEUR").filter(side_is(2)).sum(),
        "Volatility": volatility(bucket_seconds),
        "DiscrepancyToPreTradeMid": disc(pl.col("PreTradeMid1ms")).mean(),
        "DiscrepancyToMidAtPrimaryStd": disc(mid_primary).std(ddof=1),
        "DiscrepancyToBestAskAtVenueBuyMax": disc(pl.col("BestAskPriceAtVenue"), side=1).max(),
        "DiscrepancyToPostTradeMid1000msMedian": disc(pl.col("PostTradeMid1000ms")).median(),
        "BlockTradeCount": (pl.col("IsBlock") == "TRUE").sum().cast(pl.Int64),
        "AlgorithmicTradeVolume": size.filter(pl.col("AlgorithmicTrade").is_in(["H", "Y"])).sum(),
        "OddLotTradeCount": (pl.col("LotType") == "ODD").sum().cast(pl.Int64),
        "NegotiatedTradeCount": flag_set("NegotiatedTrade").sum().cast(pl.Int64),
        "CrossTradeAvgNotional": pl.col("TradeNotionalEUR").filter(flag_set("CrossingTrade")).mean(),
        "EffectiveSpread1000ms": tca("E", "PreTradeMid1ms", "PostTradeMid1000ms"),
        "RealizedSpread1000ms": tca("R", "PreTradeMid1ms", "PostTradeMid1000ms"),
        "PriceImpact1000ms": tca("I", "PreTradeMid1ms", "PostTradeMid1000ms"),
        "RealizedSpread5000ms": tca("R", "PreTradeMid1ms", "PostTradeMid5000ms"),
        "PriceImpact5000ms": tca("I", "PreTradeMid1ms", "PostTradeMid5000ms"),
    }


def assert_frames_match(ours: pl.DataFrame, ref: pl.DataFrame, columns):
    assert ours.height == ref.height
    assert ours["ListingId"].to_list() == ref["ListingId"].to_list()
    assert ours["TimeBucket"].to_list() == ref["TimeBucket"].to_list()
    for column in columns:
        got, want = ours[column].to_list(), ref[column].to_list()
        for i, (g, w) in enumerate(zip(got, want)):
            where = f"{column} listing {ours['ListingId'][i]} bucket {ours['TimeBucket'][i]}: ours {g!r}, polars {w!r}"
            if w is None or g is None:
                assert g is None and w is None, where
            elif isinstance(w, float):
                assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12), where
            else:
                assert g == w, where


def expected_frame(ours, trades, label, columns, bucket_seconds, filtered):
    aggs = aggregations(bucket_seconds)
    labelled = trades.with_columns(label.alias("TimeBucket"))
    stats = (labelled.filter(filtered).group_by("ListingId", "TimeBucket", maintain_order=True)
             .agg(**{c: aggs[c] for c in columns if c != "MarketState"}))
    keys = ours.select("ListingId", "TimeBucket")
    # No trade is dropped: every trade's bucket is an output row.
    assert labelled.select("ListingId", "TimeBucket").unique().join(keys, on=["ListingId", "TimeBucket"],
                                                                    how="anti").height == 0
    ref = keys.join(stats, on=["ListingId", "TimeBucket"], how="left")
    ref = ref.with_columns(*(pl.col(c).fill_null(0) for c in columns if c in FLOWS))
    if "MarketState" in columns:
        states = (labelled.filter(pl.col("MarketState").is_not_null())
                  .group_by("ListingId", "TimeBucket", maintain_order=True)
                  .agg(pl.col("MarketState").last()))
        ref = (ref.join(states, on=["ListingId", "TimeBucket"], how="left")
               .with_columns(pl.col("MarketState").forward_fill().over("ListingId")))
    return ref


@pytest.mark.parametrize("day", CONFORMANCE_DAYS)
def test_trade_defaults_dense_match_polars(intraday_bin, conformance_lake, tmp_path_factory, day):
    workdir = tmp_path_factory.mktemp("trade-defaults")
    out = run_pipeline(intraday_bin, workdir, conformance_lake,
                       "  - name: t\n    bucket: 1m\n    timeline: dense\n    modules:\n      trade: {}\n")
    ours = pl.read_parquet(out / "t" / f"date={day}" / "part-00000.parquet").with_columns(
        pl.col("TimeBucket").cast(pl.Datetime("ns")))
    assert ours.columns[:2] == ["ListingId", "TimeBucket"]
    assert [c for c in ours.columns if c in DEFAULT_COLUMNS] == DEFAULT_COLUMNS
    trades = load_trades(conformance_lake, day)
    ref = expected_frame(ours, trades, label_of("1m", "end", "right"), DEFAULT_COLUMNS, 60,
                         pl.col("Classification") == "LIT_CONTINUOUS")
    assert_frames_match(ours, ref, DEFAULT_COLUMNS)
    # The dense timeline has empty buckets, and they hold 0 / null.
    empty = ours.filter(pl.col("TradeTotalCount") == 0)
    assert empty.height > 0
    assert empty["TradeTotalVWAP"].null_count() == empty.height
    assert (empty["TradeTotalVolume"] == 0).all()


@pytest.mark.parametrize("day", CONFORMANCE_DAYS)
def test_trade_families_and_retail_match_polars(intraday_bin, conformance_lake, tmp_path_factory, day):
    workdir = tmp_path_factory.mktemp("trade-families")
    metrics = ", ".join(FAMILY_METRICS)
    out = run_pipeline(intraday_bin, workdir, conformance_lake,
                       "  - name: t\n    bucket: 5m\n    anchor: start\n    closed: left\n    timeline: sparse\n"
                       "    modules:\n"
                       f"      trade: {{classifications: [LIT_CONTINUOUS, OFF_BOOK_ON_EXCHANGE], metrics: [{metrics}]}}\n"
                       "      retail_imbalance: {}\n")
    ours = pl.read_parquet(out / "t" / f"date={day}" / "part-00000.parquet").with_columns(
        pl.col("TimeBucket").cast(pl.Datetime("ns")))
    trades = load_trades(conformance_lake, day)
    label = label_of("5m", "start", "left")
    ref = expected_frame(ours, trades, label, FAMILY_METRICS, 300,
                         pl.col("Classification").is_in(["LIT_CONTINUOUS", "OFF_BOOK_ON_EXCHANGE"]))
    assert_frames_match(ours, ref, FAMILY_METRICS)
    # Enough data for the comparison to mean something.
    for column in ("Volatility", "EffectiveSpread1000ms", "DiscrepancyToPreTradeMid", "TradeUnknownVolume"):
        assert ours[column].drop_nulls().filter(ours[column].drop_nulls() != 0).len() > 0, column

    retail = trades.filter((pl.col("BMLLParticipantType") == "RETAIL") & (pl.col("Classification") == "LIT_CONTINUOUS")
                           & pl.col("AggressorSide").is_in([1, 2]) & pl.col("TradeNotionalEUR").is_not_null())
    s = pl.when(pl.col("AggressorSide") == 1).then(1.0).otherwise(-1.0)
    imbalance = (retail.with_columns(label.alias("TimeBucket")).group_by("ListingId", "TimeBucket")
                 .agg(((s * pl.col("TradeNotionalEUR")).sum() / pl.col("TradeNotionalEUR").sum()).alias("RetailImbalance")))
    imbalance = imbalance.with_columns(
        pl.when(pl.col("RetailImbalance").is_finite()).then(pl.col("RetailImbalance")))
    ref_retail = ours.select("ListingId", "TimeBucket").join(imbalance, on=["ListingId", "TimeBucket"], how="left")
    assert_frames_match(ours, ref_retail, ["RetailImbalance"])
    assert ours["RetailImbalance"].drop_nulls().len() > 0

#!/usr/bin/env python3
"""The benchmark pass (bench/_util.py, PASS_YAML) written in Polars: lazy queries, run by the
streaming engine, one query per trading day (the metrics never carry state across days, so this
is what a Polars user does to keep memory bounded by one day), each sunk to
OUT/date=D/part-00000.parquet with intraday's column names, order and types.

Formulas: the ones of tests/python/test_conformance_{trade,l2,l3}.py, adapted to one pass with
all four modules (the dense timeline is the union of every table's event buckets and the
session), and written for speed rather than for checking (state at bucket end from the last
snapshot of each bucket, carried with an as-of join; time-weighted pieces split over buckets
with one explode).

Usage: _polars_job.py --lake DIR --days D1,D2,... --out DIR [--threads 2]
Prints one JSON line: {"vm_hwm": peak RSS of this process in bytes, "seconds": time after the imports}.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import (BUCKET_NS, L2_LEVELS, L2TW_LEVELS, NEEDED_COLUMNS, PADDING_NS, SIDES, day_files,  # noqa: E402
                   vm_hwm_bytes)


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--days", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    return ap.parse_args()


ARGS = parse_args()
os.environ["POLARS_MAX_THREADS"] = str(ARGS.threads)  # must be set before polars is imported
import polars as pl  # noqa: E402

N = BUCKET_NS
KEYS = ["ListingId", "TimeBucket"]


def ns(column: str) -> pl.Expr:
    """Any timestamp unit -> int64 ns since the epoch."""
    return pl.col(column).cast(pl.Datetime("ns")).cast(pl.Int64)


def label(t: pl.Expr) -> pl.Expr:
    """end/right label: t itself on a boundary, else the next boundary, i.e. ceil(t / N) * N
    (event times are positive)."""
    return ((t + (N - 1)) // N) * N


def scan(table: str, day: str, row_index: bool = False) -> pl.LazyFrame:
    files = day_files(ARGS.lake, table, day)
    lf = pl.scan_parquet(files).select(NEEDED_COLUMNS[table])
    # Input order breaks ties between equal event times (the engine sorts stably).
    return lf.with_row_index("row") if row_index else lf


def top_of_book() -> list[pl.Expr]:
    bid, ask = pl.col("BidPrice1"), pl.col("AskPrice1")
    bq, aq = pl.col("BidQuantity1").cast(pl.Float64), pl.col("AskQuantity1").cast(pl.Float64)
    valid = bid.is_not_null() & ask.is_not_null() & (bid > 0) & (ask > 0) & (bid <= ask)
    return [
        pl.when(valid).then(ask - bid).alias("SpreadAbs"),
        pl.when(valid).then(20000 * (ask - bid) / (ask + bid)).alias("SpreadBps"),
        pl.when(valid).then((ask + bid) / 2).alias("Mid"),
        pl.when(valid & bq.is_not_null() & aq.is_not_null() & (bq + aq > 0))
        .then((bid * aq + ask * bq) / (aq + bq)).alias("WeightedMid"),
    ]


def imbalance(b: pl.Expr, a: pl.Expr) -> pl.Expr:
    b, a = b.cast(pl.Float64), a.cast(pl.Float64)
    return pl.when(b + a > 0).then((b - a) / (b + a))


def trade_stats(day: str) -> pl.LazyFrame:
    """trade default set per (listing, bucket); filters apply inside the aggregations because
    MarketState reads every trade while the other metrics read LIT_CONTINUOUS ones only."""
    size = pl.col("Size")
    price = pl.when(size != 0).then(pl.col("TradeNotional") / size).fill_nan(None)
    lit = pl.col("Classification") == "LIT_CONTINUOUS"
    side = pl.col("AggressorSide").fill_null(0)
    priced = lit & pl.col("p").is_not_null() & size.is_not_null()
    placed = lit & pl.col("PricePoint").is_not_null() & size.is_not_null()
    vwap_den = size.filter(priced).sum()
    place_den = size.filter(placed).sum()
    p_lit = pl.col("p").filter(lit & pl.col("p").is_not_null())
    return (scan("trades", day, row_index=True)
            .with_columns(ns("TradeTimestamp").alias("t"), price.alias("p"))
            .with_columns(label(pl.col("t")).alias("TimeBucket"))
            .sort("ListingId", "t", "row")  # Open/Close: event time, then input order
            .group_by(KEYS)
            .agg(size.filter(lit).sum().alias("TradeTotalVolume"),
                 lit.sum().cast(pl.Int64).alias("TradeTotalCount"),
                 pl.col("TradeNotionalEUR").filter(lit).sum().alias("TradeTotalNotionalEUR"),
                 pl.when(vwap_den != 0).then((pl.col("p") * size).filter(priced).sum() / vwap_den)
                 .alias("TradeTotalVWAP"),
                 p_lit.first().alias("Open"), p_lit.max().alias("High"), p_lit.min().alias("Low"),
                 p_lit.last().alias("Close"),
                 size.filter(lit & (side == 1)).sum().alias("TradeBuyVolume"),
                 size.filter(lit & (side == 2)).sum().alias("TradeSellVolume"),
                 pl.when(place_den != 0)
                 .then(((2 * pl.col("PricePoint").clip(0, 1) - 1) * size).filter(placed).sum() / place_den)
                 .alias("VolumeWeightedPricePlacement"),
                 pl.col("MarketState").drop_nulls().last().alias("MarketState")))


def l3_stats(day: str) -> pl.LazyFrame:
    aggs = []
    for name, code in (("Bid", 1), ("Ask", 2)):
        for verb, action, volume in (("Insert", 2, "Size"), ("Remove", 3, "OldSize")):
            mask = (pl.col("Side") == code) & (pl.col("LobAction") == action)
            aggs.append(mask.sum().cast(pl.Int64).alias(f"{verb}Count{name}"))
            aggs.append(pl.col(volume).filter(mask).sum().cast(pl.Int64).alias(f"{verb}Volume{name}"))
    return (scan("l3", day).with_columns(label(ns("TimestampNanoseconds")).alias("TimeBucket"))
            .group_by(KEYS).agg(aggs))


def session_rows(day: str, event_keys: pl.LazyFrame) -> pl.LazyFrame:
    """Dense timeline rows from the session: [first entry into CONTINUOUS_TRADING, exit from the
    last continuous run) widened by the padding; with no continuous state, the span of the
    listing's events. The padding is a multiple of N, so label(x +- pad) = label(x) +- pad and
    everything below works on labels."""
    pos = pl.int_range(pl.len())
    ct = pl.col("MarketState") == "CONTINUOUS_TRADING"
    ct = ct.fill_null(False)
    sessions = (scan("marketstate", day, row_index=True).with_columns(ns("TimestampNanoseconds").alias("t"))
                .sort("ListingId", "t", "row")
                .group_by("ListingId")
                .agg(pl.col("t").filter(ct).first().alias("begin"),
                     pl.col("t").filter(~ct & (pos > pos.filter(ct).max())).first().alias("end")))
    spans = event_keys.group_by("ListingId").agg(pl.col("TimeBucket").min().alias("lo"),
                                                 pl.col("TimeBucket").max().alias("hi"))
    begin_label = label(pl.col("begin"))
    first = pl.when(pl.col("begin").is_not_null()).then(begin_label).otherwise(pl.col("lo")) - PADDING_NS
    last = (pl.when(pl.col("begin").is_null()).then(pl.col("hi"))
            .when(pl.col("end").is_not_null()).then(label(pl.col("end") - 1))
            # still continuous at the day's last state: the session ends at the last event
            .otherwise(pl.max_horizontal(begin_label, pl.col("hi")))) + PADDING_NS
    return (sessions.join(spans, on="ListingId", how="full", coalesce=True)
            .select("ListingId", pl.int_ranges(first, last + N, N).alias("TimeBucket"))
            .explode("TimeBucket").drop_nulls())


def materialise(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Runs a partial result once with the streaming engine. The branches of the day's plan share
    inputs (the l2 snapshots feed l2, l2tw and the timeline), and Polars' optimizer does not share
    those scans across branches (`explain()` shows the l2 files scanned four times), so the shared
    intermediate results are computed once and kept in memory."""
    return lf.collect(engine="streaming").lazy()


def day_query(day: str) -> pl.LazyFrame:
    universe = materialise(scan("reference", day).select("ListingId").unique())
    trades = materialise(trade_stats(day).join(universe, on="ListingId", how="semi"))
    l3 = materialise(l3_stats(day).join(universe, on="ListingId", how="semi"))

    # Equal times are frequent (EventTimestamp is in µs): the input order breaks the ties, through an
    # explicit row index (relying on `sort(..., maintain_order=True)` run by the streaming engine
    # instead gave a wrong WeightedMidTWA on the 25-listing lake: input order was not kept).
    snaps = (scan("l2", day, row_index=True).join(universe, on="ListingId", how="semi")
             .with_columns(ns("EventTimestamp").alias("t"))
             .sort("ListingId", "t", "row")
             .with_columns(label(pl.col("t")).alias("TimeBucket"),
                           # the next snapshot of the same listing (the frame is sorted by listing)
                           pl.when(pl.col("ListingId").shift(-1) == pl.col("ListingId"))
                           .then(pl.col("t").shift(-1)).alias("t_next")))
    snaps = materialise(snaps)

    # l2, state at bucket end: the last snapshot of each bucket (the later input row on ties:
    # the frame is sorted by time then input order), carried to later buckets by an as-of join.
    l2_level = [f"{s}{w}{l}" for w in ("Price", "Quantity", "NumOrders") for s in SIDES for l in range(1, L2_LEVELS + 1)]
    last = materialise(snaps.group_by(KEYS).agg(pl.col([*l2_level, "MarketState"]).last()))

    event_keys = pl.concat([trades.select(KEYS), l3.select(KEYS), last.select(KEYS)])
    timeline = pl.concat([event_keys, session_rows(day, event_keys).join(universe, on="ListingId", how="semi")])
    timeline = materialise(timeline.unique().sort(KEYS))

    cum = []
    for s in SIDES:
        for l in range(1, L2_LEVELS + 1):
            cum.append(pl.sum_horizontal([pl.col(f"{s}Quantity{k}").fill_null(0) for k in range(1, l + 1)])
                       .cast(pl.Int64).alias(f"{s}CumQuantity{l}"))
            cum.append(pl.sum_horizontal([pl.col(f"{s}NumOrders{k}").fill_null(0) for k in range(1, l + 1)])
                       .cast(pl.Int64).alias(f"{s}CumOrders{l}"))
    state = (last.rename({"TimeBucket": "StateBucket"})
             .with_columns(*[pl.col(f"{s}NumOrders{l}").cast(pl.Int64) for s in SIDES for l in range(1, L2_LEVELS + 1)])
             .with_columns(cum)
             .with_columns(*[imbalance(pl.col(f"BidCumQuantity{l}"), pl.col(f"AskCumQuantity{l}"))
                             .alias(f"ImbalanceCumQuantity{l}") for l in range(1, L2_LEVELS + 1)],
                           *[imbalance(pl.col(f"BidCumOrders{l}"), pl.col(f"AskCumOrders{l}"))
                             .alias(f"ImbalanceOrders{l}") for l in range(1, L2_LEVELS + 1)],
                           *top_of_book()[1:2])
             .rename({"MarketState": "L2MarketState"})
             .sort("ListingId", "StateBucket"))

    # l2tw: each snapshot holds from its time to the next snapshot's (the day's last one to the
    # end of the listing's last bucket); pieces are clipped to the buckets [B - N, B) they
    # overlap, i.e. B in (t0, t1 + N), and averaged with null values out of the denominator.
    tw_values = ["SpreadAbs", "SpreadBps", "Mid", "WeightedMid"]
    tw_values += [f"{s}{w}{l}" for w in ("Price", "Quantity") for s in SIDES for l in range(1, L2TW_LEVELS + 1)]
    tw_values += ["ImbalanceCumQuantity1"]
    day_end = timeline.group_by("ListingId").agg(pl.col("TimeBucket").max().alias("day_end"))
    pieces = (snaps.join(day_end, on="ListingId", how="left")
              .select("ListingId", pl.col("t").alias("t0"), pl.coalesce("t_next", "day_end").alias("t1"),
                      *top_of_book(),
                      *[pl.col(v).cast(pl.Float64) for v in tw_values[4:-1]],
                      imbalance(pl.col("BidQuantity1").fill_null(0), pl.col("AskQuantity1").fill_null(0))
                      .alias("ImbalanceCumQuantity1"))
              .filter(pl.col("t1") > pl.col("t0"))
              .with_columns(pl.int_ranges(pl.col("t0") // N * N + N, (pl.col("t1") - 1) // N * N + 2 * N, N)
                            .alias("TimeBucket"))
              .explode("TimeBucket")
              .with_columns((pl.min_horizontal("t1", "TimeBucket") - pl.max_horizontal("t0", pl.col("TimeBucket") - N))
                            .cast(pl.Float64).alias("dt")))
    twa = []
    for v in tw_values:
        den = (pl.col("dt") * pl.col(v).is_not_null()).sum()  # time where the value is known
        twa.append(pl.when(den > 0).then((pl.col(v) * pl.col("dt")).sum() / den).alias(f"{v}TWA"))
    l2tw = pieces.group_by(KEYS).agg(twa)

    flows = ["TradeTotalVolume", "TradeTotalCount", "TradeTotalNotionalEUR", "TradeBuyVolume", "TradeSellVolume"]
    l3_columns = [c for c in l3.collect_schema().names() if c not in KEYS]
    state_columns = (l2_level
                     + [f"{s}CumQuantity{l}" for s in SIDES for l in range(1, L2_LEVELS + 1)]
                     + [f"{s}CumOrders{l}" for s in SIDES for l in range(1, L2_LEVELS + 1)]
                     + [f"ImbalanceCumQuantity{l}" for l in range(1, L2_LEVELS + 1)]
                     + [f"ImbalanceOrders{l}" for l in range(1, L2_LEVELS + 1)] + ["SpreadBps", "L2MarketState"])
    trade_columns = ["TradeTotalVolume", "TradeTotalCount", "TradeTotalNotionalEUR", "TradeTotalVWAP", "Open",
                     "High", "Low", "Close", "TradeBuyVolume", "TradeSellVolume", "VolumeWeightedPricePlacement",
                     "MarketState"]
    out = (timeline  # sorted by (ListingId, TimeBucket), as join_asof needs
           .join_asof(state, left_on="TimeBucket", right_on="StateBucket", by="ListingId", strategy="backward",
                      check_sortedness=False)
           .join(trades, on=KEYS, how="left")
           .join(l2tw, on=KEYS, how="left")
           .join(l3, on=KEYS, how="left")
           .sort(KEYS)  # joins do not keep row order; the MarketState carry needs time order
           .with_columns(*[pl.col(c).fill_null(0) for c in flows + l3_columns],
                         pl.col("MarketState").forward_fill().over("ListingId"))
           .select("ListingId", pl.col("TimeBucket").cast(pl.Datetime("ns")), *trade_columns, *state_columns,
                   *[f"{v}TWA" for v in tw_values], *l3_columns))
    return out


def main() -> int:
    started = time.perf_counter()  # after the imports: the job's own work
    for day in ARGS.days.split(","):
        target = ARGS.out / f"date={day}"
        target.mkdir(parents=True, exist_ok=True)
        day_query(day).sink_parquet(target / "part-00000.parquet", compression="zstd")
    print(json.dumps({"vm_hwm": vm_hwm_bytes(), "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

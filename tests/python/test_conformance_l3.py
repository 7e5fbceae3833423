"""Conformance of the `l3` and `execution` modules: `intraday run` with both modules at their
defaults (1-minute buckets, end/right, dense timeline) on the generated conformance lake, and every
default column recomputed with Polars from the same Parquet files. Every output row is checked,
including the dense timeline's empty buckets (flows 0, averages null), and the set of rows itself
(session from the market states +- 10 min, plus every bucket holding an event)."""
import math

import pytest

from conftest import CONFORMANCE_DAYS, lake_file, run_pipeline

pl = pytest.importorskip("polars")

MICS = ("XLON", "XPAR")
MINUTE = 60 * 10**9
PADDING = 10 * MINUTE
REL_TOL = 1e-9
ABS_TOL = 1e-12  # for values that are sums cancelling to ~0 (placements)

PASSES = ("  - name: c\n    bucket: 1m\n    timeline: dense\n    modules:\n"
          "      l3: {}\n      execution: {}\n")

L3_FLOWS = [f"{a}{m}{s}" for s in ("Bid", "Ask") for a in ("Insert", "Remove") for m in ("Count", "Volume")]
AGGRESSORS = {"Buy": 1, "Sell": 2, "Unknown": 0}


def _read(lake, table, day, columns):
    return pl.concat([pl.read_parquet(lake_file(lake, table, mic, day), columns=columns) for mic in MICS])


def _ns(column):
    return pl.col(column).cast(pl.Datetime("ns")).cast(pl.Int64)


def _label(ns):
    """end/right label of an int64 ns expression, 1-minute buckets."""
    floor = (ns // MINUTE) * MINUTE
    return pl.when(ns == floor).then(floor).otherwise(floor + MINUTE)


def _expected_l3(l3):
    side = pl.col("Side")
    action = pl.col("LobAction")
    executed = pl.col("ExecutionSize") > 0
    aggs = []
    for name, code in (("Bid", 1), ("Ask", 2)):
        for verb, act, vol in (("Insert", 2, "Size"), ("Remove", 3, "OldSize")):
            mask = (side == code) & (action == act)
            aggs.append(mask.sum().cast(pl.Int64).alias(f"{verb}Count{name}"))
            aggs.append(pl.col(vol).filter(mask).fill_null(0).sum().cast(pl.Int64).alias(f"{verb}Volume{name}"))
        ex = (side == code) & executed
        aggs.append(pl.col("ExecutionSize").filter(ex).sum().cast(pl.Int64).alias(f"ExecutedVolume{name}"))
        priced = ex & pl.col("ExecutionPrice").is_not_null() & pl.col("ExecutionPrice").is_finite()
        num = (pl.col("ExecutionPrice") * pl.col("ExecutionSize")).filter(priced).sum()
        den = pl.col("ExecutionSize").filter(priced).sum()
        aggs.append(pl.when(den > 0).then(num / den).otherwise(None).alias(f"ExecutionVwap{name}"))
    return l3.group_by("ListingId", "TimeBucket").agg(aggs)


def _expected_trades(trades):
    size = pl.col("Size")
    price = pl.col("TradeNotional") / size
    price = pl.when(size == 0).then(None).otherwise(price)
    agg_side = pl.col("AggressorSide").fill_null(0)
    agg_side = pl.when(agg_side.is_in([1, 2])).then(agg_side).otherwise(0)
    aggs = []
    for venue, kind in (("Lit", "LIT"), ("Dark", "DARK")):
        for aname, code in AGGRESSORS.items():
            base = (pl.col("BMLLTradeType") == kind) & (agg_side == code) & size.is_not_null() & size.is_finite()
            aggs.append(size.filter(base).sum().cast(pl.Float64).alias(f"{venue}Volume{aname}Aggressor"))
            priced = base & price.is_not_null() & price.is_finite()
            den = size.filter(priced).sum()
            aggs.append(pl.when(den > 0).then((price * size).filter(priced).sum() / den).otherwise(None)
                        .alias(f"{venue}VWAP{aname}Aggressor"))
            placed = base & pl.col("PricePoint").is_not_null() & pl.col("PricePoint").is_finite()
            pden = size.filter(placed).sum()
            pnum = ((2 * pl.col("PricePoint").clip(0.0, 1.0) - 1) * size).filter(placed).sum()
            aggs.append(pl.when(pden > 0).then(pnum / pden).otherwise(None)
                        .alias(f"{venue}VolumeWeightedPricePlacement{aname}Aggressor"))
    return trades.with_columns(price.alias("_p")).group_by("ListingId", "TimeBucket").agg(aggs)


def _dense_labels(states, event_keys):
    """The dense timeline: per listing, every bucket meeting [start - pad, end + pad) where start is
    the first entry into CONTINUOUS_TRADING and end the exit from the last continuous run, plus
    every bucket holding an event."""
    rows = []
    spans = {listing: (lo, hi) for listing, lo, hi in event_keys.group_by("ListingId").agg(
        pl.col("TimeBucket").min().alias("lo"), pl.col("TimeBucket").max().alias("hi")).iter_rows()}
    with_session = set()
    for (listing,), group in states.sort("ListingId", "t", maintain_order=True).group_by("ListingId", maintain_order=True):
        ts, names = group["t"].to_list(), group["MarketState"].to_list()
        cont = [i for i, s in enumerate(names) if s == "CONTINUOUS_TRADING"]
        if not cont:
            continue
        with_session.add(listing)
        start = ts[cont[0]]
        last = cont[-1]
        exits = [ts[j] for j in range(last + 1, len(ts)) if names[j] != "CONTINUOUS_TRADING"]
        assert exits, f"listing {listing}: the generated session never leaves continuous trading"
        lo, hi = start - PADDING, exits[0] + PADDING - 1
        first = lo if lo % MINUTE == 0 else (lo // MINUTE + 1) * MINUTE
        last_label = hi if hi % MINUTE == 0 else (hi // MINUTE + 1) * MINUTE
        rows += [(listing, b) for b in range(first, last_label + 1, MINUTE)]
    for listing, (lo, hi) in spans.items():  # no session: the span of the listing's own events
        if listing not in with_session:
            rows += [(listing, b) for b in range(lo, hi + 1, MINUTE)]
    session = pl.DataFrame(rows, schema={"ListingId": pl.Int64, "TimeBucket": pl.Int64}, orient="row")
    return pl.concat([session, event_keys]).unique().sort("ListingId", "TimeBucket")


def _assert_equal(ours, ref, columns):
    joined = ours.join(ref, on=["ListingId", "TimeBucket"], how="left", suffix="_ref")
    assert joined.height == ours.height
    for column in columns:
        got = joined[column].to_list()
        want = joined[f"{column}_ref"].to_list()
        dtype = ours.schema[column]
        bad = []
        for i, (g, w) in enumerate(zip(got, want)):
            if g is None or w is None:
                ok = g is None and w is None
            elif dtype.is_integer():
                ok = g == w
            else:
                ok = math.isclose(g, w, rel_tol=REL_TOL, abs_tol=ABS_TOL)
            if not ok:
                bad.append((joined["ListingId"][i], joined["TimeBucket"][i], g, w))
        assert not bad, f"{column}: {len(bad)} rows differ, e.g. {bad[:3]}"


def test_l3_and_execution_match_polars(intraday_bin, conformance_lake, tmp_path):
    out = run_pipeline(intraday_bin, tmp_path, conformance_lake, PASSES)
    checked = 0
    for day in CONFORMANCE_DAYS:
        ours = pl.read_parquet(out / "c" / f"date={day}" / "part-00000.parquet")
        ours = ours.with_columns(pl.col("TimeBucket").cast(pl.Datetime("ns")).cast(pl.Int64))

        l3 = _read(conformance_lake, "l3", day, ["ListingId", "TimestampNanoseconds", "Side", "LobAction", "Size",
                                                 "OldSize", "ExecutionSize", "ExecutionPrice"])
        l3 = l3.with_columns(_label(_ns("TimestampNanoseconds")).alias("TimeBucket"))
        trades = _read(conformance_lake, "trades", day, ["ListingId", "TradeTimestamp", "Size", "TradeNotional",
                                                         "PricePoint", "BMLLTradeType", "AggressorSide"])
        trades = trades.with_columns(_label(_ns("TradeTimestamp")).alias("TimeBucket"))
        states = _read(conformance_lake, "marketstate", day, ["ListingId", "TimestampNanoseconds", "MarketState"])
        states = states.with_columns(_ns("TimestampNanoseconds").alias("t"))

        # The rows: the dense timeline of every listing.
        events = pl.concat([l3.select("ListingId", "TimeBucket"), trades.select("ListingId", "TimeBucket")])
        labels = _dense_labels(states, events.unique())
        assert ours.select("ListingId", "TimeBucket").sort("ListingId", "TimeBucket").equals(labels)

        # The values: flows 0 and averages null where the bucket has no event.
        ref = labels.join(_expected_l3(l3), on=["ListingId", "TimeBucket"], how="left")
        ref = ref.join(_expected_trades(trades), on=["ListingId", "TimeBucket"], how="left")
        flows = L3_FLOWS + ["ExecutedVolumeBid", "ExecutedVolumeAsk"] + [
            f"{v}Volume{a}Aggressor" for v in ("Lit", "Dark") for a in AGGRESSORS]
        ref = ref.with_columns([pl.col(c).fill_null(0) for c in flows])
        total = pl.col("ExecutedVolumeAsk") + pl.col("ExecutedVolumeBid")
        ref = ref.with_columns(
            pl.when(total > 0).then((pl.col("ExecutedVolumeAsk") - pl.col("ExecutedVolumeBid")) / total)
            .otherwise(None).alias("TradeImbalance"))

        module_columns = [c for c in ours.columns if c not in ("ListingId", "TimeBucket")]
        assert module_columns[:8] == L3_FLOWS, module_columns
        assert sorted(module_columns) == sorted(c for c in ref.columns if c not in ("ListingId", "TimeBucket"))
        _assert_equal(ours, ref, module_columns)

        # The data exercise what is compared.
        assert ours["InsertCountBid"].sum() > 0 and ours["RemoveVolumeAsk"].sum() > 0
        assert ours["ExecutedVolumeBid"].sum() > 0 and ours["LitVolumeBuyAggressor"].sum() > 0
        assert ours["DarkVolumeUnknownAggressor"].sum() > 0
        assert (ours["InsertCountBid"] + ours["InsertCountAsk"] == 0).sum() > 0, "no empty bucket checked"
        checked += ours.height
    assert checked > 0

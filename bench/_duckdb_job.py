#!/usr/bin/env python3
"""The benchmark pass (bench/_util.py, PASS_YAML) written in DuckDB SQL: one statement per trading
day (the metrics never carry state across days), `COPY (...) TO OUT/date=D/part-00000.parquet`,
with intraday's column names, order and types. Shared intermediate results are MATERIALIZED CTEs
so that every input file is scanned once.

Same formulas as _polars_job.py (and tests/python/test_conformance_*.py): the dense timeline is
the union of the tables' event buckets and the session rows; l2 is the last snapshot of each
bucket carried by an ASOF join; l2tw splits each snapshot's holding time over the buckets it
overlaps.

Usage: _duckdb_job.py --lake DIR --days D1,D2,... --out DIR [--threads 2] [--memory 2GiB] [--temp DIR]
Prints one JSON line: {"vm_hwm": peak RSS of this process in bytes, "seconds": time after the imports}.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import (BUCKET_NS, L2_LEVELS, L2TW_LEVELS, NEEDED_COLUMNS, PADDING_NS, SIDES, day_files,  # noqa: E402
                   vm_hwm_bytes)

N = BUCKET_NS
LEVELS5 = range(1, L2_LEVELS + 1)
LEVELS10 = range(1, L2TW_LEVELS + 1)


def label(t: str) -> str:
    """end/right label: t on a boundary, else the next boundary (event times are positive)."""
    return f"((({t}) + {N - 1}) // {N}) * {N}"


def files(lake: Path, table: str, day: str) -> str:
    paths = day_files(lake, table, day)
    # read_parquet of an empty list is an error; a day without the table's files has no rows.
    return f"read_parquet([{', '.join(repr(str(p)) for p in paths)}], file_row_number = true)" if paths else None


def imbalance(b: str, a: str) -> str:
    return f"CASE WHEN ({b}) + ({a}) > 0 THEN (({b}) - ({a}))::DOUBLE / (({b}) + ({a})) END"


def top_of_book() -> dict[str, str]:
    valid = "(BidPrice1 IS NOT NULL AND AskPrice1 IS NOT NULL AND BidPrice1 > 0 AND AskPrice1 > 0 AND BidPrice1 <= AskPrice1)"
    q = "(BidQuantity1::DOUBLE + AskQuantity1::DOUBLE)"
    return {
        "SpreadAbs": f"CASE WHEN {valid} THEN AskPrice1 - BidPrice1 END",
        "SpreadBps": f"CASE WHEN {valid} THEN 20000 * (AskPrice1 - BidPrice1) / (AskPrice1 + BidPrice1) END",
        "Mid": f"CASE WHEN {valid} THEN (AskPrice1 + BidPrice1) / 2 END",
        "WeightedMid": f"CASE WHEN {valid} AND {q} > 0 THEN (BidPrice1 * AskQuantity1 + AskPrice1 * BidQuantity1) / {q} END",
    }


def day_sql(lake: Path, day: str, target: Path) -> str:
    ref, trades, l2, l3, states = (files(lake, t, day) for t in ("reference", "trades", "l2", "l3", "marketstate"))
    if not all((ref, trades, l2, l3, states)):
        raise SystemExit(f"{day}: a table has no file; this benchmark expects every table")

    lit = "Classification = 'LIT_CONTINUOUS'"
    priced = f"{lit} AND p IS NOT NULL AND Size IS NOT NULL"
    placed = f"{lit} AND PricePoint IS NOT NULL AND Size IS NOT NULL"
    trade_aggs = f"""
        sum(Size) FILTER ({lit}) AS TradeTotalVolume,
        count(*) FILTER ({lit}) AS TradeTotalCount,
        sum(TradeNotionalEUR) FILTER ({lit}) AS TradeTotalNotionalEUR,
        sum(p * Size) FILTER ({priced}) / nullif(sum(Size) FILTER ({priced}), 0) AS TradeTotalVWAP,
        first(p ORDER BY t, rn) FILTER ({lit} AND p IS NOT NULL) AS Open,
        max(p) FILTER ({lit}) AS High,
        min(p) FILTER ({lit}) AS Low,
        last(p ORDER BY t, rn) FILTER ({lit} AND p IS NOT NULL) AS Close,
        sum(Size) FILTER ({lit} AND side = 1) AS TradeBuyVolume,
        sum(Size) FILTER ({lit} AND side = 2) AS TradeSellVolume,
        sum((2 * least(greatest(PricePoint, 0), 1) - 1) * Size) FILTER ({placed})
            / nullif(sum(Size) FILTER ({placed}), 0) AS VolumeWeightedPricePlacement,
        last(MarketState ORDER BY t, rn) FILTER (MarketState IS NOT NULL) AS MarketState"""

    l3_aggs, l3_names = [], []
    for name, code in (("Bid", 1), ("Ask", 2)):
        for verb, action, volume in (("Insert", 2, "Size"), ("Remove", 3, "OldSize")):
            mask = f"Side = {code} AND LobAction = {action}"
            l3_aggs += [f"count(*) FILTER ({mask}) AS {verb}Count{name}",
                        f"coalesce(sum({volume}) FILTER ({mask}), 0)::BIGINT AS {verb}Volume{name}"]
            l3_names += [f"{verb}Count{name}", f"{verb}Volume{name}"]

    level5 = [f"{s}{w}{l}" for w in ("Price", "Quantity", "NumOrders") for s in SIDES for l in LEVELS5]
    level10 = [f"{s}{w}{l}" for w in ("Price", "Quantity") for s in SIDES for l in LEVELS10]
    snap_columns = sorted(set(level10) | set(level5), key=NEEDED_COLUMNS["l2"].index)

    # l2 state columns, computed on the last snapshot of each bucket.
    state = [f"{c}::BIGINT AS {c}" if "NumOrders" in c else c for c in level5]
    for what in ("Quantity", "NumOrders"):
        stem = "CumQuantity" if what == "Quantity" else "CumOrders"
        for s in SIDES:
            for l in LEVELS5:
                state.append(" + ".join(f"coalesce({s}{what}{k}, 0)::BIGINT" for k in range(1, l + 1))
                             + f" AS {s}{stem}{l}")
    state_names = [c.split(" AS ")[-1] for c in state]
    imb = []
    for l in LEVELS5:
        imb.append(f"{imbalance(f'BidCumQuantity{l}', f'AskCumQuantity{l}')} AS ImbalanceCumQuantity{l}")
    for l in LEVELS5:
        imb.append(f"{imbalance(f'BidCumOrders{l}', f'AskCumOrders{l}')} AS ImbalanceOrders{l}")
    state_names += [c.split(" AS ")[-1] for c in imb] + ["SpreadBps", "L2MarketState"]

    # l2tw values per snapshot.
    tob = top_of_book()
    tw = dict(tob)
    tw.update({c: f"{c}::DOUBLE" for c in level10})
    tw["ImbalanceCumQuantity1"] = imbalance("coalesce(BidQuantity1, 0)", "coalesce(AskQuantity1, 0)")
    # (a FILTER clause per value is 3-4x slower here than a CASE inside the sum)
    twa = [f"sum({v} * dt) / nullif(sum(CASE WHEN {v} IS NOT NULL THEN dt END), 0) AS {v}TWA" for v in tw]

    trade_names = ["TradeTotalVolume", "TradeTotalCount", "TradeTotalNotionalEUR", "TradeTotalVWAP", "Open", "High",
                   "Low", "Close", "TradeBuyVolume", "TradeSellVolume", "VolumeWeightedPricePlacement"]
    flows = {"TradeTotalVolume", "TradeTotalCount", "TradeTotalNotionalEUR", "TradeBuyVolume", "TradeSellVolume"}
    select_trades = [f"coalesce(ts.{c}, 0) AS {c}" if c in flows else f"ts.{c}" for c in trade_names]

    return f"""
COPY (
WITH
universe AS MATERIALIZED (SELECT DISTINCT ListingId FROM {ref}),
trade_stats AS MATERIALIZED (
    SELECT ListingId, {label('t')} AS TimeBucket, {trade_aggs}
    FROM (SELECT ListingId, epoch_ns(TradeTimestamp) AS t, file_row_number AS rn, Classification, Size,
                 TradeNotionalEUR, PricePoint, coalesce(AggressorSide, 0) AS side, MarketState,
                 CASE WHEN Size <> 0 AND NOT isnan(TradeNotional / Size) THEN TradeNotional / Size END AS p
          FROM {trades} WHERE ListingId IN (SELECT ListingId FROM universe))
    GROUP BY ALL),
l3_stats AS MATERIALIZED (
    SELECT ListingId, {label('epoch_ns(TimestampNanoseconds)')} AS TimeBucket, {', '.join(l3_aggs)}
    FROM {l3} WHERE ListingId IN (SELECT ListingId FROM universe)
    GROUP BY ALL),
snaps AS MATERIALIZED (
    SELECT ListingId, epoch_ns(EventTimestamp) AS t, file_row_number AS rn, {label('epoch_ns(EventTimestamp)')} AS TimeBucket,
           MarketState, {', '.join(snap_columns)},
           -- the next snapshot of the listing-day: where this one stops holding (l2tw)
           lead(epoch_ns(EventTimestamp)) OVER (PARTITION BY ListingId ORDER BY epoch_ns(EventTimestamp), file_row_number) AS t_next
    FROM {l2} WHERE ListingId IN (SELECT ListingId FROM universe)),
-- l2: the last snapshot of each bucket (time, then input order), later carried by an ASOF join
l2_last AS MATERIALIZED (
    SELECT ListingId, TimeBucket AS StateBucket,
           arg_max({{{', '.join(f"'{c}': {c}" for c in level5 + ['MarketState'])}}}, (t, rn)) AS s
    FROM snaps GROUP BY ALL),
l2_state AS MATERIALIZED (
    SELECT ListingId, StateBucket, * EXCLUDE (ListingId, StateBucket), {', '.join(imb)}
    FROM (SELECT ListingId, StateBucket, {', '.join(state)}, {tob['SpreadBps']} AS SpreadBps,
                 MarketState AS L2MarketState
          FROM (SELECT ListingId, StateBucket, unnest(s) FROM l2_last))),
event_keys AS MATERIALIZED (
    SELECT ListingId, TimeBucket FROM trade_stats
    UNION SELECT ListingId, TimeBucket FROM l3_stats
    UNION SELECT ListingId, StateBucket FROM l2_last),
-- dense timeline: [first entry into CONTINUOUS_TRADING, exit from the last continuous run)
-- widened by the padding (a multiple of N: label(x +- pad) = label(x) +- pad); without a
-- continuous state, the span of the listing's events
states AS (
    SELECT ListingId, t, ct, pos, max(CASE WHEN ct THEN pos END) OVER (PARTITION BY ListingId) AS last_ct
    FROM (SELECT ListingId, t, ct, row_number() OVER (PARTITION BY ListingId ORDER BY t, rn) AS pos
          FROM (SELECT ListingId, epoch_ns(TimestampNanoseconds) AS t, file_row_number AS rn,
                       coalesce(MarketState = 'CONTINUOUS_TRADING', false) AS ct
                FROM {states} WHERE ListingId IN (SELECT ListingId FROM universe)))),
sessions AS (
    SELECT ListingId, min(t) FILTER (ct) AS b, min(t) FILTER (NOT ct AND pos > last_ct) AS e
    FROM states GROUP BY ListingId),
spans AS (SELECT ListingId, min(TimeBucket) AS lo, max(TimeBucket) AS hi FROM event_keys GROUP BY ListingId),
session_rows AS (
    SELECT ListingId, unnest(range(first, last + {N}, {N})) AS TimeBucket
    FROM (SELECT ListingId,
                 CASE WHEN b IS NOT NULL THEN {label('b')} ELSE lo END - {PADDING_NS} AS first,
                 CASE WHEN b IS NULL THEN hi
                      WHEN e IS NOT NULL THEN {label('e - 1')}
                      ELSE greatest({label('b')}, coalesce(hi, {label('b')})) END + {PADDING_NS} AS last
          FROM sessions FULL JOIN spans USING (ListingId))
    WHERE first IS NOT NULL),
timeline AS MATERIALIZED (SELECT ListingId, TimeBucket FROM event_keys UNION SELECT ListingId, TimeBucket FROM session_rows),
day_end AS (SELECT ListingId, max(TimeBucket) AS day_end FROM timeline GROUP BY ListingId),
-- l2tw: each snapshot holds until the next one (the day's last until the end of the listing's
-- last bucket); the piece [t0, t1) is split over the buckets [B - N, B) it overlaps, B in (t0, t1 + N)
pieces AS (
    SELECT ListingId, t0, t1, * EXCLUDE (ListingId, t0, t1),
           unnest(range(t0 // {N} * {N} + {N}, (t1 - 1) // {N} * {N} + {2 * N}, {N})) AS B
    FROM (SELECT s.ListingId, s.t AS t0, coalesce(s.t_next, d.day_end) AS t1,
                 {', '.join(f'{e} AS {v}' for v, e in tw.items())}
          FROM snaps s JOIN day_end d USING (ListingId))
    WHERE t1 > t0),
l2tw AS (
    SELECT ListingId, B AS TimeBucket, {', '.join(twa)}
    FROM (SELECT *, (least(t1, B) - greatest(t0, B - {N}))::DOUBLE AS dt FROM pieces)
    GROUP BY ALL)
SELECT tl.ListingId, make_timestamp_ns(tl.TimeBucket) AS TimeBucket,
       {', '.join(select_trades)},
       last_value(ts.MarketState IGNORE NULLS) OVER (PARTITION BY tl.ListingId ORDER BY tl.TimeBucket
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS MarketState,
       {', '.join(f'st.{c}' for c in state_names)},
       {', '.join(f'tw.{v}TWA' for v in tw)},
       {', '.join(f'coalesce(l3.{c}, 0) AS {c}' for c in l3_names)}
FROM timeline tl
ASOF LEFT JOIN l2_state st ON tl.ListingId = st.ListingId AND tl.TimeBucket >= st.StateBucket
LEFT JOIN trade_stats ts ON ts.ListingId = tl.ListingId AND ts.TimeBucket = tl.TimeBucket
LEFT JOIN l2tw tw ON tw.ListingId = tl.ListingId AND tw.TimeBucket = tl.TimeBucket
LEFT JOIN l3_stats l3 ON l3.ListingId = tl.ListingId AND l3.TimeBucket = tl.TimeBucket
ORDER BY tl.ListingId, tl.TimeBucket
) TO '{target}' (FORMAT parquet, COMPRESSION zstd)
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--days", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory", default="2GiB")
    ap.add_argument("--temp", type=Path, help="spill directory (default: OUT/_tmp)")
    ap.add_argument("--print-sql", action="store_true", help="print the first day's statement and exit")
    args = ap.parse_args()
    days = args.days.split(",")
    if args.print_sql:
        print(day_sql(args.lake, days[0], args.out / f"date={days[0]}" / "part-00000.parquet"))
        return 0
    import duckdb

    started = time.perf_counter()  # after the imports: the job's own work
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"SET memory_limit = '{args.memory}'")
    con.execute(f"SET temp_directory = '{args.temp or args.out / '_tmp'}'")
    for day in days:
        target = args.out / f"date={day}"
        target.mkdir(parents=True, exist_ok=True)
        con.execute(day_sql(args.lake, day, target / "part-00000.parquet"))
    con.close()
    print(json.dumps({"vm_hwm": vm_hwm_bytes(), "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The real vendor sample day (one listing, 2026-01-02) through every module it feeds, end to end:
the files are laid out as a one-day lake in the test's temp dir and run as they are."""
import shutil

import polars as pl

from conftest import run_intraday

LAYOUT = {
    "trades-plus": "Trades-Plus/XLON/2026/01/02/trades-plus-XLON-20260102.parquet",
    "l2": "Equity/XLON/2026/01/02/XLON-20260102.parquet",
    "l3": "Equity-L3/XLON/2026/01/02/l3-XLON-20260102.parquet",
    "market-state": "MarketState/XLON/2026/01/02/market-state-XLON-20260102.parquet",
    "reference": "Reference/XLON/2026/01/02/reference-XLON-20260102.parquet",
}


def test_sample_day_runs_through_every_module(intraday_bin, sample_day_dir, tmp_path):
    lake = tmp_path / "lake"
    for name, rel in LAYOUT.items():
        (lake / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_day_dir / f"{name}.parquet", lake / rel)
    config = tmp_path / "pipeline.yaml"
    config.write_text(f"""
data: {{root: {lake}}}
universe: {{mics: [XLON]}}
dates: {{start: 2026-01-02, end: 2026-01-02}}
run: {{output: {tmp_path / 'out'}, scratch: {tmp_path / 'scratch'}, workers: 1}}
passes:
  - name: bars
    bucket: 1m
    modules:
      trade: {{metrics: [TradeTotalVolume, TradeTotalCount, TradeTotalVWAP, Close, TradeUnknownVolume,
                        AlgorithmicTradeCount, EffectiveSpread1000ms, MarketState]}}
      retail_imbalance: {{}}
      l2: {{levels: 10}}
      l2tw: {{}}
      l3: {{actions: [insert, remove, update, execution], advanced: all}}
      execution: {{}}
""")
    run_intraday(intraday_bin, "run", config)
    df = pl.read_parquet(tmp_path / "out" / "bars" / "date=2026-01-02" / "part-00000.parquet")
    assert df["ListingId"].unique().to_list() == [121317]
    # The dense session from the sample's market states: continuous 08:00:16.33 .. 16:30:00.08,
    # padded by 10 minutes: [07:50:16.33, 16:40:00.08) -> labels 07:51 .. 16:41 (end/right), 531 rows.
    assert df.height == 531
    assert str(df["TimeBucket"].min()) == "2026-01-02 07:51:00"
    assert str(df["TimeBucket"].max()) == "2026-01-02 16:41:00"
    # The sample's 35 lit continuous trades (of 50 prints) are all counted, once.
    assert df["TradeTotalCount"].sum() == 35
    assert df["TradeUnknownVolume"].sum() == 0  # lit continuous prints carry a side
    # 50 L3 messages and 50 L2 snapshots, all in the noon buckets.
    l3_counts = ["InsertCountBid", "InsertCountAsk", "RemoveCountBid", "RemoveCountAsk", "UpdateCountBid",
                 "UpdateCountAsk"]
    assert sum(df[c].sum() for c in l3_counts) > 0
    noon = df.filter(pl.col("TimeBucket").dt.hour() == 12)
    assert noon["BidPrice1"].null_count() < noon.height
    assert noon["SpreadAbsTWA"].drop_nulls().len() > 0
    assert (noon["SpreadBps"].drop_nulls() > 0).all()
    # Both modules that output MarketState are there, the later one prefixed.
    assert "MarketState" in df.columns and "L2MarketState" in df.columns

"""Later passes (issue 5): `generic` and `reaggregate` read pass 1's output.

- generic: 1-minute trade bars -> 15-minute bars per instrument (listings of both venues
  together), with aggregations and indicators, recomputed independently with Polars from the
  pass-1 output and the reference files: the resampled labels, every aggregation, and every
  indicator (Polars rolling_mean / rolling_std / ewm_mean on each group's series, one day of
  history carried across days).
- reaggregate: the same bars per venue (MIC), flows summed, prices notional-weighted, states last.
- The two-pass pipeline gives byte-identical files for 1 or 2 workers and for a tiny or a large
  memory budget (many batches of whole instruments, or one).
Floats agree to a relative 1e-9; ints, strings and nulls exactly.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest

from conftest import CONFORMANCE_DAYS, lake_file, run_intraday, run_pipeline

BARS = "  - name: bars\n    bucket: 1m\n    timeline: dense\n    modules:\n      trade: {}\n"
GENERIC = """  - name: bars15
    bucket: 15m
    modules:
      generic:
        source: bars
        resample: 15m
        group_by: [InstrumentId, TimeBucket]
        history_days: 1
        aggregations: {TradeTotalVolume: sum, TradeTotalCount: sum, TradeTotalVWAP: {weighted_mean: TradeTotalVolume},
                       Open: first, High: max, Low: min, Close: last, TradeTotalNotionalEUR: mean, MarketState: last,
                       TradeBuyVolume: count}
        indicators:
          - {name: SMA, column: Close, period: 5}
          - {name: EMA, column: Close, period: 4}
          - {name: RSI, column: Close, period: 6}
          - {name: MACD, column: Close, fast: 3, slow: 6, signal: 3}
          - {name: Bollinger, column: Close, period: 5, k: 2.5}
          - {name: RollingStd, column: Close, period: 5}
          - {name: ZScore, column: Close, period: 5}
          - {name: SMA, column: TradeTotalVolume, period: 3, as: VolumeSMA3}
"""
REAGGREGATE = """  - name: venues
    bucket: 1m
    modules:
      reaggregate:
        source: bars
        group_by: MIC
        columns: [TradeTotalVolume, TradeTotalCount, TradeTotalNotionalEUR, TradeTotalVWAP, Close, MarketState]
"""


@pytest.fixture(scope="module")
def output(intraday_bin, conformance_lake, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("multipass")
    return run_pipeline(intraday_bin, workdir, conformance_lake, BARS + GENERIC + REAGGREGATE)


def read_pass(out, name):
    frames = [pl.read_parquet(out / name / f"date={day}" / "part-00000.parquet").with_columns(pl.lit(day).alias("day"))
              for day in CONFORMANCE_DAYS]
    return pl.concat(frames)


def universe(lake):
    frames = [pl.read_parquet(lake_file(lake, "reference", mic, day), columns=["ListingId", "InstrumentId"])
              .with_columns(pl.lit(mic).alias("MIC")) for mic in ("XLON", "XPAR") for day in CONFORMANCE_DAYS[:1]]
    return pl.concat(frames).unique("ListingId").with_columns(pl.col("InstrumentId").cast(pl.Int64))


def assert_frames_match(got: pl.DataFrame, want: pl.DataFrame, keys):
    assert got.height == want.height, (got.height, want.height)
    got, want = got.sort(keys), want.sort(keys)
    for name in want.columns:
        g, w = got[name], want[name]
        assert (g.is_null() == w.is_null()).all(), f"{name}: nulls differ at rows {(g.is_null() != w.is_null()).arg_true()[:5].to_list()}"
        if w.dtype == pl.Float64:
            both = g.is_not_null()
            gv, wv = g.filter(both), w.filter(both)
            bad = ((gv - wv).abs() > 1e-9 * wv.abs() + 1e-12)
            assert not bad.any(), f"{name}: first mismatch {gv.filter(bad)[0]} != {wv.filter(bad)[0]}"
        else:
            both = g.is_not_null()
            assert (g.filter(both) == w.filter(both)).all(), name


def compact(series: pl.Series):
    """The non-null values and their positions: indicators skip nulls (docs/metrics/generic.md)."""
    mask = series.is_not_null()
    return series.filter(mask), mask.arg_true()


def expand(values: pl.Series, positions, n):
    out = [None] * n
    for p, v in zip(positions.to_list(), values.to_list()):
        out[p] = v
    return pl.Series(out, dtype=pl.Float64)


def seeded_ewm(v: pl.Series, period: int, alpha: float) -> pl.Series:
    """EMA seeded with the mean of the first `period` values, null before (Polars ewm_mean from the seed)."""
    if len(v) < period:
        return pl.Series([None] * len(v), dtype=pl.Float64)
    seeded = pl.Series([None] * (period - 1) + [v[:period].mean()] + v[period:].to_list(), dtype=pl.Float64)
    return seeded.ewm_mean(alpha=alpha, adjust=False, ignore_nulls=True)


def polars_indicators(close: pl.Series, volume: pl.Series) -> dict:
    n = len(close)
    v, pos = compact(close)
    out = {}
    out["SMA5"] = expand(v.rolling_mean(5), pos, n)
    out["EMA4"] = expand(seeded_ewm(v, 4, 2 / 5), pos, n)
    diff = v.diff()
    gain, loss = diff.clip(lower_bound=0), (-diff).clip(lower_bound=0)
    if len(v) > 6:
        avg_gain = pl.Series([None], dtype=pl.Float64).append(seeded_ewm(gain[1:], 6, 1 / 6))
        avg_loss = pl.Series([None], dtype=pl.Float64).append(seeded_ewm(loss[1:], 6, 1 / 6))
        rsi = pl.DataFrame({"g": avg_gain, "l": avg_loss}).select(
            pl.when(pl.col("g") + pl.col("l") == 0).then(50.0)
            .otherwise(100 * pl.col("g") / (pl.col("g") + pl.col("l")))).to_series()
    else:
        rsi = pl.Series([None] * len(v), dtype=pl.Float64)
    out["RSI6"] = expand(rsi, pos, n)
    line = seeded_ewm(v, 3, 2 / 4) - seeded_ewm(v, 6, 2 / 7)
    defined, at = compact(line)
    signal = seeded_ewm(defined, 3, 2 / 4)
    out["MACD3_6_3"] = expand(line, pos, n)
    out["MACDSignal3_6_3"] = expand(expand(signal, at, len(v)), pos, n)
    out["MACDHist3_6_3"] = expand(expand(defined - signal, at, len(v)), pos, n)
    mean, pstd = v.rolling_mean(5), v.rolling_std(5, ddof=0)
    out["BollingerUpper5"] = expand(mean + 2.5 * pstd, pos, n)
    out["BollingerMiddle5"] = expand(mean, pos, n)
    out["BollingerLower5"] = expand(mean - 2.5 * pstd, pos, n)
    std = v.rolling_std(5, ddof=1)
    out["RollingStd5"] = expand(std, pos, n)
    z = pl.DataFrame({"x": v, "m": mean, "s": std}).select(
        pl.when(pl.col("s") > 0).then((pl.col("x") - pl.col("m")) / pl.col("s"))).to_series()
    out["ZScore5"] = expand(z, pos, n)
    vv, vpos = compact(volume)
    out["VolumeSMA3"] = expand(vv.rolling_mean(3), vpos, n)
    return out


def test_generic_matches_polars(output, conformance_lake):
    bars = read_pass(output, "bars").join(universe(conformance_lake), on="ListingId")
    end15 = (pl.col("TimeBucket") - pl.duration(minutes=1)).dt.truncate("15m") + pl.duration(minutes=15)
    bars = bars.with_columns(end15.alias("Label")).sort("InstrumentId", "Label", "TimeBucket", "ListingId")

    def nonnull(name, fn):
        return pl.when(pl.col(name).count() > 0).then(fn(pl.col(name).drop_nulls())).alias(name)

    w = pl.col("TradeTotalVolume")
    x = pl.col("TradeTotalVWAP")
    both = x.is_not_null() & w.is_not_null()
    want = bars.group_by("InstrumentId", "Label", "day", maintain_order=True).agg(
        nonnull("TradeTotalVolume", lambda c: c.sum()),
        pl.col("TradeTotalCount").sum(),
        pl.when(w.filter(both).sum() != 0).then((x * w).filter(both).sum() / w.filter(both).sum()).alias("TradeTotalVWAP"),
        nonnull("Open", lambda c: c.first()),
        nonnull("High", lambda c: c.max()),
        nonnull("Low", lambda c: c.min()),
        nonnull("Close", lambda c: c.last()),
        nonnull("TradeTotalNotionalEUR", lambda c: c.mean()),
        nonnull("MarketState", lambda c: c.last()),
        pl.col("TradeBuyVolume").count().alias("TradeBuyVolume"),
    ).sort("InstrumentId", "Label")
    parts = []
    for _, group in want.group_by("InstrumentId", maintain_order=True):
        parts.append(group.with_columns(**polars_indicators(group["Close"], group["TradeTotalVolume"].cast(pl.Float64))))
    want = pl.concat(parts).rename({"Label": "TimeBucket"})

    got = read_pass(output, "bars15")
    assert got.columns[:2] == ["InstrumentId", "TimeBucket"]
    assert got.filter(pl.col("TradeTotalCount") > 0).height > 20  # enough traded quarters to mean something
    assert got["RSI6"].is_not_null().sum() > 10 and got["MACDSignal3_6_3"].is_not_null().sum() > 10
    # One day of history: day 2's first traded quarter of an instrument already has its SMA5.
    day2 = got.filter((pl.col("day") == CONFORMANCE_DAYS[1]) & pl.col("Close").is_not_null()) \
        .group_by("InstrumentId").agg(pl.col("SMA5").first())
    assert day2["SMA5"].is_not_null().any()
    assert_frames_match(got, want.select(got.columns), ["InstrumentId", "TimeBucket"])


def test_reaggregate_matches_polars(output, conformance_lake):
    bars = read_pass(output, "bars").join(universe(conformance_lake), on="ListingId").sort("MIC", "TimeBucket",
                                                                                            "ListingId")
    weight = pl.col("TradeTotalNotionalEUR")

    def weighted(name):
        x = pl.col(name)
        ok = x.is_not_null() & weight.is_not_null()
        return pl.when(weight.filter(ok).sum() != 0).then((x * weight).filter(ok).sum() / weight.filter(ok).sum()).alias(name)

    want = bars.group_by("MIC", "TimeBucket", "day", maintain_order=True).agg(
        pl.col("TradeTotalVolume").sum(), pl.col("TradeTotalCount").sum(), pl.col("TradeTotalNotionalEUR").sum(),
        weighted("TradeTotalVWAP"), weighted("Close"),
        pl.when(pl.col("MarketState").count() > 0).then(pl.col("MarketState").drop_nulls().last()).alias("MarketState"))
    got = read_pass(output, "venues")
    assert got.columns[:2] == ["MIC", "TimeBucket"]
    assert set(got["MIC"]) == {"XLON", "XPAR"}
    assert_frames_match(got, want.select(got.columns), ["MIC", "TimeBucket"])


def digests(out):
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*.parquet")) if not p.relative_to(out).as_posix().startswith("_")}


def test_two_pass_pipeline_is_deterministic(intraday_bin, conformance_lake, output, tmp_path):
    reference = digests(output)
    assert len(reference) == 6
    for workers, memory in ((1, "64MiB"), (2, "64KiB")):
        work = tmp_path / f"w{workers}-{memory}"
        work.mkdir()
        out = run_pipeline(intraday_bin, work, conformance_lake, BARS + GENERIC + REAGGREGATE, workers=workers,
                           memory=memory)
        assert digests(out) == reference, (workers, memory)
        if memory == "64KiB":
            # The small budget really cut the later passes into several batches of whole groups.
            report = json.loads(next((out / "_runs").glob("*.json")).read_text())
            batches = [d["planned_batches"] for d in report["days"] if d["pass"] == "bars15"]
            assert max(batches) > 1, report["days"]


def test_a_later_pass_batch_killed_for_memory_is_split_between_groups(intraday_bin, conformance_lake, output,
                                                                      tmp_path):
    """A later pass's worker killed by SIGKILL (what the OOM killer does): its batch is cut at a
    group boundary (9 instruments of 10 listings: one batch a day at 64 MiB), both halves run, and
    every day file is byte-identical to the undisturbed run's: the halves concatenate in order."""
    scratch = tmp_path / "scratch"
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        f"data: {{root: {conformance_lake}}}\nuniverse: {{mics: [XLON, XPAR]}}\n"
        f"dates: {{start: {CONFORMANCE_DAYS[0]}, end: {CONFORMANCE_DAYS[-1]}}}\n"
        f"run: {{output: {tmp_path / 'out'}, scratch: {scratch}, workers: 2, memory_per_worker: 64MiB}}\n"
        f"passes:\n{BARS}{GENERIC}{REAGGREGATE}")
    env = dict(os.environ, INTRADAY_TEST_WORKER_DELAY_MS="300")
    proc = subprocess.Popen([intraday_bin, "run", str(config)], stderr=subprocess.PIPE, text=True, env=env)
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and proc.poll() is None:
        for entry in Path("/proc").iterdir():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
            except OSError:
                continue
            if b"worker" in cmdline and any(b"/bars15/" in part and str(scratch).encode() in part for part in cmdline):
                killed = int(entry.name)
                os.kill(killed, signal.SIGKILL)
                break
        time.sleep(0.02)
    _, stderr = proc.communicate(timeout=300)
    assert killed is not None, "no worker of the later pass seen"
    assert proc.returncode == 0, stderr
    assert digests(tmp_path / "out") == digests(output)
    report = json.loads(next((tmp_path / "out" / "_runs").glob("*.json")).read_text())
    splits = [r for r in report["retries"] if r["pass"] == "bars15" and "split into two batches of" in r["what"]]
    assert len(splits) == 1, report["retries"]
    # 9 groups cut between two of them, 10 listings: 4 + 5 groups, the listings as they fall.
    assert "4 and 5 groups" in splits[0]["what"] or "5 and 4 groups" in splits[0]["what"], splits[0]
    day = next(d for d in report["days"] if d["pass"] == "bars15" and d["day"] == splits[0]["day"])
    finished = [b for b in day["batches"] if b["exit"] == "exit code 0"]
    assert len(finished) == 2 and sum(b["listings"] for b in finished) == 10, day["batches"]


def test_plan_of_a_later_pass(intraday_bin, conformance_lake, tmp_path):
    config = tmp_path / "p2.yaml"
    config.write_text(
        f"data: {{root: {conformance_lake}}}\nuniverse: {{mics: [XLON, XPAR]}}\n"
        f"dates: {{start: {CONFORMANCE_DAYS[0]}, end: {CONFORMANCE_DAYS[0]}}}\n"
        f"run: {{output: {tmp_path / 'out'}, scratch: {tmp_path / 'scratch'}, memory_per_worker: 64KiB}}\n"
        f"passes:\n{BARS}{GENERIC}")
    before = run_intraday(intraday_bin, "plan", config, "--day", CONFORMANCE_DAYS[0], "--pass", "bars15")
    assert "not planned" in before.stdout and "bars/date=2026-01-05/part-00000.parquet" in before.stdout
    run_intraday(intraday_bin, "run", config)
    after = run_intraday(intraday_bin, "plan", config, "--day", CONFORMANCE_DAYS[0], "--pass", "bars15", "--json")
    plan = json.loads(after.stdout)["passes"][0]
    assert plan["source_pass"] == "bars" and plan["listings"] == 10 and plan["groups"] == 9
    # A 64 KiB budget: instruments are packed alone or nearly, never split across batches.
    assert len(plan["batches"]) > 1
    listed = [listing for batch in plan["batches"] for listing in batch["listings"]]
    assert sorted(listed) == sorted(set(listed)) and len(listed) == 10


def test_generic_option_errors_name_line_and_key(intraday_bin, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(
        "data: {root: lake}\nuniverse: {mics: [XLON]}\ndates: {start: 2026-01-05, end: 2026-01-05}\n"
        "run: {output: out, scratch: scratch}\n"
        f"passes:\n{BARS}"
        "  - name: bars15\n    bucket: 15m\n    modules:\n      generic:\n        source: bars\n"
        "        aggregations: {Closee: last}\n")
    result = run_intraday(intraday_bin, "validate", config, check=False)
    assert result.returncode == 1
    assert f"{config}:16:" in result.stderr
    assert "passes[1].modules.generic.aggregations.Closee: pass 'bars' has no column 'Closee' (did you mean 'Close'?)" \
        in result.stderr


def test_groups_from_a_universe_file_column_and_a_group_file(intraday_bin, conformance_lake, tmp_path):
    """generic groups by an extra column of universe.file (Sector); reaggregate maps listings to an
    index through group_file with per-day weights. Both recomputed with Polars."""
    ref = universe(conformance_lake).sort("ListingId")
    ids = ref["ListingId"].to_list()
    sectors = pl.DataFrame({"ListingId": ids, "MIC": ref["MIC"],
                            "Sector": ["Tech" if i % 3 else "Banks" for i in range(len(ids))]})
    sectors.write_csv(tmp_path / "universe.csv")
    index = pl.DataFrame({"ListingId": ids[:-2], "Index": ["IDX-A" if i % 2 else "IDX-B" for i in range(len(ids) - 2)]})
    index.write_parquet(tmp_path / "index.parquet")
    config = tmp_path / "groups.yaml"
    config.write_text(
        f"data: {{root: {conformance_lake}}}\nuniverse: {{file: universe.csv}}\n"
        f"dates: {{start: {CONFORMANCE_DAYS[0]}, end: {CONFORMANCE_DAYS[0]}}}\n"
        f"run: {{output: out, scratch: scratch, workers: 2}}\n"
        f"passes:\n{BARS}"
        "  - name: sectors\n    bucket: 5m\n    modules:\n      generic:\n        source: bars\n"
        "        group_by: [Sector, TimeBucket]\n        aggregations: {TradeTotalVolume: sum, TradeTotalCount: sum}\n"
        "  - name: index\n    bucket: 1m\n    modules:\n      reaggregate:\n        source: bars\n"
        "        group_by: Index\n        group_file: index.parquet\n        weighting: day\n"
        "        columns: [TradeTotalVolume, TradeTotalVWAP]\n")
    result = run_intraday(intraday_bin, "run", config)
    assert "2 listings have no value for Index" in result.stderr
    bars = pl.read_parquet(tmp_path / "out" / "bars" / f"date={CONFORMANCE_DAYS[0]}" / "part-00000.parquet")

    got = pl.read_parquet(tmp_path / "out" / "sectors" / f"date={CONFORMANCE_DAYS[0]}" / "part-00000.parquet")
    end5 = (pl.col("TimeBucket") - pl.duration(minutes=1)).dt.truncate("5m") + pl.duration(minutes=5)
    want = (bars.join(sectors.select("ListingId", "Sector"), on="ListingId").with_columns(end5.alias("Label"))
            .group_by("Sector", "Label").agg(pl.col("TradeTotalVolume").sum(), pl.col("TradeTotalCount").sum())
            .rename({"Label": "TimeBucket"}))
    assert got.columns[:2] == ["Sector", "TimeBucket"] and set(got["Sector"]) == {"Banks", "Tech"}
    assert_frames_match(got, want.select(got.columns), ["Sector", "TimeBucket"])

    got = pl.read_parquet(tmp_path / "out" / "index" / f"date={CONFORMANCE_DAYS[0]}" / "part-00000.parquet")
    daily = bars.group_by("ListingId").agg(pl.col("TradeTotalNotionalEUR").sum().alias("w"))
    x = pl.col("TradeTotalVWAP")
    want = (bars.join(index, on="ListingId").join(daily, on="ListingId").group_by("Index", "TimeBucket").agg(
        pl.col("TradeTotalVolume").sum(),
        pl.when(pl.col("w").filter(x.is_not_null()).sum() != 0)
        .then((x * pl.col("w")).filter(x.is_not_null()).sum() / pl.col("w").filter(x.is_not_null()).sum())
        .alias("TradeTotalVWAP")))
    assert got.columns[:2] == ["Index", "TimeBucket"]
    assert_frames_match(got, want.select(got.columns), ["Index", "TimeBucket"])

"""`intraday metrics`: the modules, a module's columns (with options), a pipeline's columns as
they will be named in the output."""
from pathlib import Path

from conftest import run_intraday

REPO = Path(__file__).resolve().parents[2]


def test_lists_modules_and_a_modules_columns(intraday_bin):
    modules = run_intraday(intraday_bin, "metrics").stdout
    for name in ("trade", "retail_imbalance", "l2", "l2tw", "l3", "execution", "activity"):
        assert f"  {name} " in modules
    l2tw = run_intraday(intraday_bin, "metrics", "--module", "l2tw").stdout
    assert "SpreadAbsTWA" in l2tw and "ImbalanceCumQuantity1TWA" in l2tw
    l2 = run_intraday(intraday_bin, "metrics", "--module", "l2", "--options", "{levels: 2}").stdout
    assert "BidPrice2 " in l2 and "BidPrice3 " not in l2


def test_bad_options_and_unknown_module_are_errors(intraday_bin):
    bad = run_intraday(intraday_bin, "metrics", "--module", "l2", "--options", "{levels: 11}", check=False)
    assert bad.returncode == 1 and "levels" in bad.stderr
    unknown = run_intraday(intraday_bin, "metrics", "--module", "l2w", check=False)
    assert unknown.returncode == 1 and "did you mean" in unknown.stderr


def test_pipeline_columns_use_the_output_names(intraday_bin):
    out = run_intraday(intraday_bin, "metrics", "--config", REPO / "examples" / "quickstart.yaml").stdout
    assert "pass bars" in out
    # trade and l2 both have MarketState: the later module's column is prefixed in the output.
    assert "  MarketState " in out and "  L2MarketState " in out


def test_pipeline_columns_of_a_later_pass(intraday_bin):
    out = run_intraday(intraday_bin, "metrics", "--config", REPO / "examples" / "quickstart.yaml").stdout
    assert "pass bars15: generic <- pass bars" in out
    assert "  InstrumentId " in out and "  SMA20 " in out and "  RSI14 " in out

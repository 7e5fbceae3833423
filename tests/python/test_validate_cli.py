"""`intraday validate FILE` as a user runs it: exit codes, the summary, and errors that name the
key and the line. The binary comes from INTRADAY_BIN (default: the release build; see conftest)."""

import textwrap
from pathlib import Path

from conftest import run_intraday

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
data:
  root: lake
universe:
  mics: [XLON, XPAR]
dates:
  start: 2026-03-02
  end: 2026-03-13
  holidays: [2026-03-06]
run:
  output: out
  scratch: scratch
passes:
  - name: bars
    bucket: 1m
    modules:
      activity: {tables: [trades, l2]}
  - name: daily
    bucket: 1d
    timeline: daily
    modules:
      activity: {}
"""


def validate(binary, path):
    return run_intraday(binary, "validate", path, check=False)


def test_good_config_prints_ok_and_summary(intraday_bin, tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(GOOD)
    result = validate(intraday_bin, path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: ok\n")
    assert "2 passes, 2 modules" in result.stdout
    # Two weeks of weekdays minus one holiday.
    assert "2026-03-02 .. 2026-03-13: 9 trading days" in result.stdout
    # Relative paths resolve against the config's directory.
    assert f"output:   {tmp_path / 'out'}" in result.stdout
    assert "config hash: " in result.stdout
    # The lake does not exist yet: a warning naming the line, not an error.
    assert f"{path}:2:9: warning: data.root" in result.stderr


def test_bad_config_reports_every_error_with_key_and_line(intraday_bin, tmp_path):
    bad = GOOD.replace("  mics: [XLON, XPAR]", "  mic: [XLON, XPAR]").replace("[trades, l2]", "[trades, l4]").replace(
        "  scratch: scratch", "  scratch: scratch\n  memory_per_worker: 2 gigs"
    )
    bad = bad.replace("      activity: {}", "      generic: {source: bars99}")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    result = validate(intraday_bin, path)
    assert result.returncode == 1
    assert result.stdout == ""
    err = result.stderr
    assert err.startswith("intraday validate: error: ")
    assert f"{path}:4:3: universe.mic: unknown key (did you mean 'mics'?)" in err
    assert f"{path}:12:22: run.memory_per_worker: '2 gigs'" in err
    assert f"{path}:22:25: passes[1].modules.generic.source: no pass is named 'bars99'" in err
    assert f"{path}:17:35: passes[0].modules.activity.tables[1]: 'l4' is not valid" in err
    # The misspelt key is reported once, not again as a missing 'mics'.
    assert "4 errors" in err


def test_yaml_syntax_error_gives_file_line_column(intraday_bin, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(textwrap.dedent("""\
        data:
          root: lake
        universe:
          mics: [XLON
        dates:
          start: 2026-03-02
        """))
    result = validate(intraday_bin, path)
    assert result.returncode == 1
    assert f"{path}:" in result.stderr
    assert "YAML syntax error" in result.stderr


def test_missing_file_is_named(intraday_bin, tmp_path):
    path = tmp_path / "absent.yaml"
    result = validate(intraday_bin, path)
    assert result.returncode == 1
    assert f"cannot read config file '{path}'" in result.stderr


def test_quickstart_pipeline_of_the_repository_validates(intraday_bin):
    result = validate(intraday_bin, REPO / "examples" / "quickstart.yaml")
    assert result.returncode == 0, result.stderr
    assert ": ok" in result.stdout
    assert "bars (1m end/right, dense): trade, l2, l2tw, l3, execution" in result.stdout
    assert "5 trading days" in result.stdout


def test_reference_pipeline_of_the_repository_validates(intraday_bin):
    # examples/pipeline.yaml is the product's reference pipeline (product.md), with its pass 2.
    result = validate(intraday_bin, REPO / "examples" / "pipeline.yaml")
    assert result.returncode == 0, result.stderr
    assert "bars15 (15m end/right, dense): generic <- bars" in result.stdout

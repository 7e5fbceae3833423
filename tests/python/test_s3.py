"""The lake read from an S3-compatible server (moto on 127.0.0.1) gives exactly what the same
files give from local disk: same rows, listings, time ranges and value digests per file."""
import json
import shutil

import pytest

from conftest import run_intraday, upload_tree

DAYS = ["2026-01-05", "2026-01-06"]


def inspect(binary, root, day, env=None):
    out = run_intraday(binary, "inspect", "--root", root, "--day", day, "--json", env=env).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture(scope="module")
def generated_lake(tmp_path_factory, intraday_bin):
    root = tmp_path_factory.mktemp("lake")
    run_intraday(intraday_bin, "generate", "--out", root, "--listings", 6, "--start", DAYS[0], "--end", DAYS[-1],
                 "--mics", "XLON,XPAR", "--profile", "tiny", "--seed", 7)
    return root


def test_generated_lake_reads_the_same_from_s3(intraday_bin, generated_lake, s3_server, s3_env):
    uploaded = upload_tree(s3_server, generated_lake, "lake-bucket", "vendor/v1")
    assert uploaded >= 2 * 2 * 5  # days x MICs x tables
    for day in DAYS:
        local = inspect(intraday_bin, str(generated_lake), day)
        remote = inspect(intraday_bin, "s3://lake-bucket/vendor/v1", day, env=s3_env)
        assert local == remote
        present = [f for f in local if not f.get("missing")]
        assert {f["table"] for f in present} >= {"trades", "l2", "l3", "marketstate", "reference"}
        assert all(f["rows"] > 0 for f in present)


def test_vendor_sample_files_read_the_same_from_s3(intraday_bin, sample_day_dir, tmp_path, s3_server, s3_env):
    # Lay the sample files out as a one-day lake (in the test's temp dir only).
    names = {"trades-plus": "Trades-Plus/XLON/2026/01/02/trades-plus-XLON-20260102.parquet",
             "l2": "Equity/XLON/2026/01/02/XLON-20260102.parquet",
             "l3": "Equity-L3/XLON/2026/01/02/l3-XLON-20260102.parquet",
             "market-state": "MarketState/XLON/2026/01/02/market-state-XLON-20260102.parquet",
             "reference": "Reference/XLON/2026/01/02/reference-XLON-20260102.parquet"}
    for name, rel in names.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_day_dir / f"{name}.parquet", tmp_path / rel)
    upload_tree(s3_server, tmp_path, "sample-bucket", "lake")
    local = inspect(intraday_bin, str(tmp_path), "2026-01-02")
    remote = inspect(intraday_bin, "s3://sample-bucket/lake", "2026-01-02", env=s3_env)
    assert local == remote
    rows = {f["table"]: f["rows"] for f in local if not f.get("missing")}
    assert rows == {"trades": 50, "l2": 50, "l3": 50, "marketstate": 9, "reference": 1}


def test_missing_bucket_is_a_clear_error(intraday_bin, s3_env):
    proc = run_intraday(intraday_bin, "inspect", "--root", "s3://no-such-bucket/x", "--day", "2026-01-02",
                        "--mic", "XLON", "--table", "trades", env=s3_env, check=False)
    assert proc.returncode == 1
    assert "intraday inspect: error:" in proc.stderr
    assert "s3://no-such-bucket/x does not exist" in proc.stderr

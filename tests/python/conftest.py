"""Shared pytest fixtures: the binary under test, a loopback S3 server, generated lakes; helpers
that read a run's outputs and reports."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DAY = REPO.parent / "shared" / "fixtures" / "sample-day"


@pytest.fixture(scope="session")
def intraday_bin() -> str:
    path = os.environ.get("INTRADAY_BIN", str(REPO / "build" / "release" / "intraday"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"intraday binary not found at {path}: build it with scripts/setup.sh or set INTRADAY_BIN")
    return path


def run_intraday(binary: str, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"intraday {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def sample_day_dir() -> Path:
    if not SAMPLE_DAY.is_dir():
        pytest.skip(f"{SAMPLE_DAY} is absent: skipping tests on the vendor sample files")
    return SAMPLE_DAY


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server on 127.0.0.1, started and stopped by the tests."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=1)
                break
            except Exception:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("moto server did not start")
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def s3_env(s3_server):
    """Environment for a child process talking to the loopback S3 server."""
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=s3_server,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def upload_tree(endpoint: str, local_root: Path, bucket: str, prefix: str) -> int:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=bucket)
    count = 0
    for path in sorted(local_root.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(local_root).as_posix()}")
            count += 1
    return count


CONFORMANCE_DAYS = ("2026-01-05", "2026-01-06")

# The engine tests' small lake (run, disk full, size estimates): Monday to Wednesday.
ENGINE_START, ENGINE_END = "2026-01-05", "2026-01-07"


def generate_engine_lake(binary: str, out: Path, layout: str = "time", row_group_rows: int = 131072,
                         end: str = ENGINE_END) -> Path:
    """12 listings on XLON and XPAR over ENGINE_START..`end`, tiny profile, listings interleaved
    by time (layout "time": sizing needs a scan of every ListingId column) or clustered ("listing")."""
    run_intraday(binary, "generate", "--out", out, "--listings", 12, "--start", ENGINE_START, "--end", end,
                 "--mics", "XLON,XPAR", "--profile", "tiny", "--seed", 11, "--layout", layout,
                 "--row-group-rows", row_group_rows)
    return out


@pytest.fixture(scope="session")
def conformance_lake(tmp_path_factory, intraday_bin) -> Path:
    """A generated lake for the conformance tests: 10 listings, 2 days, XLON and XPAR."""
    root = tmp_path_factory.mktemp("conformance-lake")
    run_intraday(intraday_bin, "generate", "--out", root, "--listings", 10, "--start", CONFORMANCE_DAYS[0],
                 "--end", CONFORMANCE_DAYS[-1], "--mics", "XLON,XPAR", "--profile", "small", "--seed", 5)
    return root


def run_pipeline(binary: str, workdir: Path, lake: Path, passes_yaml: str, days=CONFORMANCE_DAYS,
                 workers: int = 2, memory: str = "64MiB") -> Path:
    """Writes a config with the given `passes:` block (YAML text, indented as under `passes:`),
    runs it, returns the output directory."""
    config = workdir / "pipeline.yaml"
    config.write_text(
        f"data: {{root: {lake}}}\n"
        f"universe: {{mics: [XLON, XPAR]}}\n"
        f"dates: {{start: {days[0]}, end: {days[-1]}}}\n"
        f"run: {{output: {workdir / 'out'}, scratch: {workdir / 'scratch'}, workers: {workers}, "
        f"memory_per_worker: {memory}}}\n"
        f"passes:\n{passes_yaml}")
    run_intraday(binary, "run", config)
    return workdir / "out"


def lake_file(lake: Path, table: str, mic: str, day: str) -> Path:
    """The path of a table's file in a lake with the default layout."""
    folder, prefix = {"trades": ("Trades-Plus", "trades-plus-"), "l2": ("Equity", ""), "l3": ("Equity-L3", "l3-"),
                      "marketstate": ("MarketState", "market-state-"),
                      "reference": ("Reference", "reference-")}[table]
    y, m, d = day.split("-")
    return lake / folder / mic / y / m / d / f"{prefix}{mic}-{y}{m}{d}.parquet"


def day_files(out: Path, pass_name: str) -> dict:
    """A pass's day files under a run's output: relative path -> bytes (outputs compare byte for byte)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / pass_name).rglob("*.parquet"))}


def run_report(out: Path) -> dict:
    """The latest run report under a run's output (run ids sort in start order)."""
    return json.loads(sorted((out / "_runs").glob("*.json"))[-1].read_text())

"""run.output and run.scratch on S3 (moto on 127.0.0.1), the lake on local disk: the day files of
a two-pass pipeline (a `generic` pass reading the first pass's day files back from S3) are
byte-identical to the same run with local output; manifest, run report and size history are
written as objects; `--resume` skips the published days; no object is left under the scratch
prefix; a missing bucket is an error naming run.output."""
import json
from pathlib import Path

import pytest

from conftest import run_intraday

DAYS = ("2026-01-05", "2026-01-06")
PASSES = """passes:
  - name: bars
    bucket: 1m
    timeline: dense
    modules:
      trade: {}
  - name: bars15
    bucket: 15m
    modules:
      generic:
        source: bars
        resample: 15m
        group_by: [InstrumentId, TimeBucket]
        history_days: 1
        aggregations: {TradeTotalVolume: sum, Close: last, High: max}
        indicators:
          - {name: SMA, column: Close, period: 3}
"""


def write_config(path: Path, lake: Path, output: str, scratch: str, endpoint: str = "") -> Path:
    s3 = f"  endpoint_override: {endpoint}\n  region: us-east-1\n" if endpoint else ""
    # A budget of 96 KiB cuts each day into many batches, shredded into spill files.
    path.write_text(
        f"data:\n  root: {lake}\n{s3}"
        f"universe: {{mics: [XLON, XPAR]}}\n"
        f"dates: {{start: {DAYS[0]}, end: {DAYS[-1]}}}\n"
        f"run: {{output: '{output}', scratch: '{scratch}', workers: 2, memory_per_worker: 96KiB}}\n"
        f"{PASSES}")
    return path


def s3_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", region_name="us-east-1")


def objects(client, bucket: str, prefix: str) -> dict:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            out[item["Key"]] = item
    return out


def read(client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture(scope="module")
def lake(tmp_path_factory, intraday_bin):
    root = tmp_path_factory.mktemp("lake")
    run_intraday(intraday_bin, "generate", "--out", root, "--listings", 6, "--start", DAYS[0], "--end", DAYS[-1],
                 "--mics", "XLON,XPAR", "--profile", "small", "--seed", 3, "--layout", "time")
    return root


@pytest.fixture(scope="module")
def local_output(tmp_path_factory, intraday_bin, lake):
    base = tmp_path_factory.mktemp("local")
    run_intraday(intraday_bin, "run", write_config(base / "p.yaml", lake, str(base / "out"), str(base / "scratch")))
    return base / "out"


@pytest.fixture()
def env_without_endpoint(s3_env):
    """Only the config's data.endpoint_override points at the server: the driver, the workers
    (given it on their command line) and the planner must all use it."""
    env = dict(s3_env)
    env.pop("AWS_ENDPOINT_URL", None)
    return env


def day_files(local_out: Path) -> dict:
    return {p.relative_to(local_out).as_posix(): p.read_bytes()
            for p in sorted(local_out.rglob("part-*.parquet")) if not p.relative_to(local_out).as_posix().startswith("_")}


def test_s3_output_and_scratch_give_the_local_bytes_and_resume(intraday_bin, lake, local_output, s3_server,
                                                               env_without_endpoint, tmp_path):
    client = s3_client(s3_server)
    client.create_bucket(Bucket="out-bucket")
    client.create_bucket(Bucket="scratch-bucket")
    config = write_config(tmp_path / "p.yaml", lake, "s3://out-bucket/runs/v1", "s3://scratch-bucket/tmp",
                          endpoint=s3_server)
    run_intraday(intraday_bin, "run", config, env=env_without_endpoint)

    local = day_files(local_output)
    assert sorted(local) == [f"{p}/date={d}/part-00000.parquet" for p in ("bars", "bars15") for d in DAYS]
    remote = objects(client, "out-bucket", "runs/v1/")
    for name, data in local.items():
        assert read(client, "out-bucket", f"runs/v1/{name}") == data, name
    # Nothing else under the passes' folders: no staging copy, no temporary object.
    assert sorted(k for k in remote if k.startswith(("runs/v1/bars/", "runs/v1/bars15/"))) == \
        sorted(f"runs/v1/{n}" for n in local)
    assert not any("_staging" in k or ".tmp-" in k for k in remote)

    manifest = json.loads(read(client, "out-bucket", "runs/v1/_manifest.json"))
    assert set(manifest["passes"]) == {"bars", "bars15"}
    assert set(manifest["passes"]["bars15"]) == set(DAYS)
    assert manifest["passes"]["bars"][DAYS[0]]["path"] == f"s3://out-bucket/runs/v1/bars/date={DAYS[0]}"
    reports = [k for k in remote if k.startswith("runs/v1/_runs/")]
    assert len(reports) == 1
    report = json.loads(read(client, "out-bucket", reports[0]))
    assert report["status"] == "finished"
    assert any(day.get("shred") for day in report["days"])  # spill files went through S3 scratch
    assert sum(len(day["batches"]) for day in report["days"]) > 4
    assert {k.rsplit("/", 1)[-1] for k in remote if k.startswith("runs/v1/_size_history/")} >= \
        {f"{d}.json" for d in DAYS}
    assert any(k.startswith("runs/v1/_size_cache/") for k in remote)

    # Scratch: nothing left under the run's prefix (at most Arrow's marker for the root itself).
    assert [k for k in objects(client, "scratch-bucket", "") if k != "tmp/"] == []

    # A second run: refused without a flag, skips every published day with --resume.
    refused = run_intraday(intraday_bin, "run", config, env=env_without_endpoint, check=False)
    assert refused.returncode != 0 and "--resume" in refused.stderr
    run_intraday(intraday_bin, "run", config, "--resume", env=env_without_endpoint)
    after = objects(client, "out-bucket", "runs/v1/")
    for name in local:
        assert after[f"runs/v1/{name}"]["ETag"] == remote[f"runs/v1/{name}"]["ETag"]
        assert after[f"runs/v1/{name}"]["LastModified"] == remote[f"runs/v1/{name}"]["LastModified"]
    second = [k for k in after if k.startswith("runs/v1/_runs/") and k not in remote]
    assert len(second) == 1
    assert json.loads(read(client, "out-bucket", second[0]))["days"] == []

    # `plan` reads the first pass's day file from S3 to plan the generic pass.
    planned = run_intraday(intraday_bin, "plan", config, "--day", DAYS[1], "--json", env=env_without_endpoint)
    passes = json.loads(planned.stdout)["passes"]
    bars15 = [p for p in passes if p["pass"] == "bars15"][0]
    assert "skipped" not in bars15 and bars15["batches"]


@pytest.mark.parametrize("where", ["output", "scratch"])
def test_one_location_on_s3_the_other_local(intraday_bin, lake, local_output, s3_server, s3_env, tmp_path, where):
    client = s3_client(s3_server)
    bucket = f"mixed-{where}"
    client.create_bucket(Bucket=bucket)
    output = f"s3://{bucket}/out" if where == "output" else str(tmp_path / "out")
    scratch = f"s3://{bucket}/scratch" if where == "scratch" else str(tmp_path / "scratch")
    run_intraday(intraday_bin, "run", write_config(tmp_path / "p.yaml", lake, output, scratch), env=s3_env)
    for name, data in day_files(local_output).items():
        got = read(client, bucket, f"out/{name}") if where == "output" else (tmp_path / "out" / name).read_bytes()
        assert got == data, name
    if where == "output":
        assert not (tmp_path / "scratch").exists() or not any((tmp_path / "scratch").iterdir())
    else:
        assert [k for k in objects(client, bucket, "scratch/") if k != "scratch/"] == []
        assert not (tmp_path / "out" / "_staging").exists()


def test_force_on_s3_replaces_the_day_objects(intraday_bin, lake, local_output, s3_server, s3_env, tmp_path):
    client = s3_client(s3_server)
    client.create_bucket(Bucket="force-bucket")
    config = write_config(tmp_path / "p.yaml", lake, "s3://force-bucket/out", "s3://force-bucket/scratch")
    run_intraday(intraday_bin, "run", config, env=s3_env)
    name = f"bars/date={DAYS[0]}/part-00000.parquet"
    client.put_object(Bucket="force-bucket", Key=f"out/{name}", Body=b"stale")
    run_intraday(intraday_bin, "run", config, "--force", env=s3_env)
    assert read(client, "force-bucket", f"out/{name}") == (local_output / name).read_bytes()
    assert not any(k.startswith("scratch/") and k != "scratch/" for k in objects(client, "force-bucket", ""))


def test_missing_output_bucket_is_an_error_naming_run_output(intraday_bin, lake, s3_env, tmp_path):
    config = write_config(tmp_path / "p.yaml", lake, "s3://no-such-output-bucket/x", str(tmp_path / "scratch"))
    proc = run_intraday(intraday_bin, "run", config, env=s3_env, check=False)
    assert proc.returncode != 0
    assert "run.output (s3://no-such-output-bucket/x)" in proc.stderr
    assert "no-such-output-bucket" in proc.stderr and "does not exist" in proc.stderr


def test_missing_scratch_bucket_is_an_error_naming_run_scratch(intraday_bin, lake, s3_env, tmp_path):
    config = write_config(tmp_path / "p.yaml", lake, str(tmp_path / "out"), "s3://no-such-scratch-bucket")
    proc = run_intraday(intraday_bin, "run", config, env=s3_env, check=False)
    assert proc.returncode != 0
    assert "run.scratch (s3://no-such-scratch-bucket)" in proc.stderr


def test_validate_accepts_s3_output_and_rejects_one_without_bucket(intraday_bin, lake, tmp_path):
    ok = write_config(tmp_path / "ok.yaml", lake, "s3://bucket/out", "s3://bucket/scratch", endpoint="http://127.0.0.1:1")
    assert "s3://bucket/out" in run_intraday(intraday_bin, "validate", ok).stdout
    bad = write_config(tmp_path / "bad.yaml", lake, "s3:///out", str(tmp_path / "scratch"))
    proc = run_intraday(intraday_bin, "validate", bad, check=False)
    assert proc.returncode != 0
    assert "run.output" in proc.stderr and "names no bucket" in proc.stderr

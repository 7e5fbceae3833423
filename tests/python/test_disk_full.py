"""Disk full in scratch or output (product.md): the run stops with an error naming the path and
"no space left on device", nothing partial is visible under the output, the days published before
stay valid, the day's scratch is removed, and `run --resume` later gives the uninterrupted output.

The full disk is real: a small tmpfs mounted, as scratch or output, in a user and mount namespace
of its own (`unshare --user --map-root-user --mount`, no privileges needed where the kernel allows
unprivileged user namespaces), filled with a filler file and then given exactly the free space
that makes a chosen write fail with ENOSPC (docs/engine.md, "Disk full")."""
import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

import conftest
from conftest import ENGINE_END as END, ENGINE_START as START, generate_engine_lake, run_intraday

PAGE = 4096  # tmpfs allocates whole pages: directories cost nothing, a file ceil(size / PAGE) pages

# What each scenario runs out of space for, with the run failing on the second day.
#   disk: which of scratch/output is on the small tmpfs
#   memory: the budget (96KiB: several batches, shredded; 4GiB: one batch, read directly, whose
#           worker writes the day's file itself)
#   free: bytes left free on the tmpfs ("day2" = exactly the pages of the second day's Parquet file)
#   expect: what the error must say besides "no space left on device" and the location
SCENARIOS = {
    "spill_file": dict(disk="scratch", memory="96KiB", free=0, expect=["cannot write spill file"]),
    # The driver's task file fits, the worker's result file does not.
    "worker_result": dict(disk="scratch", memory="4GiB", free=PAGE, expect=["worker exit code 4: cannot write",
                                                                           ".result.json"]),
    # A day of one batch: its worker writes the day's file, into the output's staging directory.
    "worker_day_file": dict(disk="output", memory="4GiB", free=0,
                            expect=["worker exit code 5: cannot write", "date=2026-01-06/part-00000.parquet"]),
    # Several batches: the driver writes the day's file from their outputs, and fails as the first
    # is handed over while batch 1's worker is still held (exec/pipeline_runner.cc RunTasks: every
    # worker is stopped before the scratch is removed).
    "driver_day_file": dict(disk="output", memory="96KiB", free=0,
                            expect=["writing ", "_staging/", "date=2026-01-06/part-00000.parquet"],
                            env={"INTRADAY_TEST_WORKER_DELAY_MS": "1500", "INTRADAY_TEST_WORKER_DELAY_DAY": "2026-01-06",
                                 "INTRADAY_TEST_WORKER_DELAY_BATCH": "1"}),
    "manifest": dict(disk="output", memory="4GiB", free="day2", expect=["_manifest.json"]),
    # A day in time slices whose output rows are set aside in scratch between slices: the task
    # file fits, the first slice's rows do not.
    "slice_output": dict(disk="scratch", memory="4GiB", free=PAGE, run=", time_slice: 64KiB",
                         expect=["worker exit code 4: cannot write", "time slices' output rows", ".slices)"]),
}

SCRIPT = r"""
set -u
mount -t tmpfs -o size=16m tmpfs "$DISK" || exit 90
mkdir -p "$SNAP"
step() { name=$1; shift; "$@" > "$SNAP/$name.out" 2> "$SNAP/$name.err"; echo $? > "$SNAP/$name.rc"; }
step first "$BIN" run "$CONFIG" --end 2026-01-05 --progress never
# The size-cache entries of the days left now, so that planning them later (the third while the
# second runs: run.overlap_days) writes nothing to the disk.
step plan "$BIN" plan "$CONFIG" --day 2026-01-06
step plan3 "$BIN" plan "$CONFIG" --day 2026-01-07
dd if=/dev/zero of="$DISK/filler" bs=4096 2>/dev/null
truncate -s "-$FREE" "$DISK/filler"
step full "$BIN" run "$CONFIG" --resume --progress never
# No worker outlives the run: one still running would write into the scratch just removed.
pgrep -f -- "$SCRATCH/" > "$SNAP/orphans"
sleep 0.3
cp -a "$OUT" "$SNAP/out-after-failure"
cp -a "$SCRATCH" "$SNAP/scratch-after-failure"
rm "$DISK/filler"
step resumed "$BIN" run "$CONFIG" --resume --progress never
cp -a "$OUT" "$SNAP/out-final"
"""


def write_config(path: Path, lake: Path, out: Path, scratch: Path, memory: str, run: str = "") -> Path:
    path.write_text(f"""
data: {{root: {lake}}}
universe: {{mics: [XLON, XPAR]}}
dates: {{start: {START}, end: {END}}}
run: {{output: {out}, scratch: {scratch}, workers: 2, memory_per_worker: {memory}, retries: 2{run}}}
passes:
  - name: activity
    bucket: 1m
    timeline: dense
    modules:
      activity: {{tables: [trades, l2, l3]}}
""")
    return path


def day_files(out: Path):
    return conftest.day_files(out, "activity")


@pytest.fixture(scope="module")
def tmpfs_in_namespace(tmp_path_factory):
    """Skips the module unless this machine lets an unprivileged process mount a tmpfs in its own
    user and mount namespace (some kernels or containers forbid user namespaces)."""
    if shutil.which("unshare") is None:
        pytest.skip("disk-full tests need unshare (util-linux) to mount a small tmpfs")
    probe = tmp_path_factory.mktemp("probe")
    proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           f"mount -t tmpfs -o size=1m tmpfs {probe} && touch {probe}/x"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("disk-full tests need a tmpfs mounted in a user+mount namespace, which this machine "
                    f"does not permit: {proc.stderr.strip()}")


@pytest.fixture(scope="module")
def lake(tmp_path_factory, intraday_bin):
    return generate_engine_lake(intraday_bin, tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, intraday_bin, lake):
    base = tmp_path_factory.mktemp("reference")
    run_intraday(intraday_bin, "run", write_config(base / "p.yaml", lake, base / "out", base / "scratch", "4GiB"))
    return base / "out"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_disk_full_stops_cleanly_and_resume_completes(intraday_bin, tmpfs_in_namespace, lake, reference, tmp_path,
                                                      scenario):
    spec = SCENARIOS[scenario]
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / "out" if spec["disk"] == "output" else tmp_path / "out"
    scratch = disk / "scratch" if spec["disk"] == "scratch" else tmp_path / "scratch"
    config = write_config(tmp_path / "p.yaml", lake, out, scratch, spec["memory"], spec.get("run", ""))
    free = spec["free"]
    if free == "day2":  # the day's file fits, the manifest written after it does not
        size = (reference / "activity" / "date=2026-01-06" / "part-00000.parquet").stat().st_size
        free = math.ceil(size / PAGE) * PAGE
    snap = tmp_path / "snap"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "BIN": intraday_bin, "CONFIG": str(config), "DISK": str(disk),
           "OUT": str(out), "SCRATCH": str(scratch), "SNAP": str(snap), "FREE": str(free), **spec.get("env", {})}
    proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "bash", "-c", SCRIPT],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rc = {step: int((snap / f"{step}.rc").read_text()) for step in ("first", "plan", "plan3", "full", "resumed")}
    err = {step: (snap / f"{step}.err").read_text() for step in rc}
    assert rc["first"] == 0 and rc["plan"] == 0 and rc["plan3"] == 0, err

    # The run stops with the path and the reason.
    assert rc["full"] == 1, err["full"]
    message = err["full"]
    assert "no space left on device" in message, message
    location = f"run.{spec['disk']} ({scratch if spec['disk'] == 'scratch' else out})"
    assert f"no space left on device in {location}" in message, message
    for expected in spec["expect"]:
        assert expected in message, message
    assert "--resume" in message, message

    # Nothing partial under the output; the first day stays published and recorded.
    after = snap / "out-after-failure"
    published = day_files(after)
    expected_days = ["2026-01-05", "2026-01-06"] if scenario == "manifest" else ["2026-01-05"]
    assert sorted(published) == [f"activity/date={d}/part-00000.parquet" for d in expected_days]
    for name, data in published.items():  # whatever is visible is complete
        assert data == (reference / name).read_bytes(), name
    manifest = json.loads((after / "_manifest.json").read_text())
    assert list(manifest["passes"]["activity"]) == ["2026-01-05"]  # the failed day is not recorded
    assert not (after / "_staging").exists()
    leftovers = [p for p in after.rglob("*") if ".tmp-" in p.name or p.name.endswith(".partial")]
    assert leftovers == []
    # No worker was left running, and the day's scratch (spill files, task files, batch outputs)
    # is gone.
    assert (snap / "orphans").read_text() == "", "workers outlived the failed run"
    assert list((snap / "scratch-after-failure").iterdir()) == []

    # Once there is space again, --resume completes the range with the uninterrupted output.
    assert rc["resumed"] == 0, err["resumed"]
    final = snap / "out-final"
    assert day_files(final) == day_files(reference)
    assert list(json.loads((final / "_manifest.json").read_text())["passes"]["activity"]) == [START, "2026-01-06", END]

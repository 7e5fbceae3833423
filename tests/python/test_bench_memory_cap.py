"""bench/_util.py's memory cap (compare.py --memory-cap): a measured run in a memory cgroup of its
own, the OOM killer's verdict reported. Needs write access to this process's memory cgroup (root,
or a delegated subtree); skipped otherwise."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import _util  # noqa: E402

MiB = 2**20


def _cap(limit: int, name: str) -> _util.MemoryCap:
    try:
        return _util.MemoryCap(limit, name)
    except RuntimeError as e:
        pytest.skip(f"no memory cgroup to test with: {e}")


def _measure_allocating(mib: int, cap: _util.MemoryCap, tmp_path: Path) -> _util.Measurement:
    """A child that allocates and writes `mib` MiB (bytes * n writes every byte: the pages are
    resident, as a calloc'd buffer's would not be), measured in `cap`, which is then removed."""
    command = [sys.executable, "-c", f"x = b'x' * ({mib} << 20); print(len(x))"]
    with cap:
        return _util.measure(command, log=tmp_path / "stderr.log", timeout=120, cap=cap)


def test_a_run_above_the_cap_is_ended_and_reported_as_out_of_memory(tmp_path):
    m = _measure_allocating(400, _cap(96 * MiB, "intraday-test-cap-above"), tmp_path)
    assert not m.ok
    assert m.rc == -9
    assert m.oom_kills >= 1
    assert "out of memory" in m.error
    assert m.cgroup_peak <= 96 * MiB


def test_a_run_below_the_cap_finishes_and_its_peak_is_the_cgroups(tmp_path):
    cap = _cap(256 * MiB, "intraday-test-cap-below")
    m = _measure_allocating(64, cap, tmp_path)
    assert m.ok, m.error
    assert m.oom_kills == 0
    assert m.stdout.strip() == str(64 * MiB)
    assert 64 * MiB <= m.cgroup_peak <= 256 * MiB
    assert not cap.path.exists()  # removed once its process is gone

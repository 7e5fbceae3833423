"""bench/_util.py's description of how the machine hands memory back (memory_reclaim): what the
benchmark reports print beside their figures, read here from a made-up /sys tree; the interval
that bench/ab.py gives a ratio of medians (median_ratio_interval); and the pipeline it writes
with a replacement pass (write_pipeline)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import _util  # noqa: E402


def _sys_tree(root: Path, thp: str | None, reporting: dict[str, str] | None) -> Path:
    if thp is not None:
        (root / "kernel/mm/transparent_hugepage").mkdir(parents=True)
        (root / "kernel/mm/transparent_hugepage/enabled").write_text(thp)
    if reporting is not None:
        params = root / "module/page_reporting/parameters"
        params.mkdir(parents=True)
        for key, value in reporting.items():
            (params / key).write_text(value)
    return root


def test_a_virtual_machine_reporting_free_memory_is_described_with_its_settings(tmp_path):
    root = _sys_tree(tmp_path, "always [madvise] never\n",
                     {"page_reporting_order": "9\n", "min_free_ms": "0\n", "reported_kib": "7340032\n",
                      "passes": "12\n"})
    facts = _util.memory_reclaim(root)
    assert facts == {"thp": "madvise",
                     "page_reporting": {"page_reporting_order": 9, "min_free_ms": 0, "reported_kib": 7340032}}
    assert _util.reported_kib(root) == 7340032
    text = _util.describe_memory_reclaim(facts, reported_during=3 * 1024)
    assert text == ("transparent huge pages: madvise; free memory reported to the host in free blocks of "
                    "2048 KiB and more once free for 0 ms (3 MiB reported during these runs)")


def test_a_machine_without_page_reporting_says_so(tmp_path):
    root = _sys_tree(tmp_path, "[always] madvise never\n", None)
    facts = _util.memory_reclaim(root)
    assert facts == {"thp": "always"}
    assert _util.reported_kib(root) is None
    assert _util.describe_memory_reclaim(facts) == ("transparent huge pages: always; "
                                                    "no free page reporting to a host")


def test_unreadable_values_are_left_out(tmp_path):
    root = _sys_tree(tmp_path, None, {"page_reporting_order": "nine\n", "reported_kib": "100\n"})
    assert _util.memory_reclaim(root) == {"page_reporting": {"reported_kib": 100}}


def test_the_interval_of_a_median_ratio_holds_the_ratio_and_is_reproducible():
    base = [3.0, 3.1, 3.2, 2.9, 3.05, 3.15, 2.95]
    faster = [b * 0.8 for b in base]
    low, high = _util.median_ratio_interval(base, faster)
    assert low <= 0.8 <= high and high < 1.0, (low, high)  # a real difference: 1.0 left out
    assert _util.median_ratio_interval(base, faster) == (low, high)  # a fixed seed
    same_low, same_high = _util.median_ratio_interval(base, list(reversed(base)))
    assert same_low < 1.0 < same_high  # the same runs: no difference
    noisy = [3.0, 4.8, 3.1, 2.9, 4.3, 3.2]
    wide = _util.median_ratio_interval(noisy, [x * 0.93 for x in noisy])
    assert wide[1] - wide[0] > high - low  # noisier runs, a wider interval


def test_compare_passes_intraday_settings_to_its_pipeline(tmp_path, monkeypatch):
    import compare

    monkeypatch.setattr(sys, "argv", ["compare.py", "--intraday-set", "time_slice=128MiB",
                                      "--intraday-set", "workers=1", "--report", str(tmp_path)])
    args = compare.parse_args()
    assert args.intraday_run == {"time_slice": "128MiB", "workers": "1"}
    command = compare.engine_command("intraday", args, tmp_path / "lake", ["2026-03-02"], tmp_path)
    config = (tmp_path / "pipeline.yaml").read_text()
    assert command[1:3] == ["run", str(tmp_path / "pipeline.yaml")]
    assert "time_slice: 128MiB" in config
    assert "workers: 1," in config and "workers: 2" not in config  # a setting replaces the default


def test_compare_refuses_a_setting_without_a_value(tmp_path, monkeypatch, capsys):
    import compare

    monkeypatch.setattr(sys, "argv", ["compare.py", "--intraday-set", "time_slice"])
    with pytest.raises(SystemExit) as exit_:
        compare.parse_args()
    assert exit_.value.code == 2
    assert "--intraday-set: expected KEY=VALUE" in capsys.readouterr().err


def test_smaps_peak_gives_the_peak_and_the_resident_memory_over_time():
    # bench/smaps_peak.py on a process that holds 200 MiB for a moment: the peak counts it, and
    # --timeline prints "seconds:MB" samples that rise to it.
    import subprocess
    script = Path(__file__).resolve().parents[2] / "bench" / "smaps_peak.py"
    holder = "x = bytearray(200 << 20); import time; time.sleep(0.3)"
    out = subprocess.run([sys.executable, str(script), "--timeline", sys.executable, "-c", holder],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    samples = [tuple(float(v) for v in item.split(":")) for item in out[0].split()]
    peak = int(out[1].split()[1])
    assert peak >= 200, out
    assert max(mb for _, mb in samples) >= 190 and samples == sorted(samples, key=lambda s: s[0]), out


def test_the_benchmark_pipeline_takes_a_replacement_pass_that_intraday_accepts(intraday_bin, tmp_path):
    """bench/ab.py's `pass=FILE` (a module's or a column's cost measured by leaving it out): the
    pipeline written with FILE's passes instead of the benchmark pass validates, and names the
    replacement's modules only."""
    import subprocess

    passes = _util.PASS_YAML.replace("l2: {levels: 5}", "l2: {levels: 5, metrics: [price, spread_bps]}")
    assert passes != _util.PASS_YAML
    config = tmp_path / "p.yaml"
    _util.write_pipeline(config, tmp_path / "lake", ["2026-03-02"], tmp_path / "out", tmp_path / "scratch", 2,
                         "1GiB", {"time_slice": "128MiB"}, passes)
    text = config.read_text()
    assert "metrics: [price, spread_bps]" in text and "time_slice: 128MiB" in text
    assert text.count("passes:") == 1
    proc = subprocess.run([intraday_bin, "validate", str(config)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    _util.write_pipeline(config, tmp_path / "lake", ["2026-03-02"], tmp_path / "out", tmp_path / "scratch", 2,
                         "1GiB")
    assert "l2: {levels: 5}\n" in config.read_text()

"""Saved runs, the SQLite history and --compare, in a temporary data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigcheck.runs import history
from rigcheck.runs.results import SCHEMA_VERSION, BenchRun, Figure, Machine, Skipped, Target


def make_run(at: str, gemm: float, fp: str = "abc123", n: int = 2048, **kw) -> BenchRun:
    return BenchRun(
        machine=Machine(fingerprint=fp, cpu_model="Test CPU", cpu_cores=2),
        started_at=at,
        results=[Figure("gemm-fp32", gemm, "GFLOP/s", label="GEMM fp32", cv_pct=1.0, runs=10,
                        params={"n": n}),
                 Figure("mem-copy", 20.0, "GB/s")],
        targets=[Target("lenet5-mnist", samples_per_s=100.0)],
        skipped=[Skipped("gemm-tf32", "not on a CPU")],
        **kw,
    )


def test_json_round_trip_keeps_every_field() -> None:
    run = make_run("2026-11-01T10:00:00+00:00", 300.0, interrupted=True)
    data = json.loads(json.dumps(run.to_dict()))
    assert list(data)[0] == "schema" and data["schema"] == SCHEMA_VERSION
    assert {"machine", "results", "targets", "skipped"} <= set(data)
    assert data["results"][0]["name"] == "gemm-fp32"
    assert data["results"][0]["unit"] == "GFLOP/s"
    for key in ("value", "expected", "pct_expected", "pct_peak", "median_s", "cv_pct", "verdict"):
        assert key in data["results"][0]
    assert data["skipped"] == [{"name": "gemm-tf32", "reason": "not on a CPU"}]
    back = BenchRun.from_dict({**data, "unknown_future_key": 1})
    assert back == run


def test_from_dict_rejects_another_schema() -> None:
    with pytest.raises(ValueError, match="schema"):
        BenchRun.from_dict({"schema": 99})


def test_figure_percentages() -> None:
    f = Figure("gemm-fp32", 150.0, "GFLOP/s")
    f.set_expected(200.0, "model")
    f.set_peak(300.0, "spec")
    assert (f.pct_expected, f.pct_peak) == (75.0, 50.0)
    f.set_peak(None, "unknown")
    assert f.pct_peak == 50.0    # an unknown peak leaves the figure as it was


def test_save_then_compare_says_slower_with_date(tmp_path: Path) -> None:
    path, problem = history.save_run(make_run("2026-11-01T10:00:00+00:00", 400.0), tmp_path)
    assert problem is None and path is not None and path.is_file()
    assert json.loads(path.read_text())["results"][0]["value"] == 400.0
    now = make_run("2026-11-25T10:00:00+00:00", 352.0)
    changes = {c.name: c for c in history.compare(now, tmp_path)}
    assert changes["gemm-fp32"].pct == pytest.approx(-12.0)
    assert changes["gemm-fp32"].words == "GEMM fp32: 12% slower than the run of 2026-11-01 10:00 UTC"
    assert changes["mem-copy"].words.startswith("mem-copy: about the same as the run of 2026-11-01")


@pytest.mark.parametrize("before, now, says", [
    ("ok", "ok", ""),
    ("noisy: CV 97%", "ok", " (not trustworthy: the earlier run is noisy)"),
    ("ok", "too short: 1 run", " (not trustworthy: this run is too short)"),
    ("noisy: CV 40%", "noisy: CV 30%", " (not trustworthy: both runs are noisy)"),
])
def test_compare_flags_a_noisy_pair(tmp_path: Path, before: str, now: str, says: str) -> None:
    old = make_run("2026-11-01T09:30:05+00:00", 400.0)
    old.results[0].verdict = before
    history.save_run(old, tmp_path)
    new = make_run("2026-11-01T17:45:00+00:00", 200.0)
    new.results[0].verdict = now
    (c,) = [c for c in history.compare(new, tmp_path) if c.name == "gemm-fp32"]
    assert c.words == "GEMM fp32: 50% slower than the run of 2026-11-01 09:30 UTC" + says


def test_compare_uses_the_latest_earlier_run_of_the_same_machine(tmp_path: Path) -> None:
    history.save_run(make_run("2026-11-01T10:00:00+00:00", 100.0), tmp_path)
    history.save_run(make_run("2026-11-10T10:00:00+00:00", 200.0), tmp_path)
    history.save_run(make_run("2026-11-12T10:00:00+00:00", 999.0, fp="other-machine"), tmp_path)
    (c,) = [c for c in history.compare(make_run("2026-11-20T00:00:00+00:00", 300.0), tmp_path)
            if c.name == "gemm-fp32"]
    assert c.before == 200.0 and c.before_at.startswith("2026-11-10")
    assert c.words.startswith("GEMM fp32: 50% faster than the run of 2026-11-10 ")


def test_compare_skips_a_figure_measured_at_another_size(tmp_path: Path) -> None:
    history.save_run(make_run("2026-11-01T10:00:00+00:00", 100.0, n=1024), tmp_path)
    history.save_run(make_run("2026-11-02T10:00:00+00:00", 150.0, n=2048), tmp_path)
    changes = history.compare(make_run("2026-11-20T00:00:00+00:00", 300.0, n=1024), tmp_path)
    (c,) = [c for c in changes if c.name == "gemm-fp32"]
    assert c.before == 100.0          # the 2048 run is newer but not like for like


def test_no_history_means_no_changes(tmp_path: Path) -> None:
    assert history.compare(make_run("2026-11-20T00:00:00+00:00", 1.0), tmp_path) == []


def test_two_runs_in_one_second_keep_both_files(tmp_path: Path) -> None:
    a, _ = history.save_run(make_run("2026-11-01T10:00:00+00:00", 1.0), tmp_path)
    b, _ = history.save_run(make_run("2026-11-01T10:00:00+00:00", 2.0), tmp_path)
    assert a != b and a.is_file() and b.is_file()


def test_unwritable_data_dir_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")          # a file where the folder should be: mkdir must fail
    path, problem = history.save_run(make_run("2026-11-01T10:00:00+00:00", 1.0), blocker)
    assert path is None
    assert problem is not None and "could not save this run" in problem
    assert "RIGCHECK_DATA_DIR" in problem


def test_write_atomic_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "run.json"
    history.write_atomic(target, "one")
    history.write_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["run.json"]

"""``rigcheck bench`` through typer's CliRunner, on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")

from rigcheck.ui.app import app  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RIGCHECK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def invoke(*args: str):
    # --time-scale (hidden) shortens every timing budget so the suite stays fast.
    return CliRunner().invoke(app, ["bench", "--time-scale", "0.1", *args])


def test_quick_json_only_gemm_fp32(data_dir: Path) -> None:
    res = invoke("--quick", "--json", "--only", "gemm-fp32")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["schema"] == 1 and data["mode"] == "quick"
    (fig,) = data["results"]
    assert fig["name"] == "gemm-fp32" and fig["unit"] == "GFLOP/s" and fig["value"] > 0
    assert fig["verdict"] == "ok" or fig["verdict"].startswith(("noisy", "too short"))
    assert fig["pct_peak"] is None or fig["pct_peak"] > 0
    assert data["machine"]["device"] == "cpu"
    # saved as JSON and in the SQLite history
    saved = Path(data["saved"])
    assert saved.is_file() and saved.is_relative_to(data_dir)
    assert (data_dir / "bench" / "history.sqlite").is_file()
    assert json.loads(saved.read_text())["results"][0]["value"] == fig["value"]


def test_compare_after_two_runs_and_human_output(data_dir: Path) -> None:
    assert invoke("--only", "mem-copy", "--json").exit_code == 0
    res = invoke("--only", "mem-copy", "--compare")
    assert res.exit_code == 0, res.output
    assert "Memory copy" in res.stdout
    assert "Compared with earlier runs on this machine" in res.stdout
    assert "mem-copy: " in res.stdout
    assert (" than the run of " in res.stdout) or ("same as the run of" in res.stdout)


def test_gpu_only_figures_are_skipped_with_reason_on_cpu(data_dir: Path) -> None:
    res = invoke("--only", "h2d-*", "--only", "gemm-fp16", "--json", "--no-save")
    assert res.exit_code == 1      # nothing could be measured
    data = json.loads(res.stdout)
    assert data["results"] == [] and data["saved"] is None
    reasons = {s["name"]: s["reason"] for s in data["skipped"]}
    assert "no CUDA GPU" in reasons["h2d-pinned"] and "no CUDA GPU" in reasons["h2d-pageable"]
    assert "gemm-fp16" in reasons


def test_unknown_only_name_is_a_usage_error(data_dir: Path) -> None:
    res = invoke("--only", "gemm-fp64")
    assert res.exit_code == 2
    assert "--only gemm-fp64: no such figure" in res.output
    assert "Traceback" not in res.output


def test_bad_data_dir_and_device_are_usage_errors(tmp_path: Path, data_dir: Path) -> None:
    res = invoke("--data-dir", str(tmp_path / "missing"))
    assert res.exit_code == 2 and "not a directory" in res.output
    res = invoke("--device", "tpu")
    assert res.exit_code == 2 and "--device 'tpu'" in res.output


def test_read_only_data_dir_warns_and_still_prints(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("RIGCHECK_DATA_DIR", str(blocker))
    res = invoke("--only", "mem-copy")
    assert res.exit_code == 0
    assert "Memory copy" in res.stdout
    assert "could not save this run" in res.stderr


def test_disk_read_of_a_named_data_dir(tmp_path: Path, data_dir: Path) -> None:
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "shard.bin").write_bytes(b"\0" * (2 << 20))
    res = invoke("--only", "disk-read", "--data-dir", str(dataset), "--json")
    assert res.exit_code == 0, res.output
    (fig,) = json.loads(res.stdout)["results"]
    assert fig["name"] == "disk-read" and fig["unit"] == "MB/s" and fig["value"] > 0


def test_interrupted_run_prints_what_was_measured_and_exits_130(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rigcheck.bench import runner
    from rigcheck.runs.results import BenchRun, Figure, Machine, Skipped

    def fake_suite(options, progress=None):
        run = BenchRun(machine=Machine(fingerprint="fp", cpu_model="Fake CPU", threads=2),
                       started_at="2026-11-25T10:00:00+00:00", interrupted=True)
        run.results.append(Figure("gemm-fp32", 123.0, "GFLOP/s", label="GEMM fp32",
                                  note="measured [bold]literally[/bold]"))
        run.skipped.append(Skipped("train-x", "out of memory (tried [4, 2])"))
        return run

    monkeypatch.setattr(runner, "run_suite", fake_suite)
    res = invoke()
    assert res.exit_code == 130
    assert "123 GFLOP/s" in res.stdout
    assert "Interrupted" in res.stdout
    # measured text is shown as written, not read as rich markup
    assert "measured [bold]literally[/bold]" in res.stdout
    assert "tried [4, 2]" in res.stdout

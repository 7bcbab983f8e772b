"""``rigcheck probe`` through typer's CliRunner."""

from __future__ import annotations

import errno
import json
import sys
import tempfile

import pytest
from typer.testing import CliRunner

from rigcheck import facts as F
from rigcheck.ui.app import app
from rigcheck.ui.probe_cmd import _umask
from tests.fakenvml import FakeNvml

runner = CliRunner()


@pytest.fixture(scope="module")
def real_json():
    result = runner.invoke(app, ["probe", "--json"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_probe_json_on_this_machine(real_json):
    facts = F.from_json(real_json)
    assert facts.schema_version == F.SCHEMA_VERSION and facts.redacted is True
    if not facts.nvml.available:  # this CI box has no GPU
        assert facts.nvml.error and facts.nvml.error.startswith("NVML_ERROR_")
    assert facts.torch.error is None
    if facts.torch.installed:
        assert facts.torch.version
        if "+cpu" in facts.torch.version:
            assert facts.torch.cuda_build is None and facts.torch.cuda_available is False
    assert facts.host.os and facts.host.ram_total_gb
    assert facts.host.hostname == "<host>"
    assert F.from_json(F.to_json(facts)) == facts


def fake_collect(monkeypatch, scenario="h100_sxm_8x"):
    """Replace the slow real probe with fake GPUs and a stubbed torch child."""
    import rigcheck.probe.collect as collect

    FakeNvml(scenario).install(monkeypatch)
    real = collect.collect_facts

    def quick(**kw):
        torch = lambda: F.TorchFacts(installed=True, version="2.4.1+cu121", cuda_build="12.1")  # noqa: E731
        return real(**kw, sources={"torch": torch})

    monkeypatch.setattr(collect, "collect_facts", quick)


def test_probe_writes_file_atomically(monkeypatch, tmp_path):
    fake_collect(monkeypatch)
    out = tmp_path / "facts.json"
    result = runner.invoke(app, ["probe", "-o", str(out), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    facts = F.from_json(out.read_text())
    assert facts.nvml.gpu_count == 8
    assert facts.host.disks[-1].path == str(tmp_path)
    assert "rigcheck doctor --facts" in result.stderr and result.stdout == ""  # the file is the output
    assert [p.name for p in tmp_path.iterdir()] == ["facts.json"]  # no temp file left
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not mkstemp's 0600


def test_probe_json_and_output_writes_the_file_without_echoing_it(monkeypatch, tmp_path):
    fake_collect(monkeypatch)
    out = tmp_path / "f.json"
    result = runner.invoke(app, ["probe", "--json", "-o", str(out), "--no-redact"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(out.read_text())["redacted"] is False
    assert json.loads(out.read_text())["schema"] == F.SCHEMA_VERSION


def test_unwritable_output_is_one_line_exit_2(monkeypatch, tmp_path):
    fake_collect(monkeypatch)

    def read_only(*a, **kw):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    result = runner.invoke(app, ["probe", "-o", str(tmp_path / "f.json")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: cannot write {tmp_path / 'f.json'}: Read-only file system"


def test_output_into_missing_folder_creates_it(monkeypatch, tmp_path):
    fake_collect(monkeypatch)
    result = runner.invoke(app, ["probe", "-o", str(tmp_path / "nope" / "f.json")])
    assert result.exit_code == 0, result.output
    assert F.from_json((tmp_path / "nope" / "f.json").read_text()).nvml.gpu_count == 8


def test_output_under_a_file_is_one_line_exit_2(monkeypatch, tmp_path):
    fake_collect(monkeypatch)
    (tmp_path / "plain").write_text("x")
    result = runner.invoke(app, ["probe", "-o", str(tmp_path / "plain" / "f.json")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("env, template, name", [
    ({}, "{host}.json", "node07.json"),                       # the short name, as Slurm's %N
    ({"SLURM_PROCID": "5"}, "r{rank}-{host}.json", "r5-node07.json"),
    ({"RANK": "2", "SLURM_PROCID": "9"}, "{rank}.json", "2.json"),   # torchrun's RANK first
])
def test_output_placeholders(monkeypatch, tmp_path, env, template, name):
    import socket

    fake_collect(monkeypatch)
    monkeypatch.setattr(socket, "gethostname", lambda: "node07.cluster.example")
    for var in ("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    result = runner.invoke(app, ["probe", "-o", str(tmp_path / template)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("template, says", [
    ("{rank}.json", "needs a launcher's rank variable"),
    ("{node}.json", "unknown placeholder {node}"),
    ("{host.json", "stray brace"),
])
def test_bad_placeholder_is_one_line_exit_2(monkeypatch, tmp_path, template, says):
    fake_collect(monkeypatch)
    for var in ("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        monkeypatch.delenv(var, raising=False)
    result = runner.invoke(app, ["probe", "-o", str(tmp_path / template)])
    assert result.exit_code == 2 and says in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "-1", "601"])
def test_bad_timeout(value):
    result = runner.invoke(app, ["probe", "--timeout", value])
    assert result.exit_code == 2
    assert f"--timeout must be more than 0 and at most 600 seconds, got {value}" in result.stderr


def test_summary_shows_gpus_and_problems(monkeypatch):
    fake_collect(monkeypatch, "throttling")
    result = runner.invoke(app, ["probe"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "NVIDIA RTX A6000" in out and "sm_86" in out
    assert "SwPowerCap" in out and "torch 2.4.1+cu121 (CUDA 12.1)" in out
    assert "redacted" in out


@pytest.mark.parametrize(
    ("scenario", "text"),
    [("h100_8x_one_lost", "3: GPU is lost"),
     ("driver_mismatch", "NVML unavailable: NVML_ERROR_LIB_RM_VERSION_MISMATCH")],
)
def test_summary_for_lost_gpu_and_driver_mismatch(monkeypatch, scenario, text):
    fake_collect(monkeypatch, scenario)
    result = runner.invoke(app, ["probe"])
    assert result.exit_code == 0, result.output
    assert text in result.stdout


def test_python_option_probes_another_interpreter(tmp_path):
    # An interpreter that cannot see site-packages stands for an env without torch.
    wrapper = tmp_path / "python-without-torch"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -I -S "$@"\n')
    wrapper.chmod(0o755)
    result = runner.invoke(app, ["probe", "--json", "--no-redact", "--python", str(wrapper)])
    assert result.exit_code == 0, result.output
    facts = F.from_json(result.stdout)
    assert facts.torch.installed is False and facts.torch.error is None
    assert facts.torch.python_executable == sys.executable  # what the child itself reported
    assert facts.host.os  # the rest of the probe ran as usual


def test_python_option_must_exist():
    result = runner.invoke(app, ["probe", "--python", "/nonexistent/python9"])
    assert result.exit_code == 2
    assert "--python /nonexistent/python9: no such executable" in result.stderr


def test_summary_says_which_interpreter_had_torch():
    from rigcheck.ui.probe_cmd import _torch_lines

    t = F.TorchFacts(installed=True, version="2.5.1+cu124", cuda_build="12.4",
                     cuda_available=True, device_count=1,
                     python_executable="/opt/conda/envs/dl/bin/python3")
    assert _torch_lines(t, "/home/u/.local/pipx/venvs/rigcheck/bin/python")[0].endswith(
        "; in /opt/conda/envs/dl/bin/python3")
    assert "; in " not in _torch_lines(t, "/opt/conda/envs/dl/bin/python3")[0]

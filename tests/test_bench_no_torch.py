"""``rigcheck bench`` where PyTorch cannot be imported: one clear line, exit 2, nothing saved.

Runs without torch installed: the missing or broken torch is simulated (a finder that refuses
``torch`` in-process; a fake ``torch`` package that raises OSError in a child process).
"""

from __future__ import annotations

import importlib.abc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rigcheck.bench import runner
from rigcheck.ui.app import app


class _NoTorch(importlib.abc.MetaPathFinder):
    """Answers ``import torch`` the way Python does when torch is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for mod in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(sys, "meta_path", [_NoTorch(), *sys.meta_path])
    monkeypatch.setenv("RIGCHECK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.mark.parametrize("args", [[], ["--json"], ["--only", "gemm-fp32"], ["--distributed"]])
def test_missing_torch_is_one_line_exit_2_and_nothing_saved(no_torch: Path,
                                                            args: list[str]) -> None:
    res = CliRunner().invoke(app, ["bench", *args])
    assert res.exit_code == 2
    if "--json" in args:                         # the error as JSON (ui.common.fail), nothing else
        assert json.loads(res.stdout)["exit_code"] == 2
    else:
        assert res.stdout == ""                  # no header, no table
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert line.startswith("error: rigcheck bench needs PyTorch, which this Python "
                           f"({sys.executable}) cannot import: No module named 'torch'.")
    assert "pip install torch (CPU: --index-url https://download.pytorch.org/whl/cpu)" in line
    assert "Traceback" not in res.output and "Nothing was measured" not in res.output
    assert not no_torch.exists()                 # no run saved, no history created


def test_run_suite_raises_instead_of_returning_an_empty_run(no_torch: Path) -> None:
    with pytest.raises(runner.TorchUnavailable, match="No module named 'torch'"):
        runner.run_suite(runner.Options(recipes={}))


def test_torch_problem_is_none_where_torch_imports() -> None:
    pytest.importorskip("torch")
    assert runner.torch_problem() is None


def test_broken_torch_import_shows_the_error_text(tmp_path: Path) -> None:
    """A torch whose import raises OSError (a CUDA library missing), in a child Python."""
    fake = tmp_path / "site" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        'raise OSError("libcudnn.so.9: cannot open shared object file: No such file or directory")\n')
    repo = Path(__file__).resolve().parents[1]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tmp_path / 'site'}:{repo}",
           "RIGCHECK_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path),
           "COLUMNS": "80"}
    res = subprocess.run([sys.executable, "-m", "rigcheck", "bench"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr             # one line, even on an 80-column terminal
    assert ("cannot import: OSError: libcudnn.so.9: cannot open shared object file: "
            "No such file or directory.") in lines[0]
    assert "reinstall it" in lines[0] and "Traceback" not in res.stderr
    assert not (tmp_path / "data").exists()

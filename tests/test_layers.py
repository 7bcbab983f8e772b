"""The layering rules hold: ruff's banned-api (pyproject.toml) keeps each outside library with
its one owner (typer/rich in rigcheck.ui, pynvml in rigcheck.probe.nvml, torch in rigcheck.bench,
psutil/cpuinfo in rigcheck.probe.host), and the rest of ruff's checks pass."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_including_banned_imports():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install '.[test]')")
    proc = subprocess.run([ruff, "check", "rigcheck", "tests", "benchmarks", "tools"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_banned_api_really_bans(tmp_path):
    """The rule itself works: torch imported from the doctor package is reported."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    bad = ROOT / "rigcheck" / "doctor" / "_layer_probe_tmp.py"
    bad.write_text("def f():\n    import torch\n    return torch\n")
    try:
        proc = subprocess.run([ruff, "check", "--select", "TID251", str(bad)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    finally:
        bad.unlink()
    assert proc.returncode == 1 and "torch belongs to rigcheck.bench" in proc.stdout

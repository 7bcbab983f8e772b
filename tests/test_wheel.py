"""The wheel carries the catalog and recipes: build it, install it in a fresh virtualenv and run
`rigcheck recommend` from outside the checkout."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-build-isolation: hatchling is installed with the test extra, so no download is needed.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, timeout=300,
    )
    (whl,) = out.glob("rigcheck-*.whl")
    return whl


def test_wheel_contains_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "rigcheck/_data/catalog/gpus.csv" in names
    assert "rigcheck/_data/catalog/README.md" in names
    assert any(n.startswith("rigcheck/_data/recipes/") and n.endswith(".toml") for n in names)
    assert "rigcheck/ui/app.py" in names
    # Tests and benchmarks stay out of the wheel.
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_recommends_from_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    # Install the wheel's files alone (no network): unzip into the fresh site-packages, and let
    # the dependencies (typer, rich, psutil, ...) come from this test environment's site-packages
    # through a .pth line. A .pth line adds a path but does not run that path's own .pth files,
    # so the editable install of the checkout stays invisible.
    zipfile.ZipFile(wheel).extractall(purelib)
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "_rigcheck_test_deps.pth").write_text("\n".join(deps) + "\n")
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run(
        [str(python), "-c", "import rigcheck.paths as p; print(p.catalog_dir())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()
    assert where.startswith(str(venv)), where
    assert where.endswith("rigcheck/_data/catalog")
    run = subprocess.run(
        [str(python), "-m", "rigcheck", "recommend", "--budget", "125000INR", "--json",
         "--allow-unsourced"],  # packaging is under test here, not the bundled prices
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["builds"], data
    assert data["builds"][0]["total_inr"] <= 125000

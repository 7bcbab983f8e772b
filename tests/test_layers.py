"""The architecture holds, and each rule of it really fires.

ruff's banned-api (pyproject.toml, and the ruff.toml of rigcheck/ui, rigcheck/bench and
rigcheck/probe that replace it there) keeps each outside library with its one owner and each
layer's imports pointing one way; TID253 keeps torch lazy outside the bench modules that are
nothing but torch code. Each violation below is fed to ruff on stdin under the path it would have
(``--stdin-filename``): ruff applies that path's configuration, and nothing is written into the
source tree that other test runs could see.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = str(Path(sys.executable).with_name("ruff"))   # the test extra's ruff: no skip without it


def _ruff(path: str, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RUFF, "check", "--no-cache", "--select", "TID251,TID253", "--output-format", "concise",
         "--stdin-filename", path, "-"],
        cwd=ROOT, input=source, capture_output=True, text=True, timeout=60)


def test_the_whole_tree_passes_ruff() -> None:
    proc = subprocess.run([RUFF, "check", "--no-cache", "rigcheck", "tests", "benchmarks", "tools"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


PURE = ["rigcheck/perfmodel/_x.py", "rigcheck/recommend/_x.py", "rigcheck/doctor/_x.py",
        "rigcheck/doctor/checks/_x.py", "rigcheck/money.py", "rigcheck/catalog.py",
        "rigcheck/catalog_schema.py", "rigcheck/runs/_x.py"]

# (where, what it imports, what ruff must say)
BANNED = [
    # ui renders; the machine's libraries are not its to import
    ("rigcheck/ui/_x.py", "import torch", "ui may not import torch"),
    ("rigcheck/ui/_x.py", "def f():\n    import torch\n", "ui may not import torch"),
    ("rigcheck/ui/_x.py", "import pynvml", "ui may not import pynvml"),
    ("rigcheck/ui/_x.py", "from psutil import cpu_count", "ui may not import psutil"),
    # pure layers: no bench, probe or ui, however spelled; no outside library either
    *[(p, "from rigcheck.bench.runner import run_suite", "may not import rigcheck.bench")
      for p in PURE],
    *[(p, "from rigcheck.probe import host", "may not import rigcheck.probe") for p in PURE],
    *[(p, "import rigcheck.ui.common", "may not import rigcheck.ui") for p in PURE],
    *[(p, "def f():\n    import torch\n", "torch belongs to rigcheck.bench") for p in PURE],
    *[(p, "import typer", "typer belongs to rigcheck.ui") for p in PURE],
    ("rigcheck/perfmodel/_x.py", "from ..bench import micro", "may not import rigcheck.bench"),
    ("rigcheck/doctor/checks/_x.py", "from ...probe.nvml import collect_nvml",
     "may not import rigcheck.probe"),
    # bench measures; it does not render, nor call NVML/psutil itself
    ("rigcheck/bench/_x.py", "import rich", "rich belongs to rigcheck.ui"),
    ("rigcheck/bench/_x.py", "from rigcheck.ui.common import out", "rigcheck.ui renders them"),
    ("rigcheck/bench/_x.py", "import pynvml", "pynvml belongs to rigcheck.probe.nvml"),
    # torch is lazy outside bench's torch-only modules
    ("rigcheck/bench/runner.py", "import torch", "`torch` is banned at the module level"),
    ("rigcheck/bench/deep.py", "import torch", "`torch` is banned at the module level"),
    # probe: each library in its one file
    ("rigcheck/probe/collect.py", "import pynvml", "pynvml belongs to rigcheck.probe.nvml"),
    ("rigcheck/probe/collect.py", "def f():\n    import torch\n", "torch belongs to rigcheck.bench"),
    ("rigcheck/probe/_x.py", "from rigcheck.bench import micro", "the probe does not measure"),
]


@pytest.mark.parametrize(("path", "source", "message"), BANNED)
def test_each_ban_fires(path: str, source: str, message: str) -> None:
    proc = _ruff(path, source + "\n")
    assert proc.returncode == 1 and message in proc.stdout, (path, source, proc.stdout)


ALLOWED = [
    ("rigcheck/ui/_x.py", "import typer\nimport rich\nfrom rigcheck.bench import runner\n"),
    ("rigcheck/bench/micro.py", "import torch\n"),
    ("rigcheck/bench/models/_x.py", "import torch\n"),
    ("rigcheck/bench/runner.py", "def f():\n    import torch\n    return torch\n"),
    ("rigcheck/bench/_x.py", "from rigcheck.probe.host import collect_host\n"),
    ("rigcheck/probe/nvml.py", "import pynvml\n"),
    ("rigcheck/probe/host.py", "import psutil\nimport cpuinfo\n"),
    ("rigcheck/probe/_torch_child.py", "import torch\n"),
    ("rigcheck/perfmodel/_x.py", "from rigcheck.perfmodel import memory\nfrom rigcheck.runs.results import Figure\n"),
]


@pytest.mark.parametrize(("path", "source"), ALLOWED)
def test_what_each_owner_may_import_passes(path: str, source: str) -> None:
    proc = _ruff(path, source)
    assert proc.returncode == 0, (path, source, proc.stdout)

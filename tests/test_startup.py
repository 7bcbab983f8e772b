"""`rigcheck --help` and `--version` stay light: no torch, pandas, pynvml, numpy, or the bench
history's sqlite3, imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys
sys.argv = ["rigcheck", {arg!r}]
from rigcheck.ui.app import main
try:
    main()
except SystemExit:
    pass
heavy = [m for m in ("torch", "pandas", "pynvml", "numpy", "sqlite3") if m in sys.modules]
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("arg", ["--help", "--version"])
def test_help_and_version_do_not_import_heavy_libraries(arg):
    proc = subprocess.run([sys.executable, "-c", CHECK.format(arg=arg)], capture_output=True,
                          text=True, timeout=60)
    assert "HEAVY=\n" in proc.stderr or proc.stderr.rstrip().endswith("HEAVY="), proc.stderr
    assert ("rigcheck" in proc.stdout) and ("Usage" in proc.stdout or "0." in proc.stdout)

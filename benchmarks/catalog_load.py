"""How long loading and validating the parts catalog takes.

Prints, for the bundled catalog (or a folder given as the first argument):
  * the import time of pandas in a fresh interpreter (paid once per `rigcheck` run that loads
    the catalog; `rigcheck --help` never pays it),
  * the first load in a fresh interpreter (import of rigcheck.catalog + pandas + load),
  * the median of several in-process loads once pandas is imported.

Run: .venv/bin/python benchmarks/catalog_load.py [CATALOG_DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

_FRESH = """
import sys, time
t0 = time.perf_counter()
import pandas
t1 = time.perf_counter()
from pathlib import Path
from rigcheck.catalog import load_catalog
base = Path(sys.argv[1]) if len(sys.argv) > 1 else None
t2 = time.perf_counter()
load_catalog(base=base)
t3 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.1f} {(t3 - t2) * 1000:.1f}")
"""


def _fresh(base: Path | None) -> tuple[float, float]:
    args = [sys.executable, "-c", _FRESH] + ([str(base)] if base else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)
    pandas_ms, load_ms = map(float, out.stdout.split())
    return pandas_ms, load_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalog", nargs="?", type=Path, help="catalog folder (default: bundled)")
    parser.add_argument("--runs", type=int, default=15)
    opts = parser.parse_args()

    from rigcheck.catalog import KINDS, load_catalog

    fresh = [_fresh(opts.catalog) for _ in range(5)]
    catalog = load_catalog(base=opts.catalog)  # warm: pandas imported, files in page cache
    times = []
    for _ in range(opts.runs):
        start = time.perf_counter()
        load_catalog(base=opts.catalog)
        times.append((time.perf_counter() - start) * 1000)
    rows = {kind: len(getattr(catalog, kind)) for kind in KINDS}
    print(f"catalog: {opts.catalog or 'bundled'}  rows: {sum(rows.values())} "
          + " ".join(f"{k}={n}" for k, n in rows.items()))
    print(f"pandas import (fresh interpreter, median of 5): "
          f"{statistics.median(p for p, _ in fresh):.1f} ms")
    print(f"first load after import (fresh interpreter, median of 5): "
          f"{statistics.median(load for _, load in fresh):.1f} ms")
    print(f"load_catalog in-process (median of {opts.runs}): {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f})")


if __name__ == "__main__":
    main()

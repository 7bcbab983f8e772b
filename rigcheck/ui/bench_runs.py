"""Saved ``rigcheck bench`` runs as the estimate commands read them (classic and LLM refinement).

Its own module so that ``estimate_cmd`` and ``estimate_llm`` both import it instead of each
other (tests/test_import_cycles.py).
"""

from __future__ import annotations

import json
from typing import Any

# The newest saved runs read when looking for one on the estimated GPU; the file names start with
# the run's start time, so sorting them by name sorts them by time.
MAX_RUNS_READ = 200


def saved_bench_runs() -> tuple[list[tuple[str, Any]], str]:
    """Saved bench runs, newest first, as (JSON path, BenchRun); unreadable files are skipped.
    The note says what was missing or skipped ("" when all was read)."""
    from rigcheck.runs.history import bench_dir
    from rigcheck.runs.results import BenchRun

    try:
        folder = bench_dir() / "runs"
        paths = sorted(folder.glob("*.json"), reverse=True)[:MAX_RUNS_READ] if folder.is_dir() else []
    except OSError as exc:
        return [], f"bench history unreadable ({exc})"
    if not paths:
        return [], f"no saved rigcheck bench runs under {folder}"
    runs, bad = [], 0
    for path in paths:
        try:
            runs.append((str(path), BenchRun.from_dict(json.loads(path.read_text(encoding="utf-8")))))
        except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError):
            bad += 1   # half-written by hand, another schema, not a run: not this command's problem
    return runs, (f"{bad} unreadable bench run file(s) under {folder} skipped" if bad else "")

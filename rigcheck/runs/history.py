"""Saved bench runs: one JSON file per run plus a SQLite index, under ``user_data_dir()``.

Layout (``$RIGCHECK_DATA_DIR`` or ``$XDG_DATA_HOME/rigcheck`` or ``~/.local/share/rigcheck``)::

    bench/runs/<started_at>-<fingerprint>.json   the full run (BenchRun.to_dict), schema 1
    bench/history.sqlite                         runs(id, fingerprint, started_at, mode, path)
                                                 figures(run_id, name, value, unit, verdict)

JSON files are written atomically (temp file in the same folder, fsync, ``os.replace``); SQLite
commits in one transaction. Runs are keyed by the machine fingerprint (CPU model + GPU names, not
the hostname), so ``--compare`` only compares like with like. Nothing here raises for an
unwritable or read-only folder: :func:`save_run` returns a warning line instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rigcheck.paths import user_data_dir
from rigcheck.runs.results import BenchRun, Figure

# A change smaller than this is within run-to-run noise (the 5% CV goal), shown as "same".
SAME_PCT = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    started_at TEXT NOT NULL,
    mode TEXT NOT NULL,
    interrupted INTEGER NOT NULL,
    path TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS figures (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    verdict TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    size TEXT NOT NULL DEFAULT ''    -- what was measured (batch, matrix size) as JSON
);
CREATE INDEX IF NOT EXISTS figures_by_name ON figures(name, run_id);
CREATE INDEX IF NOT EXISTS runs_by_machine ON runs(fingerprint, started_at);
"""


def bench_dir(base: Path | None = None) -> Path:
    return (base or user_data_dir()) / "bench"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _connect(folder: Path) -> sqlite3.Connection:
    con = sqlite3.connect(folder / "history.sqlite", timeout=10)
    con.executescript(_SCHEMA)
    # A history written before a column existed gets it added (SQLite's ADD COLUMN is cheap).
    have = {row[1] for row in con.execute("PRAGMA table_info(figures)")}
    for column in ("label", "size"):
        if column not in have:
            con.execute(f"ALTER TABLE figures ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
    return con


def save_run(run: BenchRun, base: Path | None = None) -> tuple[Path | None, str | None]:
    """Save the run; returns (path of the JSON file, None) or (None, a warning line)."""
    folder = bench_dir(base)
    stamp = run.started_at.replace(":", "").replace("+0000", "Z") or "unknown"
    path = folder / "runs" / f"{stamp}-{run.machine.fingerprint or 'nofp'}.json"
    n = 1
    while path.exists():  # two runs in the same second: keep both
        n += 1
        path = path.with_name(f"{stamp}-{run.machine.fingerprint or 'nofp'}-{n}.json")
    try:
        write_atomic(path, json.dumps(run.to_dict(), indent=2, default=str) + "\n")
        with contextlib.closing(_connect(folder)) as con, con:
            cur = con.execute(
                "INSERT INTO runs (fingerprint, started_at, mode, interrupted, path) "
                "VALUES (?, ?, ?, ?, ?)",
                (run.machine.fingerprint, run.started_at, run.mode, int(run.interrupted),
                 str(path)))
            con.executemany(
                "INSERT INTO figures (run_id, name, value, unit, verdict, label, size) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(cur.lastrowid, f.name, f.value, f.unit, f.verdict, f.label, size_key(f))
                 for f in run.results])
    except (OSError, sqlite3.Error) as exc:
        return None, (f"could not save this run under {folder}: {exc}; set RIGCHECK_DATA_DIR "
                      "to a writable folder to keep a history")
    return path, None


# Parameters that change what a figure means: a rate at batch 4 is not comparable with one at 64.
_SIZE_PARAMS = ("n", "batch_size", "size_bytes", "bytes", "directory", "dtype", "precision")


def size_key(f: Figure) -> str:
    return json.dumps({k: f.params[k] for k in _SIZE_PARAMS if k in f.params}, sort_keys=True)


@dataclass(frozen=True)
class Change:
    name: str
    label: str
    unit: str
    value: float
    before: float
    before_at: str                   # started_at of the earlier run
    pct: float                       # (value - before) / before, %
    untrusted: str = ""              # "" or why the pair cannot be trusted ("this run is noisy")

    @property
    def words(self) -> str:
        # Date and time: two runs on the same day are told apart (started_at is UTC ISO 8601).
        when, what = run_time(self.before_at), self.label or self.name
        if abs(self.pct) < SAME_PCT:
            text = f"{what}: about the same as the run of {when} ({self.pct:+.0f}%)"
        else:
            how = "faster" if self.pct > 0 else "slower"
            text = f"{what}: {abs(self.pct):.0f}% {how} than the run of {when}"
        return text + (f" (not trustworthy: {self.untrusted})" if self.untrusted else "")


def run_time(started_at: str) -> str:
    """'2026-11-01T09:30:05+00:00' -> '2026-11-01 09:30 UTC' (a bare date stays a date)."""
    if "T" not in started_at:
        return started_at[:10]
    day, clock = started_at.split("T", 1)
    return f"{day} {clock[:5]} UTC"


def _untrusted(now_verdict: str, before_verdict: str) -> str:
    bad_now, bad_before = now_verdict != "ok", before_verdict not in ("ok", "")
    if bad_now and bad_before:
        return f"both runs are {now_verdict.split(':')[0]}"
    if bad_now:
        return f"this run is {now_verdict.split(':')[0]}"
    if bad_before:
        return f"the earlier run is {before_verdict.split(':')[0]}"
    return ""


def previous_values(fingerprint: str, before: str, base: Path | None = None,
                    ) -> dict[tuple[str, str], tuple[float, str, str, str]]:
    """(name, size key) -> (value, unit, started_at, verdict) from the latest earlier run on this
    machine holding that figure at that size. Empty when there is no history or it cannot be
    read."""
    db = bench_dir(base) / "history.sqlite"
    if not db.is_file():
        return {}
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as con:
            rows = con.execute(
                "SELECT f.name, f.size, f.value, f.unit, r.started_at, f.verdict FROM figures f "
                "JOIN runs r ON r.id = f.run_id "
                "WHERE r.fingerprint = ? AND r.started_at <= ? "
                "ORDER BY r.started_at DESC, r.id DESC", (fingerprint, before)).fetchall()
    except sqlite3.Error:
        return {}
    out: dict[tuple[str, str], tuple[float, str, str, str]] = {}
    for name, size, value, unit, at, verdict in rows:
        out.setdefault((name, size), (value, unit, at, verdict or ""))
    return out


def compare(run: BenchRun, base: Path | None = None) -> list[Change]:
    """Each figure of ``run`` against the latest earlier run on the same machine that measured
    it at the same size (matrix size, batch, buffer): other sizes are not like for like.
    Call it before :func:`save_run` (a run started in the same second as an earlier one still
    compares with it; a saved run would compare with itself)."""
    prev = previous_values(run.machine.fingerprint, run.started_at, base)
    changes = []
    for f in run.results:
        key = (f.name, size_key(f))
        if key in prev:
            value, unit, at, verdict = prev[key]
            if unit == f.unit and value > 0:
                changes.append(Change(f.name, f.label, f.unit, f.value, value, at,
                                      100.0 * (f.value - value) / value,
                                      _untrusted(f.verdict, verdict)))
    return changes


# The newest saved runs read when looking for one on the estimated GPU; the file names start with
# the run's start time, so sorting them by name sorts them by time.
MAX_RUNS_READ = 200


def saved_runs(base: Path | None = None) -> tuple[list[tuple[str, BenchRun]], str]:
    """Saved bench runs, newest first, as (JSON path, BenchRun); unreadable files are skipped.
    The note says what was missing or skipped ("" when all was read)."""
    try:
        folder = bench_dir(base) / "runs"
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

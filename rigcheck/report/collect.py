"""Gather the report's inputs by running rigcheck's own commands with ``--json``.

The one part of the report that touches the world. Each command runs in its own interpreter
(``python -m rigcheck ...``) with a time limit, so a hung or crashed step becomes "not available:
why" and the rest of the report still comes out; independent steps run side by side.
Everything collected is redacted (host and user names, serials, UUIDs) unless asked not to.
"""

from __future__ import annotations

import getpass
import json
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STEP_TIMEOUT_S = 180.0


@dataclass
class Inputs:
    facts: dict[str, Any] | None = None
    doctor: dict[str, Any] | None = None
    bench: dict[str, Any] | None = None
    estimates: list[dict[str, Any]] = field(default_factory=list)
    recommend: dict[str, Any] | None = None
    missing: dict[str, str] = field(default_factory=dict)
    bench_path: str | None = None
    steps: list[tuple[str, float]] = field(default_factory=list)   # (command, seconds), for -v


STEPS: list[tuple[str, float]] = []   # filled by run_json, read (and cleared) by collect()


def run_json(args: Sequence[str], ok_codes: tuple[int, ...] = (0,),
             timeout_s: float = STEP_TIMEOUT_S) -> tuple[dict[str, Any] | None, str]:
    """``rigcheck ARGS --json -q`` in a child interpreter: (its JSON, '') or (None, why not)."""
    import time

    cmd = [sys.executable, "-m", "rigcheck", *args, "--json", "-q"]
    shown = "rigcheck " + " ".join(args)
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
        STEPS.append((shown, time.monotonic() - start))
    except subprocess.TimeoutExpired:
        return None, f"`{shown}` did not finish in {timeout_s:.0f} s"
    except OSError as exc:
        return None, f"`{shown}` could not start: {exc}"
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict) and "error" in data and proc.returncode not in ok_codes:
        return None, f"`{shown}`: {data['error']}"
    if proc.returncode not in ok_codes or not isinstance(data, dict):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"`{shown}` exited {proc.returncode}: {tail}"
    return data, ""


def latest_bench_run(path: Path | None = None) -> tuple[dict[str, Any] | None, str, str | None]:
    """The newest saved bench run (file names start with the UTC start time), or a given file."""
    if path is None:
        from rigcheck.runs.history import bench_dir

        folder = bench_dir() / "runs"
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        if not files:
            return None, f"no saved rigcheck bench run under {folder}; run `rigcheck bench` first", None
        path = files[-1]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{path}: unreadable bench run ({exc})", None
    if not isinstance(data, dict) or "results" not in data:
        return None, f"{path}: not a rigcheck bench run", None
    return data, "", str(path)


def _gpu_name(facts: dict[str, Any] | None) -> str | None:
    gpus = [g for g in ((facts or {}).get("nvml") or {}).get("gpus") or [] if g.get("name")]
    if not gpus:
        return None
    g = gpus[0]
    mib = g.get("memory_total_mib")
    return f"{g['name']} {round(mib / 1024)} GB" if mib else g["name"]


def collect(*, budget: str | None, targets: Sequence[str] = (), data_dirs: Sequence[str] = (),
            bench_run: Path | None = None, redact: bool = True,
            catalog_dirs: Sequence[str] = (), recommend_flags: Sequence[str] = ()) -> Inputs:
    inputs = Inputs()
    STEPS.clear()
    target_args = [a for t in targets for a in ("--target", t)]
    dir_args = [a for d in data_dirs for a in ("--data-dir", d)]
    with tempfile.TemporaryDirectory(prefix="rigcheck-report-") as tmp, \
            ThreadPoolExecutor(max_workers=3) as pool:
        facts_file = Path(tmp) / "facts.json"
        probe_args = ["probe", *dir_args] + ([] if redact else ["--no-redact"])
        rec_job = None
        if budget:
            rec_job = pool.submit(run_json, ["recommend", "--budget", budget, "--top", "10",
                                             *target_args, *recommend_flags,
                                             *(a for c in catalog_dirs for a in ("--catalog", c))],
                                  (0, 1))
        facts, why = run_json(probe_args)
        inputs.facts = facts
        if facts is not None:
            facts_file.write_text(json.dumps(facts), encoding="utf-8")
        if facts is None:
            inputs.missing["doctor"] = f"the probe failed: {why}"
        else:
            inputs.doctor, why = run_json(["doctor", "--facts", str(facts_file), *target_args,
                                           *dir_args], (0, 1))
            if inputs.doctor is None:
                inputs.missing["doctor"] = why
        inputs.bench, why, inputs.bench_path = latest_bench_run(bench_run)
        if inputs.bench is None:
            inputs.missing["bench"] = why
        gpu = _gpu_name(facts)
        if gpu:
            ids = list(targets) or [t.get("recipe") for t in (inputs.bench or {}).get("targets") or []]
            jobs = [pool.submit(run_json, ["estimate", "--gpu", gpu, "--target", t])
                    for t in ids if t]
            inputs.estimates = [d for d, _ in (j.result() for j in jobs) if d]
        if rec_job is not None:
            inputs.recommend, why = rec_job.result()
            if inputs.recommend is None:
                inputs.missing["build"] = why
    inputs.steps = list(STEPS)
    if redact:
        from rigcheck.probe.redact import Redactor

        r = Redactor(socket.gethostname(), getpass.getuser())
        for name in ("facts", "doctor", "bench", "recommend"):
            setattr(inputs, name, r.walk(getattr(inputs, name)))
        inputs.estimates = r.walk(inputs.estimates)
        inputs.missing = r.walk(inputs.missing)
        inputs.bench_path = r.text(inputs.bench_path) if inputs.bench_path else None
    return inputs

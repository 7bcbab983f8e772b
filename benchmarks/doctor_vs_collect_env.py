"""Time passive ``rigcheck doctor`` against ``python -m torch.utils.collect_env`` on this machine.

    .venv/bin/python benchmarks/doctor_vs_collect_env.py [--runs 5]

Three figures, each the median of N runs on the same machine, in interleaved rounds:

* doctor in-process: ``collect_facts()`` + ``run_checks()`` (the probe still starts its torch
  child process each time, as a real run does);
* doctor as a subprocess: ``python -m rigcheck doctor --json`` (interpreter start, imports,
  probe, 58+ checks, rendering);
* ``python -m torch.utils.collect_env`` (what PyTorch's issue template asks for; it checks
  nothing);
* ``python -c "import torch"``: the floor under both, since each must import torch (the doctor
  does it in its probe's child process, alongside the other probes).

Goal (issue 3): the doctor is faster than collect_env while checking far more.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time


def _time_cmd(argv: list[str], runs: int, timeout_s: float = 120.0) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
        out.append(time.perf_counter() - t0)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return out


def _time_in_process(runs: int) -> tuple[list[float], int]:
    from rigcheck.doctor import run_checks
    from rigcheck.probe.collect import collect_facts

    out, n = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        findings = run_checks(collect_facts())
        out.append(time.perf_counter() - t0)
        n = len(findings)
    return out, n


def _fmt(xs: list[float]) -> str:
    return f"median {statistics.median(xs):6.2f} s  (min {min(xs):.2f}, max {max(xs):.2f}, n={len(xs)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f}, "
          f"Python {platform.python_version()}, runs={args.runs}")
    # One warm-up each so the page cache is equally warm for all three.
    _time_cmd([py, "-m", "torch.utils.collect_env"], 1)
    _time_cmd([py, "-m", "rigcheck", "doctor", "--json"], 1)

    # Interleaved rounds, so background load on a shared machine hits all three alike.
    inproc, sub, ce, imp, n_checks = [], [], [], [], 0
    for _ in range(args.runs):
        imp += _time_cmd([py, "-c", "import torch"], 1)
        ce += _time_cmd([py, "-m", "torch.utils.collect_env"], 1)
        sub += _time_cmd([py, "-m", "rigcheck", "doctor", "--json"], 1)
        t, n_checks = _time_in_process(1)
        inproc += t

    print(f"rigcheck doctor, in-process ({n_checks} checks): {_fmt(inproc)}")
    print(f"rigcheck doctor, subprocess:              {_fmt(sub)}")
    print(f"python -m torch.utils.collect_env:        {_fmt(ce)}")
    print(f"python -c 'import torch' (floor):         {_fmt(imp)}")
    m_ce, m_sub, m_in = (statistics.median(x) for x in (ce, sub, inproc))
    print(f"ratio collect_env / doctor subprocess: {m_ce / m_sub:.2f}x "
          f"({'doctor faster' if m_sub < m_ce else 'doctor SLOWER'})")
    print(f"ratio collect_env / doctor in-process: {m_ce / m_in:.2f}x")


if __name__ == "__main__":
    main()

"""How long `rigcheck estimate --model` takes: one GPU, and every GPU ranked (--all-gpus).

    python benchmarks/llm_estimate_speed.py

Goals (issue 10): one estimate <= 0.5 s, `--method qlora --all-gpus` <= 2 s, wall clock of the
CLI process (interpreter start included), median of 5 runs.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

CASES = (
    ("estimate, one GPU", ["estimate", "--gpu", "4090", "--model", "llama-3.1-8b", "--method", "qlora", "--json"]),
    ("estimate, inference", ["estimate", "--gpu", "4090", "--model", "qwen3-30b-a3b", "--method", "infer", "--weights", "q4_k_m", "--json"]),
    ("estimate --all-gpus", ["estimate", "--model", "llama-3.1-8b", "--method", "qlora", "--all-gpus", "--json"]),
)


def main() -> int:
    env = dict(os.environ)
    for label, args in CASES:
        times, cpu = [], []
        for _ in range(5):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "rigcheck", *args], capture_output=True,
                                  env=env, timeout=120)
            times.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
            if proc.returncode not in (0, 1):
                print(f"{label}: exit {proc.returncode}: {proc.stderr.decode()[-300:]}")
                return 1
        print(f"{label:<24} wall median {statistics.median(times):.2f} s (min {min(times):.2f})  "
              f"CPU median {statistics.median(cpu):.2f} s")
    from typer.testing import CliRunner

    from rigcheck.ui.app import app
    runner = CliRunner()
    for label, args in CASES:
        runner.invoke(app, args)                      # imports and caches warm
        t0 = time.perf_counter()
        for _ in range(5):
            runner.invoke(app, args)
        print(f"{label:<24} in-process {(time.perf_counter() - t0) / 5:.3f} s per call")
    try:
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} CPUs (a busy machine inflates these)")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

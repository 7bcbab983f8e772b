"""Honesty check: run the --quick suite N times in one process; print the CV of each figure.

Goal (issue 4): coefficient of variation <= 5% per figure on a quiet machine. The machine's load
average is printed before each run: on a shared or busy machine the CVs say so.

    .venv/bin/python benchmarks/bench_repeatability.py [--runs 3] [--only 'gemm-*' ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from rigcheck.bench.runner import Options, run_suite


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    values: dict[str, list[float]] = {}
    units: dict[str, str] = {}
    batches: dict[str, set] = {}
    for i in range(args.runs):
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        run = run_suite(Options(mode="quick", only=tuple(args.only)))
        print(f"run {i + 1}: {time.perf_counter() - t0:.1f} s, load {load:.2f}, "
              f"{len(run.results)} figures, {len(run.skipped)} skipped")
        for f in run.results:
            values.setdefault(f.name, []).append(f.value)
            units[f.name] = f.unit
            if "batch_size" in f.params:
                batches.setdefault(f.name, set()).add(f.params["batch_size"])
    print(f"{'figure':<28} {'mean':>12} {'unit':<14} {'CV':>6}  values")
    worst = 0.0
    for name, xs in values.items():
        mean = statistics.fmean(xs)
        cv = 100 * statistics.stdev(xs) / mean if len(xs) > 1 and mean else 0.0
        worst = max(worst, cv)
        flag = "" if cv <= 5 else "  > 5%"
        if name in batches:
            flag += f"  (batch {', '.join(map(str, sorted(batches[name])))})"
        print(f"{name:<28} {mean:>12.1f} {units[name]:<14} {cv:>5.1f}%  "
              f"{', '.join(f'{x:.1f}' for x in xs)}{flag}")
    print(f"worst CV {worst:.1f}% over {args.runs} runs (goal <= 5%)")


if __name__ == "__main__":
    main()

"""Honesty check: does ``rigcheck bench``'s GEMM fp32 figure match a plain matmul loop?

In ONE process, at the same size and thread count, alternating so drift hits both alike:
  A. rigcheck's figure (``micro.gemm`` with the --quick budget, as ``rigcheck bench`` runs it),
  B. a plain loop: ``torch.matmul`` timed with ``time.perf_counter`` (mean over the loop),
  C. ``torch.utils.benchmark.Timer(num_threads=N).blocked_autorange()`` as a third opinion.
Prints each round and the ratio A/B of the medians (goal: within 10%). On a busy machine the
rounds themselves swing by tens of percent, so it also prints what does not depend on the load:
the harness's own cost per timed call (a no-op timed through ``measure``) next to one GEMM call,
and the threads it runs with next to the CPUs the OS offers.

    .venv/bin/python benchmarks/bench_overhead.py [--n 2048] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.utils.benchmark as tbench

from rigcheck.bench import micro
from rigcheck.bench.timing import measure


def plain_loop(n: int, seconds: float = 1.0) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    c = torch.empty(n, n)
    for _ in range(2):
        torch.matmul(a, b, out=c)
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        torch.matmul(a, b, out=c)
        calls += 1
    return 2 * n**3 * calls / (time.perf_counter() - t0) / 1e9


def torch_timer(n: int) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    t = tbench.Timer("torch.matmul(a, b)", globals={"a": a, "b": b, "torch": torch},
                     num_threads=torch.get_num_threads())
    return 2 * n**3 / t.blocked_autorange(min_run_time=1.0).median / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, n={args.n}, "
          f"load {os.getloadavg()[0]:.2f}")
    budget = micro.Budget(budget_s=1.0)    # --quick gives gemm-fp32 1.5 s; 1 s like the others
    a_vals, b_vals, c_vals = [], [], []
    for r in range(args.rounds):
        a_vals.append(micro.gemm("fp32", torch.device("cpu"), args.n, budget).value)
        b_vals.append(plain_loop(args.n))
        c_vals.append(torch_timer(args.n))
        print(f"round {r + 1}: rigcheck {a_vals[-1]:7.1f}  plain loop {b_vals[-1]:7.1f}  "
              f"Timer {c_vals[-1]:7.1f} GFLOP/s")
    a, b, c = (statistics.median(v) for v in (a_vals, b_vals, c_vals))
    print(f"median: rigcheck {a:.1f}, plain loop {b:.1f}, torch Timer {c:.1f} GFLOP/s")
    ratio = a / b
    print(f"ratio rigcheck / plain loop = {ratio:.3f} "
          f"({'within' if abs(ratio - 1) <= 0.10 else 'OUTSIDE'} the 10% goal)")
    noop = measure(lambda: None, warmup=10, min_runs=1000, max_runs=100_000, budget_s=0.2)
    gemm_s = 2 * args.n**3 / (a * 1e9)
    print(f"harness cost per timed call: {noop.median_s * 1e6:.2f} us = "
          f"{100 * noop.median_s / gemm_s:.4f}% of one {args.n}^3 GEMM call ({gemm_s * 1e3:.1f} ms)")
    print(f"threads: torch uses {torch.get_num_threads()}, the OS offers {os.cpu_count()} CPUs "
          f"(torch.utils.benchmark.Timer's default would be 1)")


if __name__ == "__main__":
    main()

"""How long the probe takes: the whole ``collect_facts()``, each source alone, the CLI end to end,
and (with ``--vs-collect-env``) ``python -m torch.utils.collect_env`` on the same machine.

    python benchmarks/probe_speed.py [--repeat 5] [--vs-collect-env]

Prints medians over ``--repeat`` runs (the first run of each is included: it pays the imports,
as a user's single run does). Sources run in parallel inside ``collect_facts``, so its time is
about the slowest source (the torch child), not the sum.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from rigcheck.probe.collect import collect_facts, default_sources


def median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def subprocess_s(argv: list[str], repeat: int, timeout_s: float = 300) -> float:
    return median_s(
        lambda: subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False), repeat
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--vs-collect-env", action="store_true",
                    help="also time `python -m torch.utils.collect_env` (needs torch)")
    args = ap.parse_args()
    n = args.repeat

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"median of {n} runs, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at start")
    for name, source in default_sources().items():
        print(f"  source {name:<8} {median_s(source, n):7.3f} s")
    total = median_s(lambda: collect_facts(), n)
    print(f"  collect_facts()  {total:7.3f} s   (sources in parallel, redaction included)")
    probe_cmd = [sys.executable, "-m", "rigcheck", "probe", "--json"]
    if not args.vs_collect_env:
        print(f"  rigcheck probe --json (new process) {subprocess_s(probe_cmd, n):7.3f} s")
        return
    # Interleaved, so a load spike from another process hits both sides alike.
    env_cmd = [sys.executable, "-m", "torch.utils.collect_env"]
    probe_t, env_t = [], []
    for _ in range(n):
        probe_t.append(subprocess_s(probe_cmd, 1))
        env_t.append(subprocess_s(env_cmd, 1))
    ratios = [e / p for p, e in zip(probe_t, env_t, strict=True)]
    # The minimum is the least disturbed run: the best estimate of the cost itself on a shared box.
    print(f"  rigcheck probe --json (new process) {statistics.median(probe_t):7.3f} s"
          f"  (min {min(probe_t):.3f})")
    print(f"  python -m torch.utils.collect_env   {statistics.median(env_t):7.3f} s"
          f"  (min {min(env_t):.3f})")
    print(f"  collect_env / probe: median of pairs {statistics.median(ratios):.2f}x, "
          f"ratio of minimums {min(env_t) / min(probe_t):.2f}x")

if __name__ == "__main__":
    main()

"""Start-up time of `rigcheck --help` and `rigcheck --version` (goal: <= 0.3 s on the dev box).

Runs each command N times in a fresh interpreter and prints the median and spread, the import
time of the CLI module alone, and whether torch, pandas or pynvml got imported (they must not).

    python benchmarks/startup.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 15
HEAVY = ("torch", "pandas", "pynvml", "numpy")

CHECK = """
import sys
sys.argv = ["rigcheck", "{arg}"]
from rigcheck.ui.app import main
try:
    main()
except SystemExit:
    pass
print("HEAVY:" + ",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return time.perf_counter() - t0


def main() -> None:
    baseline = [timed([sys.executable, "-c", "pass"]) for _ in range(N)]
    print(f"python -c pass          median {statistics.median(baseline) * 1000:6.0f} ms")
    for arg in ("--version", "--help"):
        runs = [timed([sys.executable, "-m", "rigcheck", arg]) for _ in range(N)]
        med = statistics.median(runs)
        q = statistics.quantiles(runs, n=4)
        verdict = "OK" if med <= 0.3 else "SLOW (goal 0.3 s)"
        print(f"rigcheck {arg:<10}    median {med * 1000:6.0f} ms  IQR {q[0] * 1000:.0f}-"
              f"{q[2] * 1000:.0f} ms  over {N} runs  {verdict}")
        out = subprocess.run([sys.executable, "-c", CHECK.format(arg=arg, heavy=HEAVY)],
                             capture_output=True, text=True, timeout=60)
        heavy = [line for line in out.stderr.splitlines() if line.startswith("HEAVY:")]
        print(f"  heavy modules imported: {heavy[0][6:] or 'none' if heavy else '?'}")


if __name__ == "__main__":
    main()

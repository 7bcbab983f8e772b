"""How fast ``rigcheck doctor --facts PASTE`` reads and diagnoses a paste (issue 11 goals:
a paste diagnosed in <= 0.5 s; binary garbage or 50 MB answered within 5 s).

Times, in this process (the registry is loaded once, as in one CLI run; the first paste pays
for loading it and is reported apart):
  * every fixture in tests/fixtures/pastes: load_facts_file + run_checks (signatures included),
    median and max over the set;
  * a 50 MB file of random bytes (refused as binary, one line);
  * a 50 MB text log with an Xid line at its end (head + tail read, the Xid found);
  * a 50 MB text file with nothing known in it (refused, one line).

    .venv/bin/python benchmarks/paste_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from rigcheck.doctor import run_checks
from rigcheck.facts import FactsError
from rigcheck.probe.importers import load_facts_file

PASTES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pastes"
MB50 = 50 * 1024 * 1024


def diagnose(path: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    try:
        facts = load_facts_file(path)
        findings = run_checks(facts)
        what = f"{sum(f.id.startswith('sig.') for f in findings)} signature findings"
    except FactsError as exc:
        what = f"refused: {str(exc)[:70]}..."
    return time.perf_counter() - t0, what


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="rounds over the fixture set")
    args = ap.parse_args()
    files = sorted(PASTES.glob("*.txt"))
    first_s, _ = diagnose(files[0])
    times: list[float] = []
    worst = ("", 0.0)
    for _ in range(args.repeat):
        for p in files:
            s, _ = diagnose(p)
            times.append(s)
            if s > worst[1]:
                worst = (p.name, s)
    print(f"fixtures: {len(files)} pastes x {args.repeat} rounds, first (registry load) {first_s:.3f} s")
    print(f"  median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
          f"({worst[0]}), goal <= 500 ms")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "garbage.bin"
        big.write_bytes(os.urandom(MB50))
        s, what = diagnose(big)
        print(f"50 MB random bytes: {s:.3f} s, {what} (goal <= 5 s)")
        log = Path(tmp) / "kern.log"
        line = b"[    1.000000] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n"
        with log.open("wb") as fh:
            fh.write(line * (MB50 // len(line)))
            fh.write(b"[ 1843.3] NVRM: Xid (PCI:0000:b3:00): 79, pid=2213, GPU has fallen off the bus.\n")
        s, what = diagnose(log)
        print(f"50 MB kernel log, Xid 79 at the end: {s:.3f} s, {what} (goal <= 5 s)")
        prose = Path(tmp) / "prose.txt"
        prose.write_bytes(b"lorem ipsum dolor sit amet, consectetur adipiscing elit\n" * (MB50 // 57))
        s, what = diagnose(prose)
        print(f"50 MB text with nothing known: {s:.3f} s, {what} (goal <= 5 s)")
    print(f"(CPU load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()

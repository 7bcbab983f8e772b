"""Read a folder of facts files collected any way (srun, Ansible, by hand) into fleet nodes.

Layout: ``DIR/<node>.json`` holds ``rigcheck probe --json`` (or a collect_env / nvidia-smi text
with any extension: .txt, .log); an optional ``DIR/<node>.bench.json`` holds that node's
``rigcheck bench --json``, whose figures feed the outlier checks. A file that cannot be read makes
its node "missing" with the reason, and the rest of the report goes on.
"""

from __future__ import annotations

import json
from pathlib import Path

from rigcheck.facts import FactsError
from rigcheck.fleet.compare import NodeFacts

FACTS_SUFFIXES = (".json", ".txt", ".log")


def _bench_values(path: Path) -> dict[str, float]:
    """The figures of a ``rigcheck bench --json`` file; ValueError when it is not one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ValueError("not a rigcheck bench --json file (no results list)")
    return {r["name"]: float(r["value"]) for r in results
            if isinstance(r, dict) and isinstance(r.get("name"), str)
            and isinstance(r.get("value"), (int, float)) and not isinstance(r.get("value"), bool)}


def load_facts_dir(directory: Path) -> tuple[list[NodeFacts], list[str], list[str]]:
    """(nodes that loaded, "node (why)" for facts files that did not, "node (why)" for bench
    files that could not be read: those nodes are still compared, without figures)."""
    from rigcheck.probe.importers import load_facts_file

    if not directory.is_dir():
        raise FactsError(f"{directory}: not a folder of facts files")
    files = sorted(p for p in directory.iterdir()
                   if p.is_file() and p.suffix in FACTS_SUFFIXES and not p.name.endswith(".bench.json"))
    if not files:
        raise FactsError(f"{directory}: no facts files (*.json, *.txt, *.log) in it")
    nodes, missing, bench_problems = [], [], []
    stems = [p.stem for p in files]
    for path in files:
        # a.json and a.txt in one folder are two files about one node: name them apart.
        node = path.stem if stems.count(path.stem) == 1 else path.name
        try:
            facts = load_facts_file(path)
        except (FactsError, OSError, UnicodeDecodeError) as exc:
            missing.append(f"{node} ({exc})")
            continue
        bench: dict[str, float] = {}
        bench_path = path.with_name(f"{path.stem}.bench.json")
        if bench_path.exists():
            try:
                bench = _bench_values(bench_path)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                bench_problems.append(f"{node} ({bench_path.name}: {exc})")
        nodes.append(NodeFacts(node=node, facts=facts, bench=bench))
    return nodes, missing, bench_problems

"""Rendering of fleet reports (``rigcheck doctor --fleet``), text and JSON.

JSON (stable):
``{"schema": 1, "source": "torchrun" | "facts-dir", "world_size": int | null,
   "nodes": [{"node", "rank", "origin", "driver", "cuda_driver", "torch", "nccl",
              "gpus": [names], "bench": {name: value}}],
   "missing": ["rank 1", ...],
   "findings": [{"id", "status", "summary", "detail", "fix", "nodes": [...]}],
   "summary": {"ok": n, "warn": n, "fail": n, "skip": n}}``
Exit code: 1 when any finding fails (a missing rank included), else 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.markup import escape

from rigcheck.ui.common import console

MARKS = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]", "skip": "[dim]-[/]"}


def fleet_dict(nodes: Sequence[Any], missing: Sequence[str], findings: Sequence[Any],
               source: str, world_size: int | None = None) -> dict[str, Any]:
    return {
        "schema": 1,
        "source": source,
        "world_size": world_size,
        "nodes": [{
            "node": n.node, "rank": n.rank, "origin": n.facts.origin,
            "driver": n.facts.nvml.driver_version,
            "cuda_driver": n.facts.nvml.cuda_driver_version,
            "torch": n.facts.torch.version, "nccl": n.facts.torch.nccl_version,
            "gpus": [g.name or "unknown" for g in n.facts.nvml.gpus if not g.lost],
            "lost_gpus": [g.index for g in n.facts.nvml.gpus if g.lost],
            "bench": dict(n.bench),
            "clock_offset_s": n.clock_offset_s,
        } for n in nodes],
        "missing": list(missing),
        "findings": [{"id": f.id, "status": str(f.status), "summary": f.summary,
                      "detail": f.detail, "fix": f.fix, "nodes": list(f.nodes)}
                     for f in findings],
        "summary": dict(Counter(str(f.status) for f in findings)),
    }


def render_fleet(data: dict[str, Any], verbose: bool = False) -> None:
    out = console()
    who = f"{len(data['nodes'])} rank(s)/node(s)"
    if data["world_size"]:
        who += f" of {data['world_size']}"
    out.print(f"[bold]Fleet doctor[/] ({data['source']}): {who} reported")
    for n in data["nodes"]:
        gpus = Counter(n["gpus"])
        gpu_text = ", ".join(f"{c} × {g}" for g, c in gpus.items()) or "no GPU"
        if n["lost_gpus"]:
            gpu_text += f", lost: GPU {', '.join(map(str, n['lost_gpus']))}"
        out.print(f"  [dim]{escape(n['node'])}: driver {escape(n['driver'] or '-')}, "
                  f"torch {escape(n['torch'] or '-')}, {escape(gpu_text)}[/]")
    out.print()
    for f in data["findings"]:
        if f["status"] in ("ok", "skip") and not verbose:
            continue
        out.print(f"{MARKS.get(f['status'], '?')} {escape(f['summary'])}")
        if f["status"] in ("warn", "fail"):
            if f["detail"]:
                out.print(f"    [dim]{escape(f['detail'])}[/]")
            if f["fix"]:
                out.print(f"    fix: {escape(f['fix'])}")
    s = data["summary"]
    problems = s.get("warn", 0) + s.get("fail", 0)
    out.print()
    if problems:
        out.print(f"[bold]Fleet doctor found {problems} difference(s)[/] "
                  f"({s.get('fail', 0)} failing, {s.get('warn', 0)} warnings)"
                  + ("." if verbose else "; -v lists every check."))
    else:
        out.print("[green]• The fleet is uniform: no differences found.[/]"
                  + ("" if verbose else " (-v lists every check)"))

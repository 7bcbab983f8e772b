"""``rigcheck doctor --fleet`` under torchrun: every rank probes, rank 0 gathers and compares.

Transport is torchrun's own rendezvous store (:func:`rigcheck.bench.distributed.gather_over_store`)
with a deadline, so a rank that dies, hangs or never starts leaves a partial report on rank 0
that names it, and a non-zero exit, instead of a hang.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rigcheck.doctor.findings import Finding
from rigcheck.facts import Facts, FactsError, from_dict, to_dict
from rigcheck.fleet.compare import NodeFacts, compare

if TYPE_CHECKING:  # bench.distributed imports torch lazily; only its types are needed here
    from rigcheck.bench.distributed import Gathered, RankInfo


@dataclass
class FleetRun:
    rank: int
    world_size: int
    nodes: list[NodeFacts] = field(default_factory=list)        # rank 0 only
    missing: list[str] = field(default_factory=list)
    bench_problems: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    interrupted: bool = False


def run_fleet(collect: Callable[[], Facts], timeout_s: float = 120.0,
              bench: Callable[[], dict[str, float]] | None = None) -> FleetRun:
    """Probe this rank, send it to rank 0; on rank 0 compare everything that arrived in time."""
    from rigcheck.bench import distributed

    info = distributed.rank_info()
    if info is None:
        raise distributed.DistError(
            "--fleet needs torchrun (e.g. `torchrun --nproc-per-node=2 -m rigcheck doctor "
            "--fleet`), or use `rigcheck doctor --fleet --facts-dir DIR`")
    # torchrun sends SIGTERM to every worker as soon as one dies; rank 0 turns the first one
    # into KeyboardInterrupt so that it still prints what it has.
    guard = distributed.terminate_as_interrupt() if info.rank == 0 else contextlib.nullcontext()
    with guard:
        interrupted = False
        figures: dict[str, float] = {}
        error = None
        try:
            facts = collect()
            if bench is not None:
                try:
                    figures = bench()
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # a bench failure on one rank is a finding, not a crash
                    error = f"{type(exc).__name__}: {exc}"
        except KeyboardInterrupt:
            interrupted = True
            facts = Facts(origin="probe", origin_note="interrupted: another rank failed")
        payload = json.dumps({"node": socket.gethostname(), "rank": info.rank,
                              "local_rank": info.local_rank, "facts": to_dict(facts),
                              "bench": figures, "bench_error": error})
        gathered = distributed.gather_over_store("fleet", payload, timeout_s=timeout_s,
                                                 info=info, interrupted=interrupted)
        return _report(info, gathered)


def _report(info: RankInfo, gathered: Gathered) -> FleetRun:
    run = FleetRun(rank=info.rank, world_size=info.world_size, interrupted=gathered.interrupted)
    if info.rank != 0:
        return run
    for rank, text in sorted(gathered.payloads.items()):
        try:
            data = json.loads(text)
            node_facts = from_dict(data["facts"], where=f"rank {rank}")
        except (ValueError, KeyError, FactsError) as exc:
            run.missing.append(f"rank {rank} (unreadable report: {exc})")
            continue
        if data.get("bench_error"):
            run.bench_problems.append(f"rank {rank} ({data['bench_error']})")
        run.nodes.append(NodeFacts(
            node=f"{data['node']}/rank{rank}", rank=rank, facts=node_facts,
            bench={k: float(v) for k, v in (data.get("bench") or {}).items()},
            clock_offset_s=gathered.clock_offsets_s.get(rank),
        ))
    run.missing += [f"rank {r}" for r in gathered.missing]
    run.findings = compare(run.nodes, run.missing, run.bench_problems)
    return run

"""The multi-machine modes of two commands (issue 5), called from their command modules:

* ``rigcheck doctor --fleet`` under torchrun, or ``--fleet --facts-dir DIR`` on a folder of facts
  files (rendering and JSON in :mod:`rigcheck.ui.fleet_view`);
* ``rigcheck bench --distributed`` under torchrun: collectives (nccl-tests bus bandwidth) and DDP
  scaling, printed once by rank 0 and saved in the bench history.

Non-zero ranks print nothing and exit 0 (or 1 when something failed for them); rank 0 exits 1 when
a rank is missing or a fleet check fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rigcheck.ui.common import EXIT_FINDINGS, EXIT_OK, console, fail, print_json, warn


def doctor_fleet(*, facts_dir: Path | None, timeout_s: float, as_json: bool, verbose: bool,
                 data_dirs: tuple[str, ...] = (), gemm: bool = True) -> int:
    from rigcheck.facts import FactsError
    from rigcheck.ui.fleet_view import fleet_dict, render_fleet

    if facts_dir is not None:
        from rigcheck.fleet import compare
        from rigcheck.fleet.load import load_facts_dir
        try:
            nodes, missing, bench_problems = load_facts_dir(facts_dir)
        except FactsError as exc:
            fail(str(exc))
        data = fleet_dict(nodes, missing, compare(nodes, missing, bench_problems),
                          source="facts-dir")
    else:
        from rigcheck.bench.dist_suite import rank_gemm
        from rigcheck.bench.distributed import DistError
        from rigcheck.fleet.run import run_fleet
        from rigcheck.probe.collect import collect_facts

        bench = rank_gemm if gemm else None
        try:
            run = run_fleet(lambda: collect_facts(data_dirs=data_dirs), timeout_s=timeout_s,
                            bench=bench)
        except DistError as exc:
            fail(str(exc))
        if run.rank != 0:
            return EXIT_OK
        data = fleet_dict(run.nodes, run.missing, run.findings, source="torchrun",
                          world_size=run.world_size)
    if as_json:
        print_json(data)
    else:
        render_fleet(data, verbose=verbose)
    return EXIT_FINDINGS if data["summary"].get("fail") else EXIT_OK


def bench_distributed(*, mode: str, recipe: str | None, timeout_s: float, as_json: bool) -> int:
    from rigcheck.bench.dist_suite import DEFAULT_RECIPE, run_distributed
    from rigcheck.bench.distributed import DistError
    from rigcheck.runs import history

    def progress(line: str) -> None:
        if not as_json:
            console(stderr=True).print(f"[dim]{line}[/]")

    try:
        run = run_distributed(mode=mode, recipe_id=recipe or DEFAULT_RECIPE,
                              timeout_s=timeout_s, progress=progress)
    except DistError as exc:
        fail(str(exc))
    if run is None:
        return EXIT_OK
    path, problem = history.save_run(run)
    if problem:
        warn(problem)
    data: dict[str, Any] = run.to_dict()
    data["saved_to"] = str(path) if path else None
    if as_json:
        print_json(data)
        return EXIT_OK
    out = console()
    first = run.results[0].params if run.results else {}
    out.print(f"[bold]Distributed bench[/]: {first.get('world_size', '?')} ranks, "
              f"backend {first.get('backend', '?')}, {run.duration_s:.0f} s")
    out.print(f"{'collective':<12}{'size':>8}{'time':>12}{'algbw':>12}{'busbw':>12}{'of link':>9}")
    for f in run.results:
        p = f.params
        if "op" not in p:
            continue
        size = f.name.rsplit("-", 1)[1]
        link = f"{f.pct_expected:.0f}%" if f.pct_expected is not None else ""
        out.print(f"{p['op']:<12}{size:>8}{p['time_us']:>10.0f}us{p['algbw_gbs']:>8.2f}GB/s"
                  f"{f.value:>8.2f}GB/s{link:>9}")
    sources = {f.expected_source for f in run.results if "op" in f.params and f.expected_source}
    out.print(f"[dim]busbw per nccl-tests; link: {', '.join(sources) or 'no link model (gloo or no NVML)'}[/]")
    for f in run.results:
        if f.name.startswith("ddp-"):
            eff = f.params["scaling_efficiency"]
            out.print(f"DDP {f.name[4:]}: {f.value:,.0f} samples/s on {f.params['world_size']} ranks; "
                      f"alone {f.params['single_samples_per_s']:,.0f} samples/s; "
                      f"scaling efficiency {eff:.0%}")
    for s in run.skipped:
        out.print(f"[dim]skipped {s.name}: {s.reason}[/]")
    if path:
        out.print(f"[dim]saved to {path}[/]")
    return EXIT_OK

"""``rigcheck bench --distributed``: collectives and DDP scaling as one saved bench run.

Every rank measures; rank 0 turns the figures into a :class:`BenchRun` (the same JSON and SQLite
history as ``rigcheck bench``), with each figure's per-rank detail in ``params``. Bus bandwidth
follows nccl-tests; the expected figure is the PCIe link's one-direction bandwidth of rank 0's GPU
where NVML reports it (NVLink is not probed, so NVLink systems will show > 100%).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from rigcheck.bench import distributed
from rigcheck.runs.results import BenchRun, Figure, Skipped

DEFAULT_RECIPE = "lenet5-mnist"


def _sizes(mode: str) -> tuple[int, ...]:
    """GPUs (NCCL) sweep 1 KB .. 1 GB in either mode; CPUs (gloo) stop at 16 MB in --quick and
    at 256 MB in --full: loopback gloo moves well under 10 GB/s on a small host."""
    import torch
    if torch.cuda.is_available():
        return distributed.SIZES_FULL
    cap = 256 * 1024 ** 2 if mode == "full" else 16 * 1024 ** 2
    return tuple(s for s in distributed.SIZES_FULL if s <= cap)


def _sig(x: float) -> float:
    """Six significant digits: small-message bandwidths are tiny numbers, and a fixed number of
    decimals would erase them."""
    return float(f"{x:.6g}")


def _size_label(n: int) -> str:
    for unit, div in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= div:
            return f"{n // div}{unit}"
    return f"{n}B"


def _link_expectation(local_rank: int) -> tuple[float | None, str]:
    try:
        from rigcheck.probe.nvml import collect_nvml
        nv = collect_nvml()
    except Exception as exc:  # NVML missing on CPU hosts: no link model, said plainly
        return None, f"no link model ({type(exc).__name__})"
    gpus = [g for g in nv.gpus if g.index == local_rank] if nv.available else []
    if not gpus:
        return None, "no link model: NVML saw no GPU (loopback gloo is memory-bound)"
    g = gpus[0]
    gbs = distributed.pcie_bandwidth_gbs(g.pcie_gen_max, g.pcie_width_max)
    return gbs, (f"PCIe Gen{g.pcie_gen_max} x{g.pcie_width_max} one-direction bandwidth "
                 "(PCI-SIG rates); NVLink not probed")


def run_distributed(mode: str = "quick", recipe_id: str = DEFAULT_RECIPE,
                    timeout_s: float = 300.0,
                    progress: Callable[[str], None] | None = None) -> BenchRun | None:
    """Run on every rank; returns the run on rank 0 and None elsewhere."""
    import torch

    from rigcheck.bench.expect import describe_machine
    from rigcheck.recipes import RecipeError, get_recipe

    info = distributed.rank_info()
    if info is None:
        raise distributed.DistError(
            "--distributed needs torchrun, e.g. `torchrun --nproc-per-node=2 -m rigcheck bench "
            "--distributed`")
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    backend, collectives = distributed.bench_collectives(
        sizes=_sizes(mode), min_time_s=0.2 if mode == "full" else 0.05, timeout_s=timeout_s,
        progress=progress if info.rank == 0 else None)
    skipped: list[Skipped] = []
    ddp = None
    try:
        ddp = distributed.bench_ddp(get_recipe(recipe_id), batch_size=32 if mode == "full" else 16,
                                    steps=20 if mode == "full" else 8, timeout_s=timeout_s)
    except (RecipeError, distributed.DistError) as exc:
        skipped.append(Skipped(f"ddp-{recipe_id}", str(exc)))
    if info.rank != 0:
        distributed.finish()
        return None
    device = torch.device("cuda", info.local_rank) if backend == "nccl" else torch.device("cpu")
    run = BenchRun(machine=describe_machine(device), mode=f"distributed-{mode}",
                   started_at=started.strftime("%Y-%m-%dT%H:%M:%S+0000"))
    expected, source = _link_expectation(info.local_rank) if backend == "nccl" else (
        None, "no link model: gloo over loopback/TCP")
    for c in collectives:
        name = f"{c.op.replace('_', '')}-busbw-{_size_label(c.size_bytes)}"
        fig = Figure(
            name=name, value=_sig(c.busbw_gbs), unit="GB/s",
            label=f"{c.op} {_size_label(c.size_bytes)} bus bandwidth ({info.world_size} ranks, {backend})",
            median_s=c.time_us / 1e6, runs=c.iterations,
            note="nccl-tests busbw: all_reduce algbw x 2(n-1)/n, all_gather x (n-1)/n, "
                 "broadcast x 1; time = slowest rank's median",
            params={"op": c.op, "size_bytes": c.size_bytes, "time_us": _sig(c.time_us),
                    "algbw_gbs": _sig(c.algbw_gbs), "world_size": info.world_size,
                    "backend": backend},
        )
        # Only large messages approach the link rate; small ones measure latency.
        if c.size_bytes >= 64 * 1024 ** 2:
            fig.set_expected(expected, source)
        run.results.append(fig)
    if ddp is not None:
        fig = Figure(
            name=f"ddp-{ddp.recipe}", value=round(ddp.ddp_samples_per_s, 2), unit="samples/s",
            label=f"DDP training {ddp.recipe}, {ddp.world_size} ranks x batch {ddp.batch_size}",
            note="every rank trains alone, then under DistributedDataParallel, concurrently, in "
                 "fp32 whatever the recipe's precision; scaling efficiency = DDP / alone",
            params={"scaling_efficiency": round(ddp.scaling_efficiency, 3),
                    "single_samples_per_s": round(ddp.single_samples_per_s, 2),
                    "per_rank": [{"rank": r, "single_samples_per_s": round(s, 2),
                                  "ddp_samples_per_s": round(d, 2)}
                                 for r, (s, d) in enumerate(ddp.per_rank)],
                    "world_size": ddp.world_size, "backend": backend},
        )
        fig.set_expected(ddp.single_samples_per_s, "the same ranks training alone (no sync)")
        run.results.append(fig)
    run.skipped = skipped
    run.duration_s = round(time.monotonic() - t0, 2)
    distributed.finish()
    return run


def rank_gemm() -> dict[str, float]:
    """This rank's quick GEMM figure for the fleet doctor, so that a slow node stands out
    (bf16 on GPUs, where training runs in mixed precision; fp32 on CPUs)."""
    import torch

    from rigcheck.bench.runner import Options, run_suite

    name = "gemm-bf16" if torch.cuda.is_available() else "gemm-fp32"
    run = run_suite(Options(only=(name,), time_scale=0.3))
    return {f.name: f.value for f in run.results}

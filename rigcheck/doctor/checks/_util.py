"""Small helpers shared by the check modules: finding GPUs, skip reasons, formatting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rigcheck.doctor.findings import Outcome, skip
from rigcheck.facts import Facts, GpuFacts


def not_collected(facts: Facts, *keys: str) -> str | None:
    """Why the origin could not tell us any of ``keys`` (section or field names), if it said."""
    for k in keys:
        if k in facts.not_collected:
            return facts.not_collected[k]
    return None


def no_gpu_reason(facts: Facts) -> str | None:
    """Why there are no per-GPU facts, or None when there are some."""
    if facts.nvml.available and facts.nvml.gpus:
        return None
    why = not_collected(facts, "nvml", "gpus")
    if why:
        return why
    if facts.nvml.error:
        return f"no GPU facts: {facts.nvml.error}"
    if facts.nvml.available:
        return "NVML found no GPUs"
    return "no GPU facts"


def need_gpus(facts: Facts) -> Outcome | None:
    reason = no_gpu_reason(facts)
    return skip(reason) if reason else None


def live_gpus(facts: Facts) -> list[GpuFacts]:
    return [g for g in facts.nvml.gpus if not g.lost]


def need_field(facts: Facts, field: str, *aliases: str) -> Outcome | None:
    """Skip when no GPU reported ``field`` (unsupported on GeForce, or not in a paste)."""
    gone = need_gpus(facts)
    if gone:
        return gone
    gpus = live_gpus(facts)
    if any(getattr(g, field) is not None for g in gpus):
        return None
    why = not_collected(facts, field, *aliases)
    if why:
        return skip(why)
    for key in (field, *aliases):
        errs = {g.field_errors[key] for g in gpus if g.field_errors.get(key)}
        if errs:
            return skip(f"{key} not available: {', '.join(sorted(errs))}")
    return skip(f"{field} not reported for any GPU")


def label(g: GpuFacts) -> str:
    return f"GPU {g.index}" + (f" ({g.name})" if g.name else "")


def join(items: list[str], limit: int = 4) -> str:
    if len(items) <= limit:
        return "; ".join(items)
    return "; ".join(items[:limit]) + f"; and {len(items) - limit} more"


def gib(mib: float | None) -> str:
    return "?" if mib is None else f"{mib / 1024:.1f} GiB"


def env(facts: Facts, name: str) -> str | None:
    return facts.python.env.get(name)


def env_known(facts: Facts) -> bool:
    """Whether the environment was captured at all (a paste has no env)."""
    return not not_collected(facts, "env", "python.env") and facts.python.error is None


def gpu_count(facts: Facts) -> int:
    if facts.nvml.gpu_count is not None:
        return facts.nvml.gpu_count
    return len(facts.nvml.gpus)


def total_gpu_memory_gb(facts: Facts) -> float | None:
    vals = [g.memory_total_mib for g in facts.nvml.gpus if g.memory_total_mib]
    if vals:
        return sum(vals) / 1024
    tvals = [d.total_memory_gb for d in facts.torch.devices if d.total_memory_gb]
    return sum(tvals) if tvals else None


def is_busy(g: GpuFacts) -> bool:
    """Under load: NVML says so. Idle state downshifts PCIe and clocks, which is not a fault."""
    if g.throttle_reasons and "GpuIdle" in g.throttle_reasons:
        return False
    if g.utilization_gpu_pct is not None:
        return g.utilization_gpu_pct >= 30
    return False


def is_datacenter(g: GpuFacts) -> bool:
    name = (g.name or "").upper()
    consumer = ("GEFORCE", "RTX ", "TITAN", "QUADRO")
    if any(c in name for c in consumer) and not any(x in name for x in ("RTX A6000", "RTX 6000 ADA")):
        return False
    return any(x in name for x in ("TESLA", " A100", " H100", " H200", " H20", " A10", " A30",
                                   " A40", " L4", " L40", " V100", " P100", " T4", " B200",
                                   " B100", " GB200", " GH200", " K80", " A800", " H800"))


def per_gpu(facts: Facts, test: Callable[[GpuFacts], Any]) -> list[tuple[GpuFacts, Any]]:
    """(gpu, result) for each live GPU where ``test`` returned something truthy."""
    out = []
    for g in live_gpus(facts):
        r = test(g)
        if r:
            out.append((g, r))
    return out


def no_torch_reason(facts: Facts, need_cuda: bool = True) -> str | None:
    """Why a torch check cannot run: torch not probed, not installed, or not a CUDA build."""
    t = facts.torch
    why = not_collected(facts, "torch")
    if why and not t.version:
        return why
    if t.error and not t.version:
        return f"torch could not be probed: {t.error}"
    if not t.version:
        return "torch not installed"
    if need_cuda and not t.cuda_build:
        return f"torch {t.version} is not a CUDA build"
    return None


def linux(facts: Facts) -> bool | None:
    os_name = (facts.host.os or "").lower()
    if not os_name:
        return None
    return not any(x in os_name for x in ("windows", "darwin", "macos", "mac os"))

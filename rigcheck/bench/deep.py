"""Active checks for ``rigcheck doctor --deep`` (DCGM's higher levels, in miniature).

On each GPU: a real allocation written and read back, and a matmul compared with a float64 CPU
reference; a numerical gradient check of a small network (torch.autograd.gradcheck in float64,
plus our own central-difference comparison whose worst relative error is reported); host-to-device
copy bandwidth from pinned and pageable memory against what the PCIe link should give; P2P copies
between GPU pairs. A CPU-only machine runs the CPU parts and reports the GPU parts as skipped.

Run it in a child process (:func:`run_in_child`) so a CUDA crash or hang cannot take the doctor
down; ``python rigcheck/bench/deep.py`` (or ``-m rigcheck.bench.deep``) prints the report as JSON.
Standard library and torch only, so any interpreter with torch can run it. Budget: well under 30 s on one
GPU (CUDA init ~1-3 s, the rest ~2-4 s).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

# Usable PCIe bandwidth per lane and direction in GB/s after line coding: Gen1/2 8b/10b at 2.5/5
# GT/s, Gen3+ 128b/130b at 8/16/32 GT/s (PCI-SIG base specifications).
PCIE_GBS_PER_LANE = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563}
# Pinned H2D copies reach ~80-90% of the link after TLP/DLLP overheads (e.g. ~25-26 GB/s on Gen4
# x16, NVIDIA's bandwidthTest); below half of the link is a fault (riser, slot, IOMMU).
PINNED_FAIL_FRACTION = 0.5
PINNED_WARN_FRACTION = 0.7

MATMUL_N = 2048
COPY_MIB = 256
P2P_MIB = 64


@dataclass
class DeepResult:
    name: str                 # "alloc", "matmul", "gradcheck", "h2d_pinned", "h2d_pageable", "p2p"
    device: str               # "cuda:0", "cpu", "cuda:0->cuda:1"
    status: str               # "ok" | "warn" | "fail" | "skip"
    summary: str
    value: float | None = None
    unit: str = ""
    expected: float | None = None
    seconds: float = 0.0


@dataclass
class DeepReport:
    results: list[DeepResult] = field(default_factory=list)
    torch_version: str | None = None
    error: str | None = None      # torch could not be imported / the child failed
    seconds: float = 0.0


def link_gbs(gen: int | None, width: int | None) -> float | None:
    if not gen or not width or gen not in PCIE_GBS_PER_LANE:
        return None
    return PCIE_GBS_PER_LANE[gen] * width


# ---- the checks (torch imported lazily) --------------------------------------------------------

def _timed(fn, *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def check_alloc(torch: Any, dev: str) -> DeepResult:
    """Allocate up to 1 GiB (at most half the free memory), write a pattern, read it back."""
    free, _total = torch.cuda.mem_get_info(torch.device(dev))
    n_bytes = int(min(1 << 30, free // 2)) // 4 * 4
    x = torch.arange(n_bytes // 4, dtype=torch.int32, device=dev)
    expect = (n_bytes // 4) * (n_bytes // 4 - 1) // 2
    got = int(x.to(torch.int64).sum().item())
    del x
    if got != expect:
        return DeepResult("alloc", dev, "fail", f"wrote {n_bytes / 2**20:.0f} MiB, read back a wrong sum "
                          f"({got} != {expect}): memory corruption", n_bytes / 2**20, "MiB")
    return DeepResult("alloc", dev, "ok", f"{n_bytes / 2**20:.0f} MiB allocated, written and read back",
                      n_bytes / 2**20, "MiB")


def check_matmul(torch: Any, dev: str) -> DeepResult:
    """fp32 GEMM on the device (TF32 off) against a float64 CPU reference."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(MATMUL_N, MATMUL_N, generator=g)
    b = torch.randn(MATMUL_N, MATMUL_N, generator=g)
    ref = a.double() @ b.double()
    prev = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        out = (a.to(dev) @ b.to(dev)).cpu().double()
    finally:
        torch.backends.cuda.matmul.allow_tf32 = prev
    rel = float((out - ref).abs().max() / ref.abs().max())
    # fp32 accumulation over n terms: error ~ sqrt(n) * 2^-24 relative; 1e-4 leaves margin.
    status = "ok" if rel < 1e-4 and math.isfinite(rel) else "fail"
    return DeepResult("matmul", dev, status, f"{MATMUL_N}x{MATMUL_N} fp32 matmul vs CPU float64: "
                      f"max relative error {rel:.1e}", rel, "rel", 1e-4)


def _mlp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
    return (x @ w1 + b1).tanh() @ w2 + b2


def check_gradcheck(torch: Any, dev: str) -> DeepResult:
    """Numerical vs analytic gradients of a 2-layer MLP in float64."""
    g = torch.Generator().manual_seed(1)
    shapes = [(4, 5), (5, 7), (7,), (7, 3), (3,)]
    args = [torch.randn(*s, generator=g, dtype=torch.float64).to(dev).requires_grad_() for s in shapes]
    ok_torch = bool(torch.autograd.gradcheck(_mlp, tuple(args), eps=1e-6, atol=1e-5, rtol=1e-3,
                                             raise_exception=False))
    # Our own central differences on the scalar loss sum(f^2), for the figure we report.
    loss = _mlp(*args).pow(2).sum()
    grads = torch.autograd.grad(loss, args)
    worst, eps = 0.0, 1e-6
    with torch.no_grad():
        for p, gp in zip(args, grads, strict=True):
            flat, gflat = p.view(-1), gp.reshape(-1)
            for i in range(0, flat.numel(), max(1, flat.numel() // 6)):
                old = float(flat[i])
                flat[i] = old + eps
                up = float(_mlp(*args).pow(2).sum())
                flat[i] = old - eps
                down = float(_mlp(*args).pow(2).sum())
                flat[i] = old
                num = (up - down) / (2 * eps)
                ana = float(gflat[i])
                worst = max(worst, abs(num - ana) / max(1e-8, abs(num) + abs(ana)))
    status = "ok" if ok_torch and worst < 1e-5 else "fail"
    return DeepResult("gradcheck", dev, status, f"gradcheck {'passed' if ok_torch else 'FAILED'}; "
                      f"central differences vs autograd: max relative error {worst:.1e}", worst, "rel", 1e-5)


def _copy_gbs(torch: Any, src: Any, dev: str, repeats: int) -> float:
    dst = torch.empty_like(src, device=dev)
    dst.copy_(src, non_blocking=True)
    torch.cuda.synchronize(dev)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        dst.copy_(src, non_blocking=True)
        torch.cuda.synchronize(dev)
        times.append(time.perf_counter() - t0)
    return src.numel() * src.element_size() / statistics.median(times) / 1e9


def check_h2d(torch: Any, dev: str, link: tuple[int | None, int | None] | None) -> list[DeepResult]:
    n = COPY_MIB * 2**20 // 4
    expected = link_gbs(*(link or (None, None)))
    pinned = torch.empty(n, dtype=torch.float32).pin_memory()
    pageable = torch.empty(n, dtype=torch.float32)
    p_gbs = _copy_gbs(torch, pinned, dev, 5)
    q_gbs = _copy_gbs(torch, pageable, dev, 3)
    status, tail = "ok", ""
    if expected and link is not None:
        frac = p_gbs / expected
        tail = f" = {frac:.0%} of the Gen{link[0]} x{link[1]} link ({expected:.1f} GB/s)"
        if frac < PINNED_FAIL_FRACTION:
            status = "fail"
        elif frac < PINNED_WARN_FRACTION:
            status = "warn"
    return [
        DeepResult("h2d_pinned", dev, status, f"pinned host->device {p_gbs:.1f} GB/s{tail}",
                   p_gbs, "GB/s", expected),
        DeepResult("h2d_pageable", dev, "ok", f"pageable host->device {q_gbs:.1f} GB/s "
                   f"({q_gbs / p_gbs:.0%} of pinned; use pin_memory=True in DataLoader)", q_gbs, "GB/s"),
    ]


def check_p2p(torch: Any, a: int, b: int) -> DeepResult:
    name = f"cuda:{a}->cuda:{b}"
    if not torch.cuda.can_device_access_peer(a, b):
        return DeepResult("p2p", name, "warn", "no peer access: copies go through host memory")
    n = P2P_MIB * 2**20 // 4
    src = torch.arange(n, dtype=torch.float32, device=f"cuda:{a}")
    gbs = _copy_gbs(torch, src, f"cuda:{b}", 3)
    same = bool(torch.equal(src.to(f"cuda:{b}").cpu(), src.cpu()))
    status = "ok" if same else "fail"
    return DeepResult("p2p", name, status, f"P2P copy {gbs:.1f} GB/s, data {'intact' if same else 'CORRUPTED'}",
                      gbs, "GB/s")


def run_deep(links: dict[int, tuple[int | None, int | None]] | None = None,
             budget_s: float = 25.0) -> DeepReport:
    """Run every active check that this machine allows; never raises."""
    t_start = time.perf_counter()
    report = DeepReport()
    try:
        import torch
    except Exception as exc:  # ImportError, or OSError from a broken CUDA install
        report.error = f"torch import failed: {type(exc).__name__}: {exc}"
        return report
    report.torch_version = str(torch.__version__)

    def guarded(fn: Any, name: str, dev: str, *args: Any) -> None:
        if time.perf_counter() - t_start > budget_s:
            report.results.append(DeepResult(name, dev, "skip", f"skipped: over the {budget_s:.0f} s budget"))
            return
        t0 = time.perf_counter()
        try:
            out = fn(torch, *args)
        except Exception as exc:
            out = DeepResult(name, dev, "fail", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        for r in out if isinstance(out, list) else [out]:
            r.seconds = round(time.perf_counter() - t0, 3)
            report.results.append(r)

    guarded(check_gradcheck, "gradcheck", "cpu", "cpu")
    try:
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        why = "torch.cuda.is_available() is False" if not n else ""
        if not torch.version.cuda and not getattr(torch.version, "hip", None):
            why = f"CPU-only torch {torch.__version__}"
    except Exception as exc:
        n, why = 0, f"CUDA init failed: {exc}"
    if not n:
        for name in ("alloc", "matmul", "h2d_pinned", "h2d_pageable", "p2p"):
            report.results.append(DeepResult(name, "cuda", "skip", f"skipped: {why}"))
    for i in range(n):
        dev = f"cuda:{i}"
        guarded(check_alloc, "alloc", dev, dev)
        guarded(check_matmul, "matmul", dev, dev)
        guarded(check_gradcheck, "gradcheck", dev, dev)
        guarded(check_h2d, "h2d_pinned", dev, dev, (links or {}).get(i))
    if n == 1:
        report.results.append(DeepResult("p2p", "cuda", "skip", "skipped: one GPU"))
    for a in range(n):
        for b in range(n):
            if a < b:
                guarded(check_p2p, "p2p", f"cuda:{a}->cuda:{b}", a, b)
    report.seconds = round(time.perf_counter() - t_start, 3)
    return report


# ---- child-process wrapper ---------------------------------------------------------------------

def report_from_dict(data: dict[str, Any]) -> DeepReport:
    results = [DeepResult(**r) for r in data.get("results", [])]
    return DeepReport(results=results, torch_version=data.get("torch_version"),
                      error=data.get("error"), seconds=float(data.get("seconds") or 0.0))


def run_in_child(links: dict[int, tuple[int | None, int | None]] | None = None,
                 timeout_s: float = 90.0, python: str | None = None) -> DeepReport:
    """Run :func:`run_deep` in a child Python so a segfault or hang cannot take the caller down."""
    arg = json.dumps({str(k): list(v) for k, v in (links or {}).items()})
    # Run this file as a script, not ``-m rigcheck.bench.deep``: ``python`` may be another
    # interpreter (the one whose torch the probe found, e.g. for a pipx-installed rigcheck) that
    # has torch but not rigcheck. The module needs only the standard library and torch.
    argv = [python or sys.executable, os.path.abspath(__file__), "--links", arg]
    try:
        # PCI bus order, as NVML numbers GPUs, so cuda:i meets the link facts of NVML GPU i
        # (CUDA's default FASTEST_FIRST order differs on mixed-GPU machines).
        env = dict(os.environ, CUDA_DEVICE_ORDER="PCI_BUS_ID")
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False,
                              env=env)
    except subprocess.TimeoutExpired:
        return DeepReport(error=f"the active checks timed out after {timeout_s:.0f} s (a hung GPU?)")
    except OSError as exc:
        return DeepReport(error=f"could not start the active checks: {exc}")
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return DeepReport(error=f"the active-check process exited with {proc.returncode}: {tail}")
    try:
        return report_from_dict(json.loads(proc.stdout))
    except (ValueError, TypeError) as exc:
        return DeepReport(error=f"unreadable output from the active checks: {exc}")


def main(argv: list[str] | None = None) -> int:
    # Run as a script, Python puts rigcheck/bench first on sys.path, where our modules
    # (timing.py, models/, ...) could shadow what torch imports. Drop it before torch loads.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    args = list(sys.argv[1:] if argv is None else argv)
    links: dict[int, tuple[int | None, int | None]] = {}
    if "--links" in args:
        raw = json.loads(args[args.index("--links") + 1])
        links = {int(k): (v[0], v[1]) for k, v in raw.items()}
    report = run_deep(links)
    sys.stdout.write(json.dumps(dataclasses.asdict(report)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

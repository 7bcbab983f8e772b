"""Suite orchestration: which figures to measure, in what order, within what time.

``run_suite(options, progress)`` measures and returns a :class:`BenchRun`; it never prints. The UI
passes ``progress`` to show a live display. Ctrl-C (KeyboardInterrupt) stops the suite and keeps
what was measured (``run.interrupted`` is True). A figure that cannot run here is recorded in
``run.skipped`` with the reason; an unexpected error in one figure skips that figure only.

``--quick`` (default) is sized to finish within a minute on a 2-core CPU: GEMM at 2048 on the CPU,
short budgets, and only the training recipes whose estimated step fits the remaining time, at a
small batch on the CPU (stated per figure). ``--full`` measures every recipe with longer budgets.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rigcheck.bench.context import BenchContext, Options
from rigcheck.bench.expect import attach, describe_machine, gpu_spec, target
from rigcheck.runs.results import BenchRun, Figure, Skipped

__all__ = ["BenchContext", "Event", "Options", "Task", "TorchUnavailable", "all_names",
           "detect_device", "load_recipes_safely", "matches", "run_suite", "torch_problem",
           "why_no_gpu"]


@dataclass
class Event:
    kind: str                                 # "start" | "done" | "skip"
    name: str
    index: int
    total: int
    label: str = ""
    figure: Figure | None = None
    reason: str = ""


Progress = Callable[[Event], None]

CPU_WHEEL_INDEX = "https://download.pytorch.org/whl/cpu"   # PyTorch's CPU-only wheels


class TorchUnavailable(RuntimeError):
    """PyTorch cannot be imported by this Python: nothing can be measured. The message is one
    line saying why and what to do."""


def torch_problem() -> str | None:
    """None when ``import torch`` works here; else one line saying why not and what to do."""
    try:
        import torch  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - ImportError, or OSError from a broken CUDA install
        text = " ".join(str(exc).split()) or type(exc).__name__   # one line, whatever it says
        head = f"rigcheck bench needs PyTorch, which this Python ({sys.executable}) cannot import"
        if isinstance(exc, ModuleNotFoundError) and exc.name == "torch":
            return (f"{head}: {text}. Install it: pip install torch (CPU: --index-url "
                    f"{CPU_WHEEL_INDEX}), or run rigcheck from the environment that has it.")
        return (f"{head}: {type(exc).__name__}: {text}. This PyTorch is installed but broken: "
                f"reinstall it (pip install --force-reinstall torch; CPU: --index-url "
                f"{CPU_WHEEL_INDEX}) or run rigcheck doctor, or run rigcheck from an environment "
                f"whose PyTorch works.")
    return None


@dataclass(frozen=True)
class Task:
    """One figure to measure: ``run`` takes the frozen context (with what was measured before
    it) and returns the figure or why it was skipped; it may raise ``micro.Skip`` instead, and
    any other error becomes a Skipped too (see :func:`_run_one`)."""

    name: str
    label: str
    run: Callable[[BenchContext], Figure | Skipped]
    group: str = "micro"


def matches(name: str, only: tuple[str, ...]) -> bool:
    return not only or any(fnmatch.fnmatchcase(name, pat) or name == pat for pat in only)


def all_names(recipes: dict[str, Any]) -> list[str]:
    """Every figure name the suite knows, for ``--only`` validation."""
    return (["gemm-fp32", "gemm-tf32", "gemm-fp16", "gemm-bf16", "mem-copy",
             "h2d-pinned", "h2d-pageable", "d2h-pinned", "d2h-pageable", "disk-read",
             "image-pipeline"] + [f"train-{rid}" for rid in recipes])


def load_recipes_safely() -> tuple[dict[str, Any], str]:
    try:
        from rigcheck.recipes import load_recipes
        return load_recipes(), ""
    except Exception as exc:  # noqa: BLE001 - a broken recipe folder must not sink the micro suite
        return {}, f"recipes could not be loaded: {exc}"


def _plan(st: BenchContext) -> list[Task]:
    from rigcheck.bench import micro, train  # both import torch

    quick = st.options.mode == "quick"
    scale = st.options.time_scale
    cuda = st.device.type == "cuda"

    def budget(seconds: float, **kw: Any) -> micro.Budget:
        return micro.Budget(budget_s=seconds * scale, **kw)

    n = 8192 if cuda else 2048
    tasks: list[Task] = []

    def gemm(dt: str) -> Callable[[BenchContext], Figure]:
        return lambda c: micro.gemm(dt, c.device, n, budget(1.5 if quick else 4.0))

    def copy(direction: str, pinned: bool) -> Callable[[BenchContext], Figure]:
        return lambda c: micro.host_device_copy(direction, pinned, c.device, 256 << 20,
                                                budget(0.5 if quick else 2.0))

    def trained(rid: str) -> Callable[[BenchContext], Figure]:
        return lambda c: train.train_figure(c, rid, quick)

    for dt in ("fp32", "tf32", "fp16", "bf16"):
        tasks.append(Task(f"gemm-{dt}", f"GEMM {dt}", gemm(dt)))
    size = (1 << 30) if cuda else (256 << 20)
    tasks.append(Task("mem-copy", "Memory copy",
                      lambda c: micro.memory_copy(c.device, size, budget(1.0 if quick else 3.0))))
    for direction in ("h2d", "d2h"):
        for pinned in (True, False):
            kind = "pinned" if pinned else "pageable"
            tasks.append(Task(f"{direction}-{kind}", f"Copy {direction} {kind}",
                              copy(direction, pinned)))
    tasks.append(Task("disk-read", "Dataset disk read", lambda c: _disk(c, budget)))
    tasks.append(Task("image-pipeline", "Image pipeline per core",
                      lambda c: micro.image_pipeline(budget(1.5 if quick else 4.0))))
    for rid in _train_order(st):
        tasks.append(Task(f"train-{rid}", f"Train {rid}", trained(rid), group="train"))
    return [t for t in tasks if matches(t.name, st.options.only)]


def _disk(st: BenchContext, budget: Callable[..., Any]) -> Figure:
    from rigcheck.bench import micro
    if st.options.data_dir is None:
        raise micro.Skip("no --data-dir given: name your dataset directory to measure its disk")
    size = (256 << 20) if st.options.mode == "quick" else (2 << 30)
    return micro.disk_read(st.options.data_dir, size,
                           budget(1.5 if st.options.mode == "quick" else 6.0))


def _train_order(st: BenchContext) -> list[str]:
    """Cheapest recipes first, so --quick measures as many as its time allows."""
    def cost(rid: str) -> tuple[float, str]:
        flops = st.recipes[rid].train_flops_per_sample
        return (flops if flops >= 1e4 else math.inf, rid)   # < 1e4: not filled in yet
    return sorted(st.recipes, key=cost)


def detect_device(wanted: str) -> Any:
    import torch
    if wanted == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(wanted)
    except RuntimeError:
        raise ValueError(f"--device '{wanted}': not a device; use auto, cpu, cuda or cuda:N") from None
    if dev.type not in ("cpu", "cuda", "mps", "xpu"):
        raise ValueError(f"--device '{wanted}': rigcheck bench measures cpu, cuda, mps (Apple) "
                         "and xpu (Intel) devices only")
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            built = bool(mps is not None and mps.is_built())
            raise ValueError(f"--device mps: Apple MPS is not available to torch {torch.__version__} "
                             f"({'built with MPS, but' if built else 'not built with MPS;'} it needs "
                             "macOS 12.3+ and an arm64 Python; rigcheck doctor says why)")
    if dev.type == "xpu":
        xpu = getattr(torch, "xpu", None)
        if xpu is None or not xpu.is_available():
            raise ValueError(f"--device '{wanted}': no Intel XPU is visible to torch {torch.__version__}")
        if dev.index is not None and dev.index >= xpu.device_count():
            raise ValueError(f"--device '{wanted}': PyTorch sees {xpu.device_count()} XPU(s), "
                             "numbered from 0")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device '{wanted}': no CUDA GPU is visible to PyTorch "
                         f"(torch {torch.__version__}, CUDA build: {torch.version.cuda})")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"--device '{wanted}': PyTorch sees {torch.cuda.device_count()} GPU(s), "
                         f"numbered from 0 (CUDA_VISIBLE_DEVICES renumbers them)")
    return dev


def run_suite(options: Options, progress: Progress | None = None) -> BenchRun:
    """Measure; never raises for a figure that fails. Device errors raise ValueError; a PyTorch
    that cannot be imported raises :class:`TorchUnavailable` (nothing is measured)."""
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    problem = torch_problem()
    if problem:
        raise TorchUnavailable(problem)
    device = detect_device(options.device)
    recipes = options.recipes
    run = BenchRun(machine=describe_machine(device), mode=options.mode,
                   started_at=started_at,
                   data_dir=str(options.data_dir) if options.data_dir else None,
                   load_avg_1m=_load_avg())
    if recipes is None:
        recipes, why = load_recipes_safely()
        if why:
            run.skipped.append(Skipped("train-*", why))
    base = BenchContext(options=options, device=device, recipes=dict(recipes),
                        machine=run.machine, gpu=gpu_spec(run.machine))
    tasks = _plan(base)
    emit = progress or (lambda e: None)
    try:
        for i, task in enumerate(tasks):
            emit(Event("start", task.name, i, len(tasks), label=task.label))
            ctx = dataclasses.replace(base, measured=tuple(run.results))
            out = _run_one(ctx, task)
            if isinstance(out, Figure):
                attach(out, ctx)
                run.results.append(out)
                emit(Event("done", task.name, i, len(tasks), label=task.label, figure=out))
            else:
                run.skipped.append(out)
                emit(Event("skip", task.name, i, len(tasks), label=task.label,
                           reason=out.reason))
    except KeyboardInterrupt:
        run.interrupted = True
    run.duration_s = round(base.elapsed(), 2)
    done = dataclasses.replace(base, measured=tuple(run.results))
    targets = options.targets or tuple(recipes)
    run.targets = [target(done, recipes[r]) for r in targets if r in recipes]
    return run


def why_no_gpu() -> str:
    """Why PyTorch sees no GPU, in words a user can act on."""
    import torch
    driver = os.path.exists("/dev/nvidiactl")   # the NVIDIA kernel driver's control node
    if torch.version.cuda is None:
        why = f"this PyTorch is a CPU-only build, {torch.__version__}"
        return why + ("; an NVIDIA driver is loaded: install a CUDA build of torch "
                      "(run rigcheck doctor)" if driver else "")
    why = f"PyTorch {torch.__version__} is built for CUDA {torch.version.cuda} but sees no GPU"
    return why + ("; run rigcheck doctor (driver version, CUDA_VISIBLE_DEVICES)" if driver
                  else "; no NVIDIA driver is loaded")


def _load_avg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):  # Windows has no load average
        return None


def _run_one(ctx: BenchContext, task: Task) -> Figure | Skipped:
    from rigcheck.bench import micro
    try:
        return task.run(ctx)
    except micro.Skip as exc:
        reason = str(exc)
        if reason.startswith("no CUDA GPU"):
            reason += f"; {why_no_gpu()}"
        return Skipped(task.name, reason)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one broken figure must not lose the others
        return Skipped(task.name, f"failed: {type(exc).__name__}: {exc}")

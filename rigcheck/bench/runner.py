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

import fnmatch
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rigcheck.bench.results import BenchRun, Figure, Machine, Skipped, Target
from rigcheck.bench.timing import MIN_RUNS, verdict

QUICK_TOTAL_S = 35.0         # leaves room in the 60 s goal for start-up (torch import), a last step
QUICK_TRAIN_STEP_S = 0.25    # the CPU training step --quick aims for (a smaller batch beyond it)
FULL_TRAIN_STEP_S = 2.0      # ... and --full
SIZING_EFFICIENCY = 0.25     # assumed fraction of CPU peak a training step reaches, for sizing



@dataclass
class Options:
    mode: str = "quick"                       # "quick" | "full"
    only: tuple[str, ...] = ()                # names or globs ("gemm-*"); empty: everything
    data_dir: Path | None = None              # dataset directory for the disk read test
    device: str = "auto"                      # "auto" | "cpu" | "cuda" | "cuda:1"
    targets: tuple[str, ...] = ()             # recipe ids for the target table; empty: all
    time_scale: float = 1.0                   # multiplies every budget (tests use < 1)
    recipes: dict[str, Any] | None = None     # id -> Recipe; None: the bundled ones


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


@dataclass
class Task:
    name: str
    label: str
    run: Callable[[], Figure | None]         # None: a skip was recorded inside
    group: str = "micro"


@dataclass
class _State:
    run: BenchRun
    options: Options
    device: Any
    recipes: dict[str, Any]
    gpu: Any = None                           # parts.Gpu of the detected GPU, if in the catalog
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


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


def _plan(st: _State) -> list[Task]:
    from rigcheck.bench import micro

    quick = st.options.mode == "quick"
    scale = st.options.time_scale
    cuda = st.device.type == "cuda"

    def budget(seconds: float, **kw: Any) -> micro.Budget:
        return micro.Budget(budget_s=seconds * scale, **kw)

    n = 8192 if cuda else 2048
    tasks: list[Task] = []
    for dt in ("fp32", "tf32", "fp16", "bf16"):
        tasks.append(Task(f"gemm-{dt}", f"GEMM {dt}",
                          lambda dt=dt: micro.gemm(dt, st.device, n,
                                                   budget(1.5 if quick else 4.0))))
    size = (1 << 30) if cuda else (256 << 20)
    tasks.append(Task("mem-copy", "Memory copy",
                      lambda: micro.memory_copy(st.device, size, budget(1.0 if quick else 3.0))))
    for direction in ("h2d", "d2h"):
        for pinned in (True, False):
            kind = "pinned" if pinned else "pageable"
            tasks.append(Task(
                f"{direction}-{kind}", f"Copy {direction} {kind}",
                lambda d=direction, p=pinned: micro.host_device_copy(
                    d, p, st.device, 256 << 20, budget(0.5 if quick else 2.0))))
    tasks.append(Task("disk-read", "Dataset disk read", lambda: _disk(st, budget)))
    tasks.append(Task("image-pipeline", "Image pipeline per core",
                      lambda: micro.image_pipeline(budget(1.5 if quick else 4.0))))
    for rid in _train_order(st):
        tasks.append(Task(f"train-{rid}", f"Train {rid}",
                          lambda rid=rid: _train_figure(st, rid, quick), group="train"))
    return [t for t in tasks if matches(t.name, st.options.only)]


def _disk(st: _State, budget: Callable[..., Any]) -> Figure:
    from rigcheck.bench import micro
    if st.options.data_dir is None:
        raise micro.Skip("no --data-dir given: name your dataset directory to measure its disk")
    size = (256 << 20) if st.options.mode == "quick" else (2 << 30)
    return micro.disk_read(st.options.data_dir, size,
                           budget(1.5 if st.options.mode == "quick" else 6.0))


def _train_order(st: _State) -> list[str]:
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
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"--device '{wanted}': rigcheck bench measures cpu and cuda devices only")
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
    st = _State(run=run, options=options, device=device, recipes=recipes,
                gpu=gpu_spec(run.machine))
    tasks = _plan(st)
    emit = progress or (lambda e: None)
    try:
        for i, task in enumerate(tasks):
            emit(Event("start", task.name, i, len(tasks), label=task.label))
            fig = _run_one(st, task)
            if fig is not None:
                attach(fig, st)
                run.results.append(fig)
                emit(Event("done", task.name, i, len(tasks), label=task.label, figure=fig))
            else:
                reason = next((s.reason for s in run.skipped if s.name == task.name), "")
                emit(Event("skip", task.name, i, len(tasks), label=task.label, reason=reason))
    except KeyboardInterrupt:
        run.interrupted = True
    run.duration_s = round(st.elapsed(), 2)
    targets = options.targets or tuple(recipes)
    run.targets = [target(st, recipes[r]) for r in targets if r in recipes]
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


def _run_one(st: _State, task: Task) -> Figure | None:
    from rigcheck.bench import micro
    try:
        return task.run()
    except micro.Skip as exc:
        reason = str(exc)
        if reason.startswith("no CUDA GPU"):
            reason += f"; {why_no_gpu()}"
        st.run.skipped.append(Skipped(task.name, reason))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one broken figure must not lose the others
        st.run.skipped.append(Skipped(task.name, f"failed: {type(exc).__name__}: {exc}"))
    return None


def quick_batch(per_sample_s: float, recipe_batch: int, max_step_s: float) -> int:
    """The recipe's batch, or the largest power of two below it, whose step
    (``per_sample_s`` x batch) stays within ``max_step_s``; at least 1."""
    b = recipe_batch
    while b > 1 and per_sample_s * b > max_step_s:
        b = 2 ** (math.ceil(math.log2(b)) - 1) if b & (b - 1) else b // 2
    return max(1, b)


def _cpu_batch(st: _State, recipe: Any, budget: Any, quick: bool, named: bool
               ) -> tuple[int, bool]:
    """The batch to time on this CPU, and whether a step is long even at batch 1.

    Sized from the recipe's FLOPs and the CPU's theoretical peak, not from a timed probe: the
    same machine then always times the same batch, so runs compare (history, repeatability)
    even when the machine is busy. The step is assumed to run at SIZING_EFFICIENCY of peak; that
    only picks the batch, the figure itself is measured. A model that cannot fit --quick even
    at batch 1 (BERT-large: minutes per step on 2 cores) is skipped without being built."""
    from rigcheck.bench import micro
    peak = cpu_peak_gflops(st.run.machine, "fp32")[0]
    if not peak:
        gemm = st.run.figure("gemm-fp32")
        peak = gemm.value if gemm else 100.0
    per_sample_s = recipe.train_flops_per_sample / (SIZING_EFFICIENCY * peak * 1e9)
    limit_s = QUICK_TRAIN_STEP_S if quick else FULL_TRAIN_STEP_S
    if quick and not named and per_sample_s > 4 * limit_s:
        raise micro.Skip(f"about {per_sample_s:.1f} s per sample on this CPU "
                         f"({recipe.train_flops_per_sample / 1e9:.0f} GFLOP per sample): too "
                         f"slow for --quick; run --full or --only train-{recipe.id}")
    batch = quick_batch(per_sample_s, recipe.batch_size, limit_s)
    est_total = per_sample_s * batch * (budget.warmup + budget.min_runs)
    left = QUICK_TOTAL_S * st.options.time_scale - st.elapsed()
    if quick and not named and est_total > left:
        raise micro.Skip(f"--quick time budget: about {est_total:.0f} s needed at batch {batch}, "
                         f"{max(left, 0):.0f} s left; run --full or --only train-{recipe.id}")
    return batch, per_sample_s * batch > 2 * limit_s


# ------------------------------------------------------------------- the machine and its peaks

def _cpuinfo() -> dict[str, str]:
    """First processor block of /proc/cpuinfo (Linux); empty elsewhere."""
    out: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                out[key.strip()] = value.strip()
    except OSError:
        pass
    return out


def _max_mhz() -> float | None:
    try:
        khz = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()
        return float(khz) / 1000.0
    except (OSError, ValueError):
        return None


def describe_machine(device: Any) -> Machine:
    import hashlib
    import platform

    import torch
    info = _cpuinfo()
    model = info.get("model name") or platform.processor() or platform.machine()
    flags = set(info.get("flags", "").split())
    gpus = ([torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if device.type == "cuda" else [])
    mhz, mhz_source = _max_mhz(), "cpuinfo_max_freq"
    if mhz is None and info.get("cpu MHz"):
        mhz, mhz_source = float(info["cpu MHz"]), "cpu MHz"
    key = "|".join([model, *gpus])
    return Machine(
        fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16], cpu_model=model,
        cpu_cores=os.cpu_count(), cpu_mhz=mhz, cpu_mhz_source=mhz_source if mhz else "",
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        cpu_flags=sorted(flags & {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16",
                                  "hypervisor"}),
        gpus=gpus, device=str(device), threads=torch.get_num_threads(),
        torch_version=torch.__version__, cuda_version=torch.version.cuda,
    )


def cpu_peak_gflops(m: Machine, dtype: str) -> tuple[float | None, str]:
    """Theoretical CPU peak = threads torch uses x clock x FLOPs per cycle per core.

    FLOPs/cycle/core: AVX2 with FMA, two 256-bit FMA units: 2 x 8 lanes x 2 = 32 fp32;
    AVX-512 with two 512-bit FMA units: 64 (some Xeon SKUs have one unit: half). bf16 with AMX:
    1024 per core (Intel AMX TMUL, Intel 64 and IA-32 Optimization Reference Manual); with
    AVX512_BF16 (VDPBF16PS): 128. The clock is cpuinfo_max_freq where Linux exposes it, else
    /proc/cpuinfo "cpu MHz" (often the base clock in a VM: turbo can beat this "peak").
    """
    if not m.cpu_mhz or not m.threads:
        return None, "CPU clock unknown"
    flags = set(m.cpu_flags)
    if dtype == "bf16" and "amx_bf16" in flags:
        per, how = 1024, "AMX bf16 1024 FLOP/cycle/core"
    elif dtype == "bf16" and "avx512_bf16" in flags:
        per, how = 128, "AVX512_BF16 128 FLOP/cycle/core"
    elif "avx512f" in flags or m.cpu_capability.startswith("AVX512"):
        per, how = 64, "AVX-512 FMA x2 units, 64 fp32 FLOP/cycle/core"
    elif "avx2" in flags or m.cpu_capability == "AVX2":
        per, how = 32, "AVX2 FMA x2 units, 32 fp32 FLOP/cycle/core"
    else:
        return None, "no AVX2/AVX-512: peak not modelled"
    if dtype == "bf16" and per < 128:
        how += " (no bf16 hardware: bf16 runs through fp32)"
    peak = m.threads * m.cpu_mhz / 1000.0 * per
    clock = f"{m.cpu_mhz / 1000:.2f} GHz"
    if m.cpu_mhz_source == "cpu MHz":
        clock += " (/proc/cpuinfo: a base or current clock; turbo can pass this peak)"
    return peak, f"theoretical peak: {m.threads} cores x {clock} x {how}"


def gpu_spec(m: Machine) -> Any:
    """The catalog row of the first detected GPU, via the performance model's matcher; records
    on ``m`` which row was used, or why none was (no % expected or % peak then)."""
    if not m.gpus:
        return None
    try:
        from rigcheck.catalog import load_catalog
        from rigcheck.perfmodel import match_gpu
        gpu = match_gpu(load_catalog().gpus, m.gpus[0])
    except Exception as exc:  # noqa: BLE001 - not in the catalog, or no perfmodel: no expectation
        m.gpu_catalog_note = (f"'{m.gpus[0]}' has no unambiguous catalog row "
                              f"({type(exc).__name__}): no % expected or % of peak for it")
        return None
    m.gpu_catalog_note = f"expected and peak figures use the catalog row '{gpu.name}'"
    return gpu


_PCIE_GBS = {3: 15.75, 4: 31.5, 5: 63.0}   # x16, per direction, after 128b/130b encoding


def attach(fig: Figure, st: _State) -> None:
    """Expected value, theoretical peak and a next step where the figure is far off."""
    m, gpu = st.run.machine, st.gpu
    name = fig.name
    if name.startswith("gemm-"):
        dt = name.split("-", 1)[1]
        if gpu is not None:
            spec = {"fp32": gpu.fp32_tflops, "tf32": gpu.tensor_tf32_tflops,
                    "fp16": gpu.tensor_fp16_tflops, "bf16": gpu.tensor_bf16_tflops}[dt]
            if spec:
                fig.set_peak(spec * 1000, f"catalog spec of {gpu.name} (dense)")
                if fig.pct_peak is not None and fig.pct_peak < 50:
                    fig.hint = ("far below the GPU's spec: run rigcheck doctor and check clocks, "
                                "power limit and thermal throttling (nvidia-smi -q -d PERFORMANCE)")
        elif st.device.type == "cpu":
            peak, source = cpu_peak_gflops(m, dt)
            fig.set_peak(peak, source)
            if fig.pct_peak is not None and fig.pct_peak < 30:
                fig.hint = (f"well below this CPU's peak: check that nothing else is running and "
                            f"that torch uses every core (it uses {m.threads})")
    elif name == "mem-copy" and gpu is not None:
        fig.set_peak(gpu.mem_bw_gbs, f"catalog spec of {gpu.name}")
    elif name[:3] in ("h2d", "d2h") and gpu is not None:
        link = _PCIE_GBS.get(gpu.pcie_gen)
        fig.set_peak(link, f"PCIe {gpu.pcie_gen}.0 x16 per direction (the card's link)")
        if name.endswith("pinned") and fig.pct_peak is not None and fig.pct_peak < 50:
            fig.hint = ("far below the PCIe link: run rigcheck doctor; check the PCIe link "
                        "width and generation (nvidia-smi -q -d PCIE)")
        if name.endswith("pageable"):
            pinned = st.run.figure(name.replace("pageable", "pinned"))
            if pinned and fig.value < 0.6 * pinned.value:
                fig.hint = "pageable copies are slow here: use DataLoader(pin_memory=True)"
    elif name.startswith("train-"):
        _attach_train(fig, st)
    elif name == "disk-read":
        # What this disk feeds, for the recipes' largest samples (samples/s = MB/s / size).
        # The seed lecture's reference point: ~2,400 images/s needed ~500 MB/s.
        sized = [r for r in st.recipes.values() if r.bytes_per_sample > 0]
        if sized:
            big = max(sized, key=lambda r: r.bytes_per_sample)
            rate = fig.value * 1e6 / big.bytes_per_sample
            fig.params["feeds_samples_per_s"] = {big.dataset: round(rate)}
            fig.note += (f"; feeds {rate:,.0f} samples/s of {big.dataset.split(' (')[0]} "
                         f"({big.bytes_per_sample / 1e3:.0f} kB each)")
        if "hypervisor" in m.cpu_flags:
            fig.note += ("; this is a virtual machine: its host may still cache the file, "
                         "out of the guest's reach")


def _precision_peak(st: _State, precision: str) -> tuple[float | None, str]:
    """Peak GFLOP/s at the precision the recipe's matmuls run in."""
    gpu = st.gpu
    if gpu is not None:
        tflops = {"fp32": gpu.fp32_tflops, "tf32": gpu.tensor_tf32_tflops,
                  "fp16": gpu.tensor_fp16_tflops, "amp": gpu.tensor_fp16_tflops,
                  "bf16": gpu.tensor_bf16_tflops}.get(precision)
        source = f"catalog spec of {gpu.name}"
        if precision == "fp32" and gpu.tensor_tf32_tflops:
            # cudnn.allow_tf32 defaults to True: convolutions run in TF32 on Ampere and later.
            source += (" (fp32 CUDA-core peak; PyTorch runs convolutions in TF32 by default "
                       "here, so a CNN can pass 100%)")
        return (tflops * 1000, source) if tflops else (None, "")
    if st.device.type == "cpu":
        return cpu_peak_gflops(st.run.machine, "fp32" if precision in ("fp32", "tf32") else "bf16")
    return None, ""


def _attach_train(fig: Figure, st: _State) -> None:
    recipe = st.recipes.get(fig.name[len("train-"):])
    if recipe is None:
        return
    peak, source = _precision_peak(st, recipe.precision)
    if peak:
        # As a rate of samples: what the recipe's FLOPs per sample allow at the peak (so
        # pct_peak is the model-FLOPs utilisation).
        fig.set_peak(peak * 1e9 / recipe.train_flops_per_sample,
                     f"{source}; / {recipe.train_flops_per_sample / 1e9:.3g} GFLOP per sample")
    if st.gpu is not None:
        pred = _predict(recipe, st.gpu, batch_size=fig.params.get("batch_size"))
        if pred is not None:
            fig.set_expected(pred.samples_per_s, "rigcheck performance model (rigcheck estimate)")
            if fig.pct_expected is not None and fig.pct_expected < 60:
                fig.hint = ("well below the model's prediction for this GPU: run rigcheck doctor "
                            "(clocks, power limit, PCIe link, other processes on the GPU)")


def _predict(recipe: Any, gpu: Any, **kw: Any) -> Any:
    try:
        from rigcheck.perfmodel import predict
        return predict(recipe, gpu, **kw)
    except Exception:  # noqa: BLE001 - the model is optional here: no expectation, no crash
        return None


# ------------------------------------------------------------------------- training figures

def _train_figure(st: _State, rid: str, quick: bool) -> Figure:
    import torch

    from rigcheck.bench import micro
    from rigcheck.bench.timing import OutOfTime
    recipe = st.recipes[rid]
    try:
        from rigcheck.bench.models import build_workload
    except ImportError as exc:
        raise micro.Skip(f"the bundled models cannot be imported: {exc}") from None
    batch = recipe.batch_size
    scale = st.options.time_scale
    named = any(fnmatch.fnmatchcase(f"train-{rid}", p) and "*" not in p
                for p in st.options.only)
    # --quick: nothing may start after the suite's time is up, whatever the estimate said
    # (unless the user named this recipe).
    deadline = st.started + QUICK_TOTAL_S * scale if quick and not named else None
    budget = (micro.Budget(budget_s=2.0 * scale, min_runs=5, max_runs=30, warmup=2,
                           deadline=deadline) if quick
              else micro.Budget(budget_s=6.0 * scale, min_runs=10, max_runs=100, warmup=5))
    if deadline is not None and time.perf_counter() > deadline:
        raise micro.Skip(f"--quick time budget ran out; run --full or --only train-{rid}")
    if st.device.type == "cpu":
        batch, slow = _cpu_batch(st, recipe, budget, quick, named)
        if slow:   # minutes per step: 3 timed steps, and the verdict says it was too few
            budget = micro.Budget(budget_s=0.0, min_runs=3, max_runs=3, warmup=1,
                                  deadline=budget.deadline, max_s=math.inf)
    fits: bool | None = None
    tried: list[int] = []
    while True:
        tried.append(batch)
        wl = None
        try:
            wl = build_workload(recipe, st.device)   # the weights alone can be too big
            timing, how = micro.train_step_timing(
                wl, device=st.device, batch_size=batch, precision=recipe.precision,
                optimizer=recipe.optimizer, channels_last=recipe.channels_last, budget=budget)
            if st.device.type == "cuda" and batch == recipe.batch_size:
                fits = True
            break
        except OutOfTime:
            raise micro.Skip(f"--quick time budget ran out while warming up at batch {batch}; "
                             f"run --full or --only train-{rid}") from None
        except torch.cuda.OutOfMemoryError:
            if batch == recipe.batch_size:
                fits = False
            if batch <= 1 or wl is None:
                raise micro.Skip(f"out of device memory at batch {batch} (tried {tried}): the "
                                 f"{recipe.model} model does not fit this GPU") from None
            batch //= 2
        finally:
            del wl
            if st.device.type == "cuda":
                torch.cuda.empty_cache()
    smaller = (f" (recipe batch {recipe.batch_size}; smaller to fit the time budget)"
               if batch != recipe.batch_size and fits is not False else
               f" (recipe batch {recipe.batch_size} is out of memory)" if fits is False else "")
    note = (f"full training step (zero_grad, forward, loss, backward, {recipe.optimizer} step) "
            f"at batch {batch}{smaller}, {recipe.precision}{', ' + how if how else ''}; "
            "samples/s = batch / median step")
    fig = micro.figure_from(
        f"train-{rid}", batch / timing.median_s, "samples/s", timing,
        label=f"train {rid}", note=f"{recipe.name}: {note}",
        params={"batch_size": batch, "recipe_batch_size": recipe.batch_size,
                "precision": recipe.precision, "step_s": timing.median_s, "fits": fits},
    )
    if timing.runs < MIN_RUNS:   # judged by the usual bar even when fewer runs were planned
        fig.verdict = verdict(timing.cv_pct, timing.runs)
    return fig


def train_memory_gb(recipe: Any, batch: int) -> float:
    """Training memory at ``batch``: the performance model's figure (the same one ``rigcheck
    estimate`` uses), or, without it, weights + gradients + optimizer state + activations from
    the recipe's figures (fp32 master weights; Adam keeps two moments, momentum SGD one)."""
    try:
        from rigcheck.perfmodel import train_memory_gb as model_memory_gb
        return float(model_memory_gb(recipe, batch, recipe.precision))
    except Exception:  # noqa: BLE001 - perfmodel absent or failing: the plain sum below
        pass
    state = {"sgd": 0, "sgd-momentum": 4, "adam": 8, "adamw": 8}.get(recipe.optimizer, 8)
    total = (recipe.params * 4 + recipe.trainable_params * (4 + state)
             + recipe.activation_bytes_per_sample * batch)
    return total / 1e9


def _ram_gb() -> float | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (ValueError, OSError, AttributeError):
        return None


def target(st: _State, recipe: Any) -> Target:
    run = st.run
    t = Target(recipe=recipe.id, name=recipe.name, batch_size=recipe.batch_size)
    fig = run.figure(f"train-{recipe.id}")
    pred = _predict(recipe, st.gpu) if st.gpu is not None else None
    if fig is not None:
        t.samples_per_s, t.source = fig.value, "measured"
        t.measured_batch_size = fig.params.get("batch_size")
        t.fits = fig.params.get("fits")
    elif pred is not None:
        t.samples_per_s, t.source = pred.samples_per_s, "model"
    if t.fits is None and pred is not None:
        t.fits = bool(pred.fits)
        t.fits_note = f"model: {pred.memory_gb:.1f} GB at batch {recipe.batch_size}"
    elif t.fits is None and st.device.type == "cpu":
        need, ram = train_memory_gb(recipe, recipe.batch_size), _ram_gb()
        if ram:
            t.fits = need <= 0.8 * ram   # leave a fifth of RAM to the OS and the data loader
            t.fits_note = f"estimate {need:.1f} GB of {ram:.0f} GB RAM at batch {recipe.batch_size}"
    elif t.fits is not None:
        t.fits_note = f"measured at batch {recipe.batch_size}"
    if t.samples_per_s:
        t.epoch_s = recipe.dataset_samples / t.samples_per_s
        t.train_s = t.epoch_s * recipe.epochs
        t.data_mbs_needed = t.samples_per_s * recipe.bytes_per_sample / 1e6
        t.note = _feed_note(run, recipe, t)
    return t


def _feed_note(run: BenchRun, recipe: Any, t: Target) -> str:
    notes = []
    disk = run.figure("disk-read")
    if disk is not None and t.data_mbs_needed and disk.value < t.data_mbs_needed:
        notes.append(f"the dataset disk reads {disk.value:.0f} MB/s but this rate needs "
                     f"{t.data_mbs_needed:.0f} MB/s: use a faster SSD or cache the data in RAM")
    pipe = run.figure("image-pipeline")
    if pipe is not None and recipe.family == "cnn" and len(recipe.input_shape) == 3 \
            and recipe.input_shape[0] == 3 and t.samples_per_s:
        workers = math.ceil(t.samples_per_s / pipe.value)
        decode = "" if pipe.params.get("jpeg_decode") else ", transform only: more with JPEG decode"
        notes.append(f"about {workers} data-loader worker(s) at {pipe.value:.0f} images/s/core"
                     f"{decode} (this machine has {os.cpu_count()} CPUs)")
    return "; ".join(notes)

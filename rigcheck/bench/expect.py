"""What a figure should reach here: the machine, its theoretical peaks, expectations, targets.

``describe_machine`` records the CPU, its clock and vector units and the RAM (from the probe's
host facts, the one machine description) and the GPUs PyTorch sees.
``cpu_peak_gflops`` is the CPU's theoretical peak; ``gpu_spec`` finds the detected GPU's catalog
row through the performance model's matcher. ``attach`` adds to a measured figure its expected
value (the performance model), its theoretical peak and a next step (usually rigcheck doctor)
where it is far off; ``target`` turns a recipe into the target table's row (fits, time per epoch
and to train, the disk rate it needs, how many data-loader workers). Pure over the frozen :class:`~rigcheck.bench.context.BenchContext`,
except ``describe_machine`` (probes the host unless given its facts, and asks torch).
"""

from __future__ import annotations

import math
import os
from typing import Any

from rigcheck.bench.context import BenchContext
from rigcheck.facts import HostFacts
from rigcheck.runs.results import Figure, Machine, Target

GIB = 1 << 30   # the probe reports RAM in GiB

def describe_machine(device: Any, host: HostFacts | None = None) -> Machine:
    """The machine a run measured: CPU and RAM from the probe's host facts (the one machine
    description, rigcheck.probe.host; collected here when not given), GPUs and threads from
    torch."""
    import hashlib

    import torch
    if host is None:
        from rigcheck.probe.host import collect_host
        host = collect_host()
    model = host.cpu_model or host.arch or ""
    flags = {name for name, has in (host.cpu_flags or {}).items() if has}
    if host.hypervisor:
        flags.add("hypervisor")
    gpus = ([torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if device.type == "cuda" else [])
    mhz, mhz_source = host.cpu_max_mhz, "cpuinfo_max_freq"
    if mhz is None and host.cpu_mhz:
        mhz, mhz_source = host.cpu_mhz, "cpu MHz"
    key = "|".join([model, *gpus])
    ram_gb = round(host.ram_total_gb * GIB / 1e9, 2) if host.ram_total_gb else None
    return Machine(
        fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16], cpu_model=model,
        cpu_cores=host.threads, cpu_mhz=mhz, cpu_mhz_source=mhz_source if mhz else "",
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        cpu_flags=sorted(flags & {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16",
                                  "hypervisor"}),
        gpus=gpus, device=str(device), threads=torch.get_num_threads(), ram_gb=ram_gb,
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
        from rigcheck.perfmodel import lookup_gpu
        found = lookup_gpu(m.gpus[0], load_catalog().gpus)
    except Exception as exc:  # noqa: BLE001 - unknown GPU, or no perfmodel: no expectation
        m.gpu_catalog_note = (f"'{m.gpus[0]}' has no unambiguous catalog row or GPU spec-database row "
                              f"({type(exc).__name__}): no % expected or % of peak for it")
        return None
    gpu = found.gpu
    table = "catalog row" if found.in_catalog else "GPU spec database row"
    m.gpu_catalog_note = f"expected and peak figures use the {table} '{gpu.name}'"
    return gpu


_PCIE_GBS = {3: 15.75, 4: 31.5, 5: 63.0}   # x16, per direction, after 128b/130b encoding


def attach(fig: Figure, st: BenchContext) -> None:
    """Expected value, theoretical peak and a next step where the figure is far off."""
    m, gpu = st.machine, st.gpu
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
            pinned = st.figure(name.replace("pageable", "pinned"))
            if pinned and fig.value < 0.6 * pinned.value:
                fig.hint = "pageable copies are slow here: use DataLoader(pin_memory=True)"
    elif name.startswith("train-"):
        _attach_train(fig, st)
    elif name.startswith("llm-") and gpu is not None:
        try:
            want = llm_expected_tokens_per_s(fig, gpu)
        except Exception:  # noqa: BLE001 - the model is optional here: no expectation, no crash
            want = None
        fig.set_expected(want, "rigcheck LLM performance model (rigcheck estimate --model "
                               f"{fig.params.get('model', '')}) for the same shapes")
        if fig.pct_expected is not None and fig.pct_expected < 60:
            fig.hint = ("well below the model's prediction for this GPU: run rigcheck doctor "
                        "(clocks, power limit, other processes on the GPU)")
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


LLM_FIGURES = ("llm-prefill", "llm-decode", "llm-lora-step")


def llm_expected_tokens_per_s(fig: Figure, gpu: Any) -> float | None:
    """The LLM performance model's tokens/s for an LLM bench figure's shapes (its model, layers,
    vocabulary, sequence or context; :mod:`rigcheck.bench.llm`) on ``gpu`` (a spec record);
    None for another figure. Torch-free: refinement calls it on saved runs."""
    from dataclasses import replace

    from rigcheck.perfmodel.llm_configs import find_model
    from rigcheck.perfmodel.llm_memory import LlmRun
    from rigcheck.perfmodel.llm_speed import infer_speed, train_speed
    if fig.name not in LLM_FIGURES:
        return None
    p = fig.params
    base = find_model(p["model"])
    cfg = replace(base, num_layers=int(p["layers"]),
                  vocab_size=int(p.get("vocab_size") or base.vocab_size))
    if fig.name == "llm-prefill":
        return infer_speed(cfg, LlmRun("infer", seq_len=int(p["seq_len"])), gpu).prefill_tokens_per_s
    if fig.name == "llm-decode":
        return infer_speed(cfg, LlmRun("infer", seq_len=int(p["context"])),
                           gpu).decode_tokens_per_s_batch1
    return train_speed(cfg, LlmRun("lora", seq_len=int(p["seq_len"]), grad_checkpointing=False),
                       gpu).tokens_per_s


def _precision_peak(st: BenchContext, precision: str) -> tuple[float | None, str]:
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
        return cpu_peak_gflops(st.machine, "fp32" if precision in ("fp32", "tf32") else "bf16")
    return None, ""


def _attach_train(fig: Figure, st: BenchContext) -> None:
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


# ----------------------------------------------------------------------- the target table

def train_memory_gb(recipe: Any, batch: int, *, gpu: bool = True) -> float:
    """Training memory at ``batch``: the one memory model's figure (rigcheck.perfmodel.memory,
    the same as estimate, doctor and recommend); ``gpu=False`` for a CPU run (no CUDA context)."""
    from rigcheck.perfmodel import memory as mem
    return mem.train_memory_gb(recipe, batch, gpu=gpu)


def target(st: BenchContext, recipe: Any) -> Target:
    """The target table's row for ``recipe`` from what ``st`` measured (or the model's)."""
    t = Target(recipe=recipe.id, name=recipe.name, batch_size=recipe.batch_size)
    fig = st.figure(f"train-{recipe.id}")
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
        need, ram = train_memory_gb(recipe, recipe.batch_size, gpu=False), st.machine.ram_gb
        if ram:
            t.fits = need <= 0.8 * ram   # leave a fifth of RAM to the OS and the data loader
            t.fits_note = f"estimate {need:.1f} GB of {ram:.0f} GB RAM at batch {recipe.batch_size}"
    elif t.fits is not None:
        t.fits_note = f"measured at batch {recipe.batch_size}"
    if t.samples_per_s:
        t.epoch_s = recipe.dataset_samples / t.samples_per_s
        t.train_s = t.epoch_s * recipe.epochs
        t.data_mbs_needed = t.samples_per_s * recipe.bytes_per_sample / 1e6
        t.note = _feed_note(st, recipe, t)
    return t


def _feed_note(run: BenchContext, recipe: Any, t: Target) -> str:
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

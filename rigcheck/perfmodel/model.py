"""The performance model: recipe + GPU record -> training throughput, step time and memory.

Pure (no torch, no pandas, no I/O beyond reading the committed parameters once).

Per sample, on one GPU (F = train FLOPs per sample, A = saved activation bytes per sample at the
run's precision, bw = ``mem_bw_gbs``)::

    t_compute = F / (peak x eff)          peak: fp32 CUDA cores, TF32 or fp16/bf16 tensor cores,
                                          chosen as PyTorch would (see hardware.py)
    eff       = exp(compute_log_eff[class] + generation_log_offset[gen] + family_compute_log[fam])
    t_memory  = traffic_k[fam] x A / bw'  (x nchw_tensor_factor for an NCHW CNN on tensor cores)
    bw'       = soft minimum of bw and issue_bw_per_sm_ghz x SMs x GHz (achieved_bandwidth)
    t_sample  = (t_compute^p + t_memory^p)^(1/p)          p = combine_p, a soft roofline maximum

Per step, batch B::

    step_s = B x t_sample + t_optimizer + STEP_OVERHEAD_S
    t_optimizer = trainable params x optimizer bytes moved / (0.8 x bw)

The efficiency parameters are few (per precision class, per generation, per family) and fitted in
log space on published throughputs (``calibration.csv``, ``calibrate.py``); ``params.json`` records
the fit and its provenance. Multi-GPU: ``scaling.py``. Memory: ``memory.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rigcheck.parts import Gpu
from rigcheck.recipes import Recipe

from . import memory as mem
from . import scaling
from .hardware import ComputeSetup, family_key, generation, power_headroom, resolve, sm_ghz
from .params import EfficiencyParams, load_params

# A PyTorch eager training step of even a tiny model dispatches tens of kernels (forward, backward,
# optimizer) at roughly 5-20 us each of launch and Python dispatch: about 1 ms in all. Negligible
# for ImageNet-scale steps (100+ ms), it is what bounds LeNet-5 or an MNIST autoencoder.
STEP_OVERHEAD_S = 1e-3

# Bytes the optimizer step reads and writes per trainable parameter (fp32 state, foreach/fused
# kernels): SGD reads weight+grad and writes the weight (12); momentum adds the buffer read and
# write (20); Adam adds two moments (28). Moved at 80% of the memory bandwidth.
OPTIMIZER_TRAFFIC_BYTES = {"sgd": 12.0, "sgd-momentum": 20.0, "adam": 28.0, "adamw": 28.0}
OPTIMIZER_BW_FRACTION = 0.8

# An Adam written as a Python loop of unfused in-place tensor ops per parameter tensor, like the
# BertAdam that NVIDIA DeepLearningExamples' BERT run_squad.py uses when not in fp16/amp (the
# fp16 path uses apex FusedAdam; LambdaLabsML/DeepLearningExamples@b5e1251, which Lambda's
# benchmark runs, and NVIDIA's optimization.py): per fp32 parameter the global grad norm reads 4
# bytes, m.mul_().add_() and v.mul_().addcmul_() move 20 each, m / (v.sqrt() + e) 28, the
# weight-decay term 20, the lr scale 8 and p.add_() 12: 112 bytes, 4x a fused Adam's 28.
UNFUSED_ADAM_TRAFFIC_BYTES = 112.0

# fp16 on a GPU without tensor cores (Maxwell, Pascal) stores half the bytes but gains little
# time: the calibration rows show 1.12-1.17x (convnet-benchmarks Titan X AlexNet 81 -> 71 ms,
# VGG-A 529 -> 471 ms; Lambda GTX 1080 Ti ResNet-50 196 -> 230 img/s). We use 1.15x.
NO_TENSOR_HALF_SPEEDUP = 1.15

# Saved fp32 activation bytes per forward FLOP of a fully trained model, per family, from the
# calibration workloads (workloads.py): ResNet-50 86.3 MB / 8.18 GFLOP, BERT-large (seq 384)
# 685 MB / 246 GFLOP, GNMT 240 KB / 125 MFLOP per token.
FORWARD_BYTES_PER_FLOP = {"cnn": 0.01056, "transformer": 0.00278, "rnn": 0.00192}

# Reference points of the peak/bandwidth exponents (params.py): the exponents bend the scaling
# around these, the efficiencies are quoted at them.
REF_TFLOPS = 100.0
REF_BW_GBS = 1000.0

# Sharpness of the soft minimum of the DRAM and SM-issue bandwidth limits (achieved_bandwidth).
# Chosen, not fitted: in leave-one-GPU-out CV (bandwidth exponent free) q = 1, 2, 4 gave worst
# held-out errors of 59%, 57% and 59%, and 3, 2 and 2 rows worse than 50%.
ISSUE_COMBINE_Q = 2.0

# Share of a step's compute that is backward (2 of the 3 matmul passes), for all-reduce overlap.
BACKWARD_FRACTION = 2.0 / 3.0


@dataclass(frozen=True)
class Prediction:
    samples_per_s: float        # all GPUs together
    step_s: float               # one optimizer step (the same on every GPU)
    memory_gb: float            # per GPU at the batch
    fits: bool                  # memory_gb <= vram_gb x 0.95 (memory.USABLE_FRACTION)
    batch_size: int             # per GPU
    precision: str              # effective, e.g. "fp32 (TF32 convs)", "amp (fp16)"
    n_gpus: int                 # GPUs per node
    nodes: int
    epoch_s: float
    train_s: float
    bound: str                  # "compute" | "memory-bandwidth" | "communication" | "overhead"
    scaling_efficiency: float   # 1.0 for one GPU
    notes: tuple[str, ...]
    # "calibrated", or "extrapolated: ..." when no calibration row shares the GPU's architecture
    # generation (every AMD, Intel and Apple GPU, Kepler, ...): the pooled fit answers for it.
    calibration: str = "calibrated"


@dataclass(frozen=True)
class StepBreakdown:
    compute_s: float            # batch x t_compute
    memory_s: float             # batch x t_memory
    optimizer_s: float
    overhead_s: float
    step_s: float


def frozen_forward_bytes(recipe: Recipe, precision: str) -> float:
    """Activation bytes that layers run forward-only (frozen, under no_grad) still stream.

    ``activation_bytes_per_sample`` counts what is saved for backward, so a frozen backbone
    (transfer learning) saves almost nothing yet still reads and writes its activations. The
    forward-only FLOPs are ``(3 x fwd - train) / 2`` (a trained layer costs 3x its forward, a
    frozen one 1x); they move FORWARD_BYTES_PER_FLOP of activations per FLOP, a third of what a
    training step moves per forward FLOP (forward is a third of training: NVIDIA DLE's V100
    ResNet-50 runs 367 img/s training and 1,261 img/s inference in fp32).
    """
    frozen = (3.0 * recipe.fwd_flops_per_sample - recipe.train_flops_per_sample) / 2.0
    frozen = min(max(frozen, 0.0), recipe.fwd_flops_per_sample)
    per_flop = FORWARD_BYTES_PER_FLOP.get(family_key(recipe), 0.0)
    return frozen * per_flop / 3.0 * mem.element_bytes(precision) / 4.0


def compute_efficiency(params: EfficiencyParams, setup: ComputeSetup, gen: str, fam: str) -> float:
    log_eff = (
        params.compute_log_eff.get(setup.pclass, math.log(0.5))
        + params.generation_log_offset.get(gen, 0.0)
        + params.family_compute_log.get(fam, 0.0)
    )
    return math.exp(log_eff)


def power_factor(params: EfficiencyParams, gpu: Gpu, setup: ComputeSetup) -> float:
    """Share of the nominal tensor-core rate a power-limited card sustains: headroom ** the
    fitted ``power_exponent`` where ``hardware.power_headroom`` is below 1, else 1. CUDA-core
    fp32 work draws far less power per clock than dense tensor-core math; it is left alone."""
    if setup.pclass not in ("tc16", "tf32") or params.power_exponent <= 0:
        return 1.0
    headroom = power_headroom(gpu)
    if headroom is None or headroom >= 1.0:
        return 1.0
    return float(headroom ** params.power_exponent)


def achieved_bandwidth(params: EfficiencyParams, gpu: Gpu) -> float:
    """Bytes/s at which a step's activation traffic (elementwise, normalisation, layout kernels)
    streams: the DRAM rate, capped softly by the rate at which the SMs can issue that traffic.

    By Little's law a streaming kernel sustains bytes-in-flight / latency, and the loads each SM
    keeps in flight are bounded, so eager-mode elementwise kernels reach the HBM peak only with
    enough SMs x clock behind it (``hardware.sm_ghz``). A chip whose HBM grew far faster than its
    SMs cannot turn the extra bandwidth into proportionally faster kernels: B200 has 2.4x H100
    SXM's bandwidth (8 vs 3.35 TB/s) on 1.1x its SMs x clock (148 vs 132 SMs), and Lambda's
    ResNet-50 runs only 1.1-1.6x faster on it. Without this limit the model, fitted on earlier
    chips, extrapolated B200 linearly in bandwidth (+81% on ResNet-50 AMP held out). The two
    limits combine as a soft minimum, (dram^-q + issue^-q)^(-1/q), q = ISSUE_COMBINE_Q: q = 1
    (times add) under-predicts the bandwidth-rich chips, a hard minimum ignores that a kernel
    near either limit is slowed by both. ``issue_bw_per_sm_ghz`` (GB/s per SM-GHz) is fitted; 0
    disables the limit.
    """
    dram = float(REF_BW_GBS * 1e9 * (gpu.mem_bw_gbs / REF_BW_GBS) ** params.bw_exponent)
    if params.issue_bw_per_sm_ghz <= 0:
        return dram
    issue = params.issue_bw_per_sm_ghz * 1e9 * sm_ghz(gpu)
    q = ISSUE_COMBINE_Q
    return float((dram ** -q + issue ** -q) ** (-1.0 / q))


def step_breakdown(
    recipe: Recipe,
    gpu: Gpu,
    setup: ComputeSetup,
    batch_size: int,
    params: EfficiencyParams,
    *,
    include_optimizer: bool = True,
    include_overhead: bool = True,
    optimizer_bytes_per_param: float | None = None,
) -> StepBreakdown:
    """One step's time split into its parts. ``optimizer_bytes_per_param`` overrides the
    optimizer's traffic (OPTIMIZER_TRAFFIC_BYTES), for a run known to use another implementation."""
    fam = family_key(recipe)
    eff = compute_efficiency(params, setup, generation(gpu), fam)
    achieved_tflops = (REF_TFLOPS * (setup.peak_tflops / REF_TFLOPS) ** params.peak_exponent * eff
                       * power_factor(params, gpu, setup))
    t_c = recipe.train_flops_per_sample / (achieved_tflops * 1e12)
    bw = gpu.mem_bw_gbs * 1e9
    achieved_bw = achieved_bandwidth(params, gpu)
    no_tensor_half = setup.pclass == "fp32" and setup.mode in mem.HALF_MODES
    traffic_mode = "fp32" if no_tensor_half else setup.mode
    traffic = params.traffic_k.get(fam, 0.0) * (
        mem.activation_bytes(recipe, traffic_mode) + frozen_forward_bytes(recipe, traffic_mode))
    if fam == "cnn" and setup.pclass == "tc16" and not recipe.channels_last:
        traffic *= params.nchw_tensor_factor
    t_m = traffic / achieved_bw
    p = max(params.combine_p, 1.0)
    t_sample = (t_c**p + t_m**p) ** (1.0 / p) if t_m > 0 else t_c
    if no_tensor_half:
        t_sample /= NO_TENSOR_HALF_SPEEDUP
    # Split the combined time in proportion, so the parts add up to the step.
    share_c = t_c / (t_c + t_m) if (t_c + t_m) > 0 else 1.0
    compute_s = batch_size * t_sample * share_c
    memory_s = batch_size * t_sample * (1.0 - share_c)
    optimizer_s = 0.0
    if include_optimizer:
        per_param = optimizer_bytes_per_param or OPTIMIZER_TRAFFIC_BYTES.get(recipe.optimizer, 28.0)
        optimizer_s = recipe.trainable_params * per_param / (OPTIMIZER_BW_FRACTION * bw)
    overhead_s = STEP_OVERHEAD_S if include_overhead else 0.0
    return StepBreakdown(compute_s, memory_s, optimizer_s, overhead_s,
                         compute_s + memory_s + optimizer_s + overhead_s)


def max_batch_that_fits(recipe: Recipe, gpu: Gpu, precision: str | None = None) -> int:
    """Largest per-GPU batch whose training memory stays within 95% of the card's memory."""
    setup = resolve(recipe, gpu, precision)
    return mem.max_batch_for_memory(recipe, mem.gpu_memory_gb(gpu), setup.mode)


def predict_with(
    params: EfficiencyParams,
    recipe: Recipe,
    gpu: Gpu,
    *,
    precision: str | None = None,
    batch_size: int | None = None,
    n_gpus: int = 1,
    nodes: int = 1,
    interconnect: str | None = None,
    tf32_matmul: bool | None = None,
) -> Prediction:
    """:func:`predict` with explicit parameters (calibration and cross-validation use this)."""
    if n_gpus < 1 or nodes < 1:
        raise ValueError(f"n_gpus and nodes must be >= 1 (got {n_gpus}, {nodes})")
    if not (gpu.fp32_tflops > 0 and gpu.mem_bw_gbs > 0 and gpu.vram_gb > 0):
        raise ValueError(f"GPU record {gpu.id} lacks fp32_tflops, mem_bw_gbs or vram_gb; "
                         "the model needs all three")
    batch = int(batch_size if batch_size is not None else recipe.batch_size)
    if batch < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch}")
    setup = resolve(recipe, gpu, precision, tf32_matmul)
    notes = list(setup.notes)
    power = power_factor(params, gpu, setup)
    if power < 0.97:
        notes.append(
            f"power-limited: {gpu.tdp_w:g} W is {power_headroom(gpu):.0%} of what this chip's SMs x "
            f"clock draw at full tensor-core load on its generation's flagship; tensor rate "
            f"x{power:.2f} ({gpu.cooler or 'unknown'} cooler)")
    gen = generation(gpu)
    calibration = "calibrated"
    if gen not in params.generation_log_offset:
        calibration = (f"extrapolated, no calibration rows for this architecture ({gen}): "
                       "efficiency from the pooled fit of the calibrated NVIDIA generations")
        notes.append(f"no calibration rows for {gen} GPUs: efficiency from the pooled fit of all generations")
        if gen == "Ada Lovelace":
            notes.append("Ada L2 caches of 24-96 MB (RTX 4090: 72 MB; GA102: 6 MB) keeps more activations on chip than "
                         "the bandwidth-based memory term assumes: memory-bound estimates may be low")

    parts = step_breakdown(recipe, gpu, setup, batch, params)
    step_s = parts.step_s
    n_total = n_gpus * nodes
    efficiency = 1.0
    bound = "compute" if parts.compute_s >= parts.memory_s else "memory-bandwidth"
    if parts.overhead_s + parts.optimizer_s > parts.compute_s + parts.memory_s:
        bound = "overhead"
    if n_total > 1:
        links = scaling.parse_links(gpu, interconnect)
        grad_bytes = 4.0 * recipe.trainable_params
        t_ar = scaling.allreduce_s(grad_bytes, n_gpus, nodes, links)
        exposed = scaling.exposed_comm_s(t_ar, parts.compute_s * BACKWARD_FRACTION, grad_bytes)
        sync = scaling.sync_factor(n_total, params.sync_loss_per_doubling)
        efficiency = step_s / (step_s + exposed) * sync
        step_s = step_s / efficiency
        if exposed > 0.3 * parts.step_s:
            bound = "communication"
        link_text = links.intra_name if n_gpus > 1 else ""
        if nodes > 1:
            link_text = f"{link_text} + {links.network_name}".lstrip(" +")
        notes.append(
            f"data-parallel over {n_total} GPUs ({link_text}): all-reduce of "
            f"{grad_bytes / 1e6:.0f} MB fp32 gradients takes {t_ar * 1e3:.1f} ms, "
            f"{exposed * 1e3:.1f} ms not hidden behind backward; scaling efficiency {efficiency:.0%}"
        )

    samples_per_s = n_total * batch / step_s
    memory_gb = mem.train_memory_gb(recipe, batch, setup.mode)
    gpu_gb = mem.gpu_memory_gb(gpu)
    fits = mem.fits(memory_gb, gpu_gb)
    if not fits:
        largest = mem.max_batch_for_memory(recipe, gpu_gb, setup.mode)
        notes.append(
            f"batch {batch} needs {memory_gb:.1f} GB, more than {mem.USABLE_FRACTION:.0%} of "
            f"{gpu_gb:g} GB; the largest batch that fits is {largest}"
            + (" (none: the weights and optimizer state alone do not fit)" if largest == 0 else "")
        )
    epoch_s = recipe.dataset_samples / samples_per_s
    return Prediction(
        samples_per_s=samples_per_s,
        step_s=step_s,
        memory_gb=memory_gb,
        fits=fits,
        batch_size=batch,
        precision=setup.label,
        n_gpus=n_gpus,
        nodes=nodes,
        epoch_s=epoch_s,
        train_s=epoch_s * recipe.epochs,
        bound=bound,
        scaling_efficiency=efficiency,
        notes=tuple(notes),
        calibration=calibration,
    )


def predict(
    recipe: Recipe,
    gpu: Gpu,
    *,
    precision: str | None = None,
    batch_size: int | None = None,
    n_gpus: int = 1,
    nodes: int = 1,
    interconnect: str | None = None,
    tf32_matmul: bool | None = None,
) -> Prediction:
    """Predicted training speed and memory of ``recipe`` on ``gpu`` with the committed parameters.

    ``precision`` defaults to the recipe's; ``batch_size`` is per GPU (default: the recipe's);
    ``n_gpus`` is GPUs per node; ``interconnect`` see :func:`scaling.parse_links`;
    ``tf32_matmul`` the container's TF32 setting for fp32 matmuls (:func:`hardware.resolve`).
    Raises ValueError on a precision, batch or GPU count that makes no sense.
    """
    return predict_with(
        load_params(), recipe, gpu, precision=precision, batch_size=batch_size,
        n_gpus=n_gpus, nodes=nodes, interconnect=interconnect, tf32_matmul=tf32_matmul,
    )

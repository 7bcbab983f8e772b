"""LLM speed: training tokens/s, inference prefill and decode tokens/s, on any GPU record.

Pure. FLOPs come from the config (2 per multiply-add)::

    forward per token     2 N_mm + 2 L_attn x heads x head_dim x S   (causal: half of 4 x ... x S)
    N_mm                  matmul weights one token touches (MoE: top-k + shared experts; the
                          output head included, the embedding lookup not)
    training              full / pretrain 3 x forward; LoRA / QLoRA 2 x forward (no weight
                          gradients for the frozen base; LoRA's own are negligible);
                          gradient checkpointing adds one forward

    train s/token/GPU = FLOPs per token / (peak16 x mamf x mfu[method])
                        + layers x hidden x train_nonmatmul_bytes x passes/3 / bandwidth
    train tokens/s  = n_gpus x ddp_scaling^log2(n_gpus) / (train s/token/GPU)
                      (with --cpu-offload: tokens per step / (compute + offload time per step),
                      see :func:`offload_cost`)
    prefill tokens/s = peak16 x mamf x prefill_eff / forward FLOPs per token
                       (prefill_eff_no_tensor on GPUs without matrix units: Apple M1-M3)
    decode step (B streams, context C) =
        max(bytes / (bw x bw_eff), B x forward FLOPs / (peak16 x mamf x prefill_eff))
        + layers x per_layer_overhead_s
      bytes = weights the step touches (MoE: experts hit by B tokens, E x (1 - (1 - k/E)^B))
              + B x C x KV bytes per token
    decode tokens/s = B / step

``peak16`` is the dense fp16/bf16 tensor rate (fp32 accumulate) PyTorch training uses, or the fp32
rate on cards without tensor cores; inference uses the fp16-accumulate rate (:func:`infer_peak_tflops`) (:mod:`rigcheck.perfmodel.hardware`).
``mamf`` is the fraction of that rate the GPU's best matmul really reaches (:mod:`rigcheck.perfmodel.
mamf`: measured on A100, H100/H200, B200/B300 and MI300X-MI355X; other GPUs take their
architecture's or vendor's median and say so), so ``mfu`` and ``prefill_eff`` are fractions of
the achievable rate, not of the datasheet. The efficiencies (``mfu``
per method, ``prefill_eff`` and ``prefill_eff_no_tensor``, ``quant_prefill_factor``, ``bw_eff``,
``per_layer_overhead_s``, ``train_nonmatmul_bytes``, ``ddp_scaling``) are fitted on the published
rows in ``llm_calibration.csv`` (``benchmarks/llm_cv.py`` prints the held-out errors); their values
live in ``llm_params.json``. Tensor parallel decode divides bytes and FLOPs by the GPU count and
adds two all-reduces of one hidden vector per layer.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rigcheck.parts import Gpu

from . import mamf
from .hardware import tensor16_tflops
from .llm_configs import ModelConfig
from .llm_memory import (
    GGUF_REST_BITS,
    LINEAR_ONLY,
    WEIGHT_BITS,
    LlmRun,
    kv_cache_bytes,
    validate,
    weight_bytes,
)

PARAMS_PATH = Path(__file__).with_name("llm_params.json")

DEFAULTS: dict[str, Any] = {
    "mfu": {"full": 0.40, "pretrain": 0.40, "lora": 0.35, "qlora": 0.25},
    "prefill_eff": 0.45,
    "bw_eff": 0.70,
    "per_layer_overhead_s": 1.0e-5,
    # Quantised weights dequantise inside the matmul: prefill runs slower than with 16-bit
    # weights (a factor applied to prefill_eff).
    "quant_prefill_factor": 0.7,
    # DDP/ZeRO all-reduce: the fraction of the gradient traffic not hidden behind backward.
    "ddp_scaling": 0.92,
    # Prefill on GPUs without matrix units (Apple M1-M3, NVIDIA before Volta): the matmuls run on
    # the shader ALUs (Metal's simdgroup_matrix, plain FMA), whose listed fp32 rate is the peak;
    # the fraction reached is not the tensor-core fraction above.
    "prefill_eff_no_tensor": 0.45,
    # Training's memory-bound work besides the matmuls (norms, activations, residual adds,
    # rotary, dropout, the loss): bytes moved per hidden unit per layer per token for a
    # forward + backward (scaled by the passes the run makes). 0 = matmuls only.
    "train_nonmatmul_bytes": 0.0,
}
# CPU offload (ZeRO-Offload, Ren et al. 2021, arXiv 2101.06840; DeepSpeed's DeepSpeedCPUAdam).
# The optimizer step runs on the host at the rate the DeepSpeed team measured for its CPU Adam
# (deepspeedai/DeepSpeed PR #735, https://github.com/deepspeedai/DeepSpeed/pull/735: "it reduces
# the optimizer time from 56 seconds to 8.2 seconds to an 11.6B parameter GPT2 model"; the 56 s
# is torch.optim.Adam on the CPU). Host-dependent and uncalibrated: issue #1635 reports 22.9 s
# for 1.35 B parameters on a Xeon Silver 4210R, 23x slower.
CPU_ADAM_PARAMS_PER_S = 11.6e9 / 8.2


@dataclass(frozen=True)
class OffloadCost:
    """Time one optimizer step spends on CPU offload, per GPU (seconds), beyond its compute."""
    pcie_s: float = 0.0          # host<->GPU copies not hidden behind backward
    cpu_step_s: float = 0.0      # the optimizer step on the host
    pcie_gbs: float = 0.0        # the host<->GPU bandwidth assumed
    bytes_per_step: float = 0.0  # bytes over PCIe per optimizer step (both directions)

    @property
    def total_s(self) -> float:
        return self.pcie_s + self.cpu_step_s


def offload_cost(cfg: ModelConfig, run: LlmRun, gpu: Gpu, compute_step_s: float) -> OffloadCost:
    """CPU offload of the optimizer state and fp32 master weights (full / pretrain, as
    :func:`llm_memory.train_memory` models it), from first principles; uncalibrated.

    Each GPU owns P/shard parameters on the host (shard = GPUs under ZeRO / FSDP, 1 under DDP,
    as the memory model shards the optimizer). Per micro-batch its 16-bit gradients go down
    (2 bytes each, 4 for fp32 weights); DeepSpeed copies them during backward (overlap_comm), so
    only the part longer than the backward pass ((passes - 1) / passes of the micro-batch's
    compute) shows. Per optimizer step the host runs Adam over P/shard parameters at
    ``CPU_ADAM_PARAMS_PER_S`` and sends the updated 16-bit weights back up, both on the critical
    path (no one-step delayed update). The host link is the PCIe x16 bandwidth of the card's
    generation from :data:`scaling.PCIE_BUSBW_GBS`."""
    if not run.cpu_offload or run.method not in ("full", "pretrain"):
        return OffloadCost()
    from .scaling import PCIE_BUSBW_GBS
    shard = run.n_gpus if run.strategy in ("zero1", "zero2", "zero3", "fsdp") else 1
    owned = cfg.total_params() / shard
    elem = 4.0 if run.weight_format == "fp32" else 2.0
    gbs = PCIE_BUSBW_GBS[min(max(int(gpu.pcie_gen or 3), 3), 6)]
    bw = gbs * 1e9
    passes = train_passes(run)
    backward_s = compute_step_s / run.grad_accum * (passes - 1.0) / passes
    down_s = elem * owned / bw
    exposed = run.grad_accum * max(0.0, down_s - backward_s) + elem * owned / bw
    return OffloadCost(pcie_s=exposed, cpu_step_s=owned / CPU_ADAM_PARAMS_PER_S, pcie_gbs=gbs,
                       bytes_per_step=elem * owned * (run.grad_accum + 1))


# TP decode: two all-reduces per layer, each a few microseconds of latency on NVLink and ~15 us
# over PCIe (nccl-tests small-message all-reduce latencies).
TP_ALLREDUCE_S = {"nvlink": 5e-6, "pcie": 15e-6}


def load_params(path: Path = PARAMS_PATH) -> dict[str, Any]:
    """The fitted parameters (defaults where the file lacks one or cannot be read). Read once per
    version of the file (its size and modification time), not once per estimate."""
    try:
        st = path.stat()
        version: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        version = None
    return copy.deepcopy(_read_params(path, version))   # the caller may change its copy


@lru_cache(maxsize=16)
def _read_params(path: Path, version: tuple[int, int] | None) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return dict(DEFAULTS)
    out = dict(DEFAULTS)
    out.update({k: v for k, v in raw.items() if k in DEFAULTS})
    out["architectures"] = list(raw.get("architectures", ()))
    return out


def calibration_mark(gpu: Gpu, params: dict[str, Any] | None = None) -> str:
    """"calibrated" where the speed rows include this GPU architecture, else an honest mark."""
    archs = (params or load_params()).get("architectures") or []
    if gpu.architecture in archs:
        return "calibrated"
    return (f"extrapolated, no LLM calibration rows for this architecture ({gpu.vendor} "
            f"{gpu.architecture}); fitted on {', '.join(archs) or 'none'}")


def peak16_tflops(gpu: Gpu) -> float:
    """The dense 16-bit tensor rate, or fp32 where there are no tensor cores."""
    t = tensor16_tflops(gpu, "bf16")
    return float(t) if t else float(gpu.fp32_tflops)


def infer_peak_tflops(gpu: Gpu) -> float:
    """The 16-bit tensor rate inference runs at. llama.cpp's CUDA back-end calls cuBLAS with
    CUBLAS_COMPUTE_16F for F16 matmuls (ggml-cuda.cu) and runs quantised ones on int8 tensor cores
    (MMQ), so a GeForce card reaches its fp16-accumulate rate, twice the fp32-accumulate figure
    (Ada/Ampere whitepapers: RTX 4090 330 vs 165 TFLOPS). Elsewhere both rates are equal: the
    halving of fp32 accumulation is NVIDIA's GeForce product rule, and AMD's RDNA 3 WMMA and
    Intel's XMX list one fp16 rate for either accumulator (RX 7900 XTX: 122.8 TFLOPS), so a
    consumer Radeon or Arc card is not doubled."""
    from .hardware import is_geforce, is_nvidia
    t = tensor16_tflops(gpu, "fp16")
    if not t:
        return float(gpu.fp32_tflops)
    if is_nvidia(gpu) and is_geforce(gpu) and gpu.tensor_accumulate != "fp16":
        return 2.0 * float(t)
    return float(gpu.tensor_fp16_tflops or t)


@lru_cache(maxsize=4096)
def attention_flops_per_token(cfg: ModelConfig, context: int) -> float:
    """Forward attention FLOPs (QK^T and PV) per token, averaged over a causal sequence of
    ``context`` tokens (each token attends to context/2 on average; sliding layers to at most
    their window)."""
    if cfg.is_mla:
        width = cfg.num_heads * (cfg.qk_nope_head_dim + cfg.qk_rope_head_dim + cfg.v_head_dim) / 2
    else:
        width = cfg.num_heads * cfg.head_dim
    full = cfg.num_layers - cfg.sliding_layers
    span_full = context / 2
    span_slide = min(context, cfg.sliding_window or context) / 2 if cfg.sliding_layers else 0.0
    return 4.0 * width * (full * span_full + cfg.sliding_layers * span_slide)


@lru_cache(maxsize=4096)
def forward_flops_per_token(cfg: ModelConfig, context: int) -> float:
    return 2.0 * cfg.matmul_params(active=True) + attention_flops_per_token(cfg, context)


def train_flops_per_token(cfg: ModelConfig, run: LlmRun) -> float:
    return train_passes(run) * forward_flops_per_token(cfg, run.seq_len)


@dataclass(frozen=True)
class LlmSpeed:
    tokens_per_s: float | None = None          # training, all GPUs
    samples_per_s: float | None = None         # training sequences/s, all GPUs
    step_s: float | None = None                # one optimizer step (micro-batch x accumulation)
    prefill_tokens_per_s: float | None = None
    decode_tokens_per_s: float | None = None   # at the run's batch (all streams together)
    decode_tokens_per_s_batch1: float | None = None
    bound: str = ""
    peak_tflops: float = 0.0
    offload: OffloadCost | None = None         # training with --cpu-offload (full / pretrain)
    notes: tuple[str, ...] = ()


def train_passes(run: LlmRun) -> float:
    """Forward-pass equivalents of one training step: 3 (full, pretrain) or 2 (LoRA, QLoRA: no
    weight gradients for the frozen base), plus 1 recomputed forward with checkpointing."""
    passes = 3.0 if run.method in ("full", "pretrain") else 2.0
    return passes + (1.0 if run.checkpointing else 0.0)


def train_nonmatmul_s_per_token(cfg: ModelConfig, run: LlmRun, gpu: Gpu,
                                params: dict[str, Any]) -> float:
    """Seconds per token (on one GPU) of the memory-bound work besides the matmuls: layers x
    hidden x ``train_nonmatmul_bytes`` (for a 3-pass step, scaled by the run's passes) over the
    card's bandwidth. It is why small models (hidden 768-1536) reach a lower MFU than large ones
    on the same card: matmul FLOPs grow as hidden squared, this traffic as hidden."""
    nbytes = float(params.get("train_nonmatmul_bytes", 0.0))
    if nbytes <= 0.0 or not gpu.mem_bw_gbs:
        return 0.0
    moved = cfg.num_layers * cfg.hidden_size * nbytes * train_passes(run) / 3.0
    return moved / (gpu.mem_bw_gbs * 1e9)


def train_speed(cfg: ModelConfig, run: LlmRun, gpu: Gpu, params: dict[str, Any] | None = None) -> LlmSpeed:
    validate(run, cfg)
    prm = params or load_params()
    peak = peak16_tflops(gpu)
    mfu = float(prm["mfu"][run.method]) * mamf.ceiling(gpu).fraction
    if not tensor16_tflops(gpu, "bf16"):
        mfu *= 0.5   # no tensor cores: fp32 FMA pipes, poorer utilisation (an assumption)
    s_per_token = (train_flops_per_token(cfg, run) / (peak * 1e12 * mfu)
                   + train_nonmatmul_s_per_token(cfg, run, gpu, prm))
    step_tokens = run.micro_batch * run.grad_accum * run.seq_len      # per GPU
    compute_s = step_tokens * s_per_token
    off: OffloadCost | None = None
    per_gpu = 1.0 / s_per_token
    bound = "compute"
    if run.cpu_offload and run.method in ("full", "pretrain"):
        off = offload_cost(cfg, run, gpu, compute_s)
        per_gpu = step_tokens / (compute_s + off.total_s)
        if off.total_s > compute_s:
            bound = "CPU offload"
    n = run.n_gpus
    scaling = prm["ddp_scaling"] ** math.log2(n) if n > 1 else 1.0
    tokens = per_gpu * n * scaling
    seqs = tokens / run.seq_len
    step = run.micro_batch * run.grad_accum * n / seqs
    return LlmSpeed(tokens_per_s=tokens, samples_per_s=seqs, step_s=step, bound=bound,
                    peak_tflops=peak, offload=off)


@lru_cache(maxsize=4096)
def _touched_weight_bytes(cfg: ModelConfig, fmt: str, streams: int) -> float:
    """Weight bytes one decode step reads: everything but the routed experts, plus the experts
    the step's tokens hit (each token picks k of E, independently)."""
    total = weight_bytes(cfg, fmt)
    if fmt in LINEAR_ONLY:
        emb_bytes = 2.0                        # embeddings stay 16-bit
    elif fmt == "mxfp4_moe":
        emb_bytes = GGUF_REST_BITS / 8         # Q8_0, as every non-expert tensor
    else:
        emb_bytes = WEIGHT_BITS[fmt] / 8
    emb = cfg.vocab_size * cfg.hidden_size * emb_bytes
    total -= emb if not cfg.tied_embeddings else 0.0   # the input embedding is a lookup
    total -= cfg.vision_params * 2.0
    if not cfg.is_moe:
        return total
    bits = WEIGHT_BITS[fmt] if fmt != "int8" else 8.0
    expert_b = cfg.expert_params() * bits / 8
    all_experts = cfg.moe_layers * cfg.num_experts * expert_b
    hit = cfg.num_experts * (1.0 - (1.0 - cfg.experts_per_token / cfg.num_experts) ** streams)
    return total - all_experts + cfg.moe_layers * hit * expert_b


# The one source of MoE prefill rows (llama.cpp on DGX Spark, benches/dgx-spark.md): gpt-oss-20b,
# gpt-oss-120b and Qwen3 30B-A3B prefilled at 0.62, 0.45 and 0.48 of the dense-FLOP estimate when
# that source was held out (benchmarks/llm_cv.py), while its dense models were within 37%. One
# source is too little to fit a factor on, so the estimate says so instead.
MOE_PREFILL_NOTE = ("MoE prefill is priced as dense matmuls over the active experts; llama.cpp "
                    "measured 0.45-0.62 of that on DGX Spark (routed experts run small batches): "
                    "take the prefill rate as an upper bound")


def infer_speed(cfg: ModelConfig, run: LlmRun, gpu: Gpu, params: dict[str, Any] | None = None,
                nvlink: bool = False) -> LlmSpeed:
    validate(run, cfg)
    prm = params or load_params()
    peak = infer_peak_tflops(gpu) * 1e12
    fmt = run.weight_format
    achievable = mamf.ceiling(gpu).fraction
    tp = run.n_gpus
    ctx = run.context or run.seq_len
    base_eff = (prm["prefill_eff"] if tensor16_tflops(gpu, "fp16")
                else prm.get("prefill_eff_no_tensor", prm["prefill_eff"]))
    pf_eff = float(base_eff) * achievable * (1.0 if fmt in ("bf16", "fp16", "fp32") else float(prm["quant_prefill_factor"]))
    fwd = forward_flops_per_token(cfg, ctx)
    prefill = tp * peak * pf_eff / fwd * (prm["ddp_scaling"] ** math.log2(tp) if tp > 1 else 1.0)
    bw = gpu.mem_bw_gbs * 1e9 * float(prm["bw_eff"])
    overhead = cfg.num_layers * float(prm["per_layer_overhead_s"])
    if tp > 1:
        overhead += cfg.num_layers * 2 * TP_ALLREDUCE_S["nvlink" if nvlink else "pcie"]

    def step(streams: int) -> tuple[float, str]:
        kv = kv_cache_bytes(cfg, ctx, streams, run.kv_bits)
        t_mem = (_touched_weight_bytes(cfg, fmt, streams) + kv) / tp / bw
        t_cmp = streams * fwd / tp / (peak * pf_eff)
        return max(t_mem, t_cmp) + overhead, ("memory-bandwidth" if t_mem >= t_cmp else "compute")

    t1, _ = step(1)
    tb, bound = step(run.micro_batch)
    notes = (MOE_PREFILL_NOTE,) if cfg.is_moe else ()
    return LlmSpeed(prefill_tokens_per_s=prefill, decode_tokens_per_s=run.micro_batch / tb,
                    decode_tokens_per_s_batch1=1.0 / t1, bound=bound, peak_tflops=peak / 1e12,
                    notes=notes)


def llm_speed(cfg: ModelConfig, run: LlmRun, gpu: Gpu, params: dict[str, Any] | None = None,
              nvlink: bool = False) -> LlmSpeed:
    if run.method == "infer":
        return infer_speed(cfg, run, gpu, params, nvlink)
    return train_speed(cfg, run, gpu, params)

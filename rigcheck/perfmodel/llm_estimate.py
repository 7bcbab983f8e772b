"""One LLM estimate (memory + speed + fit) and what to change when it does not fit. Pure.

:func:`estimate` joins :mod:`llm_memory` and :mod:`llm_speed` for one GPU record.
:func:`what_would_fit` lists the changes that make a run fit, each with the memory it leads to:
the largest micro-batch (keeping the global batch by gradient accumulation), gradient
checkpointing, QLoRA instead of LoRA/full, a 4-bit weight format for inference, more GPUs with
ZeRO-3 (training) or tensor parallel (inference), and the smallest card that would hold it.
:func:`adapt` applies the first of those a recipe allows (used by ``recommend``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from rigcheck.parts import Gpu

from . import memory as mem
from .llm_configs import ModelConfig
from .llm_memory import LlmMemory, LlmRun, llm_memory
from .llm_speed import LlmSpeed, llm_speed

MAX_GPUS_SUGGESTED = 64
COMMON_VRAM_GB = (8, 12, 16, 24, 32, 48, 80, 96, 141, 192)


@dataclass(frozen=True)
class LlmEstimate:
    model: ModelConfig
    run: LlmRun
    gpu: Gpu
    memory: LlmMemory
    speed: LlmSpeed
    fits: bool
    suggestions: tuple[str, ...] = ()


def estimate(cfg: ModelConfig, run: LlmRun, gpu: Gpu, nvlink: bool = False) -> LlmEstimate:
    m = llm_memory(cfg, run)
    s = llm_speed(cfg, run, gpu, nvlink=nvlink)
    gpu_gb = mem.gpu_memory_gb(gpu)
    fits = m.fits(gpu_gb)
    sugg = () if fits else what_would_fit(cfg, run, gpu_gb)
    return LlmEstimate(cfg, run, gpu, m, s, fits, sugg)


def needed_vram_gb(m: LlmMemory) -> float:
    return m.total_gb / mem.USABLE_FRACTION


def largest_micro_batch(cfg: ModelConfig, run: LlmRun, vram_gb: float, limit: int = 4096) -> int:
    """The largest micro-batch (inference: concurrent streams) that fits; 0 if even 1 does not.
    Memory grows linearly with it, so two evaluations give the answer; a bisection guards it."""
    if not llm_memory(cfg, replace(run, micro_batch=1)).fits(vram_gb):
        return 0
    lo, hi = 1, limit
    if llm_memory(cfg, replace(run, micro_batch=hi)).fits(vram_gb):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if llm_memory(cfg, replace(run, micro_batch=mid)).fits(vram_gb):
            lo = mid
        else:
            hi = mid
    return lo


def _fits(cfg: ModelConfig, run: LlmRun, vram_gb: float) -> bool:
    return llm_memory(cfg, run).fits(vram_gb)


def _longest_fitting(cfg: ModelConfig, vram_gb: float, start: int, floor: int,
                     make: Callable[[int], LlmRun]) -> tuple[int, LlmRun] | None:
    """The longest of start, start/2, start/4, ... (not under ``floor``) whose run fits."""
    n = start
    while n >= floor:
        r = make(n)
        if _fits(cfg, r, vram_gb):
            return n, r
        n //= 2
    return None


def candidate_changes(cfg: ModelConfig, run: LlmRun, vram_gb: float) -> list[tuple[str, LlmRun]]:
    """Changes that make ``run`` fit ``vram_gb``, cheapest in quality/speed first."""
    out: list[tuple[str, LlmRun]] = []
    if run.micro_batch > 1:
        b = largest_micro_batch(cfg, run, vram_gb, limit=run.micro_batch)
        if b >= 1:
            if run.training:
                # the largest micro-batch that fits and divides the global batch, so that the
                # global batch (and the learning-rate schedule written for it) stays exact
                global_batch = run.micro_batch * run.grad_accum
                b = next(d for d in range(b, 0, -1) if global_batch % d == 0)
                accum = global_batch // b
                out.append((f"micro-batch {b} with gradient accumulation {accum} (same global batch)",
                            replace(run, micro_batch=b, grad_accum=accum)))
            else:
                out.append((f"{b} concurrent streams instead of {run.micro_batch}",
                            replace(run, micro_batch=b)))
    if run.training and not run.checkpointing:
        r = replace(run, grad_checkpointing=True)
        if _fits(cfg, r, vram_gb):
            out.append(("gradient checkpointing (about 1/3 more compute)", r))
        else:
            r2 = replace(r, micro_batch=1, grad_accum=run.micro_batch * run.grad_accum)
            if run.micro_batch > 1 and _fits(cfg, r2, vram_gb):
                out.append(("gradient checkpointing with micro-batch 1 and gradient accumulation "
                            f"{r2.grad_accum}", r2))
    if run.method in ("full", "lora"):
        r = replace(run, method="qlora", weights="", grad_checkpointing=True)
        if _fits(cfg, r, vram_gb):
            out.append(("QLoRA (4-bit NF4 base, LoRA adapters, checkpointing)", r))
        else:   # the longest sequence (halving) that fits at micro-batch 1
            found = _longest_fitting(cfg, vram_gb, run.seq_len, 256, lambda n: replace(
                r, micro_batch=1, seq_len=n, grad_accum=run.micro_batch * run.grad_accum))
            if found:
                seq, r1 = found
                out.append(("QLoRA at micro-batch 1" + (f", sequence {seq:,}" if seq != run.seq_len else ""), r1))
    if run.training:
        # The same method on shorter sequences (halving, down to 256 tokens) at micro-batch 1 with
        # checkpointing: activations and the logits workspace scale with tokens per step. Offered
        # only where micro-batch 1 with checkpointing at the full length does not fit. It changes
        # the data (longer samples are cut or split), so recommend never makes it on its own.
        base = replace(run, micro_batch=1, grad_checkpointing=True,
                       grad_accum=run.micro_batch * run.grad_accum)
        found = None if _fits(cfg, base, vram_gb) else _longest_fitting(
            cfg, vram_gb, run.seq_len // 2, 256, lambda n: replace(base, seq_len=n))
        if found:
            out.append((f"sequence {found[0]:,} at micro-batch 1 with checkpointing "
                        "(longer samples cut or split)", found[1]))
    if not run.training and run.kv_bits > 8:
        r = replace(run, kv_bits=8)
        if _fits(cfg, r, vram_gb):
            out.append(("8-bit KV cache (llama.cpp -ctk q8_0 -ctv q8_0; vLLM --kv-cache-dtype fp8)", r))
    if not run.training:
        # a shorter context per stream (halving, down to 2,048 tokens): the KV cache shrinks with it
        found = None if _fits(cfg, run, vram_gb) else _longest_fitting(
            cfg, vram_gb, (run.context or run.seq_len) // 2, 2048,
            lambda n: replace(run, context=n, seq_len=min(run.seq_len, n)))
        if found:
            out.append((f"context {found[0]:,} tokens per stream", found[1]))
    if not run.training and run.weight_format in ("fp32", "bf16", "fp16", "fp8", "int8", "q8_0", "q6_k", "q5_k_m"):
        r = replace(run, weights="q4_k_m")
        if _fits(cfg, r, vram_gb):
            out.append(("4-bit weights (GGUF Q4_K_M; GPTQ/AWQ 4-bit are similar)", r))
    for n in (2, 4, 8, 16, 32, MAX_GPUS_SUGGESTED):
        if n <= run.n_gpus:
            continue
        r = replace(run, n_gpus=n, parallel="tp" if not run.training else
                    ("zero3" if run.method in ("full", "pretrain") else run.parallel))
        if r.training and r.strategy == "ddp" and not _fits(cfg, r, vram_gb):
            r = replace(r, parallel="fsdp")   # LoRA / QLoRA: shard the frozen base (FSDP + QLoRA)
        if run.training and not _fits(cfg, r, vram_gb):   # activations do not shard: shrink them
            r = replace(r, grad_checkpointing=True, micro_batch=1,
                        grad_accum=run.micro_batch * run.grad_accum)
        if _fits(cfg, r, vram_gb):
            how = "tensor parallel" if not run.training else (
                "ZeRO-3/FSDP" if r.strategy in ("zero3", "fsdp") else "data parallel")
            extra = ", checkpointing, micro-batch 1" if r.micro_batch != run.micro_batch else ""
            out.append((f"{n} GPUs of this size with {how}{extra}", r))
            break
    return out


@lru_cache(maxsize=4096)
def what_would_fit(cfg: ModelConfig, run: LlmRun, vram_gb: float) -> tuple[str, ...]:
    # Memoised (pure): every card of one memory size gets the same suggestions.
    lines = [f"{what}: {llm_memory(cfg, r).total_gb:.1f} GB per GPU"
             for what, r in candidate_changes(cfg, run, vram_gb)]
    need = needed_vram_gb(llm_memory(cfg, run))
    card = next((v for v in COMMON_VRAM_GB if v >= need), None)
    lines.append(f"a card with {card} GB" if card else f"{need:,.0f} GB on one card: no single GPU has it")
    return tuple(lines)


# Which changes a recipe allows recommend to make, in order of preference.
ADAPTATIONS = ("micro_batch", "checkpointing", "qlora", "quantize")


def adapt(cfg: ModelConfig, run: LlmRun, vram_gb: float,
          allowed: tuple[str, ...] = ADAPTATIONS) -> tuple[LlmRun, tuple[str, ...]] | None:
    """The run itself if it fits, else the first allowed change that fits (with what changed),
    else None. Pure: recommend calls it per candidate card."""
    if _fits(cfg, run, vram_gb):
        return run, ()
    keys = {"micro-batch": "micro_batch", "gradient": "checkpointing", "QLoRA": "qlora",
            "4-bit": "quantize"}
    for what, r in candidate_changes(cfg, run, vram_gb):
        kind = next((v for k, v in keys.items() if what.startswith(k)), "")
        if " concurrent streams instead of " in what:   # "10 concurrent streams instead of 16"
            kind = "micro_batch"
        if kind in allowed and r.n_gpus == run.n_gpus:
            return r, (what,)
    return None


@dataclass(frozen=True)
class RecipeFit:
    """An LLM recipe judged on one card, for recommend: does it fit (after the changes the
    recipe allows), what changed, and how fast (training tokens/s, or decode tokens/s)."""
    fits: bool
    run: LlmRun
    changes: tuple[str, ...]
    memory_gb: float
    speed: float          # tokens/s: training (all GPUs) or decode at the run's batch
    unit: str


def recipe_on_gpu(cfg: ModelConfig, run: LlmRun, adapt_allowed: tuple[str, ...], gpu: Gpu) -> RecipeFit:
    adapted = adapt(cfg, run, mem.gpu_memory_gb(gpu), adapt_allowed)
    if adapted is None:
        m = llm_memory(cfg, run)
        return RecipeFit(False, run, (), m.total_gb, 0.0, "tokens/s")
    r, changes = adapted
    s = llm_speed(cfg, r, gpu)
    speed = s.tokens_per_s if r.training else s.decode_tokens_per_s
    return RecipeFit(True, r, changes, llm_memory(cfg, r).total_gb, float(speed or 0.0),
                     "training tokens/s" if r.training else "decode tokens/s")

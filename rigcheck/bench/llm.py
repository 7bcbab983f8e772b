"""LLM figures measured with real PyTorch: prefill and decode tokens/s, one LoRA training step.

A Llama-architecture decoder (RMSNorm, RoPE, grouped-query attention through
``F.scaled_dot_product_attention``, SwiGLU MLP, untied or tied head) is built from a bundled
config (``models/``) with random weights: nothing is downloaded. On a GPU the whole model runs in
bf16 (fp16 before Ampere); on a CPU the config is cut to ``CPU_LAYERS`` decoder layers and runs in
fp32 with a 4,096-token vocabulary, so the quick bench stays within its budget on a 2-core
machine (Qwen2.5-0.5B's layer shapes: ~26 M parameters in two layers).

Each figure carries the performance model's expectation for the same shapes
(:mod:`rigcheck.perfmodel.llm_speed` / ``llm_memory``) where the GPU is known; the LoRA step also
records ``torch.cuda.max_memory_allocated`` against the memory model's prediction without its
context allowance (the allocator's counter does not see the CUDA context).

torch is imported at module level: only the bench runner imports this module, lazily.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rigcheck.bench.timing import measure
from rigcheck.runs.results import Figure

GPU_MODEL = "llama-3.2-1b"
CPU_MODEL = "qwen2.5-0.5b"
CPU_LAYERS = 2
CPU_VOCAB = 4096   # the 151,936-token head alone would take the quick budget on two cores


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = x.float().pow(2).mean(-1, keepdim=True)
        return (x.float() * torch.rsqrt(var + self.eps)).to(x.dtype) * self.weight


class LoRALinear(nn.Module):
    """A frozen linear plus B(A(x)) x alpha/r (peft's layout; A random, B zero at start)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float = 16.0):
        super().__init__()
        self.base = base
        base.weight.requires_grad_(False)
        self.a = nn.Linear(base.in_features, rank, bias=False, dtype=torch.float32,
                           device=base.weight.device)
        self.b = nn.Linear(rank, base.out_features, bias=False, dtype=torch.float32,
                           device=base.weight.device)
        nn.init.zeros_(self.b.weight)
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.b(self.a(x.float())) * self.scale).to(x.dtype)


def _rope(x: torch.Tensor, pos: torch.Tensor, theta: float) -> torch.Tensor:
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d))
    ang = pos[:, None].float() * inv[None, :]
    cos, sin = ang.cos()[None, None], ang.sin()[None, None]
    x1, x2 = x[..., : d // 2].float(), x[..., d // 2:].float()
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1).to(x.dtype)


class Block(nn.Module):
    def __init__(self, cfg: Any, dtype: torch.dtype, device: torch.device):
        super().__init__()
        h, hd = cfg.hidden_size, cfg.head_dim
        kw: dict[str, Any] = {"bias": False, "dtype": dtype, "device": device}
        qkv: dict[str, Any] = dict(kw, bias=bool(cfg.qkv_bias))   # Qwen2: biases on q/k/v
        self.nh, self.nkv, self.hd = cfg.num_heads, cfg.num_kv_heads, hd
        self.q_proj = nn.Linear(h, cfg.num_heads * hd, **qkv)
        self.k_proj = nn.Linear(h, cfg.num_kv_heads * hd, **qkv)
        self.v_proj = nn.Linear(h, cfg.num_kv_heads * hd, **qkv)
        self.o_proj = nn.Linear(cfg.num_heads * hd, h, **kw)
        self.gate_proj = nn.Linear(h, cfg.intermediate_size, **kw)
        self.up_proj = nn.Linear(h, cfg.intermediate_size, **kw)
        self.down_proj = nn.Linear(cfg.intermediate_size, h, **kw)
        self.norm1 = RMSNorm(h).to(device=device, dtype=dtype)
        self.norm2 = RMSNorm(h).to(device=device, dtype=dtype)
        self.theta = 500000.0

    def forward(self, x: torch.Tensor, pos: torch.Tensor, cache: list | None = None) -> torch.Tensor:
        b, s, _ = x.shape
        y = self.norm1(x)
        q = self.q_proj(y).view(b, s, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(y).view(b, s, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(y).view(b, s, self.nkv, self.hd).transpose(1, 2)
        q, k = _rope(q, pos, self.theta), _rope(k, pos, self.theta)
        if cache is not None:
            if cache:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[:] = [k, v]
        rep = self.nh // self.nkv
        if rep > 1:
            k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=s > 1)
        x = x + self.o_proj(att.transpose(1, 2).reshape(b, s, -1))
        y = self.norm2(x)
        return x + self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y))


class Llama(nn.Module):
    def __init__(self, cfg: Any, dtype: torch.dtype, device: torch.device):
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.hidden_size, dtype=dtype, device=device)
        self.layers = nn.ModuleList(Block(cfg, dtype, device) for _ in range(cfg.num_layers))
        self.norm = RMSNorm(cfg.hidden_size).to(device=device, dtype=dtype)
        self.head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False, dtype=dtype, device=device)
        if cfg.tied_embeddings:
            self.head.weight = self.embed.weight

    def forward(self, ids: torch.Tensor, start: int = 0, caches: list | None = None,
                last_only: bool = False) -> torch.Tensor:
        pos = torch.arange(start, start + ids.shape[1], device=ids.device)
        x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, pos, None if caches is None else caches[i])
        x = self.norm(x)
        return self.head(x[:, -1:] if last_only else x)


def bench_config(device: torch.device) -> Any:
    from rigcheck.perfmodel.llm_configs import find_model
    if device.type == "cuda":
        return find_model(GPU_MODEL)
    return replace(find_model(CPU_MODEL), num_layers=CPU_LAYERS, vocab_size=CPU_VOCAB)


def _dtype(device: torch.device) -> torch.dtype:
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _sync(device: torch.device):
    return (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else None


_BUILT: dict[str, tuple[Any, Llama, torch.dtype]] = {}


def _build(device: torch.device, fresh: bool = False) -> tuple[Any, Llama, torch.dtype]:
    """The bench model (PyTorch's default random init; the values do not change the timing).
    Prefill and decode share one instance per device; the LoRA step wraps a fresh one."""
    key = str(device)
    if fresh or key not in _BUILT:
        cfg = bench_config(device)
        dtype = _dtype(device)
        torch.manual_seed(0)
        built = (cfg, Llama(cfg, dtype, device).eval(), dtype)
        if fresh:
            return built
        _BUILT[key] = built
    return _BUILT[key]


def _fig(name: str, value: float, unit: str, timing: Any, label: str, note: str,
         params: dict[str, Any]) -> Figure:
    return Figure(name=name, value=value, unit=unit, label=label, median_s=timing.median_s,
                  iqr_s=timing.iqr_s, cv_pct=round(timing.cv_pct, 2), runs=timing.runs,
                  verdict=timing.verdict, note=note, params=params)


def prefill(device: torch.device, budget_s: float, quick: bool = True) -> Figure:
    cfg, model, dtype = _build(device)
    seq = 512 if device.type == "cuda" else (32 if quick else 128)
    ids = torch.randint(0, cfg.vocab_size, (1, seq), device=device)

    def step() -> None:
        with torch.inference_mode():
            model(ids, last_only=True)

    t = measure(step, sync=_sync(device), budget_s=budget_s, warmup=1, min_runs=3, max_runs=20)
    return _fig("llm-prefill", seq / t.median_s, "tokens/s", t,
                f"LLM prefill {cfg.id} x{cfg.num_layers} layers, {seq} tokens",
                f"forward of a {seq}-token prompt, {dtype} random weights, {cfg.num_layers} layers of "
                f"{cfg.id}; median of {t.runs} runs",
                {"model": cfg.id, "layers": cfg.num_layers, "vocab_size": cfg.vocab_size, "seq_len": seq, "dtype": str(dtype),
                 "device": device.type})


def decode(device: torch.device, budget_s: float, quick: bool = True) -> Figure:
    cfg, model, dtype = _build(device)
    prompt = 128 if device.type == "cuda" else 16
    new = 32 if device.type == "cuda" else (8 if quick else 32)
    ids = torch.randint(0, cfg.vocab_size, (1, prompt), device=device)

    def generate() -> None:
        caches: list = [[] for _ in cfg_layers(model)]
        with torch.inference_mode():
            logits = model(ids, 0, caches, last_only=True)
            tok = logits.argmax(-1)
            for i in range(new):
                logits = model(tok, prompt + i, caches, last_only=True)
                tok = logits.argmax(-1)

    # time the whole generate, then subtract a prefill of the same prompt: decode time alone
    t = measure(generate, sync=_sync(device), budget_s=budget_s, warmup=1, min_runs=3, max_runs=10)

    def pre() -> None:
        with torch.inference_mode():
            model(ids, 0, [[] for _ in cfg_layers(model)], last_only=True)
    tp = measure(pre, sync=_sync(device), budget_s=budget_s / 4, warmup=1, min_runs=3, max_runs=10)
    per_token = max(t.median_s - tp.median_s, 1e-9) / new
    return _fig("llm-decode", 1.0 / per_token, "tokens/s", t,
                f"LLM decode {cfg.id} x{cfg.num_layers} layers, batch 1",
                f"{new} greedy tokens after a {prompt}-token prompt with a KV cache, batch 1, {dtype}; "
                "generate time minus the prompt's prefill", {"model": cfg.id, "layers": cfg.num_layers,
                "vocab_size": cfg.vocab_size,
                "context": prompt + new // 2, "new_tokens": new, "dtype": str(dtype),
                "device": device.type})


def cfg_layers(model: Llama) -> nn.ModuleList:
    return model.layers


TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def lora_step(device: torch.device, budget_s: float, quick: bool = True) -> Figure:
    cfg, model, dtype = _build(device, fresh=True)
    rank = 16
    for layer in model.layers:
        for name in TARGETS:
            setattr(layer, name, LoRALinear(getattr(layer, name), rank))
    for n, p in model.named_parameters():
        p.requires_grad_(n.endswith((".a.weight", ".b.weight")))
    model.train()
    seq = 1024 if device.type == "cuda" else (64 if quick else 256)
    batch = 1
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4)
    ids = torch.randint(0, cfg.vocab_size, (batch, seq + 1), device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def step() -> None:
        logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.float().view(-1, cfg.vocab_size), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    t = measure(step, sync=_sync(device), budget_s=budget_s, warmup=1, min_runs=3, max_runs=10)
    params: dict[str, Any] = {"model": cfg.id, "layers": cfg.num_layers,
                              "vocab_size": cfg.vocab_size, "seq_len": seq,
                              "batch_size": batch, "lora_rank": rank, "dtype": str(dtype),
                              "device": device.type,
                              "trainable_params": sum(p.numel() for p in trainable)}
    note = (f"one LoRA step (r={rank}, all linear layers, AdamW, no checkpointing) on {seq} tokens, "
            f"{dtype} base")
    if device.type == "cuda":
        peak_gb = torch.cuda.max_memory_allocated(device) / 1e9
        predicted = predicted_lora_memory_gb(cfg, seq, batch, rank, dtype)
        params.update(peak_memory_gb=round(peak_gb, 3), predicted_memory_gb=round(predicted, 3))
        note += (f"; peak {peak_gb:.2f} GB allocated vs {predicted:.2f} GB predicted "
                 "(memory model without its context allowance)")
    return _fig("llm-lora-step", batch * seq / t.median_s, "tokens/s", t,
                f"LLM LoRA step {cfg.id} x{cfg.num_layers} layers", note, params)


def predicted_lora_memory_gb(cfg: Any, seq: int, batch: int, rank: int, dtype: torch.dtype) -> float:
    from rigcheck.perfmodel.llm_memory import LlmRun, llm_memory
    w = "fp32" if dtype == torch.float32 else ("bf16" if dtype == torch.bfloat16 else "fp16")
    m = llm_memory(cfg, LlmRun(method="lora", weights=w, seq_len=seq, micro_batch=batch,
                               grad_checkpointing=False, lora_rank=rank))
    return m.total_gb - m.context_gb


def expected_tokens_per_s(fig: Figure, gpu: Any) -> float | None:
    """The performance model's figure for the same shapes on ``gpu`` (a spec record); the one
    definition is torch-free, in :func:`rigcheck.bench.expect.llm_expected_tokens_per_s`."""
    from rigcheck.bench.expect import llm_expected_tokens_per_s
    return llm_expected_tokens_per_s(fig, gpu)

"""GPU memory of an LLM run: fine-tuning (full, LoRA, QLoRA), pre-training and inference.

Pure arithmetic over a :class:`~rigcheck.perfmodel.llm_configs.ModelConfig` and an :class:`LlmRun`.
The context/allocator allowance is the one of :mod:`rigcheck.perfmodel.memory` (``CONTEXT_GB``
added once, ``USABLE_FRACTION`` of the card usable). Bytes per parameter (P all, T trainable)::

    full / pretrain, DDP (PyTorch AMP)   4 P fp32 master + 2 P 16-bit copy + 4 T grads + opt T
    full / pretrain, ZeRO / FSDP         2 P 16-bit + 2 T 16-bit grads + (4 + opt) T master+state,
                                         each sharded over the GPUs by stage (ZeRO paper, sec. 5)
    lora                                 frozen base at the weight format + LoRA (4 + 4 + opt) L
    qlora                                linear layers in NF4, embeddings/head in fp32 (peft), LoRA as above
    infer                                weights at the format + KV cache + a prefill workspace

Optimizer state per trainable parameter: AdamW 8 bytes (two fp32 moments), bitsandbytes 8-bit
AdamW 2 (two 8-bit moments; block-wise scales are ~0.3%), paged variants the same bytes but
evictable to host memory under pressure (counted on the GPU: the peak you should plan for), SGD 0.

Activations per token and layer (elements; the tensors autograd saves in the Hugging Face Llama
implementation with fused/flash attention): the two RMSNorm inputs and outputs (4h), q (h), k and
v (2 x kv width), the attention output (h), and for a gated MLP gate, up, act(gate) and their
product (4I; MoE: k experts of width I_moe, plus router logits). Unfused (eager) attention also
keeps the softmax probabilities (fp32 and 16-bit copy: 6 bytes x heads x sequence per token). The
output head holds 16 bytes x vocabulary per token at its peak (LOGITS_BYTES_PER_VOCAB). Gradient
checkpointing (one checkpoint per decoder layer, as HF ``gradient_checkpointing_enable``) keeps
only each layer's input (h) plus one layer's full set during its recomputation.

KV cache per token: 2 x layers x KV heads x head_dim elements (GQA), or layers x (kv_lora_rank +
rope dim) for MLA (DeepSeek V2/V3); sliding-window layers (Mistral v0.1, Gemma 2/3, gpt-oss) stop
at their window. Weight formats store bits per weight (``WEIGHT_BITS``), GGUF figures from
llama.cpp's block layouts (ggml-common.h: Q8_0 34 bytes / 32 weights = 8.5, Q4_0 18 / 32 = 4.5,
Q6_K 210 / 256 = 6.5625) and, for the K-quant mixes, the bits per weight llama.cpp's
tools/quantize/README.md gives for Llama 2 7B (Q4_K_M 4.84, Q5_K_M 5.68).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from . import memory as mem
from .llm_configs import ModelConfig

METHODS = ("full", "lora", "qlora", "pretrain", "infer")
PARALLEL = ("ddp", "zero1", "zero2", "zero3", "fsdp", "tp")
OPTIMIZERS = {"adamw": 8.0, "adamw-8bit": 2.0, "paged-adamw-8bit": 2.0, "paged-adamw": 8.0,
              "sgd": 0.0}

# Bits per stored weight, scales included.
WEIGHT_BITS = {
    "fp32": 32.0, "bf16": 16.0, "fp16": 16.0,
    "fp8": 8.0 + 32.0 / 4096,      # fp8 e4m3 with a per-row fp32 scale (rows ~4k wide)
    "int8": 8.0 + 32.0 / 4096,     # bitsandbytes LLM.int8: int8 + per-row fp32 scale
    # bitsandbytes NF4 with double quantisation (QLoRA paper, sec. 3): 4 bits + 8-bit absmax per
    # 64 weights + fp32 second-level scale per 256 blocks = 4 + 8/64 + 32/(64 x 256) = 4.127
    "nf4": 4.0 + 8.0 / 64 + 32.0 / (64 * 256),
    "mxfp4": 4.25,                 # OCP MX fp4: 32 e2m1 values + one e8m0 scale (gpt-oss experts)
    # llama.cpp's MXFP4_MOE GGUF (ggml-org/gpt-oss-*-GGUF): experts MXFP4, every other tensor Q8_0
    # (gpt-oss-20b: 19.1 B expert weights x 4.25 + 1.8 B x 8.5 bits = 12.1 GB, llama-bench's
    # "11.27 GiB"); the figure here is the experts'
    "mxfp4_moe": 4.25,
    "q8_0": 8.5, "q6_k": 6.5625, "q5_k_m": 5.68, "q4_k_m": 4.84, "q4_0": 4.5,
    # GPTQ / AWQ, 4 bits, group size 128: fp16 scale + 4-bit zero per group = 4 + 20/128
    "gptq-4bit": 4.0 + 20.0 / 128, "awq-4bit": 4.0 + 20.0 / 128,
}
WEIGHT_ALIASES = {"gptq": "gptq-4bit", "awq": "awq-4bit", "q4": "q4_k_m", "q8": "q8_0",
                  "int4": "gptq-4bit", "4bit": "nf4", "8bit": "int8", "float16": "fp16",
                  "bfloat16": "bf16", "float32": "fp32", "q5": "q5_k_m", "q6": "q6_k",
                  "mxfp4-moe": "mxfp4_moe"}
GGUF = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "mxfp4_moe")
GGUF_REST_BITS = WEIGHT_BITS["q8_0"]   # what MXFP4_MOE stores the non-expert tensors in
# Formats that quantise only the decoder's linear layers (embeddings and output head stay 16-bit):
# bitsandbytes, GPTQ, AWQ, fp8 checkpoints. GGUF quantises every tensor (its figure is the file's).
LINEAR_ONLY = ("fp8", "int8", "nf4", "mxfp4", "gptq-4bit", "awq-4bit")
TRAINABLE_BASE = ("fp32", "bf16", "fp16")

# KV-cache element widths servers offer: 16-bit, 8-bit (llama.cpp q8_0, vLLM/TensorRT-LLM fp8),
# 4-bit (llama.cpp q4_0). Block scales (q8_0: 8.5 bits, q4_0: 4.5) are left out.
KV_BITS = (16, 8, 4)
DEFAULT_LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# Per token at the output head, at the peak of the loss backward: 16-bit logits (2), their fp32
# upcast (4), the fp32 log-softmax cross-entropy saves (4), its fp32 gradient (4) and the 16-bit
# gradient handed back to the head (2). Checked against Unsloth's "Hugging Face + FA2" longest
# contexts (README table: 932 tokens on 12 GB ... 28,454 on 80 GB), whose slope is ~2.5 MB per
# token for Llama 3.1 8B with checkpointing: 16 x 128,256 = 2.05 MB of it is this term.
LOGITS_BYTES_PER_VOCAB = 16.0
# peft's prepare_model_for_kbit_training casts every non-quantised parameter (embeddings, output
# head, norms) to fp32 "for stability", the QLoRA path of HF TRL/peft and LitGPT-style scripts.
QLORA_UNQUANTISED_BYTES = 4.0
EAGER_ATTN_BYTES = 6.0             # fp32 softmax + its 16-bit copy, per head x key per token
PREFILL_CHUNK_TOKENS = 512         # llama.cpp's default ubatch; vLLM/TGI chunk prefill likewise
GB = 1e9


class LlmRunError(ValueError):
    """Settings that cannot describe a run (one line for the CLI)."""


def normalize_weights(text: str) -> str:
    w = text.strip().lower().replace("-", "_") if text else ""
    w = w.replace("gptq_4bit", "gptq-4bit").replace("awq_4bit", "awq-4bit")
    w = WEIGHT_ALIASES.get(w, w)
    if w not in WEIGHT_BITS:
        raise LlmRunError(f"--weights '{text}': use one of {', '.join(WEIGHT_BITS)}")
    return w


@dataclass(frozen=True)
class LlmRun:
    method: str = "lora"
    weights: str = ""               # "" = the method's default (see default_weights)
    seq_len: int = 2048
    micro_batch: int = 1            # sequences per GPU per forward (inference: concurrent streams)
    grad_accum: int = 1
    grad_checkpointing: bool | None = None   # None: on for lora/qlora (peft/TRL recipes), off else
    optimizer: str = "adamw"
    lora_rank: int = 16
    lora_targets: tuple[str, ...] = DEFAULT_LORA_TARGETS
    n_gpus: int = 1
    parallel: str = ""              # "" = ddp for training, tp for inference
    cpu_offload: bool = False
    fused_attention: bool = True
    context: int = 0                # inference: tokens held per stream (0 = seq_len)
    kv_bits: int = 16
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def training(self) -> bool:
        return self.method != "infer"

    @property
    def checkpointing(self) -> bool:
        if self.grad_checkpointing is not None:
            return self.grad_checkpointing
        return self.method in ("lora", "qlora")

    @property
    def weight_format(self) -> str:
        return default_weights(self.method, self.weights)

    @property
    def strategy(self) -> str:
        return self.parallel or ("tp" if self.method == "infer" else "ddp")


def default_weights(method: str, weights: str) -> str:
    if weights:
        return normalize_weights(weights)
    return "nf4" if method == "qlora" else "bf16"


def validate(run: LlmRun, cfg: ModelConfig) -> None:
    if run.method not in METHODS:
        raise LlmRunError(f"--method '{run.method}': use one of {', '.join(METHODS)}")
    w = run.weight_format
    if run.method in ("full", "pretrain") and w not in TRAINABLE_BASE:
        raise LlmRunError(f"--weights {w} cannot be trained in full; use bf16/fp16/fp32, or "
                          "--method qlora/lora for a quantised base")
    if run.method == "qlora" and w not in ("nf4", "int8", "gptq-4bit", "awq-4bit"):
        raise LlmRunError(f"--method qlora needs a 4/8-bit base (nf4, int8, gptq, awq), not {w}")
    if run.optimizer not in OPTIMIZERS:
        raise LlmRunError(f"--optimizer '{run.optimizer}': use one of {', '.join(OPTIMIZERS)}")
    if run.strategy not in PARALLEL:
        raise LlmRunError(f"--parallel '{run.parallel}': use one of {', '.join(PARALLEL)}")
    if run.training and run.strategy == "tp":
        raise LlmRunError("--parallel tp is modelled for inference only; train with ddp, zero1-3 or fsdp")
    if not run.training and run.strategy not in ("tp", "ddp"):
        raise LlmRunError(f"--parallel {run.strategy} is a training strategy; inference uses tp")
    for name in ("seq_len", "micro_batch", "grad_accum", "n_gpus", "lora_rank"):
        if getattr(run, name) < 1:
            raise LlmRunError(f"{name} must be at least 1, got {getattr(run, name)}")
    if run.kv_bits not in KV_BITS:
        raise LlmRunError(f"--kv-bits {run.kv_bits}: use one of {', '.join(map(str, KV_BITS))}")
    if run.seq_len > 1 << 22 or run.context > 1 << 22:
        raise LlmRunError(f"sequence length {max(run.seq_len, run.context):,} is beyond any model (max 4M tokens)")
    if run.n_gpus > 1 << 16:
        raise LlmRunError(f"--gpus {run.n_gpus}: more GPUs than any cluster holds")
    if run.method in ("lora", "qlora"):
        known = {k.split("@")[0] for k in cfg.linear_shapes()}
        bad = [t for t in run.lora_targets if t not in known]
        if bad:
            raise LlmRunError(f"--lora-targets {','.join(bad)}: {cfg.id or 'this model'} has "
                              f"{', '.join(sorted(known))}")


@lru_cache(maxsize=1024)
def lora_params(cfg: ModelConfig, rank: int, targets: tuple[str, ...]) -> int:
    """LoRA A (in x r) and B (r x out) on each targeted linear (peft; experts included)."""
    total = 0
    for name, (n_in, n_out, count) in cfg.linear_shapes().items():
        if name.split("@")[0] in targets:
            total += rank * (n_in + n_out) * count
    return total


@lru_cache(maxsize=1024)
def weight_bytes(cfg: ModelConfig, fmt: str) -> float:
    """Bytes of every stored weight in format ``fmt`` (see LINEAR_ONLY)."""
    bits = WEIGHT_BITS[fmt]
    total = float(cfg.total_params())
    if fmt in LINEAR_ONLY:
        linear = float(cfg.decoder_params())
        if fmt == "mxfp4":   # gpt-oss: only the experts are MXFP4; attention and router bf16
            linear = float(cfg.moe_layers * cfg.num_experts * cfg.expert_params())
        return linear * bits / 8 + (total - linear) * 2.0
    if fmt == "mxfp4_moe":
        experts = float(cfg.moe_layers * cfg.num_experts * cfg.expert_params())
        return experts * bits / 8 + (total - experts) * GGUF_REST_BITS / 8
    return total * bits / 8


@dataclass(frozen=True)
class LlmMemory:
    """Peak memory per GPU, GB (1e9 bytes), by term."""
    weights_gb: float
    lora_gb: float               # LoRA weights + grads + optimizer state
    grads_gb: float
    optimizer_gb: float
    activations_gb: float
    kv_cache_gb: float
    workspace_gb: float          # logits, dequantisation and prefill buffers
    context_gb: float
    trainable_params: int
    notes: tuple[str, ...] = ()

    @property
    def total_gb(self) -> float:
        return (self.weights_gb + self.lora_gb + self.grads_gb + self.optimizer_gb
                + self.activations_gb + self.kv_cache_gb + self.workspace_gb + self.context_gb)

    def fits(self, vram_gb: float) -> bool:
        return self.total_gb <= vram_gb * mem.USABLE_FRACTION

    def as_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 3) for k in (
            "weights_gb", "lora_gb", "grads_gb", "optimizer_gb", "activations_gb",
            "kv_cache_gb", "workspace_gb", "context_gb")}


def act_bytes_per_token_layer(cfg: ModelConfig, seq: int, elem: float, fused: bool) -> float:
    """Saved activations of one decoder layer per token, bytes (module docstring)."""
    h = cfg.hidden_size
    kv = 2 * (cfg.kv_lora_rank + cfg.qk_rope_head_dim) if cfg.is_mla else 2 * cfg.num_kv_heads * cfg.head_dim
    q = cfg.num_heads * (cfg.qk_nope_head_dim + cfg.qk_rope_head_dim) if cfg.is_mla else h
    attn = 4 * h + q + kv + (cfg.num_heads * cfg.v_head_dim if cfg.is_mla else h)
    if cfg.is_moe and cfg.moe_layers == cfg.num_layers:
        width = cfg.experts_per_token * cfg.moe_intermediate_size
        mlp = 4 * width + cfg.num_experts + 4 * cfg.shared_width()
    else:
        width = cfg.intermediate_size if not cfg.is_moe else max(
            cfg.intermediate_size, cfg.experts_per_token * cfg.moe_intermediate_size)
        mlp = (4 if cfg.gated_mlp else 2) * width
    total = (attn + mlp) * elem
    if not fused:
        total += EAGER_ATTN_BYTES * cfg.num_heads * seq
    return total


def train_memory(cfg: ModelConfig, run: LlmRun) -> LlmMemory:
    validate(run, cfg)
    fmt, n = run.weight_format, run.n_gpus
    p = float(cfg.total_params())
    opt = OPTIMIZERS[run.optimizer]
    strat = run.strategy
    notes: list[str] = []
    shard_opt = n if strat in ("zero1", "zero2", "zero3", "fsdp") else 1
    shard_grad = n if strat in ("zero2", "zero3", "fsdp") else 1
    shard_w = n if strat in ("zero3", "fsdp") else 1
    lora_gb = grads = optimizer = 0.0
    trainable = 0
    if run.method in ("full", "pretrain"):
        trainable = int(p)
        if fmt == "fp32":
            weights, grads, optimizer = 4 * p / shard_w, 4 * p / shard_grad, opt * p / shard_opt
        elif strat == "ddp":
            weights, grads, optimizer = 6 * p, 4 * p, opt * p
        else:  # ZeRO/FSDP mixed precision: 16-bit params and grads, fp32 master with the state
            weights, grads, optimizer = 2 * p / shard_w, 2 * p / shard_grad, (4 + opt) * p / shard_opt
        if run.cpu_offload:
            notes.append("CPU offload: optimizer state and fp32 master weights live in host RAM "
                         f"({(4 + opt) * p / GB:,.0f} GB of it)")
            optimizer = 0.0
            if strat == "ddp" and fmt != "fp32":
                weights = 2 * p
    else:
        weights = weight_bytes(cfg, fmt)
        if run.method == "qlora" and fmt in LINEAR_ONLY:
            weights += (QLORA_UNQUANTISED_BYTES - 2.0) * (p - cfg.decoder_params())
        # ZeRO-3 / FSDP shard the frozen base too: FSDP + QLoRA (Answer.AI, 2024-03-06,
        # https://www.answer.ai/posts/2024-03-06-fsdp-qlora: "use FSDP to shard that across two or
        # more 24GB consumer cards"; bitsandbytes stores the 4-bit weights in a float dtype so that
        # FSDP can split them). The adapters' weights, gradients and state shard like a full run's.
        weights /= shard_w
        trainable = lora_params(cfg, run.lora_rank, run.lora_targets)
        lora_gb = (4 / shard_w + 4 / shard_grad + opt / shard_opt) * trainable / GB
    elem = 4.0 if fmt == "fp32" else 2.0
    tokens = run.micro_batch * run.seq_len
    per_layer = act_bytes_per_token_layer(cfg, run.seq_len, elem, run.fused_attention)
    if run.checkpointing:
        acts = tokens * (cfg.num_layers * cfg.hidden_size * elem + per_layer)
    else:
        acts = tokens * cfg.num_layers * per_layer
    workspace = tokens * cfg.vocab_size * LOGITS_BYTES_PER_VOCAB
    if fmt in LINEAR_ONLY or fmt in GGUF:   # one layer's largest weight dequantised to 16-bit
        workspace += 2.0 * max(i * o for i, o, c in cfg.linear_shapes().values() if c)
    return LlmMemory(weights / GB, lora_gb, grads / GB, optimizer / GB, acts / GB, 0.0,
                     workspace / GB, mem.CONTEXT_GB, trainable, tuple(notes))


def kv_cache_bytes(cfg: ModelConfig, context: int, streams: int, kv_bits: int = 16) -> float:
    return cfg.kv_elements_per_token(context) * context * streams * kv_bits / 8


def infer_memory(cfg: ModelConfig, run: LlmRun) -> LlmMemory:
    validate(run, cfg)
    tp = run.n_gpus
    ctx = run.context or run.seq_len
    weights = weight_bytes(cfg, run.weight_format) / tp
    kv = kv_cache_bytes(cfg, ctx, run.micro_batch, run.kv_bits)
    # KV heads split over the TP ranks; past one head per rank they replicate (vLLM); MLA's
    # latent is one shared "head", replicated on every rank.
    kv /= 1 if cfg.is_mla else min(tp, cfg.num_kv_heads)
    chunk = min(ctx, PREFILL_CHUNK_TOKENS) * run.micro_batch
    width = max(cfg.intermediate_size, cfg.experts_per_token * cfg.moe_intermediate_size)
    workspace = chunk * (2 * width + 4 * cfg.hidden_size) * 2.0 / tp + chunk * cfg.vocab_size * 4.0
    notes = []
    if cfg.sliding_layers and ctx > cfg.sliding_window:
        notes.append(f"{cfg.sliding_layers} of {cfg.num_layers} layers use a {cfg.sliding_window:,}-"
                     "token sliding window: their KV cache stops there")
    return LlmMemory(weights / GB, 0.0, 0.0, 0.0, 0.0, kv / GB, workspace / GB, mem.CONTEXT_GB, 0,
                     tuple(notes))


@lru_cache(maxsize=65536)
def llm_memory(cfg: ModelConfig, run: LlmRun) -> LlmMemory:
    # Memoised: a pure function of two frozen records; ranking every GPU of the database asks
    # for the same run (and the same suggested changes) once per card.
    return infer_memory(cfg, run) if run.method == "infer" else train_memory(cfg, run)

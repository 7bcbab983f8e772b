"""LLM architectures from Hugging Face ``config.json`` files: parse, validate, count parameters.

A :class:`ModelConfig` is the few numbers the memory and speed models need (hidden size, layers,
heads, KV heads, MLP width, vocabulary, experts, MLA ranks). It comes from a user's
``config.json`` (:func:`load_config_file`) or from one of the bundled configs in ``models/``
(:func:`find_model`, matched loosely: "Llama 3 8B", "meta-llama/Llama-3.1-8B", "qwen2.5-7b").

Parameter counting follows the module layout of the Hugging Face implementations (``modeling_llama``,
``modeling_qwen2`` with q/k/v biases, ``modeling_qwen3`` with q/k RMSNorm, ``modeling_gemma2/3`` with
four norms per layer, ``modeling_mixtral``/``qwen3_moe`` experts + router, ``modeling_deepseek_v3``
MLA + shared experts + ``first_k_dense_replace`` dense layers, ``modeling_gpt_oss`` with biased
experts and attention sinks, ``modeling_gpt2`` with LayerNorm, biases and learned positions).
``tests/test_llm_configs.py`` holds the counts to the published ones within 1%.

Hostile input is rejected with :class:`ConfigError`, one line naming the file and the field: a
file over 4 MB (real configs are a few KB), not JSON, a missing or non-integer size, a size <= 0
or absurd (hidden size over 2^17, over 2^12 layers, more than 10^13 parameters).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CONFIG_BYTES = 4_000_000
MAX_PARAMS = 10**13  # 10 T: five times the largest open model; above is a typo or an attack
_LIMITS = {"hidden_size": 1 << 17, "intermediate_size": 1 << 20, "num_hidden_layers": 4096,
           "num_attention_heads": 4096, "num_key_value_heads": 4096, "vocab_size": 1 << 24,
           "head_dim": 4096, "num_experts": 4096, "num_experts_per_tok": 4096,
           "moe_intermediate_size": 1 << 20, "max_position_embeddings": 1 << 26,
           "kv_lora_rank": 1 << 16, "q_lora_rank": 1 << 16, "qk_rope_head_dim": 4096,
           "qk_nope_head_dim": 4096, "v_head_dim": 4096, "n_shared_experts": 4096,
           "first_k_dense_replace": 4096, "sliding_window": 1 << 26}


class ConfigError(ValueError):
    """A config.json we cannot use; the message names the file and the field."""


@dataclass(frozen=True)
class ModelConfig:
    id: str
    name: str
    source: str
    model_type: str
    hidden_size: int
    intermediate_size: int          # dense MLP width (dense layers of an MoE too)
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    tied_embeddings: bool
    max_positions: int
    gated_mlp: bool = True          # SwiGLU/GeGLU: gate, up, down; GPT-2/MPT: fc, proj
    mlp_bias: bool = False          # GPT-2's c_fc/c_proj biases (MPT has none)
    qkv_bias: bool = False          # Qwen2, GPT-2, gpt-oss
    qk_norm: bool = False           # Qwen3, Gemma 3
    norms_per_layer: int = 2        # Gemma 2/3 have four
    layer_norm: bool = False        # LayerNorm with bias (GPT-2) rather than RMSNorm
    learned_positions: int = 0      # GPT-2's wpe rows
    num_experts: int = 0
    experts_per_token: int = 0
    moe_intermediate_size: int = 0
    shared_experts: int = 0
    shared_expert_intermediate_size: int = 0
    first_dense_layers: int = 0     # DeepSeek first_k_dense_replace
    expert_bias: bool = False       # gpt-oss
    router_bias: bool = False       # gpt-oss
    attention_sinks: bool = False   # gpt-oss
    q_lora_rank: int = 0            # MLA (DeepSeek V2/V3); 0 with kv_lora_rank > 0 = no q compression
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    qk_nope_head_dim: int = 0
    v_head_dim: int = 0
    sliding_window: int = 0
    sliding_layers: int = 0         # layers whose KV cache stops at sliding_window
    vision_params: int = 0          # a bundled vision tower (Gemma 3), not run for text
    aliases: tuple[str, ...] = ()

    # ---- derived counts -------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def moe_layers(self) -> int:
        return self.num_layers - self.first_dense_layers if self.is_moe else 0

    def attention_params(self) -> int:
        """One layer's attention block, norms excluded."""
        h, nh = self.hidden_size, self.num_heads
        if self.is_mla:
            qk = self.qk_nope_head_dim + self.qk_rope_head_dim
            if self.q_lora_rank:
                q = h * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * nh * qk
            else:
                q = h * nh * qk
            kv = (h * (self.kv_lora_rank + self.qk_rope_head_dim) + self.kv_lora_rank
                  + self.kv_lora_rank * nh * (self.qk_nope_head_dim + self.v_head_dim))
            return q + kv + nh * self.v_head_dim * h
        q_out, kv_out = nh * self.head_dim, self.num_kv_heads * self.head_dim
        total = h * q_out + 2 * h * kv_out + q_out * h
        if self.qkv_bias:
            total += q_out + 2 * kv_out + (h if self.model_type in ("gpt2", "gpt_oss") else 0)
        if self.qk_norm:
            total += 2 * self.head_dim
        if self.attention_sinks:
            total += nh
        return total

    def mlp_params(self, width: int) -> int:
        h = self.hidden_size
        if self.gated_mlp:
            return 3 * h * width
        return 2 * h * width + ((width + h) if self.mlp_bias else 0)   # GPT-2 biases

    def expert_params(self) -> int:
        """One routed expert."""
        p = self.mlp_params(self.moe_intermediate_size)
        if self.expert_bias:
            p += 2 * self.moe_intermediate_size + self.hidden_size
        return p

    def router_params(self) -> int:
        return self.hidden_size * self.num_experts + (self.num_experts if self.router_bias else 0)

    def shared_width(self) -> int:
        """Width of the one MLP that holds an MoE layer's shared experts: Qwen2-MoE's
        ``shared_expert_intermediate_size``, else DeepSeek's ``n_shared_experts`` x
        ``moe_intermediate_size`` (modeling_deepseek_v3 builds a single MLP of that width)."""
        if not self.shared_experts:
            return 0
        return self.shared_expert_intermediate_size or self.moe_intermediate_size * self.shared_experts

    def shared_params(self) -> int:
        return self.mlp_params(self.shared_width()) if self.shared_experts else 0

    def norm_params(self) -> int:
        return self.norms_per_layer * self.hidden_size * (2 if self.layer_norm else 1)

    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size + self.learned_positions * self.hidden_size

    def head_params(self) -> int:
        return 0 if self.tied_embeddings else self.vocab_size * self.hidden_size

    def layer_params(self, moe: bool, active: bool = False) -> int:
        p = self.attention_params() + self.norm_params()
        if moe:
            experts = self.experts_per_token if active else self.num_experts
            p += experts * self.expert_params() + self.router_params() + self.shared_params()
        else:
            p += self.mlp_params(self.intermediate_size)
        return p

    def decoder_params(self, active: bool = False) -> int:
        dense = self.num_layers - self.moe_layers
        return (dense * self.layer_params(False)
                + self.moe_layers * self.layer_params(True, active))

    def total_params(self) -> int:
        """Every parameter of the checkpoint (vision tower included)."""
        final_norm = self.hidden_size * (2 if self.layer_norm else 1)
        return (self.embedding_params() + self.decoder_params() + final_norm + self.head_params()
                + self.vision_params)

    def active_params(self) -> int:
        """Parameters one token touches (MoE: top-k experts + shared); no vision tower."""
        final_norm = self.hidden_size * (2 if self.layer_norm else 1)
        return (self.embedding_params() + self.decoder_params(active=True) + final_norm
                + self.head_params())

    def matmul_params(self, active: bool = True) -> int:
        """Weights in matrix multiplies per token: the decoder and the output head (the embedding
        lookup is not a matmul; a tied head still multiplies)."""
        return self.decoder_params(active) + self.vocab_size * self.hidden_size

    def linear_shapes(self) -> dict[str, tuple[int, int, int]]:
        """LoRA targets: module name -> (in, out, count over the model). MoE layers add each
        routed expert's projections ("@experts", once per expert) and the shared experts' MLP
        ("@shared", once per MoE layer): peft matches a target by the module name's last part, so
        "gate_proj" also adapts ``mlp.experts.3.gate_proj`` and ``mlp.shared_experts.gate_proj``
        (DeepSeek) or ``mlp.shared_expert.gate_proj`` (Qwen2-MoE). MLA's low-rank projections are
        q_proj/kv_proj."""
        h, L = self.hidden_size, self.num_layers
        if self.is_mla:
            qk = self.qk_nope_head_dim + self.qk_rope_head_dim
            shapes = {"q_proj": (h, self.num_heads * qk, L),
                      "k_proj": (h, self.kv_lora_rank + self.qk_rope_head_dim, L),
                      "v_proj": (self.kv_lora_rank, self.num_heads * (self.qk_nope_head_dim + self.v_head_dim), L),
                      "o_proj": (self.num_heads * self.v_head_dim, h, L)}
        else:
            q_out, kv_out = self.num_heads * self.head_dim, self.num_kv_heads * self.head_dim
            shapes = {"q_proj": (h, q_out, L), "k_proj": (h, kv_out, L), "v_proj": (h, kv_out, L),
                      "o_proj": (q_out, h, L)}
        mlp = ("gate_proj", "up_proj", "down_proj") if self.gated_mlp else ("up_proj", "down_proj")

        def add(suffix: str, width: int, count: int) -> None:
            for name in mlp:
                shapes[name + suffix] = (width, h, count) if name == "down_proj" else (h, width, count)

        add("", self.intermediate_size, L - self.moe_layers)
        if self.moe_layers:
            add("@experts", self.moe_intermediate_size, self.moe_layers * self.num_experts)
            if self.shared_experts:
                add("@shared", self.shared_width(), self.moe_layers)
        return shapes

    def kv_elements_per_token(self, context: int) -> float:
        """KV-cache elements one token of context adds, averaged over a context of ``context``
        tokens (sliding-window layers stop growing at their window). MLA caches the compressed
        latent plus the shared rope key, 576 values per layer for DeepSeek V3."""
        if self.is_mla:
            per_layer = float(self.kv_lora_rank + self.qk_rope_head_dim)
            return per_layer * self.num_layers
        per_layer = 2.0 * self.num_kv_heads * self.head_dim
        full = self.num_layers - self.sliding_layers
        if self.sliding_layers and self.sliding_window and context > self.sliding_window:
            frac = self.sliding_window / context
        else:
            frac = 1.0
        return per_layer * (full + self.sliding_layers * frac)


# ---- parsing ------------------------------------------------------------------------------

def _int(raw: dict[str, Any], where: str, key: str, *alts: str, default: int | None = None,
         zero_ok: bool = False) -> int:
    for k in (key, *alts):
        if k in raw and raw[k] is not None:
            value, name = raw[k], k
            break
    else:
        if default is not None:
            return default
        raise ConfigError(f"{where}: field '{key}' is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ConfigError(f"{where}: field '{name}' must be a whole number, got {value!r}")
    value = int(value)
    if value < 0 or (value == 0 and not zero_ok):
        raise ConfigError(f"{where}: field '{name}' must be > 0, got {value}")
    limit = _LIMITS.get(key)
    if limit is not None and value > limit:
        raise ConfigError(f"{where}: field '{name}' = {value} is beyond any real model (max {limit})")
    return value


def parse_config(raw: Any, where: str, *, id: str = "", name: str = "", source: str = "") -> ModelConfig:
    """A ModelConfig from a parsed config.json ``raw``; ``where`` names it in errors."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: not a JSON object")
    meta_raw = raw.get("_rigcheck")
    meta: dict[str, Any] = meta_raw if isinstance(meta_raw, dict) else {}
    vision = 0
    if isinstance(raw.get("text_config"), dict):   # multimodal wrapper (Gemma 3, Llava)
        if isinstance(raw.get("vision_config"), dict):
            vision = _vision_params(raw["vision_config"], raw["text_config"], f"{where}: vision_config")
        raw = raw["text_config"]
        where = f"{where}: text_config"
    mt = str(raw.get("model_type", "llama")).lower()
    gpt2 = mt == "gpt2"
    mpt = mt == "mpt"    # MosaicML MPT: ALiBi, no biases, 4x GELU MLP, tied head
    h = _int(raw, where, "hidden_size", "n_embd", "d_model")
    layers = _int(raw, where, "num_hidden_layers", "n_layer", "num_layers", "n_layers")
    heads = _int(raw, where, "num_attention_heads", "n_head", "n_heads")
    kv_heads = _int(raw, where, "num_key_value_heads", "num_kv_heads", default=heads)
    if kv_heads > heads or heads % kv_heads:
        raise ConfigError(f"{where}: field 'num_key_value_heads' ({kv_heads}) must divide "
                          f"num_attention_heads ({heads})")
    head_dim = _int(raw, where, "head_dim", default=max(1, h // heads))
    ratio = raw.get("expansion_ratio", 4) if mpt else 4
    if mpt and (not isinstance(ratio, int) or isinstance(ratio, bool) or not 0 < ratio <= 64):
        raise ConfigError(f"{where}: field 'expansion_ratio' must be a whole number 1..64, got {ratio!r}")
    inter = _int(raw, where, "intermediate_size", "n_inner", "ffn_dim",
                 default=ratio * h if (gpt2 or mpt) else None)
    vocab = _int(raw, where, "vocab_size")
    max_pos = _int(raw, where, "max_position_embeddings", "n_positions", "n_ctx", "max_seq_len", default=4096)
    experts = _int(raw, where, "num_experts", "num_local_experts", "n_routed_experts", default=0, zero_ok=True)
    if not raw.get("moe_intermediate_size") and experts and mt in ("mixtral", "gpt_oss"):
        moe_inter = inter
    else:
        moe_inter = _int(raw, where, "moe_intermediate_size", default=0, zero_ok=True)
    top_k = _int(raw, where, "num_experts_per_tok", "experts_per_token", default=0, zero_ok=True)
    if experts and not (0 < top_k <= experts):
        raise ConfigError(f"{where}: field 'num_experts_per_tok' must be 1..{experts}, got {top_k}")
    if experts and not moe_inter:
        raise ConfigError(f"{where}: field 'moe_intermediate_size' is missing for an MoE model")
    kv_lora = _int(raw, where, "kv_lora_rank", default=0, zero_ok=True)
    tied_default = mt in ("gpt2", "mpt", "gemma", "gemma2", "gemma3_text")
    tied = raw.get("tie_word_embeddings", tied_default)
    if not isinstance(tied, bool):
        raise ConfigError(f"{where}: field 'tie_word_embeddings' must be true or false, got {tied!r}")
    window = _int(raw, where, "sliding_window", default=0, zero_ok=True)
    sliding = 0
    layer_types = raw.get("layer_types")
    if window and isinstance(layer_types, list):
        sliding = sum(1 for t in layer_types if t == "sliding_attention")
    elif window and raw.get("sliding_window_pattern"):
        pattern = _int(raw, where, "sliding_window_pattern")
        sliding = layers - layers // pattern   # every pattern-th layer is global (Gemma 3)
    elif window and mt == "gemma2":
        sliding = layers // 2                  # Gemma 2 alternates local and global layers
    elif window and mt == "mistral" and raw.get("use_sliding_window", True):
        sliding = layers
    shared = _int(raw, where, "n_shared_experts", "num_shared_experts", default=0, zero_ok=True)
    shared_width = _int(raw, where, "shared_expert_intermediate_size", default=0, zero_ok=True)
    if shared_width and not shared:
        shared = 1                             # Qwen2-MoE: one shared expert of its own width
    cfg = ModelConfig(
        id=id or str(meta.get("id", "")), name=name or str(meta.get("name", "")) or where,
        source=source or str(meta.get("source", where)), model_type=mt,
        hidden_size=h, intermediate_size=inter, num_layers=layers, num_heads=heads,
        num_kv_heads=kv_heads, head_dim=head_dim, vocab_size=vocab, tied_embeddings=tied,
        max_positions=max_pos, gated_mlp=not (gpt2 or mpt), mlp_bias=gpt2,
        qkv_bias=gpt2 or mt == "gpt_oss" or mt.startswith("qwen2") or bool(raw.get("attention_bias")),
        qk_norm=mt.startswith("qwen3") or mt.startswith("gemma3"),
        norms_per_layer=4 if mt.startswith(("gemma2", "gemma3")) else 2,
        layer_norm=gpt2, learned_positions=max_pos if gpt2 else 0,
        num_experts=experts, experts_per_token=top_k if experts else 0,
        moe_intermediate_size=moe_inter if experts else 0,
        shared_experts=shared if experts else 0, shared_expert_intermediate_size=shared_width,
        first_dense_layers=min(layers, _int(raw, where, "first_k_dense_replace", default=0, zero_ok=True)) if experts else 0,
        expert_bias=mt == "gpt_oss", router_bias=mt == "gpt_oss", attention_sinks=mt == "gpt_oss",
        q_lora_rank=_int(raw, where, "q_lora_rank", default=0, zero_ok=True) if kv_lora else 0,
        kv_lora_rank=kv_lora,
        qk_rope_head_dim=_int(raw, where, "qk_rope_head_dim") if kv_lora else 0,
        qk_nope_head_dim=_int(raw, where, "qk_nope_head_dim") if kv_lora else 0,
        v_head_dim=_int(raw, where, "v_head_dim") if kv_lora else 0,
        sliding_window=window, sliding_layers=min(sliding, layers), vision_params=vision,
        aliases=tuple(str(a) for a in meta.get("aliases", ()) if isinstance(a, str)),
    )
    total = cfg.total_params()
    if total > MAX_PARAMS:
        raise ConfigError(f"{where}: these sizes give {total:.3g} parameters, beyond any real model "
                          f"(max {MAX_PARAMS:.0e}); check hidden_size, num_hidden_layers and num_experts")
    return cfg


def _vision_params(v: dict[str, Any], text: dict[str, Any], where: str) -> int:
    """A SigLIP/ViT tower: per layer q/k/v/o with biases, fc1/fc2 with biases, two LayerNorms;
    patch embedding with bias, learned positions, post LayerNorm; plus Gemma 3's projector
    (a hidden x text-hidden matrix and an RMSNorm)."""
    h = _int(v, where, "hidden_size")
    inter = _int(v, where, "intermediate_size")
    layers = _int(v, where, "num_hidden_layers")
    patch = _int(v, where, "patch_size")
    image = _int(v, where, "image_size")
    channels = _int(v, where, "num_channels", default=3)
    per_layer = 4 * (h * h + h) + 2 * h * inter + inter + h + 4 * h
    positions = (image // patch) ** 2
    tower = layers * per_layer + channels * patch * patch * h + h + positions * h + 2 * h
    text_h = int(text.get("hidden_size") or 0)
    return tower + h * text_h + h


def load_config_file(path: Path) -> ModelConfig:
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{where}: {size / 1e6:.0f} MB is not a config.json (they are a few KB; "
                              f"limit {MAX_CONFIG_BYTES / 1e6:.0f} MB)")
        text = path.read_text(encoding="utf-8")
    except ConfigError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from None
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(f"{where}: not valid JSON: {exc}") from None
    return parse_config(raw, where, id=path.parent.name if path.name == "config.json" else path.stem)


# ---- bundled configs and loose matching ---------------------------------------------------

def models_dir() -> Path:
    from rigcheck.paths import models_dir as bundled
    return bundled()


_BUNDLED: dict[str, ModelConfig] | None = None


def bundled_models() -> dict[str, ModelConfig]:
    """The bundled configs, keyed by id (cached: they are read once per process)."""
    global _BUNDLED
    if _BUNDLED is None:
        found: dict[str, ModelConfig] = {}
        for p in sorted(models_dir().glob("*.json")):
            cfg = load_config_file(p)
            found[cfg.id or p.stem] = cfg
        _BUNDLED = found
    return _BUNDLED


def _norm(text: str) -> str:
    text = text.lower().strip()
    text = text.split("/")[-1]                                   # meta-llama/Llama-3.1-8B
    text = re.sub(r"[-_ ](hf|base|instruct|chat|it|pt)\b", "", text)
    text = re.sub(r"^meta[-_ ]", "", text)
    text = text.replace("_", "-").replace(" ", "-")
    text = re.sub(r"(?<=[a-z])(?=\d)", "-", text)               # llama3 -> llama-3, qwen2.5 stays
    text = re.sub(r"-+", "-", text)
    return text.strip("-")


def _keys(cfg: ModelConfig) -> set[str]:
    keys = {_norm(cfg.id), _norm(cfg.name)} | {_norm(a) for a in cfg.aliases}
    repo = cfg.source.split("huggingface.co/")[-1].split("/blob")[0] if "huggingface.co/" in cfg.source else ""
    if repo:
        keys.add(_norm(repo))
    return keys


_INDEX: dict[str, list[ModelConfig]] | None = None


def _index() -> dict[str, list[ModelConfig]]:
    """Normalised name -> configs (and '#'+name without dashes), built once."""
    global _INDEX
    if _INDEX is None:
        idx: dict[str, list[ModelConfig]] = {}
        for cfg in bundled_models().values():
            for k in _keys(cfg):
                for key in (k, "#" + k.replace("-", "")):
                    if cfg not in idx.setdefault(key, []):
                        idx[key].append(cfg)
        _INDEX = idx
    return _INDEX


def find_model(query: str) -> ModelConfig:
    """A bundled config by id, HF repo or a loose name; a path to a config.json (or its folder)
    is read from disk. Raises ConfigError naming the nearest ids."""
    q = query.strip()
    p = Path(q)
    if q.endswith(".json") or p.is_dir() or p.is_file():
        if p.is_dir():
            p = p / "config.json"
        if not p.exists():
            raise ConfigError(f"--model: {p} does not exist")
        return load_config_file(p)
    models = bundled_models()
    if q in models:
        return models[q]
    wanted = _norm(q)
    hits: list[ModelConfig] = []
    index = _index()
    hits = list(index.get(wanted, ()))
    if len(hits) == 1:
        return hits[0]
    if not hits:   # "llama 3 8b" -> llama-3-8b; also try with the version dot collapsed
        hits = list(index.get("#" + wanted.replace("-", ""), ()))
        if len(hits) == 1:
            return hits[0]
    import difflib
    near = difflib.get_close_matches(wanted, list(models), n=4, cutoff=0.5)
    if hits:
        raise ConfigError(f"--model '{query}' is ambiguous: {', '.join(c.id for c in hits)}")
    hint = f"; did you mean: {', '.join(near)}" if near else ""
    raise ConfigError(f"--model '{query}': no bundled model or config.json file of that name{hint}"
                      "; see: rigcheck estimate --list-models")


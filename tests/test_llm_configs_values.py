"""perfmodel.llm_configs by value: every parameter-count formula on small hand-sized configs,
every parsing rule and limit just inside and just past, hostile files, and loose name matching.
The arithmetic is written out next to each expectation."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rigcheck.perfmodel import llm_configs
from rigcheck.perfmodel.llm_configs import (
    MAX_CONFIG_BYTES,
    ConfigError,
    ModelConfig,
    _int,
    _norm,
    find_model,
    load_config_file,
    parse_config,
)

# h=8, 4 heads of 5 (q_out 20), 1 KV head (kv_out 5), MLP 16, vocab 10, 3 layers
BASE = ModelConfig(id="t", name="T", source="s", model_type="llama", hidden_size=8,
                   intermediate_size=16, num_layers=3, num_heads=4, num_kv_heads=1, head_dim=5,
                   vocab_size=10, tied_embeddings=False, max_positions=64)


def cfg(**kw) -> ModelConfig:
    return replace(BASE, **kw)


# ---- attention --------------------------------------------------------------------------------

def test_attention_gqa():
    # q 8x20 + k,v 2 x 8x5 + o 20x8 = 160 + 80 + 160
    assert BASE.attention_params() == 400


@pytest.mark.parametrize("mt,extra", [("llama", 0), ("gpt2", 8), ("gpt_oss", 8)])
def test_attention_biases(mt, extra):
    # q/k/v biases 20 + 2 x 5 = 30; GPT-2 and gpt-oss also bias the output projection (h = 8)
    assert cfg(qkv_bias=True, model_type=mt).attention_params() == 400 + 30 + extra


def test_attention_qk_norm_and_sinks():
    assert cfg(qk_norm=True).attention_params() == 400 + 2 * 5        # q and k RMSNorm of head_dim
    assert cfg(attention_sinks=True).attention_params() == 400 + 4    # one sink per head
    assert cfg(qk_norm=True, attention_sinks=True, qkv_bias=True).attention_params() == 400 + 10 + 4 + 30


MLA = dict(num_heads=2, qk_nope_head_dim=3, qk_rope_head_dim=2, v_head_dim=4, kv_lora_rank=5)


def test_attention_mla_with_and_without_q_compression():
    # qk = 3 + 2 = 5. kv: 8 x (5 + 2) + 5 (norm) + 5 x 2 x (3 + 4) = 56 + 5 + 70 = 131;
    # o: 2 x 4 x 8 = 64. q without compression 8 x 2 x 5 = 80 -> 275;
    # q with rank 6: 8 x 6 + 6 (norm) + 6 x 2 x 5 = 48 + 6 + 60 = 114 -> 309
    c = cfg(**MLA)
    assert c.is_mla and c.attention_params() == 80 + 131 + 64
    assert cfg(**MLA, q_lora_rank=6).attention_params() == 114 + 131 + 64
    assert not BASE.is_mla and cfg(kv_lora_rank=1, **{k: v for k, v in MLA.items() if k != "kv_lora_rank"}).is_mla


# ---- MLP, experts, norms, embeddings -------------------------------------------------------------

def test_mlp_gated_and_plain():
    assert BASE.mlp_params(16) == 3 * 8 * 16                              # 384
    assert cfg(gated_mlp=False).mlp_params(16) == 2 * 8 * 16              # 256
    assert cfg(gated_mlp=False, mlp_bias=True).mlp_params(16) == 256 + 16 + 8
    assert cfg(mlp_bias=True).mlp_params(16) == 384                      # gated: no bias term


def test_expert_router_shared():
    moe = cfg(num_experts=4, experts_per_token=2, moe_intermediate_size=6)
    assert moe.is_moe and not BASE.is_moe
    assert moe.expert_params() == 3 * 8 * 6                               # 144
    assert replace(moe, expert_bias=True).expert_params() == 144 + 2 * 6 + 8   # 164
    assert moe.router_params() == 8 * 4                                   # 32
    assert replace(moe, router_bias=True).router_params() == 32 + 4
    assert moe.shared_params() == 0
    # two shared experts, no width of their own: 2 x 6 = 12 wide -> 3 x 8 x 12 = 288
    assert replace(moe, shared_experts=2).shared_params() == 288
    # a width of their own (Qwen2-MoE): 3 x 8 x 10 = 240
    assert replace(moe, shared_experts=1, shared_expert_intermediate_size=10).shared_params() == 240


def test_norms_embeddings_head():
    assert BASE.norm_params() == 2 * 8
    assert cfg(layer_norm=True).norm_params() == 2 * 8 * 2              # weight and bias
    assert cfg(norms_per_layer=4, layer_norm=True).norm_params() == 4 * 8 * 2
    assert BASE.embedding_params() == 10 * 8
    assert cfg(learned_positions=7).embedding_params() == 10 * 8 + 7 * 8
    assert BASE.head_params() == 80 and cfg(tied_embeddings=True).head_params() == 0


def test_dense_totals():
    # layer: attention 400 + norms 16 + MLP 384 = 800; 3 layers 2400
    assert BASE.layer_params(False) == 800 and BASE.moe_layers == 0
    assert BASE.decoder_params() == 2400 and BASE.decoder_params(active=True) == 2400
    # total: embed 80 + 2400 + final norm 8 + head 80
    assert BASE.total_params() == 2568
    assert BASE.active_params() == 2568
    assert cfg(vision_params=1000).total_params() == 3568       # the tower counts in the total...
    assert cfg(vision_params=1000).active_params() == 2568      # ...but no token of text runs it
    assert cfg(layer_norm=True).total_params() == 80 + 3 * (400 + 32 + 384) + 16 + 80
    # matmuls: decoder + the head (a tied head still multiplies): 2400 + 80
    assert BASE.matmul_params() == 2480 and cfg(tied_embeddings=True).matmul_params() == 2480


def test_moe_totals_and_first_dense_layers():
    moe = cfg(num_experts=4, experts_per_token=2, moe_intermediate_size=6, first_dense_layers=1,
              shared_experts=1)
    # MoE layer, all experts: 400 + 16 + 4 x 144 + router 32 + shared (1 x 6 wide) 144 = 1168
    # active: 400 + 16 + 2 x 144 + 32 + 144 = 880; dense layer 800
    assert moe.moe_layers == 2
    assert moe.layer_params(True) == 1168 and moe.layer_params(True, active=True) == 880
    assert moe.decoder_params() == 800 + 2 * 1168
    assert moe.decoder_params(active=True) == 800 + 2 * 880
    assert moe.total_params() == 80 + 3136 + 8 + 80
    assert moe.active_params() == 80 + 2560 + 8 + 80
    assert moe.matmul_params() == 2560 + 80 and moe.matmul_params(active=False) == 3136 + 80


# ---- LoRA shapes ------------------------------------------------------------------------------

def test_linear_shapes_dense():
    assert BASE.linear_shapes() == {
        "q_proj": (8, 20, 3), "k_proj": (8, 5, 3), "v_proj": (8, 5, 3), "o_proj": (20, 8, 3),
        "gate_proj": (8, 16, 3), "up_proj": (8, 16, 3), "down_proj": (16, 8, 3)}
    plain = cfg(gated_mlp=False).linear_shapes()
    assert "gate_proj" not in plain and plain["up_proj"] == (8, 16, 3)


def test_linear_shapes_moe_and_mla():
    moe = cfg(num_experts=4, experts_per_token=2, moe_intermediate_size=6, first_dense_layers=1)
    s = moe.linear_shapes()
    assert s["gate_proj"] == (8, 16, 1) and s["down_proj"] == (16, 8, 1)     # one dense layer
    # 2 MoE layers x 4 experts = 8 of each expert projection
    assert s["gate_proj@experts"] == (8, 6, 8) and s["up_proj@experts"] == (8, 6, 8)
    assert s["down_proj@experts"] == (6, 8, 8)
    m = cfg(**MLA).linear_shapes()
    # q 8 -> 2 x 5; kv_a 8 -> 5 + 2; kv_b 5 -> 2 x (3 + 4); o 2 x 4 -> 8
    assert m["q_proj"] == (8, 10, 3) and m["k_proj"] == (8, 7, 3)
    assert m["v_proj"] == (5, 14, 3) and m["o_proj"] == (8, 8, 3)
    assert "gate_proj@experts" not in BASE.linear_shapes()


# ---- KV cache per token -------------------------------------------------------------------------

def test_kv_elements_full_and_sliding():
    # 2 (k and v) x 1 KV head x 5 = 10 per layer, 3 layers
    assert BASE.kv_elements_per_token(100) == 30.0
    sw = cfg(sliding_window=50, sliding_layers=2)
    # context 100 > window 50: 2 sliding layers at 50/100 + 1 full -> 10 x (1 + 2 x 0.5) = 20
    assert sw.kv_elements_per_token(100) == 20.0
    assert sw.kv_elements_per_token(50) == 30.0          # at the window: all of it still counts
    assert sw.kv_elements_per_token(51) == pytest.approx(10 * (1 + 2 * 50 / 51))
    assert cfg(sliding_window=0, sliding_layers=2).kv_elements_per_token(100) == 30.0
    assert cfg(sliding_window=50, sliding_layers=0).kv_elements_per_token(100) == 30.0


def test_kv_elements_mla():
    # latent 5 + rope key 2 = 7 per layer, 3 layers (KV heads do not matter)
    assert cfg(**MLA).kv_elements_per_token(10_000) == 21.0


# ---- _int -------------------------------------------------------------------------------------

def test_int_reads_the_first_present_key():
    assert _int({"n_embd": 64}, "w", "hidden_size", "n_embd") == 64
    assert _int({"hidden_size": 32, "n_embd": 64}, "w", "hidden_size", "n_embd") == 32
    assert _int({"hidden_size": None, "n_embd": 64}, "w", "hidden_size", "n_embd") == 64
    assert _int({"hidden_size": 64.0}, "w", "hidden_size") == 64
    assert _int({}, "w", "x", default=7) == 7
    assert _int({"x": None}, "w", "x", default=0, zero_ok=True) == 0


@pytest.mark.parametrize("raw,msg", [
    ({}, "w: field 'hidden_size' is missing"),
    ({"hidden_size": None}, "w: field 'hidden_size' is missing"),
    ({"hidden_size": True}, "w: field 'hidden_size' must be a whole number, got True"),
    ({"hidden_size": "64"}, "w: field 'hidden_size' must be a whole number, got '64'"),
    ({"hidden_size": 64.5}, "w: field 'hidden_size' must be a whole number, got 64.5"),
    ({"hidden_size": [64]}, "w: field 'hidden_size' must be a whole number, got [64]"),
    ({"hidden_size": 0}, "w: field 'hidden_size' must be > 0, got 0"),
    ({"hidden_size": -1}, "w: field 'hidden_size' must be > 0, got -1"),
    ({"n_embd": -1}, "w: field 'n_embd' must be > 0, got -1"),            # names the key used
    ({"hidden_size": (1 << 17) + 1}, "w: field 'hidden_size' = 131073 is beyond any real model (max 131072)"),
])
def test_int_rejects(raw, msg):
    with pytest.raises(ConfigError) as err:
        _int(raw, "w", "hidden_size", "n_embd")
    assert str(err.value) == msg


def test_int_zero_and_limit_boundaries():
    assert _int({"x": 0}, "w", "x", zero_ok=True) == 0
    with pytest.raises(ConfigError, match="> 0"):
        _int({"x": -1}, "w", "x", zero_ok=True)
    assert _int({"hidden_size": 1 << 17}, "w", "hidden_size") == 131072
    assert _int({"unlisted": 10**9}, "w", "unlisted") == 10**9           # no limit of its own


# ---- parse_config: sizes and their limits -------------------------------------------------------

GOOD = {"model_type": "llama", "hidden_size": 512, "intermediate_size": 1024, "num_hidden_layers": 2,
        "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 1000}
# A small DeepSeek-like config that reads every field: MLA, MoE with shared experts, dense first layer.
FULL = dict(GOOD, model_type="deepseek_v3", head_dim=64, max_position_embeddings=4096,
            num_experts=8, num_experts_per_tok=2, moe_intermediate_size=128, n_shared_experts=1,
            first_k_dense_replace=1, kv_lora_rank=32, q_lora_rank=48, qk_rope_head_dim=16,
            qk_nope_head_dim=32, v_head_dim=32, sliding_window=128)

LIMITS = {"hidden_size": 1 << 17, "intermediate_size": 1 << 20, "num_hidden_layers": 4096,
          "num_attention_heads": 4096, "num_key_value_heads": 4096, "vocab_size": 1 << 24,
          "head_dim": 4096, "num_experts": 4096, "num_experts_per_tok": 4096,
          "moe_intermediate_size": 1 << 20, "max_position_embeddings": 1 << 26,
          "kv_lora_rank": 1 << 16, "q_lora_rank": 1 << 16, "qk_rope_head_dim": 4096,
          "qk_nope_head_dim": 4096, "v_head_dim": 4096, "n_shared_experts": 4096,
          "first_k_dense_replace": 4096, "sliding_window": 1 << 26}


def test_full_config_parses():
    c = parse_config(FULL, "f")
    assert (c.hidden_size, c.head_dim, c.max_positions, c.num_experts, c.experts_per_token) == (512, 64, 4096, 8, 2)
    assert (c.moe_intermediate_size, c.shared_experts, c.first_dense_layers) == (128, 1, 1)
    assert (c.kv_lora_rank, c.q_lora_rank, c.qk_rope_head_dim, c.qk_nope_head_dim, c.v_head_dim) == (32, 48, 16, 32, 32)
    assert c.sliding_window == 128 and c.sliding_layers == 0    # no pattern for deepseek


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_each_size_limit_just_past(key):
    raw = dict(FULL, **{key: LIMITS[key] + 1})
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "f")
    assert str(err.value) == f"f: field '{key}' = {LIMITS[key] + 1} is beyond any real model (max {LIMITS[key]})"


@pytest.mark.parametrize("key,value", [("max_position_embeddings", 1 << 26), ("sliding_window", 1 << 26),
                                       ("vocab_size", 1 << 16), ("head_dim", 4096)])
def test_sizes_at_their_limit_are_accepted(key, value):
    assert getattr(parse_config(dict(FULL, **{key: value}), "f"),
                   {"max_position_embeddings": "max_positions"}.get(key, key)) == value


def test_hidden_size_at_its_limit_is_accepted():
    raw = {"hidden_size": 1 << 17, "intermediate_size": 1, "num_hidden_layers": 1,
           "num_attention_heads": 1, "head_dim": 1, "vocab_size": 1}
    assert parse_config(raw, "f").hidden_size == 131072


def _tiny_total(vocab: int) -> dict:
    # h = 8192, 1 head of dim 1, tied head; per layer: attention h + 2h + h = 4h, norms 2h,
    # MLP 3 x h x 99331 -> h x (6 + 297993) = h x 297999. Total
    # h x (vocab + 4096 x 297999 + 1 final norm) = 8192 x (vocab + 1220603904 + 1).
    # With vocab 99220: 8192 x 1220703125 = 2^13 x 5^13 = 10^13 exactly.
    return {"hidden_size": 8192, "intermediate_size": 99331, "num_hidden_layers": 4096,
            "num_attention_heads": 1, "head_dim": 1, "vocab_size": vocab, "tie_word_embeddings": True}


def test_total_params_limit_boundary():
    assert parse_config(_tiny_total(99220), "f").total_params() == 10**13
    with pytest.raises(ConfigError) as err:
        parse_config(_tiny_total(99221), "f")        # 10^13 + 8192
    assert "f: these sizes give 1e+13 parameters, beyond any real model (max 1e+13)" in str(err.value)


# ---- parse_config: rules ------------------------------------------------------------------------

def test_not_an_object_and_defaults():
    with pytest.raises(ConfigError, match="^w: not a JSON object$"):
        parse_config([1], "w")
    c = parse_config({k: v for k, v in GOOD.items() if k not in ("model_type", "num_key_value_heads")}, "w")
    assert c.model_type == "llama" and c.num_kv_heads == 8            # KV heads default to heads
    assert c.head_dim == 64 and c.max_positions == 4096                # 512 / 8; default context
    assert c.name == "w" and c.source == "w" and c.id == ""
    assert c.tied_embeddings is False and c.gated_mlp and not c.qkv_bias and not c.qk_norm
    assert c.norms_per_layer == 2 and not c.layer_norm and c.learned_positions == 0
    assert (c.num_experts, c.experts_per_token, c.moe_intermediate_size, c.first_dense_layers) == (0, 0, 0, 0)
    assert (c.kv_lora_rank, c.q_lora_rank, c.qk_rope_head_dim, c.qk_nope_head_dim, c.v_head_dim) == (0,) * 5
    assert c.sliding_window == 0 and c.sliding_layers == 0 and c.vision_params == 0 and c.aliases == ()
    assert c.model_type == parse_config(dict(GOOD, model_type="LLaMA"), "w").model_type


def test_head_dim_default_never_zero():
    raw = dict(GOOD, hidden_size=4, num_attention_heads=8, num_key_value_heads=8)   # 4 // 8 = 0 -> 1
    assert parse_config(raw, "w").head_dim == 1


@pytest.mark.parametrize("kv,ok", [(8, True), (4, True), (1, True), (3, False), (16, False)])
def test_kv_heads_must_divide_heads(kv, ok):
    raw = dict(GOOD, num_key_value_heads=kv)
    if ok:
        assert parse_config(raw, "w").num_kv_heads == kv
    else:
        with pytest.raises(ConfigError) as err:
            parse_config(raw, "w")
        assert str(err.value) == (f"w: field 'num_key_value_heads' ({kv}) must divide "
                                  "num_attention_heads (8)")


def test_alternative_key_names():
    gpt2 = {"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100,
            "n_positions": 128}
    c = parse_config(gpt2, "w")
    assert (c.hidden_size, c.num_layers, c.num_heads, c.max_positions) == (64, 2, 4, 128)
    assert c.intermediate_size == 256                   # GPT-2 default 4 x 64
    assert c.layer_norm and c.mlp_bias and c.qkv_bias and not c.gated_mlp
    assert c.learned_positions == 128 and c.tied_embeddings is True
    other = {"d_model": 64, "num_layers": 3, "n_heads": 4, "num_kv_heads": 2, "vocab_size": 10,
             "ffn_dim": 32, "n_ctx": 99}
    o = parse_config(other, "w")
    assert (o.hidden_size, o.num_layers, o.num_heads, o.num_kv_heads, o.intermediate_size, o.max_positions) == (
        64, 3, 4, 2, 32, 99)
    assert parse_config(dict(other, n_layers=5, num_layers=None), "w").num_layers == 5
    assert parse_config(dict(other, max_seq_len=77, n_ctx=None), "w").max_positions == 77
    assert parse_config(dict(other, n_inner=48, ffn_dim=None), "w").intermediate_size == 48


def test_llama_without_mlp_width_is_rejected():
    raw = {k: v for k, v in GOOD.items() if k != "intermediate_size"}
    with pytest.raises(ConfigError, match="'intermediate_size' is missing"):
        parse_config(raw, "w")


@pytest.mark.parametrize("ratio,ok", [(None, True), (1, True), (64, True), (0, False), (65, False),
                                      (2.0, False), (True, False), ("4", False)])
def test_mpt_expansion_ratio(ratio, ok):
    raw = {"model_type": "mpt", "d_model": 64, "n_layers": 2, "n_heads": 4, "vocab_size": 100}
    if ratio is not None:
        raw["expansion_ratio"] = ratio
    if ok:
        c = parse_config(raw, "w")
        assert c.intermediate_size == (ratio or 4) * 64          # default 4 x d_model
        assert not c.gated_mlp and not c.mlp_bias and not c.qkv_bias and c.tied_embeddings
        assert not c.layer_norm and c.learned_positions == 0
    else:
        with pytest.raises(ConfigError, match="expansion_ratio"):
            parse_config(raw, "w")


def test_expansion_ratio_is_ignored_outside_mpt():
    assert parse_config(dict(GOOD, expansion_ratio="x"), "w").intermediate_size == 1024
    gpt2 = {"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100,
            "expansion_ratio": 8}
    assert parse_config(gpt2, "w").intermediate_size == 256      # GPT-2 is always 4x


def test_moe_fields():
    raw = dict(GOOD, num_local_experts=8, num_experts_per_tok=8, moe_intermediate_size=64)
    c = parse_config(raw, "w")
    assert (c.num_experts, c.experts_per_token, c.moe_intermediate_size) == (8, 8, 64)
    assert c.moe_layers == 2
    assert parse_config(dict(raw, num_local_experts=None, n_routed_experts=4, num_experts_per_tok=None,
                             experts_per_token=1), "w").num_experts == 4
    for bad in (0, 9):
        with pytest.raises(ConfigError) as err:
            parse_config(dict(raw, num_experts_per_tok=bad), "w")
        assert str(err.value) == f"w: field 'num_experts_per_tok' must be 1..8, got {bad}"
    with pytest.raises(ConfigError, match="'moe_intermediate_size' is missing for an MoE model"):
        parse_config(dict(raw, moe_intermediate_size=None), "w")


@pytest.mark.parametrize("mt", ["mixtral", "gpt_oss"])
def test_mixtral_and_gpt_oss_experts_use_the_mlp_width(mt):
    raw = dict(GOOD, model_type=mt, num_local_experts=8, num_experts_per_tok=2)
    c = parse_config(raw, "w")
    assert c.moe_intermediate_size == 1024
    assert parse_config(dict(raw, moe_intermediate_size=96), "w").moe_intermediate_size == 96


def test_other_moe_needs_its_width_and_dense_ignores_moe_fields():
    with pytest.raises(ConfigError, match="moe_intermediate_size"):
        parse_config(dict(GOOD, model_type="qwen3_moe", num_experts=8, num_experts_per_tok=2), "w")
    dense = parse_config(dict(GOOD, num_experts_per_tok=2, moe_intermediate_size=64,
                              n_shared_experts=2, first_k_dense_replace=1), "w")
    assert (dense.experts_per_token, dense.moe_intermediate_size, dense.shared_experts,
            dense.first_dense_layers) == (0, 0, 0, 0)


def test_shared_experts_and_first_dense_layers():
    raw = dict(GOOD, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=64)
    assert parse_config(dict(raw, num_shared_experts=2), "w").shared_experts == 2
    q = parse_config(dict(raw, shared_expert_intermediate_size=256), "w")
    assert q.shared_experts == 1 and q.shared_expert_intermediate_size == 256      # Qwen2-MoE
    q2 = parse_config(dict(raw, shared_expert_intermediate_size=256, n_shared_experts=3), "w")
    assert q2.shared_experts == 3
    assert parse_config(dict(raw, first_k_dense_replace=1), "w").first_dense_layers == 1
    assert parse_config(dict(raw, first_k_dense_replace=5), "w").first_dense_layers == 2   # min(layers)


def test_mla_fields_only_with_a_kv_rank():
    mla = dict(GOOD, kv_lora_rank=32, qk_rope_head_dim=16, qk_nope_head_dim=32, v_head_dim=32)
    c = parse_config(dict(mla, q_lora_rank=48), "w")
    assert (c.q_lora_rank, c.kv_lora_rank, c.qk_rope_head_dim, c.qk_nope_head_dim, c.v_head_dim) == (48, 32, 16, 32, 32)
    assert parse_config(mla, "w").q_lora_rank == 0
    for missing in ("qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"):
        with pytest.raises(ConfigError, match=f"'{missing}' is missing"):
            parse_config({k: v for k, v in mla.items() if k != missing}, "w")
    plain = parse_config(dict(GOOD, q_lora_rank=48, qk_rope_head_dim=16, v_head_dim=9), "w")
    assert (plain.q_lora_rank, plain.qk_rope_head_dim, plain.v_head_dim) == (0, 0, 0)


@pytest.mark.parametrize("mt,tied", [("llama", False), ("gpt2", True), ("mpt", True), ("gemma", True),
                                     ("gemma2", True), ("gemma3_text", True), ("qwen2", False)])
def test_tied_embedding_defaults(mt, tied):
    raw = dict(GOOD, model_type=mt)
    if mt in ("gpt2", "mpt"):
        raw["intermediate_size"] = 1024
    assert parse_config(raw, "w").tied_embeddings is tied
    assert parse_config(dict(raw, tie_word_embeddings=not tied), "w").tied_embeddings is (not tied)


@pytest.mark.parametrize("value", ["yes", 1, 0, None])
def test_tie_must_be_a_bool(value):
    with pytest.raises(ConfigError) as err:
        parse_config(dict(GOOD, tie_word_embeddings=value), "w")
    assert str(err.value) == f"w: field 'tie_word_embeddings' must be true or false, got {value!r}"


@pytest.mark.parametrize("mt,bias,qk,norms", [
    ("llama", False, False, 2), ("qwen2", True, False, 2), ("qwen2_moe", True, False, 2),
    ("qwen3", False, True, 2), ("qwen3_moe", False, True, 2), ("gemma2", False, False, 4),
    ("gemma3_text", False, True, 4), ("gemma3", False, True, 4), ("gpt_oss", True, False, 2),
    ("mistral", False, False, 2),
])
def test_family_flags(mt, bias, qk, norms):
    raw = dict(GOOD, model_type=mt)
    if mt in ("gpt_oss",):
        raw.update(num_local_experts=4, num_experts_per_tok=2)
    c = parse_config(raw, "w")
    assert (c.qkv_bias, c.qk_norm, c.norms_per_layer) == (bias, qk, norms)
    oss = mt == "gpt_oss"
    assert (c.expert_bias, c.router_bias, c.attention_sinks) == (oss, oss, oss)


def test_attention_bias_flag():
    assert parse_config(dict(GOOD, attention_bias=True), "w").qkv_bias is True
    assert parse_config(dict(GOOD, attention_bias=False), "w").qkv_bias is False


def test_sliding_layers():
    base = dict(GOOD, num_hidden_layers=6, sliding_window=128)
    types = ["sliding_attention", "full_attention", "sliding_attention", "x", "sliding_attention", "full"]
    assert parse_config(dict(base, layer_types=types), "w").sliding_layers == 3
    # Gemma 3: every 3rd layer global -> 6 - 6 // 3 = 4 sliding
    assert parse_config(dict(base, sliding_window_pattern=3), "w").sliding_layers == 4
    with pytest.raises(ConfigError, match="sliding_window_pattern"):
        parse_config(dict(base, sliding_window_pattern=-2), "w")
    assert parse_config(dict(base, model_type="gemma2"), "w").sliding_layers == 3      # 6 // 2
    assert parse_config(dict(base, model_type="mistral"), "w").sliding_layers == 6
    assert parse_config(dict(base, model_type="mistral", use_sliding_window=False), "w").sliding_layers == 0
    assert parse_config(base, "w").sliding_layers == 0                          # llama: not assumed
    # no window: nothing slides, whatever the other fields say
    no_win = dict(base, sliding_window=None, layer_types=types, sliding_window_pattern=3, model_type="gemma2")
    assert parse_config(no_win, "w").sliding_layers == 0
    assert parse_config(dict(base, model_type="mistral", sliding_window=0), "w").sliding_layers == 0
    # layer_types wins over the pattern; not a list -> falls through to the pattern
    assert parse_config(dict(base, layer_types=types, sliding_window_pattern=3), "w").sliding_layers == 3
    assert parse_config(dict(base, layer_types="all", sliding_window_pattern=3), "w").sliding_layers == 4
    # more sliding entries than layers: capped at the layers
    assert parse_config(dict(base, layer_types=["sliding_attention"] * 9), "w").sliding_layers == 6


def test_meta_block_and_explicit_names():
    meta = {"id": "m-1", "name": "Model One", "source": "https://x", "aliases": ["one", 7, "uno"]}
    c = parse_config(dict(GOOD, _rigcheck=meta), "w")
    assert (c.id, c.name, c.source, c.aliases) == ("m-1", "Model One", "https://x", ("one", "uno"))
    d = parse_config(dict(GOOD, _rigcheck=meta), "w", id="i", name="n", source="s")
    assert (d.id, d.name, d.source) == ("i", "n", "s")
    e = parse_config(dict(GOOD, _rigcheck="not a map"), "w")
    assert (e.id, e.name, e.source, e.aliases) == ("", "w", "w", ())
    assert parse_config(dict(GOOD, _rigcheck={"name": ""}), "w").name == "w"


# ---- multimodal wrapper -----------------------------------------------------------------------

VISION = {"hidden_size": 4, "intermediate_size": 6, "num_hidden_layers": 2, "patch_size": 2, "image_size": 8}


def test_vision_tower_count():
    # per layer: q,k,v,o 4 x (16 + 4) = 80; fc1/fc2 2 x 4 x 6 = 48 + biases 6 + 4; 2 LayerNorms 16
    # -> 154. Tower: 2 x 154 + patch 3 x 2 x 2 x 4 = 48 + bias 4 + (8/2)^2 = 16 positions x 4 = 64
    # + post-LN 8 = 432. Projector 4 x 512 + 4 = 2052. Total 2484.
    raw = {"text_config": GOOD, "vision_config": VISION}
    c = parse_config(raw, "w")
    assert c.vision_params == 2484
    assert parse_config(dict(raw, vision_config=dict(VISION, num_channels=1)), "w").vision_params == 2484 - 32
    text_only = parse_config({"text_config": GOOD, "vision_config": "none"}, "w")
    assert text_only.vision_params == 0 and text_only.hidden_size == 512
    assert parse_config(GOOD, "w").vision_params == 0


def test_vision_without_text_hidden_size_and_error_paths():
    from rigcheck.perfmodel.llm_configs import _vision_params
    # no text hidden size: projector is just the RMSNorm: 432 + 0 + 4
    assert _vision_params(VISION, {}, "v") == 436
    with pytest.raises(ConfigError) as err:
        parse_config({"text_config": dict(GOOD, vocab_size=None), "vision_config": VISION}, "w")
    assert str(err.value) == "w: text_config: field 'vocab_size' is missing"
    with pytest.raises(ConfigError) as err:
        parse_config({"text_config": GOOD, "vision_config": dict(VISION, patch_size=0)}, "w")
    assert str(err.value) == "w: vision_config: field 'patch_size' must be > 0, got 0"


def test_text_config_not_a_map_is_read_as_the_top_level():
    c = parse_config(dict(GOOD, text_config="x"), "w")
    assert c.hidden_size == 512


# ---- files --------------------------------------------------------------------------------------

def _write(tmp_path, raw, name="config.json", sub=""):
    d = tmp_path / sub if sub else tmp_path
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_text(raw if isinstance(raw, str) else json.dumps(raw), encoding="utf-8")
    return p


def test_file_ids(tmp_path):
    assert load_config_file(_write(tmp_path, GOOD, sub="my-model")).id == "my-model"
    assert load_config_file(_write(tmp_path, GOOD, name="other.json")).id == "other"
    assert load_config_file(_write(tmp_path, dict(GOOD, _rigcheck={"id": "x"}), name="o2.json")).id == "o2"


def test_size_limit_boundary(tmp_path):
    body = json.dumps(GOOD)
    at = _write(tmp_path, body + " " * (MAX_CONFIG_BYTES - len(body)), name="at.json")
    assert at.stat().st_size == 4_000_000
    assert load_config_file(at).hidden_size == 512
    past = _write(tmp_path, body + " " * (MAX_CONFIG_BYTES + 1 - len(body)), name="past.json")
    with pytest.raises(ConfigError) as err:
        load_config_file(past)
    assert str(err.value) == (f"{past}: 4 MB is not a config.json (they are a few KB; limit 4 MB)")


def test_unreadable_files(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match=r"nope.json: cannot read"):
        load_config_file(missing)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ConfigError, match="bad.json: cannot read"):
        load_config_file(bad)
    with pytest.raises(ConfigError, match=r"x.json: not valid JSON"):
        load_config_file(_write(tmp_path, "{", name="x.json"))


# ---- names --------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,want", [
    ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
    ("  Llama 3 8B  ", "llama-3-8b"),
    ("Meta_Llama_3_8B", "llama-3-8b"),
    ("llama3", "llama-3"),
    ("qwen2.5-7b-chat", "qwen-2.5-7b"),  # letter-digit split: ids are normalised the same way
    ("gemma-2-9b-it", "gemma-2-9b"),
    ("gemma-3-4b-pt", "gemma-3-4b"),
    ("Llama-2-7b-hf", "llama-2-7b"),
    ("foo-base", "foo"),
    ("a--b__c", "a-b-c"),
    ("-x-", "x"),
    ("hf.co/org/Model_X", "model-x"),   # the last path part of a longer path
    ("italy-7b", "italy-7b"),           # "-it" only as a whole word
    ("metamodel", "metamodel"),         # "meta" only as a prefix word
])
def test_norm(raw, want):
    assert _norm(raw) == want


def test_find_model_exact_alias_repo_and_collapsed():
    assert find_model("mixtral-8x7b").id == "mixtral-8x7b"
    assert find_model(" mixtral-8x7b ").id == "mixtral-8x7b"
    assert find_model("mixtral").id == "mixtral-8x7b"                  # alias
    assert find_model("mistralai/Mixtral-8x7B-v0.1").id == "mixtral-8x7b"   # HF repo from source
    assert find_model("Llama 3.1 8B").id == "llama-3.1-8b"              # name
    assert find_model("tinyllama1.1b").id == "tinyllama-1.1b"           # dashes collapsed


def test_find_model_path_forms(tmp_path):
    folder = _write(tmp_path, GOOD, sub="mine").parent
    assert find_model(str(folder)).id == "mine"
    assert find_model(str(folder / "config.json")).id == "mine"
    with pytest.raises(ConfigError) as err:
        find_model(str(tmp_path / "absent.json"))
    assert str(err.value) == f"--model: {tmp_path / 'absent.json'} does not exist"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="does not exist"):
        find_model(str(empty))
    other = _write(tmp_path, GOOD, name="weights.txt")
    assert find_model(str(other)).id == "weights"                       # an existing file of any name


def test_find_model_unknown_and_ambiguous(monkeypatch):
    with pytest.raises(ConfigError) as err:
        find_model("llama-3.1-9b")
    msg = str(err.value)
    assert msg.startswith("--model 'llama-3.1-9b': no bundled model or config.json file of that name; did you mean: ")
    assert "llama-3.1-8b" in msg and msg.endswith("; see: rigcheck estimate --list-models")
    with pytest.raises(ConfigError) as err:
        find_model("zzzzzzzzzzzzzzzzzz")
    assert str(err.value) == ("--model 'zzzzzzzzzzzzzzzzzz': no bundled model or config.json file of that "
                              "name; see: rigcheck estimate --list-models")
    a = replace(BASE, id="foo-1", name="Foo", aliases=("foo",), source="x")
    b = replace(BASE, id="foo-2", name="Foo Two", aliases=("foo",), source="x")
    e = replace(BASE, id="qq-7b", name="QQ", source="x")
    f = replace(BASE, id="q-q7b", name="Q Q", source="x")      # both collapse to '#qq7b'
    monkeypatch.setattr(llm_configs, "_BUNDLED", {m.id: m for m in (a, b, e, f)})
    monkeypatch.setattr(llm_configs, "_INDEX", None)
    with pytest.raises(ConfigError) as err:
        find_model("Foo")
    assert str(err.value) == "--model 'Foo' is ambiguous: foo-1, foo-2"
    assert find_model("foo-2").id == "foo-2"
    assert find_model("FooTwo").id == "foo-2"           # 'footwo' only as '#footwo' (dashes collapsed)
    with pytest.raises(ConfigError) as err:
        find_model("qq7 b")                             # 'qq-7-b': no key; '#qq7b': two
    assert str(err.value) == "--model 'qq7 b' is ambiguous: qq-7b, q-q7b"


def test_keys_include_the_hf_repo():
    from rigcheck.perfmodel.llm_configs import _keys
    m = replace(BASE, id="x-1", name="X One", aliases=("Ex",),
                source="https://huggingface.co/org/X-One-HF/blob/main/config.json")
    assert _keys(m) == {"x-1", "x-one", "ex"}
    assert _keys(replace(m, source="https://github.com/org/X-Two")) == {"x-1", "x-one", "ex"}
    assert _keys(replace(m, source="https://huggingface.co/org/Zed-9/blob/main/config.json")) == {
        "x-1", "x-one", "ex", "zed-9"}


# ---- defaults of a hand-built config ----------------------------------------------------------

def test_a_bare_config_is_a_dense_rmsnorm_decoder():
    import dataclasses

    defaults = {f.name: f.default for f in dataclasses.fields(ModelConfig)
                if f.default is not dataclasses.MISSING}
    assert defaults == {
        "gated_mlp": True, "mlp_bias": False, "qkv_bias": False, "qk_norm": False,
        "norms_per_layer": 2, "layer_norm": False, "learned_positions": 0, "num_experts": 0,
        "experts_per_token": 0, "moe_intermediate_size": 0, "shared_experts": 0,
        "shared_expert_intermediate_size": 0, "first_dense_layers": 0, "expert_bias": False,
        "router_bias": False, "attention_sinks": False, "q_lora_rank": 0, "kv_lora_rank": 0,
        "qk_rope_head_dim": 0, "qk_nope_head_dim": 0, "v_head_dim": 0, "sliding_window": 0,
        "sliding_layers": 0, "vision_params": 0, "aliases": ()}
    assert BASE.total_params() == 2568 and BASE.kv_elements_per_token(10**6) == 30.0


def test_one_expert_is_moe():
    one = cfg(num_experts=1, experts_per_token=1, moe_intermediate_size=6)
    assert one.is_moe and one.moe_layers == 3


def test_no_shared_experts_means_no_shared_mlp_even_with_biases():
    # a plain (non-gated) MLP with biases of width 0 would still have h = 8 bias parameters
    moe = cfg(gated_mlp=False, mlp_bias=True, num_experts=4, experts_per_token=2, moe_intermediate_size=6)
    assert moe.shared_params() == 0
    assert replace(moe, shared_experts=1).shared_params() == 2 * 8 * 6 + 6 + 8


def test_active_params_with_layernorm():
    # final LayerNorm has weight and bias: 2 x 8; layers 400 + 32 + 384 = 816
    assert cfg(layer_norm=True).active_params() == 80 + 3 * 816 + 16 + 80


def test_one_routed_expert_plus_a_shared_one_has_expert_shapes():
    s = cfg(num_experts=1, experts_per_token=1, moe_intermediate_size=6, shared_experts=1).linear_shapes()
    assert s["up_proj@experts"] == (8, 6, 3)              # 3 MoE layers x 1 expert


def test_kv_elements_with_several_kv_heads_and_a_short_context():
    # 2 x 2 KV heads x 5 = 20 per layer, 3 layers
    assert cfg(num_kv_heads=2).kv_elements_per_token(100) == 60.0
    # a context shorter than the window: every layer holds all of it (no fraction above 1)
    assert cfg(sliding_window=50, sliding_layers=2).kv_elements_per_token(25) == 30.0


def test_explicit_zero_is_accepted_where_zero_means_none():
    dense = parse_config(dict(GOOD, num_experts=0, moe_intermediate_size=0, num_experts_per_tok=0,
                              kv_lora_rank=0, sliding_window=0, n_shared_experts=0,
                              shared_expert_intermediate_size=0), "w")
    assert (dense.num_experts, dense.kv_lora_rank, dense.sliding_window, dense.shared_experts) == (0, 0, 0, 0)
    moe = parse_config(dict(GOOD, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=64,
                            first_k_dense_replace=0, kv_lora_rank=32, q_lora_rank=0, qk_rope_head_dim=16,
                            qk_nope_head_dim=32, v_head_dim=32), "w")
    assert moe.first_dense_layers == 0 and moe.q_lora_rank == 0 and moe.kv_lora_rank == 32


def test_moe_without_top_k_is_rejected():
    with pytest.raises(ConfigError) as err:
        parse_config(dict(GOOD, num_experts=8, moe_intermediate_size=64), "w")
    assert str(err.value) == "w: field 'num_experts_per_tok' must be 1..8, got 0"


def test_default_head_dim_is_a_whole_division():
    c = parse_config(dict(GOOD, hidden_size=100), "w")       # 100 // 8 = 12 (not 12.5)
    assert c.head_dim == 12 and isinstance(c.head_dim, int)


def test_sliding_layer_counts_round_down():
    base = dict(GOOD, num_hidden_layers=7, sliding_window=128)
    # 7 layers, every 3rd global: 7 // 3 = 2 global -> 5 sliding
    assert parse_config(dict(base, sliding_window_pattern=3), "w").sliding_layers == 5
    assert parse_config(dict(base, model_type="gemma2"), "w").sliding_layers == 3     # 7 // 2


def test_vision_patches_are_whole():
    # image 9 with patch 2: 9 // 2 = 4 patches a side, 16 positions, as for image 8
    raw = {"text_config": GOOD, "vision_config": dict(VISION, image_size=9)}
    got = parse_config(raw, "w").vision_params
    assert got == 2484 and isinstance(got, int)


def test_suggestions_are_the_four_nearest():
    with pytest.raises(ConfigError) as err:
        find_model("llama-3.1-9b")
    assert "did you mean: llama-3.1-8b, llama-3.1-70b, llama-3.1-405b, llama-3.2-3b;" in str(err.value)


def test_suggestion_cutoff_is_half_similar(monkeypatch):
    # difflib ratio 2 x matches / total: "abcdefghij" vs "abcdevwxyz" share "abcde":
    # 2 x 5 / 20 = 0.5, just at the cutoff; "abcdvwxyzq" shares 4: 0.4, below it
    near = replace(BASE, id="abcdevwxyz", name="N", source="x")
    far = replace(BASE, id="abcdvwxyzq", name="F", source="x")
    monkeypatch.setattr(llm_configs, "_BUNDLED", {m.id: m for m in (near, far)})
    monkeypatch.setattr(llm_configs, "_INDEX", None)
    with pytest.raises(ConfigError) as err:
        find_model("abcdefghij")
    assert "did you mean: abcdevwxyz;" in str(err.value)


def test_an_exact_id_wins_over_an_ambiguous_alias(monkeypatch):
    exact = replace(BASE, id="foo", name="Foo Exact", source="x")
    other = replace(BASE, id="foo-9", name="Foo Nine", aliases=("foo",), source="x")
    monkeypatch.setattr(llm_configs, "_BUNDLED", {m.id: m for m in (exact, other)})
    monkeypatch.setattr(llm_configs, "_INDEX", None)
    assert find_model("foo").id == "foo"

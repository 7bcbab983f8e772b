"""LoRA adapters on MoE shared experts, counted by hand (issue 10 leftover).

peft matches a target module by the last part of its name, so ``gate_proj`` adapts the dense
MLP, every routed expert (``mlp.experts.N.gate_proj``) and the shared experts' MLP
(``mlp.shared_experts.gate_proj`` in modeling_deepseek_v3, one MLP of width n_shared_experts x
moe_intermediate_size; ``mlp.shared_expert.gate_proj`` in modeling_qwen2_moe, of width
shared_expert_intermediate_size). A LoRA of rank r on an in x out linear has r (in + out)
parameters (A is in x r, B is r x out).

Small configs (Llama attention: hidden 64, 4 heads of 16, 2 KV heads, 2 layers, vocab 1000):
- DS: DeepSeek-style, first layer dense (MLP 256), second MoE: 4 routed experts of width 32,
  2 shared experts -> one shared MLP of width 2 x 32 = 64.
- QW: Qwen2-MoE-style, both layers MoE: 4 routed experts of width 32, one shared expert of
  width 48 (``shared_expert_intermediate_size``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from rigcheck.perfmodel import llm_configs as lc
from rigcheck.perfmodel import llm_memory as lm
from rigcheck.perfmodel.llm_configs import ModelConfig
from rigcheck.perfmodel.llm_memory import LlmRun

MLP = ("gate_proj", "up_proj", "down_proj")
BASE = ModelConfig(id="t", name="T", source="test", model_type="llama", hidden_size=64,
                   intermediate_size=256, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16,
                   vocab_size=1000, tied_embeddings=False, max_positions=4096)
DS = replace(BASE, id="ds", num_experts=4, experts_per_token=2, moe_intermediate_size=32,
             shared_experts=2, first_dense_layers=1)
QW = replace(BASE, id="qw", num_experts=4, experts_per_token=2, moe_intermediate_size=32,
             shared_experts=1, shared_expert_intermediate_size=48)


def test_shared_width_by_layout():
    assert DS.shared_width() == 64           # 2 shared x 32 (DeepSeek)
    assert QW.shared_width() == 48           # its own width (Qwen2-MoE)
    assert replace(DS, shared_experts=1).shared_width() == 32
    assert replace(DS, shared_experts=0).shared_width() == 0
    assert BASE.shared_width() == 0


def test_deepseek_style_mlp_adapters_include_the_shared_mlp():
    # r = 8. Dense layer: 3 x 8 (64 + 256) = 7,680. MoE layer: 4 experts x 3 x 8 (64 + 32)
    # = 9,216, and the shared MLP 3 x 8 (64 + 64) = 3,072. Total 19,968.
    assert lm.lora_params(DS, 8, MLP) == 7_680 + 9_216 + 3_072 == 19_968
    # without shared experts the same layout has 16,896
    assert lm.lora_params(replace(DS, shared_experts=0), 8, MLP) == 16_896
    # one projection alone: down_proj 8 (256 + 64) + 4 x 8 (32 + 64) + 8 (64 + 64) = 6,656
    assert lm.lora_params(DS, 8, ("down_proj",)) == 2_560 + 3_072 + 1_024 == 6_656


def test_qwen2_moe_style_mlp_adapters_include_the_shared_expert():
    # r = 8, both layers MoE. Experts 2 x 4 x 3 x 8 (64 + 32) = 18,432; shared expert
    # 2 x 3 x 8 (64 + 48) = 5,376. Total 23,808.
    assert lm.lora_params(QW, 8, MLP) == 18_432 + 5_376 == 23_808
    # the attention targets are not touched by shared experts: 2 layers x (q 8 (64 + 64)
    # + k, v 8 (64 + 32) each + o 8 (64 + 64)) = 2 x 3,584 = 7,168
    assert lm.lora_params(QW, 8, ("q_proj", "k_proj", "v_proj", "o_proj")) == 7_168
    assert lm.lora_params(QW, 8, lm.DEFAULT_LORA_TARGETS) == 7_168 + 23_808 == 30_976
    # rank is linear: r = 16 doubles it
    assert lm.lora_params(QW, 16, MLP) == 47_616


def test_trainable_params_of_a_lora_run_count_the_shared_experts():
    m = lm.train_memory(QW, LlmRun(method="lora", lora_rank=8, seq_len=64))
    assert m.trainable_params == 30_976
    assert m.lora_gb == pytest.approx((4 + 4 + 8) * 30_976 / 1e9)


def test_parsed_qwen2_moe_config_gets_its_shared_expert_adapters():
    raw = {"model_type": "qwen2_moe", "hidden_size": 64, "intermediate_size": 256,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "vocab_size": 1000, "num_experts": 4, "num_experts_per_tok": 2,
           "moe_intermediate_size": 32, "shared_expert_intermediate_size": 48}
    cfg = lc.parse_config(raw, "qw.json")
    assert (cfg.shared_experts, cfg.shared_width()) == (1, 48)
    assert lm.lora_params(cfg, 8, MLP) == 23_808


def test_shared_experts_activations_use_the_shared_width():
    # QW per token and layer (elements): attention 4h 256 + q 64 + k, v 2 x 32 + out 64 = 448;
    # MLP 4 x top-2 x 32 = 256 + router logits 4 + shared 4 x 48 = 192 -> 452. At 2 bytes: 1,800.
    assert lm.act_bytes_per_token_layer(QW, 64, 2.0, True) == (448 + 452) * 2 == 1_800


@pytest.mark.parametrize(("model", "delta"), [
    # DeepSeek-V3: 61 - 3 dense = 58 MoE layers, shared MLP 1 x 2048 wide on hidden 7168:
    # 58 x 3 x 16 (7168 + 2048) = 58 x 442,368 = 25,657,344
    ("deepseek-v3", 25_657_344),
    # DeepSeek-V2-Lite: 27 - 1 = 26 MoE layers, shared MLP 2 x 1408 = 2816 wide on hidden 2048:
    # 26 x 3 x 16 (2048 + 2816) = 26 x 233,472 = 6,070,272
    ("deepseek-v2-lite", 6_070_272),
])
def test_bundled_deepseek_shared_adapters(model, delta):
    cfg = lc.find_model(model)
    without = replace(cfg, shared_experts=0)
    assert lm.lora_params(cfg, 16, MLP) - lm.lora_params(without, 16, MLP) == delta


def test_shared_width_and_params_need_shared_experts():
    # a width given but no shared expert counted: nothing (parse_config sets shared = 1 itself)
    assert replace(QW, shared_experts=0).shared_width() == 0
    assert replace(QW, shared_experts=0).shared_params() == 0
    assert DS.shared_params() == 3 * 64 * 64 == 12_288        # gate, up, down of 64 x 64
    assert QW.shared_params() == 3 * 64 * 48 == 9_216


def test_mla_lora_targets_by_hand():
    # MLA (no q compression): kv latent 32 + rope 8, q/k nope 16, v 24, 4 heads, hidden 64.
    # q_proj 64 -> 4 x (16 + 8) = 96; k_proj (kv_a) 64 -> 32 + 8 = 40;
    # v_proj (kv_b) 32 -> 4 x (16 + 24) = 160; o_proj 4 x 24 = 96 -> 64. r = 8, 2 layers.
    mla = replace(BASE, kv_lora_rank=32, qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=24)
    assert lm.lora_params(mla, 8, ("q_proj",)) == 2 * 8 * (64 + 96) == 2_560
    assert lm.lora_params(mla, 8, ("k_proj",)) == 2 * 8 * (64 + 40) == 1_664
    assert lm.lora_params(mla, 8, ("v_proj",)) == 2 * 8 * (32 + 160) == 3_072
    assert lm.lora_params(mla, 8, ("o_proj",)) == 2 * 8 * (96 + 64) == 2_560


def test_non_gated_mlp_has_no_gate_proj():
    # GPT-2 / MPT layout: fc (up) and proj (down) only, 64 -> 256 -> 64
    plain = replace(BASE, gated_mlp=False, num_experts=4, experts_per_token=2,
                    moe_intermediate_size=32)
    names = {k.split("@")[0] for k in plain.linear_shapes()}
    assert "gate_proj" not in names and {"up_proj", "down_proj"} <= names
    assert lm.lora_params(plain, 8, ("gate_proj",)) == 0
    # both layers MoE: 2 x 4 experts x 2 x 8 (64 + 32) = 12,288
    assert lm.lora_params(plain, 8, ("up_proj", "down_proj")) == 12_288

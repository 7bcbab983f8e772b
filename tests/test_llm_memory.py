"""LLM memory terms by value, against arithmetic written out here, and fit boundaries."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rigcheck.perfmodel import memory as mem
from rigcheck.perfmodel.llm_configs import find_model
from rigcheck.perfmodel.llm_memory import LlmRun, LlmRunError, llm_memory, lora_params

L8 = "llama-3.1-8b"   # hidden 4096, MLP 14336, 32 layers, 32 heads, 8 KV heads, vocab 128256
TOTAL = 8_030_261_248
EMBED = 128256 * 4096


def cfg():
    return find_model(L8)


def test_lora_params_r16_all_linear():
    # per layer r x (in + out): q 16(4096+4096), k,v 16(4096+1024), o like q, gate/up/down 16(4096+14336)
    per_layer = 16 * (8192 * 2 + 5120 * 2 + 18432 * 3)
    assert lora_params(cfg(), 16, ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                   "down_proj")) == 32 * per_layer == 41_943_040  # peft prints this
    assert lora_params(cfg(), 8, ("q_proj", "v_proj")) == 32 * 8 * (8192 + 5120)


def test_kv_cache_gqa_by_hand():
    m = llm_memory(cfg(), LlmRun(method="infer", weights="bf16", seq_len=8192))
    # 2 (K and V) x 32 layers x 8 heads x 128 dims x 2 bytes x 8192 tokens
    assert m.kv_cache_gb == pytest.approx(2 * 32 * 8 * 128 * 2 * 8192 / 1e9)
    m4 = llm_memory(cfg(), LlmRun(method="infer", weights="bf16", seq_len=8192, micro_batch=4))
    assert m4.kv_cache_gb == pytest.approx(4 * m.kv_cache_gb)


def test_kv_cache_mla_by_hand():
    ds = find_model("deepseek-v3")
    m = llm_memory(ds, LlmRun(method="infer", weights="fp8", seq_len=4096))
    # 61 layers x (512 latent + 64 rope) x 2 bytes x 4096 tokens
    assert m.kv_cache_gb == pytest.approx(61 * 576 * 2 * 4096 / 1e9)


def test_sliding_window_caps_kv():
    g = find_model("gemma-2-9b")   # 42 layers, half local with a 4096 window, 8 KV heads x 256
    m = llm_memory(g, LlmRun(method="infer", weights="bf16", seq_len=8192))
    per_layer_token = 2 * 8 * 256 * 2
    expected = 21 * per_layer_token * 8192 + 21 * per_layer_token * 4096
    assert m.kv_cache_gb == pytest.approx(expected / 1e9)


def test_weights_bf16_and_gguf():
    m = llm_memory(cfg(), LlmRun(method="infer", weights="bf16"))
    assert m.weights_gb == pytest.approx(2 * TOTAL / 1e9)
    q8 = llm_memory(cfg(), LlmRun(method="infer", weights="q8_0"))
    assert q8.weights_gb == pytest.approx(TOTAL * 34 / 32 / 1e9)   # 34-byte blocks of 32 weights


def test_qlora_weights_nf4_linear_bf16_rest():
    m = llm_memory(cfg(), LlmRun(method="qlora"))
    linear = TOTAL - 2 * EMBED - 4096            # decoder (norms included, negligible)
    nf4_bytes = (4 + 8 / 64 + 32 / (64 * 256)) / 8
    assert m.weights_gb == pytest.approx((linear * nf4_bytes + (2 * EMBED + 4096) * 2) / 1e9)
    assert m.lora_gb == pytest.approx(41_943_040 * (4 + 4 + 8) / 1e9)   # fp32 w + grad + AdamW
    assert m.grads_gb == 0 and m.optimizer_gb == 0


def test_full_ddp_18_bytes_per_param():
    m = llm_memory(cfg(), LlmRun(method="full", optimizer="adamw", grad_checkpointing=True))
    assert m.weights_gb + m.grads_gb + m.optimizer_gb == pytest.approx(18 * TOTAL / 1e9)
    m8 = llm_memory(cfg(), LlmRun(method="full", optimizer="adamw-8bit", grad_checkpointing=True))
    assert m8.optimizer_gb == pytest.approx(2 * TOTAL / 1e9)


@pytest.mark.parametrize("strategy,per_gpu_bytes", [
    ("zero1", 2 + 2 + 12 / 8), ("zero2", 2 + (2 + 12) / 8), ("zero3", 16 / 8), ("fsdp", 16 / 8)])
def test_zero_stages_shard(strategy, per_gpu_bytes):
    m = llm_memory(cfg(), LlmRun(method="full", n_gpus=8, parallel=strategy, grad_checkpointing=True))
    assert m.weights_gb + m.grads_gb + m.optimizer_gb == pytest.approx(per_gpu_bytes * TOTAL / 1e9)


def test_cpu_offload_removes_optimizer():
    m = llm_memory(cfg(), LlmRun(method="full", cpu_offload=True, grad_checkpointing=True))
    assert m.optimizer_gb == 0 and m.weights_gb == pytest.approx(2 * TOTAL / 1e9)


def test_activations_by_hand():
    run = LlmRun(method="full", seq_len=2048, micro_batch=1, grad_checkpointing=False)
    m = llm_memory(cfg(), run)
    # per token per layer: norms in/out 4h, q h, k+v 2 x 1024, attn out h, MLP 4 x 14336; bf16
    per = (6 * 4096 + 2 * 1024 + 4 * 14336) * 2
    assert m.activations_gb == pytest.approx(32 * 2048 * per / 1e9)
    ck = llm_memory(cfg(), replace(run, grad_checkpointing=True))
    assert ck.activations_gb == pytest.approx(2048 * (32 * 4096 * 2 + per) / 1e9)
    eager = llm_memory(cfg(), replace(run, fused_attention=False))
    assert eager.activations_gb - m.activations_gb == pytest.approx(32 * 2048 * 6 * 32 * 2048 / 1e9)


def test_logits_workspace():
    m = llm_memory(cfg(), LlmRun(method="full", seq_len=1024, micro_batch=2, grad_checkpointing=True))
    assert m.workspace_gb == pytest.approx(2 * 1024 * 128256 * 8 / 1e9)


def test_context_allowance_is_the_one_of_memory_py():
    m = llm_memory(cfg(), LlmRun(method="infer"))
    assert m.context_gb == mem.CONTEXT_GB


def test_fit_boundary_just_inside_and_past():
    m = llm_memory(cfg(), LlmRun(method="qlora"))
    vram = m.total_gb / mem.USABLE_FRACTION
    assert m.fits(vram * 1.0001)
    assert not m.fits(vram * 0.9999)


def test_tp_splits_weights_and_kv():
    one = llm_memory(cfg(), LlmRun(method="infer", seq_len=8192))
    two = llm_memory(cfg(), LlmRun(method="infer", seq_len=8192, n_gpus=2))
    assert two.weights_gb == pytest.approx(one.weights_gb / 2)
    assert two.kv_cache_gb == pytest.approx(one.kv_cache_gb / 2)
    # 16 ranks but only 8 KV heads: KV replicates past 8
    sixteen = llm_memory(cfg(), LlmRun(method="infer", seq_len=8192, n_gpus=16))
    assert sixteen.kv_cache_gb == pytest.approx(one.kv_cache_gb / 8)


@pytest.mark.parametrize("run,msg", [
    (LlmRun(method="full", weights="nf4"), "cannot be trained"),
    (LlmRun(method="qlora", weights="bf16"), "4/8-bit"),
    (LlmRun(method="lora", optimizer="lion"), "optimizer"),
    (LlmRun(method="full", parallel="tp"), "inference only"),
    (LlmRun(method="lora", lora_targets=("qkv",)), "lora-targets"),
    (LlmRun(method="lora", seq_len=0), "seq_len"),
    (LlmRun(method="tune"), "method"),
])
def test_impossible_runs_rejected(run, msg):
    with pytest.raises(LlmRunError, match=msg):
        llm_memory(cfg(), run)

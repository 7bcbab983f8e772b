"""perfmodel.llm_memory term by term on tiny hand-made configs, every figure worked out here.

Sources the module cites: bytes per parameter for PyTorch AMP (4 master + 2 copy + 4 grads +
8 AdamW) and ZeRO stages 1-3 (Rajbhandari et al. 2020, sec. 5: optimizer state, then
gradients, then parameters partitioned over the N data-parallel ranks), bitsandbytes NF4 with
double quantisation (QLoRA paper sec. 3: 4 + 8/64 + 32/(64 x 256) bits), llama.cpp block sizes
(Q8_0 34 B / 32, Q4_0 18 B / 32, Q6_K 210 B / 256), GQA KV cache 2 x layers x KV heads x
head_dim per token, MLA latent kv_lora_rank + rope dim per layer, peft LoRA r x (in + out).

TINY (Llama layout): hidden 64, MLP 256, 2 layers, 4 heads of 16, 2 KV heads, vocab 1000,
untied. Per layer: q 64x64 + k 64x32 + v 64x32 + o 64x64 = 12,288; norms 128; MLP 3 x 64 x 256
= 49,152; so 61,568 a layer, 123,136 the decoder; + embeddings 64,000 + head 64,000 + final
norm 64 = 251,200 parameters.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from rigcheck.perfmodel import llm_memory as lm
from rigcheck.perfmodel.llm_configs import ModelConfig
from rigcheck.perfmodel.llm_memory import LlmMemory, LlmRun, LlmRunError

GB = 1e9
TINY = ModelConfig(id="tiny", name="Tiny", source="test", model_type="llama", hidden_size=64,
                   intermediate_size=256, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16,
                   vocab_size=1000, tied_embeddings=False, max_positions=1 << 20)
P = 251_200
DECODER = 123_136
# MoE: 4 experts of width 32 (top 2) + 1 shared expert in both layers. Expert 3 x 64 x 32 =
# 6,144; layer 12,288 + 128 + 4 x 6,144 + router 256 + shared 6,144 = 43,392.
MOE = replace(TINY, id="moe", num_experts=4, experts_per_token=2, moe_intermediate_size=32,
              shared_experts=1)
MOE_P = 64_000 + 2 * 43_392 + 64 + 64_000
# MLA: kv latent 32 + rope 8, q/k nope 16, v 24 (no q compression)
MLA = replace(TINY, id="mla", kv_lora_rank=32, qk_rope_head_dim=8, qk_nope_head_dim=16,
              v_head_dim=24)


def train(cfg=TINY, **kw) -> LlmMemory:
    return lm.train_memory(cfg, LlmRun(**kw))


def infer(cfg=TINY, **kw) -> LlmMemory:
    return lm.infer_memory(cfg, LlmRun(method="infer", **kw))


def test_tiny_parameter_count_is_the_hand_count():
    assert (TINY.total_params(), TINY.decoder_params()) == (P, DECODER)
    assert MOE.total_params() == MOE_P


# ---- formats ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "fmt"), [
    ("bf16", "bf16"), ("BF16", "bf16"), (" bfloat16 ", "bf16"), ("float16", "fp16"),
    ("float32", "fp32"), ("GPTQ", "gptq-4bit"), ("gptq-4bit", "gptq-4bit"), ("gptq_4bit", "gptq-4bit"),
    ("awq-4bit", "awq-4bit"), ("awq", "awq-4bit"), ("int4", "gptq-4bit"), ("4bit", "nf4"),
    ("8bit", "int8"), ("q4-k-m", "q4_k_m"), ("Q4_K_M", "q4_k_m"), ("q4", "q4_k_m"),
    ("q5", "q5_k_m"), ("q6", "q6_k"), ("q8", "q8_0"), ("mxfp4", "mxfp4"),
])
def test_normalize_weights(text, fmt):
    assert lm.normalize_weights(text) == fmt


@pytest.mark.parametrize("text", ["", "fp4", "q3_k", "int2"])
def test_normalize_weights_rejects(text):
    with pytest.raises(LlmRunError, match="use one of fp32, bf16"):
        lm.normalize_weights(text)


@pytest.mark.parametrize(("fmt", "bits"), [
    ("fp32", 32.0), ("bf16", 16.0), ("fp16", 16.0), ("q8_0", 34 * 8 / 32), ("q4_0", 18 * 8 / 32),
    ("q6_k", 210 * 8 / 256), ("q5_k_m", 5.68), ("q4_k_m", 4.84),
])
def test_whole_model_formats_store_every_tensor(fmt, bits):
    assert lm.weight_bytes(TINY, fmt) == pytest.approx(P * bits / 8)


@pytest.mark.parametrize(("fmt", "bits"), [
    ("nf4", 4 + 8 / 64 + 32 / (64 * 256)), ("int8", 8 + 32 / 4096), ("fp8", 8 + 32 / 4096),
    ("gptq-4bit", 4 + 20 / 128), ("awq-4bit", 4 + 20 / 128),
])
def test_linear_only_formats_keep_embeddings_and_head_16_bit(fmt, bits):
    assert lm.weight_bytes(TINY, fmt) == pytest.approx(DECODER * bits / 8 + (P - DECODER) * 2)


def test_mxfp4_quantises_only_the_experts():
    experts = 2 * 4 * 6_144
    assert lm.weight_bytes(MOE, "mxfp4") == pytest.approx(experts * 4.25 / 8 + (MOE_P - experts) * 2)


def test_llama_cpp_mxfp4_moe_stores_the_rest_in_q8_0():
    """llama.cpp's MXFP4_MOE GGUF: routed experts at 4.25 bits, every other tensor (the shared
    expert, attention, embeddings, head) at Q8_0's 8.5 bits."""
    experts = 2 * 4 * 6_144
    assert lm.weight_bytes(MOE, "mxfp4_moe") == pytest.approx(
        experts * 4.25 / 8 + (MOE_P - experts) * 8.5 / 8)
    # a dense model has no experts: all Q8_0
    assert lm.weight_bytes(TINY, "mxfp4_moe") == pytest.approx(P * 8.5 / 8)
    assert lm.normalize_weights("MXFP4-MoE") == "mxfp4_moe"


@pytest.mark.parametrize("method", ["full", "pretrain", "qlora"])
def test_a_gguf_mxfp4_moe_base_is_not_trained(method):
    with pytest.raises(lm.LlmRunError):
        lm.validate(lm.LlmRun(method=method, weights="mxfp4_moe", seq_len=256), MOE)


# ---- the run record -------------------------------------------------------------------------

def test_run_defaults():
    assert LlmRun().checkpointing is True                          # lora
    assert LlmRun(method="qlora").checkpointing is True
    assert LlmRun(method="full").checkpointing is False
    assert LlmRun(method="pretrain").checkpointing is False
    assert LlmRun(method="lora", grad_checkpointing=False).checkpointing is False
    assert LlmRun(method="full", grad_checkpointing=True).checkpointing is True
    assert LlmRun(method="qlora").weight_format == "nf4"
    assert LlmRun(method="lora").weight_format == "bf16"
    assert LlmRun(method="qlora", weights="int8").weight_format == "int8"
    assert LlmRun().strategy == "ddp" and LlmRun(method="infer").strategy == "tp"
    assert LlmRun(parallel="zero2").strategy == "zero2"
    assert LlmRun().training and not LlmRun(method="infer").training


@pytest.mark.parametrize(("run", "msg"), [
    (LlmRun(method="dpo"), "--method 'dpo'"),
    (LlmRun(method="full", weights="nf4"), "cannot be trained in full"),
    (LlmRun(method="pretrain", weights="q4_k_m"), "cannot be trained in full"),
    (LlmRun(method="qlora", weights="bf16"), "needs a 4/8-bit base"),
    (LlmRun(method="qlora", weights="q4_k_m"), "needs a 4/8-bit base"),
    (LlmRun(optimizer="lion"), "--optimizer 'lion'"),
    (LlmRun(parallel="pp"), "--parallel 'pp'"),
    (LlmRun(parallel="tp"), "inference only"),
    (LlmRun(method="infer", parallel="zero3"), "is a training strategy"),
    (LlmRun(seq_len=0), "seq_len must be at least 1"),
    (LlmRun(micro_batch=0), "micro_batch"), (LlmRun(grad_accum=0), "grad_accum"),
    (LlmRun(n_gpus=0), "n_gpus"), (LlmRun(lora_rank=0), "lora_rank"),
    (LlmRun(seq_len=(1 << 22) + 1), "beyond any model"),
    (LlmRun(method="infer", context=(1 << 22) + 1), "beyond any model"),
    (LlmRun(n_gpus=(1 << 16) + 1), "more GPUs than any cluster"),
    (LlmRun(lora_targets=("q_proj", "fc1")), "--lora-targets fc1: tiny has down_proj"),
    (LlmRun(method="qlora", lora_targets=("wq",)), "--lora-targets wq"),
])
def test_validate_rejects(run, msg):
    with pytest.raises(LlmRunError, match=msg.replace("(", r"\(")):
        lm.validate(run, TINY)


@pytest.mark.parametrize(("run", "past", "msg"), [
    # each accepted run beside the one step past it that is refused
    (LlmRun(seq_len=1), LlmRun(seq_len=0), "seq_len must be at least 1"),
    (LlmRun(seq_len=1 << 22), LlmRun(seq_len=(1 << 22) + 1), "sequence length 4,194,305 is beyond"),
    (LlmRun(n_gpus=1 << 16, parallel="zero3"), LlmRun(n_gpus=(1 << 16) + 1, parallel="zero3"),
     "--gpus 65537: more GPUs"),
    (LlmRun(method="infer", parallel="ddp"), LlmRun(method="infer", parallel="zero1"),
     "--parallel zero1 is a training strategy"),
    (LlmRun(method="infer", context=1 << 22), LlmRun(method="infer", context=(1 << 22) + 1),
     "sequence length 4,194,305 is beyond"),
    (LlmRun(method="qlora", weights="int8"), LlmRun(method="qlora", weights="fp8"),
     "needs a 4/8-bit base .* not fp8"),
    (LlmRun(method="qlora", weights="gptq"), LlmRun(method="qlora", weights="q4_0"),
     "needs a 4/8-bit base .* not q4_0"),
    (LlmRun(method="qlora", weights="awq"), LlmRun(method="qlora", weights="fp16"),
     "needs a 4/8-bit base .* not fp16"),
    (LlmRun(method="full", weights="fp32"), LlmRun(method="full", weights="int8"),
     "--weights int8 cannot be trained in full"),
    (LlmRun(method="full", weights="fp16", parallel="fsdp"),
     LlmRun(method="full", weights="fp16", parallel="tp"), "modelled for inference only"),
    # targets matter for LoRA only: the same unknown target refused for LoRA
    (LlmRun(method="full", lora_targets=("fc1",)), LlmRun(method="lora", lora_targets=("fc1",)),
     "--lora-targets fc1: tiny has "),
])
def test_validate_accepts(run, past, msg):
    assert lm.validate(run, TINY) is None
    with pytest.raises(LlmRunError, match=msg):
        lm.validate(past, TINY)
    # an accepted run is one the memory model can size: at least its 251,200 weights at 4 bits
    assert lm.llm_memory(TINY, run).total_gb > 251_200 * 4 / 8 / GB


# ---- LoRA ---------------------------------------------------------------------------------

def test_lora_params_by_hand():
    # r = 8: q 8(64+64), k and v 8(64+32), o 8(64+64), gate/up/down 8(64+256), two layers
    per_layer = 1024 + 768 + 768 + 1024 + 3 * 2560
    assert lm.lora_params(TINY, 8, lm.DEFAULT_LORA_TARGETS) == 2 * per_layer == 22_528
    assert lm.lora_params(TINY, 8, ("q_proj", "v_proj")) == 2 * (1024 + 768)
    # MoE (no shared expert): each of the 4 experts in each layer has its own adapters,
    # 2 layers x 4 experts x 3 x 8 (64 + 32)
    routed_only = replace(MOE, shared_experts=0)
    assert lm.lora_params(routed_only, 8, ("gate_proj", "up_proj", "down_proj")) == 18_432


def test_lora_run_terms():
    m = train(method="lora", lora_rank=8, seq_len=128)
    assert m.weights_gb == pytest.approx(2 * P / GB)               # frozen bf16 base
    assert m.trainable_params == 22_528
    assert m.lora_gb == pytest.approx((4 + 4 + 8) * 22_528 / GB)   # fp32 weights, grads, AdamW
    assert (m.grads_gb, m.optimizer_gb, m.kv_cache_gb) == (0.0, 0.0, 0.0)
    m8 = train(method="lora", lora_rank=8, seq_len=128, optimizer="adamw-8bit")
    assert m8.lora_gb == pytest.approx((4 + 4 + 2) * 22_528 / GB)
    sgd = train(method="lora", lora_rank=8, seq_len=128, optimizer="sgd")
    assert sgd.lora_gb == pytest.approx(8 * 22_528 / GB)
    paged = train(method="lora", lora_rank=8, seq_len=128, optimizer="paged-adamw")
    assert paged.lora_gb == pytest.approx(16 * 22_528 / GB)
    p8 = train(method="lora", lora_rank=8, seq_len=128, optimizer="paged-adamw-8bit")
    assert p8.lora_gb == pytest.approx(10 * 22_528 / GB)


def test_qlora_base_nf4_linear_fp32_rest():
    m = train(method="qlora", lora_rank=8, seq_len=128)
    nf4 = 4 + 8 / 64 + 32 / (64 * 256)
    assert m.weights_gb == pytest.approx((DECODER * nf4 / 8 + (P - DECODER) * 4) / GB)
    assert m.lora_gb == pytest.approx(16 * 22_528 / GB)


def test_lora_on_a_gguf_base_stores_every_tensor_quantised():
    m = train(method="lora", weights="q4_k_m", lora_rank=8, seq_len=128)
    assert m.weights_gb == pytest.approx(P * 4.84 / 8 / GB)


# ---- full fine-tuning and ZeRO --------------------------------------------------------------

def test_full_ddp_amp_bytes_per_parameter():
    m = train(method="full", seq_len=128)
    assert (m.weights_gb, m.grads_gb, m.optimizer_gb) == pytest.approx(
        (6 * P / GB, 4 * P / GB, 8 * P / GB))
    assert m.trainable_params == P
    assert m.lora_gb == 0.0
    sgd = train(method="pretrain", seq_len=128, optimizer="sgd")
    assert sgd.optimizer_gb == 0.0


@pytest.mark.parametrize(("strategy", "w", "g", "o"), [
    # mixed precision under ZeRO: 2 P 16-bit weights, 2 P 16-bit grads, (4 + 8) P master+Adam
    ("zero1", 2.0, 2.0, 12.0 / 4), ("zero2", 2.0, 2.0 / 4, 12.0 / 4),
    ("zero3", 2.0 / 4, 2.0 / 4, 12.0 / 4), ("fsdp", 2.0 / 4, 2.0 / 4, 12.0 / 4),
])
def test_zero_stages_partition_by_stage(strategy, w, g, o):
    m = train(method="full", seq_len=128, n_gpus=4, parallel=strategy)
    assert (m.weights_gb, m.grads_gb, m.optimizer_gb) == pytest.approx(
        (w * P / GB, g * P / GB, o * P / GB))


def test_ddp_replicates_on_every_gpu():
    one = train(method="full", seq_len=128)
    four = train(method="full", seq_len=128, n_gpus=4)
    assert (four.weights_gb, four.grads_gb, four.optimizer_gb) == (
        one.weights_gb, one.grads_gb, one.optimizer_gb)


@pytest.mark.parametrize(("strategy", "w", "g", "o"), [
    ("ddp", 4.0, 4.0, 8.0), ("zero1", 4.0, 4.0, 2.0), ("zero2", 4.0, 1.0, 2.0),
    ("zero3", 1.0, 1.0, 2.0),
])
def test_fp32_full_training_shards_the_fp32_copies(strategy, w, g, o):
    m = train(method="full", weights="fp32", seq_len=128, n_gpus=4, parallel=strategy)
    assert (m.weights_gb, m.grads_gb, m.optimizer_gb) == pytest.approx(
        (w * P / GB, g * P / GB, o * P / GB))


def test_cpu_offload_moves_master_and_state_to_host():
    m = train(method="full", seq_len=128, cpu_offload=True)
    assert m.optimizer_gb == 0.0
    assert m.weights_gb == pytest.approx(2 * P / GB)               # only the 16-bit copy stays
    assert m.grads_gb == pytest.approx(4 * P / GB)
    assert m.notes == ("CPU offload: optimizer state and fp32 master weights live in host RAM "
                       "(0 GB of it)",)
    z3 = train(method="full", seq_len=128, n_gpus=4, parallel="zero3", cpu_offload=True)
    assert z3.weights_gb == pytest.approx(2 * P / 4 / GB)
    f32 = train(method="full", weights="fp32", seq_len=128, cpu_offload=True)
    assert f32.weights_gb == pytest.approx(4 * P / GB)


def test_cpu_offload_note_counts_host_gigabytes():
    big = replace(TINY, hidden_size=4096, num_heads=32, num_kv_heads=8, head_dim=128,
                  intermediate_size=14336, num_layers=32, vocab_size=128256)
    p = big.total_params()
    m = lm.train_memory(big, LlmRun(method="full", seq_len=16, cpu_offload=True))
    assert m.notes[0].endswith(f"({12 * p / GB:,.0f} GB of it)")
    assert m.notes[0].endswith("(96 GB of it)")                    # 8.03 B x 12 bytes


# ---- activations ---------------------------------------------------------------------------
# Per token and layer (elements): norms 4h = 256, q h = 64, k + v 2 x 2 x 16 = 64, attention
# out h = 64 -> 448; gated MLP 4 x 256 = 1,024. In bf16: 1,472 x 2 = 2,944 bytes.

def test_activation_bytes_per_token_layer():
    assert lm.act_bytes_per_token_layer(TINY, 128, 2.0, True) == 2_944
    assert lm.act_bytes_per_token_layer(TINY, 128, 4.0, True) == 5_888
    # eager attention adds 6 bytes x 4 heads x 128 keys
    assert lm.act_bytes_per_token_layer(TINY, 128, 2.0, False) == 2_944 + 6 * 4 * 128
    assert lm.act_bytes_per_token_layer(replace(TINY, gated_mlp=False), 128, 2.0, True) == (
        (448 + 2 * 256) * 2)


def test_activation_bytes_moe_and_mla():
    # every layer MoE: top-2 x 32 wide -> 4 x 64, router logits 4, shared 4 x 32 -> 388
    assert lm.act_bytes_per_token_layer(MOE, 128, 2.0, True) == (448 + 388) * 2
    # a dense first layer (DeepSeek first_k_dense_replace): the wider of 256 and 2 x 32
    mixed = replace(MOE, first_dense_layers=1)
    assert lm.act_bytes_per_token_layer(mixed, 128, 2.0, True) == (448 + 4 * 256) * 2
    wide = replace(mixed, experts_per_token=16)                     # 16 x 32 = 512 > 256
    assert lm.act_bytes_per_token_layer(wide, 128, 2.0, True) == (448 + 4 * 512) * 2
    # MLA: 4h 256 + q 4 x (16 + 8) 96 + kv 2 x (32 + 8) 80 + attention out 4 x 24 96 = 528
    assert lm.act_bytes_per_token_layer(MLA, 128, 2.0, True) == (528 + 1024) * 2
    # two shared experts: 4 x 32 x 2 = 256 -> 4 x 64 + 4 + 256
    two_shared = replace(MOE, shared_experts=2)
    assert lm.act_bytes_per_token_layer(two_shared, 128, 2.0, True) == (448 + 516) * 2


def test_training_activations_with_and_without_checkpointing():
    tokens = 2 * 128
    full = train(method="full", seq_len=128, micro_batch=2)
    assert full.activations_gb == pytest.approx(tokens * 2 * 2_944 / GB)
    ckpt = train(method="full", seq_len=128, micro_batch=2, grad_checkpointing=True)
    # every layer's input (h x 2 bytes) plus one layer's full set during recomputation
    assert ckpt.activations_gb == pytest.approx(tokens * (2 * 64 * 2 + 2_944) / GB)
    f32 = train(method="full", weights="fp32", seq_len=128, micro_batch=2)
    assert f32.activations_gb == pytest.approx(tokens * 2 * 5_888 / GB)
    eager = train(method="full", seq_len=128, micro_batch=2, fused_attention=False)
    assert eager.activations_gb == pytest.approx(tokens * 2 * (2_944 + 6 * 4 * 128) / GB)


def test_training_workspace_logits_and_dequantisation():
    m = train(method="lora", seq_len=128, micro_batch=2)
    assert m.workspace_gb == pytest.approx(256 * 1000 * 16 / GB)   # 16 bytes x vocab a token
    q = train(method="qlora", seq_len=128, micro_batch=2)
    # + the largest linear (64 x 256) dequantised to 16-bit
    assert q.workspace_gb == pytest.approx((256 * 1000 * 16 + 2 * 64 * 256) / GB)
    g = train(method="lora", weights="q4_0", seq_len=128, micro_batch=2)
    assert g.workspace_gb == pytest.approx((256 * 1000 * 16 + 2 * 64 * 256) / GB)
    assert train(method="qlora", seq_len=128).context_gb == 1.0


# ---- inference -----------------------------------------------------------------------------

def test_infer_single_gpu_by_hand():
    m = infer(seq_len=2048, micro_batch=3)
    assert m.weights_gb == pytest.approx(2 * P / GB)
    # 2 x 2 layers x 2 KV heads x 16 x 2 bytes = 256 bytes a token, 2,048 tokens x 3 streams
    assert m.kv_cache_gb == pytest.approx(256 * 2048 * 3 / GB)
    # prefill chunk 512 x 3: MLP 2 x 256 + 4 x 64 wide at 2 bytes, + fp32 logits
    chunk = 512 * 3
    assert m.workspace_gb == pytest.approx((chunk * (2 * 256 + 4 * 64) * 2 + chunk * 1000 * 4) / GB)
    assert (m.activations_gb, m.lora_gb, m.grads_gb, m.optimizer_gb) == (0.0, 0.0, 0.0, 0.0)
    assert (m.context_gb, m.trainable_params, m.notes) == (1.0, 0, ())


def test_infer_short_context_chunk_and_context_override():
    m = infer(seq_len=100)
    assert m.workspace_gb == pytest.approx((100 * (2 * 256 + 4 * 64) * 2 + 100 * 1000 * 4) / GB)
    c = infer(seq_len=100, context=4096)
    assert c.kv_cache_gb == pytest.approx(256 * 4096 / GB)
    assert infer(seq_len=512).kv_cache_gb == pytest.approx(256 * 512 / GB)


def test_kv_cache_bits():
    assert infer(seq_len=1024, kv_bits=8).kv_cache_gb == pytest.approx(128 * 1024 / GB)
    assert lm.kv_cache_bytes(TINY, 1024, 2, 4) == 64 * 1024 * 2
    assert lm.kv_cache_bytes(TINY, 1024, 1) == 256 * 1024          # 16-bit by default


def test_tensor_parallel_splits_weights_kv_heads_and_mlp_workspace():
    one, two, four = (infer(seq_len=2048, n_gpus=n) for n in (1, 2, 4))
    assert two.weights_gb == pytest.approx(one.weights_gb / 2)
    assert four.weights_gb == pytest.approx(one.weights_gb / 4)
    assert two.kv_cache_gb == pytest.approx(one.kv_cache_gb / 2)
    assert four.kv_cache_gb == pytest.approx(one.kv_cache_gb / 2)   # 2 KV heads: replicated past 2
    chunk = 512
    assert four.workspace_gb == pytest.approx(
        (chunk * (2 * 256 + 4 * 64) * 2 / 4 + chunk * 1000 * 4) / GB)


def test_mla_kv_cache_not_split_by_tensor_parallel():
    one = infer(MLA, seq_len=1024)
    assert one.kv_cache_gb == pytest.approx(2 * 40 * 2 * 1024 / GB)  # 2 layers x (32 + 8) x 2 B
    assert infer(MLA, seq_len=1024, n_gpus=2).kv_cache_gb == pytest.approx(one.kv_cache_gb)


def test_moe_inference_workspace_uses_the_wider_mlp():
    wide = replace(MOE, experts_per_token=16, moe_intermediate_size=32)   # 512 > 256
    m = infer(wide, seq_len=512)
    assert m.workspace_gb == pytest.approx((512 * (2 * 512 + 4 * 64) * 2 + 512 * 1000 * 4) / GB)


def test_sliding_window_note_only_past_the_window():
    sw = replace(TINY, sliding_window=1024, sliding_layers=1)
    assert infer(sw, seq_len=1024).notes == ()
    m = infer(sw, seq_len=2048)
    assert m.notes == ("1 of 2 layers use a 1,024-token sliding window: their KV cache stops there",)
    # one full layer at 2,048 + one window layer at 1,024 tokens, 128 bytes each
    assert m.kv_cache_gb == pytest.approx((128 * 2048 + 128 * 1024) / GB)


# ---- totals and fit --------------------------------------------------------------------------

def test_total_is_the_sum_of_terms_and_fit_boundary():
    m = LlmMemory(1.0, 0.5, 0.25, 0.125, 2.0, 3.0, 0.0625, 1.0, 7)
    assert m.total_gb == 7.9375
    assert m.fits(7.9375 / 0.95)
    assert not m.fits(7.9375 / 0.95 - 1e-9)
    exact = LlmMemory(10.0, 4.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.0, 0)   # 19.0 = 95 % of 20
    assert exact.fits(20.0) and not exact.fits(19.99)
    assert m.as_dict() == {"weights_gb": 1.0, "lora_gb": 0.5, "grads_gb": 0.25,
                           "optimizer_gb": 0.125, "activations_gb": 2.0, "kv_cache_gb": 3.0,
                           "workspace_gb": 0.062, "context_gb": 1.0}


def test_llm_memory_dispatches_on_method():
    assert lm.llm_memory(TINY, LlmRun(method="infer", seq_len=64)) == infer(seq_len=64)
    assert lm.llm_memory(TINY, LlmRun(seq_len=64)) == train(seq_len=64)


def test_weight_bits_exactly_as_their_sources():
    assert lm.WEIGHT_BITS["fp8"] == lm.WEIGHT_BITS["int8"] == 8 + 32 / 4096
    assert lm.WEIGHT_BITS["nf4"] == 4 + 8 / 64 + 32 / (64 * 256)
    assert lm.WEIGHT_BITS["gptq-4bit"] == lm.WEIGHT_BITS["awq-4bit"] == 4 + 20 / 128
    assert (lm.WEIGHT_BITS["q8_0"], lm.WEIGHT_BITS["q6_k"], lm.WEIGHT_BITS["q4_0"]) == (
        34 * 8 / 32, 210 * 8 / 256, 18 * 8 / 32)
    assert (lm.WEIGHT_BITS["mxfp4"], lm.WEIGHT_BITS["q5_k_m"], lm.WEIGHT_BITS["q4_k_m"]) == (
        (32 * 4 + 8) / 32, 5.68, 4.84)


def test_run_field_defaults():
    r = LlmRun()
    assert (r.method, r.weights, r.seq_len, r.micro_batch, r.grad_accum) == ("lora", "", 2048, 1, 1)
    assert (r.grad_checkpointing, r.optimizer, r.lora_rank, r.n_gpus, r.parallel) == (
        None, "adamw", 16, 1, "")
    assert (r.cpu_offload, r.fused_attention, r.context, r.kv_bits, r.notes) == (
        False, True, 0, 16, ())
    assert r.lora_targets == ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                              "down_proj")
    assert LlmRun(notes=("a",)) == LlmRun()                 # notes do not tell runs apart


def test_run_and_memory_records_are_frozen():
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        LlmRun().seq_len = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        train(seq_len=64).weights_gb = 0.0  # type: ignore[misc]


def test_lora_on_a_4bit_base_keeps_the_rest_16_bit():
    # only QLoRA (peft's prepare_model_for_kbit_training) upcasts the non-quantised rest to fp32
    m = train(method="lora", weights="nf4", lora_rank=8, seq_len=128)
    nf4 = 4 + 8 / 64 + 32 / (64 * 256)
    assert m.weights_gb == pytest.approx((DECODER * nf4 / 8 + (P - DECODER) * 2) / GB)

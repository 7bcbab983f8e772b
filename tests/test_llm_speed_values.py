"""perfmodel.llm_speed by value with EXPLICIT efficiencies (never llm_params.json's fitted
values, which another engineer re-fits): the module docstring's formulas worked out by hand on a
tiny config.

TINY (Llama layout): hidden 64, MLP 256, 2 layers, 4 heads of 16, 2 KV heads, vocab 1000, untied:
251,200 parameters, 123,136 in the decoder; matmul weights a token touches = decoder + head =
187,136, so 2 N_mm = 374,272 FLOPs. Attention 4 x (4 x 16) x (2 layers x S/2) = 256 S FLOPs.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from rigcheck.perfmodel import llm_speed as ls
from rigcheck.perfmodel.llm_configs import ModelConfig
from rigcheck.perfmodel.llm_memory import LlmRun
from tests.parts_factory import gpu

TINY = ModelConfig(id="tiny", name="Tiny", source="test", model_type="llama", hidden_size=64,
                   intermediate_size=256, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16,
                   vocab_size=1000, tied_embeddings=False, max_positions=1 << 20)
P = 251_200
MOE = replace(TINY, id="moe", num_experts=4, experts_per_token=2, moe_intermediate_size=32)
MOE_P = 64_000 + 2 * (12_288 + 128 + 4 * 6_144 + 256) + 64 + 64_000
PRM = {"mfu": {"full": 0.5, "pretrain": 0.4, "lora": 0.25, "qlora": 0.2}, "prefill_eff": 0.5,
       "bw_eff": 0.8, "per_layer_overhead_s": 1e-5, "quant_prefill_factor": 0.5,
       "ddp_scaling": 0.9, "architectures": ["Ada Lovelace", "Hopper"]}


# Nobody measured an Ada or Pascal card's best matmul, so the model holds an unmeasured NVIDIA card
# to the median of the NVIDIA measurements in mamf.csv (A100 SXM 86.9%, A100 PCIe 81.1%, H100 SXM
# 80.3%, B300 78.6%, B200 77.6%): H100 SXM's 794.5 of 989 TFLOPS.
MAMF = 794.5 / 989


def fwd(ctx: int) -> float:
    return 374_272 + 256 * ctx


def ada(**kw):        # tests.parts_factory: 20 TFLOP/s fp32, 80 fp16/bf16 tensor, 500 GB/s
    return gpu("ada", **kw)


def pascal(**kw):
    return gpu("p40", architecture="Pascal", compute_capability="6.1", tensor_fp16_tflops=None,
               tensor_bf16_tflops=None, tensor_tf32_tflops=None, **kw)


# ---- FLOPs ---------------------------------------------------------------------------------

def test_forward_flops_per_token():
    assert ls.forward_flops_per_token(TINY, 1024) == fwd(1024) == 636_416
    assert ls.attention_flops_per_token(TINY, 1024) == 262_144


def test_moe_forward_counts_only_the_routed_experts():
    # a layer: attention 12,288 + norms 128 + top-2 experts 2 x 6,144 + router 256 = 24,960;
    # two layers + the 64,000-weight head = 113,920 matmul weights a token
    assert ls.forward_flops_per_token(MOE, 1024) == 2 * 113_920 + 256 * 1024


def test_attention_flops_sliding_and_mla():
    sw = replace(TINY, sliding_window=256, sliding_layers=1)
    # one full layer at 1024/2, one window layer at 256/2
    assert ls.attention_flops_per_token(sw, 1024) == 4 * 64 * (512 + 128)
    assert ls.attention_flops_per_token(sw, 200) == 4 * 64 * (100 + 100)   # inside the window
    no_window = replace(TINY, sliding_window=0, sliding_layers=1)
    assert ls.attention_flops_per_token(no_window, 1024) == 4 * 64 * (512 + 512)
    mla = replace(TINY, kv_lora_rank=32, qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16)
    # width 4 x (16 + 8 + 16) / 2 = 80
    assert ls.attention_flops_per_token(mla, 1024) == 4 * 80 * 1024


@pytest.mark.parametrize(("method", "ckpt", "passes"), [
    ("full", False, 3), ("full", True, 4), ("pretrain", False, 3), ("lora", False, 2),
    ("lora", True, 3), ("qlora", True, 3), ("qlora", False, 2),
])
def test_train_flops_passes(method, ckpt, passes):
    run = LlmRun(method=method, seq_len=1024, grad_checkpointing=ckpt)
    assert ls.train_flops_per_token(TINY, run) == passes * fwd(1024)


# ---- peaks and calibration mark -----------------------------------------------------------------

def test_peaks():
    assert ls.peak16_tflops(ada(tensor_bf16_tflops=70.0)) == 70.0
    assert ls.peak16_tflops(pascal(fp32_tflops=12.0)) == 12.0
    # GeForce quoted at fp32 accumulate: inference runs at the fp16-accumulate rate, 2x
    assert ls.infer_peak_tflops(ada()) == 160.0
    gf16 = ada(name="GeForce RTX 3090", tensor_fp16_tflops=142.0, tensor_accumulate="fp16")
    assert ls.infer_peak_tflops(gf16) == 142.0
    dc = ada(name="L40S", form="datacenter", tensor_fp16_tflops=362.0)
    assert ls.infer_peak_tflops(dc) == 362.0
    assert ls.infer_peak_tflops(pascal(fp32_tflops=12.0)) == 12.0


def test_calibration_mark():
    assert ls.calibration_mark(ada(), PRM) == "calibrated"
    assert ls.calibration_mark(pascal(), PRM) == (
        "extrapolated, no LLM calibration rows for this architecture (NVIDIA Pascal); fitted on "
        "Ada Lovelace, Hopper")
    assert ls.calibration_mark(pascal(), {"architectures": []}).endswith("fitted on none")
    assert ls.calibration_mark(pascal(), {"architectures": None}).endswith("fitted on none")
    # without parameters: the committed file's list, which no made-up architecture is on
    odd = gpu("odd", architecture="Nonesuch")
    assert ls.calibration_mark(odd).startswith("extrapolated, no LLM calibration rows for this "
                                               "architecture (NVIDIA Nonesuch); fitted on ")


def test_load_params_from_a_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"bw_eff": 0.5, "junk": 1, "architectures": ["X"]}), encoding="utf-8")
    got = ls.load_params(path)
    assert got["bw_eff"] == 0.5 and "junk" not in got and got["architectures"] == ["X"]
    assert got["prefill_eff"] == ls.DEFAULTS["prefill_eff"]
    path.write_text("{not json", encoding="utf-8")
    assert ls.load_params(path) == ls.DEFAULTS
    assert ls.load_params(tmp_path / "missing.json") == ls.DEFAULTS
    path.write_text("{}", encoding="utf-8")
    assert ls.load_params(path)["architectures"] == []


def test_the_priors_are_the_documented_ones():
    # the fallback when llm_params.json is missing, and the fit's starting point
    d = ls.DEFAULTS
    assert d["mfu"] == {"full": 0.40, "pretrain": 0.40, "lora": 0.35, "qlora": 0.25}
    assert (d["prefill_eff"], d["bw_eff"], d["per_layer_overhead_s"]) == (0.45, 0.70, 1.0e-5)
    assert (d["quant_prefill_factor"], d["ddp_scaling"], d["prefill_eff_no_tensor"]) == (0.7, 0.92, 0.45)
    assert d["train_nonmatmul_bytes"] == 0.0


def test_train_nonmatmul_time_by_hand():
    run = LlmRun(method="full", seq_len=1024, grad_checkpointing=False)
    # 2 layers x 64 hidden x 100 bytes x 3/3 passes = 12,800 bytes over 500 GB/s
    assert ls.train_nonmatmul_s_per_token(TINY, run, ada(), {"train_nonmatmul_bytes": 100.0}) == \
        pytest.approx(12_800 / 500e9)
    ckpt = replace(run, grad_checkpointing=True)               # 4 passes: x 4/3
    assert ls.train_nonmatmul_s_per_token(TINY, ckpt, ada(), {"train_nonmatmul_bytes": 100.0}) == \
        pytest.approx(12_800 * 4 / 3 / 500e9)
    # no such term: the key missing, zero or negative bytes, or no known bandwidth
    assert ls.train_nonmatmul_s_per_token(TINY, run, ada(), {}) == 0.0
    assert ls.train_nonmatmul_s_per_token(TINY, run, ada(), {"train_nonmatmul_bytes": 0.0}) == 0.0
    assert ls.train_nonmatmul_s_per_token(TINY, run, ada(), {"train_nonmatmul_bytes": -5.0}) == 0.0
    assert ls.train_nonmatmul_s_per_token(TINY, run, ada(mem_bw_gbs=0.0),
                                          {"train_nonmatmul_bytes": 100.0}) == 0.0


# ---- training --------------------------------------------------------------------------------

def test_train_speed_one_gpu_by_hand():
    run = LlmRun(method="full", seq_len=1024, micro_batch=2, grad_accum=3)
    s = ls.train_speed(TINY, run, ada(), PRM)
    tokens = 80e12 * MAMF * 0.5 / (3 * fwd(1024))
    assert s.tokens_per_s == pytest.approx(tokens)
    assert s.samples_per_s == pytest.approx(tokens / 1024)
    assert s.step_s == pytest.approx(2 * 3 / (tokens / 1024))
    assert (s.bound, s.peak_tflops) == ("compute", 80.0)


@pytest.mark.parametrize(("method", "mfu", "passes"), [
    ("pretrain", 0.4, 3), ("lora", 0.25, 3), ("qlora", 0.2, 3)])
def test_train_speed_mfu_per_method(method, mfu, passes):
    s = ls.train_speed(TINY, LlmRun(method=method, seq_len=1024), ada(), PRM)
    assert s.tokens_per_s == pytest.approx(80e12 * MAMF * mfu / (passes * fwd(1024)))


def test_train_speed_data_parallel_loses_per_doubling():
    s = ls.train_speed(TINY, LlmRun(method="full", seq_len=1024, n_gpus=4), ada(), PRM)
    per_gpu = 80e12 * MAMF * 0.5 / (3 * fwd(1024))
    assert s.tokens_per_s == pytest.approx(4 * per_gpu * 0.81)
    assert s.step_s == pytest.approx(4 / (4 * per_gpu * 0.81 / 1024))
    s2 = ls.train_speed(TINY, LlmRun(method="full", seq_len=1024, n_gpus=2), ada(), PRM)
    assert s2.tokens_per_s == pytest.approx(2 * per_gpu * 0.9)


def test_train_speed_without_tensor_cores_halves_mfu():
    s = ls.train_speed(TINY, LlmRun(method="full", seq_len=1024), pascal(fp32_tflops=12.0), PRM)
    assert s.tokens_per_s == pytest.approx(12e12 * MAMF * 0.25 / (3 * fwd(1024)))


# ---- inference -------------------------------------------------------------------------------
# bf16 weights a decode step reads: 2 x 251,200 minus the 64,000-row embedding lookup (2 bytes
# each) = 374,400 bytes. KV: 2 x 2 layers x 2 heads x 16 x 2 bytes = 256 bytes a token.

def test_touched_weight_bytes_dense():
    assert ls._touched_weight_bytes(TINY, "bf16", 1) == 2 * P - 128_000
    assert ls._touched_weight_bytes(TINY, "q8_0", 1) == pytest.approx((P - 64_000) * 8.5 / 8)
    # linear-only formats keep the embedding 16-bit: subtract 2 bytes a row element
    nf4 = 4 + 8 / 64 + 32 / (64 * 256)
    assert ls._touched_weight_bytes(TINY, "nf4", 1) == pytest.approx(
        123_136 * nf4 / 8 + (P - 123_136) * 2 - 128_000)
    tied = replace(TINY, tied_embeddings=True)          # no head: the embedding is the head
    assert ls._touched_weight_bytes(tied, "bf16", 1) == 2 * (P - 64_000)
    vision = replace(TINY, vision_params=10_000)
    assert ls._touched_weight_bytes(vision, "bf16", 1) == 2 * P + 20_000 - 128_000 - 20_000


def test_touched_weight_bytes_mxfp4_moe_gguf():
    """MXFP4_MOE: experts at 4.25 bits, every other tensor at Q8_0's 8.5 bits. One token reads
    all of it but the embedding (a lookup) and the 8 routed experts, plus the 2 it hits a layer."""
    expert = 6_144 * 4.25 / 8
    rest = (MOE_P - 2 * 4 * 6_144) * 8.5 / 8 - 64_000 * 8.5 / 8      # the embedding is a lookup
    assert ls._touched_weight_bytes(MOE, "mxfp4_moe", 1) == pytest.approx(rest + 2 * 2 * expert)


def test_touched_weight_bytes_moe_counts_experts_hit():
    expert = 6_144 * 2
    rest = 2 * MOE_P - 128_000 - 2 * 4 * expert
    # top-2 of 4: one token hits 2 experts a layer; two tokens 4 x (1 - 0.5^2) = 3
    assert ls._touched_weight_bytes(MOE, "bf16", 1) == pytest.approx(rest + 2 * 2 * expert)
    assert ls._touched_weight_bytes(MOE, "bf16", 2) == pytest.approx(rest + 2 * 3 * expert)
    # int8 experts at 8 bits flat (the per-row scale is in the 16-bit rest)
    got = ls._touched_weight_bytes(MOE, "int8", 1)
    bits = 8 + 32 / 4096
    decoder = 2 * (12_288 + 128 + 4 * 6_144 + 256)
    int8_all = decoder * bits / 8 + (MOE_P - decoder) * 2 - 128_000
    assert got == pytest.approx(int8_all - 2 * 4 * 6_144 + 2 * 2 * 6_144)


def test_infer_speed_decode_and_prefill_by_hand():
    run = LlmRun(method="infer", seq_len=1024, micro_batch=8)
    s = ls.infer_speed(TINY, run, ada(), PRM)
    peak = 160e12                                        # GeForce: fp16-accumulate rate
    assert s.prefill_tokens_per_s == pytest.approx(peak * MAMF * 0.5 / fwd(1024))
    bw = 500e9 * 0.8
    t1 = (374_400 + 256 * 1024) / bw + 2 * 1e-5
    assert s.decode_tokens_per_s_batch1 == pytest.approx(1 / t1)
    t8 = (374_400 + 8 * 256 * 1024) / bw + 2 * 1e-5
    assert s.decode_tokens_per_s == pytest.approx(8 / t8)
    assert (s.bound, s.peak_tflops) == ("memory-bandwidth", 160.0)
    assert s.tokens_per_s is None and s.step_s is None


def test_infer_speed_compute_bound_on_huge_bandwidth():
    s = ls.infer_speed(TINY, LlmRun(method="infer", seq_len=1024, micro_batch=4),
                       ada(mem_bw_gbs=1e7), PRM)
    assert s.bound == "compute"
    t4 = 4 * fwd(1024) / (160e12 * MAMF * 0.5) + 2e-5
    assert s.decode_tokens_per_s == pytest.approx(4 / t4)
    # tensor parallel over 2 halves the FLOPs a GPU does (and adds 2 x 2 x 15 us all-reduces)
    s2 = ls.infer_speed(TINY, LlmRun(method="infer", seq_len=1024, micro_batch=4, n_gpus=2),
                        ada(mem_bw_gbs=1e7), PRM)
    t4_tp = 4 * fwd(1024) / 2 / (160e12 * MAMF * 0.5) + 2e-5 + 2 * 2 * 15e-6
    assert s2.decode_tokens_per_s == pytest.approx(4 / t4_tp)


def test_infer_speed_quantised_weights_prefill_factor():
    s = ls.infer_speed(TINY, LlmRun(method="infer", weights="q4_k_m", seq_len=1024), ada(), PRM)
    assert s.prefill_tokens_per_s == pytest.approx(160e12 * MAMF * 0.5 * 0.5 / fwd(1024))
    for fmt in ("fp16", "fp32"):
        s = ls.infer_speed(TINY, LlmRun(method="infer", weights=fmt, seq_len=1024), ada(), PRM)
        assert s.prefill_tokens_per_s == pytest.approx(160e12 * MAMF * 0.5 / fwd(1024))


def test_infer_speed_context_and_kv_bits():
    s = ls.infer_speed(TINY, LlmRun(method="infer", seq_len=128, context=2048, kv_bits=8),
                       ada(), PRM)
    t1 = (374_400 + 128 * 2048) / 4e11 + 2e-5
    assert s.decode_tokens_per_s_batch1 == pytest.approx(1 / t1)
    assert s.prefill_tokens_per_s == pytest.approx(80e12 * MAMF / fwd(2048))


@pytest.mark.parametrize(("nvlink", "allreduce_s"), [(False, 15e-6), (True, 5e-6)])
def test_tensor_parallel_decode(nvlink, allreduce_s):
    s = ls.infer_speed(TINY, LlmRun(method="infer", seq_len=1024, n_gpus=2), ada(), PRM,
                       nvlink=nvlink)
    t1 = (374_400 + 256 * 1024) / 2 / 4e11 + 2 * 1e-5 + 2 * 2 * allreduce_s
    assert s.decode_tokens_per_s_batch1 == pytest.approx(1 / t1)
    assert s.prefill_tokens_per_s == pytest.approx(2 * 160e12 * MAMF * 0.5 / fwd(1024) * 0.9)
    s4 = ls.infer_speed(TINY, LlmRun(method="infer", seq_len=1024, n_gpus=4), ada(), PRM)
    assert s4.prefill_tokens_per_s == pytest.approx(4 * 160e12 * MAMF * 0.5 / fwd(1024) * 0.81)


def test_llm_speed_dispatch():
    infer = LlmRun(method="infer", seq_len=256)
    assert ls.llm_speed(TINY, infer, ada(), PRM) == ls.infer_speed(TINY, infer, ada(), PRM)
    assert ls.llm_speed(TINY, infer, ada(), PRM, nvlink=True) == ls.infer_speed(
        TINY, infer, ada(), PRM, nvlink=True)
    tp = LlmRun(method="infer", seq_len=256, n_gpus=2)
    assert ls.llm_speed(TINY, tp, ada(), PRM) == ls.infer_speed(TINY, tp, ada(), PRM, nvlink=False)
    train = LlmRun(method="lora", seq_len=256)
    assert ls.llm_speed(TINY, train, ada(), PRM) == ls.train_speed(TINY, train, ada(), PRM)
    assert math.isclose(ls.llm_speed(TINY, train, ada(), PRM).tokens_per_s or 0.0,
                        80e12 * MAMF * 0.25 / (3 * fwd(256)))


def test_defaults_use_the_committed_parameters_and_pcie():
    run = LlmRun(method="full", seq_len=256)
    assert ls.train_speed(TINY, run, ada()) == ls.train_speed(TINY, run, ada(), ls.load_params())
    inf = LlmRun(method="infer", seq_len=256, n_gpus=2)
    assert ls.infer_speed(TINY, inf, ada()) == ls.infer_speed(TINY, inf, ada(), ls.load_params(),
                                                              nvlink=False)
    assert ls.infer_speed(TINY, inf, ada(), PRM) == ls.infer_speed(TINY, inf, ada(), PRM,
                                                                   nvlink=False)
    assert ls.infer_speed(TINY, inf, ada(), PRM) != ls.infer_speed(TINY, inf, ada(), PRM,
                                                                   nvlink=True)


def test_speed_record_defaults_and_frozen():
    import dataclasses
    s = ls.LlmSpeed()
    assert (s.tokens_per_s, s.samples_per_s, s.step_s, s.prefill_tokens_per_s) == (None,) * 4
    assert (s.decode_tokens_per_s, s.decode_tokens_per_s_batch1) == (None, None)
    assert (s.bound, s.peak_tflops, s.notes) == ("", 0.0, ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.bound = "x"  # type: ignore[misc]


def test_moe_prefill_carries_its_upper_bound_note():
    run = LlmRun(method="infer", seq_len=256)
    moe = ls.infer_speed(MOE, run, ada(), PRM)
    assert len(moe.notes) == 1 and "upper bound" in moe.notes[0] and "0.45-0.62" in moe.notes[0]
    assert ls.infer_speed(TINY, run, ada(), PRM).notes == ()

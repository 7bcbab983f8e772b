"""LLM speed model: FLOPs and bytes by hand, the calibration rows and the fitter."""

from __future__ import annotations

import copy
import csv
from dataclasses import replace

import pytest

from rigcheck import catalog as cat
from rigcheck.perfmodel import lookup_gpu, match_gpu
from rigcheck.perfmodel.llm_calibrate import (
    CALIBRATION_PATH,
    EXTRA_PATH,
    excluded,
    fit,
    load_rows,
    predict_row,
)
from rigcheck.perfmodel.llm_configs import find_model
from rigcheck.perfmodel.llm_memory import LlmRun
from rigcheck.perfmodel.llm_speed import (
    DEFAULTS,
    attention_flops_per_token,
    forward_flops_per_token,
    infer_peak_tflops,
    infer_speed,
    train_flops_per_token,
    train_speed,
)


@pytest.fixture(scope="module")
def gpus():
    return cat.load_catalog().gpus


def test_forward_flops_by_hand():
    c = find_model("llama-3.1-8b")
    # matmul weights: everything but the embedding lookup (the head multiplies)
    n_mm = 8_030_261_248 - 128256 * 4096
    # attention: 4 x 32 heads x 128 x 32 layers x (2048 / 2) for a causal 2k sequence
    attn = 4 * 32 * 128 * 32 * 1024
    assert attention_flops_per_token(c, 2048) == attn
    assert forward_flops_per_token(c, 2048) == pytest.approx(2 * n_mm + attn, rel=1e-4)


def test_train_passes():
    c = find_model("llama-3.1-8b")
    fwd = forward_flops_per_token(c, 2048)
    assert train_flops_per_token(c, LlmRun("full", grad_checkpointing=False)) == pytest.approx(3 * fwd)
    assert train_flops_per_token(c, LlmRun("full", grad_checkpointing=True)) == pytest.approx(4 * fwd)
    assert train_flops_per_token(c, LlmRun("lora", grad_checkpointing=False)) == pytest.approx(2 * fwd)


def test_training_speed_is_peak_times_mfu(gpus):
    g = match_gpu(gpus, "4090")
    c = find_model("llama-3.1-8b")
    run = LlmRun("lora", grad_checkpointing=True)
    params = copy.deepcopy(DEFAULTS)
    params["mfu"]["lora"] = 0.5
    s = train_speed(c, run, g, params)
    # no 4090 is measured: it is held to the NVIDIA median, H100 SXM's 794.5 of 989 TFLOPS
    assert s.tokens_per_s == pytest.approx(165.2e12 * 794.5 / 989 * 0.5
                                           / train_flops_per_token(c, run))


def test_geforce_inference_peak_is_fp16_accumulate(gpus):
    assert infer_peak_tflops(match_gpu(gpus, "4090")) == pytest.approx(2 * 165.2)
    assert infer_peak_tflops(match_gpu(gpus, "A100 PCIe 80 GB")) == pytest.approx(312.0)


def test_consumer_radeon_inference_peak_is_not_doubled(gpus):
    """Only NVIDIA halves fp32 accumulation on GeForce, so only GeForce gains 2x from fp16
    accumulation; a consumer Radeon keeps its one listed WMMA rate (RX 7900 XTX: 122.8 TFLOPS
    fp16, AMD's spec sheet), which its fp32-accumulate figure already is."""
    xtx = lookup_gpu("Radeon RX 7900 XTX", gpus).gpu
    assert xtx.vendor == "AMD" and xtx.form == "consumer"
    assert infer_peak_tflops(xtx) == pytest.approx(122.8)


def test_decode_is_bytes_over_bandwidth(gpus):
    g = match_gpu(gpus, "4090")
    c = find_model("llama-2-7b")   # untied: the input embedding is a lookup, not read per token
    params = dict(copy.deepcopy(DEFAULTS), bw_eff=0.5, per_layer_overhead_s=0.0)
    s = infer_speed(c, LlmRun("infer", weights="fp16", seq_len=1, context=1), g, params)
    read = 2 * (6_738_415_616 - 32000 * 4096)   # weights minus the embedding, 2 bytes each
    kv = 2 * 32 * 32 * 128 * 2                   # one token of KV cache
    assert s.decode_tokens_per_s_batch1 == pytest.approx(1008e9 * 0.5 / (read + kv), rel=1e-6)


def test_moe_decode_reads_active_experts_only(gpus):
    g = match_gpu(gpus, "4090")
    moe = find_model("mixtral-8x7b")
    s = infer_speed(moe, LlmRun("infer", weights="q4_k_m", seq_len=128), g)
    dense_same_total = find_model("llama-2-70b")
    d = infer_speed(dense_same_total, LlmRun("infer", weights="q4_k_m", seq_len=128), g)
    assert s.decode_tokens_per_s_batch1 > 2 * d.decode_tokens_per_s_batch1
    # at batch 64 nearly every expert is hit: per-stream speed falls
    b = infer_speed(moe, LlmRun("infer", weights="q4_k_m", seq_len=128, micro_batch=64), g)
    assert b.decode_tokens_per_s > s.decode_tokens_per_s_batch1


def test_calibration_rows_cite_and_predict(gpus):
    raw = []
    for path in (CALIBRATION_PATH, EXTRA_PATH):
        with path.open(encoding="utf-8") as f:
            raw += list(csv.DictReader(f))
    assert len(raw) >= 100
    for r in raw:
        assert r["source_url"].startswith("https://") and r["quote"], r
    rows = load_rows()
    assert len(rows) == len(raw)
    for row in rows:
        assert predict_row(row, lookup_gpu(row.gpu, gpus).gpu, DEFAULTS) > 0, row.id
    # Without the row's GPU: the memory rows of torchtune/Unsloth's own kernels, and ./main's
    # prefill rows (prompt length not given); every other row is used.
    left_out = [r for r in rows if excluded(r)]
    assert all(r.metric == "peak_memory_gb" or
               (r.metric == "prefill_tokens_per_s" and r.raw["framework"].startswith("llama.cpp main"))
               for r in left_out)
    assert 0 < sum(r.metric == "peak_memory_gb" for r in left_out) < 15


def test_fit_recovers_a_planted_efficiency(gpus):
    """Rows generated by the model at bw_eff 0.55: the fit finds it back (an independent
    expectation: the planted value, not the fitter's output)."""
    g = match_gpu(gpus, "4090")
    planted = dict(copy.deepcopy(DEFAULTS), bw_eff=0.55)
    rows = []
    for mid in ("llama-2-7b", "llama-3.2-3b", "qwen2.5-14b"):
        base = next(r for r in load_rows() if r.metric == "decode_tokens_per_s" and r.run.n_gpus == 1)
        row = replace(base, model=mid, run=replace(base.run, weights="q4_k_m"))
        rows.append((replace(row, value=predict_row(row, g, planted)), g))
    got = fit(rows, sweeps=2, steps=30)
    assert got["bw_eff"] == pytest.approx(0.55, rel=0.05)


def test_rows_whose_weights_do_not_fit_are_left_out(gpus):
    """Llama 2 7B in fp16 is 13.5 GB; the row's Mac has 16 GB, of which Metal keeps about two
    thirds (10.7 GiB) resident: a swapping figure. The same weights on a 24 GB 4090 stay."""
    rows = {r.id: r for r in load_rows()}
    m3 = rows["GPU-Benchmarks-on-LLM-Inference-67"]
    assert "swapping" in excluded(m3, lookup_gpu(m3.gpu, gpus).gpu)
    rtx = rows["llc-4090-f16-pp"]
    assert excluded(rtx, lookup_gpu(rtx.gpu, gpus).gpu) == ""


def test_fold_without_lora_rows_uses_full_utilisation(gpus):
    """With no LoRA row to fit, LoRA takes full fine-tuning's utilisation (same matmuls over the
    frozen base), not the generic prior."""
    full = [(r, lookup_gpu(r.gpu, gpus).gpu) for r in load_rows()
            if r.metric == "train_tokens_per_s" and r.run.method in ("full", "pretrain")][:3]
    got = fit(full, sweeps=1, steps=8)
    assert got["mfu"]["lora"] == got["mfu"]["full"] and got["mfu"]["qlora"] == got["mfu"]["full"]


# Llama 3.1 8B at 2,048 tokens, by hand (see test_forward_flops_by_hand): matmul weights
# 8,030,261,248 - 128,256 x 4,096 = 7,504,924,672; attention 4 x 32 x 128 x 32 x 1,024.
L31_FWD_2K = 2 * 7_504_924_672 + 4 * 32 * 128 * 32 * 1024      # 15,546,720,256 FLOPs


@pytest.mark.parametrize("tokens_per_s, left_out", [(4610.0, False), (4625.0, True)])
def test_training_row_faster_than_any_matmul_is_left_out(gpus, tokens_per_s, left_out):
    """A LoRA step without checkpointing is 2 forwards: 31.09 GFLOPs per token. Nobody measured
    a 4090's best matmul, so it is held to the best fraction measured on any GPU (A100 SXM, 271.2
    of 312 TFLOPS): 0.86923 x 165.2e12 / 31.09e9 = 4,618 tokens/s, 4,610 just inside, 4,625 just
    past."""
    base = next(r for r in load_rows() if r.id == "nemo-lora-l31-8b")
    row = replace(base, gpu="GeForce RTX 4090", value=tokens_per_s,
                  run=replace(base.run, seq_len=2048, n_gpus=1, grad_checkpointing=False))
    assert train_flops_per_token(find_model("llama-3.1-8b"), row.run) == pytest.approx(2 * L31_FWD_2K)
    why = excluded(row, match_gpu(gpus, "4090"))
    assert bool(why) is left_out
    if left_out:
        assert "87% of 1 x GeForce RTX 4090" in why


def test_training_nonmatmul_traffic_adds_time_per_token(gpus):
    """300 bytes per hidden unit per layer for a 3-pass step; LoRA without checkpointing makes
    2 passes: 32 layers x 4,096 x 300 x 2/3 = 26,214,400 bytes per token over the 4090's
    1,008 GB/s, added to the matmul time at mfu 0.5 of the achievable rate (no 4090 was
    measured: the median of the NVIDIA measurements, H100 SXM's 794.5 of 989 TFLOPS)."""
    g = match_gpu(gpus, "4090")
    c = find_model("llama-3.1-8b")
    run = LlmRun("lora", seq_len=2048, grad_checkpointing=False)
    params = copy.deepcopy(DEFAULTS)
    params["mfu"]["lora"] = 0.5
    params["train_nonmatmul_bytes"] = 300.0
    s = train_speed(c, run, g, params)
    per_token = 2 * L31_FWD_2K / (165.2e12 * 794.5 / 989 * 0.5) + 26_214_400 / 1008e9
    assert s.tokens_per_s == pytest.approx(1 / per_token, rel=1e-6)
    # the prior (0 bytes) is the matmul-only model
    assert DEFAULTS["train_nonmatmul_bytes"] == 0.0


def test_prefill_without_tensor_cores_has_its_own_efficiency(gpus):
    """Apple M2 Ultra has no matrix units: its prefill is the listed fp32 rate (27.199 TFLOPS)
    x prefill_eff_no_tensor; a 4090 keeps prefill_eff at its fp16-accumulate rate (330.4). Each
    is held to the achievable fraction of its rate: no Apple GPU is measured, so the median of
    all eight measurements in mamf.csv (B200's 1745 and B300's 1769 of 2250: 0.780889); no
    4090 either, so the NVIDIA median (H100 SXM's 794.5 of 989).
    Llama 2 7B at 512 tokens: 2 x (6,738,415,616 - 32,000 x 4,096) + 4 x 32 x 128 x 32 x 256."""
    fwd = 2 * (6_738_415_616 - 32000 * 4096) + 4 * 32 * 128 * 32 * 256
    c = find_model("llama-2-7b")
    run = LlmRun("infer", weights="fp16", seq_len=512, context=512)
    params = dict(copy.deepcopy(DEFAULTS), prefill_eff=0.3, prefill_eff_no_tensor=0.6)
    mac = infer_speed(c, run, lookup_gpu("Apple M2 Ultra", gpus).gpu, params)
    rtx = infer_speed(c, run, match_gpu(gpus, "4090"), params)
    assert mac.prefill_tokens_per_s == pytest.approx(27.199e12 * 3514 / 4500 * 0.6 / fwd, rel=1e-6)
    assert rtx.prefill_tokens_per_s == pytest.approx(330.4e12 * 794.5 / 989 * 0.3 / fwd, rel=1e-6)


def test_main_prefill_rows_are_left_out_but_its_decode_rows_stay():
    rows = {r.id: r for r in load_rows()}
    a100_prefill, a100_decode = rows["GPU-Benchmarks-on-LLM-Inference-39"], rows["GPU-Benchmarks-on-LLM-Inference-38"]
    assert a100_prefill.metric == "prefill_tokens_per_s" and "token count" in excluded(a100_prefill)
    assert a100_decode.metric == "decode_tokens_per_s" and excluded(a100_decode) == ""
    pp512 = rows["GPU-Benchmarks-on-LLM-Inference-21"]   # llama-bench pp512 of the same source
    assert pp512.metric == "prefill_tokens_per_s" and excluded(pp512) == ""


def test_qlora_utilisation_never_above_lora(gpus):
    """QLoRA is LoRA plus a dequantisation of every frozen weight per pass. Fitted alone, the
    4090 QLoRA row wants 0.68 of the tensor rate (0.85 of the NVIDIA-median achievable 80.3%)
    and NeMo's H100 LoRA rows about 0.38-0.39 (0.48 of H100's achievable 80.3%): the fit caps
    QLoRA at LoRA's value."""
    rows = {r.id: r for r in load_rows()}
    pairs = [(rows[i], lookup_gpu(rows[i].gpu, gpus).gpu)
             for i in ("torchtune-85", "nemo-lora-l31-8b", "nemo-lora-q25-7b")]
    got = fit(pairs, sweeps=1, steps=8)
    assert got["mfu"]["lora"] < 0.6
    assert got["mfu"]["qlora"] == got["mfu"]["lora"]

"""perfmodel.llm_estimate's "what would fit" decisions at their boundaries, on a tiny config
whose memory is written out here by hand (see tests/test_llm_memory_values.py for the terms).

TINY: 251,200 parameters (123,136 decoder), hidden 64, 2 layers, vocab 1,000, MLP 256.
Memory below is bytes; every run adds the 1 GB context allowance; a card fits when the total
is at most 95 % of it, so a card "with budget B" below is B / 0.95.

Training, full bf16 DDP, sequence 1,024 (per sequence): activations 1,024 x 2 layers x 2,944 B =
6,029,312, with checkpointing 1,024 x (2 x 64 x 2 + 2,944) = 3,276,800; logits workspace
1,024 x 1,000 x 16 = 16,384,000. Fixed: 18 bytes x 251,200 = 4,521,600.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from rigcheck.perfmodel import llm_estimate as le
from rigcheck.perfmodel.llm_configs import ModelConfig
from rigcheck.perfmodel.llm_memory import LlmRun, llm_memory
from rigcheck.perfmodel.llm_speed import llm_speed
from tests.parts_factory import gpu

TINY = ModelConfig(id="tiny", name="Tiny", source="test", model_type="llama", hidden_size=64,
                   intermediate_size=256, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16,
                   vocab_size=1000, tied_embeddings=False, max_positions=1 << 20)
CTX = 1e9
FULL_FIXED = 18 * 251_200
FULL_SEQ = 6_029_312 + 16_384_000                  # no checkpointing
CKPT_SEQ = 3_276_800 + 16_384_000
# QLoRA: NF4 decoder (4.127 bits) + fp32 rest, LoRA r16 (45,056 params x 16 B), dequant 2 x 64 x 256
NF4_BITS = 4 + 8 / 64 + 32 / (64 * 256)
QLORA_FIXED = 123_136 * NF4_BITS / 8 + (251_200 - 123_136) * 4 + 45_056 * 16 + 2 * 64 * 256
# Inference bf16, context 1,024, per stream: KV 256 B x 1,024 + prefill workspace 512 tokens x
# (2 x 256 + 4 x 64) x 2 B + 512 x 1,000 x 4 B fp32 logits
INFER_W = 2 * 251_200
INFER_STREAM = 262_144 + 512 * 768 * 2 + 512 * 1000 * 4


def card(budget_bytes: float) -> float:
    return budget_bytes / 0.95 / 1e9


def full(mb: int, ckpt: bool = False, seq_bytes: float | None = None) -> float:
    return CTX + FULL_FIXED + mb * (seq_bytes or (CKPT_SEQ if ckpt else FULL_SEQ))


def qlora(seq: int) -> float:
    return CTX + QLORA_FIXED + seq * (3_200 + 16_000)


def infer(mb: int, weights: float = INFER_W) -> float:
    return CTX + weights + mb * INFER_STREAM


FULL4 = LlmRun(method="full", seq_len=1024, micro_batch=4, grad_accum=2)
INFER = LlmRun(method="infer", seq_len=1024)


def test_hand_totals_agree_with_the_memory_model():
    assert llm_memory(TINY, FULL4).total_gb == pytest.approx(full(4) / 1e9)
    assert llm_memory(TINY, replace(FULL4, grad_checkpointing=True)).total_gb == pytest.approx(
        full(4, True) / 1e9)
    assert llm_memory(TINY, LlmRun(method="qlora", seq_len=512)).total_gb == pytest.approx(
        qlora(512) / 1e9)
    assert llm_memory(TINY, replace(INFER, micro_batch=3)).total_gb == pytest.approx(infer(3) / 1e9)


# ---- largest_micro_batch ---------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 7, 100, 4095])
def test_largest_micro_batch_just_inside(k):
    vram = card(infer(k) + INFER_STREAM / 2)
    assert le.largest_micro_batch(TINY, INFER, vram) == k


def test_largest_micro_batch_limits():
    assert le.largest_micro_batch(TINY, INFER, card(infer(1) - 1000)) == 0
    assert le.largest_micro_batch(TINY, INFER, card(infer(4096) + 1000)) == 4096
    assert le.largest_micro_batch(TINY, INFER, 100.0) == 4096
    assert le.largest_micro_batch(TINY, INFER, 100.0, limit=8) == 8
    assert le.largest_micro_batch(TINY, INFER, card(infer(5) + 1000), limit=8) == 5


def test_needed_vram():
    m = llm_memory(TINY, INFER)
    assert le.needed_vram_gb(m) == pytest.approx(infer(1) / 0.95 / 1e9)


# ---- candidate_changes ------------------------------------------------------------------------

def test_training_candidates_in_order_between_two_and_three_sequences():
    budget = (full(2) + full(3)) / 2
    got = le.candidate_changes(TINY, FULL4, card(budget))
    assert [what for what, _ in got] == [
        "micro-batch 2 with gradient accumulation 4 (same global batch)",
        "gradient checkpointing with micro-batch 1 and gradient accumulation 8",
        "QLoRA at micro-batch 1",
        "2 GPUs of this size with ZeRO-3/FSDP, checkpointing, micro-batch 1",
    ]
    runs = [r for _, r in got]
    assert (runs[0].micro_batch, runs[0].grad_accum) == (2, 4)
    assert (runs[1].micro_batch, runs[1].grad_accum, runs[1].checkpointing) == (1, 8, True)
    assert (runs[2].method, runs[2].weight_format, runs[2].micro_batch, runs[2].grad_accum,
            runs[2].seq_len) == ("qlora", "nf4", 1, 8, 1024)
    assert (runs[3].n_gpus, runs[3].parallel, runs[3].micro_batch, runs[3].grad_accum,
            runs[3].checkpointing) == (2, "zero3", 1, 8, True)


def test_training_candidates_when_checkpointing_alone_fits():
    budget = (full(4, True) + full(4)) / 2
    got = dict(le.candidate_changes(TINY, FULL4, card(budget)))
    assert list(got) == [
        # 3 fits; 3 does not divide the global batch of 4 x 2 = 8: 2 x 4 keeps it
        "micro-batch 2 with gradient accumulation 4 (same global batch)",
        "gradient checkpointing (about 1/3 more compute)",
        "QLoRA (4-bit NF4 base, LoRA adapters, checkpointing)",
        "2 GPUs of this size with ZeRO-3/FSDP, checkpointing, micro-batch 1",
    ]
    assert got["gradient checkpointing (about 1/3 more compute)"].micro_batch == 4
    q = got["QLoRA (4-bit NF4 base, LoRA adapters, checkpointing)"]
    assert (q.method, q.micro_batch, q.checkpointing) == ("qlora", 4, True)


def test_micro_batch_one_without_checkpointing():
    run = replace(FULL4, micro_batch=1, grad_accum=1)
    budget = (full(1, True) + full(1)) / 2
    whats = [w for w, _ in le.candidate_changes(TINY, run, card(budget))]
    assert whats[0] == "gradient checkpointing (about 1/3 more compute)"
    # below even the checkpointed step: micro-batch 1 cannot shrink, QLoRA and ZeRO-3 can
    whats = [w for w, _ in le.candidate_changes(TINY, run, card(1_022_000_000))]
    # full(1, ckpt) = 1,024,182,400 B > 1.022e9; at sequence 512 the per-sequence bytes halve:
    # 1e9 + 4,521,600 + 19,660,800 / 2 = 1,014,352,000 B fits
    assert whats == ["QLoRA (4-bit NF4 base, LoRA adapters, checkpointing)",
                     "sequence 512 at micro-batch 1 with checkpointing (longer samples cut or split)",
                     "2 GPUs of this size with ZeRO-3/FSDP"]


@pytest.mark.parametrize(("budget", "line"), [
    (1_015_000_000, "QLoRA at micro-batch 1, sequence 512"),
    (1_008_000_000, "QLoRA at micro-batch 1, sequence 256"),
    (1_005_000_000, None),                            # 256 tokens is the shortest tried
])
def test_qlora_halves_the_sequence_down_to_256(budget, line):
    run = LlmRun(method="full", seq_len=1024, grad_checkpointing=True)
    assert qlora(256) < 1_008_000_000 < qlora(512) < 1_015_000_000 < qlora(1024)
    whats = [w for w, _ in le.candidate_changes(TINY, run, card(budget))]
    assert [w for w in whats if w.startswith("QLoRA")] == ([line] if line else [])


QLORA_SEQ = "at micro-batch 1 with checkpointing (longer samples cut or split)"


@pytest.mark.parametrize(("budget", "line"), [
    (qlora(1024) + 1e3, None),                         # fits as it is: nothing to shorten
    (qlora(1024) - 1e3, f"sequence 512 {QLORA_SEQ}"),  # just past: half the sequence fits
    (qlora(512) - 1e3, f"sequence 256 {QLORA_SEQ}"),
    (qlora(256) - 1e3, None),                          # 256 tokens is the shortest offered
])
def test_a_qlora_run_is_offered_a_shorter_sequence(budget, line):
    run = LlmRun(method="qlora", seq_len=1024, micro_batch=2, grad_accum=4)
    base = LlmRun(method="qlora", seq_len=1024, micro_batch=1, grad_accum=8)
    assert llm_memory(TINY, base).total_gb == pytest.approx(qlora(1024) / 1e9)
    got = dict(le.candidate_changes(TINY, run, card(budget)))
    seqs = [w for w in got if w.startswith("sequence")]
    assert seqs == ([line] if line else [])
    if line:
        r = got[line]
        assert (r.method, r.micro_batch, r.grad_accum, r.checkpointing) == ("qlora", 1, 8, True)
        assert r.seq_len == int(line.split()[1])


def test_recommend_never_shortens_the_sequence_itself():
    run = LlmRun(method="qlora", seq_len=1024)
    vram = card(qlora(1024) - 1e3)
    assert any(w.startswith("sequence") for w, _ in le.candidate_changes(TINY, run, vram))
    assert le.adapt(TINY, run, vram) is None


def test_lora_run_can_switch_to_qlora_and_full_cannot_shrink_past_it():
    lora = LlmRun(method="lora", seq_len=1024)
    whats = [w for w, _ in le.candidate_changes(TINY, lora, card(qlora(1024) + 1e5))]
    assert "QLoRA (4-bit NF4 base, LoRA adapters, checkpointing)" in whats
    already = LlmRun(method="qlora", seq_len=1024)
    assert not any(w.startswith("QLoRA") for w, _ in le.candidate_changes(TINY, already, 1.0))


def test_inference_candidates():
    budget = (infer(10) + infer(11)) / 2
    got = le.candidate_changes(TINY, replace(INFER, micro_batch=16), card(budget))
    assert [w for w, _ in got] == ["10 concurrent streams instead of 16"]
    assert got[0][1].micro_batch == 10 and got[0][1].grad_accum == 1


def test_inference_four_bit_and_tensor_parallel():
    q4 = 251_200 * 4.84 / 8
    budget = (infer(1, q4) + infer(1)) / 2
    got = dict(le.candidate_changes(TINY, INFER, card(budget)))
    assert list(got) == ["4-bit weights (GGUF Q4_K_M; GPTQ/AWQ 4-bit are similar)",
                         "2 GPUs of this size with tensor parallel"]
    assert got["4-bit weights (GGUF Q4_K_M; GPTQ/AWQ 4-bit are similar)"].weight_format == "q4_k_m"
    tp = got["2 GPUs of this size with tensor parallel"]
    assert (tp.n_gpus, tp.strategy, tp.micro_batch) == (2, "tp", 1)
    # a base already at 4 bits is not offered 4-bit weights
    for fmt in ("q4_0", "q4_k_m", "nf4"):
        whats = [w for w, _ in le.candidate_changes(TINY, replace(INFER, weights=fmt), card(budget))]
        assert not any(w.startswith("4-bit") for w in whats)
    for fmt in ("fp32", "fp16", "fp8", "int8", "q8_0", "q6_k", "q5_k_m"):
        assert any(w.startswith("4-bit") for w, _ in
                   le.candidate_changes(TINY, replace(INFER, weights=fmt), 100.0))


def test_more_gpus_skips_counts_already_used():
    budget = (infer(1, INFER_W / 2) + infer(1)) / 2
    run = replace(INFER, n_gpus=2, parallel="tp")
    whats = [w for w, _ in le.candidate_changes(TINY, run, card(budget + 1e6))]
    assert not any(w.startswith("2 GPUs") for w in whats)
    assert any(w.startswith("4 GPUs") for w in whats)


def test_lora_more_gpus_is_data_parallel():
    lora = LlmRun(method="lora", seq_len=1024, micro_batch=2)
    got = le.candidate_changes(TINY, lora, 2.0)          # fits already: everything is offered
    gpus = [(w, r) for w, r in got if "GPUs" in w]
    assert gpus[0][0] == "2 GPUs of this size with data parallel"
    assert gpus[0][1].strategy == "ddp"


# ---- what_would_fit, adapt ------------------------------------------------------------------------

def test_what_would_fit_lines_and_smallest_card():
    budget = (infer(10) + infer(11)) / 2
    lines = le.what_would_fit(TINY, replace(INFER, micro_batch=16), card(budget))
    assert lines == ("10 concurrent streams instead of 16: 1.0 GB per GPU", "a card with 8 GB")
    huge = le.what_would_fit(TINY, replace(INFER, micro_batch=100_000), 8.0)
    need = infer(100_000) / 0.95 / 1e9
    assert huge[-1] == f"{need:,.0f} GB on one card: no single GPU has it"
    assert huge[-1] == "327 GB on one card: no single GPU has it"


@pytest.mark.parametrize("card_gb", [8, 12, 16, 24, 32, 48, 80, 96, 141, 192])
def test_smallest_common_card(card_gb):
    # the most streams whose need (total / 0.95) is still at most card_gb: within one stream
    # (3.3 MB) of it, so the card named is card_gb itself
    mb = int((card_gb * 0.95e9 - CTX - INFER_W) // INFER_STREAM)
    need = infer(mb) / 0.95 / 1e9
    assert card_gb - 0.01 < need <= card_gb
    assert le.what_would_fit(TINY, replace(INFER, micro_batch=mb), 1.0)[-1] == (
        f"a card with {card_gb} GB")
    over = le.what_would_fit(TINY, replace(INFER, micro_batch=mb + 1), 1.0)[-1]
    assert over != f"a card with {card_gb} GB"


def test_up_to_64_gpus_suggested():
    # tensor parallel over 64: weights 502,400 / 64, KV 262,144 / 2 (2 KV heads), MLP
    # workspace 786,432 / 64, logits 2,048,000; over 32 it is 15,700 + 131,072 + 24,576 + 2,048,000
    at64 = CTX + 7_850 + 131_072 + 12_288 + 2_048_000
    at32 = CTX + 15_700 + 131_072 + 24_576 + 2_048_000
    run = replace(INFER, n_gpus=32)
    whats = [w for w, _ in le.candidate_changes(TINY, run, card((at64 + at32) / 2)) if "GPUs" in w]
    assert whats == ["64 GPUs of this size with tensor parallel"]
    assert not any("GPUs" in w for w, _ in le.candidate_changes(
        TINY, replace(INFER, n_gpus=64), card((at64 + at32) / 2)))


def test_adapt_picks_the_first_allowed_change_on_the_same_gpu_count():
    budget = (full(2) + full(3)) / 2
    vram = card(budget)
    r, why = le.adapt(TINY, FULL4, vram)
    assert (r.micro_batch, r.grad_accum) == (2, 4) and why[0].startswith("micro-batch 2")
    r, why = le.adapt(TINY, FULL4, vram, ("checkpointing",))
    assert why == ("gradient checkpointing with micro-batch 1 and gradient accumulation 8",)
    r, why = le.adapt(TINY, FULL4, vram, ("qlora",))
    assert why == ("QLoRA at micro-batch 1",) and r.method == "qlora"
    assert le.adapt(TINY, FULL4, vram, ("quantize",)) is None
    assert le.adapt(TINY, FULL4, vram, ()) is None
    assert le.adapt(TINY, FULL4, 100.0) == (FULL4, ())


def test_adapt_inference_streams_and_quantize():
    budget = (infer(10) + infer(11)) / 2
    r, why = le.adapt(TINY, replace(INFER, micro_batch=16), card(budget))
    assert why == ("10 concurrent streams instead of 16",) and r.micro_batch == 10
    q4 = 251_200 * 4.84 / 8
    r, why = le.adapt(TINY, INFER, card((infer(1, q4) + infer(1)) / 2), ("quantize",))
    assert r.weight_format == "q4_k_m"
    # tensor parallel would fit too, but adapt never changes the GPU count
    assert le.adapt(TINY, INFER, card((infer(1, q4) + infer(1)) / 2), ("micro_batch",)) is None


# ---- estimate and recipe_on_gpu -------------------------------------------------------------------

def test_estimate_fits_and_suggestions():
    g = gpu("g", vram_gb=card(infer(1) + 1000))
    e = le.estimate(TINY, INFER, g)
    assert e.fits is True and e.suggestions == ()
    assert e.memory == llm_memory(TINY, INFER)
    assert e.speed == llm_speed(TINY, INFER, g)
    small = gpu("s", vram_gb=card(infer(1) - 1000))
    e = le.estimate(TINY, INFER, small)
    assert e.fits is False
    assert e.suggestions == le.what_would_fit(TINY, INFER, small.vram_gb)
    assert (e.model, e.run, e.gpu) == (TINY, INFER, small)
    tp = replace(INFER, n_gpus=2)
    assert le.estimate(TINY, tp, g, nvlink=True).speed == llm_speed(TINY, tp, g, nvlink=True)
    assert le.estimate(TINY, tp, g).speed == llm_speed(TINY, tp, g, nvlink=False)
    assert le.estimate(TINY, tp, g).speed != llm_speed(TINY, tp, g, nvlink=True)
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.fits = True  # type: ignore[misc]


def test_recipe_on_gpu():
    budget = (full(2) + full(3)) / 2
    g = gpu("g", vram_gb=card(budget))
    fit = le.recipe_on_gpu(TINY, FULL4, ("micro_batch",), g)
    assert fit.fits and fit.changes[0].startswith("micro-batch 2")
    assert fit.run.micro_batch == 2 and fit.unit == "training tokens/s"
    assert fit.memory_gb == pytest.approx(full(2) / 1e9)
    assert fit.speed == llm_speed(TINY, fit.run, g).tokens_per_s
    no = le.recipe_on_gpu(TINY, FULL4, (), g)
    assert (no.fits, no.run, no.changes, no.speed, no.unit) == (False, FULL4, (), 0.0, "tokens/s")
    assert no.memory_gb == pytest.approx(full(4) / 1e9)
    inf = le.recipe_on_gpu(TINY, INFER, (), gpu("big", vram_gb=80))
    assert inf.fits and inf.unit == "decode tokens/s" and inf.changes == ()
    assert inf.speed == llm_speed(TINY, INFER, gpu("big", vram_gb=80)).decode_tokens_per_s


def test_micro_batch_two_down_to_one():
    run = replace(FULL4, micro_batch=2, grad_accum=3)
    got = le.candidate_changes(TINY, run, card((full(1) + full(2)) / 2))
    assert got[0][0] == "micro-batch 1 with gradient accumulation 6 (same global batch)"
    inf = le.candidate_changes(TINY, replace(INFER, micro_batch=2), card((infer(1) + infer(2)) / 2))
    assert inf[0][0] == "1 concurrent streams instead of 2"


def test_micro_batch_one_is_never_offered_micro_batch_one():
    run = replace(FULL4, micro_batch=1, grad_accum=1)
    assert not any(w.startswith("micro-batch") for w, _ in le.candidate_changes(TINY, run, 100.0))
    assert not any("concurrent" in w for w, _ in le.candidate_changes(TINY, INFER, 100.0))


def test_checkpointing_lines_only_when_they_fit_and_are_new():
    run = replace(FULL4, micro_batch=2, grad_accum=3)
    # 1.025e9: checkpointing fits at micro-batch 1 (1.0242e9) only; no checkpointing never fits
    whats = [w for w, _ in le.candidate_changes(TINY, run, card(1_025_000_000))]
    assert whats[0] == "gradient checkpointing with micro-batch 1 and gradient accumulation 6"
    # 1.022e9: not even checkpointing at micro-batch 1 fits
    whats = [w for w, _ in le.candidate_changes(TINY, FULL4, card(1_022_000_000))]
    assert not any(w.startswith("gradient") for w in whats)
    # a run already checkpointing is not offered checkpointing
    ckpt = replace(FULL4, grad_checkpointing=True)
    assert not any(w.startswith("gradient") for w, _ in le.candidate_changes(TINY, ckpt, 100.0))


# tensor parallel over n at one stream: weights 502,400 / n + KV 131,072 (2 KV heads) + MLP
# workspace 786,432 / n + logits 2,048,000
def tp_total(n: int) -> float:
    return CTX + 502_400 / n + 131_072 + 786_432 / n + 2_048_000


@pytest.mark.parametrize(("prev", "n"), [(2, 4), (4, 8), (8, 16), (16, 32), (32, 64)])
def test_fewest_gpus_that_fit(prev, n):
    budget = (tp_total(n) + tp_total(prev)) / 2
    whats = [w for w, _ in le.candidate_changes(TINY, INFER, card(budget))
             if "GPUs" in w]
    assert whats == [f"{n} GPUs of this size with tensor parallel"]


def test_inference_on_more_gpus_is_tensor_parallel_even_from_ddp():
    run = replace(INFER, parallel="ddp")
    (r,) = [r for w, r in le.candidate_changes(TINY, run, card(tp_total(2) + 1000)) if "GPUs" in w]
    assert (r.n_gpus, r.parallel) == (2, "tp")


def test_recipe_fit_is_frozen():
    import dataclasses
    fit = le.recipe_on_gpu(TINY, INFER, (), gpu("big", vram_gb=80))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.fits = False  # type: ignore[misc]

"""Inference memory options: --kv-bits, and what "what would fit" offers for a long context
(8-bit KV cache, then halving the context down to 2,048 tokens).

Tiny config of tests/test_llm_estimate_values.py: bf16 weights 2 x 251,200 = 502,400 B; the KV
cache is 2 (K, V) x 2 KV heads x 16 dims x 2 layers = 128 elements per token, 256 B at 16 bits;
the prefill workspace is 512 tokens x (2 x 256 + 4 x 64) x 2 B + 512 x 1,000 x 4 B fp32 logits
= 2,834,432 B. Every GPU figure adds the 1 GB context allowance; a card holds 95% of itself."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rigcheck.perfmodel import llm_estimate as le
from rigcheck.perfmodel.llm_memory import LlmRun, LlmRunError, llm_memory
from rigcheck.ui.app import app
from tests.test_llm_estimate_values import TINY

KV8 = "8-bit KV cache (llama.cpp -ctk q8_0 -ctv q8_0; vLLM --kv-cache-dtype fp8)"


def infer_bytes(ctx: int, kv_bits: int = 16) -> float:
    return 1e9 + 502_400 + ctx * 128 * kv_bits / 8 + 2_834_432


def card(total_bytes: float) -> float:
    return total_bytes / 0.95 / 1e9


@pytest.mark.parametrize("kv_bits", [16, 8, 4])
def test_kv_bits_scale_the_cache(kv_bits):
    run = LlmRun(method="infer", seq_len=8192, kv_bits=kv_bits)
    m = llm_memory(TINY, run)
    assert m.kv_cache_gb == pytest.approx(8192 * 128 * kv_bits / 8 / 1e9)
    assert m.total_gb == pytest.approx(infer_bytes(8192, kv_bits) / 1e9)


@pytest.mark.parametrize("kv_bits", [0, 3, 32])
def test_other_kv_widths_are_refused(kv_bits):
    with pytest.raises(LlmRunError, match=f"--kv-bits {kv_bits}: use one of 16, 8, 4"):
        llm_memory(TINY, LlmRun(method="infer", seq_len=1024, kv_bits=kv_bits))


def test_just_inside_the_8_bit_cache():
    run = LlmRun(method="infer", seq_len=8192)
    got = dict(le.candidate_changes(TINY, run, card(infer_bytes(8192, 8) + 1000)))
    # 8,192 tokens at 8 bits and 4,096 at 16 bits are the same bytes: both fit
    assert [w for w in got if "KV" in w or w.startswith("context")] == [
        KV8, "context 4,096 tokens per stream"]
    assert got[KV8].kv_bits == 8 and got[KV8].seq_len == 8192
    r = got["context 4,096 tokens per stream"]
    assert (r.context, r.seq_len, r.kv_bits) == (4096, 4096, 16)


def test_just_past_the_8_bit_cache_the_context_halves_again():
    run = LlmRun(method="infer", seq_len=8192)
    got = [w for w, _ in le.candidate_changes(TINY, run, card(infer_bytes(8192, 8) - 1000))]
    assert KV8 not in got
    assert "context 2,048 tokens per stream" in got and "context 4,096 tokens per stream" not in got


def test_2048_tokens_is_the_shortest_context_offered():
    run = LlmRun(method="infer", seq_len=4096)
    got = [w for w, _ in le.candidate_changes(TINY, run, card(infer_bytes(2048) - 1000))]
    assert not any(w.startswith("context") for w in got)


def test_an_8_bit_run_is_not_offered_8_bits_again_and_recommend_takes_neither():
    run = LlmRun(method="infer", seq_len=8192, kv_bits=8)
    vram = card(infer_bytes(8192, 8) - 1000)
    assert KV8 not in [w for w, _ in le.candidate_changes(TINY, run, vram)]
    assert le.adapt(TINY, LlmRun(method="infer", seq_len=8192), card(infer_bytes(8192, 8) + 1000),
                    ("micro_batch", "checkpointing", "qlora")) is None


def test_cli_kv_bits():
    res = CliRunner().invoke(app, ["estimate", "--model", "llama-3.1-8b", "--method", "infer",
                                   "--gpu", "4090", "--kv-bits", "8", "--json"])
    assert res.exit_code == 0, res.output
    assert '"kv_bits": 8' in res.output
    bad = CliRunner().invoke(app, ["estimate", "--model", "llama-3.1-8b", "--method", "infer",
                                   "--gpu", "4090", "--kv-bits", "5"])
    assert bad.exit_code == 2 and "--kv-bits 5: use one of 16, 8, 4" in bad.output


def _kv_or_context(run: LlmRun, vram_gb: float) -> list[str]:
    return [w for w, _ in le.candidate_changes(TINY, run, vram_gb) if "KV" in w or w.startswith("context")]


def test_a_run_that_fits_is_not_offered_a_shorter_context():
    run = LlmRun(method="infer", seq_len=8192)
    assert _kv_or_context(run, card(infer_bytes(8192) + 1000)) == [KV8]   # 8 bits: still offered


@pytest.mark.parametrize("kv_bits", [8, 4])
def test_a_cache_already_at_8_bits_or_fewer_is_not_offered_8_bits(kv_bits):
    run = LlmRun(method="infer", seq_len=8192, kv_bits=kv_bits)
    assert _kv_or_context(run, card(infer_bytes(8192, 16) + 1000)) == []


def test_training_runs_get_neither_inference_option():
    run = LlmRun(method="full", seq_len=8192)
    assert not llm_memory(TINY, run).fits(1.0)
    assert _kv_or_context(run, 1.0) == []                     # does not fit
    assert _kv_or_context(run, 100.0) == []                   # fits
    # a card a 2,048-token step fits (1e9 + 4,521,600 + 2 x 22,413,312 = 1.049 GB) and the
    # 8,192-token one does not: still no "context" line (training is offered "sequence N")
    assert not llm_memory(TINY, run).fits(card(1.06e9))
    assert llm_memory(TINY, LlmRun(method="full", seq_len=2048)).fits(card(1.06e9))
    assert _kv_or_context(run, card(1.06e9)) == []


def test_the_context_halves_from_the_context_not_the_prompt():
    # 512-token prompts, 8,192 tokens held per stream: just past it, 4,096 per stream fits
    run = LlmRun(method="infer", seq_len=512, context=8192)
    need = llm_memory(TINY, run).total_gb * 1e9
    half = llm_memory(TINY, LlmRun(method="infer", seq_len=512, context=4096)).total_gb * 1e9
    assert need - half == pytest.approx(4096 * 256)
    got = dict(le.candidate_changes(TINY, run, card(need - 1000)))
    r = got["context 4,096 tokens per stream"]
    assert (r.context, r.seq_len) == (4096, 512)

"""LoRA / QLoRA under ZeRO-3 / FSDP: the frozen base is sharded too (FSDP + QLoRA, Answer.AI
2024-03-06), and "what would fit" offers it when data parallel alone would not fit.

The tiny config is tests/test_llm_estimate_values.py's: 251,200 parameters, 123,136 of them in the
decoder's linear layers. Bytes by hand:
  NF4 decoder   123,136 x 4.127 bits / 8                  =    63,520.62...  (4 + 8/64 + 32/16384)
  fp32 rest     (251,200 - 123,136) x 4                   =   512,256
  LoRA r16      45,056 params x (4 weight + 4 grad + 8 AdamW)  = 720,896
  dequant       2 x 64 x 256 (one 64 x 256 matrix in 16-bit) =  32,768
  per token     3,200 activations (checkpointed) + 16,000 logits
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from rigcheck.perfmodel import llm_estimate as le
from rigcheck.perfmodel.llm_configs import ModelConfig
from rigcheck.perfmodel.llm_memory import LlmRun, llm_memory

TINY = ModelConfig(id="tiny", name="Tiny", source="test", model_type="llama", hidden_size=64,
                   intermediate_size=256, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16,
                   vocab_size=1000, tied_embeddings=False, max_positions=1 << 20)
NF4_BASE = 123_136 * (4 + 8 / 64 + 32 / 16384) / 8 + (251_200 - 123_136) * 4
LORA_PARAMS = 45_056
SEQ = 1024
PER_SEQ = SEQ * (3_200 + 16_000)
QLORA = LlmRun(method="qlora", seq_len=SEQ)


def total(base_share: float, lora_bytes_per_param: float) -> float:
    return (1e9 + NF4_BASE * base_share + LORA_PARAMS * lora_bytes_per_param + 32_768 + PER_SEQ) / 1e9


@pytest.mark.parametrize(("parallel", "n", "base_share", "lora_bytes"), [
    ("ddp", 1, 1.0, 16.0),
    ("ddp", 4, 1.0, 16.0),           # data parallel: every GPU holds everything
    ("zero1", 4, 1.0, 4 + 4 + 2),    # optimizer state sharded
    ("zero2", 4, 1.0, 4 + 1 + 2),    # + gradients
    ("zero3", 4, 0.25, 1 + 1 + 2),   # + weights, the frozen base included
    ("fsdp", 2, 0.5, 2 + 2 + 4),
])
def test_lora_memory_per_gpu_by_strategy(parallel, n, base_share, lora_bytes):
    m = llm_memory(TINY, replace(QLORA, n_gpus=n, parallel=parallel))
    assert m.total_gb == pytest.approx(total(base_share, lora_bytes))
    assert m.weights_gb == pytest.approx(NF4_BASE * base_share / 1e9)


def test_a_lora_run_that_ddp_cannot_fit_is_offered_fsdp():
    run = replace(QLORA, n_gpus=1)
    ddp_any = total(1.0, 16.0)                  # what data parallel needs on any number of GPUs
    fsdp2 = total(0.5, 8.0)
    vram = (fsdp2 + 0.0005) / 0.95               # just inside FSDP over 2, just past one GPU
    assert fsdp2 < vram * 0.95 < ddp_any
    got = dict(le.candidate_changes(TINY, run, vram))
    gpus = [w for w in got if "GPUs" in w]
    assert gpus == ["2 GPUs of this size with ZeRO-3/FSDP"]
    r = got[gpus[0]]
    assert (r.n_gpus, r.strategy, r.method, r.micro_batch) == (2, "fsdp", "qlora", 1)


def test_a_lora_run_that_fits_with_ddp_keeps_data_parallel():
    run = replace(QLORA, n_gpus=1)
    got = dict(le.candidate_changes(TINY, run, (total(1.0, 16.0) + 0.001) / 0.95))
    r = got["2 GPUs of this size with data parallel"]
    assert r.strategy == "ddp"

"""CPU offload's speed cost (perfmodel.llm_speed.offload_cost) by value, worked out by hand.

The model (its docstring): each GPU owns P/shard parameters on the host (shard = GPUs under
ZeRO/FSDP, 1 under DDP). Per micro-batch its 16-bit gradients (2 bytes; 4 for fp32) go down
PCIe during backward, and only what outlasts backward ((passes - 1)/passes of the micro-batch's
compute) shows. Per optimizer step: Adam over P/shard on the host at 11.6e9 / 8.2 parameters/s
(DeepSpeed PR #735: 11.6 B parameters in 8.2 s), then the 16-bit weights go back up. PCIe x16
at 10 / 20 / 40 / 80 GB/s for gen 3 / 4 / 5 / 6 (scaling.PCIE_BUSBW_GBS), unknown gen = 3.

TINY (Llama layout, as in test_llm_speed_values): 251,200 parameters; forward 374,272 + 256 S
FLOPs per token. ada(): 80 TFLOP/s bf16 tensor, PCIe gen 4.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rigcheck.perfmodel import llm_speed as ls
from rigcheck.perfmodel.llm_configs import ModelConfig
from rigcheck.perfmodel.llm_memory import LlmRun
from rigcheck.ui.app import app
from tests.parts_factory import gpu

TINY = ModelConfig(id="tiny", name="Tiny", source="test", model_type="llama", hidden_size=64,
                   intermediate_size=256, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16,
                   vocab_size=1000, tied_embeddings=False, max_positions=1 << 20)
P = 251_200
ADAM_S = P * 8.2 / 11.6e9                      # 1.7757e-4 s for all of TINY on the host
PRM = {"mfu": {"full": 0.5, "pretrain": 0.5, "lora": 0.25, "qlora": 0.2}, "prefill_eff": 0.5,
       "bw_eff": 0.8, "per_layer_overhead_s": 1e-5, "quant_prefill_factor": 0.5,
       "ddp_scaling": 0.9, "architectures": ["Ada Lovelace"]}


def full(**kw) -> LlmRun:
    kw.setdefault("grad_checkpointing", False)
    return LlmRun(method="full", seq_len=1024, cpu_offload=True, **kw)


def test_cpu_adam_rate_is_deepspeeds_quote():
    assert ls.CPU_ADAM_PARAMS_PER_S == pytest.approx(1.4146e9, rel=1e-4)   # 11.6e9 / 8.2


def test_gradients_hidden_behind_backward_leave_the_upload_and_adam():
    # gen 4: 20 GB/s. Gradients down 2 x 251,200 B / 20e9 = 2.512e-5 s; the backward of a
    # 1e-4 s micro-batch is 2/3 of it, 6.67e-5 s: hidden. Left: weights up 2.512e-5 s + Adam.
    c = ls.offload_cost(TINY, full(), gpu("ada"), 1e-4)
    assert c.pcie_gbs == 20.0
    assert c.pcie_s == pytest.approx(2.512e-5)
    assert c.cpu_step_s == pytest.approx(ADAM_S)
    assert c.total_s == pytest.approx(2.512e-5 + ADAM_S)
    assert c.bytes_per_step == 2 * 2 * P                       # down once, up once


@pytest.mark.parametrize(("compute_s", "exposed_down"), [
    # gen 3 (10 GB/s): gradients take 5.024e-5 s; backward = 2/3 of the micro-batch's compute.
    # The boundary is compute = 1.5 x 5.024e-5 = 7.536e-5 s.
    (7.60e-5, 0.0),                        # just inside: backward 5.0667e-5 covers it
    (7.40e-5, 5.024e-5 - 7.40e-5 * 2 / 3),  # just past: 1.573e-6 s shows
    (3.0e-5, 5.024e-5 - 2.0e-5),           # well past: 3.024e-5 s shows
])
def test_gradient_download_shows_where_it_outlasts_backward(compute_s, exposed_down):
    c = ls.offload_cost(TINY, full(), gpu("ada", pcie_gen=3), compute_s)
    assert c.pcie_gbs == 10.0
    assert c.pcie_s == pytest.approx(exposed_down + 5.024e-5)


def test_each_micro_batch_sends_its_gradients():
    # accumulation 2 over a 6e-5 s step: each micro-batch 3e-5 s, backward 2e-5 s; at 10 GB/s
    # each exposes 5.024e-5 - 2e-5 = 3.024e-5 s, twice; weights up once 5.024e-5 s.
    c = ls.offload_cost(TINY, full(grad_accum=2), gpu("ada", pcie_gen=3), 6e-5)
    assert c.pcie_s == pytest.approx(2 * 3.024e-5 + 5.024e-5)
    assert c.bytes_per_step == 3 * 2 * P
    # checkpointing: 4 passes, backward 3/4 of 3e-5 = 2.25e-5 s -> 2.774e-5 s each
    ck = ls.offload_cost(TINY, full(grad_accum=2, grad_checkpointing=True),
                         gpu("ada", pcie_gen=3), 6e-5)
    assert ck.pcie_s == pytest.approx(2 * 2.774e-5 + 5.024e-5)


@pytest.mark.parametrize(("gen", "gbs"), [(0, 10.0), (2, 10.0), (3, 10.0), (4, 20.0), (5, 40.0),
                                         (6, 80.0), (7, 80.0)])
def test_pcie_generation(gen, gbs):
    c = ls.offload_cost(TINY, full(), gpu("ada", pcie_gen=gen), 1.0)   # 1 s: all hidden
    assert c.pcie_gbs == gbs
    assert c.pcie_s == pytest.approx(2 * P / (gbs * 1e9))


def test_sharding_and_fp32():
    g = gpu("ada")
    # ZeRO-3 / FSDP over 4 GPUs: each owns 62,800 parameters
    z = ls.offload_cost(TINY, full(n_gpus=4, parallel="zero3"), g, 1.0)
    assert z.cpu_step_s == pytest.approx(62_800 * 8.2 / 11.6e9)
    assert z.pcie_s == pytest.approx(2 * 62_800 / 20e9)
    for strat in ("zero1", "zero2", "fsdp"):
        s = ls.offload_cost(TINY, full(n_gpus=4, parallel=strat), g, 1.0)
        assert s.cpu_step_s == pytest.approx(z.cpu_step_s)
    # DDP does not shard the optimizer (as the memory model): every rank owns all of it
    d = ls.offload_cost(TINY, full(n_gpus=4, parallel="ddp"), g, 1.0)
    assert d.cpu_step_s == pytest.approx(ADAM_S)
    # fp32 weights: 4-byte gradients and weights
    f = ls.offload_cost(TINY, full(weights="fp32"), g, 1.0)
    assert f.pcie_s == pytest.approx(4 * P / 20e9) and f.bytes_per_step == 2 * 4 * P


def test_no_cost_without_offload_or_for_adapters():
    g = gpu("ada")
    assert ls.offload_cost(TINY, LlmRun(method="full", seq_len=1024), g, 1e-4).total_s == 0.0
    for method in ("lora", "qlora"):
        run = LlmRun(method=method, seq_len=1024, cpu_offload=True)
        assert ls.offload_cost(TINY, run, g, 1e-4) == ls.OffloadCost()
        s = ls.train_speed(TINY, run, g, PRM)
        assert s.offload is None
        plain = ls.train_speed(TINY, LlmRun(method=method, seq_len=1024), g, PRM)
        assert s.tokens_per_s == plain.tokens_per_s


# Nobody measured an Ada card's best matmul: the speed model holds it to the median of the NVIDIA
# measurements in mamf.csv, H100 SXM's 794.5 of 989 TFLOPS.
MAMF = 794.5 / 989


def test_train_speed_adds_the_offload_time_to_each_step():
    # compute: 3 x (374,272 + 256 x 1024) = 1,909,248 FLOPs a token at 0.5 x 80e12 x 0.80334
    # = 5.9416e-8 s; 1,024 tokens = 6.0842e-5 s. Its backward 4.0561e-5 s hides the 2.512e-5 s
    # of gradients; left 2.512e-5 s of upload + 1.7757e-4 s of Adam.
    compute = 1024 * 1_909_248 / (40e12 * MAMF)
    s = ls.train_speed(TINY, full(), gpu("ada"), PRM)
    assert s.tokens_per_s == pytest.approx(1024 / (compute + 2.512e-5 + ADAM_S))
    assert s.step_s == pytest.approx(compute + 2.512e-5 + ADAM_S)
    assert s.bound == "CPU offload"                       # 2.03e-4 s of offload > 6.1e-5 compute
    assert s.offload is not None and s.offload.cpu_step_s == pytest.approx(ADAM_S)
    # micro-batch 16: compute 9.73e-4 s outweighs the same 2.03e-4 s of offload
    s16 = ls.train_speed(TINY, full(micro_batch=16), gpu("ada"), PRM)
    assert s16.tokens_per_s == pytest.approx(16 * 1024 / (16 * compute + 2.512e-5 + ADAM_S))
    assert s16.bound == "compute"
    # without offload the formula is the plain one
    plain = ls.train_speed(TINY, LlmRun(method="full", seq_len=1024), gpu("ada"), PRM)
    assert plain.tokens_per_s == pytest.approx(1024 / compute) and plain.offload is None


def test_estimate_shows_the_offload_term():
    runner = CliRunner()
    args = ["estimate", "--gpu", "4090", "--model", "llama-3.2-1b", "--method", "full",
            "--cpu-offload", "--no-refine"]
    res = runner.invoke(app, [*args, "--json"])
    d = json.loads(res.stdout)
    o = d["offload"]
    p = d["model"]["params"]
    assert o["cpu_optimizer_s"] == pytest.approx(p * 8.2 / 11.6e9, abs=1e-3)
    assert o["pcie_gbs"] == 20.0 and o["calibrated"] is False          # 4090: PCIe 4.0 x16
    assert o["pcie_gb_per_step"] == pytest.approx(2 * 2 * p / 1e9, abs=1e-3)
    assert o["total_s"] == pytest.approx(o["cpu_optimizer_s"] + o["pcie_s"], abs=2e-3)
    text = runner.invoke(app, args).stdout
    assert "offload" in text and "Adam on the host" in text and "uncalibrated" in text
    plain = json.loads(runner.invoke(app, [*args[:-2], "--no-refine", "--json"]).stdout)
    assert "offload" not in plain


def test_offload_cost_is_zero_by_default_and_frozen():
    import dataclasses
    empty = ls.OffloadCost()
    assert (empty.pcie_s, empty.cpu_step_s, empty.pcie_gbs, empty.bytes_per_step) == (0.0, 0.0, 0.0, 0.0)
    assert empty.total_s == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        empty.pcie_s = 1.0  # type: ignore[misc]


def test_train_speed_with_accumulation_counts_every_micro_batch():
    # accumulation 2: 2,048 tokens a step, compute 2 x 6.0842e-5 s; each micro-batch hides its
    # own gradients (backward 4.0561e-5 s > 2.512e-5 s); one upload 2.512e-5 s and one Adam.
    compute = 1024 * 1_909_248 / (40e12 * MAMF)
    s = ls.train_speed(TINY, full(grad_accum=2), gpu("ada"), PRM)
    assert s.tokens_per_s == pytest.approx(2048 / (2 * compute + 2.512e-5 + ADAM_S))
    assert s.offload is not None and s.offload.bytes_per_step == 3 * 2 * P

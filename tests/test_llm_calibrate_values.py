"""perfmodel.llm_calibrate by value on small hand-made rows (never the bundled CSV rows or the
fitted llm_params.json, which the LLM helper re-fits): which rows are left out and why, how the
two CSV layouts become runs, what a row's prediction is, what the fit finds (planted values,
range ends, the LoRA/QLoRA fallbacks), the held-out folds and the error summary.

TINY (Llama layout, as in test_llm_speed_values.py): hidden 64, MLP 256, 2 layers, 4 heads of
16, 2 KV heads, vocab 1000, untied: 251,200 parameters; a forward pass is 374,272 + 256 x S
FLOPs a token. ``find_model`` is pointed at it (the subject here is the calibration, not the
bundled configs). The GPU is tests.parts_factory's: 80 TFLOPS dense bf16/fp16 (fp32
accumulate; inference at its fp16-accumulate 160), 500 GB/s.
"""

from __future__ import annotations

import copy
import csv
from dataclasses import replace
from pathlib import Path

import pytest

from rigcheck.perfmodel import llm_calibrate as lc
from rigcheck.perfmodel.llm_configs import ModelConfig
from rigcheck.perfmodel.llm_memory import DEFAULT_LORA_TARGETS, LlmRun, llm_memory
from rigcheck.perfmodel.llm_speed import DEFAULTS
from tests.parts_factory import gpu

TINY = ModelConfig(id="tiny", name="Tiny", source="test", model_type="llama", hidden_size=64,
                   intermediate_size=256, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16,
                   vocab_size=1000, tied_embeddings=False, max_positions=1 << 20)
BF16_WEIGHT_BYTES = 2 * 251_200            # 502,400
Q4_0_WEIGHT_BYTES = 251_200 * 4.5 / 8      # 141,300 (Q4_0: 18 bytes per 32 weights)
PRM = {"mfu": {"full": 0.5, "pretrain": 0.4, "lora": 0.25, "qlora": 0.2}, "prefill_eff": 0.5,
       "bw_eff": 0.8, "per_layer_overhead_s": 1e-5, "quant_prefill_factor": 0.5,
       "ddp_scaling": 0.9, "prefill_eff_no_tensor": 0.45, "train_nonmatmul_bytes": 0.0}


def fwd(ctx: int) -> float:
    return 374_272 + 256 * ctx


@pytest.fixture(autouse=True)
def tiny_model(monkeypatch):
    monkeypatch.setattr(lc, "find_model", {"tiny": TINY}.__getitem__)


def ada(**kw):
    return gpu("ada", **kw)


# Nobody measured an Ada card's best matmul: the speed model holds it to the median of the NVIDIA
# measurements in mamf.csv, H100 SXM's 794.5 of 989 TFLOPS, so a fitted mfu is a fraction of that.
MAMF = 794.5 / 989


def pascal(**kw):
    return gpu("p40", architecture="Pascal", compute_capability="6.1", tensor_fp16_tflops=None,
               tensor_bf16_tflops=None, tensor_tf32_tflops=None, **kw)


def row(metric: str, value: float, run: LlmRun, *, source: str = "o/a", gpu_name: str = "ADA",
        framework: str = "", quote: str = "", rid: str = "r") -> lc.Row:
    raw = {"framework": framework, "quote": quote}
    return lc.Row(rid, source, gpu_name, run.n_gpus, "tiny", run, metric, value, raw)


INFER = LlmRun(method="infer", weights="bf16", seq_len=512, context=512)
LORA = LlmRun(method="lora", seq_len=1024, grad_checkpointing=False)


# ---- the memory a row's weights must fit in ------------------------------------------------

def test_row_memory_discrete_card_is_its_vram_in_gib():
    r = row("decode_tokens_per_s", 1.0, INFER, quote="| 4090 16GB | 7B |")
    assert lc.row_memory_bytes(r, ada(vram_gb=24)) == 24 * 2**30      # the quote is not read


@pytest.mark.parametrize(("quote", "ram_gb", "share"), [
    ("| M3 10-Core GPU 16GB | 7B F16 | 2.5 |", 16, 2 / 3),   # the Mac the row names
    ("| M1 Max 32GB | 7B |", 32, 2 / 3),                     # 32 GB: still the small-Mac share
    ("| M2 Max 38-Core 64 GB | 70B Q4 |", 64, 3 / 4),        # one space allowed before GB
    ("M3 16GB, no table bar", 24, 2 / 3),                    # not a table cell: the catalog's 24 GB
    ("", 24, 2 / 3),
])
def test_row_memory_apple_is_metals_working_set_of_the_macs_memory(quote, ram_gb, share):
    mac = ada(vendor="Apple", vram_gb=24)
    r = row("decode_tokens_per_s", 1.0, INFER, quote=quote)
    assert lc.row_memory_bytes(r, mac) == pytest.approx(ram_gb * 2**30 * share, rel=1e-12)


# ---- why a row is left out -------------------------------------------------------------------

@pytest.mark.parametrize("metric", ["decode_tokens_per_s", "prefill_tokens_per_s"])
def test_inference_row_whose_weights_do_not_fit_is_left_out(metric):
    fits = ada(vram_gb=BF16_WEIGHT_BYTES / 2**30)              # exactly the 502,400 bytes
    short = ada(vram_gb=(BF16_WEIGHT_BYTES - 1) / 2**30)       # one byte short
    r = row(metric, 10.0, INFER)
    assert lc.excluded(r, fits) == ""
    assert lc.excluded(r, short) == ("the model's 0.0 GB of bf16 weights do not fit that ADA's "
                                     "0.0 GB: swapping, not a rate")
    assert lc.excluded(r) == ""                                 # no card given: not judged


def test_weights_fit_uses_the_rows_format_and_the_macs_working_set():
    q4 = row("decode_tokens_per_s", 10.0, replace(INFER, weights="q4_0"))
    assert lc.excluded(q4, ada(vram_gb=Q4_0_WEIGHT_BYTES / 2**30)) == ""
    assert "swapping" in lc.excluded(q4, ada(vram_gb=(Q4_0_WEIGHT_BYTES - 1) / 2**30))
    # an Apple card's usable memory is 2/3 of it: 502,400 bytes need 753,600 bytes of Mac
    r = row("decode_tokens_per_s", 10.0, INFER)
    assert lc.excluded(r, ada(vendor="Apple", vram_gb=753_600 / 2**30)) == ""
    assert "swapping" in lc.excluded(r, ada(vendor="Apple", vram_gb=753_000 / 2**30))


def test_weights_fit_judges_inference_speed_rows_only():
    short = ada(vram_gb=0.0001)                                 # 107,374 bytes: nothing fits
    assert lc.excluded(row("weights_gb", 0.0005, INFER), short) == ""
    assert lc.excluded(row("peak_memory_gb", 0.0005, INFER), short) == ""
    # a training row is judged by its utilisation, not by whether the weights fit
    assert lc.excluded(row("train_tokens_per_s", 1000.0, LORA), short) == ""


@pytest.mark.parametrize(("framework", "metric", "left_out"), [
    ("llama.cpp main (CUDA)", "prefill_tokens_per_s", True),
    ("Llama.cpp Main", "prefill_tokens_per_s", True),          # compared in lower case
    ("llama.cpp llama-bench (CUDA)", "prefill_tokens_per_s", False),
    ("llama.cpp main (CUDA)", "decode_tokens_per_s", False),   # its decode rows stay
])
def test_llama_cpp_main_prefill_rows_are_left_out(framework, metric, left_out):
    why = lc.excluded(row(metric, 100.0, INFER, framework=framework))
    assert bool(why) is left_out
    if left_out:
        assert why.startswith("./main's prompt eval") and "token count" in why


# LoRA without checkpointing at 1,024 tokens: 2 passes x 636,416 = 1,272,832 FLOPs a token.
def test_implied_utilisation_by_hand():
    assert lc.implied_utilisation(row("train_tokens_per_s", 1e7, LORA), ada()) == \
        pytest.approx(1e7 * 1_272_832 / 80e12, rel=1e-12)
    two = replace(LORA, n_gpus=2)
    assert lc.implied_utilisation(row("train_tokens_per_s", 1e7, two), ada()) == \
        pytest.approx(1e7 * 1_272_832 / 2 / 80e12, rel=1e-12)
    ckpt = LlmRun(method="full", seq_len=1024, grad_checkpointing=True)     # 4 passes
    assert lc.implied_utilisation(row("train_tokens_per_s", 1e6, ckpt), ada()) == \
        pytest.approx(1e6 * 4 * 636_416 / 80e12, rel=1e-12)


# A100 SXM's maximum achievable bf16 matmul, 271.2 of 312 TFLOPS (stas00/ml-engineering), is the
# highest fraction measured on any GPU: 0.86923 x 80e12 / 1,272,832 FLOPs = 54.63e6 tokens/s.
@pytest.mark.parametrize(("tokens_per_s", "n_gpus", "left_out"), [
    (54.6e6, 1, False), (54.7e6, 1, True),       # just inside / just past 86.9% of one card
    (109.2e6, 2, False), (109.3e6, 2, True),     # two cards: twice the rate
])
def test_training_row_faster_than_any_matmul_is_left_out(tokens_per_s, n_gpus, left_out):
    r = row("train_tokens_per_s", tokens_per_s, replace(LORA, n_gpus=n_gpus))
    why = lc.excluded(r, ada())
    assert bool(why) is left_out
    if left_out:
        assert f"would need 87% of {n_gpus} x ADA's 80 TFLOPS, above the 86.9% the best" in why
    assert lc.excluded(r) == ""                                 # no card given: not judged


# A card with its own measurement is held to it: H100 SXM reaches 794.5 of 989 TFLOPS (80.3%),
# so on an 80 TFLOPS card with H100's id 0.80334 x 80e12 / 1,272,832 = 50.49e6 tokens/s.
@pytest.mark.parametrize(("tokens_per_s", "left_out"), [(50.4e6, False), (50.6e6, True)])
def test_a_measured_card_is_held_to_its_own_matmul_ceiling(tokens_per_s, left_out):
    h100 = replace(ada(), id="h100-sxm5-80-gb")
    why = lc.excluded(row("train_tokens_per_s", tokens_per_s, LORA), h100)
    assert bool(why) is left_out
    if left_out:
        assert "above the 80.3% its best bf16 matmul reaches (NVIDIA H100 SXM)" in why


def test_utilisation_limit_judges_training_rows_only():
    assert lc.excluded(row("prefill_tokens_per_s", 1e12, INFER), ada()) == ""


@pytest.mark.parametrize(("source", "framework", "metric", "left_out"), [
    ("pytorch/torchtune", "torchtune", "peak_memory_gb", "torchtune trains in pure bf16"),
    ("pytorch/torchtune#1234", "", "peak_memory_gb", "torchtune trains in pure bf16"),
    ("pytorch/torchtune", "torchtune", "weights_gb", ""),
    ("pytorch/pytorch", "", "peak_memory_gb", ""),
    ("unslothai/unsloth", "Unsloth", "peak_memory_gb", "Unsloth's own kernels"),
    ("unslothai/unsloth", "unsloth + HF", "peak_memory_gb", ""),     # the HF + FA2 column
    ("unslothai/unsloth", "unsloth", "weights_gb", ""),
])
def test_memory_rows_of_other_memory_layouts_are_left_out(source, framework, metric, left_out):
    why = lc.excluded(row(metric, 5.0, LORA, source=source, framework=framework))
    assert why.startswith(left_out) and bool(why) is bool(left_out)


# ---- reading the two CSV layouts -------------------------------------------------------------

GPUDB_HEADER = ["gpu", "model", "method", "weights", "seq", "batch", "metric", "value",
                "framework", "source_url", "quote", "notes"]
EXTRA_HEADER = ["id", "source", "gpu", "n_gpus", "model", "method", "weights", "seq_len",
                "micro_batch", "context", "grad_checkpointing", "lora_rank", "lora_targets",
                "metric", "value", "framework", "source_url", "quote", "notes"]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def gpudb_csv(tmp_path):
    url = "https://github.com/"
    return _write(tmp_path / "gpudb.csv", GPUDB_HEADER, [
        ["RTX 4090", "LLaMA-7B", "infer", "q4f16_1", "", "", "decode_tokens_per_s", "100.5",
         "mlc", url + "mlc-ai/mlc-llm/blob/abc/README.md", "q", ""],
        ["H100", "Llama-3.1-8B", "full", "bf16", "4096", "2", "train_tokens_per_s", "5000",
         "torchtune", url + "pytorch/torchtune/pull/123", "q",
         "n_gpus=8; activation checkpointing false; CPU offload"],
        ["A100", "m", "lora", "gptq", "1024", "", "train_tokens_per_s", "10", "unsloth",
         url + "unslothai/unsloth/issues/7", "q", "n_gpus=2 GPUs; activation checkpointing on"],
        ["Apple M2", "x", "infer", "fp16", "128", "4", "prefill_tokens_per_s", "50", "llama.cpp",
         "https://www.reddit.com/r/LocalLLaMA/abc", "q", "n_gpus=2"],
        ["L4", "y", "lora", "bf16", "256", "1", "train_tokens_per_s", "7", "hf",
         url + "o/r/pull", "q", "Activation Checkpointing TRUE"],
        ["L4", "y", "full", "bf16", "256", "1", "train_tokens_per_s", "7", "hf",
         "local-notes", "q", "activation checkpointing false"],
        ["A10", "z", "lora", "bf16", "256", "1", "train_tokens_per_s", "3", "torchtune",
         url + "pytorch/torchtune/blob/main/README.md", "q", ""],
    ])


def test_gpudb_rows_become_runs(gpudb_csv):
    rows = lc.load_rows(gpudb_csv, extra=None)
    assert [r.id for r in rows] == ["mlc-llm-2", "torchtune-3", "unsloth-4", "www.reddit.com-5",
                                    "r-6", "local-notes-7", "torchtune-8"]   # the line numbers
    assert [r.source for r in rows] == ["mlc-ai/mlc-llm", "pytorch/torchtune#123",
                                        "unslothai/unsloth#7", "www.reddit.com", "o/r",
                                        "local-notes", "pytorch/torchtune"]
    mlc, tt, us, mac, hf, notes, tt_default = rows
    # LLaMA 1 7B has Llama 2 7B's shapes; MLC's q4f16_1 is Q4_0's layout; blank seq/batch
    assert (mlc.model, mlc.gpu, mlc.metric, mlc.value) == ("llama-2-7b", "RTX 4090",
                                                           "decode_tokens_per_s", 100.5)
    assert mlc.run == LlmRun(method="infer", weights="q4_0", seq_len=512, micro_batch=1,
                             n_gpus=1, context=512)
    assert mlc.raw["framework"] == "mlc"
    # torchtune's own config (rank 8, its targets), the notes' GPU count, checkpointing and offload
    assert (tt.model, tt.n_gpus) == ("Llama-3.1-8B", 8)
    assert tt.run == LlmRun(method="full", weights="bf16", seq_len=4096, micro_batch=2, n_gpus=8,
                            parallel="fsdp", cpu_offload=True, lora_rank=8,
                            grad_checkpointing=False,
                            lora_targets=("q_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                          "down_proj"))
    # Unsloth's README: rank 32 with checkpointing ("on" is neither true nor false)
    assert us.run == LlmRun(method="lora", weights="gptq-4bit", seq_len=1024, micro_batch=1,
                            n_gpus=2, parallel="fsdp", lora_rank=32, grad_checkpointing=True)
    # inference over 2 GPUs is tensor parallel (the default), not FSDP
    assert mac.run == LlmRun(method="infer", weights="fp16", seq_len=128, micro_batch=4,
                             n_gpus=2, context=128)
    assert hf.run.grad_checkpointing is True and hf.run.lora_rank == 16
    assert notes.run.grad_checkpointing is False and notes.run.parallel == ""
    # torchtune's configs turn activation checkpointing on where the table does not say
    assert (tt_default.run.grad_checkpointing, tt_default.run.lora_rank) == (True, 8)


def test_gpudb_source_keys():
    key = lc._source_key
    assert key("https://github.com/ggml-org/llama.cpp/pull/4766") == "ggml-org/llama.cpp#4766"
    assert key("https://github.com/ggml-org/llama.cpp/issues/12") == "ggml-org/llama.cpp#12"
    assert key("https://github.com/o/r/discussions/5") == "o/r"
    assert key("https://github.com/o/r") == "o/r"
    assert key("https://lambdalabs.com/blog/x") == "lambdalabs.com"
    assert key("no-slashes") == "no-slashes"


@pytest.fixture
def extra_csv(tmp_path):
    u, q = "https://example.org/x", "quote"
    return _write(tmp_path / "extra.csv", EXTRA_HEADER, [
        ["x1", "src-a", "RTX 4090", "", "tiny", "lora", "", "1024", "", "", "", "", "",
         "train_tokens_per_s", "123", "", u, q, ""],
        ["x2", "src-b", "H100", "4", "tiny", "full", "bf16", "2048", "2", "", "TRUE", "8",
         "q_proj;v_proj", "train_tokens_per_s", "4.5", "", u, q, ""],
        ["x3", "src-c", "H100", "2", "tiny", "infer", "q4_0", "128", "8", "4096", "false", "",
         "", "decode_tokens_per_s", "99", "vllm", u, q, ""],
        ["x4", "src-d", "A100", "2", "tiny", "lora", "", "512", "1", "", "", "", "",
         "train_tokens_per_s", "50", "", u, q, ""],
    ])


def test_extra_rows_take_their_explicit_settings(extra_csv, tmp_path):
    rows = lc.load_rows(tmp_path / "missing.csv", extra_csv)
    assert [(r.id, r.source, r.gpu, r.model, r.metric, r.value) for r in rows] == [
        ("x1", "src-a", "RTX 4090", "tiny", "train_tokens_per_s", 123.0),
        ("x2", "src-b", "H100", "tiny", "train_tokens_per_s", 4.5),
        ("x3", "src-c", "H100", "tiny", "decode_tokens_per_s", 99.0),
        ("x4", "src-d", "A100", "tiny", "train_tokens_per_s", 50.0)]
    x1, x2, x3, x4 = rows
    assert x1.run == LlmRun(method="lora", seq_len=1024)            # every blank a default
    assert x1.run.grad_checkpointing is None and x1.run.lora_targets == DEFAULT_LORA_TARGETS
    assert x2.run == LlmRun(method="full", weights="bf16", seq_len=2048, micro_batch=2, n_gpus=4,
                            parallel="fsdp", grad_checkpointing=True, lora_rank=8,
                            lora_targets=("q_proj", "v_proj"))
    assert x2.n_gpus == 4
    assert x3.run == LlmRun(method="infer", weights="q4_0", seq_len=128, micro_batch=8, n_gpus=2,
                            context=4096, grad_checkpointing=False)
    assert x3.raw["framework"] == "vllm"
    assert x4.run == LlmRun(method="lora", seq_len=512, n_gpus=2, parallel="fsdp")   # 2 GPUs: FSDP


def test_load_rows_reads_both_files_in_order(gpudb_csv, extra_csv, tmp_path):
    both = lc.load_rows(gpudb_csv, extra_csv)
    assert [r.id for r in both] == ["mlc-llm-2", "torchtune-3", "unsloth-4", "www.reddit.com-5",
                                    "r-6", "local-notes-7", "torchtune-8", "x1", "x2", "x3", "x4"]
    assert [r.id for r in lc.load_rows(gpudb_csv, tmp_path / "none.csv")] == [
        r.id for r in both[:7]]
    assert lc.load_rows(tmp_path / "a.csv", tmp_path / "b.csv") == []


# ---- a row's prediction ---------------------------------------------------------------------

def test_predict_row_by_hand():
    train = row("train_tokens_per_s", 1.0, LORA)
    assert lc.predict_row(train, ada(), PRM) == pytest.approx(80e12 * MAMF * 0.25 / (2 * fwd(1024)))
    run = LlmRun(method="infer", weights="bf16", seq_len=1024, context=1024)
    prefill = row("prefill_tokens_per_s", 1.0, run)
    assert lc.predict_row(prefill, ada(), PRM) == pytest.approx(160e12 * MAMF * 0.5 / fwd(1024))
    # decode reads 374,400 weight bytes (the embedding is a lookup) + 256 KV bytes a token
    decode = row("decode_tokens_per_s", 1.0, run)
    step = (374_400 + 256 * 1024) / (500e9 * 0.8) + 2 * 1e-5
    assert lc.predict_row(decode, ada(), PRM) == pytest.approx(1 / step)
    assert lc.predict_row(row("weights_gb", 1.0, run), ada(), PRM) == pytest.approx(
        BF16_WEIGHT_BYTES / 1e9)
    peak = lc.predict_row(row("peak_memory_gb", 1.0, run), ada(), PRM)
    assert peak == pytest.approx(llm_memory(TINY, run).total_gb) and peak > 0.0005024


# ---- the fit ---------------------------------------------------------------------------------

# The coarse grid of a parameter from lo to hi: lo x (hi / lo)^(i / 16), i = 0..16.
BW_ON_GRID = 0.2 * 5 ** (8 / 16)                 # bw_eff 0.2..1.0, i = 8: 0.447214
MFU_I8 = 0.05 * 24 ** (8 / 16)                   # mfu 0.05..1.2, i = 8: 0.244949
MFU_I12 = 0.05 * 24 ** (12 / 16)                 # i = 12: 0.542161
DEC_RUNS = [LlmRun(method="infer", weights="bf16", seq_len=128, context=c) for c in (32768, 65536)]


def _decode_value(run: LlmRun, bw_eff: float) -> float:
    """Decode tokens/s of TINY at batch 1, prior overhead 1e-5 s a layer, by hand: KV 256 bytes
    a token of context (memory-bound: the compute side is < 1% of it at any prefill_eff)."""
    return 1 / ((374_400 + 256 * run.context) / (500e9 * bw_eff) + 2 * 1e-5)


def _full_value(mfu: float, method: str = "full") -> float:
    """Training tokens/s of TINY at 1,024 tokens without checkpointing, nothing but matmuls."""
    passes = 3 if method in ("full", "pretrain") else 2
    return 80e12 * MAMF * mfu / (passes * fwd(1024))


def _train(method: str, value: float, **kw) -> lc.Row:
    weights = "nf4" if method == "qlora" else "bf16"
    run = LlmRun(method=method, weights=weights, seq_len=1024, grad_checkpointing=False, **kw)
    return row("train_tokens_per_s", value, run)


def _without(params: dict, *keys: str) -> dict:
    return {k: v for k, v in params.items() if k not in keys}


def test_fit_without_speed_rows_is_the_prior():
    got = lc.fit([(row("weights_gb", 0.5, INFER), ada()), (row("peak_memory_gb", 9.0, LORA), ada())])
    assert got == DEFAULTS
    got["mfu"]["full"] = 0.99                       # a copy: the prior is not changed
    assert DEFAULTS["mfu"]["full"] == 0.40
    assert lc.fit([]) == DEFAULTS


def test_fit_finds_a_planted_value_on_its_grid_and_leaves_the_rest_at_the_prior():
    rows = [(row("decode_tokens_per_s", _decode_value(r, BW_ON_GRID), r), ada()) for r in DEC_RUNS]
    # a memory row (no fitted parameter) beside them changes nothing
    rows.append((row("weights_gb", 100.0, INFER), ada()))
    got = lc.fit(rows)
    assert got["bw_eff"] == pytest.approx(0.447213595499958, rel=1e-9)
    # the overhead is already right; no row informs the others: they stay at the prior
    assert _without(got, "bw_eff") == _without(DEFAULTS, "bw_eff")


def test_fit_finds_an_off_grid_value_on_its_finer_grid():
    """bw_eff 0.5 lies between grid points 0.4743 (i = 9) and 0.5462 (i = 10); the finer grid
    around the best point has fifth steps, 5^(1/80) = 2.0% apart: within 1.02% of 0.5."""
    rows = [(row("decode_tokens_per_s", _decode_value(r, 0.5), r), ada()) for r in DEC_RUNS]
    got = lc.fit(rows)
    assert got["bw_eff"] == pytest.approx(0.5, rel=0.0102)
    assert abs(got["bw_eff"] / 0.5 - 1) < 0.0102
    assert not 0.4743 < got["bw_eff"] < 0.4744


def test_fit_lands_on_the_nearest_point_of_its_fine_grid():
    """Full fine-tuning planted at mfu 0.5 (tokens/s proportional to mfu: the loss is the squared
    log distance). 0.5 is 0.05 x 24^0.72452: on the coarse grid (sixteenths) the nearest point is
    i = 12 (0.5422); around it the fine grid has fifths of a step, 80ths of the range: 57.96 of
    them, so the fit lands on 0.05 x 24^(58/80) = 0.500753."""
    got = lc.fit([(_train("full", _full_value(0.5)), ada())])
    assert got["mfu"]["full"] == pytest.approx(0.05 * 24 ** (58 / 80), rel=1e-9)
    assert got["mfu"]["full"] == pytest.approx(0.500753, rel=1e-6)


def test_one_sweep_reaches_the_end_of_the_range():
    # the coarse grid includes both ends: i = 0 .. 16
    got = lc.fit([(_train("full", 1e15), ada())], sweeps=1)
    assert got["mfu"]["full"] == pytest.approx(1.2, rel=1e-12)
    got = lc.fit([(_train("full", 1e-3), ada())], sweeps=1)
    assert got["mfu"]["full"] == 0.05


def test_rows_and_held_rows_are_frozen():
    import dataclasses
    r = row("decode_tokens_per_s", 1.0, INFER)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 2.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        lc.Held(r, 1.0).predicted = 2.0  # type: ignore[misc]


def _extremes(value: float) -> list[tuple[lc.Row, object]]:
    """One row informing each fitted parameter, all at ``value`` tokens/s."""
    infer = LlmRun(method="infer", weights="bf16", seq_len=512, context=512)
    return [
        (_train("full", value, n_gpus=2), ada()),          # mfu full, non-matmul bytes, DDP
        (_train("lora", value), ada()),
        (_train("qlora", value), ada()),
        (row("prefill_tokens_per_s", value, infer), ada()),                          # prefill_eff
        (row("prefill_tokens_per_s", value, replace(infer, weights="q4_0")), ada()),  # quant factor
        (row("decode_tokens_per_s", value, DEC_RUNS[1]), ada()),       # bw_eff, overhead
        (row("prefill_tokens_per_s", value, infer), pascal()),         # no tensor cores
    ]


def test_fit_stops_at_the_slow_end_of_every_range():
    """Rows far slower than any parameter allows (1e-3 tokens/s; TINY at the slowest end still
    runs at ~1e6): every parameter goes to the end that makes it slowest."""
    got = lc.fit(_extremes(1e-3))
    assert got["mfu"] == pytest.approx({"full": 0.05, "pretrain": 0.05, "lora": 0.05, "qlora": 0.05})
    assert (got["prefill_eff"], got["quant_prefill_factor"], got["bw_eff"]) == pytest.approx(
        (0.05, 0.2, 0.2))
    assert (got["per_layer_overhead_s"], got["prefill_eff_no_tensor"]) == pytest.approx((2e-4, 0.05))
    assert (got["train_nonmatmul_bytes"], got["ddp_scaling"]) == pytest.approx((2000.0, 0.8))


def test_fit_stops_at_the_fast_end_of_every_range():
    got = lc.fit(_extremes(1e15))
    assert got["mfu"] == pytest.approx({"full": 1.2, "pretrain": 1.2, "lora": 1.2, "qlora": 1.2})
    assert (got["prefill_eff"], got["quant_prefill_factor"], got["bw_eff"]) == pytest.approx(
        (1.0, 1.5, 1.0))
    assert (got["per_layer_overhead_s"], got["prefill_eff_no_tensor"]) == pytest.approx((1e-7, 1.0))
    assert got["ddp_scaling"] == pytest.approx(1.0)
    # no non-matmul traffic (the prior, 0) is faster than the range's lowest 10 bytes
    assert got["train_nonmatmul_bytes"] == 0.0


def test_non_matmul_bytes_below_its_range_stop_at_10():
    """Planted at 8 bytes on a card with 0.05 GB/s (2 layers x 64 x 8 = 1,024 bytes a token:
    20.5 us, against 0.06 us of matmuls at mfu 0.4, so no utilisation can make up for it): 10,
    the range's low end, is nearer than the prior 0 and nothing below 10 is tried."""
    slow = ada(mem_bw_gbs=0.05)
    v = 1 / (3 * fwd(1024) / (80e12 * MAMF * 0.4) + 1024 / 0.05e9)
    got = lc.fit([(_train("full", v), slow)])
    assert got["train_nonmatmul_bytes"] == pytest.approx(10.0)


def test_qlora_may_sit_below_lora_and_is_capped_at_it():
    # QLoRA rows far too slow, LoRA rows far too fast: each at its own end, no full rows
    got = lc.fit([(_train("qlora", 1e-3), ada()), (_train("lora", 1e15), ada())])
    assert got["mfu"] == pytest.approx({"full": 0.40, "pretrain": 0.40, "lora": 1.2, "qlora": 0.05})
    # the other way round: QLoRA's 1.2 is capped at LoRA's 0.05
    got = lc.fit([(_train("qlora", 1e15), ada()), (_train("lora", 1e-3), ada())])
    assert got["mfu"]["lora"] == pytest.approx(0.05) and got["mfu"]["qlora"] == pytest.approx(0.05)


@pytest.mark.parametrize("method", ["full", "pretrain"])
def test_fold_without_lora_rows_takes_full_fine_tunings_utilisation(method):
    """A full (or pre-training) row planted at mfu 0.244949 (grid i = 8): full and pretrain share
    it, and LoRA/QLoRA, with no row of their own, take it too (not their priors 0.35/0.25)."""
    rows = [(_train(method, _full_value(MFU_I8, method)), ada()),
            (row("decode_tokens_per_s", _decode_value(DEC_RUNS[0], 0.7), DEC_RUNS[0]), ada())]
    got = lc.fit(rows)
    assert got["mfu"] == pytest.approx({"full": 0.244949, "pretrain": 0.244949, "lora": 0.244949,
                                        "qlora": 0.244949}, rel=1e-5)
    assert _without(got, "mfu") == _without(DEFAULTS, "mfu")


def test_fold_with_full_and_lora_rows_gives_qlora_the_lower_of_the_two():
    # full at 0.244949 (i = 8), LoRA at 0.542161 (i = 12): QLoRA takes full's, below LoRA's
    rows = [(_train("full", _full_value(MFU_I8)), ada()),
            (_train("lora", _full_value(MFU_I12, "lora")), ada())]
    got = lc.fit(rows)
    assert got["mfu"] == pytest.approx({"full": 0.244949, "pretrain": 0.244949, "lora": 0.542161,
                                        "qlora": 0.244949}, rel=1e-5)


def test_fold_with_lora_rows_only_keeps_full_and_qlora_priors():
    got = lc.fit([(_train("lora", _full_value(MFU_I12, "lora")), ada())])
    # full keeps its prior 0.40, QLoRA its prior 0.25 (below LoRA's 0.542161, so not capped)
    assert got["mfu"] == pytest.approx({"full": 0.40, "pretrain": 0.40, "lora": 0.542161,
                                        "qlora": 0.25}, rel=1e-5)


# ---- held-out folds and errors ----------------------------------------------------------------

def test_held_error_is_relative():
    r = row("decode_tokens_per_s", 4.0, INFER)
    assert lc.Held(r, 5.0).error == 0.25 and lc.Held(r, 3.0).error == -0.25


def test_cross_validate_predicts_each_group_from_the_others():
    """Source a's full row is planted at mfu 0.244949 (grid i = 8), source b's two at 0.542161
    (i = 12). Held out, a is predicted at b's utilisation: error 24^(4/16) - 1 = +1.2134; b's
    rows at a's: 24^(-4/16) - 1 = -0.5482. Groups come out in sorted order."""
    a = replace(_train("full", _full_value(MFU_I8)), id="a1", source="a")
    b1 = replace(_train("full", _full_value(MFU_I12)), id="b1", source="b")
    b2 = replace(b1, id="b2")
    held = lc.cross_validate([(b1, ada()), (a, ada()), (b2, ada())], key=lambda r: r.source)
    assert [h.row.id for h in held] == ["a1", "b1", "b2"]
    assert [h.error for h in held] == pytest.approx([1.213364, -0.548199, -0.548199], rel=1e-5)


def test_a_fold_that_holds_out_every_row_predicts_at_the_prior():
    # one GPU for all rows: the only fold fits on nothing, so full fine-tuning's prior 0.40
    a = _train("full", _full_value(MFU_I8))
    held = lc.cross_validate([(a, ada()), (replace(a, id="a2"), ada())], key=lambda r: r.gpu)
    assert [h.error for h in held] == pytest.approx([0.40 / 0.244949 - 1] * 2, rel=1e-5)


def _held(errors: list[float], metric: str = "decode_tokens_per_s") -> list[lc.Held]:
    return [lc.Held(row(metric, 1.0, INFER), 1.0 + e) for e in errors]


def test_summary_by_hand():
    held = _held([0.5, -0.6, 0.1, 0.52]) + _held([2.0], "weights_gb")
    got = lc.summary(held, lc.SPEED_METRICS)
    # |errors| 0.5, 0.6, 0.1, 0.52: median (0.5 + 0.52) / 2, worst 0.6; over 50%: 0.6 and 0.52
    # (exactly 0.5 is not over)
    assert got == pytest.approx({"rows": 4, "median": 0.51, "worst": 0.6, "over_50pct": 2})
    assert lc.summary(held, lc.MEMORY_METRICS) == pytest.approx(
        {"rows": 1, "median": 2.0, "worst": 2.0, "over_50pct": 1})
    assert lc.summary(held, ("prefill_tokens_per_s",)) == {"rows": 0}
    assert lc.summary([], lc.SPEED_METRICS) == {"rows": 0}


def test_fit_does_not_change_its_rows_or_the_prior():
    before = copy.deepcopy(DEFAULTS)
    lc.fit(_extremes(1e-3))
    assert before == DEFAULTS

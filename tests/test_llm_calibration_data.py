"""rigcheck/perfmodel/llm_calibration.csv: published LLM measurements the LLM model is fitted on.

Each row must be usable (its GPU resolves to a spec row, a known metric, a positive value) and
cited (URL and quote). Decode rates are also held to a physical bound written independently of
any model: batch-1 decode reads every weight once per token, so tokens/s cannot exceed memory
bandwidth / weight bytes (llama.cpp's GGUF sizes: Q4_0 4.5, Q4_K_M about 4.85, Q8_0 8.5 bits
per weight) - a typo'd or mislabelled row fails it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from rigcheck.perfmodel import lookup_gpu

CSV = Path(__file__).resolve().parents[1] / "rigcheck" / "perfmodel" / "llm_calibration.csv"
ROWS = list(csv.DictReader(CSV.open(encoding="utf-8", newline="")))
METRICS = {"peak_memory_gb", "train_tokens_per_s", "prefill_tokens_per_s", "decode_tokens_per_s"}
PARAMS = {"Llama-2-7b": 6.74e9, "LLaMA-7B": 6.74e9, "Meta-Llama-3-8B": 8.03e9, "Llama-3.1-8B": 8.03e9,
          "TinyLlama-1.1B": 1.10e9, "Llama-3.2-3B": 3.21e9}   # published parameter counts
BITS = {"q4_0": 4.5, "q4_k_m": 4.85, "q8_0": 8.5, "fp16": 16.0, "q4f16_1": 4.5, "gptq": 4.25}


def test_enough_rows_gpus_and_sources():
    assert len(ROWS) >= 60
    assert len({r["gpu"] for r in ROWS}) >= 10
    assert len({r["source_url"] for r in ROWS}) >= 4
    assert {r["metric"] for r in ROWS} == METRICS


@pytest.mark.parametrize("row", ROWS, ids=[f"{i}-{r['gpu']}-{r['metric']}" for i, r in enumerate(ROWS)])
def test_row_is_usable_and_cited(row):
    assert row["metric"] in METRICS
    assert float(row["value"]) > 0
    assert row["source_url"].startswith("https://") and row["quote"].strip()
    assert row["method"] in {"full", "lora", "qlora", "pretrain", "infer"}
    assert lookup_gpu(row["gpu"]).spec is not None


@pytest.mark.parametrize("row", [r for r in ROWS if r["metric"] == "decode_tokens_per_s"],
                         ids=lambda r: f"{r['gpu']}-{r['model']}-{r['weights']}")
def test_decode_never_beats_reading_the_weights_once_per_token(row):
    spec = lookup_gpu(row["gpu"]).spec
    weight_bytes = PARAMS[row["model"]] * BITS[row["weights"]] / 8
    bound = spec.mem_bw_gbs * 1e9 / weight_bytes
    assert float(row["value"]) <= bound * 1.05, f"{row['value']} tok/s > {bound:.0f} (bandwidth bound)"

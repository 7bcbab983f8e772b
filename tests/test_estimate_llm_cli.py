"""``rigcheck estimate --model/--target <llm>`` through CliRunner: keys, exit codes, bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rigcheck.ui.app import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["estimate", *args])


def as_json(*args: str):
    res = run(*args, "--json")
    return res.exit_code, json.loads(res.stdout)


def test_qlora_fits_24gb_with_training_keys():
    code, d = as_json("--gpu", "4090", "--model", "Llama 3 8B", "--method", "qlora")
    assert code == 0 and d["fits"] is True
    assert 6 < d["peak_memory_gb"] < 20
    assert d["tokens_per_s"] > 0 and d["samples_per_s"] > 0
    assert d["run"]["weights"] == "nf4" and d["model"]["id"] == "llama-3-8b"


def test_inference_keys_and_quantised_weights_are_faster():
    code, q4 = as_json("--gpu", "4090", "--model", "llama-3.1-8b", "--method", "infer",
                       "--weights", "q4_k_m")
    _, bf16 = as_json("--gpu", "4090", "--model", "llama-3.1-8b", "--method", "infer")
    assert code == 0
    assert q4["decode_tokens_per_s"] > 1.5 * bf16["decode_tokens_per_s"]
    assert q4["prefill_tokens_per_s"] > 0 and q4["peak_memory_gb"] < bf16["peak_memory_gb"]


def test_llm_recipe_target():
    code, d = as_json("--gpu", "4090", "--target", "llama-3.1-8b-infer-q4")
    assert code == 0 and d["run"]["method"] == "infer" and d["run"]["weights"] == "q4_k_m"


def test_does_not_fit_exits_1_and_says_what_would():
    res = run("--gpu", "3060", "--model", "llama-3.1-8b", "--method", "full")
    assert res.exit_code == 1
    assert "what would fit" in res.stdout and "QLoRA" in res.stdout
    code, d = as_json("--gpu", "3060", "--model", "llama-3.1-8b", "--method", "full")
    assert code == 1 and d["fits"] is False and any("GB" in s for s in d["what_would_fit"])


def test_gpus_shard_with_zero3():
    _, one = as_json("--gpu", "H100 PCIe", "--model", "llama-3.1-8b", "--method", "full",
                     "--grad-checkpointing")
    _, eight = as_json("--gpu", "H100 PCIe", "--model", "llama-3.1-8b", "--method", "full",
                       "--grad-checkpointing", "--gpus", "8", "--parallel", "zero3")
    assert eight["peak_memory_gb"] < one["peak_memory_gb"] / 3
    assert eight["tokens_per_s"] > 4 * one["tokens_per_s"]


@pytest.mark.parametrize("args,needle", [
    (("--model", "llama-9"), "--model"),
    (("--model", "llama-3.1-8b", "--method", "tune"), "--method"),
    (("--model", "llama-3.1-8b", "--weights", "q3"), "--weights"),
    (("--model", "llama-3.1-8b", "--method", "full", "--weights", "q4_k_m"), "cannot be trained"),
    (("--model", "llama-3.1-8b", "--seq", "0"), "--seq"),
    (("--model", "llama-3.1-8b", "--gpus", "64", "--nodes", "1000000"), "cluster"),
])
def test_bad_input_one_line_exit_2(args, needle):
    res = run("--gpu", "4090", *args)
    assert res.exit_code == 2
    assert needle in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_hostile_config_file(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"hidden_size": -1, "num_hidden_layers": 2, "num_attention_heads": 2,
                             "vocab_size": 10}))
    res = run("--gpu", "4090", "--model", str(p))
    assert res.exit_code == 2 and str(p) in res.stderr and "hidden_size" in res.stderr


def test_all_gpus_ranks_fitting_first():
    res = run("--model", "qwen2.5-7b", "--method", "qlora", "--all-gpus", "--json")
    assert res.exit_code == 0
    rows = json.loads(res.stdout)["gpus"]
    fits = [r["fits"] for r in rows]
    assert fits == sorted(fits, reverse=True) and any(fits) and len(rows) >= 40


def test_list_models():
    res = run("--list-models")
    assert res.exit_code == 0 and "llama-3.1-8b" in res.stdout and "deepseek-v3" in res.stdout

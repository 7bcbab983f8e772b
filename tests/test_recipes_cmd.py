"""`rigcheck recipes`: classic and LLM recipes listed and shown, text and JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rigcheck.ui.app import app


def invoke(*args):
    res = CliRunner().invoke(app, ["recipes", *args])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_a_classic_recipe_is_shown_with_what_recommend_may_change():
    out = invoke("bert-large-squad")
    assert "SQuAD" in out and "384" in out
    assert "recommend may" in out and "gradient accumulation" in out
    assert "change nothing" in invoke("resnet50-imagenet")      # batch norm: no smaller batch


def test_an_llm_recipe_is_shown_with_its_work_and_disk():
    out = invoke("llama-3.1-8b-qlora")
    assert "qlora, nf4 weights" in out
    assert "train on 10.2 M tokens" in out           # 5,000 x 2,048
    assert "16.1 GB" in out                          # 8.03 B x 2 bytes + 0.05 GB of data
    assert "yes (priority 2)" in out
    assert "generate 1 M tokens" in invoke("llama-3.1-8b-infer-q4")


def test_the_list_has_both_tables_and_marks_the_default_mixes():
    out = invoke()
    assert "lenet5-mnist *" in out and "llama-3.1-8b-qlora *" in out
    assert "qwen2.5-14b-qlora *" not in out and "qwen2.5-14b-qlora" in out


def test_json_lists_llm_recipes_apart():
    data = json.loads(invoke("--json"))
    llm = {r["id"]: r for r in data["llm_recipes"]}
    assert "llama-3.1-8b-qlora" not in {r["id"] for r in data["recipes"]}
    assert llm["llama-3.1-8b-qlora"]["default_mix"] is True
    assert llm["llama-3.1-8b-qlora"]["run"]["weights"] == "nf4"
    one = json.loads(invoke("llama-3.1-8b-infer-q4", "--json"))["recipe"]
    assert one["generate_tokens"] == 1_000_000 and one["train_tokens"] == 0


def test_an_unknown_id_suggests_llm_recipes_too():
    res = CliRunner().invoke(app, ["recipes", "llama-3.1-8b-qlor"])
    assert res.exit_code == 2
    assert "llama-3.1-8b-qlora" in res.output

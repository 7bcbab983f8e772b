"""LLM work in recommend (issue 10 item 4, issue 9's "value VRAM"): the default mix's wanted
targets kept where the budget allows, dropped with the cheapest build that runs them; LLM recipes
estimated with the changes they allow; classic recipes that opt in run at a smaller batch.

Prices and sizes below are written by hand; the searched builds are checked against sums of the
parts' prices, never against the search's own totals."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import parts_factory as pf
import pytest

from rigcheck import perfmodel
from rigcheck.llm_recipes import LlmRecipeError, default_mix, load_llm_recipe, load_llm_recipes
from rigcheck.recipes import load_recipes
from rigcheck.recommend import Request, TargetEstimate
from rigcheck.recommend.search import recommend
from rigcheck.recommend.speed import classic_estimate, llm_estimate, perfmodel_estimator

# Everything but the GPU, from parts_factory's defaults: CPU 15,000 + board 12,000 + memory
# 8,000 + storage 6,000 + PSU 6,000 + case 4,000.
REST_INR = 15_000 + 12_000 + 8_000 + 6_000 + 6_000 + 4_000
SMALL = pf.gpu("small", inr=30_000, vram_gb=8)
BIG = pf.gpu("big", inr=50_000, vram_gb=16)
SMALL_BUILD_INR = 30_000 + REST_INR       # 81,000
BIG_BUILD_INR = 50_000 + REST_INR         # 101,000


class Wanted:
    """A stand-in LLM target: runs only on cards of at least ``min_vram_gb``."""

    def __init__(self, id: str, min_vram_gb: float):
        self.id, self.min_vram_gb = id, min_vram_gb
        self.disk_gb = self.dataset_gb = 1.0
        self.bytes_per_sample = 8192


def fake(target, gpu, count, nodes):
    need = getattr(target, "min_vram_gb", 0.0)
    fits = gpu.vram_gb >= need
    return TargetEstimate(recipe_id=target.id, fits=fits, samples_per_s=100.0,
                          train_s=1000.0 / gpu.vram_gb, memory_gb=min(need, gpu.vram_gb) or 2.0,
                          batch_size=1)


def ask(budget_inr, wanted, gpus=(SMALL, BIG)):
    req = Request(budget_inr=budget_inr, targets=(pf.recipe(),), wanted=tuple(wanted))
    return recommend(pf.catalog(gpus=list(gpus)), req, fake)


def ids(rec):
    return [t.id for t in rec.request.targets]


# ---- the cascade, at its boundary -------------------------------------------------------------

def test_a_budget_that_affords_the_big_card_keeps_the_wanted_target():
    rec = ask(BIG_BUILD_INR, [Wanted("w16", 16)])
    assert rec.best.gpu.id == "big"
    assert ids(rec) == ["r", "w16"]
    assert rec.dropped == []


def test_one_rupee_less_drops_it_and_names_the_cheapest_build_that_runs_it():
    rec = ask(BIG_BUILD_INR - 1, [Wanted("w16", 16)])
    assert rec.best.gpu.id == "small"
    assert ids(rec) == ["r"]
    (d,) = rec.dropped
    assert d.recipe_id == "w16" and "costs more than the budget" in d.reason
    assert d.cheapest.gpu.id == "big"
    assert sum(p.price.inr * n for _, p, n in d.cheapest.parts()) == BIG_BUILD_INR


def test_wanted_targets_are_kept_one_by_one_in_priority_order():
    # The first wanted needs 16 GB (unaffordable), the second runs on 8 GB: it is kept, and
    # dropping the first does not drop it.
    rec = ask(BIG_BUILD_INR - 1, [Wanted("w16", 16), Wanted("w8", 8)])
    assert ids(rec) == ["r", "w8"]
    assert [d.recipe_id for d in rec.dropped] == ["w16"]


def test_a_target_no_card_holds_is_dropped_with_no_build():
    rec = ask(10**7, [Wanted("w80", 80)])
    assert rec.best.gpu.id == "big"        # the faster card: the wanted one played no part
    (d,) = rec.dropped
    assert d.cheapest is None and "no GPU in the catalog" in d.reason


def test_when_the_required_targets_miss_the_budget_wanted_ones_are_not_judged():
    rec = ask(SMALL_BUILD_INR - 1, [Wanted("w8", 8)])
    assert rec.best is None and rec.dropped == []
    assert sum(p.price.inr * n for _, p, n in rec.cheapest.parts()) == SMALL_BUILD_INR


def test_without_wanted_targets_the_answer_is_the_plain_search():
    plain = recommend(pf.catalog(gpus=[SMALL, BIG]),
                      Request(budget_inr=BIG_BUILD_INR, targets=(pf.recipe(),)), fake)
    rec = ask(BIG_BUILD_INR, [])
    assert rec.best.gpu.id == plain.best.gpu.id == "big" and rec.dropped == []


# ---- LLM recipes: loading ---------------------------------------------------------------------

LLAMA_31_8B_PARAMS = 8_030_261_248        # Meta's model card: 8.03 B; the config's exact count


def test_default_mix_is_in_priority_order():
    assert [r.id for r in default_mix(load_llm_recipes())] == [
        "llama-3.1-8b-infer-q4", "llama-3.1-8b-qlora", "qwen2.5-7b-lora"]


def test_disk_is_the_downloaded_checkpoint_plus_data():
    recipes = load_llm_recipes()
    # Training downloads bf16 safetensors (2 bytes a weight) and quantises at load.
    assert recipes["llama-3.1-8b-qlora"].disk_gb == pytest.approx(
        LLAMA_31_8B_PARAMS * 2 / 1e9 + 0.05, rel=1e-3)
    # Inference reads its GGUF file: Q4_K_M is 4.84 bits a weight (llama.cpp quantize README).
    assert recipes["llama-3.1-8b-infer-q4"].disk_gb == pytest.approx(
        LLAMA_31_8B_PARAMS * 4.84 / 8 / 1e9, rel=1e-3)
    assert recipes["llama-3.1-8b-qlora"].work_tokens == 5000 * 2048
    assert recipes["llama-3.1-8b-infer-q4"].work_tokens == 1_000_000


GOOD = '''name = "x"
model = "llama-3.2-1b"
method = "qlora"
description = "d"
source = "s"
'''


@pytest.mark.parametrize("extra, field", [
    ('model = "no-such-model"', "model"),
    ('generate_tokens = 5', "generate_tokens"),      # a training recipe has train_tokens
    ('train_tokens = -1', "train_tokens"),
    ('adapt = ["quantise"]', "adapt"),
    ('dataset_gb = "big"', "dataset_gb"),
    ('priority = true', "priority"),
])
def test_a_bad_llm_recipe_is_one_line_naming_file_and_field(tmp_path: Path, extra, field):
    text = GOOD.replace('model = "llama-3.2-1b"\n', "") if extra.startswith("model") else GOOD
    path = tmp_path / "bad.toml"
    path.write_text(text + extra + "\n")
    with pytest.raises(LlmRecipeError) as err:
        load_llm_recipe(path)
    assert str(path) in str(err.value) and field in str(err.value)
    assert "\n" not in str(err.value)


def test_a_good_llm_recipe_loads(tmp_path: Path):
    path = tmp_path / "ok.toml"
    path.write_text(GOOD + "train_tokens = 1000\ndataset_gb = 2\n")
    r = load_llm_recipe(path)
    assert r.work_tokens == 1000 and r.dataset_gb == 2.0


# ---- LLM recipes: estimates -------------------------------------------------------------------

def card(vram_gb, **kw):
    return pf.gpu(f"c{vram_gb}", vram_gb=vram_gb, mem_bw_gbs=448.0, **kw)


def test_qlora_8b_fits_16_gb_by_a_smaller_micro_batch_and_not_8_gb():
    r = load_llm_recipes()["llama-3.1-8b-qlora"]
    on16 = llm_estimate(r, card(16), 1, 1)
    assert on16.fits and on16.batch_size == 1
    assert on16.changes and "micro-batch 1" in on16.changes[0]
    assert on16.memory_gb <= 16 * 0.95
    # The time is the recipe's tokens over the predicted rate.
    assert on16.train_s == pytest.approx(5000 * 2048 / on16.samples_per_s)
    on8 = llm_estimate(r, card(8), 1, 1)
    assert not on8.fits and math.isinf(on8.train_s)


def test_training_uses_every_gpu_of_every_machine_inference_one_machine():
    r = load_llm_recipes()["llama-3.1-8b-qlora"]
    one = llm_estimate(r, card(24), 1, 1)
    two = llm_estimate(r, card(24), 2, 1)
    pair = llm_estimate(r, card(24), 1, 2)
    assert two.samples_per_s > one.samples_per_s
    assert pair.samples_per_s == pytest.approx(two.samples_per_s)
    infer = load_llm_recipes()["llama-3.1-8b-infer-q4"]
    assert (llm_estimate(infer, card(24), 1, 4).samples_per_s
            == pytest.approx(llm_estimate(infer, card(24), 1, 1).samples_per_s))


def test_the_estimator_memoises_and_dispatches_by_kind():
    est = perfmodel_estimator()
    llm = load_llm_recipes()["llama-3.1-8b-infer-q4"]
    classic = load_recipes()["lenet5-mnist"]
    a = est(llm, card(16), 1, 1)
    assert a is est(llm, card(16), 1, 1)
    assert a.unit == "decode tokens/s"
    assert est(classic, card(16), 1, 1).unit == "samples/s"


# ---- classic recipes that opt in to a smaller batch -------------------------------------------

def test_bert_large_on_8_gb_runs_at_the_largest_batch_that_fits_and_divides_32():
    bert = load_recipes()["bert-large-squad"]
    gpu = card(8)
    assert not perfmodel.predict(bert, gpu).fits          # the recipe's batch 32 does not
    e = classic_estimate(bert, gpu, 1, 1)
    b = e.batch_size
    assert e.fits and b in (1, 2, 4, 8, 16)               # the divisors of 32 below it
    assert perfmodel.predict(bert, gpu, batch_size=b).fits
    assert not perfmodel.predict(bert, gpu, batch_size=2 * b).fits
    assert e.changes == (f"batch {b} with gradient accumulation {32 // b} "
                         "(the same global batch of 32)",)


def test_a_recipe_that_does_not_opt_in_is_not_changed():
    bert = replace(load_recipes()["bert-large-squad"], adapt=())
    e = classic_estimate(bert, card(8), 1, 1)
    assert not e.fits and e.batch_size == 32 and e.changes == ()


def test_a_recipe_that_fits_is_not_changed():
    bert = load_recipes()["bert-large-squad"]
    e = classic_estimate(bert, card(80), 1, 1)
    assert e.fits and e.batch_size == 32 and e.changes == ()


# ---- end to end on the bundled catalog --------------------------------------------------------

def _recommend_json(*args):
    import json

    from typer.testing import CliRunner

    from rigcheck.ui.app import app
    result = CliRunner().invoke(app, ["recommend", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_default_mix_keeps_qlora_exactly_from_the_price_of_its_cheapest_build():
    # 1.1 lakh: a build exists (RTX 3060 12 GB, priced new since the used $225 row went) but
    # not one that runs QLoRA on Llama 3.1 8B
    low = _recommend_json("--budget", "110000INR", "--allow-unsourced", "--allow-used")
    drop = {d["recipe"]: d for d in low["dropped"]}
    assert "llama-3.1-8b-qlora" not in low["request"]["targets"]
    cheapest = drop["llama-3.1-8b-qlora"]["cheapest"]
    gpu = cheapest["parts"][0]
    assert gpu["vram_gb"] >= 12
    total = sum(p["price_inr"] for p in cheapest["parts"])
    assert total == pytest.approx(cheapest["total_inr"], abs=1)
    at = _recommend_json("--budget", f"{math.ceil(total)}INR", "--allow-unsourced", "--allow-used")
    assert "llama-3.1-8b-qlora" in at["request"]["targets"]
    assert "llama-3.1-8b-qlora" not in {d["recipe"] for d in at["dropped"]}
    under = _recommend_json("--budget", f"{math.floor(total) - 1}INR", "--allow-unsourced",
                            "--allow-used")
    assert "llama-3.1-8b-qlora" in {d["recipe"] for d in under["dropped"]}
    # Each LLM target on the pick says its unit and what was changed so it fits.
    for t in at["builds"][0]["targets"]:
        if t["recipe"].startswith("llama-3.1-8b-q"):
            assert t["unit"] == "training tokens/s" and t["fits"]
            assert isinstance(t["changes"], list)


def test_a_named_llm_target_is_required():
    data = _recommend_json("--budget", "10lakh", "--target", "llama-3.1-8b-qlora",
                           "--allow-unsourced")
    assert data["request"]["targets"] == ["llama-3.1-8b-qlora"] and data["dropped"] == []
    assert data["builds"][0]["parts"][0]["vram_gb"] >= 12

"""Doctor readiness for LLM recipes (ready.llm_fit): each recipe on each kind of GPU in the
facts, judged as recommend judges a card (the run, else the first change the recipe allows).

The boundary cases use recipes/llm/llama-3.1-8b-infer-bf16.toml (Llama 3.1 8B, 8 streams of
4,096 tokens, adapt = micro_batch, quantize), with the memory written out by hand from the
documented rules of rigcheck.perfmodel.llm_memory:

    parameters       8,030,261,248 (Llama 3.1 8B: hidden 4096, 32 layers, 8 KV heads of 128,
                     MLP 14336, vocabulary 128,256)
    bf16 weights     8,030,261,248 x 2 B                              = 16.061 GB
    Q4_K_M weights   8,030,261,248 x 4.84 / 8 B                       =  4.858 GB
    KV cache         2 x 32 x 8 x 128 x 2 B = 131,072 B per token x 4,096 x 8 streams = 4.295 GB
    workspace        chunk 512 x 8 = 4,096 tokens: 4,096 x (2 x 14336 + 4 x 4096) x 2 B
                     + 4,096 x 128,256 x 4 B                          =  2.470 GB
    context          1.0 GB;  usable: 0.95 of the card

    as written (bf16):  16.061 + 4.295 + 2.470 + 1.0 = 23.826 GB (card of 23.826 / 0.95 = 25.1 GB:
                        the next common size is 32 GB)
    4-bit weights:       4.858 + 4.295 + 2.470 + 1.0 = 12.623 GB
      16 GB card: 15.2 usable -> fits with 4-bit weights (just big enough)
      12 GB card: 11.4 usable -> does not fit even after the change (just too small); fewer
                  streams do not help in bf16 (16.061 GB of weights alone > 11.4).
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from rigcheck.doctor import run_checks
from rigcheck.doctor.findings import Status
from rigcheck.llm_recipes import load_llm_recipes
from tests.doctor_factories import gpu, healthy

RECIPES = load_llm_recipes()
BF16 = RECIPES["llama-3.1-8b-infer-bf16"]
Q4 = RECIPES["llama-3.1-8b-infer-q4"]


def facts_with(*gpus):
    f = healthy(1)
    f.nvml.gpus = list(gpus)
    f.nvml.gpu_count = len(gpus)
    return f


def card(name: str, total_mib: float, used_mib: float = 300.0, index: int = 0):
    return gpu(index, name=name, memory_total_mib=total_mib, memory_used_mib=used_mib)


def llm_fit(facts, *recipes):
    found = run_checks(facts, (), llm_targets=recipes, only=["ready.llm_fit"])
    assert len(found) == 1
    return found[0]


RTX_4060TI_16 = ("NVIDIA GeForce RTX 4060 Ti", 16384.0)
RTX_3060_12 = ("NVIDIA GeForce RTX 3060", 12288.0)


def test_no_llm_target_is_skipped():
    f = llm_fit(facts_with(card(*RTX_3060_12)))
    assert f.status == Status.SKIP and "no LLM recipe given" in f.summary


def test_a_card_just_big_enough_after_the_recipe_s_change():
    f = llm_fit(facts_with(card(*RTX_4060TI_16)), BF16)
    assert f.status == Status.OK
    assert "llama-3.1-8b-infer-bf16 on GeForce RTX 4060 Ti 16 GB (16 GB): fits with 4-bit weights" in f.summary
    assert "needs 12.6 GB" in f.summary
    assert "decode tokens/s" in f.summary


def test_a_card_just_too_small_after_the_change_fails_with_what_would_fit():
    f = llm_fit(facts_with(card(*RTX_3060_12)), BF16)
    assert f.status == Status.FAIL
    assert "llama-3.1-8b-infer-bf16 on GeForce RTX 3060 12 GB (12 GB): does not fit: needs 23.8 GB" in f.summary
    assert "would fit:" in f.summary and "a card with 32 GB" in f.summary


def test_one_row_per_kind_of_gpu_and_the_worst_decides():
    f = llm_fit(facts_with(card(*RTX_4060TI_16), card(*RTX_3060_12, index=1)), BF16)
    assert f.status == Status.FAIL
    assert "RTX 3060 12 GB" in f.summary and "RTX 4060 Ti" not in f.summary   # fail lists misfits


def test_identical_gpus_are_one_row():
    f = llm_fit(facts_with(card(*RTX_4060TI_16), card(*RTX_4060TI_16, index=1)), BF16)
    assert f.summary.count("RTX 4060 Ti") == 1


# Free memory boundary: the adapted run needs 12.623 GB (see the module docstring).
# free = (16384 - used) / 1024: used 3450.88 MiB -> 12.63 GB free (just enough),
# used 3461.12 MiB -> 12.62 GB free (just short).
@pytest.mark.parametrize(("used_mib", "status"), [(3450.88, Status.OK), (3461.12, Status.WARN)])
def test_free_memory_just_enough_and_just_short(used_mib, status):
    f = llm_fit(facts_with(card(RTX_4060TI_16[0], RTX_4060TI_16[1], used_mib)), BF16)
    assert f.status == status
    if status == Status.WARN:
        assert "12.6 GB free now" in f.summary and "other processes hold 3.4 GB" in f.summary


def test_the_least_free_of_identical_gpus_counts():
    f = llm_fit(facts_with(card(*RTX_4060TI_16, used_mib=300.0),
                           card(RTX_4060TI_16[0], RTX_4060TI_16[1], 3461.12, index=1)), BF16)
    assert f.status == Status.WARN


def test_no_used_memory_reported_judges_the_card_only():
    f = llm_fit(facts_with(gpu(0, name=RTX_4060TI_16[0], memory_total_mib=16384.0,
                               memory_used_mib=None)), BF16)
    assert f.status == Status.OK and "free now" not in f.summary


def test_a_recipe_that_fits_as_written_says_no_change():
    f = llm_fit(facts_with(card(*RTX_4060TI_16)), Q4)
    assert f.status == Status.OK
    assert "llama-3.1-8b-infer-q4 on GeForce RTX 4060 Ti 16 GB (16 GB): fits, needs" in f.summary


def test_a_gpu_not_in_the_spec_database_is_said():
    f = llm_fit(facts_with(card("Imaginary Accelerator 9000", 16384.0)), Q4)
    assert "Imaginary Accelerator 9000: not in the GPU spec database" in f.summary


def test_no_gpu_facts_is_skipped():
    f = facts_with()
    f.torch = dataclasses.replace(f.torch, devices=[])
    got = llm_fit(f, Q4)
    assert got.status == Status.SKIP and "no GPU facts" in got.summary


def test_a_lost_gpu_is_not_judged():
    f = llm_fit(facts_with(gpu(0, name=RTX_3060_12[0], memory_total_mib=12288.0, lost=True),
                           card(*RTX_4060TI_16, index=1)), BF16)
    assert f.status == Status.OK and "3060" not in f.summary


# ---------------------------------------------------------------------- through the CLI

def _doctor(tmp_path, facts, *args):
    from rigcheck.facts import to_json
    from rigcheck.ui.app import app
    path = tmp_path / "facts.json"
    path.write_text(to_json(facts))
    res = CliRunner().invoke(app, ["doctor", "--facts", str(path), "--json", *args])
    return res.exit_code, json.loads(res.output)


def _llm(d):
    return next(f for f in d["findings"] if f["id"] == "ready.llm_fit")


def test_named_llm_target_that_does_not_fit_fails_the_doctor(tmp_path):
    code, d = _doctor(tmp_path, facts_with(card(*RTX_3060_12)), "--target", BF16.id)
    assert _llm(d)["status"] == "fail" and code == 1
    assert BF16.id in d["targets"]


def test_default_llm_recipes_are_information_and_exit_0(tmp_path):
    # The default mix includes llama-3.1-8b-qlora; on an 8 GB card it is information only.
    code, d = _doctor(tmp_path, facts_with(card("NVIDIA GeForce RTX 3060", 8192.0)))
    f = _llm(d)
    assert f["status"] == "ok" and f["summary"].startswith("for information")
    assert "llama-3.1-8b-qlora" in f["summary"]
    assert code == 0


def test_classic_and_llm_targets_together(tmp_path):
    code, d = _doctor(tmp_path, facts_with(card(*RTX_4060TI_16)), "--target", Q4.id,
                      "--target", "lenet5-mnist")
    assert d["targets"] == ["lenet5-mnist", Q4.id]
    assert _llm(d)["status"] == "ok"
    fit = next(f for f in d["findings"] if f["id"] == "ready.recipe_fit")
    assert "lenet5-mnist" in fit["summary"]


def test_unknown_target_is_still_a_usage_error():
    from rigcheck.ui.app import app
    res = CliRunner().invoke(app, ["doctor", "--facts", "tests/fixtures/facts/rtx3060_consumer.json",
                                   "--target", "no-such-recipe"])
    assert res.exit_code == 2

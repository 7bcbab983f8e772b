"""recommend/speed.py by value: what it asks the performance models and what it makes of their
answers. The models are replaced by fakes that record each call, so the micro-batch fallback,
the GPU count per kind of run, the time and the memo are pinned without the models' numbers.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import parts_factory as pf
import pytest

from rigcheck import perfmodel
from rigcheck.llm_recipes import LlmRecipe
from rigcheck.perfmodel import llm_configs, llm_estimate, model
from rigcheck.perfmodel.llm_estimate import RecipeFit
from rigcheck.perfmodel.llm_memory import LlmRun
from rigcheck.recommend import speed


def prediction(fits, batch_size, samples_per_s=100.0, train_s=500.0, memory_gb=7.5):
    return SimpleNamespace(fits=fits, batch_size=batch_size, samples_per_s=samples_per_s,
                           train_s=train_s, memory_gb=memory_gb)


@pytest.fixture
def classic(monkeypatch):
    """A fake perfmodel.predict that fits at a batch of at most ``fit_batch``, and a fake
    max_batch_that_fits that answers ``max_fit`` (``fit_batch`` unless set); records calls."""
    state = SimpleNamespace(fit_batch=64, max_fit=None, calls=[])

    def predict(recipe, gpu, n_gpus=1, nodes=1, batch_size=None):
        batch = batch_size or recipe.batch_size
        state.calls.append((n_gpus, nodes, batch_size))
        return prediction(batch <= state.fit_batch, batch, train_s=1000.0 / batch)

    def max_batch_that_fits(recipe, gpu):
        return state.fit_batch if state.max_fit is None else state.max_fit

    monkeypatch.setattr(perfmodel, "predict", predict)
    monkeypatch.setattr(model, "max_batch_that_fits", max_batch_that_fits)
    return state


def test_classic_fits_at_its_batch_unchanged(classic):
    recipe = pf.recipe(batch_size=64, adapt=("micro_batch",))
    got = speed.classic_estimate(recipe, pf.gpu(), 2, 3)
    assert classic.calls == [(2, 3, None)]
    assert (got.fits, got.batch_size, got.changes) == (True, 64, ())
    assert (got.samples_per_s, got.train_s, got.memory_gb) == (100.0, 1000.0 / 64, 7.5)
    assert got.recipe_id == recipe.id


def test_classic_misfit_without_the_adaptation_stays_a_misfit(classic):
    classic.fit_batch = 10
    got = speed.classic_estimate(pf.recipe(batch_size=64), pf.gpu(), 1, 1)
    assert classic.calls == [(1, 1, None)]
    assert (got.fits, got.batch_size, got.changes) == (False, 64, ())


def test_classic_micro_batch_with_accumulation(classic):
    # 64 does not fit, 24 does: the largest batch up to 24 that divides 64 is 16, accumulating
    # 64 / 16 = 4 (24 x 3 would make the global batch 72)
    classic.fit_batch = 24
    got = speed.classic_estimate(pf.recipe(batch_size=64, adapt=("micro_batch",)), pf.gpu(), 2, 1)
    assert classic.calls == [(2, 1, None), (2, 1, 16)]
    assert (got.fits, got.batch_size) == (True, 16)
    assert got.changes == ("batch 16 with gradient accumulation 4 (the same global batch of 64)",)
    # 32 divides 64 itself: accumulation 2; 31 falls back to 16
    for fit, used in ((32, 32), (31, 16), (17, 16), (15, 8)):
        classic.fit_batch = fit
        got = speed.classic_estimate(pf.recipe(batch_size=64, adapt=("micro_batch",)), pf.gpu(),
                                     1, 1)
        assert got.batch_size == used, fit
        assert got.changes == (f"batch {used} with gradient accumulation {64 // used} "
                               "(the same global batch of 64)",)
    # batch 48 (= 16 x 3), 20 fits: 16 x 3
    classic.fit_batch = 20
    got = speed.classic_estimate(pf.recipe(batch_size=48, adapt=("micro_batch",)), pf.gpu(), 1, 1)
    assert got.changes == ("batch 16 with gradient accumulation 3 (the same global batch of 48)",)


def test_classic_micro_batch_is_below_the_recipe_batch_and_at_least_one(classic):
    adaptable = pf.recipe(batch_size=64, adapt=("micro_batch",))
    # The memory model says 64 fits, the prediction says it does not: one less than the recipe's.
    # 63 does not divide 64: 32, the largest batch below it that does
    classic.fit_batch, classic.max_fit = 63, 64
    got = speed.classic_estimate(adaptable, pf.gpu(), 1, 1)
    assert classic.calls[1:] == [(1, 1, 32)] and got.batch_size == 32
    # Nothing fits (0): no second prediction, the misfit stands.
    classic.calls.clear()
    classic.fit_batch, classic.max_fit = 0, None
    got = speed.classic_estimate(adaptable, pf.gpu(), 1, 1)
    assert classic.calls == [(1, 1, None)] and got.fits is False and got.changes == ()
    # A batch of one fits: it is used, accumulating 64.
    classic.calls.clear()
    classic.fit_batch = 1
    got = speed.classic_estimate(adaptable, pf.gpu(), 1, 1)
    assert classic.calls == [(1, 1, None), (1, 1, 1)] and got.batch_size == 1
    assert got.changes == ("batch 1 with gradient accumulation 64 (the same global batch of 64)",)


# ---- LLM recipes -----------------------------------------------------------------------------

def llm_recipe(method="lora", train_tokens=1_000_000, generate_tokens=50_000, **run):
    return LlmRecipe(id="llm", name="llm", model="tiny", run=LlmRun(method=method, **run),
                     description="", source="", adapt=("micro_batch",),
                     train_tokens=train_tokens, generate_tokens=generate_tokens)


@pytest.fixture
def llm(monkeypatch):
    state = SimpleNamespace(fits=True, speed=2000.0, runs=[])

    def recipe_on_gpu(cfg, run, adapt_allowed, gpu):
        state.runs.append((cfg, run, adapt_allowed))
        return RecipeFit(state.fits, replace_micro(run), ("micro-batch 2",), 21.5, state.speed,
                         "training tokens/s" if run.training else "decode tokens/s")

    monkeypatch.setattr(llm_configs, "find_model", lambda name: f"cfg:{name}")
    monkeypatch.setattr(llm_estimate, "recipe_on_gpu", recipe_on_gpu)
    return state


def replace_micro(run):
    return dataclasses.replace(run, micro_batch=2)


def test_llm_training_uses_every_gpu_of_every_machine(llm):
    got = speed.llm_estimate(llm_recipe(), pf.gpu(), 2, 3)
    ((cfg, run, adapt),) = llm.runs
    assert cfg == "cfg:tiny" and run.n_gpus == 6 and adapt == ("micro_batch",)
    # 1,000,000 training tokens at 2,000 tokens/s
    assert got.train_s == 500.0 and got.samples_per_s == 2000.0
    assert (got.fits, got.memory_gb, got.batch_size) == (True, 21.5, 2)
    assert got.unit == "training tokens/s" and got.changes == ("micro-batch 2",)


def test_llm_single_gpu_run_is_passed_as_written(llm):
    recipe = llm_recipe()
    speed.llm_estimate(recipe, pf.gpu(), 1, 1)
    assert llm.runs[0][1] is recipe.run


def test_llm_inference_serves_from_one_machine(llm):
    recipe = llm_recipe(method="infer")
    got = speed.llm_estimate(recipe, pf.gpu(), 2, 3)
    assert llm.runs[0][1].n_gpus == 2
    assert got.train_s == 25.0 and got.unit == "decode tokens/s"      # 50,000 / 2,000
    llm.runs.clear()
    speed.llm_estimate(recipe, pf.gpu(), 1, 4)
    assert llm.runs[0][1] is recipe.run


def test_llm_misfit_or_no_speed_takes_forever(llm):
    llm.fits = False
    assert speed.llm_estimate(llm_recipe(), pf.gpu(), 1, 1).train_s == math.inf
    llm.fits, llm.speed = True, 0.0
    assert speed.llm_estimate(llm_recipe(), pf.gpu(), 1, 1).train_s == math.inf
    llm.speed = 0.001
    assert speed.llm_estimate(llm_recipe(), pf.gpu(), 1, 1).train_s == 1_000_000 / 0.001


# ---- the memoised estimator --------------------------------------------------------------------

def test_estimator_routes_by_kind_and_memoises_per_target_gpu_count_nodes(classic, llm):
    estimate = speed.perfmodel_estimator()
    recipe, gpu = pf.recipe(), pf.gpu()
    first = estimate(recipe, gpu, 1, 1)
    assert estimate(recipe, gpu, 1, 1) is first and len(classic.calls) == 1
    estimate(recipe, gpu, 2, 1)
    estimate(recipe, gpu, 2, 2)
    estimate(recipe, pf.gpu("other"), 2, 2)
    assert len(classic.calls) == 4
    got = estimate(llm_recipe(), gpu, 1, 1)
    assert got.unit == "training tokens/s" and len(llm.runs) == 1 and len(classic.calls) == 4
    estimate(llm_recipe(), gpu, 1, 1)
    assert len(llm.runs) == 1

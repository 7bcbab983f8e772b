"""The recommender's speed estimates, from the calibrated performance models.

Classic recipes go through :func:`rigcheck.perfmodel.predict`; a recipe that allows it
(``adapt = ["micro_batch"]``) and does not fit at its batch runs at the largest batch that fits
and divides its own batch, with gradient accumulation making up the rest: the global batch, and so
the recipe's learning-rate schedule, stay exactly as written. LLM recipes go through
:func:`rigcheck.perfmodel.llm_estimate.recipe_on_gpu`, which makes the changes the recipe allows
(smaller micro-batch, checkpointing, QLoRA, 4-bit weights); the time is the recipe's work
(``train_tokens`` or ``generate_tokens``) over the predicted tokens/s. Each estimate says what was
changed, so the build's page can print it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from rigcheck.llm_recipes import LlmRecipe
from rigcheck.parts import Gpu
from rigcheck.recipes import Recipe
from rigcheck.recommend.search import Estimator, TargetEstimate


def classic_estimate(recipe: Recipe, gpu: Gpu, count: int, nodes: int) -> TargetEstimate:
    from rigcheck import perfmodel
    from rigcheck.perfmodel.model import max_batch_that_fits

    p = perfmodel.predict(recipe, gpu, n_gpus=count, nodes=nodes)
    changes: tuple[str, ...] = ()
    if not p.fits and "micro_batch" in recipe.adapt:
        fit = min(max_batch_that_fits(recipe, gpu), recipe.batch_size - 1)
        batch = next((b for b in range(fit, 0, -1) if recipe.batch_size % b == 0), 0)
        if batch >= 1:
            p = perfmodel.predict(recipe, gpu, n_gpus=count, nodes=nodes, batch_size=batch)
            accum = recipe.batch_size // batch
            changes = (f"batch {batch} with gradient accumulation {accum} "
                       f"(the same global batch of {recipe.batch_size})",)
    return TargetEstimate(recipe_id=recipe.id, fits=p.fits, samples_per_s=p.samples_per_s,
                          train_s=p.train_s, memory_gb=p.memory_gb, batch_size=p.batch_size,
                          changes=changes)


def llm_estimate(recipe: LlmRecipe, gpu: Gpu, count: int, nodes: int) -> TargetEstimate:
    """Training runs use every GPU of every machine (data parallel); inference serves from one
    machine's GPUs (tensor parallel across them when there are several)."""
    from rigcheck.perfmodel.llm_configs import find_model
    from rigcheck.perfmodel.llm_estimate import recipe_on_gpu

    gpus = count * nodes if recipe.run.training else count
    run = recipe.run if gpus == 1 else replace(recipe.run, n_gpus=gpus)
    fit = recipe_on_gpu(find_model(recipe.model), run, recipe.adapt, gpu)
    work = recipe.work_tokens
    seconds = work / fit.speed if fit.fits and fit.speed > 0 else math.inf
    return TargetEstimate(recipe_id=recipe.id, fits=fit.fits, samples_per_s=fit.speed,
                          train_s=seconds, memory_gb=fit.memory_gb,
                          batch_size=fit.run.micro_batch, unit=fit.unit, changes=fit.changes)


def perfmodel_estimator() -> Estimator:
    """Each target on a GPU option, by the model that owns its kind; memoised, since the search
    asks again for every GPU count, every price-age pass and every default-mix step."""
    memo: dict[tuple[str, Gpu, int, int], TargetEstimate] = {}

    def estimate(target: Any, gpu: Gpu, count: int, nodes: int) -> TargetEstimate:
        key = (target.id, gpu, count, nodes)
        if key not in memo:
            if isinstance(target, LlmRecipe):
                memo[key] = llm_estimate(target, gpu, count, nodes)
            else:
                memo[key] = classic_estimate(target, gpu, count, nodes)
        return memo[key]

    return estimate

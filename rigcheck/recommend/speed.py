"""The recommender's speed estimates, from the calibrated performance model."""

from __future__ import annotations

from rigcheck.parts import Gpu
from rigcheck.recipes import Recipe
from rigcheck.recommend.search import Estimator, TargetEstimate


def perfmodel_estimator() -> Estimator:
    """Predicted training of each target on a GPU option (``rigcheck.perfmodel.predict``)."""
    from rigcheck import perfmodel

    def estimate(recipe: Recipe, gpu: Gpu, count: int, nodes: int) -> TargetEstimate:
        p = perfmodel.predict(recipe, gpu, n_gpus=count, nodes=nodes)
        return TargetEstimate(recipe_id=recipe.id, fits=p.fits, samples_per_s=p.samples_per_s,
                              train_s=p.train_s, memory_gb=p.memory_gb, batch_size=p.batch_size)

    return estimate

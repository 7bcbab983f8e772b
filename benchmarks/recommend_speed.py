"""How long `recommend` takes on the bundled catalog and on synthetic catalogs up to 20x larger.

Goal (issue 2): <= 0.5 s for the bundled catalog, <= 2 s at 20x. The synthetic catalog repeats
every part kind (and complete systems) k times with prices jittered by up to +-15% (seeded), so the search meets many
near-ties as a real, larger price list would. Times the search alone (catalog loading and the
performance model's per-option predictions are cached by the first run and reported apart).

    python benchmarks/recommend_speed.py
"""

from __future__ import annotations

import dataclasses
import functools
import random
import statistics
import time

from rigcheck import catalog as catalog_mod
from rigcheck import recipes
from rigcheck.llm_recipes import default_mix as llm_default_mix
from rigcheck.llm_recipes import load_llm_recipes
from rigcheck.recommend import Request, recommend
from rigcheck.recommend.speed import perfmodel_estimator

KINDS = ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases")
# Scaled too: complete systems (catalog/systems.csv) are judged beside the parts builds.
SCALED = (*KINDS, "systems")


def scaled(catalog, k: int, seed: int = 0):
    rng = random.Random(seed)
    groups = {}
    for kind in SCALED:
        items = []
        for part in getattr(catalog, kind):
            items.append(part)
            for i in range(1, k):
                price = dataclasses.replace(part.price, inr=part.price.inr * rng.uniform(0.85, 1.15))
                items.append(dataclasses.replace(part, id=f"{part.id}~{i}", price=price))
        groups[kind] = tuple(items)
    return dataclasses.replace(catalog, **groups)


def cached(estimator):
    memo = {}

    def estimate(recipe, gpu, count, nodes=1):
        key = (recipe.id, gpu.id.split("~")[0], count, nodes)
        if key not in memo:
            memo[key] = estimator(recipe, gpu, count, nodes)
        return memo[key]             # as the CLI's own memo does (speed.perfmodel_estimator)
    return estimate


def median_time(fn, n=5):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    t0 = time.perf_counter()
    base = catalog_mod.load_catalog()
    print(f"catalog load (CSV, validation): {(time.perf_counter() - t0) * 1000:.0f} ms")
    targets = recipes.default_mix(recipes.load_recipes())
    wanted = llm_default_mix(load_llm_recipes())
    estimate = perfmodel_estimator()
    requests = {
        "125000INR desktop x1": Request(budget_inr=125_000, targets=targets),
        # The CLI's default: the LLM mix wanted, so up to 1 + 1 + 3 searches (all; the classic
        # mix alone; each LLM target in turn) when the budget cannot run them all.
        "125000INR +LLM wanted": Request(budget_inr=125_000, targets=targets, wanted=wanted),
        "3 lakh +LLM wanted": Request(budget_inr=300_000, targets=targets, wanted=wanted),
        "5 lakh server auto": Request(budget_inr=500_000, targets=targets,
                                      gpu_counts=tuple(range(1, 9)), platform_class="server"),
        "50 lakh any auto": Request(budget_inr=5_000_000, targets=targets,
                                    gpu_counts=tuple(range(1, 9))),
        # Reaches the bundled complete system (4 x RTX PRO 6000) as the pick.
        "2 crore x4 +LLM wanted": Request(budget_inr=20_000_000, targets=targets, wanted=wanted,
                                          gpu_counts=(4,)),
    }
    print(f"{'request':<24}{'catalog':>9}{'parts':>8}{'median ms':>11}{'min':>8}{'max':>8}")
    for label, req in requests.items():
        for k in (1, 2, 5, 10, 20):
            cat = scaled(base, k)
            est = cached(estimate)
            recommend(cat, req, est)                         # warm the prediction cache
            med, lo, hi = median_time(functools.partial(recommend, cat, req, est))
            n_parts = sum(len(getattr(cat, kind)) for kind in SCALED)
            print(f"{label:<24}{str(k) + 'x':>9}{n_parts:>8}{med * 1000:>11.1f}{lo * 1000:>8.1f}"
                  f"{hi * 1000:>8.1f}")
    # End to end, uncached, as the CLI runs it (predictions included).
    req = requests["125000INR desktop x1"]
    med, lo, hi = median_time(lambda: recommend(base, req, perfmodel_estimator()), n=3)
    print(f"end to end on the bundled catalog, predictions included: median {med * 1000:.0f} ms")


if __name__ == "__main__":
    main()

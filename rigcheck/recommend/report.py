"""A recommendation as plain data: the documented ``rigcheck recommend --json`` interface.

Schema (stable; fields are only ever added):

```
{
  "schema": 1,
  "budget": {"text": "125000INR", "amount": 125000, "currency": "INR", "inr": 125000},
  "display_currency": "INR",
  "rates": {"USD": {"inr_per_unit": 91.49, "date": "2026-02-02", "source": "..."}},
  "catalog": {"sources": ["catalog"], "oldest_price_date": "...", "newest_price_date": "...",
              "age_days": 12, "stale": false},
  "request": {"targets": ["resnet50-imagenet"], "gpu_counts": [1], "class": null,
              "circuit": "india-16a", "circuit_w": 2944, "circuit_v": 230, "allow_used": false},
  "builds": [                                   # best first; empty when nothing fits
    {"rank": 1, "total_inr": 123456, "left_inr": 1544, "power_w": 420, "wall_w": 467,
     "psu_w": 650, "psu_headroom_pct": 54.8, "ram_gb": 32, "gpu_count": 1,
     "nodes": 1, "node_inr": 123456, "inr_per_run_per_day": 157000.0,
     "gpu_slot_positions": [1], "total_train_s": 110000.0,
     "parts": [{"kind": "gpu", "id": "...", "name": "...", "count": 1, "unit_price_inr": 49999,
                "price_inr": 49999, "price_date": "2026-10-01", "price_kind": "street",
                "source": "...", "vram_gb": 16}, ...],   # memory/storage parts carry capacity_gb
     "targets": [{"recipe": "resnet50-imagenet", "fits": true, "memory_gb": 11.2,
                  "batch_size": 128, "samples_per_s": 1050.0, "train_s": 110000.0}],
     "slower_than_best_pct": 0.0}
  ],
  "upgrade": {"extra_inr": 20000, "speedup_pct": 35.0, "build": {...same shape...}} | null,
  "cheapest_total_inr": 78000 | null,
  "cheapest": {...} | null,                     # that build, as in builds (left_inr < 0: over)
  "excluded": {"gtx-980": "legacy card ...", ...}
}
```
INR figures are always present whatever the display currency.

Added for issue 9 (schema 1 still; fields only added):

- ``request.objective`` (``value`` | ``fastest``), ``request.allow_unsourced``;
- each part: ``price_origin`` (``quote``: an Indian rupee quote; ``landed``: a foreign price x
  rate x landed-cost factors; ``conversion``: a foreign price x rate only), ``landed_multiplier``,
  ``price_age_days`` and ``stale`` (seen more than 12 months ago);
- each build: ``speed_pct_of_pick`` (100 x pick time / this time: "runs at 53% of the speed"),
  ``time_vs_pick_pct`` (100 x (this time / pick time - 1): "takes 88% longer"; negative: faster),
  ``on_frontier``; ``slower_than_best_pct`` is the same figure as ``time_vs_pick_pct``;
- ``frontier``: every build within budget that no other beats on both price and time, cheapest
  first (same shape as builds);
- ``excluded_parts``: part id -> why its price was not used (unsourced or older than 12 months);
- ``old_prices``: true when no build exists with prices seen in the last 12 months and the
  builds use older cited prices (each such part has ``stale`` true);
- each build (and frontier build and upgrade): ``running_cost`` (``tariff`` {price_inr_per_kwh,
  label, id, date, source}, ``wall_w``, ``per_target`` [{recipe, kwh, inr}], ``mix_kwh``,
  ``mix_inr``, ``per_hour_inr``) or null without a tariff, and ``cloud`` ({``offer`` {id,
  provider, gpu_name, gpu_id, price_per_gpu_hour, currency, billing, region, date, source, note},
  ``match`` ("same card" | "similar speed"), ``gpus``, ``inr_per_hour``, ``mix_hours``,
  ``mix_inr``, ``break_even_hours``, ``break_even_runs``} or null when no offer compares);
  see :mod:`rigcheck.recommend.costs`;
- complete systems (catalog/systems.csv, :mod:`rigcheck.recommend.systems`; issue 9 item 7):
  each build has ``complete_system`` (null for a build from parts; else {id, name, vendor,
  chassis_class, rack_units, gpus_included, cpu_name, cpu_cores, ram_gb, storage_gb, psu_w,
  max_draw_w, power_inlets, circuits_needed, price_inr, price_usd, price_date, price_kind,
  price_basis, price_origin, price_source, notes}) and ``circuits_needed`` (wall circuits one
  machine needs: 1 for parts builds). A system build's ``parts`` are the cards (kind ``gpu``;
  ``price_inr`` 0 and ``included_in`` the system id when its price includes them) and the
  system (kind ``system``, priced as sold, with the system's figures), so the parts still add
  up to ``total_inr``; ``gpu_slot_positions`` is empty (the maker seats the cards);
- ``excluded_systems``: system id -> why the request could not use it (GPU count, class, price,
  circuit, workload, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from rigcheck.parts import Catalog
from rigcheck.recommend import rules
from rigcheck.recommend.search import AnyBuild, Recommendation
from rigcheck.recommend.systems import SystemBuild, part_dicts, system_info

SCHEMA = 1


def _part(kind: str, part: Any, count: int, today: date | None = None) -> dict[str, Any]:
    age = (today - part.price.date).days if today else None
    out: dict[str, Any] = {
        "kind": kind, "id": part.id, "name": part.name, "count": count,
        "unit_price_inr": round(part.price.inr, 2),
        "price_inr": round(part.price.inr * count, 2),
        "price_usd": part.price.usd, "price_date": part.price.date.isoformat(),
        "price_kind": part.price.kind, "price_basis": part.price.basis,
        "price_origin": part.price.origin,
        "landed_multiplier": round(part.price.landed_multiplier, 4),
        "price_age_days": age,
        "stale": age is not None and age > rules.BUILD_PRICE_MAX_AGE_DAYS,
        "source": part.price.source,
    }
    if kind == "gpu":
        out.update(vram_gb=part.vram_gb, architecture=part.architecture,
                   availability=part.availability, cooler=part.cooler,
                   tdp_w=part.tdp_w, slot_width=part.slot_width, length_mm=part.length_mm)
    elif kind == "memory":
        out.update(capacity_gb=part.capacity_gb * count, memory_type=part.memory_type)
    elif kind == "storage":
        out.update(capacity_gb=part.capacity_gb, seq_read_mbs=part.seq_read_mbs,
                   storage_kind=part.kind)
    elif kind == "cpu":
        out.update(cores=part.cores, socket=part.socket, tdp_w=part.tdp_w)
    elif kind == "motherboard":
        out.update(socket=part.socket, form_factor=part.form_factor,
                   memory_type=part.memory_type, platform_class=part.platform_class)
    elif kind == "psu":
        out.update(watts=part.watts, efficiency=part.efficiency)
    elif kind == "case":
        out.update(max_gpu_length_mm=part.max_gpu_length_mm,
                   expansion_slots=part.expansion_slots, chassis_class=part.chassis_class,
                   passive_gpu_rated=part.passive_gpu_rated)
    return out


def build_dict(build: AnyBuild, budget_inr: float, best: AnyBuild | None = None,
               today: date | None = None) -> dict[str, Any]:
    pick_s = best.total_train_s if best else build.total_train_s
    return {
        "total_inr": round(build.total_inr, 2),
        "left_inr": round(budget_inr - build.total_inr, 2),
        "nodes": build.nodes,
        "node_inr": round(build.node_inr, 2),
        # What a unit of training speed costs: rupees per (training of the whole target mix per
        # day). Lower is better; compares builds of any size, node count or GPU count.
        "inr_per_run_per_day": round(inr_per_speed(build), 2),
        "power_w": round(build.draw_w),
        "wall_w": round(build.wall_w),
        "psu_w": build.psu_watts,
        "psu_headroom_pct": round(build.psu_headroom_pct, 1),
        "ram_gb": build.ram_gb,
        "gpu_count": build.gpu_count,
        "gpu_slot_positions": list(build.gpu_positions),
        "total_train_s": round(build.total_train_s, 1),
        "slower_than_best_pct": (round(slower_pct(build, best), 1) if best else 0.0),
        "time_vs_pick_pct": round(time_vs_pct(build.total_train_s, pick_s), 1),
        "speed_pct_of_pick": round(speed_pct_of(build.total_train_s, pick_s), 1),
        "parts": (part_dicts(build, _part, today) if isinstance(build, SystemBuild) else
                  [_part(kind, part, count, today) for kind, part, count in build.parts()]),
        # A complete system (catalog/systems.csv) bought as one machine, with where its price
        # came from; null for a build from parts.
        "complete_system": system_info(build) if isinstance(build, SystemBuild) else None,
        "circuits_needed": build.circuits if isinstance(build, SystemBuild) else 1,
        "targets": [
            {"recipe": e.recipe_id, "fits": e.fits, "memory_gb": round(e.memory_gb, 2),
             "batch_size": e.batch_size, "samples_per_s": round(e.samples_per_s, 1),
             "unit": e.unit, "changes": list(e.changes), "train_s": round(e.train_s, 1)}
            for e in build.estimates
        ],
    }


def inr_per_speed(build: AnyBuild) -> float:
    """Rupees per unit of training speed, speed being trainings of the target mix per day."""
    if build.total_train_s <= 0:
        return 0.0
    return build.total_inr / (86400.0 / build.total_train_s)


def slower_pct(build: AnyBuild, best: AnyBuild) -> float:
    """How much longer this build takes to train the targets than the best, in percent."""
    return (build.total_train_s / best.total_train_s - 1.0) * 100.0


def speedup_pct(faster: AnyBuild, base: AnyBuild) -> float:
    return (base.total_train_s / faster.total_train_s - 1.0) * 100.0


def time_vs_pct(train_s: float, pick_s: float) -> float:
    """How much longer (positive) or shorter (negative) than the pick, in percent of its time."""
    return (train_s / pick_s - 1.0) * 100.0 if pick_s > 0 else 0.0


def speed_pct_of(train_s: float, pick_s: float) -> float:
    """Speed as a percentage of the pick's (100 x pick time / this time)."""
    return pick_s / train_s * 100.0 if train_s > 0 else 0.0


def compare_words(train_s: float, pick_s: float) -> str:
    """"runs at 53% of the speed (takes 88% longer)" or "runs 12% faster"; never "N% slower"."""
    speed = speed_pct_of(train_s, pick_s)
    longer = time_vs_pct(train_s, pick_s)
    if round(speed) == 100:
        return "the same speed"
    if speed < 100:
        return f"runs at {speed:.0f}% of the speed (takes {longer:.0f}% longer)"
    return f"runs {speed - 100:.0f}% faster (takes {-longer:.0f}% less time)"


def to_dict(rec: Recommendation, *, budget: Mapping[str, Any], catalog: Catalog,
            catalog_info: Mapping[str, Any], display_currency: str, circuit: str,
            extras: Callable[[AnyBuild], dict[str, Any]] | None = None) -> dict[str, Any]:
    """``extras(build)`` adds keys to each build's dict (the CLI adds ``running_cost`` and
    ``cloud``, :mod:`rigcheck.recommend.costs`)."""
    best = rec.best
    req = rec.request
    today = req.today
    frontier_ids = {id(b) for b in rec.frontier}
    more = extras or (lambda b: {})
    builds = []
    for rank, b in enumerate(rec.builds, start=1):
        d = build_dict(b, req.budget_inr, best, today)
        d.update(more(b))
        d["rank"] = rank
        d["on_frontier"] = id(b) in frontier_ids
        builds.append(d)
    upgrade = None
    if best is not None and rec.upgrade is not None:
        upgrade = {
            "extra_inr": round(rec.upgrade.total_inr - best.total_inr, 2),
            "speedup_pct": round(speedup_pct(rec.upgrade, best), 1),
            "build": {**build_dict(rec.upgrade, req.budget_inr, best, today),
                      **more(rec.upgrade)},
        }
    return {
        "schema": SCHEMA,
        "budget": dict(budget),
        "display_currency": display_currency,
        "rates": {r.currency: {"inr_per_unit": r.inr_per_unit, "date": r.date.isoformat(),
                               "source": r.source} for r in catalog.rates},
        "catalog": dict(catalog_info),
        "request": {
            "targets": [t.id for t in req.targets], "gpu_counts": list(req.gpu_counts),
            "class": req.platform_class, "circuit": circuit, "circuit_w": req.circuit_w,
            "circuit_v": req.circuit_v,
            "allow_used": req.allow_used, "allow_legacy": req.allow_legacy,
            "nodes": req.nodes, "objective": req.objective,
            "allow_unsourced": req.allow_unsourced,
        },
        "builds": builds,
        "frontier": [{**build_dict(b, req.budget_inr, best, today), **more(b)}
                     for b in rec.frontier],
        "excluded_parts": dict(sorted(rec.excluded_parts.items())),
        "old_prices": rec.old_prices,
        "upgrade": upgrade,
        "cheapest_total_inr": round(rec.cheapest.total_inr, 2) if rec.cheapest else None,
        # The cheapest complete build of any option, within budget or not (its left_inr is
        # negative when it is over): what "no build fits" would cost.
        "cheapest": build_dict(rec.cheapest, req.budget_inr, best, today) if rec.cheapest else None,
        "excluded": dict(sorted(rec.excluded.items())),
        # Complete systems (catalog/systems.csv) the request could not use, and why.
        "excluded_systems": dict(sorted(rec.excluded_systems.items())),
        # Default-mix LLM targets no build within budget runs: why, and the cheapest that does.
        "dropped": [{"recipe": d.recipe_id, "reason": d.reason,
                     "cheapest": ({**build_dict(d.cheapest, req.budget_inr, best, today),
                                   "extra_inr": round(d.cheapest.total_inr - best.total_inr, 2)
                                   if best else None}
                                  if d.cheapest else None)}
                    for d in rec.dropped],
    }

"""What a build costs to run, and what the same work costs rented (issue 9 item 6). Pure.

Electricity: the build's wall draw (:func:`rules.wall_w`, sustained training) times the predicted
time of each target, at a dated tariff from ``catalog/tariff.csv`` (or ``--tariff``). Renting: the
nearest comparable offer of ``catalog/cloud.csv`` (the same card when one is offered, else the
offered card whose predicted time for the mix is closest to the build's), for the same GPU count,
priced as listed (GST excluded where the provider lists it so, said in each row's note).

Break-even: owning costs the purchase plus electricity per hour of training; renting the same
work costs the offer's hourly rate scaled by how much longer or shorter the rented card takes. They
meet after ``purchase / (rent per build-hour - electricity per hour)`` hours of training; never,
when renting costs less per hour than the electricity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rigcheck.parts import Catalog, CloudOffer, Tariff
from rigcheck.recommend.search import AnyBuild, Estimator, Target

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class TariffChoice:
    price_inr_per_kwh: float
    label: str                       # "Tamil Nadu residential (tn-..., 2024-07-01)" or "--tariff"
    tariff: Tariff | None            # None when --tariff gave a number


def default_tariff(tariffs: Sequence[Tariff]) -> Tariff | None:
    """The median residential tariff (the lower middle of an even count): tariffs differ by state
    about twofold (Karnataka Rs 6.16, Maharashtra Rs 12.57 per kWh), so neither extreme."""
    rows = sorted((t for t in tariffs if t.consumer == "residential"),
                  key=lambda t: (t.price_inr_per_kwh, t.id))
    return rows[(len(rows) - 1) // 2] if rows else None


def choose_tariff(tariffs: Sequence[Tariff], text: str | None) -> TariffChoice | None:
    """``--tariff``: a number in INR per kWh, or a tariff id; None: the default tariff.
    Raises ValueError with a one-line message for anything else."""
    if text is None:
        row = default_tariff(tariffs)
        return _choice(row) if row else None
    cleaned = text.strip().replace("₹", "").lower().removesuffix("/kwh").strip()
    try:
        value = float(cleaned)
    except ValueError:
        match = [t for t in tariffs if t.id == text.strip()]
        if not match:
            known = ", ".join(t.id for t in tariffs) or "none in tariff.csv"
            raise ValueError(f"--tariff {text!r}: give INR per kWh (e.g. 8.5) or a tariff id "
                             f"({known})") from None
        return _choice(match[0])
    if not 0.5 <= value <= 100 or math.isnan(value):  # pragma: no mutate
        raise ValueError(f"--tariff {text!r}: INR per kWh must be between 0.5 and 100")
    return TariffChoice(value, f"--tariff ₹{value:g}/kWh", None)


def _choice(t: Tariff) -> TariffChoice:
    return TariffChoice(t.price_inr_per_kwh,
                        f"{t.region} {t.consumer} ({t.id}, {t.date.isoformat()})", t)


def energy_kwh(wall_w: float, train_s: float) -> float:
    return wall_w * train_s / SECONDS_PER_HOUR / 1000.0


def running_cost(build: AnyBuild, tariff: TariffChoice) -> dict[str, Any]:
    """Energy and rupees of one training run of each target, and per hour of training."""
    wall = build.wall_w * build.nodes
    per_target = []
    for e in build.estimates:
        kwh = energy_kwh(wall, e.train_s)
        per_target.append({"recipe": e.recipe_id, "kwh": round(kwh, 4),
                           "inr": round(kwh * tariff.price_inr_per_kwh, 2)})
    mix_kwh = energy_kwh(wall, build.total_train_s)
    t = tariff.tariff
    return {
        "tariff": {"price_inr_per_kwh": tariff.price_inr_per_kwh, "label": tariff.label,
                   "id": t.id if t else None, "date": t.date.isoformat() if t else None,
                   "source": t.source if t else "--tariff"},
        "wall_w": round(wall),
        "per_target": per_target,
        "mix_kwh": round(mix_kwh, 4),
        "mix_inr": round(mix_kwh * tariff.price_inr_per_kwh, 2),
        "per_hour_inr": round(wall / 1000.0 * tariff.price_inr_per_kwh, 2),
    }


def offer_inr_per_gpu_hour(offer: CloudOffer, rates: Mapping[str, float]) -> float | None:
    rate = 1.0 if offer.currency == "INR" else rates.get(offer.currency)
    return offer.price_per_gpu_hour * rate if rate else None


def nearest_offer(build: AnyBuild, catalog: Catalog, targets: Sequence[Target],
                  estimate: Estimator, rates: Mapping[str, float]
                  ) -> tuple[CloudOffer, str, float] | None:
    """(offer, "same card" | "similar speed", predicted seconds of the mix on it) or None.

    Only offers whose card is in gpus.csv can be compared (the model predicts their time); among
    the same card's offers the cheapest per GPU-hour wins, on-demand before spot (spot can be
    taken away mid-run)."""
    gpus = {g.id: g for g in catalog.gpus}
    count, nodes = build.gpu_count, build.nodes
    candidates = []
    for offer in catalog.cloud:
        gpu = gpus.get(offer.gpu_id)
        inr = offer_inr_per_gpu_hour(offer, rates)
        if gpu is None or inr is None:
            continue
        ests = [estimate(t, gpu, count, nodes) for t in targets]
        if not all(e.fits for e in ests):
            continue
        seconds = sum(e.train_s for e in ests)
        same = offer.gpu_id == build.gpu.id
        distance = 0.0 if same else abs(math.log(seconds / build.total_train_s))  # pragma: no mutate
        candidates.append(((not same, offer.billing == "spot", distance, inr, offer.id),
                           offer, "same card" if same else "similar speed", seconds))
    if not candidates:
        return None
    _, offer, match, seconds = min(candidates, key=lambda c: c[0])
    return offer, match, seconds


def cloud_compare(build: AnyBuild, catalog: Catalog, targets: Sequence[Target], estimate: Estimator,
                  rates: Mapping[str, float], running: Mapping[str, Any] | None
                  ) -> dict[str, Any] | None:
    found = nearest_offer(build, catalog, targets, estimate, rates)
    if found is None:
        return None
    offer, match, seconds = found
    gpus = build.gpu_count * build.nodes
    inr_gpu_hour = offer_inr_per_gpu_hour(offer, rates) or 0.0
    rent_hour = inr_gpu_hour * gpus
    mix_inr = rent_hour * seconds / SECONDS_PER_HOUR
    # Renting the work one hour of this build does: the rented card takes seconds/total as long.
    rent_per_build_hour = rent_hour * seconds / build.total_train_s
    power_hour = running["per_hour_inr"] if running else 0.0
    margin = rent_per_build_hour - power_hour
    hours = build.total_inr / margin if margin > 0 else None
    return {
        "offer": {"id": offer.id, "provider": offer.provider, "gpu_name": offer.gpu_name,
                  "gpu_id": offer.gpu_id, "price_per_gpu_hour": offer.price_per_gpu_hour,
                  "currency": offer.currency, "billing": offer.billing, "region": offer.region,
                  "date": offer.date.isoformat(), "source": offer.source, "note": offer.note},
        "match": match,
        "gpus": gpus,
        "inr_per_hour": round(rent_hour, 2),
        "mix_hours": round(seconds / SECONDS_PER_HOUR, 3),
        "mix_inr": round(mix_inr, 2),
        "break_even_hours": round(hours, 1) if hours is not None else None,
        "break_even_runs": (round(hours * SECONDS_PER_HOUR / build.total_train_s, 1)
                            if hours is not None else None),
    }

"""Running cost and buy-vs-rent (rigcheck.recommend.costs): figures worked out by hand."""

from __future__ import annotations

import dataclasses
from datetime import date

import parts_factory as pf
import pytest

from rigcheck.parts import CloudOffer, Tariff
from rigcheck.recommend import Request, TargetEstimate, costs, recommend

D = date(2026, 6, 1)


def tariff(id, price, consumer="residential"):
    return Tariff(id=id, region=id, consumer=consumer, price_inr_per_kwh=price, date=D,
                  source="test")


def offer(id, gpu_id, price, currency="INR", billing="on-demand"):
    return CloudOffer(id=id, provider="P", gpu_id=gpu_id, gpu_name=gpu_id, gpus=1,
                      price_per_gpu_hour=price, currency=currency, billing=billing,
                      region="India", date=D, source="test")


TIMES = {"mine": 3600.0, "twin": 3600.0, "slow": 7200.0, "fast": 1800.0, "small": 3600.0}


def estimate(recipe, gpu, count, nodes=1):
    t = TIMES[gpu.id] / count
    return TargetEstimate(recipe_id=recipe.id, fits=gpu.vram_gb >= 8, samples_per_s=1.0,
                          train_s=t, memory_gb=4.0, batch_size=8)


def build_and_catalog(offers, gpu_inr=49000):
    # total = 49,000 GPU + 51,000 rest = 1,00,000; draw 200 W + 65 W + 75 W = 340 W,
    # wall 340 / 0.9 = 377.8 W
    gpus = [pf.gpu("mine", inr=gpu_inr), pf.gpu("twin"), pf.gpu("slow"), pf.gpu("fast"),
            pf.gpu("small", vram_gb=4)]
    catalog = dataclasses.replace(pf.catalog(gpus=gpus[:1]), cloud=tuple(offers))
    build = recommend(catalog, Request(budget_inr=10**6, targets=(pf.recipe(),)), estimate).best
    full = dataclasses.replace(catalog, gpus=tuple(gpus))
    return build, full


def test_energy_by_hand():
    assert costs.energy_kwh(500.0, 3600.0) == pytest.approx(0.5)
    assert costs.energy_kwh(1000.0, 1800.0) == pytest.approx(0.5)


def test_running_cost_of_a_build():
    build, _ = build_and_catalog([])
    assert build.total_inr == 100000
    run = costs.running_cost(build, costs.TariffChoice(9.0, "test", None))
    wall = 340 / 0.9
    assert run["wall_w"] == round(wall)
    assert run["per_hour_inr"] == pytest.approx(wall / 1000 * 9, abs=0.01)     # ₹3.40
    assert run["mix_kwh"] == pytest.approx(wall / 1000, abs=1e-4)              # one hour
    assert run["per_target"][0]["inr"] == pytest.approx(wall / 1000 * 9, abs=0.01)


def test_default_tariff_is_the_median_residential_row():
    rows = [tariff("ka", 6.16), tariff("mh", 12.57), tariff("dl", 6.50), tariff("tn", 6.45),
            tariff("shop", 2.0, consumer="commercial")]
    assert costs.default_tariff(rows).id == "tn"          # 6.16, 6.45 | 6.50, 12.57
    assert costs.default_tariff(rows[:3]).id == "dl"      # 6.16, 6.50, 12.57
    assert costs.default_tariff([tariff("shop", 2.0, consumer="commercial")]) is None


@pytest.mark.parametrize("text, price", [("8.5", 8.5), ("₹8/kWh", 8.0), ("0.5", 0.5),
                                         ("100", 100.0), ("ka", 6.16)])
def test_tariff_option(text, price):
    assert costs.choose_tariff([tariff("ka", 6.16)], text).price_inr_per_kwh == price


@pytest.mark.parametrize("text, why", [("0.49", "between 0.5 and 100"),
                                       ("100.5", "between 0.5 and 100"),
                                       ("nan", "between 0.5 and 100"),
                                       ("gujarat", "give INR per kWh .* or a tariff id \\(ka\\)")])
def test_bad_tariff_option(text, why):
    with pytest.raises(ValueError, match=why):
        costs.choose_tariff([tariff("ka", 6.16)], text)


def test_the_same_card_wins_over_a_cheaper_similar_one():
    build, catalog = build_and_catalog([offer("a", "twin", 10.0), offer("b", "mine", 50.0)])
    found = costs.nearest_offer(build, catalog, (pf.recipe(),), estimate, {})
    assert found[0].id == "b" and found[1] == "same card"


def test_on_demand_before_spot_of_the_same_card():
    build, catalog = build_and_catalog([offer("spot", "mine", 10.0, billing="spot"),
                                        offer("od", "mine", 50.0)])
    assert costs.nearest_offer(build, catalog, (pf.recipe(),), estimate, {})[0].id == "od"


def test_otherwise_the_closest_speed():
    # build: 3600 s; slow 7200 s (ln 2 away), fast 1800 s (ln 2 away): a tie, so the cheaper
    build, catalog = build_and_catalog([offer("s", "slow", 20.0), offer("f", "fast", 30.0)])
    assert costs.nearest_offer(build, catalog, (pf.recipe(),), estimate, {})[0].id == "s"
    build, catalog = build_and_catalog([offer("s", "slow", 20.0), offer("t", "twin", 90.0)])
    found = costs.nearest_offer(build, catalog, (pf.recipe(),), estimate, {})
    assert found[0].id == "t" and found[1] == "similar speed"


def test_offers_that_cannot_compare_are_skipped():
    # a card the targets do not fit; a currency without a rate; a card not in gpus.csv
    build, catalog = build_and_catalog([offer("small", "small", 1.0),
                                        offer("gbp", "twin", 1.0, currency="GBP"),
                                        offer("other", "", 1.0)])
    assert costs.nearest_offer(build, catalog, (pf.recipe(),), estimate, {}) is None
    assert costs.cloud_compare(build, catalog, (pf.recipe(),), estimate, {}, None) is None


def test_break_even_hours():
    # purchase ₹1,00,000; rent ₹100/h for the same speed; electricity ₹10/h:
    # 1,00,000 / (100 - 10) = 1,111.1 hours = 1,111.1 runs of the one-hour mix
    build, catalog = build_and_catalog([offer("b", "mine", 100.0)])
    cloud = costs.cloud_compare(build, catalog, (pf.recipe(),), estimate, {},
                                {"per_hour_inr": 10.0})
    assert cloud["break_even_hours"] == pytest.approx(1111.1)
    assert cloud["break_even_runs"] == pytest.approx(1111.1)
    assert cloud["mix_inr"] == 100.0 and cloud["mix_hours"] == 1.0


def test_a_slower_rented_card_costs_more_per_build_hour():
    # slow takes 2 h for the build's 1 h: ₹50/h rented = ₹100 per build-hour; no electricity
    build, catalog = build_and_catalog([offer("s", "slow", 50.0)])
    cloud = costs.cloud_compare(build, catalog, (pf.recipe(),), estimate, {}, None)
    assert cloud["break_even_hours"] == pytest.approx(1000.0)
    assert cloud["mix_inr"] == 100.0


@pytest.mark.parametrize("power_hour, never", [(99.99, False), (100.0, True)])
def test_renting_cheaper_than_power_never_pays_off(power_hour, never):
    build, catalog = build_and_catalog([offer("b", "mine", 100.0)])
    cloud = costs.cloud_compare(build, catalog, (pf.recipe(),), estimate, {},
                                {"per_hour_inr": power_hour})
    assert (cloud["break_even_hours"] is None) is never


def test_usd_offers_are_converted():
    build, catalog = build_and_catalog([offer("u", "mine", 2.0, currency="USD")])
    cloud = costs.cloud_compare(build, catalog, (pf.recipe(),), estimate, {"USD": 90.0}, None)
    assert cloud["inr_per_hour"] == 180.0


def two_gpu_build(offers, tariff_rows=()):
    """2 cards, 500 s for the mix on the pair; a 66 W CPU: draw 2 x 200 + 66 + 75 = 541 W,
    wall 541 / 0.9 = 601.11 W."""
    def est(recipe, gpu, count, nodes=1):
        return TargetEstimate(recipe_id=recipe.id, fits=True, samples_per_s=1.0,
                              train_s=1000.0 / count, memory_gb=4.0, batch_size=8)
    catalog = pf.catalog(gpus=[pf.gpu("mine")], cpus=[pf.cpu(tdp_w=66, cores=12)],
                         motherboards=[pf.board(positions=(1, 4), lanes=(16, 16))])
    catalog = dataclasses.replace(catalog, cloud=tuple(offers), tariffs=tuple(tariff_rows))
    build = recommend(catalog, Request(budget_inr=10**6, targets=(pf.recipe(),),
                                       gpu_counts=(2,)), est).best
    assert build.gpu_count == 2
    return build, catalog, est


def test_running_cost_rounding_and_gpu_count():
    build, _, _ = two_gpu_build([])
    run = costs.running_cost(build, costs.TariffChoice(7.777, "test", None))
    # kWh = 601.11 W x 500 s / 3.6e6 = 0.083488; x 7.777 = ₹0.6493; per hour 0.60111 x 7.777
    assert run["wall_w"] == 601
    assert run["mix_kwh"] == 0.0835 and run["per_target"][0]["kwh"] == 0.0835
    assert run["mix_inr"] == 0.65 and run["per_target"][0]["inr"] == 0.65
    assert run["per_hour_inr"] == 4.67


def test_cloud_figures_for_two_gpus():
    build, catalog, est = two_gpu_build([offer("b", "mine", 33.333)])
    cloud = costs.cloud_compare(build, catalog, (pf.recipe(),), est, {}, None)
    # 2 GPUs x ₹33.333 = ₹66.666/h; the mix 500 s = 0.1389 h, ₹9.2592
    assert cloud["gpus"] == 2 and cloud["inr_per_hour"] == 66.67
    assert cloud["mix_hours"] == 0.139 and cloud["mix_inr"] == 9.26


def test_tariff_from_a_row_is_dated_and_sourced():
    build, _, _ = two_gpu_build([])
    choice = costs.choose_tariff([tariff("tn", 6.45)], None)
    run = costs.running_cost(build, choice)
    assert run["tariff"] == {"price_inr_per_kwh": 6.45, "label": "tn residential (tn, 2026-06-01)",
                             "id": "tn", "date": "2026-06-01", "source": "test"}
    assert costs.choose_tariff([tariff("shop", 2.0, consumer="commercial")], None) is None


def test_unknown_tariff_id_without_any_tariff():
    with pytest.raises(ValueError, match="none in tariff.csv"):
        costs.choose_tariff([], "ka")


def test_tariff_choice_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        costs.TariffChoice(1.0, "x", None).label = "y"  # type: ignore[misc]

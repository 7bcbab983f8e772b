"""recommend/report.py by value: every figure of a build's JSON, its rounding, the comparisons
with the pick and their words at the 100% boundary, and what to_dict adds around the builds.

Builds are made by hand with fractional prices and times so that each rounding is visible; the
expected figures are worked from the formulas in the module's docstrings (rupees per training a
day = total / (86,400 / time); draw = GPU + CPU TDP + 75 W; wall = draw / 0.9).
"""

from __future__ import annotations

import dataclasses
from datetime import date

import parts_factory as pf
import pytest

from rigcheck.parts import Rate
from rigcheck.recommend import Request, TargetEstimate, report
from rigcheck.recommend.search import Build, Dropped, Recommendation

TODAY = date(2026, 12, 1)


def with_price(part, inr, *, day=pf.DAY, multiplier=1.0, origin="quote", basis="quote"):
    return dataclasses.replace(part, price=dataclasses.replace(
        part.price, inr=inr, date=day, landed_multiplier=multiplier, origin=origin,
        basis=basis))


EST = TargetEstimate(recipe_id="r", fits=True, samples_per_s=1050.06, train_s=4321.06,
                     memory_gb=11.2345, batch_size=64, unit="samples/s",
                     changes=("micro-batch 1",))


def make(train_s=4321.06, gpu_inr=100_000.1234, gpu_id="g", nodes=1):
    """GPU 100,000.1234 + CPU 15,000 + board 12,000 + 2 kits x 8,000.1264 + storage 6,000 +
    PSU 6,000 + case 4,000 = 159,000.3762 a node (three decimals, so a rounding to 3 shows).
    Draw 333 + 65 + 75 = 473 W."""
    return Build(
        gpu=with_price(pf.gpu(gpu_id, tdp_w=333, vram_gb=24, length_mm=267), gpu_inr,
                       multiplier=1.234567, origin="landed"),
        gpu_count=1, gpu_positions=(1,),
        cpu=pf.cpu(cores=8), motherboard=pf.board(),
        memory=with_price(pf.kit(modules=2, module_gb=16), 8000.1264), memory_kits=2,
        storage=with_price(pf.storage(), 6000, day=date(2025, 12, 1)),      # 365 days old
        psu=with_price(pf.psu(watts=750), 6000, day=date(2025, 11, 30)),     # 366 days old
        case=pf.case(), estimates=(dataclasses.replace(EST, train_s=train_s),),
        total_train_s=train_s, nodes=nodes)


def test_build_dict_money_power_and_time_figures_rounded():
    d = report.build_dict(make(), 200_000)
    assert d["total_inr"] == 159000.38
    assert d["left_inr"] == 40999.62            # 200,000 - 159,000.3762
    assert d["node_inr"] == 159000.38 and d["nodes"] == 1
    # 159,000.3762 x 4,321.06 / 86,400 = 7,952.05...
    assert d["inr_per_run_per_day"] == round(159000.3762 * 4321.06 / 86400, 2)
    # 159,000.3762 x 4,000 / 86,400 = 7,361.128: two decimals, not three
    assert report.build_dict(make(train_s=4000.0), 200_000)["inr_per_run_per_day"] == 7361.13
    assert d["power_w"] == 473
    assert d["wall_w"] == 526                   # 473 / 0.9 = 525.56
    assert d["psu_w"] == 750
    assert d["psu_headroom_pct"] == 58.6        # (750 / 473 - 1) x 100 = 58.56
    assert d["ram_gb"] == 64 and d["gpu_count"] == 1 and d["gpu_slot_positions"] == [1]
    assert d["total_train_s"] == 4321.1
    # no pick given: the build is its own reference
    assert d["slower_than_best_pct"] == 0.0
    assert d["time_vs_pick_pct"] == 0.0 and d["speed_pct_of_pick"] == 100.0
    assert d["targets"] == [{"recipe": "r", "fits": True, "memory_gb": 11.23, "batch_size": 64,
                             "samples_per_s": 1050.1, "unit": "samples/s",
                             "changes": ["micro-batch 1"], "train_s": 4321.1}]


def test_build_dict_against_a_pick_and_over_nodes():
    best = make(train_s=2000.0)
    d = report.build_dict(make(nodes=2), 400_000, best)
    assert d["total_inr"] == 318000.75 and d["node_inr"] == 159000.38
    assert d["left_inr"] == 81999.25            # 400,000 - 318,000.7524
    # 4,321.06 / 2,000 = 2.16053: 116.053% longer; speed 2,000 / 4,321.06 = 46.28%
    assert d["slower_than_best_pct"] == 116.1
    assert d["time_vs_pick_pct"] == 116.1
    assert d["speed_pct_of_pick"] == 46.3


def test_parts_carry_prices_ages_and_their_own_fields():
    parts = {p["kind"]: p for p in report.build_dict(make(), 200_000, today=TODAY)["parts"]}
    assert list(parts) == ["gpu", "cpu", "motherboard", "memory", "storage", "psu", "case"]
    gpu = parts["gpu"]
    assert (gpu["unit_price_inr"], gpu["price_inr"], gpu["count"]) == (100000.12, 100000.12, 1)
    assert gpu["landed_multiplier"] == 1.2346 and gpu["price_origin"] == "landed"
    assert gpu["price_basis"] == "quote" and gpu["price_kind"] == "street"
    assert gpu["price_date"] == "2026-11-01" and gpu["price_age_days"] == 30
    assert gpu["stale"] is False and gpu["source"] == "test" and gpu["price_usd"] is None
    assert (gpu["vram_gb"], gpu["tdp_w"], gpu["slot_width"], gpu["length_mm"]) == (24, 333, 2, 267)
    assert (gpu["cooler"], gpu["availability"], gpu["architecture"]) == (
        "open-air", "new", "Ada Lovelace")
    mem = parts["memory"]
    assert (mem["unit_price_inr"], mem["price_inr"], mem["count"]) == (8000.13, 16000.25, 2)
    assert mem["capacity_gb"] == 64 and mem["memory_type"] == "DDR5"
    assert parts["storage"]["price_age_days"] == 365 and parts["storage"]["stale"] is False
    assert parts["psu"]["price_age_days"] == 366 and parts["psu"]["stale"] is True
    assert (parts["storage"]["capacity_gb"], parts["storage"]["seq_read_mbs"],
            parts["storage"]["storage_kind"]) == (1000, 5000, "nvme")
    assert (parts["cpu"]["cores"], parts["cpu"]["socket"], parts["cpu"]["tdp_w"]) == (8, "AM5", 65)
    board = parts["motherboard"]
    assert (board["socket"], board["form_factor"], board["memory_type"],
            board["platform_class"]) == ("AM5", "ATX", "DDR5", "desktop")
    assert (parts["psu"]["watts"], parts["psu"]["efficiency"]) == (750, "80+ Gold")
    case = parts["case"]
    assert (case["max_gpu_length_mm"], case["expansion_slots"], case["chassis_class"],
            case["passive_gpu_rated"]) == (330, 7, "desktop", False)
    assert "capacity_gb" not in parts["cpu"] and "watts" not in parts["case"]


def test_parts_without_a_date_have_no_age_and_are_not_stale():
    parts = report.build_dict(make(), 200_000)["parts"]
    assert {p["price_age_days"] for p in parts} == {None}
    assert {p["stale"] for p in parts} == {False}


def test_speed_and_time_helpers_and_their_zero_guards():
    assert report.time_vs_pct(150.0, 100.0) == 50.0
    assert report.time_vs_pct(50.0, 100.0) == -50.0
    assert report.time_vs_pct(50.0, 0.0) == 0.0
    assert report.speed_pct_of(200.0, 100.0) == 50.0
    assert report.speed_pct_of(0.0, 100.0) == 0.0
    assert report.speedup_pct(make(train_s=100.0), make(train_s=150.0)) == 50.0
    assert report.slower_pct(make(train_s=150.0), make(train_s=100.0)) == 50.0
    assert report.inr_per_speed(make(train_s=0.0)) == 0.0
    assert report.inr_per_speed(make(train_s=-1.0)) == 0.0
    # half a second a run: 172,800 runs a day
    assert report.inr_per_speed(make(train_s=0.5)) == pytest.approx(159000.3762 / 172800)
    assert report.time_vs_pct(1.0, 0.5) == 100.0       # a pick under a second still counts
    assert report.speed_pct_of(0.5, 1.0) == 200.0
    # 86,400 s: one training a day, so rupees per run a day is the price itself
    assert report.inr_per_speed(make(train_s=86400.0)) == pytest.approx(159000.3762, abs=1e-6)


def test_compare_words_at_the_same_speed_boundary():
    assert report.compare_words(200.0, 100.0) == "runs at 50% of the speed (takes 100% longer)"
    assert report.compare_words(100.0, 200.0) == "runs 100% faster (takes 50% less time)"
    # speed 100.4% rounds to 100: the same; 100.6% rounds to 101: faster
    assert report.compare_words(100.0, 100.4) == "the same speed"
    assert report.compare_words(100.0, 100.6) == "runs 1% faster (takes 1% less time)"
    # 99.4% is slower; 99.6% rounds to 100
    assert report.compare_words(100.0, 99.4) == "runs at 99% of the speed (takes 1% longer)"
    assert report.compare_words(100.0, 99.6) == "the same speed"


# ---- to_dict ---------------------------------------------------------------------------------

def rec(builds, *, frontier=None, upgrade=None, cheapest=None, dropped=(), **kw):
    request = Request(budget_inr=200_000, targets=(pf.recipe("r"),), gpu_counts=(1, 2),
                      platform_class="desktop", circuit_w=2944.0, allow_used=True,
                      allow_legacy=False, nodes=1, objective="fastest", allow_unsourced=False,
                      today=TODAY)
    return Recommendation(request=request, builds=list(builds), upgrade=upgrade,
                          cheapest=cheapest, frontier=list(frontier or []),
                          dropped=list(dropped), **kw)


def to_dict(r, extras=None):
    catalog = pf.catalog()
    catalog = dataclasses.replace(catalog, rates=(Rate("USD", 91.49, date(2026, 2, 2), "rbi"),))
    return report.to_dict(r, budget={"text": "2L", "inr": 200_000}, catalog=catalog,
                          catalog_info={"stale": False}, display_currency="USD",
                          circuit="india-16a", extras=extras)


def test_to_dict_ranks_frontier_flags_and_extras():
    pick, other, off = make(train_s=2000.0, gpu_id="a"), make(gpu_id="b"), make(gpu_id="c")
    d = to_dict(rec([pick, other, off], frontier=[pick, other], cheapest=other,
                    excluded={"z": "why z", "a": "why a"},
                    excluded_parts={"p2": "old", "p1": "recalled"}, old_prices=True),
                extras=lambda b: {"extra": b.gpu.id})
    assert [(b["rank"], b["on_frontier"], b["extra"]) for b in d["builds"]] == [
        (1, True, "a"), (2, True, "b"), (3, False, "c")]
    assert d["builds"][1]["slower_than_best_pct"] == 116.1
    assert [b["extra"] for b in d["frontier"]] == ["a", "b"]
    assert "rank" not in d["frontier"][0]
    assert d["schema"] == 1 and d["display_currency"] == "USD"
    assert d["budget"] == {"text": "2L", "inr": 200_000} and d["catalog"] == {"stale": False}
    assert d["rates"] == {"USD": {"inr_per_unit": 91.49, "date": "2026-02-02", "source": "rbi"}}
    assert d["request"] == {"targets": ["r"], "gpu_counts": [1, 2], "class": "desktop",
                            "circuit": "india-16a", "circuit_w": 2944.0, "circuit_v": 230,
                            "allow_used": True,
                            "allow_legacy": False, "nodes": 1, "objective": "fastest",
                            "allow_unsourced": False}
    assert list(d["excluded"]) == ["a", "z"] and list(d["excluded_parts"]) == ["p1", "p2"]
    assert d["old_prices"] is True
    assert d["cheapest_total_inr"] == 159000.38
    assert d["upgrade"] is None and d["dropped"] == []
    # the parts carry the request's date
    assert d["builds"][0]["parts"][0]["price_age_days"] == 30


def test_to_dict_upgrade_figures():
    pick = make(train_s=2000.0, gpu_inr=100_000.1234)
    up = make(train_s=1700.0, gpu_inr=130_000.5)
    d = to_dict(rec([pick], upgrade=up, frontier=[pick], cheapest=pick),
                extras=lambda b: {"extra": b.total_train_s})
    # 130,000.5 - 100,000.1234 = 30,000.3766; 2,000 / 1,700 = 1.17647: 17.6% faster
    assert d["upgrade"]["extra_inr"] == 30000.38
    assert d["upgrade"]["speedup_pct"] == 17.6
    assert d["upgrade"]["build"]["total_train_s"] == 1700.0
    assert d["upgrade"]["build"]["time_vs_pick_pct"] == -15.0
    assert d["upgrade"]["build"]["extra"] == 1700.0


def test_to_dict_without_a_pick():
    up = make(train_s=1600.0)
    d = to_dict(rec([], upgrade=up, cheapest=None))
    assert d["builds"] == [] and d["frontier"] == []
    assert d["upgrade"] is None and d["cheapest_total_inr"] is None
    dropped = Dropped("llm", "every build that runs it costs more than the budget", make())
    d = to_dict(rec([], dropped=[dropped, Dropped("x", "none", None)]))
    first, second = d["dropped"]
    assert first["recipe"] == "llm" and first["reason"].startswith("every build")
    assert first["cheapest"]["total_inr"] == 159000.38 and first["cheapest"]["extra_inr"] is None
    assert second == {"recipe": "x", "reason": "none", "cheapest": None}


def test_to_dict_dropped_target_extra_over_the_pick():
    pick = make(train_s=2000.0, gpu_inr=100_000.1234)
    dear = make(train_s=3000.0, gpu_inr=110_000.5)
    d = to_dict(rec([pick], frontier=[pick], cheapest=pick,
                    dropped=[Dropped("llm", "over budget", dear)]))
    cheapest = d["dropped"][0]["cheapest"]
    assert cheapest["extra_inr"] == 10000.38          # 110,000.5 - 100,000.1234
    assert cheapest["time_vs_pick_pct"] == 50.0       # against the pick's 2,000 s

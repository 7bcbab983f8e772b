"""binding_limits / option_limits by value: which CPU the power checks assume, each limit's
boundary and message figures, a catalog without CPUs or PSUs, and how many limits come back.

Figures worked by hand from recommend/rules.py: draw = n x GPU TDP + CPU TDP + 75 W; wall =
draw / 0.9; PSU needed = draw x 1.2; cores needed = n x (3 workers + 1) + 2 (18 for 4 GPUs).
"""

from __future__ import annotations

import dataclasses
from datetime import date

import parts_factory as pf

from rigcheck.recommend import Request, TargetEstimate
from rigcheck.recommend.limits import binding_limits, option_limits
from rigcheck.recommend.search import gpu_options

TODAY = date(2026, 12, 1)     # the factory's prices are dated 2026-11-01: 30 days old, usable


def estimate(recipe, gpu, count, nodes=1):
    return TargetEstimate(recipe_id=recipe.id, fits=True, samples_per_s=10.0, train_s=100.0,
                          memory_gb=4.0, batch_size=8)


def by_speed(recipe, gpu, count, nodes=1):
    """Faster cards (more FP32) train sooner, so options come fastest first."""
    return TargetEstimate(recipe_id=recipe.id, fits=True, samples_per_s=1.0,
                          train_s=1000.0 / gpu.fp32_tflops, memory_gb=4.0, batch_size=8)


CARD = pf.gpu("g", tdp_w=300, cooler="blower", power_8pin=2)
BOARD = pf.board(positions=(1, 3, 5, 7), lanes=(16, 16, 16, 16))
BIG = dict(cpus=[pf.cpu(cores=32, tdp_w=200)], motherboards=[BOARD],
           psus=[pf.psu(watts=2000, pcie_8pin=8)],
           cases=[pf.case(expansion_slots=10, max_gpus=4)],
           memory=[pf.kit(modules=2, module_gb=32)])


def catalog(gpus=(CARD,), **changes):
    return pf.catalog(gpus=list(gpus), **{**BIG, **changes})


def request(**kw):
    return Request(budget_inr=10**8, targets=(pf.recipe(),), gpu_counts=(4,), **kw)


def direct(cat, req=None):
    """option_limits of the catalog's one GPU option, as {limit: detail}."""
    req = req or request()
    (option,), _ = gpu_options(cat, req, estimate)
    return {lim.limit: lim.detail for lim in option_limits(option, cat, req)}


def kinds(found):
    return [(lim.limit, lim.option) for lim in found]


# ---- which CPU the wall and PSU figures assume ----------------------------------------------

def test_power_figures_use_the_coolest_cpu_with_enough_cores():
    # 6-core 65 W (too few cores), 24-core 150 W and 32-core 200 W: the 150 W one is assumed.
    # 4 x 300 + 150 + 75 = 1,425 W draw -> 1,583.3 W at the wall (under 1,600); with the 65 W
    # CPU it would be 1,488.9, with the 200 W one 1,638.9 (over 1,600).
    cpus = [pf.cpu("small", cores=6, tdp_w=65), pf.cpu("mid", cores=24, tdp_w=150),
            pf.cpu("top", cores=32, tdp_w=200)]
    assert "wall circuit" not in direct(catalog(cpus=cpus), request(circuit_w=1600.0))
    # Without the 150 W CPU, the 200 W one is the coolest with 18 cores: 1,638.9 W > 1,600.
    got = direct(catalog(cpus=[cpus[0], cpus[2]]), request(circuit_w=1600.0))
    assert got["wall circuit"] == "~1,639 W at the wall; one circuit gives 1,600 W"
    assert "CPU cores" not in got


def test_too_few_cores_names_them_and_assumes_the_coolest_cpu():
    # 4 x 250 W cards, CPUs of 16 cores / 105 W and 8 cores / 50 W: none has 18 cores, so the
    # coolest (50 W) is assumed: draw 1,000 + 50 + 75 = 1,125 W -> wall exactly 1,250 W,
    # PSU needed exactly 1,350 W.
    card = pf.gpu("g", tdp_w=250, cooler="blower", power_8pin=2)
    cpus = [pf.cpu("c16", cores=16, tdp_w=105), pf.cpu("c8", cores=8, tdp_w=50)]
    got = direct(catalog([card], cpus=cpus), request(circuit_w=1250.0))
    assert got["CPU cores"] == "18 cores needed (data loading), the largest CPU has 16"
    assert "wall circuit" not in got           # 1,250 W on a 1,250 W circuit: just inside
    got = direct(catalog([card], cpus=cpus), request(circuit_w=1249.0))
    assert got["wall circuit"] == "~1,250 W at the wall; one circuit gives 1,249 W"


def test_psu_size_boundary_and_figures():
    card = pf.gpu("g", tdp_w=250, cooler="blower", power_8pin=2)
    cpus = [pf.cpu("c8", cores=8, tdp_w=50)]                       # PSU needed: 1,350 W
    assert "PSU size" not in direct(catalog([card], cpus=cpus,
                                            psus=[pf.psu(watts=1350, pcie_8pin=8)]))
    got = direct(catalog([card], cpus=cpus, psus=[pf.psu(watts=1349, pcie_8pin=8)]))
    assert got["PSU size"] == ("1,350 W needed with 20% headroom; the largest PSU in the "
                               "catalog gives 1,349 W")


def test_no_psu_at_all_is_a_psu_size_limit_of_zero_watts():
    got = direct(catalog(psus=[]))
    assert got["PSU size"].endswith("the largest PSU in the catalog gives 0 W")
    assert "PSU connectors" not in got


def test_connectors_need_one_psu_both_big_enough_and_with_the_leads():
    # 4 cards x 2 leads = 8 leads; 1,770 W needed. A 1,000 W PSU with 8 leads is too small, a
    # 2,000 W one with 4 leads lacks leads: no single PSU does both.
    psus = [pf.psu("small", watts=1000, pcie_8pin=8), pf.psu("big", watts=2000, pcie_8pin=4)]
    got = direct(catalog(psus=psus))
    assert got == {"PSU connectors": "no PSU big enough has the power leads 4 cards need"}


# ---- a catalog without CPUs (it crashed: min() of an empty sequence) ---------------------------

def test_no_cpu_in_the_catalog_is_the_limit_and_power_is_not_checked():
    # Power would be over every limit (1 W circuit, 10 W PSU) but needs a CPU's TDP to figure.
    cat = catalog(cpus=[], psus=[pf.psu(watts=10, pcie_8pin=8)])
    got = binding_limits(cat, request(circuit_w=1.0), estimate)
    assert kinds(got) == [("CPU", "4 × G")]
    assert "no CPU in the catalog" in got[0].detail
    assert "cpus.csv" in got[0].lift


def test_no_cpu_still_checks_the_board_and_chassis():
    cat = catalog(cpus=[], motherboards=[pf.board(positions=(1, 3, 5, 6),
                                                  lanes=(16, 16, 16, 16))])
    assert kinds(binding_limits(cat, request(), estimate)) == [("CPU", "4 × G"),
                                                               ("board slots", "4 × G")]
    cat = catalog(cpus=[], cases=[pf.case(expansion_slots=10, max_gpus=3)])
    assert kinds(binding_limits(cat, request(), estimate)) == [("CPU", "4 × G"),
                                                               ("chassis", "4 × G")]


def test_usable_catalog_without_cpus_when_the_only_cpu_price_is_recalled():
    # The one CPU's price is recalled, so the rules leave it out; the 3-slot-apart board seats
    # no 4 cards, so no build exists even with the recalled price: the limits are listed.
    cat = catalog(motherboards=[pf.board(positions=(1, 3, 5, 6), lanes=(16, 16, 16, 16))])
    cpu = dataclasses.replace(cat.cpus[0], price=dataclasses.replace(cat.cpus[0].price,
                                                                     basis="recalled"))
    cat = dataclasses.replace(cat, cpus=(cpu,))
    got = binding_limits(cat, request(today=TODAY, allow_unsourced=False), estimate)
    assert kinds(got) == [("CPU", "4 × G"), ("board slots", "4 × G")]


# ---- when binding_limits lists nothing, or something other than the options' limits -----------

def test_a_build_that_exists_lists_no_limit():
    assert binding_limits(catalog(), request(), estimate) == []
    assert binding_limits(catalog(), request(today=TODAY, allow_unsourced=False), estimate) == []


def test_a_build_above_the_budget_lists_none_even_when_a_faster_option_has_limits():
    # fast: 4 x 600 + 200 + 75 = 2,675 W -> 2,972 W at the wall (> 2,944): limited. The slower
    # CARD builds, but not for 1,000 rupees: the budget is the limit, left to the caller.
    fast = pf.gpu("fast", tdp_w=600, cooler="blower", power_8pin=0, fp32_tflops=40.0)
    slow = dataclasses.replace(CARD, fp32_tflops=10.0)
    req = dataclasses.replace(request(), budget_inr=1000)
    assert binding_limits(catalog([fast, slow]), req, by_speed) == []


def test_dropped_prices_without_any_build_fall_through_to_the_limits():
    # The chassis's price is recalled (left out); even with it no build exists, because the
    # 1,000 W PSU is under the 1,770 W needed. Without the chassis nothing else is there.
    cat = catalog(psus=[pf.psu(watts=1000, pcie_8pin=8)])
    case = dataclasses.replace(cat.cases[0], price=dataclasses.replace(cat.cases[0].price,
                                                                       basis="recalled"))
    cat = dataclasses.replace(cat, cases=(case,))
    got = binding_limits(cat, request(today=TODAY, allow_unsourced=False), estimate)
    assert kinds(got) == [("PSU size", "4 × G"), ("chassis", "4 × G")]


# ---- how many limits --------------------------------------------------------------------------

def six_kinds():
    """fast (3-slot, 600 W): CPU cores, wall circuit, PSU size, board slots; slow (300 W, 2 x 8-pin
    each): CPU cores again, PSU connectors (7 of 8 leads), chassis (built for 3 GPUs)."""
    fast = pf.gpu("fast", tdp_w=600, cooler="blower", power_8pin=0, slot_width=3,
                  fp32_tflops=40.0)
    slow = dataclasses.replace(CARD, id="slow", name="SLOW", fp32_tflops=10.0)
    return catalog([fast, slow], cpus=[pf.cpu(cores=16, tdp_w=200)],
                   psus=[pf.psu(watts=2000, pcie_8pin=7)],
                   cases=[pf.case(expansion_slots=10, max_gpus=3)])


def test_at_most_four_limits_by_default_fastest_option_first():
    got = kinds(binding_limits(six_kinds(), request(), by_speed))
    assert got == [("CPU cores", "4 × FAST"), ("wall circuit", "4 × FAST"),
                   ("PSU size", "4 × FAST"), ("board slots", "4 × FAST")]


def test_more_limits_when_asked_each_kind_once():
    got = kinds(binding_limits(six_kinds(), request(), by_speed, most=5))
    assert got[4:] == [("PSU connectors", "4 × SLOW")]
    got = kinds(binding_limits(six_kinds(), request(), by_speed, most=10))
    assert got[4:] == [("PSU connectors", "4 × SLOW"), ("chassis", "4 × SLOW")]

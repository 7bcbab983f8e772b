"""When no build exists: the binding limit is named (issue 9 item 7); each limit at its boundary."""

from __future__ import annotations

import dataclasses
from datetime import date

import parts_factory as pf
import pytest

from rigcheck.recommend import Request, TargetEstimate
from rigcheck.recommend.limits import binding_limits, option_limits
from rigcheck.recommend.search import gpu_options


def estimate(recipe, gpu, count, nodes=1):
    return TargetEstimate(recipe_id=recipe.id, fits=True, samples_per_s=10.0, train_s=100.0,
                          memory_gb=4.0, batch_size=8)


def limits(catalog, **kw):
    """Every limit of the one GPU option, checked directly (binding_limits stops early when a
    build exists) and through binding_limits, which must agree when none does."""
    request = Request(budget_inr=10**8, targets=(pf.recipe(),), **kw)
    (option,), _ = gpu_options(catalog, request, estimate)
    direct = [(lim.limit, lim.option) for lim in option_limits(option, catalog, request)]
    found = [(lim.limit, lim.option) for lim in binding_limits(catalog, request, estimate)]
    assert found == (direct[:4] if direct else []) or not direct
    return direct


# Four 300 W blower cards, a 32-core 200 W CPU: draw 4 x 300 + 200 + 75 = 1,475 W;
# wall 1,475 / 0.9 = 1,638.9 W; PSU needed 1,475 x 1.2 = 1,770 W.
CARD = pf.gpu("g", tdp_w=300, cooler="blower", power_8pin=2)
BIG = dict(cpus=[pf.cpu(cores=32, tdp_w=200)],
           motherboards=[pf.board(positions=(1, 3, 5, 7), lanes=(16, 16, 16, 16))],
           psus=[pf.psu(watts=2000, pcie_8pin=8)],
           cases=[pf.case(expansion_slots=10, max_gpus=4)],
           memory=[pf.kit(modules=2, module_gb=32)])


def big(**changes):
    return pf.catalog(gpus=[CARD], **{**BIG, **changes})


def test_a_build_that_exists_has_no_limits():
    assert limits(big(), gpu_counts=(4,)) == []


@pytest.mark.parametrize("circuit_w, named", [(1639.0, False), (1638.0, True)])
def test_wall_circuit(circuit_w, named):
    assert (("wall circuit", "4 × G") in limits(big(), gpu_counts=(4,),
                                                circuit_w=circuit_w)) is named


@pytest.mark.parametrize("watts, named", [(1770, False), (1769, True)])
def test_psu_size(watts, named):
    got = limits(big(psus=[pf.psu(watts=watts, pcie_8pin=8)]), gpu_counts=(4,))
    assert (("PSU size", "4 × G") in got) is named


@pytest.mark.parametrize("leads, named", [(8, False), (7, True)])
def test_psu_connectors(leads, named):
    got = limits(big(psus=[pf.psu(watts=2000, pcie_8pin=leads)]), gpu_counts=(4,))
    assert (("PSU connectors", "4 × G") in got) is named


@pytest.mark.parametrize("positions, named", [((1, 3, 5, 7), False), ((1, 3, 5, 6), True)])
def test_board_slots(positions, named):
    board = pf.board(positions=positions, lanes=(16, 16, 16, 16))
    got = limits(big(motherboards=[board]), gpu_counts=(4,))
    assert (("board slots", "4 × G") in got) is named


@pytest.mark.parametrize("max_gpus, named", [(4, False), (3, True)])
def test_chassis_gpu_count(max_gpus, named):
    got = limits(big(cases=[pf.case(expansion_slots=10, max_gpus=max_gpus)]), gpu_counts=(4,))
    assert (("chassis", "4 × G") in got) is named


def test_passive_cards_without_a_rated_chassis():
    passive = dataclasses.replace(CARD, cooler="passive")
    got = binding_limits(pf.catalog(gpus=[passive], **BIG),
                         Request(budget_inr=10**8, targets=(pf.recipe(),), gpu_counts=(4,)),
                         estimate)
    assert got[0].limit == "chassis" and "passive" in got[0].detail


@pytest.mark.parametrize("cores, named", [(18, False), (17, True)])
def test_cpu_cores(cores, named):
    # 4 GPUs x (3 workers + 1) + 2 = 18 cores
    got = limits(big(cpus=[pf.cpu(cores=cores, tdp_w=200)]), gpu_counts=(4,))
    assert (("CPU cores", "4 × G") in got) is named


def test_over_budget_is_left_to_the_caller():
    request = Request(budget_inr=1000, targets=(pf.recipe(),), gpu_counts=(4,))
    assert binding_limits(big(), request, estimate) == []


def test_unsourced_prices_are_named_when_they_are_all_that_is_missing():
    today = date(2026, 12, 1)
    recalled = dataclasses.replace(pf.price(4000), basis="recalled", date=today)
    catalog = dataclasses.replace(big(), cases=(dataclasses.replace(
        pf.case("tower", expansion_slots=10, max_gpus=4), price=recalled),))
    fresh = {kind: tuple(dataclasses.replace(p, price=dataclasses.replace(p.price, date=today))
                         for p in getattr(catalog, kind))
             for kind in ("gpus", "cpus", "motherboards", "memory", "storage", "psus")}
    catalog = dataclasses.replace(catalog, **fresh)
    request = Request(budget_inr=10**8, targets=(pf.recipe(),), gpu_counts=(4,),
                      allow_unsourced=False, today=today)
    got = binding_limits(catalog, request, estimate)
    assert got[0].limit == "prices" and "TOWER" in got[0].detail
    assert "--allow-unsourced" in got[0].lift


def test_limits_of_several_options_each_kind_once():
    # fast: 4 x 600 + 200 + 75 = 2,675 W draw: 2,972 W at the wall (> 2,944) and a 3,210 W PSU
    # (> 2,000); twin: the same limits again (not repeated); slow: 3-slot cards do not seat
    fast = pf.gpu("fast", tdp_w=600, cooler="blower", power_8pin=0, fp32_tflops=40.0)
    slow = pf.gpu("slow", tdp_w=300, cooler="blower", slot_width=3, fp32_tflops=10.0)
    twin = pf.gpu("twin", tdp_w=600, cooler="blower", power_8pin=0, fp32_tflops=30.0)
    catalog = pf.catalog(gpus=[fast, slow, twin], **BIG)

    def speed(recipe, gpu, count, nodes=1):
        return TargetEstimate(recipe_id=recipe.id, fits=True, samples_per_s=1.0,
                              train_s=1000.0 / gpu.fp32_tflops, memory_gb=4.0, batch_size=8)

    request = Request(budget_inr=10**8, targets=(pf.recipe(),), gpu_counts=(4,))
    got = [(lim.limit, lim.option) for lim in binding_limits(catalog, request, speed)]
    assert got == [("wall circuit", "4 × FAST"), ("PSU size", "4 × FAST"),
                   ("board slots", "4 × SLOW")]
    one = binding_limits(catalog, request, speed, most=1)
    assert [(lim.limit, lim.option) for lim in one] == [("wall circuit", "4 × FAST")]


def test_passive_and_open_air_chassis_messages_differ():
    open_air = pf.catalog(gpus=[CARD], **{**BIG, "cases": [pf.case(expansion_slots=10,
                                                                   max_gpus=3)]})
    request = Request(budget_inr=10**8, targets=(pf.recipe(),), gpu_counts=(4,))
    lim = binding_limits(open_air, request, estimate)[0]
    assert lim.limit == "chassis" and "at most 3" in lim.detail and "bigger chassis" in lim.lift
    passive = pf.catalog(gpus=[dataclasses.replace(CARD, cooler="passive")], **BIG)
    lim = binding_limits(passive, request, estimate)[0]
    assert "passive" in lim.detail and "systems.csv" in lim.lift


def test_limit_is_frozen():
    lim = binding_limits(big(psus=[pf.psu(watts=1000, pcie_8pin=8)]),
                         Request(budget_inr=10**8, targets=(pf.recipe(),), gpu_counts=(4,)),
                         estimate)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        lim.limit = "x"  # type: ignore[misc]

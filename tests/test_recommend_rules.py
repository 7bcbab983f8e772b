"""Each rule and objective of the recommender at its boundary: a case just inside and one just
past, with the expected answer worked out by hand in the comments (never from rules' helpers)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import parts_factory as pf
import pytest

from rigcheck.recommend import Request, TargetEstimate, recommend, rules
from rigcheck.recommend.report import compare_words, speed_pct_of, time_vs_pct

TODAY = date(2026, 12, 1)


# ----- EPS12V inputs (A6000 / A10 / A100 PCIe class) -------------------------------------------

def eps_card(**kw):
    return pf.gpu("a6000", power_8pin=0, power_16pin=0, power_eps8=1, tdp_w=300,
                  cooler="blower", **kw)


@pytest.mark.parametrize("eps_leads, pcie, count, ok", [
    (2, 0, 1, True),    # board takes 1 EPS lead, the card the 2nd
    (1, 1, 1, False),   # no spare EPS lead: the adapter needs 2 PCIe leads, there is 1
    (1, 2, 1, True),    # ... and with 2 PCIe leads it works
    (2, 1, 2, False),   # 2 cards: 1 spare EPS lead + adapter (2 PCIe) for the 2nd; 1 PCIe only
    (2, 2, 2, True),
    (3, 0, 2, True),    # 2 spare EPS leads feed both cards
    (0, 8, 1, False),   # no EPS lead at all: the motherboard's CPU power has nothing
])
def test_eps_inputs(eps_leads, pcie, count, ok):
    psu = pf.psu(pcie_8pin=pcie, eps8_leads=eps_leads, watts=1600)
    assert rules.psu_connectors_ok(psu, eps_card(), count) is ok


def test_eps_and_pcie_inputs_add_up():
    # one card with one PCIe 8-pin and one EPS input: 1 PCIe lead + (spare EPS or 2 PCIe)
    card = pf.gpu(power_8pin=1, power_eps8=1)
    assert rules.psu_connectors_ok(pf.psu(pcie_8pin=1, eps8_leads=2), card, 1)
    assert not rules.psu_connectors_ok(pf.psu(pcie_8pin=2, eps8_leads=1), card, 1)
    assert rules.psu_connectors_ok(pf.psu(pcie_8pin=3, eps8_leads=1), card, 1)


def test_a_card_without_eps_inputs_needs_only_the_boards_lead():
    card = pf.gpu(power_8pin=2, power_eps8=0)
    assert rules.psu_connectors_ok(pf.psu(pcie_8pin=2, eps8_leads=1), card, 1)
    assert not rules.psu_connectors_ok(pf.psu(pcie_8pin=1, eps8_leads=4), card, 1)


# ----- passive cards, --class server, GPUs per chassis ------------------------------------------

PASSIVE = pf.gpu("a100", cooler="passive", form="datacenter")
OPEN_AIR = pf.gpu("rtx", cooler="open-air")


@pytest.mark.parametrize("chassis, rated, ok", [
    ("rack", True, True), ("server", True, True),
    ("rack", False, False), ("server", False, False),
    ("workstation", True, False), ("desktop", True, False), ("desktop", False, False),
])
def test_passive_cards_only_in_a_rated_server_chassis(chassis, rated, ok):
    case = pf.case(chassis_class=chassis, passive_gpu_rated=rated)
    assert rules.chassis_ok(case, PASSIVE, 1, None) is ok
    # a card with fans does not care about the rating
    assert rules.chassis_ok(case, OPEN_AIR, 1, None) is True


@pytest.mark.parametrize("chassis, ok", [("rack", True), ("server", True),
                                         ("workstation", False), ("desktop", False)])
def test_class_server_means_a_server_or_rack_chassis(chassis, ok):
    case = pf.case(chassis_class=chassis)
    assert rules.chassis_ok(case, OPEN_AIR, 1, "server") is ok
    assert rules.chassis_ok(case, OPEN_AIR, 1, None) is True
    assert rules.chassis_ok(case, OPEN_AIR, 1, "desktop") is True


@pytest.mark.parametrize("count, ok", [(3, True), (4, False)])
def test_no_more_gpus_than_the_chassis_is_built_for(count, ok):
    assert rules.chassis_ok(pf.case(max_gpus=3), OPEN_AIR, count, None) is ok


def test_violations_name_the_chassis():
    case = pf.case(chassis_class="desktop")
    needs = rules.Needs(storage_gb=100, read_mbs=0, circuit_w=2944, ram_floor_gb=16)
    broken = rules.violations(gpu=PASSIVE, count=1, cpu=pf.cpu(), board=pf.board(),
                              kit=pf.kit(), kits=1, storage=pf.storage(), psu=pf.psu(),
                              case=case, needs=needs, platform_class=None)
    assert any("chassis" in v for v in broken)
    rated = pf.case(chassis_class="rack", passive_gpu_rated=True)
    assert rules.violations(gpu=PASSIVE, count=1, cpu=pf.cpu(), board=pf.board(), kit=pf.kit(),
                            kits=1, storage=pf.storage(), psu=pf.psu(), case=rated,
                            needs=needs, platform_class=None) == []


def test_a_passive_card_in_a_tower_is_never_recommended():
    catalog = pf.catalog(gpus=[dataclasses.replace(PASSIVE, price=pf.price(1000))],
                         cases=[pf.case("tower"), pf.case("rack", inr=20000, chassis_class="rack",
                                                          passive_gpu_rated=True)])
    result = recommend(catalog, Request(budget_inr=10**7, targets=(pf.recipe(),)), estimator({}))
    assert result.best is not None and result.best.case.id == "rack"
    only_tower = dataclasses.replace(catalog, cases=(pf.case("tower"),))
    result = recommend(only_tower, Request(budget_inr=10**7, targets=(pf.recipe(),)),
                       estimator({}))
    assert result.best is None


# ----- RAM follows the workload ------------------------------------------------------------------

@pytest.mark.parametrize("count, workload_gb, floor", [
    (1, 1.0, 16), (1, 16.0, 16), (1, 16.5, 16.5), (2, 10.0, 32), (2, 33.0, 33), (8, 70.0, 128),
])
def test_ram_floor(count, workload_gb, floor):
    assert rules.ram_floor_gb(count, workload_gb) == floor


@pytest.mark.parametrize("floor, ok", [(16.0, True), (16.01, False)])
def test_a_16_gb_kit_meets_a_16_gb_floor_and_no_more(floor, ok):
    assert rules.memory_ok(pf.kit(modules=2, module_gb=8), 1, pf.board(), floor) is ok


def test_a_small_model_build_gets_16_gb():
    kits = [pf.kit("k16", inr=4000, modules=2, module_gb=8),
            pf.kit("k32", inr=9000, modules=2, module_gb=16)]
    catalog = pf.catalog(memory=kits)
    small = pf.recipe("lenet", activation_bytes_per_sample=1e5)
    result = recommend(catalog, Request(budget_inr=10**6, targets=(small,)),
                       estimator({}, memory_gb=1.0))
    assert result.best.ram_gb == 16
    big = recommend(catalog, Request(budget_inr=10**6, targets=(small,)),
                    estimator({}, memory_gb=20.0))
    assert big.best.ram_gb == 32


# ----- prices good enough for a build -----------------------------------------------------------

def priced(basis="quote", age_days=0):
    return dataclasses.replace(pf.price(1000), basis=basis, date=TODAY - timedelta(days=age_days))


@pytest.mark.parametrize("basis, age, usable", [
    ("quote", 365, True), ("quote", 366, False), ("msrp", 0, True), ("", 10, True),
    ("recalled", 0, False), ("estimate", 0, False), ("seed", 366, False),
])
def test_price_usable_in_a_build(basis, age, usable):
    why = rules.price_unusable(priced(basis, age), TODAY, allow_unsourced=False)
    assert (why is None) is usable
    assert rules.price_unusable(priced(basis, age), TODAY, allow_unsourced=True) is None


def test_unsourced_parts_are_left_out_unless_allowed():
    psus = [dataclasses.replace(pf.psu("cheap", inr=2000), price=dataclasses.replace(
        pf.price(2000), basis="recalled", date=TODAY)),
        dataclasses.replace(pf.psu("dear", inr=9000), price=dataclasses.replace(
            pf.price(9000), basis="quote", date=TODAY))]
    catalog = pf.catalog(psus=psus)
    strict = Request(budget_inr=10**6, targets=(pf.recipe(),), allow_unsourced=False,
                     today=TODAY)
    result = recommend(catalog, strict, estimator({}))
    assert result.best.psu.id == "dear" and "cheap" in result.excluded_parts
    loose = dataclasses.replace(strict, allow_unsourced=True)
    assert recommend(catalog, loose, estimator({})).best.psu.id == "cheap"


# ----- objectives, frontier, upgrade ------------------------------------------------------------

def estimator(times, memory_gb=4.0):
    """train_s per GPU id (default 100 s); count divides the time."""
    def estimate(recipe, gpu, count, nodes=1):
        t = times.get(gpu.id, 100.0) / count
        return TargetEstimate(recipe_id=recipe.id, fits=True, samples_per_s=1000.0 / t,
                              train_s=t, memory_gb=memory_gb, batch_size=32)
    return estimate


# the rest of every build: 15000 + 12000 + 8000 + 6000 + 6000 + 4000 = 51,000
REST = 51000


def two_gpu_catalog(fast_inr, slow_inr):
    return pf.catalog(gpus=[pf.gpu("fast", inr=fast_inr), pf.gpu("slow", inr=slow_inr)])


@pytest.mark.parametrize("fast_time, slow_time, pick", [
    (10000.0, 10500.0, "slow"), (10000.0, 10500.5, "fast"),   # 5% of 10,000 s is 500 s
    (100.0, 160.0, "slow"), (100.0, 160.5, "fast"),           # under 20 min: a minute's slack
])
def test_value_takes_the_cheapest_within_5_percent_or_a_minute(fast_time, slow_time, pick):
    catalog = two_gpu_catalog(fast_inr=200000, slow_inr=100000)
    request = Request(budget_inr=10**6, targets=(pf.recipe(),))
    times = estimator({"fast": fast_time, "slow": slow_time})
    assert recommend(catalog, request, times).best.gpu.id == pick
    fastest = recommend(catalog, dataclasses.replace(request, objective="fastest"), times)
    assert fastest.best.gpu.id == "fast"


def test_the_budget_bounds_the_fastest_time():
    # fast costs 200,000 + 51,000 = 251,000: one rupee less and only slow fits
    catalog = two_gpu_catalog(fast_inr=200000, slow_inr=100000)
    times = estimator({"fast": 1000.0, "slow": 1300.0})
    at = recommend(catalog, Request(budget_inr=251000, targets=(pf.recipe(),)), times)
    below = recommend(catalog, Request(budget_inr=250999, targets=(pf.recipe(),)), times)
    assert at.best.gpu.id == "fast" and at.best.total_inr == 251000
    assert below.best.gpu.id == "slow"


def test_frontier_drops_a_build_that_is_dearer_and_slower():
    catalog = pf.catalog(gpus=[pf.gpu("cheap", inr=50000), pf.gpu("waste", inr=90000),
                               pf.gpu("top", inr=150000)])
    times = estimator({"cheap": 2000.0, "waste": 2100.0, "top": 1000.0})
    result = recommend(catalog, Request(budget_inr=10**6, targets=(pf.recipe(),),
                                        objective="fastest"), times)
    assert [b.gpu.id for b in result.frontier] == ["cheap", "top"]
    assert [b.gpu.id for b in result.builds] == ["top", "cheap"]


@pytest.mark.parametrize("upgrade_time, offered", [(200.0, True), (200.1, False)])
def test_no_upgrade_under_3_percent(upgrade_time, offered):
    # pick: 206 s within budget; the dearer card at 200 s is 206/200 = +3.0% speed, at 200.1 s
    # +2.95% (the budget holds only the slow card, so the minute's slack plays no part)
    catalog = two_gpu_catalog(fast_inr=500000, slow_inr=100000)
    times = estimator({"fast": upgrade_time, "slow": 206.0})
    result = recommend(catalog, Request(budget_inr=200000, targets=(pf.recipe(),)), times)
    assert result.best.gpu.id == "slow"
    assert (result.upgrade is not None) is offered
    if offered:
        assert result.upgrade.gpu.id == "fast" and result.upgrade.total_inr == 500000 + REST


@pytest.mark.parametrize("train_s, words", [
    (188.0, "runs at 53% of the speed (takes 88% longer)"),
    (100.0, "the same speed"),
    (50.0, "runs 100% faster (takes 50% less time)"),
])
def test_speed_comparison_words(train_s, words):
    assert compare_words(train_s, 100.0) == words


def test_speed_and_time_percentages():
    assert speed_pct_of(200.0, 100.0) == 50.0
    assert time_vs_pct(200.0, 100.0) == 100.0
    assert time_vs_pct(90.0, 100.0) == pytest.approx(-10.0)


def test_unknown_objective_is_an_error():
    with pytest.raises(ValueError, match="objective 'cheapest'"):
        recommend(pf.catalog(), Request(budget_inr=10**6, targets=(pf.recipe(),),
                                        objective="cheapest"), estimator({}))


def aged(catalog, days):
    price = dataclasses.replace(pf.price(0), basis="quote", date=TODAY - timedelta(days=days))
    return dataclasses.replace(catalog, **{
        kind: tuple(dataclasses.replace(p, price=dataclasses.replace(price, inr=p.price.inr))
                    for p in getattr(catalog, kind))
        for kind in ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases")})


@pytest.mark.parametrize("days, old", [(365, False), (366, True)])
def test_old_cited_prices_only_when_no_fresh_build_exists(days, old):
    request = Request(budget_inr=10**6, targets=(pf.recipe(),), allow_unsourced=False,
                      today=TODAY)
    result = recommend(aged(pf.catalog(), days), request, estimator({}))
    assert result.best is not None and result.old_prices is old


def test_recalled_prices_never_come_back_through_the_old_price_fallback():
    catalog = aged(pf.catalog(), 400)
    case = catalog.cases[0]
    catalog = dataclasses.replace(catalog, cases=(dataclasses.replace(
        case, price=dataclasses.replace(case.price, basis="recalled")),))
    request = Request(budget_inr=10**6, targets=(pf.recipe(),), allow_unsourced=False,
                      today=TODAY)
    assert recommend(catalog, request, estimator({})).best is None


# ----- the classic rules, each at its boundary (mutation survivors of issue 8) ------------------

def test_wall_circuits_by_hand():
    # volts x amps x 80% continuous load
    assert rules.CIRCUITS_W == {
        "india-16a": 2944.0, "india-6a": 1104.0, "india-32a": 5888.0, "us-15a": 1440.0,
        "us-20a": 1920.0, "us-208v-30a": 4992.0, "us-240v-30a": 5760.0, "eu-16a": 2944.0,
        "eu-32a": 5888.0, "jp-15a": 1200.0}
    assert {k: c.volts for k, c in rules.CIRCUITS.items()} == {
        "india-16a": 230, "india-6a": 230, "india-32a": 230, "us-15a": 120, "us-20a": 120,
        "us-208v-30a": 208, "us-240v-30a": 240, "eu-16a": 230, "eu-32a": 230, "jp-15a": 100}


@pytest.mark.parametrize("tdp, leads, ok", [(450, 3, True), (450, 2, False), (451, 4, True),
                                            (451, 3, False)])
def test_16_pin_adapter_leads(tdp, leads, ok):
    # NVIDIA's adapters: 3 x 8-pin up to 450 W, 4 above
    card = pf.gpu(tdp_w=tdp, power_8pin=0, power_16pin=1)
    assert rules.psu_connectors_ok(pf.psu(pcie_8pin=leads, connector_16pin=0), card, 1) is ok


def test_a_native_16_pin_lead_needs_no_adapter():
    card = pf.gpu(tdp_w=575, power_8pin=0, power_16pin=1)
    assert rules.psu_connectors_ok(pf.psu(pcie_8pin=0, connector_16pin=1), card, 1)
    assert not rules.psu_connectors_ok(pf.psu(pcie_8pin=3, connector_16pin=1), card, 2)
    assert rules.psu_connectors_ok(pf.psu(pcie_8pin=4, connector_16pin=1), card, 2)


@pytest.mark.parametrize("vendor, availability, used, legacy, allowed", [
    ("NVIDIA", "new", False, False, True), ("AMD", "new", True, True, False),
    ("NVIDIA", "legacy", False, False, False), ("NVIDIA", "legacy", False, True, True),
    ("NVIDIA", "used", False, False, False), ("NVIDIA", "used", True, False, True),
    ("NVIDIA", "used", False, True, False), ("NVIDIA", "legacy", True, False, False),
])
def test_gpu_allowed(vendor, availability, used, legacy, allowed):
    card = pf.gpu(vendor=vendor, availability=availability)
    assert (rules.gpu_allowed(card, used, legacy) is None) is allowed


def board(positions, lanes):
    return pf.board(positions=positions, lanes=lanes)


@pytest.mark.parametrize("positions, lanes, count, cooler, seated", [
    ((1, 4), (16, 4), 1, "open-air", (1,)),          # one card: the x16 slot
    ((1, 4), (4, 16), 1, "open-air", (4,)),          # ... wherever it is
    ((1, 3), (16, 16), 2, "open-air", None),         # 2-slot open-air needs a 1-slot gap
    ((1, 4), (16, 16), 2, "open-air", (1, 4)),
    ((1, 3), (16, 16), 2, "blower", (1, 3)),         # blowers may touch
    ((1, 3), (16, 8), 2, "blower", (1, 3)),          # x8 is enough
    ((1, 3), (16, 4), 2, "blower", None),            # x4 is not
    ((), (), 1, "blower", None),
])
def test_seat_gpus(positions, lanes, count, cooler, seated):
    assert rules.seat_gpus(board(positions, lanes), pf.gpu(cooler=cooler), count) == seated


def test_seat_gpus_of_no_cards():
    assert rules.seat_gpus(board((1, 3), (16, 16)), pf.gpu(), 0) is None


@pytest.mark.parametrize("length, slots, ok", [(330, 6, True), (331, 6, False), (330, 5, False)])
def test_case_length_and_slots(length, slots, ok):
    # 3-slot cards in positions 1 and 4: the second blocks 4..6, so 6 rear slots
    card = pf.gpu(length_mm=length, slot_width=3)
    case = pf.case(max_gpu_length_mm=330, expansion_slots=slots)
    assert rules.case_ok(case, pf.board(), card, (1, 4)) is ok


def test_case_takes_the_board_form():
    assert not rules.case_ok(pf.case(form_factors=("mATX",)), pf.board(form_factor="ATX"),
                             pf.gpu(), (1,))


@pytest.mark.parametrize("kits, slots, max_gb, floor, ok", [
    (2, 4, 128, 64, True),     # 2 kits x 2 modules = 4 slots; 64 GB
    (2, 3, 128, 64, False),    # 4 modules, 3 slots
    (2, 4, 63, 32, False),     # 64 GB over the board's 63
    (2, 4, 64, 64, True),
    (1, 4, 128, 33, False),    # 32 GB below the floor
])
def test_memory_ok(kits, slots, max_gb, floor, ok):
    b = pf.board(memory_slots=slots, max_memory_gb=max_gb)
    assert rules.memory_ok(pf.kit(modules=2, module_gb=16), kits, b, floor) is ok


def test_memory_type_must_match():
    assert not rules.memory_ok(pf.kit(memory_type="DDR4"), 1, pf.board(memory_type="DDR5"), 16)


@pytest.mark.parametrize("capacity, read, ok", [(1000, 3500, True), (999, 3500, False),
                                                (1000, 3499, False)])
def test_storage_ok(capacity, read, ok):
    assert rules.storage_ok(pf.storage(capacity_gb=capacity, seq_read_mbs=read), 1000,
                            3500) is ok


# A valid build to break one rule at a time: 200 W card + 65 W CPU + 75 W = 340 W draw,
# PSU needs 408 W, wall 377.8 W; 6 cores for 1 GPU (3 workers + 1 + 2).
VALID = dict(gpu=pf.gpu(), count=1, cpu=pf.cpu(), board=pf.board(), kit=pf.kit(), kits=1,
             storage=pf.storage(), psu=pf.psu(watts=408), case=pf.case(),
             needs=rules.Needs(storage_gb=1000, read_mbs=0, circuit_w=378, ram_floor_gb=32),
             platform_class=None)


def broken(**change):
    return rules.violations(**{**VALID, **change})


def test_the_valid_build_is_valid():
    assert broken() == []


@pytest.mark.parametrize("change, word", [
    (dict(cpu=pf.cpu(socket="LGA1700")), "socket"),
    (dict(platform_class="workstation"), "--class"),
    (dict(board=pf.board(positions=(1,), lanes=(16,)), count=2), "x16 slots"),
    (dict(case=pf.case(max_gpu_length_mm=249)), "case"),
    (dict(kit=pf.kit(module_gb=8)), "memory"),
    (dict(cpu=pf.cpu(cores=5)), "cores"),
    (dict(psu=pf.psu(watts=407)), "PSU too small"),
    (dict(psu=pf.psu(watts=408, pcie_8pin=0)), "connectors"),
    (dict(needs=rules.Needs(storage_gb=1000, read_mbs=0, circuit_w=377, ram_floor_gb=32)),
     "wall circuit"),
    (dict(storage=pf.storage(capacity_gb=999)), "storage"),
    (dict(case=pf.case(chassis_class="desktop"), platform_class="server",
          board=pf.board(platform_class="server")), "chassis"),
])
def test_each_rule_breaks_alone(change, word):
    got = broken(**change)
    assert any(word in v for v in got), got


def test_storage_needs_the_datasets_plus_working_space():
    # the recipe's dataset: 100,000 samples x 100 kB = 10 GB; + 200 GB working space = 210 GB
    recipe = pf.recipe()
    catalog = pf.catalog(storage=[pf.storage("s209", inr=1000, capacity_gb=209),
                                  pf.storage("s210", inr=2000, capacity_gb=210)])
    result = recommend(catalog, Request(budget_inr=10**6, targets=(recipe,)), estimator({}))
    assert result.best.storage.id == "s210"


def test_one_card_takes_the_slot_with_the_most_lanes_not_the_first():
    assert rules.seat_gpus(board((1, 4), (8, 16)), pf.gpu(), 1) == (4,)


@pytest.mark.parametrize("circuit_w, ok", [(400.0, True), (399.9, False)])
def test_wall_draw_may_equal_the_circuit(circuit_w, ok):
    # 220 W card + 65 W CPU + 75 W = 360 W; / 0.9 = 400 W at the wall
    needs = rules.Needs(storage_gb=1000, read_mbs=0, circuit_w=circuit_w, ram_floor_gb=32)
    got = broken(gpu=pf.gpu(tdp_w=220), psu=pf.psu(watts=432), needs=needs)
    assert (got == []) is ok

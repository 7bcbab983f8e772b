"""recommend/search.py by value: the pick and frontier rules, the cheapest rest's filters and
ties, the price rules, the upgrade's 3% and the wanted-target fallbacks, each at its boundary.

Expectations are worked by hand from the module's docstrings and the rules it cites
(VALUE_TOLERANCE 5%, VALUE_SLACK_S 60 s, MIN_UPGRADE_SPEEDUP 3%, RAM 16 GB per GPU, 200 GB of
working space, 365-day price age), never from the search's own output.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import parts_factory as pf
import pytest

from rigcheck.recommend import rules
from rigcheck.recommend.search import (
    Build,
    Dropped,
    Option,
    Recommendation,
    Request,
    TargetEstimate,
    _Index,
    _Rest,
    cheapest_build,
    frontier_of,
    gpu_options,
    pick_of,
    recommend,
    usable_catalog,
)

ZERO = dict(inr=0)


def build(gpu_id="g", inr=1000, train_s=100.0, count=1, nodes=1):
    """A build whose only cost is its GPUs (every other part free): total = inr x count x nodes."""
    return Build(gpu=pf.gpu(gpu_id, inr=inr), gpu_count=count, gpu_positions=(1,),
                 cpu=pf.cpu(**ZERO), motherboard=pf.board(**ZERO), memory=pf.kit(**ZERO),
                 memory_kits=1, storage=pf.storage(**ZERO), psu=pf.psu(**ZERO),
                 case=pf.case(**ZERO), estimates=(), total_train_s=train_s, nodes=nodes)


def ids(builds):
    return [(b.gpu.id, b.total_train_s) for b in builds]


# ---- pick_of ---------------------------------------------------------------------------------

def test_pick_of_nothing_is_none():
    assert pick_of([], "value") is None
    assert pick_of([], "fastest") is None


@pytest.mark.parametrize("slow_s, picked", [(1060.0, "cheap"), (1060.5, "fast")])
def test_value_slack_of_a_minute_when_it_is_more_than_5_percent(slow_s, picked):
    # fastest 1,000 s: 5% is 1,050 s, a minute is 1,060 s: the limit is 1,060 s.
    builds = [build("fast", inr=5000, train_s=1000.0), build("cheap", inr=1000, train_s=slow_s)]
    assert pick_of(builds, "value").gpu.id == picked


@pytest.mark.parametrize("slow_s, picked", [(2100.0, "cheap"), (2100.5, "fast")])
def test_value_tolerance_of_5_percent_when_it_is_more_than_a_minute(slow_s, picked):
    # fastest 2,000 s: 5% is 2,100 s, a minute 2,060 s: the limit is 2,100 s.
    builds = [build("fast", inr=5000, train_s=2000.0), build("cheap", inr=1000, train_s=slow_s)]
    assert pick_of(builds, "value").gpu.id == picked


def test_fastest_ignores_price_and_ties_go_to_the_cheaper_then_the_id():
    builds = [build("cheap", inr=1000, train_s=1001.0), build("fast", inr=5000, train_s=1000.0)]
    assert pick_of(builds, "fastest").gpu.id == "fast"
    tie = [build("b", inr=5000, train_s=1000.0), build("c", inr=4000, train_s=1000.0),
           build("a", inr=5000, train_s=1000.0)]
    assert pick_of(tie, "fastest").gpu.id == "c"
    same = [build("b", inr=5000, train_s=1000.0), build("a", inr=5000, train_s=1000.0)]
    assert pick_of(same, "fastest").gpu.id == "a"
    counts = [build("a", inr=2500, train_s=1000.0, count=2),
              build("a", inr=5000, train_s=1000.0, count=1)]
    assert pick_of(counts, "fastest").gpu_count == 1      # same total and time: fewer cards


def test_value_ties_on_price_go_to_the_faster_then_the_id():
    builds = [build("fast", inr=9000, train_s=1000.0), build("b", inr=1000, train_s=1030.0),
              build("a", inr=1000, train_s=1020.0)]
    assert pick_of(builds, "value").gpu.id == "a"
    same = [build("fast", inr=9000, train_s=1000.0), build("b", inr=1000, train_s=1020.0),
            build("a", inr=1000, train_s=1020.0)]
    assert pick_of(same, "value").gpu.id == "a"


# ---- frontier_of -----------------------------------------------------------------------------

def test_frontier_keeps_only_strictly_faster_builds_cheapest_first():
    builds = [build("d", inr=4000, train_s=50.0), build("a", inr=1000, train_s=100.0),
              build("b", inr=2000, train_s=100.0),       # dearer, same time: dominated
              build("c", inr=3000, train_s=120.0)]       # dearer and slower: dominated
    assert ids(frontier_of(builds)) == [("a", 100.0), ("d", 50.0)]


def test_frontier_of_equal_price_keeps_the_faster_and_of_equal_both_the_first_id():
    builds = [build("b", inr=1000, train_s=90.0), build("a", inr=1000, train_s=100.0)]
    assert ids(frontier_of(builds)) == [("b", 90.0)]
    builds = [build("b", inr=1000, train_s=90.0), build("a", inr=1000, train_s=90.0)]
    assert ids(frontier_of(builds)) == [("a", 90.0)]
    assert frontier_of([]) == []


# ---- Build figures ---------------------------------------------------------------------------

def test_build_money_power_and_memory_figures():
    b = dataclasses.replace(
        build("g", inr=1000, count=2, nodes=3),
        gpu=pf.gpu("g", inr=1000, tdp_w=300), cpu=pf.cpu(inr=200, tdp_w=125),
        motherboard=pf.board(inr=300), memory=pf.kit(inr=50, modules=2, module_gb=16),
        memory_kits=2, storage=pf.storage(inr=70), psu=pf.psu(inr=80, watts=1000),
        case=pf.case(inr=90))
    # one node: 2 x 1,000 + 200 + 300 + 2 x 50 + 70 + 80 + 90 = 2,840; three nodes: 8,520
    assert b.node_inr == 2840.0
    assert b.total_inr == 8520.0
    # draw 2 x 300 + 125 + 75 = 800 W; wall 800 / 0.9; 1,000 W PSU: 25% headroom
    assert b.draw_w == 800.0
    assert b.wall_w == pytest.approx(888.889, abs=1e-3)
    assert b.psu_headroom_pct == pytest.approx(25.0)
    assert b.ram_gb == 64 and b.psu_watts == 1000
    assert [(kind, n) for kind, _, n in b.parts()] == [
        ("gpu", 2), ("cpu", 1), ("motherboard", 1), ("memory", 2), ("storage", 1), ("psu", 1),
        ("case", 1)]


# ---- usable_catalog --------------------------------------------------------------------------

TODAY = date(2026, 12, 1)


def priced(part, *, basis=None, age_days=0):
    price = dataclasses.replace(part.price, date=TODAY - timedelta(days=age_days))
    if basis:
        price = dataclasses.replace(price, basis=basis)
    return dataclasses.replace(part, price=price)


def test_usable_catalog_drops_unsourced_and_prices_over_a_year_old():
    cat = pf.catalog(
        gpus=[priced(pf.gpu("g365"), age_days=365), priced(pf.gpu("g366"), age_days=366)],
        cpus=[priced(pf.cpu("recalled"), basis="recalled"), priced(pf.cpu("ok"))],
        motherboards=[priced(pf.board("est"), basis="estimate")],
        memory=[priced(pf.kit())], storage=[priced(pf.storage())], psus=[priced(pf.psu())],
        cases=[priced(pf.case("old"), age_days=400)])
    req = Request(budget_inr=1e6, targets=(), allow_unsourced=False, today=TODAY)
    kept, dropped = usable_catalog(cat, req)
    assert sorted(dropped) == ["est", "g366", "old", "recalled"]
    assert [g.id for g in kept.gpus] == ["g365"]
    assert [c.id for c in kept.cpus] == ["ok"]
    assert kept.motherboards == () and kept.cases == ()
    assert len(kept.memory) == len(kept.storage) == len(kept.psus) == 1
    # A longer allowed age keeps the 366-day price.
    assert "g366" not in usable_catalog(cat, req, max_age_days=366)[1]


def test_usable_catalog_keeps_everything_when_unsourced_allowed_or_no_date():
    cat = pf.catalog(cpus=[priced(pf.cpu("recalled"), basis="recalled")])
    for req in (Request(budget_inr=1e6, targets=(), allow_unsourced=True, today=TODAY),
                Request(budget_inr=1e6, targets=(), allow_unsourced=False, today=None)):
        kept, dropped = usable_catalog(cat, req)
        assert kept == cat and dropped == {}


# ---- gpu_options -----------------------------------------------------------------------------

def est(train_s=100.0, memory_gb=4.0, fits=True, samples_per_s=10.0):
    def estimate(recipe, gpu, count, nodes=1):
        return TargetEstimate(recipe_id=recipe.id, fits=fits, samples_per_s=samples_per_s,
                              train_s=train_s, memory_gb=memory_gb, batch_size=8)
    return estimate


def test_gpu_options_needs_storage_ram_floor_and_read_speed():
    # Dataset 100,000 x 1 MB = 100 GB: storage 100 + 200 = 300 GB. RAM floor for 2 GPUs: 32 GB,
    # or the 40 GB a card uses when more. 100 GB > the floor, so reads must keep up:
    # 10 samples/s x 1 MB = 10 MB/s.
    recipe = pf.recipe(dataset_samples=100_000, bytes_per_sample=1_000_000)
    req = Request(budget_inr=1e6, targets=(recipe,), gpu_counts=(2,))
    (option,), _ = gpu_options(pf.catalog(), req, est(memory_gb=4.0))
    assert option.needs == rules.Needs(storage_gb=300.0, read_mbs=10.0,
                                       circuit_w=req.circuit_w, ram_floor_gb=32.0)
    (option,), _ = gpu_options(pf.catalog(), req, est(memory_gb=40.2))
    assert option.needs.ram_floor_gb == 41.0            # whole GB, rounded up
    # A dataset that fits the RAM floor is read once: no read-speed need. 32 GB = 32 GB floor.
    small = pf.recipe(dataset_samples=32_000, bytes_per_sample=1_000_000)
    (option,), _ = gpu_options(pf.catalog(), Request(budget_inr=1e6, targets=(small,),
                                                     gpu_counts=(2,)), est())
    assert option.needs.read_mbs == 0.0
    just_over = pf.recipe(dataset_samples=32_001, bytes_per_sample=1_000_000)
    (option,), _ = gpu_options(pf.catalog(), Request(budget_inr=1e6, targets=(just_over,),
                                                     gpu_counts=(2,)), est())
    assert option.needs.read_mbs == 10.0


def test_gpu_options_excludes_misfits_and_disallowed_cards_with_reasons():
    cards = [pf.gpu("ok"), pf.gpu("amd", vendor="AMD"), pf.gpu("used", availability="used")]
    req = Request(budget_inr=1e6, targets=(pf.recipe("r"),), gpu_counts=(1, 2))
    options, excluded = gpu_options(pf.catalog(gpus=cards), req, est())
    assert [(o.gpu.id, o.count) for o in options] == [("ok", 1), ("ok", 2)]
    assert set(excluded) == {"amd", "used"}
    options, excluded = gpu_options(pf.catalog(gpus=cards[:1]), req, est(fits=False,
                                                                         memory_gb=20.0))
    assert options == []
    assert excluded == {"ok x1": "r needs 20.0 GB at batch 8; the card has 16 GB",
                        "ok x2": "r needs 20.0 GB at batch 8; the card has 16 GB"}


def test_gpu_options_sorted_by_time_then_gpu_cost_then_id():
    cards = [pf.gpu("b", inr=2000), pf.gpu("a", inr=2000), pf.gpu("c", inr=1000),
             pf.gpu("fast", inr=9000, fp32_tflops=40.0)]

    def speed(recipe, gpu, count, nodes=1):
        return TargetEstimate(recipe.id, True, 1.0, 1000.0 / gpu.fp32_tflops, 4.0, 8)

    req = Request(budget_inr=1e6, targets=(pf.recipe(),))
    options, _ = gpu_options(pf.catalog(gpus=cards), req, speed)
    assert [o.gpu.id for o in options] == ["fast", "c", "a", "b"]
    assert options[0].total_train_s == 25.0


# ---- the index and the cheapest rest ---------------------------------------------------------

def option(gpu=None, count=1, storage_gb=100.0, read_mbs=0.0, circuit_w=2944.0, floor_gb=16.0,
           nodes=1):
    gpu = gpu or pf.gpu()
    return Option(gpu=gpu, count=count, estimates=(), total_train_s=100.0,
                  needs=rules.Needs(storage_gb=storage_gb, read_mbs=read_mbs,
                                    circuit_w=circuit_w, ram_floor_gb=floor_gb), nodes=nodes)


def test_index_filters_by_class_and_bounds_the_rest():
    cat = pf.catalog(
        cpus=[pf.cpu("c1", inr=300), pf.cpu("c2", inr=200)],
        motherboards=[pf.board("desk", inr=100), pf.board("srv", inr=500,
                                                          platform_class="server")],
        memory=[pf.kit(inr=40)], storage=[pf.storage(inr=30)], psus=[pf.psu(inr=20)],
        cases=[pf.case("tower", inr=10), pf.case("rack", inr=60, chassis_class="rack"),
               pf.case("srvc", inr=70, chassis_class="server")])
    any_class = _Index(cat, None)
    assert [b.id for b in any_class.boards] == ["desk", "srv"]
    assert [c.id for c in any_class.cases] == ["tower", "rack", "srvc"]
    assert any_class.rest_lower_bound == 200 + 100 + 40 + 30 + 20 + 10
    server = _Index(cat, "server")
    assert [b.id for b in server.boards] == ["srv"]
    assert [c.id for c in server.cases] == ["rack", "srvc"]
    assert server.rest_lower_bound == 200 + 500 + 40 + 30 + 20 + 60
    desktop = _Index(cat, "desktop")
    assert [b.id for b in desktop.boards] == ["desk"]
    assert [c.id for c in desktop.cases] == ["tower", "rack", "srvc"]
    assert _Index(pf.catalog(cpus=[]), None).rest_lower_bound == float("inf")


def test_cheapest_memory_counts_kits_by_the_floor_and_picks_the_cheapest_total():
    board = pf.board(memory_slots=4, max_memory_gb=192)
    k16 = pf.kit("k16", inr=100, modules=2, module_gb=8)    # 16 GB
    k32 = pf.kit("k32", inr=250, modules=2, module_gb=16)   # 32 GB
    index = _Index(pf.catalog(memory=[k16, k32]), None)
    # 32 GB: two 16 GB kits (200) beat one 32 GB kit (250)
    assert index.cheapest_memory(board, 32.0) == (k16, 2)
    # 33 GB: three 16 GB kits need 6 slots of 4; two 32 GB kits (500)
    assert index.cheapest_memory(board, 33.0) == (k32, 2)
    # the cheapest total, not the cheapest kit: one 32 GB kit at 150 beats two 16 GB at 100
    dear16 = _Index(pf.catalog(memory=[k16, dataclasses.replace(k32, price=pf.price(150))]),
                    None)
    assert dear16.cheapest_memory(board, 32.0)[0].id == "k32"
    # and totals, not prices per kit: two 16 GB kits at 150 (300) lose to one 32 GB at 250
    two = _Index(pf.catalog(memory=[dataclasses.replace(k16, price=pf.price(150)), k32]), None)
    assert two.cheapest_memory(board, 32.0)[0].id == "k32"
    # a floor of 0 still takes one kit
    assert index.cheapest_memory(board, 0.0) == (k16, 1)
    # no kit of the board's memory type
    assert index.cheapest_memory(pf.board(memory_type="DDR4"), 16.0) is None
    # equal totals: the first id
    a = pf.kit("a", inr=100, modules=2, module_gb=8)
    b = pf.kit("b", inr=100, modules=2, module_gb=8)
    assert _Index(pf.catalog(memory=[b, a]), None).cheapest_memory(board, 16.0) == (a, 1)


def test_cheapest_psu_boundary_and_the_adapter_rule_in_its_memo():
    # 450 W card with one 16-pin input takes 3 PCIe leads by adapter; a 451 W card takes 4.
    # With a 100 W and a 99 W CPU both draw 450 + 100 + 75 = 451 + 99 + 75 = 625 W -> 750 W PSU.
    psu3 = pf.psu("p3", inr=100, watts=750, pcie_8pin=3)
    psu4 = pf.psu("p4", inr=200, watts=750, pcie_8pin=4)
    index = _Index(pf.catalog(psus=[psu3, psu4]), None)
    g450 = pf.gpu("g450", tdp_w=450, power_8pin=0, power_16pin=1)
    g451 = pf.gpu("g451", tdp_w=451, power_8pin=0, power_16pin=1)
    assert index.cheapest_psu(g450, 1, pf.cpu(tdp_w=100)) == psu3
    assert index.cheapest_psu(g451, 1, pf.cpu(tdp_w=99)) == psu4
    # 749 W falls short of the 750 W needed; nothing big enough: None
    small = _Index(pf.catalog(psus=[pf.psu(watts=749, pcie_8pin=8)]), None)
    assert small.cheapest_psu(g450, 1, pf.cpu(tdp_w=100)) is None
    exact = _Index(pf.catalog(psus=[pf.psu(watts=750, pcie_8pin=8)]), None)
    assert exact.cheapest_psu(g450, 1, pf.cpu(tdp_w=100)) is not None


def test_cheapest_rest_cores_just_enough_and_one_short():
    # one GPU: 1 x (3 + 1) + 2 = 6 cores
    cat = pf.catalog(cpus=[pf.cpu("c5", inr=100, cores=5), pf.cpu("c6", inr=200, cores=6)])
    got = cheapest_build(option(), _Index(cat, None), None)
    assert got.cpu.id == "c6"
    cat = pf.catalog(cpus=[pf.cpu("c5", inr=100, cores=5)])
    assert cheapest_build(option(), _Index(cat, None), None) is None


def test_cheapest_rest_wall_circuit_at_and_past_the_limit():
    # 200 W card + 65 W CPU + 75 W = 340 W draw... use 100 W CPU: 200 + 100 + 75 = 375 W;
    # wall 375 / 0.9 = 416.67 W.
    cat = pf.catalog(cpus=[pf.cpu(tdp_w=100)])
    assert cheapest_build(option(circuit_w=417.0), _Index(cat, None), None) is not None
    assert cheapest_build(option(circuit_w=416.0), _Index(cat, None), None) is None


def test_cheapest_rest_skips_boards_of_another_class_socket_or_too_few_slots():
    cheap_wrong = pf.board("a-wrong", inr=10, platform_class="server", lanes=(16, 8))
    cheap_socket = pf.board("b-socket", inr=20, socket="LGA1700")
    cheap_slots = pf.board("c-slots", inr=30, positions=(1, 4), lanes=(16, 4))   # x4: too few
    good = pf.board("d-good", inr=40, lanes=(16, 8))
    cpus = [pf.cpu(cores=10)]                  # two GPUs: 2 x (3 + 1) + 2 = 10 cores
    cat = pf.catalog(motherboards=[cheap_wrong, cheap_socket, cheap_slots, good], cpus=cpus)
    got = cheapest_build(option(count=2, floor_gb=32.0), _Index(cat, None), "desktop")
    assert got.motherboard.id == "d-good" and got.gpu_positions == (1, 4)
    # without a class, the cheapest board that seats two cards takes it
    cat = pf.catalog(motherboards=[pf.board("srv", inr=10, platform_class="server",
                                            lanes=(16, 8)), good], cpus=cpus)
    got = cheapest_build(option(count=2, floor_gb=32.0), _Index(cat, None), None)
    assert got.motherboard.id == "srv"


def test_cheapest_rest_needs_storage_case_and_memory():
    idx = _Index(pf.catalog(storage=[pf.storage(capacity_gb=99)]), None)
    assert cheapest_build(option(storage_gb=100.0), idx, None) is None
    idx = _Index(pf.catalog(storage=[pf.storage(capacity_gb=100, seq_read_mbs=499)]), None)
    assert cheapest_build(option(storage_gb=100.0, read_mbs=500.0), idx, None) is None
    assert cheapest_build(option(storage_gb=100.0, read_mbs=499.0), idx, None) is not None
    idx = _Index(pf.catalog(cases=[pf.case(max_gpu_length_mm=249)]), None)
    assert cheapest_build(option(), idx, None) is None
    idx = _Index(pf.catalog(memory=[pf.kit(modules=2, module_gb=8)]), None)
    assert cheapest_build(option(floor_gb=16.0), idx, None) is not None
    assert cheapest_build(option(floor_gb=200.0), idx, None) is None     # 192 GB board maximum


def test_cheapest_rest_is_the_cheapest_pair_and_ties_go_to_the_board_then_cpu_id():
    # board b1 (100) + cpu of 300 vs board b2 (150) + cpu of 200: 400 vs 350 -> b2
    cat = pf.catalog(motherboards=[pf.board("b1", inr=100, socket="AM5"),
                                   pf.board("b2", inr=150, socket="LGA1700")],
                     cpus=[pf.cpu("am5", inr=300, socket="AM5"),
                           pf.cpu("intel", inr=200, socket="LGA1700")])
    got = cheapest_build(option(), _Index(cat, None), None)
    assert (got.motherboard.id, got.cpu.id) == ("b2", "intel")
    # equal totals: the board id first, then the CPU id
    cat = pf.catalog(motherboards=[pf.board("b2", inr=100), pf.board("b1", inr=100)],
                     cpus=[pf.cpu("y", inr=200), pf.cpu("x", inr=200)])
    got = cheapest_build(option(), _Index(cat, None), None)
    assert (got.motherboard.id, got.cpu.id) == ("b1", "x")
    # a dearer CPU with the cooler draw is taken when the cheap one breaks the circuit:
    # 200 + 200 + 75 = 475 W / 0.9 = 527.8 W > 500; 200 + 65 + 75 = 340 / 0.9 = 377.8 W
    cat = pf.catalog(cpus=[pf.cpu("hot", inr=100, tdp_w=200), pf.cpu("cool", inr=900)])
    assert cheapest_build(option(circuit_w=500.0), _Index(cat, None), None).cpu.id == "cool"


def test_cheapest_build_cap_is_inclusive_and_covers_every_node():
    # GPU 50,000 + board 12,000 + CPU 15,000 + kit 8,000 + storage 6,000 + PSU 6,000 + case
    # 4,000 = 101,000 a node (the factory's prices)
    idx = _Index(pf.catalog(), None)
    assert cheapest_build(option(), idx, None, cap_inr=101_000).total_inr == 101_000
    assert cheapest_build(option(), idx, None, cap_inr=100_999) is None
    assert cheapest_build(option(nodes=2), idx, None, cap_inr=202_000).total_inr == 202_000
    assert cheapest_build(option(nodes=2), idx, None, cap_inr=201_999) is None


def test_options_of_the_same_demand_share_a_rest_but_not_across_demands():
    idx = _Index(pf.catalog(cases=[pf.case(max_gpu_length_mm=300)]), None)
    assert cheapest_build(option(pf.gpu("short", length_mm=300)), idx, None) is not None
    assert cheapest_build(option(pf.gpu("long", length_mm=301)), idx, None) is None
    idx = _Index(pf.catalog(psus=[pf.psu(watts=750, pcie_8pin=1)]), None)
    assert cheapest_build(option(pf.gpu("one", power_8pin=1)), idx, None) is not None
    assert cheapest_build(option(pf.gpu("two", power_8pin=2)), idx, None) is None


# ---- recommend -------------------------------------------------------------------------------

def speed_by_card(recipe, gpu, count, nodes=1):
    return TargetEstimate(recipe_id=recipe.id, fits=True, samples_per_s=1.0,
                          train_s=1000.0 / (gpu.fp32_tflops * count), memory_gb=4.0,
                          batch_size=8)


REST_INR = 51_000         # the factory's non-GPU parts: 12,000 + 15,000 + 8,000 + 6,000 + ...


def test_recommend_budget_is_inclusive():
    req = Request(budget_inr=50_000 + REST_INR, targets=(pf.recipe(),))
    assert recommend(pf.catalog(), req, speed_by_card).best.total_inr == 101_000
    req = dataclasses.replace(req, budget_inr=100_999)
    got = recommend(pf.catalog(), req, speed_by_card)
    assert got.best is None and got.cheapest.total_inr == 101_000
    assert got.upgrade is None and got.options_considered == 1


def test_recommend_two_nodes_cost_twice_within_the_budget():
    req = Request(budget_inr=202_000, targets=(pf.recipe(),), nodes=2)
    assert recommend(pf.catalog(), req, speed_by_card).best.total_inr == 202_000
    req = dataclasses.replace(req, budget_inr=201_999)
    assert recommend(pf.catalog(), req, speed_by_card).best is None


def test_recommend_upgrade_needs_3_percent_and_to_beat_the_fastest_within_budget():
    # pick: 20 TFLOPS -> 50 s. Upgrade candidates above the budget: 50 / 1.03 = 48.54 s limit.
    base = pf.gpu("base", inr=50_000, fp32_tflops=20.0)
    just = pf.gpu("just", inr=90_000, fp32_tflops=1000.0 / 48.5)      # 48.5 s: 3.09% faster
    short = pf.gpu("short", inr=80_000, fp32_tflops=1000.0 / 48.6)    # 48.6 s: 2.88% faster
    req = Request(budget_inr=101_000, targets=(pf.recipe(),))
    got = recommend(pf.catalog(gpus=[base, just, short]), req, speed_by_card)
    assert got.best.gpu.id == "base" and got.upgrade.gpu.id == "just"
    got = recommend(pf.catalog(gpus=[base, short]), req, speed_by_card)
    assert got.upgrade is None
    assert got.cheapest.gpu.id == "base"       # with a pick: the cheapest frontier build


def test_recommend_value_upgrade_must_beat_the_fastest_build_within_budget():
    # value picks "base" (50 s, cheapest within the 60 s slack) over "quick" (45 s, also within
    # budget); an upgrade must beat 45 s, so "mid" (46 s: 8% faster than the pick) is no upgrade.
    base = pf.gpu("base", inr=50_000, fp32_tflops=20.0)
    quick = pf.gpu("quick", inr=60_000, fp32_tflops=1000.0 / 45.0)
    mid = pf.gpu("mid", inr=200_000, fp32_tflops=1000.0 / 46.0)
    fast = pf.gpu("fast", inr=300_000, fp32_tflops=1000.0 / 40.0)
    req = Request(budget_inr=111_000, targets=(pf.recipe(),))
    got = recommend(pf.catalog(gpus=[base, quick, mid]), req, speed_by_card)
    assert got.best.gpu.id == "base" and got.fastest.gpu.id == "quick"
    assert got.upgrade is None
    got = recommend(pf.catalog(gpus=[base, quick, mid, fast]), req, speed_by_card)
    assert got.upgrade.gpu.id == "fast"
    assert [b.gpu.id for b in got.builds] == ["base", "quick"]
    assert [b.gpu.id for b in got.frontier] == ["base", "quick"]


def test_recommend_top_and_fastest_objective():
    cards = [pf.gpu(f"g{i}", inr=50_000 + 1000 * i, fp32_tflops=20.0 + 10 * i)
             for i in range(5)]
    req = Request(budget_inr=1e7, targets=(pf.recipe(),), objective="fastest", top=2)
    got = recommend(pf.catalog(gpus=cards), req, speed_by_card)
    assert [b.gpu.id for b in got.builds] == ["g4", "g3"]
    assert len(got.frontier) == 5


def test_recommend_cheapest_when_nothing_is_within_budget_is_the_cheapest_of_all():
    cards = [pf.gpu("dear", inr=90_000, fp32_tflops=40.0), pf.gpu("cheap", inr=60_000),
             pf.gpu("mid", inr=70_000)]
    req = Request(budget_inr=1000, targets=(pf.recipe(),))
    got = recommend(pf.catalog(gpus=cards), req, speed_by_card)
    assert got.best is None and got.cheapest.gpu.id == "cheap"
    # a card that cannot be built (longer than the 330 mm case) does not hide the cheapest one
    # that can
    long = pf.gpu("long", inr=10_000, length_mm=331)
    got = recommend(pf.catalog(gpus=[long, *cards]), req, speed_by_card)
    assert got.cheapest.gpu.id == "cheap"


def test_recommend_rejects_an_unknown_objective():
    with pytest.raises(ValueError, match="objective 'speed'"):
        recommend(pf.catalog(), Request(budget_inr=1e6, targets=(pf.recipe(),),
                                        objective="speed"), speed_by_card)


def test_recommend_falls_back_to_older_cited_prices_marked():
    old = priced(pf.gpu("g"), age_days=400)
    fresh = {k: [priced(p) for p in getattr(pf.catalog(), k)]
             for k in ("cpus", "motherboards", "memory", "storage", "psus", "cases")}
    cat = pf.catalog(gpus=[old], **fresh)
    req = Request(budget_inr=1e6, targets=(pf.recipe(),), allow_unsourced=False, today=TODAY)
    got = recommend(cat, req, speed_by_card)
    assert got.best is not None and got.old_prices is True
    # recalled prices are never used, however old the rule allows
    cat = pf.catalog(gpus=[priced(pf.gpu("g"), basis="recalled")], **fresh)
    got = recommend(cat, req, speed_by_card)
    assert got.best is None and got.old_prices is False
    # fresh prices: no fallback, not marked
    got = recommend(pf.catalog(gpus=[priced(pf.gpu("g"))], **fresh), req, speed_by_card)
    assert got.best is not None and got.old_prices is False


# ---- wanted targets --------------------------------------------------------------------------

def by_target(times):
    """Each target's time and memory by recipe id: (train_s, memory_gb); memory over the 16 GB
    card does not fit."""
    def estimate(recipe, gpu, count, nodes=1):
        train_s, memory_gb = times[recipe.id]
        return TargetEstimate(recipe_id=recipe.id, fits=memory_gb <= gpu.vram_gb,
                              samples_per_s=1.0, train_s=train_s, memory_gb=memory_gb,
                              batch_size=8)
    return estimate


def test_wanted_targets_all_kept_when_one_build_runs_them():
    req = Request(budget_inr=1e6, targets=(pf.recipe("need"),),
                  wanted=(pf.recipe("w1"), pf.recipe("w2")))
    got = recommend(pf.catalog(), req, by_target({"need": (10, 4), "w1": (20, 4), "w2": (30, 4)}))
    assert [t.id for t in got.request.targets] == ["need", "w1", "w2"]
    assert got.dropped == [] and got.best.total_train_s == 60.0


def test_wanted_target_that_fits_no_card_is_dropped_with_its_reason():
    req = Request(budget_inr=1e6, targets=(pf.recipe("need"),),
                  wanted=(pf.recipe("huge"), pf.recipe("w2")))
    got = recommend(pf.catalog(), req, by_target({"need": (10, 4), "huge": (20, 99),
                                                  "w2": (30, 4)}))
    assert [t.id for t in got.request.targets] == ["need", "w2"]
    assert [(d.recipe_id, d.cheapest) for d in got.dropped] == [("huge", None)]
    assert got.dropped[0].reason.startswith("no GPU in the catalog runs it")


def test_wanted_target_over_the_budget_is_dropped_with_the_build_that_would_run_it():
    # w1 uses 33 GB of GPU memory, so the RAM floor is 33 GB: two 32 GB kits at 8,000, +8,000
    # over the 101,000 build
    req = Request(budget_inr=101_000, targets=(pf.recipe("need"),), wanted=(pf.recipe("w1"),))
    got = recommend(pf.catalog(gpus=[pf.gpu(vram_gb=48)]), req,
                    by_target({"need": (10, 4), "w1": (20, 33)}))
    assert [t.id for t in got.request.targets] == ["need"]
    (dropped,) = got.dropped
    assert dropped.reason == "every build that runs it costs more than the budget"
    assert dropped.cheapest.total_inr == 109_000


def test_wanted_target_without_any_compatible_build():
    # w1 fits a card but needs more RAM (200 GB) than the 192 GB board takes
    req = Request(budget_inr=1e6, targets=(pf.recipe("need"),), wanted=(pf.recipe("w1"),))
    got = recommend(pf.catalog(gpus=[pf.gpu(vram_gb=256)]), req,
                    by_target({"need": (10, 4), "w1": (20, 200)}))
    assert got.dropped[0].reason == "no complete, compatible build in the catalog runs it"
    assert got.dropped[0].cheapest is None


def test_wanted_not_judged_when_the_required_targets_have_no_build():
    req = Request(budget_inr=1000, targets=(pf.recipe("need"),), wanted=(pf.recipe("w1"),))
    got = recommend(pf.catalog(), req, by_target({"need": (10, 4), "w1": (20, 4)}))
    assert got.best is None and got.dropped == []
    assert [t.id for t in got.request.targets] == ["need"]


# ---- boundaries the pruning and tie rules must not move -----------------------------------------

def by_id(times):
    """train_s by GPU id, exactly as given (no float division)."""
    def estimate(recipe, gpu, count, nodes=1):
        return TargetEstimate(recipe_id=recipe.id, fits=True, samples_per_s=1.0,
                              train_s=times[gpu.id], memory_gb=4.0, batch_size=8)
    return estimate


def test_upgrade_at_exactly_3_percent_faster_is_offered():
    # pick 103 s; 103 / 1.03 = 100 s exactly: a 100 s build above the budget is an upgrade,
    # a 100.5 s one is not
    cards = [pf.gpu("pick", inr=50_000), pf.gpu("up", inr=90_000)]
    req = Request(budget_inr=101_000, targets=(pf.recipe(),), objective="fastest")
    got = recommend(pf.catalog(gpus=cards), req, by_id({"pick": 103.0, "up": 100.0}))
    assert got.upgrade.gpu.id == "up"
    got = recommend(pf.catalog(gpus=cards), req, by_id({"pick": 103.0, "up": 100.5}))
    assert got.upgrade is None


def test_an_upgrade_as_fast_as_the_fastest_within_budget_is_none():
    # value picks "base" (50 s) over "quick" (45 s, within budget); "twin" is as fast as quick
    # but above the budget: not faster than what the budget already buys
    cards = [pf.gpu("base", inr=50_000), pf.gpu("quick", inr=60_000),
             pf.gpu("twin", inr=300_000)]
    req = Request(budget_inr=111_000, targets=(pf.recipe(),))
    got = recommend(pf.catalog(gpus=cards), req, by_id({"base": 50.0, "quick": 45.0,
                                                        "twin": 45.0}))
    assert got.best.gpu.id == "base" and got.upgrade is None


def test_cheapest_of_equal_totals_is_the_faster_option():
    cards = [pf.gpu("slow", inr=60_000), pf.gpu("fast", inr=60_000)]
    req = Request(budget_inr=1000, targets=(pf.recipe(),))
    got = recommend(pf.catalog(gpus=cards), req, by_id({"slow": 200.0, "fast": 100.0}))
    assert got.cheapest.gpu.id == "fast"


def test_wall_circuit_exactly_at_the_limit_is_allowed():
    # 600 W card + 225 W CPU + 75 W = 900 W draw; 900 / 0.9 = 1,000 W at the wall exactly;
    # PSU 900 x 1.2 = 1,080 W
    cat = pf.catalog(cpus=[pf.cpu(tdp_w=225)], psus=[pf.psu(watts=1080, pcie_8pin=2)])
    gpu = pf.gpu(tdp_w=600)
    assert cheapest_build(option(gpu, circuit_w=1000.0), _Index(cat, None), None) is not None
    assert cheapest_build(option(gpu, circuit_w=999.0), _Index(cat, None), None) is None


def test_ties_are_exact_even_with_free_parts():
    # Board z (10) takes only a CPU of 90; board a (100) a CPU of 0; everything else is free.
    # Both rests cost 100: the tie goes to board id "a", though its board alone costs as much
    # as z's whole rest (the price-sorted loops must not stop early at equality).
    free = dict(inr=0)
    cat = pf.catalog(
        motherboards=[pf.board("z", inr=10, socket="AM5"), pf.board("a", inr=100, socket="SP5")],
        cpus=[pf.cpu("am5", inr=90, socket="AM5"), pf.cpu("sp5", inr=0, socket="SP5")],
        memory=[pf.kit(**free)], storage=[pf.storage(**free)], psus=[pf.psu(**free)],
        cases=[pf.case(**free)])
    got = cheapest_build(option(pf.gpu(inr=0)), _Index(cat, None), None)
    assert (got.motherboard.id, got.cpu.id, got.total_inr) == ("a", "sp5", 100.0)


def test_request_defaults():
    req = Request(budget_inr=1e6, targets=(pf.recipe(),))
    assert (req.gpu_counts, req.platform_class, req.allow_used, req.allow_legacy, req.top,
            req.nodes, req.objective, req.allow_unsourced, req.today, req.wanted) == (
        (1,), None, False, False, 3, 1, "value", True, None, ())
    assert req.circuit_w == 2944.0                         # one Indian 16 A circuit
    # three builds by default
    cards = [pf.gpu(f"g{i}", inr=50_000 + 1000 * i) for i in range(5)]
    got = recommend(pf.catalog(gpus=cards), req, by_id({f"g{i}": 100.0 - 10 * i
                                                        for i in range(5)}))
    assert len(got.builds) == 3 and len(got.frontier) == 5
    # legacy cards are left out unless asked for
    legacy = pf.gpu("old", availability="legacy")
    _, excluded = gpu_options(pf.catalog(gpus=[legacy]), req, est())
    assert set(excluded) == {"old"}
    options, _ = gpu_options(pf.catalog(gpus=[legacy]),
                             dataclasses.replace(req, allow_legacy=True), est())
    assert [o.gpu.id for o in options] == ["old"]
    # unsourced prices are usable unless the caller says otherwise, even with a date
    cat = pf.catalog(cpus=[priced(pf.cpu("recalled"), basis="recalled")])
    assert usable_catalog(cat, dataclasses.replace(req, today=TODAY))[1] == {}


def test_records_are_frozen_and_default_to_one_node():
    b = Build(gpu=pf.gpu(), gpu_count=1, gpu_positions=(1,), cpu=pf.cpu(),
              motherboard=pf.board(), memory=pf.kit(), memory_kits=1, storage=pf.storage(),
              psu=pf.psu(), case=pf.case(), estimates=(), total_train_s=1.0)
    assert b.nodes == 1 and b.total_inr == b.node_inr
    o = Option(gpu=pf.gpu(), count=1, estimates=(), total_train_s=1.0,
               needs=rules.Needs(1.0, 0.0, 1.0, 16.0))
    assert o.nodes == 1
    req = Request(budget_inr=1e6, targets=())
    est_ = TargetEstimate("r", True, 1.0, 1.0, 1.0, 1)
    rest = _Rest(1.0, (1,), pf.cpu(), pf.board(), pf.kit(), 1, pf.storage(), pf.psu(),
                 pf.case())
    for record, field_name in ((b, "nodes"), (o, "count"), (req, "top"), (est_, "fits"),
                               (Dropped("r", "why", None), "reason"), (rest, "kits")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field_name, 2)
    r = Recommendation(request=req, builds=[], upgrade=None, cheapest=None)
    assert (r.options_considered, r.old_prices, r.excluded, r.frontier, r.dropped,
            r.fastest, r.excluded_parts, r.best) == (0, False, {}, [], [], None, {}, None)


def test_cheapest_of_all_is_the_lowest_total_not_the_first_or_cheapest_gpu():
    # By GPU price: "long" (60,000, needs the 20,000 long case: 127,000), "huge" (60,500, fits
    # no case: no build), "fits" (61,000 with the 4,000 case: 112,000). The cheapest is "fits".
    cards = [pf.gpu("long", inr=60_000, length_mm=380), pf.gpu("huge", inr=60_500, length_mm=450),
             pf.gpu("fits", inr=61_000, length_mm=300)]
    cases = [pf.case("short", inr=4000, max_gpu_length_mm=330),
             pf.case("roomy", inr=20_000, max_gpu_length_mm=400)]
    req = Request(budget_inr=1000, targets=(pf.recipe(),))
    got = recommend(pf.catalog(gpus=cards, cases=cases), req,
                    by_id({"long": 100.0, "huge": 90.0, "fits": 110.0}))
    assert got.builds == [] and got.best is None
    assert (got.cheapest.gpu.id, got.cheapest.total_inr) == ("fits", 112_000)


# ---- the index's memos: every figure a rule reads is in its key --------------------------------
# One index answers a sequence of questions that differ in one figure only; a memo keyed on too
# little would repeat the first answer.

def test_case_memo_follows_form_factor_length_cooler_slots_and_count():
    # cheap: mATX only, cards up to 300 mm, 4 openings, one card, desktop; dear: takes all.
    cheap = pf.case("cheap", inr=1000, form_factors=("mATX",), max_gpu_length_mm=300,
                    expansion_slots=4, max_gpus=1)
    dear = pf.case("dear", inr=9000, form_factors=("ATX", "mATX"), max_gpu_length_mm=400,
                   expansion_slots=8, chassis_class="server", passive_gpu_rated=True, max_gpus=4)
    index = _Index(pf.catalog(cases=[cheap, dear]), None)
    matx, atx = pf.board(form_factor="mATX"), pf.board(form_factor="ATX")
    card = pf.gpu(length_mm=300, slot_width=2)
    assert index.cheapest_case(matx, card, (1,)) == cheap        # 1 + 2 - 1 = 2 openings of 4
    assert index.cheapest_case(atx, card, (1,)) == dear          # ATX board: not in cheap
    assert index.cheapest_case(matx, pf.gpu(length_mm=301), (1,)) == dear   # 1 mm too long
    assert index.cheapest_case(matx, pf.gpu(length_mm=300, cooler="passive"), (1,)) == dear
    assert index.cheapest_case(matx, card, (3,)) == cheap        # 3 + 2 - 1 = 4 openings: fits
    assert index.cheapest_case(matx, card, (4,)) == dear         # 5 openings of 4
    assert index.cheapest_case(matx, pf.gpu(length_mm=300, slot_width=3), (3,)) == dear
    assert index.cheapest_case(matx, card, (1, 3)) == dear       # two cards: cheap holds one


def test_memory_memo_follows_the_boards_type_slots_and_maximum():
    k = pf.kit("k", inr=100, modules=2, module_gb=16)                   # 32 GB a kit
    ddr4 = pf.kit("k4", inr=90, memory_type="DDR4", modules=2, module_gb=16)
    index = _Index(pf.catalog(memory=[k, ddr4]), None)
    assert index.cheapest_memory(pf.board(memory_slots=4, max_memory_gb=64), 64.0) == (k, 2)
    assert index.cheapest_memory(pf.board(memory_slots=2, max_memory_gb=64), 64.0) is None
    assert index.cheapest_memory(pf.board(memory_slots=4, max_memory_gb=63), 64.0) is None
    assert index.cheapest_memory(pf.board(memory_slots=4, max_memory_gb=64,
                                          memory_type="DDR4"), 64.0) == (ddr4, 2)
    assert index.cheapest_memory(pf.board(memory_slots=4, max_memory_gb=64), 65.0) is None


def test_seat_memo_follows_the_slots_width_gap_and_count():
    index = _Index(pf.catalog(), None)
    board = pf.board(positions=(1, 4), lanes=(16, 16))
    blower = pf.gpu(slot_width=2, cooler="blower")
    # two 2-slot blowers: 1 and 4 (next free 3); open-air needs 1 + 3 = 4: still 4.
    assert index.seat_gpus(board, blower, 2) == (1, 4)
    assert index.seat_gpus(board, pf.gpu(slot_width=2, cooler="open-air"), 2) == (1, 4)
    # 3-slot open-air: next free is 1 + 4 = 5, slot 4 is blocked
    assert index.seat_gpus(board, pf.gpu(slot_width=3, cooler="open-air"), 2) is None
    # 3-slot blower: next free 4: fits
    assert index.seat_gpus(board, pf.gpu(slot_width=3, cooler="blower"), 2) == (1, 4)
    assert index.seat_gpus(board, blower, 1) == (1,)
    assert index.seat_gpus(pf.board(positions=(1, 3), lanes=(16, 16)), blower, 2) == (1, 3)
    # the second slot's lanes below the minimum: no second card
    assert index.seat_gpus(pf.board(positions=(1, 4), lanes=(16, 1)), blower, 2) is None

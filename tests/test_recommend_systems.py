"""Complete systems (catalog/systems.csv) in recommend (issue 9 item 7): each rule a system is
judged by, at its boundary (just inside, just past), with expectations worked out by hand; the
JSON and text say a build is a complete system and where its price came from; a malformed
systems.csv row is one clear line and exit 2."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import parts_factory as pf
import pytest
from typer.testing import CliRunner

from rigcheck.parts import Price, System
from rigcheck.recommend import Request, TargetEstimate, recommend
from rigcheck.recommend.report import build_dict
from rigcheck.ui.app import app

TODAY = date(2026, 12, 3)
RECIPE = pf.recipe()          # 100,000 samples x 100,000 bytes = 10 GB of data on disk


def estimate(recipe, gpu, count, nodes=1):
    """20 GB per card; 1,000 s of work shared by the cards (so more cards train faster)."""
    return TargetEstimate(recipe_id=recipe.id, fits=gpu.vram_gb >= 20, samples_per_s=100.0 * count,
                          train_s=1000.0 / count, memory_gb=20.0, batch_size=32)


# A 300 W, 48 GB blower card. Four of them with a 280 W CPU: draw 4 x 300 + 280 + 75 = 1,555 W;
# at the wall 1,555 / 0.9 = 1,727.8 W. Cores needed 4 x (3 + 1) + 2 = 18; RAM at least
# max(16 x 4, 20) = 64 GB; disk 10 + 200 = 210 GB.
CARD = pf.gpu("w", inr=9_00_000, vram_gb=48, tdp_w=300, cooler="blower", form="workstation")
PASSIVE = pf.gpu("d", inr=9_00_000, vram_gb=48, tdp_w=300, cooler="passive", form="datacenter")
SMALL = pf.gpu("s", inr=1_00_000, vram_gb=16, tdp_w=300, cooler="blower")


def system(id="box", *, inr=30_00_000, gpu="w", count=4, included=True, chassis="workstation",
           passive=False, cores=32, cpu_tdp_w=280, ram_gb=192, storage_gb=4000, psu_w=2000,
           max_draw_w=None, inlets=None, seen=date(2026, 11, 1), basis="quote",
           min_input_v=None) -> System:
    return System(id=id, name=f"{id.upper()} system", vendor="Maker", chassis_class=chassis,
                  rack_units=4 if chassis == "rack" else None, gpu_ids=(gpu,), gpu_count=count,
                  gpus_included=included, passive_gpu_rated=passive, cpu_name="32-core CPU",
                  cpu_cores=cores, cpu_tdp_w=cpu_tdp_w, ram_gb=ram_gb, storage_gb=storage_gb,
                  psu_w=psu_w, max_draw_w=max_draw_w, power_inlets=inlets,
                  min_input_v=min_input_v,
                  price=Price(inr=float(inr), usd=None, date=seen, kind="street",
                              source="https://maker.example/box quoted 2026-11-01", basis=basis))


def catalog(*systems: System, gpus=(CARD, PASSIVE, SMALL)):
    # The parts catalog's one board seats a single card (slots at positions 1 and 4, x16/x4):
    # no 4-GPU parts build exists, so a 4-GPU answer can only be a system.
    return dataclasses.replace(pf.catalog(gpus=gpus), systems=tuple(systems))


def ask(cat, budget=10**9, **kw):
    kw.setdefault("gpu_counts", (4,))
    return recommend(cat, Request(budget_inr=budget, targets=(RECIPE,), **kw), estimate)


def picked(result):
    best = result.best
    return best.system.id if best is not None and hasattr(best, "system") else None


# ---- budget ----------------------------------------------------------------------------------

@pytest.mark.parametrize("budget, found", [(30_00_000, True), (29_99_999, False)])
def test_budget_at_and_just_under_the_systems_price(budget, found):
    result = ask(catalog(system()), budget=budget)
    assert (picked(result) == "box") is found
    # the cheapest complete build is named either way: the system's own price
    assert result.cheapest.total_inr == 30_00_000


def test_a_landed_system_price_is_judged_at_its_landed_figure():
    # USD 10,000 x 90 INR/USD x (1 + 4% margin) x (1 + 18% IGST) = 11,04,480 INR
    price = Price(inr=10_000 * 90 * 1.04 * 1.18, usd=10_000.0, date=date(2026, 11, 1),
                  kind="derived", source="test", basis="quote", origin="landed",
                  landed_multiplier=1.2272)
    box = dataclasses.replace(system(), price=price)
    assert picked(ask(catalog(box), budget=11_04_480)) == "box"
    assert picked(ask(catalog(box), budget=11_04_479)) is None


def test_a_barebone_adds_its_cards_at_their_own_price():
    # 30,00,000 for the system + 4 x 9,00,000 for the cards = 66,00,000
    result = ask(catalog(system(included=False)), budget=66_00_000)
    assert result.best.total_inr == 66_00_000
    assert picked(ask(catalog(system(included=False)), budget=65_99_999)) is None


def test_nodes_multiply_the_price():
    assert ask(catalog(system()), nodes=2).best.total_inr == 60_00_000


# ---- GPU count and class ---------------------------------------------------------------------

@pytest.mark.parametrize("counts, found", [((4,), True), ((3,), False), ((5,), False),
                                           ((8,), False), (tuple(range(1, 9)), True)])
def test_gpu_count_is_the_system_as_configured(counts, found):
    result = ask(catalog(system()), gpu_counts=counts)
    assert (picked(result) == "box") is found
    if not found:
        assert "holds 4 GPUs" in result.excluded_systems["box"]


@pytest.mark.parametrize("chassis, platform, found", [
    ("workstation", None, True), ("workstation", "workstation", True),
    ("workstation", "server", False), ("workstation", "desktop", False),
    ("rack", "server", True), ("server", "server", True), ("rack", "workstation", False),
])
def test_class(chassis, platform, found):
    result = ask(catalog(system(chassis=chassis)), platform_class=platform)
    assert (picked(result) == "box") is found


@pytest.mark.parametrize("chassis, rated, found", [
    ("rack", True, True), ("rack", False, False), ("workstation", False, False)])
def test_passive_cards_only_in_a_rated_server_chassis(chassis, rated, found):
    result = ask(catalog(system(gpu="d", chassis=chassis, passive=rated)))
    assert (picked(result) == "box") is found


def test_used_and_legacy_cards_follow_the_flags():
    used = dataclasses.replace(CARD, availability="used")
    cat = catalog(system(), gpus=(used,))
    assert picked(ask(cat)) is None
    assert picked(ask(cat, allow_used=True)) == "box"


# ---- power -----------------------------------------------------------------------------------

@pytest.mark.parametrize("circuit_w, found", [(1728.0, True), (1727.0, False)])
def test_one_power_cord_one_circuit(circuit_w, found):
    result = ask(catalog(system()), circuit_w=circuit_w)
    assert (picked(result) == "box") is found
    if not found:
        assert "1,728 W at the wall" in result.excluded_systems["box"]


@pytest.mark.parametrize("circuit_w, found", [(864.0, True), (863.0, False)])
def test_two_power_cords_two_circuits(circuit_w, found):
    # 1,727.8 W shared by two cords: 863.9 W per circuit
    result = ask(catalog(system(inlets=2)), circuit_w=circuit_w)
    assert (picked(result) == "box") is found
    if found:
        assert result.best.circuits == 2
        assert build_dict(result.best, 10**9)["circuits_needed"] == 2


@pytest.mark.parametrize("circuit_v, min_input_v, found", [
    (200.0, 200.0, True), (199.0, 200.0, False), (120.0, None, True), (100.0, 100.0, True)])
def test_supplies_that_need_a_higher_voltage_than_the_circuit_gives(circuit_v, min_input_v,
                                                                    found):
    # same watts either way (2,944 W, one circuit is enough); only the voltage differs
    result = ask(catalog(system(min_input_v=min_input_v)), circuit_w=2944.0, circuit_v=circuit_v)
    assert (picked(result) == "box") is found
    if not found:
        assert result.excluded_systems["box"] == (
            "its power supplies take 200 V or more; the circuit gives 199 V")


def test_a_two_cord_system_on_one_big_circuit_needs_one():
    assert ask(catalog(system(inlets=2)), circuit_w=2944.0).best.circuits == 1


@pytest.mark.parametrize("wall, circuit_w, found", [(2000.0, 2000.0, True), (2000.0, 1999.0, False)])
def test_the_makers_maximum_draw_is_a_wall_figure(wall, circuit_w, found):
    # max_draw_w 2,000 W at the wall (the parts estimate would be 1,727.8 W)
    result = ask(catalog(system(max_draw_w=wall)), circuit_w=circuit_w)
    assert (picked(result) == "box") is found


@pytest.mark.parametrize("psu_w, found", [(1555, True), (1554, False)])
def test_supplies_cover_the_estimated_draw(psu_w, found):
    assert (picked(ask(catalog(system(psu_w=psu_w)))) == "box") is found


# ---- what the workload needs -----------------------------------------------------------------

@pytest.mark.parametrize("cores, found", [(18, True), (17, False)])
def test_cpu_cores_for_data_loading(cores, found):
    assert (picked(ask(catalog(system(cores=cores)))) == "box") is found


@pytest.mark.parametrize("ram_gb, found", [(64, True), (63, False)])
def test_ram_for_the_workload(ram_gb, found):
    assert (picked(ask(catalog(system(ram_gb=ram_gb)))) == "box") is found


@pytest.mark.parametrize("storage_gb, found", [(210, True), (209, False)])
def test_disk_for_the_datasets_and_working_space(storage_gb, found):
    assert (picked(ask(catalog(system(storage_gb=storage_gb)))) == "box") is found


def test_every_target_must_fit_the_card():
    result = ask(catalog(system(gpu="s")))
    assert picked(result) is None
    assert "needs 20.0 GB" in result.excluded_systems["box"]


# ---- prices ----------------------------------------------------------------------------------

@pytest.mark.parametrize("age_days, found", [(365, True), (366, False)])
def test_a_system_price_older_than_12_months_is_left_out(age_days, found):
    box = system(seen=TODAY - timedelta(days=age_days))
    result = ask(catalog(box), allow_unsourced=False, today=TODAY)
    got = picked(result)
    if found:
        assert got == "box" and not result.old_prices
    else:
        # no build with prices of the last 12 months: the older cited price, marked old
        assert got == "box" and result.old_prices


@pytest.mark.parametrize("basis", ["estimate", "recalled"])
def test_unsourced_system_prices_only_with_allow_unsourced(basis):
    box = system(basis=basis)
    result = ask(catalog(box), allow_unsourced=False, today=TODAY)
    assert picked(result) is None
    assert "box" in result.excluded_parts
    assert picked(ask(catalog(box), allow_unsourced=True, today=TODAY)) == "box"


# ---- systems among parts builds --------------------------------------------------------------

def test_a_faster_system_above_the_budget_is_the_upgrade():
    # From parts only one card fits the board (its second slot is x4): 9,00,000 + CPU 15,000 +
    # board 12,000 + one 32 GB kit 8,000 + disk 6,000 + PSU 6,000 + case 4,000 = 9,51,000 for
    # 1,000 s. The system: 30,00,000 for 250 s, over the 20 lakh budget and >= 3% faster.
    result = ask(catalog(system()), budget=20_00_000, gpu_counts=tuple(range(1, 9)))
    assert result.best.total_inr == 9_51_000 and not hasattr(result.best, "system")
    assert picked(dataclasses.replace(result, builds=[result.upgrade])) == "box"


def test_the_system_joins_the_frontier_with_parts_builds():
    result = ask(catalog(system()), budget=10**9, gpu_counts=tuple(range(1, 9)),
                 objective="fastest")
    assert picked(result) == "box"
    kinds = {hasattr(b, "system") for b in result.frontier}
    assert kinds == {True, False}


# ---- what the report says --------------------------------------------------------------------

def test_json_says_complete_system_and_where_its_price_came_from():
    result = ask(catalog(system()))
    d = build_dict(result.best, 40_00_000, today=TODAY)
    s = d["complete_system"]
    assert s["id"] == "box" and s["price_source"] == "https://maker.example/box quoted 2026-11-01"
    assert (s["price_date"], s["price_basis"], s["gpus_included"]) == ("2026-11-01", "quote", True)
    gpu, box = d["parts"]
    assert (gpu["kind"], gpu["count"], gpu["price_inr"], gpu["included_in"]) == ("gpu", 4, 0, "box")
    # the card's own price is not the build's: never marked stale or unsourced
    assert (gpu["price_kind"], gpu["stale"], gpu["price_basis"]) == ("included", False, "")
    assert (box["kind"], box["price_inr"]) == ("system", 30_00_000)
    assert sum(p["price_inr"] for p in d["parts"]) == d["total_inr"] == 30_00_000
    assert d["power_w"] == 1555 and d["wall_w"] == 1728 and d["gpu_slot_positions"] == []


def test_a_parts_build_says_it_is_not_a_system():
    result = ask(catalog(), gpu_counts=(1,))
    d = build_dict(result.best, 10**9)
    assert d["complete_system"] is None and d["circuits_needed"] == 1


# ---- the CLI on the bundled catalog ----------------------------------------------------------

runner = CliRunner()


def test_bundled_tinybox_at_two_crore_for_four_gpus():
    result = runner.invoke(app, ["recommend", "--budget", "2crore", "--gpus", "4",
                                 "--rate", "USD=90", "--target", "resnet50-imagenet-b128",
                                 "--json"])
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["builds"][0]
    s = best["complete_system"]
    assert s["id"] == "tinybox-green-v2-blackwell"
    assert "tinycorp-meetings" in s["price_source"] and s["price_date"] == "2026-05-25"
    # USD 73,000 x 90 x (1 + 4% margin) x (1 + 18% IGST) (catalog/landed.csv, kind server)
    assert best["total_inr"] == pytest.approx(73_000 * 90 * 1.04 * 1.18, abs=1)
    # 4 x 600 W + 280 W + 75 W = 2,755 W; / 0.9 = 3,061 W: two india-16a circuits, two cords
    assert (best["power_w"], best["wall_w"], best["circuits_needed"]) == (2755, 3061, 2)


def test_bundled_tinybox_text_says_what_it_is():
    result = runner.invoke(app, ["recommend", "--budget", "2crore", "--gpus", "4",
                                 "--target", "resnet50-imagenet-b128"])
    assert result.exit_code == 0, result.output
    assert "Complete system" in result.output and "tiny corp" in result.output
    assert "needs 2 india-16a circuits" in result.output
    assert "tinycorp-meetings" in result.output


def test_bundled_tinybox_needs_more_than_us_circuits_give():
    # 3,061 W over two cords on 1,440 W circuits: 3 circuits, only 2 cords
    result = runner.invoke(app, ["recommend", "--budget", "2crore", "--gpus", "4",
                                 "--circuit", "us-15a", "--target", "resnet50-imagenet-b128",
                                 "--json"])
    data = json.loads(result.stdout)
    assert "tinybox-green-v2-blackwell" in data["excluded_systems"]
    assert all(b["complete_system"] is None for b in data["builds"])


@pytest.mark.parametrize("circuit, circuits", [("us-240v-30a", 2), ("us-208v-30a", 2),
                                               ("india-32a", 2), ("india-16a", 3)])
def test_the_tinybox_pro_on_high_current_circuits(circuit, circuits):
    # 8 x 575 + 720 + 75 = 5,395 W; / 0.9 = 5,994 W at the wall, shared by 4 cords.
    # 240 V x 30 A x 0.8 = 5,760 W: 2 circuits; 208 V x 30 A x 0.8 = 4,992 W: 2;
    # 230 V x 32 A x 0.8 = 5,888 W: 2; 230 V x 16 A x 0.8 = 2,944 W: 3
    result = runner.invoke(app, ["recommend", "--budget", "2crore", "--gpus", "8", "--class",
                                 "server", "--rate", "USD=90", "--circuit", circuit, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    best = data["builds"][0]
    assert best["complete_system"]["id"] == "tinybox-pro-v2"
    assert best["circuits_needed"] == circuits
    assert data["request"]["circuit"] == circuit


def test_eight_gpus_in_a_server_at_two_crore_is_the_tinybox_pro():
    result = runner.invoke(app, ["recommend", "--budget", "2crore", "--gpus", "8", "--class",
                                 "server", "--rate", "USD=90", "--json"])
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["builds"][0]
    assert best["complete_system"]["id"] == "tinybox-pro-v2"
    # USD 60,000 x 90 x 1.04 x 1.18; 8 x 575 W + 720 W + 75 W = 5,395 W, / 0.9 = 5,994 W:
    # three india-16a circuits (2,944 W each) for its four cords
    assert best["total_inr"] == pytest.approx(60_000 * 90 * 1.04 * 1.18, abs=1)
    assert (best["power_w"], best["wall_w"], best["circuits_needed"]) == (5395, 5994, 3)


def test_eight_gpus_on_us_circuits_names_each_system_and_why_not():
    # 5,994 W on 1,440 W circuits needs 5 circuits; the pro has 4 cords
    result = runner.invoke(app, ["recommend", "--budget", "2crore", "--gpus", "8", "--class",
                                 "server", "--circuit", "us-15a", "--json"])
    assert result.exit_code == 1
    mine = {lim["option"].split(" as ")[1]: lim for lim in json.loads(result.stdout)["limits"]
            if " as " in lim["option"]}
    pro = mine["tiny corp tinybox pro v2 (8 x RTX 5090)"]
    # its supplies take 200-240 V only (tinygrad.org): a 120 V circuit cannot run it at all,
    # whatever its current
    assert pro["limit"] == "complete system: supply voltage"
    assert pro["detail"] == "its power supplies take 200 V or more; the circuit gives 120 V"
    assert "us-240v-30a" in pro["lift"]
    green = mine["tiny corp tinybox green v2 (4 x RTX PRO 6000 Blackwell)"]
    assert green["limit"] == "complete system: GPU count and class"
    assert "--gpus 4" in green["lift"]


SYSTEMS_HEAD = ("id,name,vendor,chassis_class,rack_units,gpu_ids,gpu_count,gpus_included,"
                "passive_gpu_rated,cpu_name,cpu_cores,cpu_tdp_w,ram_gb,storage_gb,psu_w,"
                "max_draw_w,power_inlets,price_inr,price_usd,price_date,price_kind,source,"
                "price_basis,notes\n")


@pytest.mark.parametrize("cell, column", [("four", "gpu_count"), ("0", "power_inlets"),
                                          ("h100-sxm", "gpu_ids")])
def test_a_malformed_systems_row_is_one_clear_line_and_exit_2(tmp_path, cell, column):
    cells = {"gpu_count": "4", "power_inlets": "2", "gpu_ids": "rtx-pro-6000-blackwell"}
    cells[column] = cell
    row = (f"my-box,My box,Shop,workstation,,{cells['gpu_ids']},{cells['gpu_count']},true,false,"
           f"EPYC,32,280,192,4000,3200,,{cells['power_inlets']},5000000,,2026-11-20,street,"
           "shop quote,quote,\n")
    (tmp_path / "systems.csv").write_text(SYSTEMS_HEAD + row, encoding="utf-8")
    result = runner.invoke(app, ["recommend", "--budget", "2crore", "--catalog", str(tmp_path)])
    assert result.exit_code == 2
    assert f"systems.csv line 2, column {column}" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_catalog_lists_the_bundled_systems():
    result = runner.invoke(app, ["catalog", "systems", "--json"])
    assert result.exit_code == 0, result.output
    items = {i["id"]: i for i in json.loads(result.stdout)["items"]}
    assert (items["tinybox-pro-v2"]["gpu_count"], items["tinybox-pro-v2"]["power_inlets"]) == (8, 4)
    assert items["tinybox-green-v2-blackwell"]["gpu_ids"] == ["rtx-pro-6000-blackwell"]
    assert runner.invoke(app, ["catalog", "servers"]).exit_code == 0


def test_an_overlay_price_row_reprices_a_bundled_system(tmp_path):
    # A current quote in rupees replaces the tinybox pro's USD list price: 75,00,000 as quoted
    (tmp_path / "systems.csv").write_text(
        "id,price_inr,price_date,price_kind,source,price_basis\n"
        "tinybox-pro-v2,7500000,2026-11-30,street,reseller quote 2026-11-30,quote\n",
        encoding="utf-8")
    result = runner.invoke(app, ["recommend", "--budget", "2crore", "--gpus", "8", "--class",
                                 "server", "--catalog", str(tmp_path), "--json"])
    best = json.loads(result.stdout)["builds"][0]
    s = best["complete_system"]
    assert (s["id"], s["price_inr"], s["price_origin"]) == ("tinybox-pro-v2", 7_500_000, "quote")
    assert s["price_source"] == "reseller quote 2026-11-30"
    assert best["total_inr"] == 7_500_000


def test_an_unsourced_card_price_does_not_hold_back_a_system_that_includes_it():
    # The card's gpus.csv price is an estimate: irrelevant when the system's price includes it.
    card = dataclasses.replace(CARD, price=dataclasses.replace(CARD.price, basis="estimate"))
    result = ask(catalog(system(), gpus=(card,)), allow_unsourced=False, today=TODAY)
    assert picked(result) == "box" and not result.old_prices
    # ... but a barebone is bought with the card at that price: left out
    bare = ask(catalog(system(included=False), gpus=(card,)), allow_unsourced=False, today=TODAY)
    assert picked(bare) is None
    assert "barebone" in bare.excluded_systems["box"]


def test_the_html_report_names_the_complete_system_and_its_price_source():
    from rigcheck.report.model import build_section
    result = ask(catalog(system()))
    section = build_section({"builds": [build_dict(result.best, 40_00_000, today=TODAY)],
                             "budget": {"inr": 40_00_000}})
    assert "complete system BOX system" in section.lead
    assert any("https://maker.example/box" in note for note in section.notes)



# ---- the pieces, one by one (each pins a behaviour a reader relies on) -----------------------

def test_a_system_build_reads_like_a_build():
    from rigcheck.recommend.systems import SystemBuild
    box = system()
    b = SystemBuild(system=box, gpu=CARD, gpu_count=4, estimates=(), total_train_s=1.0)
    assert (b.nodes, b.circuits, b.gpu_positions) == (1, 1, ())
    assert b.parts() == [("gpu", CARD, 4), ("system", box, 1)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.nodes = 2  # type: ignore[misc]


def test_power_and_memory_figures_of_a_system_build():
    d = build_dict(ask(catalog(system())).best, 40_00_000)
    # 2,000 W of supplies for 1,555 W: (2000 / 1555 - 1) x 100 = 28.6% headroom
    assert (d["psu_w"], d["psu_headroom_pct"], d["ram_gb"]) == (2000, 28.6, 192)


def test_the_makers_maximum_sets_the_draw_too():
    # max 2,000 W at the wall -> 2,000 x 0.9 = 1,800 W DC: the supplies must give that much
    assert build_dict(ask(catalog(system(max_draw_w=2000.0))).best, 10**9)["power_w"] == 1800
    assert picked(ask(catalog(system(max_draw_w=2000.0, psu_w=1800)))) == "box"
    assert picked(ask(catalog(system(max_draw_w=2000.0, psu_w=1799)))) is None


def test_found_cheapest_takes_the_price_and_time_bounds():
    from rigcheck.recommend.systems import Found, SystemBuild
    a = SystemBuild(system=system("a", inr=30_00_000), gpu=CARD, gpu_count=4, estimates=(),
                    total_train_s=250.0)
    b = SystemBuild(system=system("b", inr=50_00_000), gpu=CARD, gpu_count=4, estimates=(),
                    total_train_s=125.0)
    found = Found(builds=[a, b])
    assert found.cheapest() is a
    assert found.cheapest(above_inr=30_00_000) is b          # strictly above: a is not
    assert found.cheapest(above_inr=29_99_999) is a
    assert found.cheapest(within_s=249.0) is b
    assert found.cheapest(within_s=250.0) is a               # no slower than: a counts
    assert found.cheapest(above_inr=50_00_000) is None
    assert found.cheapest(above_inr=30_00_000, within_s=124.0) is None


def test_cheaper_of_two_builds():
    from rigcheck.recommend.systems import SystemBuild, cheaper
    a = SystemBuild(system=system("a", inr=30_00_000), gpu=CARD, gpu_count=4, estimates=(),
                    total_train_s=1.0)
    b = SystemBuild(system=system("b", inr=20_00_000), gpu=CARD, gpu_count=4, estimates=(),
                    total_train_s=1.0)
    same = SystemBuild(system=system("c", inr=30_00_000), gpu=CARD, gpu_count=4, estimates=(),
                       total_train_s=1.0)
    assert cheaper(None, None) is None
    assert cheaper(a, None) is a and cheaper(None, a) is a
    assert cheaper(a, b) is b and cheaper(b, a) is b
    assert cheaper(a, same) is a                             # a tie keeps the first


def test_two_systems_are_ordered_cheapest_first():
    result = ask(catalog(system("dear", inr=40_00_000), system("cheap", inr=30_00_000)),
                 objective="fastest")
    # both take 250 s: the fastest ties to the cheaper
    assert picked(result) == "cheap"
    assert [b.system.id for b in result.frontier] == ["cheap"]


def test_a_card_missing_from_the_catalog_is_a_reason_not_a_crash():
    result = ask(catalog(system(gpu="nope")))
    assert picked(result) is None and "nope is not in gpus.csv" in result.excluded_systems["box"]


def test_a_barebone_for_several_cards_keeps_the_ones_that_fit():
    both = dataclasses.replace(system(included=False), gpu_ids=("s", "w"))
    result = ask(catalog(both))
    assert picked(result) == "box" and result.best.gpu.id == "w"
    assert "box" not in result.excluded_systems
    neither = dataclasses.replace(system(included=False), gpu_ids=("s", "d"))
    result = ask(catalog(neither))
    # the first card's reason is given: the 16 GB card does not fit the 20 GB workload
    assert picked(result) is None and "needs 20.0 GB" in result.excluded_systems["box"]


def test_no_date_means_no_age_rule():
    assert picked(ask(catalog(system(seen=date(2020, 1, 1))), allow_unsourced=False,
                      today=None)) == "box"


@pytest.mark.parametrize("counts, words", [((3,), "--gpus asks for 3"),
                                           ((1, 2), "--gpus asks for any of 1, 2")])
def test_the_gpu_count_reason_names_what_was_asked(counts, words):
    assert words in ask(catalog(system()), gpu_counts=counts).excluded_systems["box"]


def test_a_rating_for_passive_cards_needs_a_server_chassis_too():
    # the loader refuses such a row; a catalog built in code must not slip through either
    result = ask(catalog(system(gpu="d", chassis="workstation", passive=True)))
    assert picked(result) is None and "passively cooled" in result.excluded_systems["box"]


@pytest.mark.parametrize("inlets, words", [(None, "one power cord"), (2, "2 power cords")])
def test_the_circuit_reason_counts_the_cords(inlets, words):
    result = ask(catalog(system(inlets=inlets)), circuit_w=500.0)
    assert words in result.excluded_systems["box"]


@pytest.mark.parametrize("inlets, shown", [(None, 1), (2, 2)])
def test_json_gives_the_power_cords(inlets, shown):
    d = build_dict(ask(catalog(system(inlets=inlets))).best, 10**9)
    assert d["complete_system"]["power_inlets"] == shown
    assert next(p for p in d["parts"] if p["kind"] == "system")["power_inlets"] == shown


def test_json_prices_keep_their_paise_and_a_barebone_lists_its_cards_priced():
    box = system(inr=1_234_567.891)
    assert build_dict(ask(catalog(box)).best, 10**9)["complete_system"]["price_inr"] == 1234567.89
    d = build_dict(ask(catalog(system(included=False))).best, 10**9)
    gpu = d["parts"][0]
    assert (gpu["price_inr"], gpu["unit_price_inr"]) == (36_00_000, 9_00_000)
    assert "included_in" not in gpu and d["complete_system"]["gpus_included"] is False


def test_included_cards_have_no_price_of_their_own():
    gpu = build_dict(ask(catalog(system())).best, 10**9)["parts"][0]
    assert (gpu["unit_price_inr"], gpu["price_inr"], gpu["landed_multiplier"]) == (0.0, 0.0, 1.0)
    assert gpu["price_origin"] == "included" and gpu["price_age_days"] is None


def test_a_system_without_a_card_is_a_reason_not_a_crash():
    result = ask(catalog(dataclasses.replace(system(), gpu_ids=())))
    assert picked(result) is None and result.excluded_systems["box"] == "lists no GPU"

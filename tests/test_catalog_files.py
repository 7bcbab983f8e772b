"""The catalog files added for landed prices, cloud offers, tariffs, GPU systems and safe builds:
each new row rule at its boundary (just inside, just past), with the message it gives."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from rigcheck.catalog import CatalogError, load_catalog

FIXTURE = Path(__file__).parent / "fixtures" / "catalog_small"
TODAY = date(2026, 2, 1)

LANDED_HEAD = "kind,factor,pct,date,source,note\n"
CLOUD_HEAD = ("id,provider,gpu_id,gpu_name,gpus,price_per_gpu_hour,currency,billing,region,date,"
              "source,note\n")
TARIFF_HEAD = "id,region,consumer,price_inr_per_kwh,date,source,note\n"
SYSTEMS_HEAD = ("id,name,vendor,chassis_class,rack_units,gpu_ids,gpu_count,gpus_included,"
                "passive_gpu_rated,cpu_name,cpu_cores,cpu_tdp_w,ram_gb,storage_gb,psu_w,"
                "max_draw_w,price_inr,price_usd,price_date,price_kind,source,price_basis,notes\n")


@pytest.fixture
def base(tmp_path: Path) -> Path:
    folder = tmp_path / "cat"
    shutil.copytree(FIXTURE, folder)
    return folder


def load(folder: Path, *overlays: Path):
    return load_catalog(overlays, base=folder, today=TODAY)


def landed_rows(kind: str = "gpu", bcd: str = "0", sws: str = "10", igst: str = "18",
                margin: str = "12") -> str:
    return "".join(f"{kind},{f},{v},2026-01-10,test source,\n"
                   for f, v in (("bcd", bcd), ("sws", sws), ("igst", igst), ("margin", margin)))


def test_the_new_files_are_optional_and_empty_without_rows(base):
    catalog = load(base)
    assert catalog.landed == () and catalog.cloud == () and catalog.tariffs == ()
    assert catalog.systems == ()


def test_new_part_columns_are_read():
    catalog = load(FIXTURE)
    a100 = {g.id: g for g in catalog.gpus}["a100-80gb-pcie"]
    assert (a100.power_eps8, a100.power_8pin) == (1, 0)
    assert {p.id: p.eps8_leads for p in catalog.psus} == {"psu-650-gold": 2, "psu-1200-plat": 2}
    tower = {c.id: c for c in catalog.cases}["mid-tower-atx"]
    assert (tower.chassis_class, tower.passive_gpu_rated, tower.max_gpus) == ("desktop", False, 2)


# ----- cases: only a server or rack chassis may be rated for passive cards ---------------------

@pytest.mark.parametrize("chassis, ok", [("server", True), ("rack", True),
                                         ("workstation", False), ("desktop", False)])
def test_passive_rating_needs_a_server_chassis(base, chassis, ok):
    text = (base / "cases.csv").read_text().replace(",desktop,false,2", f",{chassis},true,2")
    (base / "cases.csv").write_text(text)
    if ok:
        case = {c.id: c for c in load(base).cases}["mid-tower-atx"]
        assert case.passive_gpu_rated and case.chassis_class == chassis
    else:
        with pytest.raises(CatalogError, match=r"cases.csv line 2, column passive_gpu_rated: only a "
                           rf"server or rack chassis .*chassis_class is {chassis}"):
            load(base)


@pytest.mark.parametrize("value, why", [("tower", "is not one of: desktop, workstation"),
                                        ("", "value is missing")])
def test_chassis_class_is_checked(base, value, why):
    text = (base / "cases.csv").read_text().replace(",desktop,false,2", f",{value},false,2")
    (base / "cases.csv").write_text(text)
    with pytest.raises(CatalogError, match=r"cases.csv line 2, column chassis_class: .*" + why):
        load(base)


@pytest.mark.parametrize("value, ok", [("1", True), ("16", True), ("0", False), ("17", False)])
def test_max_gpus_bounds(base, value, ok):
    text = (base / "cases.csv").read_text().replace(",desktop,false,2", f",desktop,false,{value}")
    (base / "cases.csv").write_text(text)
    if ok:
        assert {c.id: c for c in load(base).cases}["mid-tower-atx"].max_gpus == int(value)
    else:
        with pytest.raises(CatalogError, match=r"column max_gpus: .*plausible"):
            load(base)


# ----- landed.csv ------------------------------------------------------------------------------

def test_landed_rows_load_case_insensitively(base):
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows("GPU").replace("igst", "IGST"))
    factors = {(f.kind, f.factor): f.pct for f in load(base).landed}
    assert factors == {("gpu", "bcd"): 0, ("gpu", "sws"): 10, ("gpu", "igst"): 18,
                       ("gpu", "margin"): 12}


def test_a_kind_missing_a_factor_is_an_error(base):
    rows = landed_rows("memory").splitlines(keepends=True)
    (base / "landed.csv").write_text(LANDED_HEAD + "".join(rows[:3]))   # no margin
    with pytest.raises(CatalogError, match=r"landed.csv line 4, column factor: kind memory has "
                       r"no margin row"):
        load(base)


def test_a_repeated_landed_factor_is_an_error(base):
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows()
                                     + "gpu,igst,28,2026-01-10,again,\n")
    with pytest.raises(CatalogError, match=r"landed.csv line 6, column factor: 'gpu/igst' already "
                       r"on line 4"):
        load(base)


@pytest.mark.parametrize("factor, pct, ok", [
    ("margin", "100", True), ("margin", "100.5", False), ("bcd", "100", True),
    ("bcd", "101", False), ("igst", "0", True), ("igst", "-1", False), ("sws", "200", True),
    ("sws", "201", False),
])
def test_landed_percent_bounds(base, factor, pct, ok):
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows(**{factor: pct}))
    if ok:
        assert {f.factor: f.pct for f in load(base).landed}[factor] == float(pct)
    else:
        with pytest.raises(CatalogError, match=r"landed.csv line \d, column pct: "):
            load(base)


def test_unknown_landed_kind_is_an_error(base):
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows("fan"))
    with pytest.raises(CatalogError, match=r"landed.csv line 2, column kind: 'fan' is not one of"):
        load(base)


def test_an_overlay_landed_row_replaces_one_factor(base, tmp_path):
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows())
    overlay = tmp_path / "shop"
    overlay.mkdir()
    (overlay / "landed.csv").write_text(LANDED_HEAD + "gpu,margin,20,2026-01-20,my shop,\n")
    factors = {f.factor: f.pct for f in load(base, overlay).landed}
    assert factors == {"bcd": 0, "sws": 10, "igst": 18, "margin": 20}


# ----- cloud.csv -------------------------------------------------------------------------------

def cloud_row(gpu_id="rtx-4090", currency="USD", price="0.69", gpus="1", billing="on-demand"):
    return (f"x-4090,Example Cloud,{gpu_id},RTX 4090,{gpus},{price},{currency},{billing},"
            "India,2026-01-20,https://example.test/pricing,\n")


def test_cloud_offer_loads(base):
    (base / "cloud.csv").write_text(CLOUD_HEAD + cloud_row(currency="inr"))
    offer = load(base).cloud[0]
    assert (offer.gpu_id, offer.currency, offer.price_per_gpu_hour, offer.note) == (
        "rtx-4090", "INR", 0.69, "")


def test_cloud_offer_for_a_card_the_catalog_lacks_has_an_empty_gpu_id(base):
    (base / "cloud.csv").write_text(CLOUD_HEAD + cloud_row(gpu_id=""))
    assert load(base).cloud[0].gpu_id == ""


@pytest.mark.parametrize("row, why", [
    (cloud_row(gpu_id="rtx-9999"), r"column gpu_id: 'rtx-9999' is not in gpus.csv"),
    (cloud_row(currency="GBP"), r"column currency: no rate for GBP"),
    (cloud_row(price="0"), r"column price_per_gpu_hour: .*below the plausible minimum"),
    (cloud_row(gpus="0"), r"column gpus: .*below the plausible minimum"),
    (cloud_row(billing="hourly"), r"column billing: 'hourly' is not one of"),
])
def test_bad_cloud_rows(base, row, why):
    (base / "cloud.csv").write_text(CLOUD_HEAD + row)
    with pytest.raises(CatalogError, match=r"cloud.csv line 2, " + why):
        load(base)


# ----- tariff.csv ------------------------------------------------------------------------------

@pytest.mark.parametrize("price, ok", [("0.5", True), ("0.49", False), ("100", True),
                                       ("100.1", False)])
def test_tariff_bounds(base, price, ok):
    (base / "tariff.csv").write_text(
        TARIFF_HEAD + f"mh-res,Maharashtra,residential,{price},2025-04-01,MERC order,\n")
    if ok:
        assert load(base).tariffs[0].price_inr_per_kwh == float(price)
    else:
        with pytest.raises(CatalogError, match=r"tariff.csv line 2, column price_inr_per_kwh"):
            load(base)


def test_tariff_consumer_is_checked(base):
    (base / "tariff.csv").write_text(TARIFF_HEAD + "x,Delhi,domestic,8,2025-04-01,DERC,\n")
    with pytest.raises(CatalogError, match=r"column consumer: 'domestic' is not one of"):
        load(base)


# ----- systems.csv -----------------------------------------------------------------------------

def system_row(gpu_ids="a100-80gb-pcie", included="true", chassis="rack", passive="true"):
    return (f"gpu-srv,GPU Server 4U,Supermicro,{chassis},4,{gpu_ids},8,{included},{passive},"
            "2x EPYC 9354,64,560,1024,3840,6000,,4500000,,2026-01-20,street,shop quote,quote,\n")


def test_system_loads(base):
    (base / "systems.csv").write_text(SYSTEMS_HEAD + system_row())
    s = load(base).systems[0]
    assert (s.gpu_ids, s.gpu_count, s.gpus_included, s.rack_units, s.max_draw_w) == (
        ("a100-80gb-pcie",), 8, True, 4, None)
    assert s.price.inr == 4500000


@pytest.mark.parametrize("row, why", [
    (system_row(gpu_ids="a100-80gb-pcie;rtx-4090"),
     r"column gpu_ids: a system priced with its GPUs .* exactly one GPU id, not 2"),
    (system_row(gpu_ids="h100-sxm"), r"column gpu_ids: 'h100-sxm' is not in gpus.csv"),
    (system_row(chassis="workstation"), r"column passive_gpu_rated: only a server or rack"),
])
def test_bad_system_rows(base, row, why):
    (base / "systems.csv").write_text(SYSTEMS_HEAD + row)
    with pytest.raises(CatalogError, match=r"systems.csv line 2, " + why):
        load(base)


def test_barebone_system_may_list_several_cards(base):
    (base / "systems.csv").write_text(
        SYSTEMS_HEAD + system_row(gpu_ids="a100-80gb-pcie;rtx-4090", included="false"))
    assert load(base).systems[0].gpu_ids == ("a100-80gb-pcie", "rtx-4090")


def test_a_misnamed_new_file_in_an_overlay_is_caught(base, tmp_path):
    overlay = tmp_path / "shop"
    overlay.mkdir()
    (overlay / "tarif.csv").write_text(TARIFF_HEAD)
    with pytest.raises(CatalogError, match=r"tarif.csv: not a catalog file; did you mean "
                       r"tariff.csv"):
        load(base, overlay)


# ----- landed prices: what a USD-only part costs in India ---------------------------------------

def test_a_usd_only_part_gets_the_landed_estimate_of_its_kind(base):
    # rtx-4060-ti-16gb is $499 with no INR quote; the fixture's rate is 88 INR per USD.
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows("gpu", bcd="0", sws="10",
                                                               igst="18", margin="12"))
    gpus = {g.id: g for g in load(base).gpus}
    price = gpus["rtx-4060-ti-16gb"].price
    # 499 x 88 = 43,912; x 1.12 margin = 49,181.44; x 1.18 GST = 58,034.10 (no duty)
    assert price.origin == "landed" and price.kind == "derived"
    assert price.inr == pytest.approx(58034.0992)
    assert price.landed_multiplier == pytest.approx(1.3216)
    # An INR quote always wins, even where a USD figure is given too.
    quoted = gpus["rtx-4090"].price
    assert (quoted.origin, quoted.inr) == ("quote", 185000.0)


def test_customs_duty_and_its_surcharge(base):
    # BCD 10% with SWS at 10% of the duty: 11% on the value; then GST 18% on the duty-paid value.
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows("gpu", bcd="10", sws="10",
                                                               igst="18", margin="0"))
    price = {g.id: g for g in load(base).gpus}["rtx-4060-ti-16gb"].price
    assert price.inr == pytest.approx(499 * 88 * 1.11 * 1.18)


def test_a_kind_without_landed_factors_is_a_plain_conversion(base):
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows("cpu"))
    price = {g.id: g for g in load(base).gpus}["rtx-4060-ti-16gb"].price
    assert (price.origin, price.landed_multiplier) == ("conversion", 1.0)
    assert price.inr == pytest.approx(499 * 88)


def test_rate_override_moves_landed_estimates_but_not_quotes(base):
    (base / "landed.csv").write_text(LANDED_HEAD + landed_rows("gpu", igst="18", margin="0"))
    catalog = load_catalog(base=base, today=TODAY, rates={"USD": 90.0})
    gpus = {g.id: g for g in catalog.gpus}
    assert gpus["rtx-4060-ti-16gb"].price.inr == pytest.approx(499 * 90 * 1.18)
    assert gpus["rtx-4090"].price.inr == 185000.0

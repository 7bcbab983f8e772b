"""Sanity checks on the bundled catalog *data* (``catalog/*.csv``), independent of the loader.

These read the CSVs with the ``csv`` module only, so they say whether the data meets issue 2's
catalog requirements (row counts, the seed lecture's GPU table, provenance on every row, cross-file
references) even while ``rigcheck/catalog.py`` changes. The last two tests price the cheapest
sensible builds straight from the rows, so a price edit that makes the issue's two reference
budgets (Rs 1.25 lakh desktop, Rs 5 lakh server) impossible fails here first.
"""

from __future__ import annotations

import csv
import math
import re
from datetime import date
from pathlib import Path

import pytest

CATALOG = Path(__file__).resolve().parent.parent / "catalog"
PART_FILES = ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases")
# issue 2, "The catalog": minimum rows per part kind
MINIMUM_ROWS = {"gpus": 35, "cpus": 20, "motherboards": 15, "memory": 10, "storage": 10,
                "psus": 10, "cases": 6}
DERIVED_NOTE = "INR derived from USD at rates.csv USD rate"
PRICE_KINDS = {"street", "msrp", "used", "derived"}
PRICE_BASES = {"quote", "msrp", "seed", "recalled", "estimate"}
SOURCED_BASES = {"quote", "msrp"}  # "sourced": the price was found in a cited, dated page
UNSOURCED_MARK = "UNSOURCED"
# a page a reader can open: an http(s) URL or a host with a path (``pastebin.com/64ERmKgf``)
URL_RE = re.compile(r"https?://\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)+/[^\s;,)]+")
# The late-2025 DRAM/NAND spike (README "Price dates"): a sourced memory or storage price seen
# before this day predates it and understates what a 2026 buyer pays.
SPIKE_FROM = date(2025, 12, 1)

# The seed lecture's table (shared/seeds): memory GB, cores, price USD, "power requirements" W.
# None = "NA" in the seed.
SEED_GPUS = {
    "gtx-950": (2, 768, 159, 350),
    "gtx-960": (2, 1024, 199, 400),
    "gtx-970": (4, 1664, 329, 500),
    "gtx-980": (4, 2048, 549, 500),
    "gtx-980-ti": (6, 2816, 649, 600),
    "gtx-titan-x-maxwell": (12, 3072, 999, 600),
    "tesla-k40": (12, 2880, 2999, None),
    "tesla-k80": (24, 4992, 4199, None),
    "tesla-m40": (12, 3072, None, 250),
    "tesla-m60": (16, 4096, None, None),
}
# issue 2 / brief: the cards a 2025-26 buyer considers
REQUIRED_GPUS = (
    "rtx-3060-12gb", "rtx-3060-ti", "rtx-3070", "rtx-3080", "rtx-3090", "rtx-4060",
    "rtx-4060-ti-8gb", "rtx-4060-ti-16gb", "rtx-4070", "rtx-4070-super", "rtx-4070-ti-super",
    "rtx-4080-super", "rtx-4090", "rtx-5060-ti-16gb", "rtx-5070", "rtx-5070-ti", "rtx-5080",
    "rtx-5090", "rtx-a4000", "rtx-a5000", "rtx-a6000", "rtx-4000-ada", "rtx-5000-ada",
    "rtx-6000-ada", "rtx-pro-6000-blackwell", "tesla-v100-pcie-32gb", "tesla-t4", "a10",
    "a100-pcie-40gb", "a100-pcie-80gb", "l40s", "h100-pcie-80gb", "h200-nvl",
)


def _read(kind: str) -> list[dict[str, str]]:
    with open(CATALOG / f"{kind}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict[str, str]]]:
    return {kind: _read(kind) for kind in (*PART_FILES, "rates")}


def _num(text: str) -> float | None:
    return float(text) if text.strip() else None


def _by_id(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in rows}


@pytest.mark.parametrize("kind", PART_FILES)
def test_minimum_rows_and_unique_ids(data, kind):
    rows = data[kind]
    assert len(rows) >= MINIMUM_ROWS[kind]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), f"duplicate ids in {kind}.csv"
    for i in ids:
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", i), f"{kind}.csv id {i!r} is not a slug"


@pytest.mark.parametrize("kind", PART_FILES)
def test_every_row_has_a_dated_sourced_price(data, kind):
    today = date.today()
    for r in data[kind]:
        where = f"{kind}.csv {r['id']}"
        inr, usd = _num(r["price_inr"]), _num(r["price_usd"])
        assert inr or usd, f"{where}: no price"
        assert all(p is None or p > 0 for p in (inr, usd)), where
        seen = date.fromisoformat(r["price_date"])
        assert date(2010, 1, 1) <= seen <= today, where
        assert r["price_kind"] in PRICE_KINDS, where
        assert r["price_basis"] in PRICE_BASES, where
        assert len(r["source"]) > 20, f"{where}: source missing"
        if inr is None:
            # a derived rupee figure is never presented as a quote
            assert DERIVED_NOTE in r["source"], f"{where}: USD-only row must say INR is derived"
        else:
            assert DERIVED_NOTE not in r["source"], f"{where}: quoted INR says derived"
        if r["price_basis"] == "estimate":
            assert "ESTIMATE" in r["source"], f"{where}: estimate not labelled in source"


def _price_citation(row: dict[str, str]) -> str:
    """The part of ``source`` that cites the price (after ``price:``; all of it if absent)."""
    return row["source"].split("price:", 1)[-1]


@pytest.mark.parametrize("kind", PART_FILES)
def test_sourced_prices_name_a_page_and_unsourced_ones_say_so(data, kind):
    """A recalled price is not a source: "sourced" rows cite a URL, the rest say UNSOURCED."""
    for r in data[kind]:
        where, basis = f"{kind}.csv {r['id']}", r["price_basis"]
        if basis in SOURCED_BASES:
            assert URL_RE.search(_price_citation(r)), f"{where}: sourced price without a URL"
            assert UNSOURCED_MARK not in r["source"], f"{where}: sourced and UNSOURCED at once"
        if basis == "recalled":
            assert UNSOURCED_MARK in r["source"], f"{where}: recalled price not marked UNSOURCED"
        if UNSOURCED_MARK in r["source"]:
            assert basis == "recalled", f"{where}: UNSOURCED row claims basis {basis!r}"


def test_url_check_rejects_a_bare_site_name():
    assert not URL_RE.search("'Rs 58,000-68,000' (laptoprepairworld.com, 2026)")
    assert URL_RE.search("(pastebin.com/64ERmKgf, 2025-01-29)")
    assert URL_RE.search("(https://www.pcbuildadvisor.com/?p=3327, Q1 2026)")


@pytest.mark.parametrize("kind", ("memory", "storage"))
def test_sourced_memory_and_storage_prices_postdate_the_spike(data, kind):
    """Pre-spike DRAM/SSD quotes understate 2026 prices by 2-4x; only spike-era quotes count."""
    for r in data[kind]:
        if r["price_basis"] in SOURCED_BASES:
            seen = date.fromisoformat(r["price_date"])
            assert seen >= SPIKE_FROM, f"{kind}.csv {r['id']}: sourced price seen {seen} is pre-spike"


def test_desktop_ddr5_is_not_priced_below_the_2026_market(data):
    """techdodo (Jan 2026): 32 GB DDR5 at Rs 29,000-30,000 (~Rs 900/GB); The Hindu (Dec 2025): a
    16 GB stick at Rs 15,000. A desktop DDR5 row under Rs 500/GB is a pre-spike price."""
    rate = float(_by_id_rates(data)["USD"]["inr_per_unit"])
    for k in data["memory"]:
        if k["memory_type"] == "DDR5":
            gb = int(k["modules"]) * int(k["module_gb"])
            assert _inr(k, rate) / gb >= 500, f"memory.csv {k['id']}: Rs {_inr(k, rate) / gb:.0f}/GB"


def test_readme_sourcing_table_matches_the_data(data):
    """catalog/README.md's sourcing-status table states, per file, rows sourced/seed/estimate/unsourced."""
    text = (CATALOG / "README.md").read_text(encoding="utf-8")
    table = text.split("## Sourcing status", 1)[1]
    for kind in PART_FILES:
        rows = data[kind]
        want = [len(rows),
                sum(r["price_basis"] in SOURCED_BASES for r in rows),
                sum(r["price_basis"] == "seed" for r in rows),
                sum(r["price_basis"] == "estimate" for r in rows),
                sum(r["price_basis"] == "recalled" for r in rows)]
        m = re.search(rf"^\| `{kind}\.csv` \|([^\n]*)$", table, re.MULTILINE)
        assert m, f"README sourcing table has no row for {kind}.csv"
        got = [int(c) for c in re.findall(r"\|\s*(\d+)\s*(?=\|)", "|" + m.group(1))][:5]
        assert got == want, f"README sourcing row for {kind}.csv says {got}, data says {want}"


def test_rates_are_dated_and_sourced(data):
    rates = {r["currency"]: r for r in data["rates"]}
    # the ECB cross rate of 2026-10-02 (108.1245 INR / 1.1225 USD per EUR), the newest dated
    # USD rate found on 2026-12-03; the RBI reference rates of 2026-10-01 and 2026-06-17 and the
    # PTI close of 2026-03-09 are its cross-checks
    assert float(rates["USD"]["inr_per_unit"]) == pytest.approx(108.1245 / 1.1225, abs=0.005)
    assert rates["USD"]["date"] == "2026-10-02" == rates["EUR"]["date"]
    assert "ECB" in rates["USD"]["source"] and "RBI" in rates["USD"]["source"]
    assert 90 < float(rates["EUR"]["inr_per_unit"]) < 120
    assert rates["EUR"]["source"] and date.fromisoformat(rates["EUR"]["date"]) <= date.today()


def test_seed_table_cards_keep_the_seed_figures(data):
    gpus = _by_id(data["gpus"])
    for gid, (mem_gb, cores, price_usd, power_w) in SEED_GPUS.items():
        row = gpus[gid]
        assert float(row["vram_gb"]) == mem_gb, gid
        assert int(row["cuda_cores"]) == cores, gid
        if price_usd is not None:
            assert _num(row["price_usd"]) == price_usd, gid
            assert row["price_basis"] == "seed", gid
        if power_w is not None:
            assert _num(row["x_seed_power_req_w"]) == power_w, gid
        assert row["availability"] == "legacy", gid
    # the seed's "power requirements" is a PSU size: the board power column must not copy it
    assert float(gpus["gtx-950"]["tdp_w"]) == 90
    assert gpus["tesla-k80"]["x_devices_per_board"] == "2"


def test_required_gpus_present_and_nvidia_only(data):
    gpus = _by_id(data["gpus"])
    missing = [g for g in REQUIRED_GPUS if g not in gpus]
    assert not missing
    assert {r["vendor"] for r in data["gpus"]} == {"NVIDIA"}


def test_gpu_physical_and_tensor_columns_are_consistent(data):
    for r in data["gpus"]:
        gid, cc = r["id"], float(r["compute_capability"])
        assert r["form"] in {"consumer", "workstation", "datacenter"}
        if r["form"] == "datacenter":
            assert r["cooler"] == "passive", gid
        if r["architecture"] in {"Maxwell", "Kepler"}:
            assert r["availability"] == "legacy", gid
        if cc < 8.0:  # bf16 and TF32 arrived with Ampere
            assert not r["tensor_bf16_tflops"] and not r["tensor_tf32_tflops"], gid
        has_tensor = bool(r["tensor_fp16_tflops"])
        assert (r["tensor_accumulate"] in {"fp32", "fp16"}) == has_tensor, gid
        if has_tensor and r["tensor_bf16_tflops"]:
            assert float(r["tensor_bf16_tflops"]) <= float(r["tensor_fp16_tflops"]) + 1e-6
        assert 1 <= int(r["slot_width"]) <= 4 and 150 <= float(r["length_mm"]) <= 360, gid
        power_inputs = int(r["power_8pin"]) + int(r["power_16pin"]) + int(r["power_eps8"])
        assert power_inputs >= 1 or float(r["tdp_w"]) <= 75, gid
    gpus = _by_id(data["gpus"])
    assert gpus["rtx-3090"]["availability"] == "used"
    # NVIDIA Ada whitepaper: RTX 4090 165.2 dense FP16 TFLOPS with FP32 accumulate
    assert float(gpus["rtx-4090"]["tensor_fp16_tflops"]) == pytest.approx(165.2, abs=0.2)
    assert sum(r["cooler"] == "blower" for r in data["gpus"] if r["form"] == "workstation") >= 5


def test_sockets_and_memory_types_line_up(data):
    cpu_sockets = {r["socket"] for r in data["cpus"]}
    board_sockets = {r["socket"] for r in data["motherboards"]}
    assert cpu_sockets == board_sockets
    assert {"AM4", "AM5", "LGA1700", "LGA1851", "sTR5", "SP5", "LGA4677"} <= board_sockets
    kit_types = {r["memory_type"] for r in data["memory"]}
    for b in data["motherboards"]:
        assert b["memory_type"] in kit_types, b["id"]
    assert {"DDR4", "DDR5", "DDR5 RDIMM"} <= kit_types


def test_board_slots_are_well_formed(data):
    for b in data["motherboards"]:
        pos = [int(p) for p in b["x16_slot_positions"].split(";")]
        lanes = [int(n) for n in b["x16_slot_lanes"].split(";")]
        assert len(pos) == len(lanes), b["id"]
        assert pos == sorted(set(pos)) and pos[0] >= 1, b["id"]
        assert set(lanes) <= {1, 2, 4, 8, 16}, b["id"]
    seven = [b for b in data["motherboards"] if b["x16_slot_positions"] == "1;2;3;4;5;6;7"]
    assert any(b["platform_class"] == "workstation" for b in seven)
    assert any(b["platform_class"] == "server" for b in data["motherboards"])
    split = [b for b in data["motherboards"] if b["x16_slot_lanes"].startswith("8;8")]
    assert len(split) >= 2  # x8/x8 desktop boards for two GPUs


def test_psus_and_cases_cover_multi_gpu(data):
    watts = {int(p["watts"]) for p in data["psus"]}
    assert min(watts) <= 550 and 1600 in watts and 2000 in watts
    big = [p for p in data["psus"] if int(p["watts"]) == 2000]
    assert all("230 V" in p["notes"] for p in big)
    assert any(int(c["expansion_slots"]) >= 8 and "E-ATX" in c["form_factors"].split(";")
               for c in data["cases"])
    assert any("4U" in c["name"] for c in data["cases"])


# ---- the reference budgets, priced straight from the rows ----

def _inr(row: dict[str, str], usd_rate: float) -> float:
    inr = _num(row["price_inr"])
    return inr if inr is not None else _num(row["price_usd"]) * usd_rate


def _cheapest_build(data, gpu: dict[str, str], board_classes: set[str], min_ram_gb: int) -> float:
    """Cheapest complete, compatible one-GPU build around ``gpu`` (INR); inf when none."""
    rate = float(_by_id_rates(data)["USD"]["inr_per_unit"])
    price = lambda r: _inr(r, rate)  # noqa: E731
    best = math.inf
    nvme = min(price(s) for s in data["storage"] if s["kind"] == "nvme"
               and int(s["capacity_gb"]) >= 1000)
    for board in data["motherboards"]:
        if board["platform_class"] not in board_classes:
            continue
        cpus = [c for c in data["cpus"] if c["socket"] == board["socket"]]
        kits = [k for k in data["memory"] if k["memory_type"] == board["memory_type"]
                and int(k["modules"]) <= int(board["memory_slots"])
                and int(k["modules"]) * int(k["module_gb"]) >= max(min_ram_gb,
                                                                   float(gpu["vram_gb"]))]
        cases = [c for c in data["cases"] if board["form_factor"] in c["form_factors"].split(";")
                 and float(gpu["length_mm"]) <= float(c["max_gpu_length_mm"])]
        if not (cpus and kits and cases):
            continue
        for cpu in cpus:
            # Dettmers: (CPU + GPU) x 1.1 x 1.1, plus ~75 W for the rest of the system
            need_w = (float(gpu["tdp_w"]) + float(cpu["tdp_w"])) * 1.21 + 75
            psus = [p for p in data["psus"] if int(p["watts"]) >= need_w
                    and int(p["pcie_8pin"]) >= int(gpu["power_8pin"])
                    and (int(p["connector_16pin"]) >= int(gpu["power_16pin"])
                         or int(p["pcie_8pin"]) >= int(gpu["x_adapter_8pin"] or 0))]
            if not psus:
                continue
            total = (price(gpu) + price(board) + price(cpu) + min(map(price, kits))
                     + nvme + min(map(price, psus)) + min(map(price, cases)))
            best = min(best, total)
    return best


def _by_id_rates(data) -> dict[str, dict[str, str]]:
    return {r["currency"]: r for r in data["rates"]}


def test_a_sane_desktop_fits_1_25_lakh(data):
    """Issue 2: at Rs 1.25 lakh a new 12-16 GB NVIDIA card and >= 32 GB RAM must be affordable."""
    cards = [g for g in data["gpus"] if g["availability"] == "new"
             and 12 <= float(g["vram_gb"]) <= 16 and g["form"] == "consumer"]
    costs = {g["id"]: _cheapest_build(data, g, {"desktop"}, 32) for g in cards}
    affordable = {gid for gid, cost in costs.items() if cost <= 125_000}
    assert {"rtx-5060-ti-16gb", "rtx-4060-ti-16gb"} & affordable, costs
    # and a DDR4 platform is part of the cheap end
    ddr4_boards = [b for b in data["motherboards"] if b["memory_type"] == "DDR4"]
    assert {b["socket"] for b in ddr4_boards} >= {"AM4", "LGA1700"}


def test_a_server_or_workstation_build_fits_5_lakh(data):
    """Issue 2: at Rs 5 lakh a server-class build (RDIMM board) with a >= 16 GB GPU exists."""
    cards = [g for g in data["gpus"] if g["availability"] != "legacy"
             and float(g["vram_gb"]) >= 16]
    best = min(_cheapest_build(data, g, {"server", "workstation"}, 64) for g in cards)
    assert best <= 500_000


def test_bundled_systems_are_sourced_and_reference_real_cards(data):
    """catalog/systems.csv (issue 9 item 7): every row's price is cited (a URL or repository in
    `source`, basis quote or msrp) and dated; its card is in gpus.csv."""
    with open(CATALOG / "systems.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    gpu_ids = {g["id"] for g in data["gpus"]}
    assert rows, "systems.csv has no rows"
    for r in rows:
        assert r["price_basis"] in SOURCED_BASES, r["id"]
        assert URL_RE.search(r["source"]), r["id"]
        assert date.fromisoformat(r["price_date"]) <= date(2026, 12, 3), r["id"]
        assert all(g in gpu_ids for g in r["gpu_ids"].split(";")), r["id"]

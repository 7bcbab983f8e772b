"""catalog_schema by value: every column's plausible range at both ends (just inside, just past),
each cell kind's parsing, and every row rule at its boundary.

The ranges below are written out by hand (the sanity bounds the catalog promises), not read from
SCHEMA, so a bound that moves fails here.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from rigcheck.catalog_schema import SCHEMA, CatalogError, Column, convert_cell, parse_row

TODAY = date(2026, 12, 1)
WHERE = "f.csv line 2"

# (kind, column, kind of cell, lowest plausible, highest plausible)
RANGES = [
    ("gpus", "vram_gb", "float", 1, 300), ("gpus", "mem_bw_gbs", "float", 10, 30000),
    ("gpus", "cuda_cores", "int", 1, 100000), ("gpus", "fp32_tflops", "float", 0.1, 1000),
    ("gpus", "tensor_fp16_tflops", "float", 0.1, 20000),
    ("gpus", "tensor_bf16_tflops", "float", 0.1, 20000),
    ("gpus", "tensor_tf32_tflops", "float", 0.1, 20000), ("gpus", "tdp_w", "float", 10, 1500),
    ("gpus", "slot_width", "int", 1, 5), ("gpus", "length_mm", "float", 50, 450),
    ("gpus", "power_8pin", "int", 0, 4), ("gpus", "power_16pin", "int", 0, 2),
    ("gpus", "power_eps8", "int", 0, 4), ("gpus", "pcie_gen", "int", 1, 6),
    ("gpus", "launch_year", "int", 1990, 2100),
    ("gpus", "price_inr", "float", 1, 1e9), ("gpus", "price_usd", "float", 0.01, 1e7),
    ("cpus", "cores", "int", 1, 512), ("cpus", "threads", "int", 1, 1024),
    ("cpus", "base_ghz", "float", 0.5, 7), ("cpus", "boost_ghz", "float", 0.5, 7),
    ("cpus", "tdp_w", "float", 10, 1500), ("cpus", "pcie_lanes", "int", 1, 256),
    ("cpus", "launch_year", "int", 1990, 2100),
    ("motherboards", "memory_slots", "int", 1, 48),
    ("motherboards", "max_memory_gb", "int", 8, 16384),
    ("motherboards", "m2_slots", "int", 0, 16),
    ("memory", "modules", "int", 1, 32), ("memory", "module_gb", "int", 1, 512),
    ("memory", "speed_mts", "int", 800, 12000),
    ("storage", "capacity_gb", "int", 16, 200000), ("storage", "seq_read_mbs", "int", 10, 30000),
    ("psus", "watts", "int", 300, 3000), ("psus", "pcie_8pin", "int", 0, 16),
    ("psus", "connector_16pin", "int", 0, 4), ("psus", "eps8_leads", "int", 0, 16),
    ("cases", "max_gpu_length_mm", "int", 100, 600), ("cases", "expansion_slots", "int", 1, 20),
    ("cases", "max_gpus", "int", 1, 16),
    ("systems", "rack_units", "int", 1, 12), ("systems", "gpu_count", "int", 1, 16),
    ("systems", "cpu_cores", "int", 1, 1024), ("systems", "cpu_tdp_w", "float", 10, 3000),
    ("systems", "ram_gb", "int", 8, 65536), ("systems", "storage_gb", "int", 16, 10_000_000),
    ("systems", "psu_w", "int", 300, 30000), ("systems", "max_draw_w", "float", 100, 30000),
    ("systems", "power_inlets", "int", 1, 8),   # power cords: 1 (a tower) to 8 (DGX-class 6 + spares)
    ("systems", "min_input_v", "float", 90, 480),  # 100 V (Japan) .. 480 V (three-phase feeds)
    ("landed", "pct", "float", 0, 200),
    ("cloud", "gpus", "int", 1, 16), ("cloud", "price_per_gpu_hour", "float", 0.001, 100000),
    ("tariff", "price_inr_per_kwh", "float", 0.5, 100),
    ("rates", "inr_per_unit", "float", 0.0001, 100000),
]


def column(kind, name):
    (col,) = [c for c in SCHEMA[kind] if c.name == name]
    return col


def text(kind, value):
    return str(int(value)) if kind == "int" else repr(float(value))


@pytest.mark.parametrize("kind, name, cell, lo, hi", RANGES,
                         ids=[f"{k}.{n}" for k, n, *_ in RANGES])
def test_each_range_at_both_ends(kind, name, cell, lo, hi):
    col = column(kind, name)
    assert col.kind == cell
    assert convert_cell(col, text(cell, lo), WHERE, TODAY) == lo
    assert convert_cell(col, text(cell, hi), WHERE, TODAY) == hi
    # just past each end: one less / more for whole numbers; for measures 5% or half a unit,
    # whichever is nearer (a bound of 300 must refuse 300.5, one of 0.1 must refuse 0.105)
    below = lo - 1 if cell == "int" else lo - min(lo * 0.05, 0.5) if lo else -0.01
    above = hi + 1 if cell == "int" else hi + min(hi * 0.05, 0.5)
    with pytest.raises(CatalogError, match="below the plausible minimum"):
        convert_cell(col, text(cell, below), WHERE, TODAY)
    with pytest.raises(CatalogError, match="above the plausible maximum"):
        convert_cell(col, text(cell, above), WHERE, TODAY)


def test_slot_positions_range_applies_to_each_item():
    col = column("motherboards", "x16_slot_positions")
    assert convert_cell(col, "1;14", WHERE, TODAY) == (1, 14)
    with pytest.raises(CatalogError, match="'0' is below the plausible minimum 1"):
        convert_cell(col, "0;4", WHERE, TODAY)
    with pytest.raises(CatalogError, match="'15' is above the plausible maximum 14"):
        convert_cell(col, "1;15", WHERE, TODAY)


def test_unbounded_columns_have_no_range():
    # the price columns are one shared set, checked above on gpus
    bounded = {n for k, n, *_ in RANGES if k == "gpus" and n.startswith("price_")}
    bounded = {(k, n) for k, n, *_ in RANGES} | {("motherboards", "x16_slot_positions")} | {
        (k, n) for k in SCHEMA for n in bounded}
    loose = [(k, c.name) for k, cols in SCHEMA.items() for c in cols
             if (c.lo is not None or c.hi is not None) and (k, c.name) not in bounded]
    assert loose == []


# ---- cells -----------------------------------------------------------------------------------

def test_lists_split_on_semicolons_and_reject_empty_items():
    lanes = column("motherboards", "x16_slot_lanes")
    assert convert_cell(lanes, "16; 8 ;4", WHERE, TODAY) == (16, 8, 4)
    with pytest.raises(CatalogError, match="'3' is not one of: 1, 2, 4, 8, 16"):
        convert_cell(lanes, "16;3", WHERE, TODAY)
    for bad in ("16;;4", "16;", " ;4"):
        with pytest.raises(CatalogError, match="has an empty item"):
            convert_cell(lanes, bad, WHERE, TODAY)
    forms = column("cases", "form_factors")
    assert convert_cell(forms, "ATX;mATX", WHERE, TODAY) == ("ATX", "mATX")
    with pytest.raises(CatalogError, match="'BTX' is not one of"):
        convert_cell(forms, "ATX;BTX", WHERE, TODAY)
    ids = column("systems", "gpu_ids")
    assert convert_cell(ids, "h100-sxm;a100", WHERE, TODAY) == ("h100-sxm", "a100")
    with pytest.raises(CatalogError, match="is not an id"):
        convert_cell(ids, "h100;A100", WHERE, TODAY)


def test_patterns_match_the_whole_cell():
    ident = column("gpus", "id")
    assert convert_cell(ident, "rtx-4090.v2_b", WHERE, TODAY) == "rtx-4090.v2_b"
    for bad in ("RTX-4090", "-rtx", "rtx 4090", "rtx-4090!"):
        with pytest.raises(CatalogError, match="is not an id: use lowercase"):
            convert_cell(ident, bad, WHERE, TODAY)
    cc = column("gpus", "compute_capability")
    assert convert_cell(cc, "10.0", WHERE, TODAY) == "10.0"
    for bad in ("8", "8.9.1", "100.0", "8.10"):
        with pytest.raises(CatalogError, match="is not a compute capability like 8.9"):
            convert_cell(cc, bad, WHERE, TODAY)
    name = column("gpus", "name")
    assert convert_cell(name, "Anything At All", WHERE, TODAY) == "Anything At All"


def test_numbers_and_whole_numbers():
    cores = column("cpus", "cores")
    assert convert_cell(cores, "+8", WHERE, TODAY) == 8
    for bad in ("8.0", "8 cores", "eight", "1,024"):
        with pytest.raises(CatalogError, match="is not a whole number"):
            convert_cell(cores, bad, WHERE, TODAY)
    vram = column("gpus", "vram_gb")
    for good, value in (("24", 24.0), ("24.", 24.0), (".5e1", 5.0), ("2.4E+1", 24.0)):
        assert convert_cell(vram, good, WHERE, TODAY) == value
    for bad in ("nan", "inf", "1,000", "24GB", "", "e5"):
        with pytest.raises(CatalogError, match="is not a number"):
            convert_cell(vram, bad, WHERE, TODAY)


def test_booleans():
    nvlink = column("gpus", "nvlink")
    assert convert_cell(nvlink, "TRUE", WHERE, TODAY) is True
    assert convert_cell(nvlink, "false", WHERE, TODAY) is False
    assert convert_cell(nvlink, "False", WHERE, TODAY) is False
    for bad in ("yes", "1", "t"):
        with pytest.raises(CatalogError, match="is not true or false"):
            convert_cell(nvlink, bad, WHERE, TODAY)


def test_dates_with_one_day_of_slack():
    col = column("gpus", "price_date")
    assert convert_cell(col, "2026-12-02", WHERE, TODAY) == date(2026, 12, 2)   # tomorrow: ok
    with pytest.raises(CatalogError, match=r"is in the future \(today is 2026-12-01\)"):
        convert_cell(col, "2026-12-03", WHERE, TODAY)
    for bad in ("2026-1-05", "05/01/2026", "2026-02-30", "20260105"):
        with pytest.raises(CatalogError, match=r"is not a date \(YYYY-MM-DD\)"):
            convert_cell(col, bad, WHERE, TODAY)


def test_message_names_where_column_and_cell():
    with pytest.raises(CatalogError) as err:
        convert_cell(column("psus", "watts"), "299", "psus.csv line 7", TODAY)
    assert str(err.value) == ("psus.csv line 7, column watts: '299' is below the plausible "
                              "minimum 300")


def test_columns_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        column("gpus", "vram_gb").hi = 1


def test_choices_and_no_range_for_plain_text():
    col = Column("x", choices=("a", "b"))
    assert convert_cell(col, "a", WHERE, TODAY) == "a"
    with pytest.raises(CatalogError, match="'c' is not one of: a, b"):
        convert_cell(col, "c", WHERE, TODAY)


# ---- rows ------------------------------------------------------------------------------------

PRICE = {"price_inr": "50000", "price_usd": "", "price_date": "2026-11-01",
         "price_kind": "street", "source": "shop", "price_basis": "quote", "notes": ""}

GPU = {"id": "rtx-x", "name": "RTX X", "vendor": "NVIDIA", "architecture": "Ada Lovelace",
       "compute_capability": "8.9", "vram_gb": "16", "memory_type": "GDDR6X",
       "mem_bw_gbs": "700", "cuda_cores": "7000", "fp32_tflops": "40",
       "tensor_fp16_tflops": "160", "tensor_bf16_tflops": "160", "tensor_tf32_tflops": "80",
       "tensor_accumulate": "fp32", "tdp_w": "300", "slot_width": "3", "length_mm": "300",
       "power_8pin": "0", "power_16pin": "1", "power_eps8": "0", "pcie_gen": "4",
       "form": "consumer", "cooler": "open-air", "nvlink": "false", "launch_year": "2023",
       "availability": "new", **PRICE}
CPU = {"id": "c", "name": "C", "vendor": "AMD", "socket": "AM5", "cores": "8", "threads": "16",
       "base_ghz": "4.0", "boost_ghz": "5.0", "tdp_w": "105", "pcie_lanes": "24",
       "avx512": "true", "launch_year": "2023", **PRICE}
BOARD = {"id": "b", "name": "B", "socket": "AM5", "chipset": "X670", "platform_class": "desktop",
         "form_factor": "ATX", "memory_type": "DDR5", "memory_slots": "4",
         "max_memory_gb": "192", "x16_slot_positions": "1;4", "x16_slot_lanes": "16;4",
         "m2_slots": "3", **PRICE}
CASE = {"id": "k", "name": "K", "form_factors": "ATX;mATX", "max_gpu_length_mm": "400",
        "expansion_slots": "8", "chassis_class": "desktop", "passive_gpu_rated": "false",
        "max_gpus": "2", **PRICE}
SYSTEM = {"id": "s", "name": "S", "vendor": "V", "chassis_class": "rack", "rack_units": "4",
          "gpu_ids": "h100", "gpu_count": "8", "gpus_included": "true",
          "passive_gpu_rated": "true", "cpu_name": "2x EPYC", "cpu_cores": "128",
          "cpu_tdp_w": "720", "ram_gb": "2048", "storage_gb": "30000", "psu_w": "12000",
          "max_draw_w": "", **PRICE}
LANDED = {"kind": "gpu", "factor": "igst", "pct": "18", "date": "2026-01-01", "source": "cbic",
          "note": ""}


def row(file_kind, base, /, **changes):
    return parse_row(file_kind, {**base, **changes}, WHERE, TODAY)


def rejects(file_kind, base, match, /, **changes):
    with pytest.raises(CatalogError, match=match):
        row(file_kind, base, **changes)


def test_a_whole_gpu_row_parses_to_typed_values():
    v = row("gpus", GPU)
    assert v["vram_gb"] == 16.0 and v["slot_width"] == 3 and v["nvlink"] is False
    assert v["price_date"] == date(2026, 11, 1) and v["price_usd"] is None
    assert v["notes"] is None and v["price_basis"] == "quote"


def test_missing_required_and_empty_optional_cells():
    rejects("gpus", GPU, "column vram_gb: value is missing", vram_gb="")
    rejects("gpus", {k: v for k, v in GPU.items() if k != "name"}, "column name: value is missing")
    assert row("gpus", GPU, price_basis="")["price_basis"] is None


def test_a_price_is_inr_or_usd_or_both():
    rejects("gpus", GPU, "column price_inr: give price_inr or price_usd", price_inr="")
    assert row("gpus", GPU, price_inr="", price_usd="499")["price_usd"] == 499.0
    assert row("gpus", GPU, price_usd="499")["price_inr"] == 50000.0


def test_price_only_rows_check_only_the_price_columns():
    v = parse_row("gpus", {"id": "rtx-x", **PRICE, "vram_gb": "9999"}, WHERE, TODAY,
                  price_only=True)
    assert sorted(v) == sorted(["id", "notes", "price_inr", "price_usd", "price_date",
                                "price_kind", "source", "price_basis"])
    with pytest.raises(CatalogError, match="give price_inr or price_usd"):
        parse_row("gpus", {"id": "rtx-x", **PRICE, "price_inr": ""}, WHERE, TODAY,
                  price_only=True)


@pytest.mark.parametrize("column, first_cc, allowed, refused", [
    ("tensor_fp16_tflops", "7.0", "7.0", "6.1"),
    ("tensor_bf16_tflops", "8.0", "8.0", "7.5"),
    ("tensor_tf32_tflops", "8.0", "8.0", "7.5"),
])
def test_tensor_figures_only_from_their_first_compute_capability(column, first_cc, allowed,
                                                                 refused):
    # Only the figure under test is given, so the other columns' rules stay out of the way.
    others = {c: "" for c in ("tensor_fp16_tflops", "tensor_bf16_tflops", "tensor_tf32_tflops")
              if c != column}
    if column != "tensor_fp16_tflops":
        others["tensor_accumulate"] = ""
    assert row("gpus", GPU, compute_capability=allowed, **others)[column] is not None
    rejects("gpus", GPU, rf"column {column}: must be empty for compute capability "
            rf"{float(refused)} \(< {float(first_cc)}\)", compute_capability=refused, **others)


def test_no_tensor_figures_at_all_is_fine_for_old_cards():
    v = row("gpus", GPU, compute_capability="5.2", tensor_fp16_tflops="",
            tensor_bf16_tflops="", tensor_tf32_tflops="", tensor_accumulate="")
    assert v["tensor_fp16_tflops"] is None and v["tensor_accumulate"] is None


def test_a_tensor_figure_needs_its_accumulate_precision():
    rejects("gpus", GPU, "column tensor_accumulate: value is missing", tensor_accumulate="")
    assert row("gpus", GPU, tensor_accumulate="fp16")["tensor_accumulate"] == "fp16"
    # without an fp16 figure the accumulate column may stay empty
    assert row("gpus", GPU, tensor_fp16_tflops="", tensor_accumulate="")["tensor_accumulate"] \
        is None


def test_cpu_threads_and_clocks():
    assert row("cpus", CPU, threads="8")["threads"] == 8           # equal to cores: fine
    rejects("cpus", CPU, r"column threads: 7 is fewer than cores \(8\)", threads="7")
    assert row("cpus", CPU, boost_ghz="4.0")["boost_ghz"] == 4.0   # equal to base: fine
    rejects("cpus", CPU, r"column boost_ghz: 3.9 is below base_ghz \(4.0\)", boost_ghz="3.9")


@pytest.mark.parametrize("kind, base", [("cases", CASE), ("systems", SYSTEM)])
def test_passive_rating_only_for_server_and_rack_chassis(kind, base):
    for chassis in ("server", "rack"):
        assert row(kind, base, chassis_class=chassis, passive_gpu_rated="true")[
            "passive_gpu_rated"] is True
    for chassis in ("desktop", "workstation"):
        rejects(kind, base, f"column passive_gpu_rated: only a server or rack chassis.*"
                f"chassis_class is {chassis}", chassis_class=chassis, passive_gpu_rated="true")
        assert row(kind, base, chassis_class=chassis, passive_gpu_rated="false")[
            "passive_gpu_rated"] is False


def test_a_system_priced_with_its_gpus_names_exactly_one():
    rejects("systems", SYSTEM, "column gpu_ids: .* exactly one GPU id, not 2",
            gpu_ids="h100;h200")
    assert row("systems", SYSTEM, gpu_ids="h100;h200", gpus_included="false")["gpu_ids"] == (
        "h100", "h200")


def test_board_slot_lists_match_and_increase():
    rejects("motherboards", BOARD, r"column x16_slot_lanes: has 3 item\(s\) but "
            "x16_slot_positions has 2", x16_slot_lanes="16;4;4")
    rejects("motherboards", BOARD, "column x16_slot_positions: 1;4;4 is not strictly increasing",
            x16_slot_positions="1;4;4", x16_slot_lanes="16;4;4")
    rejects("motherboards", BOARD, "column x16_slot_positions: 4;1 is not strictly increasing",
            x16_slot_positions="4;1")
    assert row("motherboards", BOARD, x16_slot_positions="1;2",
               x16_slot_lanes="16;16")["x16_slot_positions"] == (1, 2)
    assert row("motherboards", BOARD, x16_slot_positions="3",
               x16_slot_lanes="16")["x16_slot_positions"] == (3,)


def test_rates_are_not_in_rupees_and_currency_case_is_free():
    good = {"currency": "usd", "inr_per_unit": "91.5", "date": "2026-11-01", "source": "rbi"}
    assert parse_row("rates", good, WHERE, TODAY)["currency"] == "USD"
    with pytest.raises(CatalogError, match="column currency: INR is the base currency"):
        parse_row("rates", {**good, "currency": "inr"}, WHERE, TODAY)
    with pytest.raises(CatalogError, match="is not a three-letter currency code"):
        parse_row("rates", {**good, "currency": "US"}, WHERE, TODAY)


@pytest.mark.parametrize("factor, pct, ok", [
    ("margin", "100", True), ("margin", "100.5", False),
    ("bcd", "100", True), ("bcd", "100.5", False),
    ("igst", "100", True), ("igst", "100.5", False),
    ("sws", "150", True),
])
def test_landed_percentages(factor, pct, ok):
    if ok:
        assert row("landed", LANDED, factor=factor, pct=pct)["pct"] == float(pct)
    else:
        rejects("landed", LANDED, rf"column pct: .*{pct}% is not plausible \(at most 100\)",
                factor=factor, pct=pct)


def test_optional_cells_of_every_file_may_be_empty():
    v = row("systems", SYSTEM, rack_units="", max_draw_w="")
    assert (v["rack_units"], v["max_draw_w"]) == (None, None)
    v = row("gpus", GPU, price_usd="", price_basis="", notes="", compute_capability="5.2",
            tensor_fp16_tflops="", tensor_bf16_tflops="", tensor_tf32_tflops="",
            tensor_accumulate="")
    assert {v[k] for k in ("price_usd", "price_basis", "notes", "tensor_fp16_tflops",
                           "tensor_bf16_tflops", "tensor_tf32_tflops",
                           "tensor_accumulate")} == {None}
    assert row("gpus", GPU, price_inr="", price_usd="5")["price_inr"] is None
    tariff = {"id": "t", "region": "r", "consumer": "residential", "price_inr_per_kwh": "8",
              "date": "2026-01-01", "source": "s", "note": ""}
    assert parse_row("tariff", tariff, WHERE, TODAY)["note"] is None
    cloud = {"id": "o", "provider": "p", "gpu_id": "", "gpu_name": "H100", "gpus": "1",
             "price_per_gpu_hour": "2.5", "currency": "USD", "billing": "spot",
             "region": "us", "date": "2026-11-01", "source": "s", "note": ""}
    got = parse_row("cloud", cloud, WHERE, TODAY)
    assert (got["gpu_id"], got["note"]) == (None, None)
    assert row("landed", LANDED, note="")["note"] is None
    # and the required ones may not
    for kind, base, col in (("systems", SYSTEM, "cpu_tdp_w"), ("cases", CASE, "max_gpus"),
                            ("landed", LANDED, "date"), ("tariff", tariff, "consumer"),
                            ("cloud", cloud, "gpus")):
        rejects(kind, base, f"column {col}: value is missing", **{col: ""})


def test_landed_kind_and_factor_case_is_free_other_text_is_not():
    v = row("landed", LANDED, kind="GPU", factor="IGST")
    assert (v["kind"], v["factor"]) == ("gpu", "igst")
    # ... and no other column of it
    assert row("landed", LANDED, source="CBIC Notification 1/2026")["source"] == (
        "CBIC Notification 1/2026")
    with pytest.raises(CatalogError, match="is not one of"):
        parse_row("tariff", {"id": "t", "region": "r", "consumer": "Residential",
                             "price_inr_per_kwh": "8", "date": "2026-01-01", "source": "s"},
                  WHERE, TODAY)
    # the currency column is upper-cased in cloud rows too
    cloud = {"id": "o", "provider": "p", "gpu_id": "", "gpu_name": "H100", "gpus": "1",
             "price_per_gpu_hour": "2.5", "currency": "usd", "billing": "on-demand",
             "region": "us", "date": "2026-11-01", "source": "s"}
    assert parse_row("cloud", cloud, WHERE, TODAY)["currency"] == "USD"
    # only landed.csv's kind is lower-cased: storage.csv's kind column is taken as written
    storage = {"id": "s", "name": "S", "kind": "NVMe", "interface": "PCIe 4.0 x4",
               "capacity_gb": "1000", "seq_read_mbs": "5000", **PRICE}
    rejects("storage", storage, "column kind: 'NVMe' is not one of: nvme")
    assert row("storage", storage, kind="nvme")["kind"] == "nvme"
    # the id column of a part row is never lower-cased for you
    rejects("cpus", CPU, "is not an id", id="C")

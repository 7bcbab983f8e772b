"""What a valid catalog row is: the columns of each CSV, their types and plausible ranges, and
the rules that tie cells of one row together (pure; no files).

:mod:`rigcheck.catalog` reads the files and merges overlays; this module turns one row's cells
into typed values or raises :class:`CatalogError` naming ``where`` (file and line) and the column.
The CSV contract itself is ``catalog/README.md``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message is one line naming file, line and column."""


# Kinds whose rows carry a price (the seven part kinds and complete systems).
PRICED = ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases", "systems")
PRICE_COLUMNS = ("price_inr", "price_usd", "price_date", "price_kind", "source", "price_basis")
PRICE_KINDS = ("street", "msrp", "used", "derived")
# How far a price can be trusted (catalog/README.md "price_basis"); empty = not stated.
PRICE_BASES = ("quote", "msrp", "seed", "estimate", "recalled")
ARCHITECTURES = ("Kepler", "Maxwell", "Pascal", "Volta", "Turing", "Ampere", "Ada Lovelace",
                 "Hopper", "Blackwell")
SOCKETS = ("AM4", "AM5", "LGA1700", "LGA1851", "sTR5", "SP5", "LGA4677")
BOARD_FORMS = ("ATX", "mATX", "E-ATX", "SSI-EEB", "ITX", "EEB")
MEMORY_TYPES = ("DDR4", "DDR5", "DDR5 RDIMM", "DDR4 RDIMM")
INTERFACES = ("PCIe 3.0 x4", "PCIe 4.0 x4", "PCIe 5.0 x4", "SATA 6Gb/s")
EFFICIENCIES = ("80+ Bronze", "80+ Gold", "80+ Platinum", "80+ Titanium")
_LANES = ("1", "2", "4", "8", "16")
# Chassis: "desktop" (towers sold for PCs), "workstation" (full towers and workstation pedestals),
# "server" (server pedestals/towers), "rack" (rackmount). --class server means server or rack.
CHASSIS_CLASSES = ("desktop", "workstation", "server", "rack")
SERVER_CHASSIS = ("server", "rack")
# Landed cost (catalog/landed.csv): one row per part kind x factor.
LANDED_KINDS = ("gpu", "cpu", "motherboard", "memory", "storage", "psu", "case", "server")
LANDED_FACTORS = ("bcd", "sws", "igst", "margin")
CLOUD_BILLING = ("on-demand", "spot", "reserved", "monthly")
TARIFF_CONSUMERS = ("residential", "commercial", "industrial", "institutional")
_YEAR = (1990, 2100)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "str"        # str | int | float | bool | date | ints | strs
    optional: bool = False   # may the cell be empty?
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    pattern: str = ""        # a regex the whole cell must match ...
    form: str = ""           # ... and what it asks for, in words, for the message


def _c(name: str, kind: str = "str", lo: float | None = None, hi: float | None = None,
       **kw: Any) -> Column:
    return Column(name, kind, lo=lo, hi=hi, **kw)


_ID = _c("id", pattern=r"[a-z0-9][a-z0-9._-]*",
         form="an id: use lowercase letters, digits, '.', '_' and '-' (e.g. rtx-4090)")
_PRICE = (_c("price_inr", "float", 1, 1e9, optional=True),
          _c("price_usd", "float", 0.01, 1e7, optional=True),
          _c("price_date", "date"), _c("price_kind", choices=PRICE_KINDS), _c("source"),
          _c("price_basis", optional=True, choices=PRICE_BASES), _c("notes", optional=True))

# Ranges are sanity bounds (typo guards), wide enough for every part sold for DL machines.
SCHEMA: dict[str, tuple[Column, ...]] = {
    "gpus": (_ID, _c("name"), _c("vendor", choices=("NVIDIA",)),
             _c("architecture", choices=ARCHITECTURES),
             _c("compute_capability", pattern=r"\d{1,2}\.\d",
                form="a compute capability like 8.9"),
             _c("vram_gb", "float", 1, 300), _c("memory_type"),
             _c("mem_bw_gbs", "float", 10, 30000), _c("cuda_cores", "int", 1, 100000),
             _c("fp32_tflops", "float", 0.1, 1000),
             _c("tensor_fp16_tflops", "float", 0.1, 20000, optional=True),
             _c("tensor_bf16_tflops", "float", 0.1, 20000, optional=True),
             _c("tensor_tf32_tflops", "float", 0.1, 20000, optional=True),
             _c("tensor_accumulate", choices=("fp32", "fp16"), optional=True),
             _c("tdp_w", "float", 10, 1500), _c("slot_width", "int", 1, 5),
             _c("length_mm", "float", 50, 450), _c("power_8pin", "int", 0, 4),
             _c("power_16pin", "int", 0, 2), _c("power_eps8", "int", 0, 4),
             _c("pcie_gen", "int", 1, 6),
             _c("form", choices=("consumer", "workstation", "datacenter")),
             _c("cooler", choices=("open-air", "blower", "passive")), _c("nvlink", "bool"),
             _c("launch_year", "int", *_YEAR),
             _c("availability", choices=("new", "used", "legacy")), *_PRICE),
    "cpus": (_ID, _c("name"), _c("vendor", choices=("Intel", "AMD")),
             _c("socket", choices=SOCKETS), _c("cores", "int", 1, 512),
             _c("threads", "int", 1, 1024), _c("base_ghz", "float", 0.5, 7),
             _c("boost_ghz", "float", 0.5, 7), _c("tdp_w", "float", 10, 1500),
             _c("pcie_lanes", "int", 1, 256), _c("avx512", "bool"),
             _c("launch_year", "int", *_YEAR), *_PRICE),
    "motherboards": (_ID, _c("name"), _c("socket", choices=SOCKETS), _c("chipset"),
                     _c("platform_class", choices=("desktop", "workstation", "server")),
                     _c("form_factor", choices=BOARD_FORMS),
                     _c("memory_type", choices=MEMORY_TYPES), _c("memory_slots", "int", 1, 48),
                     _c("max_memory_gb", "int", 8, 16384),
                     _c("x16_slot_positions", "ints", 1, 14),
                     _c("x16_slot_lanes", "ints", choices=_LANES), _c("m2_slots", "int", 0, 16),
                     *_PRICE),
    "memory": (_ID, _c("name"), _c("memory_type", choices=MEMORY_TYPES),
               _c("modules", "int", 1, 32), _c("module_gb", "int", 1, 512),
               _c("speed_mts", "int", 800, 12000), _c("ecc", "bool"), *_PRICE),
    "storage": (_ID, _c("name"), _c("kind", choices=("nvme", "sata-ssd", "hdd")),
                _c("interface", choices=INTERFACES), _c("capacity_gb", "int", 16, 200000),
                _c("seq_read_mbs", "int", 10, 30000), *_PRICE),
    "psus": (_ID, _c("name"), _c("watts", "int", 300, 3000),
             _c("efficiency", choices=EFFICIENCIES), _c("pcie_8pin", "int", 0, 16),
             _c("connector_16pin", "int", 0, 4), _c("eps8_leads", "int", 0, 16),
             _c("form_factor", choices=("ATX", "SFX")), *_PRICE),
    "cases": (_ID, _c("name"), _c("form_factors", "strs", choices=BOARD_FORMS),
              _c("max_gpu_length_mm", "int", 100, 600), _c("expansion_slots", "int", 1, 20),
              _c("chassis_class", choices=CHASSIS_CLASSES), _c("passive_gpu_rated", "bool"),
              _c("max_gpus", "int", 1, 16), *_PRICE),
    # Complete GPU servers/workstations sold as one system (issue 9 item 7).
    "systems": (_ID, _c("name"), _c("vendor"), _c("chassis_class", choices=CHASSIS_CLASSES),
                _c("rack_units", "int", 1, 12, optional=True),
                _c("gpu_ids", "strs", pattern=_ID.pattern, form=_ID.form),
                _c("gpu_count", "int", 1, 16), _c("gpus_included", "bool"),
                _c("passive_gpu_rated", "bool"), _c("cpu_name"), _c("cpu_cores", "int", 1, 1024),
                _c("cpu_tdp_w", "float", 10, 3000), _c("ram_gb", "int", 8, 65536),
                _c("storage_gb", "int", 16, 10_000_000), _c("psu_w", "int", 300, 30000),
                _c("max_draw_w", "float", 100, 30000, optional=True),
                _c("power_inlets", "int", 1, 8, optional=True),
                _c("min_input_v", "float", 90, 480, optional=True), *_PRICE),
    "landed": (_c("kind", choices=LANDED_KINDS), _c("factor", choices=LANDED_FACTORS),
               _c("pct", "float", 0, 200), _c("date", "date"), _c("source"),
               _c("note", optional=True)),
    "cloud": (_ID, _c("provider"),
              _c("gpu_id", optional=True, pattern=_ID.pattern, form=_ID.form),
              _c("gpu_name"), _c("gpus", "int", 1, 16),
              _c("price_per_gpu_hour", "float", 0.001, 100000),
              _c("currency", pattern=r"[A-Z]{3}", form="a three-letter currency code like USD"),
              _c("billing", choices=CLOUD_BILLING), _c("region"), _c("date", "date"),
              _c("source"), _c("note", optional=True)),
    "tariff": (_ID, _c("region"), _c("consumer", choices=TARIFF_CONSUMERS),
               _c("price_inr_per_kwh", "float", 0.5, 100), _c("date", "date"), _c("source"),
               _c("note", optional=True)),
    "rates": (_c("currency", pattern=r"[A-Z]{3}", form="a three-letter currency code like USD"),
              _c("inr_per_unit", "float", 0.0001, 100000),
              _c("date", "date"), _c("source")),
}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def convert_cell(col: Column, text: str, where: str, today: date) -> Any:
    def bad(why: str) -> CatalogError:
        return CatalogError(f"{where}, column {col.name}: {text!r} {why}")

    if col.kind in ("ints", "strs"):
        items = [t.strip() for t in text.split(";")]
        if any(not t for t in items):
            raise bad("has an empty item (lists are ';'-separated, e.g. 1;4;7)")
        item = dataclasses.replace(col, kind="int" if col.kind == "ints" else "str")
        return tuple(convert_cell(item, t, where, today) for t in items)
    if col.kind == "str":
        value: Any = text
        if col.pattern and not re.fullmatch(col.pattern, text):
            raise bad(f"is not {col.form}")
    elif col.kind == "int":
        if not _INT.fullmatch(text):
            raise bad("is not a whole number")
        value = int(text)
    elif col.kind == "float":
        if not _NUMBER.fullmatch(text):  # rejects nan, inf, '1,000', '24GB'
            raise bad("is not a number")
        value = float(text)
    elif col.kind == "bool":
        if text.lower() not in ("true", "false"):
            raise bad("is not true or false")
        value = text.lower() == "true"
    else:  # date
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError
            value = date.fromisoformat(text)
        except ValueError:
            raise bad("is not a date (YYYY-MM-DD)") from None
        # One day of slack: a date written in India (UTC+5:30) is "tomorrow" on a UTC machine.
        if value > today + timedelta(days=1):
            raise bad(f"is in the future (today is {today.isoformat()})")
    if col.choices and str(value) not in col.choices:
        raise bad(f"is not one of: {', '.join(col.choices)}")
    if col.lo is not None and value < col.lo:
        raise bad(f"is below the plausible minimum {col.lo:g}")
    if col.hi is not None and value > col.hi:
        raise bad(f"is above the plausible maximum {col.hi:g}")
    return value


def parse_row(kind: str, cells: dict[str, str], where: str, today: date,
              price_only: bool = False) -> dict[str, Any]:
    columns = [c for c in SCHEMA[kind]
               if not price_only or c.name in ("id", "notes", *PRICE_COLUMNS)]
    values: dict[str, Any] = {}
    for col in columns:
        text = cells.get(col.name, "")
        if col.name == "currency":
            text = text.upper()  # "usd" is as clear as "USD"
        elif kind == "landed" and col.name in ("kind", "factor"):
            text = text.lower()  # "GPU", "IGST" are as clear
        if not text:
            if not col.optional:
                raise CatalogError(f"{where}, column {col.name}: value is missing")
            values[col.name] = None
            continue
        values[col.name] = convert_cell(col, text, where, today)
    if kind == "rates":
        if values["currency"] == "INR":  # money.py and the recommender take INR as exactly 1
            raise CatalogError(f"{where}, column currency: INR is the base currency (1 INR = 1); "
                               "give rates of other currencies in INR")
    elif kind in PRICED:
        check_row("prices" if price_only else kind, values, where)
    else:
        check_other(kind, values, where)
    return values


def check_other(kind: str, v: dict[str, Any], where: str) -> None:
    """Row rules of the files that are not parts (landed, cloud, tariff)."""
    if kind == "landed" and v["factor"] == "margin" and v["pct"] > 100:
        raise CatalogError(f"{where}, column pct: a channel margin of {v['pct']:g}% is not "
                           "plausible (at most 100)")
    if kind == "landed" and v["factor"] in ("bcd", "igst") and v["pct"] > 100:
        raise CatalogError(f"{where}, column pct: a {v['factor']} of {v['pct']:g}% is not "
                           "plausible (at most 100)")


def check_row(kind: str, v: dict[str, Any], where: str) -> None:
    def bad(column: str, why: str) -> CatalogError:
        return CatalogError(f"{where}, column {column}: {why}")

    if v.get("price_inr") is None and v.get("price_usd") is None:
        raise bad("price_inr", "give price_inr or price_usd (or both)")
    if kind == "gpus":
        cc = float(v["compute_capability"])
        # Tensor cores arrived with Volta (cc 7.0); TF32 and BF16 with Ampere (cc 8.0)
        # (NVIDIA Ampere GA100 whitepaper, "TF32" and "BF16" sections).
        for column, first_cc in (("tensor_fp16_tflops", 7.0), ("tensor_bf16_tflops", 8.0),
                                 ("tensor_tf32_tflops", 8.0)):
            if v[column] is not None and cc < first_cc:
                raise bad(column, f"must be empty for compute capability {cc} (< {first_cc})")
        if v["tensor_fp16_tflops"] is not None and not v["tensor_accumulate"]:
            raise bad("tensor_accumulate", "value is missing (fp32 or fp16) for a tensor figure")
    elif kind == "cpus":
        if v["threads"] < v["cores"]:
            raise bad("threads", f"{v['threads']} is fewer than cores ({v['cores']})")
        if v["boost_ghz"] < v["base_ghz"]:
            raise bad("boost_ghz", f"{v['boost_ghz']} is below base_ghz ({v['base_ghz']})")
    elif kind == "cases":
        if v["passive_gpu_rated"] and v["chassis_class"] not in SERVER_CHASSIS:
            raise bad("passive_gpu_rated", "only a server or rack chassis can be rated for "
                      f"passive cards (chassis_class is {v['chassis_class']})")
    elif kind == "systems":
        if v["passive_gpu_rated"] and v["chassis_class"] not in SERVER_CHASSIS:
            raise bad("passive_gpu_rated", "only a server or rack chassis can be rated for "
                      f"passive cards (chassis_class is {v['chassis_class']})")
        if v["gpus_included"] and len(v["gpu_ids"]) != 1:
            raise bad("gpu_ids", "a system priced with its GPUs (gpus_included=true) names "
                      f"exactly one GPU id, not {len(v['gpu_ids'])}")
    elif kind == "motherboards":
        pos, lanes = v["x16_slot_positions"], v["x16_slot_lanes"]
        if len(pos) != len(lanes):
            raise bad("x16_slot_lanes", f"has {len(lanes)} item(s) but x16_slot_positions has "
                      f"{len(pos)}")
        if any(b <= a for a, b in zip(pos, pos[1:], strict=False)):
            raise bad("x16_slot_positions", f"{';'.join(map(str, pos))} is not strictly "
                      "increasing")

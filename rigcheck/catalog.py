"""Load and validate the parts catalog (``catalog/*.csv``) into :class:`rigcheck.parts.Catalog`.

The CSV contract is ``catalog/README.md``: one file per part kind, a header row, columns named as
the fields of :mod:`rigcheck.parts`, ``x_`` columns ignored, empty cell = missing. Every cell is
checked here and any problem raises :class:`CatalogError` whose one-line message names the file,
the CSV line and the column, e.g. ``catalog/gpus.csv line 7, column vram_gb: 'abc' is not a
number`` (physical lines, so a quoted cell spanning lines is counted right).

Overlays (``--catalog DIR``, repeatable, applied in order) use the same schema; any subset of the
eight files may be present:

* a row whose ``id`` is new adds a part; a row whose ``id`` exists replaces the whole part;
* a *price row* gives only ``id`` and price columns (``price_inr``/``price_usd``, ``price_date``,
  ``price_kind``, ``source``; ``name`` and ``notes`` may be filled too): only that part's price
  (and notes) change, so a shop's price list is just ``id,name,price_inr,price_date,price_kind,
  source``. The part keeps its catalog ``name``; a price row for an unknown id is an error;
* a ``rates.csv`` row replaces the rate of its currency.

INR is derived from USD with the dated USD rate when ``price_inr`` is empty, or when the row says
``price_kind=derived`` and gives ``price_usd``; such prices get kind ``derived`` and are re-derived
when ``rates`` (``--rate USD=88.5``) overrides the catalog's rate. Quoted INR prices never change.

Only the standard library's ``csv`` reads the files (see :func:`_read_csv` for why not pandas).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rigcheck import parts, paths

# Prices move fast (a 5090 went from $1,999 MSRP to $3,650+ street in 2026, issue 2), so a price
# seen more than about six months ago is flagged as old.
STALE_AFTER_DAYS = 180

KINDS = ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases")
FILES = (*KINDS, "rates")

PRICE_COLUMNS = ("price_inr", "price_usd", "price_date", "price_kind", "source")
PRICE_KINDS = ("street", "msrp", "used", "derived")
ARCHITECTURES = ("Kepler", "Maxwell", "Pascal", "Volta", "Turing", "Ampere", "Ada Lovelace",
                 "Hopper", "Blackwell")
SOCKETS = ("AM4", "AM5", "LGA1700", "LGA1851", "sTR5", "SP5", "LGA4677")
BOARD_FORMS = ("ATX", "mATX", "E-ATX", "SSI-EEB", "ITX", "EEB")
MEMORY_TYPES = ("DDR4", "DDR5", "DDR5 RDIMM", "DDR4 RDIMM")
INTERFACES = ("PCIe 3.0 x4", "PCIe 4.0 x4", "PCIe 5.0 x4", "SATA 6Gb/s")
EFFICIENCIES = ("80+ Bronze", "80+ Gold", "80+ Platinum", "80+ Titanium")
_LANES = ("1", "2", "4", "8", "16")
_YEAR = (1990, 2100)


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message is one line naming file, line and column."""


@dataclass(frozen=True)
class _Col:
    name: str
    kind: str = "str"        # str | int | float | bool | date | ints | strs
    optional: bool = False   # may the cell be empty?
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    pattern: str = ""


def _c(name: str, kind: str = "str", lo: float | None = None, hi: float | None = None,
       **kw: Any) -> _Col:
    return _Col(name, kind, lo=lo, hi=hi, **kw)


_ID = _c("id", pattern=r"[a-z0-9][a-z0-9._-]*")
_PRICE = (_c("price_inr", "float", 1, 1e9, optional=True),
          _c("price_usd", "float", 0.01, 1e7, optional=True),
          _c("price_date", "date"), _c("price_kind", choices=PRICE_KINDS), _c("source"),
          _c("notes", optional=True))

# Ranges are sanity bounds (typo guards), wide enough for every part sold for DL machines.
SCHEMA: dict[str, tuple[_Col, ...]] = {
    "gpus": (_ID, _c("name"), _c("vendor", choices=("NVIDIA",)),
             _c("architecture", choices=ARCHITECTURES),
             _c("compute_capability", pattern=r"\d{1,2}\.\d"),
             _c("vram_gb", "float", 1, 300), _c("memory_type"),
             _c("mem_bw_gbs", "float", 10, 30000), _c("cuda_cores", "int", 1, 100000),
             _c("fp32_tflops", "float", 0.1, 1000),
             _c("tensor_fp16_tflops", "float", 0.1, 20000, optional=True),
             _c("tensor_bf16_tflops", "float", 0.1, 20000, optional=True),
             _c("tensor_tf32_tflops", "float", 0.1, 20000, optional=True),
             _c("tensor_accumulate", choices=("fp32", "fp16"), optional=True),
             _c("tdp_w", "float", 10, 1500), _c("slot_width", "int", 1, 5),
             _c("length_mm", "float", 50, 450), _c("power_8pin", "int", 0, 4),
             _c("power_16pin", "int", 0, 2), _c("pcie_gen", "int", 1, 6),
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
             _c("connector_16pin", "int", 0, 4), _c("form_factor", choices=("ATX", "SFX")),
             *_PRICE),
    "cases": (_ID, _c("name"), _c("form_factors", "strs", choices=BOARD_FORMS),
              _c("max_gpu_length_mm", "int", 100, 600), _c("expansion_slots", "int", 1, 20),
              *_PRICE),
    "rates": (_c("currency", pattern=r"[A-Z]{3}"), _c("inr_per_unit", "float", 0.0001, 100000),
              _c("date", "date"), _c("source")),
}
_RECORD = {"gpus": parts.Gpu, "cpus": parts.Cpu, "motherboards": parts.Motherboard,
           "memory": parts.MemoryKit, "storage": parts.Storage, "psus": parts.Psu,
           "cases": parts.Case}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class _Row:
    """One validated CSV row before prices are resolved (rates may still change)."""

    values: dict[str, Any]
    where: str  # "catalog/gpus.csv line 7" for messages about this row
    price_where: str = ""  # where its price came from, when an overlay's price row set it


def _convert(col: _Col, text: str, where: str, today: date) -> Any:
    def bad(why: str) -> CatalogError:
        return CatalogError(f"{where}, column {col.name}: {text!r} {why}")

    if col.kind in ("ints", "strs"):
        items = [t.strip() for t in text.split(";")]
        if any(not t for t in items):
            raise bad("has an empty item (lists are ';'-separated, e.g. 1;4;7)")
        item = dataclasses.replace(col, kind="int" if col.kind == "ints" else "str")
        return tuple(_convert(item, t, where, today) for t in items)
    if col.kind == "str":
        value: Any = text
        if col.pattern and not re.fullmatch(col.pattern, text):
            raise bad(f"does not match the expected form {col.pattern}")
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
        if value > today:
            raise bad(f"is in the future (today is {today.isoformat()})")
    if col.choices and str(value) not in col.choices:
        raise bad(f"is not one of: {', '.join(col.choices)}")
    if col.lo is not None and value < col.lo:
        raise bad(f"is below the plausible minimum {col.lo:g}")
    if col.hi is not None and value > col.hi:
        raise bad(f"is above the plausible maximum {col.hi:g}")
    return value


def _read_csv(path: Path, shown: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, cells) of each non-blank row; every cell a stripped string.

    The standard library's strict reader, not pandas: pandas renames a repeated or unnamed column
    (``id.1``, ``Unnamed: 1``) and only warns when the first row has more cells than the header,
    dropping them. Line numbers are physical lines, so a quoted cell spanning lines counts right.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: tolerate Excel's byte-order mark
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{shown}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:  # a folder named gpus.csv, a broken link, no permission
        raise CatalogError(f"{shown}: cannot read it ({exc.strerror or exc})") from None
    # skipinitialspace: "a, b" is two cells "a" and "b", and a quoted cell after ", " still counts.
    reader = csv.reader(io.StringIO(text), strict=True, skipinitialspace=True)
    header: list[str] | None = None
    rows = []
    line = 1
    try:
        for record in reader:
            cells = [c.strip() for c in record]
            if header is None:
                if any(cells):
                    header = cells
                    _check_names(header, shown, line)
            elif len(cells) > len(header):
                raise CatalogError(f"{shown} line {line}: {len(cells)} cells but the header has "
                                   f"{len(header)} columns (quote a cell that holds a comma)")
            elif any(cells):
                cells += [""] * (len(header) - len(cells))
                rows.append((line, dict(zip(header, cells, strict=True))))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise CatalogError(f"{shown} line {line}: not valid CSV ({exc})") from None
    if header is None:
        raise CatalogError(f"{shown}: file is empty (it needs a header row)")
    return header, rows


def _check_names(header: list[str], shown: str, line: int) -> None:
    nameless = [str(i) for i, h in enumerate(header, 1) if not h]
    if nameless:
        raise CatalogError(f"{shown} line {line}: column {', '.join(nameless)} has no name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise CatalogError(f"{shown} line {line}: column(s) {', '.join(dupes)} appear twice")


def _check_header(kind: str, header: list[str], shown: str, overlay: bool) -> None:
    known = {col.name for col in SCHEMA[kind]}
    unknown = [h for h in header if h not in known and not h.startswith("x_")]
    if unknown:
        raise CatalogError(f"{shown} line 1: unknown column(s) {', '.join(unknown)} (expected "
                           f"{', '.join(sorted(known))}; prefix free notes with x_)")
    key = "currency" if kind == "rates" else "id"
    needed = [c.name for c in SCHEMA[kind] if not c.optional]
    missing = [n for n in needed if n not in header]
    if key in missing or (missing and not overlay):
        raise CatalogError(f"{shown} line 1: missing column(s) {', '.join(missing)}")


def _is_price_row(kind: str, cells: dict[str, str]) -> bool:
    ignore = {"id", "name", "notes", *PRICE_COLUMNS}
    return kind != "rates" and not any(v for k, v in cells.items()
                                       if k not in ignore and not k.startswith("x_"))


def _parse_row(kind: str, cells: dict[str, str], where: str, today: date,
               price_only: bool = False) -> dict[str, Any]:
    columns = [c for c in SCHEMA[kind]
               if not price_only or c.name in ("id", "notes", *PRICE_COLUMNS)]
    values: dict[str, Any] = {}
    for col in columns:
        text = cells.get(col.name, "")
        if not text:
            if not col.optional:
                raise CatalogError(f"{where}, column {col.name}: value is missing")
            values[col.name] = None
            continue
        values[col.name] = _convert(col, text, where, today)
    if kind == "rates":
        if values["currency"] == "INR":  # money.py and the recommender take INR as exactly 1
            raise CatalogError(f"{where}, column currency: INR is the base currency (1 INR = 1); "
                               "give rates of other currencies in INR")
    else:
        _check_row("prices" if price_only else kind, values, where)
    return values


def _check_row(kind: str, v: dict[str, Any], where: str) -> None:
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
    elif kind == "motherboards":
        pos, lanes = v["x16_slot_positions"], v["x16_slot_lanes"]
        if len(pos) != len(lanes):
            raise bad("x16_slot_lanes", f"has {len(lanes)} item(s) but x16_slot_positions has "
                      f"{len(pos)}")
        if any(b <= a for a, b in zip(pos, pos[1:], strict=False)):
            raise bad("x16_slot_positions", f"{';'.join(map(str, pos))} is not strictly "
                      "increasing")


def _read_kind(kind: str, folder: Path, shown_folder: str, today: date, overlay: bool,
               rows: dict[str, _Row]) -> None:
    """Validate one file and merge its rows into ``rows`` (keyed by id/currency)."""
    path = folder / f"{kind}.csv"
    shown = f"{shown_folder}/{kind}.csv"
    if not os.path.lexists(path):  # lexists: a broken link is there, and an error below
        if overlay:
            return
        raise CatalogError(f"{shown}: file is missing")
    header, raw = _read_csv(path, shown)
    _check_header(kind, header, shown, overlay)
    key = "currency" if kind == "rates" else "id"
    seen: dict[str, int] = {}
    for line, cells in raw:
        where = f"{shown} line {line}"
        ident = cells.get(key, "")
        if ident in seen:
            raise CatalogError(f"{where}, column {key}: {ident!r} already on line {seen[ident]}")
        seen[ident] = line
        if overlay and _is_price_row(kind, cells):
            update = _parse_row(kind, cells, where, today, price_only=True)
            if update["id"] not in rows:
                raise CatalogError(f"{where}, column id: {ident!r} is not in the catalog; a "
                                   "price row only updates a known part (a new part needs "
                                   "every column)")
            old = rows[update["id"]]
            if update["notes"] is None:
                update["notes"] = old.values["notes"]
            rows[update["id"]] = _Row({**old.values, **update}, old.where, where)
            continue
        values = _parse_row(kind, cells, where, today)
        rows[values[key]] = _Row(values, where)


def _price(row: _Row, usd_rate: parts.Rate | None) -> parts.Price:
    v = row.values
    inr, usd, kind = v["price_inr"], v["price_usd"], v["price_kind"]
    if usd is not None and (inr is None or kind == "derived"):
        if usd_rate is None:
            raise CatalogError(f"{row.price_where or row.where}, column price_usd: deriving INR "
                               "needs a USD rate in rates.csv (or --rate USD=<INR per USD>)")
        inr, kind = usd * usd_rate.inr_per_unit, "derived"
    return parts.Price(inr=float(inr), usd=usd, date=v["price_date"], kind=kind,
                       source=v["source"])


def _check_references(tables: dict[str, dict[str, _Row]]) -> None:
    cpu_sockets = {r.values["socket"] for r in tables["cpus"].values()}
    board_sockets = {r.values["socket"] for r in tables["motherboards"].values()}
    kit_types = {r.values["memory_type"] for r in tables["memory"].values()}
    for row in tables["motherboards"].values():
        if row.values["socket"] not in cpu_sockets:
            raise CatalogError(f"{row.where}, column socket: no CPU in cpus.csv has socket "
                               f"{row.values['socket']!r}")
        if row.values["memory_type"] not in kit_types:
            raise CatalogError(f"{row.where}, column memory_type: no kit in memory.csv is "
                               f"{row.values['memory_type']!r}")
    for row in tables["cpus"].values():
        if row.values["socket"] not in board_sockets:
            raise CatalogError(f"{row.where}, column socket: no motherboard in "
                               f"motherboards.csv has socket {row.values['socket']!r}")


def load_catalog(overlays: Sequence[Path] = (), rates: Mapping[str, float] | None = None,
                 base: Path | None = None, today: date | None = None) -> parts.Catalog:
    """The bundled catalog (or ``base``) with ``overlays`` applied in order and ``rates``
    (currency -> INR per unit, e.g. from ``--rate USD=88.5``) overriding ``rates.csv``.

    ``today`` (default: the system date) bounds price and rate dates. Raises :class:`CatalogError`.
    """
    today = today or date.today()
    if base is None:
        try:
            folders = [(paths.catalog_dir(), "catalog", False)]
        except FileNotFoundError as exc:
            raise CatalogError(str(exc)) from None
    else:
        folders = [(Path(base), str(base), False)]
    folders += [(Path(o), str(o), True) for o in overlays]
    for folder, shown, _ in folders:
        if not folder.is_dir():
            raise CatalogError(f"{shown}: not a folder (a catalog is a folder of CSV files)")
    tables: dict[str, dict[str, _Row]] = {kind: {} for kind in FILES}
    for folder, shown, overlay in folders:
        for kind in FILES:
            _read_kind(kind, folder, shown, today, overlay, tables[kind])
    for kind in KINDS:
        if not tables[kind]:
            raise CatalogError(f"{folders[0][1]}/{kind}.csv: has no rows")
    _check_references(tables)
    rate_rows = {c: parts.Rate(**r.values) for c, r in tables["rates"].items()}
    for currency, value in (rates or {}).items():
        code = currency.upper()
        if code == "INR" or not value > 0:
            raise CatalogError(f"--rate {currency}={value}: give a positive INR per unit for a "
                               "currency other than INR")
        rate_rows[code] = parts.Rate(code, float(value), today, f"--rate {code}={value:g}")
    usd = rate_rows.get("USD")
    built: dict[str, tuple[Any, ...]] = {}
    for kind in KINDS:
        items = []
        for ident in sorted(tables[kind]):
            row = tables[kind][ident]
            fields = {k: v for k, v in row.values.items() if k not in PRICE_COLUMNS}
            fields["notes"] = fields["notes"] or ""
            if kind == "gpus":
                fields["tensor_accumulate"] = fields["tensor_accumulate"] or ""
            items.append(_RECORD[kind](**fields, price=_price(row, usd)))
        built[kind] = tuple(items)
    return parts.Catalog(**built, rates=tuple(rate_rows[c] for c in sorted(rate_rows)),
                         sources=tuple(shown for _, shown, _ in folders))


# ----- helpers over a loaded catalog (pure) ---------------------------------------------

def rate_table(catalog: parts.Catalog) -> dict[str, float]:
    """Currency -> INR per unit, with INR itself at 1; what :mod:`rigcheck.money` takes."""
    return {"INR": 1.0, **{r.currency: r.inr_per_unit for r in catalog.rates}}


def all_parts(catalog: parts.Catalog) -> tuple[Any, ...]:
    return tuple(p for kind in KINDS for p in getattr(catalog, kind))


def price_age_days(part: Any, today: date) -> int:
    return (today - part.price.date).days


def catalog_age_days(catalog: parts.Catalog, today: date) -> int | None:
    """Days since the catalog's newest price: how long ago it was last brought up to date."""
    newest = catalog.newest_price_date()
    return None if newest is None else (today - newest).days


def stale_parts(items: Sequence[Any], today: date,
                max_age_days: int = STALE_AFTER_DAYS) -> list[Any]:
    """Parts whose price was seen more than ``max_age_days`` ago."""
    return [p for p in items if price_age_days(p, today) > max_age_days]


def gpu_ratios(gpu: parts.Gpu) -> dict[str, float | None]:
    """INR per unit of what a DL buyer pays for (None where the card lacks the unit)."""
    inr = gpu.price.inr
    tensor = gpu.tensor_fp16_tflops
    return {
        "inr_per_tensor_tflop": round(inr / tensor, 2) if tensor else None,
        "inr_per_vram_gb": round(inr / gpu.vram_gb, 2),
        "inr_per_fp32_tflop": round(inr / gpu.fp32_tflops, 2),
    }


def part_to_dict(part: Any) -> dict[str, Any]:
    """A part (or rate) as plain JSON-ready data: CSV column names, ISO dates, lists for tuples.

    The price is flattened to ``price_inr``, ``price_usd``, ``price_date``, ``price_kind`` and
    ``source`` as in the CSV; memory kits also get ``capacity_gb``.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(part):
        value = getattr(part, f.name)
        if isinstance(value, parts.Price):
            out.update(price_inr=round(value.inr, 2), price_usd=value.usd,
                       price_date=value.date.isoformat(), price_kind=value.kind,
                       source=value.source)
        elif isinstance(value, date):
            out[f.name] = value.isoformat()
        elif isinstance(value, tuple):
            out[f.name] = list(value)
        else:
            out[f.name] = value
    if isinstance(part, parts.MemoryKit):
        out["capacity_gb"] = part.capacity_gb
    return out

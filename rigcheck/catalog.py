"""Load and validate the parts catalog (``catalog/*.csv``) into :class:`rigcheck.parts.Catalog`.

The CSV contract is ``catalog/README.md``: one file per part kind, a header row, columns named as
the fields of :mod:`rigcheck.parts`, ``x_`` columns ignored, empty cell = missing. Every cell is
checked (the columns and row rules are :mod:`rigcheck.catalog_schema`) and any problem raises :class:`CatalogError` whose one-line message names the file,
the CSV line and the column, e.g. ``catalog/gpus.csv line 7, column vram_gb: 'abc' is not a
number`` (physical lines, so a quoted cell spanning lines is counted right).

Overlays (``--catalog DIR``, repeatable, applied in order) use the same schema; any subset of the
twelve files (the eight part and rate files, systems, landed, cloud, tariff) may be present:

* a row whose ``id`` is new adds a part; a row whose ``id`` exists replaces the whole part;
* a *price row* gives only ``id`` and price columns (``price_inr``/``price_usd``, ``price_date``,
  ``price_kind``, ``source``, ``price_basis``; ``name`` and ``notes`` may be filled too): only
  that part's price (and notes) change, so a shop's price list is just ``id,name,price_inr,price_date,price_kind,
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
import difflib
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rigcheck import money, parts, paths
from rigcheck.catalog_schema import (  # CatalogError re-exported
    LANDED_FACTORS,
    PRICE_COLUMNS,
    PRICED,
    SCHEMA,
    CatalogError,
    parse_row,
)

# Prices move fast (a 5090 went from $1,999 MSRP to $3,650+ street in 2026, issue 2), so a price
# seen more than about six months ago is flagged as old.
STALE_AFTER_DAYS = 180

KINDS = ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases")
FILES = (*KINDS, "rates")
# Files a catalog may lack (an older or a partial catalog): none of their rows is then known.
OPTIONAL_FILES = ("systems", "landed", "cloud", "tariff")
ALL_FILES = (*FILES, *OPTIONAL_FILES)

_RECORD = {"gpus": parts.Gpu, "cpus": parts.Cpu, "motherboards": parts.Motherboard,
           "memory": parts.MemoryKit, "storage": parts.Storage, "psus": parts.Psu,
           "cases": parts.Case, "systems": parts.System}
_PLAIN = {"landed": parts.LandedFactor, "cloud": parts.CloudOffer, "tariff": parts.Tariff}


def _key_of(kind: str, cells: Mapping[str, Any]) -> str:
    """What identifies a row of ``kind`` (an overlay row with the same key replaces it)."""
    if kind == "rates":
        return str(cells.get("currency", "")).upper()  # as parse_row reads it
    if kind == "landed":
        return f"{str(cells.get('kind', '')).lower()}/{str(cells.get('factor', '')).lower()}"
    return str(cells.get("id", ""))


@dataclass
class _Row:
    """One validated CSV row before prices are resolved (rates may still change)."""

    values: dict[str, Any]
    where: str  # "catalog/gpus.csv line 7" for messages about this row
    price_where: str = ""  # where its price came from, when an overlay's price row set it


def _read_csv(path: Path, shown: str
              ) -> tuple[int, list[str], list[tuple[int, dict[str, str]]]]:
    """The header's line, the header, and (line number, cells) of each non-blank row; every cell a
    stripped string (blank lines before the header are skipped, and counted).

    The standard library's strict reader, not pandas: pandas renames a repeated or unnamed column
    (``id.1``, ``Unnamed: 1``) and only warns when the first row has more cells than the header,
    dropping them. Line numbers are physical lines, so a quoted cell spanning lines counts right.
    """
    save_as = "save it as CSV UTF-8 (Excel: File > Save As > 'CSV UTF-8')"
    try:
        data = path.read_bytes()
    except OSError as exc:  # a folder named gpus.csv, a broken link, no permission
        raise CatalogError(f"{shown}: cannot read it ({exc.strerror or exc})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Unicode Text", PowerShell 5 `>`
        raise CatalogError(f"{shown}: UTF-16 text; {save_as}")
    try:
        text = data.decode("utf-8-sig")  # -sig: tolerate Excel's byte-order mark
    except UnicodeDecodeError as exc:  # usually Windows-1252 from an older Excel
        raise CatalogError(f"{shown}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                           f"{save_as}") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # skipinitialspace: "a, b" is two cells "a" and "b", and a quoted cell after ", " still counts.
    reader = csv.reader(io.StringIO(text), strict=True, skipinitialspace=True)
    header: list[str] | None = None
    rows = []
    line = header_line = 1
    try:
        for record in reader:
            cells = [c.strip() for c in record]
            if header is None:
                if any(cells):
                    header, header_line = cells, line
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
    return header_line, header, rows


def _check_names(header: list[str], shown: str, line: int) -> None:
    nameless = [str(i) for i, h in enumerate(header, 1) if not h]
    if nameless:
        raise CatalogError(f"{shown} line {line}: column {', '.join(nameless)} has no name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise CatalogError(f"{shown} line {line}: column(s) {', '.join(dupes)} appear twice")


def _check_header(kind: str, header: list[str], where: str, overlay: bool) -> None:
    known = {col.name for col in SCHEMA[kind]}
    unknown = [h for h in header if h not in known and not h.startswith("x_")]
    if unknown:
        raise CatalogError(f"{where}: unknown column(s) {', '.join(unknown)} (expected "
                           f"{', '.join(sorted(known))}; prefix free notes with x_)")
    keys = {"rates": ("currency",), "landed": ("kind", "factor")}.get(kind, ("id",))
    needed = [c.name for c in SCHEMA[kind] if not c.optional]
    missing = [n for n in needed if n not in header]
    if any(k in missing for k in keys) or (missing and (not overlay or kind not in PRICED)):
        raise CatalogError(f"{where}: missing column(s) {', '.join(missing)}")


def _is_price_row(kind: str, cells: dict[str, str]) -> bool:
    ignore = {"id", "name", "notes", *PRICE_COLUMNS}
    return kind in PRICED and not any(v for k, v in cells.items()
                                       if k not in ignore and not k.startswith("x_"))


def _read_kind(kind: str, folder: Path, shown_folder: str, today: date, overlay: bool,
               rows: dict[str, _Row]) -> None:
    """Validate one file and merge its rows into ``rows`` (keyed by id/currency)."""
    path = folder / f"{kind}.csv"
    shown = f"{shown_folder}/{kind}.csv"
    if not os.path.lexists(path):  # lexists: a broken link is there, and an error below
        if overlay or kind in OPTIONAL_FILES:
            return
        raise CatalogError(f"{shown}: file is missing")
    header_line, header, raw = _read_csv(path, shown)
    _check_header(kind, header, f"{shown} line {header_line}", overlay)
    key = {"rates": "currency", "landed": "factor"}.get(kind, "id")
    seen: dict[str, int] = {}
    for line, cells in raw:
        where = f"{shown} line {line}"
        ident = _key_of(kind, cells)
        if ident in seen:
            raise CatalogError(f"{where}, column {key}: {ident!r} already on line {seen[ident]}")
        seen[ident] = line
        if overlay and _is_price_row(kind, cells):
            update = parse_row(kind, cells, where, today, price_only=True)
            if update["id"] not in rows:
                from rigcheck.suggest import did_you_mean

                raise CatalogError(f"{where}, column id: {ident!r} is not in the catalog"
                                   f"{did_you_mean(str(ident), rows)}; a "
                                   "price row only updates a known part (a new part needs "
                                   "every column)")
            old = rows[update["id"]]
            if update["notes"] is None:
                update["notes"] = old.values["notes"]
            rows[update["id"]] = _Row({**old.values, **update}, old.where, where)
            continue
        values = parse_row(kind, cells, where, today)
        rows[_key_of(kind, values)] = _Row(values, where)


# catalog file -> landed.csv kind
LANDED_KIND = {"gpus": "gpu", "cpus": "cpu", "motherboards": "motherboard", "memory": "memory",
               "storage": "storage", "psus": "psu", "cases": "case", "systems": "server"}


def _price(row: _Row, usd_rate: parts.Rate | None, landed: float | None = None) -> parts.Price:
    """The row's price in INR: the INR quote when given, else USD x rate x ``landed`` (the
    kind's landed-cost multiplier; None: no landed factors, a plain conversion)."""
    v = row.values
    inr, usd, kind = v["price_inr"], v["price_usd"], v["price_kind"]
    origin, multiplier = "quote", 1.0
    if usd is not None and (inr is None or kind == "derived"):
        if usd_rate is None:
            raise CatalogError(f"{row.price_where or row.where}, column price_usd: deriving INR "
                               "needs a USD rate in rates.csv (or --rate USD=<INR per USD>)")
        origin, multiplier = ("landed", landed) if landed is not None else ("conversion", 1.0)
        inr, kind = usd * usd_rate.inr_per_unit * multiplier, "derived"
    return parts.Price(inr=float(inr), usd=usd, date=v["price_date"], kind=kind,
                       source=v["source"], basis=v["price_basis"] or "", origin=origin,
                       landed_multiplier=multiplier)


def landed_multipliers(factors: Sequence[parts.LandedFactor]) -> dict[str, float]:
    """landed.csv kind -> multiplier on a converted foreign price (money.landed_multiplier)."""
    by_kind: dict[str, dict[str, float]] = {}
    for f in factors:
        by_kind.setdefault(f.kind, {})[f.factor] = f.pct
    return {kind: money.landed_multiplier(pct["bcd"], pct["sws"], pct["igst"], pct["margin"])
            for kind, pct in by_kind.items() if all(k in pct for k in LANDED_FACTORS)}


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
    gpu_ids = set(tables["gpus"])
    for row in tables["systems"].values():
        unknown = [g for g in row.values["gpu_ids"] if g not in gpu_ids]
        if unknown:
            raise CatalogError(f"{row.where}, column gpu_ids: {unknown[0]!r} is not in gpus.csv")
    currencies = {"INR", *tables["rates"]}
    for row in tables["cloud"].values():
        gpu_id = row.values["gpu_id"]
        if gpu_id and gpu_id not in gpu_ids:
            raise CatalogError(f"{row.where}, column gpu_id: {gpu_id!r} is not in gpus.csv "
                               "(leave it empty for a card the catalog lacks)")
        if row.values["currency"] not in currencies:
            raise CatalogError(f"{row.where}, column currency: no rate for "
                               f"{row.values['currency']} in rates.csv")
    # A kind in landed.csv has all four factors: a missing one would silently count as 0%.
    by_kind: dict[str, list[_Row]] = {}
    for row in tables["landed"].values():
        by_kind.setdefault(row.values["kind"], []).append(row)
    for kind, rows in sorted(by_kind.items()):
        have = {r.values["factor"] for r in rows}
        lacking = [f for f in LANDED_FACTORS if f not in have]
        if lacking:
            raise CatalogError(f"{rows[-1].where}, column factor: kind {kind} has no "
                               f"{', '.join(lacking)} row (give every factor; 0 where none "
                               "applies)")


def _check_overlay_names(folder: Path, shown: str) -> None:
    """An overlay skips the files it lacks, so a misnamed one (gpu.csv) would be silently ignored
    and the old prices used: every CSV in an overlay must be a catalog file."""
    expected = [f"{kind}.csv" for kind in ALL_FILES]
    names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".csv")
    for name in names:
        # "GPUs.csv" is gpus.csv where the file system ignores case (macOS, Windows).
        if name in expected or (name.lower() in expected and (folder / name.lower()).exists()):
            continue
        close = difflib.get_close_matches(name.lower(), expected, n=1, cutoff=0.9)
        hint = f"did you mean {close[0]}" if close else f"expected {', '.join(expected)}"
        raise CatalogError(f"{shown}/{name}: not a catalog file; {hint}?")
    if not names:
        raise CatalogError(f"{shown}: no catalog CSV files in it (expected any of "
                           f"{', '.join(expected)})")


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
    for folder, shown, overlay in folders:
        if not folder.is_dir():
            raise CatalogError(f"{shown}: not a folder (a catalog is a folder of CSV files)")
        if overlay:
            _check_overlay_names(folder, shown)
    tables: dict[str, dict[str, _Row]] = {kind: {} for kind in ALL_FILES}
    for folder, shown, overlay in folders:
        for kind in ALL_FILES:
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
    landed_rows = tuple(parts.LandedFactor(**{**r.values, "note": r.values["note"] or ""})
                        for _, r in sorted(tables["landed"].items()))
    multipliers = landed_multipliers(landed_rows)
    built: dict[str, tuple[Any, ...]] = {}
    for kind in (*KINDS, "systems"):
        items = []
        for ident in sorted(tables[kind]):
            row = tables[kind][ident]
            fields = {k: v for k, v in row.values.items() if k not in PRICE_COLUMNS}
            fields["notes"] = fields["notes"] or ""
            if kind == "gpus":
                fields["tensor_accumulate"] = fields["tensor_accumulate"] or ""
            items.append(_RECORD[kind](**fields, price=_price(
                row, usd, multipliers.get(LANDED_KIND[kind]))))
        built[kind] = tuple(items)
    for kind, record in _PLAIN.items():
        if kind == "landed":
            built["landed"] = landed_rows
            continue
        items = []
        for ident in sorted(tables[kind]):
            fields = dict(tables[kind][ident].values)
            for name in ("note", "gpu_id"):
                if name in fields:
                    fields[name] = fields[name] or ""
            items.append(record(**fields))
        built["tariffs" if kind == "tariff" else kind] = tuple(items)
    return parts.Catalog(**built, rates=tuple(rate_rows[c] for c in sorted(rate_rows)),
                         sources=tuple(shown for _, shown, _ in folders))


# ----- helpers over a loaded catalog (pure) ---------------------------------------------

def rate_table(catalog: parts.Catalog) -> dict[str, float]:
    """Currency -> INR per unit, with INR itself at 1; what :mod:`rigcheck.money` takes."""
    return {"INR": 1.0, **{r.currency: r.inr_per_unit for r in catalog.rates}}


def all_parts(catalog: parts.Catalog) -> tuple[Any, ...]:
    return tuple(p for kind in KINDS for p in getattr(catalog, kind))


def price_age_days(part: Any, today: date) -> int:
    return int((today - part.price.date).days)


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

    The price is flattened to ``price_inr``, ``price_usd``, ``price_date``, ``price_kind``,
    ``source`` and ``price_basis`` (``""`` when not stated) as in the CSV; memory kits also get
    ``capacity_gb``.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(part):
        value = getattr(part, f.name)
        if isinstance(value, parts.Price):
            out.update(price_inr=round(value.inr, 2), price_usd=value.usd,
                       price_date=value.date.isoformat(), price_kind=value.kind,
                       source=value.source, price_basis=value.basis)
        elif isinstance(value, date):
            out[f.name] = value.isoformat()
        elif isinstance(value, tuple):
            out[f.name] = list(value)
        else:
            out[f.name] = value
    if isinstance(part, parts.MemoryKit):
        out["capacity_gb"] = part.capacity_gb
    return out

"""``rigcheck catalog import FILE``: a shop's price list -> an overlay of price rows.

Reads three formats: a CSV with a name column and a price column (any of the usual headers: name,
item, product, description / price, price_inr, mrp, amount, rate; optional id, type or category,
url), the text export of a PCPartPicker list ("CPU: AMD Ryzen 5 7600X ... ($199.00 @ Amazon)"),
and its Markdown export (a ``Type|Item|Price`` table). Each priced line is matched to a catalog id
by the words of the part's name (:func:`match_line`); unmatched and ambiguous lines are reported,
never guessed. Parsing and matching are pure; :func:`write_overlay` is the only function that
touches files: it writes the new overlay beside the old one, checks that the catalog loads with
it, and only then swaps it in, so a failure leaves the old overlay as it was.

The overlay lives in the user data directory (``rigcheck.paths.user_data_dir()/catalog-overlay``)
and ``recommend`` and ``catalog`` apply it before any ``--catalog DIR`` until
``rigcheck catalog import --remove``.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rigcheck import money, parts, paths
from rigcheck.catalog import KINDS, CatalogError, load_catalog

OVERLAY_NAME = "catalog-overlay"
# What a price list can price: the parts, and complete systems (a reseller's quote for a GPU
# server, catalog/systems.csv).
IMPORT_KINDS = (*KINDS, "systems")
# PCPartPicker's part types and the words shops use -> catalog file.
TYPE_WORDS = {
    "video card": "gpus", "graphics card": "gpus", "gpu": "gpus", "graphics": "gpus",
    "cpu": "cpus", "processor": "cpus",
    "motherboard": "motherboards", "mobo": "motherboards", "board": "motherboards",
    "memory": "memory", "ram": "memory",
    "storage": "storage", "ssd": "storage", "hdd": "storage",
    "power supply": "psus", "psu": "psus", "smps": "psus",
    "case": "cases", "cabinet": "cases", "chassis": "cases",
    "system": "systems", "complete system": "systems", "server": "systems",
    "gpu server": "systems", "workstation": "systems",
}
NAME_HEADERS = ("name", "item", "product", "product name", "description", "part", "model")
# What the buyer pays first: a shop's offer price, before its MRP sticker.
PRICE_HEADERS = ("price", "price_inr", "price (inr)", "price inr", "offer price",
                 "selling price", "sale price", "our price", "amount", "rate", "cost", "mrp",
                 "price_usd")
# Words a model name is told apart by, beside the tokens with digits (RTX 4070 vs 4070 Super).
_MODEL_WORDS = {"ti", "super", "xt", "xtx", "x3d", "pro", "max", "plus"}
_ALL_CURRENCIES = {"INR": 1.0, "USD": 1.0, "EUR": 1.0, "GBP": 1.0}


class ImportError_(ValueError):  # noqa: N801 (ImportError is a builtin)
    """A price list that cannot be read; the message is one line."""


@dataclass(frozen=True)
class Line:
    number: int                      # line in the file
    name: str
    price: float
    currency: str                    # "INR" | "USD" | ...
    kind: str | None                 # catalog file when the line says (Type column), else None
    shop: str = ""
    part_id: str = ""                # an id given by the list itself (CSV id column)


@dataclass(frozen=True)
class Match:
    line: Line
    kind: str | None = None
    part_id: str = ""
    candidates: tuple[str, ...] = ()  # ambiguous: the ids it could be
    why: str = ""                     # unmatched: why


# ---- parsing ---------------------------------------------------------------------------------

def parse_price(text: str, where: str) -> tuple[float, str]:
    """'₹58,999.00', 'Rs. 58999', '$199.00', '199 USD' -> (amount, currency); a bare number is
    INR."""
    cleaned = text.strip().replace("\u00a0", " ")
    cleaned = re.sub(r"(?i)^(purchased for|price:?)\s*", "", cleaned)
    try:
        b = money.parse_budget(cleaned, _ALL_CURRENCIES)
    except money.MoneyError:
        raise ImportError_(f"{where}: {text.strip()!r} is not a price") from None
    return b.amount, b.currency


def _tokens(text: str) -> list[str]:
    # "16GB" -> "16 gb", "DDR5-6000" -> "ddr5 6000", "G.Skill" -> "g skill"
    spaced = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d{3,})", " ", text.lower())
    return re.findall(r"[a-z0-9]+", spaced)


def _kind_of(text: str) -> str | None:
    return TYPE_WORDS.get(" ".join(_tokens(text.replace("*", ""))))


_PCPP_TEXT = re.compile(r"^(?P<type>[A-Za-z][A-Za-z ]*):\s+(?P<name>.+?)\s+"
                        r"\((?P<price>[^()@]*?)(?:\s*@\s*(?P<shop>[^()]*))?\)\s*$")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def parse_pcpartpicker(text: str, shown: str) -> list[Line]:
    lines = []
    for n, raw in enumerate(text.splitlines(), start=1):
        row = raw.strip()
        if "|" in row:                                   # the Markdown export's table
            cells = [c.strip() for c in row.strip("|").split("|")]
            if len(cells) < 3 or set(cells[0]) <= set(":- ") or cells[0].lower() == "type":
                continue
            kind_text, item, price = cells[0], _MD_LINK.sub(r"\1", cells[1]), cells[2]
            if not kind_text or not item or not price or "total" in item.lower():
                continue
            price_text, _, shop = price.partition("@")
        else:
            m = _PCPP_TEXT.match(row)
            if not m or m["type"].lower().startswith(("total", "pcpartpicker")):
                continue
            kind_text, item, price_text, shop = m["type"], m["name"], m["price"], m["shop"] or ""
        if not re.search(r"\d", price_text):
            continue                                     # "No Prices Available"
        amount, currency = parse_price(price_text, f"{shown} line {n}")
        lines.append(Line(n, item.strip(), amount, currency, _kind_of(kind_text),
                          shop.strip()))
    return lines


def parse_csv(text: str, shown: str) -> list[Line]:
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    try:
        # Each row with the file line it ends on, so blank rows do not shift later line numbers.
        rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise ImportError_(f"{shown}: not valid CSV ({exc})") from None
    if not rows:
        raise ImportError_(f"{shown}: the file is empty")
    header_line, first = rows[0]
    header = [h.strip().lower() for h in first]

    def column(names: Sequence[str]) -> int | None:
        return next((header.index(n) for n in names if n in header), None)

    name_col, price_col = column(NAME_HEADERS), column(PRICE_HEADERS)
    if name_col is None or price_col is None:
        missing = "name column" if name_col is None else "price column"
        raise ImportError_(f"{shown} line {header_line}: no {missing} (expected a header such as "
                           "name,price or item,price_inr)")
    usd_column = header[price_col] == "price_usd"
    id_col, kind_col = column(("id",)), column(("type", "category", "kind"))
    shop_col = column(("shop", "store", "seller", "vendor"))
    lines = []
    for n, row in rows[1:]:
        cells = [c.strip() for c in row] + [""] * len(header)
        name, price_text = cells[name_col], cells[price_col]
        if not price_text:
            continue
        where = f"{shown} line {n}, column {header[price_col]}"
        if usd_column and not re.search(r"[^\d.,\s]", price_text):
            price_text = "$" + price_text
        amount, currency = parse_price(price_text, where)
        kind = _kind_of(cells[kind_col]) if kind_col is not None else None
        lines.append(Line(n, name, amount, currency, kind,
                          cells[shop_col] if shop_col is not None else "",
                          cells[id_col] if id_col is not None else ""))
    return lines


def parse_file(path: Path) -> list[Line]:
    """The priced lines of a price list; raises :class:`ImportError_` (one line) when the file
    cannot be read or holds no priced line."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportError_(f"{shown}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError_(f"{shown}: not UTF-8 text; save it as CSV UTF-8 or plain "
                           "text") from None
    if "pcpartpicker" in text.lower()[:2000] or _PCPP_TEXT.search(text.split("\n", 3)[-1]
                                                                    or ""):
        lines = parse_pcpartpicker(text, shown)
    elif "," in text or ";" in text:
        lines = parse_csv(text, shown)
    else:
        lines = []
    if not lines:
        raise ImportError_(f"{shown}: no priced line found (expected a CSV with name and price "
                           "columns, or a PCPartPicker text or Markdown export)")
    return lines


# ---- matching --------------------------------------------------------------------------------

def _key(name: str) -> list[str]:
    """The words a catalog name is matched by: without its parenthetical notes
    ("Corsair RM750e (2023, ATX 3.0, 80+ Gold)" -> corsair rm750e)."""
    return _tokens(re.sub(r"\([^)]*\)", " ", name))


def _model(tokens: Sequence[str]) -> set[str]:
    return {t for t in tokens if re.search(r"\d", t) or t in _MODEL_WORDS}


def match_line(line: Line, catalog: parts.Catalog) -> Match:
    kinds = [line.kind] if line.kind else list(IMPORT_KINDS)
    pool = [(k, p) for k in kinds for p in getattr(catalog, k)]
    if line.part_id:
        hit = [(k, p) for k, p in pool if p.id == line.part_id]
        if hit:
            return Match(line, hit[0][0], hit[0][1].id)
        return Match(line, why=f"id {line.part_id!r} is not in the catalog")
    words = set(_tokens(line.name))
    strict = [(len(set(_key(p.name))), k, p) for k, p in pool if set(_key(p.name)) <= words]
    if strict:
        best = max(n for n, _, _ in strict)
        top = [(k, p) for n, k, p in strict if n == best]
        if len(top) == 1:
            return Match(line, top[0][0], top[0][1].id)
        return Match(line, candidates=tuple(sorted(p.id for _, p in top)))
    # The maker's or line's filler words differ ("Zotac RTX 4070 Twin Edge"): the model words
    # alone (digits, Ti, Super) must all be there, and every model word of the line's model
    # number must be the part's.
    relaxed = [(k, p) for k, p in pool if _model(_key(p.name)) and _model(_key(p.name)) <= words]
    numbers = {t for t in words if re.fullmatch(r"\d{3,5}[a-z]*", t)}
    # The line's model numbers narrow the list to the parts whose full name has them all, notes
    # included: "Tinybox green v2 (4x RTX PRO 6000)" is the system of RTX PRO 6000 cards, not the
    # pro v2 its "PRO" also fits.
    whole = [(k, p) for k, p in relaxed if numbers <= set(_tokens(p.name))]
    if whole:                        # (no numbers: every relaxed part)
        relaxed = whole
    if relaxed:
        most = max(len(_model(_key(p.name))) for _, p in relaxed)
        top = [(k, p) for k, p in relaxed if len(_model(_key(p.name))) == most]
        if len(top) == 1:
            return Match(line, top[0][0], top[0][1].id)
        return Match(line, candidates=tuple(sorted(p.id for _, p in top)))
    near = [p for _, p in pool if numbers & set(_key(p.name))]
    # "Zotac RTX 5060 Ti" names no memory size: the two 5060 Ti cards are what it may be, the
    # plain RTX 5060 (no "Ti") is not; the line's suffix words narrow the list when some part has them.
    suffix = words & _MODEL_WORDS
    narrowed = [p for p in near if suffix <= set(_key(p.name))]
    if narrowed:
        near = narrowed
    if near:
        return Match(line, candidates=tuple(sorted(p.id for p in near)[:6]))
    return Match(line, why="no catalog part has these words")


def match_all(lines: Sequence[Line], catalog: parts.Catalog) -> list[Match]:
    matches = [match_line(line, catalog) for line in lines]
    # Two lines for one part (two shops): the cheaper wins; the other is reported.
    best: dict[str, Match] = {}
    out = []
    for m in matches:
        if m.part_id and (m.part_id not in best or m.line.price < best[m.part_id].line.price):
            best[m.part_id] = m
    for m in matches:
        if m.part_id and best[m.part_id] is not m:
            out.append(Match(m.line, why=f"a cheaper line for {m.part_id} (line "
                             f"{best[m.part_id].line.number}) was kept"))
        else:
            out.append(m)
    return out


# ---- the overlay -----------------------------------------------------------------------------

HEADER = ("id", "price_inr", "price_usd", "price_date", "price_kind", "source", "price_basis")


def overlay_rows(matches: Sequence[Match], seen: date, file_name: str
                 ) -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = {}
    for m in matches:
        if not m.part_id or m.kind is None:
            continue
        line = m.line
        if line.currency not in ("INR", "USD"):
            continue
        shop = f" at {line.shop}" if line.shop else ""
        rows.setdefault(m.kind, []).append({
            "id": m.part_id,
            "price_inr": f"{line.price:g}" if line.currency == "INR" else "",
            "price_usd": f"{line.price:g}" if line.currency == "USD" else "",
            "price_date": seen.isoformat(), "price_kind": "street",
            "source": f"imported from {file_name} line {line.number}: {line.name[:100]!r}{shop}",
            "price_basis": "quote",
        })
    return rows


def overlay_dir() -> Path:
    return paths.user_data_dir() / OVERLAY_NAME


def user_overlays() -> list[Path]:
    """The imported overlay, when there is one (recommend and catalog apply it first)."""
    folder = overlay_dir()
    return [folder] if folder.is_dir() else []


def _read_overlay(folder: Path) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for kind in IMPORT_KINDS:
        path = folder / f"{kind}.csv"
        if path.is_file():
            with open(path, newline="", encoding="utf-8") as fh:
                out[kind] = {r["id"]: r for r in csv.DictReader(fh)}
    return out


def write_overlay(rows: dict[str, list[dict[str, str]]], folder: Path | None = None,
                  today: date | None = None) -> Path:
    """Merge ``rows`` into the overlay (a new row for an id replaces the old) and swap it in only
    once the catalog loads with it. Raises CatalogError or OSError with the old overlay intact."""
    folder = folder or overlay_dir()
    merged = _read_overlay(folder) if folder.is_dir() else {}
    for kind, items in rows.items():
        merged.setdefault(kind, {}).update({r["id"]: r for r in items})
    folder.parent.mkdir(parents=True, exist_ok=True)
    new = folder.with_name(folder.name + ".new")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    for kind, by_id in merged.items():
        with open(new / f"{kind}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=HEADER, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(by_id[i] for i in sorted(by_id))
    try:
        load_catalog(overlays=[new], today=today)
    except CatalogError:
        shutil.rmtree(new, ignore_errors=True)
        raise
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def summary(matches: Sequence[Match]) -> dict[str, Any]:
    return {
        "matched": [{"line": m.line.number, "name": m.line.name, "id": m.part_id,
                     "kind": m.kind, "price": m.line.price, "currency": m.line.currency}
                    for m in matches if m.part_id],
        "ambiguous": [{"line": m.line.number, "name": m.line.name,
                       "candidates": list(m.candidates)} for m in matches if m.candidates],
        "unmatched": [{"line": m.line.number, "name": m.line.name, "why": m.why}
                      for m in matches if not m.part_id and not m.candidates],
    }

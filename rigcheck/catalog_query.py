"""Query the loaded catalog: kinds, ``COLUMN OP VALUE`` filters, sorting and the price to show
(pure; what ``rigcheck catalog`` runs, with rendering in :mod:`rigcheck.ui.catalog_cmd`).

Filters: OP is one of ``>= <= > < = != ~`` (``~``: case-insensitive substring; ``=`` on a list
column such as ``form_factors`` means "contains"). A row whose value is empty never matches. Rupee
columns (``price_inr``, ``inr_per_*``) take amounts as people write them (``1.5L``, ``₹1,50,000``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rigcheck import catalog as cat
from rigcheck import money

KINDS = (*cat.FILES, "systems")   # the part kinds, "rates", and complete systems

_ALIASES = {
    "gpu": "gpus", "cpu": "cpus", "motherboard": "motherboards", "board": "motherboards",
    "boards": "motherboards", "mobo": "motherboards", "memory": "memory", "memories": "memory",
    "ram": "memory", "kit": "memory", "kits": "memory", "disk": "storage", "disks": "storage",
    "drive": "storage", "drives": "storage", "psu": "psus", "case": "cases", "rate": "rates",
    "system": "systems", "server": "systems", "servers": "systems",
}
_FILTER = re.compile(r"\s*([A-Za-z0-9_]+)\s*(>=|<=|!=|==|=|>|<|~)\s*(.*?)\s*")


class UsageError(ValueError):
    """A kind, filter, sort or limit that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str


def normalize_kind(text: str) -> str:
    kind = text.strip().lower()
    kind = _ALIASES.get(kind, kind)
    if kind == "recipes":
        raise UsageError("recipes are workloads, not parts: rigcheck recipes lists them")
    if kind not in KINDS:
        from rigcheck.suggest import did_you_mean

        raise UsageError(f"unknown catalog kind {text!r}{did_you_mean(text, KINDS)}; "
                         f"use one of {', '.join(KINDS)}")
    return kind


def parse_filter(text: str) -> Filter:
    match = _FILTER.fullmatch(text)
    if match is None or not match[3]:
        raise UsageError(f"--filter {text!r} is not COLUMN OP VALUE (OP: >= <= > < = != ~), "
                         "e.g. vram_gb>=16, form=consumer, name~4090")
    return Filter(match[1].lower(), "=" if match[2] == "==" else match[2], match[3])


def normalize_sort(text: str | None) -> str | None:
    """``--sort`` as a column name: case and spaces ignored, ``price`` for ``price_inr``."""
    if not text or not text.strip():
        return None
    column = text.strip().lower()
    return "price_inr" if column == "price" else column


def rows_for(catalog: Any, kind: str) -> list[dict[str, Any]]:
    """Plain dicts (INR prices) for one kind, with GPU price ratios added."""
    if kind == "rates":
        return [cat.part_to_dict(r) for r in catalog.rates]
    rows = []
    for part in getattr(catalog, kind):
        row = cat.part_to_dict(part)
        if kind == "gpus":
            row.update(cat.gpu_ratios(part))
        rows.append(row)
    return rows


def _number(f: Filter) -> float:
    try:
        return float(f.value)
    except ValueError:
        pass
    if f.column == "price_inr" or f.column.startswith("inr_per_"):
        try:  # rupee amounts as people write them: 1.25lakh, ₹1,25,000
            return money.parse_budget(f.value, {}).amount_inr
        except money.MoneyError:
            pass
    raise UsageError(f"--filter {f.column}{f.op}{f.value}: {f.value!r} is not a number")


def _matches(value: Any, f: Filter) -> bool:
    if value is None:
        return False
    if isinstance(value, list):
        items = [str(v).lower() for v in value]
        want = f.value.lower()
        if f.op == "=":
            return want in items
        if f.op == "!=":
            return want not in items
        if f.op == "~":
            return any(want in item for item in items)
        raise UsageError(f"--filter {f.column}{f.op}{f.value}: a list column takes =, != or ~")
    if isinstance(value, bool):
        want_bool = f.value.lower()
        if want_bool not in ("true", "false") or f.op not in ("=", "!="):
            raise UsageError(f"--filter {f.column}{f.op}{f.value}: {f.column} is true/false; "
                             f"use {f.column}=true or {f.column}=false")
        return (value == (want_bool == "true")) == (f.op == "=")
    if isinstance(value, (int, float)):
        if f.op == "~":
            return f.value in f"{value:g}"
        target: Any = _number(f)
        left: Any = float(value)
    else:
        left, target = str(value).lower(), f.value.lower()
        if f.op == "~":
            return target in left
    return bool({"=": left == target, "!=": left != target, ">": left > target,
                 "<": left < target, ">=": left >= target, "<=": left <= target}[f.op])


def select(rows: list[dict[str, Any]], kind: str, filters: list[Filter], sort: str | None,
           desc: bool, limit: int | None) -> list[dict[str, Any]]:
    """Filter, sort (empty values last either way) and cut; raises :class:`UsageError`."""
    columns = sorted({k for row in rows for k in row})
    sort = normalize_sort(sort)
    for name in [f.column for f in filters] + ([sort] if sort else []):
        if rows and name not in columns:
            from rigcheck.suggest import did_you_mean

            raise UsageError(f"unknown column {name!r} for {kind}{did_you_mean(name, columns)}; "
                             f"columns: {', '.join(columns)}")
    chosen = [r for r in rows if all(_matches(r.get(f.column), f) for f in filters)]
    key = sort or ("currency" if kind == "rates" else "price_inr")

    def order(row: dict[str, Any]) -> tuple[Any, ...]:
        value = row.get(key)
        if isinstance(value, list):
            value = ";".join(map(str, value))
        return (value is None, "" if value is None else value)

    present = sorted((r for r in chosen if r.get(key) is not None), key=order, reverse=desc)
    ordered = present + [r for r in chosen if r.get(key) is None]
    if limit is not None:
        if limit < 1:
            raise UsageError(f"--limit {limit}: give 1 or more")
        ordered = ordered[:limit]
    return ordered


def price_display(row: dict[str, Any], currency: str, rates: dict[str, float]) -> dict[str, Any]:
    if currency == "USD" and row["price_usd"] is not None:
        # The USD figure is the quote itself (a derived row's INR was computed from it).
        return {"currency": "USD", "amount": row["price_usd"], "approximate": False}
    amount = money.convert(row["price_inr"], currency, rates)
    approximate = currency != "INR" or row["price_kind"] == "derived"
    return {"currency": currency, "amount": round(amount, 2), "approximate": approximate}

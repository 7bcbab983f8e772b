"""``rigcheck catalog KIND``: browse the parts catalog with filters, sorting and prices.

KIND is gpus, cpus, motherboards, memory, storage, psus, cases or rates (singular works too).

Examples::

    rigcheck catalog gpus --filter vram_gb>=16 --filter form=consumer --sort inr_per_vram_gb
    rigcheck catalog gpus --filter name~4090 --currency USD
    rigcheck catalog psus --sort watts --desc --limit 3 --json
    rigcheck catalog gpus --catalog ./my-shop-prices --rate USD=88.5

Filters: ``COLUMN OP VALUE`` with OP one of ``>= <= > < = != ~`` (``~``: case-insensitive
substring; ``=`` on a list column such as ``form_factors`` means "contains"). A row whose value is
empty never matches. GPUs also have the derived columns ``inr_per_tensor_tflop`` (price / dense
FP16 tensor TFLOPS), ``inr_per_vram_gb`` and ``inr_per_fp32_tflop``. Default order: price, then id.

``--catalog DIR`` overlays CSVs in the catalog's own schema (see ``rigcheck.catalog``): new ids
are added, known ids replaced, and a shop's price list needs only the columns
``id,price_inr,price_date,price_kind,source`` (that part's price changes, nothing else).

Prices marked ``≈`` are not shop quotes: INR derived from a USD price with the catalog's dated
rate, or an INR price shown converted into ``--currency``. A ``?`` after the date marks a price
that is no cited quote for this item (``price_basis`` recalled or estimate); ``!`` one older than
180 days.

JSON (``--json``, a stable interface)::

    {"kind": "gpus", "currency": "INR",
     "sources": ["catalog", "./shop"],            # bundled folder first, then overlays
     "price_dates": {"oldest": "2013-11-22", "newest": "2026-01-15"},   # of the rows shown
     "stale_after_days": 180, "stale_count": 1,
     "rates": [{"currency": "USD", "inr_per_unit": 88.0, "date": "...", "source": "..."}],
     "count": 2,
     "items": [{...every CSV column of the part, with price_inr always in INR,
                "price_usd", "price_date", "price_kind", "source", "notes",
                "price_basis" ("quote", "msrp", "seed", "estimate", "recalled" or ""),
                "capacity_gb" (memory), "inr_per_tensor_tflop" / "inr_per_vram_gb" /
                "inr_per_fp32_tflop" (GPUs, null where not applicable),
                "stale": bool,
                "price_display": {"currency": "USD", "amount": 1599.0, "approximate": false}}]}

For ``rates`` the items are ``{"currency", "inr_per_unit", "date", "source"}`` and there are no
price fields. Exit codes: 0 ok (also when no row matches), 2 bad kind, filter, column, rate,
currency or catalog file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from rigcheck import catalog as cat
from rigcheck import catalog_query as query
from rigcheck import money
from rigcheck.ui.common import EXIT_USAGE, console, fail, print_json, verbose, warn

# Columns shown in the table, per kind, most important first: on a narrow terminal columns are
# dropped from the end (the name, price and date always stay). Every column is in --json.
_TABLE = {
    "gpus": ("name", "vram_gb", "tensor_fp16_tflops", "inr_per_tensor_tflop", "inr_per_vram_gb",
             "availability", "mem_bw_gbs", "tdp_w", "fp32_tflops", "form", "slot_width"),
    "cpus": ("name", "socket", "cores", "threads", "boost_ghz", "tdp_w", "pcie_lanes", "avx512"),
    "motherboards": ("name", "socket", "platform_class", "memory_type", "x16_slots",
                     "form_factor", "max_memory_gb", "chipset", "m2_slots"),
    "memory": ("name", "memory_type", "capacity_gb", "speed_mts", "ecc"),
    "storage": ("name", "kind", "interface", "capacity_gb", "seq_read_mbs"),
    "psus": ("name", "watts", "efficiency", "pcie_8pin", "connector_16pin", "form_factor"),
    "cases": ("name", "form_factors", "max_gpu_length_mm", "expansion_slots"),
    "rates": ("currency", "inr_per_unit", "date", "source"),
    "systems": ("name", "gpu_count", "gpu_ids", "chassis_class", "cpu_cores", "ram_gb", "psu_w",
                "power_inlets"),
}
_HEADERS = {"vram_gb": "VRAM GB", "mem_bw_gbs": "BW GB/s", "fp32_tflops": "FP32 TF",
            "tensor_fp16_tflops": "FP16 tensor TF", "tdp_w": "TDP W", "slot_width": "Slots",
            "inr_per_tensor_tflop": "/tensor TF", "inr_per_vram_gb": "/VRAM GB",
            "inr_per_fp32_tflop": "/FP32 TF", "x16_slots": "x16 slot:lanes",
            "max_memory_gb": "Max GB", "capacity_gb": "GB", "speed_mts": "MT/s",
            "seq_read_mbs": "Read MB/s", "max_gpu_length_mm": "GPU mm",
            "expansion_slots": "Slots", "inr_per_unit": "INR per unit", "architecture": "Arch",
            "availability": "Avail", "platform_class": "Class", "form_factor": "Form",
            "memory_type": "RAM", "connector_16pin": "16-pin", "pcie_8pin": "8-pin",
            "pcie_lanes": "PCIe lanes", "boost_ghz": "Boost GHz", "avx512": "AVX-512",
            "ecc": "ECC", "gpu_count": "GPUs", "gpu_ids": "GPU", "chassis_class": "Chassis",
            "cpu_cores": "Cores", "ram_gb": "RAM GB", "psu_w": "PSU W", "power_inlets": "Cords"}
_WRAPS = ("name", "source")  # the only columns allowed to wrap onto more lines



def _cell(column: str, row: dict[str, Any], currency: str, rates: dict[str, float]) -> str:
    value = row.get(column)
    if column == "x16_slots":
        return " ".join(f"{p}:x{n}" for p, n in zip(row["x16_slot_positions"],
                                                      row["x16_slot_lanes"], strict=True))
    if value is None:
        return "-"
    if column.startswith("inr_per_") and column != "inr_per_unit":
        amount = money.convert(value, currency, rates)
        if abs(amount) < 100:  # $6.24 per TFLOP: whole units would hide the differences
            return money.SYMBOLS.get(currency, currency + " ") + f"{amount:.2f}"
        return money.format_amount(amount, currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _price_text(row: dict[str, Any]) -> str:
    shown = row["price_display"]
    text = money.format_amount(shown["amount"], shown["currency"])
    return ("≈" if shown["approximate"] else "") + text


# Prices that are not a cited quote for this very item (catalog/README.md "price_basis").
_DOUBTFUL = {
    "recalled": "unsourced: a price recalled by the catalog author, not found in any source; "
                "check before buying",
    "estimate": "estimate: scaled from a quote for a similar item (see its source)",
}


def _seen_text(row: dict[str, Any]) -> str:
    marks = (" ?" if row.get("price_basis") in _DOUBTFUL else "") + (" !" if row["stale"] else "")
    return f"{row['price_date']} {row['price_kind']}{marks}"


def _header(column: str, symbol: str) -> str:
    header = _HEADERS.get(column, column.replace("_", " ").capitalize())
    if column.startswith("inr_per_") and column != "inr_per_unit":
        header = symbol + header
    return header


def _rate_text(code: str, rates: dict[str, float], rate_dates: dict[str, str]) -> str:
    return f"₹{rates.get(code, 0):g} per {code} (rate of {rate_dates.get(code, '?')})"


def render_table(kind: str, rows: list[dict[str, Any]], currency: str, rates: dict[str, float],
                 sort: str | None, rate_dates: dict[str, str],
                 filtered: tuple[str, ...] = ()) -> None:
    from rich import box  # rich is only needed when a table is drawn
    from rich.table import Table

    out = console()
    columns = list(_TABLE[kind])
    sort = query.normalize_sort(sort)
    if sort and sort not in columns and sort not in ("price_inr", "id"):
        columns.append(sort)
    # A column the user filters on is shown, and never dropped for width (issue 12).
    for name in filtered:
        if name not in columns and name not in ("price_inr", "id") and any(name in r for r in rows):
            columns.append(name)
    symbol = money.SYMBOLS.get(currency, currency + " ")
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    cells_of = {c: [_cell(c, row, currency, rates) for row in rows] for c in columns}
    headers = {c: _header(c, symbol) for c in columns}

    def natural(column: str) -> int:  # widest cell or header, +2 for padding; names may wrap
        wide = max([len(headers[column])] + [len(t) for t in cells_of[column]])
        return min(wide, 22) + 2 if column in _WRAPS else wide + 2

    fixed = 0
    if kind != "rates":
        price_cells = [_price_text(r) for r in rows]
        seen_cells = [_seen_text(r) for r in rows]
        fixed = max(map(len, [f"Price ({currency})", *price_cells])) + \
            max(map(len, ["Seen", *seen_cells])) + 4
    keep = [c for c in (sort, *filtered, "name", "currency") if c in columns]
    hidden: list[str] = []
    while sum(map(natural, columns)) + fixed > out.width:
        droppable = [c for c in columns if c not in keep]
        if not droppable:
            break
        hidden.insert(0, droppable[-1])
        columns.remove(droppable[-1])
    for column in columns:
        numeric = any(isinstance(r.get(column), (int, float)) and not isinstance(r.get(column),
                      bool) for r in rows)
        table.add_column(headers[column], justify="right" if numeric else "left",
                         no_wrap=column not in _WRAPS, overflow="fold",
                         # a name wraps at words, never inside one ("GeForc / e RTX")
                         min_width=12 if column == "name" else None)
    if kind != "rates":
        table.add_column(f"Price ({currency})", justify="right", no_wrap=True)
        table.add_column("Seen", min_width=10)   # wraps before "derived": never cropped
    body = [[cells_of[c][i] for c in columns] for i in range(len(rows))]
    for row, cells in zip(rows, body, strict=True):
        if kind != "rates":
            cells = [*cells, _price_text(row), _seen_text(row)]
        table.add_row(*cells)
    out.print(table)
    if hidden:
        out.print(f"(too narrow to show: {', '.join(hidden)}; widen the terminal or use --json)")
    if kind == "rates" or not rows:
        return
    dates = sorted(r["price_date"] for r in rows)
    out.print(f"{len(rows)} row(s); prices seen {dates[0]} to {dates[-1]}.")
    if any(r["price_display"]["approximate"] for r in rows):
        notes = []
        if any(r["price_kind"] == "derived" for r in rows):
            notes.append("INR derived from a USD price at " + _rate_text("USD", rates, rate_dates))
        if currency != "INR":
            notes.append("converted from INR at " + _rate_text(currency, rates, rate_dates))
        out.print("≈ not a shop quote: " + "; ".join(notes) + ".")
    doubtful = [why for basis, why in _DOUBTFUL.items()
                if any(r.get("price_basis") == basis for r in rows)]
    if doubtful:
        out.print("? " + "; ".join(doubtful) + ".")


def _run(kind: str, filters: list[str], sort: str | None, desc: bool, limit: int | None,
         overlays: list[Path], rate_texts: list[str], currency: str, as_json: bool) -> None:
    try:
        kind = query.normalize_kind(kind)
        parsed = [query.parse_filter(f) for f in filters]
        overrides = dict(money.parse_rate(r) for r in rate_texts)
    except (query.UsageError, money.MoneyError) as exc:
        fail(str(exc), EXIT_USAGE)
    from rigcheck.catalog_import import user_overlays
    try:
        catalog = cat.load_catalog(overlays=[*user_overlays(), *overlays], rates=overrides)
    except cat.CatalogError as exc:
        fail(str(exc), EXIT_USAGE)
    rates = cat.rate_table(catalog)
    code = currency.strip().upper()
    if code not in rates:
        fail(f"--currency {currency!r}: no rate for it; use one of {', '.join(sorted(rates))} "
             f"or add --rate {code}=<INR per {code}>", EXIT_USAGE)
    today = date.today()
    try:
        rows = query.select(query.rows_for(catalog, kind), kind, parsed, sort, desc, limit)
    except query.UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    if kind != "rates":
        for row in rows:
            row["stale"] = (today - date.fromisoformat(row["price_date"])).days > \
                cat.STALE_AFTER_DAYS
            row["price_display"] = query.price_display(row, code, rates)
    stale = [r for r in rows if r.get("stale")]
    if stale:
        oldest = min(r["price_date"] for r in stale)
        warn(f"{len(stale)} of {len(rows)} price(s) shown are older than {cat.STALE_AFTER_DAYS} "
             f"days (oldest {oldest}, marked !); prices move: overlay current prices with "
             "--catalog DIR")
    if as_json:
        dates = sorted(r["price_date"] for r in rows if "price_date" in r)
        print_json({
            "kind": kind, "currency": code, "sources": list(catalog.sources),
            "price_dates": {"oldest": dates[0] if dates else None,
                            "newest": dates[-1] if dates else None},
            "stale_after_days": cat.STALE_AFTER_DAYS, "stale_count": len(stale),
            "rates": [cat.part_to_dict(r) for r in catalog.rates],
            "count": len(rows), "items": rows,
        })
        return
    if not rows:
        console().print(f"No {kind} match the filters.")
        return
    render_table(kind, rows, code, rates, sort,
                 {r.currency: r.date.isoformat() for r in catalog.rates},
                 filtered=tuple(dict.fromkeys(f.column for f in parsed)))
    if verbose():
        out = console()
        out.print("[bold]Sources[/]")
        for row in rows:
            label = row.get("id") or row.get("currency") or "?"
            out.print(f"  {escape(str(label))}: {escape(str(row.get('source') or 'no source given'))}",
                      soft_wrap=True)


def _import(file: Path | None, remove: bool, seen: str | None, as_json: bool) -> None:
    """`rigcheck catalog import FILE` / `--remove`: the user's overlay of shop prices."""
    from rigcheck import catalog_import as imp

    folder = imp.overlay_dir()
    if remove:
        import shutil
        existed = folder.is_dir()
        shutil.rmtree(folder, ignore_errors=True)
        if as_json:
            print_json({"removed": existed, "overlay": str(folder)})
        else:
            console().print(f"Removed the imported prices ({folder})." if existed
                            else "No imported prices to remove.")
        return
    if file is None:
        fail("catalog import: give the price list, e.g. rigcheck catalog import prices.csv "
             "(or --remove)", EXIT_USAGE)
    try:
        day = date.fromisoformat(seen) if seen else date.today()
    except ValueError:
        fail(f"--date {seen!r}: give the day the prices were seen as YYYY-MM-DD", EXIT_USAGE)
    try:
        lines = imp.parse_file(file)
        catalog = cat.load_catalog()
        matches = imp.match_all(lines, catalog)
        rows = imp.overlay_rows(matches, day, file.name)
        if not rows:
            raise imp.ImportError_(f"{file}: none of its {len(lines)} priced line(s) matched a "
                                   "catalog part; nothing imported")
        written = imp.write_overlay(rows)
    except (imp.ImportError_, cat.CatalogError) as exc:
        fail(str(exc), EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot write the overlay in {folder}: {exc.strerror or exc}", EXIT_USAGE)
    report = imp.summary(matches)
    if as_json:
        print_json({"overlay": str(written), **report})
        return
    out = console()
    out.print(f"Imported {len(report['matched'])} of {len(lines)} priced line(s) into "
              f"{written}; recommend and catalog use them until "
              "`rigcheck catalog import --remove`.")
    for m in report["ambiguous"]:
        out.print(f"  line {m['line']}: {m['name']!r} is ambiguous: "
                  f"{', '.join(m['candidates'])} (give the id in an id column)")
    for m in report["unmatched"]:
        out.print(f"  line {m['line']}: {m['name']!r} not imported: {m['why']}")


def catalog_command(
    kind: Annotated[str, typer.Argument(
        help="gpus, cpus, motherboards, memory, storage, psus, cases, systems (complete GPU "
        "servers) or rates; or import FILE (a shop's CSV or a PCPartPicker export) to overlay "
        "its prices.")],
    file: Annotated[Path | None, typer.Argument(
        help="With import: the price list.", show_default=False)] = None,
    remove: Annotated[bool, typer.Option(
        "--remove", help="With import: drop the imported prices.")] = False,
    seen: Annotated[str | None, typer.Option(
        "--date", help="With import: the day the prices were seen (default today).")] = None,
    filters: Annotated[list[str] | None, typer.Option(
        "--filter", "-f", help="COLUMN OP VALUE, e.g. vram_gb>=16, form=consumer, name~4090 "
        "(repeatable; OP: >= <= > < = != ~).")] = None,
    sort: Annotated[str | None, typer.Option(
        "--sort", help="Column to sort by, e.g. price_inr, vram_gb, inr_per_tensor_tflop, "
        "inr_per_vram_gb, inr_per_fp32_tflop.")] = None,
    desc: Annotated[bool, typer.Option("--desc", help="Sort largest first.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Show at most N rows.")] = None,
    overlays: Annotated[list[Path] | None, typer.Option(
        "--catalog", help="Folder of CSVs overlaid on the bundled catalog (a shop's price "
        "list; repeatable, later wins).")] = None,
    rates: Annotated[list[str] | None, typer.Option(
        "--rate", help="Exchange rate CUR=INR_PER_UNIT, e.g. USD=88.5 (repeatable).")] = None,
    currency: Annotated[str, typer.Option(
        "--currency", help="Show prices in INR, USD or EUR (INR stays in --json).")] = "INR",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Browse the parts catalog: filter, sort, and see each price with its date and kind.

    Example: rigcheck catalog gpus -f vram_gb>=16 --sort inr_per_tensor_tflop --limit 5
    """
    if kind.strip().lower() == "import":
        _import(file, remove, seen, as_json)
        return
    if file is not None:
        fail(f"catalog {kind}: unexpected argument {str(file)!r} (only import takes a file)",
             EXIT_USAGE)
    _run(kind, filters or [], sort, desc, limit, overlays or [], rates or [], currency, as_json)


def register(app: typer.Typer) -> None:
    app.command("catalog")(catalog_command)

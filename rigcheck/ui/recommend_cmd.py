"""``rigcheck recommend``: a complete, compatible build for a budget, like a PCPartPicker list.

The JSON interface (``--json``) is documented in :mod:`rigcheck.recommend.report`.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from rigcheck.ui.common import (
    EXIT_FINDINGS,
    console,
    fail,
    human_duration,
    print_json,
    verbose,
    warn,
)

# Prices that are not a cited quote for that very part (catalog/README.md, price_basis).
DOUBTFUL_BASIS = ("recalled", "estimate")
# An exchange rate older than this is flagged (issue 9: the rupee moved 7% in 2025).
RATE_STALE_DAYS = 90
# How each rupee figure was obtained, as the price column says it.
ORIGIN_LABEL = {"quote": "quote", "landed": "landed est.", "conversion": "converted"}


def _gpu_counts(text: str) -> tuple[int, ...]:
    if text.strip().lower() == "auto":
        return tuple(range(1, 9))
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 8:
        fail(f"--gpus '{text}': give a count from 1 to 8, or 'auto' to let rigcheck choose")
    return (n,)


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend)


def recommend(
    budget: Annotated[str, typer.Option(
        "--budget", "-b", help="What you can spend: 125000INR, ₹1,25,000, 1.25 lakh, 5lakh, "
        "$3000, 1.5k USD, €1400.")],
    target: Annotated[list[str] | None, typer.Option(
        "--target", "-t", help="A recipe to train or an LLM recipe to fine-tune or serve "
        "(repeatable); `rigcheck recipes` lists them. Default: the classic recipes tagged "
        "default-mix, plus the default-mix LLM recipes where the budget allows them.")] = None,
    gpus: Annotated[str, typer.Option(
        "--gpus", help="GPUs per machine: 1..8, or auto (best of 1..8).")] = "1",
    nodes: Annotated[int, typer.Option(
        "--nodes", min=1, max=64,
        help="Identical machines (cluster planning); the budget covers all of them.")] = 1,
    platform_class: Annotated[str | None, typer.Option(
        "--class", help="desktop | workstation | server (default: any).")] = None,
    top: Annotated[int, typer.Option("--top", "-k", min=1, max=20,
                                     help="Builds to show, best first.")] = 3,
    currency: Annotated[str, typer.Option(
        "--currency", help="Display currency (INR figures are always shown too).")] = "INR",
    catalog_dirs: Annotated[list[Path] | None, typer.Option(
        "--catalog", help="Overlay a folder of CSVs (same schema), e.g. a shop's price list.")] = None,
    rate: Annotated[list[str] | None, typer.Option(
        "--rate", help="Override an exchange rate, e.g. USD=88.5 (INR per unit).")] = None,
    circuit: Annotated[str, typer.Option(
        "--circuit", help="Wall circuit, at 80% of its rating for a continuous load: india-16a "
        "(230 V 16 A: 2,944 W), india-6a, india-32a, us-15a (120 V: 1,440 W), us-20a, "
        "us-208v-30a, us-240v-30a, eu-16a, eu-32a, jp-15a (100 V).")] = "india-16a",
    allow_used: Annotated[bool, typer.Option("--allow-used", help="Consider used GPUs.")] = False,
    allow_legacy: Annotated[bool, typer.Option(
        "--allow-legacy", help="Consider legacy GPUs (Maxwell, Kepler).")] = False,
    objective: Annotated[str, typer.Option(
        "--objective", help="value: the cheapest build within 5% of the fastest the budget "
        "affords (default); fastest: the fastest build.")] = "value",
    allow_unsourced: Annotated[bool, typer.Option(
        "--allow-unsourced", help="Also use recalled or estimated prices and prices seen more "
        "than 12 months ago (marked ? and !).")] = False,
    tariff: Annotated[str | None, typer.Option(
        "--tariff", help="Electricity in ₹/kWh (e.g. 8.5) or a tariff id from catalog/tariff.csv "
        "(default: the median residential tariff there).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Pick a complete build for the budget: by default the cheapest within 5% of the fastest."""
    from rigcheck import catalog as catalog_mod
    from rigcheck import money, recipes
    from rigcheck.llm_recipes import LlmRecipeError, load_llm_recipes
    from rigcheck.llm_recipes import default_mix as llm_default_mix
    from rigcheck.recommend import Request, costs, report, rules
    from rigcheck.recommend import recommend as run_search
    from rigcheck.recommend.speed import perfmodel_estimator

    overrides: dict[str, float] = {}
    for item in rate or ():
        try:
            code, value = money.parse_rate(item)
        except money.MoneyError as exc:
            fail(str(exc))
        overrides[code] = value
    if platform_class not in (None, "desktop", "workstation", "server"):
        fail(f"--class '{platform_class}': use desktop, workstation or server")
    if objective not in ("value", "fastest"):
        fail(f"--objective '{objective}': use value or fastest")
    if circuit not in rules.CIRCUITS_W:
        fail(f"--circuit '{circuit}': use one of {', '.join(rules.CIRCUITS_W)}")
    counts = _gpu_counts(gpus)
    try:
        from rigcheck.catalog_import import user_overlays
        catalog = catalog_mod.load_catalog(overlays=(*user_overlays(), *(catalog_dirs or ())),
                                           rates=overrides)
    except (catalog_mod.CatalogError, FileNotFoundError) as exc:
        fail(str(exc))
    rates = catalog_mod.rate_table(catalog)
    display = currency.upper()
    if display not in rates:
        fail(f"--currency '{currency}': no rate for it; use one of {', '.join(sorted(rates))}")
    try:
        parsed = money.parse_budget(budget, rates, default_currency=display)
    except money.MoneyError as exc:
        fail(str(exc))
    try:
        classic = recipes.load_recipes()
        llm = load_llm_recipes()
    except (recipes.RecipeError, LlmRecipeError) as exc:
        fail(str(exc))
    known: dict[str, Any] = {**classic, **llm}
    wanted: tuple[Any, ...] = ()
    if target:
        unknown = [t for t in target if t not in known]
        if unknown:
            from rigcheck.suggest import did_you_mean

            fail(f"unknown target '{unknown[0]}'{did_you_mean(unknown[0], known)}; "
                 f"known: {', '.join(known)}")
        targets = tuple(known[t] for t in dict.fromkeys(target))
    else:
        # The classic mix is required; the LLM mix is wanted: kept where the budget allows it
        # (VRAM first, as practitioners buy), dropped with the price of a build that runs it.
        targets = recipes.default_mix(classic)
        wanted = llm_default_mix(llm)
        if not targets and not wanted:
            fail("no --target given and no bundled recipe is tagged default-mix")

    try:
        tariff_choice = costs.choose_tariff(catalog.tariffs, tariff)
    except ValueError as exc:
        fail(str(exc))
    today = date.today()
    request = Request(
        budget_inr=parsed.amount_inr, targets=targets, gpu_counts=counts,
        platform_class=platform_class, circuit_w=rules.CIRCUITS_W[circuit],
        circuit_v=rules.CIRCUITS[circuit].volts,
        allow_used=allow_used, allow_legacy=allow_legacy, top=top, nodes=nodes,
        objective=objective, allow_unsourced=allow_unsourced, today=today, wanted=wanted,
    )
    estimator = perfmodel_estimator()
    result = run_search(catalog, request, estimator)
    single = None
    if nodes > 1:
        # Fewer, bigger machines for the same money: the best one-machine build, any GPU count.
        alone = dataclasses.replace(result.request, nodes=1, gpu_counts=tuple(range(1, 9)), top=1)
        single = run_search(catalog, alone, estimator).best

    age = catalog_mod.catalog_age_days(catalog, today)
    oldest, newest = catalog.oldest_price_date(), catalog.newest_price_date()
    catalog_info = {
        "sources": list(catalog.sources),
        "oldest_price_date": oldest.isoformat() if oldest else None,
        "newest_price_date": newest.isoformat() if newest else None,
        "age_days": age,
        "stale": age is not None and age > catalog_mod.STALE_AFTER_DAYS,
        "old_rates": [{"currency": r.currency, "date": r.date.isoformat(),
                       "age_days": (today - r.date).days}
                      for r in catalog.rates if (today - r.date).days > RATE_STALE_DAYS],
    }
    budget_info = {"text": budget, "amount": parsed.amount, "currency": parsed.currency,
                   "inr": parsed.amount_inr}
    def extras(build: Any) -> dict[str, Any]:
        running = costs.running_cost(build, tariff_choice) if tariff_choice else None
        cloud = costs.cloud_compare(build, catalog, result.request.targets, estimator, rates,
                                    running)
        return {"running_cost": running, "cloud": cloud}

    data = report.to_dict(result, budget=budget_info, catalog=catalog, catalog_info=catalog_info,
                          display_currency=display, circuit=circuit, extras=extras)
    data["single_node"] = (report.build_dict(single, parsed.amount_inr, today=today)
                           if single else None)
    data["limits"] = []
    if result.best is None:
        from rigcheck.recommend.limits import binding_limits
        data["limits"] = [dataclasses.asdict(lim)
                          for lim in binding_limits(catalog, result.request, estimator)]
    if as_json:
        print_json(data)
    else:
        _render(data, rates, display)
    if result.best is None:
        raise typer.Exit(EXIT_FINDINGS)


# ---- rendering -------------------------------------------------------------------------------

def _money(inr: float, rates: dict[str, float], display: str) -> str:
    from rigcheck import money
    shown = money.format_inr(inr)
    if display != "INR":
        shown = f"{money.format_money(inr, display, rates)} ({shown})"
    return shown


_KIND_LABEL = {"gpu": "GPU", "cpu": "CPU", "motherboard": "Motherboard", "memory": "Memory",
               "storage": "Storage", "psu": "Power supply", "case": "Case",
               "system": "Complete system"}


def _item(p: dict[str, Any]) -> str:
    """The part's name plus the one figure the build hinges on (the name carries the rest)."""
    count = f"{p['count']} × " if p["count"] > 1 else ""
    key = {
        "gpu": lambda: f" · {p['vram_gb']:g} GB",
        "cpu": lambda: f" · {p['cores']} cores",
        "memory": lambda: f" · {p['capacity_gb']} GB in all",
        "storage": lambda: f" · {p['seq_read_mbs']:,} MB/s",
        "psu": lambda: f" · {p['watts']} W" if f"{p['watts']}" not in p["name"] else "",
        "system": lambda: f" · {p['vendor']}" if p["vendor"] not in p["name"] else "",
    }.get(p["kind"], lambda: "")()
    return escape(f"{count}{p['name']}{key}")


def _build_table(b: dict[str, Any], rates: dict[str, float], display: str) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Type")
    table.add_column("Item", overflow="fold")
    table.add_column("Price", justify="right")
    table.add_column("Seen", style="dim")
    for p in b["parts"]:
        if p.get("included_in"):  # cards priced in the complete system below
            table.add_row(_KIND_LABEL.get(p["kind"], p["kind"]), _item(p), "included",
                          "in the system's price")
            continue
        mark = "≈" if p["price_kind"] == "derived" else ""
        doubt = " ?" if p.get("price_basis") in DOUBTFUL_BASIS else ""
        stale = " !" if p.get("stale") else ""
        origin = ORIGIN_LABEL.get(p.get("price_origin", ""), p["price_kind"])
        kind = "" if p["price_kind"] == "derived" else f" {p['price_kind']}"
        table.add_row(_KIND_LABEL.get(p["kind"], p["kind"]), _item(p),
                      mark + _money(p["price_inr"], rates, display),
                      f"{origin}{kind} {p['price_date']}{doubt}{stale}")
    if b["nodes"] > 1:
        table.add_row("", Text("Each machine", style="bold"),
                      Text(_money(b["node_inr"], rates, display), style="bold"), "")
        table.add_row("", Text(f"Total ({b['nodes']} machines)", style="bold"),
                      Text(_money(b["total_inr"], rates, display), style="bold"), "")
    else:
        table.add_row("", Text("Total", style="bold"),
                      Text(_money(b["total_inr"], rates, display), style="bold"), "")
    return table


def _render(data: dict[str, Any], rates: dict[str, float], display: str) -> None:
    out = console()
    budget = data["budget"]
    cat = data["catalog"]
    req = data["request"]
    out.print(f"[bold]Budget[/] {_money(budget['inr'], rates, display)}"
              f"  ·  targets: {', '.join(req['targets'])}"
              f"  ·  GPUs: {'auto' if len(req['gpu_counts']) > 1 else req['gpu_counts'][0]}"
              f"  ·  class: {req['class'] or 'any'}  ·  objective: {req['objective']}")
    out.print(f"[dim]Catalog: {', '.join(cat['sources'])}. Rupees: quote = a rupee price as "
              "quoted; landed est. = a foreign price × rate × customs duty, margin and GST "
              "(catalog/landed.csv); converted = a foreign price × rate only (≈ marks both). "
              "? = no cited quote, ! = seen over 12 months ago.[/]")
    for r in cat.get("old_rates", ()):
        warn(f"the {r['currency']} rate is from {r['date']} ({r['age_days']} days old): pass "
             f"--rate {r['currency']}=<today's INR per {r['currency']}>")
    dropped = data.get("excluded_parts") or {}
    if dropped and not req.get("allow_unsourced"):
        out.print(f"[dim]{len(dropped)} parts left out: recalled or estimated prices, or seen "
                  "over 12 months ago (--allow-unsourced uses them, marked)"
                  f"{'' if verbose() else '; -v lists them'}.[/]")
        if verbose():
            for part_id, why in sorted(dropped.items()):
                out.print(f"  [dim]{escape(part_id)}: {escape(why)}[/]", soft_wrap=True)
    builds = data["builds"]
    if not builds:
        cheapest = data["cheapest_total_inr"]
        if cheapest is not None:
            out.print(f"[red]No complete build fits {_money(budget['inr'], rates, display)}.[/] "
                      f"The cheapest complete build for these targets costs "
                      f"{_money(cheapest, rates, display)}"
                      + (f", {_money(-data['cheapest']['left_inr'], rates, display)} over:"
                         if data.get("cheapest") else "."))
            if data.get("cheapest"):
                out.print(_build_table(data["cheapest"], rates, display))
        else:
            out.print("[red]No compatible build exists in the catalog for this request.[/]")
        for lim in data.get("limits", ()):
            out.print(f"  {escape(lim['option'])}: [bold]{lim['limit']}[/]: "
                      f"{escape(lim['detail'])}; to lift it: {escape(lim['lift'])}")
        if cheapest is None and not data.get("limits"):
            for gpu, why in list(data["excluded"].items())[:8]:
                out.print(f"  [dim]{gpu}: {why}[/]")
        return
    best = builds[0]
    if data.get("old_prices"):
        warn("no build exists with prices seen in the last 12 months; these builds use older "
             "cited prices (marked !): re-price them (rigcheck catalog import FILE)")
    out.print()
    out.print(_build_table(best, rates, display))
    out.print(f"Left of budget: {_money(best['left_inr'], rates, display)}")
    doubtful = [p["name"] for p in best["parts"] if p.get("price_basis") in DOUBTFUL_BASIS]
    if doubtful:
        out.print(f"[yellow]?[/] no cited quote for: {escape(', '.join(doubtful))} (recalled or estimated "
                  "prices; check them, or overlay real ones with --catalog DIR)")
    stale = [f"{p['name']} ({p['price_date']})" for p in best["parts"] if p.get("stale")]
    if stale:
        out.print(f"[yellow]![/] price seen over 12 months ago: {escape(', '.join(stale))}; "
                  "re-price before buying (rigcheck catalog import FILE)")
    gpu0 = best["parts"][0]
    if gpu0.get("availability") == "legacy":
        out.print("[yellow]![/] legacy GPU: current CUDA and PyTorch builds no longer support "
                  "it (compute capability below 6.0); expect to pin an old PyTorch")
    if best.get("complete_system"):
        _render_system(best["complete_system"])
    if best["nodes"] > 1:
        out.print(f"[bold]× {best['nodes']} identical machines[/]: "
                  f"{_money(best['node_inr'], rates, display)} each, "
                  f"{_money(best['total_inr'], rates, display)} in all")
    circuits = best.get("circuits_needed", 1)
    out.print(f"Power{' per machine' if best['nodes'] > 1 else ''}: "
              f"~{best['power_w']} W sustained, ~{best['wall_w']} W at the wall; "
              f"{best['psu_w']} W {'of power supplies' if best.get('complete_system') else 'PSU'}"
              f" ({best['psu_headroom_pct']:.0f}% headroom); "
              + (f"circuit {req['circuit']} ({req['circuit_w']:,.0f} W)" if circuits == 1 else
                 f"needs {circuits} {req['circuit']} circuits ({req['circuit_w']:,.0f} W each): "
                 + _cords(circuits, (best.get("complete_system") or {}).get("power_inlets", 1))))
    _render_costs(best, rates, display)
    gpu = best["parts"][0]
    out.print()
    out.print(f"[bold]Why this GPU[/] ({escape(gpu['name'])}):")
    for t in best["targets"]:
        out.print(f"  {_target_line(t, gpu, best['total_inr'], rates, display)}")
        for change in t.get("changes", ()):
            out.print(f"    [yellow]changed to fit:[/] {escape(change)}")
    out.print("  [dim]Speeds: rigcheck's calibrated performance models (`rigcheck estimate`). "
              "₹ per sample/s: the build's price divided by its training speed on that recipe "
              "(lower is better). LLM times: the recipe's tokens to train or generate "
              "(`rigcheck recipes ID`) over the predicted tokens/s.[/]")
    for d in data.get("dropped", ()):
        c = d["cheapest"]
        if c:
            g = c["parts"][0]
            count = f"{g['count']} × " if g["count"] > 1 else ""
            lift = (f"the cheapest build that runs it: {count}{escape(g['name'])} "
                    f"({g['vram_gb']:g} GB), {_money(c['total_inr'], rates, display)}"
                    + (f" (+{_money(c['extra_inr'], rates, display)})"
                       if c.get("extra_inr") else ""))
        else:
            lift = escape(d["reason"])
        out.print(f"  [yellow]not in this budget:[/] {escape(d['recipe'])}; {lift}")
    if len(builds) > 1:
        from rigcheck.recommend.report import compare_words
        out.print()
        out.print("[bold]Other builds on the price-speed frontier[/] (none is both cheaper and "
                  "faster than another)")
        for b in builds[1:]:
            g = b["parts"][0]
            count = f"{g['count']} × " if g["count"] > 1 else ""
            words = compare_words(b["total_train_s"], best["total_train_s"])
            out.print(f"  {b['rank']}. {count}{escape(g['name'])}{_system_suffix(b)}: "
                      f"{_money(b['total_inr'], rates, display)}, {words}")
    single = data.get("single_node")
    if single:
        g = single["parts"][0]
        out.print()
        out.print(f"[bold]Against one bigger machine[/]: {g['count']} × {escape(g['name'])} for "
                  f"{_money(single['total_inr'], rates, display)} trains the targets in "
                  f"{human_duration(single['total_train_s'])} (the cluster: "
                  f"{human_duration(best['total_train_s'])}); cost per unit of speed "
                  f"{_money(single['inr_per_run_per_day'], rates, display)} vs "
                  f"{_money(best['inr_per_run_per_day'], rates, display)} for the cluster "
                  "(₹ per training of the whole mix per day: lower is better)")
    upgrade = data["upgrade"]
    if upgrade:
        g = upgrade["build"]["parts"][0]
        count = f"{g['count']} × " if g["count"] > 1 else ""
        out.print()
        out.print(f"[bold]For {_money(upgrade['extra_inr'], rates, display)} more[/]: "
                  f"{count}{escape(g['name'])}{_system_suffix(upgrade['build'])} build, "
                  f"+{upgrade['speedup_pct']:.0f}% speed")


def _cords(circuits: int, inlets: int) -> str:
    if inlets <= circuits:
        return f"plug each of its {inlets} power cords into its own circuit"
    return f"spread its {inlets} power cords over them"


def _system_suffix(b: dict[str, Any]) -> str:
    s = b.get("complete_system")
    return f" (complete system: {escape(s['name'])})" if s else ""


def _render_system(s: dict[str, Any]) -> None:
    """What a complete system is and where its price came from (catalog/systems.csv)."""
    out = console()
    gpus = "GPUs included" if s["gpus_included"] else "GPUs bought separately (a barebone)"
    out.print(f"[bold]Complete system[/]: {escape(s['name'])} by {escape(s['vendor'])}, sold as "
              f"one machine ({s['chassis_class']} chassis; {gpus}): {escape(s['cpu_name'])}, "
              f"{s['ram_gb']:,} GB RAM, {s['storage_gb']:,} GB storage, {s['psu_w']:,} W of "
              f"power supplies, {s['power_inlets']} power cord"
              f"{'s' if s['power_inlets'] > 1 else ''}. Its compatibility is the maker's; "
              "rigcheck checked GPU count, class, power and circuit, CPU cores, RAM, disk and "
              "that every target fits (catalog/systems.csv).", soft_wrap=True)
    origin = ORIGIN_LABEL.get(s["price_origin"], s["price_kind"])
    out.print(f"  [dim]Price ({origin}, {s['price_date']}): {escape(s['price_source'])}[/]",
              soft_wrap=True)
    if s.get("notes") and verbose():
        out.print(f"  [dim]Notes: {escape(s['notes'])}[/]", soft_wrap=True)


def _target_line(t: dict[str, Any], gpu: dict[str, Any], total_inr: float,
                 rates: dict[str, float], display: str) -> str:
    """One target on the pick: fits at what memory and batch, how fast, how long."""
    unit = t.get("unit", "samples/s")
    llm = unit != "samples/s"
    batch = f"micro-batch {t['batch_size']}" if llm else f"batch {t['batch_size']}"
    if unit == "decode tokens/s":
        batch = f"{t['batch_size']} stream{'s' if t['batch_size'] > 1 else ''}"
    verb = "to generate" if unit == "decode tokens/s" else "to train"
    line = (f"{escape(t['recipe'])}: fits ({t['memory_gb']:.1f} of {gpu['vram_gb']:g} GB at "
            f"{batch}), ~{t['samples_per_s']:,.0f} {unit}, {human_duration(t['train_s'])} {verb}")
    if not llm and t["samples_per_s"]:
        line += (f"; {_money(total_inr / t['samples_per_s'], rates, display)} per sample/s")
    return line


def _small_money(inr: float, rates: dict[str, float], display: str) -> str:
    """Paise matter below ₹10 (a LeNet run costs ₹0.02, not ₹0)."""
    if display == "INR" and abs(inr) < 10:
        return f"₹{inr:.2f}"
    return _money(inr, rates, display)


def _render_costs(b: dict[str, Any], rates: dict[str, float], display: str) -> None:
    out = console()
    run = b.get("running_cost")
    if run:
        parts = ", ".join(f"{t['recipe']} {_small_money(t['inr'], rates, display)}"
                          for t in run["per_target"])
        out.print(f"Running cost: {_small_money(run['per_hour_inr'], rates, display)} per hour of "
                  f"training at ₹{run['tariff']['price_inr_per_kwh']:g}/kWh "
                  f"({escape(run['tariff']['label'])}); one run of each target: "
                  f"{escape(parts)} ({run['mix_kwh']:.1f} kWh for the whole mix)")
    cloud = b.get("cloud")
    if cloud:
        o = cloud["offer"]
        price = (f"₹{o['price_per_gpu_hour']:g}" if o["currency"] == "INR"
                 else f"{o['currency']} {o['price_per_gpu_hour']:g}")
        pays = (f"owning pays off after ~{cloud['break_even_hours']:,.0f} hours of training "
                f"(~{cloud['break_even_runs']:,.0f} runs of the mix)"
                if cloud["break_even_hours"] is not None
                else "renting costs less per hour than the electricity: owning never pays off")
        out.print(f"Renting instead ({cloud['match']}): {escape(o['provider'])} "
                  f"{escape(o['gpu_name'])}, {price}/GPU-hour {o['billing']} ({o['date']}), "
                  f"{cloud['gpus']} GPU(s): the mix in "
                  f"{human_duration(cloud['mix_hours'] * 3600)} for "
                  f"{_small_money(cloud['mix_inr'], rates, display)}; {pays}")
    elif run:
        out.print("[dim]Renting: no offer in catalog/cloud.csv for a card rigcheck can "
                  "compare.[/]")

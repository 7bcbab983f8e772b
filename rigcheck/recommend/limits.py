"""Why no build exists, named by its binding limit and what would lift it (issue 9 item 7). Pure.

Checked per GPU option in the order a builder meets them: prices the rules may not use, the wall
circuit, the PSU size, PSU connectors, the board's x16 slots, the chassis (slots, length, GPUs it
is built for, passive cooling), then the budget. Each check asks whether *any* catalog part could
meet it on its own, so the first failing check is a limit no choice of the other parts lifts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rigcheck.parts import Catalog, Gpu
from rigcheck.recommend import rules, systems
from rigcheck.recommend.search import (
    Estimator,
    Option,
    Request,
    _Index,
    cheapest_build,
    gpu_options,
    recommend,
    usable_catalog,
)


@dataclass(frozen=True)
class Limit:
    option: str          # "8 × GeForce RTX 5090"
    limit: str           # "prices" | "CPU" | "CPU cores" | "wall circuit" | "PSU size" |
                         # "PSU connectors" | "board slots" | "chassis" | "budget"
    detail: str
    lift: str


def option_limits(option: Option, catalog: Catalog, request: Request) -> list[Limit]:
    """Every limit this option cannot get past with any part of ``catalog`` (empty: each check
    passes on its own)."""
    gpu, n = option.gpu, option.count
    name = f"{n} × {gpu.name}"
    out: list[Limit] = []
    if not catalog.cpus:
        # No CPU at all: the wall and PSU figures need one (its TDP), so they are not checked;
        # the missing CPU is the limit.
        out.append(Limit(name, "CPU", "no CPU in the catalog the rules may use (none listed, or "
                         "each CPU's price left out: recalled, estimated or over 12 months old)",
                         "add a CPU to catalog/cpus.csv, or import a shop's price list: "
                         "rigcheck catalog import FILE (or --allow-unsourced)"))
    else:
        out.extend(_power_limits(name, gpu, n, catalog, request))
    boards = [b for b in catalog.motherboards if rules.platform_ok(b, request.platform_class)]
    seated = [(b, pos) for b in boards if (pos := rules.seat_gpus(b, gpu, n)) is not None]
    if not seated:
        out.append(Limit(name, "board slots", f"no {request.platform_class or ''} board in the "
                     f"catalog seats {n} {gpu.slot_width}-slot cards at x{rules.MIN_GPU_LANES} "
                     "or more".replace("  ", " "),
                     "fewer GPUs, narrower (blower) cards, or a board with more x16 slots"))
    elif not any(rules.case_ok(c, b, gpu, pos, request.platform_class)
                 for b, pos in seated for c in catalog.cases):
        passive = gpu.cooler == "passive"
        why = ("no chassis rated for passive cards (they need a GPU server's forced airflow)"
               if passive else "no chassis takes the board with these cards (slots, length, "
               f"GPUs it is built for: at most {max((c.max_gpus for c in catalog.cases), default=0)})")
        out.append(Limit(name, "chassis", why,
                         "a GPU server chassis or complete system (catalog/systems.csv)"
                         if passive else "fewer GPUs, or a bigger chassis in the catalog"))
    return out


def _power_limits(name: str, gpu: Gpu, n: int, catalog: Catalog,
                  request: Request) -> list[Limit]:
    """CPU cores, wall circuit, PSU size and PSU connectors, for a catalog with a CPU."""
    out: list[Limit] = []
    cores = rules.cores_needed(n)
    cpus = [c for c in catalog.cpus if c.cores >= cores]
    if not cpus:
        out.append(Limit(name, "CPU cores", f"{cores} cores needed (data loading), the "
                         f"largest CPU has {max(c.cores for c in catalog.cpus)}",
                         "fewer GPUs per machine, or a CPU with more cores in the catalog"))
    cpu = min(cpus or catalog.cpus, key=lambda c: c.tdp_w)
    wall = rules.wall_w(gpu, n, cpu)
    if wall > request.circuit_w:
        out.append(Limit(name, "wall circuit", f"~{wall:,.0f} W at the wall; one circuit gives "
                     f"{request.circuit_w:,.0f} W",
                     "fewer GPUs per machine or --nodes 2 (one circuit each), or a dedicated "
                     "higher-rated supply for a server (--circuit)"))
    need = rules.psu_watts_needed(gpu, n, cpu)
    biggest = max((p.watts for p in catalog.psus), default=0)
    if need > biggest:
        out.append(Limit(name, "PSU size", f"{need:,.0f} W needed with 20% headroom; the largest "
                     f"PSU in the catalog gives {biggest:,} W",
                     "fewer GPUs per machine, or a complete server with redundant supplies "
                     "(catalog/systems.csv)"))
    elif not any(p.watts >= need and rules.psu_connectors_ok(p, gpu, n) for p in catalog.psus):
        out.append(Limit(name, "PSU connectors", "no PSU big enough has the power leads "
                         f"{n} cards need", "a PSU with more PCIe/EPS leads, or fewer GPUs"))
    return out


def binding_limits(catalog: Catalog, request: Request, estimate: Estimator,
                   most: int = 4) -> list[Limit]:
    """When ``recommend`` finds nothing within budget: prices the rules left out, if a build
    exists with them; else nothing more when some build exists above the budget (the budget is
    the limit, and the caller names it); else the limits of the GPU options, fastest first, each
    kind of limit once, at most ``most`` (1 or more)."""
    usable, dropped = usable_catalog(catalog, request)
    complete = systems.complete_systems(catalog, request, estimate)
    dropped = {**dropped, **complete.unusable_prices}
    if dropped:
        loose = dataclasses.replace(request, allow_unsourced=True)
        found = recommend(catalog, loose, estimate).best
        if found is not None:
            # Cards priced in a complete system are bought at the system's price, not theirs.
            included = isinstance(found, systems.SystemBuild) and found.system.gpus_included
            unsourced = [p.name for kind, p, _ in found.parts()
                         if p.id in dropped and not (included and kind == "gpu")]
            return [Limit(f"{found.gpu_count} × {found.gpu.name}", "prices",
                          f"a build exists only with prices the rules leave out: "
                          f"{', '.join(unsourced)} (recalled, estimated or over 12 months old)",
                          "--allow-unsourced (the prices are marked), or import a shop's "
                          "price list: rigcheck catalog import FILE")]
    options, _ = gpu_options(usable, request, estimate)
    index = _Index(usable, request.platform_class)
    if complete.builds or any(cheapest_build(o, index, request.platform_class) is not None
                              for o in options):
        return []
    out: list[Limit] = []
    for option in options:
        for limit in option_limits(option, usable, request):
            if limit.limit not in {seen.limit for seen in out}:
                out.append(limit)
                if len(out) >= most:
                    return out + system_limits(catalog, complete)
    return out + system_limits(catalog, complete)


# --class that takes a system of each chassis class
_CLASS_OF_CHASSIS = {"desktop": "desktop", "workstation": "workstation", "server": "server",
                     "rack": "server"}


def system_limits(catalog: Catalog, complete: systems.Found, most: int = 3) -> list[Limit]:
    """Why each complete system (catalog/systems.csv) cannot serve the request, and what would
    lift it; at most ``most``."""
    out: list[Limit] = []
    gpus = {g.id: g for g in catalog.gpus}
    for s in catalog.systems:
        why = complete.excluded.get(s.id)
        if why is None:
            continue
        kind = complete.limit_kinds[s.id]
        card = gpus.get(s.gpu_ids[0])
        name = f"{s.gpu_count} × {card.name if card else s.gpu_ids[0]} as {s.name}"
        lifts = {
            "GPU count": f"--gpus {s.gpu_count} (sold as configured)",
            "class": f"--class {_CLASS_OF_CHASSIS.get(s.chassis_class, s.chassis_class)} or "
                     "no --class",
            "prices": "--allow-unsourced (the price is marked), or a current quote as an "
                      "overlay row (--catalog DIR with systems.csv)",
            "wall circuit": "a higher-rated supply (--circuit), or one circuit per power cord",
            "supply voltage": "a 200-240 V circuit (--circuit india-16a, eu-16a, us-208v-30a or "
                              "us-240v-30a)",
            "card": "--allow-used or --allow-legacy where the card is sold so",
        }
        other = "another configuration of the system, or another system in catalog/systems.csv"
        lift = "; ".join(lifts.get(k, other) for k in kind.split(" and "))
        out.append(Limit(name, f"complete system: {kind}", why, lift))
        if len(out) >= most:
            break
    return out

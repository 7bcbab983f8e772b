"""Complete GPU servers and workstations (catalog/systems.csv) as builds of their own (issue 9
item 7). Pure.

A system is bought as one machine, so the parts rules (socket, slots, case, PSU leads) were the
maker's job; what rigcheck still judges is what the buyer's plan decides, with the same rules
and sources as a parts build (:mod:`rigcheck.recommend.rules`):

* its price may be used (cited, seen within 12 months: :func:`rules.price_unusable`), and so may
  the GPUs' own prices when the system is a barebone sold without them;
* it holds a GPU count the request asks for (``--gpus``), as configured: a system is not split;
* its chassis is the class asked for (``--class server`` means a server or rack chassis);
* the card may be recommended at all (:func:`rules.gpu_allowed`), and passive cards only in a
  chassis rated for them;
* CPU cores for data loading (:func:`rules.cores_needed`), RAM for the workload
  (:func:`rules.ram_floor_gb`) and disk for the datasets plus working space, as configured;
* every target fits the card (the same performance model as the parts builds);
* the power supplies cover the estimated draw (no 20% headroom rule: the maker sized and
  validated them), and the wall draw fits the circuits the machine can be plugged into: one per
  power inlet, the load shared evenly (tinybox: "two plugs ... plug each plug into a different
  circuit"). A machine that needs two circuits says so.

The draw is the maker's maximum when given (a figure at the wall), else the parts formula: GPUs'
TDP + CPU TDP + 75 W, over 90% PSU efficiency.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from rigcheck.parts import Catalog, Gpu, Price, System
from rigcheck.recommend import rules

# What this module reads of search.py's Request, TargetEstimate and Estimator, as protocols:
# search.py uses this module, so importing search.py here would be an import cycle.


class _Estimate(Protocol):
    @property
    def recipe_id(self) -> str: ...
    @property
    def fits(self) -> bool: ...
    @property
    def memory_gb(self) -> float: ...
    @property
    def train_s(self) -> float: ...


class _Target(Protocol):
    @property
    def disk_gb(self) -> float: ...


class _Request(Protocol):
    @property
    def targets(self) -> Sequence[_Target]: ...
    @property
    def gpu_counts(self) -> tuple[int, ...]: ...
    @property
    def platform_class(self) -> str | None: ...
    @property
    def circuit_w(self) -> float: ...
    @property
    def circuit_v(self) -> float: ...
    @property
    def allow_used(self) -> bool: ...
    @property
    def allow_legacy(self) -> bool: ...
    @property
    def nodes(self) -> int: ...
    @property
    def allow_unsourced(self) -> bool: ...
    @property
    def today(self) -> date | None: ...


# (target, gpu, gpus_per_node, nodes) -> estimate, as search.Estimator
_Estimator = Callable[[Any, Gpu, int, int], _Estimate]

# --class -> the system chassis classes it accepts (catalog/README.md "chassis_class").
CLASS_CHASSIS = {"desktop": ("desktop",), "workstation": ("workstation",),
                 "server": rules.SERVER_CHASSIS}


@dataclass(frozen=True)
class SystemBuild:
    """A complete system as a build: what the search, the report and the costs read of a build
    (price, speed, power), with the system in place of the parts."""
    system: System
    gpu: Gpu
    gpu_count: int
    estimates: tuple[Any, ...]             # search.TargetEstimate, one per target
    total_train_s: float
    nodes: int = 1
    circuits: int = 1                      # wall circuits one machine needs (<= power inlets)
    gpu_positions: tuple[int, ...] = ()    # the maker seats the cards

    @property
    def gpus_inr(self) -> float:
        """GPUs bought on top of the system (a barebone); 0 when the price includes them."""
        return 0.0 if self.system.gpus_included else self.gpu.price.inr * self.gpu_count

    @property
    def node_inr(self) -> float:
        return self.system.price.inr + self.gpus_inr

    @property
    def total_inr(self) -> float:
        return self.node_inr * self.nodes

    @property
    def draw_w(self) -> float:
        return system_draw_w(self.system, self.gpu)

    @property
    def wall_w(self) -> float:
        return system_wall_w(self.system, self.gpu)

    @property
    def psu_watts(self) -> int:
        return self.system.psu_w

    @property
    def psu_headroom_pct(self) -> float:
        return (self.system.psu_w / self.draw_w - 1.0) * 100.0

    @property
    def ram_gb(self) -> int:
        return self.system.ram_gb

    def parts(self) -> list[tuple[str, Any, int]]:
        """(kind, item, count): the cards first (as for a parts build), then the system."""
        return [("gpu", self.gpu, self.gpu_count), ("system", self.system, 1)]


def system_draw_w(system: System, gpu: Gpu) -> float:
    """Sustained DC draw: the maker's maximum (at the wall) x PSU efficiency when given, else
    the parts formula with the system's CPUs."""
    if system.max_draw_w is not None:
        return system.max_draw_w * rules.PSU_EFFICIENCY
    return rules.cards_and_cpu_draw_w(gpu, system.gpu_count, system.cpu_tdp_w)


def system_wall_w(system: System, gpu: Gpu) -> float:
    # Without this branch the result is the same figure (x 0.9 / 0.9): kept for exactness.
    if system.max_draw_w is not None:  # pragma: no mutate
        return system.max_draw_w
    return system_draw_w(system, gpu) / rules.PSU_EFFICIENCY


def circuits_needed(wall_w: float, circuit_w: float) -> int:
    """Wall circuits of ``circuit_w`` that carry ``wall_w`` shared evenly (at least one)."""
    # 1e-9: a draw of exactly n circuits' worth is n circuits, not n + 1 from rounding.
    return max(1, math.ceil(wall_w / circuit_w - 1e-9))  # pragma: no mutate


@dataclass
class Found:
    """The systems a request may use, and why each other one may not."""
    builds: list[SystemBuild] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)        # system id -> why not
    limit_kinds: dict[str, str] = field(default_factory=dict)     # system id -> which rule
    unusable_prices: dict[str, str] = field(default_factory=dict)  # system id -> price why

    def cheapest(self, *, above_inr: float = -math.inf, within_s: float = math.inf
                 ) -> SystemBuild | None:
        """The cheapest build costing more than ``above_inr`` and no slower than ``within_s``."""
        fits = [b for b in self.builds
                if b.total_inr > above_inr and b.total_train_s <= within_s]
        return min(fits, key=_order, default=None)


def _order(b: SystemBuild) -> tuple[Any, ...]:
    return (b.total_inr, b.total_train_s, b.system.id, b.gpu.id)


def complete_systems(catalog: Catalog, request: _Request, estimate: _Estimator,
                     max_age_days: float = rules.BUILD_PRICE_MAX_AGE_DAYS) -> Found:
    """Every system build that passes the request's rules (budget aside), and why the others
    do not. ``catalog`` is the whole catalog: a system's GPU record is needed for its specs even
    when the card's own price may not be used."""
    found = Found()
    gpus = {g.id: g for g in catalog.gpus}
    for system in catalog.systems:
        why = _price_why(system.price, request, max_age_days)
        if why:
            found.unusable_prices[system.id] = why
            _exclude(found, system.id, "prices", why)
            continue
        why_not = _system_why(system, request)
        if why_not:
            _exclude(found, system.id, *why_not)
            continue
        reasons: list[tuple[str, str]] = []
        for gpu_id in system.gpu_ids:
            gpu = gpus.get(gpu_id)  # the loader checks the ids; a catalog built in code may not
            if gpu is None:
                reasons.append(("card", f"{gpu_id} is not in gpus.csv"))
                continue
            judged = _judge(system, gpu, request, estimate, max_age_days)
            if isinstance(judged, SystemBuild):
                found.builds.append(judged)
            else:
                reasons.append(judged)
        if not any(b.system.id == system.id for b in found.builds):
            # the first card's reason (the loader requires a card; a catalog built in code may not)
            _exclude(found, system.id, *(reasons or [("card", "lists no GPU")])[0])
    found.builds.sort(key=_order)
    return found


def _exclude(found: Found, system_id: str, kind: str, why: str) -> None:
    found.excluded[system_id] = why
    found.limit_kinds[system_id] = kind


def _price_why(price: Price, request: _Request, max_age_days: float) -> str | None:
    if request.allow_unsourced or request.today is None:
        return None
    return rules.price_unusable(price, request.today, False, max_age_days)


def _system_why(system: System, request: _Request) -> tuple[str, str] | None:
    """What rules out the system whatever its card: the GPU count, the class, or both (kinds
    joined by " and ", reasons by "; ")."""
    kinds, whys = [], []
    if system.gpu_count not in request.gpu_counts:
        asked = ("any of " + ", ".join(map(str, request.gpu_counts))
                 if len(request.gpu_counts) > 1 else str(request.gpu_counts[0]))
        kinds.append("GPU count")
        whys.append(f"holds {system.gpu_count} GPUs as configured; --gpus asks for {asked}")
    if request.platform_class and system.chassis_class not in CLASS_CHASSIS.get(
            request.platform_class, (request.platform_class,)):
        kinds.append("class")
        whys.append(f"a {system.chassis_class} chassis; --class asks for "
                    f"{request.platform_class}")
    return (" and ".join(kinds), "; ".join(whys)) if kinds else None


def _judge(system: System, gpu: Gpu, request: _Request, estimate: _Estimator,
           max_age_days: float) -> SystemBuild | tuple[str, str]:
    """The build of ``system`` with ``gpu``, or which rule it breaks and why."""
    n = system.gpu_count
    why = rules.gpu_allowed(gpu, request.allow_used, request.allow_legacy)
    if why:
        return ("card", f"{gpu.name}: {why}")
    if not system.gpus_included:
        price_why = _price_why(gpu.price, request, max_age_days)
        if price_why:
            return ("prices", f"a barebone without GPUs, and the {gpu.name} price may "
                          f"not be used: {price_why}")
    if gpu.cooler == "passive" and not (system.passive_gpu_rated
                                        and system.chassis_class in rules.SERVER_CHASSIS):
        return ("chassis", f"{gpu.name} is passively cooled and the chassis is not rated "
                      "for passive cards")
    need_cores = rules.cores_needed(n)
    if system.cpu_cores < need_cores:
        return ("CPU cores", f"{system.cpu_cores} CPU cores; {need_cores} needed to feed "
                      f"{n} GPUs (data loading)")
    draw, wall = system_draw_w(system, gpu), system_wall_w(system, gpu)
    if system.psu_w < draw:
        return ("PSU size", f"{system.psu_w:,} W of power supplies for ~{draw:,.0f} W "
                      "of estimated draw")
    if system.min_input_v is not None and request.circuit_v < system.min_input_v:
        return ("supply voltage", f"its power supplies take {system.min_input_v:g} V or more; "
                      f"the circuit gives {request.circuit_v:g} V")
    inlets = system.power_inlets or 1
    circuits = circuits_needed(wall, request.circuit_w)
    if circuits > inlets:
        cords = "one power cord" if inlets == 1 else f"{inlets} power cords"
        return ("wall circuit", f"~{wall:,.0f} W at the wall; {cords}, "
                      f"{request.circuit_w:,.0f} W per circuit")
    ests = tuple(estimate(t, gpu, n, request.nodes) for t in request.targets)
    misfit = next((e for e in ests if not e.fits), None)
    if misfit is not None:
        return ("workload", f"{misfit.recipe_id} needs {misfit.memory_gb:.1f} GB per card; "
                      f"the {gpu.name} has {gpu.vram_gb:g} GB")
    # default: no targets at all; the per-GPU floor is larger anyway
    ram_floor = math.ceil(rules.ram_floor_gb(
        n, max((e.memory_gb for e in ests), default=0.0)))  # pragma: no mutate
    if system.ram_gb < ram_floor:
        return ("RAM", f"{system.ram_gb} GB of RAM; the workload needs {ram_floor} GB")
    disk = sum(t.disk_gb for t in request.targets) + rules.WORKING_SPACE_GB
    if system.storage_gb < disk:
        return ("storage", f"{system.storage_gb:,} GB of storage; the datasets and working "
                      f"space need {disk:,.0f} GB")
    return SystemBuild(system=system, gpu=gpu, gpu_count=n, estimates=ests,
                       total_train_s=sum(e.train_s for e in ests), nodes=request.nodes,
                       circuits=circuits)


def cheaper(a: Any, b: Any) -> Any:
    """The cheaper of two builds (either may be None); a tie goes to ``a``."""
    if a is None or b is None:
        return a if b is None else b
    return b if b.total_inr < a.total_inr else a


# ---- report ----------------------------------------------------------------------------------

def system_info(build: SystemBuild) -> dict[str, Any]:
    """What the JSON says of the system behind a build: that it is one, and where its price came
    from."""
    s, p = build.system, build.system.price
    return {
        "id": s.id, "name": s.name, "vendor": s.vendor, "chassis_class": s.chassis_class,
        "rack_units": s.rack_units, "gpus_included": s.gpus_included,
        "cpu_name": s.cpu_name, "cpu_cores": s.cpu_cores, "ram_gb": s.ram_gb,
        "storage_gb": s.storage_gb, "psu_w": s.psu_w, "max_draw_w": s.max_draw_w,
        "power_inlets": s.power_inlets or 1, "circuits_needed": build.circuits,
        "price_inr": round(p.inr, 2), "price_usd": p.usd, "price_date": p.date.isoformat(),
        "price_kind": p.kind, "price_basis": p.basis, "price_origin": p.origin,
        "price_source": p.source, "notes": s.notes,
    }


def part_dicts(build: SystemBuild, part: Any, today: date | None) -> list[dict[str, Any]]:
    """The build's parts as the JSON lists them; ``part`` is report's one-part formatter. Cards
    priced in the system are listed at 0 with ``included_in`` naming it, so the parts still add
    up to the total."""
    gpu = part("gpu", build.gpu, build.gpu_count, today)
    if build.system.gpus_included:
        # The card's own gpus.csv price plays no part: its price fields say so, so no renderer
        # marks it stale or unsourced.
        gpu.update(unit_price_inr=0.0, price_inr=0.0, price_usd=None, price_kind="included",
                   price_basis="", price_origin="included", landed_multiplier=1.0,
                   price_age_days=None, stale=False, included_in=build.system.id,
                   price_date=build.system.price.date.isoformat(),
                   source=f"included in the price of {build.system.name}")
    system = part("system", build.system, 1, today)
    s = build.system
    system.update(vendor=s.vendor, chassis_class=s.chassis_class, rack_units=s.rack_units,
                  cpu_name=s.cpu_name, cpu_cores=s.cpu_cores, ram_gb=s.ram_gb,
                  storage_gb=s.storage_gb, psu_w=s.psu_w, power_inlets=s.power_inlets or 1,
                  gpus_included=s.gpus_included)
    return [gpu, system]

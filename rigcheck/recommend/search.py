"""The exact build search over price and predicted training time.

Two objectives (``Request.objective``): ``fastest``, the fastest predicted training of the target
mix within the budget, ties to the cheaper; and ``value`` (the default), the cheapest build whose
predicted time is within ``VALUE_TOLERANCE`` (5%) of that fastest time, or within
``VALUE_SLACK_S`` (a minute) of it when that is more. Beside the pick, the
answer is the price-speed frontier: the builds within budget that no other build beats on both
price and time (issue 9 item 5).

How it stays exact and fast. Predicted time depends only on the GPU model and count, and the
compatibility rules make every other part a *constraint* (:mod:`rigcheck.recommend.rules`). So for
each GPU option the cheapest build is that option plus the cheapest compatible rest, and every
build on the frontier is such a cheapest build (a dearer build of the same option is dominated by
it). An option whose GPU cost plus a lower bound on the rest already exceeds the budget is skipped
without a search. The cheapest rest for an option is an exact minimum over board x CPU pairs, with
memory, case, PSU and storage minimised in closed form per pair and memoised, since many options
share the same physical demands.

``tests/test_recommend_exact.py`` checks the answer against brute force over every combination
of small random catalogs (hypothesis).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, Union

from rigcheck.parts import Case, Catalog, Cpu, Gpu, MemoryKit, Motherboard, Price, Psu, Storage
from rigcheck.recommend import rules

if TYPE_CHECKING:  # systems.py imports this module
    from rigcheck.recommend.systems import SystemBuild


class _Priced(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def price(self) -> Price: ...


_P = TypeVar("_P", bound=_Priced)


class Target(Protocol):
    """What the search needs of a workload: a classic :class:`~rigcheck.recipes.Recipe` or an
    :class:`~rigcheck.llm_recipes.LlmRecipe` (the estimator tells them apart)."""
    @property
    def id(self) -> str: ...
    @property
    def disk_gb(self) -> float: ...           # dataset (and model files) kept on the build's disk
    @property
    def dataset_gb(self) -> float: ...        # what a training run streams from disk
    @property
    def bytes_per_sample(self) -> int: ...


@dataclass(frozen=True)
class TargetEstimate:
    """What the performance model says of one target on one GPU option."""
    recipe_id: str
    fits: bool
    samples_per_s: float          # in ``unit``
    train_s: float                # the whole run: training, or generating the recipe's tokens
    memory_gb: float
    batch_size: int               # per GPU (LLM: the micro-batch or concurrent streams)
    unit: str = "samples/s"       # "samples/s" | "training tokens/s" | "decode tokens/s"
    changes: tuple[str, ...] = ()  # what recommend changed so it fits ("micro-batch 1 with ...")


# (target, gpu, gpus_per_node, nodes) -> estimate; the CLI passes the calibrated performance model.
Estimator = Callable[[Any, Gpu, int, int], TargetEstimate]


@dataclass(frozen=True)
class Request:
    budget_inr: float
    targets: tuple[Target, ...]
    gpu_counts: tuple[int, ...] = (1,)
    platform_class: str | None = None        # "desktop" | "workstation" | "server" | None (any)
    circuit_w: float = rules.CIRCUITS_W[rules.DEFAULT_CIRCUIT]
    circuit_v: float = rules.CIRCUITS[rules.DEFAULT_CIRCUIT].volts   # the circuit's supply voltage
    allow_used: bool = False
    allow_legacy: bool = False
    top: int = 3
    nodes: int = 1                           # identical machines: the budget covers all of them,
                                             # the power rules apply to each
    objective: str = "value"                 # "value" | "fastest"
    allow_unsourced: bool = True             # the CLI passes False unless --allow-unsourced
    today: date | None = None                # for price ages; None: no age rule
    # Targets a build should also run when the budget allows (the default mix's LLM work), in
    # priority order: when no build within budget runs them all, the last is dropped, and so on
    # (see :func:`recommend`); ``targets`` are always required.
    wanted: tuple[Target, ...] = ()


# The value objective: the cheapest build within 5% of the fastest predicted time the budget
# affords (issue 9 item 5), or within a minute of it when that is more: below a minute the
# difference is noise (the model's cross-validated median error is about 9%, and a run's start,
# CUDA context and DataLoader workers, takes seconds), so a 10-second LeNet run does not buy an
# RTX 5090. No upgrade is offered for less than +3% speed.
VALUE_TOLERANCE = 0.05
VALUE_SLACK_S = 60.0
MIN_UPGRADE_SPEEDUP = 0.03
OBJECTIVES = ("value", "fastest")


@dataclass(frozen=True)
class Build:
    gpu: Gpu
    gpu_count: int
    gpu_positions: tuple[int, ...]
    cpu: Cpu
    motherboard: Motherboard
    memory: MemoryKit
    memory_kits: int
    storage: Storage
    psu: Psu
    case: Case
    estimates: tuple[TargetEstimate, ...]
    total_train_s: float
    nodes: int = 1

    @property
    def node_inr(self) -> float:
        """One machine."""
        return (self.gpu.price.inr * self.gpu_count + self.cpu.price.inr
                + self.motherboard.price.inr + self.memory.price.inr * self.memory_kits
                + self.storage.price.inr + self.psu.price.inr + self.case.price.inr)

    @property
    def total_inr(self) -> float:
        """All machines."""
        return self.node_inr * self.nodes

    @property
    def draw_w(self) -> float:
        return rules.draw_w(self.gpu, self.gpu_count, self.cpu)

    @property
    def wall_w(self) -> float:
        return rules.wall_w(self.gpu, self.gpu_count, self.cpu)

    @property
    def psu_headroom_pct(self) -> float:
        return (self.psu.watts / self.draw_w - 1.0) * 100.0

    @property
    def ram_gb(self) -> int:
        return self.memory.capacity_gb * self.memory_kits

    @property
    def psu_watts(self) -> int:
        return self.psu.watts

    def parts(self) -> list[tuple[str, Any, int]]:
        """(kind, part, count) in PCPartPicker order."""
        return [
            ("gpu", self.gpu, self.gpu_count),
            ("cpu", self.cpu, 1),
            ("motherboard", self.motherboard, 1),
            ("memory", self.memory, self.memory_kits),
            ("storage", self.storage, 1),
            ("psu", self.psu, 1),
            ("case", self.case, 1),
        ]


# A parts build or a complete system (catalog/systems.csv, :mod:`rigcheck.recommend.systems`).
AnyBuild = Union[Build, "SystemBuild"]


@dataclass(frozen=True)
class Option:
    gpu: Gpu
    count: int
    estimates: tuple[TargetEstimate, ...]
    total_train_s: float
    needs: rules.Needs
    nodes: int = 1

    @property
    def gpu_cost_inr(self) -> float:
        """GPUs of one machine."""
        return self.gpu.price.inr * self.count


@dataclass(frozen=True)
class Dropped:
    """A wanted target the budget could not add: why, and the cheapest build that runs it with
    the rest of the mix (None: no build in the catalog does)."""
    recipe_id: str
    reason: str
    cheapest: AnyBuild | None


@dataclass
class Recommendation:
    request: Request
    builds: list[AnyBuild]                   # the pick first, then other frontier builds
    upgrade: AnyBuild | None                 # the cheapest build above the budget >= 3% faster
    cheapest: AnyBuild | None                # the cheapest complete build of any option
    excluded: dict[str, str] = field(default_factory=dict)   # "gpu-id xN" -> why not considered
    options_considered: int = 0
    frontier: list[AnyBuild] = field(default_factory=list)  # within budget, cheapest first
    fastest: AnyBuild | None = None          # the fastest build within budget
    excluded_parts: dict[str, str] = field(default_factory=dict)  # part id -> why its price
                                                                  # was not used
    old_prices: bool = False                 # no build with prices of the last 12 months: these
                                             # use older cited prices (marked stale)
    dropped: list[Dropped] = field(default_factory=list)  # wanted targets no build could add
    excluded_systems: dict[str, str] = field(default_factory=dict)  # system id -> why not used

    @property
    def best(self) -> AnyBuild | None:
        return self.builds[0] if self.builds else None


# ---- options ---------------------------------------------------------------------------------

def gpu_options(catalog: Catalog, request: Request, estimate: Estimator
                ) -> tuple[list[Option], dict[str, str]]:
    """Every (GPU, count) that may be recommended, with its predicted speed; and why others not."""
    options: list[Option] = []
    excluded: dict[str, str] = {}
    targets = request.targets
    for gpu in catalog.gpus:
        why = rules.gpu_allowed(gpu, request.allow_used, request.allow_legacy)
        if why:
            excluded[gpu.id] = why
            continue
        for count in request.gpu_counts:
            ests = tuple(estimate(t, gpu, count, request.nodes) for t in targets)
            misfit = [e for e in ests if not e.fits]
            if misfit:
                e = misfit[0]
                excluded[f"{gpu.id} x{count}"] = (
                    f"{e.recipe_id} needs {e.memory_gb:.1f} GB at batch {e.batch_size}; "
                    f"the card has {gpu.vram_gb:g} GB"
                )
                continue
            storage_gb = sum(t.disk_gb for t in targets) + rules.WORKING_SPACE_GB
            # Reads must keep up with training for datasets too big to stay in the page cache.
            # Whole GB: kits come in whole GB, so this changes no answer and lets options share
            # one minimisation.
            ram_floor = float(math.ceil(rules.ram_floor_gb(
                count, max((e.memory_gb for e in ests), default=0.0))))
            read_mbs = max(
                (e.samples_per_s * t.bytes_per_sample / 1e6
                 for t, e in zip(targets, ests) if t.dataset_gb > ram_floor),
                default=0.0,
            )
            options.append(Option(
                gpu=gpu, count=count, estimates=ests,
                total_train_s=sum(e.train_s for e in ests),
                needs=rules.Needs(storage_gb=storage_gb, read_mbs=read_mbs,
                                  circuit_w=request.circuit_w, ram_floor_gb=ram_floor),
                nodes=request.nodes,
            ))
    options.sort(key=lambda o: (o.total_train_s, o.gpu_cost_inr, o.gpu.id, o.count))
    return options, excluded


# ---- the cheapest rest of a build for one option ---------------------------------------------

_V = TypeVar("_V")


def _memo(store: dict[tuple[Any, ...], _V], key: tuple[Any, ...], compute: Callable[[], _V]) -> _V:
    """``store[key]``, computed once."""
    if key not in store:
        store[key] = compute()
    return store[key]


class _Index:
    """The catalog sorted and grouped for the per-option minimisation."""

    def __init__(self, catalog: Catalog, platform_class: str | None):
        def by_price(items: Iterable[_P]) -> list[_P]:
            return sorted(items, key=lambda p: (p.price.inr, p.id))
        self.boards = by_price(b for b in catalog.motherboards
                               if platform_class is None or b.platform_class == platform_class)
        cpus: dict[str, list[Cpu]] = defaultdict(list)
        for cpu in by_price(catalog.cpus):
            cpus[cpu.socket].append(cpu)
        self.cpus = dict(cpus)
        kits: dict[str, list[MemoryKit]] = defaultdict(list)
        for kit in by_price(catalog.memory):
            kits[kit.memory_type].append(kit)
        self.kits = dict(kits)
        self.cases = by_price(c for c in catalog.cases
                              if platform_class != "server"
                              or c.chassis_class in rules.SERVER_CHASSIS)
        self.platform_class = platform_class
        self.psus = by_price(catalog.psus)
        self.storage = by_price(catalog.storage)
        # A lower bound on everything but the GPUs, to skip options that cannot fit the budget.
        cheapest = [min((p.price.inr for p in group), default=math.inf) for group in (
            catalog.cpus, self.boards, catalog.memory, catalog.storage, catalog.psus, self.cases)]
        self.rest_lower_bound = sum(cheapest)
        self._memory_memo: dict[tuple[Any, ...], tuple[MemoryKit, int] | None] = {}
        self._case_memo: dict[tuple[Any, ...], Case | None] = {}
        self._seat_memo: dict[tuple[Any, ...], tuple[int, ...] | None] = {}
        self.cheapest_storage = lru_cache(maxsize=None)(self._cheapest_storage)
        self.rests: dict[tuple[Any, ...], _Rest | None] = {}     # demand -> cheapest rest (memo)
        self.psu_memo: dict[tuple[Any, ...], Psu | None] = {}

    def cheapest_memory(self, board: Motherboard, floor_gb: float
                        ) -> tuple[MemoryKit, int] | None:
        # Memoised on what rules.memory_ok reads of the board (its memory type, slots and
        # maximum), never the board itself: boards of one platform share one answer.
        key = (board.memory_type, board.memory_slots, board.max_memory_gb, floor_gb)
        return _memo(self._memory_memo, key, lambda: self._cheapest_memory(board, floor_gb))

    def _cheapest_memory(self, board: Motherboard, floor_gb: float
                         ) -> tuple[MemoryKit, int] | None:
        best = None
        for kit in self.kits.get(board.memory_type, ()):
            kits = max(1, math.ceil(floor_gb / kit.capacity_gb))
            if not rules.memory_ok(kit, kits, board, floor_gb):
                continue
            key = (kit.price.inr * kits, kit.id)
            if best is None or key < best[0]:
                best = (key, kit, kits)
        return (best[1], best[2]) if best else None

    def seat_gpus(self, board: Motherboard, gpu: Gpu, count: int) -> tuple[int, ...] | None:
        # Memoised on what rules.seat_gpus reads: the board's x16 slots, the card's width and
        # whether it needs an air gap, the count.
        key = (board.x16_slot_positions, board.x16_slot_lanes, gpu.slot_width,
               rules.needs_gap(gpu), count)
        return _memo(self._seat_memo, key, lambda: rules.seat_gpus(board, gpu, count))

    def cheapest_case(self, board: Motherboard, gpu: Gpu, positions: tuple[int, ...]
                      ) -> Case | None:
        # Memoised on what rules.case_ok reads: the board's form factor; the cards' length,
        # cooler, count and the slot openings their positions need. Not the board or card
        # themselves: every variant of a card, and every board of a form factor, share one scan.
        key = (board.form_factor, gpu.length_mm, gpu.cooler,
               rules.slots_needed(positions, gpu), len(positions))
        return _memo(self._case_memo, key, lambda: self._cheapest_case(board, gpu, positions))

    def _cheapest_case(self, board: Motherboard, gpu: Gpu, positions: tuple[int, ...]
                       ) -> Case | None:
        return next((c for c in self.cases
                     if rules.case_ok(c, board, gpu, positions, self.platform_class)), None)

    def _cheapest_storage(self, capacity_gb: float, read_mbs: float) -> Storage | None:
        return next((s for s in self.storage if rules.storage_ok(s, capacity_gb, read_mbs)), None)

    def cheapest_psu(self, gpu: Gpu, count: int, cpu: Cpu) -> Psu | None:
        need = rules.psu_watts_needed(gpu, count, cpu)
        # What the answer depends on: the watts needed and the cards' inputs (memoised: every
        # CPU of the same power over every board asks again).
        key = (need, gpu.power_8pin, gpu.power_16pin, gpu.power_eps8, gpu.tdp_w > 450, count)
        if key not in self.psu_memo:
            self.psu_memo[key] = next(
                (p for p in self.psus
                 if p.watts >= need and rules.psu_connectors_ok(p, gpu, count)), None)
        return self.psu_memo[key]


@dataclass(frozen=True)
class _Rest:
    """Everything but the GPUs: the cheapest compatible set for one kind of GPU demand."""
    cost_inr: float                 # one machine, GPUs excluded
    positions: tuple[int, ...]
    cpu: Cpu
    board: Motherboard
    kit: MemoryKit
    kits: int
    storage: Storage
    psu: Psu
    case: Case


def _demand(option: Option) -> tuple[Any, ...]:
    """What the rest of a build depends on: the GPU's physical and electrical figures, never its
    name or price. Options with equal demands share one minimisation (a price list with many
    variants of a card, or one card at several shops, costs nothing extra)."""
    g = option.gpu
    return (g.slot_width, g.cooler, g.length_mm, g.tdp_w, g.power_8pin, g.power_16pin,
            g.power_eps8, option.count, option.needs)


def _cheapest_rest(option: Option, index: _Index, platform_class: str | None) -> _Rest | None:
    """Exact minimum over board x CPU pairs; memory, case, PSU and storage in closed form."""
    gpu, count = option.gpu, option.count
    storage = index.cheapest_storage(option.needs.storage_gb, option.needs.read_mbs)
    if storage is None:
        return None
    floor = option.needs.ram_floor_gb
    need_cores = rules.cores_needed(count)
    best: tuple[tuple[Any, ...], _Rest] | None = None
    best_cost = math.inf
    for board in index.boards:
        if storage.price.inr + board.price.inr > best_cost:
            break                                   # boards are sorted by price
        if not rules.platform_ok(board, platform_class):
            continue
        positions = index.seat_gpus(board, gpu, count)
        if positions is None:
            continue
        case = index.cheapest_case(board, gpu, positions)
        memory = index.cheapest_memory(board, floor)
        if case is None or memory is None:
            continue
        kit, kits = memory
        base = storage.price.inr + board.price.inr + case.price.inr + kit.price.inr * kits
        for cpu in index.cpus.get(board.socket, ()):
            if base + cpu.price.inr > best_cost:
                break                               # CPUs are sorted by price
            if cpu.cores < need_cores:
                continue
            if rules.wall_w(gpu, count, cpu) > option.needs.circuit_w:
                continue
            psu = index.cheapest_psu(gpu, count, cpu)
            if psu is None:
                continue
            cost = base + cpu.price.inr + psu.price.inr
            key = (cost, board.id, cpu.id)
            if best is None or key < best[0]:
                best_cost = cost
                best = (key, _Rest(cost, positions, cpu, board, kit, kits, storage, psu, case))
    return best[1] if best else None


def cheapest_build(option: Option, index: _Index, platform_class: str | None,
                   cap_inr: float = math.inf) -> Build | None:
    """The cheapest complete, compatible build around this GPU option (None: none exists, or
    none costs ``cap_inr`` or less for all its machines)."""
    key = _demand(option)
    if key not in index.rests:
        index.rests[key] = _cheapest_rest(option, index, platform_class)
    rest = index.rests[key]
    if rest is None or (option.gpu_cost_inr + rest.cost_inr) * option.nodes > cap_inr:
        return None
    return Build(
        gpu=option.gpu, gpu_count=option.count, gpu_positions=rest.positions, cpu=rest.cpu,
        motherboard=rest.board, memory=rest.kit, memory_kits=rest.kits, storage=rest.storage,
        psu=rest.psu, case=rest.case, estimates=option.estimates,
        total_train_s=option.total_train_s, nodes=option.nodes,
    )


# ---- the answer ------------------------------------------------------------------------------

def usable_catalog(catalog: Catalog, request: Request,
                   max_age_days: float = rules.BUILD_PRICE_MAX_AGE_DAYS
                   ) -> tuple[Catalog, dict[str, str]]:
    """The catalog without parts whose price may not be used in a build, and why each was left
    out (:func:`rules.price_unusable`)."""
    if request.allow_unsourced or request.today is None:
        return catalog, {}
    today = request.today
    dropped: dict[str, str] = {}
    kept: dict[str, Any] = {}
    for kind in ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases"):
        keep = []
        for part in getattr(catalog, kind):
            why = rules.price_unusable(part.price, today, False, max_age_days)
            if why:
                dropped[part.id] = why
            else:
                keep.append(part)
        kept[kind] = tuple(keep)
    return replace(catalog, **kept), dropped


def frontier_of(builds: Sequence[AnyBuild]) -> list[AnyBuild]:
    """Builds no other build beats on both price and time (equal on both: the first by id),
    cheapest first."""
    out: list[AnyBuild] = []
    for b in sorted(builds, key=lambda b: (b.total_inr, b.total_train_s, b.gpu.id, b.gpu_count)):
        if not out or b.total_train_s < out[-1].total_train_s:
            out.append(b)
    return out


def pick_of(builds: Sequence[AnyBuild], objective: str) -> AnyBuild | None:
    """The fastest build (ties to the cheaper), or for ``value`` the cheapest build within
    ``VALUE_TOLERANCE`` of the fastest time (ties to the faster)."""
    if not builds:
        return None
    fastest = min(builds, key=lambda b: (b.total_train_s, b.total_inr, b.gpu.id, b.gpu_count))
    if objective == "fastest":
        return fastest
    limit = max(fastest.total_train_s * (1.0 + VALUE_TOLERANCE),
                fastest.total_train_s + VALUE_SLACK_S)
    return min((b for b in builds if b.total_train_s <= limit),
               key=lambda b: (b.total_inr, b.total_train_s, b.gpu.id, b.gpu_count))


def recommend(catalog: Catalog, request: Request, estimate: Estimator) -> Recommendation:
    """The pick and its frontier for ``request.targets`` plus those of ``request.wanted`` a build
    within budget can also run. All of them when one build can; else, in priority order, each
    wanted target is kept when a build within budget still runs it with the required targets and
    those kept so far, and dropped otherwise. Each step is the exact search. The answer's request
    names the targets judged; ``dropped`` says, for each wanted target left out, why and the
    cheapest build that runs it with the rest. When the required targets alone have no build
    within budget, the wanted ones are not judged (the budget is the problem, not them)."""
    if request.objective not in OBJECTIVES:
        raise ValueError(f"objective {request.objective!r}: use one of {', '.join(OBJECTIVES)}")
    wanted = request.wanted
    base = replace(request, wanted=())
    if not wanted:
        return _recommend_aged(catalog, base, estimate)
    everything = _recommend_aged(
        catalog, replace(base, targets=(*request.targets, *wanted)), estimate)
    if everything.best is not None:
        return everything
    kept: list[Target] = []
    dropped: list[Dropped] = []
    result = _recommend_aged(catalog, base, estimate)
    if result.best is None:
        return result
    for target in wanted:
        trial = _recommend_aged(
            catalog, replace(base, targets=(*request.targets, *kept, target)), estimate)
        if trial.best is not None:
            kept.append(target)
            result = trial
        else:
            dropped.append(_dropped(target, trial))
    result.dropped = dropped
    return result


def _dropped(target: Target, trial: Recommendation) -> Dropped:
    """Why ``target`` is not in the answer: ``trial`` is the search that tried to add it."""
    cheapest = trial.cheapest
    if cheapest is not None:
        reason = "every build that runs it costs more than the budget"
    elif trial.options_considered == 0:
        reason = "no GPU in the catalog runs it (too little memory, even after the changes " \
                 "the recipe allows)"
    else:
        reason = "no complete, compatible build in the catalog runs it"
    return Dropped(target.id, reason, cheapest)


def _recommend_aged(catalog: Catalog, request: Request, estimate: Estimator) -> Recommendation:
    result = _recommend(catalog, request, estimate, rules.BUILD_PRICE_MAX_AGE_DAYS)
    if result.best is None and not request.allow_unsourced and request.today is not None:
        # No build with prices seen in the last year: older cited prices (quote or MSRP, never
        # recalled or estimated) rather than nothing; the caller marks them stale.
        older = _recommend(catalog, request, estimate, math.inf)
        if older.best is not None:
            older.old_prices = True
            return older
    return result


def _recommend(catalog: Catalog, request: Request, estimate: Estimator, max_age_days: float
               ) -> Recommendation:
    from rigcheck.recommend import systems  # complete systems, judged by the same request
    complete = systems.complete_systems(catalog, request, estimate, max_age_days)
    catalog, excluded_parts = usable_catalog(catalog, request, max_age_days)
    excluded_parts.update(complete.unusable_prices)
    options, excluded = gpu_options(catalog, request, estimate)
    index = _Index(catalog, request.platform_class)
    budget = request.budget_inr
    within: list[AnyBuild] = [b for b in complete.builds if b.total_inr <= budget]
    seen: set[tuple[Any, ...]] = set()
    for option in options:
        if (option.gpu_cost_inr + index.rest_lower_bound) * option.nodes > budget:
            continue
        # Options come by time, then GPU cost: a later option with the same physical demand and
        # the same time (the same card at another shop) costs at least as much: dominated.
        same = (_demand(option), option.total_train_s)
        if same in seen:
            continue
        seen.add(same)
        build = cheapest_build(option, index, request.platform_class, cap_inr=budget)
        if build is not None:
            within.append(build)
    frontier = frontier_of(within)
    pick = pick_of(frontier, request.objective)
    fastest = pick_of(frontier, "fastest")
    builds: list[AnyBuild] = []
    if pick is not None:
        others = sorted((b for b in frontier if b is not pick),
                        key=lambda b: (b.total_train_s, b.total_inr))
        builds = [pick, *others][: request.top]
    upgrade: AnyBuild | None
    cheapest: AnyBuild | None
    if pick is None or fastest is None:
        upgrade = None
        cheapest = systems.cheaper(_cheapest_of(options, index, request.platform_class),
                                   complete.cheapest())
    else:
        # Above the budget: the cheapest build faster than every build within it and at least
        # MIN_UPGRADE_SPEEDUP faster than the pick.
        limit = min(fastest.total_train_s * (1.0 - 1e-9),
                    pick.total_train_s / (1.0 + MIN_UPGRADE_SPEEDUP))
        upgrade = _cheapest_of([o for o in options if o.total_train_s <= limit], index,
                               request.platform_class)
        upgrade = systems.cheaper(upgrade, complete.cheapest(above_inr=budget, within_s=limit))
        cheapest = frontier[0]
    return Recommendation(
        request=request, builds=builds, upgrade=upgrade, cheapest=cheapest,
        excluded=excluded, options_considered=len(options), frontier=frontier,
        fastest=fastest, excluded_parts=excluded_parts, excluded_systems=complete.excluded,
    )


def _cheapest_of(options: Sequence[Option], index: _Index, platform_class: str | None
                 ) -> Build | None:
    best: Build | None = None
    for option in sorted(options, key=lambda o: o.gpu_cost_inr):
        cap = best.total_inr if best else math.inf
        if (option.gpu_cost_inr + index.rest_lower_bound) * option.nodes > cap:
            break
        build = cheapest_build(option, index, platform_class, cap_inr=cap)
        if build is not None and (best is None or build.total_inr < best.total_inr):
            best = build
    return best

"""The issue-9 sweep: budgets from ₹60,000 to ₹2 crore x classes x GPU counts x --allow-used on
the bundled catalog. Every build offered (pick, frontier, upgrade) is judged by rules written
here, independently of rigcheck.recommend.rules: never a passive card outside a rated server
chassis, never a broken compatibility, power or budget rule."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from datetime import date

import pytest

from rigcheck import catalog as catalog_mod
from rigcheck import recipes
from rigcheck.recommend import Request, recommend
from rigcheck.recommend.speed import perfmodel_estimator

BUDGETS = (60_000, 1_25_000, 5_00_000, 20_00_000, 2_00_00_000)
CLASSES = (None, "desktop", "workstation", "server")
COUNTS = ((1,), (2,), (4,), (8,), tuple(range(1, 9)))
# (watts, volts): India 16 A socket at 230 V, 80% continuous; a US 15 A socket at 120 V; a US
# server-room 240 V 30 A circuit (volts x amps x 0.8)
CIRCUITS = ((2944.0, 230.0), (1440.0, 120.0), (5760.0, 240.0))


def problems(build, request):
    """Every rule this build breaks, written from the sources, not from rules.py."""
    if hasattr(build, "system"):
        return system_problems(build, request)
    g, n, cpu, board, case, psu = (build.gpu, build.gpu_count, build.cpu, build.motherboard,
                                   build.case, build.psu)
    out = []
    if g.cooler == "passive" and not (case.chassis_class in ("server", "rack")
                                      and case.passive_gpu_rated):
        out.append("passive card outside a rated server chassis")
    if request.platform_class == "server" and case.chassis_class not in ("server", "rack"):
        out.append("--class server in a non-server chassis")
    if request.platform_class and board.platform_class != request.platform_class:
        out.append("board class")
    if g.availability == "legacy" or (g.availability == "used" and not request.allow_used):
        out.append("availability")
    if cpu.socket != board.socket:
        out.append("socket")
    if build.memory.memory_type != board.memory_type:
        out.append("memory type")
    modules = build.memory.modules * build.memory_kits
    ram = build.memory.modules * build.memory.module_gb * build.memory_kits
    if modules > board.memory_slots or ram > board.max_memory_gb:
        out.append("memory slots or board maximum")
    if ram < 16 * n or ram < max(e.memory_gb for e in build.estimates):
        out.append("RAM below the workload")
    if any(not e.fits or e.memory_gb > g.vram_gb for e in build.estimates):
        out.append("target does not fit the card")
    if board.form_factor not in case.form_factors or g.length_mm > case.max_gpu_length_mm:
        out.append("case fit")
    if n > case.max_gpus:
        out.append("more GPUs than the chassis is built for")
    pos = build.gpu_positions
    lanes = dict(zip(board.x16_slot_positions, board.x16_slot_lanes))
    gap = 1 if g.cooler == "open-air" else 0
    if len(pos) != n or any(p not in lanes for p in pos):
        out.append("slot positions")
    elif n > 1 and (any(lanes[p] < 8 for p in pos)
                    or any(b - a < g.slot_width + gap for a, b in zip(pos, pos[1:]))):
        out.append("slot lanes or spacing")
    elif max(pos) + g.slot_width - 1 > case.expansion_slots:
        out.append("case slots")
    if cpu.cores < 4 * n + 2:
        out.append("CPU cores")
    draw = n * g.tdp_w + cpu.tdp_w + 75
    if psu.watts < 1.2 * draw:
        out.append("PSU size")
    if draw / 0.9 > request.circuit_w:
        out.append("wall circuit")
    # leads: PCIe 8-pin inputs; 16-pin inputs beyond native leads take 3 (<= 450 W) or 4 leads;
    # EPS inputs beyond the spare EPS leads (the board keeps one) take 2 PCIe leads
    need_16 = n * g.power_16pin
    pcie = n * g.power_8pin + max(0, need_16 - psu.connector_16pin) * (4 if g.tdp_w > 450 else 3)
    pcie += 2 * max(0, n * g.power_eps8 - max(0, psu.eps8_leads - 1))
    if psu.eps8_leads < 1 or pcie > psu.pcie_8pin:
        out.append("power leads")
    return out


def system_problems(build, request):
    """A complete system (catalog/systems.csv): the rules the buyer's plan decides, from the same
    sources (the maker answers for sockets, slots and leads)."""
    s, g, n = build.system, build.gpu, build.gpu_count
    out = []
    if g.cooler == "passive" and not (s.chassis_class in ("server", "rack")
                                      and s.passive_gpu_rated):
        out.append("passive card outside a rated server chassis")
    wanted = {"server": ("server", "rack"), "workstation": ("workstation",),
              "desktop": ("desktop",)}.get(request.platform_class)
    if wanted and s.chassis_class not in wanted:
        out.append("chassis class")
    if g.availability == "legacy" or (g.availability == "used" and not request.allow_used):
        out.append("availability")
    if n != s.gpu_count or g.id not in s.gpu_ids:
        out.append("not the system as configured")
    if s.cpu_cores < 4 * n + 2:
        out.append("CPU cores")
    if s.ram_gb < 16 * n or s.ram_gb < max(e.memory_gb for e in build.estimates):
        out.append("RAM below the workload")
    if any(not e.fits or e.memory_gb > g.vram_gb for e in build.estimates):
        out.append("target does not fit the card")
    if s.storage_gb < sum(t.disk_gb for t in request.targets) + 200:
        out.append("storage")
    # the maker's maximum is a wall figure; else the parts estimate, 90% efficient supplies
    wall = s.max_draw_w if s.max_draw_w else (n * g.tdp_w + s.cpu_tdp_w + 75) / 0.9
    if s.psu_w < wall * 0.9:
        out.append("power supplies below the draw")
    # one circuit per power cord at most, the load shared evenly
    if wall > request.circuit_w * (s.power_inlets or 1):
        out.append("wall circuits")
    # supplies that take 200-240 V only cannot run on a 120 V circuit at any current
    if s.min_input_v and request.circuit_v < s.min_input_v:
        out.append("supply voltage")
    price = s.price.inr + (0 if s.gpus_included else n * g.price.inr)
    if abs(build.total_inr - price * build.nodes) > 1:
        out.append("total is not the system's price")
    return out


def with_gpu_server(catalog):
    """The bundled catalog plus one made-up rated GPU server chassis (so passive cards, 4-8 GPU
    server builds and --class server are reached whatever the bundled cases are)."""
    rm44 = next(c for c in catalog.cases if c.chassis_class == "rack")
    server = dataclasses.replace(rm44, id="test-gpu-server", name="TEST 4U GPU server",
                                 form_factors=("SSI-EEB", "EEB", "E-ATX", "ATX"),
                                 max_gpu_length_mm=340, expansion_slots=11,
                                 passive_gpu_rated=True, max_gpus=8)
    return dataclasses.replace(catalog, cases=(*catalog.cases, server))


@pytest.fixture(scope="module", params=["bundled", "with-gpu-server"])
def setting(request):
    catalog = catalog_mod.load_catalog()
    if request.param != "bundled":
        catalog = with_gpu_server(catalog)
    targets = recipes.default_mix(recipes.load_recipes())
    estimate = functools.lru_cache(maxsize=None)(perfmodel_estimator())
    return catalog, targets, estimate


@pytest.mark.parametrize("circuit_w, circuit_v", CIRCUITS)
@pytest.mark.parametrize("allow_used", [False, True])
@pytest.mark.parametrize("platform", CLASSES)
def test_sweep_never_breaks_a_rule(setting, platform, allow_used, circuit_w, circuit_v):
    catalog, targets, estimate = setting
    checked = 0
    for budget, counts in itertools.product(BUDGETS, COUNTS):
        request = Request(budget_inr=budget, targets=targets, gpu_counts=counts,
                          platform_class=platform, allow_used=allow_used, circuit_w=circuit_w,
                          circuit_v=circuit_v,
                          top=3, allow_unsourced=True, today=date(2026, 12, 2))
        result = recommend(catalog, request, estimate)
        offered = [*result.builds, *result.frontier]
        for build in offered:
            assert build.total_inr <= budget
        if result.upgrade is not None:
            offered.append(result.upgrade)
        for build in offered:
            where = build.system.id if hasattr(build, "system") else build.case.id
            assert problems(build, request) == [], (budget, counts, build.gpu.id, where)
            assert build.gpu_count in counts
            checked += 1
    assert checked > 0


def test_sweep_reaches_big_and_passive_cases():
    """Guard: the sweep must meet multi-GPU builds and passive cards (else it tests little)."""
    catalog = with_gpu_server(catalog_mod.load_catalog())
    targets = recipes.default_mix(recipes.load_recipes())
    result = recommend(catalog, Request(budget_inr=2_00_00_000, targets=targets,
                                        gpu_counts=tuple(range(1, 9)), allow_used=True,
                                        allow_unsourced=True), perfmodel_estimator())
    assert result.best is not None
    assert max(b.gpu_count for b in result.frontier) >= 2
    assert any(b.gpu.cooler == "passive" for b in result.frontier)

"""GPU health: lost GPUs, memory errors, throttling, modes and other tenants of the GPU.

Thresholds from DCGM (``common/DcgmGPUHardwareLimits.h``, ``nvvs/src/Software.cpp``, the health
watch's retired-pages rule): 63 retired pages (single- and double-bit together) fail; more than 15
double-bit retired pages is DCGM's soft limit (it fails a GPU past it whose double-bit pages keep
growing by more than one a week: one snapshot cannot see the rate, so rigcheck warns); 512
uncorrectable remapped rows fail; any pending retirement/remap fails.
"""

from __future__ import annotations

from rigcheck.doctor.checks._util import (
    gib,
    is_busy,
    join,
    label,
    live_gpus,
    need_field,
    need_gpus,
    not_collected,
)
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

CAT = "gpu_health"
DCGM_ERRORS = "https://github.com/NVIDIA/DCGM/blob/master/dcgmlib/dcgm_errors.h"
MAX_RETIRED_PAGES = 63      # DCGM_LIMIT_MAX_RETIRED_PAGES
SOFT_RETIRED_PAGES = 15     # DCGM_LIMIT_MAX_RETIRED_PAGES_SOFT_LIMIT, double-bit pages only
MAX_ROW_REMAP_UNC = 512     # DCGM_LIMIT_MAX_ROW_REMAP_UNCORRECTABLE


@check("gpu.lost", CAT, "no GPU lost", source="https://github.com/wilicc/gpu-burn/issues/1")
def lost(facts: Facts, ctx: Context) -> Outcome:
    nv = facts.nvml
    if "GPU_IS_LOST" in (nv.error or ""):
        return fail("NVML reports a GPU has fallen off the bus (NVML_ERROR_GPU_IS_LOST)",
                    "Xid 79: power, PCIe riser/seating, overheating or a failing card.",
                    "sudo dmesg -T | grep -i xid; sudo reboot   # check PSU cables and seating if it recurs")
    gone = need_gpus(facts)
    if gone and not nv.gpus:
        return gone
    lost_gpus = [g for g in nv.gpus if g.lost]
    if lost_gpus:
        return fail(
            f"{len(lost_gpus)} of {len(nv.gpus)} GPUs lost: {', '.join(label(g) for g in lost_gpus)}",
            "NVML_ERROR_GPU_IS_LOST: the GPU stopped answering (\"GPU has fallen off the bus\", "
            "Xid 79). Usually power delivery, the PCIe riser or seating, or heat.",
            "sudo dmesg -T | grep -iE 'Xid|fallen off'; sudo reboot   # reseat the card and check "
            "its power cables if it recurs; RMA if it keeps happening",
        )
    return ok(f"all {len(nv.gpus)} GPU(s) respond")


@check("gpu.ecc_errors", CAT, "no uncorrectable ECC errors", source=DCGM_ERRORS)
def ecc_errors(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "ecc_uncorrected_volatile", "ecc_mode", "ecc")
    if gone:
        gone2 = need_field(facts, "ecc_uncorrected_aggregate")
        if gone2:
            return gone
    vol = [(g, g.ecc_uncorrected_volatile) for g in live_gpus(facts) if (g.ecc_uncorrected_volatile or 0) > 0]
    if vol:
        return fail(
            "volatile uncorrectable ECC errors: " + join([f"{label(g)}: {n}" for g, n in vol]),
            "Double-bit errors since the last reset can corrupt results; DCGM fails a GPU with "
            "any volatile double-bit error.",
            "Drain the GPU and reset it or reboot: sudo nvidia-smi -i "
            + ",".join(str(g.index) for g, _ in vol) + " -r",
        )
    agg = [(g, g.ecc_uncorrected_aggregate) for g in live_gpus(facts) if (g.ecc_uncorrected_aggregate or 0) > 0]
    if agg:
        return warn("past uncorrectable ECC errors (lifetime): " + join([f"{label(g)}: {n}" for g, n in agg]),
                    "None since the last reset; watch whether the count grows.",
                    "nvidia-smi -q -d ECC,PAGE_RETIREMENT,ROW_REMAPPER")
    return ok("no uncorrectable ECC errors")


@check("gpu.retired_pages", CAT, "no pending or excess retired pages",
       source="https://github.com/Azure/azhpc-diagnostics/issues/75")
def retired_pages(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "retired_pages_pending", "retired_pages", "page_retirement")
    if gone:
        gone2 = need_field(facts, "retired_pages_dbe")
        if gone2:
            from rigcheck.doctor.wheels import parse_capability
            caps = [parse_capability(g.compute_capability) for g in live_gpus(facts)]
            if caps and all(c and c >= (8, 0) for c in caps):
                return skip("page retirement is replaced by row remapping on Ampere and newer "
                            "(see gpu.row_remap)")
            return gone
    pend = [g for g in live_gpus(facts) if g.retired_pages_pending]
    if pend:
        return fail(f"page retirement pending on {', '.join(label(g) for g in pend)}",
                    "Retirement takes effect at the next reset; until then the bad pages can be used.",
                    "sudo nvidia-smi -i " + ",".join(str(g.index) for g in pend) + " -r   # or reboot")
    counts = [(g, (g.retired_pages_sbe or 0) + (g.retired_pages_dbe or 0)) for g in live_gpus(facts)]
    many = [(g, n) for g, n in counts if n >= MAX_RETIRED_PAGES]
    if many:
        return fail("retired pages at DCGM's limit: " + join([f"{label(g)}: {n}" for g, n in many]),
                    f"{MAX_RETIRED_PAGES} or more retired pages: the memory is failing.",
                    "Run a field diagnostic (dcgmi diag -r 3) and RMA the card.")
    some = [(g, g.retired_pages_dbe) for g in live_gpus(facts)
            if (g.retired_pages_dbe or 0) > SOFT_RETIRED_PAGES]
    if some:
        return warn("many double-bit retired pages: "
                    + join([f"{label(g)}: {n}" for g, n in some]),
                    f"Past DCGM's soft limit of {SOFT_RETIRED_PAGES} double-bit retired pages; "
                    "DCGM fails the GPU when they keep growing by more than one a week.",
                    "Count again in a week (nvidia-smi -q -d PAGE_RETIREMENT); "
                    "run dcgmi diag -r 3 now.")
    if not any(n for _, n in counts):
        return ok(f"no pending page retirement, no retired pages on {len(counts)} GPU(s)")
    return ok("no pending page retirement; " + join([f"{label(g)}: {n} retired" for g, n in counts if n]))


@check("gpu.row_remap", CAT, "no pending or failed row remaps", source=DCGM_ERRORS)
def row_remap(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "remapped_rows_pending", "remapped_rows")
    if gone:
        return gone
    gpus = live_gpus(facts)
    failed = [g for g in gpus if g.remapped_rows_failure]
    if failed:
        return fail(f"row remapping failed on {', '.join(label(g) for g in failed)}",
                    "\"had uncorrectable memory errors and row remapping failed\" (DCGM).",
                    "Run a field diagnostic (dcgmi diag -r 3) and RMA the card.")
    pend = [g for g in gpus if g.remapped_rows_pending]
    if pend:
        return fail(f"row remap pending on {', '.join(label(g) for g in pend)}",
                    "\"had memory errors and row remappings are pending\" (DCGM): takes effect at reset.",
                    "sudo nvidia-smi -i " + ",".join(str(g.index) for g in pend) + " -r   # or reboot")
    many = [g for g in gpus if (g.remapped_rows_uncorrectable or 0) >= MAX_ROW_REMAP_UNC]
    if many:
        return fail("uncorrectable row remaps at DCGM's limit: "
                    + join([f"{label(g)}: {g.remapped_rows_uncorrectable}" for g in many]),
                    f">= {MAX_ROW_REMAP_UNC} uncorrectable remaps.", "dcgmi diag -r 3; RMA")
    return ok("no pending or failed row remaps")


@check("gpu.ecc_mode_pending", CAT, "ECC mode change not pending")
def ecc_mode_pending(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "ecc_mode_pending", "ecc_mode")
    if gone:
        return gone
    diff = [g for g in live_gpus(facts)
            if g.ecc_mode_pending is not None and g.ecc_mode_current is not None
            and g.ecc_mode_pending != g.ecc_mode_current]
    if diff:
        return warn("ECC mode change waits for a reset on "
                    + join([f"{label(g)}: {'on' if g.ecc_mode_current else 'off'} -> "
                            f"{'on' if g.ecc_mode_pending else 'off'}" for g in diff]),
                    "Memory capacity and bandwidth change when ECC flips.",
                    "sudo nvidia-smi -r   # or reboot")
    return ok("ECC mode " + ", ".join(sorted({'on' if g.ecc_mode_current else 'off'
                                              for g in live_gpus(facts) if g.ecc_mode_current is not None})))


THERMAL = ("HwThermalSlowdown", "SwThermalSlowdown", "HwSlowdown")


@check("gpu.thermal", CAT, "no thermal slowdown",
       source="https://github.com/tensorflow/tensorflow/issues/40042")
def thermal(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "throttle_reasons")
    if gone and need_field(facts, "temperature_c"):
        return gone  # neither clock-event reasons nor temperatures: nothing to judge
    hot = [(g, [r for r in g.throttle_reasons or [] if r in THERMAL]) for g in live_gpus(facts)]
    hot = [(g, rs) for g, rs in hot if rs]
    if hot:
        return fail(
            "clocks cut for heat/hardware: " + join([f"{label(g)}: {'+'.join(rs)} at "
                                                     f"{g.temperature_c or '?'} °C" for g, rs in hot]),
            "HwSlowdown/thermal slowdown halve clocks or worse; training slows over time.",
            "Improve airflow, clean the fans, check the fan curve and the case; "
            "watch: nvidia-smi -q -d PERFORMANCE,TEMPERATURE -l 1",
        )
    near = [g for g in live_gpus(facts) if g.temperature_c is not None
            and g.temperature_slowdown_c and g.temperature_c >= g.temperature_slowdown_c - 5]
    if near:
        return warn("near the slowdown temperature: " + join([f"{label(g)}: {g.temperature_c:.0f} °C "
                    f"(slowdown at {g.temperature_slowdown_c:.0f} °C)" for g in near]),
                    "Within 5 °C of the point where the GPU cuts its clocks.",
                    "Improve airflow; nvidia-smi -q -d TEMPERATURE")
    temps = [g.temperature_c for g in live_gpus(facts) if g.temperature_c is not None]
    return ok("no thermal slowdown" + (f" (hottest GPU {max(temps):.0f} °C)" if temps else ""))


@check("gpu.power_throttle", CAT, "no power capping under load",
       source="https://github.com/mlfoundations/open_clip/issues/703")
def power_throttle(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "throttle_reasons")
    if gone:
        return gone
    brake = [g for g in live_gpus(facts) if "HwPowerBrakeSlowdown" in (g.throttle_reasons or [])]
    if brake:
        return fail("hardware power brake active on " + ", ".join(label(g) for g in brake),
                    "The board or PSU asserted power brake: a power-delivery problem.",
                    "Check the PSU rating and each GPU power cable (no daisy-chained 8-pins).")
    capped = [g for g in live_gpus(facts) if "SwPowerCap" in (g.throttle_reasons or [])]
    low = [g for g in capped if g.power_draw_w and g.power_limit_w and g.power_draw_w < 0.7 * g.power_limit_w]
    if low:
        return warn("power-capped far below the limit: " + join(
            [f"{label(g)}: {g.power_draw_w:.0f} W of {g.power_limit_w:.0f} W" for g in low]),
            "SW power cap at low draw points at power delivery or a BMC limit.",
            "Check PSU and cables; nvidia-smi -q -d POWER,PERFORMANCE")
    busy = [g for g in capped if is_busy(g)]
    if busy:
        return ok("at the power limit under load (normal for a busy GPU): "
                  + ", ".join(label(g) for g in busy))
    return ok("no power capping")


@check("gpu.power_limit", CAT, "power limit at its default")
def power_limit(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "power_limit_w")
    if gone:
        return gone
    lowered = [g for g in live_gpus(facts) if g.power_limit_w and g.power_default_limit_w
               and g.power_limit_w < 0.9 * g.power_default_limit_w]
    if lowered:
        return warn("power limit lowered: " + join([f"{label(g)}: {g.power_limit_w:.0f} W of default "
                    f"{g.power_default_limit_w:.0f} W" for g in lowered]),
                    "Deliberate for quiet/efficient running; otherwise it costs speed.",
                    "; ".join(f"sudo nvidia-smi -i {g.index} -pl {g.power_default_limit_w:.0f}" for g in lowered))
    limits = sorted({f"{g.power_limit_w:.0f} W" for g in live_gpus(facts) if g.power_limit_w})
    return ok("power limits at default" + (f" ({', '.join(limits)})" if limits else ""))


@check("gpu.memory_in_use", CAT, "GPU memory free of other processes",
       source="https://github.com/pytorch/pytorch/issues/1085")
def memory_in_use(facts: Facts, ctx: Context) -> Outcome:
    """Memory held while the GPU is idle points at orphaned workers; a busy GPU is a running job."""
    gone = need_field(facts, "memory_used_mib")
    if gone:
        return gone
    held: list[str] = []
    running: list[str] = []
    for g in live_gpus(facts):
        procs = [p for p in g.processes or [] if p.kind == "compute"]
        used, total = g.memory_used_mib or 0, g.memory_total_mib or 0
        # A desktop or the CUDA context of a monitoring agent holds a few hundred MiB; a leaked
        # run holds GiBs. Flag over 10% of the card and over 1 GiB.
        if not total or used < 0.10 * total or used < 1024:
            continue
        who = ", ".join(f"pid {p.pid} {p.name or ''} {gib(p.used_mib)}".replace("  ", " ")
                        for p in procs[:3])
        text = f"{label(g)}: {gib(used)} of {gib(total)} used" + (f" by {who}" if who else "")
        (running if is_busy(g) else held).append(text)
    if held:
        return warn("GPU memory held while the GPU is idle: " + join(held),
                    "Leftover DataLoader workers of a killed run keep their memory and cause "
                    "\"CUDA out of memory\" with nothing of yours running.",
                    "nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv; "
                    "sudo fuser -v /dev/nvidia*   # then kill the stale pids")
    if running:
        return ok("in use by a running job: " + join(running))
    return ok("GPU memory free (under 10% or 1 GiB used)")


@check("gpu.compute_mode", CAT, "compute mode Default",
       source="https://github.com/NVIDIA/DIGITS/issues/2005")
def compute_mode(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "compute_mode")
    if gone:
        return gone
    prohibited = [g for g in live_gpus(facts) if g.compute_mode == "Prohibited"]
    excl = [g for g in live_gpus(facts) if (g.compute_mode or "").startswith("Exclusive")]
    taken = [g for g in excl if any(p.kind == "compute" for p in g.processes or [])]
    if prohibited or taken:
        bad = prohibited + taken
        return fail(
            "GPU not usable by a new process: " + join([f"{label(g)}: {g.compute_mode}"
                                                         + (" with a process on it" if g in taken else "")
                                                         for g in bad]),
            "\"all CUDA-capable devices are busy or unavailable\" (cudaError 46).",
            "; ".join(f"sudo nvidia-smi -i {g.index} -c DEFAULT" for g in bad) + "   # or pick a free GPU",
        )
    if excl:
        return warn("exclusive-process mode on " + ", ".join(label(g) for g in excl),
                    "Only one process at a time: DataLoader workers are fine, but a second job or "
                    "a notebook next to a run gets \"busy or unavailable\".",
                    "; ".join(f"sudo nvidia-smi -i {g.index} -c DEFAULT" for g in excl))
    return ok("compute mode Default")


@check("gpu.mig", CAT, "MIG mode", source="https://github.com/pytorch/pytorch/issues/102715")
def mig(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "mig_mode_current", "mig_mode")
    if gone:
        return gone
    on = [g for g in live_gpus(facts) if g.mig_mode_current]
    pending = [g for g in live_gpus(facts) if g.mig_mode_pending is not None
               and g.mig_mode_current is not None and g.mig_mode_pending != g.mig_mode_current]
    if pending:
        return warn("MIG mode change pending on " + ", ".join(label(g) for g in pending),
                    "It takes effect after a GPU reset.", "sudo nvidia-smi -r")
    if on:
        return warn(
            "MIG enabled on " + ", ".join(label(g) for g in on),
            "torch sees MIG slices, not the whole GPU, and one process can use only one slice: "
            "multi-GPU training across slices is impossible (a CUDA limitation).",
            "nvidia-smi -L   # then: export CUDA_VISIBLE_DEVICES=MIG-<uuid>; to disable (admin): "
            "sudo nvidia-smi -i " + ",".join(str(g.index) for g in on) + " -mig 0 && sudo nvidia-smi -r",
        )
    return ok("MIG off")


@check("gpu.display", CAT, "no display on the compute GPU",
       source="https://github.com/NVIDIA/DCGM/blob/master/nvvs/src/Software.cpp")
def display(facts: Facts, ctx: Context) -> Outcome:
    gone = need_gpus(facts)
    if gone:
        return gone
    gpus = live_gpus(facts)
    if all(g.display_active is None and g.processes is None for g in gpus):
        return skip(not_collected(facts, "display_active") or "display state not reported")
    shown = [g for g in gpus if g.display_active or any(p.kind == "graphics" for p in g.processes or [])]
    if shown and len(gpus) > 1:
        return warn("a display or graphics processes on " + ", ".join(label(g) for g in shown),
                    "The desktop takes memory and time slices from training and can trip the "
                    "watchdog on long kernels. With several GPUs, train on the others.",
                    "export CUDA_VISIBLE_DEVICES=<the GPUs without a display>  # or drive displays from the iGPU")
    if shown:
        return ok(f"{label(shown[0])} also drives the display (expected on a single-GPU desktop; "
                  "it costs some memory)")
    return ok("no display or graphics processes on the GPUs")

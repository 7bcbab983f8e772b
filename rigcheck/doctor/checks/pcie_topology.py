"""PCIe link and multi-GPU topology.

Idle-state false positives avoided: GPUs lower their PCIe generation when idle ("These may be
reduced when the GPU is not in use", nvidia-smi docs; nvtop#6), so a current generation below the
maximum is a fault only while the GPU is busy. The *maximum* width is the lower of the GPU's and
the slot's, so a card in an x4 slot shows ``pcie_width_max == 4`` even at idle.
"""

from __future__ import annotations

from rigcheck.doctor.checks._util import gpu_count, is_busy, join, label, live_gpus, need_field
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

CAT = "pcie_topology"
MOVE = ("Move the card to a CPU-attached x16 slot, use a PCIe 4.0/5.0-rated riser, and check the "
        "BIOS link-speed setting; verify: nvidia-smi -q -d PCIE   (or sudo lspci -vv | grep -E 'LnkCap|LnkSta')")


@check("pcie.link_under_load", CAT, "PCIe link at full speed under load",
       source="https://github.com/janhq/jan/issues/183")
def link_under_load(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "pcie_gen_current", "pcie")
    if gone:
        return gone
    down: list[str] = []
    idle_down: list[str] = []
    for g in live_gpus(facts):
        gen, gen_max = g.pcie_gen_current, g.pcie_gen_max
        width, width_max = g.pcie_width_current, g.pcie_width_max
        if gen is None or gen_max is None or width is None or width_max is None:
            continue
        if gen >= gen_max and width >= width_max:
            continue
        text = (f"{label(g)}: Gen{g.pcie_gen_current} x{g.pcie_width_current} "
                f"(max Gen{g.pcie_gen_max} x{g.pcie_width_max})")
        (down if is_busy(g) else idle_down).append(text)
    if down:
        return fail("PCIe link below its maximum while busy: " + join(down),
                    "Host-to-device copies and multi-GPU traffic slow down; a bad riser, a "
                    "slot shared with other devices, or signal problems.", MOVE)
    if idle_down:
        return ok("link downshifted at idle (normal power saving, not a fault): " + join(idle_down))
    return ok("PCIe links at their maximum")


@check("pcie.slot_width", CAT, "GPU slot gives at least x8",
       source="https://github.com/janhq/jan/issues/183")
def slot_width(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "pcie_width_max", "pcie")
    if gone:
        return gone
    narrow = [g for g in live_gpus(facts) if g.pcie_width_max is not None and g.pcie_width_max < 8]
    # Laptop GPUs are wired with x4/x8 by design; nothing to move.
    laptop = [g for g in narrow if "laptop" in (g.name or "").lower()]
    narrow = [g for g in narrow if g not in laptop]
    if laptop and not narrow:
        return ok("laptop GPU on " + ", ".join(f"x{g.pcie_width_max}" for g in laptop)
                  + " (wired so by design)")
    if narrow:
        return warn(
            "GPU in a narrow slot: " + join([f"{label(g)}: x{g.pcie_width_max} max"
                                             + (f" Gen{g.pcie_gen_max}" if g.pcie_gen_max else "")
                                             for g in narrow]),
            "An x4 (often chipset) slot gives a quarter of x16 bandwidth: data loading to the "
            "GPU and multi-GPU all-reduce over PCIe slow down; single-GPU compute-bound training "
            "is barely affected.", MOVE)
    widths = sorted({f"x{g.pcie_width_max}" for g in live_gpus(facts) if g.pcie_width_max})
    return ok(f"slot widths {', '.join(widths)}")


@check("pcie.p2p", CAT, "P2P between GPU pairs",
       source="https://github.com/NVIDIA/nccl/issues/257")
def p2p(facts: Facts, ctx: Context) -> Outcome:
    if gpu_count(facts) < 2:
        return skip(f"{gpu_count(facts)} GPU(s): P2P needs two or more")
    links = facts.nvml.p2p
    if not links:
        return skip("P2P status not collected")
    bad = [f"{lk.gpu_a}<->{lk.gpu_b}: {lk.status}" for lk in links if lk.status != "OK"]
    if bad and len(bad) == len(links):
        iommu = " IOMMU is on, which often blocks P2P." if facts.host.iommu else ""
        return warn(
            f"no P2P between any of {len(links)} GPU pair(s): " + join(bad),
            "NCCL falls back to copies through host memory: slower all-reduce. Consumer "
            "GeForce cards since the RTX 40 series do not support P2P at all (a product choice, "
            f"not a fault).{iommu}",
            "nvidia-smi topo -p2p r   # on servers: boot with iommu=pt or disable ACS in the BIOS",
        )
    if bad:
        return warn(f"P2P unavailable for {len(bad)} of {len(links)} pair(s): " + join(bad),
                    "Some pairs fall back to host-memory copies.", "nvidia-smi topo -m")
    return ok(f"P2P OK for all {len(links)} GPU pair(s)")


@check("pcie.numa", CAT, "GPUs spread across NUMA nodes",
       source="https://github.com/NVIDIA/nccl-tests/issues/115")
def numa(facts: Facts, ctx: Context) -> Outcome:
    gone = need_field(facts, "numa_node")
    if gone:
        return gone
    nodes = sorted({g.numa_node for g in live_gpus(facts) if g.numa_node is not None and g.numa_node >= 0})
    if len(nodes) > 1:
        return ok(f"GPUs on NUMA nodes {', '.join(map(str, nodes))}: pin each rank's data loading "
                  "to its GPU's node (torchrun --numa-binding or numactl) for full H2D bandwidth")
    return ok("all GPUs on one NUMA node" if nodes else "NUMA placement not reported (single node)")

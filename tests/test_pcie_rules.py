"""PCIe and topology checks (rigcheck/doctor/checks/pcie_topology.py) pinned by value.

The rules, from the module's docstring and its sources: a link below its maximum generation or
width is a fault only while the GPU is busy (idle GPUs downshift, nvidia-smi docs); a maximum
width under x8 is a narrow slot unless the GPU is a laptop part; P2P that fails for every pair
versus for some (nccl#257); GPUs on more than one NUMA node (nccl-tests#115).
"""

from __future__ import annotations

import pytest

from rigcheck.doctor.checks import pcie_topology as pcie
from rigcheck.doctor.registry import Context
from rigcheck.facts import P2PLink
from tests.doctor_factories import healthy


def _out(fn, f):
    out = fn(f, Context())
    return str(out.status), out.summary


def _busy(g):
    g.throttle_reasons, g.utilization_gpu_pct = [], 98.0


# ------------------------------------------------------------------ link under load

def _link(gen, gen_max, width, width_max, busy=True):
    f = healthy(1)
    g = f.nvml.gpus[0]
    g.pcie_gen_current, g.pcie_gen_max, g.pcie_width_current, g.pcie_width_max = gen, gen_max, width, width_max
    if busy:
        _busy(g)
    return _out(pcie.link_under_load, f)


def test_a_busy_link_below_its_generation_or_width_fails() -> None:
    assert _link(4, 5, 16, 16) == (
        "fail", "PCIe link below its maximum while busy: GPU 0 (NVIDIA H100 80GB HBM3): Gen4 x16 (max Gen5 x16)")
    assert _link(5, 5, 8, 16) == (
        "fail", "PCIe link below its maximum while busy: GPU 0 (NVIDIA H100 80GB HBM3): Gen5 x8 (max Gen5 x16)")


@pytest.mark.parametrize(("gen", "width"), [(5, 16), (6, 32)])   # at (or, garbled, above) the maximum
def test_a_link_at_its_maximum_is_ok(gen, width) -> None:
    assert _link(gen, 5, width, 16) == ("ok", "PCIe links at their maximum")


def test_an_idle_downshift_is_not_a_fault() -> None:
    assert _link(1, 5, 16, 16, busy=False) == (
        "ok", "link downshifted at idle (normal power saving, not a fault): GPU 0 (NVIDIA H100 80GB HBM3): "
              "Gen1 x16 (max Gen5 x16)")


@pytest.mark.parametrize("missing", range(4))
def test_a_gpu_missing_any_link_figure_is_passed_over(missing) -> None:
    vals = [4, 5, 8, 16]                 # below maximum on both counts, busy
    vals[missing] = None
    if missing == 0:                     # no GPU reports the current generation: the check skips
        assert _link(*vals)[0] == "skip"
    else:
        assert _link(*vals) == ("ok", "PCIe links at their maximum")


def test_one_gpu_without_a_current_generation_does_not_hide_the_others() -> None:
    f = healthy(2)
    f.nvml.gpus[0].pcie_gen_current = None
    assert _out(pcie.link_under_load, f) == ("ok", "PCIe links at their maximum")


def test_busy_faults_beat_idle_downshifts_and_lost_gpus_do_not_count() -> None:
    f = healthy(3)
    a, b, c = f.nvml.gpus
    a.pcie_gen_current = 1                       # idle
    b.pcie_gen_current = 3
    _busy(b)
    c.pcie_gen_current, c.lost = 1, True
    _busy(c)
    assert _out(pcie.link_under_load, f) == (
        "fail", "PCIe link below its maximum while busy: GPU 1 (NVIDIA H100 80GB HBM3): Gen3 x16 (max Gen5 x16)")


def test_link_skips_without_the_field() -> None:
    f = healthy(1)
    f.nvml.gpus[0].pcie_gen_current = None
    assert _out(pcie.link_under_load, f) == ("skip", "skipped: pcie_gen_current not reported for any GPU")


# ------------------------------------------------------------------ slot width

def _slots(*specs):
    """specs: (name, width_max, gen_max) per GPU."""
    f = healthy(len(specs))
    for g, (name, width, gen) in zip(f.nvml.gpus, specs):
        g.name, g.pcie_width_max, g.pcie_gen_max = name, width, gen
    return _out(pcie.slot_width, f)


def test_x8_is_wide_enough_x4_is_narrow() -> None:
    assert _slots(("NVIDIA GeForce RTX 3090", 8, 4)) == ("ok", "slot widths x8")
    assert _slots(("NVIDIA GeForce RTX 3090", 4, 4)) == (
        "warn", "GPU in a narrow slot: GPU 0 (NVIDIA GeForce RTX 3090): x4 max Gen4")
    assert _slots(("NVIDIA GeForce RTX 3090", 7, None)) == (
        "warn", "GPU in a narrow slot: GPU 0 (NVIDIA GeForce RTX 3090): x7 max")


def test_a_gpu_without_a_name_in_a_narrow_slot() -> None:
    assert _slots((None, 4, 4)) == ("warn", "GPU in a narrow slot: GPU 0: x4 max Gen4")


def test_a_laptop_gpu_on_x4_is_by_design() -> None:
    assert _slots(("NVIDIA GeForce RTX 4070 Laptop GPU", 4, 4)) == (
        "ok", "laptop GPU on x4 (wired so by design)")


def test_a_laptop_gpu_does_not_excuse_a_desktop_card_in_a_narrow_slot() -> None:
    assert _slots(("NVIDIA GeForce RTX 4070 Laptop GPU", 4, 4), ("NVIDIA GeForce RTX 3090", 4, 3)) == (
        "warn", "GPU in a narrow slot: GPU 1 (NVIDIA GeForce RTX 3090): x4 max Gen3")


def test_slot_widths_listed_once_each_unknown_left_out() -> None:
    assert _slots(("A", 16, 5), ("B", 8, 5), ("C", 16, 5), ("D", None, 5)) == ("ok", "slot widths x16, x8")


def test_slot_width_skips_without_the_field() -> None:
    assert _slots(("A", None, 5))[0] == "skip"


# ------------------------------------------------------------------ P2P

def _p2p(statuses, n_gpus=3, iommu=False):
    f = healthy(n_gpus)
    pairs = [(a, b) for a in range(n_gpus) for b in range(n_gpus) if a < b]
    f.nvml.p2p = [P2PLink(a, b, s) for (a, b), s in zip(pairs, statuses)]
    f.host.iommu = iommu
    return pcie.p2p(f, Context())


def test_p2p_ok_for_every_pair() -> None:
    out = _p2p(["OK", "OK", "OK"])
    assert (str(out.status), out.summary) == ("ok", "P2P OK for all 3 GPU pair(s)")


def test_p2p_failing_for_some_pairs() -> None:
    out = _p2p(["OK", "NOT_SUPPORTED", "OK"])
    assert (str(out.status), out.summary) == ("warn", "P2P unavailable for 1 of 3 pair(s): 0<->2: NOT_SUPPORTED")


def test_p2p_failing_for_every_pair_names_iommu_when_on() -> None:
    out = _p2p(["NOT_SUPPORTED"], n_gpus=2, iommu=True)
    assert (str(out.status), out.summary) == ("warn", "no P2P between any of 1 GPU pair(s): 0<->1: NOT_SUPPORTED")
    assert "IOMMU is on" in out.detail
    assert "IOMMU" not in _p2p(["NOT_SUPPORTED"], n_gpus=2, iommu=False).detail
    assert "IOMMU" not in _p2p(["NOT_SUPPORTED"], n_gpus=2, iommu=None).detail


def test_p2p_needs_two_gpus_and_link_facts() -> None:
    f = healthy(1)
    assert _out(pcie.p2p, f) == ("skip", "skipped: 1 GPU(s): P2P needs two or more")
    f = healthy(2)
    f.nvml.p2p = []
    assert _out(pcie.p2p, f) == ("skip", "skipped: P2P status not collected")


# ------------------------------------------------------------------ NUMA

def _numa(*nodes):
    f = healthy(len(nodes))
    for g, n in zip(f.nvml.gpus, nodes):
        g.numa_node = n
    return _out(pcie.numa, f)


def test_gpus_on_two_nodes_get_the_pinning_advice() -> None:
    status, summary = _numa(0, 1)
    assert status == "ok" and summary.startswith("GPUs on NUMA nodes 0, 1: pin each rank's")


@pytest.mark.parametrize("nodes", [(0, 0), (1, 1), (0, -1), (0, None), (1,)])
def test_one_node_or_unreported_others(nodes) -> None:
    assert _numa(*nodes) == ("ok", "all GPUs on one NUMA node")


def test_numa_minus_one_everywhere_is_not_reported() -> None:
    assert _numa(-1, -1) == ("ok", "NUMA placement not reported (single node)")


def test_numa_skips_without_the_field() -> None:
    assert _numa(None, None)[0] == "skip"

"""Data-parallel scaling terms of perfmodel.scaling pinned by value.

Expectations worked out by hand from the formulas the module cites: the ring all-reduce moves
2 (n-1)/n x the gradient bytes over the slowest link (nccl-tests' bus bandwidth definition);
DDP's last 25 MiB bucket cannot overlap backward; each doubling of GPUs loses a fixed fraction.
"""

from __future__ import annotations

import pytest

from rigcheck.perfmodel import scaling as sc
from tests.parts_factory import gpu


def ada(**kw):
    return gpu("ada", **kw)


def hopper(**kw):
    fields = dict(architecture="Hopper", compute_capability="9.0", form="datacenter",
                  nvlink=True, pcie_gen=5)
    fields.update(kw)
    return gpu("h100", **fields)


# ---- parse_links: defaults from the GPU record ------------------------------------------

def test_default_links_consumer_pcie4_and_100g_network():
    links = sc.parse_links(ada(), None)
    assert links.intra_gbs == 20.0
    assert links.intra_name == "PCIe 4.0 x16"
    assert links.network_gbs == pytest.approx(100 / 8 * 0.9)     # 11.25 GB/s
    assert links.network_name == "100 Gb/s network (default)"


@pytest.mark.parametrize(("gen", "gbs", "name"), [
    (None, 10.0, "PCIe 3.0 x16"), (0, 10.0, "PCIe 3.0 x16"), (2, 10.0, "PCIe 3.0 x16"),
    (3, 10.0, "PCIe 3.0 x16"), (4, 20.0, "PCIe 4.0 x16"), (5, 40.0, "PCIe 5.0 x16"),
    (6, 80.0, "PCIe 6.0 x16"), (7, 80.0, "PCIe 6.0 x16"),
])
def test_default_pcie_generation_clamped_to_3_6(gen, gbs, name):
    links = sc.parse_links(ada(pcie_gen=gen), "")
    assert (links.intra_gbs, links.intra_name) == (gbs, name)


def test_default_nvlink_only_for_datacenter_cards_of_a_known_generation():
    assert sc.parse_links(hopper(), None).intra_gbs == 370.0
    assert sc.parse_links(hopper(), None).intra_name == "NVLink (Hopper)"
    a100 = hopper(architecture="Ampere", compute_capability="8.0", pcie_gen=4)
    assert sc.parse_links(a100, None).intra_gbs == 230.0
    # each condition dropped on its own falls back to the PCIe figure
    assert sc.parse_links(hopper(nvlink=False), None).intra_gbs == 40.0
    assert sc.parse_links(hopper(form="workstation"), None).intra_gbs == 40.0
    ada_dc = ada(form="datacenter", nvlink=True, pcie_gen=4)       # no Ada NVLink figure
    assert sc.parse_links(ada_dc, None).intra_name == "PCIe 4.0 x16"


# ---- parse_links: the --interconnect text ----------------------------------------------

@pytest.mark.parametrize(("text", "gbs", "name"), [
    ("pcie3", 10.0, "PCIe 3.0 x16"), ("pcie 4", 20.0, "PCIe 4.0 x16"),
    ("PCIe5.0", 40.0, "PCIe 5.0 x16"), ("pcie6", 80.0, "PCIe 6.0 x16"),
    ("nvlink-bridge", 40.0, "NVLink bridge"), ("bridge", 40.0, "NVLink bridge"),
])
def test_interconnect_intra_parts(text, gbs, name):
    links = sc.parse_links(hopper(), text)
    assert (links.intra_gbs, links.intra_name) == (gbs, name)


def test_interconnect_nvlink_by_generation_and_bridge_fallback():
    assert sc.parse_links(hopper(), "nvlink").intra_gbs == 370.0
    v100 = hopper(architecture="Volta", compute_capability="7.0")
    assert sc.parse_links(v100, "nvlink").intra_gbs == 130.0
    b200 = hopper(architecture="Blackwell", compute_capability="10.0")
    assert sc.parse_links(b200, "nvlink").intra_gbs == 700.0
    links = sc.parse_links(ada(), "nvlink")               # a GeForce card: the two-card bridge
    assert links.intra_gbs == 40.0
    assert links.intra_name == "NVLink (Ada Lovelace)"


@pytest.mark.parametrize(("text", "gbps", "name"), [
    ("ib-400g", 400.0, "400 Gb/s ib"), ("100g", 100.0, "100 Gb/s network"),
    ("eth-25gbps", 25.0, "25 Gb/s eth"), ("roce_200gb/s", 200.0, "200 Gb/s roce"),
    ("infiniband 12.5g", 12.5, "12.5 Gb/s infiniband"),
])
def test_interconnect_network_speed(text, gbps, name):
    links = sc.parse_links(ada(), text)
    assert links.network_gbs == pytest.approx(gbps / 8 * 0.9)
    assert links.network_name == name
    assert links.intra_gbs == 20.0            # the intra link still comes from the record


def test_interconnect_two_parts_either_separator():
    for text in ("nvlink,ib-400g", "ib-400g + nvlink", " nvlink , , ib-400g "):
        links = sc.parse_links(hopper(), text)
        assert (links.intra_gbs, links.network_gbs) == (370.0, pytest.approx(45.0))


@pytest.mark.parametrize("text", ["pcie7", "pcie2", "ethernet", "nvlink4", "400", "x"])
def test_interconnect_unknown_part_raises(text):
    with pytest.raises(sc.InterconnectError, match=text.strip().lower()):
        sc.parse_links(ada(), text)


# ---- all-reduce, overlap, sync ----------------------------------------------------------

LINKS = sc.Links(intra_gbs=20.0, intra_name="", network_gbs=10.0, network_name="")


def test_allreduce_ring_inside_a_node():
    # 2 x 3/4 x 1 GB / 20 GB/s
    assert sc.allreduce_s(1e9, 4, 1, LINKS) == pytest.approx(0.075)
    assert sc.allreduce_s(1e9, 2, 1, LINKS) == pytest.approx(0.05)
    assert sc.allreduce_s(1e9, 1, 1, LINKS) == 0.0


def test_allreduce_across_nodes_adds_the_network_ring():
    # one GPU a node, 4 nodes: 2 x 3/4 x 1 GB / 10 GB/s
    assert sc.allreduce_s(1e9, 1, 4, LINKS) == pytest.approx(0.15)
    # 8 GPUs a node, 2 nodes: 2 x 7/8 / 20 + 2 x 1/2 / 10
    assert sc.allreduce_s(1e9, 8, 2, LINKS) == pytest.approx(0.0875 + 0.1)


MiB = 1024 * 1024


def test_exposed_comm_overlapped_with_backward():
    # 100 MiB of gradients, 1 s all-reduce: the last of four 25 MiB buckets is 0.25 s
    assert sc.exposed_comm_s(1.0, 0.3, 100 * MiB) == pytest.approx(0.7)   # backward too short
    assert sc.exposed_comm_s(1.0, 0.9, 100 * MiB) == pytest.approx(0.25)  # only the last bucket
    assert sc.exposed_comm_s(1.0, 0.75, 100 * MiB) == pytest.approx(0.25)  # the two meet


def test_exposed_comm_small_gradients_cannot_overlap():
    assert sc.exposed_comm_s(1.0, 5.0, 25 * MiB) == pytest.approx(1.0)   # one bucket
    assert sc.exposed_comm_s(1.0, 5.0, 10 * MiB) == pytest.approx(1.0)
    assert sc.exposed_comm_s(1.0, 5.0, 50 * MiB) == pytest.approx(0.5)
    assert sc.exposed_comm_s(1.0, 5.0, 0.0) == pytest.approx(1.0)


def test_exposed_comm_nothing_to_reduce():
    assert sc.exposed_comm_s(0.0, 1.0, 100 * MiB) == 0.0
    assert sc.exposed_comm_s(-1.0, 0.0, 100 * MiB) == 0.0


@pytest.mark.parametrize(("n", "factor"), [
    (-1, 1.0), (0, 1.0), (1, 1.0), (2, 0.9), (4, 0.81), (8, 0.729), (16, 0.6561),
])
def test_sync_factor_loses_a_fraction_per_doubling(n, factor):
    assert sc.sync_factor(n, 0.1) == pytest.approx(factor)


def test_sync_factor_between_doublings():
    assert sc.sync_factor(3, 0.1) == pytest.approx(0.9 ** 1.5849625007211563)


def test_links_are_frozen():
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        LINKS.intra_gbs = 1.0  # type: ignore[misc]

"""Data-parallel scaling: gradient all-reduce time, overlap with backward, and sync losses.

DDP all-reduces the gradients once per step. A ring all-reduce moves 2(n-1)/n x the gradient bytes
through each GPU's slowest link (nccl-tests' bus-bandwidth definition), so::

    t_allreduce = 2 (n-1)/n x grad_bytes / bus_bandwidth

Across nodes NCCL reduces inside each node first and then over the network, so the two times add.
DDP overlaps the all-reduce with backward in 25 MB buckets (``bucket_cap_mb=25``); the last bucket
cannot overlap, so the exposed time is ``max(t_allreduce - t_backward, t_allreduce x min(1, 25 MB /
grad_bytes))``. On top of that, each doubling of the GPU count loses ``sync_loss_per_doubling``
(stragglers, synchronisation, the input pipeline), fitted on NVIDIA's 8x A100 ResNet-50 figure.

Bus bandwidths are achievable nccl-tests ``all_reduce_perf`` bus bandwidths, approximate and to be
replaced by what ``rigcheck bench --distributed`` measures on the machine:
PCIe 3/4/5 x16 about 10/20/40 GB/s; NVLink about 130 (V100 NVLink 2, DGX-1), 230 (A100 NVLink 3,
DGX A100), 370 (H100 NVLink 4), 700 GB/s (B200 NVLink 5); a GeForce/RTX two-card NVLink bridge
about 40 GB/s. The network between nodes defaults to 100 Gb/s Ethernet at 90% of line rate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rigcheck.parts import Gpu

from .hardware import generation

PCIE_BUSBW_GBS = {3: 10.0, 4: 20.0, 5: 40.0, 6: 80.0}
NVLINK_BUSBW_GBS = {"Volta": 130.0, "Ampere": 230.0, "Hopper": 370.0, "Blackwell": 700.0}
NVLINK_BRIDGE_BUSBW_GBS = 40.0
DEFAULT_NETWORK_GBPS = 100.0
NETWORK_EFFICIENCY = 0.9
DDP_BUCKET_BYTES = 25 * 1024 * 1024


class InterconnectError(ValueError):
    """An --interconnect value we cannot read."""


@dataclass(frozen=True)
class Links:
    intra_gbs: float          # bus bandwidth between the GPUs of one node
    intra_name: str
    network_gbs: float        # bytes/s/1e9 between nodes
    network_name: str


def parse_links(gpu: Gpu, interconnect: str | None) -> Links:
    """``interconnect``: ``None`` (from the GPU record), or comma-separated parts: one of
    ``pcie3|pcie4|pcie5|nvlink|nvlink-bridge`` and/or a network speed like ``100g``, ``eth-100g``,
    ``ib-400g`` (Gb/s). Example: ``"nvlink,ib-400g"``."""
    intra_name = ""
    intra = 0.0
    net_gbps = DEFAULT_NETWORK_GBPS
    net_name = f"{DEFAULT_NETWORK_GBPS:g} Gb/s network (default)"
    for part in filter(None, (p.strip().lower() for p in re.split(r"[,+]", interconnect or ""))):
        if m := re.fullmatch(r"pcie\s*([3-6])(?:\.0)?", part):
            gen = int(m.group(1))
            intra, intra_name = PCIE_BUSBW_GBS[gen], f"PCIe {gen}.0 x16"
        elif part == "nvlink":
            intra = NVLINK_BUSBW_GBS.get(generation(gpu), NVLINK_BRIDGE_BUSBW_GBS)
            intra_name = f"NVLink ({generation(gpu)})"
        elif part in ("nvlink-bridge", "bridge"):
            intra, intra_name = NVLINK_BRIDGE_BUSBW_GBS, "NVLink bridge"
        elif m := re.fullmatch(r"(?:(eth|ethernet|ib|infiniband|roce)[-_ ]?)?(\d+(?:\.\d+)?)\s*g(?:b/?s|bps|bit)?", part):
            net_gbps = float(m.group(2))
            net_name = f"{net_gbps:g} Gb/s {m.group(1) or 'network'}"
        else:
            raise InterconnectError(
                f"interconnect part '{part}' not understood; use pcie3|pcie4|pcie5|nvlink|"
                "nvlink-bridge and/or a network speed like 100g or ib-400g, comma-separated"
            )
    if not intra_name:
        if gpu.nvlink and gpu.form == "datacenter" and generation(gpu) in NVLINK_BUSBW_GBS:
            intra = NVLINK_BUSBW_GBS[generation(gpu)]
            intra_name = f"NVLink ({generation(gpu)})"
        else:
            gen = min(max(int(gpu.pcie_gen or 3), 3), 6)
            intra, intra_name = PCIE_BUSBW_GBS[gen], f"PCIe {gen}.0 x16"
    return Links(intra, intra_name, net_gbps / 8.0 * NETWORK_EFFICIENCY, net_name)


def allreduce_s(grad_bytes: float, n_per_node: int, nodes: int, links: Links) -> float:
    t = 0.0
    if n_per_node > 1:
        t += 2.0 * (n_per_node - 1) / n_per_node * grad_bytes / (links.intra_gbs * 1e9)
    if nodes > 1:
        t += 2.0 * (nodes - 1) / nodes * grad_bytes / (links.network_gbs * 1e9)
    return t


def exposed_comm_s(t_allreduce: float, backward_s: float, grad_bytes: float) -> float:
    if t_allreduce <= 0:
        return 0.0
    last_bucket = t_allreduce * min(1.0, DDP_BUCKET_BYTES / max(grad_bytes, 1.0))
    return max(t_allreduce - backward_s, last_bucket)


def sync_factor(n_total: int, loss_per_doubling: float) -> float:
    if n_total <= 1:
        return 1.0
    return float((1.0 - loss_per_doubling) ** math.log2(n_total))

"""Fleet doctor: compare the facts of many machines and name the odd one out (pure).

Input: one :class:`NodeFacts` per rank or per facts file. Output: :class:`rigcheck.doctor.findings.Finding`
records (category ``fleet``), each naming the nodes that differ from the majority, with the values and the fix. The questions
are the ones a lab asks when a multi-node job is slow or hangs: is one node on another driver,
CUDA, torch or NCCL; another GPU model or memory; a GPU on a narrower PCIe link; a slower GEMM;
different NCCL variables or IOMMU/P2P settings; a clock that drifted?
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rigcheck.doctor.findings import Finding, Status
from rigcheck.facts import Facts

# A node whose GEMM or bandwidth figure is this far below the fleet median is an outlier. 15% is
# well outside run-to-run noise of a GEMM on an idle GPU (bench's own verdict flags CV > 5%).
OUTLIER_FRACTION = 0.15
# Clocks further apart than this break log correlation and Kerberos/NCCL timeouts reasoning;
# chrony keeps LAN hosts within milliseconds.
CLOCK_SKEW_S = 1.0


@dataclass(frozen=True)
class NodeFacts:
    node: str                                  # host name or the facts file's stem
    facts: Facts
    rank: int | None = None
    bench: dict[str, float] = field(default_factory=dict)   # result name -> value (higher = better)
    clock_offset_s: float | None = None        # this rank's clock minus rank 0's, when measured


CAT = "fleet"


def _finding(id: str, status: Status, summary: str, detail: str = "", fix: str = "",
             nodes: tuple[str, ...] = ()) -> Finding:
    """A fleet finding; ``nodes`` are the odd ones out."""
    return Finding(id=id, category=CAT, status=status, summary=summary, detail=detail, fix=fix,
                   nodes=nodes)


def _group(nodes: Sequence[NodeFacts], key: Callable[[NodeFacts], object]
           ) -> dict[object, list[str]]:
    groups: dict[object, list[str]] = defaultdict(list)
    for n in nodes:
        groups[key(n)].append(n.node)
    return dict(groups)


def _fmt(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return ", ".join(f"{k}={v}" for k, v in value)
        return ", ".join(_fmt(v) for v in value) or "none"
    return str(value)


def _same(check_id: str, what: str, nodes: Sequence[NodeFacts],
          key: Callable[[NodeFacts], object], fix: str, status: Status = Status.WARN) -> Finding:
    """One value per node; the majority is 'normal' and every other value is named."""
    groups = _group(nodes, key)
    # None is "this node could not tell"; an empty tuple is a real answer ("no NCCL variables").
    known = {v: ns for v, ns in groups.items() if v is not None}
    if not known:
        return _finding(check_id, Status.SKIP, f"{what}: not known on any node")
    if len(known) == 1:
        (value,) = known
        unknown = groups.get(None, [])
        note = f" ({len(unknown)} node(s) could not tell)" if unknown else ""
        return _finding(check_id, Status.OK, f"{what}: {_fmt(value)} on every node{note}")
    majority = max(known.items(), key=lambda kv: (len(kv[1]), _fmt(kv[0])))[0]
    odd = [(v, ns) for v, ns in known.items() if v != majority]
    odd_nodes = tuple(sorted(n for _, ns in odd for n in ns))
    detail = "; ".join(f"{_fmt(v)} on {', '.join(sorted(ns))}" for v, ns in odd)
    return _finding(
        check_id, status,
        f"{what}: {_fmt(majority)} on {len(known[majority])} node(s), but {detail}",
        detail=f"Nodes of one job that differ in {what} are a classic cause of hangs, "
               "wrong results or one slow rank holding back the rest.",
        fix=fix, nodes=odd_nodes,
    )


def _gpu_names(n: NodeFacts) -> tuple | None:
    if not n.facts.nvml.available:
        return None
    return tuple(f"{count} x {name}" for name, count in
                 sorted(Counter(g.name for g in n.facts.nvml.gpus
                                if g.name and not g.lost).items()))


def _gpu_memory(n: NodeFacts) -> tuple | None:
    if not n.facts.nvml.available:
        return None
    return tuple(sorted({round((g.memory_total_mib or 0) / 1024) for g in n.facts.nvml.gpus
                         if g.memory_total_mib}))


def _nccl_env(n: NodeFacts) -> tuple | None:
    if n.facts.python.error:
        return None
    return tuple(sorted((k, v) for k, v in n.facts.python.env.items() if k.startswith("NCCL_")))


def _p2p(n: NodeFacts) -> tuple | None:
    if not n.facts.nvml.available or len(n.facts.nvml.gpus) < 2:
        return None
    return tuple(sorted({p.status for p in n.facts.nvml.p2p}))


def _nvml(nodes: Sequence[NodeFacts]) -> Finding:
    """A node where NVML did not start in a fleet where it did elsewhere is broken, not odd."""
    down = {n.node: n.facts.nvml.error or "unavailable" for n in nodes if not n.facts.nvml.available}
    if not down:
        return _finding("fleet.nvml", Status.OK, "NVML answered on every node")
    if len(down) == len(nodes):
        return _finding("fleet.nvml", Status.SKIP,
                            "no node has a working NVML (a CPU-only fleet, or no NVIDIA driver "
                            "anywhere): GPU comparisons skipped")
    listed = ", ".join(f"{node} ({why})" for node, why in sorted(down.items()))
    return _finding(
        "fleet.nvml", Status.FAIL, f"NVML failed on {len(down)} node(s) while it works on the others: "
        f"{listed}",
        detail="Those nodes' GPUs are invisible to every GPU check below.",
        fix="Run `rigcheck doctor` on each of them (a driver/library mismatch needs a reboot; "
            "a missing driver needs installing).",
        nodes=tuple(sorted(down)),
    )


def _links(nodes: Sequence[NodeFacts]) -> Finding:
    """GPUs whose maximum PCIe link is narrower or older than the fleet's usual one."""
    links = [(n.node, g.index, g.pcie_gen_max, g.pcie_width_max)
             for n in nodes for g in n.facts.nvml.gpus
             if g.pcie_width_max and g.pcie_gen_max]
    if not links:
        return _finding("fleet.pcie_link", Status.SKIP, "PCIe links: no node reported them")
    usual = Counter((gen, width) for _, _, gen, width in links).most_common(1)[0][0]
    slow = [(node, i, gen, width) for node, i, gen, width in links
            if (gen, width) != usual and gen * width < usual[0] * usual[1]]
    if not slow:
        return _finding("fleet.pcie_link", Status.OK,
                            f"PCIe links: Gen{usual[0]} x{usual[1]} on every GPU that reported")
    listed = ", ".join(f"{node} GPU {i} at Gen{gen} x{width}" for node, i, gen, width in slow)
    return _finding(
        "fleet.pcie_link", Status.WARN,
        f"PCIe link below the fleet's Gen{usual[0]} x{usual[1]}: {listed}",
        detail="A GPU seated in a narrower slot, a riser or a link that trained down moves "
               "gradients and batches slower, and the whole job waits for it.",
        fix="Reseat the card or move it to a CPU-attached x16 slot; check the riser and BIOS "
            "PCIe settings; `nvidia-smi -q -d PCIE` shows the link under load.",
        nodes=tuple(sorted({s[0] for s in slow})),
    )


def _bench_outliers(nodes: Sequence[NodeFacts]) -> list[Finding]:
    names = sorted({name for n in nodes for name in n.bench})
    out = []
    for name in names:
        values = {n.node: n.bench[name] for n in nodes if name in n.bench}
        if len(values) < 2:
            continue
        median = statistics.median(values.values())
        slow = {node: v for node, v in values.items() if v < median * (1 - OUTLIER_FRACTION)}
        if not slow:
            out.append(_finding(f"fleet.bench.{name}", Status.OK,
                                    f"{name}: every node within {OUTLIER_FRACTION:.0%} of the "
                                    f"median {median:,.1f}"))
            continue
        listed = ", ".join(f"{node} {v:,.1f} ({(v / median - 1) * 100:+.0f}%)"
                           for node, v in sorted(slow.items()))
        out.append(_finding(
            f"fleet.bench.{name}", Status.WARN, f"{name} outlier(s) against the median "
            f"{median:,.1f}: {listed}",
            detail="One slow node sets the pace of a synchronous data-parallel job.",
            fix="Run `rigcheck doctor` on the slow node: throttling, power cap, PCIe width or "
                "another process on the GPU are the usual causes.",
            nodes=tuple(sorted(slow)),
        ))
    return out


def _clock_skew(nodes: Sequence[NodeFacts]) -> Finding:
    offsets = {n.node: n.clock_offset_s for n in nodes if n.clock_offset_s is not None}
    if len(offsets) < 2:
        return _finding("fleet.clock_skew", Status.SKIP,
                            "clock skew: needs ranks measured together (torchrun); facts files "
                            "collected at different times cannot tell")
    skewed = {node: off for node, off in offsets.items() if abs(off) > CLOCK_SKEW_S}
    if not skewed:
        worst = max(abs(o) for o in offsets.values())
        return _finding("fleet.clock_skew", Status.OK,
                            f"clocks agree within {worst * 1000:.0f} ms of rank 0")
    listed = ", ".join(f"{node} {off:+.1f} s" for node, off in sorted(skewed.items()))
    return _finding(
        "fleet.clock_skew", Status.WARN, f"clock skew against rank 0: {listed}",
        detail="Skewed clocks scramble log timelines and certificate/timeout logic.",
        fix="Enable time sync on every node: `sudo systemctl enable --now chrony` "
            "(or systemd-timesyncd) and check `chronyc tracking`.",
        nodes=tuple(sorted(skewed)),
    )


def compare(nodes: Sequence[NodeFacts], missing: Sequence[str] = (),
            bench_problems: Sequence[str] = ()) -> list[Finding]:
    """Every fleet check over the nodes that answered; ``missing`` names those that did not;
    ``bench_problems`` names nodes whose figures could not be measured or read."""
    findings: list[Finding] = []
    if bench_problems:
        findings.append(_finding(
            "fleet.bench_errors", Status.WARN,
            f"no bench figures from {len(bench_problems)} node(s): {'; '.join(bench_problems)}",
            detail="Their facts are compared; only the GEMM/bandwidth outlier checks miss them.",
            fix="Run `rigcheck bench` on those nodes to see the error.",
        ))
    if missing:
        findings.append(_finding(
            "fleet.missing", Status.FAIL,
            f"{len(missing)} rank(s)/node(s) did not report: {', '.join(missing)}",
            detail="The report below covers only the nodes that answered in time.",
            fix="Check that the missing ranks started (torchrun/srun logs), can reach the "
                "rendezvous endpoint, and did not crash or hang in the probe.",
            nodes=tuple(missing),
        ))
    if not nodes:
        return findings
    t = lambda n: n.facts.torch  # noqa: E731
    findings.append(_nvml(nodes))
    findings += [
        _same("fleet.driver", "NVIDIA driver", nodes, lambda n: n.facts.nvml.driver_version,
              "Install the same driver on every node (pin the package version, e.g. "
              "`apt-mark hold nvidia-driver-550`), then reboot the odd ones."),
        _same("fleet.cuda_driver", "CUDA version the driver supports", nodes,
              lambda n: n.facts.nvml.cuda_driver_version,
              "Upgrade the odd nodes' driver to the fleet's."),
        _same("fleet.torch", "PyTorch version", nodes, lambda n: t(n).version,
              "Install the same torch wheel everywhere (one lock file or container image).",
              status=Status.FAIL),
        _same("fleet.torch_cuda", "torch's CUDA build", nodes, lambda n: t(n).cuda_build,
              "Use the same torch+cuXXX wheel on every node."),
        _same("fleet.cudnn", "cuDNN version", nodes, lambda n: t(n).cudnn_version,
              "Use the cuDNN from the torch wheel everywhere; remove stale cuDNN from "
              "LD_LIBRARY_PATH on the odd nodes."),
        _same("fleet.nccl", "NCCL version", nodes, lambda n: t(n).nccl_version,
              "NCCL must match across ranks: install the same torch wheel (it bundles NCCL) "
              "and do not preload another libnccl.", status=Status.FAIL),
        _same("fleet.gpu_model", "GPU models", nodes, _gpu_names,
              "Data-parallel jobs run at the pace of the slowest GPU: schedule on a uniform "
              "partition (Slurm `--constraint`, Kubernetes node labels)."),
        _same("fleet.gpu_memory", "GPU memory (GB)", nodes, _gpu_memory,
              "Size the per-GPU batch for the smallest card, or use a uniform partition."),
        _same("fleet.gpu_count", "working GPU count", nodes,
              lambda n: (sum(not g.lost for g in n.facts.nvml.gpus)
                         if n.facts.nvml.available else None),
              "A node that shows fewer GPUs has a lost or hidden GPU: run `rigcheck doctor` "
              "there (`nvidia-smi -L`, CUDA_VISIBLE_DEVICES).", status=Status.FAIL),
        _links(nodes),
        _same("fleet.nccl_env", "NCCL_* environment variables", nodes, _nccl_env,
              "Set NCCL variables in the job script, identically for every rank."),
        _same("fleet.iommu", "IOMMU enabled", nodes, lambda n: n.facts.host.iommu,
              "Use one IOMMU setting across the fleet (kernel `iommu=pt` for GPU-direct P2P)."),
        _same("fleet.p2p", "GPU peer-to-peer status", nodes, _p2p,
              "Check ACS/IOMMU settings and `nvidia-smi topo -p2p r` on the odd nodes."),
        _same("fleet.kernel", "kernel", nodes, lambda n: n.facts.host.kernel,
              "Keep nodes on one kernel so the driver module is built the same everywhere."),
    ]
    findings += _bench_outliers(nodes)
    findings.append(_clock_skew(nodes))
    return findings


def clock_offset_s(local_utc: str, reference_utc: str) -> float:
    """Seconds by which a clock reading differs from the reference reading taken together."""
    return (datetime.fromisoformat(local_utc) - datetime.fromisoformat(reference_utc)).total_seconds()

"""Turn the ``--deep`` active-test report (:mod:`rigcheck.bench.deep`) into findings.

One finding per test kind, aggregated over devices, so the ids stay stable: ``deep.alloc``,
``deep.matmul``, ``deep.gradcheck``, ``deep.h2d_pinned``, ``deep.h2d_pageable``, ``deep.p2p``.
Pure: takes the report's plain records, returns findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rigcheck.doctor.findings import Finding, Status, as_status, worst

KINDS = {
    "alloc": ("GPU memory allocation and read-back", "sudo nvidia-smi -r; dcgmi diag -r 2 for a full memory test"),
    "matmul": ("matmul on each GPU matches the CPU", "dcgmi diag -r 3; check clocks/overclocking (nvidia-smi -rgc)"),
    "gradcheck": ("numerical gradient check (float64)", "Report to rigcheck with `rigcheck probe --json`"),
    "h2d_pinned": ("host-to-device bandwidth, pinned memory",
                   "Move the GPU to a CPU-attached x16 slot; check the riser; nvidia-smi -q -d PCIE"),
    "h2d_pageable": ("host-to-device bandwidth, pageable memory", "DataLoader(pin_memory=True)"),
    "p2p": ("peer-to-peer copies between GPUs", "nvidia-smi topo -m; iommu=pt; NCCL_P2P_DISABLE=1 as a stop-gap"),
}


class DeepResultLike(Protocol):
    """The shape of ``rigcheck.bench.deep.DeepResult`` (the doctor may not import bench)."""

    @property
    def name(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def seconds(self) -> float: ...


class DeepReportLike(Protocol):
    @property
    def results(self) -> Sequence[DeepResultLike]: ...
    @property
    def error(self) -> str | None: ...


def deep_findings(report: DeepReportLike | None) -> list[Finding]:
    if report is None:
        return []
    if report.error and not report.results:
        return [Finding(id=f"deep.{k}", category="active", status=Status.SKIP,
                        summary=f"skipped: {report.error}") for k in KINDS]
    out = []
    for kind, (title, fix) in KINDS.items():
        rs = [r for r in report.results if r.name == kind]
        if not rs:
            continue
        judged = [as_status(r.status) for r in rs if r.status != "skip"]
        status = worst(judged) if judged else Status.SKIP
        shown = [r for r in rs if r.status != "skip"] or rs[:1]
        summary = "; ".join(f"{r.device}: {r.summary}" for r in shown)
        if status == "skip":
            summary = shown[0].summary
        out.append(Finding(
            id=f"deep.{kind}", category="active", status=status, summary=summary,
            detail=f"{title}; {sum(r.seconds for r in rs):.1f} s",
            fix=fix if status in ("fail", "warn") else "",
        ))
    return out

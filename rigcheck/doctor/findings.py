"""Findings: what one doctor check concluded, as a frozen record.

Shape after flutter doctor (one state per check) and DCGM's ``dcgm_errors.h`` (a message with the
values found plus a next step): ``summary`` says what was found with its values, ``fix`` says what
to do, as an exact command where there is one.
"""

from __future__ import annotations

from dataclasses import dataclass

# Worst first: the order decides a category's overall state.
STATUSES = ("crash", "fail", "warn", "ok", "skip")
_RANK = {"crash": 0, "fail": 1, "warn": 2, "ok": 3, "skip": 4}

# Categories in display order, with their titles.
CATEGORIES: dict[str, str] = {
    "driver": "NVIDIA driver",
    "gpu_health": "GPU health",
    "pcie_topology": "PCIe and topology",
    "cuda_torch_build": "CUDA and PyTorch build",
    "libraries": "Libraries",
    "system": "System resources",
    "containers_wsl": "Containers and WSL",
    "performance": "Performance settings",
    "readiness": "Readiness for target recipes",
    "active": "Active tests (--deep)",
}


@dataclass(frozen=True)
class Finding:
    id: str                  # stable: "driver.nouveau", "torch.arch_missing"
    category: str            # a key of CATEGORIES
    status: str              # one of STATUSES
    summary: str             # one line, with the values found
    detail: str = ""         # why it matters, the evidence
    fix: str = ""            # what to do; the exact command where there is one
    source: str | None = None  # the thread or document behind the check

    def __post_init__(self) -> None:
        if self.status not in _RANK:
            raise ValueError(f"finding {self.id}: unknown status {self.status!r}")
        if self.category not in CATEGORIES:
            raise ValueError(f"finding {self.id}: unknown category {self.category!r}")

    @property
    def is_problem(self) -> bool:
        return self.status in ("fail", "warn", "crash")

    def to_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "category": self.category,
            "status": self.status,
            "summary": self.summary,
            "detail": self.detail,
            "fix": self.fix,
            "source": self.source,
        }


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the registry adds the id and category."""

    status: str
    summary: str
    detail: str = ""
    fix: str = ""
    source: str | None = None


def ok(summary: str, detail: str = "") -> Outcome:
    return Outcome("ok", summary, detail)


def warn(summary: str, detail: str = "", fix: str = "", source: str | None = None) -> Outcome:
    return Outcome("warn", summary, detail, fix, source)


def fail(summary: str, detail: str = "", fix: str = "", source: str | None = None) -> Outcome:
    return Outcome("fail", summary, detail, fix, source)


def skip(reason: str, detail: str = "") -> Outcome:
    return Outcome("skip", f"skipped: {reason}", detail)


def worst(statuses: list[str]) -> str:
    """The worst status of a category; "skip" only when everything was skipped."""
    if not statuses:
        return "skip"
    return min(statuses, key=_RANK.__getitem__)


def summarize(findings: list[Finding]) -> dict[str, object]:
    """Counts by status and the state of each category (what ``--json`` puts under "summary")."""
    counts = {s: 0 for s in STATUSES}
    by_cat: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    for f in findings:
        counts[f.status] += 1
        by_cat[f.category].append(f.status)
    categories = {c: worst(s) for c, s in by_cat.items() if s}
    problem_cats = [c for c, s in categories.items() if s in ("fail", "warn", "crash")]
    return {
        "checks": len(findings),
        "counts": counts,
        "categories": categories,
        "categories_with_issues": len(problem_cats),
        "failed": counts["fail"] + counts["crash"] > 0,
    }

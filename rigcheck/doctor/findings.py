"""Findings: what one check concluded, as a frozen record. The ONE finding type of rigcheck.

Shape after flutter doctor (one state per check) and DCGM's ``dcgm_errors.h`` (a message with the
values found plus a next step): ``summary`` says what was found with its values, ``fix`` says what
to do, as an exact command where there is one.

The doctor's checks, the ``--deep`` active tests, the fleet comparison (``rigcheck.fleet``) and
the paste signatures (``rigcheck.doctor.signatures``) all produce :class:`Finding`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypedDict


class Status(str, Enum):
    """A finding's state. A ``str`` so that JSON output and comparisons with "ok" stay as they were.

    ``__str__``/``__format__`` are str's, so f-strings print ``ok`` (not ``Status.OK``) on every
    Python from 3.10 (``enum.StrEnum`` is 3.11+).
    """

    CRASH = "crash"
    FAIL = "fail"
    WARN = "warn"
    OK = "ok"
    SKIP = "skip"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @property
    def is_problem(self) -> bool:
        return self in (Status.FAIL, Status.WARN, Status.CRASH)


# Worst first: the order decides a category's overall state.
STATUSES: tuple[str, ...] = tuple(s.value for s in Status)
_RANK: dict[Status, int] = {s: i for i, s in enumerate(Status)}

# Categories in display order, with their titles.
CATEGORIES: dict[str, str] = {
    "driver": "NVIDIA driver",
    "gpu_health": "GPU health",
    "pcie_topology": "PCIe and topology",
    "cuda_torch_build": "CUDA and PyTorch build",
    "libraries": "Libraries",
    "llm_stack": "LLM library stack",
    "platform": "AMD ROCm, Apple MPS, Intel XPU",
    "system": "System resources",
    "containers_wsl": "Containers and WSL",
    "performance": "Performance settings",
    "readiness": "Readiness for target recipes",
    "active": "Active tests (--deep)",
    "fleet": "Fleet comparison (--fleet)",
}


# Categories that apply only to some machines or runs (an AMD/Apple/Intel GPU; --deep): all
# skipped there means "does not apply", not "could not judge".
OPT_IN_CATEGORIES = frozenset({"platform", "active"})


def as_status(value: Status | str) -> Status:
    """``value`` as a :class:`Status`; ValueError names the bad value."""
    try:
        return Status(value)
    except ValueError:
        raise ValueError(f"unknown status {value!r} (expected one of {', '.join(STATUSES)})") from None


@dataclass(frozen=True)
class Finding:
    id: str                  # stable: "driver.nouveau", "torch.arch_missing", "fleet.driver"
    category: str            # a key of CATEGORIES
    status: Status           # a plain "ok" is accepted and stored as Status.OK
    summary: str             # one line, with the values found
    detail: str = ""         # why it matters, the evidence
    fix: str = ""            # what to do; the exact command where there is one
    source: str | None = None  # the thread or document behind the check
    nodes: tuple[str, ...] = ()  # fleet findings: the machines that differ from the majority

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "status", as_status(self.status))
        except ValueError as exc:
            raise ValueError(f"finding {self.id}: {exc}") from None
        if self.category not in CATEGORIES:
            raise ValueError(f"finding {self.id}: unknown category {self.category!r}")

    @property
    def is_problem(self) -> bool:
        return self.status.is_problem

    def to_dict(self) -> dict[str, str | None]:
        """The doctor's JSON record (``rigcheck doctor --json``); ``nodes`` is the fleet's."""
        return {
            "id": self.id,
            "category": self.category,
            "status": self.status.value,
            "summary": self.summary,
            "detail": self.detail,
            "fix": self.fix,
            "source": self.source,
        }


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the registry adds the id and category."""

    status: Status
    summary: str
    detail: str = ""
    fix: str = ""
    source: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", as_status(self.status))


def ok(summary: str, detail: str = "") -> Outcome:
    return Outcome(Status.OK, summary, detail)


def warn(summary: str, detail: str = "", fix: str = "", source: str | None = None) -> Outcome:
    return Outcome(Status.WARN, summary, detail, fix, source)


def fail(summary: str, detail: str = "", fix: str = "", source: str | None = None) -> Outcome:
    return Outcome(Status.FAIL, summary, detail, fix, source)


def skip(reason: str | None, detail: str = "") -> Outcome:
    """A check that could not judge; ``reason`` None (a helper that found no reason) still reads."""
    return Outcome(Status.SKIP, f"skipped: {reason or 'not enough facts to judge'}", detail)


def worst(statuses: list[Status] | list[str]) -> Status:
    """The worst status of a category; "skip" only when everything was skipped."""
    if not statuses:
        return Status.SKIP
    return min((as_status(s) for s in statuses), key=_RANK.__getitem__)


class Summary(TypedDict):
    checks: int
    counts: dict[str, int]
    categories: dict[str, str]
    categories_with_issues: int
    failed: bool
    # Categories where every check was skipped -> the most common reason; and whether most
    # checks were skipped (then "no issues" means "nothing wrong in the little we could see").
    not_judged: dict[str, str]
    mostly_skipped: bool


def skip_reason(findings: list[Finding]) -> str:
    """The most common reason among skipped findings ("skipped: " removed)."""
    reasons = [f.summary.removeprefix("skipped: ") for f in findings if f.status is Status.SKIP]
    if not reasons:
        return ""
    return max(dict.fromkeys(reasons), key=reasons.count)   # ties: the first one met


def summarize(findings: list[Finding]) -> Summary:
    """Counts by status and the state of each category (what ``--json`` puts under "summary")."""
    counts = {s: 0 for s in STATUSES}
    by_cat: dict[str, list[Status]] = {c: [] for c in CATEGORIES}
    for f in findings:
        counts[f.status.value] += 1
        by_cat[f.category].append(f.status)
    categories = {c: worst(s).value for c, s in by_cat.items() if s}
    problem_cats = [c for c, s in categories.items() if as_status(s).is_problem]
    not_judged = {c: skip_reason([f for f in findings if f.category == c])
                  for c, s in categories.items()
                  if s == Status.SKIP.value and c not in OPT_IN_CATEGORIES}
    return {
        "checks": len(findings),
        "counts": counts,
        "categories": categories,
        "categories_with_issues": len(problem_cats),
        "failed": counts["fail"] + counts["crash"] > 0,
        "not_judged": not_judged,
        "mostly_skipped": counts["skip"] * 2 > len(findings),
    }

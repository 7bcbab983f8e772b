"""The check registry and the runner.

A check is a pure function ``(facts, ctx) -> Outcome`` registered with :func:`check`. Each check
yields exactly one finding, so every check appears in the output, skipped ones included. A check
that raises is reported as ``crash`` (flutter doctor's ``[☠]``) and the others still run.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rigcheck.doctor.findings import CATEGORIES, Finding, Outcome

if TYPE_CHECKING:
    from rigcheck.facts import Facts
    from rigcheck.recipes import Recipe


@dataclass(frozen=True)
class Context:
    """What a check may need beyond the facts: the user's targets and predictions for them."""

    targets: tuple[Recipe, ...] = ()
    # Injected by the caller (the CLI) so checks stay pure: recipe id -> (fits, memory_gb,
    # samples_per_s | None, train_s | None, source), or absent when no model was available.
    predictions: dict[str, object] = field(default_factory=dict)
    prediction_note: str | None = None   # why there are no predictions, when there are none


CheckFn = Callable[["Facts", Context], Outcome]


@dataclass(frozen=True)
class Check:
    id: str
    category: str
    title: str
    fn: CheckFn
    source: str | None = None


_REGISTRY: dict[str, Check] = {}


def check(id: str, category: str, title: str, source: str | None = None) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under a stable id."""
    if category not in CATEGORIES:
        raise ValueError(f"check {id}: unknown category {category}")

    def deco(fn: CheckFn) -> CheckFn:
        if id in _REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        _REGISTRY[id] = Check(id, category, title, fn, source)
        return fn

    return deco


def all_checks() -> list[Check]:
    """Every registered check, in category order, then registration order."""
    from rigcheck.doctor import checks  # noqa: F401  (importing registers the check modules)

    order = list(CATEGORIES)
    return sorted(_REGISTRY.values(), key=lambda c: order.index(c.category))


def run_one(chk: Check, facts: Facts, ctx: Context) -> Finding:
    try:
        out = chk.fn(facts, ctx)
        if not isinstance(out, Outcome):
            raise TypeError(f"check returned {type(out).__name__}, not Outcome")
        return Finding(
            id=chk.id, category=chk.category, status=out.status, summary=out.summary,
            detail=out.detail, fix=out.fix, source=out.source or chk.source,
        )
    except Exception as exc:  # a bug in one check must not take the doctor down
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return Finding(
            id=chk.id, category=chk.category, status="crash",
            summary=f"the check '{chk.title}' crashed: {type(exc).__name__}: {exc}",
            detail="Due to an error this check did not complete; the other checks ran.\n"
                   + "".join(tb[-3:]).rstrip(),
            fix="Please report this at the rigcheck issue tracker with `rigcheck probe --json`.",
            source=chk.source,
        )


def run_checks(
    facts: Facts,
    targets: Sequence[Recipe] | None = None,
    *,
    predictions: dict[str, object] | None = None,
    prediction_note: str | None = None,
    only: Iterable[str] | None = None,
    checks: Sequence[Check] | None = None,
) -> list[Finding]:
    """Run every check (or those whose id is in ``only``) over ``facts``; never raises."""
    ctx = Context(targets=tuple(targets or ()), predictions=dict(predictions or {}),
                  prediction_note=prediction_note)
    selected = list(checks) if checks is not None else all_checks()
    if only is not None:
        wanted = set(only)
        selected = [c for c in selected if c.id in wanted]
    out = [run_one(c, facts, ctx) for c in selected]
    if only is None and checks is None:
        # Known error messages in a paste (or a probe's error texts), one finding per signature:
        # data-driven, rigcheck.doctor.signatures.
        from rigcheck.doctor.signatures import findings as signature_findings

        out += signature_findings(facts, out)
    return out

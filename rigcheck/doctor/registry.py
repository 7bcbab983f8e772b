"""The check registry and the runner.

A check is a pure function ``(facts, ctx) -> Outcome`` registered with :func:`check`. Each check
yields exactly one finding, so every check appears in the output, skipped ones included. A check
that raises is reported as ``crash`` (flutter doctor's ``[☠]``) and the others still run.

A *finder* (:func:`finder`) is a pure function ``(facts, ctx) -> list[Finding]`` for decisions
that yield a variable number of findings: the paste signature matcher (one finding per known
message found in ``facts.paste_lines``). Finders run after the checks; one that raises is one
``crash`` finding under its own id.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rigcheck.doctor.findings import CATEGORIES, Finding, Outcome, Status

if TYPE_CHECKING:
    from rigcheck.facts import Facts
    from rigcheck.llm_recipes import LlmRecipe
    from rigcheck.recipes import Recipe


@dataclass(frozen=True)
class Context:
    """What a check may need beyond the facts: the user's targets and predictions for them."""

    targets: tuple[Recipe, ...] = ()
    # Injected by the caller (the CLI) so checks stay pure: recipe id -> (fits, memory_gb,
    # samples_per_s | None, train_s | None, source), or absent when no model was available.
    predictions: dict[str, object] = field(default_factory=dict)
    prediction_note: str | None = None   # why there are no predictions, when there are none
    # LLM recipes (rigcheck.llm_recipes.LlmRecipe) to judge on this machine's GPUs.
    llm_targets: tuple[LlmRecipe, ...] = ()


CheckFn = Callable[["Facts", Context], Outcome]
FinderFn = Callable[["Facts", Context], "list[Finding]"]


@dataclass(frozen=True)
class Check:
    id: str
    category: str
    title: str
    fn: CheckFn
    source: str | None = None


@dataclass(frozen=True)
class Finder:
    id: str
    category: str            # where its crash is reported; its findings carry their own
    title: str
    fn: FinderFn


_REGISTRY: dict[str, Check] = {}
_FINDERS: dict[str, Finder] = {}


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


def finder(id: str, category: str, title: str) -> Callable[[FinderFn], FinderFn]:
    """Register a finder (see the module docs) under a stable id."""
    if category not in CATEGORIES:
        raise ValueError(f"finder {id}: unknown category {category}")

    def deco(fn: FinderFn) -> FinderFn:
        if id in _FINDERS or id in _REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        _FINDERS[id] = Finder(id, category, title, fn)
        return fn

    return deco


def all_finders() -> list[Finder]:
    # The check modules register themselves when rigcheck.doctor is imported (its __init__
    # imports rigcheck.doctor.checks, which any import of rigcheck.doctor.* runs first); the
    # registry does not import them, so it and they are not an import cycle.
    return list(_FINDERS.values())


def all_checks() -> list[Check]:
    """Every registered check, in category order, then registration order."""
    order = list(CATEGORIES)
    return sorted(_REGISTRY.values(), key=lambda c: order.index(c.category))


def _crash(id: str, category: str, title: str, exc: Exception, source: str | None) -> Finding:
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return Finding(
        id=id, category=category, status=Status.CRASH,
        summary=f"the check '{title}' crashed: {type(exc).__name__}: {exc}",
        detail="Due to an error this check did not complete; the other checks ran.\n"
               + "".join(tb[-3:]).rstrip(),
        fix="Please report this at the rigcheck issue tracker with `rigcheck probe --json`.",
        source=source,
    )


def run_finder(fnd: Finder, facts: Facts, ctx: Context) -> list[Finding]:
    try:
        found = fnd.fn(facts, ctx)
        bad = [type(f).__name__ for f in found if not isinstance(f, Finding)]
        if bad:
            raise TypeError(f"finder returned {bad[0]}, not Finding")
        return list(found)
    except Exception as exc:  # a bug in one finder must not take the doctor down
        return [_crash(fnd.id, fnd.category, fnd.title, exc, None)]


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
        return _crash(chk.id, chk.category, chk.title, exc, chk.source)


def run_checks(
    facts: Facts,
    targets: Sequence[Recipe] | None = None,
    *,
    predictions: dict[str, object] | None = None,
    prediction_note: str | None = None,
    llm_targets: Sequence[LlmRecipe] | None = None,
    only: Iterable[str] | None = None,
    checks: Sequence[Check] | None = None,
    finders: Sequence[Finder] | None = None,
) -> list[Finding]:
    """Run every check, then every finder (or those whose id is in ``only``) over ``facts``;
    never raises. ``checks``/``finders`` replace the registered ones (tests)."""
    ctx = Context(targets=tuple(targets or ()), predictions=dict(predictions or {}),
                  prediction_note=prediction_note, llm_targets=tuple(llm_targets or ()))
    selected = list(checks) if checks is not None else all_checks()
    found = list(finders) if finders is not None else all_finders()
    if only is not None:
        wanted = set(only)
        selected = [c for c in selected if c.id in wanted]
        found = [f for f in found if f.id in wanted]
    out = [run_one(c, facts, ctx) for c in selected]
    for fnd in found:
        out += run_finder(fnd, facts, ctx)
    # Findings in category order (a finder's findings join their categories), stable otherwise.
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(out, key=lambda f: order[f.category])

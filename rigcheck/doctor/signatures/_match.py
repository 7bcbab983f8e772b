"""Match kept lines against the registry, refine with the paste's other facts, make findings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rigcheck.doctor.findings import Finding
from rigcheck.doctor.signatures._figures import FIGURE_FNS
from rigcheck.doctor.signatures._load import Refine, Signature, load_registry

if TYPE_CHECKING:
    from rigcheck.facts import Facts

MAX_LINES = 400          # lines kept in facts.paste.lines
MAX_LINE_CHARS = 600     # a kept line is cut here (a minified JSON blob is not an error line)
MAX_PER_PATTERN = 25     # matches read per pattern: repeats add nothing


def _line_at(text: str, start: int, end: int) -> tuple[int, str]:
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", end)
    b = len(text) if b < 0 else b
    return a, text[a:b]


def scan(text: str, registry: Sequence[Signature] | None = None) -> list[tuple[int, str]]:
    """(1-based line number, line) for the lines of ``text`` that any signature (or a refine's
    text test) matches, in order.

    Each pattern runs once over the whole text (a literal-prefixed regex is a fast scan in
    CPython's re), at most MAX_PER_PATTERN matches each, so a long log costs patterns x size.
    """
    reg = load_registry() if registry is None else registry
    found: dict[int, str] = {}
    for sig in reg:
        for rx in sig.patterns + sig.context_patterns:
            lit = sig.anchors.get(rx.pattern, "")
            if not lit:
                for n, m in enumerate(rx.finditer(text)):
                    if n >= MAX_PER_PATTERN:
                        break
                    start, line = _line_at(text, m.start(), m.end())
                    found.setdefault(start, line.strip()[:MAX_LINE_CHARS])
                continue
            # Jump from one occurrence of the anchor to the next and try only that line
            # (patterns are single-line): a long log costs a few memchr passes.
            pos, hits = 0, 0
            while hits < MAX_PER_PATTERN:
                i = text.find(lit, pos)
                if i < 0:
                    break
                a = text.rfind("\n", 0, i) + 1
                b = text.find("\n", i)
                b = len(text) if b < 0 else b
                if rx.search(text[a:b]):
                    found.setdefault(a, text[a:b].strip()[:MAX_LINE_CHARS])
                    hits += 1
                pos = b + 1
    starts = sorted(found)[:MAX_LINES]
    if not starts:
        return []
    out, line_no, pos = [], 1, 0
    for start in starts:                 # count line ends between consecutive kept lines only
        line_no += text.count("\n", pos, start)
        pos = start
        out.append((line_no, found[start]))
    return out


@dataclass(frozen=True)
class Match:
    signature: Signature
    line: str
    groups: dict[str, str]
    count: int
    figures: dict[str, Any]
    refine: Refine | None


def _vt(v: str | None) -> tuple[int, ...] | None:
    nums = re.findall(r"\d+", v or "")
    return tuple(int(n) for n in nums[:4]) if nums else None


def _cc_num(cc: str) -> tuple[int, int] | None:
    m = re.match(r"(\d+)\.(\d+)", cc)
    return (int(m.group(1)), int(m.group(2))) if m else None


def context(facts: Facts) -> dict[str, Any]:
    """The values a refine's ``when`` tests and a message's ``{placeholders}`` name."""
    t, nv, host, hints = facts.torch, facts.nvml, facts.host, facts.paste.hints
    ccs = [g.compute_capability for g in nv.gpus if g.compute_capability]
    ccs += [d.capability for d in t.devices if d.capability]
    ccs += [hints["gpu_cc"]] if hints.get("gpu_cc") else []
    nums = [c for c in (_cc_num(x) for x in ccs) if c]
    names = [g.name for g in nv.gpus if g.name] + [d.name for d in t.devices if d.name]
    names += [hints["gpu_name"]] if hints.get("gpu_name") else []
    ctx: dict[str, Any] = {
        "gpu": names[0] if names else "the GPU",
        "torch": t.version or "?", "torch_cuda": t.cuda_build or "?",
        "driver": nv.driver_version or "?", "driver_cuda": nv.cuda_driver_version or "?",
        "packages": facts.torch.stack or {},
        "cpu_torch": bool(t.version) and (t.version.endswith("+cpu") or (
            t.cuda_build is None and t.hip_build is None and "cuda_build" not in facts.not_collected
            and facts.origin != "paste")),
        "rocm": bool(t.hip_build) or "rocm_version" in hints or "gfx_target" in hints,
        "container": host.container is not None and host.container != "none",
        "wsl": bool(host.wsl),
        "windows": "windows" in (host.os or "").lower() or hints.get("os") == "windows",
        "macos": "macos" in hints or "mac" in (host.os or "").lower() or "apple_chip" in hints,
    }
    if nums:
        best = max(nums)
        ctx["gpu_cc"] = f"{best[0]}.{best[1]}"
        ctx["sm"] = f"sm_{best[0]}{best[1]}"
        if t.arch_list:
            covered = False
            for a in t.arch_list:
                m = re.match(r"(sm|compute)_(\d+)(\d)$", a)
                if not m:
                    continue
                amaj, amin = int(m.group(2)), int(m.group(3))
                if (m.group(1) == "sm" and amaj == best[0] and amin <= best[1]) or (
                        m.group(1) == "compute" and (amaj, amin) <= best):
                    covered = True
            ctx["arch_missing"] = not covered
    return ctx


def _cmp(have: Any, want: Any, op: str) -> bool:
    a, b = _vt(str(have)) if have not in (None, "?") else None, _vt(str(want))
    if a is None or b is None:
        return False
    return a >= b if op == "min" else a <= b


def _holds(when: dict[str, Any], ctx: dict[str, Any], lines: Sequence[str],
           figures: dict[str, Any]) -> bool:
    for key, want in when.items():
        if key.endswith(("_min", "_max")):
            base, op = key[:-4], key[-3:]
            if not _cmp(ctx.get(base), want, op):
                return False
        elif key == "text":
            if not any(re.search(want, ln) for ln in lines):
                return False
        elif key == "not_text":
            if any(re.search(want, ln) for ln in lines):
                return False
        elif key == "pkg":
            if want.lower() not in ctx["packages"]:
                return False
        elif key == "pkg_below":
            for name, ver in want.items():
                have = ctx["packages"].get(name.lower())
                if have is None or _vt(have) is None or _vt(have) >= (_vt(ver) or ()):
                    return False
        elif key == "figure":
            if any(figures.get(k) != v for k, v in want.items()):
                return False
        elif bool(ctx.get(key)) != bool(want):
            return False
    return True


def candidate_lines(facts: Facts) -> list[str]:
    """The paste's kept lines, and on a live probe the error texts torch and the driver gave."""
    lines = [pl.text for pl in facts.paste_lines]
    for extra in (facts.torch.cuda_init_error, facts.torch.error, facts.torch.numpy_error,
                  facts.driver.nvidia_smi_error):
        if extra and extra not in lines:
            lines.extend(x for x in extra.splitlines() if x.strip())
    return lines


def matches(facts: Facts, registry: Sequence[Signature] | None = None) -> list[Match]:
    """Each signature that some line matches, once, with its figures and the refine that holds."""
    reg = load_registry() if registry is None else registry
    lines = candidate_lines(facts)
    if not lines:
        return []
    ctx = context(facts)
    out = []
    for sig in reg:
        first: re.Match[str] | None = None
        count = 0
        for ln in lines:
            for rx in sig.patterns:
                m = rx.search(ln)
                if m:
                    count += 1
                    first = first or m
                    break
        if first is None:
            continue
        groups = {k: v for k, v in first.groupdict().items() if v is not None}
        figs = FIGURE_FNS[sig.figures](first.string) if sig.figures else {}
        chosen = next((r for r in sig.refine if _holds(r.when, ctx, lines, figs)), None)
        out.append(Match(sig, first.string, groups, count, figs, chosen))
    return out


class _Fill(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


def _fmt(text: str, values: dict[str, Any]) -> str:
    try:
        return text.format_map(_Fill(values))
    except (ValueError, IndexError, AttributeError):
        return text


def findings(facts: Facts, prior: Iterable[Finding] | None = None,
             registry: Sequence[Signature] | None = None) -> list[Finding]:
    """One finding per matched signature; one that a check already reported is left out
    (``prior``: the checks' findings; None runs the checks that signatures name as covering)."""
    found = matches(facts, registry)
    if prior is None:
        covering = {c for m in found for c in m.signature.covered_by if not c.startswith("sig.")}
        if covering:
            from rigcheck.doctor.registry import run_checks

            prior = run_checks(facts, only=covering)
    reported = {f.id for f in (prior or ()) if f.is_problem}
    # A signature covered by another one that also matched is left to that one, whatever the
    # order of the files.
    reported |= {f"sig.{m.signature.id}" for m in found if m.signature.status != "ok"}
    out = []
    for m in found:
        sig = m.signature
        if reported.intersection(c for c in sig.covered_by if c != f"sig.{sig.id}"):
            continue
        values = {**context(facts), **m.figures, **m.groups}
        status = (m.refine.status if m.refine and m.refine.status else sig.status)
        title = _fmt(sig.title, values)
        summary = (f"harmless: {title}" if status == "ok" else title)
        if m.count > 1:
            summary += f" (seen {m.count} times)"
        cause = _fmt(m.refine.cause, values) if m.refine else ""
        detail = f"{_fmt(sig.means, values)}" + (f" {cause}" if cause else "") + (
            f" Seen: {m.line[:300]}")
        fix = _fmt(m.refine.fix if m.refine and m.refine.fix else sig.fix, values)
        out.append(Finding(id=f"sig.{sig.id}", category=sig.category, status=status,
                           summary=summary, detail=detail, fix="" if status == "ok" else fix,
                           source=sig.source))
    return out

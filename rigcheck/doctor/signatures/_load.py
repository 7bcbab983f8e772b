"""Load and validate the signature files (``*.toml`` beside this module)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rigcheck.doctor.findings import CATEGORIES, STATUSES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HERE = Path(__file__).parent

# What a refine's ``when`` may test (rigcheck.doctor.signatures._match.context builds them).
# Versions compare numerically ("12.8" > "12.10" is false); *_min is ">=", *_max is "<=".
WHEN_KEYS = {
    "gpu_cc_min", "gpu_cc_max",            # the highest GPU capability the paste names ("12.0")
    "torch_min", "torch_max",              # torch version
    "torch_cuda_min", "torch_cuda_max",    # torch's CUDA build ("12.6"; +cu126)
    "driver_cuda_min", "driver_cuda_max",  # the newest CUDA the driver supports
    "cpu_torch", "rocm", "container", "wsl", "windows", "macos",   # booleans
    "arch_missing",                        # the GPU's sm is not in torch's arch list
    "text", "not_text",                    # a regex some (no) kept line matches
    "pkg", "pkg_below",                    # a package is installed; {name = "version"} below it
    "figure",                              # {name = value} from the signature's figures
}
FIGURES = {"cuda_oom", "xid"}
FAMILIES_REQUIRED = {"id", "title", "status", "patterns", "means", "source"}
# No nested quantifiers such as (a+)+ : they backtrack without bound on hostile input.
_NESTED = re.compile(r"\((?:\?:)?(?:\\[wdsS]|\.|\[[^\]]*\])[+*]\)[+*{]")


class RegistryError(ValueError):
    """A signature file is malformed (a bug in the data, found by the tests)."""


def anchor(rx: str) -> str:
    """The longest run of plain characters every match of ``rx`` must contain ("" if none).

    ``anchor in text`` is a memchr-speed test, so a pattern whose anchor is absent is not run
    at all: most of a long log meets none of them.
    """
    try:
        if sys.version_info >= (3, 11):
            from re import _parser as sre_parse  # type: ignore[attr-defined]
        else:  # pragma: no cover
            import sre_parse
        items = list(sre_parse.parse(rx))
    except Exception:
        return ""
    def flat(seq):  # groups are mandatory: their items sit inline in the match
        for op, arg in seq:
            if str(op) == "SUBPATTERN":
                yield from flat(arg[-1])
            else:
                yield op, arg

    best, run = "", []
    for op, arg in flat(items):
        if str(op) == "LITERAL":
            run.append(chr(arg))
            continue
        best = max(best, "".join(run), key=len)
        run = []
    return max(best, "".join(run), key=len)


@dataclass(frozen=True)
class Refine:
    when: dict[str, Any]
    cause: str
    fix: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Signature:
    id: str
    family: str
    category: str
    title: str
    status: str
    patterns: tuple[re.Pattern[str], ...]
    means: str
    fix: str
    source: str
    refine: tuple[Refine, ...] = ()
    figures: str | None = None
    covered_by: tuple[str, ...] = ()
    harmless: bool = False
    context_patterns: tuple[re.Pattern[str], ...] = field(default=(), repr=False)
    # pattern -> its anchor (see anchor()), for the scan of long texts
    anchors: dict[str, str] = field(default_factory=dict, repr=False, compare=False, hash=False)


def _compile(rx: str, where: str) -> re.Pattern[str]:
    if _NESTED.search(rx):
        raise RegistryError(f"{where}: nested quantifier in {rx!r}")
    try:
        # MULTILINE: ^ and $ are a line's ends, in a whole paste and in one line alike.
        return re.compile(rx, re.MULTILINE)
    except re.error as exc:
        raise RegistryError(f"{where}: bad regex {rx!r}: {exc}") from None


def _signature(raw: dict[str, Any], family: str, default_cat: str, where: str) -> Signature:
    missing = FAMILIES_REQUIRED - raw.keys()
    if missing:
        raise RegistryError(f"{where}: missing {sorted(missing)}")
    sid = raw["id"]
    cat = raw.get("category", default_cat)
    if cat not in CATEGORIES:
        raise RegistryError(f"{where} {sid}: unknown category {cat!r}")
    status = raw["status"]
    if status not in STATUSES:
        raise RegistryError(f"{where} {sid}: unknown status {status!r}")
    harmless = status == "ok"
    if not harmless and not raw.get("fix"):
        raise RegistryError(f"{where} {sid}: a problem needs a fix")
    if not str(raw["source"]).startswith("https://"):
        raise RegistryError(f"{where} {sid}: source must be a URL")
    figures = raw.get("figures")
    if figures is not None and figures not in FIGURES:
        raise RegistryError(f"{where} {sid}: unknown figures {figures!r}")
    refines = []
    ctx: list[re.Pattern[str]] = []
    for r in raw.get("refine", []):
        when = dict(r.get("when", {}))
        bad = set(when) - WHEN_KEYS
        if bad or "cause" not in r:
            raise RegistryError(f"{where} {sid}: refine with unknown keys {sorted(bad)} or no cause")
        if r.get("status") is not None and r["status"] not in STATUSES:
            raise RegistryError(f"{where} {sid}: refine status {r['status']!r}")
        for key in ("text", "not_text"):
            if key in when:
                ctx.append(_compile(when[key], f"{where} {sid}"))
        refines.append(Refine(when=when, cause=r["cause"], fix=r.get("fix"), status=r.get("status")))
    pats = raw["patterns"]
    if isinstance(pats, str) or not pats:
        raise RegistryError(f"{where} {sid}: patterns must be a non-empty list")
    compiled = tuple(_compile(p, f"{where} {sid}") for p in pats)
    return Signature(
        id=sid, family=family, category=cat, title=raw["title"], status=status,
        patterns=compiled, means=raw["means"],
        fix=raw.get("fix", ""), source=raw["source"], refine=tuple(refines), figures=figures,
        covered_by=tuple(raw.get("covered_by", ())), harmless=harmless,
        context_patterns=tuple(ctx),
        anchors={p.pattern: anchor(p.pattern) for p in (*compiled, *ctx)},
    )


def parse_registry(files: dict[str, str]) -> tuple[Signature, ...]:
    """Signatures from {file name: TOML text}; RegistryError names the file and entry."""
    out: list[Signature] = []
    seen: set[str] = set()
    for name, text in sorted(files.items()):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"{name}: {exc}") from None
        family = data.get("family") or name.removesuffix(".toml")
        default_cat = data.get("category", "libraries")
        for i, raw in enumerate(data.get("signature", [])):
            sig = _signature(raw, family, default_cat, f"{name}[{i}]")
            if sig.id in seen:
                raise RegistryError(f"{name}: duplicate signature id {sig.id}")
            seen.add(sig.id)
            out.append(sig)
    return tuple(out)


@cache
def load_registry() -> tuple[Signature, ...]:
    """Every signature shipped with rigcheck (cached: the files are read once per process)."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(HERE.glob("*.toml"))}
    return parse_registry(files)

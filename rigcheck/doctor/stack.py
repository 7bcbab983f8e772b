"""The LLM library stack table (``stack.toml``) as frozen records, and version comparison.

Pure: reads the bundled TOML once; the checks in :mod:`rigcheck.doctor.checks.llm_stack` decide.
Versions are compared by their release numbers (PEP 440's release segment: "0.0.28.post3" ->
(0, 0, 28) with post 3), enough for the table's "exact pin" and "older than" rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

TABLE = Path(__file__).with_name("stack.toml")

# The libraries the probe reports (dist-info names, normalised) and the doctor judges.
STACK_PACKAGES: tuple[str, ...] = (
    "bitsandbytes", "flash-attn", "flash-attn-3", "xformers", "triton", "pytorch-triton",
    "pytorch-triton-rocm", "vllm", "transformers", "accelerate", "peft", "deepspeed", "unsloth",
)


def normalise(name: str) -> str:
    """pip's normalised distribution name: "Flash_Attn" -> "flash-attn"."""
    return re.sub(r"[-_.]+", "-", name).lower()


def release(version: str | None) -> tuple[int, ...]:
    """"2.5.1+cu124" -> (2, 5, 1); "0.0.28.post3" -> (0, 0, 28); "" -> ()."""
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)", version or "")
    return tuple(int(x) for x in m.group(1).split(".")) if m else ()


def public(version: str | None) -> str:
    """The version without its local label: "2.5.1+cu124" -> "2.5.1"."""
    return (version or "").split("+", 1)[0].strip()


def older(version: str, than: str) -> bool:
    """Release-number comparison, missing components as 0 ("0.43" == "0.43.0")."""
    a, b = release(version), release(than)
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) < b + (0,) * (width - len(b))


def same_release(a: str, b: str) -> bool:
    """Same public version, release numbers padded ("2.5" == "2.5.0"), post/dev labels kept."""
    pa, pb = public(a), public(b)
    ra, rb = release(pa), release(pb)
    width = max(len(ra), len(rb))
    tail = lambda v: re.sub(r"^\s*v?\d+(?:\.\d+)*", "", v)  # noqa: E731
    return (ra + (0,) * (width - len(ra)) == rb + (0,) * (width - len(rb))
            and tail(pa) == tail(pb))


def matches(version: str, pattern: str) -> bool:
    """``pattern`` is an exact release ("0.0.28.post3") or a prefix ending in "*" ("0.8.*")."""
    v = public(version)
    if pattern.endswith("*"):
        stem = pattern[:-1].rstrip(".")
        return release(v)[: len(release(stem))] == release(stem) and bool(release(stem))
    return same_release(v, pattern)


@dataclass(frozen=True)
class TorchPin:
    package: str
    versions: tuple[str, ...]
    torch: str
    source: str


@dataclass(frozen=True)
class TritonPin:
    torch: str          # "2.5"
    triton: str         # "3.1"
    source: str


@dataclass(frozen=True)
class GpuRule:
    package: str
    min_capability: str
    why: str
    fix: str
    source: str
    since: str | None = None   # the rule holds from this version of the package


@dataclass(frozen=True)
class OsRule:
    package: str
    os: str             # "windows" | "macos" | "linux"
    why: str
    fix: str
    source: str
    below: str | None = None   # versions before this lack wheels; None: every version


@dataclass(frozen=True)
class StackTable:
    dated: str
    torch_pins: tuple[TorchPin, ...]
    triton: tuple[TritonPin, ...]
    gpu: tuple[GpuRule, ...]
    os: tuple[OsRule, ...]
    gpu_build: tuple[str, ...]
    gpu_build_source: str

    def pin_for(self, package: str, version: str) -> TorchPin | None:
        """The torch release that ``package==version`` was built for, if the table knows."""
        return next((p for p in self.torch_pins if p.package == package
                     and any(matches(version, v) for v in p.versions)), None)

    def release_for_torch(self, package: str, torch_version: str) -> str | None:
        """The newest exact release of ``package`` built for ``torch_version``, if any."""
        found = [v for p in self.torch_pins if p.package == package
                 and same_release(p.torch, torch_version)
                 for v in p.versions if not v.endswith("*")]
        return max(found, key=lambda v: (release(v), v)) if found else None

    def triton_for(self, torch_version: str) -> TritonPin | None:
        mm = release(torch_version)[:2]
        return next((t for t in self.triton if release(t.torch)[:2] == mm), None)


def _rows(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows = raw.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"{TABLE.name}: [[{key}]] must be a list of tables")
    return rows


def parse(text: str) -> StackTable:
    """The table from TOML text; ValueError names the bad row."""
    raw = tomllib.loads(text)
    try:
        gb = raw.get("gpu_build", {})
        return StackTable(
            dated=str(raw["dated"]),
            torch_pins=tuple(TorchPin(r["package"], tuple(r["versions"]), r["torch"], r["source"])
                             for r in _rows(raw, "torch_pin")),
            triton=tuple(TritonPin(r["torch"], r["triton"], r["source"])
                         for r in _rows(raw, "triton")),
            gpu=tuple(GpuRule(r["package"], r["min_capability"], r["why"], r["fix"], r["source"],
                              r.get("from")) for r in _rows(raw, "gpu")),
            os=tuple(OsRule(r["package"], r["os"], r["why"], r["fix"], r["source"], r.get("below"))
                     for r in _rows(raw, "os")),
            gpu_build=tuple(gb.get("packages", ())),
            gpu_build_source=str(gb.get("source", "")),
        )
    except KeyError as exc:
        raise ValueError(f"{TABLE.name}: a row lacks {exc}") from None


@cache
def load() -> StackTable:
    return parse(TABLE.read_text(encoding="utf-8"))

"""The one GPU matcher: what users type and what NVML, rocm-smi, collect_env and macOS report ->
one row of the buying catalog or of the GPU spec database.

Names are normalised first: vendor and trademark noise goes ("NVIDIA", "AMD", "Intel(R)",
"(TM)", "Corporation"), NVML's "Laptop GPU" is TechPowerUp's "Mobile", "with Max-Q Design" is
"Max-Q", rocm-smi's "Navi 31 [Radeon RX 7900 XT/7900 XTX]" keeps the bracketed product name, and
"MI250X/MI250" keeps the first product. Then names are lower-cased, split into words and at
letter/digit boundaries ("rtx4090" -> "rtx 4090", "80GB" -> "80 gb"), so both sides tokenise
alike. A row is a candidate when every word of the query is among its words (its name, id,
memory size and memory type). One candidate wins; among several, a memory size (NVML's total
memory) keeps the closest, then the one whose other words are only variant words (brand words,
its memory size: "3090" is the RTX 3090, not the 3090 Ti), then the one whose name has no other
word ("GTX 1650", not "GTX 1650 GDDR6"), unless two such remain (a 4060 Ti 8 GB and 16 GB). Otherwise
:class:`GpuMatchError` carries the candidates (ambiguous) or the nearest names (unknown).

:func:`lookup_gpu` is what callers use: the priced catalog row when the card is in the buying
catalog (its curated figures), otherwise the spec-database row as a :class:`Gpu`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from rigcheck.parts import Gpu

from .gpudb import GpuSpec, as_gpu, load_specs

BRAND_WORDS = frozenset({"nvidia", "geforce", "rtx", "gtx", "tesla", "quadro", "gpu", "graphics",
                         "radeon", "amd", "intel", "apple"})
_DROP = frozenset({"nvidia", "amd", "ati", "intel", "r", "tm", "corporation", "corp", "inc",
                   "graphics", "gpu", "design", "with", "device", "card", "series"})


class GpuMatchError(LookupError):
    """No single GPU matches; ``candidates`` are the GPUs to choose from (maybe empty)."""

    def __init__(self, query: str, candidates: Sequence[Any], ambiguous: bool):
        self.query = query
        self.candidates = tuple(candidates)
        self.ambiguous = ambiguous
        listed = "; ".join(f"{g.name} ({_ident(g)})" for g in self.candidates)
        if ambiguous:
            msg = f"GPU '{query}' is ambiguous: {listed}"
        elif self.candidates:
            msg = f"no GPU matches '{query}'; did you mean: {listed}"
        else:
            msg = f"no GPU matches '{query}' and neither the catalog nor the spec database has a similar name"
        super().__init__(msg)


def _ident(rec: Any) -> str:
    return str(getattr(rec, "id", None) or getattr(rec, "key", ""))


def _vram(rec: Any) -> float | None:
    v = getattr(rec, "vram_gb", None)
    if v is None:
        v = getattr(rec, "memory_gb", None)
    return float(v) if v else None  # pragma: no mutate (0 and None both mean "not known")


def tokens(text: str) -> tuple[str, ...]:
    """Words, split at letter/digit boundaries, except after a word-initial "gb" or "gh": NVIDIA's
    Grace superchips ("GB10", "GB200", "GH200") are product names, and split they would read
    as a memory size ("10 GB") or another card ("H200")."""
    text = text.lower().replace("_", " ")
    text = re.sub(r"(?<=[a-z])(?<!\bgb)(?<!\bgh)(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    return tuple(t for t in re.split(r"[^a-z0-9.]+", text) if t and t != ".")


def normalise(reported: str) -> str:
    """A reported name as the tables spell it (see the module docstring)."""
    text = reported.strip()
    text = re.sub(r"^\s*(card series|card model|card sku|gpu \d+|device name)\s*:\s*", "", text, flags=re.I)
    bracket = re.search(r"\[([^\]]+)\]", text)
    if bracket:                           # lspci / rocm-smi: "Navi 31 [Radeon RX 7900 XT/7900 XTX]"
        text = bracket.group(1)
    text = re.sub(r"\(r\)|\(tm\)|®|™", " ", text, flags=re.I)
    if "/" in text:  # pragma: no mutate (split without "/" is the same text) "MI250X/MI250": the first
        text = text.split("/")[0]
    text = re.sub(r"\blaptop\b", "mobile", text, flags=re.I)
    text = re.sub(r"\bwith max-q design\b", "max-q", text, flags=re.I)
    return text.strip()


def _words(rec: Any) -> frozenset[str]:
    """Name and id words plus the memory size and type, so NVML's "NVIDIA GeForce RTX 4090 24 GB"
    or "NVIDIA H100 80GB HBM3" still match the "GeForce RTX 4090" / H100 SXM5 row."""
    vram = _vram(rec)
    return frozenset(set(tokens(rec.name)) | set(tokens(_ident(rec).replace("-", " ")))
                     | ({f"{vram:g}", "gb"} if vram else set())
                     | set(tokens(getattr(rec, "memory_type", "") or "")))


def _variant_words(rec: Any) -> frozenset[str]:
    """Words that do not name another model: brand words, the memory size and type."""
    vram = _vram(rec)
    return BRAND_WORDS | ({f"{vram:g}", "gb"} if vram else set()) | set(
        tokens(getattr(rec, "memory_type", "") or ""))


@cache
def _spec_index() -> tuple[tuple[GpuSpec, frozenset[str], frozenset[str]], ...]:
    return tuple((s, _words(s), _variant_words(s)) for s in load_specs())


def _index(records: Sequence[Any]) -> Sequence[tuple[Any, frozenset[str], frozenset[str]]]:
    # (a catalog list never touches the spec table: the isinstance test short-circuits)
    if records and isinstance(records[0], GpuSpec) and records is load_specs():  # pragma: no mutate (speed only)
        return _spec_index()
    return [(r, _words(r), _variant_words(r)) for r in records]


def match_gpu(gpus: Sequence[Any], name: str, memory_gb: float | None = None) -> Any:
    """The one record of ``gpus`` (catalog :class:`Gpu` rows or :class:`GpuSpec` rows) that
    ``name`` names; ``memory_gb`` (NVML's total memory) breaks ties between memory variants."""
    query = normalise(name)
    if not query:  # pragma: no mutate (an empty query also finds nothing below; this says so early)
        raise GpuMatchError(name, [], ambiguous=False)
    ql = query.lower()
    for g in gpus:  # an exact id or name: a fast path, the word rules pick the same row
        if ql in (_ident(g).lower(), g.name.lower()):  # pragma: no mutate
            return g
    wanted = set(tokens(query)) - _DROP
    index = _index(gpus)
    cands = [(g, w, v) for g, w, v in index if wanted and wanted <= w]
    if len(cands) > 1 and memory_gb:  # pragma: no mutate (one candidate: the filter keeps it)
        def gap(c: tuple[Any, frozenset[str], frozenset[str]]) -> float:
            v = _vram(c[0])
            return abs(v - memory_gb) if v else 1e9  # pragma: no mutate (1e9: "never closest")
        best = min(gap(c) for c in cands)
        cands = [c for c in cands if gap(c) <= best + 0.5]
    if len(cands) == 1:
        return cands[0][0]
    if cands:
        plain = [(g, w) for g, w, v in cands if not (w - wanted - v)]
        if len(plain) == 1:
            return plain[0][0]
        # "GTX 1650" is the GTX 1650, not the GTX 1650 GDDR6: the one name with no other words.
        bare = [g for g, w in plain if not (set(tokens(g.name)) - wanted - BRAND_WORDS)]
        if len(bare) == 1:
            return bare[0]
        plain_rows = [g for g, _ in plain]
        raise GpuMatchError(name, plain_rows or [c[0] for c in cands][:12], ambiguous=True)
    names = {g.name.lower(): g for g, _, _ in index}
    # a partial word ("409") first, then names that look alike ("GTX 1080 Tii")
    near = [n for n in names if any(len(w) > 2 and w in n for w in wanted)][:5]
    if not near:
        near = difflib.get_close_matches(ql, list(names), n=5, cutoff=0.4)
    raise GpuMatchError(name, [names[n] for n in near], ambiguous=False)


@dataclass(frozen=True)  # pragma: no mutate
class GpuLookup:
    """What a GPU name resolved to: ``gpu`` is what the performance model uses (the priced
    catalog row when the card is in the buying catalog, else the spec row as a :class:`Gpu`).
    ``spec`` is the spec-database row; for a catalog card it is looked up only when asked, so an
    estimate on a catalog card never reads the spec table."""

    gpu: Gpu
    catalog: Gpu | None
    found_spec: GpuSpec | None = None

    @property
    def in_catalog(self) -> bool:
        return self.catalog is not None

    @cached_property
    def spec(self) -> GpuSpec | None:
        if self.catalog is None:       # found in the spec database itself
            return self.found_spec
        try:
            # "GeForce RTX 3090 (used)", "GeForce GTX Titan X (Maxwell)": the model name only
            found: GpuSpec | None = match_gpu(load_specs(), re.sub(r"\(.*?\)", " ", self.catalog.name),
                                              self.catalog.vram_gb)
            return found
        except GpuMatchError:
            return None


def lookup_gpu(name: str, catalog_gpus: Sequence[Gpu] = (), memory_gb: float | None = None) -> GpuLookup:
    """Resolve a typed or reported GPU name against the buying catalog, then the spec database.
    Raises :class:`GpuMatchError`: the catalog's when the name is ambiguous there (its rows are
    what the user can buy), else the spec database's (ambiguous, or unknown with suggestions)."""
    try:
        row = match_gpu(catalog_gpus, name, memory_gb)
    except GpuMatchError as exc:
        if exc.ambiguous:
            raise
    else:
        return GpuLookup(row, row)
    spec = match_gpu(load_specs(), name, memory_gb)
    vendor_memory = memory_gb if spec.vendor == "Apple" else None
    return GpuLookup(as_gpu(spec, vendor_memory), None, spec)


def same_gpu_as(gpu_id: str, catalog_gpus: Sequence[Gpu] = ()) -> Callable[[str], bool]:
    """A test "does this reported name (a saved bench run's GPU) resolve to ``gpu_id``?", with
    each name resolved once; a name that does not resolve is another GPU."""
    seen: dict[str, bool] = {}

    def same(name: str) -> bool:
        if name not in seen:
            try:
                seen[name] = lookup_gpu(name, catalog_gpus).gpu.id == gpu_id
            except GpuMatchError:
                seen[name] = False
        return seen[name]

    return same


@dataclass(frozen=True)  # pragma: no mutate
class MachineGpu:
    """One kind of GPU in probe facts: the reported name, how many, and what it resolved to
    (``lookup`` None with ``error`` saying why)."""

    reported: str
    count: int
    memory_gb: float | None
    lookup: GpuLookup | None
    error: str = ""


def machine_gpus(facts: Any, catalog_gpus: Sequence[Gpu] = ()) -> list[MachineGpu]:
    """This machine's GPUs from probe facts (:class:`rigcheck.facts.Facts`): NVML's devices,
    else the torch devices (ROCm), else an Apple M-series chip from the CPU model with the
    machine's RAM as its unified memory. Identical GPUs are grouped; the first group first."""
    found: list[tuple[str, float | None]] = []
    nvml = getattr(facts, "nvml", None)
    for g in getattr(nvml, "gpus", None) or []:
        if g.name and not g.lost:
            found.append((g.name, g.memory_total_mib / 1024 if g.memory_total_mib else None))
    if not found:
        torch = getattr(facts, "torch", None)
        for d in getattr(torch, "devices", None) or []:
            if d.name:
                found.append((d.name, d.total_memory_gb))
    host = getattr(facts, "host", None)
    cpu = str(getattr(host, "cpu_model", None) or "")
    if not found and re.match(r"^\s*apple m\d", cpu, re.I):
        found.append((cpu.strip(), getattr(host, "ram_total_gb", None)))
    groups: dict[tuple[str, float | None], int] = {}
    for name, mem in found:
        key = (name, round(mem, 1) if mem else None)
        groups[key] = groups.get(key, 0) + 1
    out = []
    for (name, mem), count in groups.items():
        try:
            out.append(MachineGpu(name, count, mem, lookup_gpu(name, catalog_gpus, mem)))
        except GpuMatchError as exc:
            out.append(MachineGpu(name, count, mem, None, str(exc)))
    return out

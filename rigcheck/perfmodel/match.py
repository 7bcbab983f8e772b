"""Loose GPU-name matching: "4090", "rtx 4090", "GeForce RTX 4090", "H100 PCIe" -> one catalog GPU.

Names and ids are lower-cased, split into words and at letter/digit boundaries ("rtx4090" ->
"rtx 4090", "80GB" -> "80 gb"), so both sides tokenise alike. A GPU is a candidate when every
word of the query is among its words. One candidate wins; among several, the one whose other
words are only brand words (NVIDIA, GeForce, RTX, ...) or its memory size ("12 GB") wins ("3090"
is the RTX 3090, not the 3090 Ti; "3060" is the RTX 3060 12 GB, not the 3060 Ti), unless two
such remain (a 4060 Ti 8 GB and 16 GB). Otherwise :class:`GpuMatchError` carries the candidates (ambiguous) or the nearest names
(unknown), for the CLI to list.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from rigcheck.parts import Gpu

BRAND_WORDS = frozenset({"nvidia", "geforce", "rtx", "gtx", "tesla", "quadro", "gpu", "graphics"})


class GpuMatchError(LookupError):
    """No single GPU matches; ``candidates`` are the GPUs to choose from (maybe empty)."""

    def __init__(self, query: str, candidates: Sequence[Gpu], ambiguous: bool):
        self.query = query
        self.candidates = tuple(candidates)
        self.ambiguous = ambiguous
        listed = "; ".join(f"{g.name} ({g.id})" for g in self.candidates)
        if ambiguous:
            msg = f"GPU '{query}' is ambiguous: {listed}"
        elif self.candidates:
            msg = f"no GPU matches '{query}'; did you mean: {listed}"
        else:
            msg = f"no GPU matches '{query}' and the catalog has no similar name"
        super().__init__(msg)


def tokens(text: str) -> tuple[str, ...]:
    text = text.lower().replace("_", " ")
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    return tuple(t for t in re.split(r"[^a-z0-9.]+", text) if t and t != ".")


def _words(gpu: Gpu) -> set[str]:
    """Name and id words plus the memory size and type, so NVML's "NVIDIA GeForce RTX 4090 24 GB"
    or "NVIDIA H100 80GB HBM3" still match the catalog's "GeForce RTX 4090" / H100 SXM5 row."""
    return (set(tokens(gpu.name)) | set(tokens(gpu.id.replace("-", " ")))
            | {f"{gpu.vram_gb:g}", "gb"} | set(tokens(gpu.memory_type or "")))


def _variant_words(gpu: Gpu) -> set[str]:
    """Brand words plus the memory size ("12", "gb"): words that do not name another model."""
    return BRAND_WORDS | {f"{gpu.vram_gb:g}", "gb"} | set(tokens(gpu.memory_type or ""))


def match_gpu(gpus: Sequence[Gpu], name: str) -> Gpu:
    query = name.strip()
    if not query:
        raise GpuMatchError(name, [], ambiguous=False)
    for g in gpus:
        if query.lower() in (g.id.lower(), g.name.lower()):
            return g
    wanted = set(tokens(query)) - {"nvidia"}
    candidates = [g for g in gpus if wanted and wanted <= _words(g)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        plain = [g for g in candidates if not (_words(g) - wanted - _variant_words(g))]
        if len(plain) == 1:
            return plain[0]
        raise GpuMatchError(name, candidates, ambiguous=True)
    names = {g.name.lower(): g for g in gpus}
    near = difflib.get_close_matches(query.lower(), list(names), n=5, cutoff=0.4)
    if not near:  # a partial word ("409") still deserves suggestions
        near = [n for n in names if any(w in n for w in wanted)][:5]
    raise GpuMatchError(name, [names[n] for n in near], ambiguous=False)

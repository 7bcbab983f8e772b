"""Figures read out of a matched message: what the words alone do not say.

``cuda_oom``: PyTorch's caching-allocator message in both layouts (c10/cuda/CUDACachingAllocator.cpp):
  before 2.1: "Tried to allocate 20.00 MiB (GPU 0; 23.65 GiB total capacity; 22.10 GiB already
  allocated; 19.06 MiB free; 22.70 GiB reserved in total by PyTorch)";
  from 2.1: "Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.64 GiB of which 1.23 GiB
  is free. Including non-PyTorch memory, this process has 22.40 GiB memory in use. Of the
  allocated memory 21.90 GiB is allocated by PyTorch, and 100.25 MiB is reserved by PyTorch but
  unallocated."
``fragmented``: reserved-but-unallocated memory is at least the request, or the GPU reports at
least twice the request free (the bytes were there, not in one block: PyTorch's own hint,
expandable_segments). ``other_process``: more than 1 GiB
of the GPU is used outside this process's PyTorch (another process, or this one's CUDA context
and non-PyTorch libraries).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_UNIT = {"b": 1 / 2**30, "bytes": 1 / 2**30, "kib": 1 / 2**20, "mib": 1 / 2**10, "gib": 1.0,
         "tib": 1024.0, "kb": 1e3 / 2**30, "mb": 1e6 / 2**30, "gb": 1e9 / 2**30}
_Q = r"(\d+(?:\.\d+)?) ?(bytes|[KMGT]iB|[KMG]B|B)"


def _gib(num: str, unit: str) -> float:
    return float(num) * _UNIT[unit.lower()]


def human(gib: float) -> str:
    """2.0 -> "2.00 GiB", 0.0195 -> "20.0 MiB" (as PyTorch's own message would say it)."""
    return f"{gib:.2f} GiB" if gib >= 1 else f"{gib * 1024:.1f} MiB"


def _get(rx: str, text: str) -> float | None:
    m = re.search(rx, text)
    return _gib(m.group(1), m.group(2)) if m else None


def cuda_oom(line: str) -> dict[str, Any]:
    f: dict[str, Any] = {}
    tried = _get(r"Tried to allocate " + _Q, line)
    total = _get(_Q + r" total capacity", line) or _get(r"total capacity of " + _Q, line)
    free = _get(_Q + r" free\b", line) or _get(r"of which " + _Q + r" is free", line)
    alloc = _get(_Q + r" already allocated", line) or _get(_Q + r" is allocated by PyTorch", line)
    reserved = _get(_Q + r" reserved in total by PyTorch", line)
    unalloc = _get(_Q + r" is reserved by PyTorch but unallocated", line)
    process = _get(r"this process has " + _Q + r" memory in use", line)
    # vLLM and others catch it in another process: "Process 562167 has 15.25 GiB memory in use".
    process = process if process is not None else _get(r"Process \d+ has " + _Q + r" memory in use", line)
    if reserved is None and alloc is not None and unalloc is not None:
        reserved = alloc + unalloc
    if unalloc is None and reserved is not None and alloc is not None:
        unalloc = max(reserved - alloc, 0.0)
    for k, v in (("tried", tried), ("total", total), ("free", free), ("allocated", alloc),
                 ("reserved", reserved), ("unallocated", unalloc), ("other", None)):
        if v is not None:
            f[k] = human(v)
    for k, v in (("tried_gib", tried), ("total_gib", total), ("free_gib", free),
                 ("allocated_gib", alloc), ("reserved_gib", reserved),
                 ("unallocated_gib", unalloc), ("process_gib", process)):
        if v is not None:
            f[k] = round(v, 2)
    if tried is not None and (unalloc is not None or free is not None):
        # Either PyTorch holds enough reserved-but-free bytes, or the GPU reports more free than
        # was asked for: the bytes exist but not in one block.
        f["fragmented"] = bool((unalloc is not None and unalloc >= tried and unalloc > 0)
                               or (free is not None and free >= 2 * tried and free >= 0.1))
    if total is not None and free is not None:
        mine = process if process is not None else reserved
        if mine is not None:
            f["other_gib"] = round(max(total - free - mine, 0.0), 2)
            f["other"] = human(max(total - free - mine, 0.0))
            f["other_process"] = total - free - mine > 1.0
    return f


def xid(line: str) -> dict[str, Any]:
    m = re.search(r"Xid \((?:PCI:)?([0-9a-fA-F:.]+)\): (\d+)", line)
    return {"pci": m.group(1), "xid": m.group(2)} if m else {}


FIGURE_FNS: dict[str, Callable[[str], dict[str, Any]]] = {"cuda_oom": cuda_oom, "xid": xid}

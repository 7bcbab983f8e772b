"""What a bench task may read: the run's options, device, recipes, machine and the figures
measured before it, frozen. Tasks take a :class:`BenchContext` and return ``Figure | Skipped``;
nothing is shared and mutable between them (the runner appends to the run, nobody else).

No torch here: the device is whatever ``torch.device`` the runner detected, held opaquely.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rigcheck.runs.results import Figure, Machine


@dataclass(frozen=True)
class Options:
    mode: str = "quick"                       # "quick" | "full"
    only: tuple[str, ...] = ()                # names or globs ("gemm-*"); empty: everything
    data_dir: Path | None = None              # dataset directory for the disk read test
    device: str = "auto"                      # "auto" | "cpu" | "cuda" | "cuda:1"
    targets: tuple[str, ...] = ()             # recipe ids for the target table; empty: all
    time_scale: float = 1.0                   # multiplies every budget (tests use < 1)
    recipes: dict[str, Any] | None = None     # id -> Recipe; None: the bundled ones


@dataclass(frozen=True)
class BenchContext:
    options: Options
    device: Any                               # torch.device
    recipes: Mapping[str, Any]                # id -> Recipe
    machine: Machine
    gpu: Any = None                           # parts.Gpu of the detected GPU, if in the catalog
    started: float = field(default_factory=time.perf_counter)
    measured: tuple[Figure, ...] = ()         # figures measured before this task, in order

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.measured if f.name == name), None)

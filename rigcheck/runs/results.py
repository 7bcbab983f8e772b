"""Plain records for one ``rigcheck bench`` run, and their JSON form.

Measuring fills these; the history, the comparison and the renderers read them. No torch here.

JSON (``BenchRun.to_dict``, schema 1; readers ignore unknown keys)::

    {"schema": 1, "started_at": "2026-11-25T20:01:02+00:00", "mode": "quick" | "full",
     "interrupted": false, "duration_s": 41.2, "load_avg_1m": 0.1, "data_dir": null,
     "machine": {"fingerprint": "3f2a...", "cpu_model": "...", "cpu_cores": 2, "gpus": [...],
                 "device": "cpu" | "cuda:0", "torch_version": "...", "threads": 2, ...},
     "results": [{"name": "gemm-fp32", "label": "GEMM fp32 2048^3", "value": 391.0,
                  "unit": "GFLOP/s", "expected": 281.6, "expected_source": "...",
                  "pct_expected": 139.0, "peak": 281.6, "pct_peak": 139.0,
                  "median_s": 0.044, "iqr_s": 0.001, "cv_pct": 1.2, "runs": 12,
                  "verdict": "ok" | "noisy: ..." | "too short: ...", "note": "...",
                  "hint": "..." | null, "params": {...}}, ...],
     "targets": [{"recipe": "lenet5-mnist", "batch_size": 64, "measured_batch_size": 64,
                  "samples_per_s": 5120.0, "fits": true, "fits_note": "...",
                  "epoch_s": 11.7, "train_s": 234.0, "source": "measured" | "model"}, ...],
     "skipped": [{"name": "gemm-fp16", "reason": "..."}, ...]}

Every figure is higher-is-better (a rate), so a comparison can say "slower" for a drop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class Figure:
    name: str                          # stable id: "gemm-fp32", "h2d-pinned", "train-lenet5-mnist"
    value: float                       # the rate, in ``unit``; higher is better
    unit: str                          # "GFLOP/s", "GB/s", "MB/s", "samples/s", "images/s/core"
    label: str = ""                    # for people: "GEMM fp32 2048x2048x2048"
    expected: float | None = None      # what this hardware should reach (model or spec)
    expected_source: str = ""          # where ``expected`` comes from, said plainly
    pct_expected: float | None = None
    peak: float | None = None          # theoretical peak of the hardware, same unit
    peak_source: str = ""
    pct_peak: float | None = None
    median_s: float | None = None      # median time of one timed call
    iqr_s: float | None = None         # inter-quartile range of that time
    cv_pct: float | None = None        # coefficient of variation of the timed calls, %
    runs: int = 0                      # timed calls behind the figure
    verdict: str = "ok"                # "ok", "noisy: ...", "too short: ..."
    note: str = ""                     # what exactly was measured
    hint: str | None = None            # what to do when the figure is far off
    params: dict[str, Any] = field(default_factory=dict)

    def set_expected(self, expected: float | None, source: str) -> None:
        if expected and expected > 0:
            self.expected = expected
            self.expected_source = source
            self.pct_expected = round(100.0 * self.value / expected, 1)

    def set_peak(self, peak: float | None, source: str) -> None:
        if peak and peak > 0:
            self.peak = peak
            self.peak_source = source
            self.pct_peak = round(100.0 * self.value / peak, 1)


@dataclass
class Skipped:
    name: str
    reason: str


@dataclass
class Target:
    """What one target recipe means on this machine."""

    recipe: str
    name: str = ""
    batch_size: int = 0                # the recipe's batch
    measured_batch_size: int | None = None   # the batch the timing ran at (smaller in --quick)
    samples_per_s: float | None = None
    fits: bool | None = None           # the recipe's batch fits in device memory; None: unknown
    fits_note: str = ""
    epoch_s: float | None = None
    train_s: float | None = None
    source: str = ""                   # "measured" | "model" | "" (nothing known)
    data_mbs_needed: float | None = None   # disk rate to feed samples_per_s, MB/s
    note: str = ""


@dataclass
class Machine:
    fingerprint: str = ""              # hash of CPU model + GPU names; not the hostname
    cpu_model: str = ""
    cpu_cores: int | None = None       # logical CPUs the OS offers (os.cpu_count)
    cpu_mhz: float | None = None
    cpu_mhz_source: str = ""           # "cpuinfo_max_freq" (max turbo) | "cpu MHz" (current/base)
    cpu_capability: str = ""           # torch's view: "AVX512", "AVX2", "DEFAULT"
    cpu_flags: list[str] = field(default_factory=list)   # only those that set the peak
    gpus: list[str] = field(default_factory=list)
    gpu_catalog_note: str = ""         # which catalog row gave expectations, or why none did
    device: str = "cpu"
    threads: int | None = None
    ram_gb: float | None = None        # total RAM, GB (1e9 bytes), from the probe's host facts
    torch_version: str = ""
    cuda_version: str | None = None


@dataclass
class BenchRun:
    machine: Machine
    mode: str = "quick"
    started_at: str = ""
    duration_s: float | None = None
    interrupted: bool = False
    results: list[Figure] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    data_dir: str | None = None
    load_avg_1m: float | None = None   # system load when the run started (os.getloadavg)
    schema: int = SCHEMA_VERSION

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.results if f.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        # Put the schema first: readers check it before anything else.
        return {"schema": d.pop("schema"), **d}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchRun:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"not a rigcheck bench run of schema {SCHEMA_VERSION}")
        return cls(
            machine=_build(Machine, data.get("machine") or {}),
            mode=str(data.get("mode", "quick")),
            started_at=str(data.get("started_at", "")),
            duration_s=data.get("duration_s"),
            interrupted=bool(data.get("interrupted", False)),
            results=[_build(Figure, r) for r in data.get("results", [])],
            targets=[_build(Target, t) for t in data.get("targets", [])],
            skipped=[_build(Skipped, s) for s in data.get("skipped", [])],
            data_dir=data.get("data_dir"),
            load_avg_1m=data.get("load_avg_1m"),
        )


def _build(cls: type, raw: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in raw.items() if k in known})

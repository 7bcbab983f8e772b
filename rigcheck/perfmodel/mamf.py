"""The largest matmul rate a GPU really reaches: its maximum achievable matmul FLOPS (MAMF).

A datasheet's dense 16-bit rate is never reached. The best-shaped bf16 matmul on an A100 SXM runs
at 86.9% of it, on an H100 SXM at 80.3%, on an MI300X at 51.4% (mamf.csv, each row with its
measurement). A training step or a prefill is mostly matmuls, so the speed model works against
this ceiling, not the datasheet, and its fitted efficiencies are fractions of it.

Where a GPU has no measured row, it takes the median fraction of the measured rows of its own
architecture, else of its vendor, else of all rows, and :func:`ceiling` says which (``basis``).
Pure functions over :class:`rigcheck.parts.Gpu`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from statistics import median

from rigcheck.parts import Gpu

MAMF_PATH = Path(__file__).with_name("mamf.csv")

# The vendors and architectures of the measured rows' GPUs, for the fallbacks. The table is keyed
# by gpu id: the buying catalog's id (a100-pcie-80gb) and the spec database's key (a100-pcie-80-gb)
# both, since a GPU can come from either.
_ROW_ARCH = {
    "a100-sxm4-80-gb": ("NVIDIA", "Ampere"), "a100-sxm4-40-gb": ("NVIDIA", "Ampere"),
    "a100-pcie-80gb": ("NVIDIA", "Ampere"), "a100-pcie-40gb": ("NVIDIA", "Ampere"),
    "a100-pcie-80-gb": ("NVIDIA", "Ampere"), "a100-pcie-40-gb": ("NVIDIA", "Ampere"),
    "h100-sxm5-80-gb": ("NVIDIA", "Hopper"), "h200-sxm-141-gb": ("NVIDIA", "Hopper"),
    "b200": ("NVIDIA", "Blackwell"), "b300": ("NVIDIA", "Blackwell Ultra"),
    "radeon-instinct-mi300x": ("AMD", "CDNA 3.0"), "radeon-instinct-mi325x": ("AMD", "CDNA 3.0"),
    "radeon-instinct-mi355x": ("AMD", "CDNA 4.0"),
}


@dataclass(frozen=True)
class MamfRow:
    gpu_id: str
    accelerator: str
    mamf_tflops: float
    theory_tflops: float
    source: str

    @property
    def fraction(self) -> float:
        return self.mamf_tflops / self.theory_tflops


@dataclass(frozen=True)
class Ceiling:
    fraction: float   # of the GPU's own dense 16-bit datasheet rate
    basis: str        # "measured: NVIDIA H100 SXM" / "Hopper median of 2 rows" / ...


@lru_cache(maxsize=1)
def load_rows(path: Path = MAMF_PATH) -> tuple[MamfRow, ...]:
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(MamfRow(r["gpu_id"], r["accelerator"], float(r["mamf_tflops"]),
                             float(r["theory_tflops"]), r["source"]) for r in csv.DictReader(fh))


def _arch(gpu: Gpu) -> str:
    return gpu.architecture.removeprefix(gpu.vendor).strip()


def ceiling(gpu: Gpu, rows: tuple[MamfRow, ...] | None = None) -> Ceiling:
    """The fraction of ``gpu``'s dense 16-bit rate its best matmul reaches. A measured row's
    fraction is its MAMF over the table's own datasheet figure (the spec database can quote a
    different boost clock), applied to this GPU's rate."""
    rows = load_rows() if rows is None else rows
    for r in rows:
        if r.gpu_id == gpu.id:
            return Ceiling(r.fraction, f"measured: {r.accelerator}")
    vendor = gpu.vendor or "NVIDIA"
    for label, pick in ((f"{vendor} {_arch(gpu)}", lambda va: va == (vendor, _arch(gpu))),
                        (vendor, lambda va: va[0] == vendor),
                        ("", lambda va: True)):
        # one value per measurement: the SXM4 40 and 80 GB rows, and H200 on H100's row, repeat one
        same = {(r.mamf_tflops, r.theory_tflops): r.fraction for r in rows
                if pick(_ROW_ARCH.get(r.gpu_id, ("", "")))}
        if same:
            n = len(same)
            which = f"the {n} {label}" if label else f"all {n}"
            return Ceiling(median(same.values()), f"not measured on this GPU; the median of "
                           f"{which} measurement{'s' if n > 1 else ''}")
    return Ceiling(1.0, "no measurements")

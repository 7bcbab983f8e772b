"""Performance model: predicted training speed and memory of a recipe on a GPU (pure, no torch).

See :mod:`rigcheck.perfmodel.model` for the formulas, ``params.json`` for the fitted parameters
and their provenance, and ``benchmarks/perfmodel_cv.py`` for the cross-validated error.
"""

from __future__ import annotations

from .gpudb import GpuSpec, load_specs
from .match import (
                    GpuLookup,
                    GpuMatchError,
                    MachineGpu,
                    lookup_gpu,
                    machine_gpus,
                    match_gpu,
                    same_gpu_as,
)
from .memory import train_memory_gb
from .model import Prediction, max_batch_that_fits, predict

__all__ = [
    "GpuLookup",
    "GpuMatchError",
    "GpuSpec",
    "MachineGpu",
    "load_specs",
    "lookup_gpu",
    "same_gpu_as",
    "machine_gpus",
    "Prediction",
    "match_gpu",
    "max_batch_that_fits",
    "predict",
    "train_memory_gb",
]

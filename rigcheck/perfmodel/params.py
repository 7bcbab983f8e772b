"""The fitted efficiency parameters of the performance model, and where they come from.

``params.json`` (next to this file) is written by ``python -m rigcheck.perfmodel.calibrate`` from
``calibration.csv`` (published training throughputs, each row with its source URL). It holds a
handful of numbers, not a table of per-GPU results:

- ``compute_log_eff``: natural log of the achieved fraction of the relevant peak, per precision
  class: ``fp32`` (CUDA cores), ``tf32`` (tensor cores, TF32), ``tc16`` (tensor cores, fp16/bf16
  with fp32 accumulate). It is quoted at the 100 TFLOP/s reference of ``peak_exponent`` and for
  CNNs, whose FLOPs are counted as direct convolution: cuDNN's Winograd and FFT algorithms do
  fewer multiplications, so a CNN's "fraction" can exceed 1 (convnet-benchmarks' AlexNet on a
  Maxwell Titan X ran at 1.0x its nominal peak). Only the products with the other factors are
  meaningful;
- ``generation_log_offset``: per architecture generation, added to the above (ridge-shrunk
  towards 0, so a generation with no calibration rows, e.g. Ada Lovelace, gets the pooled value);
- ``family_compute_log``: per workload family (cnn = 0 by definition);
- ``traffic_k``: memory traffic per sample as a multiple of the saved activation bytes, per family;
- ``nchw_tensor_factor``: extra traffic of a CNN on tensor cores in NCHW (layout transposes);
- ``combine_p``: how compute and memory time combine, ``(tc^p + tm^p)^(1/p)`` (1 = sum, large = max);
- ``peak_exponent`` / ``bw_exponent``: achieved rates grow as (peak / reference)^exponent, so a
  value below 1 says bigger chips reach a smaller fraction of their peak (tail effects, kernels
  too small to fill more SMs, elementwise kernels that do not stream at full HBM speed); the
  references are 100 TFLOP/s and 1,000 GB/s;
- ``issue_bw_per_sm_ghz``: GB/s of activation traffic the SMs can keep streaming per SM-GHz
  (SM count x boost clock, ``hardware.sm_ghz``); 0 = no such limit. See
  ``model.achieved_bandwidth``. With it, ``bw_exponent`` is held at 1 (DRAM time is linear in
  bandwidth; the saturation on bandwidth-rich chips is this limit's job, not a bent exponent);
- ``power_exponent``: a card with less board power per SM-clock than its generation's flagship
  (``hardware.power_headroom`` < 1: passive/blower 300 W parts, low-profile cards) runs its
  tensor cores at headroom**power_exponent of the nominal rate;
- ``sync_loss_per_doubling``: data-parallel efficiency lost per doubling of GPUs beyond the
  all-reduce time (stragglers, synchronisation, input pipeline).

Reading is lazy (first call), so importing rigcheck has no side effects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

PARAMS_PATH = Path(__file__).resolve().parent / "params.json"


@dataclass(frozen=True)
class EfficiencyParams:
    compute_log_eff: dict[str, float]
    generation_log_offset: dict[str, float]
    family_compute_log: dict[str, float]
    traffic_k: dict[str, float]
    nchw_tensor_factor: float = 1.0
    combine_p: float = 1.0
    sync_loss_per_doubling: float = 0.0
    peak_exponent: float = 1.0
    bw_exponent: float = 1.0
    issue_bw_per_sm_ghz: float = 0.0
    # Tensor-core rate lost to a power limit: x headroom**power_exponent where
    # hardware.power_headroom < 1 (0 = ignore power).
    power_exponent: float = 0.0
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "compute_log_eff": self.compute_log_eff,
            "generation_log_offset": self.generation_log_offset,
            "family_compute_log": self.family_compute_log,
            "traffic_k": self.traffic_k,
            "nchw_tensor_factor": self.nchw_tensor_factor,
            "combine_p": self.combine_p,
            "sync_loss_per_doubling": self.sync_loss_per_doubling,
            "peak_exponent": self.peak_exponent,
            "bw_exponent": self.bw_exponent,
            "issue_bw_per_sm_ghz": self.issue_bw_per_sm_ghz,
            "power_exponent": self.power_exponent,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EfficiencyParams:
        return cls(
            compute_log_eff={k: float(v) for k, v in data["compute_log_eff"].items()},
            generation_log_offset={k: float(v) for k, v in data["generation_log_offset"].items()},
            family_compute_log={k: float(v) for k, v in data["family_compute_log"].items()},
            traffic_k={k: float(v) for k, v in data["traffic_k"].items()},
            nchw_tensor_factor=float(data.get("nchw_tensor_factor", 1.0)),
            combine_p=float(data.get("combine_p", 1.0)),
            sync_loss_per_doubling=float(data.get("sync_loss_per_doubling", 0.0)),
            peak_exponent=float(data.get("peak_exponent", 1.0)),
            bw_exponent=float(data.get("bw_exponent", 1.0)),
            issue_bw_per_sm_ghz=float(data.get("issue_bw_per_sm_ghz", 0.0)),
            power_exponent=float(data.get("power_exponent", 0.0)),
            provenance=dict(data.get("provenance", {})),
        )


@lru_cache(maxsize=1)
def load_params(path: Path = PARAMS_PATH) -> EfficiencyParams:
    """The committed fitted parameters (cached)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EfficiencyParams.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:   # a field not a map
        raise RuntimeError(
            f"performance-model parameters unreadable at {path}: {exc}; "
            "regenerate with: python -m rigcheck.perfmodel.calibrate"
        ) from None


def save_params(params: EfficiencyParams, path: Path = PARAMS_PATH) -> None:
    path.write_text(json.dumps(params.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

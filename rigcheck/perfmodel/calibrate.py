"""Fit the performance model's efficiency parameters on ``calibration.csv`` and write params.json.

Run: ``python -m rigcheck.perfmodel.calibrate`` (add ``--dry-run`` to print without writing).

``calibration.csv`` is ``shared/reference/throughput_calibration.csv`` (published throughputs, one
source URL per row) plus the columns this fit needs: the GPU's specs and their source, the
workload key (``workloads.py``), the precision the run really used, channels_last, whether the
figure includes the optimizer step, the throughput converted to samples/s, and ``status``
(``fit`` / ``exclude`` with the reason in ``why`` / ``scaling`` for multi-GPU rows).

Method: least squares on log(predicted / published) over the ``fit`` rows, Levenberg-Marquardt
with a numerical Jacobian (numpy; no scipy), plus a ridge penalty pulling each generation's
offset towards 0, so one GPU cannot carry a generation on its own and a generation without rows
gets the pooled efficiency. The multi-GPU loss per doubling is then solved from the ``scaling``
rows against their 1-GPU row. The bandwidth exponent is held at 1 and the SM-issue bandwidth
limit (``model.achieved_bandwidth``) fitted instead. numpy is imported here only: the model itself stays pure.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path

from rigcheck.parts import Gpu, Price
from rigcheck.recipes import Recipe

from . import scaling
from .hardware import generation, resolve
from .model import UNFUSED_ADAM_TRAFFIC_BYTES, step_breakdown
from .params import PARAMS_PATH, EfficiencyParams, save_params
from .workloads import WORKLOADS, as_recipe

CALIBRATION_CSV = Path(__file__).resolve().parent / "calibration.csv"
PCLASSES = ("fp32", "tf32", "tc16")
FAMILY_EFF = ("transformer", "rnn", "gemm")       # cnn is the reference (0)
FAMILY_TRAFFIC = ("cnn", "transformer", "rnn")    # gemm moves nothing worth counting
RIDGE = 4.0                                       # weight on generation offsets (log units)


@dataclass(frozen=True)
class CalRow:
    row: int
    gpu_key: str
    gpu: Gpu
    recipe: Recipe | None        # None: a workload rigcheck does not describe (row excluded)
    precision: str
    batch: int
    published_sps: float
    include_optimizer: bool
    include_overhead: bool
    n_gpus: int
    status: str
    why: str
    label: str          # "resnet50 amp" for tables
    framework: str
    source_url: str
    notes: str = ""
    optimizer_bytes: float | None = None   # the run's optimizer traffic, when not the recipe's


def _unfused_adam(r: dict[str, str]) -> bool:
    """Lambda's BERT SQuAD runs without fp16/amp: DLE run_squad.py then steps BertAdam, an
    unfused per-tensor Adam (model.UNFUSED_ADAM_TRAFFIC_BYTES), not apex FusedAdam."""
    return ("lambdal" in r["source_url"] and r["workload"] == "bert-large-squad384"
            and r["model_precision"] in ("fp32", "tf32"))


def _tdp_w(spec_name: str) -> float:
    """Board power of a calibration row's GPU from the GPU spec database (TechPowerUp), for the
    power-limit term; 0 (no limit modelled) when the name does not resolve."""
    from .gpudb import load_specs
    from .match import GpuMatchError, match_gpu

    try:
        return float(match_gpu(load_specs(), spec_name).tdp_w or 0.0)
    except GpuMatchError:
        return 0.0


def _gpu(r: dict[str, str]) -> Gpu:
    def num(name: str) -> float | None:
        return float(r[name]) if r[name] else None

    cc = r["compute_capability"]
    t16 = num("tensor_fp16_tflops")
    return Gpu(
        id=r["gpu_key"], name=r["spec_name"], vendor="NVIDIA", architecture=r["architecture"],
        compute_capability=cc, vram_gb=float(r["vram_gb"]), memory_type="", mem_bw_gbs=float(r["mem_bw_gbs"]),
        cuda_cores=0, fp32_tflops=float(r["fp32_tflops"]), tensor_fp16_tflops=t16,
        tensor_bf16_tflops=t16 if float(cc) >= 8.0 else None, tensor_tf32_tflops=num("tensor_tf32_tflops"),
        tensor_accumulate="fp32", tdp_w=_tdp_w(r["spec_name"]), slot_width=2, length_mm=0.0, power_8pin=0, power_16pin=0,
        pcie_gen=4 if float(cc) >= 8.0 else 3, form=r["form"], cooler="passive",
        nvlink=r["form"] == "datacenter", launch_year=0, availability="legacy",
        price=Price(inr=1.0, usd=None, date=date(2000, 1, 1), kind="msrp", source=r["spec_source"]),
    )


def load_rows(path: Path = CALIBRATION_CSV) -> list[CalRow]:
    rows: list[CalRow] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            w = WORKLOADS.get(r["workload"])
            raw_batch = float(r["batch_size"]) if r["batch_size"] else 1.0
            batch = max(1, round(raw_batch * (w.samples_per_batch_item if w else 1.0)))
            if w is not None and w.family == "gemm":
                batch = 1
            recipe = as_recipe(r["workload"], batch, r["channels_last"] == "true") if w else None
            if recipe is not None and r["task"] == "infer":
                # Inference: a forward pass of a frozen model, no optimizer (shown, not fitted).
                recipe = replace(recipe, train_flops_per_sample=recipe.fwd_flops_per_sample,
                                 trainable_params=0, activation_bytes_per_sample=0.0)
            kernel_only = r["task"] == "kernel"
            rows.append(CalRow(
                row=int(r["row"]), gpu_key=r["gpu_key"], gpu=_gpu(r), recipe=recipe,
                precision=r["model_precision"], batch=batch, published_sps=float(r["samples_per_s"]),
                include_optimizer=r["includes_optimizer"] == "true" and r["task"] == "train",
                include_overhead=not kernel_only,
                n_gpus=int(r["n_gpus"]), status=r["status"], why=r["why"],
                label=f"{r['workload']} {r['model_precision']}" + (" NHWC" if r["channels_last"] == "true" else ""),
                framework=r["framework"], source_url=r["source_url"], notes=r["notes"],
                optimizer_bytes=UNFUSED_ADAM_TRAFFIC_BYTES if _unfused_adam(r) else None,
            ))
    return rows


def row_prediction(params: EfficiencyParams, row: CalRow) -> float:
    """Predicted single-GPU samples/s for a calibration row (in the row's own units)."""
    if row.recipe is None:
        return float("nan")
    precision = row.precision if row.precision in ("fp32", "tf32", "fp16", "bf16", "amp") else "fp32"
    setup = resolve(row.recipe, row.gpu, precision)
    parts = step_breakdown(row.recipe, row.gpu, setup, row.batch, params,
                           include_optimizer=row.include_optimizer,
                           include_overhead=row.include_overhead,
                           optimizer_bytes_per_param=row.optimizer_bytes)
    return row.batch / parts.step_s


# ---- parameter vector <-> EfficiencyParams -------------------------------------------------

def _generations(rows: Sequence[CalRow]) -> list[str]:
    return sorted({generation(r.gpu) for r in rows})


def _unpack(x: Sequence[float] | np.ndarray, gens: Sequence[str]) -> EfficiencyParams:
    i = 0
    ce = {}
    for name in PCLASSES:
        ce[name] = float(x[i])
        i += 1
    go = {}
    for g in gens:
        go[g] = float(x[i])
        i += 1
    fc = {"cnn": 0.0}
    for f in FAMILY_EFF:
        fc[f] = float(x[i])
        i += 1
    tk = {"gemm": 0.0}
    for f in FAMILY_TRAFFIC:
        tk[f] = math.exp(float(x[i]))
        i += 1
    nchw = math.exp(float(x[i]))
    p = 1.0 + math.exp(float(x[i + 1]))
    return EfficiencyParams(ce, go, fc, tk, nchw_tensor_factor=nchw, combine_p=p,
                            peak_exponent=float(x[i + 2]), bw_exponent=1.0,
                            issue_bw_per_sm_ghz=math.exp(float(x[i + 3])),
                            power_exponent=math.exp(float(x[i + 4])))


def _x0(gens: Sequence[str]) -> list[float]:
    return ([math.log(0.5)] * len(PCLASSES) + [0.0] * len(gens) + [0.0] * len(FAMILY_EFF)
            + [math.log(8.0)] * len(FAMILY_TRAFFIC) + [0.0, 0.0, 1.0, math.log(30.0), math.log(0.5)])


def fit(rows: Sequence[CalRow], iterations: int = 60) -> EfficiencyParams:
    """Least squares in log space over ``rows`` (only ``status == 'fit'`` ones are used)."""
    import numpy as np

    data = [r for r in rows if r.status == "fit"]
    gens = _generations(data)
    n_gen = len(gens)
    gen_slice = slice(len(PCLASSES), len(PCLASSES) + n_gen)
    targets = np.log([r.published_sps for r in data])

    def residuals(x: np.ndarray) -> np.ndarray:
        params = _unpack(x, gens)
        pred = np.log([row_prediction(params, r) for r in data])
        return np.concatenate([pred - targets, math.sqrt(RIDGE) * x[gen_slice] / 4.0])

    x = np.array(_x0(gens), dtype=float)
    lam = 1e-2
    r = residuals(x)
    cost = float(r @ r)
    for _ in range(iterations):
        jac = np.empty((r.size, x.size))
        for j in range(x.size):
            step = np.zeros_like(x)
            step[j] = 1e-5
            jac[:, j] = (residuals(x + step) - r) / 1e-5
        jtj = jac.T @ jac
        grad = jac.T @ r
        improved = False
        for _ in range(10):
            delta = np.linalg.solve(jtj + lam * np.diag(np.diag(jtj) + 1e-9), -grad)
            r_new = residuals(x + delta)
            cost_new = float(r_new @ r_new)
            if cost_new < cost:
                x, r, cost = x + delta, r_new, cost_new
                lam = max(lam / 3.0, 1e-7)
                improved = True
                break
            lam *= 4.0
        if not improved or float(np.max(np.abs(delta))) < 1e-6:
            break
    return _unpack(x, gens)


def single_gpu_row(rows: Sequence[CalRow], multi: CalRow) -> CalRow | None:
    """The 1-GPU row a multi-GPU row is compared with: same GPU, workload, precision and
    per-GPU batch, from the same benchmark generation (Lambda v1 / NVIDIA DLE) where possible."""
    same = [s for s in rows if s.status == "fit" and s.gpu_key == multi.gpu_key
            and s.label == multi.label and s.batch == multi.batch]
    lambda_v1 = "Lambda v1" in multi.notes
    best = [s for s in same if ("Lambda v1" in s.notes) == lambda_v1 and
            ("lambdal" in s.source_url) == ("lambdal" in multi.source_url)]
    found = best or same
    return found[0] if found else None


def fit_sync_loss(params: EfficiencyParams, rows: Sequence[CalRow]) -> float:
    """Per-doubling loss from the multi-GPU rows against their published 1-GPU row."""
    losses = []
    for r in rows:
        if r.status != "scaling" or r.n_gpus < 2:
            continue
        single = single_gpu_row(rows, r)
        if single is None or r.recipe is None:
            continue
        published_eff = r.published_sps / (r.n_gpus * single.published_sps)
        setup = resolve(r.recipe, r.gpu, r.precision)
        parts = step_breakdown(r.recipe, r.gpu, setup, r.batch, params)
        links = scaling.parse_links(r.gpu, _row_interconnect(r))
        grad_bytes = 4.0 * r.recipe.trainable_params
        t_ar = scaling.allreduce_s(grad_bytes, r.n_gpus, 1, links)
        exposed = scaling.exposed_comm_s(t_ar, parts.compute_s * 2 / 3, grad_bytes)
        comm_eff = parts.step_s / (parts.step_s + exposed)
        losses.append(1.0 - (min(published_eff / comm_eff, 1.0)) ** (1.0 / math.log2(r.n_gpus)))
    # The median: one odd run (a data-loader-bound BERT row) should not set it alone.
    losses.sort()
    if not losses:
        return 0.0
    mid = len(losses) // 2
    return float(losses[mid] if len(losses) % 2 else (losses[mid - 1] + losses[mid]) / 2)


def cross_validate(
    rows: Sequence[CalRow], group_of: Callable[[str], str] = lambda key: key,
) -> list[tuple[CalRow, float]]:
    """Leave one group (default: one GPU) out: refit without its rows, predict them.
    Returns (row, predicted samples/s) for every ``fit`` row."""
    out: list[tuple[CalRow, float]] = []
    fitted = [r for r in rows if r.status == "fit"]
    for name in sorted({group_of(r.gpu_key) for r in fitted}):
        train = [r for r in rows if not (r.status == "fit" and group_of(r.gpu_key) == name)]
        params = fit(train)
        out += [(r, row_prediction(params, r)) for r in fitted if group_of(r.gpu_key) == name]
    return out


def _row_interconnect(row: CalRow) -> str | None:
    return "pcie4" if "PCIe" in row.why else None


def fit_all(rows: Sequence[CalRow], source: Path = CALIBRATION_CSV,
            with_cv: bool = False) -> EfficiencyParams:
    params = fit(rows)
    sync = fit_sync_loss(params, rows)
    used = [r for r in rows if r.status == "fit"]
    errors = sorted(abs(row_prediction(params, r) / r.published_sps - 1.0) for r in used)
    provenance = {
        "fitted_on": source.name,
        "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "rows_fitted": len(used),
        "rows_excluded": sum(1 for r in rows if r.status == "exclude"),
        "gpus": sorted({r.gpu_key for r in used}),
        "in_sample_median_abs_error": round(errors[len(errors) // 2], 4),
        "in_sample_worst_abs_error": round(errors[-1], 4),
        "method": "log-space least squares (Levenberg-Marquardt), ridge on generation offsets",
        "command": "python -m rigcheck.perfmodel.calibrate",
        "fitted_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cross_validation": "python benchmarks/perfmodel_cv.py (leave one GPU out)",
    }
    if with_cv:
        cv = sorted(abs(pred / r.published_sps - 1.0) for r, pred in cross_validate(rows))
        provenance["logo_cv_median_abs_error"] = round(cv[len(cv) // 2], 4)
        provenance["logo_cv_worst_abs_error"] = round(cv[-1], 4)
        provenance["logo_cv_rows_over_50pct"] = sum(e > 0.5 for e in cv)
    return EfficiencyParams(
        params.compute_log_eff, params.generation_log_offset, params.family_compute_log,
        params.traffic_k, params.nchw_tensor_factor, params.combine_p, sync,
        params.peak_exponent, params.bw_exponent, params.issue_bw_per_sm_ghz,
        params.power_exponent, provenance,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=CALIBRATION_CSV)
    parser.add_argument("--out", type=Path, default=PARAMS_PATH)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    rows = load_rows(args.csv)
    params = fit_all(rows, args.csv, with_cv=not args.dry_run)
    print("precision-class efficiency:", {k: round(math.exp(v), 3) for k, v in params.compute_log_eff.items()})
    print("generation factor:", {k: round(math.exp(v), 3) for k, v in params.generation_log_offset.items()})
    print("family factor:", {k: round(math.exp(v), 3) for k, v in params.family_compute_log.items()})
    print("traffic k:", {k: round(v, 2) for k, v in params.traffic_k.items()})
    print(f"SM-issue bandwidth {params.issue_bw_per_sm_ghz:.1f} GB/s per SM-GHz")
    print(f"nchw tensor factor {params.nchw_tensor_factor:.2f}, combine p {params.combine_p:.2f}, "
          f"sync loss/doubling {params.sync_loss_per_doubling:.3f}, peak exponent "
          f"{params.peak_exponent:.2f}, bandwidth exponent {params.bw_exponent:.2f}, "
          f"power exponent {params.power_exponent:.2f}")
    print("provenance:", params.provenance)
    if not args.dry_run:
        save_params(params, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

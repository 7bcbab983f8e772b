"""Leave-one-GPU-out cross-validation of the performance model.

For each GPU in ``rigcheck/perfmodel/calibration.csv``, refit the efficiency parameters on every
other GPU's rows and predict the held-out GPU's rows: the error a user would see for a GPU the
model was never fitted on. Prints a table per GPU, the median and worst absolute error, the
excluded rows (with their reason and the full-fit prediction, for the record) and the multi-GPU row.

Run: ``.venv/bin/python benchmarks/perfmodel_cv.py`` (about 30 s on 2 cores; numpy only, no torch, no GPU).
``--by-chip`` holds out every product of one chip together (V100 16/32 GB, A100 40/80 GB, H100/GH200).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict

from rigcheck.perfmodel import calibrate
from rigcheck.perfmodel.model import predict_with

CHIP = {
    "v100-sxm2-16gb": "GV100", "v100-sxm2-32gb": "GV100",
    "a100-sxm4-40gb": "GA100", "a100-sxm4-80gb": "GA100",
    "h100-sxm5-80gb": "GH100", "gh200-96gb": "GH100",
    "rtx-3090": "GA102", "rtx-a6000": "GA102",
    "titan-x-pascal": "GP102", "titan-xp": "GP102", "gtx-1080-ti": "GP102",
    "titan-x-maxwell": "GM200", "tesla-m40": "GM200",
}


def _published_efficiency(rows, r) -> str:
    single = calibrate.single_gpu_row(rows, r)
    if single is None:
        return "n/a (no 1-GPU row at that batch)"
    return f"{r.published_sps / (r.n_gpus * single.published_sps):.2f} (1-GPU row {single.row})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--by-chip", action="store_true", help="hold out whole chips, not products")
    args = ap.parse_args(argv)

    rows = calibrate.load_rows()
    fit_rows = [r for r in rows if r.status == "fit"]
    group_of = (lambda key: CHIP.get(key, key)) if args.by_chip else (lambda key: key)
    groups: dict[str, list] = defaultdict(list)
    for r in fit_rows:
        groups[group_of(r.gpu_key)].append(r)

    all_errors: list[float] = []
    per_group: list[tuple[str, int, float, float]] = []
    print(f"Leave-one-{'chip' if args.by_chip else 'GPU'}-out cross-validation "
          f"({len(fit_rows)} rows, {len(groups)} groups)\n")
    print(f"{'held out':<16} {'row':>4}  {'workload / precision':<34} {'published':>11} {'predicted':>11} {'abs err':>8}")
    predicted = {r.row: pred for r, pred in calibrate.cross_validate(rows, group_of)}
    for name in sorted(groups):
        held = groups[name]
        errs = []
        for r in held:
            pred = predicted[r.row]
            err = abs(pred / r.published_sps - 1.0)
            errs.append(err)
            print(f"{r.gpu_key:<16} {r.row:>4}  {r.label:<34} {r.published_sps:>11.5g} {pred:>11.5g} {err:>7.0%}")
        all_errors += errs
        per_group.append((name, len(held), statistics.median(errs), max(errs)))

    print(f"\n{'group':<16} {'rows':>4} {'median':>8} {'worst':>8}")
    for name, n, med, worst in per_group:
        print(f"{name:<16} {n:>4} {med:>7.0%} {worst:>7.0%}")
    med = statistics.median(all_errors)
    worst = max(all_errors)
    over50 = sum(e > 0.5 for e in all_errors)
    within20 = sum(e <= 0.2 for e in all_errors)
    print(f"\nALL held-out rows: n={len(all_errors)}  median abs error {med:.1%}  worst {worst:.1%}  "
          f"within 20%: {within20}/{len(all_errors)}  worse than 50%: {over50}")

    full = calibrate.fit_all(rows)
    print("\nExcluded rows (not fitted, not scored; full-fit prediction shown for the record):")
    for r in rows:
        if r.status != "exclude":
            continue
        pred = calibrate.row_prediction(full, r)
        shown = "      n/a" if pred != pred else f"{pred:>9.5g}"
        print(f"  row {r.row:>3} {r.gpu_key:<16} {r.label:<28} {r.framework:<28} published {r.published_sps:>9.5g} "
              f"predicted {shown}  -- {r.why}")

    print("\nMulti-GPU rows (sync loss per doubling fitted on these, so not a held-out test):")
    for r in rows:
        if r.status != "scaling":
            continue
        p = predict_with(full, r.recipe, r.gpu, precision=r.precision, batch_size=r.batch,
                         n_gpus=r.n_gpus, interconnect=calibrate._row_interconnect(r))
        print(f"  row {r.row}: {r.n_gpus}x {r.gpu_key} {r.label}: published {r.published_sps:.0f}, "
              f"predicted {p.samples_per_s:.0f} ({p.samples_per_s / r.published_sps - 1:+.0%}); "
              f"scaling efficiency predicted {p.scaling_efficiency:.2f}, published "
              f"{_published_efficiency(rows, r)}")
    _memory_check(rows)
    return 0


def _memory_check(rows) -> None:
    """Lambda picks each GPU's largest batch that fits: our memory model should let it fit and
    put the limit not far above it (workload activation figures from workloads.py)."""
    from rigcheck.perfmodel.hardware import resolve
    from rigcheck.perfmodel.memory import max_batch_for_memory

    print("\nMemory check: Lambda's largest-that-fits batches against the model's largest batch")
    for workload in ("resnet50", "bert-large-squad384"):
        ratios = []
        for r in rows:
            if (r.status != "fit" or "lambdal" not in r.source_url or r.recipe is None
                    or r.recipe.model != workload):
                continue
            mode = resolve(r.recipe, r.gpu, r.precision).mode
            ratios.append(max_batch_for_memory(r.recipe, r.gpu.vram_gb, mode) / r.batch)
        ratios.sort()
        fits = sum(x >= 1.0 for x in ratios)
        print(f"  {workload:<22} {len(ratios)} rows: their batch fits the model in {fits}; "
              f"model max / their batch from {ratios[0]:.2f} to {ratios[-1]:.2f} "
              f"(median {ratios[len(ratios) // 2]:.2f})")
    print("  (BERT: workloads.py uses rigcheck.bench.models' BERT, whose fused attention saves no\n"
          "   seq x seq matrices; NVIDIA's BERT of 2019-21 saved them but fused other kernels.)")


if __name__ == "__main__":
    sys.exit(main())

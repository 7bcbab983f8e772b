"""Fit the LLM speed model on the published rows and print held-out errors.

    python benchmarks/llm_cv.py            # table + leave-one-source-out and leave-one-GPU-out
    python benchmarks/llm_cv.py --write    # also write the all-rows fit to llm_params.json
    python benchmarks/llm_cv.py --fit-only --write   # the fit alone (no held-out columns)

Rows: rigcheck/perfmodel/llm_calibration.csv (URL + quote each). Memory rows test the memory model
(no fitted parameter); speed rows are predicted by a fit that never saw their source (LOSO) or
their GPU (LOGO).
"""

from __future__ import annotations

import json
import sys
import time

from rigcheck import catalog as cat
from rigcheck.perfmodel import lookup_gpu
from rigcheck.perfmodel.llm_calibrate import (
    MEMORY_METRICS,
    SPEED_METRICS,
    Held,
    cross_validate,
    excluded,
    fit,
    load_rows,
    predict_row,
    summary,
)
from rigcheck.perfmodel.llm_speed import PARAMS_PATH


def main() -> int:
    t0 = time.perf_counter()
    gpus = cat.load_catalog().gpus
    rows = []
    for r in load_rows():
        try:
            gpu = lookup_gpu(r.gpu, gpus).gpu
        except LookupError as exc:
            print(f"left out {r.id}: GPU '{r.gpu}': {exc}")
            continue
        why = excluded(r, gpu)
        if why:
            print(f"left out {r.id} ({r.gpu}, {r.metric} {r.value:g}): {why}")
            continue
        rows.append((r, gpu))
    full = fit(rows)
    if "--fit-only" in sys.argv:   # just the all-rows fit (with --write: refresh llm_params.json)
        loso = logo = {r.id: Held(r, predict_row(r, g, full)) for r, g in rows}
    else:
        loso = {h.row.id: h for h in cross_validate(rows, lambda r: r.source)}
        logo = {h.row.id: h for h in cross_validate(rows, lambda r: r.gpu)}
    print(f"{'row':<26} {'gpu':<22} {'metric':<21} {'published':>10} {'fit-all':>8} {'LOSO':>7} {'LOGO':>7}")
    for r, g in rows:
        pred = predict_row(r, g, full)
        print(f"{r.id:<26} {r.gpu[:22]:<22} {r.metric:<21} {r.value:>10,.1f} {pred / r.value - 1:>+8.0%} "
              f"{loso[r.id].error:>+7.0%} {logo[r.id].error:>+7.0%}")
    for name, held in (("leave-one-source-out", loso), ("leave-one-GPU-out", logo)):
        for label, metrics in (("speed", SPEED_METRICS), ("memory", MEMORY_METRICS)):
            s = summary(list(held.values()), metrics)
            if s["rows"]:
                print(f"{name:<21} {label:<7} rows {s['rows']:>3}  median |error| {s['median']:.1%}  "
                      f"worst {s['worst']:.0%}  rows over 50%: {s['over_50pct']}")
    print("fitted on all rows:", json.dumps({k: full[k] for k in (
          "mfu", "prefill_eff", "prefill_eff_no_tensor", "bw_eff", "per_layer_overhead_s",
          "quant_prefill_factor", "train_nonmatmul_bytes", "ddp_scaling")},
          default=lambda v: round(v, 4)))
    print(f"({time.perf_counter() - t0:.1f} s)")
    if "--write" in sys.argv:
        out = {k: full[k] for k in full}
        out["_provenance"] = {"fitted_on": "llm_calibration.csv + llm_calibration_llm.csv",
                              "rows": len(rows), "script": "benchmarks/llm_cv.py --write"}
        out["architectures"] = sorted({g.architecture for r, g in rows
                                       if r.metric in SPEED_METRICS})
        PARAMS_PATH.write_text(json.dumps(out, indent=2, default=float) + "\n")
        print(f"wrote {PARAMS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

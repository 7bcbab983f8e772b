"""Each row of apple_rows.csv next to what the LLM speed model predicts for it today.

    PYTHONPATH=$PWD python docs/notes/2026-12-03b/apple_check.py

Predictions use the shipped parameters (rigcheck/perfmodel/llm_params.json, what `rigcheck
estimate` prints) through llm_calibrate.predict_row, the function benchmarks/llm_cv.py uses to
predict a row; rows are read by llm_calibrate.load_rows, so they are parsed as the lead's merge
would parse them. Nothing here is fitted.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
from pathlib import Path

from rigcheck import catalog as cat
from rigcheck.perfmodel import lookup_gpu
from rigcheck.perfmodel.llm_calibrate import excluded, load_rows, predict_row
from rigcheck.perfmodel.llm_speed import load_params

HERE = Path(__file__).resolve().parent
ROWS = HERE / "apple_rows.csv"


def main() -> int:
    gpus = cat.load_catalog().gpus
    params = load_params()
    errors: dict[str, list[float]] = {}
    print(f"{'line':>4} {'gpu (matched)':<28} {'model':<15} {'weights':<7} {'seq':>4} {'metric':<21} "
          f"{'measured':>9} {'predicted':>9} {'error':>7}  source")
    for line, r in enumerate(load_rows(ROWS, extra=None), start=2):
        try:
            gpu = lookup_gpu(r.gpu, gpus).gpu
        except LookupError as exc:
            print(f"{line:>4} {r.gpu}: no GPU match: {exc}")
            continue
        why = excluded(r, gpu)
        pred = predict_row(r, gpu, params)
        err = pred / r.value - 1
        src = r.source   # llm_calibrate's source key (the unit the leave-one-source-out fit holds out)
        flag = "" if not why else f"  [left out of a fit: {why}]"
        print(f"{line:>4} {gpu.name[:28]:<28} {r.model:<15} {r.run.weight_format:<7} {r.run.seq_len:>4} "
              f"{r.metric:<21} {r.value:>9.2f} {pred:>9.2f} {err:>+7.1%}  {src}{flag}")
        if not why:
            errors.setdefault(f"{src} {r.metric}", []).append(err)
    print()
    for k, v in sorted(errors.items()):
        print(f"{k:<58} rows {len(v):>2}  median error {statistics.median(v):+.1%}  "
              f"median |error| {statistics.median(abs(e) for e in v):.1%}  worst {max(v, key=abs):+.1%}")
    # Rows kept out of the CSV, predicted here for the report only.
    # normiebench issue 40 (MacBook Pro M1 Max, 64 GB): that laptop was sold with a 24- or a 32-core
    # GPU and the submission does not say which, so both.
    print("\nnot in the CSV: normiebench issue 40, MacBook Pro M1 Max 64 GB (GPU core count not given)")
    extra(gpus, params, [("Apple M1 Max 24-core GPU", "Llama-3.1-8B", "q4_k_m", 512, "prefill_tokens_per_s", 499.58),
                         ("Apple M1 Max 24-core GPU", "Llama-3.1-8B", "q4_k_m", 128, "decode_tokens_per_s", 46.2),
                         ("Apple M1 Max", "Llama-3.1-8B", "q4_k_m", 512, "prefill_tokens_per_s", 499.58),
                         ("Apple M1 Max", "Llama-3.1-8B", "q4_k_m", 128, "decode_tokens_per_s", 46.2)])
    # geerlingguy/ai-benchmarks README (Ollama 'Eval Rate', the decode rate of one reply): the page
    # names the Ollama tag, not the quantisation, nor the prompt or reply length; Q4_K_M (Ollama's
    # default tag) and a 512-token context are ASSUMPTIONS here, so these rows are not in the CSV.
    print("\nnot in the CSV: geerlingguy/ai-benchmarks README, Ollama eval rate, ASSUMING q4_k_m and context 512")
    extra(gpus, params, [("Apple M3 Ultra", "Llama-3.2-3B", "q4_k_m", 512, "decode_tokens_per_s", 154.60),
                         ("Apple M3 Ultra", "Llama-3.1-70B", "q4_k_m", 512, "decode_tokens_per_s", 14.08),
                         ("Apple M1 Ultra 48-core GPU", "Llama-3.2-3B", "q4_k_m", 512, "decode_tokens_per_s", 108.67),
                         ("Apple M4", "Llama-3.2-3B", "q4_k_m", 512, "decode_tokens_per_s", 41.31)])
    return 0


def extra(gpus, params, specs) -> None:
    """Predict rows given as (gpu, model, weights, seq, metric, measured) through the same reader."""
    header = ROWS.read_text(encoding="utf-8").splitlines()[0].split(",")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "extra.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, header)
            w.writeheader()
            for g, m, wt, seq, metric, v in specs:
                w.writerow({"gpu": g, "model": m, "method": "infer", "weights": wt, "seq": seq, "batch": 1,
                            "metric": metric, "value": v, "framework": "", "source_url": "", "quote": "", "notes": ""})
        for r in load_rows(path, extra=None):
            gpu = lookup_gpu(r.gpu, gpus).gpu
            pred = predict_row(r, gpu, params)
            print(f"     {gpu.name:<28} {r.model:<15} {r.metric:<21} {r.value:>9.2f} {pred:>9.2f} "
                  f"{pred / r.value - 1:>+7.1%}")


if __name__ == "__main__":
    sys.exit(main())

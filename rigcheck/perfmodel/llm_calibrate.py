"""Fit the LLM speed model's few efficiencies on published rows, and cross-validate it. Pure.

Rows are ``llm_calibration.csv`` (each with its URL and a verbatim quote). Metrics:
``train_tokens_per_s``, ``prefill_tokens_per_s`` and ``decode_tokens_per_s`` are fitted;
``peak_memory_gb`` and ``weights_gb`` test the memory model, which has no fitted parameter.

The fit minimises the sum of squared log errors by coordinate descent over each parameter on a
log grid (the model is a product of a few factors, so this converges in a few sweeps). A held-out
fold that removes every row informing a parameter leaves that parameter at its prior
(``llm_speed.DEFAULTS``): the error reported for such rows is the prior's.
"""

from __future__ import annotations

import copy
import csv
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rigcheck.parts import Gpu

from . import mamf
from .llm_configs import find_model
from .llm_memory import LlmRun, llm_memory, weight_bytes
from .llm_speed import DEFAULTS, infer_speed, peak16_tflops, train_flops_per_token, train_speed
from .memory import gpu_memory_gb

CALIBRATION_PATH = Path(__file__).with_name("llm_calibration.csv")
SPEED_METRICS = ("train_tokens_per_s", "prefill_tokens_per_s", "decode_tokens_per_s")
MEMORY_METRICS = ("peak_memory_gb", "weights_gb")
# (path into the params dict, lowest, highest)
FITTED = (
    (("mfu", "full"), 0.05, 1.2), (("mfu", "lora"), 0.05, 1.2), (("mfu", "qlora"), 0.05, 1.2),
    (("prefill_eff",), 0.05, 1.0), (("quant_prefill_factor",), 0.2, 1.5),
    (("bw_eff",), 0.2, 1.0), (("per_layer_overhead_s",), 1e-7, 2e-4),
    (("prefill_eff_no_tensor",), 0.05, 1.0), (("train_nonmatmul_bytes",), 10.0, 2000.0),
    (("ddp_scaling",), 0.8, 1.0),
)


@dataclass(frozen=True)
class Row:
    id: str
    source: str
    gpu: str
    n_gpus: int
    model: str
    run: LlmRun
    metric: str
    value: float
    raw: dict[str, str]


# Two files: gpudb's collection (gpu,model,method,weights,seq,batch,metric,value,framework,
# source_url,quote,notes) and the rows I collected (llm_calibration_llm.csv, with explicit run
# settings). Both carry a URL and a verbatim quote per row.
EXTRA_PATH = Path(__file__).with_name("llm_calibration_llm.csv")
# Names the sources use for checkpoints whose shapes a bundled config has: LLaMA 1 7B has exactly
# Llama 2 7B's shapes (4096 x 11008 x 32 layers, 32 heads, 32,000 vocabulary).
MODEL_ALIASES = {"llama-7b": "llama-2-7b"}
# MLC's q4f16_1: 4-bit weights in groups of 32 with an fp16 scale = 4.5 bits, Q4_0's layout.
WEIGHT_ALIASES = {"q4f16_1": "q4_0", "gptq": "gptq-4bit"}
# What the sources' own configs say about runs the table rows leave implicit.
SOURCE_RUNS: dict[str, dict[str, Any]] = {
    # torchtune recipes/configs/llama3_1/*_lora/qlora_single_device.yaml: rank 8 on q, v,
    # output_proj and the MLP; activation checkpointing on in every config
    "pytorch/torchtune": {"lora_rank": 8, "grad_checkpointing": True,
                          "lora_targets": ("q_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")},
    # Unsloth README: "QLoRA on all linear layers ... with rank = 32 with a batch size of 1"
    "unslothai/unsloth": {"lora_rank": 32, "grad_checkpointing": True},
}


# Metal keeps one process's resident set under its working set (perfmodel.memory.gpu_memory_gb:
# 2/3 of a Mac of 32 GB or less, 3/4 above); past it the weights page, and a "rate" measures
# swapping.
_QUOTED_MEMORY = re.compile(r"(\d+)\s?GB\s*\|")


def row_memory_bytes(row: Row, gpu: Gpu) -> float:
    """The memory the row's weights must fit in: for an Apple GPU the working set of the Mac the
    row names ("M3 10-Core GPU 16GB": the catalog's Apple M3 is a 24 GB configuration), for a
    discrete card its VRAM (vram_gb is in GiB, as vendors count it)."""
    if gpu.vendor == "Apple":
        m = _QUOTED_MEMORY.search(row.raw.get("quote", ""))
        ram_gb = float(m.group(1)) if m else gpu.vram_gb
        return gpu_memory_gb(replace(gpu, vram_gb=ram_gb)) * 2**30
    return gpu.vram_gb * 2**30


def matmul_ceiling(gpu: Gpu) -> tuple[float, str]:
    """The largest fraction of ``gpu``'s dense 16-bit rate a training row may imply: its own
    measured maximum achievable matmul rate (mamf.csv), or, for a GPU nobody measured, the
    highest any GPU reaches (A100 SXM, 86.9%), so an unmeasured card is never judged by a guess.
    A whole training step, with attention, norms, the loss and the optimizer besides its
    matmuls, cannot run faster than its largest matmuls."""
    c = mamf.ceiling(gpu)
    if c.basis.startswith("measured"):
        return c.fraction, f"{c.fraction:.1%} its best bf16 matmul reaches ({c.basis.removeprefix('measured: ')})"
    top = max(r.fraction for r in mamf.load_rows())
    return top, f"{top:.1%} the best bf16 matmul reaches on any measured GPU"


def implied_utilisation(row: Row, gpu: Gpu) -> float:
    """The fraction of the GPUs' dense 16-bit rate a training row's tokens/s needs, at the speed
    model's FLOPs per token (passes and recompute included)."""
    flops = train_flops_per_token(find_model(row.model), row.run)
    return row.value * flops / (row.run.n_gpus * peak16_tflops(gpu) * 1e12)


def excluded(row: Row, gpu: Gpu | None = None) -> str:
    """Why a row is left out of the fit and the error table ("" when it is used). Each reason
    is a configuration the model does not describe, not a bad fit. With ``gpu`` (the row's
    card) a speed row whose weights do not fit that card's memory is left out too."""
    fw = row.raw.get("framework", "").lower()
    if gpu is not None and row.metric in SPEED_METRICS and row.run.method == "infer":
        need = weight_bytes(find_model(row.model), row.run.weight_format)
        have = row_memory_bytes(row, gpu)
        if need > have:
            return (f"the model's {need / 1e9:.1f} GB of {row.run.weight_format} weights do not "
                    f"fit that {row.gpu}'s {have / 1e9:.1f} GB: swapping, not a rate")
    if row.metric == "prefill_tokens_per_s" and fw.startswith("llama.cpp main"):
        return ("./main's prompt eval of the README's Shakespeare prompt: one cold run of a "
                "prompt whose token count the table does not give (a few hundred tokens, below "
                "llama-bench's 512), so not a prefill rate at a known length; in that table the "
                "H100 PCIe (2.3x the 4090's fp16 tensor rate) prefills at the 4090's speed")
    if gpu is not None and row.metric == "train_tokens_per_s":
        used = implied_utilisation(row, gpu)
        top, what = matmul_ceiling(gpu)
        if used > top:
            return (f"{row.value:g} tokens/s would need {used:.0%} of {row.run.n_gpus} x "
                    f"{row.gpu}'s {peak16_tflops(gpu):g} TFLOPS, above the {what}: "
                    "not measured on that card")
    if row.metric == "peak_memory_gb" and row.source.startswith("pytorch/torchtune"):
        return ("torchtune trains in pure bf16 with the optimizer step fused into backward, "
                "8-bit paged AdamW and a chunked linear-cross-entropy loss; the memory model "
                "describes PyTorch AMP / peft with full logits")
    if row.metric == "peak_memory_gb" and fw == "unsloth":
        return ("Unsloth's own kernels offload checkpoints to host memory and chunk the loss; the "
                "memory model describes Hugging Face + peft (its HF + FA2 column is used)")
    return ""


def _source_key(url: str) -> str:
    if "github.com/" in url:
        parts = url.split("github.com/")[1].split("/")
        repo = "/".join(parts[:2])
        if len(parts) > 3 and parts[2] in ("pull", "issues"):
            return f"{repo}#{parts[3]}"
        return repo
    return url.split("/")[2] if "//" in url else url


def _gpudb_rows(path: Path) -> list[Row]:
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for i, r in enumerate(csv.DictReader(f)):
            source = _source_key(r["source_url"])
            repo = source.split("#")[0]
            n = int(r["notes"].split("n_gpus=")[1].split(";")[0].split()[0]) if "n_gpus=" in r["notes"] else 1
            model = MODEL_ALIASES.get(r["model"].lower(), r["model"])
            seq = int(r["seq"] or 512)
            extra: dict[str, Any] = dict(SOURCE_RUNS.get(repo, {}))
            ck = r["notes"].lower().split("activation checkpointing ")
            if len(ck) > 1 and ck[1][:4] in ("true", "fals"):
                extra["grad_checkpointing"] = ck[1].startswith("true")
            method = r["method"]
            run = LlmRun(method=method, weights=WEIGHT_ALIASES.get(r["weights"], r["weights"]),
                         seq_len=seq, micro_batch=int(r["batch"] or 1), n_gpus=n,
                         context=seq if method == "infer" else 0,
                         parallel="fsdp" if n > 1 and method != "infer" else "",
                         cpu_offload="CPU offload" in r["notes"], **extra)
            rows.append(Row(f"{repo.split('/')[-1]}-{i + 2}", source, r["gpu"], n, model, run,
                            r["metric"], float(r["value"]), r))
    return rows


def load_rows(path: Path = CALIBRATION_PATH, extra: Path | None = EXTRA_PATH) -> list[Row]:
    """Every row of both files (``excluded(row)`` says which the fit leaves out, and why)."""
    rows = _gpudb_rows(path) if path.exists() else []
    if extra is None or not extra.exists():
        return rows
    with extra.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            ck = r["grad_checkpointing"].strip().lower()
            lora_targets: dict[str, Any] = (
                {"lora_targets": tuple(r["lora_targets"].split(";"))} if r["lora_targets"] else {})
            run = LlmRun(
                method=r["method"], weights=r["weights"], seq_len=int(r["seq_len"]),
                micro_batch=int(r["micro_batch"] or 1), n_gpus=int(r["n_gpus"] or 1),
                grad_checkpointing=(ck == "true") if ck else None,
                context=int(r["context"]) if r["context"] else 0,
                lora_rank=int(r["lora_rank"]) if r["lora_rank"] else 16,
                **lora_targets,
                parallel="fsdp" if int(r["n_gpus"] or 1) > 1 and r["method"] != "infer" else "",
            )
            rows.append(Row(r["id"], r["source"], r["gpu"], run.n_gpus, r["model"], run,
                            r["metric"], float(r["value"]), r))
    return rows


def predict_row(row: Row, gpu: Gpu, params: dict[str, Any]) -> float:
    cfg = find_model(row.model)
    if row.metric == "train_tokens_per_s":
        return float(train_speed(cfg, row.run, gpu, params).tokens_per_s or 0.0)
    if row.metric == "prefill_tokens_per_s":
        return float(infer_speed(cfg, row.run, gpu, params).prefill_tokens_per_s or 0.0)
    if row.metric == "decode_tokens_per_s":
        return float(infer_speed(cfg, row.run, gpu, params).decode_tokens_per_s or 0.0)
    m = llm_memory(cfg, row.run)
    return m.weights_gb if row.metric == "weights_gb" else m.total_gb


def _get(p: dict[str, Any], path: tuple[str, ...]) -> float:
    return float(p[path[0]][path[1]] if len(path) == 2 else p[path[0]])


def _set(p: dict[str, Any], path: tuple[str, ...], v: float) -> None:
    if len(path) == 2:
        p[path[0]][path[1]] = v
        if path[1] == "full":
            p[path[0]]["pretrain"] = v
    else:
        p[path[0]] = v


def _loss(rows: Sequence[tuple[Row, Gpu]], params: dict[str, Any]) -> float:
    return sum(math.log(predict_row(r, g, params) / r.value) ** 2 for r, g in rows)


def fit(rows: Sequence[tuple[Row, Gpu]], sweeps: int = 2, steps: int = 16) -> dict[str, Any]:
    params = copy.deepcopy(DEFAULTS)
    speed = [(r, g) for r, g in rows if r.metric in SPEED_METRICS]
    if not speed:
        return params
    for _ in range(sweeps):
        for path, lo, hi in FITTED:
            best_v, best_l = _get(params, path), _loss(speed, params)
            for i in range(steps + 1):
                v = lo * (hi / lo) ** (i / steps)
                _set(params, path, v)
                loss = _loss(speed, params)
                if loss < best_l - 1e-12:
                    best_v, best_l = v, loss
            _set(params, path, best_v)
            # refine around the best value on a finer grid
            span = (hi / lo) ** (1 / steps)
            for i in range(-5, 6):
                v = min(hi, max(lo, best_v * span ** (i / 5)))
                _set(params, path, v)
                loss = _loss(speed, params)
                if loss < best_l - 1e-12:
                    best_v, best_l = v, loss
            _set(params, path, best_v)
    # A fold with no LoRA (QLoRA) speed row has nothing to fit that method's utilisation on:
    # LoRA runs the same bf16 matmuls over the frozen base as full fine-tuning does (plus
    # rank-r ones too small to count), so it takes full fine-tuning's fitted utilisation rather
    # than the generic prior.
    seen = {r.run.method for r, _ in speed if r.metric == "train_tokens_per_s"}
    if seen & {"full", "pretrain"}:
        for method in ("lora", "qlora"):
            if method not in seen:
                params["mfu"][method] = params["mfu"]["full"]
    # QLoRA runs LoRA's matmuls and dequantises every frozen NF4 weight on each pass besides:
    # it cannot reach a higher utilisation than LoRA (one QLoRA row alone fitted 0.72 vs LoRA's 0.50).
    params["mfu"]["qlora"] = min(params["mfu"]["qlora"], params["mfu"]["lora"])
    return params


@dataclass(frozen=True)
class Held:
    row: Row
    predicted: float

    @property
    def error(self) -> float:
        return self.predicted / self.row.value - 1.0


def cross_validate(rows: Sequence[tuple[Row, Gpu]], key: Callable[[Row], str]) -> list[Held]:
    """Each group (by ``key``) predicted by a fit on all other groups."""
    out = []
    for group in sorted({key(r) for r, _ in rows}):
        train = [(r, g) for r, g in rows if key(r) != group]
        params = fit(train)
        out += [Held(r, predict_row(r, g, params)) for r, g in rows if key(r) == group]
    return out


def summary(held: Sequence[Held], metrics: Sequence[str]) -> dict[str, float]:
    errs = [abs(h.error) for h in held if h.row.metric in metrics]
    if not errs:
        return {"rows": 0}
    return {"rows": len(errs), "median": statistics.median(errs), "worst": max(errs),
            "over_50pct": sum(1 for e in errs if e > 0.5)}


__all__ = ["Held", "Row", "cross_validate", "fit", "load_rows", "predict_row", "replace", "summary"]

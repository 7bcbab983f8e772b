"""``rigcheck estimate --model M`` / ``--target <llm recipe>``: LLM memory and speed on a GPU.

Parses and renders only; the figures come from :mod:`rigcheck.perfmodel.llm_estimate`.

JSON (``--json``)::

    {"gpu": {...}, "model": {"id", "name", "source", "params", "active_params", ...},
     "run": {"method", "weights", "seq_len", "micro_batch", "grad_accum", "grad_checkpointing",
             "optimizer", "lora_rank", "lora_targets", "n_gpus", "parallel", "cpu_offload",
             "context"},
     "peak_memory_gb": 10.5,                 # per GPU
     "memory": {"weights_gb", "lora_gb", "grads_gb", "optimizer_gb", "activations_gb",
                "kv_cache_gb", "workspace_gb", "context_gb"},
     "vram_gb": 24, "fits": true, "largest_micro_batch": 6,
     "tokens_per_s": 2900.0, "samples_per_s": 1.4, "step_s": 11.3,     # training (all GPUs)
     "offload": {"total_s", "cpu_optimizer_s", "pcie_s", "pcie_gbs",   # --cpu-offload, full /
                 "pcie_gb_per_step", "calibrated": false},              # pretrain: per step, per GPU
     "prefill_tokens_per_s": ..., "decode_tokens_per_s": ...,           # inference
     "decode_tokens_per_s_batch1": ...,
     "what_would_fit": ["..."], "notes": ["..."]}

Exit codes: 0 fits; 1 does not fit (the lines under "what would fit" say what would);
2 bad input (unknown model or GPU, a hostile config.json, impossible settings).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer

from rigcheck.ui.common import EXIT_FINDINGS, EXIT_USAGE, console, fail, human_duration, print_json

# Memory terms whose key alone would not tell the user what they are (see perfmodel.llm_memory).
_TERM_WORDS = {"workspace_gb": "logits and workspace", "context_gb": "CUDA context",
               "lora_gb": "LoRA adapters + their optimizer"}


def gpu_memory_rows(gpu: Any) -> tuple[str, list[tuple[str, str]]]:
    """What the memory line compares with ("24 GB"), and for an Apple GPU a row saying it is
    Metal's working set of the Mac's unified memory (perfmodel.memory.gpu_memory_gb)."""
    from rigcheck.perfmodel.memory import gpu_memory_gb

    usable = gpu_memory_gb(gpu)
    if usable == gpu.vram_gb:
        return f"{gpu.vram_gb:g} GB", []
    return f"{usable:,.1f} GB", [("", f"[dim]Metal's working set: {usable / gpu.vram_gb:.0%} of the Mac's "
                                  f"{gpu.vram_gb:g} GB of unified memory (older macOS default; newer "
                                  "versions allow more, sudo sysctl iogpu.wired_limit_mb=N raises it)[/]")]


def resolve_model(model: str) -> Any:
    from rigcheck.perfmodel.llm_configs import ConfigError, find_model
    try:
        return find_model(model)
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


def list_models() -> None:
    from rigcheck.perfmodel.llm_configs import bundled_models
    out = console()
    for mid, cfg in bundled_models().items():
        moe = f", {cfg.active_params() / 1e9:.1f} B active" if cfg.is_moe else ""
        out.print(f"  {mid:<32} {cfg.total_params() / 1e9:8.2f} B params{moe}  {cfg.name}",
                  soft_wrap=True)


def _model_dict(cfg: Any) -> dict[str, Any]:
    return {"id": cfg.id, "name": cfg.name, "source": cfg.source, "model_type": cfg.model_type,
            "params": cfg.total_params(), "active_params": cfg.active_params(),
            "hidden_size": cfg.hidden_size, "num_layers": cfg.num_layers,
            "num_heads": cfg.num_heads, "num_kv_heads": cfg.num_kv_heads,
            "vocab_size": cfg.vocab_size, "num_experts": cfg.num_experts,
            "experts_per_token": cfg.experts_per_token, "kv_lora_rank": cfg.kv_lora_rank}


def _run_dict(run: Any) -> dict[str, Any]:
    d = asdict(run)
    d.pop("notes", None)
    d["weights"] = run.weight_format
    d["grad_checkpointing"] = run.checkpointing
    d["parallel"] = run.strategy
    d["lora_targets"] = list(run.lora_targets)
    d["context"] = run.context or run.seq_len
    return d


def _calibration(gpu: Any) -> str:
    from rigcheck.perfmodel.llm_speed import calibration_mark
    return calibration_mark(gpu)


def _ceiling(gpu: Any) -> Any:
    from rigcheck.perfmodel.mamf import ceiling
    return ceiling(gpu)


def result_dict(est: Any, gpu_dict: dict[str, Any], largest: int) -> dict[str, Any]:
    s, m = est.speed, est.memory
    d: dict[str, Any] = {
        "gpu": gpu_dict, "model": _model_dict(est.model), "run": _run_dict(est.run),
        "peak_memory_gb": round(m.total_gb, 3), "memory_gb": round(m.total_gb, 3),
        "memory": m.as_dict(), "vram_gb": est.gpu.vram_gb, "fits": est.fits,
        "largest_micro_batch": largest, "n_gpus": est.run.n_gpus,
        "trainable_params": m.trainable_params, "bound": s.bound,
        "what_would_fit": list(est.suggestions), "notes": list(m.notes + s.notes),
        "calibration": _calibration(est.gpu),
        "matmul_ceiling": {"fraction": round(_ceiling(est.gpu).fraction, 4),
                           "basis": _ceiling(est.gpu).basis,
                           "of_tflops": round(s.peak_tflops, 1)},
    }
    if est.run.training:
        d.update(tokens_per_s=round(s.tokens_per_s, 1), samples_per_s=round(s.samples_per_s, 3),
                 step_s=round(s.step_s, 3))
        if s.offload is not None:
            o = s.offload
            d["offload"] = {"total_s": round(o.total_s, 3), "cpu_optimizer_s": round(o.cpu_step_s, 3),
                            "pcie_s": round(o.pcie_s, 3), "pcie_gbs": o.pcie_gbs,
                            "pcie_gb_per_step": round(o.bytes_per_step / 1e9, 3), "calibrated": False}
    else:
        d.update(prefill_tokens_per_s=round(s.prefill_tokens_per_s, 1),
                 decode_tokens_per_s=round(s.decode_tokens_per_s, 2),
                 decode_tokens_per_s_batch1=round(s.decode_tokens_per_s_batch1, 2))
    return d


def render(est: Any, largest: int, title: str) -> None:
    out = console()
    s, m, run, gpu = est.speed, est.memory, est.run, est.gpu
    where = gpu.name if run.n_gpus == 1 else f"{run.n_gpus} x {gpu.name} ({run.strategy})"
    out.print(f"[bold]{title}[/] on [bold]{where}[/] ({gpu.id})", soft_wrap=True)
    fit = "[green]fits[/]" if est.fits else "[red]does not fit[/]"
    words = dict(_TERM_WORDS, context_gb="CUDA context" if gpu.vendor == "NVIDIA" else "GPU runtime context")
    parts = ", ".join(f"{words.get(k, k[:-3].replace('_', ' '))} {v:.1f}"
                      for k, v in m.as_dict().items() if v >= 0.05)
    what = (f"{run.method}, {run.weight_format} weights, seq {run.seq_len:,}, micro-batch "
            f"{run.micro_batch}" + (f" x {run.grad_accum} accumulation" if run.grad_accum > 1 else "")
            + (", gradient checkpointing" if run.training and run.checkpointing else "")
            + (f", {run.optimizer}" if run.training else "")
            + (f", LoRA r={run.lora_rank} on {len(run.lora_targets)} module kinds ({m.trainable_params / 1e6:,.1f} M params)"
               if run.method in ("lora", "qlora") else ""))
    of_gb, apple_rows = gpu_memory_rows(gpu)
    rows = [("run", what),
            ("memory", f"{m.total_gb:.1f} GB of {of_gb} per GPU: {fit}"
             + (f" (up to micro-batch {largest})" if est.fits and largest else "")),
            ("", f"[dim]{parts} GB[/]"), *apple_rows]
    if run.training:
        rows += [("throughput", f"{s.tokens_per_s:,.0f} tokens/s ({s.samples_per_s:,.2f} sequences/s)"),
                 ("step", f"{human_duration(s.step_s)} per optimizer step "
                          f"({_n_sequences(run.micro_batch * run.grad_accum * run.n_gpus)})")]
        if s.offload is not None:
            o = s.offload
            rows.append(("offload", f"{human_duration(o.total_s)} of it is CPU offload: "
                                    f"{human_duration(o.cpu_step_s)} Adam on the host, "
                                    f"{human_duration(o.pcie_s)} PCIe not hidden by backward "
                                    f"({o.bytes_per_step / 1e9:,.1f} GB at {o.pcie_gbs:g} GB/s); "
                                    "first principles, uncalibrated"))
    else:
        rows += [("prefill", f"{s.prefill_tokens_per_s:,.0f} tokens/s (prompt processing)"),
                 ("decode", f"{s.decode_tokens_per_s_batch1:,.1f} tokens/s for one stream"
                  + (f"; {s.decode_tokens_per_s:,.0f} tokens/s over {run.micro_batch} streams"
                     if run.micro_batch > 1 else ""))]
    rows.append(("bound by", s.bound))
    c = _ceiling(gpu)
    rows.append(("matmuls", f"at most {c.fraction:.1%} of {s.peak_tflops:,.0f} TFLOPS, the best a "
                            f"real matmul reaches ({c.basis})"))
    mark = _calibration(gpu)
    if mark != "calibrated":
        rows.append(("calibration", mark))
    for label, text in rows:
        out.print(f"  {label:<11} {text}", soft_wrap=True)
    for note in m.notes + s.notes:
        out.print(f"  [dim]note:[/] {note}", soft_wrap=True)
    if not est.fits:
        out.print("  [bold]what would fit:[/]")
        for line in est.suggestions:
            out.print(f"    - {line}", soft_wrap=True)
    out.print("  [dim]A model, not a measurement: memory from the config's shapes, speed from FLOPs and "
              "bytes at efficiencies fitted on published runs (benchmarks/llm_cv.py). "
              "'rigcheck bench' measures this machine.[/]", soft_wrap=True)


def llm_refinement(gpu: Any, run: Any) -> tuple[Any, str]:
    """(the LLM correction from the latest saved bench run on ``gpu``, or None; why not).
    Never raises for a bad history: a strange saved run must not sink the estimate."""
    if run.n_gpus > 1:
        return None, "not refined: rigcheck bench times one GPU"
    try:
        from rigcheck.bench.expect import llm_expected_tokens_per_s
        from rigcheck.catalog import load_catalog
        from rigcheck.perfmodel import same_gpu_as
        from rigcheck.perfmodel.refine import llm_correction, llm_refine_note
        from rigcheck.runs.history import saved_runs

        runs, read_note = saved_runs()
        if not runs:
            return None, read_note
        same_gpu = same_gpu_as(gpu.id, load_catalog().gpus)
        corr, why = llm_correction(runs, gpu, same_gpu,
                                   lambda f: llm_expected_tokens_per_s(f, gpu))
    except Exception as exc:  # noqa: BLE001
        return None, f"bench history not used ({type(exc).__name__}: {exc})"
    return (corr, llm_refine_note(corr)) if corr is not None else (None, why)


def _apply_refinement(d: dict[str, Any], corr: Any, note: str) -> None:
    """The speed keys of a result dict scaled by the correction, under "refined" (never memory)."""
    if corr is None:
        d["refined"], d["refine_note"] = None, note
        return
    keys = ("tokens_per_s", "samples_per_s", "prefill_tokens_per_s", "decode_tokens_per_s",
            "decode_tokens_per_s_batch1")
    r = {k: round(d[k] * corr.factor, 2) for k in keys if k in d}
    if "step_s" in d:
        r["step_s"] = round(d["step_s"] / corr.factor, 3)
    r.update(factor=round(corr.factor, 3), note=note, measured_at=corr.measured_at,
             source=corr.source, figures=[u.name for u in corr.figures])
    d["refined"], d["refine_note"] = r, ""


def run_llm_estimate(gpu: Any, gpu_dict: dict[str, Any], cfg: Any, run: Any, title: str,
                     as_json: bool, nvlink: bool = False, refine: bool = True) -> None:
    """Estimate ``run`` on ``gpu`` and print it; ``refine=False`` (``--no-refine``) leaves the
    saved bench runs unread, so only the model's figures are shown."""
    from rigcheck.perfmodel.llm_estimate import estimate, largest_micro_batch
    from rigcheck.perfmodel.llm_memory import LlmRunError
    from rigcheck.perfmodel.memory import gpu_memory_gb

    try:
        est = estimate(cfg, run, gpu, nvlink=nvlink)
        largest = largest_micro_batch(cfg, run, gpu_memory_gb(gpu))
    except LlmRunError as exc:
        fail(str(exc), EXIT_USAGE)
    corr, note = llm_refinement(gpu, run) if refine else (None, "--no-refine")
    d = result_dict(est, gpu_dict, largest)
    _apply_refinement(d, corr, note)
    if as_json:
        print_json(d)
    else:
        render(est, largest, title)
        r = d["refined"]
        if r is not None:
            speed = (f"{r['tokens_per_s']:,.0f} tokens/s" if "tokens_per_s" in r else
                     f"prefill {r['prefill_tokens_per_s']:,.0f}, decode "
                     f"{r['decode_tokens_per_s_batch1']:,.1f} tokens/s for one stream")
            console().print(f"  {'refined':<11} {speed}: {r['note']}", soft_wrap=True)
    if not est.fits:
        raise typer.Exit(EXIT_FINDINGS)


def rank_all_gpus(gpus: Any, cfg: Any, run: Any, as_json: bool) -> None:
    """Every GPU ranked: the ones that fit first, fastest first."""
    from rigcheck.perfmodel.llm_estimate import estimate
    from rigcheck.perfmodel.llm_memory import LlmRunError, llm_memory

    try:
        m = llm_memory(cfg, run)
    except LlmRunError as exc:
        fail(str(exc), EXIT_USAGE)
    rows = []
    for g in gpus:
        try:
            est = estimate(cfg, run, g)
        except (LlmRunError, ValueError, ZeroDivisionError):
            continue
        speed = est.speed.tokens_per_s if run.training else est.speed.decode_tokens_per_s
        rows.append((est.fits, speed or 0.0, g, est))
    rows.sort(key=lambda r: (not r[0], -r[1]))
    key = "tokens_per_s" if run.training else "decode_tokens_per_s"
    if as_json:
        print_json({"model": _model_dict(cfg), "run": _run_dict(run),
                    "peak_memory_gb": round(m.total_gb, 3),
                    "gpus": [{"id": g.id, "name": g.name, "vram_gb": g.vram_gb, "fits": f,
                              key: round(s, 2)} for f, s, g, _ in rows]})
        return
    out = console()
    out.print(f"[bold]{cfg.name}[/], {run.method}: {m.total_gb:.1f} GB per GPU needed; "
              f"{sum(1 for r in rows if r[0])} of {len(rows)} GPUs fit", soft_wrap=True)
    unit = "tokens/s training" if run.training else "tokens/s decode"
    for f, s, g, est in rows[:40]:
        if f:
            out.print(f"  [green]fits[/] {g.name:<40} {g.vram_gb:>5g} GB  {s:>10,.0f} {unit}",
                      soft_wrap=True)
            continue
        # a speed it cannot run at is not shown; the first change that would fit is
        more = next((w for w in est.suggestions if " GPUs of this size" in w), "")
        out.print(f"  [red]no[/]   {g.name:<40} {g.vram_gb:>5g} GB  "
                  + (f"[dim]{more}[/]" if more else "[dim]does not fit[/]"), soft_wrap=True)
    if len(rows) > 40:
        out.print(f"  [dim]... {len(rows) - 40} more (--json lists all)[/]")


def _n_sequences(n: int) -> str:
    return "1 sequence" if n == 1 else f"{n:,} sequences"

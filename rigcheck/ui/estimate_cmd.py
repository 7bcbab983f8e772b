"""``rigcheck estimate``: predicted training speed and memory of a recipe on any catalog GPU.

Examples::

    rigcheck estimate --gpu "RTX 3090" --target resnet50-imagenet
    rigcheck estimate --gpu 4090 --target bert-large-squad --precision bf16 --batch 8
    rigcheck estimate --gpu "H100 PCIe" --target resnet50-imagenet --gpus 8 --nodes 2 \\
        --interconnect nvlink,ib-200g --json

``--gpu`` matches catalog names loosely ("4090", "rtx 4090", "GeForce RTX 4090"); an ambiguous or
unknown name lists the candidates and exits 2. ``--gpus`` counts GPUs per node. The figures come
from the performance model in :mod:`rigcheck.perfmodel` (a roofline with a few efficiency
parameters fitted on published throughputs; ``benchmarks/perfmodel_cv.py`` prints its
cross-validated error), not from a measurement of this machine; where ``rigcheck bench`` has
timed the same GPU here, a bench-refined figure is shown beside it (``--no-refine`` hides it).

JSON (``--json``, a stable interface)::

    {"gpu": {"id", "name", "architecture", "compute_capability", "vram_gb", "mem_bw_gbs",
             "fp32_tflops", "tensor_fp16_tflops", "tensor_bf16_tflops", "tensor_tf32_tflops"},
     "recipe": {"id", "name", "dataset_samples", "epochs", "train_flops_per_sample",
                "activation_bytes_per_sample", "params", "trainable_params", "optimizer"},
     "precision": "fp32 (TF32 convs)",        # effective
     "precision_requested": "fp32",
     "batch_size": 256,                       # per GPU
     "n_gpus": 1, "nodes": 1,                 # n_gpus is per node
     "samples_per_s": 489.1,                  # all GPUs together
     "step_s": 0.523, "epoch_s": 2619.0, "train_s": 235710.0,
     "memory_gb": 22.9,                       # per GPU
     "fits": true, "max_batch_that_fits": 248,
     "bound": "memory-bandwidth",             # | "compute" | "communication" | "overhead"
     "scaling_efficiency": 1.0,
     "notes": ["..."],
     "calibration": "calibrated",             # | "extrapolated, no calibration rows for this architecture (...)"
     "tf32_matmul": null,                     # --tf32: true (on) | false (off) | null (PyTorch default)
     "model": {"params_file": "...", "fitted_on": "calibration.csv", "rows_fitted": 114,
               "logo_cv_median_abs_error": 0.11, "logo_cv_worst_abs_error": 0.84},
     "refined": null | {                      # the model's figures scaled by bench measurements
         "samples_per_s": 425.5, "step_s": 0.601, "epoch_s": 3011.0, "train_s": 270990.0,
         "factor": 0.87,                      # bounded to 0.2-5
         "median_ratio": 0.87,                # measured / model, before bounding
         "figures": 4,                        # training figures the factor rests on
         "used": [{"name": "train-resnet50-imagenet", "measured": 410.0, "expected": 470.2,
                   "expected_source": "model now",   # | "recorded by the run"
                   "ratio": 0.872, "batch_size": 224}, ...],
         "ignored": ["train-vit-b16-imagenet: noisy: ..."],
         "measured_at": "2026-11-20T10:01:02+00:00", "gpu_name": "NVIDIA GeForce RTX 4090",
         "source_run": ".../bench/runs/....json", "explanation": "scaled by 0.87: ..."},
     "refine_note": "..."}                    # why there is no refinement ("" when there is)

The top-level figures are always the model's. ``refined`` scales speed and time (never memory)
by the median of measured / model over the usable training figures of the latest saved
``rigcheck bench`` run that timed this GPU (see :mod:`rigcheck.perfmodel.refine`). "model" is
today's model's figure for that recipe and batch on this GPU where the recipe is known (bundled
or ``--recipes``), else the one the run recorded. ``refined`` is null
with ``--no-refine``, for multi-GPU estimates, and when there is no such run or the history
cannot be read (a missing or corrupt history is never an error).

Exit codes: 0 fits; 1 the batch does not fit (the output names the largest batch that does);
2 unknown or ambiguous GPU, unknown recipe, bad precision/batch/count/interconnect (NVLink on a card
without it), a global batch larger than the dataset, unreadable catalog or recipe folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape  # saved bench runs are outside text: "[" in them is not markup

from rigcheck.ui.common import EXIT_FINDINGS, EXIT_USAGE, console, fail, human_duration, print_json

PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "amp")


def _gpu_dict(gpu: Any) -> dict[str, Any]:
    keys = ("id", "name", "architecture", "compute_capability", "vram_gb", "mem_bw_gbs",
            "fp32_tflops", "tensor_fp16_tflops", "tensor_bf16_tflops", "tensor_tf32_tflops")
    return {k: getattr(gpu, k) for k in keys}


def _recipe_dict(recipe: Any) -> dict[str, Any]:
    keys = ("id", "name", "dataset_samples", "epochs", "train_flops_per_sample",
            "activation_bytes_per_sample", "params", "trainable_params", "optimizer")
    return {k: getattr(recipe, k) for k in keys}


def _specs_line(gpu: Any) -> str:
    def t(v: float | None) -> str:
        return "-" if not v else f"{v:g}"
    return (f"{gpu.fp32_tflops:g} TFLOPS fp32, tensor fp16 {t(gpu.tensor_fp16_tflops)} / "
            f"TF32 {t(gpu.tensor_tf32_tflops)} TFLOPS, {gpu.mem_bw_gbs:g} GB/s, "
            f"{gpu.vram_gb:g} GB, {gpu.architecture}"
            + (f" (cc {gpu.compute_capability})" if gpu.compute_capability else ""))


def _load(gpu_name: str | None, target: str, overlays: list[Path], recipes_dir: Path | None):
    from rigcheck import catalog as cat
    from rigcheck.perfmodel import GpuMatchError, lookup_gpu
    from rigcheck.recipes import RecipeError, load_recipes

    try:
        catalog = cat.load_catalog(overlays=overlays)
    except cat.CatalogError as exc:
        fail(str(exc), EXIT_USAGE)
    if gpu_name is None:   # this machine's own GPU (probe facts), or one line and exit 2
        from rigcheck.ui.estimate_local import local_gpu
        gpu = local_gpu(catalog.gpus)[0]
    else:
        try:
            gpu = lookup_gpu(gpu_name, catalog.gpus).gpu
        except GpuMatchError as exc:
            hint = "" if exc.candidates else "; see: rigcheck catalog gpus"
            fail(f"--gpu: {exc}{hint}", EXIT_USAGE)
    try:
        recipes = load_recipes(recipes_dir)
    except (RecipeError, FileNotFoundError) as exc:
        fail(str(exc), EXIT_USAGE)
    if target not in recipes:
        known = ", ".join(recipes) or "(none found)"
        from rigcheck.suggest import did_you_mean

        fail(f"--target: unknown recipe '{target}'{did_you_mean(target, recipes)}; known: {known}",
             EXIT_USAGE)
    return gpu, recipes[target], catalog.gpus


def _catalog_gpus(overlays: list[Path]) -> Any:
    from rigcheck import catalog as cat
    try:
        return cat.load_catalog(overlays=overlays).gpus
    except cat.CatalogError as exc:
        fail(str(exc), EXIT_USAGE)


def _match(gpus: Any, gpu_name: str | None) -> Any:
    from rigcheck.perfmodel import GpuMatchError, lookup_gpu
    if gpu_name is None:
        from rigcheck.ui.estimate_local import local_gpu
        return local_gpu(gpus)[0]
    try:
        return lookup_gpu(gpu_name, gpus).gpu
    except GpuMatchError as exc:
        hint = "" if exc.candidates else "; see: rigcheck catalog gpus"
        fail(f"--gpu: {exc}{hint}", EXIT_USAGE)


def _all_gpus(catalog_gpus: Any) -> list[Any]:
    """Every GPU of the spec database with its own memory (integrated GPUs and rows without a
    memory size or bandwidth left out), the catalog's priced rows in place of their spec rows."""
    from rigcheck.perfmodel import load_specs
    from rigcheck.perfmodel.gpudb import as_gpu
    out = list(catalog_gpus)
    names = {g.name.lower() for g in out}
    for spec in load_specs():
        if spec.form == "integrated" or not spec.memory_gb or not spec.mem_bw_gbs:
            continue
        g = as_gpu(spec)
        if g.name.lower() not in names:
            out.append(g)
    return out


def _check_nvlink(gpu: Any, interconnect: str | None) -> None:
    """NVLink named for a card that has none (RTX 4090, every 40-series GeForce) is impossible."""
    if interconnect and "nvlink" in interconnect.lower() and not getattr(gpu, "nvlink", False):
        fail(f"--interconnect {interconnect}: {gpu.name} has no NVLink connector; use pcie4/pcie5",
             EXIT_USAGE)


def _nvlink(gpu: Any, interconnect: str | None) -> bool:
    from rigcheck.perfmodel.scaling import InterconnectError, parse_links
    try:
        links = parse_links(gpu, interconnect)
    except InterconnectError as exc:
        fail(f"--interconnect: {exc}", EXIT_USAGE)
    return "nvlink" in links.intra_name.lower()


def _llm_recipe(target: str) -> Any:
    from rigcheck.llm_recipes import LlmRecipeError, load_llm_recipes
    try:
        return load_llm_recipes().get(target)
    except LlmRecipeError as exc:
        fail(str(exc), EXIT_USAGE)


def _llm_run(recipe: Any, method: str | None, weights: str | None, seq: int | None,
             batch: int | None, grad_accum: int | None, checkpointing: bool | None,
             optimizer: str | None, lora_rank: int | None, lora_targets: str | None,
             n_gpus: int, parallel: str | None, cpu_offload: bool, eager: bool,
             context: int | None, kv_bits: int | None = None) -> Any:
    from dataclasses import replace

    from rigcheck.perfmodel.llm_memory import LlmRun, LlmRunError, normalize_weights

    base = recipe.run if recipe is not None else LlmRun(method=(method or "lora").lower())
    changes: dict[str, Any] = {"n_gpus": n_gpus, "cpu_offload": cpu_offload or base.cpu_offload,
                               "fused_attention": not eager}
    if method:
        changes["method"] = method.lower()
        if weights is None and recipe is not None:
            changes["weights"] = ""
    for key, flag, value in (("seq_len", "--seq", seq), ("micro_batch", "--batch", batch),
                             ("grad_accum", "--grad-accum", grad_accum),
                             ("grad_checkpointing", "", checkpointing),
                             ("lora_rank", "--lora-rank", lora_rank), ("context", "--context", context)):
        if value is not None:
            if flag and value < 1:
                fail(f"{flag} {value}: must be at least 1", EXIT_USAGE)
            changes[key] = value
    if kv_bits is not None:
        changes["kv_bits"] = kv_bits
    if optimizer:
        changes["optimizer"] = optimizer.lower()
    if parallel:
        changes["parallel"] = parallel.lower()
    if lora_targets:
        changes["lora_targets"] = tuple(t.strip() for t in lora_targets.split(",") if t.strip())
    try:
        if weights is not None:
            changes["weights"] = normalize_weights(weights)
    except LlmRunError as exc:
        fail(str(exc), EXIT_USAGE)
    return replace(base, **changes)


def _expect(gpu: Any, recipes_dir: Path | None) -> Any:
    """Today's model's samples/s for a saved training figure on ``gpu`` (its recipe and batch),
    so a refitted model is not scaled by an older model's error; None for an unknown recipe."""
    from rigcheck.perfmodel import predict
    from rigcheck.recipes import load_recipes

    recipes: dict[str, Any] = {}
    for folder in (None, recipes_dir):   # bench runs the bundled recipes; --recipes may add some
        try:
            recipes.update(load_recipes(folder))
        except Exception:  # noqa: BLE001 - unreadable recipes: fall back to the recorded figure
            pass

    def expect(fig: Any) -> float | None:
        recipe = recipes.get(str(fig.name)[len("train-"):])
        if recipe is None:
            return None
        batch = fig.params.get("batch_size") if isinstance(fig.params, dict) else None
        return predict(recipe, gpu, batch_size=int(batch) if batch else None).samples_per_s

    return expect


def _refine(pred: Any, gpu: Any, catalog_gpus: Any, recipes_dir: Path | None) -> Any:
    """The bench refinement of ``pred`` (a Refinement); never raises for a bad history."""
    from rigcheck.perfmodel import same_gpu_as
    from rigcheck.perfmodel.refine import Refinement, refine
    from rigcheck.runs.history import saved_runs

    runs, read_note = saved_runs()
    try:
        result = refine(pred, gpu, runs, same_gpu_as(gpu.id, catalog_gpus), _expect(gpu, recipes_dir) if runs else None)
    except Exception as exc:  # noqa: BLE001 - a strange saved run must not sink the estimate
        return Refinement(None, None, f"bench history not used ({type(exc).__name__}: {exc})")
    if result.prediction is None and read_note:
        note = read_note if not runs else f"{result.note}; {read_note}"
        return Refinement(None, None, note)
    return result


def _refined_dict(ref: Any) -> dict[str, Any] | None:
    if ref.prediction is None:
        return None
    p, c = ref.prediction, ref.correction
    return {
        "samples_per_s": p.samples_per_s, "step_s": p.step_s, "epoch_s": p.epoch_s,
        "train_s": p.train_s, "factor": c.factor, "median_ratio": c.median_ratio,
        "figures": len(c.figures),
        "used": [{"name": u.name, "measured": u.measured, "expected": u.expected,
                  "expected_source": u.expected_source, "ratio": u.ratio,
                  "batch_size": u.batch_size} for u in c.figures],
        "ignored": list(c.ignored), "measured_at": c.measured_at, "gpu_name": c.gpu_name,
        "source_run": c.source, "explanation": ref.note,
    }


def estimate_command(
    gpu_name: Annotated[str | None, typer.Option(
        "--gpu", help="Any GPU of the spec database, matched loosely: '4090', 'NVIDIA GeForce RTX "
        "2080 Ti', 'Tesla P100-PCIE-16GB', 'Apple M2 Ultra' (default: this machine's GPU).")] = None,
    target: Annotated[str | None, typer.Option(
        "--target", help="Recipe id, e.g. resnet50-imagenet or llama-3.1-8b-qlora (see recipes/).")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="LLM: a bundled name ('Llama 3 8B', 'qwen2.5-7b') or a config.json path.")] = None,
    method: Annotated[str | None, typer.Option(
        "--method", help="LLM: full | lora | qlora | pretrain | infer (default lora).")] = None,
    weights: Annotated[str | None, typer.Option(
        "--weights", help="LLM weights: fp32 bf16 fp16 fp8 int8 nf4 q8_0 q6_k q5_k_m q4_k_m q4_0 "
        "gptq awq (default bf16; nf4 for qlora).")] = None,
    seq: Annotated[int | None, typer.Option("--seq", help="LLM: sequence length (default 2048).")] = None,
    kv_bits: Annotated[int | None, typer.Option(
        "--kv-bits", help="LLM inference: KV-cache bits, 16 (default), 8 (llama.cpp -ctk/-ctv "
        "q8_0, vLLM --kv-cache-dtype fp8) or 4 (llama.cpp q4_0).")] = None,
    context: Annotated[int | None, typer.Option(
        "--context", help="LLM inference: tokens held per stream (default --seq).")] = None,
    grad_accum: Annotated[int | None, typer.Option("--grad-accum", help="LLM: gradient accumulation steps.")] = None,
    checkpointing: Annotated[bool | None, typer.Option(
        "--grad-checkpointing/--no-grad-checkpointing",
        help="LLM: gradient checkpointing (default on for lora/qlora).")] = None,
    optimizer: Annotated[str | None, typer.Option(
        "--optimizer", help="LLM: adamw | adamw-8bit | paged-adamw-8bit | paged-adamw | sgd.")] = None,
    lora_rank: Annotated[int | None, typer.Option("--lora-rank", help="LLM: LoRA rank (default 16).")] = None,
    lora_targets: Annotated[str | None, typer.Option(
        "--lora-targets", help="LLM: comma-separated modules (default all linear: q,k,v,o,gate,up,down _proj).")] = None,
    parallel: Annotated[str | None, typer.Option(
        "--parallel", help="LLM multi-GPU: ddp | zero1 | zero2 | zero3 | fsdp (training), tp (inference).")] = None,
    cpu_offload: Annotated[bool, typer.Option("--cpu-offload", help="LLM: optimizer state in host RAM.")] = False,
    eager_attention: Annotated[bool, typer.Option(
        "--eager-attention", help="LLM: unfused attention (keeps the softmax matrix).")] = False,
    all_gpus: Annotated[bool, typer.Option("--all-gpus", help="LLM: rank every known GPU.")] = False,
    list_models_flag: Annotated[bool, typer.Option("--list-models", help="List the bundled LLM configs.")] = False,
    precision: Annotated[str | None, typer.Option(
        "--precision", help="fp32 | tf32 | fp16 | bf16 | amp (default: the recipe's).")] = None,
    batch: Annotated[int | None, typer.Option(
        "--batch", help="Batch per GPU (default: the recipe's).")] = None,
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs per node (data parallel).")] = 1,
    nodes: Annotated[int, typer.Option("--nodes", help="Nodes.")] = 1,
    interconnect: Annotated[str | None, typer.Option(
        "--interconnect", help="pcie3|pcie4|pcie5|nvlink|nvlink-bridge and/or a network speed "
        "(100g, ib-400g), comma-separated; default from the GPU record and 100 Gb/s.")] = None,
    overlays: Annotated[list[Path] | None, typer.Option(
        "--catalog", help="Folder of CSVs overlaid on the bundled catalog (repeatable).")] = None,
    recipes_dir: Annotated[Path | None, typer.Option(
        "--recipes", help="Folder of recipe TOML files instead of the bundled ones.")] = None,
    no_refine: Annotated[bool, typer.Option(
        "--no-refine", help="Only the model's figures, not those refined by saved "
        "'rigcheck bench' runs on this GPU.")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Say why no bench refinement was used, and which figures were "
        "left out of it.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    tf32: Annotated[str | None, typer.Option(
        "--tf32", help="fp32 matmuls on TF32 tensor cores: 'on' (NVIDIA NGC containers' default) "
        "or 'off' (PyTorch's default, used when not given).")] = None,
) -> None:
    """Predict speed, memory and time of a recipe or an LLM (fine-tune, pre-train, inference) on a GPU.

    Examples: rigcheck estimate --gpu "RTX 3090" --target resnet50-imagenet;
    rigcheck estimate --model "Llama 3.1 8B" --method qlora --gpu "RTX 3060 12GB"
    """
    if precision is not None and precision.lower() not in PRECISIONS:
        fail(f"--precision '{precision}': use one of {', '.join(PRECISIONS)}", EXIT_USAGE)
    if batch is not None and batch < 1:
        fail(f"--batch {batch}: must be at least 1", EXIT_USAGE)
    if gpus < 1 or nodes < 1:
        fail(f"--gpus {gpus} --nodes {nodes}: both must be at least 1", EXIT_USAGE)
    if tf32 is not None and tf32.lower() not in ("on", "off"):
        fail(f"--tf32 '{tf32}': use on or off", EXIT_USAGE)
    tf32_matmul = None if tf32 is None else tf32.lower() == "on"
    if gpus * nodes > 100_000:
        fail(f"--gpus {gpus} --nodes {nodes}: {gpus * nodes:,} GPUs is more than any cluster holds",
             EXIT_USAGE)
    from rigcheck.ui import estimate_llm as llm_ui
    if list_models_flag:
        llm_ui.list_models()
        return
    llm_recipe = _llm_recipe(target) if target else None
    if model is not None or llm_recipe is not None:
        if model is not None and target is not None:
            fail("--model and --target: give one of them", EXIT_USAGE)
        cfg = llm_ui.resolve_model(model if model is not None
                                   else llm_recipe.model)  # type: ignore[union-attr]  # one is set
        run = _llm_run(llm_recipe, method, weights, seq, batch, grad_accum, checkpointing,
                       optimizer, lora_rank, lora_targets, gpus * nodes, parallel, cpu_offload,
                       eager_attention, context, kv_bits)
        catalog_gpus = _catalog_gpus(overlays or [])
        if all_gpus:
            llm_ui.rank_all_gpus(_all_gpus(catalog_gpus), cfg, run, as_json)
            return
        gpu = _match(catalog_gpus, gpu_name)
        _check_nvlink(gpu, interconnect)
        nvlink = _nvlink(gpu, interconnect)
        title = llm_recipe.name if llm_recipe else cfg.name
        llm_ui.run_llm_estimate(gpu, _gpu_dict(gpu), cfg, run, title, as_json, nvlink,
                                refine=not no_refine)
        return
    if target is None:
        fail("give --target RECIPE or --model MODEL (see --list-models)", EXIT_USAGE)

    from rigcheck.perfmodel import max_batch_that_fits, predict
    from rigcheck.perfmodel.params import PARAMS_PATH, load_params
    from rigcheck.perfmodel.scaling import InterconnectError

    gpu, recipe, catalog_gpus = _load(gpu_name, target, overlays or [], recipes_dir)
    _check_nvlink(gpu, interconnect)
    global_batch = (batch or recipe.batch_size) * gpus * nodes
    if global_batch > recipe.dataset_samples:
        fail(f"--batch {batch or recipe.batch_size} x {gpus * nodes} GPUs = a global batch of "
             f"{global_batch:,}, larger than the dataset ({recipe.dataset_samples:,} samples): "
             "not one full step per epoch", EXIT_USAGE)
    prec = precision.lower() if precision else None
    try:
        pred = predict(recipe, gpu, precision=prec, batch_size=batch, n_gpus=gpus, nodes=nodes,
                       interconnect=interconnect, tf32_matmul=tf32_matmul)
    except InterconnectError as exc:
        fail(f"--interconnect: {exc}", EXIT_USAGE)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    except RuntimeError as exc:  # the committed parameters are missing or unreadable
        fail(str(exc), EXIT_USAGE)
    largest = max_batch_that_fits(recipe, gpu, prec)
    prov = load_params().provenance
    if no_refine:
        from rigcheck.perfmodel.refine import Refinement
        ref = Refinement(None, None, "--no-refine")
    else:
        ref = _refine(pred, gpu, catalog_gpus, recipes_dir)

    if as_json:
        print_json({
            "gpu": _gpu_dict(gpu), "recipe": _recipe_dict(recipe),
            "precision": pred.precision, "precision_requested": prec or recipe.precision,
            "batch_size": pred.batch_size, "n_gpus": pred.n_gpus, "nodes": pred.nodes,
            "samples_per_s": pred.samples_per_s, "step_s": pred.step_s,
            "epoch_s": pred.epoch_s, "train_s": pred.train_s,
            "memory_gb": pred.memory_gb, "fits": pred.fits, "max_batch_that_fits": largest,
            "bound": pred.bound, "scaling_efficiency": pred.scaling_efficiency,
            "notes": list(pred.notes), "calibration": pred.calibration, "tf32_matmul": tf32_matmul,
            "model": {"params_file": str(PARAMS_PATH), **{
                k: prov.get(k) for k in ("fitted_on", "rows_fitted", "logo_cv_median_abs_error",
                                         "logo_cv_worst_abs_error")}},
            "refined": _refined_dict(ref),
            "refine_note": "" if ref.prediction is not None else ref.note,
        })
        if not pred.fits:
            raise typer.Exit(EXIT_FINDINGS)
        return

    out = console()
    n_total = pred.n_gpus * pred.nodes
    where = gpu.name if n_total == 1 else f"{n_total} x {gpu.name}" + (
        f" ({pred.nodes} nodes x {pred.n_gpus})" if pred.nodes > 1 else "")
    out.print(f"[bold]{recipe.name}[/] ({recipe.id}) on [bold]{where}[/] ({gpu.id})", soft_wrap=True)
    fit_text = "[green]fits[/]" if pred.fits else f"[red]does not fit[/]; largest batch that fits: {largest}"
    of_gb, apple_rows = llm_ui.gpu_memory_rows(gpu)
    rows = [
        ("precision", pred.precision),
        ("batch", f"{pred.batch_size} per GPU"),
        ("memory", f"{pred.memory_gb:.1f} GB of {of_gb} per GPU: {fit_text}"
                   + (f" (up to batch {largest})" if pred.fits else "")),
        *apple_rows,
        ("throughput", f"{pred.samples_per_s:,.0f} samples/s"
                       + (f" ({pred.samples_per_s / n_total:,.0f} per GPU)" if n_total > 1 else "")),
        ("step", f"{pred.step_s * 1e3:,.1f} ms"),
        ("epoch", f"{human_duration(pred.epoch_s)} ({recipe.dataset_samples:,} samples)"),
        ("to train", f"{human_duration(pred.train_s)} ({recipe.epochs:g} epochs)"),
        ("bound by", pred.bound),
    ]
    if ref.prediction is not None:
        r = ref.prediction
        rows.append(("refined", f"{r.samples_per_s:,.0f} samples/s, step {r.step_s * 1e3:,.1f} ms, "
                                f"epoch {human_duration(r.epoch_s)}, to train "
                                f"{human_duration(r.train_s)}"))
        rows.append(("", escape(ref.note)))
        if verbose and ref.correction is not None:
            rows += [("", f"[dim]from {escape(ref.correction.source)}[/]")]
            rows += [("", f"[dim]{escape(u.name)}: {u.measured:,.0f} samples/s measured at batch "
                          f"{u.batch_size or '?'}, {u.expected:,.0f} by the model "
                          f"({u.expected_source}): x{u.ratio:.2f}[/]")
                     for u in ref.correction.figures]
            rows += [("", f"[dim]left out: {escape(why)}[/]") for why in ref.correction.ignored]
    elif verbose:
        rows.append(("refined", f"[dim]no: {escape(ref.note)}[/]"))
    if n_total > 1:
        rows.append(("scaling", f"{pred.scaling_efficiency:.0%} efficiency over {n_total} GPUs"))
    rows.append(("GPU specs", _specs_line(gpu)))
    cv = prov.get("logo_cv_median_abs_error")
    cv_text = (f"; leave-one-GPU-out median error {cv:.0%}, worst {prov.get('logo_cv_worst_abs_error', 0):.0%}"
               if cv is not None else "")
    rows.append(("model", f"roofline, efficiencies fitted on {prov.get('rows_fitted', '?')} published "
                          f"throughputs (rigcheck/perfmodel/calibration.csv){cv_text}"))
    for label, text in rows:
        out.print(f"  {label:<11} {text}", soft_wrap=True)
    for note in pred.notes:
        out.print(f"  [dim]note:[/] {note}", soft_wrap=True)
    out.print("  [dim]An estimate of GPU time, not a measurement: it assumes the input pipeline (disk, "
              "JPEG decode, data-loader workers) keeps up. 'rigcheck bench' measures a real machine.[/]",
              soft_wrap=True)
    if not pred.fits:
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.command("estimate")(estimate_command)

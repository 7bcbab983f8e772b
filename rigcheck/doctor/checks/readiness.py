"""Readiness for the user's target recipes: does each fit in GPU memory, how long would it take,
and does its dataset fit on the data disk.

LLM recipes (``recipes/llm``, ``ctx.llm_targets``) are judged by ``ready.llm_fit`` on each kind
of GPU in the facts, matched to a spec by the one matcher
(:func:`rigcheck.perfmodel.match.machine_gpus`), with the LLM model's own fit rule and the
changes the recipe allows (:func:`rigcheck.perfmodel.llm_estimate.recipe_on_gpu`, as recommend
judges a card): fits (with the change), the memory needed against the card's free memory now,
and the predicted tokens/s; or "does not fit: needs N GB" with what would fit.

Predictions come in through ``ctx.predictions`` (the CLI asks :mod:`rigcheck.perfmodel` where it is
available). Without them the memory check asks the one memory model,
:mod:`rigcheck.perfmodel.memory`, directly: the same figure and fit rule as estimate, bench and
recommend.
"""

from __future__ import annotations

from collections.abc import Sequence

from rigcheck.doctor.checks._util import join, live_gpus
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts
from rigcheck.llm_recipes import LlmRecipe
from rigcheck.perfmodel import memory as mem
from rigcheck.recipes import Recipe
from rigcheck.units import human_duration

CAT = "readiness"


def memory_need_gb(recipe: Recipe) -> float:
    """Training memory at the recipe's batch and precision, from the one memory model."""
    return mem.train_memory_gb(recipe, recipe.batch_size)


def _gpu_free_gb(facts: Facts) -> tuple[str, float] | None:
    gpus = [(g.memory_total_mib, g) for g in live_gpus(facts) if g.memory_total_mib]
    if gpus:
        mib, g = max(gpus, key=lambda x: x[0])
        # GiB, as cards are named ("24 GB" RTX 4090 = 24564 MiB) and the catalog's vram_gb is.
        return (g.name or f"GPU {g.index}"), mib / 1024
    devs = [(d.total_memory_gb, d) for d in facts.torch.devices if d.total_memory_gb]
    if devs:
        gb, d = max(devs, key=lambda x: x[0])
        return (d.name or f"cuda:{d.index}"), gb
    return None


@check("ready.recipe_fit", CAT, "target recipes fit in GPU memory")
def recipe_fit(facts: Facts, ctx: Context) -> Outcome:
    if not ctx.targets:
        return skip("no --target given (e.g. rigcheck doctor --target <recipe id>)")
    gpu = _gpu_free_gb(facts)
    if gpu is None:
        return skip("no GPU memory facts")
    name, vram = gpu
    rows, too_big, tight = [], [], []
    for r in ctx.targets:
        pred = ctx.predictions.get(r.id)
        need = getattr(pred, "memory_gb", None) or memory_need_gb(r)
        text = f"{r.id} needs ~{need:.1f} GB (batch {r.batch_size}, {r.precision})"
        fits = getattr(pred, "fits", None)
        if fits is False or (fits is None and not mem.fits(need, vram)):
            too_big.append(text)
        elif need > 0.9 * vram:
            tight.append(text)
        rows.append(text)
    head = f"on {name} ({vram:.0f} GB): "
    if too_big:
        return fail(head + join(too_big), "Estimated from parameters, optimizer state and activations "
                    "per sample; the batch will not fit.",
                    "Halve the batch and use gradient accumulation, use bf16/fp16 (amp), or "
                    "activation checkpointing; or a GPU with more memory (rigcheck recommend)")
    if tight:
        return warn(head + join(tight), "Within 10% of the GPU's memory: fragmentation may tip it over.",
                    "export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True; or a smaller batch")
    return ok(head + join(rows))


@check("ready.recipe_time", CAT, "target recipes' predicted training time")
def recipe_time(facts: Facts, ctx: Context) -> Outcome:
    if not ctx.targets:
        return skip("no --target given")
    rows = []
    for r in ctx.targets:
        pred = ctx.predictions.get(r.id)
        sps = getattr(pred, "samples_per_s", None)
        train_s = getattr(pred, "train_s", None)
        if getattr(pred, "fits", True) is False:
            rows.append(f"{r.id}: batch {getattr(pred, 'batch_size', r.batch_size)} does not fit "
                        "(see ready.recipe_fit)")
        elif sps and train_s:
            span = human_duration(train_s)  # one format: 11 s is "11 s", not "1 min"
            n = getattr(pred, "n_gpus", 1) or 1
            on = f" on {n} GPUs" if n > 1 else ""
            rows.append(f"{r.id}: ~{sps:,.0f} samples/s{on}, {span} for {r.epochs:g} epoch(s)")
    if not rows:
        why = ctx.prediction_note or "the performance model gave no prediction"
        return skip(f"{why}; measure with `rigcheck bench`")
    return ok(join(rows))


@check("ready.dataset_disk", CAT, "target datasets fit on the data disk")
def dataset_disk(facts: Facts, ctx: Context) -> Outcome:
    if not ctx.targets:
        return skip("no --target given")
    disks = [(d.free_gb, d) for d in facts.host.disks if d.free_gb is not None]
    data = ([x for x in disks if x[1].label.startswith("data")]
            or [x for x in disks if x[1].label == "cwd"])
    if not data:
        return skip("no disk facts for the data directory (use --data-dir)")
    free_gb, best = max(data, key=lambda x: x[0])
    short = [f"{r.id}: {r.dataset} {r.dataset_gb:.0f} GB" for r in ctx.targets
             if r.dataset_gb > free_gb]
    if short:
        need_gb = max(r.dataset_gb for r in ctx.targets if r.dataset_gb > free_gb)
        # A fix that fixes: free the space or use a disk that has it (re-running the check with
        # --data-dir only tells whether another disk would do).
        return warn(f"{best.label} {best.path} has {best.free_gb:.0f} GB free; too small for " + join(short),
                    "The dataset as stored does not fit; extraction needs more.",
                    f"free at least {need_gb - free_gb:.0f} GB on {best.path}'s disk, or keep the "
                    f"dataset on a disk with {need_gb:.0f} GB or more free (rigcheck doctor "
                    "--data-dir DIR then checks that disk)")
    return ok(f"datasets fit on {best.path} ({best.free_gb:.0f} GB free)")


# ------------------------------------------------------------------- LLM recipes (recipes/llm)

def _free_gb(facts: Facts, name: str) -> float | None:
    """The least free memory among this machine's GPUs named ``name`` (NVML total - used, GiB),
    or None when NVML did not report both."""
    free = [(g.memory_total_mib - g.memory_used_mib) / 1024 for g in live_gpus(facts)
            if g.name == name and g.memory_total_mib and g.memory_used_mib is not None]
    return min(free) if free else None


def llm_rows(facts: Facts, recipes: Sequence[LlmRecipe]) -> tuple[list[str], list[str], list[str]]:
    """(rows, does-not-fit rows, short-of-free-memory rows) for each LLM recipe on each kind of
    GPU in ``facts``, judged by the LLM model as ``recommend`` judges a card
    (:func:`rigcheck.perfmodel.llm_estimate.recipe_on_gpu`: the run, else the first change the
    recipe allows that fits). The GPU is matched to a spec by the one matcher."""
    from rigcheck.perfmodel.llm_configs import find_model
    from rigcheck.perfmodel.llm_estimate import recipe_on_gpu, what_would_fit
    from rigcheck.perfmodel.match import machine_gpus

    rows: list[str] = []
    too_big: list[str] = []
    short: list[str] = []
    for mg in machine_gpus(facts):
        if mg.lookup is None:
            rows.append(f"{mg.reported}: not in the GPU spec database")
            continue
        gpu = mg.lookup.gpu
        free = _free_gb(facts, mg.reported)
        for r in recipes:
            rid, run = r.id, r.run
            cfg = find_model(r.model)
            fit = recipe_on_gpu(cfg, run, tuple(r.adapt), gpu)
            on = f"{rid} on {gpu.name} ({gpu.vram_gb:g} GB)"
            if not fit.fits:
                other = " or ".join(what_would_fit(cfg, run, gpu.vram_gb))
                text = f"{on}: does not fit: needs {fit.memory_gb:.1f} GB; would fit: {other}"
                too_big.append(text)
                rows.append(text)
                continue
            how = f" with {', '.join(fit.changes)}" if fit.changes else ""
            have = f", {free:.1f} GB free now" if free is not None else ""
            text = (f"{on}: fits{how}, needs {fit.memory_gb:.1f} GB{have}; "
                    f"~{fit.speed:,.0f} {fit.unit}")
            if free is not None and fit.memory_gb > free:
                short.append(text + f" (other processes hold {gpu.vram_gb - free:.1f} GB)")
            rows.append(text)
    return rows, too_big, short


@check("ready.llm_fit", CAT, "LLM recipes fit this machine's GPUs, and how fast they run")
def llm_fit(facts: Facts, ctx: Context) -> Outcome:
    if not ctx.llm_targets:
        return skip("no LLM recipe given (e.g. rigcheck doctor --target llama-3.1-8b-qlora)")
    rows, too_big, short = llm_rows(facts, ctx.llm_targets)
    if not rows:
        return skip("no GPU facts")
    if too_big:
        return fail(join(too_big), "Memory from the model's shapes (weights, LoRA, gradients, "
                    "optimizer state, activations, KV cache), after the changes the recipe allows.",
                    "One of the changes listed under 'would fit', or a GPU with more memory "
                    "(rigcheck recommend)")
    if short:
        return warn(join(short), "The card is big enough, but other processes hold its memory now.",
                    "Stop the processes listed by nvidia-smi that use this GPU, then retry")
    return ok(join(rows))

"""Readiness for the user's target recipes: does each fit in GPU memory, how long would it take,
and does its dataset fit on the data disk.

Predictions come in through ``ctx.predictions`` (the CLI asks :mod:`rigcheck.perfmodel` where it is
available). Without them the memory check asks the one memory model,
:mod:`rigcheck.perfmodel.memory`, directly: the same figure and fit rule as estimate, bench and
recommend.
"""

from __future__ import annotations

from rigcheck.doctor.checks._util import join, live_gpus
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts
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

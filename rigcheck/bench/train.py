"""The training-step figure: one full step of a recipe's model, timed, as samples/s.

``train_figure`` builds the recipe's model (:mod:`rigcheck.bench.models`), picks the batch (the
recipe's on a GPU, halved on out-of-memory; on the CPU one sized from the recipe's FLOPs so that
--quick stays within its time) and times zero_grad, forward, loss, backward and the optimizer
step with ``train_step_timing``.

torch is imported at module level: only the bench runner imports this module, lazily.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import time
from typing import TYPE_CHECKING, Any

import torch

from rigcheck.bench import micro
from rigcheck.bench.expect import cpu_peak_gflops
from rigcheck.bench.micro import Budget, sync_for, tf32_matmuls
from rigcheck.bench.timing import MIN_RUNS, OutOfTime, Timing, measure, verdict
from rigcheck.runs.results import Figure

if TYPE_CHECKING:
    from rigcheck.bench.context import BenchContext

QUICK_TOTAL_S = 35.0         # leaves room in the 60 s goal for start-up (torch import), a last step
QUICK_TRAIN_STEP_S = 0.25    # the CPU training step --quick aims for (a smaller batch beyond it)
FULL_TRAIN_STEP_S = 2.0      # ... and --full
SIZING_EFFICIENCY = 0.25     # assumed fraction of CPU peak a training step reaches, for sizing


def quick_batch(per_sample_s: float, recipe_batch: int, max_step_s: float) -> int:
    """The recipe's batch, or the largest power of two below it, whose step
    (``per_sample_s`` x batch) stays within ``max_step_s``; at least 1."""
    b = recipe_batch
    while b > 1 and per_sample_s * b > max_step_s:
        b = 2 ** (math.ceil(math.log2(b)) - 1) if b & (b - 1) else b // 2
    return max(1, b)


def cpu_batch(st: BenchContext, recipe: Any, budget: Any, quick: bool, named: bool
              ) -> tuple[int, bool]:
    """The batch to time on this CPU, and whether a step is long even at batch 1.

    Sized from the recipe's FLOPs and the CPU's theoretical peak, not from a timed probe: the
    same machine then always times the same batch, so runs compare (history, repeatability)
    even when the machine is busy. The step is assumed to run at SIZING_EFFICIENCY of peak; that
    only picks the batch, the figure itself is measured. A model that cannot fit --quick even
    at batch 1 (BERT-large: minutes per step on 2 cores) is skipped without being built."""
    peak = cpu_peak_gflops(st.machine, "fp32")[0]
    if not peak:
        gemm = st.figure("gemm-fp32")
        peak = gemm.value if gemm else 100.0
    per_sample_s = recipe.train_flops_per_sample / (SIZING_EFFICIENCY * peak * 1e9)
    limit_s = QUICK_TRAIN_STEP_S if quick else FULL_TRAIN_STEP_S
    if quick and not named and per_sample_s > 4 * limit_s:
        raise micro.Skip(f"about {per_sample_s:.1f} s per sample on this CPU "
                         f"({recipe.train_flops_per_sample / 1e9:.0f} GFLOP per sample): too "
                         f"slow for --quick; run --full or --only train-{recipe.id}")
    batch = quick_batch(per_sample_s, recipe.batch_size, limit_s)
    est_total = per_sample_s * batch * (budget.warmup + budget.min_runs)
    left = QUICK_TOTAL_S * st.options.time_scale - st.elapsed()
    if quick and not named and est_total > left:
        raise micro.Skip(f"--quick time budget: about {est_total:.0f} s needed at batch {batch}, "
                         f"{max(left, 0):.0f} s left; run --full or --only train-{recipe.id}")
    return batch, per_sample_s * batch > 2 * limit_s


def train_figure(st: BenchContext, rid: str, quick: bool) -> Figure:
    recipe = st.recipes[rid]
    try:
        from rigcheck.bench.models import build_workload
    except ImportError as exc:
        raise micro.Skip(f"the bundled models cannot be imported: {exc}") from None
    batch = recipe.batch_size
    scale = st.options.time_scale
    named = any(fnmatch.fnmatchcase(f"train-{rid}", p) and "*" not in p
                for p in st.options.only)
    # --quick: nothing may start after the suite's time is up, whatever the estimate said
    # (unless the user named this recipe).
    deadline = st.started + QUICK_TOTAL_S * scale if quick and not named else None
    budget = (micro.Budget(budget_s=2.0 * scale, min_runs=5, max_runs=30, warmup=2,
                           deadline=deadline) if quick
              else micro.Budget(budget_s=6.0 * scale, min_runs=10, max_runs=100, warmup=5))
    if deadline is not None and time.perf_counter() > deadline:
        raise micro.Skip(f"--quick time budget ran out; run --full or --only train-{rid}")
    if st.device.type == "cpu":
        batch, slow = cpu_batch(st, recipe, budget, quick, named)
        if slow:   # minutes per step: 3 timed steps, and the verdict says it was too few
            budget = micro.Budget(budget_s=0.0, min_runs=3, max_runs=3, warmup=1,
                                  deadline=budget.deadline, max_s=math.inf)
    fits: bool | None = None
    tried: list[int] = []
    while True:
        tried.append(batch)
        wl = None
        try:
            wl = build_workload(recipe, st.device)   # the weights alone can be too big
            timing, how = train_step_timing(
                wl, device=st.device, batch_size=batch, precision=recipe.precision,
                optimizer=recipe.optimizer, channels_last=recipe.channels_last, budget=budget)
            if st.device.type == "cuda" and batch == recipe.batch_size:
                fits = True
            break
        except OutOfTime:
            raise micro.Skip(f"--quick time budget ran out while warming up at batch {batch}; "
                             f"run --full or --only train-{rid}") from None
        except torch.cuda.OutOfMemoryError:
            if batch == recipe.batch_size:
                fits = False
            if batch <= 1 or wl is None:
                raise micro.Skip(f"out of device memory at batch {batch} (tried {tried}): the "
                                 f"{recipe.model} model does not fit this GPU") from None
            batch //= 2
        finally:
            del wl
            if st.device.type == "cuda":
                torch.cuda.empty_cache()
    smaller = (f" (recipe batch {recipe.batch_size}; smaller to fit the time budget)"
               if batch != recipe.batch_size and fits is not False else
               f" (recipe batch {recipe.batch_size} is out of memory)" if fits is False else "")
    note = (f"full training step (zero_grad, forward, loss, backward, {recipe.optimizer} step) "
            f"at batch {batch}{smaller}, {recipe.precision}{', ' + how if how else ''}; "
            "samples/s = batch / median step")
    fig = micro.figure_from(
        f"train-{rid}", batch / timing.median_s, "samples/s", timing,
        label=f"train {rid}", note=f"{recipe.name}: {note}",
        params={"batch_size": batch, "recipe_batch_size": recipe.batch_size,
                "precision": recipe.precision, "step_s": timing.median_s, "fits": fits},
    )
    if timing.runs < MIN_RUNS:   # judged by the usual bar even when fewer runs were planned
        fig.verdict = verdict(timing.cv_pct, timing.runs)
    return fig


def _optimizer(name: str, params: list) -> torch.optim.Optimizer:
    # Hyper-parameters do not change the step's cost; these are the usual defaults.
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.01)
    if name == "sgd-momentum":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-4)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=1e-4)
    raise ValueError(f"unknown optimizer {name}")


def autocast_plan(precision: str, device: torch.device) -> tuple[torch.dtype | None, bool, str]:
    """(autocast dtype or None, use GradScaler, what it means here) for a recipe precision.

    "amp" is mixed precision over fp32 weights: fp16 autocast + GradScaler on CUDA (as DLE and
    TorchBench amp do); on the CPU autocast runs bf16, so that is what a CPU user gets.
    "fp16"/"bf16" mean weights stored in that dtype throughout (the models package builds them
    so): no autocast and no GradScaler (it refuses fp16 gradients; a static loss scale, as
    Lambda's "fp16" runs used, costs nothing to time).
    """
    if precision == "amp":
        if device.type == "cuda":
            return torch.float16, True, "amp: fp16 autocast + GradScaler"
        return torch.bfloat16, False, "amp -> bf16 autocast (the CPU's autocast dtype)"
    if precision in ("fp16", "bf16"):
        return None, False, f"{precision} weights and inputs throughout"
    return None, False, ""


def train_step_timing(workload: Any, *, device: torch.device, batch_size: int,
                      precision: str, optimizer: str, channels_last: bool,
                      budget: Budget) -> tuple[Timing, str]:
    """Time one full training step: zero_grad, forward, loss, backward, optimizer step.

    ``workload`` follows :mod:`rigcheck.bench.models`: ``.model``, ``.make_batch(batch, device,
    dtype)``, ``.loss(output, targets)``, ``.trainable``. Returns the timing and a note on how it
    ran. Raises ``torch.cuda.OutOfMemoryError`` (a RuntimeError) when the batch does not fit.
    """
    model = workload.model.to(device)
    model.train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    # Inputs in the weights' dtype (fp16/bf16 recipes store the whole model in that dtype).
    trainable = list(workload.trainable)
    dtype = trainable[0].dtype if trainable and trainable[0].is_floating_point() else torch.float32
    inputs, targets = workload.make_batch(batch_size, device, dtype)
    if channels_last and isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    opt = _optimizer(optimizer, trainable)
    ac_dtype, use_scaler, how = autocast_plan(precision, device)
    scaler = torch.amp.GradScaler(device.type) if use_scaler else None
    notes = [how] if how else []
    cm_tf32: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True   # autotune convolutions, as the references do
        # "fp32" keeps PyTorch's defaults (TF32 convolutions on Ampere+, fp32 matmuls);
        # "tf32" turns TF32 matmuls on too.
        cm_tf32 = tf32_matmuls(precision == "tf32")

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=ac_dtype, enabled=ac_dtype is not None):
            out = model(inputs)
            loss = workload.loss(out, targets)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()

    with cm_tf32:
        timing = measure(step, sync=sync_for(device), warmup=budget.warmup,
                         min_runs=budget.min_runs, max_runs=budget.max_runs,
                         budget_s=budget.budget_s, max_s=budget.max_s, deadline=budget.deadline)
    if channels_last:
        notes.append("channels_last")
    return timing, ", ".join(notes)

"""Refining a prediction with what ``rigcheck bench`` measured on the user's own GPU (pure).

Issue 4: "Where bench ran on the user's machine, its measurements refine the estimate for that
machine." Every saved bench run holds training figures (``train-<recipe>``, samples/s) and, for
each, the model's prediction for the same recipe, batch and GPU (``expected``). The ratio
measured / expected says how this machine runs against the model: clocks and power limit,
cooling, driver and PyTorch version, the CPU feeding the GPU. The correction factor is the
median of those ratios over the usable training figures of the most recent run on a GPU that is
the estimated one; the median, because one model the bench ran badly (or the model mispredicts)
should not move the others.

A figure is not used when
- its verdict is not "ok" (noisy or too short: the timing itself is not trusted);
- it has no positive ``value``, or no model figure to compare it with (see below);
- it ran at a quarter of the recipe's batch or less: at such batches the step is dominated by
  kernel-launch and Python overhead, so the ratio says more about the model's overhead term than
  about this GPU's throughput;
- the run timed on the CPU (``machine.device`` is not CUDA): its GPU names then describe a GPU
  that was not used, and measured / expected would compare a CPU with a GPU.

The factor is bounded to [0.2, 5]: outside it the mismatch is a broken setup (a GPU at its
lowest clocks, a wrong catalog match) that ``rigcheck doctor`` should explain, not a correction.
Only one-GPU estimates are refined: bench times one GPU, and the factor says nothing about
communication between GPUs. Memory is never changed (bench measures speed).

The model figure a measurement is compared with is, where the caller can give it
(``expect``), today's model's prediction for that recipe and batch on the estimated GPU, and
only otherwise the one the run recorded: the model changes between releases (its parameters are
refitted), and a ratio against an older model's figure would scale today's prediction by that
older model's error.

Nothing here reads files: the caller passes the runs it loaded (``(source, BenchRun)`` pairs).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rigcheck.parts import Gpu
from rigcheck.runs.results import BenchRun, Figure

from .model import Prediction

# Today's model's samples/s for a measured training figure (its recipe, batch and precision),
# or None when it cannot say (a recipe it does not know).
Expect = Callable[[Figure], "float | None"]

MIN_FACTOR = 0.2
MAX_FACTOR = 5.0
# At this fraction of the recipe's batch or less a figure is not used (see the module docstring).
SMALL_BATCH_FRACTION = 0.25


@dataclass(frozen=True)
class UsedFigure:
    name: str                 # "train-resnet50-imagenet"
    measured: float           # samples/s
    expected: float           # the model's samples/s for the same recipe, batch and GPU
    batch_size: int | None
    expected_source: str = "model now"   # | "recorded by the run" (today's model could not say)

    @property
    def ratio(self) -> float:
        return self.measured / self.expected


@dataclass(frozen=True)
class Correction:
    factor: float                       # bounded to [MIN_FACTOR, MAX_FACTOR]
    median_ratio: float                 # before bounding
    figures: tuple[UsedFigure, ...]
    ignored: tuple[str, ...]            # "train-x: noisy: CV 9%": why a figure was not used
    measured_at: str                    # started_at of the run
    gpu_name: str                       # as the run recorded it ("NVIDIA GeForce RTX 4090")
    source: str                         # where the run came from (its JSON path)

    @property
    def bounded(self) -> bool:
        return self.factor != self.median_ratio

    def explain(self) -> str:
        n = len(self.figures)
        what = f"{n} training figure{'s' if n != 1 else ''}" if n > 1 else \
            f"1 training figure ({self.figures[0].name})"
        how = "median of " if n > 1 else ""
        clamp = (f" (measured/model {self.median_ratio:.2f}, bounded to "
                 f"{MIN_FACTOR:g}-{MAX_FACTOR:g}: run rigcheck doctor)") if self.bounded else ""
        return (f"scaled by {self.factor:.2f}: {how}{what} measured by rigcheck bench on "
                f"{self.measured_at[:10] or 'an unknown date'} on your {self.gpu_name}{clamp}")


@dataclass(frozen=True)
class Refinement:
    """The outcome: ``prediction`` is None when nothing refined it, and ``note`` says why."""

    prediction: Prediction | None
    correction: Correction | None
    note: str


def _num(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def measured_gpu(run: BenchRun) -> str | None:
    """The name of the GPU the run timed on, or None when it timed on the CPU."""
    device, gpus = str(run.machine.device or ""), list(run.machine.gpus or [])
    if not device.startswith("cuda") or not gpus:
        return None
    _, _, index = device.partition(":")
    i = int(index) if index.isdigit() else 0
    name = gpus[i] if i < len(gpus) else gpus[0]
    return name if isinstance(name, str) and name.strip() else None


def _expected(f: Figure, expect: Expect | None) -> tuple[float | None, str]:
    if expect is not None:
        try:
            now = _num(expect(f))
        except Exception:  # noqa: BLE001 - a figure today's model cannot judge falls back
            now = None
        if now is not None:
            return now, "model now"
    return _num(f.expected), "recorded by the run"


def _comparable(run: BenchRun, prefix: str, unit: str, expect: Expect | None,
                ) -> tuple[list[tuple[Figure, float, float, str]], list[str]]:
    """(figure, measured, expected, where expected came from) for each figure of ``run`` named
    ``prefix...`` in ``unit`` that passed its noise check and has a model figure to compare
    with; and why each other such figure was left out."""
    kept: list[tuple[Figure, float, float, str]] = []
    ignored: list[str] = []
    for f in run.results:
        if not str(f.name).startswith(prefix) or f.unit != unit:
            continue
        verdict = str(f.verdict or "")
        if not verdict.startswith("ok"):
            ignored.append(f"{f.name}: {verdict}")
            continue
        measured = _num(f.value)
        expected, source = _expected(f, expect) if measured is not None else (None, "")
        if measured is None or expected is None:
            ignored.append(f"{f.name}: no model figure to compare with")
            continue
        kept.append((f, measured, expected, source))
    return kept, ignored


def usable_figures(run: BenchRun, expect: Expect | None = None,
                   ) -> tuple[list[UsedFigure], list[str]]:
    """Training figures of ``run`` that can say how fast it runs against the model, and the
    reasons the other training figures were left out."""
    used: list[UsedFigure] = []
    kept, ignored = _comparable(run, "train-", "samples/s", expect)
    for f, measured, expected, source in kept:
        params = f.params if isinstance(f.params, dict) else {}
        batch, recipe_batch = _num(params.get("batch_size")), _num(params.get("recipe_batch_size"))
        if batch and recipe_batch and batch <= SMALL_BATCH_FRACTION * recipe_batch:
            ignored.append(f"{f.name}: batch {batch:g}, the recipe's is {recipe_batch:g}")
            continue
        used.append(UsedFigure(f.name, measured, expected, int(batch) if batch else None,
                               source))
    return used, ignored


def correction_from_run(run: BenchRun, source: str = "", expect: Expect | None = None,
                        ) -> Correction | None:
    """The correction one run gives, or None when it has no usable training figure."""
    gpu_name = measured_gpu(run)
    if gpu_name is None:
        return None
    used, ignored = usable_figures(run, expect)
    if not used:
        return None
    median = statistics.median(u.ratio for u in used)
    return Correction(
        factor=min(MAX_FACTOR, max(MIN_FACTOR, median)), median_ratio=median,
        figures=tuple(used), ignored=tuple(ignored), measured_at=str(run.started_at or ""),
        gpu_name=gpu_name, source=source)


def latest_correction(runs: Sequence[tuple[str, BenchRun]], gpu: Gpu,
                      same_gpu: Callable[[str], bool], expect: Expect | None = None,
                      ) -> tuple[Correction | None, str]:
    """The correction from the most recent run that timed on ``gpu`` (``same_gpu(name)`` says
    whether a recorded GPU name is it) and has a usable training figure; else (None, why)."""
    on_gpu = [(src, r) for src, r in runs if (name := measured_gpu(r)) and same_gpu(name)]
    if not on_gpu:
        return None, f"no saved rigcheck bench run timed a {gpu.name}"
    on_gpu.sort(key=lambda sr: str(sr[1].started_at or ""), reverse=True)
    for src, run in on_gpu:
        corr = correction_from_run(run, src, expect)
        if corr is not None:
            return corr, ""
    return None, (f"{len(on_gpu)} saved bench run(s) timed a {gpu.name}, but none has a usable "
                  "training figure (ok verdict, a model expectation, near the recipe's batch)")


def apply(pred: Prediction, factor: float) -> Prediction:
    """``pred`` with its speed scaled by ``factor``; memory, batch and fit unchanged."""
    return dataclasses.replace(pred, samples_per_s=pred.samples_per_s * factor,
                               step_s=pred.step_s / factor, epoch_s=pred.epoch_s / factor,
                               train_s=pred.train_s / factor)


def refine(pred: Prediction, gpu: Gpu, runs: Sequence[tuple[str, BenchRun]],
           same_gpu: Callable[[str], bool], expect: Expect | None = None) -> Refinement:
    """The prediction refined by the latest bench run on ``gpu``, or why it is not."""
    if pred.n_gpus * pred.nodes > 1:
        return Refinement(None, None, "not refined: rigcheck bench times one GPU and says "
                                      "nothing of communication between GPUs")
    corr, why = latest_correction(runs, gpu, same_gpu, expect)
    if corr is None:
        return Refinement(None, None, why)
    return Refinement(apply(pred, corr.factor), corr, corr.explain())


# ------------------------------------------------------------------------------ LLM figures
#
# ``rigcheck bench`` also times an LLM on the GPU (rigcheck.bench.llm: llm-prefill, llm-decode,
# llm-lora-step, tokens/s), each with the LLM model's tokens/s for the same shapes. Their
# measured / expected ratios give a per-machine LLM correction by the same rules as above: the
# median of the usable figures (ok verdict, a positive value and model figure) of the most
# recent run that timed the estimated GPU (never a CPU run), bounded to [0.2, 5], one GPU only.
# ``expect`` is today's LLM model for a figure (rigcheck.bench.expect.llm_expected_tokens_per_s
# on the estimated GPU); the figure the run recorded is used only where it cannot say.

LLM_PREFIX = "llm-"


def usable_llm_figures(run: BenchRun, expect: Expect | None = None,
                       ) -> tuple[list[UsedFigure], list[str]]:
    """LLM figures of ``run`` that can say how fast it runs against the LLM model, and why the
    other LLM figures were left out."""
    kept, ignored = _comparable(run, LLM_PREFIX, "tokens/s", expect)
    return [UsedFigure(f.name, m, e, None, src) for f, m, e, src in kept], ignored


def llm_correction(runs: Sequence[tuple[str, BenchRun]], gpu: Gpu,
                   same_gpu: Callable[[str], bool], expect: Expect | None = None,
                   ) -> tuple[Correction | None, str]:
    """The LLM correction from the most recent run that timed ``gpu`` and has a usable LLM
    figure; else (None, why)."""
    on_gpu = [(src, r) for src, r in runs if (name := measured_gpu(r)) and same_gpu(name)]
    if not on_gpu:
        return None, f"no saved rigcheck bench run timed a {gpu.name}"
    on_gpu.sort(key=lambda sr: str(sr[1].started_at or ""), reverse=True)
    for src, run in on_gpu:
        used, ignored = usable_llm_figures(run, expect)
        if not used:
            continue
        median = statistics.median(u.ratio for u in used)
        return Correction(
            factor=min(MAX_FACTOR, max(MIN_FACTOR, median)), median_ratio=median,
            figures=tuple(used), ignored=tuple(ignored), measured_at=str(run.started_at or ""),
            gpu_name=measured_gpu(run) or "", source=src), ""
    return None, (f"{len(on_gpu)} saved bench run(s) timed a {gpu.name}, but none has a usable "
                  "LLM figure (llm-prefill, llm-decode, llm-lora-step with an ok verdict and a "
                  "model expectation)")


def llm_refine_note(corr: Correction) -> str:
    """``refined by your bench run of 2026-12-01: x0.83`` (with the bound, when it was hit)."""
    clamp = (f" (measured/model {corr.median_ratio:.2f}, bounded to {MIN_FACTOR:g}-"
             f"{MAX_FACTOR:g}: run rigcheck doctor)") if corr.bounded else ""
    names = ", ".join(u.name for u in corr.figures)
    return (f"refined by your bench run of {corr.measured_at[:10] or 'an unknown date'}: "
            f"x{corr.factor:.2f} ({names} on your {corr.gpu_name}){clamp}")

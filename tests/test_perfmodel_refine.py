"""The bench refinement of a prediction (rigcheck.perfmodel.refine): which figures count, the
median and its bounds, which run is used, and what scaling changes (speed) and keeps (memory)."""

from __future__ import annotations

import dataclasses

import pytest

from rigcheck.perfmodel import Prediction
from rigcheck.perfmodel.refine import (
    MAX_FACTOR,
    MIN_FACTOR,
    apply,
    correction_from_run,
    latest_correction,
    measured_gpu,
    refine,
    usable_figures,
)
from rigcheck.runs.results import BenchRun, Figure, Machine


def fig(name: str, value: float, expected: float | None, verdict: str = "ok",
        batch: int | None = 64, recipe_batch: int | None = 64) -> Figure:
    params = {}
    if batch is not None:
        params["batch_size"] = batch
    if recipe_batch is not None:
        params["recipe_batch_size"] = recipe_batch
    return Figure(name=name, value=value, unit="samples/s", expected=expected, verdict=verdict,
                  params=params)


def run(*figures: Figure, at: str = "2026-11-20T10:00:00+00:00", device: str = "cuda:0",
        gpus: tuple[str, ...] = ("NVIDIA GeForce RTX 4090",)) -> BenchRun:
    return BenchRun(machine=Machine(fingerprint="fp", gpus=list(gpus), device=device),
                    started_at=at, results=list(figures))


def pred(n_gpus: int = 1, nodes: int = 1) -> Prediction:
    return Prediction(samples_per_s=1000.0, step_s=0.256, memory_gb=12.5, fits=True,
                      batch_size=256, precision="amp (fp16)", n_gpus=n_gpus, nodes=nodes,
                      epoch_s=1281.0, train_s=115290.0, bound="compute", scaling_efficiency=1.0,
                      notes=("a note",))


def is_4090(name: str) -> bool:
    return "4090" in name


def test_factor_is_the_median_of_measured_over_expected():
    r = run(fig("train-a", 80, 100), fig("train-b", 90, 100), fig("train-c", 300, 100),
            fig("gemm-fp32", 10, 100))
    corr = correction_from_run(r, "x.json")
    assert corr is not None
    assert corr.factor == pytest.approx(0.9)        # median, so train-c's 3.0 does not drag it
    assert [u.name for u in corr.figures] == ["train-a", "train-b", "train-c"]
    assert corr.source == "x.json" and corr.gpu_name == "NVIDIA GeForce RTX 4090"


def test_noisy_short_unexpected_and_small_batch_figures_are_left_out_with_reasons():
    r = run(fig("train-a", 50, 100),
            fig("train-b", 500, 100, verdict="noisy: CV 12%"),
            fig("train-c", 500, 100, verdict="too short: 2 runs"),
            fig("train-d", 500, None),
            fig("train-e", 500, 100, batch=8, recipe_batch=256),
            fig("train-f", 70, 100, batch=128, recipe_batch=256))  # half the batch: still used
    used, ignored = usable_figures(r)
    assert [u.name for u in used] == ["train-a", "train-f"]
    assert len(ignored) == 4
    assert any(i.startswith("train-b: noisy") for i in ignored)
    assert any("train-e: batch 8" in i for i in ignored)
    assert correction_from_run(r).factor == pytest.approx(0.6)


@pytest.mark.parametrize(("ratio", "factor"), [(0.01, MIN_FACTOR), (40.0, MAX_FACTOR), (1.3, 1.3)])
def test_factor_is_bounded(ratio, factor):
    corr = correction_from_run(run(fig("train-a", 100 * ratio, 100)))
    assert corr.factor == pytest.approx(factor)
    assert corr.median_ratio == pytest.approx(ratio)
    assert corr.bounded is (ratio != factor)
    assert ("bounded" in corr.explain()) is corr.bounded


def test_no_usable_figure_or_a_cpu_run_gives_no_correction():
    assert correction_from_run(run()) is None
    assert correction_from_run(run(fig("train-a", 50, 100, verdict="noisy: x"))) is None
    # CUDA torch broken: bench timed the CPU while the machine has a 4090; never compare those.
    cpu = run(fig("train-a", 5, 100), device="cpu")
    assert measured_gpu(cpu) is None and correction_from_run(cpu) is None


def test_measured_gpu_follows_the_cuda_index():
    r = run(device="cuda:1", gpus=("NVIDIA RTX A4000", "NVIDIA GeForce RTX 4090"))
    assert measured_gpu(r) == "NVIDIA GeForce RTX 4090"
    assert measured_gpu(run(device="cuda", gpus=("NVIDIA GeForce RTX 4090",))) \
        == "NVIDIA GeForce RTX 4090"


def test_apply_scales_speed_and_time_but_not_memory():
    p = apply(pred(), 0.5)
    assert p.samples_per_s == pytest.approx(500)
    assert p.step_s == pytest.approx(0.512)
    assert p.epoch_s == pytest.approx(2562) and p.train_s == pytest.approx(230580)
    assert (p.memory_gb, p.fits, p.batch_size, p.notes) == (12.5, True, 256, ("a note",))


class _Gpu:
    name = "GeForce RTX 4090"
    id = "rtx-4090"


def test_latest_run_on_the_gpu_with_usable_figures_wins():
    old = run(fig("train-a", 50, 100), at="2026-10-01T00:00:00+00:00")
    new = run(fig("train-a", 80, 100), fig("train-b", 90, 100), at="2026-11-20T00:00:00+00:00")
    newest_noisy = run(fig("train-a", 10, 100, verdict="noisy: x"), at="2026-11-24T00:00:00+00:00")
    other_gpu = run(fig("train-a", 300, 100), at="2026-11-25T00:00:00+00:00",
                    gpus=("NVIDIA GeForce RTX 3090",))
    corr, why = latest_correction([("old", old), ("noisy", newest_noisy), ("new", new),
                                   ("3090", other_gpu)], _Gpu(), is_4090)
    assert why == "" and corr.source == "new"
    assert corr.factor == pytest.approx(0.85)
    assert corr.explain() == ("scaled by 0.85: median of 2 training figures measured by rigcheck "
                              "bench on 2026-11-20 on your NVIDIA GeForce RTX 4090")


def test_refine_returns_the_scaled_prediction_or_says_why_not():
    r = run(fig("train-resnet50-imagenet", 87, 100))
    ref = refine(pred(), _Gpu(), [("a.json", r)], is_4090)
    assert ref.prediction.samples_per_s == pytest.approx(870)
    assert ref.note.startswith("scaled by 0.87: 1 training figure (train-resnet50-imagenet)")
    none = refine(pred(), _Gpu(), [], is_4090)
    assert none.prediction is None and "no saved rigcheck bench run" in none.note
    multi = refine(pred(n_gpus=8), _Gpu(), [("a.json", r)], is_4090)
    assert multi.prediction is None and "one GPU" in multi.note
    only_other = refine(pred(), _Gpu(), [("a.json", r)], lambda name: False)
    assert only_other.prediction is None


def test_values_of_the_wrong_type_in_a_saved_run_are_left_out_not_raised():
    bad = dataclasses.replace(fig("train-a", 80, 100), value="fast", expected="n/a")  # type: ignore[arg-type]
    used, ignored = usable_figures(run(bad, fig("train-b", 90, 100)))
    assert [u.name for u in used] == ["train-b"] and len(ignored) == 1


def test_todays_model_replaces_the_recorded_figure_where_it_can_say():
    """A refitted model must not be scaled by the old model's error: re-predicted figures win."""
    r = run(fig("train-known", 90, 50), fig("train-unknown", 70, 100), fig("train-broken", 60, 100))

    def expect(f: Figure) -> float | None:
        if f.name == "train-broken":
            raise ValueError("recipe does not load")
        return 100.0 if f.name == "train-known" else None

    used, _ = usable_figures(r, expect)
    assert [(u.name, u.expected, u.expected_source) for u in used] == [
        ("train-known", 100.0, "model now"),
        ("train-unknown", 100.0, "recorded by the run"),
        ("train-broken", 100.0, "recorded by the run")]
    assert correction_from_run(r, expect=expect).factor == pytest.approx(0.7)
    assert correction_from_run(r).factor == pytest.approx(0.7)   # 1.8, 0.7, 0.6 -> 0.7
    assert refine(pred(), _Gpu(), [("a", r)], is_4090, expect).correction.figures[0].ratio \
        == pytest.approx(0.9)

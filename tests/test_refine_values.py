"""perfmodel.refine's rules at their boundaries (module docstring): a quarter of the recipe's
batch or less is left out, the factor is the median bounded to [0.2, 5], the newest run on the
GPU wins, a CPU run or a blank GPU name never counts, today's model beats the recorded figure."""

from __future__ import annotations

import math

import pytest

from rigcheck.perfmodel import refine as rf
from rigcheck.perfmodel.model import Prediction
from rigcheck.runs.results import BenchRun, Figure, Machine
from tests.parts_factory import gpu

G = gpu("rtx-4090", name="RTX 4090")


def fig(name="train-a", value=80.0, expected=100.0, verdict="ok", unit="samples/s", **params):
    return Figure(name=name, value=value, unit=unit, expected=expected, verdict=verdict,
                  params=params)


def run(*figs, at="2026-11-20T10:00:00", device="cuda:0", gpus=("RTX 4090",)):
    return BenchRun(machine=Machine(gpus=list(gpus), device=device), started_at=at,
                    results=list(figs))


def pred(n_gpus=1, nodes=1):
    return Prediction(samples_per_s=100.0, step_s=1.0, memory_gb=10.0, fits=True, batch_size=8,
                      precision="fp32", n_gpus=n_gpus, nodes=nodes, epoch_s=50.0, train_s=500.0,
                      bound="compute", scaling_efficiency=1.0, notes=())


def is_4090(name):
    return "4090" in name


@pytest.mark.parametrize(("x", "v"), [
    (3, 3.0), ("2.5", 2.5), (0, None), (-1, None), (math.nan, None), (math.inf, None),
    ("x", None), (None, None), (1e-9, 1e-9),
])
def test_num(x, v):
    assert rf._num(x) == v


@pytest.mark.parametrize(("device", "gpus", "name"), [
    ("cuda:0", ("A", "B"), "A"), ("cuda:1", ("A", "B"), "B"), ("cuda:2", ("A", "B"), "A"),
    ("cuda", ("A", "B"), "A"), ("cuda:x", ("A", "B"), "A"), ("cpu", ("A",), None),
    ("", ("A",), None), ("cuda:0", (), None), ("cuda:0", ("  ",), None),
])
def test_measured_gpu(device, gpus, name):
    assert rf.measured_gpu(run(device=device, gpus=gpus)) == name


def test_measured_gpu_non_string_name():
    r = run()
    r.machine.gpus = [None]  # type: ignore[list-item]
    assert rf.measured_gpu(r) is None


@pytest.mark.parametrize(("batch", "used"), [(16, False), (17, True), (15, False), (64, True)])
def test_quarter_batch_boundary(batch, used):
    figs, ignored = rf.usable_figures(run(fig(batch_size=batch, recipe_batch_size=64)))
    assert bool(figs) is used
    if not used:
        assert ignored == [f"train-a: batch {batch}, the recipe's is 64"]
    else:
        assert figs[0].batch_size == batch


def test_batch_unknown_is_used():
    (u,), _ = rf.usable_figures(run(fig(recipe_batch_size=64)))
    assert u.batch_size is None
    (u,), _ = rf.usable_figures(run(fig(batch_size=4)))
    assert u.batch_size == 4


def test_only_training_samples_per_second_figures():
    r = run(fig("gemm-fp32", 5.0), fig("train-a", unit="images/s"), fig("llm-decode"),
            fig("train-b", 50.0))
    used, ignored = rf.usable_figures(r)
    assert [u.name for u in used] == ["train-b"] and ignored == []


def test_reasons_for_left_out_figures():
    r = run(fig("train-a", verdict="noisy: CV 9%"), fig("train-b", value=0.0),
            fig("train-c", expected=None), fig("train-d", verdict=""), fig("train-e", 90.0))
    used, ignored = rf.usable_figures(r)
    assert [u.name for u in used] == ["train-e"]
    assert ignored == ["train-a: noisy: CV 9%", "train-b: no model figure to compare with",
                       "train-c: no model figure to compare with", "train-d: "]
    assert rf.usable_figures(run(fig(verdict="ok (warm)")))[0]


def test_expected_prefers_todays_model():
    f = fig(expected=100.0)
    assert rf._expected(f, lambda _f: 200.0) == (200.0, "model now")
    assert rf._expected(f, lambda _f: None) == (100.0, "recorded by the run")
    assert rf._expected(f, lambda _f: 0.0) == (100.0, "recorded by the run")

    def broken(_f):
        raise KeyError("no such recipe")
    assert rf._expected(f, broken) == (100.0, "recorded by the run")
    assert rf._expected(f, None) == (100.0, "recorded by the run")
    (u,), _ = rf.usable_figures(run(f), lambda _f: 160.0)
    assert (u.expected, u.expected_source, u.ratio) == (160.0, "model now", 0.5)


@pytest.mark.parametrize(("ratios", "factor", "median"), [
    ((0.2,), 0.2, 0.2), ((0.19,), 0.2, 0.19), ((5.0,), 5.0, 5.0), ((5.1,), 5.0, 5.1),
    ((0.5, 0.9, 3.0), 0.9, 0.9), ((0.5, 0.7), 0.6, 0.6),
])
def test_median_and_bounds(ratios, factor, median):
    figs = [fig(f"train-{i}", value=100.0 * r) for i, r in enumerate(ratios)]
    corr = rf.correction_from_run(run(*figs), "a.json")
    assert corr is not None
    assert corr.factor == pytest.approx(factor)
    assert corr.median_ratio == pytest.approx(median)
    assert corr.bounded is (not math.isclose(factor, median))


def test_correction_none_for_cpu_or_no_figures():
    assert rf.correction_from_run(run(fig(), device="cpu")) is None
    assert rf.correction_from_run(run(fig(verdict="noisy"))) is None


def test_correction_fields_and_explain():
    corr = rf.correction_from_run(run(fig(value=90.0), at="2026-11-20T10:00:00"), "a.json")
    assert (corr.measured_at, corr.gpu_name, corr.source) == ("2026-11-20T10:00:00", "RTX 4090",
                                                              "a.json")
    assert corr.explain() == ("scaled by 0.90: 1 training figure (train-a) measured by rigcheck "
                              "bench on 2026-11-20 on your RTX 4090")
    two = rf.correction_from_run(run(fig("train-a", 80.0), fig("train-b", 100.0), at=""))
    assert two.explain() == ("scaled by 0.90: median of 2 training figures measured by rigcheck "
                             "bench on an unknown date on your RTX 4090")
    hi = rf.correction_from_run(run(fig(value=1000.0)))
    assert hi.explain().endswith("on your RTX 4090 (measured/model 10.00, bounded to 0.2-5: run "
                                 "rigcheck doctor)")


def test_latest_correction_newest_usable_run_on_the_gpu():
    old = run(fig(value=50.0), at="2026-11-01")
    new = run(fig(value=90.0), at="2026-11-20")
    newest_unusable = run(fig(verdict="noisy"), at="2026-11-30")
    other = run(fig(value=10.0), at="2026-12-01", gpus=("RTX 3090",))
    corr, why = rf.latest_correction([("o", old), ("n", new), ("x", newest_unusable),
                                      ("3090", other)], G, is_4090)
    assert (corr.source, corr.factor, why) == ("n", pytest.approx(0.9), "")
    none, why = rf.latest_correction([("3090", other)], G, is_4090)
    assert none is None and why == "no saved rigcheck bench run timed a RTX 4090"
    none, why = rf.latest_correction([("x", newest_unusable), ("c", run(fig(), device="cpu"))],
                                     G, is_4090)
    assert none is None
    assert why.startswith("1 saved bench run(s) timed a RTX 4090, but none has a usable "
                          "training figure")


def test_apply_scales_speed_only():
    p = rf.apply(pred(), 0.5)
    assert (p.samples_per_s, p.step_s, p.epoch_s, p.train_s) == (50.0, 2.0, 100.0, 1000.0)
    assert (p.memory_gb, p.batch_size, p.fits) == (10.0, 8, True)


def test_refine_one_gpu_only():
    runs = [("n", run(fig(value=90.0)))]
    out = rf.refine(pred(), G, runs, is_4090)
    assert out.prediction.samples_per_s == pytest.approx(90.0)
    assert out.note == out.correction.explain()
    for n, nodes in ((2, 1), (1, 2)):
        out = rf.refine(pred(n, nodes), G, runs, is_4090)
        assert (out.prediction, out.correction) == (None, None)
        assert out.note.startswith("not refined: rigcheck bench times one GPU")
    out = rf.refine(pred(), G, [], is_4090)
    assert (out.prediction, out.note) == (None, "no saved rigcheck bench run timed a RTX 4090")


# ---- LLM figures ------------------------------------------------------------------------------

def llm(name="llm-decode", value=40.0, expected=50.0, verdict="ok", unit="tokens/s"):
    return fig(name, value, expected, verdict, unit)


def test_usable_llm_figures():
    r = run(llm(), llm("llm-prefill", verdict="noisy: CV 20%"), llm("llm-x", value=0.0),
            llm("llm-y", unit="samples/s"), fig("train-a"), llm("llm-lora-step", 60.0, 50.0))
    used, ignored = rf.usable_llm_figures(r)
    assert [(u.name, u.ratio) for u in used] == [("llm-decode", 0.8), ("llm-lora-step", 1.2)]
    assert ignored == ["llm-prefill: noisy: CV 20%", "llm-x: no model figure to compare with"]
    (u, _), _ = rf.usable_llm_figures(run(llm(), llm("llm-b")), lambda _f: 80.0)
    assert (u.expected, u.expected_source, u.batch_size) == (80.0, "model now", None)


def test_llm_correction_and_note():
    old = run(llm(value=10.0), at="2026-11-01")
    new = run(llm(value=40.0), llm("llm-prefill", 60.0, 50.0), at="2026-11-20")
    unusable = run(llm(verdict="noisy"), at="2026-11-30")
    corr, why = rf.llm_correction([("o", old), ("n", new), ("u", unusable)], G, is_4090)
    assert (corr.source, why, corr.gpu_name) == ("n", "", "RTX 4090")
    assert corr.factor == pytest.approx(1.0)               # median of 0.8 and 1.2
    assert rf.llm_refine_note(corr) == ("refined by your bench run of 2026-11-20: x1.00 "
                                        "(llm-decode, llm-prefill on your RTX 4090)")
    low, _ = rf.llm_correction([("l", run(llm(value=1.0), at=""))], G, is_4090)
    assert low.factor == 0.2 and low.bounded
    assert rf.llm_refine_note(low) == (
        "refined by your bench run of an unknown date: x0.20 (llm-decode on your RTX 4090) "
        "(measured/model 0.02, bounded to 0.2-5: run rigcheck doctor)")
    high, _ = rf.llm_correction([("h", run(llm(value=500.0)))], G, is_4090)
    assert high.factor == 5.0
    none, why = rf.llm_correction([("u", unusable)], G, is_4090)
    assert none is None and why.startswith("1 saved bench run(s) timed a RTX 4090, but none has "
                                           "a usable LLM figure")
    none, why = rf.llm_correction([("c", run(llm(), device="cpu"))], G, is_4090)
    assert why == "no saved rigcheck bench run timed a RTX 4090"


def test_records_are_frozen():
    import dataclasses
    corr = rf.correction_from_run(run(fig()))
    out = rf.refine(pred(), G, [("a", run(fig()))], is_4090)
    for record, field in ((corr.figures[0], "measured"), (corr, "factor"), (out, "note")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, 1.0)


def test_missing_gpu_list_and_verdict():
    r = run()
    r.machine.gpus = None  # type: ignore[assignment]
    assert rf.measured_gpu(r) is None
    used, ignored = rf.usable_figures(run(fig(verdict=None)))  # type: ignore[arg-type]
    assert used == [] and ignored == ["train-a: "]
    used, ignored = rf.usable_llm_figures(run(llm(verdict=None)))  # type: ignore[arg-type]
    assert used == [] and ignored == ["llm-decode: "]


def test_params_not_a_dict_and_llm_filters():
    f = fig()
    f.params = None  # type: ignore[assignment]
    (u,), _ = rf.usable_figures(run(f))
    assert u.batch_size is None
    used, ignored = rf.usable_llm_figures(run(fig("train-a", unit="tokens/s"),
                                              llm("llm-e", expected=None)))
    assert used == [] and ignored == ["llm-e: no model figure to compare with"]
    other = run(llm(value=10.0), at="2026-12-01", gpus=("RTX 3090",))
    corr, _ = rf.llm_correction([("3090", other), ("n", run(llm(), at="2026-11-20"))], G, is_4090)
    assert corr.source == "n"

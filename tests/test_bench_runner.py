"""Suite orchestration: filters, skips, Ctrl-C, expectations and targets, on the CPU."""

from __future__ import annotations

import dataclasses
import sys
import time
import types
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")

from rigcheck.bench import expect, micro, runner, train  # noqa: E402
from rigcheck.recipes import Recipe  # noqa: E402
from rigcheck.runs.results import Figure, Machine  # noqa: E402


def recipe(rid: str = "tiny-cnn", **kw) -> Recipe:
    values = dict(
        id=rid, name="Tiny CNN", model="tiny", family="cnn", input_shape=(3, 8, 8),
        batch_size=8, precision="fp32", optimizer="sgd-momentum", dataset="fake",
        dataset_samples=1000, bytes_per_sample=200_000, epochs=2.0, params=1000,
        trainable_params=1000, fwd_flops_per_sample=1e5, train_flops_per_sample=3e5,
        activation_bytes_per_sample=1e4,
    )
    values.update(kw)
    return Recipe(**values)


def fake_models(monkeypatch: pytest.MonkeyPatch, step_sleep_s: float = 0.0) -> list[int]:
    """Install a rigcheck.bench.models with build_workload -> a tiny CNN; returns a build log."""
    from test_bench_micro import tiny_workload  # tests/ is on sys.path under pytest
    built: list[int] = []

    def build_workload(rec, device):
        built.append(1)
        wl = tiny_workload()
        if step_sleep_s:
            loss = wl.loss

            def slow_loss(out, y):
                time.sleep(step_sleep_s)
                return loss(out, y)
            wl.loss = slow_loss
        return wl

    mod = types.ModuleType("rigcheck.bench.models")
    mod.build_workload = build_workload  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rigcheck.bench.models", mod)
    return built


def opts(**kw) -> runner.Options:
    kw.setdefault("recipes", {})
    kw.setdefault("device", "cpu")
    kw.setdefault("time_scale", 0.03)
    return runner.Options(**kw)


def test_only_filter_measures_just_that_figure() -> None:
    run = runner.run_suite(opts(only=("gemm-fp32",)))
    assert [f.name for f in run.results] == ["gemm-fp32"]
    assert run.skipped == []
    fig = run.results[0]
    assert fig.value > 0 and fig.unit == "GFLOP/s"
    assert run.machine.fingerprint and run.machine.device == "cpu"


def test_cpu_run_records_why_gpu_figures_were_skipped() -> None:
    events = []
    run = runner.run_suite(opts(only=("h2d-*", "d2h-*", "gemm-tf32", "disk-read")),
                           progress=events.append)
    reasons = {s.name: s.reason for s in run.skipped}
    assert set(reasons) == {"h2d-pinned", "h2d-pageable", "d2h-pinned", "d2h-pageable",
                            "gemm-tf32", "disk-read"}
    assert "no CUDA GPU" in reasons["h2d-pinned"]
    assert "PyTorch" in reasons["h2d-pinned"]          # and why PyTorch sees none
    assert "--data-dir" in reasons["disk-read"]
    assert [e.kind for e in events].count("skip") == 6
    assert run.results == []


def test_ctrl_c_keeps_what_was_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    real = micro.memory_copy

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(micro, "image_pipeline", interrupted)
    monkeypatch.setattr(micro, "memory_copy", real)
    run = runner.run_suite(opts(only=("mem-copy", "image-pipeline")))
    assert run.interrupted is True
    assert [f.name for f in run.results] == ["mem-copy"]


def test_a_failing_figure_is_skipped_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(micro, "memory_copy", broken)
    run = runner.run_suite(opts(only=("mem-copy",)))
    assert run.skipped[0].reason == "failed: RuntimeError: kaboom"


def test_training_figure_and_target_from_a_fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_models(monkeypatch)
    rec = recipe()
    run = runner.run_suite(opts(only=("train-*",), recipes={rec.id: rec}, mode="full",
                                time_scale=0.05))
    fig = run.figure("train-tiny-cnn")
    assert fig is not None, run.skipped
    assert fig.unit == "samples/s"
    assert fig.value == pytest.approx(fig.params["batch_size"] / fig.median_s)
    assert "sgd-momentum step" in fig.note
    # pct_peak is model-FLOPs utilisation against the CPU's theoretical peak
    if fig.peak:
        assert fig.pct_peak == pytest.approx(100 * fig.value / fig.peak, abs=0.1)
    (t,) = run.targets
    assert t.source == "measured" and t.samples_per_s == fig.value
    assert t.epoch_s == pytest.approx(1000 / fig.value)
    assert t.train_s == pytest.approx(2 * t.epoch_s)
    assert t.data_mbs_needed == pytest.approx(fig.value * 200_000 / 1e6)
    assert t.fits is True and "RAM" in t.fits_note


def test_quick_skips_a_model_too_big_for_the_cpu_without_building_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    built = fake_models(monkeypatch)
    huge = recipe("huge", train_flops_per_sample=1e15, batch_size=4)
    run = runner.run_suite(opts(only=("train-*",), recipes={"huge": huge}))
    (skip,) = run.skipped
    assert skip.name == "train-huge" and "too slow for --quick" in skip.reason
    assert built == []
    assert run.targets[0].samples_per_s is None


def test_quick_stops_a_slow_step_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_models(monkeypatch, step_sleep_s=0.2)   # quick time here: 35 s x 0.03 = 1.05 s
    rec = recipe("slowpoke")
    t0 = time.perf_counter()
    run = runner.run_suite(opts(only=("train-*",), recipes={"slowpoke": rec}))
    assert time.perf_counter() - t0 < 3.0
    fig = run.figure("train-slowpoke")
    if fig is not None:          # a few steps made it in before the deadline
        assert fig.verdict.startswith("too short")
    else:
        assert "time budget" in run.skipped[0].reason


def test_cpu_batch_is_the_same_on_every_run() -> None:
    m = Machine(cpu_mhz=2000.0, threads=2, cpu_flags=["avx512f"])   # peak 256 GFLOP/s
    st = runner.BenchContext(machine=m, options=opts(mode="quick", time_scale=1.0),
                             device=torch.device("cpu"), recipes={}, gpu=None)
    budget = micro.Budget()
    # 4 GFLOP per sample at 25% of 256 GFLOP/s = 62.5 ms per sample: 0.25 s allows 4
    alex = recipe("alex", train_flops_per_sample=4e9, batch_size=128)
    assert train.cpu_batch(st, alex, budget, True, False) == (4, False)
    assert train.cpu_batch(st, alex, budget, True, False) == (4, False)
    assert train.cpu_batch(st, recipe(), budget, True, False) == (8, False)   # tiny: recipe's


def test_quick_batch_halves_until_the_step_fits() -> None:
    # 40 ms per sample, 0.4 s allowed: 10 samples -> batch 8.
    assert train.quick_batch(0.04, 256, 0.4) == 8
    assert train.quick_batch(1e-6, 64, 0.4) == 64
    assert train.quick_batch(10.0, 64, 0.4) == 1
    assert train.quick_batch(0.04, 96, 0.4) == 8    # not a power of two to start


def test_cpu_peak_from_cores_clock_and_vector_width() -> None:
    m = Machine(cpu_mhz=3000.0, threads=8, cpu_flags=["avx2", "fma"], cpu_capability="AVX2")
    peak, src = expect.cpu_peak_gflops(m, "fp32")
    assert peak == pytest.approx(8 * 3.0 * 32)
    assert "theoretical peak" in src and "AVX2" in src
    m512 = Machine(cpu_mhz=2000.0, threads=2, cpu_flags=["avx512f", "amx_bf16"])
    assert expect.cpu_peak_gflops(m512, "fp32")[0] == pytest.approx(2 * 2.0 * 64)
    assert expect.cpu_peak_gflops(m512, "bf16")[0] == pytest.approx(2 * 2.0 * 1024)
    assert expect.cpu_peak_gflops(Machine(threads=2), "fp32")[0] is None


def test_pageable_copy_much_slower_than_pinned_gets_a_hint() -> None:
    from rigcheck.runs.results import BenchRun
    gpu = SimpleNamespace(name="RTX X", pcie_gen=4, fp32_tflops=10.0, mem_bw_gbs=900.0)
    run = BenchRun(machine=Machine(device="cuda:0"))
    st = runner.BenchContext(machine=run.machine, options=opts(), device=torch.device("cpu"),
                             recipes={}, gpu=gpu)
    pinned = Figure("h2d-pinned", 5.0, "GB/s")
    expect.attach(pinned, st)
    st = dataclasses.replace(st, measured=(pinned,))
    assert pinned.pct_peak == pytest.approx(100 * 5.0 / 31.5, abs=0.1)
    assert "PCIe link width" in (pinned.hint or "")
    pageable = Figure("h2d-pageable", 2.0, "GB/s")
    expect.attach(pageable, st)
    assert "pin_memory=True" in (pageable.hint or "")


def test_only_patterns_and_known_names() -> None:
    names = runner.all_names({"lenet5-mnist": None})
    assert "train-lenet5-mnist" in names and "gemm-fp32" in names
    assert runner.matches("gemm-bf16", ("gemm-*",))
    assert not runner.matches("mem-copy", ("gemm-*",))
    assert runner.matches("anything", ())


def test_gpu_training_figure_gets_expected_from_the_performance_model() -> None:
    # No stub: the real model on a real catalog row and a bundled recipe, at the batch the
    # figure was measured at; the expectation must be what `rigcheck estimate` says for it.
    from rigcheck.catalog import load_catalog
    from rigcheck.perfmodel import match_gpu, predict
    from rigcheck.recipes import load_recipes
    rec = load_recipes()["resnet50-imagenet"]                 # amp, 24.3 GFLOP per sample
    gpu = match_gpu(load_catalog().gpus, "RTX 4090")
    want = predict(rec, gpu, batch_size=64).samples_per_s
    st = runner.BenchContext(machine=Machine(device="cuda:0"), options=opts(),
                             device=torch.device("cpu"), recipes={rec.id: rec}, gpu=gpu)
    slow = Figure(f"train-{rec.id}", want / 2, "samples/s", params={"batch_size": 64})
    expect.attach(slow, st)
    assert slow.expected == pytest.approx(want)
    assert slow.pct_expected == pytest.approx(50.0, abs=0.1)
    assert "performance model" in slow.expected_source
    assert "rigcheck doctor" in (slow.hint or "")            # under 60% of the model: a hint
    near = Figure(f"train-{rec.id}", want * 0.61, "samples/s", params={"batch_size": 64})
    expect.attach(near, st)
    assert near.hint is None                                  # 61%: no hint
    # amp -> the fp16 tensor peak, as a rate of samples: peak / FLOPs per sample
    assert slow.peak == pytest.approx(gpu.tensor_fp16_tflops * 1e12 / rec.train_flops_per_sample)


def test_unknown_gpu_name_means_no_expectation_and_says_why() -> None:
    m = Machine(gpus=["Imaginary GPU 9000 Ultra"])
    assert expect.gpu_spec(m) is None
    assert "no unambiguous catalog row" in m.gpu_catalog_note


def test_disk_figure_says_how_many_samples_it_feeds_and_targets_warn() -> None:
    rec = recipe(dataset="ImageNet-1k (ILSVRC2012 train)", bytes_per_sample=100_000)
    st = runner.BenchContext(machine=Machine(), options=opts(), device=torch.device("cpu"),
                             recipes={rec.id: rec}, gpu=None)
    disk = Figure("disk-read", 500.0, "MB/s")       # the seed: ~500 MB/s for ~2,400 images/s
    expect.attach(disk, st)
    assert disk.params["feeds_samples_per_s"] == {"ImageNet-1k (ILSVRC2012 train)": 5000}
    assert "feeds 5,000 samples/s of ImageNet-1k (100 kB each)" in disk.note
    st = dataclasses.replace(st, measured=(
        disk, Figure(f"train-{rec.id}", 8000.0, "samples/s", params={"batch_size": 8})))
    t = expect.target(st, rec)
    assert t.data_mbs_needed == pytest.approx(800.0)
    assert "reads 500 MB/s but this rate needs 800 MB/s" in t.note


def test_out_of_memory_halves_the_batch_and_marks_the_recipe_batch_as_not_fitting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU path's OOM handling, driven on the CPU by a workload that 'runs out' above 2."""
    from test_bench_micro import tiny_workload

    def build_workload(rec, device):
        wl = tiny_workload()
        make = wl.make_batch

        def make_batch(batch, dev, dtype):
            if batch > 2:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
            return make(batch, dev, dtype)
        wl.make_batch = make_batch
        return wl

    mod = types.ModuleType("rigcheck.bench.models")
    mod.build_workload = build_workload  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rigcheck.bench.models", mod)
    rec = recipe(batch_size=8)
    run = runner.run_suite(opts(only=("train-*",), recipes={rec.id: rec}, time_scale=0.05))
    fig = run.figure(f"train-{rec.id}")
    assert fig is not None, run.skipped
    assert fig.params["batch_size"] == 2 and fig.params["fits"] is False
    assert "recipe batch 8 is out of memory" in fig.note
    (t,) = run.targets
    assert t.fits is False and t.measured_batch_size == 2

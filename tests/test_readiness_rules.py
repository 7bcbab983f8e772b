"""Readiness checks for classic recipes (rigcheck/doctor/checks/readiness.py) pinned by value.

The rules, from the module: a recipe fits when the memory model's ``fits`` says so (the need at
most 0.95 of the card, rigcheck.perfmodel.memory.USABLE_FRACTION, "usable: 0.95 of the card")
or the prediction says so; within 10 % of the card (need > 0.9 x GiB) is tight; the card is the
one with the most memory (NVML MiB / 1024, else torch's GB); the training time row comes from
the prediction; a dataset of ``samples x bytes / 1e9`` GB must fit the free space of the
largest ``data*`` disk, else of the working directory's disk.

Predictions are plain objects carrying the fields the checks read, as the CLI hands them in.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rigcheck.doctor.checks import readiness as ready
from rigcheck.doctor.registry import Context
from rigcheck.facts import DiskFacts, TorchDevice
from rigcheck.recipes import Recipe
from tests.doctor_factories import healthy


def _recipe(rid="big-lm", **kw) -> Recipe:
    base = dict(
        id=rid, name="Big LM", model="gpt", family="transformer", input_shape=(1024,),
        batch_size=32, precision="fp32", optimizer="adamw", dataset="web", dataset_samples=1_000_000,
        bytes_per_sample=100_000, epochs=1.0, params=7_000_000_000, trainable_params=7_000_000_000,
        fwd_flops_per_sample=1.4e13, train_flops_per_sample=4.2e13, activation_bytes_per_sample=2e9,
    )
    base.update(kw)
    return Recipe(**base)


SMALL = _recipe("small-cnn", params=11_000_000, trainable_params=11_000_000, activation_bytes_per_sample=20e6,
                batch_size=64, dataset_samples=50_000, bytes_per_sample=3000)


def _facts(*mibs):
    """GPUs of the given MiB (80 GiB by default: 81920 MiB)."""
    mibs = mibs or (81920.0,)
    f = healthy(len(mibs))
    for g, m in zip(f.nvml.gpus, mibs):
        g.memory_total_mib = m
    return f


def _pred(**kw):
    return SimpleNamespace(**kw)


def _fit(f, *recipes, **preds):
    out = ready.recipe_fit(f, Context(targets=recipes, predictions=preds))
    return str(out.status), out.summary


# ------------------------------------------------------------------ which card

def test_the_card_with_the_most_memory_is_judged() -> None:
    f = _facts(24576.0, 49152.0)
    f.nvml.gpus[0].name, f.nvml.gpus[1].name = "small", "big"
    assert ready._gpu_free_gb(f) == ("big", 48.0)
    f.nvml.gpus[1].name = None
    assert ready._gpu_free_gb(f) == ("GPU 1", 48.0)
    f.nvml.gpus[1].lost = True
    assert ready._gpu_free_gb(f) == ("small", 24.0)


def test_torch_devices_when_nvml_has_no_memory() -> None:
    f = _facts()
    f.nvml.gpus = []
    f.torch.devices = [TorchDevice(0, "a", "8.0", 16.0), TorchDevice(1, None, "8.0", 40.0)]
    assert ready._gpu_free_gb(f) == ("cuda:1", 40.0)
    f.torch.devices[1].name = "NVIDIA A100-SXM4-40GB"
    assert ready._gpu_free_gb(f) == ("NVIDIA A100-SXM4-40GB", 40.0)
    f.torch.devices = [TorchDevice(0, "a", "8.0", None)]
    assert ready._gpu_free_gb(f) is None


# ------------------------------------------------------------------ recipe fit

@pytest.mark.parametrize(("need_gb", "status"), [
    (75.99, "warn"), (76.0, "warn"), (76.01, "fail"),       # fits: at most 0.95 x 80 GB
    (72.0, "ok"), (72.01, "warn"),                          # tight: over 0.9 x 80 GB
])
def test_fit_boundaries_on_an_80_gb_card(need_gb, status) -> None:
    r = _recipe()
    assert _fit(_facts(), r, **{r.id: _pred(memory_gb=need_gb)})[0] == status


def test_the_prediction_s_fit_verdict_wins() -> None:
    r = _recipe()
    assert _fit(_facts(), r, **{r.id: _pred(memory_gb=10.0, fits=False)})[0] == "fail"
    assert _fit(_facts(), r, **{r.id: _pred(memory_gb=100.0, fits=True)})[0] == "warn"   # tight, not too big


def test_fit_texts_name_the_card_and_each_recipe() -> None:
    r, s = _recipe(), _recipe("other", batch_size=8, precision="bf16")
    preds = {r.id: _pred(memory_gb=90.0), s.id: _pred(memory_gb=10.0)}
    assert _fit(_facts(), r, s, **preds) == (
        "fail", "on NVIDIA H100 80GB HBM3 (80 GB): big-lm needs ~90.0 GB (batch 32, fp32)")
    preds[r.id] = _pred(memory_gb=73.0)
    assert _fit(_facts(), r, s, **preds) == (
        "warn", "on NVIDIA H100 80GB HBM3 (80 GB): big-lm needs ~73.0 GB (batch 32, fp32)")
    preds[r.id] = _pred(memory_gb=20.0)
    assert _fit(_facts(), r, s, **preds) == (
        "ok", "on NVIDIA H100 80GB HBM3 (80 GB): big-lm needs ~20.0 GB (batch 32, fp32); "
              "other needs ~10.0 GB (batch 8, bf16)")


def test_without_a_prediction_the_memory_model_decides() -> None:
    status, summary = _fit(_facts(), SMALL)
    assert status == "ok" and summary.startswith("on NVIDIA H100 80GB HBM3 (80 GB): small-cnn needs ~")


def test_fit_skips_without_targets_or_gpu_memory() -> None:
    assert _fit(_facts()) == ("skip", "skipped: no --target given (e.g. rigcheck doctor --target <recipe id>)")
    f = _facts()
    f.nvml.gpus, f.torch.devices = [], []
    assert _fit(f, SMALL) == ("skip", "skipped: no GPU memory facts")


# ------------------------------------------------------------------ training time

def _time(*recipes, note=None, **preds):
    out = ready.recipe_time(_facts(), Context(targets=recipes, predictions=preds, prediction_note=note))
    return str(out.status), out.summary


def test_time_rows_from_predictions() -> None:
    r = _recipe(epochs=0.5)
    assert _time(r, **{r.id: _pred(samples_per_s=1234.4, train_s=11.0)}) == (
        "ok", "big-lm: ~1,234 samples/s, 11 s for 0.5 epoch(s)")
    assert _time(r, **{r.id: _pred(samples_per_s=1234.4, train_s=11.0, n_gpus=2)}) == (
        "ok", "big-lm: ~1,234 samples/s on 2 GPUs, 11 s for 0.5 epoch(s)")
    assert _time(r, **{r.id: _pred(samples_per_s=1234.4, train_s=11.0, n_gpus=None)})[1] == (
        "big-lm: ~1,234 samples/s, 11 s for 0.5 epoch(s)")


def test_a_batch_that_does_not_fit_has_no_time() -> None:
    r = _recipe()
    assert _time(r, **{r.id: _pred(fits=False, batch_size=16, samples_per_s=10.0, train_s=5.0)}) == (
        "ok", "big-lm: batch 16 does not fit (see ready.recipe_fit)")
    assert _time(r, **{r.id: _pred(fits=False)})[1] == "big-lm: batch 32 does not fit (see ready.recipe_fit)"


@pytest.mark.parametrize("pred", [None, _pred(samples_per_s=0.0, train_s=5.0), _pred(samples_per_s=5.0, train_s=None)])
def test_no_usable_prediction_skips_with_the_note(pred) -> None:
    r = _recipe()
    preds = {} if pred is None else {r.id: pred}
    assert _time(r, **preds) == (
        "skip", "skipped: the performance model gave no prediction; measure with `rigcheck bench`")
    assert _time(r, note="torch missing", **preds) == ("skip", "skipped: torch missing; measure with `rigcheck bench`")


def test_time_skips_without_targets() -> None:
    assert _time() == ("skip", "skipped: no --target given")


# ------------------------------------------------------------------ dataset on disk

def _disk(*disks, recipes=None):
    f = _facts()
    f.host.disks = list(disks)
    recipes = (_recipe(),) if recipes is None else recipes      # 1e6 x 100 kB = 100 GB
    return ready.dataset_disk(f, Context(targets=recipes))


def _d(label, path, free):
    return DiskFacts(label, path, "ext4", 1000.0, free, True)


def test_a_100_gb_dataset_fits_100_gb_free_not_99() -> None:
    out = _disk(_d("cwd", "/w", 100.0))
    assert (str(out.status), out.summary) == ("ok", "datasets fit on /w (100 GB free)")
    out = _disk(_d("cwd", "/w", 99.0))
    assert (str(out.status), out.summary) == ("warn", "cwd /w has 99 GB free; too small for big-lm: web 100 GB")
    assert out.fix.startswith("free at least 1 GB on /w's disk, or keep the dataset on a disk with 100 GB")


def test_the_largest_data_disk_wins_over_the_working_directory() -> None:
    out = _disk(_d("cwd", "/w", 5000.0), _d("data:/a", "/a", 10.0), _d("data:/b", "/b", 50.0),
                _d("data:/c", "/c", None))
    assert out.summary == "data:/b /b has 50 GB free; too small for big-lm: web 100 GB"
    out = _disk(_d("home", "/h", 5000.0), _d("cwd", "/w", 200.0))
    assert out.summary == "datasets fit on /w (200 GB free)"


def test_the_fix_names_the_biggest_dataset_that_does_not_fit() -> None:
    rs = (_recipe("a", dataset_samples=1_500_000), _recipe("b", dataset_samples=1_200_000),
          _recipe("c", dataset_samples=100_000))
    out = _disk(_d("cwd", "/w", 99.0), recipes=rs)
    assert out.summary == "cwd /w has 99 GB free; too small for a: web 150 GB; b: web 120 GB"
    assert out.fix.startswith("free at least 51 GB on /w's disk, or keep the dataset on a disk with 150 GB")


def test_dataset_disk_skips_without_targets_or_a_data_disk() -> None:
    f = _facts()
    assert str(ready.dataset_disk(f, Context()).summary) == "skipped: no --target given"
    out = _disk(_d("home", "/h", 500.0), _d("cwd", "/w", None))
    assert out.summary == "skipped: no disk facts for the data directory (use --data-dir)"


# ------------------------------------------------------------------ free memory of one kind of GPU

def test_free_memory_counts_only_the_gpus_of_that_name_that_report_both_figures() -> None:
    f = _facts(16384.0, 16384.0, 16384.0)
    a, b, c = f.nvml.gpus
    a.name, a.memory_used_mib = "A", 300.0            # (16384 - 300) / 1024 = 15.70703125 GiB free
    b.name, b.memory_used_mib = "B", 10000.0          # another kind, busier: not counted for "A"
    c.name, c.memory_total_mib, c.memory_used_mib = "A", None, 100.0   # no total: not counted
    assert ready._free_gb(f, "A") == 15.70703125
    assert ready._free_gb(f, "C") is None

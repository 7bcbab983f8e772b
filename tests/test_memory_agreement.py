"""doctor, bench, estimate and recommend give the same training-memory figure and the same
"fits" answer for the same recipe, card and batch: all four use rigcheck.perfmodel.memory."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from rigcheck.bench import expect, introspect
from rigcheck.bench.context import BenchContext, Options
from rigcheck.catalog import load_catalog
from rigcheck.doctor.checks import readiness
from rigcheck.doctor.registry import Context
from rigcheck.perfmodel import match_gpu, predict
from rigcheck.recipes import load_recipes
from rigcheck.recommend.speed import perfmodel_estimator
from rigcheck.runs.results import Machine
from rigcheck.ui.app import app
from tests.doctor_factories import gpu, healthy

FIX = Path(__file__).parent / "fixtures"
RECIPES = load_recipes()
RTX3060 = match_gpu(load_catalog().gpus, "RTX 3060")
runner = CliRunner()

# Written out by hand from each recipe's TOML (not computed by rigcheck): bytes per parameter
# amp = 4 fp32 weights + 2 autocast copy + 4 grads + optimizer state (SGD momentum 4, AdamW 8),
# fp32 = 4 + 4 + state; plus batch x activation bytes per sample; plus the 1.0 GB CUDA allowance.
EXPECTED_GB = {
    # 25,557,032 params x 14 B + 256 x 43,761,576 B + 1e9
    "resnet50-imagenet": (25_557_032 * 14 + 256 * 43_761_576) / 1e9 + 1.0,
    # the same at batch 128
    "resnet50-imagenet-b128": (25_557_032 * 14 + 128 * 43_761_576) / 1e9 + 1.0,
}


def _doctor_cli_need_gb(recipe_id: str) -> tuple[float, str]:
    r = runner.invoke(app, ["doctor", "--json", "--facts",
                            str(FIX / "facts" / "rtx3060_consumer.json"), "--target", recipe_id])
    fit = {f["id"]: f for f in json.loads(r.stdout)["findings"]}["ready.recipe_fit"]
    m = re.search(rf"{re.escape(recipe_id)} needs ~([\d.]+) GB", fit["summary"])
    assert m, fit["summary"]
    return float(m.group(1)), fit["status"]


def _doctor_check(recipe_id: str, vram_gb: float, predictions: dict | None = None):
    facts = healthy(1)
    facts.nvml.gpus = [gpu(0, name="NVIDIA GeForce RTX 3060", memory_total_mib=vram_gb * 1024)]
    facts.torch.devices = []
    ctx = Context(targets=(RECIPES[recipe_id],), predictions=predictions or {})
    return readiness.recipe_fit(facts, ctx)


def _bench_target(recipe_id: str, card):
    # nothing measured: the target row comes from the model, as bench prints it for a GPU
    st = BenchContext(options=Options(), device=SimpleNamespace(type="cuda"), recipes=RECIPES,
                      machine=Machine(device="cuda:0"), gpu=card)
    return expect.target(st, RECIPES[recipe_id])


@pytest.mark.parametrize("recipe_id", sorted(EXPECTED_GB))
def test_all_four_commands_give_the_same_memory_figure(recipe_id: str) -> None:
    recipe, want = RECIPES[recipe_id], EXPECTED_GB[recipe_id]

    est = json.loads(runner.invoke(app, ["estimate", "--gpu", "RTX 3060", "--target", recipe_id,
                                         "--json"]).stdout)
    rec = perfmodel_estimator()(recipe, RTX3060, 1, 1)
    doctor_gb, _ = _doctor_cli_need_gb(recipe_id)
    doctor_fallback = readiness.memory_need_gb(recipe)
    bench_note = _bench_target(recipe_id, RTX3060).fits_note
    bench_gb = float(re.search(r"model: ([\d.]+) GB", bench_note).group(1))
    f = introspect.ModelFigures(recipe.model, recipe.input_shape, recipe.precision,
                                recipe.batch_size, recipe.params, recipe.trainable_params,
                                recipe.fwd_flops_per_sample, recipe.train_flops_per_sample,
                                recipe.activation_bytes_per_sample)
    bench_figures_gb = f.train_memory_bytes(recipe.optimizer, gpu=True) / 1e9

    assert est["memory_gb"] == pytest.approx(want, abs=1e-6)
    assert rec.memory_gb == pytest.approx(want, abs=1e-6)
    assert doctor_fallback == pytest.approx(want, abs=1e-6)
    assert bench_figures_gb == pytest.approx(want, abs=1e-6)
    assert doctor_gb == pytest.approx(want, abs=0.05)      # printed to 0.1 GB
    assert bench_gb == pytest.approx(want, abs=0.05)


def test_all_four_agree_on_fits_at_the_95_percent_boundary() -> None:
    # ResNet-50 batch 128 needs 6.96 GB: a card of need / 0.95 GB is just enough.
    recipe = RECIPES["resnet50-imagenet-b128"]
    need = EXPECTED_GB["resnet50-imagenet-b128"]
    for vram, want in ((need / 0.95 + 0.01, True), (need / 0.95 - 0.01, False)):
        card = dataclasses.replace(RTX3060, vram_gb=vram)
        pred = predict(recipe, card)
        assert pred.fits is want, vram                                       # estimate
        assert perfmodel_estimator()(recipe, card, 1, 1).fits is want, vram  # recommend
        assert _bench_target(recipe.id, card).fits is want, vram             # bench
        doctor = _doctor_check(recipe.id, vram)                              # doctor, no model
        assert (doctor.status != "fail") is want, (vram, doctor.summary)
        doctor = _doctor_check(recipe.id, vram, {recipe.id: pred})           # doctor, with model
        assert (doctor.status != "fail") is want, (vram, doctor.summary)


def test_the_doctor_says_resnet50_batch_256_does_not_fit_12_gb_as_estimate_does() -> None:
    # 12.56 GB is more than 95% of 12 GB (11.4 GB): no command may call it a fit.
    gb, status = _doctor_cli_need_gb("resnet50-imagenet")
    assert status == "fail" and gb == pytest.approx(12.6, abs=0.05)
    assert predict(RECIPES["resnet50-imagenet"], RTX3060).fits is False

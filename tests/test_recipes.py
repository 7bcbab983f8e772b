"""The bundled recipes: complete, sourced, sensible, and in agreement with the models they name.

The agreement test recomputes every recipe's figures (params, FLOPs, activation memory) from the
model on the meta device; if a model or a recipe changes, run
``python -m rigcheck.bench.introspect --write`` and review the diff.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from rigcheck.paths import recipes_dir
from rigcheck.recipes import PRECISIONS, RecipeError, load_recipe, load_recipes

torch = pytest.importorskip("torch")

from rigcheck.bench import introspect  # noqa: E402
from rigcheck.bench.models import INPUT_SHAPES, MODELS  # noqa: E402

RECIPES = load_recipes()
REQUIRED = {"lenet5-mnist", "alexnet-imagenet", "vgga-imagenet", "resnet50-imagenet",
            "ocr-bilstm-lines", "autoencoder-mnist", "bert-large-squad",
            "transfer-resnet50-small"}
FAMILY_OF_MODEL = {"lenet5": "cnn", "alexnet-owt": "cnn", "vgg-a": "cnn", "resnet50": "cnn",
                   "resnet50-transfer": "cnn", "crnn-bilstm": "rnn",
                   "conv-autoencoder": "autoencoder", "bert-large-squad": "transformer",
                   "gpt2-small": "transformer", "vit-b16": "transformer"}


@functools.cache
def _figures(model: str, shape: tuple[int, ...], precision: str) -> introspect.ModelFigures:
    return introspect.measure(model, shape, precision)


def test_required_recipes_are_bundled() -> None:
    assert REQUIRED <= set(RECIPES)
    # The bundled folder holds recipes only (plus its README).
    # recipes/llm/ holds the LLM recipes (rigcheck.llm_recipes), a schema of their own
    assert {p.suffix for p in recipes_dir().iterdir() if p.is_file()} <= {".toml", ".md"}
    assert {p.name for p in recipes_dir().iterdir() if p.is_dir()} <= {"llm"}


@pytest.mark.parametrize("recipe_id", sorted(RECIPES))
def test_recipe_is_complete_and_consistent(recipe_id: str) -> None:
    r = RECIPES[recipe_id]
    assert r.model in MODELS
    assert r.family == FAMILY_OF_MODEL[r.model]
    assert len(r.input_shape) == len(INPUT_SHAPES[r.model])
    assert r.precision in PRECISIONS
    assert r.name and r.description and r.dataset
    assert len(r.source) > 20          # names where the settings come from
    assert r.bytes_per_sample > 0 and r.dataset_samples > 0 and r.epochs > 0
    assert r.trainable_params <= r.params
    assert r.fwd_flops_per_sample < r.train_flops_per_sample <= 3.5 * r.fwd_flops_per_sample


@pytest.mark.parametrize("recipe_id", sorted(RECIPES))
def test_recipe_figures_agree_with_the_model(recipe_id: str) -> None:
    r = RECIPES[recipe_id]
    figures = _figures(r.model, r.input_shape, r.precision)
    assert introspect.disagreements(r, figures) == []
    for name in ("params", "trainable_params"):
        assert getattr(r, name) == getattr(figures, name)   # counts are exact


def test_published_settings_are_kept() -> None:
    assert RECIPES["alexnet-imagenet"].batch_size == 128        # convnet-benchmarks
    assert RECIPES["vgga-imagenet"].batch_size == 64            # convnet-benchmarks
    resnet = RECIPES["resnet50-imagenet"]
    assert (resnet.batch_size, resnet.precision, resnet.epochs) == (256, "amp", 90)  # NVIDIA DLE
    bert = RECIPES["bert-large-squad"]
    assert (bert.input_shape, bert.epochs, bert.optimizer) == ((384,), 2, "adamw")
    # ImageNet: 138 GB of JPEGs (planning-rules 2.4).
    assert resnet.dataset_gb == pytest.approx(138, rel=0.02)
    transfer = RECIPES["transfer-resnet50-small"]
    assert transfer.trainable_params < 0.01 * transfer.params


def test_default_mix_fits_a_12_gb_card() -> None:
    mix = [r for r in RECIPES.values() if "default-mix" in r.tags]
    assert {r.id for r in mix} >= {"lenet5-mnist", "ocr-bilstm-lines", "transfer-resnet50-small"}
    assert any(r.model == "resnet50" for r in mix)
    for r in mix:
        figures = introspect.ModelFigures(
            r.model, r.input_shape, r.precision, r.batch_size, r.params, r.trainable_params,
            r.fwd_flops_per_sample, r.train_flops_per_sample, r.activation_bytes_per_sample)
        # The one memory model's allowance (CUDA context, workspaces, 95% usable) included.
        assert figures.train_memory_bytes(r.optimizer, gpu=True) <= 0.95 * 12e9, r.id


def test_dle_batch_256_needs_a_16_gb_card() -> None:
    r = RECIPES["resnet50-imagenet"]
    act_gb = r.batch_size * r.activation_bytes_per_sample / 1e9
    assert 10 < act_gb < 14     # over what a 12 GB card leaves, within what a 16 GB V100 has


def test_rewrite_keeps_comments_and_check_catches_drift(tmp_path: Path) -> None:
    src = recipes_dir() / "lenet5-mnist.toml"
    text = src.read_text(encoding="utf-8")
    drifted = text.replace("params = 61_706", "params = 70_000", 1)
    assert drifted != text
    target = tmp_path / "lenet5-mnist.toml"
    target.write_text(drifted, encoding="utf-8")
    assert introspect.main(["--check", "--dir", str(tmp_path)]) == 1
    assert introspect.main(["--write", "--dir", str(tmp_path)]) == 0
    assert target.read_text(encoding="utf-8") == text       # comments and layout preserved
    assert introspect.main(["--check", "--dir", str(tmp_path)]) == 0
    with pytest.raises(ValueError, match="params"):
        introspect.rewrite_figures("name = 'x'\n", _figures("lenet5", (1, 32, 32), "fp32"))


def test_bad_recipe_is_one_clear_error(tmp_path: Path) -> None:
    text = (recipes_dir() / "lenet5-mnist.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('precision = "fp32"', 'precision = "fp8"'), encoding="utf-8")
    with pytest.raises(RecipeError, match="bad.toml: precision 'fp8'"):
        load_recipe(bad)

"""Target workloads ("recipes"): what the user wants to train, as data.

Each ``recipes/<id>.toml`` names a model, its input, batch, precision, optimizer and dataset, and
carries what the model needs (FLOPs per sample, parameters, activation memory per sample). Those
figures are derived from the real PyTorch models in :mod:`rigcheck.bench.models` and a test keeps
the two in agreement. This module is pure: no torch.
"""

from __future__ import annotations

import sys
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from rigcheck.paths import recipes_dir

PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "amp")
# Recipes with this tag are the targets when the user names none (recommend, doctor): a student's
# mix that fits a 12-16 GB card (recipes/README.md says why these).
DEFAULT_MIX_TAG = "default-mix"
OPTIMIZERS = ("sgd", "sgd-momentum", "adam", "adamw")
ADAPTATIONS = ("micro_batch",)


class RecipeError(ValueError):
    """A recipe file is unreadable or inconsistent; the message names the file and field."""


@dataclass(frozen=True)
class Recipe:
    id: str                          # "resnet50-imagenet"; the file name without .toml
    name: str                        # "ResNet-50 on ImageNet-1k"
    model: str                       # key in rigcheck.bench.models.MODELS
    family: str                      # "cnn" | "rnn" | "transformer" | "autoencoder"
    input_shape: tuple[int, ...]     # per sample, e.g. (3, 224, 224) or (seq_len,)
    batch_size: int
    precision: str                   # one of PRECISIONS ("amp": fp16/bf16 autocast, fp32 master)
    optimizer: str                   # one of OPTIMIZERS
    dataset: str
    dataset_samples: int             # samples in one epoch
    bytes_per_sample: int            # on disk, as stored (JPEG, PNG, token ids ...)
    epochs: float
    params: int                      # all parameters of the model
    trainable_params: int            # those the optimizer updates (less for transfer learning)
    fwd_flops_per_sample: float      # forward pass, FLOPs (a multiply-add counts as 2)
    train_flops_per_sample: float    # forward + backward (+ optimizer is negligible)
    activation_bytes_per_sample: float  # saved for backward at the recipe's precision
    channels_last: bool = False
    description: str = ""
    source: str = ""                 # where the recipe's settings come from
    tags: tuple[str, ...] = field(default_factory=tuple)
    # Changes recommend may make so the recipe fits a card: "micro_batch" = a smaller batch per
    # step with gradient accumulation up to the recipe's batch. The same update only where no
    # layer mixes samples (LayerNorm transformers; not batch-norm CNNs), so recipes opt in.
    adapt: tuple[str, ...] = field(default_factory=tuple)

    @property
    def dataset_gb(self) -> float:
        return self.dataset_samples * self.bytes_per_sample / 1e9

    @property
    def disk_gb(self) -> float:
        return self.dataset_gb

    @property
    def steps_per_epoch(self) -> float:
        return self.dataset_samples / self.batch_size




def _coerce(path: Path, raw: dict[str, Any]) -> Recipe:
    known = {f.name: f for f in fields(Recipe)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise RecipeError(f"{path}: unknown field(s) {', '.join(unknown)}")
    missing = sorted(
        f.name for f in fields(Recipe)
        if f.name not in raw and f.name != "id"
        and f.default is MISSING and f.default_factory is MISSING
    )
    if missing:
        raise RecipeError(f"{path}: missing field(s) {', '.join(missing)}")
    values = dict(raw)
    values["id"] = path.stem
    try:
        values["input_shape"] = tuple(int(x) for x in values["input_shape"])
        values["tags"] = tuple(str(x) for x in values.get("tags", ()))
        values["adapt"] = tuple(str(x) for x in values.get("adapt", ()))
        for name in ("batch_size", "dataset_samples", "bytes_per_sample", "params",
                     "trainable_params"):
            values[name] = int(values[name])
        for name in ("epochs", "fwd_flops_per_sample", "train_flops_per_sample",
                     "activation_bytes_per_sample"):
            values[name] = float(values[name])
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"{path}: {exc}") from None
    recipe = Recipe(**values)
    if recipe.precision not in PRECISIONS:
        raise RecipeError(f"{path}: precision '{recipe.precision}' is not one of {', '.join(PRECISIONS)}")
    if recipe.optimizer not in OPTIMIZERS:
        raise RecipeError(f"{path}: optimizer '{recipe.optimizer}' is not one of {', '.join(OPTIMIZERS)}")
    for name in ("batch_size", "dataset_samples", "params", "fwd_flops_per_sample",
                 "train_flops_per_sample", "epochs"):
        if getattr(recipe, name) <= 0:
            raise RecipeError(f"{path}: {name} must be > 0")
    bad = [a for a in recipe.adapt if a not in ADAPTATIONS]
    if bad:
        raise RecipeError(f"{path}: adapt '{bad[0]}' is not one of {', '.join(ADAPTATIONS)}")
    if recipe.trainable_params > recipe.params:
        raise RecipeError(f"{path}: trainable_params exceeds params")
    return recipe


def read_toml(path: Path, error: type[ValueError] = RecipeError) -> dict[str, Any]:
    """A recipe file's table; unreadable or invalid TOML raises ``error`` in one line naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def load_recipe(path: Path) -> Recipe:
    return _coerce(path, read_toml(path))


def load_recipes(directory: Path | None = None) -> dict[str, Recipe]:
    """All recipes in ``directory`` (default: the bundled ones), keyed by id, sorted."""
    directory = directory or recipes_dir()
    return {p.stem: load_recipe(p) for p in sorted(directory.glob("*.toml"))}


def get_recipe(recipe_id: str, directory: Path | None = None) -> Recipe:
    recipes = load_recipes(directory)
    if recipe_id not in recipes:
        from rigcheck.suggest import did_you_mean

        raise RecipeError(
            f"unknown recipe '{recipe_id}'{did_you_mean(recipe_id, recipes)}; "
            f"known: {', '.join(recipes) or '(none)'}"
        )
    return recipes[recipe_id]


def default_mix(recipes: dict[str, Recipe]) -> tuple[Recipe, ...]:
    """The recipes tagged ``default-mix``, in id order."""
    return tuple(r for r in recipes.values() if DEFAULT_MIX_TAG in r.tags)

"""What a model needs, measured from the model itself: FLOPs, parameters, activation memory.

Everything runs on the META device: tensors carry shapes and dtypes but no data, so BERT-large is
"run" in well under a second and without memory.

* FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` over one forward, and over forward + loss +
  backward. It counts matmuls, convolutions and attention, a multiply-add as 2 FLOPs; elementwise
  work (activations, norms, the optimizer) is left out, as in the published GMAC figures.
* Activation memory: every tensor autograd saves for backward passes through
  ``torch.autograd.graph.saved_tensors_hooks``; we sum the bytes of their storages, counting a
  storage once however many views of it are saved, and leave out the parameters themselves.
* Per sample: both are measured at batch 1 and 2 and differenced, so per-batch constants (batch
  norm statistics, weight copies) drop out and what remains scales with the batch.

Precision: "fp32"/"tf32" measure an fp32 model; "fp16"/"bf16" the model cast to that dtype.
Autocast has no meta backend, so "amp" runs the fp32 model under :class:`_AutocastEmulation`, which
applies autocast's casting rules at the same level autocast does (above autograd, so the casts'
outputs are what gets saved): matmuls, convolutions, LSTMs and attention in fp16; LayerNorm,
softmax and losses in fp32; everything else in its input's dtype (fp16 + fp32 promotes to fp32).

``python -m rigcheck.bench.introspect --check`` compares every bundled recipe with its model
(exit 1 on any disagreement over 1%); ``--write`` rewrites the recipes' figures in place.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_map
from torch.utils.flop_counter import FlopCounterMode

from rigcheck.bench.models import INPUT_SHAPES, MODELS, STORAGE_DTYPES, Workload, make_workload
from rigcheck.perfmodel import memory as mem
from rigcheck.recipes import Recipe, load_recipes

# Autocast's op lists (torch/csrc/autograd/autocast_mode.cpp, CUDA "lower_precision_fp" and
# "fp32" policies), as torch-function names, restricted to what these models call.
_AUTOCAST_TO_HALF = frozenset({
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "matmul", "__matmul__", "mm", "bmm", "addmm", "baddbmm", "addbmm",
    "prelu", "lstm", "gru", "rnn_tanh", "rnn_relu", "scaled_dot_product_attention",
})
_AUTOCAST_TO_FLOAT = frozenset({
    "layer_norm", "group_norm", "softmax", "log_softmax", "cross_entropy", "nll_loss",
    "mse_loss", "l1_loss", "smooth_l1_loss", "ctc_loss", "binary_cross_entropy_with_logits",
    "norm",
})


class _AutocastEmulation(TorchFunctionMode):
    """fp16 autocast for meta tensors: casts the floating-point arguments of listed ops."""

    def __init__(self, half: torch.dtype = torch.float16) -> None:
        super().__init__()
        self.half = half

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        target = (self.half if name in _AUTOCAST_TO_HALF
                  else torch.float32 if name in _AUTOCAST_TO_FLOAT else None)
        if target is not None:
            def cast(x):
                if isinstance(x, torch.Tensor) and x.is_floating_point() and x.dtype != target:
                    return x.to(target)
                return x
            args, kwargs = tree_map(cast, (args, kwargs or {}))
        return func(*args, **(kwargs or {}))


def _rnn_input_as_float(module, args):
    # nn.RNNBase rejects fp16 input with fp32 weights unless real autocast is on; hand it fp32
    # and let the emulation cast input and weights together at the lstm call, as autocast does.
    return (args[0].float(), *args[1:])

# Models whose cost is exactly affine in the input's last dimension (line width): every layer is
# per-column (convolutions, a per-timestep LSTM), so figures measured at two narrow widths
# extrapolate exactly to the recipe's width. Why: the LSTM's per-timestep meta kernels run in
# Python (~2 s per pass over 128 timesteps); 4 and 8 timesteps take a fraction of that.
# tests/test_models.py checks the extrapolation against a direct measurement.
_AFFINE_IN_WIDTH = {"crnn-bilstm": (16, 32)}

AGREEMENT_TOLERANCE = 0.01
_FIGURE_FIELDS = ("params", "trainable_params", "fwd_flops_per_sample",
                  "train_flops_per_sample", "activation_bytes_per_sample")


@dataclass(frozen=True)
class ModelFigures:
    model: str
    input_shape: tuple[int, ...]
    precision: str
    batch_size: int
    params: int
    trainable_params: int
    fwd_flops_per_sample: float
    train_flops_per_sample: float
    activation_bytes_per_sample: float

    @property
    def activation_bytes(self) -> float:
        """Saved-for-backward activations of one batch."""
        return self.activation_bytes_per_sample * self.batch_size

    def train_memory_bytes(self, optimizer: str, *, gpu: bool = False) -> float:
        """Memory for one training step at ``batch_size``: the one memory model
        (rigcheck.perfmodel.memory) over these figures; ``gpu=True`` adds its CUDA allowance."""
        size = mem.ModelSize(self.params, self.trainable_params, self.activation_bytes_per_sample,
                             self.precision, optimizer)
        return mem.train_memory_gb(size, self.batch_size, gpu=gpu) * mem.GB


def _saved_bytes_and_flops(model_name: str, input_shape: tuple[int, ...], precision: str,
                           batch: int) -> tuple[float, float, float]:
    """(activation bytes, forward FLOPs, train FLOPs) of one batch on the meta device."""
    device = torch.device("meta")
    # The model in its storage dtype: fp32 for "amp" (autocast is emulated below), else as
    # trained.
    work = make_workload(model_name, input_shape, precision, device)
    model, dtype = work.model, STORAGE_DTYPES[precision]
    param_storages = {p.untyped_storage()._cdata for p in model.parameters()}
    inputs, targets = work.make_batch(batch, device, dtype)
    if precision != "amp":
        return _count(work, model, inputs, targets, param_storages)
    for module in model.modules():
        if isinstance(module, torch.nn.RNNBase):
            module.register_forward_pre_hook(_rnn_input_as_float)
    with _AutocastEmulation(torch.float16):
        return _count(work, model, inputs, targets, param_storages)


def _count(work: Workload, model: torch.nn.Module, inputs: Any, targets: Any,
           param_storages: set[int]) -> tuple[float, float, float]:
    with FlopCounterMode(display=False) as fwd_counter, torch.no_grad():
        model(inputs)

    seen: dict[int, int] = {}
    keep: list[torch.Tensor] = []   # hold saved tensors so no storage id is reused meanwhile

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        key = storage._cdata
        if key not in param_storages:
            seen[key] = storage.nbytes()
            keep.append(t)
        return t

    with FlopCounterMode(display=False) as train_counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = work.loss(model(inputs), targets)
        loss.backward()
    return (float(sum(seen.values())), float(fwd_counter.get_total_flops()),
            float(train_counter.get_total_flops()))


def measure(model_name: str, input_shape: tuple[int, ...] | None = None,
            precision: str = "fp32", batch_size: int = 1) -> ModelFigures:
    """Figures for a model at an input shape and precision (see the module docstring)."""
    if model_name not in MODELS:
        raise ValueError(f"unknown model '{model_name}'; known: {', '.join(sorted(MODELS))}")
    if precision not in STORAGE_DTYPES:
        raise ValueError(f"unknown precision '{precision}'")
    shape = tuple(input_shape) if input_shape else INPUT_SHAPES[model_name]
    per_sample = _per_sample(model_name, shape, precision)
    with torch.device("meta"):
        model = MODELS[model_name]()
    return ModelFigures(
        model=model_name, input_shape=shape, precision=precision, batch_size=batch_size,
        params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        activation_bytes_per_sample=per_sample[0],
        fwd_flops_per_sample=per_sample[1],
        train_flops_per_sample=per_sample[2],
    )


def _per_sample(model_name: str, shape: tuple[int, ...], precision: str,
                direct: bool = False) -> tuple[float, float, float]:
    """(activation bytes, forward FLOPs, train FLOPs) per sample: batch 2 minus batch 1."""
    if model_name in _AFFINE_IN_WIDTH and not direct:
        w1, w2 = _AFFINE_IN_WIDTH[model_name]
        at1 = _per_sample(model_name, (*shape[:-1], w1), precision, direct=True)
        at2 = _per_sample(model_name, (*shape[:-1], w2), precision, direct=True)
        scale = (shape[-1] - w1) / (w2 - w1)
        return tuple(a + (b - a) * scale for a, b in zip(at1, at2))  # type: ignore[return-value]
    one = _saved_bytes_and_flops(model_name, shape, precision, 1)
    two = _saved_bytes_and_flops(model_name, shape, precision, 2)
    return tuple(b - a for a, b in zip(one, two))  # type: ignore[return-value]


def describe(recipe_or_model_name: str | Recipe, batch_size: int | None = None) -> ModelFigures:
    """Figures for a recipe (id or record: its shape, precision and batch) or a bare model name
    (its design input, fp32, batch 1 unless given)."""
    recipe = recipe_or_model_name
    if isinstance(recipe, str):
        recipes = load_recipes()
        if recipe in recipes:
            recipe = recipes[recipe]
        else:
            return measure(recipe, None, "fp32", batch_size or 1)
    return measure(recipe.model, recipe.input_shape, recipe.precision,
                   batch_size or recipe.batch_size)


def _recipe_values(figures: ModelFigures) -> dict[str, float]:
    return {name: getattr(figures, name) for name in _FIGURE_FIELDS}


def disagreements(recipe: Recipe, figures: ModelFigures,
                  tolerance: float = AGREEMENT_TOLERANCE) -> list[str]:
    """One line per figure where the recipe file and the model differ by more than ``tolerance``."""
    lines = []
    for name, derived in _recipe_values(figures).items():
        stored = float(getattr(recipe, name))
        if abs(stored - derived) > tolerance * max(abs(derived), 1.0):
            lines.append(f"{recipe.id}: {name} is {stored:,.0f} in the recipe, "
                         f"{derived:,.0f} from the model")
    return lines


def rewrite_figures(text: str, figures: ModelFigures) -> str:
    """The recipe TOML ``text`` with its figure lines replaced; comments and order are kept."""
    for name, value in _recipe_values(figures).items():
        line = f"{name} = {int(round(value)):_}"
        text, count = re.subn(rf"(?m)^{name}\s*=.*$", line, text)
        if count != 1:
            raise ValueError(f"expected one '{name} = ...' line, found {count}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rigcheck.bench.introspect",
        description="Derive recipe figures (FLOPs, params, activation memory) from the models.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="report recipes that disagree (exit 1)")
    mode.add_argument("--write", action="store_true", help="rewrite the figures in the recipes")
    parser.add_argument("--dir", type=Path, default=None, help="recipes folder (default: bundled)")
    args = parser.parse_args(argv)
    from rigcheck.paths import recipes_dir
    directory = args.dir or recipes_dir()
    problems: list[str] = []
    for recipe_id, recipe in load_recipes(directory).items():
        figures = measure(recipe.model, recipe.input_shape, recipe.precision, recipe.batch_size)
        path = directory / f"{recipe_id}.toml"
        if args.write:
            path.write_text(rewrite_figures(path.read_text(encoding="utf-8"), figures),
                            encoding="utf-8")
        else:
            problems += disagreements(recipe, figures)
        print(f"{recipe_id:28} params {figures.params:>12,}  fwd {figures.fwd_flops_per_sample/1e9:9.3f}"
              f" GFLOP  train {figures.train_flops_per_sample/1e9:9.3f} GFLOP  act "
              f"{figures.activation_bytes_per_sample/1e6:9.2f} MB/sample")
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""The bundled models and their training workloads, in plain ``torch.nn``.

``MODELS`` maps a recipe's ``model`` key to a builder. :func:`build_workload` turns a
:class:`rigcheck.recipes.Recipe` into everything one training step needs: the model, a maker of
synthetic batches of the right shape and range, the loss and the parameters the optimizer updates.
The bench runner's step is::

    inputs, targets = workload.make_batch(batch_size, device, dtype)
    loss = workload.loss(workload.model(inputs), targets)
    loss.backward(); optimizer.step()        # optimizer over workload.trainable

Parameter counts are checked against the published figures in tests/test_models.py; FLOPs and
activation memory are derived from these modules by :mod:`rigcheck.bench.introspect`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from rigcheck.bench.models import alexnet, autoencoder, bert, gpt2, lenet, ocr, resnet, vgg, vit

if TYPE_CHECKING:
    from rigcheck.recipes import Recipe

MODELS: dict[str, Callable[..., nn.Module]] = {
    "lenet5": lenet.lenet5,
    "alexnet-owt": alexnet.alexnet_owt,
    "vgg-a": vgg.vgg_a,
    "resnet50": resnet.resnet50,
    "resnet50-transfer": resnet.resnet50_transfer,
    "crnn-bilstm": ocr.crnn_bilstm,
    "conv-autoencoder": autoencoder.conv_autoencoder,
    "bert-large-squad": bert.bert_large_squad,
    "gpt2-small": gpt2.gpt2_small,
    "vit-b16": vit.vit_b16,
}

# What each model learns to do, which decides its batches and loss.
TASKS: dict[str, str] = {
    "lenet5": "classify",
    "alexnet-owt": "classify",
    "vgg-a": "classify",
    "resnet50": "classify",
    "resnet50-transfer": "classify",
    "crnn-bilstm": "ctc",
    "conv-autoencoder": "reconstruct",
    "bert-large-squad": "squad",
    "gpt2-small": "lm",
    "vit-b16": "classify",
}

# The per-sample input each model was designed for (a recipe may change widths and lengths).
INPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "lenet5": (1, 32, 32),
    "alexnet-owt": (3, 224, 224),
    "vgg-a": (3, 224, 224),
    "resnet50": (3, 224, 224),
    "resnet50-transfer": (3, 224, 224),
    "crnn-bilstm": (1, 32, 512),
    "conv-autoencoder": (1, 28, 28),
    "bert-large-squad": (384,),
    "gpt2-small": (1024,),
    "vit-b16": (3, 224, 224),
}

# Vocabulary sizes of the token models (ids are drawn from [0, vocab)).
_VOCAB = {"bert-large-squad": 30522, "gpt2-small": 50257}

# Parameter storage dtype per recipe precision. "amp" keeps fp32 weights (autocast casts per op,
# the runner's job); "fp16"/"bf16" mean a model trained in that dtype throughout.
STORAGE_DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32, "tf32": torch.float32, "amp": torch.float32,
    "fp16": torch.float16, "bf16": torch.bfloat16,
}


@dataclass
class Workload:
    model: nn.Module
    make_batch: Callable[[int, torch.device, torch.dtype], tuple[Any, Any]]
    loss: Callable[[Any, Any], Tensor]
    trainable: list[nn.Parameter]
    input_dtype_is_float: bool     # False: inputs are token ids (int64), ``dtype`` is ignored


def build_model(name: str, **kw: Any) -> nn.Module:
    """A fresh model by registry name; ``kw`` go to its builder (e.g. ``num_classes``)."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}'; known: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kw)


def _cross_entropy(out: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(out.float(), y)


def _mse(out: Tensor, y: Tensor) -> Tensor:
    return F.mse_loss(out.float(), y.float())


def _batch_maker(name: str, shape: tuple[int, ...], model: nn.Module
                 ) -> Callable[[int, torch.device, torch.dtype], tuple[Any, Any]]:
    task = TASKS[name]
    classes = int(getattr(model, "num_classes", 0))

    def classify(b: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        x = torch.randn(b, *shape, device=device, dtype=dtype)
        return x, torch.randint(0, classes, (b,), device=device)

    def reconstruct(b: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        x = torch.rand(b, *shape, device=device, dtype=dtype)   # pixel intensities in [0, 1]
        return x, x

    def ctc(b: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Any]:
        return ocr.make_lines(b, shape, classes - 1, torch.device(device), dtype)

    def squad(b: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Any]:
        ids = torch.randint(0, _VOCAB[name], (b, *shape), device=device)
        spans = torch.randint(0, shape[0], (2, b), device=device)
        return ids, (spans[0], spans[1])

    def lm(b: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        ids = torch.randint(0, _VOCAB[name], (b, *shape), device=device)
        return ids, torch.roll(ids, -1, dims=1)

    return {"classify": classify, "reconstruct": reconstruct, "ctc": ctc, "squad": squad,
            "lm": lm}[task]


_LOSSES: dict[str, Callable[[Any, Any], Tensor]] = {
    "classify": _cross_entropy,
    "reconstruct": _mse,
    "ctc": ocr.ctc_loss,
    "squad": bert.squad_loss,
    "lm": gpt2.lm_loss,
}


def make_workload(name: str, input_shape: tuple[int, ...] | None = None, precision: str = "fp32",
                  device: str | torch.device = "cpu", channels_last: bool = False) -> Workload:
    """The workload for a model name: :func:`build_workload` without a recipe."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}'; known: {', '.join(sorted(MODELS))}")
    if precision not in STORAGE_DTYPES:
        raise ValueError(f"unknown precision '{precision}'; known: {', '.join(STORAGE_DTYPES)}")
    shape = tuple(input_shape) if input_shape else INPUT_SHAPES[name]
    device = torch.device(device)
    # Build straight on the target device: on "meta" even BERT-large costs no memory.
    with device:
        model = build_model(name)
    model = model.to(dtype=STORAGE_DTYPES[precision])
    if channels_last and len(INPUT_SHAPES[name]) == 3:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # nn.Module.to accepts it; torch's stub omits it
    model.train()
    return Workload(
        model=model,
        make_batch=_batch_maker(name, shape, model),
        loss=_LOSSES[TASKS[name]],
        trainable=[p for p in model.parameters() if p.requires_grad],
        input_dtype_is_float=TASKS[name] not in ("squad", "lm"),
    )


def build_workload(recipe: Recipe, device: str | torch.device = "cpu") -> Workload:
    """The model, batches, loss and trainable parameters a recipe trains, on ``device``.

    Weights are fp32 unless the recipe trains purely in fp16/bf16; "amp" autocast and
    channels-last inputs are the runner's to apply (the model is already channels-last when the
    recipe says so).
    """
    return make_workload(recipe.model, recipe.input_shape, recipe.precision, device,
                         recipe.channels_last)

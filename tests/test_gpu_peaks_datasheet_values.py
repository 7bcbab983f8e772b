"""Dense 16-bit tensor peaks in the GPU spec table against the vendors' datasheets (issue 10
leftover: the table had H100 SXM5 at 1070.5 TFLOPS, TechPowerUp's 1,980 MHz boost x 132 SMs x
4096, where NVIDIA gives 989.4).

Datasheet figures, each worked out as FLOPs/clock/SM x SMs x the clock NVIDIA computes it at:
- H100 SXM5: BF16 1,979 TFLOPS with sparsity, half dense = 989.5 (NVIDIA H100 datasheet);
  4096 x 132 x 1.830 GHz = 989.4 (H100 whitepaper: "1.83 GHz (low precision)").
- H100 PCIe: 1,513 with sparsity -> 756.5 dense; 4096 x 114 x 1.620 GHz = 756.4.
- A100 SXM4: 312 BF16 / 156 TF32 dense (A100 datasheet); 2048 x 108 x 1.410 GHz = 311.9.
- RTX 4090 (Ada): 165.2 FP16 with fp32 accumulate (Ada whitepaper); 1024 x 128 x 2.520 GHz / 2
  (GeForce half rate) = 165.2.
"""

from __future__ import annotations

import pytest

from rigcheck.perfmodel import hardware as hw
from rigcheck.perfmodel.gpudb import spec_by_key
from rigcheck.perfmodel.tensor_rules import (
    TENSOR_CLOCK_MHZ,
    dense_tflops,
    nvidia_rule,
    tensor_clock_mhz,
)
from tests.parts_factory import gpu


@pytest.mark.parametrize(("key", "field", "datasheet"), [
    ("h100-sxm5-80-gb", "tensor_bf16_tflops", 989.4),
    ("h100-sxm5-80-gb", "tensor_fp16_tflops", 989.4),
    ("h100-sxm5-80-gb", "tensor_tf32_tflops", 494.7),     # 2048 x 132 x 1.83
    ("h100-sxm5-80-gb", "tensor_fp8_tflops", 1978.9),     # 8192 x 132 x 1.83
    ("h100-pcie-80-gb", "tensor_bf16_tflops", 756.4),
    ("h100-pcie-80-gb", "tensor_tf32_tflops", 378.2),     # 2048 x 114 x 1.62
    ("h200-sxm-141-gb", "tensor_bf16_tflops", 989.4),     # same GH100 SXM: "~989" dense
    ("a100-sxm4-80-gb", "tensor_bf16_tflops", 311.9),
    ("a100-sxm4-80-gb", "tensor_tf32_tflops", 155.9),
    ("geforce-rtx-4090", "tensor_fp16_tflops", 165.2),
])
def test_table_tensor_peaks_are_the_datasheet_figures(key, field, datasheet):
    spec = spec_by_key(key)
    assert spec is not None, key
    assert getattr(spec, field) == pytest.approx(datasheet, abs=0.051)


def test_rows_without_a_datasheet_clock_keep_the_boost_clock():
    # H100 NVL: no NVIDIA figure found, so 4096 x 132 x 1.785 GHz (TechPowerUp) = 965.1
    assert spec_by_key("h100-nvl-94-gb").tensor_bf16_tflops == pytest.approx(965.1, abs=0.051)
    assert "1785 MHz" in spec_by_key("h100-nvl-94-gb").tensor_rule
    assert "1830 MHz (NVIDIA's tensor clock; boost 1980 MHz)" in spec_by_key("h100-sxm5-80-gb").tensor_rule


def test_tensor_clock_lookup():
    assert tensor_clock_mhz("H100 SXM5 80 GB", 1980.0) == 1830.0
    assert tensor_clock_mhz("H100 PCIe 80 GB", 1755.0) == 1620.0
    assert tensor_clock_mhz("GeForce RTX 4090", 2520.0) == 2520.0     # not listed: the boost
    assert all(mhz < 1980.0 for mhz in TENSOR_CLOCK_MHZ.values())
    hopper = nvidia_rule("9.0")
    assert hopper is not None
    assert dense_tflops(hopper, 132, tensor_clock_mhz("H100 SXM5 80 GB", 1980.0), False)["bf16"] == 989.4


def test_llm_speed_uses_the_datasheet_peak():
    from rigcheck.perfmodel import lookup_gpu
    from rigcheck.perfmodel.llm_speed import peak16_tflops

    assert peak16_tflops(lookup_gpu("H100 SXM5 80 GB", []).gpu) == pytest.approx(989.4)


# ---- V100 power reference (hardware._FLAGSHIP_W_PER_FP32_TFLOP) ---------------------------

def test_v100_table_rows_carry_nvidias_board_power():
    # SXM2 300 W, PCIe 250 W (TechPowerUp had them swapped)
    assert spec_by_key("tesla-v100-sxm2-32-gb").tdp_w == 300.0
    assert spec_by_key("tesla-v100-sxm2-16-gb").tdp_w == 300.0
    assert spec_by_key("tesla-v100-pcie-16-gb").tdp_w == 250.0
    assert spec_by_key("tesla-v100-pcie-32-gb").tdp_w == 250.0


@pytest.mark.parametrize(("tdp_w", "fp32", "headroom"), [
    (300, 15.7, 1.0),                      # V100 SXM2 itself: the reference, 300 W / 15.7
    (250, 14.13, 250 / (14.13 * 300 / 15.7)),   # V100 PCIe: 0.926, below its SXM2 sibling
    (250, 15.7, 250 / 300),                # an SXM2-rate chip held to 250 W: 0.833
])
def test_volta_power_headroom_against_the_sxm2_reference(tdp_w, fp32, headroom):
    v = hw.power_headroom(gpu("v", architecture="Volta", compute_capability="7.0", tdp_w=tdp_w,
                              fp32_tflops=fp32, form="datacenter"))
    assert v == pytest.approx(headroom)


def test_every_datasheet_clock_is_what_the_table_rows_carry():
    # the generator's rule (tensor_rules.TENSOR_CLOCK_MHZ) and the committed CSV rows agree
    from rigcheck.perfmodel.gpudb import load_specs
    by_name = {s.name: s for s in load_specs()}
    for name, mhz in TENSOR_CLOCK_MHZ.items():
        spec = by_name[name]
        rule = nvidia_rule(spec.compute_capability)
        assert rule is not None and spec.compute_units
        want = dense_tflops(rule, spec.compute_units, mhz, False)
        assert spec.tensor_bf16_tflops == want["bf16"], name
        assert f"x {mhz:g} MHz" in spec.tensor_rule, name
    assert tensor_clock_mhz("H800 PCIe 80 GB", 1755.0) == 1620.0

"""The wheel/arch and driver tables: the facts the reference and NVIDIA's docs give."""

from __future__ import annotations

import pytest

from rigcheck.doctor import wheels


@pytest.mark.parametrize("torch_v,cuda,cap,verdict", [
    ("2.6.0+cu124", "12.4", "12.0", "missing"),       # RTX 5090 on cu124 (pytorch#153944)
    ("2.5.1+cu118", "11.8", "12.0", "missing"),       # Blackwell on cu118
    ("2.7.0+cu128", "12.8", "12.0", "exact"),
    ("2.0.1+cu117", "11.7", "9.0", "missing"),        # H100 on cu117 (pytorch#110153)
    ("2.0.1+cu118", "11.8", "9.0", "exact"),
    ("2.9.0+cu128", "12.8", "12.1", "above_max"),     # GB10 sm_121: warn, not fail
    ("2.11.0+cu126", "12.6", "8.9", "compatible"),    # RTX 4090 runs the sm_86 cubins
    ("2.11.0+cu126", "12.6", "3.5", "too_old"),       # Kepler
    ("2.11.0+cu128", "12.8", "7.0", "too_old"),       # Volta dropped from cu128 in 2.11
    ("2.10.0+cu128", "12.8", "7.0", "exact"),
])
def test_arch_support(torch_v, cuda, cap, verdict):
    assert wheels.arch_support(cap, wheels.wheel_arch_list(torch_v, cuda))[0] == verdict


def test_ptx_only_is_jit():
    assert wheels.arch_support("12.1", ["sm_90", "compute_120"])[0] == "ptx"


def test_arch_specific_variants_give_no_compatibility():
    assert wheels.arch_support("9.0", ["sm_80", "sm_90a"])[0] == "missing"


@pytest.mark.parametrize("torch_cuda,driver_cuda,driver,verdict", [
    ("11.3", "11.2", "460.32.03", "minor_compat"),   # pytorch#77528: must NOT be flagged
    ("12.1", "11.4", "470.82.01", "too_old"),        # pytorch#112553
    ("12.4", "12.4", "550.54.15", "ok"),
    ("12.8", "12.2", "535.104.05", "minor_compat"),
    ("12.1", "12.0", "520.61.05", "too_old"),        # below the 12.x floor 525.60.13
    ("10.2", None, "410.104", "too_old"),            # no minor compat before CUDA 11
    ("13.0", "12.9", "575.51.03", "too_old"),
])
def test_driver_verdict(torch_cuda, driver_cuda, driver, verdict):
    assert wheels.driver_verdict(torch_cuda, driver_cuda, driver)[0] == verdict


def test_cuda_for_driver_from_table():
    assert wheels.cuda_for_driver("410.104") == "10.0"
    assert wheels.cuda_for_driver("550.54.15") == "12.4"
    assert wheels.cuda_for_driver("300.0") is None


def test_flavour_for_picks_a_wheel_that_covers_every_gpu():
    assert wheels.flavour_for(["12.0"], "12.8") == "12.8"
    assert wheels.flavour_for(["6.1"], "13.0") == "12.6"          # Pascal: only cu126 still ships it
    assert wheels.flavour_for(["6.1", "12.0"], "12.8") is None    # no one wheel has both
    assert wheels.flavour_for(["8.6"], "12.4") == "12.8"          # minor-version compatibility
    assert wheels.flavour_for(["8.6"], "11.8") is None
    assert "whl/cu128" in wheels.install_command("12.8")


@pytest.mark.parametrize("name,cap", [
    ("NVIDIA GeForce RTX 5090 D", "12.0"), ("NVIDIA GeForce RTX 4070 Laptop GPU", "8.9"),
    ("NVIDIA H100 PCIe", "9.0"), ("A100-PCIE-40GB", "8.0"), ("NVIDIA A10G", "8.6"),
    ("Tesla T4", "7.5"), ("Tesla V100S-PCIE-32GB", "7.0"), ("Tesla P100-PCIE-16GB", "6.0"),
    ("NVIDIA GeForce GTX 1050", "6.1"), ("GRID K520", "3.0"), ("NVIDIA GB10", "12.1"),
    ("NVIDIA L4", "8.9"), ("NVIDIA RTX A6000", "8.6"), ("Some Future GPU", None),
])
def test_capability_from_name(name, cap):
    assert wheels.capability_from_name(name) == cap

"""Every driver/wheel table entry at its boundary, against the published tables written out here.

Independent expectations:
* NVIDIA CUDA Toolkit release notes, Table 3 "CUDA Toolkit and Corresponding Driver Versions"
  (Linux x86_64, the GA row of each toolkit), https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/
* NVIDIA CUDA compatibility guide, minor-version compatibility floors (11.x >= 450.80.02,
  12.x >= 525.60.13, 13.x >= 580), https://docs.nvidia.com/deploy/cuda-compatibility/
* cuobjdump of the official PyTorch builds, https://github.com/moi90/pytorch_compute_capabilities
  (table.md), one row per (torch, CUDA) below.
"""

from __future__ import annotations

import pytest

from rigcheck.doctor import wheels

# (CUDA toolkit, minimum Linux driver of its GA release), NVIDIA Table 3.
NVIDIA_GA = [
    ("9.0", "384.81"), ("9.1", "390.46"), ("9.2", "396.26"), ("10.0", "410.48"),
    ("10.1", "418.39"), ("10.2", "440.33"), ("11.0", "450.51.05"), ("11.1", "455.23"),
    ("11.2", "460.27.03"), ("11.3", "465.19.01"), ("11.4", "470.42.01"), ("11.5", "495.29.05"),
    ("11.6", "510.39.01"), ("11.7", "515.43.04"), ("11.8", "520.61.05"), ("12.0", "525.60.13"),
    ("12.1", "530.30.02"), ("12.2", "535.54.03"), ("12.3", "545.23.06"), ("12.4", "550.54.14"),
    ("12.5", "555.42.02"), ("12.6", "560.28.03"), ("12.8", "570.26"), ("12.9", "575.51.03"),
    ("13.0", "580.65.06"), ("13.1", "590.44.01"), ("13.2", "595.45.04"),
]


def just_below(driver: str) -> str:
    """One step below a driver version in its last component ("570.26" -> "570.25")."""
    parts = driver.split(".")
    last = int(parts[-1])
    if last == 0:
        return ".".join([*parts[:-2], str(int(parts[-2]) - 1), "99"])
    return ".".join([*parts[:-1], f"{last - 1:0{len(parts[-1])}d}"])


def test_the_table_is_nvidias():
    assert wheels.MIN_DRIVER == dict(NVIDIA_GA)


@pytest.mark.parametrize("i", range(len(NVIDIA_GA)))
def test_cuda_for_driver_at_and_just_below_each_minimum(i):
    cuda, need = NVIDIA_GA[i]
    assert wheels.cuda_for_driver(need) == cuda                       # just inside
    previous = NVIDIA_GA[i - 1][0] if i else None
    assert wheels.cuda_for_driver(just_below(need)) == previous       # just past


@pytest.mark.parametrize("cuda,need", NVIDIA_GA)
def test_driver_verdict_at_each_minimum_is_ok(cuda, need):
    assert wheels.driver_verdict(cuda, None, need)[0] == "ok"


# Just below a toolkit's minimum: CUDA 11+ builds still run by minor-version compatibility when
# the driver is of the same major and above the floor; the first toolkit of a major and all
# pre-11 toolkits do not.
@pytest.mark.parametrize("cuda,need,expected", [
    ("10.0", "410.48", "too_old"), ("10.2", "440.33", "too_old"), ("11.0", "450.51.05", "too_old"),
    ("11.1", "455.23", "minor_compat"), ("11.8", "520.61.05", "minor_compat"),
    ("12.0", "525.60.13", "too_old"), ("12.1", "530.30.02", "minor_compat"),
    ("12.8", "570.26", "minor_compat"), ("12.9", "575.51.03", "minor_compat"),
    ("13.0", "580.65.06", "too_old"), ("13.1", "590.44.01", "minor_compat"),
])
def test_driver_verdict_just_below_each_minimum(cuda, need, expected):
    assert wheels.driver_verdict(cuda, None, just_below(need))[0] == expected


@pytest.mark.parametrize("torch_cuda,driver_cuda,driver,expected", [
    ("11.8", "11.0", "450.80.02", "minor_compat"), ("11.8", "11.0", "450.80.01", "too_old"),
    ("12.4", "12.0", "525.60.13", "minor_compat"), ("12.4", "12.0", "525.60.12", "too_old"),
    ("13.1", "13.0", "580.65.06", "minor_compat"), ("13.1", "13.0", "579.99", "too_old"),
    ("12.4", "12.4", "550.54.14", "ok"), ("12.4", "12.5", "555.42.02", "ok"),
    ("12.4", "13.0", "580.65.06", "ok"), ("12.4", "11.8", "520.61.05", "too_old"),
    ("12.4", None, None, "unknown"), ("cpu", "12.4", "550.54.14", "unknown"),
])
def test_minor_version_compatibility_floors(torch_cuda, driver_cuda, driver, expected):
    assert wheels.driver_verdict(torch_cuda, driver_cuda, driver)[0] == expected


# (torch, CUDA build) -> the SASS arches cuobjdump found in the official build (moi90 table.md).
PUBLISHED_ARCHES = {
    ("1.12.1", "11.6"): ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86"],
    ("1.12.1", "11.3"): ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86"],
    ("1.12.1", "10.2"): ["sm_35", "sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75"],
    ("2.5.1", "12.4"): ["sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.5.1", "12.1"): ["sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.5.1", "11.8"): ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86",
                        "sm_90"],
    ("2.6.0", "12.6"): ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.6.0", "12.4"): ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.6.0", "11.8"): ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.7.0", "12.8"): ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"],
    ("2.7.0", "12.6"): ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.7.0", "11.8"): ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
}


def cap(arch: str) -> str:
    digits = arch.removeprefix("sm_")
    return f"{digits[:-1]}.{digits[-1]}"


@pytest.mark.parametrize("build", sorted(PUBLISHED_ARCHES))
def test_wheel_arch_list_is_the_published_one(build):
    assert sorted(wheels.wheel_arch_list(*build)) == sorted(PUBLISHED_ARCHES[build])


CASES = [(b, cap(a)) for b, arches in sorted(PUBLISHED_ARCHES.items()) for a in arches]


@pytest.mark.parametrize("build,capability", CASES)
def test_every_published_arch_is_exact(build, capability):
    assert wheels.arch_support(capability, wheels.wheel_arch_list(*build))[0] == "exact"


# Just past each build's range: one capability below its oldest arch is too old; a minor the
# build lacks under a major it has runs the lower cubin; a major it lacks entirely does not run.
@pytest.mark.parametrize("build,capability,expected", [
    (("1.12.1", "10.2"), "3.0", "too_old"), (("1.12.1", "10.2"), "3.5", "exact"),
    (("1.12.1", "11.3"), "3.5", "too_old"),
    (("1.12.1", "11.3"), "9.0", "missing"), (("2.5.1", "11.8"), "3.5", "too_old"),
    (("2.5.1", "11.8"), "9.0", "exact"), (("2.5.1", "12.4"), "3.7", "too_old"),
    (("2.6.0", "12.4"), "6.1", "compatible"), (("2.6.0", "11.8"), "6.1", "compatible"),
    (("2.6.0", "12.6"), "10.0", "missing"), (("2.6.0", "12.6"), "12.0", "missing"),
    (("2.7.0", "12.8"), "7.0", "too_old"), (("2.7.0", "12.8"), "7.5", "exact"),
    (("2.7.0", "12.8"), "8.9", "compatible"), (("2.7.0", "12.8"), "10.3", "compatible"),
    (("2.7.0", "12.8"), "11.0", "missing"), (("2.7.0", "12.8"), "12.1", "above_max"),
    (("2.7.0", "12.6"), "5.0", "exact"), (("2.7.0", "12.6"), "3.7", "too_old"),
])
def test_just_past_each_builds_range(build, capability, expected):
    assert wheels.arch_support(capability, wheels.wheel_arch_list(*build))[0] == expected


def test_unknown_build_and_garbage_capability():
    assert wheels.wheel_arch_list("2.7.0", None) is None
    assert wheels.wheel_arch_list("2.7.0", "7.5") is None       # no such CUDA flavour
    assert wheels.arch_support("x.y", ["sm_80"])[0] == "unknown"
    assert wheels.parse_capability(" 8.6 ") == (8, 6) and wheels.parse_capability("9") == (9, 0)
    assert wheels.parse_capability("8.6.1") is None and wheels.parse_capability(None) is None


# ---- the rules between the table entries ----------------------------------------------------

def test_ptx_at_or_below_the_device_is_jit_and_a_ptx_newest_is_not_above_max():
    assert wheels.arch_support("9.0", ["sm_75", "compute_90"])[0] == "ptx"        # equal PTX JITs
    assert wheels.arch_support("8.6", ["sm_80", "compute_86"])[0] == "compatible"
    assert wheels.arch_support("8.0", [])[0] == "missing"                           # empty build


def test_flavour_for_one_capability_string_and_no_driver():
    assert wheels.flavour_for("12.0", "12.8") == "12.8"
    assert wheels.flavour_for(["8.6"]) == "13.0"          # cu130 ships Turing..Blackwell


def test_install_command_without_a_flavour_is_the_cpu_build():
    cmd = wheels.install_command(None)
    assert cmd.startswith("pip install torch") and "CPU build" in cmd
    assert wheels.install_command("12.6").endswith("/whl/cu126")


@pytest.mark.parametrize("text,parts", [
    ("550.54.15", (550, 54, 15)), (None, ()), ("", ()),
    ("123456789.1", (123456789, 1)), ("1234567890.1", (1,)),   # 10+ digits are not a version part
])
def test_version_tuple(text, parts):
    assert wheels.version_tuple(text) == parts


def test_cap_tuple_refuses_garbage():
    with pytest.raises(ValueError, match="not a version"):
        wheels._cap_tuple("abc")


def test_the_driver_reported_cuda_wins_over_the_table():
    # NVML's CUDA version is the driver's own word; the table is only for when it is missing.
    assert wheels.driver_verdict("12.4", "12.4", "535.54.03")[0] == "ok"
    assert wheels.driver_verdict("12.4", None, "535.54.03")[0] == "minor_compat"
    assert wheels.driver_verdict("12.4", "12.0", None)[0] == "minor_compat"


def test_verdict_messages_name_the_driver_needed():
    assert ">= 525.60.13 is needed for CUDA 12.x" in wheels.driver_verdict("12.1", "11.4", None)[1]
    assert ">= 440.33 is needed for CUDA 10.x" in wheels.driver_verdict("10.2", "9.2", None)[1]
    assert wheels.driver_verdict("12.8", "12.2", "535.104.05")[1].endswith(">= 525.60.13")
    assert "needs driver >= 440.33" in wheels.driver_verdict("10.2", "10.1", "418.39")[1]


def test_capability_from_no_name():
    assert wheels.capability_from_name(None) is None and wheels.capability_from_name("") is None

"""rigcheck.probe.importers: pasted collect_env / nvidia-smi / nvidia-smi -q text and facts JSON.

Values asserted per fixture were read off the pasted text by hand (tests/fixtures/pastes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rigcheck.facts import Facts, FactsError, GpuFacts, NvmlFacts, to_json
from rigcheck.probe.import_collect_env import (
    cuda_from_driver_int,
    cuda_from_wheel_tag,
    cudnn_int,
    parse_collect_env,
)
from rigcheck.probe.import_nvidia_smi import parse_nvidia_smi, parse_nvidia_smi_q
from rigcheck.probe.importers import clean_paste, detect_format, load_facts_file, parse_text

PASTES = Path(__file__).parent / "fixtures" / "pastes"


def get(facts: Facts, path: str):
    """'torch.version', 'nvml.gpus[1].name', 'host.cpu_flags.avx2' -> the value."""
    obj = facts
    for part in path.split("."):
        m = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        if m:
            obj = getattr(obj, m.group(1))[int(m.group(2))]
        elif isinstance(obj, dict):
            obj = obj[part]
        else:
            obj = getattr(obj, part)
    return obj


EXPECTED: dict[str, dict[str, object]] = {
    "ce_cpu_only_win_rtx3060_pt1121_conda.txt": {
        "origin": "collect_env", "torch.version": "1.12.1", "torch.cuda_build": None,
        "torch.cuda_available": False, "nvml.driver_version": "512.78", "nvml.gpu_count": 1,
        "nvml.gpus[0].name": "NVIDIA GeForce RTX 3060 Laptop GPU", "host.os": "Microsoft Windows 11 Enterprise",
        "host.wsl": False, "python.version": "3.9.13", "python.nvcc_version": "11.6",
        "torch.numpy_version": "1.21.5", "python.conda_packages.cudatoolkit": "11.3.1",
        "torch.devices": [],
    },
    "ce_cpu_only_win_rtx4080_pt222.txt": {
        "torch.version": "2.2.2", "torch.cuda_build": None, "torch.cuda_available": False,
        "nvml.gpus[0].name": "NVIDIA GeForce RTX 4080 Laptop GPU", "nvml.driver_version": "551.86",
        "host.cpu_model": "13th Gen Intel(R) Core(TM) i9-13980HX", "host.cpu_vendor": "GenuineIntel",
        "host.cpu_flags": None, "python.version": "3.10.13", "torch.numpy_version": "1.26.4",
        "python.conda_packages.cudatoolkit": "11.8.0",
    },
    "ce_cpuonly_conda_p5000_pt140.txt": {
        "torch.version": "1.4.0", "torch.cuda_build": None, "torch.cuda_available": False,
        "nvml.gpu_count": 2, "nvml.gpus[1].name": "Quadro P5000", "nvml.driver_version": "450.51.06",
        "python.conda_packages.cpuonly": "1.0", "python.conda_packages.pytorch": "1.4.0",
        "host.os": "CentOS Linux 7 (Core)", "python.version": "3.8", "python.nvcc_version": None,
    },
    "ce_cpu_only_2080ti_pt131_indented.txt": {
        "torch.version": "1.3.1", "torch.cuda_build": None, "torch.cuda_available": False,
        "nvml.gpus[0].name": "GeForce RTX 2080 Ti", "nvml.driver_version": "430.64",
        "torch.cudnn_version": 7605, "python.nvcc_version": "10.1", "torch.numpy_version": "1.19.1",
    },
    "ce_cpu_only_2x3090_pt211.txt": {
        "torch.version": "2.1.1", "torch.cuda_build": None, "nvml.gpu_count": 2,
        "nvml.driver_version": "525.147.05", "torch.cudnn_version": 8800, "host.glibc": "2.35",
        "host.kernel": "6.2.0-36-generic", "host.arch": "x86_64", "host.hostname": None,
    },
    "ce_cpu_only_source_build_rtx4080.txt": {
        "torch.version": "2.0.0a0+git7f2b5ea", "torch.cuda_build": None, "torch.cuda_available": False,
        "nvml.gpus[0].name": "NVIDIA GeForce RTX 4080", "nvml.driver_version": "525.60.11",
        "python.conda_packages.magma-cuda116": "2.6.1", "torch.numpy_version": "1.24.1",
    },
    "ce_driver_too_old_gke_pt210_cu121.txt": {
        "torch.version": "2.1.0+cu121", "torch.cuda_build": "12.1",
        "nvml.cuda_driver_version": "11.4",        # from "found version 11040"
        "torch.cuda_available": False,             # inferred: the warning comes from is_available()
        "host.kernel": "5.15.107+", "host.glibc": "2.31", "python.version": "3.11.6",
        "nvml.gpus": [],
    },
    "ce_driver_too_old_a100_pt210.txt": {
        "torch.version": "2.1.0", "torch.cuda_build": "12.1", "torch.cuda_available": False,
        "nvml.driver_version": "460.32.03", "nvml.gpus[0].name": "A100-PCIE-40GB",
        "host.cpu_model": "AMD EPYC 7302 16-Core Processor", "host.cpu_vendor": "AuthenticAMD",
        "host.threads": 64, "host.cores_physical": 32, "host.glibc": "2.27",
        "host.kernel": "4.18.0-18-generic",
    },
    "ce_driver_too_old_t4_pt130_conda.txt": {
        "torch.version": "1.3.0", "torch.cuda_build": "10.1", "torch.cuda_available": False,
        "nvml.driver_version": "410.104", "nvml.gpus[0].name": "Tesla T4",
        "python.nvcc_version": "10.0", "python.conda_packages.pytorch": "1.3.0",
        "torch.numpy_version": "1.15.1", "host.os": "Debian GNU/Linux 9.11 (stretch)",
    },
    "ce_driver_too_old_p100_pt150_fullwidth.txt": {
        "torch.version": "1.5.0", "torch.cuda_build": "10.2", "torch.cuda_available": False,
        "nvml.gpu_count": 4, "nvml.gpus[3].name": "Tesla P100-PCIE-16GB",
        "nvml.driver_version": "410.104", "torch.cudnn_version": 7605, "host.os": "Ubuntu 18.04.3 LTS",
    },
    "ce_blackwell_5090d_pt260_cu126.txt": {
        "torch.version": "2.6.0+cu126", "torch.cuda_build": "12.6", "torch.cuda_available": True,
        "torch.arch_list": ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
        "nvml.gpus[0].name": "NVIDIA GeForce RTX 5090 D", "nvml.gpus[0].compute_capability": "12.0",
        "torch.devices[0].capability": "12.0", "torch.device_count": 1,
        "nvml.driver_version": "570.124.04", "torch.cudnn_version": 90800,
        "python.env.CUDA_MODULE_LOADING": "LAZY", "host.glibc": "2.40",
    },
    "ce_h100_pt201_cu117.txt": {
        "torch.version": "2.0.1+cu117", "torch.cuda_build": "11.7", "torch.cuda_available": True,
        "torch.arch_list": ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"],
        "nvml.gpus[0].compute_capability": "9.0", "nvml.driver_version": "535.104.12",
        "python.nvcc_version": "12.2", "torch.cudnn_version": None,
    },
    "ce_healthy_rtx4090_pt200_zh_lscpu.txt": {
        "torch.version": "2.0.0", "torch.cuda_build": "11.7", "torch.cuda_available": True,
        "torch.devices[0].name": "NVIDIA GeForce RTX 4090", "torch.cudnn_version": 8005,
        "nvml.driver_version": "530.30.02", "host.arch": "x86_64",
    },
    "ce_healthy_wsl2_rtx4070_pt240.txt": {
        "torch.version": "2.4.0+cu121", "torch.cuda_build": "12.1", "torch.cuda_available": True,
        "host.wsl": True, "host.kernel": "5.15.153.1-microsoft-standard-WSL2",
        "nvml.driver_version": "551.88", "host.threads": 32, "python.nvcc_version": "12.4",
        "host.cpu_model": "13th Gen Intel(R) Core(TM) i9-13950HX",
    },
    "ce_rocm_source_pt170a0.txt": {
        "torch.version": "1.7.0a0+9ddd3df", "torch.cuda_build": None, "torch.hip_build": "3.7",
        "torch.cuda_available": True, "torch.devices[0].name": "Device 66a1", "nvml.gpus": [],
        "torch.numpy_version": "1.18.5", "python.version": "3.6",
    },
    "ce_rocm_rx5700xt_pt270_nightly.txt": {
        "torch.version": "2.7.0.dev20250123+rocm6.3", "torch.hip_build": "6.3",
        "torch.cuda_build": None, "torch.devices[0].name": "AMD Radeon RX 5700 XT (gfx1010:xnack-)",
        "host.os": "Gentoo Linux", "host.kernel": "6.7.7-gentoo-dist",
    },
    "ce_minor_compat_vllm_pt211_cu129_drv550.txt": {
        "torch.version": "2.11.0+cu129", "torch.cuda_build": "12.9", "torch.cuda_available": True,
        "nvml.driver_version": "550.163.01", "nvml.gpus[0].name": "NVIDIA GeForce RTX 4090",
        "python.nvcc_version": "12.0", "host.os": "Ubuntu 24.04.3 LTS", "host.glibc": "2.39",
        "python.version": "3.12.3", "python.env": {}, "torch.cudnn_version": None,
    },
    "mixed_colab_t4_cu113_driver_cuda112.txt": {
        "origin": "nvidia-smi", "nvml.driver_version": "460.32.03",
        "nvml.cuda_driver_version": "11.2", "torch.version": "1.11.0+cu113", "torch.cuda_build": "11.3",
    },
    "smi_grid_k520_418_2019.txt": {
        "origin": "nvidia-smi", "nvml.driver_version": "418.87.00", "nvml.cuda_driver_version": "10.1",
        "nvml.gpus[0].name": "GRID K520", "nvml.gpus[0].persistence_mode": True,
        "nvml.gpus[0].temperature_c": 30.0, "nvml.gpus[0].power_draw_w": 17.0,
        "nvml.gpus[0].power_limit_w": 125.0, "nvml.gpus[0].memory_used_mib": 46.0,
        "nvml.gpus[0].memory_total_mib": 4037.0, "nvml.gpus[0].utilization_gpu_pct": 0.0,
        "nvml.gpus[0].compute_mode": "Default", "nvml.gpus[0].ecc_mode_current": None,
        "nvml.gpus[0].processes[0].pid": 8351, "nvml.gpus[0].processes[0].name": "python3.6",
        "nvml.gpus[0].processes[0].used_mib": 35.0, "nvml.gpus[0].pci_bus_id": "00000000:00:03.0",
    },
    "smi_rtx5090_busy_570.txt": {
        "nvml.driver_version": "570.172.08", "nvml.cuda_driver_version": "12.8",
        "nvml.gpus[0].utilization_gpu_pct": 99.0, "nvml.gpus[0].power_draw_w": 512.0,
        "nvml.gpus[0].power_limit_w": 575.0, "nvml.gpus[0].temperature_c": 71.0,
        "nvml.gpus[0].fan_pct": 0.0, "nvml.gpus[0].persistence_mode": True,
        "nvml.gpus[0].mig_mode_current": None, "nvml.gpus[0].processes": None,
    },
    "smi_wsl2_rtx3090_516.txt": {
        "nvml.driver_version": "516.94", "nvml.cuda_driver_version": "11.6",
        "nvml.gpus[0].name": "NVIDIA GeForce ...", "nvml.gpus[0].memory_total_mib": 24576.0,
        "nvml.gpus[0].display_active": True, "nvml.gpus[0].fan_pct": 69.0,
        "host.wsl": True,     # NVIDIA-SMI 515.65.01 vs Driver Version 516.94
    },
    "smi_2x4090_550.txt": {
        "nvml.gpu_count": 2, "nvml.gpus[1].pci_bus_id": "00000000:4F:00.0",
        "nvml.gpus[1].memory_used_mib": 459.0, "nvml.gpus[0].ecc_mode_current": False,
        "nvml.gpus[0].persistence_mode": False, "nvml.cuda_driver_version": "12.4",
    },
    "smi_kmd_610_2x5090.txt": {
        "nvml.driver_version": "610.57.04", "nvml.cuda_driver_version": "13.3", "nvml.gpu_count": 2,
        "nvml.gpus[1].display_active": True, "nvml.gpus[1].power_limit_w": 600.0,
    },
    "smi_windows_wddm_gtx1050_461.txt": {
        "nvml.driver_version": "461.72", "nvml.cuda_driver_version": "11.2",
        "nvml.gpus[0].persistence_mode": None, "nvml.gpus[0].power_draw_w": None,
        "host.wsl": None,
        "nvml.gpus[0].temperature_c": 61.0, "nvml.gpus[0].memory_total_mib": 4096.0,
    },
    "smi_v100s_ecc_450.txt": {
        "nvml.gpus[0].ecc_mode_current": True, "nvml.gpus[0].ecc_uncorrected_volatile": 0,
        "nvml.gpus[0].power_draw_w": 219.0, "nvml.gpus[0].utilization_gpu_pct": 100.0,
    },
    "smi_failed_after_kernel_upgrade_gcp.txt": {
        "origin": "nvidia-smi", "nvml.available": False, "nvml.gpus": [],
        "driver.nvidia_smi_ok": False, "driver.nvidia_smi_path": "nvidia-smi",
        "driver.nvidia_smi_error": "NVIDIA-SMI has failed because it couldn't communicate with the "
                                   "NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    },
    "smi_failed_modprobe_not_found.txt": {
        "nvml.available": False, "driver.nvidia_smi_ok": False, "driver.modules": None,
    },
    "smi_failed_nvml_mismatch.txt": {
        "nvml.available": False, "driver.kernel_module_version": "520.56.06",
        "driver.nvidia_smi_error": "Failed to initialize NVML: Driver/library version mismatch",
        "driver.proc_version": "NVRM version: NVIDIA UNIX x86_64 Kernel Module  520.56.06  "
                               "Thu Oct  6 21:38:55 UTC 2022",
    },
    "smiq_titanxp_450.txt": {
        "origin": "nvidia-smi-q", "nvml.driver_version": "450.51.06", "nvml.cuda_driver_version": "11.0",
        "nvml.gpu_count": 1, "nvml.gpus[0].name": "TITAN Xp", "nvml.gpus[0].persistence_mode": True,
        "nvml.gpus[0].display_active": True, "nvml.gpus[0].pci_bus_id": "00000000:41:00.0",
        "nvml.gpus[0].serial": "REDACTED", "nvml.gpus[0].uuid": "REDACTED",
        "nvml.gpus[0].mig_mode_current": None, "redacted": True,
    },
    "smiq_maxwell_p2_x8_fragment.txt": {
        "origin": "nvidia-smi-q", "nvml.gpus[0].pcie_gen_max": 2, "nvml.gpus[0].pcie_gen_current": 2,
        "nvml.gpus[0].pcie_width_max": 16, "nvml.gpus[0].pcie_width_current": 8,
        "nvml.gpus[0].throttle_reasons": ["Unknown"], "nvml.gpus[0].memory_total_mib": 6143.0,
        "nvml.gpus[0].utilization_gpu_pct": 100.0, "nvml.gpus[0].fan_pct": 0.0,
    },
    "smiq_dcgm_exporter_16_fragment.txt": {
        "origin": "nvidia-smi-q", "nvml.gpus[0].retired_pages_sbe": 0, "nvml.gpus[0].retired_pages_dbe": 0,
        "nvml.gpus[0].retired_pages_pending": False, "nvml.gpus[0].remapped_rows_pending": None,
        "nvml.gpus[0].temperature_c": 24.0, "nvml.gpus[0].temperature_slowdown_c": 82.0,
        "nvml.gpus[0].power_draw_w": 25.33, "nvml.gpus[0].power_limit_w": 250.0,
        "nvml.gpus[0].power_default_limit_w": 250.0, "nvml.gpus[0].power_max_limit_w": None,
        # The orphan "Double Bit" block may be volatile or aggregate: not guessed.
        "nvml.gpus[0].ecc_uncorrected_volatile": None,
        "nvml.gpus[0].field_errors.remapped_rows_pending": "N/A in nvidia-smi -q: no row remapping on this GPU",
    },
    "nvjitlink_undefined_symbol_nightly_pip_list.txt": {
        "origin": "paste", "torch.version": "2.5.0.dev20240720+cu124", "torch.cuda_build": "12.4",
        "nvml.driver_version": "550.90.07", "driver.kernel_module_version": "550.90.07",
    },
    "nccl_shm_fallocate_docker_2080.txt": {"origin": "paste", "host.container": "docker"},
    "smiq_docker_1090_fragment.txt": {
        "nvml.gpus[0].pcie_gen_current": 1, "nvml.gpus[0].pcie_gen_max": None,
        "nvml.gpus[0].pcie_width_current": 16, "nvml.gpus[0].throttle_reasons": [],
        "nvml.gpus[0].memory_used_mib": 523.0, "nvml.gpus[0].fan_pct": None,
    },
}


def test_every_fixture_has_expected_values() -> None:
    """Every structured-report fixture (collect_env, nvidia-smi); the free-text pastes are
    pinned by their diagnoses (test_pastes_diagnosis) and a few values below."""
    structured = {p.name for p in PASTES.glob("*.txt") if p.name.startswith(("ce_", "smi", "mixed_colab"))}
    assert structured <= set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_values(name: str) -> None:
    facts = load_facts_file(PASTES / name)
    wrong = {}
    for path, want in EXPECTED[name].items():
        got = get(facts, path)
        if isinstance(want, list) and want and not isinstance(want[0], str):
            got = list(got)
        if got != want:
            wrong[path] = (got, want)
    assert not wrong, f"{name}: (got, want) {wrong}"
    assert facts.origin_note == name      # the file name only: a path can carry a user name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_lists_what_it_could_not_tell(name: str) -> None:
    facts = load_facts_file(PASTES / name)
    nc = facts.not_collected
    assert nc, name
    if facts.origin == "collect_env":
        # A collect_env paste never has ECC, PCIe, disks, /dev/shm, the kernel driver or env.
        for key in ("ecc_uncorrected_volatile", "pcie_gen_current", "disks", "shm_total_gb",
                    "driver", "env", "ram_total_gb"):
            assert "collect_env" in nc[key], (key, nc.get(key))
    elif facts.origin == "paste":
        for key in ("driver", "env", "disks", "shm_total_gb", "ecc_uncorrected_volatile"):
            assert "not in this paste" in nc[key], (key, nc.get(key))
    else:
        for key in ("host", "python", "env", "driver", "loaded_libs", "modules", "disks"):
            assert "nvidia-smi" in nc[key], (key, nc.get(key))
        if facts.torch.version is None:
            assert "nvidia-smi" in nc["torch"]
    # Nothing the paste did give is claimed as missing.
    for g in facts.nvml.gpus:
        for field in ("memory_total_mib", "pcie_gen_current", "temperature_c", "name",
                      "compute_capability"):
            if getattr(g, field) is not None:
                assert field not in nc, (field, nc[field])


def test_cut_paste_says_so_instead_of_claiming_no_gpu() -> None:
    """pytorch/pytorch#112553's paste ends before the GPU lines: unknown, not 'no GPU'."""
    facts = load_facts_file(PASTES / "ce_driver_too_old_gke_pt210_cu121.txt")
    assert facts.nvml.available is False and facts.nvml.gpus == []
    assert "lacks it" in facts.not_collected["gpus"]
    assert "too old" in facts.torch.cuda_init_error


def test_cudnn_lists_with_several_versions_are_not_guessed() -> None:
    text = (PASTES / "ce_cpu_only_2080ti_pt131_indented.txt").read_text()
    text = text.replace("/usr/local/cuda-10.1/targets/x86_64-linux/lib/libcudnn.so.7.6.5",
                        "/usr/local/cuda-11.0/targets/x86_64-linux/lib/libcudnn.so.8.0.2")
    facts = parse_text(text)
    assert facts.torch.cudnn_version is None
    assert "7.6.5, 8.0.2" in facts.not_collected["cudnn_version"]


def test_windows_cudnn_dll_gives_only_a_major() -> None:
    text = (PASTES / "ce_cpu_only_win_rtx3060_pt1121_conda.txt").read_text().replace(
        "cuDNN version: Could not collect",
        r"cuDNN version: C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA\v11.7\bin\cudnn_ops_train64_8.dll")
    facts = parse_text(text)
    assert facts.torch.cudnn_version is None
    assert "major version (8)" in facts.not_collected["cudnn_version"]


def test_cpu_flags_from_lscpu_flags_line() -> None:
    text = (PASTES / "ce_driver_too_old_a100_pt210.txt").read_text().rstrip("\n") + (
        "\nFlags:               fpu vme de pse tsc msr sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2\n")
    facts = parse_text(text)
    assert facts.host.cpu_flags == {"avx": True, "avx2": True, "fma": True, "f16c": True,
                                    "avx512f": False, "avx512_bf16": False, "avx512_vnni": False,
                                    "amx_tile": False, "amx_bf16": False, "sse4_2": True}
    assert "cpu_flags" not in facts.not_collected


def test_pip_and_wheels_lines() -> None:
    text = (PASTES / "ce_h100_pt201_cu117.txt").read_text().rstrip("\n") + (
        "\n\nVersions of relevant libraries:\n[pip3] numpy==1.26.0\n"
        "[pip3] nvidia-cudnn-cu11==8.5.0.96\n[pip3] torch==2.0.1+cu117\n[conda] No relevant packages\n")
    facts = parse_text(text)
    assert facts.torch.numpy_version == "1.26.0"
    assert facts.torch.nvidia_wheels == {"nvidia-cudnn-cu11": "8.5.0.96"}
    assert facts.python.conda_packages is None


# ---- cleaning and detection ------------------------------------------------------------------

def test_crlf_blockquote_and_details_are_cleaned() -> None:
    raw = (PASTES / "ce_cpuonly_conda_p5000_pt140.txt").read_text()
    wrapped = "<details><summary>env</summary>\r\n\r\n" + "\r\n".join(
        "> " + ln for ln in raw.split("\n")) + "\r\n</details>\r\nThanks for any help!\r\n"
    a, b = parse_text(raw), parse_text(wrapped)
    assert (b.torch.version, b.nvml.gpu_count, b.python.conda_packages) == (
        a.torch.version, a.nvml.gpu_count, a.python.conda_packages)
    assert "\r" not in clean_paste(wrapped) and "```" not in clean_paste(wrapped)


def test_utf16_from_powershell_redirect(tmp_path: Path) -> None:
    src = (PASTES / "ce_cpu_only_win_rtx4080_pt222.txt").read_text()
    p = tmp_path / "env.txt"
    p.write_bytes(src.replace("\n", "\r\n").encode("utf-16"))     # BOM + UTF-16LE, as `>` writes
    facts = load_facts_file(p)
    assert facts.torch.version == "2.2.2" and facts.nvml.gpus[0].name.endswith("4080 Laptop GPU")


@pytest.mark.parametrize(("name", "kind"), [
    ("ce_h100_pt201_cu117.txt", "collect_env"),
    ("ce_rocm_rx5700xt_pt270_nightly.txt", "collect_env"),
    ("ce_minor_compat_vllm_pt211_cu129_drv550.txt", "collect_env"),
    ("ce_driver_too_old_p100_pt150_fullwidth.txt", "collect_env"),
    ("smi_grid_k520_418_2019.txt", "nvidia-smi"),
    ("smi_kmd_610_2x5090.txt", "nvidia-smi"),
    ("mixed_colab_t4_cu113_driver_cuda112.txt", "nvidia-smi"),
    ("smiq_titanxp_450.txt", "nvidia-smi-q"),
    ("smi_failed_nvml_mismatch.txt", "nvidia-smi"),
    ("smiq_maxwell_p2_x8_fragment.txt", "nvidia-smi-q"),
])
def test_detect_format(name: str, kind: str) -> None:
    assert detect_format(clean_paste((PASTES / name).read_text())) == kind


def test_collect_env_with_nvidia_smi_in_the_same_paste_merges_gpu_facts() -> None:
    text = ((PASTES / "ce_healthy_rtx4090_pt200_zh_lscpu.txt").read_text()
            + "\n" + (PASTES / "smi_2x4090_550.txt").read_text())
    facts = parse_text(text)
    assert facts.origin == "collect_env"
    assert facts.nvml.cuda_driver_version == "12.4"
    assert facts.nvml.gpus[0].memory_total_mib == 24564.0
    assert facts.nvml.gpu_count == 2
    assert "memory_total_mib" not in facts.not_collected
    assert "cuda_driver_version" not in facts.not_collected


def test_rigcheck_json_round_trip(tmp_path: Path) -> None:
    facts = Facts(nvml=NvmlFacts(available=True, driver_version="550.54.15",
                                 gpus=[GpuFacts(index=0, name="NVIDIA H100 80GB HBM3")]))
    p = tmp_path / "f.json"
    p.write_text(to_json(facts))
    back = load_facts_file(p)
    assert back.origin == "probe" and back.nvml.gpus[0].name == "NVIDIA H100 80GB HBM3"


# ---- errors: one clear line naming the file and what is wrong -------------------------------

@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"   \n\n\t\n", "the file is empty"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00", "binary data"),
    (b'{"schema_version": 1, "nvml": {"available": tr', "truncated"),
    (b'{"nvml": {}}', "no schema_version"),
    (b'{"schema_version": 99}', "newer than this rigcheck"),
    (b"Traceback (most recent call last):\n  File x\nValueError: a bug of my own\n",
     "not a rigcheck facts file"),
    (b"hello world\n" * 50, "not a rigcheck facts file"),
])
def test_bad_files_raise_facts_error(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "facts.txt"
    p.write_bytes(content)
    with pytest.raises(FactsError) as exc:
        load_facts_file(p)
    text = str(exc.value)
    assert str(p) in text and message in text and "\n" not in text


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FactsError, match="no such file"):
        load_facts_file(tmp_path / "nope.json")
    with pytest.raises(FactsError, match="is a directory"):
        load_facts_file(tmp_path)


def test_truncated_nvidia_smi_is_still_read_and_says_what_is_missing() -> None:
    lines = (PASTES / "smi_grid_k520_418_2019.txt").read_text().split("\n")
    facts = parse_text("\n".join(lines[:4]))       # the header only
    assert facts.origin == "nvidia-smi" and facts.nvml.driver_version == "418.87.00"
    assert facts.nvml.gpus == [] and "no GPU rows" in facts.not_collected["gpus"]


def test_parser_bug_on_odd_input_is_a_facts_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import rigcheck.probe.import_nvidia_smi as smi

    def boom(text: str) -> Facts:
        raise IndexError("list index out of range")

    monkeypatch.setattr(smi, "parse_nvidia_smi_q", boom)
    with pytest.raises(FactsError, match=r"looks like nvidia-smi-q output but could not be read"):
        parse_text((PASTES / "smiq_titanxp_450.txt").read_text(), "x.txt")


# ---- small helpers -------------------------------------------------------------------------

@pytest.mark.parametrize(("version", "cuda"), [
    ("2.1.0+cu121", "12.1"), ("1.7.1+cu92", "9.2"), ("1.11.0+cu113", "11.3"),
    ("2.0.0+cpu", None), ("2.2.2", None), (None, None)])
def test_cuda_from_wheel_tag(version: str | None, cuda: str | None) -> None:
    assert cuda_from_wheel_tag(version) == cuda


def test_version_encodings() -> None:
    assert cuda_from_driver_int(11040) == "11.4" and cuda_from_driver_int(12020) == "12.2"
    assert cudnn_int(8, 9, 2) == 8902 and cudnn_int(9, 1, 0) == 90100 and cudnn_int(7, 6, 5) == 7605


def test_parsers_callable_directly() -> None:
    assert parse_collect_env("PyTorch version: N/A\nIs CUDA available: No\n").torch.installed is False
    assert parse_nvidia_smi("| NVIDIA-SMI 535.54.03   Driver Version: 535.54.03   CUDA Version: 12.2 |"
                            ).nvml.cuda_driver_version == "12.2"
    q = parse_nvidia_smi_q("==============NVSMI LOG==============\nDriver Version : 550.1\n"
                           "Attached GPUs : 1\nGPU 00000000:01:00.0\n    Product Name : X\n"
                           "    Remapped Rows\n        Correctable Error : 0\n"
                           "        Uncorrectable Error : 4\n        Pending : Yes\n"
                           "        Remapping Failure Occurred : No\n"
                           "    ECC Errors\n        Volatile\n            SRAM Correctable : 1\n"
                           "            SRAM Uncorrectable : 0\n            DRAM Correctable : 2\n"
                           "            DRAM Uncorrectable : 3\n")
    g = q.nvml.gpus[0]
    assert (g.remapped_rows_uncorrectable, g.remapped_rows_pending, g.remapped_rows_failure) == (4, True, False)
    assert (g.ecc_corrected_volatile, g.ecc_uncorrected_volatile) == (3, 3)


# ---- robustness: any cut of any real paste, and arbitrary text ------------------------------

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_cut_of_a_real_paste_reads_or_fails_cleanly(name: str) -> None:
    """Pastes arrive cut anywhere (GitHub's fold, a terminal's scrollback): every prefix either
    parses or raises FactsError, never anything else."""
    text = (PASTES / name).read_text()
    for end in range(0, len(text), 37):
        try:
            facts = parse_text(text[:end], "cut.txt")
        except FactsError as exc:
            assert "could not be read" not in str(exc), (end, str(exc))   # a parser bug
            continue
        assert facts.origin in ("collect_env", "nvidia-smi", "nvidia-smi-q", "paste")


def test_arbitrary_text_reads_or_fails_cleanly() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    pieces = st.sampled_from([
        "PyTorch version: ", "Is CUDA available: ", "GPU 0: ", "CUDA used to build PyTorch: ",
        "| NVIDIA-SMI 550.1 ", "Driver Version: ", "CUDA Version: ", "|", "MiB", " / ", "%",
        "==============NVSMI LOG==============", "    Product Name : ", "        Current : ",
        "[pip3] ", "[conda] ", "Could not collect", "N/A", "\n", "\r\n", "  ", ":", "：", "```"])
    text = st.lists(st.one_of(pieces, st.text(max_size=12)), max_size=40).map("".join)

    @hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
    @hypothesis.given(text)
    def run(t: str) -> None:
        try:
            parse_text(t, "fuzz.txt")
        except FactsError as exc:
            assert str(exc).startswith("fuzz.txt: ")
            assert "could not be read" not in str(exc), str(exc)   # a parser bug, not bad input

    run()


def test_gpu_lines_with_uuid_and_mig_devices() -> None:
    """Older collect_env printed nvidia-smi -L verbatim: UUIDs (dropped) and MIG devices."""
    text = (PASTES / "ce_h100_pt201_cu117.txt").read_text().replace(
        "GPU models and configuration: GPU 0: NVIDIA H100 PCIe",
        "GPU models and configuration: \nGPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-6f8a1b2c-aaaa-bbbb-cccc-123456789abc)\n"
        "  MIG 3g.40gb     Device  0: (UUID: MIG-0d9e2f3a-aaaa-bbbb-cccc-123456789abc)\n"
        "GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-7f8a1b2c-aaaa-bbbb-cccc-123456789abc)\n")
    facts = parse_text(text)
    assert [g.name for g in facts.nvml.gpus] == ["NVIDIA A100-SXM4-80GB"] * 2
    assert [g.mig_mode_current for g in facts.nvml.gpus] == [True, None]
    assert "GPU-" not in to_json(facts) and "MIG-" not in to_json(facts)


def test_two_gpus_in_nvidia_smi_q() -> None:
    text = (PASTES / "smiq_titanxp_450.txt").read_text()
    gpu = text[text.index("GPU 00000000:41:00.0"):]
    facts = parse_text(text.replace("Attached GPUs                             : 1",
                                    "Attached GPUs                             : 2")
                       + "\n" + gpu.replace("00000000:41:00.0", "00000000:42:00.0"))
    assert facts.nvml.gpu_count == 2
    assert [(g.index, g.pci_bus_id, g.name) for g in facts.nvml.gpus] == [
        (0, "00000000:41:00.0", "TITAN Xp"), (1, "00000000:42:00.0", "TITAN Xp")]


def test_capability_listed_as_not_collected_unless_a_warning_gave_it() -> None:
    assert "compute_capability" in load_facts_file(PASTES / "smi_2x4090_550.txt").not_collected
    assert "compute_capability" in load_facts_file(
        PASTES / "ce_healthy_wsl2_rtx4070_pt240.txt").not_collected
    assert "compute_capability" not in load_facts_file(
        PASTES / "ce_blackwell_5090d_pt260_cu126.txt").not_collected


def test_torch_not_importable_vs_cut_paste() -> None:
    not_importable = parse_text("Collecting environment information...\nPyTorch version: N/A\n"
                                "Is debug build: N/A\nCUDA used to build PyTorch: N/A\n")
    assert not_importable.torch.installed is False and not_importable.torch.version is None
    cut = parse_text("Is CUDA available: True\nNvidia driver version: 550.54.15\n"
                     "GPU models and configuration: GPU 0: NVIDIA L4\n")
    assert cut.torch.installed is None and cut.nvml.gpus[0].name == "NVIDIA L4"
    old = load_facts_file(PASTES / "ce_driver_too_old_p100_pt150_fullwidth.txt")   # "Version of"
    assert old.torch.numpy_version == "1.17.4"


def test_complete_processes_table_means_no_process_on_the_other_gpus() -> None:
    text = (PASTES / "smi_grid_k520_418_2019.txt").read_text()
    rows = text.split("\n")
    gpu1 = [r.replace("|   0  GRID K520", "|   1  GRID K520").replace("00:03.0", "00:04.0")
            for r in rows[7:10]]
    two = "\n".join(rows[:10] + gpu1 + rows[10:])
    facts = parse_text(two)
    assert facts.nvml.gpu_count == 2
    assert [len(g.processes) for g in facts.nvml.gpus] == [1, 0]
    assert "processes" not in facts.not_collected
    cut = parse_text("\n".join(rows[:-2]))       # closing border lost: the list may be partial
    assert "cut short" in cut.not_collected["processes"]


def test_nvidia_smi_q_sections_of_a_full_report() -> None:
    """The -q sections no stored paste shows whole (layout as R470-R550 print them)."""
    q = parse_nvidia_smi_q(
        "==============NVSMI LOG==============\nDriver Version : 535.54.03\nCUDA Version : 12.2\n"
        "Attached GPUs : 1\nGPU 00000000:17:00.0\n    Product Name : NVIDIA A100-SXM4-80GB\n"
        "    Clocks Event Reasons\n        Idle : Not Active\n        SW Power Cap : Active\n"
        "        HW Slowdown : Active\n            HW Thermal Slowdown : Active\n"
        "            HW Power Brake Slowdown : Not Active\n"
        "    ECC Errors\n        Volatile\n            SRAM Correctable : 0\n"
        "            SRAM Uncorrectable : 0\n            DRAM Correctable : 5\n"
        "            DRAM Uncorrectable : 1\n        Aggregate\n            SRAM Correctable : 0\n"
        "            SRAM Uncorrectable : 0\n            DRAM Correctable : 9\n"
        "            DRAM Uncorrectable : 2\n"
        "    GPU Power Readings\n        Power Draw : 398.20 W\n        Current Power Limit : 400.00 W\n"
        "        Default Power Limit : 400.00 W\n        Max Power Limit : 400.00 W\n"
        "    Module Power Readings\n        Max Power Limit : N/A\n"
        "    Clocks\n        Graphics : 1410 MHz\n        SM : 1410 MHz\n        Memory : 1593 MHz\n"
        "    Max Clocks\n        SM : 1410 MHz\n"
        "    Processes\n        GPU instance ID : N/A\n        Compute instance ID : N/A\n"
        "        Process ID : 4242\n            Type : C\n            Name : /home/alice/venv/bin/python\n"
        "            Used GPU Memory : 70000 MiB\n")
    g = q.nvml.gpus[0]
    assert g.throttle_reasons == ["SwPowerCap", "HwSlowdown", "HwThermalSlowdown"]
    assert (g.ecc_uncorrected_volatile, g.ecc_corrected_volatile, g.ecc_uncorrected_aggregate) == (1, 5, 2)
    assert (g.power_draw_w, g.power_limit_w, g.power_default_limit_w, g.power_max_limit_w) == (
        398.2, 400.0, 400.0, 400.0)      # the module's N/A does not overwrite the GPU's limit
    assert (g.sm_clock_mhz, g.sm_clock_max_mhz, g.mem_clock_mhz) == (1410.0, 1410.0, 1593.0)
    assert [(p.pid, p.name, p.used_mib, p.kind) for p in g.processes] == [
        (4242, "python", 70000.0, "compute")]     # the path (and its user name) dropped


def test_nvidia_smi_failure_messages_become_nvml_errors() -> None:
    f = load_facts_file(PASTES / "smi_failed_modprobe_not_found.txt")
    assert f.nvml.error.startswith("NVML_ERROR_DRIVER_NOT_LOADED: modprobe: FATAL: Module nvidia not found.")
    assert "nvidia-smi failed" in f.not_collected["gpus"]
    f = load_facts_file(PASTES / "smi_failed_nvml_mismatch.txt")
    assert f.nvml.error.startswith("NVML_ERROR_LIB_RM_VERSION_MISMATCH")


def test_one_digit_sm_in_a_warning_does_not_sink_the_paste() -> None:
    # "sm_5" is no real architecture, but a mangled warning line must not refuse the whole paste
    # (it was "could not be read (ValueError: invalid literal for int() ...)").
    facts = parse_text("PyTorch version: 2.1.0\nIs CUDA available: True\n"
                       "GeForce GTX 750 with CUDA capability sm_5 is not compatible with the "
                       "current PyTorch installation.\n"
                       "GeForce GTX 1080 with CUDA capability sm_61 is not compatible with the "
                       "current PyTorch installation.\n", "paste")
    assert facts.torch.version == "2.1.0"
    assert facts.torch.cuda_available is True

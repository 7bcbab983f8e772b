"""The check helpers' decisions at their boundaries (rigcheck/doctor/checks/_util.py).

The helpers decide when a check may judge at all (GPUs present, a field reported, torch a CUDA
build), what counts as a busy GPU (NVML utilisation >= 30% and not in the GpuIdle clock-event
state), which names are data-centre parts (NVIDIA's product names: Tesla, A100, H100, L4, T4...,
not GeForce/RTX/TITAN/Quadro), and which OS is Linux. Each test builds the facts by hand and
writes the expected value out.
"""

from __future__ import annotations

from rigcheck.doctor.checks._util import (
    env,
    env_known,
    gib,
    gpu_count,
    is_busy,
    is_datacenter,
    join,
    label,
    linux,
    live_gpus,
    need_field,
    need_gpus,
    no_gpu_reason,
    no_torch_reason,
    not_collected,
    per_gpu,
    total_gpu_memory_gb,
)
from rigcheck.facts import Facts, GpuFacts, TorchDevice, TorchFacts
from tests.doctor_factories import gpu, healthy

# --- not_collected / no_gpu_reason / need_gpus ---------------------------------------------

def test_not_collected_first_listed_key_wins():
    f = Facts(not_collected={"gpus": "B", "nvml": "A"})
    assert not_collected(f, "nvml", "gpus") == "A"
    assert not_collected(f, "gpus", "nvml") == "B"
    assert not_collected(f, "ecc") is None


def test_no_gpu_reason_none_when_nvml_has_gpus():
    assert no_gpu_reason(healthy()) is None
    assert need_gpus(healthy()) is None


def test_no_gpu_reason_gpus_without_nvml_are_not_enough():
    f = healthy()
    f.nvml.available = False
    assert no_gpu_reason(f) == "no GPU facts"


def test_no_gpu_reason_origin_reason_before_the_nvml_error():
    f = Facts(not_collected={"gpus": "not in a pip list paste"})
    f.nvml.error = "NVML_ERROR_DRIVER_NOT_LOADED"
    assert no_gpu_reason(f) == "not in a pip list paste"
    f.not_collected = {}
    assert no_gpu_reason(f) == "no GPU facts: NVML_ERROR_DRIVER_NOT_LOADED"


def test_no_gpu_reason_nvml_up_with_no_gpus():
    f = Facts()
    f.nvml.available = True
    assert no_gpu_reason(f) == "NVML found no GPUs"
    assert need_gpus(f).summary == "skipped: NVML found no GPUs"
    assert need_gpus(Facts()).status == "skip"


# --- live_gpus / per_gpu / label -----------------------------------------------------------

def test_live_gpus_drop_the_lost():
    f = healthy(3)
    f.nvml.gpus[1].lost = True
    assert [g.index for g in live_gpus(f)] == [0, 2]


def test_per_gpu_keeps_truthy_results_of_live_gpus():
    f = healthy(3)
    f.nvml.gpus[2].lost = True
    got = per_gpu(f, lambda g: "hot" if g.index != 1 else "")
    assert [(g.index, r) for g, r in got] == [(0, "hot")]


def test_label_with_and_without_a_name():
    assert label(GpuFacts(3, name="NVIDIA L4")) == "GPU 3 (NVIDIA L4)"
    assert label(GpuFacts(3)) == "GPU 3"


# --- need_field ----------------------------------------------------------------------------

def test_need_field_one_gpu_reporting_is_enough():
    f = healthy()
    f.nvml.gpus[0].compute_mode = None
    assert need_field(f, "compute_mode") is None


def test_need_field_a_lost_gpu_reporting_is_not_enough():
    f = healthy()
    f.nvml.gpus[0].compute_mode = None
    f.nvml.gpus[1].lost = True
    assert need_field(f, "compute_mode").summary == "skipped: compute_mode not reported for any GPU"


def test_need_field_zero_and_false_are_reported_values():
    f = healthy(1)
    f.nvml.gpus[0].ecc_uncorrected_volatile = 0
    f.nvml.gpus[0].mig_mode_current = False
    assert need_field(f, "ecc_uncorrected_volatile") is None
    assert need_field(f, "mig_mode_current") is None


def test_need_field_skips_when_there_are_no_gpus():
    assert need_field(Facts(), "compute_mode").summary == "skipped: no GPU facts"


def test_need_field_origin_reason_by_field_then_alias():
    f = healthy(1)
    f.nvml.gpus[0].ecc_mode_pending = None
    f.not_collected = {"ecc_mode": "a collect_env paste has no ECC"}
    assert need_field(f, "ecc_mode_pending", "ecc_mode").summary == "skipped: a collect_env paste has no ECC"
    f.not_collected = {"ecc_mode_pending": "first", "ecc_mode": "second"}
    assert need_field(f, "ecc_mode_pending", "ecc_mode").summary == "skipped: first"


def test_need_field_nvml_errors_sorted_and_deduplicated():
    f = healthy(3)
    for g, err in zip(f.nvml.gpus, ["NVML_ERROR_NOT_SUPPORTED", "NVML_ERROR_NO_PERMISSION",
                                    "NVML_ERROR_NOT_SUPPORTED"]):
        g.power_limit_w = None
        g.field_errors = {"power_limit_w": err}
    assert need_field(f, "power_limit_w").summary == \
        "skipped: power_limit_w not available: NVML_ERROR_NOT_SUPPORTED, NVML_ERROR_NO_PERMISSION"


def test_need_field_alias_error_when_the_field_has_none():
    f = healthy(1)
    f.nvml.gpus[0].mig_mode_current = None
    f.nvml.gpus[0].field_errors = {"mig_mode": "NVML_ERROR_NOT_SUPPORTED", "other": "X"}
    assert need_field(f, "mig_mode_current", "mig_mode").summary == \
        "skipped: mig_mode not available: NVML_ERROR_NOT_SUPPORTED"


def test_need_field_error_of_a_lost_gpu_is_not_the_reason():
    f = healthy(2)
    for g in f.nvml.gpus:
        g.compute_mode = None
    f.nvml.gpus[1].lost = True
    f.nvml.gpus[1].field_errors = {"compute_mode": "NVML_ERROR_GPU_IS_LOST"}
    assert need_field(f, "compute_mode").summary == "skipped: compute_mode not reported for any GPU"


def test_need_field_empty_error_text_is_no_reason():
    f = healthy(1)
    f.nvml.gpus[0].compute_mode = None
    f.nvml.gpus[0].field_errors = {"compute_mode": ""}
    assert need_field(f, "compute_mode").summary == "skipped: compute_mode not reported for any GPU"


# --- join / gib ----------------------------------------------------------------------------

def test_join_four_in_full_five_with_a_count():
    assert join(["a", "b", "c", "d"]) == "a; b; c; d"
    assert join(["a", "b", "c", "d", "e"]) == "a; b; c; d; and 1 more"
    assert join(["a", "b", "c"], limit=2) == "a; b; and 1 more"
    assert join(["a", "b"], limit=2) == "a; b"


def test_gib():
    assert gib(None) == "?"
    assert gib(1536.0) == "1.5 GiB"
    assert gib(0.0) == "0.0 GiB"


# --- env / env_known / gpu_count / total_gpu_memory_gb -------------------------------------

def test_env_reads_the_captured_environment():
    f = healthy()
    f.python.env = {"CUDA_VISIBLE_DEVICES": "0"}
    assert env(f, "CUDA_VISIBLE_DEVICES") == "0"
    assert env(f, "CUDA_DEVICE_ORDER") is None


def test_env_known_unless_the_origin_lacks_it_or_the_probe_failed():
    assert env_known(healthy()) is True
    for key in ("env", "python.env"):
        f = healthy()
        f.not_collected = {key: "a paste has no environment"}
        assert env_known(f) is False
    f = healthy()
    f.python.error = "timed out"
    assert env_known(f) is False


def test_gpu_count_prefers_nvml_count_even_zero():
    f = healthy(2)
    assert gpu_count(f) == 2
    f.nvml.gpu_count = 0
    assert gpu_count(f) == 0
    f.nvml.gpu_count = None
    assert gpu_count(f) == 2


def test_total_gpu_memory_from_nvml_then_torch():
    f = healthy(2)
    for g in f.nvml.gpus:
        g.memory_total_mib = 40960.0
    assert total_gpu_memory_gb(f) == 80.0
    f.nvml.gpus[1].memory_total_mib = None
    assert total_gpu_memory_gb(f) == 40.0
    for g in f.nvml.gpus:
        g.memory_total_mib = None
    f.torch.devices = [TorchDevice(0, "x", "9.0", 79.0), TorchDevice(1, "x", "9.0", 1.5),
                       TorchDevice(2, "x", "9.0", None)]
    assert total_gpu_memory_gb(f) == 80.5
    f.torch.devices = []
    assert total_gpu_memory_gb(f) is None


# --- is_busy -------------------------------------------------------------------------------

def test_busy_at_30_percent_not_at_29():
    assert is_busy(gpu(0, throttle_reasons=[], utilization_gpu_pct=30.0)) is True
    assert is_busy(gpu(0, throttle_reasons=[], utilization_gpu_pct=29.9)) is False


def test_busy_idle_state_wins_over_utilisation():
    assert is_busy(gpu(0, throttle_reasons=["GpuIdle"], utilization_gpu_pct=90.0)) is False
    assert is_busy(gpu(0, throttle_reasons=["SwPowerCap"], utilization_gpu_pct=90.0)) is True
    assert is_busy(gpu(0, throttle_reasons=None, utilization_gpu_pct=90.0)) is True


def test_busy_unknown_utilisation_is_not_busy():
    assert is_busy(gpu(0, throttle_reasons=[], utilization_gpu_pct=None)) is False


# --- is_datacenter -------------------------------------------------------------------------

def test_datacenter_names():
    for name in ("Tesla V100-SXM2-32GB", "Tesla T4", "NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3",
                 "NVIDIA H200", "NVIDIA A10", "NVIDIA A30", "NVIDIA A40", "NVIDIA L4", "NVIDIA L40S",
                 "NVIDIA B200", "NVIDIA GH200 480GB", "NVIDIA A800 80GB PCIe", "NVIDIA H800",
                 "Tesla K80", "nvidia h100 pcie"):
        assert is_datacenter(GpuFacts(0, name=name)) is True, name


def test_consumer_and_workstation_names():
    for name in ("NVIDIA GeForce RTX 4090", "NVIDIA TITAN V", "Quadro RTX 8000",
                 "NVIDIA RTX A6000", "NVIDIA RTX 6000 Ada Generation", "NVIDIA RTX A4000", None, ""):
        assert is_datacenter(GpuFacts(0, name=name)) is False, name


def test_consumer_words_win_over_datacenter_tokens():
    # "TITAN" with a datacenter-looking token stays a consumer card.
    assert is_datacenter(GpuFacts(0, name="NVIDIA TITAN V100 edition")) is False


# --- no_torch_reason -----------------------------------------------------------------------

def test_no_torch_reason_cuda_build_is_none():
    assert no_torch_reason(healthy()) is None


def test_no_torch_reason_cpu_build_only_when_cuda_is_needed():
    f = healthy()
    f.torch.cuda_build, f.torch.version = None, "2.5.1+cpu"
    assert no_torch_reason(f) == "torch 2.5.1+cpu is not a CUDA build"
    assert no_torch_reason(f, need_cuda=False) is None


def test_no_torch_reason_origin_reason_only_without_a_version():
    f = healthy()
    f.not_collected = {"torch": "not in an nvidia-smi paste"}
    assert no_torch_reason(f) is None
    f.torch = TorchFacts()
    assert no_torch_reason(f) == "not in an nvidia-smi paste"


def test_no_torch_reason_probe_error_only_without_a_version():
    f = healthy()
    f.torch = TorchFacts(error="timed out after 60 s")
    assert no_torch_reason(f) == "torch could not be probed: timed out after 60 s"
    f.torch.version, f.torch.cuda_build = "2.5.1+cu124", "12.4"
    assert no_torch_reason(f) is None


def test_no_torch_reason_not_installed():
    f = healthy()
    f.torch = TorchFacts(installed=False)
    assert no_torch_reason(f) == "torch not installed"
    assert no_torch_reason(f, need_cuda=False) == "torch not installed"


# --- linux ---------------------------------------------------------------------------------

def test_linux_by_os_name():
    f = healthy()
    for os_name, want in (("Ubuntu 22.04.4 LTS", True), ("Rocky Linux 9.3", True),
                          ("Windows 11 Pro", False), ("Darwin 23.4.0", False), ("macOS 14.4", False),
                          ("Mac OS X 10.15", False), ("", None), (None, None)):
        f.host.os = os_name
        assert linux(f) is want, os_name

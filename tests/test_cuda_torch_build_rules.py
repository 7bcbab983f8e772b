"""The CUDA/PyTorch build checks' decisions at their boundaries (rigcheck/doctor/checks/cuda_torch_build.py).

Each test calls one check as a pure function on hand-built facts (a healthy 2x H100 box from
tests/doctor_factories.py, changed in the one thing the test is about) and pins the status and
the words a user acts on. Expectations are worked out by hand from the rules' sources, never from
the module's helpers:

* NVIDIA CUDA Toolkit release notes, Table 3 (minimum Linux driver per toolkit): CUDA 10.1 needs
  >= 418.39, 12.3 GA >= 545.23.06, 12.4 GA >= 550.54.14.
* CUDA compatibility guide, minor-version compatibility: a 12.x build runs on any driver >=
  525.60.13 (11.x: >= 450.80.02), even when that driver reports an older 12.y; CUDA 10 had none.
* Official wheel arch lists (torch.cuda.get_arch_list()): cu124 builds carry sm_50..sm_90; the
  2.11 cu128 builds sm_75..sm_120; cu126 sm_50..sm_90; cu130 (CUDA 13, needs a 13.x driver)
  sm_75..sm_120. Binary compatibility: a cubin for sm_XY runs on sm_XZ with Z >= Y; PTX
  compute_XY is JIT-compiled for any newer device.
* CUDA_VISIBLE_DEVICES (CUDA C programming guide, env vars; nvitop's parser): a comma list of
  indices or GPU-/MIG- UUID prefixes, read left to right up to the first invalid entry; a
  negative index hides that entry and every later one; empty hides every GPU.
* PyTorch RELEASE.md: torch 2.9 and later need Python >= 3.10.
"""

from __future__ import annotations

from rigcheck.doctor.checks.cuda_torch_build import (
    arch_missing,
    cpu_only,
    cuda_available,
    cuda_visible_devices,
    device_count,
    device_order,
    driver_too_old,
    installed,
    nvcc,
    parse_cvd,
    python_version,
)
from rigcheck.doctor.registry import Context
from rigcheck.facts import NvmlFacts, TorchDevice, TorchFacts
from tests.doctor_factories import gpu, healthy

CTX = Context()
H100 = "NVIDIA H100 80GB HBM3"
CU128_INDEX = "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu128"
CU126_INDEX = "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu126"
CU130_INDEX = "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu130"
CPU_INDEX = "pip install torch --index-url https://download.pytorch.org/whl/cpu   # no NVIDIA GPU here"
UVM_HINT = "sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm   # after suspend/resume; else reboot"


def _cpu_torch(f, version="2.5.1+cpu"):
    f.torch.version, f.torch.cuda_build, f.torch.arch_list = version, None, None
    f.torch.cuda_available, f.torch.device_count, f.torch.devices = False, 0, []
    return f


def _no_gpu(f):
    """No NVIDIA GPU at all: NVML has no library, torch sees no device."""
    f.nvml = NvmlFacts(available=False, error="NVML_ERROR_LIBRARY_NOT_FOUND")
    f.torch.devices = []
    return f


def _one(cap=None, name=H100, **kw):
    f = healthy(1)
    f.nvml.gpus = [gpu(0, compute_capability=cap, name=name, **kw)]
    f.torch.devices = []
    return f


# --- torch.installed -----------------------------------------------------------------------

def test_installed_ok_names_the_cuda_build():
    got = installed(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "torch 2.5.1+cu124 (CUDA 12.4 build)")


def test_installed_ok_names_a_rocm_build():
    f = healthy()
    f.torch.cuda_build, f.torch.hip_build, f.torch.version = None, "6.2.41133", "2.5.1+rocm6.2"
    assert installed(f, CTX).summary == "torch 2.5.1+rocm6.2 (ROCm 6.2.41133 build)"


def test_installed_ok_names_a_cpu_build():
    assert installed(_cpu_torch(healthy()), CTX).summary == "torch 2.5.1+cpu (CPU-only build)"


def test_installed_probe_error_is_a_fail_with_a_reinstall_for_this_gpu():
    f = healthy()
    f.torch.error = "import raised RuntimeError: something else"
    got = installed(f, CTX)
    assert got.status == "fail"
    assert got.summary == "PyTorch could not be probed: import raised RuntimeError: something else"
    # H100 (sm_90) on a driver reporting CUDA 12.4: cu128 ships sm_90 and runs on any 12.x
    # driver by minor-version compatibility; cu130 needs a 13.x driver.
    assert got.fix == "python -c 'import torch'   # read the error; then: " + CU128_INDEX


def test_installed_missing_shared_object_uninstalls_the_nvidia_wheels():
    f = healthy()
    f.torch.error = "import raised OSError: libcudnn.so.9: cannot open shared object file: No such file"
    got = installed(f, CTX)
    assert got.status == "fail"
    assert got.fix.startswith("pip uninstall -y $(pip list --format=freeze | grep -i '^nvidia-' ")
    assert got.fix.endswith("&& " + CU128_INDEX)


def test_installed_a_library_name_alone_is_not_the_shared_object_case():
    f = healthy()
    f.torch.error = "import raised OSError: libcudnn.so.9 is broken"
    assert installed(f, CTX).fix.startswith("python -c 'import torch'")


def test_installed_false_warns_with_the_python_and_the_wheel():
    f = healthy()
    f.torch = TorchFacts(installed=False)
    got = installed(f, CTX)
    assert (got.status, got.summary) == ("warn", "PyTorch is not installed in this Python")
    assert got.detail == "Python: /venv/bin/python."
    assert got.fix == CU128_INDEX


def test_installed_false_without_executable_says_question_mark():
    f = healthy()
    f.torch = TorchFacts(installed=False)
    f.python.executable = None
    assert installed(f, CTX).detail == "Python: ?."


def test_installed_false_on_a_gpuless_box_suggests_the_cpu_wheel():
    f = _no_gpu(healthy(1))
    f.nvml.gpu_count = None
    f.torch = TorchFacts(installed=False)
    assert installed(f, CTX).fix == CPU_INDEX


def test_installed_not_probed_skips_with_the_origins_reason():
    f = healthy()
    f.torch = TorchFacts()
    assert installed(f, CTX).summary == "skipped: torch was not probed"
    f.not_collected = {"torch": "not in an nvidia-smi paste"}
    assert installed(f, CTX).summary == "skipped: not in an nvidia-smi paste"


def test_installed_unknown_but_a_version_is_ok():
    f = healthy()
    f.torch.installed = None
    assert installed(f, CTX).status == "ok"


# --- _suggest (through torch.installed's fix) ----------------------------------------------

def _suggested(f):
    f.torch = TorchFacts(installed=False)
    return installed(f, CTX).fix


def test_suggest_cuda13_driver_gets_cu130():
    f = healthy()
    f.nvml.cuda_driver_version = "13.0"
    assert _suggested(f) == CU130_INDEX


def test_suggest_pascal_gets_cu126_the_last_flavour_with_sm_60():
    # GTX 1080 is sm_61: cu126 has sm_60 cubins (same major, lower minor); cu128/cu130 start at sm_75.
    f = _one("6.1", "NVIDIA GeForce GTX 1080")
    assert _suggested(f) == CU126_INDEX


def test_suggest_driver_table_when_nvml_has_no_cuda_version():
    # 580.65.06 is CUDA 13.0's minimum driver (Table 3): a 13.x driver runs cu130.
    f = healthy()
    f.nvml.cuda_driver_version, f.nvml.driver_version = None, "580.65.06"
    assert _suggested(f) == CU130_INDEX
    # 575.51.03 is CUDA 12.9's: no 13.x, so cu128.
    f = healthy()
    f.nvml.cuda_driver_version, f.nvml.driver_version = None, "575.51.03"
    assert _suggested(f) == CU128_INDEX


def test_suggest_cuda11_driver_is_older_than_every_current_wheel():
    f = healthy()
    f.nvml.cuda_driver_version = "11.8"
    assert _suggested(f) == (
        "the driver supports CUDA 11.8, older than every current wheel: update the driver, or "
        "install a torch built for CUDA <= 11.8 (https://pytorch.org/get-started/previous-versions/)")


def test_suggest_gpu_with_unknown_capability_assumes_a_current_arch():
    # A GPU whose capability nothing tells: the wheel for the driver, not the CPU one.
    f = _one(None, "NVIDIA Mystery Card")
    assert _suggested(f) == CU128_INDEX


def test_suggest_gpu_count_alone_is_a_gpu():
    f = _no_gpu(healthy(1))
    f.nvml.gpu_count = 1
    f.nvml.cuda_driver_version = "12.4"
    assert _suggested(f) == CU128_INDEX


# --- torch.cpu_only_on_gpu -----------------------------------------------------------------

def test_cpu_only_on_two_h100_fails_and_counts_them():
    got = cpu_only(_cpu_torch(healthy()), CTX)
    assert got.status == "fail"
    assert got.summary == f"CPU-only torch 2.5.1+cpu on a machine with 2 NVIDIA GPU(s) ({H100})"
    assert got.fix == CU128_INDEX


def test_cpu_only_lists_each_model_once_sorted():
    f = _cpu_torch(healthy(3))
    f.nvml.gpus[0].name = "NVIDIA RTX A6000"
    assert cpu_only(f, CTX).summary.endswith(f"3 NVIDIA GPU(s) ({H100}, NVIDIA RTX A6000)")


def test_cpu_only_with_torch_devices_only_is_a_gpu_machine():
    f = _no_gpu(_cpu_torch(healthy(1)))
    f.nvml.gpu_count = None
    f.torch.devices = [TorchDevice(0, "NVIDIA RTX A6000", "8.6", 47.5)]
    assert cpu_only(f, CTX).status == "fail"


def test_cpu_only_with_a_gpu_count_only_is_a_gpu_machine():
    f = _no_gpu(_cpu_torch(healthy(1)))
    f.nvml.gpu_count = 1
    got = cpu_only(f, CTX)
    assert (got.status, got.summary) == ("fail", "CPU-only torch 2.5.1+cpu on a machine with 1 NVIDIA GPU(s) ()")


def test_cpu_only_and_no_gpu_is_consistent():
    f = _no_gpu(_cpu_torch(healthy(1)))
    f.nvml.gpu_count = 0
    got = cpu_only(f, CTX)
    assert (got.status, got.summary) == ("ok", "CPU-only torch 2.5.1+cpu and no NVIDIA GPU (consistent)")


def test_cpu_only_cuda_and_rocm_builds_are_ok():
    got = cpu_only(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "torch 2.5.1+cu124 is a CUDA 12.4 build")
    f = healthy()
    f.torch.cuda_build, f.torch.hip_build = None, "6.2.41133"
    assert cpu_only(f, CTX).summary == "ROCm 6.2.41133 build"


def test_cpu_only_skips_without_torch():
    f = healthy()
    f.torch = TorchFacts(installed=False)
    assert cpu_only(f, CTX).summary == "skipped: torch not installed"


# --- torch.arch_missing --------------------------------------------------------------------

def test_arch_two_identical_gpus_are_summarised_once():
    got = arch_missing(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "arch covered: 2 GPUs of sm_90: the build has sm_90")


def test_arch_one_gpu_is_named():
    got = arch_missing(healthy(1), CTX)
    assert got.summary == f"arch covered: GPU 0 ({H100}) sm_90: the build has sm_90"


def test_arch_two_different_gpus_are_each_named():
    f = healthy()
    f.nvml.gpus[1] = gpu(1, name="NVIDIA GeForce RTX 4090", compute_capability="8.9")
    got = arch_missing(f, CTX)
    assert got.status == "ok"
    assert got.summary == (f"arch covered: GPU 0 ({H100}) sm_90: the build has sm_90; "
                           "GPU 1 (NVIDIA GeForce RTX 4090) sm_89: sm_86 kernels run on sm_89 (same major)")


def test_arch_sm_120_on_a_cu124_build_fails_and_suggests_cu128():
    f = _one("12.0", "NVIDIA GeForce RTX 5090")
    got = arch_missing(f, CTX)
    assert got.status == "fail"
    assert got.summary == ("torch cannot run on GPU 0 (NVIDIA GeForce RTX 5090) sm_120: "
                           "no sm_12x or lower PTX in the build")
    assert got.detail.startswith("Arch list (torch.cuda.get_arch_list()): sm_50 sm_60 sm_61 sm_70 "
                                 "sm_75 sm_80 sm_86 sm_90.")
    assert "no kernel image is available for execution on the device" in got.detail
    assert got.fix == CU128_INDEX


def test_arch_below_the_oldest_arch_fails_with_no_current_wheel():
    # sm_35 (Kepler) is below sm_50, the oldest arch of cu124 and of every current flavour.
    f = _one("3.5", "NVIDIA GeForce GTX TITAN Black")
    f.nvml.cuda_driver_version = f.nvml.driver_version = None
    got = arch_missing(f, CTX)
    assert got.status == "fail"
    assert got.summary == ("torch cannot run on GPU 0 (NVIDIA GeForce GTX TITAN Black) sm_35: "
                           "the oldest arch in the build is sm_50")
    assert got.fix.startswith("No current wheel ships this arch")


def test_arch_above_the_newest_arch_of_the_same_major_warns():
    # GB10 is sm_121; a build up to sm_120 runs it by binary compatibility, with torch's warning.
    f = _one("12.1", "NVIDIA GB10")
    f.torch.arch_list = ["sm_80", "sm_90", "sm_120"]
    got = arch_missing(f, CTX)
    assert got.status == "warn"
    assert got.summary == ("torch runs only by compatibility on GPU 0 (NVIDIA GB10) sm_121: the build's "
                           "newest arch is sm_120; sm_120 kernels run on sm_121 by binary compatibility")


def test_arch_sm_89_inside_the_range_is_ok_but_past_the_newest_warns():
    inside = _one("8.9", "NVIDIA GeForce RTX 4090")        # cu124 list goes up to sm_90
    assert arch_missing(inside, CTX).status == "ok"
    past = _one("8.9", "NVIDIA GeForce RTX 4090")
    past.torch.arch_list = ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"]  # cu113
    assert arch_missing(past, CTX).status == "warn"


def test_arch_ptx_only_warns():
    f = _one("9.0")
    f.torch.arch_list = ["sm_80", "compute_80"]
    got = arch_missing(f, CTX)
    assert got.status == "warn"
    assert got.summary.endswith("sm_90: only PTX compute_80 (JIT-compiled at first use)")


def test_arch_fail_beats_warn():
    f = healthy()
    f.torch.arch_list = ["sm_80", "sm_120"]
    f.nvml.gpus = [gpu(0, compute_capability="12.1", name="NVIDIA GB10"),
                   gpu(1, compute_capability="9.0")]
    got = arch_missing(f, CTX)
    assert got.status == "fail"
    assert got.summary == f"torch cannot run on GPU 1 ({H100}) sm_90: no sm_9x or lower PTX in the build"


def test_arch_list_from_the_table_when_torch_did_not_report_it():
    f = healthy(1)
    f.torch.arch_list = None
    got = arch_missing(f, CTX)
    assert got.status == "ok"
    f.nvml.gpus[0].compute_capability = "12.0"
    got = arch_missing(f, CTX)
    assert got.status == "fail"
    assert got.detail.startswith("Arch list (rigcheck's table for the official 2.5.1+cu124 build): ")
    assert "sm_90." in got.detail


def test_arch_list_unknown_for_an_unofficial_flavour_skips():
    f = healthy(1)
    f.torch.arch_list, f.torch.cuda_build = [], "12.7"
    assert arch_missing(f, CTX).summary == "skipped: arch list unknown for torch 2.5.1+cu124 CUDA 12.7"


def test_arch_capability_from_torch_devices_when_nvml_has_none():
    f = _one("n/a", "NVIDIA RTX A6000")
    f.torch.devices = [TorchDevice(0, "NVIDIA RTX A6000", "8.6", 47.5)]
    assert arch_missing(f, CTX).summary == "arch covered: cuda:0 (NVIDIA RTX A6000) sm_86: the build has sm_86"


def test_arch_capability_from_the_name_when_nothing_else_says():
    f = _one(None, "NVIDIA GeForce RTX 4090")
    assert arch_missing(f, CTX).summary == (
        "arch covered: GPU 0 (NVIDIA GeForce RTX 4090, capability from its name) sm_89: "
        "sm_86 kernels run on sm_89 (same major)")


def test_arch_nvml_label_without_a_name():
    f = _one("9.0", None)
    assert arch_missing(f, CTX).summary == "arch covered: GPU 0 (?) sm_90: the build has sm_90"


def test_arch_lost_gpu_is_not_judged():
    f = healthy()
    f.nvml.gpus[1] = gpu(1, compute_capability="12.0", lost=True)
    assert arch_missing(f, CTX).status == "ok"


def test_arch_unknown_capability_skips():
    f = _one(None, "NVIDIA Mystery Card")
    assert arch_missing(f, CTX).summary == "skipped: GPU compute capability unknown"


def test_arch_skips_a_cpu_build():
    assert arch_missing(_cpu_torch(healthy()), CTX).summary == "skipped: torch 2.5.1+cpu is not a CUDA build"


# --- torch.driver_too_old ------------------------------------------------------------------

def test_driver_same_cuda_is_ok():
    got = driver_too_old(healthy(), CTX)
    assert (got.status, got.summary) == (
        "ok", "driver 550.54.15 (CUDA 12.4) runs torch's CUDA 12.4: the driver supports CUDA 12.4 >= torch's 12.4")


def test_driver_cuda_from_the_table_at_its_minimum():
    f = healthy()
    f.nvml.cuda_driver_version, f.nvml.driver_version = None, "550.54.14"   # CUDA 12.4 GA
    got = driver_too_old(f, CTX)
    assert got.summary.startswith("driver 550.54.14 (CUDA 12.4 per NVIDIA's driver table) runs")


def test_driver_one_below_the_table_minimum_runs_by_minor_version_compatibility():
    f = healthy()
    f.nvml.cuda_driver_version, f.nvml.driver_version = None, "550.54.13"   # CUDA 12.3 (>= 545.23.06)
    got = driver_too_old(f, CTX)
    assert got.status == "ok"
    assert got.summary.startswith("driver 550.54.13 (CUDA 12.3 per NVIDIA's driver table) runs torch's "
                                  "CUDA 12.4: the driver reports CUDA 12.3")


def test_driver_minor_compat_floor_inside_and_just_below():
    inside = healthy()
    inside.nvml.cuda_driver_version, inside.nvml.driver_version = "12.0", "525.60.13"
    assert driver_too_old(inside, CTX).status == "ok"
    below = healthy()
    below.nvml.cuda_driver_version, below.nvml.driver_version = "12.0", "525.60.12"
    got = driver_too_old(below, CTX)
    assert got.status == "fail"
    assert got.fix.startswith("Update the driver to >= 525.60.13 (sudo ubuntu-drivers install)")


def test_driver_only_the_cuda_version_known():
    f = healthy()
    f.nvml.driver_version = None
    assert driver_too_old(f, CTX).summary.startswith("the driver (CUDA 12.4) runs torch's CUDA 12.4")


def test_driver_older_major_fails_and_points_at_old_wheels():
    f = healthy()
    f.nvml.cuda_driver_version, f.nvml.driver_version = "11.4", "470.82.01"
    got = driver_too_old(f, CTX)
    assert got.status == "fail"
    assert got.summary == "driver 470.82.01 (CUDA 11.4) is too old for torch 2.5.1+cu124 (CUDA 12.4)"
    assert got.fix == ("Update the driver to >= 525.60.13 (sudo ubuntu-drivers install), or install a "
                       "torch built for the driver's CUDA (https://pytorch.org/get-started/previous-versions/)")
    assert "The NVIDIA driver on your system is too old" in got.detail


def test_driver_cu130_on_a_cuda12_driver_offers_cu128():
    f = healthy()
    f.torch.version, f.torch.cuda_build = "2.9.0+cu130", "13.0"
    got = driver_too_old(f, CTX)
    assert got.status == "fail"
    assert got.fix.endswith(", or a wheel this driver runs: " + CU128_INDEX)


def test_driver_cuda10_had_no_minor_version_compatibility():
    # torch cu101 on a CUDA 10.0 driver: same major, lower minor, and CUDA 10 needs the exact
    # minimum: 418.39 for 10.1.
    f = healthy()
    f.torch.version, f.torch.cuda_build = "1.4.0", "10.1"
    f.nvml.cuda_driver_version, f.nvml.driver_version = "10.0", "410.48"
    got = driver_too_old(f, CTX)
    assert got.status == "fail"
    assert got.fix.startswith("Update the driver to >= 418.39 ")


def test_driver_unknown_versions_skip():
    f = healthy()
    f.nvml.cuda_driver_version = f.nvml.driver_version = None
    assert driver_too_old(f, CTX).summary == "skipped: driver version unknown"
    f.nvml.error = "NVML_ERROR_DRIVER_NOT_LOADED"
    assert driver_too_old(f, CTX).summary == "skipped: no driver facts: NVML_ERROR_DRIVER_NOT_LOADED"


def test_driver_unparsable_versions_skip_with_why():
    f = healthy()
    f.nvml.cuda_driver_version, f.nvml.driver_version = None, "unknown"
    assert driver_too_old(f, CTX).summary == "skipped: the driver's CUDA version is unknown"
    f = healthy()
    f.torch.cuda_build = "abc"
    assert driver_too_old(f, CTX).summary == "skipped: torch's CUDA version 'abc' is not a version"


def test_driver_skips_a_cpu_build():
    assert driver_too_old(_cpu_torch(healthy()), CTX).summary == "skipped: torch 2.5.1+cpu is not a CUDA build"


# --- torch.cuda_available ------------------------------------------------------------------

def _unavailable(err=None, f=None):
    f = f or healthy()
    f.torch.cuda_available, f.torch.cuda_init_error = False, err
    return f


def test_cuda_available_true_is_ok_with_the_count():
    got = cuda_available(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "CUDA available, 2 device(s)")


def test_cuda_available_unknown_skips():
    f = healthy()
    f.torch.cuda_available = None
    assert cuda_available(f, CTX).summary == "skipped: not probed"
    f.not_collected = {"cuda_available": "a collect_env paste says nothing"}
    assert cuda_available(f, CTX).summary == "skipped: a collect_env paste says nothing"


def test_cuda_unavailable_without_text_reloads_uvm():
    got = cuda_available(_unavailable(), CTX)
    assert got.status == "fail"
    assert got.summary == "torch is a CUDA build but torch.cuda.is_available() is False"
    assert got.detail == "No CUDA init error text was captured."
    assert got.fix == UVM_HINT


def test_cuda_unavailable_quotes_the_first_line_of_the_error():
    got = cuda_available(_unavailable("  CUDA unknown error\nsecond line  "), CTX)
    assert got.summary.endswith("is False: CUDA unknown error")
    assert got.detail == "CUDA unknown error\nsecond line"


def test_cuda_unavailable_804_points_at_forward_compat():
    assert cuda_available(_unavailable("Error 804: forward compatibility was attempted"), CTX).fix == \
        "see containers.cuda_compat"
    assert cuda_available(_unavailable("CUDA error 804"), CTX).fix == "see containers.cuda_compat"
    assert cuda_available(_unavailable("forward compatibility was attempted on non supported HW"),
                          CTX).fix == "see containers.cuda_compat"


def test_cuda_unavailable_driver_too_old_by_text_or_by_version():
    too_old = "the NVIDIA driver on your system is too old (found version 11040)"
    assert cuda_available(_unavailable(too_old), CTX).fix == \
        "the driver is too old for this torch: see torch.driver_too_old"
    f = _unavailable()
    f.nvml.cuda_driver_version, f.nvml.driver_version = "11.4", "470.82.01"
    assert cuda_available(f, CTX).fix == "the driver is too old for this torch: see torch.driver_too_old"


def test_cuda_unavailable_with_cvd_set_points_at_it_first():
    f = _unavailable()
    f.python.env = {"CUDA_VISIBLE_DEVICES": ""}
    assert cuda_available(f, CTX).fix == "see torch.cuda_visible_devices; " + UVM_HINT


def test_cuda_unavailable_and_no_gpu_is_ok():
    f = _no_gpu(_unavailable())
    f.nvml.gpu_count = None
    got = cuda_available(f, CTX)
    assert (got.status, got.summary) == (
        "ok", "CUDA not available and no NVIDIA GPU here (NVML_ERROR_LIBRARY_NOT_FOUND); "
              "this CUDA build runs on the CPU")
    f.nvml.error = None
    assert "(no NVML)" in cuda_available(f, CTX).summary


def test_cuda_unavailable_with_a_gpu_sign_is_a_fail():
    f = _no_gpu(_unavailable())
    f.nvml.gpu_count = None
    f.torch.devices = [TorchDevice(0, H100, "9.0", 79.1)]
    assert cuda_available(f, CTX).status == "fail"
    f = _no_gpu(_unavailable())
    f.nvml.gpu_count, f.nvml.available = 0, True
    assert cuda_available(f, CTX).status == "fail"


def test_cuda_available_skips_a_cpu_build():
    assert cuda_available(_cpu_torch(healthy()), CTX).summary == "skipped: torch 2.5.1+cpu is not a CUDA build"


# --- parse_cvd -----------------------------------------------------------------------------

UUIDS = ["GPU-aaaa0000-0000-0000-0000-000000000000", "GPU-bbbb0001-0000-0000-0000-000000000000"]


def test_cvd_empty_hides_everything():
    assert parse_cvd("", 2, UUIDS) == ([], [], "set but empty: hides every GPU")
    assert parse_cvd("  ", 2, UUIDS) == ([], [], "set but empty: hides every GPU")


def test_cvd_all_valid_indices():
    assert parse_cvd("1, 0", 2, UUIDS) == (["1", "0"], [], None)


def test_cvd_last_index_is_inside_one_past_is_not():
    assert parse_cvd("1", 2, UUIDS) == (["1"], [], None)
    assert parse_cvd("2", 2, UUIDS) == ([], [], "index 2 does not exist (2 GPU(s): 0-1)")


def test_cvd_stops_at_the_first_invalid_entry():
    assert parse_cvd("0,5,1", 2, UUIDS) == (["0"], ["1"], "index 5 does not exist (2 GPU(s): 0-1)")


def test_cvd_negative_hides_the_rest_zero_does_not():
    assert parse_cvd("0,-1,1", 2, UUIDS) == (["0"], ["1"], "'-1' hides this and every later GPU")
    assert parse_cvd("0", 2, UUIDS) == (["0"], [], None)


def test_cvd_repeated_index():
    assert parse_cvd("0,0,1", 2, UUIDS) == (["0"], ["1"], "index 0 repeated")


def test_cvd_uuid_prefix_any_case():
    assert parse_cvd("gpu-BBBB", 2, UUIDS) == ([], [], "'gpu-BBBB' is neither an index nor a GPU-/MIG- UUID")
    assert parse_cvd("GPU-BBBB", 2, UUIDS) == (["GPU-BBBB"], [], None)


def test_cvd_unknown_uuid_fails_only_when_there_are_uuids_to_compare():
    assert parse_cvd("0,GPU-dead", 2, UUIDS) == (["0"], [], "UUID 'GPU-dead' matches no GPU here")
    assert parse_cvd("GPU-dead", 2, []) == (["GPU-dead"], [], None)


def test_cvd_mig_uuids_are_not_checked():
    assert parse_cvd("MIG-dead", 2, UUIDS) == (["MIG-dead"], [], None)


def test_cvd_redacted_uuids_cannot_refute_a_prefix():
    redacted = ["<redacted-1>", "<redacted-2>"]
    assert parse_cvd("GPU-dead", 2, redacted) == (["GPU-dead"], [], None)
    # one redacted uuid among real ones is enough to stop judging
    assert parse_cvd("GPU-dead", 2, [UUIDS[0], "<redacted-2>"]) == (["GPU-dead"], [], None)
    # ... unless the value itself is a redaction, which then matches nothing
    assert parse_cvd("GPU-<redacted-1>", 2, [UUIDS[0], "<redacted-2>"])[2] == \
        "UUID 'GPU-<redacted-1>' matches no GPU here"


def test_cvd_garbage_entry():
    assert parse_cvd("0,cuda:1", 2, UUIDS) == (["0"], [], "'cuda:1' is neither an index nor a GPU-/MIG- UUID")


# --- torch.cuda_visible_devices ------------------------------------------------------------

def _cvd(value, f=None):
    f = f or healthy()
    f.python.env = {"CUDA_VISIBLE_DEVICES": value}
    return cuda_visible_devices(f, CTX)


def test_cvd_check_unset_is_ok():
    got = cuda_visible_devices(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "CUDA_VISIBLE_DEVICES not set: every GPU visible")


def test_cvd_check_env_not_captured_skips():
    f = healthy()
    f.not_collected = {"python.env": "a paste has no environment"}
    assert cuda_visible_devices(f, CTX).summary == "skipped: a paste has no environment"
    f = healthy()
    f.python.error = "python probe timed out"
    assert cuda_visible_devices(f, CTX).summary == "skipped: environment not captured"


def test_cvd_check_no_gpu_to_check_against():
    f = _no_gpu(healthy(1))
    f.nvml.gpu_count = 0
    got = _cvd("0", f)
    assert (got.status, got.summary) == ("ok", "CUDA_VISIBLE_DEVICES='0' (no GPUs to check it against)")


def test_cvd_check_nvml_up_with_no_gpus_still_judges():
    f = _no_gpu(healthy(1))
    f.nvml.available, f.nvml.gpu_count = True, 0
    assert _cvd("0", f).status == "fail"


def test_cvd_check_gpu_count_without_nvml_still_judges():
    f = _no_gpu(healthy(1))
    f.nvml.gpu_count = 2
    assert _cvd("2", f).status == "fail"


def test_cvd_check_nothing_visible_fails_with_the_fix():
    got = _cvd("2,3")
    assert got.status == "fail"
    assert got.summary == ("CUDA_VISIBLE_DEVICES='2,3': index 2 does not exist (2 GPU(s): 0-1); "
                           "torch sees 0 of 2 GPU(s); ignored after it: 3")
    assert got.fix == "export CUDA_VISIBLE_DEVICES=0,1   # or: unset CUDA_VISIBLE_DEVICES"


def test_cvd_check_some_visible_warns():
    got = _cvd("1,7")
    assert got.status == "warn"
    assert got.summary == ("CUDA_VISIBLE_DEVICES='1,7': index 7 does not exist (2 GPU(s): 0-1); "
                           "torch sees 1 of 2 GPU(s)")


def test_cvd_check_subset_and_all():
    got = _cvd("1")
    assert (got.status, got.summary) == ("ok", "CUDA_VISIBLE_DEVICES='1': 1 of 2 GPU(s) visible (deliberate subset)")
    got = _cvd("0,1")
    assert (got.status, got.summary) == ("ok", "CUDA_VISIBLE_DEVICES='0,1': all 2 GPU(s) visible")


def test_cvd_check_compares_uuids_but_not_redacted_ones():
    assert _cvd("GPU-aaaa0001").status == "ok"
    assert _cvd("GPU-ffff").status == "fail"
    f = healthy()
    for g in f.nvml.gpus:
        g.uuid = "<redacted>"
    assert _cvd("GPU-ffff", f).status == "ok"


# --- torch.device_count --------------------------------------------------------------------

def test_device_count_all_seen():
    got = device_count(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "torch sees all 2 GPU(s)")


def test_device_count_one_short_warns():
    f = healthy()
    f.torch.device_count = 1
    got = device_count(f, CTX)
    assert (got.status, got.summary) == ("warn", "torch sees 1 of the 2 GPUs NVML reports")


def test_device_count_short_under_mig_is_ok():
    f = healthy()
    f.torch.device_count = 1
    f.nvml.gpus[1].mig_mode_current = True
    assert device_count(f, CTX).status == "ok"


def test_device_count_short_under_cvd_is_ok():
    f = healthy()
    f.torch.device_count = 1
    f.python.env = {"CUDA_VISIBLE_DEVICES": "1"}
    got = device_count(f, CTX)
    assert (got.status, got.summary) == ("ok", "torch sees 1 of 2 (restricted by CUDA_VISIBLE_DEVICES)")


def test_device_count_skips_without_cuda_or_nvml_count():
    f = healthy()
    f.torch.cuda_available = False
    assert device_count(f, CTX).summary == "skipped: CUDA not available in torch"
    f = healthy()
    f.torch.device_count = None
    assert device_count(f, CTX).summary == "skipped: CUDA not available in torch"
    f = healthy()
    f.nvml.available = False
    assert device_count(f, CTX).summary == "skipped: NVML GPU count unknown"
    f = healthy()
    f.nvml.gpu_count, f.nvml.gpus = 0, []
    assert device_count(f, CTX).summary == "skipped: NVML GPU count unknown"


# --- torch.device_order --------------------------------------------------------------------

def _mixed():
    f = healthy()
    f.nvml.gpus[1].name = "NVIDIA RTX A4000"
    return f


def test_device_order_mixed_without_pci_order_warns():
    got = device_order(_mixed(), CTX)
    assert got.status == "warn"
    assert got.summary == f"mixed GPUs ({H100}, NVIDIA RTX A4000) and CUDA_DEVICE_ORDER unset"
    assert got.fix == "export CUDA_DEVICE_ORDER=PCI_BUS_ID"


def test_device_order_pci_bus_id_is_ok_other_values_are_not():
    f = _mixed()
    f.python.env = {"CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    assert device_order(f, CTX).status == "ok"
    f.python.env = {"CUDA_DEVICE_ORDER": "FASTEST_FIRST"}
    assert device_order(f, CTX).status == "warn"


def test_device_order_identical_gpus_are_ok():
    got = device_order(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "2 identical GPUs: order does not matter")


def test_device_order_needs_two_named_gpus():
    assert device_order(healthy(1), CTX).summary == "skipped: fewer than two GPUs"
    f = _mixed()
    f.nvml.gpus[0].name = None
    assert device_order(f, CTX).summary == "skipped: fewer than two GPUs"


def test_device_order_without_environment_skips():
    f = _mixed()
    f.python.error = "timed out"
    assert device_order(f, CTX).summary == "skipped: environment not captured"


# --- torch.nvcc ----------------------------------------------------------------------------

def test_nvcc_absent_is_ok():
    assert nvcc(healthy(), CTX).summary.startswith("no nvcc on PATH")


def test_nvcc_same_major_other_minor_is_ok():
    f = healthy()
    f.python.nvcc_version = "12.1"
    got = nvcc(f, CTX)
    assert (got.status, got.summary) == ("ok", "nvcc 12.1, torch CUDA 12.4 (same major)")


def test_nvcc_other_major_warns_with_the_toolkit_to_install():
    f = healthy()
    f.python.nvcc_version = "11.8"
    got = nvcc(f, CTX)
    assert (got.status, got.summary) == ("warn", "nvcc 11.8 vs torch's CUDA 12.4")
    assert got.fix == "Install CUDA toolkit 12.4 and export CUDA_HOME=/usr/local/cuda-12.4"


def test_nvcc_skips_a_cpu_build():
    assert nvcc(_cpu_torch(healthy()), CTX).status == "skip"


# --- torch.python_version ------------------------------------------------------------------

def _py(version, torch_version=None):
    f = healthy()
    f.python.version, f.torch.version = version, torch_version
    return python_version(f, CTX)


def test_python_3_9_without_torch_warns_3_10_is_ok():
    got = _py("3.9.18")
    assert (got.status, got.summary) == ("warn", "Python 3.9.18: current torch wheels need Python >= 3.10")
    got = _py("3.10.0")
    assert (got.status, got.summary) == ("ok", "Python 3.10.0 (current torch wheels exist)")


def test_python_old_with_torch_installed_is_ok():
    got = _py("3.8.10", "1.13.1+cu117")
    assert (got.status, got.summary) == ("ok", "Python 3.8.10 with torch 1.13.1+cu117 installed")


def test_python_unknown_skips():
    f = healthy()
    f.python.version = None
    assert python_version(f, CTX).summary == "skipped: Python version not collected"
    f.not_collected = {"python": "not in an nvidia-smi paste"}
    assert python_version(f, CTX).summary == "skipped: not in an nvidia-smi paste"


def test_arch_below_every_current_wheel_blames_the_arch_not_a_working_driver():
    # A Kepler GPU on a CUDA 12.4 driver: the driver runs cu126/cu128 fine, but no current wheel
    # has sm_35, so updating the driver would not help; the fix must say so.
    f = _one("3.5", "NVIDIA GeForce GTX TITAN Black")
    got = arch_missing(f, CTX)
    assert got.status == "fail"
    assert got.fix.startswith("No current wheel ships this arch")


def test_suggest_kepler_gets_the_no_current_wheel_command():
    f = _one("3.5", "NVIDIA GeForce GTX TITAN Black")
    assert _suggested(f) == "pip install torch  # CPU build; no current CUDA build fits this GPU and driver"


# --- cases the first mutation run showed unpinned ------------------------------------------

def test_arch_garbled_torch_capability_falls_through_to_the_name():
    f = _one(None, "NVIDIA GeForce RTX 4090")
    f.torch.devices = [TorchDevice(0, "NVIDIA GeForce RTX 4090", "garbage", 23.6)]
    assert arch_missing(f, CTX).summary.startswith(
        "arch covered: GPU 0 (NVIDIA GeForce RTX 4090, capability from its name) sm_89")


def test_cpu_only_a_listed_gpu_counts_even_with_a_zero_count():
    f = _cpu_torch(healthy(1))
    f.nvml.gpu_count = 0
    assert cpu_only(f, CTX).status == "fail"


def test_cpu_only_unnamed_gpu_is_a_question_mark():
    f = _cpu_torch(healthy(1))
    f.nvml.gpus[0].name = None
    assert cpu_only(f, CTX).summary == "CPU-only torch 2.5.1+cpu on a machine with 1 NVIDIA GPU(s) (?)"


def test_installed_true_without_a_version_is_not_skipped():
    f = healthy()
    f.torch = TorchFacts(installed=True)
    assert installed(f, CTX).status == "ok"


def test_cvd_check_placeholder_or_missing_uuids_are_not_compared():
    # A "<...>" placeholder (not the "<redacted" marker parse_cvd knows) and a GPU with no
    # UUID leave nothing to compare a UUID against: accept it.
    f = healthy()
    f.nvml.gpus[0].uuid, f.nvml.gpus[1].uuid = None, "<removed>"
    assert _cvd("GPU-ffff", f).status == "ok"


def test_device_count_cpu_build_gives_the_torch_reason():
    assert device_count(_cpu_torch(healthy()), CTX).summary == "skipped: torch 2.5.1+cpu is not a CUDA build"

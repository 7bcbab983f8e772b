"""The driver checks' decisions at their boundaries (rigcheck/doctor/checks/driver.py).

Each test calls one check as a pure function on hand-built facts and pins the status and the
words a user acts on (the fix command, the value found). Expectations are written from what the
check is documented to decide (NVML error names from the NVML API reference: NVML_ERROR_
DRIVER_NOT_LOADED, NVML_ERROR_LIB_RM_VERSION_MISMATCH, NVML_ERROR_LIBRARY_NOT_FOUND; the
nvidia-smi "Driver/library version mismatch" message; CUDA error 802
cudaErrorSystemNotReady "system not yet initialized" on NVSwitch systems without Fabric Manager),
never from the module's own constants.
"""

from __future__ import annotations

import pytest

from rigcheck.doctor.checks.driver import (
    dev_nodes,
    driver_loaded,
    fabric_manager,
    gpu_evidence,
    nouveau,
    nvidia_smi,
    persistence,
    uvm,
    version_mismatch,
)
from rigcheck.doctor.registry import Context
from rigcheck.facts import DeviceNode, Facts, NvmlFacts
from tests.doctor_factories import gpu, healthy

CTX = Context()


def _bare() -> Facts:
    """Nothing known: NVML not started, no modules, no nodes, no torch."""
    return Facts()


def _nodes(*paths: str) -> list[DeviceNode]:
    return [DeviceNode(p, "crw-rw-rw-", True, True) for p in paths]


# --- gpu_evidence --------------------------------------------------------------------------

def test_evidence_none_on_a_bare_machine():
    f = _bare()
    f.driver.modules = None
    assert gpu_evidence(f) == []


def test_evidence_modules_false_are_not_signs():
    f = _bare()
    f.driver.modules = {"nouveau": False, "nvidia": False}
    assert gpu_evidence(f) == []


def test_evidence_each_sign_in_order():
    f = _bare()
    f.driver.modules = {"nouveau": True, "nvidia": True}
    f.driver.proc_version = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15"
    f.driver.dev_nodes = _nodes("/dev/nvidia0")
    f.torch.device_count = 2
    f.python.env = {"NVIDIA_VISIBLE_DEVICES": "all"}
    assert gpu_evidence(f) == [
        "the nouveau module is loaded",
        "the nvidia module is loaded",
        "/proc/driver/nvidia/version exists",
        "/dev/nvidia0 present",
        "torch sees 2 CUDA device(s)",
        "NVIDIA_VISIBLE_DEVICES is set",
    ]


def test_evidence_only_numbered_nodes_and_at_most_three():
    f = _bare()
    f.driver.dev_nodes = _nodes("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia0",
                                "/dev/nvidia1", "/dev/nvidia2", "/dev/nvidia3")
    assert gpu_evidence(f) == ["/dev/nvidia0, /dev/nvidia1, /dev/nvidia2 present"]


def test_evidence_control_nodes_alone_are_no_sign():
    f = _bare()
    f.driver.dev_nodes = _nodes("/dev/nvidiactl", "/dev/nvidia-uvm")
    assert gpu_evidence(f) == []


def test_evidence_torch_zero_devices_is_no_sign():
    f = _bare()
    f.torch.device_count = 0
    assert gpu_evidence(f) == []


def test_evidence_visible_devices_void_none_empty_are_no_sign():
    for value in ("", "void", "none"):
        f = _bare()
        f.python.env = {"NVIDIA_VISIBLE_DEVICES": value}
        assert gpu_evidence(f) == [], value
    f = _bare()
    f.python.env = {"NVIDIA_VISIBLE_DEVICES": "0"}
    assert gpu_evidence(f) == ["NVIDIA_VISIBLE_DEVICES is set"]


# --- driver.loaded -------------------------------------------------------------------------

def test_loaded_ok_names_driver_cuda_and_count():
    o = driver_loaded(healthy(2), CTX)
    assert o.status == "ok"
    assert o.summary == "driver 550.54.15, CUDA 12.4, 2 GPU(s) visible to NVML"


def test_loaded_ok_falls_back_to_kernel_module_then_question_mark():
    f = healthy(1)
    f.nvml.driver_version = None
    f.nvml.cuda_driver_version = None
    f.driver.kernel_module_version = "535.161.07"
    assert driver_loaded(f, CTX).summary == "driver 535.161.07, 1 GPU(s) visible to NVML"
    f.driver.kernel_module_version = None
    assert driver_loaded(f, CTX).summary == "driver ?, 1 GPU(s) visible to NVML"


def test_loaded_ok_from_a_paste_says_which_output():
    f = healthy(1)
    f.origin = "nvidia-smi"
    assert driver_loaded(f, CTX).summary.endswith("1 GPU(s) in the nvidia-smi output")


def test_loaded_not_collected_without_error_skips_or_reads_paste_version():
    f = _bare()
    f.not_collected = {"nvml": "not in a collect_env paste"}
    o = driver_loaded(f, CTX)
    assert o.status == "skip" and o.summary == "skipped: not in a collect_env paste"
    f.nvml.driver_version = "550.54.15"
    o = driver_loaded(f, CTX)
    assert o.status == "ok"
    assert o.summary == "driver 550.54.15 (from the paste; NVML state unknown)"


def test_loaded_not_collected_but_an_error_is_judged():
    f = _bare()
    f.not_collected = {"nvml": "not in the paste"}
    f.nvml.error = "NVML_ERROR_DRIVER_NOT_LOADED"
    assert driver_loaded(f, CTX).status == "fail"


def test_loaded_version_mismatch_is_left_to_its_own_check():
    f = _bare()
    f.nvml.error = "NVML_ERROR_LIB_RM_VERSION_MISMATCH"
    o = driver_loaded(f, CTX)
    assert o.status == "skip" and "driver.version_mismatch" in o.summary


def test_loaded_driver_not_loaded_fails_with_dkms_fix():
    f = _bare()
    f.nvml.error = "NVML_ERROR_DRIVER_NOT_LOADED"
    o = driver_loaded(f, CTX)
    assert o.status == "fail"
    assert "kernel module is not loaded (NVML_ERROR_DRIVER_NOT_LOADED)" in o.summary
    assert "sudo dkms autoinstall" in o.fix
    assert "mokutil --sb-state" in o.detail


def test_loaded_library_not_found_without_signs_skips():
    f = _bare()
    f.nvml.error = "NVML_ERROR_LIBRARY_NOT_FOUND"
    o = driver_loaded(f, CTX)
    assert o.status == "skip"
    assert o.summary == ("skipped: no NVIDIA driver and no sign of an NVIDIA GPU "
                         "(NVML_ERROR_LIBRARY_NOT_FOUND); GPU checks skipped")


def test_loaded_library_not_found_with_a_sign_fails_with_install_fix():
    f = _bare()
    f.nvml.error = "NVML_ERROR_LIBRARY_NOT_FOUND"
    f.driver.modules = {"nouveau": True}
    o = driver_loaded(f, CTX)
    assert o.status == "fail"
    assert o.summary == ("NVIDIA GPU likely present (the nouveau module is loaded) but no driver "
                         "library (NVML_ERROR_LIBRARY_NOT_FOUND)")
    assert "sudo ubuntu-drivers install" in o.fix and "--gpus all" in o.fix


def test_loaded_any_not_found_error_with_a_sign_is_a_missing_library():
    # Pins today's rule: any *NOT_FOUND init error reads as "no driver library". NVML's
    # ERROR_NOT_FOUND (6) and ERROR_FUNCTION_NOT_FOUND (13) mean something else (see the note
    # docs/notes/2026-12-03/driver.md); change this test with the rule if it is narrowed.
    f = _bare()
    f.nvml.error = "NVML_ERROR_NOT_FOUND"
    f.torch.device_count = 1
    o = driver_loaded(f, CTX)
    assert o.status == "fail" and "no driver library" in o.summary


def test_loaded_other_error_with_signs_fails_generically():
    f = _bare()
    f.nvml.error = "NVML_ERROR_UNKNOWN"
    f.driver.modules = {"nvidia": True}
    o = driver_loaded(f, CTX)
    assert o.status == "fail"
    assert o.summary == "NVML could not start: NVML_ERROR_UNKNOWN"
    assert o.detail == "Signs of a GPU: the nvidia module is loaded."
    assert o.fix.startswith("nvidia-smi")


def test_loaded_other_error_without_signs_skips():
    f = _bare()
    f.nvml.error = "NVML_ERROR_UNKNOWN"
    o = driver_loaded(f, CTX)
    assert o.status == "skip" and "no sign of an NVIDIA GPU (NVML_ERROR_UNKNOWN)" in o.summary


def test_loaded_no_error_no_reason_defaults_to_did_not_start():
    f = _bare()
    o = driver_loaded(f, CTX)
    assert o.status == "skip" and "(NVML did not start)" in o.summary
    f.driver.modules = {"nvidia": True}
    o = driver_loaded(f, CTX)
    assert o.status == "fail" and o.summary == "NVML could not start: NVML did not start"


# --- driver.version_mismatch ---------------------------------------------------------------

RELOAD_KEY = "sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia"


def test_mismatch_from_nvml_error_names_the_kernel_module():
    f = _bare()
    f.nvml.error = "NVML_ERROR_LIB_RM_VERSION_MISMATCH"
    f.driver.kernel_module_version = "535.161.07"
    o = version_mismatch(f, CTX)
    assert o.status == "fail"
    assert o.summary.endswith("module (kernel module 535.161.07)")
    assert RELOAD_KEY in o.fix and "sudo reboot" in o.fix


def test_mismatch_from_nvml_error_without_kernel_version():
    f = _bare()
    f.nvml.error = "NVML_ERROR_LIB_RM_VERSION_MISMATCH"
    o = version_mismatch(f, CTX)
    assert o.status == "fail" and o.summary.endswith("loaded kernel module")


def test_mismatch_from_nvidia_smi_message_any_case():
    f = healthy(1)
    f.nvml = NvmlFacts(available=False, error=None)
    f.driver.nvidia_smi_error = "Failed to initialize NVML: Driver/library Version Mismatch"
    o = version_mismatch(f, CTX)
    assert o.status == "fail" and RELOAD_KEY in o.fix


def test_mismatch_versions_differ_or_match():
    f = healthy(1)
    f.driver.kernel_module_version = "550.54.14"
    o = version_mismatch(f, CTX)
    assert o.status == "fail"
    assert o.summary == "NVML driver 550.54.15 != kernel module 550.54.14"
    assert RELOAD_KEY in o.fix
    f.driver.kernel_module_version = "550.54.15"
    o = version_mismatch(f, CTX)
    assert o.status == "ok"
    assert o.summary == "user-space driver and kernel module are both 550.54.15"


def test_mismatch_without_one_version_cannot_compare_but_nvml_runs():
    f = healthy(1)
    f.driver.kernel_module_version = None
    assert version_mismatch(f, CTX).summary == "NVML started with driver 550.54.15"
    f.driver.kernel_module_version = "535.161.07"
    f.nvml.driver_version = None
    o = version_mismatch(f, CTX)
    assert o.status == "ok" and o.summary == "NVML started with driver ?"


def test_mismatch_paste_origin_says_none_reported():
    f = healthy(1)
    f.origin = "nvidia-smi"
    f.driver.kernel_module_version = None
    o = version_mismatch(f, CTX)
    assert o.status == "ok"
    assert o.summary == "driver 550.54.15; no mismatch reported in the paste"
    f.nvml.driver_version = None
    assert version_mismatch(f, CTX).summary == "driver ?; no mismatch reported in the paste"


def test_mismatch_not_available_skips_with_the_best_reason():
    f = _bare()
    f.nvml.error = "NVML_ERROR_DRIVER_NOT_LOADED"
    f.not_collected = {"nvml": "not in the paste"}
    assert version_mismatch(f, CTX).summary == "skipped: cannot compare: NVML_ERROR_DRIVER_NOT_LOADED"
    f.nvml.error = None
    assert version_mismatch(f, CTX).summary == "skipped: cannot compare: not in the paste"
    f.not_collected = {}
    o = version_mismatch(f, CTX)
    assert o.status == "skip" and o.summary == "skipped: cannot compare: no NVML"


def test_mismatch_kernel_version_alone_without_nvml_is_skipped():
    f = _bare()
    f.driver.kernel_module_version = "550.54.15"
    f.nvml.driver_version = "535.161.07"   # a stale value; NVML did not start
    assert version_mismatch(f, CTX).status == "skip"


# --- driver.nouveau ------------------------------------------------------------------------

def test_nouveau_modules_unknown_skips_with_reason():
    f = _bare()
    assert nouveau(f, CTX).summary == "skipped: kernel modules not collected"
    f.not_collected = {"driver": "no lsmod in the paste"}
    assert nouveau(f, CTX).summary == "skipped: no lsmod in the paste"


def test_nouveau_loaded_fails_with_blacklist_fix():
    f = _bare()
    f.driver.modules = {"nouveau": True}
    o = nouveau(f, CTX)
    assert o.status == "fail"
    assert "blacklist-nouveau.conf" in o.fix and "update-initramfs -u" in o.fix


def test_nouveau_absent_or_false_is_ok():
    f = _bare()
    f.driver.modules = {}
    assert nouveau(f, CTX).status == "ok"
    f.driver.modules = {"nouveau": False}
    o = nouveau(f, CTX)
    assert o.status == "ok" and o.summary == "nouveau is not loaded"


# --- driver.uvm ----------------------------------------------------------------------------

def _uvm_box(nvidia: bool = True, nvidia_uvm: bool = False, cuda: bool | None = False) -> Facts:
    f = healthy(1)
    f.driver.modules = {"nvidia": nvidia, "nvidia_uvm": nvidia_uvm, "nouveau": False}
    f.torch.cuda_available = cuda
    return f


def test_uvm_skips_without_modules_or_without_nvml():
    f = _uvm_box()
    f.driver.modules = None
    assert uvm(f, CTX).summary == "skipped: kernel modules not collected"
    f.not_collected = {"modules": "no lsmod"}
    assert uvm(f, CTX).summary == "skipped: no lsmod"
    f = _uvm_box()
    f.nvml = NvmlFacts(available=False, error="NVML_ERROR_DRIVER_NOT_LOADED")
    assert uvm(f, CTX).summary == "skipped: NVML_ERROR_DRIVER_NOT_LOADED"


def test_uvm_wsl_skips():
    f = _uvm_box()
    f.host.wsl = True
    o = uvm(f, CTX)
    assert o.status == "skip" and "WSL" in o.summary


def test_uvm_missing_and_cuda_failed_fails():
    o = uvm(_uvm_box(cuda=False), CTX)
    assert o.status == "fail"
    assert o.fix.startswith("sudo modprobe nvidia_uvm")


def test_uvm_missing_and_cuda_not_probed_warns():
    o = uvm(_uvm_box(cuda=None), CTX)
    assert o.status == "warn" and o.fix == "sudo modprobe nvidia_uvm"


def test_uvm_missing_but_cuda_starts_is_ok():
    o = uvm(_uvm_box(cuda=True), CTX)
    assert o.status == "ok" and "loaded on demand" in o.summary


def test_uvm_loaded_is_ok():
    o = uvm(_uvm_box(nvidia_uvm=True, cuda=False), CTX)
    assert o.status == "ok" and o.summary == "nvidia_uvm is loaded"


def test_uvm_nvidia_module_not_listed_is_unknown_not_a_fault():
    o = uvm(_uvm_box(nvidia=False, nvidia_uvm=False, cuda=False), CTX)
    assert o.status == "ok" and o.summary == "nvidia module state unknown"


# --- driver.dev_nodes ----------------------------------------------------------------------

def test_dev_nodes_unknown_or_wsl_skip():
    f = healthy(1)
    f.driver.dev_nodes = None
    assert dev_nodes(f, CTX).summary == "skipped: device nodes not collected"
    f = healthy(1)
    f.host.wsl = True
    assert dev_nodes(f, CTX).status == "skip"


def test_dev_nodes_none_and_no_nvml_skip():
    f = healthy(1)
    f.nvml = NvmlFacts(available=False)
    f.driver.dev_nodes = _nodes("/dev/nvidiactl", "/dev/nvidia", "/dev/nvidia-caps/nvidia-cap1")
    o = dev_nodes(f, CTX)
    assert o.status == "skip" and "no /dev/nvidiaN nodes" in o.summary


def test_dev_nodes_a_gpu_node_without_nvml_is_judged():
    f = healthy(1)
    f.nvml = NvmlFacts(available=False, gpu_count=2)
    f.driver.dev_nodes = _nodes("/dev/nvidia0")
    o = dev_nodes(f, CTX)
    assert o.status == "ok" and o.summary == "1 GPU device node(s) readable and writable"


def test_dev_nodes_healthy_counts_only_numbered_nodes():
    o = dev_nodes(healthy(2), CTX)
    assert o.status == "ok" and o.summary == "2 GPU device node(s) readable and writable"


def test_dev_nodes_denied_read_or_write_fails():
    for readable, writable in ((False, True), (True, False)):
        f = healthy(1)
        f.driver.dev_nodes[0] = DeviceNode("/dev/nvidia0", "crw-------", readable, writable)
        o = dev_nodes(f, CTX)
        assert o.status == "fail", (readable, writable)
        assert o.summary == "no read/write access to /dev/nvidia0"
        assert "usermod -aG video" in o.fix


def test_dev_nodes_unknown_access_is_not_denied():
    f = healthy(1)
    f.driver.dev_nodes = [DeviceNode(n.path, None, None, None) for n in f.driver.dev_nodes]
    assert dev_nodes(f, CTX).status == "ok"


def test_dev_nodes_missing_uvm_node_fails_unless_cuda_starts():
    for cuda in (False, None):
        f = healthy(1)
        f.driver.dev_nodes = _nodes("/dev/nvidia0", "/dev/nvidiactl")
        f.torch.cuda_available = cuda
        o = dev_nodes(f, CTX)
        assert o.status == "fail", cuda
        assert o.summary == "/dev/nvidia-uvm is missing: CUDA cannot start"
        assert "sudo modprobe nvidia_uvm" in o.fix
    f.torch.cuda_available = True
    assert dev_nodes(f, CTX).status == "ok"


def test_dev_nodes_missing_uvm_node_without_nvml_is_not_judged_as_uvm():
    f = healthy(1)
    f.nvml = NvmlFacts(available=False)
    f.driver.dev_nodes = _nodes("/dev/nvidia0")
    f.torch.cuda_available = False
    assert dev_nodes(f, CTX).status == "ok"


def test_dev_nodes_nvml_with_zero_gpus_and_no_nodes_is_ok():
    f = healthy(1)
    f.nvml = NvmlFacts(available=True, gpu_count=0, gpus=[])
    f.driver.dev_nodes = _nodes("/dev/nvidiactl")
    f.torch.cuda_available = False
    o = dev_nodes(f, CTX)
    assert o.status == "ok" and o.summary == "0 GPU device node(s) readable and writable"


def test_dev_nodes_nvml_gpus_without_any_node_warn():
    f = healthy(2)
    f.driver.dev_nodes = _nodes("/dev/nvidiactl", "/dev/nvidia-uvm")
    o = dev_nodes(f, CTX)
    assert o.status == "warn" and o.summary == "0 /dev/nvidiaN node(s) for 2 GPU(s)"


def test_dev_nodes_one_fewer_node_than_gpus_warns_equal_is_ok():
    f = healthy(2)
    f.driver.dev_nodes = _nodes("/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm")
    o = dev_nodes(f, CTX)
    assert o.status == "warn" and o.summary == "1 /dev/nvidiaN node(s) for 2 GPU(s)"
    assert "nvidia-modprobe -c 0" in o.fix
    f.driver.dev_nodes.append(DeviceNode("/dev/nvidia1", None, True, True))
    assert dev_nodes(f, CTX).status == "ok"


def test_dev_nodes_fewer_nodes_in_a_container_is_ok():
    f = healthy(2)
    f.host.container = "docker"
    f.driver.dev_nodes = _nodes("/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm")
    o = dev_nodes(f, CTX)
    assert o.status == "ok" and o.summary == "1 GPU device node(s) readable and writable"


# --- driver.nvidia_smi ---------------------------------------------------------------------

def test_smi_not_run_in_a_paste_skips():
    f = _bare()
    f.origin = "collect_env"
    assert nvidia_smi(f, CTX).summary == "skipped: nvidia-smi was not run"
    f.not_collected = {"nvidia_smi": "no nvidia-smi section"}
    assert nvidia_smi(f, CTX).summary == "skipped: no nvidia-smi section"


def test_smi_probe_with_driver_section_error_or_not_collected_skips():
    f = _bare()
    f.driver.error = "probe crashed"
    assert nvidia_smi(f, CTX).summary == "skipped: nvidia-smi was not run"
    f = _bare()
    f.not_collected = {"driver": "timed out"}
    assert nvidia_smi(f, CTX).summary == "skipped: timed out"


def test_smi_probe_found_nothing_and_no_driver():
    o = nvidia_smi(_bare(), CTX)
    assert o.status == "skip" and o.summary == "skipped: nvidia-smi not on PATH and no driver"


def test_smi_each_fact_alone_makes_a_paste_judged():
    f = _bare()
    f.origin = "collect_env"
    f.driver.nvidia_smi_ok = False
    f.driver.nvidia_smi_path = "/usr/bin/nvidia-smi"
    assert nvidia_smi(f, CTX).status == "fail"
    f = _bare()
    f.origin = "collect_env"
    f.driver.nvidia_smi_path = "/usr/bin/nvidia-smi"
    o = nvidia_smi(f, CTX)
    assert o.status == "ok" and o.summary == "nvidia-smi ran (/usr/bin/nvidia-smi)"
    f = _bare()
    f.origin = "collect_env"
    f.driver.nvidia_smi_ok = True
    o = nvidia_smi(f, CTX)
    assert o.status == "ok" and o.summary == "nvidia-smi ran (on PATH)"
    f = _bare()
    f.origin = "collect_env"
    f.driver.nvidia_smi_error = "timed out after 10 s"
    assert nvidia_smi(f, CTX).status == "fail"


def test_smi_timed_out_or_hung_fails_with_dmesg_fix():
    for err in ("timed out after 10 s", "hung in D state"):
        f = healthy(1)
        f.driver.nvidia_smi_ok = False
        f.driver.nvidia_smi_error = err
        o = nvidia_smi(f, CTX)
        assert o.status == "fail" and o.summary == f"nvidia-smi hung: {err}"
        assert "dmesg" in o.fix and "Xid" in o.fix


def test_smi_not_on_path_with_nvml_warns_with_branch_package():
    f = healthy(1)
    f.driver.nvidia_smi_path = None
    f.driver.nvidia_smi_ok = None
    o = nvidia_smi(f, CTX)
    assert o.status == "warn"
    assert o.fix.startswith("sudo apt install nvidia-utils-550 ")
    f.nvml.driver_version = None
    assert nvidia_smi(f, CTX).fix.startswith("sudo apt install nvidia-utils-<driver branch> ")


def test_smi_not_on_path_in_a_container_is_ok():
    f = healthy(1)
    f.host.container = "docker"
    f.driver.nvidia_smi_path = None
    f.driver.nvidia_smi_ok = False
    o = nvidia_smi(f, CTX)
    assert o.status == "ok" and "NVIDIA_DRIVER_CAPABILITIES=utility" in o.summary


def test_smi_failed_fails_with_its_error_or_non_zero_exit():
    f = healthy(1)
    f.driver.nvidia_smi_ok = False
    f.driver.nvidia_smi_error = "No devices were found"
    o = nvidia_smi(f, CTX)
    assert o.status == "fail" and o.summary == "nvidia-smi failed: No devices were found"
    f.driver.nvidia_smi_error = None
    assert nvidia_smi(f, CTX).summary == "nvidia-smi failed: non-zero exit"


def test_smi_ran_is_ok():
    o = nvidia_smi(healthy(1), CTX)
    assert o.status == "ok" and o.summary == "nvidia-smi ran (/usr/bin/nvidia-smi)"


# --- driver.persistence_mode ---------------------------------------------------------------

def test_persistence_no_gpus_or_field_unreported_skips():
    f = _bare()
    assert persistence(f, CTX).status == "skip"
    f = healthy(2)
    for g in f.nvml.gpus:
        g.persistence_mode = None
    assert persistence(f, CTX).status == "skip"


def test_persistence_not_linux_skips():
    f = healthy(1)
    f.nvml.gpus[0].persistence_mode = False
    f.host.os = "Windows 11 Pro"
    o = persistence(f, CTX)
    assert o.status == "skip" and "Linux-only" in o.summary


def test_persistence_unknown_os_still_judged():
    f = healthy(1)
    f.nvml.gpus[0].persistence_mode = False
    f.host.os = None
    assert persistence(f, CTX).status == "warn"


def test_persistence_off_on_datacenter_gpus_warns_with_their_indices():
    f = healthy(3)
    f.nvml.gpus[0].persistence_mode = False
    f.nvml.gpus[2].persistence_mode = False
    o = persistence(f, CTX)
    assert o.status == "warn"
    assert o.summary == ("persistence mode off on GPU 0 (NVIDIA H100 80GB HBM3), "
                         "GPU 2 (NVIDIA H100 80GB HBM3)")
    assert o.fix.startswith("sudo nvidia-smi -i 0,2 -pm 1")


@pytest.mark.parametrize("display", [True, None])
def test_persistence_off_on_desktop_gpu_with_a_display_or_unknown_is_ok(display):
    f = healthy(1)
    f.nvml.gpus = [gpu(0, name="NVIDIA GeForce RTX 4090", persistence_mode=False,
                       display_active=display)]
    o = persistence(f, CTX)
    assert o.status == "ok"
    assert o.summary.startswith("persistence mode off on 1 desktop GPU(s) driving a display")


@pytest.mark.parametrize("name", ["NVIDIA GeForce RTX 4090", "NVIDIA RTX A6000",
                                  "NVIDIA RTX 6000 Ada Generation"])
def test_persistence_off_on_a_gpu_driving_no_display_warns_whatever_its_line(name):
    # a headless box of workstation or GeForce cards: nothing holds the driver's state
    f = healthy(1)
    f.nvml.gpus = [gpu(0, name="NVIDIA GeForce RTX 4090", persistence_mode=True),
                   gpu(1, name=name, persistence_mode=False, display_active=False)]
    o = persistence(f, CTX)
    assert o.status == "warn"
    assert o.summary == f"persistence mode off on GPU 1 ({name})"
    assert o.fix.startswith("sudo nvidia-smi -i 1 -pm 1")


def test_persistence_off_on_a_datacenter_gpu_warns_when_its_display_state_is_unreported():
    # an H100 drives no display; with display_active not reported it still warns (a GeForce
    # card in the same state is ok: test_persistence_off_on_desktop_gpu_with_a_display_or_unknown)
    f = healthy(1)
    f.nvml.gpus = [gpu(0, name="NVIDIA H100 80GB HBM3", persistence_mode=False, display_active=None)]
    o = persistence(f, CTX)
    assert o.status == "warn" and o.summary == "persistence mode off on GPU 0 (NVIDIA H100 80GB HBM3)"


def test_persistence_on_or_unknown_on_some_is_ok():
    f = healthy(2)
    f.nvml.gpus[1].persistence_mode = None
    o = persistence(f, CTX)
    assert o.status == "ok" and o.summary == "persistence mode on"


def test_persistence_lost_gpu_is_not_judged():
    f = healthy(2)
    f.nvml.gpus[1].persistence_mode = False
    f.nvml.gpus[1].lost = True
    assert persistence(f, CTX).summary == "persistence mode on"


# --- driver.fabric_manager -----------------------------------------------------------------

def _sxm(n: int, cuda: bool | None = False) -> Facts:
    f = healthy(n)
    for g in f.nvml.gpus:
        g.name = "NVIDIA H100 80GB SXM5"
    f.torch.cuda_available = cuda
    return f


def test_fabric_error_802_fails_with_matching_package():
    f = healthy(1)
    f.torch.cuda_init_error = "CUDA error: 802"
    o = fabric_manager(f, CTX)
    assert o.status == "fail"
    assert o.fix.startswith("sudo apt install nvidia-fabricmanager-550 ")
    assert "systemctl enable --now nvidia-fabricmanager" in o.fix


def test_fabric_system_not_initialized_in_torch_error_any_case():
    f = healthy(1)
    f.nvml.driver_version = None
    f.torch.error = "RuntimeError: System not yet initialized"
    o = fabric_manager(f, CTX)
    assert o.status == "fail"
    assert o.fix.startswith("sudo apt install nvidia-fabricmanager-<driver branch> ")


def test_fabric_fewer_than_four_sxm_skips_four_is_judged():
    o = fabric_manager(_sxm(3, cuda=True), CTX)
    assert o.status == "skip" and "not an NVSwitch" in o.summary
    o = fabric_manager(_sxm(4, cuda=True), CTX)
    assert o.status == "ok" and o.summary.startswith("CUDA starts on 4 SXM GPUs")


def test_fabric_hbm3_names_count_as_sxm_lowercase_too():
    f = healthy(4)   # "NVIDIA H100 80GB HBM3"
    f.nvml.gpus[3].name = "nvidia h100 sxm"
    o = fabric_manager(f, CTX)
    assert o.status == "ok" and "on 4 SXM GPUs" in o.summary


def test_fabric_pcie_and_unnamed_gpus_are_not_sxm():
    f = _sxm(4, cuda=True)
    f.nvml.gpus[0].name = None
    f.nvml.gpus[1].name = "NVIDIA H100 PCIe"
    assert fabric_manager(f, CTX).status == "skip"


def test_fabric_lost_gpu_not_counted():
    f = _sxm(4, cuda=True)
    f.nvml.gpus[0].lost = True
    assert fabric_manager(f, CTX).status == "skip"


def test_fabric_cuda_not_probed_or_failed_without_802_skips():
    for cuda in (None, False):
        o = fabric_manager(_sxm(8, cuda=cuda), CTX)
        assert o.status == "skip" and "cannot tell whether Fabric Manager runs" in o.summary

"""Each doctor check: one case that triggers it and one that clears it (facts built directly)."""

from __future__ import annotations

import pytest

from rigcheck.doctor import all_checks, run_checks
from rigcheck.facts import DeviceNode, DiskFacts, GpuProcess, P2PLink
from rigcheck.recipes import Recipe
from tests.doctor_factories import by_id, cpu_box, gpu, healthy


def _run(facts, targets=(), predictions=None):
    return by_id(run_checks(facts, targets, predictions=predictions))


def _g(f, **kw):
    for k, v in kw.items():
        setattr(f.nvml.gpus[0], k, v)


def _env(f, **kw):
    f.python.env.update(kw)


def _amd(f, gfx="gfx1100"):  # an RX 7900 XTX box with the ROCm 6.2 wheel
    from rigcheck.facts import AmdFacts, AmdGpu, DeviceNode

    f.amd = AmdFacts(available=True, gpus=[AmdGpu(0, "AMD Radeon RX 7900 XTX", gfx)],
                     kfd_present=True, kfd_accessible=True,
                     render_nodes=[DeviceNode("/dev/dri/renderD128", "crw-rw----", True, True)])
    f.torch.hip_build, f.torch.cuda_build, f.torch.version = "6.2.41133", None, "2.5.1+rocm6.2"
    f.torch.arch_list = ["gfx90a", "gfx942", "gfx1030", "gfx1100"]
    f.host.user_groups = ["u", "render"]


def _mac(f):
    f.host.os, f.host.macos_version, f.host.arch, f.host.rosetta = "Darwin 23.4.0", "14.4", "arm64", False
    f.torch.mps_built, f.torch.mps_available = True, True


def _xpu(f):
    f.torch.xpu_available, f.torch.xpu_device_count, f.torch.xpu_devices = True, 1, ["Intel Arc A770"]


def _recipe(**kw) -> Recipe:
    base = dict(
        id="big-lm", name="Big LM", model="gpt", family="transformer", input_shape=(1024,),
        batch_size=32, precision="fp32", optimizer="adamw", dataset="web", dataset_samples=1_000_000,
        bytes_per_sample=4096, epochs=1.0, params=7_000_000_000, trainable_params=7_000_000_000,
        fwd_flops_per_sample=1.4e13, train_flops_per_sample=4.2e13,
        activation_bytes_per_sample=2e9,
    )
    base.update(kw)
    return Recipe(**base)


SMALL = _recipe(id="small-cnn", params=11_000_000, trainable_params=11_000_000,
                activation_bytes_per_sample=20e6, batch_size=64, dataset_samples=50_000,
                bytes_per_sample=3000)


def _driver_not_loaded(f):
    f.nvml.available, f.nvml.error, f.nvml.gpus = False, "NVML_ERROR_DRIVER_NOT_LOADED", []


def _mismatch(f):
    f.nvml.available, f.nvml.error, f.nvml.gpus = False, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", []


def _no_driver_with_nouveau(f):
    f.nvml.available, f.nvml.error, f.nvml.gpus = False, "NVML_ERROR_LIBRARY_NOT_FOUND", []
    f.driver.modules = {"nvidia": False, "nouveau": True}


def _in_container_without_gpu(f):
    f.nvml.available, f.nvml.error, f.nvml.gpus = False, "NVML_ERROR_LIBRARY_NOT_FOUND", []
    f.driver.dev_nodes = []
    f.host.container = "docker"


def _wsl(f):
    f.host.wsl = True
    f.driver.modules = {"nvidia": False, "nouveau": False}
    f.driver.proc_version = None


def _busy(f, **kw):
    _g(f, **{"throttle_reasons": [], "utilization_gpu_pct": 98.0, **kw})


# (check id, mutation that triggers it, expected status, words expected in the summary)
TRIGGERS = [
    ("driver.loaded", _driver_not_loaded, "fail", "not loaded"),
    ("driver.loaded", _no_driver_with_nouveau, "fail", "no driver library"),
    ("driver.version_mismatch", _mismatch, "fail", "mismatch"),
    ("driver.version_mismatch", lambda f: setattr(f.driver, "kernel_module_version", "535.161.07"),
     "fail", "535.161.07"),
    ("driver.nouveau", lambda f: f.driver.modules.update(nouveau=True), "fail", "nouveau"),
    ("driver.uvm", lambda f: (f.driver.modules.update(nvidia_uvm=False),
                              setattr(f.torch, "cuda_available", False)), "fail", "nvidia_uvm"),
    ("driver.uvm", lambda f: (f.driver.modules.update(nvidia_uvm=False),
                              setattr(f.torch, "cuda_available", None)), "warn", "nvidia_uvm"),
    ("driver.dev_nodes", lambda f: setattr(f.driver.dev_nodes[0], "writable", False), "fail", "/dev/nvidia0"),
    ("driver.nvidia_smi", lambda f: (setattr(f.driver, "nvidia_smi_ok", False),
                                     setattr(f.driver, "nvidia_smi_error", "timed out after 10 s")),
     "fail", "hung"),
    ("driver.persistence_mode", lambda f: _g(f, persistence_mode=False), "warn", "GPU 0"),
    ("driver.fabric_manager", lambda f: (setattr(f.torch, "cuda_available", False), setattr(
        f.torch, "cuda_init_error", "CUDA error: system not yet initialized (Error 802)")), "fail", "802"),
    ("libs.cudnn", lambda f: setattr(f.torch, "cuda_init_error",
                                     "RuntimeError: cuDNN version incompatibility: PyTorch was compiled "
                                     "against (8, 3, 2) but linked against (8, 0, 3)"), "fail", "(8, 0, 3)"),
    ("driver.nvidia_smi", lambda f: (setattr(f.driver, "nvidia_smi_path", None),
                                     setattr(f.driver, "nvidia_smi_ok", None)), "warn", "not on PATH"),
    ("gpu.lost", lambda f: setattr(f.nvml.gpus[1], "lost", True), "fail", "1 of 2 GPUs lost"),
    ("gpu.ecc_errors", lambda f: _g(f, ecc_uncorrected_volatile=2), "fail", "GPU 0 (NVIDIA H100 80GB HBM3): 2"),
    ("gpu.ecc_errors", lambda f: _g(f, ecc_uncorrected_aggregate=5), "warn", "5"),
    ("gpu.retired_pages", lambda f: _g(f, retired_pages_pending=True, retired_pages_sbe=1,
                                       retired_pages_dbe=0), "fail", "pending"),
    ("gpu.retired_pages", lambda f: _g(f, retired_pages_pending=False, retired_pages_sbe=40,
                                       retired_pages_dbe=30), "fail", "70"),
    ("gpu.row_remap", lambda f: _g(f, remapped_rows_pending=True), "fail", "pending"),
    ("gpu.row_remap", lambda f: _g(f, remapped_rows_failure=True), "fail", "failed"),
    ("gpu.ecc_mode_pending", lambda f: _g(f, ecc_mode_pending=False), "warn", "on -> off"),
    ("gpu.thermal", lambda f: _busy(f, throttle_reasons=["HwThermalSlowdown"], temperature_c=92.0),
     "fail", "HwThermalSlowdown at 92.0"),
    ("gpu.thermal", lambda f: _g(f, temperature_c=87.0), "warn", "87 °C"),
    ("gpu.power_throttle", lambda f: _busy(f, throttle_reasons=["SwPowerCap"], power_draw_w=200.0),
     "warn", "200 W of 700 W"),
    ("gpu.power_throttle", lambda f: _g(f, throttle_reasons=["HwPowerBrakeSlowdown"]), "fail", "brake"),
    ("gpu.power_limit", lambda f: _g(f, power_limit_w=400.0), "warn", "400 W of default 700 W"),
    ("gpu.memory_in_use", lambda f: _g(f, memory_used_mib=60000.0, processes=[
        GpuProcess(4242, "python", 60000.0)]), "warn", "pid 4242"),
    ("gpu.memory_in_use", lambda f: _g(f, memory_used_mib=60000.0, processes=[]), "warn", "idle"),
    ("gpu.compute_mode", lambda f: _g(f, compute_mode="Exclusive_Process",
                                      processes=[GpuProcess(7, "python", 100.0)]), "fail", "Exclusive_Process"),
    ("gpu.compute_mode", lambda f: _g(f, compute_mode="Prohibited"), "fail", "Prohibited"),
    ("gpu.compute_mode", lambda f: _g(f, compute_mode="Exclusive_Process"), "warn", "exclusive"),
    ("gpu.mig", lambda f: _g(f, mig_mode_current=True, mig_mode_pending=True), "warn", "MIG enabled"),
    ("gpu.mig", lambda f: _g(f, mig_mode_pending=True), "warn", "pending"),
    ("gpu.display", lambda f: _g(f, display_active=True), "warn", "GPU 0"),
    ("pcie.link_under_load", lambda f: _busy(f, pcie_width_current=4), "fail", "Gen5 x4 (max Gen5 x16)"),
    ("pcie.slot_width", lambda f: _g(f, pcie_width_max=4, pcie_width_current=4), "warn", "x4 max"),
    ("pcie.p2p", lambda f: setattr(f.nvml, "p2p", [P2PLink(0, 1, "NOT_SUPPORTED")]), "warn", "NOT_SUPPORTED"),
    ("torch.installed", lambda f: setattr(f.torch, "error", "import raised OSError: libcudnn.so.9"), "fail", "OSError"),
    ("torch.installed", lambda f: (setattr(f.torch, "installed", False), setattr(f.torch, "version", None)),
     "warn", "not installed"),
    ("torch.cpu_only_on_gpu", lambda f: (setattr(f.torch, "version", "2.5.1+cpu"),
                                         setattr(f.torch, "cuda_build", None)), "fail", "CPU-only torch 2.5.1+cpu"),
    ("torch.arch_missing", lambda f: (_g(f, compute_capability="12.0", name="NVIDIA GeForce RTX 5090"),
                                      setattr(f.nvml.gpus[1], "compute_capability", "12.0")),
     "fail", "sm_120"),
    ("torch.arch_missing", lambda f: (setattr(f.torch, "version", "2.9.0+cu128"),
                                      setattr(f.torch, "cuda_build", "12.8"),
                                      setattr(f.torch, "arch_list", ["sm_80", "sm_90", "sm_120"]),
                                      _g(f, compute_capability="12.1", name="NVIDIA GB10")),
     "warn", "sm_121"),
    ("torch.arch_missing", lambda f: _g(f, compute_capability="3.5", name="NVIDIA GeForce GTX TITAN Black"),
     "fail", "oldest arch"),
    ("torch.driver_too_old", lambda f: (setattr(f.nvml, "cuda_driver_version", "11.4"),
                                        setattr(f.nvml, "driver_version", "470.82.01")),
     "fail", "470.82.01"),
    ("torch.cuda_available", lambda f: (setattr(f.torch, "cuda_available", False),
                                        setattr(f.torch, "cuda_init_error", "CUDA unknown error")),
     "fail", "CUDA unknown error"),
    ("torch.cuda_visible_devices", lambda f: _env(f, CUDA_VISIBLE_DEVICES=""), "fail", "empty"),
    ("torch.cuda_visible_devices", lambda f: _env(f, CUDA_VISIBLE_DEVICES="2,3"), "fail", "index 2 does not exist"),
    ("torch.cuda_visible_devices", lambda f: _env(f, CUDA_VISIBLE_DEVICES="0,5,1"), "warn", "ignored after it: 1"),
    ("torch.cuda_visible_devices", lambda f: _env(f, CUDA_VISIBLE_DEVICES="GPU-deadbeef"), "fail", "matches no GPU"),
    ("torch.cuda_visible_devices", lambda f: _env(f, CUDA_VISIBLE_DEVICES="-1"), "fail", "hides"),
    ("torch.device_count", lambda f: setattr(f.torch, "device_count", 1), "warn", "1 of the 2"),
    ("torch.device_order", lambda f: setattr(f.nvml.gpus[1], "name", "NVIDIA RTX A4000"), "warn", "CUDA_DEVICE_ORDER"),
    ("torch.nvcc", lambda f: setattr(f.python, "nvcc_version", "11.8"), "warn", "nvcc 11.8"),
    ("libs.shadowed_cuda", lambda f: f.torch.loaded_libs.append("/usr/local/cuda-11.8/lib64/libcudnn.so.8"),
     "fail", "/usr/local/cuda-11.8"),
    ("libs.shadowed_cuda", lambda f: (setattr(f.torch, "loaded_libs", None),
                                      _env(f, LD_LIBRARY_PATH="/usr/local/cuda/lib64")), "warn", "LD_LIBRARY_PATH"),
    ("libs.cudnn", lambda f: setattr(f.torch, "cudnn_version", None), "warn", "cuDNN did not load"),
    ("libs.numpy", lambda f: (setattr(f.torch, "version", "2.2.2+cu121"), setattr(f.torch, "cuda_build", "12.1"),
                              setattr(f.torch, "numpy_version", "2.0.1")), "fail", "NumPy 2.0.1 with torch 2.2.2"),
    ("libs.numpy", lambda f: setattr(f.torch, "numpy_error",
                                     "A module that was compiled using NumPy 1.x cannot be run in NumPy 2.0.0"),
     "fail", "NumPy 1.x"),
    ("libs.numpy", lambda f: setattr(f.torch, "numpy_version", None), "warn", "not installed"),
    # torch's warning when NumPy is simply absent is the "not installed" warning, not a failure.
    ("libs.numpy", lambda f: (setattr(f.torch, "numpy_version", None),
                              setattr(f.torch, "numpy_error", "Failed to initialize NumPy: No module "
                                      "named 'numpy' (Triggered internally at tensor_numpy.cpp:84.)")),
     "warn", "not installed"),
    ("libs.nvidia_wheels", lambda f: f.torch.nvidia_wheels.update({"nvidia-cudnn-cu11": "8.7.0.84"}),
     "warn", "nvidia-cudnn-cu11"),
    ("libs.nccl", lambda f: setattr(f.torch, "nccl_version", None), "warn", "no NCCL"),
    ("libs.conda_cpuonly", lambda f: setattr(f.python, "conda_packages", {"cpuonly": "2.0", "pytorch": "1.13.1"}),
     "fail", "cpuonly"),
    ("sys.ram_vs_gpu", lambda f: setattr(f.host, "ram_total_gb", 64.0), "warn", "64 GB RAM < 159 GB"),
    ("sys.swap", lambda f: setattr(f.host, "swap_total_gb", 0.0), "warn", "no swap"),
    ("sys.cgroup_memory", lambda f: setattr(f.host, "cgroup_memory_limit_gb", 32.0), "warn", "32.0 GB"),
    ("sys.ulimit_nofile", lambda f: setattr(f.host, "ulimit_nofile_soft", 1024), "warn", "1024"),
    ("sys.memlock", lambda f: setattr(f.host, "ulimit_memlock_soft_kb", 8192), "warn", "8192 KiB"),
    ("sys.cpu_avx2", lambda f: f.host.cpu_flags.update(avx2=False), "warn", "no AVX2"),
    ("sys.cpu_avx2", lambda f: setattr(f.host, "cpu_flags", {"avx": False, "avx2": False}), "fail", "no AVX"),
    ("sys.cpu_governor", lambda f: setattr(f.host, "cpu_governor", "powersave"), "warn", "acpi-cpufreq"),
    ("sys.cpu_per_gpu", lambda f: setattr(f.host, "threads", 4), "warn", "2.0 per GPU"),
    ("sys.disk_space", lambda f: setattr(f.host.disks[0], "free_gb", 0.5), "fail", "0.5 GB free"),
    ("sys.disk_space", lambda f: setattr(f.host.disks[2], "free_gb", 8.0), "warn", "tmp /tmp: 8.0 GB"),
    ("container.shm", lambda f: (setattr(f.host, "shm_total_gb", 0.0625), setattr(f.host, "container", "docker")),
     "fail", "64 MB"),
    ("container.shm", lambda f: setattr(f.host, "shm_total_gb", 0.5), "warn", "512 MB"),
    ("container.nvidia_runtime", _in_container_without_gpu, "warn", "no /dev/nvidia*"),
    ("container.cuda_compat", lambda f: setattr(
        f.torch, "cuda_init_error", "Error 804: forward compatibility was attempted on non supported HW"),
     "fail", "804"),
    ("wsl.lib_path", lambda f: (_wsl(f), setattr(f.torch, "loaded_libs", ["/usr/lib/x86_64-linux-gnu/libcuda.so.1"])),
     "fail", "libcuda"),
    ("wsl.lib_path", lambda f: (_wsl(f), _env(f, LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/lib/wsl/lib")),
     "warn", "/usr/local/cuda/lib64"),
    ("wsl.linux_driver", lambda f: (_wsl(f), f.driver.modules.update(nvidia=True)), "fail", "inside WSL"),
    ("perf.debug_env", lambda f: _env(f, CUDA_LAUNCH_BLOCKING="1"), "warn", "CUDA_LAUNCH_BLOCKING=1"),
    ("perf.debug_env", lambda f: _env(f, CUDA_PROFILE="1"), "warn", "CUDA_PROFILE"),
    ("perf.debug_env", lambda f: _env(f, CUDA_MODULE_LOADING="EAGER"), "warn", "CUDA_MODULE_LOADING=EAGER"),
    ("perf.nccl_env", lambda f: _env(f, NCCL_P2P_DISABLE="1"), "warn", "although P2P works"),
    ("torch.python_version", lambda f: (setattr(f.python, "version", "3.8.10"), setattr(f.torch, "version", None),
                                        setattr(f.torch, "installed", False)), "warn", "Python 3.8.10"),
    ("perf.cpu_threads", lambda f: setattr(f.torch, "num_threads", 1), "warn", "1 CPU thread"),
    # LLM stack (expectations from the libraries' changelogs; see tests/test_doctor_llm_stack.py)
    ("stack.versions", lambda f: setattr(f.torch, "stack", {"peft": "0.13.0"}), "ok", "peft 0.13.0"),
    # AMD ROCm, Apple MPS, Intel XPU (see tests/test_doctor_platform.py)
    ("rocm.torch_build", lambda f: (_amd(f), setattr(f.torch, "hip_build", None),
                                    setattr(f.torch, "cuda_build", "12.4")), "fail", "CUDA 12.4 build"),
    ("rocm.gfx_target", lambda f: _amd(f, "gfx1031"), "fail", "gfx1031"),
    ("rocm.hsa_override", lambda f: (_amd(f), _env(f, HSA_OVERRIDE_GFX_VERSION="10.3.0")), "fail",
     "forces gfx1030 kernels"),
    ("rocm.kfd", lambda f: (_amd(f), setattr(f.amd, "kfd_accessible", False)), "fail", "/dev/kfd"),
    ("mps.available", lambda f: (_mac(f), setattr(f.torch, "mps_available", False),
                                 setattr(f.host, "macos_version", "12.0")), "fail", "macOS 12.0"),
    ("xpu.available", _xpu, "ok", "Intel Arc A770"),
    ("perf.tf32_container", lambda f: (_env(f, NVIDIA_PYTORCH_VERSION="24.05"),
                                       setattr(f.torch, "tf32_matmul", None)), "ok",
     "NGC PyTorch container 24.05: fp32 matmuls use TF32 (NGC container default); rigcheck estimate --tf32 on"),
    ("stack.torch_pin", lambda f: setattr(f.torch, "stack", {"xformers": "0.0.30"}), "fail",
     "needs torch 2.7.0"),
    ("stack.triton", lambda f: setattr(f.torch, "stack", {"triton": "3.2.0"}), "fail",
     "requires triton 3.1.x"),
    ("stack.gpu_arch", lambda f: (setattr(f.torch, "stack", {"flash-attn": "2.6.3"}),
                                  [setattr(g, "compute_capability", "7.5") for g in f.nvml.gpus]),
     "fail", "flash-attn 2.6.3 needs compute capability >= 8.0"),
    ("stack.os", lambda f: (setattr(f.torch, "stack", {"bitsandbytes": "0.42.0"}),
                            setattr(f.host, "os", "Microsoft Windows 11 Pro")), "fail", "bitsandbytes 0.42.0 on windows"),
    ("stack.gpu_build", lambda f: (setattr(f.torch, "stack", {"vllm": "0.8.5"}),
                                   setattr(f.torch, "cuda_build", None)), "warn", "CPU-only build"),
    ("stack.deepspeed_nvcc", lambda f: (setattr(f.torch, "stack", {"deepspeed": "0.15.4"}),
                                        setattr(f.python, "nvcc_version", "11.8")), "fail",
     "nvcc 11.8 but torch is built for CUDA 12.4"),
]

# (check id, mutation that makes the check applicable while healthy; the result must be "ok")
def _hgx(f):  # 8 SXM H100s behind NVSwitch
    f.nvml.gpus += [gpu(i) for i in range(2, 8)]
    f.nvml.gpu_count = 8


CLEARS = {
    "rocm.torch_build": _amd, "rocm.gfx_target": _amd, "rocm.kfd": _amd,
    "mps.available": _mac, "xpu.available": _xpu,
    "driver.fabric_manager": _hgx,
    "wsl.lib_path": _wsl,
    "wsl.linux_driver": _wsl,
    "container.nvidia_runtime": lambda f: setattr(f.host, "container", "docker"),
    "libs.conda_cpuonly": lambda f: setattr(f.python, "conda_packages", {"pytorch": "2.5.1"}),
    "gpu.retired_pages": lambda f: [setattr(g, k, v) for g in f.nvml.gpus for k, v in
                                    (("retired_pages_pending", False), ("retired_pages_sbe", 0),
                                     ("retired_pages_dbe", 0))],
}


@pytest.mark.parametrize("cid,mutate,status,words", TRIGGERS,
                         ids=[f"{t[0]}-{i}" for i, t in enumerate(TRIGGERS)])
def test_trigger(cid, mutate, status, words):
    f = healthy()
    mutate(f)
    got = _run(f)[cid]
    assert got.status == status, got
    assert words in got.summary, got.summary
    if status in ("fail", "warn"):
        assert got.fix, f"{cid} gives no fix"


PASSIVE_IDS = [c.id for c in all_checks() if not c.id.startswith("ready.")]


@pytest.mark.parametrize("cid", PASSIVE_IDS)
def test_clear(cid):
    f = healthy()
    if cid in CLEARS:
        CLEARS[cid](f)
    got = _run(f)[cid]
    assert got.status == "ok", got


def test_every_passive_check_has_a_trigger():
    triggered = {t[0] for t in TRIGGERS}
    untested = set(PASSIVE_IDS) - triggered - {"pcie.numa", "perf.tf32"}
    assert not untested, untested


def test_at_least_40_checks_with_unique_ids():
    ids = [c.id for c in all_checks()]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)


# ---- the reference's idle-state false positives --------------------------------------------------

def test_idle_pcie_downshift_is_not_a_fault():
    f = healthy()
    _g(f, pcie_gen_current=1, pcie_width_current=16, throttle_reasons=["GpuIdle"])
    got = _run(f)["pcie.link_under_load"]
    assert got.status == "ok" and "idle" in got.summary


def test_minor_version_compat_cu113_on_driver_cuda_112_is_fine():
    f = healthy()
    f.nvml.cuda_driver_version, f.nvml.driver_version = "11.2", "460.32.03"
    f.torch.version, f.torch.cuda_build = "1.11.0+cu113", "11.3"
    f.torch.arch_list = None
    _g(f, compute_capability="7.5", name="Tesla T4")
    f.nvml.gpus[1].compute_capability = "7.5"
    got = _run(f)["torch.driver_too_old"]
    assert got.status == "ok" and "minor-version compatibility" in got.summary


def test_intel_pstate_powersave_is_not_flagged():
    f = healthy()
    f.host.cpu_governor, f.host.cpu_freq_driver = "powersave", "intel_pstate"
    assert _run(f)["sys.cpu_governor"].status == "ok"


def test_rtx4090_on_official_wheel_is_compatible_not_warned():
    f = healthy(1)
    _g(f, compute_capability="8.9", name="NVIDIA GeForce RTX 4090")
    assert _run(f)["torch.arch_missing"].status == "ok"


def test_tf32_reported_as_information():
    f = healthy()
    f.torch.tf32_matmul, f.torch.float32_matmul_precision = True, "high"
    got = _run(f)["perf.tf32"]
    assert got.status == "ok" and "TF32 matmul on" in got.summary
    f.torch.tf32_matmul, f.torch.float32_matmul_precision = False, "highest"
    assert "TF32 matmul off" in _run(f)["perf.tf32"].summary


def test_cpu_machine_has_no_failures_and_skips_with_reasons():
    res = run_checks(cpu_box())
    assert not [f for f in res if f.status in ("fail", "warn", "crash")]
    skipped = [f for f in res if f.status == "skip"]
    assert skipped and all(f.summary.startswith("skipped: ") and len(f.summary) > 12 for f in skipped)
    assert by_id(res)["gpu.ecc_errors"].summary == "skipped: no GPU facts: NVML_ERROR_LIBRARY_NOT_FOUND"


def test_memory_of_a_busy_gpu_is_a_running_job_not_a_leak():
    f = healthy()
    _busy(f, memory_used_mib=60000.0, processes=[GpuProcess(1, "python", 60000.0)])
    got = _run(f)["gpu.memory_in_use"]
    assert got.status == "ok" and "running job" in got.summary


def test_cvd_uuid_prefix_and_redacted_uuids():
    f = healthy()
    _env(f, CUDA_VISIBLE_DEVICES="GPU-aaaa0001")
    assert _run(f)["torch.cuda_visible_devices"].status == "ok"
    f.nvml.gpus[0].uuid, f.nvml.gpus[1].uuid = "GPU-<redacted-1>", "GPU-<redacted-2>"
    _env(f, CUDA_VISIBLE_DEVICES="GPU-<redacted-2>")
    assert _run(f)["torch.cuda_visible_devices"].status == "ok"
    _env(f, CUDA_VISIBLE_DEVICES="GPU-<redacted-7>")
    assert _run(f)["torch.cuda_visible_devices"].status == "fail"


def test_nvml_binding_is_not_a_cuda_library_wheel():
    f = healthy()
    f.torch.nvidia_wheels = {"nvidia-ml-py": "12.560.30"}
    f.torch.loaded_libs = ["/usr/local/cuda/lib64/libcudart.so.12"]
    assert _run(f)["libs.shadowed_cuda"].status == "ok"
    assert _run(f)["libs.nvidia_wheels"].status == "ok"


def test_numa_spread_is_reported():
    f = healthy()
    f.nvml.gpus[1].numa_node = 1
    got = _run(f)["pcie.numa"]
    assert got.status == "ok" and "NUMA nodes 0, 1" in got.summary


def test_missing_so_from_a_wheel_gets_the_reinstall_fix():
    f = healthy()
    f.torch.error = "import raised OSError: libcudart.so.12: cannot open shared object file"
    f.torch.version = None
    got = _run(f)["torch.installed"]
    assert got.status == "fail" and "grep -i '^nvidia-'" in got.fix


def test_uvm_loaded_on_demand_is_not_a_fault():
    f = healthy()
    f.driver.modules["nvidia_uvm"] = False
    f.driver.dev_nodes = [n for n in f.driver.dev_nodes if n.path != "/dev/nvidia-uvm"]
    res = _run(f)
    assert res["driver.uvm"].status == "ok" and res["driver.dev_nodes"].status == "ok"


def test_laptop_gpu_on_x4_is_by_design():
    f = healthy(1)
    _g(f, name="NVIDIA GeForce RTX 4070 Laptop GPU", pcie_width_max=4, pcie_width_current=4)
    assert _run(f)["pcie.slot_width"].status == "ok"


def test_cvd_subset_is_ok():
    f = healthy()
    _env(f, CUDA_VISIBLE_DEVICES="1")
    got = _run(f)["torch.cuda_visible_devices"]
    assert got.status == "ok" and "1 of 2" in got.summary


def test_disk_readonly_data_dir_warns():
    f = healthy()
    f.host.disks.append(DiskFacts("data:/mnt/ds", "/mnt/ds", "nfs", 100.0, 50.0, False))
    assert "not writable" in _run(f)["sys.disk_space"].summary


def test_dev_node_count_mismatch_warns():
    f = healthy()
    f.driver.dev_nodes = [n for n in f.driver.dev_nodes if n.path != "/dev/nvidia1"]
    assert _run(f)["driver.dev_nodes"].status == "warn"
    f.driver.dev_nodes.append(DeviceNode("/dev/nvidia1", None, True, True))
    assert _run(f)["driver.dev_nodes"].status == "ok"


# ---- readiness ------------------------------------------------------------------------------------

def test_readiness_skips_without_targets():
    got = _run(healthy())
    assert got["ready.recipe_fit"].status == "skip" and "--target" in got["ready.recipe_fit"].summary


def test_readiness_memory_fit_from_recipe_figures():
    f = healthy(1)
    got = _run(f, [_recipe()])["ready.recipe_fit"]
    assert got.status == "fail" and "big-lm" in got.summary
    assert _run(f, [SMALL])["ready.recipe_fit"].status == "ok"


def test_readiness_uses_predictions_when_given():
    class P:
        fits, memory_gb, samples_per_s, train_s = True, 12.0, 1500.0, 7200.0

    got = _run(healthy(1), [_recipe()], {"big-lm": P()})
    assert got["ready.recipe_fit"].status == "ok" and "12.0 GB" in got["ready.recipe_fit"].summary
    assert got["ready.recipe_time"].status == "ok" and "2.0 h" in got["ready.recipe_time"].summary


def test_readiness_dataset_disk():
    f = healthy(1)
    f.host.disks.append(DiskFacts("data:/mnt/small", "/mnt/small", "ext4", 10.0, 1.0, True))
    got = _run(f, [_recipe()])["ready.dataset_disk"]
    assert got.status == "warn" and "big-lm: web 4 GB" in got.summary
    assert _run(f, [SMALL])["ready.dataset_disk"].status == "ok"


def test_gpu_index_helper_is_used():
    assert gpu(3).index == 3


@pytest.mark.parametrize("env,measured,words", [
    ({}, None, "full fp32 (PyTorch's default since 1.12); rigcheck estimate --tf32 off"),
    ({"TORCH_ALLOW_TF32_CUBLAS_OVERRIDE": "1"}, None, "use TF32 (TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1)"),
    ({"NVIDIA_PYTORCH_VERSION": "24.05", "NVIDIA_TF32_OVERRIDE": "0"}, True, "--tf32 off"),
    ({"NVIDIA_PYTORCH_VERSION": "24.05"}, False, "full fp32 (measured"),
])
def test_tf32_container(env, measured, words):
    f = healthy()
    _env(f, **env)
    f.torch.tf32_matmul = measured
    got = _run(f)["perf.tf32_container"]
    assert got.status == "ok" and words in got.summary, got.summary


@pytest.mark.parametrize("quota,words", [
    (float("inf"), "96 CPU threads"), (float("nan"), "96 CPU threads"), (-2.0, "96 CPU threads"),
    (16.0, "16 CPU threads"), (0.5, "1 CPU thread"),   # half a CPU still runs one thread
])
def test_cpu_per_gpu_with_odd_cgroup_quotas(quota, words):
    f = healthy()
    f.host.cgroup_cpu_limit = quota
    got = _run(f)["sys.cpu_per_gpu"]
    assert got.status != "crash" and words in got.summary, got.summary

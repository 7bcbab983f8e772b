"""Container and WSL checks (rigcheck/doctor/checks/containers_wsl.py) pinned by value.

The rules, from the module and the threads it cites: /dev/shm of at least 1 GB (Docker's
default is 64 MB, pytorch#5040), a failure inside a container and a warning on a bare machine;
a container without NVML is judged by whether /dev/nvidia* was passed in, whether torch is a CUDA
build and whether NVIDIA_VISIBLE_DEVICES is set (nvidia-docker#1642); CUDA error 804 or the
compat libraries with a consumer GPU in a container (TorchPod#43); in WSL libcuda must come from
/usr/lib/wsl/lib and no Linux NVIDIA driver may be installed (WSL#8587, cuml#6218).
"""

from __future__ import annotations

import pytest

from rigcheck.doctor.checks import containers_wsl as cw
from rigcheck.doctor.registry import Context
from rigcheck.facts import DeviceNode
from tests.doctor_factories import healthy


def _out(fn, f):
    out = fn(f, Context())
    return str(out.status), out.summary


# ------------------------------------------------------------------ /dev/shm

@pytest.mark.parametrize(("gb", "container", "expected"), [
    (1.0, "docker", ("ok", "/dev/shm 1.0 GB (docker container)")),
    (1.0, None, ("ok", "/dev/shm 1.0 GB")),
    (0.0625, "docker", ("fail", "/dev/shm is 64 MB in a docker container")),
    (0.99, "podman", ("fail", "/dev/shm is 1014 MB in a podman container")),
    (0.5, None, ("warn", "/dev/shm is 512 MB on this machine")),
])
def test_shm_one_gb_is_the_line(gb, container, expected) -> None:
    f = healthy()
    f.host.shm_total_gb, f.host.container = gb, container
    assert _out(cw.shm, f) == expected


def test_shm_fixes_differ_in_and_out_of_a_container() -> None:
    f = healthy()
    f.host.shm_total_gb, f.host.container = 0.0625, "docker"
    assert "--shm-size" in cw.shm(f, Context()).fix
    f.host.container = None
    assert cw.shm(f, Context()).fix == "sudo mount -o remount,size=16G /dev/shm"


def test_shm_unknown_skips_with_reason() -> None:
    f = healthy()
    f.host.shm_total_gb = None
    assert _out(cw.shm, f) == ("skip", "skipped: /dev/shm size not collected")
    f.not_collected["host"] = "a paste"
    assert _out(cw.shm, f) == ("skip", "skipped: a paste")


# ------------------------------------------------------------------ NVIDIA runtime

def _no_nvml(container="docker", nodes=(), cuda_build="12.4", nvd=None):
    f = healthy()
    f.host.container = container
    f.nvml.available, f.nvml.error, f.nvml.gpus = False, "NVML_ERROR_LIBRARY_NOT_FOUND", []
    f.driver.dev_nodes = None if nodes is None else [DeviceNode(p, "crw-rw-rw-", True, True) for p in nodes]
    f.torch.cuda_build = cuda_build
    if nvd is not None:
        f.python.env["NVIDIA_VISIBLE_DEVICES"] = nvd
    return f


def test_runtime_outside_a_container_skips() -> None:
    f = healthy()
    assert _out(cw.nvidia_runtime, f) == ("skip", "skipped: not in a container")
    f.not_collected["container"] = "a collect_env paste"
    assert _out(cw.nvidia_runtime, f) == ("skip", "skipped: a collect_env paste")


def test_runtime_ok_when_nvml_works_in_the_container() -> None:
    f = healthy()
    f.host.container = "docker"
    assert _out(cw.nvidia_runtime, f) == (
        "ok", "docker container sees 2 GPU(s) through the NVIDIA runtime")


@pytest.mark.parametrize(("cuda_build", "nvd", "status", "why"), [
    ("12.4", "all", "fail", "NVIDIA_VISIBLE_DEVICES='all'"),   # asked for a GPU, got none
    ("12.4", None, "warn", "NVIDIA_VISIBLE_DEVICES is unset"),
    (None, "void", "warn", "NVIDIA_VISIBLE_DEVICES='void'"),
])
def test_runtime_no_device_nodes(cuda_build, nvd, status, why) -> None:
    f = _no_nvml(cuda_build=cuda_build, nvd=nvd)
    assert _out(cw.nvidia_runtime, f) == (status, f"no /dev/nvidia* in this docker container and {why}")


def test_runtime_skips_when_nothing_asked_for_a_gpu() -> None:
    f = _no_nvml(cuda_build=None)
    assert _out(cw.nvidia_runtime, f) == (
        "skip", "skipped: no GPU asked for in this docker container (torch is not a CUDA build, "
                "NVIDIA_VISIBLE_DEVICES unset)")


@pytest.mark.parametrize("nodes", [None, ["/dev/dri/renderD128"]])
def test_runtime_only_dev_nvidia_nodes_count(nodes) -> None:
    assert _out(cw.nvidia_runtime, _no_nvml(nodes=nodes))[0] == "warn"


def test_runtime_nodes_without_nvml_is_a_manual_device_run() -> None:
    f = _no_nvml(nodes=["/dev/dri/renderD128", "/dev/nvidia0"])
    assert _out(cw.nvidia_runtime, f) == (
        "fail", "/dev/nvidia* present in the container but NVML failed: NVML_ERROR_LIBRARY_NOT_FOUND")


# ------------------------------------------------------------------ CUDA forward compatibility

@pytest.mark.parametrize(("init_error", "smi_error"), [
    ("CUDA error: forward compatibility was attempted on non supported HW (Error 804)", None),
    (None, "Failed to initialize NVML: error 804"),
    ("forward compatibility was attempted on non supported HW", None),
])
def test_error_804_fails_from_either_source(init_error, smi_error) -> None:
    f = healthy()
    f.torch.cuda_init_error, f.driver.nvidia_smi_error = init_error, smi_error
    out = cw.cuda_compat(f, Context())
    assert (str(out.status), out.summary) == (
        "fail", "CUDA error 804: forward compatibility was attempted on non supported HW")
    assert "host driver supports CUDA 12.4" in out.fix


def _compat(name, container="docker", libs=("/usr/local/cuda/compat/libcuda.so.1",)):
    f = healthy(1)
    f.nvml.gpus[0].name = name
    f.host.container = container
    f.driver.compat_libs = None if libs is None else list(libs)
    return f


def test_compat_libs_with_a_geforce_in_a_container_warn() -> None:
    assert _out(cw.cuda_compat, _compat("NVIDIA GeForce RTX 4090")) == (
        "warn", "CUDA forward-compat libraries present (/usr/local/cuda/compat/libcuda.so.1) with "
                "NVIDIA GeForce RTX 4090")


@pytest.mark.parametrize(("name", "container", "libs"), [
    ("NVIDIA H100 80GB HBM3", "docker", ("/usr/local/cuda/compat/libcuda.so.1",)),  # datacenter
    ("NVIDIA GeForce RTX 4090", None, ("/usr/local/cuda/compat/libcuda.so.1",)),    # not a container
    ("NVIDIA GeForce RTX 4090", "docker", ()),                                       # no compat libs
])
def test_compat_libs_are_fine_otherwise(name, container, libs) -> None:
    assert _out(cw.cuda_compat, _compat(name, container, libs)) == ("ok", "no forward-compatibility error")


def test_compat_libs_with_every_gpu_lost_is_no_warning() -> None:
    f = _compat("NVIDIA GeForce RTX 4090")
    f.nvml.gpus[0].lost = True
    assert _out(cw.cuda_compat, f)[0] == "ok"


def test_compat_unknown_and_no_init_result_skips() -> None:
    f = _compat("NVIDIA GeForce RTX 4090", libs=None)
    f.torch.cuda_init_error = None
    assert _out(cw.cuda_compat, f) == ("skip", "skipped: no CUDA init result or compat-library facts")
    f.torch.cuda_init_error = ""            # CUDA initialised cleanly: a result
    assert _out(cw.cuda_compat, f) == ("ok", "no forward-compatibility error")


# ------------------------------------------------------------------ WSL library path

def _wsl(loaded=None, ld=None, env_known=True):
    f = healthy()
    f.host.wsl = True
    f.torch.loaded_libs = loaded
    if ld is not None:
        f.python.env["LD_LIBRARY_PATH"] = ld
    if not env_known:
        f.python.error = "python not probed"
    return f


@pytest.mark.parametrize("fn", [cw.wsl_lib_path, cw.wsl_linux_driver])
def test_wsl_checks_skip_off_wsl(fn) -> None:
    f = healthy()
    assert _out(fn, f) == ("skip", "skipped: not WSL")
    f.host.wsl = None
    assert _out(fn, f) == ("skip", "skipped: WSL state unknown")
    f.not_collected["wsl"] = "a paste"
    assert _out(fn, f) == ("skip", "skipped: a paste")


def test_libcuda_from_outside_wsl_lib_fails() -> None:
    f = _wsl(loaded=["/usr/lib/wsl/lib/libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1"])
    assert _out(cw.wsl_lib_path, f) == (
        "fail", "libcuda loaded from /usr/lib/x86_64-linux-gnu/libcuda.so.1, not /usr/lib/wsl/lib")


def test_libcuda_from_wsl_lib_is_ok_and_named() -> None:
    f = _wsl(loaded=["/venv/torch/lib/libtorch.so", "/usr/lib/wsl/lib/libcuda.so.1"])
    assert _out(cw.wsl_lib_path, f) == (
        "ok", "WSL: nothing ahead of /usr/lib/wsl/lib (libcuda from /usr/lib/wsl/lib/libcuda.so.1)")


@pytest.mark.parametrize(("ld", "first"), [
    ("/usr/local/cuda/lib64:/usr/lib/wsl/lib", "/usr/local/cuda/lib64"),
    (":/opt/NVIDIA/lib", "/opt/NVIDIA/lib"),            # empty parts dropped; "nvidia" in any case
    ("/opt/x:/usr/local/CUDA-12/lib", "/opt/x"),         # a CUDA directory anywhere, wsl not first
])
def test_cuda_dirs_ahead_of_wsl_lib_warn(ld, first) -> None:
    assert _out(cw.wsl_lib_path, _wsl(loaded=[], ld=ld)) == (
        "warn", f"LD_LIBRARY_PATH starts with {first}, not /usr/lib/wsl/lib")


@pytest.mark.parametrize("ld", ["/usr/lib/wsl/lib:/usr/local/cuda/lib64",
                                "/usr/lib/wsl/lib/:/usr/local/cuda/lib64", "/opt/x:/opt/y", ""])
def test_wsl_lib_first_or_no_cuda_dirs_is_ok(ld) -> None:
    assert _out(cw.wsl_lib_path, _wsl(loaded=[], ld=ld)) == ("ok", "WSL: nothing ahead of /usr/lib/wsl/lib")


def test_ld_library_path_unused_when_the_environment_is_unknown() -> None:
    f = _wsl(loaded=[], ld="/usr/local/cuda/lib64", env_known=False)
    assert _out(cw.wsl_lib_path, f)[0] == "ok"


def test_wsl_lib_path_skips_with_neither_libraries_nor_environment() -> None:
    f = _wsl(loaded=None, env_known=False)
    assert _out(cw.wsl_lib_path, f) == ("skip", "skipped: neither loaded libraries nor LD_LIBRARY_PATH known")
    f.not_collected["loaded_libs"] = "a paste"
    assert _out(cw.wsl_lib_path, f) == ("skip", "skipped: a paste")


def test_wsl_lib_path_judges_what_it_has() -> None:
    # The environment known (LD_LIBRARY_PATH unset), loaded libraries unknown: nothing wrong seen.
    assert _out(cw.wsl_lib_path, _wsl(loaded=None))[0] == "ok"
    # Loaded libraries known (no libcuda), environment unknown.
    assert _out(cw.wsl_lib_path, _wsl(loaded=[], env_known=False))[0] == "ok"
    # The environment known through not_collected: "env" missing means unknown.
    f = _wsl(loaded=None, ld="/usr/local/cuda/lib64")
    f.not_collected["env"] = "a paste"
    assert _out(cw.wsl_lib_path, f)[0] == "skip"


# ------------------------------------------------------------------ Linux driver inside WSL

def _wsl_driver(modules, proc_version):
    f = healthy()
    f.host.wsl = True
    f.driver.modules, f.driver.proc_version = modules, proc_version
    return _out(cw.wsl_linux_driver, f)


def test_a_linux_driver_in_wsl_fails_by_module_or_proc_version() -> None:
    bad = ("fail", "a Linux NVIDIA kernel driver is installed inside WSL")
    assert _wsl_driver({"nvidia": True}, None) == bad
    assert _wsl_driver(None, "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15") == bad
    assert _wsl_driver({"nvidia": False}, "NVRM version: 550") == bad


def test_no_linux_driver_in_wsl_is_ok_and_unknown_skips() -> None:
    good = ("ok", "no Linux NVIDIA driver inside WSL (the Windows driver is used)")
    assert _wsl_driver({"nvidia": False, "nouveau": False}, None) == good
    assert _wsl_driver({}, None) == good
    assert _wsl_driver(None, None) == ("skip", "skipped: kernel modules not collected")
    f = healthy()
    f.host.wsl = True
    f.driver.modules, f.driver.proc_version = None, None
    f.not_collected["driver.modules"] = "a paste has no module list"
    assert _out(cw.wsl_linux_driver, f) == ("skip", "skipped: a paste has no module list")

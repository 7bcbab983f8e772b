"""Library checks (rigcheck/doctor/checks/libraries.py) pinned by value.

The rules, from the module and the threads it cites: a CUDA library (libcudart, libcudnn*,
libcublas*, libnccl, libnvJitLink, libcusparse, libcufft) loaded from outside the wheels'
folders (/nvidia/, site-packages, dist-packages, /torch/lib/, /usr/lib/wsl/) while nvidia-*
wheels are installed fails (pytorch#141063); cuDNN errors name the first line of the error
(pytorch#80637); NumPy 2 with torch older than 2.3 fails (torchio#1183); nvidia-*-cuNN wheels of
another CUDA major than torch's warn (pytorch#138324); NCCL matters from two GPUs; the conda
``cpuonly`` package fails (pytorch#106565).
"""

from __future__ import annotations

import pytest

from rigcheck.doctor.checks import libraries as libs
from rigcheck.doctor.registry import Context
from tests.doctor_factories import healthy


def _out(fn, f):
    out = fn(f, Context())
    return str(out.status), out.summary


# ------------------------------------------------------------------ which wheels carry CUDA libraries

def test_cuda_library_wheels_by_name() -> None:
    names = ["nvidia-cudnn-cu12", "nvidia-cublas-cu12", "nvidia-cuda-runtime-cu12", "nvidia-nccl-cu12",
             "nvidia-nvjitlink-cu12", "nvidia-nvtx-cu12", "nvidia-cufile-cu12", "nvidia-nvshmem-cu12",
             "nvidia-ml-py", "nvidia-dali-cuda120", "nvidia-modelopt", "torch"]
    got = libs.cuda_lib_wheels({n: "1" for n in names})
    assert set(got) == {"nvidia-cudnn-cu12", "nvidia-cublas-cu12", "nvidia-cuda-runtime-cu12", "nvidia-nccl-cu12",
                        "nvidia-nvjitlink-cu12", "nvidia-nvtx-cu12", "nvidia-cufile-cu12", "nvidia-nvshmem-cu12"}
    assert libs.cuda_lib_wheels(None) == {}


# ------------------------------------------------------------------ shadowed CUDA libraries

def _shadow(loaded, ld=None, wheels=None):
    f = healthy()
    f.torch.loaded_libs = loaded
    if wheels is not None:
        f.torch.nvidia_wheels = wheels
    if ld is not None:
        f.python.env["LD_LIBRARY_PATH"] = ld
    return _out(libs.shadowed, f)


@pytest.mark.parametrize("path", [
    "/usr/local/cuda/lib64/libcudart.so.12", "/usr/lib/x86_64-linux-gnu/libcudnn_ops.so.9",
    "/opt/lib/libcublasLt.so.12", "/usr/lib/libnccl.so.2", "/usr/local/cuda/lib64/libnvJitLink.so.12",
    "/usr/local/cuda/lib64/libcusparse.so.12", "/usr/local/cuda/lib64/libcufft.so.11",
])
def test_a_system_cuda_library_with_wheels_installed_fails(path) -> None:
    assert _shadow(["/venv/site-packages/nvidia/cudnn/lib/libcudnn.so.9", path]) == (
        "fail", f"system CUDA libraries shadow the wheel's: {path}")


@pytest.mark.parametrize("path", [
    "/opt/nvidia/lib/libcudnn.so.9", "/x/site-packages/foo/libcublas.so.12",
    "/usr/lib/python3/dist-packages/x/libnccl.so.2", "/opt/torch/lib/libcudart.so.12",
    "/usr/lib/wsl/lib/libcudart.so.12", "/usr/lib/libfoo.so",
])
def test_libraries_from_the_expected_places_are_ok(path) -> None:
    assert _shadow([path]) == ("ok", "1 CUDA libraries loaded from the expected places")


def test_the_shadowing_list_names_three_and_counts_the_rest() -> None:
    paths = [f"/usr/local/cuda/lib64/libcudart.so.{n}" for n in range(4)]
    assert _shadow(paths)[1] == ("system CUDA libraries shadow the wheel's: " + "; ".join(paths[:3])
                                 + "; and 1 more")


def test_an_empty_list_of_loaded_libraries_is_a_recorded_answer() -> None:
    f = healthy()
    f.torch.loaded_libs = []
    f.not_collected["loaded_libs"] = "stale marker"
    assert _out(libs.shadowed, f) == ("ok", "no CUDA directories on LD_LIBRARY_PATH")


def test_a_system_cuda_library_without_wheels_is_torch_using_it() -> None:
    assert _shadow(["/usr/local/cuda/lib64/libcudart.so.12"], wheels={"nvidia-ml-py": "12.5"}) == (
        "ok", "1 CUDA libraries loaded from the expected places")


def test_shadow_skips_without_a_cuda_torch() -> None:
    f = healthy()
    f.torch.cuda_build = None
    assert _out(libs.shadowed, f) == ("skip", "skipped: torch 2.5.1+cu124 is not a CUDA build")
    f = healthy()
    f.torch.installed = False           # a CUDA build recorded, but no distribution installed
    assert _out(libs.shadowed, f)[0] == "skip"


@pytest.mark.parametrize("ld", ["/usr/local/cuda/lib64", "/opt/CUDNN/lib"])
def test_cuda_dirs_on_ld_library_path_warn_when_loads_unknown(ld) -> None:
    assert _shadow(None, ld=ld) == (
        "warn", f"LD_LIBRARY_PATH has CUDA directories while torch uses nvidia-* wheels: {ld}")
    assert _shadow([], ld=ld)[0] == "warn"


def test_ld_library_path_without_cuda_or_without_wheels_is_ok() -> None:
    assert _shadow(None, ld="/opt/intel/lib") == ("ok", "no CUDA directories on LD_LIBRARY_PATH")
    assert _shadow(None, ld="/usr/local/cuda/lib64", wheels={}) == ("ok", "no CUDA directories on LD_LIBRARY_PATH")


def test_shadow_unknown_loads_skip_or_say_what_was_seen() -> None:
    f = healthy()
    f.torch.loaded_libs = None
    f.not_collected["loaded_libs"] = "a paste"
    assert _out(libs.shadowed, f) == ("skip", "skipped: a paste")
    f = healthy()
    f.torch.loaded_libs = None
    f.python.error = "python not probed"
    assert _out(libs.shadowed, f) == ("ok", "nothing shadowing seen")


# ------------------------------------------------------------------ cuDNN

def _cudnn(error=None, init_error=None, version=90100):
    f = healthy()
    f.torch.error, f.torch.cuda_init_error, f.torch.cudnn_version = error, init_error, version
    return _out(libs.cudnn, f)


def test_cudnn_errors_fail_with_their_first_line() -> None:
    assert _cudnn(init_error="libcudnn_cnn_infer.so.8: cannot open shared object file\nmore") == (
        "fail", "cuDNN does not match torch: libcudnn_cnn_infer.so.8: cannot open shared object file")
    assert _cudnn(error="cuDNN version incompatibility: (8, 3, 2) vs (8, 0, 3)")[0] == "fail"


def test_cudnn_error_line_cut_at_200_characters() -> None:
    line = "libcudnn " + "x" * 300
    assert _cudnn(init_error=line)[1] == "cuDNN does not match torch: " + line[:200]


def test_cudnn_missing_warns_unless_not_collected() -> None:
    f = healthy()
    f.torch.cudnn_version = None
    out = libs.cudnn(f, Context())
    assert str(out.status) == "warn" and out.summary.startswith("torch is a CUDA build but cuDNN did not load")
    assert out.fix.endswith("/whl/cu124")
    f.not_collected["cudnn_version"] = "a paste"
    assert _out(libs.cudnn, f) == ("skip", "skipped: a paste")


def test_cudnn_ok_names_the_version_and_other_errors_pass() -> None:
    assert _cudnn() == ("ok", "cuDNN 90100")
    assert _cudnn(init_error="CUDA error: out of memory") == ("ok", "cuDNN 90100")


def test_cudnn_skips_without_a_cuda_torch() -> None:
    f = healthy()
    f.torch.cuda_build = None
    assert _out(libs.cudnn, f)[0] == "skip"


# ------------------------------------------------------------------ NumPy

def _numpy(torch="2.2.2+cu121", numpy="2.0.0", error=None):
    f = healthy()
    f.torch.version, f.torch.numpy_version, f.torch.numpy_error = torch, numpy, error
    return _out(libs.numpy, f)


@pytest.mark.parametrize(("torch", "numpy", "status"), [
    ("2.2.2+cu121", "2.0.0", "fail"), ("2.2.2+cu121", "1.26.4", "ok"), ("2.3.0+cu121", "2.0.0", "ok"),
    ("1.13.1", "2.1.0", "fail"), ("2.3", "2.0", "ok"),
])
def test_numpy_2_needs_torch_2_3(torch, numpy, status) -> None:
    assert _numpy(torch, numpy)[0] == status


def test_numpy_texts() -> None:
    assert _numpy() == ("fail", "NumPy 2.0.0 with torch 2.2.2+cu121: torch < 2.3 is built against NumPy 1")
    assert _numpy(numpy="1.26.4") == ("ok", "NumPy 1.26.4 with torch 2.2.2+cu121")


def test_a_numpy_error_fails_with_its_first_line() -> None:
    assert _numpy(numpy="1.26.4", error="\n A module that was compiled using NumPy 1.x cannot be run\nmore") == (
        "fail", "NumPy is broken for torch: A module that was compiled using NumPy 1.x cannot be run")
    assert _numpy(numpy="1.26.4", error="   ")[0] == "ok"          # blank: no error


def test_numpy_absent_is_a_warning_not_a_failure() -> None:
    absent = "Failed to initialize NumPy: No module named 'numpy'"
    assert _numpy(numpy=None, error=absent) == ("warn", "NumPy is not installed (torch 2.2.2+cu121)")
    assert _numpy(numpy=None) == ("warn", "NumPy is not installed (torch 2.2.2+cu121)")


def test_numpy_version_not_collected_skips_unless_known_absent() -> None:
    f = healthy()
    f.torch.numpy_version = None
    f.not_collected["numpy_version"] = "a paste"
    assert _out(libs.numpy, f) == ("skip", "skipped: a paste")
    f.torch.numpy_error = "No module named 'numpy'"
    assert _out(libs.numpy, f)[0] == "warn"


def test_numpy_judged_on_a_cpu_torch_but_not_without_torch() -> None:
    f = healthy()
    f.torch.cuda_build, f.torch.version, f.torch.numpy_version = None, "2.1.0+cpu", "2.0.0"
    assert _out(libs.numpy, f)[0] == "fail"
    f.torch.version = None
    assert _out(libs.numpy, f) == ("skip", "skipped: torch not installed")


# ------------------------------------------------------------------ nvidia-* wheels

def _wheels(wheels, cuda_build="12.4"):
    f = healthy()
    f.torch.nvidia_wheels, f.torch.cuda_build = wheels, cuda_build
    return libs.nvidia_wheels(f, Context())


def test_wheels_of_another_cuda_major_warn() -> None:
    out = _wheels({"nvidia-cudnn-cu12": "9.1", "nvidia-cublas-cu11": "11.11", "nvidia-nccl-cu13": "2"})
    assert (str(out.status), out.summary) == (
        "warn", "nvidia-* wheels for another CUDA major than torch's 12.4: nvidia-cublas-cu11; nvidia-nccl-cu13")
    assert out.fix.startswith("pip uninstall -y nvidia-cublas-cu11 nvidia-nccl-cu13 && ")
    assert out.fix.endswith("/whl/cu124")


def test_the_other_major_list_names_three_and_counts_the_rest() -> None:
    names = ["nvidia-cublas-cu11", "nvidia-cudnn-cu11", "nvidia-cufft-cu11", "nvidia-nccl-cu11"]
    out = _wheels({n: "1" for n in names})
    assert out.summary == ("nvidia-* wheels for another CUDA major than torch's 12.4: "
                           "nvidia-cublas-cu11; nvidia-cudnn-cu11; nvidia-cufft-cu11; and 1 more")


def test_wheels_of_torchs_major_or_without_a_suffix_are_ok() -> None:
    out = _wheels({"nvidia-cudnn-cu12": "9.1", "nvidia-nvtx": "12.4", "nvidia-ml-py": "12"})
    assert (str(out.status), out.summary) == ("ok", "2 nvidia-* wheel(s) for CUDA 12")


def test_no_cuda_wheels_or_unknown_packages() -> None:
    assert str(_wheels({"nvidia-ml-py": "12"}).summary) == (
        "no nvidia-* wheels (torch bundles or uses system CUDA libraries)")
    assert _wheels(None).summary == "skipped: installed packages not collected"
    f = healthy()
    f.torch.nvidia_wheels = None
    f.not_collected["nvidia_wheels"] = "a paste lists no packages"
    assert _out(libs.nvidia_wheels, f) == ("skip", "skipped: a paste lists no packages")
    assert _wheels({"nvidia-cudnn-cu12": "9"}, cuda_build=None).summary.startswith("skipped: ")


# ------------------------------------------------------------------ NCCL

def test_nccl_on_two_gpus() -> None:
    f = healthy(2)
    assert _out(libs.nccl, f) == ("ok", "NCCL 2.21.5")
    f.torch.nccl_version = None
    assert _out(libs.nccl, f) == ("warn", "torch has no NCCL on a 2-GPU machine")
    f.not_collected["nccl_version"] = "a paste"
    assert _out(libs.nccl, f) == ("skip", "skipped: a paste")


def test_nccl_does_not_matter_on_one_gpu_or_without_cuda_torch() -> None:
    f = healthy(1)
    f.torch.nccl_version = None
    assert _out(libs.nccl, f) == ("skip", "skipped: 1 GPU(s): NCCL matters for two or more")
    f = healthy(2)
    f.torch.cuda_build, f.torch.nccl_version = None, None
    assert _out(libs.nccl, f)[0] == "skip"


# ------------------------------------------------------------------ conda cpuonly

def test_conda_cpuonly() -> None:
    f = healthy()
    assert _out(libs.conda_cpuonly, f) == ("skip", "skipped: conda packages are only known from a collect_env paste")
    f.python.conda_packages = {"pytorch": "2.5.1", "cpuonly": "2.0"}
    assert _out(libs.conda_cpuonly, f) == ("fail", "the conda 'cpuonly' package (2.0) pins a CPU-only PyTorch")
    f.python.conda_packages = {"pytorch": "2.5.1"}
    assert _out(libs.conda_cpuonly, f) == ("ok", "no cpuonly package")

"""Libraries: which CUDA/cuDNN actually load, NumPy, the nvidia-* wheels, NCCL."""

from __future__ import annotations

import re

from rigcheck.doctor.checks._util import (
    env,
    env_known,
    gpu_count,
    join,
    no_torch_reason,
    not_collected,
)
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.doctor.wheels import version_tuple
from rigcheck.facts import Facts

CAT = "libraries"
_CUDA_LIB = re.compile(r"lib(cudart|cudnn\w*|cublas\w*|nccl|nvJitLink|cusparse|cufft)\.so")


def cuda_lib_wheels(wheels: dict[str, str] | None) -> dict[str, str]:
    """The nvidia-* wheels that carry CUDA libraries (not nvidia-ml-py, the NVML binding)."""
    pat = re.compile(r"nvidia-(cuda|cu[a-z]|nccl|nvjitlink|nvtx|cufile|nvshmem)")
    return {n: v for n, v in (wheels or {}).items() if pat.match(n) and not n.startswith("nvidia-ml")}


def _torch_cuda(facts: Facts) -> bool:
    return bool(facts.torch.installed and facts.torch.cuda_build)


@check("libs.shadowed_cuda", CAT, "CUDA libraries come from the torch wheels",
       source="https://github.com/pytorch/pytorch/pull/141063")
def shadowed(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not _torch_cuda(facts):
        return skip(no_torch_reason(facts))
    wheels = cuda_lib_wheels(t.nvidia_wheels)
    loaded = t.loaded_libs
    ld = env(facts, "LD_LIBRARY_PATH") or ""
    if loaded:
        outside = [p for p in loaded if _CUDA_LIB.search(p) and "/nvidia/" not in p
                   and "site-packages" not in p and "dist-packages" not in p and "/torch/lib/" not in p
                   and "/usr/lib/wsl/" not in p]
        if wheels and outside:
            return fail(
                "system CUDA libraries shadow the wheel's: " + join(outside, 3),
                f"{len(wheels)} nvidia-* wheel(s) are installed for torch, but these loaded from "
                "elsewhere, usually via LD_LIBRARY_PATH. Mismatched versions give \"undefined "
                "symbol: __nvJitLink...\" or \"cuDNN version incompatibility\".",
                "unset LD_LIBRARY_PATH   # or put site-packages/nvidia/*/lib first; then re-run",
            )
        return ok(f"{len(loaded)} CUDA libraries loaded from the expected places")
    if ld and wheels and re.search(r"cuda|cudnn", ld, re.I):
        return warn(f"LD_LIBRARY_PATH has CUDA directories while torch uses nvidia-* wheels: {ld}",
                    "Libraries there can shadow the wheel's (which libraries loaded was not recorded).",
                    "unset LD_LIBRARY_PATH")
    if loaded is None and not_collected(facts, "loaded_libs"):
        return skip(not_collected(facts, "loaded_libs"))
    return ok("no CUDA directories on LD_LIBRARY_PATH" if env_known(facts) else "nothing shadowing seen")


@check("libs.cudnn", CAT, "cuDNN loads", source="https://github.com/pytorch/pytorch/issues/80637")
def cudnn(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not _torch_cuda(facts):
        return skip(no_torch_reason(facts))
    err = " ".join(x for x in (t.error, t.cuda_init_error) if x)
    if "cuDNN version incompatibility" in err or "libcudnn" in err:
        return fail(f"cuDNN does not match torch: {err.strip().splitlines()[0][:200]}",
                    "An older cuDNN (on LD_LIBRARY_PATH, or from a system CUDA install) is loaded "
                    "instead of the one torch was built with.",
                    "unset LD_LIBRARY_PATH   # let the wheel's nvidia-cudnn load; then re-run")
    if t.cudnn_version is None:
        if not_collected(facts, "cudnn_version"):
            return skip(not_collected(facts, "cudnn_version"))
        return warn("torch is a CUDA build but cuDNN did not load (torch.backends.cudnn.version() is None)",
                    "Convolutions fall back to slow paths or fail; a missing or mismatched "
                    "libcudnn (nvidia-cudnn wheel removed, an old cuDNN on LD_LIBRARY_PATH).",
                    "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu"
                    + (t.cuda_build or "").replace(".", ""))
    return ok(f"cuDNN {t.cudnn_version}")


@check("libs.numpy", CAT, "NumPy compatible with torch",
       source="https://github.com/TorchIO-project/torchio/pull/1183")
def numpy(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    # torch's own "Failed to initialize NumPy: No module named 'numpy'" warning means NumPy is
    # absent, not broken: that is the warning below, not a failure.
    absent = bool(t.numpy_error) and "No module named 'numpy'" in (t.numpy_error or "")
    if t.numpy_error and t.numpy_error.strip() and not absent:
        first = t.numpy_error.strip().splitlines()[0]
        return fail(f"NumPy is broken for torch: {first}",
                    "\"A module that was compiled using NumPy 1.x cannot be run in NumPy 2\": an "
                    "old torch (or another extension) built against NumPy 1.",
                    'pip install "numpy<2"   # or upgrade torch to >= 2.3')
    if no_torch_reason(facts, need_cuda=False):
        return skip(no_torch_reason(facts, need_cuda=False))
    if not t.numpy_version:
        if not_collected(facts, "numpy_version") and not absent:
            return skip(not_collected(facts, "numpy_version"))
        return warn(f"NumPy is not installed (torch {t.version})",
                    "torch imports without it but warns, and tensor.numpy()/DataLoader "
                    "conversions fail.", "pip install numpy")
    tv, nv = version_tuple(t.version)[:2], version_tuple(t.numpy_version)[:1]
    if nv >= (2,) and tv < (2, 3):
        return fail(f"NumPy {t.numpy_version} with torch {t.version}: torch < 2.3 is built against NumPy 1",
                    "Expect \"Failed to initialize NumPy: _ARRAY_API not found\" and crashes.",
                    'pip install "numpy<2"   # or: pip install -U torch')
    return ok(f"NumPy {t.numpy_version} with torch {t.version}")


@check("libs.nvidia_wheels", CAT, "nvidia-* wheels match torch's CUDA",
       source="https://github.com/pytorch/pytorch/issues/138324")
def nvidia_wheels(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not _torch_cuda(facts):
        return skip(no_torch_reason(facts))
    if t.nvidia_wheels is None:
        return skip(not_collected(facts, "nvidia_wheels") or "installed packages not collected")
    wheels = cuda_lib_wheels(t.nvidia_wheels)
    if not wheels:
        return ok("no nvidia-* wheels (torch bundles or uses system CUDA libraries)")
    build = t.cuda_build or ""   # _torch_cuda() above: a CUDA build
    major = build.split(".")[0]
    other = sorted(n for n in wheels if (m := re.search(r"-cu(\d+)$", n)) and m.group(1) != major)
    if other:
        return warn(f"nvidia-* wheels for another CUDA major than torch's {t.cuda_build}: " + join(other, 3),
                    "Mixed wheels from two indexes: torch may load the wrong library.",
                    f"pip uninstall -y {' '.join(other)} && pip install --force-reinstall torch "
                    f"--index-url https://download.pytorch.org/whl/cu{build.replace('.', '')}")
    return ok(f"{len(wheels)} nvidia-* wheel(s) for CUDA {major}")


@check("libs.nccl", CAT, "NCCL available for multi-GPU")
def nccl(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if gpu_count(facts) < 2:
        return skip(f"{gpu_count(facts)} GPU(s): NCCL matters for two or more")
    if not _torch_cuda(facts):
        return skip(no_torch_reason(facts))
    if t.nccl_version is None:
        if not_collected(facts, "nccl_version"):
            return skip(not_collected(facts, "nccl_version"))
        return warn(f"torch has no NCCL on a {gpu_count(facts)}-GPU machine",
                    "DistributedDataParallel over GPUs needs the NCCL backend (Windows builds lack it).",
                    "On Linux reinstall torch from download.pytorch.org; on Windows use WSL2 for multi-GPU.")
    return ok(f"NCCL {t.nccl_version}")


@check("libs.conda_cpuonly", CAT, "no conda cpuonly package",
       source="https://github.com/pytorch/pytorch/issues/106565")
def conda_cpuonly(facts: Facts, ctx: Context) -> Outcome:
    pk = facts.python.conda_packages
    if pk is None:
        return skip("conda packages are only known from a collect_env paste")
    if "cpuonly" in pk:
        return fail(f"the conda 'cpuonly' package ({pk['cpuonly']}) pins a CPU-only PyTorch",
                    "It makes conda install the CPU build of pytorch even when CUDA is requested.",
                    "conda remove cpuonly && pip install --force-reinstall torch --index-url "
                    "https://download.pytorch.org/whl/cu128")
    return ok("no cpuonly package")

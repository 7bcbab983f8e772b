"""Python facts: interpreter, nvcc, and environment variables from an allow-list only.

The environment is where secrets live (API tokens, cloud keys, WANDB_API_KEY), and a facts file is
meant to be pasted publicly, so nothing is read unless it is named below. Each entry is there
because a doctor check or a maintainer reading the facts needs it:

- ``CUDA_VISIBLE_DEVICES``, ``NVIDIA_VISIBLE_DEVICES``, ``CUDA_DEVICE_ORDER``: which GPUs torch
  sees and in what order (an empty or misspelt value hides every GPU; FASTEST_FIRST reorders).
  ``NVIDIA_DRIVER_CAPABILITIES`` says what the container runtime mounted.
- ``LD_LIBRARY_PATH``, ``CUDA_HOME``, ``CUDA_PATH``, ``CUDA_ROOT``, ``CUDNN_LIBRARY``: a stale
  cuDNN/CUDA here shadows the libraries shipped in torch's wheels.
- ``NCCL_*``: NCCL_P2P_DISABLE, NCCL_IB_DISABLE, NCCL_SOCKET_IFNAME, NCCL_DEBUG change
  multi-GPU behaviour and speed.
- ``PYTORCH_CUDA_ALLOC_CONF``, ``PYTORCH_HIP_ALLOC_CONF``, ``PYTORCH_NVML_BASED_CUDA_CHECK``,
  ``CUDA_MODULE_LOADING``, ``TORCH_CUDA_ARCH_LIST``, ``TORCH_USE_CUDA_DSA``: torch's own knobs
  (collect_env reports the allocator config and module loading for the same reason).
- ``CUDA_LAUNCH_BLOCKING``: makes every kernel synchronous, a large slowdown left on after debugging.
- Debugging switches left on by accident that the doctor flags as slowdowns:
  ``PYTORCH_NO_CUDA_MEMORY_CACHING`` (every allocation goes to cudaMalloc),
  ``TORCH_CUDNN_V8_API_DISABLED``, ``TORCH_SHOW_CPP_STACKTRACES``,
  ``CUDA_ENABLE_CPU_COREDUMP_ON_EXCEPTION``.
- ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``: CPU thread counts for data loading and CPU ops.
- The variables NVIDIA DCGM diagnostics warn about as performance-limiting (``Software.cpp``,
  "Found CUDA performance-limiting environment variable"): ``NSIGHT_CUDA_DEBUGGER``,
  ``CUDA_INJECTION32_PATH``, ``CUDA_INJECTION64_PATH``, ``CUDA_AUTO_BOOST``,
  ``CUDA_ENABLE_COREDUMP_ON_EXCEPTION``, ``CUDA_COREDUMP_FILE``, ``CUDA_DEVICE_WAITS_ON_EXCEPTION``,
  ``CUDA_PROFILE``, ``COMPUTE_PROFILE``, ``OPENCL_PROFILE``; and the profiler hooks
  ``CUPTI_*``/``NSYS_*`` prefixes.
- ``CONDA_PREFIX``, ``VIRTUAL_ENV``: which environment the probe ran in.

Left out on purpose: ``__GL_*`` (OpenGL driver settings; they do not affect CUDA compute), ``PATH``
(nvcc's location is reported on its own), ``HOME``/``USER`` (identity), and everything else.

Values pass through redaction like every other string (user names in paths).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
from collections.abc import Callable, Mapping

from rigcheck.facts import PythonFacts
from rigcheck.probe.commands import Runner, describe_failure, run

ALLOWED: frozenset[str] = frozenset({
    "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES",
    "CUDA_DEVICE_ORDER",
    "LD_LIBRARY_PATH", "CUDA_HOME", "CUDA_PATH", "CUDA_ROOT", "CUDNN_LIBRARY",
    "PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_HIP_ALLOC_CONF", "PYTORCH_NVML_BASED_CUDA_CHECK",
    "CUDA_MODULE_LOADING", "TORCH_CUDA_ARCH_LIST", "TORCH_USE_CUDA_DSA",
    "CUDA_LAUNCH_BLOCKING",
    "PYTORCH_NO_CUDA_MEMORY_CACHING", "TORCH_CUDNN_V8_API_DISABLED", "TORCH_SHOW_CPP_STACKTRACES",
    "CUDA_ENABLE_CPU_COREDUMP_ON_EXCEPTION",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "NSIGHT_CUDA_DEBUGGER", "CUDA_INJECTION32_PATH", "CUDA_INJECTION64_PATH", "CUDA_AUTO_BOOST",
    "CUDA_ENABLE_COREDUMP_ON_EXCEPTION", "CUDA_COREDUMP_FILE", "CUDA_DEVICE_WAITS_ON_EXCEPTION",
    "CUDA_PROFILE", "COMPUTE_PROFILE", "OPENCL_PROFILE",
    "CONDA_PREFIX", "VIRTUAL_ENV",
    # AMD ROCm and Apple MPS (rigcheck.doctor.checks.platform)
    "HSA_OVERRIDE_GFX_VERSION", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES",
    "PYTORCH_ROCM_ARCH", "PYTORCH_ENABLE_MPS_FALLBACK",
    # TF32 defaults of NVIDIA's NGC PyTorch containers (doctor perf.tf32_container)
    "NVIDIA_TF32_OVERRIDE", "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "NVIDIA_PYTORCH_VERSION",
})
ALLOWED_PREFIXES: tuple[str, ...] = ("NCCL_", "CUPTI_", "NSYS_")
NVCC_TIMEOUT_S = 10.0

_NVCC_RE = re.compile(r"release (\d+\.\d+)")


def allowed(name: str) -> bool:
    return name in ALLOWED or name.startswith(ALLOWED_PREFIXES)


def allowed_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Only the allow-listed variables, sorted by name."""
    return {k: environ[k] for k in sorted(environ) if allowed(k)}


def parse_nvcc(text: str) -> str | None:
    """``nvcc --version`` -> "12.4" (from "Cuda compilation tools, release 12.4, V12.4.131")."""
    m = _NVCC_RE.search(text)
    return m.group(1) if m else None


def collect_python(
    *,
    environ: Mapping[str, str] = os.environ,
    runner: Runner = run,
    which: Callable[[str], str | None] = shutil.which,
    nvcc_timeout_s: float = NVCC_TIMEOUT_S,
    errors: dict[str, str] | None = None,
) -> PythonFacts:
    """Interpreter, nvcc and allow-listed environment; why nvcc gave no version goes to
    ``errors["nvcc_version"]``."""
    errors = errors if errors is not None else {}
    facts = PythonFacts(
        version=platform.python_version(),
        executable=sys.executable or None,
        implementation=platform.python_implementation(),
        env=allowed_env(environ),
    )
    nvcc = which("nvcc")
    if nvcc is None:  # the toolkit often sits outside PATH; CUDA_HOME is where torch looks too
        home = environ.get("CUDA_HOME") or environ.get("CUDA_PATH")
        candidate = os.path.join(home, "bin", "nvcc") if home else None
        nvcc = candidate if candidate and os.access(candidate, os.X_OK) else None
    facts.nvcc_path = nvcc
    if nvcc:
        result = runner([nvcc, "--version"], nvcc_timeout_s)
        facts.nvcc_version = parse_nvcc(result.stdout) if result.ok else None
        if facts.nvcc_version is None:
            errors["nvcc_version"] = (
                describe_failure(result) if not result.ok else "no version in nvcc --version"
            )
    return facts

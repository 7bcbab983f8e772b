"""Performance-settings checks (rigcheck/doctor/checks/performance.py) pinned by value.

The rules, from the module and its sources: DCGM's list of variables is bad whatever the value
(nvvs Software.cpp checkForBadEnvVaribles); the PyTorch debug switches only when on (not "", 0,
false, no, off, warn); CUDA_MODULE_LOADING only when EAGER; TF32 applies from compute
capability 8 (Ampere); torch on one CPU thread is a warning on more than two cores; NCCL
*_DISABLE stop-gaps matter with two GPUs or more; NVIDIA_TF32_OVERRIDE=0 beats everything, a
measured allow_tf32 beats the container's variables.
"""

from __future__ import annotations

import pytest

from rigcheck.doctor.checks import performance as perf
from rigcheck.doctor.registry import Context
from rigcheck.facts import P2PLink, TorchDevice
from tests.doctor_factories import healthy


def _out(fn, f):
    out = fn(f, Context())
    return str(out.status), out.summary


def _with_env(**env):
    f = healthy()
    f.python.env.update(env)
    return f


# ------------------------------------------------------------------ what counts as "on"

@pytest.mark.parametrize("value", [None, "", "0", "false", "FALSE", " no ", "off", "Off", "warn", "WARN"])
def test_values_that_are_off(value) -> None:
    assert perf._on(value) is False


@pytest.mark.parametrize("value", ["1", " 1 ", "true", "yes", "INFO", "2"])
def test_values_that_are_on(value) -> None:
    assert perf._on(value) is True


# ------------------------------------------------------------------ debug variables

def test_no_debug_variables_is_ok() -> None:
    assert _out(perf.debug_env, _with_env(PATH="/usr/bin")) == ("ok", "no debug/profiling variables set")


def test_a_dcgm_variable_counts_whatever_its_value() -> None:
    out = perf.debug_env(_with_env(CUDA_PROFILE="0"), Context())
    assert (str(out.status), out.summary) == ("warn", "performance-limiting variable(s) set: CUDA_PROFILE=0")
    assert out.fix == "unset CUDA_PROFILE"


@pytest.mark.parametrize(("value", "status"), [("1", "warn"), ("0", "ok"), ("", "ok"), ("WARN", "ok")])
def test_a_torch_debug_switch_counts_only_when_on(value, status) -> None:
    assert _out(perf.debug_env, _with_env(CUDA_LAUNCH_BLOCKING=value))[0] == status


def test_debug_variables_listed_dcgm_first_then_torch_then_bad_values() -> None:
    f = _with_env(CUDA_MODULE_LOADING="eager", CUDA_LAUNCH_BLOCKING="1", COMPUTE_PROFILE="1")
    out = perf.debug_env(f, Context())
    assert out.summary == (
        "performance-limiting variable(s) set: COMPUTE_PROFILE=1; CUDA_LAUNCH_BLOCKING=1 (every kernel "
        "launch waits for completion); CUDA_MODULE_LOADING=eager (loads every kernel at start: seconds "
        "of startup and hundreds of MB of GPU memory (torch defaults to LAZY))")
    assert out.fix == "unset COMPUTE_PROFILE CUDA_LAUNCH_BLOCKING CUDA_MODULE_LOADING"


def test_module_loading_lazy_is_fine() -> None:
    assert _out(perf.debug_env, _with_env(CUDA_MODULE_LOADING="LAZY"))[0] == "ok"


@pytest.mark.parametrize("fn", [perf.debug_env, perf.nccl_env, perf.tf32_container])
def test_env_checks_skip_when_the_environment_is_unknown(fn) -> None:
    f = healthy()
    f.python.error = "no python facts"
    assert _out(fn, f) == ("skip", "skipped: environment not captured")
    f.not_collected["env"] = "a paste"
    assert _out(fn, f) == ("skip", "skipped: a paste")


# ------------------------------------------------------------------ TF32

def _tf32(caps=("8.0",), torch_caps=(), matmul=False, precision="highest", cudnn=True):
    f = healthy(len(caps)) if caps else healthy(1)
    if caps:
        for g, c in zip(f.nvml.gpus, caps):
            g.compute_capability = c
    else:
        f.nvml.gpus = []
    f.torch.devices = [TorchDevice(i, "x", c, 24.0) for i, c in enumerate(torch_caps)]
    f.torch.tf32_matmul, f.torch.float32_matmul_precision, f.torch.tf32_cudnn = matmul, precision, cudnn
    return _out(perf.tf32, f)


def test_tf32_from_capability_8_on() -> None:
    assert _tf32(caps=("8.0",))[1].startswith("TF32 matmul off")
    assert _tf32(caps=("7.5",)) == ("ok", "GPU predates Ampere: no TF32, fp32 matmuls are exact fp32")
    assert _tf32(caps=("7.5", "8.6"))[1].startswith("TF32 matmul")      # any GPU from Ampere
    assert _tf32(caps=(), torch_caps=("8.9",))[1].startswith("TF32 matmul")
    assert _tf32(caps=(), torch_caps=("7.0",))[1].startswith("GPU predates")


def test_tf32_lost_gpus_and_unknown_capabilities_skip() -> None:
    assert _tf32(caps=(), torch_caps=()) == ("skip", "skipped: no GPU capability known")
    assert _tf32(caps=("?",)) == ("skip", "skipped: no GPU capability known")
    f = healthy(1)
    f.nvml.gpus[0].lost = True
    f.torch.devices = []
    assert _out(perf.tf32, f) == ("skip", "skipped: no GPU capability known")


def test_tf32_skips_without_a_cuda_build_or_settings() -> None:
    f = healthy()
    f.torch.cuda_build = None
    assert _out(perf.tf32, f) == ("skip", "skipped: torch 2.5.1+cu124 is not a CUDA build")
    assert _tf32(matmul=None, precision=None) == ("skip", "skipped: TF32 settings not probed")
    f = healthy(1)
    f.torch.tf32_matmul, f.torch.float32_matmul_precision = None, None
    f.not_collected["tf32_matmul"] = "a paste has no TF32 settings"
    assert _out(perf.tf32, f) == ("skip", "skipped: a paste has no TF32 settings")


@pytest.mark.parametrize(("matmul", "precision", "cudnn", "head"), [
    (False, "highest", True, "TF32 matmul off (float32_matmul_precision=highest), cuDNN conv TF32 on: enable"),
    (True, None, False, "TF32 matmul on (float32_matmul_precision=high), cuDNN conv TF32 off: fp32 matmuls"),
    (False, None, None, "TF32 matmul off (float32_matmul_precision=highest), cuDNN conv TF32 ?: enable"),
    (None, "medium", True, "TF32 matmul on (float32_matmul_precision=medium), cuDNN conv TF32 on: fp32"),
    (None, "highest", True, "TF32 matmul off (float32_matmul_precision=highest), cuDNN conv TF32 on: enable"),
    (True, "highest", True, "TF32 matmul on (float32_matmul_precision=highest), cuDNN conv TF32 on: fp32"),
])
def test_tf32_settings_as_read(matmul, precision, cudnn, head) -> None:
    status, summary = _tf32(matmul=matmul, precision=precision, cudnn=cudnn)
    assert status == "ok" and summary.startswith(head)


# ------------------------------------------------------------------ torch CPU threads

def _threads(num, cores_physical, threads=None, omp=None):
    f = healthy()
    f.torch.num_threads, f.host.cores_physical, f.host.threads = num, cores_physical, threads
    if omp is not None:
        f.python.env["OMP_NUM_THREADS"] = omp
    return _out(perf.cpu_threads, f)


def test_one_thread_on_more_than_two_cores_warns() -> None:
    assert _threads(1, 3) == ("warn", "torch uses 1 CPU thread on a 3-core CPU")
    assert _threads(1, 2) == ("ok", "torch uses 1 CPU thread(s) of 2 cores")
    assert _threads(2, 48) == ("ok", "torch uses 2 CPU thread(s) of 48 cores")
    assert _threads(1, 48, omp="1") == ("warn", "torch uses 1 CPU thread on a 48-core CPU (OMP_NUM_THREADS=1)")


def test_thread_count_stands_in_for_cores() -> None:
    assert _threads(1, None, threads=8) == ("warn", "torch uses 1 CPU thread on a 8-core CPU")
    assert _threads(1, None, threads=None) == ("ok", "torch uses 1 CPU thread(s)")


def test_cpu_threads_unknown_skips() -> None:
    assert _threads(None, 8) == ("skip", "skipped: torch threads not probed")
    assert _threads(0, 8)[0] == "skip"
    f = healthy()
    f.torch.num_threads = None
    f.not_collected["num_threads"] = "a paste has no thread count"
    assert _out(perf.cpu_threads, f) == ("skip", "skipped: a paste has no thread count")


# ------------------------------------------------------------------ NCCL stop-gaps

def test_nccl_stopgaps_on_two_gpus_with_working_p2p() -> None:
    f = _with_env(NCCL_P2P_DISABLE="1", NCCL_IB_DISABLE="1")
    out = perf.nccl_env(f, Context())
    assert (str(out.status), out.summary) == (
        "warn", "NCCL_P2P_DISABLE=1: GPU-to-GPU traffic goes through host memory; NCCL_IB_DISABLE=1: "
                "InfiniBand/RoCE unused: inter-node traffic over TCP sockets although P2P works between "
                "every GPU pair")
    assert out.fix.startswith("unset NCCL_P2P_DISABLE NCCL_IB_DISABLE   #")


@pytest.mark.parametrize("p2p", [[], [P2PLink(0, 1, "NOT_SUPPORTED")],
                                 [P2PLink(0, 1, "OK"), P2PLink(0, 2, "CHIPSET_NOT_SUPPORTED")]])
def test_nccl_stopgap_without_working_p2p_everywhere_still_warns_without_the_remark(p2p) -> None:
    f = _with_env(NCCL_SHM_DISABLE="1")
    f.nvml.p2p = p2p
    assert _out(perf.nccl_env, f) == (
        "warn", "NCCL_SHM_DISABLE=1: intra-node traffic over sockets instead of shared memory")


def test_nccl_stopgaps_with_one_gpu_have_no_effect() -> None:
    f = _with_env(NCCL_P2P_DISABLE="1")
    f.nvml.gpus = f.nvml.gpus[:1]
    assert _out(perf.nccl_env, f) == (
        "ok", "NCCL_P2P_DISABLE=1: GPU-to-GPU traffic goes through host memory (no effect with fewer "
              "than two GPUs)")


def test_nccl_stopgap_set_to_zero_is_not_set() -> None:
    assert _out(perf.nccl_env, _with_env(NCCL_P2P_DISABLE="0")) == ("ok", "no NCCL_*_DISABLE variables set")


# ------------------------------------------------------------------ TF32 default of the container

def _container(measured=None, **env):
    f = _with_env(**env)
    f.torch.tf32_matmul = measured
    return _out(perf.tf32_container, f)[1]


def test_tf32_override_zero_wins() -> None:
    assert _container(True, NVIDIA_TF32_OVERRIDE="0", NVIDIA_PYTORCH_VERSION="24.05") == (
        "NGC PyTorch container 24.05: NVIDIA_TF32_OVERRIDE=0 disables TF32 in cuBLAS/cuDNN; "
        "rigcheck estimate --tf32 off matches this machine")
    assert _container(None, NVIDIA_TF32_OVERRIDE="1").startswith("this environment: fp32 matmuls are full fp32")


@pytest.mark.parametrize(("measured", "env", "text"), [
    (True, {}, "this environment: fp32 matmuls use TF32 (measured: torch.backends.cuda.matmul.allow_tf32=True); "
               "rigcheck estimate --tf32 on matches this machine"),
    (False, {"NVIDIA_PYTORCH_VERSION": "24.05", "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE": "1"},
     "NGC PyTorch container 24.05: fp32 matmuls are full fp32 (measured: torch.backends.cuda.matmul."
     "allow_tf32=False); rigcheck estimate --tf32 off matches this machine"),
    (None, {"TORCH_ALLOW_TF32_CUBLAS_OVERRIDE": "1"},
     "this environment: fp32 matmuls use TF32 (TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1); rigcheck estimate "
     "--tf32 on matches this machine"),
    (None, {"NVIDIA_PYTORCH_VERSION": "24.05", "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE": "0"},
     "NGC PyTorch container 24.05: fp32 matmuls use TF32 (NGC container default); rigcheck estimate "
     "--tf32 on matches this machine"),
    (None, {}, "this environment: fp32 matmuls are full fp32 (PyTorch's default since 1.12); rigcheck "
               "estimate --tf32 off matches this machine"),
])
def test_tf32_container_reads_measured_then_variables(measured, env, text) -> None:
    assert _container(measured, **env) == text

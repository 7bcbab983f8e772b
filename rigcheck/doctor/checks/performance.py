"""Performance settings: debug/profiling environment variables, TF32, allocator, threads."""

from __future__ import annotations

from rigcheck.doctor.checks._util import env, env_known, live_gpus, no_torch_reason, not_collected
from rigcheck.doctor.findings import Outcome, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

CAT = "performance"

# DCGM's list (nvvs/src/Software.cpp, checkForBadEnvVaribles) plus the PyTorch/CUDA debug switches
# that serialise or slow every kernel.
DCGM_ENV = ("NSIGHT_CUDA_DEBUGGER", "CUDA_INJECTION32_PATH", "CUDA_INJECTION64_PATH",
            "CUDA_AUTO_BOOST", "CUDA_ENABLE_COREDUMP_ON_EXCEPTION", "CUDA_COREDUMP_FILE",
            "CUDA_DEVICE_WAITS_ON_EXCEPTION", "CUDA_PROFILE", "COMPUTE_PROFILE", "OPENCL_PROFILE")
TORCH_DEBUG_ENV = {
    "CUDA_LAUNCH_BLOCKING": "every kernel launch waits for completion",
    "PYTORCH_NO_CUDA_MEMORY_CACHING": "disables the caching allocator: every allocation hits cudaMalloc",
    "TORCH_CUDNN_V8_API_DISABLED": "disables the cuDNN v8 API",
    "CUDA_ENABLE_CPU_COREDUMP_ON_EXCEPTION": "coredumps on GPU exceptions",
    "TORCH_SHOW_CPP_STACKTRACES": "adds stack capture to every error",
    "NCCL_DEBUG": "prints NCCL logs (harmless at WARN, slow at INFO/TRACE)",
}


# Values that are bad only when set to a particular value.
BAD_VALUES = {
    "CUDA_MODULE_LOADING": ("EAGER", "loads every kernel at start: seconds of startup and "
                                     "hundreds of MB of GPU memory (torch defaults to LAZY)"),
}


def _on(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off", "warn")


@check("perf.debug_env", CAT, "no debug/profiling CUDA environment variables",
       source="https://github.com/NVIDIA/DCGM/blob/master/nvvs/src/Software.cpp")
def debug_env(facts: Facts, ctx: Context) -> Outcome:
    if not env_known(facts):
        return skip(not_collected(facts, "env", "python.env") or "environment not captured")
    found = [f"{k}={env(facts, k)}" for k in DCGM_ENV if env(facts, k) is not None]
    found += [f"{k}={env(facts, k)} ({why})" for k, why in TORCH_DEBUG_ENV.items() if _on(env(facts, k))]
    found += [f"{k}={env(facts, k)} ({why})" for k, (bad, why) in BAD_VALUES.items()
              if (env(facts, k) or "").upper() == bad]
    if found:
        names = " ".join(x.split("=")[0] for x in found)
        return warn("performance-limiting variable(s) set: " + "; ".join(found),
                    "DCGM: \"Found CUDA performance-limiting environment variable\". Fine while "
                    "debugging, a large slowdown in training.", f"unset {names}")
    return ok("no debug/profiling variables set")


@check("perf.tf32", CAT, "TF32 matmul setting (information)",
       source="https://github.com/pytorch/pytorch/issues/84334")
def tf32(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not t.cuda_build:
        return skip(no_torch_reason(facts))
    from rigcheck.doctor.wheels import parse_capability

    found = [parse_capability(g.compute_capability) for g in live_gpus(facts)]
    found += [parse_capability(d.capability) for d in t.devices]
    caps = [c for c in found if c]
    if not caps:
        return skip("no GPU capability known")
    if not any(c[0] >= 8 for c in caps):
        return ok("GPU predates Ampere: no TF32, fp32 matmuls are exact fp32")
    if t.tf32_matmul is None and t.float32_matmul_precision is None:
        return skip(not_collected(facts, "tf32_matmul") or "TF32 settings not probed")
    prec = t.float32_matmul_precision or ("high" if t.tf32_matmul else "highest")
    mm = "on" if (t.tf32_matmul or prec != "highest") else "off"
    cd = {True: "on", False: "off", None: "?"}[t.tf32_cudnn]
    return ok(f"TF32 matmul {mm} (float32_matmul_precision={prec}), cuDNN conv TF32 {cd}: "
              + ("fp32 matmuls run ~8x faster on tensor cores with 10-bit mantissa"
                 if mm == "on" else "enable with torch.set_float32_matmul_precision('high') for "
                 "up to ~8x faster fp32 matmuls when exactness is not needed"))


@check("perf.cpu_threads", CAT, "torch CPU threads")
def cpu_threads(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not t.num_threads:
        return skip(not_collected(facts, "num_threads") or "torch threads not probed")
    cores = facts.host.cores_physical or facts.host.threads
    omp = env(facts, "OMP_NUM_THREADS")
    if t.num_threads == 1 and cores and cores > 2:
        return warn(f"torch uses 1 CPU thread on a {cores}-core CPU" + (f" (OMP_NUM_THREADS={omp})" if omp else ""),
                    "CPU-side ops (preprocessing in the main process, CPU training) run single-threaded.",
                    "unset OMP_NUM_THREADS   # or set it to the physical core count")
    return ok(f"torch uses {t.num_threads} CPU thread(s)" + (f" of {cores} cores" if cores else ""))


NCCL_STOPGAPS = {
    "NCCL_P2P_DISABLE": "GPU-to-GPU traffic goes through host memory",
    "NCCL_IB_DISABLE": "InfiniBand/RoCE unused: inter-node traffic over TCP sockets",
    "NCCL_SHM_DISABLE": "intra-node traffic over sockets instead of shared memory",
}


@check("perf.nccl_env", CAT, "no NCCL stop-gap variables left set",
       source="https://github.com/NVIDIA/nccl/issues/257")
def nccl_env(facts: Facts, ctx: Context) -> Outcome:
    if not env_known(facts):
        return skip(not_collected(facts, "env", "python.env") or "environment not captured")
    set_ = [(k, why) for k, why in NCCL_STOPGAPS.items() if _on(env(facts, k))]
    if not set_:
        return ok("no NCCL_*_DISABLE variables set")
    p2p_ok = facts.nvml.p2p and all(lk.status == "OK" for lk in facts.nvml.p2p)
    text = "; ".join(f"{k}={env(facts, k)}: {why}" for k, why in set_)
    if len(facts.nvml.gpus) >= 2:
        return warn(text + (" although P2P works between every GPU pair" if p2p_ok else ""),
                    "These are work-arounds for broken P2P/IB (IOMMU, ACS, drivers); left set they "
                    "slow every all-reduce.",
                    "unset " + " ".join(k for k, _ in set_) + "   # then re-test with nccl-tests")
    return ok(f"{text} (no effect with fewer than two GPUs)")


@check("perf.tf32_container", CAT, "TF32 default of this container (information)",
       source="https://pytorch.org/docs/stable/notes/cuda.html#tensorfloat-32-tf32-on-ampere-and-later-devices")
def tf32_container(facts: Facts, ctx: Context) -> Outcome:
    """What `rigcheck estimate --tf32` matches this machine (gpudb's request, issue 10 item 6).

    NGC PyTorch containers set TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1 (allow_tf32 True at import);
    NVIDIA_TF32_OVERRIDE=0 disables TF32 in cuBLAS/cuDNN whatever the framework asks. The
    measured torch.backends.cuda.matmul.allow_tf32 (probed in torch's child) beats both.
    """
    if not env_known(facts):
        return skip(not_collected(facts, "env", "python.env") or "environment not captured")
    ngc = env(facts, "NVIDIA_PYTORCH_VERSION")
    override = env(facts, "NVIDIA_TF32_OVERRIDE")
    cublas = env(facts, "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE")
    where = f"NGC PyTorch container {ngc}" if ngc else "this environment"
    if override == "0":
        return ok(f"{where}: NVIDIA_TF32_OVERRIDE=0 disables TF32 in cuBLAS/cuDNN; "
                  "rigcheck estimate --tf32 off matches this machine")
    measured = facts.torch.tf32_matmul
    on = measured if measured is not None else (cublas == "1" or bool(ngc))
    why = ("measured: torch.backends.cuda.matmul.allow_tf32=" + str(measured) if measured is not None
           else "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1" if cublas == "1"
           else "NGC container default" if ngc else "PyTorch's default since 1.12")
    return ok(f"{where}: fp32 matmuls {'use TF32' if on else 'are full fp32'} ({why}); "
              f"rigcheck estimate --tf32 {'on' if on else 'off'} matches this machine")

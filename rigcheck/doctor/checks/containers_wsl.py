"""Containers and WSL: shared memory, the NVIDIA runtime, CUDA forward compatibility, WSL paths."""

from __future__ import annotations

from rigcheck.doctor.checks._util import env, env_known, live_gpus, not_collected
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

CAT = "containers_wsl"
SHM_MIN_GB = 1.0     # Docker's default is 64 MB; DataLoader workers pass batches through /dev/shm


@check("container.shm", CAT, "/dev/shm big enough for DataLoader workers",
       source="https://github.com/pytorch/pytorch/issues/5040")
def shm(facts: Facts, ctx: Context) -> Outcome:
    h = facts.host
    if h.shm_total_gb is None:
        return skip(not_collected(facts, "shm_total_gb", "host") or "/dev/shm size not collected")
    size = h.shm_total_gb
    if size < SHM_MIN_GB:
        where = f"in a {h.container} container" if h.container else "on this machine"
        detail = ("\"DataLoader worker (pid N) is killed by signal: Bus error\" / \"insufficient "
                  "shared memory (shm)\" as soon as num_workers > 0.")
        if h.container:
            return fail(f"/dev/shm is {size * 1024:.0f} MB {where}", detail,
                        "docker run --shm-size=16g ...   # or --ipc=host; Kubernetes: mount an "
                        "emptyDir with medium: Memory at /dev/shm")
        return warn(f"/dev/shm is {size * 1024:.0f} MB {where}", detail,
                    "sudo mount -o remount,size=16G /dev/shm")
    return ok(f"/dev/shm {size:.1f} GB" + (f" ({h.container} container)" if h.container else ""))


@check("container.nvidia_runtime", CAT, "container started with the NVIDIA runtime",
       source="https://github.com/NVIDIA/nvidia-docker/issues/1642")
def nvidia_runtime(facts: Facts, ctx: Context) -> Outcome:
    h = facts.host
    if h.container is None:
        if not_collected(facts, "container", "host"):
            return skip(not_collected(facts, "container", "host"))
        return skip("not in a container")
    if facts.nvml.available:
        return ok(f"{h.container} container sees {len(facts.nvml.gpus)} GPU(s) through the NVIDIA runtime")
    nodes = [n.path for n in facts.driver.dev_nodes or [] if n.path.startswith("/dev/nvidia")]
    nvd = env(facts, "NVIDIA_VISIBLE_DEVICES")
    if not nodes:
        why = "NVIDIA_VISIBLE_DEVICES is unset" if nvd is None else f"NVIDIA_VISIBLE_DEVICES={nvd!r}"
        torch_gpu = bool(facts.torch.cuda_build)
        if not torch_gpu and nvd is None:
            return skip(f"no GPU asked for in this {h.container} container (torch is not a CUDA "
                        "build, NVIDIA_VISIBLE_DEVICES unset)")
        out = fail if torch_gpu and nvd is not None else warn
        return out(
            f"no /dev/nvidia* in this {h.container} container and {why}",
            "Started without GPU access: either the host has no GPU, the run lacked --gpus, or "
            "the host lacks nvidia-container-toolkit (\"could not select device driver \\\"\\\" "
            "with capabilities: [[gpu]]\").",
            "docker run --gpus all ...   # on the host: sudo apt install nvidia-container-toolkit && "
            "sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker",
        )
    return fail(f"/dev/nvidia* present in the container but NVML failed: {facts.nvml.error}",
                "The device nodes were passed but not the driver libraries (a manual --device run).",
                "docker run --gpus all ...   # lets the NVIDIA runtime mount the matching libraries")


@check("container.cuda_compat", CAT, "no CUDA forward-compatibility error 804",
       source="https://github.com/DeepVAC/TorchPod/issues/43")
def cuda_compat(facts: Facts, ctx: Context) -> Outcome:
    err = (facts.torch.cuda_init_error or "") + " " + (facts.driver.nvidia_smi_error or "")
    if "804" in err or "forward compatibility was attempted" in err:
        return fail(
            "CUDA error 804: forward compatibility was attempted on non supported HW",
            "The image's CUDA compat libraries (/usr/local/cuda/compat) only work on datacenter "
            "GPUs; on a GeForce the image's CUDA must be one the host driver supports.",
            "Update the host driver, or use an image whose CUDA <= the host's "
            f"(host driver supports CUDA {facts.nvml.cuda_driver_version or '?'}); or drop "
            "/usr/local/cuda/compat from LD_LIBRARY_PATH",
        )
    compat = facts.driver.compat_libs
    if compat and live_gpus(facts):
        from rigcheck.doctor.checks._util import is_datacenter
        consumer = [g for g in live_gpus(facts) if not is_datacenter(g)]
        if consumer and facts.host.container:
            return warn(f"CUDA forward-compat libraries present ({compat[0]}) with {consumer[0].name}",
                        "If they load, CUDA fails with error 804 on non-datacenter GPUs.",
                        "unset LD_LIBRARY_PATH or remove /usr/local/cuda/compat from it")
    if facts.torch.cuda_init_error is None and compat is None:
        return skip("no CUDA init result or compat-library facts")
    return ok("no forward-compatibility error")


@check("wsl.lib_path", CAT, "WSL CUDA library path", source="https://github.com/microsoft/WSL/issues/8587")
def wsl_lib_path(facts: Facts, ctx: Context) -> Outcome:
    if not facts.host.wsl:
        return skip("not WSL" if facts.host.wsl is False else (not_collected(facts, "wsl") or "WSL state unknown"))
    loaded = facts.torch.loaded_libs or []
    libcuda = [p for p in loaded if "libcuda.so" in p]
    wrong = [p for p in libcuda if not p.startswith("/usr/lib/wsl/")]
    if wrong:
        return fail(f"libcuda loaded from {wrong[0]}, not /usr/lib/wsl/lib",
                    "In WSL the Windows driver provides libcuda in /usr/lib/wsl/lib; a Linux "
                    "libcuda breaks CUDA.", "export LD_LIBRARY_PATH=/usr/lib/wsl/lib:$LD_LIBRARY_PATH")
    ld = env(facts, "LD_LIBRARY_PATH")
    if env_known(facts) and ld:
        parts = [p for p in ld.split(":") if p]
        cuda_dirs = [p for p in parts if "cuda" in p.lower() or "nvidia" in p.lower()]
        if cuda_dirs and parts[0].rstrip("/") != "/usr/lib/wsl/lib":    # cuda_dirs: parts too
            return warn(f"LD_LIBRARY_PATH starts with {parts[0]}, not /usr/lib/wsl/lib",
                        "Other CUDA directories before it can shadow WSL's libcuda (\"libcuda.so: "
                        "cannot open shared object file\").",
                        "export LD_LIBRARY_PATH=/usr/lib/wsl/lib:$LD_LIBRARY_PATH")
    if not env_known(facts) and facts.torch.loaded_libs is None:    # (so no libcuda either)
        return skip(not_collected(facts, "loaded_libs", "env", "python.env")
                    or "neither loaded libraries nor LD_LIBRARY_PATH known")
    return ok("WSL: nothing ahead of /usr/lib/wsl/lib" + (f" (libcuda from {libcuda[0]})" if libcuda else ""))


@check("wsl.linux_driver", CAT, "no Linux NVIDIA driver inside WSL",
       source="https://github.com/NVIDIA/cuml/issues/6218")
def wsl_linux_driver(facts: Facts, ctx: Context) -> Outcome:
    if not facts.host.wsl:
        return skip("not WSL" if facts.host.wsl is False else (not_collected(facts, "wsl") or "WSL state unknown"))
    if facts.driver.modules is None and facts.driver.proc_version is None:
        return skip(not_collected(facts, "modules", "driver", "driver.modules")
                    or "kernel modules not collected")
    mods = facts.driver.modules or {}
    if mods.get("nvidia") or facts.driver.proc_version:
        return fail("a Linux NVIDIA kernel driver is installed inside WSL",
                    "WSL uses the Windows driver; a Linux driver inside the distro breaks CUDA.",
                    "sudo apt purge 'nvidia-driver-*' 'libnvidia-*' && sudo apt autoremove   # keep "
                    "only the Windows driver")
    return ok("no Linux NVIDIA driver inside WSL (the Windows driver is used)")

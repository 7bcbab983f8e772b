"""Driver checks: is the NVIDIA kernel driver installed, loaded, matching, and reachable."""

from __future__ import annotations

from rigcheck.doctor.checks._util import gpu_count, label, live_gpus, not_collected
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

CAT = "driver"

RELOAD = ("sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia "
          "&& sudo modprobe nvidia_uvm   # or simply: sudo reboot")


def gpu_evidence(facts: Facts) -> list[str]:
    """Signs that an NVIDIA GPU is there even though NVML could not start."""
    signs = []
    mods = facts.driver.modules or {}
    if mods.get("nouveau"):
        signs.append("the nouveau module is loaded")
    if mods.get("nvidia"):
        signs.append("the nvidia module is loaded")
    if facts.driver.proc_version:
        signs.append("/proc/driver/nvidia/version exists")
    nodes = [n.path for n in facts.driver.dev_nodes or [] if n.path[-1:].isdigit()]
    if nodes:
        signs.append(f"{', '.join(nodes[:3])} present")
    if facts.torch.device_count:
        signs.append(f"torch sees {facts.torch.device_count} CUDA device(s)")
    if facts.python.env.get("NVIDIA_VISIBLE_DEVICES") not in (None, "", "void", "none"):
        signs.append("NVIDIA_VISIBLE_DEVICES is set")
    return signs


@check("driver.loaded", CAT, "NVIDIA driver loaded",
       source="https://github.com/GoogleCloudPlatform/compute-gpu-installation/pull/18")
def driver_loaded(facts: Facts, ctx: Context) -> Outcome:
    nv = facts.nvml
    why = not_collected(facts, "nvml")
    if nv.available:
        ver = nv.driver_version or facts.driver.kernel_module_version or "?"
        cuda = f", CUDA {nv.cuda_driver_version}" if nv.cuda_driver_version else ""
        via = "visible to NVML" if facts.origin == "probe" else f"in the {facts.origin} output"
        return ok(f"driver {ver}{cuda}, {gpu_count(facts)} GPU(s) {via}")
    if why and not nv.error:
        if nv.driver_version:
            return ok(f"driver {nv.driver_version} (from the paste; NVML state unknown)")
        return skip(why)
    err = nv.error or "NVML did not start"
    if "LIB_RM_VERSION_MISMATCH" in err:
        return skip("NVML reports a driver/library mismatch; see driver.version_mismatch")
    if "DRIVER_NOT_LOADED" in err:
        return fail(
            f"the NVIDIA driver is installed but its kernel module is not loaded ({err})",
            "Usually a kernel update without DKMS rebuilding the module, or Secure Boot refusing "
            "an unsigned module (`mokutil --sb-state`). nvidia-smi says: \"couldn't communicate "
            "with the NVIDIA driver\".",
            "sudo apt install --reinstall dkms && sudo dkms autoinstall && sudo reboot   "
            "# then check: cat /proc/driver/nvidia/version",
        )
    signs = gpu_evidence(facts)
    if "NOT_FOUND" in err or not signs:   # NVML_ERROR_LIBRARY_NOT_FOUND, FUNCTION_NOT_FOUND
        if not signs:
            return skip(f"no NVIDIA driver and no sign of an NVIDIA GPU ({err}); GPU checks skipped")
        return fail(
            f"NVIDIA GPU likely present ({'; '.join(signs)}) but no driver library ({err})",
            "libnvidia-ml.so was not found: the NVIDIA driver is not installed (or, in a "
            "container, the NVIDIA runtime did not mount it).",
            "sudo ubuntu-drivers install && sudo reboot   # or the driver from nvidia.com; in "
            "Docker: docker run --gpus all ...",
        )
    return fail(f"NVML could not start: {err}", f"Signs of a GPU: {'; '.join(signs)}.",
                "nvidia-smi   # read its error; then reinstall the driver or reboot")


@check("driver.version_mismatch", CAT, "driver and library versions match",
       source="https://github.com/illinois-scicomp/machine-shop-maintenance/issues/70")
def version_mismatch(facts: Facts, ctx: Context) -> Outcome:
    nv, drv = facts.nvml, facts.driver
    smi_err = drv.nvidia_smi_error or ""
    if "LIB_RM_VERSION_MISMATCH" in (nv.error or "") or "version mismatch" in smi_err.lower():
        found = f" (kernel module {drv.kernel_module_version})" if drv.kernel_module_version else ""
        return fail(
            f"Driver/library version mismatch: user-space libraries differ from the loaded kernel "
            f"module{found}",
            "\"Failed to initialize NVML: Driver/library version mismatch\": the driver packages "
            "were upgraded but the old kernel module is still loaded.",
            RELOAD,
        )
    if nv.available and nv.driver_version and drv.kernel_module_version:
        if nv.driver_version != drv.kernel_module_version:
            return fail(
                f"NVML driver {nv.driver_version} != kernel module {drv.kernel_module_version}",
                "The user-space driver and the loaded kernel module come from different versions.",
                RELOAD,
            )
        return ok(f"user-space driver and kernel module are both {nv.driver_version}")
    if nv.available:
        if facts.origin != "probe":
            return ok(f"driver {nv.driver_version or '?'}; no mismatch reported in the paste")
        return ok(f"NVML started with driver {nv.driver_version or '?'}")
    return skip(f"cannot compare: {nv.error or not_collected(facts, 'nvml') or 'no NVML'}")


@check("driver.nouveau", CAT, "nouveau not loaded",
       source="https://github.com/mattshma/bigdata/issues/133")
def nouveau(facts: Facts, ctx: Context) -> Outcome:
    mods = facts.driver.modules
    if mods is None:
        return skip(not_collected(facts, "modules", "driver") or "kernel modules not collected")
    if mods.get("nouveau"):
        return fail(
            "the open-source nouveau driver is loaded and owns the GPU",
            "The NVIDIA driver cannot bind a GPU that nouveau already claimed (dmesg: \"NVRM: "
            "nouveau ... obtained ownership of the NVIDIA device(s)\"). DCGM denylists nouveau.",
            "printf 'blacklist nouveau\\noptions nouveau modeset=0\\n' | sudo tee "
            "/etc/modprobe.d/blacklist-nouveau.conf && sudo update-initramfs -u && sudo reboot",
        )
    return ok("nouveau is not loaded")


@check("driver.uvm", CAT, "nvidia_uvm loaded",
       source="https://github.com/pytorch/pytorch/issues/88639")
def uvm(facts: Facts, ctx: Context) -> Outcome:
    mods = facts.driver.modules
    if mods is None or not facts.nvml.available:
        return skip(facts.nvml.error or not_collected(facts, "modules", "driver")
                    or "kernel modules not collected")
    if facts.host.wsl:
        return skip("WSL: the Windows driver provides CUDA, no nvidia_uvm module")
    if mods.get("nvidia") and not mods.get("nvidia_uvm"):
        # nvidia-modprobe loads nvidia_uvm on the first CUDA call, so on a fresh boot it can be
        # absent while everything works: only a CUDA start-up that failed makes it a fault.
        if facts.torch.cuda_available:
            return ok("nvidia_uvm was not loaded when probed, and CUDA starts (loaded on demand)")
        if facts.torch.cuda_available is None:
            return warn("nvidia_uvm is not loaded (CUDA start-up not probed)",
                        "nvidia-modprobe normally loads it on the first CUDA call; if CUDA then "
                        "fails with \"unknown error\", load it by hand.",
                        "sudo modprobe nvidia_uvm")
        return fail(
            "the nvidia module is loaded but nvidia_uvm is not: CUDA cannot initialise",
            "CUDA needs nvidia_uvm. It goes missing after a failed suspend/resume or when nothing "
            "has loaded it yet (torch: \"CUDA unknown error ... Setting the available devices to "
            "be zero\").",
            "sudo modprobe nvidia_uvm   # after suspend/resume: sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm",
        )
    return ok("nvidia_uvm is loaded" if mods.get("nvidia_uvm") else "nvidia module state unknown")


@check("driver.dev_nodes", CAT, "/dev/nvidia* accessible",
       source="https://github.com/NVIDIA/DCGM/blob/master/nvvs/src/Software.cpp")
def dev_nodes(facts: Facts, ctx: Context) -> Outcome:
    nodes = facts.driver.dev_nodes
    if nodes is None:
        return skip(not_collected(facts, "dev_nodes", "driver") or "device nodes not collected")
    if facts.host.wsl:
        return skip("WSL uses /dev/dxg, not /dev/nvidia*")
    gpus = [n for n in nodes if n.path.rstrip("0123456789") == "/dev/nvidia" and n.path[-1:].isdigit()]
    if not gpus and not facts.nvml.available:
        return skip("no /dev/nvidiaN nodes (no GPU or no driver)")
    denied = [n.path for n in nodes if n.readable is False or n.writable is False]
    if denied:
        return fail(
            f"no read/write access to {', '.join(denied)}",
            "CUDA opens these device nodes; a user outside the right group (or a cgroup device "
            "rule) cannot use the GPU even though nvidia-smi may work as root.",
            "ls -l /dev/nvidia*   # then: sudo usermod -aG video $USER (log out and in), or fix the udev rule",
        )
    names = {n.path for n in nodes}
    if facts.nvml.available and gpus and "/dev/nvidia-uvm" not in names \
            and facts.torch.cuda_available is not True:
        return fail("/dev/nvidia-uvm is missing: CUDA cannot start",
                    "Created when nvidia_uvm loads.", "sudo modprobe nvidia_uvm && ls -l /dev/nvidia-uvm")
    n = gpu_count(facts)
    if facts.nvml.available and len(gpus) < n and not facts.host.container:
        return warn(f"{len(gpus)} /dev/nvidiaN node(s) for {n} GPU(s)",
                    "DCGM flags a device-count mismatch: some GPUs are not reachable.",
                    "ls -l /dev/nvidia*; sudo nvidia-modprobe -c 0")
    return ok(f"{len(gpus)} GPU device node(s) readable and writable")


@check("driver.nvidia_smi", CAT, "nvidia-smi responds",
       source="https://github.com/NVIDIA/nvidia-docker/issues/365")
def nvidia_smi(facts: Facts, ctx: Context) -> Outcome:
    d = facts.driver
    # The probe always looks nvidia-smi up on PATH; a paste or an errored section may not have.
    probed = facts.origin == "probe" and d.error is None and not not_collected(facts, "driver")
    if d.nvidia_smi_ok is None and d.nvidia_smi_path is None and d.nvidia_smi_error is None \
            and not probed:
        return skip(not_collected(facts, "nvidia_smi", "driver") or "nvidia-smi was not run")
    err = d.nvidia_smi_error or ""
    if "timed out" in err or "hung" in err:
        return fail(
            f"nvidia-smi hung: {err}",
            "A hung nvidia-smi usually means a GPU stuck in a bad state (Xid errors, fallen off "
            "the bus) or a driver deadlock; CUDA programs will hang too.",
            "sudo dmesg -T | grep -iE 'NVRM|Xid'   # then reboot; check power/PCIe seating if it recurs",
        )
    if d.nvidia_smi_path is None and d.nvidia_smi_ok is not True:
        if facts.nvml.available:
            branch = (facts.nvml.driver_version or "").split(".")[0] or "<driver branch>"
            if facts.host.container:
                return ok("nvidia-smi not on PATH in this container (NVML works; the NVIDIA "
                          "runtime mounts it only with NVIDIA_DRIVER_CAPABILITIES=utility)")
            return warn("nvidia-smi is not on PATH (NVML works)",
                        "Harmless for training; many guides and bug reports rely on it.",
                        f"sudo apt install nvidia-utils-{branch}   # Ubuntu/Debian; the package matching the driver")
        return skip("nvidia-smi not on PATH and no driver")
    if d.nvidia_smi_ok is False:
        return fail(f"nvidia-smi failed: {err or 'non-zero exit'}", "",
                    "nvidia-smi   # read its message; see driver.loaded for the fix")
    return ok(f"nvidia-smi ran ({d.nvidia_smi_path or 'on PATH'})")


@check("driver.persistence_mode", CAT,
       "persistence mode on (Linux: datacenter GPUs and GPUs driving no display)",
       source="https://github.com/NVIDIA/DCGM/blob/master/nvvs/src/Software.cpp")
def persistence(facts: Facts, ctx: Context) -> Outcome:
    from rigcheck.doctor.checks._util import is_datacenter, linux, need_field
    gone = need_field(facts, "persistence_mode")
    if gone:
        return gone
    if linux(facts) is False:
        return skip("persistence mode is Linux-only")
    off = [g for g in live_gpus(facts) if g.persistence_mode is False]
    # What matters is whether something keeps the GPU's state alive, not its product line: a
    # display (the X server holds the GPU it drives) does; a workstation card (RTX A6000, RTX
    # 6000 Ada) or a GeForce card in a headless box is torn down like a datacenter card.
    dc_off = [g for g in off if is_datacenter(g) or g.display_active is False]
    if dc_off:
        ids = ",".join(str(g.index) for g in dc_off)
        return warn(
            f"persistence mode off on {', '.join(label(g) for g in dc_off)}",
            "Without it the driver tears down GPU state when no process holds it: each CUDA start "
            "pays seconds of initialisation, and DCGM requires it.",
            f"sudo nvidia-smi -i {ids} -pm 1   # or: sudo systemctl enable --now nvidia-persistenced",
        )
    if off:
        return ok(f"persistence mode off on {len(off)} desktop GPU(s) driving a display or not "
                  "reporting one (fine: the display keeps the driver's state alive)")
    return ok("persistence mode on")


@check("driver.fabric_manager", CAT, "Fabric Manager running on NVSwitch systems",
       source="https://github.com/aws-samples/aws-deep-learning-ami-ubuntu-dcv-desktop/issues/33")
def fabric_manager(facts: Facts, ctx: Context) -> Outcome:
    """HGX/DGX boards (SXM GPUs behind NVSwitch) need nvidia-fabricmanager before CUDA starts."""
    err = (facts.torch.cuda_init_error or "") + " " + (facts.torch.error or "")
    branch = (facts.nvml.driver_version or "").split(".")[0] or "<driver branch>"
    fix = (f"sudo apt install nvidia-fabricmanager-{branch} && sudo systemctl enable --now "
           "nvidia-fabricmanager   # the package must match the driver version exactly")
    if "802" in err or "system not yet initialized" in err.lower():
        return fail("CUDA error 802 \"system not yet initialized\": Fabric Manager is not running",
                    "On NVSwitch systems (HGX/DGX A100, H100, B200) CUDA cannot start until "
                    "nvidia-fabricmanager has configured the NVSwitch fabric.", fix)
    names = [g.name or "" for g in live_gpus(facts)]
    sxm = [n for n in names if "SXM" in n.upper() or "HBM3" in n.upper()]
    if len(sxm) < 4:
        return skip("not an NVSwitch (HGX/DGX) system")
    if facts.torch.cuda_available:
        return ok(f"CUDA starts on {len(sxm)} SXM GPUs (Fabric Manager is doing its job)")
    return skip("CUDA start-up not probed; cannot tell whether Fabric Manager runs")

"""Driver and device-node facts: what the kernel side of the NVIDIA stack looks like.

Read from files (``/proc/driver/nvidia/version``, ``/proc/modules``, ``/dev/nvidia*``) so they
work when NVML cannot start, which is exactly when they matter: "NVML_ERROR_DRIVER_NOT_LOADED"
with ``nouveau`` in ``/proc/modules`` has a different fix from a missing ``/dev/nvidia-uvm``.
``nvidia-smi -L`` is run with a timeout because a wedged driver makes it hang for minutes.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from rigcheck.facts import DeviceNode, DriverFacts
from rigcheck.probe.commands import Runner, describe_failure, run

# Kernel modules a doctor needs to see: a missing or stale nvidia_uvm gives torch's "CUDA unknown
# error" while NVML still works (fixed by reloading nvidia_uvm, pytorch/pytorch#88639); a loaded
# nouveau keeps the proprietary driver from binding (DCGM's denylist check fails on it).
WATCHED_MODULES = ("nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nouveau")
NVIDIA_SMI_TIMEOUT_S = 10.0

_VERSION_RE = re.compile(r"Kernel Module(?: for [\w-]+)?\s+(\d+\.\d+(?:\.\d+)?)")


def parse_proc_version(text: str) -> tuple[str | None, str | None]:
    """(first line, module version) of /proc/driver/nvidia/version."""
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), None)
    m = _VERSION_RE.search(text)
    return first, (m.group(1) if m else None)


def parse_modules(text: str) -> dict[str, bool]:
    loaded = {line.split(" ", 1)[0] for line in text.splitlines() if line.strip()}
    return {name: name in loaded for name in WATCHED_MODULES}


def device_nodes(pattern: str = "/dev/nvidia*") -> list[DeviceNode]:
    nodes = []
    for path in sorted(glob.glob(pattern)):
        node = DeviceNode(path=path)
        try:
            node.mode = stat.filemode(os.stat(path).st_mode)
        except OSError:
            pass
        if os.path.isdir(path):  # /dev/nvidia-caps is a folder of MIG capability nodes
            continue
        node.readable = os.access(path, os.R_OK)
        node.writable = os.access(path, os.W_OK)
        nodes.append(node)
    return nodes


def compat_libs(pattern: str = "/usr/local/cuda*/compat/libcuda.so.*") -> list[str]:
    # The forward-compatibility libcuda lets a new CUDA run on an old data-centre driver; picked up
    # on other GPUs it fails with "Error 804: forward compatibility was attempted on non supported
    # HW" (DeepVAC/TorchPod#43), so the doctor wants to see it.
    return sorted(glob.glob(pattern))


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return None


def collect_driver(
    *,
    runner: Runner = run,
    which: Callable[[str], str | None] = shutil.which,
    proc_root: str = "/proc",
    dev_pattern: str = "/dev/nvidia*",
    compat_pattern: str = "/usr/local/cuda*/compat/libcuda.so.*",
    smi_timeout_s: float = NVIDIA_SMI_TIMEOUT_S,
    errors: dict[str, str] | None = None,
) -> DriverFacts:
    """Collect :class:`DriverFacts`; each part is guarded, failures go to ``errors``."""
    errors = errors if errors is not None else {}
    facts = DriverFacts()
    text = _read(f"{proc_root}/driver/nvidia/version")
    if text is not None:
        facts.proc_version, facts.kernel_module_version = parse_proc_version(text)
    modules = _read(f"{proc_root}/modules")
    if modules is not None:
        facts.modules = parse_modules(modules)
    else:
        errors["modules"] = f"could not read {proc_root}/modules"
    try:
        facts.dev_nodes = device_nodes(dev_pattern)
    except Exception as exc:
        errors["dev_nodes"] = f"could not collect: {type(exc).__name__}: {exc}"
    try:
        facts.compat_libs = compat_libs(compat_pattern)
    except Exception as exc:
        errors["compat_libs"] = f"could not collect: {type(exc).__name__}: {exc}"
    smi = which("nvidia-smi")
    facts.nvidia_smi_path = smi
    if smi:
        result = runner([smi, "-L"], smi_timeout_s)
        facts.nvidia_smi_ok = result.ok
        if not result.ok:
            facts.nvidia_smi_error = describe_failure(result)
    return facts

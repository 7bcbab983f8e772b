"""AMD GPUs and ROCm: amdsmi when it is installed, else the amdgpu KFD topology in /sys.

This is the only module that imports ``amdsmi`` (AMD's Python bindings, shipped with ROCm and on
PyPI; optional: rigcheck does not depend on it), and only inside :func:`collect_amd`, like
``pynvml`` in :mod:`rigcheck.probe.nvml`. Without amdsmi the KFD topology still gives each GPU's
gfx target: ``/sys/class/kfd/kfd/topology/nodes/*/properties`` has ``gfx_target_version 110000``
(= gfx1100; major*10000 + minor*100 + stepping, the stepping in hex: 90010 -> gfx90a), the same
file rocminfo reads. ``/dev/kfd`` is the compute device every ROCm process opens; ``/dev/dri/
renderD*`` the per-GPU render nodes, group ``render`` (older distributions: ``video``).
"""

from __future__ import annotations

import glob
import os
import re
import stat
from typing import Any

from rigcheck.facts import AmdFacts, AmdGpu, DeviceNode

KFD = "/dev/kfd"
TOPOLOGY = "/sys/class/kfd/kfd/topology/nodes"
ROCM_VERSION_FILES = ("/opt/rocm/.info/version", "/opt/rocm/.info/version-dev")


def gfx_from_target_version(value: int) -> str | None:
    """110000 -> "gfx1100"; 90010 -> "gfx90a"; 90402 -> "gfx942"; 0 (a CPU node) -> None."""
    if value <= 0:
        return None
    major, minor, step = value // 10000, (value // 100) % 100, value % 100
    return f"gfx{major}{minor}{step:x}"


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _node(path: str) -> DeviceNode:
    try:
        mode = stat.filemode(os.stat(path).st_mode)
    except OSError:
        mode = None
    return DeviceNode(path, mode, os.access(path, os.R_OK), os.access(path, os.W_OK))


def topology_gpus(root: str = TOPOLOGY) -> list[AmdGpu]:
    """GPUs from the KFD topology (CPU nodes have gfx_target_version 0)."""
    gpus: list[AmdGpu] = []
    for props in sorted(glob.glob(os.path.join(root, "*", "properties")),
                        key=lambda p: int(re.sub(r"\D", "", os.path.basename(os.path.dirname(p))) or 0)):
        text = _read(props) or ""
        m = re.search(r"^gfx_target_version\s+(\d+)", text, re.M)
        gfx = gfx_from_target_version(int(m.group(1))) if m else None
        if gfx:
            gpus.append(AmdGpu(index=len(gpus), gfx_target=gfx))
    return gpus


def _amdsmi_gpus(errors: dict[str, str]) -> list[AmdGpu] | None:
    """GPUs through amdsmi, or None when it is not installed or will not start."""
    try:
        import amdsmi  # type: ignore[import-not-found]
    except Exception as exc:  # not installed, or its libamd_smi.so is missing
        errors["amdsmi"] = f"amdsmi not importable ({type(exc).__name__}: {exc})"[:300]
        return None
    try:
        amdsmi.amdsmi_init()
    except Exception as exc:
        errors["amdsmi"] = f"amdsmi_init failed: {exc}"[:300]
        return None
    gpus: list[AmdGpu] = []
    try:
        for i, handle in enumerate(amdsmi.amdsmi_get_processor_handles()):
            gpu = AmdGpu(index=i)
            asic: Any = _call(amdsmi.amdsmi_get_gpu_asic_info, handle, errors, f"gpus[{i}].asic")
            if isinstance(asic, dict):
                gpu.name = str(asic.get("market_name") or "") or None
                tv = asic.get("target_graphics_version")
                gpu.gfx_target = str(tv) if tv and str(tv).startswith("gfx") else None
            vram: Any = _call(amdsmi.amdsmi_get_gpu_vram_usage, handle, errors, f"gpus[{i}].vram")
            if isinstance(vram, dict):
                gpu.vram_total_mib = _num(vram.get("vram_total"))
                gpu.vram_used_mib = _num(vram.get("vram_used"))
            gpus.append(gpu)
    finally:
        try:
            amdsmi.amdsmi_shut_down()
        except Exception:
            pass
    return gpus


def _call(fn: Any, handle: Any, errors: dict[str, str], key: str) -> Any:
    try:
        return fn(handle)
    except Exception as exc:  # one field must not lose the GPU
        errors[key] = f"{type(exc).__name__}: {exc}"[:200]
        return None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def collect_amd(errors: dict[str, str] | None = None, *, use_amdsmi: bool = True,
                topology: str = TOPOLOGY, kfd: str = KFD) -> AmdFacts:
    """AMD GPUs of this machine; never raises. Field failures go to ``errors``."""
    errors = {} if errors is None else errors
    facts = AmdFacts()
    facts.kfd_present = os.path.exists(kfd)
    if facts.kfd_present:
        facts.kfd_accessible = os.access(kfd, os.R_OK | os.W_OK)
    facts.render_nodes = [_node(p) for p in sorted(glob.glob("/dev/dri/renderD*"))]
    for path in ROCM_VERSION_FILES:
        text = _read(path)
        if text and text.strip():
            facts.rocm_version = text.strip().splitlines()[0].split("-")[0]
            break
    version = _read("/sys/module/amdgpu/version")
    facts.driver_version = version.strip() if version and version.strip() else None
    topo = topology_gpus(topology)
    smi = _amdsmi_gpus(errors) if use_amdsmi else None
    gpus = smi if smi else topo
    # amdsmi without a gfx target (older releases): take it from the topology, in order.
    for gpu, node in zip(gpus, topo):
        gpu.gfx_target = gpu.gfx_target or node.gfx_target
    facts.gpus = gpus
    facts.available = bool(gpus)
    if not gpus and facts.kfd_present:  # no /dev/kfd and no GPU node: simply no AMD GPU
        facts.error = "/dev/kfd exists but no GPU node in the KFD topology"
    return facts

"""GPU facts through NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``).

This is the only module that imports ``pynvml``, and only inside :func:`collect_nvml`: NVML is
initialised lazily when a probe runs and shut down afterwards, never at import (gpustat calls
``nvmlInit`` at import, which makes ``--help`` depend on the driver).

Error policy, after gpustat: every per-field call goes through :meth:`_Gpu.get`, which turns an
``NVMLError`` into ``None`` for that field and records the NVML error *name* in
``GpuFacts.field_errors``. Usual causes of the names you will see:

- ``NVML_ERROR_NOT_SUPPORTED``: the GPU or driver has no such counter (ECC, retired pages and
  remapped rows on GeForce cards). Not a fault.
- ``NVML_ERROR_FUNCTION_NOT_FOUND``: the driver's libnvidia-ml is older than the call
  (e.g. the ``*_v3`` process queries need a driver newer than 510.39.01, gpustat PR #107).
- ``NVML_ERROR_NO_PERMISSION``: the call needs root (some process queries in containers).
- ``NVML_ERROR_GPU_IS_LOST``: the GPU fell off the bus (Xid 79); the GPU is marked ``lost`` and
  no further field is read from it.

Init errors (``NvmlFacts.error``): ``NVML_ERROR_LIBRARY_NOT_FOUND`` (no driver installed, or a
container started without the NVIDIA runtime), ``NVML_ERROR_DRIVER_NOT_LOADED`` (kernel module
not loaded), ``NVML_ERROR_LIB_RM_VERSION_MISMATCH`` (driver upgraded without reloading the kernel
module or rebooting; nvitop's docstring gives the same cause).

nvidia-smi equivalents are noted next to each read so facts can be checked by hand.
"""

from __future__ import annotations

import os
from typing import Any

from rigcheck.facts import GpuFacts, GpuProcess, NvmlFacts, P2PLink

# Clock-event (throttle) reason bits, from nvml.h / nvidia-ml-py 12.560
# (nvmlClocksEventReason*; the older names were nvmlClocksThrottleReason*, same bits). BoardLimit
# and Reliability exist only under the throttle names in nvidia-ml-py 13.615.
CLOCK_EVENT_REASONS: dict[int, str] = {
    0x1: "GpuIdle",
    0x2: "ApplicationsClocksSetting",
    0x4: "SwPowerCap",
    0x8: "HwSlowdown",
    0x10: "SyncBoost",
    0x20: "SwThermalSlowdown",
    0x40: "HwThermalSlowdown",
    0x80: "HwPowerBrakeSlowdown",
    0x100: "DisplayClockSetting",
    0x200: "BoardLimit",
    0x400: "Reliability",
}

COMPUTE_MODES = {0: "Default", 1: "Exclusive_Thread", 2: "Prohibited", 3: "Exclusive_Process"}

# nvml.h nvmlGpuP2PStatus_t (pynvml spells value 1 both CHIPSET_NOT_SUPPORED and ..._SUPPORTED).
P2P_STATUS = {
    0: "OK",
    1: "CHIPSET_NOT_SUPPORTED",
    2: "GPU_NOT_SUPPORTED",
    3: "IOH_TOPOLOGY_NOT_SUPPORTED",
    4: "DISABLED_BY_REGKEY",
    5: "NOT_SUPPORTED",
    6: "UNKNOWN",
}

_MIB = 1024 * 1024
# Constants from nvml.h, used here so the code does not depend on every pynvml release naming them.
_TEMPERATURE_GPU = 0
_TEMPERATURE_THRESHOLD_SLOWDOWN = 1
_CLOCK_SM, _CLOCK_MEM = 1, 2
_ERR_UNCORRECTED, _ERR_CORRECTED = 1, 0
_VOLATILE, _AGGREGATE = 0, 1
_RETIRE_SBE, _RETIRE_DBE = 0, 1
_P2P_READ = 0
_GPU_IS_LOST = 15


class _Lost(Exception):
    """Raised inside one GPU's collection when NVML says the GPU is lost."""


# nvmlReturn_t names from nvml.h (nvidia-ml-py 12.560 lists the same), so names do not depend on
# which pynvml release (or fake) raised the error.
NVML_ERROR_NAMES: dict[int, str] = {
    1: "NVML_ERROR_UNINITIALIZED",
    2: "NVML_ERROR_INVALID_ARGUMENT",
    3: "NVML_ERROR_NOT_SUPPORTED",
    4: "NVML_ERROR_NO_PERMISSION",
    5: "NVML_ERROR_ALREADY_INITIALIZED",
    6: "NVML_ERROR_NOT_FOUND",
    7: "NVML_ERROR_INSUFFICIENT_SIZE",
    8: "NVML_ERROR_INSUFFICIENT_POWER",
    9: "NVML_ERROR_DRIVER_NOT_LOADED",
    10: "NVML_ERROR_TIMEOUT",
    11: "NVML_ERROR_IRQ_ISSUE",
    12: "NVML_ERROR_LIBRARY_NOT_FOUND",
    13: "NVML_ERROR_FUNCTION_NOT_FOUND",
    14: "NVML_ERROR_CORRUPTED_INFOROM",
    15: "NVML_ERROR_GPU_IS_LOST",
    16: "NVML_ERROR_RESET_REQUIRED",
    17: "NVML_ERROR_OPERATING_SYSTEM",
    18: "NVML_ERROR_LIB_RM_VERSION_MISMATCH",
    19: "NVML_ERROR_IN_USE",
    20: "NVML_ERROR_MEMORY",
    21: "NVML_ERROR_NO_DATA",
    22: "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED",
    23: "NVML_ERROR_INSUFFICIENT_RESOURCES",
    24: "NVML_ERROR_FREQ_NOT_SUPPORTED",
    25: "NVML_ERROR_ARGUMENT_VERSION_MISMATCH",
    26: "NVML_ERROR_DEPRECATED",
    27: "NVML_ERROR_NOT_READY",
    28: "NVML_ERROR_GPU_NOT_FOUND",
    29: "NVML_ERROR_INVALID_STATE",
    999: "NVML_ERROR_UNKNOWN",
}


def error_name(nv: Any, exc: BaseException) -> str:
    """``NVML_ERROR_GPU_IS_LOST`` for an NVMLError; the exception type and text for anything else."""
    value = getattr(exc, "value", None)
    if isinstance(value, int) and isinstance(exc, getattr(nv, "NVMLError", ())):
        return NVML_ERROR_NAMES.get(value, f"NVML_ERROR_CODE_{value}")
    return f"{type(exc).__name__}: {exc}"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def cpu_list(words: Any) -> str:
    """CPU-affinity bitmask words (64 bits each, lowest CPUs first) -> "0-15,32-47"."""
    cpus = [w * 64 + b for w, word in enumerate(words) for b in range(64) if int(word) >> b & 1]
    ranges: list[str] = []
    start = prev = None
    for cpu in cpus:
        if prev is not None and cpu == prev + 1:
            prev = cpu
            continue
        if start is not None:
            ranges.append(f"{start}" if start == prev else f"{start}-{prev}")
        start = prev = cpu
    if start is not None:
        ranges.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ",".join(ranges)


def reason_names(mask: int) -> list[str]:
    names = [name for bit, name in CLOCK_EVENT_REASONS.items() if mask & bit]
    unknown = mask & ~sum(CLOCK_EVENT_REASONS)
    if unknown:
        names.append(f"Unknown(0x{unknown:x})")
    return names


class _Gpu:
    """Reads one GPU's fields, recording each failure by NVML error name."""

    def __init__(self, nv: Any, handle: Any, facts: GpuFacts) -> None:
        self.nv, self.handle, self.facts = nv, handle, facts

    def get(self, field: str, func: str, *args: Any, alt: str | None = None) -> Any:
        """Call ``func(handle, *args)``; on FUNCTION_NOT_FOUND or a missing binding try ``alt``."""
        for name in (func, alt) if alt else (func,):
            fn = getattr(self.nv, name, None)
            if fn is None:  # an nvidia-ml-py too old to have the binding at all
                self.facts.field_errors[field] = f"{name} missing in this nvidia-ml-py"
                continue
            try:
                value = fn(self.handle, *args)
            except self.nv.NVMLError as exc:
                err = error_name(self.nv, exc)
                self.facts.field_errors[field] = err
                if getattr(exc, "value", None) == _GPU_IS_LOST:
                    self.facts.lost = True
                    raise _Lost from None
                if err == "NVML_ERROR_FUNCTION_NOT_FOUND":
                    continue
                return None
            except Exception as exc:  # a binding bug must not sink the other fields
                self.facts.field_errors[field] = f"{type(exc).__name__}: {exc}"
                return None
            self.facts.field_errors.pop(field, None)
            return value
        return None


def _fill_gpu(g: _Gpu, cpu_count: int) -> None:
    f = g.facts
    name = g.get("name", "nvmlDeviceGetName")
    f.name = _text(name) if name is not None else None
    uuid = g.get("uuid", "nvmlDeviceGetUUID")
    f.uuid = _text(uuid) if uuid is not None else None
    serial = g.get("serial", "nvmlDeviceGetSerial")
    f.serial = _text(serial) if serial is not None else None
    pci = g.get("pci_bus_id", "nvmlDeviceGetPciInfo")
    if pci is not None:
        f.pci_bus_id = _text(getattr(pci, "busId", pci))
    mem = g.get("memory", "nvmlDeviceGetMemoryInfo")  # nvidia-smi --query-gpu=memory.total,used
    if mem is not None:
        f.memory_total_mib = round(mem.total / _MIB, 1)
        f.memory_used_mib = round(mem.used / _MIB, 1)
    cc = g.get("compute_capability", "nvmlDeviceGetCudaComputeCapability")
    if cc is not None:
        f.compute_capability = f"{cc[0]}.{cc[1]}"
    # PCIe (nvidia-smi -q -d PCIE). The link may downshift when idle; the doctor judges that.
    f.pcie_gen_current = g.get("pcie_gen_current", "nvmlDeviceGetCurrPcieLinkGeneration")
    f.pcie_gen_max = g.get("pcie_gen_max", "nvmlDeviceGetMaxPcieLinkGeneration")
    f.pcie_width_current = g.get("pcie_width_current", "nvmlDeviceGetCurrPcieLinkWidth")
    f.pcie_width_max = g.get("pcie_width_max", "nvmlDeviceGetMaxPcieLinkWidth")
    # Power in milliwatts (nvidia-smi -q -d POWER).
    for attr, func in (
        ("power_draw_w", "nvmlDeviceGetPowerUsage"),
        ("power_limit_w", "nvmlDeviceGetEnforcedPowerLimit"),
        ("power_default_limit_w", "nvmlDeviceGetPowerManagementDefaultLimit"),
    ):
        mw = g.get(attr, func)
        setattr(f, attr, round(mw / 1000.0, 1) if mw is not None else None)
    limits = g.get("power_max_limit_w", "nvmlDeviceGetPowerManagementLimitConstraints")
    if limits is not None:
        f.power_max_limit_w = round(limits[1] / 1000.0, 1)
    temp = g.get("temperature_c", "nvmlDeviceGetTemperature", _TEMPERATURE_GPU)
    f.temperature_c = float(temp) if temp is not None else None
    slow = g.get(
        "temperature_slowdown_c", "nvmlDeviceGetTemperatureThreshold", _TEMPERATURE_THRESHOLD_SLOWDOWN
    )
    f.temperature_slowdown_c = float(slow) if slow is not None else None
    for attr, func, clock in (
        ("sm_clock_mhz", "nvmlDeviceGetClockInfo", _CLOCK_SM),
        ("sm_clock_max_mhz", "nvmlDeviceGetMaxClockInfo", _CLOCK_SM),
        ("mem_clock_mhz", "nvmlDeviceGetClockInfo", _CLOCK_MEM),
    ):
        mhz = g.get(attr, func, clock)
        setattr(f, attr, float(mhz) if mhz is not None else None)
    util = g.get("utilization_gpu_pct", "nvmlDeviceGetUtilizationRates")
    f.utilization_gpu_pct = float(util.gpu) if util is not None else None
    fan = g.get("fan_pct", "nvmlDeviceGetFanSpeed")  # NOT_SUPPORTED on passively cooled cards
    f.fan_pct = float(fan) if fan is not None else None
    # The "ClocksEvent" name is the newer one (the reference notes "Throttle" as deprecated);
    # older drivers only export the "Throttle" entry point, with the same bits.
    mask = g.get(
        "throttle_reasons",
        "nvmlDeviceGetCurrentClocksEventReasons",
        alt="nvmlDeviceGetCurrentClocksThrottleReasons",
    )
    f.throttle_reasons = reason_names(int(mask)) if mask is not None else None
    pm = g.get("persistence_mode", "nvmlDeviceGetPersistenceMode")
    f.persistence_mode = bool(pm) if pm is not None else None
    cm = g.get("compute_mode", "nvmlDeviceGetComputeMode")
    f.compute_mode = COMPUTE_MODES.get(cm, f"Unknown({cm})") if cm is not None else None
    mig = g.get("mig_mode", "nvmlDeviceGetMigMode")  # NOT_SUPPORTED on non-MIG GPUs
    if mig is not None:
        f.mig_mode_current, f.mig_mode_pending = bool(mig[0]), bool(mig[1])
    _fill_memory_health(g)
    da = g.get("display_active", "nvmlDeviceGetDisplayActive")
    f.display_active = bool(da) if da is not None else None
    f.numa_node = g.get("numa_node", "nvmlDeviceGetNumaNodeId")
    words = g.get("cpu_affinity", "nvmlDeviceGetCpuAffinity", max(1, (cpu_count + 63) // 64))
    f.cpu_affinity = cpu_list(words) if words is not None else None
    f.processes = _processes(g)


def _fill_memory_health(g: _Gpu) -> None:
    """ECC mode and counts, retired pages (pre-Ampere), remapped rows (Ampere+)."""
    f = g.facts
    ecc = g.get("ecc_mode", "nvmlDeviceGetEccMode")  # (current, pending); GeForce: NOT_SUPPORTED
    if ecc is not None:
        f.ecc_mode_current, f.ecc_mode_pending = bool(ecc[0]), bool(ecc[1])
        f.ecc_uncorrected_volatile = g.get(
            "ecc_uncorrected_volatile", "nvmlDeviceGetTotalEccErrors", _ERR_UNCORRECTED, _VOLATILE
        )
        f.ecc_uncorrected_aggregate = g.get(
            "ecc_uncorrected_aggregate", "nvmlDeviceGetTotalEccErrors", _ERR_UNCORRECTED, _AGGREGATE
        )
        f.ecc_corrected_volatile = g.get(
            "ecc_corrected_volatile", "nvmlDeviceGetTotalEccErrors", _ERR_CORRECTED, _VOLATILE
        )
    sbe = g.get("retired_pages_sbe", "nvmlDeviceGetRetiredPages", _RETIRE_SBE)
    f.retired_pages_sbe = len(sbe) if sbe is not None else None
    dbe = g.get("retired_pages_dbe", "nvmlDeviceGetRetiredPages", _RETIRE_DBE)
    f.retired_pages_dbe = len(dbe) if dbe is not None else None
    pending = g.get("retired_pages_pending", "nvmlDeviceGetRetiredPagesPendingStatus")
    f.retired_pages_pending = bool(pending) if pending is not None else None
    rows = g.get("remapped_rows", "nvmlDeviceGetRemappedRows")  # (corr, unc, pending, failure)
    if rows is not None:
        f.remapped_rows_correctable, f.remapped_rows_uncorrectable = int(rows[0]), int(rows[1])
        f.remapped_rows_pending, f.remapped_rows_failure = bool(rows[2]), bool(rows[3])


def _processes(g: _Gpu) -> list[GpuProcess] | None:
    found: list[GpuProcess] = []
    got_any = False
    for kind, func in (
        ("compute", "nvmlDeviceGetComputeRunningProcesses"),
        ("graphics", "nvmlDeviceGetGraphicsRunningProcesses"),
    ):
        procs = g.get(f"processes_{kind}", func)
        if procs is None:
            continue
        got_any = True
        for p in procs:
            used = getattr(p, "usedGpuMemory", None)  # None when the driver hides it (no permission)
            found.append(
                GpuProcess(
                    pid=int(p.pid),
                    name=_process_name(g.nv, int(p.pid)),
                    used_mib=round(used / _MIB, 1) if isinstance(used, int) else None,
                    kind=kind,
                )
            )
    return found if got_any else None


def _process_name(nv: Any, pid: int) -> str | None:
    try:
        return os.path.basename(_text(nv.nvmlSystemGetProcessName(pid))) or None
    except Exception:
        return None


def _system(nv: Any, facts: NvmlFacts, errors: dict[str, str]) -> None:
    def call(name: str, func: str) -> Any:
        try:
            return getattr(nv, func)()
        except Exception as exc:
            errors[name] = error_name(nv, exc)
            return None

    drv = call("driver_version", "nvmlSystemGetDriverVersion")
    facts.driver_version = _text(drv) if drv is not None else None
    cuda = call("cuda_driver_version", "nvmlSystemGetCudaDriverVersion")  # 12040 -> "12.4"
    if isinstance(cuda, int):
        facts.cuda_driver_version = f"{cuda // 1000}.{cuda % 1000 // 10}"
    ver = call("nvml_version", "nvmlSystemGetNVMLVersion")
    facts.nvml_version = _text(ver) if ver is not None else None


def _p2p(nv: Any, handles: dict[int, Any]) -> list[P2PLink]:
    """P2P read status for each pair (nvidia-smi topo -p2p r)."""
    links: list[P2PLink] = []
    idx = sorted(handles)
    for i, a in enumerate(idx):
        for b in idx[i + 1:]:
            try:
                status = nv.nvmlDeviceGetP2PStatus(handles[a], handles[b], _P2P_READ)
                name = P2P_STATUS.get(int(status), f"UNKNOWN({status})")
            except Exception as exc:
                name = error_name(nv, exc)
            links.append(P2PLink(gpu_a=a, gpu_b=b, status=name, kind="read"))
    return links


def _import_pynvml() -> Any:
    import pynvml

    return pynvml


def collect_nvml(
    nvml: Any = None,
    *,
    cpu_count: int | None = None,
    errors: dict[str, str] | None = None,
    p2p: bool = True,
) -> NvmlFacts:
    """Initialise NVML, read every GPU, shut NVML down. Never raises for NVML's sake.

    ``nvml`` replaces the ``pynvml`` module (tests pass ``tests.fakenvml.FakeNvml``).
    ``errors`` receives system-level field errors (``driver_version`` -> error name).
    """
    errors = errors if errors is not None else {}
    try:
        nv = nvml if nvml is not None else _import_pynvml()
    except ImportError as exc:
        return NvmlFacts(available=False, error=f"nvidia-ml-py not installed ({exc})")
    try:
        nv.nvmlInit()
    except Exception as exc:
        return NvmlFacts(available=False, error=error_name(nv, exc))
    facts = NvmlFacts(available=True)
    try:
        _system(nv, facts, errors)
        try:
            count = int(nv.nvmlDeviceGetCount())
        except Exception as exc:
            facts.error = error_name(nv, exc)
            return facts
        facts.gpu_count = count
        cpus = cpu_count or os.cpu_count() or 1
        handles: dict[int, Any] = {}
        for index in range(count):
            gpu = GpuFacts(index=index)
            facts.gpus.append(gpu)
            try:
                handle = nv.nvmlDeviceGetHandleByIndex(index)
            except Exception as exc:
                gpu.field_errors["handle"] = error_name(nv, exc)
                gpu.lost = getattr(exc, "value", None) == _GPU_IS_LOST
                continue
            try:
                _fill_gpu(_Gpu(nv, handle, gpu), cpus)
            except _Lost:
                continue
            handles[index] = handle
        if p2p and len(handles) > 1:
            facts.p2p = _p2p(nv, handles)
        return facts
    finally:
        _shutdown(nv)


def _shutdown(nv: Any) -> None:
    try:
        nv.nvmlShutdown()
    except Exception:  # shutting down a half-broken NVML must not lose the facts we read
        pass


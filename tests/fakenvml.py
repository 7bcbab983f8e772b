"""A fake ``pynvml`` module with recorded scenarios, for tests that need no GPU.

Shared by the probe and doctor tests. Usage::

    from tests.fakenvml import FakeNvml, SCENARIOS, DRIVER_GENERATIONS

    fake = FakeNvml("rtx4090_pcie_x4_load")             # a scenario by name
    facts = collect_nvml(nvml=fake)                      # inject directly, or
    fake.install(monkeypatch)                            # replace sys.modules["pynvml"]
    facts = collect_nvml()

    FakeNvml("h100_sxm_8x", driver="r418")               # same GPUs, an old driver's library
    fake.init_calls, fake.shutdown_calls, fake.calls     # what the code under test did

A scenario is plain data (:class:`Scenario` holding :class:`FakeGpu` records); make new ones with
``dataclasses.replace``. Errors are scripted per GPU as ``errors={"nvmlDeviceGetEccMode":
NOT_SUPPORTED}``; a *driver generation* (as gpustat's tests do) lists the NVML entry points that
its libnvidia-ml lacks, which then raise ``NVML_ERROR_FUNCTION_NOT_FOUND`` like the real binding
does. Error classes and constants are the real ``pynvml`` ones, so ``except pynvml.NVMLError``
and name lookups behave as on a real machine.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml as _real

NOT_SUPPORTED = _real.NVML_ERROR_NOT_SUPPORTED
FUNCTION_NOT_FOUND = _real.NVML_ERROR_FUNCTION_NOT_FOUND
GPU_IS_LOST = _real.NVML_ERROR_GPU_IS_LOST
NO_PERMISSION = _real.NVML_ERROR_NO_PERMISSION
LIBRARY_NOT_FOUND = _real.NVML_ERROR_LIBRARY_NOT_FOUND
DRIVER_NOT_LOADED = _real.NVML_ERROR_DRIVER_NOT_LOADED
LIB_RM_VERSION_MISMATCH = _real.NVML_ERROR_LIB_RM_VERSION_MISMATCH
UNINITIALIZED = _real.NVML_ERROR_UNINITIALIZED

MIB = 1024 * 1024

# Memory-health entry points that GeForce/consumer boards do not implement.
CONSUMER_UNSUPPORTED = {
    name: NOT_SUPPORTED
    for name in (
        "nvmlDeviceGetEccMode",
        "nvmlDeviceGetTotalEccErrors",
        "nvmlDeviceGetRetiredPages",
        "nvmlDeviceGetRetiredPagesPendingStatus",
        "nvmlDeviceGetRemappedRows",
        "nvmlDeviceGetMigMode",
    )
}
# Ampere/Hopper data-centre parts replaced page retirement by row remapping.
NO_PAGE_RETIREMENT = {
    "nvmlDeviceGetRetiredPages": NOT_SUPPORTED,
    "nvmlDeviceGetRetiredPagesPendingStatus": NOT_SUPPORTED,
}


@dataclass
class FakeProcess:
    pid: int
    name: str
    used_mib: float | None


@dataclass
class FakeGpu:
    """One GPU's readings; defaults describe an idle, healthy H100 SXM5."""

    name: str = "NVIDIA H100 80GB HBM3"
    uuid: str = "GPU-5f6c1a2b-0000-4c3d-9e8f-0123456789ab"
    serial: str = "1654922000001"
    pci_bus_id: str = "00000000:18:00.0"
    memory_total_mib: float = 81559.0
    memory_used_mib: float = 4.0
    compute_capability: tuple[int, int] = (9, 0)
    pcie_gen: tuple[int, int] = (5, 5)           # (current, max)
    pcie_width: tuple[int, int] = (16, 16)
    power_draw_w: float = 72.0
    power_limit_w: float = 700.0
    power_default_limit_w: float = 700.0
    power_limits_w: tuple[float, float] = (200.0, 700.0)
    temperature_c: int = 31
    temperature_slowdown_c: int = 87
    sm_clock_mhz: int = 345
    sm_clock_max_mhz: int = 1980
    mem_clock_mhz: int = 2619
    utilization_gpu_pct: int = 0
    fan_pct: int | None = None                   # None: NOT_SUPPORTED (passive cooling)
    clock_event_mask: int = 0x1                  # GpuIdle
    persistence: int = 1
    compute_mode: int = 0
    mig: tuple[int, int] = (0, 0)
    ecc: tuple[int, int] = (1, 1)
    ecc_uncorrected_volatile: int = 0
    ecc_uncorrected_aggregate: int = 0
    ecc_corrected_volatile: int = 0
    retired_sbe: int = 0
    retired_dbe: int = 0
    retired_pending: int = 0
    remapped_rows: tuple[int, int, int, int] = (0, 0, 0, 0)  # corr, unc, pending, failure
    display_active: int = 0
    numa_node: int = 0
    cpus: tuple[int, ...] = tuple(range(0, 56))
    compute_processes: list[FakeProcess] = field(default_factory=list)
    graphics_processes: list[FakeProcess] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)   # entry point -> NVML error code
    lost: bool = False                           # every call (and the handle) says GPU_IS_LOST


@dataclass
class Scenario:
    name: str
    description: str
    gpus: list[FakeGpu] = field(default_factory=list)
    driver_version: str = "550.54.15"
    cuda_driver_version: int = 12040
    nvml_version: str = "12.550.54.15"
    init_error: int | None = None
    driver: str = "r550"                          # key of DRIVER_GENERATIONS
    p2p: dict[tuple[int, int], int] = field(default_factory=dict)  # default: 0 (OK)
    hidden_bindings: tuple[str, ...] = ()        # missing from an old nvidia-ml-py altogether
    init_delay_s: float = 0.0                    # for hang tests


# Entry points each driver generation's libnvidia-ml lacks (gpustat tests per driver the same way).
# Sourced: the *_v3 process queries that nvidia-ml-py >= 11.515 calls need a driver newer than
# 510.39.01 (wookayin/gpustat PR #107). Approximate, not checked against each nvml.h: row
# remapping came with Ampere (R450 era) and the "ClocksEvent" names with the R535 headers; the
# tests only need some older generation that lacks them.
DRIVER_GENERATIONS: dict[str, frozenset[str]] = {
    "r418": frozenset({
        "nvmlDeviceGetRemappedRows",
        "nvmlDeviceGetMigMode",
        "nvmlDeviceGetComputeRunningProcesses",
        "nvmlDeviceGetGraphicsRunningProcesses",
        "nvmlDeviceGetCurrentClocksEventReasons",
        "nvmlDeviceGetTemperatureThreshold",
    }),
    "r470": frozenset({
        "nvmlDeviceGetComputeRunningProcesses",
        "nvmlDeviceGetGraphicsRunningProcesses",
        "nvmlDeviceGetCurrentClocksEventReasons",
    }),
    "r525": frozenset({"nvmlDeviceGetCurrentClocksEventReasons"}),
    "r550": frozenset(),
}


def _h100(i: int) -> FakeGpu:
    return FakeGpu(
        uuid=f"GPU-5f6c1a2b-{i:04x}-4c3d-9e8f-0123456789ab",
        serial=f"16549220000{i:02d}",
        pci_bus_id=f"00000000:{[0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb][i]:02X}:00.0",
        numa_node=0 if i < 4 else 1,
        cpus=tuple(range(0, 56)) if i < 4 else tuple(range(56, 112)),
    )


def _h100_node() -> list[FakeGpu]:
    return [_h100(i) for i in range(8)]


def _rtx4090() -> FakeGpu:
    return FakeGpu(
        name="NVIDIA GeForce RTX 4090",
        uuid="GPU-0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        serial="0",  # GeForce boards report no serial
        pci_bus_id="00000000:01:00.0",
        memory_total_mib=24564.0,
        memory_used_mib=21034.0,
        compute_capability=(8, 9),
        pcie_gen=(4, 4),
        pcie_width=(4, 16),       # link trained at x4 while busy: riser or wrong slot
        power_draw_w=431.5,
        power_limit_w=450.0,
        power_default_limit_w=450.0,
        power_limits_w=(150.0, 600.0),
        temperature_c=71,
        temperature_slowdown_c=87,
        sm_clock_mhz=2730,
        sm_clock_max_mhz=3105,
        mem_clock_mhz=10501,
        utilization_gpu_pct=99,
        fan_pct=64,
        clock_event_mask=0,
        persistence=0,
        display_active=1,
        cpus=tuple(range(0, 32)),
        compute_processes=[FakeProcess(48211, "/home/alice/venv/bin/python", 20480.0)],
        graphics_processes=[FakeProcess(1734, "/usr/lib/xorg/Xorg", 412.0)],
        errors=dict(CONSUMER_UNSUPPORTED),
    )


def _a100(**kw: Any) -> FakeGpu:
    base = FakeGpu(
        name="NVIDIA A100-SXM4-80GB",
        uuid="GPU-a100a100-1111-2222-3333-444455556666",
        serial="1323021000123",
        pci_bus_id="00000000:07:00.0",
        compute_capability=(8, 0),
        pcie_gen=(4, 4),
        power_draw_w=61.0,
        power_limit_w=400.0,
        power_default_limit_w=400.0,
        power_limits_w=(100.0, 400.0),
        sm_clock_max_mhz=1410,
        mem_clock_mhz=1593,
        errors=dict(NO_PAGE_RETIREMENT),
    )
    return dataclasses.replace(base, **kw)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("h100_sxm_8x", "healthy 8x H100 SXM node, idle, persistence on", _h100_node()),
        Scenario(
            "rtx4090_pcie_x4_load",
            "RTX 4090 under load with its link at PCIe 4.0 x4 of x16; desktop with a display",
            [_rtx4090()],
            driver_version="560.35.03",
            cuda_driver_version=12060,
            nvml_version="12.560.35.03",
        ),
        Scenario(
            "h100_8x_one_lost",
            "8x H100 node where GPU 3 fell off the bus (Xid 79: NVML_ERROR_GPU_IS_LOST)",
            [dataclasses.replace(g, lost=(i == 3)) for i, g in enumerate(_h100_node())],
        ),
        Scenario("laptop_no_driver", "laptop without the NVIDIA driver installed",
                 init_error=LIBRARY_NOT_FOUND),
        Scenario("driver_not_loaded", "driver installed but the kernel module is not loaded",
                 init_error=DRIVER_NOT_LOADED),
        Scenario("driver_mismatch",
                 "driver upgraded without reboot: user-space 550 against a loaded 535 module",
                 init_error=LIB_RM_VERSION_MISMATCH),
        Scenario("a100_mig", "A100 80GB with MIG enabled", [_a100(mig=(1, 1))]),
        Scenario(
            "rtx3060_consumer",
            "idle RTX 3060 where ECC, retired pages, remapped rows and MIG are NOT_SUPPORTED",
            [dataclasses.replace(
                _rtx4090(), name="NVIDIA GeForce RTX 3060", memory_total_mib=12288.0,
                memory_used_mib=310.0, compute_capability=(8, 6), pcie_width=(16, 16),
                pcie_gen=(1, 4), power_draw_w=16.0, power_limit_w=170.0,
                power_default_limit_w=170.0, power_limits_w=(100.0, 170.0), temperature_c=38,
                utilization_gpu_pct=0, clock_event_mask=0x1, compute_processes=[],
                sm_clock_mhz=210, sm_clock_max_mhz=2100,
            )],
        ),
        Scenario(
            "throttling",
            "RTX A6000 in a hot case, power- and thermal-throttled under load",
            [FakeGpu(
                name="NVIDIA RTX A6000", memory_total_mib=49140.0, memory_used_mib=40211.0,
                compute_capability=(8, 6), pcie_gen=(4, 4), power_draw_w=299.0,
                power_limit_w=300.0, power_default_limit_w=300.0, power_limits_w=(100.0, 300.0),
                temperature_c=93, temperature_slowdown_c=93, sm_clock_mhz=1260,
                sm_clock_max_mhz=2100, utilization_gpu_pct=100, fan_pct=100,
                clock_event_mask=0x4 | 0x20 | 0x40, persistence=0, ecc=(0, 0),
                errors={"nvmlDeviceGetMigMode": NOT_SUPPORTED, **NO_PAGE_RETIREMENT},
            )],
        ),
        Scenario(
            "memory_errors",
            "A100 with uncorrectable ECC errors and a pending row remap (needs a GPU reset)",
            [_a100(ecc_uncorrected_volatile=2, ecc_uncorrected_aggregate=5,
                   ecc_corrected_volatile=117, remapped_rows=(3, 2, 1, 0))],
        ),
        Scenario(
            "v100_retired_pages",
            "V100 with retired pages and a retirement pending (pre-Ampere memory health)",
            [FakeGpu(
                name="Tesla V100-SXM2-32GB", memory_total_mib=32510.0, compute_capability=(7, 0),
                pcie_gen=(3, 3), power_limit_w=300.0, power_default_limit_w=300.0,
                power_limits_w=(150.0, 300.0), sm_clock_max_mhz=1530, retired_sbe=2,
                retired_dbe=1, retired_pending=1, ecc_uncorrected_volatile=1,
                errors={"nvmlDeviceGetRemappedRows": NOT_SUPPORTED,
                        "nvmlDeviceGetMigMode": NOT_SUPPORTED},
            )],
            driver="r470", driver_version="470.223.02", cuda_driver_version=11040,
            nvml_version="11.470.223.02",
        ),
        Scenario(
            "old_pynvml",
            "current driver but an nvidia-ml-py without the clock-event-reasons binding",
            [_a100()],
            hidden_bindings=("nvmlDeviceGetCurrentClocksEventReasons",),
        ),
    )
}


class _Handle:
    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"<FakeHandle {self.index}>"


def _affinity_words(cpus: tuple[int, ...], size: int) -> list[int]:
    words = [0] * size
    for cpu in cpus:
        if cpu // 64 < size:
            words[cpu // 64] |= 1 << (cpu % 64)
    return words


class FakeNvml:
    """Stands in for the ``pynvml`` module; see the module docstring."""

    def __init__(self, scenario: str | Scenario = "h100_sxm_8x", *, driver: str | None = None):
        sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
        self.scenario = copy.deepcopy(sc)
        self.missing = DRIVER_GENERATIONS[driver or sc.driver]
        self.hidden = frozenset(sc.hidden_bindings)
        self.initialized = False
        self.init_calls = 0
        self.shutdown_calls = 0
        self.calls: list[str] = []

    # -- module plumbing ----------------------------------------------------------------------
    def __getattribute__(self, name: str) -> Any:
        if name.startswith("nvml") and name in object.__getattribute__(self, "hidden"):
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:  # constants and error classes come from pynvml
        if name.startswith(("NVML_", "NVMLError", "nvmlClocks")):
            return getattr(_real, name)
        raise AttributeError(name)

    def __dir__(self) -> list[str]:
        real = [n for n in dir(_real) if n.startswith(("NVML_", "NVMLError", "nvmlClocks"))]
        return sorted(set(object.__dir__(self)) - self.hidden | set(real))

    def install(self, monkeypatch: Any) -> FakeNvml:
        """Make ``import pynvml`` return this fake for the rest of the test."""
        monkeypatch.setitem(sys.modules, "pynvml", self)
        return self

    def _raise(self, code: int) -> None:
        raise _real.NVMLError(code)

    def _check(self, func: str) -> None:
        self.calls.append(func)
        if not self.initialized:
            self._raise(UNINITIALIZED)
        if func in self.missing:
            self._raise(FUNCTION_NOT_FOUND)

    def _gpu(self, func: str, handle: _Handle) -> FakeGpu:
        self._check(func)
        gpu = self.scenario.gpus[handle.index]
        if gpu.lost:
            self._raise(GPU_IS_LOST)
        if func in gpu.errors:
            self._raise(gpu.errors[func])
        return gpu

    # -- system ---------------------------------------------------------------------------------
    def nvmlInit(self) -> None:
        self.init_calls += 1
        self.calls.append("nvmlInit")
        if self.scenario.init_delay_s:
            time.sleep(self.scenario.init_delay_s)
        if self.scenario.init_error is not None:
            self._raise(self.scenario.init_error)
        self.initialized = True

    def nvmlShutdown(self) -> None:
        self.shutdown_calls += 1
        self._check("nvmlShutdown")
        self.initialized = False

    def nvmlSystemGetDriverVersion(self) -> str:
        self._check("nvmlSystemGetDriverVersion")
        return self.scenario.driver_version

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._check("nvmlSystemGetCudaDriverVersion")
        return self.scenario.cuda_driver_version

    def nvmlSystemGetNVMLVersion(self) -> str:
        self._check("nvmlSystemGetNVMLVersion")
        return self.scenario.nvml_version

    def nvmlSystemGetProcessName(self, pid: int) -> str:
        self._check("nvmlSystemGetProcessName")
        for gpu in self.scenario.gpus:
            for p in gpu.compute_processes + gpu.graphics_processes:
                if p.pid == pid:
                    return p.name
        self._raise(_real.NVML_ERROR_NOT_FOUND)
        raise AssertionError  # unreachable

    def nvmlDeviceGetCount(self) -> int:
        self._check("nvmlDeviceGetCount")
        return len(self.scenario.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> _Handle:
        self._check("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self.scenario.gpus):
            self._raise(_real.NVML_ERROR_INVALID_ARGUMENT)
        if self.scenario.gpus[index].lost:
            self._raise(GPU_IS_LOST)
        return _Handle(index)

    # -- per device -----------------------------------------------------------------------------
    def nvmlDeviceGetName(self, h: _Handle) -> str:
        return self._gpu("nvmlDeviceGetName", h).name

    def nvmlDeviceGetUUID(self, h: _Handle) -> str:
        return self._gpu("nvmlDeviceGetUUID", h).uuid

    def nvmlDeviceGetSerial(self, h: _Handle) -> str:
        return self._gpu("nvmlDeviceGetSerial", h).serial

    def nvmlDeviceGetPciInfo(self, h: _Handle) -> Any:
        return SimpleNamespace(busId=self._gpu("nvmlDeviceGetPciInfo", h).pci_bus_id.encode())

    def nvmlDeviceGetMemoryInfo(self, h: _Handle) -> Any:
        g = self._gpu("nvmlDeviceGetMemoryInfo", h)
        total, used = int(g.memory_total_mib * MIB), int(g.memory_used_mib * MIB)
        return SimpleNamespace(total=total, used=used, free=total - used)

    def nvmlDeviceGetCudaComputeCapability(self, h: _Handle) -> tuple[int, int]:
        return self._gpu("nvmlDeviceGetCudaComputeCapability", h).compute_capability

    def nvmlDeviceGetCurrPcieLinkGeneration(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetCurrPcieLinkGeneration", h).pcie_gen[0]

    def nvmlDeviceGetMaxPcieLinkGeneration(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetMaxPcieLinkGeneration", h).pcie_gen[1]

    def nvmlDeviceGetCurrPcieLinkWidth(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetCurrPcieLinkWidth", h).pcie_width[0]

    def nvmlDeviceGetMaxPcieLinkWidth(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetMaxPcieLinkWidth", h).pcie_width[1]

    def nvmlDeviceGetPowerUsage(self, h: _Handle) -> int:
        return int(self._gpu("nvmlDeviceGetPowerUsage", h).power_draw_w * 1000)

    def nvmlDeviceGetEnforcedPowerLimit(self, h: _Handle) -> int:
        return int(self._gpu("nvmlDeviceGetEnforcedPowerLimit", h).power_limit_w * 1000)

    def nvmlDeviceGetPowerManagementDefaultLimit(self, h: _Handle) -> int:
        g = self._gpu("nvmlDeviceGetPowerManagementDefaultLimit", h)
        return int(g.power_default_limit_w * 1000)

    def nvmlDeviceGetPowerManagementLimitConstraints(self, h: _Handle) -> list[int]:
        g = self._gpu("nvmlDeviceGetPowerManagementLimitConstraints", h)
        return [int(w * 1000) for w in g.power_limits_w]

    def nvmlDeviceGetTemperature(self, h: _Handle, sensor: int) -> int:
        return self._gpu("nvmlDeviceGetTemperature", h).temperature_c

    def nvmlDeviceGetTemperatureThreshold(self, h: _Handle, threshold: int) -> int:
        return self._gpu("nvmlDeviceGetTemperatureThreshold", h).temperature_slowdown_c

    def nvmlDeviceGetClockInfo(self, h: _Handle, clock: int) -> int:
        g = self._gpu("nvmlDeviceGetClockInfo", h)
        return g.mem_clock_mhz if clock == _real.NVML_CLOCK_MEM else g.sm_clock_mhz

    def nvmlDeviceGetMaxClockInfo(self, h: _Handle, clock: int) -> int:
        return self._gpu("nvmlDeviceGetMaxClockInfo", h).sm_clock_max_mhz

    def nvmlDeviceGetUtilizationRates(self, h: _Handle) -> Any:
        g = self._gpu("nvmlDeviceGetUtilizationRates", h)
        return SimpleNamespace(gpu=g.utilization_gpu_pct, memory=0)

    def nvmlDeviceGetFanSpeed(self, h: _Handle) -> int:
        g = self._gpu("nvmlDeviceGetFanSpeed", h)
        if g.fan_pct is None:
            self._raise(NOT_SUPPORTED)
        return int(g.fan_pct or 0)

    def nvmlDeviceGetCurrentClocksEventReasons(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetCurrentClocksEventReasons", h).clock_event_mask

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetCurrentClocksThrottleReasons", h).clock_event_mask

    def nvmlDeviceGetPersistenceMode(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetPersistenceMode", h).persistence

    def nvmlDeviceGetComputeMode(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetComputeMode", h).compute_mode

    def nvmlDeviceGetMigMode(self, h: _Handle) -> list[int]:
        return list(self._gpu("nvmlDeviceGetMigMode", h).mig)

    def nvmlDeviceGetEccMode(self, h: _Handle) -> list[int]:
        return list(self._gpu("nvmlDeviceGetEccMode", h).ecc)

    def nvmlDeviceGetTotalEccErrors(self, h: _Handle, error_type: int, counter: int) -> int:
        g = self._gpu("nvmlDeviceGetTotalEccErrors", h)
        if error_type == _real.NVML_MEMORY_ERROR_TYPE_CORRECTED:
            return g.ecc_corrected_volatile
        return g.ecc_uncorrected_volatile if counter == _real.NVML_VOLATILE_ECC else (
            g.ecc_uncorrected_aggregate
        )

    def nvmlDeviceGetRetiredPages(self, h: _Handle, cause: int) -> list[int]:
        g = self._gpu("nvmlDeviceGetRetiredPages", h)
        n = g.retired_dbe if cause == 1 else g.retired_sbe
        return [0x1000 * (i + 1) for i in range(n)]

    def nvmlDeviceGetRetiredPagesPendingStatus(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetRetiredPagesPendingStatus", h).retired_pending

    def nvmlDeviceGetRemappedRows(self, h: _Handle) -> tuple[int, int, int, int]:
        return self._gpu("nvmlDeviceGetRemappedRows", h).remapped_rows

    def nvmlDeviceGetDisplayActive(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetDisplayActive", h).display_active

    def nvmlDeviceGetNumaNodeId(self, h: _Handle) -> int:
        return self._gpu("nvmlDeviceGetNumaNodeId", h).numa_node

    def nvmlDeviceGetCpuAffinity(self, h: _Handle, size: int) -> list[int]:
        return _affinity_words(self._gpu("nvmlDeviceGetCpuAffinity", h).cpus, size)

    def _procs(self, func: str, h: _Handle, attr: str) -> list[Any]:
        g = self._gpu(func, h)
        return [
            SimpleNamespace(
                pid=p.pid, usedGpuMemory=None if p.used_mib is None else int(p.used_mib * MIB)
            )
            for p in getattr(g, attr)
        ]

    def nvmlDeviceGetComputeRunningProcesses(self, h: _Handle) -> list[Any]:
        return self._procs("nvmlDeviceGetComputeRunningProcesses", h, "compute_processes")

    def nvmlDeviceGetGraphicsRunningProcesses(self, h: _Handle) -> list[Any]:
        return self._procs("nvmlDeviceGetGraphicsRunningProcesses", h, "graphics_processes")

    def nvmlDeviceGetP2PStatus(self, a: _Handle, b: _Handle, index: int) -> int:
        self._check("nvmlDeviceGetP2PStatus")
        return self.scenario.p2p.get((a.index, b.index), _real.NVML_P2P_STATUS_OK)


# ---- whole-machine facts for each scenario (fixtures for doctor tests) ---------------------

# torch.cuda.get_arch_list() of the torch 2.4.1+cu121 wheel (sm_50 ... sm_90, as the cu12x wheels
# listed in pytorch#182250 for later releases start at sm_50).
_CU121_ARCHES = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]
# The warnings torch.cuda.is_available() gives in these states (torch/cuda/__init__.py wording).
_NO_DRIVER_WARNING = (
    "CUDA initialization: Found no NVIDIA driver on your system. Please check that you have an "
    "NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx"
)
_MISMATCH_WARNING = (
    "CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda "
    "functions before calling NumCudaDevices() that might have already set an error? Error 803: "
    "system has unsupported display driver / cuda driver combination"
)


def scenario_facts(name: str) -> Any:
    """A whole, plausible :class:`rigcheck.facts.Facts` for a scenario: the NVML section is
    exactly what ``collect_nvml`` reads from the fake; driver, torch, host and Python sections
    are written to match (an Ubuntu 22.04 box with torch 2.4.1+cu121)."""
    from rigcheck import facts as F
    from rigcheck.probe.nvml import collect_nvml
    from rigcheck.probe.redact import redact_facts

    sc = SCENARIOS[name]
    nvml = collect_nvml(nvml=FakeNvml(name), cpu_count=112)
    n = len(sc.gpus)
    loaded = sc.init_error not in (LIBRARY_NOT_FOUND, DRIVER_NOT_LOADED)
    module_version = {LIB_RM_VERSION_MISMATCH: "535.171.04"}.get(sc.init_error, sc.driver_version)
    driver = F.DriverFacts(
        proc_version=(f"NVRM version: NVIDIA UNIX x86_64 Kernel Module  {module_version}  "
                      "Release Build" if loaded else None),
        kernel_module_version=module_version if loaded else None,
        modules={"nvidia": loaded, "nvidia_uvm": loaded, "nvidia_drm": loaded,
                 "nvidia_modeset": loaded, "nouveau": name == "laptop_no_driver"},
        dev_nodes=[F.DeviceNode(f"/dev/nvidia{i}", "crw-rw-rw-", True, True) for i in range(n)]
        + ([F.DeviceNode("/dev/nvidiactl", "crw-rw-rw-", True, True),
            F.DeviceNode("/dev/nvidia-uvm", "crw-rw-rw-", True, True)] if loaded else []),
        nvidia_smi_path=None if name == "laptop_no_driver" else "/usr/bin/nvidia-smi",
        compat_libs=[],
    )
    if name != "laptop_no_driver":
        driver.nvidia_smi_ok = nvml.available
        if not nvml.available:
            driver.nvidia_smi_error = {
                DRIVER_NOT_LOADED: "exit code 9: NVIDIA-SMI has failed because it couldn't "
                "communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is "
                "installed and running.",
                LIB_RM_VERSION_MISMATCH: "exit code 18: Failed to initialize NVML: "
                "Driver/library version mismatch",
            }[sc.init_error]
    ok = [g for g in sc.gpus if not g.lost]
    torch = F.TorchFacts(
        installed=True, version="2.4.1+cu121", cuda_build="12.1", cudnn_version=90100,
        arch_list=_CU121_ARCHES, cuda_available=bool(nvml.available and ok),
        device_count=len(ok) if nvml.available else 0,
        devices=[F.TorchDevice(i, g.name, "{}.{}".format(*g.compute_capability),
                               round(g.memory_total_mib / 1024, 2)) for i, g in enumerate(ok)]
        if nvml.available else [],
        nccl_version="2.20.5", tf32_matmul=False, tf32_cudnn=True,
        float32_matmul_precision="highest", numpy_version="1.26.4",
        nvidia_wheels={"nvidia-cublas-cu12": "12.1.3.1", "nvidia-cuda-runtime-cu12": "12.1.105",
                       "nvidia-cudnn-cu12": "9.1.0.70", "nvidia-nccl-cu12": "2.20.5"},
        loaded_libs=[], num_threads=16, mkldnn=True,
    )
    if not nvml.available:
        torch.cuda_init_error = (_MISMATCH_WARNING if sc.init_error == LIB_RM_VERSION_MISMATCH
                                 else _NO_DRIVER_WARNING)
    big = n >= 8
    host = F.HostFacts(
        os="Ubuntu 22.04.4 LTS", kernel="5.15.0-105-generic", glibc="2.35", arch="x86_64",
        hostname="gpu-node-01", user="alice",
        cpu_model="Intel(R) Xeon(R) Platinum 8480+" if big else "AMD Ryzen 9 7950X 16-Core Processor",
        cpu_vendor="GenuineIntel" if big else "AuthenticAMD",
        cores_physical=112 if big else 16, threads=224 if big else 32,
        cpu_flags={"avx": True, "avx2": True, "avx512f": True, "avx512_bf16": True,
                   "amx_tile": big, "fma": True, "f16c": True},
        cpu_governor="performance" if big else "schedutil",
        cpu_freq_driver="intel_pstate" if big else "amd-pstate-epp",
        ram_total_gb=2015.6 if big else 125.5, ram_available_gb=1980.2 if big else 110.3,
        swap_total_gb=0.0 if big else 8.0,
        disks=[F.DiskFacts("cwd", "/home/alice/project", "ext4", 915.8, 402.1, True),
               F.DiskFacts("home", "/home/alice", "ext4", 915.8, 402.1, True),
               F.DiskFacts("tmp", "/tmp", "ext4", 915.8, 402.1, True)],
        shm_total_gb=1007.8 if big else 62.7, ulimit_nofile_soft=1048576 if big else 1024,
        ulimit_nofile_hard=1048576, ulimit_memlock_soft_kb=-1 if big else 8192,
        container=None, wsl=False, hypervisor=None, iommu=False,
        clock_utc="2026-11-25T12:00:00+00:00",
    )
    python = F.PythonFacts(
        version="3.11.9", executable="/home/alice/venv/bin/python", implementation="CPython",
        env={"CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in range(n))} if n > 1 else {},
    )
    facts = F.Facts(
        rigcheck_version="0.1.0", collected_at="2026-11-25T12:00:00+00:00", origin="probe",
        origin_note=f"fake scenario {name}: {sc.description}", redacted=False,
        nvml=nvml, driver=driver, host=host, torch=torch, python=python,
    )
    return redact_facts(facts)


def write_fixtures(folder: str) -> list[str]:
    """Write ``<scenario>.json`` for every scenario into ``folder`` (see tests/fixtures/facts)."""
    from pathlib import Path

    from rigcheck import facts as F

    written = []
    for name in SCENARIOS:
        path = Path(folder) / f"{name}.json"
        path.write_text(F.to_json(scenario_facts(name)) + "\n")
        written.append(str(path))
    return written


if __name__ == "__main__":  # python -m tests.fakenvml tests/fixtures/facts
    for p in write_fixtures(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/facts"):
        print(p)

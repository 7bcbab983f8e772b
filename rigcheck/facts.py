"""The facts file: what ``rigcheck probe`` collects about a machine, as plain records.

Facts in, findings out: probes fill these records, doctor checks read them, renderers and the
JSON file serialise them. Nothing here touches the machine.

Missing is data. Every section has ``error``: ``None`` when it was collected, otherwise the reason
it could not be ("NVML_ERROR_DRIVER_NOT_LOADED", "timed out after 20 s", "not in a collect_env
paste"). A field that one source could not read is ``None``; ``field_errors`` says why where the
source told us (e.g. ``{"ecc_mode": "NVML_ERROR_NOT_SUPPORTED"}``).

Schema: ``SCHEMA_VERSION`` bumps on an incompatible change; readers accept files with the same
major version and ignore unknown keys, so older rigchecks can read newer files.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


class FactsError(ValueError):
    """A facts file is unreadable, truncated or of an unknown schema."""


@dataclass
class GpuProcess:
    pid: int
    name: str | None = None          # process name (redacted paths are shortened to the basename)
    used_mib: float | None = None
    kind: str = "compute"            # "compute" | "graphics"


@dataclass
class GpuFacts:
    index: int
    name: str | None = None
    uuid: str | None = None          # redacted by default
    serial: str | None = None        # redacted by default
    pci_bus_id: str | None = None
    memory_total_mib: float | None = None
    memory_used_mib: float | None = None
    compute_capability: str | None = None   # "9.0"
    pcie_gen_current: int | None = None
    pcie_gen_max: int | None = None         # the lower of the GPU's and the slot's maximum
    pcie_width_current: int | None = None
    pcie_width_max: int | None = None
    power_draw_w: float | None = None
    power_limit_w: float | None = None
    power_default_limit_w: float | None = None
    power_max_limit_w: float | None = None
    temperature_c: float | None = None
    temperature_slowdown_c: float | None = None
    sm_clock_mhz: float | None = None
    sm_clock_max_mhz: float | None = None
    mem_clock_mhz: float | None = None
    utilization_gpu_pct: float | None = None
    fan_pct: float | None = None
    # Active clock-event (throttle) reasons by NVML name without the prefix:
    # "GpuIdle", "SwPowerCap", "HwSlowdown", "HwThermalSlowdown", "SwThermalSlowdown", ...
    throttle_reasons: list[str] | None = None
    persistence_mode: bool | None = None
    compute_mode: str | None = None         # "Default" | "Exclusive_Process" | "Prohibited"
    mig_mode_current: bool | None = None
    mig_mode_pending: bool | None = None
    ecc_mode_current: bool | None = None
    ecc_mode_pending: bool | None = None
    ecc_uncorrected_volatile: int | None = None
    ecc_uncorrected_aggregate: int | None = None
    ecc_corrected_volatile: int | None = None
    retired_pages_sbe: int | None = None
    retired_pages_dbe: int | None = None
    retired_pages_pending: bool | None = None
    remapped_rows_correctable: int | None = None
    remapped_rows_uncorrectable: int | None = None
    remapped_rows_pending: bool | None = None
    remapped_rows_failure: bool | None = None
    display_active: bool | None = None
    numa_node: int | None = None
    cpu_affinity: str | None = None          # "0-15,32-47"
    processes: list[GpuProcess] | None = None
    lost: bool = False                       # NVML_ERROR_GPU_IS_LOST on this handle
    field_errors: dict[str, str] = field(default_factory=dict)


@dataclass
class P2PLink:
    gpu_a: int
    gpu_b: int
    status: str                              # NVML P2P status name: "OK", "NOT_SUPPORTED", ...
    kind: str = "read"


@dataclass
class NvmlFacts:
    available: bool = False
    error: str | None = None                 # NVML error name when nvmlInit failed
    driver_version: str | None = None        # "550.54.15"
    cuda_driver_version: str | None = None   # "12.4": the newest CUDA the driver supports
    nvml_version: str | None = None
    gpu_count: int | None = None
    gpus: list[GpuFacts] = field(default_factory=list)
    p2p: list[P2PLink] = field(default_factory=list)


@dataclass
class AmdGpu:
    index: int
    name: str | None = None                  # "AMD Radeon RX 7900 XTX", "AMD Instinct MI250X"
    gfx_target: str | None = None            # "gfx1100" (amdsmi / rocminfo / torch gcnArchName)
    vram_total_mib: float | None = None
    vram_used_mib: float | None = None
    temperature_c: float | None = None
    power_w: float | None = None


@dataclass
class AmdFacts:
    """AMD GPUs (rigcheck.probe.amd via amdsmi, else /sys), ROCm and the ROCm device nodes."""

    available: bool = False                  # amdsmi (or a rocm-smi paste) listed GPUs
    error: str | None = None                 # why not: "amdsmi not installed", ...
    driver_version: str | None = None        # amdgpu kernel driver
    rocm_version: str | None = None          # /opt/rocm/.info/version: "6.1.2"
    gpus: list[AmdGpu] = field(default_factory=list)
    kfd_present: bool | None = None          # /dev/kfd exists (the amdgpu KFD is loaded)
    kfd_accessible: bool | None = None       # this user can open /dev/kfd read-write
    render_nodes: list[DeviceNode] | None = None   # /dev/dri/renderD*


@dataclass
class PasteLine:
    """A line of pasted text that no structured parser consumed, for the signature matcher."""

    line: int                                # 1-based line number in the paste
    text: str


@dataclass
class DeviceNode:
    path: str
    mode: str | None = None                  # "crw-rw-rw-"
    readable: bool | None = None
    writable: bool | None = None


@dataclass
class DriverFacts:
    error: str | None = None
    proc_version: str | None = None          # first line of /proc/driver/nvidia/version
    kernel_module_version: str | None = None  # parsed from it: "550.54.15"
    modules: dict[str, bool] | None = None   # {"nvidia": True, "nvidia_uvm": True, "nouveau": False}
    dev_nodes: list[DeviceNode] | None = None
    nvidia_smi_path: str | None = None
    nvidia_smi_ok: bool | None = None        # ran and exited 0 within its timeout
    nvidia_smi_error: str | None = None      # "timed out after 10 s", the error line it printed
    compat_libs: list[str] | None = None     # /usr/local/cuda*/compat/libcuda.so.* present


@dataclass
class DiskFacts:
    label: str                               # "cwd", "home", "tmp", "data:/mnt/imagenet"
    path: str
    fs_type: str | None = None
    total_gb: float | None = None
    free_gb: float | None = None
    writable: bool | None = None
    error: str | None = None


@dataclass
class HostFacts:
    error: str | None = None
    os: str | None = None                    # "Ubuntu 22.04.4 LTS"
    kernel: str | None = None
    glibc: str | None = None
    arch: str | None = None                  # "x86_64"
    hostname: str | None = None              # redacted by default
    user: str | None = None                  # redacted by default
    cpu_model: str | None = None
    cpu_vendor: str | None = None
    cores_physical: int | None = None
    threads: int | None = None
    cpu_flags: dict[str, bool] | None = None  # {"avx": .., "avx2": .., "avx512f": .., "amx_tile": ..}
    cpu_governor: str | None = None          # "performance" | "powersave" | "schedutil"
    cpu_freq_driver: str | None = None       # "intel_pstate" | "acpi-cpufreq" | "amd-pstate-epp"
    cpu_max_mhz: float | None = None         # cpufreq cpuinfo_max_freq (max turbo), Linux
    cpu_mhz: float | None = None             # /proc/cpuinfo "cpu MHz" (current; a VM's base)
    ram_total_gb: float | None = None
    ram_available_gb: float | None = None
    swap_total_gb: float | None = None
    cgroup_memory_limit_gb: float | None = None  # None: no limit
    cgroup_cpu_limit: float | None = None        # CPUs allowed by cgroup quota; None: no limit
    disks: list[DiskFacts] = field(default_factory=list)
    shm_total_gb: float | None = None
    ulimit_nofile_soft: int | None = None
    ulimit_nofile_hard: int | None = None
    ulimit_memlock_soft_kb: int | None = None    # -1: unlimited
    container: str | None = None             # None | "docker" | "podman" | "kubernetes" | "lxc" | "other"
    wsl: bool | None = None
    hypervisor: str | None = None            # "kvm", "vmware", ... None on bare metal
    iommu: bool | None = None
    clock_utc: str | None = None             # ISO time when probed, for clock-skew checks
    # The user's groups by name (AMD GPUs need "render"/"video" to open /dev/kfd, /dev/dri/*).
    user_groups: list[str] | None = None
    macos_version: str | None = None         # "14.4.1" (platform.mac_ver); None off macOS
    apple_silicon: bool | None = None        # the Mac has an arm64 CPU, whatever Python's arch
    rosetta: bool | None = None              # this Python is x86_64 translated by Rosetta 2
    field_errors: dict[str, str] = field(default_factory=dict)


@dataclass
class TorchDevice:
    index: int
    name: str | None = None
    capability: str | None = None            # "8.9"
    total_memory_gb: float | None = None
    gcn_arch: str | None = None              # ROCm builds: "gfx90a:sramecc+:xnack-"


@dataclass
class TorchFacts:
    error: str | None = None                 # probe failed: "import raised OSError: libcudnn...", "timed out"
    installed: bool | None = None            # a torch distribution is installed
    version: str | None = None               # "2.4.1+cu121"
    cuda_build: str | None = None            # torch.version.cuda: "12.1"; None for CPU-only
    hip_build: str | None = None
    cudnn_version: int | None = None         # 90100
    arch_list: list[str] | None = None       # ["sm_50", ..., "sm_90", "compute_90"]
    cuda_available: bool | None = None
    cuda_init_error: str | None = None       # the warning/exception text from CUDA init
    device_count: int | None = None
    devices: list[TorchDevice] = field(default_factory=list)
    nccl_version: str | None = None
    tf32_matmul: bool | None = None          # torch.backends.cuda.matmul.allow_tf32
    tf32_cudnn: bool | None = None           # torch.backends.cudnn.allow_tf32
    float32_matmul_precision: str | None = None
    numpy_version: str | None = None
    numpy_error: str | None = None           # "A module compiled using NumPy 1.x cannot be run in NumPy 2..."
    nvidia_wheels: dict[str, str] | None = None   # {"nvidia-cudnn-cu12": "9.1.0.70", ...}
    loaded_libs: list[str] | None = None     # paths of libcudart/libcudnn/libcublas/libnccl actually mapped
    num_threads: int | None = None
    mkldnn: bool | None = None
    python_executable: str | None = None     # the interpreter torch was probed in (rigcheck probe --python)
    mps_built: bool | None = None            # torch.backends.mps.is_built()
    mps_available: bool | None = None        # torch.backends.mps.is_available()
    xpu_available: bool | None = None        # torch.xpu.is_available() (Intel GPUs)
    xpu_device_count: int | None = None
    xpu_devices: list[str] | None = None     # torch.xpu.get_device_name(i)
    # The LLM library stack installed beside torch, distribution -> version, read from
    # dist-info metadata without importing them (bitsandbytes, flash-attn, xformers, triton,
    # vllm, transformers, accelerate, peft, deepspeed, unsloth); pastes of pip list fill it too.
    stack: dict[str, str] | None = None


@dataclass
class PythonFacts:
    error: str | None = None
    version: str | None = None               # "3.11.7"
    executable: str | None = None
    implementation: str | None = None
    nvcc_path: str | None = None
    nvcc_version: str | None = None          # "12.4"
    conda_packages: dict[str, str] | None = None  # only from collect_env pastes
    # Allow-listed environment variables only (see rigcheck.probe.env.ALLOWED); never others.
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class PasteFacts:
    """What a pasted text held beyond the fields above (rigcheck.probe.import_text)."""

    kinds: list[str] = field(default_factory=list)   # "collect_env", "pip list", "dmesg", "traceback"
    # Facts with no field elsewhere yet: "gfx_target", "rocm_version", "apple_chip", "macos".
    hints: dict[str, str] = field(default_factory=dict)
    truncated: bool = False          # the text was longer than what was read


@dataclass
class Facts:
    schema_version: int = SCHEMA_VERSION
    rigcheck_version: str | None = None
    collected_at: str | None = None          # ISO 8601 UTC
    origin: str = "probe"                    # "probe" | "collect_env" | "nvidia-smi" | "nvidia-smi-q"
    origin_note: str | None = None           # e.g. the pasted file's name
    redacted: bool = True
    nvml: NvmlFacts = field(default_factory=NvmlFacts)
    driver: DriverFacts = field(default_factory=DriverFacts)
    host: HostFacts = field(default_factory=HostFacts)
    torch: TorchFacts = field(default_factory=TorchFacts)
    python: PythonFacts = field(default_factory=PythonFacts)
    amd: AmdFacts = field(default_factory=AmdFacts)
    # A paste's unparsed lines (capped by the importer), matched against the signature registry
    # (rigcheck.doctor.signatures) by the doctor; empty for a probe.
    paste_lines: list[PasteLine] = field(default_factory=list)
    paste: PasteFacts = field(default_factory=PasteFacts)
    # Sections the origin cannot tell us at all (e.g. a collect_env paste has no ECC counters):
    # section or field name -> why. The doctor turns these into "skip" findings.
    not_collected: dict[str, str] = field(default_factory=dict)


# ---- serialisation -------------------------------------------------------------------------

def to_dict(facts: Facts) -> dict[str, Any]:
    # "schema" is the key every rigcheck JSON output carries (issue 12); "schema_version" stays
    # for readers of older files. Both hold the same number.
    return {"schema": facts.schema_version, **dataclasses.asdict(facts)}


def to_json(facts: Facts, indent: int | None = 2) -> str:
    return json.dumps(to_dict(facts), indent=indent, sort_keys=False)


def _build(cls: type, data: Any, where: str) -> Any:
    """Rebuild a dataclass from JSON data, ignoring unknown keys (newer files)."""
    if not isinstance(data, dict):
        raise FactsError(f"{where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{where}.{f.name}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise FactsError(f"{where}: {exc}") from None


def _convert(tp: Any, value: Any, where: str) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(args[0], value, where) if len(args) == 1 else value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise FactsError(f"{where}: expected a list")
        return [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise FactsError(f"{where}: expected an object")
        return dict(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise FactsError(f"{where}: expected {tp.__name__}, got {type(value).__name__}")
    return value


def from_dict(data: Any, where: str = "facts") -> Facts:
    if not isinstance(data, dict):
        raise FactsError(f"{where}: not a rigcheck facts object")
    version = data.get("schema_version", data.get("schema"))
    if not isinstance(version, int):
        raise FactsError(f"{where}: no schema_version; not a rigcheck facts file")
    if version > SCHEMA_VERSION:
        raise FactsError(
            f"{where}: schema_version {version} is newer than this rigcheck reads "
            f"({SCHEMA_VERSION}); upgrade rigcheck"
        )
    facts: Facts = _build(Facts, data, where)
    return facts


def from_json(text: str, where: str = "facts") -> Facts:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactsError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "is the file truncated?"
        ) from None
    return from_dict(data, where)

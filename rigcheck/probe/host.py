"""Host facts: CPU, memory, cgroup limits, disks, limits, OS, containers, virtualisation.

The only module that imports ``psutil`` and ``cpuinfo`` (py-cpuinfo). CPU model and flags come
from ``/proc/cpuinfo`` directly: ``cpuinfo.get_cpu_info()`` took 1.36 s on the 2-core CI box
(it probes CPUID in a subprocess) against well under a millisecond to parse ``/proc/cpuinfo``, so it is only the
fallback where ``/proc/cpuinfo`` has no model (non-Linux, some ARM kernels).

Sizes ending in ``_gb`` are GiB (2**30 bytes), as ``free -g`` and ``df -h`` count them.
Each part is guarded: a failure sets that field to ``None`` and records why in ``field_errors``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import shutil
import socket
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from rigcheck.facts import DiskFacts, HostFacts

GIB = 1024**3
# Flags the doctor and the bench care about: AVX2 is what PyTorch's CPU kernels are built for
# (ATen dispatches AVX2/AVX-512 variants), AMX tiles speed up bf16 on Sapphire Rapids and later.
CPU_FLAGS = ("avx", "avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "fma", "f16c")
# cgroup v1 reports "no limit" as a huge page-aligned number (LONG_MAX rounded down).
_CGROUP_V1_UNLIMITED = 1 << 60

_HYPERVISOR_VENDORS = {
    "qemu": "kvm",
    "kvm": "kvm",
    "vmware": "vmware",
    "microsoft": "hyper-v",
    "xen": "xen",
    "amazon": "aws",
    "google": "gce",
    "innotek": "virtualbox",
    "oracle": "virtualbox",
    "parallels": "parallels",
}


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return None


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Model, vendor and flag set from the first processor block of /proc/cpuinfo."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            if out.get("flags") is not None:
                break
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "model name" and "model" not in out:
            out["model"] = value
        elif key == "vendor_id" and "vendor" not in out:
            out["vendor"] = value
        elif key in ("flags", "Features") and "flags" not in out:
            out["flags"] = set(value.split())
        elif key == "cpu MHz" and "mhz" not in out:
            try:
                out["mhz"] = float(value)
            except ValueError:
                pass
    return out


def parse_os_release(text: str) -> str | None:
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        fields[key.strip()] = value.strip().strip('"')
    return fields.get("PRETTY_NAME") or (
        f"{fields.get('NAME', '')} {fields.get('VERSION', '')}".strip() or None
    )


def parse_mounts(text: str) -> list[tuple[str, str]]:
    """(mount point, fs type) pairs; octal escapes like \\040 (space) decoded."""
    mounts = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            point = parts[1].encode().decode("unicode_escape")
            mounts.append((point, parts[2]))
    return mounts


def fs_type(path: str, mounts: list[tuple[str, str]]) -> str | None:
    real = os.path.realpath(path)
    best, kind = "", None
    for point, fstype in mounts:
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fstype
    return kind


def disk(label: str, path: str, mounts: list[tuple[str, str]]) -> DiskFacts:
    facts = DiskFacts(label=label, path=path)
    try:
        usage = shutil.disk_usage(path)  # statvfs on POSIX, GetDiskFreeSpaceEx on Windows
    except OSError as exc:
        facts.error = f"could not stat {path}: {exc.strerror or exc}"
        return facts
    facts.total_gb = round(usage.total / GIB, 2)
    facts.free_gb = round(usage.free / GIB, 2)  # free to this user (excludes root's reserve)
    facts.fs_type = fs_type(path, mounts)
    # os.access sees a read-only mount (EROFS) as well as permissions.
    facts.writable = os.access(path, os.W_OK)
    return facts


def cgroup_limits(root: str = "/sys/fs/cgroup", proc_self: str = "/proc/self/cgroup") -> tuple[
    float | None, float | None
]:
    """(memory limit GiB, CPUs allowed) from cgroup v2 or v1; None where unlimited."""
    own = "/"
    text = _read(proc_self) or ""
    for line in text.splitlines():
        if line.startswith("0::"):
            own = line[3:].strip() or "/"
    mem: float | None = None
    cpu: float | None = None
    v2_dirs = [Path(root) / own.lstrip("/"), Path(root)]
    for d in v2_dirs:
        raw = _read(d / "memory.max")
        if raw is not None:
            raw = raw.strip()
            mem = None if raw == "max" else int(raw) / GIB
            quota = (_read(d / "cpu.max") or "max").split()
            if quota and quota[0] != "max" and len(quota) == 2:
                cpu = int(quota[0]) / int(quota[1])
            return mem, cpu
    raw = _read(Path(root) / "memory" / "memory.limit_in_bytes")
    if raw is not None and int(raw) < _CGROUP_V1_UNLIMITED:
        mem = int(raw) / GIB
    q = _read(Path(root) / "cpu" / "cpu.cfs_quota_us") or _read(Path(root) / "cpu,cpuacct" / "cpu.cfs_quota_us")
    p = _read(Path(root) / "cpu" / "cpu.cfs_period_us") or _read(Path(root) / "cpu,cpuacct" / "cpu.cfs_period_us")
    if q is not None and p is not None and int(q) > 0:
        cpu = int(q) / int(p)
    return mem, cpu


def detect_container(
    exists: Callable[[str], bool] = os.path.exists,
    environ: Mapping[str, str] = os.environ,
    proc1_cgroup: str | None = None,
) -> str | None:
    if "KUBERNETES_SERVICE_HOST" in environ:
        return "kubernetes"
    if exists("/run/.containerenv"):
        return "podman"
    if exists("/.dockerenv"):
        return "docker"
    text = proc1_cgroup if proc1_cgroup is not None else (_read("/proc/1/cgroup") or "")
    if "kubepods" in text:
        return "kubernetes"
    if "docker" in text or "containerd" in text:
        return "docker"
    if "/lxc" in text:
        return "lxc"
    return None


def detect_hypervisor(flags: Iterable[str], sys_vendor: str | None) -> str | None:
    if "hypervisor" not in set(flags):
        return None
    vendor = (sys_vendor or "").strip().lower()
    for key, name in _HYPERVISOR_VENDORS.items():
        if key in vendor:
            return name
    return vendor or "unknown"


def _ulimit(name: str) -> tuple[int, int] | None:
    try:
        import resource  # POSIX only; on native Windows there are no ulimits to report
    except ImportError:
        return None
    soft, hard = resource.getrlimit(getattr(resource, name))
    inf = resource.RLIM_INFINITY
    return (-1 if soft == inf else soft), (-1 if hard == inf else hard)


def _cpu(facts: HostFacts, cpuinfo_text: str | None) -> set[str]:
    info = parse_cpuinfo(cpuinfo_text) if cpuinfo_text else {}
    if not info.get("model"):
        import cpuinfo  # slow (~1 s), only when /proc/cpuinfo does not say

        full = cpuinfo.get_cpu_info()
        info = {
            "model": full.get("brand_raw"),
            "vendor": full.get("vendor_id_raw"),
            "flags": set(full.get("flags", [])) or info.get("flags"),
        }
    facts.cpu_model = info.get("model")
    facts.cpu_vendor = info.get("vendor")
    facts.cpu_mhz = info.get("mhz")
    flags = info.get("flags") or set()
    if facts.arch in ("x86_64", "AMD64", "i686"):
        facts.cpu_flags = {name: name in flags for name in CPU_FLAGS}
    return set(flags)


def collect_host(
    data_dirs: Iterable[str] = (),
    *,
    environ: Mapping[str, str] = os.environ,
    proc_root: str = "/proc",
    sys_root: str = "/sys",
) -> HostFacts:
    """Collect :class:`HostFacts`; never raises for one part's sake."""
    facts = HostFacts()
    errs = facts.field_errors

    def guard(name: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:
            errs[name] = f"could not collect: {type(exc).__name__}: {exc}"
            return None

    facts.clock_utc = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    facts.arch = platform.machine() or None
    facts.kernel = platform.release() or None
    facts.os = guard("os", lambda: parse_os_release(_read("/etc/os-release") or "")) or (
        f"{platform.system()} {platform.release()}".strip() or None
    )
    facts.glibc = guard("glibc", _glibc)
    facts.hostname = guard("hostname", socket.gethostname)
    facts.user = guard("user", _user)
    facts.user_groups = guard("user_groups", _groups)
    if platform.system() == "Darwin":  # Apple MPS: macOS >= 12.3 and an arm64 Python
        facts.macos_version = platform.mac_ver()[0] or None
        facts.rosetta = guard("rosetta", _rosetta)
        facts.apple_silicon = facts.arch == "arm64" or bool(facts.rosetta)
    flags = guard("cpu_model", lambda: _cpu(facts, _read(f"{proc_root}/cpuinfo"))) or set()
    facts.threads = os.cpu_count()
    cpufreq = f"{sys_root}/devices/system/cpu/cpu0/cpufreq"
    facts.cpu_governor = (_read(f"{cpufreq}/scaling_governor") or "").strip() or None
    facts.cpu_freq_driver = (_read(f"{cpufreq}/scaling_driver") or "").strip() or None
    facts.cpu_max_mhz = guard("cpu_max_mhz", lambda: _khz_to_mhz(_read(f"{cpufreq}/cpuinfo_max_freq")))
    guard("ram_total_gb", lambda: _memory(facts))
    limits = guard("cgroup_memory_limit_gb", lambda: cgroup_limits(f"{sys_root}/fs/cgroup"))
    if limits:
        mem, cpu = limits
        facts.cgroup_memory_limit_gb = round(mem, 2) if mem is not None else None
        facts.cgroup_cpu_limit = round(cpu, 2) if cpu is not None else None
    mounts = guard("disks", lambda: parse_mounts(_read(f"{proc_root}/mounts") or "")) or []
    for label, path in _disk_paths(data_dirs, environ):
        facts.disks.append(guard(f"disk:{label}", functools.partial(disk, label, path, mounts))
                           or DiskFacts(label=label, path=path, error="could not collect"))
    if os.path.isdir("/dev/shm"):  # PyTorch DataLoader workers pass batches through it
        shm = guard("shm_total_gb", lambda: shutil.disk_usage("/dev/shm"))
        facts.shm_total_gb = round(shm.total / GIB, 2) if shm is not None else None
    nofile = guard("ulimit_nofile", lambda: _ulimit("RLIMIT_NOFILE"))
    if nofile:
        facts.ulimit_nofile_soft, facts.ulimit_nofile_hard = nofile
    memlock = guard("ulimit_memlock", lambda: _ulimit("RLIMIT_MEMLOCK"))
    if memlock:
        facts.ulimit_memlock_soft_kb = memlock[0] // 1024 if memlock[0] >= 0 else -1
    facts.container = guard("container", lambda: detect_container(environ=environ))
    version = _read(f"{proc_root}/version")
    facts.wsl = ("microsoft" in version.lower()) if version is not None else None
    facts.hypervisor = guard(
        "hypervisor",
        lambda: detect_hypervisor(flags, _read(f"{sys_root}/class/dmi/id/sys_vendor")),
    )
    iommu = Path(f"{sys_root}/class/iommu")
    facts.iommu = guard("iommu", lambda: any(iommu.iterdir()) if iommu.is_dir() else None)
    return facts


def _khz_to_mhz(text: str | None) -> float | None:
    return float(text) / 1000.0 if text and text.strip() else None


def _glibc() -> str | None:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.35"
    except (ValueError, OSError):
        value = None
    if value:
        return value.split()[-1]
    lib, ver = platform.libc_ver()
    return ver or None if lib == "glibc" else None


def _groups() -> list[str] | None:
    """This process's groups by name (ROCm needs "render"/"video" for /dev/kfd, /dev/dri)."""
    if not hasattr(os, "getgroups"):
        return None  # Windows
    import grp

    names = []
    for gid in sorted(set(os.getgroups()) | {os.getegid()}):
        try:
            names.append(grp.getgrgid(gid).gr_name)
        except KeyError:  # a gid with no name, common in containers
            names.append(str(gid))
    return names


def _rosetta() -> bool | None:
    """True when this (x86_64) Python runs translated by Rosetta 2 on Apple silicon."""
    import subprocess

    out = subprocess.run(["sysctl", "-in", "sysctl.proc_translated"], capture_output=True,
                         text=True, timeout=2)
    value = out.stdout.strip()
    return value == "1" if value in ("0", "1") else None


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid with no passwd entry, as in many containers
        return None


def _memory(facts: HostFacts) -> None:
    import psutil

    vm = psutil.virtual_memory()
    facts.ram_total_gb = round(vm.total / GIB, 2)
    facts.ram_available_gb = round(vm.available / GIB, 2)
    facts.swap_total_gb = round(psutil.swap_memory().total / GIB, 2)
    facts.cores_physical = psutil.cpu_count(logical=False)


def _disk_paths(data_dirs: Iterable[str], environ: Mapping[str, str]) -> list[tuple[str, str]]:
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was deleted under us
        cwd = os.environ.get("PWD") or "."
    paths = [("cwd", cwd), ("home", os.path.expanduser("~"))]
    paths.append(("tmp", environ.get("TMPDIR") or "/tmp"))
    paths += [(f"data:{d}", d) for d in data_dirs]
    return paths

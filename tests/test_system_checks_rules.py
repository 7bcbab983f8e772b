"""System checks (rigcheck/doctor/checks/system.py): each rule pinned by value at its boundary.

Expectations come from the rules as the module states them: RAM >= total GPU memory; swap > 0
outside a container; a cgroup memory limit under 90 % of RAM; an open-file limit of 4096
(pytorch#14768); memlock 1 GiB (1024 * 1024 KiB) on a machine with two GPUs or more; AVX/AVX2 on
x86; the powersave governor with the acpi-cpufreq family; 4 CPU threads per GPU; disks under
2 GB free fail and under 20 GB warn. Each case sits just inside or just past its line.
"""

from __future__ import annotations

import pytest

from rigcheck.doctor.checks import system
from rigcheck.doctor.registry import Context
from rigcheck.facts import DiskFacts
from tests.doctor_factories import healthy


def _facts(n_gpus: int = 2, mib: float = 65536.0):
    """A healthy box with ``n_gpus`` cards of ``mib`` MiB each (64 GiB: 128 GB for two)."""
    f = healthy(n_gpus)
    for g in f.nvml.gpus:
        g.memory_total_mib = mib
    return f


def _no_gpu_memory(f):
    f.nvml.gpus, f.nvml.gpu_count = [], 0
    f.torch.devices = []
    return f


def _out(fn, f):
    out = fn(f, Context())
    return str(out.status), out.summary


# ------------------------------------------------------------------ the skip reason of a host field

def test_a_missing_host_field_says_why_in_order_not_collected_field_error_host_error() -> None:
    f = _facts()
    f.host.ram_total_gb = None
    assert _out(system.ram_vs_gpu, f) == ("skip", "skipped: ram_total_gb not collected")
    f.host.error = "psutil missing"
    assert _out(system.ram_vs_gpu, f) == ("skip", "skipped: psutil missing")
    f.host.field_errors["ram_total_gb"] = "permission denied"
    assert _out(system.ram_vs_gpu, f) == ("skip", "skipped: permission denied")
    f.not_collected["ram_total_gb"] = "a paste has no RAM"
    assert _out(system.ram_vs_gpu, f) == ("skip", "skipped: a paste has no RAM")


def test_the_host_section_not_collected_is_a_reason_too() -> None:
    f = _facts()
    f.host.swap_total_gb = None
    f.not_collected["host"] = "nvidia-smi paste"
    assert _out(system.swap, f) == ("skip", "skipped: nvidia-smi paste")


# ------------------------------------------------------------------ RAM against GPU memory

def test_ram_equal_to_gpu_memory_is_enough_one_gb_less_warns() -> None:
    f = _facts()                      # 2 x 64 GiB = 128 GB
    f.host.ram_total_gb = 128.0
    assert _out(system.ram_vs_gpu, f) == ("ok", "128 GB RAM for 128 GB GPU memory")
    f.host.ram_total_gb = 127.0
    out = system.ram_vs_gpu(f, Context())
    assert str(out.status) == "warn"
    assert out.summary == "127 GB RAM < 128 GB total GPU memory"
    assert ">= 256 GB" in out.fix     # twice the GPU memory


def test_ram_with_no_gpu_memory_known_is_ok() -> None:
    f = _no_gpu_memory(_facts())
    f.host.ram_total_gb = 16.0
    assert _out(system.ram_vs_gpu, f) == ("ok", "16 GB RAM (no GPU memory to compare with)")


def test_gpu_memory_from_torch_devices_when_nvml_has_none() -> None:
    f = _no_gpu_memory(_facts())
    from rigcheck.facts import TorchDevice
    f.torch.devices = [TorchDevice(0, "x", "8.9", 24.0)]
    f.host.ram_total_gb = 23.0
    assert _out(system.ram_vs_gpu, f)[0] == "warn"
    f.host.ram_total_gb = 24.0
    assert _out(system.ram_vs_gpu, f) == ("ok", "24 GB RAM for 24 GB GPU memory")


# ------------------------------------------------------------------ swap

def test_no_swap_warns_any_swap_is_ok() -> None:
    f = _facts()
    f.host.swap_total_gb = 0.0
    out = system.swap(f, Context())
    assert (str(out.status), out.summary) == ("warn", "no swap")
    assert "swapon" in out.fix
    f.host.swap_total_gb = 0.4
    assert _out(system.swap, f) == ("ok", "0 GB swap")
    f.host.swap_total_gb = 16.0
    assert _out(system.swap, f) == ("ok", "16 GB swap")


def test_no_swap_in_a_container_is_the_hosts_business() -> None:
    f = _facts()
    f.host.swap_total_gb, f.host.container = 0.0, "docker"
    assert _out(system.swap, f) == ("ok", "no swap inside the container (the host decides)")


def test_swap_unknown_skips() -> None:
    f = _facts()
    f.host.swap_total_gb = None
    assert _out(system.swap, f) == ("skip", "skipped: swap_total_gb not collected")


# ------------------------------------------------------------------ cgroup memory limit

@pytest.mark.parametrize(("limit_gb", "status"), [(90.0, "ok"), (89.9, "warn"), (None, "ok")])
def test_a_cgroup_limit_under_90_percent_of_ram_warns(limit_gb, status) -> None:
    f = _facts()
    f.host.ram_total_gb, f.host.cgroup_memory_limit_gb = 100.0, limit_gb
    assert _out(system.cgroup_memory, f)[0] == status


def test_cgroup_warning_names_limit_ram_and_gpu_memory() -> None:
    f = _facts()
    f.host.ram_total_gb, f.host.cgroup_memory_limit_gb = 100.0, 32.0
    assert _out(system.cgroup_memory, f)[1] == "cgroup memory limit 32.0 GB of 100 GB RAM (GPU memory 128 GB)"
    _no_gpu_memory(f)
    assert _out(system.cgroup_memory, f)[1] == "cgroup memory limit 32.0 GB of 100 GB RAM"


def test_cgroup_texts_for_no_limit_and_a_limit_of_all_ram() -> None:
    f = _facts()
    f.host.ram_total_gb, f.host.cgroup_memory_limit_gb = 100.0, None
    assert _out(system.cgroup_memory, f) == ("ok", "no cgroup memory limit")
    f.host.cgroup_memory_limit_gb = 95.0
    assert _out(system.cgroup_memory, f) == ("ok", "cgroup limit 95 GB (about all RAM)")


def test_cgroup_without_ram_skips_with_the_reason() -> None:
    f = _facts()
    f.host.ram_total_gb, f.host.cgroup_memory_limit_gb = None, 8.0
    assert _out(system.cgroup_memory, f) == ("skip", "skipped: RAM not collected")
    f.not_collected["host"] = "a paste"
    assert _out(system.cgroup_memory, f) == ("skip", "skipped: a paste")


# ------------------------------------------------------------------ open files

def _nofile(soft, hard):
    f = _facts()
    f.host.ulimit_nofile_soft, f.host.ulimit_nofile_hard = soft, hard
    return system.nofile(f, Context())


def test_open_file_limit_4096_is_enough_4095_warns() -> None:
    assert (str(_nofile(4096, 4096).status), _nofile(4096, 4096).summary) == ("ok", "open-file limit 4096")
    out = _nofile(4095, 4096)
    assert (str(out.status), out.summary) == ("warn", "open-file limit 4095 (hard 4096)")


@pytest.mark.parametrize(("hard", "fix_start"), [
    (4096, "ulimit -n 4096 "),          # the hard limit allows the minimum: raise the soft one
    (65536, "ulimit -n 65536 "),
    (1048576, "ulimit -n 65536 "),      # capped at 65536
    (4095, "add '* soft nofile 65536'"),  # the hard limit is below the minimum too
    (None, "add '* soft nofile 65536'"),
    (0, "add '* soft nofile 65536'"),
])
def test_open_file_fix_depends_on_the_hard_limit(hard, fix_start) -> None:
    assert _nofile(1024, hard).fix.startswith(fix_start)


def test_open_file_limit_unknown_skips() -> None:
    assert _nofile(None, 4096).summary == "skipped: ulimit_nofile_soft not collected"


# ------------------------------------------------------------------ memlock

def _memlock(kb, n_gpus=2):
    f = _facts(n_gpus)
    f.host.ulimit_memlock_soft_kb = kb
    out = system.memlock(f, Context())
    return str(out.status), out.summary


def test_memlock_under_one_gib_warns_on_two_gpus() -> None:
    assert _memlock(1024 * 1024 - 1) == ("warn", "memlock limited to 1048575 KiB on a 2-GPU machine")
    assert _memlock(1024 * 1024) == ("ok", "memlock 1048576 KiB (matters only for RDMA/GPUDirect on "
                                           "multi-GPU nodes)")


def test_memlock_is_fine_on_one_gpu_and_when_unlimited() -> None:
    assert _memlock(8192, n_gpus=1)[0] == "ok"
    assert _memlock(8192, n_gpus=2)[0] == "warn"
    assert _memlock(8192, n_gpus=3) == ("warn", "memlock limited to 8192 KiB on a 3-GPU machine")
    assert _memlock(-1) == ("ok", "memlock unlimited")
    assert _memlock(None) == ("skip", "skipped: ulimit_memlock_soft_kb not collected")


def test_memlock_counts_gpus_from_nvml_gpu_count() -> None:
    f = _facts(1)
    f.nvml.gpu_count = 2                # NVML counted two, one has per-GPU facts
    f.host.ulimit_memlock_soft_kb = 64
    assert str(system.memlock(f, Context()).status) == "warn"


# ------------------------------------------------------------------ AVX

def _avx(arch="x86_64", flags=None, model="Xeon E5", hypervisor=None):
    f = _facts()
    f.host.arch, f.host.cpu_flags, f.host.cpu_model, f.host.hypervisor = arch, flags, model, hypervisor
    out = system.avx2(f, Context())
    return str(out.status), out.summary


def test_avx_rules_by_flag() -> None:
    assert _avx(flags={"avx": False}) == ("fail", "CPU Xeon E5 has no AVX")
    assert _avx(flags={}) == ("fail", "CPU Xeon E5 has no AVX")
    assert _avx(flags={"avx": True}) == ("warn", "CPU Xeon E5 has AVX but no AVX2")
    assert _avx(flags={"avx": True, "avx2": False}) == ("warn", "CPU Xeon E5 has AVX but no AVX2")
    assert _avx(flags={"avx": True, "avx2": True}) == ("ok", "AVX2 (Xeon E5)")


def test_avx_ok_lists_avx512_and_amx() -> None:
    assert _avx(flags={"avx": True, "avx2": True, "avx512f": True, "amx_tile": True}) == (
        "ok", "AVX2 + avx512f, amx_tile (Xeon E5)")
    assert _avx(flags={"avx": True, "avx2": True, "amx_tile": True}, model=None) == ("ok", "AVX2 + amx_tile (CPU)")
    assert _avx(flags={"avx": True, "avx2": True, "avx512f": False}) == ("ok", "AVX2 (Xeon E5)")


def test_avx_in_a_vm_names_the_hypervisor() -> None:
    assert _avx(flags={"avx": False}, model=None, hypervisor="kvm") == ("fail", "CPU ? has no AVX (hypervisor: kvm)")
    assert _avx(flags={"avx": True}, hypervisor="kvm") == ("warn", "CPU Xeon E5 has AVX but no AVX2 (hypervisor: kvm)")


@pytest.mark.parametrize("arch", ["x86_64", "AMD64", "amd64", None, ""])
def test_avx_is_judged_on_x86_and_unknown_arch(arch) -> None:
    assert _avx(arch=arch, flags={"avx": False})[0] == "fail"


@pytest.mark.parametrize("arch", ["aarch64", "arm64"])
def test_avx_skips_off_x86(arch) -> None:
    assert _avx(arch=arch, flags={"avx": False}) == ("skip", f"skipped: {arch}: AVX is an x86 feature")


def test_avx_flags_unknown_skips() -> None:
    assert _avx(flags=None) == ("skip", "skipped: cpu_flags not collected")


# ------------------------------------------------------------------ governor

@pytest.mark.parametrize("drv", ["acpi-cpufreq", "intel_cpufreq", "cppc_cpufreq"])
def test_powersave_with_a_plain_cpufreq_driver_warns(drv) -> None:
    f = _facts()
    f.host.cpu_governor, f.host.cpu_freq_driver = "powersave", drv
    assert _out(system.governor, f) == (
        "warn", f"governor powersave with {drv}: CPU pinned to its lowest frequency")


@pytest.mark.parametrize(("gov", "drv", "shown"), [
    ("powersave", "intel_pstate", "intel_pstate"), ("powersave", "amd-pstate-epp", "amd-pstate-epp"),
    ("performance", "acpi-cpufreq", "acpi-cpufreq"), ("schedutil", "cppc_cpufreq", "cppc_cpufreq"),
    ("powersave", None, "?"),
])
def test_other_governor_driver_pairs_are_ok(gov, drv, shown) -> None:
    f = _facts()
    f.host.cpu_governor, f.host.cpu_freq_driver = gov, drv
    assert _out(system.governor, f) == ("ok", f"governor {gov} with {shown}")


def test_governor_unknown_skips() -> None:
    f = _facts()
    f.host.cpu_governor = None
    assert _out(system.governor, f) == ("skip", "skipped: cpu_governor not collected")


# ------------------------------------------------------------------ CPU threads per GPU

def _cpu(threads, quota, n_gpus=2):
    f = _facts(n_gpus)
    f.host.threads, f.host.cgroup_cpu_limit = threads, quota
    return _out(system.cpu_per_gpu, f)


def test_cpu_per_gpu_boundary_is_four_threads_per_gpu() -> None:
    assert _cpu(4, None, n_gpus=1) == ("ok", "4 CPU threads for 1 GPU(s)")
    assert _cpu(3, None, n_gpus=1) == ("warn", "3 CPU thread(s) for 1 GPU(s): 3.0 per GPU")


def test_a_quota_without_a_thread_count_is_the_thread_count() -> None:
    assert _cpu(None, 8.0) == ("ok", "8 CPU threads for 2 GPU(s)")
    assert _cpu(None, 100.0) == ("ok", "100 CPU threads for 2 GPU(s)")
    # No thread count: the quota is capped at 10**6 threads.
    assert _cpu(None, 2_000_000.0) == ("ok", "1000000 CPU threads for 2 GPU(s)")


def test_a_quota_above_the_thread_count_leaves_the_thread_count() -> None:
    assert _cpu(4, 8.0) == ("warn", "4 CPU thread(s) for 2 GPU(s): 2.0 per GPU")


def test_a_quota_under_one_cpu_counts_as_one() -> None:
    assert _cpu(64, 0.5) == ("warn", "1 CPU thread(s) for 2 GPU(s): 0.5 per GPU")


def test_cpu_per_gpu_skips_without_gpus_or_threads() -> None:
    f = _facts()
    f.nvml.gpus, f.nvml.gpu_count = [], 0
    assert _out(system.cpu_per_gpu, f) == ("skip", "skipped: no GPUs")
    assert _cpu(None, None) == ("skip", "skipped: CPU threads not collected")
    f = _facts()
    f.host.threads = None
    f.not_collected["threads"] = "a paste"
    assert _out(system.cpu_per_gpu, f) == ("skip", "skipped: a paste")


# ------------------------------------------------------------------ disk space

def _disks(*disks):
    f = _facts()
    f.host.disks = list(disks)
    return system.disk_space(f, Context())


def _d(free, label="cwd", path="/w", total=100.0, writable=True, error=None):
    return DiskFacts(label, path, "ext4", total, free, writable, error)


@pytest.mark.parametrize(("free_gb", "status"), [
    (1.99, "fail"), (2.0, "warn"), (19.99, "warn"), (20.0, "ok"),
])
def test_disk_free_boundaries_two_and_twenty_gb(free_gb, status) -> None:
    assert str(_disks(_d(free_gb)).status) == status


def test_disk_texts_name_each_disk() -> None:
    out = _disks(_d(1.5), _d(500.0, "home", "/home"))
    assert out.summary == "almost no disk space: cwd /w: 1.5 GB free of 100 GB"
    out = _disks(_d(10.0, total=None))
    assert out.summary == "low disk space: cwd /w: 10.0 GB free"
    out = _disks(_d(500.0), _d(600.0, "home", "/home"))
    assert (str(out.status), out.summary) == ("ok", "cwd /w: 500.0 GB free of 100 GB; home /home: 600.0 GB free of 100 GB")


def test_fail_beats_low_space() -> None:
    out = _disks(_d(10.0, "home", "/home"), _d(1.0))
    assert str(out.status) == "fail" and "home" not in out.summary


@pytest.mark.parametrize("label", ["cwd", "tmp", "data:/mnt/imagenet"])
def test_an_unwritable_work_disk_warns(label) -> None:
    out = _disks(_d(500.0, label, "/x", writable=False))
    assert (str(out.status), out.summary) == ("warn", f"low disk space: not writable: {label} /x")


def test_an_unwritable_home_or_unknown_writability_is_fine() -> None:
    assert str(_disks(_d(500.0, "home", "/h", writable=False)).status) == "ok"
    assert str(_disks(_d(500.0, "cwd", "/h", writable=None)).status) == "ok"


def test_low_and_unwritable_together() -> None:
    out = _disks(_d(10.0), _d(500.0, "tmp", "/tmp", writable=False))
    assert out.summary == "low disk space: cwd /w: 10.0 GB free of 100 GB; not writable: tmp /tmp"


def test_disks_with_errors_or_no_free_figure_are_passed_over() -> None:
    out = _disks(_d(1.0, error="permission denied"), _d(None))
    assert (str(out.status), out.summary) == ("ok", "disks ok")


def test_no_disks_skips() -> None:
    assert _disks().summary == "skipped: disks not collected"
    f = _facts()
    f.host.disks = []
    f.not_collected["disks"] = "a paste has no disks"
    assert _out(system.disk_space, f) == ("skip", "skipped: a paste has no disks")


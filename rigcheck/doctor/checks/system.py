"""System resources: RAM, swap, cgroup limits, ulimits, CPU features and governor, disks."""

from __future__ import annotations

import math

from rigcheck.doctor.checks._util import gpu_count, join, not_collected, total_gpu_memory_gb
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

CAT = "system"
NOFILE_MIN = 4096          # DataLoader workers share tensors through file descriptors (pytorch#14768)
DISK_FAIL_GB = 2.0
DISK_WARN_GB = 20.0        # one ImageNet-class checkpoint set plus caches; our suggestion, not a source


def _host_skip(facts: Facts, field: str) -> Outcome:
    """The skip for a host field that is None: why it was not collected."""
    h = facts.host
    why = not_collected(facts, field, "host") or h.field_errors.get(field) or h.error
    return skip(why or f"{field} not collected")


@check("sys.ram_vs_gpu", CAT, "RAM at least the total GPU memory",
       source="https://github.com/TorchSSL/TorchSSL/issues/4")
def ram_vs_gpu(facts: Facts, ctx: Context) -> Outcome:
    ram = facts.host.ram_total_gb
    if ram is None:
        return _host_skip(facts, "ram_total_gb")
    vram = total_gpu_memory_gb(facts)
    if not vram:
        return ok(f"{ram:.0f} GB RAM (no GPU memory to compare with)")
    if ram < vram:
        return warn(f"{ram:.0f} GB RAM < {vram:.0f} GB total GPU memory",
                    "Checkpoint loading, pinned buffers and DataLoader workers need host memory at "
                    "least equal to GPU memory; workers get OOM-killed (\"killed by signal: Killed\").",
                    f"Add RAM (>= {vram * 2:.0f} GB is the usual rule), or use fewer DataLoader workers; "
                    "check OOM kills: sudo dmesg -T | grep -i 'out of memory'")
    return ok(f"{ram:.0f} GB RAM for {vram:.0f} GB GPU memory")


@check("sys.swap", CAT, "swap configured")
def swap(facts: Facts, ctx: Context) -> Outcome:
    swap_gb = facts.host.swap_total_gb
    if swap_gb is None:
        return _host_skip(facts, "swap_total_gb")
    if swap_gb <= 0:
        if facts.host.container:
            return ok("no swap inside the container (the host decides)")
        return warn("no swap",
                    "A memory spike (dataset caching, a big checkpoint) kills the process "
                    "outright instead of slowing down.",
                    "sudo fallocate -l 16G /swapfile && sudo chmod 600 /swapfile && sudo mkswap "
                    "/swapfile && sudo swapon /swapfile")
    return ok(f"{swap_gb:.0f} GB swap")


@check("sys.cgroup_memory", CAT, "no cgroup memory limit below RAM",
       source="https://github.com/pytorch/pytorch/issues/8976")
def cgroup_memory(facts: Facts, ctx: Context) -> Outcome:
    h = facts.host
    if h.ram_total_gb is None:
        return skip(not_collected(facts, "host", "ram_total_gb") or "RAM not collected")
    lim = h.cgroup_memory_limit_gb
    if lim is None:
        return ok("no cgroup memory limit")
    if lim < 0.9 * h.ram_total_gb:
        vram = total_gpu_memory_gb(facts) or 0
        return warn(f"cgroup memory limit {lim:.1f} GB of {h.ram_total_gb:.0f} GB RAM"
                    + (f" (GPU memory {vram:.0f} GB)" if vram else ""),
                    "The container/job is OOM-killed at this limit whatever the machine has.",
                    "docker run --memory=<more> ...; SLURM: --mem=<more>")
    return ok(f"cgroup limit {lim:.0f} GB (about all RAM)")


@check("sys.ulimit_nofile", CAT, "open-file limit >= 4096",
       source="https://github.com/pytorch/pytorch/issues/14768")
def nofile(facts: Facts, ctx: Context) -> Outcome:
    soft, hard = facts.host.ulimit_nofile_soft, facts.host.ulimit_nofile_hard
    if soft is None:
        return _host_skip(facts, "ulimit_nofile_soft")
    if soft < NOFILE_MIN:
        fix = (f"ulimit -n {min(hard, 65536)}   # in the shell that starts training"
               if hard and hard >= NOFILE_MIN else
               "add '* soft nofile 65536' and '* hard nofile 65536' to /etc/security/limits.conf, log in again")
        return warn(f"open-file limit {soft} (hard {hard})",
                    "\"RuntimeError: Too many open files. Communication with the workers is no longer "
                    "possible\" with many DataLoader workers; or use "
                    "torch.multiprocessing.set_sharing_strategy('file_system').", fix)
    return ok(f"open-file limit {soft}")


@check("sys.memlock", CAT, "memlock limit for pinned memory / RDMA",
       source="https://github.com/NVIDIA/nccl-tests/issues/206")
def memlock(facts: Facts, ctx: Context) -> Outcome:
    kb = facts.host.ulimit_memlock_soft_kb
    if kb is None:
        return _host_skip(facts, "ulimit_memlock_soft_kb")
    if kb == -1:
        return ok("memlock unlimited")
    if gpu_count(facts) >= 2 and kb < 1024 * 1024:
        return warn(f"memlock limited to {kb} KiB on a {gpu_count(facts)}-GPU machine",
                    "NCCL over InfiniBand/RoCE and GPUDirect register pinned memory: \"ibv_reg_mr "
                    "failed ... Cannot allocate memory\" at 8192 KiB.",
                    "add '* soft memlock unlimited' and '* hard memlock unlimited' to "
                    "/etc/security/limits.conf; Docker: --ulimit memlock=-1")
    return ok(f"memlock {kb} KiB (matters only for RDMA/GPUDirect on multi-GPU nodes)")


@check("sys.cpu_avx2", CAT, "CPU has AVX2", source="https://github.com/pytorch/pytorch/issues/22338")
def avx2(facts: Facts, ctx: Context) -> Outcome:
    h = facts.host
    if h.arch and h.arch not in ("x86_64", "AMD64", "amd64"):
        return skip(f"{h.arch}: AVX is an x86 feature")
    flags = h.cpu_flags
    if flags is None:
        return _host_skip(facts, "cpu_flags")
    vm = f" (hypervisor: {h.hypervisor})" if h.hypervisor else ""
    if not flags.get("avx"):
        return fail(f"CPU {h.cpu_model or '?'} has no AVX{vm}",
                    "\"Illegal instruction (core dumped)\" in torch and NumPy wheels.",
                    "In a VM expose the host CPU (virsh: <cpu mode='host-passthrough'/>, "
                    "QEMU: -cpu host); else another machine")
    if not flags.get("avx2"):
        return warn(f"CPU {h.cpu_model or '?'} has AVX but no AVX2{vm}",
                    "CPU kernels fall back to slower code; data augmentation on the CPU suffers.",
                    "In a VM: -cpu host / host-passthrough")
    extra = [f for f in ("avx512f", "amx_tile") if flags.get(f)]
    return ok("AVX2" + (" + " + ", ".join(extra) if extra else "") + f" ({h.cpu_model or 'CPU'})")


@check("sys.cpu_governor", CAT, "CPU frequency governor",
       source="https://github.com/AdnanHodzic/auto-cpufreq/issues/284")
def governor(facts: Facts, ctx: Context) -> Outcome:
    gov, drv = facts.host.cpu_governor, facts.host.cpu_freq_driver or "?"
    if gov is None:
        return _host_skip(facts, "cpu_governor")
    if gov == "powersave" and drv in ("acpi-cpufreq", "intel_cpufreq", "cppc_cpufreq"):
        return warn(f"governor powersave with {drv}: CPU pinned to its lowest frequency",
                    "With acpi-cpufreq, powersave means the minimum clock: the input pipeline "
                    "starves the GPU. (With intel_pstate/amd-pstate, powersave is a balanced mode.)",
                    "sudo cpupower frequency-set -g performance   # or schedutil")
    return ok(f"governor {gov} with {drv}")


@check("sys.cpu_per_gpu", CAT, "enough CPU threads per GPU")
def cpu_per_gpu(facts: Facts, ctx: Context) -> Outcome:
    n = gpu_count(facts)
    if not n:
        return skip("no GPUs")
    threads = facts.host.threads
    quota = facts.host.cgroup_cpu_limit
    # A quota of inf/nan (a garbled facts file; cgroup v2 writes "max" for none) is no limit:
    # int(inf) raised OverflowError here (issue 8, the flaky fuzz test).
    if quota and math.isfinite(quota) and quota > 0:
        threads = min(threads or 10**6, max(1, int(quota)))
    if not threads:
        return skip(not_collected(facts, "threads", "host") or "CPU threads not collected")
    per = threads / n
    if per < 4:
        return warn(f"{threads} CPU thread(s) for {n} GPU(s): {per:.1f} per GPU",
                    "Image decoding and augmentation in DataLoader workers need several threads per "
                    "GPU (4+ is a common rule of thumb); fewer starve the GPU.",
                    "Pre-decode data (DALI, ffcv, tensors on disk) or use a machine with more cores")
    return ok(f"{threads} CPU threads for {n} GPU(s)")


@check("sys.disk_space", CAT, "free disk space")
def disk_space(facts: Facts, ctx: Context) -> Outcome:
    disks = facts.host.disks
    if not disks:
        return skip(not_collected(facts, "disks", "host") or "disks not collected")
    bad, low, unwritable, good = [], [], [], []
    for d in disks:
        if d.error or d.free_gb is None:
            continue
        text = f"{d.label} {d.path}: {d.free_gb:.1f} GB free" + (
            f" of {d.total_gb:.0f} GB" if d.total_gb else "")
        if d.free_gb < DISK_FAIL_GB:
            bad.append(text)
        elif d.free_gb < DISK_WARN_GB:
            low.append(text)
        else:
            good.append(text)
        if d.writable is False and (d.label in ("cwd", "tmp") or d.label.startswith("data")):
            unwritable.append(f"{d.label} {d.path}")
    if bad:
        return fail("almost no disk space: " + join(bad),
                    "Checkpoints and caches fail to write mid-run.",
                    "du -sh ~/.cache/* | sort -h; clear ~/.cache/pip ~/.cache/huggingface or move data")
    if low or unwritable:
        text = "; ".join(x for x in (join(low) if low else "", "not writable: " + join(unwritable) if unwritable else "") if x)
        return warn(f"low disk space: {text}",
                    f"Under {DISK_WARN_GB:.0f} GB free: a few checkpoints or a dataset download fill it.",
                    "du -sh ~/.cache/* | sort -h; export TMPDIR / HF_HOME to a bigger disk")
    return ok(join(good) or "disks ok")

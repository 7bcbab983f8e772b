"""Driver, host, env and command-runner probes, with fake files, scripts and runners."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from rigcheck.probe import host as hostmod
from rigcheck.probe.commands import CommandResult, describe_failure, run
from rigcheck.probe.driver import collect_driver, parse_modules, parse_proc_version
from rigcheck.probe.env import allowed_env, collect_python, parse_nvcc

PROC_VERSION = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n"
    "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n"
)
PROC_VERSION_OPEN = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  560.35.03  Release Build  "
    "(dvs-builder@U16-I3-B03-4-3)  Fri Aug 16 21:42:42 UTC 2024\n"
)


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


# ---- commands ------------------------------------------------------------------------------

def test_run_kills_a_hung_command_and_its_children(tmp_path):
    pidfile = tmp_path / "pid"
    hung = script(tmp_path, "hang", f"echo $$ > {pidfile}\nsleep 30 &\nwait")
    start = time.monotonic()
    result = run([str(hung)], 0.5)
    assert time.monotonic() - start < 5
    assert result.error == "timed out after 0.5 s" and not result.ok
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive


def test_run_missing_binary_and_signal_and_exit_code(tmp_path):
    assert run(["/nonexistent/nvidia-smi"], 1).error == "not found: /nonexistent/nvidia-smi"
    seg = script(tmp_path, "seg", "kill -SEGV $$")
    assert describe_failure(run([str(seg)], 5)) == "killed by SIGSEGV"
    bad = script(tmp_path, "bad", "echo 'first' >&2\necho 'NVIDIA-SMI has failed' >&2\nexit 9")
    assert describe_failure(run([str(bad)], 5)) == "exit code 9: NVIDIA-SMI has failed"


# ---- driver --------------------------------------------------------------------------------

def test_parse_proc_version_proprietary_and_open_modules():
    assert parse_proc_version(PROC_VERSION)[1] == "550.54.15"
    assert parse_proc_version(PROC_VERSION)[0].startswith("NVRM version: NVIDIA UNIX x86_64")
    assert parse_proc_version(PROC_VERSION_OPEN)[1] == "560.35.03"
    assert parse_proc_version("garbage\x00\x01") == ("garbage\x00\x01", None)


def test_parse_modules():
    text = "nvidia_uvm 1437696 0 - Live 0x0\nnvidia 56717312 2 nvidia_uvm, Live 0x0\n"
    assert parse_modules(text) == {
        "nvidia": True, "nvidia_uvm": True, "nvidia_drm": False, "nvidia_modeset": False,
        "nouveau": False,
    }


def test_collect_driver_from_fake_files(tmp_path):
    proc = tmp_path / "proc"
    (proc / "driver" / "nvidia").mkdir(parents=True)
    (proc / "driver" / "nvidia" / "version").write_text(PROC_VERSION)
    (proc / "modules").write_text("nouveau 2 0 - Live 0x0\n")
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("nvidia0", "nvidiactl"):
        (dev / name).write_text("")
    (dev / "nvidia0").chmod(0o600)
    errors: dict[str, str] = {}
    facts = collect_driver(
        proc_root=str(proc), dev_pattern=str(dev / "nvidia*"), which=lambda n: None,
        compat_pattern=str(tmp_path / "cuda*/compat/libcuda.so.*"), errors=errors,
    )
    assert facts.kernel_module_version == "550.54.15"
    assert facts.modules["nouveau"] is True and facts.modules["nvidia"] is False
    assert [n.path.rsplit("/", 1)[1] for n in facts.dev_nodes] == ["nvidia0", "nvidiactl"]
    assert facts.dev_nodes[0].mode == "-rw-------"
    assert facts.nvidia_smi_path is None and facts.nvidia_smi_ok is None
    assert facts.compat_libs == [] and errors == {}


def test_hung_nvidia_smi_is_recorded_and_killed(tmp_path):
    smi = script(tmp_path, "nvidia-smi", "sleep 30")
    start = time.monotonic()
    facts = collect_driver(which=lambda n: str(smi), smi_timeout_s=0.5, proc_root=str(tmp_path))
    assert time.monotonic() - start < 5
    assert facts.nvidia_smi_path == str(smi)
    assert facts.nvidia_smi_ok is False
    assert facts.nvidia_smi_error == "timed out after 0.5 s"


def test_failing_nvidia_smi_keeps_its_message(tmp_path):
    smi = script(
        tmp_path, "nvidia-smi",
        "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\"\n"
        "exit 9",
    )
    facts = collect_driver(which=lambda n: str(smi), proc_root=str(tmp_path))
    assert facts.nvidia_smi_ok is False
    assert facts.nvidia_smi_error.startswith("exit code 9: NVIDIA-SMI has failed")


def test_working_nvidia_smi_via_fake_runner():
    calls = []

    def runner(argv, timeout_s):
        calls.append((tuple(argv), timeout_s))
        return CommandResult(tuple(argv), 0, "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-x)\n")

    facts = collect_driver(runner=runner, which=lambda n: "/usr/bin/nvidia-smi", smi_timeout_s=7)
    assert facts.nvidia_smi_ok is True and facts.nvidia_smi_error is None
    assert calls == [(("/usr/bin/nvidia-smi", "-L"), 7)]


# ---- host ----------------------------------------------------------------------------------

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD Ryzen 9 7950X 16-Core Processor
flags\t\t: fpu sse avx avx2 fma f16c avx512f avx512_bf16

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: something else
flags\t\t: fpu
"""


def test_parse_cpuinfo_first_block():
    info = hostmod.parse_cpuinfo(CPUINFO)
    assert info["model"] == "AMD Ryzen 9 7950X 16-Core Processor"
    assert info["vendor"] == "AuthenticAMD"
    assert {"avx2", "avx512f"} <= info["flags"] and "amx_tile" not in info["flags"]


def test_parse_os_release_and_mounts():
    assert hostmod.parse_os_release('NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n') == (
        "Ubuntu 22.04.4 LTS")
    assert hostmod.parse_os_release('NAME="Alpine"\nVERSION="3.19"\n') == "Alpine 3.19"
    mounts = hostmod.parse_mounts(
        "/dev/sda1 / ext4 rw 0 0\n/dev/nvme0n1 /mnt/data\\040set xfs rw 0 0\n"
        "tmpfs /dev/shm tmpfs rw 0 0\nbroken\n"
    )
    assert ("/mnt/data set", "xfs") in mounts
    assert hostmod.fs_type("/mnt/data set/imagenet", mounts) == "xfs"
    assert hostmod.fs_type("/mnt/database", mounts) == "ext4"  # prefix is not a parent


def test_cgroup_v2_and_v1_limits(tmp_path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("8589934592\n")
    (v2 / "cpu.max").write_text("200000 100000\n")
    selfcg = tmp_path / "self"
    selfcg.write_text("0::/\n")
    assert hostmod.cgroup_limits(str(v2), str(selfcg)) == (8.0, 2.0)
    (v2 / "memory.max").write_text("max\n")
    (v2 / "cpu.max").write_text("max 100000\n")
    assert hostmod.cgroup_limits(str(v2), str(selfcg)) == (None, None)
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "cpu").mkdir()
    (v1 / "memory" / "memory.limit_in_bytes").write_text(str(4 * 1024**3))
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("150000")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert hostmod.cgroup_limits(str(v1), str(selfcg)) == (4.0, 1.5)
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712")
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    assert hostmod.cgroup_limits(str(v1), str(selfcg)) == (None, None)


def test_container_and_hypervisor_detection():
    none = lambda p: False  # noqa: E731
    assert hostmod.detect_container(none, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "") == (
        "kubernetes")
    assert hostmod.detect_container(lambda p: p == "/run/.containerenv", {}, "") == "podman"
    assert hostmod.detect_container(lambda p: p == "/.dockerenv", {}, "") == "docker"
    assert hostmod.detect_container(none, {}, "12:cpu:/kubepods/besteffort/pod1\n") == (
        "kubernetes")
    assert hostmod.detect_container(none, {}, "0::/init.scope\n") is None
    assert hostmod.detect_hypervisor({"avx"}, "QEMU") is None
    assert hostmod.detect_hypervisor({"hypervisor"}, "QEMU\n") == "kvm"
    assert hostmod.detect_hypervisor({"hypervisor"}, "Microsoft Corporation") == "hyper-v"
    assert hostmod.detect_hypervisor({"hypervisor"}, None) == "unknown"


def test_collect_host_on_this_machine(tmp_path):
    facts = hostmod.collect_host([str(tmp_path), "/nonexistent-rigcheck"])
    assert facts.error is None and facts.os and facts.kernel and facts.arch
    assert facts.ram_total_gb and facts.ram_total_gb > 0
    assert facts.threads and facts.threads >= 1
    assert facts.clock_utc.endswith("+00:00")
    labels = [d.label for d in facts.disks]
    assert labels[:3] == ["cwd", "home", "tmp"]
    data = facts.disks[3]
    assert data.label == f"data:{tmp_path}" and data.writable is True and data.free_gb > 0
    missing = facts.disks[4]
    assert missing.error.startswith("could not stat /nonexistent-rigcheck")
    if facts.arch == "x86_64":
        assert set(facts.cpu_flags) >= {"avx", "avx2", "avx512f", "amx_tile"}
    assert facts.ulimit_nofile_soft and facts.ulimit_nofile_soft > 0


def test_collect_host_survives_a_broken_part(monkeypatch):
    def boom():
        raise RuntimeError("psutil exploded")

    monkeypatch.setattr(hostmod, "_memory", lambda facts: boom())
    facts = hostmod.collect_host()
    assert facts.ram_total_gb is None
    assert facts.field_errors["ram_total_gb"] == "could not collect: RuntimeError: psutil exploded"
    assert facts.os and facts.disks  # the rest is still there


def test_collect_host_without_proc_cpuinfo_falls_back_to_py_cpuinfo(tmp_path, monkeypatch):
    import cpuinfo

    monkeypatch.setattr(cpuinfo, "get_cpu_info", lambda: {
        "brand_raw": "Fake CPU", "vendor_id_raw": "FakeVendor", "flags": ["avx", "avx2"]})
    facts = hostmod.collect_host(proc_root=str(tmp_path))
    assert facts.cpu_model == "Fake CPU" and facts.cpu_vendor == "FakeVendor"
    if facts.arch == "x86_64":
        assert facts.cpu_flags["avx2"] is True and facts.cpu_flags["avx512f"] is False


# ---- env -----------------------------------------------------------------------------------

def test_allow_list_drops_everything_else():
    env = {
        "CUDA_VISIBLE_DEVICES": "0,1", "NCCL_P2P_DISABLE": "1", "LD_LIBRARY_PATH": "/opt/x",
        "CUDA_INJECTION64_PATH": "/opt/inject.so", "OMP_NUM_THREADS": "4",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t", "HF_TOKEN": "hf_x", "WANDB_API_KEY": "k",
        "HOME": "/home/alice", "PATH": "/usr/bin", "GITHUB_TOKEN": "t", "CUDA_VISIBLE_DEVICESX": "9",
    }
    assert allowed_env(env) == {
        "CUDA_INJECTION64_PATH": "/opt/inject.so", "CUDA_VISIBLE_DEVICES": "0,1",
        "LD_LIBRARY_PATH": "/opt/x", "NCCL_P2P_DISABLE": "1", "OMP_NUM_THREADS": "4",
    }


def test_nvcc_version_and_collect_python():
    out = "nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 12.4, V12.4.131\n"
    assert parse_nvcc(out) == "12.4"
    assert parse_nvcc("garbage") is None

    def runner(argv, timeout_s):
        return CommandResult(tuple(argv), 0, out)

    facts = collect_python(environ={"CUDA_HOME": "/usr/local/cuda", "SECRET": "x"},
                           runner=runner, which=lambda n: "/usr/local/cuda/bin/nvcc")
    assert facts.nvcc_path == "/usr/local/cuda/bin/nvcc" and facts.nvcc_version == "12.4"
    assert facts.env == {"CUDA_HOME": "/usr/local/cuda"}
    assert facts.version and facts.executable


def test_hung_nvcc_gives_no_version(tmp_path):
    nvcc = script(tmp_path, "nvcc", "sleep 30")
    errors: dict[str, str] = {}
    facts = collect_python(environ={}, which=lambda n: str(nvcc), nvcc_timeout_s=0.3,
                           errors=errors)
    assert facts.nvcc_path == str(nvcc) and facts.nvcc_version is None
    assert errors == {"nvcc_version": "timed out after 0.3 s"}


def test_collect_host_in_a_deleted_working_directory(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    facts = hostmod.collect_host()
    assert facts.error is None and facts.os
    cwd = facts.disks[0]
    assert cwd.label == "cwd" and (cwd.error or cwd.total_gb is not None)


def test_env_allow_list_covers_every_variable_the_doctor_flags():
    """A variable the doctor warns about must be collected, or the check can never fire."""
    from rigcheck.doctor.checks import performance
    from rigcheck.probe import env

    names = [*performance.TORCH_DEBUG_ENV, *performance.DCGM_ENV, *performance.BAD_VALUES]
    assert len(names) > 10
    assert [n for n in names if not env.allowed(n)] == []

"""Facts builders for the doctor tests: a healthy 2x H100 Linux box, and this-machine-like CPU box.

Each test starts from a healthy machine (every check ok or skipped for a stated reason) and
changes the one thing it is about.
"""

from __future__ import annotations

from rigcheck.facts import (
    DeviceNode,
    DiskFacts,
    DriverFacts,
    Facts,
    GpuFacts,
    HostFacts,
    NvmlFacts,
    P2PLink,
    PythonFacts,
    TorchDevice,
    TorchFacts,
)

CU124_ARCH = ["sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]


def gpu(index: int = 0, **kw) -> GpuFacts:
    base = dict(
        index=index, name="NVIDIA H100 80GB HBM3", uuid=f"GPU-aaaa{index:04d}-0000-0000-0000-000000000000",
        pci_bus_id=f"00000000:{0x18 + index:02X}:00.0",
        memory_total_mib=81559.0, memory_used_mib=4.0, compute_capability="9.0",
        pcie_gen_current=5, pcie_gen_max=5, pcie_width_current=16, pcie_width_max=16,
        power_draw_w=70.0, power_limit_w=700.0, power_default_limit_w=700.0,
        power_max_limit_w=700.0, temperature_c=33.0, temperature_slowdown_c=90.0,
        sm_clock_mhz=345.0, sm_clock_max_mhz=1980.0, utilization_gpu_pct=0.0,
        throttle_reasons=["GpuIdle"], persistence_mode=True, compute_mode="Default",
        mig_mode_current=False, mig_mode_pending=False, ecc_mode_current=True,
        ecc_mode_pending=True, ecc_uncorrected_volatile=0, ecc_uncorrected_aggregate=0,
        ecc_corrected_volatile=0, remapped_rows_correctable=0, remapped_rows_uncorrectable=0,
        remapped_rows_pending=False, remapped_rows_failure=False, display_active=False,
        numa_node=0, cpu_affinity="0-55", processes=[],
    )
    base.update(kw)
    return GpuFacts(**base)


def healthy(n_gpus: int = 2) -> Facts:
    gpus = [gpu(i) for i in range(n_gpus)]
    nodes = [DeviceNode(f"/dev/nvidia{i}", "crw-rw-rw-", True, True) for i in range(n_gpus)]
    nodes += [DeviceNode(p, "crw-rw-rw-", True, True) for p in ("/dev/nvidiactl", "/dev/nvidia-uvm")]
    return Facts(
        nvml=NvmlFacts(
            available=True, driver_version="550.54.15", cuda_driver_version="12.4",
            nvml_version="12.550.54.15", gpu_count=n_gpus, gpus=gpus,
            p2p=[P2PLink(a, b, "OK") for a in range(n_gpus) for b in range(n_gpus) if a < b],
        ),
        driver=DriverFacts(
            proc_version="NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15",
            kernel_module_version="550.54.15",
            modules={"nvidia": True, "nvidia_uvm": True, "nouveau": False},
            dev_nodes=nodes, nvidia_smi_path="/usr/bin/nvidia-smi", nvidia_smi_ok=True,
            compat_libs=[],
        ),
        host=HostFacts(
            os="Ubuntu 22.04.4 LTS", kernel="5.15.0-105-generic", arch="x86_64",
            cpu_model="AMD EPYC 9454", cores_physical=48, threads=96,
            cpu_flags={"avx": True, "avx2": True, "avx512f": True},
            cpu_governor="performance", cpu_freq_driver="acpi-cpufreq",
            ram_total_gb=1024.0, ram_available_gb=1000.0, swap_total_gb=8.0,
            disks=[DiskFacts("cwd", "/home/u/proj", "ext4", 1800.0, 900.0, True),
                   DiskFacts("home", "/home/u", "ext4", 1800.0, 900.0, True),
                   DiskFacts("tmp", "/tmp", "ext4", 1800.0, 900.0, True)],
            shm_total_gb=512.0, ulimit_nofile_soft=65536, ulimit_nofile_hard=65536,
            ulimit_memlock_soft_kb=-1, container=None, wsl=False, iommu=False,
        ),
        torch=TorchFacts(
            installed=True, version="2.5.1+cu124", cuda_build="12.4", cudnn_version=90100,
            arch_list=list(CU124_ARCH), cuda_available=True, device_count=n_gpus,
            devices=[TorchDevice(i, "NVIDIA H100 80GB HBM3", "9.0", 79.1) for i in range(n_gpus)],
            nccl_version="2.21.5", tf32_matmul=False, tf32_cudnn=True,
            float32_matmul_precision="highest", numpy_version="1.26.4",
            nvidia_wheels={"nvidia-cudnn-cu12": "9.1.0.70", "nvidia-cublas-cu12": "12.4.5.8"},
            loaded_libs=["/venv/lib/python3.11/site-packages/nvidia/cudnn/lib/libcudnn.so.9",
                         "/venv/lib/python3.11/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12"],
            num_threads=48, mkldnn=True, stack={},
        ),
        python=PythonFacts(version="3.11.9", executable="/venv/bin/python", env={}),
    )


def cpu_box() -> Facts:
    """Like the build machine: no GPU, no driver, CPU-only torch, in a Docker container."""
    f = healthy(1)
    f.nvml = NvmlFacts(available=False, error="NVML_ERROR_LIBRARY_NOT_FOUND")
    f.driver = DriverFacts(modules={"nvidia": False, "nvidia_uvm": False, "nouveau": False},
                           dev_nodes=[], nvidia_smi_path=None, nvidia_smi_ok=None)
    f.host.container = "docker"
    f.host.swap_total_gb = 0.0
    f.host.threads, f.host.cores_physical = 2, 2
    f.torch = TorchFacts(installed=True, version="2.13.0+cpu", cuda_build=None, cuda_available=False,
                         device_count=0, numpy_version="2.4.6", nvidia_wheels={}, loaded_libs=[],
                         num_threads=2)
    return f


def by_id(findings) -> dict:
    return {f.id: f for f in findings}

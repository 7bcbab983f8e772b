"""collect_nvml over every fake scenario and driver generation (no GPU needed)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from rigcheck.probe.nvml import collect_nvml, cpu_list, reason_names
from tests.fakenvml import (
    DRIVER_GENERATIONS,
    GPU_IS_LOST,
    SCENARIOS,
    FakeNvml,
)


def nvml(name: str, **kw):
    fake = FakeNvml(name, **kw)
    return collect_nvml(nvml=fake, cpu_count=224), fake


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_collects_and_shuts_down(name):
    facts, fake = nvml(name)
    sc = SCENARIOS[name]
    assert fake.init_calls == 1
    if sc.init_error is None:
        assert facts.available and facts.error is None
        assert facts.gpu_count == len(sc.gpus) == len(facts.gpus)
        assert fake.shutdown_calls == 1 and not fake.initialized
        for gpu, spec in zip(facts.gpus, sc.gpus, strict=True):
            assert gpu.lost == spec.lost
            if not spec.lost:
                assert gpu.name == spec.name
                assert gpu.memory_total_mib == spec.memory_total_mib
    else:
        assert not facts.available and facts.gpus == []
        assert fake.shutdown_calls == 0  # nothing to shut down after a failed init


def test_healthy_h100_node_values():
    facts, _ = nvml("h100_sxm_8x")
    assert facts.driver_version == "550.54.15"
    assert facts.cuda_driver_version == "12.4"
    assert facts.nvml_version == "12.550.54.15"
    g0, g7 = facts.gpus[0], facts.gpus[7]
    assert g0.compute_capability == "9.0"
    assert (g0.pcie_gen_current, g0.pcie_gen_max, g0.pcie_width_current, g0.pcie_width_max) == (
        5, 5, 16, 16)
    assert (g0.power_draw_w, g0.power_limit_w, g0.power_default_limit_w, g0.power_max_limit_w) == (
        72.0, 700.0, 700.0, 700.0)
    assert g0.temperature_c == 31.0 and g0.temperature_slowdown_c == 87.0
    assert g0.sm_clock_mhz == 345.0 and g0.sm_clock_max_mhz == 1980.0
    assert g0.throttle_reasons == ["GpuIdle"]
    assert g0.persistence_mode is True and g0.compute_mode == "Default"
    assert (g0.mig_mode_current, g0.mig_mode_pending) == (False, False)
    assert g0.ecc_mode_current is True and g0.ecc_uncorrected_volatile == 0
    assert g0.retired_pages_sbe == 0 and g0.retired_pages_pending is False
    assert g0.remapped_rows_pending is False and g0.remapped_rows_uncorrectable == 0
    assert g0.numa_node == 0 and g7.numa_node == 1
    assert g0.cpu_affinity == "0-55" and g7.cpu_affinity == "56-111"
    assert g0.processes == [] and g0.display_active is False
    assert g0.fan_pct is None and g0.field_errors == {"fan_pct": "NVML_ERROR_NOT_SUPPORTED"}
    assert g0.uuid.startswith("GPU-") and g0.pci_bus_id == "00000000:18:00.0"
    assert len(facts.p2p) == 28 and {link.status for link in facts.p2p} == {"OK"}


def test_rtx4090_x4_under_load():
    facts, _ = nvml("rtx4090_pcie_x4_load")
    (g,) = facts.gpus
    assert (g.pcie_width_current, g.pcie_width_max) == (4, 16)
    assert g.utilization_gpu_pct == 99.0 and g.power_draw_w == 431.5
    assert g.throttle_reasons == []
    assert g.display_active is True and g.persistence_mode is False
    procs = {(p.kind, p.name, p.used_mib) for p in g.processes}
    assert procs == {("compute", "python", 20480.0), ("graphics", "Xorg", 412.0)}
    for field in ("ecc_mode", "retired_pages_sbe", "remapped_rows", "mig_mode"):
        assert g.field_errors[field] == "NVML_ERROR_NOT_SUPPORTED"
    assert g.ecc_mode_current is None and g.remapped_rows_pending is None
    assert facts.p2p == []  # one GPU: no pairs


def test_one_lost_gpu_keeps_the_others():
    facts, fake = nvml("h100_8x_one_lost")
    lost = facts.gpus[3]
    assert lost.lost and lost.field_errors == {"handle": "NVML_ERROR_GPU_IS_LOST"}
    assert lost.name is None
    assert all(not g.lost and g.name for i, g in enumerate(facts.gpus) if i != 3)
    assert len(facts.p2p) == 21 and all(3 not in (p.gpu_a, p.gpu_b) for p in facts.p2p)
    assert fake.shutdown_calls == 1


def test_gpu_lost_in_the_middle_stops_reading_that_gpu():
    sc = SCENARIOS["h100_sxm_8x"]
    gpus = [dataclasses.replace(g) for g in sc.gpus[:2]]
    gpus[1] = dataclasses.replace(gpus[1], errors={"nvmlDeviceGetPowerUsage": GPU_IS_LOST})
    fake = FakeNvml(dataclasses.replace(sc, gpus=gpus))
    facts = collect_nvml(nvml=fake)
    g = facts.gpus[1]
    assert g.lost and g.name == "NVIDIA H100 80GB HBM3"
    assert g.field_errors["power_draw_w"] == "NVML_ERROR_GPU_IS_LOST"
    assert g.temperature_c is None and "temperature_c" not in g.field_errors  # never asked
    assert facts.p2p == []  # only one readable GPU left


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("laptop_no_driver", "NVML_ERROR_LIBRARY_NOT_FOUND"),
        ("driver_not_loaded", "NVML_ERROR_DRIVER_NOT_LOADED"),
        ("driver_mismatch", "NVML_ERROR_LIB_RM_VERSION_MISMATCH"),
    ],
)
def test_init_errors_are_named(name, error):
    facts, _ = nvml(name)
    assert (facts.available, facts.error, facts.gpu_count) == (False, error, None)


def test_mig_enabled_a100():
    (g,) = nvml("a100_mig")[0].gpus
    assert (g.mig_mode_current, g.mig_mode_pending) == (True, True)
    assert g.compute_capability == "8.0"
    assert g.retired_pages_sbe is None  # Ampere: row remapping instead of page retirement
    assert g.field_errors["retired_pages_sbe"] == "NVML_ERROR_NOT_SUPPORTED"
    assert g.remapped_rows_correctable == 0


def test_consumer_gpu_not_supported_fields_are_none_not_errors():
    facts, _ = nvml("rtx3060_consumer")
    (g,) = facts.gpus
    assert facts.available and facts.error is None
    assert g.ecc_mode_current is None and g.retired_pages_dbe is None and g.mig_mode_current is None
    assert set(g.field_errors.values()) == {"NVML_ERROR_NOT_SUPPORTED"}
    assert g.pcie_gen_current == 1 and g.pcie_gen_max == 4  # idle downshift, reported as is


def test_throttling_reasons_by_name():
    (g,) = nvml("throttling")[0].gpus
    assert g.throttle_reasons == ["SwPowerCap", "SwThermalSlowdown", "HwThermalSlowdown"]
    assert g.temperature_c == 93.0 and g.temperature_slowdown_c == 93.0
    assert g.ecc_mode_current is False


def test_memory_errors_and_pending_remap():
    (g,) = nvml("memory_errors")[0].gpus
    assert (g.ecc_uncorrected_volatile, g.ecc_uncorrected_aggregate, g.ecc_corrected_volatile) == (
        2, 5, 117)
    assert (g.remapped_rows_correctable, g.remapped_rows_uncorrectable) == (3, 2)
    assert g.remapped_rows_pending is True and g.remapped_rows_failure is False


def test_v100_retired_pages_on_r470():
    facts, _ = nvml("v100_retired_pages")
    (g,) = facts.gpus
    assert (g.retired_pages_sbe, g.retired_pages_dbe, g.retired_pages_pending) == (2, 1, True)
    assert facts.cuda_driver_version == "11.4"
    # R470 lacks the *_v3 process queries and the clock-event name; the throttle name still works.
    assert g.processes is None
    assert g.field_errors["processes_compute"] == "NVML_ERROR_FUNCTION_NOT_FOUND"
    assert g.throttle_reasons == ["GpuIdle"] and "throttle_reasons" not in g.field_errors


def test_old_nvidia_ml_py_without_event_reasons_binding_uses_throttle_name():
    fake = FakeNvml("old_pynvml")
    assert not hasattr(fake, "nvmlDeviceGetCurrentClocksEventReasons")
    (g,) = collect_nvml(nvml=fake).gpus
    assert g.throttle_reasons == ["GpuIdle"] and "throttle_reasons" not in g.field_errors
    assert "nvmlDeviceGetCurrentClocksThrottleReasons" in fake.calls


@pytest.mark.parametrize("driver", sorted(DRIVER_GENERATIONS))
@pytest.mark.parametrize("name", ["h100_sxm_8x", "rtx4090_pcie_x4_load", "memory_errors"])
def test_driver_generations(name, driver):
    facts, fake = nvml(name, driver=driver)
    missing = DRIVER_GENERATIONS[driver]
    assert facts.available and facts.gpu_count == len(SCENARIOS[name].gpus)
    g = facts.gpus[0]
    assert g.name == SCENARIOS[name].gpus[0].name  # basic fields survive any generation
    assert g.throttle_reasons is not None  # the older entry point is always there
    if "nvmlDeviceGetRemappedRows" in missing:
        assert g.field_errors["remapped_rows"] == "NVML_ERROR_FUNCTION_NOT_FOUND"
        assert g.remapped_rows_pending is None
    if "nvmlDeviceGetComputeRunningProcesses" in missing:
        assert g.processes is None
    if not missing:
        assert "NVML_ERROR_FUNCTION_NOT_FOUND" not in g.field_errors.values()
    assert fake.shutdown_calls == 1


def test_install_replaces_the_pynvml_module(monkeypatch):
    fake = FakeNvml("a100_mig").install(monkeypatch)
    facts = collect_nvml()
    assert facts.gpus[0].mig_mode_current is True and fake.init_calls == 1


def test_real_pynvml_without_driver_reports_an_error_name():
    facts = collect_nvml()
    if facts.available:  # pragma: no cover - only on a machine with a driver
        pytest.skip("this machine has an NVIDIA driver")
    assert facts.error and facts.error.startswith("NVML_ERROR_")


def test_importing_the_probe_does_not_import_pynvml_psutil_or_torch():
    code = (
        "import sys, rigcheck.probe, rigcheck.probe.nvml, rigcheck.probe.host, "
        "rigcheck.probe.torch_env, rigcheck.ui.probe_cmd;"
        "print(sorted(m for m in ('pynvml','psutil','cpuinfo','torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_cpu_list_and_reason_names():
    assert cpu_list([0b1111, 0]) == "0-3"
    assert cpu_list([(1 << 64) - 1, 0b101]) == "0-64,66"
    assert cpu_list([0]) == ""
    assert reason_names(0x1 | 0x40) == ["GpuIdle", "HwThermalSlowdown"]
    assert reason_names(0x1000 | 0x200) == ["BoardLimit", "Unknown(0x1000)"]


@pytest.mark.gpu
def test_real_gpu_probe():
    facts = collect_nvml()
    if not facts.available:
        pytest.skip(f"no NVIDIA GPU here ({facts.error})")
    assert facts.driver_version and facts.cuda_driver_version and facts.gpu_count >= 1
    for g in facts.gpus:
        assert not g.lost and g.name and g.memory_total_mib > 0
        assert g.compute_capability and g.pcie_width_max
        assert g.throttle_reasons is not None
        unexpected = {k: v for k, v in g.field_errors.items()
                      if v not in ("NVML_ERROR_NOT_SUPPORTED", "NVML_ERROR_NO_PERMISSION")}
        assert not unexpected

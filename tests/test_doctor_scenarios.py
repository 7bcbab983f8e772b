"""Every fake-NVML scenario through the real NVML probe and then every doctor check."""

from __future__ import annotations

import pytest

from rigcheck.doctor import run_checks
from rigcheck.facts import DeviceNode
from rigcheck.probe.nvml import collect_nvml
from tests.doctor_factories import by_id, healthy
from tests.fakenvml import SCENARIOS, FakeNvml


def facts_for(scenario: str, driver: str | None = None, **host):
    f = healthy(1)
    f.nvml = collect_nvml(nvml=FakeNvml(scenario, driver=driver), cpu_count=112)
    n = f.nvml.gpu_count or 0
    f.driver.kernel_module_version = f.nvml.driver_version or f.driver.kernel_module_version
    f.driver.dev_nodes = [DeviceNode(f"/dev/nvidia{i}", None, True, True) for i in range(n)] + [
        DeviceNode("/dev/nvidiactl", None, True, True), DeviceNode("/dev/nvidia-uvm", None, True, True)]
    if not f.nvml.available:
        f.driver.dev_nodes, f.driver.proc_version = [], None
        f.driver.modules = {"nvidia": False, "nvidia_uvm": False, "nouveau": False}
        f.driver.kernel_module_version = None
    f.torch.device_count = n
    f.host.threads = 112
    for k, v in host.items():
        setattr(f.host, k, v)
    return f


# scenario -> {check id: expected status}; all other checks must not fail.
EXPECT = {
    "h100_sxm_8x": {"gpu.lost": "ok", "pcie.link_under_load": "ok", "gpu.row_remap": "ok",
                    "pcie.p2p": "ok", "driver.persistence_mode": "ok"},
    "rtx4090_pcie_x4_load": {"pcie.link_under_load": "fail", "gpu.memory_in_use": "ok",
                             "gpu.ecc_errors": "skip", "gpu.mig": "skip"},
    "h100_8x_one_lost": {"gpu.lost": "fail"},
    "laptop_no_driver": {"driver.loaded": "skip", "gpu.thermal": "skip"},
    "driver_not_loaded": {"driver.loaded": "fail"},
    "driver_mismatch": {"driver.version_mismatch": "fail", "driver.loaded": "skip"},
    "a100_mig": {"gpu.mig": "warn"},
    "rtx3060_consumer": {"pcie.link_under_load": "ok", "gpu.ecc_errors": "skip"},
    "throttling": {"gpu.thermal": "fail", "gpu.power_throttle": "ok"},
    "memory_errors": {"gpu.ecc_errors": "fail", "gpu.row_remap": "fail"},
    "v100_retired_pages": {"gpu.retired_pages": "fail", "gpu.ecc_errors": "fail"},
    "old_pynvml": {"gpu.power_throttle": "ok", "gpu.lost": "ok"},
}
ALLOWED_FAILS = {  # a second, true consequence of the scenario's fault
    "driver_not_loaded": {"torch.cuda_available"},
    "driver_mismatch": {"torch.cuda_available"},
    "laptop_no_driver": {"torch.cuda_available"},
    "v100_retired_pages": {"torch.driver_too_old"},   # CUDA 11.4 driver, cu124 torch in the factory
    "h100_8x_one_lost": set(),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name):
    assert name in EXPECT, f"add expectations for new scenario {name}"
    res = by_id(run_checks(facts_for(name)))
    for cid, status in EXPECT[name].items():
        assert res[cid].status == status, (cid, res[cid])
    expected_fail = {c for c, s in EXPECT[name].items() if s == "fail"} | ALLOWED_FAILS.get(name, set())
    unexpected = {f.id for f in res.values() if f.status in ("fail", "crash")} - expected_fail
    assert not unexpected, [res[i].summary for i in unexpected]


def test_skip_reason_names_the_nvml_error():
    res = by_id(run_checks(facts_for("laptop_no_driver")))
    assert "NVML_ERROR_LIBRARY_NOT_FOUND" in res["gpu.ecc_errors"].summary
    assert "NVML_ERROR_LIBRARY_NOT_FOUND" in res["driver.loaded"].summary


def test_consumer_gpu_unsupported_fields_say_not_supported():
    res = by_id(run_checks(facts_for("rtx3060_consumer")))
    assert "NOT_SUPPORTED" in res["gpu.ecc_errors"].summary
    assert "NOT_SUPPORTED" in res["gpu.mig"].summary


def test_laptop_with_nouveau_is_diagnosed():
    f = facts_for("laptop_no_driver")
    f.driver.modules["nouveau"] = True
    res = by_id(run_checks(f))
    assert res["driver.loaded"].status == "fail" and res["driver.nouveau"].status == "fail"


# What an older driver's libnvidia-ml lacks (tests/fakenvml.py DRIVER_GENERATIONS) and the checks
# that needed it: r418 has no row-remapping and no MIG query, so those two skip and name the
# missing NVML call. The clock-event reasons r470/r525 lack are read under their older name
# (...ThrottleReasons), and the process lists r418/r470 lack only leave this idle 8 x H100
# without its process table: every other finding is the current (r550) driver's.
SKIPPED_ON_OLD_DRIVER = {"r418": {"gpu.row_remap": "remapped_rows", "gpu.mig": "mig_mode"},
                         "r470": {}, "r525": {}, "r550": {}}


@pytest.mark.parametrize("driver", ["r418", "r470", "r525", "r550"])
def test_driver_generations_skip_only_what_their_library_lacks(driver):
    res = by_id(run_checks(facts_for("h100_sxm_8x", driver=driver)))
    current = by_id(run_checks(facts_for("h100_sxm_8x", driver="r550")))
    assert not [i for i, f in res.items() if f.status == "crash"]
    skipped = SKIPPED_ON_OLD_DRIVER[driver]
    for cid, what in skipped.items():
        assert res[cid].status == "skip" and current[cid].status == "ok"
        assert res[cid].summary == f"skipped: {what} not available: NVML_ERROR_FUNCTION_NOT_FOUND"
    assert {i: (f.status, f.summary) for i, f in res.items() if i not in skipped} == {
        i: (f.status, f.summary) for i, f in current.items() if i not in skipped}

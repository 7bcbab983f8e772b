"""Driver check decisions that tests/test_doctor_driver_rules.py leaves open (mutation survivors).

Each case is the one value that tells two readings of a rule apart; expectations written by hand
from what the check says it decides (rigcheck/doctor/checks/driver.py).
"""

from __future__ import annotations

from rigcheck.doctor.checks.driver import dev_nodes, driver_loaded
from rigcheck.doctor.registry import Context
from tests.doctor_factories import healthy

CTX = Context()


def test_loaded_prefers_the_nvml_driver_over_the_kernel_module():
    # NVML's (user-space) version is the one named; the kernel module is only a fallback.
    f = healthy(1)
    f.driver.kernel_module_version = "550.54.14"
    assert driver_loaded(f, CTX).summary == "driver 550.54.15, CUDA 12.4, 1 GPU(s) visible to NVML"


def test_dev_nodes_unknown_gives_the_origins_reason():
    f = healthy(1)
    f.driver.dev_nodes = None
    f.not_collected = {"dev_nodes": "not in a collect_env paste"}
    assert dev_nodes(f, CTX).summary == "skipped: not in a collect_env paste"
    f.not_collected = {"driver": "driver section timed out"}
    assert dev_nodes(f, CTX).summary == "skipped: driver section timed out"


def test_dev_nodes_uvm_node_present_and_cuda_failed_is_not_a_missing_uvm():
    # CUDA failed for another reason; /dev/nvidia-uvm is there, so the uvm rule must not fire.
    f = healthy(2)
    f.torch.cuda_available = False
    got = dev_nodes(f, CTX)
    assert (got.status, got.summary) == ("ok", "2 GPU device node(s) readable and writable")

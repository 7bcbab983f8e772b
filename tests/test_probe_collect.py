"""collect_facts: each source isolated (raises, hangs, returns garbage), redaction, JSON."""

from __future__ import annotations

import dataclasses
import time

import pytest

from rigcheck import facts as F
from rigcheck.facts import (
    AmdFacts,
    DriverFacts,
    HostFacts,
    NvmlFacts,
    PythonFacts,
    TorchFacts,
)
from rigcheck.probe.collect import SECTIONS, collect_facts
from rigcheck.probe.redact import Redactor, redact_facts
from tests.fakenvml import SCENARIOS, FakeNvml

FAST = {
    "nvml": lambda: NvmlFacts(available=False, error="NVML_ERROR_LIBRARY_NOT_FOUND"),
    "driver": lambda: DriverFacts(nvidia_smi_path=None),
    "host": lambda: HostFacts(os="Ubuntu 22.04.4 LTS", threads=16),
    "torch": lambda: (TorchFacts(installed=True, version="2.4.1+cu121"), {"nccl_version": "x"}),
    "python": lambda: PythonFacts(version="3.11.7"),
    "amd": lambda: AmdFacts(),
}


def _raise():
    raise RuntimeError("boom")


def _hang():
    time.sleep(30)


FAULTS = {
    "raises": (_raise, "could not collect: RuntimeError: boom"),
    "hangs": (_hang, "could not collect: timed out after 0.3 s"),
    "garbage": (lambda: "garbage", "could not collect: TypeError: returned str, expected "),
    "bad_errors": (lambda: (HostFacts(), ["x"]), "could not collect: TypeError: returned field"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("broken", sorted(SECTIONS))
def test_one_broken_source_does_not_sink_the_others(broken, fault):
    func, message = FAULTS[fault]
    if fault == "bad_errors" and broken != "host":
        func = lambda: (SECTIONS[broken](), ["x"])  # noqa: E731
    start = time.monotonic()
    facts = collect_facts(
        redact=False, timeout_s=0.2, grace_s=0.1, sources={**FAST, broken: func}
    )
    assert time.monotonic() - start < 3
    section = getattr(facts, broken)
    assert isinstance(section, SECTIONS[broken])
    assert section.error.startswith(message)
    if broken == "nvml":
        assert section.available is False
    others = {name for name in SECTIONS if name != broken}
    for name in others:
        assert getattr(facts, name).error in (None, "NVML_ERROR_LIBRARY_NOT_FOUND"), name
    if "host" in others:
        assert facts.host.os == "Ubuntu 22.04.4 LTS"
    if "torch" in others:
        assert facts.torch.version == "2.4.1+cu121"
        assert facts.not_collected == {"torch.nccl_version": "x"}


def test_sources_run_in_parallel():
    slow = {name: (lambda f=f: (time.sleep(0.4), f())[1]) for name, f in FAST.items()}
    start = time.monotonic()
    collect_facts(redact=False, sources=slow)
    assert time.monotonic() - start < 1.5  # five 0.4 s sources, not 2 s in a row


def test_hanging_nvml_init_is_abandoned(monkeypatch):
    sc = dataclasses.replace(SCENARIOS["h100_sxm_8x"], init_delay_s=5)
    FakeNvml(sc).install(monkeypatch)
    srcs = {k: v for k, v in FAST.items() if k != "nvml"}
    start = time.monotonic()
    facts = collect_facts(redact=False, timeout_s=0.3, grace_s=0.1, sources=srcs)
    assert time.monotonic() - start < 3
    assert facts.nvml.error == "could not collect: timed out after 0.4 s"
    assert facts.host.os == "Ubuntu 22.04.4 LTS"


def test_field_errors_of_host_land_in_the_section():
    srcs = {**FAST, "host": lambda: (HostFacts(os="x"), {"cpu_governor": "EACCES"})}
    facts = collect_facts(redact=False, sources=srcs)
    assert facts.host.field_errors == {"cpu_governor": "EACCES"}
    assert "host.cpu_governor" not in facts.not_collected


def test_full_collect_with_fake_gpus_round_trips_through_json(monkeypatch, tmp_path):
    FakeNvml("rtx4090_pcie_x4_load").install(monkeypatch)
    timings: dict[str, float] = {}
    facts = collect_facts(data_dirs=[str(tmp_path)], timings=timings)
    assert set(timings) == set(SECTIONS)
    assert facts.origin == "probe" and facts.collected_at and facts.rigcheck_version
    assert facts.nvml.available and facts.nvml.gpus[0].name == "NVIDIA GeForce RTX 4090"
    assert facts.nvml.gpus[0].uuid == "GPU-<redacted-1>"
    assert facts.host.disks[-1].label.startswith("data:")
    text = F.to_json(facts)
    assert F.from_json(text) == facts
    assert "0a1b2c3d-4e5f" not in text  # the raw UUID is gone


# ---- redaction -----------------------------------------------------------------------------

def sample_facts() -> F.Facts:
    from rigcheck.probe.nvml import collect_nvml

    facts = F.Facts(redacted=False)
    facts.nvml = collect_nvml(nvml=FakeNvml("rtx4090_pcie_x4_load"))
    uuid = facts.nvml.gpus[0].uuid
    facts.host = HostFacts(hostname="gpu-box-07", user="alice", disks=[
        F.DiskFacts(label="home", path="/home/alice"),
        F.DiskFacts(label="data:/data/alice", path="/data/alice"),
    ])
    facts.python = PythonFacts(env={
        "CUDA_VISIBLE_DEVICES": uuid,
        "LD_LIBRARY_PATH": "/home/alice/cuda/lib64:/Users/bob/lib",
        "NCCL_SOCKET_IFNAME": "eth0",
    }, executable="/home/alice/venv/bin/python")
    facts.torch = TorchFacts(cuda_init_error="on gpu-box-07 mac 00:1A:2b:3c:4d:5e failed")
    return facts


def test_redaction_replaces_identifiers_consistently():
    raw = sample_facts()
    red = redact_facts(raw)
    assert red.redacted is True
    g = red.nvml.gpus[0]
    assert g.uuid == "GPU-<redacted-1>" and g.serial == "<serial>"
    assert red.python.env["CUDA_VISIBLE_DEVICES"] == "GPU-<redacted-1>"  # still matches the GPU
    assert red.python.env["LD_LIBRARY_PATH"] == "/home/<user>/cuda/lib64:/Users/<user>/lib"
    assert red.python.env["NCCL_SOCKET_IFNAME"] == "eth0"
    assert red.python.executable == "/home/<user>/venv/bin/python"
    assert red.host.hostname == "<host>" and red.host.user == "<user>"
    assert [d.path for d in red.host.disks] == ["/home/<user>", "/data/<user>"]
    assert red.host.disks[1].label == "data:/data/<user>"
    assert red.torch.cuda_init_error == "on <host> mac <mac> failed"
    text = F.to_json(red)
    for secret in ("alice", "bob", "gpu-box-07", "0a1b2c3d", "00:1A"):
        assert secret not in text
    # the input is untouched, and no-redact keeps everything
    assert raw.host.user == "alice" and raw.nvml.gpus[0].uuid.startswith("GPU-0a1b")


def test_redaction_leaves_pci_ids_versions_and_common_names():
    r = Redactor(hostname="vm", user="root")
    assert r.text("00000000:18:00.0 550.54.15 /root/x /usr/lib") == (
        "00000000:18:00.0 550.54.15 /root/x /usr/lib")
    assert r.text("vm") == "<host>" and r.text("vmware") == "vmware"


def test_no_redact_keeps_identifiers(monkeypatch):
    FakeNvml("a100_mig").install(monkeypatch)
    facts = collect_facts(redact=False, sources={"torch": FAST["torch"]})
    assert facts.redacted is False
    assert facts.nvml.gpus[0].serial == "1323021000123"
    assert facts.nvml.gpus[0].uuid == "GPU-a100a100-1111-2222-3333-444455556666"

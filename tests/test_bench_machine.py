"""bench describes the machine from the probe's host facts (one machine description)."""

from __future__ import annotations

import torch

from rigcheck.bench.expect import describe_machine
from rigcheck.facts import HostFacts
from rigcheck.probe.host import parse_cpuinfo


def _host(**kw) -> HostFacts:
    base = dict(cpu_model="AMD EPYC 7763 64-Core Processor", arch="x86_64", threads=16,
                cpu_flags={"avx2": True, "fma": True, "avx512f": False, "amx_bf16": False},
                cpu_max_mhz=3529.0, cpu_mhz=2445.4, ram_total_gb=125.73, hypervisor="kvm")
    base.update(kw)
    return HostFacts(**base)


def test_cpu_clock_flags_and_ram_come_from_the_host_facts() -> None:
    m = describe_machine(torch.device("cpu"), _host())
    assert m.cpu_model == "AMD EPYC 7763 64-Core Processor" and m.cpu_cores == 16
    assert (m.cpu_mhz, m.cpu_mhz_source) == (3529.0, "cpuinfo_max_freq")
    assert m.cpu_flags == ["avx2", "fma", "hypervisor"]
    assert m.ram_gb == round(125.73 * 2**30 / 1e9, 2)     # GiB from the probe, GB in the run


def test_without_cpufreq_the_cpuinfo_clock_is_used_and_says_so() -> None:
    m = describe_machine(torch.device("cpu"), _host(cpu_max_mhz=None, hypervisor=None))
    assert (m.cpu_mhz, m.cpu_mhz_source) == (2445.4, "cpu MHz")
    assert "hypervisor" not in m.cpu_flags


def test_no_clock_at_all_is_no_clock() -> None:
    m = describe_machine(torch.device("cpu"), _host(cpu_max_mhz=None, cpu_mhz=None))
    assert m.cpu_mhz is None and m.cpu_mhz_source == ""


def test_probe_reads_the_cpuinfo_clock() -> None:
    text = "processor\t: 0\nmodel name\t: X\ncpu MHz\t\t: 2445.406\nflags\t\t: avx2 fma\n\n"
    assert parse_cpuinfo(text)["mhz"] == 2445.406

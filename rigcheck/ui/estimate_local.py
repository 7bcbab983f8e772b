"""``estimate`` without ``--gpu``: this machine's own GPU, from probe facts.

Only the fast sources run (NVML, host); the torch child (seconds) runs only when NVML saw no GPU
and the CPU is not an Apple M-series chip, since on ROCm torch is what names the AMD GPU.
"""

from __future__ import annotations

from typing import Any

from rigcheck.ui.common import EXIT_USAGE, fail


def _facts(with_torch: bool) -> Any:
    from rigcheck.facts import DriverFacts, PythonFacts, TorchFacts
    from rigcheck.probe.collect import collect_facts

    skip: dict[str, Any] = {
        "driver": lambda: (DriverFacts(error="not probed by estimate"), {}),
        "python": lambda: PythonFacts(error="not probed by estimate"),
    }
    if not with_torch:
        skip["torch"] = lambda: (TorchFacts(error="not probed by estimate"), {})
    return collect_facts(sources=skip)


def local_gpus(catalog_gpus: Any) -> list[Any]:
    """The machine's GPU groups (``perfmodel.MachineGpu``), probing as little as needed."""
    from rigcheck.perfmodel import machine_gpus

    try:
        found = machine_gpus(_facts(with_torch=False), catalog_gpus)
        if not found:
            found = machine_gpus(_facts(with_torch=True), catalog_gpus)
    except Exception as exc:  # noqa: BLE001 - a probe that breaks is a message, not a crash
        fail(f"--gpu not given and this machine could not be probed ({type(exc).__name__}: {exc}); "
             "give --gpu NAME", EXIT_USAGE)
    return found


def local_gpu(catalog_gpus: Any) -> tuple[Any, int, str]:
    """(Gpu record, how many of it, what the machine reported) for the first GPU found; exits 2
    with one line when there is none or it is not in the spec database."""
    found = local_gpus(catalog_gpus)
    if not found:
        fail("--gpu not given and no GPU was found on this machine (no NVML device, no torch "
             "GPU, not an Apple M-series Mac); give --gpu NAME", EXIT_USAGE)
    first = found[0]
    if first.lookup is None:
        fail(f"--gpu not given; this machine's GPU '{first.reported}' is not in the GPU spec "
             f"database ({first.error}); give --gpu NAME", EXIT_USAGE)
    return first.lookup.gpu, first.count, first.reported

"""``collect_facts``: every probe source, each isolated from the others, into one :class:`Facts`.

Sources run at the same time, each in its own daemon thread: the torch child (the slow part,
about a second for ``import torch``) overlaps with NVML, the driver files and the host reads, so
the probe takes about as long as its slowest source. A source that raises becomes
``error="could not collect: <why>"`` on its section; one that hangs (an NVML call stuck in the
kernel cannot be interrupted from Python) is abandoned after its deadline and recorded as
"could not collect: timed out after N s"; one that returns something else than its section is
recorded as such. The other sections are kept either way.

Field-level failures that a section has no ``field_errors`` for go to ``Facts.not_collected`` as
``"<section>.<field>"`` -> why (e.g. ``"torch.nccl_version"``).
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rigcheck import __version__
from rigcheck.facts import (
    AmdFacts,
    DriverFacts,
    Facts,
    HostFacts,
    NvmlFacts,
    PythonFacts,
    TorchFacts,
)

# A source returns its section, or (section, {field: why}).
Source = Callable[[], Any]

SECTIONS: dict[str, type] = {
    "nvml": NvmlFacts,
    "driver": DriverFacts,
    "host": HostFacts,
    "torch": TorchFacts,
    "python": PythonFacts,
    "amd": AmdFacts,
}
DEFAULT_TIMEOUT_S = 20.0
# The torch child enforces timeout_s itself; its thread gets a little longer to report that.
_GRACE_S = 3.0


def default_sources(
    data_dirs: Iterable[str] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    torch_python: str | None = None,
) -> dict[str, Source]:
    """The real probes, keyed by section name. Imports stay inside so tests can replace any.

    ``torch_python``: the interpreter whose torch is probed (default: this one). rigcheck installed
    with pipx lives in its own venv, while the user's torch is in a conda env or another venv.
    """
    dirs = tuple(data_dirs)

    def nvml() -> tuple[NvmlFacts, dict[str, str]]:
        from rigcheck.probe.nvml import collect_nvml

        errors: dict[str, str] = {}
        return collect_nvml(errors=errors), errors

    def driver() -> tuple[DriverFacts, dict[str, str]]:
        from rigcheck.probe.driver import collect_driver

        errors: dict[str, str] = {}
        return collect_driver(errors=errors, smi_timeout_s=min(10.0, timeout_s)), errors

    def host() -> HostFacts:
        from rigcheck.probe.host import collect_host

        return collect_host(dirs)

    def torch() -> tuple[TorchFacts, dict[str, str]]:
        from rigcheck.probe.torch_env import collect_torch

        return collect_torch(python=torch_python, timeout_s=timeout_s)

    def python() -> tuple[PythonFacts, dict[str, str]]:
        from rigcheck.probe.env import collect_python

        errors: dict[str, str] = {}
        return collect_python(nvcc_timeout_s=min(10.0, timeout_s), errors=errors), errors

    def amd() -> tuple[AmdFacts, dict[str, str]]:
        from rigcheck.probe.amd import collect_amd

        errors: dict[str, str] = {}
        return collect_amd(errors=errors), errors

    # torch first: its child process is the slowest source, so it should start before the rest.
    return {"torch": torch, "nvml": nvml, "driver": driver, "host": host, "python": python,
            "amd": amd}


@dataclass
class SourceRun:
    """What one source did: its section (or why not), and how long it took."""

    name: str
    section: Any = None
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    seconds: float | None = None


def _run_source(run: SourceRun, source: Source) -> None:
    start = time.perf_counter()
    try:
        result = source()
        errors: Any = {}
        if isinstance(result, tuple) and len(result) == 2:
            result, errors = result
        expected = SECTIONS[run.name]
        if not isinstance(result, expected):
            raise TypeError(f"returned {type(result).__name__}, expected {expected.__name__}")
        if not isinstance(errors, dict):
            raise TypeError(f"returned field errors as {type(errors).__name__}")
        run.section, run.errors = result, {str(k): str(v) for k, v in errors.items()}
    except BaseException as exc:  # noqa: BLE001 - the point is that nothing escapes a source
        run.error = f"could not collect: {type(exc).__name__}: {exc}"
    finally:
        run.seconds = time.perf_counter() - start


def run_sources(
    sources: Mapping[str, Source], timeout_s: float, grace_s: float = _GRACE_S
) -> dict[str, SourceRun]:
    """Run every source in parallel; give up on any still running at ``timeout_s + grace_s``."""
    runs = {name: SourceRun(name) for name in sources}
    threads = []
    for name, source in sources.items():
        t = threading.Thread(
            target=_run_source, args=(runs[name], source), name=f"rigcheck-probe-{name}",
            daemon=True,  # a hung NVML call cannot be cancelled; a daemon thread can be left behind
        )
        t.start()
        threads.append((name, t))
    deadline = time.monotonic() + timeout_s + grace_s
    for name, t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            runs[name] = SourceRun(
                name, error=f"could not collect: timed out after {timeout_s + grace_s:g} s"
            )
    return runs


def assemble(runs: Mapping[str, SourceRun]) -> Facts:
    facts = Facts(
        rigcheck_version=__version__,
        collected_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        origin="probe",
        redacted=False,
    )
    for name, cls in SECTIONS.items():
        run = runs.get(name)
        if run is None:
            continue
        section = run.section if run.section is not None else cls(error=run.error)
        if run.section is None and name == "nvml":
            section.available = False
        setattr(facts, name, section)
        for key, why in run.errors.items():
            if isinstance(getattr(section, "field_errors", None), dict):
                section.field_errors.setdefault(key, why)
            else:
                facts.not_collected[f"{name}.{key}"] = why
    return facts


def collect_facts(
    data_dirs: Iterable[str] = (),
    redact: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    sources: Mapping[str, Source] | None = None,
    timings: dict[str, float] | None = None,
    grace_s: float = _GRACE_S,
    torch_python: str | None = None,
) -> Facts:
    """Probe this machine. Never raises for a source's sake.

    ``data_dirs``: extra folders whose disk is checked (datasets). ``timeout_s``: per-source
    limit (the torch child, nvidia-smi). ``sources`` replaces default sources by name (tests,
    fault injection). ``timings``, when given, receives each source's seconds. A source still
    running ``grace_s`` after ``timeout_s`` is abandoned. ``torch_python``: probe the torch of
    another interpreter (``rigcheck probe --python``).
    """
    all_sources = default_sources(data_dirs, timeout_s, torch_python)
    if sources:
        all_sources.update(sources)
    runs = run_sources(all_sources, timeout_s, grace_s)
    if timings is not None:
        timings.update({n: r.seconds for n, r in runs.items() if r.seconds is not None})
    facts = assemble(runs)
    if redact:
        from rigcheck.probe.redact import redact_facts

        facts = redact_facts(facts)
    return facts

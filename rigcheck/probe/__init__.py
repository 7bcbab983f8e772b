"""Facts about this machine: NVML, driver files, host, PyTorch (in a child process), Python.

``collect_facts()`` (in :mod:`rigcheck.probe.collect`) is the entry point. Importing this package
imports no outside library: pynvml, psutil and torch are loaded only when a probe runs.
"""

from __future__ import annotations

from rigcheck.probe.collect import collect_facts

__all__ = ["collect_facts"]

"""Measuring training speed: bundled models, workloads, micro-benchmarks and the bench runner.

This package is the one owner of ``torch`` in rigcheck (besides the torch child probe). Importing
``rigcheck.bench`` itself imports nothing heavy, so ``rigcheck --help`` stays fast; torch is loaded
by the submodules that need it (``rigcheck.bench.models``, ``rigcheck.bench.introspect``, ...).
"""

from __future__ import annotations

"""sys.cpu_per_gpu: 4 CPU threads per GPU is the bar; a cgroup quota lowers the count, and a
quota that is no number (inf, nan from a pasted or edited facts file) is no quota, not a crash."""

from __future__ import annotations

import math

import pytest

from rigcheck.doctor.checks.system import cpu_per_gpu
from rigcheck.doctor.registry import Context
from tests.doctor_factories import healthy


def _status(threads: int | None, limit: float | None, gpus: int = 2) -> tuple[str, str]:
    f = healthy(gpus)
    f.host.threads, f.host.cgroup_cpu_limit = threads, limit
    out = cpu_per_gpu(f, Context())
    return str(out.status), out.summary


def test_eight_threads_for_two_gpus_is_enough_seven_is_not() -> None:
    assert _status(8, None)[0] == "ok"
    status, summary = _status(7, None)
    assert status == "warn" and "3.5 per GPU" in summary


def test_a_cgroup_quota_lowers_the_thread_count() -> None:
    assert _status(64, 8.0)[0] == "ok"
    status, summary = _status(64, 7.9)          # 7 whole CPUs for 2 GPUs
    assert status == "warn" and summary.startswith("7 CPU thread(s)")


@pytest.mark.parametrize("limit", [math.inf, -math.inf, math.nan, 0.0, -2.0])
def test_a_quota_that_is_no_number_is_ignored(limit: float) -> None:
    assert _status(64, limit) == ("ok", "64 CPU threads for 2 GPU(s)")

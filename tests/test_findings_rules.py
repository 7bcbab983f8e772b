"""Findings records and the doctor's summary (rigcheck/doctor/findings.py) pinned at their edges.

From the module: Finding and Outcome are frozen records; ``warn``/``fail`` carry the fix and the
source, ``ok`` neither; the most common skip reason wins, ties to the first met, none is "";
a run "failed" when a check failed or crashed; "mostly skipped" when more than half the checks
were skipped; categories that only apply to some machines (platform, active) are never
"not judged".
"""

from __future__ import annotations

import dataclasses

import pytest

from rigcheck.doctor.findings import (
    STATUSES,
    Finding,
    Outcome,
    Status,
    as_status,
    fail,
    ok,
    skip,
    skip_reason,
    summarize,
    warn,
)


def _f(status, category="system", summary="s", fid="x"):
    return Finding(fid, category, status, summary)


def test_statuses_worst_first() -> None:
    assert STATUSES == ("crash", "fail", "warn", "ok", "skip")


def test_as_status_names_the_bad_value_and_the_choices() -> None:
    assert as_status("fail") is Status.FAIL
    with pytest.raises(ValueError, match=r"unknown status 'meh' \(expected one of crash, fail, warn, ok, skip\)"):
        as_status("meh")


def test_finding_and_outcome_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _f("ok").summary = "changed"          # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ok("fine").summary = "changed"        # type: ignore[misc]


def test_outcome_helpers_carry_what_they_are_given() -> None:
    assert warn("w", "d", "fix it", "src") == Outcome(Status.WARN, "w", "d", "fix it", "src")
    assert fail("f", "d", "fix it", "src") == Outcome(Status.FAIL, "f", "d", "fix it", "src")
    assert ok("o", "d") == Outcome(Status.OK, "o", "d", "", None)
    assert skip("why", "d") == Outcome(Status.SKIP, "skipped: why", "d", "", None)
    assert Outcome("warn", "s").status is Status.WARN


def test_skip_reason_most_common_first_met_on_ties_empty_when_none() -> None:
    assert skip_reason([]) == ""
    assert skip_reason([_f("ok"), _f("warn")]) == ""
    fs = [_f("skip", summary="skipped: a"), _f("skip", summary="skipped: b"), _f("skip", summary="skipped: b")]
    assert skip_reason(fs) == "b"
    assert skip_reason([_f("skip", summary="skipped: a"), _f("skip", summary="skipped: b")]) == "a"


@pytest.mark.parametrize(("statuses", "failed"), [
    (["ok", "warn", "skip"], False), (["ok", "fail"], True), (["ok", "crash"], True),
])
def test_failed_means_a_failure_or_a_crash(statuses, failed) -> None:
    assert summarize([_f(s) for s in statuses])["failed"] is failed


@pytest.mark.parametrize(("n_skip", "n_other", "mostly"), [(2, 2, False), (3, 2, True), (0, 0, False), (1, 0, True)])
def test_mostly_skipped_is_more_than_half(n_skip, n_other, mostly) -> None:
    fs = [_f("skip")] * n_skip + [_f("ok")] * n_other
    assert summarize(fs)["mostly_skipped"] is mostly


def test_summary_counts_categories_and_not_judged() -> None:
    fs = [_f("skip", "system", "skipped: no host"), _f("skip", "platform", "skipped: no AMD GPU"),
          _f("skip", "active", "skipped: no --deep"), _f("warn", "driver"), _f("skip", "driver"),
          _f("ok", "libraries")]
    s = summarize(fs)
    assert s["checks"] == 6
    assert s["counts"] == {"crash": 0, "fail": 0, "warn": 1, "ok": 1, "skip": 4}
    assert s["categories"] == {"driver": "warn", "libraries": "ok", "platform": "skip", "system": "skip",
                               "active": "skip"}
    assert s["categories_with_issues"] == 1
    assert s["not_judged"] == {"system": "no host"}

"""Garbage in (any well-typed but nonsensical facts, as a hand-edited file could hold): every check
still returns a finding, and none crashes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigcheck.doctor import all_checks, run_checks
from rigcheck.facts import Facts


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_type(Facts))
def test_no_check_crashes_on_arbitrary_facts(facts):
    res = run_checks(facts)
    # Signature findings (sig.*) come on top of the one-per-check findings when a line matches.
    assert len([f for f in res if not f.id.startswith("sig.")]) == len(all_checks())
    crashed = [(f.id, f.summary) for f in res if f.status == "crash"]
    assert not crashed, crashed
    assert all(f.summary for f in res)

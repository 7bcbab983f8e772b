"""Any text in, never a crash: arbitrary text, bytes and mixes of real pastes with garbage either
give facts the doctor can run on, or one FactsError line (issue 11, item 7)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigcheck.doctor import run_checks
from rigcheck.facts import FactsError
from rigcheck.probe.importers import load_facts_file, parse_text

PASTES = Path(__file__).parent / "fixtures" / "pastes"
SNIPPETS = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(PASTES.glob("*.txt"))]
LINES = [ln for s in SNIPPETS for ln in s.splitlines() if ln.strip()]


def _ok(text: str) -> None:
    try:
        facts = parse_text(text, "fuzz.txt")
    except FactsError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.txt: ") and "\n" not in msg.strip()
        assert "could not be read" not in msg, msg          # a reader bug, not bad input
        return
    crashed = [(f.id, f.summary) for f in run_checks(facts) if f.status == "crash"]
    assert not crashed, crashed


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=3000))
def test_arbitrary_text(text: str) -> None:
    _ok(text)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=200),
                          st.sampled_from(SNIPPETS).map(lambda s: s[: len(s) // 2])),
                min_size=1, max_size=40))
def test_mixed_real_lines_and_garbage(parts: list[str]) -> None:
    _ok("\n".join(parts))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_from_a_file(tmp_path_factory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fz") / "paste.bin"
    p.write_bytes(data)
    try:
        facts = load_facts_file(p)
    except FactsError as exc:
        assert str(exc).startswith(str(p)) and "could not be read" not in str(exc)
        return
    assert not [f for f in run_checks(facts) if f.status == "crash"]

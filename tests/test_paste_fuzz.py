"""Any text in, never a crash: arbitrary text, bytes and mixes of real pastes with garbage either
give facts the doctor can run on, or one FactsError line (issue 11, item 7). What comes out is a
well-formed report (each registered check once, one-line summaries, a fix for every problem), and
a real error line keeps its diagnosis whatever garbage surrounds it."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigcheck.doctor import run_checks
from rigcheck.doctor.findings import Finding, Status
from rigcheck.doctor.registry import all_checks
from rigcheck.facts import FactsError
from rigcheck.probe.importers import clean_paste, load_facts_file, parse_text

PASTES = Path(__file__).parent / "fixtures" / "pastes"
SNIPPETS = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(PASTES.glob("*.txt"))]
LINES = [ln for s in SNIPPETS for ln in s.splitlines() if ln.strip()]
CHECK_IDS = sorted(c.id for c in all_checks())
# Lines copied from the fixtures, each with the signature (rigcheck/doctor/signatures/*.toml) that
# names it. None of the three has a ``covered_by``: no other line or check can take it over.
KNOWN = [
    ("RuntimeError: cuda runtime error (39) : uncorrectable ECC error encountered at "
     "/pytorch/aten/src/THC/THCCachingHostAllocator.cpp:265", "sig.ecc.uncorrectable_cuda"),
    ("RuntimeError: DataLoader worker (pid 3216) is killed by signal: Bus error. It is possible "
     "that dataloader's workers are out of shared memory. Please try to raise your shared memory "
     "limit.", "sig.dataloader.bus_error_shm"),
    ("[Fri Aug 30 11:43:09 2024] NVRM: Xid (PCI:0000:cb:00): 13, pid='<unknown>', name=<unknown>, "
     "Graphics SM Warp Exception on (GPC 7, TPC 7, SM 0): Illegal Instruction Parameter",
     "sig.xid.13"),
]
_ID = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")


def _well_formed(findings: list[Finding]) -> None:
    """Every registered check reports exactly once; the rest are signature findings, one per
    signature; each finding has a dotted id, one status, a one-line summary, and a fix when it is
    a problem (a harmless signature has none)."""
    ids = [f.id for f in findings]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert sorted(i for i in ids if not i.startswith("sig.")) == CHECK_IDS
    for f in findings:
        assert _ID.fullmatch(f.id), f.id
        assert isinstance(f.status, Status) and f.status is not Status.CRASH, (f.id, f.summary)
        assert f.summary.strip() and "\n" not in f.summary, (f.id, f.summary)
        if f.status in (Status.FAIL, Status.WARN):
            assert f.fix.strip(), f.id
        if f.id.startswith("sig.") and f.status is Status.OK:
            assert f.summary.startswith("harmless: ") and not f.fix, f.id


def _ok(text: str) -> list[Finding] | str:
    """The findings for ``text`` (well-formed), or the one line that refuses it."""
    try:
        facts = parse_text(text, "fuzz.txt")
    except FactsError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.txt: ") and "\n" not in msg.strip()
        assert "could not be read" not in msg, msg          # a reader bug, not bad input
        return msg
    assert facts.origin in ("paste", "collect_env", "nvidia-smi", "nvidia-smi-q", "probe"), \
        facts.origin
    findings = run_checks(facts)
    _well_formed(findings)
    return findings


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=3000))
def test_arbitrary_text(text: str) -> None:
    got = _ok(text)
    if not text.strip():                              # empty: refused, never an empty report
        assert got == "fuzz.txt: empty; nothing to read"
    elif isinstance(got, str):
        # refused as not a report at all, or (after a quote mark or byte-order mark) as JSON
        assert got.startswith("fuzz.txt: nothing rigcheck recognises (not a rigcheck facts file, "
                              "no known error message, version or tool report); paste ") or \
            clean_paste(text).lstrip().startswith("{"), got
    else:
        assert _ok(text) == got                       # the same text, the same report


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=200),
                          st.sampled_from(SNIPPETS).map(lambda s: s[: len(s) // 2])),
                min_size=1, max_size=40),
       st.sampled_from(KNOWN), st.integers(min_value=0, max_value=40))
def test_mixed_real_lines_and_garbage(parts: list[str], known: tuple[str, str], at: int) -> None:
    line, sig = known
    parts.insert(min(at, len(parts)), line)
    findings = _ok("\n".join(parts))
    if isinstance(findings, str):                      # refused: a part made it JSON
        assert clean_paste("\n".join(parts)).lstrip().startswith("{"), findings
        return
    assert sig in {f.id for f in findings}, (sig, [f.id for f in findings if f.id.startswith("sig.")])


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
    _well_formed(run_checks(facts))

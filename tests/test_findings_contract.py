"""The one findings contract (issue 8 item 4): one Finding type for checks, finders, --deep and
the fleet; a str-valued Status so JSON stays as it was; every check typed to return Outcome."""

from __future__ import annotations

import json
import typing

import pytest

from rigcheck.doctor import all_checks, registry, run_checks, summarize
from rigcheck.doctor.findings import (
    CATEGORIES,
    Finding,
    Outcome,
    Status,
    ok,
    skip,
    worst,
)
from rigcheck.facts import AmdFacts, AmdGpu, Facts, PasteLine, from_json, to_json
from rigcheck.fleet import NodeFacts, compare
from tests.doctor_factories import cpu_box, healthy


def test_status_values_are_the_five_published_strings():
    # The README's JSON interface lists exactly these.
    assert {s.value for s in Status} == {"ok", "warn", "fail", "skip", "crash"}
    assert Status.OK == "ok" and Status("warn") is Status.WARN


@pytest.mark.parametrize("status,text", [(Status.OK, "ok"), (Status.CRASH, "crash")])
def test_status_prints_and_serialises_as_its_value(status, text):
    assert f"{status}" == text and str(status) == text and f"{status:>6}" == f"{text:>6}"
    assert json.dumps({"s": status, status: 1}) == f'{{"s": "{text}", "{text}": 1}}'


def test_finding_coerces_plain_strings_and_rejects_unknown_ones():
    f = Finding(id="x.y", category="driver", status="warn", summary="s")
    assert f.status is Status.WARN and f.is_problem
    with pytest.raises(ValueError, match="x.z.*'meh'"):
        Finding(id="x.z", category="driver", status="meh", summary="s")
    with pytest.raises(ValueError, match="unknown category 'nope'"):
        Finding(id="x.z", category="nope", status="ok", summary="s")
    with pytest.raises(ValueError, match="'bad'"):
        Outcome("bad", "s")


def test_is_problem_exactly_for_fail_warn_crash():
    assert {s for s in Status if s.is_problem} == {Status.FAIL, Status.WARN, Status.CRASH}


@pytest.mark.parametrize("statuses,expected", [
    ([], "skip"), (["skip", "skip"], "skip"), (["skip", "ok"], "ok"), (["ok", "warn"], "warn"),
    (["warn", "fail", "ok"], "fail"), (["fail", "crash"], "crash"), ([Status.OK], "ok"),
])
def test_worst_status_of_a_category(statuses, expected):
    assert worst(statuses) == expected


def test_skip_without_a_reason_still_reads():
    assert skip(None).summary == "skipped: not enough facts to judge"
    assert skip("no GPU").summary == "skipped: no GPU"


def test_to_dict_is_the_published_record():
    f = Finding(id="a.b", category="system", status=Status.FAIL, summary="s", detail="d",
                fix="x", source="https://example.org", nodes=("n1",))
    d = f.to_dict()
    assert d == {"id": "a.b", "category": "system", "status": "fail", "summary": "s",
                 "detail": "d", "fix": "x", "source": "https://example.org"}
    assert type(d["status"]) is str


def test_summarize_counts_and_categories():
    fs = [Finding("a", "driver", "ok", "s"), Finding("b", "driver", "warn", "s"),
          Finding("c", "system", "skip", "s"), Finding("d", "libraries", "crash", "s")]
    s = summarize(fs)
    assert s["counts"] == {"crash": 1, "fail": 0, "warn": 1, "ok": 1, "skip": 1}
    assert s["categories"] == {"driver": "warn", "libraries": "crash", "system": "skip"}
    assert s["categories_with_issues"] == 2 and s["failed"] is True and s["checks"] == 4
    assert summarize(fs[:3])["failed"] is False


def test_every_check_is_typed_to_return_outcome():
    for chk in all_checks():
        hints = typing.get_type_hints(chk.fn)
        assert hints.get("return") is Outcome, chk.id
        assert hints.get("ctx") is registry.Context, chk.id


def test_fleet_findings_are_findings():
    nodes = [NodeFacts("a", healthy()), NodeFacts("b", healthy())]
    found = compare(nodes, missing=["rank 2"])
    assert found and all(type(f) is Finding and f.category == "fleet" for f in found)
    missing = next(f for f in found if f.id == "fleet.missing")
    assert missing.status is Status.FAIL and missing.nodes == ("rank 2",)
    assert "FleetFinding" not in dir(__import__("rigcheck.fleet", fromlist=["x"]))


def test_fleet_json_record_keys_unchanged():
    from rigcheck.ui.fleet_view import fleet_dict

    nodes = [NodeFacts("a", healthy()), NodeFacts("b", cpu_box())]
    data = json.loads(json.dumps(fleet_dict(nodes, [], compare(nodes), "facts-dir")))
    assert all(set(f) == {"id", "status", "summary", "detail", "fix", "nodes"}
               for f in data["findings"])
    assert set(data["summary"]) <= {"ok", "warn", "fail", "skip"}


def _fake_finder_checks(fn):
    return [registry.Finder("sig.test", "libraries", "test finder", fn)]


def test_finder_findings_join_their_category_in_order():
    def fn(facts, ctx):
        return [Finding("sig.one", "driver", "fail", "one"), Finding("sig.two", "system", "ok", "two")]

    out = run_checks(cpu_box(), checks=[c for c in all_checks() if c.id == "sys.swap"]
                     + [c for c in all_checks() if c.id == "driver.loaded"],
                     finders=_fake_finder_checks(fn))
    assert [f.id for f in out] == ["driver.loaded", "sig.one", "sys.swap", "sig.two"]


@pytest.mark.parametrize("fn,why", [
    (lambda facts, ctx: 1 / 0, "ZeroDivisionError"),
    (lambda facts, ctx: [ok("an Outcome is not a Finding")], "not Finding"),
])
def test_a_broken_finder_is_one_crash_finding(fn, why):
    out = run_checks(cpu_box(), checks=[], finders=_fake_finder_checks(fn))
    assert len(out) == 1 and out[0].status is Status.CRASH and out[0].id == "sig.test"
    assert why in out[0].summary


def test_fleet_is_a_category():
    assert "fleet" in CATEGORIES


def test_new_fact_sections_round_trip():
    f = Facts()
    f.amd = AmdFacts(available=True, rocm_version="6.1.2",
                     gpus=[AmdGpu(index=0, name="AMD Radeon RX 7900 XTX", gfx_target="gfx1100")])
    f.paste_lines = [PasteLine(3, "RuntimeError: CUDA error: no kernel image")]
    f.torch.stack = {"bitsandbytes": "0.43.1"}
    f.torch.mps_built, f.host.macos_version = True, "14.4"
    back = from_json(to_json(f))
    assert back.amd.gpus[0].gfx_target == "gfx1100" and back.paste_lines[0].line == 3
    assert back.torch.stack == {"bitsandbytes": "0.43.1"} and back.host.macos_version == "14.4"


def test_mostly_skipped_names_what_was_not_judged():
    fs = [Finding("a", "driver", "skip", "skipped: not in a collect_env paste"),
          Finding("b", "driver", "skip", "skipped: not in a collect_env paste"),
          Finding("c", "gpu_health", "skip", "skipped: no GPU facts"),
          Finding("d", "platform", "skip", "skipped: no AMD GPU"),
          Finding("e", "system", "ok", "fine")]
    s = summarize(fs)
    assert s["mostly_skipped"] is True
    assert s["not_judged"] == {"driver": "not in a collect_env paste", "gpu_health": "no GPU facts"}
    # just past the boundary: half skipped is not "most"
    assert summarize(fs[2:4] + [fs[4], fs[4]])["mostly_skipped"] is False


def test_text_summary_is_not_a_clean_bill_when_most_was_skipped(tmp_path):
    from typer.testing import CliRunner

    from rigcheck.facts import Facts, to_json
    from rigcheck.ui.app import app

    facts = Facts()
    facts.not_collected = {k: "not in this paste" for k in
                           ("nvml", "driver", "host", "torch", "python", "env", "amd")}
    path = tmp_path / "f.json"
    path.write_text(to_json(facts))
    out = CliRunner().invoke(app, ["doctor", "--facts", str(path)]).output
    assert "No issues found!" not in out and "not a clean bill of health" in out
    assert "Not judged: NVIDIA driver (not in this paste)" in out

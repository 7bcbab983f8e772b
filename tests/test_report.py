"""The report's pure parts: the model built from JSON outputs, the SVG charts, HTML and Markdown.

Expectations are written by hand from small inputs (prices, speeds, verdicts), not from the code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rigcheck.report import html, markdown, svg
from rigcheck.report.model import (
    bench_section,
    build_report,
    build_section,
    doctor_section,
    estimates_section,
    frontier_points,
)

FIX = Path(__file__).resolve().parent / "fixtures"
RUN = json.loads((FIX / "bench" / "cpu_quick_loaded.json").read_text())


def _build(total: float, train_s: float, gpu: str) -> dict:
    return {"total_inr": total, "left_inr": 125000 - total, "total_train_s": train_s,
            "power_w": 300, "psu_w": 650,
            "parts": [{"kind": "gpu", "name": gpu, "count": 1, "price_inr": total / 2,
                       "price_kind": "street", "price_date": "2026-01-01"},
                      {"kind": "cpu", "name": "CPU <x&y>", "count": 1, "price_inr": total / 2,
                       "price_kind": "derived", "price_date": "2025-01-01"}],
            "targets": []}


def test_frontier_keeps_only_builds_no_cheaper_build_beats():
    rec = {"builds": [_build(120000, 43200, "A"),      # 2 trainings/day, the pick
                      _build(100000, 86400, "B"),      # 1/day, cheaper: on the frontier
                      _build(110000, 86400, "C"),      # 1/day, dearer than B: not on it
                      _build(90000, 172800, "D")],     # 0.5/day, cheapest: on it
           "upgrade": {"build": _build(150000, 28800, "E")}}   # 3/day: on it
    pts = {p.label: p for p in frontier_points(rec)}
    assert {k for k, p in pts.items() if p.on_frontier} == {"A", "B", "D", "E"}
    assert pts["A"].highlight and not pts["E"].highlight
    assert pts["A"].y == 2.0 and pts["D"].y == 0.5


def test_frontier_includes_the_recommenders_own_and_marks_the_pick_once():
    pick = _build(120000, 43200, "A")
    rec = {"builds": [pick],
           "frontier": [{"total_inr": 50000, "speed": 0.4, "parts": []},
                        {"total_inr": 90000, "speed": 1.0, "parts": []}, dict(pick)]}
    pts = frontier_points(rec)
    assert [(p.x, p.y) for p in pts] == [(50000, 0.4), (90000, 1.0), (120000, 2.0)]
    assert [p.highlight for p in pts] == [False, False, True]
    assert all(p.on_frontier for p in pts)


def test_build_section_prices_in_rupees_and_marks_derived():
    sec = build_section({"budget": {"inr": 125000}, "builds": [_build(121499, 43200, "RTX")]})
    parts = sec.tables[0].rows
    assert parts[0][2] == "₹60,750" and parts[1][2] == "≈₹60,750"
    assert parts[-1][1:3] == ("Total", "₹1,21,499")
    assert {c.name for c in sec.charts} == {"price-breakdown", "frontier"}


def test_no_build_says_the_cheapest():
    sec = build_section({"budget": {"inr": 20000}, "builds": [], "cheapest_total_inr": 61000})
    assert not sec.available and "₹61,000" in sec.lead


def test_noisy_figures_are_flagged_wherever_used():
    bench = bench_section(RUN)
    noisy = [b for c in bench.charts for b in c.bars if b.flagged]
    assert noisy and all(b.flagged in ("noisy", "too short") for b in noisy)
    est = estimates_section(RUN, [])
    lenet = [r for r in est.tables[0].rows if r[0] == "lenet5-mnist"][0]
    assert "noisy: not trustworthy" in lenet[-1]


def test_missing_inputs_say_why():
    rep = build_report(missing={"bench": "no saved run", "build": "no budget"})
    by_id = {s.id: s for s in rep.sections}
    assert not by_id["bench"].available and by_id["bench"].lead == "no saved run"
    assert not by_id["doctor"].available
    text = html.render(rep)
    assert "Not available: no saved run" in text


def test_doctor_section_lists_problems_first_with_fix_and_id():
    doc = {"findings": [
        {"id": "a.ok", "status": "ok", "summary": "fine"},
        {"id": "b.warn", "status": "warn", "summary": "slow disk", "fix": "move it"},
        {"id": "c.fail", "status": "fail", "summary": "driver too old", "fix": "update"}],
        "summary": {"counts": {"ok": 1, "warn": 1, "fail": 1}}}
    sec = doctor_section(doc)
    assert [s for s, _ in sec.items] == ["fail", "warn"]
    assert sec.items[0][1] == "driver too old. Fix: update [c.fail]"
    assert sec.lead == "3 checks: 1 failed, 1 warning, 1 ok."


def test_bars_scale_to_the_largest_and_escape_labels():
    out = svg.bars("t", "T <1>", [svg.Bar("a&b", 50, "50"), svg.Bar("c", 100, "100")])
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="([\d.]+)"', out)]
    assert widths[1] == svg.WIDTH - svg.LABEL_W - svg.VALUE_W
    assert abs(widths[0] - widths[1] / 2) < 0.11
    assert "a&amp;b" in out and "T &lt;1&gt;" in out and "a&b" not in out


def test_html_is_self_contained():
    rep = build_report(bench=RUN, recommend={"budget": {"inr": 125000},
                                             "builds": [_build(121499, 43200, "RTX")]})
    text = html.render(rep)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<script" not in text
    for c in rep.charts:
        assert f'data-chart="{c.name}"' in text
    assert len(text.encode()) < 1_000_000


def test_markdown_tables_escape_pipes_and_keep_sections():
    rep = build_report(bench=RUN, recommend={"budget": {"inr": 125000},
                                             "builds": [_build(121499, 43200, "RT|X")]})
    md = markdown.render(rep)
    assert "## Bench: what this machine really measured" in md
    assert "RT\\|X" in md
    assert "| part | item | price | price seen | kind |" in md


def test_doctor_information_is_shown_as_info_not_hidden_nor_a_problem():
    doc = {"findings": [
        {"id": "ready.dataset_disk", "status": "ok",
         "summary": "for information (default targets; none named with --target): too small",
         "fix": "free 60 GB"},
        {"id": "a.skip", "status": "skip", "summary": "skipped: no GPU"}],
        "summary": {"counts": {"ok": 1, "skip": 1}}}
    sec = doctor_section(doc)
    assert [s for s, _ in sec.items] == ["ok", "info"]
    assert "1 could not run here" in sec.items[0][1]

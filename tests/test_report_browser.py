"""`rigcheck report` opened in a real headless browser (Debian's Chromium, driven by Playwright).

Checks what a reader would see: the page loads with no console error or warning, nothing is
fetched but the file itself, every chart of the report is drawn and non-empty, the screenshot is
not blank, and the file is under 1 MB. Skips, saying why, only where no Chromium is installed
(.ci/run installs it, so CI runs these).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rigcheck.report import html
from rigcheck.report.model import build_report
from rigcheck.ui.app import app
from tests.browser import chromium_path, look

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
BENCH_RUN = FIX / "bench" / "cpu_quick_loaded.json"

needs_browser = pytest.mark.skipif(
    chromium_path() is None,
    reason="no Chromium installed (apt-get install chromium; .ci/run does this in CI)")


def _json(*args: str) -> dict:
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def _check(page: Path, expected_charts: set[str]) -> None:
    """``expected_charts``: the charts the page must hold (and the page may hold no others than
    those its HTML declares)."""
    declared = set(re.findall(r'data-chart="([^"]+)"', page.read_text(encoding="utf-8")))
    assert expected_charts <= declared
    expected_charts = declared
    seen = look(page)
    assert seen.console_errors == []
    assert seen.requests == [page.resolve().as_uri()], "the page fetched something"
    names = {c["name"] for c in seen.charts}
    assert names == expected_charts
    for c in seen.charts:
        assert c["width"] > 200 and c["height"] > 50, c
        assert c["shapes"] >= 2, f"chart {c['name']} drew nothing"
    screen = seen.screen_stats
    assert screen["colours"] > 20 and screen["ink"] > 0.03, screen
    assert len(seen.chart_stats) == len(expected_charts)
    for c, shot in zip(seen.charts, seen.chart_stats):
        assert shot["colours"] >= 3 and shot["ink"] > 0.02, (c["name"], shot)


@needs_browser
def test_report_from_every_input_renders_in_chromium(tmp_path: Path) -> None:
    facts = json.loads((FIX / "facts" / "rtx3060_consumer.json").read_text())
    rep = build_report(
        facts=facts,
        doctor=_json("doctor", "--facts", str(FIX / "facts" / "rtx3060_consumer.json")),
        bench=json.loads(BENCH_RUN.read_text()),
        estimates=[_json("estimate", "--gpu", "RTX 3060 12 GB", "--target", "lenet5-mnist")],
        recommend=_json("recommend", "--budget", "1.25L", "--top", "10", "--allow-unsourced"),
        generated_at="2026-12-02 16:40 UTC", rigcheck_version="test")
    page = tmp_path / "rig.html"
    page.write_text(html.render(rep), encoding="utf-8")
    assert page.stat().st_size < 1_000_000
    _check(page, {"bench-vs-expected", "bench-training", "price-breakdown", "frontier"})


@needs_browser
@pytest.mark.slow
def test_rigcheck_report_command_on_this_machine_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "rig.html"
    proc = subprocess.run(
        [sys.executable, "-m", "rigcheck", "report", "-o", str(page), "--budget", "1.25L",
         "--allow-unsourced", "--bench-run", str(BENCH_RUN)], capture_output=True, text=True,
        timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert f"Report written to {page}" in proc.stdout
    assert page.stat().st_size < 1_000_000
    text = page.read_text(encoding="utf-8")
    for section in ("doctor", "bench", "estimates", "build"):
        assert f'<section id="{section}"><h2>' in text
    _check(page, {"bench-vs-expected", "bench-training", "price-breakdown", "frontier"})

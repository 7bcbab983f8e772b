"""bench's text says what it did not do and marks what it cannot trust (issue 12 item 4),
rendered from a real saved run of a loaded 2-core machine (CV up to 114%)."""

from __future__ import annotations

import json
from pathlib import Path

from rigcheck.runs.results import BenchRun
from rigcheck.ui import bench_cmd

RUN = BenchRun.from_dict(json.loads(
    (Path(__file__).parent / "fixtures" / "bench" / "cpu_quick_loaded.json").read_text()))


def _text(capsys) -> str:
    bench_cmd._render(RUN, None, None)
    return capsys.readouterr().out


def _row(text: str, recipe: str) -> str:
    table = text.split("Target recipes on this machine", 1)[1]
    return next(line for line in table.splitlines() if line.strip().startswith(recipe + " "))


def test_a_noisy_figure_does_not_feed_to_train_unflagged(capsys):
    text = _text(capsys)
    row = _row(text, "lenet5-mnist")                    # train-lenet5-mnist: noisy, CV 91%
    assert "noisy!" in row and "8.9 min?" in row
    assert "not trustworthy" in text


def test_every_target_the_run_skipped_is_listed_with_reason_and_flag(capsys):
    text = _text(capsys)
    skipped = [s.name.removeprefix("train-") for s in RUN.skipped if s.name.startswith("train-")]
    assert len(skipped) >= 5
    for recipe in skipped:
        assert "not timed" in _row(text, recipe)
        line = next(x for x in text.splitlines() if x.strip().startswith(f"{recipe} not timed:"))
        assert "--full" in line or "--only" in line


def test_progress_is_one_line_per_measured_figure(capsys):
    from types import SimpleNamespace as E

    from rigcheck.runs.results import Figure

    p = bench_cmd._Progress(live=False)
    p(E(kind="start", index=0, total=3, label="GEMM fp32", name="gemm-fp32"))
    p(E(kind="done", index=0, total=3, figure=Figure("gemm-fp32", 390.0, "GFLOP/s")))
    p(E(kind="start", index=1, total=3, label="GEMM tf32", name="gemm-tf32"))
    p(E(kind="skip", index=1, total=3, name="gemm-tf32", reason="not on a CPU", figure=None))
    assert capsys.readouterr().err.splitlines() == ["bench [1/3] gemm-fp32: 390 GFLOP/s"]

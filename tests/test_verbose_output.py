"""-v shows more on the commands whose default output summarises: recommend lists each part it
left out and why, catalog names each row's source, probe shows when and by what the facts were
collected and the LLM-stack libraries it found. Without -v those details stay out."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rigcheck import facts as factsmod
from rigcheck.ui import common
from rigcheck.ui.app import app

FIXTURES = Path(__file__).parent / "fixtures" / "facts"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_recommend_verbose_lists_each_part_left_out():
    data = json.loads(invoke("recommend", "--budget", "150000INR", "--json").stdout)
    left_out = data["excluded_parts"]
    assert left_out, "the bundled catalog has recalled prices, so some parts are left out"
    plain = invoke("recommend", "--budget", "150000INR")
    loud = invoke("recommend", "--budget", "150000INR", "-v")
    assert plain.exit_code == loud.exit_code == 0
    some_id = sorted(left_out)[0]
    assert f"  {some_id}: " in loud.stdout
    assert f"  {some_id}: " not in plain.stdout
    assert "-v lists them" in plain.stdout


def test_catalog_verbose_names_each_rows_source():
    plain = invoke("catalog", "cases")
    loud = invoke("catalog", "cases", "-v")
    assert plain.exit_code == loud.exit_code == 0
    assert "Sources" in loud.stdout and "Sources" not in plain.stdout
    # the case the data engineer priced from corsair.com in August 2026
    assert "corsair.com" in loud.stdout.replace("\n", "")


def test_probe_verbose_shows_collection_details_and_libraries(capsys, monkeypatch):
    from rigcheck.ui import probe_cmd
    facts = factsmod.from_json((FIXTURES / "h100_sxm_8x.json").read_text())
    monkeypatch.setattr(common.STATE, "verbose", 0)
    probe_cmd.render_summary(facts)
    plain = capsys.readouterr().out
    monkeypatch.setattr(common.STATE, "verbose", 1)
    probe_cmd.render_summary(facts)
    loud = capsys.readouterr().out
    assert "Interpreter" in loud and "Interpreter" not in plain
    assert "Collected" in loud and "Collected" not in plain
    assert "LLM-stack libraries" in loud and "LLM-stack libraries" not in plain


def test_bench_verbose_shows_the_timing_behind_each_figure(capsys, monkeypatch):
    from rigcheck.runs.results import BenchRun, Figure, Machine
    from rigcheck.ui import bench_cmd
    run = BenchRun(machine=Machine(fingerprint="fp", cpu_model="Fake CPU", threads=2),
                   started_at="2026-12-02T10:00:00+00:00")
    run.results.append(Figure("gemm-fp32", 123.0, "GFLOP/s", label="GEMM fp32", note="n",
                              median_s=0.044, iqr_s=0.001, runs=17, params={"n": 2048}))
    monkeypatch.setattr(common.STATE, "verbose", 0)
    bench_cmd._render(run, None, None)
    plain = capsys.readouterr().out
    monkeypatch.setattr(common.STATE, "verbose", 1)
    bench_cmd._render(run, None, None)
    loud = capsys.readouterr().out
    assert "17 timed runs" in loud and "n=2048" in loud
    assert "17 timed runs" not in plain


def test_doctor_verbose_says_what_each_source_is():
    from rigcheck.ui.doctor_cmd import source_label
    assert source_label("https://github.com/janhq/jan/issues/183") == "a real report of this problem:"
    assert source_label("https://github.com/pytorch/pytorch/pull/141063") == "a real report of this problem:"
    assert source_label("https://github.com/NVIDIA/DCGM/blob/master/nvvs/src/Software.cpp") == \
        "how a reference tool checks it:"
    assert source_label("https://pytorch.org/docs/stable/notes/cuda.html") == "documented at:"
    res = invoke("doctor", "--facts", str(FIXTURES / "rtx4090_pcie_x4_load.json"), "-v")
    assert "a real report of this problem: https://github.com/" in res.stdout.replace("\n", " ")

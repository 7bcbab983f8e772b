"""``--deep`` active tests: CPU parts run here, GPU parts skip with a reason; findings mapping."""

from __future__ import annotations

import sys

import pytest

from rigcheck.bench import deep
from rigcheck.bench.deep import DeepReport, DeepResult
from rigcheck.doctor.deep_findings import deep_findings


def test_link_bandwidth_table():
    assert deep.link_gbs(4, 16) == pytest.approx(31.5, rel=0.01)
    assert deep.link_gbs(3, 4) == pytest.approx(3.94, rel=0.01)
    assert deep.link_gbs(None, 16) is None


def test_run_deep_on_this_machine_runs_gradcheck_and_skips_gpu_parts():
    torch = pytest.importorskip("torch")
    report = deep.run_deep()
    by = {}
    for r in report.results:
        by.setdefault(r.name, []).append(r)
    cpu = [r for r in by["gradcheck"] if r.device == "cpu"][0]
    assert cpu.status == "ok" and cpu.value < 1e-5
    if not torch.cuda.is_available():
        for name in ("alloc", "matmul", "h2d_pinned", "p2p"):
            assert by[name][0].status == "skip" and by[name][0].summary.startswith("skipped: ")
    assert report.seconds < 30


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    torch = pytest.importorskip("torch")

    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.tanh()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (1 - x.tanh() ** 2) * 1.01   # 1% off

    monkeypatch.setattr(deep, "_mlp", lambda x, w1, b1, w2, b2: Wrong.apply(x @ w1 + b1) @ w2 + b2)
    r = deep.check_gradcheck(torch, "cpu")
    assert r.status == "fail" and r.value > 1e-5


def test_child_process_wrapper_reports_a_dead_child():
    r = deep.run_in_child(python=sys.executable + "-does-not-exist")
    assert r.error and not r.results


@pytest.mark.slow
def test_child_process_wrapper_round_trips():
    pytest.importorskip("torch")
    r = deep.run_in_child(timeout_s=120)
    assert r.error is None and any(x.name == "gradcheck" and x.status == "ok" for x in r.results)


def test_deep_findings_aggregate_per_kind():
    rep = DeepReport(results=[
        DeepResult("matmul", "cuda:0", "ok", "max relative error 1e-6"),
        DeepResult("matmul", "cuda:1", "fail", "max relative error 3e-1"),
        DeepResult("h2d_pinned", "cuda:0", "warn", "pinned 14 GB/s = 45% of the Gen4 x16 link"),
        DeepResult("p2p", "cuda", "skip", "skipped: one GPU"),
    ])
    by = {f.id: f for f in deep_findings(rep)}
    assert by["deep.matmul"].status == "fail" and "cuda:1" in by["deep.matmul"].summary
    assert by["deep.matmul"].fix
    assert by["deep.h2d_pinned"].status == "warn"
    assert by["deep.p2p"].status == "skip" and by["deep.p2p"].summary == "skipped: one GPU"


def test_deep_findings_when_torch_is_missing():
    fs = deep_findings(DeepReport(error="torch import failed: ModuleNotFoundError"))
    assert fs and all(f.status == "skip" and "torch import failed" in f.summary for f in fs)


@pytest.mark.gpu
def test_deep_on_a_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no GPU")
    report = deep.run_deep({0: (4, 16)})
    assert report.seconds < 30
    assert all(r.status in ("ok", "warn", "skip") for r in report.results), report.results

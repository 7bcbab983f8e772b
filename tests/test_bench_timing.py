"""The timing harness, driven by a fake clock: no real timing, exact answers."""

from __future__ import annotations

import pytest

from rigcheck.bench.timing import measure, summarise, verdict


class FakeClock:
    """A clock that only moves when the measured function 'runs'."""

    def __init__(self, durations: list[float]) -> None:
        self.now = 0.0
        self.durations = list(durations)
        self.calls = 0

    def __call__(self) -> float:
        return self.now

    def work(self) -> None:
        self.calls += 1
        self.now += self.durations.pop(0) if self.durations else 1.0


def test_summarise_median_quartiles_and_cv() -> None:
    t = summarise([1.0, 2.0, 3.0, 4.0, 5.0])
    assert t.median_s == 3.0
    assert (t.q1_s, t.q3_s) == (2.0, 4.0)
    assert t.iqr_s == 2.0
    # stdev of 1..5 is sqrt(2.5) = 1.5811; / mean 3
    assert t.cv_pct == pytest.approx(52.70, abs=0.01)
    assert t.verdict.startswith("noisy: CV 53% > 5%")


def test_summarise_steady_samples_are_ok() -> None:
    t = summarise([0.100, 0.101, 0.099, 0.100, 0.100, 0.100])
    assert t.cv_pct < 1.0
    assert t.verdict == "ok"


def test_verdict_too_short_wins_over_noisy() -> None:
    assert verdict(30.0, 3).startswith("too short: 3 runs < 5")
    assert verdict(4.9, 5) == "ok"
    assert verdict(5.1, 5) == "noisy: CV 5% > 5%, re-run on an idle machine"
    assert verdict(12.0, 20, cv_limit_pct=10).startswith("noisy: CV 12% > 10%")


def test_summarise_rejects_no_samples() -> None:
    with pytest.raises(ValueError):
        summarise([])


def test_measure_excludes_warmup_and_stops_at_budget() -> None:
    # Two slow warm-up calls (10 s each) must not count; then 0.5 s per call.
    clock = FakeClock([10.0, 10.0] + [0.5] * 100)
    t = measure(clock.work, clock=clock, warmup=2, min_runs=3, max_runs=100, budget_s=2.0)
    assert t.warmup == 2
    assert all(s == 0.5 for s in t.samples_s)
    # budget 2.0 s at 0.5 s per call: stops once 4 samples (2.0 s) are in.
    assert t.runs == 4
    assert t.median_s == 0.5
    assert t.verdict == "ok"
    assert clock.calls == 2 + 4


def test_measure_reaches_min_runs_even_past_the_budget() -> None:
    clock = FakeClock([1.0] * 50)
    t = measure(clock.work, clock=clock, warmup=0, min_runs=5, budget_s=0.1, max_s=100)
    assert t.runs == 5
    assert t.verdict == "ok"


def test_measure_hard_limit_gives_too_short() -> None:
    clock = FakeClock([4.0] * 50)
    t = measure(clock.work, clock=clock, warmup=0, min_runs=5, budget_s=1.0, max_s=10.0)
    # 4 + 4 = 8 s; a third call would cross 10 s.
    assert t.runs == 2
    assert t.verdict.startswith("too short: 2 runs")


def test_measure_batches_fast_calls_and_syncs_each_block() -> None:
    clock = FakeClock([0.001] * 10_000)
    syncs = []
    t = measure(clock.work, clock=clock, sync=lambda: syncs.append(clock.now), warmup=1,
                min_runs=5, max_runs=5, budget_s=0.0, max_s=100.0, min_sample_s=0.01)
    assert t.calls_per_sample == 10
    assert t.runs == 5
    assert t.median_s == pytest.approx(0.001)
    # one after warm-up, one after calibration, two per timed block
    assert len(syncs) == 2 + 2 * 5


def test_measure_max_runs_caps_samples() -> None:
    clock = FakeClock([0.01] * 1000)
    t = measure(clock.work, clock=clock, warmup=0, min_runs=2, max_runs=7, budget_s=100)
    assert t.runs == 7


def test_deadline_stops_blocks_and_warmup() -> None:
    from rigcheck.bench.timing import OutOfTime
    clock = FakeClock([1.0] * 100)
    t = measure(clock.work, clock=clock, warmup=1, min_runs=5, budget_s=100, deadline=4.5)
    # warm-up ends at 1, samples end at 2, 3, 4; a fourth would end at 5 > 4.5
    assert t.runs == 3 and t.verdict.startswith("too short")
    slow = FakeClock([10.0] * 10)
    with pytest.raises(OutOfTime):
        measure(slow.work, clock=slow, warmup=2, budget_s=1, deadline=5.0)
    assert slow.calls == 1          # the second warm-up call never started

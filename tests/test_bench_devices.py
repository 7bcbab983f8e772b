"""``bench --device mps|xpu``: accepted where torch has them, refused with the reason where not
(faked: this machine has neither)."""

from __future__ import annotations

import pytest
import torch

from rigcheck.bench import micro
from rigcheck.bench.runner import detect_device


class _FakeMps:
    def __init__(self, built: bool, available: bool):
        self._built, self._available = built, available

    def is_built(self):
        return self._built

    def is_available(self):
        return self._available


def test_mps_accepted_when_available(monkeypatch):
    monkeypatch.setattr(torch.backends, "mps", _FakeMps(True, True), raising=False)
    assert detect_device("mps").type == "mps"


@pytest.mark.parametrize("built,words", [(True, "built with MPS, but"), (False, "not built with MPS")])
def test_mps_refused_with_why(monkeypatch, built, words):
    monkeypatch.setattr(torch.backends, "mps", _FakeMps(built, False), raising=False)
    with pytest.raises(ValueError, match=words):
        detect_device("mps")


class _FakeXpu:
    def __init__(self, n: int):
        self.n, self.synced = n, []

    def is_available(self):
        return self.n > 0

    def device_count(self):
        return self.n

    def synchronize(self, device=None):
        self.synced.append(device)


def test_xpu_accepted_and_numbered(monkeypatch):
    monkeypatch.setattr(torch, "xpu", _FakeXpu(2), raising=False)
    assert detect_device("xpu:1").type == "xpu"
    with pytest.raises(ValueError, match="sees 2 XPU"):
        detect_device("xpu:2")


def test_xpu_refused_without_one(monkeypatch):
    monkeypatch.setattr(torch, "xpu", _FakeXpu(0), raising=False)
    with pytest.raises(ValueError, match="no Intel XPU"):
        detect_device("xpu")


def test_other_device_types_refused():
    with pytest.raises(ValueError, match="cpu, cuda, mps"):
        detect_device("meta")


def test_timing_synchronises_the_accelerator(monkeypatch):
    fake = _FakeXpu(1)
    monkeypatch.setattr(torch, "xpu", fake, raising=False)
    micro.sync_for(torch.device("xpu", 0))()
    assert fake.synced == [torch.device("xpu", 0)]
    assert micro.sync_for(torch.device("cpu")) is None


def test_cli_accepts_mps_and_says_why_not_here():
    from typer.testing import CliRunner

    from rigcheck.ui.app import app

    res = CliRunner().invoke(app, ["bench", "--device", "mps", "--quick"])
    assert res.exit_code == 2 and "MPS is not available" in res.output
    res = CliRunner().invoke(app, ["bench", "--device", "tpu"])
    assert res.exit_code == 2 and "mps (Apple) or xpu" in res.output

"""torchrun with 2 gloo ranks on loopback: the fleet doctor and the distributed bench, a rank
that dies and a rank that hangs. Each run is bounded in time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]


def torchrun(args, env_extra=None, timeout=240):
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1",
                "RIGCHECK_DATA_DIR": env.get("RIGCHECK_TEST_DATA_DIR", "")})
    env.update(env_extra or {})
    t0 = time.monotonic()
    proc = subprocess.run([*TORCHRUN, "-m", "rigcheck", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    return proc, time.monotonic() - t0


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RIGCHECK_TEST_DATA_DIR", str(tmp_path / "data"))


def first_json(text: str):
    start = text.index("{")
    return json.JSONDecoder().raw_decode(text[start:])[0]


def test_fleet_doctor_two_ranks():
    proc, _ = torchrun(["doctor", "--fleet", "--json", "--fleet-timeout", "60"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = first_json(proc.stdout)
    assert data["source"] == "torchrun" and data["world_size"] == 2
    assert sorted(n["rank"] for n in data["nodes"]) == [0, 1]
    assert data["missing"] == []
    ids = {f["id"]: f for f in data["findings"]}
    assert ids["fleet.torch"]["status"] == "ok"          # same machine, same torch
    assert ids["fleet.clock_skew"]["status"] == "ok"     # measured together
    assert stdout_once(proc.stdout)


def stdout_once(text: str) -> bool:
    """Only rank 0 prints the report."""
    return text.count('"findings"') == 1


def test_fleet_doctor_dead_rank_gives_partial_report():
    proc, elapsed = torchrun(["doctor", "--fleet", "--json", "--fleet-timeout", "30"],
                             {"RIGCHECK_FLEET_FAULT": "1:die"})
    assert proc.returncode != 0
    data = first_json(proc.stdout)
    assert "rank 1" in " ".join(data["missing"])
    assert any(f["id"] == "fleet.missing" and f["status"] == "fail" for f in data["findings"])
    assert elapsed < 120


def test_fleet_doctor_hung_rank_is_bounded():
    proc, elapsed = torchrun(["doctor", "--fleet", "--json", "--fleet-timeout", "10"],
                             {"RIGCHECK_FLEET_FAULT": "1:hang"})
    assert proc.returncode != 0
    data = first_json(proc.stdout)
    assert "rank 1" in " ".join(data["missing"])
    assert elapsed < 120


def test_distributed_bench_two_gloo_ranks():
    proc, _ = torchrun(["bench", "--distributed", "--json"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = first_json(proc.stdout)
    figs = {f["name"]: f for f in data["results"]}
    ar = figs["allreduce-busbw-1MB"]
    assert ar["unit"] == "GB/s" and ar["value"] > 0
    p = ar["params"]
    # nccl-tests: all-reduce busbw = algbw x 2(n-1)/n, which is algbw itself at n = 2.
    assert p["world_size"] == 2 and p["backend"] == "gloo"
    assert ar["value"] == pytest.approx(p["algbw_gbs"], rel=1e-3)
    ag = figs["allgather-busbw-1MB"]
    assert ag["value"] == pytest.approx(ag["params"]["algbw_gbs"] / 2, rel=1e-3)
    sizes = sorted(f["params"]["size_bytes"] for f in data["results"] if f["name"].startswith("allreduce"))
    assert sizes[0] == 1024 and sizes[-1] >= 16 * 1024 ** 2
    ddp = next(f for f in data["results"] if f["name"].startswith("ddp-"))
    assert 0 < ddp["params"]["scaling_efficiency"] <= 1.5
    assert len(ddp["params"]["per_rank"]) == 2
    assert data["saved_to"] and Path(data["saved_to"]).exists()


def test_fleet_outside_torchrun_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR")}
    proc = subprocess.run([sys.executable, "-m", "rigcheck", "doctor", "--fleet"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert "torchrun" in proc.stderr and "Traceback" not in proc.stderr



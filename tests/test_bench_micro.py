"""Micro-benchmarks and the training step, run for real on the CPU at tiny sizes."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")

from rigcheck.bench import micro, train  # noqa: E402

TINY = micro.Budget(budget_s=0.05, min_runs=3, max_runs=10, warmup=1)
CPU = torch.device("cpu")
# A training step's first calls can take 100 ms (autocast, allocator): a longer budget.
STEP = micro.Budget(budget_s=0.3, min_runs=3, max_runs=10, warmup=2)


def test_gemm_fp32_measures_a_plausible_rate() -> None:
    fig = micro.gemm("fp32", CPU, 64, TINY)
    assert fig.name == "gemm-fp32"
    assert fig.unit == "GFLOP/s"
    assert fig.runs >= 3
    # 2 n^3 / median: the figure and the time must agree.
    assert fig.value == pytest.approx(2 * 64**3 / fig.median_s / 1e9)
    assert f"{torch.get_num_threads()} threads" in fig.note
    assert fig.params == {"n": 64, "dtype": "fp32", "device": "cpu"}


def test_gemm_bf16_runs_on_cpu() -> None:
    fig = micro.gemm("bf16", CPU, 32, TINY)
    assert fig.name == "gemm-bf16" and fig.value > 0


@pytest.mark.parametrize(("dtype", "why"), [("tf32", "NVIDIA tensor-core"), ("fp16", "bf16")])
def test_gemm_cpu_skips_gpu_only_dtypes_with_reason(dtype: str, why: str) -> None:
    with pytest.raises(micro.Skip, match=why):
        micro.gemm(dtype, CPU, 32, TINY)


@pytest.mark.parametrize("direction", ["h2d", "d2h"])
def test_host_device_copy_skips_without_gpu(direction: str) -> None:
    with pytest.raises(micro.Skip, match="no CUDA GPU"):
        micro.host_device_copy(direction, True, CPU, 1 << 20, TINY)


def test_memory_copy_counts_read_and_write() -> None:
    fig = micro.memory_copy(CPU, 4 << 20, TINY)
    assert fig.unit == "GB/s"
    assert fig.value == pytest.approx(2 * (4 << 20) / fig.median_s / 1e9)


def test_disk_read_writes_reads_and_removes_its_test_file(tmp_path: Path) -> None:
    fig = micro.disk_read(tmp_path, 8 << 20, TINY)
    assert fig.unit == "MB/s" and fig.value > 0
    assert fig.params["bytes"] == 8 << 20
    assert "test file" in fig.note
    assert list(tmp_path.iterdir()) == []          # the temp file is gone
    if hasattr(os, "posix_fadvise"):
        assert fig.params["cache_dropped"] is True


def test_disk_read_prefers_existing_large_files(tmp_path: Path) -> None:
    (tmp_path / "shard0.bin").write_bytes(os.urandom(3 << 20))
    (tmp_path / "small.txt").write_text("x")      # under 1 MiB: ignored
    fig = micro.disk_read(tmp_path, 3 << 20, TINY)
    assert "1 existing file" in fig.note
    assert fig.params["bytes"] == 3 << 20


def test_disk_read_of_a_missing_dir_is_a_skip(tmp_path: Path) -> None:
    with pytest.raises(micro.Skip, match="not a directory"):
        micro.disk_read(tmp_path / "nope", 1 << 20, TINY)


def test_image_pipeline_says_what_it_measured() -> None:
    before = torch.get_num_threads()
    fig = micro.image_pipeline(TINY, height=64, width=80, out=32, batch=2)
    assert fig.unit == "images/s/core" and fig.value > 0
    assert "one thread" in fig.note
    assert ("JPEG decode" in fig.note) is True
    assert torch.get_num_threads() == before       # restored


def tiny_workload() -> SimpleNamespace:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 6 * 6, 10))

    def make_batch(batch: int, device, dtype):
        return torch.randn(batch, 3, 8, 8, device=device, dtype=dtype), \
            torch.randint(0, 10, (batch,), device=device)

    return SimpleNamespace(model=model, make_batch=make_batch,
                           loss=torch.nn.functional.cross_entropy,
                           trainable=list(model.parameters()), input_dtype_is_float=True)


@pytest.mark.parametrize("optimizer", ["sgd", "sgd-momentum", "adam", "adamw"])
def test_train_step_updates_weights_and_times(optimizer: str) -> None:
    wl = tiny_workload()
    before = [p.detach().clone() for p in wl.trainable]
    timing, how = train.train_step_timing(wl, device=CPU, batch_size=4, precision="fp32",
                                          optimizer=optimizer, channels_last=True, budget=STEP)
    assert timing.runs >= 3 and timing.median_s > 0
    assert "channels_last" in how
    assert any(not torch.equal(a, b) for a, b in zip(before, wl.trainable, strict=True))


def test_train_step_amp_on_cpu_uses_bf16_autocast() -> None:
    dtype, scaler, how = train.autocast_plan("amp", CPU)
    assert dtype is torch.bfloat16 and scaler is False and "bf16" in how
    assert train.autocast_plan("fp32", CPU) == (None, False, "")
    assert train.autocast_plan("bf16", CPU)[:2] == (None, False)   # bf16 weights, no autocast
    timing, how = train.train_step_timing(tiny_workload(), device=CPU, batch_size=2,
                                          precision="amp", optimizer="sgd",
                                          channels_last=False, budget=STEP)
    assert "bf16 autocast" in how and timing.runs >= 3


def test_train_step_in_bf16_weights_feeds_bf16_inputs() -> None:
    wl = tiny_workload()
    wl.model = wl.model.to(torch.bfloat16)
    wl.trainable = list(wl.model.parameters())
    timing, how = train.train_step_timing(wl, device=CPU, batch_size=2, precision="bf16",
                                          optimizer="adamw", channels_last=False, budget=STEP)
    assert timing.runs >= 3 and "bf16 weights" in how


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_gemm_and_pinned_copy() -> None:
    dev = torch.device("cuda:0")
    fig = micro.gemm("fp16", dev, 1024, TINY)
    assert fig.value == pytest.approx(2 * 1024**3 / fig.median_s / 1e9)
    copy = micro.host_device_copy("h2d", True, dev, 16 << 20, TINY)
    assert copy.unit == "GB/s" and copy.value > 0

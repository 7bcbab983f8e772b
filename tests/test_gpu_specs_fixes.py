"""Spec-database rows corrected against the vendor's own figures (tools/gen_gpu_specs.py).

TechPowerUp lists one die of NVIDIA's two-die Blackwell datacenter GPUs; NVIDIA's DGX datasheets
give the whole GPU: DGX B200 1,440 GB and 64 TB/s for 8 GPUs (180 GB, 8 TB/s each), DGX B300
2.3 TB for 8 (288 GB each). AMD: MI300X 192 GB at 5.3 TB/s, MI300A 128 GB at 5.3 TB/s, MI325X
256 GB at 6 TB/s."""

from __future__ import annotations

import pytest

from rigcheck.perfmodel.gpudb import spec_by_key


@pytest.mark.parametrize(("key", "memory_gb", "mem_bw_gbs"), [
    ("b200", 180.0, 8000.0),
    ("b300", 288.0, 8000.0),
    ("radeon-instinct-mi300x", 192.0, 5300.0),   # AMD: 5.3 TB/s (TechPowerUp: 10.3)
    ("radeon-instinct-mi300a", 128.0, 5300.0),
    ("radeon-instinct-mi325x", 256.0, 6000.0),
    ("h100-sxm5-80-gb", 80.0, 3360.0),       # a row left as TechPowerUp has it
])
def test_datacenter_memory(key, memory_gb, mem_bw_gbs):
    s = spec_by_key(key)
    assert s is not None
    assert (s.memory_gb, s.mem_bw_gbs) == (memory_gb, mem_bw_gbs)


def test_a_70b_bf16_model_fits_one_b200_for_inference():
    # 70.6 B parameters x 2 bytes = 141 GB: over a one-die 90 GB, inside 180 GB x 0.95
    from rigcheck.perfmodel.gpudb import as_gpu
    from rigcheck.perfmodel.llm_configs import find_model
    from rigcheck.perfmodel.llm_estimate import estimate
    from rigcheck.perfmodel.llm_memory import LlmRun

    gpu = as_gpu(spec_by_key("b200"))
    est = estimate(find_model("llama-3.1-70b"), LlmRun(method="infer", seq_len=2048), gpu)
    assert est.fits and 141 < est.memory.total_gb < 171


@pytest.mark.parametrize(("args", "line"), [
    (["--seq", "0"], "--seq 0: must be at least 1"),
    (["--batch", "0"], "--batch 0: must be at least 1"),
    (["--lora-rank", "-1"], "--lora-rank -1: must be at least 1"),
])
def test_bad_llm_numbers_name_the_option_the_user_typed(args, line):
    from typer.testing import CliRunner

    from rigcheck.ui.app import app
    res = CliRunner().invoke(app, ["estimate", "--model", "llama-3.1-8b", "--gpu", "4090", *args])
    assert res.exit_code == 2 and line in res.output, res.output


def test_an_amd_gpu_shows_no_empty_compute_capability():
    from typer.testing import CliRunner

    from rigcheck.ui.app import app
    res = CliRunner().invoke(app, ["estimate", "--gpu", "RX 7900 XTX", "--target", "resnet50-imagenet"])
    assert res.exit_code == 0, res.output
    assert "RDNA 3.0" in res.output and "(cc )" not in res.output

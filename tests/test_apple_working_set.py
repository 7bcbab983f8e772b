"""An Apple GPU plans on Metal's working set of the Mac's unified memory, not all of it:
2/3 on Macs of 32 GB or less, 3/4 above (the recommendedMaxWorkingSetSize llama.cpp logged:
10922.67 MB on 16 GB, 21845.34 MB on 32 GB, 49152 MiB on 64 GB, 73728 MB on 96 GB)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from rigcheck.perfmodel import llm_estimate as le
from rigcheck.perfmodel import memory as mem
from rigcheck.perfmodel.llm_memory import LlmRun, llm_memory
from rigcheck.ui.app import app
from tests.parts_factory import gpu
from tests.test_llm_estimate_values import TINY


@pytest.mark.parametrize(("vendor", "ram_gb", "usable_gb"), [
    ("Apple", 16.0, 16 * 2 / 3),
    ("Apple", 32.0, 32 * 2 / 3),       # at the boundary: still the small-Mac share
    ("Apple", 32.5, 32.5 * 3 / 4),     # just past it
    ("Apple", 192.0, 144.0),
    ("NVIDIA", 24.0, 24.0),            # a card's VRAM is all its own
    ("AMD", 24.0, 24.0),
])
def test_gpu_memory_by_vendor_and_size(vendor, ram_gb, usable_gb):
    assert mem.gpu_memory_gb(gpu(vendor=vendor, vram_gb=ram_gb)) == pytest.approx(usable_gb)


def test_an_llm_run_that_fits_a_card_does_not_fit_the_same_size_of_mac():
    run = LlmRun(method="infer", seq_len=1024)
    need = llm_memory(TINY, run).total_gb                 # about 1.0 GB of context + weights
    ram = need / 0.95 / 0.7                                # 2/3 of it is too little, all of it plenty
    assert ram <= 32
    assert le.estimate(TINY, run, gpu(vendor="NVIDIA", vram_gb=ram)).fits
    est = le.estimate(TINY, run, gpu(vendor="Apple", vram_gb=ram))
    assert not est.fits and est.suggestions
    just_enough = need / 0.95 / (2 / 3) + 1e-6
    assert le.estimate(TINY, run, gpu(vendor="Apple", vram_gb=just_enough)).fits
    assert not le.estimate(TINY, run, gpu(vendor="Apple", vram_gb=just_enough - 1e-4)).fits


def test_recommend_adapts_for_a_mac_by_its_working_set():
    run = LlmRun(method="infer", seq_len=1024, micro_batch=64)
    ram = llm_memory(TINY, replace(run, micro_batch=32)).total_gb / 0.95 / (2 / 3) + 1e-6
    fit = le.recipe_on_gpu(TINY, run, le.ADAPTATIONS, gpu(vendor="Apple", vram_gb=ram))
    assert fit.fits and fit.run.micro_batch == 32


def test_estimate_names_the_working_set_for_a_mac():
    res = CliRunner().invoke(app, ["estimate", "--model", "qwen2.5-7b", "--method", "infer",
                                   "--weights", "q4_k_m", "--gpu", "Apple M2 Ultra"])
    assert res.exit_code == 0, res.output
    assert "of 144.0 GB per GPU" in res.output
    assert "75% of the Mac's 192 GB of unified memory" in res.output
    assert "CUDA context" not in res.output and "GPU runtime context" in res.output

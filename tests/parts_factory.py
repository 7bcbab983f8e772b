"""Small constructors for parts records, for tests that need a catalog without CSV files."""

from __future__ import annotations

from datetime import date

from rigcheck.parts import Case, Catalog, Cpu, Gpu, MemoryKit, Motherboard, Price, Psu, Storage
from rigcheck.recipes import Recipe

DAY = date(2026, 11, 1)


def price(inr: float) -> Price:
    return Price(inr=float(inr), usd=None, date=DAY, kind="street", source="test")


def gpu(id="g", *, inr=50000, vram_gb=16, tdp_w=200, slot_width=2, length_mm=250,
        power_8pin=1, power_16pin=0, cooler="open-air", fp32_tflops=20.0, availability="new",
        vendor="NVIDIA", form="consumer", **kw) -> Gpu:
    fields = dict(
        id=id, name=id.upper(), vendor=vendor, architecture="Ada Lovelace",
        compute_capability="8.9", vram_gb=vram_gb, memory_type="GDDR6", mem_bw_gbs=500.0,
        cuda_cores=4000, fp32_tflops=fp32_tflops, tensor_fp16_tflops=fp32_tflops * 4,
        tensor_bf16_tflops=fp32_tflops * 4, tensor_tf32_tflops=fp32_tflops * 2,
        tensor_accumulate="fp32", tdp_w=tdp_w, slot_width=slot_width, length_mm=length_mm,
        power_8pin=power_8pin, power_16pin=power_16pin, pcie_gen=4, form=form, cooler=cooler,
        nvlink=False, launch_year=2024, availability=availability, price=price(inr),
    )
    fields.update(kw)
    return Gpu(**fields)


def cpu(id="c", *, inr=15000, socket="AM5", cores=6, tdp_w=65, **kw) -> Cpu:
    fields = dict(id=id, name=id.upper(), vendor="AMD", socket=socket, cores=cores,
                  threads=cores * 2, base_ghz=3.5, boost_ghz=5.0, tdp_w=tdp_w, pcie_lanes=24,
                  avx512=False, launch_year=2023, price=price(inr))
    fields.update(kw)
    return Cpu(**fields)


def board(id="b", *, inr=12000, socket="AM5", memory_type="DDR5", memory_slots=4,
          max_memory_gb=192, positions=(1, 4), lanes=(16, 4), form_factor="ATX",
          platform_class="desktop", **kw) -> Motherboard:
    fields = dict(id=id, name=id.upper(), socket=socket, chipset="B650",
                  platform_class=platform_class, form_factor=form_factor,
                  memory_type=memory_type, memory_slots=memory_slots,
                  max_memory_gb=max_memory_gb, x16_slot_positions=tuple(positions),
                  x16_slot_lanes=tuple(lanes), m2_slots=2, price=price(inr))
    fields.update(kw)
    return Motherboard(**fields)


def kit(id="m", *, inr=8000, memory_type="DDR5", modules=2, module_gb=16, **kw) -> MemoryKit:
    fields = dict(id=id, name=id.upper(), memory_type=memory_type, modules=modules,
                  module_gb=module_gb, speed_mts=5600, ecc=False, price=price(inr))
    fields.update(kw)
    return MemoryKit(**fields)


def storage(id="s", *, inr=6000, capacity_gb=1000, seq_read_mbs=5000, kind="nvme", **kw) -> Storage:
    fields = dict(id=id, name=id.upper(), kind=kind, interface="PCIe 4.0 x4",
                  capacity_gb=capacity_gb, seq_read_mbs=seq_read_mbs, price=price(inr))
    fields.update(kw)
    return Storage(**fields)


def psu(id="p", *, inr=6000, watts=750, pcie_8pin=2, connector_16pin=0, **kw) -> Psu:
    fields = dict(id=id, name=id.upper(), watts=watts, efficiency="80+ Gold",
                  pcie_8pin=pcie_8pin, connector_16pin=connector_16pin, form_factor="ATX",
                  price=price(inr))
    fields.update(kw)
    return Psu(**fields)


def case(id="k", *, inr=4000, form_factors=("ATX", "mATX"), max_gpu_length_mm=330,
         expansion_slots=7, **kw) -> Case:
    fields = dict(id=id, name=id.upper(), form_factors=tuple(form_factors),
                  max_gpu_length_mm=max_gpu_length_mm, expansion_slots=expansion_slots,
                  price=price(inr))
    fields.update(kw)
    return Case(**fields)


def catalog(**groups) -> Catalog:
    defaults = dict(gpus=(gpu(),), cpus=(cpu(),), motherboards=(board(),), memory=(kit(),),
                    storage=(storage(),), psus=(psu(),), cases=(case(),))
    defaults.update({k: tuple(v) for k, v in groups.items()})
    return Catalog(**defaults)


def recipe(id="r", *, dataset_samples=100_000, bytes_per_sample=100_000, batch_size=64,
           **kw) -> Recipe:
    fields = dict(id=id, name=id, model="resnet50", family="cnn", input_shape=(3, 224, 224),
                  batch_size=batch_size, precision="amp", optimizer="sgd-momentum",
                  dataset="test", dataset_samples=dataset_samples,
                  bytes_per_sample=bytes_per_sample, epochs=10, params=25_000_000,
                  trainable_params=25_000_000, fwd_flops_per_sample=8e9,
                  train_flops_per_sample=24e9, activation_bytes_per_sample=50e6)
    fields.update(kw)
    return Recipe(**fields)

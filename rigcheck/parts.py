"""Plain records for catalog parts.

These are what the recommender, the performance model and ``rigcheck catalog`` work on. The CSV
columns in ``catalog/`` map one to one onto these fields (see ``catalog/README.md``); the loader in
:mod:`rigcheck.catalog` validates and converts them. Units are in the names.

Every part carries :class:`Price`: an INR figure is always present after loading (a USD-only row is
converted with the dated rate and marked ``derived``) so every total can be shown in rupees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Price:
    inr: float
    usd: float | None
    date: date
    # "street" (a shop's price on that date), "msrp" (launch list price), "used" (second-hand
    # market), or "derived" (INR converted from USD with the catalog's dated rate: not a quote).
    kind: str
    source: str
    # How far the figure can be trusted (catalog column price_basis): "quote" or "msrp" (a cited
    # page), "seed" (the seed lecture's table), "estimate" (scaled from a similar item's quote),
    # "recalled" (unsourced placeholder), or "" (not stated, e.g. a shop's overlay price list).
    basis: str = ""
    # How the rupee figure was obtained: "quote" (an INR price as given by the source),
    # "landed" (a foreign price x rate x the Indian landed-cost factors of catalog/landed.csv), or
    # "conversion" (a foreign price x rate only: no landed factors for this kind).
    origin: str = "quote"
    landed_multiplier: float = 1.0   # what the converted figure was multiplied by (1: none)


@dataclass(frozen=True)
class Gpu:
    id: str
    name: str
    vendor: str                      # "NVIDIA" for every row we recommend (CUDA)
    architecture: str                # "Ada Lovelace"
    compute_capability: str          # "8.9"
    vram_gb: float
    memory_type: str                 # "GDDR6X", "HBM3"
    mem_bw_gbs: float
    cuda_cores: int
    fp32_tflops: float               # non-tensor FP32, boost clock
    tensor_fp16_tflops: float | None  # dense, no sparsity; None: no tensor cores
    tensor_bf16_tflops: float | None  # dense; None where bf16 is unsupported (pre-Ampere)
    tensor_tf32_tflops: float | None  # dense; None before Ampere
    tensor_accumulate: str           # "fp32" or "fp16": which accumulate rate the tensor figure is
    tdp_w: float
    slot_width: int                  # expansion slots the card occupies (2, 3, 4)
    length_mm: float
    power_8pin: int                  # count of PCIe 8-pin (or 6-pin) inputs
    power_16pin: int                 # count of 12VHPWR / 12V-2x6 inputs
    pcie_gen: int
    form: str                        # "consumer" | "workstation" | "datacenter"
    cooler: str                      # "open-air" | "blower" | "passive"
    nvlink: bool
    launch_year: int
    availability: str                # "new" | "used" | "legacy"
    price: Price
    notes: str = ""
    # 8-pin EPS12V ("CPU 8-pin") inputs: A6000/A40/A10/A100 PCIe-class cards take a CPU-type
    # lead, keyed and wired differently from a PCIe 8-pin (NVIDIA board specifications).
    power_eps8: int = 0


@dataclass(frozen=True)
class Cpu:
    id: str
    name: str
    vendor: str                      # "Intel" | "AMD"
    socket: str                      # "AM5", "LGA1700", "sTR5", "SP5", "LGA4677", ...
    cores: int
    threads: int
    base_ghz: float
    boost_ghz: float
    tdp_w: float
    pcie_lanes: int                  # lanes from the CPU
    avx512: bool
    launch_year: int
    price: Price
    notes: str = ""


@dataclass(frozen=True)
class Motherboard:
    id: str
    name: str
    socket: str
    chipset: str
    platform_class: str              # "desktop" | "workstation" | "server"
    form_factor: str                 # "ATX", "mATX", "E-ATX", "SSI-EEB", "ITX"
    memory_type: str                 # "DDR4", "DDR5", "DDR5 RDIMM"; must equal the kit's
    memory_slots: int
    max_memory_gb: int
    # Physical positions (1 = top expansion slot) of the x16-length slots and the electrical lanes
    # of each, in the same order. Spacing follows from the positions: a card of slot_width w in
    # position p blocks positions p .. p+w-1.
    x16_slot_positions: tuple[int, ...]
    x16_slot_lanes: tuple[int, ...]
    m2_slots: int
    price: Price
    notes: str = ""


@dataclass(frozen=True)
class MemoryKit:
    id: str
    name: str
    memory_type: str                 # as Motherboard.memory_type
    modules: int
    module_gb: int
    speed_mts: int
    ecc: bool
    price: Price
    notes: str = ""

    @property
    def capacity_gb(self) -> int:
        return self.modules * self.module_gb


@dataclass(frozen=True)
class Storage:
    id: str
    name: str
    kind: str                        # "nvme" | "sata-ssd" | "hdd"
    interface: str                   # "PCIe 4.0 x4", "SATA 6Gb/s"
    capacity_gb: int
    seq_read_mbs: int
    price: Price
    notes: str = ""


@dataclass(frozen=True)
class Psu:
    id: str
    name: str
    watts: int
    efficiency: str                  # "80+ Gold", ...
    pcie_8pin: int                   # 8-pin (6+2) PCIe leads
    connector_16pin: int             # native 12VHPWR / 12V-2x6 leads
    form_factor: str                 # "ATX", "SFX"
    price: Price
    notes: str = ""
    eps8_leads: int = 1              # 8-pin (4+4) EPS12V CPU leads; the board takes one


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    form_factors: tuple[str, ...]    # board form factors it takes
    max_gpu_length_mm: int
    expansion_slots: int
    price: Price
    notes: str = ""
    chassis_class: str = "desktop"   # "desktop" | "workstation" | "server" | "rack"
    passive_gpu_rated: bool = False  # forced front-to-back airflow rated for passive cards
    max_gpus: int = 16               # the most GPUs the maker builds the chassis for


@dataclass(frozen=True)
class System:
    """A complete GPU server or workstation sold as one system (catalog/systems.csv)."""
    id: str
    name: str
    vendor: str
    chassis_class: str               # as Case.chassis_class
    rack_units: int | None
    gpu_ids: tuple[str, ...]         # the GPU(s) it is sold with or validated for
    gpu_count: int                   # GPUs it holds
    gpus_included: bool              # True: price includes the GPUs (then one gpu id)
    passive_gpu_rated: bool
    cpu_name: str
    cpu_cores: int                   # all sockets together
    cpu_tdp_w: float                 # all sockets together
    ram_gb: int
    storage_gb: int
    psu_w: int                       # usable output (without the redundant supplies)
    max_draw_w: float | None         # the maker's maximum system draw, when given
    price: Price
    notes: str = ""
    # Separate power cords, each meant for its own wall circuit (tinybox: "two plugs ... plug
    # each plug into a different circuit", docs.tinygrad.org/tinybox); None: one.
    power_inlets: int | None = None
    # The lowest supply voltage its power supplies take (tinybox pro v2: "4x 2000W, 200V~240V"):
    # a 120 V circuit cannot run it at any current. None: universal input (100-240 V).
    min_input_v: float | None = None


@dataclass(frozen=True)
class LandedFactor:
    """One factor of the landed cost of a part kind in India (catalog/landed.csv), in percent."""
    kind: str                        # "gpu", "cpu", ..., "server"
    factor: str                      # "bcd" | "sws" (% of BCD) | "igst" | "margin"
    pct: float
    date: date
    source: str
    note: str = ""


@dataclass(frozen=True)
class CloudOffer:
    """A cloud GPU offer (catalog/cloud.csv)."""
    id: str
    provider: str
    gpu_id: str                      # gpus.csv id, "" when the card is not in the catalog
    gpu_name: str
    gpus: int                        # GPUs in the rented instance
    price_per_gpu_hour: float        # in ``currency``
    currency: str                    # "USD" | "INR"
    billing: str                     # "on-demand" | "spot" | "reserved" | "monthly"
    region: str
    date: date
    source: str
    note: str = ""


@dataclass(frozen=True)
class Tariff:
    """An electricity tariff (catalog/tariff.csv)."""
    id: str
    region: str
    consumer: str                    # "residential" | "commercial" | ...
    price_inr_per_kwh: float
    date: date
    source: str
    note: str = ""


@dataclass(frozen=True)
class Rate:
    currency: str                    # "USD", "EUR"
    inr_per_unit: float
    date: date
    source: str


@dataclass(frozen=True)
class Catalog:
    gpus: tuple[Gpu, ...]
    cpus: tuple[Cpu, ...]
    motherboards: tuple[Motherboard, ...]
    memory: tuple[MemoryKit, ...]
    storage: tuple[Storage, ...]
    psus: tuple[Psu, ...]
    cases: tuple[Case, ...]
    rates: tuple[Rate, ...] = ()
    # Folders the rows came from, bundled first then overlays, for messages.
    sources: tuple[str, ...] = field(default_factory=tuple)
    systems: tuple[System, ...] = ()
    landed: tuple[LandedFactor, ...] = ()
    cloud: tuple[CloudOffer, ...] = ()
    tariffs: tuple[Tariff, ...] = ()

    def rate(self, currency: str) -> Rate | None:
        for r in self.rates:
            if r.currency == currency.upper():
                return r
        return None

    def oldest_price_date(self) -> date | None:
        dates = [
            p.price.date
            for group in (self.gpus, self.cpus, self.motherboards, self.memory,
                          self.storage, self.psus, self.cases)
            for p in group
        ]
        return min(dates) if dates else None

    def newest_price_date(self) -> date | None:
        dates = [
            p.price.date
            for group in (self.gpus, self.cpus, self.motherboards, self.memory,
                          self.storage, self.psus, self.cases)
            for p in group
        ]
        return max(dates) if dates else None

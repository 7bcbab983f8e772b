"""The compatibility rules of a build, each with its source.

These are pure functions over parts records. The search in :mod:`rigcheck.recommend.search`
decomposes them for speed; :func:`violations` applies them to a whole build and is the single
definition both the search and the brute-force tests agree with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rigcheck.parts import Case, Cpu, Gpu, MemoryKit, Motherboard, Price, Psu, Storage

# ---- policy constants, with their sources ---------------------------------------------------

# System RAM follows the workload (planning-rules.md §2.2): at least what the training holds on
# each GPU, since host RAM stages what goes to the card and holds the checkpoint copy (Dettmers,
# "A Full Hardware Guide to Deep Learning", 2018: "at least the amount of RAM that matches your
# biggest GPU", read for the memory the job uses, not the card's size), and 16 GB per GPU
# (williamFalcon's build README: "RAM = 16 GB x number of GPUs"). So a LeNet build may have 16 GB
# and a 24 GB ResNet-50 run gets 24 GB or more.
RAM_PER_GPU_GB = 16

# CPU cores: per GPU one training process plus 3 DataLoader workers for CV work, plus 2 for the OS
# (Bekman, ml-engineering compute/cpu: "3-4 and sometimes more" workers for CV, N*(w+1)+4; we use
# +2 because a 1-GPU desktop with 6 cores is what experts build and Dettmers warns against
# overbuying CPU).
DATALOADER_WORKERS_PER_GPU = 3
OS_CORES = 2

# Everything but GPUs and CPU: board, RAM, drives, fans, USB (PCPartPicker-style estimates for a
# desktop land at 50-100 W; 75 W is the middle).
REST_OF_SYSTEM_W = 75
# PSU >= draw x 1.2: Dettmers adds 10% and 10% again (x1.21); PSUs are most efficient at 50-80%
# load, and RTX 4090/5090 transients exceed TDP for milliseconds (planning-rules.md §2.5).
PSU_HEADROOM = 1.2
# Wall draw = DC load / efficiency; 90% is 80+ Gold at typical load.
PSU_EFFICIENCY = 0.9

# One wall circuit: volts x amps x 80%. Continuous loads may not exceed 80% of a branch circuit's
# rating (NEC 210.20(A), heathertechnologies.com "PDU load banking standards"; an L6-30 is "a 30 Amp
# circuit, intended for use at 24 Amps", J. Lux on the Beowulf list, 2006-05-01); the same 80% is
# applied everywhere as a planning margin. US: 120 V x 15 A = 1,440 W continuous (Lambda), a
# 20 A kitchen-class circuit 1,920 W, and the 208/240 V NEMA L6-30 of server rooms. India (230 V,
# indiaquickfacts.com): the 16 A "power" socket (IS 1293, the one used for ACs and geysers) gives
# 2,944 W; a plain 6 A socket (1,104 W) is not enough for a multi-GPU box, and we say so; the 32 A
# single-phase industrial socket (IS/IEC 60309, blue = 200-250 V; BIS adopted IEC 60309-1 as
# IS/IEC 60309-1:2021) gives 5,888 W. Japan: 100 V outlets are limited to 1,500 W
# (planning-rules.md §2.5, hotchpotch.dev): 1,200 W continuous. A three-phase supply is three
# single-phase circuits here: one per phase, each PSU cord on one of them.
CIRCUIT_CONTINUOUS_FRACTION = 0.8


@dataclass(frozen=True)
class Circuit:
    volts: float
    amps: float

    @property
    def continuous_w(self) -> float:
        return self.volts * self.amps * CIRCUIT_CONTINUOUS_FRACTION


CIRCUITS = {
    "india-16a": Circuit(230, 16), "india-6a": Circuit(230, 6), "india-32a": Circuit(230, 32),
    "us-15a": Circuit(120, 15), "us-20a": Circuit(120, 20),
    "us-208v-30a": Circuit(208, 30), "us-240v-30a": Circuit(240, 30),
    "eu-16a": Circuit(230, 16), "eu-32a": Circuit(230, 32), "jp-15a": Circuit(100, 15),
}
CIRCUITS_W = {name: c.continuous_w for name, c in CIRCUITS.items()}
DEFAULT_CIRCUIT = "india-16a"

# Each GPU needs at least this many electrical lanes: x8 costs ~2% (TechPowerUp; Puget), x4
# chipset slots (MSI X570 Tomahawk's second "x16") starve multi-GPU training (planning-rules §2.7).
MIN_GPU_LANES = 8

# A 16-pin (12VHPWR / 12V-2x6) input can be fed from 8-pin leads with the adapter that ships with
# the card: 3 leads up to 450 W, 4 leads above (NVIDIA's RTX 4090/5090 adapters).
ADAPTER_8PIN_PER_16PIN_LOW = 3
ADAPTER_8PIN_PER_16PIN_HIGH = 4

# EPS12V (CPU 8-pin) inputs of A6000/A10/A100 PCIe-class cards: the motherboard takes one EPS
# lead; each card input takes another, or two PCIe 8-pin leads through the dual-PCIe-to-EPS
# adapter NVIDIA ships with these cards (RTX A6000 user guide, "Power connector"; NVIDIA A10 and
# A100 PCIe product briefs: "8-pin CPU"). A PCIe lead is never plugged into an EPS input directly:
# the two are keyed and wired differently (Corsair, "Can I use a PCIe cable in the 8-pin
# motherboard plug?").
BOARD_EPS_LEADS = 1
PCIE_LEADS_PER_EPS_ADAPTER = 2

# Chassis classes that --class server means and that can cool passive datacenter cards.
SERVER_CHASSIS = ("server", "rack")

# Storage beyond the datasets: OS, conda/pip environments, checkpoints and logs.
WORKING_SPACE_GB = 200

# A price is good enough for a build when a page cites it (price_basis quote/msrp, or a shop's
# overlay row with no basis) and it was seen within a year (issue 9: "no older than 12 months");
# recalled and estimated figures and older prices only with --allow-unsourced.
BUILD_PRICE_MAX_AGE_DAYS = 365
UNSOURCED_BASES = ("recalled", "estimate")


# ---- single rules ---------------------------------------------------------------------------

def ram_floor_gb(count: int, workload_gb: float) -> float:
    """RAM a build needs: ``workload_gb`` is the most GPU memory any target uses on one card."""
    return max(RAM_PER_GPU_GB * count, workload_gb)


def price_unusable(price: Price, today: date, allow_unsourced: bool,
                   max_age_days: float = BUILD_PRICE_MAX_AGE_DAYS) -> str | None:
    """Why a part's price may not be used in a build (None: it may)."""
    if allow_unsourced:
        return None
    if price.basis in UNSOURCED_BASES:
        return f"{price.basis} price, no cited quote (pass --allow-unsourced to use it)"
    age = (today - price.date).days
    if age > max_age_days:
        return (f"price seen {price.date.isoformat()}, {age} days ago (older than "
                f"{BUILD_PRICE_MAX_AGE_DAYS}; pass --allow-unsourced to use it)")
    return None


def cores_needed(count: int) -> int:
    return count * (DATALOADER_WORKERS_PER_GPU + 1) + OS_CORES


def draw_w(gpu: Gpu, count: int, cpu: Cpu) -> float:
    """Estimated sustained DC draw of the build."""
    return cards_and_cpu_draw_w(gpu, count, cpu.tdp_w)


def cards_and_cpu_draw_w(gpu: Gpu, count: int, cpu_tdp_w: float) -> float:
    """Sustained DC draw of ``count`` cards, CPUs of ``cpu_tdp_w`` in all, and the rest of the
    system (parts builds and complete systems alike)."""
    return count * gpu.tdp_w + cpu_tdp_w + REST_OF_SYSTEM_W


def psu_watts_needed(gpu: Gpu, count: int, cpu: Cpu) -> float:
    return draw_w(gpu, count, cpu) * PSU_HEADROOM


def wall_w(gpu: Gpu, count: int, cpu: Cpu) -> float:
    return draw_w(gpu, count, cpu) / PSU_EFFICIENCY


def pcie_leads_needed(psu: Psu, gpu: Gpu, count: int) -> int:
    """PCIe 8-pin leads the cards take from this PSU: their own 8-pin inputs, 16-pin inputs the
    PSU has no native lead for (through the card's adapter), and EPS inputs beyond the PSU's spare
    EPS leads (through the dual-PCIe-to-EPS adapter)."""
    need_16 = gpu.power_16pin * count
    native = min(psu.connector_16pin, need_16)
    per_adapter = (ADAPTER_8PIN_PER_16PIN_HIGH if gpu.tdp_w > 450
                   else ADAPTER_8PIN_PER_16PIN_LOW)
    need_eps = gpu.power_eps8 * count
    spare_eps = max(0, psu.eps8_leads - BOARD_EPS_LEADS)
    adapted_eps = max(0, need_eps - spare_eps)
    return (gpu.power_8pin * count + (need_16 - native) * per_adapter
            + adapted_eps * PCIE_LEADS_PER_EPS_ADAPTER)


def psu_connectors_ok(psu: Psu, gpu: Gpu, count: int) -> bool:
    return (psu.eps8_leads >= BOARD_EPS_LEADS
            and psu.pcie_8pin >= pcie_leads_needed(psu, gpu, count))


def gpu_allowed(gpu: Gpu, allow_used: bool, allow_legacy: bool) -> str | None:
    """Why this GPU may not be recommended at all, or None."""
    if gpu.vendor.upper() != "NVIDIA":
        return "not NVIDIA: PyTorch's CUDA builds need an NVIDIA GPU"
    if gpu.availability == "legacy" and not allow_legacy:
        return "legacy card (no longer sold new, no current CUDA support)"
    if gpu.availability == "used" and not allow_used:
        return "sold used only (pass --allow-used to consider it)"
    return None


def needs_gap(gpu: Gpu) -> bool:
    """Open-air coolers exhaust sideways: side by side they choke each other (Dettmers: ~30%
    slower); blower and passive (server airflow) cards may sit in adjacent slots."""
    return gpu.cooler == "open-air"


def seat_gpus(board: Motherboard, gpu: Gpu, count: int) -> tuple[int, ...] | None:
    """Positions for ``count`` cards on ``board``, or None when they do not fit.

    Greedy earliest-fit over the x16-length slots with enough electrical lanes: each card blocks
    ``slot_width`` positions, open-air cards one more (air gap) when another card follows. Greedy
    is optimal here (interval scheduling: taking the earliest feasible slot never hurts later ones).
    """
    slots = list(zip(board.x16_slot_positions, board.x16_slot_lanes))
    if not slots or count < 1:
        return None
    if count == 1:
        # A single card goes in the slot with the most lanes (the CPU-attached x16), the first
        # such slot when several tie.
        best_lanes = max(lanes for _, lanes in slots)
        return (next(pos for pos, lanes in slots if lanes == best_lanes),)
    step = gpu.slot_width + (1 if needs_gap(gpu) else 0)
    chosen: list[int] = []
    next_free = 0
    for pos, lanes in slots:
        if pos >= next_free and lanes >= MIN_GPU_LANES:
            chosen.append(pos)
            next_free = pos + step
            if len(chosen) == count:
                return tuple(chosen)
    return None


def slots_needed(positions: tuple[int, ...], gpu: Gpu) -> int:
    """Expansion-slot openings the case must have for the cards in these positions."""
    return max(positions) + gpu.slot_width - 1


def platform_ok(board: Motherboard, platform_class: str | None) -> bool:
    return not platform_class or board.platform_class == platform_class


def chassis_ok(case: Case, gpu: Gpu, count: int, platform_class: str | None) -> bool:
    """The chassis may hold these cards: passive (fanless) datacenter cards only in a server or
    rack chassis rated for them (they rely on forced front-to-back airflow: NVIDIA's datacenter
    cards are "passively cooled" and need a qualified server, NVIDIA A100 PCIe product brief);
    ``--class server`` means a server or rack chassis; never more cards than it is built for."""
    if gpu.cooler == "passive" and not (case.passive_gpu_rated
                                        and case.chassis_class in SERVER_CHASSIS):
        return False
    if platform_class == "server" and case.chassis_class not in SERVER_CHASSIS:
        return False
    return count <= case.max_gpus


def case_ok(case: Case, board: Motherboard, gpu: Gpu, positions: tuple[int, ...],
            platform_class: str | None = None) -> bool:
    return (board.form_factor in case.form_factors
            and case.max_gpu_length_mm >= gpu.length_mm
            and case.expansion_slots >= slots_needed(positions, gpu)
            and chassis_ok(case, gpu, len(positions), platform_class))


def memory_ok(kit: MemoryKit, kits: int, board: Motherboard, floor_gb: float) -> bool:
    return (kit.memory_type == board.memory_type
            and kits * kit.modules <= board.memory_slots
            and kits * kit.capacity_gb <= board.max_memory_gb
            and kits * kit.capacity_gb >= floor_gb)


def storage_ok(storage: Storage, capacity_gb: float, read_mbs: float) -> bool:
    return storage.capacity_gb >= capacity_gb and storage.seq_read_mbs >= read_mbs


@dataclass(frozen=True)
class Needs:
    """What the targets and the GPU choice demand of the rest of the build."""
    storage_gb: float
    read_mbs: float
    circuit_w: float
    ram_floor_gb: float


def violations(
    *, gpu: Gpu, count: int, cpu: Cpu, board: Motherboard, kit: MemoryKit, kits: int,
    storage: Storage, psu: Psu, case: Case, needs: Needs, platform_class: str | None,
) -> list[str]:
    """Every rule the build breaks (empty: compatible). The reference the search must agree with."""
    out = []
    if cpu.socket != board.socket:
        out.append(f"CPU socket {cpu.socket} != board socket {board.socket}")
    if not platform_ok(board, platform_class):
        out.append("board class does not match --class")
    if not chassis_ok(case, gpu, count, platform_class):
        out.append("chassis not rated for these cards (passive cooling, --class, GPU count)")
    positions = seat_gpus(board, gpu, count)
    if positions is None:
        out.append(f"{count} x {gpu.slot_width}-slot cards do not fit the board's x16 slots")
    elif not case_ok(case, board, gpu, positions, platform_class):
        out.append("case does not take the board, the card length or the slot count")
    if not memory_ok(kit, kits, board, needs.ram_floor_gb):
        out.append("memory type, slots, board maximum or capacity floor")
    if cpu.cores < cores_needed(count):
        out.append(f"CPU has {cpu.cores} cores, {cores_needed(count)} needed")
    if psu.watts < psu_watts_needed(gpu, count, cpu):
        out.append("PSU too small")
    if not psu_connectors_ok(psu, gpu, count):
        out.append("PSU lacks GPU power connectors")
    if wall_w(gpu, count, cpu) > needs.circuit_w:
        out.append("draw exceeds one wall circuit")
    if not storage_ok(storage, needs.storage_gb, needs.read_mbs):
        out.append("storage too small or too slow")
    return out


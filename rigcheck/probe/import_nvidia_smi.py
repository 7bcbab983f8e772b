"""Parse pasted ``nvidia-smi`` (the table) and ``nvidia-smi -q`` output into :class:`Facts`.

The table has changed over the years and both layouts are read: two rows per GPU before ~R455,
three (with "MIG M.") after; "TCC/WDDM" instead of "Persistence-M" on Windows; "KMD Version" /
"CUDA UMD Version" in the header from R610; WSL prints two versions ("NVIDIA-SMI 515.65.01" is
the Linux-side tool, "Driver Version: 516.94" the Windows driver); long names are cut to
"NVIDIA GeForce ...". The "Volatile Uncorr. ECC" column is a count when ECC is on, "Off" when it
is off and "N/A" when the GPU has none.

``-q`` is an indented ``Key : Value`` tree; fragments (a paste that starts mid-GPU) are read too.
Serial numbers and UUIDs are redacted. Field meanings: ``nvidia-smi --help-query-gpu`` and NVML's
documentation (a PCIe link that is below its maximum at idle is power saving, not a fault).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rigcheck.facts import Facts, GpuFacts, GpuProcess
from rigcheck.probe.import_collect_env import (
    REDACTED,
    cuda_from_wheel_tag,
    mark_not_collected,
    parse_bool,
    pip_show_torch,
    value_or_none,
)

NOT_IN_SMI = "not in an nvidia-smi paste"
NOT_IN_SMI_Q = "not in this nvidia-smi -q paste"

_COMPUTE_MODES = {"default": "Default", "e. process": "Exclusive_Process",
                  "exclusive_process": "Exclusive_Process", "e. thread": "Exclusive_Thread",
                  "exclusive_thread": "Exclusive_Thread", "prohibited": "Prohibited"}

# nvidia-smi -q "Clocks Throttle Reasons" / "Clocks Event Reasons" labels -> NVML names.
_REASONS = {
    "idle": "GpuIdle", "applications clocks setting": "ApplicationsClocksSetting",
    "sw power cap": "SwPowerCap", "hw slowdown": "HwSlowdown",
    "hw thermal slowdown": "HwThermalSlowdown", "hw power brake slowdown": "HwPowerBrakeSlowdown",
    "sync boost": "SyncBoost", "sw thermal slowdown": "SwThermalSlowdown",
    "display clock setting": "DisplayClockSetting", "unknown": "Unknown",
}


# "Power Readings" until R535, "GPU Power Readings" after; "Module Power Readings" is the whole
# board on Grace Hopper/Blackwell modules and not this GPU's limit.
_POWER_SECTIONS = ("power readings", "gpu power readings")


def _num(v: str | None) -> float | None:
    m = re.match(r"\s*(-?\d+(?:\.\d+)?)", v or "")
    return float(m.group(1)) if m else None


def _int(v: str | None) -> int | None:
    n = _num(v)
    return int(n) if n is not None else None


def _torch_from_pip_show(text: str, facts: Facts) -> bool:
    version = pip_show_torch(text)
    if not version:
        return False
    facts.torch.installed = True
    facts.torch.version = version
    facts.torch.cuda_build = cuda_from_wheel_tag(version)
    return True


def _finish(facts: Facts, reason: str, text: str) -> Facts:
    has_torch = _torch_from_pip_show(text, facts)
    # Whole sections go to not_collected (the doctor skips on it); their ``error`` stays None
    # because nothing failed: the text just does not carry them.
    for section in ("host", "python", "driver") + (() if has_torch else ("torch",)):
        facts.not_collected[section] = reason
    facts.not_collected["env"] = reason
    facts.not_collected["python.env"] = reason
    facts.not_collected["p2p"] = reason
    mark_not_collected(facts, reason)
    return facts


# ---- when nvidia-smi fails ----------------------------------------------------------------------

# What nvidia-smi prints when NVML cannot start, -> the NVML error name the probe would record.
_FAILURES = (
    # A kernel update without DKMS, or a driver that never loaded (GoogleCloudPlatform/
    # compute-gpu-installation#18, NVIDIA/nvidia-docker#365).
    ("couldn't communicate with the NVIDIA driver", "NVML_ERROR_DRIVER_NOT_LOADED"),
    ("couldn\u2018t communicate with the NVIDIA driver", "NVML_ERROR_DRIVER_NOT_LOADED"),
    # User-space libraries upgraded under a loaded kernel module
    # (illinois-scicomp/machine-shop-maintenance#70).
    ("Driver/library version mismatch", "NVML_ERROR_LIB_RM_VERSION_MISMATCH"),
    ("No devices were found", "NVML found no GPUs"),
)


def _failure(text: str, facts: Facts) -> str | None:
    """Read nvidia-smi's failure message (and a pasted /proc/driver/nvidia/version) if any."""
    drv = facts.driver
    m = re.search(r"^\s*(NVRM version:.*?Kernel Module\s+([\d.]+).*)$", text, re.MULTILINE)
    if m:
        drv.proc_version, drv.kernel_module_version = m.group(1).strip(), m.group(2)
    for needle, name in _FAILURES:
        if needle.lower() in text.lower():
            lines = [ln.strip() for ln in text.split("\n")
                     if needle.lower() in ln.lower() or ln.strip().startswith("modprobe: FATAL")]
            msg = " ".join(dict.fromkeys(lines))
            drv.nvidia_smi_path = "nvidia-smi"     # it ran: the message is its own
            drv.nvidia_smi_ok = False
            drv.nvidia_smi_error = msg
            facts.nvml.available = False
            facts.nvml.error = f"{name}: {msg}" if name.startswith("NVML_ERROR") else msg
            return msg
    return None


# ---- the table --------------------------------------------------------------------------------

def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _gpu_row1(cells: list[str]) -> GpuFacts | None:
    if len(cells) != 3:
        return None
    m = re.match(r"^(\d+)\s+(.+?)\s+(On|Off|WDDM|TCC|N/A)$", cells[0])
    if not m:
        return None
    g = GpuFacts(index=int(m.group(1)), name=m.group(2).strip())
    g.persistence_mode = parse_bool(m.group(3))   # WDDM/TCC (Windows driver model) -> None
    if m.group(3) in ("WDDM", "TCC"):
        g.field_errors["persistence_mode"] = f"Windows driver model {m.group(3)}; no persistence mode"
    if (g.name or "").endswith("..."):
        g.field_errors["name"] = "cut short by nvidia-smi's table"
    m = re.match(r"^(\S+)\s+(On|Off)$", cells[1])
    if m:
        g.pci_bus_id = m.group(1)
        g.display_active = parse_bool(m.group(2))
    ecc = cells[2]
    if ecc.isdigit():
        g.ecc_mode_current, g.ecc_uncorrected_volatile = True, int(ecc)
    elif ecc == "Off":
        g.ecc_mode_current = False
    else:
        g.field_errors["ecc_mode_current"] = "N/A in nvidia-smi: no ECC on this GPU"
    return g


def _gpu_row2(cells: list[str], g: GpuFacts) -> None:
    m = re.match(r"^(\S+)\s+(\S+)\s+(P\d+|\S+)\s+(\S+)\s*/\s*(\S+)$", cells[0])
    if m:
        g.fan_pct = _num(m.group(1))
        g.temperature_c = _num(m.group(2))
        g.power_draw_w = _num(m.group(4))
        g.power_limit_w = _num(m.group(5))
    m = re.match(r"^(\d+)MiB\s*/\s*(\d+)MiB$", cells[1])
    if m:
        g.memory_used_mib, g.memory_total_mib = float(m.group(1)), float(m.group(2))
    m = re.match(r"^(\d+%|N/A)\s+(.+)$", cells[2])
    if m:
        g.utilization_gpu_pct = _num(m.group(1))
        g.compute_mode = _COMPUTE_MODES.get(m.group(2).strip().lower(), m.group(2).strip())


_PROC = re.compile(r"^\|\s+(\d+)\s+(?:(\S+)\s+(\S+)\s+)?(\d+|N/A)\s+(C\+G|C|G)\s+(.+?)\s+(\d+MiB|N/A)\s*\|$")


def parse_nvidia_smi(text: str) -> Facts:
    """Facts from the ``nvidia-smi`` table (text already passed through clean_paste)."""
    facts = Facts(origin="nvidia-smi", redacted=True)
    nv = facts.nvml
    m = re.search(r"(?:Driver|KMD) Version:\s*([\d.]+)", text)
    nv.driver_version = m.group(1) if m else None
    m = re.search(r"CUDA (?:UMD )?Version:\s*([\d.]+)", text)
    nv.cuda_driver_version = m.group(1) if m else None
    lines = text.split("\n")
    gpus: list[GpuFacts] = []
    current: GpuFacts | None = None
    row = 0
    in_procs = False
    procs_seen = procs_complete = procs_body = False
    for line in lines:
        s = line.strip()
        if "Processes:" in s:
            in_procs, procs_seen = True, True
            continue
        if "MIG devices:" in s:
            in_procs = False
            continue
        if in_procs and s.startswith("|=="):
            procs_body = True
            continue
        if not s.startswith("|"):
            if in_procs and procs_body and s.startswith("+"):
                procs_complete = True      # the Processes table's closing border
            current = None if s.startswith("+") else current
            continue
        if in_procs:
            pm = _PROC.match(s)
            if pm:
                idx = int(pm.group(1))
                name = pm.group(6).strip()
                proc = GpuProcess(
                    pid=int(pm.group(4)) if pm.group(4).isdigit() else -1,
                    name=re.split(r"[\\/]", name)[-1],     # paths shortened to the basename
                    used_mib=_num(pm.group(7)),
                    kind="graphics" if pm.group(5) == "G" else "compute",
                )
                for g in gpus:
                    if g.index == idx:
                        g.processes = (g.processes or []) + [proc]
            continue
        cells = _cells(s)
        first = _gpu_row1(cells)
        if first is not None:
            gpus.append(first)
            current, row = first, 1
            continue
        if current is not None and len(cells) == 3:
            row += 1
            if row == 2:
                _gpu_row2(cells, current)
            elif row == 3 and cells[2] in ("Enabled", "Disabled"):
                current.mig_mode_current = cells[2] == "Enabled"
    if procs_complete or (procs_seen and re.search(r"No running processes found", text)):
        for g in gpus:
            g.processes = g.processes or []
    nv.gpus = gpus
    nv.available = bool(gpus) or nv.driver_version is not None
    nv.gpu_count = len(gpus) if gpus else None
    failed = _failure(text, facts)
    if not gpus:
        facts.not_collected["gpus"] = (f"nvidia-smi failed: {failed}" if failed
                                       else "no GPU rows in this nvidia-smi paste (cut short?)")
    m = re.search(r"NVIDIA-SMI\s+([\d.]+)", text)
    if m and nv.driver_version and m.group(1) != nv.driver_version:
        # Under WSL2, nvidia-smi is the Linux-side build (515.65.01) and "Driver Version" the
        # Windows driver (516.94) (pytorch/pytorch#84550); elsewhere the two are the same.
        facts.host.wsl = True
    if not procs_seen:
        facts.not_collected["processes"] = "the paste does not include the Processes table"
    elif not procs_complete and not any(g.processes == [] for g in gpus):
        facts.not_collected["processes"] = (
            "the Processes table in the paste is cut short; the list may be partial")
    return _finish(facts, NOT_IN_SMI, text)


# ---- nvidia-smi -q ----------------------------------------------------------------------------

def _tree(lines: list[str]) -> list[tuple[list[str], str]]:
    """Flatten the indented tree to (path, value) pairs; section headers have value ''."""
    out: list[tuple[list[str], str]] = []
    stack: list[tuple[int, str]] = []
    for line in lines:
        if not line.strip() or "NVSMI LOG" in line:
            continue
        indent = len(line) - len(line.lstrip())
        # Values are separated by " : "; a line without it is a section header (the GPU
        # header "GPU 00000000:41:00.0" has colons of its own).
        key, _, val = line.strip().partition(" : ")
        key = key.strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = [k for _, k in stack] + [key]
        out.append((path, val.strip()))
        if not val.strip():
            stack.append((indent, key))
    return out


# -q fields read as they are: (parent section or "" for any, key) -> (GpuFacts field, reader).
_Q_FIELDS: dict[tuple[str, str], tuple[str, Callable[[str], object]]] = {
    ("", "product name"): ("name", value_or_none),
    ("", "display active"): ("display_active", parse_bool),
    ("", "persistence mode"): ("persistence_mode", parse_bool),
    ("", "bus id"): ("pci_bus_id", value_or_none),
    ("", "fan speed"): ("fan_pct", _num),
    ("", "gpu current temp"): ("temperature_c", _num),
    ("", "gpu slowdown temp"): ("temperature_slowdown_c", _num),
    ("utilization", "gpu"): ("utilization_gpu_pct", _num),
    ("clocks", "sm"): ("sm_clock_mhz", _num),
    ("clocks", "memory"): ("mem_clock_mhz", _num),
    ("max clocks", "sm"): ("sm_clock_max_mhz", _num),
    ("retired pages", "single bit ecc"): ("retired_pages_sbe", _int),
    ("retired pages", "double bit ecc"): ("retired_pages_dbe", _int),
    ("retired pages", "pending"): ("retired_pages_pending", parse_bool),
    ("retired pages", "pending page blacklist"): ("retired_pages_pending", parse_bool),
    ("remapped rows", "correctable error"): ("remapped_rows_correctable", _int),
    ("remapped rows", "uncorrectable error"): ("remapped_rows_uncorrectable", _int),
    ("remapped rows", "pending"): ("remapped_rows_pending", parse_bool),
    ("remapped rows", "remapping failure occurred"): ("remapped_rows_failure", parse_bool),
}
for _sec, _pre, _other, _read in (
        ("mig mode", "mig_mode", "pending", parse_bool), ("ecc mode", "ecc_mode", "pending", parse_bool),
        ("pcie generation", "pcie_gen", "max", _int), ("?gen", "pcie_gen", "max", _int),
        ("link width", "pcie_width", "max", _int)):
    for _key in ("current", _other):
        _Q_FIELDS[(_sec, _key)] = (f"{_pre}_{_key}", _read)
for _sec in _POWER_SECTIONS:
    _Q_FIELDS[(_sec, "power draw")] = ("power_draw_w", _num)
    _Q_FIELDS[(_sec, "default power limit")] = ("power_default_limit_w", _num)
    _Q_FIELDS[(_sec, "max power limit")] = ("power_max_limit_w", _num)
for _key in ("total", "used"):
    _Q_FIELDS[("fb memory usage", _key)] = (f"memory_{_key}_mib", _num)
_REASON_SECTIONS = ("clocks throttle reasons", "clocks event reasons")


def _gpu_from_q(pairs: list[tuple[list[str], str]], index: int, bus_id: str | None) -> GpuFacts:
    g = GpuFacts(index=index, pci_bus_id=bus_id)
    reasons: list[str] | None = None
    proc: dict[str, str] = {}
    procs: list[GpuProcess] | None = None
    ecc: dict[str, int | None] = {"unc": None, "cor": None, "agg": None}

    def flush_proc() -> None:
        nonlocal procs
        if proc.get("process id"):
            procs = (procs or []) + [GpuProcess(
                pid=_int(proc["process id"]) or -1,
                name=re.split(r"[\\/]", proc.get("name", ""))[-1] or None,   # no paths, no user names
                used_mib=_num(proc.get("used gpu memory")),
                kind="graphics" if proc.get("type") == "G" else "compute")]
        proc.clear()

    for path, val in pairs:
        p = [x.lower() for x in path]
        key, parent = p[-1], (p[-2] if len(p) > 1 else "")
        v = value_or_none(val)
        spec = _Q_FIELDS.get((parent, key)) or _Q_FIELDS.get(("", key))
        if spec:
            setattr(g, spec[0], spec[1](val))
        elif key in ("serial number", "gpu uuid"):
            setattr(g, "serial" if key == "serial number" else "uuid", REDACTED if v else None)
        elif parent in _REASON_SECTIONS or (len(p) > 2 and p[-3] in _REASON_SECTIONS):
            reasons = reasons or []
            if parse_bool(val) is True and key in _REASONS:
                reasons.append(_REASONS[key])
        elif key == "compute mode":
            g.compute_mode = _COMPUTE_MODES.get((v or "").lower(), v)
        elif "ecc errors" in p and _int(v) is not None:
            # Old layout: Single/Double Bit > Total; R470+: SRAM/DRAM (Un)correctable.
            unc = key == "total" and "double bit" in p or "uncorrectable" in key
            cor = not unc and (key == "total" and "single bit" in p or "correctable" in key)
            slot = ("agg" if unc else None) if "aggregate" in p else (
                "unc" if unc else "cor" if cor else None) if "volatile" in p else None
            if slot:
                ecc[slot] = (ecc[slot] or 0) + (_int(v) or 0)
        elif key == "remapped rows" and v is None:
            # "Remapped Rows : N/A": the GPU has no row remapping (pre-Ampere, GeForce).
            for f in ("remapped_rows_pending", "remapped_rows_failure",
                      "remapped_rows_correctable", "remapped_rows_uncorrectable"):
                g.field_errors[f] = "N/A in nvidia-smi -q: no row remapping on this GPU"
        elif key in ("power limit", "current power limit", "enforced power limit") and (
                parent in _POWER_SECTIONS):
            # "Enforced" (old) and "Current" (R535+) win over the requested "Power Limit".
            g.power_limit_w = g.power_limit_w if key == "power limit" and g.power_limit_w else _num(v)
        elif key == "processes":
            procs = [] if (v or "").lower() == "none" else procs
        elif "processes" in p and key in ("process id", "type", "name", "used gpu memory"):
            if key == "process id":
                flush_proc()
            proc[key] = val
    flush_proc()
    g.ecc_uncorrected_volatile, g.ecc_corrected_volatile = ecc["unc"], ecc["cor"]
    g.ecc_uncorrected_aggregate = ecc["agg"]
    g.throttle_reasons = reasons
    g.processes = procs
    return g


def parse_nvidia_smi_q(text: str) -> Facts:
    """Facts from ``nvidia-smi -q`` text (already passed through clean_paste)."""
    facts = Facts(origin="nvidia-smi-q", redacted=True)
    nv = facts.nvml
    lines = [ln for ln in text.split("\n") if ln.strip()]
    # Keep only the -q body: from the LOG header, or from the first indented "Key : Value".
    start = next((i for i, ln in enumerate(lines) if "NVSMI LOG" in ln), None)
    if start is None:
        start = next((i for i, ln in enumerate(lines) if re.match(r"^\s+\S.*\s:\s", ln)), 0)
    lines = lines[start:]
    pairs = _tree(lines)
    # A fragment that starts inside "PCIe Generation" (its Max/Current before "Link Width")
    # has no parent for those two lines; name it so they are read as the generation.
    if pairs and pairs[0][0][-1].lower() in ("max", "current") and len(pairs[0][0]) == 1:
        for path, _ in pairs:
            if len(path) != 1 or path[0].lower() not in ("max", "current"):
                break
            path.insert(0, "?gen")
    top = {p[0].lower(): v for p, v in pairs if len(p) == 1}
    nv.driver_version = value_or_none(top.get("driver version"))
    nv.cuda_driver_version = value_or_none(top.get("cuda version"))
    groups: list[tuple[str | None, list[tuple[list[str], str]]]] = []
    for path, val in pairs:
        head = path[0]
        if re.match(r"^GPU [0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d$", head):
            if not groups or groups[-1][0] != head:
                groups.append((head, []))
            if len(path) > 1:
                groups[-1][1].append((path[1:], val))
        elif head.lower() not in ("timestamp", "driver version", "cuda version", "attached gpus"):
            if not groups or groups[-1][0] is not None:
                groups.append((None, []))
            groups[-1][1].append((path, val))
    gpus = [_gpu_from_q(ps, i, head[4:] if head else None) for i, (head, ps) in enumerate(groups)]
    nv.gpus = gpus
    attached = _int(top.get("attached gpus"))
    nv.gpu_count = attached if attached is not None else (len(gpus) or None)
    nv.available = bool(gpus) or nv.driver_version is not None
    if any(head is None for head, _ in groups):
        facts.not_collected["index"] = (
            "the paste starts inside a GPU's section; its index and bus id are not in it")
    return _finish(facts, NOT_IN_SMI_Q, text)

"""Parse the text ``python -m torch.utils.collect_env`` prints into :class:`Facts`.

Tolerates the variants seen in issue threads across PyTorch 1.x-2.x: older versions lack lines
("ROCM used to build", "Libc", "CPU:"), ``Yes``/``No`` instead of ``True``/``False``,
"Could not collect", "N/A", "No CUDA", Windows (``Key=Value`` CPU block, ``.dll`` cuDNN),
WSL (``microsoft-standard-WSL2`` platform), ROCm builds, localised ``lscpu`` labels, and the
warnings torch prints above the report, which often carry the diagnosis:

* "CUDA initialization: The NVIDIA driver on your system is too old (found version 11040)" ->
  ``torch.cuda_init_error`` and the driver's CUDA version (11.4);
* "<GPU> with CUDA capability sm_120 is not compatible ... supports CUDA capabilities sm_50 ..."
  -> the device's capability and ``torch.arch_list``.

Caveats the doctor must know, from collect_env's own source (``torch/utils/collect_env.py``):
"CUDA runtime version" is ``nvcc --version`` (the toolkit on PATH), not torch's runtime, so it
goes to ``python.nvcc_version``; "cuDNN version" is the system library ``ldconfig`` finds, not
necessarily the one torch loads (pytorch/pytorch#78489); GPU names come from ``nvidia-smi -L``.
"""

from __future__ import annotations

import dataclasses
import re

from rigcheck.facts import Facts, GpuFacts, TorchDevice

REDACTED = "REDACTED"   # what serial numbers and UUIDs met in a paste become
NOT_IN_COLLECT_ENV = "not in a collect_env paste"
NOT_IN_THIS_PASTE = "collect_env prints it, but this paste lacks it (truncated or older version)"

_NONE_VALUES = {"", "n/a", "none", "could not collect", "no cuda", "not available", "unknown"}

_LABELS = (
    "PyTorch version", "Is debug build", "CUDA used to build PyTorch", "ROCM used to build PyTorch",
    "OS", "GCC version", "Clang version", "CMake version", "Libc version", "Python version",
    "Python platform", "Is CUDA available", "CUDA runtime version", "CUDA_MODULE_LOADING set to",
    "GPU models and configuration", "Nvidia driver version", "cuDNN version", "Is XPU available",
    "HIP runtime version", "MIOpen runtime version", "Is XNNPACK available",
    "Caching allocator config", "CPU", "Versions of relevant libraries",
    "Version of relevant libraries",
)
_LABEL_RX = re.compile(
    r"^\s*(" + "|".join(re.escape(x) for x in _LABELS) + r")\s*:\s?(.*)$", re.IGNORECASE
)
_CANON = {x.lower(): x for x in _LABELS}

# Structural fields of the per-GPU record, never "not collected"; any other GpuFacts field that
# no GPU has is listed in not_collected under its bare name (what need_field() looks up).
_GPU_STRUCTURAL = {"index", "lost", "field_errors"}

CPU_FLAGS_OF_INTEREST = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_bf16", "avx512_vnni",
                         "amx_tile", "amx_bf16", "sse4_2")


# ---- small shared helpers (also used by import_nvidia_smi) ------------------------------------

def value_or_none(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    return None if v.lower() in _NONE_VALUES else v


def parse_bool(v: str | None) -> bool | None:
    v = (v or "").strip().lower()
    if v in ("true", "yes", "enabled", "on", "active"):
        return True
    if v in ("false", "no", "disabled", "off", "not active"):
        return False
    return None


def major_minor(v: str | None) -> str | None:
    m = re.match(r"\s*(\d+)\.(\d+)", v or "")
    return f"{m.group(1)}.{m.group(2)}" if m else None


def cuda_from_wheel_tag(torch_version: str | None) -> str | None:
    """"2.1.0+cu121" -> "12.1"; "1.7.1+cu92" -> "9.2"; "+cpu" or no tag -> None."""
    m = re.search(r"\+cu(\d+)(\d)\b", torch_version or "")
    return f"{int(m.group(1))}.{m.group(2)}" if m else None


def cuda_from_driver_int(n: int) -> str:
    """The CUDA driver API's integer (11040) as "11.4" (cudaDriverGetVersion's encoding)."""
    return f"{n // 1000}.{(n % 1000) // 10}"


def capability_from_sm(sm: str) -> str:
    """"120" -> "12.0", "90" -> "9.0", "86" -> "8.6"."""
    return f"{int(sm[:-1])}.{sm[-1]}"


def cudnn_int(major: int, minor: int, patch: int) -> int:
    """As torch.backends.cudnn.version() reports it: 8.9.2 -> 8902, 9.1.0 -> 90100."""
    return major * (10000 if major >= 9 else 1000) + minor * 100 + patch


def pip_show_torch(text: str) -> str | None:
    """The version from a pasted ``pip show torch`` (pytorch/pytorch#77528 pastes one)."""
    m = re.search(r"^\s*Name:\s*torch\s*\n\s*Version:\s*(\S+)", text, re.MULTILINE | re.IGNORECASE)
    return m.group(1) if m else None


def mark_not_collected(facts: Facts, reason: str, keep: set[str] | None = None) -> None:
    """List every still-empty field as not collected, under its bare name (what the doctor's
    ``not_collected(facts, "disks", "host")`` and ``need_field`` look up). A per-GPU field the
    paste showed as "N/A" keeps its field_errors reason instead."""
    keep = keep or set()
    for f in dataclasses.fields(GpuFacts):
        if f.name in keep or f.name in _GPU_STRUCTURAL:
            continue
        gpus = facts.nvml.gpus
        if any(f.name in g.field_errors for g in gpus):
            continue
        if not gpus or all(getattr(g, f.name) is None for g in gpus):
            facts.not_collected.setdefault(f.name, reason)
    for section in ("host", "torch", "python", "nvml", "driver"):
        rec = getattr(facts, section)
        for f in dataclasses.fields(rec):
            if f.name in ("error", "field_errors", "gpus", "version") or f.name in keep:
                continue
            val = getattr(rec, f.name)
            if val is None or val == [] or val == {}:
                facts.not_collected.setdefault(f.name, reason)


# ---- collect_env ------------------------------------------------------------------------------

def _split_blocks(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Label -> value for one-line fields, and label -> following lines for the block fields."""
    values: dict[str, str] = {}
    blocks: dict[str, list[str]] = {}
    current: str | None = None
    # collect_env sometimes lands on one line with "Collecting environment information..."
    # (pytorch/pytorch#145670): split it off first.
    text = re.sub(r"Collecting environment information\.\.\.\s*", "\n", text)
    # "PyTorch version 1.5.0" without a colon (pytorch/pytorch#37320).
    text = re.sub(r"^(\s*PyTorch version)\s+(?=\d)", r"\1: ", text, flags=re.MULTILINE)
    for raw in text.split("\n"):
        m = _LABEL_RX.match(raw)
        if m:
            label = _CANON[m.group(1).lower()]
            val = m.group(2).strip()
            values.setdefault(label, val)
            current = None
            if label == "GPU models and configuration" and not val:
                current = label
            elif label == "cuDNN version" and "probably one of" in val.lower():
                current = label
            elif label in ("CPU", "Versions of relevant libraries", "Version of relevant libraries"):
                current = "CPU" if label == "CPU" else "libs"
            if current:
                blocks.setdefault(current, [])
            continue
        line = raw.strip()
        if current is None:
            continue
        if not line:
            if blocks[current] or current != "CPU":
                current = None
            continue
        blocks[current].append(line)
    return values, blocks


def _parse_cudnn(value: str | None, lines: list[str], facts: Facts) -> None:
    items = ([value] if value and "probably one of" not in value.lower() else []) + lines
    versions: set[tuple[int, int, int]] = set()
    majors: set[int] = set()
    for item in items:
        base = re.split(r"[\\/]", item.strip())[-1]
        m = re.match(r"libcudnn\.so\.(\d+)\.(\d+)\.(\d+)$", base) or re.match(
            r"^(\d+)\.(\d+)\.(\d+)$", base)
        if m:
            versions.add((int(m.group(1)), int(m.group(2)), int(m.group(3))))
            continue
        m = re.match(r"cudnn\w*?64_(\d+)\.dll$", base, re.IGNORECASE)
        if m:
            majors.add(int(m.group(1)))
    if len(versions) == 1:
        facts.torch.cudnn_version = cudnn_int(*versions.pop())
    elif len(versions) > 1:
        listed = ", ".join(".".join(map(str, v)) for v in sorted(versions))
        facts.not_collected["cudnn_version"] = (
            f"collect_env listed several system cuDNN libraries ({listed}); which one torch "
            "loads is not in the paste")
    elif majors:
        facts.not_collected["cudnn_version"] = (
            f"only the cuDNN major version ({'/'.join(map(str, sorted(majors)))}) is in the "
            "Windows DLL name")


def _parse_cpu(lines: list[str], facts: Facts) -> None:
    host = facts.host
    kv: dict[str, str] = {}
    for line in lines:
        m = re.match(r"^([^:=]+?)\s*[:=]\s*(.*)$", line)
        if m:
            kv[m.group(1).strip().lower()] = m.group(2).strip()
    host.cpu_model = kv.get("model name") or kv.get("name") or kv.get("型号名称") or host.cpu_model
    host.cpu_vendor = kv.get("vendor id") or kv.get("manufacturer") or kv.get("厂商 id")
    for key in ("architecture", "架构"):
        if re.match(r"^(x86_64|aarch64|arm64|ppc64le|s390x)$", kv.get(key, "")):
            host.arch = kv[key]
    if kv.get("cpu(s)", "").isdigit():
        host.threads = int(kv["cpu(s)"])
    cores, sockets = kv.get("core(s) per socket", ""), kv.get("socket(s)", "")
    if cores.isdigit() and sockets.isdigit():
        host.cores_physical = int(cores) * int(sockets)
    if kv.get("hypervisor vendor"):
        host.hypervisor = kv["hypervisor vendor"].lower()
    # The flags line by content, so localised labels ("标记") work too.
    flags: set[str] | None = None
    for val in kv.values():
        toks = val.split()
        if len(toks) > 10 and "fpu" in toks and any(t.startswith("sse") for t in toks):
            flags = set(toks)
    if flags is not None:
        host.cpu_flags = {f: f in flags for f in CPU_FLAGS_OF_INTEREST}


def _parse_libs(lines: list[str], facts: Facts) -> None:
    pip: dict[str, str] = {}
    conda: dict[str, str] = {}
    for line in lines:
        m = re.match(r"^\[(pip3?|conda)\]\s+(.*)$", line)
        if not m:
            continue
        kind, rest = m.group(1), m.group(2).strip()
        if value_or_none(rest) is None or rest.lower().startswith("no relevant"):
            continue
        if kind.startswith("pip"):
            name, sep, ver = rest.partition("==")
            if sep:
                pip[name.strip().lower()] = ver.strip()
        else:
            parts = rest.split()
            if len(parts) >= 2:
                conda[parts[0].lower()] = parts[1]
    torch_f = facts.torch
    torch_f.numpy_version = pip.get("numpy") or conda.get("numpy")
    wheels = {k: v for k, v in pip.items() if k.startswith("nvidia-")}
    torch_f.nvidia_wheels = wheels or None
    if conda:
        facts.python.conda_packages = conda
    if torch_f.version is None:
        torch_f.version = pip.get("torch") or conda.get("pytorch")


def _parse_warnings(text: str, facts: Facts) -> dict[str, str]:
    """torch's warnings above the report; returns {gpu name: capability} it names."""
    caps: dict[str, str] = {}
    m = re.search(r"CUDA initialization:\s*(.+?)(?:\s*\(Triggered internally.*)?$", text, re.MULTILINE)
    if m:
        facts.torch.cuda_init_error = m.group(1).strip()
    m = re.search(r"driver on your system is too old \(found version (\d{4,6})\)", text)
    if m:
        facts.nvml.cuda_driver_version = cuda_from_driver_int(int(m.group(1)))
    for m in re.finditer(r"^\s*(.+?) with CUDA capability sm_(\d{2,3}) is not compatible", text,
                         re.MULTILINE):
        caps[m.group(1).strip()] = capability_from_sm(m.group(2))
    m = re.search(r"supports CUDA capabilities ((?:(?:sm|compute)_\d+\s*)+)", text)
    if m:
        facts.torch.arch_list = m.group(1).split()
    for m in re.finditer(r"Found GPU(\d+) (.+?) which is of cuda capability (\d+)\.(\d+)", text):
        caps[m.group(2).strip()] = f"{m.group(3)}.{m.group(4)}"
    return caps


def _parse_platform(values: dict[str, str], facts: Facts) -> None:
    host = facts.host
    os_val = value_or_none(values.get("OS"))
    if os_val:
        m = re.match(r"^(.*?)\s*\((x86_64|aarch64|arm64|ppc64le|s390x|AMD64)\)$", os_val)
        host.os, host.arch = (m.group(1), m.group(2)) if m else (os_val, host.arch)
    libc = value_or_none(values.get("Libc version"))
    if libc:
        m = re.match(r"glibc-?(\d+\.\d+)", libc)
        host.glibc = m.group(1) if m else None
    plat = values.get("Python platform", "")
    m = re.match(r"^Linux-(.+?)-(x86_64|aarch64|arm64|ppc64le|s390x)(?:-|$)", plat)
    if m:
        host.kernel, host.arch = m.group(1), host.arch or m.group(2)
        host.wsl = "microsoft" in plat.lower()
    elif plat.startswith("Windows") or (host.os or "").lower().startswith("microsoft windows"):
        host.wsl = False


def _parse_gpus(values: dict[str, str], blocks: dict[str, list[str]], caps: dict[str, str],
                facts: Facts) -> None:
    raw = value_or_none(values.get("GPU models and configuration"))
    lines = blocks.get("GPU models and configuration", []) or ([raw] if raw else [])
    nv, torch_f = facts.nvml, facts.torch
    nvidia: list[tuple[int, str]] = []
    other: list[str] = []
    mig: set[int] = set()
    for line in lines:
        # Older collect_env kept nvidia-smi -L's "(UUID: GPU-...)": dropped here (redaction).
        m = re.match(r"^GPU\s*(\d+)\s*:\s*(.+?)(?:\s*\(UUID:[^)]*\))?$", line)
        if m:
            nvidia.append((int(m.group(1)), m.group(2).strip()))
        elif line.strip().startswith("MIG ") and nvidia:
            mig.add(nvidia[-1][0])     # nvidia-smi -L lists MIG devices under their GPU
        elif value_or_none(line):
            other.append(line.strip())
    driver = value_or_none(values.get("Nvidia driver version"))
    nv.driver_version = driver
    if nvidia:
        # collect_env lists GPUs through `nvidia-smi -L`, so NVML worked on that machine.
        nv.available = True
        nv.gpu_count = len(nvidia)
        nv.gpus = [GpuFacts(index=i, name=n, compute_capability=caps.get(n),
                            mig_mode_current=True if i in mig else None) for i, n in nvidia]
    elif "GPU models and configuration" not in values and "Nvidia driver version" not in values:
        # The paste is cut before these lines (pytorch/pytorch#112553 is): unknown, not absent.
        nv.error = NOT_IN_THIS_PASTE
        facts.not_collected["gpus"] = NOT_IN_THIS_PASTE
    elif facts.torch.hip_build:
        facts.not_collected["nvml"] = "ROCm build: NVIDIA's NVML does not apply to AMD GPUs"
    elif driver is None:
        nv.available = False
        nv.error = "collect_env found no NVIDIA GPU or driver ('Could not collect' from nvidia-smi)"
    if torch_f.cuda_available:
        devs = [(i, n) for i, n in nvidia] or list(enumerate(other))
        torch_f.devices = [TorchDevice(index=i, name=n, capability=caps.get(n)) for i, n in devs]
        torch_f.device_count = len(devs)


def parse_collect_env(text: str) -> Facts:
    """Facts from collect_env text (already passed through importers.clean_paste)."""
    facts = Facts(origin="collect_env", redacted=True)
    values, blocks = _split_blocks(text)
    caps = _parse_warnings(text, facts)
    t = facts.torch

    version = value_or_none(values.get("PyTorch version"))
    # "PyTorch version: N/A" means torch did not import; no line at all means a cut paste.
    t.installed = (version is not None) if "PyTorch version" in values else None
    t.version = version
    cuda_build = value_or_none(values.get("CUDA used to build PyTorch"))
    t.cuda_build = major_minor(cuda_build) or (
        None if "CUDA used to build PyTorch" in values else cuda_from_wheel_tag(version))
    rocm = value_or_none(values.get("ROCM used to build PyTorch"))
    m = re.search(r"\+rocm(\d+\.\d+)", version or "")
    t.hip_build = major_minor(rocm) or (m.group(1) if m else None)
    t.cuda_available = parse_bool(values.get("Is CUDA available"))
    if t.cuda_available is None and t.cuda_init_error:
        # torch prints "CUDA initialization: ..." from is_available() when it returns False.
        t.cuda_available = False

    _parse_platform(values, facts)
    py = value_or_none(values.get("Python version"))
    m = re.match(r"(\d+\.\d+(?:\.\d+)?)", py or "")
    facts.python.version = m.group(1) if m else None
    facts.python.nvcc_version = major_minor(value_or_none(values.get("CUDA runtime version")))
    loading = value_or_none(values.get("CUDA_MODULE_LOADING set to"))
    if loading:
        facts.python.env["CUDA_MODULE_LOADING"] = loading
    alloc = value_or_none(values.get("Caching allocator config"))
    if alloc:
        facts.python.env["PYTORCH_CUDA_ALLOC_CONF"] = alloc

    _parse_gpus(values, blocks, caps, facts)
    _parse_cudnn(value_or_none(values.get("cuDNN version")), blocks.get("cuDNN version", []), facts)
    _parse_cpu(blocks.get("CPU", []), facts)
    _parse_libs(blocks.get("libs", []), facts)
    if t.cuda_build is None and "CUDA used to build PyTorch" not in values:
        t.cuda_build = cuda_from_wheel_tag(t.version)   # the version may come from [pip3] only
    if t.installed is None and t.version:
        t.installed = True

    # What the paste could not tell: whole sections by name, then every empty field.
    facts.not_collected["driver"] = (
        "collect_env does not read /proc/driver/nvidia, kernel modules or /dev/nvidia*")
    facts.not_collected["python.env"] = (
        "collect_env shows only CUDA_MODULE_LOADING and the allocator config, no other variables")
    facts.not_collected["env"] = facts.not_collected["python.env"]
    facts.not_collected["p2p"] = NOT_IN_COLLECT_ENV
    if facts.nvml.cuda_driver_version is None and facts.nvml.available:
        facts.not_collected["cuda_driver_version"] = (
            "collect_env prints the driver version, not the CUDA version the driver supports")
    printed = {  # fields collect_env prints, in the versions that have the line
        ("host", "glibc"): "Libc version", ("host", "kernel"): "Python platform",
        ("host", "cpu_model"): "CPU", ("host", "cpu_flags"): "CPU",
        ("torch", "cudnn_version"): "cuDNN version",
        ("torch", "numpy_version"): "Versions of relevant libraries",
    }
    for (section, name), label in printed.items():
        present = label in values or (label.startswith("Versions") and "libs" in blocks)
        if getattr(getattr(facts, section), name) is None and name not in facts.not_collected:
            facts.not_collected[name] = (f"not in this paste's '{label}' section" if present
                                         else NOT_IN_THIS_PASTE)
    keep = {"devices", "device_count"} if t.cuda_available is False else set()
    mark_not_collected(facts, NOT_IN_COLLECT_ENV, keep=keep)
    return facts

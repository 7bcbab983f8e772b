"""AMD, Apple and kernel-log text in a paste, read into :class:`Facts` (fills only what is empty).

* ``rocm-smi`` ("ROCm System Management Interface", "GPU[0]\t\t: Card series: ..."),
  ``amd-smi static`` ("MARKET_NAME: ...", "TARGET_GRAPHICS_VERSION: gfx942"), ``rocminfo``
  ("HSA System Attributes", "Name: gfx1100", "Marketing Name: AMD Radeon RX 7900 XTX"): the GPU
  name and gfx target go to ``paste.hints`` (NVML's records are for NVIDIA GPUs);
* ``system_profiler SPDisplaysDataType`` ("Chipset Model: Apple M2 Pro", "Metal Support: Metal 3"):
  ``paste.hints["apple_chip"]``;
* ``dmesg`` / ``journalctl -k`` / ``nvidia-bug-report.log``: the driver version from
  "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  550.54.15", the kernel from "Linux version";
  the Xid and error lines themselves are matched by the signature registry.
"""

from __future__ import annotations

import re

from rigcheck.facts import AmdGpu, Facts

_GFX = re.compile(r"\b(gfx(?:9|10|11|12)[0-9a-f]{2}|gfx90a|gfx94[0-2]|gfx950)\b")
_KMOD = re.compile(r"NVIDIA UNIX (?:Open )?(?:x86_64 |aarch64 |ppc64le )?Kernel Module(?: for \w+)?\s+"
                   r"(\d{3}\.\d+(?:\.\d+)?)")


def read_amd(text: str, facts: Facts) -> list[str]:
    hints = facts.paste.hints
    kinds = []
    if "ROCm System Management Interface" in text or re.search(r"^GPU\[\d+\]\s*:", text, re.MULTILINE):
        kinds.append("rocm-smi")
    if re.search(r"^\s*(MARKET_NAME|TARGET_GRAPHICS_VERSION|ASIC):", text, re.MULTILINE):
        kinds.append("amd-smi")
    if "HSA System Attributes" in text or "ROCk module" in text or "HSA Agents" in text:
        kinds.append("rocminfo")
    m = _GFX.search(text)
    if m:
        hints.setdefault("gfx_target", m.group(1))
    m = (re.search(r"Marketing Name:\s*(AMD [^\n]+?)\s*$", text, re.MULTILINE)
         or re.search(r"MARKET_NAME:\s*(\S[^\n]*?)\s*$", text, re.MULTILINE)
         or re.search(r"Card [Ss]eries:\s*(\S[^\n]*?)\s*$", text, re.MULTILINE))
    if m:
        hints.setdefault("gpu_name", m.group(1))
    m = (re.search(r"ROCm version\s*:?\s*(\d+\.\d+(?:\.\d+)?)", text, re.IGNORECASE)
         or re.search(r"ROCM used to build PyTorch\s*:\s*(\d+\.\d+)", text)
         or re.search(r"\+rocm(\d+\.\d+)", text)
         or re.search(r"HIP version\s*:\s*(\d+\.\d+)", text))
    if m:
        hints.setdefault("rocm_version", m.group(1))
        if facts.torch.version and "rocm" in facts.torch.version and not facts.torch.hip_build:
            facts.torch.hip_build = m.group(1)
    _fill_amd(facts)
    m = re.search(r"HSA_OVERRIDE_GFX_VERSION\s*=\s*(\d+\.\d+\.\d+)", text)
    if m:
        facts.python.env.setdefault("HSA_OVERRIDE_GFX_VERSION", m.group(1))
    return kinds


def _fill_amd(facts: Facts) -> None:
    """The AMD section the doctor's ROCm checks read, from what the paste named."""
    hints, amd = facts.paste.hints, facts.amd
    amd.rocm_version = amd.rocm_version or hints.get("rocm_version")
    name = hints.get("gpu_name") if (hints.get("gpu_name") or "").startswith(("AMD", "Radeon")) else None
    if not amd.gpus and (hints.get("gfx_target") and (name or facts.paste.kinds)):
        amd.gpus = [AmdGpu(index=0, name=name, gfx_target=hints.get("gfx_target"))]
        amd.available = True


def read_apple(text: str, facts: Facts) -> list[str]:
    hints = facts.paste.hints
    kinds = []
    m = re.search(r"Chipset Model:\s*(.+?)\s*$", text, re.MULTILINE)
    if m:
        kinds.append("system_profiler")
        hints.setdefault("gpu_name", m.group(1))
        if m.group(1).startswith("Apple"):
            hints.setdefault("apple_chip", m.group(1))
    m = re.search(r"\b(Apple M\d(?: (?:Pro|Max|Ultra))?)\b", text)
    if m:
        hints.setdefault("apple_chip", m.group(1))
    if hints.get("apple_chip"):
        facts.host.apple_silicon = True
    m = re.search(r"\bmacOS[- ](\d+(?:\.\d+)*)", text) or re.search(
        r"System Version:\s*macOS (\d+(?:\.\d+)*)", text)
    if m:
        hints.setdefault("macos", m.group(1))
        facts.host.macos_version = facts.host.macos_version or m.group(1)
    elif re.search(r"\bDarwin Kernel Version\b|Platform: macOS", text):
        hints.setdefault("macos", "?")
    return kinds


def read_kernel_log(text: str, facts: Facts) -> list[str]:
    kinds = []
    if re.search(r"^(?:\[\s*\d+\.\d+\]|\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ kernel:).*(?:NVRM|nvidia|pcieport|amdgpu)",
                 text, re.MULTILINE):
        kinds.append("dmesg")
    if "nvidia-bug-report" in text or "Start of NVIDIA bug report log file" in text:
        kinds.append("nvidia-bug-report.log")
    m = _KMOD.search(text)
    if m:
        facts.driver.kernel_module_version = facts.driver.kernel_module_version or m.group(1)
        facts.nvml.driver_version = facts.nvml.driver_version or m.group(1)
    m = re.search(r"Linux version (\d+\.\d+\.\d+\S*)", text)
    if m:
        facts.host.kernel = facts.host.kernel or m.group(1)
    return kinds

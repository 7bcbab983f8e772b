"""Other tools' reports in a paste, read into :class:`Facts` (fills only what is still empty).

Each reader takes the cleaned text and the facts, and returns the kind names it recognised:

* package lists: ``pip list`` (needs its "Package  Version" header), ``pip freeze`` (``name==v``),
  ``pip show``, ``conda list`` (its "# Name  Version  Build" header), collect_env's ``[pip3]`` /
  ``[conda]`` lines -> ``torch.stack``;
* Hugging Face env reports: ``accelerate env``, ``transformers env`` (transformers-cli env),
  ``diffusers-cli env`` ("- `Accelerate` version: 0.27.2", "- PyTorch version (GPU?): 2.2.1+cu121
  (True)", "- GPU type: NVIDIA A100-SXM4-80GB", "- Platform: Linux-...-with-glibc2.35");
* ``vllm collect-env`` (collect_env plus "vLLM Version:");
* ``python -m bitsandbytes`` (0.43+: "CUDA specs: CUDASpecs(highest_compute_capability=(8, 6),
  cuda_version_string='121', ..."; 0.3x/0.41: "CUDA SETUP: Highest compute capability among GPUs
  detected: 7.5", "CUDA SETUP: Detected CUDA version 117");
* ``nvcc --version`` ("Cuda compilation tools, release 12.4, V12.4.131").
"""

from __future__ import annotations

import re

from rigcheck.facts import Facts
from rigcheck.probe.import_collect_env import cuda_from_wheel_tag, major_minor

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_VER = r"\d[\w.+!-]*"
_FREEZE = re.compile(rf"^\s*({_NAME})==({_VER})\s*$", re.MULTILINE)
_PIP3 = re.compile(rf"^\s*\[(?:pip3?|conda)\]\s+({_NAME})(?:==|\s+)({_VER})", re.MULTILINE)
_PIP_LIST_HEAD = re.compile(r"^\s*Package\s+Version\b.*$\n^\s*-{3,}[\s-]*$", re.MULTILINE)
_PIP_LIST_ROW = re.compile(rf"^\s*({_NAME})\s+({_VER})(?:\s+\S.*)?$")
_CONDA_HEAD = re.compile(r"^#\s*Name\s+Version\s+Build", re.MULTILINE)
_CONDA_ROW = re.compile(rf"^({_NAME})\s+({_VER})\s+\S+(?:\s+\S+)?\s*$")
_PIP_SHOW = re.compile(rf"^\s*Name:\s*({_NAME})\s*\n\s*Version:\s*({_VER})", re.MULTILINE)
_HF_VERSION = re.compile(rf"^\s*-\s+`?([A-Za-z][\w .-]*?)`?\s+version\s*:\s*({_VER})", re.MULTILINE)
_HF_TORCH = re.compile(r"^\s*-\s+PyTorch version \(GPU\?\)\s*:\s*(\d[\w.+]*)\s*\((True|False)",
                       re.MULTILINE | re.IGNORECASE)
_HF_GPU = re.compile(r"^\s*-\s+GPU type\s*:\s*(.+?)\s*$", re.MULTILINE)
_HF_PLATFORM = re.compile(r"^\s*-\s+Platform\s*:\s*(\S+)", re.MULTILINE)
_MAX_ROWS = 5000


def canonical(name: str) -> str:
    """PEP 503-style: "Flash_Attn" -> "flash-attn"; conda's "pytorch" stays "pytorch"."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _add(pk: dict[str, str], name: str, version: str) -> None:
    pk.setdefault(canonical(name), version)


def read_packages(text: str, facts: Facts) -> list[str]:
    pk: dict[str, str] = dict(facts.torch.stack or {})
    kinds = []
    found = _FREEZE.findall(text)
    if len(found) >= 2 or (found and "freeze" in text):
        kinds.append("pip freeze")
    for name, ver in found[:_MAX_ROWS]:
        _add(pk, name, ver)
    for name, ver in _PIP3.findall(text)[:_MAX_ROWS]:
        _add(pk, name, ver)
    for name, ver in _PIP_SHOW.findall(text)[:50]:
        _add(pk, name, ver)
        kinds.append("pip show")
    head = _PIP_LIST_HEAD.search(text)
    if head:
        kinds.append("pip list")
        for line in text[head.end():].split("\n")[1:_MAX_ROWS]:
            m = _PIP_LIST_ROW.match(line)
            if m:
                _add(pk, m.group(1), m.group(2))
            elif line.strip():
                break
    head = _CONDA_HEAD.search(text)
    if head:
        kinds.append("conda list")
        for line in text[head.end():].split("\n")[1:_MAX_ROWS]:
            m = _CONDA_ROW.match(line.strip())
            if m:
                _add(pk, m.group(1), m.group(2))
    hf = _HF_VERSION.findall(text)
    if hf:
        for name, ver in hf[:100]:
            if name.lower() not in ("python", "pytorch", "numpy", "cuda", "cudnn"):
                _add(pk, name, ver)
            elif name.lower() == "numpy":
                _add(pk, "numpy", ver)
        for tool in ("accelerate", "transformers", "diffusers", "peft"):
            if re.search(rf"^\s*-\s+`{tool}` version", text, re.MULTILINE | re.IGNORECASE):
                kinds.append(f"{tool} env")
    m = re.search(r"^\s*vLLM Version\s*:\s*(\S+)", text, re.MULTILINE)
    if m:
        _add(pk, "vllm", m.group(1))
        kinds.append("vllm collect-env")
    if pk:
        facts.torch.stack = pk
    _torch_from_packages(pk, facts)
    return kinds


def _torch_from_packages(pk: dict[str, str], facts: Facts) -> None:
    t = facts.torch
    version = pk.get("torch") or pk.get("pytorch")
    if version and not t.version:
        t.version, t.installed = version, True
    if t.version and not t.cuda_build:
        t.cuda_build = cuda_from_wheel_tag(t.version)
    wheels = {k: v for k, v in pk.items() if k.startswith("nvidia-")}
    if wheels and not t.nvidia_wheels:
        t.nvidia_wheels = wheels
    if pk.get("numpy") and not t.numpy_version:
        t.numpy_version = pk["numpy"]


def read_hf_env(text: str, facts: Facts) -> list[str]:
    t = facts.torch
    m = _HF_TORCH.search(text)
    if m:
        t.version = t.version or m.group(1)
        t.installed = True
        if t.cuda_available is None:
            t.cuda_available = m.group(2).lower() == "true"
        t.cuda_build = t.cuda_build or cuda_from_wheel_tag(t.version)
    m = _HF_GPU.search(text)
    if m and m.group(1).lower() not in ("n/a", "none"):
        facts.paste.hints.setdefault("gpu_name", m.group(1))
    m = _HF_PLATFORM.search(text)
    if m:
        plat = m.group(1)
        k = re.match(r"^Linux-(.+?)-(x86_64|aarch64)", plat)
        if k:
            facts.host.kernel = facts.host.kernel or k.group(1)
            facts.host.arch = facts.host.arch or k.group(2)
            if facts.host.wsl is None:
                facts.host.wsl = "microsoft" in plat.lower()
        g = re.search(r"glibc(\d+\.\d+)", plat)
        if g:
            facts.host.glibc = facts.host.glibc or g.group(1)
        if plat.startswith("Windows"):
            facts.paste.hints.setdefault("os", "windows")
        if plat.startswith("macOS"):
            facts.paste.hints.setdefault("macos", plat.split("-")[1] if "-" in plat else plat)
    return []


def read_bitsandbytes(text: str, facts: Facts) -> list[str]:
    hints = facts.paste.hints
    kinds = []
    m = re.search(r"highest_compute_capability=\((\d+), ?(\d+)\)", text) or re.search(
        r"Highest [Cc]ompute [Cc]apability(?: among GPUs detected)?:?\s*\(?(\d+)[., ]+(\d+)", text)
    if m:
        hints.setdefault("gpu_cc", f"{m.group(1)}.{m.group(2)}")
        kinds.append("python -m bitsandbytes")
    m = re.search(r"cuda_version_string='(\d+)'", text) or re.search(
        r"(?:CUDA_VERSION=|Detected CUDA version )(\d{2,3})\b", text)
    if m:
        v = m.group(1)
        hints.setdefault("bnb_cuda", f"{int(v[:-1])}.{v[-1]}")
    if re.search(r"^\s*bitsandbytes library load error|^CUDA SETUP:|BUG REPORT INFORMATION",
                 text, re.MULTILINE):
        kinds.append("python -m bitsandbytes")
    return sorted(set(kinds))


def read_nvcc(text: str, facts: Facts) -> list[str]:
    m = re.search(r"Cuda compilation tools, release (\d+\.\d+)", text)
    if not m:
        return []
    facts.python.nvcc_version = facts.python.nvcc_version or major_minor(m.group(1))
    return ["nvcc --version"]

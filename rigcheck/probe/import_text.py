"""Any pasted text -> :class:`Facts`: what can be read, wherever it sits in the paste.

``enrich(facts, text)`` runs after the structured importers (collect_env, nvidia-smi): it fills
only fields still empty, from the other tools' reports (import_reports, import_platform) and from
loose mentions (versions, GPU names and capabilities, driver and CUDA versions, container and OS
hints), and keeps the lines the signature registry matches (rigcheck.doctor.signatures.scan) in
``facts.paste_lines``, so an error next to a report is never ignored. ``recognised(facts)`` says
whether anything at all was found (the importer refuses the paste otherwise).

Every regex here is linear: no nested quantifiers, bounded repeats.
"""

from __future__ import annotations

import re

from rigcheck.facts import Facts, GpuFacts, PasteLine
from rigcheck.probe import import_platform, import_reports
from rigcheck.probe.import_collect_env import (
    _parse_warnings,
    capability_from_sm,
    cuda_from_wheel_tag,
)

DIGEST_CHARS = 160 * 1024

_GPU_L = re.compile(r"^\s*GPU (\d+): ((?:NVIDIA|Tesla|Quadro|GeForce|TITAN|RTX)[^\n(]{2,60}?)\s*(?:\(UUID|$)",
                    re.MULTILINE)
_GPU_NAME = re.compile(
    r"\b((?:NVIDIA )?(?:GeForce (?:RTX|GTX|GT) ?\d{3,4}(?: Ti| SUPER| Laptop GPU){0,2}"
    r"|RTX (?:A\d{3,4}|PRO \d{4}|\d{4}(?: Ada)?)(?: Generation)?|Tesla [KMPVT]\d{1,3}\w*"
    r"|Quadro (?:RTX )?[A-Z]?\d{3,4}|TITAN (?:RTX|V|Xp|X)|[ABHL]\d{2,3}(?:-(?:SXM|PCIE)\w*)?(?: \d+GB(?: HBM3)?)?"
    r"|GH200|GB200|B200|H200|A100-SXM4-\d+GB))\b")
_TORCH_VER = re.compile(
    r"(?:^|[\s(\"'])(?:torch|pytorch)(?:==|\s+version\s*[:=]?\s*|\s+|\s*:\s*|-)v?(\d+\.\d+\.\d+(?:[.+a-z0-9]*)?)",
    re.IGNORECASE | re.MULTILINE)
_DRIVER = re.compile(r"Driver Version:\s*(\d{3}\.\d+(?:\.\d+)?)|[Dd]river [Vv]ersion[:= ]+(\d{3}\.\d{2,3}(?:\.\d+)?)")
_CUDA_DRV = re.compile(r"CUDA Version:\s*(\d+\.\d+)|CUDA Driver Version / Runtime Version\s+(\d+\.\d+)")
_CC = re.compile(r"(?:compute capability|CUDA capability|cuda capability)[: ]+(?:major/minor version number:\s*)?"
                 r"\(?(\d+)[., ]+(\d+)\)?|CUDA capability (sm_\d{2,3})|\bsm_(\d{2,3})\b is not compatible")


def _hints(text: str, facts: Facts) -> list[str]:
    hints, host, t, nv = facts.paste.hints, facts.host, facts.torch, facts.nvml
    kinds: list[str] = []
    caps = _parse_warnings(text, facts) if facts.origin == "paste" else {}
    if not nv.gpus:
        rows = _GPU_L.findall(text)
        seen = set()
        for idx, name in rows[:64]:
            if int(idx) not in seen:
                seen.add(int(idx))
                nv.gpus.append(GpuFacts(index=int(idx), name=name.strip(),
                                        compute_capability=caps.get(name.strip())))
        if nv.gpus:
            nv.gpu_count = len(nv.gpus)
            kinds.append("nvidia-smi -L")
    for name, cap in caps.items():
        hints.setdefault("gpu_name", name)
        hints.setdefault("gpu_cc", cap)
    m = _GPU_NAME.search(text)
    if m and not re.fullmatch(r"[ABHL]\d{2,3}", m.group(1)):
        hints.setdefault("gpu_name", m.group(1))
    elif m:
        hints.setdefault("gpu_name_maybe", m.group(1))
    for m in _CC.finditer(text):
        if m.group(1):
            hints.setdefault("gpu_cc", f"{m.group(1)}.{m.group(2)}")
        elif m.group(3) or m.group(4):
            sm = (m.group(3) or f"sm_{m.group(4)}").removeprefix("sm_")
            hints.setdefault("gpu_cc", capability_from_sm(sm))
        break
    if not t.version:
        m = _TORCH_VER.search(text)
        if m:
            t.version, t.installed = m.group(1), True
    if t.version and not t.cuda_build:
        t.cuda_build = cuda_from_wheel_tag(t.version)
    if t.version and "+rocm" in t.version and not t.hip_build:
        t.hip_build = (re.search(r"\+rocm(\d+\.\d+)", t.version) or [None, None])[1]
    m = _DRIVER.search(text)
    if m and not nv.driver_version:
        nv.driver_version = m.group(1) or m.group(2)
    m = _CUDA_DRV.search(text)
    if m and not nv.cuda_driver_version:
        nv.cuda_driver_version = m.group(1) or m.group(2)
    # OS and container hints: only strong ones (a word "docker" in prose is not a container).
    if re.search(r"microsoft-standard-WSL2|\bWSL2\b|/usr/lib/wsl/lib|\\\\wsl", text):
        host.wsl = True if host.wsl is None else host.wsl
    if not host.os:
        m = re.search(r"\b(Ubuntu \d{2}\.\d{2}(?:\.\d+)?(?: LTS)?|Debian GNU/Linux \d+|"
                      r"CentOS Linux \d+|Rocky Linux \d+(?:\.\d+)?|Fedora Linux \d+|"
                      r"Microsoft Windows \d+ \w+|Windows[- ]1[01]\b)", text)
        if m:
            host.os = m.group(1)
            if "Windows" in m.group(1):
                hints.setdefault("os", "windows")
    if re.search(r"[A-Z]:\\(?:Users|Program Files|ProgramData|\w+\\envs)\\|\(\w+\) PS [A-Z]:\\|\.dll\b", text):
        hints.setdefault("os", "windows")
    if host.container is None:
        if re.search(r"docker: Error response from daemon|nvidia-container-cli|/\.dockerenv|"
                     r"\bdocker run\b|OCI runtime create failed|\bdocker nvidia/cuda:|nvcr\.io/", text):
            host.container = "docker"
        elif re.search(r"^[0-9a-f]{12}:\d+:\d+ \[\d+\] NCCL", text, re.MULTILINE):
            host.container = "docker"   # NCCL logs prefix the host name: a container id here
        elif re.search(r"\bkubectl\b|\bKubernetes\b|\bpod/", text):
            host.container = "kubernetes"
    m = re.search(r"ldd \(.*?\) (\d+\.\d+)|glibc[- ]?(\d+\.\d+)\b", text)
    if m and not host.glibc:
        host.glibc = m.group(1) or m.group(2)
    if re.search(r"^Traceback \(most recent call last\):", text, re.MULTILINE):
        kinds.append("traceback")
    if re.search(r"NCCL (?:INFO|WARN)", text):
        kinds.append("NCCL log")
    return kinds


def enrich(facts: Facts, text: str) -> Facts:
    """Fill ``facts`` from whatever ``text`` holds (see the module docstring); returns facts."""
    from rigcheck.doctor.signatures import scan  # the registry is data; reading it is pure

    kinds = list(facts.paste.kinds)
    # Reports sit at the start of a paste and errors at its end: on a long log the fact readers
    # look at both ends (their regexes are many and unanchored); the signature scan reads it all.
    digest = text if len(text) <= DIGEST_CHARS else (
        text[: DIGEST_CHARS * 4 // 5] + "\n" + text[-DIGEST_CHARS // 5:])
    for reader in (import_reports.read_packages, import_reports.read_hf_env,
                   import_reports.read_bitsandbytes, import_reports.read_nvcc,
                   import_platform.read_amd, import_platform.read_apple,
                   import_platform.read_kernel_log, _hints):
        for k in reader(digest, facts):
            if k not in kinds:
                kinds.append(k)
    facts.paste.kinds = kinds
    seen = {pl.text for pl in facts.paste_lines}
    for number, line in scan(text):
        if line not in seen:
            seen.add(line)
            facts.paste_lines.append(PasteLine(line=number, text=line))
    return facts


def recognised(facts: Facts) -> bool:
    """Whether the paste told anything: a report, a known error line, a version, a GPU."""
    p, t, nv = facts.paste, facts.torch, facts.nvml
    # A traceback alone is no diagnosis: its error line must be a known one.
    reports = [k for k in p.kinds if k not in ("traceback", "NCCL log")]
    return bool(facts.paste_lines or reports or p.hints or t.version or nv.driver_version or nv.gpus
                or facts.torch.stack or facts.python.nvcc_version or t.cuda_init_error)

"""Read a facts file for ``rigcheck doctor --facts FILE``: rigcheck JSON, or text people paste.

``load_facts_file(path)`` accepts, by content (not by file name):

* a rigcheck facts file (JSON with ``schema_version``) -> :func:`rigcheck.facts.from_json`;
* the text ``python -m torch.utils.collect_env`` prints (what PyTorch's issue template asks
  for) -> :func:`rigcheck.probe.import_collect_env.parse_collect_env`;
* ``nvidia-smi`` output (the table) -> :func:`rigcheck.probe.import_nvidia_smi.parse_nvidia_smi`;
* ``nvidia-smi -q`` output -> :func:`rigcheck.probe.import_nvidia_smi.parse_nvidia_smi_q`.

Pasted text is cleaned first, because it arrives from issue threads: markdown code fences,
``> `` quoting, ``<details>`` tags, CRLF line ends, UTF-16 from PowerShell's ``>`` redirection,
full-width colons from CJK locales, and prose before and after. What a paste cannot tell is
listed in ``Facts.not_collected`` so the doctor can say what it could not check; ``origin`` says
which kind of text it was. Serial numbers and UUIDs met in a paste are redacted.

Unreadable, empty, binary or truncated input raises :class:`rigcheck.facts.FactsError` with one
line naming the file and what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path

from rigcheck.facts import Facts, FactsError, from_json

MAX_BYTES = 20 * 1024 * 1024     # a facts file or paste is kilobytes; refuse to slurp a disk image

FORMATS = ("json", "collect_env", "nvidia-smi", "nvidia-smi-q")

_FENCE = re.compile(r"^\s*(```|~~~)")
_HTML = re.compile(r"^\s*</?(details|summary)\b[^>]*>.*$", re.IGNORECASE)
_QUOTE = re.compile(r"^\s{0,3}> ?")

_CE_MARKERS = (
    re.compile(r"PyTorch version\s*:?\s*\S", re.IGNORECASE),
    re.compile(r"^\s*Is CUDA available\s*:", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^\s*CUDA used to build PyTorch\s*:", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^\s*Is debug build\s*:", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^\s*Nvidia driver version\s*:", re.IGNORECASE | re.MULTILINE),
)
_SMI_HEADER = re.compile(r"NVIDIA-SMI\s+\d+\.\d+")
_SMI_Q_KEYS = re.compile(
    r"^\s{2,}(Product Name|Persistence Mode|Performance State|Clocks (Throttle|Event) Reasons|"
    r"FB Memory Usage|Compute Mode|Link Width|Retired Pages|Remapped Rows|Ecc Mode|GPU UUID|"
    r"Power Readings|GPU Power Readings|GPU Current Temp|Pending Page Blacklist)\b",
    re.MULTILINE,
)


def clean_paste(text: str) -> str:
    """Normalise pasted text: line ends, fences, quoting, HTML folds, full-width colons."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    # CJK locales print U+FF1A (full-width colon) in lscpu and in some pastes
    # (pytorch/pytorch#37320 has "GPU 0： Tesla P100-PCIE-16GB").
    text = text.replace("\uff1a", ": ")
    out = []
    for line in text.split("\n"):
        line = _QUOTE.sub("", line, count=1)
        if _FENCE.match(line) or _HTML.match(line) or line.strip() == "`":
            continue
        out.append(line.expandtabs(8).rstrip())
    return "\n".join(out)


def detect_format(text: str) -> str | None:
    """Which kind of text this is: one of FORMATS, or None when it is none of them."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "json"
    if "NVSMI LOG" in text or len(_SMI_Q_KEYS.findall(text)) >= 3:
        return "nvidia-smi-q"
    ce_hits = sum(1 for rx in _CE_MARKERS if rx.search(text))
    if ce_hits >= 2:
        return "collect_env"
    if _SMI_HEADER.search(text) or re.search(r"Driver Version:\s*\d", text) or re.search(
            r"NVIDIA-SMI has failed|Failed to initialize NVML", text):
        return "nvidia-smi"
    return None


def _decode(data: bytes, where: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # PowerShell 5's `>` writes UTF-16 with a BOM: a common way a Windows paste arrives.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FactsError(f"{where}: UTF-16 text that does not decode ({exc.reason})") from None
    if b"\x00" in data[:4096]:
        raise FactsError(f"{where}: binary data (NUL bytes), not a facts file or pasted text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Old Windows consoles write cp1252; keep going rather than refuse a readable paste.
        return data.decode("latin-1")


def parse_text(text: str, where: str = "paste") -> Facts:
    """Autodetect and parse already-read text (see the module docstring)."""
    if not text.strip():
        raise FactsError(f"{where}: empty; nothing to read")
    if text.lstrip().startswith("{"):
        return from_json(text, where)
    cleaned = clean_paste(text)
    kind = detect_format(cleaned)
    if kind is None:
        raise FactsError(
            f"{where}: not a rigcheck facts file, `python -m torch.utils.collect_env` output, or "
            "`nvidia-smi` / `nvidia-smi -q` output (found no 'PyTorch version:', 'NVIDIA-SMI' "
            "or 'NVSMI LOG' lines)"
        )
    if kind == "json":
        return from_json(cleaned, where)
    from rigcheck.probe.import_collect_env import parse_collect_env
    from rigcheck.probe.import_nvidia_smi import parse_nvidia_smi, parse_nvidia_smi_q

    parser = {"collect_env": parse_collect_env, "nvidia-smi": parse_nvidia_smi,
              "nvidia-smi-q": parse_nvidia_smi_q}[kind]
    try:
        facts = parser(cleaned)
    except Exception as exc:  # a parser bug on odd input must end as one line, not a traceback
        raise FactsError(f"{where}: looks like {kind} output but could not be read "
                         f"({type(exc).__name__}: {exc})") from None
    if kind == "collect_env" and _SMI_HEADER.search(cleaned):
        _merge_smi(facts, parse_nvidia_smi(cleaned))
    facts.origin_note = where
    return facts


def _merge_smi(facts: Facts, smi: Facts) -> None:
    """An issue often pastes collect_env and nvidia-smi together: take the table's GPU facts."""
    import dataclasses

    nv = facts.nvml
    nv.driver_version = nv.driver_version or smi.nvml.driver_version
    nv.cuda_driver_version = nv.cuda_driver_version or smi.nvml.cuda_driver_version
    by_index = {g.index: g for g in nv.gpus}
    for sg in smi.nvml.gpus:
        g = by_index.get(sg.index)
        if g is None:
            nv.gpus.append(sg)
            continue
        for f in dataclasses.fields(sg):
            if getattr(g, f.name) is None and getattr(sg, f.name) is not None:
                setattr(g, f.name, getattr(sg, f.name))
        g.field_errors.update(sg.field_errors)
    if smi.nvml.gpus:
        nv.available = True
        nv.gpu_count = len(nv.gpus)
    for key in list(facts.not_collected):
        name = key
        if (key == "cuda_driver_version" and nv.cuda_driver_version) or any(
                getattr(g, name, None) is not None for g in nv.gpus):
            del facts.not_collected[key]


def load_facts_file(path: Path) -> Facts:
    """Read ``path`` and return its facts; FactsError (one clear line) when it cannot."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise FactsError(f"{where}: {size / 1e6:.0f} MB is too large for a facts file or paste")
        data = path.read_bytes()
    except FactsError:
        raise
    except IsADirectoryError:
        raise FactsError(f"{where}: is a directory, not a file") from None
    except FileNotFoundError:
        raise FactsError(f"{where}: no such file") from None
    except PermissionError:
        raise FactsError(f"{where}: permission denied") from None
    except OSError as exc:
        raise FactsError(f"{where}: cannot read ({exc.strerror or exc})") from None
    if not data.strip():
        raise FactsError(f"{where}: the file is empty")
    facts = parse_text(_decode(data, where), where)
    if facts.origin != "probe":
        facts.origin_note = path.name     # not the full path: it can carry a user name
    return facts

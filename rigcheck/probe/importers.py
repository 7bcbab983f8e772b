"""Read a facts file for ``rigcheck doctor --facts FILE|-``: rigcheck JSON, or any pasted text.

``load_facts_file(path)`` (``-`` is standard input) accepts, by content (not by file name):

* a rigcheck facts file (JSON with ``schema_version``) -> :func:`rigcheck.facts.from_json`;
* the text ``python -m torch.utils.collect_env`` prints (what PyTorch's issue template asks
  for) -> :func:`rigcheck.probe.import_collect_env.parse_collect_env`;
* ``nvidia-smi`` output (the table) -> :func:`rigcheck.probe.import_nvidia_smi.parse_nvidia_smi`;
* ``nvidia-smi -q`` output -> :func:`rigcheck.probe.import_nvidia_smi.parse_nvidia_smi_q`;
* anything else people paste (an error, a traceback, an NCCL log, dmesg, pip list, another tool's
  env report, or a mix): :func:`rigcheck.probe.import_text.enrich` reads what it can and keeps the
  lines the signature registry knows. It runs after the parsers above too, so an error pasted
  next to collect_env is read.

Pasted text is cleaned first, because it arrives from issue threads: markdown code fences,
``> `` quoting, ``<details>`` tags, CRLF line ends, UTF-16 from PowerShell's ``>`` redirection,
full-width colons from CJK locales, and prose before and after. What a paste cannot tell is
listed in ``Facts.not_collected`` so the doctor can say what it could not check; ``origin`` says
which kind of text it was ("paste" for free text). Serial numbers and UUIDs met in a paste are
redacted.

Reads are bounded (READ_HEAD_BYTES from the start and READ_TAIL_BYTES from the end of a longer
file; a .gz bug report is inflated up to the same bound), so a 50 MB log or a disk image is
answered in seconds. Unreadable, empty, binary or unrecognisable input raises
:class:`rigcheck.facts.FactsError` with one line naming the file, what is wrong and what to
paste instead.
"""

from __future__ import annotations

import gzip
import re
import sys
import zlib
from pathlib import Path

from rigcheck.facts import Facts, FactsError, from_json
from rigcheck.probe.import_collect_env import REDACTED

__all__ = ["REDACTED", "FORMATS", "clean_paste", "detect_format", "load_facts_file", "parse_text"]

READ_HEAD_BYTES = 2 * 1024 * 1024    # a paste is kilobytes; a full dmesg or bug report a few MB
READ_TAIL_BYTES = 1024 * 1024        # the end of a long log is where the error usually is
MAX_BYTES = READ_HEAD_BYTES          # kept for callers of the old name

WHAT_TO_PASTE = (
    "paste the full error message with the lines around it, or the output of "
    "`python -m torch.utils.collect_env`, `nvidia-smi`, `pip list`, or `sudo dmesg | grep -iE 'nvrm|xid'`"
)
FORMATS = ("json", "collect_env", "nvidia-smi", "nvidia-smi-q", "paste")

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


def _is_binary(data: bytes) -> bool:
    """NUL bytes, or mostly bytes that are neither text nor UTF-8 (a disk image, a zip)."""
    sample = data[:65536]
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return control > len(sample) // 20


def _decode(data: bytes, where: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # PowerShell 5's `>` writes UTF-16 with a BOM: a common way a Windows paste arrives.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FactsError(f"{where}: UTF-16 text that does not decode ({exc.reason})") from None
    if _is_binary(data):
        raise FactsError(f"{where}: binary data, nothing rigcheck recognises; {WHAT_TO_PASTE}")
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
    from rigcheck.probe.import_collect_env import mark_not_collected
    from rigcheck.probe.import_text import enrich, recognised

    cleaned = clean_paste(text)
    # The structured reports are recognised by their first lines: on a long log look at its
    # head only (the markers' regexes are unanchored and many).
    kind = detect_format(cleaned if len(cleaned) <= 256 * 1024 else cleaned[: 256 * 1024])
    if kind == "json":
        return from_json(cleaned, where)
    if kind is None:
        facts = Facts(origin="paste", redacted=True)
    else:
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
        facts.paste.kinds.append(kind)
    try:
        enrich(facts, cleaned)
    except Exception as exc:  # same rule: a reader bug is one line, never a traceback
        raise FactsError(f"{where}: could not be read ({type(exc).__name__}: {exc})") from None
    if kind is None:
        if not recognised(facts):
            raise FactsError(
                f"{where}: nothing rigcheck recognises (not a rigcheck facts file, no known error "
                f"message, version or tool report); {WHAT_TO_PASTE}")
        facts.not_collected.update({s: "not in this paste" for s in ("driver", "env", "python.env",
                                                                       "p2p")})
        # Whole sections the text said nothing about: the checks skip with this reason rather
        # than read an empty section as "torch not installed" or "no GPU".
        if not facts.torch.version and facts.torch.installed is None:
            facts.not_collected["torch"] = "not in this paste"
        if not facts.nvml.gpus and not facts.nvml.driver_version:
            facts.not_collected["nvml"] = facts.not_collected["gpus"] = "not in this paste"
        if not (facts.host.os or facts.host.kernel or facts.host.glibc):
            facts.not_collected["host"] = "not in this paste"
        mark_not_collected(facts, "not in this paste",
                           keep={"devices", "device_count"} if facts.torch.cuda_available is False else set())
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


def _read_bounded(path: Path, where: str) -> tuple[bytes, bool]:
    """The head (and tail) of a file or of standard input; True when something was left out."""
    if str(path) == "-":
        stream = sys.stdin.buffer
        data = stream.read(READ_HEAD_BYTES + 1)
        return data[:READ_HEAD_BYTES], len(data) > READ_HEAD_BYTES
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= READ_HEAD_BYTES + READ_TAIL_BYTES:
            return fh.read(READ_HEAD_BYTES + READ_TAIL_BYTES), False
        head = fh.read(READ_HEAD_BYTES)
        fh.seek(size - READ_TAIL_BYTES)
        tail = fh.read(READ_TAIL_BYTES)
    # Cut at line ends so no half line is read as a whole one.
    head = head[: head.rfind(b"\n") + 1] or head
    tail = tail[tail.find(b"\n") + 1:] or tail
    return head + b"\n" + tail, True


def _gunzip(data: bytes, where: str) -> tuple[bytes, bool]:
    """nvidia-bug-report.sh writes nvidia-bug-report.log.gz: inflate up to the read bound."""
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, READ_HEAD_BYTES)
        return out, bool(d.unconsumed_tail)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise FactsError(f"{where}: a gzip file that does not inflate ({exc})") from None


def load_facts_file(path: Path) -> Facts:
    """Read ``path`` (``-``: standard input) and return its facts; FactsError (one clear line)
    when it cannot."""
    where = "stdin" if str(path) == "-" else str(path)
    try:
        data, truncated = _read_bounded(path, where)
    except IsADirectoryError:
        raise FactsError(f"{where}: is a directory, not a file") from None
    except FileNotFoundError:
        raise FactsError(f"{where}: no such file") from None
    except PermissionError:
        raise FactsError(f"{where}: permission denied") from None
    except OSError as exc:
        raise FactsError(f"{where}: cannot read ({exc.strerror or exc})") from None
    if data.startswith(b"\x1f\x8b"):
        data, more = _gunzip(data, where)
        truncated = truncated or more
    if not data.strip():
        raise FactsError(f"{where}: the file is empty" if where != "stdin" else "stdin: nothing was piped in")
    text = _decode(data, where)
    if truncated and text.lstrip().startswith("{"):
        raise FactsError(f"{where}: larger than {READ_HEAD_BYTES // 2**20} MB; not a facts file")
    facts = parse_text(text, where)
    facts.paste.truncated = truncated
    if facts.origin != "probe":
        facts.origin_note = path.name if where != "stdin" else "stdin"
    return facts

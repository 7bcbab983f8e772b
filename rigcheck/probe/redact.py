"""Redaction of a facts record before it is printed or saved (on by default).

A facts file is made to be pasted into a public issue, so these are replaced:

- GPU serial numbers -> ``"<serial>"``;
- GPU and MIG UUIDs (``GPU-1f2e...``) -> ``"GPU-<redacted-1>"``, numbered in order of first
  appearance so the same GPU keeps the same token everywhere (``CUDA_VISIBLE_DEVICES`` naming a
  UUID still matches the GPU it names); other UUIDs -> ``"<uuid-N>"``;
- the host name -> ``"<host>"``, wherever it appears;
- user names: the ``user`` field, the name in home paths (``/home/alice/x`` and ``/Users/alice``
  -> ``/home/<user>/x``, any user's), and the current user's name as a whole word elsewhere;
- MAC-address-like strings -> ``"<mac>"``.

``Facts.redacted`` is True on a redacted record; ``rigcheck probe --no-redact`` keeps everything.
Nothing here reads the machine; the names come from the facts themselves.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from rigcheck.facts import Facts

_GPU_UUID = re.compile(
    r"\b(GPU|MIG)-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_MAC = re.compile(r"\b[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}\b|\b[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){5}\b")
_HOME = re.compile(r"(/(?:home|Users|users)/)(?!<user>)[^/\s:;,'\"]+")
# Names too common to replace as bare words (they would mangle paths like /usr/lib/user).
_COMMON_NAMES = frozenset({"root", "user", "admin", "lib", "bin", "data", "home", "nvidia", "cuda"})


class Redactor:
    def __init__(self, hostname: str | None = None, user: str | None = None) -> None:
        self.hostname = hostname if hostname and len(hostname) >= 2 else None
        self.user = user if user and len(user) >= 3 and user not in _COMMON_NAMES else None
        self._uuids: dict[str, str] = {}

    def _uuid_token(self, match: re.Match[str]) -> str:
        value = match.group(0)
        if value.lower() not in self._uuids:
            prefix = match.group(1) if match.re is _GPU_UUID else None
            n = len(self._uuids) + 1
            self._uuids[value.lower()] = f"{prefix}-<redacted-{n}>" if prefix else f"<uuid-{n}>"
        return self._uuids[value.lower()]

    def text(self, value: str) -> str:
        out = _GPU_UUID.sub(self._uuid_token, value)
        out = _UUID.sub(self._uuid_token, out)
        out = _MAC.sub("<mac>", out)
        out = _HOME.sub(r"\1<user>", out)
        if self.hostname:
            out = re.sub(rf"(?<![\w.-]){re.escape(self.hostname)}(?![\w-])", "<host>", out)
        if self.user:
            out = re.sub(rf"(?<![\w-]){re.escape(self.user)}(?![\w-])", "<user>", out)
        return out

    def walk(self, obj: Any) -> Any:
        """Redact every string inside ``obj`` (dataclasses, lists, dict values), in place."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, list):
            return [self.walk(v) for v in obj]
        if isinstance(obj, dict):
            return {k: self.walk(v) for k, v in obj.items()}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            for f in dataclasses.fields(obj):
                setattr(obj, f.name, self.walk(getattr(obj, f.name)))
        return obj


def redact_facts(facts: Facts) -> Facts:
    """A redacted copy of ``facts`` (the input is not changed)."""
    out = copy.deepcopy(facts)
    r = Redactor(hostname=out.host.hostname, user=out.host.user)
    for gpu in out.nvml.gpus:
        if gpu.serial:
            gpu.serial = "<serial>"
    if out.host.hostname:
        out.host.hostname = "<host>"
    if out.host.user:
        out.host.user = "<user>"
    r.walk(out)
    out.redacted = True
    return out

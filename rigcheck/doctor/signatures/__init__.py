"""Known error messages as data: one TOML file per family in this folder, and a matcher.

Each ``[[signature]]`` has ``patterns`` (Python regexes, case-sensitive: error messages are fixed
strings), what the message ``means``, the exact ``fix``, the ``source`` thread, an optional
``figures`` extractor (the OOM message's allocated / reserved figures) and ``[[signature.refine]]``
entries that turn other facts of the paste (GPU capability, torch's CUDA build, container, ...)
into a more precise cause and fix; the first refine whose ``when`` holds wins. See
``_load.WHEN_KEYS`` for what ``when`` may test.

Reading (``scan``) keeps the lines any pattern matches, so a paste's facts carry them; deciding
(``findings``) matches those lines again and explains each signature once. Both are pure.
"""

from __future__ import annotations

from rigcheck.doctor.signatures._load import Refine, Signature, load_registry
from rigcheck.doctor.signatures._match import findings, matches, scan

__all__ = ["Refine", "Signature", "findings", "load_registry", "matches", "scan"]

"""'Did you mean' for every id the user types (recipes, GPUs, parts, catalog kinds). Pure."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The ids nearest to ``word``, case-insensitively, at most ``n``: those containing it (or
    contained in it), shortest difference first; when none does, the closest spellings (difflib
    ratio >= 0.6: 'resnt50-imagenet', 'gpsu')."""
    options = list(dict.fromkeys(str(c) for c in choices))
    low = word.strip().lower()
    if not low:
        return []
    by_low = {c.lower(): c for c in options}
    contain = [c for c in options if low in c.lower() or (len(c) >= 3 and c.lower() in low)]
    contain.sort(key=lambda c: (abs(len(c) - len(low)), c))
    if contain:
        return contain[:n]
    return [by_low[m] for m in difflib.get_close_matches(low, list(by_low), n=n, cutoff=0.6)]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean resnet50-imagenet?)' (or '... a or b?'), '' when nothing is close."""
    found = closest(word, choices)
    if not found:
        return ""
    return " (did you mean " + " or ".join(found) + "?)"

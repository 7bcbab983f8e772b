"""How figures are written for people, one format for every command and the report. Pure."""

from __future__ import annotations


def human_duration(seconds: float | None) -> str:
    """'45 s', '12.3 min', '14.2 h', '3.1 days'; '-' when unknown. 11 s stays '11 s' (not
    '1 min'); minutes start at 90 s so a rounded '2 min' is never really 1.5."""
    if seconds is None:
        return "-"
    if seconds != seconds or seconds == float("inf"):
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def sig(x: float, digits: int = 3) -> str:
    """Three significant digits, thousands grouped: 19,567 / 138 / 16.4 / 0.0158."""
    if x != x:
        return "n/a"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"

"""A small SVG chart renderer for the report: horizontal bars and a price-speed scatter.

Why our own and not a library: the report must be one self-contained file with no script and no
network (matplotlib's SVGs embed fonts and are 30-100 KB each and pull numpy; plotly and
Vega need JavaScript). Two chart kinds in ~150 lines of plain string building, with every
label escaped, are smaller than a dependency. Pure: strings in, a string out.

Every chart is ``<svg class="chart" data-chart="NAME" role="img">`` with a ``<title>``, so the
browser test can find each one and check it drew something (``rect``/``circle`` with size).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

WIDTH = 720
BAR_H = 18
GAP = 8
LABEL_W = 230
VALUE_W = 150
COLORS = {"bar": "#3b7dd8", "flag": "#c9a227", "ref": "#222", "grid": "#ddd", "text": "#222",
          "muted": "#777", "point": "#3b7dd8", "best": "#d8453b", "line": "#8aa9d6"}


def esc(text: object) -> str:
    return _xml_escape(str(text), {'"': "&quot;"})


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_text: str                 # "19,567 samples/s"
    reference: float | None = None  # drawn as a tick: the expected figure
    flagged: str = ""               # "noisy", "too short": drawn hatched and said in the label


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    highlight: bool = False
    on_frontier: bool = False


def _open(name: str, title: str, height: int) -> list[str]:
    return [f'<svg class="chart" data-chart="{esc(name)}" role="img" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'font-family="system-ui, sans-serif" font-size="12">',
            f"<title>{esc(title)}</title>",
            '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3e3a6"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{COLORS["flag"]}" stroke-width="3"/>'
            "</pattern></defs>"]


def bars(name: str, title: str, items: Sequence[Bar], *, log: bool = False,
         ref_label: str = "expected") -> str:
    """One horizontal bar per item, scaled to the largest value (or reference) of the chart.
    ``log``: log scale, for figures spanning decades (samples/s of LeNet and ResNet)."""
    items = [b for b in items if b.value is not None and math.isfinite(b.value) and b.value >= 0]
    height = 34 + len(items) * (BAR_H + GAP) + 22
    out = _open(name, title, height)
    out.append(f'<text x="0" y="16" font-weight="600" fill="{COLORS["text"]}">{esc(title)}</text>')
    if not items:
        out.append(f'<text x="0" y="40" fill="{COLORS["muted"]}">nothing to show</text></svg>')
        return "\n".join(out)
    top = max(max(b.value, b.reference or 0) for b in items) or 1.0
    low = min((v for b in items for v in (b.value, b.reference) if v and v > 0), default=1.0)
    span_w = WIDTH - LABEL_W - VALUE_W

    def scale(v: float) -> float:
        if v <= 0:
            return 0.0
        if not log:
            return span_w * v / top
        lo = math.log10(low) - 0.3
        return span_w * max(0.0, (math.log10(v) - lo) / (math.log10(top) - lo or 1.0))

    for i, b in enumerate(items):
        y = 30 + i * (BAR_H + GAP)
        w = max(1.0, scale(b.value))
        fill = "url(#hatch)" if b.flagged else COLORS["bar"]
        label = b.label + (f" ({b.flagged})" if b.flagged else "")
        out.append(f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end" '
                   f'fill="{COLORS["text"]}">{esc(label)}</text>')
        out.append(f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" fill="{fill}">'
                   f"<title>{esc(label)}: {esc(b.value_text)}</title></rect>")
        if b.reference and b.reference > 0:
            rx = LABEL_W + scale(b.reference)
            out.append(f'<line x1="{rx:.1f}" y1="{y - 3}" x2="{rx:.1f}" y2="{y + BAR_H + 3}" '
                       f'stroke="{COLORS["ref"]}" stroke-width="2"/>')
        out.append(f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 13}" '
                   f'fill="{COLORS["text"]}">{esc(b.value_text)}</text>')
    legend_y = height - 6
    scale_note = "log scale" if log else "linear scale from 0"
    legend = f"{scale_note}"
    if any(b.reference for b in items):
        legend += f"; black tick: {ref_label}"
    if any(b.flagged for b in items):
        legend += "; hatched: not trustworthy (noisy or too short)"
    out.append(f'<text x="{LABEL_W}" y="{legend_y}" fill="{COLORS["muted"]}" font-size="11">'
               f"{esc(legend)}</text>")
    out.append("</svg>")
    return "\n".join(out)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def scatter(name: str, title: str, points: Sequence[Point], *, x_label: str, y_label: str,
            x_fmt: object = None, y_fmt: object = None) -> str:
    """Points with the frontier (``on_frontier``) joined by a line; ``highlight`` in red."""
    height = 320
    left, right, top_m, bottom = 70, 20, 30, 50
    pts = [p for p in points if math.isfinite(p.x) and math.isfinite(p.y)]
    out = _open(name, title, height)
    out.append(f'<text x="0" y="16" font-weight="600" fill="{COLORS["text"]}">{esc(title)}</text>')
    if not pts:
        out.append(f'<text x="0" y="40" fill="{COLORS["muted"]}">nothing to show</text></svg>')
        return "\n".join(out)
    fx = x_fmt if callable(x_fmt) else (lambda v: f"{v:,.0f}")
    fy = y_fmt if callable(y_fmt) else (lambda v: f"{v:,.0f}")
    x0, x1 = min(p.x for p in pts), max(p.x for p in pts)
    y1 = max(p.y for p in pts)
    pad = (x1 - x0) * 0.05 or max(abs(x0) * 0.05, 1.0)
    x0, x1 = x0 - pad, x1 + pad
    y0, y1 = 0.0, y1 * 1.1 or 1.0
    pw, ph = WIDTH - left - right, height - top_m - bottom

    def sx(v: float) -> float:
        return left + pw * (v - x0) / (x1 - x0)

    def sy(v: float) -> float:
        return top_m + ph * (1 - (v - y0) / (y1 - y0))

    for t in _ticks(y0, y1):
        out.append(f'<line x1="{left}" y1="{sy(t):.1f}" x2="{WIDTH - right}" y2="{sy(t):.1f}" '
                   f'stroke="{COLORS["grid"]}"/>')
        out.append(f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" text-anchor="end" '
                   f'fill="{COLORS["muted"]}">{esc(fy(t))}</text>')
    for t in _ticks(x0, x1, 4):
        out.append(f'<text x="{sx(t):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                   f'fill="{COLORS["muted"]}">{esc(fx(t))}</text>')
    out.append(f'<text x="{left + pw / 2:.0f}" y="{height - 8}" text-anchor="middle" '
               f'fill="{COLORS["text"]}">{esc(x_label)}</text>')
    out.append(f'<text x="14" y="{top_m + ph / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 14 {top_m + ph / 2:.0f})" fill="{COLORS["text"]}">'
               f"{esc(y_label)}</text>")
    front = sorted((p for p in pts if p.on_frontier), key=lambda p: p.x)
    if len(front) > 1:
        path = " ".join(f"{sx(p.x):.1f},{sy(p.y):.1f}" for p in front)
        out.append(f'<polyline points="{path}" fill="none" stroke="{COLORS["line"]}" '
                   'stroke-width="2"/>')
    for p in sorted(pts, key=lambda p: p.highlight):
        color = COLORS["best"] if p.highlight else COLORS["point"]
        r = 6 if p.highlight else 4
        out.append(f'<circle cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" r="{r}" fill="{color}">'
                   f"<title>{esc(p.label)}: {esc(fx(p.x))}, {esc(fy(p.y))}</title></circle>")
        if p.highlight or p.on_frontier:
            # Labels right of the point, or left of it in the right third (never clipped).
            right_side = sx(p.x) > left + pw * 2 / 3
            tx, anchor = (sx(p.x) - 8, "end") if right_side else (sx(p.x) + 8, "start")
            out.append(f'<text x="{tx:.1f}" y="{sy(p.y) - 6:.1f}" font-size="11" '
                       f'text-anchor="{anchor}" fill="{COLORS["text"]}">{esc(p.label)}</text>')
    out.append("</svg>")
    return "\n".join(out)

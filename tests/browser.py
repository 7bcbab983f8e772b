"""Open a page in a real headless Chromium (Debian's, driven by Playwright) and report what a
person would see: console errors, requests, the charts drawn, and the screenshot's pixels."""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


def chromium_path() -> str | None:
    for candidate in (os.environ.get("RIGCHECK_CHROMIUM"), "chromium", "chromium-browser",
                      "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@dataclass
class PageLook:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    screenshot: bytes = b""               # the page's first screen (PNG)
    screen_stats: dict = field(default_factory=dict)         # its pixels: colours, ink share
    chart_stats: list[dict] = field(default_factory=list)    # each chart's screenshot, likewise


CHARTS_JS = """
() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const shapes = [...svg.querySelectorAll('rect, circle, polyline')]
    .filter(e => !e.closest('defs'))
    .map(e => e.getBBox()).filter(b => b.width > 0 && b.height > 0);
  return {name: svg.dataset.chart, width: box.width, height: box.height, shapes: shapes.length};
})
"""


def look(page_file: Path, width: int = 1100, save_full: Path | None = None) -> PageLook:
    from playwright.sync_api import sync_playwright

    out = PageLook()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(),
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("console", lambda m: out.console_errors.append(m.text)
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: out.console_errors.append(str(e)))
            page.on("request", lambda r: out.requests.append(r.url))
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            out.charts = page.evaluate(CHARTS_JS)
            out.screenshot = page.screenshot()
            if save_full is not None:
                page.screenshot(path=str(save_full), full_page=True)
            charts = page.locator("svg.chart")
            shots = [charts.nth(i).screenshot() for i in range(charts.count())]
            # Count the screenshots' pixels in a second, blank page (a canvas reads a PNG far
            # faster than Python could decode one).
            counter = browser.new_page()
            out.screen_stats = pixel_stats(counter, out.screenshot)
            out.chart_stats = [pixel_stats(counter, shot) for shot in shots]
        finally:
            browser.close()
    return out


PIXELS_JS = """
async (src) => {
  const img = new Image(); img.src = src; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const counts = new Map();
  for (let i = 0; i < d.length; i += 4) {
    const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const total = d.length / 4, background = Math.max(...counts.values());
  return {width: c.width, height: c.height, colours: counts.size,
          ink: 1 - background / total};
}
"""


def pixel_stats(page: object, png: bytes) -> dict:
    """{width, height, colours, ink}: distinct colours and the share of pixels that are not the
    most common (background) colour, of a PNG screenshot."""
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return page.evaluate(PIXELS_JS, src)  # type: ignore[attr-defined]

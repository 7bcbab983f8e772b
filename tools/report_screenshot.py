"""Screenshot a rigcheck report in headless Chromium for the README (docs/report.png).

    rigcheck bench && rigcheck report -o rig.html --budget 1.25L
    python tools/report_screenshot.py rig.html docs/report.png

Uses the same browser driver as tests/test_report_browser.py and refuses to write the picture
when the page logs a console error or fetches anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser import look  # noqa: E402


def main() -> int:
    page, png = Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "docs/report.png")
    seen = look(page, width=1000, save_full=png)
    if seen.console_errors or seen.requests != [page.resolve().as_uri()]:
        png.unlink(missing_ok=True)
        print(f"not written: console {seen.console_errors}, requests {seen.requests}")
        return 1
    print(f"wrote {png} ({png.stat().st_size / 1024:.0f} KB; charts: "
          f"{', '.join(c['name'] for c in seen.charts)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

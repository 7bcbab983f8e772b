"""Write docs/cli-reference.md from the commands' own --help, so the reference never drifts.

    python tools/gen_cli_reference.py          # rewrite docs/cli-reference.md
    python tools/gen_cli_reference.py --check  # exit 1 when it is out of date (tests run this)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from rigcheck.ui.app import app

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli-reference.md"


def commands() -> list[str]:
    return sorted(get_command(app).commands)  # type: ignore[attr-defined]


def render() -> str:
    os.environ["COLUMNS"] = "100"
    os.environ["TERM"] = "dumb"
    runner = CliRunner()
    parts = ["# rigcheck command reference\n",
             "Generated from each command's `--help` by `python tools/gen_cli_reference.py`; "
             "do not edit by hand.\n"]
    for args in [[], *([c] for c in commands())]:
        result = runner.invoke(app, [*args, "--help"], prog_name="rigcheck", terminal_width=100)
        title = " ".join(["rigcheck", *args])
        parts.append(f"\n## `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is out of date: run python tools/gen_cli_reference.py")
            return 1
        return 0
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Shared pieces of the UI layer: consoles, one-line errors, exit codes."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Exit codes, the same for every command:
EXIT_OK = 0          # nothing failed
EXIT_FINDINGS = 1    # the command ran and found a problem (a failed check; no build fits the budget)
EXIT_USAGE = 2       # bad input: a budget of "abc", an unknown recipe, an unreadable file


def console(stderr: bool = False) -> Console:
    # highlight=False: rich would otherwise colour numbers inside our figures at random.
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one clear line to stderr and exit; never a traceback."""
    # escape: the message quotes what the user typed ("[/x]" must not be read as markup).
    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", markup=True,
                               soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    console(stderr=True).print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def human_duration(seconds: float | None) -> str:
    """'45 s', '12.3 min', '14.2 h', '3.1 days'; '-' when unknown. One format for every command."""
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


def print_json(data: Any) -> None:
    """Machine-readable output goes to stdout unstyled, so it pipes into jq."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")

"""Shared pieces of the UI layer: the conventions every command follows.

- Consoles: ``console()`` for results (stdout), ``console(stderr=True)`` for progress and notes.
  When stdout is not a terminal (a pipe, a file, CI logs) nothing is hard-wrapped: the width is
  ``PIPE_WIDTH`` unless ``COLUMNS`` says otherwise, so paths and commands stay on one line.
- ``-q/--quiet`` and ``-v/--verbose`` exist on every command (``rigcheck.ui.app`` adds them where a
  command has none). Quiet silences the stderr console (progress, notes, warnings) but never an
  error; ``verbose()`` tells a command to show more.
- Errors: ``fail(message, code)`` prints ONE line on stderr and exits with ``code``; under
  ``--json`` it also prints ``{"schema": 1, "error": message, "exit_code": code}`` on stdout
  (same exit code), so a script reading the JSON learns why.
- JSON: ``print_json`` puts a ``schema`` key first on every object (commands pass their own
  number; it is bumped on an incompatible change; fields are only ever added).
- Exit codes: 0 ok, 1 the command ran and found a problem, 2 bad input.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from rigcheck.units import human_duration  # noqa: F401  (re-exported: one format everywhere)

# Exit codes, the same for every command:
EXIT_OK = 0          # nothing failed
EXIT_FINDINGS = 1    # the command ran and found a problem (a failed check; no build fits the budget)
EXIT_USAGE = 2       # bad input: a budget of "abc", an unknown recipe, an unreadable file

# Width for output that is not a terminal: wide enough that no table row or path is ever split
# (rich would otherwise wrap at 80 columns in a pipe, splitting "rigcheck\ndoctor --facts ...").
PIPE_WIDTH = 1000
# The schema of the error object printed under --json.
ERROR_SCHEMA = 1


@dataclass
class _State:
    """Per-invocation options the group reads before a command runs (reset on every call)."""

    json: bool = False
    quiet: bool = False
    verbose: int = 0


STATE = _State()


def reset_state(args: list[str] | None = None) -> None:
    """Called by the command group for each invocation; reads --json/-q/-v from the arguments
    (before any "--"), so even a usage error can be reported the way the user asked."""
    args = list(args or [])
    if "--" in args:
        args = args[: args.index("--")]
    STATE.json = "--json" in args
    STATE.quiet = "-q" in args or "--quiet" in args
    STATE.verbose = sum(a == "-v" or a == "--verbose" for a in args)


def quiet() -> bool:
    return STATE.quiet


def verbose() -> bool:
    return STATE.verbose > 0


def json_mode() -> bool:
    return STATE.json


def _is_tty(stderr: bool) -> bool:
    stream = sys.stderr if stderr else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def console(stderr: bool = False) -> Console:
    """stdout (results) or stderr (progress, notes; silent under -q)."""
    width = None if _is_tty(stderr) or os.environ.get("COLUMNS", "").isdigit() else PIPE_WIDTH
    # highlight=False: rich would otherwise colour numbers inside our figures at random.
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width,
                   quiet=stderr and STATE.quiet)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one clear line to stderr (or a JSON error under --json) and exit; never a traceback."""
    if STATE.json:
        print_json({"schema": ERROR_SCHEMA, "error": message, "exit_code": code})
    # escape: the message quotes what the user typed ("[/x]" must not be read as markup).
    Console(stderr=True, highlight=False, width=None if _is_tty(True) else PIPE_WIDTH).print(
        f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """A warning on stderr; -q silences it."""
    console(stderr=True).print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def note(message: str) -> None:
    """Progress or a side remark on stderr; -q silences it. ``message`` is plain text."""
    console(stderr=True).print(escape(message), soft_wrap=True)


def did_you_mean(word: str, choices: Any) -> str:
    """' (did you mean X?)' for the nearest ids, or ''. The pure helper is rigcheck.suggest."""
    from rigcheck.suggest import did_you_mean as pure

    return pure(word, choices)


def print_json(data: Any, schema: int = 1) -> None:
    """Machine-readable output goes to stdout unstyled, so it pipes into jq. Every object carries
    a ``schema`` key first (the command's own number when it set one)."""
    if isinstance(data, dict):
        data = {"schema": data.get("schema", schema), **{k: v for k, v in data.items()
                                                          if k != "schema"}}
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")

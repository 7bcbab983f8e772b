"""Re-run the README's example commands and paste their real output in place.

Each ```text block that starts with `$ rigcheck ...` is re-run as in a pipe (no COLUMNS: rigcheck
never hard-wraps output that is not a terminal, so lines come out whole) and its output replaced,
trailing blanks trimmed, except `rigcheck bench`, whose figures depend on the machine's load at the time (run it
on a quiet machine and paste by hand).

    python tools/refresh_readme_examples.py
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```text\n\$ (rigcheck [^\n]*)\n.*?```", re.S)


def run(command: str) -> str:
    """Run one README command. A trailing `< FILE` (a path from the repository's root) is fed to
    standard input, as the shell would; any other shell syntax is refused, not passed on."""
    command, _, stdin_path = command.partition(" < ")
    args = shlex.split(command)
    if any(a in ("|", ">", ">>", "&&", ";", "<") for a in args):
        raise SystemExit(f"README example {command!r}: only a trailing '< FILE' is supported")
    stdin = (README.parent / stdin_path.strip()).read_text(encoding="utf-8") if stdin_path else None
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "dumb"
    proc = subprocess.run([sys.executable, "-m", "rigcheck", *args[1:]], capture_output=True,
                          text=True, env=env, timeout=300, input=stdin, cwd=README.parent)
    return "\n".join(line.rstrip() for line in (proc.stdout + proc.stderr).rstrip().splitlines())


def main() -> None:
    text = README.read_text(encoding="utf-8")

    def replace(m: re.Match) -> str:
        command = m.group(1)
        if command.startswith("rigcheck bench"):
            return m.group(0)
        return f"```text\n$ {command}\n{run(command)}\n```"

    README.write_text(BLOCK.sub(replace, text), encoding="utf-8")


if __name__ == "__main__":
    main()

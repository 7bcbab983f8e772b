"""Every command has help text, appears in the README, and the CLI reference is current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from typer.main import get_command

from rigcheck.ui.app import app

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cmds = get_command(app).commands
    assert {"recommend", "catalog", "estimate", "probe", "doctor", "bench"} <= set(cmds)
    for name, cmd in cmds.items():
        assert (cmd.help or "").strip(), f"`rigcheck {name}` has no help text"
        assert re.search(rf"rigcheck {name}\b", readme), f"README never shows `rigcheck {name}`"


def test_readme_has_the_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_cli_reference_is_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_cli_reference.py"), "--check"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_readme_example_shows_a_usage_error():
    # tools/refresh_readme_examples.py pastes real output; a command it could not run as written
    # (shell syntax passed as an argument, a removed option) comes back as click's usage error.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```text\n(\$ rigcheck [^\n]*\n.*?)```", readme, re.S)
    assert len(blocks) >= 5
    for block in blocks:
        assert "Usage: " not in block and "Error: No such option" not in block, block[:200]
        assert "Got unexpected extra argument" not in block, block[:200]
        m = re.match(r"\$ rigcheck [^\n]*< (\S+)\n", block)
        if m:
            assert (ROOT / m.group(1)).is_file(), f"README example reads {m.group(1)}, not in the repo"

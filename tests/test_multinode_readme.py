"""The README's Slurm and Kubernetes lines, taken from the README itself, as far as one machine
can run them: every rigcheck command in them parses, and the Slurm probe line run as three
nodes writes one facts file per node name that the fleet doctor then reads."""

from __future__ import annotations

import json
import re
import shlex
import socket
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from rigcheck.ui.app import app
from tests.test_probe_cli import fake_collect

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Many machines", 1)[1].split("\n## ", 1)[0]


def _rigcheck_args(argv: list[str]) -> list[str]:
    """The arguments given to rigcheck in a launcher's command line."""
    if "rigcheck" not in argv:
        raise AssertionError(f"no rigcheck in {argv}")
    i = argv.index("rigcheck")
    return argv[i + 1:]


def _lines(prefix: str) -> list[list[str]]:
    joined = SECTION.replace("\\\n", " ")
    return [shlex.split(line.split("#")[0]) for line in joined.splitlines()
            if line.strip().startswith(prefix)]


def _yaml_commands() -> list[list[str]]:
    return [json.loads(m) for m in re.findall(r"^command: (\[.*\])$", SECTION, re.M)]


def _parses(args: list[str]) -> dict[str, object]:
    """The options ``args`` set, as the command's parser reads them (those left at their
    default, and empty multi-value options, left out)."""
    cmd = get_command(app).commands[args[0]]            # KeyError: no such command
    ctx = cmd.make_context(args[0], list(args[1:]))     # raises on an unknown option or bad value
    defaults = {p.name: p.get_default(ctx) for p in cmd.params}
    return {k: v for k, v in ctx.params.items()
            if v != defaults[k] and not (v == () and defaults[k] is None)}


# What each rigcheck command of the section must mean, written from the README's own words:
# bench --distributed, the fleet doctor over torchrun, one probe file per node ({host} is
# expanded by rigcheck, so it reaches the option unexpanded), the fleet doctor over a folder.
EXPECTED = {
    "bench --distributed": {"distributed": True},
    "doctor --fleet": {"fleet": True},
    "probe -o facts/{host}.json": {"output": "facts/{host}.json"},
    "doctor --fleet --facts-dir facts/": {"fleet": True, "facts_dir": "facts/"},
    "probe -o /shared/facts/{host}.json": {"output": "/shared/facts/{host}.json"},
}
COMMANDS = _lines("srun ") + _lines("torchrun ") + _lines("rigcheck ") + _yaml_commands()


def test_the_readme_has_the_slurm_and_kubernetes_lines():
    assert _lines("srun ") and _yaml_commands() and _lines("torchrun ")


def test_every_readme_command_has_its_expectation():
    # 2 bench lines (one box, two nodes), the torchrun and Kubernetes fleet doctors, srun probe,
    # the --facts-dir doctor, the Kubernetes probe
    got = sorted(" ".join(_rigcheck_args(a)) for a in COMMANDS)
    assert got == sorted(["bench --distributed"] * 2 + ["doctor --fleet"] * 2 + [
        "probe -o facts/{host}.json", "doctor --fleet --facts-dir facts/",
        "probe -o /shared/facts/{host}.json"])


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a)[:60])
def test_every_multinode_command_parses(argv):
    args = _rigcheck_args(argv)
    assert _parses(args) == EXPECTED[" ".join(args)]


def test_slurm_probe_line_writes_one_file_per_node_and_the_fleet_doctor_reads_them(
        monkeypatch, tmp_path):
    (srun,) = [a for a in _lines("srun ") if "probe" in a]
    probe = _rigcheck_args(srun)
    monkeypatch.chdir(tmp_path)
    fake_collect(monkeypatch)
    for node in ("gpu-a01", "gpu-a02", "gpu-b07"):
        monkeypatch.setattr(socket, "gethostname", lambda node=node: f"{node}.cluster.local")
        res = CliRunner().invoke(app, probe)
        assert res.exit_code == 0, res.output
    folder = Path(tmp_path / "facts")
    assert sorted(p.name for p in folder.iterdir()) == ["gpu-a01.json", "gpu-a02.json",
                                                         "gpu-b07.json"]
    (fleet,) = [a for a in _lines("rigcheck doctor --fleet --facts-dir")]
    res = CliRunner().invoke(app, [*_rigcheck_args(fleet), "--json"])
    assert res.exit_code in (0, 1), res.output
    nodes = json.loads(res.stdout)["nodes"]
    assert len(nodes) == 3

"""The conventions every command follows (issue 12): walks every command's help and flags.

Expectations are written from the issue, not from the code: -h works everywhere; -q/--quiet and
-v/--verbose exist on every command; --json outputs carry a "schema" key; a usage error under
--json is a JSON object with the same exit code 2; the root help never truncates a description.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from rigcheck.ui.app import app

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "tests" / "fixtures" / "facts"
COMMANDS = sorted(get_command(app).commands)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_every_expected_command_is_there():
    assert {"recommend", "catalog", "estimate", "recipes", "probe", "doctor", "bench",
            "report"} <= set(COMMANDS)


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_root_help_short_and_long(flag):
    res = invoke(flag)
    assert res.exit_code == 0
    assert "Commands:" in res.stdout


def test_root_help_never_truncates_a_description():
    res = CliRunner().invoke(app, ["--help"], terminal_width=80)
    commands = res.stdout.split("Commands:")[1]
    assert "..." not in commands
    # each command's whole first sentence is there, whatever the width
    for name, cmd in get_command(app).commands.items():
        first = " ".join((cmd.help or "").split("\n\n")[0].split())
        assert first and first in " ".join(res.stdout.split()), name


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag):
    from rigcheck import __version__

    res = invoke(flag)
    assert res.exit_code == 0 and res.stdout.strip() == f"rigcheck {__version__}"


def test_shell_completion_is_offered():
    res = invoke("--help")
    assert "--install-completion" in res.stdout and "--show-completion" in res.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_h_quiet_verbose_and_json(name):
    res = invoke(name, "-h")
    assert res.exit_code == 0, res.output
    text = res.stdout
    for flag in ("-q, --quiet", "--json"):
        assert flag in text, f"rigcheck {name} lacks {flag}"
    assert "-v" in text and "--verbose" in text, f"rigcheck {name} lacks -v/--verbose"


@pytest.mark.parametrize("name", COMMANDS)
def test_usage_error_under_json_is_json_with_exit_2(name):
    res = invoke(name, "--json", "--no-such-option")
    assert res.exit_code == 2
    data = json.loads(res.stdout)
    assert data["schema"] == 1 and data["exit_code"] == 2
    assert "--no-such-option" in data["error"]


def test_usage_error_without_json_is_not_json():
    res = invoke("recipes", "--no-such-option")
    assert res.exit_code == 2 and res.stdout.strip() == ""


def test_input_error_under_json_keeps_exit_code_and_says_why():
    res = invoke("recipes", "resnet", "--json")
    assert res.exit_code == 2
    data = json.loads(res.stdout)
    assert data == {"schema": 1, "error": data["error"], "exit_code": 2}
    assert "did you mean resnet50-imagenet" in data["error"]


@pytest.mark.parametrize("args", [
    ["recipes"],
    ["recipes", "lenet5-mnist"],
    ["estimate", "--gpu", "RTX 3090", "--target", "lenet5-mnist"],
    ["catalog", "psus", "--limit", "2"],
    ["recommend", "--budget", "1.25L"],
    ["doctor", "--facts", str(FACTS / "rtx3060_consumer.json")],
])
def test_every_json_output_starts_with_schema(args):
    res = invoke(*args, "--json")
    assert res.exit_code in (0, 1), res.output
    data = json.loads(res.stdout)
    assert next(iter(data)) == "schema" and isinstance(data["schema"], int)


def test_facts_carry_schema_and_schema_version_alike():
    from rigcheck.facts import Facts, from_dict, to_dict

    d = to_dict(Facts())
    assert d["schema"] == d["schema_version"] == Facts().schema_version
    only_new = {k: v for k, v in d.items() if k != "schema_version"}
    assert from_dict(only_new).schema_version == Facts().schema_version


def test_quiet_silences_notes_but_not_the_result():
    loud, quiet = invoke("recipes"), invoke("recipes", "-q")
    assert "default mix" in loud.stdout and "default mix" not in quiet.stdout
    assert "lenet5-mnist" in quiet.stdout


@pytest.mark.parametrize("args, nearest", [
    (["recipes", "resnet50"], "resnet50-imagenet"),
    (["estimate", "--gpu", "RTX 3090", "--target", "lenet"], "lenet5-mnist"),
    (["recommend", "--budget", "1L", "--target", "lenet5"], "lenet5-mnist"),
    (["bench", "--target", "lenet"], "lenet5-mnist"),
    (["catalog", "gpsu"], "psus"),
    (["estimate", "--gpu", "RTX 30900", "--target", "lenet5-mnist"], "did you mean"),
])
def test_did_you_mean_for_every_id(args, nearest):
    res = invoke(*args)
    assert res.exit_code == 2
    assert "did you mean" in res.stderr and nearest in res.stderr


def _piped(*args: str) -> str:
    """The command's stdout as a file receives it: a real pipe, no COLUMNS."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.run([sys.executable, "-m", "rigcheck", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_piped_output_keeps_long_lines_whole():
    out = _piped("estimate", "--gpu", "RTX 3090", "--target", "resnet50-imagenet")
    model = [line for line in out.splitlines() if line.strip().startswith("model ")]
    assert len(model) == 1 and len(model[0]) > 80
    assert "leave-one-GPU-out" in model[0] and "worst" in model[0]
    out = _piped("recipes")
    assert any(len(line) > 100 and "ImageNet-1k (ILSVRC2012 train)" in line
               for line in out.splitlines())


@pytest.mark.parametrize("filters, header", [
    (["-f", "vram_gb>=16"], "VRAM GB"),
    (["-f", "tdp_w<=200"], "TDP W"),
    (["-f", "mem_bw_gbs>500"], "BW GB/s"),
])
def test_catalog_at_80_columns_keeps_the_column_a_filter_names(filters, header):
    res = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["catalog", "gpus", *filters,
                                                       "--limit", "3"])
    assert res.exit_code == 0, res.output
    head = next(line for line in res.stdout.splitlines() if line.strip().startswith("Name"))
    assert header in head
    assert max(len(line) for line in res.stdout.splitlines()) <= 80


def test_did_you_mean_for_a_part_id_in_an_overlay(tmp_path):
    (tmp_path / "gpus.csv").write_text("id,price_inr,price_date,price_kind,source\n"
                                       "rtx4090,150000,2026-11-01,street,a shop\n")
    res = invoke("catalog", "gpus", "--catalog", str(tmp_path))
    assert res.exit_code == 2
    assert "'rtx4090' is not in the catalog (did you mean rtx-4090" in res.stderr


@pytest.mark.parametrize("command", ["doctor", "probe", "bench", "report"])
def test_a_missing_data_dir_is_one_line_exit_2_everywhere(command, tmp_path):
    res = invoke(command, "--data-dir", str(tmp_path / "missing"))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / "missing") in lines[0], res.stderr


def test_recommend_explains_rupees_per_sample_per_second_once():
    res = invoke("recommend", "--budget", "1.25L", "--allow-unsourced")
    if res.exit_code == 1:
        pytest.skip("no build in the catalog at this budget")   # data, not the wording
    assert res.stdout.count("per sample/s") >= 2
    assert res.stdout.count("per sample/s: the build's price divided by its training speed") == 1


def test_shell_completion_completes_commands():
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS",)}
    env.update(COMP_WORDS="rigcheck rec", COMP_CWORD="1", _RIGCHECK_COMPLETE="complete_bash")
    script = Path(sys.executable).with_name("rigcheck")     # the installed entry point
    assert script.exists(), f"no rigcheck script beside {sys.executable}"
    proc = subprocess.run([str(script)], capture_output=True, text=True, timeout=60, env=env,
                          cwd=ROOT)
    assert set(proc.stdout.split()) == {"recommend", "recipes"}

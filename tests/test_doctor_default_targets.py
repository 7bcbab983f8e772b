"""Readiness for recipes nobody named is information, not a fault (issue 12 item 3): the GTX
1050 paste of pytorch/pytorch#68611 failed (exit 1) over ResNet-50 its owner never named."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rigcheck.ui.app import app

PASTE = Path(__file__).parent / "fixtures" / "pastes" / "smi_windows_wddm_gtx1050_461.txt"


def _doctor(*args: str):
    return CliRunner().invoke(app, ["doctor", "--facts", str(PASTE), *args])


def test_default_targets_inform_but_do_not_fail():
    res = _doctor("--json")
    assert res.exit_code == 0, res.output
    ready = [f for f in json.loads(res.stdout)["findings"] if f["category"] == "readiness"]
    assert ready and all(f["status"] in ("ok", "skip") for f in ready)
    assert any(f["summary"].startswith("for information") for f in ready)
    text = _doctor().stdout
    assert "    i for information" in text
    # An nvidia-smi paste leaves most checks skipped: no issues, but not a clean bill (issue 11.6).
    assert "No issues in the" in text and "not a clean bill of health" in text


def test_a_named_target_that_does_not_fit_still_fails():
    res = _doctor("--target", "resnet50-imagenet-b128", "--json")
    assert res.exit_code == 1
    fit = {f["id"]: f for f in json.loads(res.stdout)["findings"]}["ready.recipe_fit"]
    assert fit["status"] == "fail" and not fit["summary"].startswith("for information")


def test_dataset_disk_fix_says_what_to_do_not_rerun(tmp_path):
    facts = json.loads((Path(__file__).parent / "fixtures" / "facts"
                        / "rtx3060_consumer.json").read_text())
    for disk in facts["host"]["disks"]:
        disk["free_gb"] = 78.0                  # ImageNet as stored is 138 GB
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    res = CliRunner().invoke(app, ["doctor", "--facts", str(path), "--json",
                                   "--target", "resnet50-imagenet"])
    disk = {f["id"]: f for f in json.loads(res.stdout)["findings"]}["ready.dataset_disk"]
    assert disk["status"] == "warn"
    assert disk["fix"].startswith("free at least 60 GB on ")
    assert "138 GB or more free" in disk["fix"] and not disk["fix"].startswith("rigcheck")

"""Recorded facts files: they load, and the fake-scenario ones match their scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigcheck import facts as F
from tests.fakenvml import SCENARIOS, scenario_facts

FOLDER = Path(__file__).parent / "fixtures" / "facts"


def test_every_scenario_has_a_fixture():
    names = {p.stem for p in FOLDER.glob("*.json")}
    assert set(SCENARIOS) <= names
    assert "this_machine_cpu_only" in names


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_fixture_matches_the_fake(name):
    stored = F.from_json((FOLDER / f"{name}.json").read_text(), name)
    assert stored == scenario_facts(name), (
        f"{name}.json is stale: regenerate with `python -m tests.fakenvml tests/fixtures/facts`"
    )
    assert stored.redacted and all(g.serial in (None, "<serial>") for g in stored.nvml.gpus)


def test_this_machine_fixture_is_a_real_cpu_only_probe():
    facts = F.from_json((FOLDER / "this_machine_cpu_only.json").read_text())
    assert facts.origin == "probe" and facts.redacted
    assert facts.nvml.available is False and facts.nvml.error == "NVML_ERROR_LIBRARY_NOT_FOUND"
    assert facts.torch.installed and facts.torch.version.endswith("+cpu")
    assert facts.torch.cuda_build is None and facts.torch.cuda_available is False
    assert facts.host.hostname == "<host>"

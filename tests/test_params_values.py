"""perfmodel.params: the parameter record's defaults, its JSON round trip and a clear error
for an unreadable file (all on temporary files, never the committed params.json's values)."""

from __future__ import annotations

import json

import pytest

from rigcheck.perfmodel import params as pp
from rigcheck.perfmodel.params import EfficiencyParams

MAPS = {"compute_log_eff": {"fp32": -0.5}, "generation_log_offset": {"Ampere": 0.1},
        "family_compute_log": {"cnn": 0.0}, "traffic_k": {"cnn": 3}}


def test_defaults_are_neutral():
    p = EfficiencyParams.from_dict(MAPS)
    assert (p.nchw_tensor_factor, p.combine_p, p.sync_loss_per_doubling) == (1.0, 1.0, 0.0)
    assert (p.peak_exponent, p.bw_exponent, p.issue_bw_per_sm_ghz, p.power_exponent) == (
        1.0, 1.0, 0.0, 0.0)
    assert p.provenance == {}
    assert p.traffic_k == {"cnn": 3.0} and isinstance(p.traffic_k["cnn"], float)
    d = EfficiencyParams(**MAPS)
    assert (d.nchw_tensor_factor, d.combine_p, d.sync_loss_per_doubling, d.peak_exponent,
            d.bw_exponent, d.issue_bw_per_sm_ghz, d.power_exponent) == (1.0, 1.0, 0.0, 1.0, 1.0,
                                                                        0.0, 0.0)


def test_round_trip_keeps_every_field(tmp_path):
    p = EfficiencyParams(
        compute_log_eff={"fp32": -0.7, "tc16": -1.2}, generation_log_offset={"Hopper": -0.2},
        family_compute_log={"transformer": 0.3}, traffic_k={"cnn": 2.5}, nchw_tensor_factor=1.3,
        combine_p=2.5, sync_loss_per_doubling=0.03, peak_exponent=0.9, bw_exponent=0.8,
        issue_bw_per_sm_ghz=7.5, power_exponent=0.6, provenance={"rows": 42})
    d = p.to_dict()
    assert d["combine_p"] == 2.5 and d["power_exponent"] == 0.6 and d["provenance"] == {"rows": 42}
    assert EfficiencyParams.from_dict(d) == p
    path = tmp_path / "params.json"
    pp.save_params(p, path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and '\n  "bw_exponent": 0.8,' in text   # indented, sorted keys
    assert list(json.loads(text)) == sorted(d)
    assert pp.load_params.__wrapped__(path) == p


@pytest.mark.parametrize("content", ["not json", "{}", '{"compute_log_eff": 3}', "[]"])
def test_unreadable_params_name_the_file_and_the_fix(tmp_path, content):
    path = tmp_path / "params.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuntimeError, match="regenerate with: python -m rigcheck.perfmodel.calibrate"):
        pp.load_params.__wrapped__(path)


def test_missing_params_file(tmp_path):
    with pytest.raises(RuntimeError, match="unreadable at .*nope.json"):
        pp.load_params.__wrapped__(tmp_path / "nope.json")


def test_load_params_is_cached():
    assert pp.load_params() is pp.load_params()


def test_params_are_frozen():
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        EfficiencyParams(**MAPS).combine_p = 2.0  # type: ignore[misc]

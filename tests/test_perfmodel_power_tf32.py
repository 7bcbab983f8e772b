"""Issue 10 item 6: power-limited cards, TF32 as the container sets it, and the honest
"extrapolated" mark for architectures without calibration rows. Expected values are typed from
datasheet TDPs and FP32 rates, not computed with the code under test."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from rigcheck.perfmodel import hardware
from rigcheck.perfmodel.gpudb import as_gpu, spec_by_key
from rigcheck.perfmodel.model import power_factor, predict, predict_with
from rigcheck.perfmodel.params import load_params
from rigcheck.recipes import load_recipes
from rigcheck.ui.app import app
from tests import parts_factory as pf

RECIPES = load_recipes()
BERT = RECIPES["bert-large-squad"]
RESNET = RECIPES["resnet50-imagenet"]


def ada(tdp_w: float, fp32: float = 82.6, **kw):
    return pf.gpu("ada", tdp_w=tdp_w, fp32_tflops=fp32, architecture="Ada Lovelace",
                  compute_capability="8.9", **kw)


def test_power_headroom_against_datasheet_tdps():
    # RTX 4090: 450 W, 82.6 TFLOPS fp32 - the Ada reference itself
    assert hardware.power_headroom(ada(450)) == pytest.approx(1.0, abs=0.01)
    # RTX 6000 Ada: 300 W blower, 91.1 TFLOPS: 300 / (91.1 x 450 / 82.6) = 0.60
    assert hardware.power_headroom(ada(300, 91.1)) == pytest.approx(0.60, abs=0.01)
    # unknown TDP, pre-Volta, other vendors: no power term
    assert hardware.power_headroom(ada(0)) is None
    assert hardware.power_headroom(as_gpu(spec_by_key("titan-xp"))) is None
    assert hardware.power_headroom(as_gpu(spec_by_key("radeon-rx-7900-xtx"))) is None


def test_power_factor_boundaries():
    params = replace(load_params(), power_exponent=1.0)
    setup_tc = hardware.resolve(BERT, ada(450), "amp")
    assert power_factor(params, ada(450), setup_tc) == 1.0                # at the reference
    assert power_factor(params, ada(460), setup_tc) == 1.0                # above: no bonus
    assert power_factor(params, ada(440), setup_tc) == pytest.approx(440 / 450, abs=0.002)
    assert power_factor(params, ada(225), setup_tc) == pytest.approx(0.5, abs=0.002)
    setup_fp32 = hardware.resolve(BERT, ada(225), "fp32")
    assert power_factor(params, ada(225), setup_fp32) == 1.0              # CUDA cores: left alone
    assert power_factor(replace(params, power_exponent=0.0), ada(225), setup_tc) == 1.0


def test_power_limited_card_is_slower_and_says_so():
    params = replace(load_params(), power_exponent=1.0)
    # a compute-bound setting (ample bandwidth), so the tensor rate decides the step
    full = predict_with(params, BERT, ada(500, 91.1, mem_bw_gbs=20000.0), precision="amp")
    limited = predict_with(params, BERT, ada(300, 91.1, mem_bw_gbs=20000.0), precision="amp")
    assert limited.samples_per_s < 0.85 * full.samples_per_s
    assert any("power-limited" in n for n in limited.notes)
    assert not any("power-limited" in n for n in full.notes)


def test_tf32_setting_for_fp32_matmuls():
    a100 = as_gpu(spec_by_key("a100-sxm4-80-gb"))
    default = hardware.resolve(BERT, a100, "fp32")
    ngc = hardware.resolve(BERT, a100, "fp32", tf32_matmul=True)
    off = hardware.resolve(BERT, a100, "fp32", tf32_matmul=False)
    assert default.mode == off.mode == "fp32" and default.peak_tflops == pytest.approx(19.5, rel=0.01)
    assert ngc.mode == "tf32" and ngc.peak_tflops == pytest.approx(156, rel=0.01)
    # Turing has no TF32; AMD/ROCm stays fp32; convolutions use TF32 whatever the matmul flag
    t4 = as_gpu(spec_by_key("tesla-t4"))
    assert hardware.resolve(BERT, t4, "fp32", tf32_matmul=True).mode == "fp32"
    mi300 = as_gpu(spec_by_key("radeon-instinct-mi300x"))
    assert hardware.resolve(BERT, mi300, "fp32", tf32_matmul=True).mode == "fp32"
    assert hardware.resolve(RESNET, a100, "fp32", tf32_matmul=False).mode == "tf32"
    assert (predict(BERT, a100, precision="fp32", tf32_matmul=True).samples_per_s
            > 1.5 * predict(BERT, a100, precision="fp32").samples_per_s)


def test_extrapolated_mark():
    assert predict(RESNET, as_gpu(spec_by_key("geforce-rtx-4090"))).calibration == "calibrated"
    amd = predict(RESNET, as_gpu(spec_by_key("radeon-rx-7900-xtx")))
    assert amd.calibration.startswith("extrapolated, no calibration rows for this architecture")
    assert "AMD RDNA 3.0" in amd.calibration
    apple = predict(RESNET, as_gpu(spec_by_key("apple-m2-ultra"), memory_gb=64))
    assert apple.calibration.startswith("extrapolated")


runner = CliRunner()


def test_estimate_tf32_option_and_spec_gpus():
    r = runner.invoke(app, ["estimate", "--gpu", "A100 SXM4 80GB", "--target", "bert-large-squad",
                            "--precision", "fp32", "--tf32", "on", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["tf32_matmul"] is True and "TF32" in d["precision"]
    bad = runner.invoke(app, ["estimate", "--gpu", "4090", "--target", "bert-large-squad", "--tf32", "yes"])
    assert bad.exit_code == 2 and "--tf32" in bad.output
    xp = runner.invoke(app, ["estimate", "--gpu", "TITAN Xp", "--target", "resnet50-imagenet", "--json"])
    assert xp.exit_code == 0 and json.loads(xp.stdout)["gpu"]["id"] == "titan-xp"
    xtx = runner.invoke(app, ["estimate", "--gpu", "AMD Radeon RX 7900 XTX", "--target",
                              "resnet50-imagenet", "--json"])
    assert xtx.exit_code == 0
    assert json.loads(xtx.stdout)["calibration"].startswith("extrapolated")

"""perfmodel.calibrate by value: CSV parsing, the parameter vector, the fit loop, the sync-loss
solve, leave-one-out, provenance figures and the CLI. Expectations are worked by hand below.

Rows come from a tiny CSV written per test (the real calibration.csv columns), so each decision in
``load_rows`` is met just inside and just past. Slow model pieces (``fit``, ``row_prediction``) are
replaced by stand-ins where the test is about the code around them.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import replace

import pytest

from rigcheck.perfmodel import calibrate
from rigcheck.perfmodel.calibrate import (
    CalRow,
    cross_validate,
    fit,
    fit_all,
    fit_sync_loss,
    load_rows,
    row_prediction,
    single_gpu_row,
)
from rigcheck.perfmodel.model import UNFUSED_ADAM_TRAFFIC_BYTES
from rigcheck.perfmodel.params import EfficiencyParams, load_params

COLUMNS = ("gpu,model,task,precision,batch_size,throughput,unit,framework,source_url,notes,row,gpu_key,"
           "spec_name,architecture,compute_capability,fp32_tflops,tensor_fp16_tflops,tensor_tf32_tflops,"
           "mem_bw_gbs,vram_gb,form,spec_source,workload,model_precision,channels_last,"
           "includes_optimizer,samples_per_s,n_gpus,status,why").split(",")
# An RTX 4090 ResNet-50 row (calibration.csv row 132, figures from its spec columns).
BASE = {
    "gpu": "RTX 4090", "model": "ResNet-50", "task": "train", "precision": "amp", "batch_size": "448",
    "throughput": "1301", "unit": "images/s", "framework": "PyTorch (NVIDIA DLE)",
    "source_url": "https://example.org/bench.csv", "notes": "", "row": "1", "gpu_key": "rtx-4090",
    "spec_name": "GeForce RTX 4090", "architecture": "Ada Lovelace", "compute_capability": "8.9",
    "fp32_tflops": "82.58", "tensor_fp16_tflops": "165.2", "tensor_tf32_tflops": "82.6",
    "mem_bw_gbs": "1008", "vram_gb": "24", "form": "consumer", "spec_source": "TechPowerUp",
    "workload": "resnet50", "model_precision": "amp", "channels_last": "false",
    "includes_optimizer": "true", "samples_per_s": "1301", "n_gpus": "1", "status": "fit", "why": "",
}
# A Turing card without TF32 (row 16's spec columns): cc 7.5, PCIe 3 era.
TURING = {"gpu_key": "rtx-2080-ti", "spec_name": "GeForce RTX 2080 Ti", "architecture": "Turing",
          "compute_capability": "7.5", "fp32_tflops": "13.45", "tensor_fp16_tflops": "53.8",
          "tensor_tf32_tflops": "", "mem_bw_gbs": "616", "vram_gb": "11"}


def _csv(tmp_path, *changes: dict[str, str]):
    path = tmp_path / "cal.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for i, ch in enumerate(changes, start=1):
            w.writerow({**BASE, "row": str(i), **ch})
    return path


def _rows(tmp_path, *changes: dict[str, str]) -> list[CalRow]:
    return load_rows(_csv(tmp_path, *changes))


# ---- load_rows ------------------------------------------------------------------------------

def test_a_plain_training_row(tmp_path):
    (r,) = _rows(tmp_path, {})
    assert (r.row, r.gpu_key, r.precision, r.batch, r.published_sps) == (1, "rtx-4090", "amp", 448, 1301.0)
    assert r.include_optimizer is True and r.include_overhead is True
    assert (r.n_gpus, r.status, r.why, r.framework) == (1, "fit", "", "PyTorch (NVIDIA DLE)")
    assert r.label == "resnet50 amp" and r.optimizer_bytes is None
    assert r.recipe is not None and r.recipe.batch_size == 448 and r.recipe.channels_last is False
    # a training row keeps the workload's training FLOPs (resnet50: 24.30e9) and its params
    assert r.recipe.train_flops_per_sample == 24.30e9 and r.recipe.trainable_params == 25_557_032
    assert r.recipe.activation_bytes_per_sample == 86.33e6


def test_the_gpu_record_from_the_spec_columns(tmp_path):
    ada, turing = _rows(tmp_path, {}, TURING)
    g = ada.gpu
    assert (g.id, g.name, g.architecture, g.compute_capability) == ("rtx-4090", "GeForce RTX 4090",
                                                                    "Ada Lovelace", "8.9")
    assert (g.vram_gb, g.mem_bw_gbs, g.fp32_tflops) == (24.0, 1008.0, 82.58)
    assert (g.tensor_fp16_tflops, g.tensor_bf16_tflops, g.tensor_tf32_tflops) == (165.2, 165.2, 82.6)
    assert g.pcie_gen == 4 and g.nvlink is False and g.form == "consumer"
    assert g.tdp_w == 450.0          # RTX 4090 board power 450 W (TechPowerUp, gpu_specs.csv)
    # cc 7.5 < 8.0: no bf16, PCIe 3; the empty TF32 column reads as None (not 0)
    t = turing.gpu
    assert t.tensor_fp16_tflops == 53.8 and t.tensor_bf16_tflops is None and t.tensor_tf32_tflops is None
    assert t.pcie_gen == 3
    assert t.tdp_w == 250.0          # RTX 2080 Ti 250 W


def test_cc_8_0_is_the_bf16_and_pcie4_boundary(tmp_path):
    a100, volta = _rows(tmp_path, {"compute_capability": "8.0"}, {"compute_capability": "7.9"})
    assert a100.gpu.tensor_bf16_tflops == 165.2 and a100.gpu.pcie_gen == 4
    assert volta.gpu.tensor_bf16_tflops is None and volta.gpu.pcie_gen == 3


def test_datacenter_form_means_nvlink_and_unknown_name_means_no_power_limit(tmp_path):
    (dc,) = _rows(tmp_path, {"form": "datacenter", "spec_name": "No Such GPU 9000"})
    assert dc.gpu.nvlink is True and dc.gpu.form == "datacenter"
    assert dc.gpu.tdp_w == 0.0


def test_batch_scaling_rounding_and_floor(tmp_path):
    rows = _rows(
        tmp_path,
        {"workload": "gnmt-v2", "batch_size": "2"},           # 2 pairs x 56 tokens = 112
        {"workload": "gnmt-v2", "batch_size": "0.0089"},      # 0.0089 x 56 = 0.4984 -> 0 -> floor 1
        {"batch_size": "2.5"},                                # round(2.5) = 2 (banker's), x1
        {"batch_size": "2.6"},                                # round(2.6) = 3
        {"batch_size": ""},                                   # no batch: 1
        {"workload": "gemm-5124x9124x2560", "batch_size": "64"},   # a GEMM call is one sample
        {"batch_size": "0"},                                  # 0 -> floor 1
    )
    assert [r.batch for r in rows] == [112, 1, 2, 3, 1, 1, 1]


def test_channels_last_sets_the_recipe_and_the_label(tmp_path):
    nhwc, nchw = _rows(tmp_path, {"channels_last": "true"}, {"channels_last": "TRUE"})
    assert nhwc.recipe.channels_last is True and nhwc.label == "resnet50 amp NHWC"
    assert nchw.recipe.channels_last is False and nchw.label == "resnet50 amp"   # only "true"


def test_inference_row_is_a_frozen_forward_pass(tmp_path):
    (r,) = _rows(tmp_path, {"task": "infer"})
    # resnet50 forward 8.178e9 FLOPs; nothing trained, nothing saved for backward
    assert r.recipe.train_flops_per_sample == 8.178e9
    assert r.recipe.trainable_params == 0 and r.recipe.activation_bytes_per_sample == 0.0
    assert r.include_optimizer is False         # "true" in the column, but not a training row
    assert r.include_overhead is True


def test_kernel_row_has_no_step_overhead_and_no_optimizer(tmp_path):
    kernel, train_no_opt = _rows(tmp_path, {"task": "kernel"}, {"includes_optimizer": "false"})
    assert kernel.include_overhead is False and kernel.include_optimizer is False
    assert kernel.recipe.train_flops_per_sample == 24.30e9       # kernel rows keep training FLOPs
    assert train_no_opt.include_overhead is True and train_no_opt.include_optimizer is False


def test_unknown_workload_has_no_recipe_and_no_prediction(tmp_path):
    (r,) = _rows(tmp_path, {"workload": "yolo-v9", "batch_size": "3"})
    assert r.recipe is None and r.batch == 3 and r.label == "yolo-v9 amp"
    assert math.isnan(row_prediction(load_params(), r))


@pytest.mark.parametrize("change,unfused", [
    ({"source_url": "https://github.com/lambdal/x", "workload": "bert-large-squad384",
      "model_precision": "fp32"}, True),
    ({"source_url": "https://github.com/lambdal/x", "workload": "bert-large-squad384",
      "model_precision": "tf32"}, True),
    ({"source_url": "https://github.com/lambdal/x", "workload": "bert-large-squad384",
      "model_precision": "amp"}, False),                              # amp: apex FusedAdam
    ({"source_url": "https://github.com/NVIDIA/x", "workload": "bert-large-squad384",
      "model_precision": "fp32"}, False),                             # not Lambda's script
    ({"source_url": "https://github.com/lambdal/x", "workload": "bert-large-pretrain128",
      "model_precision": "fp32"}, False),                             # not SQuAD fine-tuning
])
def test_unfused_adam_only_for_lambda_squad_without_amp(tmp_path, change, unfused):
    (r,) = _rows(tmp_path, change)
    assert r.optimizer_bytes == (UNFUSED_ADAM_TRAFFIC_BYTES if unfused else None)


def test_notes_and_source_are_kept(tmp_path):
    (r,) = _rows(tmp_path, {"notes": "Lambda v1", "source_url": "https://a/b", "why": "PCIe",
                            "status": "scaling", "n_gpus": "2"})
    assert (r.notes, r.source_url, r.why, r.status, r.n_gpus) == ("Lambda v1", "https://a/b", "PCIe",
                                                                  "scaling", 2)


# ---- row_prediction -------------------------------------------------------------------------

def test_row_prediction_is_batch_over_step_time(tmp_path):
    from rigcheck.perfmodel.hardware import resolve
    from rigcheck.perfmodel.model import step_breakdown

    train, kernel, odd = _rows(tmp_path, {}, {"task": "kernel"}, {"model_precision": "int8"})
    params = load_params()
    for r, precision in ((train, "amp"), (kernel, "amp"), (odd, "fp32")):   # int8 -> fp32
        parts = step_breakdown(r.recipe, r.gpu, resolve(r.recipe, r.gpu, precision), r.batch, params,
                               include_optimizer=r.include_optimizer,
                               include_overhead=r.include_overhead)
        assert row_prediction(params, r) == pytest.approx(448 / parts.step_s, rel=1e-12)
    # the kernel row skips the optimizer and the step overhead, so it is faster than the train row
    assert row_prediction(params, kernel) > row_prediction(params, train)


@pytest.mark.parametrize("precision", ["fp32", "tf32", "fp16", "bf16", "amp"])
def test_row_prediction_keeps_each_known_precision(tmp_path, precision):
    from rigcheck.perfmodel.hardware import resolve
    from rigcheck.perfmodel.model import step_breakdown

    (r,) = _rows(tmp_path, {"model_precision": precision})
    params = load_params()
    parts = step_breakdown(r.recipe, r.gpu, resolve(r.recipe, r.gpu, precision), r.batch, params)
    assert row_prediction(params, r) == pytest.approx(448 / parts.step_s, rel=1e-12)


def test_row_prediction_uses_the_rows_optimizer_traffic(tmp_path):
    lam = {"source_url": "https://github.com/lambdal/x", "workload": "bert-large-squad384",
           "model_precision": "fp32", "batch_size": "2"}
    unfused, fused = _rows(tmp_path, lam, {**lam, "source_url": "https://github.com/NVIDIA/x"})
    params = load_params()
    assert row_prediction(params, unfused) < row_prediction(params, fused)


# ---- the parameter vector -------------------------------------------------------------------

def test_unpack_maps_each_slot_by_name():
    gens = ["Ampere", "Volta"]
    ln = math.log
    x = [0.1, 0.2, 0.3,            # fp32, tf32, tc16
         0.4, 0.5,                 # Ampere, Volta
         0.6, 0.7, 0.8,            # transformer, rnn, gemm (cnn = 0)
         ln(2), ln(3), ln(4),      # traffic k: cnn, transformer, rnn (gemm = 0), exp()
         ln(5),                    # nchw factor exp()
         ln(6),                    # combine p = 1 + exp() = 7
         0.9,                      # peak exponent, as is
         ln(7), ln(8)]             # issue bandwidth, power exponent, exp()
    p = calibrate._unpack(x, gens)
    assert p.compute_log_eff == {"fp32": 0.1, "tf32": 0.2, "tc16": 0.3}
    assert p.generation_log_offset == {"Ampere": 0.4, "Volta": 0.5}
    assert p.family_compute_log == {"cnn": 0.0, "transformer": 0.6, "rnn": 0.7, "gemm": 0.8}
    assert p.traffic_k == pytest.approx({"gemm": 0.0, "cnn": 2.0, "transformer": 3.0, "rnn": 4.0})
    assert p.nchw_tensor_factor == pytest.approx(5.0)
    assert p.combine_p == pytest.approx(7.0)
    assert p.peak_exponent == 0.9 and p.bw_exponent == 1.0
    assert p.issue_bw_per_sm_ghz == pytest.approx(7.0)
    assert p.power_exponent == pytest.approx(8.0)


def test_starting_point():
    x0 = calibrate._x0(["Ampere", "Turing"])
    ln = math.log
    assert x0 == pytest.approx([ln(0.5)] * 3 + [0.0, 0.0] + [0.0] * 3 + [ln(8.0)] * 3
                               + [0.0, 0.0, 1.0, ln(30.0), ln(0.5)])
    # unpacked: half of peak everywhere, k = 8, no NCHW penalty, p = 1 + 1 = 2, 30 GB/s per SM-GHz
    p = calibrate._unpack(x0, ["Ampere", "Turing"])
    assert p.compute_log_eff["tc16"] == pytest.approx(ln(0.5)) and p.combine_p == pytest.approx(2.0)
    assert p.traffic_k["rnn"] == pytest.approx(8.0) and p.nchw_tensor_factor == pytest.approx(1.0)
    assert p.issue_bw_per_sm_ghz == pytest.approx(30.0) and p.power_exponent == pytest.approx(0.5)


def test_generations_are_sorted_and_unique(tmp_path):
    rows = _rows(tmp_path, TURING, {}, TURING, {"architecture": "Ampere", "compute_capability": "8.6"})
    assert calibrate._generations(rows) == ["Ada Lovelace", "Ampere", "Turing"]


# ---- the fit --------------------------------------------------------------------------------

def _real(rows_wanted: set[int]) -> list[CalRow]:
    return [r for r in load_rows() if r.row in rows_wanted]


def test_zero_iterations_return_the_starting_point():
    rows = _real({132, 133})
    p = fit(rows, iterations=0)
    assert p.generation_log_offset == {"Ada Lovelace": 0.0}
    assert p.compute_log_eff == pytest.approx({k: math.log(0.5) for k in ("fp32", "tf32", "tc16")})


def _truth(gens) -> EfficiencyParams:
    base = load_params()
    return replace(base, generation_log_offset={g: 0.0 for g in gens}, provenance={})


def test_fit_recovers_a_model_that_generated_the_rows():
    # Rows whose "published" figure is the model's own prediction under known parameters (all
    # generation offsets 0, so the ridge costs nothing at the truth): the fit must find a
    # parameter set that reproduces them (cost ~ 0), whatever the identifiability.
    picked = [r for r in load_rows() if r.status == "fit"][::6]
    gens = sorted({calibrate.generation(r.gpu) for r in picked})
    truth = _truth(gens)
    synthetic = [replace(r, published_sps=row_prediction(truth, r)) for r in picked]
    got = fit(synthetic)
    errors = [abs(row_prediction(got, r) / r.published_sps - 1.0) for r in synthetic]
    assert max(errors) < 0.01
    # and the fit moved well away from its starting point (which is off by more than 10%)
    start = fit(synthetic, iterations=0)
    assert max(abs(row_prediction(start, r) / r.published_sps - 1.0) for r in synthetic) > 0.10


def test_fit_uses_only_fit_rows():
    picked = [r for r in load_rows() if r.status == "fit"][::12]
    gens = sorted({calibrate.generation(r.gpu) for r in picked})
    truth = _truth(gens)
    synthetic = [replace(r, published_sps=row_prediction(truth, r)) for r in picked]
    # an excluded row 100x off, on a generation no fit row has: ignored, and no offset for it
    odd = replace(synthetic[0], status="exclude", published_sps=synthetic[0].published_sps * 100)
    got = fit(synthetic, iterations=3)
    with_odd = fit([*synthetic, odd], iterations=3)
    assert with_odd.compute_log_eff == got.compute_log_eff
    assert set(with_odd.generation_log_offset) == set(gens)


# ---- single_gpu_row / fit_sync_loss ---------------------------------------------------------

def _mk(base: CalRow, **kw) -> CalRow:
    return replace(base, **kw)


@pytest.fixture()
def one(tmp_path) -> CalRow:
    (r,) = _rows(tmp_path, {})
    return r


def test_single_gpu_row_prefers_the_same_benchmark_generation(one):
    multi = _mk(one, row=10, status="scaling", n_gpus=2, notes="Lambda v1",
                source_url="https://github.com/lambdal/a")
    v0 = _mk(one, row=1, notes="Lambda v0", source_url="https://github.com/lambdal/a")
    dle = _mk(one, row=2, notes="Lambda v1", source_url="https://github.com/NVIDIA/a")
    v1 = _mk(one, row=3, notes="Lambda v1", source_url="https://github.com/lambdal/b")
    assert single_gpu_row([multi, v0, dle, v1], multi).row == 3
    # without a same-generation row: the first same-GPU/label/batch row
    assert single_gpu_row([multi, v0, dle], multi).row == 1
    # the other direction: a non-Lambda-v1 multi row prefers a non-v1 row
    nvidia = _mk(multi, notes="DLE", source_url="https://github.com/NVIDIA/b")
    plain = _mk(one, row=4, notes="DLE", source_url="https://github.com/NVIDIA/c")
    assert single_gpu_row([v1, dle, plain], nvidia).row == 4


def test_single_gpu_row_needs_same_gpu_label_batch_and_a_fit_row(one):
    multi = _mk(one, row=10, status="scaling", n_gpus=2)
    assert single_gpu_row([_mk(one, gpu_key="rtx-3090")], multi) is None
    assert single_gpu_row([_mk(one, label="resnet50 fp32")], multi) is None
    assert single_gpu_row([_mk(one, batch=447)], multi) is None
    assert single_gpu_row([_mk(one, status="exclude")], multi) is None
    assert single_gpu_row([_mk(one, row=7)], multi).row == 7


def _no_grads(r: CalRow) -> CalRow:
    # no trainable parameters: no gradients to all-reduce, so the model's comm efficiency is 1
    # and the loss comes from the published figures alone
    return replace(r, recipe=replace(r.recipe, trainable_params=0))


def test_sync_loss_from_published_efficiency(one):
    single = _mk(one, published_sps=1000.0)
    # 4 GPUs at 3240/s: efficiency 3240 / (4 x 1000) = 0.81 over log2(4) = 2 doublings:
    # loss = 1 - 0.81 ** (1/2) = 1 - 0.9 = 0.1
    multi = _no_grads(_mk(one, row=9, status="scaling", n_gpus=4, published_sps=3240.0))
    assert fit_sync_loss(load_params(), [single, multi]) == pytest.approx(0.1)
    # 8 GPUs at 0.729 x 8000 = 5832/s: three doublings, 0.729 ** (1/3) = 0.9 -> 0.1 again
    multi8 = _no_grads(_mk(one, row=9, status="scaling", n_gpus=8, published_sps=5832.0))
    assert fit_sync_loss(load_params(), [single, multi8]) == pytest.approx(0.1)


def test_sync_loss_is_zero_for_superlinear_scaling(one):
    single = _mk(one, published_sps=1000.0)
    multi = _no_grads(_mk(one, row=9, status="scaling", n_gpus=2, published_sps=2100.0))
    assert fit_sync_loss(load_params(), [single, multi]) == 0.0    # 1.05 capped at 1


def test_sync_loss_median_odd_even_and_empty(one):
    single = _mk(one, published_sps=1000.0)

    def two_gpu(eff: float) -> CalRow:    # 2 GPUs: one doubling, loss = 1 - eff
        return _no_grads(_mk(one, row=9, status="scaling", n_gpus=2, published_sps=2000.0 * eff))

    params = load_params()
    assert fit_sync_loss(params, [single]) == 0.0
    assert fit_sync_loss(params, [single, two_gpu(0.9), two_gpu(0.7), two_gpu(0.8)]) == pytest.approx(0.2)
    # even: (0.1 + 0.2) / 2 = 0.15 from losses 0.05, 0.1, 0.2, 0.4
    four = [two_gpu(0.95), two_gpu(0.6), two_gpu(0.9), two_gpu(0.8)]
    assert fit_sync_loss(params, [single, *four]) == pytest.approx(0.15)
    assert fit_sync_loss(params, [single, two_gpu(0.7), two_gpu(0.9)]) == pytest.approx(0.2)


def test_sync_loss_skips_rows_it_cannot_use(one):
    single = _mk(one, published_sps=1000.0)
    good = _no_grads(_mk(one, row=9, status="scaling", n_gpus=2, published_sps=1800.0))   # loss 0.1
    one_gpu = _no_grads(_mk(one, row=8, status="scaling", n_gpus=1, published_sps=100.0))
    not_scaling = _no_grads(_mk(one, row=7, status="exclude", n_gpus=2, published_sps=100.0))
    orphan = _no_grads(_mk(one, row=6, status="scaling", n_gpus=2, batch=7, published_sps=100.0))
    no_recipe = _mk(one, row=5, status="scaling", n_gpus=2, published_sps=100.0, recipe=None)
    rows = [single, good, one_gpu, not_scaling, orphan, no_recipe]
    assert fit_sync_loss(load_params(), rows) == pytest.approx(0.1)


def test_sync_loss_counts_the_all_reduce_time(one):
    # With real gradients the modelled all-reduce eats part of the published loss, so the
    # residual loss is smaller than 1 - efficiency; over PCIe 4 (why says PCIe) more of it than
    # over NVLink.
    dc = _mk(one, gpu=replace(one.gpu, form="datacenter", nvlink=True, architecture="Ampere",
                             compute_capability="8.0"))
    single = _mk(dc, published_sps=1000.0)
    nvlink = _mk(dc, row=9, status="scaling", n_gpus=2, published_sps=1800.0, why="NVLink")
    pcie = _mk(nvlink, why="multi-GPU row: PCIe")
    params = load_params()
    via_nvlink = fit_sync_loss(params, [single, nvlink])
    via_pcie = fit_sync_loss(params, [single, pcie])
    assert via_pcie < via_nvlink < 0.1


# ---- cross_validate -------------------------------------------------------------------------

def test_cross_validate_leaves_each_group_out(one, monkeypatch):
    a1 = _mk(one, row=1, gpu_key="a")
    a2 = _mk(one, row=2, gpu_key="a")
    b1 = _mk(one, row=3, gpu_key="b")
    a_ex = _mk(one, row=4, gpu_key="a", status="exclude")
    seen: list[list[int]] = []

    def fake_fit(train):
        seen.append(sorted(r.row for r in train))
        return EfficiencyParams({}, {}, {}, {}, peak_exponent=float(len(seen)))

    monkeypatch.setattr(calibrate, "fit", fake_fit)
    monkeypatch.setattr(calibrate, "row_prediction", lambda p, r: p.peak_exponent * 100 + r.row)
    out = cross_validate([a1, a2, b1, a_ex])
    # group "a" first (sorted): trained on b1 and the excluded a row; then "b" on a1, a2, a_ex
    assert seen == [[3, 4], [1, 2, 4]]
    assert [(r.row, pred) for r, pred in out] == [(1, 101), (2, 102), (3, 203)]


def test_cross_validate_by_custom_group(one, monkeypatch):
    rows = [_mk(one, row=1, gpu_key="a-1"), _mk(one, row=2, gpu_key="a-2"), _mk(one, row=3, gpu_key="b-1")]
    seen: list[list[int]] = []
    monkeypatch.setattr(calibrate, "fit", lambda train: seen.append(sorted(r.row for r in train)) or load_params())
    monkeypatch.setattr(calibrate, "row_prediction", lambda p, r: 0.0)
    out = cross_validate(rows, group_of=lambda key: key.split("-")[0])
    assert seen == [[3], [1, 2]] and [r.row for r, _ in out] == [1, 2, 3]


# ---- fit_all provenance ---------------------------------------------------------------------

FITTED = EfficiencyParams({"fp32": -1.0}, {"Ampere": 0.1}, {"cnn": 0.0, "rnn": 0.5}, {"cnn": 5.1234},
                          nchw_tensor_factor=1.5, combine_p=2.5, sync_loss_per_doubling=0.9,
                          peak_exponent=0.8, bw_exponent=1.0, issue_bw_per_sm_ghz=33.0,
                          power_exponent=0.4)


def _fit_all(tmp_path, one, monkeypatch, predictions, with_cv=False, cv=()):
    rows = [_mk(one, row=i + 1, gpu_key=f"g{i % 2}", published_sps=100.0) for i in range(len(predictions))]
    rows.append(_mk(one, row=99, status="exclude", gpu_key="zz"))
    rows.append(_mk(one, row=98, status="exclude", gpu_key="zz"))
    rows.append(_mk(one, row=97, status="scaling", gpu_key="yy", n_gpus=2))
    pred = {r.row: p for r, p in zip(rows, predictions)}
    monkeypatch.setattr(calibrate, "fit", lambda rs: FITTED)
    monkeypatch.setattr(calibrate, "fit_sync_loss", lambda p, rs: 0.042)
    monkeypatch.setattr(calibrate, "row_prediction", lambda p, r: pred[r.row])
    monkeypatch.setattr(calibrate, "cross_validate",
                        lambda rs: [(rows[i], v) for i, v in enumerate(cv)])
    src = tmp_path / "src.csv"
    src.write_bytes(b"row,gpu\n1,x\n")
    return fit_all(rows, src, with_cv=with_cv), src


def test_fit_all_carries_every_fitted_value_and_the_sync_loss(tmp_path, one, monkeypatch):
    p, _ = _fit_all(tmp_path, one, monkeypatch, [110.0, 80.0, 100.0])
    assert p.compute_log_eff == {"fp32": -1.0} and p.generation_log_offset == {"Ampere": 0.1}
    assert p.family_compute_log == {"cnn": 0.0, "rnn": 0.5} and p.traffic_k == {"cnn": 5.1234}
    assert (p.nchw_tensor_factor, p.combine_p, p.peak_exponent, p.bw_exponent) == (1.5, 2.5, 0.8, 1.0)
    assert (p.issue_bw_per_sm_ghz, p.power_exponent) == (33.0, 0.4)
    assert p.sync_loss_per_doubling == 0.042        # solved, not the fit's 0.9


def test_fit_all_provenance_odd(tmp_path, one, monkeypatch):
    # errors |110/100 - 1| = 0.1, |80/100 - 1| = 0.2, 0 -> sorted 0, 0.1, 0.2: median 0.1, worst 0.2
    p, src = _fit_all(tmp_path, one, monkeypatch, [110.0, 80.0, 100.0])
    prov = p.provenance
    assert prov["fitted_on"] == "src.csv"
    assert prov["sha256"] == hashlib.sha256(b"row,gpu\n1,x\n").hexdigest()
    assert prov["rows_fitted"] == 3 and prov["rows_excluded"] == 2
    assert prov["gpus"] == ["g0", "g1"]
    assert prov["in_sample_median_abs_error"] == 0.1 and prov["in_sample_worst_abs_error"] == 0.2
    assert "logo_cv_median_abs_error" not in prov
    assert prov["command"] == "python -m rigcheck.perfmodel.calibrate"
    assert prov["fitted_at"].endswith("Z") and len(prov["fitted_at"]) == 20


def test_fit_all_provenance_even_takes_the_upper_middle_and_rounds(tmp_path, one, monkeypatch):
    # errors 0.05, 0.123456, 0.3, 0.25 -> sorted [0.05, 0.123456, 0.25, 0.3]; index 4 // 2 = 2
    p, _ = _fit_all(tmp_path, one, monkeypatch, [105.0, 112.3456, 70.0, 125.0])
    assert p.provenance["in_sample_median_abs_error"] == 0.25
    assert p.provenance["in_sample_worst_abs_error"] == 0.3
    p, _ = _fit_all(tmp_path, one, monkeypatch, [112.34567])
    assert p.provenance["in_sample_median_abs_error"] == 0.1235     # rounded to 4 places
    assert p.provenance["in_sample_worst_abs_error"] == 0.1235
    p, _ = _fit_all(tmp_path, one, monkeypatch, [100.0], with_cv=True, cv=[187.65432])
    assert p.provenance["logo_cv_median_abs_error"] == 0.8765
    assert p.provenance["logo_cv_worst_abs_error"] == 0.8765


def test_fit_all_cross_validation_figures(tmp_path, one, monkeypatch):
    # cv predictions over published 100: errors 0.5 (not over 50%), 0.51 (over), 0.1, 0.02, 2.0
    p, _ = _fit_all(tmp_path, one, monkeypatch, [100.0] * 5, with_cv=True,
                    cv=[150.0, 49.0, 110.0, 98.0, 300.0])
    prov = p.provenance
    # sorted 0.02, 0.1, 0.5, 0.51, 2.0: median (index 2) 0.5, worst 2.0, one... two over 0.5
    assert prov["logo_cv_median_abs_error"] == 0.5
    assert prov["logo_cv_worst_abs_error"] == 2.0
    assert prov["logo_cv_rows_over_50pct"] == 2


# ---- main -----------------------------------------------------------------------------------

def test_main_dry_run_prints_and_writes_nothing(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(calibrate, "load_rows", lambda path: calls.append(("load", path)) or [])
    monkeypatch.setattr(calibrate, "fit_all",
                        lambda rows, src, with_cv: calls.append(("fit", src, with_cv)) or FITTED)
    out = tmp_path / "params.json"
    src = tmp_path / "c.csv"
    assert calibrate.main(["--csv", str(src), "--out", str(out), "--dry-run"]) == 0
    assert calls == [("load", src), ("fit", src, False)]
    assert not out.exists()
    text = capsys.readouterr().out
    assert "precision-class efficiency: {'fp32': 0.368}" in text       # e^-1 = 0.3679
    assert "generation factor: {'Ampere': 1.105}" in text               # e^0.1 = 1.1052
    assert "family factor: {'cnn': 1.0, 'rnn': 1.649}" in text         # e^0.5 = 1.6487
    assert "traffic k: {'cnn': 5.12}" in text
    assert "nchw tensor factor 1.50" in text and "peak exponent 0.80" in text
    assert "bandwidth exponent 1.00" in text and "power exponent 0.40" in text
    assert "provenance: {}" in text
    assert "SM-issue bandwidth 33.0 GB/s per SM-GHz" in text
    assert "combine p 2.50" in text and "sync loss/doubling 0.900" in text
    assert "wrote" not in text


def test_main_help_names_the_tool(capsys):
    with pytest.raises(SystemExit):
        calibrate.main(["--help"])
    assert "Fit the performance model's efficiency parameters" in capsys.readouterr().out


def test_main_writes_params_with_cross_validation(tmp_path, monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(calibrate, "load_rows", lambda path: [])
    monkeypatch.setattr(calibrate, "fit_all", lambda rows, src, with_cv: seen.append(with_cv) or FITTED)
    out = tmp_path / "params.json"
    assert calibrate.main(["--csv", str(tmp_path / "c.csv"), "--out", str(out)]) == 0
    assert seen == [True]
    assert EfficiencyParams.from_dict(__import__("json").loads(out.read_text())).combine_p == 2.5
    assert f"wrote {out}" in capsys.readouterr().out


# ---- placeholders and edge rows ---------------------------------------------------------------

def test_calibration_gpu_placeholders(tmp_path):
    # A calibration GPU is a spec sheet, not a catalog part: no price, size or connectors. These
    # fields are placeholders the model never reads; pinned so a change to them is deliberate.
    (r,) = _rows(tmp_path, {})
    g = r.gpu
    assert (g.vendor, g.memory_type, g.cuda_cores, g.tensor_accumulate) == ("NVIDIA", "", 0, "fp32")
    assert (g.slot_width, g.length_mm, g.power_8pin, g.power_16pin) == (2, 0.0, 0, 0)
    assert (g.cooler, g.launch_year, g.availability) == ("passive", 0, "legacy")
    assert (g.price.inr, g.price.usd, g.price.kind, g.price.source) == (1.0, None, "msrp", "TechPowerUp")
    assert g.price.date.isoformat() == "2000-01-01"


def test_calibration_rows_are_frozen(tmp_path):
    import dataclasses

    (r,) = _rows(tmp_path, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.batch = 2  # type: ignore[misc]


def test_tdp_of_a_spec_without_board_power_is_zero(monkeypatch):
    from types import SimpleNamespace

    from rigcheck.perfmodel import match

    monkeypatch.setattr(match, "match_gpu", lambda specs, name: SimpleNamespace(tdp_w=None))
    got = calibrate._tdp_w("Anything")
    assert got == 0.0 and isinstance(got, float)


def test_batch_defaults_before_scaling(tmp_path):
    rows = _rows(
        tmp_path,
        {"workload": "gnmt-v2", "batch_size": ""},     # no batch: 1 pair x 56 tokens = 56
        {"workload": "yolo-v9", "batch_size": "5"},    # unknown workload: x 1 -> 5
        {"workload": "yolo-v9", "task": "infer"},      # unknown inference row: still no recipe
    )
    assert [r.batch for r in rows] == [56, 5, 448]
    assert rows[2].recipe is None


def test_fit_stops_as_soon_as_no_step_improves(monkeypatch):
    # Rows generated by the starting point itself: the start is the optimum (cost 0 with every
    # generation offset 0), so no step can lower the cost and the fit must stop after its first
    # round: 1 start + x.size Jacobian columns + at most 10 damped tries, not 60 rounds of them.
    picked = [r for r in load_rows() if r.status == "fit"][::25]
    gens = sorted({calibrate.generation(r.gpu) for r in picked})
    start = calibrate._unpack(calibrate._x0(gens), gens)
    synthetic = [replace(r, published_sps=row_prediction(start, r)) for r in picked]
    calls = []
    real = calibrate.row_prediction
    monkeypatch.setattr(calibrate, "row_prediction", lambda p, r: calls.append(1) or real(p, r))
    got = fit(synthetic)
    n_x = len(calibrate._x0(gens))
    assert len(calls) <= len(synthetic) * (1 + n_x + 10)
    assert got.compute_log_eff == start.compute_log_eff


def test_sync_loss_with_the_all_reduce_worked_by_hand(one):
    from rigcheck.perfmodel.hardware import resolve
    from rigcheck.perfmodel.model import step_breakdown

    # ResNet-50 at batch 1 on two RTX 4090s over PCIe 4: gradients 4 B x 25,557,032 params
    # = 102,228,128 B; ring all-reduce 2 x (2-1)/2 x bytes / 20 GB/s (PCIe 4 bus bandwidth,
    # scaling.PCIE_BUSBW_GBS) = 5.1114064 ms. One image's backward (2/3 of its compute) is far
    # shorter, so the exposed time is the all-reduce less the backward (more than the last
    # 25 MiB bucket, 26,214,400 / 20e9 = 1.31 ms). Published efficiency 0.05 (1000/s -> 100/s
    # on two). loss = 1 - 0.05 / comm_eff, comm_eff = step / (step + exposed), one doubling.
    params = load_params()
    single = _mk(one, batch=1, published_sps=1000.0, label="r50 b1")
    multi = _mk(single, row=9, status="scaling", n_gpus=2, why="multi-GPU row: PCIe", published_sps=100.0)
    parts = step_breakdown(multi.recipe, multi.gpu, resolve(multi.recipe, multi.gpu, "amp"), 1, params)
    t_ar = 102_228_128 / 20e9
    backward = parts.compute_s * 2 / 3
    assert t_ar - backward > 26_214_400 / 20e9                       # the case worked here
    exposed = t_ar - backward
    comm_eff = parts.step_s / (parts.step_s + exposed)
    assert 0.05 / comm_eff < 1                                      # not capped
    assert fit_sync_loss(params, [single, multi]) == pytest.approx(1 - 0.05 / comm_eff, rel=1e-9)
    # at the batch of 448 the backward hides all but the last bucket: exposed 1.31072 ms
    big1 = _mk(one, published_sps=1000.0)
    big = _mk(big1, row=9, status="scaling", n_gpus=2, why="PCIe")      # efficiency 0.5
    bparts = step_breakdown(big.recipe, big.gpu, resolve(big.recipe, big.gpu, "amp"), 448, params)
    comm_big = bparts.step_s / (bparts.step_s + 26_214_400 / 20e9)
    assert fit_sync_loss(params, [big1, big]) == pytest.approx(1 - 0.5 / comm_big, rel=1e-9)

"""perfmodel.model's step terms pinned by value with explicit parameters (not params.json).

Each expectation is the module docstring's formula worked out here for round numbers:

    achieved TFLOP/s = 100 x (peak / 100) ** peak_exponent x eff x power_factor
    t_c = train FLOPs / achieved;  t_m = traffic_k x activation bytes / bandwidth
    t_sample = (t_c^p + t_m^p)^(1/p);  step = B t_sample + optimizer + 1 ms

Base card (tests.parts_factory.gpu): Ada, cc 8.9, 20 TFLOP/s fp32, 80 fp16 tensor, 40 TF32,
500 GB/s, 16 GB. Base recipe: a transformer, fp32 AdamW, 1e8 parameters, 6e10 train FLOPs
and 1e7 saved activation bytes per sample, batch 8, 80,000 samples, 2 epochs.
"""

from __future__ import annotations

import math

import pytest

from rigcheck.perfmodel import model as pm
from rigcheck.perfmodel.hardware import resolve
from rigcheck.perfmodel.params import EfficiencyParams
from tests.parts_factory import gpu, recipe


def params(**kw) -> EfficiencyParams:
    fields: dict = dict(
        compute_log_eff={"fp32": math.log(0.5), "tf32": math.log(0.4), "tc16": math.log(0.25)},
        generation_log_offset={"Ada Lovelace": 0.0, "Pascal": 0.0},
        family_compute_log={"cnn": 0.0, "transformer": 0.0},
        traffic_k={"cnn": 2.0, "transformer": 1.0},
    )
    fields.update(kw)
    return EfficiencyParams(**fields)


def tr(**kw):
    fields: dict = dict(family="transformer", model="bert", precision="fp32", optimizer="adamw",
                        params=100_000_000, trainable_params=100_000_000,
                        fwd_flops_per_sample=2e10, train_flops_per_sample=6e10,
                        activation_bytes_per_sample=1e7, batch_size=8, dataset_samples=80_000,
                        epochs=2, input_shape=(512,))
    fields.update(kw)
    return recipe("tr", **fields)


def cnn(**kw):   # 5e6 activation bytes a sample measured under amp (1e7 at fp32)
    return tr(family="cnn", model="resnet50", precision="amp", activation_bytes_per_sample=5e6,
              **kw)


def ada(**kw):
    return gpu("ada", **kw)


def pascal(**kw):
    return gpu("pascal", architecture="Pascal", compute_capability="6.1",
               tensor_fp16_tflops=None, tensor_bf16_tflops=None, tensor_tf32_tflops=None, **kw)


def breakdown(r, g, prec=None, p=None, batch=8, **kw):
    return pm.step_breakdown(r, g, resolve(r, g, prec), batch, p or params(), **kw)


# ---- step_breakdown --------------------------------------------------------------------

def test_fp32_transformer_step_by_hand():
    b = breakdown(tr(), ada())
    # eff 0.5 on the 20 TFLOP/s CUDA cores: 10 TFLOP/s -> 6 ms; 1e7 B / 500 GB/s = 20 us
    assert b.compute_s == pytest.approx(8 * 6e-3)
    assert b.memory_s == pytest.approx(8 * 2e-5)
    assert b.optimizer_s == pytest.approx(1e8 * 28 / (0.8 * 500e9))   # fused Adam, 7 ms
    assert b.overhead_s == pytest.approx(1e-3)
    assert b.step_s == pytest.approx(0.048 + 0.00016 + 0.007 + 0.001)


def test_amp_transformer_on_tensor_cores():
    b = breakdown(tr(), ada(), "amp")
    # 80 x 0.25 = 20 TFLOP/s -> 3 ms; activations at 2 bytes: 5e6 B -> 10 us
    assert b.compute_s == pytest.approx(8 * 3e-3)
    assert b.memory_s == pytest.approx(8 * 1e-5)


def test_generation_and_family_offsets_multiply_efficiency():
    b = breakdown(tr(), ada(), p=params(generation_log_offset={"Ada Lovelace": math.log(2.0)}))
    assert b.compute_s == pytest.approx(8 * 3e-3)                   # eff 0.5 x 2 = 1.0
    b = breakdown(tr(), ada(), p=params(family_compute_log={"transformer": math.log(0.5)}))
    assert b.compute_s == pytest.approx(8 * 12e-3)                  # eff 0.25
    b = breakdown(tr(), ada(), p=params(generation_log_offset={}, family_compute_log={}))
    assert b.compute_s == pytest.approx(8 * 6e-3)                   # missing keys: offset 0


def test_missing_precision_class_defaults_to_half_efficiency():
    b = breakdown(tr(), ada(), "amp", p=params(compute_log_eff={}))
    assert b.compute_s == pytest.approx(8 * 6e10 / (80e12 * 0.5))


def test_peak_exponent_bends_around_100_tflops():
    b = breakdown(tr(), ada(), p=params(peak_exponent=0.5))
    achieved = 100 * math.sqrt(0.2) * 0.5 * 1e12                   # 22.36 TFLOP/s
    assert b.compute_s == pytest.approx(8 * 6e10 / achieved)


def test_combine_p_two_and_p_below_one_clamped():
    p2 = params(combine_p=2.0, traffic_k={"transformer": 100.0})   # t_m = 1e9 / 5e11 = 2 ms
    b = breakdown(tr(), ada(), p=p2)
    t = math.sqrt(6e-3 ** 2 + 2e-3 ** 2)
    assert b.compute_s == pytest.approx(8 * t * 0.75)               # split 6 : 2
    assert b.memory_s == pytest.approx(8 * t * 0.25)
    b = breakdown(tr(), ada(), p=params(combine_p=0.5, traffic_k={"transformer": 100.0}))
    assert b.compute_s == pytest.approx(8 * 6e-3)                   # p clamped to 1: a sum
    assert b.memory_s == pytest.approx(8 * 2e-3)


def test_bw_exponent_and_issue_limit():
    big = {"transformer": 100.0}                                    # 1e9 bytes a sample
    b = breakdown(tr(), ada(), p=params(traffic_k=big, bw_exponent=0.5))
    assert b.memory_s == pytest.approx(8 * 1e9 / (1e12 * math.sqrt(0.5)))
    # SMs x GHz = 20,000 / (2 x 128) = 78.125; x 6.4 GB/s = 500 GB/s = the DRAM rate:
    # soft minimum (q = 2) = 500 / sqrt 2
    b = breakdown(tr(), ada(), p=params(traffic_k=big, issue_bw_per_sm_ghz=6.4))
    assert b.memory_s == pytest.approx(8 * 1e9 / (500e9 / math.sqrt(2)))


def test_achieved_bandwidth_values():
    assert pm.achieved_bandwidth(params(), ada()) == pytest.approx(500e9)
    assert pm.achieved_bandwidth(params(issue_bw_per_sm_ghz=-1.0), ada()) == pytest.approx(500e9)
    assert pm.achieved_bandwidth(params(issue_bw_per_sm_ghz=6.4), ada()) == pytest.approx(
        500e9 / math.sqrt(2))
    # a small issue rate still limits: 0.5 x 78.125 = 39.0625 GB/s
    assert pm.achieved_bandwidth(params(issue_bw_per_sm_ghz=0.5), ada()) == pytest.approx(
        1e9 * (500.0 ** -2 + 39.0625 ** -2) ** -0.5)
    # issue limit 3x the DRAM rate: (1/500^2 + 1/1500^2)^(-1/2) GB/s
    assert pm.achieved_bandwidth(params(issue_bw_per_sm_ghz=19.2), ada()) == pytest.approx(
        1e9 * (500.0 ** -2 + 1500.0 ** -2) ** -0.5)


def test_no_tensor_cores_half_precision_traffic_at_fp32_and_115x():
    b = breakdown(tr(), pascal(), "amp")
    assert b.compute_s == pytest.approx(8 * 6e-3 / 1.15)
    assert b.memory_s == pytest.approx(8 * 2e-5 / 1.15)             # 1e7 bytes, not 5e6


def test_nchw_factor_only_for_cnn_on_tensor_cores_without_channels_last():
    p = params(nchw_tensor_factor=1.5)
    # amp cnn: 2.0 x 5e6 bytes x 1.5 = 1.5e7 -> 30 us
    assert breakdown(cnn(), ada(), p=p).memory_s == pytest.approx(8 * 3e-5)
    assert breakdown(cnn(channels_last=True), ada(), p=p).memory_s == pytest.approx(8 * 2e-5)
    # fp32 cnn runs TF32 convs (pclass tf32): 40 x 0.4 = 16 TFLOP/s, no layout factor
    b = breakdown(cnn(), ada(), "fp32", p=p)
    assert b.compute_s == pytest.approx(8 * 6e10 / 16e12)
    assert b.memory_s == pytest.approx(8 * 2e7 / 500e9)
    # a transformer under amp gets no factor either
    assert breakdown(tr(), ada(), "amp", p=p).memory_s == pytest.approx(8 * 1e-5)


def test_frozen_backbone_streams_forward_activations():
    # train 4e10 = 3 x 2e10 - 2 x 1e10: 1e10 forward-only FLOPs x 0.00278 B/FLOP / 3
    r = tr(train_flops_per_sample=4e10)
    frozen = 1e10 * 0.00278 / 3
    assert pm.frozen_forward_bytes(r, "fp32") == pytest.approx(frozen)
    assert pm.frozen_forward_bytes(r, "amp") == pytest.approx(frozen / 2)
    b = breakdown(r, ada())
    assert b.memory_s == pytest.approx(8 * (1e7 + frozen) / 500e9)


def test_frozen_forward_bytes_clamped_and_per_family():
    assert pm.frozen_forward_bytes(tr(train_flops_per_sample=0.0), "fp32") == pytest.approx(
        2e10 * 0.00278 / 3)                                          # at most the forward
    assert pm.frozen_forward_bytes(tr(train_flops_per_sample=1e11), "fp32") == 0.0
    assert pm.frozen_forward_bytes(tr(), "fp32") == 0.0
    r = tr(family="cnn", train_flops_per_sample=4e10)
    assert pm.frozen_forward_bytes(r, "fp32") == pytest.approx(1e10 * 0.01056 / 3)
    r = tr(family="rnn", train_flops_per_sample=4e10)
    assert pm.frozen_forward_bytes(r, "fp32") == pytest.approx(1e10 * 0.00192 / 3)
    r = tr(family="gemm", train_flops_per_sample=4e10)
    assert pm.frozen_forward_bytes(r, "fp32") == 0.0


def test_zero_work_step_is_overhead_only():
    r = tr(train_flops_per_sample=0.0, fwd_flops_per_sample=0.0, trainable_params=0)
    b = breakdown(r, ada(), p=params(traffic_k={}))
    assert (b.compute_s, b.memory_s, b.optimizer_s) == (0.0, 0.0, 0.0)
    assert b.step_s == pytest.approx(1e-3)


@pytest.mark.parametrize(("optimizer", "bytes_"), [
    ("sgd", 12.0), ("sgd-momentum", 20.0), ("adam", 28.0), ("adamw", 28.0), ("lamb", 28.0),
])
def test_optimizer_traffic_per_parameter(optimizer, bytes_):
    b = breakdown(tr(optimizer=optimizer), ada())
    assert b.optimizer_s == pytest.approx(1e8 * bytes_ / 400e9)


def test_optimizer_override_and_switches():
    assert breakdown(tr(), ada(), optimizer_bytes_per_param=112.0).optimizer_s == pytest.approx(
        1e8 * 112 / 400e9)
    b = breakdown(tr(), ada(), include_optimizer=False, include_overhead=False)
    assert (b.optimizer_s, b.overhead_s) == (0.0, 0.0)
    assert b.step_s == pytest.approx(0.048 + 0.00016)


# ---- power factor -------------------------------------------------------------------------

def powered(tdp_w):   # Ada: flagship 450 W per 82.6 TFLOP/s, so headroom = tdp / 450 here
    return ada(fp32_tflops=82.6, tdp_w=tdp_w)


def test_power_factor_values():
    tc16 = resolve(tr(), powered(225), "amp")
    assert pm.power_factor(params(power_exponent=1.0), powered(225), tc16) == pytest.approx(0.5)
    assert pm.power_factor(params(power_exponent=0.5), powered(225), tc16) == pytest.approx(
        math.sqrt(0.5))
    assert pm.power_factor(params(power_exponent=0.0), powered(225), tc16) == 1.0
    assert pm.power_factor(params(power_exponent=-1.0), powered(225), tc16) == 1.0
    assert pm.power_factor(params(power_exponent=1.0), powered(459), tc16) == 1.0   # 1.02
    assert pm.power_factor(params(power_exponent=1.0), powered(441), tc16) == pytest.approx(0.98)
    amd = ada(vendor="AMD", fp32_tflops=82.6, tdp_w=225)
    assert pm.power_factor(params(power_exponent=1.0), amd, resolve(tr(), amd, "amp")) == 1.0


def test_power_factor_only_for_tensor_core_classes():
    g = powered(225)
    fp32 = resolve(tr(), g, "fp32")                                 # CUDA cores
    tf32 = resolve(tr(), g, "tf32")
    assert pm.power_factor(params(power_exponent=1.0), g, fp32) == 1.0
    assert pm.power_factor(params(power_exponent=1.0), g, tf32) == pytest.approx(0.5)


def test_power_limited_compute_time():
    g = powered(225)
    b = breakdown(tr(), g, "amp", p=params(power_exponent=1.0))
    peak = g.tensor_fp16_tflops        # the record's fp16 tensor rate (fp32 accumulate)
    achieved = 100 * (peak / 100) * 0.25 * 0.5
    assert b.compute_s == pytest.approx(8 * 6e10 / (achieved * 1e12))


# ---- predict_with ---------------------------------------------------------------------------

def test_predict_single_gpu_by_hand():
    pred = pm.predict_with(params(), tr(), ada())
    step = 0.048 + 0.00016 + 0.007 + 0.001
    assert pred.step_s == pytest.approx(step)
    assert pred.samples_per_s == pytest.approx(8 / step)
    assert pred.epoch_s == pytest.approx(80_000 * step / 8)
    assert pred.train_s == pytest.approx(2 * 80_000 * step / 8)
    # fp32 AdamW: 16 bytes x 1e8 + 8 x 1e7 activations + 1 GB context
    assert pred.memory_gb == pytest.approx(1.6 + 0.08 + 1.0)
    assert pred.fits is True
    assert pred.batch_size == 8
    assert pred.bound == "compute"
    assert pred.scaling_efficiency == 1.0
    assert (pred.n_gpus, pred.nodes) == (1, 1)
    assert pred.precision == "fp32"
    assert pred.calibration == "calibrated"


def test_predict_batch_override_and_boundaries():
    assert pm.predict_with(params(), tr(), ada(), batch_size=1).batch_size == 1
    with pytest.raises(ValueError, match="batch_size"):
        pm.predict_with(params(), tr(), ada(), batch_size=0)
    with pytest.raises(ValueError, match="n_gpus"):
        pm.predict_with(params(), tr(), ada(), n_gpus=0)
    with pytest.raises(ValueError, match="n_gpus"):
        pm.predict_with(params(), tr(), ada(), nodes=0)


@pytest.mark.parametrize("field", ["fp32_tflops", "mem_bw_gbs", "vram_gb"])
def test_predict_needs_rate_bandwidth_and_memory(field):
    with pytest.raises(ValueError, match="lacks"):
        pm.predict_with(params(), tr(), ada(**{field: 0}))


def test_bound_compute_memory_and_overhead():
    assert pm.predict_with(params(traffic_k={"transformer": 1000.0}), tr(), ada()).bound == \
        "memory-bandwidth"
    # t_m = 300 x 1e7 / 5e11 = 6 ms = t_c exactly: a tie is compute-bound
    assert pm.predict_with(params(traffic_k={"transformer": 300.0}), tr(), ada()).bound == "compute"
    # 6e8 FLOPs: 0.48 ms compute + 0.16 ms memory < 7 ms optimizer + 1 ms overhead
    assert pm.predict_with(params(), tr(train_flops_per_sample=6e8), ada()).bound == "overhead"


def test_data_parallel_two_gpus_by_hand():
    pred = pm.predict_with(params(), tr(), ada(), n_gpus=2)
    step1 = 0.05616
    # 4e8 bytes of fp32 gradients over PCIe 4 (20 GB/s): 2 x 1/2 x 4e8 / 2e10 = 20 ms, backward
    # 2/3 x 48 ms hides all but the last 25 MiB bucket: 20 ms x 26,214,400 / 4e8
    exposed = 0.02 * 26_214_400 / 4e8
    eff = step1 / (step1 + exposed)
    assert pred.scaling_efficiency == pytest.approx(eff)
    assert pred.step_s == pytest.approx(step1 + exposed)
    assert pred.samples_per_s == pytest.approx(16 / (step1 + exposed))
    assert pred.bound == "compute"
    note = next(n for n in pred.notes if n.startswith("data-parallel"))
    assert note == ("data-parallel over 2 GPUs (PCIe 4.0 x16): all-reduce of 400 MB fp32 "
                    "gradients takes 20.0 ms, 1.3 ms not hidden behind backward; scaling "
                    "efficiency 98%")


def test_sync_loss_per_doubling_applies():
    pred = pm.predict_with(params(sync_loss_per_doubling=0.1), tr(), ada(), n_gpus=4)
    step1 = 0.05616
    exposed = 2 * 3 / 4 * 4e8 / 2e10 * 26_214_400 / 4e8
    assert pred.scaling_efficiency == pytest.approx(step1 / (step1 + exposed) * 0.81)


def test_slow_network_makes_communication_bound():
    pred = pm.predict_with(params(), tr(), ada(), nodes=2, interconnect="10g")
    # 2 x 1/2 x 4e8 / (10 / 8 x 0.9 GB/s) = 355.6 ms, backward hides 32 ms of it
    t_ar = 4e8 / 1.125e9
    exposed = t_ar - 0.032
    assert pred.step_s == pytest.approx(0.05616 + exposed)
    assert pred.bound == "communication"
    assert "over 2 GPUs (10 Gb/s network)" in pred.notes[-1]
    both = pm.predict_with(params(), tr(), ada(), n_gpus=2, nodes=2, interconnect="10g")
    assert "over 4 GPUs (PCIe 4.0 x16 + 10 Gb/s network)" in both.notes[-1]


def test_does_not_fit_note_names_the_largest_batch():
    # fixed 2.6 GB + 10 MB a sample; 2.9 GB card: 2.755 GB usable -> 15 samples
    pred = pm.predict_with(params(), tr(batch_size=16), ada(vram_gb=2.9))
    assert pred.fits is False
    assert ("batch 16 needs 2.8 GB, more than 95% of 2.9 GB; the largest batch that fits is 15"
            in pred.notes)
    pred = pm.predict_with(params(), tr(), ada(vram_gb=2.7))         # 2.565 < 2.6 GB fixed
    assert pred.notes[-1].endswith("is 0 (none: the weights and optimizer state alone do not fit)")
    assert pm.predict_with(params(), tr(batch_size=15), ada(vram_gb=2.9)).fits is True


def test_power_limited_note_below_097():
    p = params(power_exponent=1.0)
    pred = pm.predict_with(p, tr(), ada(fp32_tflops=82.6, tdp_w=432), precision="amp")   # 0.96
    assert any(n.startswith("power-limited: 432 W is 96% ") for n in pred.notes)
    pred = pm.predict_with(p, tr(), ada(fp32_tflops=82.6, tdp_w=441), precision="amp")   # 0.98
    assert not any(n.startswith("power-limited") for n in pred.notes)


def test_uncalibrated_generation_is_marked_extrapolated():
    pred = pm.predict_with(params(generation_log_offset={}), tr(), ada())
    assert pred.calibration.startswith("extrapolated, no calibration rows for this architecture "
                                       "(Ada Lovelace)")
    assert any(n.startswith("no calibration rows for Ada Lovelace") for n in pred.notes)
    assert any(n.startswith("Ada L2 caches") for n in pred.notes)
    pred = pm.predict_with(params(generation_log_offset={"Ada Lovelace": 0.0}), tr(), pascal())
    assert pred.calibration.startswith("extrapolated")
    assert not any(n.startswith("Ada L2") for n in pred.notes)


def test_max_batch_that_fits_at_the_run_precision():
    r = tr(activation_bytes_per_sample=1.1e7)
    # fp32: 15.2 GB usable - 2.6 GB fixed = 12.6 GB / 11 MB = 1145.45
    assert pm.max_batch_that_fits(r, ada()) == 1145
    # amp: fixed 6e8 + 4e8 + 8e8 + 1e9 = 2.8 GB; 12.4 GB / 5.5 MB = 2254.5
    assert pm.max_batch_that_fits(r, ada(), "amp") == 2254


def test_unfused_adam_traffic_is_the_sum_of_its_passes():
    # grad norm 4 + m 20 + v 20 + m / (sqrt v + e) 28 + weight decay 20 + lr scale 8 + p.add_ 12
    assert pm.UNFUSED_ADAM_TRAFFIC_BYTES == 4 + 20 + 20 + 28 + 20 + 8 + 12 == 4 * 28


def test_forward_bytes_per_flop_from_the_calibration_workloads():
    assert pm.FORWARD_BYTES_PER_FLOP["cnn"] == pytest.approx(86.3e6 / 8.18e9, rel=2e-3)
    assert pm.FORWARD_BYTES_PER_FLOP["transformer"] == pytest.approx(685e6 / 246e9, rel=2e-3)
    assert pm.FORWARD_BYTES_PER_FLOP["rnn"] == pytest.approx(240e3 / 125e6, rel=2e-3)


def test_prediction_and_breakdown_are_frozen():
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        pm.predict_with(params(), tr(), ada()).fits = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        breakdown(tr(), ada()).step_s = 0.0  # type: ignore[misc]


def test_single_gpu_has_no_data_parallel_note():
    notes = pm.predict_with(params(), tr(), ada()).notes
    assert notes == ("fp32 matmuls do not use TF32 by default since PyTorch 1.12; "
                     "torch.set_float32_matmul_precision('high') (or --tf32 on, as in NGC "
                     "containers) enables it",)


def test_small_but_positive_rates_are_valid():
    pred = pm.predict_with(params(), tr(), ada(fp32_tflops=0.5, mem_bw_gbs=0.5, vram_gb=0.5))
    assert pred.fits is False


def test_overhead_tie_is_not_overhead_bound():
    # 1e10 FLOPs at 10 TFLOP/s = 1 ms of compute, no traffic, no optimizer: ties the 1 ms overhead
    r = tr(train_flops_per_sample=1e10, fwd_flops_per_sample=1e10 / 3, trainable_params=0,
           batch_size=1)
    assert pm.predict_with(params(traffic_k={}), r, ada()).bound == "compute"


@pytest.mark.parametrize(("gbps", "bound"), [("72g", "communication"), ("80g", "compute")])
def test_communication_bound_past_30_percent_exposed(gbps, bound):
    # 4e8 B over 72 Gb/s x 0.9 = 8.1 GB/s: 49.4 ms, 32 ms hidden: 17.4 ms = 31 % of 56.16 ms;
    # at 80 Gb/s 12.4 ms = 22 %
    pred = pm.predict_with(params(), tr(), ada(), nodes=2, interconnect=gbps)
    assert pred.bound == bound


def test_power_note_boundary_exactly_097():
    # 436.5 W / 450 W = 0.97: not below the note's 0.97 threshold
    pred = pm.predict_with(params(power_exponent=1.0), tr(), ada(fp32_tflops=82.6, tdp_w=436.5),
                           precision="amp")
    assert not any(n.startswith("power-limited") for n in pred.notes)

"""Training-memory terms of perfmodel.memory pinned by value, one term at a time.

Expectations are worked out here from the formula the module's docstring cites (Hugging Face
"model training anatomy": 4 bytes/param fp32 weights, +2 for the autocast half copy, 4 bytes fp32
gradients, 0 / 4 / 8 bytes optimizer state for SGD / momentum / Adam; activations 4 bytes per
element in fp32, 2 under amp), never from the module's own helpers.
"""

from __future__ import annotations

import pytest

from rigcheck.perfmodel import memory as mem
from rigcheck.perfmodel.memory import ModelSize

P = 1_000_000_000        # all parameters
T = 500_000_000          # trainable (half frozen)
ACT_FP32 = 1_000_000.0   # saved activation bytes per sample at fp32


def model(optimizer: str = "adamw", precision: str = "fp32", act: float = ACT_FP32,
          params: int = P, trainable: int = T) -> ModelSize:
    return ModelSize(params, trainable, act, precision, optimizer)


@pytest.mark.parametrize(("precision", "bytes_"), [
    ("fp32", 4.0), ("tf32", 4.0), ("fp16", 2.0), ("bf16", 2.0), ("amp", 2.0),
])
def test_element_bytes_per_precision(precision, bytes_):
    assert mem.element_bytes(precision) == bytes_


def test_fp32_adam_terms_by_value():
    m = mem.train_memory(model("adamw"), 3)
    assert m.weights_gb == pytest.approx(4 * P / 1e9)        # 4.0 GB fp32 weights
    assert m.gradients_gb == pytest.approx(4 * T / 1e9)      # 2.0 GB: trainable only
    assert m.optimizer_gb == pytest.approx(8 * T / 1e9)      # 4.0 GB: two fp32 moments
    assert m.activations_gb == pytest.approx(3 * 1e6 / 1e9)
    assert m.allowance_gb == 1.0
    assert m.total_gb == pytest.approx(4.0 + 2.0 + 4.0 + 0.003 + 1.0)


def test_amp_adds_half_weight_copy_and_halves_activations():
    m = mem.train_memory(model("adamw"), 3, "amp")
    assert m.weights_gb == pytest.approx(6 * P / 1e9)        # 4 P master + 2 P cast cache
    assert m.gradients_gb == pytest.approx(4 * T / 1e9)      # fp32 grads still
    assert m.optimizer_gb == pytest.approx(8 * T / 1e9)
    assert m.activations_gb == pytest.approx(3 * 0.5e6 / 1e9)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_fp16_bf16_are_autocast_like_amp(precision):
    m = mem.train_memory(model(), 2, precision)
    assert m.weights_gb == pytest.approx(6.0)
    assert m.activations_gb == pytest.approx(2 * 0.5e6 / 1e9)


def test_tf32_is_fp32_layout():
    m = mem.train_memory(model(), 2, "tf32")
    assert m.weights_gb == pytest.approx(4.0)
    assert m.activations_gb == pytest.approx(2 * 1e6 / 1e9)


def test_activations_rescale_from_amp_recipe_to_fp32():
    amp_model = model(precision="amp", act=1e6)    # 1 MB per sample measured under amp
    assert mem.activation_bytes(amp_model, "fp32") == pytest.approx(2e6)
    assert mem.activation_bytes(amp_model, "amp") == pytest.approx(1e6)
    assert mem.train_memory(amp_model, 4, "fp32").activations_gb == pytest.approx(4 * 2e6 / 1e9)


def test_precision_none_is_the_models_own():
    amp_model = model(precision="amp")
    assert mem.train_memory(amp_model, 1).weights_gb == pytest.approx(6.0)
    assert mem.train_memory(amp_model, 1).activations_gb == pytest.approx(1e6 / 1e9)


@pytest.mark.parametrize(("optimizer", "bytes_per_param"), [
    ("sgd", 0.0), ("sgd-momentum", 4.0), ("adam", 8.0), ("adamw", 8.0), ("lion-unknown", 8.0),
])
def test_optimizer_state_bytes(optimizer, bytes_per_param):
    assert mem.train_memory(model(optimizer), 1).optimizer_gb == pytest.approx(
        bytes_per_param * T / 1e9)


def test_cpu_run_has_no_cuda_allowance():
    gpu = mem.train_memory(model(), 1)
    cpu = mem.train_memory(model(), 1, gpu=False)
    assert cpu.allowance_gb == 0.0
    assert gpu.total_gb - cpu.total_gb == pytest.approx(1.0)
    assert mem.train_memory_gb(model(), 1, gpu=False) == pytest.approx(cpu.total_gb)
    assert mem.train_memory_gb(model(), 1) == pytest.approx(4 + 2 + 4 + 0.001 + 1.0)


def test_batch_size_boundary():
    assert mem.train_memory(model(), 0).activations_gb == 0.0
    with pytest.raises(ValueError):
        mem.train_memory(model(), -1)


def test_usable_and_fits_boundary():
    assert mem.usable_gb(20.0) == pytest.approx(19.0)
    assert mem.fits(19.0, 20.0)                   # exactly the usable 95 %: fits
    assert not mem.fits(19.0 + 1e-9, 20.0)        # just past it: does not
    assert mem.fits(0.0, 20.0)


def test_fixed_memory_bytes_is_everything_but_activations():
    # fp32 Adam: 4 P + 4 T + 8 T + 1 GB context
    assert mem.fixed_memory_bytes(model()) == pytest.approx(4e9 + 2e9 + 4e9 + 1e9)
    assert mem.fixed_memory_bytes(model(), "amp") == pytest.approx(6e9 + 2e9 + 4e9 + 1e9)


def test_max_batch_for_memory_by_hand():
    # 24 GB card: 22.8 GB usable; fixed 11 GB; 1.5 MB per sample -> floor(11.8e9 / 1.5e6) = 7,866
    assert mem.max_batch_for_memory(model(act=1.5e6), 24.0) == 7_866
    # amp: fixed 13 GB, 0.75 MB per sample -> floor(9.8e9 / 0.75e6) = 13,066
    assert mem.max_batch_for_memory(model(act=1.5e6), 24.0, "amp") == 13_066
    # an amp model without a precision: its own (13 GB fixed, 1.5 MB a sample as recorded)
    assert mem.max_batch_for_memory(model(precision="amp", act=1.5e6), 24.0) == 6_533


def test_max_batch_for_memory_floor_just_inside_and_past():
    # fp32 SGD, P = T = 2.25e9: fixed 9 + 9 + 1 = 19 GB = usable part of a 20 GB card; with
    # 1 GB/sample a 21.0 GB card (19.95 usable) holds 0 samples and a 21.06 GB one (20.007) holds 1
    big = model("sgd", act=1e9, params=2_250_000_000, trainable=2_250_000_000)
    assert mem.max_batch_for_memory(big, 21.0) == 0
    assert mem.max_batch_for_memory(big, 21.06) == 1
    assert mem.max_batch_for_memory(big, 20.0 + 2 * 1.0 / 0.95 + 0.001) == 2


def test_max_batch_for_memory_no_room_and_no_activations():
    big = model("sgd", act=1e6, params=2_250_000_000, trainable=2_250_000_000)
    assert mem.max_batch_for_memory(big, 19.0) == 0          # budget negative
    assert mem.max_batch_for_memory(big, 20.0) == 0          # budget exactly 0: no sample fits
    no_acts = model("sgd", act=0.0, params=2_250_000_000, trainable=2_250_000_000)
    assert mem.max_batch_for_memory(no_acts, 20.0) == 1 << 20   # weights fit, batch unbounded
    assert mem.max_batch_for_memory(no_acts, 19.0) == 0
    # half a byte a sample is still a per-sample cost, not "unbounded": 0.95 GB / 0.5 B
    half_byte = model("sgd", act=0.5, params=2_250_000_000, trainable=2_250_000_000)
    assert mem.max_batch_for_memory(half_byte, 21.0) == pytest.approx(1.9e9, rel=1e-6)


def test_size_and_memory_records_are_frozen():
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        model().params = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        mem.train_memory(model(), 1).weights_gb = 0.0  # type: ignore[misc]

"""The calibration workloads pinned against the published or formula figures the module cites
(torchvision parameter counts; NVIDIA DLE's ResNet-50 v1.5 4.09 GMACs; DeepBench LSTM and GEMM
formulas; the GNMT architecture formula in the module's comment)."""

from __future__ import annotations

import dataclasses

import pytest

from rigcheck.perfmodel.workloads import WORKLOADS, Workload, as_recipe, with_channels_last

H = 1024


@pytest.mark.parametrize(("key", "params"), [
    ("resnet50", 25_557_032),       # torchvision resnet50
    ("alexnet-owt", 61_100_840),    # torchvision alexnet (One Weird Trick)
    ("vgg-a", 132_863_336),         # torchvision vgg11
    ("overfeat-fast", 145_920_872),
    ("bert-large-squad384", 334_094_338),
    ("bert-large-pretrain128", 334_094_338),
    ("gnmt-v2", 160_000_000),
])
def test_parameter_counts(key, params):
    assert WORKLOADS[key].params == params


@pytest.mark.parametrize(("key", "fwd_flops", "act_bytes"), [
    ("resnet50", 2 * 4.09e9, 86.3e6),          # 4.09 GMACs; introspect 85.9 MB
    ("vgg-a", 2 * 7.6e9, 48.7e6),
    ("alexnet-owt", 2 * 0.71e9, 3.63e6),
    ("overfeat-fast", 5.603e9, 5.73e6),
    ("bert-large-squad384", 246.4e9, 684.9e6),
    ("bert-large-pretrain128", 78.92e9, 228.3e6),
])
def test_forward_flops_and_activations_near_published(key, fwd_flops, act_bytes):
    w = WORKLOADS[key]
    assert w.fwd_flops == pytest.approx(fwd_flops, rel=0.01)
    assert w.activation_bytes == pytest.approx(act_bytes, rel=0.01)


@pytest.mark.parametrize("key", ["resnet50", "alexnet-owt", "vgg-a", "overfeat-fast",
                                 "bert-large-squad384", "bert-large-pretrain128"])
def test_training_is_about_three_forwards(key):
    w = WORKLOADS[key]
    assert 2.85 <= w.train_flops / w.fwd_flops <= 3.05


def test_family_and_optimizer_of_each_workload():
    got = {k: (w.family, w.optimizer) for k, w in WORKLOADS.items()}
    assert got == {
        "resnet50": ("cnn", "sgd-momentum"), "alexnet-owt": ("cnn", "sgd-momentum"),
        "vgg-a": ("cnn", "sgd-momentum"), "overfeat-fast": ("cnn", "sgd-momentum"),
        "bert-large-squad384": ("transformer", "adamw"),
        "bert-large-pretrain128": ("transformer", "adamw"),
        "gnmt-v2": ("rnn", "adam"), "lstm-deepbench-h1024-t25": ("rnn", "sgd"),
        "gemm-5124x9124x2560": ("gemm", "sgd"),
    }


def test_gnmt_architecture_formula():
    w = WORKLOADS["gnmt-v2"]
    assert w.fwd_flops == 2 * (46e6 + 79e6) / 2          # 62.5 M MACs per average token
    assert w.train_flops == 3 * w.fwd_flops
    # (5 x 24.6 KB + 4 x 24.6 KB + 2 x 129 KB) / 2 = 239.7 KB
    assert w.activation_bytes == pytest.approx((5 * 24.6e3 + 4 * 24.6e3 + 2 * 129e3) / 2, rel=0.01)
    assert w.samples_per_batch_item == 56.0


def test_deepbench_lstm_formula():
    w = WORKLOADS["lstm-deepbench-h1024-t25"]
    assert w.params == 4_194_304                           # 4 h^2
    assert w.fwd_flops == 209_715_200                      # 2 x 4 h^2 x 25 steps
    assert w.train_flops == 629_145_600                    # forward + twice that backward
    assert w.activation_bytes == 614_400                   # 6 h floats x 4 bytes x 25 steps
    assert w.samples_per_batch_item == 1.0


def test_deepbench_gemm_formula():
    w = WORKLOADS["gemm-5124x9124x2560"]
    assert w.fwd_flops == w.train_flops == 239_367_045_120   # 2 M N K = 2 x 5124 x 9124 x 2560
    assert (w.params, w.activation_bytes) == (1, 0.0)


def test_as_recipe_fields():
    r = as_recipe("resnet50", 256)
    assert (r.id, r.name, r.model, r.family) == ("calibration-resnet50", "resnet50", "resnet50",
                                                 "cnn")
    assert (r.batch_size, r.precision, r.optimizer) == (256, "fp32", "sgd-momentum")
    assert (r.params, r.trainable_params) == (25_557_032, 25_557_032)
    assert (r.fwd_flops_per_sample, r.train_flops_per_sample) == (8.178e9, 24.30e9)
    assert r.activation_bytes_per_sample == 86.33e6
    assert (r.dataset_samples, r.epochs, r.channels_last) == (1, 1.0, False)
    assert (r.input_shape, r.bytes_per_sample, r.dataset) == ((1,), 0, "calibration")
    assert r.source.startswith("measured on a torch.nn ResNet-50")
    assert as_recipe("resnet50", 64, channels_last=True).channels_last is True


@pytest.mark.parametrize(("batch", "expected"), [(3.6, 4), (3.4, 3), (1, 1), (0.4, 1), (0, 1),
                                                 (-5, 1)])
def test_as_recipe_batch_rounded_at_least_one(batch, expected):
    assert as_recipe("gnmt-v2", batch).batch_size == expected


def test_with_channels_last():
    r = as_recipe("resnet50", 8)
    assert with_channels_last(r, True).channels_last is True
    assert with_channels_last(with_channels_last(r, True), False).channels_last is False


def test_workload_defaults_and_frozen():
    w = Workload("cnn", 1, 1.0, 3.0, 0.0, "sgd")
    assert (w.samples_per_batch_item, w.source) == (1.0, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.params = 2  # type: ignore[misc]

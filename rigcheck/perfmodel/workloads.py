"""The workloads behind the calibration rows, as recipe-like records.

FLOPs count a multiply-add as 2. For the CNNs the figures were measured on plain
``torch.nn`` re-implementations of each architecture (``torch.utils.flop_counter.FlopCounterMode``
over one forward+backward; saved activations = the unique storages ``torch.autograd.graph.
saved_tensors_hooks`` sees, weights excluded, fp32, batch 1). They agree with the published
counts: ResNet-50 v1.5 4.1 GMACs forward (NVIDIA DeepLearningExamples), VGG-A 7.6 GMACs,
AlexNet "One Weird Trick" 0.71 GMACs, and with ``rigcheck.bench.introspect`` (ResNet-50 85.9 MB,
VGG-A 48.7 MB). BERT uses the bench model's own figures (below). Once ``recipes/*.toml`` carry the same figures from
``rigcheck.bench.models`` these stay as the calibration's own record of what it assumed.

Where no model exists in rigcheck the figures follow from the architecture, formula given per entry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rigcheck.recipes import Recipe


@dataclass(frozen=True)
class Workload:
    family: str
    params: int
    fwd_flops: float
    train_flops: float
    activation_bytes: float      # fp32, per sample
    optimizer: str
    samples_per_batch_item: float = 1.0   # GNMT: tokens per sentence pair
    source: str = ""


_H = 1024
WORKLOADS: dict[str, Workload] = {
    "resnet50": Workload(
        "cnn", 25_557_032, 8.178e9, 24.30e9, 86.33e6, "sgd-momentum",
        source="measured on a torch.nn ResNet-50 v1.5, 224x224 (4.09 GMACs forward)"),
    "alexnet-owt": Workload(
        "cnn", 61_100_840, 1.428e9, 4.145e9, 3.63e6, "sgd-momentum",
        source="measured on torch.nn AlexNet 'One Weird Trick' (convnet-benchmarks variant), 224x224"),
    "vgg-a": Workload(
        "cnn", 132_863_336, 15.22e9, 45.48e9, 48.70e6, "sgd-momentum",
        source="measured on torch.nn VGG-A (VGG-11), 224x224"),
    "overfeat-fast": Workload(
        "cnn", 145_920_872, 5.603e9, 16.59e9, 5.73e6, "sgd-momentum",
        source="measured on torch.nn Overfeat-fast (convnet-benchmarks), 231x231"),
    # BERT from rigcheck.bench.models (the bundled bert-large-squad recipe's model), measured with
    # rigcheck.bench.introspect.measure("bert-large-squad", (seq,), "fp32"): its attention goes
    # through scaled_dot_product_attention, which saves no seq x seq matrices. Using the recipes'
    # own definition keeps the fitted traffic factor consistent with the recipes it is applied to
    # (a plain implementation that materialises attention saves 1.36 GB per sequence of 384).
    "bert-large-squad384": Workload(
        "transformer", 334_094_338, 246.4e9, 746.5e9, 684.9e6, "adamw",
        source="rigcheck.bench.models bert-large-squad, sequence 384, fp32 (introspect.measure)"),
    "bert-large-pretrain128": Workload(
        "transformer", 334_094_338, 78.92e9, 237.6e9, 228.3e6, "adamw",
        source="the same model at sequence 128 (LAMB moves the same bytes as Adam)"),
    # GNMT v2 (DLE): 4-layer LSTM encoder (first layer bidirectional) and 4-layer decoder with
    # attention, hidden 1024, vocabulary 32k. Weights doing per-token work: encoder ~46 M, decoder
    # ~46 M + 33 M classifier. Tokens/s counts source + target tokens, so per average token
    # (46 M + 79 M) / 2 = 62.5 M MACs forward, 125 MFLOP, x3 for training. Saved per token: ~6h
    # floats per LSTM layer-direction (gates, cell, hidden) and the 32k-way logits for target
    # tokens: (5 x 24.6 KB + 4 x 24.6 KB + 2 x 129 KB) / 2 ~ 240 KB. A sentence pair is ~56 tokens.
    "gnmt-v2": Workload(
        "rnn", 160_000_000, 125e6, 375e6, 240e3, "adam", samples_per_batch_item=56.0,
        source="architecture formula (comment in workloads.py)"),
    # DeepBench LSTM kernel: hidden 1024, batch 128, 25 steps, input projection excluded by the
    # benchmark's rules: forward 2 x 4h^2 FLOPs per step, backward (data + weights) twice that.
    # Saved per step: gates, cell and hidden (6h floats). One sample = one 25-step sequence.
    "lstm-deepbench-h1024-t25": Workload(
        "rnn", 4 * _H * _H, 2 * 4 * _H * _H * 25, 3 * 2 * 4 * _H * _H * 25, 6 * _H * 4 * 25, "sgd",
        source="architecture formula (comment in workloads.py)"),
    # DeepBench GEMM M=5124 N=9124 K=2560: 2MNK FLOPs per call; one sample = one call.
    "gemm-5124x9124x2560": Workload(
        "gemm", 1, 2 * 5124 * 9124 * 2560, 2 * 5124 * 9124 * 2560, 0.0, "sgd",
        source="2MNK"),
}


def as_recipe(key: str, batch_size: int, channels_last: bool = False) -> Recipe:
    """A :class:`Recipe` for a calibration workload, batch in the row's own samples."""
    w = WORKLOADS[key]
    return Recipe(
        id=f"calibration-{key}", name=key, model=key, family=w.family, input_shape=(1,),
        batch_size=max(1, int(round(batch_size))), precision="fp32", optimizer=w.optimizer,
        dataset="calibration", dataset_samples=1, bytes_per_sample=0, epochs=1.0,
        params=w.params, trainable_params=w.params, fwd_flops_per_sample=w.fwd_flops,
        train_flops_per_sample=w.train_flops, activation_bytes_per_sample=w.activation_bytes,
        channels_last=channels_last, source=w.source,
    )


def with_channels_last(recipe: Recipe, channels_last: bool) -> Recipe:
    return replace(recipe, channels_last=channels_last)

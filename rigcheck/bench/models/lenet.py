"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998, "Gradient-based learning applied to document
recognition"), the seed lecture's CNN: digits on a 32x32 plane (MNIST padded by 2 pixels, as in
the paper).

This is the usual full-connection rendition: C3 connects to all six S2 maps (the paper's sparse
connection table gives 1,516 weights there; full connection gives 2,416), subsampling is plain
average pooling with no trainable coefficients, and F6 feeds a linear output layer instead of RBF
units. That makes 61,706 parameters, the figure most re-implementations quote.
"""

from __future__ import annotations

from torch import nn


def lenet5(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    model = nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5),   # C1: 32 -> 28
        nn.Tanh(),
        nn.AvgPool2d(2),                            # S2: 28 -> 14
        nn.Conv2d(6, 16, kernel_size=5),            # C3: 14 -> 10
        nn.Tanh(),
        nn.AvgPool2d(2),                            # S4: 10 -> 5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),                 # C5 (a 5x5 conv over a 5x5 map = dense)
        nn.Tanh(),
        nn.Linear(120, 84),                         # F6
        nn.Tanh(),
        nn.Linear(84, num_classes),                 # output
    )
    model.num_classes = num_classes  # type: ignore[assignment]  # a plain attribute, not a submodule
    return model

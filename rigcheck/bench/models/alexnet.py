"""AlexNet as in convnet-benchmarks: the "One Weird Trick" single-column variant (Krizhevsky 2014,
arXiv:1404.5997; layer file cuda-convnet2 layers-imagenet-1gpu.cfg), 224x224 input.

Layer for layer this follows soumith/convnet-benchmarks torch7/imagenet_winners/alexnet.lua
(commit 5b96dbc): 64-192-384-256-256 convolutions and 4096-4096-1000 dense layers, with dropout
removed as that benchmark does (dropout has no parameters and negligible FLOPs). It is also the
layout of torchvision's ``alexnet``: 61,100,840 parameters.
"""

from __future__ import annotations

from torch import nn


def alexnet_owt(num_classes: int = 1000) -> nn.Module:
    features = nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),    # 224 -> 55
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),                    # 55 -> 27
        nn.Conv2d(64, 192, kernel_size=5, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),                    # 27 -> 13
        nn.Conv2d(192, 384, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),                    # 13 -> 6
    )
    classifier = nn.Sequential(
        nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, num_classes),
    )
    model = nn.Sequential(features, classifier)
    model.num_classes = num_classes  # type: ignore[assignment]  # a plain attribute, not a submodule
    return model

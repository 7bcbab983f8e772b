"""VGG "Model-A" (Simonyan and Zisserman 2014, arXiv:1409.1556, Table 1 column A; VGG-11), 224x224.

Configuration and head as in soumith/convnet-benchmarks torch7/imagenet_winners/vgg_a.lua (commit
5b96dbc), dropout removed as there. No batch norm. 132,863,336 parameters (torchvision ``vgg11``).
"""

from __future__ import annotations

from torch import nn

# Output channels per 3x3 convolution; "M" is a 2x2 max-pool.
_MODEL_A = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


def vgg_a(num_classes: int = 1000) -> nn.Module:
    layers: list[nn.Module] = []
    channels = 3
    for item in _MODEL_A:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(item), kernel_size=3, padding=1),
                       nn.ReLU(inplace=True)]
            channels = int(item)
    classifier = nn.Sequential(
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, num_classes),
    )
    model = nn.Sequential(nn.Sequential(*layers), classifier)
    model.num_classes = num_classes  # type: ignore[assignment]  # a plain attribute, not a submodule
    return model

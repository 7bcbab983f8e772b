"""ResNet-50 v1.5 (He et al. 2015, arXiv:1512.03385, with the stride-2 moved from the first 1x1 to
the 3x3 convolution of each downsampling bottleneck, as in NVIDIA DeepLearningExamples
PyTorch/Classification/ConvNets/resnet50v1.5 and torchvision ``resnet50``): 25,557,032 parameters,
about 4.1 G multiply-adds per 224x224 image.

Also the transfer-learning variant: the same network with a frozen backbone and a new
classification head, the "ConvNet as fixed feature extractor" recipe of PyTorch's transfer
learning tutorial.
"""

from __future__ import annotations

from torch import Tensor, nn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        # v1.5: the stride sits here, on the 3x3 (v1 put it on conv1); ~0.5% more accurate,
        # ~5% more FLOPs (DeepLearningExamples resnet50v1.5 README).
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    feature_dim: int   # width of the pooled features the head reads
    def __init__(self, blocks: tuple[int, ...] = (3, 4, 6, 3), num_classes: int = 1000) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stages: list[nn.Module] = []
        in_ch = 64
        for i, count in enumerate(blocks):
            width = 64 * 2**i
            stage = []
            for j in range(count):
                stage.append(Bottleneck(in_ch, width, stride=2 if (j == 0 and i > 0) else 1))
                in_ch = width * Bottleneck.expansion
            stages.append(nn.Sequential(*stage))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)
        self.feature_dim = in_ch
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def features(self, x: Tensor) -> Tensor:
        return self.pool(self.stages(self.stem(x))).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


def resnet50(num_classes: int = 1000) -> ResNet:
    return ResNet((3, 4, 6, 3), num_classes)


def resnet50_transfer(num_classes: int = 102) -> nn.Module:
    """ResNet-50 with every backbone parameter frozen and a fresh ``fc`` for ``num_classes``.

    Only the head trains (2048 * num_classes + num_classes parameters). In a real run the backbone
    holds pretrained ImageNet weights; for timing and memory the values do not matter. With the
    backbone frozen autograd records nothing before the head, so a training step costs about one
    forward pass and keeps almost no activations: why this is the cheapest thing a student can
    train on a big CNN. The default 102 classes is Caltech-101 (101 objects + background).
    """
    model = resnet50(num_classes=1000)
    for p in model.parameters():
        p.requires_grad_(False)
    model.fc = nn.Linear(model.feature_dim, num_classes)
    model.num_classes = num_classes  # type: ignore[assignment]  # a plain attribute, not a submodule
    return model

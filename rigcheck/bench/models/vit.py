"""ViT-B/16 (Dosovitskiy et al. 2020, arXiv:2010.11929; DeiT-B of Touvron et al. 2020,
arXiv:2012.12877, is the same network): 224x224 images cut into 196 patches of 16x16, a class
token, 12 pre-LN layers of width 768 with 12 heads and a 3072 MLP, a linear head. 86,567,656
parameters for 1000 classes (timm ``vit_base_patch16_224``), ~17.6 G multiply-adds per image.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rigcheck.bench.models.bert import EncoderLayer, init_weights


class ViT(nn.Module):
    def __init__(self, image: int = 224, patch: int = 16, hidden: int = 768, layers: int = 12,
                 heads: int = 12, num_classes: int = 1000, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.patchify = nn.Conv2d(3, hidden, patch, stride=patch)
        tokens = (image // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.zeros(1, 1, hidden))
        self.position = nn.Parameter(torch.zeros(1, tokens, hidden))
        self.layers = nn.ModuleList(
            EncoderLayer(hidden, heads, 4 * hidden, dropout, eps=1e-6, pre_norm=True)
            for _ in range(layers)
        )
        self.norm = nn.LayerNorm(hidden, eps=1e-6)
        self.head = nn.Linear(hidden, num_classes)
        init_weights(self)
        nn.init.normal_(self.position, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        x = self.patchify(x).flatten(2).transpose(1, 2)              # (N, 196, hidden)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.position
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x[:, 0]))


def vit_b16(num_classes: int = 1000) -> nn.Module:
    return ViT(num_classes=num_classes)

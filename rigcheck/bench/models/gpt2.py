"""GPT-2 small (Radford et al. 2019; sizes of the Hugging Face ``gpt2`` checkpoint): 12 pre-LN
layers, hidden 768, 12 heads, context 1024, vocabulary 50,257, output layer tied to the token
embedding. 124,439,808 parameters, the figure nanoGPT prints for ``gpt2``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from rigcheck.bench.models.bert import EncoderLayer, init_weights


class GPT2(nn.Module):
    """Token ids (N, S) -> next-token logits (N, S, vocab)."""

    def __init__(self, vocab: int = 50257, context: int = 1024, hidden: int = 768,
                 layers: int = 12, heads: int = 12, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_classes = vocab
        self.token = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(context, hidden)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(hidden, heads, 4 * hidden, dropout, eps=1e-5, pre_norm=True, causal=True)
            for _ in range(layers)
        )
        self.norm = nn.LayerNorm(hidden, eps=1e-5)
        init_weights(self)

    def forward(self, ids: Tensor) -> Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.token(ids) + self.position(positions))
        for layer in self.layers:
            x = layer(x)
        # Weight tying (Press and Wolf 2017): the output projection is the embedding matrix.
        return F.linear(self.norm(x), self.token.weight)


def gpt2_small() -> nn.Module:
    return GPT2()


def lm_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Next-token cross-entropy; ``targets`` are the input ids shifted by one."""
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())

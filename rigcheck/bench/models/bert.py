"""BERT-large (Devlin et al. 2018, arXiv:1810.04805) with the SQuAD span head, in plain torch.nn.

Sizes are those of Google's bert-large-uncased ``bert_config.json``: 24 layers, hidden 1024, 16
heads, feed-forward 4096, GELU, post-LayerNorm (eps 1e-12), vocabulary 30,522, 512 positions, 2
token types. Parameter counts, checked by tests/test_models.py:

* encoder + embeddings + pooler = 335,141,888 (Hugging Face ``BertModel`` for bert-large-uncased);
* the SQuAD model (``BertForQuestionAnswering``) has no pooler and a 1024 -> 2 span head:
  335,141,888 - 1,049,600 + 2,050 = 334,094,338. That is what ``bert-large-squad`` builds.

Attention goes through ``scaled_dot_product_attention``, so a GPU runs the fused (flash /
memory-efficient) kernel that stores no seq x seq matrix for backward. See :func:`attention` for
what the meta device does.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812


def attention(q: Tensor, k: Tensor, v: Tensor, dropout_p: float, causal: bool = False) -> Tensor:
    """Scaled dot-product attention over (N, heads, S, head_dim) tensors.

    On the meta device (FLOP and memory introspection) SDPA falls back to its unfused math path,
    which upcasts to fp32 and saves the (S x S) probabilities, something no GPU run of a fp16/bf16
    model does. There we call the flash-attention op directly: it has a meta kernel and a FLOP
    formula, and autograd then saves what the fused kernel saves (q, k, v, output, logsumexp).
    """
    if q.device.type == "meta":
        return torch.ops.aten._scaled_dot_product_flash_attention(q, k, v, dropout_p, causal)[0]
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=causal)


class EncoderLayer(nn.Module):
    """One transformer layer: self-attention then a GELU MLP, residual + LayerNorm around each.

    ``pre_norm`` False is BERT (post-LN); True is GPT-2 (pre-LN).
    """

    def __init__(self, hidden: int, heads: int, ffn: int, dropout: float = 0.1,
                 eps: float = 1e-12, pre_norm: bool = False, causal: bool = False) -> None:
        super().__init__()
        self.heads, self.dropout_p, self.pre_norm, self.causal = heads, dropout, pre_norm, causal
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden, eps=eps)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.ffn_out = nn.Linear(ffn, hidden)
        self.norm2 = nn.LayerNorm(hidden, eps=eps)
        self.drop = nn.Dropout(dropout)

    def _attend(self, x: Tensor) -> Tensor:
        n, s, e = x.shape
        q, k, v = self.qkv(x).view(n, s, 3, self.heads, e // self.heads).permute(2, 0, 3, 1, 4)
        p = self.dropout_p if self.training else 0.0
        out = attention(q, k, v, p, self.causal).transpose(1, 2).reshape(n, s, e)
        return self.drop(self.proj(out))

    def _mlp(self, x: Tensor) -> Tensor:
        return self.drop(self.ffn_out(F.gelu(self.ffn_in(x))))

    def forward(self, x: Tensor) -> Tensor:
        if self.pre_norm:
            x = x + self._attend(self.norm1(x))
            return x + self._mlp(self.norm2(x))
        x = self.norm1(x + self._attend(x))
        return self.norm2(x + self._mlp(x))


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """BERT/GPT-2 initialisation: N(0, 0.02) weights, zero biases, unit LayerNorm."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=std)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)


class BertQA(nn.Module):
    """BERT encoder + span head: input ids (N, S) -> (start_logits, end_logits), each (N, S)."""

    def __init__(self, vocab: int = 30522, hidden: int = 1024, layers: int = 24, heads: int = 16,
                 ffn: int = 4096, max_positions: int = 512, type_vocab: int = 2,
                 dropout: float = 0.1, pooler: bool = False) -> None:
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(max_positions, hidden)
        self.token_type = nn.Embedding(type_vocab, hidden)
        self.embed_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(hidden, heads, ffn, dropout) for _ in range(layers)
        )
        # The pooler (CLS -> tanh dense) is part of BertModel but unused by SQuAD; kept optional
        # so the 335,141,888 reference count can be checked.
        self.pooler = nn.Linear(hidden, hidden) if pooler else None
        self.qa = nn.Linear(hidden, 2)
        init_weights(self)

    def forward(self, input_ids: Tensor) -> tuple[Tensor, Tensor]:
        n, s = input_ids.shape
        positions = torch.arange(s, device=input_ids.device)
        # Synthetic batches have one segment; the token-type lookup is kept for the real cost.
        types = torch.zeros_like(input_ids)
        x = self.word(input_ids) + self.position(positions) + self.token_type(types)
        x = self.drop(self.embed_norm(x))
        for layer in self.layers:
            x = layer(x)
        start, end = self.qa(x).unbind(-1)
        return start, end


def bert_large_squad(pooler: bool = False) -> nn.Module:
    return BertQA(pooler=pooler)


def squad_loss(outputs: tuple[Tensor, Tensor], targets: tuple[Tensor, Tensor]) -> Tensor:
    """Mean of the start- and end-position cross-entropies (Google BERT run_squad.py)."""
    start_logits, end_logits = outputs
    start, end = targets
    return (F.cross_entropy(start_logits.float(), start)
            + F.cross_entropy(end_logits.float(), end)) / 2

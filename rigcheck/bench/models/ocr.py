"""A CRNN-style text-line recogniser: the seed lecture's "Deep OCR" (segmentation-free
transcription of a whole line image with a bidirectional LSTM and CTC).

Layout after Shi, Bai and Yao 2015 ("An End-to-End Trainable Neural Network for Image-based
Sequence Recognition", arXiv:1507.05717): a small VGG-like convolution stack turns a 32-pixel-high
grayscale line into one feature vector per 4-pixel column, a 2-layer bidirectional LSTM reads the
sequence both ways (the seed's "use of context for recognizing each symbol"), and a linear layer
scores every character class plus the CTC blank at every timestep. The network is width-agnostic:
a 32x512 line gives 128 timesteps, enough for CTC on lines of up to ~60 characters.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

BLANK = 0  # CTC blank index; characters are 1..charset_size


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class CRNN(nn.Module):
    def __init__(self, charset_size: int = 100, height: int = 32, hidden: int = 256,
                 lstm_layers: int = 2) -> None:
        super().__init__()
        if height % 8:
            raise ValueError(f"line height must be a multiple of 8, got {height}")
        self.num_classes = charset_size + 1          # + the CTC blank
        self.convs = nn.Sequential(
            *_conv(1, 64), nn.MaxPool2d(2),            # H/2,  W/2
            *_conv(64, 128), nn.MaxPool2d(2),          # H/4,  W/4
            *_conv(128, 256), *_conv(256, 256),
            nn.MaxPool2d((2, 1)),                      # H/8,  W/4: keep horizontal resolution
            # A full-height kernel collapses what is left of the height into one column feature.
            nn.Conv2d(256, 256, (height // 8, 1), bias=False), nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
        )
        self.rnn = nn.LSTM(256, hidden, num_layers=lstm_layers, bidirectional=True,
                           batch_first=True)
        self.head = nn.Linear(2 * hidden, self.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """(N, 1, H, W) line images -> (N, W/4, classes) per-timestep logits."""
        feats = self.convs(x).squeeze(2).transpose(1, 2)   # (N, T, 256)
        seq, _ = self.rnn(feats)
        return self.head(seq)


def crnn_bilstm(charset_size: int = 100, height: int = 32) -> nn.Module:
    return CRNN(charset_size=charset_size, height=height)


def ctc_loss(logits: Tensor, targets: tuple[Tensor, Tensor]) -> Tensor:
    """CTC over (N, T, C) logits; ``targets`` is (labels (N, S) in 1..C-1, lengths (N,))."""
    labels, target_lengths = targets
    # CTC runs in fp32 (autocast does the same): its log-space recursions underflow in fp16.
    log_probs = F.log_softmax(logits.float(), dim=-1).transpose(0, 1)   # (T, N, C)
    if log_probs.device.type == "meta":
        # aten::_ctc_loss has no meta kernel. For FLOP and memory introspection a sum over the
        # log-probabilities stands in: it keeps the same log_softmax output for backward, and the
        # CTC recursion itself (alpha: N x T x (2S+1) floats) is small next to the network.
        return log_probs.sum()
    input_lengths = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long,
                               device=logits.device)
    return F.ctc_loss(log_probs, labels, input_lengths, target_lengths, blank=BLANK,
                      zero_infinity=True)


def make_lines(batch: int, input_shape: tuple[int, ...], charset_size: int,
               device: torch.device, dtype: torch.dtype) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """Synthetic line images in [0, 1] and random transcriptions of 1/4 to 1/2 of the CTC limit."""
    images = torch.rand(batch, *input_shape, device=device, dtype=dtype)
    timesteps = input_shape[-1] // 4
    max_len = max(2, timesteps // 4)
    if device.type == "meta":
        lengths = torch.full((batch,), max_len, dtype=torch.long, device=device)
    else:
        lengths = torch.randint(max_len // 2, max_len + 1, (batch,), device=device)
    labels = torch.randint(1, charset_size + 1, (batch, max_len), device=device)
    return images, (labels, lengths)

"""A convolutional autoencoder for 28x28 grayscale images (MNIST, Fashion-MNIST), trained to
reconstruct its input with a mean-squared-error loss.

Two stride-2 convolutions encode 28x28 -> 7x7x64, a dense bottleneck holds a 32-number code, and
two stride-2 transposed convolutions decode back to 28x28 with a sigmoid, the shape of the Keras
blog's convolutional autoencoder (Chollet 2016, "Building Autoencoders in Keras") with a dense
latent added so the code size is explicit.
"""

from __future__ import annotations

from torch import Tensor, nn


class ConvAutoencoder(nn.Module):
    def __init__(self, latent: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, 32, 3, stride=2, padding=1), nn.ReLU(inplace=True),   # 28 -> 14
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(inplace=True),         # 14 -> 7
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, latent),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, 64 * 7 * 7), nn.ReLU(inplace=True),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),     # 7 -> 14
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(32, channels, 3, stride=2, padding=1, output_padding=1),  # -> 28
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))


def conv_autoencoder(latent: int = 32, channels: int = 1) -> nn.Module:
    return ConvAutoencoder(latent=latent, channels=channels)

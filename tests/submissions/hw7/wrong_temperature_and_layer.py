"""Homework 7 references: k-means as a network, and the noisy autoencoder.

The decoder's sizes, checked with torch: 10 -> 360 -> 720 -> 20x6x6 -> (bicubic x2) 20x12x12
-> ConvTranspose2d(20, 20, 4, stride 2, output_padding 1) 20x27x27 -> ConvTranspose2d(20, 1, 4, stride 1,
padding 1) 1x28x28: the homework's layers give 28x28 as stated, no fix needed.
"""

from __future__ import annotations

import torch
from torch import nn


class KMeansNet(nn.Module):
    """Centres C (10 x 784); x0 = flatten(x); s = softmax(20 (x0 C^T - 1/2 ||C_i||^2)); returns s C - x0."""

    def __init__(self):
        super().__init__()
        self.centers = nn.Parameter(torch.rand(10, 784))
        self.flatten = nn.Flatten()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x0 = self.flatten(x)
        x = torch.matmul(x0, self.centers.t()) - 0.5 * torch.sum(self.centers**2, 1).flatten()
        x = self.softmax(10 * x)
        x = torch.matmul(x, self.centers)
        return x - x0


def _block(layer, norm, features):
    """A layer, its ReLU, then batch norm and dropout (p = 0.1), as the homework asks after every ReLU."""
    return [layer, nn.ReLU(), norm(features), nn.Dropout(0.1)]


class Autoencoder(nn.Module):
    """Encoder: the HW6 CNN with batch norm + dropout after every ReLU. Decoder: its rough inverse."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            *_block(nn.Conv2d(1, 20, 4, stride=1, padding=1), nn.BatchNorm2d, 20),
            *_block(nn.Conv2d(20, 20, 4, stride=2), nn.BatchNorm2d, 20),
            nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(720, 360), nn.ReLU(),
            nn.Linear(360, 10),
        )
        self.decoder = nn.Sequential(
            *_block(nn.Linear(10, 360), nn.BatchNorm1d, 360),
            *_block(nn.Linear(360, 720), nn.BatchNorm1d, 720),
            nn.Unflatten(1, torch.Size([20, 6, 6])),
            nn.Upsample(scale_factor=2, mode="bicubic"),
            *_block(nn.ConvTranspose2d(20, 20, 4, stride=2, output_padding=1), nn.BatchNorm2d, 20),
            nn.ConvTranspose2d(20, 1, 4, stride=1, padding=1), nn.Sigmoid(),
        )

    def forward(self, x, enc_mode=1):
        z = self.encoder(x)
        z2 = enc_mode * z + (2 - enc_mode) * torch.randn(z.shape)
        f = self.decoder(z2)
        return torch.cat((z, torch.flatten(f, 1) - torch.flatten(x, 1)), 1)

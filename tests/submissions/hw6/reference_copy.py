"""Homework 6 reference: the CNN for 28x28 digits whose stack Homework 7's decoder inverts.

    Conv2d(1, 20, 4, stride 1, padding 1) -> ReLU          1x28x28 -> 20x27x27
    Conv2d(20, 20, 4, stride 2)           -> ReLU          -> 20x12x12
    MaxPool2d(2)                                           -> 20x6x6
    Flatten                                                -> 720
    Linear(720, 360)                      -> ReLU
    Linear(360, 10)                                        -> 10 outputs (logits)
"""

from __future__ import annotations

from torch import nn


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 20, 4, stride=1, padding=1), nn.ReLU(),
            nn.Conv2d(20, 20, 4, stride=2), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(720, 360), nn.ReLU(),
            nn.Linear(360, 10),
        )

    def forward(self, x):
        return self.layers(x)

# Correct, in another style: other attribute names, layers registered in another order, functional ops.
import torch
import torch.nn.functional as F
from torch import nn


class KMeansNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.C = nn.Parameter(torch.rand(10, 784))

    def forward(self, x):
        x0 = x.reshape(x.shape[0], -1)
        scores = x0 @ self.C.T - 0.5 * (self.C ** 2).sum(dim=1)
        return F.softmax(20 * scores, dim=1) @ self.C - x0


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        # decoder layers registered first, on purpose
        self.d1, self.dn1 = nn.Linear(10, 360), nn.BatchNorm1d(360)
        self.d2, self.dn2 = nn.Linear(360, 720), nn.BatchNorm1d(720)
        self.t1, self.tn1 = nn.ConvTranspose2d(20, 20, 4, stride=2, output_padding=1), nn.BatchNorm2d(20)
        self.t2 = nn.ConvTranspose2d(20, 1, 4, stride=1, padding=1)
        self.c1, self.cn1 = nn.Conv2d(1, 20, 4, padding=1), nn.BatchNorm2d(20)
        self.c2, self.cn2 = nn.Conv2d(20, 20, 4, stride=2), nn.BatchNorm2d(20)
        self.l1, self.ln1 = nn.Linear(720, 360), nn.BatchNorm1d(360)
        self.l2 = nn.Linear(360, 10)
        self.drop = nn.Dropout(0.1)

    def encode(self, x):
        h = self.drop(self.cn1(F.relu(self.c1(x))))
        h = self.drop(self.cn2(F.relu(self.c2(h))))
        h = F.max_pool2d(h, 2).flatten(1)
        return self.l2(self.drop(self.ln1(F.relu(self.l1(h)))))

    def decode(self, z):
        h = self.drop(self.dn1(F.relu(self.d1(z))))
        h = self.drop(self.dn2(F.relu(self.d2(h)))).view(-1, 20, 6, 6)
        h = F.interpolate(h, scale_factor=2, mode="bicubic")
        h = self.drop(self.tn1(F.relu(self.t1(h))))
        return torch.sigmoid(self.t2(h))

    def forward(self, x, enc_mode=1):
        z = self.encode(x)
        z2 = enc_mode * z + (2 - enc_mode) * torch.randn_like(z)
        return torch.cat([z, (self.decode(z2) - x).flatten(1)], dim=1)

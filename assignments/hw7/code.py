"""Homework 7's code questions: what students see and submit (statement, starter code with the names and signatures the
grader calls, public checks) and the points of each graded check. The grading itself (probes, references,
comparisons) is the autograder's: `autograder/assignments/hw7.py`."""

from ..code import StudentAssignment, StudentQuestion

HW7_Q1 = '''class KMeansNet(nn.Module):
    """k-means as a network with 10 centres.

    The centres are ONE nn.Parameter of shape (10, 784) (initialise with torch.rand).
    forward(x), x of shape (B, 1, 28, 28) or (B, 784): x0 = x flattened to (B, 784);
    scores s_i = x0 C_i^T - 1/2 ||C_i||^2 (B, 10);
    weights = softmax(20 * scores) over the 10 centres; reconstruction = weights @ C (B, 784).
    Returns the reconstruction error: reconstruction - x0, of shape (B, 784).
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError
'''

HW7_Q2 = '''class Autoencoder(nn.Module):
    """A noisy autoencoder. After EVERY ReLU: batch norm (BatchNorm2d after convolutions, BatchNorm1d after
    linear layers) then Dropout(0.1).

    Encoder: Conv2d(1, 20, 4, stride=1, padding=1), ReLU, BN, Dropout; Conv2d(20, 20, 4, stride=2), ReLU, BN,
    Dropout; MaxPool2d(2); Flatten (720); Linear(720, 360), ReLU, BN, Dropout; Linear(360, 10) -> z (B, 10).
    Noise: z2 = enc_mode * z + (2 - enc_mode) * torch.randn(z.shape).
    Decoder: Linear(10, 360), ReLU, BN, Dropout; Linear(360, 720), ReLU, BN, Dropout; Unflatten to (20, 6, 6);
    Upsample(scale_factor=2, mode="bicubic"); ConvTranspose2d(20, 20, 4, stride=2, output_padding=1), ReLU, BN,
    Dropout; ConvTranspose2d(20, 1, 4, stride=1, padding=1); Sigmoid -> f (B, 1, 28, 28).
    forward(x, enc_mode=1) returns torch.cat((z, flatten(f) - flatten(x)), 1), of shape (B, 794).
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError

    def forward(self, x, enc_mode=1):
        raise NotImplementedError
'''

CODE = StudentAssignment("hw7", "Homework 7: k-means as a network and a noisy autoencoder",
                        "import torch\nfrom torch import nn", [
    StudentQuestion(
        "q1", {"structure": 2, "output": 4, "gradients": 2, "training": 2}, "k-means as a neural network",
        "Write k-means as a network whose only parameter is the (10, 784) matrix of centres.",
        HW7_Q1,
        [("[tuple(p.shape) for p in KMeansNet().parameters()]", "[(10, 784)]"),
         ("tuple(KMeansNet()(torch.rand(2, 1, 28, 28)).shape)", "(2, 784)")]),
    StudentQuestion(
        "q2", {"structure": 3, "embedding": 2, "reconstruction": 2, "generation": 1, "gradients": 1,
               "training": 1}, "A noisy autoencoder",
        "Write the autoencoder exactly as its docstring describes; `enc_mode=0` generates from noise alone.",
        HW7_Q2,
        [("tuple(Autoencoder().eval()(torch.rand(4, 1, 28, 28)).shape)", "(4, 794)"),
         ("tuple(Autoencoder().eval()(torch.rand(4, 1, 28, 28), enc_mode=0).shape)", "(4, 794)")]),
])

"""What students see for each assignment's code questions: the statement, the starter code, the public checks.

Public checks are light on purpose (names exist, shapes, a value the statement itself gives); the graded checks
live in `autograder/assignments/` and run only in the sandboxed runner. Each check is a doctest pair
(code, expected output) that Otter runs with `grader.check("q1")` in the notebook or `otter check FILE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StudentQuestion:
    id: str
    title: str
    statement: str  # markdown
    starter: str  # Python: signatures, docstrings, `raise NotImplementedError`
    checks: list[tuple[str, str]] = field(default_factory=list)  # (code, expected printed output)


@dataclass(frozen=True)
class StudentAssignment:
    name: str
    title: str
    imports: str
    questions: list[StudentQuestion]


HW5_Q1 = '''def gradient(w):
    """The gradient of R(w) = 13 w1^2 - 10 w1 w2 + 4 w1 + 2 w2^2 - 2 w2 + 1 at w.

    w: a numpy array of shape (2,). Returns a numpy array of shape (2,): (dR/dw1, dR/dw2).
    """
    raise NotImplementedError


def gradient_descent(eta, iterations):
    """Gradient descent on R from w_0 = (0, 0): w_{t+1} = w_t - eta * gradient(w_t).

    Returns every iterate, w_0 first, as a numpy array of shape (iterations + 1, 2).
    """
    raise NotImplementedError
'''

HW5_Q2 = '''def phi(v):
    """The sigmoid with slope a = 5, elementwise: 1 / (1 + exp(-5 v)). Same shape as v."""
    raise NotImplementedError


def phi_prime(v):
    """The derivative of phi, elementwise. Same shape as v."""
    raise NotImplementedError


def forward(x, W, b, U, c):
    """The 2-3-1 network on one point x (a (2, 1) column).

    W (3, 2), b (3, 1), U (1, 3), c (1, 1). Returns (v_z, z, v_f, f) with v_z = W x + b (3, 1),
    z = phi(v_z) (3, 1), v_f = U z + c (1, 1), f = phi(v_f) (1, 1).
    """
    raise NotImplementedError


def backward(x, y, W, b, U, c):
    """The gradients of the loss (f - y)^2 for one point x (2, 1) with label y (1, 1).

    Returns (grad_W, grad_b, grad_U, grad_c), shaped like W, b, U, c.
    """
    raise NotImplementedError


def sgd_epoch(X, Y, W, b, U, c, eta):
    """One pass of stochastic gradient descent over the columns of X (2, N) and Y (1, N), in order.

    For each point i: compute the gradients at (X[:, i:i+1], Y[:, i:i+1]) and step every weight by -eta times
    its gradient. Returns the updated (W, b, U, c); the arrays passed in are not modified.
    """
    raise NotImplementedError
'''

SHAPES = "tuple(np.shape(a) for a in {})"  # each case runs in a fresh copy of the student's globals
ZEROS = "_w = (np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((1, 3)), np.zeros((1, 1)))\n"
HW5 = StudentAssignment("hw5", "Homework 5: gradient descent and backpropagation by hand", "import numpy as np", [
    StudentQuestion(
        "q1", "Gradient descent on R(w)",
        "R(w) = 13 w1² − 10 w1 w2 + 4 w1 + 2 w2² − 2 w2 + 1. Write its gradient, then gradient descent from "
        "w₀ = (0, 0) that returns every iterate.",
        HW5_Q1,
        [("np.shape(gradient(np.array([0.0, 0.0])))", "(2,)"),
         ("np.allclose(gradient(np.array([1.0, 3.0])), 0)  # w* = (1, 3) is the minimum", "True"),
         ("np.shape(gradient_descent(0.01, 3))", "(4, 2)"),
         ("np.allclose(gradient_descent(0.01, 3)[0], 0)", "True")]),
    StudentQuestion(
        "q2", "Backpropagation by hand",
        "A 2-3-1 network with the sigmoid of slope a = 5 in both layers, column vectors throughout: "
        "f(x) = φ(U φ(W x + b) + c). Write φ, φ′, the forward pass, the gradients of the squared error "
        "(f − y)² and one epoch of SGD. The grader trains your network on data from the friend's network.",
        HW5_Q2,
        [("float(phi(np.array(0.0)))", "0.5"),
         ("float(phi_prime(np.array(0.0)))  # 5 * 0.5 * 0.5", "1.25"),
         (ZEROS + SHAPES.format("forward(np.zeros((2, 1)), *_w)"), "((3, 1), (3, 1), (1, 1), (1, 1))"),
         (ZEROS + SHAPES.format("backward(np.zeros((2, 1)), np.ones((1, 1)), *_w)"),
          "((3, 2), (3, 1), (1, 3), (1, 1))"),
         (ZEROS + SHAPES.format("sgd_epoch(np.zeros((2, 4)), np.ones((1, 4)), *_w, 0.1)"),
          "((3, 2), (3, 1), (1, 3), (1, 1))")]),
])

HW6_Q1 = '''class CNN(nn.Module):
    """A CNN for 1x28x28 digits with 10 outputs (logits), layers in this order:

        Conv2d(1, 20, 4, stride=1, padding=1) -> ReLU      1x28x28 -> 20x27x27
        Conv2d(20, 20, 4, stride=2)           -> ReLU      -> 20x12x12
        MaxPool2d(2)                                       -> 20x6x6
        Flatten                                            -> 720
        Linear(720, 360)                      -> ReLU
        Linear(360, 10)                                    -> 10 logits

    forward(x): x of shape (B, 1, 28, 28) -> (B, 10).
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError
'''

HW6 = StudentAssignment("hw6", "Homework 6: a CNN for digits", "import torch\nfrom torch import nn", [
    StudentQuestion(
        "q1", "A CNN for 28x28 digits",
        "Build the CNN exactly as its docstring lists the layers (Homework 7's decoder inverts this stack).",
        HW6_Q1,
        [("isinstance(CNN(), nn.Module)", "True"),
         ("tuple(CNN().eval()(torch.zeros(2, 1, 28, 28)).shape)", "(2, 10)"),
         ("sum(p.numel() for p in CNN().parameters())", "269930")]),
])

HW7_Q1 = '''class KMeansNet(nn.Module):
    """k-means as a network with 10 centres.

    The centres are ONE nn.Parameter of shape (10, 784) (initialise with torch.rand). forward(x), x of shape
    (B, 1, 28, 28) or (B, 784): x0 = x flattened to (B, 784); scores s_i = x0 C_i^T - 1/2 ||C_i||^2 (B, 10);
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

HW7 = StudentAssignment("hw7", "Homework 7: k-means as a network and a noisy autoencoder",
                        "import torch\nfrom torch import nn", [
    StudentQuestion(
        "q1", "k-means as a neural network",
        "Write k-means as a network whose only parameter is the (10, 784) matrix of centres.",
        HW7_Q1,
        [("[tuple(p.shape) for p in KMeansNet().parameters()]", "[(10, 784)]"),
         ("tuple(KMeansNet()(torch.rand(2, 1, 28, 28)).shape)", "(2, 784)")]),
    StudentQuestion(
        "q2", "A noisy autoencoder",
        "Write the autoencoder exactly as its docstring describes; `enc_mode=0` generates from noise alone.",
        HW7_Q2,
        [("tuple(Autoencoder().eval()(torch.rand(4, 1, 28, 28)).shape)", "(4, 794)"),
         ("tuple(Autoencoder().eval()(torch.rand(4, 1, 28, 28), enc_mode=0).shape)", "(4, 794)")]),
])

ASSIGNMENTS = {a.name: a for a in (HW5, HW6, HW7)}

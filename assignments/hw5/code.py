"""Homework 5's code questions: what students see and submit (statement, starter code with the names and signatures the
grader calls, public checks) and the points of each graded check. The grading itself (probes, references,
comparisons) is the autograder's: `autograder/assignments/hw5.py`."""

from ..code import StudentAssignment, StudentQuestion

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
    """One pass of stochastic gradient descent over the columns of X (2, N) and Y (1, N), in
    order.

    For each point i: compute the gradients at (X[:, i:i+1], Y[:, i:i+1]) and step every
    weight by -eta times its gradient. Returns the updated (W, b, U, c); the arrays passed in
    are not modified.
    """
    raise NotImplementedError
'''

SHAPES = "tuple(np.shape(a) for a in {})"  # each case runs in a fresh copy of the student's globals
ZEROS = "_w = (np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((1, 3)), np.zeros((1, 1)))\n"
CODE = StudentAssignment("hw5", "Homework 5: gradient descent and backpropagation by hand", "import numpy as np", [
    StudentQuestion(
        "q1", {"signatures": 1, "gradient": 3, "gradient_descent": 4}, "Gradient descent on R(w)",
        "R(w) = 13 w1² − 10 w1 w2 + 4 w1 + 2 w2² − 2 w2 + 1. Write its gradient, then gradient descent from "
        "w₀ = (0, 0) that returns every iterate.",
        HW5_Q1,
        [("np.shape(gradient(np.array([0.0, 0.0])))", "(2,)"),
         ("np.allclose(gradient(np.array([1.0, 3.0])), 0)  # w* = (1, 3) is the minimum", "True"),
         ("np.shape(gradient_descent(0.01, 3))", "(4, 2)"),
         ("np.allclose(gradient_descent(0.01, 3)[0], 0)", "True")]),
    StudentQuestion(
        "q2", {"signatures": 1, "phi": 1, "phi_prime": 1, "forward": 2, "backward": 3, "sgd_epoch": 2,
               "training": 2}, "Backpropagation by hand",
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

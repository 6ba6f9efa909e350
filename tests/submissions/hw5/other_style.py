# Correct, in another style: loops, tanh, other argument names, flat vectors accepted.
import math

import numpy as np


def gradient(point):
    a, b = float(point[0]), float(point[1])
    return np.array([26 * a - 10 * b + 4, 4 * b - 10 * a - 2])


def gradient_descent(step, n):
    path = [np.zeros(2)]
    for _ in range(n):
        path.append(path[-1] - step * gradient(path[-1]))
    return np.vstack(path)


def phi(v):
    return 0.5 * (1 + np.tanh(2.5 * np.asarray(v, dtype=float)))


def phi_prime(v):
    s = phi(v)
    return 5 * s - 5 * s * s


def forward(x, W, b, U, c):
    hidden_in = np.dot(W, x) + b
    hidden = phi(hidden_in)
    out_in = np.dot(U, hidden) + c
    return hidden_in, hidden, out_in, phi(out_in)


def backward(x, y, W, b, U, c):
    vz, z, vf, f = forward(x, W, b, U, c)
    df = 2 * (f - y) * phi_prime(vf)
    dz = np.dot(U.T, df) * phi_prime(vz)
    return np.outer(dz, x), dz, np.outer(df, z), df


def sgd_epoch(X, Y, W, b, U, c, eta):
    W, b, U, c = W.copy(), b.copy(), U.copy(), c.copy()
    for i in range(X.shape[1]):
        g = backward(X[:, [i]], Y[:, [i]], W, b, U, c)
        W, b, U, c = W - eta * g[0], b - eta * g[1], U - eta * g[2], c - eta * g[3]
    return W, b, U, c


if __name__ == "__main__":
    print(gradient_descent(0.02, 500)[-1])
    print(math.pi)

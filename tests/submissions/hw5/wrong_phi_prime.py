import numpy as np

SLOPE = 5.0
W_OPT = np.array([1.0, 3.0])


def risk(w):
    """R(w) = 13 w1^2 - 10 w1 w2 + 4 w1 + 2 w2^2 - 2 w2 + 1."""
    w1, w2 = w
    return 13 * w1**2 - 10 * w1 * w2 + 4 * w1 + 2 * w2**2 - 2 * w2 + 1


def gradient(w):
    """grad R(w) = (26 w1 - 10 w2 + 4, -10 w1 + 4 w2 - 2); zero at w* = (1, 3)."""
    w = np.asarray(w, dtype=float)
    return np.array([26 * w[0] - 10 * w[1] + 4, -10 * w[0] + 4 * w[1] - 2])


def gradient_descent(eta, iterations):
    """Iterates w_0 = (0, 0), w_{t+1} = w_t - eta grad R(w_t); returns an (iterations + 1, 2) array."""
    w = np.zeros(2)
    out = [w]
    for _ in range(int(iterations)):
        w = w - eta * gradient(w)
        out.append(w)
    return np.array(out)


def phi(v):
    """Sigmoid with slope a = 5: 1 / (1 + exp(-5 v))."""
    return 1.0 / (1.0 + np.exp(-SLOPE * np.asarray(v, dtype=float)))


def phi_prime(v):
    """phi'(v) = 5 phi(v) (1 - phi(v))."""
    p = phi(v)
    return 3 * p * (1 - p)  # the seed solution's slip: slope 3


def forward(x, W, b, U, c):
    """v_z = W x + b, z = phi(v_z), v_f = U z + c, f = phi(v_f); returns (v_z, z, v_f, f)."""
    v_z = W @ x + b
    z = phi(v_z)
    v_f = U @ z + c
    return v_z, z, v_f, phi(v_f)


def backward(x, y, W, b, U, c):
    """Gradients of (f - y)^2 for one point: returns (grad_W, grad_b, grad_U, grad_c)."""
    v_z, z, v_f, f = forward(x, W, b, U, c)
    delta_f = 2 * (f - y) * phi_prime(v_f)
    delta_z = (U.T @ delta_f) * phi_prime(v_z)
    return delta_z @ x.T, delta_z, delta_f @ z.T, delta_f


def sgd_epoch(X, Y, W, b, U, c, eta):
    """One SGD pass over the columns of X (2, N), Y (1, N) in order; returns the updated (W, b, U, c)."""
    W, b, U, c = (np.array(a, dtype=float) for a in (W, b, U, c))
    for i in range(X.shape[1]):
        gW, gb, gU, gc = backward(X[:, i:i + 1], Y[:, i:i + 1], W, b, U, c)
        W, b, U, c = W - eta * gW, b - eta * gb, U - eta * gU, c - eta * gc
    return W, b, U, c


def mse(X, Y, W, b, U, c):
    """Mean of (f(x_i) - y_i)^2 over the data set (forward works column-wise on a (2, N) X)."""
    return float(np.mean((forward(X, W, b, U, c)[3] - Y) ** 2))


FRIEND = {  # the "friend's" 2-3-1 network with step activations, whose labels the students imitate
    "W": np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 0.5]]),
    "b": np.array([[-0.5], [0.2], [0.3]]),
    "U": np.array([[1.0, 1.0, -1.0]]),
    "c": np.array([[-0.5]]),
}


def friend_data(n=1000, seed=0):
    """n points uniform in [-1, 1]^2 as columns of X (2, n), labels Y (1, n) of the friend's step network."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(2, n))
    z = (FRIEND["W"] @ X + FRIEND["b"] > 0).astype(float)
    Y = (FRIEND["U"] @ z + FRIEND["c"] > 0).astype(float)
    return X, Y


def initial_weights(seed=0, hidden=3, sigma=0.1):
    """i.i.d. Gaussian(0, sigma) initial W (hidden, 2), b (hidden, 1), U (1, hidden), c (1, 1)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(0, sigma, (hidden, 2)), rng.normal(0, sigma, (hidden, 1)),
            rng.normal(0, sigma, (1, hidden)), rng.normal(0, sigma, (1, 1)))

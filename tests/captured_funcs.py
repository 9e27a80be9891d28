"""Functions that read global and closure arrays (tests/test_captured.py)."""
import numpy as np

W = np.array([[0.5, -0.2], [0.1, 0.3]])
X = np.array([1.0, 2.0])


def uses_global(b):
    return np.sum(np.tanh(W @ X + b) ** 2)


def make_loss(data):
    target = data * 2.0

    def loss(p):
        return np.sum((p * data - target) ** 2) + _helper(p)
    return loss


def _helper(p):
    return np.sum(W @ p)


def scaled_loss(w, X, y, scale):
    return scale * np.sum((X @ w - y) ** 2)


def make_lambda(data):
    target = data * 2.0
    return lambda w: scaled_loss(w, np.outer(data, data), target, 0.5) + np.sum(w ** 2)


with_default = lambda a, b=2.0: a * b + a ** 3  # noqa: E731

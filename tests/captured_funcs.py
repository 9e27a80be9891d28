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

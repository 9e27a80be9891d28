"""Functions with sparse Jacobians and Hessians (tests/test_sparse.py)."""
import math

import numpy as np


def elementwise(x):  # diagonal Jacobian
    return np.sin(x) * x + x ** 2


def chain(x):  # tridiagonal Hessian, with a loop
    s = 0.0
    for i in range(len(x) - 1):
        s = s + x[i] * x[i] * math.sin(x[i + 1]) + x[i + 1] ** 3
    return s


def pairs(x):  # block-diagonal Hessian, blocks of 2
    a = x[0::2]
    b = x[1::2]
    return np.sum(np.exp(a * b) + a ** 2 * b)


def stencil(x):  # R^n -> R^(n-2): a banded rectangular Jacobian, written element by element
    y = np.zeros(len(x) - 2)
    for i in range(len(x) - 2):
        y[i] = x[i] * x[i + 1] - 2.0 * math.cos(x[i + 2])
    return y


def residuals(cam, pts, obs_cam, obs_pt):  # bundle-adjustment-like: each row reads one camera and one point
    c = cam[obs_cam]
    p = pts[obs_pt]
    return c[:, 0] * p + c[:, 1] * p * p


def kmeans_cost(centroids, points):
    diff = points[:, None, :] - centroids[None, :, :]
    dist2 = np.sum(diff * diff, axis=2)
    return np.sum(np.min(dist2, axis=1))


def elementwise_sum(x):  # diagonal Hessian
    return np.sum(np.sin(x) * x + x ** 3)

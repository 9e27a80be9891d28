"""det: the determinant by expansion in minors along the first row (recursive, as cmpad and the
C++ reference define it), and its gradient with respect to A."""
import numpy as np

import adc

from . import JIT


def minor(A, j):
    """A without its first row and column j."""
    return np.concatenate([A[1:, :j], A[1:, j + 1:]], axis=1)


def det(A):
    n = A.shape[0]
    if n == 1:
        return A[0, 0]
    total = 0.0
    sign = 1.0
    for j in range(n):
        total = total + sign * A[0, j] * det(minor(A, j))
        sign = -sign
    return total


gradient = adc.grad(det, jit=JIT)


def prepare(function, inp):
    ell = int(inp["ell"])
    A = np.asarray(inp["A"], dtype=np.float64).reshape(ell, ell)
    if function == "primal":
        return (lambda: det(A)), float
    return (lambda: gradient(A).ravel()), np.ndarray.tolist

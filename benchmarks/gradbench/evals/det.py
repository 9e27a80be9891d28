"""det: the determinant by expansion in minors along the first row (recursive, as cmpad and the
C++ reference define it), and its gradient with respect to A.

As in cmpad's ``det_of_minor``, a minor is A's rows ``row, row + 1, ...`` and the columns still
free, so no matrix is copied.  The reference keeps the free columns in a linked list it edits in
place; here they are the bits of an integer, ``used`` (bit ``j`` set: column ``j`` is gone), the
usual Python form of a set of column indices that costs no allocation.  adc keeps the recursion a
recursion (``det_of_minor_fwd``/``_bwd``, compiled by Numba), whose reverse part adds into the
caller's adjoint of A in place."""
import numpy as np

import adc

from . import JIT


def det_of_minor(A, row, used):
    """The determinant of the minor of A made of its rows from ``row`` on and the columns whose
    bit in ``used`` is 0."""
    n = A.shape[0]
    if row == n - 1:  # one row left, and one free column: the first bit of used that is 0
        j = 0
        while used & (1 << j):
            j += 1
        return A[row, j]
    total = 0.0
    sign = 1.0
    for j in range(n):
        if used & (1 << j) == 0:  # column j is in the minor: expand along it
            total = total + sign * A[row, j] * det_of_minor(A, row + 1, used | (1 << j))
            sign = -sign
    return total


def det(A):
    return det_of_minor(A, 0, 0)


gradient = adc.grad(det, jit=JIT)


def prepare(function, inp):
    ell = int(inp["ell"])
    A = np.asarray(inp["A"], dtype=np.float64).reshape(ell, ell)
    if function == "primal":
        return (lambda: det(A)), float
    return (lambda: gradient(A).ravel()), np.ndarray.tolist

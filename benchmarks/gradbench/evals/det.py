"""det: the determinant by expansion in minors along the first row (recursive, as cmpad and the
C++ reference define it), and its gradient with respect to A.

As in cmpad's ``det_of_minor``, a minor is A's rows ``row, row + 1, ...`` and the columns ``cols``
(an int array), so no matrix is copied: expanding along the minor's first row removes ``row`` and
one column at a time.  adc keeps the recursion a recursion (``det_of_minor_fwd``/``_bwd``, compiled
by Numba), whose reverse part adds into the caller's adjoint of A in place."""
import numpy as np

import adc

from . import JIT


def det_of_minor(A, row, cols):
    """The determinant of the minor of A made of its rows from ``row`` on and the columns ``cols``."""
    m = cols.shape[0]
    if m == 1:
        return A[row, cols[0]]
    total = 0.0
    sign = 1.0
    for k in range(m):
        rest = np.concatenate((cols[:k], cols[k + 1:]))  # the columns without the k-th
        total = total + sign * A[row, cols[k]] * det_of_minor(A, row + 1, rest)
        sign = -sign
    return total


def det(A):
    return det_of_minor(A, 0, np.arange(A.shape[0]))


gradient = adc.grad(det, jit=JIT)


def prepare(function, inp):
    ell = int(inp["ell"])
    A = np.asarray(inp["A"], dtype=np.float64).reshape(ell, ell)
    if function == "primal":
        return (lambda: det(A)), float
    return (lambda: gradient(A).ravel()), np.ndarray.tolist

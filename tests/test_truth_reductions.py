"""``np.any``, ``np.all`` (and the methods ``x.any()``, ``x.all()``) and ``np.count_nonzero``, with
and without ``axis``/``keepdims``: no derivative, NumPy's values (of bool masks and of numbers,
whose truth is ``!= 0``), and the derivative they decide routed exactly, plain and under jit (where
a reduction along an axis is a kernel of adc's)."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of


def gate_any(x):
    m = (x > 0.0) & (x < 2.0)
    if np.any(m):
        return np.sum(x[m] ** 2)
    return np.sum(x)


def gate_all(x):
    if (x > -5.0).all():
        return np.sum(np.sin(x))
    return 0.0


def rows_any(A):
    """Rows with a positive element, by axis 1; columns all below 2, by axis 0 with keepdims."""
    r = np.any(A > 0.0, axis=1)
    c = np.all(A < 2.0, axis=0, keepdims=True)
    return np.sum(np.where(r[:, None], A * A, A)) + np.sum(np.where(c, 3.0 * A, 0.0))


def counted(A):
    """The count of nonzero floats (their truth) and of a mask's elements, per column and in all."""
    per_column = np.count_nonzero(np.floor(A), axis=0)
    return np.sum(A * per_column) + np.count_nonzero(A > 0.5) * np.sum(A) + np.count_nonzero(A, axis=1, keepdims=True)[0, 0]


def method_axis(A):
    return np.sum(np.where(A.any(axis=0), A, 0.0)) + np.sum(np.where((A > 1.0).all(axis=1)[:, None], A, -A))


A = np.array([[0.3, -1.2, 1.7, 0.05], [-0.4, -0.9, 2.6, 1.1], [0.8, 0.2, -1.5, 0.6]])
X = np.array([-1.0, -0.3, 0.4, 0.8, 1.5, 2.5])


@pytest.mark.parametrize("fn, x", [(gate_any, X), (gate_all, X), (rows_any, A), (counted, A), (method_axis, A)])
@pytest.mark.parametrize("jit", [False, True])
def test_truth_reductions_route_the_derivative(fn, x, jit):
    value, g = adc.value_and_grad(fn, jit=jit)(x)
    assert value == pytest.approx(fn(x), rel=1e-12)
    np.testing.assert_allclose(g, fd_jacobian_of(fn, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.jacfwd(fn, jit=jit)(x), g, rtol=1e-12)


def test_worked_numbers():
    # rows_any on A: every row has a positive element (d/dA of A*A is 2A); columns 0, 1 and 3 are
    # all below 2 (3 more), column 2 is not
    expected = 2.0 * A + np.array([3.0, 3.0, 0.0, 3.0])
    np.testing.assert_allclose(adc.grad(rows_any)(A), expected, rtol=1e-12)
    # counted: floor(A) is nonzero in 1, 2, 3 and 1 rows of the columns; 5 elements exceed 0.5
    assert np.count_nonzero(A > 0.5) == 5
    np.testing.assert_allclose(adc.grad(counted)(A), np.broadcast_to([6.0, 7.0, 8.0, 6.0], A.shape), rtol=1e-12)


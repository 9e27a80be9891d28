"""Axes of length 1 that only the running code knows, broadcast against longer ones.

Reverse mode decides when it compiles which axes an elementwise adjoint is summed over (the types'
length-1 axes).  An array sized by a number the code computes (``np.zeros((n, 3))``, ``x[:n]``, a
mask's selection, ``np.arange(n)``) may have length 1 when the code runs without its type showing
it: ``np.sum(z * np.ones((4, 3)))`` with ``z = np.zeros((n, 3))`` and ``n == 1`` gave the
gradient 6.0 where the truth is 24.0, silently, and ``np.sum(x[:n] * 2.0 * x)`` a wrong gradient
(or NumPy's "non-broadcastable output operand").  Such arrays are now found when compiling
(``run_time_shapes.py``) and their op's adjoints fitted to their shapes when the code runs
(``adc_arrays.shaped_like``).  And ``np.zeros((len(x), 3))`` now has the length-1 axis ``x`` has.
"""
from __future__ import annotations

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of

X = np.array([1.0, 2.0, 3.0])
MODES = [{}, {"jit": True}, {"mode": "forward"}]


def prefix_times_all(x, n):
    y = x[:n] * 2.0
    return np.sum(y * x)


def buffer_of_n_rows(x, n):
    z = np.zeros((n, 3))
    z[0] = x * 0.5
    return np.sum(z * np.ones((4, 3)) * np.cos(z))


def buffer_of_len_rows(x):
    z = np.zeros((len(x) - 2, 3))
    z[0] = x
    return np.sum(np.sin(z / (x + 2.0)) * np.ones((4, 3)))


def prefix_in_where(x, n):
    y = x[:n] * 2.0
    return np.sum(np.where(x > 1.5, y, x) ** 2)


def carried_prefix(x, n):
    acc = np.zeros(n)
    for k in range(3):
        acc = acc + x[:n] * x[k]
    return np.sum(acc * x)


def masked_times_all(x):
    y = x[x > 2.5]
    return np.sum(y * x)


def counted(x, n):
    t = np.arange(n) * 1.0
    return np.sum((t + 1.0) * x * x)


def rows_as_long_as(c, x):
    z = np.zeros((len(x), 3))
    z[0] = np.ones(3) * c
    return np.sum(z * np.ones((4, 3)) * x[0])


CASES = [(prefix_times_all, (1,)), (prefix_times_all, (3,)), (buffer_of_n_rows, (1,)), (buffer_of_n_rows, (4,)),
         (buffer_of_len_rows, ()), (prefix_in_where, (1,)), (carried_prefix, (1,)), (carried_prefix, (3,)),
         (masked_times_all, ()), (counted, (1,))]


@pytest.mark.parametrize("kw", MODES, ids=["reverse", "jit", "forward"])
@pytest.mark.parametrize("fn,rest", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_gradients_across_run_time_length_one_axes(fn, rest, kw):
    value, grad = adc.value_and_grad(fn, **kw)(X, *rest)
    assert value == pytest.approx(fn(X, *rest), rel=1e-14)
    np.testing.assert_allclose(grad, fd_jacobian_of(lambda x: fn(x, *rest), X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn,rest", [(prefix_times_all, (1,)), (buffer_of_n_rows, (1,)), (counted, (1,))],
                         ids=lambda c: getattr(c, "__name__", str(c)))
def test_hessians_across_run_time_length_one_axes(fn, rest):
    hess = adc.hessian(fn)(X, *rest)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hess, fd_jacobian_of(lambda x: adc.grad(fn)(x, *rest), X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw", MODES, ids=["reverse", "jit", "forward"])
def test_the_worked_buffer(kw):
    """``z`` has one row, ``c`` in each column, broadcast over 4 rows: ``d/dc = 4 * 3 * x0 = 24``."""
    assert adc.grad(rows_as_long_as, **kw)(0.5, np.array([2.0])) == 24.0


# -- a review of the change ---------------------------------------------------------------------------
W4 = np.arange(1.0, 5.0)
W43 = np.arange(1.0, 13.0).reshape(4, 3)


def tail_then_written(a, x):
    y = x[1:].copy()  # of x of length 2: one element
    y[0] = a
    return np.sum(y * W4)


def rows_then_written(a, x):
    y = x.reshape(-1, 3).copy()  # of x of length 3: one row
    y[0, 0] = a
    return np.sum(y * W43)


def stride_then_written(a, x):
    y = x[::2] * 1.0
    y[0] = a
    return np.sum(y * W4)


@pytest.mark.parametrize("fn, x", [(tail_then_written, np.array([1.0, 2.0])), (rows_then_written, X),
                                   (stride_then_written, np.array([1.0, 2.0]))], ids=lambda v: getattr(v, "__name__", "x"))
@pytest.mark.parametrize("kw", MODES, ids=["reverse", "jit", "forward"])
def test_slices_with_constant_bounds_of_short_axes(fn, x, kw):
    """A slice with constant bounds has length 1 where its axis is short: reverse mode gave 1.0
    (one row of the broadcast adjoint, picked by the write's adjoint) where the truth is 10 or 22."""
    a, h = 1.5, 1e-6
    assert adc.grad(fn, **kw)(a, x) == pytest.approx((fn(a + h, x) - fn(a - h, x)) / (2 * h), rel=1e-6)


def squares_against_rows(x, n):
    z = x[:n]
    return np.sum(z * W43 * z)


C = np.arange(1.0, 7.0).reshape(2, 3)
_squares_gradient = adc.grad(squares_against_rows)


def weighted_gradient(x, n):
    return np.sum(_squares_gradient(x, n) * C[:1])


def test_reverse_over_reverse_across_a_run_time_length_one_axis():
    """The transpose of ``shaped_like`` spread what it had summed (a broadcast): an error in
    reverse over reverse where the gradient spread an adjoint."""
    x = np.array([0.5, -1.0, 2.0])
    hess_c = adc.grad(weighted_gradient)(x, 1)
    np.testing.assert_allclose(hess_c, fd_jacobian_of(lambda v: weighted_gradient(v, 1), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.jacrev(_squares_gradient)(x, 1), adc.hessian(squares_against_rows)(x, 1), rtol=1e-12)


"""Length-1 axes of results computed from their operands' shapes.

Reverse mode sums an adjoint over the axes its operand was broadcast along, and it knows those axes
from the types (``Type.ones``).  ``A @ u`` with ``u`` of shape (3, 1) was typed as having no
length-1 axis, so in ``np.sum((A @ u) * u.T)`` the adjoint of ``A @ u`` stayed (3, 3) where it
should have been summed back to (3, 1): the gradient with respect to a number scaling ``u`` was
twice the truth, silently, in reverse mode and under jit (forward mode was right).  The same held
for ``np.outer``, ``np.linalg.solve``, ``np.tile``, ``np.repeat``, ``np.pad``, ``np.stack`` and
``np.concatenate``: each now keeps the length-1 axes it gets from its operands and parameters.
"""
from __future__ import annotations

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of

A = np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0], [0.7, -0.4, 1.1]])
X = np.array([[0.5], [-1.2], [0.8]])


def column_product(c, A, x):
    u = x * c
    return np.sum((A @ u) * u.T)


def row_product(c, A, x):
    u = x * c
    return np.sum((u.T @ A) * u)


def quadratic_form(c, A, x):
    q = x.T @ A @ (x * c)  # (1, 1)
    return np.sum(np.sin(q * np.array([[1.0, 2.0, 3.0]])))


def outer_of_singletons(c, A, x):
    o = np.outer(x[:1, 0] * c, x[1:2, 0])  # (1, 1)
    return np.sum(o * A)


def solved(c, A, x):
    s = np.linalg.solve(A, x * c)  # (3, 1)
    return np.sum(s * x.T)


def tiled(c, A, x):
    t = np.tile(x * c, (1, 1))  # (3, 1)
    return np.sum(t * A)


def repeated(c, A, x):
    r = np.repeat(x * c, 1, axis=1)  # (3, 1)
    return np.sum(r * A)


def padded(c, A, x):
    p = np.pad(x * c, ((0, 0), (0, 0)))  # (3, 1)
    return np.sum(p * A)


def stacked(c, A, x):
    s = np.stack([x[:, 0] * c], axis=1)  # (3, 1)
    return np.sum(s * A)


def concatenated(c, A, x):
    s = np.concatenate([x * c], axis=1)  # (3, 1)
    return np.sum(np.tanh(s * A))


FUNCTIONS = [column_product, row_product, quadratic_form, outer_of_singletons, solved, tiled, repeated, padded,
             stacked, concatenated]
MODES = [{}, {"jit": True}, {"mode": "forward"}]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("kw", MODES, ids=["reverse", "jit", "forward"])
def test_gradients_through_derived_length_one_axes(fn, kw):
    c = 0.7
    grads = adc.grad(fn, argnums=(0, 1, 2), **kw)(c, A, X)
    h = 1e-6
    assert grads[0] == pytest.approx((fn(c + h, A, X) - fn(c - h, A, X)) / (2 * h), rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(grads[1], fd_jacobian_of(lambda a: fn(c, a, X), A), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grads[2], fd_jacobian_of(lambda x: fn(c, A, x), X), rtol=1e-6, atol=1e-8)


def test_the_worked_column_product():
    """``sum((A u) u^T) = (1^T A u)(1^T u)``: with ``u = c x``, ``d/dc = 2 c (1^T A x)(1^T x)``."""
    c = 0.7
    want = 2 * c * float(np.sum(A @ X)) * float(np.sum(X))
    assert adc.grad(column_product)(c, A, X) == pytest.approx(want, rel=1e-13)


# -- a review of the change: more type rules that dropped length-1 axes, and writes into the result --
O43 = np.arange(1.0, 13.0).reshape(4, 3)


def flipped_then_written(a, x):
    y = np.flip(x, axis=1).copy()
    y[0, 0] = a
    return np.sum(y * O43)


def sorted_then_written(a, x):
    y = np.sort(x, axis=1)
    y[0, 0] = a
    return np.sum(y * O43)


def inverse_then_written(a, x):
    y = np.linalg.inv(x)
    y[0, 0] = a
    return np.sum(y * np.ones((4, 4)))


def diagonal_matrix(a, x):
    return np.sum(np.diag(x * a) * np.ones(4))


def column_then_written(a, x):
    y = x[:, 0] * 1.0  # of a (1, 3) x: one element
    y[0] = a
    return np.sum(y * np.ones(4))


@pytest.mark.parametrize("fn, x", [(flipped_then_written, np.array([[1.0, 2.0, 3.0]])),
                                   (sorted_then_written, np.array([[3.0, 1.0, 2.0]])),
                                   (inverse_then_written, np.array([[2.0]])),
                                   (diagonal_matrix, np.array([2.0])),
                                   (column_then_written, np.array([[1.0, 2.0, 3.0]]))],
                         ids=lambda v: getattr(v, "__name__", "x"))
@pytest.mark.parametrize("kw", [{}, {"jit": True}], ids=["reverse", "jit"])
def test_written_results_of_length_one_broadcast(fn, x, kw):
    """Each gave 1.0 (one row of the broadcast adjoint) in reverse mode: the types had no length-1 axis."""
    a, h = 1.5, 1e-6
    got = adc.grad(fn, **kw)(a, x)
    assert got == pytest.approx((fn(a + h, x) - fn(a - h, x)) / (2 * h), rel=1e-6)

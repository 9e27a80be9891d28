"""Writes into argument arrays (issue 11, item 2): ``x[i] = v``, ``x[1:] += v``, ``np.add.at(x, ...)``
on a parameter act as if the function had begun with ``x = x.copy()``.  Each case: the value (Python's
on a copy), the gradient against central finite differences in both modes, the caller's arrays
unchanged; forward == reverse == jit, a Hessian and <vjp(u), v> == <u, jvp(v)> on a few."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from test_array_state import copies
from test_language import check_gradient

X = np.array([0.3, -0.4, 0.8, 1.1])
A = np.array([[0.5, 0.2], [-0.1, 0.4], [0.7, -0.3]])


def view_taken_before_the_write(x, w):
    v = x[1:]  # a view: it sees the writes below, as it would see the copy's
    x[0] = x[1] * w
    x[2] += np.sin(x[0])
    return np.sum(v * v) + x[0]


def recurrence_in_place(x, w):
    for i in range(1, x.shape[0]):
        x[i] = np.tanh(x[i - 1] * w + x[i])
    return np.sum(x * x)


def rows_zeroed_in_a_branch(A, w):
    s = 0.0
    for i in range(A.shape[0]):
        if A[i, 0] > 0.0:
            A[i, 0] = w * A[i, 1]
        s += A[i, 0] * A[i, 1]
    return s + np.sum(A * A)


def slice_updated(x, w):
    x[1:] += w * x[:-1]
    return np.sum(x ** 3)


def added_at(x, w):
    np.add.at(x, [0, 0, 2], w * x[1])
    return np.sum(np.exp(x))


def written_then_passed_on(x, w):
    x[-1] = w
    return helper_sum(x) * x[-1]


def helper_sum(y):
    return np.sum(y * y)


def returns_the_written_array(x, w):
    x[0] = x[1] ** 2 * w
    return x * 2.0


CASES = [(view_taken_before_the_write, (X, 0.5)), (recurrence_in_place, (X, 0.7)),
         (rows_zeroed_in_a_branch, (A, 1.5)), (slice_updated, (X, 0.9)), (added_at, (X, 0.6)),
         (written_then_passed_on, (X, 1.3))]


@pytest.mark.parametrize("argnums", [0, 1])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn,args", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_of_a_function_writing_into_its_argument(fn, args, mode, argnums):
    check_gradient(fn, args, mode, argnums=argnums)


def test_forward_reverse_and_jit_agree():
    fn, args = CASES[1]
    grads = [check_gradient(fn, args, mode, jit) for mode in ("reverse", "forward") for jit in (False, True)]
    for g in grads[1:]:
        np.testing.assert_allclose(g, grads[0], rtol=1e-12, atol=1e-12)


def test_vjp_and_jvp_of_the_written_array_are_adjoint():
    rng = np.random.default_rng(3)
    v, u = rng.normal(size=X.shape), rng.normal(size=X.shape)
    x = X.copy()
    out, tangent = adc.jvp(returns_the_written_array, (x, 0.8), (v, 0.0))
    value, pullback = adc.vjp(returns_the_written_array, x, 0.8)
    np.testing.assert_array_equal(x, X)  # neither call changed the caller's array
    np.testing.assert_allclose(out, returns_the_written_array(X.copy(), 0.8))
    np.testing.assert_allclose(value, out)
    assert np.dot(pullback(u)[0], v) == pytest.approx(np.dot(u, tangent), rel=1e-12)


def test_hessian_of_a_function_writing_into_its_argument():
    x = X.copy()
    H = adc.hessian(recurrence_in_place)(x, 0.7)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    g = adc.grad(recurrence_in_place)
    h = 1e-5
    for j in range(X.size):
        e = np.zeros_like(X)
        e[j] = h
        np.testing.assert_allclose(H[:, j], (g(X + e, 0.7) - g(X - e, 0.7)) / (2 * h), rtol=1e-6, atol=1e-7)


def write_into_a_tree_leaf(p):
    p["w"][0] = 2.0 * p["w"][1]
    return np.sum(p["w"] ** 2)


def write_into_a_view(x):
    y = x * 1.0
    z = y[1:]
    z[0] = 3.0 * y[0]
    return np.sum(y * y)


def write_after_a_branch(x):
    y = x * 2.0
    if x[0] > 0.0:
        y = 0.5 * y
    y[1:] -= x[0]
    return np.sum(y * y)


def write_after_a_branch_copied(x):
    y = x * 2.0
    if x[0] > 0.0:
        y = 0.5 * y
    y = y.copy()  # what the error's hint says
    y[1:] -= x[0]
    return np.sum(y * y)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_rewrite_the_merge_error_suggests(mode):
    for x in (X, -X):
        check_gradient(write_after_a_branch_copied, (x,), mode)


@pytest.mark.parametrize("fn,arg,text", [(write_into_a_tree_leaf, {"w": X}, 'p["w"][0]'),
                                         (write_into_a_view, X, "z[0]"),
                                         (write_after_a_branch, X, "y[1:]")])
def test_writes_adc_cannot_copy_first_are_located_errors(fn, arg, text):
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn)(copies((arg,))[0] if isinstance(arg, np.ndarray) else arg)
    message = str(info.value)
    assert "test_argument_writes.py" in message and text in message and ".copy()" in message, message
    if fn is write_after_a_branch:
        assert "branch or loop" in message, message

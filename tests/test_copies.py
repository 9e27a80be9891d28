"""``copies.py``: the adjoint of an overwritten slice adds only the rest of the array, and a copy of
an array nothing reads any more shares its memory.  Each program is checked against central
differences, forward mode, Numba and its Hessian; the rewritten ones also by their code."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc import pipeline
from adc.copies import complement_adds, shared_copies
from adc.types import type_of
from adc.verify import verify


# -- rewritten: the clearing and the whole-array addition go ----------------------------------
def shifted(x):
    z = x.copy()
    z[1:] = x[1:] * x[:-1]
    return np.sum(z * z)


def from_k(x, k):
    z = x.copy()
    z[k:] = np.cos(x[k:])
    return np.sum(z * z * x)


def rows(A):
    Z = A.copy()
    Z[2:] = A[2:] * A[:-2]
    return np.sum(Z * A)


def last_two(x):
    z = x.copy()
    z[-2:] = x[:2] * 3.0
    return np.sum(z ** 3)


def in_a_loop(x, s):
    y = x
    for _ in range(s):
        z = y.copy()
        z[1:] = y[:-1] * x[1:]
        y = 0.5 * z + y
    return np.sum(y * y)


# -- left as they are -------------------------------------------------------------------------
def head_written(x):
    """The cleared adjoint is read through ``sin``'s partial, not added whole."""
    z = np.sin(x)
    z[:-1] = x[:-1] * x[1:]
    return np.sum(z * x)


def middle(x):
    z = x.copy()
    z[1:-1] = x[2:] * x[:-2]
    return np.sum(z * z)


def strided(x):
    z = x.copy()
    z[::2] = x[::2] ** 2
    return np.sum(z * z)


def column(A):
    Z = A.copy()
    Z[1:, 0] = A[1:, 1] * A[:-1, 0]
    return np.sum(Z * Z)


def scaled(A):
    """The cleared adjoint is read through the partial of ``A * A``."""
    Z = A * A
    Z[2:] = A[2:] * A[:-2]
    return np.sum(Z * A)


def written_twice(x):
    z = x * 1.5
    z[1:] = x[:-1] * x[1:]
    w = np.sum(z * z)
    z[:2] = x[:2] ** 2
    return w + np.sum(z * x)


# -- copies in the forward sweep ----------------------------------------------------------------
def read_after_write(x):
    a = x * 2.0
    b = a.copy()
    b[0] = 5.0
    return np.sum(a * b)


def read_before_write(x):
    a = x * 2.0
    b = a.copy()
    s = np.sum(a)  # the reverse sweep does not read ``a``
    b[0] = 5.0
    return s + np.sum(b * x)


def view_read_after_write(x):
    a = x * 2.0
    b = a.copy()
    v = a[1:]
    b[1] = 0.0
    return np.sum(v * b[1:])


# -- found by review: each gave a wrong gradient (or a NumPy error) with the first version -------
def written_again(x):
    """The first copy of ``gz[1:]`` was made a view, then cleared by the earlier write's adjoint."""
    z = x.copy()
    z[1:] = np.sin(x[1:])
    z[1:] = x[:-1] ** 2
    return np.sum(z * z)


def written_again_reading(x):
    z = x.copy()
    z[1:] = x[1:] ** 2
    z[1:] = z[1:] * x[:-1]
    return np.sum(z * z)


def read_between_writes(x):
    z = x.copy()
    z[1:] = np.sin(x[1:])
    s = np.sum(z * x)
    z[1:] = x[:-1] ** 2
    return s + np.sum(z * z)


def copied_in_a_loop(x, n):
    """The reverse loop restores ``b`` and computes ``a`` again: other values of the same names."""
    s = 0.0
    for _ in range(n):
        a = np.sin(x)
        b = a.copy()
        b[0] = 0.0
        s = s + np.sum(b * a)
    return s


def copied_and_scaled_in_a_loop(x, n):
    s = 0.0
    for i in range(n):
        a = np.sin(x) * (i + 1.0)
        b = a.copy()
        b[1:] = b[1:] * 2.0
        s = s + np.sum(b * a)
    return s


def diagonal_copied(A):
    """``np.diag(A)`` of a matrix is a read-only view in NumPy: its copy is not shared."""
    d = np.diagonal(A)
    y = d.copy()
    y[0] = 2.0
    return np.sum(y * y)


def carried_copy(x):
    z = x * 1.0
    for _ in range(3):
        w = z.copy()
        w[1:] = z[:-1] * w[1:]
        z = w + x
    return np.sum(z * z)


X = np.array([0.3, 0.9, -0.4, 0.7, 1.1, -0.8])
A = np.array([[0.3, 0.9, -0.4], [0.7, 1.1, -0.8], [0.2, -0.5, 1.3], [0.6, 0.4, -1.0]])
REWRITTEN = [(shifted, (X,)), (from_k, (X, 2)), (from_k, (X, -4)), (rows, (A,)),
             (last_two, (X,)), (in_a_loop, (X, 3))]
LEFT = [(head_written, (X,)), (scaled, (A,)), (middle, (X,)), (strided, (X,)), (column, (A,)), (written_twice, (X,))]
COPIES = [(read_after_write, (X,)), (read_before_write, (X,)), (view_read_after_write, (X,))]
REVIEWED = [(written_again, (X,)), (written_again_reading, (X,)), (read_between_writes, (X,)),
            (copied_in_a_loop, (X, 2)), (copied_and_scaled_in_a_loop, (X, 3)), (diagonal_copied, (A[:3],)),
            (carried_copy, (X,))]


def central(f, args, h=1e-6):
    x = args[0]
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e, *args[1:]) - f(x - e, *args[1:])) / (2 * h)
    return g


@pytest.mark.parametrize("f, args", REWRITTEN + LEFT + COPIES + REVIEWED, ids=lambda v: getattr(v, "__name__", ""))
def test_values_and_derivatives(f, args):
    value, g = adc.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args), rel=1e-14)
    np.testing.assert_allclose(g, central(f, args), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g, adc.grad(f, mode="forward")(*args), rtol=1e-12)
    np.testing.assert_allclose(adc.grad(f, jit=True)(*args), g, rtol=1e-12)
    H = adc.hessian(f)(*args).reshape(g.size, g.size)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    v = np.linspace(-1.0, 1.0, g.size).reshape(g.shape)
    np.testing.assert_allclose(adc.hvp(f)(*args, v).ravel(), H @ v.ravel(), rtol=1e-10, atol=1e-12)


def _reverse(f, args):
    return adc.source(f, at=args, compact=True).split("# reverse sweep")[1]


@pytest.mark.parametrize("f, args", REWRITTEN, ids=lambda v: getattr(v, "__name__", ""))
def test_an_overwritten_slice_adds_only_the_rest(f, args):
    reverse = _reverse(f, args)
    assert "] = 0.0" not in reverse, reverse
    assert "].copy()" not in reverse, reverse


def test_the_rest_of_a_shifted_slice():
    reverse = _reverse(shifted, (X,))
    assert "gx[:1] += gz[:1]" in reverse, reverse


@pytest.mark.parametrize("f, args", LEFT, ids=lambda v: getattr(v, "__name__", ""))
def test_other_writes_keep_the_clearing(f, args):
    assert "] = 0.0" in _reverse(f, args)


def test_a_copy_read_after_the_write_stays():
    assert "a.copy()" in adc.source(read_after_write, at=(X,), compact=True)
    assert "a.copy()" in adc.source(view_read_after_write, at=(X,), compact=True)


def test_a_copy_whose_source_is_read_no_more_is_shared():
    forward = adc.source(read_before_write, at=(X,), compact=True).split("# reverse sweep")[0]
    assert ".copy()" not in forward, forward


@pytest.mark.parametrize("f, args", REWRITTEN + LEFT + COPIES + REVIEWED, ids=lambda v: getattr(v, "__name__", ""))
def test_the_passes_keep_the_program_valid(f, args):
    prog = pipeline.primal(f, [type_of(a) for a in args])
    out = pipeline.derivative_program(prog, "grad", [0], compact=True)
    verify(out)
    verify(shared_copies(complement_adds(out)))  # run again: nothing left to change, still valid

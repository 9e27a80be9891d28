"""Numba code without bounds checks where adc proves every index in range (``bounds.py``).

A function whose indices are loop variables over ``range(...)`` of the indexed array's own shape
runs without Numba's checks; one whose bounds come from another array runs without them behind a
guard on entry, and with them (the checked version, ``IndexError`` where the function raises) when
the guard fails.  Every answer is compared with ``jit=False`` and finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adc
from adc.pipeline import compile_derivative
from adc.types import type_of

from fd import fd_jacobian_of


def kmeans_cost(centroids, points):
    n, d = points.shape
    k = centroids.shape[0]
    total = 0.0
    for i in range(n):
        closest = math.inf
        for j in range(k):
            dist = 0.0
            for l in range(d):
                t = points[i, l] - centroids[j, l]
                dist += t * t
            closest = min(closest, dist)
        total += closest
    return total


def neighbours(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += math.sin(x[i]) * x[i + 1]
    return s + x[-1] * x[0]


def clipped_columns(c, p):
    s = 0.0
    for i in range(p.shape[0]):
        for l in range(p.shape[1]):
            if l < c.shape[1]:
                s += c[0, l] * p[i, l] ** 2
    return s


def through_an_index_array(x, idx):
    s = 0.0
    for i in range(len(idx)):
        s += x[idx[i]] ** 2
    return s


def matvec_square(A, x):
    s = 0.0
    for i in range(A.shape[0]):
        t = 0.0
        for j in range(A.shape[1]):
            t += A[i, j] * x[j]
        s += t * t
    return s


def triangular(x):
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(i):
            s += x[i] * x[j]
    return s


def _compiled(fn, *args):
    return compile_derivative(fn, [type_of(a) for a in args], "grad", [0], jit=True)


RNG = np.random.default_rng(3)


@pytest.mark.parametrize("fn, args, guard", [
    (neighbours, (RNG.normal(size=6),), True),  # x[-1] needs one element
    (triangular, (RNG.normal(size=5),), False),
    (matvec_square, (RNG.normal(size=(3, 4)), RNG.normal(size=4)), True),  # x[j]: j < A.shape[1]
    (kmeans_cost, (RNG.normal(size=(3, 2)), RNG.normal(size=(7, 2))), True),
], ids=["neighbours", "triangular", "matvec", "kmeans"])
def test_proved_indices_run_without_checks(fn, args, guard):
    compiled = _compiled(fn, *args)
    assert compiled.unchecked
    assert ("adc_arrays.indices_in_range(" in compiled.source) == guard
    got = adc.grad(fn, jit=True)(*args)
    np.testing.assert_allclose(got, adc.grad(fn)(*args), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, fd_jacobian_of(lambda v: fn(v, *args[1:]), args[0]), rtol=1e-6, atol=1e-8)


def test_the_guard_of_matvec_names_the_other_array():
    compiled = _compiled(matvec_square, RNG.normal(size=(3, 4)), RNG.normal(size=4))
    assert "adc_arrays.indices_in_range(" in compiled.source
    assert "x.shape[0]" in compiled.source.split("indices_in_range(")[1].split(")")[0]


def test_an_index_array_keeps_the_checks():
    x, idx = RNG.normal(size=5), np.array([4, 0, 2])
    assert not _compiled(through_an_index_array, x, idx).unchecked
    with pytest.raises(IndexError):
        adc.grad(through_an_index_array, jit=True)(x, np.array([1, 5]))


def test_a_failing_guard_runs_the_checked_code_which_raises_where_the_function_does():
    C, P = RNG.normal(size=(3, 1)), RNG.normal(size=(6, 2))  # centroids narrower than the points
    with pytest.raises(IndexError):
        kmeans_cost(C, P)
    grad = adc.grad(kmeans_cost, jit=True)
    for _ in range(3):  # the checked path, then the fast path of later calls
        with pytest.raises(IndexError):
            grad(C, P)
    with pytest.raises(IndexError):
        adc.jvp(adc.grad(kmeans_cost, jit=True), (C, P), (np.ones_like(C), np.zeros_like(P)), jit=True)


def test_a_failing_guard_where_the_function_is_fine_gives_its_gradient():
    c, p = RNG.normal(size=(1, 2)), RNG.normal(size=(4, 3))  # l < c.shape[1] skips the third column
    compiled = _compiled(clipped_columns, c, p)
    assert compiled.unchecked and "indices_in_range(" in compiled.source
    grad = adc.grad(clipped_columns, jit=True)
    expected = fd_jacobian_of(lambda v: clipped_columns(v, p), c)
    for _ in range(3):
        np.testing.assert_allclose(grad(c, p), expected.reshape(c.shape), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad(c, p), adc.grad(clipped_columns)(c, p), rtol=1e-13)
    wide = RNG.normal(size=(1, 3))  # the guard holds: the unchecked code
    np.testing.assert_allclose(grad(wide, p), adc.grad(clipped_columns)(wide, p), rtol=1e-13)


def test_jvp_of_grad_agrees_with_the_checked_code_and_with_vjp():
    C, P = RNG.normal(size=(4, 3)), RNG.normal(size=(20, 3))
    v = RNG.normal(size=C.shape)
    g, hv = adc.jvp(adc.grad(kmeans_cost, jit=True), (C, P), (v, np.zeros_like(P)), jit=True)
    g0, hv0 = adc.jvp(adc.grad(kmeans_cost), (C, P), (v, np.zeros_like(P)))
    np.testing.assert_allclose(g, g0, rtol=1e-12)
    np.testing.assert_allclose(hv, hv0, rtol=1e-12)
    np.testing.assert_allclose(hv, 2.0 * v * np.bincount(
        np.argmin(((P[:, None] - C[None]) ** 2).sum(2), 1), minlength=4)[:, None], rtol=1e-12)


def clip_tanh(x, c):
    y = np.tanh(x) * x
    s = 0.0
    for l in range(x.shape[0]):
        if l < c.shape[0]:
            s += c[l] * x[l]
    return y * s


def clip_after(x, c):
    z = np.tanh(x) * x
    s = 0.0
    for l in range(c.shape[0]):
        if l < z.shape[0]:
            s += c[l] * z[l]
    return z * s


@pytest.mark.parametrize("fn, x, c", [
    (clip_tanh, np.linspace(0.1, 1.0, 5), np.array([1.0, 2.0])),  # the guard fails, then the checked parallel code
    (clip_after, np.linspace(0.1, 1.0, 3), np.arange(1.0, 6.0)),  # the parallel code fails, then the serial guard
], ids=["guard-then-parallel", "parallel-then-guard"])
def test_a_failing_guard_and_a_failing_parallel_compilation_in_either_order(fn, x, c):
    """Found by review: each fallback has to take the other's turn too (``failures.recover``)."""
    import warnings

    want = adc.jacfwd(fn)(x, c)
    np.testing.assert_allclose(want, fd_jacobian_of(lambda v: fn(v, c), x), rtol=1e-6, atol=1e-8)
    jac = adc.jacfwd(fn, jit="parallel")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adc.errors.ParallelFallbackWarning)
        for _ in range(3):  # the checked path, then the fast path
            np.testing.assert_allclose(jac(x, c), want, rtol=1e-12, atol=1e-15)


def gathered_twice(x, idx):
    y = np.exp(x) * 2.0
    return np.sum(y[idx] ** 2)


@pytest.mark.parametrize("dtype", [np.uint64, np.int32, np.uint8])
def test_rows_gathered_through_an_unsigned_or_narrow_index(dtype):
    """Found by review: ``rows_used`` mixed uint64 and int64 into a float under Numba."""
    x, idx = np.linspace(0.1, 1.0, 20), np.array([1, 3, 3, 19], dtype=dtype)
    want = np.zeros(20)
    np.add.at(want, idx.astype(np.int64), 8.0 * np.exp(2.0 * x[idx.astype(np.int64)]))
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(gathered_twice, jit=jit)(x, idx), want, rtol=1e-12)

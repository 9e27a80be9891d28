"""``adc.hessian`` of one array argument runs up to ``HESSIAN_DIRECTIONS`` columns per vector-mode
pass over the gradient program (``"vhvp"``), and one Hessian-vector product per column where an op
of that program has no batched rule.  Both give the Hessian-vector products' numbers."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adc
from adc import api, pipeline


def smooth(x):
    return np.sum(np.sin(x) * x ** 2) + np.sum(x[1:] * x[:-1]) ** 2


def looped(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + math.sin(x[i]) * x[i + 1] ** 2
    return s


def branched(x):
    y = x * x
    if np.sum(x) > 0.0:
        y = np.exp(-y) * x
    return np.sum(y * y)


def with_max(x):
    """``np.max`` has no batched rule: one product per column."""
    return np.max(x) * np.sum(x ** 3)


def columns(f, x):
    return np.stack([adc.hvp(f)(x, e) for e in np.eye(x.size)], axis=-1)


@pytest.mark.parametrize("f", [smooth, looped, branched, with_max], ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [5, api.HESSIAN_DIRECTIONS * 2 + 3])
def test_columns_are_the_hessian_vector_products(f, n):
    x = np.linspace(0.1, 1.3, n)
    H = adc.hessian(f)(x)
    np.testing.assert_allclose(H, columns(f, x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", [smooth, looped], ids=lambda f: f.__name__)
def test_jit_agrees(f):
    x = np.linspace(0.1, 1.3, 9)
    np.testing.assert_allclose(adc.hessian(f, jit=True)(x), adc.hessian(f)(x), rtol=1e-12, atol=1e-12)


def test_which_pass_runs():
    x = np.linspace(0.1, 1.3, 4)
    types = [adc.types.type_of(x)]
    assert api._HvpRunner(smooth, 0, (x,), False)._vector_mode(x)
    assert not api._HvpRunner(with_max, 0, (x,), False)._vector_mode(x)
    adc.hessian(smooth)(x)
    assert any(key[2] == "vhvp" and key[1] == tuple(types) for key in pipeline._cache)


def test_a_matrix_argument():
    A = np.array([[0.3, -0.2], [1.1, 0.5], [0.7, 0.9]])
    H = adc.hessian(smooth)(A)
    assert H.shape == A.shape + A.shape
    flat = lambda a: smooth(a.reshape(A.shape))  # noqa: E731
    np.testing.assert_allclose(H.reshape(A.size, A.size), adc.hessian(flat)(A.ravel()), rtol=1e-13, atol=1e-13)
    e = np.zeros(A.size)
    e[4] = 1.0
    np.testing.assert_allclose(H.reshape(A.size, A.size)[:, 4], adc.hvp(smooth)(A, e.reshape(A.shape)).ravel(),
                               rtol=1e-13, atol=1e-13)


SCALE = 2.0


def scaled(x, p):
    return SCALE * np.sum(x ** 4) + p * x[0] * x[1]


def test_later_calls_use_their_own_values():
    """Calls with the first call's signature skip the checks (a runner per signature), with the
    values, the other arguments and the globals of each call."""
    global SCALE
    H = adc.hessian(scaled)
    for x, p in ((np.array([1.0, 2.0]), 3), (np.array([-0.5, 0.25]), 3), (np.array([2.0, 1.0]), 7)):
        expected = np.diag(12.0 * SCALE * x ** 2) + np.array([[0.0, p], [p, 0.0]])
        np.testing.assert_allclose(H(x, p), expected, rtol=1e-13)
    x = np.array([1.0, 2.0])
    try:
        SCALE = 5.0  # a rebound global: the runner is made again
        np.testing.assert_allclose(H(x, 3), np.diag(60.0 * x ** 2) + np.array([[0.0, 3.0], [3.0, 0.0]]), rtol=1e-13)
    finally:
        SCALE = 2.0
    np.testing.assert_allclose(H(x.astype(np.float32), 3), H(x, 3), rtol=1e-6)  # another signature
    assert H(x.astype(np.float32), 3).dtype == np.float32
    np.testing.assert_allclose(H(x, p=3), H(x, 3), rtol=1e-13)  # keywords take the checked path


def test_hvp_later_calls_use_their_own_values():
    """``adc.hvp`` keeps a runner per call signature too."""
    global SCALE
    hvp = adc.hvp(scaled)
    for x, p, v in ((np.array([1.0, 2.0]), 3, np.array([1.0, 0.0])), (np.array([-0.5, 0.25]), 4, np.array([0.5, 2.0]))):
        H = np.diag(12.0 * SCALE * x ** 2) + np.array([[0.0, p], [p, 0.0]])
        np.testing.assert_allclose(hvp(x, p, v), H @ v, rtol=1e-13)
    x, v = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    try:
        SCALE = 5.0
        np.testing.assert_allclose(hvp(x, 3, v), (np.diag(60.0 * x ** 2) + np.array([[0.0, 3.0], [3.0, 0.0]])) @ v,
                                   rtol=1e-13)
    finally:
        SCALE = 2.0
    np.testing.assert_allclose(hvp(x, 3, [0.0, 1]), hvp(x, 3, v), rtol=1e-13)  # a list vector: converted
    both = adc.hvp(scaled, argnums=(0,))
    np.testing.assert_allclose(both(x, 3, (v,))[0], hvp(x, 3, v), rtol=1e-13)


def test_an_empty_array():
    H = adc.hessian(smooth)(np.zeros(0))
    assert H.shape == (0, 0)
    assert adc.hessian(smooth)(np.zeros((0, 3))).shape == (0, 3, 0, 3)

"""Front-end fixes of issue 9, each a regression test against central finite differences (both
modes, and ``jit=True``) or against the exact adc error it must raise.

* Transposes with an axis order: ``np.transpose(x, axes)``, ``x.transpose(1, 0, 2)``, ``x.T`` on
  3-D arrays, ``np.swapaxes``, ``np.moveaxis``.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import adc

H = 1e-6


def fd_grad(fn: Callable[..., Any], args: tuple, i: int, h: float = H) -> Any:
    """``d fn / d args[i]`` of scalar ``fn`` by central differences."""
    a = args[i]
    if not isinstance(a, np.ndarray):
        lo, hi = list(args), list(args)
        lo[i], hi[i] = a - h, a + h
        return (fn(*hi) - fn(*lo)) / (2 * h)
    g = np.zeros_like(a)
    for k in range(a.size):
        lo, hi = [x.copy() if isinstance(x, np.ndarray) else x for x in args], list(args)
        hi = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        lo[i].flat[k] -= h
        hi[i].flat[k] += h
        g.flat[k] = (fn(*hi) - fn(*lo)) / (2 * h)
    return g


def check_gradient(fn: Callable[..., Any], args: tuple, jit: bool = True) -> None:
    """Reverse, forward (and jitted reverse) gradients w.r.t. every argument equal FD; the
    value equals the function's own."""
    wrt = tuple(range(len(args)))
    want = [fd_grad(fn, args, i) for i in wrt]
    value, got = adc.value_and_grad(fn, argnums=wrt)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    runs = {"reverse": got, "forward": adc.grad(fn, argnums=wrt, mode="forward")(*args)}
    if jit:
        runs["jit"] = adc.grad(fn, argnums=wrt, jit=True)(*args)
    for mode, grads in runs.items():
        for i, (g, w) in enumerate(zip(grads, want)):
            assert np.shape(g) == np.shape(args[i]), (mode, i)
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7, err_msg=f"{mode}, argument {i}")


# --- 1. transposes with an axis order -----------------------------------------------------------


def transpose_axes(x, w):
    return np.sum(w * np.transpose(x, (1, 0, 2)))


def transpose_method(x, w):
    return np.sum(w * x.transpose(1, 0, 2))


def transpose_method_tuple(x, w):
    return np.sum(w * x.transpose((2, 0, 1)))


def transpose_keyword(x, w):
    return np.sum(w * np.transpose(x, axes=(2, 0, 1)))


def transpose_negative(x, w):
    return np.sum(w * np.transpose(x, (0, -1, 1)))


def transpose_T_3d(x, w):
    return np.sum(w * np.sin(x.T))


def transpose_default_3d(x, w):
    return np.sum(w * np.transpose(x) ** 2)


def swapaxes_fn(x, w):
    return np.sum(w * np.swapaxes(x, 0, 2))


def swapaxes_method(x, w):
    return np.sum(w * x.swapaxes(-1, 1))


def moveaxis_fn(x, w):
    return np.sum(w * np.moveaxis(x, 0, -1))


def transpose_twice(x, w):
    y = np.transpose(x, (1, 2, 0))
    return np.sum(w * np.transpose(y * y, (2, 0, 1)))


def transpose_identity(x, w):
    return np.sum(w * np.transpose(x, (0, 1, 2)))


_rng = np.random.default_rng(9)
X = _rng.standard_normal((2, 3, 4))
TRANSPOSES = [
    (transpose_axes, (1, 0, 2)), (transpose_method, (1, 0, 2)), (transpose_method_tuple, (2, 0, 1)),
    (transpose_keyword, (2, 0, 1)), (transpose_negative, (0, 2, 1)), (transpose_T_3d, (2, 1, 0)),
    (transpose_default_3d, (2, 1, 0)), (swapaxes_fn, (2, 1, 0)), (swapaxes_method, (0, 2, 1)),
    (moveaxis_fn, (1, 2, 0)), (transpose_twice, (0, 1, 2)), (transpose_identity, (0, 1, 2)),
]


@pytest.mark.parametrize("fn,axes", TRANSPOSES, ids=[f.__name__ for f, _ in TRANSPOSES])
def test_transpose_with_axes(fn, axes):
    w = _rng.standard_normal(np.transpose(X, axes).shape)
    check_gradient(fn, (X.copy(), w))


def test_transpose_axes_jvp_and_vjp_match_finite_differences():
    # the example of the issue, through jvp and vjp directly: the tangent is transposed forward,
    # the cotangent with the inverse permutation
    w = _rng.standard_normal((3, 2, 4))
    v = _rng.standard_normal(X.shape)
    _, tangent = adc.jvp(transpose_axes, (X, w), (v, np.zeros_like(w)))
    assert tangent == pytest.approx(np.sum(w * np.transpose(v, (1, 0, 2))))
    out, pullback = adc.vjp(transpose_axes, X, w)
    gx, gw = pullback(1.0)
    np.testing.assert_allclose(gx, np.transpose(w, (1, 0, 2)))
    np.testing.assert_allclose(gw, np.transpose(X, (1, 0, 2)))


def transpose_bad_axes(x):
    return np.sum(np.transpose(x, (0, 0, 1)))


def swapaxes_out_of_range(x):
    return np.sum(np.swapaxes(x, 0, 3))


@pytest.mark.parametrize("fn,words", [(transpose_bad_axes, "permutation"), (swapaxes_out_of_range, "out of range")])
def test_bad_axes_are_located_errors(fn, words):
    with pytest.raises(adc.UnsupportedError, match=words) as info:
        adc.grad(fn)(X)
    assert info.value.loc is not None and info.value.loc.filename == __file__
    assert info.value.hint

"""A loop nested in loops whose trip counts are known before the outermost loop starts keeps its
values in records (one entry per iteration of the nest, ``s_rec[at]`` with ``at = i * k + j``),
under Numba NumPy arrays, instead of a growing tape; a loop whose trip count changes with the outer
index (``range(i)``) keeps its tape.  Every derivative is checked against central differences, in
reverse, forward and jit modes, and second order through the records (``hessian``, the jvp of the
gradient)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of
from nested_record_funcs import coupled, in_branch, triangular, triple

X = np.array([0.3, 0.8, -0.4, 0.6, 0.9])
W = 0.7
FUNCS = [coupled, triple, triangular, in_branch]


def _fd(fn, x, w, h=1e-6):
    gx = np.zeros_like(x)
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        gx[k] = (fn(up, w) - fn(down, w)) / (2 * h)
    return gx, (fn(x, w + h) - fn(x, w - h)) / (2 * h)


@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
def test_gradients_agree_with_differences_in_every_mode(fn):
    want = _fd(fn, X, W)
    got = [adc.grad(fn, argnums=(0, 1), mode=mode, jit=jit)(X, W)
           for mode, jit in (("reverse", False), ("forward", False), ("reverse", True))]
    np.testing.assert_allclose(got[0][0], want[0], rtol=1e-6, atol=1e-7)
    assert got[0][1] == pytest.approx(want[1], rel=1e-6, abs=1e-7)
    for other in got[1:]:
        np.testing.assert_allclose(other[0], got[0][0], rtol=1e-13, atol=1e-15)
        assert other[1] == pytest.approx(got[0][1], rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("fn, kept", [(coupled, True), (triple, True), (in_branch, True), (triangular, False)],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_records_where_the_trip_counts_are_known(fn, kept):
    text = adc.source(fn, argnums=(0, 1), at=(X, W), compact=True)
    if kept:
        assert re.search(r"\n +s_rec\[at(_\d+)?\] = s\n", text) and "tape" not in text, text
        assert re.search(r"\n +s = s_rec\[at(_\d+)?\]\n", text), text
    else:
        assert "tape.append(s)" in text and "s_rec" not in text, text


@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("jit", [False, True])
def test_second_order_through_the_records(fn, jit):
    hessian = adc.hessian(fn, jit=jit)(X, W)
    want = fd_jacobian_of(lambda x: adc.grad(fn)(x, W), X)
    np.testing.assert_allclose(hessian, want, rtol=1e-6, atol=1e-6)
    v = np.array([0.5, -1.0, 0.25, 2.0, -0.75])
    g, hv = adc.jvp(adc.grad(fn, jit=jit), (X, W), (v, 0.0), jit=jit)
    np.testing.assert_allclose(g, adc.grad(fn)(X, W), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(hv, want @ v, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_jvp_and_vjp_of_a_nested_record_satisfy_the_dot_product_identity(jit):
    u, du = np.array([0.2, -0.1, 0.4, 0.3, -0.5]), 0.6
    _, jv = adc.jvp(triple, (X, W), (u, du), jit=jit)
    _, pullback = adc.vjp(triple, X, W, jit=jit)
    gx, gw = pullback(1.5)
    assert 1.5 * jv == pytest.approx(float(gx @ u) + gw * du, rel=1e-12)


@pytest.mark.parametrize("fn", [coupled, triple], ids=lambda f: f.__name__)
def test_reverse_over_reverse_through_the_records(fn):
    """The gradient program differentiated by reverse mode again: adjoint records of the records."""
    rr = adc.jacrev(adc.grad(fn, argnums=1), argnums=1)(X, W)
    h = 1e-6
    want = (adc.grad(fn, argnums=1)(X, W + h) - adc.grad(fn, argnums=1)(X, W - h)) / (2 * h)
    assert rr == pytest.approx(want, rel=1e-6, abs=1e-6)
    rx = adc.jacrev(adc.grad(fn, argnums=0))(X, W)
    np.testing.assert_allclose(rx, adc.hessian(fn)(X, W), rtol=1e-12, atol=1e-12)


def test_a_checkpointed_nest_gives_the_recorded_gradient():
    text = adc.source(triple, argnums=(0, 1), at=(X, W), compact=True)
    assert "s_rec" in text
    g = adc.grad(triple, argnums=(0, 1), checkpoints=2)(X, W)
    want = adc.grad(triple, argnums=(0, 1))(X, W)
    np.testing.assert_allclose(g[0], want[0], rtol=1e-13)
    assert g[1] == pytest.approx(want[1], rel=1e-13)

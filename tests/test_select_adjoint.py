"""The adjoint of ``min``/``max``/select in a loop: the operand not picked gets exactly 0, and the
reverse of the loop that computed it runs only under the condition that picked it
(``if not closest <= dist: for l in ...``; docs/rules.md)."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of

C = np.array([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7], [-0.6, 0.9, 1.4], [0.2, 0.1, -0.3]])
P = np.array([0.5, -0.2, 0.1])


def nearest(c, p):
    """The squared distance from ``p`` to its nearest row of ``c``, as kmeans' reference loops."""
    closest = math.inf
    for j in range(c.shape[0]):
        dist = 0.0
        for l in range(p.shape[0]):
            t = p[l] - c[j, l]
            dist += t * t
        closest = min(closest, dist)
    return closest


def nearest_scaled(c, p, w):
    """``nearest`` with the differences scaled by ``w``: the reverse of the distance loop also
    sums the adjoint of a scalar from outside it."""
    closest = math.inf
    for j in range(c.shape[0]):
        dist = 0.0
        for l in range(p.shape[0]):
            t = (p[l] - c[j, l]) * w
            dist += t * t
        closest = min(closest, dist)
    return closest


def farthest_inverse(c, p):
    """``max`` over rows of ``-sum 1 / (p - c_j)**2``: a row with a coordinate equal to ``p``'s has
    ``-inf`` (never picked), and an infinite partial that a zero adjoint times would make NaN."""
    best = -math.inf
    for j in range(c.shape[0]):
        s = 0.0
        for l in range(p.shape[0]):
            t = p[l] - c[j, l]
            s -= 1.0 / (t * t)
        best = max(best, s)
    return best


def _fd_grad(fn, c, p, h=1e-6):
    g = np.zeros_like(c)
    for idx in np.ndindex(c.shape):
        up, down = c.copy(), c.copy()
        up[idx] += h
        down[idx] -= h
        g[idx] = (fn(up, p) - fn(down, p)) / (2 * h)
    return g


@pytest.mark.parametrize("fn", [nearest, farthest_inverse])
def test_only_the_picked_operand_gets_an_adjoint(fn):
    want = _fd_grad(fn, C, P)
    assert np.count_nonzero(want) == 3  # one row: the picked one
    grads = [adc.grad(fn, mode=mode, jit=jit)(C, P) for mode, jit in (("reverse", False), ("forward", False),
                                                                      ("reverse", True))]
    np.testing.assert_allclose(grads[0], want, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(grads[1], grads[0])
    np.testing.assert_allclose(grads[2], grads[0], rtol=1e-14)
    assert np.count_nonzero(grads[0]) == 3


def test_an_unpicked_operand_with_infinite_partials_gets_exactly_zero():
    c = C.copy()
    c[1, 2] = P[2]  # row 1: s = -inf, its partial in c[1, 2] is infinite
    want = _fd_grad(farthest_inverse, C, P)  # row 1 not picked either way: the same gradient
    for mode in ("reverse", "forward"):
        with np.errstate(divide="ignore", invalid="ignore"):
            got = adc.grad(farthest_inverse, mode=mode)(c, P)
        assert np.all(np.isfinite(got)) and np.all(got[1] == 0.0)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_the_reverse_loop_runs_under_the_condition_and_second_order_agrees():
    text = adc.source(nearest, at=(C, P), compact=True)
    # a gradient's adjoint here is 1.0 or 0.0 (``masks.constant_valued``): the loop runs only where
    # it is nonzero, for the nearest row, not for every row that was the nearest so far
    assert re.search(r"\n( +)if gdist != 0\.0:\n\1    for l in range\(", text), text
    hvp = adc.source(nearest, mode="hvp", at=(C, P), compact=True)
    assert re.search(r"\n( +)if gdist(_\d+)? != 0\.0:\n\1    for l(_\d+)? in range\(", hvp), hvp
    hessian = adc.hessian(nearest)(C, P).reshape(C.size, C.size)
    want = fd_jacobian_of(lambda c: adc.grad(nearest)(c, P), C).reshape(C.size, C.size)
    np.testing.assert_allclose(hessian, want, rtol=1e-6, atol=1e-6)
    assert np.count_nonzero(hessian) == 3  # 2 on the picked row's diagonal


def test_an_outside_scalar_adjoint_passes_the_skipped_loop_unchanged():
    w, h = 1.5, 1e-6
    gc, gw = adc.grad(nearest_scaled, argnums=(0, 2))(C, P, w)
    assert gw == pytest.approx((nearest_scaled(C, P, w + h) - nearest_scaled(C, P, w - h)) / (2 * h), rel=1e-6)
    np.testing.assert_allclose(gc, w * w * _fd_grad(nearest, C, P), rtol=1e-6, atol=1e-8)
    second = adc.jacrev(adc.grad(nearest_scaled, argnums=2), argnums=2)(C, P, w)  # reverse over reverse
    assert second == pytest.approx(adc.hessian(nearest_scaled, argnums=2)(C, P, w), rel=1e-14)
    assert second == pytest.approx(2.0 * nearest(C, P), rel=1e-12)


def scaled_nearest(c, p, y):
    """``y * nearest``: at ``y = 0`` the adjoint flowing into the distance loop is zero, but its
    derivative in ``y`` is not (the mixed second derivative is ``nearest``'s gradient)."""
    return y * nearest(c, p)


@pytest.mark.parametrize("jit", [False, True])
def test_an_adjoint_that_is_zero_only_here_still_runs_the_loop(jit):
    """Only an adjoint made of constants skips on zero (``if gdist != 0.0``); one that depends on
    an input (``y``) runs under ``min``'s condition, so second order at ``y = 0`` is exact."""
    text = adc.source(scaled_nearest, argnums=(0, 2), at=(C, P, 0.0), compact=True)
    assert "!= 0.0" not in text and re.search(r"\n( +)if not (\w+):\n\1    for l in range\(", text), text
    mixed = adc.jacfwd(adc.grad(scaled_nearest, argnums=0, jit=jit), argnums=2, jit=jit)(C, P, 0.0)
    np.testing.assert_allclose(mixed, adc.grad(nearest)(C, P), rtol=1e-13)
    _, pullback = adc.vjp(nearest, C, P, jit=jit)
    gc, _ = pullback(0.0)  # a zero cotangent: zeros, by the loop under the condition
    assert np.all(gc == 0.0)
    np.testing.assert_allclose(pullback(2.0)[0], 2.0 * adc.grad(nearest)(C, P), rtol=1e-14)

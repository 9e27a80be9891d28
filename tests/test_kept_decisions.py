"""The reverse sweep keeps a decision instead of its operands (``save_policy.keep_decisions``):
when the reverse of a loop body reads two floats only to compare them (``closest <= dist``, which
operand ``min`` picked), the forward sweep computes the comparison and keeps one bool per
iteration (``btape.append(t)``), not the two floats.  Every derivative stays exact: central
differences, forward == reverse == jit, the jvp/vjp dot-product identity, and second order (the jvp
of the gradient) against differences of the gradient."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of

RNG = np.random.default_rng(7)
C = RNG.random((4, 3))
P = RNG.random((6, 3))


def nearest_total(c, pts):
    """kmeans' reference loops: for each point the nearest row's squared distance, summed."""
    total = 0.0
    for i in range(pts.shape[0]):
        total += nearest_of(c, pts, i)
    return total


def nearest_of(c, pts, i):
    """The nearest squared distance of point ``i`` (a helper, inlined)."""
    closest = math.inf
    for j in range(c.shape[0]):
        dist = 0.0
        for l in range(pts.shape[1]):
            t = pts[i, l] - c[j, l]
            dist += t * t
        closest = min(closest, dist)
    return closest


def nearest_each(c, pts):
    """The nearest squared distance of every point (an array: for the dot-product identity)."""
    out = np.zeros(pts.shape[0])
    for i in range(pts.shape[0]):
        out[i] = nearest_of(c, pts, i)
    return out


def farthest_weighted(x, w):
    """``max`` of two products of carried values in one loop (both operands kept otherwise)."""
    best = -math.inf
    s = 1.0
    for i in range(x.shape[0]):
        s = s * w + x[i]
        cand = math.sin(s) * w
        best = max(best, cand)
    return best


def min_read_again(x, y):
    """``min`` whose operand the reverse sweep reads again (``closest * dist``): floats kept."""
    acc = 0.0
    closest = math.inf
    for i in range(x.shape[0]):
        dist = x[i] * y
        dist = dist * dist
        closest = min(closest, dist)
        acc += closest * dist
    return acc


def _fd_grad(fn, args, k, h=1e-6):
    x = args[k]
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up = [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args]
        down = [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args]
        up[k][idx] += h
        down[k][idx] -= h
        g[idx] = (fn(*up) - fn(*down)) / (2 * h)
    return g


def test_the_comparison_is_kept_not_its_operands():
    text = adc.source(nearest_total, at=(C, P), compact=True)
    assert re.search(r"\n +cond = closest <= dist\n +btape\.append\(cond\)\n", text), text
    assert "tape.append(closest)" not in text and "tape.append(dist)" not in text, text
    assert "= btape.pop()" in text and "= tape.pop()" not in text, text


@pytest.mark.parametrize("fn, args", [(nearest_total, (C, P)), (farthest_weighted, (RNG.random(5), 0.7))],
                         ids=["nearest_total", "farthest_weighted"])
def test_gradients_agree_with_differences_in_every_mode(fn, args):
    wrt = (0, 1)
    want = [_fd_grad(fn, args, k) if isinstance(args[k], np.ndarray) else
            (fn(*args[:k], args[k] + 1e-6, *args[k + 1:]) - fn(*args[:k], args[k] - 1e-6, *args[k + 1:])) / 2e-6
            for k in wrt]
    rev = adc.grad(fn, argnums=wrt)(*args)
    fwd = adc.grad(fn, argnums=wrt, mode="forward")(*args)
    jit = adc.grad(fn, argnums=wrt, jit=True)(*args)
    for r, f, j, w in zip(rev, fwd, jit, want):
        np.testing.assert_allclose(r, w, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(f, r, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(j, r, rtol=1e-13, atol=1e-15)


def test_farthest_weighted_keeps_the_decision():
    """``best`` is read only by the comparison, ``cand`` is computed again from ``s``: the loop's
    record keeps the comparison (a bool), not ``best``."""
    text = adc.source(farthest_weighted, at=(RNG.random(5), 0.7), compact=True)
    assert re.search(r"\n +cond = best >= cand\n", text) and "cond_rec[i] = cond" in text, text
    assert "best_rec" not in text and "cond = cond_rec[i]" in text, text


def test_an_operand_read_again_stays_kept():
    x, y = RNG.random(5) + 0.1, 0.8
    text = adc.source(min_read_again, argnums=(0, 1), at=(x, y), compact=True)
    assert "btape" not in text, text  # ``dist`` is read again: keeping the comparison saves nothing
    g = adc.grad(min_read_again, argnums=(0, 1), jit=True)(x, y)
    np.testing.assert_allclose(g[0], _fd_grad(min_read_again, (x, y), 0), rtol=1e-6, atol=1e-7)
    h = 1e-6
    assert g[1] == pytest.approx((min_read_again(x, y + h) - min_read_again(x, y - h)) / (2 * h), rel=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_jvp_and_vjp_satisfy_the_dot_product_identity(jit):
    u, v, w = RNG.standard_normal(C.shape), RNG.standard_normal(P.shape), RNG.standard_normal(P.shape[0])
    out, jv = adc.jvp(nearest_each, (C, P), (u, v), jit=jit)
    np.testing.assert_allclose(out, nearest_each(C, P), rtol=1e-15)
    out2, pullback = adc.vjp(nearest_each, C, P, jit=jit)
    gc, gp = pullback(w)
    assert float(w @ jv) == pytest.approx(float(np.sum(gc * u) + np.sum(gp * v)), rel=1e-12)
    # and both against differences of the function along (u, v)
    h = 1e-6
    want = (nearest_each(C + h * u, P + h * v) - nearest_each(C - h * u, P - h * v)) / (2 * h)
    np.testing.assert_allclose(jv, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("jit", [False, True])
def test_the_jvp_of_the_gradient_gives_the_hessian_diagonal(jit):
    """kmeans' ``direction``: gradient and Hessian diagonal in one forward pass over the gradient."""
    gradient = adc.grad(nearest_total, jit=jit)
    g, hd = adc.jvp(gradient, (C, P), (np.ones_like(C), np.zeros_like(P)), jit=jit)
    np.testing.assert_allclose(g, _fd_grad(nearest_total, (C, P), 0), rtol=1e-6, atol=1e-7)
    hessian = fd_jacobian_of(lambda c: adc.grad(nearest_total)(c, P), C).reshape(C.size, C.size)
    np.testing.assert_allclose(hd.ravel(), hessian.sum(axis=1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(adc.hessian(nearest_total)(C, P).reshape(C.size, C.size), hessian,
                               rtol=1e-6, atol=1e-6)


def sign_then_parity(x):
    """A decision kept (``z[3] >= 0``, for ``abs``) in a ``while`` whose counter the reverse sweep
    computes back (``k -= 1``) for the branch on ``k % 2``: moving the decision into the forward
    sweep once left ``k % 2`` reading ``k`` before it was computed back (a wrong gradient)."""
    y = x * 0.5
    s = 0.0
    k = 0
    while k < 3:
        z = np.empty_like(x)
        z[:] = y * 0.3
        s = s + abs(z[3])
        if k % 2 == 0:
            y = z
        else:
            y = y * 0.9
        k += 1
    return s + np.sum(y * y)


@pytest.mark.parametrize("jit", [False, True])
def test_a_decision_kept_beside_a_counter_computed_back(jit):
    x = np.array([0.3, 0.8, -0.4, 0.6, 0.9])
    want = fd_jacobian_of(sign_then_parity, x)
    code = adc.source(sign_then_parity, argnums=0, at=[x], compact=True)
    assert "btape.append(cond)" in code and "k -= 1" in code
    for mode in ("reverse", "forward"):
        got = adc.grad(sign_then_parity, mode=mode, jit=jit)(x)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=mode)

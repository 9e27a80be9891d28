"""Jacobians of Jacobians (issue 12): ``adc.jacfwd``/``adc.jacrev``/``adc.hessian`` over functions
made by them, in all four combinations of modes, for programs with records, tapes, ``while``,
branches and array writes: against central differences of analytic (or separately tested)
first derivatives, against each other, and against the symmetry of second derivatives."""
from __future__ import annotations

import collections
import math

import numpy as np
import pytest

import adc
import nested_funcs as N
from fd import fd_jacobian_of

X = np.array([0.3, -0.7, 1.1, 0.4])
COMBOS = {
    "fwd_over_rev": lambda f, **kw: adc.jacfwd(adc.jacrev(f), **kw),
    "rev_over_fwd": lambda f, **kw: adc.jacrev(adc.jacfwd(f), **kw),
    "rev_over_rev": lambda f, **kw: adc.jacrev(adc.jacrev(f), **kw),
    "fwd_over_fwd": lambda f, **kw: adc.jacfwd(adc.jacfwd(f), **kw),
}
SCALAR = [(N.recorded, N.recorded_grad), (N.nested_loops, None), (N.branchy, None), (N.writes, None),
          (N.rosen, N.rosen_grad), (N.reshaped, None)]


@pytest.mark.parametrize("combo", list(COMBOS))
@pytest.mark.parametrize("fn,analytic", SCALAR, ids=lambda c: getattr(c, "__name__", "adc"))
def test_four_combinations_give_the_hessian(fn, analytic, combo):
    H = COMBOS[combo](fn)(X)
    np.testing.assert_allclose(H, fd_jacobian_of(analytic or adc.grad(fn), X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H, adc.hessian(fn)(X), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("combo", list(COMBOS))
@pytest.mark.parametrize("fn", [N.vector_loop, N.vector_while])
def test_second_derivatives_of_a_vector_function(fn, combo):
    """``T[i, j, k] = d² f_i / dx_j dx_k``: central differences of the (separately tested) Jacobian,
    symmetric in ``j, k``."""
    x = np.array([0.9, 0.6, -0.4])
    T = COMBOS[combo](fn)(x)
    assert T.shape == np.shape(fn(x)) + x.shape + x.shape
    np.testing.assert_allclose(T, fd_jacobian_of(adc.jacrev(fn), x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(T, np.swapaxes(T, 1, 2), rtol=1e-10, atol=1e-12)


def test_hessian_of_a_vector_function_is_jacfwd_of_jacrev():
    x = np.array([0.9, 0.6, -0.4])
    T = adc.jacfwd(adc.jacrev(N.vector_loop))(x)
    # hessian(f) of a non-scalar f through a Jacobian: hessian(jacrev(f)) is the third derivative
    third = adc.hessian(adc.jacrev(N.vector_loop))(x)
    assert third.shape == (3, 3, 3, 3)
    np.testing.assert_allclose(third, fd_jacobian_of(adc.jacfwd(adc.jacrev(N.vector_loop)), x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(third, np.swapaxes(third, 2, 3), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(third, np.swapaxes(third, 1, 3), rtol=1e-9, atol=1e-10)
    assert T.shape == (3, 3, 3)


@pytest.mark.parametrize("combo", ["fwd_over_rev", "rev_over_fwd"])
def test_under_jit(combo):
    H = COMBOS[combo](N.recorded, jit=True)(X)
    np.testing.assert_allclose(H, fd_jacobian_of(N.recorded_grad, X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("x", [0.3, 2.0])
def test_scalar_while_loop_and_third_derivative(x):
    h = 1e-6
    second = (N.halving_grad(x + h) - N.halving_grad(x - h)) / (2 * h)
    for combo in COMBOS.values():
        assert combo(N.halving)(x) == pytest.approx(second, rel=1e-5)
    # the third derivative: a Jacobian of a Hessian, against differences of the Hessian
    third = adc.jacfwd(adc.hessian(N.halving))(x)
    hess = adc.hessian(N.halving)
    assert third == pytest.approx((hess(x + 1e-5) - hess(x - 1e-5)) / 2e-5, rel=1e-5)
    assert adc.jacrev(adc.jacrev(adc.jacrev(N.halving)))(x) == pytest.approx(third, rel=1e-9)


def two(a, b):
    return np.array([a * a * b, math.sin(a) * b ** 3])


def test_argnums_per_level_gives_mixed_partials():
    a, b = 0.7, -1.2
    d_ab = adc.jacfwd(adc.jacrev(two, argnums=0), argnums=1)(a, b)
    np.testing.assert_allclose(d_ab, [2 * a, math.cos(a) * 3 * b * b], rtol=1e-12)
    d_ba = adc.jacrev(adc.jacfwd(two, argnums=1), argnums=0)(a, b)
    np.testing.assert_allclose(d_ba, d_ab, rtol=1e-12)


def sin_y2(x, y):
    return np.sum(np.sin(x) * y ** 2)


def sin_y2_blocks(x, y):
    """The four blocks of the Hessian of ``sin_y2``, written out: ``d[i][j] = d2 / d args[i] d args[j]``."""
    return ((np.diag(-np.sin(x) * y ** 2), np.diag(2 * y * np.cos(x))),
            (np.diag(2 * y * np.cos(x)), np.diag(2 * np.sin(x))))


XY = (np.array([0.3, 0.5]), np.array([1.0, 2.0]))


@pytest.mark.parametrize("combo", list(COMBOS))
def test_tuple_argnums_at_every_level(combo):
    """JAX's structure: the inner level's tuple outside, the outer level's inside,
    ``((d00, d01), (d10, d11))``, block ``ij`` of shape ``args[i].shape + args[j].shape``."""
    outer, inner = {"fwd_over_rev": (adc.jacfwd, adc.jacrev), "rev_over_fwd": (adc.jacrev, adc.jacfwd),
                    "rev_over_rev": (adc.jacrev, adc.jacrev), "fwd_over_fwd": (adc.jacfwd, adc.jacfwd)}[combo]
    got = outer(inner(sin_y2, argnums=(0, 1)), argnums=(0, 1))(*XY)
    assert isinstance(got, tuple) and all(isinstance(row, tuple) and len(row) == 2 for row in got) and len(got) == 2
    for row, want_row in zip(got, sin_y2_blocks(*XY)):
        for block, want in zip(row, want_row):
            assert block.shape == (2, 2)
            np.testing.assert_allclose(block, want, rtol=1e-12, atol=1e-14)
    # one level with a tuple, the other with one index: a tuple of blocks
    d_x = outer(inner(sin_y2, argnums=(0, 1)), argnums=0)(*XY)
    np.testing.assert_allclose(d_x[1], sin_y2_blocks(*XY)[1][0], rtol=1e-12, atol=1e-14)
    d_y = outer(inner(sin_y2, argnums=1), argnums=(0, 1))(*XY)
    np.testing.assert_allclose(d_y[0], sin_y2_blocks(*XY)[1][0], rtol=1e-12, atol=1e-14)


def test_hessian_with_a_tuple_argnums():
    a, b = 0.7, -1.2
    H = adc.hessian(two, argnums=(0, 1))(a, b)
    assert isinstance(H, tuple) and H[0][1].shape == (2,)  # two returns a 2-vector: out.shape + () + ()
    np.testing.assert_allclose(H[0][1], [2 * a, math.cos(a) * 3 * b * b], rtol=1e-12)
    np.testing.assert_allclose(H[1][0], H[0][1], rtol=1e-12)
    np.testing.assert_allclose(H[1][1], [0.0, math.sin(a) * 6 * b], rtol=1e-12, atol=1e-14)
    H = adc.hessian(sin_y2, argnums=(0, 1))(*XY)
    np.testing.assert_allclose(H[0][1], sin_y2_blocks(*XY)[0][1], rtol=1e-12)


def sin_b2(p):
    return np.sum(np.sin(p["a"]) * p["b"] ** 2)


def test_hessian_of_a_dict_argument_is_a_dict_of_dicts():
    """JAX's convention: ``H[k][m]`` of shape ``out.shape + p[k].shape + p[m].shape``, keys in the
    argument's order, against central differences of the (dict) gradient and the written-out blocks."""
    p = {"b": XY[1], "a": XY[0]}
    H = adc.hessian(sin_b2)(p)
    assert list(H) == ["b", "a"] and all(list(row) == ["b", "a"] for row in H.values())
    blocks = sin_y2_blocks(p["a"], p["b"])
    index = {"a": 0, "b": 1}
    for k in p:
        for m in p:
            np.testing.assert_allclose(H[k][m], blocks[index[k]][index[m]], rtol=1e-12, atol=1e-14)
            shifted = lambda v: adc.grad(sin_b2)({**p, m: v})[k]  # noqa: E731
            np.testing.assert_allclose(H[k][m], fd_jacobian_of(shifted, p[m]), rtol=1e-6, atol=1e-8)
    for combo in COMBOS.values():
        other = combo(sin_b2)(p)
        for k in p:
            for m in p:
                np.testing.assert_allclose(other[k][m], H[k][m], rtol=1e-12, atol=1e-14)


Pair = collections.namedtuple("Pair", "w b")


def tanh_loss(p, x):
    return np.sum(np.tanh(p.w * x + p.b) ** 2)


def layered(layers):
    return np.sum(np.sin(layers[0]) * layers[1][0] ** 2) * layers[1][1]


def test_structures_of_namedtuples_and_nested_lists():
    """The structure of the argument twice over, as JAX writes it: a Pair of Pairs; a list holding a
    tuple, each of whose leaves holds the whole list again.  Blocks against the symmetry of second
    derivatives."""
    p = Pair(np.array([0.3, -0.2]), 0.5)
    x = np.array([1.0, 2.0])
    H = adc.hessian(tanh_loss)(p, x)
    assert type(H) is Pair and type(H.w) is Pair and type(H.b) is Pair
    assert H.w.w.shape == (2, 2) and H.w.b.shape == (2,) and H.b.w.shape == (2,) and isinstance(H.b.b, float)
    np.testing.assert_allclose(H.w.b, H.b.w, rtol=1e-12)
    np.testing.assert_allclose(H.w.w, fd_jacobian_of(lambda w: adc.grad(tanh_loss)(Pair(w, p.b), x).w, p.w),
                               rtol=1e-6, atol=1e-8)
    layers = [np.array([0.3, 0.1]), (np.array([1.0, 2.0]), 0.7)]
    H = adc.hessian(layered)(layers)
    assert type(H) is list and type(H[1]) is tuple and type(H[1][0]) is list and type(H[1][0][1]) is tuple
    # H[k][m]: k a leaf of layers (layers[1][1] is H[1][1]), m one of layers (H[...][1][0] is layers[1][0])
    assert H[0][1][0].shape == (2, 2) and H[1][1][0].shape == (2,) and isinstance(H[1][1][1][1], float)
    np.testing.assert_allclose(H[0][1][0], H[1][0][0].T, rtol=1e-12)
    np.testing.assert_allclose(H[1][1][0], H[0][1][1], rtol=1e-12)


def two_of_dict(p):
    return np.array([np.sum(p["a"] ** 2 * p["b"]), np.sum(np.cos(p["a"]))])


@pytest.mark.parametrize("combo", list(COMBOS))
def test_second_derivatives_of_a_vector_function_of_a_dict(combo):
    """``T[k][m]`` of shape ``out.shape + p[k].shape + p[m].shape``, against central differences of
    the (dict) Jacobian."""
    p = {"a": np.array([0.4, -0.3, 0.9]), "b": np.array([1.5, 0.5, -1.0])}
    T = COMBOS[combo](two_of_dict)(p)
    for k in p:
        for m in p:
            assert T[k][m].shape == (2, 3, 3)
            shifted = lambda v: adc.jacrev(two_of_dict)({**p, m: v})[k]  # noqa: E731
            np.testing.assert_allclose(T[k][m], fd_jacobian_of(shifted, p[m]), rtol=1e-6, atol=1e-8)


def test_over_an_adc_gradient_third_derivatives_agree():
    T = adc.jacfwd(adc.jacrev(adc.grad(N.rosen)))(X)  # the base is the gradient program
    np.testing.assert_allclose(T, adc.jacfwd(adc.hessian(N.rosen))(X), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(T, fd_jacobian_of(adc.hessian(N.rosen), X), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(T, np.swapaxes(T, 0, 2), rtol=1e-10, atol=1e-10)

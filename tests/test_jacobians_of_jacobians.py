"""Jacobians of Jacobians (issue 12): ``adc.jacfwd``/``adc.jacrev``/``adc.hessian`` over functions
made by them, in all four combinations of modes, for programs with records, tapes, ``while``,
branches and array writes: against central differences of analytic (or separately tested)
first derivatives, against each other, and against the symmetry of second derivatives."""
from __future__ import annotations

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


def test_a_tuple_argnums_inside_is_refused():
    with pytest.raises(adc.DifferentiationError, match="adc.jacrev"):
        adc.jacfwd(adc.jacrev(two, argnums=(0, 1)))(0.7, 1.2)


def test_over_an_adc_gradient_third_derivatives_agree():
    T = adc.jacfwd(adc.jacrev(adc.grad(N.rosen)))(X)  # the base is the gradient program
    np.testing.assert_allclose(T, adc.jacfwd(adc.hessian(N.rosen))(X), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(T, fd_jacobian_of(adc.hessian(N.rosen), X), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(T, np.swapaxes(T, 0, 2), rtol=1e-10, atol=1e-10)

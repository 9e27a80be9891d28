"""Derivatives of functions made by ``adc.jacfwd``, ``adc.jacrev`` and ``adc.hessian`` (issue 12):
``adc.jvp``/``adc.vjp`` of a Jacobian or Hessian (third derivatives), ``adc.grad`` of a Jacobian
that is one number, and Jacobians of Jacobians of functions that return a tuple or read global
arrays.  Against central differences of the (separately tested) Jacobians, against
``<U, jvp(V)> == <vjp(U), V>``, and against the Jacobian of the Jacobian."""
from __future__ import annotations

import numpy as np
import pytest

import adc
import composed_funcs as F
import nested_funcs as N
from fd import fd_jacobian_of

X = np.array([0.9, -0.6, 0.4])
V = np.array([0.3, 1.0, -0.5])
MADE = {"hessian": adc.hessian, "jacfwd": adc.jacfwd, "jacrev": adc.jacrev}
CASES = [("hessian", N.recorded), ("hessian", N.branchy), ("jacrev", N.vector_loop), ("jacfwd", N.vector_while)]


def along(g, x, v, h=1e-6):
    return (np.asarray(g(x + h * v)) - np.asarray(g(x - h * v))) / (2 * h)


@pytest.mark.parametrize("made,fn", CASES, ids=lambda c: getattr(c, "__name__", c))
def test_jvp_of_a_jacobian_is_its_directional_derivative(made, fn):
    J = MADE[made](fn)
    value, tangent = adc.jvp(J, (X,), (V,))
    np.testing.assert_allclose(value, J(X), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(tangent, along(J, X, V), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tangent, adc.jacfwd(J)(X) @ V, rtol=1e-11, atol=1e-12)  # the Jacobian's Jacobian


@pytest.mark.parametrize("made,fn", CASES, ids=lambda c: getattr(c, "__name__", c))
def test_vjp_of_a_jacobian_is_the_transpose_of_its_jvp(made, fn):
    J = MADE[made](fn)
    value, pullback = adc.vjp(J, X)
    U = np.cos(np.arange(value.size)).reshape(value.shape)
    (ct,) = pullback(U)
    assert np.sum(U * adc.jvp(J, (X,), (V,))[1]) == pytest.approx(np.dot(ct, V), rel=1e-11)


def test_jvp_and_vjp_of_a_hessian_of_a_dict_with_a_tuple_argnums():
    """``jvp(hessian(f, argnums=(0, 1)))`` keeps the structure of the Hessian (JAX's: ``H[i]`` has
    argument ``i``'s structure, each leaf a tuple over ``j`` of argument ``j``'s), and its pullback
    takes a cotangent in that structure."""
    p, vp = {"w": np.array([0.4, -0.3, 0.8]), "b": 0.3}, {"w": np.array([1.0, -0.5, 0.25]), "b": -0.7}
    x, vx = np.array([0.5, 1.5, -0.2]), np.array([0.1, 0.0, 2.0])
    Hf = adc.hessian(F.dict_loop, argnums=(0, 1))
    value, tangent = adc.jvp(Hf, (p, x), (vp, vx))
    h = 1e-6
    plus = Hf({k: p[k] + h * vp[k] for k in p}, x + h * vx)
    minus = Hf({k: p[k] - h * vp[k] for k in p}, x - h * vx)
    assert type(tangent[0]) is dict and type(tangent[0]["w"]) is tuple and tangent[0]["w"][1].shape == (3, 3)
    np.testing.assert_allclose(value[0]["w"][0]["b"], Hf(p, x)[0]["w"][0]["b"], rtol=1e-13)
    for got, a, b in zip(leaves(tangent), leaves(plus), leaves(minus)):
        np.testing.assert_allclose(got, (a - b) / (2 * h), rtol=1e-5, atol=1e-6)
    _, pullback = adc.vjp(Hf, p, x)
    ct_p, ct_x = pullback(tangent)  # any cotangent with the Hessian's structure: here its tangent
    total = sum(np.sum(np.asarray(t) ** 2) for t in leaves(tangent))
    assert np.sum(ct_p["w"] * vp["w"]) + ct_p["b"] * vp["b"] + np.dot(ct_x, vx) == pytest.approx(total, rel=1e-10)


def leaves(tree):
    from adc.trees import flatten

    return flatten(tree)[0]


def test_grad_of_a_jacobian_that_is_one_number():
    x = 0.7  # quartic = x^4 + sin x
    assert adc.grad(adc.jacrev(F.quartic))(x) == pytest.approx(12 * x ** 2 - np.sin(x), rel=1e-13)
    assert adc.grad(adc.hessian(F.quartic))(x) == pytest.approx(24 * x - np.cos(x), rel=1e-13)
    value, g = adc.value_and_grad(adc.jacfwd(F.quartic))(x)
    assert (value, g) == pytest.approx((4 * x ** 3 + np.cos(x), 12 * x ** 2 - np.sin(x)), rel=1e-13)
    with pytest.raises(adc.DifferentiationError, match=r"grad needs adc.jacrev\(vector_loop\) to return a scalar, "
                                                       r"but it returns an array of shape \(3, 3\)"):
        adc.grad(adc.jacrev(N.vector_loop))(X)


def test_jacobians_of_a_tuple_are_a_tuple():
    """As JAX's: the result's structure, each leaf that output's Jacobian (shapes differ here)."""
    for made in (adc.jacfwd, adc.jacrev):
        J = made(F.two_outputs)(X)
        assert isinstance(J, tuple) and J[0].shape == (3, 3) and J[1].shape == (3,)
        np.testing.assert_allclose(J[0], fd_jacobian_of(F.first_output, X), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(J[1], fd_jacobian_of(F.second_output, X), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("outer,inner", [("jacfwd", "jacrev"), ("jacrev", "jacfwd")])
def test_jacobian_of_a_jacobian_of_a_tuple(outer, inner):
    """JAX's structure: the result's tuple outside, each block ``out.shape + x.shape + x.shape``."""
    T = MADE[outer](MADE[inner](F.two_outputs))(X)
    assert isinstance(T, tuple) and T[0].shape == (3, 3, 3) and T[1].shape == (3, 3)
    for block, h in zip(T, adc.hessian(F.two_outputs)(X)):  # hessian of a tuple: jacfwd(jacrev(f)), as JAX's
        np.testing.assert_allclose(h, block, rtol=1e-12, atol=1e-14)
    firsts = [adc.jacrev(F.first_output), adc.jacrev(F.second_output)]
    for k, first in enumerate(firsts):  # one output each: separately tested Jacobians
        np.testing.assert_allclose(T[k], fd_jacobian_of(first, X), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(T[k], np.swapaxes(T[k], -1, -2), rtol=1e-10, atol=1e-12)


def test_jacobians_of_jacobians_read_global_arrays(monkeypatch):
    x = np.array([0.2, -0.4, 1.3])
    for _ in range(2):  # the global array is read at every call
        want = np.diag(2 * F.C * F.W * np.cos(2 * x))  # sum(W sin^2 x) C
        np.testing.assert_allclose(adc.jacfwd(adc.jacrev(F.reads_global))(x), want, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(adc.jacrev(adc.jacfwd(F.reads_global), argnums=(0,))(x)[0], want, rtol=1e-12,
                                   atol=1e-14)
        np.testing.assert_allclose(adc.jvp(adc.hessian(F.reads_global), (x,), (V,))[1],
                                   np.diag(-4 * F.C * F.W * np.sin(2 * x) * V), rtol=1e-12, atol=1e-14)
        monkeypatch.setattr(F, "W", np.array([3.0, -1.0, 0.5]))


def test_jvp_of_a_hessian_under_jit():
    np.testing.assert_allclose(adc.jvp(adc.hessian(N.recorded), (X,), (V,), jit=True)[1],
                               adc.jvp(adc.hessian(N.recorded), (X,), (V,))[1], rtol=1e-12, atol=1e-14)


def test_reverse_over_reverse_of_a_loop_carrying_an_array():
    """The adjoint record of a record of arrays holds zero arrays (it held empty placeholders that
    ``grec[t] += g`` could not add into).  Under Numba a taped array is pushed C-contiguous, the
    layout of the tape's placeholder, and a view (``W.T``, which made Numba fail when taped) is taken
    again rather than taped; compiling this program takes Numba over 10 s (it compiles and matches
    the Hessian to 4e-16), so the test reads the generated source instead."""
    from adc.arguments import prepare
    from adc.pipeline import compile_derivative

    xs, W = np.array([[0.5, -1.0], [0.3, 0.8], [-0.2, 0.1]]), np.array([[0.5, -0.3], [0.2, 0.4]])
    g = adc.grad(F.array_state, argnums=1)
    _, pullback = adc.vjp(g, xs, W)
    got = np.array([pullback(e.reshape(W.shape))[1] for e in np.eye(W.size)]).reshape(W.shape + W.shape)
    np.testing.assert_allclose(got, adc.hessian(F.array_state, argnums=1)(xs, W), rtol=1e-11, atol=1e-13)
    source = compile_derivative(g, prepare(g, (xs, W), [0, 1])[1], "vjp", [0, 1], jit=True, load=False).source
    assert ".append(np.ascontiguousarray(" in source and "grec = [np.zeros_like(v) for v in h_rec]" in source
    assert source.count(" = W.T\n") >= 2, source  # the view is taken again where needed, never taped


def test_derivatives_of_jacobians_check_their_inputs():
    H = adc.hessian(N.recorded)
    with pytest.raises(adc.DifferentiationError, match=r"the tangent of x has shape \(2,\), but it must have shape \(3,\)"):
        adc.jvp(H, (X,), (np.ones(2),))
    with pytest.raises(adc.DifferentiationError, match="the tangent of x must have the structure of x"):
        adc.jvp(H, (X,), ({"a": 1.0},))
    with pytest.raises(adc.DifferentiationError, match="has a block of shape"):
        adc.vjp(H, X)[1](np.ones(3))
    with pytest.raises(adc.DifferentiationError, match="takes neither has_aux nor checkpoints"):
        adc.grad(adc.hessian(F.quartic), has_aux=True)
    with pytest.raises(adc.DifferentiationError, match="checkpoints applies"):
        adc.vjp(H, X, checkpoints=2)

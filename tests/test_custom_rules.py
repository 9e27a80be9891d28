"""Custom derivative rules (issue 12, part 2): adc.custom_vjp in reverse mode (and forward mode
through the forward rule's computation), adc.custom_jvp in forward mode; the rules are read like
any code, inlined in loops (residuals recorded), under jit; values against analytic derivatives
and central finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import adc
import custom_funcs as C


def fd(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e.flat[j] = h
        g.flat[j] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def test_clipped_gradient_is_the_rule_not_the_calculus():
    np.testing.assert_allclose(adc.grad(C.f_clip)(np.array([0.01, -0.5])), [2.0, -10.0])


@pytest.mark.parametrize("jit", [False, True])
def test_stable_softplus_rule_in_reverse_mode(jit):
    x = np.array([0.05, -0.3, 800.0])
    g = adc.grad(C.f_soft, jit=jit)(x)
    np.testing.assert_allclose(g, 2.0 / (1.0 + np.exp(-x)), rtol=1e-12)
    assert np.all(np.isfinite(g))
    small = np.array([0.05, -0.3])
    np.testing.assert_allclose(adc.grad(C.f_soft, mode="forward")(small), fd(C.f_soft, small), rtol=1e-6)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_custom_jvp_in_both_modes(mode):
    """Reverse mode transposes the rule's tangent map ``t -> t / (1 + exp(-x))``."""
    x = np.array([0.05, -0.3, 3.0])
    np.testing.assert_allclose(adc.grad(C.f_jvp, mode=mode)(x), sigmoid(x), rtol=1e-12)
    big = np.array([800.0, -800.0])  # the rule is stable where the calculus of log1p(exp(x)) is not
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(adc.grad(C.f_jvp, mode=mode)(big), [1.0, 0.0], atol=1e-300)
    v = np.array([0.5, -1.0, 2.0])
    _, pullback = adc.vjp(C.f_jvp, x)
    assert float(np.dot(pullback(1.0)[0], v)) == pytest.approx(adc.jvp(C.f_jvp, (x,), (v,))[1], rel=1e-12)


@pytest.mark.parametrize("jit", [False, True])
def test_custom_jvp_under_second_order(jit):
    x = np.array([0.05, -0.3, 3.0])
    H = np.diag(sigmoid(x) * (1.0 - sigmoid(x)))  # the rule's own derivative: exact
    np.testing.assert_allclose(adc.hessian(C.f_jvp, jit=jit)(x), H, rtol=1e-12, atol=1e-15)
    if jit:
        return
    for made in (adc.jacrev(adc.grad(C.f_jvp)), adc.jacfwd(adc.jacfwd(C.f_jvp)), adc.jacrev(adc.jacfwd(C.f_jvp)),
                 adc.jacrev(adc.jacrev(C.f_jvp))):
        np.testing.assert_allclose(made(x), H, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_custom_jvp_norm_with_derivative_zero_at_zero(mode):
    assert np.array_equal(adc.grad(C.f_norm, mode=mode)(np.zeros(3)), np.ones(3))
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(adc.grad(C.f_norm, mode=mode)(x), 2.0 * x / 5.0 + 1.0, rtol=1e-14)
    H = 2.0 * (np.eye(2) - np.outer(x, x) / 25.0) / 5.0
    np.testing.assert_allclose(adc.hessian(C.f_norm)(x), H, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(adc.jacrev(adc.grad(C.f_norm))(x), H, rtol=1e-12, atol=1e-15)
    assert np.array_equal(adc.hessian(C.f_norm)(np.zeros(2)), np.zeros((2, 2)))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_custom_jvp_in_a_loop(mode):
    x, w = np.array([0.3, -0.2, 0.5]), 0.7
    gx, gw = adc.grad(C.jvp_in_a_loop, argnums=(0, 1), mode=mode)(x, w)
    np.testing.assert_allclose(gx, fd(lambda v: C.jvp_in_a_loop(v, w), x), rtol=1e-6, atol=1e-9)
    assert gw == pytest.approx(float(fd(lambda v: C.jvp_in_a_loop(x, float(v)), w)), rel=1e-6)


def test_a_nonlinear_jvp_rule_is_refused_in_reverse_mode():
    assert adc.grad(C.f_square, mode="forward")(1.5) == 5.0  # forward mode uses the rule as written: t = 1
    with pytest.raises(adc.UnsupportedError, match=r"custom_funcs.py:\d+:\d+: the jvp rule of square is not linear "
                                                   r"in the tangents"):
        adc.grad(C.f_square)(1.5)


def test_generated_code_shows_the_transposed_rule():
    text = adc.source(C.f_jvp, at=(np.ones(2),))
    assert "return log1pexp(x), t / (1.0 + np.exp(-x))" in text  # the rule's line, as a `# from line` comment
    assert "gt = " in text  # the adjoint of the rule's tangent t


def test_custom_vjp_under_second_order_differentiates_the_rules():
    """As JAX: the gradient program's fwd and bwd code is differentiated (the rule is not applied
    a second time), the same in forward over reverse and reverse over reverse."""
    x = np.array([0.01, -0.5, 0.03])
    # clip: the gradient is 10 clip(20 x); its derivative 200 where |20 x| < 1, else 0
    H = np.diag([200.0, 0.0, 200.0])
    np.testing.assert_allclose(adc.hessian(C.f_clip)(x), H, atol=1e-12)
    np.testing.assert_allclose(adc.jacrev(adc.grad(C.f_clip))(x), H, atol=1e-12)
    np.testing.assert_allclose(adc.jacfwd(adc.jacrev(C.f_clip))(x), H, atol=1e-12)
    # forward mode differentiates fwd (the identity): no clipping
    np.testing.assert_allclose(adc.grad(C.f_clip, mode="forward")(x), 200.0 * x, rtol=1e-14)
    # softplus: the bwd rule g / (1 + exp(-x)), differentiated: 2 sigmoid'(x)
    y = np.array([0.05, -0.3, 2.0])
    Hs = np.diag(2.0 * sigmoid(y) * (1.0 - sigmoid(y)))
    for made in (adc.hessian(C.f_soft), adc.jacrev(adc.grad(C.f_soft)), adc.jacfwd(adc.jacfwd(C.f_soft))):
        np.testing.assert_allclose(made(y), Hs, rtol=1e-12, atol=1e-15)
    # the norm with gradient 0 at 0: the bwd rule's branch, differentiated
    z = np.array([3.0, 4.0])
    Hn = (np.eye(2) - np.outer(z, z) / 25.0) / 5.0
    np.testing.assert_allclose(adc.hessian(C.norm_at_zero)(z), Hn, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(adc.jacrev(adc.grad(C.norm_at_zero))(z), Hn, rtol=1e-12, atol=1e-15)
    assert np.array_equal(adc.hessian(C.norm_at_zero)(np.zeros(2)), np.zeros((2, 2)))


@pytest.mark.parametrize("mode,jit", [("reverse", False), ("reverse", True), ("forward", False)])
def test_rules_in_a_loop_with_container_residuals_and_two_inputs(mode, jit):
    x, w = np.array([0.3, -0.2, 0.5]), 0.7
    gx, gw = adc.grad(C.in_a_loop, argnums=(0, 1), mode=mode, jit=jit)(x, w)
    np.testing.assert_allclose(gx, fd(lambda v: C.in_a_loop(v, w), x), rtol=1e-6, atol=1e-9)
    assert gw == pytest.approx(float(fd(lambda v: C.in_a_loop(x, float(v)), w)), rel=1e-6)


def test_a_norm_whose_derivative_at_zero_is_zero():
    assert np.array_equal(adc.grad(C.norm_at_zero)(np.zeros(3)), np.ones(3))
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(adc.grad(C.norm_at_zero)(x), x / 5.0 + 1.0)


def test_generated_code_shows_the_rule():
    text = adc.source(C.f_soft, at=(np.ones(2),))
    assert "return (g / (1.0 + np.exp(-x)),)" in text  # the bwd rule's line, as a `# from line` comment


def test_a_custom_vjp_function_without_a_rule_is_a_located_error():
    with pytest.raises(adc.UnsupportedError, match=r"no_rule is a custom_vjp function without a rule"):
        adc.grad(C.uses_no_rule)(1.0)


def test_the_function_runs_as_itself_outside_adc():
    assert C.softplus(0.0) == pytest.approx(np.log(2.0))
    assert C.weighted(np.ones(2), np.ones(2)) == 2.0


def test_rules_in_a_loop_under_second_order():
    """custom_vjp and custom_jvp calls inside a loop (residuals recorded): the Hessian in three
    combinations of modes against central differences of the (separately tested) gradient."""
    from fd import fd_jacobian_of

    x = np.array([0.3, -0.2, 0.5])
    for fn in (C.in_a_loop, C.jvp_in_a_loop):
        H = adc.hessian(fn)(x, 0.7)
        np.testing.assert_allclose(H, fd_jacobian_of(lambda v: adc.grad(fn)(v, 0.7), x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(adc.jacrev(adc.grad(fn))(x, 0.7), H, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(adc.jacfwd(adc.jacrev(fn))(x, 0.7), H, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_custom_jvp_of_several_inputs_with_an_int_and_a_constant(mode):
    x, c = 0.7, -1.3
    gx, gc = adc.grad(C.f_power, argnums=(0, 1), mode=mode)(x, c)
    assert gx == pytest.approx(3 * c * x * x + 3.0 * x, rel=1e-14)
    assert gc == pytest.approx(x ** 3, rel=1e-14)
    assert adc.hessian(C.f_power)(x, c) == pytest.approx(6 * c * x + 3.0, rel=1e-14)

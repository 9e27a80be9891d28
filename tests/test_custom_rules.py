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


def test_custom_jvp_in_forward_mode_and_refused_in_reverse():
    x = np.array([0.05, -0.3, 3.0])
    np.testing.assert_allclose(adc.grad(C.f_jvp, mode="forward")(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(adc.jacfwd(C.f_jvp)(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-12)
    with pytest.raises(adc.UnsupportedError, match=r"custom_funcs.py:\d+:\d+: log1pexp has a custom_jvp rule, which "
                                                   r"reverse mode cannot use yet"):
        adc.grad(C.f_jvp)(x)


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

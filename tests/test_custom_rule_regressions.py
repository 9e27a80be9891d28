"""Regressions of custom derivative rules (adc.custom_vjp, adc.custom_jvp), each the smallest
program that showed the bug, checked against worked values (forward == reverse == jit):

- a guarded NumPy function (``np.log`` renders as ``math.log(a) if a > 0 else np.log(a)``) as a
  custom function's value, folded into a larger expression, lost its parentheses;
- a ``fwd`` calling the custom function itself (JAX's docs' pattern) recursed without end;
- a custom function returning its argument (or a view of it) ignored a later write into that
  argument in the derivative; a write into a custom function's result is refused;
- a ``bwd`` returning a number as the cotangent of an array argument was broadcast silently;
- a ``bwd`` returning one cotangent per parameter, defaults included (JAX's rule), was refused.

The functions are at module level: adc reads their source.
"""
from __future__ import annotations

import numpy as np
import pytest

import adc

MODES = [("reverse", False), ("forward", False), ("reverse", True), ("forward", True)]


# -- a guarded function as a custom function's value, folded into an expression --------------------

@adc.custom_jvp
def log_jvp(x):
    return np.log(x)


@log_jvp.defjvp
def log_jvp_rule(primals, tangents):
    (x,), (t,) = primals, tangents
    return log_jvp(x), t / x


def three_logs(a):
    return log_jvp(a) * 3.0


@adc.custom_vjp
def softplus(x):
    return np.log1p(np.exp(x))


def softplus_fwd(x):
    return np.log1p(np.exp(x)), (x,)


def softplus_bwd(res, g):
    (x,) = res
    return (g / (1.0 + np.exp(-x)),)


softplus.defvjp(softplus_fwd, softplus_bwd)


def softplus_sum(a, b):
    c = softplus(a) + softplus(b)
    return c * c


@pytest.mark.parametrize("mode,jit", MODES)
def test_guarded_value_of_a_custom_function_keeps_its_parentheses(mode, jit):
    value, grad = adc.value_and_grad(three_logs, mode=mode, jit=jit)(2.0)
    assert value == pytest.approx(3.0 * np.log(2.0), rel=1e-15)  # was log(2): `* 3.0` bound to the else branch
    assert grad == pytest.approx(1.5, rel=1e-15)
    a, b = 0.5, 2.0
    c = np.log1p(np.exp(a)) + np.log1p(np.exp(b))
    value, grads = adc.value_and_grad(softplus_sum, argnums=(0, 1), mode=mode, jit=jit)(a, b)
    assert value == pytest.approx(c * c, rel=1e-14)
    np.testing.assert_allclose(grads, [2 * c / (1 + np.exp(-a)), 2 * c / (1 + np.exp(-b))], rtol=1e-14)


def test_guarded_value_of_a_custom_function_reads_well():
    line = adc.source(three_logs, mode="forward", compact=True).splitlines()[-1].strip()
    assert line == "return (math.log(a) if a > 0 else np.log(a)) * 3.0, da / a * 3.0"


# -- a fwd rule calling the custom function itself ---------------------------------------------------

@adc.custom_vjp
def flagged(x, sign):
    return x * sign


def flagged_fwd(x, sign):
    return flagged(x, sign), (sign,)  # the plain function here, as in JAX


def flagged_bwd(res, g):
    (sign,) = res
    return (g * sign, 0.0)


flagged.defvjp(flagged_fwd, flagged_bwd)


def use_flagged(x):
    return flagged(x, -1.0) * 2.0


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_fwd_calling_the_custom_function_means_its_plain_function(mode):
    assert adc.value_and_grad(use_flagged, mode=mode)(0.5) == (-1.0, -2.0)


# -- a custom function returning its argument itself, or a view of it ---------------------------------

@adc.custom_vjp
def same(x):
    return x


def same_fwd(x):
    return x, ()


def same_bwd(res, g):
    return (g,)


same.defvjp(same_fwd, same_bwd)


def write_after_same(x):
    y = x * 1.0
    z = same(y)  # z is y
    y[0] = 7.0  # so z[0] is 7.0 too
    return np.sum(z * x)  # 7 x0 + x1 ** 2


@adc.custom_vjp
def head(x):
    return x[:2]


def head_fwd(x):
    return x[:2], ()


def head_bwd(res, g):
    return (np.concatenate((g, np.zeros(1))),)


head.defvjp(head_fwd, head_bwd)


def write_after_head(x):
    y = x * 1.0
    z = head(y)  # a view of y
    y[0] = 7.0
    return np.sum(z * x[:2])  # 7 x0 + x1 ** 2


def write_into_same(x):
    y = x * 1.0
    z = same(y)
    z[0] = 7.0  # writes y[0] too
    return np.sum(y * x)


def write_into_softplus(x):
    z = softplus(x)
    z[0] = 7.0
    return np.sum(z)


@pytest.mark.parametrize("mode,jit", MODES)
def test_custom_function_returning_its_argument_sees_later_writes(mode, jit):
    x = np.array([0.3, -0.5])
    value, grad = adc.value_and_grad(write_after_same, mode=mode, jit=jit)(x.copy())
    assert value == pytest.approx(7 * 0.3 + 0.25, rel=1e-15)
    np.testing.assert_allclose(grad, [7.0, -1.0], rtol=1e-15)  # was [7.3, -1]: z[0] read as x0
    x3 = np.array([0.3, -0.5, 2.0])
    value, grad = adc.value_and_grad(write_after_head, mode=mode, jit=jit)(x3.copy())
    assert value == pytest.approx(7 * 0.3 + 0.25, rel=1e-15)
    np.testing.assert_allclose(grad, [7.0, -1.0, 0.0], rtol=1e-15)


def test_write_into_a_custom_functions_result_that_is_its_argument_is_refused():
    with pytest.raises(adc.UnsupportedError, match="writing into an array the function did not create") as err:
        adc.grad(write_into_same)(np.array([0.3, -0.5]))
    assert err.value.loc.text.strip().startswith("z[0] = 7.0")
    assert "copy" in err.value.hint


@pytest.mark.parametrize("mode,jit", MODES)
def test_write_into_a_custom_functions_new_result(mode, jit):
    """``softplus(x)`` is a new array (made by the rule's function): written like any other."""
    x = np.array([0.3, -0.5])
    value, grad = adc.value_and_grad(write_into_softplus, mode=mode, jit=jit)(x)
    assert value == pytest.approx(7.0 + np.log1p(np.exp(-0.5)), rel=1e-14)
    np.testing.assert_allclose(grad, [0.0, 1.0 / (1.0 + np.exp(0.5))], rtol=1e-14)


# -- the shapes and the number of bwd's cotangents -----------------------------------------------------

@adc.custom_vjp
def sumsq(x):
    return np.sum(x * x)


def sumsq_fwd(x):
    return np.sum(x * x), (x,)


def sumsq_bwd(res, g):
    return (2.0 * g,)  # a number for an array argument


sumsq.defvjp(sumsq_fwd, sumsq_bwd)


def use_sumsq(x):
    return sumsq(x)


def test_number_as_the_cotangent_of_an_array_is_refused():
    with pytest.raises(adc.UnsupportedError, match="returns a number as the cotangent of its input 1, an array "
                                                   "of rank 1") as err:
        adc.grad(use_sumsq)(np.array([0.3, -0.5]))
    assert err.value.loc.line == use_sumsq.__code__.co_firstlineno + 1


@adc.custom_vjp
def power(x, k=2):
    return x ** k


def power_fwd(x, k=2):
    return x ** k, (x, k)


def power_bwd(res, g):
    x, k = res
    return (g * k * x ** (k - 1), 0.0)  # one cotangent per parameter, the default's too (JAX's rule)


power.defvjp(power_fwd, power_bwd)


def square_by_default(x):
    return power(x) * 1.0


def cube(x):
    return power(x, 3) * 1.0


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_cube_passes_every_argument(mode):
    assert adc.value_and_grad(cube, mode=mode)(0.5) == (0.125, 0.75)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_bwd_returns_a_cotangent_for_a_default_not_passed(mode):
    assert adc.value_and_grad(square_by_default, mode=mode)(0.5) == (0.25, 1.0)

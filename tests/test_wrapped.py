"""``adc.grad`` of a function decorated with the user's own ``functools.wraps`` decorator
differentiates the decorated behaviour: adc reads the wrapper's own source, with the wrapped
function a closure value it calls; a wrapper adc cannot read stays a clear error."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import adc
import wrapped_funcs as W


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_decorated_behaviour_is_differentiated(mode):
    x, y = 0.7, 1.3
    ga, gb = adc.grad(W.poly, argnums=(0, 1), mode=mode)(x, y)  # poly is 2 (x^3 y + sin y)
    assert ga == pytest.approx(6 * x * x * y, rel=1e-14)
    assert gb == pytest.approx(2 * (x ** 3 + math.cos(y)), rel=1e-14)
    v = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(adc.grad(W.squares, mode=mode)(v), 4 * v * np.array([1.0, 2.0, 3.0]), rtol=1e-14)
    # shifted: product(x, y) is (x + 1) y^2 x
    assert adc.grad(W.product, mode=mode)(0.4, 2.0) == pytest.approx(4.0 * (2 * 0.4 + 1.0), rel=1e-14)


def test_keywords_defaults_jit_and_second_order():
    assert adc.grad(W.poly)(0.7, y=1.3) == pytest.approx(6 * 0.49 * 1.3, rel=1e-14)
    assert adc.grad(W.with_default)(0.5) == pytest.approx(2 * 2 * 0.5 * 2.0, rel=1e-14)  # 2 x^2 y, y = 2
    assert adc.grad(W.poly, jit=True)(0.7, 1.3) == pytest.approx(6 * 0.49 * 1.3, rel=1e-14)
    assert adc.hessian(W.poly)(0.7, 1.3) == pytest.approx(12 * 0.7 * 1.3, rel=1e-14)
    assert adc.grad(W.product, argnums=1)(0.4, 2.0) == pytest.approx(2 * 1.4 * 2.0 * 0.4, rel=1e-14)


def test_a_decorated_function_called_inside():
    assert adc.grad(W.calls_decorated)(0.7) == pytest.approx(12 * 0.49 + 1.0, rel=1e-14)


def test_a_wrapper_adc_cannot_read_stays_an_error():
    with pytest.raises(adc.DifferentiationError, match="counted is wrapped by a decorator"):
        adc.grad(W.counted)(1.0)
    namespace = {"functools": functools}
    exec("def deco(fn):\n    @functools.wraps(fn)\n    def wrapper(*args):\n        return 3 * fn(*args)\n"
         "    return wrapper\n", namespace)
    hidden = namespace["deco"](W.with_default.__wrapped__)
    with pytest.raises(adc.DifferentiationError, match="with_default is wrapped by a decorator") as info:
        adc.grad(hidden)(1.0)
    assert "hint:" in str(info.value)


def test_a_decorated_adc_made_function_keeps_its_decorator():
    """``functools.wraps`` copies an adc-made function's attributes onto the wrapper; the wrapper is
    still differentiated as it reads (2 * the gradient), never taken for the function it wraps."""
    cube = W.doubled(adc.grad(W.cube))  # 2 * 3 x^2
    assert adc.grad(cube)(3.0) == pytest.approx(36.0, rel=1e-14)
    assert adc.jvp(cube, (3.0,), (1.0,))[1] == pytest.approx(36.0, rel=1e-14)
    with pytest.raises(adc.UnsupportedError, match="made by adc.jacrev"):  # a Jacobian called inside
        adc.jacfwd(W.doubled(adc.jacrev(W.cube)))(3.0)
    with pytest.raises(adc.DifferentiationError, match=r"made by adc.grad of a Jacobian \(cube\)"):
        adc.jacfwd(adc.grad(adc.jacrev(W.cube)))(3.0)

"""Global and closure arrays are inputs of the generated code, read at every call (issue 11,
item 3): every transform, both modes and jit, against central finite differences; a change in
place and a rebinding are seen on the next call."""
from __future__ import annotations

import numpy as np
import pytest

import adc
import captured_funcs as C


def fd(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


B = np.array([0.1, -0.2])


@pytest.mark.parametrize("mode,jit", [("reverse", False), ("forward", False), ("reverse", True), ("forward", True)])
def test_grad_reads_the_current_global_arrays(mode, jit, monkeypatch):
    monkeypatch.setattr(C, "W", C.W.copy())
    g = adc.grad(C.uses_global, mode=mode, jit=jit)
    np.testing.assert_allclose(g(B), fd(C.uses_global, B), rtol=1e-6, atol=1e-9)
    C.W[0, 0] = 2.0  # in place
    np.testing.assert_allclose(g(B), fd(C.uses_global, B), rtol=1e-6, atol=1e-9)
    monkeypatch.setattr(C, "X", np.array([3.0, -1.0]))  # rebound
    np.testing.assert_allclose(g(B), fd(C.uses_global, B), rtol=1e-6, atol=1e-9)


def test_closure_arrays_jvp_vjp_and_hessian():
    loss = C.make_loss(np.array([1.0, 3.0]))
    p = np.array([0.3, 0.4])
    want = fd(loss, p)
    np.testing.assert_allclose(adc.grad(loss)(p), want, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(adc.grad(loss, jit=True)(p), want, rtol=1e-6, atol=1e-9)
    v = np.array([0.7, -1.1])
    _, tangent = adc.jvp(C.uses_global, (B,), (v,))
    _, pullback = adc.vjp(C.uses_global, B)
    assert np.isclose(tangent, pullback(1.0)[0] @ v, rtol=1e-12)
    np.testing.assert_allclose(pullback(1.0)[0], fd(C.uses_global, B), rtol=1e-6, atol=1e-9)
    H = adc.hessian(C.uses_global)(B)
    g = adc.grad(C.uses_global)
    np.testing.assert_allclose(H, np.array([(g(B + 1e-6 * e) - g(B - 1e-6 * e)) / 2e-6 for e in np.eye(2)]),
                               rtol=1e-5, atol=1e-7)


def test_generated_code_takes_them_as_parameters():
    text = adc.source(C.make_loss(np.array([1.0, 3.0])), at=(np.ones(2),))
    assert "def loss_grad(p, data, target, W):" in text


def test_a_global_array_reshaped_in_place_is_recompiled_for(monkeypatch):
    monkeypatch.setattr(C, "X", np.array([1.0, 2.0]))
    g = adc.grad(C.uses_global)
    g(B)
    C.X.shape = (2, 1)  # same object, new rank: the derivative is made again for it
    np.testing.assert_allclose(g(B), fd(C.uses_global, B), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("mode,jit", [("reverse", False), ("forward", False), ("reverse", True)])
def test_lambda_closing_over_arrays(mode, jit):
    """JAX's idiom `grad(lambda w: loss(w, X, y))`: the lambda is read from its source line."""
    f = C.make_lambda(np.array([1.0, 3.0]))
    w = np.array([0.3, -0.4])
    np.testing.assert_allclose(adc.grad(f, mode=mode, jit=jit)(w), fd(f, w), rtol=1e-6, atol=1e-9)
    assert adc.grad(C.with_default)(1.5) == pytest.approx(2.0 + 3 * 1.5 ** 2)
    assert adc.grad(C.with_default, argnums=(0, 1))(1.5, 3.0) == pytest.approx((3.0 + 3 * 1.5 ** 2, 1.5))
    assert "def lambda__grad(w, data, target):" in adc.source(f, at=(w,))


@pytest.mark.parametrize("jit", [False, True])
def test_functools_partial(jit):
    import functools

    w = np.array([0.3, -0.4])
    f = functools.partial(C.scaled_loss, X=C.W, y=C.X, scale=2.0)
    np.testing.assert_allclose(adc.grad(f, jit=jit)(w), fd(f, w), rtol=1e-6, atol=1e-9)
    g = functools.partial(C.scaled_loss, w)  # argnums count the call's arguments, as in JAX
    assert adc.grad(g, argnums=2)(C.W, C.X, 3.0) == pytest.approx(np.sum((C.W @ w - C.X) ** 2))
    value, grad = adc.value_and_grad(f)(w)
    assert value == pytest.approx(f(w))

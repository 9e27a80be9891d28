"""Hessians by forward mode over reverse mode (in the IR), and slice writes."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of


def scalar_fn(a, b):
    return math.exp(a * b) + a ** 3 - math.sin(b)


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def slice_writes(x):
    y = np.zeros_like(x)
    y[1:] = x[:-1] * 2.0
    y[0] = x[-1]
    return np.sum(y * y * x)


def writes_into_view(x):
    y = x.copy()
    z = y[1:]
    z[0] = 1.0
    return np.sum(y)


def with_loop(x):
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i]) * s
    return s


def test_scalar_hessian_entries():
    a, b = 0.5, 2.0
    assert adc.hessian(scalar_fn, 0)(a, b) == pytest.approx(b * b * math.exp(a * b) + 6 * a, rel=1e-12)
    assert adc.hessian(scalar_fn, 1)(a, b) == pytest.approx(a * a * math.exp(a * b) + math.sin(b), rel=1e-12)


def test_rosenbrock_hessian_matches_known_values_and_fd():
    x = np.array([1.2, 0.8, -0.5])
    h = adc.hessian(rosen)(x)
    expected = np.array([[1410.0, -480.0, 0.0], [-480.0, 1170.0, -320.0], [0.0, -320.0, 200.0]])
    np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(h, fd_jacobian_of(adc.grad(rosen), x), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(h, h.T, rtol=1e-12)


def test_slice_writes_both_modes_and_second_order():
    x = np.array([1.2, 0.8, -0.5, 0.3])
    g_rev = adc.grad(slice_writes)(x)
    g_fwd = adc.grad(slice_writes, mode="forward")(x)
    h = 1e-6
    fd = np.array([(slice_writes(x + h * e) - slice_writes(x - h * e)) / (2 * h) for e in np.eye(4)])
    np.testing.assert_allclose(g_rev, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-12, atol=1e-14)
    hess = adc.hessian(slice_writes)(x)
    np.testing.assert_allclose(hess, fd_jacobian_of(adc.grad(slice_writes), x), rtol=1e-6, atol=1e-6)


def test_writing_into_a_view_is_rejected():
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(writes_into_view)(np.ones(3))
    assert "copy" in str(info.value)


def test_hessian_of_loop_code_with_a_record():
    # forward over reverse in the IR: the record of ``s`` gets a tangent record
    x = np.array([0.1, 0.2, -0.4])
    h = adc.hessian(with_loop)(x)
    np.testing.assert_allclose(h, fd_jacobian_of(adc.grad(with_loop), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-15)


def sum_squared(x):
    return np.sum(x) ** 2


def mean_squared(x):
    return np.mean(x) ** 2


def broadcast_scale(s, x):
    return np.sum(np.broadcast_to(s, x.shape) * x)


def tanh_sum(X, b):
    return np.sum(np.tanh(X + b))


def test_hessian_through_reductions_is_not_zero():
    x = np.array([0.3, -1.2, 0.7])
    np.testing.assert_allclose(adc.hessian(sum_squared)(x), np.full((3, 3), 2.0), rtol=1e-12)
    np.testing.assert_allclose(adc.hessian(mean_squared)(x), np.full((3, 3), 2.0 / 9.0), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_broadcast_to_is_differentiable(mode):
    x = np.array([0.5, -2.0, 1.5])
    gs, gx = adc.grad(broadcast_scale, argnums=(0, 1), mode=mode)(0.7, x)
    assert gs == pytest.approx(np.sum(x), rel=1e-12)
    np.testing.assert_allclose(gx, np.full(3, 0.7), rtol=1e-12)


def test_returned_gradients_never_share_memory():
    X = np.array([[0.1, 0.2], [0.3, -0.4]])
    b = np.array([[0.5, -0.1], [0.0, 0.2]])
    gX, gb = adc.grad(tanh_sum, argnums=(0, 1))(X, b)
    np.testing.assert_allclose(gX, gb)
    assert gX is not gb and not np.shares_memory(gX, gb)

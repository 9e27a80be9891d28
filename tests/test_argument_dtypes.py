"""Integer and float32 arguments, the same derivative through every transform.

- ``jvp`` and ``vjp`` count integer arrays (and containers with integer leaves) as real numbers,
  as ``grad``, ``jacfwd`` and ``jacrev`` do and as they already did for integer numbers, unless
  the function uses them as integers (an index): then they pass through with no tangent.  Before,
  ``jvp`` dropped an integer array's tangent (its result was the derivative along the other
  arguments only) and ``vjp`` gave it a zero cotangent, where ``jacfwd`` gave the derivative.
- ``jacrev`` of a float32 argument gives a float32 Jacobian, as ``jacfwd`` and ``grad`` do (and
  JAX); it gave float64.
"""
from __future__ import annotations

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of

W = np.array([1.0, -2.0, 0.5])
Y = np.array([0, 3, -1])
U = np.array([0.3, -1.1, 2.0])


def squared_error(w, y):
    return np.sum((w - y) ** 2 * np.cos(w))


def squares(x):
    return x * x + np.sin(x)


def picked(w, idx):
    return np.sum(w[idx] * w[idx])


def from_dict(p):
    return np.sum(p["w"] * p["y"] ** 2)


@pytest.mark.parametrize("jit", [False, True])
def test_jvp_of_an_integer_array_is_the_jacobians_product(jit):
    y = Y.astype(float)
    for v_w, v_y in [(np.zeros(3), U), (U, np.ones(3)), (U, -U)]:
        value, tangent = adc.jvp(squared_error, (W, Y), (v_w, v_y), jit=jit)
        j_w, j_y = adc.jacfwd(squared_error, argnums=(0, 1))(W, y)
        assert value == pytest.approx(squared_error(W, y), rel=1e-14)
        assert tangent == pytest.approx(j_w @ v_w + j_y @ v_y, rel=1e-12, abs=1e-12)
        fd_y = fd_jacobian_of(lambda t: squared_error(W, t), y)
        assert j_y == pytest.approx(fd_y, rel=1e-6, abs=1e-7)
    # elementwise output: the tangent along an integer array is J @ v
    x = np.array([1, 2, -3])
    _, tangent = adc.jvp(squares, (x,), (U,), jit=jit)
    assert tangent == pytest.approx(fd_jacobian_of(squares, x) @ U, rel=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_vjp_and_jvp_of_an_integer_array_agree(jit):
    """``<vjp(u), v> == <u, jvp(v)>`` with the integer array among the arguments."""
    x = np.array([1, 2, -3])
    _, pullback = adc.vjp(squares, x, jit=jit)
    (ct,) = pullback(U)
    assert ct.dtype == np.float64
    _, tangent = adc.jvp(squares, (x,), (W,), jit=jit)
    assert float(ct @ W) == pytest.approx(float(U @ tangent), rel=1e-12)
    _, pullback = adc.vjp(squared_error, W, Y, jit=jit)
    ct_w, ct_y = pullback(1.0)
    j_w, j_y = adc.jacrev(squared_error, argnums=(0, 1))(W, Y)
    assert ct_w == pytest.approx(j_w, rel=1e-12) and ct_y == pytest.approx(j_y, rel=1e-12)
    assert ct_y == pytest.approx(fd_jacobian_of(lambda t: squared_error(W, t), Y.astype(float)), rel=1e-6)


def test_an_integer_array_used_as_an_index_passes_through():
    idx = np.array([2, 0, 2])
    value, tangent = adc.jvp(picked, (W, idx), (U, np.ones(3)))
    assert value == pytest.approx(picked(W, idx))
    assert tangent == pytest.approx(2 * (2 * W[2] * U[2] + W[0] * U[0]), rel=1e-12)
    _, pullback = adc.vjp(picked, W, idx)
    g_w, g_idx = pullback(1.0)
    assert g_w == pytest.approx([2 * W[0], 0.0, 4 * W[2]], rel=1e-12)
    assert g_idx.dtype.kind == "i" and not g_idx.any()


def test_a_dict_with_an_integer_leaf_is_differentiated_whole():
    p = {"w": W, "y": Y}
    _, tangent = adc.jvp(from_dict, (p,), ({"w": U, "y": np.ones(3)},))
    assert tangent == pytest.approx(float(U @ Y ** 2 + 2 * W @ Y), rel=1e-12)
    _, pullback = adc.vjp(from_dict, p)
    (g,) = pullback(1.0)
    assert g["y"] == pytest.approx(2 * W * Y, rel=1e-12) and g["w"] == pytest.approx(Y ** 2.0)


@pytest.mark.parametrize("transform", [adc.jacfwd, adc.jacrev])
def test_jacobians_of_float32_arguments_are_float32(transform):
    x = np.array([1.0, 2.0, -0.5], dtype=np.float32)
    jac = transform(squares)(x)
    assert jac.dtype == np.float32
    assert jac == pytest.approx(np.diag(2 * x.astype(float) + np.cos(x.astype(float))), rel=1e-6)
    # a float64 output: JAX's jacrev gives the input's dtype, its jacfwd the output's
    j_x, j_w = transform(squared_error, argnums=(0, 1))(x, W)
    assert j_x.dtype == (np.float32 if transform is adc.jacrev else np.float64) and j_w.dtype == np.float64
    assert j_x == pytest.approx(fd_jacobian_of(lambda t: squared_error(t, W), x.astype(float)), rel=1e-5)

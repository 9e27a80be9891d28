"""Integer and float32 arguments.

- ``jvp`` passes an integer array through as data (labels, indices; JAX's ``float0``), and a
  tangent other than zero for one is now refused: ``jvp`` left it out silently, so its result was
  the derivative along the other arguments only, where ``jacfwd`` (which converts what ``argnums``
  selects) differentiates along it.  ``vjp`` gives such an array a zero integer cotangent.
- ``jacrev`` of a float32 argument gives a float32 Jacobian, as ``jacfwd`` and ``grad`` do (and
  JAX); it gave float64.
"""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.errors import DifferentiationError
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


def masked_sum(w, m):
    return np.sum(np.where(m, w, 0.0) ** 2)


def from_dict(p):
    return np.sum(p["w"] * p["y"] ** 2)


@pytest.mark.parametrize("jit", [False, True])
def test_a_tangent_along_an_integer_array_is_refused(jit):
    with pytest.raises(DifferentiationError, match="tangent of y is not zero, but y is an integer or boolean array.*astype"):
        adc.jvp(squared_error, (W, Y), (U, np.ones(3)), jit=jit)
    # zero tangents pass: the derivative along w alone, as jacfwd's
    value, tangent = adc.jvp(squared_error, (W, Y), (U, np.zeros(3, dtype=int)), jit=jit)
    j_w = adc.jacfwd(squared_error)(W, Y)
    assert value == pytest.approx(squared_error(W, Y), rel=1e-14)
    assert tangent == pytest.approx(float(j_w @ U), rel=1e-12)
    assert j_w == pytest.approx(fd_jacobian_of(lambda w: squared_error(w, Y), W), rel=1e-6, abs=1e-8)
    # every call checks (the fast path included), and a float copy differentiates along it
    with pytest.raises(DifferentiationError, match="integer or boolean array"):
        adc.jvp(squared_error, (W, Y), (U, np.array([0, 1, 0])), jit=jit)
    with pytest.raises(DifferentiationError, match="boolean array"):
        adc.jvp(masked_sum, (W, Y > 0), (U, np.ones(3)), jit=jit)
    _, tangent = adc.jvp(squared_error, (W, Y.astype(float)), (U, np.ones(3)), jit=jit)
    j_w, j_y = adc.jacfwd(squared_error, argnums=(0, 1))(W, Y)
    assert tangent == pytest.approx(float(j_w @ U + j_y @ np.ones(3)), rel=1e-12)


def test_integer_leaves_of_a_container_and_cotangents():
    with pytest.raises(DifferentiationError, match=r"tangent of p\['y'\] is not zero"):
        adc.jvp(from_dict, ({"w": W, "y": Y},), ({"w": U, "y": np.ones(3)},))
    _, pullback = adc.vjp(squared_error, W, Y)
    g_w, g_y = pullback(1.0)
    assert g_w == pytest.approx(adc.grad(squared_error)(W, Y), rel=1e-14)
    assert g_y.dtype.kind == "i" and not g_y.any()


def test_an_integer_array_used_as_an_index_passes_through():
    idx = np.array([2, 0, 2])
    value, tangent = adc.jvp(picked, (W, idx), (U, np.zeros(3)))
    assert value == pytest.approx(picked(W, idx))
    assert tangent == pytest.approx(2 * (2 * W[2] * U[2] + W[0] * U[0]), rel=1e-12)
    _, pullback = adc.vjp(picked, W, idx)
    g_w, g_idx = pullback(1.0)
    assert g_w == pytest.approx([2 * W[0], 0.0, 4 * W[2]], rel=1e-12)
    assert g_idx.dtype.kind == "i" and not g_idx.any()


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

"""Bitwise operators on integers and bools: masks combined with ``&``, ``|``, ``^``, ``~``; bits
tested with shifts; NumPy's ``bitwise_*``, ``left_shift``/``right_shift``, ``invert`` and
``logical_*``.  They carry no derivative; what they decide must route the derivative exactly as
Python and NumPy do, in both modes and under jit."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of


def central_diff(fn, x):
    """Central differences of a scalar ``fn`` at a number or an array ``x``."""
    if np.ndim(x) == 0:
        return (fn(x + 1e-6) - fn(x - 1e-6)) / 2e-6
    return fd_jacobian_of(fn, x)


def masked(x):
    m = (x > 0) & (x < 2) | (x > 2.5)
    m2 = np.logical_and(m, ~(x > 1.5))
    return np.sum(np.where(m2 ^ (x < -0.5), x * x, x))


def masked_numpy(x):
    m = np.bitwise_or(np.bitwise_and(x > 0, x < 2), x > 2.5)
    m2 = np.logical_and(m, np.invert(x > 1.5))
    return np.sum(np.where(np.logical_xor(m2, x < -0.5), x * x, x))


def truth_values(x, y):
    """``np.logical_*`` of numbers that are not bools: their truth values (``x != 0``)."""
    k = np.logical_or(np.floor(x), 0)
    j = np.logical_not(np.logical_and(np.floor(y), y > 0.5))
    return np.sum(np.where(k, np.sin(x), y * y)) + np.sum(np.where(j, x * y, 0.0))


def bits(x, n):
    s = 0.0
    for j in range(5):
        if n >> j & 1:
            s = s + x * j
        b = n ^ j
        s = s + x * (b | 2) + x * (~j) + x * (j << 2)
    return s


def bits_numpy(x, n):
    s = 0.0
    for j in range(5):
        if np.bitwise_and(np.right_shift(n, j), 1):
            s = s + x * j
        b = np.bitwise_xor(n, j)
        s = s + x * np.bitwise_or(b, 2) + x * np.invert(j) + x * np.left_shift(j, 2)
    return s


def augmented(x, n):
    m = x > 0
    m &= x < 2
    m |= x > 2.5
    m ^= x < -0.5
    k = n
    k <<= 2
    k >>= 1
    k &= 6
    k |= 1
    k ^= 8
    return np.sum(np.where(m, x * x, x)) * k


def precedence(x, a, b, c):
    """Each pair differs: adc's generated code must keep Python's grouping."""
    p = (a | b) & c
    q = a | b & c
    r = (a + b) << c
    t = a + (b << c)
    u = (a & b) == c
    w = a & (b == c)
    z = a ^ b | c
    return x * p + x * x * q + x * r + x * x * x * t + x * u + 2.0 * x * w + x * z


def subset_sum(x, used):
    """The bit pattern of a loop-carried integer chooses the terms (the form of det by minors)."""
    total = 0.0
    for j in range(x.shape[0]):
        if used & (1 << j) == 0:
            total = total + x[j] * x[j]
            used = used | (1 << j)
    return total


X = np.array([-1.0, -0.6, 0.3, 0.9, 1.2, 1.7, 2.2, 2.8, 3.1])


@pytest.mark.parametrize("fn", [masked, masked_numpy])
def test_masks_route_the_gradient(fn):
    g = adc.grad(fn)(X)
    # worked: where the combined mask holds, d(x*x) = 2x; elsewhere d(x) = 1
    m2 = (((X > 0) & (X < 2)) | (X > 2.5)) & ~(X > 1.5)
    chosen = m2 ^ (X < -0.5)
    np.testing.assert_allclose(g, np.where(chosen, 2.0 * X, 1.0), rtol=1e-12)
    np.testing.assert_allclose(g, central_diff(fn, X), rtol=1e-6, atol=1e-8)
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(fn, jit=jit)(X), g, rtol=1e-12)
        np.testing.assert_allclose(adc.jacfwd(fn, jit=jit)(X), g, rtol=1e-12)
    assert adc.value_and_grad(fn)(X)[0] == pytest.approx(fn(X), rel=1e-12)


def test_logical_functions_take_truth_values():
    x = np.array([0.5, 1.5, -0.7, 2.2, 0.1])
    y = np.array([1.3, 0.2, 0.8, 1.9, 0.6])
    value, (gx, gy) = adc.value_and_grad(truth_values, argnums=(0, 1))(x, y)
    assert value == pytest.approx(truth_values(x, y), rel=1e-12)
    np.testing.assert_allclose(gx, central_diff(lambda v: truth_values(v, y), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gy, central_diff(lambda v: truth_values(x, v), y), rtol=1e-6, atol=1e-8)
    for jit in (False, True):
        jx, jy = adc.jacfwd(truth_values, argnums=(0, 1), jit=jit)(x, y)
        np.testing.assert_allclose(jx, gx, rtol=1e-12)
        np.testing.assert_allclose(jy, gy, rtol=1e-12)


@pytest.mark.parametrize("fn", [bits, bits_numpy])
@pytest.mark.parametrize("jit", [False, True])
def test_bits_of_an_integer(fn, jit):
    # n = 11 = 0b1011: bits 0, 1 and 3 give 0 + 1 + 3; (11 ^ j) | 2 sums to 57, ~j to -15, j << 2 to 40
    assert adc.grad(fn, jit=jit)(1.5, 11) == pytest.approx(86.0, rel=1e-12)
    assert fn(1.5, 11) == pytest.approx(1.5 * 86.0, rel=1e-12)
    assert adc.value_and_grad(fn, jit=jit)(1.5, 11)[0] == pytest.approx(1.5 * 86.0, rel=1e-12)
    _, tangent = adc.jvp(fn, (1.5, 11), (1.0, 0.0), jit=jit)
    assert tangent == pytest.approx(86.0, rel=1e-12)


@pytest.mark.parametrize("jit", [False, True])
def test_augmented_bitwise_assignments(jit):
    # k: 3 << 2 = 12, >> 1 = 6, & 6 = 6, | 1 = 7, ^ 8 = 15
    value, g = adc.value_and_grad(augmented, jit=jit)(X, 3)
    assert value == pytest.approx(augmented(X, 3), rel=1e-12)
    m = (((X > 0) & (X < 2)) | (X > 2.5)) ^ (X < -0.5)
    np.testing.assert_allclose(g, 15.0 * np.where(m, 2.0 * X, 1.0), rtol=1e-12)


@pytest.mark.parametrize("jit", [False, True])
def test_generated_code_keeps_pythons_grouping(jit):
    a, b, c = 1, 2, 4
    # p = 0, q = 1, r = 48, t = 33, u = False, w = 0, z = 7
    assert precedence(2.0, a, b, c) == pytest.approx(2.0 * 0 + 4.0 * 1 + 2.0 * 48 + 8.0 * 33 + 0 + 0 + 2.0 * 7)
    g = adc.grad(precedence, jit=jit)(2.0, a, b, c)
    assert g == pytest.approx(0 + 4.0 * 1 + 48 + 12.0 * 33 + 0 + 0 + 7, rel=1e-12)
    assert adc.jvp(precedence, (2.0, a, b, c), (1.0, 0, 0, 0), jit=jit)[1] == pytest.approx(g, rel=1e-12)
    assert adc.grad(precedence, jit=jit)(2.0, 3, 5, 5) == pytest.approx(
        central_diff(lambda v: precedence(v, 3, 5, 5), 2.0), rel=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_loop_carried_bit_pattern(jit):
    x = np.array([0.4, -1.3, 2.2, 0.7])
    for used in (0, 0b0101, 0b1111):
        g = adc.grad(subset_sum, jit=jit)(x, used)
        free = np.array([not used & (1 << j) for j in range(4)])
        np.testing.assert_allclose(g, np.where(free, 2.0 * x, 0.0), rtol=1e-12)
        np.testing.assert_allclose(adc.jacfwd(subset_sum, jit=jit)(x, used), g, rtol=1e-12)


def float_and(x):
    return x & 1


def float_bitwise_and(x):
    return np.sum(np.bitwise_and(x, x > 0))


def invert_condition(x):
    if ~(x > 0):
        return x
    return -x


def invert_float(x):
    return np.sum(~x)


def numpy_invert_condition(x):
    if np.invert(x > 0):
        return x * x
    return -x


def sum_of_conditions(x):
    s = 0.0
    for i in range(x.shape[0]):
        c = x[i] > 0.0
        d = i > 3
        s = s + x[i] * (c + d)
    return s


def difference_of_conditions(x, y):
    return x * ((x > 0.0) - (y > 0.0))


def negated_condition(x):
    c = x[0] > 0.0
    return x[0] * (-c)


def counted_conditions(x):
    s = 0.0
    for i in range(x.shape[0]):
        c = x[i] > 0.0
        d = i > 3
        s = s + x[i] * (int(c) + int(d)) + x[i] * (c | d) + x[i] * (c * 2.0)
    return s


@pytest.mark.parametrize("jit", [False, True])
def test_conditions_counted_or_combined(jit):
    """Where `c + d` of two conditions is ambiguous (True for NumPy's bools, 2 for Python's, which
    jit=True gave), `int(c) + int(d)` counts and `c | d` combines."""
    x = X[:8]
    weights = np.array([int(v > 0) + int(i > 3) + int(v > 0 or i > 3) + 2 * int(v > 0) for i, v in enumerate(x)])
    value, g = adc.value_and_grad(counted_conditions, jit=jit)(x)
    assert value == pytest.approx(float(np.dot(x, weights)), rel=1e-12)
    np.testing.assert_allclose(g, weights, rtol=1e-12)


@pytest.mark.parametrize("fn, at, message, line", [
    (sum_of_conditions, (X,), "`+` of two conditions", "s = s + x[i] * (c + d)"),
    (difference_of_conditions, (0.5, 1.5), "`-` of two conditions", "return x * ((x > 0.0) - (y > 0.0))"),
    (negated_condition, (X,), "`-` of a condition", "return x[0] * (-c)"),
    (float_and, (1.5,), "`&` of a float", "return x & 1"),
    (float_bitwise_and, (X,), "`&` of a float", "np.bitwise_and(x, x > 0)"),
    (invert_condition, (1.5,), "`~` of a condition", "if ~(x > 0):"),
    (invert_float, (X,), "`~` of a float", "return np.sum(~x)"),
])
def test_refused_with_the_line(fn, at, message, line):
    with pytest.raises(adc.UnsupportedError) as err:
        adc.grad(fn)(*at)
    text = str(err.value)
    assert message in text and line in text and "test_bitwise.py" in text and "^" in text
    assert "hint:" in text


def test_numpy_invert_of_a_condition_is_not():
    # np.invert(True) is False (NumPy's bool), unlike Python's ~True == -2
    assert adc.grad(numpy_invert_condition)(1.5) == pytest.approx(-1.0)
    assert adc.grad(numpy_invert_condition)(-1.5) == pytest.approx(-3.0)

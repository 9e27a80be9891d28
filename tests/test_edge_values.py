"""Element-wise primitives at edge arguments, found by review A (/tmp/reviewA/report.md): each was a
silently wrong value or derivative.

- ``np.sinc``: its partial is a Taylor polynomial below |x| = 1/4, so its derivatives of every order
  are right at and near 0 (the second was 0 at 0, and 3 times too large at 1e-9);
- ``np.clip(x, lo, hi)`` with ``lo > hi`` is ``hi`` (NumPy's ``minimum(maximum(x, lo), hi)``), and
  so are its partials; of numbers with a nan bound it is nan;
- ``np.fmax``/``np.fmin`` ignore nan, and ``np.maximum``/``np.minimum`` of numbers propagate it
  (Python's ``max``/``min`` keep Python's semantics);
- ``np.reciprocal`` of an integer is NumPy's integer reciprocal;
- ``math.pow`` and ``np.float_power`` compute in floats, also of integers under ``jit=True``;
- ``np.fmod`` of integers under ``jit=True`` is C's remainder (Numba's own is wrong);
- ``bool @ bool`` under ``jit=True`` is NumPy's logical product (Numba's sums).

Every check runs plain, ``jit=True`` and forward mode, against the user's function and worked
numbers or central differences.
"""
import math
from decimal import Decimal, localcontext

import numpy as np
import pytest

import adc
from fd import assert_raises_as_the_function, fd_grad

MODES = [{}, {"jit": True}, {"mode": "forward"}]
MODE_IDS = ["plain", "jit", "forward"]


# -- 1. np.sinc ------------------------------------------------------------------------------------
def sinc(x):
    return np.sinc(x)


def sinc_sum(x):
    return np.sum(np.sinc(x) * np.array([1.0, 2.0, 3.0, 4.0]))


_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494459")


def sinc_derivative(x: float, order: int) -> float:
    """The ``order``-th derivative of ``sinc`` at ``x``, from its Taylor series in 60-digit decimals:
    ``sinc(x) = sum_k (-1)^k (pi x)^2k / (2k + 1)!``."""
    with localcontext() as ctx:
        ctx.prec = 60
        x, total = Decimal(x), Decimal(0)
        for k in range(120):
            n = 2 * k
            if n < order:
                continue
            term = (-1) ** k * _PI ** n / math.factorial(n + 1) * math.factorial(n) / math.factorial(n - order)
            total += term * (x ** (n - order) if n > order else 1)
        return float(total)


def test_sinc_derivatives_at_zero_are_its_taylor_coefficients():
    """sinc'(0) = 0, sinc''(0) = -pi^2/3, sinc'''(0) = 0, sinc''''(0) = pi^4/5: the second was 0 in
    every mode (the partial was the constant 0 there)."""
    second = -math.pi ** 2 / 3
    assert adc.grad(sinc)(0.0) == 0.0
    for got in (adc.hessian(sinc)(0.0), adc.hessian(sinc, jit=True)(0.0),
                adc.grad(adc.grad(sinc, mode="forward"), mode="forward")(0.0), adc.grad(adc.grad(sinc))(0.0)):
        assert float(got) == pytest.approx(second, rel=1e-15)
    assert float(adc.grad(adc.hessian(sinc))(0.0)) == 0.0
    assert float(adc.hessian(adc.hessian(sinc))(0.0)) == pytest.approx(math.pi ** 4 / 5, rel=1e-14)


@pytest.mark.parametrize("x", [1e-9, -1e-9, 1e-4, 0.1, 0.2499999, 0.25, -0.25, 0.2500001, -0.3, 0.5, 0.9, 1.7, -3.3])
def test_sinc_derivatives_near_zero_and_across_the_switch(x):
    """The first three derivatives to 1e-14 relative of the series' (at 1e-9 the second was -9.87,
    three times -pi^2/3; the first had lost every digit below 1e-8)."""
    first, second, third = (sinc_derivative(x, k) for k in (1, 2, 3))
    assert adc.grad(sinc)(x) == pytest.approx(first, rel=1e-14)
    for kw in ({}, {"jit": True}):
        assert float(adc.hessian(sinc, **kw)(x)) == pytest.approx(second, rel=1e-14)
    assert float(adc.grad(adc.grad(sinc, mode="forward"), mode="forward")(x)) == pytest.approx(second, rel=1e-14)
    assert float(adc.grad(adc.hessian(sinc))(x)) == pytest.approx(third, rel=2e-14)
    if abs(x) > 0.01:  # and against central differences of the gradient, away from 0
        h = 1e-6
        fd = (adc.grad(sinc)(x + h) - adc.grad(sinc)(x - h)) / (2 * h)
        assert float(adc.hessian(sinc)(x)) == pytest.approx(fd, rel=1e-7, abs=1e-8)


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_sinc_of_an_array(kw):
    x = np.array([0.0, 1e-9, 0.3, 1.5])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    value, grad = adc.value_and_grad(sinc_sum, **kw)(x)
    assert value == sinc_sum(x)
    np.testing.assert_allclose(grad, w * [sinc_derivative(v, 1) for v in x], rtol=1e-14, atol=1e-300)
    if kw.get("mode") != "forward":
        hess = adc.hessian(sinc_sum, **kw)(x)
        np.testing.assert_allclose(hess, np.diag(w * [sinc_derivative(v, 2) for v in x]), rtol=1e-14)


# -- 2. np.clip with lo > hi -------------------------------------------------------------------------
def clip(x, lo, hi):
    return np.clip(x, lo, hi)


def clip_composed(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


def clip_sum(x, lo, hi):
    return np.sum(np.clip(x, lo, hi) * np.array([1.0, 2.0, 3.0]))


def clip_composed_sum(x, lo, hi):
    return np.sum(np.minimum(np.maximum(x, lo), hi) * np.array([1.0, 2.0, 3.0]))


CLIP_POINTS = [
    # lo > hi: the value is hi whatever x (the gradient went to lo, or to both bounds)
    ((1.5, 2.0, 1.0), (0.0, 0.0, 1.0)), ((0.0, 2.0, 1.0), (0.0, 0.0, 1.0)), ((3.0, 2.0, 1.0), (0.0, 0.0, 1.0)),
    ((2.0, 2.0, 1.0), (0.0, 0.0, 1.0)), ((1.0, 2.0, 1.0), (0.0, 0.0, 1.0)),
    # lo <= hi, unchanged: inside (bounds included) to x, below to lo, above to hi
    ((0.5, 0.0, 1.0), (1.0, 0.0, 0.0)), ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0)), ((1.0, 0.0, 1.0), (1.0, 0.0, 0.0)),
    ((-1.0, 0.0, 1.0), (0.0, 1.0, 0.0)), ((2.0, 0.0, 1.0), (0.0, 0.0, 1.0)),
    ((1.5, 1.5, 1.5), (1.0, 0.0, 0.0)), ((0.5, 1.0, 1.0), (0.0, 1.0, 0.0)), ((3.0, 1.0, 1.0), (0.0, 0.0, 1.0)),
]


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("args,want", CLIP_POINTS)
def test_clip_has_the_partials_of_minimum_of_maximum(kw, args, want):
    value, grads = adc.value_and_grad(clip, argnums=(0, 1, 2), **kw)(*args)
    assert value == clip(*args)
    assert tuple(grads) == want
    assert tuple(grads) == tuple(adc.grad(clip_composed, argnums=(0, 1, 2), **kw)(*args))
    if len({*args}) == 3 and args[0] not in (args[1] - 1.0, args[2] + 1.0):  # away from the kinks
        assert tuple(grads) == pytest.approx(fd_grad(clip, args), abs=1e-9)


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_clip_of_arrays_with_crossed_bounds(kw):
    x = np.array([0.0, 1.5, 3.0])
    for lo, hi in [(2.0, 1.0), (np.array([2.0, 0.0, 4.0]), np.array([1.0, 1.0, 3.5]))]:
        value, (gx, glo, ghi) = adc.value_and_grad(clip_sum, argnums=(0, 1, 2), **kw)(x, lo, hi)
        assert value == clip_sum(x, lo, hi)
        want = adc.grad(clip_composed_sum, argnums=(0, 1, 2), **kw)(x, lo, hi)
        for got, w in zip((gx, glo, ghi), want):
            np.testing.assert_array_equal(got, w)
    _, (gx, glo, ghi) = adc.value_and_grad(clip_sum, argnums=(0, 1, 2), **kw)(x, 2.0, 1.0)
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0])
    assert (glo, ghi) == (0.0, 6.0)  # the value is 6 * hi: FD gives d/dlo = 0, d/dhi = 6


@pytest.mark.parametrize("kw", MODES + [{"mode": "forward", "jit": True}], ids=MODE_IDS + ["forward-jit"])
def test_clip_of_a_number_between_array_bounds(kw):
    """``np.clip(x, lo, hi)`` of a number ``x`` and array bounds (Numba's ``np.clip`` takes an array
    first only: forward mode under jit did not compile)."""
    lo, hi = np.array([1.0, 6.0, -1.0]), np.array([5.0, 5.0, 0.5])
    for x in (2.0, 0.0, 0.7):
        value, (gx, glo, ghi) = adc.value_and_grad(clip_sum, argnums=(0, 1, 2), **kw)(x, lo, hi)
        assert value == clip_sum(x, lo, hi)
        want = adc.grad(clip_composed_sum, argnums=(0, 1, 2), jit=False, mode="reverse")(x, lo, hi)
        for got, w in zip((gx, glo, ghi), want):
            np.testing.assert_array_equal(got, w)
    assert gx == pytest.approx(fd_grad(lambda t: clip_sum(t, lo, hi), (0.7,))[0], abs=1e-9)


def clip_scaled(x, lo, hi):
    return np.clip(x, lo, hi) * 2.0


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_clip_of_numbers_with_a_nan_bound_is_nan(kw):
    """``min(max(x, lo), hi)`` of Python's dropped a nan bound (0.5 * 2 for NumPy's nan)."""
    nan = float("nan")
    for args in [(0.5, nan, 1.0), (0.5, 0.0, nan), (nan, 0.0, 1.0)]:
        assert math.isnan(clip_scaled(*args))
        value, grad = adc.value_and_grad(clip_scaled, **kw)(*args)
        assert math.isnan(value) and grad == 0.0
    assert tuple(adc.value_and_grad(clip_scaled, **kw)(0.5, 0.0, 1.0)) == (1.0, 2.0)


# -- 3. np.fmax / np.fmin ignore nan ---------------------------------------------------------------
def fmax_sum(x, y):
    return np.sum(np.fmax(x, y) * np.array([1.0, 2.0, 3.0]))


def fmin_sum(x, y):
    return np.sum(np.fmin(x, y) * np.array([1.0, 2.0, 3.0]))


def fmax_number(x, y):
    return np.fmax(x, y) * 2.0 + np.fmin(y, x)


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_fmax_and_fmin_of_arrays_ignore_nan(kw):
    x = np.array([np.nan, 1.0, 0.2])
    for f, want_x, want_y in [(fmax_sum, [0.0, 2.0, 0.0], 4.0), (fmin_sum, [0.0, 0.0, 3.0], 3.0)]:
        value, (gx, gy) = adc.value_and_grad(f, argnums=(0, 1), **kw)(x, 0.5)
        assert value == f(x, 0.5) and not math.isnan(value)  # 3.5 and 1.6 (nan before)
        np.testing.assert_array_equal(gx, want_x)
        assert gy == want_y
    y = np.array([0.5, np.nan, np.nan])
    value, (gx, gy) = adc.value_and_grad(fmax_sum, argnums=(0, 1), **kw)(x, y)
    assert value == fmax_sum(x, y) == 0.5 + 2.0 + 0.6
    np.testing.assert_array_equal(gx, [0.0, 2.0, 3.0])
    np.testing.assert_array_equal(gy, [1.0, 0.0, 0.0])


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_fmax_and_fmin_of_numbers_ignore_nan(kw):
    nan = float("nan")
    for args, want in [((nan, 0.5), (0.0, 3.0)), ((0.5, nan), (3.0, 0.0)), ((1.0, 0.5), (2.0, 1.0)),
                       ((0.5, 1.0), (1.0, 2.0))]:
        value, grads = adc.value_and_grad(fmax_number, argnums=(0, 1), **kw)(*args)
        assert value == fmax_number(*args)
        assert tuple(grads) == want
        if not any(map(math.isnan, args)):
            assert tuple(grads) == pytest.approx(fd_grad(fmax_number, args))


# -- 4. np.maximum / np.minimum of numbers propagate nan; max and min keep Python's -----------------
def maximum_first(x):
    return np.maximum(0.5, x) * 2.0


def maximum_second(x):
    return np.maximum(x, 0.5) * 2.0


def minimum_first(x):
    return np.minimum(0.5, x) * 2.0


def python_max_first(x):
    return max(0.5, x) * 2.0  # Python's: 0.5 unless x > 0.5, so 0.5 for nan


def python_min_second(x):
    return min(x, 0.5) * 2.0  # Python's: x unless 0.5 < x, so nan for nan


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_numpys_maximum_of_a_number_is_nan_where_either_is(kw):
    nan = float("nan")
    for f in (maximum_first, maximum_second, minimum_first):
        value, _ = adc.value_and_grad(f, **kw)(nan)
        assert math.isnan(value) and math.isnan(f(nan))
    for f, x, want in [(maximum_first, 1.0, (2.0, 2.0)), (maximum_first, 0.0, (1.0, 0.0)),
                       (maximum_second, 1.0, (2.0, 2.0)), (minimum_first, 0.0, (0.0, 2.0))]:
        assert tuple(adc.value_and_grad(f, **kw)(x)) == want
        assert want == pytest.approx((f(x), fd_grad(f, (x,))[0]))


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_pythons_max_of_a_number_keeps_pythons_semantics(kw):
    nan = float("nan")
    assert adc.value_and_grad(python_max_first, **kw)(nan)[0] == python_max_first(nan) == 1.0
    value, _ = adc.value_and_grad(python_min_second, **kw)(nan)
    assert math.isnan(value) and math.isnan(python_min_second(nan))


def test_numpys_maximum_of_numbers_calls_nothing():
    """The common case stays cheap: a conditional expression, no call of ``max`` or NumPy."""
    code = adc.source(maximum_second, at=(1.0,), mode="forward", compact=True)
    assert "x if x > 0.5 or x != x else 0.5" in code and "np.maximum" not in code


# -- 5. np.reciprocal of an integer ------------------------------------------------------------------
def reciprocal_of_int(x, n):
    return np.reciprocal(n) * x + np.reciprocal(x * 2.0 + 1.0)


def reciprocal_sum(x, n):
    return np.sum(np.reciprocal(n) * x) + np.sum(np.reciprocal(x))


def reciprocal_of_float(x):
    return np.reciprocal(x) * 2.0


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("n,inverse", [(2, 0), (1, 1), (-1, -1), (-3, 0)])
def test_reciprocal_of_an_integer_is_numpys(kw, n, inverse):
    assert np.reciprocal(n) == inverse
    value, grad = adc.value_and_grad(reciprocal_of_int, **kw)(3.0, n)
    assert value == reciprocal_of_int(3.0, n) == inverse * 3.0 + 1.0 / 7.0
    assert grad == pytest.approx(inverse - 2.0 / 49.0, rel=1e-15)


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_reciprocal_of_integer_arrays_and_of_floats(kw):
    x, n = np.array([1.0, 2.0, 4.0]), np.array([1, 2, -1])
    value, grad = adc.value_and_grad(reciprocal_sum, **kw)(x, n)
    assert value == reciprocal_sum(x, n) == -1.25
    np.testing.assert_array_equal(grad, [0.0, -0.25, -1.0625])
    with np.errstate(divide="ignore"):
        assert tuple(adc.value_and_grad(reciprocal_of_float, **kw)(0.0)) == (math.inf, -math.inf)
        assert tuple(adc.value_and_grad(reciprocal_of_float, **kw)(-4.0)) == (-0.5, -0.125)


# -- 6. math.pow of integers computes in floats --------------------------------------------------------
def math_pow_negative(x, n):
    return x * math.pow(n, -2)  # 1/9 for n = 3 (Numba's 3 ** -2 is 0)


def math_pow_large(x, n):
    return x * math.pow(n, 40)  # 3.0 ** 40 (Numba's 3 ** 40 wraps)


def math_pow_float(x, y):
    return math.pow(x, y) + x


@pytest.mark.parametrize("kw", MODES + [{"mode": "forward", "jit": True}], ids=MODE_IDS + ["forward-jit"])
def test_math_pow_of_an_integer_is_a_float(kw):
    assert tuple(adc.value_and_grad(math_pow_negative, **kw)(1.5, 3)) == (math_pow_negative(1.5, 3), 1.0 / 9.0)
    assert tuple(adc.value_and_grad(math_pow_large, **kw)(1.5, 3)) == (math_pow_large(1.5, 3), 3.0 ** 40)
    assert adc.value_and_grad(math_pow_large, **kw)(1.5, 3)[0] == pytest.approx(1.8236498188585394e19, rel=1e-15)


def builtin_pow_negative(x, n):
    return x * pow(n, -2)  # Python's int ** negative int is a float: 1/9 for n = 3


@pytest.mark.parametrize("kw", MODES + [{"mode": "forward", "jit": True}], ids=MODE_IDS + ["forward-jit"])
def test_builtin_pow_of_integers_is_pythons(kw):
    """``pow(n, -2)`` goes through the ``**`` operator's path (the int base a float), as ``n ** -2``
    does: under jit it was Numba's integer power, 0 (review)."""
    assert tuple(adc.value_and_grad(builtin_pow_negative, **kw)(1.5, 3)) == (builtin_pow_negative(1.5, 3), 1.0 / 9.0)


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_math_pow_of_floats_is_unchanged(kw):
    value, grads = adc.value_and_grad(math_pow_float, argnums=(0, 1), **kw)(2.0, 0.5)
    assert value == math_pow_float(2.0, 0.5)
    assert tuple(grads) == pytest.approx(fd_grad(math_pow_float, (2.0, 0.5)), rel=1e-8)


def test_math_pow_raises_as_the_users_where_it_is_not_real():
    assert_raises_as_the_function(math_pow_float, (-8.0, 1.0 / 3.0), ValueError)


# -- 7. np.float_power computes in float64 ---------------------------------------------------------------
def float_power_of_int(x, n):
    return np.float_power(n, -1) * x  # 4 -> 0.25 (np.power's int result is 0, or raises)


def float_power_sum(x, n):
    return np.sum(np.float_power(n, -1) * x)


def float_power_float32(x):
    return np.sum(np.float_power(x, 2.5))


def float_power_both(x, y):
    return np.sum(np.float_power(x, y))


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_float_power_of_integers(kw):
    assert tuple(adc.value_and_grad(float_power_of_int, **kw)(1.5, 4)) == (0.375, 0.25)
    x, n = np.array([1.0, 2.0]), np.array([2, 4])
    value, grad = adc.value_and_grad(float_power_sum, **kw)(x, n)
    assert value == float_power_sum(x, n) == 1.0
    np.testing.assert_array_equal(grad, [0.5, 0.25])


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_float_power_of_float32_computes_in_float64(kw):
    x32 = np.array([0.5, 1.25, 2.0, 3.0], dtype=np.float32)
    value, grad = adc.value_and_grad(float_power_float32, **kw)(x32)
    assert value == float_power_float32(x32)  # 23.169016320330623 (23.169015884399414 in float32)
    np.testing.assert_allclose(grad, 2.5 * x32.astype(np.float64) ** 1.5, rtol=1e-7)
    y32 = np.array([1.5, 0.5, 2.0, 1.0], dtype=np.float32)
    value, (gx, gy) = adc.value_and_grad(float_power_both, argnums=(0, 1), **kw)(x32, y32)
    x64, y64 = x32.astype(np.float64), y32.astype(np.float64)
    assert value == float_power_both(x32, y32)
    np.testing.assert_allclose(gx, y64 * x64 ** (y64 - 1), rtol=1e-7)
    np.testing.assert_allclose(gy, np.log(x64) * x64 ** y64, rtol=1e-7)


# -- 8. np.fmod of integers under jit -----------------------------------------------------------------
def fmod_number(x, n, m):
    return x * np.fmod(n, m)


def fmod_sum(x, n):
    return np.sum(x * np.fmod(n, -3))


def fmod_float(x, y):
    return np.fmod(x, y) * 2.0


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("n,m,want", [(-7, 3, -1), (7, -3, 1), (-7, -3, -1), (7, 3, 1), (-6, 3, 0), (6, -3, 0)])
def test_fmod_of_integers_has_the_sign_of_the_dividend(kw, n, m, want):
    assert np.fmod(n, m) == want
    assert tuple(adc.value_and_grad(fmod_number, **kw)(1.5, n, m)) == (1.5 * want, want)


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
def test_fmod_of_integer_arrays_and_of_floats(kw):
    x, n = np.array([1.0, 2.0, 3.0]), np.array([-7, 0, 5])
    value, grad = adc.value_and_grad(fmod_sum, **kw)(x, n)
    assert value == fmod_sum(x, n) == 5.0
    np.testing.assert_array_equal(grad, [-1.0, 0.0, 2.0])
    value, grads = adc.value_and_grad(fmod_float, argnums=(0, 1), **kw)(-7.5, 2.0)
    assert value == fmod_float(-7.5, 2.0) == -3.0
    assert tuple(grads) == (2.0, 6.0)  # d/dy = -trunc(x / y) = 3


# -- 9. bool @ bool under jit ---------------------------------------------------------------------
def bool_product(x, A):
    return np.sum((A @ A) @ x)


def bool_dot_and_power(x, A):
    return np.sum(np.dot(A, A) @ x) + np.sum(np.linalg.matrix_power(A, 3) @ x)


def bool_vector_product(x, m):
    return (m @ m) * x


def mixed_product(x, A):
    return np.sum(A @ x) + np.sum(x @ A.T)


BOOL_MATRIX = np.array([[True, False], [True, True]])


@pytest.mark.parametrize("kw", MODES + [{"mode": "forward", "jit": True}], ids=MODE_IDS + ["forward-jit"])
def test_bool_matrix_products_are_logical(kw):
    x = np.array([1.0, 2.0])
    value, grad = adc.value_and_grad(bool_product, **kw)(x, BOOL_MATRIX)
    assert value == bool_product(x, BOOL_MATRIX) == 4.0  # jit gave 5.0: Numba summed [[1, 0], [2, 1]]
    np.testing.assert_array_equal(grad, [2.0, 1.0])
    value, grad = adc.value_and_grad(bool_dot_and_power, **kw)(x, BOOL_MATRIX)
    assert value == bool_dot_and_power(x, BOOL_MATRIX) == 8.0
    np.testing.assert_array_equal(grad, [4.0, 2.0])
    m = np.array([True, True, True])
    assert tuple(adc.value_and_grad(bool_vector_product, **kw)(1.5, m)) == (1.5, 1.0)  # jit gave (4.5, 3.0)


@pytest.mark.parametrize("kw", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("A", [np.array([[1, 2], [3, 4]]), np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32),
                               BOOL_MATRIX], ids=["int", "float32", "bool"])
def test_products_with_other_dtypes_are_unchanged(kw, A):
    for x in (np.array([1.0, 2.0]), np.array([1.0, 2.0], dtype=np.float32)):
        value, grad = adc.value_and_grad(mixed_product, **kw)(x, A)
        assert value == pytest.approx(mixed_product(x, A), rel=1e-7)
        np.testing.assert_allclose(grad, 2 * A.sum(axis=0), rtol=1e-7)

"""NumPy's functions of a Python number keep NumPy's semantics (docs/rules.md): ``np.log(0.0)`` is
-inf and ``np.exp(1000.0)`` inf, where ``math.log`` and ``math.exp`` raise.  Each such function
is the NumPy twin of the ``math`` primitive (``nplog`` of ``log``): its value and its derivatives
of every order are NumPy's, in plain Python, under ``jit=True`` and in forward and reverse mode
alike; ``math.log`` itself keeps raising where the user's function does."""
import math
import warnings

import numpy as np
import pytest
import scipy.special

import adc
from adc.pipeline import compile_derivative
from adc.types import type_of
from fd import assert_raises_as_the_function, fd_grad

LN2, LN10 = math.log(2.0), math.log(10.0)


def _numpy(expression):
    """``expression`` evaluated in NumPy float64, warnings off (inf and nan as NumPy gives them)."""
    def value(x):
        with np.errstate(all="ignore"):
            return float(expression(np.float64(x)))
    return value


# name: (the function, its derivative in NumPy, points inside the domain, at its edge, outside it)
FUNCTIONS = {
    "log": (np.log, lambda x: 1.0 / x, [0.3, 2.0], [0.0], [-1.0, -0.0]),
    "log2": (np.log2, lambda x: 1.0 / (x * LN2), [0.3, 5.0], [0.0], [-2.0]),
    "log10": (np.log10, lambda x: 1.0 / (x * LN10), [0.3, 5.0], [0.0], [-2.0]),
    "log1p": (np.log1p, lambda x: 1.0 / (1.0 + x), [-0.5, 3.0], [-1.0], [-2.0]),
    "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x), [0.25, 9.0], [0.0], [-1.0]),
    "exp": (np.exp, np.exp, [-3.0, 700.0], [709.78], [710.0, 1000.0]),
    "expm1": (np.expm1, np.exp, [-3.0, 700.0], [709.78], [710.0, 1000.0]),
    "sinh": (np.sinh, np.cosh, [-700.0, 2.0], [710.47, -710.47], [711.0, -1000.0]),
    "cosh": (np.cosh, np.sinh, [-700.0, 2.0], [710.47, -710.47], [711.0, -1000.0]),
    "arcsin": (np.arcsin, lambda x: 1.0 / np.sqrt(1.0 - x * x), [-0.5, 0.9], [1.0, -1.0], [2.0, -1.5]),
    "arccos": (np.arccos, lambda x: -1.0 / np.sqrt(1.0 - x * x), [-0.5, 0.9], [1.0, -1.0], [2.0, -1.5]),
    # (nan below -1, where arccosh is nan too, and without overflow above 1e154)
    "arccosh": (np.arccosh, lambda x: 1.0 / (np.sqrt(x - 1.0) * np.sqrt(x + 1.0)), [1.5, 4.0], [1.0], [0.5, -2.0]),
    "arctanh": (np.arctanh, lambda x: 1.0 / (1.0 - x * x), [-0.5, 0.9], [1.0, -1.0], [2.0, -1.5]),
}
CASES = [(name, kind, x) for name, (_, _, inside, edge, outside) in FUNCTIONS.items()
         for kind, points in (("inside", inside), ("edge", edge), ("outside", outside)) for x in points]


def _function(name):
    f = getattr(np, name)

    def numpy_function(x):
        return f(x) + 0.5 * x  # a line of NumPy on a number
    return numpy_function


def _same(got: float, want: float) -> bool:
    """Equal, nan equal to nan, and to 1e-13 relative where finite (math's and NumPy's functions
    may round differently in the last bit)."""
    if math.isnan(want) or math.isinf(want):
        return got == want or (math.isnan(got) and math.isnan(want))
    return got == pytest.approx(want, rel=1e-13, abs=1e-300)


@pytest.mark.parametrize("name,kind,x", CASES, ids=[f"{n}-{k}-{x}" for n, k, x in CASES])
def test_value_and_derivative_are_numpys_everywhere(name, kind, x):
    f, derivative, *_ = FUNCTIONS[name]
    user = _function(name)
    want_value = _numpy(lambda v: f(v) + 0.5 * v)(x)
    want_slope = _numpy(lambda v: derivative(v) + 0.5)(x)
    with np.errstate(all="ignore"):
        results = {"reverse": adc.value_and_grad(user)(x),
                   "forward": (user(x), adc.grad(user, mode="forward")(x)),
                   "jit": adc.value_and_grad(user, jit=True)(x),
                   "jvp": adc.jvp(user, (x,), (1.0,))}
    for how, (value, slope) in results.items():
        assert _same(float(value), want_value), (how, value, want_value)
        assert _same(float(slope), want_slope), (how, slope, want_slope)
    if kind == "inside":  # and the derivative is the function's slope
        assert results["reverse"][1] == pytest.approx(fd_grad(user, (x,), h=1e-6 * max(1.0, abs(x)))[0], rel=1e-6)


def _log(x):
    return np.log(x)


def _sqrt(x):
    return np.sqrt(x)


def _exp(x):
    return np.exp(x)


def _arctanh(x):
    return np.arctanh(x)


@pytest.mark.parametrize("f,x,want", [(_log, 0.0, -math.inf), (_log, -2.0, -0.25), (_sqrt, 0.0, -math.inf),
                                      (_exp, 1000.0, math.inf), (_arctanh, 0.5, 2 * 0.5 / (1 - 0.25) ** 2)])
def test_second_derivatives_stay_numpys(f, x, want):
    """The partials of a twin are built from twins: ``d/dx (1 / x)`` of ``np.log`` at 0 is NumPy's
    -inf, never Python's ZeroDivisionError, and the Hessian agrees under jit and forward over
    reverse."""
    with np.errstate(all="ignore"):
        for got in (adc.hessian(f)(x), adc.hessian(f, jit=True)(x), adc.grad(adc.grad(f), mode="forward")(x)):
            assert float(got) == pytest.approx(want, rel=1e-12), (f.__name__, x, got)


def test_the_math_function_keeps_raising_where_the_users_function_does():
    """``math.log(0.0)`` raises in the user's function, so it raises in the derivative too; the
    NumPy twin is only for NumPy's names."""
    def with_math(x):
        return math.log(x) + 0.5 * x

    with pytest.raises(adc.EvaluationError) as info:
        adc.value_and_grad(with_math)(0.0)
    assert isinstance(info.value, ValueError) and "math domain error" in str(info.value)
    assert adc.value_and_grad(with_math)(2.0) == pytest.approx((math.log(2.0) + 1.0, 1.0), rel=1e-15)


def test_the_generated_code_runs_math_inside_the_domain_and_numpy_outside_it():
    def g(x):
        return np.log(x) * np.exp(x)

    code = adc.source(g, compact=True)
    assert "math.log(x) if x > 0 else np.log(x)" in code
    assert "math.exp(x) if x < 709.78 else np.exp(x)" in code
    assert "1.0 / x" not in code.replace("1.0 / x if x else", "")  # the partial is NumPy's division
    # Numba's math functions return NumPy's inf and nan: its code calls them without the guard
    numba_code = compile_derivative(g, [type_of(1.0)], "grad", [0], jit=True).source
    assert "math.log(x)" in numba_code and "else np.log" not in numba_code and "else np.exp" not in numba_code
    # and Numba's ``/`` gives NumPy's inf: the partial's division is unguarded there too
    assert "np.divide" not in numba_code and "/ x" in numba_code
    def log_plus(x):
        return np.log(x) + x

    with np.errstate(all="ignore"):
        assert adc.grad(log_plus, jit=True)(0.0) == adc.grad(log_plus)(0.0) == math.inf
    # a constant inside the domain folds with math's function, outside it with NumPy's
    assert adc.prims.fold_value("nplog", [2.0]) == math.log(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # folding prints none of NumPy's warnings
        assert adc.prims.fold_value("nplog", [0.0]) == -math.inf


def test_numpys_functions_of_arrays_are_unchanged():
    def h(x):
        return np.sum(np.log(x) + np.sqrt(x) + np.arcsin(x / 4.0))

    x = np.array([0.5, 1.0, 2.0])
    want = 1.0 / x + 0.5 / np.sqrt(x) + 0.25 / np.sqrt(1.0 - (x / 4.0) ** 2)
    for jit in (False, True):
        assert adc.grad(h, jit=jit)(x) == pytest.approx(want, rel=1e-14)
    with np.errstate(all="ignore"):
        assert list(adc.grad(h)(np.array([0.0, 1.0]))[:1]) == [math.inf]


def test_the_sine_of_an_infinite_number_says_what_adc_computes_and_what_to_do():
    """``np.sin``, ``np.cos`` and ``np.tan`` of a number run ``math``'s function (an infinite
    argument is the only difference, and the guard would be on every call): plain Python raises a
    located error whose hint says so; ``jit=True`` gives NumPy's nan."""
    def sine(x):
        return np.sin(x) + x

    with pytest.raises(adc.EvaluationError) as info:
        adc.value_and_grad(sine)(math.inf)
    assert isinstance(info.value, ValueError)
    assert "np.sin, np.cos and np.tan" in str(info.value) and "jit=True" in str(info.value)
    value, slope = adc.value_and_grad(sine, jit=True)(math.inf)
    assert math.isnan(value) and math.isnan(slope)


def _gammaln(x):
    return scipy.special.gammaln(x) + 0.5 * x


def _gamma(x):
    return scipy.special.gamma(x) + 0.5 * x


@pytest.mark.parametrize("f,special,slope,x", [
    (_gammaln, scipy.special.gammaln, scipy.special.digamma, x) for x in (0.0, -1.0, -0.5, 2.5, 200.0, 1e306)] + [
    (_gamma, scipy.special.gamma, lambda v: scipy.special.gamma(v) * scipy.special.digamma(v), x)
    for x in (0.0, -1.0, -0.5, 3.0, 172.0, 1e-310)])
def test_scipys_gamma_functions_of_a_number_keep_scipys_semantics(f, special, slope, x):
    """``scipy.special.gammaln(0.0)`` is inf where ``math.lgamma(0.0)`` raises, and ``gamma(172.0)``
    inf where ``math.gamma`` overflows: their SciPy twins (``spgammaln``, ``spgamma``) give SciPy's
    values and derivatives, in plain Python and under jit (whose digamma now has SciPy's pole)."""
    with np.errstate(all="ignore"):
        want = (float(special(x)) + 0.5 * x, float(slope(x)) + 0.5)
        for jit in (False, True):
            got = adc.value_and_grad(f, jit=jit)(x)
            assert _same(float(got[0]), want[0]) and _same(float(got[1]), want[1]), (jit, got, want)


def test_the_numba_digamma_and_polygamma_have_scipys_poles():
    from adc.prims.special import digamma_scalar, polygamma_scalar

    for x in (0.0, -0.0, -1.0, -3.0, 1e-300, 2.5):
        assert _same(digamma_scalar(x), float(scipy.special.digamma(x))), x
    for n in (1, 2, 3, 4):
        for x in (0.0, -0.0, -2.0, -math.inf, math.inf, math.nan, 1e-3, 2.5, 1e300, -1e-300, -1e-320):
            assert _same(polygamma_scalar(n, x), float(scipy.special.polygamma(n, x))), (n, x)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_the_numba_polygamma_of_a_negative_number_is_scipys(n):
    """SciPy's ``polygamma(n, x)`` sums the Hurwitz zeta series from ``x`` upwards, negative ``x``
    too; the Numba version used to give nan there (and so the jit derivative of ``digamma``)."""
    from adc.prims.special import polygamma_scalar

    for x in (-0.5, -1.5, -3.7, -12.25, -40.3, -1e-40):
        want = float(scipy.special.polygamma(n, x))
        assert polygamma_scalar(n, x) == pytest.approx(want, rel=1e-9), (n, x)  # both sum with cancellation


def _digamma_and_polygamma(x):
    return scipy.special.digamma(x) + scipy.special.polygamma(2, x)


@pytest.mark.parametrize("x", [-2.5, -0.3, -7.9, 1.5])
def test_digamma_and_polygamma_of_a_negative_number_under_jit(x):
    want = (float(scipy.special.digamma(x) + scipy.special.polygamma(2, x)),
            float(scipy.special.polygamma(1, x) + scipy.special.polygamma(3, x)))
    assert fd_grad(_digamma_and_polygamma, (x,))[0] == pytest.approx(want[1], rel=1e-5)
    for jit in (False, True):
        value, slope = adc.value_and_grad(_digamma_and_polygamma, jit=jit)(x)
        assert float(value) == pytest.approx(want[0], rel=1e-12) and slope == pytest.approx(want[1], rel=1e-12), jit
    array = np.array([x, x + 0.25])
    total = adc.grad(lambda a: np.sum(scipy.special.digamma(a)), jit=True)(array)
    assert total == pytest.approx(scipy.special.polygamma(1, array), rel=1e-12)


def _xlogs(x, y):
    return scipy.special.xlogy(x, y) + scipy.special.xlog1py(x, y - 1.0)


@pytest.mark.parametrize("y", [0.0, -1.0, 0.5])
def test_xlogy_of_numbers_keeps_scipys_semantics(y):
    """``xlogy(2, 0)`` is SciPy's -inf (``math.log(0.0)`` raised); its partials are ``log(y)`` and
    ``x / y``."""
    with np.errstate(all="ignore"):
        want = (float(_xlogs(2.0, y)), float(np.log(y) + np.log1p(y - 1.0)), float(np.divide(2.0, y) * 2))
        for jit in (False, True):
            value, (dx, dy) = adc.value_and_grad(_xlogs, argnums=(0, 1), jit=jit)(2.0, y)
            for got, expected in zip((value, dx, dy), want):
                assert _same(float(got), expected), (jit, y, got, expected)


def _xlogs_summed(x, y):
    return np.sum(scipy.special.xlogy(x, y) + scipy.special.xlog1py(x, y))


def test_xlogy_of_zero_and_nan_is_nan():
    """SciPy's ``xlogy(0, y)`` is 0 for every ``y`` but nan, where it is nan (the value was 0)."""
    nan = math.nan
    with np.errstate(all="ignore"):
        for jit in (False, True):
            value, (dx, dy) = adc.value_and_grad(_xlogs, argnums=(0, 1), jit=jit)(0.0, nan)
            assert math.isnan(value) and math.isnan(dx) and math.isnan(dy), jit
            assert adc.value_and_grad(_xlogs, argnums=(0, 1), jit=jit)(0.0, 2.0) == (0.0, (2 * math.log(2.0), 0.0))
            x, y = np.array([0.0, 0.0, 0.0, 2.0]), np.array([nan, -1.0, np.inf, 3.0])
            value, (dx, dy) = adc.value_and_grad(_xlogs_summed, argnums=(0, 1), jit=jit)(x, y)
            assert math.isnan(value) and math.isnan(_xlogs_summed(x, y)), jit
            assert value == _xlogs_summed(x, y) or math.isnan(value)
            parts = adc.value_and_grad(_xlogs_summed, argnums=(0, 1), jit=jit)(x[1:], y[1:])
            assert parts[0] == _xlogs_summed(x[1:], y[1:]), jit
            np.testing.assert_allclose(dy, [nan, 0.0, 0.0, 2.0 / 3.0 + 2.0 / 4.0])


def _expm1(x):
    return np.expm1(x)


def _arcsinh(x):
    return np.arcsinh(x)


def _arccosh(x):
    return np.arccosh(x)


@pytest.mark.parametrize("f,x,slope,curvature", [
    (_expm1, -40.0, math.exp(-40.0), math.exp(-40.0)),  # expm1(x) + 1 cancels to 0 below -37
    (_arcsinh, 1e200, 1e-200, 0.0),  # x * x + 1 overflows; the curvature -1 / x**2 underflows
    (_arcsinh, -3.0, 1 / math.sqrt(10.0), 3.0 / 10.0 ** 1.5),
    (_arccosh, 1e200, 1e-200, 0.0),  # x * x - 1 overflows
    (_arccosh, 3.0, 1 / math.sqrt(8.0), -3.0 / 8.0 ** 1.5)])
def test_derivatives_keep_their_precision_where_a_partials_formula_would_lose_it(f, x, slope, curvature):
    """Silently wrong before: the slopes of ``expm1`` at -40 and of ``arcsinh``/``arccosh`` at 1e200
    were 0.0 (a relative error of 100%) in every mode; they are ``exp(x)``, ``1 / hypot(x, 1)`` and
    ``1 / (sqrt(x - 1) sqrt(x + 1))`` now."""
    for jit in (False, True):  # (abs=0: pytest's default absolute tolerance would pass the old 0.0)
        assert float(adc.grad(f, jit=jit)(x)) == pytest.approx(slope, rel=1e-13, abs=0)
        assert float(adc.grad(f, mode="forward", jit=jit)(x)) == pytest.approx(slope, rel=1e-13, abs=0)
        assert float(adc.hessian(f, jit=jit)(x)) == pytest.approx(curvature, rel=1e-12, abs=1e-300)


def _python_division(x):
    return 1.0 / np.sqrt(x)


def _numpy_division(x):
    return np.divide(1.0, np.sqrt(x))


def _kept_reciprocal(v, n):  # recursive: adc keeps it as a function, whose argument is a Python float
    return 1.0 / v + np.sin(v) if n == 0 else _kept_reciprocal(v, n - 1)


def _reciprocal_in_a_kept_function(x, n):
    return _kept_reciprocal(np.sqrt(x), n)


def test_python_operators_on_numpys_result_are_numpys_and_say_what_to_write_where_they_are_not():
    """``np.sqrt(0.0)`` is a NumPy float, so the user's ``1.0 / np.sqrt(0.0)`` is inf, and adc's is
    too (``tests/test_number_semantics.py``).  A NumPy float passed to a function adc keeps as a
    function is a Python float there, on which ``/`` raises: a located error whose hint names
    np.divide, which gives NumPy's values."""
    with np.errstate(all="ignore"):
        assert _reciprocal_in_a_kept_function(0.0, 2) == math.inf
    with pytest.raises(adc.EvaluationError) as info:
        adc.grad(_reciprocal_in_a_kept_function)(0.0, 2)
    assert isinstance(info.value, ZeroDivisionError)
    text = str(info.value)
    assert f"{__file__}:" in text and "np.divide(a, b)" in text and "jit=True" in text
    with np.errstate(all="ignore"):
        for jit in (False, True):
            assert adc.value_and_grad(_numpy_division, jit=jit)(0.0) == (math.inf, -math.inf)
            assert adc.value_and_grad(_python_division, jit=jit)(0.0) == (math.inf, -math.inf)
            assert adc.value_and_grad(_python_division, jit=jit)(4.0) == (0.5, -1.0 / 16.0)


def _zero_floor_division(x):
    n = 0
    return x + 3 // n


def _zero_division(x):
    y = 0.0
    return x + 1.0 / y


def _huge_power(x):
    return x + 2.0 ** 2000.0


@pytest.mark.parametrize("f,error", [(_zero_floor_division, ZeroDivisionError), (_zero_division, ZeroDivisionError),
                                     (_huge_power, OverflowError)])
def test_constant_folding_never_turns_pythons_exception_into_numpys_number(f, error):
    """``3 // n`` with ``n = 0`` raises in Python; folding it with NumPy's ``floor_divide`` gave 0,
    a silently wrong value (and ``1.0 / 0.0`` gave inf): an operation whose generated code is
    Python's is not folded where NumPy would give inf, nan or 0 with a warning."""
    assert_raises_as_the_function(f, (1.0,), error)


def test_an_overflow_on_a_numpy_line_is_not_blamed_on_numpys_floats():
    def overflowing(x):
        return np.sin(x) + x ** -2.0

    with pytest.raises(adc.EvaluationError) as info:
        adc.grad(overflowing)(1e-110)  # the derivative's x ** -3.0 overflows
    assert isinstance(info.value, OverflowError)
    assert "overflowed" in str(info.value) and "np.divide" not in str(info.value)


def _xlog1py(x, y):
    return scipy.special.xlog1py(x, y)


def _xlogy_of(v):
    return scipy.special.xlogy(v[0], v[1])


def _xlog1py_of(v):
    return scipy.special.xlog1py(v[0], v[1])


def test_xlog1py_keeps_its_precision_near_zero():
    """d/dx xlog1py(x, y) is log1p(y), not log(1 + y) (1e-10 came out 1.0000000827e-10)."""
    for y in (1e-10, 1e-17):
        for jit in (False, True):
            assert adc.grad(_xlog1py, jit=jit)(2.0, y) == pytest.approx(math.log1p(y), rel=1e-14, abs=0)


@pytest.mark.parametrize("f,y", [(_xlogy_of, 2.0), (_xlog1py_of, 2.0)])
def test_the_hessian_of_xlogy_at_x_zero_is_symmetric(f, y):
    """d/dy xlogy(x, y) = x / y, whose derivative in x is 1 / y also at x = 0 (a select on x == 0
    made it 0, so the Hessian was not symmetric)."""
    cross = 1.0 / (y if f is _xlogy_of else 1.0 + y)
    for jit in (False, True):
        h = np.asarray(adc.hessian(f, jit=jit)(np.array([0.0, y])))
        np.testing.assert_allclose(h, [[0.0, cross], [cross, h[1, 1]]], rtol=1e-14)
        assert h[1, 1] == 0.0


def test_arccosh_at_one_is_minus_inf_at_second_order_in_every_mode():
    for second in (adc.hessian(_arccosh), adc.grad(adc.grad(_arccosh)), adc.grad(adc.grad(_arccosh), mode="forward"),
                   adc.hessian(_arccosh, jit=True)):
        with np.errstate(all="ignore"):
            assert float(second(1.0)) == -math.inf


def test_the_slope_of_arcsinh_on_arrays_does_not_overflow():
    def total(x):
        return np.sum(np.arcsinh(x))

    x = np.array([-1e200, -3.0, 0.0, 0.5, 1e160])
    want = 1.0 / np.array([1e200, math.sqrt(10.0), 1.0, math.sqrt(1.25), 1e160])
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(total, jit=jit)(x), want, rtol=1e-13)


def _numpy_root_of_log(x):
    return np.power(np.log(x), 0.5)


def test_numpys_power_of_a_negative_numpy_result_is_nan():
    """``np.power`` of a negative number gives NumPy's nan, value and slope, in plain Python and
    under jit (and so does ``np.log(0.5) ** 0.5``: ``tests/test_number_semantics.py``)."""
    with np.errstate(all="ignore"):
        for jit in (False, True):
            value, slope = adc.value_and_grad(_numpy_root_of_log, jit=jit)(0.5)
            assert math.isnan(value) and math.isnan(slope)
            assert adc.value_and_grad(_numpy_root_of_log, jit=jit)(4.0) == pytest.approx(
                (math.sqrt(math.log(4.0)), 0.5 / math.sqrt(math.log(4.0)) / 4.0), rel=1e-14)


# -- reductions of a number: NumPy reduces it as a one-element array -------------------------------
def reductions_of_a_number(x):
    return np.sum(x * x) + np.mean(x) * np.max(x) + np.prod(x) - np.min(x) + np.var(x, keepdims=True)


def max_of_an_int(i, x):
    return np.max(i) * x + np.sum(x, keepdims=True) * np.nansum(x)


def reductions_then_division(x):
    return np.sum(np.sin(x)) / np.sum(np.cos(x) ** 2)


@pytest.mark.parametrize("kw", [{}, {"mode": "forward"}, {"jit": True}, {"jit": True, "mode": "forward"}])
def test_reductions_of_numbers(kw):
    """``np.sum(2.0)`` is 2.0 in NumPy; adc refused a number there ("expected a NumPy array")."""
    for fn, args, argnum in [(reductions_of_a_number, (0.7,), 0), (reductions_of_a_number, (-1.3,), 0),
                             (max_of_an_int, (3, 0.5), 1), (reductions_then_division, (0.4,), 0)]:
        value, grad = adc.value_and_grad(fn, argnums=argnum, **kw)(*args)
        assert value == pytest.approx(float(fn(*args)), rel=1e-14)
        want = fd_grad(lambda *a: float(fn(*a)), args)[argnum]
        assert grad == pytest.approx(want, rel=1e-6)
    assert adc.grad(reductions_of_a_number, **kw)(0.7) == pytest.approx(2 * 0.7 + 2 * 0.7 + 1.0 - 1.0, rel=1e-14)
    # the standard deviation of one number is 0 and its derivative nan (sqrt at 0), as JAX's
    assert math.isnan(adc.grad(standard_deviation, **kw)(0.7))


def standard_deviation(x):
    return np.std(x)

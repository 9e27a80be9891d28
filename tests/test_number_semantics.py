"""Python's operators on NumPy's numbers, and Python's complex powers (``adc/number_semantics.py``,
docs/rules.md).

A NumPy function of a number returns a NumPy number, so the user's ``1.0 / np.sqrt(0.0)`` is inf
and ``np.log(0.5) ** 0.5`` nan; adc computes the NumPy function with ``math``'s, a Python float,
and so follows which numbers are NumPy's through the program: their ``/`` and ``**`` are NumPy's,
in the value and in every derivative.  Python's own floats keep Python's ``/`` (which raises), and
Python's ``**`` of a negative float to a power that is not an integer, a complex number adc cannot
differentiate, raises a located error instead of giving a complex value."""
import math
import warnings

import numpy as np
import pytest

import adc
from adc.frontend import lower
from adc.types import FLOAT, type_of
from adc.verify import verify
from fd import assert_raises_as_the_function, fd_grad


def _modes(f, *args, argnums=0):
    """(value, gradient) in reverse mode, under jit, and the forward-mode slope."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rev = adc.value_and_grad(f, argnums=argnums)(*args)
        jit = adc.value_and_grad(f, argnums=argnums, jit=True)(*args)
        fwd = adc.grad(f, argnums=argnums, mode="forward")(*args)
    return rev, jit, fwd


def _same(a, b):
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


def _reciprocal_root(x):
    return 1.0 / np.sqrt(x)


def _scaled_first(x):
    y = np.sqrt(x) * 2.0  # a NumPy number times a Python one is a NumPy number
    return 1.0 / y + x


def _carried(x):
    s = 0.0
    t = 1.0
    for i in range(3):
        if i > 0:
            t = t / s  # a Python float on the first pass, a NumPy number after it
        s = s + np.sqrt(x)
    return s + t


def _chosen(x):
    y = np.exp(x) if x > 1.0 else np.log(x)
    return 1.0 / y


def _while_carried(x):
    s = x
    n = 0
    while n < 2:
        s = np.log(s)
        n += 1
    return 2.0 / s


def _root_of_log(x):
    return np.log(x) ** 0.5


def _summed(x):
    a = np.array([x, x - 1.0])
    return 1.0 / np.sum(a) + 1.0 / a.sum()


# function, a point where Python's / or ** would raise or be complex, NumPy's (value, slope) there
SINGULAR = [
    (_reciprocal_root, 0.0, (math.inf, -math.inf)),
    (_scaled_first, 0.0, (math.inf, -math.inf)),
    (_carried, 0.0, (math.inf, math.nan)),
    (_chosen, 1.0, (math.inf, -math.inf)),
    (_while_carried, math.e, (math.inf, -math.inf)),
    (_root_of_log, 0.5, (math.nan, math.nan)),
    (_summed, 0.5, (math.inf, -math.inf)),
]


@pytest.mark.parametrize("f,x,want", SINGULAR, ids=[s[0].__name__ for s in SINGULAR])
def test_pythons_operators_on_numpys_numbers_are_numpys(f, x, want):
    """The user's function gives NumPy's inf or nan there, and so do adc's value and slope, in
    reverse and forward mode and under jit."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _same(f(x), want[0])
    rev, jit, fwd = _modes(f, x)
    for value, slope in (rev, jit):
        assert _same(value, want[0]) and _same(slope, want[1]), (f.__name__, value, slope)
    assert _same(fwd, want[1])


@pytest.mark.parametrize("f,x", [(_reciprocal_root, 4.0), (_scaled_first, 2.5), (_carried, 3.0), (_chosen, 2.0),
                                 (_chosen, 0.5), (_while_carried, 5.0), (_root_of_log, 3.0), (_summed, 2.0)])
def test_the_derivatives_match_finite_differences_where_they_are_defined(f, x):
    rev, jit, fwd = _modes(f, x)
    (want,) = fd_grad(f, [x])
    assert rev[0] == jit[0] == pytest.approx(f(x), rel=1e-15, abs=0)
    for slope in (rev[1], jit[1], fwd):
        assert slope == pytest.approx(want, rel=1e-7, abs=0)


def _math_root(x):
    return 1.0 / math.sqrt(x)


def _made_python(x):
    return 1.0 / float(np.sqrt(x))


@pytest.mark.parametrize("f", [_math_root, _made_python])
def test_pythons_floats_keep_pythons_division(f):
    """``math.sqrt`` and ``float()`` return Python floats: ``/`` raises, for the user and in adc."""
    assert_raises_as_the_function(f, (0.0,), ZeroDivisionError)


def test_the_generated_code_divides_numpys_numbers_by_numpys_division():
    code = adc.source(_scaled_first)
    assert "1.0 / y if y else np.divide(1.0, y)" in code
    assert "v1 * 2.0" in code or "* 2.0" in code
    # Python's floats keep the plain operator
    assert "np.divide" not in adc.source(_math_root).replace("0.5 / v1 if v1 else np.divide(0.5, v1)", "")


@pytest.mark.parametrize("f", [_reciprocal_root, _carried, _chosen, _while_carried, _root_of_log, _summed])
def test_the_rewritten_program_verifies(f):
    verify(lower(f, [FLOAT]), strict=True)


# -- Python's ** of floats: real, or a located error ------------------------------------------------
def _root(x):
    return x ** 0.5 * 2.0


def _abs_root(x):
    return abs(x ** 0.5)  # complex inside, real outside: the user's function gives a number


def _squared_root(x):
    return (x ** 0.5) ** 2.0


def _power_and_a_half(x):
    return x ** 1.5 * 2.0  # its gradient computes only the slope, 3 x ** 0.5


def _power(x, y):
    return x ** y


def _math_power(x, y):
    return math.pow(x, y) + x


@pytest.mark.parametrize("f,args", [(_root, (-4.0,)), (_abs_root, (-4.0,)), (_squared_root, (-4.0,)),
                                    (_power_and_a_half, (-4.0,)), (_power, (-8.0, 1.0 / 3.0))])
def test_a_complex_power_of_pythons_floats_is_a_located_error(f, args):
    """Python's ``(-4.0) ** 0.5`` is a complex number, which adc does not differentiate: a located
    error whose hint says what to write, never a complex value, a nan slope or a raw TypeError
    from adc's internals (``float()`` of a complex number, ``>=`` of one in ``abs``'s partial)."""
    with pytest.raises(adc.EvaluationError) as info:
        adc.value_and_grad(f)(*args)
    assert isinstance(info.value, ValueError)
    if f is _power_and_a_half:  # the slope's own power (it was a raw TypeError: float() of a complex number)
        with pytest.raises(adc.EvaluationError) as info:
            adc.grad(f)(*args)
        assert isinstance(info.value, ValueError)
    text = str(info.value)
    assert f"{__file__}:" in text and "np.power(x, y)" in text and "complex" in text
    if f is not _root:  # the slope needs the value here (the gradient of `_root` alone is nan: docs/rules.md)
        with pytest.raises(adc.EvaluationError):
            adc.grad(f, mode="forward")(*args)


@pytest.mark.parametrize("f,args,argnums", [(_root, (4.0,), (0,)), (_abs_root, (2.25,), (0,)), (_power_and_a_half, (2.0,), (0,)),
                                            (_squared_root, (3.0,), (0,)), (_power, (2.0, 1.0 / 3.0), (0, 1)),
                                            (_power, (-2.0, 3.0), (0,)), (_math_power, (2.0, 0.5), (0, 1))])
def test_real_powers_are_unchanged(f, args, argnums):
    """Where ``**`` is real it is ``math.pow``'s value exactly; an integer exponent of a negative base
    is real and differentiable in the base (in the exponent it is not: ``log(-2)``)."""
    value = f(*args)
    for jit in (False, True):
        got, slopes = adc.value_and_grad(f, argnums=argnums, jit=jit)(*args)
        assert got == value
        for k, slope in enumerate(slopes):
            assert slope == pytest.approx(fd_grad(f, args)[k], rel=1e-7)


def test_a_power_that_is_never_complex_stays_pythons_operator():
    def powers(x, n):
        return x ** 2.0 + x ** n + 2.0 ** x + x ** -3

    code = adc.source(powers, at=(1.5, 3))
    assert "math.pow" not in code and "x ** 2.0" in code
    got = adc.grad(powers)(-1.5, 3)
    want = 2 * -1.5 + 3 * 1.5 ** 2 + math.log(2.0) * 2.0 ** -1.5 - 3 * 1.5 ** -4
    assert got == pytest.approx(want, rel=1e-14)


def test_the_listing_shows_the_power_and_numba_code_uses_its_own():
    """``math.pow`` is in the generated Python; the SSA listing shows the user's ``**``, and Numba's
    ``**`` gives NumPy's nan (jit=True follows NumPy, docs/rules.md)."""
    assert "x ** 0.5 if x >= 0 else adc_arrays.real_power(x, 0.5)" in adc.source(_abs_root)
    listing = str(adc.trace(_root))
    assert "** 0.5" in listing and "pow" not in listing
    from adc.pipeline import compile_derivative
    numba_code = compile_derivative(_abs_root, [type_of(1.0)], "grad", [0], jit=True).source
    assert "real_power" not in numba_code and "math.pow(x, 0.5)" in numba_code
    with np.errstate(all="ignore"):
        value, slope = adc.value_and_grad(_root, jit=True)(-4.0)
    assert math.isnan(value) and math.isnan(slope)


def test_the_second_derivative_of_a_real_power_is_exact():
    """``fpow``'s partial is ``fpow`` again: its Hessian is ``y (y - 1) x ** (y - 2)``, symmetric in a
    variable exponent, in every mode."""
    want = 2.0 * 1.5 * 0.5 * 2.0 ** -0.5
    for got in (adc.hessian(_power_and_a_half)(2.0), adc.hessian(_power_and_a_half, jit=True)(2.0),
                adc.grad(adc.grad(_power_and_a_half), mode="forward")(2.0)):
        assert float(got) == pytest.approx(want, rel=1e-14, abs=0)
    h = np.asarray(adc.hessian(_power, argnums=(0, 1))(2.0, 0.7), dtype=float)
    assert h[0][1] == pytest.approx(h[1][0], rel=1e-14, abs=0)
    assert h[0][1] == pytest.approx(2.0 ** -0.3 * (1.0 + 0.7 * math.log(2.0)), rel=1e-14, abs=0)


def _root_of_an_element(a):
    return a[0] ** 0.5 + a[1]


def _reciprocal_root_of_an_element(a):
    return 1.0 / a[0] ** 0.5 + a[1]


def test_a_power_of_a_numpy_number_the_front_end_does_not_follow_is_numpys():
    """An array's element is a NumPy number in the user's function and in adc's code alike: its
    ``** 0.5`` is NumPy's nan at a negative element, never an error (``real_power``), and its
    ``0.0 ** 0.5`` stays a NumPy zero, whose ``1.0 /`` is inf.  (Found by a review: the first
    version of ``fpow`` raised on both.)"""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = np.array([-4.0, 1.0])
        assert math.isnan(_root_of_an_element(a))
        value, slope = adc.value_and_grad(_root_of_an_element)(a)
        assert math.isnan(value) and math.isnan(slope[0]) and slope[1] == 1.0
        z = np.array([0.0, 1.0])
        assert _reciprocal_root_of_an_element(z) == math.inf
        for jit in (False, True):
            value, slope = adc.value_and_grad(_reciprocal_root_of_an_element, jit=jit)(z)
            assert value == math.inf and list(slope) == [-math.inf, 1.0]


def _squares_of_sines(x):
    s = 0.0
    for i in range(20):
        s = s + np.sin(x * i) ** 2 + np.cos(x * i) ** 3
    return s


def test_a_numpy_number_to_a_natural_power_keeps_pythons_operator():
    """``np.sin(v) ** 2`` differs between Python and NumPy only in an overflow: no NumPy call for a
    negative base (the review measured NumPy's guarded power 4.9 times slower in this loop)."""
    code = adc.source(_squares_of_sines, compact=True)
    assert "np.power" not in code and "** 2" in code
    want = sum(2 * i * math.sin(0.3 * i) * math.cos(0.3 * i) - 3 * i * math.cos(0.3 * i) ** 2 * math.sin(0.3 * i)
               for i in range(20))
    for jit in (False, True):
        assert adc.grad(_squares_of_sines, jit=jit)(0.3) == pytest.approx(want, rel=1e-13)


def _constant_negative_base(x):
    c = -4.0
    return x * c ** 0.5


def test_a_constant_negative_base_is_an_error_in_python_and_nan_under_jit():
    """Python folds ``(-4.0) ** 0.5`` into a complex number, so Numba code calls ``math.pow`` (nan),
    never ``**`` of the constants (a raw TypeError from adc's boundary before)."""
    with pytest.raises(adc.EvaluationError) as info:
        adc.value_and_grad(_constant_negative_base)(2.0)
    assert isinstance(info.value, ValueError)
    value, slope = adc.value_and_grad(_constant_negative_base, jit=True)(2.0)
    assert math.isnan(value) and math.isnan(slope)


# -- found by the second review: where the mark must not go, and rules' own code ------------------
def _math_power_of_numpy(x):
    return math.pow(np.sin(x), 2.0) / (x - x)  # math.pow returns a Python float: / raises


def _math_fabs_of_numpy(x):
    return math.fabs(np.sin(x)) / (x - x)


def _chosen_by_a_numpy_condition(x, a):
    y = x if np.all(a > 0) else 2.0  # the condition is NumPy's, the value a Python float
    return y / (x - x)


def _divided_by_a_shape(x, a):
    n = np.shape(a)[0]  # Python's int
    return x / (n - 3)


@pytest.mark.parametrize("f,args", [(_math_power_of_numpy, (1.0,)), (_math_fabs_of_numpy, (1.0,)),
                                    (_chosen_by_a_numpy_condition, (1.0, np.ones(2))),
                                    (_divided_by_a_shape, (1.0, np.ones(3)))])
def test_a_python_number_made_beside_numpys_keeps_pythons_division(f, args):
    """``math.pow``/``math.fabs`` (operators whose result is a Python float), the condition of
    ``a if c else b`` and ``np.shape`` give Python numbers: ``/`` by zero raises, as in the user's
    function (adc gave inf before the mend)."""
    assert_raises_as_the_function(f, args, ZeroDivisionError)


def _argmax_divisor(x, a):
    return x / (np.argmax(a) - 2)  # NumPy's int: / by zero is inf


def test_numpys_integers_divide_as_numpys():
    with np.errstate(all="ignore"):
        a = np.array([0.0, 0.0, 1.0])
        assert _argmax_divisor(1.0, a) == math.inf
        assert adc.value_and_grad(_argmax_divisor)(1.0, a) == (math.inf, math.inf)


@adc.custom_vjp
def _scaled(x):
    return 2.0 * x


def _scaled_fwd(x):
    return 2.0 * x, (x,)


def _scaled_bwd(r, g):
    return (g * r[0] ** 0.5,)  # a complex power inside the rule


_scaled.defvjp(_scaled_fwd, _scaled_bwd)


@adc.custom_vjp
def _passed(x):
    return x


def _passed_fwd(x):
    return x, (x,)


def _passed_bwd(r, g):
    return (g / np.sin(r[0]),)  # NumPy's division inside the rule


_passed.defvjp(_passed_fwd, _passed_bwd)


def _through_scaled(x):
    return _scaled(x)


def _through_passed(x):
    return _passed(x)


def test_a_custom_rules_code_follows_the_same_semantics():
    """A rule's code is lowered like the user's: its complex power is a located error (a raw
    TypeError from adc's boundary before), its ``/`` of a NumPy number is NumPy's."""
    with pytest.raises(adc.EvaluationError) as info:
        adc.grad(_through_scaled)(-4.0)
    assert isinstance(info.value, ValueError) and f"{__file__}:" in str(info.value)
    assert adc.grad(_through_scaled)(4.0) == 2.0
    with np.errstate(all="ignore"):
        assert adc.value_and_grad(_through_passed)(0.0) == (0.0, math.inf)


def test_vjp_of_a_function_whose_value_is_complex_says_so():
    """``adc.vjp`` returns the function's own value, which is complex here: an adc error, not a
    complex primal whose pullback then fails."""
    for jit in (False, True):
        with pytest.raises(adc.DifferentiationError, match="complex"):
            adc.vjp(_power_and_a_half, -2.0, jit=jit)
    value, pullback = adc.vjp(_power_and_a_half, 4.0)
    assert value == 16.0 and pullback(1.0) == (6.0,)

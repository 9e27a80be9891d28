"""Every differentiable primitive, checked against central finite differences.

Each rule is exercised by a tiny module-level function at 2-3 points (away from kinks), in reverse
mode, forward mode, and with ``jit=True`` (both modes); forward and reverse must agree to 1e-10.
The documented conventions at kinks are checked exactly: abs'(0) = +1, and max/min send the whole
gradient to their first argument on a tie.
"""
import math

import numpy as np
import pytest

import adc
from fd import assert_close_seq, fd_grad


# --- one tiny function per rule (and per spelling of it) ---------------------------------------

def r_add(a, b):
    return a + b


def r_sub(a, b):
    return a - b


def r_mul(a, b):
    return a * b


def r_div(a, b):
    return a / b


def r_neg(a):
    return -a


def r_pow_var(a, b):
    return a ** b


def r_pow_float_const(a):
    return a ** 2.5


def r_pow_int_const(a):
    return a ** 3


def r_pow_neg_int(a):
    return a ** -2


def r_pow_const_base(a):
    return 2.0 ** a


def r_pow_builtin(a, b):
    return pow(a, b)


def r_pow_math(a, b):
    return math.pow(a, b)


def r_pow_np(a, b):
    return np.power(a, b)


def r_sin(a):
    return math.sin(a)


def r_cos(a):
    return math.cos(a)


def r_tan(a):
    return math.tan(a)


def r_exp(a):
    return math.exp(a)


def r_log(a):
    return math.log(a)


def r_log1p(a):
    return math.log1p(a)


def r_sqrt(a):
    return math.sqrt(a)


def r_tanh(a):
    return math.tanh(a)


def r_atan(a):
    return math.atan(a)


def r_np_sin(a):
    return np.sin(a)


def r_np_cos(a):
    return np.cos(a)


def r_np_tan(a):
    return np.tan(a)


def r_np_exp(a):
    return np.exp(a)


def r_np_log(a):
    return np.log(a)


def r_np_log1p(a):
    return np.log1p(a)


def r_np_sqrt(a):
    return np.sqrt(a)


def r_np_tanh(a):
    return np.tanh(a)


def r_np_arctan(a):
    return np.arctan(a)


def r_atan2(y, x):
    return math.atan2(y, x)


def r_np_arctan2(y, x):
    return np.arctan2(y, x)


def r_abs(a):
    return abs(a)


def r_fabs(a):
    return math.fabs(a)


def r_np_abs(a):
    return np.abs(a)


def r_max(a, b):
    return max(a, b)


def r_min(a, b):
    return min(a, b)


def r_max3(a, b, c):
    return max(a, b, c)


def r_min3(a, b, c):
    return min(a, b, c)


def r_np_maximum(a, b):
    return np.maximum(a, b)


def r_np_minimum(a, b):
    return np.minimum(a, b)


def r_max_same(a):
    return max(a, a)


def r_min_same(a):
    return min(a, a)


def r_max_const(a):
    return max(a, 1.0)


def r_min_const(a):
    return min(1.0, a)


# (function, points) — points avoid kinks and domain edges; binary ops are seen on both sides
RULE_CASES = [
    (r_add, [(0.3, -1.7), (2.0, 5.0)]),
    (r_sub, [(0.3, -1.7), (-2.0, 5.0)]),
    (r_mul, [(0.3, -1.7), (2.5, 4.0), (-1.5, -0.25)]),
    (r_div, [(0.3, -1.7), (2.5, 4.0), (-3.0, 0.5)]),
    (r_neg, [(0.3,), (-2.0,)]),
    (r_pow_var, [(1.3, 2.7), (0.6, -1.4), (2.0, 0.5)]),
    (r_pow_float_const, [(0.7,), (3.0,)]),
    (r_pow_int_const, [(0.7,), (-1.3,), (2.0,)]),
    (r_pow_neg_int, [(0.7,), (-1.3,)]),
    (r_pow_const_base, [(0.7,), (-1.3,)]),
    (r_pow_builtin, [(1.3, 2.7), (0.6, -1.4)]),
    (r_pow_math, [(1.3, 2.7), (0.6, -1.4)]),
    (r_pow_np, [(1.3, 2.7), (0.6, -1.4)]),
    (r_sin, [(0.3,), (-2.0,), (4.0,)]),
    (r_cos, [(0.3,), (-2.0,), (4.0,)]),
    (r_tan, [(0.3,), (-1.2,), (2.5,)]),
    (r_exp, [(0.3,), (-2.0,), (1.5,)]),
    (r_log, [(0.3,), (2.0,), (7.5,)]),
    (r_log1p, [(0.3,), (-0.5,), (4.0,)]),
    (r_sqrt, [(0.3,), (2.0,), (9.0,)]),
    (r_tanh, [(0.3,), (-1.5,), (0.9,)]),
    (r_atan, [(0.3,), (-2.0,), (5.0,)]),
    (r_np_sin, [(0.3,), (-2.0,)]),
    (r_np_cos, [(0.3,), (-2.0,)]),
    (r_np_tan, [(0.3,), (-1.2,)]),
    (r_np_exp, [(0.3,), (-2.0,)]),
    (r_np_log, [(0.3,), (7.5,)]),
    (r_np_log1p, [(0.3,), (-0.5,)]),
    (r_np_sqrt, [(0.3,), (9.0,)]),
    (r_np_tanh, [(0.3,), (-1.5,)]),
    (r_np_arctan, [(0.3,), (-2.0,)]),
    # atan2 in all four quadrants
    (r_atan2, [(0.3, 1.7), (1.0, -2.0), (-1.5, -0.5), (-0.7, 2.2)]),
    (r_np_arctan2, [(0.3, 1.7), (-1.5, -0.5)]),
    (r_abs, [(0.3,), (-2.0,)]),
    (r_fabs, [(0.3,), (-2.0,)]),
    (r_np_abs, [(0.3,), (-2.0,)]),
    # max/min: first argument larger, then second argument larger
    (r_max, [(0.3, -1.7), (-1.7, 0.3)]),
    (r_min, [(0.3, -1.7), (-1.7, 0.3)]),
    (r_max3, [(3.0, 1.0, 2.0), (1.0, 3.0, 2.0), (1.0, 2.0, 3.0)]),
    (r_min3, [(3.0, 1.0, 2.0), (1.0, 3.0, 2.0), (3.0, 2.0, 1.0)]),
    (r_np_maximum, [(0.3, -1.7), (-1.7, 0.3)]),
    (r_np_minimum, [(0.3, -1.7), (-1.7, 0.3)]),
    (r_max_same, [(0.3,), (-2.0,)]),
    (r_min_same, [(0.3,), (-2.0,)]),
    (r_max_const, [(0.3,), (2.0,)]),
    (r_min_const, [(0.3,), (2.0,)]),
]

POINT_CASES = [(fn, pt) for fn, pts in RULE_CASES for pt in pts]
POINT_IDS = [f"{fn.__name__}@{','.join(map(str, pt))}" for fn, pt in POINT_CASES]
MODES = [("reverse", False), ("forward", False), ("reverse", True), ("forward", True)]
MODE_IDS = ["reverse", "forward", "reverse-jit", "forward-jit"]


def all_args(pt):
    """argnums naming every argument: a tuple for several, the int 0 for one (see
    test_singleton_tuple_argnums for ``argnums=(0,)``)."""
    return tuple(range(len(pt))) if len(pt) > 1 else 0


def grad_all(fn, pt, **kw):
    """The full gradient as a tuple, whatever the number of arguments."""
    g = adc.grad(fn, all_args(pt), **kw)(*pt)
    return g if len(pt) > 1 else (g,)


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("fn,pt", POINT_CASES, ids=POINT_IDS)
def test_rule_matches_finite_differences(fn, pt, mode, jit):
    g = grad_all(fn, pt, mode=mode, jit=jit)
    assert isinstance(g, tuple) and len(g) == len(pt)
    assert all(type(c) is float for c in g)
    assert_close_seq(g, fd_grad(fn, pt))


@pytest.mark.parametrize("fn,pt", POINT_CASES, ids=POINT_IDS)
def test_rule_forward_equals_reverse(fn, pt):
    rev = grad_all(fn, pt)
    fwd = grad_all(fn, pt, mode="forward")
    rev_jit = grad_all(fn, pt, jit=True)
    fwd_jit = grad_all(fn, pt, mode="forward", jit=True)
    for other in (fwd, rev_jit, fwd_jit):
        assert other == pytest.approx(rev, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("fn,pt", POINT_CASES, ids=POINT_IDS)
def test_rule_value(fn, pt):
    """value_and_grad's value is the function's value (reverse and forward mode)."""
    want = float(fn(*pt))
    for mode in ("reverse", "forward"):
        v, _ = adc.value_and_grad(fn, all_args(pt), mode=mode)(*pt)
        assert v == pytest.approx(want, rel=1e-14, abs=1e-300)


# --- exact derivatives at the points the rules are written for --------------------------------

EXACT = [
    (r_sin, (0.5,), (math.cos(0.5),)),
    (r_cos, (0.5,), (-math.sin(0.5),)),
    (r_tan, (0.5,), (1.0 / math.cos(0.5) ** 2,)),
    (r_exp, (0.5,), (math.exp(0.5),)),
    (r_log, (4.0,), (0.25,)),
    (r_log1p, (3.0,), (0.25,)),
    (r_sqrt, (4.0,), (0.25,)),
    (r_tanh, (0.5,), (1.0 - math.tanh(0.5) ** 2,)),
    (r_atan, (2.0,), (0.2,)),
    (r_atan2, (3.0, 4.0), (4.0 / 25.0, -3.0 / 25.0)),
    (r_pow_var, (2.0, 3.0), (12.0, 8.0 * math.log(2.0))),
    (r_pow_int_const, (2.0,), (12.0,)),
    (r_pow_neg_int, (2.0,), (-0.25,)),
    (r_div, (3.0, 4.0), (0.25, -3.0 / 16.0)),
    (r_mul, (3.0, 4.0), (4.0, 3.0)),
    (r_abs, (-3.0,), (-1.0,)),
    (r_abs, (3.0,), (1.0,)),
]


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("fn,pt,want", EXACT, ids=[f"{c[0].__name__}@{c[1]}" for c in EXACT])
def test_rule_exact(fn, pt, want, mode, jit):
    g = grad_all(fn, pt, mode=mode, jit=jit)
    assert g == pytest.approx(want, rel=1e-14, abs=1e-15)


# --- conventions at kinks (documented: abs'(0) = +1, ties go to the first argument) -------------

KINKS = [
    (r_abs, (0.0,), (1.0,)),
    (r_abs, (-0.0,), (1.0,)),
    (r_fabs, (0.0,), (1.0,)),
    (r_np_abs, (0.0,), (1.0,)),
    (r_max, (0.7, 0.7), (1.0, 0.0)),
    (r_max, (-2.0, -2.0), (1.0, 0.0)),
    (r_min, (0.7, 0.7), (1.0, 0.0)),
    (r_min, (-2.0, -2.0), (1.0, 0.0)),
    (r_np_maximum, (0.7, 0.7), (1.0, 0.0)),
    (r_np_minimum, (0.7, 0.7), (1.0, 0.0)),
    (r_max3, (2.0, 2.0, 2.0), (1.0, 0.0, 0.0)),
    (r_min3, (2.0, 2.0, 2.0), (1.0, 0.0, 0.0)),
    (r_max3, (1.0, 2.0, 2.0), (0.0, 1.0, 0.0)),
    (r_max_same, (0.7,), (1.0,)),     # max(a, a): the whole gradient reaches a once
    (r_min_same, (0.7,), (1.0,)),
    (r_max_const, (1.0,), (1.0,)),    # max(a, 1.0) at a = 1: a is the first argument
    (r_min_const, (1.0,), (0.0,)),    # min(1.0, a) at a = 1: the constant is the first argument
]


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("fn,pt,want", KINKS, ids=[f"{c[0].__name__}@{c[1]}" for c in KINKS])
def test_kink_convention(fn, pt, want, mode, jit):
    g = grad_all(fn, pt, mode=mode, jit=jit)
    assert all(type(c) is float for c in g)
    assert g == want


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_kink_convention_jvp_vjp(jit):
    _, t = adc.jvp(r_max, (0.7, 0.7), (2.0, 3.0), jit=jit)
    assert t == 2.0
    _, t = adc.jvp(r_min, (0.7, 0.7), (2.0, 3.0), jit=jit)
    assert t == 2.0
    _, t = adc.jvp(r_abs, (0.0,), (-4.0,), jit=jit)
    assert t == -4.0
    _, pb = adc.vjp(r_max, 0.7, 0.7, jit=jit)
    assert pb(5.0) == (5.0, 0.0)
    _, pb = adc.vjp(r_min, 0.7, 0.7, jit=jit)
    assert pb(5.0) == (5.0, 0.0)
    _, pb = adc.vjp(r_abs, 0.0, jit=jit)
    assert pb(5.0) == (5.0,)


def test_single_argument_rule_returns_float():
    g = adc.grad(r_sin)(0.5)
    assert type(g) is float and g == math.cos(0.5)
    g = adc.grad(r_sin, mode="forward", jit=True)(0.5)
    assert type(g) is float and g == pytest.approx(math.cos(0.5), rel=1e-15)


# --- argnums given as a one-element tuple --------------------------------------------------------



@pytest.mark.parametrize("mode,jit", [
    pytest.param("reverse", False, id="reverse"),
    pytest.param("forward", False, id="forward"),
    pytest.param("reverse", True, id="reverse-jit"),
    pytest.param("forward", True, id="forward-jit"),
])
def test_singleton_tuple_argnums(mode, jit):
    """argnums=(1,) returns a one-element tuple (argnums=1 returns the bare float)."""
    g = adc.grad(r_mul, (1,), mode=mode, jit=jit)(3.0, 4.0)
    assert g == (3.0,)
    g = adc.grad(r_sin, (0,), mode=mode, jit=jit)(0.5)
    assert isinstance(g, tuple) and g == pytest.approx((math.cos(0.5),), rel=1e-15)

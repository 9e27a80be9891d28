"""A zoo of straight-line scalar functions, each checked against central finite differences in
reverse mode, forward mode and with jit=True, with forward/reverse agreement to 1e-10 and the
result types; plus the jvp/vjp inner-product identity for tuple-valued functions."""
import math
from math import cos as mcos
from math import exp, log, sin

import numpy
import numpy as np
import pytest

import adc
from fd import assert_close_seq, fd_grad, fd_jacobian
from layouts import assert_layouts_agree

SCALE = 2.5
OFFSET = 3
HALF = 0.5
NP_CONST = np.float64(1.25)
TWO_PI = 2 * math.pi


# --- helpers the differentiated functions call ------------------------------------------------

def _gauss(a):
    return math.exp(-a * a)


def _outer(a, b):
    y = _gauss(a) * b          # the helper's own `y` must not clobber the caller's
    return y + _square(b)


def _square(y):
    y = y * y
    return y


def _polar(x, y):
    r = math.sqrt(x * x + y * y)
    return r, math.atan2(y, x)


# --- the functions -------------------------------------------------------------------------------

def reassign_many(x):
    y = x
    y = y * x
    y = y + x
    y = math.sin(y)
    y = y * y
    y = y - x / 3
    y = y * SCALE
    y = math.exp(y)
    return y


def reuse_many(x, y):
    a = x * y
    return a + a * a + math.sin(a) * a - a / (1 + a * a) + math.exp(a) * a


def nested_chain(x):
    return math.exp(math.sin(math.log(x)))


def deep_chain(x):
    return math.sqrt(math.log1p(math.exp(math.tanh(math.cos(x)) ** 2)))


def module_constants(x, y):
    return SCALE * x + OFFSET * y * y - HALF / x + NP_CONST * math.sin(TWO_PI * y) + math.pi * math.e


def int_literals(x):
    return 3 * x ** 2 - 4 * x ** 3 + 7 * x ** -1 - x ** 0 + 2 ** x + 10 / x + 1


def int_exponents(x, y):
    return x ** 4 * y ** -3 + (x * y) ** 2 - 1 / y ** 2


def unused_inputs(x, y, z):
    return x * 2.0 + math.sin(x)


def unused_middle(a, b, c, d):
    return a * d - math.exp(d)


def swap(x, y):
    a, b = x, y
    a, b = b, a * b
    a, b = b + a, a
    return a * math.sin(b)


def tuple_unpack(x, y):
    r, theta = _polar(x, y)
    p, q = (r * math.cos(theta), r * math.sin(theta))
    return p * q + r


def augmented(x, y):
    s = x
    s += y
    s *= x
    s -= y / 2
    s /= 1.5 + y * y
    s += s
    s *= s
    return s


def helpers_chain(x, y):
    y = _outer(x, y) + y
    return y * _gauss(y - x)


def helper_twice(x):
    return _gauss(x) * _gauss(2 * x) + _square(_square(x))


def from_imports(x, y):
    return sin(x) * mcos(y) + exp(-x * y) + log(1 + y * y)


def numpy_styles(x, y):
    return numpy.sin(x) * np.cos(y) + numpy.exp(x - y) - np.sqrt(x * x + 1) + numpy.arctan(y)


def hygiene_names(g, t):
    v3 = g * t
    gv2 = math.sin(v3)
    dx = gv2 * g
    gx = dx + t
    dv0 = gx * gx
    gv0 = dv0 - v3
    return gx * v3 + gv0


def hygiene_params(x, dx, gx):
    v0 = x * dx
    t = v0 + gx
    return t * math.sin(x) + dx * gx


def hygiene_versions(x):
    h = x
    h_1 = 2 * x
    h = h * h_1
    h = h + h_1
    h_2 = h * 3
    h = h - h_2 / 5
    return h * h_1


def hygiene_generated_name(x, y):
    hygiene_generated_name_grad = x * y
    hygiene_generated_name_jvp = x + y
    return hygiene_generated_name_grad * math.sin(hygiene_generated_name_jvp)


def local_named_math(x):
    math = x * 2.0
    return np.sin(math) * np.tanh(math)


def local_named_np(x):
    np = x + 1.0
    return math.cos(np) * math.exp(np)


def local_shadows_import(x):
    sin = x * 3.0
    return sin * x + math.sin(sin)


def shadow_param(x, y):
    x = x * 2
    y = y + x
    x = x * y
    return x


def precedence(x, y, z):
    return -x ** 2 + (-x) ** 3 + x - (y - z) + x / (y * z) + x / y / z + 1.1 ** y ** z - -y


def unary_minus(x):
    return -(-x) * -x - (-(x * x)) + -math.sin(-x)


def same_var_twice(x):
    return x * x + pow(x, x) + math.atan2(x, x + 1) + max(x, 2 * x) + x / x


def relu_net(x, w, b):
    h = np.maximum(0.0, w * x + b)
    return max(h, 0.1) * 2.0 + min(h, 3.0)


def softplus_sigmoid(x):
    sp = math.log1p(math.exp(x))
    s = 1.0 / (1.0 + math.exp(-x))
    return sp * s + math.tanh(sp)


def polar(x, y):
    return math.atan2(y, x) + math.sqrt(x * x + y * y)


def abs_diff(x, y):
    return abs(x - y) + abs(y) * x


def annotated_and_docstring(x, y):
    """A docstring and annotated assignments are fine."""
    a: float = x * y
    b: float = a + math.exp(y)
    pass
    return a * b


def chained_and_semicolons(x, y):
    a = b = x * y
    c = a + b; d = c * x
    return d - b


def identity(x):
    return x


def constant(x):
    return 1.5


def one_arg_poly(a):
    return ((a + 1) * a - 2) * a + 0.5


def two_args_rational(a, b):
    return (a * a + b) / (1 + b * b + a * a)


def three_args(a, b, c):
    return a * math.sin(b) * math.exp(-c * c) + math.log(1 + a * a + b * b)


def four_args(a, b, c, d):
    s = a * b + c * d
    t = math.tanh(s)
    return t * (a - d) + math.atan(b * c)


def five_args(a, b, c, d, e):
    return math.sqrt(a * a + b * b + c * c + d * d + e * e) * math.cos(a - e) + b * c * d


def six_args(a, b, c, d, e, f):
    x = a * b - c
    y = d / e + f
    x, y = y, x
    x += a
    y *= f
    return x * y + _gauss(c) * math.log(e) + max(a, f) - min(b, d)


def long_expression(x, y):
    return (x + y) * (x - y) * (x * y + 1) / (x * x + y * y + 1) + math.sin(x) ** 2 + math.cos(y) ** 2


def one_liner(x):
    return x * x


def one_liner_suite(x): return x * x  # noqa: E704


def swapped_helper_args(x, y):
    return _outer(y, x) - _outer(x, 2.0 * y)


def int_pow_negative_literal(x):
    return x * 2 ** -1 + x * x * 10 ** -2


def big_fanout(x):
    a = math.sin(x)
    b = a * a
    c = a * b
    d = b * c + a
    e = d * a - b * c + c * d
    return e * a + b * d + c * e


# (function, float points, int point or None) — points keep away from kinks and domain edges
SCALAR_CASES = [
    (reassign_many, [(0.3,), (-0.8,)], (1,)),
    (reuse_many, [(0.3, -0.7), (1.1, 0.4)], (1, 2)),
    (nested_chain, [(0.5,), (2.5,)], (2,)),
    (deep_chain, [(0.4,), (-1.3,)], (1,)),
    (module_constants, [(0.7, 1.3), (-1.5, 0.2)], (2, 5)),
    (int_literals, [(0.7,), (1.9,)], (2,)),
    (int_exponents, [(0.7, 1.3), (-1.5, 0.8)], (2, 5)),
    (unused_inputs, [(0.7, 1.3, -2.0)], (2, 5, 7)),
    (unused_middle, [(0.7, 1.3, -2.0, 0.4)], (2, 5, 7, 1)),
    (swap, [(0.7, 1.3), (-1.5, 0.2)], (2, 5)),
    (tuple_unpack, [(0.7, 1.3), (-1.5, 0.2)], (2, 5)),
    (augmented, [(0.7, 1.3), (-1.5, 0.2)], (2, 5)),
    (helpers_chain, [(0.7, 1.3), (-0.5, 0.2)], (1, 2)),
    (helper_twice, [(0.7,), (-0.4,)], (1,)),
    (from_imports, [(0.7, 1.3), (-0.5, 0.2)], (2, 5)),
    (numpy_styles, [(0.7, 1.3), (-0.5, 0.2)], (2, 5)),
    (hygiene_names, [(0.7, 1.3), (-0.5, 0.2)], (2, 5)),
    (hygiene_params, [(0.7, 1.3, -0.4), (-0.5, 0.2, 2.0)], (2, 5, 1)),
    (hygiene_versions, [(0.7,), (-1.5,)], (2,)),
    (hygiene_generated_name, [(0.7, 1.3), (-0.5, 0.2)], (2, 5)),
    (local_named_math, [(0.7,), (-0.4,)], (2,)),
    (local_named_np, [(0.7,), (-0.4,)], (2,)),
    (local_shadows_import, [(0.7,), (-0.4,)], (2,)),
    (shadow_param, [(0.7, 1.3), (-0.5, 0.2)], (2, 5)),
    (precedence, [(0.7, 1.3, 0.9), (-0.5, 0.4, 1.7)], (2, 1, 3)),
    (unary_minus, [(0.7,), (-1.5,)], (2,)),
    (same_var_twice, [(0.7,), (1.9,)], (2,)),
    (relu_net, [(0.7, 1.3, 0.2), (-0.5, 0.8, 1.0), (0.5, 4.0, 2.0), (0.5, -1.0, 0.1)], (2, 1, 0)),
    (softplus_sigmoid, [(0.7,), (-2.5,)], (1,)),
    (polar, [(0.7, 1.3), (-0.5, -0.2)], (3, 4)),
    (abs_diff, [(0.7, 1.3), (-0.5, -1.2)], (2, 5)),
    (annotated_and_docstring, [(0.7, 1.3), (-0.5, 0.2)], (2, 1)),
    (chained_and_semicolons, [(0.7, 1.3), (-0.5, 0.2)], (2, 5)),
    (identity, [(0.7,), (-3.0,)], (2,)),
    (constant, [(0.7,)], (2,)),
    (one_arg_poly, [(0.7,), (-3.0,)], (2,)),
    (two_args_rational, [(0.7, 1.3), (-0.5, 0.2)], (2, 5)),
    (three_args, [(0.7, 1.3, -0.4), (-0.5, 0.2, 1.1)], (2, 5, 1)),
    (four_args, [(0.7, 1.3, -0.4, 0.3), (-0.5, 0.2, 1.1, -0.9)], (2, 5, 1, 3)),
    (five_args, [(0.7, 1.3, -0.4, 0.3, 1.6), (-0.5, 0.2, 1.1, -0.9, 0.25)], (2, 5, 1, 3, 4)),
    (six_args, [(0.7, 1.3, -0.4, 0.3, 1.6, 0.5), (-0.5, 0.2, 1.1, -0.9, 0.25, 2.0)], (2, 5, 1, 3, 4, 6)),
    (long_expression, [(0.7, 1.3), (-0.5, 0.2)], (2, 5)),
    (one_liner, [(0.7,)], (2,)),
    (big_fanout, [(0.7,), (-1.1,)], (1,)),
    (swapped_helper_args, [(0.7, 1.3), (-0.5, 0.2)], (1, 2)),
    (int_pow_negative_literal, [(0.7,), (-1.1,)], (3,)),
]

POINTS = [(fn, pt) for fn, pts, _ in SCALAR_CASES for pt in pts]
POINT_IDS = [f"{fn.__name__}@{','.join(map(str, pt))}" for fn, pt in POINTS]
MODES = [("reverse", False), ("forward", False), ("reverse", True), ("forward", True)]
MODE_IDS = ["reverse", "forward", "reverse-jit", "forward-jit"]



def jit_marks(fn, jit, int_args=False):
    """The xfail marks of the known adc bugs that break ``fn`` under these settings."""
    return []


def point_mode_params(points, int_args=False):
    return [pytest.param(fn, pt, mode, jit, marks=jit_marks(fn, jit, int_args),
                         id=f"{fn.__name__}@{','.join(map(str, pt))}-{mid}")
            for fn, pt in points for (mode, jit), mid in zip(MODES, MODE_IDS)]


def grad_all(fn, pt, **kw):
    """The full gradient as a tuple (argnums=0 for one argument, a tuple of all otherwise)."""
    argnums = tuple(range(len(pt))) if len(pt) > 1 else 0
    g = adc.grad(fn, argnums, **kw)(*pt)
    return g if len(pt) > 1 else (g,)


def test_enough_functions():
    assert len(SCALAR_CASES) >= 30
    assert {len(pts[0]) for _, pts, _ in SCALAR_CASES} >= {1, 2, 3, 4, 5, 6}


@pytest.mark.parametrize("fn,pt,mode,jit", point_mode_params(POINTS))
def test_gradient_matches_finite_differences(fn, pt, mode, jit):
    g = grad_all(fn, pt, mode=mode, jit=jit)
    assert len(g) == len(pt)
    assert all(type(c) is float for c in g), [type(c) for c in g]
    assert_close_seq(g, fd_grad(fn, pt))


@pytest.mark.parametrize("fn,pt,mode,jit", [p for p in point_mode_params(POINTS) if p.values[2:] != ("reverse", False)])
def test_forward_equals_reverse(fn, pt, mode, jit):
    """Forward mode, and both modes under jit, agree with plain reverse mode to 1e-10."""
    rev = grad_all(fn, pt)
    other = grad_all(fn, pt, mode=mode, jit=jit)
    assert other == pytest.approx(rev, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn,pt", POINTS, ids=POINT_IDS)
def test_lecture_layout_computes_what_the_compact_code_computes(fn, pt, mode):
    assert_layouts_agree(fn, pt, tuple(range(len(pt))), mode)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn,pt", POINTS, ids=POINT_IDS)
def test_value_and_grad(fn, pt, mode):
    argnums = tuple(range(len(pt)))
    v, g = adc.value_and_grad(fn, argnums, mode=mode)(*pt)
    assert type(v) is float
    assert v == pytest.approx(fn(*pt), rel=1e-13, abs=1e-13)
    assert g == pytest.approx(grad_all(fn, pt), rel=1e-13, abs=1e-13)


INT_CASES = [(fn, ipt) for fn, _, ipt in SCALAR_CASES if ipt is not None]


@pytest.mark.parametrize("fn,ipt,mode,jit", point_mode_params(INT_CASES))
def test_int_arguments_give_floats(fn, ipt, mode, jit):
    """f(2, 5) with ints: every argument is differentiated, the gradient is made of floats equal
    to the gradient at the same float point."""
    g = grad_all(fn, ipt, mode=mode, jit=jit)
    assert all(type(c) is float for c in g)
    fpt = tuple(float(a) for a in ipt)
    assert g == pytest.approx(grad_all(fn, fpt), rel=1e-12, abs=1e-12)
    assert_close_seq(g, fd_grad(fn, fpt))


# --- partial argnums with the other arguments left as ints ---------------------------------------

@pytest.mark.parametrize("fn,ipt,mode,jit",
                         point_mode_params([(fn, ipt) for fn, ipt in INT_CASES if len(ipt) >= 2], int_args=True))
def test_int_non_differentiated_arguments(fn, ipt, mode, jit):
    """Differentiating only w.r.t. the first argument leaves the others as ints."""
    g = adc.grad(fn, 0, mode=mode, jit=jit)(*ipt)
    assert type(g) is float
    want = fd_grad(fn, tuple(float(a) for a in ipt))[0]
    assert_close_seq((g,), (want,))


# --- exact expectations ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
def test_unused_inputs_exact_zero(mode, jit):
    g = grad_all(unused_inputs, (0.7, 1.3, -2.0), mode=mode, jit=jit)
    assert g[1] == 0.0 and g[2] == 0.0
    assert type(g[1]) is float and type(g[2]) is float
    assert g[0] == pytest.approx(2.0 + math.cos(0.7), rel=1e-15)
    g = grad_all(unused_middle, (0.7, 1.3, -2.0, 0.4), mode=mode, jit=jit)
    assert g[1] == 0.0 and g[2] == 0.0
    assert g == pytest.approx((0.4, 0.0, 0.0, 0.7 - math.exp(0.4)), rel=1e-15)
    # only unused arguments requested
    g = adc.grad(unused_inputs, (1, 2), mode=mode, jit=jit)(0.7, 1.3, -2.0)
    assert g == (0.0, 0.0) and all(type(c) is float for c in g)


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
def test_identity_and_constant(mode, jit):
    g = adc.grad(identity, mode=mode, jit=jit)(0.7)
    assert type(g) is float and g == 1.0
    g = adc.grad(constant, mode=mode, jit=jit)(0.7)
    assert type(g) is float and g == 0.0
    v, g = adc.value_and_grad(constant, mode=mode, jit=jit)(0.7)
    assert v == 1.5 and g == 0.0


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
def test_exact_polynomials(mode, jit):
    # d/dx [3x^2 - 4x^3 + 7/x - 1 + 2^x + 10/x + 1] at x = 2
    want = 6 * 2 - 12 * 4 - 7 / 4 + math.log(2) * 4 - 10 / 4
    assert grad_all(int_literals, (2.0,), mode=mode, jit=jit)[0] == pytest.approx(want, rel=1e-14)
    assert grad_all(one_arg_poly, (2.0,), mode=mode, jit=jit)[0] == pytest.approx(3 * 4 + 2 * 2 - 2, rel=1e-15)
    # hygiene_versions: h = (x*2x + 2x) * (1 - 3/5) * 2x = 1.6 x^3 + 1.6 x^2
    assert grad_all(hygiene_versions, (2.0,), mode=mode, jit=jit)[0] == pytest.approx(4.8 * 4 + 3.2 * 2, rel=1e-14)
    # shadow_param: ((2x) * (y + 2x)) -> d/dx = 2y + 8x, d/dy = 2x
    assert grad_all(shadow_param, (0.5, 3.0), mode=mode, jit=jit) == pytest.approx((10.0, 1.0), rel=1e-15)


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
def test_hygiene_exact(mode, jit):
    """User variables named like generated ones (dx, gx, v3, t, gv2, g) keep their meaning."""
    g, t = 0.7, 1.3
    # hygiene_params(x, dx, gx) = (x*dx + gx) * sin(x) + dx*gx
    x, dx, gx = 0.7, 1.3, -0.4
    want = (dx * math.sin(x) + (x * dx + gx) * math.cos(x), x * math.sin(x) + gx, math.sin(x) + dx)
    assert grad_all(hygiene_params, (x, dx, gx), mode=mode, jit=jit) == pytest.approx(want, rel=1e-14)
    assert_close_seq(grad_all(hygiene_names, (g, t), mode=mode, jit=jit), fd_grad(hygiene_names, (g, t)))


def test_one_line_body_on_its_own_line_works():
    assert adc.grad(one_liner)(3.0) == 6.0


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_one_line_def(mode):
    assert adc.grad(one_liner_suite, mode=mode)(3.0) == 6.0


# --- jvp / vjp of tuple-valued functions ----------------------------------------------------------

def mo_two(x, y):
    return x * y, math.sin(x) + y * y


def mo_three(a, b, c):
    s = a * b
    return s + c, math.exp(-s) * c, a / (1 + c * c)


def mo_polar(x, y):
    return _polar(x, y)


def mo_swap(x, y, z):
    a, b = x * z, y - z
    a, b = b, a
    return a, b, a * b, math.tanh(a + b)


MULTI_CASES = [
    (mo_two, (0.7, 1.3)),
    (mo_two, (-1.2, 0.4)),
    (mo_three, (0.7, 1.3, -0.4)),
    (mo_polar, (0.7, -1.3)),
    (mo_swap, (0.7, 1.3, -0.4)),
]
MULTI_IDS = [f"{fn.__name__}@{pt}" for fn, pt in MULTI_CASES]


def _vectors(n, seed):
    rng = np.random.default_rng(seed)
    return tuple(float(v) for v in rng.uniform(-1.0, 1.0, n))


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
@pytest.mark.parametrize("fn,pt", MULTI_CASES, ids=MULTI_IDS)
def test_jvp_vjp_inner_product(fn, pt, jit):
    out = fn(*pt)
    m, n = len(out), len(pt)
    for seed in range(3):
        v = _vectors(n, seed)
        u = _vectors(m, 100 + seed)
        y, jv = adc.jvp(fn, pt, v, jit=jit)
        y2, pullback = adc.vjp(fn, *pt, jit=jit)
        assert isinstance(jv, tuple) and len(jv) == m
        assert y == pytest.approx(out, rel=1e-14) and y2 == pytest.approx(out, rel=1e-14)
        uj = pullback(u)
        assert isinstance(uj, tuple) and len(uj) == n
        assert all(type(c) is float for c in uj)
        lhs = sum(a * b for a, b in zip(uj, v))
        rhs = sum(a * b for a, b in zip(u, jv))
        assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
@pytest.mark.parametrize("fn,pt", MULTI_CASES, ids=MULTI_IDS)
def test_jvp_vjp_match_finite_difference_jacobian(fn, pt, jit):
    J = fd_jacobian(fn, pt)
    m, n = len(J), len(pt)
    _, pullback = adc.vjp(fn, *pt, jit=jit)
    for i in range(n):
        e = tuple(1.0 if j == i else 0.0 for j in range(n))
        _, col = adc.jvp(fn, pt, e, jit=jit)
        assert_close_seq(col, [J[k][i] for k in range(m)], what=f"jvp column {i}")
    for k in range(m):
        e = tuple(1.0 if j == k else 0.0 for j in range(m))
        assert_close_seq(pullback(e), J[k], what=f"vjp row {k}")


@pytest.mark.parametrize("fn,pt", POINTS[:12], ids=POINT_IDS[:12])
def test_scalar_jvp_vjp_agree_with_grad(fn, pt):
    g = grad_all(fn, pt)
    v = _vectors(len(pt), 7)
    y, jv = adc.jvp(fn, pt, v)
    assert y == pytest.approx(fn(*pt), rel=1e-14)
    assert jv == pytest.approx(sum(a * b for a, b in zip(g, v)), rel=1e-10, abs=1e-12)
    _, pullback = adc.vjp(fn, *pt)
    assert pullback(2.0) == pytest.approx(tuple(2.0 * c for c in g), rel=1e-12, abs=1e-12)


# --- tuple outputs that repeat a value --------------------------------------------------------------

def mo_repeated(x, y):
    a = x * y
    return a, math.sin(a), a


def mo_param_twice(x, y):
    return x, x * y, x


REPEATED = [(mo_repeated, (0.7, 1.3)), (mo_param_twice, (0.7, 1.3))]


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
@pytest.mark.parametrize("fn,pt", REPEATED, ids=[c[0].__name__ for c in REPEATED])
def test_jvp_repeated_outputs(fn, pt, jit):
    J = fd_jacobian(fn, pt)
    for i in range(len(pt)):
        e = tuple(1.0 if j == i else 0.0 for j in range(len(pt)))
        y, col = adc.jvp(fn, pt, e, jit=jit)
        assert y == pytest.approx(fn(*pt), rel=1e-14)
        assert_close_seq(col, [row[i] for row in J], what=f"jvp column {i}")


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
@pytest.mark.parametrize("fn,pt", REPEATED, ids=[c[0].__name__ for c in REPEATED])
def test_vjp_repeated_outputs(fn, pt, jit):
    J = fd_jacobian(fn, pt)
    y, pullback = adc.vjp(fn, *pt, jit=jit)
    assert y == pytest.approx(fn(*pt), rel=1e-14)
    u = (1.0, 10.0, 100.0)
    want = [sum(u[k] * J[k][i] for k in range(3)) for i in range(len(pt))]
    assert_close_seq(pullback(u), want, what="vjp")

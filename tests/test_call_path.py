"""The call path of the function ``adc.grad`` returns.

After the first call with scalar arguments, that function *is* the generated code adc runs (the
code ``adc source --compact`` prints, with an argument-type guard in place of its docstring
line); calls with other argument types still take the checked path.
"""
from __future__ import annotations

import math
import traceback
from pathlib import Path

import numpy as np
import pytest

import adc
from test_lecture import f, neuron  # the functions of examples/lecture.py

EXPECTED = (1.0 / 2.0 + 5.0, 2.0 - math.cos(5.0))


def square_root_sum(x, y):
    return math.sqrt(x) + x * y


def scaled(x, n):
    return n * x * x


def test_first_call_installs_the_compact_generated_code():
    g = adc.grad(f, argnums=(0, 1))
    assert g(2.0, 5.0) == pytest.approx(EXPECTED, rel=1e-15)
    code = g.__code__
    assert code.co_name == "f_grad"
    text = Path(code.co_filename).read_text()
    assert text == adc.source(f, argnums=(0, 1), compact=True)
    assert "return x2 + 1.0 / x1, x1 - math.cos(x2)" in text
    assert g(2.0, 5.0) == pytest.approx(EXPECTED, rel=1e-15)  # now straight through the generated code
    assert g.__name__ == "f" and g.__wrapped__ is f


@pytest.mark.parametrize("args", [(2, 5), (np.float64(2.0), 5.0), (2.0, 5), (True, 5.0)],
                         ids=["ints", "np.float64", "int-second", "bool"])
def test_other_argument_types_after_the_fast_path(args):
    g = adc.grad(f, argnums=(0, 1))
    g(2.0, 5.0)
    if args[0] is True:
        with pytest.raises(adc.AdcError, match="cannot differentiate with respect to an argument of type bool"):
            g(*args)
        return
    want = (1.0 / float(args[0]) + float(args[1]), float(args[0]) - math.cos(float(args[1])))
    got = g(*args)
    assert got == pytest.approx(want, rel=1e-15)
    assert all(type(c) is float for c in got)


def test_keyword_arguments_before_and_after_the_fast_path():
    g = adc.grad(f, argnums=(0, 1))
    assert g(x1=2.0, x2=5.0) == pytest.approx(EXPECTED, rel=1e-15)
    assert g(x1=2.0, x2=5.0) == pytest.approx(EXPECTED, rel=1e-15)


def test_a_bad_argument_after_the_fast_path_is_an_adc_error():
    g = adc.grad(f, argnums=(0, 1))
    g(2.0, 5.0)
    with pytest.raises(adc.AdcError, match="type str"):
        g("2.0", 5.0)


def test_int_non_differentiated_argument_keeps_its_own_fast_path():
    g = adc.grad(scaled)
    assert g(1.5, 3) == pytest.approx(9.0, rel=1e-15)
    assert g(1.5, 3) == pytest.approx(9.0, rel=1e-15)
    assert g(1.5, 2.5) == pytest.approx(7.5, rel=1e-15)  # a float n: another signature, same answer


def test_errors_inside_the_generated_code_point_at_its_line():
    g = adc.grad(square_root_sum, argnums=(0, 1))
    assert g(4.0, 3.0) == pytest.approx((0.25 + 3.0, 4.0), rel=1e-15)
    with pytest.raises(ValueError) as info:
        g(-4.0, 3.0)
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert frame.filename == g.__code__.co_filename
    assert "math.sqrt(x)" in frame.line  # line numbers match the generated file


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_single_argnum_returns_a_float(jit):
    g = adc.grad(neuron, argnums=4, jit=jit)
    point = (2.0, -1.0, -3.0, -2.0, -3.0)
    s = 1.0 / (1.0 + math.exp(-(2.0 * -1.0 + -3.0 * -2.0 - 3.0)))
    for _ in range(2):
        got = g(*point)
        assert type(got) is float and got == pytest.approx(s * (1.0 - s), rel=1e-14)
    assert g(2, -1, -3, -2, -3) == pytest.approx(s * (1.0 - s), rel=1e-14)


def uses_np_as_a_name(np, y):
    return np * np * y


def test_keyword_arguments_when_the_generated_code_renames_a_parameter():
    g = adc.grad(uses_np_as_a_name)  # the generated code calls the parameter `np_1`
    assert g(2.0, 3.0) == pytest.approx(12.0, rel=1e-15)
    assert g(np=2.0, y=3.0) == pytest.approx(12.0, rel=1e-15)
    assert g(2.0, 3.0) == pytest.approx(12.0, rel=1e-15)


def loops_with_a_parameter_named_range(x, range):
    s = x[0]
    k = 0
    while k < 3:  # reversed with a counted loop: ``for ... in range(n - 1, -1, -1)``
        s = s * range + np.cos(s)
        k += 1
    for v in x:
        if v > 0.1:
            s = s + v * range
    return s + np.sum(np.clip(x, -0.5, 0.5))


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_a_parameter_named_like_a_builtin_the_generated_code_calls(jit):
    """A parameter named ``range`` hid the builtin from the reverse sweep's loops (a located
    ``TypeError: 'float' object is not callable``; under ``jit`` Numba could not compile it): the
    generated code calls it ``range_1`` now, as it does every builtin in ``GENERATED_BUILTINS``."""
    f, x, r, h = loops_with_a_parameter_named_range, np.array([0.3, -0.7, 1.2, 0.9]), 1.3, 1e-6
    want_x = [(f(x + h * e, r) - f(x - h * e, r)) / (2 * h) for e in np.eye(4)]
    want_r = (f(x, r + h) - f(x, r - h)) / (2 * h)
    g = adc.grad(f, argnums=(0, 1), jit=jit)
    for _ in range(2):  # the checked call, then the fast path
        gx, gr = g(x, r)
        np.testing.assert_allclose(gx, want_x, rtol=1e-7, atol=1e-9)
        assert gr == pytest.approx(want_r, rel=1e-7)
    assert "def loops_with_a_parameter_named_range_grad(x, range_1):" in adc.source(f, argnums=(0, 1), at=(x, r))


# -- the runners of jvp, jacfwd and grad with arrays (adc/fastpath.py) ------------------------------

SCALE = 2.0
WEIGHTS = np.array([1.0, -1.0, 0.5])


def sin_dot(x):
    return np.sum(np.sin(x) * x) * SCALE


def weighted(p):
    return np.sum(p["w"] * p["w"] * WEIGHTS) + np.sum(np.exp(p["b"]))


def sin_dot_grad(x):
    return (np.cos(x) * x + np.sin(x)) * SCALE


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_repeated_array_calls_use_each_calls_values(jit):
    """Calls with one signature run one cached runner: every result is the analytic one for its
    own arguments (nothing of an earlier call is reused)."""
    g = adc.grad(sin_dot, jit=jit)
    rng = np.random.default_rng(3)
    for _ in range(4):
        x, v = rng.normal(size=3), rng.normal(size=3)
        np.testing.assert_allclose(g(x), sin_dot_grad(x), rtol=1e-14)
        value, tangent = adc.jvp(sin_dot, (x,), (v,), jit=jit)
        assert value == pytest.approx(sin_dot(x), rel=1e-14)
        assert tangent == pytest.approx(sin_dot_grad(x) @ v, rel=1e-13)


def test_repeated_tree_calls_use_each_calls_values():
    g = adc.grad(weighted)
    rng = np.random.default_rng(4)
    for _ in range(3):
        p = {"w": rng.normal(size=3), "b": rng.normal(size=2)}
        t = {"w": rng.normal(size=3), "b": rng.normal(size=2)}
        got = g(p)
        np.testing.assert_allclose(got["w"], 2 * p["w"] * WEIGHTS, rtol=1e-14)
        np.testing.assert_allclose(got["b"], np.exp(p["b"]), rtol=1e-14)
        _, tangent = adc.jvp(weighted, (p,), (t,))
        assert tangent == pytest.approx(got["w"] @ t["w"] + got["b"] @ t["b"], rel=1e-13)


def test_a_rebound_global_and_a_global_array_written_in_place_are_seen(monkeypatch):
    x, v = np.array([0.3, -0.4, 1.2]), np.array([1.0, 0.5, -2.0])
    g = adc.grad(sin_dot)
    _, before = adc.jvp(sin_dot, (x,), (v,))
    g(x)
    monkeypatch.setattr(__import__(__name__), "SCALE", 3.0)
    np.testing.assert_allclose(g(x), sin_dot_grad(x), rtol=1e-14)  # SCALE is 3.0 now
    _, after = adc.jvp(sin_dot, (x,), (v,))
    assert after == pytest.approx(before * 1.5, rel=1e-13)
    p = {"w": np.array([1.0, 2.0, 3.0]), "b": np.zeros(2)}
    gw = adc.grad(weighted)
    gw(p)
    WEIGHTS[0] = 4.0  # a global array is read at every call
    try:
        np.testing.assert_allclose(gw(p)["w"], [8.0, -4.0, 3.0], rtol=1e-15)
        t = {"w": np.array([1.0, 0.0, 0.0]), "b": np.zeros(2)}
        assert adc.jvp(weighted, (p,), (t,))[1] == pytest.approx(8.0, rel=1e-15)
    finally:
        WEIGHTS[0] = 1.0


def test_a_redefined_function_gets_its_own_runners():
    """A notebook cell run again defines a new function object in the same namespace (its text
    kept in ``linecache``, as IPython keeps it): its jvp and jacfwd are its own."""
    import linecache

    namespace = {"np": np}
    cells = []
    for k, body in enumerate(("x * x", "x * x * x")):
        source = f"def cell(x):\n    return np.sum({body})\n"
        filename = f"<adc-test-cell-{k}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
        cells.append(namespace["cell"])
    x, v = np.array([1.0, 2.0]), np.array([1.0, -1.0])
    assert adc.jvp(cells[0], (x,), (v,))[1] == pytest.approx(2 * 1.0 - 2 * 2.0, rel=1e-15)
    np.testing.assert_allclose(adc.jacfwd(cells[0])(x), [2.0, 4.0], rtol=1e-15)
    assert adc.jvp(cells[1], (x,), (v,))[1] == pytest.approx(3 * 1.0 - 3 * 4.0, rel=1e-15)
    np.testing.assert_allclose(adc.jacfwd(cells[1])(x), [3.0, 12.0], rtol=1e-15)
    assert adc.jvp(cells[0], (x,), (v,))[1] == pytest.approx(-2.0, rel=1e-15)  # the first is still itself


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_a_new_dtype_or_shape_gets_its_own_runner(jit):
    g = adc.grad(sin_dot, jit=jit)
    for x in (np.array([0.1, 0.2, 0.3]), np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 2, 3]),
              np.array([0.1, 0.2, 0.3])):
        got = g(x)
        assert got.dtype == np.float64 and got.shape == x.shape
        np.testing.assert_allclose(got, sin_dot_grad(x.astype(float)), rtol=1e-14)
        v = np.ones(x.shape)
        tangent = adc.jvp(sin_dot, (x.astype(float),), (v,), jit=jit)[1]
        assert tangent == pytest.approx(float(np.sum(sin_dot_grad(x.astype(float)))), rel=1e-13)
    x32 = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    got = g(x32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, sin_dot_grad(x32.astype(float)), rtol=1e-5)
    with pytest.raises(adc.DifferentiationError, match="shape"):
        adc.jvp(sin_dot, (np.ones(3),), (np.ones(4),))  # a tangent of another shape: its own, checked signature


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_each_of_the_first_signatures_gets_its_own_fast_path(jit, monkeypatch):
    """Calls with arrays of several shapes (GradBench's det at ell = 5..9, a last short batch):
    each of the first ``FAST_SIGNATURES`` signatures gets a checking block in the wrapper, every
    call gives its own arguments' gradient whichever block or path it takes, later signatures take
    the checked path, and a rebound global drops every block."""
    from adc.api import FAST_SIGNATURES

    g = adc.grad(sin_dot, jit=jit)
    rng = np.random.default_rng(11)
    sizes = list(range(1, FAST_SIGNATURES + 3))
    for _ in range(2):  # in order, then again: each signature's block (or the checked path)
        for n in sizes:
            x = rng.normal(size=n)
            got = g(x)
            assert got.shape == (n,) and got is not x and got.flags.writeable
            np.testing.assert_allclose(got, sin_dot_grad(x), rtol=1e-14)
    names = g.__code__.co_names
    assert all(f"_adc{m}_s0_" in names for m in range(FAST_SIGNATURES))
    assert f"_adc{FAST_SIGNATURES}_s0_" not in names
    x = rng.normal(size=3)
    monkeypatch.setattr(__import__(__name__), "SCALE", 3.0)
    np.testing.assert_allclose(g(x), sin_dot_grad(x), rtol=1e-14)  # SCALE is 3.0 now, for every shape
    x2 = rng.normal(size=2)
    np.testing.assert_allclose(g(x2), sin_dot_grad(x2), rtol=1e-14)
    assert "_adc0_s0_" in g.__code__.co_names and "_adc2_s0_" not in g.__code__.co_names  # made again


def sqrt_sum(x):
    return np.sum(np.sqrt(x))


def test_an_error_on_the_cached_path_stays_located():
    x = np.array([1.0, 4.0])
    assert adc.jvp(sqrt_sum, (x,), (np.ones(2),))[1] == pytest.approx(0.5 + 0.25, rel=1e-15)
    with np.errstate(all="raise"), pytest.raises(adc.EvaluationError) as info:
        adc.jvp(sqrt_sum, (np.array([0.0, 4.0]),), (np.ones(2),))
    assert "return np.sum(np.sqrt(x))" in str(info.value) and "test_call_path.py" in str(info.value)


# -- grad's fast path for array arguments ---------------------------------------------------------

def dot(x, y):
    return np.sum(x * y)


def first_only(x, y):
    return np.sum(x * x)


def writes_its_argument(x):
    x[0] = 2.0 * x[0]
    return np.sum(x * x)


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_the_array_fast_path_keeps_every_check(jit):
    """After the first call the wrapper checks class, dtype and shape of each array and calls the
    generated code; a gradient that is an input, another gradient or not of its argument's shape is
    still copied or broadcast, and other dtypes and shapes take the checked path."""
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 4.0])
    g = adc.grad(dot, argnums=(0, 1), jit=jit)
    for _ in range(3):  # the first call installs the fast path, the others take it
        gx, gy = g(x, y)
        np.testing.assert_array_equal(gx, y)
        np.testing.assert_array_equal(gy, x)
        assert gx is not y and gy is not x and gx.flags.writeable and gy.flags.writeable
    assert "_adc0_s0_" in g.__code__.co_names  # the array guard is in place
    gx[0] = 99.0
    assert y[0] == 0.5  # writing into a gradient leaves the arguments alone
    z, z32 = np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0], dtype=np.float32)
    for a in (z, z32, x):  # another shape, another dtype, then the first signature again
        gx, gy = g(a, a)
        assert gx.dtype == a.dtype and gx.shape == a.shape and gx is not gy and gx is not a
        np.testing.assert_allclose(gx, a, rtol=1e-6)
    g = adc.grad(first_only, argnums=(0, 1), jit=jit)
    for _ in range(2):
        gx, gy = g(x, y)
        np.testing.assert_array_equal(gx, 2.0 * x)
        np.testing.assert_array_equal(gy, np.zeros(3))  # a zero comes back as a writeable array
        assert gy.flags.writeable and gy.shape == (3,)


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_the_array_fast_path_never_writes_into_an_argument(jit):
    g = adc.grad(writes_its_argument, jit=jit)
    for _ in range(3):
        x = np.array([1.0, 3.0])
        np.testing.assert_allclose(g(x), [8.0, 6.0], rtol=1e-15)
        np.testing.assert_array_equal(x, [1.0, 3.0])


def test_an_error_on_the_array_fast_path_stays_located():
    g = adc.grad(sqrt_sum)
    np.testing.assert_allclose(g(np.array([1.0, 4.0])), [0.5, 0.25], rtol=1e-15)
    np.testing.assert_allclose(g(np.array([4.0, 1.0])), [0.25, 0.5], rtol=1e-15)  # on the fast path
    with np.errstate(all="raise"), pytest.raises(adc.EvaluationError) as info:
        g(np.array([0.0, 4.0]))
    assert "return np.sum(np.sqrt(x))" in str(info.value) and "test_call_path.py" in str(info.value)
    np.testing.assert_allclose(g(np.array([1.0, 4.0, 16.0])), [0.5, 0.25, 0.125], rtol=1e-15)
    np.testing.assert_allclose(g(np.array([4.0, 1.0, 1.0])), [0.25, 0.5, 0.5], rtol=1e-15)  # a second block
    assert "_adc1_fail_" in g.__code__.co_names
    with np.errstate(all="raise"), pytest.raises(adc.EvaluationError) as info:
        g(np.array([1.0, 0.0, 4.0]))
    assert "return np.sum(np.sqrt(x))" in str(info.value) and "test_call_path.py" in str(info.value)


# -- value_and_grad's fast path ---------------------------------------------------------------------

def weighted_square(x, y):
    return x * x * y


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_value_and_grad_takes_the_fast_path_with_every_check(jit):
    """``value_and_grad`` gets the checked wrapper too: its result is ``(value, gradients)`` with
    the value a float, each gradient as the checked path gives it (not an argument, not another
    gradient, of its argument's shape and dtype), and other signatures take the checked path."""
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 4.0])
    both = adc.value_and_grad(dot, argnums=(0, 1), jit=jit)
    one = adc.value_and_grad(dot, jit=jit)
    for _ in range(3):  # the first call installs the fast path, the others take it
        value, (gx, gy) = both(x, y)
        assert value.__class__ is float and value == 10.5
        np.testing.assert_array_equal(gx, y)
        np.testing.assert_array_equal(gy, x)
        assert gx is not y and gy is not x and gx is not gy and gx.flags.writeable
        value, gx = one(x, y)
        assert value.__class__ is float and value == 10.5 and gx is not y
        np.testing.assert_array_equal(gx, y)
    assert "_adc0_fast_" in both.__code__.co_names and "_adc0_s1_" in both.__code__.co_names
    z32 = np.array([1.0, 2.0], dtype=np.float32)
    value, (gx, gy) = both(z32, z32)  # another dtype and shape: the checked path
    assert gx.dtype == np.float32 and gx.shape == (2,) and gx is not gy
    np.testing.assert_allclose(gx, z32, rtol=1e-6)
    assert value == pytest.approx(5.0, rel=1e-6)
    scalars = adc.value_and_grad(weighted_square, argnums=(0, 1), jit=jit)
    first = adc.value_and_grad(weighted_square, jit=jit)
    for _ in range(3):
        assert scalars(2.0, 3.0) == (12.0, (12.0, 4.0))
        value, g = first(2.0, 3.0)
        assert (value, g) == (12.0, 12.0) and value.__class__ is float and g.__class__ is float
    assert "_adc0_fast_" in scalars.__code__.co_names
    assert scalars(2, 3.0) == (12.0, (12.0, 4.0))  # an int: the checked path converts it


def test_an_error_on_the_value_and_grad_fast_path_stays_located():
    g = adc.value_and_grad(sqrt_sum)
    assert g(np.array([1.0, 4.0]))[0] == 3.0
    value, grad = g(np.array([4.0, 1.0]))  # on the fast path
    assert value == 3.0
    np.testing.assert_allclose(grad, [0.25, 0.5], rtol=1e-15)
    assert "_adc0_fast_" in g.__code__.co_names
    with np.errstate(all="raise"), pytest.raises(adc.EvaluationError) as info:
        g(np.array([0.0, 4.0]))
    assert "return np.sum(np.sqrt(x))" in str(info.value) and "test_call_path.py" in str(info.value)


def ratio_plus_product(w, y):
    return w / y + w * y


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_numpy_float_arguments_take_the_fast_path_as_python_floats(jit):
    """An ``np.float64`` argument (``w[0]``) took the checked path on every call (particle's outer
    derivative: 14-30 us a call against 0.1-0.9 us): the fast path's wrapper now takes a float
    argument as a ``float`` or an ``np.float64``, passing it to the generated code as a Python
    float, as the checked path does (so ``x / 0.0`` raises as it does there)."""
    w, y = np.float64(2.0), np.float64(3.0)
    g = adc.grad(ratio_plus_product, argnums=(0, 1), jit=jit)
    vg = adc.value_and_grad(ratio_plus_product, argnums=(0, 1), jit=jit)
    for _ in range(3):
        gw, gy = g(w, y)
        assert (gw, gy) == (1 / 3.0 + 3.0, -2.0 / 9.0 + 2.0) and gw.__class__ is float and gy.__class__ is float
        value, grads = vg(w, y)
        assert value.__class__ is float and value == 2.0 / 3.0 + 6.0 and grads == (gw, gy)
    assert "_adc0_fast_" in g.__code__.co_names and "_adc0_fast_" in vg.__code__.co_names
    assert g(2.0, 3.0) == (gw, gy) and vg(2.0, y) == (value, grads)  # Python floats: the same fast path
    assert "_adc0_fast_" in g.__code__.co_names and "_adc0_fast_" in vg.__code__.co_names
    assert g(w, np.float64(4.0)) == (0.25 + 4.0, -2.0 / 16.0 + 2.0)  # each call's own values
    if not jit:  # (Numba's division gives inf: ``error_model="numpy"``)
        for h in (g, vg):
            with pytest.raises(adc.EvaluationError, match="division by zero"):
                h(w, np.float64(0.0))
    # found by review: an argument not differentiated is passed on as it is, on both paths (an
    # ``np.float64`` divides by zero as NumPy's, to inf)
    in_w = adc.grad(ratio_plus_product, jit=jit)
    assert in_w(1.0, np.float64(2.0)) == 2.5
    assert "_adc0_t1_" in in_w.__code__.co_names  # a fast path (its guard) is in place
    with np.errstate(divide="ignore"):
        assert in_w(1.0, np.float64(0.0)) == adc.grad(ratio_plus_product, jit=jit)(1.0, np.float64(0.0)) == np.inf


def scaled_by_len(x, len):
    return x * len


def weighted_by_float(x, float):
    return np.sum(x * x) * float


def sqrt_times_exception(x, Exception):
    return math.sqrt(x) * Exception


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_the_fast_path_keeps_working_when_a_parameter_hides_a_builtin(jit):
    """The fast path's code takes the user's parameter names, so the builtins it uses go by names
    no parameter can hide (found by review: ``len`` and ``float`` raised a raw ``TypeError`` on
    the second call, ``Exception`` turned a located error into one)."""
    x = np.array([1.0, 2.0])
    for transform in (adc.grad, adc.value_and_grad):
        a, b = transform(scaled_by_len, jit=jit), transform(weighted_by_float, jit=jit)
        for _ in range(3):
            assert a(2.0, 3.0) == ((6.0, 3.0) if transform is adc.value_and_grad else 3.0)
            got = b(x, 3.0)
            np.testing.assert_array_equal(got[1] if transform is adc.value_and_grad else got, [6.0, 12.0])
        assert "_adc0_fail_" in a.__code__.co_names and "_adc0_fail_" in b.__code__.co_names  # fast paths
        c = transform(sqrt_times_exception)
        c(4.0, 3.0)
        c(4.0, 3.0)  # on the fast path
        with pytest.raises(adc.EvaluationError, match="math domain error"):
            c(-1.0, 3.0)

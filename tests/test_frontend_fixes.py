"""Front-end fixes of issue 9, each a regression test against central finite differences (both
modes, and ``jit=True``) or against the exact adc error it must raise.

* Transposes with an axis order: ``np.transpose(x, axes)``, ``x.transpose(1, 0, 2)``, ``x.T`` on
  3-D arrays, ``np.swapaxes``, ``np.moveaxis``.
* Statements run for an effect: generators and coroutines are refused as such; a call statement
  (``y.sort()``, ``np.add.at``, ``print``, a helper called for what it writes) is named, with a hint
  that keeps the function's meaning (checked by running the rewrite); only provably pure
  expressions are "no effect" with the hint to remove them.
* ``np.concatenate(..., axis=None)`` flattens first (both modes); one-argument ``np.where`` and
  other argument errors of NumPy calls are located adc errors.
* Partials that divide by zero where the function itself is fine (``sqrt`` at 0, ``atan2`` at the
  origin, ``x ** 0.5`` at 0, the exponent of ``0 ** y``) give NumPy's value (inf/nan, documented in
  docs/rules.md) in every mode, never a ``ZeroDivisionError``; where the user's own function raises,
  adc raises the same exception class.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable

import numpy as np
import pytest

import adc
from test_errors import check_located

H = 1e-6


def fd_grad(fn: Callable[..., Any], args: tuple, i: int, h: float = H) -> Any:
    """``d fn / d args[i]`` of scalar ``fn`` by central differences."""
    a = args[i]
    if not isinstance(a, np.ndarray):
        lo, hi = list(args), list(args)
        lo[i], hi[i] = a - h, a + h
        return (fn(*hi) - fn(*lo)) / (2 * h)
    g = np.zeros_like(a)
    for k in range(a.size):
        lo = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        hi = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        lo[i].flat[k] -= h
        hi[i].flat[k] += h
        g.flat[k] = (fn(*hi) - fn(*lo)) / (2 * h)
    return g


def check_gradient(fn: Callable[..., Any], args: tuple, jit: bool = True) -> None:
    """Reverse, forward (and jitted reverse and forward) gradients w.r.t. every argument equal FD; the
    value equals the function's own."""
    wrt = tuple(range(len(args)))
    want = [fd_grad(fn, args, i) for i in wrt]
    value, got = adc.value_and_grad(fn, argnums=wrt)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    runs = {"reverse": got, "forward": adc.grad(fn, argnums=wrt, mode="forward")(*args)}
    if jit:
        runs["jit"] = adc.grad(fn, argnums=wrt, jit=True)(*args)
        runs["jit forward"] = adc.grad(fn, argnums=wrt, mode="forward", jit=True)(*args)
    for mode, grads in runs.items():
        for i, (g, w) in enumerate(zip(grads, want)):
            assert np.shape(g) == np.shape(args[i]), (mode, i)
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7, err_msg=f"{mode}, argument {i}")


# --- 1. transposes with an axis order -----------------------------------------------------------


def transpose_axes(x, w):
    return np.sum(w * np.transpose(x, (1, 0, 2)))


def transpose_method(x, w):
    return np.sum(w * x.transpose(1, 0, 2))


def transpose_method_tuple(x, w):
    return np.sum(w * x.transpose((2, 0, 1)))


def transpose_keyword(x, w):
    return np.sum(w * np.transpose(x, axes=(2, 0, 1)))


def transpose_negative(x, w):
    return np.sum(w * np.transpose(x, (0, -1, 1)))


def transpose_T_3d(x, w):
    return np.sum(w * np.sin(x.T))


def transpose_default_3d(x, w):
    return np.sum(w * np.transpose(x) ** 2)


def swapaxes_fn(x, w):
    return np.sum(w * np.swapaxes(x, 0, 2))


def swapaxes_method(x, w):
    return np.sum(w * x.swapaxes(-1, 1))


def moveaxis_fn(x, w):
    return np.sum(w * np.moveaxis(x, 0, -1))


def transpose_twice(x, w):
    y = np.transpose(x, (1, 2, 0))
    return np.sum(w * np.transpose(y * y, (2, 0, 1)))


def transpose_identity(x, w):
    return np.sum(w * np.transpose(x, (0, 1, 2)))


_rng = np.random.default_rng(9)
X = _rng.standard_normal((2, 3, 4))
TRANSPOSES = [
    (transpose_axes, (1, 0, 2)), (transpose_method, (1, 0, 2)), (transpose_method_tuple, (2, 0, 1)),
    (transpose_keyword, (2, 0, 1)), (transpose_negative, (0, 2, 1)), (transpose_T_3d, (2, 1, 0)),
    (transpose_default_3d, (2, 1, 0)), (swapaxes_fn, (2, 1, 0)), (swapaxes_method, (0, 2, 1)),
    (moveaxis_fn, (1, 2, 0)), (transpose_twice, (0, 1, 2)), (transpose_identity, (0, 1, 2)),
]


@pytest.mark.parametrize("fn,axes", TRANSPOSES, ids=[f.__name__ for f, _ in TRANSPOSES])
def test_transpose_with_axes(fn, axes):
    w = _rng.standard_normal(np.transpose(X, axes).shape)
    # every form lowers to one op rendered two ways (`np.transpose(x, axes)`, `x.T`): Numba compiles both
    check_gradient(fn, (X.copy(), w), jit=fn in (transpose_axes, transpose_T_3d))


def test_transpose_axes_jvp_and_vjp_match_finite_differences():
    # the example of the issue, through jvp and vjp directly: the tangent is transposed forward,
    # the cotangent with the inverse permutation
    w = _rng.standard_normal((3, 2, 4))
    v = _rng.standard_normal(X.shape)
    _, tangent = adc.jvp(transpose_axes, (X, w), (v, np.zeros_like(w)))
    assert tangent == pytest.approx(np.sum(w * np.transpose(v, (1, 0, 2))))
    out, pullback = adc.vjp(transpose_axes, X, w)
    gx, gw = pullback(1.0)
    np.testing.assert_allclose(gx, np.transpose(w, (1, 0, 2)))
    np.testing.assert_allclose(gw, np.transpose(X, (1, 0, 2)))


def transpose_bad_axes(x):
    return np.sum(np.transpose(x, (0, 0, 1)))


def swapaxes_out_of_range(x):
    return np.sum(np.swapaxes(x, 0, 3))


@pytest.mark.parametrize("fn,words", [(transpose_bad_axes, "name an axis twice"), (swapaxes_out_of_range, "out of range")])
def test_bad_axes_are_located_errors(fn, words):
    with pytest.raises(adc.UnsupportedError, match=words) as info:
        adc.grad(fn)(X)
    assert info.value.loc is not None and info.value.loc.filename == __file__
    assert info.value.hint


# --- 2. statements run for their effect ----------------------------------------------------------


def located(fn: Callable[..., Any], marker: str) -> tuple[int, int, str]:
    """(line, 1-based column, text) of ``marker`` in ``fn``'s source in this file."""
    lines, first = inspect.getsourcelines(fn)
    for k, text in enumerate(lines):
        if marker in text and k > 0 or marker.startswith("async def") and marker in text:
            return first + k, text.index(marker) + 1, text
    raise AssertionError(marker)


def sorts_in_place(x):
    y = x.copy()
    y.sort()
    return np.sum(y * x)


def sorts_in_place_rewritten(x):
    y = x.copy()
    y[:] = np.sort(y)
    return np.sum(y * x)


def multiplies_at(x):
    y = x * 1.5
    np.multiply.at(y, 2, 3.0)
    return np.sum(y * x)


def multiplies_at_rewritten(x):
    y = x * 1.5
    y[2] *= 3.0
    return np.sum(y * x)


def fills(x):
    y = np.zeros((2, 3))
    y.fill(x[0])
    return np.sum(y * y)


def fills_rewritten(x):
    y = np.zeros((2, 3))
    y[:, :] = x[0]
    return np.sum(y * y)


def copies_to(x):
    y = np.zeros(3)
    np.copyto(y, np.sin(x))
    return np.sum(y * x)


def copies_to_rewritten(x):
    y = np.zeros(3)
    y[:] = np.sin(x)
    return np.sum(y * x)


def write_first(y, v):
    y[0] = v
    return y


def helper_for_effect(x):
    y = np.zeros(3)
    write_first(y, x[0])
    return np.sum(y)


def prints(x):
    y = x * 2.0
    print(y)
    return np.sum(y)


def generator(x):
    y = x * 2.0
    yield y


def generator_after_return(x):
    return np.sum(x)
    yield x


async def coroutine(x):
    return np.sum(x)


def impure_inside(x):
    np.sum(x) + np.sum(x.sort())
    return np.sum(x)


# (function, marker of the caret, words the message must contain, a rewrite meaning the same or None)
EFFECT_CASES = [
    (sorts_in_place, "y.sort()", ["`y.sort()`", "in-place"], sorts_in_place_rewritten),
    (multiplies_at, "np.multiply.at", ["np.multiply.at", "in-place"], multiplies_at_rewritten),
    (fills, "y.fill", ["`y.fill(x[0])`"], fills_rewritten),
    (copies_to, "np.copyto", ["np.copyto"], copies_to_rewritten),
    (helper_for_effect, "write_first(y", ["write_first", "effect"], None),
    (prints, "print(y)", ["print(y)"], None),
    (generator, "yield y", ["generator", "yield"], None),
    (generator_after_return, "yield x", ["generator", "yield"], None),
    (coroutine, "async def", ["async"], None),
    (impure_inside, "x.sort()", ["sort"], None),
]


@pytest.mark.parametrize("fn,marker,words,rewrite", EFFECT_CASES, ids=[c[0].__name__ for c in EFFECT_CASES])
def test_effect_statements_are_named_not_removed(fn, marker, words, rewrite):
    x = np.array([0.3, -1.2, 0.7])
    line, col, text = located(fn, marker)
    for run in (lambda: adc.grad(fn)(x), lambda: adc.grad(fn, mode="forward")(x), lambda: adc.source(fn, at=(x,))):
        with pytest.raises(adc.UnsupportedError) as info:
            run()
        check_located(info.value, line, col, text, __file__, *words)
        message = str(info.value)
        assert "no effect" not in message and "hint: remove it" not in message, message
    if rewrite is not None:
        # the hint's rewrite means the same (NumPy runs both) and adc differentiates it
        assert rewrite(x.copy()) == pytest.approx(fn(x.copy()), rel=1e-12)
        assert f"`{inspect.getsource(rewrite).splitlines()[2].strip()}`" in str(info.value)
        check_gradient(rewrite, (x,), jit=False)


def pure_statement(x):
    x * 2.0 + np.sin(x[0])
    return np.sum(x)


def bare_name(x):
    x
    return np.sum(x)


@pytest.mark.parametrize("fn,marker", [(pure_statement, "x * 2.0"), (bare_name, "x\n")])
def test_pure_expression_statement_has_no_effect(fn, marker):
    line, col, text = located(fn, marker)
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn)(np.ones(2))
    check_located(info.value, line, col, text, __file__, "no effect")


# --- 3. np.concatenate(axis=None), np.where(cond) ---------------------------------------------


def concatenate_flat(x, z):
    return np.sum(np.sin(np.concatenate((x, z), axis=None)) * np.arange(10.0))


def concatenate_flat_1d(x, z):
    return np.sum(np.concatenate([x[0], z * z], axis=None) ** 2)


def concatenate_negative_axis(x, z):
    return np.sum(np.concatenate((x, x * z[0]), axis=-1) ** 3)


def test_concatenate_axis_none():
    x, z = _rng.standard_normal((2, 3)), _rng.standard_normal(4)
    check_gradient(concatenate_flat, (x, z))
    check_gradient(concatenate_flat_1d, (x, z), jit=False)
    check_gradient(concatenate_negative_axis, (x, z), jit=False)


def where_one_argument(x, z):
    i = np.where(x > 0.0)
    return np.sum(x)


def where_two_arguments(x, z):
    return np.sum(np.where(x > 0.0, x))


def concatenate_bad_axis(x, z):
    return np.sum(np.concatenate((x, x), axis=2))


def stack_axis_none(x, z):
    return np.sum(np.stack((x, x), axis=None))


def concatenate_mixed_ranks(x, z):
    return np.sum(np.concatenate((x, z)))


@pytest.mark.parametrize("fn,marker,words", [
    (where_one_argument, "np.where", ["np.where", "one argument"]),
    (where_two_arguments, "np.where", ["np.where", "3 arguments"]),
    (concatenate_bad_axis, "np.concatenate", ["out of range"]),
    (stack_axis_none, "np.stack", ["out of range"]),
    (concatenate_mixed_ranks, "np.concatenate", ["dimensions"]),
])
def test_numpy_call_errors_are_located(fn, marker, words):
    line, col, text = located(fn, marker)
    x, z = _rng.standard_normal((2, 3)), _rng.standard_normal(4)
    for mode in ("reverse", "forward"):
        with pytest.raises(adc.UnsupportedError) as info:
            adc.grad(fn, mode=mode)(x, z)
        check_located(info.value, line, col, text, __file__, *words)


# --- 4. partials at points where they divide by zero ----------------------------------------------


def sqrt_fn(x):
    return math.sqrt(x)


def sqrt_array(x):
    return np.sum(np.sqrt(x))


def atan2_fn(y, x):
    return math.atan2(y, x)


def power_half(x):
    return x ** 0.5


def power_zero(x):
    return x ** 0 + x


def power_var(x, y):
    return x ** y


ALL_MODES = [("reverse", False), ("forward", False), ("reverse", True), ("forward", True)]
INF, NAN = math.inf, math.nan


# (function, point, gradient in reverse mode, in forward mode).  Forward mode multiplies each
# partial by the other pass's zero tangent: 0 * inf is nan (as in JAX's jacfwd; docs/rules.md).
AT_ZERO = [
    (sqrt_fn, (0.0,), (INF,), (INF,)),                # JAX and NumPy: +inf
    (power_half, (0.0,), (INF,), (INF,)),
    (power_zero, (0.0,), (1.0,), (1.0,)),             # x ** 0 is constant: its derivative is 0 everywhere
    (power_zero, (2.0,), (1.0,), (1.0,)),
    (atan2_fn, (0.0, 0.0), (NAN, NAN), (NAN, NAN)),   # NumPy: 0 / 0
    (power_var, (0.0, 2.0), (0.0, 0.0), (0.0, 0.0)),  # 0 ** y is 0 for every y > 0: d/dy is 0 (as in JAX)
    (power_var, (0.0, 1.0), (1.0, 0.0), (1.0, 0.0)),
    (power_var, (0.0, 0.5), (INF, 0.0), (INF, NAN)),
    (power_var, (0.0, 0.0), (NAN, 0.0), (NAN, NAN)),  # 0 * 0 ** -1: NumPy's nan
]


@pytest.mark.parametrize("mode,jit", ALL_MODES)
@pytest.mark.parametrize("fn,point,reverse,forward", AT_ZERO,
                         ids=[f"{c[0].__name__}{c[1]}" for c in AT_ZERO])
def test_partials_at_zero_follow_numpy(fn, point, reverse, forward, mode, jit):
    with np.errstate(all="ignore"):
        grads = adc.grad(fn, argnums=tuple(range(len(point))), mode=mode, jit=jit)(*point)
    grads = grads if isinstance(grads, tuple) else (grads,)
    want = reverse if mode == "reverse" else forward
    np.testing.assert_array_equal(np.array(grads, dtype=float), np.array(want, dtype=float))


@pytest.mark.parametrize("fn,want", [(sqrt_fn, -INF), (power_half, -INF)])
def test_second_derivative_at_zero_follows_the_formula(fn, want):
    # -1/4 x ** -1.5 at 0: the NumPy division and power of the first derivative carry into the second
    with np.errstate(all="ignore"):
        assert adc.hessian(fn)(0.0) == want
        assert adc.hessian(fn)(4.0) == pytest.approx(-1.0 / 32.0)


def test_sqrt_at_zero_on_arrays_and_away_from_zero():
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(adc.grad(sqrt_array)(np.array([0.0, 4.0])), [math.inf, 0.25])
    for fn, point in [(sqrt_fn, (0.3,)), (power_half, (2.0,)), (atan2_fn, (0.5, -0.25)), (power_var, (1.5, 0.5)),
                      (power_var, (0.3, 2.5)), (power_zero, (0.7,))]:
        check_gradient(fn, point)


def power_negative_base(x, y):
    return x ** y


def test_power_with_negative_base_derivative_in_exponent_is_nan():
    # (-2) ** y is not real for y near 2: NumPy gives nan for d/dy; d/dx is exact in reverse mode
    with np.errstate(invalid="ignore"):
        gx, gy = adc.grad(power_negative_base, argnums=(0, 1))(-2.0, 2.0)
    assert gx == pytest.approx(-4.0) and math.isnan(gy)
    assert adc.grad(power_negative_base)(-2.0, 2.0) == pytest.approx(-4.0)


def log_fn(x):
    return math.log(x) * x


def sqrt_times(x):
    return math.sqrt(x) * 2.0


def divide(x, y):
    return x / y


@pytest.mark.parametrize("fn,point", [(log_fn, (0.0,)), (log_fn, (-1.0,)), (sqrt_times, (-1.0,)),
                                      (divide, (1.0, 0.0))])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_where_the_function_raises_adc_raises_the_same_class(fn, point, mode):
    with pytest.raises(Exception) as own:
        fn(*point)
    wrt = tuple(range(len(point)))
    for run in (adc.value_and_grad(fn, argnums=wrt, mode=mode), adc.grad(fn, argnums=wrt, mode=mode)):
        with pytest.raises(type(own.value)):
            run(*point)


def log_only(x):
    return math.log(x)


def test_log_at_zero_reverse_grad_raises_the_users_class():
    """The gradient divides 1.0 / x (ZeroDivisionError); the function itself raises ValueError at
    0, and that is what the user sees."""
    with pytest.raises(ValueError, match=r"math domain error \(raised by log_only itself"):
        adc.grad(log_only)(0.0)


def test_trace_tables_at_an_infinite_partial(recwarn):
    # the interpreter behind the tables evaluates like NumPy (inf), quietly; NumPy's division
    # reads as its plain operation in the listing
    text = adc.trace(sqrt_fn).tables(0.0)
    assert "gv1 * (0.5 / v1)  inf" in text and text.rstrip().endswith("inf")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def numpy_divide(x, y):
    return np.divide(x, y) + np.power(x, 2.0)


def test_numpy_divide_and_power_keep_numpy_semantics_on_floats():
    check_gradient(numpy_divide, (1.5, -0.5))
    with np.errstate(all="ignore"):
        assert numpy_divide(1.0, 0.0) == INF  # the function itself: NumPy's inf, no exception
        value, (gx, gy) = adc.value_and_grad(numpy_divide, argnums=(0, 1))(1.0, 0.0)
    assert value == INF and gx == INF and gy == -INF

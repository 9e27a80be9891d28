"""``jit="parallel"``: Numba's parallel compilation (fused element-wise loops) of the same
derivatives, equal to plain Python's and to central differences; other ``jit=`` values refused."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import adc
from test_lean_code import rk4  # GradBench's ode: array state through a loop, slice writes


def central(fn, x, args, h=1e-6):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (fn(x + e, *args) - fn(x - e, *args)) / (2 * h)
    return out


def test_parallel_gradient_and_jvp_equal_python_and_differences():
    x = np.linspace(0.5, 1.5, 9)
    u = np.cos(np.arange(9.0))
    python = adc.grad(rk4)(x, 4)
    parallel = adc.grad(rk4, jit="parallel")(x, 4)
    np.testing.assert_allclose(parallel, python, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(parallel, central(rk4, x, (4,)), rtol=1e-7, atol=1e-9)
    value, tangent = adc.jvp(rk4, (x, 4), (u, 0), jit="parallel")
    assert np.isclose(value, rk4(x, 4), rtol=1e-14)
    assert np.isclose(tangent, np.dot(parallel, u), rtol=1e-12)  # <grad, u> = J u


@pytest.mark.parametrize("bad", ["fast", 1, None, "Parallel"])
def test_other_jit_values_are_refused(bad):
    with pytest.raises(adc.DifferentiationError, match='jit must be False, True or "parallel"'):
        adc.grad(rk4, jit=bad)
    with pytest.raises(adc.DifferentiationError, match="jit must be"):
        adc.jvp(rk4, (np.ones(3), 2), (np.ones(3), 0), jit=bad)
    with pytest.raises(adc.DifferentiationError, match="jit must be"):
        adc.jacfwd(rk4, jit=bad)


def test_a_failed_parallel_compilation_points_to_jit_true():
    """Numba's parallel compiler fails on some programs (an internal assertion on GradBench's gmm
    gradient): the error's hint names jit=True, which compiles the same code without it."""
    from adc.failures import numba_message
    from adc.pipeline import compile_derivative
    from adc.types import type_of

    x = np.linspace(0.5, 1.5, 5)
    compiled = compile_derivative(rk4, (type_of(x), type_of(2)), "grad", [0], jit="parallel")
    message = numba_message(compiled, AssertionError("key already in dictionary"))
    assert "hint: call with jit=True (the same code without Numba's parallel compilation) or jit=False" in message
    serial = compile_derivative(rk4, (type_of(x), type_of(2)), "grad", [0], jit=True)
    assert "hint: call with jit=False" in numba_message(serial, AssertionError("x"))


def shifted_tanh(x):
    return np.tanh(x) * x


def test_where_parallel_compilation_fails_the_same_code_runs_without_it():
    """Numba's parallel code cannot broadcast a vector-mode tangent (its run-time check ``Sizes of
    ... do not match``), nor compile some loops (an internal assertion): adc then runs the same code
    compiled as with jit=True, with a ParallelFallbackWarning, and the answer is the same."""
    x = np.linspace(0.1, 1.0, 5)
    with pytest.warns(adc.ParallelFallbackWarning, match="runs compiled as with jit=True instead"):
        jac = adc.jacfwd(shifted_tanh, jit="parallel")(x)
    np.testing.assert_allclose(jac, np.diag(1.0 - np.tanh(x) ** 2) * x[:, None] + np.diag(np.tanh(x)), rtol=1e-14)


def test_the_fallback_replaces_the_compiled_function_once():
    """A parallel dispatcher that fails: the call warns once, returns the serial code's answer, and
    the compiled derivative keeps the serial dispatcher."""
    import numba

    from adc.failures import run_generated
    from adc.pipeline import compile_derivative
    from adc.types import type_of

    x = np.linspace(0.5, 1.5, 5)
    compiled = compile_derivative(rk4, (type_of(x), type_of(2)), "grad", [0], jit="parallel")

    @numba.njit(parallel=True)
    def failing(x, steps):  # Numba's parallel code failing at run time, as its size check does
        if x.size > 0:
            raise AssertionError("Sizes of a, b do not match")
        return x

    compiled.func = failing
    with pytest.warns(adc.ParallelFallbackWarning, match="failed \\(AssertionError: Sizes of a, b do not match\\)"):
        out = run_generated(compiled, (x, 2))
    np.testing.assert_allclose(out, adc.grad(rk4)(x, 2), rtol=1e-13)
    assert not compiled.func.targetoptions.get("parallel")


class _FailsInParallel:
    """Stands for parallel code that Numba fails to compile for a later call (a new array layout)."""

    targetoptions = {"parallel": True}

    def __call__(self, *args):
        raise AssertionError("key already in dictionary: 'gy_2'")


def test_the_call_fast_path_falls_back_too():
    x = np.linspace(0.5, 1.5, 9)
    g = adc.grad(rk4, jit="parallel")
    first = g(x, 3)  # the checked path; the fast path is installed for this signature
    namespace = g.__globals__
    if "_adc0_fast_" not in namespace:
        pytest.skip("no call fast path for this signature")
    namespace["_adc0_fast_"] = _FailsInParallel()
    with pytest.warns(adc.ParallelFallbackWarning, match="runs compiled as with jit=True"):
        again = g(x, 3)
    np.testing.assert_allclose(again, first, rtol=1e-13)
    assert not isinstance(namespace["_adc0_fast_"], _FailsInParallel)  # the serial code from then on
    np.testing.assert_allclose(g(x, 3), first, rtol=1e-13)


def negative_bounds(x):
    """Slices counted from the end, as NumPy takes them also where they reach past the start."""
    z = x * 2.0
    z[1:-1] = z[1:-1] + x[2:] * x[:-2]
    w = z * z
    w[-3:] = 1.0
    return np.sum(w * x) + np.sum((x * x)[-3:] * 2.0) + np.sum(x[:-3])


def negative_steps(x):
    """Bounds past the start with a negative step: NumPy clips them to before the first element."""
    return np.sum(x[-3::-1] * 2.0) + np.sum(x[:-3:-1] * x[:-3:-1])


def parameter_named_max(x, k, max):
    w = x * x
    w[-k:] = 1.0
    return np.sum(w * x) * max


def from_the_end(x, k):
    w = x * x
    w[-k:] = 1.0
    return np.sum(w * x)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_slices_from_the_end_past_the_start(n):
    """Numba's parallel compiler took ``w[-3:]`` of a 2-element ``w`` as ``w[1:]`` (a wrong
    gradient, found by review): under ``jit="parallel"`` such a bound is computed from the start
    (``parallel_slices.py``)."""
    x = np.linspace(0.5, 1.5, n)
    want = adc.grad(negative_bounds)(x)
    np.testing.assert_array_equal(adc.grad(negative_bounds, jit="parallel")(x), want)
    np.testing.assert_allclose(want, central(negative_bounds, x, ()), rtol=1e-7, atol=1e-9)
    for k in (1, 3, -1):
        np.testing.assert_array_equal(adc.grad(from_the_end, jit="parallel")(x, k), adc.grad(from_the_end)(x, k))


def empty_slice_write(x):
    t = np.sin(x)
    t[2:-2] = t[4:] - t[:-4]
    return np.sum(t * x)


@pytest.mark.parametrize("n", [1, 3, 4, 6])
def test_a_slice_write_that_is_empty_at_some_lengths(n):
    """``t[2:-2] = t[4:] - t[:-4]`` writes nothing below five elements. Numba's parallel compiler
    raised "non-broadcastable output operand" there (found by review in the nineteenth session);
    with the bounds computed from the start (``parallel_slices.py``) it runs and agrees."""
    x = np.linspace(0.5, 1.5, n)
    want = adc.grad(empty_slice_write)(x)
    np.testing.assert_allclose(want, central(empty_slice_write, x, ()), rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(adc.grad(empty_slice_write, jit="parallel")(x), want)
    np.testing.assert_array_equal(adc.grad(empty_slice_write, jit=True)(x), want)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_negative_steps_and_a_parameter_named_max(n):
    """Found by review of ``parallel_slices.py``: it clipped bounds to 0 whatever the step (with
    ``x[-3::-1]`` on 2 elements a wrong value and gradient), and spelled the clip with the ``max``
    builtin, which a parameter named ``max`` hid (Numba could not compile it)."""
    x = np.linspace(0.5, 1.5, n)
    value, grad = adc.value_and_grad(negative_steps)(x)
    assert value == negative_steps(x)
    np.testing.assert_allclose(grad, central(negative_steps, x, ()), rtol=1e-7, atol=1e-9)
    parallel = adc.value_and_grad(negative_steps, jit="parallel")(x)
    assert parallel[0] == value
    np.testing.assert_array_equal(parallel[1], grad)
    want = adc.grad(parameter_named_max)(x, 2, 2.0)
    np.testing.assert_allclose(want, central(parameter_named_max, x, (2, 2.0)), rtol=1e-7, atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", adc.ParallelFallbackWarning)  # compiled in parallel, no fallback
        np.testing.assert_array_equal(adc.grad(parameter_named_max, jit="parallel")(x, 2, 2.0), want)


def differenced_ones(x):
    """Fuzz seed 705, program 37 (reduced): under ``jit="parallel"`` the sum was 2.0."""
    y0 = np.ones_like(x)
    y0[1:] -= y0[:-1]
    return np.sum(y0) * np.sum(x)


def smoothed_in_place(x):
    y = x.copy()
    for _ in range(3):
        y[1:] = y[1:] + 0.5 * y[:-1]
    return np.sum(y * y)


def added_from_ahead(x):
    y = x.copy()
    for _ in range(2):
        y[:-1] += y[1:] * x[:-1]
    return np.sum(y * y)


@pytest.mark.parametrize("fn", [differenced_ones, smoothed_in_place, added_from_ahead])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_store_whose_value_reads_the_array_it_writes(fn, mode):
    """Numba's parallel compiler fused ``v = y[1:] + 0.5 * y[:-1]`` with ``y[1:] = v`` into one
    loop that reads elements an earlier iteration wrote (a wrong value and gradient, found by fuzz
    seed 705): such a value is copied first by a call it does not fuse across
    (``parallel_stores.py``)."""
    x = np.linspace(0.3, 1.7, 9)
    value, grad = adc.value_and_grad(fn, mode=mode)(x)
    assert value == pytest.approx(fn(x), rel=1e-14)
    np.testing.assert_allclose(grad, central(fn, x, ()), rtol=1e-6, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", adc.ParallelFallbackWarning)  # compiled in parallel, no fallback
        parallel = adc.value_and_grad(fn, mode=mode, jit="parallel")(x)
    assert parallel[0] == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(parallel[1], grad, rtol=1e-13, atol=1e-14)

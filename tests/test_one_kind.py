"""A name that is an array on one path and a number on another, where the paths meet (an ``if``, a
loop's iterations, the ``return``s of a function), is refused with the line and a hint: the
derivative code is written for one kind, and a number's adjoint is not an array's.  Before this
check such programs failed inside the generated code (``'float' object has no attribute
'shape'``), in Numba's typing, or inside adc (a recursive function: an ``InternalError``).

A constant number before an array (``acc = 0.0``, then ``acc = acc + x * k``) stays allowed: it
is how an array accumulator is started, and its derivatives are checked here.  The functions are
module-level so adc can read their source."""
from __future__ import annotations

import numpy as np
import pytest

import adc


# -- refused -------------------------------------------------------------------------------------


def rebound_to_number_in_loop(p):
    y1 = p * 2.0
    for e in p:  # marker: rebound_to_number_in_loop
        if e > 5.0:
            return np.sum(y1)
        y1 = 0.5
    return np.sum(y1)


def recursive_rebound_to_number(p, q, d):
    """The fuzz program (seed 293, program 15) that made ``calls._from_branch`` assert."""
    y1 = q
    for j, e2 in enumerate(p):  # marker: recursive_rebound_to_number
        if 0.5 > -0.5:
            return 0.5
        y1 = 0.5
    return recursive_rebound_to_number(q, q, 0.5)


def calls_recursive(x):
    b = recursive_rebound_to_number(x, x, 0)
    return 0.5 * b


def number_before_loop(p):
    acc = p[0]
    for k in range(3):  # marker: number_before_loop
        acc = acc * p + 1.0
    return np.sum(acc ** 2)


def array_or_number_in_if(p):
    if p[0] > 0:  # marker: array_or_number_in_if
        y = p * 2.0
    else:
        y = p[1]
    return np.sum(y * p)


def array_or_constant_in_if(p):
    y = p * 2.0
    if p[0] > 0:  # marker: array_or_constant_in_if
        y = 1.0
    return np.sum(y * p)


def returns_array_or_number(p):
    if p[0] > 0:  # marker: returns_array_or_number
        return p * 2.0
    return p[1]


def total(p):
    return np.sum(returns_array_or_number(p))


def scalar_parameter_before_loop(p, s):
    acc = s
    for k in range(3):  # marker: scalar_parameter_before_loop
        acc = acc * p + 1.0
    return np.sum(acc ** 2)


def inner_helper(y, p):
    if p[0] > 0:  # marker: inner_helper
        y = p
    return y


def helper_mixes_in_loop(p):
    s = 0.0
    for k in range(2):
        s = s + np.sum(inner_helper(p[k], p))
    return s


REFUSED = [
    (rebound_to_number_in_loop, (), "rebound_to_number_in_loop", "`y1` is an array before this loop and a number after an iteration"),
    (calls_recursive, (), "recursive_rebound_to_number", "`y1` is an array before this loop and a number after an iteration"),
    (number_before_loop, (), "number_before_loop", "`acc` is a number before this loop (not a constant) and an array in it"),
    (array_or_number_in_if, (), "array_or_number_in_if", "`y` is an array on one path of this `if` and a number on the other"),
    (array_or_constant_in_if, (), "array_or_constant_in_if", "`y` is an array on one path of this `if` and a number on the other"),
    (total, (), "returns_array_or_number", "the returned value is an array on one path and a number on another"),
    (scalar_parameter_before_loop, (0.3,), "scalar_parameter_before_loop", "`acc` is a number before this loop"),
    (helper_mixes_in_loop, (), "inner_helper", "`y` is an array on one path of this `if` and a number on the other"),
]


def _marker_line(marker: str) -> int:
    lines = open(__file__).read().splitlines()
    return next(k + 1 for k, line in enumerate(lines) if line.endswith(f"# marker: {marker}"))


@pytest.mark.parametrize("fn, extra, marker, message", REFUSED, ids=[r[0].__name__ for r in REFUSED])
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_an_array_and_a_number_meeting_are_refused_at_the_line(fn, extra, marker, message, jit, mode):
    p = np.array([1.106, 0.7, -0.916])
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn, jit=jit, mode=mode)(p, *extra)
    text = str(info.value)
    assert message in text
    assert f"test_one_kind.py:{_marker_line(marker)}:" in text
    assert "hint: make the number an array" in text
    assert "\n    ^" in text or "^" in text.splitlines()[2]


# -- allowed: a constant number starts an array --------------------------------------------------


def accumulates_arrays(p):
    acc = 0.0
    for k in range(3):
        acc = acc + p * k
    return np.sum(acc ** 2)


def accumulates_in_a_branch(p):
    acc = 0.0
    for k in range(3):
        if p[k] > 0.0:  # a number in the loop's first typing pass, an array once it settles
            acc = acc + np.sin(p) * k
    return np.sum(acc ** 2)


def nested_accumulators(p):
    acc = 0.0
    for i in range(2):
        inner = 0.0
        for k in range(3):
            inner = inner + p * (k + i)
        acc = acc + inner * p
    return np.sum(acc)


def constant_before_if(p):
    y = 0.0
    if p[0] > 0:
        y = p * 2.0
    return np.sum(y * p)


def returns_argument_or_call(x, n):
    if n == 0:
        return x * 1.0
    return returns_argument_or_call(x, n - 1) * 2.0


def recursion_total(x):
    return np.sum(returns_argument_or_call(x, 3) ** 2)


ALLOWED = [accumulates_arrays, accumulates_in_a_branch, nested_accumulators, constant_before_if, recursion_total]


def central_gradient(fn, p, h=1e-6):
    g = np.zeros_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e[i] = h
        g[i] = (fn(p + e) - fn(p - e)) / (2 * h)
    return g


@pytest.mark.parametrize("fn", ALLOWED, ids=[f.__name__ for f in ALLOWED])
@pytest.mark.parametrize("p", [np.array([1.106, 0.7, -0.916]), np.array([-1.106, 0.7, 0.916])])
def test_a_constant_number_before_an_array_is_differentiated(fn, p):
    expected = central_gradient(fn, p)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(adc.grad(fn, mode=mode)(p), expected, rtol=1e-6, atol=1e-8)

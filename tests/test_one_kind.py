"""A name that is an array on one path and a computed number on another, where the paths meet (an
``if``, a loop's iterations, the ``return``s of a function), is refused with the line and a hint:
the number's adjoint would be an array.  Before this check such programs failed in the generated
code at the arguments that take the number's path (``IndexError: invalid index to scalar
variable``, ``'float' object has no attribute 'shape'``), in Numba's typing, or, in a recursive
function, inside adc (an ``InternalError``).

A constant number stays allowed, before an array (``acc = 0.0``, then ``acc = acc + x * k``) or on
one path (``y = x * 2.0 if c else 1.0``, an accumulator reset to ``0.0``): nothing flows into it and
NumPy broadcasts it.  Their derivatives are checked here, and so are the programs whose types are
still being found when a path first looks mixed (a loop's first pass, a ``while`` condition, a
recursive call in a loop).  The functions are module-level so adc can read their source."""
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
    if p[0] > 0:
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


def conditional_number(p):
    y = p * 2.0 if p[0] > 0 else p[1]  # marker: conditional_number
    return np.sum(y * p)


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
    (total, (), "returns_array_or_number", "the returned value is an array on one path and a number on another"),
    (scalar_parameter_before_loop, (0.3,), "scalar_parameter_before_loop", "`acc` is a number before this loop"),
    (conditional_number, (), "conditional_number",
     "the value of this conditional expression is an array on one path and a number on another"),
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


def accumulator_reset(p):
    acc = 0.0
    for i in range(3):
        if i == 1:
            acc = 0.0
        acc = acc + p * i
    return np.sum(acc * p)


def constant_in_else(p):
    s = 0.0
    if p[0] > 0:
        s = p * 2.0
    else:
        s = 0.0
    return np.sum(s * p)


def conditional_expressions(p):
    acc = 0.0
    for i in range(3):
        acc = acc + (p * p if i > 0 else 0.0)
    y = p * 2.0 if p[1] > 0 else 1.0
    return np.sum(acc * y)


def accumulates_in_a_while_condition(p):
    """The condition reads the accumulator while its type is still a number (review finding)."""
    acc = 0.0
    k = 0
    while k < 3 and np.sum(acc if k > 0 else p) < 10.0:
        acc = acc + p
        k += 1
    return np.sum(acc * p)


def halves(s, x, n):
    if n <= 0:
        return s * 1.0
    return halves(s, x, n - 1) * 0.5 + x


def recursion_in_a_loop(p):
    """A recursive call whose argument is a number in the loop's first pass (review finding)."""
    acc = 0.0
    for i in range(2):
        acc = halves(acc, p, 2)
    return np.sum(acc * acc)


ALLOWED = [accumulates_arrays, accumulates_in_a_branch, nested_accumulators, constant_before_if, recursion_total,
           array_or_constant_in_if, accumulator_reset, constant_in_else, conditional_expressions,
           accumulates_in_a_while_condition, recursion_in_a_loop]


def central_gradient(fn, p, h=1e-6):
    g = np.zeros_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e[i] = h
        g[i] = (fn(p + e) - fn(p - e)) / (2 * h)
    return g


@pytest.mark.parametrize("fn", ALLOWED, ids=[f.__name__ for f in ALLOWED])
@pytest.mark.parametrize("p", [np.array([1.106, 0.7, -0.916]), np.array([-1.106, 0.7, 0.916])])
def test_a_constant_number_meeting_an_array_is_differentiated(fn, p):
    expected = central_gradient(fn, p)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(adc.grad(fn, mode=mode)(p), expected, rtol=1e-6, atol=1e-8)

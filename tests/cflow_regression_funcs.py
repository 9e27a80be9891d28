"""Scalar control-flow programs that adc once got wrong (issue 9, "leaving SSA": parallel copies of
carried values serialised wrongly on some paths), differentiated by
tests/test_control_flow_regressions.py.  adc reads their source, so they stay plain module-level
functions."""
import math

import numpy as np


def break_after_assign(b, c):
    """The values a branch leaves before `break` are what the loop yields (they were dropped)."""
    for i in range(3):
        if c < 0.5:
            b = c * 2.0
            break
    return b


def rotation_then_branch(a, b, c):
    """A rotation of three carried values, then a branch that rebinds two of them."""
    for i in range(4):
        b, c, a = c * 0.5, a, b
        if c > 10.0:
            a = a - 0.1
            b = 0.5
    return a + 2.0 * b + 3.0 * c


def loop_after_early_return(a, b):
    """The loop's result must not be read after the reverse sweep restored the loop's variable."""
    if b > 0.0:
        return b
    for i in range(2):
        a = a * a
    return a


def swap_after_break_test(a, b):
    """The adjoints of a swap are updated in parallel (one read the other's new value)."""
    for i in range(4):
        if b <= -0.5:
            break
        a, b = b, b * a
    return a - b


def swap_after_break_test_while(a, b):
    i = 0
    while i < 4:
        if b <= -0.5:
            break
        a, b = b, b * a
        i += 1
    return a - b


def temporary_in_branch(a, b):
    """`t` must not take `a`'s name while `a * t` still reads the old `a`."""
    for i in range(2):
        if b < 5.0:
            t = a + b
            a, b = t, a * t
    return b


def array_after_early_return(x, c):
    """An array created after an early return (its adjoint buffer was allocated on every path)."""
    if c > 0:
        return c
    y = np.zeros(3)
    y[0] = x
    return np.sum(y * y)


def array_after_two_early_returns(x, c):
    if c > 0:
        return c
    if c < -5:
        return c * 2.0
    y = np.zeros(3)
    y[1] = x
    return np.sum(y * y) + c


def break_in_else(a, b):
    """Break on the else path, the carried values rebound on both paths."""
    for i in range(5):
        if a < 2.0:
            a = a * 1.5 + b
        else:
            b = b * a
            break
    return a * b


def continue_with_swap(a, b):
    for i in range(4):
        if a > b:
            a, b = b, a
            continue
        a = a + 0.25 * b
    return a - 2.0 * b


def break_test_reads_old_value(a, b):
    """The stop test reads the carried value as it was before the loop's copies overwrite it."""
    for i in range(4):
        u = a
        a = a * 0.5 + b
        if u > 1.0:
            break
    return a


def while_true_left_by_return(x):
    """`while True:` left only by `return` (GradBench's particle): the function always returns."""
    y = x
    n = 0
    while True:
        y = y * 0.5 + math.sin(y)
        n += 1
        if n >= 4:
            return y * x


def same_constant(p, q):
    if p < 0.3:
        return q
    return q


def constant_from_both_paths(a):
    """Fuzz seed 113, program 2302: a helper whose two paths return the same constant (adc
    raised an InternalError naming the branch's constant result)."""
    return a * same_constant(a, 2.0) + same_constant(-a, a)


def rotation_then_constant_slots(a, b):
    """An inner loop whose two slots both end constant, one named after the other's variable by the
    rotation before it: both were written to one name (`t3, t3 = 0.5, 2.0`) and `a` came out as
    2.0 (value_and_grad gave 2.0 for 0.5; fuzz seed 463, program 149)."""
    t3 = 0.5
    for j in range(1, 2):
        b, a, t3 = (a, t3, b)
        for k in range(1):
            a = 0.5
            t3 = 2.0
    return a


def rotation_then_scaled_slots(a, b):
    """The same, with slots that carry derivatives out of the inner loop."""
    t3 = 0.5 * a
    for j in range(2):
        b, a, t3 = (a, t3, b)
        for k in range(2):
            a = a * 0.75 + 0.5
            t3 = t3 * 1.5 - b
    return a + 3.0 * t3 - b


def _half(p, q):
    return 0.5


def conditional_in_while_condition(x, c):
    """``c if ... else _half(...)`` in a ``while`` condition: its result was named ``c`` and its
    else-branch overwrote the carried ``c`` (a wrong value and derivative; fuzzing, seed 571,
    program 919)."""
    n3 = 0
    while n3 < 2 and (c if 0.5 <= -0.5 else _half(x[1], 0.5)) < 2.0:
        n3 += 1
        b, c = (0.5, c * c)
    return c

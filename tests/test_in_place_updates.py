"""``a += v`` on an array name changes the array in place (Python); adc rebinds ``a`` to a new array.
That is the same program only when nothing else shows the array's memory; where something does (a
view, another name, the caller's name for an inlined helper's argument), adc refuses instead of
giving another function's derivative (found by the review of the cut VJP: `z = y[:2]; z *= 2.0`
gave `y`'s old values and their gradient)."""
import numpy as np
import pytest

import adc
from adc.errors import UnsupportedError


def view_update(x):
    y = np.exp(x)
    z = y[:2]
    z *= 2.0  # y changes too
    return np.sum(y * y)


def alias_update(x):
    y = x * 1.0
    b = y
    y += 1.0  # b is the same array
    return np.sum(b * x)


def bump(a, v):
    a += v
    return a


def helper_update(x):
    y = x * 2.0
    z = bump(y, 1.0)  # y changes too
    return np.sum(z * y)


def accumulate(x):
    y = np.zeros(3)
    for i in range(3):
        y += x * i
    y *= 0.5
    return np.sum(y * y)


def argument_update(x):
    x += 1.0
    return np.sum(x * x)


def helper_on_a_new_array(x):
    y = bump(x * 2.0, 1.0)
    return np.sum(y * y)


def refusal(fn, x=None):
    """The message of the error adc raises for ``fn``'s gradient (it must raise one)."""
    with pytest.raises(UnsupportedError) as info:
        adc.grad(fn)(np.array([0.1, 0.2, 0.3]) if x is None else x)
    return str(info.value)


@pytest.mark.parametrize("fn, line, name", [(view_update, "z *= 2.0", "a view of another array"),
                                            (alias_update, "y += 1.0", "shares with `b`"),
                                            (helper_update, "a += v", "shares with `y`")])
def test_an_update_that_another_name_sees_is_refused(fn, line, name):
    message = refusal(fn)
    assert line in message and name in message and "test_in_place_updates.py" in message
    assert "for a new array" in message  # what to do instead


@pytest.mark.parametrize("fn", [accumulate, argument_update, helper_on_a_new_array])
@pytest.mark.parametrize("jit", [False, True])
def test_an_update_nothing_else_sees_is_differentiated(fn, jit):
    x = np.array([0.1, -0.2, 0.3])
    value, grad = adc.value_and_grad(fn, jit=jit)(x.copy())
    assert value == pytest.approx(fn(x.copy()), rel=1e-14)
    h = 1e-6
    fd = [(fn(x + h * e) - fn(x - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(grad, adc.grad(fn, mode="forward")(x.copy()), rtol=1e-13)


def carried_from_argument(x):
    acc = x
    for i in range(2):
        acc += x * 0.5  # acc is x: Python changes x too
    return np.sum(acc * x)


def result_of_loop(x):
    acc = x
    for i in range(2):
        acc = acc * 2.0
    y = x + 0.0
    chosen = y if x[0] > 0.0 else acc
    chosen += 1.0  # chosen is y or acc: both still named
    return np.sum(y * acc)


@pytest.mark.parametrize("fn, line, name", [(carried_from_argument, "acc += x * 0.5", "shares with `x`"),
                                            (result_of_loop, "chosen += 1.0", "shares with `")])
def test_an_update_through_a_loop_or_branch_is_refused(fn, line, name):
    message = refusal(fn)
    assert line in message and name in message


def listed_then_updated(x, n=3):
    ys = []
    for k in range(n):
        ys.append(x * float(k + 1))
    y = ys[0]
    y += 1.0  # ys[0] changes too
    return np.sum(ys[0] * x)


def appended_then_updated(x, n=3):
    a = x * 1.0
    ys = []
    for k in range(n):
        ys.append(a)
    a += 1.0  # every item of ys is a
    return np.sum(ys[0] * x)


def shared_from_an_iteration(x):
    a = x * 1.0
    b = x * 0.0
    for i in range(3):
        a += x  # from the second iteration on, b is a
        if i == 0:
            b = a
    return np.sum(a * b)


def accumulators_apart(x):
    a = x * 1.0
    b = x * 0.0
    for i in range(3):
        a += x
        b += a * 0.5
    return np.sum(a * b)


@pytest.mark.parametrize("fn, line, what", [(listed_then_updated, "y += 1.0", "a list holds"),
                                            (appended_then_updated, "a += 1.0", "a list holds"),
                                            (shared_from_an_iteration, "a += x", "`b` also holds")])
def test_an_update_through_a_list_or_an_earlier_iteration_is_refused(fn, line, what):
    message = refusal(fn, np.array([0.7, -1.3, 2.1]))
    assert line in message and what in message


def test_two_accumulators_in_one_loop_are_differentiated():
    test_an_update_nothing_else_sees_is_differentiated(accumulators_apart, False)


def step(p, g):
    p -= 0.1 * g
    return p


def descend(x):
    w = x * 1.0
    for _ in range(3):
        w = step(w, np.sin(w))  # the caller's `w` is rebound to the result: nothing else sees the update
    return np.sum(w * w)


def descend_keeping(x):
    w = x * 1.0
    v = step(w, np.sin(w))  # `w` still names the array step changes in place
    return np.sum(v * w)


def descend_reading(x):
    w = x * 1.0
    w = step(w, np.sin(w)) + w  # the old `w` is read after the call, changed
    return np.sum(w)


def test_a_helper_updating_what_the_call_rebinds_is_differentiated():
    test_an_update_nothing_else_sees_is_differentiated(descend, False)
    test_an_update_nothing_else_sees_is_differentiated(descend, True)


@pytest.mark.parametrize("fn", [descend_keeping, descend_reading])
def test_a_helper_updating_what_the_caller_still_reads_is_refused(fn):
    message = refusal(fn, np.array([0.7, -1.3, 2.1]))
    assert "p -= 0.1 * g" in message and "shares with `w`" in message

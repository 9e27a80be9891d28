"""A ``for`` loop's variable after the loop, as Python has it.

Bound before the loop, the variable holds the last iteration's value after it (its value from
before when the loop does not run).  adc did not carry it out of the loop: after ``t = 0`` and
``for t in range(n)``, ``h * t + x[t]`` read ``t = 0``, a silently wrong value and gradient (1.0
and ``e_0`` where Python gives 64.0).  Bound only inside the loop, the variable (or any name the
loop body binds) is refused after the loop with a hint to bind it before, where Python would raise
when the loop does not run.
"""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.errors import UnsupportedError
from fd import fd_jacobian_of

X = np.arange(1.0, 7.0) * np.array([1.0, -0.5, 0.3, 2.0, -1.0, 0.7])
MODES = [{}, {"mode": "forward"}, {"jit": True}, {"checkpoints": 2}]


def index_after(x, n):
    h = 0.0
    t = 0
    for t in range(n):
        h = h + x[t] * t
    return h * t + x[t]


def index_at_break(x, n):
    t = -1
    for t in range(n):
        if x[t] < 0.0:
            break
    return np.sum(x[:t + 1] ** 2) * t


def element_after(x):
    v = 0.0
    for v in x:
        pass
    return v * np.sum(x)


def pair_after(x, n):
    i, v = 0, 0.0
    for i, v in enumerate(x[:n]):
        v = v * 2.0
    return v * i + x[i]


def float_before(x, n):
    t = 0.5
    for t in range(n):
        x = x * 1.5
    return np.sum(x) * t


def bound_inside_only(x, n):
    h = 0.0
    for t in range(n):
        h = h + x[t] * t
        last = t
    return h * last


def index_inside_only(x, n):
    h = 0.0
    for t in range(n):
        h = h + x[t]
    return h * t


CASES = [(index_after, (4,)), (index_after, (0,)), (index_after, (6,)), (index_at_break, (6,)),
         (index_at_break, (1,)), (element_after, ()), (pair_after, (3,)), (pair_after, (0,)),
         (float_before, (3,)), (float_before, (0,))]


@pytest.mark.parametrize("kw", MODES, ids=["reverse", "forward", "jit", "checkpoints"])
@pytest.mark.parametrize("fn,rest", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_the_loop_variable_keeps_its_last_value(fn, rest, kw):
    if "checkpoints" in kw and fn in (element_after, index_at_break):
        pytest.skip("checkpoints take loops over ranges, without break")
    value, grad = adc.value_and_grad(fn, **kw)(X, *rest)
    assert value == pytest.approx(fn(X, *rest), rel=1e-14)
    np.testing.assert_allclose(grad, fd_jacobian_of(lambda x: fn(x, *rest), X), rtol=1e-6, atol=1e-8)


def test_the_worked_value():
    x = np.arange(1.0, 7.0)
    assert adc.value_and_grad(index_after)(x, 4)[0] == 64.0
    np.testing.assert_array_equal(adc.grad(index_after)(x, 4), [0.0, 3.0, 6.0, 10.0, 0.0, 0.0])


@pytest.mark.parametrize("fn,name", [(bound_inside_only, "last"), (index_inside_only, "t")])
def test_a_name_bound_only_inside_a_loop_is_refused_after_it(fn, name):
    with pytest.raises(UnsupportedError, match=f"(?s)`{name}` is bound only inside the loop on line "
                                               f"{fn.__code__.co_firstlineno + 2}.*bind it before the loop"):
        adc.grad(fn)(X, 3)


def written_while_carried(x, n):
    y = x * 1.0
    for k in range(n):
        y[0] = y[0] * 0.5
        y = y * 1.3
    return np.sum(y ** 2)


def copied_then_written(x, n):
    y = x * 1.0
    for k in range(n):
        y = y.copy()
        y[0] = y[0] * 0.5
        y = y * 1.3
    return np.sum(y ** 2)


def test_a_write_into_a_carried_array_says_to_copy_it_in_the_body():
    """The message said the function did not create the array (it did: ``x * 1.0``, ``y * 1.3``)."""
    with pytest.raises(UnsupportedError, match="(?s)the loop carries from one iteration.*copy it first in the loop's body"):
        adc.grad(written_while_carried)(X, 3)
    for kw in MODES[:3]:
        grad = adc.grad(copied_then_written, **kw)(X, 3)
        np.testing.assert_allclose(grad, fd_jacobian_of(lambda x: copied_then_written(x, 3), X), rtol=1e-6)


def array_then_loop_variable(x):
    t = x * 2.0
    y = np.sum(t)
    for t in range(3):
        y = y + t * np.sum(x)
    return y


def array_then_enumerated(x):
    i = x * 1.0
    y = np.sum(i * i)
    for i, v in enumerate(x):
        y = y + v * i
    return y


@pytest.mark.parametrize("fn", [array_then_loop_variable, array_then_enumerated])
def test_a_name_of_another_kind_reused_as_the_loop_variable(fn):
    """Not carried (an array before, an int in the loop): valid Python that adc refused as a loop
    changing a value's kind."""
    for kw in MODES[:3]:
        np.testing.assert_allclose(adc.grad(fn, **kw)(X), fd_jacobian_of(fn, X), rtol=1e-6, atol=1e-8)

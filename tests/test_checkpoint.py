"""Checkpointed loops (binomial checkpointing, Revolve): ``adc.grad(f, checkpoints=k)`` and
``for i in adc.checkpointed(range(n), snapshots=k):``.

A checkpointed gradient runs the same arithmetic as the recorded one (recomputed steps are the
same statements on the same values), so the gradients are compared with ``==``; finite differences
check the plain ones.  The memory bound is checked by tracemalloc (the peak does not grow with the
trip count) and by the plan's own counters; the schedule's recomputation against Revolve's theory."""
from __future__ import annotations

import math
import tracemalloc
from functools import lru_cache

import numpy as np
import pytest

import adc
import adc.prims.revolve as revolve
from fd import assert_close_seq, fd_grad, fd_jacobian_of


def ode(k, c, n):
    x = 1.0
    v = 0.0
    dt = 0.05
    for i in range(n):
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
    return x * x + v * v


def rnn_plain(W, h0, n):
    h = h0
    for i in range(n):
        h = np.tanh(W @ h + 0.1)
        if np.sum(h) > 0.0:
            h = h * 0.9
        for j in range(2):
            h = h + 0.01 * np.sin(h)
    return np.sum(h * h)


def rnn(W, h0, n):
    h = h0
    for i in adc.checkpointed(range(n), snapshots=3):
        h = np.tanh(W @ h + 0.1)
        if np.sum(h) > 0.0:
            h = h * 0.9
        for j in range(2):
            h = h + 0.01 * np.sin(h)
    return np.sum(h * h)


def in_branch(x, n):
    s = 0.0
    if x > 0.0:
        for i in range(2, n):
            s = s * 0.9 + math.sin(x * i)
    else:
        s = x * x
    return s


def two_loops(x, n):
    s = x
    for i in range(n):
        s = math.sin(s) + x
    t = 0.0
    for i in range(n):
        t = t + s * i
    return t


def nested_marked(x, n):
    s = x
    for j in range(3):
        for i in adc.checkpointed(range(n), snapshots=2):
            s = math.sin(s)
    return s


def while_break(x):
    while x > 0.1:
        x = x * 0.5
        if x < 1.0:
            break
    return x


def early(x, n):
    for i in range(n):
        x = x * 0.5
        if x < 0.1:
            break
    return x


def writes(x, n):
    y = np.zeros(3)
    for i in range(n):
        y[0] = y[0] + x
    return np.sum(y)


def written_after(x, n):
    y = x * 2.0
    s = 0.0
    for i in range(n):
        s = s * 0.5 + y[0] * y[1]
    y[0] = 0.0
    return s + np.sum(y)


def vector_out(x, n):
    y = x
    for i in range(n):
        y = np.cos(y) * 1.1
    return y


def over_items(w, xs):
    s = 0.0
    for i, x in adc.checkpointed(enumerate(xs), snapshots=3):
        s = np.tanh(s * w + x * i)
    return s


def over_items_plain(w, xs):
    s = 0.0
    for i, x in enumerate(xs):
        s = np.tanh(s * w + x * i)
    return s


def big_state(x, n):
    h = x
    for i in range(n):
        h = np.sin(h) * 1.01
    return np.sum(h)


@pytest.mark.parametrize("k", [1, 2, 5, 40])
def test_scalar_loop_equals_recorded(k):
    plain = adc.grad(ode, argnums=(0, 1))(4.0, 0.5, 30)
    assert adc.grad(ode, argnums=(0, 1), checkpoints=k)(4.0, 0.5, 30) == plain
    assert_close_seq(plain, fd_grad(lambda a, b: ode(a, b, 30), [4.0, 0.5]))


@pytest.mark.parametrize("n", [0, 1, 2, 17])
def test_trip_counts(n):
    want = adc.value_and_grad(ode, argnums=(0, 1))(4.0, 0.5, n)
    assert adc.value_and_grad(ode, argnums=(0, 1), checkpoints=3)(4.0, 0.5, n) == want


def test_array_state_with_branch_and_inner_loop():
    rng = np.random.default_rng(0)
    W, h0 = rng.normal(size=(3, 3)) * 0.8, rng.normal(size=3)
    got = adc.grad(rnn, argnums=(0, 1))(W, h0, 25)
    want = adc.grad(rnn_plain, argnums=(0, 1))(W, h0, 25)
    assert all(np.array_equal(a, b) for a, b in zip(got, want))
    assert np.allclose(want[0], fd_jacobian_of(lambda a: rnn_plain(a, h0, 25), W), rtol=1e-6, atol=1e-8)
    assert np.allclose(want[1], fd_jacobian_of(lambda a: rnn_plain(W, a, 25), h0), rtol=1e-6, atol=1e-8)
    assert rnn(W, h0, 25) == rnn_plain(W, h0, 25)  # plain Python runs the marked loop unchanged
    assert "adc_revolve.restore(plan, step)" in adc.source(rnn, argnums=(0, 1), at=(W, h0, 25))


def test_every_outermost_loop_and_vjp():
    assert adc.grad(two_loops, checkpoints=2)(0.3, 9) == adc.grad(two_loops)(0.3, 9)
    x, ct = np.array([0.2, -0.5, 1.0]), np.array([1.0, -2.0, 0.5])
    want = adc.vjp(vector_out, x, 7)[1](ct)[0]
    got = adc.vjp(vector_out, x, 7, checkpoints=2)[1](ct)[0]
    assert np.array_equal(got, want)


def test_loop_over_an_array():
    xs = np.linspace(-1.0, 1.0, 11)
    got = adc.grad(over_items, argnums=(0, 1))(0.8, xs)
    want = adc.grad(over_items_plain, argnums=(0, 1))(0.8, xs)
    assert got[0] == want[0] and np.array_equal(got[1], want[1])
    assert np.allclose(want[1], fd_jacobian_of(lambda a: over_items_plain(0.8, a), xs), rtol=1e-6, atol=1e-9)


def test_jit_equals_python():
    want = adc.grad(ode, argnums=(0, 1))(4.0, 0.5, 40)
    assert adc.grad(ode, argnums=(0, 1), checkpoints=3, jit=True)(4.0, 0.5, 40) == want


def _peak(fn, *args):
    fn(*args)  # compile first
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_grows_with_snapshots_not_steps():
    x = np.linspace(0.0, 1.0, 2000)  # one state: 16 kB
    plain, checked = adc.grad(big_state), adc.grad(big_state, checkpoints=4)
    assert np.array_equal(plain(x, 60), checked(x, 60))
    short, long = _peak(checked, x, 50), _peak(checked, x, 400)
    assert long < short + 4 * x.nbytes  # 8x the steps: at most a few states more (snapshots are reused)
    assert long < 12 * x.nbytes  # 4 snapshots + the scratch slot + a few temporaries
    assert _peak(plain, x, 400) > 300 * x.nbytes  # the recorded gradient keeps every step


@lru_cache(None)
def _least_steps(steps: int, free: int) -> int:
    """The fewest forward steps that reverse ``steps`` steps with ``free`` free snapshots (the
    first state held), by brute force over the first snapshot."""
    if steps <= 1:
        return 0
    if free == 0:
        return steps * (steps - 1) // 2
    return min(m + _least_steps(steps - m, free - 1) + _least_steps(m, free) for m in range(1, steps))


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_schedule_against_revolve_theory(k):
    for n in (1, 2, 7, 30, 61):
        steps, held = revolve.simulate(n, k)
        assert held <= k
        assert revolve.theory_steps(n, k) == _least_steps(n, k - 1)
        # the first sweep (n - 1 steps to the last) plus recomputation: Revolve's optimum, plus the
        # last segment, which the forward sweep passes and the reverse sweep recomputes once
        assert n - 1 + steps <= revolve.theory_steps(n, k) + n


def test_refused_loops_are_located():
    with pytest.raises(adc.UnsupportedError, match="no `break`"):
        adc.grad(early, checkpoints=2)(1.0, 5)
    with pytest.raises(adc.UnsupportedError, match="no `break`") as info:
        adc.grad(while_break, checkpoints=2)(3.0)
    assert "while x > 0.1" in str(info.value)
    with pytest.raises(adc.UnsupportedError, match="inside another loop"):
        adc.grad(nested_marked)(0.5, 4)
    with pytest.raises(adc.UnsupportedError, match="write into arrays"):
        adc.grad(writes, checkpoints=2)(0.5, 4)
    with pytest.raises(adc.UnsupportedError, match="reads `y`, which the function writes into"):
        adc.grad(written_after, checkpoints=2)(np.array([1.0, 2.0]), 4)
    with pytest.raises(adc.UnsupportedError, match="checkpoint"):  # its loops keep tapes and records
        adc.grad(adc.grad(ode), checkpoints=2)(4.0, 0.5, 5)
    with pytest.raises(adc.DifferentiationError, match="checkpoints must be"):
        adc.grad(ode, checkpoints=0)
    assert adc.checkpointed(range(3), snapshots=2) == range(3)


def marked(x, n):
    s = x
    for i in adc.checkpointed(range(n), snapshots=2):
        s = math.sin(s) * x
    return s


def test_second_order_over_a_checkpointed_loop():
    plain = adc.grad(marked, mode="forward")(0.7, 9)
    assert math.isclose(adc.grad(marked)(0.7, 9), plain, rel_tol=1e-14)
    h = adc.hessian(marked)(0.7, 9)  # forward over the checkpointed reverse
    assert math.isclose(h, fd_grad(lambda a: adc.grad(marked, mode="forward")(a, 9), [0.7])[0], rel_tol=1e-6)
    with pytest.raises(adc.UnsupportedError, match="reverse mode over a gradient with a checkpointed loop"):
        adc.grad(adc.grad(marked))(0.7, 9)


def power(x, n):
    """A recursive helper: a call that stays a call (``calls.py``), inside a checkpointed loop."""
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def with_recursive_call(x):
    s = x
    for i in range(6):
        s = np.sin(s) + 0.1 * power(s, 2)
    return s


def test_checkpointed_loop_calling_a_kept_function_equals_recorded():
    """The recomputed steps call the kept function's forward part again (new residuals each time)."""
    plain = adc.grad(with_recursive_call)(0.7)
    assert adc.grad(with_recursive_call, checkpoints=2)(0.7) == plain
    assert_close_seq([plain], fd_grad(with_recursive_call, (0.7,)), rtol=1e-6)


# -- while loops: the trip count is known only when the loop ends (adc_revolve.online)

def counted(k, c, n):
    x, v, i = 1.0, 0.0, 0
    while i < n:
        a = -k * x - c * v
        x, v = x + 0.05 * v, v + 0.05 * a
        i += 1
    return x * x + v * v


def settle(x, tol):
    """The exit depends on the state: the number of steps is found by running them."""
    s = x
    while s > tol:
        s = s * 0.8 + 0.05 * math.sin(x * s)
    return s * x


def settle_marked(x, tol):
    s = x
    while adc.checkpointed(s > tol, snapshots=3):
        s = s * 0.8 + 0.05 * math.sin(x * s)
    return s * x


def rnn_while(W, h0, tol):
    h = h0
    while np.sum(h * h) > tol:
        h = np.tanh(W @ h) * 0.5
        if np.sum(h) > 0.0:
            h = h * 0.9
        for j in range(2):
            h = h + 0.01 * np.sin(h)
    return np.sum(h * h * h)


def big_state_while(x, n):
    h, i = x, 0
    while i < n:
        h = np.sin(h) * 1.01
        i += 1
    return np.sum(h)


def while_appends(x, tol):
    s, hs = x, []
    while s > tol:
        s = s * 0.5
        hs.append(s)
    return s * len(hs)


def while_true(x):
    s = x
    while True:
        s = s * 0.5
        if s < 0.1:
            return s


def nested_while(x, n):
    s = x
    for j in range(3):
        while adc.checkpointed(s > 0.1, snapshots=2):
            s = s * 0.5
    return s


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 45])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_while_trip_counts_equal_recorded(n, k):
    want = adc.value_and_grad(counted, argnums=(0, 1))(4.0, 0.5, n)
    assert adc.value_and_grad(counted, argnums=(0, 1), checkpoints=k)(4.0, 0.5, n) == want
    if n in (1, 17):
        assert_close_seq(want[1], fd_grad(lambda a, b: counted(a, b, n), [4.0, 0.5]))


@pytest.mark.parametrize("x", [0.05, 0.45, 1.3, 7.0])  # 0, 1, 8 and 13 steps
def test_while_exit_depending_on_the_state(x):
    want = adc.grad(settle)(x, 0.4)
    assert adc.grad(settle, checkpoints=2)(x, 0.4) == want
    assert adc.grad(settle_marked)(x, 0.4) == want  # the marker on the condition
    assert settle_marked(x, 0.4) == settle(x, 0.4)  # plain Python runs the marked loop unchanged
    assert math.isclose(want, fd_grad(lambda a: settle(a, 0.4), [x])[0], rel_tol=1e-6, abs_tol=1e-9)
    assert "adc_revolve.online(3)" in adc.source(settle_marked, at=(x, 0.4))


def test_while_array_state_with_branch_and_inner_loop():
    rng = np.random.default_rng(0)
    W, h0 = rng.normal(size=(3, 3)) * 0.8, rng.normal(size=3)
    want = adc.grad(rnn_while, argnums=(0, 1))(W, h0, 1e-3)
    got = adc.grad(rnn_while, argnums=(0, 1), checkpoints=2)(W, h0, 1e-3)
    assert all(np.array_equal(a, b) for a, b in zip(got, want))
    assert np.allclose(want[1], fd_jacobian_of(lambda a: rnn_while(W, a, 1e-3), h0), rtol=1e-6, atol=1e-9)


def while_in_branch(x, tol):
    s = 0.0
    if x > 0.0:
        s = x
        while s > tol:
            s = s * 0.7 + 0.01 * math.sin(x * s)
    else:
        s = x * x
    return s * x


@pytest.mark.parametrize("fn,x,n", [(in_branch, 0.7, 12), (in_branch, -0.4, 12),
                                    (while_in_branch, 1.5, 0.2), (while_in_branch, -0.3, 0.2)],
                         ids=["for-taken", "for-other", "while-taken", "while-other"])
def test_loop_inside_a_branch(fn, x, n):
    """A checkpointed ``for`` or ``while`` loop inside a branch: the same gradient as without."""
    want = adc.grad(fn)(x, n)
    assert adc.grad(fn, checkpoints=2)(x, n) == want
    assert math.isclose(want, fd_grad(lambda a: fn(a, n), [x])[0], rel_tol=1e-6)


def test_while_jit_equals_python():
    want = adc.grad(counted, argnums=(0, 1))(4.0, 0.5, 23)
    assert adc.grad(counted, argnums=(0, 1), checkpoints=3, jit=True)(4.0, 0.5, 23) == want


def test_while_memory_grows_with_snapshots_not_steps():
    x = np.linspace(0.0, 1.0, 2000)  # one state: 16 kB
    plain, checked = adc.grad(big_state_while), adc.grad(big_state_while, checkpoints=4)
    assert np.array_equal(plain(x, 60), checked(x, 60))
    short, long = _peak(checked, x, 50), _peak(checked, x, 400)
    assert long < short + 4 * x.nbytes  # 8x the steps: at most a few states more
    assert long < 12 * x.nbytes  # 4 snapshots + the scratch slot + a few temporaries
    assert _peak(plain, x, 400) > 300 * x.nbytes  # the recorded gradient keeps every step


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8])
def test_online_schedule(k):
    """Without the trip count: at most k snapshots; the recomputation stays within a quarter of
    Revolve's optimum with the trip count known (plus the forward sweep) on these cases."""
    for n in (1, 2, 7, 30, 61, 200):
        steps, held = revolve.simulate(n, k, unknown=True)
        assert held <= k
        assert n - 1 + steps <= 1.25 * (revolve.theory_steps(n, k) + n)


def test_while_second_order_and_refusals():
    want = fd_grad(lambda a: adc.grad(settle, mode="forward")(a, 0.4), [1.3])[0]
    assert math.isclose(adc.hessian(settle_marked)(1.3, 0.4), want, rel_tol=1e-6)  # forward over it
    assert adc.grad(settle_marked, mode="forward")(1.3, 0.4) == adc.grad(settle, mode="forward")(1.3, 0.4)
    with pytest.raises(adc.UnsupportedError, match="reverse mode over a gradient with a checkpointed loop"):
        adc.grad(adc.grad(settle_marked))(1.3, 0.4)
    with pytest.raises(adc.UnsupportedError, match="append to a list"):
        adc.grad(while_appends, checkpoints=2)(3.0, 0.1)
    with pytest.raises(adc.UnsupportedError, match="no `break` or `return`: `while True:`"):
        adc.grad(while_true, checkpoints=2)(3.0)
    with pytest.raises(adc.UnsupportedError, match="inside another loop") as info:
        adc.grad(nested_while)(3.0, 4)
    assert "while adc.checkpointed(s > 0.1, snapshots=2)" in str(info.value)
    assert nested_while(3.0, 4) == 0.09375

"""What the reverse sweep of a loop keeps, and where.

A value it reads only inside one branch of an ``if`` in a loop is kept only when that branch runs:
pushed at the end of the forward branch, popped at the start of the reverse one
(``save_policy.restore``).  A number the loop carries and changes only by ``-v`` or an integer
step (``sign = -sign``, ``i += 1``, also in one branch of an ``if``) is not kept at all: the reverse
loop computes it back from its value at the end of the iteration (``save_policy.undone``).  The
pops must stay in step with every other push of the loop (nested branches, loops inside the
branch, a kept recursion), so each program is checked against finite differences, forward mode,
jit and, for some, the Hessian."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.backend import load_module
from adc.pipeline import compile_derivative
from adc.types import type_of
from fd import fd_jacobian_of
from test_calls import det as det_while  # the GradBench eval's: the last row's column found by a `while`


def nested_branches(x, y):
    s = 0.0
    c = 1.0
    d = 2.0
    i = 0
    while i < x.shape[0]:
        if x[i] > 0.0:
            if y[i] > 0.0:
                s = s + c * np.sin(x[i]) * y[i]
            else:
                s = s + d * x[i]
            c = c * x[i]
        d = d * 0.9 + x[i]
        i += 1
    return s


def branch_with_inner_loop(x):
    s = 0.0
    c = 1.0
    i = 0
    while i < x.shape[0]:
        if x[i] > 0.0:
            t = 0.0
            for k in range(i + 1):
                t = t + np.sin(c * x[k])
            s = s + c * t
        c = c * 1.1 + x[i] * 0.1
        i += 1
    return s


def det_of_minor(A, row, used):
    n = A.shape[0]
    if row == n - 1:
        for j in range(n):
            if used & (1 << j) == 0:
                return A[row, j]
    total = 0.0
    sign = 1.0
    for j in range(n):
        if used & (1 << j) == 0:
            total = total + sign * A[row, j] * det_of_minor(A, row + 1, used | (1 << j))
            sign = -sign
    return total


def det(A):
    return det_of_minor(A, 0, 0)


X = np.array([0.5, -0.3, 1.2, 0.8, -1.1, 0.4, 0.9])
Y = np.array([1.0, 0.5, -0.7, 0.3, 0.2, -0.4, 0.6])


def _check(fn, args):
    grads = adc.grad(fn, argnums=tuple(range(len(args))))(*args)
    for k, g in enumerate(grads):
        def along(v, k=k):
            return fn(*args[:k], v, *args[k + 1:])
        np.testing.assert_allclose(g, fd_jacobian_of(along, args[k]), rtol=1e-6, atol=1e-8)
    for jit in (False, True):
        again = adc.grad(fn, argnums=tuple(range(len(args))), jit=jit)(*args)
        forward = adc.jacfwd(fn, argnums=tuple(range(len(args))), jit=jit)(*args)
        for g, r, f in zip(grads, again, forward):
            np.testing.assert_allclose(r, g, rtol=1e-12)
            np.testing.assert_allclose(f, g, rtol=1e-12)


def test_values_kept_in_nested_branches():
    _check(nested_branches, (X, Y))
    source = adc.source(nested_branches, at=(X, Y), argnums=(0, 1))
    lines = source.splitlines()
    forward = lines[:lines.index("    # reverse sweep")]
    depth = {v: next(len(s) - len(s.lstrip()) for s in forward if s.strip() == f"tape.append({v})") for v in "cd"}
    assert depth == {"c": 12, "d": 16}  # c in `if x[i] > 0.0:`, d in its inner `else:`


def test_value_kept_in_a_branch_around_a_loop():
    _check(branch_with_inner_loop, (X,))


@pytest.mark.parametrize("jit", [False, True])
def test_recursion_computes_its_sign_back(jit):
    """``sign = -sign`` on the columns still free: the reverse loop computes each column's sign
    back from the next one (``save_policy.undone``) instead of keeping one per column."""
    A = np.random.default_rng(4).standard_normal((5, 5))
    g = adc.grad(det, jit=jit)(A)
    np.testing.assert_allclose(g, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-10, atol=1e-12)
    if not jit:
        np.testing.assert_allclose(g, fd_jacobian_of(det, A), rtol=1e-6, atol=1e-8)
        source = adc.source(det, at=(A,))
        assert "tape.append(sign" not in source and "sign = sign_2 if " in source


def _block_of(lines, k):
    """The statement that opens the block holding line ``k``."""
    indent = len(lines[k]) - len(lines[k].lstrip())
    return next(line.strip() for line in reversed(lines[:k])
                if line.strip() and not line.strip().startswith("#") and len(line) - len(line.lstrip()) < indent)


def _jit_module(fn, x):
    """The module jit=True compiles for the gradient of ``fn`` at ``x``: its source, and its
    gradient function run as plain Python."""
    compiled = compile_derivative(fn, [type_of(x)], "grad", [0], jit=True, load=False)
    name = compiled.program.name
    return compiled.source, load_module(compiled.source, name)[name]


@pytest.mark.parametrize("fn", [det, det_while])
def test_kept_recursion_keeps_a_branchs_values_in_that_branch(fn):
    """In the parts of a kept recursive call (jit=True), what only the last row's branch makes and
    reads is pushed and popped in that branch, not at every node (the loop's trip count and whether
    it returned), or computed again there from the call's arguments (the free column found by
    ``while used & (1 << j): j += 1``); and no tape is made that no part uses."""
    A = np.random.default_rng(6).standard_normal((5, 5))
    source, grad = _jit_module(fn, A)
    np.testing.assert_allclose(grad(A), np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(adc.grad(fn, jit=True)(A), grad(A), rtol=1e-12)
    lines = source.splitlines()
    ints = [k for k, line in enumerate(lines) if "adc_stacks.push(itape, " in line or "adc_stacks.pop(itape)" in line]
    assert bool(ints) == (fn is det)
    for k in ints:
        assert _block_of(lines, k) == "if row == n - 1:"
    if fn is det_while:  # the loop runs again in the reverse part's branch, and the int tape is gone
        bwd = source[source.index("def det_of_minor_bwd"):source.index("def det_grad")]
        k = next(k for k, line in enumerate(bwd.splitlines()) if "while used & (1 << j):" in line)
        assert _block_of(bwd.splitlines(), k) == "if row == n - 1:"
        assert "itape" not in source
    assert "atape" not in source


def flip_only(x):
    s = 0.0
    sign = 1.0
    i = 0
    while i < x.shape[0]:
        if x[i] > 0.0:
            sign = -sign
        s = s + sign * x[i] * x[i]
        i += 1
    return s


def counter_step(x, k):
    s = 0.0
    i = 0
    j = 5
    while i < x.shape[0]:
        s = s + np.sin(x[i]) * j
        j = j - k
        i = i + 1
    return s


def flip_on_itself(x):
    """The condition reads the value it flips: computing it back would need the value itself."""
    s = 0.0
    sign = 1.0
    i = 0
    while i < x.shape[0]:
        if sign > 0.0:
            sign = -sign * 2.0
        else:
            sign = -sign
        s = s + sign * x[i] ** 2
        i += 1
    return s


def flips_in_nested_loops(x):
    s = 0.0
    for a in range(3):
        sign = 1.0
        for b in range(x.shape[0]):
            if x[b] > a * 0.55:
                sign = -sign
            s = s + sign * np.cos(x[b]) * a
    return s


def flips_guarding_each_other(x, n):
    """Each flip's condition reads the other value: both cannot be computed back."""
    s = 0.0
    a = 1.0
    b = 1.0
    t = 0
    while t < n:
        c = a > 0.0
        if b > 0.0:
            a = -a
        if c:
            b = -b
        s = s + x * a * b + x * x * t
        t += 1
    return s


def steps_guarding_each_other(x, n):
    s = 0.0
    i = 0
    j = 0
    k = 0
    t = 0
    while t < n:
        c = i % 2 == 0
        d = j % 2 == 0
        if k % 2 == 1:
            i = i + 1
        if c:
            j = j + 1
        if d:
            k = k + 1
        s = s + x * x * (i + j + k) + x * t
        t += 1
    return s


def float_steps_and_break(x):
    """``c + 0.5`` is not undone exactly in floats, and a loop that breaks is not undone."""
    s = 0.0
    c = 0.25
    i = 0
    while i < x.shape[0]:
        s = s + c * x[i]
        c = c + 0.5
        if s > 3.0:
            break
        i += 1
    return s


@pytest.mark.parametrize("fn, args", [(flip_only, (X,)), (counter_step, (X, 2)), (flip_on_itself, (X,)),
                                      (flips_in_nested_loops, (X,)), (float_steps_and_break, (X,))])
def test_carried_values_computed_back(fn, args):
    g = adc.grad(fn)(*args)
    np.testing.assert_allclose(g, fd_jacobian_of(lambda v: fn(v, *args[1:]), args[0]), rtol=1e-6, atol=1e-8)
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(fn, jit=jit)(*args), g, rtol=1e-12)
        np.testing.assert_allclose(adc.jacfwd(fn, jit=jit)(*args), g, rtol=1e-12)
    H = adc.hessian(fn)(*args)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H, fd_jacobian_of(lambda v: adc.grad(fn)(v, *args[1:]), args[0]), rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("fn", [flips_guarding_each_other, steps_guarding_each_other])
@pytest.mark.parametrize("n", [0, 1, 5])
def test_values_whose_conditions_read_each_other_are_kept(fn, n):
    g = adc.grad(fn)(0.7, n)
    assert g == pytest.approx((fn(0.7 + 1e-6, n) - fn(0.7 - 1e-6, n)) / 2e-6, rel=1e-6, abs=1e-8)
    assert adc.jacfwd(fn)(0.7, n) == pytest.approx(g, rel=1e-12)
    assert adc.value_and_grad(fn)(0.7, n)[0] == pytest.approx(fn(0.7, n), rel=1e-12)


def test_what_is_computed_back_is_not_kept():
    flip = adc.source(flip_only, at=(X,))
    assert "tape" not in flip and "i -= 1" in flip  # sign and i: from their values at the iteration's end
    step = adc.source(counter_step, at=(X, 2), argnums=0)
    assert "tape" not in step
    kept = adc.source(float_steps_and_break, at=(X,))
    assert "tape.append(c)" in kept

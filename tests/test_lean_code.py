"""What the derivative keeps and how it is written (issue 13): every case checks the generated code
(what is no longer there) and its numbers (against forward mode, finite differences or the plain
Python code).

- ``passes.dead_stores``: records and tape pushes nothing reads back, and arrays only written;
- ``save_policy``: arrays read only for their shape, and memory a loop makes anew in every
  iteration, kept by reference (no copy);
- ``passes.first_writes``: an adjoint buffer starts at its first contribution;
- ``forward.Forward.name``: a shared tangent is copied only if its memory can be written;
- ``codegen`` under Numba: single-use element-wise array values folded into their use;
- ``passes.sweep``: a loop that only the reverse sweep needs runs only there.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import adc



def rk4(x, s):
    """GradBench's ode: y' = (x0, x1 y0, x2 y1, ...), classic Runge-Kutta, the last component."""
    h = 2.0 / s
    y = np.zeros_like(x)
    for _ in range(s):
        k1 = step(x, y)
        k2 = step(x, y + h * k1 / 2.0)
        k3 = step(x, y + h * k2 / 2.0)
        k4 = step(x, y + h * k3)
        y = y + h * (k1 + 2.0 * k2 + 2.0 * k3 + k4) / 6.0
    return y[-1]


def step(x, y):
    z = x.copy()
    z[1:] = x[1:] * y[:-1]
    return z


def running(x):
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i]) * s + x[i] * x[i]
    return s


def nearest(c, p):
    total = 0.0
    for i in range(p.shape[0]):
        closest = math.inf
        for j in range(c.shape[0]):
            t = p[i] - c[j]
            closest = min(closest, t * t)
        total += closest
    return total


def per_component(x, m):
    """gmm's shape: an array made in each iteration, written into, then read by the reverse sweep."""
    s = 0.0
    for k in range(3):
        q = x * m[k]
        q[0] = q[0] + m[k] * q[1]
        s = s + np.sum(q * q)
    return s


def written_later(x):
    s = 0.0
    for k in range(3):
        a = x * (k + 1.0)
        b = a * a
        a[1] = 2.0 * a[0]
        s = s + np.sum(b * a)
    return s


def transposed_factor(x, A):
    """gmm's factor: a matrix made and written in each iteration, read through its transpose."""
    s = 0.0
    for k in range(3):
        Q = np.diag(x[:2])
        Q[1:, 0] = x[2:3] * k
        y = A @ Q.T
        s = s + np.sum(y * y * x[3])
    return s


def broadcast_tangent(c, p):
    diff = p[:, None] - c[None, :]
    out = np.zeros(2)
    out[0] = np.sum(np.min(diff * diff, axis=1))
    return out


X = np.array([0.3, 0.9, -0.4, 0.7, 1.1])


def gradient_fd(f, x, h=1e-6):
    """Central differences of scalar ``f`` at the array ``x``."""
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


def test_unread_records_and_shape_only_copies_are_gone():
    """ode's RK4 gradient records four arrays per step (the values the reverse sweep reads), by
    reference: no unread record, and no copy kept only for a shape."""
    src = adc.source(rk4, at=(X, 2), compact=True)
    stores = [line.strip() for line in src.splitlines() if "_rec[" in line or line.strip().startswith("rec")]
    assert len([s for s in stores if "] = " in s and s.split("] = ")[0].endswith("[_")]) == 4, src
    assert ".copy()" not in src.split("# reverse sweep")[0].split("for _ in range(s):")[1].replace("x.copy()", ""), src
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(rk4, jit=jit)(X, 2), gradient_fd(lambda x: rk4(x, 2), X), rtol=1e-6)
    np.testing.assert_allclose(adc.grad(rk4)(X, 2), adc.grad(rk4, mode="forward")(X, 2), rtol=1e-13)


def test_an_hvp_drops_the_inner_gradient():
    """The gradient inside a Hessian-vector product is only written: gone with its updates."""
    src = adc.source(running, mode="hvp", at=(X,), compact=True)
    assert "gx" not in src.replace("dgx", ""), src
    v = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    np.testing.assert_allclose(adc.hvp(running)(X, v), adc.hessian(running)(X) @ v, rtol=1e-13)


def test_unread_tape_pairs_are_dropped():
    """A JVP of a gradient with tapes: the tangent tape's pops were unread, so it is gone, and the
    other tape still matches its pushes."""
    c, p = np.array([0.1, 0.8, 1.7]), np.array([0.0, 0.2, 0.9, 1.0, 1.5, 2.2])
    g = adc.grad(nearest)
    src = adc.source(g, mode="forward", at=(c, p), compact=True)
    assert "dtape" not in src and "tape.append" in src, src
    for jit in (False, True):
        grad, hd = adc.jvp(adc.grad(nearest, jit=jit), (c, p), (np.ones(3), np.zeros(6)), jit=jit)
        np.testing.assert_allclose(grad, gradient_fd(lambda c: nearest(c, p), c), rtol=1e-6)
        np.testing.assert_allclose(hd, np.diag(adc.hessian(nearest)(c, p)), rtol=1e-13)


def test_memory_made_in_each_iteration_is_kept_by_reference():
    m = np.array([0.5, -1.2, 2.0])
    src = adc.source(per_component, at=(X, m), compact=True)
    forward = src.split("# reverse sweep")[0]
    assert ".copy()" not in forward, src
    for f, args in ((per_component, (X, m)), (written_later, (X,))):
        for jit in (False, True):
            g = adc.grad(f, jit=jit)(*args)
            np.testing.assert_allclose(g, gradient_fd(lambda x: f(x, *args[1:]), X), rtol=1e-6)
            np.testing.assert_allclose(g, adc.grad(f, mode="forward")(*args), rtol=1e-12)
        v = np.linspace(-1.0, 1.0, 5)
        np.testing.assert_allclose(adc.hvp(f)(*args, v), adc.hessian(f)(*args) @ v, rtol=1e-12)


def test_a_view_of_memory_made_anew_is_made_again_in_the_reverse_sweep():
    """The reverse sweep keeps ``Q`` (by reference) and takes ``Q.T`` again: a record of the
    transposed view would hold arrays of another memory layout, which Numba cannot type.  The
    forward sweep no longer computes what only the reverse sweep's recomputation read."""
    A = np.array([[1.0, 2.0], [0.5, -1.0], [0.2, 0.3]])
    src = adc.source(transposed_factor, at=(X, A), compact=True)
    forward, reverse = src.split("# reverse sweep")
    assert "_rec[k] = Q\n" in forward and "Q.T" not in forward and "Q.T" in reverse, src
    assert ".copy()" not in forward, src
    expected = gradient_fd(lambda x: transposed_factor(x, A), X)
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(transposed_factor, jit=jit)(X, A), expected, rtol=1e-6)


def test_buffers_start_at_their_first_contribution():
    src = adc.source(rk4, at=(X, 1), compact=True)
    reverse = src.split("# reverse sweep")[1]
    assert reverse.count("np.zeros_like") == 5, reverse  # gx and gy at the top; three stage buffers
    np.testing.assert_allclose(adc.grad(rk4)(X, 1), gradient_fd(lambda x: rk4(x, 1), X), rtol=1e-6)


def test_a_tangent_shared_with_unwritten_memory_is_not_copied():
    c, p = np.array([0.1, 0.8]), np.array([0.0, 0.9, 1.6])
    src = adc.source(broadcast_tangent, mode="forward", at=(c, p), compact=True)
    assert ".copy()" not in src, src  # was np.broadcast_to(-dv3, diff.shape).copy(): `out` is written
    J = adc.jacfwd(broadcast_tangent)(c, p)
    np.testing.assert_allclose(J, adc.jacrev(broadcast_tangent)(c, p), rtol=1e-13)


def test_numba_code_fuses_element_wise_arrays():
    """Under jit the RK4 step is loops over the elements (``fusion.py``), and in the checked code
    (where the lengths do not fit) the update is one expression (Numba fuses it); the plain code
    keeps names."""
    x = np.linspace(0.1, 1.0, 6)
    g = adc.grad(rk4, jit=True)
    np.testing.assert_allclose(g(x, 3), adc.grad(rk4)(x, 3), rtol=1e-14)
    from adc import pipeline

    compiled = next(c for key, c in pipeline._cache.items() if key[4] is True and key[2] == "grad" and c.fn is rk4)
    assert "(fused)" in compiled.source, compiled.source
    source = pipeline.checked_version(compiled, True).source
    assert "y + h * (z + 2.0 * z_1 + 2.0 * z_2 + z_3) / 6.0" in source, source
    assert "y + h * (z + 2.0 * z_1" not in adc.source(rk4, at=(x, 3), compact=True)


@pytest.mark.parametrize("jit", [False, True])
def test_folding_stops_only_at_writes_that_reach_it(jit):
    """A write into another array between a value and its use does not stop the fold; one into
    an array the expression reads does."""
    def_args = (np.array([0.5, 1.5, -0.5]),)
    for f in (written_later, per_component):
        args = def_args if f is written_later else (def_args[0], np.array([0.5, -1.2, 2.0]))
        np.testing.assert_allclose(adc.grad(f, jit=jit)(*args), adc.grad(f, mode="forward")(*args), rtol=1e-12)


def mean_of_square(x):
    return np.mean(x * x)


def mean_of_power(x):
    return np.mean(x ** 2.5) + np.mean(np.sin(x) * x, axis=0)[0]


def size_of_product(x):
    return np.sum(np.sin(x * x)) / (x * x).shape[0] + np.mean(np.cos(x) + x)


@pytest.mark.parametrize("f", [mean_of_square, mean_of_power, size_of_product], ids=lambda f: f.__name__)
def test_a_folded_expression_keeps_its_parentheses(f):
    """Numba's code folds single-use array expressions into their use; where that use reads an
    attribute (``v.size``, ``v.shape[0]``), the expression is parenthesized: ``x * x.size`` was
    a wrong gradient of ``np.mean(x * x)``."""
    x = np.linspace(0.1, 1.0, 5) if f is not mean_of_power else np.linspace(0.1, 1.0, 6).reshape(2, 3)
    g = adc.grad(f)(x)
    np.testing.assert_allclose(adc.grad(f, jit=True)(x), g, rtol=1e-12)
    H = adc.hessian(f)(x)
    np.testing.assert_allclose(adc.hessian(f, jit=True)(x), H, rtol=1e-12, atol=1e-14)
    v = np.ones_like(x)
    np.testing.assert_allclose(adc.hvp(f, jit=True)(x, v), adc.hvp(f)(x, v), rtol=1e-12, atol=1e-14)
    if f is mean_of_square:
        np.testing.assert_allclose(g, 2 * x / x.size, rtol=1e-14)


def product_of_a_slice(x):
    return np.prod(x[:6]) + np.sum(np.log(1.0 + x * x))


def test_a_store_target_is_not_folded():
    """``np.prod``'s reverse rule adds into a new array; under Numba it was folded into the store
    (``gv4 * t_1[:6] += gv1``, not Python)."""
    x = np.linspace(0.5, 1.5, 8)
    g = adc.grad(product_of_a_slice)(x)
    np.testing.assert_allclose(adc.grad(product_of_a_slice, jit=True)(x), g, rtol=1e-12)
    np.testing.assert_allclose(g, gradient_fd(product_of_a_slice, x), rtol=1e-6)
    np.testing.assert_allclose(adc.hessian(product_of_a_slice, jit=True)(x), adc.hessian(product_of_a_slice)(x),
                               rtol=1e-12, atol=1e-14)


def weighted_by_index(x, n):
    s = 0.0
    for j in range(5):
        if n > j:
            s = s + x * j
    return s


@pytest.mark.parametrize("jit", [False, True])
def test_a_loop_the_forward_sweep_does_not_need_is_gone(jit):
    """The reverse loop binds the loop index itself: the forward sweep runs no empty copy of the
    loop for it (``passes.sweep``)."""
    source = adc.source(weighted_by_index, at=(1.5, 3), argnums=0)
    loops = [line for line in source.splitlines() if line.strip().startswith("for ")]
    assert loops == ["    for j in range(4, -1, -1):"] and "pass" not in source
    assert adc.grad(weighted_by_index, jit=jit)(1.5, 3) == pytest.approx(0.0 + 1.0 + 2.0)
    assert adc.grad(weighted_by_index, jit=jit)(1.5, 9) == pytest.approx(10.0)


def folded_then_squared_away(c):
    """Fuzz seed 681, program 3769 (reduced): ``math.exp(math.sin(2.0))`` folded with ``np.exp``
    was one bit off ``math.exp``'s, and the loop grows that bit into the seventh digit."""
    t0 = math.exp(math.sin(2.0))
    for i in range(3):
        c = t0 * t0
        t1 = c
        c -= math.sin(t1 * c)
        t0 = 0.5 + c
    return c


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_constants_fold_as_the_generated_code_computes_them(mode):
    """Numbers fold through the scalar spelling the generated code uses (``math.exp``), so the
    value is the function's own, bit for bit."""
    value, grad = adc.value_and_grad(folded_then_squared_away, mode=mode)(0.999)
    assert value == folded_then_squared_away(0.999)
    assert grad == 0.0  # ``c`` is overwritten before it is read
    assert adc.prims.fold_value("exp", [2.0]) == math.exp(2.0)
    with pytest.raises(OverflowError):  # as math.exp raises: not folded, the statement raises when it runs
        adc.prims.fold_value("exp", [1000.0])


def divided_by_constants(x, y):
    return np.divide(x, 3.0) * np.power(2.0, y) + np.reciprocal(y) + np.log(2.0) * np.divide(y, x)


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_a_guard_a_constant_operand_proves_is_not_written(jit):
    """``np.divide(x, 3.0)`` on a number was ``x / 3.0 if 3.0 else np.divide(x, 3.0)``, a branch
    that never runs: a guarded form renders unguarded where its operands' constant values prove
    the condition (``Form.at``), and constants fold through that form (``math.log(2.0)``)."""
    source = adc.source(divided_by_constants, argnums=(0, 1), at=(1.5, 0.5))
    assert "/ 3.0 if" not in source and "if 3.0" not in source and "if 2.0 > 0" not in source
    assert "x / 3.0" in source and "2.0 ** y" in source and "np.divide(y, x)" in source  # x may be 0
    assert repr(math.log(2.0)) in source
    h = 1e-6
    for x, y in ((1.5, 0.5), (-0.7, 2.0)):
        want = [(divided_by_constants(x + h, y) - divided_by_constants(x - h, y)) / (2 * h),
                (divided_by_constants(x, y + h) - divided_by_constants(x, y - h)) / (2 * h)]
        value, grads = adc.value_and_grad(divided_by_constants, argnums=(0, 1), jit=jit)(x, y)
        assert value == divided_by_constants(x, y)
        np.testing.assert_allclose(grads, want, rtol=1e-7)
    assert adc.prims.fold_value("nplog", [2.0]) == math.log(2.0)


def times_zero(x, y):
    return x * 0.0 + y


def zero_over(x, y):
    t = 0.0 / x
    return t + y


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_a_value_times_zero_keeps_inf_and_nan(mode, jit):
    """Found by review: folding simplified the user's ``x * 0.0`` and ``0.0 / x`` to ``0.0``, so
    at ``x = inf`` (or nan) the value was ``y`` where the function gives nan.  A value of the
    user's function now keeps every bit (``Builder(exact=True)`` in ``fold_constants``); a
    derivative's zero contribution is still a symbolic zero, as in JAX."""
    for fn, x in ((times_zero, math.inf), (times_zero, math.nan), (zero_over, math.nan)):
        value, (gx, gy) = adc.value_and_grad(fn, argnums=(0, 1), mode=mode, jit=jit)(x, 2.0)
        assert math.isnan(value) and math.isnan(fn(x, 2.0))
        if mode == "reverse" or fn is times_zero:  # (forward: the pass for y has 0 * nan, docs/rules.md)
            assert gy == 1.0
    value, (gx, gy) = adc.value_and_grad(zero_over, argnums=(0, 1), mode=mode, jit=jit)(4.0, 2.0)
    assert (value, gx, gy) == (2.0, 0.0, 1.0)


NEGATIVE_BASE = -2.0


def power_of_a_negative_constant(x, y):
    return np.power(NEGATIVE_BASE, y) * x


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_a_guard_a_constant_operand_disproves_takes_numpys_branch(jit):
    """``np.power(-2.0, y)`` on numbers was ``(-2.0) ** y if (-2.0) > 0 else np.power((-2.0), y)``:
    where the constants prove the condition false, only NumPy's branch is written."""
    with np.errstate(invalid="ignore"):  # (folding log(-2.0) warns as NumPy does)
        source = adc.source(power_of_a_negative_constant, argnums=(0, 1), at=(1.5, 3.0), compact=True)
        value, (gx, gy) = adc.value_and_grad(power_of_a_negative_constant, argnums=(0, 1), jit=jit)(1.5, 3.0)
    assert "np.power(-2.0, y)" in source and "> 0" not in source
    assert value == power_of_a_negative_constant(1.5, 3.0) == -12.0
    assert gx == -8.0 and math.isnan(gy)  # d/dy: log(-2.0) * out, NumPy's nan (docs/rules.md)

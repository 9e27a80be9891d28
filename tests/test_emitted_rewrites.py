"""Three rewrites of the code adc runs (``pipeline.emitted``; the programs that are differentiated
again, and the listing ``adc source`` shows, keep their form):

- ``scaled_sums``: ``np.sum(c * v)`` is ``c * s`` where ``s = np.sum(v)`` was taken before;
- ``copies.in_place_results`` (NumPy code only): an element-wise result of a new array nothing
  reads again is written into it, ``np.exp(v, out=v)``;
- ``copies.masked_adds_skipped``: the masked add of ``np.max``'s ties runs under ``if f != 0.0:``
  when its value is zero wherever the number ``f`` is.

Each program is checked against central differences, forward mode, Numba, Hessians, and its
arguments are left unchanged; the code shows each rewrite where it applies and not where it may
not (an operand read again, an argument, two array operands, a change of dtype, a write between
two sums)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import adc
from adc import pipeline
from adc.api import _types_for
from adc.copies import in_place_results, masked_adds_skipped
from adc.evaluate import run
from adc.ir import Const, Op, Program, Region, Var, walk
from adc.scaled_sums import scaled_sums
from adc.types import FLOAT, Type, type_of
from adc.verify import verify
from fd import check_tied_gradient


def lse(x):
    a = np.max(x)
    return a + np.log(np.sum(np.exp(x - a)))


def softmax_dot(x, w):
    """The max's adjoint is not zero here: the masked add runs."""
    a = np.max(x)
    e = np.exp(x - a)
    return np.sum(e / np.sum(e) * w) + 0.5 * a


def tanh_chain(x):
    """Element-wise results of new arrays, each read once: written in place, one after the other."""
    y = np.tanh(x * 2.0)
    z = np.exp(y) * 3.0
    return np.sum(np.sin(z))


def read_again(x):
    """``y`` is read after ``np.exp(y)``: not written in place."""
    y = x * 2.0
    z = np.exp(y)
    return np.sum(z * y)


def two_arrays(x, w):
    """``y * w``: the reverse sweep reads ``y`` again (``gw = g * y``): a new array."""
    y = np.sin(x)
    return np.sum(y * w)


def broadcast_sum(x, w, n):
    """``x[:n] * 2.0 + w``, written into the new ``x[:n] * 2.0`` when ``w`` does not make it larger:
    with ``n = 1`` and ``w`` of shape (4, 3) it does, and the sum is a new array.  The check is at
    run time: the types do not know the length of ``x[:n]`` (of an argument of length 1 they do)."""
    y = x[:n] * 2.0 + w
    return np.sum(np.cos(y))


def gathered(x, k):
    """``x[k]`` (an index array) is a copy: ``x[k] * 3.0`` is written into it, and ``x`` is unchanged."""
    v = x[k] * 3.0
    return np.sum(np.sin(v + x[0]))


def sliced(x):
    """``x[1:4]`` is a view of ``x``: never written into."""
    v = x[1:4] * 3.0
    return np.sum(np.sin(v + x[0]))


def widened(x, k, b):
    """``k * 2 + b``, written into the new ``k * 2`` only if ``b`` does not widen its dtype: int32
    plus int64 (the types call both int64) is int64, and 3e9 does not fit in int32 (review)."""
    j = k * 2
    m = j + b
    return np.sum(x * m)


def widened_float(x, w):
    """``x * x * w`` with ``x`` float32 or float16 and ``w`` float64: float64, not ``x``'s dtype."""
    return np.sum(x * x * w) - np.sum(x * x * (w - 1.0))


def unit_slice(x, m, n):
    """``x[n:n + 1]`` is typed as one element but is empty at ``n = len(x)``: ``y`` is empty."""
    y = x[:m] * 2.0 + x[n:n + 1]
    return np.sum(np.sin(y)) + x[0]


def chosen(x, k, c):
    """``v`` is a new array on both paths: ``v * 2.0`` is written into it."""
    if c > 0.0:
        v = x[k]
    else:
        v = x[k] + 1.0
    return np.sum(np.cos(v * 2.0))


def chosen_scaled(x, k, c):
    """On the second path ``v`` is ``x[k] * 3.0 + 1.0`` (the product written into ``x[k]``): a new
    array on both paths that nothing else reads, so ``v * 2.0`` is written into it."""
    if c > 0.0:
        v = x[k]
    else:
        v = x[k] * 3.0 + 1.0
    return np.sum(np.cos(v * 2.0))


def chosen_view(x, c):
    """On one path ``v`` is a view of ``x``: ``v * 2.0`` is a new array."""
    if c > 0.0:
        v = x[1:4]
    else:
        v = x[0:3] + 1.0
    return np.sum(np.cos(v * 2.0))


def int_to_float(k, x):
    """``k * 0.5`` of an int array is a float array: not in place (``k`` is not new either)."""
    j = k * 2
    return np.sum((j * 0.5) * x * x)


def special(x):
    """SciPy's ufuncs are spelled ``adc_special.<name>``: not written in place as ``np.<name>``
    (found by review: ``np.expit`` does not exist)."""
    return np.sum(sp.expit(2.0 * x) * x) + np.sum(sp.gammaln(x * x + 3.0))


def in_a_loop(x, n):
    s = 0.0
    for i in range(n):
        y = np.cos(x * (i + 1.0))
        s = s + np.sum(np.exp(y))
    return s


X = np.array([0.3, 0.9, -0.4, 0.9, 1.1, -0.8, 1.1])  # ties at the max
W = np.array([0.5, -1.0, 2.0, 0.25, 1.5, -0.3, 0.7])
K = np.array([1, 2, 0, 3, 1, 2, 1])
ROW = np.array([[0.3, -0.7, 1.2]])
ONE = np.array([[0.25]])
BLOCK = np.array([[0.5, 1.0, -0.2], [0.1, 0.4, 0.9], [-1.1, 0.3, 0.6], [0.8, -0.5, 0.2]])
PROGRAMS = [(lse, (X,), 0), (softmax_dot, (X, W), 0), (tanh_chain, (X,), 0), (read_again, (X,), 0),
            (two_arrays, (X, W), 0), (int_to_float, (K, X), 1), (in_a_loop, (X, 3), 0), (special, (X,), 0),
            (broadcast_sum, (BLOCK, BLOCK, 4), 0), (broadcast_sum, (BLOCK, BLOCK, 4), 1),
            (broadcast_sum, (BLOCK, ROW, 4), 0), (broadcast_sum, (BLOCK, ONE, 4), 0), (gathered, (X, K), 0), (sliced, (X,), 0), (chosen, (X, K, 1.0), 0),
            (chosen, (X, K, -1.0), 0), (chosen_scaled, (X, K, 1.0), 0), (chosen_scaled, (X, K, -1.0), 0),
            (chosen_view, (X, 1.0), 0), (chosen_view, (X, -1.0), 0)]


@pytest.mark.parametrize("f, args, at", PROGRAMS, ids=lambda v: getattr(v, "__name__", ""))
def test_values_and_derivatives(f, args, at):
    before = [np.copy(a) for a in args]
    value, g = adc.value_and_grad(f, argnums=at)(*args)
    assert value == pytest.approx(f(*args), rel=1e-13)
    check_tied_gradient(f, args, g, at)
    np.testing.assert_allclose(adc.grad(f, argnums=at, jit=True)(*args), g, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(adc.grad(f, argnums=at, mode="forward")(*args), g, rtol=1e-12, atol=1e-14)
    H = adc.hessian(f, argnums=at)(*args).reshape(np.size(args[at]), np.size(args[at]))
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


def _code(f, args, at=0, jit=False):
    _, types = _types_for(f, args)
    return pipeline.compile_derivative(f, types, "grad", [at], jit=jit, load=False).source


def test_the_code_of_log_sum_exp():
    code = _code(lse, (X,))
    assert "v3 = np.exp(v2, out=v2)" in code and "gv2 = np.multiply(1.0 / v4 if v4 else np.divide(1.0, v4), v3, out=v3)" \
        in code, code
    statements = [line for line in code.splitlines() if not line.strip().startswith("#")]
    assert sum(line.count("np.sum(") for line in statements) == 1, code
    assert "ga = 1.0 - (v4 / v4 if v4 else np.divide(v4, v4))" in code, code  # the softmax sums to 1 exactly
    assert "    if ga != 0.0:\n        t = x == a\n        np.add(gx, ga / np.count_nonzero(t), out=gx, where=t)" in code
    jit = _code(lse, (X,), jit=True)
    assert "out=" not in jit.replace("out=gx, where", "") and "if ga != 0.0:" in jit, jit  # Numba fuses the loops
    assert "np.sum(gv2)" in adc.source(lse, at=(X,))  # the listing keeps the lecture form


@pytest.mark.parametrize("f, args, at, written", [
    (tanh_chain, (X,), 0, ["y = np.tanh(v1, out=v1)", "t = np.cos(z, out=z)", "t_2 = np.subtract(1.0, t_1, out=t_1)"]),
    (in_a_loop, (X, 3), 0, ["v7 = np.exp(y, out=y)", "t = np.sin(v5, out=v5)", "gv5 = np.negative(t_1, out=t_1)"]),
    # ``x[:n]`` is sized at run time: the reverse sweep reads ``v4``'s shape (``shaped_like``), and
    # the rewrite counts that as a read (a new array for ``y``)
    (broadcast_sum, (BLOCK, BLOCK, 4), 0, ["y = v4 + w", "adc_arrays.shaped_like(gy, v4)"]),
    (broadcast_sum, (BLOCK, ROW, 4), 0, ["y = v4 + w", "adc_arrays.shaped_like(gy, v4)"]),
    (broadcast_sum, (BLOCK, ONE, 4), 0, ["y = v4 + w", "adc_arrays.shaped_like(gy, v4)"]),
    (gathered, (X, K), 0, ["np.multiply(v2, 3.0, out=v2)"]),
    (chosen, (X, K, 1.0), 0, ["np.multiply(v, 2.0, out=v)"]),
    (chosen_scaled, (X, K, 1.0), 0, ["np.multiply(v, 2.0, out=v)"]),
])
def test_results_written_into_their_operands(f, args, at, written):
    code = _code(f, args, at)
    for text in written:
        assert text in code, code
    assert "np.multiply(1.0," not in code, code  # a product with 1.0 of an array nothing reads again: none


@pytest.mark.parametrize("f, args, at, kept", [
    (read_again, (X,), 0, "np.exp(y)"), (two_arrays, (X, W), 0, "y * w"), (int_to_float, (K, X), 1, "j * 0.5"),
    (special, (X,), 0, "adc_special.expit(v1)"), (sliced, (X,), 0, "x[1:4] * 3.0"), (chosen_view, (X, 1.0), 0, "v * 2.0")])
def test_results_not_written_into_operands_that_are_read_again_or_may_differ(f, args, at, kept):
    code = _code(f, args, at)
    assert kept in code, code


def test_a_result_larger_than_the_array_it_may_be_written_into():
    """At ``n = 1`` the new array ``x[:n] * 2.0`` has one row and ``w`` four: the sum, and the
    product of its tangent with ``sin(y)``, are new arrays of four rows (forward mode; reverse mode
    sums the adjoint of ``x[:n] * 2.0`` over the four rows when the code runs, ``shaped_like``)."""
    dx = np.linspace(-1.0, 1.0, BLOCK.size).reshape(BLOCK.shape)
    value, tangent = adc.jvp(broadcast_sum, (BLOCK, BLOCK, 1), (dx, np.zeros_like(BLOCK), 0))
    h = 1e-6
    fd = (broadcast_sum(BLOCK + h * dx, BLOCK, 1) - broadcast_sum(BLOCK - h * dx, BLOCK, 1)) / (2 * h)
    assert value == pytest.approx(broadcast_sum(BLOCK, BLOCK, 1), rel=1e-14)
    assert tangent == pytest.approx(fd, rel=1e-7)
    code = adc.source(broadcast_sum, mode="forward", at=(BLOCK, BLOCK, 1), compact=True)
    assert "adc_arrays.ufunc_into(np.add, v4, w, out=v4)" in code and "ufunc_into(np.multiply, dv4, t, out=dv4)" in code
    grad = adc.grad(broadcast_sum)(BLOCK, BLOCK, 1)
    want = [(broadcast_sum(BLOCK + h * e.reshape(BLOCK.shape), BLOCK, 1)
             - broadcast_sum(BLOCK - h * e.reshape(BLOCK.shape), BLOCK, 1)) / (2 * h) for e in np.eye(BLOCK.size)]
    np.testing.assert_allclose(grad.ravel(), want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtypes", [(np.int32, np.int64), (np.uint8, np.int64), (np.int64, np.int64)])
def test_an_operand_of_a_wider_dtype_is_not_written_into(dtypes):
    x = np.array([0.5, -1.0, 2.0])
    k, b = np.array([1, 2, 3], dtype=dtypes[0]), np.array([3_000_000_000, 5, 7], dtype=dtypes[1])
    want = np.array([2 * 1 + 3_000_000_000, 2 * 2 + 5, 2 * 3 + 7], dtype=float)
    if dtypes[0] == np.uint8:
        want = (2 * k + b).astype(float)
    value, g = adc.value_and_grad(widened)(x, k, b)
    np.testing.assert_array_equal(g, want)
    assert value == pytest.approx(float(np.sum(x * want)), rel=1e-15)
    np.testing.assert_array_equal(adc.grad(widened, mode="forward")(x, k, b), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_a_narrower_float_is_not_written_into(dtype):
    """The value is the function's (8.752 for 8.630 and 13.05 for 8.627 when the float64 products
    were written into the float32 and float16 squares).  (The gradient is kept in the argument's
    dtype, so its sums of terms near 1e6 lose digits in float32, as under jit=True.)"""
    x, w = np.array([0.3, -1.7, 2.2], dtype=dtype), np.array([1e6, 3e5, 7e5])
    value = adc.value_and_grad(widened_float)(x, w)[0]
    assert value == pytest.approx(widened_float(x, w), rel=1e-12)
    if dtype == np.float32:
        np.testing.assert_allclose(adc.grad(widened_float)(x, w), adc.grad(widened_float, jit=True)(x, w), rtol=1e-6)


def test_a_unit_slice_that_is_empty():
    x = np.array([0.3, -0.7, 1.2, 0.5])
    assert adc.jvp(unit_slice, (x, 1, 4), (np.array([1.0, 0.0, 0.0, 0.0]), 0, 0)) == (pytest.approx(0.3), pytest.approx(1.0))
    np.testing.assert_allclose(adc.grad(unit_slice, mode="forward")(x, 1, 4), [1.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("shapes, written", [(((4, 3), (4, 3)), True), (((4, 3), (3,)), True),
                                             (((4, 3), (1, 3)), True), (((1, 3), (4, 3)), False),
                                             (((4, 1), (1, 3)), False), (((3,), (4, 3)), False)])
def test_ufunc_into_writes_only_a_result_of_its_shape(shapes, written):
    from adc.prims.kernels import ufunc_into

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    want, before = a - b, a.copy()
    got = ufunc_into(np.subtract, a, b, out=a)
    np.testing.assert_array_equal(got, want)
    assert (got is a) == written
    if not written:
        np.testing.assert_array_equal(a, before)


# -- the passes on programs written in the IR --------------------------------------------------------
VEC = Type("float", 1, "float64", (False,))


def _sums(write_between: bool) -> Program:
    """``s = sum(v); c = 2.5 / s; w = c * v; t = sum(w)`` with ``v = x * x`` (and ``v[0] = 7.0``
    after the first sum)."""
    x, v, w = Var("x", VEC), Var("v", VEC), Var("w", VEC)
    s, c, t = Var("s", FLOAT), Var("c", FLOAT), Var("t", FLOAT)
    ops = [Op("mul", [x, x], [v]), Op("sum", [v], [s]), Op("div", [Const(2.5), s], [c])]
    if write_between:
        ops.append(Op("setitem", [v, Const(0), Const(7.0)], [], (("index", ("i",)),)))
    ops += [Op("mul", [c, v], [w]), Op("sum", [w], [t])]
    return Program("f", [x], Region([], ops, [t]))


@pytest.mark.parametrize("write_between, rewritten", [(False, True), (True, False)])
def test_a_scaled_sum_is_taken_from_the_sum_only_with_no_write_between(write_between, rewritten):
    prog = _sums(write_between)
    verify(prog)
    out = scaled_sums(prog)
    verify(out)
    assert [op.prim for op in out.body.ops].count("sum") == (1 if rewritten else 2)
    assert [op.prim for op in prog.body.ops].count("sum") == 2  # a copy is rewritten
    x = np.array([-1.0, 2.0, 0.5])
    v = x * x
    if write_between:
        v[0] = 7.0
    want = np.sum(2.5 / np.sum(x * x) * v)
    assert run(out, [x])[0][0] == pytest.approx(want, rel=1e-15)


def _normalised(numerator: float | None, divide: str) -> Program:
    """``s = sum(v); c = k / s; w = c * v; t = sum(w)`` with ``v = x * x`` (``c = 2.5 / x[0]``'s
    stand-in ``k / r`` with ``r = sum(x)`` where ``numerator`` is None)."""
    x, v, w = Var("x", VEC), Var("v", VEC), Var("w", VEC)
    s, r, c, t = Var("s", FLOAT), Var("r", FLOAT), Var("c", FLOAT), Var("t", FLOAT)
    ops = [Op("mul", [x, x], [v]), Op("sum", [v], [s]), Op("sum", [x], [r]),
           Op(divide, [Const(2.5 if numerator is None else numerator), r if numerator is None else s], [c]),
           Op("mul", [c, v], [w]), Op("sum", [w], [t])]
    return Program("f", [x], Region([], ops, [t]))


@pytest.mark.parametrize("numerator", [1.0, 2.5, None])
@pytest.mark.parametrize("divide", ["div", "npdiv"])
def test_the_sum_of_an_array_normalised_by_its_own_sum_is_the_numerator(numerator, divide):
    """``sum((k / s) * v)`` with ``s = sum(v)`` is ``k * (s / s)``: ``k`` exactly (the sum of the
    products is ``k`` up to rounding), nan where ``s`` is 0 as ``(k / s) * s`` is; ``k / r`` for another
    number ``r`` stays ``c * s``."""
    prog = _normalised(numerator, divide)
    out = scaled_sums(prog)
    verify(out)
    prims = [op.prim for op in out.body.ops]
    assert prims.count("sum") == 2 and prims[-1] == ("mul" if numerator != 1.0 else divide), prims
    if numerator is not None:
        assert [op.args for op in out.body.ops if op.prim == divide][-1] == [prog.body.ops[1].out] * 2
    rng = np.random.default_rng(3)
    for _ in range(50):
        x = rng.uniform(0.1, 3.0, 7)
        got = run(out, [x])[0][0]
        if numerator is None:
            assert got == pytest.approx(np.sum(2.5 / np.sum(x) * x * x), rel=1e-15)
        else:
            assert got == numerator
    if numerator is not None and divide == "npdiv":
        with np.errstate(all="ignore"):
            assert np.isnan(run(out, [np.zeros(3)])[0][0]) and np.isnan(run(prog, [np.zeros(3)])[0][0])


def test_the_max_of_log_sum_exp_has_adjoint_zero():
    """GradBench's lse input at n = 160000: ``1 - sum(softmax)`` was ``1.1e-16``, and a pass over
    the array added it to the largest element; the gradient is the softmax itself."""
    np.random.seed(31337)
    x = np.random.rand(160000)
    e = np.exp(x - np.max(x))
    assert 1.0 - (1.0 / np.sum(e)) * np.sum(e) != 0.0  # the residue this input has
    np.testing.assert_array_equal(adc.grad(lse)(x), e * (1.0 / np.sum(e)))
    np.testing.assert_allclose(adc.grad(lse, jit=True)(x), e / np.sum(e), rtol=1e-13)  # Numba sums in order


def _in_place(read_after: bool) -> Program:
    """``v = x * 2.0; y = exp(v); s = sum(y)``, and ``r = sum(v)`` after (or before) the ``exp``."""
    x, v, y, s, r = Var("x", VEC), Var("v", VEC), Var("y", VEC), Var("s", FLOAT), Var("r", FLOAT)
    ops = [Op("mul", [x, Const(2.0)], [v]), Op("exp", [v], [y]), Op("sum", [y], [s])]
    ops.insert(3 if read_after else 1, Op("sum", [v], [r]))
    return Program("f", [x], Region([], ops, [s, r]), out_tree=2)


@pytest.mark.parametrize("read_after", [False, True])
def test_a_result_is_written_into_a_new_array_nothing_reads_again(read_after):
    prog = _in_place(read_after)
    verify(prog)
    out = in_place_results(prog)
    verify(out)
    assert any(op.prim == "ufunc_into" for op in walk(out.body)) == (not read_after)
    assert not any(op.prim == "ufunc_into" for op in walk(prog.body))  # a copy is rewritten
    x = np.array([-1.0, 2.0, 0.5])
    got = run(out, [x])[0]
    assert got[0] == pytest.approx(np.sum(np.exp(2.0 * x)), rel=1e-15)
    assert got[1] == pytest.approx(np.sum(2.0 * x), rel=1e-15)
    np.testing.assert_array_equal(x, [-1.0, 2.0, 0.5])


@pytest.mark.parametrize("factor", [0.0, -0.75])
def test_a_masked_add_runs_only_where_its_factor_is_nonzero(factor):
    """``g = x * 1.0; a = max(x); m = x == a; n = count(m); q = f / n; g[m] += q``: what only the
    add reads (``a``, ``m``, ``n``, ``q``) moves under ``if f != 0.0:`` with it."""
    x, g, f, a = Var("x", VEC), Var("g", VEC), Var("f", FLOAT), Var("a", FLOAT)
    m, n, q = Var("m", VEC.with_(kind="bool", dtype="bool")), Var("n", Type("int")), Var("q", FLOAT)
    ops = [Op("mul", [x, Const(1.0)], [g]), Op("amax", [x], [a]), Op("eq", [x, a], [m]),
           Op("count_nonzero", [m], [n]), Op("div", [f, n], [q]), Op("masked_add", [g, m, q], [])]
    prog = Program("f", [x, f], Region([], ops, [g]))
    verify(prog)
    out = masked_adds_skipped(prog)
    verify(out)
    skip = next(op for op in out.body.ops if op.prim == "if")
    assert [op.prim for op in skip.regions[0].ops] == ["amax", "eq", "count_nonzero", "div", "masked_add"]
    xs = np.array([0.5, 2.0, -1.0, 2.0])
    np.testing.assert_allclose(run(out, [xs, factor])[0][0], xs + np.where(xs == 2.0, factor / 2, 0.0), rtol=1e-15)


def min_then_write_in_a_branch(x):
    y = np.copy(x)
    a = np.min(y)
    if 0.5 > 1.0:
        return 0.5
    y[:-1] -= 1.0
    return a


def test_what_a_masked_add_reads_stays_before_a_write_in_a_branch():
    """The copy of ``y`` that ``np.min``'s adjoint compares with ``a`` was moved under ``if ga !=
    0.0:``, past the write into ``y`` inside the (constant) branch: the comparison then read the
    written ``y``, and ``value_and_grad`` gave a zero gradient (fuzz seed 421, program 810)."""
    x = np.array([1.055, 0.682, -0.416, 0.008])
    want = np.array([0.0, 0.0, 1.0, 0.0])
    for jit in (False, True):
        value, g = adc.value_and_grad(min_then_write_in_a_branch, jit=jit)(x)
        assert value == -0.416
        np.testing.assert_array_equal(g, want)
        np.testing.assert_array_equal(adc.grad(min_then_write_in_a_branch, jit=jit)(x), want)
    np.testing.assert_array_equal(adc.value_and_grad(min_then_write_in_a_branch, mode="forward")(x)[1], want)

"""``copies.masked_adds``: in the code adc runs, ``g = g + np.where(m, v, 0.0)`` into a new adjoint
array nothing reads afterwards is ``np.add(g, v, out=g, where=m)`` (under Numba ``g +=
np.where(m, v, 0.0)``).  Each program is checked against central differences (with ties of the
max, whose adjoint splits equally), forward mode, Numba, Hessians (which differentiate the
program before the rewrite) and the code; the programs whose adjoint is a view or is read again
keep the addition, as does a mask of ints or floats (``where=`` takes bools only)."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc import pipeline
from adc.api import _types_for
from adc.copies import masked_adds
from adc.evaluate import run
from adc.ir import Atom, Const, Op, Program, Region, Var, walk
from adc.types import FLOAT, Type, type_of
from adc.verify import verify
from fd import check_tied_gradient


# -- rewritten -------------------------------------------------------------------------------------
def lse(x):
    a = np.max(x)
    return a + np.log(np.sum(np.exp(x - a)))


def lse_rows(A):
    m = np.max(A, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(A - m), axis=1)) + m[:, 0])


def max_in_a_loop(x, n):
    s = 0.0
    for i in range(n):
        y = x * (i + 1.0)
        s = s + np.max(y) + np.sum(y * y)
    return s


def max_times_min(x):
    """Two masked adds into one adjoint: the second writes where the first wrote."""
    return np.max(x) * np.min(x) + np.sum(x * x)


def written_then_max(x):
    """Into the adjoint buffer of an array written element by element."""
    z = x * 2.0
    z[0] = x[1] * x[2]
    return np.max(z) + np.sum(z * x)


def max_of_another_name(x):
    """``y = x`` names one value: its two maxima are one, with two adds into one new adjoint."""
    y = x
    return np.max(y) * np.sum(x * y) + np.max(x)


def clipped(x, w):
    return np.sum(np.maximum(x, 0.0) * w) + np.sum(x * w * x)


# -- left as they are --------------------------------------------------------------------------------
def row_sums_then_max(A, w):
    """``gA`` starts as a broadcast of ``w`` (a read-only view of it), not a new array."""
    return np.max(A) + np.sum(np.sum(A, axis=1) * w)


def max_read_twice(x):
    y = np.exp(x)
    m = np.max(y)
    return m * np.sum(y) + np.max(x)


def int_mask(x, m):
    """``np.where`` takes any truth values, ``where=`` bools only (found by review)."""
    return np.sum(np.where(m, x, 0.0) * 2.0) + np.sum(x * x)


X = np.array([0.3, 0.9, -0.4, 0.9, 1.1, -0.8, 1.1])  # ties at the max (1.1) and elsewhere (0.9)
A = np.array([[0.3, 0.9, 0.9], [0.7, 1.1, -0.8], [0.2, -0.5, 1.3], [0.6, 0.6, -1.0]])
REWRITTEN = [(lse, (X,)), (lse_rows, (A,)), (max_in_a_loop, (X, 3)), (max_times_min, (X,)),
             (written_then_max, (X,)), (max_of_another_name, (X,)), (clipped, (X, X[::-1].copy()))]
LEFT = [(row_sums_then_max, (A, np.array([0.5, -1.0, 2.0, 0.25]))), (max_read_twice, (X,)),
        (int_mask, (X, np.array([1, 0, 1, 1, 0, 0, 1]))), (int_mask, (X, np.array([1.0, 0.0, 2.0, 1.0, 0.0, 0.0, 1.0])))]
ALL = REWRITTEN + LEFT


@pytest.mark.parametrize("f, args", ALL, ids=lambda v: getattr(v, "__name__", ""))
def test_values_and_derivatives(f, args):
    value, g = adc.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args), rel=1e-14)
    check_tied_gradient(f, args, g)
    np.testing.assert_allclose(adc.grad(f, jit=True)(*args), g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(adc.grad(f, mode="forward")(*args), g, rtol=1e-12, atol=1e-15)
    H = adc.hessian(f)(*args).reshape(g.size, g.size)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f, args", ALL, ids=lambda v: getattr(v, "__name__", ""))
def test_the_argument_is_not_written(f, args):
    before = [np.copy(a) for a in args]
    adc.grad(f)(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


def _code(f, args, jit=False):
    _, types = _types_for(f, args)
    return pipeline.compile_derivative(f, types, "grad", [0], jit=jit, load=False).source


@pytest.mark.parametrize("f, args", REWRITTEN, ids=lambda v: getattr(v, "__name__", ""))
def test_the_mask_adds_in_place(f, args):
    code = _code(f, args)
    assert ", where=" in code and "+ np.where(" not in code, code
    jit = _code(f, args, jit=True)
    assert "+= np.where(" in jit and "adc_arrays.fits(g" in jit, jit  # Numba's += does not check shapes


@pytest.mark.parametrize("f, args", LEFT, ids=lambda v: getattr(v, "__name__", ""))
def test_the_addition_stays_where_it_may_not_be_made_in_place(f, args):
    code = _code(f, args)
    assert ", where=" not in code and ("+ np.where(" in code or "gx = gx + " in code), code


def test_the_rewrite_in_the_code_people_read():
    code = _code(lse, (X,))
    assert "np.add(gx, ga / np.count_nonzero(t), out=gx, where=t)" in code, code
    # the listing (adc source's default layout) keeps the lecture form
    assert "gx = gx + np.where(t, ga / np.count_nonzero(t), 0.0)" in adc.source(lse, at=(X,))


@pytest.mark.parametrize("f, args", ALL, ids=lambda v: getattr(v, "__name__", ""))
def test_the_pass_keeps_the_program_valid_and_leaves_it_unchanged(f, args):
    prog = pipeline.primal(f, [type_of(a) for a in args])
    out = pipeline.derivative_program(prog, "grad", [0], compact=True)
    before = [op.prim for op in out.body.ops]
    rewritten = masked_adds(out)
    verify(rewritten)
    assert [op.prim for op in out.body.ops] == before  # a copy is rewritten: the cached program is not
    assert ("masked_add" in {op.prim for op in _all_ops(rewritten)}) == ((f, args) in REWRITTEN)


def _all_ops(prog):
    return list(walk(prog.body))


# -- the conditions, on programs written in the IR -------------------------------------------------
VEC = Type("float", 1, "float64", (False,))


def _program(after: str = "", made_by: str = "mul") -> Program:
    """``g = x * x`` (or a view of ``x``), ``h = g + np.where(x > 0, x, 0.0)``, then ``after``:
    ``"read"`` reads ``g`` again, ``"view"`` takes a view of ``g`` before and reads it after."""
    x = Var("x", VEC)
    g = Var("g", VEC, "adjoint", x)
    h = Var("h", VEC, "adjoint", x)
    m, t, v, s = Var("m", VEC.with_(kind="bool", dtype="bool")), Var("t", VEC), Var("v", VEC), Var("s", FLOAT)
    ops = [Op(made_by, [x, x] if made_by == "mul" else [x], [g]),
           Op("gt", [x, Const(0.0)], [m]), Op("select", [m, x, Const(0.0)], [t]), Op("add", [g, t], [h])]
    out: list[Atom] = [h]
    if after == "view":
        ops.insert(1, Op("copy", [g], [v]))
    if after in ("read", "view"):
        ops.append(Op("sum", [g if after == "read" else v], [s]))
        out.append(s)
    return Program("f", [x], Region([], ops, out), out_tree=len(out) if len(out) > 1 else None)


@pytest.mark.parametrize("after, made_by, rewritten", [
    ("", "mul", True), ("read", "mul", False), ("view", "mul", False), ("", "copy", False)])
def test_only_a_new_array_nothing_reads_again_is_written(after, made_by, rewritten):
    prog = _program(after, made_by)
    verify(prog)
    out = masked_adds(prog)
    verify(out)
    assert any(op.prim == "masked_add" for op in out.body.ops) == rewritten
    x = np.array([-1.0, 2.0, 0.5])
    expected = x * x + np.where(x > 0, x, 0.0) if made_by == "mul" else x + np.where(x > 0, x, 0.0)
    np.testing.assert_allclose(run(out, [x])[0][0], expected)
    np.testing.assert_array_equal(x, [-1.0, 2.0, 0.5])

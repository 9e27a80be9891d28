"""Rows gathered before they are computed (``adc/row_gathers.py``): ``vertices[idx]`` from
``weights[idx] @ T`` when the reads pick fewer rows than the array has.

Each read becomes a branch on lengths known when the code runs; both branches are run here (few
rows read, and many), against central differences, forward against reverse, NumPy against Numba,
and the program as written (the pass turned off).  The functions are module-level so adc can read
their source."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc import pipeline
from adc.api import _types_for
from adc.ir import walk
from adc.row_gathers import gathered_rows
from adc.verify import verify

from fd import fd_jacobian_of


def skinned(theta, weights, base, idx, mirrored):
    """GradBench ht's shape: blended transforms, an einsum over vertices, a branch, a rotation."""
    T = np.outer(np.cos(theta[:4]), np.sin(np.arange(16.0) * theta[4])).reshape(4, 16) * 0.1
    blended = (weights @ T).reshape(-1, 4, 4)
    positions = np.einsum("vij,vj->vi", blended[:, 0:3, :], base)
    if mirrored:
        positions = positions * np.array([-1.0, 1.0, 1.0])
    R = np.array([[np.cos(theta[0]), -np.sin(theta[0]), 0.0], [np.sin(theta[0]), np.cos(theta[0]), 0.0],
                  [0.0, 0.0, 1.0]])
    vertices = positions @ R.T + theta[1:4]
    return np.sum(np.sin(vertices[idx[:, 0]]) * vertices[idx[:, 1]])


def table_lookup(p, tokens):
    """A small table read many times (embedding): the whole table is the cheaper branch."""
    table = np.tanh(p.reshape(3, 2) @ np.ones((2, 4)))
    return np.sum(table[tokens] ** 2)


def read_otherwise(x, idx):
    y = np.exp(x) * 2.0
    return np.sum(y[idx]) + np.sum(y)


def flattened(x, idx):
    y = (x @ np.ones((3, 2))).reshape(-1)
    return np.sum(y[idx] ** 2)


def written_between(x, idx):
    a = x * 1.0
    y = a * 3.0
    a[0] = 5.0
    return np.sum(y[idx] * a[idx])


def broadcast_row(x, w, n, idx):
    y = x[:n] * 1.0 + w
    return np.sum(np.cos(y[idx]))


RNG = np.random.default_rng(3)
V = 40
THETA = RNG.normal(size=6) * 0.5
WEIGHTS = RNG.random((V, 4))
BASE = np.c_[RNG.normal(size=(V, 3)), np.ones(V)]
FEW = RNG.integers(0, V, size=(5, 2))  # 2 * 5 < 40: the gathered branch
MANY = RNG.integers(0, V, size=(30, 2))  # 2 * 30 >= 40: the whole array
P = RNG.normal(size=6)
TOKENS = RNG.integers(0, 3, size=50)


def _as_written(monkeypatch):
    monkeypatch.setattr(pipeline, "gathered_rows", lambda program: program)
    monkeypatch.setattr(pipeline, "_cache", {})


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("idx", [FEW, MANY], ids=["few", "many"])
def test_the_gathered_and_the_whole_branch_give_the_gradient(idx, mirrored):
    args = (THETA, WEIGHTS, BASE, idx, mirrored)
    want = fd_jacobian_of(lambda t: skinned(t, *args[1:]), THETA)
    for jit in (False, True):
        got = adc.grad(skinned, jit=jit)(*args)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.grad(skinned, mode="forward")(*args), adc.grad(skinned)(*args), rtol=1e-12)
    jac = adc.jacfwd(skinned, argnums=(0, 1))(*args)
    np.testing.assert_allclose(jac[1], fd_jacobian_of(lambda w: skinned(THETA, w, *args[2:]), WEIGHTS),
                               rtol=1e-6, atol=1e-8)


def test_the_derivative_equals_the_one_of_the_program_as_written(monkeypatch):
    args = (THETA, WEIGHTS, BASE, FEW, True)
    got = adc.grad(skinned, argnums=(0, 1, 2))(*args)
    _as_written(monkeypatch)
    want = adc.grad(skinned, argnums=(0, 1, 2))(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)


def test_the_hessian_through_the_branch_is_symmetric_and_matches_differences():
    args = (THETA, WEIGHTS, BASE, FEW, False)
    H = adc.hessian(skinned)(*args)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H, fd_jacobian_of(lambda t: adc.grad(skinned)(t, *args[1:]), THETA),
                               rtol=1e-5, atol=1e-7)


def _program(fn, args):
    program = pipeline.primal(fn, _types_for(fn, args)[1])
    out = gathered_rows(program)
    verify(out, strict=True)
    return program, out


def _gathers_rows_of(out, name):
    """Does the rewritten program read rows of parameter ``name`` through an index array?"""
    param = next(p for p in out.params if p.hint == name)
    return any(op.prim == "getitem" and op.args[0] is param and not op.params for op in walk(out.body))


def test_what_is_rewritten():
    program, out = _program(skinned, (THETA, WEIGHTS, BASE, FEW, True))
    assert out is not program
    assert _gathers_rows_of(out, "weights") and _gathers_rows_of(out, "base")
    assert sum(op.prim == "if" for op in out.body.ops) == sum(op.prim == "if" for op in program.body.ops) + 2 - 1
    source = pipeline.compile_derivative(skinned, _types_for(skinned, (THETA, WEIGHTS, BASE, FEW, True))[1], "grad",
                                         (0,), jit=False, load=False).source
    assert source.count(" = weights[") == 2 and source.count(" = base[") == 2, source  # one branch per read


@pytest.mark.parametrize("fn, args", [(read_otherwise, (P, np.array([1, 4]))), (flattened, (P.reshape(2, 3), np.array([0, 3]))),
                                      (written_between, (P, np.array([0, 2])))], ids=lambda v: getattr(v, "__name__", ""))
def test_what_is_left_as_written(fn, args):
    program, out = _program(fn, args)
    assert out is program
    want = fd_jacobian_of(lambda x: fn(x, *args[1:]), args[0])
    np.testing.assert_allclose(adc.grad(fn)(*args), want, rtol=1e-6, atol=1e-8)


def test_a_table_read_many_times_takes_the_whole_branch():
    program, out = _program(table_lookup, (P, TOKENS))
    assert out is not program
    want = fd_jacobian_of(lambda p: table_lookup(p, TOKENS), P)
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(table_lookup, jit=jit)(P, TOKENS), want, rtol=1e-6, atol=1e-8)
    few = TOKENS[:1]
    np.testing.assert_allclose(adc.grad(table_lookup)(P, few), fd_jacobian_of(lambda p: table_lookup(p, few), P),
                               rtol=1e-6, atol=1e-8)


def test_an_operand_of_one_row_when_the_code_runs_takes_the_whole_branch():
    # ``x[:n]`` with n == 1 broadcasts against w's rows: gathered, its row 3 would not exist
    x, w, idx = np.array([0.3, 0.1, 0.4, 0.2]), np.linspace(0.0, 1.0, 4), np.array([3, 1])
    program, out = _program(broadcast_row, (x, w, 1, idx))
    assert out is not program
    assert broadcast_row(x, w, 1, idx) == pytest.approx(np.sum(np.cos(x[0] + w[idx])))
    got = adc.grad(broadcast_row, argnums=1, mode="forward")(x, w, 1, idx)
    np.testing.assert_allclose(got, fd_jacobian_of(lambda v: broadcast_row(x, v, 1, idx), w), rtol=1e-6, atol=1e-8)


def read_in_a_branch(x, idx, c):
    y = np.exp(x)
    s = 0.0
    if c > 0.0:
        z = y * 2.0
        s = np.sum(z[idx])
    return s


def test_a_read_in_a_branch_of_an_array_made_before_it_is_left_as_written():
    # found by review: the read's block is the branch, the chain starts outside it (a KeyError)
    x, idx = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 2])
    program, out = _program(read_in_a_branch, (x, idx, 1.0))
    assert not _gathers_rows_of(out, "x")
    want = np.array([2 * np.exp(0.1), 0.0, 2 * np.exp(0.3), 0.0])
    np.testing.assert_allclose(adc.grad(read_in_a_branch)(x, idx, 1.0), want, rtol=1e-13)
    np.testing.assert_allclose(adc.grad(read_in_a_branch)(x, idx, -1.0), np.zeros(4))


def returned_too(x, idx):
    y = np.exp(x) * 2.0
    return np.sum(y[idx]), y


def test_an_array_the_function_returns_is_left_as_written():
    # its rows would be computed twice: the whole array is needed anyway
    x, idx = np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 3])
    program, out = _program(returned_too, (x, idx))
    assert out is program
    value, vjp = adc.vjp(returned_too, x, idx)
    np.testing.assert_allclose(value[0], np.sum(2 * np.exp(x[idx])), rtol=1e-13)
    (g,) = vjp((1.0, np.zeros(4)))[:1]
    np.testing.assert_allclose(g, np.where(np.isin(np.arange(4), idx), 2 * np.exp(x), 0.0), rtol=1e-13)


REPEATED = np.tile(RNG.integers(0, V, size=(4, 2)), (25, 1))  # 100 reads a column, 4 distinct rows: 2 * 4 < 40


@pytest.mark.parametrize("idx", [REPEATED, REPEATED - V, FEW], ids=["repeated", "negative", "few"])
def test_each_row_is_computed_once_however_often_it_is_read(idx):
    """A row read many times is computed once (``rows_used``), then read as ``idx`` reads it: the
    gathered branch even though 2 * 100 reads are more than the 40 rows."""
    rows = adc.prims.kernels.rows_used(idx[:, 0], V)
    assert len(rows) == len(np.unique(idx[:, 0] % V)) and np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows[adc.prims.kernels.row_positions(idx[:, 0], rows, V)], idx[:, 0] % V)
    args = (THETA, WEIGHTS, BASE, idx, False)
    want = fd_jacobian_of(lambda t: skinned(t, *args[1:]), THETA)
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(skinned, jit=jit)(*args), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.grad(skinned, mode="forward")(*args), adc.grad(skinned)(*args), rtol=1e-12)
    w_jac = adc.jacfwd(skinned, argnums=1)(*args)
    np.testing.assert_allclose(w_jac, fd_jacobian_of(lambda w: skinned(THETA, w, *args[2:]), WEIGHTS),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jit", [False, True])
def test_an_index_out_of_range_raises_as_the_program_as_written(jit):
    idx = FEW.copy()
    idx[2, 1] = V  # one past the last row: NumPy raises
    with pytest.raises(IndexError):
        skinned(THETA, WEIGHTS, BASE, idx, False)
    with pytest.raises(IndexError):
        adc.grad(skinned, jit=jit)(THETA, WEIGHTS, BASE, idx, False)
    # out of range, rows_used gives every row: the whole branch, which raises where NumPy does
    np.testing.assert_array_equal(adc.prims.kernels.rows_used(idx[:, 1], V), np.arange(V))


def test_the_kernels_compiled_by_numba_agree_with_numpy():
    import numba

    @numba.njit
    def used(idx, n):
        return adc.prims.kernels.rows_used(idx, n)

    @numba.njit
    def positions(idx, rows, n):
        return adc.prims.kernels.row_positions(idx, rows, n)

    for idx in (REPEATED[:, 0], REPEATED[:, 1] - V, np.array([0, V]), np.zeros(0, dtype=np.int64)):
        rows = used(idx, V)
        np.testing.assert_array_equal(rows, adc.prims.kernels.rows_used(idx, V))
        if len(rows) < V:
            np.testing.assert_array_equal(positions(idx, rows, V), adc.prims.kernels.row_positions(idx, rows, V))
    for kernel in (positions, adc.prims.kernels.row_positions):
        with pytest.raises(IndexError):
            kernel(np.array([1, V]), np.array([1]), V)

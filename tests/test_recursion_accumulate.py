"""The reverse part of a kept recursive call in the code jit=True compiles (adc/calls.py,
``Stacks.accumulate``): it adds the adjoints of its array arguments into its caller's buffers
(``det_of_minor_bwd(..., ct, gA)``: no ``zeros_like`` and no whole-array addition per call), takes
its call's arguments from its caller instead of the tapes, and recomputes the new arrays it reads
(``np.concatenate`` of columns) instead of taping one per node.  Checked against central finite
differences, the plain-Python gradient (jit=False, which returns adjoints as before), worked numbers
(the cofactors of a 3 x 3 matrix), and, for the arguments the caller writes into or passes twice,
against both.  Most cases run the jit=True module as plain Python (its numbers, without Numba's
compile time); one compiles it."""
import math
import re

import numpy as np
import pytest

import adc
from accumulate_funcs import (call_read_only_by_a_test, calls_in_a_while_condition, calls_in_loop, carried_shape_read, carried_in_loop, det_by_index,
                              find_first_negative, in_a_while,
                              index_read_thrice, same_array_twice, sq_sum, summed_leaf, two_arrays,
                              written_after_call, written_copy_leaf)
from adc.backend import load_module
from adc.pipeline import compile_derivative
from adc.types import type_of
from fd import fd_jacobian_of

A3 = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
COFACTORS3 = np.array([[11.0, -4.0, 1.0], [-4.0, 8.0, -2.0], [1.0, -2.0, 5.0]])  # det(A3) = 18


def jit_module(fn, x):
    """The module jit=True compiles for the gradient of ``fn`` at ``x``: its source and its
    gradient function run as plain Python."""
    compiled = compile_derivative(fn, [type_of(x)], "grad", [0], jit=True, load=False)
    name = compiled.program.name
    return compiled.source, load_module(compiled.source, name)[name]


def test_det_cofactors_worked_numbers():
    source, grad = jit_module(det_by_index, A3)
    assert det_by_index(A3) == pytest.approx(18.0, rel=1e-15)
    np.testing.assert_allclose(grad(A3), COFACTORS3, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(adc.grad(det_by_index)(A3), COFACTORS3, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("n", [1, 2, 4, 5])
def test_det_matches_jacobi_and_plain_python(n):
    A = np.random.default_rng(n).standard_normal((n, n))
    _, grad = jit_module(det_by_index, A)
    want = np.linalg.det(A) * np.linalg.inv(A).T  # Jacobi's formula
    np.testing.assert_allclose(grad(A), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad(A), adc.grad(det_by_index)(A), rtol=1e-13, atol=1e-14)


def test_det_reverse_part_adds_into_the_callers_adjoint():
    source, _ = jit_module(det_by_index, A3)
    bwd = source[source.index("def det_of_minor_bwd"):source.index("def det_by_index_grad")]
    # its arguments from the caller, the caller's adjoint of A last; nothing returned
    assert bwd.startswith("def det_of_minor_bwd(A, row, cols, ")
    assert bwd.split("\n")[0].endswith(", ct, gA):")
    assert "zeros_like" not in bwd and "gA += t" not in bwd and "return \n" in bwd
    # the recursive call passes the same buffer, and the columns again (no array tape of them)
    # (the function's own parameters passed without reference counts, and every array as of any
    # layout: adc/borrowing.py)
    assert re.search(r"\n +det_of_minor_bwd\(adc_stacks.borrowed\(A\), v17, adc_stacks.any_layout\(rest\), [^\n]*, "
                     r"adc_stacks.borrowed\(gA\)\)\n", bwd)
    assert "rest = np.concatenate(" in bwd
    # what it can compute from its arguments it does not pop (m = cols.shape[0], and the leaf's
    # column cols[0], made in a branch, in that branch); the tapes no part uses are not passed
    assert "m = cols.shape[0]" in bwd and bwd.count("adc_stacks.pop(tape)") == 2  # sign, and the minor's value per column
    assert "gA[row, cols[0]] += gresult" in bwd
    assert bwd.startswith("def det_of_minor_bwd(A, row, cols, tape, ct, gA):")
    fwd = source[source.index("def det_of_minor_fwd"):source.index("def det_of_minor_bwd")]
    assert "ascontiguousarray" not in fwd  # a node pushes no array onto a tape (A and cols are not pushed)
    assert source.count("np.zeros_like(A)") == 1  # the main function's gA only


@pytest.mark.parametrize("fn", [sq_sum, two_arrays, calls_in_loop, written_after_call, same_array_twice,
                                carried_in_loop, in_a_while])
def test_against_finite_differences_and_plain_python(fn):
    x = np.array([0.3, -0.7, 1.1, 0.45])
    _, grad = jit_module(fn, x)
    got = grad(x)
    np.testing.assert_allclose(got, fd_jacobian_of(fn, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, adc.grad(fn)(x), rtol=1e-13, atol=1e-14)


def test_compiled_by_numba():
    A = np.random.default_rng(7).standard_normal((5, 5))
    want = np.linalg.det(A) * np.linalg.inv(A).T
    np.testing.assert_allclose(adc.grad(det_by_index, jit=True)(A), want, rtol=1e-10, atol=1e-12)
    x = np.array([0.3, -0.7, 1.1, 0.45])
    for fn in (two_arrays, in_a_while):
        np.testing.assert_allclose(adc.grad(fn, jit=True)(x), adc.grad(fn)(x), rtol=1e-13, atol=1e-14)


def test_second_derivatives_keep_returning_adjoints():
    """A program differentiated again (hessian under jit) does not use the in-place form: the
    Hessian of the determinant against finite differences of its gradient."""
    A = np.random.default_rng(3).standard_normal((3, 3))
    H = adc.hessian(det_by_index)(A)
    np.testing.assert_allclose(H, fd_jacobian_of(adc.grad(det_by_index), A), rtol=1e-6, atol=1e-8)


def test_mutual_recursion_compiled_by_numba():
    """Two functions calling each other: each part passes the tapes the other uses."""
    from call_funcs import is_even, mutual_a

    for fn, args in ((is_even, (0.7, 5)), (mutual_a, (1.5, 3))):
        assert adc.grad(fn, jit=True)(*args) == pytest.approx(adc.grad(fn)(*args), rel=1e-13)


@pytest.mark.parametrize("fn, again", [(find_first_negative, "j = 0"), (summed_leaf, "s = 0.0"),
                                       (index_read_thrice, "j = 0")])
def test_a_leafs_loop_of_numbers_runs_again_in_the_reverse_part(fn, again):
    """A number the leaf's branch computes from the call's arguments by a loop of statements on
    numbers (``save_policy.computed_again``) is computed again in that branch of the reverse part: the
    reverse part keeps nothing for it, and the int tape goes."""
    x = np.array([0.3, 0.7, -1.1, 0.45, -0.2])
    source, grad = jit_module(fn, x)
    got = grad(x)
    np.testing.assert_allclose(got, fd_jacobian_of(fn, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, adc.grad(fn)(x), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(adc.grad(fn, jit=True)(x), got, rtol=1e-13, atol=1e-14)
    bwd = source[source.index("_bwd("):source.index("_grad(")]
    starts = [line for line in bwd.splitlines() if line.strip() == again]  # the loop's first value
    assert len(starts) == 1 and "itape" not in source  # once, however many values it gives


def test_a_loop_reading_a_written_array_is_not_run_again():
    """The leaf's loop reads a copy the function writes: computed again it could read other
    values, so its index is kept on the int tape."""
    x = np.array([0.3, 0.7, 0.9, -0.45, 0.2])
    source, grad = jit_module(written_copy_leaf, x)
    got = grad(x)
    np.testing.assert_allclose(got, fd_jacobian_of(written_copy_leaf, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, adc.grad(written_copy_leaf)(x), rtol=1e-13, atol=1e-14)
    bwd = source[source.index("_bwd("):source.index("_grad(")]
    assert "while " not in bwd and "adc_stacks.pop(itape)" in bwd


@pytest.mark.parametrize("x", [np.array([0.313, -0.288, 0.777]), np.array([-1.2, 0.4, 0.1])])
def test_a_call_whose_result_needs_no_adjoint_still_pops_its_residuals(x):
    """A kept call whose result only feeds a comparison, after a loop of calls: its forward part
    pushed its residuals onto the shared tapes, so its reverse part must pop them (it runs with a
    zero cotangent) before the loop's calls pop theirs.  jit=True gave another gradient."""
    _, grad = jit_module(call_read_only_by_a_test, x)
    want = fd_jacobian_of(call_read_only_by_a_test, x)
    np.testing.assert_allclose(grad(x), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.grad(call_read_only_by_a_test, jit=True)(x), adc.grad(call_read_only_by_a_test)(x),
                               rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("a", [0.672, -1.3])
def test_a_call_in_a_while_condition_pushes_nothing(a):
    """d/da of atan(atan(atan(a))): the product of 1 / (1 + a_k^2) over the three steps."""
    want, x = 1.0, a
    for _ in range(3):
        want /= 1.0 + x * x
        x = math.atan(x)
    source, grad = jit_module(calls_in_a_while_condition, a)
    assert "damped_fwd" not in source  # the function itself: no forward part
    assert grad(a) == pytest.approx(want, rel=1e-13)
    for jit in (False, True):
        assert adc.grad(calls_in_a_while_condition, jit=jit)(a) == pytest.approx(want, rel=1e-13)
        assert adc.grad(calls_in_a_while_condition, jit=jit, mode="forward")(a) == pytest.approx(want, rel=1e-13)


@pytest.mark.parametrize("x, want", [(np.array([0.3, 0.1, 0.5]), lambda x: 0.5 * np.sum(x) ** 2),
                                     (np.array([0.3, 0.01, -0.5]), lambda x: np.sum(x * x) * np.sum(x) ** 3)])
def test_a_carried_arrays_shape_read_by_the_reverse_part(x, want):
    """The reverse of a loop that may return reads its carried array's shape only: the reverse part
    of the recursive function takes the loop's result for it (an InternalError before).  At the
    first point the third call returns from inside its loop, at the second the fourth returns
    after it."""
    np.testing.assert_allclose(carried_shape_read(x), want(x), rtol=1e-14)
    want = fd_jacobian_of(carried_shape_read, x)
    for jit in (False, True):
        for mode in ("reverse", "forward"):
            np.testing.assert_allclose(adc.grad(carried_shape_read, jit=jit, mode=mode)(x), want, rtol=1e-6, atol=1e-8)

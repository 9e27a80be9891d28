"""Control flow, loops and array element reads/writes: every construct differentiated in reverse
mode, forward mode and both with jit=True, against central finite differences; forward and reverse
agreeing to ~1e-10; the generated code keeping the loop/branch structure; and the reverse sweep
recording O(1) numbers per loop iteration (list tapes, never array copies inside loops).

The functions under test live in tests/control_flow_funcs.py (adc reads their source).
"""
from __future__ import annotations

import ast
import math
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

import adc
import control_flow_funcs as F
from fd import ATOL, H, RTOL, assert_close_seq
from layouts import assert_layouts_agree

AGREE_RTOL = 1e-10
AGREE_ATOL = 1e-12


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _copy_args(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def fd_grad_mixed(fn: Callable[..., float], args, argnums, h: float = H) -> list[Any]:
    """Central differences w.r.t. ``args[i]`` for ``i`` in ``argnums``; scalars and float arrays
    (one gradient entry per element, same shape); the other arguments (loop counts) are fixed."""
    out: list[Any] = []
    for i in argnums:
        a = args[i]
        if isinstance(a, np.ndarray):
            g = np.zeros_like(a, dtype=float)
            for idx in np.ndindex(a.shape):
                plus, minus = _copy_args(args), _copy_args(args)
                plus[i][idx] += h
                minus[i][idx] -= h
                g[idx] = (fn(*plus) - fn(*minus)) / (2 * h)
            out.append(g)
        else:
            plus, minus = list(args), list(args)
            plus[i] = float(a) + h
            minus[i] = float(a) - h
            out.append((fn(*plus) - fn(*minus)) / (2 * h))
    return out


def as_tuple(g, argnums) -> tuple:
    return g if isinstance(argnums, tuple) else (g,)


def flat(values) -> list[float]:
    out: list[float] = []
    for v in values:
        out.extend(np.ravel(v).tolist() if isinstance(v, np.ndarray) else [v])
    return out


def check_types(grads, args, argnums) -> None:
    """A gradient has the type (and shape) of its argument."""
    for g, i in zip(grads, argnums):
        a = args[i]
        if isinstance(a, np.ndarray):
            assert isinstance(g, np.ndarray), f"gradient w.r.t. array argument {i} is {type(g).__name__}"
            assert g.shape == a.shape and g.dtype == a.dtype
        else:
            assert type(g) is float, f"gradient w.r.t. scalar argument {i} is {type(g).__name__}"


_GRADS: dict[tuple, Any] = {}


def grad_fn(fn, argnums, mode, jit):
    """One transformed function per (function, argnums, mode, jit), shared by every test."""
    key = (fn, argnums, mode, jit)
    if key not in _GRADS:
        _GRADS[key] = adc.grad(fn, argnums=argnums, mode=mode, jit=jit)
    return _GRADS[key]


# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------

X5 = np.array([0.5, -0.3, 1.2, -2.0, 0.7])
XPOS = np.array([0.9, 0.4, 1.3, 0.2, 0.6, 1.1])
A23 = np.array([[0.3, -0.7, 0.5], [1.1, 0.2, -0.4]])
A_BREAK = np.array([[0.3, -0.2, 0.5], [0.4, 0.1, 0.2], [-0.6, 0.9, 0.8]])
ROSEN = np.array([-1.2, 1.0, 0.8, 1.3, 0.5, -0.4])

# Regression tests (both found by this file; reverse mode was wrong, forward mode right):
# - carried product: `for ...: s = s * a + c` updated the carried adjoint before using it for d/da;
# - carried initial value: `s = b; for ...: s = s + a * b` dropped the adjoint of s's initial value b.


@dataclass
class Case:
    id: str
    fn: Callable[..., float]
    args: tuple
    argnums: int | tuple
    reverse_bug: str | None = None   # an adc bug that breaks reverse mode (xfail strict)
    lecture_bug: str | None = None   # a bug of the printed lecture layout only (xfail strict)


CASES = [
    # branches
    Case("if_elif_else-inner_else", F.if_elif_else, (2.0, 0.5), (0, 1)),
    Case("if_elif_else-inner_then", F.if_elif_else, (3.5, 0.5), (0, 1)),
    Case("if_elif_else-elif", F.if_elif_else, (0.5, 1.0), (0, 1)),
    Case("if_elif_else-not_fails", F.if_elif_else, (0.5, 3.0), (0, 1)),
    Case("if_elif_else-else", F.if_elif_else, (-2.0, 0.5), (0, 1)),
    Case("cond_expr-exp", F.cond_expr, (0.4, 0.3), (0, 1)),
    Case("cond_expr-square", F.cond_expr, (0.2, 0.5), (0, 1)),
    Case("cond_expr-neg", F.cond_expr, (-0.5, -0.2), (0, 1)),
    Case("short_circuit-skips_rhs", F.short_circuit, (-0.5, -0.7), (0, 1)),
    Case("short_circuit-evaluates_rhs", F.short_circuit, (2.0, 0.3), (0, 1)),
    Case("short_circuit-mixed", F.short_circuit, (1.5, 4.0), (0, 1)),
    Case("early_return-first", F.early_return, (-1.0, 0.4), (0, 1)),
    Case("early_return-second", F.early_return, (1.2, 0.9), (0, 1)),
    Case("early_return-last", F.early_return, (0.3, 0.4), (0, 1)),
    # for loops
    Case("loop_with_if", F.loop_with_if, (X5, 1.3), (0, 1)),
    Case("int_accumulator", F.int_accumulator, (X5,), 0),
    Case("range_start_stop", F.range_start_stop, (X5, 1, 4), 0),
    Case("range_start_stop-zero_trip", F.range_start_stop, (X5, 3, 3), 0),
    Case("range_start_stop-empty_reversed", F.range_start_stop, (X5, 4, 1), 0),
    Case("range_step-positive", F.range_step, (X5, 0, 5, 2), 0),
    Case("range_step-negative", F.range_step, (X5, 4, -1, -1), 0),
    Case("range_step-negative_uneven", F.range_step, (X5, 4, -1, -3), 0),
    Case("range_step-zero_trip", F.range_step, (X5, 0, 4, -1), 0),
    Case("for_over_array", F.for_over_array, (X5, 0.8), (0, 1)),
    Case("for_enumerate", F.for_enumerate, (X5,), 0),
    Case("nested_loops_2d", F.nested_loops_2d, (A23, 0.9), (0, 1)),
    Case("nested_loops_triangular", F.nested_loops_triangular, (X5,), 0),
    # while loops
    Case("while_data_dependent", F.while_data_dependent, (1.7, 0.5), (0, 1)),
    Case("while_data_dependent-zero_trip", F.while_data_dependent, (1.7, 12.0), (0, 1)),
    Case("while_halving", F.while_halving, (50.0, 0.9), (0, 1)),
    Case("while_halving-zero_trip", F.while_halving, (0.5, 0.9), (0, 1)),
    Case("while_with_index", F.while_with_index, (XPOS, 1.5), (0, 1)),
    Case("while_with_index-runs_out", F.while_with_index, (XPOS, 50.0), (0, 1)),
    Case("while_break_continue", F.while_break_continue, (X5, 1.3), (0, 1)),
    Case("while_break_continue-no_break", F.while_break_continue, (X5, 0.3), (0, 1)),
    # break / continue / return inside loops
    Case("loop_break", F.loop_break, (XPOS, 1.0), (0, 1)),
    Case("loop_break-never", F.loop_break, (XPOS, 100.0), (0, 1)),
    Case("loop_continue", F.loop_continue, (X5,), 0),
    Case("inner_break", F.inner_break, (A_BREAK,), 0),
    Case("return_in_loop", F.return_in_loop, (XPOS, 1.0), (0, 1)),
    Case("return_in_loop-falls_through", F.return_in_loop, (XPOS, 10.0), (0, 1)),
    Case("return_in_nested_loop", F.return_in_nested_loop, (A23, 0.6), (0, 1)),
    Case("return_in_nested_loop-falls_through", F.return_in_nested_loop, (A23, 10.0), (0, 1)),
    Case("return_in_while", F.return_in_while, (1.5, 2.0), (0, 1)),
    Case("return_in_while-falls_through", F.return_in_while, (1.5, 8.0), (0, 1)),
    Case("return_in_while-wrt_a", F.return_in_while, (1.5, 2.0), 0),
    # classic loop programs
    Case("rnn", F.rnn, (0.7, X5), (0, 1)),
    Case("rosenbrock", F.rosenbrock, (ROSEN,), 0),
    Case("damped_oscillator", F.damped_oscillator, (4.0, 0.3), (0, 1)),
    # array writes
    Case("smoothing", F.smoothing, (X5, 0.3), (0, 1)),
    Case("accumulate_into", F.accumulate_into, (X5, 0.8), (0, 1)),
    Case("writes_2d", F.writes_2d, (X5, 3), 0),
    Case("writes_in_branches", F.writes_in_branches, (X5,), 0),
    Case("constructors", F.constructors, (X5,), 0),
    # user-function calls
    Case("call_chain", F.call_chain, (XPOS, 0.8), (0, 1)),
    Case("helpers_with_arrays", F.helpers_with_arrays, (X5, 0.8), (0, 1)),
    # the long scalar loop of the memory test
    Case("memory_loop-1e5", F.memory_loop, (0.9, 100_000), 0),
    # regression: the carried-product bug (see the note above CASES)
    Case("carried_times_param", F.carried_times_param, (1.3, 0.7, 4), (0, 1)),
    Case("carried_times_param-commuted", F.carried_times_param_commuted, (1.3, 0.7, 4), (0, 1)),
    # regression: the carried-initial-value bug (see the note above CASES)
    Case("carried_init_param", F.carried_init_param, (2.0, 3.0, 4), (0, 1)),
    Case("carried_init_param-wrt_a", F.carried_init_param, (2.0, 3.0, 4), 0),
    # regressions of the compact code (found by fuzzing)
    Case("carried_square_plus", F.carried_square_plus, (0.82,), 0),
    Case("carried_pair_swap", F.carried_pair_swap, (0.82, 0.95), (0, 1)),
    Case("negation_in_branch_loop", F.negation_in_branch_loop, (0.82, 0.95), (0, 1)),
    Case("overwritten_in_loop", F.overwritten_in_loop, (1.13, 0.81, 0.36), (0, 1, 2)),
    Case("overwritten_in_loop-then", F.overwritten_in_loop, (1.13, 0.81, 1.36), (0, 1, 2)),
    Case("pure_swap", F.pure_swap, (0.7, 1.3), (0, 1)),
    Case("pure_rotation", F.pure_rotation, (0.7, 1.3), (0, 1)),
    Case("while_around_for", F.while_around_for, (0.82, 0.95), (0, 1)),
    Case("nested_loops_renamed_slot", F.nested_loops_renamed_slot, (-0.885, -0.735, -0.186), (0, 1, 2)),
]

CASE_BY_ID = {c.id: c for c in CASES}
assert len(CASE_BY_ID) == len(CASES)


def _params(modes, jits):
    out = []
    for case in CASES:
        for mode in modes:
            for jit in jits:
                marks = []
                if case.reverse_bug and mode == "reverse":
                    marks = [pytest.mark.xfail(reason=case.reverse_bug, strict=True)]
                out.append(pytest.param(case, mode, jit, marks=marks,
                                        id=f"{case.id}-{mode}{'-jit' if jit else ''}"))
    return out


@pytest.mark.parametrize("case,mode,jit", _params(("reverse", "forward"), (False, True)))
def test_gradient_matches_finite_differences(case: Case, mode: str, jit: bool):
    got = as_tuple(grad_fn(case.fn, case.argnums, mode, jit)(*_copy_args(case.args)), case.argnums)
    nums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    check_types(got, case.args, nums)
    want = fd_grad_mixed(case.fn, case.args, nums)
    assert_close_seq(flat(got), flat(want), RTOL, ATOL, what=f"{case.id} {mode} jit={jit}")
    if jit:  # the compiled code computes the same numbers as the interpreted one
        plain = as_tuple(grad_fn(case.fn, case.argnums, mode, False)(*_copy_args(case.args)), case.argnums)
        assert_close_seq(flat(got), flat(plain), AGREE_RTOL, AGREE_ATOL, what="jit vs no jit")


def _agree_params():
    out = []
    for case in CASES:
        marks = [pytest.mark.xfail(reason=case.reverse_bug, strict=True)] if case.reverse_bug else []
        out.append(pytest.param(case, marks=marks, id=case.id))
    return out


def _layout_params():
    out = []
    for case in CASES:
        for mode in ("reverse", "forward"):
            bug = case.lecture_bug if mode == "reverse" else None
            marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
            out.append(pytest.param(case, mode, marks=marks, id=f"{case.id}-{mode}"))
    return out


@pytest.mark.parametrize("case,mode", _layout_params())
def test_lecture_layout_computes_what_the_compact_code_computes(case: Case, mode: str):
    assert_layouts_agree(case.fn, case.args, case.argnums, mode, AGREE_RTOL, AGREE_ATOL)


@pytest.mark.parametrize("case", _agree_params())
def test_forward_and_reverse_agree(case: Case):
    rev = as_tuple(grad_fn(case.fn, case.argnums, "reverse", False)(*_copy_args(case.args)), case.argnums)
    fwd = as_tuple(grad_fn(case.fn, case.argnums, "forward", False)(*_copy_args(case.args)), case.argnums)
    assert_close_seq(flat(rev), flat(fwd), AGREE_RTOL, AGREE_ATOL, what=f"{case.id} reverse vs forward")


def test_inputs_are_not_modified():
    """Differentiating functions that write into copies leaves the caller's arrays untouched."""
    for fn in (F.smoothing, F.constructors, F.helpers_with_arrays):
        x = X5.copy()
        args = (x, 0.3) if fn is not F.constructors else (x,)
        nums = (0, 1) if len(args) == 2 else 0
        for mode in ("reverse", "forward"):
            grad_fn(fn, nums, mode, False)(*args)
            np.testing.assert_array_equal(x, X5)


def test_short_circuit_never_evaluates_the_guarded_operand():
    # math.log(-0.5) and math.sqrt(-0.7) would raise ValueError if evaluated
    for mode in ("reverse", "forward"):
        gx, gy = grad_fn(F.short_circuit, (0, 1), mode, False)(-0.5, -0.7)
        assert (gx, gy) == pytest.approx((2 * -0.5 + -0.7, -0.5))


def test_zero_trip_loop_gradients_are_exact():
    # range(0, 4, -1) is empty: range_step returns x[0]
    g = grad_fn(F.range_step, 0, "reverse", False)(X5, 0, 4, -1)
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0, 0.0])
    g = grad_fn(F.range_step, 0, "forward", False)(X5, 0, 4, -1)
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0, 0.0])
    # while_data_dependent with s >= 10 at the start: k = 0, the result is s * 0
    for mode in ("reverse", "forward"):
        assert grad_fn(F.while_data_dependent, (0, 1), mode, False)(1.7, 12.0) == (0.0, 0.0)


def test_integer_loop_count_is_passed_through():
    # the count stays an int (range() needs one) and different counts reuse the compiled code
    g = grad_fn(F.rnn, 0, "reverse", False)
    for n in (0, 1, 3):
        x = X5[:n].copy()
        want = fd_grad_mixed(F.rnn, (0.7, x), (0,))[0]
        assert g(0.7, x) == pytest.approx(want, rel=1e-6, abs=1e-8)
    gm = grad_fn(F.memory_loop, 0, "reverse", False)
    for n in (0, 1, 2, 10):
        want = fd_grad_mixed(F.memory_loop, (0.9, n), (0,))[0]
        assert gm(0.9, n) == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_rnn_gradient_wrt_both_arguments_values():
    # a hand-written backprop through time as a second reference
    w, x = 0.7, X5
    hs = [0.0]
    for t in range(len(x)):
        hs.append(math.tanh(w * hs[-1] + x[t]))
    gw, gx, gh = 0.0, np.zeros_like(x), 1.0
    for t in range(len(x) - 1, -1, -1):
        gpre = gh * (1 - hs[t + 1] ** 2)
        gw += gpre * hs[t]
        gx[t] = gpre
        gh = gpre * w
    for mode in ("reverse", "forward"):
        for jit in (False, True):
            got_w, got_x = grad_fn(F.rnn, (0, 1), mode, jit)(w, x)
            assert got_w == pytest.approx(gw, rel=1e-12)
            np.testing.assert_allclose(got_x, gx, rtol=1e-12, atol=1e-15)


def test_rosenbrock_minimum_and_known_gradient():
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(grad_fn(F.rosenbrock, 0, mode, False)(np.ones(6)), np.zeros(6), atol=1e-14)
    # the 2-D textbook value at (-1.2, 1): (-215.6, -88)
    x = np.array([-1.2, 1.0])
    np.testing.assert_allclose(grad_fn(F.rosenbrock, 0, "reverse", False)(x), [-215.6, -88.0], rtol=1e-12)


def test_damped_oscillator_matches_a_hand_written_tangent_integrator():
    """Differentiate the 1000-step Euler integrator by hand (forward sensitivities) as reference."""
    k, c, dt = 4.0, 0.3, 0.01
    x, v = 1.0, 0.0
    xk = vk = xc = vc = 0.0  # d/dk and d/dc of x, v
    for _ in range(1000):
        a = -k * x - c * v
        ak = -x - k * xk - c * vk
        ac = -k * xc - v - c * vc
        x, xk, xc, v, vk, vc = x + dt * v, xk + dt * vk, xc + dt * vc, v + dt * a, vk + dt * ak, vc + dt * ac
    want = (2 * x * xk + vk, 2 * x * xc + vc)
    for mode in ("reverse", "forward"):
        for jit in (False, True):
            got = grad_fn(F.damped_oscillator, (0, 1), mode, jit)(k, c)
            assert got == pytest.approx(want, rel=1e-10)


def test_value_and_grad_with_control_flow():
    for fn, args, nums in [(F.loop_break, (XPOS, 1.0), (0, 1)), (F.smoothing, (X5, 0.3), (0, 1)),
                           (F.return_in_loop, (XPOS, 1.0), (0, 1)), (F.while_halving, (50.0, 0.9), (0, 1))]:
        for mode in ("reverse", "forward"):
            value, g = adc.value_and_grad(fn, argnums=nums, mode=mode)(*_copy_args(args))
            assert value == pytest.approx(fn(*_copy_args(args)), rel=1e-14)
            want = fd_grad_mixed(fn, args, nums)
            assert_close_seq(flat(g), flat(want), what=f"{fn.__name__} value_and_grad {mode}")


def test_jvp_and_vjp_through_loops():
    rng = np.random.default_rng(0)
    for fn, args in [(F.rnn, (0.7, X5)), (F.smoothing, (X5, 0.3)), (F.writes_2d, (X5, 3)),
                     (F.memory_loop, (0.9, 50)), (F.loop_break, (XPOS, 1.0))]:
        # loop counts (ints) get a zero tangent and are not differentiated
        is_float = [isinstance(a, (float, np.ndarray)) for a in args]
        tangents = [rng.standard_normal(a.shape) if isinstance(a, np.ndarray) else (0.37 if f else 0)
                    for a, f in zip(args, is_float)]
        value, dot = adc.jvp(fn, _copy_args(args), tangents)
        assert value == pytest.approx(fn(*_copy_args(args)), rel=1e-14)
        nums = tuple(i for i, f in enumerate(is_float) if f)
        nums = nums if len(nums) > 1 else nums[0]
        g = as_tuple(grad_fn(fn, nums, "reverse", False)(*_copy_args(args)), nums)
        want = sum(float(np.sum(gi * tangents[i])) for gi, i in zip(g, as_tuple(nums, nums)))
        assert dot == pytest.approx(want, rel=1e-10)
        out, pullback = adc.vjp(fn, *_copy_args(args))
        assert out == pytest.approx(fn(*_copy_args(args)), rel=1e-14)
        cts = pullback(2.0)
        assert len(cts) == len(args)
        for gi, i in zip(g, as_tuple(nums, nums)):
            np.testing.assert_allclose(cts[i], 2.0 * np.asarray(gi), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# The generated code keeps the structure; the reverse sweep records O(1) numbers per iteration
# ---------------------------------------------------------------------------------------------


def statement_heads(src: str) -> list[str]:
    return [line.strip() for line in src.splitlines() if line.strip()]


def loops(tree: ast.AST) -> list[ast.For | ast.While]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While))]


def calls_in(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def attr_calls(node: ast.AST, attr: str) -> int:
    return sum(1 for c in calls_in(node) if isinstance(c.func, ast.Attribute) and c.func.attr == attr)


ARRAY_MAKERS = {"array", "copy", "zeros", "zeros_like", "empty", "empty_like", "ones", "ones_like",
                "asarray", "concatenate", "stack", "tile", "repeat", "full"}


def array_allocations(node: ast.AST) -> list[str]:
    """Calls that would create an array: ``x.copy()``, ``np.array(...)``, ``np.zeros(...)`` ..."""
    found = []
    for c in calls_in(node):
        f = c.func
        if isinstance(f, ast.Attribute) and (f.attr in ARRAY_MAKERS):
            found.append(ast.unparse(c))
        elif isinstance(f, ast.Name) and f.id in ARRAY_MAKERS | {"list", "tuple"}:
            found.append(ast.unparse(c))
    return found


def outermost_loops(tree: ast.AST) -> list[ast.For | ast.While]:
    inner = {id(m) for n in loops(tree) for m in ast.walk(n) if m is not n and isinstance(m, (ast.For, ast.While))}
    return [n for n in loops(tree) if id(n) not in inner]


def record_lists(tree: ast.AST) -> set[str]:
    """Names bound to ``[0.0] * n`` / ``[0] * n`` (preallocated per-iteration records)."""
    return {n.targets[0].id for n in ast.walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.BinOp)
            and isinstance(n.value.left, ast.List)}


def subscript_stores(node: ast.AST, names: set[str]) -> int:
    return sum(1 for n in ast.walk(node) if isinstance(n, ast.Assign)
               and any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in names
                       for t in n.targets))


def test_memory_loop_reverse_source_records_a_few_numbers_per_iteration():
    """A top-level ``range`` loop records into lists preallocated with the trip count (one slot
    per iteration for each value the reverse sweep needs), written in the forward loop and read
    back in the reverse loop; no array is created or copied inside a loop."""
    src = adc.source(F.memory_loop, at=(0.9, 100_000))
    tree = ast.parse(src)  # the generated code is valid Python
    top = outermost_loops(tree)
    assert len(top) >= 2, f"expected a forward-sweep loop and a reverse-sweep loop:\n{src}"
    records = record_lists(tree)
    assert records, src
    for n in ast.walk(tree):  # created once, before the loops
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id in records:
            assert not any(n in set(ast.walk(loop)) for loop in top), "record created inside a loop"
    forward, backward = top[0], top[-1]
    assert 1 <= subscript_stores(forward, records) <= 3, f"too much recorded per iteration:\n{ast.unparse(forward)}"
    reads = [n for n in ast.walk(backward) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
             and n.value.id in records]
    assert reads, src
    for loop in top:
        assert not array_allocations(loop), f"array created inside a loop: {array_allocations(loop)}\n{src}"
    # the reverse loop runs the iterations backwards: range(..., -1, -1)
    assert isinstance(backward, ast.For) and ast.unparse(backward.iter).replace(" ", "").endswith(",-1)"), src


def test_while_loop_reverse_source_uses_list_tapes():
    """A loop whose trip count is unknown before it runs records on a growing list (a tape)."""
    src = adc.source(F.while_data_dependent, argnums=(0, 1), at=(1.7, 0.5))
    tree = ast.parse(src)
    top = outermost_loops(tree)
    pushes = sum(attr_calls(loop, "append") for loop in top)
    assert pushes >= 1 and pushes == sum(attr_calls(loop, "pop") for loop in top), src
    for loop in top:
        assert not array_allocations(loop), src


ARRAY_WRITERS = [
    ("smoothing", F.smoothing, (X5, 0.3), (0, 1)),
    ("accumulate_into", F.accumulate_into, (X5, 0.8), (0, 1)),
    ("writes_2d", F.writes_2d, (X5, 3), 0),
    ("writes_in_branches", F.writes_in_branches, (X5,), 0),
    ("constructors", F.constructors, (X5,), 0),
    ("helpers_with_arrays", F.helpers_with_arrays, (X5, 0.8), (0, 1)),
    ("rnn", F.rnn, (0.7, X5), (0, 1)),
    ("loop_with_if", F.loop_with_if, (X5, 1.3), (0, 1)),
    ("return_in_nested_loop", F.return_in_nested_loop, (A23, 0.6), (0, 1)),
]


@pytest.mark.parametrize("name,fn,at,nums", ARRAY_WRITERS, ids=[w[0] for w in ARRAY_WRITERS])
def test_reverse_sweep_never_copies_arrays_inside_loops(name, fn, at, nums):
    src = adc.source(fn, argnums=nums, at=at)
    tree = ast.parse(src)
    assert loops(tree), src
    for loop in loops(tree):
        assert not array_allocations(loop), f"array created inside a loop: {array_allocations(loop)}\n{src}"
        # a few numbers per iteration of the innermost loops
        body_pushes = sum(attr_calls(s, "append") for s in loop.body if not isinstance(s, (ast.For, ast.While)))
        assert body_pushes <= 4, f"{body_pushes} pushes in one loop body:\n{ast.unparse(loop)}"


def test_smoothing_records_two_numbers_per_inner_iteration():
    """The smoothing loop overwrites y[i]: the reverse sweep needs the overwritten values, which it
    pushes (a couple of floats per iteration), not a copy of y per iteration or per sweep."""
    src = adc.source(F.smoothing, argnums=(0, 1), at=(X5, 0.3))
    tree = ast.parse(src)
    fn = tree.body[-1]
    assert isinstance(fn, ast.FunctionDef)
    allocs = array_allocations(fn)
    # y = x.copy() once, and one adjoint buffer per active array
    assert len(allocs) <= 4, allocs


def test_memory_loop_record_is_linear_and_small():
    """10^5 iterations: the peak memory of the reverse sweep stays within a small constant (here
    128 bytes, i.e. a few boxed floats) per iteration."""
    n = 100_000
    g = grad_fn(F.memory_loop, 0, "reverse", False)
    g(0.9, 10)  # compile outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        got = g(0.9, n)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    used = peak - before
    assert used < 128 * n, f"reverse sweep used {used} bytes for {n} iterations ({used / n:.1f} per iteration)"
    want = fd_grad_mixed(F.memory_loop, (0.9, n), (0,))[0]
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_memory_loop_jit_and_forward_at_1e5():
    n = 100_000
    want = fd_grad_mixed(F.memory_loop, (0.9, n), (0,))[0]
    for mode in ("reverse", "forward"):
        for jit in (False, True):
            assert grad_fn(F.memory_loop, 0, mode, jit)(0.9, n) == pytest.approx(want, rel=1e-6, abs=1e-8)


STRUCTURED = [
    # (function, example arguments, constructs the SSA listing and both generated codes show)
    (F.loop_with_if, (X5, 1.3), ("for ", "if ")),
    (F.nested_loops_2d, (A23, 0.9), ("for ",)),
    (F.while_with_index, (XPOS, 1.5), ("while ",)),
    (F.early_return, (0.3, 0.4), ("if ",)),
    (F.return_in_loop, (XPOS, 1.0), ("for ", "if ")),
    (F.smoothing, (X5, 0.3), ("for ",)),
]


@pytest.mark.parametrize("fn,at,words", STRUCTURED, ids=[s[0].__name__ for s in STRUCTURED])
def test_trace_shows_structured_control_flow(fn, at, words):
    text = str(adc.trace(fn, at=at))
    heads = statement_heads(text)
    for word in words:
        assert any(word in h for h in heads), f"{word!r} missing from the SSA listing:\n{text}"
    assert text.count("\n") >= 3
    assert f"def {fn.__name__}(" in text


def test_trace_shows_for_if_while_keywords():
    text = "\n".join(str(adc.trace(fn, at=at)) for fn, at in [(F.loop_with_if, (X5, 1.3)),
                                                               (F.while_halving, (50.0, 0.9))])
    for word in ("for ", "if ", "while "):
        assert word in text, text


@pytest.mark.parametrize("fn,at,words", STRUCTURED, ids=[s[0].__name__ for s in STRUCTURED])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_source_keeps_loops_and_branches(fn, at, words, mode):
    src = adc.source(fn, mode=mode, argnums=tuple(i for i, a in enumerate(at) if isinstance(a, (float, np.ndarray))),
                     at=at)
    heads = statement_heads(src)
    for word in words:
        assert any(h.startswith(word) for h in heads), f"no line starting with {word!r} in the {mode} code:\n{src}"
    # the loops are loops: no unrolling, the code is small
    assert len(heads) < 150, src


@pytest.mark.parametrize("fn,at,nums", [(F.loop_with_if, (X5, 1.3), (0, 1)), (F.smoothing, (X5, 0.3), (0, 1)),
                                        (F.while_halving, (50.0, 0.9), (0, 1)),
                                        (F.return_in_loop, (XPOS, 1.0), (0, 1))],
                         ids=["loop_with_if", "smoothing", "while_halving", "return_in_loop"])
def test_generated_reverse_source_runs_as_is(fn, at, nums):
    src = adc.source(fn, argnums=nums, at=at)
    namespace: dict[str, Any] = {}
    exec(compile(src, f"<{fn.__name__}_grad>", "exec"), namespace)
    got = namespace[f"{fn.__name__}_grad"](*_copy_args(at))
    want = grad_fn(fn, nums, "reverse", False)(*_copy_args(at))
    assert_close_seq(flat(got), flat(want), AGREE_RTOL, AGREE_ATOL)

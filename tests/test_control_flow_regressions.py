"""Regression tests of scalar control flow and leaving SSA (issue 9, family 3): loops with
`break`/`continue`, branches inside loops, early returns, and tuple assignments/rotations of
carried values.  Each program is checked in reverse and forward mode, with and without jit, as
``value_and_grad`` (the value against the function itself, the gradient against central finite
differences), and in both layouts of the generated code (the compact code adc runs and the lecture
layout ``adc source`` prints), each against finite differences too.

The functions under test live in tests/cflow_regression_funcs.py (adc reads their source).
"""
from __future__ import annotations

import numpy as np
import pytest

import adc
import cflow_regression_funcs as R
import structured_funcs as S
from fd import assert_close_seq, fd_grad
from layouts import run_source

RTOL, ATOL = 1e-6, 1e-7

CASES = [
    ("break_after_assign", R.break_after_assign, (0.3, 0.3)),
    ("break_after_assign-no_break", R.break_after_assign, (0.3, 0.7)),
    ("rotation_then_branch", R.rotation_then_branch, (1.0, 2.0, 3.0)),
    ("rotation_then_branch-taken", R.rotation_then_branch, (11.0, 12.0, 13.0)),
    ("loop_after_early_return", R.loop_after_early_return, (0.5, -0.9)),
    ("loop_after_early_return-returns", R.loop_after_early_return, (0.5, 0.9)),
    ("swap_after_break_test", R.swap_after_break_test, (0.5, 0.3)),
    ("swap_after_break_test-breaks", R.swap_after_break_test, (2.5, -1.3)),
    ("swap_after_break_test_while", R.swap_after_break_test_while, (0.5, 0.3)),
    ("temporary_in_branch", R.temporary_in_branch, (0.5, -0.3)),
    ("array_after_early_return", R.array_after_early_return, (0.7, -1.0)),
    ("array_after_early_return-returns", R.array_after_early_return, (0.7, 1.0)),
    ("array_after_two_early_returns", R.array_after_two_early_returns, (0.7, -1.0)),
    ("array_after_two_early_returns-second", R.array_after_two_early_returns, (0.7, -7.0)),
    ("break_in_else", R.break_in_else, (0.4, 0.3)),
    ("continue_with_swap", R.continue_with_swap, (0.4, 0.27)),
    ("break_test_reads_old_value", R.break_test_reads_old_value, (0.3, 0.9)),
    ("constant_from_both_paths", R.constant_from_both_paths, (0.5,)),
    # names holding tuples, merged leaf by leaf (were silently the value before the branch/loop)
    ("tuple_rebound_in_branch", S.tuple_rebound_in_branch, (3.0,)),
    ("tuple_rebound_in_branch-not_taken", S.tuple_rebound_in_branch, (-3.0,)),
    ("tuple_carried_by_loop", S.tuple_carried_by_loop, (2.0,)),
    ("tuple_loop_with_break", S.tuple_loop_with_break, (1.5,)),
    ("array_pair_in_loop", S.array_pair_in_loop, (1.3,)),
    ("tuple_with_early_return", S.tuple_with_early_return, (0.5,)),
    ("tuple_with_early_return-returns", S.tuple_with_early_return, (2.0,)),
    ("tuple_in_while", S.tuple_in_while, (1.5,)),
    ("nested_tuple_unpacked", S.nested_tuple_unpacked, (1.2,)),
    ("while_true_left_by_return", R.while_true_left_by_return, (0.7,)),
    ("rotation_then_constant_slots", R.rotation_then_constant_slots, (0.227, -0.555)),
    ("rotation_then_scaled_slots", R.rotation_then_scaled_slots, (0.227, -0.555)),
]

IDS = [c[0] for c in CASES]
assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("jit", [False, True], ids=["", "jit"])
@pytest.mark.parametrize("name,fn,args", CASES, ids=IDS)
def test_value_and_grad_match_the_function_and_finite_differences(name, fn, args, mode, jit):
    argnums = tuple(range(len(args)))
    value, grads = adc.value_and_grad(fn, argnums=argnums, mode=mode, jit=jit)(*args)
    assert_close_seq([value], [fn(*args)], RTOL, ATOL, what=f"{name} {mode} value")
    assert_close_seq(grads, fd_grad(fn, args), RTOL, ATOL, what=f"{name} {mode} gradient")


@pytest.mark.parametrize("compact", [True, False], ids=["compact", "lecture"])
@pytest.mark.parametrize("name,fn,args", CASES, ids=IDS)
def test_both_layouts_match_finite_differences(name, fn, args, compact):
    argnums = tuple(range(len(args)))
    want = fd_grad(fn, args)
    grads = run_source(fn, args, argnums, "reverse", compact)
    grads = grads if len(args) > 1 else [grads]  # the generated gradient of one argument is a number
    assert_close_seq(grads, want, RTOL, ATOL, what=f"{name} reverse compact={compact}")
    value, tangent = run_source(fn, args, argnums, "forward", compact)  # tangents of 0.5 everywhere
    assert_close_seq([value, tangent], [fn(*args), 0.5 * sum(want)], RTOL, ATOL,
                     what=f"{name} forward compact={compact}")


def test_random_control_flow_programs(tmp_path):
    """A fixed batch of tests/cflow_fuzz.py: value, both modes, jit and both layouts agree with the
    function and finite differences, or adc refuses the program with an adc error."""
    from cflow_fuzz import run_module

    bugs = []
    for name, source, args, status, messages in run_module(0, 16, tmp_path, jit_every=16):
        if status == "bug":
            bugs.append(f"{name} at {args}: {messages[:2]}\n{source}")
    assert not bugs, "\n".join(bugs)


def test_a_name_with_different_structures_on_two_paths_is_a_located_error():
    with pytest.raises(adc.AdcError, match=r"structured_funcs.py:\d+:\d+: `t` is a tuple of 3 on one path and a tuple "
                                           r"of 2 on another"):
        adc.grad(S.mismatched_tuples)(1.0)


@pytest.mark.parametrize("mode, jit", [("reverse", False), ("forward", False), ("reverse", True)])
def test_a_conditional_in_a_while_condition_keeps_the_carried_value(mode, jit):
    x = np.array([-0.651, 1.142, 0.659, -0.393])
    fn = R.conditional_in_while_condition
    value, (gx, gc) = adc.value_and_grad(fn, argnums=(0, 1), mode=mode, jit=jit)(x, 0.537)
    assert value == pytest.approx(0.537 ** 4, rel=1e-12)
    assert gc == pytest.approx(4 * 0.537 ** 3, rel=1e-12)
    np.testing.assert_array_equal(gx, np.zeros(4))

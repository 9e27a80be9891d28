"""The IR checker (adc/verify.py): it accepts what every stage makes (the whole suite runs with
``pipeline.CHECK_IR`` on, see conftest.py) and rejects each kind of broken program."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from adc import pipeline
from adc.ir import Op, Var
from adc.types import type_of
from adc.verify import IRError, verify
from array_state_funcs import whole_read_in_loop_that_writes
from control_flow_funcs import while_break_continue


def lowered(fn, *args):
    return copy.deepcopy(pipeline.primal(fn, [type_of(a) for a in args]))


def loop_of(program):
    return next(op for op in program.body.ops if op.prim in ("for", "while"))


def test_every_stage_of_a_loop_program_verifies():
    program = lowered(whole_read_in_loop_that_writes, 1.0)
    verify(program, strict=True)
    for kind in ("grad", "jvp", "vjp"):
        for compact in (False, True):
            verify(pipeline.derivative_program(program, kind, [0], compact))


def test_read_before_definition_is_caught():
    program = lowered(whole_read_in_loop_that_writes, 1.0)
    program.body.ops = program.body.ops[1:]  # drop `y = np.ones(3)`
    with pytest.raises(IRError, match="read before it is defined"):
        verify(program)


def test_missing_yield_is_caught():
    program = lowered(whole_read_in_loop_that_writes, 1.0)
    loop = loop_of(program)
    loop.outs.append(Var(hint="extra", type=type_of(1.0)))
    with pytest.raises(IRError, match="a `for` with"):
        verify(program)


def test_unknown_primitive_and_untyped_value_are_caught():
    program = lowered(whole_read_in_loop_that_writes, 1.0)
    program.body.ops.insert(0, Op("frobnicate", [], [Var(hint="z", type=type_of(1.0))]))
    with pytest.raises(IRError, match="unknown primitive"):
        verify(program)
    program = lowered(whole_read_in_loop_that_writes, 1.0)
    program.body.ops.insert(0, Op("zeros_like", [program.params[0]], [Var(hint="z")]))
    with pytest.raises(IRError, match="has no type"):
        verify(program)


def test_strict_rejects_two_definitions_and_values_leaking_out_of_a_loop():
    program = lowered(while_break_continue, np.array([0.5, 1.5, 2.5]), 2.0)
    verify(program, strict=True)
    first = program.body.ops[0]
    program.body.ops.insert(1, first)
    with pytest.raises(IRError, match="defined 2 times"):
        verify(program, strict=True)
    program = lowered(whole_read_in_loop_that_writes, 1.0)
    loop = loop_of(program)
    inner = next(op for op in loop.regions[0].ops if op.outs)
    program.body.ops.append(Op("copy", [inner.out], [Var(hint="leak", type=inner.out.type)]))
    verify(program)  # Python's function scope: a value defined in a loop may be read after it
    with pytest.raises(IRError, match="read before it is defined"):
        verify(program, strict=True)

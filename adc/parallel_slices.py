"""Slice bounds counted from the end made non-negative for Numba's parallel compiler.

Numba compiled with ``parallel=True`` (``jit="parallel"``) gets a slice wrong when a bound counted
from the end reaches past the array's start: for a 2-element ``w``, ``w[-3:] = 1.0`` leaves
``w[0]`` as it was and ``(x * x)[-3:]`` has one element, where NumPy (and Numba without
``parallel``) take the whole array.  Input: a program as emitted for ``jit="parallel"``. Output:
``clipped_slice_bounds(program)``, the same program in which every slice bound that is a negative
constant, or an integer that may be negative, is NumPy's position instead:
``a.shape[axis] + k``, or 0 where that is negative (for a value, only where it is negative); slices
with a step that is not a positive constant are left as they are.
"""
from __future__ import annotations

import dataclasses

from .ir import Atom, Const, Op, Program, Region, Var
from .types import BOOL, INT, Type

SLICED = ("getitem", "setitem", "index_add")  # the ops whose ``index`` parameter may hold slices


def clipped_slice_bounds(program: Program) -> Program:
    """``program`` with its slice bounds counted from the end made non-negative (module docstring)."""
    body = _region(program.body)
    return program if body is program.body else dataclasses.replace(program, body=body)


def _region(region: Region) -> Region:
    ops: list[Op] = []
    changed = False
    for op in region.ops:
        regions = [_region(r) for r in op.regions]
        if any(a is not b for a, b in zip(regions, op.regions)):
            op, changed = Op(op.prim, op.args, op.outs, op.params, op.loc, regions), True
        before, args = _clipped(op)
        if before:
            op, changed = Op(op.prim, args, op.outs, op.params, op.loc, op.regions), True
        ops.extend(before)
        ops.append(op)
    return Region(region.args, ops, region.yields) if changed else region


def _clipped(op: Op) -> tuple[list[Op], list[Atom]]:
    """The statements that compute ``op``'s slice bounds from the start, and its new arguments."""
    spec = op.param("index") if op.prim in SLICED else None
    args = list(op.args)
    if not spec or not isinstance(op.args[0], Var):
        return [], args
    before: list[Op] = []
    at, axis = 1, 0  # the next argument of the key, the array's axis it indexes
    for entry in spec:
        if entry == "n":
            continue
        if entry == "i":
            at, axis = at + 1, axis + 1
            continue
        _, *present = entry
        places = [at + sum(present[:k]) for k in range(3)]  # where the start, stop and step are
        step = args[places[2]] if present[2] else Const(1)
        if isinstance(step, Const) and type(step.value) is int and step.value > 0:
            # with a negative step NumPy clips a bound past the start to "before the first element"
            for k in (0, 1):
                if present[k] and _may_be_negative(args[places[k]]):
                    args[places[k]] = _position(op.args[0], axis, args[places[k]], before, op)
        at += sum(present)
        axis += 1
    return before, args


def _may_be_negative(a: Atom) -> bool:
    if isinstance(a, Const):
        return type(a.value) is int and a.value < 0
    return a.type is not None and a.type.ndim == 0 and a.type.kind == "int"


def _position(array: Var, axis: int, bound: Atom, before: list[Op], op: Op) -> Var:
    """``array.shape[axis] + bound``, or 0 where that is negative; for a value, only where the
    value is negative (selects, not the ``max`` builtin, which a parameter may hide)."""
    def emit(prim: str, args: list[Atom], t: Type = INT, params: tuple[tuple[str, object], ...] = ()) -> Var:
        out = Var(None, t)
        before.append(Op(prim, args, [out], params, op.loc))
        return out

    length = emit("shape", [array], params=(("dim", axis),))
    position = emit("add", [length, bound])
    clipped = emit("select", [emit("lt", [position, Const(0)], BOOL), Const(0), position])
    if isinstance(bound, Const):
        return clipped
    return emit("select", [emit("lt", [bound, Const(0)], BOOL), clipped, bound])

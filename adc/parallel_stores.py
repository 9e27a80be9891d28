"""A store whose value reads the memory it writes: the value made whole first, for Numba's parallel compiler.

Numba compiled with ``parallel=True`` (``jit="parallel"``) fuses consecutive array statements into
one loop, and takes the slices of an array for other arrays: ``v = y[1:] + 0.5 * y[:-1]`` and then
``y[1:] = v`` become one loop in which an element of ``y`` is read after an earlier iteration wrote
it (fuzz seed 705, program 37: ``y[1:] -= y[:-1]`` on ones gave a sum of 2.0, NumPy's is 1.0).
Input: a program as emitted for ``jit="parallel"``.  Output: ``materialized_stores(program)``, the
same program in which each array operand of a store (``setitem``, ``index_add``, ``iadd``, ...)
whose statements in that region read memory of the array the store writes is first copied by
``adc_arrays.materialized``, a call Numba does not fuse with the statements around it.
"""
from __future__ import annotations

import dataclasses

from .ir import Op, Program, Region, Var
from .memory import Memory, is_array, writes


def materialized_stores(program: Program) -> Program:
    """``program`` with the operands of stores that read the memory written made whole first
    (module docstring)."""
    body = _region(program.body, Memory(program))
    return program if body is program.body else dataclasses.replace(program, body=body)


def _region(region: Region, memory: Memory) -> Region:
    ops: list[Op] = []
    defs: dict[Var, Op] = {}  # this region's statements, by the values they make
    changed = False
    for op in region.ops:
        regions = [_region(r, memory) for r in op.regions]
        if any(a is not b for a, b in zip(regions, op.regions)):
            op, changed = Op(op.prim, op.args, op.outs, op.params, op.loc, regions), True
        if writes(op) and is_array(op.args[0]):
            target = memory.root(op.args[0])
            args = list(op.args)
            for k, a in enumerate(args[1:], 1):
                if is_array(a) and a is not op.args[0] and _reads(a, target, defs, memory):
                    whole = Var(None, a.type)
                    ops.append(Op("materialized", [a], [whole], (), op.loc))
                    args[k] = whole
            if args != op.args:
                op, changed = Op(op.prim, args, op.outs, op.params, op.loc, op.regions), True
        for o in op.outs:
            defs[o] = op
        ops.append(op)
    return Region(region.args, ops, region.yields) if changed else region


def _reads(v: Var, target: Var, defs: dict[Var, Op], memory: Memory) -> bool:
    """Is ``v`` memory of ``target``'s class, or made by statements of this region that read some?
    (A walk with a stack: a region's chain of statements may be longer than Python's recursion.)"""
    stack, seen = [v], {v}
    while stack:
        a = stack.pop()
        if memory.root(a) is target:
            return True
        op = defs.get(a)
        for b in op.args if op is not None else ():
            if is_array(b) and b not in seen:
                seen.add(b)
                stack.append(b)
    return False

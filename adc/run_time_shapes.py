"""Which arrays may have an axis of length 1 that only the running code knows.

Reverse mode sums an elementwise adjoint over the axes its operand was broadcast along, and it
decides which when it compiles, from the types (``Type.ones``: the length-1 axes of the arguments,
and those the operations make from them).  An array whose lengths come from a number the code
computes (``np.zeros((n, 3))``, ``x[:n]``, a mask's count, a list grown in a loop) may have such an
axis that its type does not show: ``np.sum(z * w)`` with ``z`` of shape ``(1, 3)`` at run time and
``w`` of shape ``(4, 3)`` broadcasts ``z``, and an adjoint left ``(4, 3)`` would be a silently
wrong gradient.

Input: a program.  Output: the set of its array values that are *sized at run time*: the results
of an op whose primitive says so (the registry's ``sized_at_run_time`` trait), and every array
computed from one (coarsely: any array result of an op with such an operand, and the values a
loop or branch carries where one of its inputs or yields is one).  ``reverse.py`` fits the
adjoints of the operands of an elementwise op with such an operand to their shapes when the code
runs (``adc_arrays.shaped_like``: summed or spread, a no-op where the shapes agree).
"""
from __future__ import annotations

from typing import Callable

from .ir import Atom, Op, Program, Region, Var, known_value, walk
from .prims import prim


def sized_at_run_time(program: Program) -> set[Var]:
    """The array values of ``program`` that may have a length-1 axis their type does not show."""
    defs = {o: op for op in walk(program.body) for o in op.outs}
    found: set[Var] = set()

    def known(a: Atom) -> bool:
        """Is it known when compiling whether the number ``a`` is 1?  A constant (or its negation),
        or a length of an array whose length-1 axes its type shows (``len(x)``, ``x.shape[0]``: the
        front end marks a new array's axes of such lengths, ``Lowerer.length_one``)."""
        op = defs.get(a) if isinstance(a, Var) else None
        return known_value(a, defs.get) is not None or (
            op is not None and op.prim == "shape" and isinstance(op.args[0], Var) and op.args[0] not in found)

    while True:
        before = len(found)
        _visit(program.body, found, known)
        if len(found) == before:
            return found


def _visit(region: Region, found: set[Var], known: Callable[[Atom], bool]) -> None:
    for op in region.ops:
        if op.regions:
            _structured(op, found, known)
            continue
        rule = prim(op)
        made_here = rule is not None and rule.sized_at_run_time is not None and rule.sized_at_run_time(op, known)
        if made_here or any(isinstance(a, Var) and a in found for a in op.args):
            found.update(o for o in op.outs if _array(o))


def _structured(op: Op, found: set[Var], known: Callable[[Atom], bool]) -> None:
    """A loop or branch: its regions' arguments and its results are sized at run time when any
    value flowing into them (its operands, its regions' yields) is (coarse, but never missing one)."""
    for sub in op.regions:
        _visit(sub, found, known)
    inflow = [a for a in op.args if isinstance(a, Var)] + [y for sub in op.regions for y in sub.yields
                                                             if isinstance(y, Var)]
    if any(v in found for v in inflow):
        found.update(v for v in [*op.outs, *(a for sub in op.regions for a in sub.args)] if _array(v))
        for sub in op.regions:
            _visit(sub, found, known)


def _array(v: Var) -> bool:
    return v.type is not None and v.type.is_array

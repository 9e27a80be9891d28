"""Which arrays may have an axis of length 1 that only the running code knows.

Reverse mode sums an elementwise adjoint over the axes its operand was broadcast along, and it
decides which when it compiles, from the types (``Type.ones``: the length-1 axes of the arguments,
and those the operations make from them).  An array whose lengths come from a number the code
computes (``np.zeros((n, 3))``, ``x[:n]``, a mask's count, a list grown in a loop) may have such an
axis that its type does not show: ``np.sum(z * w)`` with ``z`` of shape ``(1, 3)`` at run time and
``w`` of shape ``(4, 3)`` broadcasts ``z``, and an adjoint left ``(4, 3)`` would be a silently
wrong gradient.

Input: a program.  Output: its array values that are *sized at run time*: the results of an op
whose primitive says so (the registry's ``sized_at_run_time`` trait), and every array computed
from one (coarsely: any array result of an op with such an operand, and the values a loop or
branch carries where one of its inputs or yields is one), each with how: ``RUN`` (a length from a
number the code computes, ``x[:n]``, a mask, ``np.zeros((n, 3))``) or ``SHORT`` (a slice with
constant bounds, ``x[1:]``, of length 1 only where the sliced axis is short).  ``reverse.py`` fits
the adjoints of the operands of an elementwise op to their shapes when the code runs
(``adc_arrays.shaped_like``: summed or spread, a no-op where the shapes agree) where one operand is
``RUN`` and another an array, or one ``SHORT`` and another of a shape the types know exactly: two
slices of one axis (``x[1:] * y[:-1]``, the stencils of ODE solvers) broadcast only where the
arrays' lengths differ, and then their adjoints are summed whole (into a number) or added back into
the sliced arrays' (which NumPy refuses), unless a copy of one is written into and the write's
adjoint reads one element of an adjoint left broadcast (an open case, docs/arrays.md).
"""
from __future__ import annotations

from typing import Callable

from .ir import Atom, Op, Program, Region, Var, known_value, walk
from .prims import prim
from .prims.registry import SHORT_AXIS


RUN = 2  # a length from a number the code computes, a mask's count, a list's length
SHORT = 1  # a part of an axis with constant bounds: of length 1 where that axis is short


def sized_at_run_time(program: Program) -> dict[Var, int]:
    """The array values of ``program`` that may have a length-1 axis their type does not show, each
    with how (``RUN`` or ``SHORT``: the primitive's trait returned ``True`` or ``SHORT_AXIS``); a
    value computed from several takes the strongest."""
    defs = {o: op for op in walk(program.body) for o in op.outs}
    found: dict[Var, int] = {}

    def known(a: Atom) -> object:
        """What is known of the number ``a`` when compiling: its value (a constant, or its
        negation), ``...`` for a length of an array whose length-1 axes its type shows (``len(x)``,
        ``x.shape[0]``: the front end marks a new array's axes of such lengths,
        ``Lowerer.length_one``), else ``None``."""
        value = known_value(a, defs.get)
        if value is not None:
            return value
        op = defs.get(a) if isinstance(a, Var) else None
        shaped = op is not None and op.prim == "shape" and isinstance(op.args[0], Var) and op.args[0] not in found
        return ... if shaped else None

    while True:
        before = dict(found)
        _visit(program.body, found, known)
        if found == before:
            return found


def broadcast_unknown(op: Op, found: dict[Var, int]) -> bool:
    """May the elementwise ``op`` broadcast along an axis whose length 1 only the run knows, so
    that its operands' adjoints are fitted to their shapes when the code runs?  With two arrays or
    more: one ``RUN``, or one ``SHORT`` and one whose shape the types know exactly."""
    arrays = list(dict.fromkeys(a for a in op.args if isinstance(a, Var) and _array(a)))
    levels = [found.get(a, 0) for a in arrays]
    return len(arrays) > 1 and (RUN in levels or SHORT in levels and 0 in levels)


def written_unknown(v: Var, found: dict[Var, int]) -> bool:
    """Is ``v``, written into (or added to) a part of an array, ``RUN``: its adjoint fitted to its
    shape when the code runs (a ``SHORT`` one broadcast into that part raises there instead)?"""
    return found.get(v) == RUN


def _level(values: list[Atom], found: dict[Var, int]) -> int:
    return max((found.get(v, 0) for v in values if isinstance(v, Var)), default=0)


def _mark(values: list[Var], level: int, found: dict[Var, int]) -> None:
    for v in values:
        if level and _array(v) and found.get(v, 0) < level:
            found[v] = level


def _visit(region: Region, found: dict[Var, int], known: Callable[[Atom], object]) -> None:
    for op in region.ops:
        if op.regions:
            _structured(op, found, known)
            continue
        rule = prim(op)
        if rule is not None and not rule.structural and _exact_operand(op, found):
            continue  # elementwise: a broadcast to an operand's exact shape is that shape
        made = rule.sized_at_run_time(op, known) if rule is not None and rule.sized_at_run_time is not None else False
        here = SHORT if made == SHORT_AXIS else RUN if made else 0
        _mark(op.outs, max(here, _level(op.args, found)), found)


def _structured(op: Op, found: dict[Var, int], known: Callable[[Atom], object]) -> None:
    """A loop or branch: its regions' arguments and its results are sized at run time when any
    value flowing into them (its operands, its regions' yields) is (coarse, but never missing one;
    what that changes inside the regions, ``sized_at_run_time``'s next pass sees)."""
    for sub in op.regions:
        _visit(sub, found, known)
    level = _level([*op.args, *(y for sub in op.regions for y in sub.yields)], found)
    _mark([*op.outs, *(a for sub in op.regions for a in sub.args)], level, found)


def _exact_operand(op: Op, found: dict[Var, int]) -> bool:
    """Has the elementwise ``op`` an operand of its result's rank with no axis of length 1 that is
    not sized at run time (its every axis the result's length there, ``(x[:n] * W) * x[:n]``)?"""
    out = op.outs[0] if len(op.outs) == 1 else None
    return out is not None and _array(out) and any(
        isinstance(a, Var) and _array(a) and a.type.ndim == out.type.ndim and not any(a.type.ones or ())
        and a not in found for a in op.args)


def _array(v: Var) -> bool:
    return v.type is not None and v.type.is_array

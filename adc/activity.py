"""Activity analysis: which values carry derivatives.

Input: a program and the indices of the differentiated parameters.  Output: the set of *varied*
values (those that depend on a differentiated input through differentiable operations).  Integer and
boolean values, and results of non-differentiable primitives (comparisons, ``int``, shapes), are never
active, so loop counters and index arithmetic get no tangents or adjoints.  Arrays are mutable
references: writing an active value into an array makes the array active.  Loop-carried values and
branch results are active if any value flowing into their slot is; a tape or record of the
reverse sweep is active when an active value is pushed or stored into it, and so is what is popped
or read back from it; a kept call with an active argument makes its results active, and the
tapes of floats it takes (a derivative's part differentiated again may push active values onto
them); the analysis iterates to a fixpoint over the whole program.
"""
from __future__ import annotations

from .calls import holds_floats
from .ir import Atom, Op, Program, Var, walk
from .prims import prim


def is_active_type(v: Atom) -> bool:
    """A float value, or a tape or record (the reverse sweep's lists), which is active when an
    active value is pushed or stored into it (a derivative program differentiated again)."""
    return isinstance(v, Var) and v.type is not None and v.type.kind in ("float", "tape")


def _mark(active: set[Var], targets: list[Atom], sources: list[Atom]) -> bool:
    if not any(isinstance(s, Var) and s in active for s in sources):
        return False
    new = [t for t in targets if is_active_type(t) and t not in active]
    active.update(new)  # type: ignore[arg-type]
    return bool(new)


def slots(op: Op) -> list[tuple[list[Atom], list[Atom]]]:
    """For a structured op, per carried/merged slot: (values flowing in, values that take them)."""
    if op.prim == "if":
        then, orelse = op.regions
        return [([t, e], [o]) for t, e, o in zip(then.yields, orelse.yields, op.outs)]
    if op.prim == "for":
        body = op.regions[0]
        inits = op.args[3:]
        return [([i, y], [a, o]) for i, y, a, o in zip(inits, body.yields, body.args[1:], op.outs)]
    if op.prim == "while":
        cond, body = op.regions
        return [([i, y], [c, a, o]) for i, y, c, a, o in zip(op.args, body.yields, cond.args, body.args, op.outs)]
    return []


def propagate(op: Op, active: set[Var]) -> bool:
    """Mark what ``op`` makes active; report whether anything changed."""
    if op.regions:
        changed = False
        for sources, targets in slots(op):
            changed |= _mark(active, targets, sources)
        return changed
    p = prim(op)
    if p is None:
        return False
    if p.writes or p.effect:  # a store (or a push) makes its array (tape) active when the stored value is
        return _mark(active, [op.args[0]], op.args[1:])
    if p.flows:
        return _mark(active, op.outs, op.args[:1])
    if p.calls:  # a kept call: its results, and the tapes of floats it may push onto, when any argument is
        return _mark(active, [*op.outs, *(a for a in op.args if holds_floats(a))], op.args)
    if not p.differentiable:
        return False
    return _mark(active, op.outs, [a for k, a in enumerate(op.args) if k not in p.shape_args])


def varied(program: Program, wrt: list[int]) -> set[Var]:
    """Values that depend differentiably on ``program.params[wrt]``."""
    active: set[Var] = {program.params[i] for i in wrt if is_active_type(program.params[i])}
    ops = list(walk(program.body))
    changed = True
    while changed:
        changed = False
        for op in ops:
            changed |= propagate(op, active)
    return active

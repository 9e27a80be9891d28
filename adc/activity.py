"""Activity analysis: which values carry derivatives.

Input: a program and the indices of the differentiated parameters.  Output: the set of *varied*
values (those that depend on a differentiated input through differentiable operations).  Integer and
boolean values, and results of non-differentiable primitives (comparisons, ``int``), are never
active, so loop counters and index arithmetic get no tangents or adjoints.
"""
from __future__ import annotations

from .ir import Op, Program, Region, Var
from .rules import RULES


def is_active_type(v: Var) -> bool:
    return v.type is not None and v.type.kind == "float"


def varied(program: Program, wrt: list[int]) -> set[Var]:
    """Values that depend differentiably on ``program.params[wrt]``."""
    active: set[Var] = {program.params[i] for i in wrt if is_active_type(program.params[i])}
    changed = True
    while changed:  # fixpoint: loop-carried values become active once their update is
        changed = False
        for op in _ops(program.body):
            changed |= propagate(op, active)
    return active


def propagate(op: Op, active: set[Var]) -> bool:
    """Mark ``op``'s results active if an active value flows into them; report any change."""
    handler = STRUCTURED.get(op.prim)
    if handler is not None:
        return handler(op, active)
    rule = RULES.get(op.prim)
    if rule is None or rule.partials is None:
        return False
    if not any(isinstance(a, Var) and a in active for a in op.args):
        return False
    new = [o for o in op.outs if is_active_type(o) and o not in active]
    active.update(new)
    return bool(new)


def _ops(region: Region) -> list[Op]:
    return list(region.ops)


# Structured ops (if/for/while) register their own propagation here.
STRUCTURED: dict[str, "callable"] = {}

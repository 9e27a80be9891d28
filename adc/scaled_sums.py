"""Sums of scaled arrays from sums already taken, in the code adc emits.

``s = np.sum(v)`` … ``w = c * v`` … ``np.sum(w)`` (``c`` a number): the last sum is ``c * s``, one
multiplication instead of a pass over the array.  A softmax-like adjoint makes this pattern: the
gradient of log-sum-exp scales ``exp(x - a)`` by ``1 / sum``, and the adjoint of the max reads the
sum of that.  The two results differ by rounding only (the sum of the products against the
product of the sum); nothing differentiates the emitted code again.

Where ``c`` is ``k / s`` itself (the array normalised by its own sum), ``c * s`` is ``k * (s / s)``:
``k`` exactly (``s / s`` is 1 in floating point), and nan where ``s`` is 0 or infinite, as
``(k / s) * s`` is; where only ``k / s`` overflows (``k = 1e300``, ``s = 1e-11``) it is ``k``, the
exact value, where the sum of the products is inf.  So the max's adjoint in log-sum-exp, ``1 - sum(softmax)``, is 0, not a
rounding residue that would add ``1e-16`` to the largest element in another pass over the array.
"""
from __future__ import annotations

from dataclasses import replace

from .ir import Atom, Const, Op, Program, Region, Var, blocks, copy_region, walk
from .memory import is_array
from .prims import prim


def scaled_sums(program: Program) -> Program:
    """A copy of ``program`` where ``np.sum(c * v)`` is ``c * s`` for an ``s = np.sum(v)`` (the
    same axes) taken before it in the same block, with no array written after ``s`` or ``c * v``
    (the earlier of the two) is made."""
    out = replace(program, body=copy_region(program.body))
    for region in blocks(out.body):
        _rewrite(region)
    return out


def _rewrite(region: Region) -> None:
    made: dict[Var, int] = {}
    sums: dict[tuple[Var, tuple[object, ...]], tuple[int, Var]] = {}  # (array, axes) -> (position, its sum)
    ops: list[Op] = []
    for k, op in enumerate(region.ops):
        if op.prim == "sum" and not op.regions and isinstance(op.args[0], Var):
            at = made.get(op.args[0])
            scaled = _scaled(region, at)
            taken = sums.get((scaled[1], op.params)) if scaled is not None else None
            if at is not None and scaled is not None and taken is not None \
                    and not _writes(region.ops[min(taken[0], at) + 1:k]):  # neither array written since
                ops += _times_sum(region, made, scaled[0], taken[1], op)
                continue
            sums.setdefault((op.args[0], op.params), (k, op.out))
        for o in op.outs:
            made[o] = k
        ops.append(op)
    region.ops[:] = ops


def _times_sum(region: Region, made: dict[Var, int], c: Atom, s: Var, op: Op) -> list[Op]:
    """``op.out = c * s``; ``k * (s / s)`` where ``c`` is ``k / s`` (``s / s`` alone for ``k = 1``)."""
    at = made.get(c) if isinstance(c, Var) else None
    quotient = region.ops[at] if at is not None else None
    if quotient is None or quotient.prim not in ("div", "npdiv") or quotient.args[1] != s:
        return [Op("mul", [c, s], op.outs, (), op.loc)]
    k = quotient.args[0]
    if isinstance(k, Const) and k.value == 1:
        return [Op(quotient.prim, [s, s], op.outs, (), op.loc)]
    one = Var(type=s.type)
    return [Op(quotient.prim, [s, s], [one], (), op.loc), Op("mul", [k, one], op.outs, (), op.loc)]


def _scaled(region: Region, at: int | None) -> tuple[Atom, Var] | None:
    """``(c, v)`` if ``region.ops[at]`` is ``c * v`` (``v * c``) with ``c`` a number."""
    if at is None or region.ops[at].prim != "mul":
        return None
    a, b = region.ops[at].args
    for c, v in ((a, b), (b, a)):
        if is_array(v) and (isinstance(c, Const) or (isinstance(c, Var) and c.type is not None and not c.type.is_array)):
            return c, v  # type: ignore[return-value]
    return None


def _writes(ops: list[Op]) -> bool:
    """Does any of ``ops``, or an op nested in them, change state or call a function?"""
    structure = ("if", "for", "while", "comment")
    return any(o.prim not in structure and (p is None or p.side_effect or p.calls)
               for o in walk(Region([], ops)) for p in [prim(o)])

"""Where an adjoint is zero by construction: the reverse sweep keeps it zero through partials.

``np.where(c, f(x), 0.0)`` has the adjoint ``where(c, g, 0)`` for ``f(x)``; multiplied by ``f``'s
partial it would be ``0 * inf`` or ``0 * nan`` (NaN) wherever the branch not taken has a singular
partial (``sqrt`` of a negative number, ``log`` of 0).  ``masked`` finds the condition such an
adjoint carries (through products, quotients and negations of it), so the sweep writes
``where(c, g * p, 0)`` instead, and the gradient is 0 where the other branch is taken
(docs/rules.md).

The same holds for a whole loop of the reverse sweep: when every adjoint flowing into the reverse
of a loop is zero unless a scalar condition holds (the adjoint of ``dist`` in
``closest = min(closest, dist)``), ``skipped_unless`` runs that reverse loop only under the
condition, so an operand ``min`` did not select gets no contribution at all, and its loop is not
run (kmeans: only the nearest centroid's distance loop).
"""
from __future__ import annotations

from typing import Any, Sequence

from .builder import is_zero
from .ir import Atom, Op, Region, Var, walk
from .memory import writes

# ops whose result is zero wherever their first (or only adjoint) argument is
_THROUGH = ("mul", "div", "neg", "copy")


def zero_mask(b: Any, g: Atom, depth: int = 8) -> tuple[Atom, bool] | None:
    """``(c, kept)`` if ``g`` is zero wherever ``c`` is not ``kept``; ``None`` if not known."""
    op = b.defs.get(g) if isinstance(g, Var) else None
    if op is None or depth == 0:
        return None
    if op.prim == "select":
        c, x, y = op.args
        if is_zero(y) and not is_zero(x):
            return c, True
        if is_zero(x) and not is_zero(y):
            return c, False
        return None
    if op.prim in _THROUGH:
        factors = op.args[:1] if op.prim == "div" else op.args
        for a in factors:
            found = zero_mask(b, a, depth - 1)
            if found is not None:
                return found
    return None


def masked_product(b: Any, g: Atom, p: Atom) -> Atom:
    """``g * p``, kept exactly 0 where ``g`` is 0 by construction and ``p`` is a value (which may
    be infinite or NaN there)."""
    product = b.mul(g, p)
    found = zero_mask(b, g) if isinstance(p, Var) else None
    if found is None or product is g:
        return product
    c, kept = found
    return b.select(c, product, 0.0) if kept else b.select(c, 0.0, product)


def skipped_unless(b: Any, primal: Op, loop: Op, incoming: Sequence[Atom], inits: Sequence[Atom]) -> Op:
    """``loop``, the reverse of the loop ``primal`` whose carried adjoints start at ``incoming``
    (then the sums of outside adjoints: ``inits`` holds both), or an ``if`` that runs it only
    where some scalar condition makes those adjoints nonzero and otherwise leaves every adjoint as
    it was: possible when the adjoints flow in only through ``incoming`` (``primal`` writes into no
    array and touches no tape or list) and the reverse loop only accumulates (it pops nothing that
    must stay in step, and calls nothing)."""
    mask = _common_mask(b, incoming)
    if mask is None or not (_accumulates_only(primal, primal_side=True) and _accumulates_only(loop)):
        return loop
    cond, kept = mask
    inner = [Var(hint=o.hint, type=o.type, role=o.role, base=o.base) for o in loop.outs]
    run = Region([], [Op(loop.prim, loop.args, inner, loop.params, loop.loc, loop.regions)], list(inner))
    keep = Region([], [], list(inits))
    return Op("if", [cond], list(loop.outs), (), loop.loc, [run, keep] if kept else [keep, run])


def _common_mask(b: Any, adjoints: Sequence[Atom]) -> tuple[Var, bool] | None:
    """``(c, kept)``, ``c`` a scalar, if each of ``adjoints`` is zero (by construction) wherever
    ``c`` is not ``kept``, at least one of them through ``c``."""
    found = None
    for g in adjoints:
        if is_zero(g):
            continue
        mask = zero_mask(b, g)
        if mask is None or not isinstance(mask[0], Var) or mask[0].type is None or mask[0].type.is_array:
            return None
        if found is not None and (mask[0] is not found[0] or mask[1] != found[1]):
            return None
        found = mask
    return found


def _accumulates_only(loop: Op, primal_side: bool = False) -> bool:
    """No op of ``loop`` takes a tape or list, calls a kept function, or (``primal_side``)
    writes into an array."""
    for reg in loop.regions:
        for op in walk(reg):
            if op.prim in ("call", "call_stacked") or (primal_side and writes(op)):
                return False
            if any(isinstance(a, Var) and a.type is not None and a.type.kind == "tape" for a in (*op.args, *op.outs)):
                return False
    return True

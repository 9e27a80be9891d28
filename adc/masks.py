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
run (kmeans: only the nearest centroid's distance loop).  Where that adjoint takes only constant
values (a gradient's: 1.0 until the nearest centroid, 0.0 before it), ``skip_zero_adjoints`` runs
the loop only where it is nonzero, so a centroid that was the nearest only so far is skipped too.
"""
from __future__ import annotations

from typing import Any, Sequence

from .builder import is_zero
from .ir import Atom, Const, Op, Region, Var, walk
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
    skip = Op("if", [cond], list(loop.outs), (), loop.loc, [run, keep] if kept else [keep, run])
    flowing = [g for g in incoming if not is_zero(g)]
    skips = b.zero_skips
    if skips is not None and len(flowing) == 1 and isinstance(flowing[0], Var) and not flowing[0].type.is_array:
        skips.append((skip, flowing[0], kept))  # ``zero_skips``: perhaps ``if g != 0.0:`` instead
    return skip


# float operations whose result is constant wherever their operands are
_CONSTANT_THROUGH = ("copy", "neg", "add", "sub", "mul", "div")


def constant_valued(body: Region) -> set[Var]:
    """The float scalars of a program that take only constant values, whatever its inputs (the
    adjoints of a gradient seeded with 1.0 that pass through ``min``'s selects: ``gclosest`` is
    1.0 until the nearest centroid's iteration, then 0.0): made from constants by selects and
    arithmetic, through loops and branches.  Their derivatives are zero."""
    defs: dict[Var, list[tuple[Op, int, str]]] = {}

    def visit(reg: Region) -> None:
        for op in reg.ops:
            for k, o in enumerate(op.outs):
                defs.setdefault(o, []).append((op, k, "out"))
            if op.prim == "for" and op.regions:
                for k, a in enumerate(op.regions[-1].args[1:]):
                    defs.setdefault(a, []).append((op, k, "carried"))
            for sub in op.regions:
                visit(sub)
        for a in reg.args:
            defs.setdefault(a, [])

    visit(body)

    def candidate(v: Var) -> bool:
        t = v.type
        if t is None or t.is_array or t.kind != "float" or not defs.get(v):
            return False
        return all(op.prim in ("for", "if", "select", *_CONSTANT_THROUGH) for op, _, _ in defs[v])

    known = {v for v in defs if candidate(v)}

    def ok(a: object) -> bool:
        return not isinstance(a, Var) or a in known

    changed = True
    while changed:
        changed = False
        for v in list(known):
            for op, k, _ in defs[v]:
                if op.prim == "select":
                    good = ok(op.args[1]) and ok(op.args[2])
                elif op.prim in _CONSTANT_THROUGH:
                    good = all(ok(a) for a in op.args)
                elif op.prim == "for":
                    good = ok(op.args[3 + k]) and ok(op.regions[-1].yields[k])
                elif op.prim == "if":
                    good = all(ok(r.yields[k]) for r in op.regions)
                else:
                    good = False
                if not good:
                    known.discard(v)
                    changed = True
                    break
    return known


def skip_zero_adjoints(body: Region, skips: Sequence[tuple[Op, Var, bool]]) -> None:
    """A reverse loop that ``skipped_unless`` runs under ``min``'s condition runs instead only
    where the adjoint flowing in is nonzero (``if gdist != 0.0:``), when that adjoint takes only
    constant values (``constant_valued``: a gradient's, seeded with 1.0): in kmeans, only for the
    nearest centroid, not for every centroid that was the nearest so far.  What it skips is zero
    times a partial, and zero to every order (the adjoint's derivatives are zero), so the derivative
    programs made from this one (the jvp of the gradient) stay exact."""
    if not skips:
        return
    known = constant_valued(body)
    where: dict[int, Region] = {}

    def visit(reg: Region) -> None:
        for op in reg.ops:
            where[id(op)] = reg
            for sub in op.regions:
                visit(sub)

    visit(body)
    for op, g, kept in skips:
        reg = where.get(id(op))
        if reg is None or g not in known:
            continue
        cond = Var(type=op.args[0].type, role="tmp")
        reg.ops.insert(reg.ops.index(op), Op("ne", [g, Const(0.0)], [cond], (), op.loc))
        op.args = [cond]
        if not kept:
            op.regions = op.regions[::-1]


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

"""Emitting IR: the one way every stage creates ops.

Input: primitive names and atoms.  Output: ops appended to the current region, with types from the
primitive registry and the current source location attached.  With ``simplify=True`` (the derivative
transforms) the builder folds constants and applies a few algebraic identities (``x * 1 -> x``,
``g * (1 / y) -> g / y``, ``g * where(c, 1, 0) -> where(c, g, 0)``) so that generated derivative code
reads like a hand-written one.  The front end uses ``simplify=False``: the user's program is kept as
written.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from .ir import Atom, Const, Loc, Op, Region, Var
from .prims import PRIMS, fold_value, get
from .types import Type

Operand = Atom | float | int | bool


def atom(x: Operand) -> Atom:
    return x if isinstance(x, (Var, Const)) else Const(x)


def is_zero(a: Atom) -> bool:
    return isinstance(a, Const) and not isinstance(a.value, bool) and a.value == 0


def is_one(a: Atom) -> bool:
    return isinstance(a, Const) and not isinstance(a.value, bool) and a.value == 1


class Builder:
    """Appends ops to a stack of regions; ``b.sin(x)`` is ``b.emit("sin", x)`` for every rule."""

    def __init__(self, simplify: bool = True, role: str = "tmp", exact: bool = False) -> None:
        """``exact``: only the simplifications that keep every value, inf and nan included (for a
        value of the user's function: ``x * 0.0`` is nan where ``x`` is inf; a derivative's zero
        contribution is a symbolic zero, as in JAX, and may drop)."""
        self.stack: list[Region] = [Region()]
        self.loc: Loc | None = None
        self.simplify = simplify
        self.exact = exact
        self.role = role
        self.defs: dict[Var, Op] = {}
        # reverse loops run under a condition whose adjoint may be a constant-valued scalar
        # (``masks.skipped_unless``, then ``masks.skip_zero_adjoints``); ``None``: not collected
        self.zero_skips: list[tuple[Op, Var, bool]] | None = None

    # -- regions -----------------------------------------------------------------------------
    @property
    def region(self) -> Region:
        return self.stack[-1]

    @contextmanager
    def into(self, region: Region) -> Iterator[Region]:
        self.stack.append(region)
        try:
            yield region
        finally:
            self.stack.pop()

    @contextmanager
    def at(self, loc: Loc | None) -> Iterator[None]:
        saved, self.loc = self.loc, loc if loc is not None else self.loc
        try:
            yield
        finally:
            self.loc = saved

    def append(self, op: Op) -> Op:
        if op.loc is None:
            op.loc = self.loc
        self.region.ops.append(op)
        for o in op.outs:
            self.defs[o] = op
        return op

    def new_var(self, type: Type | None, hint: str | None = None, role: str | None = None,
                base: Var | None = None) -> Var:
        return Var(hint=hint, type=type, role=role or self.role, base=base)

    # -- emitting primitives -----------------------------------------------------------------
    def emit(self, prim: str, *args: Operand, params: tuple[tuple[str, object], ...] = (),
             hint: str | None = None) -> Atom:
        atoms = [atom(a) for a in args]
        if self.simplify:
            folded = self._simplified(prim, atoms, params)
            if folded is not None:
                return folded
        rule = get(prim)
        out = self.new_var(rule.result_type([a.type for a in atoms], dict(params)), hint)
        self.append(Op(prim, atoms, [out], params))
        return out

    def __getattr__(self, name: str) -> Callable[..., Atom]:
        if name in PRIMS:
            return lambda *args, **kw: self.emit(name, *args, **kw)
        raise AttributeError(name)

    @staticmethod
    def is_const(a: Atom) -> bool:
        return isinstance(a, Const)

    def defining(self, a: Atom, prim: str) -> Op | None:
        """The op that made temporary ``a`` in this builder, if it is a ``prim``.  Named values
        (user variables, tangents, adjoints) are never looked through, so they stay visible."""
        op = self.defs.get(a) if isinstance(a, Var) and a.role == "tmp" else None
        return op if op is not None and op.prim == prim else None

    def _simplified(self, prim: str, a: Sequence[Atom], params: tuple[tuple[str, object], ...] = ()) -> Atom | None:
        if a and all(isinstance(x, Const) for x in a) and prim in PRIMS and prim not in ("copy",) \
                and not (get(prim).fresh or get(prim).side_effect or get(prim).calls):  # not a new list, not a call
            try:
                return Const(fold_value(prim, [x.value for x in a]))
            except (ArithmeticError, ValueError):
                return None  # not folded: the statement raises when it runs, as the user's code does
        scalar = all(not x.type.is_array for x in a)
        zero_absorbs = scalar and not self.exact  # 0 * x and 0 / x are 0 (not for x inf or nan)
        if prim == "add":
            if is_zero(a[1]):
                return a[0]
            if is_zero(a[0]):
                return a[1]
            if a[0] is a[1]:
                return self.mul(a[0], 2.0)
            for k in (0, 1):
                inner = self.broadcast_source(a[k], a[1 - k])
                if inner is not None:  # x + broadcast(g): NumPy broadcasts g itself
                    return self.add(a[1 - k], inner) if k == 1 else self.add(inner, a[1 - k])
            neg = self.defining(a[1], "neg")
            if neg is not None:
                return self.sub(a[0], neg.args[0])
        elif prim == "sub":
            if is_zero(a[1]):
                return a[0]
            if is_zero(a[0]):
                return self.neg(a[1])
            neg = self.defining(a[1], "neg")
            if neg is not None:
                return self.add(a[0], neg.args[0])
        elif prim == "mul":
            for x, y in ((a[0], a[1]), (a[1], a[0])):
                if is_one(y):
                    return x
                if isinstance(y, Const) and y.value == -1:
                    return self.neg(x)
                if is_zero(y) and zero_absorbs:
                    return Const(0.0)
            return self._mul_patterns(a[0], a[1]) or self._mul_patterns(a[1], a[0], swapped=True)
        elif prim in ("div", "npdiv"):
            if is_one(a[1]):
                return a[0]
            if is_zero(a[0]) and zero_absorbs:
                return Const(0.0)
        elif prim == "neg":
            inner = self.defining(a[0], "neg")
            if inner is not None:
                return inner.args[0]
        elif prim == "pow":
            if is_one(a[1]):
                return a[0]
        elif prim == "select":
            if isinstance(a[0], Const):
                return a[1] if a[0].value else a[2]
        elif prim == "sum" and len(a) == 1:
            neg = self.defining(a[0], "neg")
            if neg is not None:  # sum(-g) = -sum(g), bit for bit, without the negated array
                return self.neg(self.emit("sum", neg.args[0], params=params))
        return None

    def broadcast_source(self, a: Atom, other: Atom) -> Atom | None:
        """If ``a`` is ``broadcast(g)`` to exactly ``other``'s type and ``g`` broadcasts by itself
        (a scalar, or kept dimensions), then ``g``."""
        op = self.defs.get(a) if isinstance(a, Var) else None  # a broadcast view, named or not
        if op is None or op.prim != "broadcast" or other.type != a.type:
            return None
        params = dict(op.params)
        if params.get("axis") is None or params.get("keepdims"):
            return op.args[0]
        return None

    def _mul_patterns(self, g: Atom, p: Atom, swapped: bool = False) -> Atom | None:
        """``g * p`` where ``p`` is a partial the builder just made: push ``g`` inside."""
        inner = self.broadcast_source(g, p)
        if inner is not None:  # the other factor already has the full shape: skip the broadcast
            return self.mul(inner, p) if not swapped else self.mul(p, inner)
        if not swapped and not g.type.is_array and isinstance(p, Var):
            scaled = self.defining(p, "mul")
            if scaled is not None and isinstance(scaled.args[1], Const):
                return self.mul(self.mul(g, scaled.args[1]), scaled.args[0])  # (g * 2.0) * x: one pass
        for quotient in ("div", "npdiv"):  # g * (1 / x) is g / x, as Python's or as NumPy's division
            div = self.defining(p, quotient)
            if div is not None and is_one(div.args[0]):
                return self.emit(quotient, g, div.args[1])
            if div is not None and quotient == "div" and not swapped:
                return self.div(self.mul(g, div.args[0]), div.args[1])
        neg = self.defining(p, "neg")
        if neg is not None:
            return self.neg(self.mul(g, neg.args[0]) if not swapped else self.mul(neg.args[0], g))
        sel = self.defining(p, "select")
        if sel is not None and all(isinstance(x, Const) for x in sel.args[1:]):
            c, x, y = sel.args
            return self.select(c, *(Const(0.0) if is_zero(v) else self.mul(g, v) for v in (x, y)))
        return None


def apply(transform: Any, op: Op, structured: dict[str, Callable[[Any, Op], None]]) -> None:
    """One step of a derivative transform: ``structured[op.prim]`` for ``if``/``for``/``while``
    (run at the op's source location), else the transform's own ``op`` method."""
    handler = structured.get(op.prim)
    if handler is None:
        transform.op(op)
        return
    with transform.b.at(op.loc):
        handler(transform, op)

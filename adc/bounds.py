"""Which array indices of a Numba function are provably in range, and the guard that lets it run
without Numba's bounds checks.

Input: a program as it is emitted for Numba (``pipeline.named_module``).  Output:
``without_checks(program)``, the same program with one ``indices_in_range`` statement in front of
its loops, when every integer index it takes of an array is within that array's axis whenever the
guard's conditions hold; ``None`` when some index cannot be bounded that way (the function keeps
Numba's checks, ``boundscheck=True``).

An index is bounded by what it is made of: a ``for`` loop's variable (``range(start, stop)``, or
``range(start, stop, -1)`` as the reverse sweep counts down), a constant, or one of those plus or
minus a constant.  Its bound is proved outright when it is the indexed array's own ``shape[axis]``
(``for i in range(x.shape[0]): x[i]``), of that array or of one made with its shape
(``np.zeros_like(x)``); otherwise it becomes a condition on values of the function's top level,
checked once, before the first index that needs it, as soon as those values are known
(``d <= centroids.shape[1]``; usually on entry).  When a condition fails, the generated code
raises ``IndicesMayBeOutOfRange`` there, and the caller runs the bounds-checked version of the
same code instead (``failures.recover``), which raises ``IndexError`` where the function itself
does.  Reads and writes of adc's own tapes are trusted (adc computes their positions), and
any other indexing (an index array, a mask, a value computed in the loop) keeps the checks.
"""
from __future__ import annotations

import dataclasses
from collections import ChainMap
from typing import Any, Iterator, Mapping

from .ir import Atom, Const, Op, Program, Region, Var, walk
from .prims.indexing import spec_of
from .prims.registry import PRIMS

INDEXING = ("getitem", "setitem", "index_add")  # Numba subscripts (when Numba takes the key natively)

Bound = tuple[Atom | None, int]  # the value is < atom + offset (atom None: < offset)


@dataclasses.dataclass
class _Facts:
    """What the program says about its integers and arrays where an op stands."""

    defs: Mapping[Var, Op | None]  # the definition of each value that reaches the op (None: a block argument)
    loops: Mapping[Var, Op]  # a ``for`` loop's variable -> the loop it counts
    top: dict[Var, int]  # values defined at the top level (parameters: -1) -> first position


def _top_positions(program: Program) -> dict[Var, int]:
    """The values defined at the top level (parameters: -1) and the first position of each."""
    top: dict[Var, int] = {p: -1 for p in program.params}
    for k, op in enumerate(program.body.ops):
        for out in op.outs:
            top.setdefault(out, k)
    return top


def _ops_with_facts(program: Program, top: dict[Var, int]) -> Iterator[tuple[int, Op, _Facts]]:
    """Every op, the position of the top-level op it is in, and the facts where it stands.  A value
    the reverse sweep defines again (a loop variable counting down, a recomputed shape) is read
    with the definition that reaches it."""
    def visit(region: Region, defs: ChainMap[Var, Op | None], loops: ChainMap[Var, Op],
              at: int | None) -> Iterator[tuple[int, Op, _Facts]]:
        for k, op in enumerate(region.ops):
            here = k if at is None else at
            yield here, op, _Facts(defs, loops, top)
            for r in op.regions:
                inner, counted = defs.new_child({a: None for a in r.args}), loops.new_child()
                if op.prim == "for":
                    counted[r.args[0]] = op
                yield from visit(r, inner, counted, here)
            for out in op.outs:
                defs[out] = op

    yield from visit(program.body, ChainMap({p: None for p in program.params}), ChainMap(), None)


def _const(a: Atom) -> int | None:
    return a.value if isinstance(a, Const) and type(a.value) is int else None


def _plus_constant(a: Atom, f: _Facts) -> tuple[Atom, int] | None:
    """``a`` as ``(b, c)`` where it is ``b + c`` or ``b - c`` for a constant ``c``, or ``None``."""
    op = f.defs.get(a) if isinstance(a, Var) else None
    c = _const(op.args[1]) if op is not None and op.prim in ("add", "sub") else None
    if op is None or c is None:
        return None
    return op.args[0], c if op.prim == "add" else -c


def _counted(a: Atom, f: _Facts) -> tuple[Atom, Atom, int] | None:
    """``(start, stop, step)`` where ``a`` is the variable of a loop over ``range(start, stop, step)``
    with a step of 1 or -1, or ``None``."""
    loop = f.loops.get(a) if isinstance(a, Var) else None
    if loop is None:
        return None
    start, stop, step = loop.args[:3]
    return (start, stop, _const(step)) if _const(step) in (1, -1) else None  # type: ignore[return-value]


def _term(a: Atom, f: _Facts) -> Bound:
    """``a`` as a value plus a constant (``n - 1`` is ``(n, -1)``)."""
    c = _const(a)
    if c is not None:
        return None, c
    split = _plus_constant(a, f)
    if split is None:
        return a, 0
    base, off = _term(split[0], f)
    return base, off + split[1]


def _lower(a: Atom, f: _Facts) -> int | None:
    """A constant that ``a`` is at least, or ``None``."""
    c = _const(a)
    if c is not None or not isinstance(a, Var):
        return c
    if a in f.loops:
        counted = _counted(a, f)
        if counted is None:
            return None
        start, stop, step = counted
        low = _lower(start if step == 1 else stop, f)  # counting down, it stays above ``stop``
        return None if low is None else (low if step == 1 else low + 1)
    split = _plus_constant(a, f)
    if split is not None:
        low = _lower(split[0], f)
        return None if low is None else low + split[1]
    op = f.defs.get(a)
    if op is not None and op.prim in ("shape", "len_range"):
        return 0
    if op is not None and op.prim in ("add", "mul") and len(op.args) == 2:
        x, y = _lower(op.args[0], f), _lower(op.args[1], f)
        if x is not None and y is not None and (op.prim == "add" or (x >= 0 and y >= 0)):
            return x + y if op.prim == "add" else x * y
    return None


def _upper(a: Atom, f: _Facts) -> Bound | None:
    """A bound ``a`` is below (``(n, 0)``: ``a < n``), or ``None``."""
    c = _const(a)
    if c is not None:
        return None, c + 1
    if not isinstance(a, Var):
        return None
    if a in f.loops:
        counted = _counted(a, f)
        if counted is None:
            return None
        start, stop, step = counted
        if step == 1:
            return _term(stop, f)
        base, off = _term(start, f)  # counting down from ``start``
        return base, off + 1
    split = _plus_constant(a, f)
    if split is not None:
        bound = _upper(split[0], f)
        return None if bound is None else (bound[0], bound[1] + split[1])
    op = f.defs.get(a)
    if op is not None and op.prim == "add":
        x, y = _upper(op.args[0], f), _upper(op.args[1], f)
        if x is not None and y is not None and (x[0] is None or y[0] is None):
            return (x[0] if y[0] is None else y[0]), x[1] + y[1] - 1
    return None


def _root(a: Atom, f: _Facts) -> Atom:
    """The array whose shape ``a`` has by construction (``np.zeros_like(x)``: ``x``'s)."""
    while isinstance(a, Var):
        op = f.defs.get(a)
        rule = PRIMS.lookup(op.prim) if op is not None else None
        if rule is None or not rule.shape_of_first:
            return a
        a = op.args[0]
    return a


def _is_shape(base: Atom | None, array: Atom, axis: int, f: _Facts) -> bool:
    op = f.defs.get(base) if isinstance(base, Var) else None
    return op is not None and op.prim == "shape" and op.param("dim") == axis and _root(op.args[0], f) is _root(array, f)


@dataclasses.dataclass(frozen=True)
class Condition:
    """``left + offset <= array.shape[axis]``, where ``left`` is a value, or with ``left_axis`` the
    array ``left``'s ``shape[left_axis]``."""

    left: Atom
    left_axis: int | None
    offset: int
    array: Atom
    axis: int

    def key(self) -> tuple[Any, ...]:
        return (self.left if isinstance(self.left, Const) else id(self.left), self.left_axis, self.offset,
                id(self.array), self.axis)


def _condition(base: Atom | None, off: int, array: Atom, axis: int, f: _Facts) -> Condition:
    """``base + off <= array.shape[axis]``, the shape of an array named as such (``x.shape[0]``)."""
    op = f.defs.get(base) if isinstance(base, Var) else None
    if op is not None and op.prim == "shape":
        return Condition(_root(op.args[0], f), op.param("dim"), off, _root(array, f), axis)
    return Condition(Const(0) if base is None else base, None, off, _root(array, f), axis)


def _conditions(op: Op, f: _Facts) -> list[Condition] | None:
    """What makes every integer index of ``op`` (a subscript of an array) in range; ``None`` if not
    provable."""
    array = op.args[0]
    keys = op.args[1:-1] if op.prim != "getitem" else op.args[1:]
    spec = spec_of(dict(op.params), len(keys))
    if array.type is None or not array.type.is_array:
        return None
    out: list[Condition] = []
    axis = 0
    it = iter(keys)
    for entry in spec:
        if entry == "n":
            continue
        if entry != "i":  # a slice: Numba clips it, as NumPy does
            for present in entry[1:]:
                if present:
                    next(it)
            axis += 1
            continue
        index = next(it)
        if index.type is None or index.type.ndim or index.type.kind != "int":
            return None  # an index array, a mask or a bool
        low = _lower(index, f)
        if low is None:
            return None
        if low < 0:  # a negative constant counts from the end: -low elements are needed
            if _const(index) is None:
                return None
            out.append(_condition(None, -low, array, axis, f))
        else:
            bound = _upper(index, f)
            if bound is None:
                return None
            base, off = bound
            while isinstance(base, Var) and base not in f.top and getattr(f.defs.get(base), "prim", "") != "shape":
                outer = _upper(base, f)  # a bound made inside a loop (``range(i)``): the bound of that
                if outer is None:
                    return None
                base, off = outer[0], outer[1] + off - 1
            if not (off <= 0 and _is_shape(base, array, axis, f)):
                out.append(_condition(base, off, array, axis, f))
        axis += 1
    return out


def _needs_checks(op: Op) -> bool:
    """Could ``op`` index an array with values Numba's checks would catch, other than the
    subscripts this module bounds?  An integer array among its operands could be such an index."""
    return any(isinstance(a, Var) and a.type is not None and a.type.ndim and a.type.kind in ("int", "bool")
               for a in op.args)


def _tightest(conds: list[Condition]) -> list[Condition]:
    """The conditions with one constant bound per array axis, the largest (``3 <= x.shape[0]``
    implies ``1 <= x.shape[0]``)."""
    largest: dict[tuple[int, int], Condition] = {}
    out: list[Condition] = []
    for c in conds:
        if isinstance(c.left, Const) and c.left_axis is None:
            key = (id(c.array), c.axis)
            if key not in largest:
                out.append(c)
            elif c.left.value + c.offset <= largest[key].left.value + largest[key].offset:
                continue
            else:
                out[out.index(largest[key])] = c
            largest[key] = c
        else:
            out.append(c)
    return out


def without_checks(program: Program) -> Program | None:
    """``program`` with its guard (none if every index is proved outright), or ``None``: some index
    cannot be bounded, so it keeps Numba's checks."""
    found: dict[tuple[Any, ...], Condition] = {}
    first_use = len(program.body.ops)
    top = _top_positions(program)
    for k, op, f in _ops_with_facts(program, top):
        if op.prim in INDEXING and op.args[0].type is not None and op.args[0].type.kind == "tape":
            continue  # adc's own record: positions adc computes
        if op.prim in INDEXING:
            conds = _conditions(op, f)
            if conds is None:
                return None
            for cond in conds:
                found.setdefault(cond.key(), cond)
            if conds:
                first_use = min(first_use, k)
        elif _needs_checks(op):
            return None
    if not found:
        return program
    conds = _tightest(list(found.values()))
    needed = [a for c in conds for a in (c.left, c.array) if isinstance(a, Var)]
    if any(a not in top for a in needed):
        return None  # a bound or an array made inside a loop: not known on entry
    at = max((top[a] for a in needed), default=-1) + 1
    if at > first_use:
        return None
    guard = Op("indices_in_range", [a for c in conds for a in (c.left, c.array)], [],
               (("bounds", tuple((c.left.value if isinstance(c.left, Const) else None, c.left_axis, c.offset, c.axis)
                                 for c in conds)),))
    note = Op("comment", [], [], (("text", "Numba checks no index below: these conditions keep every one in range "
                                   "(else the checked code runs)"),))
    body = Region(list(program.body.args), [*program.body.ops[:at], note, guard, *program.body.ops[at:]],
                  list(program.body.yields))
    return dataclasses.replace(program, body=body)

"""Leaving SSA: choose one Python name per branch/loop slot so generated code reads like the user's.

Input: a program and its ``Names``.  Output: the same ``Names`` with values *shared*: the result of
an ``if`` takes the name of the values its branches yield, and a loop-carried value takes one name
for its initial value, its region argument, the value the body yields and the loop's result, so
``s = 0.0; for i in range(n): s = s + x[i]`` comes out as written.  A value is only given a slot's
name when that cannot clobber anything still needed (checked with program positions); otherwise
code generation emits an explicit copy at the end of the region.
"""
from __future__ import annotations

from .ir import Atom, Op, Program, Region, Var, walk
from .naming import Names


class Positions:
    """Program-order positions of definitions and uses (regions nest inside their op's span)."""

    def __init__(self, program: Program, inline: dict[Var, Op] | None = None) -> None:
        self.inline = inline or {}
        self.defined: dict[Var, int] = {p: -1 for p in program.params}
        self.used: dict[Var, list[int]] = {}
        self.span: dict[Op, tuple[int, int]] = {}
        self.owner: dict[Var, Region] = {}
        self.n = 0
        self.region(program.body)

    def use(self, atoms: list[Atom]) -> None:
        for a in atoms:
            if isinstance(a, Var):
                self.used.setdefault(a, []).append(self.n)
                inner = self.inline.get(a)
                if inner is not None:  # folded into this use: its operands are read here too
                    self.use(inner.args)

    def region(self, reg: Region) -> None:
        for a in reg.args:
            self.defined.setdefault(a, self.n)
            self.owner.setdefault(a, reg)
        for op in reg.ops:
            start = self.n
            self.use(op.args)
            self.n += 1
            for sub in op.regions:
                self.region(sub)
            self.n += 1
            for o in op.outs:  # the first definition counts (the reverse sweep may recompute it)
                self.defined.setdefault(o, self.n)
                self.owner.setdefault(o, reg)
            self.span[op] = (start, self.n)
            self.n += 1  # later statements read strictly after this definition
        self.use(reg.yields)
        self.n += 1

    def uses_after(self, var: Var, pos: int) -> bool:
        return any(u > pos for u in self.used.get(var, []))


def coalesce(program: Program, names: Names, inline: dict[Var, Op] | None = None) -> None:
    """Share names between the values of each branch/loop slot where that is safe; ``inline``
    holds the values code generation folds into their use (their operands are read there).
    Then give a fresh name to any value that would overwrite another value of the same name that
    is still needed."""
    pos = Positions(program, inline)
    _region(program.body, names, pos)
    _split_live_versions(program, names, pos)


def _split_live_versions(program: Program, names: Names, pos: Positions) -> None:
    """All versions of one adjoint (or tangent) share a Python name (``gx = a`` … ``gx += b``), and
    slot sharing can give adjoints of different assignments one name too.  That is only right
    while the older value is dead when a newer one is assigned; where it is not (an adjoint
    carried unchanged around a loop, or read after a newer one was assigned), the newer one gets
    a name of its own.  A value read inside a loop but defined before it
    counts as live until the loop ends (the next iteration reads it again); values folded into
    their use are never assigned, so they overwrite nothing."""
    last: dict[Var, int] = {v: max(u) for v, u in pos.used.items()}
    for op, (start, end) in pos.span.items():
        if op.prim in ("for", "while"):
            for v, uses in pos.used.items():
                if pos.defined.get(v, -1) < start and any(start < u < end for u in uses):
                    last[v] = max(last[v], end)
    # only values a statement assigns can take a new name: a loop's or branch's slot (its result,
    # region arguments) is assigned by copies that use the slot's one name
    plain = {o for op in walk(program.body) if not op.regions for o in op.outs}
    groups: dict[object, list[Var]] = {}
    for v in pos.defined:
        if v.role in ("adjoint", "tangent") and v.base is not None and v not in pos.inline:
            groups.setdefault(names.key(v), []).append(v)
    for versions in groups.values():
        if len(versions) < 2:
            continue
        versions.sort(key=lambda v: pos.defined[v])
        for k, v in enumerate(versions):
            born = pos.defined[v]
            if v in plain and any(names.key(u) == names.key(v) and last.get(u, -1) > born for u in versions[:k]):
                names.names[v] = names.namer.fresh(names[v])


def _region(reg: Region, names: Names, pos: Positions) -> None:
    for op in reg.ops:
        if op.prim == "if":
            _if(op, names, pos)
        elif op.prim in ("for", "while"):
            _loop(op, names, pos)
        for sub in op.regions:
            _region(sub, names, pos)


def _free(var: Var, names: Names) -> bool:
    return var not in names.names


def _yield_count(reg: Region, var: Var) -> int:
    return sum(1 for y in reg.yields if y is var)


def _if(op: Op, names: Names, pos: Positions) -> None:
    start, end = pos.span[op]
    for k, out in enumerate(op.outs):
        incoming = [reg.yields[k] for reg in op.regions]
        # a value from before the if, read nowhere else: the if just updates that variable
        outside = [v for v in incoming if isinstance(v, Var) and pos.defined.get(v, -1) < start]
        chosen = None
        for v in outside:
            uses = pos.used.get(v, [])
            if all(start <= u <= end for u in uses) and all(y is v or not isinstance(y, Var) or pos.defined.get(y, -1) >= start
                                                             for y in incoming) and sum(1 for y in incoming if y is v) == len(uses):
                chosen = v
                break
        if chosen is not None and _free(out, names):
            names.share(out, chosen)
        for reg, v in zip(op.regions, incoming):
            if isinstance(v, Var) and _free(v, names) and pos.owner.get(v) is reg and _yield_count(reg, v) == 1:
                names.share(v, out)


def _loop(op: Op, names: Names, pos: Positions) -> None:
    start, end = pos.span[op]
    is_for = op.prim == "for"
    inits = op.args[3:] if is_for else op.args
    body = op.regions[-1]
    head = 1 if is_for else 0
    for k, out in enumerate(op.outs):
        init = inits[k]
        if isinstance(init, Var) and pos.used.get(init, []) == [start] and _free(out, names) \
                and sum(1 for i in inits if i is init) == 1:
            names.share(out, init)
        for reg in op.regions:
            args = reg.args[head:] if reg is body else reg.args
            if _free(args[k], names):
                names.share(args[k], out)
        y = body.yields[k]
        arg = body.args[head + k]
        if isinstance(y, Var) and y is not arg and y not in body.args and _free(y, names) \
                and pos.owner.get(y) is body and _yield_count(body, y) == 1 \
                and not pos.uses_after(arg, pos.defined[y]):  # (another slot's argument keeps its own name)
            names.share(y, out)

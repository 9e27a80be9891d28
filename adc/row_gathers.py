"""Rows gathered before they are computed: ``vertices[idx]`` from ``weights[idx] @ T`` when few rows are read.

GradBench's hand tracking skins 10,000 vertices (``(weights @ T).reshape(-1, 4, 4)``, an einsum, a
rotation) and reads about 300 of them (``vertices[verts[:, 0]]``).  When every read of an array
picks rows through a 1-D integer array, and each op that made it takes its result's rows one for
one from operands' rows (the primitive's ``rows`` trait, ``RowRule``: element-wise operations,
``a @ c`` for a matrix ``a``, a reshape that keeps the row size, a slice that keeps the first axis,
an einsum over a leading batch index; and a branch whose paths do), the rows can be gathered from
those operands instead, and only they computed: ``weights[idx] @ T``.

Which is cheaper depends on lengths known only when the code runs (``tokens`` may read a small
table many times), so each read becomes a branch: ``rows = rows_used(idx, len(weights))`` (the
rows read, each once), ``if k * len(rows) < len(weights):`` those rows computed, then read as
``idx`` reads them (``row_positions``), ``else:`` the whole array, as written, then its rows
(``k``: how many reads the array has).
Values are those of the program as written, and so are derivatives, which the transforms take of
the branch the arguments choose.  A row operand whose first axis has length 1 only when the code
runs (broadcast) gives, gathered, its one row (an index of ``0``) or an ``IndexError``, never
another value.

``gathered_rows(program)`` returns a rewritten copy, or ``program`` itself when no read qualifies.
The ops an array is made of are not moved across a write (``setitem``, a pop): between the first
of them and the read, nothing may change state.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod

from .ir import Atom, Const, Loc, Op, Program, Region, Var, blocks, copy_region, defined_in, fresh_copy, known_value, uses, walk
from .passes import dead_code, has_effect
from .prims import get, prim
from .prims.indexing import ROW_NUMBERS
from .prims.registry import RowRule, broadcasts
from .types import BOOL, INT


@dataclass
class _Use:
    op: Op | None  # the reading op, or ``None`` for a region's yield
    block: Region  # where the read is
    owner: Op | None = None  # the ``if`` whose branch yields it (a yield)
    slot: int = 0  # which of the ``if``'s results it yields


class _Program:
    """Where each value of a program is defined and read, and how regions nest."""

    def __init__(self, body: Region) -> None:
        self.defs: dict[Var, tuple[Op, Region]] = {}
        self.uses: dict[Var, list[_Use]] = {}
        self.parent: dict[int, tuple[Op, Region]] = {}  # region (id) -> the op owning it, that op's block
        self._index(body)
        for y in body.yields:  # the program's results: read whole
            if isinstance(y, Var):
                self.uses.setdefault(y, []).append(_Use(None, body))

    def _index(self, block: Region) -> None:
        for op in block.ops:
            for o in op.outs:
                self.defs[o] = (op, block)
            for a in op.args:
                if isinstance(a, Var):
                    self.uses.setdefault(a, []).append(_Use(op, block))
            for sub in op.regions:
                self.parent[id(sub)] = (op, block)
                for k, y in enumerate(sub.yields):
                    if isinstance(y, Var):
                        self.uses.setdefault(y, []).append(_Use(None, sub, op, k))
                self._index(sub)

    def within(self, block: Region, top: Region) -> bool:
        """Is ``block`` the region ``top`` or a branch (of branches) of an ``if`` in it?"""
        while block is not top:
            owner = self.parent.get(id(block))
            if owner is None or owner[0].prim != "if":
                return False
            block = owner[1]
        return True

    def top_op(self, op: Op, block: Region, top: Region) -> Op:
        """The op of ``top`` that is ``op`` or holds it in a branch."""
        while block is not top:
            op, block = self.parent[id(block)]
        return op

    def visible(self, v: Var, block: Region) -> bool:
        """Can an op of ``block`` read ``v`` (defined in ``block`` or a region holding it)?"""
        if v not in self.defs:
            return True  # a parameter, or a loop's variable, of a region that holds the reads
        home = self.defs[v][1]
        while block is not home:
            owner = self.parent.get(id(block))
            if owner is None:
                return False
            block = owner[1]
        return True

    def constant(self, a: Atom) -> object:
        """The value ``a`` is known to have: a constant, or the negation of one (``-1``)."""
        return known_value(a, lambda v: self.defs.get(v, (None, None))[0])


_WHOLE = (("whole", True),)  # marks the read of the whole array's rows: not gathered again


def _row_gather(op: Op) -> bool:
    """``v[idx]``: rows of an array picked by a 1-D integer array (not known to have length 1)."""
    if op.prim != "getitem" or op.params or len(op.args) != 2:
        return False
    v, idx = op.args
    return isinstance(v, Var) and isinstance(idx, Var) and v.type is not None and v.type.ndim >= 1 \
        and not v.type.one(0) and idx.type is not None and idx.type.kind == "int" and idx.type.ndim == 1 \
        and not idx.type.one(0)


class _Rows:
    """The arrays whose reads are row gathers (``pushed``) and how to compute rows of them."""

    def __init__(self, body: Region) -> None:
        self.p = _Program(body)
        self.rules: dict[Var, RowRule | None] = {}
        pushed = {v for v in self.p.uses if self._candidate(v)}
        while True:
            kept = {v for v in pushed if all(self._fits(v, u, pushed) for u in self.p.uses[v])}
            if kept == pushed:
                break
            pushed = kept
        self.pushed = pushed

    # -- which arrays ------------------------------------------------------------------------
    def rule(self, v: Var) -> RowRule | None:
        """How ``v``'s rows come from its defining op's operands (``None``: they do not)."""
        if v in self.rules:
            return self.rules[v]
        op = self.p.defs[v][0]
        rule = None
        if op.prim == "if":
            rule = RowRule(())
        elif len(op.outs) == 1 and not op.regions:
            p = prim(op)
            rows = p.rows if p is not None and not p.side_effect else None
            rule = rows(op, self.p.constant) if rows is not None else None
            if rule is not None and rule.same_row_size:
                sizes = {self.row_size(op.args[k]) for k in rule.operands} | {self.row_size(v)}
                rule = rule if len(sizes) == 1 and None not in sizes else None
            if rule is not None and not rule.operands:
                rule = None
        self.rules[v] = rule
        return rule

    def _candidate(self, v: Var) -> bool:
        if v not in self.p.defs or v.type is None or v.type.ndim == 0 or v.type.one(0):
            return False
        return self.rule(v) is not None

    def _fits(self, v: Var, use: _Use, pushed: set[Var]) -> bool:
        """Can this read of ``v`` take its rows from gathered ones?"""
        block = self.p.defs[v][1]
        if use.op is None:  # yielded by a branch of an ``if`` whose result is pushed (not a result)
            return use.owner is not None and use.owner.prim == "if" and use.owner.outs[use.slot] in pushed \
                and sum(y is v for y in use.block.yields) == 1 and self.p.within(use.block, block)
        if _row_gather(use.op) and use.op.args[0] is v and use.block is block:
            return True
        if len(use.op.outs) != 1 or use.op.out not in pushed or not self.p.within(use.block, block):
            return False
        rule = self.rule(use.op.out)
        assert rule is not None
        return all(k in rule.operands for k, a in enumerate(use.op.args) if a is v)

    def row_size(self, a: Atom) -> int | None:
        """How many elements a row (all axes but the first) of ``a`` has, when the program says."""
        dims = self.dims(a)
        return prod(dims[1:]) if dims and all(d is not None for d in dims[1:]) else None  # type: ignore[misc]

    def dims(self, a: Atom) -> tuple[int | None, ...] | None:
        """``a``'s shape as far as constants in reshapes and ``@`` tell."""
        if not isinstance(a, Var) or a.type is None or a not in self.p.defs:
            return None
        op = self.p.defs[a][0]
        if op.prim == "reshape":
            dims = op.param("dims") or ()
            return tuple(d if isinstance(d, int) and d >= 0 else None for d in dims)
        if op.prim == "matmul" and a.type.ndim == 2:
            left, right = self.dims(op.args[0]), self.dims(op.args[1])
            return (left[0] if left else None, right[-1] if right and len(right) == 2 else None)
        rule = prim(op)
        if rule is not None and rule.shape_of_first:
            return self.dims(op.args[0])
        if rule is not None and broadcasts(rule):  # an operand's length where it is not broadcast
            out: list[int | None] = [None] * a.type.ndim
            for b in op.args:
                if isinstance(b, Var) and b.type is not None and b.type.is_array:
                    dims, shift = self.dims(b), a.type.ndim - b.type.ndim
                    for k, d in enumerate(dims or ()):
                        if d is not None and not b.type.one(k):
                            out[shift + k] = d
            return tuple(out)
        return None

    # -- the rewrite ---------------------------------------------------------------------------
    def roots(self, block: Region) -> list[Op]:
        """The row gathers in ``block`` of an array that is pushed."""
        return [op for op in block.ops if _row_gather(op) and op.args[0] in self.pushed
                and self.p.defs[op.args[0]][1] is block]  # type: ignore[index]



class _Clone:
    """New ops (with new values) for one read ``v[idx]``: the gathered branch and the whole one."""

    def __init__(self, rows: _Rows, idx: Var, count: Var) -> None:
        self.rows, self.idx, self.count = rows, idx, count
        self.made: list[Op] = []  # the original ops copied, for the check that nothing between them writes
        self.leaves: list[Var] = []  # the arrays whose rows are gathered

    def gathered(self, v: Atom, ops: list[Op], env: dict[Var, Atom], memo: dict[Var, Atom], loc: Loc | None) -> Atom:
        """``v[idx]`` computed from gathered rows of the operands, appended to ``ops``; ``loc``: where
        the op that reads it comes from."""
        if not isinstance(v, Var):
            return v
        if v in memo:
            return memo[v]
        if v not in self.rows.pushed:
            if v not in self.leaves:
                self.leaves.append(v)
            src = env.get(v, v)
            out: Atom = Var(hint=v.hint, type=get("getitem").result_type([src.type, self.idx.type], {}))
            ops.append(Op("getitem", [src, self.idx], [out], (), loc))  # type: ignore[list-item]
        else:
            op = self.rows.p.defs[v][0]
            self.made.append(op)
            out = Var(hint=v.hint, type=v.type)
            if op.prim == "if":
                for a in _read_from_outside(op):  # rows of what the branches read, made before them
                    if a in self.rows.pushed:
                        self.gathered(a, ops, env, memo, op.loc)
                slot = op.outs.index(v)
                regions = []
                for reg in op.regions:
                    inner_env, inner_memo = dict(env), dict(memo)
                    new = _copied(reg, inner_env)
                    new.yields = [self.gathered(reg.yields[slot], new.ops, inner_env, inner_memo, op.loc)]
                    regions.append(new)
                ops.append(Op("if", [env.get(a, a) if isinstance(a, Var) else a for a in op.args], [out], op.params,
                              op.loc, regions))
            else:
                rule = self.rows.rule(v)
                assert rule is not None
                args = [self.gathered(a, ops, env, memo, op.loc) if k in rule.operands
                        else env.get(a, a) if isinstance(a, Var) else a for k, a in enumerate(op.args)]
                if rule.count is not None:
                    args[rule.count] = self.count
                ops.append(Op(op.prim, args, [out], op.params, op.loc))
        memo[v] = out
        return out

    def whole(self, v: Atom, ops: list[Op], env: dict[Var, Atom]) -> Atom:
        """``v`` as written (its pushed ops copied with new values), appended to ``ops``."""
        if not isinstance(v, Var) or v not in self.rows.pushed:
            return env.get(v, v) if isinstance(v, Var) else v
        if v in env:
            return env[v]
        op = self.rows.p.defs[v][0]
        if op.prim == "if":
            for a in _read_from_outside(op):  # made before the branch, as written
                self.whole(a, ops, env)
            regions = []
            slot = op.outs.index(v)
            for reg in op.regions:
                inner = dict(env)
                new = _copied(reg, inner)
                new.yields = [self.whole(reg.yields[slot], new.ops, inner)]
                regions.append(new)
            new_op = Op("if", [env.get(a, a) if isinstance(a, Var) else a for a in op.args],
                        [Var(hint=v.hint, type=v.type)], op.params, op.loc, regions)
        else:
            rule = self.rows.rule(v)
            assert rule is not None
            args = [self.whole(a, ops, env) if k in rule.operands else env.get(a, a) if isinstance(a, Var) else a
                    for k, a in enumerate(op.args)]
            new_op = Op(op.prim, args, [Var(hint=v.hint, type=v.type)], op.params, op.loc)
        ops.append(new_op)
        env[v] = new_op.out
        return new_op.out


def _copied(reg: Region, env: dict[Var, Atom]) -> Region:
    """A copy of ``reg`` whose every value is new (``env`` maps the old ones to them)."""
    return fresh_copy(reg, env, lambda v: Var(hint=v.hint, type=v.type, role=v.role, base=v.base))


def _read_from_outside(op: Op) -> list[Var]:
    """The values the regions of ``op`` read that are defined outside them, in order."""
    inside = {v for reg in op.regions for v in defined_in(reg)}
    return list(dict.fromkeys(v for reg in op.regions for v in uses(reg) if v not in inside))


def gathered_rows(program: Program) -> Program:
    """``program`` with each row gather of an array made row by row replaced by a branch that
    computes only the gathered rows when they are fewer (see the module docstring)."""
    if not any(_row_gather(op) for op in walk(program.body)):
        return program  # nothing to gather: no copy
    body = copy_region(program.body)
    rows = _Rows(body)
    if not rows.pushed:
        return program
    changed = False
    for block in blocks(body):
        reads: dict[Var, list[Op]] = {}
        for root in rows.roots(block):
            reads.setdefault(root.args[0], []).append(root)  # type: ignore[arg-type]
        for v, roots in reads.items():
            replacements = _branches(rows, block, v, roots)
            if replacements is None:
                continue
            for root, ops in zip(roots, replacements):
                at = block.ops.index(root)
                block.ops[at:at + 1] = ops
            changed = True
    if not changed:
        return program
    out = replace(program, body=body)
    return dead_code(out)


def _branches(rows: _Rows, block: Region, v: Var, roots: list[Op]) -> list[list[Op]] | None:
    """The ops that replace each read ``v[idx]`` of ``roots`` (in program order): its row count,
    and an ``if`` between the gathered rows and the rows of the whole array.  The first read also
    makes the test, and its ``else`` the whole array, which it yields for the later reads (its
    ``then`` yields a stand-in: with the same test, they take their gathered branch too)."""
    test: Var | None = None
    whole: Var | None = None
    out: list[list[Op]] = []
    for root in roots:
        idx, loc = root.args[1], root.loc
        assert isinstance(idx, Var)
        used, n, length = Var(hint="rows", type=ROW_NUMBERS), Var(type=INT), Var(type=INT)
        clone = _Clone(rows, used, n)
        then, otherwise = Region(), Region()
        gathered = clone.gathered(v, then.ops, {}, {}, loc)
        if not clone.leaves:
            return None
        # each row once (``rows_used``), then read as ``idx`` reads it
        ops = [Op("shape", [clone.leaves[0]], [length], (("dim", 0),), loc),
               Op("rows_used", [idx, length], [used], (), loc), Op("shape", [used], [n], (("dim", 0),), loc)]
        where, picked_rows = Var(type=ROW_NUMBERS), Var(hint=root.out.hint, type=root.out.type)
        then.ops += [Op("row_positions", [idx, used, length], [where], (), loc),
                     Op("getitem", [gathered, where], [picked_rows], _WHOLE, loc)]
        then.yields = [picked_rows]
        array = whole if whole is not None else clone.whole(v, otherwise.ops, {})
        picked = Var(hint=root.out.hint, type=root.out.type)
        otherwise.ops.append(Op("getitem", [array, idx], [picked], _WHOLE, loc))
        otherwise.yields = [picked]
        # the ops the array is made of are in the read's block (or its branches), and nothing
        # between the first of them and the read may change state
        homes = [rows.p.defs[op.outs[0]][1] for op in clone.made]
        if not all(rows.p.within(home, block) for home in homes):
            return None  # made outside the branch that reads it
        made = {id(rows.p.top_op(op, home, block)) for op, home in zip(clone.made, homes)}
        start = min(k for k, op in enumerate(block.ops) if id(op) in made)
        if any(has_effect(op) for op in block.ops[start:block.ops.index(root)]):
            return None
        if not all(rows.p.visible(leaf, block) for leaf in clone.leaves):
            return None
        outs = [root.out]
        if test is None:
            test = _fewer(ops, clone.leaves, n, length, len(roots), loc)
            whole = Var(hint=v.hint, type=v.type)
            then.yields.append(then.yields[0])
            otherwise.yields.append(array)
            outs.append(whole)
        ops.append(Op("if", [test], outs, (), loc, [then, otherwise]))
        out.append(ops)
    return out


def _fewer(ops: list[Op], leaves: list[Var], n: Var, total: Var, reads: int, loc: Loc | None) -> Var:
    """``reads * n < len(leaves[0])`` (``total``), and every other leaf as long as the first,
    appended to ``ops``: fewer rows gathered than the whole array has, and no leaf that broadcasts
    (it has one row only when the code runs, and its rows would not exist)."""
    wanted = n
    if reads > 1:
        wanted = Var(type=INT)
        ops.append(Op("mul", [Const(reads), n], [wanted], (), loc))
    test = Var(type=BOOL)
    ops.append(Op("lt", [wanted, total], [test], (), loc))
    for leaf in leaves[1:]:
        length, same, both = Var(type=INT), Var(type=BOOL), Var(type=BOOL)
        ops += [Op("shape", [leaf], [length], (("dim", 0),), loc), Op("eq", [length, total], [same], (), loc),
                Op("and", [test, same], [both], (), loc)]
        test = both
    return test

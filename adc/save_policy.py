"""What the reverse sweep keeps for a loop: the one place that decides it.

Input: a loop (or a branch inside a loop) of the primal program, the forward-sweep copy of its
region, the reverse region built for it, and where it sits.  Output: a ``Plan`` (how its values are
kept: a preallocated ``record``, a growing ``tape``, or ``checkpoint`` with ``snapshots``) and, by
``restore``, the statements that keep and bring back the primal values the reverse region reads.

Values computable from loop invariants (reads of arrays never written, index arithmetic, anything
depending only on those) are recomputed; the others (the carried values at each iteration's start,
reads of arrays that are written, branch results) are kept.  A ``for i in range(n)`` loop at the
top level whose trip count is known before it starts keeps them in lists preallocated with that
count (``h_rec[i] = h`` … ``h = h_rec[i]``); other loops push onto a stack (one per kind: floats,
ints, arrays of one dtype and rank) and pop in the reverse sweep.  An array is kept by reference,
or as a copy when a later iteration writes its memory and the reverse sweep reads more than its
shape.  A checkpointed loop keeps no value per
iteration: ``checkpoint.py`` stores its carried state at a few steps (Revolve) and recomputes.
The reverse part of a kept call that has its call's arguments computes again what it can from
them (``computed_again``) instead of popping it (``calls.split``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .ir import Atom, Const, Op, Region, Var, copy_region, defined_in, uses, walk
from .memory import Memory, is_array
from .passes import substitute
from .prims import prim
from .prims.calls import RESIDUALS
from .types import Type


def shape_only(op: Op, k: int) -> bool:
    """Is argument ``k`` of ``op`` read only for its shape (reading the array later is always right)?"""
    p = prim(op)
    return p is not None and k in p.shape_args


def shaped_blank(op: Op) -> bool:
    """Does ``op`` make a new array from numbers and other arrays' shapes alone (``np.zeros(n)``,
    ``np.empty_like(x)``)?  Made again from the same arguments, it has the same shape."""
    p = prim(op)
    return p is not None and p.fresh and not op.regions and len(op.outs) == 1 and is_array(op.out) and all(
        k in p.shape_args or not is_array(a) for k, a in enumerate(op.args))


def free_vars(reg: Region, local: set[Var], shapes: bool = True) -> list[Var]:
    """Values read in ``reg`` but defined outside it, in order of first use; without ``shapes``,
    not those read only for their shape (any version of the array has the same shape)."""
    seen: dict[Var, None] = {}

    def visit(r: Region) -> None:
        for op in r.ops:
            for k, a in enumerate(op.args):
                if isinstance(a, Var) and a not in local and (shapes or not shape_only(op, k)):
                    seen.setdefault(a)
            for sub in op.regions:
                visit(sub)
        for y in r.yields:
            if isinstance(y, Var) and y not in local:
                seen.setdefault(y)

    visit(reg)
    return list(seen)


def tape_kind(v: Var) -> object:
    """What a tape or record of ``v`` holds: ``"float"``, ``"int"``, an array kind ``(dtype, ndim)``
    or ``"residuals"`` (the tuples of kept calls, ``calls.py``)."""
    t = v.type
    if t is not None and t.is_array:
        return (t.dtype, t.ndim)
    if t == RESIDUALS:
        return "residuals"
    return "float" if t is not None and t.kind == "float" else "int"


def tape_type(kind: object) -> Type:
    """The type of a tape of ``kind`` values: its ``dtype`` says whether it can hold floats (which
    carry derivatives: ``calls.holds_floats``)."""
    floats = kind == "float" or isinstance(kind, tuple) and str(kind[0]).startswith("float")
    return Type("tape", dtype="float64" if floats else "int64")


@dataclass
class Record:
    """Preallocated per-iteration records for a top-level ``for i in range(n)`` loop."""

    index: Var
    count: Var
    allocs: list[Op] = field(default_factory=list)


@dataclass
class Tapes:
    """One growing stack per kind of value the reverse sweep pops (floats, ints, arrays by dtype and
    rank), made before the forward sweep."""

    tapes: dict[object, Var] = field(default_factory=dict)
    allocs: list[Op] = field(default_factory=list)
    stacked: bool = False  # a kept function's: its caller's tapes (``calls.Stacks``), kinds fixed

    def kind(self, v: Var) -> object:
        """``tape_kind(v)``, or ``"bool"`` for a bool (a list of bools; on a kept function's
        stacks, which have no such kind, bools go on the ``int`` tape)."""
        kind = tape_kind(v)
        if kind == "int" and not self.stacked and v.type is not None and v.type.kind == "bool":
            return "bool"
        return kind

    def get(self, kind: object) -> Var:
        if kind not in self.tapes:
            hint = {"int": "itape", "bool": "btape", "float": "tape", "residuals": "rtape"}.get(
                kind, "atape")  # type: ignore[call-overload]
            self.tapes[kind] = Var(hint=hint, type=tape_type(kind), role="tmp")
            self.allocs.append(Op("tape", [], [self.tapes[kind]], (("kind", kind),)))
        return self.tapes[kind]


@dataclass(frozen=True)
class Plan:
    """How a loop's reverse gets the primal values it reads: ``"record"`` (lists preallocated with
    the trip count), ``"tape"`` (a growing stack) or ``"checkpoint"`` (``snapshots`` stored states,
    the rest recomputed)."""

    kind: str
    snapshots: int = 0


def plan(loop: Op, depth: int, top_level: bool, snapshots: int | None = None, stacked: bool = False) -> Plan:
    """What the reverse sweep keeps for ``loop`` (at loop nesting ``depth``; ``top_level``: its
    forward copy is a statement of the function body); ``snapshots``: checkpointing asked for;
    ``stacked``: the function is a kept callee whose tapes are its caller's (no records)."""
    simple = loop.prim == "for" and isinstance(loop.args[2], Const) and loop.args[2].value == 1 \
        and not loop.param("break")
    if snapshots is not None:
        return Plan("checkpoint", snapshots)
    if simple and depth == 0 and top_level and not stacked and loop.args[0] == Const(0):
        return Plan("record")
    return Plan("tape")


@dataclass
class Kept:
    """The values a reverse region reads that its forward region defines: ``taped`` are kept,
    the ops in ``recompute`` are run again at the start of the reverse region."""

    taped: list[Var]
    recompute: set[Op]
    defs: dict[Var, Op]
    shapes: set[Var] = field(default_factory=set)  # taped values ``rev`` reads only for their shape


def needed_values(fwd: Region, rev: Region, exclude: set[Var], memory: Memory, fresh: bool = False) -> Kept:
    """Which values ``rev`` reads from ``fwd`` are kept and which are recomputed; ``fresh``: new
    arrays too (``np.concatenate`` of available values), in a recursive function's reverse part,
    where a taped array would stay alive for the whole sweep, once per node of the recursion."""
    local = defined_in(fwd) - set(exclude)
    defs: dict[Var, Op] = {}
    for op in fwd.ops:
        for o in op.outs:
            defs[o] = op
    # an array made in the body may have another shape in every iteration (``A[1:, :j]``), and so
    # may a carried one (``y = np.concatenate([y, v])``): even a read of only its shape needs it
    # restored (a reference, ``Kept.shapes``), unless every iteration keeps its shape
    values = set(free_vars(rev, set(), shapes=False))
    needed = [v for v in free_vars(rev, set()) if v in local and (
        v in defs or v in values or (v in fwd.args and is_array(v) and not memory.keeps_shape(v)))]
    order = {v: i for i, v in enumerate(fwd.args)}
    for i, op in enumerate(fwd.ops):
        for o in op.outs:
            order[o] = len(fwd.args) + i
    taped: list[Var] = []
    recompute: set[Op] = set()
    blanks: set[Op] = set()  # made again for their shape alone: their values are not the forward sweep's

    def available(v: Atom, shape: bool = False) -> bool:
        """Can ``rev`` have ``v`` without keeping it (``shape``: ``rev`` reads only its shape)?"""
        if not isinstance(v, Var) or v not in local:
            return True  # constants and loop invariants
        if v in taped:
            return True
        op = defs.get(v)
        p = prim(op) if op is not None else None
        if p is None or p.side_effect:
            return False
        if op in recompute:
            return shape or op not in blanks
        if any(isinstance(a, Var) and memory.written(a) and (op not in memory.position or memory.written_after(op, a))
               for a in op.args):
            return False  # it reads an array written after it: reading it again may differ
        made_again = p.recomputable or (fresh and not p.calls and not op.regions and len(op.outs) == 1
                                        and is_array(op.out))
        if (not p.view and any(memory.written(o) for o in op.outs)) or not made_again:
            # it makes an array that is written later (computed again, it would miss the writes; a
            # view made again sees its base as it is then: the check of the arguments above covers
            # it), or it is not made again at all; but where only the shape is read, an array made
            # from shapes and numbers alone (``np.empty_like(x)``) made again has the same shape
            if not (shape and shaped_blank(op) and all(available(x) for x in op.args)):
                return False
            recompute.add(op)
            blanks.add(op)
            return True
        if all(available(x) for x in op.args):
            recompute.add(op)
            return True
        return False

    for v in sorted(needed, key=lambda v: order.get(v, -1)):
        if not available(v, shape=v not in values):
            if not (v in fwd.args or v in defs):
                continue  # defined in a nested region: restored there
            taped.append(v)
    for v in needed:  # recompute everything that became available through the taped values
        available(v, shape=v not in values)
    return Kept(taped, recompute, defs, {v for v in taped if v not in values})


def _rename(reg: Region, old: Var, new: Var) -> None:
    """Read ``new`` wherever ``reg`` reads ``old``, a value the reverse sweep made (only its own
    statements read it: they change in place, where the builder still sees them)."""
    for op in reg.ops:
        for sub in op.regions:
            _rename(sub, old, new)
        op.args = [new if a is old else a for a in op.args]
    reg.yields = [new if y is old else y for y in reg.yields]


def is_scalar(v: Atom) -> bool:
    return not isinstance(v, Var) or (v.type is not None and not v.type.is_array and v.type.kind in ("bool", "int", "float"))


def keep_decisions(fwd: Region, rev: Region, memory: Memory, exclude: set[Var] = frozenset()) -> list[Op]:
    """Keep the decision, not its operands: a statement at the top of ``rev`` that reads values
    of ``fwd`` which would be kept (not recomputed) and which nothing else in ``rev`` reads, and
    whose result is a ``bool`` (a comparison: which operand ``min`` picked) or stands for two or
    more of them, moves into ``fwd`` (after the definitions it reads), so the reverse sweep keeps
    its one result instead of its operands: ``t = closest <= dist`` keeps one bool per iteration,
    not two floats.  Only pure scalar statements move (computed on the same values in the forward
    sweep, the result is the same).  Returns the statements moved."""
    local = defined_in(fwd) - set(exclude)
    taped = set(needed_values(fwd, rev, exclude, memory).taped)
    position: dict[Var, int] = {a: 0 for a in fwd.args}
    for k, op in enumerate(fwd.ops):
        for o in op.outs:
            position[o] = k + 1
    made_in_rev = defined_in(rev)
    counts = uses(rev)
    moved: list[Op] = []
    for op in list(rev.ops):
        p = prim(op)
        if p is None or op.regions or p.side_effect or not p.recomputable or len(op.outs) != 1 \
                or p.render is not None or not is_scalar(op.out) or not all(is_scalar(a) for a in op.args):
            continue
        read = [a for a in dict.fromkeys(op.args) if isinstance(a, Var)]
        if any(a in made_in_rev or a not in local for a in read):
            continue  # it reads an adjoint, a value the reverse sweep made, or one from outside ``fwd``
        kept = [a for a in read if a in taped]  # the others are computed again from kept values
        if not kept or any(a not in position for a in read):
            continue  # nothing of ``fwd`` kept otherwise, or a value of a region nested in ``fwd``
        if op not in rev.ops:
            continue  # a copy of a statement moved already
        same = [o for o in rev.ops if o.prim == op.prim and o.args == op.args and o.params == op.params]
        if any(counts.get(a, 0) != op.args.count(a) * len(same) for a in kept):
            continue  # an operand the reverse sweep reads elsewhere: keeping it anyway, nothing gained
        if op.out.type.kind != "bool" and len(kept) < 2:
            continue
        rev.ops.remove(op)
        for o in same[1:]:  # the same statement again (the partials of ``min`` ask twice): its value
            rev.ops.remove(o)
            _rename(rev, o.out, op.out)
        if op.out.hint is None and op.out.type.kind == "bool":
            op.out.hint = "cond"  # kept: ``cond_rec[i] = cond``, ``cond = btape.pop()``
        at = max(position[a] for a in read)
        fwd.ops.insert(at, op)
        for v, k in position.items():  # the statements after ``at`` moved one down
            if k > at:
                position[v] = k + 1
        position[op.out] = at + 1
        local.add(op.out)
        moved.append(op)
    return moved


# the forward-sweep branch of each reverse-sweep branch of an ``if`` (``reverse._if`` fills it)
Branches = dict[Region, Region]


def _reads(reg: Region, v: Var) -> bool:
    return v in free_vars(reg, set())


def _branch_reading(v: Var, fwd: Region, rev: Region, branches: Branches) -> tuple[Region, Region] | None:
    """The branch of an ``if`` of ``rev`` that holds every read of ``v`` in ``rev``, with its
    forward-sweep branch; ``None`` if another statement, a loop or both branches read it."""
    if v in rev.yields:
        return None
    found = None
    for op in rev.ops:
        if v in op.args:
            return None
        reading = [r for r in op.regions if _reads(r, v)]
        if not reading:
            continue
        forward = branches.get(reading[0]) if op.prim == "if" and len(reading) == 1 else None
        if found is not None or forward is None or not any(r is forward for o in walk(fwd) for r in o.regions):
            return None
        found = (forward, reading[0])
    return found


def innermost_branch(v: Var, fwd: Region, rev: Region, branches: Branches) -> tuple[Region, Region]:
    """Where the reverse sweep reads ``v``: the innermost branches (forward, reverse) of nested
    ``if``s that hold all its reads, or ``(fwd, rev)`` themselves."""
    place = (fwd, rev)
    while (inner := _branch_reading(v, *place, branches)) is not None:
        place = inner
    return place


def keep_in_branch(where: tuple[Region, Region], push: Op, pop: Op) -> None:
    """Push at the end of the forward branch, after its own pushes, and pop at the start of the
    reverse one, before its own pops."""
    where[0].ops.append(push)
    where[1].ops.insert(0, pop)


def restore(fwd: Region, rev: Region, memory: Memory, tapes: Tapes, exclude: set[Var] = frozenset(),
            record: Record | None = None, loop: Op | None = None, fresh: bool = False,
            branches: Branches | None = None) -> None:
    """Make the primal values ``rev`` reads that ``fwd`` defines available at the start of
    ``rev``: recompute the cheap ones, keep the others at the end of ``fwd`` (on a tape, or in the
    lists of ``record``, indexed by the iteration) and bring them back.  ``loop``: the primal loop
    whose body ``fwd`` copies; ``fresh``: recompute new arrays too (``needed_values``).  Called for loop bodies,
    and for branches inside loops (elsewhere nothing is overwritten, so values stay in their
    variables).  A comparison the reverse reads on values it reads nowhere else is computed in
    ``fwd`` and kept instead of its operands (``keep_decisions``).  A number the reverse sweep reads
    only inside one branch of an ``if`` (``branches`` pairs them) is pushed at the end of the
    forward branch and popped at the start of the reverse one: kept only when that branch runs.
    A carried array read for its shape alone is read from ``loop``'s result."""
    if not tapes.stacked:  # a kept function's pushes and pops stay as its caller expects
        keep_decisions(fwd, rev, memory, exclude)
    kept = needed_values(fwd, rev, exclude, memory, fresh)
    defs = kept.defs
    pops: list[Op] = []
    pushes: list[Op] = []
    first: list[Op] = []  # pushes of the carried values: at the start of the iteration
    for v in kept.taped:
        loc = defs[v].loc if v in defs else None
        group = first if v in fwd.args else pushes
        value: Atom = v
        if v.type is not None and v.type.is_array and memory.written(v) and v not in kept.shapes \
                and not (loop is not None and v not in fwd.args and memory.new_in(v, loop)) \
                and not (loop is not None and v in fwd.args and not memory.written_after_start(v, loop)):
            # an array whose memory a later iteration writes: keep a copy of it (of its shape,
            # which no write changes, the array itself tells; memory every iteration of ``loop``
            # makes anew is written by no later one, and neither is an array the iteration starts
            # with when only arrays made during an iteration are written)
            value = Var(hint=v.hint, type=v.type)
            group.append(Op("acopy", [v], [value], loc=loc))
        if record is not None:
            store = Var(hint=f"{v.hint}_rec" if v.hint else "rec", type=Type("tape"), role="tmp")
            record.allocs.append(Op("record", [record.count], [store], (("kind", tapes.kind(v)),), loc))
            group.append(Op("setitem", [store, record.index, value], [], loc=loc))
            pops.append(Op("getitem", [store, record.index], [v], loc=loc))
            continue
        tape = tapes.get(tapes.kind(v))
        pair = (("pair", v.id),)  # the push and the pop of one value: ``passes.dead_stores`` drops both if unread
        push, pop = Op("push", [tape, value], [], pair, loc=loc), Op("pop", [tape], [v], pair, loc=loc)
        where = innermost_branch(v, fwd, rev, branches) if branches is not None and is_scalar(v) \
            and not any(v in op.args for op in kept.recompute) else (fwd, rev)
        if where[1] is not rev:
            keep_in_branch(where, push, pop)
            continue
        group.append(push)
        pops.append(pop)
    # pushes made inside the body (nested loops; kept calls whose residuals go on the tapes)
    # come first: the values pushed here go after them, so the pops below come before theirs
    nested = record is None and any(o.prim in ("push", "call_stacked") for o in walk(fwd))
    if first and not nested:
        fwd.ops = first + fwd.ops + pushes
    else:
        fwd.ops = fwd.ops + first + pushes
    recomputed = [op for op in fwd.ops if op in kept.recompute]
    rev.ops = pops[::-1] + recomputed + rev.ops
    if loop is not None:
        _shapes_from_results(fwd, rev, loop)


def _shapes_from_results(fwd: Region, rev: Region, loop: Op) -> None:
    """Where ``rev`` still reads a carried array of ``loop`` (not kept: for its shape alone, which
    every iteration keeps, ``same_shapes.py``), it reads the loop's result instead: a value of the
    block around the loop, which an enclosing reverse loop restores for each of its iterations,
    where the carried variable holds what the loop's last run left (another shape, if the loop
    starts from another shape each time)."""
    free = set(free_vars(rev, defined_in(rev) | set(rev.args)))
    head = 1 if loop.prim == "for" else 0
    subst: dict[Var, Atom] = {a: out for a, out in zip(fwd.args[head:], loop.outs)
                              if a in free and is_array(a) and is_array(out)}
    if subst:
        substitute(rev, subst)


# -- carried values the reverse sweep computes back instead of keeping ---------------------------
# ``sign = -sign`` and ``i += 1`` are undone exactly: the reverse loop carries the value at the end
# of each iteration and computes the one at its start (``-sign``, ``i - 1``), so nothing is kept.
_UNDO = {"neg": "neg", "add": "sub", "sub": "add"}
Path = tuple[Atom | None, str, list[Atom]]  # (the condition of the path or None, primitive, its other arguments)
Undone = dict[Var, tuple[Var, list[Path]]]  # carried value -> (its value at the iteration's end, how back)


def _undo_step(v: Var, y: Atom, ops: list[Op], inside: set[Var]) -> tuple[str, list[Atom]] | None:
    """How to get ``v`` back from ``y`` when ``y`` is ``v`` itself, ``-v``, or ``v`` plus or minus
    an integer that does not change in the loop (``inside``: what the loop body defines): the
    primitive and its arguments after the end value (``("copy", [])`` for ``v`` itself)."""
    if y is v:
        return "copy", []
    op = next((o for o in ops if y in o.outs), None)
    if op is None or op.prim not in _UNDO or v not in op.args or op.args.count(v) != 1:
        return None
    if op.prim == "neg":
        return "neg", []
    other = op.args[1] if op.args[0] is v else op.args[0]
    if op.prim == "sub" and op.args[1] is v:
        return None  # c - v
    if v.type is None or v.type.kind != "int" or (isinstance(other, Var) and other in inside):
        return None  # a float sum does not undo exactly
    return _UNDO[op.prim], [other]


def reads_through(value: Atom, v: Var, ops: list[Op]) -> bool:
    """Does ``value`` depend on ``v`` through the statements ``ops``?"""
    if value is v:
        return True
    op = next((o for o in ops if isinstance(value, Var) and value in o.outs), None)
    return op is not None and (bool(op.regions) or any(reads_through(a, v, ops) for a in op.args))


def undone(fwd: Region, v: Var, y: Atom) -> list[Path] | None:
    """For a number ``v`` carried by the loop whose forward body is ``fwd`` and which ends each
    iteration as ``y``: how the reverse sweep gets ``v`` back from ``y`` exactly, as ``(condition,
    primitive, arguments)`` per path (``condition`` ``None``: one path; else the two branches of
    an ``if`` on it, which must not depend on ``v``), or ``None``."""
    if not is_scalar(v) or v.type is None or v.type.kind not in ("int", "float"):
        return None
    inside = defined_in(fwd)
    step = _undo_step(v, y, fwd.ops, inside)
    if step is not None:
        return None if step[0] == "copy" else [(None, *step)]
    branch = next((o for o in fwd.ops if o.prim == "if" and y in o.outs), None)
    if branch is None or reads_through(branch.args[0], v, fwd.ops):
        return None
    m = branch.outs.index(y)
    steps = [_undo_step(v, r.yields[m], r.ops, inside) for r in branch.regions]
    if any(s is None for s in steps) or all(s[0] == "copy" for s in steps):  # type: ignore[index]
        return None
    return [(branch.args[0], *s) for s in steps]  # type: ignore[misc]


def undone_slots(fwd: Region, head: int, n: int, breaks: bool) -> Undone:
    """The numbers among the ``n`` a loop carries (its forward body ``fwd``, whose carried values
    start at argument ``head``) that its reverse computes back (``undone``), by their variable:
    the value each iteration ends with, and how; none for a loop that breaks.  Of values computed
    back under conditions that read each other (``if b > 0: a = -a`` and ``if a > 0: b = -b``),
    one is kept instead, until no condition reads another such value."""
    if breaks:
        return {}
    found: Undone = {}
    for k in range(n):
        v, y = fwd.args[head + k], fwd.yields[k]
        if isinstance(v, Var) and isinstance(y, Var):
            paths = undone(fwd, v, y)
            if paths is not None:
                found[v] = (y, paths)
    while True:
        guarded = {v: paths[0][0] for v, (_, paths) in found.items() if paths[0][0] is not None}
        tangled = [v for v, cond in guarded.items()
                   if any(u is not v and reads_through(cond, u, fwd.ops) for u in guarded)]
        if not tangled:
            return found
        del found[tangled[0]]


def computed_again(ops: list[Op], wanted: list[Var], memory: Memory) -> list[Op]:
    """The statements that compute residuals again in a reverse part that has its call's arguments
    (``Stacks.from_caller``) instead of popping them: copies of the statements among ``ops`` that
    compute the values of ``wanted`` from the function's arguments and constants alone, by
    recomputable statements (``n = cols.shape[0]``, ``n == 1``) and loops of such statements on
    numbers (``j = 0; while used & (1 << j): j += 1``), reading no array that the function writes
    (``memory``: the function's).  In the order of ``ops``."""
    made = {o: op for op in ops for o in op.outs}
    params = set(memory.program.params)
    known: dict[Var, bool] = {}

    def reads(op: Op) -> list[Atom]:
        return [*op.args, *(a for r in op.regions for a in free_vars(r, defined_in(r)))]

    def ok(v: Var) -> bool:
        if v in params:
            return True
        if v not in known:
            known[v] = False  # (a loop's own values, while it is being checked)
            op = made.get(v)
            known[v] = op is not None and _recomputable_again(op) and all(
                not isinstance(a, Var) or (ok(a) and not (is_array(a) and memory.written(a))) for a in reads(op))
        return known[v]

    need: set[Var] = set()

    def collect(v: Var) -> None:
        if v in params or v in need:
            return
        need.update(made[v].outs)
        for a in reads(made[v]):
            if isinstance(a, Var):
                collect(a)

    for v in wanted:
        if v in made and ok(v):
            collect(v)
    return [Op(op.prim, list(op.args), list(op.outs), op.params, op.loc, [copy_region(r) for r in op.regions])
            for op in ops if any(o in need for o in op.outs)]


def _recomputable_again(op: Op) -> bool:
    """May a reverse part run ``op`` again: a pure statement, or a loop or ``if`` of such?"""
    if op.regions:  # a loop or ``if`` on numbers only: no array made again
        return op.prim in ("if", "for", "while") and all(is_scalar(v) for v in op.outs) and all(
            _recomputable_again(o) and all(is_scalar(v) for v in o.outs) for r in op.regions for o in r.ops)
    p = prim(op)
    return bool(p is not None and p.recomputable and not p.side_effect and not p.calls)

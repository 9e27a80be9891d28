"""Array state: which array values share memory, and where that memory is written.

Input: a program.  Output: a ``Memory`` that answers, for an array value read by an op, whether the
memory behind it is written *after* that op ran (later in program order, or anywhere in a loop
around both).  Arrays are mutable in the IR (``y[i] = v`` writes into ``y``), so a statement that
reads an array whole sees it as it is at that moment; a derivative that reads it later (the reverse
sweep, a statement a pass moved) must not assume it is unchanged.  Views (slices, reshapes,
transposes, plain assignments) share the memory of the array they come from, and so do the results
of branches and loops with the values that flow into them.  The passes and both transforms ask
this module instead of assuming arrays are values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .errors import UnsupportedError
from .ir import Op, Program, Region, Var, first_carried
from .prims import prim


if TYPE_CHECKING:
    from .same_shapes import SameShapes


def is_view(op: Op) -> bool:
    """Does ``op``'s result share memory with its first argument?  Not a gather (``x[k]``, ``x[m]``
    with an index array or a mask), which NumPy copies."""
    p = prim(op)
    return p is not None and p.view and not (p.copies is not None and p.copies(op))


def writes(op: Op) -> bool:
    """Does ``op`` itself write into the memory of its first argument?"""
    p = prim(op)
    return p is not None and p.writes


def makes_new(op: Op) -> bool:
    """Does ``op`` itself return new memory (a new array, not a view of an argument)?"""
    p = prim(op)
    return p is not None and not p.view and (p.fresh or (p.render is None and not p.side_effect))


def reads_shape_only(op: Op, vs: "set[Var] | frozenset[Var]") -> bool:
    """Does ``op`` read the values ``vs`` only for their shape (``np.zeros_like(v)``), which no
    write changes?"""
    p = prim(op)
    return p is not None and all(k in p.shape_args for k, a in enumerate(op.args) if a in vs)


def is_array(v: object) -> bool:
    return isinstance(v, Var) and v.type is not None and v.type.is_array


@dataclass
class _Write:
    position: int
    loops: frozenset[Op]
    through: Var  # the value the write goes through (``y_new`` in ``y_new[i] = v``)


@dataclass
class Memory:
    """Alias classes of array values and the writes into each class, for one program."""

    program: Program
    parent: dict[Var, Var] = field(default_factory=dict)
    position: dict[Op, int] = field(default_factory=dict)
    loops: dict[Op, frozenset[Op]] = field(default_factory=dict)
    writes: dict[Var, list[_Write]] = field(default_factory=dict)
    # each array value: the loops whose every iteration makes it anew (``None``: memory that may
    # outlive an iteration, such as a parameter, a loop's carried value or a value a tape gives back)
    made_in: dict[Var, frozenset[Op] | None] = field(default_factory=dict)
    # the op that makes each value (one per value in the programs ``written_after`` is asked about;
    # a derivative program, which defines some values again in its reverse sweep, keeps the last)
    defs: dict[Var, Op] = field(default_factory=dict)
    carried_by: dict[Var, Op] = field(default_factory=dict)  # a loop body's arguments: their loop
    _members: dict[Var, list[Var]] | None = None
    _shapes: "SameShapes | None" = None

    def keeps_shape(self, v: Var) -> bool:
        """Does every iteration of its loop keep the shape of the carried array ``v``
        (``same_shapes.py``)?"""
        if self._shapes is None:
            from .same_shapes import SameShapes

            self._shapes = SameShapes(self.program)
        return self._shapes.keeps(v)

    def __post_init__(self) -> None:
        self._visit(self.program.body, frozenset())
        for op, pos in self.position.items():
            for a in written_args(op):
                if is_array(a):
                    self.writes.setdefault(self.root(a), []).append(_Write(pos, self.loops[op], a))

    # -- alias classes (union-find) ------------------------------------------------------------
    def root(self, v: Var) -> Var:
        while self.parent.get(v, v) is not v:
            v = self.parent[v]
        return v

    def _join(self, a: object, b: object) -> None:
        if is_array(a) and is_array(b):
            ra, rb = self.root(a), self.root(b)  # type: ignore[arg-type]
            if ra is not rb:
                self.parent[rb] = ra

    def _visit(self, region: Region, loops: frozenset[Op]) -> None:
        for op in region.ops:
            self.position[op] = len(self.position)
            self.loops[op] = loops
            inner = loops | {op} if op.prim in ("for", "while") else loops
            for sub in op.regions:
                for a in sub.args:  # carried from iteration to iteration of ``op`` (not made in it)
                    if is_array(a):
                        self.made_in[a] = loops
                        if op.prim in ("for", "while"):
                            self.carried_by[a] = op
                self._visit(sub, inner)
            for o in op.outs:
                self.defs[o] = op
            if is_view(op) and op.outs and op.args:
                self._join(op.args[0], op.out)
            self._join_slots(op)
            p = prim(op)
            new = op.regions or makes_new(op) or (p is not None and p.view and bool(op.args) and is_array(op.args[0]))
            for o in op.outs:
                if is_array(o):
                    self.made_in[o] = loops if new else None

    def _join_slots(self, op: Op) -> None:
        """A branch's or loop's array results may be any array that flows into their slot."""
        if op.prim == "if":
            for k, out in enumerate(op.outs):
                for reg in op.regions:
                    self._join(out, reg.yields[k])
        elif op.prim in ("for", "while"):
            head = first_carried(op)
            first = 1 if op.prim == "for" else 0
            for k, out in enumerate(op.outs):
                self._join(out, op.args[head + k])
                for reg in op.regions:
                    args = reg.args[first:] if reg is op.regions[-1] else reg.args
                    if k < len(args):
                        self._join(out, args[k])
                    if reg is op.regions[-1] and k < len(reg.yields):
                        self._join(out, reg.yields[k])

    # -- questions -----------------------------------------------------------------------------
    def written(self, v: Var) -> bool:
        """Is the memory behind ``v`` written anywhere in the program?"""
        return is_array(v) and self.root(v) in self.writes

    def written_after(self, op: Op, v: Var) -> bool:
        """Can the memory behind ``v`` change after ``op`` has run (so that reading ``v`` later
        does not give what ``op`` saw)?  A write earlier in a loop around both changes it in the
        next iteration, unless every iteration of that loop makes the memory anew.  A write into
        an array made during an iteration of a loop around both never reaches an array ``v``
        already held when that iteration began (``y_new = np.empty(n); y_new[i] = ...; y = y_new``
        leaves the ``y`` an iteration starts with as it is)."""
        if not is_array(v) or op not in self.position:
            return False
        return self._written_after(self.position[op], self.loops[op], v)

    def written_after_start(self, v: Var, loop: Op) -> bool:
        """Can the memory behind ``v``, a value ``loop``'s body starts an iteration with, change
        after that iteration has begun (in it, in a later one, or after the loop)?"""
        if loop not in self.position:
            return is_array(v)  # not a loop of this program: assume it may
        return is_array(v) and self._written_after(self.position[loop], self.loops[loop] | {loop}, v)

    def _written_after(self, here: int, around: frozenset[Op], v: Var) -> bool:
        for w in self.writes.get(self.root(v), ()):
            common = w.loops & around
            if w.position <= here and all(self.new_in(v, loop) for loop in common):
                continue  # before ``here``, and no loop around both runs it again on this memory
            if not any(self._made_during(w.through, loop) and self._held_before(v, loop) for loop in common):
                return True
        return False

    def _base(self, v: Var) -> Var:
        """The array ``v`` is a view of (through any number of views), or ``v`` itself."""
        while (op := self.defs.get(v)) is not None and is_view(op) and op.args and isinstance(op.args[0], Var):
            v = op.args[0]
        return v

    def _made_during(self, v: Var, loop: Op) -> bool:
        """Is ``v`` (a view of) an array made by a statement inside ``loop``: new memory in every
        iteration, made during the iteration it is used in?"""
        op = self.defs.get(self._base(v))
        return op is not None and not op.regions and makes_new(op) and loop in self.loops[op]

    def _held_before(self, v: Var, loop: Op) -> bool:
        """Is ``v`` (a view of) an array that existed before the current iteration of ``loop``
        began: a value the iteration starts with, or one made outside ``loop``?"""
        base = self._base(v)
        if base in self.carried_by:
            return self.carried_by[base] is loop or loop not in self.loops[self.carried_by[base]]
        op = self.defs.get(base)
        return loop not in self.loops[op] if op is not None else base in self.program.params

    def made_here(self, v: Var) -> bool:
        """Is every value sharing the memory of ``v`` made by the program (none is a parameter, or
        taken from a list or a tape)?"""
        return all(self.made_in.get(m) is not None for m in (v, *self._classes().get(self.root(v), ())))

    def members(self, v: Var) -> list[Var]:
        """The values known to share the memory of ``v`` (its alias class)."""
        return self._classes().get(self.root(v), [])

    def _classes(self) -> dict[Var, list[Var]]:
        """The members of each alias class, by root."""
        if self._members is None:
            self._members = {}
            for a in {*self.made_in, *self.parent, *self.parent.values()}:
                self._members.setdefault(self.root(a), []).append(a)
        return self._members

    def new_in(self, v: Var, loop: Op) -> bool:
        """Does every iteration of ``loop`` make the memory behind ``v`` anew (every value sharing it
        is a new array, a view of one, or a branch's or an inner loop's result, made inside ``loop``)?
        Then a write in one iteration never reaches what another iteration reads."""
        return all((made := self.made_in.get(m)) is not None and loop in made
                   for m in (v, *self._classes().get(self.root(v), ())))


def written_args(op: Op) -> list[object]:
    """The arguments ``op`` itself writes into: a store's first argument, and the adjoint buffers
    a kept call's reverse part adds its adjoints into (its last ``into`` arguments,
    ``calls.accumulated``)."""
    out = [op.args[0]] if writes(op) and op.args else []
    into = op.param("into") if op.prim in ("call", "call_stacked") else None
    if into:
        out += op.args[len(op.args) - into:]
    return out


def writes_memory(op: Op) -> bool:
    """Does ``op`` (or anything nested in it) write into an array?"""
    if written_args(op):
        return True
    return any(writes_memory(inner) for reg in op.regions for inner in reg.ops)


def _views(memory: Memory) -> dict[Var, Op]:
    """The op that made each view of an array."""
    return {op.out: op for op in memory.position if is_view(op) and op.outs and op.args and is_array(op.args[0])}


def _staleness(memory: Memory, made_by: dict[Var, Op]) -> Callable[[Var, Op], bool]:
    """``stale(value, use)``: is the memory of ``value`` (of a view: its own, which an element read
    does not share; of another value: that of the array it was made from) written after it was made
    and before ``use`` reads it (or anywhere in a loop around ``use`` but not around the value)?"""
    def stale(value: Var, use: Op) -> bool:
        made = made_by[value]
        start, inside = memory.position[made], memory.loops[made]
        here, around = memory.position[use], memory.loops[use]
        memory_of = memory.root(value if is_view(made) else made.args[0])
        return any(w.position > start and (w.position < here or bool((w.loops & around) - inside))
                   for w in memory.writes.get(memory_of, ()))
    return stale


# NumPy's reshapes are views where the array's strides allow it and copies elsewhere (``x.T.ravel()``)
_VIEW_OR_COPY = ("reshape", "ravel", "reshape_like")


def _numpy_view(op: Op) -> bool:
    """Is ``op`` a view of its argument in NumPy that adc computes as a new array (the primitive's
    ``numpy_view``)?"""
    p = prim(op)
    return p is not None and p.numpy_view is not None and p.numpy_view(op)


def check_views_read_after_writes(program: Program) -> None:
    """Raise an ``UnsupportedError`` where a value that may share memory with an array in NumPy but
    not in adc's code is read after a write into that array: a reshape (NumPy's is a view or a copy
    depending on the array's memory layout, known only at run time), ``np.diagonal`` or an einsum
    that only relabels axes (views in NumPy, new arrays in adc's and Numba's code), or a view of
    one of them."""
    memory = Memory(program)
    views = _views(memory)
    numpy_views = {op.out: op for op in memory.position if _numpy_view(op) and op.outs}
    made_by = {**views, **numpy_views}
    stale = _staleness(memory, made_by)
    for use in memory.position:
        for a in use.args:
            if isinstance(a, Var) and reads_shape_only(use, {a}):
                continue  # ``len(m)``, ``np.zeros_like(m)``: no write changes a shape
            value: object = a
            while isinstance(value, Var) and value in made_by:
                made = made_by[value]
                if (made.prim in _VIEW_OR_COPY or value in numpy_views) and stale(value, use):
                    what = "reshaped" if made.prim in _VIEW_OR_COPY else "taken"
                    raise UnsupportedError(
                        f"`{value.hint or 'this value'}` is read after a write into the array it was {what} from: "
                        + ("NumPy's reshape (ravel) is a view of the array or a copy depending on its memory "
                           "layout, so the value read depends on it" if made.prim in _VIEW_OR_COPY else
                           "it is a view of that array in NumPy but a new array in adc's code"), made.loc,
                        "to read the values from before the write, take a copy (`x.reshape(n).copy()`, "
                        "`x.flatten()`, `np.diagonal(x).copy()`); to read the written values, take it after the write")
                value = made.args[0]


def reread_views(program: Program) -> Program:
    """``program`` where a view read after its array may have been written is taken again from
    the array just before that read (``z = y[:2]; y[0] = 5.0; s = np.sum(z)`` reads ``y[:2]``
    again for the sum).  The same numbers — a view shows its array as it is — but now every view
    a statement reads was made after the last write into its memory, so the reverse sweep can give
    the view's adjoint to the array's at the right moment.  Simple ops are shared with
    ``program``; the regions are new."""
    memory = Memory(program)
    made_by = _views(memory)
    stale = _staleness(memory, made_by)

    def again(view: Var, use: Op, out: list[Op]) -> Var:
        made = made_by[view]
        base = made.args[0]
        if isinstance(base, Var) and base in made_by and stale(base, use):
            base = again(base, use, out)
        fresh = Var(hint=view.hint, type=view.type)
        out.append(Op(made.prim, [base, *made.args[1:]], [fresh], made.params, use.loc))
        return fresh

    def region(reg: Region) -> Region:
        ops: list[Op] = []
        for op in reg.ops:
            args = [again(a, op, ops) if isinstance(a, Var) and a in made_by and stale(a, op) else a
                    for a in op.args]
            if op.regions or args != op.args:
                op = Op(op.prim, args, op.outs, op.params, op.loc, [region(r) for r in op.regions])
            ops.append(op)
        return Region(list(reg.args), ops, list(reg.yields))

    return Program(program.name, list(program.params), region(program.body), program.out_tree, program.filename,
                   program.firstline, program.user_names, writes_arguments=program.writes_arguments)

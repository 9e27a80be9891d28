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

from .ir import Op, Program, Region, Var

# Ops whose array result shares memory with their first argument.
VIEWS = frozenset({"getitem", "reshape", "transpose", "ravel", "broadcast", "expand", "reshape_like", "copy"})
# Ops that write into the memory of their first argument.
WRITES = frozenset({"setitem", "index_add", "iadd"})


def is_array(v: object) -> bool:
    return isinstance(v, Var) and v.type is not None and v.type.is_array


@dataclass
class _Write:
    position: int
    loops: frozenset[Op]


@dataclass
class Memory:
    """Alias classes of array values and the writes into each class, for one program."""

    program: Program
    parent: dict[Var, Var] = field(default_factory=dict)
    position: dict[Op, int] = field(default_factory=dict)
    loops: dict[Op, frozenset[Op]] = field(default_factory=dict)
    writes: dict[Var, list[_Write]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._visit(self.program.body, frozenset())
        for op, pos in self.position.items():
            if op.prim in WRITES and is_array(op.args[0]):
                self.writes.setdefault(self.root(op.args[0]), []).append(_Write(pos, self.loops[op]))

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
                self._visit(sub, inner)
            if op.prim in VIEWS and op.outs and op.args:
                self._join(op.args[0], op.out)
            self._join_slots(op)

    def _join_slots(self, op: Op) -> None:
        """A branch's or loop's array results may be any array that flows into their slot."""
        if op.prim == "if":
            for k, out in enumerate(op.outs):
                for reg in op.regions:
                    self._join(out, reg.yields[k])
        elif op.prim in ("for", "while"):
            head = 3 if op.prim == "for" else 0
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
        does not give what ``op`` saw)?"""
        if not is_array(v) or op not in self.position:
            return False
        here, around = self.position[op], self.loops[op]
        return any(w.position > here or (w.loops & around) for w in self.writes.get(self.root(v), ()))


def writes_memory(op: Op) -> bool:
    """Does ``op`` (or anything nested in it) write into an array?"""
    if op.prim in WRITES:
        return True
    return any(writes_memory(inner) for reg in op.regions for inner in reg.ops)

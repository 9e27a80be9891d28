"""Leaving SSA: choose one Python name per branch/loop slot so generated code reads like the user's.

Input: a program, its ``Names`` and the values code generation folds into their use.  Output: the
same ``Names`` with values *shared*: the result of an ``if`` takes the name of the values its
branches yield, and a loop-carried value takes one name for its initial value, its region argument,
the value the body yields and the loop's result, so ``s = 0.0; for i in range(n): s = s + x[i]``
comes out as written.  Where two values end up with one name (by that sharing, or because every
version of an adjoint is called ``gx``) and one is assigned while the other is still live, one of
them gets a fresh name (``interference``); code generation then writes the copies that a branch's
or loop's slot needs, as one parallel assignment.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DifferentiationError
from .ir import Atom, Op, Program, Region, Var, walk
from .naming import Names

Path = tuple[tuple[int, int], ...]  # the branches a position sits in: (if-op number, 0 or 1)


@dataclass
class Site:
    """Where a value is assigned or read: a program-order position, the branches around it and the
    loops around it."""

    pos: int
    path: Path
    loops: tuple[Op, ...]


@dataclass
class Positions:
    """Program-order positions of definitions and uses (regions nest inside their op's span).

    Every definition counts (the reverse sweep assigns a primal value again when it restores it);
    a value folded into its use is never assigned, and its operands are read where it is used."""

    program: Program
    inline: dict[Var, Op] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.defined: dict[Var, int] = {p: -1 for p in self.program.params}  # first definition
        self.used: dict[Var, list[int]] = {}
        self.defs: dict[Var, list[Site]] = {p: [Site(-1, (), ())] for p in self.program.params}
        self.reads: dict[Var, list[Site]] = {}
        self.span: dict[Op, tuple[int, int]] = {}
        self.site_of: dict[Op, Site] = {}
        self.owner: dict[Var, Region] = {}
        self.n = 0
        self.path: Path = ()
        self.loops: tuple[Op, ...] = ()
        self.ifs = 0
        self.region(self.program.body)

    def here(self) -> Site:
        return Site(self.n, self.path, self.loops)

    def use(self, atoms: list[Atom]) -> None:
        for a in atoms:
            if isinstance(a, Var):
                self.used.setdefault(a, []).append(self.n)
                self.reads.setdefault(a, []).append(self.here())
                inner = self.inline.get(a)
                if inner is not None:  # folded into this use: its operands are read here too
                    self.use(inner.args)

    def define(self, v: Var, reg: Region, site: Site | None = None) -> None:
        if v in self.inline:
            return
        site = site or self.here()
        self.defined.setdefault(v, site.pos)
        self.owner.setdefault(v, reg)
        self.defs.setdefault(v, []).append(site)

    def region(self, reg: Region, args_site: Site | None = None) -> None:
        for a in reg.args:
            self.define(a, reg, args_site)
        self.n += 1
        for op in reg.ops:
            start = self.n
            self.site_of[op] = self.here()
            self.use(op.args)
            self.n += 1
            number = self.ifs
            self.ifs += 1
            outer_path, outer_loops = self.path, self.loops
            # a ``while``'s body arguments are its condition's, under the same names: they hold
            # their values from where the condition starts (a write there overwrites them)
            condition = Site(start + 1, outer_path, outer_loops + (op,)) if op.prim == "while" else None
            for k, sub in enumerate(op.regions):
                if op.prim == "if":
                    self.path = outer_path + ((number, k),)
                elif op.prim in ("for", "while"):
                    self.loops = outer_loops + (op,)
                self.region(sub, condition if k > 0 else None)
                self.path, self.loops = outer_path, outer_loops
            self.n += 1
            for o in op.outs:
                self.define(o, reg)
            self.span[op] = (start, self.n)
            self.n += 1  # later statements read strictly after this definition
        self.use(reg.yields)
        self.n += 1

    def uses_after(self, var: Var, pos: int) -> bool:
        return any(u > pos for u in self.used.get(var, []))

    def live_ranges(self, var: Var) -> list[tuple[int, int, Path]]:
        """``(from, to, path)`` for each read of ``var``: from the definition it reads (the last one
        before it) to the read, or to the end of every loop the read is in and the definition is
        not (the next iteration reads it again); ``path`` is where the range ends."""
        defs = self.defs.get(var, [])
        out = []
        for r in self.reads.get(var, []):
            before = [d for d in defs if d.pos < r.pos]
            d = max(before, key=lambda s: s.pos) if before else Site(-1, (), ())
            end, path = r.pos, r.path
            for loop in r.loops:
                if loop not in d.loops:
                    end = max(end, self.span[loop][1])
                    path = self.site_of[loop].path if end == self.span[loop][1] else path
                    break  # the outermost such loop spans the inner ones
            out.append((d.pos, end, path))
        return out


def _reaches(at: Path, to: Path) -> bool:
    """Can control flow go from a position in branches ``at`` to a later one in branches ``to``?
    Not from one branch of an ``if`` into the other."""
    branch = dict(at)
    return all(branch.get(number, k) == k for number, k in to)


def coalesce(program: Program, names: Names, inline: dict[Var, Op] | None = None) -> Positions:
    """Share names between the values of each branch/loop slot where that reads well; ``inline``
    holds the values code generation folds into their use (their operands are read there).
    Then give a fresh name to any value assigned while another value of its name is still live."""
    pos = Positions(program, inline or {})
    _region(program.body, names, pos)
    separate_interfering(program, names, pos)
    return pos


def separate_interfering(program: Program, names: Names, pos: Positions) -> None:
    """Make every assignment safe: a value assigned while another value of the same name is still
    to be read (on some path) gets a fresh name.  The arguments of one loop slot (a ``while``'s
    condition and body) and the loop's result for it stay together; parameters keep their names."""
    units = _slot_units(program)
    fixed = set(program.params)
    ranges = {v: pos.live_ranges(v) for v in pos.defs}
    for _ in range(len(pos.defs) + 1):  # each renaming gives a unit a name of its own
        clash = _first_clash(names, pos, units, ranges)
        if clash is None:
            return
        writer, victim, again = clash
        first, second = (victim, writer) if again else (writer, victim)
        target = first if not (units.get(first, [first])[0] in fixed) else second
        members = units.get(target, [target])
        if any(m in fixed for m in members):
            raise DifferentiationError(f"internal error: cannot name the values of {program.name} apart "
                                       f"({names[writer]} would overwrite a value still needed)")
        base = target.hint if target.role == "primal" and target.hint and len(members) == 1 else names[target]
        fresh = names.namer.fresh(base, own=base == target.hint)
        for m in members:
            names.names[m] = fresh
    raise DifferentiationError(f"internal error: the values of {program.name} could not be named apart")


def _slot_units(program: Program) -> dict[Var, list[Var]]:
    """The values that must share a name: one slot of a loop, in its condition and body, and the
    loop's result for it.  (With the result named apart, the body's last assignment of each slot
    goes to the arguments' name, which nothing reads before the copy after the loop: two slots
    named alike both wrote it, ``t3, t3 = 0.5, 2.0``, and the copy read the second; fuzz seed 463.)"""
    units: dict[Var, list[Var]] = {}
    for op in walk(program.body):
        if op.prim not in ("for", "while"):
            continue
        head = 1 if op.prim == "for" else 0
        body = op.regions[-1]
        for k in range(len(op.outs)):
            members = [body.args[head + k]] + ([op.regions[0].args[k]] if op.prim == "while" else []) + [op.outs[k]]
            for m in list(members):  # a region two loop ops share (a checkpointed loop run again): one unit
                members += [o for o in units.get(m, []) if o not in members]
            for m in members:
                units[m] = members
    return units


def _first_clash(names: Names, pos: Positions, units: dict[Var, list[Var]],
                 ranges: dict[Var, list[tuple[int, int, Path]]]) -> tuple[Var, Var, bool] | None:
    """The first assignment (in program order) that overwrites another value of its name that is
    still live: ``(writer, victim, again)``, ``again`` when it is a re-assignment of ``writer``."""
    by_name: dict[object, list[Var]] = {}
    for v in pos.defs:
        by_name.setdefault(names.key(v), []).append(v)
    found: list[tuple[int, int, Var, Var, bool]] = []
    for group in by_name.values():
        if len(group) < 2:
            continue
        for w in group:
            for k, site in enumerate(pos.defs[w]):
                for v in group:
                    if v is w or (w in units and v in units[w]):
                        continue
                    if any(start <= site.pos < end and _reaches(site.path, path) for start, end, path in ranges[v]):
                        found.append((site.pos, w.id, w, v, k > 0))
                        break
    if not found:
        return None
    _, _, writer, victim, again = min(found, key=lambda f: (f[0], f[1]))
    return writer, victim, again


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

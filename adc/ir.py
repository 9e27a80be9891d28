"""The SSA intermediate representation shared by every stage.

Input: nothing (this is the bottom layer). Output: the data types ``Var``, ``Const``, ``Op``,
``Region`` and ``Program``, and ``print_program`` which renders a program as the textbook
evaluation trace (``v0 = x1``, ``v2 = log(v0)``, ...).

A program is a list of three-address statements ``outs = prim(args; params)``.  Control flow is
structured: an op may own regions (``if`` owns a then- and an else-region, ``for``/``while`` own a
body) whose ``yields`` become the op's results, so there are no phi nodes and no raw CFG.  Every op
carries the source location it came from.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Union

from .types import Type

_ids = itertools.count()


@dataclass(frozen=True)
class Loc:
    """A position in the user's source: file, 1-based line, 0-based column, and the line's text."""

    filename: str
    line: int
    col: int
    text: str


@dataclass(eq=False)
class Var:
    """One SSA value.

    ``hint`` is the user's variable name (or ``None`` for a temporary).  Derivative values point at
    the primal value they belong to through ``base`` and say what they are through ``role``
    (``"tangent"`` or ``"adjoint"``); the naming module turns that into ``dx`` / ``gx``.
    """

    hint: str | None = None
    type: Type | None = None
    role: str = "primal"
    base: "Var | None" = None
    id: int = field(default_factory=lambda: next(_ids))

    def __repr__(self) -> str:
        return f"Var({self.hint or ''}#{self.id})"


@dataclass(frozen=True)
class Const:
    """A literal number (or bool) in the program."""

    value: float | int | bool

    @property
    def type(self) -> Type:
        from .types import scalar_of

        return scalar_of(self.value)


Atom = Union[Var, Const]


@dataclass(eq=False)
class Op:
    """``outs = prim(args; params)``, possibly owning nested regions (``if``, ``for``, ``while``)."""

    prim: str
    args: list[Atom]
    outs: list[Var]
    params: tuple[tuple[str, object], ...] = ()
    loc: Loc | None = None
    regions: list["Region"] = field(default_factory=list)

    @property
    def out(self) -> Var:
        (out,) = self.outs
        return out

    def param(self, key: str, default: object = None) -> object:
        return dict(self.params).get(key, default)


@dataclass(eq=False)
class Region:
    """A block of ops with block arguments and the values it yields to its owner."""

    args: list[Var] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    yields: list[Atom] = field(default_factory=list)


@dataclass(eq=False)
class Program:
    """A function in SSA form: parameters, a body region whose yields are the outputs.

    ``out_tree`` records the shape of the returned value: ``None`` for a single value, or the
    number of elements of a returned tuple.
    """

    name: str
    params: list[Var]
    body: Region
    out_tree: int | None = None
    filename: str = "<unknown>"
    firstline: int = 1
    user_names: set[str] = field(default_factory=set)
    result: Any = None  # the primal's returned structure (a ``trees.TreeDef``), for the API
    # global and closure arrays read, as (globals dict or closure cell, name): the last inputs
    captured: list[tuple[Any, str]] = field(default_factory=list)
    # the function writes into an argument array (on a copy: ``frontend_arrays.copy_written_arguments``)
    writes_arguments: bool = False

    @property
    def outputs(self) -> list[Atom]:
        return self.body.yields


def copy_region(region: Region, args: Callable[[Op], list[Atom]] | None = None) -> Region:
    """A copy of ``region`` with new ops and nested regions over the same values, for a pass that
    rewrites a program it does not own; ``args(op)``: the copy's arguments of ``op``."""
    return Region(list(region.args),
                  [Op(op.prim, list(op.args) if args is None else args(op), list(op.outs), op.params, op.loc,
                      [copy_region(r, args) for r in op.regions]) for op in region.ops],
                  list(region.yields))


def fresh_copy(region: Region, env: dict[Any, Any], fresh: Callable[[Var], Var]) -> Region:
    """A copy of ``region`` in which every value it defines is a new one (``fresh(old)``, recorded in
    ``env``, which also maps the values it reads), its comment markers dropped."""
    def new(v: Var) -> Var:
        env[v] = made = fresh(v)
        return made

    def atom(a: Any) -> Any:
        return env.get(a, a) if isinstance(a, Var) else a

    out = Region([new(a) for a in region.args])
    for op in region.ops:
        if op.prim != "comment":
            regions = [fresh_copy(r, env, fresh) for r in op.regions]
            out.ops.append(Op(op.prim, [atom(a) for a in op.args], [new(o) for o in op.outs], op.params, op.loc,
                              regions))
    out.yields = [atom(y) for y in region.yields]
    return out


def mentions(op: Op, v: Var) -> bool:
    """Does ``op`` (with its nested regions) read, define or yield ``v``?"""
    return mentions_any(op, {v})


def mentions_any(op: Op, vs: set[Var]) -> bool:
    """Does ``op`` (with its nested regions) read, define or yield one of ``vs``?"""
    return any(isinstance(a, Var) and a in vs for a in op.args) or any(o in vs for o in op.outs) or any(
        any(isinstance(a, Var) and a in vs for a in (*r.args, *r.yields)) or any(mentions_any(o, vs) for o in r.ops)
        for r in op.regions)


def mentioned(op: Op) -> set[Var]:
    """The values ``op`` (with its nested regions) reads, defines or yields."""
    found = {a for a in op.args if isinstance(a, Var)} | set(op.outs)
    for r in op.regions:
        found.update(r.args)
        found.update(y for y in r.yields if isinstance(y, Var))
        for inner in r.ops:
            found |= mentioned(inner)
    return found


def first_carried(op: Op) -> int:
    """Where a ``for``'s or ``while``'s carried values start among its arguments (after a ``for``'s
    start, stop and step)."""
    return 3 if op.prim == "for" else 0


def known_value(a: Atom, defining: Callable[[Var], "Op | None"]) -> object:
    """The value ``a`` is known to have when compiling: a constant, or the negation of one (``-1``,
    which the front end writes as an op); ``None`` if not known.  ``defining(v)``: ``v``'s op."""
    if isinstance(a, Const):
        return a.value
    op = defining(a) if isinstance(a, Var) else None
    if op is not None and op.prim == "neg" and isinstance(op.args[0], Const):
        return -op.args[0].value
    return None


def walk(region: Region) -> Iterator[Op]:
    """Every op of ``region`` and of its nested regions, in program order (pre-order)."""
    for op in region.ops:
        yield op
        for sub in op.regions:
            yield from walk(sub)


def blocks(region: Region) -> list[Region]:
    """``region`` and every region nested in it, in program order (pre-order)."""
    return [region] + [sub for op in walk(region) for sub in op.regions]


def uses(region: Region, nested: bool = True) -> dict[Var, int]:
    """How many times each var is read in ``region`` (args and yields; with ``nested``, also in
    the regions its ops own)."""
    counts: dict[Var, int] = {}

    def visit(reg: Region) -> None:
        for op in reg.ops:
            for a in op.args:
                if isinstance(a, Var):
                    counts[a] = counts.get(a, 0) + 1
            if nested:
                for sub in op.regions:
                    visit(sub)
        for y in reg.yields:
            if isinstance(y, Var):
                counts[y] = counts.get(y, 0) + 1

    visit(region)
    return counts


def defined_in(region: Region) -> set[Var]:
    """Every value defined in ``region``: its arguments and results, nested regions included."""
    out: set[Var] = set(region.args)
    for op in region.ops:
        out.update(op.outs)
        for sub in op.regions:
            out |= defined_in(sub)
    return out


def definitions(region: Region) -> dict[Var, int]:
    """How many statements in ``region`` (nested regions included) assign each value: more than one
    for a primal value the reverse sweep recomputes or restores from a record."""
    counts: dict[Var, int] = {}
    for op in walk(region):
        for o in op.outs:
            counts[o] = counts.get(o, 0) + 1
    return counts


def number_values(program: Program) -> dict[Var, int]:
    """The trace numbering ``v0, v1, ...``: parameters first, then every result in program order."""
    numbering: dict[Var, int] = {}

    def add(v: Var) -> None:
        if v not in numbering:
            numbering[v] = len(numbering)

    for p in program.params:
        add(p)

    def visit(reg: Region) -> None:
        for op in reg.ops:
            for sub in op.regions:
                for a in sub.args:
                    add(a)
                visit(sub)
            for o in op.outs:
                add(o)

    visit(program.body)
    return numbering

"""Checking a program's structure: run after every stage and pass in the tests.

Input: a ``Program``.  Output: nothing, or ``IRError`` naming the first broken invariant and the
op (printed with its source location).  Checked: every primitive is known; structured ops have
the regions, arguments and yields their slots need; every value has a type; every value read was
defined earlier (by a parameter, a region argument or an earlier statement — in a derivative
program a value a nested region defines may be read after it, as Python's function scope allows;
with ``strict`` (programs the front end made) only values visible on every path); no value of a
program made by the front end is defined twice.
"""
from __future__ import annotations

from .ir import Atom, Op, Program, Region, Var, definitions
from .prims import PRIMS

STRUCTURED = {"if": 2, "for": 1, "while": 2}
MARKERS = {"comment"}


class IRError(AssertionError):
    """A program breaks an invariant of the IR (a bug in adc, never in user code)."""


def verify(program: Program, strict: bool = False) -> None:
    """Raise ``IRError`` if ``program`` is malformed (see the module docstring)."""
    if strict:
        twice = [v for v, n in definitions(program.body).items() if n > 1]
        if twice:
            raise IRError(f"{program.name}: {twice[0]!r} is defined {definitions(program.body)[twice[0]]} times")
    seen: set[Var] = set(program.params)
    for p in program.params:
        _typed(p, None, program)
    _region(program, program.body, seen, strict)


def _fail(program: Program, op: Op | None, what: str) -> IRError:
    where = ""
    if op is not None:
        where = f" in `{op.prim}`"
        if op.loc is not None:
            where += f" (line {op.loc.line}: {op.loc.text.strip()})"
    return IRError(f"{program.name}: {what}{where}")


def _typed(v: Var, op: Op | None, program: Program) -> None:
    if v.type is None:
        raise _fail(program, op, f"{v!r} has no type")


def _read(a: Atom, seen: set[Var], op: Op | None, program: Program) -> None:
    if isinstance(a, Var) and a not in seen:
        raise _fail(program, op, f"{a!r} is read before it is defined")


def _region(program: Program, region: Region, seen: set[Var], strict: bool) -> set[Var]:
    """Check ``region`` with ``seen`` visible on entry; return what is visible after it."""
    visible = set(seen) | set(region.args)
    for op in region.ops:
        if op.prim not in PRIMS and op.prim not in STRUCTURED and op.prim not in MARKERS:
            raise _fail(program, op, f"unknown primitive `{op.prim}`")
        for a in op.args:
            _read(a, visible, op, program)
        if op.prim in STRUCTURED:
            inner = _structured(program, op, visible, strict)
            if not strict:
                visible |= inner
        elif op.regions:
            raise _fail(program, op, "a simple statement owns regions")
        for o in op.outs:
            _typed(o, op, program)
        visible |= set(op.outs)
    for y in region.yields:
        _read(y, visible, None, program)
    return visible


def _structured(program: Program, op: Op, visible: set[Var], strict: bool) -> set[Var]:
    """Check the slots of an ``if``/``for``/``while`` and its regions; return what they define."""
    if len(op.regions) != STRUCTURED[op.prim]:
        raise _fail(program, op, f"{len(op.regions)} regions, expected {STRUCTURED[op.prim]}")
    n = len(op.outs)
    inner: set[Var] = set()
    if op.prim == "if":
        if len(op.args) != 1:
            raise _fail(program, op, "an `if` takes one condition")
        for reg in op.regions:
            if reg.args or len(reg.yields) != n:
                raise _fail(program, op, f"a branch yields {len(reg.yields)} values for {n} results")
            inner |= _region(program, reg, visible, strict)
        return inner
    if op.prim == "for":
        body = op.regions[0]
        if len(op.args) != 3 + n or len(body.args) != 1 + n or len(body.yields) not in (n, n + 1):
            raise _fail(program, op, f"a `for` with {n} results has {len(op.args) - 3} initial values, "
                                     f"{len(body.args) - 1} carried arguments and {len(body.yields)} yields")
        return _region(program, body, visible, strict)
    cond, body = op.regions
    if len(op.args) != n or len(cond.args) != n or len(body.args) != n or len(cond.yields) != 1 \
            or len(body.yields) not in (n, n + 1):
        raise _fail(program, op, f"a `while` with {n} results has {len(op.args)} initial values, "
                                 f"{len(cond.args)}/{len(body.args)} region arguments and "
                                 f"{len(cond.yields)}/{len(body.yields)} yields")
    inner |= _region(program, cond, visible, strict)
    inner |= _region(program, body, visible | (inner if not strict else set()), strict)
    return inner

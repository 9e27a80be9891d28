"""Clean-up passes on derivative programs, run between the transforms and code generation.

Input: a ``Program``.  Output: the same program, simplified in place: ``dead_code`` removes pure
statements whose results nothing reads (partials of inactive arguments, primal values the reverse
sweep does not need) and section comments left with nothing under them.
"""
from __future__ import annotations

from .ir import Op, Program, Region, Var

# Ops with effects that must stay even when their results are unused.
EFFECTFUL = {"comment"}


def _live_uses(region: Region, live: set[Var]) -> None:
    for y in region.yields:
        if isinstance(y, Var):
            live.add(y)


def dead_code(program: Program) -> Program:
    """Remove statements whose results are never read."""
    live: set[Var] = set()
    _live_uses(program.body, live)
    sweep(program.body, live)
    drop_empty_comments(program.body)
    return program


def sweep(region: Region, live: set[Var]) -> None:
    """Walk ``region`` backwards keeping the ops that define live values (or have effects)."""
    kept: list[Op] = []
    for op in reversed(region.ops):
        handler = STRUCTURED.get(op.prim)
        if handler is not None:
            if handler(op, live):
                kept.append(op)
            continue
        if op.prim in EFFECTFUL or any(o in live for o in op.outs):
            kept.append(op)
            for a in op.args:
                if isinstance(a, Var):
                    live.add(a)
    region.ops = kept[::-1]


def drop_empty_comments(region: Region) -> None:
    ops = region.ops
    region.ops = [op for i, op in enumerate(ops)
                  if op.prim != "comment" or (i + 1 < len(ops) and ops[i + 1].prim != "comment")]
    for op in region.ops:
        for sub in op.regions:
            drop_empty_comments(sub)


STRUCTURED: dict[str, object] = {}

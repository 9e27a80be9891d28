"""An interpreter for programs, used for the trace tables and as an oracle in tests.

Input: a program and concrete argument values.  Output: the value of every SSA value (``env``) and
the program's outputs.  It evaluates each primitive with the rule table's ``impl``; it is slow and
simple on purpose: generated code, not this, is what users run.
"""
from __future__ import annotations

from typing import Any, Sequence

from .ir import Atom, Const, Op, Program, Region, Var
from .rules import evaluate as eval_prim


class Interpreter:
    def __init__(self) -> None:
        self.env: dict[Var, Any] = {}

    def value(self, a: Atom) -> Any:
        return a.value if isinstance(a, Const) else self.env[a]

    def region(self, reg: Region) -> list[Any]:
        for op in reg.ops:
            self.op(op)
        return [self.value(y) for y in reg.yields]

    def op(self, op: Op) -> None:
        handler = STRUCTURED.get(op.prim)
        if handler is not None:
            handler(self, op)
        elif op.prim == "comment":
            return
        else:
            self.env[op.out] = eval_prim(op.prim, [self.value(a) for a in op.args])


STRUCTURED: dict[str, Any] = {}


def run(program: Program, args: Sequence[Any]) -> tuple[list[Any], dict[Var, Any]]:
    """Evaluate ``program`` on ``args``: (outputs, value of every SSA value)."""
    interp = Interpreter()
    interp.env.update(zip(program.params, args))
    outs = interp.region(program.body)
    return outs, interp.env

"""An interpreter for programs, used for the trace tables and as an oracle in tests.

Input: a program and concrete argument values.  Output: the value of every SSA value (``env``) and
the program's outputs.  It evaluates each primitive with its primitive's ``impl``; it is slow and
simple on purpose: generated code, not this, is what users run.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .ir import Atom, Const, Op, Program, Region, Var
from .prims import evaluate as eval_prim


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
            value = eval_prim(op.prim, [self.value(a) for a in op.args], dict(op.params))
            if len(op.outs) > 1:  # a call with several results
                self.env.update(zip(op.outs, value))
            elif op.outs:
                self.env[op.out] = value

    def enter(self, reg: Region, values: Sequence[Any]) -> list[Any]:
        self.env.update(zip(reg.args, values))
        return self.region(reg)


def _if(interp: Interpreter, op: Op) -> None:
    then, orelse = op.regions
    outs = interp.region(then if interp.value(op.args[0]) else orelse)
    interp.env.update(zip(op.outs, outs))


def _for(interp: Interpreter, op: Op) -> None:
    start, stop, step, *inits = [interp.value(a) for a in op.args]
    body = op.regions[0]
    brk = bool(op.param("break"))
    carried = list(inits)
    for i in range(int(start), int(stop), int(step)):
        ys = interp.enter(body, [i, *carried])
        carried = ys[:len(carried)]
        if brk and ys[-1]:
            break
    interp.env.update(zip(op.outs, carried))


def _while(interp: Interpreter, op: Op) -> None:
    cond, body = op.regions
    brk = bool(op.param("break"))
    carried = [interp.value(a) for a in op.args]
    while interp.enter(cond, carried)[0]:
        ys = interp.enter(body, carried)
        carried = ys[:len(carried)]
        if brk and ys[-1]:
            break
    interp.env.update(zip(op.outs, carried))


STRUCTURED: dict[str, Any] = {"if": _if, "for": _for, "while": _while}


def run(program: Program, args: Sequence[Any]) -> tuple[list[Any], dict[Var, Any]]:
    """Evaluate ``program`` on ``args``: (outputs, value of every SSA value)."""
    interp = Interpreter()
    interp.env.update(zip(program.params, args))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf/nan are shown, not warned about
        outs = interp.region(program.body)
    return outs, interp.env

"""Reverse mode: a primal ``Program`` → its adjoint (VJP) ``Program``.

Input: a typed program, the indices of the parameters to differentiate, and how the output is
seeded (``1.0`` for a gradient, or extra cotangent parameters for ``vjp``).  Output: a program
``f_grad(*params[, *cotangents]) -> (*outputs, *param_adjoints)`` made of a forward sweep (the
primal statements) followed by the reverse sweep: for each active primal statement, in reverse
order, ``g arg_i += g out * partial_i`` with partials from the one rule table.  Only values that are
varied (depend on a differentiated input) get adjoints.
"""
from __future__ import annotations

from .activity import varied
from .builder import Builder
from .ir import Atom, Const, Op, Program, Var
from .rules import RULES
from .zeros import zero_like


class Reverse:
    def __init__(self, program: Program, wrt: list[int]) -> None:
        self.program = program
        self.wrt = wrt
        self.active = varied(program, wrt)
        self.b = Builder(simplify=True)
        self.adjoint: dict[Var, Atom] = {}

    # -- accumulation --------------------------------------------------------------------------
    def accumulate(self, var: Var, contribution: Atom, mark: int) -> None:
        """``g var += contribution``; the first contribution defines ``g var``."""
        old = self.adjoint.get(var)
        if old is None:
            fresh = isinstance(contribution, Var) and contribution.role == "tmp" and \
                any(contribution in op.outs for op in self.b.region.ops[mark:])
            if fresh:
                contribution.role, contribution.base = "adjoint", var
                self.adjoint[var] = contribution
            else:
                self.adjoint[var] = self.b.emit("copy", contribution)
                self.adjoint[var].role, self.adjoint[var].base = "adjoint", var
            return
        total = self.b.add(old, contribution)
        if isinstance(total, Var) and total is not old:
            total.role, total.base = "adjoint", var
        self.adjoint[var] = total

    def op(self, op: Op) -> None:
        """The adjoint statements of one primal statement."""
        g = self.adjoint.get(op.out) if len(op.outs) == 1 else None
        if g is None:
            return
        rule = RULES[op.prim]
        if rule.partials is None:
            return
        with self.b.at(op.loc):
            mark = len(self.b.region.ops)
            partials = rule.partials(self.b, op.args, op.out)
            for a, p in zip(op.args, partials):
                if p is None or not isinstance(a, Var) or a not in self.active:
                    continue
                self.accumulate(a, self.b.mul(g, p), mark)

    def seed(self, outputs: list[Atom], cotangents: list[Var] | None) -> None:
        for i, out in enumerate(outputs):
            if not isinstance(out, Var) or out not in self.active:
                continue
            mark = len(self.b.region.ops)
            with self.b.at(None):
                value = cotangents[i] if cotangents is not None else Const(1.0)
                self.accumulate(out, value, mark)

    def run(self, cotangent_params: bool) -> Program:
        prog = self.program
        self.b.append(Op("comment", [], [], (("text", "forward sweep"),)))
        for op in prog.body.ops:
            self.b.append(op)
        self.b.append(Op("comment", [], [], (("text", "reverse sweep"),)))
        outputs = list(prog.outputs)
        cotangents = None
        if cotangent_params:
            cotangents = [Var(type=o.type, role="adjoint", base=o if isinstance(o, Var) else None)
                          for o in outputs]
        self.seed(outputs, cotangents)
        for op in reversed(prog.body.ops):
            handler = STRUCTURED.get(op.prim)
            if handler is not None:
                handler(self, op)
            else:
                self.op(op)
        with self.b.at(None):
            grads = [self.adjoint.get(prog.params[i]) or zero_like(self.b, prog.params[i]) for i in self.wrt]
        body = self.b.region
        body.yields = outputs + grads
        params = prog.params + (cotangents or [])
        return Program(f"{prog.name}_vjp" if cotangent_params else f"{prog.name}_grad", params, body,
                       len(body.yields), prog.filename, prog.firstline)


STRUCTURED: dict[str, object] = {}


def reverse(program: Program, wrt: list[int], cotangent_params: bool = False) -> Program:
    """The adjoint program of ``program`` with respect to ``program.params[wrt]``."""
    return Reverse(program, wrt).run(cotangent_params)

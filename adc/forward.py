"""Forward mode: a primal ``Program`` → its tangent (JVP) ``Program``.

Input: a typed program and the indices of the parameters to differentiate.  Output: a program
``f_jvp(*params, *tangents) -> (*outputs, *output_tangents)`` in which every active primal
statement is followed by its tangent statement ``dv = sum_i dv_i * partial_i`` (dual numbers), the
partials read from the one rule table.
"""
from __future__ import annotations

from .activity import varied
from .builder import Builder
from .ir import Atom, Const, Op, Program, Var
from .rules import RULES
from .zeros import zero_like


class Forward:
    def __init__(self, program: Program, wrt: list[int]) -> None:
        self.program = program
        self.active = varied(program, wrt)
        self.b = Builder(simplify=True)
        self.tangent: dict[Var, Atom] = {}
        self.tangent_params = []
        for i in wrt:
            p = program.params[i]
            t = Var(type=p.type if p.type.kind == "float" else p.type.__class__("float", p.type.ndim),
                    role="tangent", base=p)
            self.tangent_params.append(t)
            if p in self.active:
                self.tangent[p] = t

    def name(self, value: Atom, base: Var, mark: int) -> Atom:
        """Make ``value`` the tangent of ``base``: rename it if it was made just now."""
        if isinstance(value, Var) and value.role == "tmp" and any(value in op.outs for op in self.b.region.ops[mark:]):
            value.role, value.base = "tangent", base
        return value

    def op(self, op: Op) -> None:
        self.b.append(op)
        if not any(o in self.active for o in op.outs):
            return
        rule = RULES[op.prim]
        mark = len(self.b.region.ops)
        with self.b.at(op.loc):
            partials = rule.partials(self.b, op.args, op.out)
            total: Atom = Const(0.0)
            for a, p in zip(op.args, partials):
                if p is None or not isinstance(a, Var) or a not in self.tangent:
                    continue
                total = self.b.add(total, self.b.mul(self.tangent[a], p))
            self.tangent[op.out] = self.name(total, op.out, mark)

    def run(self) -> Program:
        for op in self.program.body.ops:
            handler = STRUCTURED.get(op.prim)
            if handler is not None:
                handler(self, op)
            else:
                self.op(op)
        outs = list(self.program.outputs)
        with self.b.at(None):
            touts = [self.tangent.get(o) if isinstance(o, Var) and o in self.tangent else zero_like(self.b, o)
                     for o in outs]
        body = self.b.region
        body.yields = outs + touts
        return Program(f"{self.program.name}_jvp", self.program.params + self.tangent_params, body,
                       len(body.yields), self.program.filename, self.program.firstline)


STRUCTURED: dict[str, object] = {}


def forward(program: Program, wrt: list[int]) -> Program:
    """The JVP program of ``program`` with respect to ``program.params[wrt]``."""
    return Forward(program, wrt).run()

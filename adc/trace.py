"""The lecture's three tables: evaluation trace, forward derivative traces, adjoint trace.

Input: a user function, its SSA program and concrete arguments.  Output: rows ``(name, equation,
value)`` for every primal value (``v2 = log(v0) = 0.693``), for every tangent in one forward pass
per input (``dv2 = dv0 / v0 = 0.5``) and for every adjoint in the reverse sweep
(``gv1 = gv1 + gv3 * v0 = 1.716``), and their text rendering for ``adc trace --at``.  The derivative
rows come from running the same derivative programs that code generation emits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .codegen import Emitter, inlinable
from .evaluate import run
from .forward import forward
from .ir import Atom, Const, Op, Program, Var, number_values, uses
from .passes import dead_code
from .printer import output_name, print_program
from .reverse import reverse
from .types import Type, type_of


@dataclass(frozen=True)
class Row:
    name: str
    equation: str
    value: Any


class TraceNames:
    """Lecture naming: ``v3`` for values, ``dv3`` for tangents, ``gv3`` for adjoints."""

    def __init__(self, numbering: dict[Var, int]) -> None:
        self.numbering = numbering
        self.temps: dict[Var, str] = {}

    def __getitem__(self, var: Var) -> str:
        if var.role in ("tangent", "adjoint") and var.base is not None:
            return ("d" if var.role == "tangent" else "g") + self[var.base]
        if var in self.numbering:
            return f"v{self.numbering[var]}"
        return self.temps.setdefault(var, f"t{len(self.temps)}")


def fmt(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v) for v in value) + ")"
    if isinstance(value, np.ndarray):
        # one line, so a matrix does not break the table's rows
        return np.array2string(value, precision=6, separator=", ", max_line_width=10**9).replace("\n", "")
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.6g}"


def equation(em: Emitter, op: Op) -> str:
    """The row text of ``op``: its expression, or for a statement with a body (``if``, ``for``,
    ``while``, whose inner values the table does not list) what it is and where."""
    if op.regions:
        where = f" (line {op.loc.line})" if op.loc is not None else ""
        return f"{op.prim} statement{where}"
    return em.expr(op)[0]


def _rows(program: Program, numbering: dict[Var, int], args: Sequence[Any], keep: Callable[[Var], bool]) -> list[Row]:
    names = TraceNames(numbering)
    counts = uses(program.body)
    em = Emitter(names, counts, inlinable(program.body, counts), trace_style=True)
    _, env = run(program, args)
    rows = []
    for p, a in zip(program.params, args):
        if keep(p):
            rows.append(Row(names[p], "seed", a))
    for op in program.body.ops:
        if op.regions:  # a loop or an if: a row for each tangent or adjoint it results in
            rows += [Row(names[o], equation(em, op), env[o]) for o in op.outs if keep(o)]
            continue
        if op.prim == "comment" or len(op.outs) != 1 or op.out in em.inline or not keep(op.out):
            continue
        rows.append(Row(names[op.out], equation(em, op), env[op.out]))
    return rows


class Trace:
    """The SSA program of a function: print it, evaluate it, and tabulate its derivatives."""

    def __init__(self, fn: Callable[..., Any], program: Program, types: Sequence[Type]) -> None:
        self.fn, self.program, self.types = fn, program, tuple(types)

    def __str__(self) -> str:
        return print_program(self.program)

    def _at(self, args: Sequence[Any]) -> tuple[Program, list[Any]]:
        args = [float(a) if isinstance(a, int) and not isinstance(a, bool) else a for a in args]
        types = tuple(type_of(a) for a in args)
        if types == self.types:
            return self.program, args
        from .pipeline import primal

        return primal(self.fn, types), args

    def evaluation(self, *args: Any) -> list[Row]:
        """The evaluation trace: every value of the SSA program at ``args``."""
        prog, args = self._at(args)
        numbering = number_values(prog)
        names = TraceNames(numbering)
        outs, env = run(prog, args)
        rows = [Row(names[p], p.hint or "", a) for p, a in zip(prog.params, args)]
        em = Emitter(names, {}, trace_style=True)
        rows += [Row(names[op.out], equation(em, op), env[op.out])
                 for op in prog.body.ops if op.prim != "comment" and len(op.outs) == 1]
        y = outs[0] if prog.out_tree is None else tuple(outs)
        rows.append(Row(output_name(prog), ", ".join(em.atom(o)[0] for o in prog.outputs), y))
        return rows

    def _wrt(self, prog: Program) -> list[int]:
        return [i for i, p in enumerate(prog.params) if p.type is not None and p.type.kind == "float"]

    def forward_trace(self, *args: Any, wrt: int = 0) -> list[Row]:
        """One forward pass seeded with the unit tangent of parameter ``wrt``."""
        prog, args = self._at(args)
        params = self._wrt(prog)
        fprog = dead_code(forward(prog, params))
        seeds = [(1.0 if i == wrt else 0.0) if not isinstance(args[i], np.ndarray)
                 else (np.ones_like(args[i]) if i == wrt else np.zeros_like(args[i])) for i in params]
        rows = _rows(fprog, number_values(prog), [*args, *seeds], lambda v: v.role == "tangent")
        n = len(prog.outputs)
        _, env = run(fprog, [*args, *seeds])
        names = TraceNames(number_values(prog))
        for o in fprog.outputs[n:]:
            rows.append(Row("d" + output_name(prog), names[o] if isinstance(o, Var) else fmt(o.value),
                            env[o] if isinstance(o, Var) else o.value))
        return rows

    def adjoint_trace(self, *args: Any) -> list[Row]:
        """The reverse sweep seeded with ``gy = 1``: every adjoint, in the order it is computed."""
        prog, args = self._at(args)
        rprog = dead_code(reverse(prog, self._wrt(prog)))
        return _rows(rprog, number_values(prog), args, lambda v: v.role == "adjoint")

    def tables(self, *args: Any) -> str:
        """The three tables as text (what ``adc trace FILE:FUNC --at ...`` prints)."""
        prog, cargs = self._at(args)
        at = ", ".join(f"{p.hint} = {fmt(a)}" for p, a in zip(prog.params, cargs))
        parts = [f"Evaluation trace of {prog.name} at {at}", table(self.evaluation(*args))]
        for i in self._wrt(prog):
            seed = ", ".join(f"d{p.hint} = {1 if j == i else 0}" for j, p in enumerate(prog.params) if j in self._wrt(prog))
            parts += [f"Forward derivative trace (tangents), seed {seed}", table(self.forward_trace(*args, wrt=i))]
        parts += [f"Reverse adjoint trace, seed g{output_name(prog)} = 1", table(self.adjoint_trace(*args))]
        return "\n".join(parts)


def table(rows: list[Row]) -> str:
    w_name = max([4] + [len(r.name) for r in rows])
    w_eq = max([8] + [len(r.equation) for r in rows])
    lines = [f"  {'node'.ljust(w_name)}  {'equation'.ljust(w_eq)}  value"]
    lines += [f"  {r.name.ljust(w_name)}  {r.equation.ljust(w_eq)}  {fmt(r.value)}" for r in rows]
    return "\n".join(lines) + "\n"

"""Printing a program as the textbook evaluation trace.

Input: a ``Program``.  Output: deterministic text, one SSA statement per line, values numbered
``v0, v1, ...`` in program order (parameters first), each line annotated with the source line it
came from and the user's variable name, e.g.::

    def f(x1, x2):
        v0 = x1
        v2 = log(v0)        # line 3
        ...
        y = v6
"""
from __future__ import annotations

from typing import Callable

from .ir import Atom, Const, Op, Program, Region, Var, number_values
from .rules import RULES, Form, P_ATOM, trace_name

COMMENT_COLUMN = 28


def render_const(value: object) -> tuple[str, int]:
    """Python text of a literal, and its precedence (negative numbers bind like unary minus)."""
    if isinstance(value, float):
        if value != value:
            return "math.nan", P_ATOM
        if value in (float("inf"), float("-inf")):
            return ("math.inf", P_ATOM) if value > 0 else ("-math.inf", 9)
    text = repr(value)
    return text, (9 if text.startswith("-") else P_ATOM)


def fill(form: Form, args: list[tuple[str, int]]) -> str:
    """Fill ``form``'s template, parenthesising arguments that bind more loosely than allowed."""
    texts = [f"({t})" if p < need else t for (t, p), need in zip(args, form.arg_precs)]
    return form.template.format(*texts)


def trace_form(op: Op) -> Form:
    rule = RULES[op.prim]
    if rule.scalar.prec == P_ATOM and "(" in rule.scalar.template:
        from .rules import call

        return call(trace_name(op.prim), rule.arity)
    return rule.scalar


def print_program(program: Program, name: Callable[[Var], str] | None = None) -> str:
    """The SSA listing of ``program``; ``name`` overrides the ``vN`` naming of values."""
    numbering = number_values(program)
    namer = name or (lambda v: f"v{numbering[v]}")

    def atom(a: Atom) -> tuple[str, int]:
        return render_const(a.value) if isinstance(a, Const) else (namer(a), P_ATOM)

    lines = [f"def {program.name}({', '.join(p.hint or namer(p) for p in program.params)}):"]
    for p in program.params:
        lines.append(f"    {namer(p)} = {p.hint}")

    def region(reg: Region, indent: str) -> None:
        for op in reg.ops:
            if op.prim == "comment":
                lines.append(f"{indent}# {op.param('text')}")
                continue
            outs = ", ".join(namer(o) for o in op.outs)
            text = f"{indent}{outs} = {fill(trace_form(op), [atom(a) for a in op.args])}"
            notes = []
            if op.loc is not None:
                notes.append(f"line {op.loc.line}")
            hints = [o.hint for o in op.outs if o.hint and o.role == "primal"]
            if hints:
                notes.append(", ".join(hints))
            if notes:
                text = f"{text.ljust(COMMENT_COLUMN)}  # {': '.join(notes)}"
            lines.append(text)

    region(program.body, "    ")
    outs = [atom(a)[0] for a in program.outputs]
    lines.append(f"    y = {outs[0] if program.out_tree is None else '(' + ', '.join(outs) + ')'}")
    return "\n".join(lines) + "\n"

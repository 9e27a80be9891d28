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
from .prims import P_ATOM, Form, call, get, prim, trace_name

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
    """How an op reads in the listing: a call by its trace name (``log(v0)``), or its operator
    (``v0 / v1``; a guarded form as its plain operation, ``np.divide``'s too)."""
    rule = get(op.prim)
    form = rule.scalar.unguarded or rule.scalar
    if form.prec == P_ATOM and "(" in form.template:
        return call(trace_name(op.prim), rule.arity)
    return form


def output_name(program: Program) -> str:
    """What the listing calls the function's result: ``y``, unless a parameter is called that."""
    taken = {p.hint for p in program.params}
    return next(n for n in ("y", "out", "result", "output_") if n not in taken)


def print_program(program: Program, name: Callable[[Var], str] | None = None) -> str:
    """The SSA listing of ``program``; ``name`` overrides the ``vN`` naming of values."""
    numbering = number_values(program)
    namer = name or (lambda v: f"v{numbering[v]}")

    def atom(a: Atom) -> tuple[str, int]:
        return render_const(a.value) if isinstance(a, Const) else (namer(a), P_ATOM)

    def names(vs: list[Atom]) -> str:
        return ", ".join(atom(v)[0] for v in vs)

    lines = [f"def {program.name}({', '.join(p.hint or namer(p) for p in program.params)}):"]
    for p in program.params:
        lines.append(f"    {namer(p)} = {p.hint}")

    def note(text: str, op: Op) -> str:
        notes = []
        if op.loc is not None:
            notes.append(f"line {op.loc.line}")
        hints = [o.hint for o in op.outs if o.hint and o.role == "primal"]
        if hints:
            notes.append(", ".join(hints))
        return f"{text.ljust(COMMENT_COLUMN)}  # {': '.join(notes)}" if notes else text

    def region(reg: Region, indent: str) -> None:
        for op in reg.ops:
            rule = prim(op)
            if op.prim == "comment":
                lines.append(f"{indent}# {op.param('text')}")
            elif op.prim == "if":
                then, orelse = op.regions
                lines.append(note(f"{indent}{names(op.outs) or '_'} = if {atom(op.args[0])[0]}:", op))
                region(then, indent + "    ")
                lines.append(f"{indent}    yield {names(then.yields)}")
                lines.append(f"{indent}else:")
                region(orelse, indent + "    ")
                lines.append(f"{indent}    yield {names(orelse.yields)}")
            elif op.prim in ("for", "while"):
                body = op.regions[-1]
                if op.prim == "for":
                    start, stop, step, *inits = op.args
                    head = f"for {namer(body.args[0])} in range({names([start, stop, step])})"
                    carried = body.args[1:]
                else:
                    inits, carried = op.args, body.args
                    head = "while"
                init = ", ".join(f"{namer(a)}={atom(i)[0]}" for a, i in zip(carried, inits))
                lines.append(note(f"{indent}{names(op.outs) or '_'} = {head} carry({init}):", op))
                if op.prim == "while":
                    cond = op.regions[0]
                    region(cond, indent + "    ")
                    lines.append(f"{indent}    while {names(cond.yields)} "
                                 f"with {', '.join(namer(a) for a in cond.args)}")
                region(body, indent + "    ")
                lines.append(f"{indent}    yield {names(body.yields)}")
            elif rule is not None and rule.render is not None:
                text = rule.render([atom(a)[0] for a in op.args], dict(op.params))
                lines.append(note(f"{indent}{text}" if rule.effect else f"{indent}{names(op.outs)} = {text}", op))
            else:
                text = f"{indent}{names(op.outs)} = {fill(trace_form(op), [atom(a) for a in op.args])}"
                lines.append(note(text, op))

    region(program.body, "    ")
    outs = [atom(a)[0] for a in program.outputs]
    lines.append(f"    {output_name(program)} = {outs[0] if program.out_tree is None else '(' + ', '.join(outs) + ')'}")
    return "\n".join(lines) + "\n"

"""Code generation: a (derivative) ``Program`` → readable Python source.

Input: a program, the names the user's code uses (for hygiene) and the trace numbering of the
primal values.  Output: the text of one Python function (plus the imports it needs) that NumPy and
Numba both run.  Scalars render through ``math`` (``math.sin(x)``), arrays through NumPy
(``np.sin(x)``).  Single-use temporaries of the derivative transforms are folded into the
expression that uses them; each block of statements is headed by ``# from line N: <source>``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .ir import Atom, Const, Op, Program, Region, Var, uses
from .naming import Names
from .printer import fill, render_const, trace_form
from .rules import P_ATOM, RULES

HEADER = "import math\n\nimport numpy as np\n\n\n"


@dataclass
class Emitter:
    names: Names
    use_count: dict[Var, int]
    inline: dict[Var, Op] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    last_line: tuple[str, int] | None = None
    trace_style: bool = False  # render calls as in the SSA listing (``cos(v1)``), not ``math.cos``

    # -- expressions ---------------------------------------------------------------------------
    def atom(self, a: Atom) -> tuple[str, int]:
        if isinstance(a, Const):
            return render_const(a.value)
        op = self.inline.get(a)
        if op is not None:
            return self.expr(op)
        return self.names[a], P_ATOM

    def expr(self, op: Op) -> tuple[str, int]:
        rule = RULES[op.prim]
        is_array = op.out.type is not None and op.out.type.is_array
        form = trace_form(op) if self.trace_style else rule.array if is_array else rule.scalar
        return fill(form, [self.atom(a) for a in op.args]), form.prec

    # -- statements ----------------------------------------------------------------------------
    def comment_for(self, op: Op, indent: str) -> None:
        if op.loc is None:
            return
        key = (op.loc.filename, op.loc.line)
        if key != self.last_line:
            self.last_line = key
            self.lines.append(f"{indent}# from line {op.loc.line}: {op.loc.text.strip()}")

    def region(self, reg: Region, indent: str) -> None:
        for op in reg.ops:
            self.statement(op, indent)

    def statement(self, op: Op, indent: str) -> None:
        if op.prim == "comment":
            self.lines.append(f"{indent}# {op.param('text')}")
            self.last_line = None
            return
        if len(op.outs) == 1 and op.out in self.inline:
            return
        self.comment_for(op, indent)
        name = self.names[op.out]
        if op.prim in ("add", "sub") and isinstance(op.args[0], Var) and self.names[op.args[0]] == name \
                and not op.out.type.is_array:
            symbol = "+=" if op.prim == "add" else "-="
            text, prec = self.atom(op.args[1])
            self.lines.append(f"{indent}{name} {symbol} {text if prec > RULES[op.prim].scalar.prec else f'({text})'}")
            return
        text, _ = self.expr(op)
        self.lines.append(f"{indent}{name} = {text}")


def inlinable(region: Region, use_count: dict[Var, int]) -> dict[Var, Op]:
    """Derivative temporaries used exactly once, in the region that defines them."""
    local_uses: dict[Var, int] = {}
    for op in region.ops:
        for a in op.args:
            if isinstance(a, Var):
                local_uses[a] = local_uses.get(a, 0) + 1
    for y in region.yields:
        if isinstance(y, Var):
            local_uses[y] = local_uses.get(y, 0) + 1
    found: dict[Var, Op] = {}
    for op in region.ops:
        if len(op.outs) == 1 and not op.regions and op.prim in RULES:
            v = op.out
            if v.role == "tmp" and use_count.get(v, 0) == 1 and local_uses.get(v, 0) == 1 \
                    and v not in region.yields:
                found[v] = op
    return found


def generate(program: Program, names: Names, doc: str | None = None) -> str:
    """The Python source of ``program`` as a function named ``program.name``."""
    counts = uses(program.body)
    em = Emitter(names, counts, inlinable(program.body, counts))
    params = ", ".join(names[p] for p in program.params)
    em.lines.append(f"def {program.name}({params}):")
    if doc:
        em.lines.append(f'    """{doc}"""')
    em.region(program.body, "    ")
    outs = [em.atom(a)[0] for a in program.outputs]
    if program.out_tree is None:
        em.lines.append(f"    return {outs[0]}")
    else:
        em.lines.append(f"    return {', '.join(outs)}{',' if len(outs) == 1 else ''}")
    return "\n".join(em.lines) + "\n"

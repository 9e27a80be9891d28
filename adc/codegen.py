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
from .coalesce import coalesce
from .naming import Names
from .printer import fill, render_const, trace_form
from .rules import P_ATOM, RULES

HEADER = "import math\n\nimport numpy as np\n\n\n"


PURE_BOOL = {"lt", "le", "gt", "ge", "eq", "ne", "not", "and", "or"}


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
        if rule.render is not None:
            return rule.render([self.atom(a)[0] for a in op.args], dict(op.params)), P_ATOM
        is_array = op.out.type is not None and op.out.type.is_array
        form = trace_form(op) if self.trace_style else rule.array if is_array else rule.scalar
        return fill(form, [self.atom(a) for a in op.args]), form.prec

    def cond(self, a: Atom) -> str:
        return self.atom(a)[0]

    # -- statements ----------------------------------------------------------------------------
    def comment_for(self, op: Op, indent: str) -> None:
        if op.loc is None:
            return
        key = (op.loc.filename, op.loc.line)
        if key != self.last_line:
            self.last_line = key
            self.lines.append(f"{indent}# from line {op.loc.line}: {op.loc.text.strip()}")

    def region(self, reg: Region, indent: str) -> None:
        self.inline.update(inlinable(reg, self.use_count))
        for op in reg.ops:
            self.statement(op, indent)

    def copies(self, targets: list[Var], values: list[Atom], indent: str) -> None:
        """Assign ``values`` to the names of ``targets`` (in parallel: a swap stays a swap)."""
        pairs = [(self.names[t], self.atom(v)[0]) for t, v in zip(targets, values)]
        pairs = [(t, v) for t, v in pairs if t != v]
        if len(pairs) == 1:
            self.lines.append(f"{indent}{pairs[0][0]} = {pairs[0][1]}")
        elif pairs:
            self.lines.append(f"{indent}{', '.join(t for t, _ in pairs)} = {', '.join(v for _, v in pairs)}")

    def block(self, reg: Region, targets: list[Var], indent: str, stop: Atom | None = None) -> None:
        before = len(self.lines)
        self.region(reg, indent)
        self.copies(targets, reg.yields[:len(targets)], indent)
        if stop is not None and not (isinstance(stop, Const) and not stop.value):
            self.lines.append(f"{indent}if {self.cond(stop)}:")
            self.lines.append(f"{indent}    break")
        if len(self.lines) == before:
            self.lines.append(f"{indent}pass")

    def statement(self, op: Op, indent: str) -> None:
        if op.prim == "comment":
            self.lines.append(f"{indent}# {op.param('text')}")
            self.last_line = None
            return
        if op.outs and all(o in self.inline for o in op.outs):
            return
        self.comment_for(op, indent)
        if op.prim == "if":
            self.if_statement(op, indent)
            return
        if op.prim in ("for", "while"):
            self.loop(op, indent)
            return
        rule = RULES[op.prim]
        if rule.effect:
            self.lines.append(f"{indent}{self.expr(op)[0]}")
            return
        name = self.names[op.out]
        if op.prim in ("add", "sub") and isinstance(op.args[0], Var) and self.names[op.args[0]] == name \
                and not op.out.type.is_array:
            symbol = "+=" if op.prim == "add" else "-="
            text, prec = self.atom(op.args[1])
            self.lines.append(f"{indent}{name} {symbol} {text if prec > RULES[op.prim].scalar.prec else f'({text})'}")
            return
        text, _ = self.expr(op)
        if text != name:  # a copy between values that share a name needs no statement
            self.lines.append(f"{indent}{name} = {text}")

    def if_statement(self, op: Op, indent: str) -> None:
        then, orelse = op.regions
        head = len(self.lines)
        self.lines.append(f"{indent}if {self.cond(op.args[0])}:")
        self.block(then, op.outs, indent + "    ")
        mark = len(self.lines)
        self.lines.append(f"{indent}else:")
        self.block(orelse, op.outs, indent + "    ")
        empty = [f"{indent}    pass"]
        if self.lines[mark + 1:] == empty:
            del self.lines[mark:]
        elif self.lines[head + 1:mark] == empty:  # nothing to do in the then-branch: negate
            cond, _ = self.atom(op.args[0])
            self.lines[head:mark + 1] = [f"{indent}if not {cond if self._simple(op.args[0]) else f'({cond})'}:"]
        self.last_line = None

    def _simple(self, a: Atom) -> bool:
        return self.atom(a)[1] >= P_ATOM

    def loop(self, op: Op, indent: str) -> None:
        body = op.regions[-1]
        n = len(op.outs)
        inits = op.args[3:] if op.prim == "for" else op.args
        self.copies(op.outs, list(inits), indent)
        stop = body.yields[n] if len(body.yields) > n else None
        if op.prim == "for":
            start, end, step = op.args[:3]
            bounds = [self.atom(a)[0] for a in (start, end, step)]
            if bounds[2] == "1":
                bounds = bounds[:2] if bounds[0] != "0" else bounds[1:2]
            self.lines.append(f"{indent}for {self.names[body.args[0]]} in range({', '.join(bounds)}):")
        else:
            cond = op.regions[0]
            self.inline.update({v: o for v, o in inlinable(cond, self.use_count, everything=True).items()})
            if all(o.out in self.inline for o in cond.ops if o.outs):
                self.lines.append(f"{indent}while {self.cond(cond.yields[0])}:")
            else:
                self.lines.append(f"{indent}while True:")
                self.region(cond, indent + "    ")
                self.lines.append(f"{indent}    if not {self.cond(cond.yields[0])}:")
                self.lines.append(f"{indent}        break")
        self.block(body, op.outs, indent + "    ", stop)
        self.last_line = None


def _reads_memory(op: Op) -> bool:
    return op.prim == "getitem" or any(isinstance(a, Var) and a.type is not None and a.type.is_array for a in op.args)


def inlinable(region: Region, use_count: dict[Var, int], everything: bool = False) -> dict[Var, Op]:
    """Values to fold into the expression that uses them: derivative temporaries (and conditions)
    used exactly once, in the region that defines them, not across a write to memory they read."""
    local: dict[Var, int] = {}
    for i, op in enumerate(region.ops):
        for a in op.args:
            if isinstance(a, Var):
                local.setdefault(a, i)
    for y in region.yields:
        if isinstance(y, Var):
            local.setdefault(y, len(region.ops))
    found: dict[Var, Op] = {}
    for i, op in enumerate(region.ops):
        if len(op.outs) != 1 or op.regions or op.prim not in RULES or RULES[op.prim].effect or op.prim in ("pop", "tape"):
            continue
        v = op.out
        if not (v.role == "tmp" or everything or op.prim in PURE_BOOL):
            continue
        if use_count.get(v, 0) != 1 or v not in local:
            continue
        j = local[v]
        if _reads_memory(op) and any(_writes(o) for o in region.ops[i + 1:j]):
            continue
        found[v] = op
    return found


def _writes(op: Op) -> bool:
    rule = RULES.get(op.prim)
    return bool(op.regions) or op.prim == "pop" or (rule is not None and rule.effect)


def generate(program: Program, names: Names, doc: str | None = None) -> str:
    """The Python source of ``program`` as a function named ``program.name``."""
    coalesce(program, names)
    counts = uses(program.body)
    em = Emitter(names, counts)
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

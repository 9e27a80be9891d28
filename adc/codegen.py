"""Code generation: a (derivative) ``Program`` → readable Python source.

Input: a program, the names the user's code uses (for hygiene) and the trace numbering of the
primal values.  Output: the text of one Python function (plus the imports it needs) that NumPy and
Numba both run.  Scalars render through ``math`` (``math.sin(x)``), arrays through NumPy
(``np.sin(x)``).  Single-use temporaries of the derivative transforms are folded into the
expression that uses them; each block of statements is headed by ``# from line N: <source>``.
With ``compact=True`` (the code adc runs) every single-use scalar value is folded into its use,
so a gradient of straight-line code reads ``return x2 + 1.0 / x1, x1 - math.cos(x2)``; for Numba
(``jit=True``) so is every single-use element-wise array value, which Numba's array-expression
rewrite then evaluates in the loop of its use (``y + h * (k1 + 2.0 * k2)``: one loop, one new array).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .ir import Atom, Const, Op, Program, Region, Var, definitions, uses, walk
from .coalesce import Positions, coalesce, separate_interfering
from .memory import Memory, reads_shape_only, written_args
from .naming import Names
from .printer import fill, render_const, trace_form
from .prims import P_ATOM, Form, Primitive, get, prim
from .prims.registry import atomic, broadcasts, spelling

HEADER = "import math\n\nimport numpy as np\n\n\n"


def _line(imports: str | Callable[[dict[str, Any]], str], op: Op) -> str:
    """An import line a primitive needs, fixed or from ``op``'s parameters."""
    return imports(dict(op.params)) if callable(imports) else imports


def header(*programs: Program, numba: bool = False) -> str:
    """The generated module's imports: ``math`` and NumPy, and whatever a primitive the
    ``programs`` use needs (``adc_special``, the kernels of ``prims/special.py``; under ``numba``,
    what its Numba spellings need too)."""
    extra: set[str] = set()
    for program in programs:
        for op in walk(program.body):
            rule = prim(op)
            if rule is not None:
                spelled = rule.numba is not None or rule.in_place is not None \
                    or rule.scalar.numba is not None or rule.array.numba is not None
                extra |= {_line(rule.imports, op), _line(rule.numba_imports, op) if numba and spelled else ""}
    extra.discard("")
    return HEADER if not extra else HEADER[:-2] + "".join(line + "\n" for line in sorted(extra)) + "\n\n"



@dataclass
class Emitter:
    names: Names
    use_count: dict[Var, int]
    inline: dict[Var, Op] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    last_line: tuple[str, int] | None = None
    trace_style: bool = False  # render calls as in the SSA listing (``cos(v1)``), not ``math.cos``
    numba: bool = False  # the Numba dialect (``jit=True``): a primitive's ``numba`` spelling where it has one
    # ``jit="parallel"``: the shape checks of in-place adds wait until a statement assigns a name they
    # read, or the block ends (a call between two loops keeps Numba's parallel compiler from fusing them)
    defer_checks: bool = False
    pending: list[tuple[str, set[object]]] = field(default_factory=list)
    # where each value was assigned (its region, a statement count) and when each name last was:
    # a check may read a named value's operands instead of it, while their names still hold them
    defs: dict[Var, Op] = field(default_factory=dict)
    made: dict[Var, tuple[int, int]] = field(default_factory=dict)
    last_assigned: dict[object, int] = field(default_factory=dict)
    count: int = 0
    current: int = 0  # the region being written (``id``)

    # -- expressions ---------------------------------------------------------------------------
    def atom(self, a: Atom) -> tuple[str, int]:
        if isinstance(a, Const):
            return render_const(a.value)
        op = self.inline.get(a)
        if op is not None:
            return self.expr(op)
        return self.names[a], P_ATOM

    def expr(self, op: Op) -> tuple[str, int]:
        if op.prim == "copy":
            return self.atom(op.args[0])
        if op.prim in ("add", "sub", "neg") and not self.trace_style:
            op = self._without_negation(op)
        rule = get(op.prim)
        args = [self.atom(a) for a in op.args]
        if self.numba:
            args = numba_operands(op, rule, args)
        if rule.render is not None:
            texts = [text for text, _ in args]
            text = spelling(rule, texts, dict(op.params), [a.type for a in op.args], self.numba)
            # rendered as its first operand (a custom rule's marker): that operand's precedence
            return (text, args[0][1]) if args and text == texts[0] else (text, P_ATOM)
        form = trace_form(op) if self.trace_style else python_form(op, self.numba)
        return fill(form, args), form.prec

    def _without_negation(self, op: Op) -> Op:
        """``a + (-b)`` → ``a - b``, ``(-a) + b`` → ``b - a``, ``a - (-b)`` → ``a + b`` and
        ``-((-a) * b)`` → ``a * b`` for folded negations: the same numbers, since IEEE subtraction
        is addition of the negation and negation commutes with rounding."""
        if op.prim == "neg":
            plain = self._unnegated(op.args[0])
            if plain is None:
                return op
            inner = self.inline.get(plain) if isinstance(plain, Var) else None
            return inner if inner is not None else Op("copy", [plain], op.outs)
        x, y = op.args
        plain = self._unnegated(y)
        if plain is not None:
            return Op("sub" if op.prim == "add" else "add", [x, plain], op.outs)
        plain = self._unnegated(x) if op.prim == "add" else None
        if plain is not None:
            return Op("sub", [y, plain], op.outs)
        return op

    def _unnegated(self, a: Atom) -> Atom | None:
        """``-a`` without a negation sign, if the folded expression of ``a`` has one to drop
        (``-b``, or a product or quotient with such a factor); else ``None``."""
        inner = self.inline.get(a) if isinstance(a, Var) else None
        if inner is None:
            return None
        if inner.prim == "neg":
            return inner.args[0]
        if inner.prim in ("mul", "div"):
            for k, arg in enumerate(inner.args):
                plain = self._unnegated(arg)
                if plain is not None:
                    args = list(inner.args)
                    args[k] = plain
                    folded = Var(type=a.type, role="tmp")
                    self.inline[folded] = Op(inner.prim, args, [folded])
                    return folded
        return None

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
        self.settle(reg)
        outer, self.pending = self.pending, []
        outer_region, self.current = self.current, id(reg)
        for op in reg.ops:
            if self.pending and (op.regions or self.assigned(op) & set().union(*(n for _, n in self.pending))):
                self.flush_checks(indent)
            self.statement(op, indent)
            if self.numba:  # for the shape checks' ``sources``
                self.count += 1
                for key in self.assigned(op):
                    self.last_assigned[key] = self.count
                for o in op.outs:
                    self.made[o] = (id(reg), self.count)
        self.flush_checks(indent)
        self.pending, self.current = outer, outer_region

    def flush_checks(self, indent: str) -> None:
        self.lines += [f"{indent}{line}" for line, _ in self.pending]
        self.pending = []

    def copies(self, targets: list[Var], values: list[Atom], indent: str) -> None:
        """Assign ``values`` to the names of ``targets`` in parallel: one tuple assignment (a swap
        stays a swap), or, for more than three (where CPython would build a tuple), one statement
        each in an order where none overwrites a name that a later value still reads."""
        pairs = [(self.names[t], v) for t, v in zip(targets, values)]
        pairs = [(t, v) for t, v in pairs if t != self.atom(v)[0]]
        if len(pairs) > 3:
            reads = {t: self.atom_reads(v) for t, v in pairs}  # every name here is given already
            while pairs:
                ready = next((p for p in pairs if not any(p[0] in reads[q[0]] for q in pairs if q is not p)), None)
                if ready is None:
                    break
                self.assign(ready[0], ready[1], indent)
                pairs.remove(ready)
        if len(pairs) == 1:
            self.assign(pairs[0][0], pairs[0][1], indent)
        elif pairs:
            texts = [self.atom(v)[0] for _, v in pairs]
            self.lines.append(f"{indent}{', '.join(t for t, _ in pairs)} = {', '.join(texts)}")

    def assign(self, name: str, value: Atom | Op, indent: str) -> None:
        """``name = value``; ``name += b`` when the value is ``name + b`` on scalars."""
        op = value if isinstance(value, Op) else self.inline.get(value) if isinstance(value, Var) else None
        if op is not None and op.prim in ("add", "sub"):
            op = self._without_negation(op)
            if isinstance(op.args[0], Var) and op.args[0] not in self.inline and self.names[op.args[0]] == name \
                    and not op.out.type.is_array:
                symbol = "+=" if op.prim == "add" else "-="
                text, prec = self.atom(op.args[1])
                self.lines.append(f"{indent}{name} {symbol} {text if prec > get(op.prim).scalar.prec else f'({text})'}")
                return
        text = self.expr(op)[0] if op is not None else self.atom(value)[0]  # type: ignore[arg-type]
        if text != name:  # a copy between values that share a name needs no statement
            self.lines.append(f"{indent}{name} = {text}")

    def block(self, reg: Region, targets: list[Var], indent: str, stop: Atom | None = None) -> None:
        before = len(self.lines)
        self.region(reg, indent)
        if isinstance(stop, Var) and stop in self.inline \
                and self.atom_reads(stop) & {self.names.key(t) for t in targets}:
            # the stop test reads a slot that the copies are about to overwrite: evaluate it first
            self.assign(self.names[stop], self.inline.pop(stop), indent)
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
        rule = get(op.prim)
        if rule.effect or not op.outs:  # a push; a call with no result (it fills adjoint tapes)
            if self.numba and rule.in_place is not None:
                self.shape_checks(op, rule, indent)
            self.lines.append(indent + self.expr(op)[0].replace("\n", "\n" + indent))  # continuation lines too
            return
        if len(op.outs) > 1:  # a call with several results: ``y, det_res = det_fwd(M)``
            self.lines.append(f"{indent}{', '.join(self.names[o] for o in op.outs)} = {self.expr(op)[0]}")
            return
        self.assign(self.names[op.out], op, indent)

    def shape_checks(self, op: Op, rule: Primitive, indent: str) -> None:
        """Before an in-place add in Numba code (``gx += gy * c``), which Numba runs without checking
        shapes: ``adc_arrays.fits(gx, gy)``, with each array the added value is made of, so a value
        of another shape raises, as in NumPy, instead of adding wrong elements."""
        assert rule.in_place is not None
        texts = [self.atom(a)[0] for a in op.args]
        found = rule.in_place(texts, dict(op.params), [a.type for a in op.args])
        if found is None:
            return
        target, values = found
        leaves: list[str] = []
        reads = self.reads(op)
        for k in values:
            for leaf in self.sources(op.args[k]):
                text = self.names[leaf] if isinstance(leaf, Var) else self.expr(leaf)[0]
                if text not in leaves and text != target:
                    leaves.append(text)
                    reads |= {self.names.key(leaf)} if isinstance(leaf, Var) else self.reads(leaf)
        if not leaves:
            return
        line = f"adc_arrays.fits({', '.join([target, *leaves])})"
        if self.defer_checks:  # the names it reads stay as they are until it runs
            self.pending.append((line, reads))
        else:
            self.lines.append(f"{indent}{line}")

    def sources(self, a: Atom) -> list[Var | Op]:
        """``broadcast_leaves`` of ``a``, each named one made by an element-wise operation in this
        region replaced by its operands' while their names hold them: the check then keeps no
        temporary alive that Numba's parallel compiler would fuse away (``gv30 = gv33 * v32``)."""
        out: list[Var | Op] = []
        for leaf in broadcast_leaves(a, self.inline):
            op = self.defs.get(leaf) if isinstance(leaf, Var) else None
            rule = prim(op) if op is not None else None
            where = self.made.get(leaf)  # type: ignore[arg-type]
            if rule is None or not broadcasts(rule) or where is None or where[0] != self.current or any(
                    self.last_assigned.get(key, 0) > where[1] for b in op.args for key in self.atom_reads(b)):  # type: ignore[union-attr]
                out.append(leaf)
                continue
            inner = [s for b in op.args for s in self.sources(b)]  # type: ignore[union-attr]
            if all(isinstance(s, Var) or cheap_view(s, self.inline) for s in inner):
                out += inner
            else:
                out.append(leaf)  # an operand is a folded computation (``gy @ W.T``): not made again
        return out

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

    def settle_everywhere(self, reg: Region) -> bool:
        """``settle`` ``reg`` and every region nested in it; did any value stop being folded?"""
        before = len(self.inline)
        self.settle(reg)
        for op in reg.ops:
            for sub in op.regions:
                self.settle_everywhere(sub)
        return len(self.inline) != before

    def settle(self, reg: Region) -> None:
        """Keep folding a value into its use only if no statement in between assigns a name its
        expression reads (versions of one adjoint share a name: ``gx = a`` … ``gx += b``)."""
        first_use = _first_uses(reg)
        changed = True
        while changed:
            changed = False
            for i, op in enumerate(reg.ops):
                if len(op.outs) != 1 or self.inline.get(op.out) is not op or op.out not in first_use:
                    continue
                between = reg.ops[i + 1:first_use[op.out]]
                if self.reads(op) & {n for o in between for n in self.assigned(o)}:
                    del self.inline[op.out]
                    changed = True

    def reads(self, op: Op) -> set[object]:
        """The names (``Names.key``) the rendered expression of ``op`` reads."""
        found: set[object] = set()
        for a in op.args:
            found |= self.atom_reads(a)
        return found

    def atom_reads(self, a: Atom) -> set[object]:
        if not isinstance(a, Var):
            return set()
        inner = self.inline.get(a)
        return self.reads(inner) if inner is not None else {self.names.key(a)}

    def assigned(self, op: Op) -> set[object]:
        """The names (``Names.key``) a statement, with everything nested in it, may assign."""
        found = {self.names.key(o) for o in op.outs}
        for reg in op.regions:
            found |= {self.names.key(a) for a in reg.args}
            for inner in reg.ops:
                found |= self.assigned(inner)
        return found

    def _simple(self, a: Atom) -> bool:
        return self.atom(a)[1] >= P_ATOM

    def loop(self, op: Op, indent: str) -> None:
        body = op.regions[-1]
        n = len(op.outs)
        inits = op.args[3:] if op.prim == "for" else op.args
        slots = body.args[len(body.args) - n:]  # a slot's name: its body argument's
        self.copies(slots, list(inits), indent)
        stop = body.yields[n] if len(body.yields) > n else None
        if op.prim == "for":
            start, end, step = op.args[:3]
            bounds = [self.atom(a)[0] for a in (start, end, step)]
            if bounds[2] == "1":
                bounds = bounds[:2] if bounds[0] != "0" else bounds[1:2]
            self.lines.append(f"{indent}for {self.names[body.args[0]]} in range({', '.join(bounds)}):")
        else:
            cond = op.regions[0]
            self.settle(cond)
            if all(o.out in self.inline for o in cond.ops if o.outs):
                self.lines.append(f"{indent}while {self.cond(cond.yields[0])}:")
            else:
                self.lines.append(f"{indent}while True:")
                self.region(cond, indent + "    ")
                self.lines.append(f"{indent}    if not {self.cond(cond.yields[0])}:")
                self.lines.append(f"{indent}        break")
        self.block(body, slots, indent + "    ", stop)
        self.copies(op.outs, list(slots), indent)  # results that took a name of their own
        self.last_line = None


def numba_operands(op: Op, rule: Primitive, args: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The operands of ``op`` (text, precedence) as the Numba dialect passes them, so that Numba
    computes in the dtype the IR gives (NumPy's): Numba types a Python float as ``float64`` and lets
    it promote a ``float32`` array, where NumPy 2 keeps ``float32`` (a float operand of an op whose
    result is a ``float32`` array is cast: ``np.float32(1.0) * gq``); and Numba's ``@`` and
    ``np.linalg.solve`` take one dtype (``rule.uniform``: an array operand of another dtype is cast
    to the dtype of the product)."""
    out = op.out.type if len(op.outs) == 1 else None
    single = out is not None and out.is_array and out.kind == "float" and out.dtype == "float32"
    arrays = [a.type for a in op.args if a.type is not None and a.type.is_array]
    target = "float32" if arrays and all(t.dtype == "float32" for t in arrays) else "float64"
    cast = []
    for a, (text, prec) in zip(op.args, args):
        t = a.type
        if single and t is not None and not t.is_array and t.kind == "float":
            text, prec = f"np.float32({text})", P_ATOM
        elif rule.uniform and t is not None and t.is_array and t.dtype != target:
            text, prec = f"{atomic(text)}.astype(np.{target})", P_ATOM
        cast.append((text, prec))
    return cast


def _reads_memory(op: Op) -> bool:
    return op.prim == "getitem" or any(isinstance(a, Var) and a.type is not None and a.type.is_array for a in op.args)


def _first_uses(region: Region) -> dict[Var, int]:
    """Where each value is first read in ``region``: an op index, or ``len(ops)`` for the yields."""
    local: dict[Var, int] = {}
    for i, op in enumerate(region.ops):
        for a in op.args:
            if isinstance(a, Var):
                local.setdefault(a, i)
    for y in region.yields:
        if isinstance(y, Var):
            local.setdefault(y, len(region.ops))
    return local


# a value whose folded expression would nest deeper gets a name (reading an expression recurses per
# level, and Python's parser takes at most 200 nested parentheses)
MAX_FOLDED_DEPTH = 32


def inlinable(region: Region, use_count: dict[Var, int], everything: bool = False,
              compact: bool = False, memory: Memory | None = None) -> dict[Var, Op]:
    """Values to fold into the expression that uses them: derivative temporaries (and conditions;
    with ``compact`` every scalar) used exactly once, in the region that defines them, not across
    a write to memory they read.  With ``memory`` (``compact`` code for Numba), every element-wise
    array operation too, which Numba then fuses with its use into one loop, without a temporary
    array; and a write in between stops the folding only if it may reach an array the expression
    reads (``memory``'s alias classes)."""
    local = _first_uses(region)
    found: dict[Var, Op] = {}
    reads_memory: dict[Var, set[Var]] = {}  # folded values whose expression reads an array: the arrays
    for i, op in enumerate(region.ops):
        p = prim(op)
        if len(op.outs) != 1 or op.regions or p is None or p.effect or not p.foldable:
            continue
        v = op.out
        fuses = memory is not None and p.render is None
        if not (v.role == "tmp" or everything or p.predicate
                or (compact and v.type is not None and (not v.type.is_array or fuses))):
            continue
        if use_count.get(v, 0) != 1 or v not in local:
            continue
        j = local[v]
        if j < len(region.ops) and _repeats(region.ops[j], v):
            continue  # its user's form writes it more than once (``a / b if b else ...``): keep a name
        if j < len(region.ops) and any(a is v for a in written_args(region.ops[j])):
            continue  # its user stores into it (``t[:6] += g``): a store needs a name to write into
        if fuses and not (v.role == "tmp" or everything) and j < len(region.ops) and reads_shape_only(region.ops[j], {v}):
            continue  # its user reads only its shape (``np.zeros_like(a * b)``): computed once, named
        arrays = {a for a in op.args if isinstance(a, Var) and a.type is not None and a.type.is_array}
        for a in op.args:
            arrays |= reads_memory.get(a, set()) if isinstance(a, Var) else set()
        if _reads_memory(op) or arrays:
            if any(_writes(o, arrays, memory) for o in region.ops[i + 1:j]):
                continue
            reads_memory[v] = arrays
        found[v] = op
    _bound_depth(region, found)
    return found


def _bound_depth(region: Region, found: dict[Var, Op]) -> None:
    """Unfold the values of ``region`` whose folded expression would nest more than
    ``MAX_FOLDED_DEPTH`` operations deep (a named value starts again at depth 0)."""
    depth: dict[Var, int] = {}
    for op in region.ops:
        if len(op.outs) != 1 or found.get(op.out) is not op:
            continue
        nesting = 1 + max((depth.get(a, 0) for a in op.args if isinstance(a, Var)), default=0)
        if nesting > MAX_FOLDED_DEPTH:
            del found[op.out]
        else:
            depth[op.out] = nesting


def broadcast_leaves(a: Atom, inline: dict[Var, Op]) -> list[Var | Op]:
    """The arrays that the folded element-wise expression of ``a`` broadcasts together: named ones,
    and folded views (``g[:1]``, made again for the check); ``a`` itself when it is not folded.
    The value has a shape that fits an array if each of them does."""
    if not isinstance(a, Var) or a.type is None or not a.type.is_array:
        return []
    op = inline.get(a)
    if op is None:
        return [a]
    rule = prim(op)
    if rule is not None and not broadcasts(rule):
        return [op]  # a view (``named_for_checks``)
    return [leaf for b in op.args for leaf in broadcast_leaves(b, inline)]


def cheap_view(op: Op, inline: dict[Var, Op]) -> bool:
    """Is ``op`` a view the Numba code can make again for a check, for nothing: of names, with no
    index array (``g[1:]``, ``g.T``), spelled in Numba as in NumPy (a reshape there copies)?"""
    rule = prim(op)
    if rule is None or not rule.view or not rule.structural:
        return False
    if any(isinstance(b, Var) and (b in inline or (k and b.type is not None and b.type.is_array))
           for k, b in enumerate(op.args)):
        return False
    texts, params, types = [f"a{k}" for k in range(len(op.args))], dict(op.params), [b.type for b in op.args]
    return spelling(rule, texts, params, types, numba=True) == spelling(rule, texts, params, types)


def named_for_checks(region: Region, inline: dict[Var, Op]) -> None:
    """Numba code checks the arrays an in-place add's value is made of (``Emitter.shape_checks``),
    which tells the value's shape only through element-wise operations: any other op folded into it
    (``np.sum(g, axis=0)``) is given a name instead, but a view (``g[:1]``), which the check can
    make again for nothing."""
    def unfold(a: Atom) -> None:
        op = inline.get(a) if isinstance(a, Var) and a.type is not None and a.type.is_array else None
        if op is None:
            return
        rule = prim(op)
        if cheap_view(op, inline):
            return  # made again for the check
        if rule is None or not broadcasts(rule):
            del inline[a]  # type: ignore[arg-type]
            return
        for b in op.args:
            unfold(b)

    for op in walk(region):
        rule = prim(op)
        found = rule.in_place([""] * len(op.args), dict(op.params), [a.type for a in op.args]) \
            if rule is not None and rule.in_place is not None else None
        for k in found[1] if found is not None else ():
            unfold(op.args[k])


def plan_inlining(region: Region, use_count: dict[Var, int], compact: bool = False,
                  memory: Memory | None = None) -> dict[Var, Op]:
    """``inlinable`` for ``region`` and every region nested in it (a ``while`` condition folds
    whatever it can, so it fits on the ``while`` line)."""
    found = inlinable(region, use_count, compact=compact, memory=memory)
    for op in region.ops:
        for k, sub in enumerate(op.regions):
            if op.prim == "while" and k == 0:
                found.update(inlinable(sub, use_count, everything=True))
            found.update(plan_inlining(sub, use_count, compact, memory))
            if op.prim == "while" and k == 0:
                _bound_depth(sub, found)  # (each plan is bounded, their union may not be)
    return found


def _repeats(user: Op, v: Var) -> bool:
    """Does the rendered form of ``user`` write its operand ``v`` more than once?"""
    rule = prim(user)
    if rule is None or rule.render is not None or len(user.outs) != 1:
        return False
    template = python_form(user).template
    return any(template.count("{%d}" % k) > 1 for k, a in enumerate(user.args) if a is v)


def python_form(op: Op, numba: bool = False) -> Form:
    """How a simple op renders in generated Python (``numba``: in the Numba dialect): its rule's
    array or scalar form."""
    rule = get(op.prim)
    form = rule.array if op.out.type is not None and op.out.type.is_array else rule.scalar
    if numba and form.numba is not None:
        return form.numba
    if form.holds is None:
        return form
    return form.at([a.value if isinstance(a, Const) else None for a in op.args])


def _writes(op: Op, arrays: set[Var] = frozenset(), memory: Memory | None = None) -> bool:
    """May ``op`` change memory that an expression reading ``arrays`` reads?  Without ``memory``:
    does it change anything at all?  With it, a store changes only its target's alias class, and
    a tape's push or pop no array."""
    rule = prim(op)
    if op.regions or rule is None or not rule.side_effect:
        return bool(op.regions)
    if memory is None:
        return True
    if op.prim in ("push", "pop"):
        return False
    if not (rule.writes and isinstance(op.args[0], Var)):
        return True
    target = memory.root(op.args[0])
    return any(memory.root(a) is target for a in arrays)


def generate(program: Program, names: Names, doc: str | None = None, compact: bool = False,
             name: str | None = None, numba: bool | str = False) -> str:
    """The Python source of ``program`` as a function named ``name`` (default ``program.name``);
    ``compact`` folds every single-use scalar into the expression that reads it; ``numba`` writes
    the Numba dialect (``jit=True``), which also folds element-wise array operations into their
    use (Numba fuses each expression into one loop) unless it is ``"parallel"``: Numba's parallel
    compilation fuses consecutive statements' loops itself, and does so better when each array
    operation is a statement of its own (an expression written into a slice is not fused)."""
    counts = uses(program.body)
    fuse = bool(numba) and numba != "parallel" and compact
    inline = plan_inlining(program.body, counts, compact, Memory(program) if fuse else None)
    defined = definitions(program.body)
    # a value the reverse sweep defines again (recomputed, or popped from a record) is read by name
    inline = {v: op for v, op in inline.items() if defined.get(v, 0) == 1}
    if numba:
        named_for_checks(program.body, inline)
    pos = coalesce(program, names, inline)
    em = Emitter(names, counts, inline, numba=bool(numba), defer_checks=numba == "parallel",
                 defs={o: op for op in walk(program.body) for o in op.outs if defined.get(o, 0) == 1})
    while em.settle_everywhere(program.body):  # a value no longer folded is assigned: check again
        pos = Positions(program, inline)
        separate_interfering(program, names, pos)
    params = ", ".join(names[p] for p in program.params)
    em.lines.append(f"def {name or program.name}({params}):")
    if doc:
        em.lines.append(f'    """{doc}"""')
    em.region(program.body, "    ")
    outs = [em.atom(a)[0] for a in program.outputs]
    if program.out_tree is None:
        em.lines.append(f"    return {outs[0]}")
    else:
        em.lines.append(f"    return {', '.join(outs)}{',' if len(outs) == 1 else ''}")
    return "\n".join(_without_orphan_comments(em.lines)) + "\n"


def _without_orphan_comments(lines: list[str]) -> list[str]:
    """Drop comments that head nothing (their statements were all folded into later ones): a
    ``# from line`` comment must be followed by a statement at its own indentation, a section
    comment (``# reverse sweep``) by a statement or a ``# from line`` comment."""
    kept: list[str] = []
    for line in reversed(lines):
        text = line.lstrip()
        if text.startswith("#"):
            following = kept[-1] if kept else ""
            body = following.lstrip()
            same_indent = len(following) - len(body) == len(line) - len(text)
            heads = not body.startswith("#") or (body.startswith("# from line") and not text.startswith("# from line"))
            if not (following and same_indent and heads):
                continue
        kept.append(line)
    return kept[::-1]

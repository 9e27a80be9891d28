"""Differential fuzzing of adc: a random-program generator, a checker and a reducer.

``generate(seed, index)`` writes a random function ``f`` (and module-level helpers) in the subset
adc documents as supported, with an argument tuple at which ``f`` runs cleanly.  ``check`` runs
``f`` through adc (``value_and_grad`` in both modes, with and without ``jit``, ``jvp`` and ``vjp``)
and compares against ``f`` itself and central finite differences.  ``reduce`` shrinks a failing
program while it keeps failing the same way.  ``tests/fuzz.py`` is the command line,
``tests/test_fuzz.py`` the CI batch, ``docs/fuzzing.md`` the description.
"""
from __future__ import annotations

import ast
import atexit
import contextlib
import importlib.util
import itertools
import math
import os
import random
import re
import shutil
import signal
import tempfile
import threading
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

import adc

# ----------------------------------------------------------------------------------------------
# Programs


@dataclass
class Program:
    """A generated module (``source`` defines ``f`` and its helpers) and the point to check it at."""

    source: str
    args: tuple[Any, ...]
    seed: str = ""

    def text(self) -> str:
        """The module and the call, ready to paste into a file."""
        return f"{self.source}\n# at: f({', '.join(_literal(a) for a in self.args)})\n"


def _literal(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"np.array({np.array2string(value, separator=', ', precision=17, max_line_width=10**6)})"
    return repr(float(value))


HEADER = "import math\n\nimport numpy as np\n"
SCALAR_NAMES = ["a", "b", "c"]
CONSTS = ["0.5", "2.0", "1.5", "0.3", "0.7", "1.0", "0.25", "3.0"]


@dataclass
class Var:
    name: str
    kind: str  # "s" scalar, "v" vector, "m" matrix (2 x n)
    length: int = 0  # vector length
    owned: bool = False  # an array the function created (may be written)


@dataclass
class Scope:
    """What a statement may use: the variables visible here and the loop it is in."""

    vars: dict[str, Var]
    loop_vars: dict[str, int] = field(default_factory=dict)  # index name -> its range bound
    in_loop: bool = False
    depth: int = 0

    def child(self, **changes: Any) -> "Scope":
        s = Scope(dict(self.vars), dict(self.loop_vars), self.in_loop, self.depth + 1)
        for k, v in changes.items():
            setattr(s, k, v)
        return s


class Generator:
    """One random program.  Every choice comes from ``self.r``, so a seed determines the program."""

    def __init__(self, rng: random.Random, small: bool = False, scalar: bool = False,
                 containers: bool = False, recursion: bool = False) -> None:
        self.r, self.small, self.scalar, self.containers = rng, small, scalar, containers
        self.recursion = recursion
        self.n = rng.choice([3, 4])
        self.fresh = itertools.count()
        self.helpers: list[str] = []
        self.helper_sigs: list[tuple[str, list[str], str]] = []  # name, param kinds, result kind
        self.budget = rng.randint(2, 4) if small else rng.randint(4, 12)  # statements in f's top-level block

    # -- helpers ---------------------------------------------------------------------------------
    def pick(self, items: list[Any]) -> Any:
        return self.r.choice(items)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def new_name(self, prefix: str) -> str:
        return f"{prefix}{next(self.fresh)}"

    def scalars(self, scope: Scope) -> list[Var]:
        return [v for v in scope.vars.values() if v.kind == "s"]

    def vectors(self, scope: Scope, length: int | None = None, owned: bool | None = None) -> list[Var]:
        return [v for v in scope.vars.values() if v.kind == "v" and (length is None or v.length == length)
                and (owned is None or v.owned == owned)]

    def matrices(self, scope: Scope) -> list[Var]:
        return [v for v in scope.vars.values() if v.kind == "m"]

    # -- expressions -----------------------------------------------------------------------------
    def index(self, scope: Scope, length: int) -> str:
        usable = [i for i, bound in scope.loop_vars.items() if bound <= length]
        if usable and self.chance(0.5):
            name = self.pick(usable)
            return self.pick([name, name, f"{length - 1} - {name}"]) if scope.loop_vars[name] <= length else name
        return str(self.r.randrange(-1, length))

    def scalar_leaf(self, scope: Scope) -> str:
        options = ["const", "var", "var", "var"]
        if self.vectors(scope):
            options += ["elem", "elem", "reduce", "reduce"]
        if self.matrices(scope):
            options += ["matrix"]
        if self.helper_sigs:  # the recursion family calls its helper in loops more often
            options += ["call"] * (4 if self.recursion and scope.loop_vars else 1)
        kind = self.pick(options)
        if kind == "var" and self.scalars(scope):
            return self.pick(self.scalars(scope)).name
        if kind == "elem":
            v = self.pick(self.vectors(scope))
            return f"{v.name}[{self.index(scope, v.length)}]"
        if kind == "reduce":
            v = self.pick(self.vectors(scope))
            same = self.vectors(scope, v.length)
            w = self.pick(same)
            return self.pick([f"np.sum({v.name})", f"np.mean({v.name})", f"{v.name}.sum()",
                              f"np.dot({v.name}, {w.name})", f"{v.name} @ {w.name}", f"np.sum({v.name} * {w.name})",
                              f"np.sum(np.sin({v.name}))", f"np.sum(np.outer({v.name}, {w.name}))", f"{v.name}.dot({w.name})",
                              f"np.sum(np.concatenate([{v.name}, {w.name}]))",
                              f"np.max({v.name})" if self.chance(0.3) else f"np.sum({v.name})",
                              f"np.min({v.name})" if self.chance(0.3) else f"{v.name}.mean()"])
        if kind == "matrix":
            m = self.pick(self.matrices(scope))
            vs = self.vectors(scope, self.n)
            if vs and self.chance(0.6):
                return f"np.sum(np.tanh({m.name} @ {self.pick(vs).name}))"
            return self.pick([f"np.sum({m.name} * {m.name})", f"{m.name}[1, {self.r.randrange(self.n)}]",
                              f"np.mean({m.name})"])
        if kind == "call":
            return self.call(scope, "s") or self.pick(CONSTS)
        return self.pick(CONSTS)

    def call(self, scope: Scope, result: str) -> str | None:
        sigs = [s for s in self.helper_sigs if s[2] == result]
        if not sigs:
            return None
        name, params, _ = self.pick(sigs)
        args = []
        for p in params:
            if p == "d":  # a recursive helper's depth
                args.append(str(self.r.randint(0, 3)))
            elif p == "s":
                args.append(self.sexpr(scope, 1))
            else:
                vs = self.vectors(scope, self.n)
                if not vs:
                    return None
                # a recursion's argument made by the caller for the call alone (its last read: under
                # jit, not borrowed unless held, even where the reverse sweep computes it again),
                # in a loop often from the loop's index (the reverse loop computes it again)
                made = self.recursion and "d" in params and self.chance(0.4)
                arg = self.vexpr(scope, self.n, 1) if made else self.pick(vs).name
                if made and scope.loop_vars and self.chance(0.5):
                    arg = f"({arg}) * ({self.pick(sorted(scope.loop_vars))} + 1.0)"
                args.append(arg)
        return f"{name}({', '.join(args)})"

    def sexpr(self, scope: Scope, depth: int = 2) -> str:
        """A scalar expression that stays bounded and away from domain errors."""
        if depth <= 0 or self.chance(0.3):
            return self.scalar_leaf(scope)
        e = self.sexpr(scope, depth - 1)
        kind = self.pick(["unary", "unary", "binary", "binary", "binary"] + (["ifexp"] if self.chance(0.3) else []) + (["kink"] if self.chance(0.3) else []))
        if kind == "unary":
            return self.pick([f"math.sin({e})", f"math.cos({e})", f"math.tanh({e})", f"math.atan({e})",
                              f"math.log1p(({e}) ** 2)", f"pow(math.cos({e}), 2)", f"math.tan(0.5 * math.sin({e}))",
                              f"math.exp(math.sin({e}))", f"math.sqrt(1.0 + ({e}) ** 2)", f"math.log(1.0 + ({e}) ** 2)",
                              f"({e}) / (1.0 + ({e}) ** 2)", f"-({e})", f"np.tanh({e})", f"np.sin({e})"])
        f2 = self.sexpr(scope, depth - 1)
        if kind == "binary":
            return self.pick([f"{e} + {f2}", f"{e} - {f2}", f"({e}) * ({f2})", f"{e} * {self.pick(CONSTS)}",
                              f"({e}) / (2.0 + math.sin({f2}))", f"math.atan2({e}, 1.5 + math.cos({f2}))"])
        if kind == "ifexp":
            return f"({e} if {self.condition(scope)} else {f2})"
        return self.pick([f"max({e}, {f2})", f"min({e}, {f2})", f"abs({e})", f"np.maximum({e}, {f2})"])

    def vleaf(self, scope: Scope, length: int) -> str:
        """A vector of ``length`` elements: a variable, a slice of a longer one, or a matrix row."""
        options = []
        for v in self.vectors(scope):
            if v.length == length:
                options += [v.name, v.name]
            elif v.length == length + 1:
                options += [f"{v.name}[1:]", f"{v.name}[:-1]"]
            elif v.length > length:
                options += [f"{v.name}[:{length}]", f"{v.name}[{v.length - length}:]"]
        if length == self.n:
            for m in self.matrices(scope):
                options += [f"{m.name}[0]", f"np.sum({m.name}, axis=0)", f"{m.name}[1, :]"]
        if length == 2:
            for m in self.matrices(scope):
                options += [f"{m.name}[:, 1]"]
                options += [f"{m.name} @ {v.name}" for v in self.vectors(scope, self.n)]
        scalars = self.scalars(scope)
        if scalars and self.chance(0.1):  # an array packed from scalars
            return f"np.array([{', '.join(self.pick(scalars).name for _ in range(length))}])"
        if len(options) > 1 and self.chance(0.1):  # joined from two parts
            v = self.pick(self.vectors(scope, length) or [None])
            if v is not None:
                return f"np.concatenate([{v.name}[:1], {self.vleaf(scope, length - 1)}])"
        if not options:
            return f"np.ones({length})"
        return self.pick(options)

    def vexpr(self, scope: Scope, length: int, depth: int = 2) -> str:
        if depth <= 0 or self.chance(0.3):
            return self.vleaf(scope, length)
        e = self.vexpr(scope, length, depth - 1)
        kind = self.pick(["unary", "binary", "scalar", "scalar"] + (["kink"] if self.chance(0.3) else []))
        if kind == "unary":
            return self.pick([f"np.sin({e})", f"np.cos({e})", f"np.tanh({e})", f"np.exp(np.sin({e}))",
                              f"np.sqrt(1.0 + ({e}) ** 2)", f"np.log(1.0 + ({e}) * ({e}))", f"np.arctan({e})", f"-({e})"])
        if kind == "binary":
            f2 = self.vexpr(scope, length, depth - 1)
            return self.pick([f"{e} + {f2}", f"{e} - {f2}", f"({e}) * ({f2})", f"({e}) / (2.0 + np.sin({f2}))"])
        if kind == "scalar":
            s = self.sexpr(scope, 1)
            return self.pick([f"({e}) * ({s})", f"({s}) * ({e})", f"{e} + {s}", f"{e} * {self.pick(CONSTS)}",
                              f"{s} - {e}"])
        f2 = self.vexpr(scope, length, depth - 1)
        return self.pick([f"np.maximum({e}, {f2})", f"np.minimum({e}, {f2})", f"np.where({e} > {f2}, {e}, 0.5 * {f2})",
                          f"np.abs({e})", f"np.clip({e}, -0.5, 0.8)"])

    def condition(self, scope: Scope) -> str:
        a = self.sexpr(scope, 1)
        op = self.pick(["<", ">", "<=", ">="])
        rhs = self.pick(CONSTS + ["-0.5", "0.0", "0.0"] + [v.name for v in self.scalars(scope)])
        cond = f"{a} {op} {rhs}"
        if self.chance(0.1):
            cond = f"{cond} and {self.sexpr(scope, 0)} > -1.0"
        return cond

    # -- statements ------------------------------------------------------------------------------
    def block(self, scope: Scope, size: int) -> list[str]:
        lines: list[str] = []
        for _ in range(size):
            lines += self.statement(scope)
        return lines or ["pass"]

    def statement(self, scope: Scope) -> list[str]:
        weights = {"assign": 5, "aug": 2, "tuple": 2, "array": 2, "write": 4, "slice": 3, "view": 1,
                   "if": 2, "for": 2, "while": 1, "ret": 1, "call": 1, "whole": 2}
        if scope.depth >= (2 if self.small else 3):
            weights.update({"if": 0, "for": 0, "while": 0})
        if scope.depth >= 2:
            weights.update({"for": 0.5, "while": 0.3})
        if scope.in_loop:
            weights.update({"break": 1, "continue": 1})
        if self.scalar:  # control flow and carried scalars only
            weights.update({"array": 0, "write": 0, "slice": 0, "view": 0, "whole": 0, "tuple": 4})
        if self.containers:  # names holding tuples (and arrays in them), rebound in branches and loops
            weights["pair"] = 4
        kind = self.r.choices(list(weights), list(weights.values()))[0]
        return getattr(self, "st_" + kind)(scope)

    def target_scalar(self, scope: Scope, reuse: float = 0.6) -> str:
        """An existing scalar (carried through loops) or a new one."""
        existing = self.scalars(scope)
        if existing and self.chance(reuse):
            return self.pick(existing).name
        name = self.new_name("t")
        scope.vars[name] = Var(name, "s")
        return name

    def st_assign(self, scope: Scope) -> list[str]:
        e = self.sexpr(scope)
        return [f"{self.target_scalar(scope)} = {e}"]

    def st_aug(self, scope: Scope) -> list[str]:
        if not self.scalars(scope):
            return self.st_assign(scope)
        name = self.pick(self.scalars(scope)).name
        op = self.pick(["+=", "-=", "*="])
        e = f"0.5 + 0.25 * math.sin({self.sexpr(scope, 1)})" if op == "*=" else self.sexpr(scope)
        return [f"{name} {op} {e}"]

    def st_tuple(self, scope: Scope) -> list[str]:
        names = [v.name for v in self.scalars(scope)]
        if len(names) < 2:
            return self.st_assign(scope)
        k = min(len(names), self.pick([2, 2, 3]))
        targets = self.r.sample(names, k)
        sources = targets[1:] + targets[:1]  # a rotation of the old values
        self.r.shuffle(sources) if self.chance(0.3) else None
        parts = []
        for s in sources:
            other = self.pick(names)
            parts.append(self.pick([s, s, f"{s} * 0.5", f"{s} * {other}", f"math.sin({s}) + {other}", f"{s} - 0.1",
                                    f"{s} + {other}"]))
        return [f"{', '.join(targets)} = {', '.join(parts)}"]

    def st_pair(self, scope: Scope) -> list[str]:
        """A name holding a pair: made from two values (a scalar and a scalar or a vector), rebound
        from its own elements (carried by loops, merged by branches), or read into a scalar."""
        pairs = [v for v in scope.vars.values() if v.kind == "p"]
        if pairs and self.chance(0.7):
            p = self.pick(pairs)
            second = f"{p.name}[1] * 0.5" if p.length == 0 else f"np.sin({p.name}[1]) * 0.5"
            if self.chance(0.5):
                first = self.pick([f"{p.name}[0] * 0.5 + {self.sexpr(scope, 1)}", f"math.sin({p.name}[0])",
                                   f"{p.name}[0] - 0.1"])
                return [f"{p.name} = ({first}, {second})"]
            use = f"{p.name}[1]" if p.length == 0 else f"np.sum({p.name}[1])"
            return [f"{self.target_scalar(scope)} = {p.name}[0] * {self.pick(CONSTS)} + {use}"]
        name = self.new_name("p")
        vs = self.vectors(scope)
        if vs and self.chance(0.5):
            v = self.pick(vs)
            scope.vars[name] = Var(name, "p", v.length)
            return [f"{name} = ({self.sexpr(scope, 1)}, {v.name} * 1.0)"]
        scope.vars[name] = Var(name, "p")
        return [f"{name} = ({self.sexpr(scope, 1)}, {self.sexpr(scope, 1)})"]

    def new_array_expr(self, scope: Scope, length: int) -> tuple[str, bool]:
        """The right-hand side of a new array and whether it is writable (owned)."""
        vs = self.vectors(scope, length)
        options = [f"np.zeros({length})", f"np.ones({length})", f"np.zeros_like(ARR)", f"np.ones_like(ARR)",
                   "ARR.copy()", "np.copy(ARR)", "ARR * 1.0", "np.exp(ARR)", "VEXPR"]
        rhs = self.pick(options)
        if "ARR" in rhs:
            if not vs:
                return f"np.zeros({length})", True
            rhs = rhs.replace("ARR", self.pick(vs).name)
        if rhs == "VEXPR":
            rhs = self.vexpr(scope, length)
        # a bare name, slice or row is the same memory as its base: not the function's own array
        return rhs, re.fullmatch(r"\w+(\[[^\]]*\])?", rhs) is None

    def st_array(self, scope: Scope) -> list[str]:
        length = self.n if self.chance(0.8) else self.n - 1
        rhs, owned = self.new_array_expr(scope, length)
        name = self.new_name("y" if owned else "z")
        scope.vars[name] = Var(name, "v", length, owned)
        return [f"{name} = {rhs}"]

    def owned(self, scope: Scope) -> Var | None:
        vs = self.vectors(scope, owned=True)
        return self.pick(vs) if vs else None

    def st_write(self, scope: Scope) -> list[str]:
        y = self.owned(scope)
        if y is None:
            return self.st_array(scope)
        i = self.index(scope, y.length)
        op = self.pick(["=", "=", "+=", "-=", "*="])
        e = f"0.5 + 0.25 * math.sin({self.sexpr(scope, 1)})" if op == "*=" else self.sexpr(scope)
        return [f"{y.name}[{i}] {op} {e}"]

    def st_slice(self, scope: Scope) -> list[str]:
        y = self.owned(scope)
        if y is None:
            return self.st_array(scope)
        n = y.length
        sl, length = self.pick([("1:", n - 1), (":-1", n - 1), (":2", 2), (f"{n - 2}:", 2), (":", n)])
        op = self.pick(["=", "=", "+=", "*=", "-="])
        if op == "*=":
            rhs = self.pick(CONSTS) if self.chance(0.5) else f"0.5 + 0.25 * np.sin({self.vexpr(scope, length, 1)})"
        elif self.chance(0.25):
            rhs = self.sexpr(scope, 1)  # broadcast a scalar into the slice
        else:
            rhs = self.vexpr(scope, length)
        return [f"{y.name}[{sl}] {op} {rhs}"]

    def st_view(self, scope: Scope) -> list[str]:
        vs = self.vectors(scope)
        if not vs:
            return self.st_array(scope)
        v = self.pick(vs)
        name = self.new_name("z")
        if self.chance(0.4):  # a copy NumPy makes (a gather, a sort, flatten), read after writes into v
            order = list(range(v.length))
            self.r.shuffle(order)
            rhs = self.pick([f"{v.name}[{order}]", f"np.take({v.name}, {order})", f"np.sort({v.name})",
                             f"{v.name}[np.argsort({v.name})]", f"{v.name}.flatten()"])
            scope.vars[name] = Var(name, "v", v.length, owned=False)
            return [f"{name} = {rhs}"]
        sl, length = self.pick([("1:", v.length - 1), (":-1", v.length - 1), ("::2", (v.length + 1) // 2)])
        scope.vars[name] = Var(name, "v", length, owned=False)
        return [f"{name} = {v.name}[{sl}]"]

    def st_whole(self, scope: Scope) -> list[str]:
        """An array used whole: accumulate a reduction, or rebind an array to arithmetic on itself."""
        vs = self.vectors(scope)
        if not vs:
            return self.st_array(scope)
        v = self.pick(vs)
        if self.chance(0.7) or not v.owned:
            w = self.pick(self.vectors(scope, v.length))
            use = self.pick([f"np.sum({v.name})", f"np.dot({v.name}, {w.name})", f"np.sum({v.name} * 2.0)",
                             f"np.mean(np.sin({v.name}))"])
            existing = self.scalars(scope)
            if existing and self.chance(0.8):
                t = self.pick(existing).name
                return [f"{t} = {t} + {use}"]
            return [f"{self.target_scalar(scope, 0.0)} = {use}"]
        # rebinding a whole array (an adc error inside a branch or loop in reverse mode)
        return [f"{v.name} = {self.pick([f'{v.name} * 0.5', f'np.sin({v.name}) + {self.sexpr(scope, 0)}', f'{v.name} * {v.name}'])}"]

    def st_call(self, scope: Scope) -> list[str]:
        e = self.call(scope, "s")
        if e is None:
            return self.st_assign(scope)
        return [f"{self.target_scalar(scope)} = {e}"]

    def st_if(self, scope: Scope) -> list[str]:
        lines = [f"if {self.condition(scope)}:"]
        lines += indent(self.block(scope.child(), self.r.randint(1, 3)))
        for _ in range(self.pick([0, 0, 1])):
            lines += [f"elif {self.condition(scope)}:"] + indent(self.block(scope.child(), self.r.randint(1, 2)))
        if self.chance(0.6):
            lines += ["else:"] + indent(self.block(scope.child(), self.r.randint(1, 2)))
        return lines

    def st_for(self, scope: Scope) -> list[str]:
        name = self.pick(["i", "j", "k"])
        if name in scope.loop_vars or name in scope.vars:
            return self.st_assign(scope)
        if self.chance(0.15) and self.vectors(scope, self.n):
            v = self.pick(self.vectors(scope, self.n))
            e = self.new_name("e")
            inner = scope.child(in_loop=True)
            inner.vars[e] = Var(e, "s")
            if self.chance(0.5):
                inner.loop_vars[name] = self.n
                head = f"for {name}, {e} in enumerate({v.name}):"
            else:
                head = f"for {e} in {v.name}:"
            return [head] + indent(self.block(inner, self.r.randint(1, 3)))
        bound = self.r.randint(1, 4)
        head = self.pick([f"for {name} in range({bound}):", f"for {name} in range({bound}):",
                          f"for {name} in range(1, {bound + 1}):" if bound < self.n else f"for {name} in range({bound}):"])
        inner = scope.child(in_loop=True)
        inner.loop_vars[name] = bound + (1 if "range(1," in head else 0)
        return [head] + indent(self.block(inner, self.r.randint(1, 4)))

    def st_while(self, scope: Scope) -> list[str]:
        counter = self.new_name("n")
        bound = self.r.randint(1, 4)
        cond = f"{counter} < {bound}"
        if self.chance(0.3):
            cond += f" and {self.sexpr(scope, 1)} < 2.0"
        inner = scope.child(in_loop=True)
        body = [f"{counter} += 1"] + self.block(inner, self.r.randint(1, 3))
        return [f"{counter} = 0", f"while {cond}:"] + indent(body)

    def st_break(self, scope: Scope) -> list[str]:
        return [f"if {self.condition(scope)}:", "    break"]

    def st_continue(self, scope: Scope) -> list[str]:
        return [f"if {self.condition(scope)}:", "    continue"]

    def st_ret(self, scope: Scope) -> list[str]:
        return [f"if {self.condition(scope)}:", f"    return {self.sexpr(scope)}"]

    def result(self, scope: Scope) -> str:
        """The returned expression: it reads most of what the function computed."""
        terms = [v.name for v in self.scalars(scope)]
        terms = self.r.sample(terms, min(len(terms), self.r.randint(1, 3)))
        for v in self.vectors(scope):
            if v.owned or self.chance(0.3):
                reads = [f"np.sum({v.name})", f"np.sum({v.name} * {v.name})"]
                if v.length:  # an empty slice has no element to read
                    reads.append(f"{v.name}[{self.r.randrange(v.length)}]")
                terms.append(self.pick(reads))
        terms = terms or ["0.0"]
        coefs = [self.pick(["", "", "0.5 * ", "2.0 * ", "-"]) for _ in terms]
        return " + ".join(c + t for c, t in zip(coefs, terms))

    # -- functions -------------------------------------------------------------------------------
    def helper(self) -> None:
        name = f"h{len(self.helper_sigs)}"
        kinds = self.pick([["s"], ["s", "s"]] if self.scalar else [["s"], ["s", "s"], ["v"], ["s", "v"], ["v", "v"]])
        params, scope = [], Scope({})
        for k, p in zip(kinds, ["p", "q"]):
            params.append(p)
            scope.vars[p] = Var(p, k, self.n if k == "v" else 0, owned=False)
        body = self.block(scope, self.r.randint(0, 3)) if self.chance(0.6) else []
        body = [line for line in body if line != "pass"]
        body.append(f"return {self.result(scope) if body else self.sexpr(scope)}")
        self.helpers.append(f"def {name}({', '.join(params)}):\n" + "\n".join(indent(body)) + "\n")
        self.helper_sigs.append((name, kinds, "s"))

    def recursive_helper(self) -> None:
        """``h(p, q, d)``: a leaf block at ``d == 0``, else a block and a call of itself at
        ``d - 1`` (adc keeps it a call: its reverse parts, which under ``jit`` take their arguments
        from the caller and compute again what they can)."""
        name = f"h{len(self.helper_sigs)}"
        kinds = self.pick([["s"], ["s", "s"]] if self.scalar else [["s"], ["v"], ["s", "v"], ["v", "v"]])
        params, scope = [], Scope({})
        for k, p in zip(kinds, ["p", "q"]):
            params.append(p)
            scope.vars[p] = Var(p, k, self.n if k == "v" else 0, owned=False)
        leaf_scope = scope.child()
        leaf = [line for line in self.block(leaf_scope, self.r.randint(0, 3)) if line != "pass"]
        leaf.append(f"return {self.result(leaf_scope) if leaf else self.sexpr(leaf_scope)}")
        body = [line for line in self.block(scope, self.r.randint(0, 2)) if line != "pass"]
        args = [self.sexpr(scope, 1) if k == "s" else self.pick(self.vectors(scope, self.n)).name for k in kinds]
        call = f"{name}({', '.join(args + ['d - 1'])})"
        inner = self.pick([f"np.sin({call})", f"np.tanh({call})", f"0.5 * {call}"])
        body.append(f"return {self.result(scope) if body else self.sexpr(scope)} + {inner}")
        self.helpers.append(f"def {name}({', '.join(params + ['d'])}):\n" + "\n".join(
            indent(["if d == 0:"] + indent(leaf) + body)) + "\n")
        self.helper_sigs.append((name, kinds + ["d"], "s"))

    def program(self) -> tuple[str, list[Var]]:
        if self.recursion:  # one recursive helper, which f calls
            self.recursive_helper()
        for _ in range(self.pick([0, 0, 0, 1] if self.small else [0, 0, 1, 2])):
            self.helper()
        params = [Var(n, "s") for n in SCALAR_NAMES[: self.r.randint(1, 3)]]
        for name in ["x", "w"][: 0 if self.scalar else self.pick([0, 1, 1, 1, 2])]:
            params.append(Var(name, "v", self.n))
        if not self.scalar and self.chance(0.15) and not self.small:  # Numba compiles `@` slowly
            params.append(Var("W", "m"))
        self.r.shuffle(params)
        scope = Scope({p.name: p for p in params})
        body = self.block(scope, self.budget)
        body = [line for line in body if line != "pass"]
        body.append(f"return {self.result(scope)}")
        f = f"def f({', '.join(p.name for p in params)}):\n" + "\n".join(indent(body)) + "\n"
        return HEADER + "\n\n" + "\n\n".join(self.helpers + [f]), params


def indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def random_args(rng: random.Random, params: list[Var], n: int) -> tuple[Any, ...]:
    out: list[Any] = []
    for p in params:
        if p.kind == "s":
            out.append(round(rng.uniform(-1.5, 1.5), 3))
        elif p.kind == "v":
            out.append(np.array([round(rng.uniform(-1.5, 1.5), 3) for _ in range(p.length)]))
        else:
            out.append(np.array([[round(rng.uniform(-1.5, 1.5), 3) for _ in range(n)] for _ in range(2)]))
    return tuple(out)


def generate(seed: int, index: int, small: bool = False, containers: bool = False,
             recursion: bool = False) -> Program:
    """Program ``index`` of the run ``seed``: independent of every other index, and runnable at its
    point (programs whose own evaluation raises, overflows or is huge are drawn again).  One in
    five programs uses scalars only (loops, branches and tuple assignments of carried values);
    ``small`` programs (a few statements, for the slow ``jit`` checks) are a different sequence, and
    so are ``containers`` programs (names holding pairs of values, rebound in loops and branches)
    and ``recursion`` programs (a recursive helper that ``f`` calls)."""
    name = f"{seed}:{index}" + (":small" if small else "") + (":containers" if containers else "") \
        + (":recursion" if recursion else "")
    rng = random.Random(f"adc-fuzz:{name}")
    scalar = not small and zlib.crc32(name.encode()) % 5 == 0  # a fifth: scalars and control flow only
    while True:
        gen = Generator(rng, small, scalar, containers, recursion)
        text, params = gen.program()
        args = random_args(rng, params, gen.n)
        prog = Program(text, args, name)
        try:
            value = call_plain(prog)
        except Exception:
            continue
        if isinstance(value, float) and math.isfinite(value) and abs(value) < 1e6:
            return prog


# ----------------------------------------------------------------------------------------------
# Loading


_counter = itertools.count()
_tmpdir: Path | None = None


def _folder() -> Path:
    global _tmpdir
    if _tmpdir is None:
        _tmpdir = Path(tempfile.mkdtemp(prefix="adc-fuzz-"))
        atexit.register(shutil.rmtree, _tmpdir, ignore_errors=True)
    return _tmpdir


def load(source: str) -> Callable[..., Any]:
    """Import ``source`` as a fresh module and return its ``f``.  ``f`` gets a unique docstring so
    that two programs never share adc's compiled derivative (adc caches by code object)."""
    k = next(_counter)
    name = f"adc_fuzz_{os.getpid()}_{k}"
    text = re.sub(r"^(def f\(.*\):\n)", rf'\1    """fuzz program {name}"""\n', source, count=1, flags=re.M)
    path = _folder() / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # reduction candidates such as `0.5[1]`
        spec.loader.exec_module(module)
    return module.f


def copy_args(args: tuple[Any, ...]) -> list[Any]:
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


class Timeout(Exception):
    """``f`` ran too long (a reduction step removed a `while` loop's counter)."""


class TooSlow(BaseException):
    """adc took longer than ``ADC_LIMIT`` seconds on one check (a BaseException, so that adc's own
    error handling does not turn it into an adc error)."""


ADC_LIMIT = 20.0  # seconds for one adc call: a program whose helpers call each other at many sites
# is inlined at every call and can take minutes to compile; it is skipped, not counted as a failure


@contextlib.contextmanager
def time_limit(seconds: float, error: type[BaseException] = Timeout, what: str = "f") -> Iterator[None]:
    """Raise ``error`` after ``seconds`` (only in the main thread, where signals work)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise error(f"{what} ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def call_plain(prog: Program, fn: Callable[..., Any] | None = None) -> float:
    """``f``'s own value at the program's point; NumPy floating-point warnings raise."""
    fn = fn or load(prog.source)
    with np.errstate(all="raise"), warnings.catch_warnings(), time_limit(5.0):
        warnings.simplefilter("error")
        value = fn(*copy_args(prog.args))
    if isinstance(value, (np.floating, np.integer, int)):
        value = float(value)
    if not isinstance(value, float):
        raise TypeError(f"f returned {type(value).__name__}")
    return value


# ----------------------------------------------------------------------------------------------
# Checking

OK, ADC_ERROR, WRONG, RAW, KINK = "ok", "adc error", "WRONG", "RAW", "kink, skipped"
SLOW = "too slow, skipped"
UNRESOLVED = "FD unresolved, skipped"
ORDER = [OK, KINK, UNRESOLVED, SLOW, ADC_ERROR, RAW, WRONG]  # a program's outcome is its worst finding

REL, ABS = 1e-9, 1e-12  # value, and agreement between adc's own paths
FD_REL, FD_ABS = 1e-5, 1e-6  # adc against central finite differences
STEPS = (1e-5, 1e-4, 1e-6, 1e-7, 1e-3, 1e-8, 1e-9)  # the smallest for steep components (|g| ~ 1e5)


@dataclass(frozen=True)
class Finding:
    category: str  # WRONG, RAW, adc error, kink
    channel: str  # "reverse", "forward jit", "jvp", "vjp", ...
    check: str  # "value", "gradient vs FD", "reverse vs forward", "argument mutated", exception family
    detail: str = field(default="", compare=False)

    def signature(self) -> tuple[str, str, str]:
        return self.category, self.channel, self.check

    def __str__(self) -> str:
        return f"{self.category} [{self.channel}] {self.check}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Result:
    program: Program
    findings: list[Finding]

    @property
    def outcome(self) -> str:
        return max((f.category for f in self.findings), key=ORDER.index, default=OK)

    def signatures(self) -> set[tuple[str, str, str]]:
        return {f.signature() for f in self.findings}


def family(exc: BaseException) -> str:
    """An exception's message family: its type and first line, without locations and names."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = re.sub(r"^\S+:\d+:\d+: ", "", text)  # file:line:col
    text = re.sub(r"`[^`]*`", "`…`", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\b\d+(\.\d+)?\b", "N", text)
    text = re.sub(r"generated \w+", "generated …", text)
    return f"{type(exc).__name__}: {text[:90]}"


def flat(values: Any) -> np.ndarray:
    if isinstance(values, (tuple, list)):
        parts = [flat(v) for v in values]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.ravel(np.asarray(values, dtype=float))


def close(got: Any, want: Any, rel: float, absolute: float) -> bool:
    g, w = flat(got), flat(want)
    if g.shape != w.shape or not np.all(np.isfinite(g)):
        return False
    scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
    return bool(np.all(np.abs(g - w) <= absolute * scale + rel * np.abs(w)))


def components(args: tuple[Any, ...]) -> list[tuple[int, tuple[int, ...]]]:
    out = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            out += [(i, idx) for idx in np.ndindex(a.shape)]
        else:
            out.append((i, ()))
    return out


def shifted(args: tuple[Any, ...], i: int, idx: tuple[int, ...], delta: float) -> list[Any]:
    out = copy_args(args)
    if idx:
        out[i][idx] += delta
    else:
        out[i] = out[i] + delta
    return out


def fd_gradient(fn: Callable[..., Any], args: tuple[Any, ...], h: float) -> np.ndarray | None:
    """Central differences for every component of every argument (None if ``f`` fails nearby)."""
    out = []
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, idx in components(args):
                out.append((fn(*shifted(args, i, idx, h)) - fn(*shifted(args, i, idx, -h))) / (2 * h))
    except Exception:
        return None
    return np.array(out, dtype=float)


def fd_agrees(fn: Callable[..., Any], args: tuple[Any, ...], grad: np.ndarray) -> bool:
    """Does every component of ``grad`` agree with central differences for some step?  (A steep
    component needs a smaller step than a flat one.)"""
    want = flat(grad)
    agreed = np.zeros(want.shape, dtype=bool)
    for h in STEPS:
        fd = fd_gradient(fn, args, h)
        if fd is None or flat(fd).shape != want.shape:
            continue
        agreed |= np.array([close(g, d, FD_REL, FD_ABS) for g, d in zip(want, flat(fd))], dtype=bool)
        if agreed.all():
            return True
    return False


def fd_converges(fn: Callable[..., Any], args: tuple[Any, ...], grad: np.ndarray) -> bool:
    """Do central differences settle, for every component they disagree with ``grad`` on, as the
    step shrinks (two consecutive steps agreeing)?  If not, they are no reference there: the
    function is too steep or oscillates faster than any float step resolves (``cos`` of 1e5)."""
    steps = sorted(STEPS, reverse=True)
    fds = [fd_gradient(fn, args, h) for h in steps]
    if any(fd is None for fd in fds):
        return True
    want = flat(grad)
    for k in range(want.size):
        values = [flat(fd)[k] for fd in fds]
        if any(close(values[i], want[k], FD_REL, FD_ABS) for i in range(len(values))):
            continue
        if any(close(values[i + 1], values[i], FD_REL, FD_ABS) for i in range(len(values) - 1)):
            return True  # FD settled on a value adc does not give
    return False


def too_steep(fn: Callable[..., Any], args: tuple[Any, ...], grad: np.ndarray) -> bool:
    """Is the gradient so large that rounding an argument to a float already moves ``f`` by more
    than a thousandth of its size?  Then ``f``, evaluated in floats, is not the smooth function
    adc differentiates there (intermediates near overflow, ``c + 1e30 - 1e30``), and central
    differences of it are no reference."""
    value = abs(float(fn(*copy_args(args))))
    scale = np.concatenate([np.abs(np.ravel(np.asarray(a, dtype=float))) for a in args])
    return bool(np.any(np.abs(flat(grad)) * np.finfo(float).eps * np.maximum(scale, 1.0) > 1e-3 * max(value, 1.0)))


def perturbed(args: tuple[Any, ...], rng: random.Random) -> tuple[Any, ...]:
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            out.append(a + np.array([rng.uniform(-1e-3, 1e-3) for _ in range(a.size)]).reshape(a.shape))
        else:
            out.append(a + rng.uniform(-1e-3, 1e-3))
    return tuple(out)


def unchanged(before: list[Any], after: list[Any]) -> bool:
    return all(not isinstance(b, np.ndarray) or np.array_equal(b, a) for b, a in zip(before, after))


CHANNELS = ("reverse", "forward", "jvp/vjp")
JIT_CHANNELS = ("reverse jit", "forward jit")
JIT = True  # the ``jit=`` of the jit channels (``fuzz.py --parallel``: ``"parallel"``)


class Checker:
    """Runs the checks of one program; each check adds findings instead of stopping."""

    def __init__(self, prog: Program, channels: tuple[str, ...]) -> None:
        self.prog, self.channels = prog, channels
        self.findings: list[Finding] = []
        self.grads: dict[str, np.ndarray] = {}

    def add(self, category: str, channel: str, check: str, detail: str = "") -> None:
        self.findings.append(Finding(category, channel, check, detail))

    def guarded(self, channel: str, thunk: Callable[[], Any]) -> Any:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings(), time_limit(ADC_LIMIT, TooSlow, "adc"):
                warnings.simplefilter("ignore")
                return thunk()
        except TooSlow:
            self.add(SLOW, channel, "too slow")
        except adc.InternalError as exc:  # adc's own bug, however politely reported: a defect
            self.add(RAW, channel, family(exc), str(exc).splitlines()[0])
        except adc.AdcError as exc:
            self.add(ADC_ERROR, channel, family(exc), str(exc).splitlines()[0])
        except Exception as exc:  # anything else is a defect: a raw traceback reaching the user
            self.add(RAW, channel, family(exc), f"{type(exc).__name__}: {exc}"[:300])
        return None

    def run(self) -> list[Finding]:
        prog = self.prog
        try:
            fn = load(prog.source)
            want = call_plain(prog, fn)
        except Exception as exc:
            raise InvalidProgram(str(exc)) from exc
        argnums = tuple(range(len(prog.args)))
        for channel in self.channels:
            if channel == "jvp/vjp":
                self.inner_product(fn, want)
                continue
            mode = channel.split()[0]
            jit = JIT if channel.endswith("jit") else False
            args = copy_args(prog.args)
            transformed = adc.value_and_grad(fn, argnums, mode=mode, jit=jit)
            got = self.guarded(channel, lambda: transformed(*args))
            if not unchanged(list(prog.args), args):
                self.add(WRONG, channel, "argument mutated")
            if got is None:
                continue
            value, grad = got
            if mode == "reverse":  # a second call takes the call fast path, where it applies
                again_args = copy_args(prog.args)
                again = self.guarded(channel, lambda: transformed(*again_args))
                if not unchanged(list(prog.args), again_args):
                    self.add(WRONG, channel, "argument mutated by the second call")
                if again is not None and not (np.array_equal(flat(again[0]), flat(value), equal_nan=True)
                                              and np.array_equal(flat(again[1]), flat(grad), equal_nan=True)):
                    self.add(WRONG, channel, "second call", f"got {again!r}, the first call gave {got!r}")
            if not close(value, want, REL, ABS):
                self.add(WRONG, channel, "value", f"got {value!r}, f gives {want!r}")
            self.grads[channel] = flat(grad)
        self.compare_paths()
        self.against_fd(fn)
        return self.findings

    def compare_paths(self) -> None:
        g = self.grads
        pairs = [("reverse", "forward", "reverse vs forward"), ("reverse", "reverse jit", "jit vs no jit"),
                 ("forward", "forward jit", "jit vs no jit")]
        for a, b, what in pairs:
            if a in g and b in g and not close(g[b], g[a], 1e-8, 1e-10):
                self.add(WRONG, b if b.endswith("jit") else "reverse/forward", what, f"{g[b].tolist()} vs {g[a].tolist()}")

    def against_fd(self, fn: Callable[..., Any]) -> None:
        """Each gradient against central differences, kink-aware: a disagreement counts only if no
        step agrees at the point and none agrees at a slightly perturbed point either."""
        prog = self.prog
        for channel, grad in self.grads.items():
            if channel.endswith("jit") and any(f.channel == channel for f in self.findings):
                continue
            if fd_agrees(fn, prog.args, grad):
                continue
            fd = fd_gradient(fn, prog.args, STEPS[0])
            rng = random.Random(prog.seed + channel)
            wrong_elsewhere = True
            for _ in range(2):
                point = perturbed(prog.args, rng)
                mode, jit = channel.split()[0], (JIT if channel.endswith("jit") else False)
                try:
                    with np.errstate(all="ignore"):
                        _, g2 = adc.value_and_grad(fn, tuple(range(len(point))), mode=mode, jit=jit)(*copy_args(point))
                except Exception:
                    continue
                if fd_agrees(fn, point, flat(g2)):
                    wrong_elsewhere = False
                    break
            if wrong_elsewhere and self.modes_agree() and (not fd_converges(fn, prog.args, grad)
                                                          or too_steep(fn, prog.args, grad)):
                self.add(UNRESOLVED, channel, "finite differences do not converge")
            elif wrong_elsewhere:
                self.add(WRONG, channel, "gradient vs FD",
                         f"adc {np.round(grad, 8).tolist()} FD {None if fd is None else np.round(fd, 8).tolist()}")
            else:
                self.add(KINK, channel, "kink")

    def modes_agree(self) -> bool:
        """Reverse and forward mode (two independent transforms) give the same gradient."""
        g = self.grads
        return "reverse" in g and "forward" in g and close(g["reverse"], g["forward"], 1e-7, 1e-9)

    def inner_product(self, fn: Callable[..., Any], want: float) -> None:
        """<vjp(u), v> == u * jvp(v), with jvp's value == f's value and no argument or tangent changed."""
        prog = self.prog
        rng = np.random.default_rng(zlib.crc32(prog.seed.encode()))  # str hash() varies per process
        tangents = [rng.uniform(-1, 1, a.shape) if isinstance(a, np.ndarray) else float(rng.uniform(-1, 1))
                    for a in prog.args]
        u = float(rng.uniform(0.5, 1.5))
        args, ts = copy_args(prog.args), copy_args(tuple(tangents))
        out = self.guarded("jvp", lambda: adc.jvp(fn, args, ts))
        if not unchanged(list(prog.args), args) or not unchanged(tangents, ts):
            self.add(WRONG, "jvp", "argument mutated")
        args2 = copy_args(prog.args)
        pulled = self.guarded("vjp", lambda: adc.vjp(fn, *args2)[1](u))
        if not unchanged(list(prog.args), args2):
            self.add(WRONG, "vjp", "argument mutated")
        if out is not None and not close(out[0], want, REL, ABS):
            self.add(WRONG, "jvp", "value", f"got {out[0]!r}, f gives {want!r}")
        if out is not None and pulled is not None:
            lhs = float(np.dot(flat(pulled), flat(tangents)))
            rhs = u * float(out[1])
            if not (math.isfinite(lhs) and abs(lhs - rhs) <= 1e-8 * max(1.0, abs(lhs), abs(rhs))):
                self.add(WRONG, "jvp/vjp", "<vjp(u), v> != u * jvp(v)", f"{lhs!r} vs {rhs!r}")


class InvalidProgram(Exception):
    """The program itself fails at its point (a reduction step that broke it)."""


def check(prog: Program, jit: bool = False, channels: tuple[str, ...] | None = None) -> Result:
    channels = channels or (CHANNELS + (JIT_CHANNELS if jit else ()))
    return Result(prog, Checker(prog, channels).run())


def failures(result: Result) -> list[Finding]:
    return [f for f in result.findings if f.category in (WRONG, RAW)]


CHECK_ORDER = ["value", "gradient vs FD", "argument mutated", "jit vs no jit", "reverse vs forward"]
CHANNEL_ORDER = ["reverse", "forward", "jvp", "vjp", "reverse jit", "forward jit"]


def main_finding(result: Result) -> Finding:
    """The failure that names a program's defect best: a wrong result before a raw exception, a
    wrong value before a wrong gradient, the plain modes before jvp/vjp and jit."""
    def rank(f: Finding) -> tuple[int, int, int]:
        check_rank = CHECK_ORDER.index(f.check) if f.check in CHECK_ORDER else len(CHECK_ORDER)
        chan_rank = CHANNEL_ORDER.index(f.channel) if f.channel in CHANNEL_ORDER else len(CHANNEL_ORDER)
        return (-ORDER.index(f.category), check_rank, chan_rank)
    return min(failures(result), key=rank)


# ----------------------------------------------------------------------------------------------
# Reducing


def channels_for(sig: tuple[str, str, str]) -> tuple[str, ...]:
    """The channels a check needs to reproduce one finding."""
    channel, check_ = sig[1], sig[2]
    if channel in ("jvp", "vjp", "jvp/vjp"):
        return ("jvp/vjp",)
    base = channel.split()[0]
    need = {channel}
    if check_ == "reverse vs forward":
        need |= {"reverse", "forward"}
    if check_ == "jit vs no jit":
        need.add(base)
    return tuple(c for c in CHANNELS + JIT_CHANNELS if c in need)


def _statement_lists(tree: ast.AST) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(tree):
        for name in ("body", "orelse"):
            stmts = getattr(node, name, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                yield stmts


def _paths(tree: ast.AST) -> list[tuple[Any, str, int | None]]:
    """Every (parent, field, index) slot that holds an expression."""
    out = []
    for node in ast.walk(tree):
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                out.append((node, name, None))
            elif isinstance(value, list):
                out += [(node, name, i) for i, v in enumerate(value) if isinstance(v, ast.expr)]
    return out


def _simpler(expr: ast.expr) -> list[ast.expr]:
    """Smaller expressions that might stand in for ``expr``."""
    out: list[ast.expr] = []
    if isinstance(expr, ast.BinOp):
        out += [expr.left, expr.right]
    elif isinstance(expr, ast.UnaryOp):
        out.append(expr.operand)
    elif isinstance(expr, ast.Call):
        out += [a for a in expr.args]
    elif isinstance(expr, ast.IfExp):
        out += [expr.body, expr.orelse]
    elif isinstance(expr, ast.BoolOp):
        out += expr.values
    if isinstance(expr, (ast.Compare, ast.BoolOp)):
        out += [ast.Constant(True), ast.Constant(False)]
    elif not isinstance(expr, (ast.Constant, ast.Tuple, ast.Slice)):
        out += [ast.Constant(0.5)]
    return out


def candidates(source: str) -> Iterator[str]:
    """Variants of ``source``, each one step simpler: a statement deleted, a compound statement
    replaced by its body, a loop shortened, an expression replaced by a part of it or by 0.5, an
    unused helper or parameter dropped.  Larger steps come first."""
    tree = ast.parse(source)
    n_lists = len(list(_statement_lists(tree)))
    # statements: delete, or replace a compound one by one of its bodies
    for k in range(n_lists):
        stmts = list(_statement_lists(tree))[k]
        for i in range(len(stmts)):
            for variant in _statement_variants(stmts[i]):
                t = ast.parse(source)
                lst = list(_statement_lists(t))[k]
                repl = variant(lst[i])
                if repl is None:
                    continue
                lst[i:i + 1] = repl
                if not lst:
                    lst.append(ast.Pass())
                yield _unparse(t)
    # expressions
    n_paths = len(_paths(tree))
    for k in range(n_paths):
        node, name, idx = _paths(tree)[k]
        expr = getattr(node, name) if idx is None else getattr(node, name)[idx]
        if isinstance(node, (ast.Subscript,)) and name == "slice":
            continue
        if isinstance(expr, ast.Name) and isinstance(expr.ctx, ast.Store):
            continue
        if isinstance(node, ast.Call) and name == "func" or isinstance(node, (ast.Subscript, ast.Attribute)) and name == "value":
            continue
        for j in range(len(_simpler(expr))):
            t = ast.parse(source)
            node2, _, _ = _paths(t)[k]
            cur = getattr(node2, name) if idx is None else getattr(node2, name)[idx]
            rep = _simpler(cur)[j]
            if idx is None:
                setattr(node2, name, rep)
            else:
                getattr(node2, name)[idx] = rep
            yield _unparse(t)


def _statement_variants(stmt: ast.stmt) -> list[Callable[[ast.stmt], list[ast.stmt] | None]]:
    out: list[Callable[[ast.stmt], list[ast.stmt] | None]] = [lambda s: []]
    if isinstance(stmt, ast.If):
        out += [lambda s: s.body, lambda s: s.orelse or None]
    if isinstance(stmt, (ast.For, ast.While)):
        out.append(lambda s: _first_iteration(s))
    if isinstance(stmt, ast.For):
        out.append(lambda s: _shorter_range(s))
    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Tuple) and isinstance(stmt.value, ast.Tuple):
        out.append(lambda s: _drop_tuple_part(s))
    if isinstance(stmt, ast.FunctionDef) and stmt.name == "f":
        out = []
    return out


def _first_iteration(loop: ast.stmt) -> list[ast.stmt] | None:
    body = [s for s in loop.body if not isinstance(s, (ast.Break, ast.Continue))]
    if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name):
        return [ast.Assign([ast.Name(loop.target.id, ast.Store())], ast.Constant(0), lineno=0)] + body
    return body if not isinstance(loop, ast.For) else None


def _shorter_range(loop: ast.For) -> list[ast.stmt] | None:
    it = loop.iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and it.args:
        stop = it.args[-1] if len(it.args) <= 2 else it.args[1]
        if isinstance(stop, ast.Constant) and isinstance(stop.value, int) and stop.value > 1:
            stop.value -= 1
            return [loop]
    return None


def _drop_tuple_part(stmt: ast.Assign) -> list[ast.stmt] | None:
    targets, values = stmt.targets[0].elts, stmt.value.elts
    if len(targets) < 2 or len(targets) != len(values):
        return None
    targets.pop()
    values.pop()
    if len(targets) == 1:
        return [ast.Assign([targets[0]], values[0], lineno=0)]
    return [stmt]


def _unparse(tree: ast.Module) -> str:
    text = ast.unparse(ast.fix_missing_locations(tree))
    # two blank lines before top-level definitions, as people write them
    text = re.sub(r"\n+(def )", r"\n\n\n\1", text).replace("import math\nimport numpy", "import math\n\nimport numpy")
    return text + "\n"


def _prune(prog: Program) -> Iterator[Program]:
    """Programs with one parameter fewer (an unused one) or one unused helper fewer."""
    tree = ast.parse(prog.source)
    f = next(s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "f")
    used = {n.id for n in ast.walk(f) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for i, a in enumerate(f.args.args):
        if a.arg not in used and len(f.args.args) > 1:
            t = ast.parse(prog.source)
            ft = next(s for s in t.body if isinstance(s, ast.FunctionDef) and s.name == "f")
            del ft.args.args[i]
            yield Program(_unparse(t), prog.args[:i] + prog.args[i + 1:], prog.seed)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    for i, s in enumerate(tree.body):
        if isinstance(s, ast.FunctionDef) and s.name != "f" and s.name not in called:
            t = ast.parse(prog.source)
            del t.body[i]
            yield Program(_unparse(t), prog.args, prog.seed)


def reduce(prog: Program, finding: Finding, budget: int = 400, jit: bool = False,
           log: Callable[[str], None] | None = None) -> Program:
    """Greedy delta debugging: apply each simplification that keeps ``finding``'s signature, in
    passes over all of them, until a pass changes nothing or ``budget`` candidates have been
    checked."""
    sig = finding.signature()
    chans = channels_for(sig)
    tried = 0

    def still_fails(candidate: Program) -> bool:
        nonlocal tried
        tried += 1
        try:
            return sig in check(candidate, channels=chans).signatures()
        except InvalidProgram:
            return False
        except Exception:
            return False

    current = Program(_unparse(ast.parse(prog.source)), prog.args, prog.seed)
    seen = {current.source}
    position, changed = 0, False  # after a success, go on from the same position, not from the start
    while tried < budget:
        options = list(_prune(current)) + [Program(s, current.args, current.seed) for s in candidates(current.source)]
        for k in range(position, len(options)):
            cand = options[k]
            if cand.source in seen or len(cand.source) > len(current.source) + 20 or tried >= budget:
                continue
            seen.add(cand.source)
            if still_fails(cand):
                current, position, changed = cand, k, True
                if log:
                    log(f"  reduced to {len(current.source)} characters")
                break
        else:
            if not changed:
                break
            position, changed = 0, False  # one more pass over every simplification
    return current

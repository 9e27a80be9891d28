"""Calls of user functions: inlined, or kept as calls of a function of their own (``calls.py``).

Input: a call of a user function inside the function being lowered.  Output: its value, either
from its body lowered in place (inlining, what adc does for most helpers) or from a ``call`` op of a
``Callee``, its own program for the types of its arguments' leaves, lowered once.  A call is kept
when the function is recursive (it is already being lowered: direct or mutual recursion), or when
it is a helper called from ``KEEP_SITES`` or more sites of the calling function and can stand alone
(numbers and arrays in and out, no global arrays, no result that shares its arguments' memory).
A recursive function's result type is found by iteration: a recursive call first reads a float,
and the function is lowered again if it returns something else.
"""
from __future__ import annotations

from typing import Any, Callable

import libcst as cst

from .builder import Builder
from .calls import Callee
from .errors import AdcError, UnsupportedError
from .frontend_values import data_leaves, leaves, rebuild, skeleton
from .ir import Op, Program, Var, walk
from .memory import Memory
from .types import FLOAT, INT, Type

KEEP_SITES = 8  # a helper called from this many sites of one function is kept as a function
MAX_SIGNATURES = 8  # specialisations of one recursive function (argument types) before adc refuses
MAX_ROUNDS = 3  # lowerings of a recursive function to find its result type


def parameter_names(node: cst.FunctionDef) -> list[str]:
    """Every parameter of ``node`` in binding order (``*args`` and ``**kwargs`` included)."""
    p = node.params
    names = [q.name.value for q in (*p.posonly_params, *p.params)]
    if isinstance(p.star_arg, cst.Param):
        names.append(p.star_arg.name.value)
    names += [q.name.value for q in p.kwonly_params]
    if isinstance(p.star_kwarg, cst.Param):
        names.append(p.star_kwarg.name.value)
    return names


def call_sites(node: cst.FunctionDef) -> dict[str, int]:
    """How many calls of each plain name (``helper(...)``) the function's source makes."""
    counts: dict[str, int] = {}

    class Count(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            if isinstance(call.func, cst.Name):
                counts[call.func.value] = counts.get(call.func.value, 0) + 1

    node.visit(Count())
    return counts


class UserCalls:
    """The ``Lowerer`` mixin for calls of user functions."""

    kept: dict[tuple[Any, ...], Callee | None]  # None: a helper found unable to stand alone
    b: Any
    src: Any
    call_stack: tuple[Any, ...]

    def user_call(self, fn: Callable[..., Any], args: list[Any], keywords: dict[str, Any], node: cst.Call) -> Any:
        recursive = fn.__code__ in self.call_stack
        if recursive or self.many_sites(node):
            value = self.kept_call(fn, args, keywords, node, recursive)
            if value is not None:
                return value
        return self.inline(fn, args, keywords, node)

    def many_sites(self, node: cst.Call) -> bool:
        src = self.src
        if not hasattr(src, "call_sites"):
            src.call_sites = call_sites(src.node)
        return isinstance(node.func, cst.Name) and src.call_sites.get(node.func.value, 0) >= KEEP_SITES

    def kept_call(self, fn: Callable[..., Any], args: list[Any], keywords: dict[str, Any], node: cst.Call,
                  recursive: bool) -> Any:
        """The value of a kept call, or ``None`` for a helper that cannot stand alone (inline it)."""
        from .frontend import Lowerer, read_source

        probe = Lowerer(read_source(fn), self.b)
        probe.bind_params(args, keywords, top=False)
        values = tuple(probe.env[n] for n in parameter_names(probe.src.node))
        atoms = data_leaves(values)
        if atoms is None:
            if not recursive:
                return None
            raise self.fail(node, f"a recursive call of `{fn.__name__}` with an argument that is not a number, an "
                                  "array or a container of them", "pass numbers and arrays")
        types = tuple(a.type for a in atoms)
        key = (fn, types, skeleton(values))
        callee = self.kept.get(key)
        if callee is None:
            if not recursive and ("inline", key) in self.kept:
                return None  # found before: it cannot stand alone
            try:
                callee = self.make_callee(fn, key, values, node)
            except AdcError:
                if recursive:
                    raise
                callee = None
            if callee is None:
                self.kept[("inline", key)] = None
                return None
        elif callee.primal.program is None:
            callee.referenced = True  # recursion: the result type is the current guess
        outs = [Var(type=t) for t in callee.out_types]
        self.b.append(Op("call", list(atoms), outs, (("fn", callee.primal),), self.loc(node)))
        return rebuild(callee.result, iter(outs))

    def make_callee(self, fn: Callable[..., Any], key: tuple[Any, ...], values: tuple[Any, ...],
                    node: cst.Call) -> Callee | None:
        """Lower ``fn`` as a program of its own, for the argument types in ``key``."""
        from .frontend import function_name

        same = [c for c in self.kept.values() if c is not None and c.fn is fn]
        if len(same) >= MAX_SIGNATURES:
            raise self.fail(node, f"`{fn.__name__}` calls itself with {MAX_SIGNATURES} different kinds of arguments "
                                  "(types or array ranks)", "keep the arguments' types the same at every call")
        labels = {c.label for c in self.kept.values() if c is not None}
        label, k = function_name(fn), 1
        while label in labels:
            k += 1
            label = f"{function_name(fn)}_{k}"
        callee = Callee(fn, key[1], label, *first_guess(probe_node(fn)))
        self.kept[key] = callee
        for _ in range(MAX_ROUNDS):
            before = set(self.kept)
            callee.referenced = False
            try:
                program, result, kind_errors = self.lower_callee(callee, values)
                out_types = [a.type for a in program.outputs]
                settled = not callee.referenced or (out_types, result) == (callee.out_types, callee.result)
                if settled and kind_errors and self.kind_errors:  # a loop of the caller's still typing
                    self.kind_errors[-1].extend(kind_errors)
                elif settled and kind_errors:  # found with the result's type settled
                    raise kind_errors[0]
            except AdcError:
                for stale in set(self.kept) - before | {key}:
                    del self.kept[stale]
                raise
            if settled:
                break
            callee.out_types, callee.result = out_types, result  # guessed wrong: lower it again
            for stale in set(self.kept) - before:
                del self.kept[stale]
        else:
            del self.kept[key]
            raise self.fail(node, f"cannot find the type of what the recursive function `{fn.__name__}` returns",
                            "make every path return the same kind of value (a number, or arrays of one rank)")
        problem = standalone_problem(program)
        if problem is not None:
            del self.kept[key]
            if fn.__code__ not in self.call_stack:
                return None
            raise self.fail(node, f"the recursive function `{fn.__name__}` {problem[0]}", problem[1])
        callee.out_types, callee.result = out_types, result
        callee.primal.program = program
        return callee

    def lower_callee(self, callee: Callee, values: tuple[Any, ...]) -> tuple[Program, Any, list[Exception]]:
        """``callee``'s program: its parameters one input per leaf, lowered on its own; and the
        kind errors found (``ControlFlow.refuse_kinds``), real only if the result's type was right."""
        from .frontend import Lowerer, flatten_output, read_source

        src = read_source(callee.fn)
        b = Builder(simplify=False, role="primal")
        low = Lowerer(src, b, kept=self.kept)
        names = parameter_names(src.node)
        params: list[Var] = []
        for name, value in zip(names, values):
            n = len(leaves(value))
            made = [Var(hint=name if n == 1 else f"{name}_{k}", type=t)
                    for k, t in enumerate(a.type for a in leaves(value))]
            params += made
            low.env[name] = rebuild(skeleton(value), iter(made))
        low.kept_params = set(params)
        low.kind_errors.append([])
        try:
            result = low.run()
        finally:
            kind_errors = low.kind_errors.pop()
        low.follow_numbers(b.region)
        outputs, _ = flatten_output(result, low)
        b.region.yields = outputs
        tree = None if len(outputs) == 1 else len(outputs)  # a call has one result per output
        program = Program(callee.label, params, b.region, tree, src.filename, src.def_line, set(low.names))
        if low.captures:
            program.captured = [(c.holder, c.name) for c in low.captures.values()]
        return program, skeleton(result), kind_errors


def probe_node(fn: Callable[..., Any]) -> cst.FunctionDef:
    from .frontend import read_source

    return read_source(fn).node


def first_guess(node: cst.FunctionDef) -> tuple[list[Type], Any]:
    """What a recursive call returns before the function is lowered: what its first ``return``
    suggests, a tuple for a tuple display, an int for an integer literal, else a float
    (``make_callee`` corrects the types)."""
    found: list[cst.Return] = []

    class First(cst.CSTVisitor):
        def visit_Return(self, ret: cst.Return) -> None:
            found.append(ret)

        def visit_FunctionDef(self, inner: cst.FunctionDef) -> bool:
            return inner is node

    node.visit(First())
    value = found[0].value if found else None
    if isinstance(value, cst.Tuple):
        return [_literal_type(e.value) for e in value.elements], ("tuple", ("leaf",) * len(value.elements))
    return [_literal_type(value)], "leaf"


def _literal_type(node: cst.CSTNode | None) -> Type:
    return INT if isinstance(node, cst.Integer) else FLOAT


def standalone_problem(program: Program) -> tuple[str, str] | None:
    """Why ``program`` cannot be a function of its own (message, hint), or ``None``."""
    if program.captured:
        return "reads a global or closure array", "pass the array as an argument"
    if any(op.prim == "list" for op in walk(program.body)):  # its residuals would hold a list
        return "appends to a list in a loop", "preallocate an array and write into it"
    memory = Memory(program)
    params = {memory.root(p) for p in program.params if p.type.is_array}
    if any(isinstance(o, Var) and o.type.is_array and memory.root(o) in params for o in program.outputs):
        return "returns an array that shares memory with its argument", "return a copy (`x.copy()`)"
    return None

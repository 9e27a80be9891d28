"""Front end: a Python function's source → an SSA ``Program``.

Input: a plain Python function object and the abstract types of its parameters.  Output: a typed
``Program`` (see ``ir.py``).  The source is parsed with libcst; names are resolved through the
function's globals and closure (``math``, ``numpy``, ``from math import sin``, module-level numeric
constants, other module-level user functions, which are inlined, or kept as calls when recursive
or called from many sites: ``frontend_calls.py``).  Re-assignment becomes SSA
renaming; every op records the file, line and column it came from.  Anything outside the supported
language raises ``UnsupportedError`` pointing at the construct, with a hint.
"""
from __future__ import annotations

import builtins
import dataclasses
import inspect
import linecache
import math
import textwrap
import types as pytypes
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import libcst as cst
import numpy as np
from libcst.metadata import MetadataWrapper, PositionProvider

from .builder import Builder
from .controlflow import FALSE, TRUE, ControlFlow, Flow, has_exit
from .frontend_arrays import ARRAY_METHODS, NONE, ArrayExpressions, numpy_handler
from .frontend_containers import (SEQUENCE_BUILTINS, ContainerExpressions, NextItem, RecordMethod, SequenceFn,
                                  is_container, tree_of, tree_params, tree_value)
from .custom import custom_jvp, custom_vjp
from .frontend_lists import CompBody, DynamicList, ListStatements, Unmerged, check_lists, dynamic_lists, make_list
from .frontend_objects import (BoundMethod, Instance, ObjectAttributes, bound_method, describe_object, is_plain_object,
                               is_user_class)
from .frontend_values import Record, data_leaves, describe, leaves, skeleton
from .number_semantics import follow_number_semantics
from .prims import get, lexicon
from .frontend_effects import EffectStatements
from .frontend_calls import UserCalls
from .identity import private_name
from .memory import is_view
from .marks import made_mark
from .errors import AdcError, SourceError, UnsupportedError, no_source, transform_problem, unsupported_value
from .ir import Atom, Const, Loc, Op, Program, Region, Var
from .trees import TreeType
from .types import Type, type_of

# ---------------------------------------------------------------------------------------------
# What global names mean
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prim:
    """A callable that lowers to a primitive (``math.sin``, ``np.maximum``, ``abs`` ...)."""

    name: str
    variadic: bool = False  # max(a, b, c) folds pairwise
    numpy: bool = False  # NumPy's or SciPy's: its result is a NumPy number (``number_semantics.py``)
    math: bool = False  # ``math``'s: its result is a Python float, whatever its arguments


@dataclass(frozen=True)
class Method:
    """An array method bound to its array (``x.sum``, ``x.copy``)."""

    name: str
    base: Any


@dataclass(frozen=True)
class ArrayFn:
    """A NumPy array function the front end lowers itself (``np.sum``, ``np.dot`` ...)."""

    name: str


@dataclass(frozen=True)
class Captured:
    """A global or closure array the function reads: its program input, and where it lives."""

    var: Var
    holder: Any  # the globals dict, or the closure cell
    name: str


@dataclass(frozen=True)
class Module:
    """A module referenced by the function (``math``, ``numpy``)."""

    module: pytypes.ModuleType


def _known_functions() -> dict[Any, Prim]:
    """Python callables the front end lowers by name: every plain-call spelling of a primitive
    (from the registry), and the builtins it handles itself (loop iterables, lengths)."""
    table = {obj: Prim(c.name, c.variadic, c.numpy, c.math) for obj, c in lexicon.functions().items()}
    for fn in (builtins.range, builtins.enumerate, builtins.len):
        table[fn] = Prim(fn.__name__)
    return table


KNOWN_FUNCTIONS = _known_functions()

BINARY_OPS = {
    cst.Add: "add", cst.Subtract: "sub", cst.Multiply: "mul", cst.Divide: "div", cst.Power: "pow",
    cst.FloorDivide: "floordiv", cst.Modulo: "mod", cst.BitAnd: "bitand", cst.BitOr: "bitor", cst.BitXor: "bitxor",
    cst.LeftShift: "lshift", cst.RightShift: "rshift",
}
AUG_OPS = {
    cst.AddAssign: "add", cst.SubtractAssign: "sub", cst.MultiplyAssign: "mul", cst.DivideAssign: "div",
    cst.PowerAssign: "pow", cst.FloorDivideAssign: "floordiv", cst.ModuloAssign: "mod", cst.BitAndAssign: "bitand",
    cst.BitOrAssign: "bitor", cst.BitXorAssign: "bitxor", cst.LeftShiftAssign: "lshift",
    cst.RightShiftAssign: "rshift",
}
# the bitwise operators, which take integers and bools only (as in Python and NumPy)
BITWISE_SYMBOLS = {"bitand": "&", "bitor": "|", "bitxor": "^", "lshift": "<<", "rshift": ">>"}
COMPARE_OPS = {
    cst.LessThan: "lt", cst.LessThanEqual: "le", cst.GreaterThan: "gt", cst.GreaterThanEqual: "ge",
    cst.Equal: "eq", cst.NotEqual: "ne",
}

# Friendly names and hints for constructs outside the language.
UNSUPPORTED: dict[type, tuple[str, str]] = {
    cst.Lambda: ("lambda", "define a module-level function with `def` and call it"),
    cst.SetComp: ("set comprehension", "write an explicit `for` loop"),
    cst.DictComp: ("dict comprehension", "write an explicit `for` loop"),
    cst.Set: ("set", "use numbers or arrays"),
    cst.Yield: ("yield (generator)", "return a value instead"),
    cst.Await: ("await", "adc differentiates plain numeric functions"),
    cst.FormattedString: ("f-string", "remove string formatting from the differentiated function"),
    cst.SimpleString: ("string literal", "remove strings from the differentiated function"),
    cst.ConcatenatedString: ("string literal", "remove strings from the differentiated function"),
    cst.NamedExpr: ("assignment expression (:=)", "assign in a separate statement"),
    cst.Imaginary: ("complex number", "adc differentiates real-valued code"),
    cst.Try: ("try statement", "remove exception handling from the differentiated function"),
    cst.With: ("with statement", "move the context manager outside the differentiated function"),
    cst.Global: ("global statement", "pass the value as an argument instead"),
    cst.Nonlocal: ("nonlocal statement", "pass the value as an argument instead"),
    cst.ClassDef: ("class definition", "define classes outside the differentiated function"),
    cst.FunctionDef: ("nested function definition", "define the function at module level and call it"),
    cst.Raise: ("raise statement", "remove it, or check inputs before calling the derivative"),
    cst.Assert: ("assert statement", "check inputs before calling the derivative"),
    cst.Del: ("del statement", "remove it"),
    cst.Import: ("import inside the function", "import at module level"),
    cst.ImportFrom: ("import inside the function", "import at module level"),
    cst.Match: ("match statement", "use if/elif/else"),
    cst.StarredElement: ("starred expression", "pass arguments explicitly"),
}


GENERIC_HINT = "rewrite it with the supported subset listed in docs/language.md"
OPERATOR_HINT = ("adc supports + - * / // % ** and @ (arrays), & | ^ << >> ~ (integers and bools), comparisons, "
                 "and `and`/`or`/`not`")


def _unsupported(node: cst.CSTNode) -> tuple[str, str]:
    return UNSUPPORTED.get(type(node), (f"`{type(node).__name__}`", GENERIC_HINT))


# ---------------------------------------------------------------------------------------------
# Reading a function's source
# ---------------------------------------------------------------------------------------------


@dataclass
class Source:
    """The parsed definition of a function, with what is needed to report locations."""

    fn: Callable[..., Any]
    filename: str
    firstline: int
    indent: int
    lines: list[str]
    node: cst.FunctionDef
    positions: Any
    home: int = 1  # the line of ``lines`` where the function starts (a lambda read with its whole file)

    @property
    def def_line(self) -> int:
        """The line in the file where the function starts."""
        return self.firstline + self.home - 1


_source_cache: dict[Any, Source] = {}


def read_source(fn: Callable[..., Any]) -> Source:
    """Parse the source of ``fn`` (cached by code object; of its function, for a method)."""
    fn = fn.__func__ if isinstance(fn, pytypes.MethodType) else fn
    code = getattr(fn, "__code__", None)  # equal code objects in two files are still two sources
    key = (code, code.co_filename) if code is not None else fn
    cached = _source_cache.get(key)
    if cached is not None:
        # same code, but this function object's own globals and closure cells
        return cached if cached.fn is fn else dataclasses.replace(cached, fn=fn)
    name = getattr(fn, "__name__", repr(fn))
    if not isinstance(fn, pytypes.FunctionType):
        raise SourceError(f"adc differentiates plain Python functions; got {type(fn).__name__} {name!r}")
    try:  # from the code object: the function's own source, not its ``__wrapped__`` one's
        lines, firstline = inspect.getsourcelines(fn.__code__)
        filename = inspect.getsourcefile(fn.__code__) or fn.__code__.co_filename
    except (OSError, TypeError) as exc:
        raise no_source(fn, exc) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    try:
        module = MetadataWrapper(cst.parse_module(dedented))
    except cst.ParserSyntaxError as exc:
        if fn.__name__ == "<lambda>":  # a lambda inside a longer expression (a call's argument, a dict)
            src = _lambda_in_its_file(fn, filename)
            _source_cache[key] = src
            return src
        raise SourceError(f"{filename}:{firstline}: cannot parse the source of {name!r}: {exc}") from None
    positions = module.resolve(PositionProvider)
    if fn.__name__ == "<lambda>":
        node = _lambda_as_def(fn, module.module, filename, firstline)
    else:
        node = next((s for s in module.module.body if isinstance(s, cst.FunctionDef)), None)
    if node is None:
        raise SourceError(f"{filename}:{firstline}: no `def` found in the source of {name!r}")
    src = Source(fn, filename, max(firstline, 1), indent, dedented.splitlines(), node, positions)
    _source_cache[key] = src
    return src


def _lambda_in_its_file(fn: Callable[..., Any], filename: str) -> Source:
    """The source of a lambda whose lines do not parse on their own (``adc.grad(`` on the line
    before it, a dict entry): its whole file is parsed, and the lambda is the one with its
    parameters that starts on its line."""
    line = fn.__code__.co_firstlineno
    text = "".join(linecache.getlines(filename))
    try:
        module = MetadataWrapper(cst.parse_module(text))
    except cst.ParserSyntaxError as exc:
        raise SourceError(f"{filename}:{line}: cannot parse the file of this lambda: {exc}") from None
    positions = module.resolve(PositionProvider)
    node = _lambda_as_def(fn, module.module, filename, line, lambda lam: positions[lam].start.line == line)
    return Source(fn, filename, 1, 0, text.splitlines(), node, positions, home=line)


def _lambda_as_def(fn: Callable[..., Any], module: cst.Module, filename: str, firstline: int,
                   where: Callable[[cst.Lambda], bool] | None = None) -> cst.FunctionDef:
    """The ``lambda`` of ``fn`` in the source lines that define it (those of them ``where``
    accepts), as a ``def`` returning its body (the body's nodes are the parsed ones, so errors
    still point into the lambda).  It is found by its parameters; two lambdas with the same
    parameters on those lines cannot be told apart."""
    code = fn.__code__
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])

    class Find(cst.CSTVisitor):
        found: list[cst.Lambda] = []

        def visit_Lambda(self, node: cst.Lambda) -> None:
            names = [p.name.value for p in (*node.params.posonly_params, *node.params.params,
                                             *node.params.kwonly_params)]
            if names == params and (where is None or where(node)):
                self.found.append(node)

    finder = Find()
    finder.found = []
    module.visit(finder)
    if len(finder.found) != 1:
        how = "no lambda" if not finder.found else "several lambdas"
        raise SourceError(f"{filename}:{firstline}: {how} with parameters ({', '.join(params)}) in the source "
                          "lines of this lambda; hint: define the function with `def`")
    lam = finder.found[0]
    body = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Return(value=lam.body)])])
    return cst.FunctionDef(name=cst.Name(LAMBDA_NAME), params=lam.params, body=body)


LAMBDA_NAME = "lambda_"  # what generated code calls a lambda (``lambda__grad``)


def function_name(fn: Callable[..., Any]) -> str:
    """A name for ``fn`` that is an identifier (a lambda's ``<lambda>`` is not)."""
    name = getattr(fn, "__name__", "f")
    return name if name.isidentifier() else LAMBDA_NAME


# ---------------------------------------------------------------------------------------------
# Lowering
# ---------------------------------------------------------------------------------------------

Value = Any  # an Atom, a tuple of Values, a Prim, a Module, or a user function


_TRANSFORMS = ("grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian", "hvp", "sparse_jacobian",
               "sparse_hessian", "batched_jvp", "source", "trace")


def _adc_transform(obj: Any) -> bool:
    """Is ``obj`` one of adc's own transforms (``adc.grad``), which make a function rather than
    compute a value (``adc.checkpointed`` and the custom rules are read where they are used)?"""
    import adc

    return any(obj is getattr(adc, name, None) for name in _TRANSFORMS)


class Lowerer(ControlFlow, ArrayExpressions, ContainerExpressions, EffectStatements, UserCalls, ListStatements,
              ObjectAttributes):
    """Lowers one function body into the builder's current region."""

    def __init__(self, src: Source, builder: Builder, call_stack: tuple[Any, ...] = (),
                 names: set[str] | None = None, owned: set[Var] | None = None,
                 captures: dict[tuple[int, str], Captured] | None = None, kept: dict[Any, Any] | None = None) -> None:
        self.src = src
        # user functions kept as functions (``frontend_calls.py``), shared with inlined callees
        self.kept = kept if kept is not None else {}
        # global and closure arrays read (shared with inlined callees): extra inputs of the program
        self.captures: dict[tuple[int, str], Captured] = captures if captures is not None else {}
        self.names = names if names is not None else set()
        # arrays created by the differentiated code (shared with inlined callees): the only ones it may write
        self.owned: set[Var] = owned if owned is not None else set()
        self.names.update(user_names(src))
        self.b = builder
        self.call_stack = call_stack + (src.fn.__code__,)
        self.env: dict[str, Value] = {}
        self.outer: Lowerer | None = None  # the caller, for an inlined helper (its names see our writes)
        self.kept_params: set[Var] = set()  # a kept function's parameters: the caller's arrays
        self.carried_from: dict[Var, Atom] = {}  # a loop's region argument: the value it starts as
        self.kind_errors: list[list[Exception]] = []  # per loop being lowered (``ControlFlow.refuse_kinds``)
        self.loop_only: dict[str, cst.CSTNode] = {}  # names bound in a loop and not before it (``ControlFlow.loop``)
        self.held_by_lists: set[Var] = set()  # arrays appended to a list of run-time length (it holds them)
        self.numpy_numbers: set[Var] = set()  # numbers a NumPy function returned (``number_semantics.py``)
        self.python_numbers: set[Var] = set()  # numbers a ``math`` function returned (``math.pow``, ``math.fabs``)
        self.rebound_by: tuple[cst.CSTNode, set[str]] | None = None  # the statement `names = <call>` being lowered
        self.caller_rebinds: set[str] = set()  # an inlined helper's: the caller's names its result rebinds
        self.loop_depth = 0
        self.outer_loops = 0  # the loops of the program around this body (an inlined helper's callers')
        fn = src.fn
        self.closure = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))
        self.cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))

    # -- locations and errors ------------------------------------------------------------------
    def loc(self, node: cst.CSTNode) -> Loc:
        pos = self.src.positions.get(node)
        if pos is None:
            home = self.src.home
            return Loc(self.src.filename, self.src.def_line, 0, self.src.lines[home - 1] if self.src.lines else "")
        line = pos.start.line
        text = self.src.lines[line - 1] if line - 1 < len(self.src.lines) else ""
        return Loc(self.src.filename, self.src.firstline + line - 1, pos.start.column + self.src.indent,
                   " " * self.src.indent + text)

    def fail(self, node: cst.CSTNode, message: str, hint: str | None = None) -> UnsupportedError:
        return UnsupportedError(message, self.loc(node), hint or GENERIC_HINT)

    def unsupported(self, node: cst.CSTNode) -> UnsupportedError:
        what, hint = _unsupported(node)
        return self.fail(node, f"unsupported construct: {what}", hint)

    # -- entry points ------------------------------------------------------------------------------
    def bind_params(self, args: Sequence[Value], keywords: dict[str, Value] | None = None,
                    top: bool = True) -> None:
        """Bind the parameters to ``args`` and ``keywords`` as Python does: defaults, keyword
        arguments, keyword-only parameters, ``*args`` (a tuple) and ``**kwargs`` (a dict).  The
        function being differentiated (``top``) has no ``**kwargs``: the API passes its arguments
        flat (``Signature``)."""
        params = self.src.node.params
        fn = self.src.fn
        if top and isinstance(params.star_kwarg, cst.Param):
            raise self.fail(params.star_kwarg, "unsupported construct: **kwargs of the function being differentiated",
                            "list the keyword parameters explicitly (keyword-only parameters and *args work)")
        names = [p.name.value for p in (*params.posonly_params, *params.params)]
        keywords = dict(keywords or {})
        bound: dict[str, Value] = dict(zip(names, args))
        star = params.star_arg.name.value if isinstance(params.star_arg, cst.Param) else None
        if len(args) > len(names) and star is None:
            raise self.fail(self.src.node, f"{fn.__name__}() takes {len(names)} positional arguments but was "
                                           f"called with {len(args)}", "pass every parameter once")
        if star is not None:
            bound[star] = tuple(args[len(names):])
        kwonly = [p.name.value for p in params.kwonly_params]
        for name in [*names[len(params.posonly_params):], *kwonly]:
            if name in keywords:
                if name in bound:
                    raise self.fail(self.src.node, f"{fn.__name__}() got two values for `{name}`",
                                    "pass it once")
                bound[name] = keywords.pop(name)
        if isinstance(params.star_kwarg, cst.Param):
            bound[params.star_kwarg.name.value] = Record("dict", tuple(keywords), tuple(keywords.values()))
        elif keywords:
            raise self.fail(self.src.node, f"{fn.__name__}() has no parameter `{next(iter(keywords))}`",
                            f"its parameters: {', '.join(names + kwonly)}")
        defaults = dict(zip(names[len(names) - len(fn.__defaults__ or ()):], fn.__defaults__ or ()))
        defaults.update(fn.__kwdefaults__ or {})
        for name in names + kwonly:
            if name not in bound:
                if name not in defaults:
                    raise self.fail(self.src.node, f"{fn.__name__}() is called without a value for `{name}`",
                                    "pass every parameter that has no default value")
                default = defaults[name]  # a string default is an option (activation="tanh")
                bound[name] = default if isinstance(default, str) else self.classify(default, self.src.node)
        self.env.update(bound)

    def run(self) -> Value:
        self.check_plain_function()
        flow = self.block(self.src.node.body.body)
        if flow.ret is not TRUE:
            raise self.fail(self.src.node, "the function can end without returning a value",
                            "end every path with `return <expression>`")
        return flow.value

    # -- statements ------------------------------------------------------------------------------
    def block(self, stmts: Sequence[cst.CSTNode]) -> Flow:
        """Lower a statement list; the flow says how it ended (fell through, returned, broke)."""
        for i, stmt in enumerate(stmts):
            rest = list(stmts[i + 1:])
            if isinstance(stmt, cst.If):
                flow = self.if_statement(stmt, rest if has_exit(stmt) else [])
                if flow.done:
                    return flow
            elif isinstance(stmt, NextItem):  # the next iteration of a loop adc unrolls (`return` inside)
                return self.next_item(stmt, rest)
            elif isinstance(stmt, CompBody):  # an iteration of a comprehension with a run-time length
                self.comprehension_body(stmt)
            elif isinstance(stmt, (cst.For, cst.While)):
                flow = self.for_statement(stmt, rest) if isinstance(stmt, cst.For) else self.while_statement(stmt)
                if flow.done:  # an unrolled loop that returns: it lowered the rest as its continuation
                    return flow
                if flow.ret is not FALSE:
                    return self.guard_rest(flow, rest, stmt)
            elif isinstance(stmt, (cst.SimpleStatementLine, cst.BaseSmallStatement)):
                # a line of statements, or one statement of a one-line body (`if c: return x`)
                for small in (stmt.body if isinstance(stmt, cst.SimpleStatementLine) else [stmt]):
                    flow = self.small_statement(small, is_first=(i == 0))
                    if flow is not None:
                        return flow
            else:
                raise self.unsupported(stmt)
        return Flow()

    def small_statement(self, node: cst.CSTNode, is_first: bool) -> Flow | None:
        with self.b.at(self.loc(node)):
            if isinstance(node, cst.Assign):
                # `w = step(w, g)`: the names this call's result rebinds (``check_in_place``)
                self.rebound_by = (node.value, {t.target.value for t in node.targets if isinstance(t.target, cst.Name)})
                try:
                    value = self.expr(node.value)
                finally:
                    self.rebound_by = None
                for target in node.targets:
                    self.assign(target.target, value)
            elif isinstance(node, cst.AnnAssign):
                if node.value is not None:
                    self.assign(node.target, self.expr(node.value))
            elif isinstance(node, cst.AugAssign):
                prim = AUG_OPS.get(type(node.operator))
                if prim is None:
                    raise self.fail(node, f"unsupported operator {node.operator.__class__.__name__}", OPERATOR_HINT)
                self.check_in_place(node)
                self.assign(node.target, self.binary(prim, self.expr(node.target), self.expr(node.value), node))
            elif isinstance(node, cst.Return):
                if node.value is None:
                    raise self.fail(node, "`return` without a value", "return the number or tuple to differentiate")
                value = self.expr(node.value)
                if isinstance(value, str):
                    raise self.fail(node.value, "`return` of a string", "return the number or tuple to differentiate")
                if value is NONE:
                    raise self.fail(node, "`return None`", "return the number or tuple to differentiate")
                if dynamic_lists(value) and len(self.call_stack) == 1:  # a result (an inlined helper's is a value)
                    raise self.fail(node.value, f"`return` of {dynamic_lists(value)[0].describe()}",
                                    f"return an array: `np.stack({dynamic_lists(value)[0].name})`")
                return Flow(ret=TRUE, brk=TRUE if self.loop_depth else FALSE, value=value, done=True)
            elif isinstance(node, cst.Break):
                return Flow(brk=TRUE, done=True)
            elif isinstance(node, cst.Continue):
                return Flow(done=True)
            elif isinstance(node, cst.Expr):
                if isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString)) and is_first:
                    return None  # docstring
                if isinstance(node.value, cst.Call) and self.callee(node.value.func) == ArrayFn("add_at"):
                    self.expr(node.value)  # np.add.at(y, idx, v): a write into y
                    return None
                if self.grow_list(node):
                    return None
                raise self.expression_statement(node)
            elif isinstance(node, cst.Pass):
                return None
            else:
                raise self.unsupported(node)
        return None

    def assign(self, target: cst.BaseExpression, value: Value) -> None:
        if isinstance(target, cst.Name):
            if isinstance(value, Var) and value.hint is None and value.role == "primal":
                value.hint = target.value
            self.named_list(value, target.value)
            self.env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            if isinstance(value, Record) and value.kind == "namedtuple":
                value = value.values
            if not isinstance(value, tuple):
                raise self.fail(target, "cannot unpack a non-tuple value", "unpack only tuples of numbers")
            starred = next((el for el in target.elements if isinstance(el, cst.StarredElement)), None)
            if starred is not None:
                raise self.fail(starred, "unsupported construct: starred assignment target", "use one name per value")
            if len(value) != len(target.elements):
                raise self.fail(target, f"cannot unpack {len(value)} values into {len(target.elements)} names",
                                "use one name per value (starred targets are not supported)")
            for el, v in zip(target.elements, value):
                self.assign(el.value, v)
        elif isinstance(target, cst.Subscript):
            self.store(target, value)
        else:
            raise self.fail(target, f"unsupported assignment target {type(target).__name__}",
                            "assign to plain names or array elements")

    # -- expressions -----------------------------------------------------------------------------
    def expr(self, node: cst.BaseExpression) -> Value:
        with self.b.at(self.loc(node)):
            return self._expr(node)

    def _expr(self, node: cst.BaseExpression) -> Value:
        if isinstance(node, cst.Name):
            return self.name(node)
        if isinstance(node, cst.Integer):
            return Const(int(node.value.replace("_", ""), 0))
        if isinstance(node, cst.Float):
            return Const(float(node.value.replace("_", "")))
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            text = node.evaluated_value
            if not isinstance(text, str):
                raise self.fail(node, "unsupported construct: bytes string", "use a str key (`d['key']`)")
            return text  # a dict key (`params['W']`); anything else rejects it as not a number
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.MatrixMultiply):
                left, right = self.expr(node.left), self.expr(node.right)
                if not all(isinstance(v, Var) and v.type.is_array for v in (left, right)):
                    raise self.fail(node, "`@` of something that is not an array",
                                    "use `*` for numbers (Python's `@` needs arrays)")
                return self.matmul(left, right, node)
            prim = BINARY_OPS.get(type(node.operator))
            if prim is None:
                raise self.fail(node, f"unsupported operator `{node.operator._get_token()}`", OPERATOR_HINT)
            return self.binary(prim, self.expr(node.left), self.expr(node.right), node)
        if isinstance(node, cst.UnaryOperation):
            operand = self.scalar(self.expr(node.expression), node.expression)
            if isinstance(node.operator, cst.Minus):
                if operand.type.kind == "bool" and not operand.type.is_array:
                    raise self.fail(node, "`-` of a condition: NumPy refuses it for its bools (a comparison of "
                                          "array elements), Python gives -1 for `-True`",
                                    "write `-int(c)`, or `-1.0 if c else 0.0`")
                return self.b.neg(operand)
            if isinstance(node.operator, cst.Plus):
                return operand
            if isinstance(node.operator, cst.Not):
                return self.b.emit("not", operand)
            return self.invert(operand, node)
        if isinstance(node, (cst.Tuple, cst.List)):
            items: list[Value] = []
            for el in node.elements:
                value = self.expr(el.value)
                if isinstance(el, cst.StarredElement):
                    if not isinstance(value, tuple):
                        raise self.fail(el, "unsupported construct: starred expression of something other than a "
                                            "tuple", "list the elements explicitly")
                    items.extend(value)
                else:
                    items.append(value)
            return make_list(items, self) if isinstance(node, cst.List) else tuple(items)
        if isinstance(node, cst.Dict):
            return self.dict_display(node)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            return self.comprehension(node)
        if isinstance(node, cst.Attribute):
            return self.attribute(node)
        if isinstance(node, cst.Call):
            return self.call(node)
        if isinstance(node, cst.Comparison):
            return self.comparison(node)
        if isinstance(node, cst.BooleanOperation):
            return self.lazy_bool("and" if isinstance(node.operator, cst.And) else "or", node)
        if isinstance(node, cst.IfExp):
            return self.if_expression(node)
        if isinstance(node, cst.Subscript):
            return self.subscript(node)
        raise self.unsupported(node)

    def scalar(self, value: Value, node: cst.CSTNode) -> Atom:
        """``value`` as an atom, or a located error if it is a tuple, module or function."""
        if isinstance(value, (Var, Const)):
            return value
        if isinstance(value, tuple):
            raise self.fail(node, "expected a number or an array here, got a tuple",
                            "index the tuple (`t[0]`) or unpack it (`a, b = t`) first; adc has no tuple arithmetic")
        if value is NONE:
            raise self.fail(node, "expected a number or an array here, got None",
                            "return or use a number; adc differentiates numeric values only")
        if isinstance(value, Record):
            raise self.fail(node, f"expected a number or an array here, got {describe(value)}",
                            "take a value out of it first (`d['key']`, `p.field`)")
        if isinstance(value, str):
            raise self.fail(node, "expected a number or an array here, got a string",
                            "strings are only dict keys in differentiated code")
        if isinstance(value, Instance):
            raise self.fail(node, f"expected a number or an array here, got {describe_object(value)}",
                            "read one of its attributes (`obj.W`) or call one of its methods")
        if isinstance(value, DynamicList):
            raise self.fail(node, f"expected a number or an array here, got {value.describe()}",
                            f"stack it (`np.stack({value.name})`), index it (`{value.name}[i]`) or loop over it")
        what = "a module" if isinstance(value, Module) else "a function"
        raise self.fail(node, f"expected a number or an array here, got {what}", "call it, or use a number")

    def binary(self, prim: str, left: Value, right: Value, node: cst.CSTNode) -> Atom:
        a, c = self.scalar(left, node), self.scalar(right, node)
        if prim in ("add", "sub") and all(v.type.kind == "bool" and not v.type.is_array for v in (a, c)):
            raise self.fail(node, f"`{'+' if prim == 'add' else '-'}` of two conditions: for NumPy's bools (a "
                                  "comparison of array elements) `c + d` is `c or d`, for Python's it is a count, "
                                  "and NumPy refuses `c - d`",
                            "write `c | d` for either, `c ^ d` for exactly one, `int(c) + int(d)` to count")
        if prim in BITWISE_SYMBOLS and (a.type.kind == "float" or c.type.kind == "float"):
            raise self.fail(node, f"`{BITWISE_SYMBOLS[prim]}` of a float: bitwise operators take integers and "
                                  "bools (Python and NumPy raise a TypeError)",
                            "to combine conditions, compare first: `(x > 0) & (y < 1)` on arrays, `and`/`or` "
                            "on numbers")
        if prim == "pow" and a.type.kind == "int" and c.type.kind == "int" and not a.type.is_array \
                and not (isinstance(c, Const) and c.value >= 0):
            a = self.b.emit("float", a)  # Python gives a float for int ** negative int (Numba would not)
        return self.b.emit(prim, a, c)

    def invert(self, operand: Atom, node: cst.CSTNode, numpy: bool = False) -> Atom:
        """``~n`` of an integer, ``~mask`` of a bool array (NumPy's logical not); ``numpy``:
        ``np.invert(c)``, which is ``not c`` for a bool."""
        if operand.type.kind == "bool" and not operand.type.is_array and numpy:
            return self.b.emit("not", operand)
        if operand.type.kind == "float":
            raise self.fail(node, "`~` of a float: bitwise operators take integers and bools",
                            "for a condition write `not c`, for a mask `~(x > 0)` or `x <= 0`")
        if operand.type.kind == "bool" and not operand.type.is_array:
            raise self.fail(node, "`~` of a condition: for Python's bools `~True` is -2 and `~False` is -1 (both "
                                  "true), for NumPy's (a comparison of array elements) it is `not`",
                            "write `not c` (adc's `~` negates bool arrays and integers only)")
        return self.b.emit("invert", operand)

    def comparison(self, node: cst.Comparison) -> Atom:
        first = self.expr(node.left)
        if isinstance(first, str):  # activation == "tanh": decided while compiling
            return self.string_comparison(first, node)
        left = self.scalar(first, node.left)
        result: Atom | None = None
        for comp in node.comparisons:
            prim = COMPARE_OPS.get(type(comp.operator))
            if prim is None:
                op = {cst.Is: "is", cst.IsNot: "is not", cst.In: "in", cst.NotIn: "not in"}.get(
                    type(comp.operator), type(comp.operator).__name__)
                raise self.fail(node, f"unsupported comparison `{op}`",
                                "use <, <=, >, >=, == or !=")
            right = self.scalar(self.expr(comp.comparator), comp.comparator)
            test = self.b.emit(prim, left, right)
            result = test if result is None else self.b.emit("and", result, test)
            left = right
        assert result is not None
        return result

    def string_comparison(self, left: str, node: cst.Comparison) -> Const:
        """``==``, ``!=``, ``in`` and ``not in`` between strings (options such as
        ``activation="relu"``, dict keys): a constant."""
        ops = {cst.Equal: lambda a, b: a == b, cst.NotEqual: lambda a, b: a != b,
               cst.In: lambda a, b: a in b, cst.NotIn: lambda a, b: a not in b}
        result = True
        for comp in node.comparisons:
            right = self.expr(comp.comparator)
            if isinstance(right, Record) and right.kind == "dict":
                right = right.keys
            elif isinstance(right, tuple) and all(isinstance(r, str) for r in right):
                pass
            elif not isinstance(right, str):
                raise self.fail(comp.comparator, "a string compared with something that is not a string",
                                "compare strings with strings (options, dict keys)")
            op = ops.get(type(comp.operator))
            if op is None:
                raise self.fail(node, "unsupported comparison of strings", "use ==, !=, in or not in")
            result = result and op(left, right)
            left = right if isinstance(right, str) else left
        return Const(bool(result))

    def name(self, node: cst.Name) -> Value:
        name = node.value
        if name in ("True", "False"):
            return Const(name == "True")
        if name == "None":
            return NONE
        if name in self.env:
            if isinstance(self.env[name], Unmerged):
                raise self.unmerged(self.env[name], node)
            return self.env[name]
        code = self.src.fn.__code__
        name = private_name(name, self.src.fn.__qualname__)  # a global __G read in a method of Model: _Model__G
        if name in self.loop_only:
            line = self.loc(self.loop_only[name]).line
            raise self.fail(node, f"`{name}` is bound only inside the loop on line {line}: after the loop it is not defined "
                                  "when the loop does not run", f"bind it before the loop (`{name} = 0`): then after the "
                                  "loop it holds the value of the last iteration, as in Python")
        if name in code.co_varnames or name in code.co_cellvars:  # local to all the function: Python's rule
            raise self.fail(node, f"`{name}` may be unassigned here: it is assigned in {self.src.fn.__name__} (so it is local "
                                  "to all of it), but not on every path to this line (Python raises UnboundLocalError "
                                  "where it is not)",
                            f"assign `{name}` on every path before this line (`{name} = 0.0` first, before any branch "
                            "or loop), or rename the local variable if you meant the global")
        if name in self.closure:
            return self.outer_value(self.closure[name], self.cells[name], name, node)
        g = self.src.fn.__globals__
        if name in g:
            return self.outer_value(g[name], g, name, node)
        if hasattr(builtins, name):
            return self.classify(getattr(builtins, name), node)
        raise self.fail(node, f"name `{name}` is not defined", "define it before use or pass it as an argument")

    def attribute(self, node: cst.Attribute) -> Value:
        base = self.expr(node.value)
        attr = private_name(node.attr.value, self.src.fn.__qualname__)  # self.__s in a method of Model: _Model__s
        if isinstance(base, Record):
            return self.record_attribute(base, attr, node)
        if isinstance(base, Prim) and base.name == "add" and attr == "at":  # np.add.at(y, idx, v)
            return ArrayFn("add_at")
        if isinstance(base, Instance):
            return self.object_attribute(base, attr, node)
        if isinstance(base, Module):
            if not hasattr(base.module, attr):
                raise self.fail(node, f"module `{base.module.__name__}` has no attribute `{attr}`",
                                "see docs/language.md for the math/NumPy functions adc supports")
            return self.outer_value(getattr(base.module, attr), vars(base.module), attr, node)  # read like a global
        if isinstance(base, Var) and base.type is not None and base.type.is_array:
            if attr == "shape":
                return self.shape_of(base)
            if attr == "ndim":
                return Const(base.type.ndim)
            if attr == "size":
                return self.b.emit("count", base)
            if attr == "T":
                return base if base.type.ndim == 1 else self.b.emit("transpose", base)
            if attr in ARRAY_METHODS:
                return Method(ARRAY_METHODS[attr], base)
        raise self.fail(node, f"unsupported attribute `.{attr}`", "see docs/language.md for the supported subset")

    # -- arrays ----------------------------------------------------------------------------------
    def array_value(self, value: Value, node: cst.CSTNode) -> Var:
        if isinstance(value, Var) and value.type is not None and value.type.is_array:
            return value
        raise self.fail(node, f"expected a NumPy array here, got {self.describe_value(value)}",
                        "adc applies this to arrays only: pass an array (NumPy would convert a number or list; "
                        "adc does not)")

    def describe_value(self, value: Value) -> str:
        """What ``value`` is, for a message: "a number", "a list of 2 numbers", "a function" ..."""
        return "a number" if isinstance(value, (Var, Const)) else "None" if value is NONE else \
            "a module" if isinstance(value, Module) else "a string" if isinstance(value, str) else \
            describe_object(value) if isinstance(value, Instance) else \
            describe(value) if is_container(value) or isinstance(value, DynamicList) else "a function"

    def shape_of(self, arr: Var) -> tuple[Atom, ...]:
        return tuple(self.b.emit("shape", arr, params=(("dim", d),)) for d in range(arr.type.ndim))

    def length_one(self, dim: Atom) -> bool:
        """Is the length ``dim`` known to be 1: the constant 1, or a length-1 axis of an array
        (``len(x)``, ``x.shape[0]``, ``x.size``, whose types show it)?  A new array's type marks
        those axes (``np.zeros((len(x), 3))``), so reverse mode sums adjoints over them."""
        if isinstance(dim, Const):
            return dim.value == 1
        op = self.b.defs.get(dim)
        if op is None or op.prim not in ("shape", "count") or not isinstance(op.args[0], Var):
            return False
        t = op.args[0].type
        if op.prim == "count":
            return not op.params and all(t.one(k) for k in range(t.ndim))
        return t.one(dict(op.params)["dim"])

    def construct(self, name: str, args: list[Value], node: cst.Call) -> Var:
        """``np.zeros(n)``, ``np.zeros((n, m))``, ``np.zeros_like(x)``, ``x.copy()`` ...: a new array."""
        if name in ("zeros", "ones", "empty"):
            if len(args) != 1:
                raise self.fail(node, f"np.{name}() takes one shape argument here", "pass the shape only")
            dims = args[0] if isinstance(args[0], tuple) else (args[0],)
            atoms = [self.scalar(d, node) for d in dims]
            if any(a.type.kind != "int" for a in atoms):
                raise self.fail(node, f"np.{name}() needs integer dimensions", "convert them with int(...)")
            ones = tuple(self.length_one(a) for a in atoms)
            out = self.b.emit(name, *atoms, params=(("ones", ones),))
        else:
            if len(args) != 1:
                raise self.fail(node, f"{name}() takes one array here", "pass exactly one array")
            out = self.b.emit(name, self.array_value(args[0], node))
        self.owned.add(out)
        return out

    def outer_value(self, obj: Any, holder: Any, name: str, node: cst.CSTNode) -> Value:
        """A global or closure variable: an array becomes an input of the program that the API
        reads from ``holder`` (the globals dict or the closure cell) at every call, so a changed
        array is seen on the next call; anything else is classified once."""
        if isinstance(obj, np.ndarray) and obj.ndim and obj.dtype.kind in "biuf":
            key = (id(holder), name)
            if key not in self.captures:
                self.captures[key] = Captured(Var(hint=name, type=type_of(obj)), holder, name)
            return self.captures[key].var
        return self.classify(obj, node)

    def classify(self, obj: Any, node: cst.CSTNode) -> Value:
        """What a global or closure object means inside the differentiated function."""
        if isinstance(obj, pytypes.ModuleType):
            return Module(obj)
        if isinstance(obj, (type, pytypes.BuiltinFunctionType)) and obj in SEQUENCE_BUILTINS:
            return SEQUENCE_BUILTINS[obj]
        if isinstance(obj, (bool, int, float, np.bool_, np.integer, np.floating)):
            return Const(obj.item() if isinstance(obj, np.generic) else obj)
        if obj is None:
            return NONE
        if isinstance(obj, np.ndarray):
            raise self.fail(node, *unsupported_value(obj, node, self.src.fn, self.closure))
        try:
            prim = KNOWN_FUNCTIONS.get(obj)
        except TypeError:
            prim = None
        if prim is not None:
            return prim
        handler = numpy_handler(obj)
        if handler is not None:
            return ArrayFn(handler)
        if isinstance(obj, (custom_vjp, custom_jvp)):
            return obj
        problem = transform_problem(obj)  # made by adc.grad & co (composable ones are inlined), or decorated
        if problem is not None:
            raise self.fail(node, *problem)
        if isinstance(obj, pytypes.FunctionType) and _adc_transform(obj):
            name = getattr(obj, "__name__", "this function")
            raise self.fail(node, f"a call of adc's own `adc.{name}` inside a function adc differentiates",
                            f"make the derivative function at module level (`g = adc.{name}(f)`) and call it "
                            "here (`g(x)`): adc differentiates through a function adc made")
        if isinstance(obj, pytypes.FunctionType):
            return obj
        if isinstance(obj, pytypes.MethodType) and bound_method(obj) is not None:
            return bound_method(obj)
        if is_plain_object(obj) or is_user_class(obj):  # its attributes are read like globals
            return Instance(obj)
        raise self.fail(node, *unsupported_value(obj, node, self.src.fn, self.closure))

    def call(self, node: cst.Call) -> Value:
        func = self.expr(node.func)
        if made_mark(func) is not None:  # made by adc.grad/value_and_grad: its derivative program
            args, keywords = self.call_arguments(node)
            if keywords:
                raise self.fail(node, f"pass the arguments of {func.__name__} by position", "drop the keywords")
            return self.inline_made(func, args, node)
        if isinstance(func, pytypes.FunctionType):  # a user function: Python's full call syntax
            return self.user_call(func, *self.call_arguments(node), node)
        if isinstance(func, BoundMethod):  # self.helper(x), model.loss(x), cls.make(x)
            return self.call_method(func, node)
        if isinstance(func, Instance) and not is_user_class(func.obj) \
                and isinstance(getattr(func.obj, "__call__", None), pytypes.MethodType):  # layer(x)
            return self.call_method(bound_method(func.obj.__call__), node)
        if isinstance(func, Instance):
            raise self.fail(node, f"calling {describe_object(func)}: adc does not create or call objects inside a "
                                  "differentiated function", "create the object outside and read its attributes or "
                                                             "call its methods inside")
        if isinstance(func, (custom_vjp, custom_jvp)):
            return self.custom_call(func, node)
        for arg in node.args:
            if arg.star:
                raise self.fail(arg, "unsupported construct: starred argument", "pass arguments explicitly")
            if arg.keyword is not None and not isinstance(func, (Method, ArrayFn)):
                raise self.fail(arg, "unsupported keyword argument", "pass arguments by position")
        args = [self.expr(a.value) for a in node.args if a.keyword is None]
        result = self.library_call(func, args, node)
        numbers = [v for v in leaves(result) if isinstance(v, Var) and v.type is not None and not v.type.is_array]
        if isinstance(func, ArrayFn) or (isinstance(func, Method) and func.name != "item") \
                or (isinstance(func, Prim) and func.numpy and func.name != "shape"):  # (``number_semantics.py``)
            self.numpy_numbers.update(numbers)
        elif isinstance(func, Prim) and func.math:
            self.python_numbers.update(numbers)
        return result

    def follow_numbers(self, region: Region) -> None:
        """Make ``/`` and ``**`` in ``region``, which this lowering (and its inlined callees) filled,
        those of their operands' numbers (``number_semantics.py``)."""
        follow_number_semantics(region, self.numpy_numbers, self.python_numbers)

    def library_call(self, func: Any, args: list[Value], node: cst.Call) -> Value:
        """A call of a function or method of Python, ``math``, NumPy or SciPy on lowered ``args``."""
        if isinstance(func, Method):
            return self.array_call(func.name, args, node, method_of=func.base)
        if isinstance(func, ArrayFn):
            return self.array_call(func.name, args, node)
        if isinstance(func, RecordMethod):
            return self.record_method(func, args, node)
        if isinstance(func, SequenceFn) or (isinstance(func, Prim) and func.name == "enumerate"
                                            and len(args) == 1 and is_container(args[0])):
            return self.sequence_call(func.name, args, node)
        if isinstance(func, Prim) and func.name in ("range", "enumerate"):
            raise self.fail(node, f"{func.name}() is supported only as the iterable of a `for` loop",
                            f"write `for i in {func.name}(...):`")
        if isinstance(func, Prim) and func.name == "len":
            if len(args) != 1:
                raise self.fail(node, "len() takes one argument", "pass one array or tuple")
            if is_container(args[0]) or isinstance(args[0], str):
                return Const(len(args[0].keys if isinstance(args[0], Record) else args[0]))
            if isinstance(args[0], DynamicList):
                return self.list_length(args[0])
            return self.b.emit("shape", self.array_value(args[0], node), params=(("dim", 0),))
        if isinstance(func, Prim) and func.name == "shape":
            if len(args) != 1:
                raise self.fail(node, "np.shape() takes one argument", "pass one array")
            return self.shape_of(self.array_value(args[0], node))
        if isinstance(func, Prim) and get(func.name).fresh:  # np.zeros(n), np.copy(x) ...: a new array
            return self.construct(func.name, args, node)
        if isinstance(func, Prim) and func.variadic and len(args) == 1 and isinstance(args[0], DynamicList):
            return self.list_reduction(func.name, args[0], Const(0), node)  # max(hs), min(hs)
        if isinstance(func, Prim) and func.variadic and len(args) == 1 and is_container(args[0]):
            items = self.sequence_items(args[0], node)  # max(list) / min(generator expression)
            if not items:
                raise self.fail(node, f"{func.name}() of an empty sequence", "pass at least one value")
            atoms = [self.scalar(a, node) for a in items]
            return atoms[0] if len(atoms) == 1 else self.call_variadic(func.name, atoms)
        if isinstance(func, Prim):
            atoms = [self.scalar(a, n.value) for a, n in zip(args, node.args)]
            if func.variadic and len(atoms) >= 2:
                return self.call_variadic(func.name, atoms)
            arity = get(func.name).arity
            if len(atoms) != arity:
                hint = "for the largest or smallest element of an array use np.max(x) or np.min(x)" \
                    if func.variadic and len(atoms) == 1 else f"pass {arity} argument{'s' if arity > 1 else ''}"
                raise self.fail(node, f"{func.name}() takes {arity} argument{'s' if arity > 1 else ''} here, "
                                      f"got {len(atoms)}", hint)
            if func.name in ("float", "int") and atoms[0].type.is_array:
                raise self.fail(node, f"{func.name}() of an array", f"index one element first: {func.name}(x[i])")
            if func.name in BITWISE_SYMBOLS or func.name in ("add", "sub", "pow"):  # np.bitwise_and(m, n): `m & n`
                return self.binary(func.name, atoms[0], atoms[1], node)
            if func.name == "invert":
                return self.invert(atoms[0], node, numpy=True)
            return self.b.emit(func.name, *atoms)
        raise self.fail(node.func, "this is not a function adc can call",
                        "call a math/NumPy function adc supports (docs/language.md) or a module-level function")

    def call_method(self, method: BoundMethod | None, node: cst.Call) -> Value:
        """A method call: the function inlined with the object as its first argument."""
        if method is None:
            raise self.fail(node.func, "this object's method is not a plain Python function",
                            "call a method defined with `def` in the class")
        args, keywords = self.call_arguments(node)
        return self.inline(method.fn, [method.self, *args], keywords, node)

    def call_variadic(self, prim: str, atoms: list[Atom]) -> Atom:
        """``max(a, b, c)``: folded pairwise, left to right."""
        acc = atoms[0]
        for a in atoms[1:]:
            acc = self.b.emit(prim, acc, a)
        return acc

    def inline_made(self, fn: Callable[..., Any], args: list[Value], node: cst.CSTNode) -> Value:
        """A call of a function made by ``adc.grad``/``adc.value_and_grad``: its derivative program
        (``compose.program``), copied in with fresh values, so the function being differentiated
        differentiates through it (nested AD).  A container argument passes its leaves; the global
        and closure arrays the program reads are the calling program's inputs too."""
        from .compose import inline_program, program

        atoms: list[Atom] = []
        types: list[Any] = []
        for a in args:
            found = data_leaves(a) if is_container(a) else None
            if found is None:
                atom = self.scalar(a, node)
                atoms.append(atom)
                types.append(atom.type)
            else:
                atoms += found
                types.append(TreeType(tree_of(skeleton(a)), tuple(f.type for f in found)))
        try:
            prog = program(fn, types)
        except AdcError as exc:
            raise self.fail(node, f"calling {fn.__adc_transform__}({fn.__name__}) here: "
                                  f"{getattr(exc, 'message', str(exc)).splitlines()[0]}",
                            getattr(exc, "hint", None) or "differentiate the plain function instead") from None
        if len(atoms) + len(prog.captured) != len(prog.params):
            raise self.fail(node, f"{fn.__name__} takes {len(prog.params) - len(prog.captured)} arguments, "
                                  f"got {len(atoms)}", "pass every argument by position")
        for holder, name in prog.captured:  # the same global or closure array: the same input
            value = holder.get(name) if isinstance(holder, dict) else holder.cell_contents
            atoms.append(self.outer_value(value, holder, name, node))
        outs = inline_program(prog, atoms, self.b)
        return tree_value(prog.result, outs)

    def custom_call(self, func: custom_vjp | custom_jvp, node: cst.Call) -> Var:
        """A call of a function with a custom derivative rule: its value computed by the user's
        forward function (``fwd`` for ``custom_vjp``, the function itself for ``custom_jvp``),
        then an op whose derivative is the rule (``prims/custom.py``)."""
        name = func.__name__
        args, keywords = self.call_arguments(node)
        inputs = data_leaves(tuple(args))
        if keywords or inputs is None:
            raise self.fail(node, f"call {name} with numbers, arrays or containers of them, by position",
                            "pass the arguments by position")
        if isinstance(func, custom_vjp):
            if func.fwd is None or func.bwd is None:
                raise self.fail(node, f"{name} is a custom_vjp function without a rule",
                                f"define one with {name}.defvjp(fwd, bwd)")
            if func.fwd.__code__ in self.call_stack:  # in its own fwd (`return f(x), res`): the plain function
                return self.user_call(func.fun, args, {}, node)
            mark = len(self.b.region.ops)
            result = self.inline(func.fwd, args, {}, node)
            if not (isinstance(result, tuple) and len(result) == 2):
                raise self.fail(node, f"the fwd rule of {name} must return (output, residuals)", "return a pair")
            out, residuals = result
            res_leaves = data_leaves(residuals)
            if res_leaves is None:
                raise self.fail(node, f"the residuals of {name} must be numbers, arrays or containers of them",
                                "save only values")
            out = self.scalar(out, node)
            return self.b.emit("custom_vjp", out, *inputs, *res_leaves,
                               params=(("rule", func), ("n_inputs", len(inputs)), ("residuals", skeleton(residuals)),
                                       ("inputs", skeleton(tuple(args))), ("new", self.made_since(out, mark))))
        if func.jvp is None:
            raise self.fail(node, f"{name} is a custom_jvp function without a rule",
                            f"define one with @{name}.defjvp")
        mark = len(self.b.region.ops)
        out = self.scalar(self.inline(func.fun, args, {}, node), node)
        return self.b.emit("custom_jvp", out, *inputs, params=(("rule", func), ("inputs", skeleton(tuple(args))),
                                                               ("new", self.made_since(out, mark))))

    def made_since(self, value: Atom, mark: int) -> bool:
        """Is ``value`` a number, or an array (or a view of one) made by the statements from
        ``mark`` on (a custom rule's body), not an argument of the call or anything else that
        existed before?  A custom rule's value is its output itself: a view of that output where
        it is not new (``return x``), so that a later write into ``x`` is seen through it."""
        if not isinstance(value, Var) or not value.type.is_array:
            return True
        while (op := self.b.defs.get(value)) is not None and is_view(op) and isinstance(op.args[0], Var):
            value = op.args[0]
        made = self.b.defs.get(value)
        return made is not None and any(made is op for op in self.b.region.ops[mark:])

    def call_arguments(self, node: cst.Call) -> tuple[list[Value], dict[str, Value]]:
        """The positional and keyword arguments of a call, ``*t`` and ``**d`` of containers expanded."""
        args: list[Value] = []
        keywords: dict[str, Value] = {}
        for arg in node.args:
            value = self.expr(arg.value)
            if arg.star == "*":
                if not isinstance(value, tuple):
                    raise self.fail(arg, "`*` of something that is not a tuple or list", "pass the arguments explicitly")
                args.extend(value)
            elif arg.star == "**":
                if not (isinstance(value, Record) and value.kind == "dict"):
                    raise self.fail(arg, "`**` of something that is not a dict", "pass the arguments explicitly")
                keywords.update(zip(value.keys, value.values))
            elif arg.keyword is not None:
                keywords[arg.keyword.value] = value
            else:
                args.append(value)
        return args, keywords

    def inline(self, fn: Callable[..., Any], args: list[Value], keywords: dict[str, Value],
               node: cst.CSTNode) -> Value:
        sub = Lowerer(read_source(fn), self.b, self.call_stack, self.names, self.owned, self.captures, self.kept)
        sub.outer_loops = self.outer_loops + self.loop_depth
        sub.outer = self
        sub.carried_from, sub.held_by_lists, sub.kind_errors = self.carried_from, self.held_by_lists, self.kind_errors
        sub.numpy_numbers, sub.python_numbers = self.numpy_numbers, self.python_numbers
        if self.rebound_by is not None and self.rebound_by[0] is node:  # the whole value of `w = step(w, g)`
            sub.caller_rebinds = self.rebound_by[1]
        sub.bind_params(args, keywords, top=False)
        return sub.run()


def flatten_output(value: Value, lowerer: Lowerer) -> tuple[list[Atom], int | None]:
    """The returned value's atoms, and ``None`` for one value or their number for a container."""
    node = lowerer.src.node
    atoms = [lowerer.scalar(v, node) for v in leaves(value)]
    return atoms, (len(atoms) if is_container(value) else None)


def lower(fn: Callable[..., Any], param_types: Sequence[Type]) -> Program:
    """Parse ``fn`` and lower it to a typed SSA program with parameters of ``param_types``."""
    src = read_source(fn)
    b = Builder(simplify=False, role="primal")
    low = Lowerer(src, b)
    values: list[Value] = []
    if isinstance(fn, pytypes.MethodType):  # model.loss: `self` is the object, its attributes read like globals
        values.append(bound_method(fn).self)
    signature = signature_of(fn)
    names = signature.flat(len(param_types))
    params: list[Var] = []  # the program's inputs: one per number or array, one per leaf of a tree
    for n, t in zip(names, param_types):
        if isinstance(t, TreeType):
            value, inputs = tree_params(n, t)
        else:
            value = Var(hint=n, type=t)
            inputs = [value]
        values.append(value)
        params += inputs
    n_positional = len(values) - len(signature.kwonly)  # the keyword-only arguments come last
    low.bind_params(values[:n_positional], dict(zip(signature.kwonly, values[n_positional:])),
                    top=signature_function(fn) is fn)  # a decorator's wrapper(*args, **kwargs): as called
    writes_arguments = low.copy_written_arguments()
    result = low.run()
    low.follow_numbers(b.region)
    check_lists(b.region, lambda loc, message, hint: UnsupportedError(message, loc, hint))
    captured = sorted(low.captures.values(), key=lambda c: c.var.id)
    params += [c.var for c in captured]  # after the arguments' inputs (derivative inputs follow them)
    outputs, tree = flatten_output(result, low)
    body: Region = b.region
    body.yields = outputs
    program = Program(function_name(fn), params, body, tree, src.filename, src.def_line)
    program.user_names = low.names
    program.result = tree_of(skeleton(result))
    program.captured = [(c.holder, c.name) for c in captured]
    program.writes_arguments = writes_arguments
    return program


_names_cache: dict[int, tuple[cst.FunctionDef, frozenset[str]]] = {}


def user_names(src: Source) -> frozenset[str]:
    """Every identifier written in the function's source (what generated names must avoid; found
    once per parsed definition: a helper inlined at many sites is not visited again)."""
    hit = _names_cache.get(id(src.node))
    if hit is not None and hit[0] is src.node:
        return hit[1]
    found: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

    src.node.visit(Collect())
    _names_cache[id(src.node)] = (src.node, frozenset(found))
    return _names_cache[id(src.node)][1]


@dataclass(frozen=True)
class Signature:
    """The parameters of a function being differentiated: the positional ones by name, ``*star``
    and the keyword-only ones.  The API passes a call's arguments to the generated code flat: the
    positional arguments (``*star``'s among them), then the keyword-only ones."""

    names: tuple[str, ...]
    star: str | None
    kwonly: tuple[str, ...]

    def flat(self, n: int) -> list[str]:
        """The names of ``n`` flat arguments (``rest_0``, ``rest_1`` for ``*rest``)."""
        extra = n - len(self.names) - len(self.kwonly)
        if self.star is None or extra < 0:
            return [*self.names, *self.kwonly][:n]
        return [*self.names, *(f"{self.star}_{k}" for k in range(extra)), *self.kwonly]


def signature_of(fn: Callable[..., Any]) -> Signature:
    if made_mark(fn) is not None:  # made by adc.grad & co: the parameters of the user's function
        from .compose import inner_function

        fn = inner_function(fn)
    params = read_source(signature_function(fn)).node.params  # a decorator's wrapper: the wrapped function's
    names = [p.name.value for p in (*params.posonly_params, *params.params)]
    star = params.star_arg.name.value if isinstance(params.star_arg, cst.Param) else None
    return Signature(tuple(names[1:] if isinstance(fn, pytypes.MethodType) else names),  # a method's `self` is bound
                     star, tuple(p.name.value for p in params.kwonly_params))


def param_names(fn: Callable[..., Any]) -> list[str]:
    """The names of ``fn``'s positional parameters (not ``*args`` or keyword-only ones)."""
    return list(signature_of(fn).names)


def readable_wrapper(fn: Any) -> bool:
    """Is ``fn`` a wrapper made by the user's own decorator (``functools.wraps`` sets
    ``__wrapped__``) whose own source adc reads?  Then adc differentiates what the wrapper does,
    the wrapped function being a closure value it calls like any other."""
    if not isinstance(fn, pytypes.FunctionType) or getattr(fn, "__wrapped__", None) is None:
        return False
    try:
        read_source(fn)
    except SourceError:
        return False
    return True


def signature_function(fn: Any) -> Any:
    """The function whose parameters are ``fn``'s: ``fn`` itself, or, for a readable wrapper that
    takes only ``*args`` and ``**kwargs``, the function it wraps (its signature, as
    ``inspect.signature`` reads it; through a function made by adc, the function it transforms)."""
    if made_mark(fn) is not None and getattr(fn, "__wrapped__", None) is not None:
        return signature_function(fn.__wrapped__)
    if not readable_wrapper(fn):
        return fn
    params = read_source(fn).node.params
    if params.posonly_params or params.params or params.kwonly_params:
        return fn
    return signature_function(fn.__wrapped__)

"""The primitive registry: what adc knows about a primitive, in one object.

Input: nothing (a leaf module; the family modules register into it).  Output: ``Primitive``, the
registry ``PRIMS`` with ``register``/``get``/``prim``, the rendering helpers (``Form``, ``call``,
``infix``, precedences) and the result-type helpers the families share.

A primitive carries its names in user code (``Spelling``: ``numpy.sin``, ``math.sin``, the method
form ``ndarray.sum``), its derivative (``partials`` for element-wise ops, ``jvp`` + ``vjp`` for
linear structural ops), how it renders (a template ``Form`` for the scalar and the array backend,
or ``render`` for structural ops), how the interpreter evaluates it, and its traits, which the
passes and transforms ask instead of keeping lists of names.  ``vjvp`` is its JVP in vector forward
mode (a trailing batch axis on every tangent, ``batching.py``).
"""
from __future__ import annotations

import ast
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NamedTuple, Sequence

import numpy as np

from ..types import BOOL, FLOAT, Type, join

# Python operator precedence, used to decide where rendered expressions need parentheses.
P_TERNARY, P_OR, P_AND, P_NOT, P_CMP, P_ADD, P_MUL, P_UNARY, P_POW, P_ATOM = 1, 2, 3, 4, 5, 7, 8, 9, 10, 11


@dataclass(frozen=True)
class Form:
    """How a primitive renders: a template, its precedence, and the least precedence each argument
    may have without parentheses (``0`` for arguments inside a call's parentheses).  A guarded
    form (``x / y if y else np.divide(x, y)``) also has its two branches as forms, ``unguarded``
    and ``otherwise``: ``holds`` (given the operands' constant values, ``None`` for the others)
    says which one the condition takes, or ``None`` where the constants do not decide it."""

    template: str
    prec: int
    arg_precs: tuple[int, ...]
    unguarded: Form | None = None
    otherwise: Form | None = None
    holds: Callable[[Sequence[Any]], bool | None] | None = None
    numba: Form | None = None  # the form in Numba code, where a guard NumPy's error model makes needless

    def at(self, constants: Sequence[Any]) -> Form:
        """The form for operands with these constant values (``None``: not a constant)."""
        taken = self.holds(constants) if self.holds is not None else None
        branch = self.unguarded if taken is True else self.otherwise if taken is False else None
        return branch if branch is not None else self


def call(name: str, arity: int) -> Form:
    return Form(f"{name}({', '.join('{%d}' % i for i in range(arity))})", P_ATOM, (0,) * arity)


def infix(symbol: str, prec: int, right_prec: int | None = None) -> Form:
    return Form("{0} %s {1}" % symbol, prec, (prec, prec + 1 if right_prec is None else right_prec))


STRUCTURAL_FORM = Form("", P_ATOM, ())
SHORT_AXIS = "short axis"  # ``sized_at_run_time``: of length 1 only where the axis it slices is short
KERNELS = "import adc.prims.kernels as adc_arrays"  # the import line of kernels.py in generated code
STACKS = "import adc.prims.stacks as adc_stacks"  # of stacks.py (Numba code only)

Partials = Callable[[Any, Sequence[Any], Any], Sequence[Any]]
Render = Callable[[Sequence[str], dict[str, Any]], str]
# the Numba dialect's spelling: (argument texts, params, argument types) -> text
NumbaRender = Callable[[Sequence[str], dict[str, Any], Sequence[Type]], str]


@dataclass(frozen=True)
class Spelling:
    """One way user code names a primitive.  ``path`` is ``module.name`` (``numpy.sin``,
    ``math.sin``, ``builtins.abs``) or ``ndarray.name`` for a method (``x.sum()``).  Without
    ``arity`` the front end lowers a call to the primitive itself; with it the array front end
    lowers it through ``handler`` (keywords, axes, shapes), taking ``arity`` = (least, most)
    positional arguments, the array of a method counted."""

    path: str
    handler: str = ""
    arity: tuple[int, int] | None = None
    variadic: bool = False  # max(a, b, c) folds pairwise
    nojit: str = ""  # why Numba cannot compile this name when its primitive can (``np.sort``'s scatter)

    @property
    def module(self) -> str:
        return self.path.rpartition(".")[0]

    @property
    def attr(self) -> str:
        return self.path.rpartition(".")[2]


def calls(*paths: str, variadic: bool = False) -> tuple[Spelling, ...]:
    """Spellings lowered to a plain call of the primitive (``math.sin(x)``, ``np.sin(x)``)."""
    return tuple(Spelling(p, variadic=variadic) for p in paths)


def lowered(handler: str, arity: tuple[int, int], *paths: str, nojit: str = "") -> tuple[Spelling, ...]:
    """Spellings the array front end lowers through ``handler`` (``np.sum(x, axis=1)``, ``x.sum()``)."""
    return tuple(Spelling(p, handler, arity, nojit=nojit) for p in paths)


class RowRule(NamedTuple):
    """How an op's result takes its rows (first axis) one for one from some operands' rows
    (``row_gathers.py``): ``operands``, the positions of those arguments (the others are read
    whole); ``count``, the argument that states the number of rows (a reshape's ``-1``), set to the
    number of rows gathered; ``same_row_size``: only when the row operand's row has as many elements
    as the result's (a reshape), which the pass checks from the sizes it knows."""

    operands: tuple[int, ...]
    count: int | None = None
    same_row_size: bool = False


RowsOf = Callable[[Any, Callable[[Any], object]], "RowRule | None"]


def broadcast_rows(op: Any, constant: Callable[[Any], object]) -> RowRule | None:
    """An element-wise op's rows: those of each operand of the result's rank whose first axis is not
    broadcast (known to have length 1); numbers and lower-rank operands are read whole."""
    out = op.outs[0].type
    if out is None or out.ndim == 0 or out.one(0):
        return None
    return RowRule(tuple(k for k, a in enumerate(op.args)
                         if a.type is not None and a.type.ndim == out.ndim and not a.type.one(0)))


def broadcasts(rule: "Primitive") -> bool:
    """Is ``rule`` element-wise, its result the broadcast of its operands (``a * b``, not ``a @ b``)?"""
    return rule.rows is broadcast_rows


@dataclass(frozen=True)
class Primitive:
    """One primitive.  ``partials(b, args, out)`` returns one local partial per argument (``None``
    where the argument is not differentiable); structural ops render with ``render(texts,
    params)`` and derive through ``jvp(b, op, tangents)`` (the result's tangent) and
    ``vjp(b, op, g)`` (the arguments' cotangent contributions) instead.  A primitive with neither
    is declared ``differentiable=False`` (comparisons, casts, shapes) or is derived by the
    transforms themselves (stores: ``writes``; copies: ``flows``; kept calls: ``calls``)."""

    name: str
    arity: int  # -1: any number (structural ops)
    scalar: Form
    array: Form
    impl: Callable[..., Any]
    partials: Partials | None = None
    result: Callable[..., Type] | None = None
    render: Render | None = None
    jvp: Callable[[Any, Any, Sequence[Any]], Any] | None = None
    vjp: Callable[[Any, Any, Any], Sequence[Any]] | None = None
    # vector forward mode (``vector.py``): the JVP on tangents that carry a trailing batch axis, one
    # entry per direction; ``None`` on a structural op: no vector rule, ``jacfwd`` runs one pass
    # per direction instead.  Element-wise ops need none (their partials broadcast over the axis).
    vjvp: Callable[[Any, Any, Sequence[Any]], Any] | None = None
    names: tuple[Spelling, ...] = ()
    trace: str = ""  # its name in the SSA listing when it differs (``atan`` lists as ``arctan``)
    # a line the generated module needs to run it (``import adc.prims.special as ...``), or that
    # line from the op's parameters
    imports: str | Callable[[dict[str, Any]], str] = ""
    note: str = ""  # its convention where the derivative is not classical (docs/coverage.md)
    nojit: str = ""  # why Numba cannot compile it (``jit=True`` raises an adc error), if it cannot
    numba: NumbaRender | None = None  # how ``jit=True`` code spells it where NumPy's form does not compile
    # a line the Numba spelling needs (``import adc.prims.kernels as adc_arrays``), or that line
    # from the op's parameters (``""``: none)
    numba_imports: str | Callable[[dict[str, Any]], str] = ""
    uniform: bool = False  # Numba takes its array operands in one dtype only (``@``, ``np.linalg.solve``)
    # -- traits ------------------------------------------------------------------------------
    effect: bool = False  # a statement with no result: it changes its first argument
    writes: bool = False  # writes into the memory of its first argument (an array)
    stateful: bool = False  # returns a value and changes state (a tape's ``pop``)
    view: bool = False  # its array result shares memory with its first argument
    # of a view primitive: does this op return new memory instead (``x[k]`` with an index array)?
    copies: Callable[[Any], bool] | None = None
    # not a view in adc's code but one in NumPy's: does this op's NumPy result share its first
    # argument's memory (``np.diagonal``, an einsum that relabels axes)?  Read after a write into that
    # argument it is refused (``memory.check_views_read_after_writes``)
    numpy_view: Callable[[Any], bool] | None = None
    fresh: bool = False  # every evaluation returns new memory (an array or a tape)
    # ``sized_at_run_time(op, known)``: may this op's array result have an axis of length 1 that only
    # the running code knows: ``True`` (a length from a run-time number, a mask's count), ``SHORT_AXIS``
    # (only where the axis it takes a part of is short: ``x[1:]`` of an axis of length 2), or ``False``?
    # ``known(atom)``: a number's value where it is a constant, ``...`` where only whether it is 1 is
    # known when compiling (an argument's length), else ``None``.  Reverse mode then fits adjoints to
    # such values' shapes when the code runs (``run_time_shapes.py``)
    sized_at_run_time: Callable[[Any, Callable[[Any], Any]], "bool | str"] | None = None
    cse: bool | None = None  # two evaluations may be merged; default: pure and not fresh
    hoistable: bool = False  # pure and cannot raise: may run before a loop that runs zero times
    recomputable: bool | None = None  # the reverse sweep may compute it again; default: not structural, or a view
    foldable: bool = True  # may be folded into its single use in generated code
    predicate: bool = False  # a truth value: always folded into its use when used once
    reduces: bool = False  # takes ``axis``/``keepdims``
    flows: bool = False  # activity flows from the first argument to the result (no rule of its own)
    calls: bool = False  # calls a generated function; the transforms derive it (``forward._call``, ``reverse._call``)
    shape_args: tuple[int, ...] = ()  # argument positions read only for their shape
    shape_of_first: bool = False  # its array result has its first argument's shape (``np.zeros_like``, a copy)
    # ``rows(op, constant)``: how the result's rows come from operands' rows (``RowRule``), ``None``
    # when they do not; ``constant(atom)`` is an argument's known value (``row_gathers.py``)
    rows: RowsOf | None = None
    # an in-place add (``x += v``, ``x[key] += v``), which Numba runs without checking that ``v``
    # broadcasts to ``x``: ``in_place(texts, params, types)`` is the array added into, as text, and
    # the positions of the arguments the value is made of (``None``: a kernel adds, and checks);
    # Numba code checks them first (``adc_arrays.fits``, ``codegen``)
    in_place: Callable[[Sequence[str], dict[str, Any], Sequence[Type]], tuple[str, tuple[int, ...]] | None] | None = None
    buffered: tuple[str, ...] = ()  # "array" (first argument) / "result": adjoints kept as buffers
    # a custom rule's marker, used up by the reverse transform: the forward sweep keeps a plain copy
    # of its value, so a transform of the derivative program differentiates the rule's own code
    used_by_reverse: bool = False
    may_raise: bool = False  # the generated code can raise on finite operands (x / 0, sqrt(-1), x[9])
    # an operator of Python's numbers (``+``, ``/``, ``abs``, ``max``, ``a if c else b``): of a NumPy
    # number (``np.float64``) its result is one too, whose ``/`` and ``**`` are NumPy's (``number_semantics.py``)
    operator: bool = False
    differentiable: bool = True  # False: declared without a derivative (comparisons, casts, shapes)
    # the primitive whose scalar form computes one element of this one's array result exactly as
    # Numba's array form does (NaN, inf, no exception): itself for ``+``, ``npdiv`` for ``/``;
    # ``""``: not known, so a fused loop (``fusion.py``) leaves it an array statement
    element: str = ""

    def __post_init__(self) -> None:
        defaults = {"cse": not (self.fresh or self.effect or self.stateful),
                    "recomputable": self.render is None or self.view}
        for key, value in defaults.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)

    @property
    def structural(self) -> bool:
        return self.render is not None

    @property
    def side_effect(self) -> bool:
        """Does running it change state (a store, a push, a pop)?"""
        return self.effect or self.stateful

    def result_type(self, types: Sequence[Type], params: dict[str, Any] | None = None) -> Type:
        if self.render is not None and self.result is not None:
            return self.result(types, params or {})
        if self.result is not None:
            return self.result(types)
        t = join(*types)
        return t.with_(kind="float", dtype=t.dtype if t.kind == "float" else "float64") if t.ndim else FLOAT


@dataclass
class Registry:
    """Primitives by name, in registration order."""

    table: dict[str, Primitive] = field(default_factory=dict)

    def register(self, p: Primitive) -> Primitive:
        if p.name in self.table:
            raise ValueError(f"primitive `{p.name}` registered twice")
        self.table[p.name] = p
        return p

    def get(self, name: str) -> Primitive:
        return self.table[name]

    def __contains__(self, name: object) -> bool:
        return name in self.table

    def __iter__(self) -> Iterator[Primitive]:
        return iter(self.table.values())

    def lookup(self, name: str) -> Primitive | None:
        return self.table.get(name)


PRIMS = Registry()
register = PRIMS.register
get = PRIMS.get


def prim(op: Any) -> Primitive | None:
    """The primitive ``op`` applies; ``None`` for structured ops and markers (``if``, ``for``,
    ``while``, ``comment``), which are IR structure, not primitives."""
    return PRIMS.lookup(op.prim)


def elementwise(name: str, arity: int, scalar: Form, array: Form | None, impl: Callable[..., Any],
                partials: Partials | None = None, result: Callable[[Sequence[Type]], Type] | None = None,
                **traits: Any) -> Primitive:
    """Register a primitive rendered by a template (``array`` defaults to ``scalar``); its rows are
    its operands' (``broadcast_rows``) unless ``rows`` says otherwise."""
    traits.setdefault("rows", broadcast_rows)
    return register(Primitive(name, arity, scalar, array or scalar, impl, partials, result, **traits))


def structural(name: str, render: Render, impl: Callable[..., Any], result: Callable[..., Type] | None = None,
               **traits: Any) -> Primitive:
    """Register a primitive rendered by ``render(arg_texts, params)``; ``result(types, params)``
    (or ``result(types)``) types it."""
    if result is not None and result.__code__.co_argcount == 1:
        one = result
        result = lambda ts, p: one(ts)  # noqa: E731
    return register(Primitive(name, -1, STRUCTURAL_FORM, STRUCTURAL_FORM, impl, result=result, render=render,
                              **traits))


def spelling(rule: Primitive, texts: Sequence[str], params: dict[str, Any], types: Sequence[Type],
             numba: bool = False) -> str:
    """The text of a structural primitive applied to ``texts``: its Numba dialect's spelling under
    ``numba`` when it has one, else its NumPy one."""
    if numba and rule.numba is not None:
        return rule.numba(texts, params, types)
    assert rule.render is not None
    return rule.render(texts, params)


def trace_name(name: str) -> str:
    """The function name shown for primitive ``name`` in the SSA listing (``log(v0)``)."""
    return PRIMS.get(name).trace or name if name in PRIMS else name


def evaluate(name: str, args: Sequence[Any], params: dict[str, Any] | None = None) -> Any:
    """Evaluate one primitive on concrete values (the interpreter behind the trace tables, which
    shows inf and nan where NumPy gives them)."""
    value = PRIMS.get(name).impl(*args, **(params or {}))
    if isinstance(value, np.generic):
        value = value.item()
    return value


def fold_value(name: str, args: Sequence[Any], params: dict[str, Any] | None = None) -> Any:
    """The value of one primitive on constants as the generated code computes it (the builder's
    constant folding): Python numbers go through the primitive's scalar spelling where that is a
    ``math`` function (``math.exp`` and ``np.exp`` may differ in the last bit, which a chaotic
    program turns into a different value; ``math.log(-1.0)`` raises, and is then not folded)."""
    template = PRIMS.get(name).scalar.at(args).template
    function = _math_function(template) if all(type(a) in (float, int, bool) for a in args) else None
    value = function(*args, **(params or {})) if function is not None else None
    if type(value) is float:
        return value
    # NumPy's inf or nan where the generated code calls NumPy (np.log(0.0)), quietly; where it runs
    # Python's operator (3 // 0, 2.0 ** 2000.0), which raises, FloatingPointError: not folded
    numpy = re.match(r"(np|adc_special)\.", template) is not None
    with np.errstate(all="ignore" if numpy else "raise"):
        return evaluate(name, args, params)  # an int: NumPy's type


@functools.lru_cache(maxsize=None)
def _math_function(template: str) -> Callable[..., Any] | None:
    """The ``math`` function a scalar form calls (``math.exp({0})``), if it is one."""
    found = re.fullmatch(r"math\.(\w+)\((\{\d\}(, )?)*\)", template)
    return getattr(math, found.group(1), None) if found else None


# -- result types the families share ----------------------------------------------------------


def keep_kind(types: Sequence[Type]) -> Type:
    """Arithmetic result type: int op int stays int, anything with a float is float."""
    return join(*types)


def boolean(types: Sequence[Type]) -> Type:
    t = join(*types)
    return t.with_(kind="bool", dtype="bool") if t.ndim else BOOL


def float_like(ts: Sequence[Type]) -> Type:
    """The type of a float array shaped like ``ts[0]``."""
    return ts[0].with_(kind="float", dtype=ts[0].dtype if ts[0].kind == "float" else "float64")


def seq_text(t: Sequence[str]) -> str:
    """A Python tuple display of ``t`` (``(a,)`` for one element)."""
    return f"({', '.join(t)}{',' if len(t) == 1 else ''})"


def atomic(text: str) -> str:
    """``text`` parenthesized unless it is a name, a call, an attribute or a subscript: the base of
    ``(g * y)[::-1]`` needs its parentheses."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text
    return text if isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant)) else f"({text})"

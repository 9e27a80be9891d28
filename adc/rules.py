"""The primitive table: one entry per primitive, read by every stage.

Input: nothing (a leaf module).  Output: ``RULES``, mapping a primitive name to a ``Rule`` that
says how the primitive prints, how it renders as Python for scalars and for arrays, how the
interpreter evaluates it, its result type, and its derivative as local partials
``[d out / d arg_i]``.  Forward mode emits ``d out = sum_i d arg_i * partial_i``; reverse mode emits
``g arg_i += g out * partial_i``: both read the same entry, so there is exactly one derivative rule
per primitive.  Partials are built with the builder ``b`` handed in, so they are IR, not strings.

Conventions at non-differentiable points (documented in docs/rules.md): ``abs`` has derivative +1
at 0; ``max``/``min`` route the whole gradient to the first argument on a tie.  Where a partial is
infinite or undefined but the function itself is not (``sqrt`` at 0, ``atan2`` at the origin,
``x ** 0.5`` at 0, the exponent of ``0 ** y``), the partial is what NumPy computes there (``inf``,
``nan``, through ``npdiv``/``nppow``/``nplog``), never a Python ``ZeroDivisionError`` or math
domain error from the generated scalar code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .types import BOOL, FLOAT, Type, join

# Python operator precedence, used to decide where rendered expressions need parentheses.
P_TERNARY, P_OR, P_AND, P_NOT, P_CMP, P_ADD, P_MUL, P_UNARY, P_POW, P_ATOM = 1, 2, 3, 4, 5, 7, 8, 9, 10, 11


@dataclass(frozen=True)
class Form:
    """How a primitive renders: a template, its precedence, and the least precedence each argument
    may have without parentheses (``0`` for arguments inside a call's parentheses)."""

    template: str
    prec: int
    arg_precs: tuple[int, ...]


def call(name: str, arity: int) -> Form:
    return Form(f"{name}({', '.join('{%d}' % i for i in range(arity))})", P_ATOM, (0,) * arity)


def infix(symbol: str, prec: int, right_prec: int | None = None) -> Form:
    return Form("{0} %s {1}" % symbol, prec, (prec, prec + 1 if right_prec is None else right_prec))


Partials = Callable[[Any, Sequence[Any], Any], Sequence[Any]]


@dataclass(frozen=True)
class Rule:
    """One primitive.  ``partials(b, args, out)`` returns one local partial per argument (``None``
    where the argument is not differentiable); ``partials is None`` means the primitive is not
    differentiable at all (comparisons, casts)."""

    name: str
    arity: int
    scalar: Form
    array: Form
    impl: Callable[..., Any]
    partials: Partials | None = None
    result: Callable[[Sequence[Type]], Type] | None = None
    # Structural ops (indexing, shapes, construction) render with ``render(arg_texts, params)``
    # instead of a template, and derive through ``jvp``/``transpose`` instead of partials.
    render: Callable[[Sequence[str], dict[str, Any]], str] | None = None
    effect: bool = False  # a statement that mutates its first argument (no result)
    # Linear structural ops (reductions, matmul, reshapes, ...): the tangent of the result from the
    # arguments' tangents, and the arguments' cotangent contributions from the result's.
    jvp: Callable[[Any, Any, Sequence[Any]], Any] | None = None
    vjp: Callable[[Any, Any, Any], Sequence[Any]] | None = None

    def result_type(self, types: Sequence[Type], params: dict[str, Any] | None = None) -> Type:
        if self.render is not None and self.result is not None:
            return self.result(types, params or {})
        if self.result is not None:
            return self.result(types)
        t = join(*types)
        return t.with_(kind="float", dtype=t.dtype if t.kind == "float" else "float64") if t.ndim else FLOAT


RULES: dict[str, Rule] = {}


def defrule(name: str, arity: int, scalar: Form, array: Form | None, impl: Callable[..., Any],
            partials: Partials | None = None, result: Callable[[Sequence[Type]], Type] | None = None) -> None:
    RULES[name] = Rule(name, arity, scalar, array or scalar, impl, partials, result)


def defstructural(name: str, render: Callable[[Sequence[str], dict[str, Any]], str], impl: Callable[..., Any],
                  result: Callable[..., Type] | None = None, effect: bool = False,
                  jvp: Callable[..., Any] | None = None, vjp: Callable[..., Sequence[Any]] | None = None) -> None:
    """A primitive rendered by ``render(arg_texts, params)``; ``result(types, params)`` types it."""
    form = Form("", P_ATOM, ())
    if result is not None and result.__code__.co_argcount == 1:
        one = result
        result = lambda ts, p: one(ts)  # noqa: E731
    RULES[name] = Rule(name, -1, form, form, impl, None, result, render, effect, jvp, vjp)


def keep_kind(types: Sequence[Type]) -> Type:
    """Arithmetic result type: int op int stays int, anything with a float is float."""
    return join(*types)


def boolean(types: Sequence[Type]) -> Type:
    t = join(*types)
    return t.with_(kind="bool", dtype="bool") if t.ndim else BOOL


def _fn(np_name: str) -> Form:
    return call(f"np.{np_name}", 1)


def _unary(name: str, math_name: str, np_name: str, impl: Callable[..., Any], partials: Partials) -> None:
    defrule(name, 1, call(f"math.{math_name}", 1), _fn(np_name), impl, partials)


# --- arithmetic -------------------------------------------------------------------------------
defrule("add", 2, infix("+", P_ADD), None, np.add, lambda b, a, o: (1.0, 1.0), keep_kind)
defrule("sub", 2, infix("-", P_ADD), None, np.subtract, lambda b, a, o: (1.0, -1.0), keep_kind)
defrule("mul", 2, infix("*", P_MUL), None, np.multiply, lambda b, a, o: (a[1], a[0]), keep_kind)
defrule("div", 2, infix("/", P_MUL), None, np.true_divide,
        lambda b, a, o: (b.div(1.0, a[1]), b.neg(b.div(o, a[1]))))
defrule("neg", 1, Form("-{0}", P_UNARY, (P_UNARY,)), None, np.negative, lambda b, a, o: (-1.0,), keep_kind)
defrule("copy", 1, Form("{0}", P_ATOM, (P_ATOM,)), None, lambda x: x, lambda b, a, o: (1.0,), keep_kind)


def _pow_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    """``d x**y / dx = y * x**(y-1)``, ``d x**y / dy = log(x) * x**y`` (0 at ``x = 0``); 0 for the
    constant exponent 0 (``x ** 0`` is constant).  Where Python's ``**`` or ``math.log`` would raise
    although ``x ** y`` does not (``x = 0`` with ``y < 1``; ``x < 0`` for the exponent's partial),
    NumPy's ``power`` and ``log`` give inf/nan instead: always for a variable exponent, and for a
    constant ``0 < y < 1``."""
    x, y = a
    if b.is_const(y) and not 0 < y.value < 1:
        return (0.0 if y.value == 0 else b.mul(y, b.pow(x, b.sub(y, 1)))), None
    return _nppow_partials(b, a, o)


def _nppow_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    x, y = a
    if b.is_const(y) and y.value == 0:
        return 0.0, None
    e = b.sub(y, 1)
    dx = b.mul(y, x if b.is_const(e) and e.value == 1 else b.nppow(x, e))
    if b.is_const(y):
        return dx, None
    # 0 ** y is 0 for every y > 0, so d/dy is 0 at x = 0 (as in JAX), not NumPy's log(0) * 0 = nan
    return dx, b.select(b.eq(x, 0.0), 0.0, b.mul(b.nplog(x), o))


def _pow_impl(x: Any, y: Any) -> Any:
    if type(x) is int and type(y) is int:  # literals: Python's exact integers (NumPy's int64 would wrap)
        return float(x) ** y if y < 0 else x ** y
    if isinstance(x, (int, np.integer)) and isinstance(y, (int, np.integer)) and y < 0:
        return float(x) ** y
    return np.power(x, y)


defrule("pow", 2, Form("{0} ** {1}", P_POW, (P_ATOM, P_UNARY)), None, _pow_impl, _pow_partials, keep_kind)

# NumPy's division, power and log on Python floats too: inf/nan where Python's ``/``, ``**`` and
# ``math.log`` raise (or ``**`` gives a complex number).  Partials whose formula divides by zero
# where the function does not (sqrt at 0, atan2 at the origin, x ** 0.5 at 0) use them, and so do
# their own partials, so derivatives of every order follow NumPy (docs/rules.md).  On scalars the
# plain Python operation runs where it is defined, and NumPy's (a ufunc call, about 20 times
# slower) only where it is not: ``x / y if y else np.divide(x, y)``.
def _guarded(fast: str, defined: str, numpy_call: str, precs: tuple[int, ...]) -> Form:
    return Form(f"{fast} if {defined} else {numpy_call}", P_TERNARY, precs)


defrule("npdiv", 2, _guarded("{0} / {1}", "{1}", "np.divide({0}, {1})", (P_MUL, P_UNARY)),
        infix("/", P_MUL), np.true_divide, lambda b, a, o: (b.npdiv(1.0, a[1]), b.neg(b.npdiv(o, a[1]))))
defrule("nppow", 2, _guarded("{0} ** {1}", "{0} > 0", "np.power({0}, {1})", (P_ATOM, P_UNARY)),
        Form("{0} ** {1}", P_POW, (P_ATOM, P_UNARY)), np.power, _nppow_partials, keep_kind)
defrule("nplog", 1, _guarded("math.log({0})", "{0} > 0", "np.log({0})", (P_CMP + 1,)), call("np.log", 1), np.log,
        lambda b, a, o: (b.npdiv(1.0, a[0]),))
defrule("floordiv", 2, infix("//", P_MUL), None, np.floor_divide, None, keep_kind)
defrule("mod", 2, infix("%", P_MUL), None, np.mod,
        lambda b, a, o: (1.0, b.neg(b.floordiv(a[0], a[1]))), keep_kind)

# --- elementwise functions ---------------------------------------------------------------------
_unary("sin", "sin", "sin", np.sin, lambda b, a, o: (b.cos(a[0]),))
_unary("cos", "cos", "cos", np.cos, lambda b, a, o: (b.neg(b.sin(a[0])),))
_unary("tan", "tan", "tan", np.tan, lambda b, a, o: (b.add(1.0, b.mul(o, o)),))
_unary("exp", "exp", "exp", np.exp, lambda b, a, o: (o,))
_unary("log", "log", "log", np.log, lambda b, a, o: (b.div(1.0, a[0]),))
_unary("log1p", "log1p", "log1p", np.log1p, lambda b, a, o: (b.div(1.0, b.add(1.0, a[0])),))
_unary("sqrt", "sqrt", "sqrt", np.sqrt, lambda b, a, o: (b.npdiv(0.5, o),))
_unary("tanh", "tanh", "tanh", np.tanh, lambda b, a, o: (b.sub(1.0, b.mul(o, o)),))
_unary("atan", "atan", "arctan", np.arctan, lambda b, a, o: (b.div(1.0, b.add(1.0, b.mul(a[0], a[0]))),))


def _atan2_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    y, x = a
    r2 = b.add(b.mul(x, x), b.mul(y, y))
    return b.npdiv(x, r2), b.neg(b.npdiv(y, r2))


defrule("atan2", 2, call("math.atan2", 2), call("np.arctan2", 2), np.arctan2, _atan2_partials)
defrule("abs", 1, call("abs", 1), _fn("abs"), np.abs,
        lambda b, a, o: (b.select(b.ge(a[0], 0), 1.0, -1.0),), keep_kind)
defrule("max", 2, call("max", 2), call("np.maximum", 2), np.maximum,
        lambda b, a, o: (b.select(b.ge(a[0], a[1]), 1.0, 0.0), b.select(b.ge(a[0], a[1]), 0.0, 1.0)), keep_kind)
defrule("min", 2, call("min", 2), call("np.minimum", 2), np.minimum,
        lambda b, a, o: (b.select(b.le(a[0], a[1]), 1.0, 0.0), b.select(b.le(a[0], a[1]), 0.0, 1.0)), keep_kind)


def _select_impl(c: Any, x: Any, y: Any) -> Any:
    if np.ndim(c) == 0:
        return x if c else y
    return np.where(c, x, y)


defrule("select", 3, Form("{1} if {0} else {2}", P_TERNARY, (P_TERNARY + 1, P_TERNARY + 1, P_TERNARY)),
        call("np.where", 3), _select_impl, lambda b, a, o: (None, b.select(a[0], 1.0, 0.0), b.select(a[0], 0.0, 1.0)),
        lambda ts: join(*ts[1:]).with_(ndim=join(*ts).ndim, ones=join(*ts).ones) if join(*ts).ndim else join(*ts[1:]))

# --- comparisons and logic (not differentiable) ------------------------------------------------
for _name, _sym, _impl in [("lt", "<", np.less), ("le", "<=", np.less_equal), ("gt", ">", np.greater),
                           ("ge", ">=", np.greater_equal), ("eq", "==", np.equal), ("ne", "!=", np.not_equal)]:
    defrule(_name, 2, infix(_sym, P_CMP, P_CMP + 1), None, _impl, None, boolean)
defrule("not", 1, Form("not {0}", P_NOT, (P_NOT,)), _fn("logical_not"), np.logical_not, None, boolean)
defrule("and", 2, infix("and", P_AND), call("np.logical_and", 2), lambda x, y: bool(x) and bool(y), None, boolean)
defrule("or", 2, infix("or", P_OR), call("np.logical_or", 2), lambda x, y: bool(x) or bool(y), None, boolean)
defrule("float", 1, call("float", 1), None, float, lambda b, a, o: (1.0,))
defrule("int", 1, call("int", 1), None, int, None, lambda ts: Type("int"))

TRACE_NAMES = {"atan": "arctan", "select": "where", "npdiv": "divide", "nppow": "power", "nplog": "log"}


def trace_name(prim: str) -> str:
    """The function name shown for ``prim`` in the SSA listing (``log(v0)``)."""
    return TRACE_NAMES.get(prim, prim)


def evaluate(prim: str, args: Sequence[Any], params: dict[str, Any] | None = None) -> Any:
    """Evaluate one primitive on concrete values (the interpreter behind the trace tables)."""
    value = RULES[prim].impl(*args, **(params or {}))
    if isinstance(value, np.generic):
        value = value.item()
    return value




from . import array_rules  # noqa: E402,F401  (registers the NumPy array primitives)

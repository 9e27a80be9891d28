"""Element-wise primitives: arithmetic, NumPy-semantics division/power/log, math functions,
``abs``/``max``/``min``/``select``/``clip``, comparisons and logic, casts.

Each is one ``elementwise`` registration: its Python (scalar) and NumPy (array) forms, its
interpreter implementation, its local partials ``[d out / d arg_i]`` and its names in user code.
Forward mode emits ``d out = sum_i d arg_i * partial_i``; reverse mode emits
``g arg_i += g out * partial_i``: both read the same partials.  Partials are built with the
builder ``b`` handed in, so they are IR, not strings.

Conventions at non-differentiable points (documented in docs/rules.md): ``abs`` has derivative +1
at 0; ``max``/``min`` route the whole gradient to the first argument on a tie.  Where a partial is
infinite or undefined but the function itself is not (``sqrt`` at 0, ``atan2`` at the origin,
``x ** 0.5`` at 0, the exponent of ``0 ** y``), the partial is what NumPy computes there (``inf``,
``nan``, through ``npdiv``/``nppow``/``nplog``), never a Python ``ZeroDivisionError`` or math
domain error from the generated scalar code.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..types import Type, join
from ..zeros import zero_like
from .registry import (P_ADD, P_AND, P_ATOM, P_CMP, P_MUL, P_NOT, P_OR, P_POW, P_TERNARY, P_UNARY, Form,
                       Partials, boolean, call, calls, elementwise, infix, keep_kind, lowered)

# --- arithmetic -------------------------------------------------------------------------------
elementwise("add", 2, infix("+", P_ADD), None, np.add, lambda b, a, o: (1.0, 1.0), keep_kind, hoistable=True)
elementwise("sub", 2, infix("-", P_ADD), None, np.subtract, lambda b, a, o: (1.0, -1.0), keep_kind, hoistable=True)
elementwise("mul", 2, infix("*", P_MUL), None, np.multiply, lambda b, a, o: (a[1], a[0]), keep_kind,
            hoistable=True)
elementwise("div", 2, infix("/", P_MUL), None, np.true_divide,
            lambda b, a, o: (b.div(1.0, a[1]), b.neg(b.div(o, a[1]))), may_raise=True)
elementwise("neg", 1, Form("-{0}", P_UNARY, (P_UNARY,)), None, np.negative, lambda b, a, o: (-1.0,), keep_kind,
            hoistable=True)
# ``y = x``: a move the pass leaving SSA relies on, so never merged with another; an array copied
# so shares the memory of ``x``
elementwise("copy", 1, Form("{0}", P_ATOM, (P_ATOM,)), None, lambda x: x, lambda b, a, o: (1.0,), keep_kind,
            hoistable=True, view=True, cse=False)


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


elementwise("pow", 2, Form("{0} ** {1}", P_POW, (P_ATOM, P_UNARY)), None, _pow_impl, _pow_partials, keep_kind,
            names=calls("math.pow", "builtins.pow"), may_raise=True)


# NumPy's division, power and log on Python floats too: inf/nan where Python's ``/``, ``**`` and
# ``math.log`` raise (or ``**`` gives a complex number).  Partials whose formula divides by zero
# where the function does not (sqrt at 0, atan2 at the origin, x ** 0.5 at 0) use them, and so do
# their own partials, so derivatives of every order follow NumPy (docs/rules.md).  On scalars the
# plain Python operation runs where it is defined, and NumPy's (a ufunc call, about 20 times
# slower) only where it is not: ``x / y if y else np.divide(x, y)``.
def _guarded(fast: str, defined: str, numpy_call: str, precs: tuple[int, ...]) -> Form:
    return Form(f"{fast} if {defined} else {numpy_call}", P_TERNARY, precs)


elementwise("npdiv", 2, _guarded("{0} / {1}", "{1}", "np.divide({0}, {1})", (P_MUL, P_UNARY)),
            infix("/", P_MUL), np.true_divide, lambda b, a, o: (b.npdiv(1.0, a[1]), b.neg(b.npdiv(o, a[1]))),
            names=calls("numpy.divide", "numpy.true_divide"), trace="divide")
elementwise("nppow", 2, _guarded("{0} ** {1}", "{0} > 0", "np.power({0}, {1})", (P_ATOM, P_UNARY)),
            Form("{0} ** {1}", P_POW, (P_ATOM, P_UNARY)), np.power, _nppow_partials, keep_kind,
            names=calls("numpy.power"), trace="power")
elementwise("nplog", 1, _guarded("math.log({0})", "{0} > 0", "np.log({0})", (P_CMP + 1,)), call("np.log", 1),
            np.log, lambda b, a, o: (b.npdiv(1.0, a[0]),), trace="log")
elementwise("floordiv", 2, infix("//", P_MUL), None, np.floor_divide, None, keep_kind, may_raise=True,
            differentiable=False)
elementwise("mod", 2, infix("%", P_MUL), None, np.mod,
            lambda b, a, o: (1.0, b.neg(b.floordiv(a[0], a[1]))), keep_kind, may_raise=True)


# --- functions ----------------------------------------------------------------------------------
def _unary(name: str, math_name: str, np_name: str, impl: Callable[..., Any], partials: Partials,
           **traits: Any) -> None:
    """``math.<math_name>`` on scalars, ``np.<np_name>`` on arrays."""
    elementwise(name, 1, call(f"math.{math_name}", 1), call(f"np.{np_name}", 1), impl, partials,
                names=calls(f"math.{math_name}", f"numpy.{np_name}"),
                trace="" if np_name == name else np_name, **traits)


_unary("sin", "sin", "sin", np.sin, lambda b, a, o: (b.cos(a[0]),), hoistable=True)
_unary("cos", "cos", "cos", np.cos, lambda b, a, o: (b.neg(b.sin(a[0])),), hoistable=True)
_unary("tan", "tan", "tan", np.tan, lambda b, a, o: (b.add(1.0, b.mul(o, o)),))
_unary("exp", "exp", "exp", np.exp, lambda b, a, o: (o,), may_raise=True)  # OverflowError
_unary("log", "log", "log", np.log, lambda b, a, o: (b.div(1.0, a[0]),), may_raise=True)
_unary("log1p", "log1p", "log1p", np.log1p, lambda b, a, o: (b.div(1.0, b.add(1.0, a[0])),), may_raise=True)
_unary("sqrt", "sqrt", "sqrt", np.sqrt, lambda b, a, o: (b.npdiv(0.5, o),), may_raise=True)
_unary("tanh", "tanh", "tanh", np.tanh, lambda b, a, o: (b.sub(1.0, b.mul(o, o)),), hoistable=True)
_unary("atan", "atan", "arctan", np.arctan, lambda b, a, o: (b.div(1.0, b.add(1.0, b.mul(a[0], a[0]))),),
       hoistable=True)


def _atan2_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    y, x = a
    r2 = b.add(b.mul(x, x), b.mul(y, y))
    return b.npdiv(x, r2), b.neg(b.npdiv(y, r2))


elementwise("atan2", 2, call("math.atan2", 2), call("np.arctan2", 2), np.arctan2, _atan2_partials,
            names=calls("math.atan2", "numpy.arctan2"))
elementwise("abs", 1, call("abs", 1), call("np.abs", 1), np.abs,
            lambda b, a, o: (b.select(b.ge(a[0], 0), 1.0, -1.0),), keep_kind, hoistable=True,
            names=calls("math.fabs", "numpy.abs", "numpy.absolute", "numpy.fabs", "builtins.abs"))
elementwise("max", 2, call("max", 2), call("np.maximum", 2), np.maximum,
            lambda b, a, o: (b.select(b.ge(a[0], a[1]), 1.0, 0.0), b.select(b.ge(a[0], a[1]), 0.0, 1.0)), keep_kind,
            hoistable=True, names=calls("numpy.maximum", "numpy.fmax") + calls("builtins.max", variadic=True))
elementwise("min", 2, call("min", 2), call("np.minimum", 2), np.minimum,
            lambda b, a, o: (b.select(b.le(a[0], a[1]), 1.0, 0.0), b.select(b.le(a[0], a[1]), 0.0, 1.0)), keep_kind,
            hoistable=True, names=calls("numpy.minimum", "numpy.fmin") + calls("builtins.min", variadic=True))


def _select_impl(c: Any, x: Any, y: Any) -> Any:
    if np.ndim(c) == 0:
        return x if c else y
    return np.where(c, x, y)


def _select_type(ts: Sequence[Type]) -> Type:
    return join(*ts[1:]).with_(ndim=join(*ts).ndim, ones=join(*ts).ones) if join(*ts).ndim else join(*ts[1:])


def _select_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    """Linear in the two values: the tangent selects too."""
    c, x, y = op.args
    return b.select(c, ts[1] if ts[1] is not None else zero_like(b, x), ts[2] if ts[2] is not None else zero_like(b, y))


elementwise("select", 3, Form("{1} if {0} else {2}", P_TERNARY, (P_TERNARY + 1, P_TERNARY + 1, P_TERNARY)),
            call("np.where", 3), _select_impl,
            lambda b, a, o: (None, b.select(a[0], 1.0, 0.0), b.select(a[0], 0.0, 1.0)), _select_type,
            jvp=_select_jvp, hoistable=True, names=lowered("where", (1, 3), "numpy.where"), trace="where")


def _clip_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any, Any]:
    x, lo, hi = a
    inside = b.emit("and", b.ge(x, lo), b.le(x, hi))
    return (b.select(inside, 1.0, 0.0), b.select(b.lt(x, lo), 1.0, 0.0), b.select(b.gt(x, hi), 1.0, 0.0))


elementwise("clip", 3, Form("min(max({0}, {1}), {2})", 11, (0, 0, 0)), Form("np.clip({0}, {1}, {2})", 11, (0, 0, 0)),
            np.clip, _clip_partials, names=lowered("clip", (3, 3), "numpy.clip"))

# --- comparisons and logic (not differentiable) ------------------------------------------------
for _name, _sym, _impl in [("lt", "<", np.less), ("le", "<=", np.less_equal), ("gt", ">", np.greater),
                           ("ge", ">=", np.greater_equal), ("eq", "==", np.equal), ("ne", "!=", np.not_equal)]:
    elementwise(_name, 2, infix(_sym, P_CMP, P_CMP + 1), None, _impl, None, boolean, hoistable=True, predicate=True,
                differentiable=False)
elementwise("not", 1, Form("not {0}", P_NOT, (P_NOT,)), call("np.logical_not", 1), np.logical_not, None, boolean,
            hoistable=True, predicate=True, differentiable=False)
elementwise("and", 2, infix("and", P_AND), call("np.logical_and", 2), lambda x, y: bool(x) and bool(y), None,
            boolean, hoistable=True, predicate=True, differentiable=False)
elementwise("or", 2, infix("or", P_OR), call("np.logical_or", 2), lambda x, y: bool(x) or bool(y), None, boolean,
            hoistable=True, predicate=True, differentiable=False)

# --- casts --------------------------------------------------------------------------------------
elementwise("float", 1, call("float", 1), None, float, lambda b, a, o: (1.0,), hoistable=True,
            names=calls("builtins.float"))
elementwise("int", 1, call("int", 1), None, int, None, lambda ts: Type("int"), names=calls("builtins.int"),
            differentiable=False)

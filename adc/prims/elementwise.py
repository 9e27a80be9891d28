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

import math
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from ..types import FLOAT, Type, join
from ..zeros import zero_like
from . import batching
from .registry import (KERNELS, P_ADD, P_AND, P_ATOM, P_CMP, P_MUL, P_NOT, P_OR, P_POW, P_TERNARY, P_UNARY, Form,
                       Partials, Primitive, Spelling, boolean, call, calls, elementwise, float_like, infix,
                       keep_kind, lowered)


class _Twins:
    """The builder ``b``, each primitive of ``twins`` emitting its twin (``div`` -> ``npdiv``): a
    twin's partials are its primitive's, built from twins."""

    def __init__(self, b: Any, twins: dict[str, str]) -> None:
        self._b, self._twins = b, twins

    def __getattr__(self, name: str) -> Any:
        return getattr(self._b, self._twins.get(name, name))


# --- arithmetic -------------------------------------------------------------------------------
elementwise("add", 2, infix("+", P_ADD), None, np.add, lambda b, a, o: (1.0, 1.0), keep_kind, hoistable=True,
            names=calls("numpy.add"), element="add", operator=True)
elementwise("sub", 2, infix("-", P_ADD), None, np.subtract, lambda b, a, o: (1.0, -1.0), keep_kind, hoistable=True,
            names=calls("numpy.subtract"), element="sub", operator=True)
elementwise("mul", 2, infix("*", P_MUL), None, np.multiply, lambda b, a, o: (a[1], a[0]), keep_kind,
            hoistable=True, names=calls("numpy.multiply"), element="mul", operator=True)
elementwise("div", 2, infix("/", P_MUL), None, np.true_divide,
            lambda b, a, o: (b.div(1.0, a[1]), b.neg(b.div(o, a[1]))), may_raise=True, element="npdiv",
            operator=True)
elementwise("neg", 1, Form("-{0}", P_UNARY, (P_UNARY,)), None, np.negative, lambda b, a, o: (-1.0,), keep_kind,
            hoistable=True, names=calls("numpy.negative"), element="neg", operator=True)
# ``y = x``: a move the pass leaving SSA relies on, so never merged with another; an array copied
# so shares the memory of ``x``
elementwise("copy", 1, Form("{0}", P_ATOM, (P_ATOM,)), None, lambda x: x, lambda b, a, o: (1.0,), keep_kind,
            hoistable=True, view=True, cse=False, operator=True)


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


_POWER = Form("{0} ** {1}", P_POW, (P_ATOM, P_UNARY))
elementwise("pow", 2, _POWER, None, _pow_impl, _pow_partials, keep_kind,
            names=calls("builtins.pow"), may_raise=True, operator=True)


# NumPy's division, power and log on Python floats too: inf/nan where Python's ``/``, ``**`` and
# ``math.log`` raise (or ``**`` gives a complex number).  Partials whose formula divides by zero
# where the function does not (sqrt at 0, atan2 at the origin, x ** 0.5 at 0) use them, and so do
# their own partials, so derivatives of every order follow NumPy (docs/rules.md).  On scalars the
# plain Python operation runs where it is defined, and NumPy's (a ufunc call, about 20 times
# slower) only where it is not: ``x / y if y else np.divide(x, y)``.
def _guarded(fast: Form, defined: str, numpy_call: str, precs: tuple[int, ...],
             holds: Callable[[Sequence[Any]], bool | None]) -> Form:
    """NumPy's semantics for a scalar: ``fast`` where ``defined`` holds, else ``numpy_call``
    (``inf`` or ``nan`` where Python raises); ``holds`` decides it where the operands it reads are
    constants."""
    numpy_form = Form(numpy_call, P_ATOM, (0,) * len(precs))
    return Form(f"{fast.template} if {defined} else {numpy_call}", P_TERNARY, precs, fast, numpy_form, holds)


def _positive(k: int) -> Callable[[Sequence[Any]], bool | None]:
    """Is operand ``k`` above zero (``None``: not a constant)?"""
    return lambda values: None if values[k] is None else bool(values[k] > 0)


def _nonzero(k: int) -> Callable[[Sequence[Any]], bool | None]:
    """Is operand ``k`` other than zero (``None``: not a constant)?"""
    return lambda values: None if values[k] is None else bool(values[k])


# Numba's ``/`` (error model "numpy") gives inf and nan itself, so Numba code divides unguarded
elementwise("npdiv", 2, replace(_guarded(infix("/", P_MUL), "{1}", "np.divide({0}, {1})", (P_MUL, P_UNARY),
                                         _nonzero(1)), numba=infix("/", P_MUL)),
            infix("/", P_MUL), np.true_divide, lambda b, a, o: (b.npdiv(1.0, a[1]), b.neg(b.npdiv(o, a[1]))),
            names=calls("numpy.divide", "numpy.true_divide"), trace="divide", element="npdiv", operator=True)
elementwise("nppow", 2, _guarded(_POWER, "{0} > 0", "np.power({0}, {1})",
                                 (P_ATOM, P_UNARY), _positive(0)),
            _POWER, np.power, _nppow_partials, keep_kind,
            names=calls("numpy.power", "numpy.pow"), trace="power", operator=True)


def _float64(ts: Sequence[Type]) -> Type:
    """A float64 number or array, whatever the operands (``math.pow``, ``np.float_power``)."""
    t = join(*ts)
    return t.with_(kind="float", dtype="float64") if t.ndim else FLOAT


def _float_power_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    """``np.power``'s, each power a ``float_power`` (float64, whatever the operands: an integer base
    to a negative power too); the exponent's ``log(x)`` of a float32 array taken in float64 too."""
    x, y = a
    if x.type.is_array and x.type.dtype == "float32" and not b.is_const(y):
        x = b.float_power(x, 1.0)
    return _nppow_partials(_Twins(b, {"nppow": "float_power"}), (x, y), o)


# ``np.float_power`` computes in float64 (an integer base to a negative power is a float, a float32
# array's powers float64); ``np.power`` keeps its operands' dtype
elementwise("float_power", 2, replace(_guarded(Form("float({0}) ** {1}", P_POW, (0, P_UNARY)), "{0} > 0",
                                               "np.float_power({0}, {1})", (P_CMP + 1, P_UNARY), _positive(0)),
                                      numba=call("np.float_power", 2)),
            call("np.float_power", 2), np.float_power, _float_power_partials, _float64,
            names=calls("numpy.float_power"))


def _math_pow_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    """``pow``'s, each power a ``math.pow`` (``x`` itself for ``math.pow(x, 2)``)."""
    x, y = a
    if b.is_const(y) and y.value in (1, 2):
        return (1.0 if y.value == 1 else b.mul(2.0, x)), None
    return _pow_partials(_Twins(b, {"pow": "mathpow"}), a, o)


def _math_pow_impl(x: Any, y: Any) -> Any:
    return math.pow(x, y) if np.ndim(x) == 0 and np.ndim(y) == 0 else np.float_power(x, y)


# ``math.pow`` computes in floats (``math.pow(3, -2)`` is 1/9 and ``math.pow(3, 40)`` does not wrap under
# Numba, where ``3 ** -2`` is 0); it raises where Python's ``**`` of floats would be complex, and
# Numba's returns nan there
elementwise("mathpow", 2, call("math.pow", 2), call("np.float_power", 2), _math_pow_impl, _math_pow_partials, _float64,
            names=calls("math.pow"), may_raise=True, trace="pow")


# Python's ``**`` of floats is a complex number where the base is negative and the exponent not an
# integer (``(-8.0) ** (1 / 3)``), which adc cannot differentiate.  The front end makes a power of
# floats whose exponent is not known to be an integer this primitive (``number_semantics.py``):
# ``**`` where the base is at least 0, else ``adc_arrays.real_power``, NumPy's nan for a NumPy
# number (an array's element, say) and ``math.pow``'s ValueError for a Python float.  Its listing
# shows ``**``; Numba code calls ``math.pow``, NumPy's nan (``**`` of constants would be folded by
# Python into a complex number).  Its partial in ``x``, ``y * x ** (y - 1)``, is ``fpow`` again,
# so a gradient that does not compute the power itself is never complex either.
elementwise("fpow", 2, replace(_guarded(_POWER, "{0} >= 0", "adc_arrays.real_power({0}, {1})", (P_ATOM, P_UNARY),
                                        lambda values: None if values[0] is None else bool(values[0] >= 0)),
                               numba=call("math.pow", 2)),
            _POWER, _pow_impl, lambda b, a, o: _pow_partials(_Twins(b, {"pow": "fpow"}), a, o), keep_kind,
            may_raise=True, operator=True, trace="pow", imports=KERNELS)
elementwise("floordiv", 2, infix("//", P_MUL), None, np.floor_divide, None, keep_kind, may_raise=True,
            differentiable=False, operator=True)
elementwise("mod", 2, infix("%", P_MUL), None, np.mod,
            lambda b, a, o: (1.0, b.neg(b.floordiv(a[0], a[1]))), keep_kind, may_raise=True,
            names=calls("numpy.mod", "numpy.remainder"), note="d/dy = -floor(x / y); derivative 1 in x (also at the jumps)",
            operator=True)
# Numba's own ``np.fmod`` of integers is wrong (``np.fmod(-7, 3)`` is 0): Numba code calls the kernel
# ``adc_arrays.fmod``, NumPy's for floats and the truncated remainder for integers
elementwise("fmod", 2, replace(call("np.fmod", 2), numba=call("adc_arrays.fmod", 2)), None, np.fmod,
            lambda b, a, o: (1.0, b.neg(b.trunc(b.npdiv(a[0], a[1])))), keep_kind, may_raise=True,
            names=calls("numpy.fmod"), note="d/dy = -trunc(x / y); derivative 1 in x (also at the jumps)",
            numba_imports=KERNELS)


# --- functions ----------------------------------------------------------------------------------
def _alias(np_name: str, short: str) -> tuple[str, ...]:
    """NumPy 2's array-API name of an inverse function (``np.acos`` for ``np.arccos``)."""
    return (f"numpy.{short}",) if np_name.startswith("arc") and hasattr(np, short) else ()


# NumPy's functions of a number keep NumPy's semantics: ``np.log(0.0)`` is -inf and ``np.exp(1e3)``
# inf, where ``math.log`` and ``math.exp`` raise.  Such a function is a primitive of its own, the
# NumPy twin of the ``math`` one (``nplog`` of ``log``): ``math.log(x) if x > 0 else np.log(x)``
# on numbers, the math function inside its domain and NumPy's (a ufunc call) outside it; Numba's
# math functions return NumPy's values, so Numba code calls them without the guard.  Its
# partials are the math one's, built with every primitive that has a twin replaced by the twin
# (``div`` by ``npdiv``), so derivatives of every order stay NumPy's too.
Domain = tuple[str, Callable[[float], bool]]  # where math's function gives NumPy's value: its text, its test
_TWINS: dict[str, str] = {"div": "npdiv", "pow": "nppow", "fpow": "nppow"}  # a primitive -> its NumPy twin
_POSITIVE: Domain = ("{0} > 0", lambda x: x > 0)
_UNIT: Domain = ("-1.0 <= {0} <= 1.0", lambda x: -1.0 <= x <= 1.0)
_BELOW_OVERFLOW: Domain = ("{0} < 709.78", lambda x: x < 709.78)  # exp(709.79) overflows
_NO_OVERFLOW: Domain = ("-710.47 < {0} < 710.47", lambda x: -710.47 < x < 710.47)  # cosh(710.48) overflows


def numpy_twin(name: str) -> str | None:
    """The primitive ``name`` is with NumPy's semantics on numbers (``div`` -> ``npdiv``), if it differs."""
    return _TWINS.get(name)



def _numpy_twin(rule: Primitive, domain: Domain, names: tuple[Spelling, ...], prefix: str = "np") -> None:
    """Register ``np<rule>``, ``rule`` with NumPy's semantics on numbers, named ``names``
    (``sp<rule>``: SciPy's, for a function of ``scipy.special``)."""
    condition, test = domain
    partials = rule.partials
    assert partials is not None
    scalar = replace(_guarded(rule.scalar, condition, rule.array.template, (P_CMP + 1,),
                              lambda values: None if values[0] is None else bool(test(values[0]))),
                     numba=rule.scalar)  # Numba's math functions return inf and nan
    twin = elementwise(f"{prefix}{rule.name}", 1, scalar, rule.array, rule.impl,
                       lambda b, a, o: partials(_Twins(b, _TWINS), a, o), names=names,
                       trace=rule.trace or rule.name, note=rule.note, imports=rule.imports)
    _TWINS[rule.name] = twin.name


def _with_twin(name: str, arity: int, scalar: Form, array: Form, impl: Callable[..., Any], partials: Partials,
               own: tuple[Spelling, ...], library: tuple[Spelling, ...], domain: Domain | None,
               prefix: str = "np", **traits: Any) -> None:
    """Register ``name``, named ``own``; ``library`` (NumPy's or SciPy's names of it) are more names
    of it, or, with ``domain`` (where ``scalar`` gives the library's value), its twin's."""
    rule = elementwise(name, arity, scalar, array, impl, partials, names=own + (() if domain else library), **traits)
    if domain:
        _numpy_twin(rule, domain, library, prefix)


def _unary(name: str, math_name: str, np_name: str, impl: Callable[..., Any], partials: Partials,
           numpy: Domain | None = None, **traits: Any) -> None:
    """``math.<math_name>`` on scalars, ``np.<np_name>`` on arrays; with ``numpy`` (the domain of
    the math function), ``np.<np_name>`` is its NumPy twin."""
    _with_twin(name, 1, call(f"math.{math_name}", 1), call(f"np.{np_name}", 1), impl, partials,
               calls(f"math.{math_name}"), calls(f"numpy.{np_name}", *_alias(np_name, math_name)), numpy,
               trace="" if np_name == name else np_name, **traits)


_unary("sin", "sin", "sin", np.sin, lambda b, a, o: (b.cos(a[0]),), hoistable=True)
_unary("cos", "cos", "cos", np.cos, lambda b, a, o: (b.neg(b.sin(a[0])),), hoistable=True)
_unary("tan", "tan", "tan", np.tan, lambda b, a, o: (b.add(1.0, b.mul(o, o)),))
_unary("exp", "exp", "exp", np.exp, lambda b, a, o: (o,), may_raise=True, numpy=_BELOW_OVERFLOW)  # OverflowError
_unary("log", "log", "log", np.log, lambda b, a, o: (b.div(1.0, a[0]),), may_raise=True, numpy=_POSITIVE)
_unary("log1p", "log1p", "log1p", np.log1p, lambda b, a, o: (b.div(1.0, b.add(1.0, a[0])),), may_raise=True,
       numpy=("{0} > -1.0", lambda x: x > -1.0))
_unary("sqrt", "sqrt", "sqrt", np.sqrt, lambda b, a, o: (b.npdiv(0.5, o),), may_raise=True,
       numpy=("{0} >= 0", lambda x: x >= 0), note="d/dx at 0 is inf (NumPy's division), never a ZeroDivisionError")
_unary("tanh", "tanh", "tanh", np.tanh, lambda b, a, o: (b.sub(1.0, b.mul(o, o)),), hoistable=True)
_unary("atan", "atan", "arctan", np.arctan, lambda b, a, o: (b.div(1.0, b.add(1.0, b.mul(a[0], a[0]))),),
       hoistable=True)


def _atan2_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    y, x = a
    r2 = b.add(b.mul(x, x), b.mul(y, y))
    return b.npdiv(x, r2), b.neg(b.npdiv(y, r2))


elementwise("atan2", 2, call("math.atan2", 2), call("np.arctan2", 2), np.arctan2, _atan2_partials,
            names=calls("math.atan2", "numpy.arctan2", "numpy.atan2"))
elementwise("abs", 1, call("abs", 1), call("np.abs", 1), np.abs,
            lambda b, a, o: (b.select(b.ge(a[0], 0), 1.0, -1.0),), keep_kind, hoistable=True, note="d/dx at 0 is +1",
            names=calls("math.fabs", "numpy.abs", "numpy.absolute", "numpy.fabs", "builtins.abs"), operator=True)
def _extremum_partials(first: str) -> Partials:
    """``max``/``min`` (``first``: ``ge``/``le``): the whole gradient to the first argument on a tie."""
    def partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
        takes_first = b.emit(first, a[0], a[1])
        return b.select(takes_first, 1.0, 0.0), b.select(takes_first, 0.0, 1.0)
    return partials


def _nan_ignoring_partials(first: str) -> Partials:
    """``np.fmax``/``np.fmin``: ``max``'s/``min``'s, but where one operand is nan the other takes the
    whole gradient, as it gives the value."""
    def partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
        x, y = a
        if b.is_const(y):  # np.fmax(x, 0.5): the first operand's, unless the constant is nan
            takes_first: Any = True if y.value != y.value else b.emit(first, x, y)
        else:
            takes_first = b.emit("or", b.emit(first, x, y), b.ne(y, y))
        return b.select(takes_first, 1.0, 0.0), b.select(takes_first, 0.0, 1.0)
    return partials


def _picks(condition: str) -> Form:
    """``{0} if <condition> else {1}``: an extremum of two numbers without a call."""
    return Form("{0} if %s else {1}" % condition, P_TERNARY, (P_CMP + 1, P_CMP + 1))


# Python's ``max(a, b)`` is ``a`` unless ``b > a``, so it keeps ``a`` where either is nan; NumPy's
# ``np.maximum`` is nan where either is (and ``b`` on a tie: ``np.maximum(0.0, -0.0)`` is -0.0);
# ``np.fmax`` is the other operand where one is nan (``a`` on a tie).  Each is its own primitive with
# its own scalar form (the same NumPy function on arrays); the derivatives' tie convention is
# adc's: the first argument takes the gradient.
elementwise("max", 2, call("max", 2), call("np.maximum", 2), np.maximum, _extremum_partials("ge"), keep_kind,
            hoistable=True, names=calls("builtins.max", variadic=True), operator=True)
elementwise("min", 2, call("min", 2), call("np.minimum", 2), np.minimum, _extremum_partials("le"), keep_kind,
            hoistable=True, names=calls("builtins.min", variadic=True), operator=True)
elementwise("npmax", 2, replace(_picks("{0} > {1} or {0} != {0}"), numba=call("np.maximum", 2)), call("np.maximum", 2), np.maximum,
            _extremum_partials("ge"), keep_kind, hoistable=True, names=calls("numpy.maximum"), operator=True)
elementwise("npmin", 2, replace(_picks("{0} < {1} or {0} != {0}"), numba=call("np.minimum", 2)), call("np.minimum", 2), np.minimum,
            _extremum_partials("le"), keep_kind, hoistable=True, names=calls("numpy.minimum"), operator=True)
elementwise("fmax", 2, _picks("{0} >= {1} or {1} != {1}"), call("np.fmax", 2), np.fmax,
            _nan_ignoring_partials("ge"), keep_kind, hoistable=True, names=calls("numpy.fmax"), operator=True,
            note="a nan operand is ignored: the other takes the gradient")
elementwise("fmin", 2, _picks("{0} <= {1} or {1} != {1}"), call("np.fmin", 2), np.fmin,
            _nan_ignoring_partials("le"), keep_kind, hoistable=True, names=calls("numpy.fmin"), operator=True,
            note="a nan operand is ignored: the other takes the gradient")


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
            jvp=_select_jvp, vjvp=batching.select, hoistable=True, names=lowered("where", (1, 3), "numpy.where"),
            trace="where", operator=True)


def _clip_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any, Any]:
    """Those of NumPy's ``minimum(maximum(x, lo), hi)`` with the ties of ``max`` and ``min`` (the first
    argument): ``x`` where ``lo <= x <= hi``, ``lo`` where ``x < lo``, ``hi`` where ``x > hi``, and
    where ``lo > hi``, whose value is ``hi`` whatever ``x``, ``hi``."""
    x, lo, hi = a
    if b.is_const(lo) and b.is_const(hi) and lo.value <= hi.value:  # np.clip(x, 0.0, 1.0)
        return (b.select(b.emit("and", b.ge(x, lo), b.le(x, hi)), 1.0, 0.0), b.select(b.lt(x, lo), 1.0, 0.0),
                b.select(b.gt(x, hi), 1.0, 0.0))
    ordered = b.le(lo, hi)
    inside = b.emit("and", b.emit("and", b.ge(x, lo), b.le(x, hi)), ordered)
    return (b.select(inside, 1.0, 0.0), b.select(b.emit("and", b.lt(x, lo), ordered), 1.0, 0.0),
            b.select(b.emit("or", b.gt(x, hi), b.gt(lo, hi)), 1.0, 0.0))


# of numbers: Python's ``min(max(x, lo), hi)``, which is nan for a nan ``x`` as NumPy's, but drops a nan
# bound, which makes NumPy's nan (the bounds' test is written only where they are not constants)
_CLIPPED = Form("min(max({0}, {1}), {2})", P_ATOM, (0, 0, 0))
elementwise("clip", 3, Form("min(max({0}, {1}), {2}) if {1} == {1} and {2} == {2} else math.nan", P_TERNARY,
                            (0, P_CMP + 1, P_CMP + 1), _CLIPPED, Form("math.nan", P_ATOM, (0, 0, 0)),
                            lambda v: None if v[1] is None or v[2] is None else bool(v[1] == v[1] and v[2] == v[2])),
            # Numba's np.clip takes an array first only: np.clip(2.0, lo_array, 5.0) as NumPy's maximum and minimum
            replace(call("np.clip", 3), numba=Form("np.minimum(np.maximum({0}, {1}), {2})", P_ATOM, (0, 0, 0))),
            np.clip, _clip_partials,
            names=lowered("clip", (3, 3), "numpy.clip"))

# --- comparisons and logic (not differentiable) ------------------------------------------------
for _name, _sym, _impl in [("lt", "<", np.less), ("le", "<=", np.less_equal), ("gt", ">", np.greater),
                           ("ge", ">=", np.greater_equal), ("eq", "==", np.equal), ("ne", "!=", np.not_equal)]:
    elementwise(_name, 2, infix(_sym, P_CMP, P_CMP + 1), None, _impl, None, boolean, hoistable=True, predicate=True,
                differentiable=False)
elementwise("not", 1, Form("not {0}", P_NOT, (P_NOT,)), call("np.logical_not", 1), np.logical_not, None, boolean,
            hoistable=True, predicate=True, differentiable=False,
            names=lowered("logical_not", (1, 1), "numpy.logical_not"))
elementwise("and", 2, infix("and", P_AND), call("np.logical_and", 2), lambda x, y: bool(x) and bool(y), None,
            boolean, hoistable=True, predicate=True, differentiable=False)
elementwise("or", 2, infix("or", P_OR), call("np.logical_or", 2), lambda x, y: bool(x) or bool(y), None, boolean,
            hoistable=True, predicate=True, differentiable=False)

# --- bitwise operators on integers and bools (not differentiable) ------------------------------
# ``(x > 0) & (y < 1)`` combines masks; ``n & (1 << j)`` tests a bit.  Python and NumPy agree on
# these for ints and bools (bool op bool stays bool for ``&``, ``|``, ``^``); the front end refuses
# floats, and ``~`` of a Python bool (``-2`` for ``~True``: use ``not``).  One precedence between
# comparisons and ``+`` for all five, so an operand that is itself one of them gets parentheses.
P_BIT = P_CMP + 1


def _shifted(types: Sequence[Type]) -> Type:
    """A shift is an integer (``True << 1`` is 2)."""
    t = join(*types)
    return t.with_(kind="int", dtype="int64") if t.ndim else Type("int")


def _array_api(name: str) -> tuple[str, ...]:
    """NumPy 2's array-API spelling (``np.bitwise_left_shift`` for ``np.left_shift``), where it exists."""
    return (f"numpy.{name}",) if hasattr(np, name) else ()


def _bitwise(name: str, symbol: str, impl: Callable[..., Any], np_name: str, result: Any = keep_kind,
             alias: str = "", logical: str = "") -> None:
    """``logical``: the ``np.logical_*`` function that is this operator on its arguments' truth
    values.  A shift by a negative count raises in Python, so shifts are not hoisted."""
    names = calls(f"numpy.{np_name}", *_array_api(alias))
    if logical:
        names += lowered(logical, (2, 2), f"numpy.{logical}")
    shift = result is _shifted
    elementwise(name, 2, Form("{0} %s {1}" % symbol, P_BIT, (P_ADD, P_ADD)), None, impl, None, result,
                hoistable=not shift, may_raise=shift, differentiable=False, names=names)


_bitwise("bitand", "&", np.bitwise_and, "bitwise_and", logical="logical_and")
_bitwise("bitor", "|", np.bitwise_or, "bitwise_or", logical="logical_or")
_bitwise("bitxor", "^", np.bitwise_xor, "bitwise_xor", logical="logical_xor")
_bitwise("lshift", "<<", np.left_shift, "left_shift", _shifted, alias="bitwise_left_shift")
_bitwise("rshift", ">>", np.right_shift, "right_shift", _shifted, alias="bitwise_right_shift")
elementwise("invert", 1, Form("~{0}", P_UNARY, (P_UNARY,)), None, np.invert, None, keep_kind, hoistable=True,
            differentiable=False, names=calls("numpy.invert", "numpy.bitwise_not", *_array_api("bitwise_invert")))

# --- casts --------------------------------------------------------------------------------------
elementwise("float", 1, call("float", 1), None, float, lambda b, a, o: (1.0,), hoistable=True,
            names=calls("builtins.float"))
elementwise("int", 1, call("int", 1), None, int, None, lambda ts: Type("int"), names=calls("builtins.int"),
            differentiable=False)


# --- more math functions (issue 10) -------------------------------------------------------------
_LN2, _LN10, _TWO_OVER_SQRT_PI = float(np.log(2.0)), float(np.log(10.0)), float(2.0 / np.sqrt(np.pi))
_SQRT_PI_OVER_TWO = float(np.sqrt(np.pi) / 2.0)
SPECIAL = "import adc.prims.special as adc_special"  # the kernels of special.py, in generated code


def _numpy_unary(name: str, np_name: str, impl: Callable[..., Any], partials: Partials, *paths: str,
                 scalar: str = "", numpy: Domain | None = None, **traits: Any) -> None:
    """``np.<np_name>`` on arrays, and on numbers unless ``scalar`` names another function
    (``math.cosh``); spelled ``numpy.<np_name>`` and ``paths``; with ``numpy`` (the domain of
    ``scalar``), ``np.<np_name>`` is its NumPy twin and ``paths`` name the ``math`` one."""
    _with_twin(name, 1, call(scalar or f"np.{np_name}", 1), call(f"np.{np_name}", 1), impl, partials, calls(*paths),
               calls(f"numpy.{np_name}", *_alias(np_name, name)), numpy,
               trace="" if np_name == name else np_name, **traits)


def _zero(b: Any, a: Sequence[Any], o: Any) -> tuple[Any]:
    return (0.0,)


def _asinh_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any]:
    """``1 / sqrt(x * x + 1)``, which would overflow to 0 above 1e154: ``1 / hypot(x, 1)`` on a
    number, ``1 / cosh(out)`` on an array (NumPy's hypot is ten times slower than its cosh)."""
    x = a[0]
    return (b.div(1.0, b.cosh(o) if x.type.is_array else b.hypot(x, 1.0)),)


def _one_over_sqrt(b: Any, r: Any) -> Any:
    """``1 / sqrt(r)``: ``inf`` where ``r`` is 0 (asin and acos at +-1)."""
    return b.npdiv(1.0, b.sqrt(r))


_numpy_unary("sinh", "sinh", np.sinh, lambda b, a, o: (b.cosh(a[0]),), "math.sinh", scalar="math.sinh",
             may_raise=True, numpy=_NO_OVERFLOW)
_numpy_unary("cosh", "cosh", np.cosh, lambda b, a, o: (b.sinh(a[0]),), "math.cosh", scalar="math.cosh",
             may_raise=True, numpy=_NO_OVERFLOW)
_numpy_unary("asin", "arcsin", np.arcsin, lambda b, a, o: (_one_over_sqrt(b, b.sub(1.0, b.mul(a[0], a[0]))),),
             "math.asin", scalar="math.asin", may_raise=True, numpy=_UNIT)
_numpy_unary("acos", "arccos", np.arccos,
             lambda b, a, o: (b.neg(_one_over_sqrt(b, b.sub(1.0, b.mul(a[0], a[0])))),),
             "math.acos", scalar="math.acos", may_raise=True, numpy=_UNIT)
_numpy_unary("asinh", "arcsinh", np.arcsinh, _asinh_partials,
             "math.asinh", scalar="math.asinh", may_raise=True)
_numpy_unary("acosh", "arccosh", np.arccosh,
             lambda b, a, o: (b.npdiv(b.npdiv(1.0, b.sqrt(b.sub(a[0], 1.0))), b.sqrt(b.add(a[0], 1.0))),),
             "math.acosh", scalar="math.acosh", may_raise=True,
             numpy=("{0} >= 1.0", lambda x: x >= 1.0))
_numpy_unary("atanh", "arctanh", np.arctanh, lambda b, a, o: (b.npdiv(1.0, b.sub(1.0, b.mul(a[0], a[0]))),),
             "math.atanh", scalar="math.atanh", may_raise=True,
             numpy=("-1.0 < {0} < 1.0", lambda x: -1.0 < x < 1.0))
_numpy_unary("expm1", "expm1", np.expm1, lambda b, a, o: (b.exp(a[0]),), "math.expm1", scalar="math.expm1",
             may_raise=True, numpy=_BELOW_OVERFLOW)
_numpy_unary("exp2", "exp2", np.exp2, lambda b, a, o: (b.mul(o, _LN2),), may_raise=True)
_numpy_unary("log2", "log2", np.log2, lambda b, a, o: (b.npdiv(1.0, b.mul(a[0], _LN2)),), "math.log2",
             scalar="math.log2", may_raise=True, numpy=_POSITIVE)
_numpy_unary("log10", "log10", np.log10, lambda b, a, o: (b.npdiv(1.0, b.mul(a[0], _LN10)),), "math.log10",
             scalar="math.log10", may_raise=True, numpy=_POSITIVE)
_numpy_unary("cbrt", "cbrt", np.cbrt, lambda b, a, o: (b.npdiv(1.0, b.mul(3.0, b.mul(o, o))),), may_raise=True,
             note="d/dx at 0 is inf")
_numpy_unary("square", "square", np.square, lambda b, a, o: (b.mul(2.0, a[0]),), hoistable=True)


def _reciprocal_type(ts: Sequence[Type]) -> Type:
    """NumPy's reciprocal of an integer is an integer (``np.reciprocal(2)`` is 0, of 1 and -1 itself)."""
    t = ts[0]
    if t.kind == "float":
        return t
    return t.with_(kind="int", dtype="int64") if t.ndim else Type("int")


def _nonzero_float(values: Sequence[Any]) -> bool | None:
    """Is the operand a nonzero Python float (``None``: not a constant)?"""
    return None if values[0] is None else bool(values[0].__class__ is float and values[0])


# ``1.0 / x`` of a nonzero Python float, NumPy's own ``np.reciprocal`` otherwise: inf at 0, and the
# integer reciprocal of an integer (Numba's ``np.reciprocal`` of a number is NumPy's, inlined)
elementwise("reciprocal", 1, replace(_guarded(Form("1.0 / {0}", P_MUL, (P_UNARY,)), "{0} and {0}.__class__ is float",
                                              "np.reciprocal({0})", (P_ATOM,), _nonzero_float),
                                     numba=call("np.reciprocal", 1)),
            call("np.reciprocal", 1), np.reciprocal, lambda b, a, o: (b.neg(b.mul(o, o)),), _reciprocal_type,
            names=calls("numpy.reciprocal"))
_numpy_unary("positive", "positive", np.positive, lambda b, a, o: (1.0,), hoistable=True)
_numpy_unary("deg2rad", "deg2rad", np.deg2rad, lambda b, a, o: (float(np.pi / 180),), "numpy.radians", "math.radians",
             scalar="math.radians", hoistable=True)
_numpy_unary("rad2deg", "rad2deg", np.rad2deg, lambda b, a, o: (float(180 / np.pi),), "numpy.degrees",
             "math.degrees", scalar="math.degrees", hoistable=True)


# sinc'(x) = sum_k>=1 (-1)^k 2k pi^2k x^(2k-1) / (2k+1)!: eight terms are exact to the last bit below
# |x| = 1/4, where the closed form (cos(pi x) - sinc(x)) / x has lost no more than 1e-15 (relative)
# to its cancellation (1e-9 at |x| = 1e-4, everything below 1e-8)
_SINC_SERIES = 0.25
_SINC_TERMS = tuple((-1) ** k * 2 * k * np.pi ** (2 * k) / math.factorial(2 * k + 1) for k in range(1, 9))


def _sinc_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any]:
    """``(cos(pi x) - sinc(x)) / x``, and for ``|x| < 1/4`` its Taylor polynomial (odd, of degree 15):
    the closed form cancels to nothing near 0, and a polynomial's own derivatives are right too, so
    that every derivative of ``sinc`` is (``-pi**2 / 3``, the second at 0)."""
    x = a[0]
    small = b.lt(b.abs(x), _SINC_SERIES)
    t = b.mul(x, x)
    poly: Any = _SINC_TERMS[-1]
    for c in reversed(_SINC_TERMS[:-1]):
        poly = b.add(b.mul(poly, t), c)
    safe = b.select(small, 1.0, x)  # the closed form where it is not taken: never 0 / 0
    closed = b.div(b.sub(b.cos(b.mul(float(np.pi), safe)), o), safe)
    return (b.select(small, b.mul(x, poly), closed),)


_numpy_unary("sinc", "sinc", np.sinc, _sinc_partials)
# piecewise constant: derivative 0 everywhere (also at the jumps, as in JAX)
_numpy_unary("sign", "sign", np.sign, _zero, hoistable=True, note="derivative 0 (also at 0)")
for _name in ("floor", "ceil", "trunc", "rint"):
    _numpy_unary(_name, _name, getattr(np, _name), _zero, *(("numpy.fix",) if _name == "trunc" else ()),
                 hoistable=True, note="derivative 0 (also at the jumps)")
_numpy_unary("round", "round", np.round, _zero, "numpy.around", hoistable=True,
             note="derivative 0 (also at the jumps); np.round(x) with no decimals")
elementwise("pyround", 1, call("round", 1), call("np.round", 1), lambda x: round(x) if np.ndim(x) == 0 else np.round(x),
            None, lambda ts: float_like(ts) if ts[0].ndim else Type("int"), hoistable=True, differentiable=False,
            names=calls("builtins.round"),
            note="an integer (of a number), so its derivative is 0; round(x) with no ndigits")


def _logaddexp_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    return b.exp(b.sub(a[0], o)), b.exp(b.sub(a[1], o))


def _logaddexp2_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    return b.exp2(b.sub(a[0], o)), b.exp2(b.sub(a[1], o))


def _hypot_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    """``x / out`` and ``y / out``; 0 at the origin (where ``out`` is 0), as for ``norm``."""
    safe = b.select(b.eq(o, 0.0), 1.0, o)
    return b.div(a[0], safe), b.div(a[1], safe)


def _copysign_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
    s = b.copysign(1.0, a[1])
    return b.select(b.ge(a[0], 0.0), s, b.neg(s)), 0.0


elementwise("logaddexp", 2, call("np.logaddexp", 2), None, np.logaddexp, _logaddexp_partials,
            names=calls("numpy.logaddexp"))
elementwise("logaddexp2", 2, call("np.logaddexp2", 2), None, np.logaddexp2, _logaddexp2_partials,
            names=calls("numpy.logaddexp2"))
elementwise("hypot", 2, call("math.hypot", 2), call("np.hypot", 2), np.hypot, _hypot_partials,
            names=calls("math.hypot", "numpy.hypot"), note="gradient 0 at the origin")
elementwise("copysign", 2, call("math.copysign", 2), call("np.copysign", 2), np.copysign, _copysign_partials,
            names=calls("math.copysign", "numpy.copysign"),
            note="d/dx = sign(x) sign(y) (+1 for x = 0, as abs); d/dy = 0")


# --- special functions (math.lgamma, scipy.special) ----------------------------------------------
def _special(name: str, scalar: str, impl: Callable[..., Any], partials: Partials, *paths: str,
             arity: int = 1, scipy: Domain | None = None, **traits: Any) -> None:
    """A function of ``adc_special`` (``prims/special.py``) on arrays, and on numbers unless
    ``scalar`` names another (``math.lgamma``); with ``scipy`` (the domain of ``scalar``), the
    ``scipy.special`` names of ``paths`` are its SciPy twin (``gammaln(0.0)`` is inf, where
    ``math.lgamma(0.0)`` raises)."""
    library = tuple(path for path in paths if scipy and path.startswith("scipy."))
    _with_twin(name, arity, call(scalar or f"adc_special.{name}", arity), call(f"adc_special.{name}", arity), impl,
               partials, calls(*(path for path in paths if path not in library)), calls(*library), scipy, prefix="sp",
               imports=SPECIAL, **traits)


def _special_impl(name: str) -> Callable[..., Any]:
    import scipy.special

    return getattr(scipy.special, name)


_special("gammaln", "math.lgamma", _special_impl("gammaln"), lambda b, a, o: (b.digamma(a[0]),), "math.lgamma",
         "scipy.special.gammaln", may_raise=True, scipy=("0 < {0} < 1e300", lambda x: 0 < x < 1e300),
         note="log|Gamma(x)|; derivative digamma(x)")  # math.lgamma overflows above 2.5e305
_special("digamma", "", _special_impl("digamma"), lambda b, a, o: (b.polygamma(1, a[0]),),
         "scipy.special.digamma", "scipy.special.psi")
_special("polygamma", "", _special_impl("polygamma"), lambda b, a, o: (None, b.polygamma(b.add(a[0], 1), a[1])),
         "scipy.special.polygamma", arity=2, note="differentiable in x (n an integer)")
_special("gamma", "math.gamma", _special_impl("gamma"), lambda b, a, o: (b.mul(o, b.digamma(a[0])),), "math.gamma",
         "scipy.special.gamma", may_raise=True, scipy=("1e-300 < {0} < 171.6", lambda x: 1e-300 < x < 171.6))  # math.gamma overflows below 5.6e-309
_special("erf", "math.erf", _special_impl("erf"),
         lambda b, a, o: (b.mul(_TWO_OVER_SQRT_PI, b.exp(b.neg(b.mul(a[0], a[0])))),), "math.erf",
         "scipy.special.erf", hoistable=True)
_special("erfc", "math.erfc", _special_impl("erfc"),
         lambda b, a, o: (b.mul(-_TWO_OVER_SQRT_PI, b.exp(b.neg(b.mul(a[0], a[0])))),), "math.erfc",
         "scipy.special.erfc", hoistable=True)
_special("expit", "", _special_impl("expit"), lambda b, a, o: (b.mul(o, b.sub(1.0, o)),), "scipy.special.expit",
         hoistable=True, note="never overflows")
_special("erfinv", "", _special_impl("erfinv"), lambda b, a, o: (b.mul(_SQRT_PI_OVER_TWO, b.exp(b.mul(o, o))),),
         "scipy.special.erfinv", note="d/dx at +-1 is inf")
_special("logit", "", _special_impl("logit"), lambda b, a, o: (b.npdiv(1.0, b.mul(a[0], b.sub(1.0, a[0]))),),
         "scipy.special.logit", note="d/dx at 0 and 1 is inf")


def _xlog_partials(plus_one: bool) -> Partials:
    """``xlogy(x, y) = x * log(y)`` (``xlog1py``: ``x * log(1 + y)``), 0 where ``x = 0`` whatever
    ``y``: ``d/dx = log(y)``; ``d/dy = x / y``, 0 where ``x = 0``."""
    def partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any]:
        x, y = a
        den = b.add(1.0, y) if plus_one else y
        # 0 / 1 where both are 0, so that d/dy stays x / den, whose derivative in x is 1 / den
        safe = b.select(b.emit("and", b.eq(x, 0.0), b.eq(den, 0.0)), 1.0, den)
        return (b.nplog1p(y) if plus_one else b.nplog(y)), b.npdiv(x, safe)
    return partials


def _xlog_scalar(log: str, defined: str) -> Form:
    """``x * log(y)`` of numbers, with SciPy's -inf and nan where ``math``'s log raises (``defined``
    is false); Numba's ``math`` log returns them itself."""
    plain = Form(f"0.0 if {{0}} == 0 and not math.isnan({{1}}) else {{0}} * math.{log}({{1}})", P_TERNARY, (P_MUL, 0))
    return Form(f"0.0 if {{0}} == 0 and not math.isnan({{1}}) else {{0}} * (math.{log}({{1}}) if {defined} "
                f"else np.{log}({{1}}))", P_TERNARY, (P_MUL, P_CMP + 1), numba=plain)


elementwise("xlogy", 2, _xlog_scalar("log", "{1} > 0"),
            Form("np.where(({0} == 0) & ~np.isnan({1}), 0.0, {0} * np.log(np.where(({0} == 0) & ~np.isnan({1}), 1.0, "
                 "{1})))", P_ATOM, (P_MUL, 0)),
            _special_impl("xlogy"), _xlog_partials(False), names=calls("scipy.special.xlogy"), may_raise=True,
            note="0 where x = 0 (also for y = 0), nan for y nan; d/dy there is 0")
elementwise("xlog1py", 2, _xlog_scalar("log1p", "{1} > -1.0"),
            Form("np.where(({0} == 0) & ~np.isnan({1}), 0.0, {0} * np.log1p(np.where(({0} == 0) & ~np.isnan({1}), 0.0, "
                 "{1})))", P_ATOM, (P_MUL, 0)),
            _special_impl("xlog1py"), _xlog_partials(True), names=calls("scipy.special.xlog1py"), may_raise=True,
            note="0 where x = 0 (also for y = -1), nan for y nan; d/dy there is 0")

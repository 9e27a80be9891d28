"""Reductions (``sum``, ``mean``, ``amax``, ``amin``; ``any``, ``all`` and ``count_nonzero``,
which carry no derivative) and what their transposes need: ``broadcast``
(a reduced value spread back over its array's shape, a read-only view), ``expand`` (reduced axes
put back with length 1), ``count`` (how many elements a reduction took) and ``unbroadcast``.

Sums and means are linear: their JVP is the same reduction of the tangent and their transpose a
broadcast view, never a Jacobian.  ``amax``/``amin`` share the gradient equally between ties.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..types import FLOAT, Type
from . import batching, kernels
from .registry import KERNELS, NumbaRender, Render, atomic, float_like, lowered, seq_text, structural


def _axes(p: dict[str, Any], ndim: int) -> tuple[int, ...]:
    axis = p.get("axis")
    if axis is None:
        return tuple(range(ndim))
    return tuple(axis) if isinstance(axis, tuple) else (axis,)


def _reduce_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    x = ts[0]
    axes = _axes(p, x.ndim)
    kind = "float" if x.kind == "float" else ("int" if x.kind in ("int", "bool") else x.kind)
    if p.get("keepdims"):
        return Type(kind, x.ndim, x.dtype, tuple(True if k in axes else x.one(k) for k in range(x.ndim)))
    dims = tuple(x.one(k) for k in range(x.ndim) if k not in axes)
    if not dims:
        return Type(kind) if kind != "float" else FLOAT
    return Type(kind, len(dims), x.dtype, dims)


def _reduce_args(p: dict[str, Any]) -> str:
    text = ""
    if p.get("axis") is not None:
        text += f", axis={p['axis']}"
    if p.get("keepdims"):
        text += ", keepdims=True"
    return text


def _reduction(fn: str) -> Render:
    return lambda t, p: f"np.{fn}({t[0]}{_reduce_args(p)})"


def _expand_dims(text: str, axes: Sequence[int]) -> str:
    """``text`` with length-1 axes inserted at ``axes`` (one ``np.expand_dims`` each: Numba's takes
    one axis)."""
    for a in sorted(axes):
        text = f"np.expand_dims({text}, {a})"
    return text


def _numba_expand(text: str, axis: Any, ndim: int) -> str:
    """``np.expand_dims(text, axis)`` in Numba's terms: one axis at a time, a number as a
    ``np.full`` array (Numba's ``expand_dims`` takes arrays only)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not ndim:
        return f"np.full({seq_text(['1'] * len(axes))}, {text})"
    return _expand_dims(text, [a % (ndim + len(axes)) for a in axes])


def _numba_reduction(kernel: str, whole: str) -> NumbaRender:
    """The Numba dialect's reduction: ``whole`` (a template) over every axis, else the kernel
    ``adc_arrays.<kernel>(x, axis)`` once per axis (the highest first), with ``keepdims`` put back
    by ``np.expand_dims``: Numba's reductions take no ``keepdims`` (most no ``axis`` either)."""
    def spell(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
        nd = ts[0].ndim
        axes = sorted({a % nd for a in _axes(p, nd)}) if nd else []
        if len(axes) == nd:
            text = whole.format(t[0])
            return f"np.full({seq_text(['1'] * nd)}, {text})" if p.get("keepdims") and nd else text
        text = t[0]
        for a in reversed(axes):
            text = f"adc_arrays.{kernel}({text}, {a})"
        return _expand_dims(text, axes) if p.get("keepdims") else text
    return spell


def _broadcast_back(b: Any, g: Any, x: Any, params: Any) -> Any:
    """``g`` (shaped like a reduction of ``x``) as a read-only view with ``x``'s shape."""
    return b.emit("broadcast", g, x, params=params)


def _expand(b: Any, y: Any, params: Any) -> Any:
    """A reduction's result with its reduced axes put back (length 1), so it broadcasts."""
    p = dict(params)
    if p.get("keepdims") or p.get("axis") is None:
        return y
    return b.emit("expand", y, params=params)


def _count(b: Any, x: Any, params: Any) -> Any:
    return b.emit("count", x, params=params)


def _choose_mask(b: Any, op: Any) -> tuple[Any, Any]:
    """For max/min: where the extremum is (ties share the gradient equally), and how many."""
    x = op.args[0]
    mask = b.emit("eq", x, _expand(b, op.out, op.params))
    keep = tuple((k, v) for k, v in op.params if k != "keepdims") + (("keepdims", True),)
    if dict(op.params).get("axis") is None:
        keep = (("keepdims", False),)
    return mask, b.emit("count_nonzero", mask, params=keep)


def _extremum_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    mask, n = _choose_mask(b, op)
    return [b.select(mask, b.div(_expand(b, g, op.params), n), 0.0)]


def _extremum_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    mask, n = _choose_mask(b, op)
    total = b.emit("sum", b.select(mask, ts[0], 0.0), params=op.params)
    return b.div(total, n if dict(op.params).get("axis") is None else _squeeze(b, n, op.params))


def _squeeze(b: Any, n: Any, params: Any) -> Any:
    p = dict(params)
    if p.get("keepdims"):
        return n
    return b.emit("sum", n, params=params)  # summing a length-1 axis removes it


def _impl_reduce(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x, axis=None, keepdims=False: fn(x, axis=axis, keepdims=keepdims)


def _reducer(name: str, np_name: str, jvp: Callable[..., Any], vjp: Callable[..., Any], *paths: str,
             variance: tuple = (), vjvp: Callable[..., Any] | None = None) -> None:
    """A reduction rendered as ``np.<np_name>(x, axis=..., keepdims=...)``, spelled ``paths``; the
    mean also lowers ``np.var``/``np.std`` (``variance``: the front end writes them with means)."""
    structural(name, _reduction(np_name), _impl_reduce(getattr(np, np_name)), _reduce_type, jvp=jvp, vjp=vjp,
               vjvp=vjvp, reduces=True, names=lowered(name, (1, 2), *paths) + variance,
               numba=_numba_reduction(f"{name}_axis", f"np.{np_name}({{}})"), numba_imports=KERNELS)


_reducer("sum", "sum", lambda b, op, ts: b.emit("sum", ts[0], params=op.params),
         lambda b, op, g: [_broadcast_back(b, g, op.args[0], op.params)], "numpy.sum", "ndarray.sum",
         vjvp=batching.reduction(mean=False))
_reducer("mean", "mean", lambda b, op, ts: b.emit("mean", ts[0], params=op.params),
         lambda b, op, g: [_broadcast_back(b, b.div(g, _count(b, op.args[0], op.params)), op.args[0], op.params)],
         "numpy.mean", "ndarray.mean",
         variance=lowered("var", (1, 2), "numpy.var", "ndarray.var") + lowered("std", (1, 2), "numpy.std", "ndarray.std")
         + lowered("average", (1, 2), "numpy.average"), vjvp=batching.reduction(mean=True))


def _numbers(b: Any, x: Any) -> Any:
    """Where ``x`` is not NaN: the elements ``np.nansum`` adds."""
    return b.eq(x, x)


structural("nansum", _reduction("nansum"), _impl_reduce(np.nansum), _reduce_type, reduces=True,
           jvp=lambda b, op, ts: b.emit("sum", b.select(_numbers(b, op.args[0]), ts[0], 0.0), params=op.params),
           vjp=lambda b, op, g: [b.select(_numbers(b, op.args[0]), _expand(b, g, op.params), 0.0)],
           names=lowered("nansum", (1, 2), "numpy.nansum", "ndarray.nansum")[:1],
           note="NaN elements count as 0 and get derivative 0",
           numba=_numba_reduction("nansum_axis", "np.nansum({})"), numba_imports=KERNELS)
_reducer("amax", "max", _extremum_jvp, _extremum_vjp, "numpy.max", "numpy.amax", "ndarray.max",
         variance=lowered("ptp", (1, 2), "numpy.ptp"))
_reducer("amin", "min", _extremum_jvp, _extremum_vjp, "numpy.min", "numpy.amin", "ndarray.min")


def _truth_type(kind: str) -> Callable[[Sequence[Type], dict[str, Any]], Type]:
    """``np.any``/``np.all`` give bools, ``np.count_nonzero`` integers, shaped as reductions."""
    def typed(ts: Sequence[Type], p: dict[str, Any]) -> Type:
        t = _reduce_type(ts, p)
        return t.with_(kind=kind, dtype="bool" if kind == "bool" else "int64") if t.ndim else Type(kind)
    return typed


# the truth of elements (not differentiable): whether any or all are nonzero, and how many
for _name, _kind, _method in (("any", "bool", True), ("all", "bool", True), ("count_nonzero", "int", False)):
    structural(_name, _reduction(_name), _impl_reduce(getattr(np, _name)), _truth_type(_kind), reduces=True,
               differentiable=False, names=lowered(_name, (1, 2), f"numpy.{_name}", *((f"ndarray.{_name}",) * _method)),
               numba=_numba_reduction(f"{_name}_axis", f"np.{_name}({{}})"), numba_imports=KERNELS)


def _render_broadcast(t: Sequence[str], p: dict[str, Any]) -> str:
    g = t[0]
    if p.get("axis") is not None and not p.get("keepdims"):
        g = f"np.expand_dims({g}, {p['axis']})"
    return f"np.broadcast_to({g}, {atomic(t[1])}.shape)"


def _numba_broadcast(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    axis = p.get("axis")
    if axis is None or p.get("keepdims"):
        return _render_broadcast(t, p)
    return f"np.broadcast_to({_numba_expand(t[0], axis, ts[0].ndim)}, {atomic(t[1])}.shape)"


def _impl_broadcast(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(x))


def _count_text(t: Sequence[str], p: dict[str, Any]) -> str:
    axis = p.get("axis")
    x = atomic(t[0])  # under Numba an array expression may be folded in: ``(x * x).size``
    if axis is None:
        return f"{x}.size"
    axes = axis if isinstance(axis, tuple) else (axis,)
    product = " * ".join(f"{x}.shape[{a}]" for a in axes)
    return product if len(axes) == 1 else f"({product})"


def _impl_count(x: Any, axis: Any = None, keepdims: bool = False) -> int:
    if axis is None:
        return int(np.size(x))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([np.shape(x)[a] for a in axes]))


def _expand_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    t = ts[0]
    axes = p.get("axis")
    axes = axes if isinstance(axes, tuple) else (axes,)
    ndim = t.ndim + len(axes)
    ones, k = [], 0
    for axis in range(ndim):
        if axis in axes:
            ones.append(True)
        else:
            ones.append(t.one(k))
            k += 1
    return Type(t.kind, ndim, t.dtype, tuple(ones))


def _unexpand(b: Any, g: Any, y: Any) -> Any:
    """The transpose of ``expand``: ``g`` shaped like ``y`` again (its only element if ``y`` is a number)."""
    if y.type.is_array:
        return b.emit("reshape_like", g, y)
    return b.emit("getitem", g, *[0] * g.type.ndim)


def unbroadcast(b: Any, c: Any, target: Type) -> Any:
    """Sum an elementwise adjoint ``c`` over the axes its operand (of type ``target``) was
    broadcast along, so it gets the operand's shape; no array is materialized for nothing."""
    t = c.type
    if t is None or not t.is_array:
        return c
    lead = t.ndim - target.ndim
    if lead > 0:
        c = b.emit("sum", c, params=(("axis", tuple(range(lead)) if lead > 1 else 0),) if target.ndim else ())
        if not target.ndim:
            return c
    axes = tuple(k for k in range(target.ndim) if target.one(k) and not c.type.one(k))
    if axes:
        c = b.emit("sum", c, params=(("axis", axes if len(axes) > 1 else axes[0]), ("keepdims", True)))
    return c


def shaped_like(b: Any, c: Any, x: Any) -> Any:
    """``c`` (an adjoint of ``x``'s rank) summed or spread, when the code runs, to ``x``'s shape:
    where the code broadcast along axes of length 1 only the run knows (``run_time_shapes.py``)."""
    if c.type is None or not c.type.is_array or c.type.ndim != x.type.ndim:
        return c
    return b.emit("shaped_like", c, x)


def _unbroadcast_to(b: Any, g: Any, op: Any) -> Any:
    """The transpose of a broadcast: sum ``g`` back to the broadcast value's shape."""
    p = dict(op.params)
    if p.get("axis") is not None and not p.get("keepdims"):
        return b.emit("sum", g, params=(("axis", p["axis"]),))
    return unbroadcast(b, g, op.args[0].type)


structural("shaped_like", lambda t, p: f"adc_arrays.shaped_like({t[0]}, {t[1]})", lambda g, x: kernels.shaped_like(g, x),
           lambda ts: ts[1].with_(kind="float", dtype=ts[0].dtype), shape_args=(1,), imports=KERNELS,
           jvp=lambda b, op, ts: b.emit("shaped_like", ts[0], op.args[1]),
           # its transpose fits back: what it summed is spread, what it spread summed
           vjp=lambda b, op, g: [b.emit("shaped_like", g, op.args[0]), None])  # only in derivative code
structural("broadcast", _render_broadcast, _impl_broadcast, lambda ts, p: float_like(ts[1:]),
           jvp=lambda b, op, ts: b.emit("broadcast", ts[0], op.args[1], params=op.params),
           vjp=lambda b, op, g: [_unbroadcast_to(b, g, op), None], view=True, shape_args=(1,), may_raise=True,
           names=lowered("broadcast_to", (2, 2), "numpy.broadcast_to"), numba=_numba_broadcast)
structural("expand", lambda t, p: f"np.expand_dims({t[0]}, {p['axis']})",
           lambda y, axis=None, keepdims=False: np.expand_dims(y, axis), _expand_type, view=True,
           jvp=lambda b, op, ts: b.emit("expand", ts[0], params=op.params),
           vjp=lambda b, op, g: [_unexpand(b, g, op.args[0])],
           numba=lambda t, p, ts: _numba_expand(t[0], p["axis"], ts[0].ndim))
structural("count", _count_text, _impl_count, lambda ts: Type("int"), differentiable=False)


# --- norms and logsumexp (issue 10): not linear; derivatives read the result -------------------------
def _nonzero(b: Any, y: Any) -> Any:
    """``y`` with its zeros replaced by 1: the norm's derivative is 0 at 0 (the subgradient 0)."""
    return b.select(b.eq(y, 0.0), 1.0, y)


def _norm_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    return [b.mul(op.args[0], _expand(b, b.div(g, _nonzero(b, op.out)), op.params))]


def _norm_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    return b.div(b.emit("sum", b.mul(op.args[0], ts[0]), params=op.params), _nonzero(b, op.out))


_numba_sum = _numba_reduction("sum_axis", "np.sum({})")
structural("norm", lambda t, p: f"np.sqrt(np.sum({atomic(t[0])} * {atomic(t[0])}{_reduce_args(p)}))",
           lambda x, axis=None, keepdims=False: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)), _reduce_type,
           jvp=_norm_jvp, vjp=_norm_vjp, reduces=True, names=lowered("norm", (1, 3), "numpy.linalg.norm"),
           numba=lambda t, p, ts: f"np.sqrt({_numba_sum([f'{atomic(t[0])} * {atomic(t[0])}'], p, ts)})", numba_imports=KERNELS,
           note="vector ords None/2, 0 (a count: derivative 0), 1, inf, -inf, other p; matrix ords 'fro', 1, -1, "
                "inf, -inf over any two axes, 'nuc', 2, -2 of 2-D arrays; `axis`, `keepdims`. Gradient 0 at 0 "
                "(for ord p not 1, 2 or inf: NaN there)")


def _softmax_of(b: Any, op: Any) -> Any:
    """``exp(x - logsumexp(x))`` shaped like ``x``: never overflows."""
    return b.exp(b.sub(op.args[0], _expand(b, op.out, op.params)))


def _lse_impl(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    import scipy.special

    return scipy.special.logsumexp(x, axis=axis, keepdims=keepdims)


structural("logsumexp", lambda t, p: f"adc_special.logsumexp({t[0]}, {p.get('axis')}, {bool(p.get('keepdims'))})",
           _lse_impl, _reduce_type,
           jvp=lambda b, op, ts: b.emit("sum", b.mul(_softmax_of(b, op), ts[0]), params=op.params),
           vjp=lambda b, op, g: [b.mul(_expand(b, g, op.params), _softmax_of(b, op))], reduces=True,
           imports="import adc.prims.special as adc_special",
           names=lowered("logsumexp", (1, 2), "scipy.special.logsumexp")
           + lowered("softmax", (1, 2), "scipy.special.softmax") + lowered("log_softmax", (1, 2), "scipy.special.log_softmax"),
           note="stable for large inputs; softmax and log_softmax lower to it",
           numba=_numba_reduction("logsumexp_axis", "adc_special.logsumexp({}, None, False)"), numba_imports=KERNELS)


# --- products and running sums (issue 10, round 2) ------------------------------------------------
def _prod_ratio(b: Any, op: Any) -> Any:
    """``prod(x) / x`` shaped like ``x``: each element's partial."""
    return b.div(_expand(b, op.out, op.params), op.args[0])


structural("prod", _reduction("prod"), _impl_reduce(np.prod), _reduce_type,
           jvp=lambda b, op, ts: b.emit("sum", b.mul(_prod_ratio(b, op), ts[0]), params=op.params),
           vjp=lambda b, op, g: [b.mul(_expand(b, g, op.params), _prod_ratio(b, op))], reduces=True,
           names=lowered("prod", (1, 2), "numpy.prod", "ndarray.prod"),
           note="d/dx_i = prod(x) / x_i: not finite where an element is 0",
           numba=_numba_reduction("prod_axis", "np.prod({})"), numba_imports=KERNELS)


def flip(b: Any, x: Any, axis: int) -> Any:
    """``x`` reversed along ``axis``: a ``getitem`` view with step -1."""
    full = ("s", False, False, False)
    return b.emit("getitem", x, -1, params=(("index", (full,) * axis + (("s", False, False, True),)),))


def _cum_axis(op: Any) -> int:
    return int(dict(op.params).get("axis", 0))


def _rcumsum(b: Any, g: Any, op: Any) -> Any:
    """The transpose of ``cumsum``: sums from the end, ``flip(cumsum(flip(g)))``."""
    axis = _cum_axis(op)
    return flip(b, b.emit("cumsum", flip(b, g, axis), params=op.params), axis)


def _cum_render(fn: str) -> Render:
    return lambda t, p: f"np.{fn}({t[0]}{', axis=%d' % p['axis'] if 'axis' in p else ''})"


structural("cumsum", _cum_render("cumsum"), lambda x, axis=None: np.cumsum(x, axis=axis), lambda ts: float_like(ts),
           jvp=lambda b, op, ts: b.emit("cumsum", ts[0], params=op.params),
           vjp=lambda b, op, g: [_rcumsum(b, g, op)], fresh=True,
           names=lowered("cumsum", (1, 2), "numpy.cumsum", "ndarray.cumsum"))
structural("cumprod", _cum_render("cumprod"), lambda x, axis=None: np.cumprod(x, axis=axis), lambda ts: float_like(ts),
           jvp=lambda b, op, ts: b.mul(op.out, b.emit("cumsum", b.div(ts[0], op.args[0]), params=op.params)),
           vjp=lambda b, op, g: [b.div(_rcumsum(b, b.mul(g, op.out), op), op.args[0])], fresh=True,
           names=lowered("cumprod", (1, 2), "numpy.cumprod", "ndarray.cumprod"), numba_imports=KERNELS,
           numba=lambda t, p, ts: f"adc_arrays.cumprod_axis({t[0]}, {p['axis']})" if "axis" in p and ts[0].ndim > 1
           else _cum_render("cumprod")(t, p),
           note="d/dx_j = sum over i >= j of out_i / x_j: not finite where an element is 0")

"""What vector forward mode needs from the registry: three helper primitives and the batched JVP
rules (``Primitive.vjvp``) of the structural ops that have one.

In vector mode (``adc/vector.py``) every tangent carries a trailing batch axis of length ``k``, one
entry per tangent direction: the tangent of a scalar is a ``(k,)`` array, that of an ``(n, m)``
array an ``(n, m, k)`` array.  An element-wise partial ``p`` of an array result multiplies as
``p[..., None]`` (``lastaxis``); indexing, stores and element-wise code need no change, since NumPy
aligns the leading axes; reductions name their axes; products are written so that the batch axis
stays last.  A rule returns ``None`` where it has no batched form: vector mode then gives up and
``jacfwd`` runs one pass per direction.

A batched rule is ``vjvp(b, op, tangents, zero)``; ``zero(atom)`` makes the (batched) zero tangent of
an atom, for rules that need one where an argument has no tangent.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..ir import Const
from ..types import Type
from .registry import atomic, structural


def _lastaxis_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    t = ts[0]
    return Type(t.kind, t.ndim + 1, t.dtype, tuple(t.one(k) for k in range(t.ndim)) + (True,))


def _batched_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    t = ts[0]
    return Type("float", t.ndim + 1, t.dtype if t.kind == "float" and t.ndim else "float64",
                tuple(t.one(k) for k in range(t.ndim)) + (False,))


def _vzeros_text(t: Sequence[str], p: dict[str, Any]) -> str:
    k = f"{atomic(t[1])}.shape[-1:]"
    return f"np.zeros({atomic(t[0])}.shape + {k})" if p.get("array") else f"np.zeros({k})"


def _vbroadcast_text(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"np.broadcast_to({t[0]}, {atomic(t[1])}.shape + {atomic(t[0])}.shape[-1:])"


structural("lastaxis", lambda t, p: f"{atomic(t[0])}[..., None]", lambda x: np.asarray(x)[..., None],
           _lastaxis_type, view=True, differentiable=False)
structural("vzeros", _vzeros_text, lambda x, seed, array=False: np.zeros(np.shape(x) + np.shape(seed)[-1:]),
           _batched_type, fresh=True, shape_args=(0, 1), differentiable=False)
structural("vbroadcast", _vbroadcast_text, lambda t, x: np.broadcast_to(t, np.shape(x) + np.shape(t)[-1:]),
           lambda ts, p: _batched_type(ts[1:], p), view=True, shape_args=(1,), differentiable=False)


def partial_over_batch(b: Any, p: Any) -> Any:
    """An element-wise partial, ready to multiply a batched tangent: ``p[..., None]`` for an array."""
    t = getattr(p, "type", None)  # partials may be plain numbers
    return b.emit("lastaxis", p) if t is not None and t.is_array else p


def reduction(mean: bool) -> Callable[..., Any]:
    """The batched rule of ``sum`` (``mean``): a sum over the primal's axes, one axis at a time from
    the last (an integer ``axis`` is all Numba reads), divided by the count for a mean; the batch
    axis stays."""
    def rule(b: Any, op: Any, ts: Sequence[Any], zero: Callable[[Any], Any]) -> Any:
        x = op.args[0]
        ndim = x.type.ndim
        p = dict(op.params)
        axis = p.get("axis")
        axes = range(ndim) if axis is None else [a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))]
        keep = (("keepdims", True),) if p.get("keepdims") else ()
        t = ts[0]
        for a in sorted(axes, reverse=True):
            t = b.emit("sum", t, params=(("axis", a),) + keep)
        return b.div(t, b.emit("count", x, params=(("axis", axis),) if axis is not None else ())) if mean else t
    return rule


def matmul(b: Any, op: Any, ts: Sequence[Any], zero: Callable[[Any], Any]) -> Any:
    """``a @ c`` with the batch axis last, for 1-D and 2-D operands (of two matrices: ``ta @ c`` as
    an ``einsum``, ``a @ tc`` as a product with ``tc`` reshaped to a matrix, where BLAS does the work)."""
    a, c = op.args
    na, nc = a.type.ndim, c.type.ndim
    if na == 2 and nc == 2:
        terms = []
        if ts[0] is not None:  # ta @ c: ``einsum`` keeps the batch axis last
            terms.append(b.emit("einsum", ts[0], c, params=(("spec", "ijz,jl->ilz"),)))
        if ts[1] is not None:  # a @ tc: one product of matrices, tc's last two axes as one
            dims = [b.emit("shape", ts[1], params=(("dim", d),)) for d in range(3)]
            flat = b.emit("reshape", ts[1], dims[0], Const(-1), params=(("dims", (None, -1)),))
            product = b.emit("matmul", a, flat)
            terms.append(b.emit("reshape", product, b.emit("shape", a, params=(("dim", 0),)), dims[1], dims[2],
                                params=(("dims", (None, None, None)),)))
        return terms[0] if len(terms) == 1 else b.add(*terms)
    terms = []
    if ts[0] is not None:  # ta @ c, ta of shape a.shape + (k,)
        if na == 1 and nc == 1:
            terms.append(b.emit("matmul", c, ts[0]))
        elif na == 1 and nc == 2:
            terms.append(b.emit("matmul", b.emit("transpose", c), ts[0]))
        elif na == 2 and nc == 1:
            terms.append(b.emit("sum", b.mul(ts[0], b.emit("lastaxis", c)), params=(("axis", 1),)))
        else:
            return None
    if ts[1] is not None:  # a @ tc, tc of shape c.shape + (k,)
        if nc == 1 and na in (1, 2):
            terms.append(b.emit("matmul", a, ts[1]))
        elif na == 1 and nc == 2:
            terms.append(b.emit("sum", b.mul(ts[1], b.emit("lastaxis", b.emit("lastaxis", a))), params=(("axis", 0),)))
        else:
            return None
    return terms[0] if len(terms) == 1 else b.add(*terms)


def einsum(b: Any, op: Any, ts: Sequence[Any], zero: Callable[[Any], Any]) -> Any:
    """``np.einsum``: each tangent operand gets a letter of its own for the batch axis, which the
    output keeps last (``'vij,vj->vi'`` with ``ta``: ``'vijz,vj->viz'``)."""
    from .linalg import einsum_parts

    subs, out = einsum_parts(op.param("spec"))
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in "".join(subs) + out)
    terms = []
    for k, t in enumerate(ts):
        if t is not None:
            spec = ",".join(s + letter if j == k else s for j, s in enumerate(subs)) + "->" + out + letter
            terms.append(b.emit("einsum", *(t if j == k else x for j, x in enumerate(op.args)), params=(("spec", spec),)))
    return terms[0] if len(terms) == 1 else b.add(*terms)


def transpose(b: Any, op: Any, ts: Sequence[Any], zero: Callable[[Any], Any]) -> Any:
    """``np.transpose``: the same permutation of the leading axes, the batch axis last."""
    from .shapes import permutation

    ndim = op.args[0].type.ndim
    return b.emit("transpose", ts[0], params=(("axes", (*permutation(dict(op.params), ndim), ndim)),))


def reshape(b: Any, op: Any, ts: Sequence[Any], zero: Callable[[Any], Any]) -> Any:
    """``x.reshape(dims)`` (``ravel``: ``dims = (-1,)``): the tangent to ``dims + (k,)``."""
    k = b.emit("shape", ts[0], params=(("dim", -1),))
    if op.prim == "ravel":
        return b.emit("reshape", ts[0], Const(-1), k, params=(("dims", (-1, None)),))
    return b.emit("reshape", ts[0], *op.args[1:], k, params=(("dims", (*op.param("dims"), None)),))


def select(b: Any, op: Any, ts: Sequence[Any], zero: Callable[[Any], Any]) -> Any:
    """``where(c, x, y)``: the tangents select too, the condition spread over the batch axis."""
    c, x, y = op.args
    cond = b.emit("lastaxis", c) if c.type is not None and c.type.is_array else c
    return b.select(cond, ts[1] if ts[1] is not None else zero(x), ts[2] if ts[2] is not None else zero(y))


def join(b: Any, op: Any, ts: Sequence[Any], zero: Callable[[Any], Any]) -> Any:
    """The batched rule of ``stack`` and ``concatenate``: the same join of the tangents (a zero
    tangent where an argument has none) along the same axis, counted from the front, so that the
    batch axis stays last."""
    axis = op.param("axis", 0) % op.out.type.ndim
    params = tuple(kv for kv in op.params if kv[0] != "axis") + (("axis", axis),)
    return b.emit(op.prim, *[t if t is not None else zero(a) for a, t in zip(op.args, ts)], params=params)


def same(jvp: Callable[..., Any]) -> Callable[..., Any]:
    """A JVP rule that is its own batched rule (the batch axis passes through it: indexing)."""
    return lambda b, op, ts, zero: jvp(b, op, ts)

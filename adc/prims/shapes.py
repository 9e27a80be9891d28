"""Shape primitives: ``transpose`` (``x.T``, ``np.transpose``, ``np.swapaxes``, ``np.moveaxis``),
``reshape``, ``reshape_like`` (a reshape to another array's shape, for transposes) and ``ravel``.
Each is a view of its argument and linear: the JVP applies the same op to the tangent, the
transpose undoes it (the inverse permutation, a reshape back).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..types import Type
from .registry import float_like, lowered, seq_text, structural


def permutation(p: dict[str, Any], ndim: int) -> tuple[int, ...]:
    """A transpose's axis order: the ``axes`` parameter, or all axes reversed (``x.T``)."""
    axes = p.get("axes")
    return tuple(axes) if axes is not None else tuple(reversed(range(ndim)))


def inverse_axes(axes: Sequence[int]) -> tuple[int, ...]:
    """The permutation that undoes ``axes``: ``np.transpose(np.transpose(x, axes), inverse)`` is ``x``."""
    inverse = [0] * len(axes)
    for k, a in enumerate(axes):
        inverse[a] = k
    return tuple(inverse)


def _transpose_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    t = ts[0]
    return t.with_(ones=tuple(t.ones[a] for a in permutation(p, t.ndim)) if t.ones else None)


def _transpose_render(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"np.transpose({t[0]}, {seq_text([str(a) for a in p['axes']])})" if p.get("axes") else f"{t[0]}.T"


def transpose_params(axes: Sequence[int]) -> tuple[tuple[str, Any], ...]:
    """The op parameters of ``np.transpose(x, axes)``: none when ``axes`` reverses all axes."""
    axes = tuple(axes)
    return () if axes == tuple(reversed(range(len(axes)))) else (("axes", axes),)


def _transpose_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    axes = inverse_axes(permutation(dict(op.params), op.args[0].type.ndim))
    return [b.emit("transpose", g, params=transpose_params(axes))]


structural("transpose", _transpose_render, lambda x, axes=None: np.transpose(x, axes), _transpose_type,
           jvp=lambda b, op, ts: b.emit("transpose", ts[0], params=op.params), vjp=_transpose_vjp, view=True,
           names=lowered("transpose", (1, 64), "numpy.transpose", "ndarray.transpose")
           + lowered("swapaxes", (3, 3), "numpy.swapaxes", "ndarray.swapaxes")
           + lowered("moveaxis", (3, 3), "numpy.moveaxis"))


def _reshape_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    dims = p.get("dims")
    ones = tuple(d == 1 for d in dims) if dims else (False,) * (len(ts) - 1)
    return Type(ts[0].kind, len(ones), ts[0].dtype, ones)


def _reshape_render(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"{t[0]}.reshape({', '.join(t[1:])})"


structural("reshape", _reshape_render, lambda x, *d, dims=None: x.reshape(*[int(v) for v in d]), _reshape_type,
           jvp=lambda b, op, ts: b.emit("reshape", ts[0], *op.args[1:], params=op.params),
           vjp=lambda b, op, g: [b.emit("reshape_like", g, op.args[0])], view=True, may_raise=True,
           names=lowered("reshape", (2, 64), "numpy.reshape", "ndarray.reshape"))
structural("reshape_like", lambda t, p: f"{t[0]}.reshape({t[1]}.shape)", lambda g, x: np.reshape(g, np.shape(x)),
           lambda ts: float_like(ts[1:]), view=True, shape_args=(1,),  # only in derivative code (linear)
           jvp=lambda b, op, ts: b.emit("reshape_like", ts[0], op.args[1]),
           vjp=lambda b, op, g: [b.emit("reshape_like", g, op.args[0]), None])
structural("ravel", lambda t, p: f"{t[0]}.ravel()", np.ravel, lambda ts: Type(ts[0].kind, 1, ts[0].dtype, (False,)),
           jvp=lambda b, op, ts: b.emit("ravel", ts[0]),
           vjp=lambda b, op, g: [b.emit("reshape_like", g, op.args[0])], view=True,
           names=lowered("ravel", (1, 1), "numpy.ravel", "ndarray.ravel", "ndarray.flatten"))

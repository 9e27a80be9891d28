"""Array construction: ``zeros``/``ones``/``empty`` and their ``*_like`` forms, ``acopy``
(``x.copy()``), ``arange``, ``pack`` (``np.array([a, b])`` of numbers), ``concatenate``, ``stack``.

Each returns new memory (``fresh``): a write into it changes nothing else.  ``pack``,
``concatenate`` and ``stack`` are linear, with their JVP and transpose (``vjp``) here.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..types import Type
from .registry import Render, calls, float_like, lowered, seq_text, structural

# new arrays whose adjoints (and the adjoints of what they copy) are buffers updated in place
_NEW: dict[str, Any] = {"fresh": True, "buffered": ("array", "result")}
_NO_DERIVATIVE: dict[str, Any] = {**_NEW, "differentiable": False}


def _dims(texts: Sequence[str]) -> str:
    return texts[0] if len(texts) == 1 else f"({', '.join(texts)})"


def _new_array(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    kind = "int" if p.get("dtype") == "int64" else "float"
    return Type(kind, len(ts), p.get("dtype", "float64"), tuple(p.get("ones") or (False,) * len(ts)))


def _render_new(name: str) -> Render:
    return lambda t, p: f"np.{name}({_dims(t)}{', np.' + p['dtype'] if p.get('dtype') else ''})"


def _make(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *dims, ones=None, dtype="float64": fn(tuple(int(d) for d in dims), dtype=dtype)


for _ctor in ("zeros", "ones", "empty"):
    structural(_ctor, _render_new(_ctor), _make(getattr(np, _ctor)), _new_array, names=calls(f"numpy.{_ctor}"),
               **_NO_DERIVATIVE)
for _ctor in ("zeros_like", "ones_like", "empty_like"):
    structural(_ctor, (lambda n: lambda t, p: f"np.{n}({t[0]})")(_ctor), getattr(np, _ctor),
               lambda ts: float_like(ts), shape_args=(0,), names=calls(f"numpy.{_ctor}"), **_NO_DERIVATIVE)
structural("acopy", lambda t, p: f"{t[0]}.copy()", np.copy, lambda ts: float_like(ts), flows=True,
           names=calls("numpy.copy") + lowered("acopy", (1, 1), "ndarray.copy"), **_NEW)
structural("arange", lambda t, p: f"np.arange({', '.join(t)})", lambda *a: np.arange(*[int(v) for v in a]),
           lambda ts: Type("int", 1, "int64", (False,)), fresh=True, differentiable=False,
           names=lowered("arange", (1, 3), "numpy.arange"))
structural("pack", lambda t, p: f"np.array([{', '.join(t)}])", lambda *a: np.array(a, dtype=float),
           lambda ts: Type("float", 1, "float64", (len(ts) == 1,)),
           jvp=lambda b, op, ts: b.emit("pack", *[t if t is not None else 0.0 for t in ts]),
           vjp=lambda b, op, g: [b.emit("getitem", g, k) for k in range(len(op.args))], fresh=True,
           names=lowered("array", (1, 1), "numpy.array", "numpy.asarray"))


def _join_type(ts: Sequence[Type], p: dict[str, Any], extra: int) -> Type:
    t = ts[0]
    ndim = t.ndim + extra
    return Type("float", ndim, t.dtype if all(x.dtype == t.dtype for x in ts) else "float64", (False,) * ndim)


def _pieces(b: Any, op: Any, g: Any) -> list[Any]:
    """The slices of ``g`` that came from each concatenated argument."""
    axis = op.param("axis", 0)
    lead = ("s", False, False, False)
    out, offset = [], None
    for a in op.args:
        n = b.emit("shape", a, params=(("dim", axis),))
        stop = n if offset is None else b.add(offset, n)
        entry = ("s", offset is not None, True, False)
        args = ([offset] if offset is not None else []) + [stop]
        out.append(b.emit("getitem", g, *args, params=(("index", (lead,) * axis + (entry,)),)))
        offset = stop
    return out


def _zeros_for(b: Any, op: Any, ts: Sequence[Any]) -> list[Any]:
    return [t if t is not None else b.emit("zeros_like", a) for a, t in zip(op.args, ts)]


structural("concatenate", lambda t, p: f"np.concatenate({seq_text(t)}, axis={p.get('axis', 0)})",
           lambda *a, axis=0: np.concatenate(a, axis=axis), lambda ts, p: _join_type(ts, p, 0),
           jvp=lambda b, op, ts: b.emit("concatenate", *_zeros_for(b, op, ts), params=op.params),
           vjp=_pieces, may_raise=True, names=lowered("concatenate", (1, 1), "numpy.concatenate"))
structural("stack", lambda t, p: f"np.stack({seq_text(t)}, axis={p.get('axis', 0)})",
           lambda *a, axis=0: np.stack(a, axis=axis), lambda ts, p: _join_type(ts, p, 1),
           jvp=lambda b, op, ts: b.emit("stack", *_zeros_for(b, op, ts), params=op.params),
           vjp=lambda b, op, g: [b.emit("getitem", g, k, params=(("index", (("s", False, False, False),)
                                                                          * op.param("axis", 0) + ("i",)),))
                                 for k in range(len(op.args))], may_raise=True,
           names=lowered("stack", (1, 1), "numpy.stack"))

"""Array construction: ``zeros``/``ones``/``empty`` and their ``*_like`` forms, ``acopy``
(``x.copy()``), ``arange``, ``pack`` (``np.array([a, b])`` of numbers), ``concatenate``, ``stack``.

Each returns new memory (``fresh``): a write into it changes nothing else.  ``pack``,
``concatenate`` and ``stack`` are linear, with their JVP and transpose (``vjp``) here (and their
batched JVP: the tangents stacked or joined along the same axis, the batch axis last).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..types import Type
from ..zeros import keep_dtype
from . import batching
from .registry import KERNELS, Render, atomic, calls, float_like, lowered, seq_text, structural

# new arrays whose adjoints (and the adjoints of what they copy) are buffers updated in place
_NEW: dict[str, Any] = {"fresh": True, "buffered": ("array", "result")}
_NO_DERIVATIVE: dict[str, Any] = {**_NEW, "differentiable": False}


def lengths_at_run_time(op: Any, known: Callable[[Any], Any], first: int = 0) -> bool:
    """A length (from argument ``first`` on) given as a number only the running code knows
    (``np.zeros((n, 3))``; ``np.zeros(len(x))`` is known)?"""
    return any(known(a) is None for a in op.args[first:])


def _dims(texts: Sequence[str]) -> str:
    return texts[0] if len(texts) == 1 else f"({', '.join(texts)})"


def _new_array(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    kind = {"int64": "int", "bool": "bool"}.get(p.get("dtype", "float64"), "float")
    return Type(kind, len(ts), p.get("dtype", "float64"), tuple(p.get("ones") or (False,) * len(ts)))


def _render_new(name: str) -> Render:
    return lambda t, p: f"np.{name}({_dims(t)}{', np.' + p['dtype'] if p.get('dtype') else ''})"


def _make(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *dims, ones=None, dtype="float64": fn(tuple(int(d) for d in dims), dtype=dtype)


for _ctor in ("zeros", "ones", "empty"):
    structural(_ctor, _render_new(_ctor), _make(getattr(np, _ctor)), _new_array, names=calls(f"numpy.{_ctor}"),
               sized_at_run_time=lengths_at_run_time, **_NO_DERIVATIVE)
for _ctor in ("zeros_like", "ones_like", "empty_like"):
    structural(_ctor, (lambda n: lambda t, p: f"np.{n}({t[0]})")(_ctor), getattr(np, _ctor),
               lambda ts: float_like(ts), shape_args=(0,), shape_of_first=True, names=calls(f"numpy.{_ctor}"),
               **_NO_DERIVATIVE)
structural("acopy", lambda t, p: f"{atomic(t[0])}.copy()", np.copy, lambda ts: float_like(ts), flows=True,
           shape_of_first=True,
           names=calls("numpy.copy") + lowered("acopy", (1, 1), "ndarray.copy") + lowered("astype", (2, 2), "ndarray.astype"),
           **_NEW)
# a copy made by a call that Numba's parallel compiler does not fuse across (``parallel_stores.py``)
structural("materialized", lambda t, p: f"adc_arrays.materialized({t[0]})", np.copy, lambda ts: ts[0],
           shape_of_first=True, imports=KERNELS, **_NO_DERIVATIVE)


def _astype_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    return keep_dtype(b, ts[0], op.out.type)


# a derivative array cast to its primal's dtype (``zeros.keep_dtype``), never written by users
structural("astype", lambda t, p: f"{atomic(t[0])}.astype(np.{p['dtype']})", lambda x, dtype: np.asarray(x, dtype=dtype),
           lambda ts, p: ts[0].with_(dtype=p["dtype"]), jvp=_astype_jvp, vjvp=batching.same(_astype_jvp),
           vjp=lambda b, op, g: [keep_dtype(b, g, op.args[0].type)])
structural("arange", lambda t, p: f"np.arange({', '.join(t)})", lambda *a: np.arange(*[int(v) for v in a]),
           lambda ts: Type("int", 1, "int64", (False,)), fresh=True, differentiable=False,
           sized_at_run_time=lambda op, known: True,  # np.arange(1), np.arange(a, b): a length the type does not show
           names=lowered("arange", (1, 3), "numpy.arange"))
structural("pack", lambda t, p: f"np.array([{', '.join(t)}])", lambda *a, dtype="float64": np.array(a, dtype=dtype),
           lambda ts, p: Type("int" if p.get("dtype") == "int64" else "float", 1, p.get("dtype", "float64"), (len(ts) == 1,)),
           jvp=lambda b, op, ts: b.emit("pack", *[t if t is not None else 0.0 for t in ts]),
           vjvp=lambda b, op, ts, zero: b.emit("stack", *[t if t is not None else zero(a) for a, t in zip(op.args, ts)],
                                               params=(("axis", 0),)),
           vjp=lambda b, op, g: [b.emit("getitem", g, k) for k in range(len(op.args))], fresh=True,
           names=lowered("array", (1, 1), "numpy.array", "numpy.asarray"))


def _join_type(ts: Sequence[Type], p: dict[str, Any], extra: int) -> Type:
    """Joined arrays: integer arrays stay integers (``np.array([[0, 1], [1, 0]])``, an index), float
    arrays keep a dtype they share."""
    t = ts[0]
    ndim, same = t.ndim + extra, all(x.dtype == t.dtype for x in ts)
    axis = p.get("axis", 0) % ndim if ndim else 0
    # the other axes are each operand's (of one length): of length 1 where one operand's is known to be
    parts = [any(x.one(k) for x in ts) for k in range(t.ndim)]
    ones = tuple(parts[:axis] + [len(ts) == 1] + parts[axis:]) if extra else \
        tuple(one and (k != axis or len(ts) == 1) for k, one in enumerate(parts))
    if all(x.kind == "int" for x in ts):
        return Type("int", ndim, t.dtype if same else "int64", ones)
    return Type("float", ndim, t.dtype if same else "float64", ones)


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
           vjp=_pieces, vjvp=batching.join, may_raise=True, names=lowered("concatenate", (1, 1), "numpy.concatenate") + lowered("hstack", (1, 1), "numpy.hstack")
           + lowered("vstack", (1, 1), "numpy.vstack") + lowered("column_stack", (1, 1), "numpy.column_stack"))
structural("stack", lambda t, p: f"np.stack({seq_text(t)}, axis={p.get('axis', 0)})",
           lambda *a, axis=0: np.stack(a, axis=axis), lambda ts, p: _join_type(ts, p, 1),
           jvp=lambda b, op, ts: b.emit("stack", *_zeros_for(b, op, ts), params=op.params),
           vjp=lambda b, op, g: [b.emit("getitem", g, k, params=(("index", (("s", False, False, False),)
                                                                          * op.param("axis", 0) + ("i",)),))
                                 for k in range(len(op.args))], vjvp=batching.join, may_raise=True,
           names=lowered("stack", (1, 1), "numpy.stack"))


# --- eye, identity, full, linspace (issue 10, round 2) -------------------------------------------------
def _eye_text(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"np.eye({', '.join(t)}{', k=%d' % p['k'] if p.get('k') else ''})"


structural("eye", _eye_text, lambda n, m=None, k=0: np.eye(int(n), None if m is None else int(m), k),
           lambda ts: Type("float", 2, "float64", (False, False)), names=lowered("eye", (1, 2), "numpy.eye"),
           sized_at_run_time=lambda op, known: True, **_NO_DERIVATIVE)  # np.eye(1): a length the type does not show
structural("identity", lambda t, p: f"np.identity({t[0]})", lambda n: np.identity(int(n)),
           lambda ts: Type("float", 2, "float64", (False, False)), names=lowered("identity", (1, 1), "numpy.identity"),
           sized_at_run_time=lambda op, known: True, **_NO_DERIVATIVE)


def _full_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    return b.emit("full", ts[0], *op.args[1:], params=op.params)


structural("full", lambda t, p: f"np.full({_dims(t[1:])}, {t[0]})",
           lambda v, *dims, ones=None: np.full(tuple(int(d) for d in dims), float(v)),
           lambda ts, p: Type("float", len(ts) - 1, "float64", tuple(p.get("ones") or (False,) * (len(ts) - 1))),
           jvp=_full_jvp, vjp=lambda b, op, g: [b.emit("sum", g)] + [None] * (len(op.args) - 1),
           names=lowered("full", (2, 2), "numpy.full"), note="of a number (the fill value is differentiable)",
           sized_at_run_time=lambda op, known: lengths_at_run_time(op, known, 1), **_NEW)
structural("full_like", lambda t, p: f"np.full_like({t[0]}, {t[1]})", lambda x, v: np.full_like(x, v, dtype=float),
           lambda ts: float_like(ts), shape_args=(0,), shape_of_first=True,
           jvp=lambda b, op, ts: b.emit("full_like", op.args[0], ts[1]) if ts[1] is not None
           else b.emit("zeros_like", op.args[0]),
           vjp=lambda b, op, g: [None, b.emit("sum", g)], names=lowered("full_like", (2, 2), "numpy.full_like"),
           note="of a number (the fill value is differentiable)", **_NEW)


def _unit(b: Any, op: Any) -> Any:
    """``np.linspace(0.0, 1.0, n)``: where each point sits between the ends."""
    return b.emit("linspace", 0.0, 1.0, b.emit("shape", op.out, params=(("dim", 0),)))  # a Var: never folded


def _linspace_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    s = _unit(b, op)
    terms = [b.mul(ts[0], b.sub(1.0, s)) if ts[0] is not None else None, b.mul(ts[1], s) if ts[1] is not None else None]
    present = [t for t in terms if t is not None]
    return present[0] if len(present) == 1 else b.add(*present)


def _linspace_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    s = _unit(b, op)
    return [b.emit("sum", b.mul(g, b.sub(1.0, s))), b.emit("sum", b.mul(g, s)), None]


structural("linspace", lambda t, p: f"np.linspace({t[0]}, {t[1]}, {t[2]})",
           lambda a, c, n: np.linspace(a, c, int(n)), lambda ts: Type("float", 1, "float64", (False,)),
           jvp=_linspace_jvp, vjp=_linspace_vjp, names=lowered("linspace", (3, 3), "numpy.linspace"),
           sized_at_run_time=lambda op, known: True,  # np.linspace(a, b, 1): a length the type does not show
           note="between numbers, `num` given; differentiable in both ends", **_NEW)


# --- np.vander: the powers of a vector, as columns ------------------------------------------------
def _vander_text(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"np.vander({t[0]}, {t[1]}{', increasing=True' if p.get('increasing') else ''})"


def _vander_slope(b: Any, op: Any) -> Any:
    """``d V / d x`` column by column: ``j x^(j-1)`` where ``V[:, j] = x^j`` (increasing; the
    columns mirrored otherwise), made of ``vander`` itself, so it has derivatives of every order."""
    x, n = op.args
    below = b.sub(n, 1)
    if dict(op.params).get("increasing"):
        powers, exponents, widths = b.emit("vander", x, below, params=op.params), b.emit("arange", 1, n), ((0, 0), (1, 0))
    else:
        powers, exponents, widths = b.emit("vander", x, below), b.emit("arange", below, 0, -1), ((0, 0), (0, 1))
    return b.emit("pad", b.mul(powers, exponents), params=(("widths", widths),))


structural("vander", _vander_text, lambda x, n, increasing=False: np.vander(x, int(n), increasing=increasing),
           lambda ts: Type("float", 2, ts[0].dtype if ts[0].kind == "float" else "float64", (ts[0].one(0), False)),
           sized_at_run_time=lambda op, known: True,  # np.vander(x, 1): a width the type does not show
           jvp=lambda b, op, ts: b.mul(_vander_slope(b, op), b.emit("expand", ts[0], params=(("axis", 1),))),
           vjp=lambda b, op, g: [b.emit("sum", b.mul(g, _vander_slope(b, op)), params=(("axis", 1),)), None],
           fresh=True, names=lowered("vander", (1, 3), "numpy.vander"), numba_imports=KERNELS,
           numba=lambda t, p, ts: f"adc_arrays.vander({t[0]}, {t[1]}, {bool(p.get('increasing'))})",
           note="columns x^(N-1) ... x^0, or x^0 ... x^(N-1) with increasing=True; N >= 1")

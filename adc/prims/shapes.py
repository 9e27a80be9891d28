"""Shape primitives: ``transpose`` (``x.T``, ``np.transpose``, ``np.swapaxes``, ``np.moveaxis``),
``reshape``, ``reshape_like`` (a reshape to another array's shape, for transposes) and ``ravel``.
Each is a view of its argument and linear: the JVP applies the same op to the tangent, the
transpose undoes it (the inverse permutation, a reshape back).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..types import Type
from . import batching, kernels
from .registry import KERNELS, RowRule, atomic, float_like, lowered, seq_text, structural


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
    return f"np.transpose({t[0]}, {seq_text([str(a) for a in p['axes']])})" if p.get("axes") else f"{atomic(t[0])}.T"


def transpose_params(axes: Sequence[int]) -> tuple[tuple[str, Any], ...]:
    """The op parameters of ``np.transpose(x, axes)``: none when ``axes`` reverses all axes."""
    axes = tuple(axes)
    return () if axes == tuple(reversed(range(len(axes)))) else (("axes", axes),)


def _transpose_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    axes = inverse_axes(permutation(dict(op.params), op.args[0].type.ndim))
    return [b.emit("transpose", g, params=transpose_params(axes))]


structural("transpose", _transpose_render, lambda x, axes=None: np.transpose(x, axes), _transpose_type,
           jvp=lambda b, op, ts: b.emit("transpose", ts[0], params=op.params), vjp=_transpose_vjp,
           vjvp=batching.transpose, view=True,
           names=lowered("transpose", (1, 64), "numpy.transpose", "ndarray.transpose")
           + lowered("swapaxes", (3, 3), "numpy.swapaxes", "ndarray.swapaxes")
           + lowered("moveaxis", (3, 3), "numpy.moveaxis"))


def _reshape_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    dims = p.get("dims")
    ones = tuple(d == 1 for d in dims) if dims else (False,) * (len(ts) - 1)
    return Type(ts[0].kind, len(ones), ts[0].dtype, ones)


def _reshape_rows(op: Any, constant: Any) -> RowRule | None:
    """``x.reshape(-1, 4, 4)``: its rows are ``x``'s when a row of ``x`` has 16 elements, which the
    pass checks; gathered, the ``-1`` becomes the number of rows (a mismatch raises, as NumPy)."""
    dims = op.param("dims") or ()
    if len(op.args) < 3 or op.args[0].type is None or op.args[0].type.ndim < 2:
        return None
    first = dims[0] if dims and dims[0] is not None else constant(op.args[1])
    return RowRule((0,), count=1, same_row_size=True) if first == -1 else None


def _reshape_render(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"{atomic(t[0])}.reshape({', '.join(t[1:])})"


structural("reshape", _reshape_render, lambda x, *d, dims=None: x.reshape(*[int(v) for v in d]), _reshape_type,
           jvp=lambda b, op, ts: b.emit("reshape", ts[0], *op.args[1:], params=op.params),
           vjp=lambda b, op, g: [b.emit("reshape_like", g, op.args[0])], vjvp=batching.reshape, view=True, may_raise=True,
           rows=_reshape_rows,  # but for positive constants, a length from the run (-1: what is left)
           sized_at_run_time=lambda op, known: not all(d is not None and d > 0 for d in op.param("dims") or (None,)),
           names=lowered("reshape", (2, 64), "numpy.reshape", "ndarray.reshape"),
           numba=lambda t, p, ts: _reshape_render([f"np.ascontiguousarray({t[0]})", *t[1:]], p))
structural("reshape_like", lambda t, p: f"{atomic(t[0])}.reshape({atomic(t[1])}.shape)", lambda g, x: np.reshape(g, np.shape(x)),
           lambda ts: float_like(ts[1:]), view=True, shape_args=(1,),  # only in derivative code (linear)
           numba=lambda t, p, ts: f"np.ascontiguousarray({t[0]}).reshape({atomic(t[1])}.shape)",  # Numba: contiguous only
           jvp=lambda b, op, ts: b.emit("reshape_like", ts[0], op.args[1]),
           vjp=lambda b, op, g: [b.emit("reshape_like", g, op.args[0]), None])
structural("ravel", lambda t, p: f"{atomic(t[0])}.ravel()", np.ravel,
           lambda ts: Type(ts[0].kind, 1, ts[0].dtype, (all(ts[0].one(k) for k in range(ts[0].ndim)),)),
           jvp=lambda b, op, ts: b.emit("ravel", ts[0]),
           vjp=lambda b, op, g: [b.emit("reshape_like", g, op.args[0])], vjvp=batching.reshape, view=True,
           names=lowered("ravel", (1, 1), "numpy.ravel", "ndarray.ravel") + lowered("flatten", (1, 1), "ndarray.flatten"))


# --- diagonals, triangles, rolls, tiles and repeats (issue 10, round 2): linear, new memory -------------
_KERNELS = KERNELS


def _k(p: dict[str, Any]) -> str:
    return f", {p['k']}" if p.get("k") else ""


def _vector(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    """A matrix's diagonal: of length 1 where an axis of the matrix is (``k = 0``; the length of
    another diagonal only the running code knows: ``sized_at_run_time``)."""
    x = ts[0]
    return Type("float", 1, x.dtype if x.kind == "float" else "float64", (not p.get("k") and (x.one(0) or x.one(1)),))


def _matrix(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    """``np.diag(v, k)``: ``(n + |k|, n + |k|)``, of length 1 where ``v`` is and ``k = 0``."""
    one = not p.get("k") and ts[0].one(0)
    return Type("float", 2, ts[0].dtype if ts[0].kind == "float" else "float64", (one, one))


# a copy (NumPy's np.diag of a matrix is a read-only view, which a later write into it would change
# under the reverse sweep's feet; Numba's is a copy already)
structural("diagonal", lambda t, p: f"np.diag({t[0]}{_k(p)}).copy()", lambda x, k=0: np.diag(x, k).copy(), _vector,
           numba=lambda t, p, ts: f"np.diag({t[0]}{_k(p)})", numpy_view=lambda op: True,
           sized_at_run_time=lambda op, known: bool(op.param("k")),
           jvp=lambda b, op, ts: b.emit("diagonal", ts[0], params=op.params),
           vjp=lambda b, op, g: [b.emit("diag_embed", g, op.args[0], params=op.params)],
           names=lowered("diagonal", (1, 2), "numpy.diagonal", "ndarray.diagonal")
           + lowered("trace", (1, 2), "numpy.trace", "ndarray.trace"),
           note="of 2-D arrays (offset `k`); np.trace is the sum of it")
structural("diag_embed", lambda t, p: f"adc_arrays.diag_embed({t[0]}, {t[1]}, {p.get('k', 0)})",
           lambda g, x, k=0: kernels.diag_embed(g, x, k),
           lambda ts: ts[1].with_(kind="float", dtype=ts[1].dtype if ts[1].kind == "float" else "float64"),
           fresh=True, shape_args=(1,), imports=_KERNELS,
           jvp=lambda b, op, ts: b.emit("diag_embed", ts[0], op.args[1], params=op.params),
           vjp=lambda b, op, g: [b.emit("diagonal", g, params=op.params), None])  # only in derivative code
structural("diagm", lambda t, p: f"np.diag({t[0]}{_k(p)})", lambda v, k=0: np.diag(v, k), _matrix,
           jvp=lambda b, op, ts: b.emit("diagm", ts[0], params=op.params),
           vjp=lambda b, op, g: [b.emit("diagonal", g, params=op.params)], fresh=True,
           names=lowered("diag", (1, 2), "numpy.diag"), note="np.diag of a 1-D array (of a 2-D one: np.diagonal)")
for _tri in ("triu", "tril"):
    structural(_tri, (lambda n: lambda t, p: f"np.{n}({t[0]}{_k(p)})")(_tri),
               (lambda f: lambda x, k=0: f(x, k))(getattr(np, _tri)), lambda ts: float_like(ts),
               jvp=(lambda n: lambda b, op, ts: b.emit(n, ts[0], params=op.params))(_tri),
               vjp=(lambda n: lambda b, op, g: [b.emit(n, g, params=op.params)])(_tri), fresh=True,
               names=lowered(_tri, (1, 2), f"numpy.{_tri}"))


def _roll_text(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"np.roll({t[0]}, {p['shift']}{', axis=%d' % p['axis'] if p.get('axis') is not None else ''})"


def _roll_back(params: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((k, -v if k == "shift" else v) for k, v in params)


structural("roll", _roll_text, lambda x, shift=0, axis=None: np.roll(x, shift, axis), lambda ts: float_like(ts),
           jvp=lambda b, op, ts: b.emit("roll", ts[0], params=op.params),
           vjp=lambda b, op, g: [b.emit("roll", g, params=_roll_back(op.params))], fresh=True,
           names=lowered("roll", (2, 3), "numpy.roll"), numba_imports=KERNELS,
           numba=lambda t, p, ts: f"adc_arrays.roll_axis({t[0]}, {p['shift']}, {p['axis']})"
           if p.get("axis") is not None else _roll_text(t, p))


def _tile_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    x = ts[0]
    ndim = max(x.ndim, len(p["reps"]))
    reps = (1,) * (ndim - len(p["reps"])) + tuple(p["reps"])  # both padded with leading ones, as NumPy
    ones = tuple(reps[k] == 1 and (k < ndim - x.ndim or x.one(k - (ndim - x.ndim))) for k in range(ndim))
    return Type("float", ndim, x.dtype if x.kind == "float" else "float64", ones)


structural("tile", lambda t, p: f"np.tile({t[0]}, {seq_text([str(r) for r in p['reps']])})",
           lambda x, reps=(): np.tile(x, reps), _tile_type,
           jvp=lambda b, op, ts: b.emit("tile", ts[0], params=op.params),
           vjp=lambda b, op, g: [b.emit("untile", g, op.args[0], params=op.params)], fresh=True,
           names=lowered("tile", (2, 2), "numpy.tile"), numba_imports=KERNELS,
           numba=lambda t, p, ts: f"adc_arrays.tile({t[0]}, {seq_text([str(r) for r in p['reps']])})")
structural("untile", lambda t, p: f"adc_arrays.untile({t[0]}, {t[1]}, {seq_text([str(r) for r in p['reps']])})",
           lambda g, x, reps=(): kernels.untile(g, x, reps),
           lambda ts: float_like(ts[1:]), fresh=True, shape_args=(1,), imports=_KERNELS,
           jvp=lambda b, op, ts: b.emit("untile", ts[0], op.args[1], params=op.params),
           vjp=lambda b, op, g: [b.emit("tile", g, params=op.params), None])  # only in derivative code


def _repeat_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    x, once = ts[0], p.get("repeats") == 1
    if p.get("axis") is None:
        ones: tuple[bool, ...] = (once and all(x.one(k) for k in range(x.ndim)),)
    else:
        ones = tuple(x.one(k) and (once or k != p["axis"] % x.ndim) for k in range(x.ndim))
    return Type("float", len(ones), x.dtype if x.kind == "float" else "float64", ones)


def _repeat_text(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"np.repeat({t[0]}, {p['repeats']}{', axis=%d' % p['axis'] if p.get('axis') is not None else ''})"


structural("repeat", _repeat_text, lambda x, repeats=1, axis=None: np.repeat(x, repeats, axis), _repeat_type,
           jvp=lambda b, op, ts: b.emit("repeat", ts[0], params=op.params),
           vjp=lambda b, op, g: [b.emit("unrepeat", g, op.args[0], params=op.params)], fresh=True,
           names=lowered("repeat", (2, 3), "numpy.repeat", "ndarray.repeat"),
           note="`repeats` a constant integer", numba_imports=KERNELS,
           numba=lambda t, p, ts: f"adc_arrays.repeat_axis({t[0]}, {p['repeats']}, {p['axis']})"
           if p.get("axis") is not None else _repeat_text(t, p))
structural("unrepeat", lambda t, p: f"adc_arrays.unrepeat({t[0]}, {t[1]}, {p['repeats']}, {p.get('axis')})",
           lambda g, x, repeats=1, axis=None: kernels.unrepeat(g, x, repeats, axis),
           lambda ts: float_like(ts[1:]), fresh=True, shape_args=(1,), imports=_KERNELS,
           jvp=lambda b, op, ts: b.emit("unrepeat", ts[0], op.args[1], params=op.params),
           vjp=lambda b, op, g: [b.emit("repeat", g, params=op.params), None])  # only in derivative code


# --- pad and split (issue 10, missing names) -------------------------------------------------------------
def _widths_text(p: dict[str, Any]) -> str:
    return seq_text([seq_text([str(b), str(a)]) for b, a in p["widths"]])


def _pad_text(t: Sequence[str], p: dict[str, Any]) -> str:
    fill, mode = p.get("value", 0.0), p.get("mode", "constant")
    extra = f", mode={mode!r}" if mode != "constant" else f", constant_values={fill!r}" if fill else ""
    return f"np.pad({t[0]}, {_widths_text(p)}{extra})"


def _numba_pad(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    """Numba has no ``np.pad``: ``adc_arrays.pad`` (any rank, every mode adc takes)."""
    return f"adc_arrays.pad({t[0]}, {_widths_text(p)}, {p.get('mode', 'constant')!r}, {p.get('value', 0.0)!r})"


def _unpad(b: Any, g: Any, op: Any) -> Any:
    """The transpose of ``pad``: in mode constant the middle of ``g``, ``g[b0:-a0, b1:-a1, ...]``;
    in the other modes each element added back into the one it copies (``adc_arrays.unpad``)."""
    p = dict(op.params)
    if p.get("mode", "constant") != "constant":
        return b.emit("unpad", g, op.args[0], params=_zero_fill(op.params))
    spec, bounds = [], []
    for before, after in p["widths"]:
        spec.append(("s", bool(before), bool(after), False))
        bounds += ([before] if before else []) + ([-after] if after else [])
    return b.emit("getitem", g, *bounds, params=(("index", tuple(spec)),))


def _zero_fill(params: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((k, v) for k, v in params if k != "value")


def _pad_impl(x: Any, widths: Any = (), value: float = 0.0, mode: str = "constant") -> Any:
    return kernels.pad(x, widths, mode, value)


structural("pad", _pad_text, _pad_impl,
           lambda ts, p: Type("float", ts[0].ndim, ts[0].dtype if ts[0].kind == "float" else "float64",
                              tuple(ts[0].one(k) and tuple(w) == (0, 0) for k, w in enumerate(p["widths"]))),
           jvp=lambda b, op, ts: b.emit("pad", ts[0], params=_zero_fill(op.params)),
           vjp=lambda b, op, g: [_unpad(b, g, op)], fresh=True, numba=_numba_pad, numba_imports=KERNELS,
           names=lowered("pad", (2, 2), "numpy.pad"),
           note="modes constant (a constant fill value), edge, reflect, symmetric, wrap; constant widths")
structural("unpad", lambda t, p: f"adc_arrays.unpad({t[0]}, {t[1]}, {_widths_text(p)}, {p['mode']!r})",
           lambda g, x, widths=(), mode="constant": kernels.unpad(g, x, widths, mode), lambda ts: float_like(ts[1:]),
           jvp=lambda b, op, ts: b.emit("unpad", ts[0], op.args[1], params=op.params),
           vjp=lambda b, op, g: [b.emit("pad", g, params=op.params), None], fresh=True, shape_args=(1,),
           imports=KERNELS)  # only in derivative code


def _section(n: Any, parts: Any) -> int:
    return kernels.section(int(n), int(parts))


structural("section", lambda t, p: f"adc_arrays.section({t[0]}, {t[1]})", _section, lambda ts: Type("int"),
           differentiable=False, may_raise=True, imports=_KERNELS)  # np.split's part length, or NumPy's error

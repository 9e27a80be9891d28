"""Indexing primitives: element and slice reads (``getitem``), writes (``setitem``), adds
(``index_add``, ``iadd``) and one dimension of a shape (``shape``).

Arrays are mutable references: ``setitem`` is a statement that writes into its array (no new SSA
value), so the reverse sweep sees exactly which element each write overwrote.  An index is
described by the ``index`` parameter, one entry per position: ``"i"`` (an integer or an integer
array, one argument), ``"n"`` (``None``/``np.newaxis``) or ``("s", start?, stop?, step?)`` (a slice
whose present bounds are arguments).  ``unit_slices`` lists the positions of the slices that have at
most one element (``x[:1]``, ``x[i:i + 1]``): their axes are known to have length 1.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..ir import Var
from ..types import Type, broadcast_ones
from . import batching, kernels
from .registry import KERNELS, SHORT_AXIS, NumbaRender, Render, RowRule, atomic, calls, lowered, structural


def spec_of(params: dict[str, Any], n_atoms: int) -> tuple[Any, ...]:
    return params.get("index") or ("i",) * n_atoms


def _index_values(spec: Sequence[Any], values: Sequence[Any]) -> tuple[Any, ...]:
    out: list[Any] = []
    it = iter(values)
    for entry in spec:
        if entry == "i":
            v = next(it)
            out.append(v if isinstance(v, np.ndarray) else int(v))
        elif entry == "n":
            out.append(None)
        else:
            _, a, b, c = entry
            out.append(slice(next(it) if a else None, next(it) if b else None, next(it) if c else None))
    return tuple(out)


def _key_parts(spec: Sequence[Any], texts: Sequence[str], slice_text: Callable[[Iterator[str], Any], str]) -> list[str]:
    """The entries of an index key written out: integers and index arrays as ``texts``, ``None``,
    and slices by ``slice_text(the remaining texts, the slice's entry)``."""
    parts: list[str] = []
    it = iter(texts)
    for entry in spec:
        if entry == "i":
            parts.append(next(it))
        elif entry == "n":
            parts.append("None")
        else:
            parts.append(slice_text(it, entry))
    return parts


def _slice_syntax(it: Iterator[str], entry: Any) -> str:
    _, a, b, c = entry
    text = f"{next(it) if a else ''}:{next(it) if b else ''}"
    return text + f":{next(it)}" if c else text


def index_text(spec: Sequence[Any], texts: Sequence[str]) -> str:
    parts = _key_parts(spec, texts, _slice_syntax)
    return ", ".join(parts) if parts else "()"


def _getitem_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    """NumPy's result: index arrays (and the integers among them) are broadcast together, their axes
    put where the first of them stands if they stand together, else first (``x[0, None, idx]``)."""
    arr, idx = ts[0], list(ts[1:])
    spec = spec_of(p, len(idx))
    units = p.get("unit_slices", ())  # slices of at most one element (``x[:1]``, ``x[i:i + 1]``)
    arrays = [t if t.kind != "bool" else Type("int", 1, "int64", (False,)) for t in idx if t.ndim]
    advanced = broadcast_ones(arrays, max((t.ndim for t in arrays), default=0))
    types = iter(idx)
    entry_types = [next(types) if entry == "i" else None for entry in spec]
    where = [k for k, t in enumerate(entry_types) if t is not None and (t.ndim or arrays)]
    in_place = where == list(range(where[0], where[-1] + 1)) if where else True
    dims: list[bool] = [] if in_place else list(advanced)
    axis = 0
    for k, entry in enumerate(spec):
        t = entry_types[k]
        if t is not None:
            if in_place and where and k == where[0]:
                dims.extend(advanced)
            axis += t.ndim if t.kind == "bool" else 1  # a boolean mask takes as many axes as it has
        elif entry == "n":
            dims.append(True)
        else:  # a slice: of at most one element if known so, or of an axis of length 1 (``x[:, 0]``, ``x[::-1]``)
            dims.append(k in units or arr.one(axis))
            axis += 1
    dims.extend(arr.one(k) for k in range(axis, arr.ndim))
    if not dims:
        return Type(arr.kind)
    return Type(arr.kind, len(dims), arr.dtype, tuple(dims))


def _key(index: Any, idx: Sequence[Any]) -> Any:
    key = _index_values(spec_of({"index": index}, len(idx)), idx)
    return key[0] if len(key) == 1 else key  # a one-element key also indexes Python lists


def _getitem(x: Any, *idx: Any, index: Any = None) -> Any:
    value = x[_key(index, idx)]
    return value.item() if isinstance(value, np.generic) else value


def _setitem(x: Any, *rest: Any, index: Any = None) -> None:
    *idx, value = rest
    x[_key(index, idx)] = value


def _index_add(x: Any, *rest: Any, index: Any = None) -> None:
    *idx, value = rest
    key = _index_values(spec_of({"index": index}, len(idx)), idx)
    np.add.at(x, key, value)


def _render_getitem(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"{atomic(t[0])}[{index_text(spec_of(p, len(t) - 1), t[1:])}]"


def _render_store(symbol: str) -> Render:
    def render(t: Sequence[str], p: dict[str, Any]) -> str:
        spec = spec_of(p, len(t) - 2)
        if symbol == "+=" and p.get("scatter"):  # a key with slices is written np.s_[...]
            key = f"({index_text(spec, t[1:-1])},)" if all(e == "i" for e in spec) else f"np.s_[{index_text(spec, t[1:-1])}]"
            return f"np.add.at({t[0]}, {key}, {t[-1]})"
        return f"{t[0]}[{index_text(spec, t[1:-1])}] {symbol} {t[-1]}"
    return render


def key_tuple(spec: Sequence[Any], texts: Sequence[str]) -> str:
    """The key of ``index_text`` as a tuple display, slices written ``slice(a, b, c)`` (an argument
    of a kernel, where NumPy's ``np.s_`` is not available)."""
    def slice_call(it: Iterator[str], entry: Any) -> str:
        return f"slice({', '.join(next(it) if present else 'None' for present in entry[1:])})"

    return f"({', '.join(_key_parts(spec, texts, slice_call))},)"


def _index_arrays(ts: Sequence[Type]) -> list[Type]:
    return [t for t in ts if t.is_array]


def _numba_native(spec: Sequence[Any], ts: Sequence[Type]) -> bool:
    """Does Numba's own indexing take this key as NumPy does?  It takes integer arrays of any rank
    mixed with integers and slices, but no boolean mask of more than one dimension, and it misplaces
    the axes of ``None`` among index arrays: those keys go through the kernels (``adc_arrays``)."""
    arrays = _index_arrays(ts)
    return not any(t.kind == "bool" for t in arrays) and not (arrays and "n" in spec)


def _numba_getitem(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    spec = spec_of(p, len(t) - 1)
    if _numba_native(spec, ts[1:]):
        return _render_getitem(t, p)
    return f"adc_arrays.gather({t[0]}, {key_tuple(spec, t[1:])})"


def _added_into(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> tuple[str, tuple[int, ...]] | None:
    """``x[key] += v`` in Numba code, which does not check shapes: the array added into
    (``x[key]``) and the position of ``v``; ``None`` where a kernel adds (it checks)."""
    spec = spec_of(p, len(t) - 2)
    if (p.get("scatter") and _index_arrays(ts[1:-1])) or not _numba_native(spec, ts[1:-1]):
        return None
    return _render_getitem(t[:-1], p), (len(t) - 1,)


def _numba_store(symbol: str) -> NumbaRender:
    """``x[key] = v`` / ``x[key] += v`` (``np.add.at`` with ``scatter``) in the Numba dialect."""
    def spell(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
        spec = spec_of(p, len(t) - 2)
        arrays = _index_arrays(ts[1:-1])
        if ts[0] is not None and ts[0].kind == "tape" and ts[-1] is not None and ts[-1].is_array:
            # a record's list has C-contiguous items (its placeholder's layout): a transpose is stored
            # as a C-contiguous copy, as ``push`` does
            t = [*t[:-1], f"np.ascontiguousarray({t[-1]})"]
            return _render_store(symbol)(t, {**p, "scatter": False})
        if p.get("scatter") and arrays:
            return f"adc_arrays.add_at({t[0]}, {key_tuple(spec, t[1:-1])}, {t[-1]})"
        if _numba_native(spec, ts[1:-1]):
            return _render_store(symbol)(t, {**p, "scatter": False})
        key = key_tuple(spec, t[1:-1])
        value = t[-1] if symbol == "=" else f"adc_arrays.gather({t[0]}, {key}) + {t[-1]}"
        return f"adc_arrays.put({t[0]}, {key}, {value})"
    return spell


def _getitem_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    out = b.emit("getitem", ts[0], *op.args[1:], params=op.params)
    if ts[0].type is not None and ts[0].type.kind == "tape":  # a read of a record: typed like the value
        t = op.out.type
        out.type = t if t.kind == "float" else t.with_(kind="float", dtype="float64")
    return out


def _getitem_rows(op: Any, constant: Any) -> RowRule | None:
    """``x[:, k, 1:3]``: a key that starts with a full slice and has no index array keeps ``x``'s rows."""
    spec = spec_of(dict(op.params), len(op.args) - 1)
    if not spec or spec[0] != ("s", False, False, False) or any(a.type is not None and a.type.is_array for a in op.args[1:]):
        return None
    return RowRule((0,))


def _sized_at_run_time(op: Any, known: Callable[[Any], Any]) -> bool | str:
    """A part of an axis whose length may be 1 only when the code runs: a mask (its count of true
    elements); ``SHORT_AXIS`` for a slice with a bound or a step (``x[:n]``, ``x[1:]`` of an axis of
    length 2, ``x[::2]``) not known to have at most one element: its adjoint is added back into the
    sliced array's, which NumPy refuses where the lengths differ."""
    params = dict(op.params)
    units, arr, args, axis = params.get("unit_slices", ()), op.args[0].type, iter(op.args[1:]), 0
    short = False
    for k, entry in enumerate(spec_of(params, len(op.args) - 1)):
        if entry == "i":
            t = next(args).type
            if t is not None and t.is_array and t.kind == "bool":
                return True
            axis += 1
        elif entry != "n":
            values = [known(next(args)) if present else None for present in entry[1:]]
            whole = not entry[1] and not entry[2] and values[2] in (1, -1)  # x[::-1]: every element
            short = short or any(entry[1:]) and not whole and k not in units and not arr.one(axis)
            axis += 1
    return SHORT_AXIS if short else False


_STORE: dict[str, Any] = {"effect": True, "writes": True, "may_raise": True}
structural("getitem", _render_getitem, _getitem, _getitem_type, jvp=_getitem_jvp, vjvp=batching.same(_getitem_jvp),
           view=True, copies=lambda op: bool(_index_arrays([a.type for a in op.args[1:] if a.type is not None])),
           recomputable=True, numba=_numba_getitem, numba_imports=KERNELS, sized_at_run_time=_sized_at_run_time,
           flows=True, buffered=("array",), may_raise=True, rows=_getitem_rows,
           names=lowered("atleast_1d", (1, 1), "numpy.atleast_1d") + lowered("atleast_2d", (1, 1), "numpy.atleast_2d")
           + lowered("atleast_3d", (1, 1), "numpy.atleast_3d") + lowered("expand_dims", (2, 2), "numpy.expand_dims")
           + lowered("squeeze", (1, 2), "numpy.squeeze", "ndarray.squeeze")
           + lowered("flip", (1, 2), "numpy.flip") + lowered("fliplr", (1, 1), "numpy.fliplr")
           + lowered("flipud", (1, 1), "numpy.flipud") + lowered("item", (1, 1), "ndarray.item")
           + lowered("sort", (1, 2), "numpy.sort") + lowered("take", (2, 3), "numpy.take")
           + lowered("take_along_axis", (2, 3), "numpy.take_along_axis")
           + lowered("split", (2, 3), "numpy.split") + lowered("array_split", (2, 3), "numpy.array_split"))
# ``np.squeeze(x, axis)`` and ``x.item()`` index each dropped axis with 0: where the axis is not
# known to have length 1, that index comes from this check (NumPy's error otherwise)
# the rows a read through an index array takes, once each, and where each read row is among them
# (``row_gathers.py``: the rows of a chain of ops are computed once each, then read)
ROW_NUMBERS = Type("int", 1, "int64", (False,))
structural("rows_used", lambda t, p: f"adc_arrays.rows_used({t[0]}, {t[1]})", kernels.rows_used,
           lambda ts: ROW_NUMBERS, differentiable=False, fresh=True, imports=KERNELS)
structural("row_positions", lambda t, p: f"adc_arrays.row_positions({t[0]}, {t[1]}, {t[2]})", kernels.row_positions,
           lambda ts: ROW_NUMBERS, differentiable=False, fresh=True, may_raise=True, imports=KERNELS)
structural("sole_index", lambda t, p: f"adc_arrays.sole_index({t[0]}, {tuple(p.get('axes', ()))}, {bool(p.get('exact'))})",
           lambda x, axes=(), exact=False: kernels.sole_index(x, axes, exact), lambda ts: Type("int"),
           differentiable=False, may_raise=True, imports=KERNELS)


def _render_guard(t: Sequence[str], p: dict[str, Any]) -> str:
    """``adc_arrays.indices_in_range(d <= centroids.shape[1], ...)``: the conditions a function
    compiled without bounds checks proved its indices under (``bounds.py``)."""
    conditions = []
    for (constant, bound_axis, offset, axis), bound, array in zip(p["bounds"], t[0::2], t[1::2]):
        if bound_axis is not None:
            bound = f"{atomic(bound)}.shape[{bound_axis}]"
        if constant is not None:
            left = str(constant + offset)
        else:
            left = atomic(bound) if not offset else f"{atomic(bound)} {'+' if offset > 0 else '-'} {abs(offset)}"
        conditions.append(f"{left} <= {atomic(array)}.shape[{axis}]")
    # continuation lines are indented once more than the statement (codegen adds the statement's indent)
    one_line = f"adc_arrays.indices_in_range({', '.join(conditions)})"
    return one_line if len(one_line) <= 100 else "adc_arrays.indices_in_range(\n    " + ",\n    ".join(conditions) + ")"


structural("indices_in_range", _render_guard, lambda *a, bounds=(): None, effect=True, differentiable=False,
           imports=KERNELS)
structural("setitem", _render_store("="), _setitem, buffered=("array",), numba=_numba_store("="), numba_imports=KERNELS,
           **_STORE)
structural("index_add", _render_store("+="), _index_add, buffered=("array",), numba=_numba_store("+="),
           numba_imports=KERNELS, in_place=_added_into, names=lowered("add_at", (3, 3), "numpy.add.at"), note="repeated indices add up",
           **_STORE)
structural("iadd", lambda t, p: f"{t[0]} += {t[1]}", lambda x, y: np.add(x, y, out=x, casting="unsafe"), buffered=("array",),
           in_place=lambda t, p, ts: (t[0], (1,)), numba_imports=KERNELS, **_STORE)
# ``x += np.where(m, v, 0.0)`` without the array of zeros and values (``copies.masked_adds``);
# Numba's ufuncs take no ``where=``
structural("masked_add", lambda t, p: f"np.add({t[0]}, {t[2]}, out={t[0]}, where={t[1]})",
           lambda x, m, v: np.add(x, v, out=x, where=m, casting="unsafe"),
           numba=lambda t, p, ts: f"{t[0]} += np.where({t[1]}, {t[2]}, 0.0)", in_place=lambda t, p, ts: (t[0], (1, 2)),
           numba_imports=KERNELS, **_STORE)

# ``y = np.exp(v)`` as ``y = np.exp(v, out=v)`` where nothing reads ``v`` again
# (``copies.in_place_results``): ``into`` is the array written (``y`` is another name of it),
# ``ufunc`` the NumPy function, the other arguments its operands; ``checked``: written into ``v``
# only if the result has its shape (``adc_arrays.ufunc_into``; else a new array)
def _ufunc_into_text(t: Sequence[str], p: dict[str, Any]) -> str:
    if p.get("checked"):
        return f"adc_arrays.ufunc_into(np.{p['ufunc']}, {', '.join(t[1:])}, out={t[0]})"
    return f"np.{p['ufunc']}({', '.join(t[1:])}, out={t[0]})"


def _ufunc_into(into: Any, *operands: Any, ufunc: str, checked: bool = False) -> Any:
    return kernels.ufunc_into(getattr(np, ufunc), *operands, out=into) if checked else getattr(np, ufunc)(*operands, out=into)


structural("ufunc_into", _ufunc_into_text, _ufunc_into, writes=True, stateful=True, view=True,
           may_raise=True, foldable=False, cse=False, recomputable=False,
           imports=lambda p: KERNELS if p.get("checked") else "")

# --- writes through integer arrays (issue 10): which element of the value each element kept ----------
def _last_writes(x: Any, *idx: Any, index: Any = None) -> Any:
    """For ``x[key] = v`` with repeated indices NumPy keeps one write per element (the last):
    ``True`` where the element of ``v`` is the one kept."""
    key = _key(index, idx)
    ids = np.full(np.shape(x), -1, dtype=np.int64)
    order = np.arange(np.size(ids[key])).reshape(np.shape(ids[key]))
    ids[key] = order
    return ids[key] == order


def kept_writes(b: Any, part: Any, op: Any, array: Any) -> Any:
    """``part``, the adjoint read back for the value of ``op`` (``y[key] = v``), with 0 where an
    integer-array key wrote the same element again later (that write of ``v`` was lost)."""
    if not any(isinstance(i, Var) and i.type.is_array and i.type.kind == "int" for i in op.args[1:-1]):
        return part
    kept = b.emit("last_writes", array, *op.args[1:-1], params=op.params)
    return b.select(kept, part, 0.0)


def _render_last_writes(t: Sequence[str], p: dict[str, Any]) -> str:
    spec = spec_of(p, len(t) - 1)
    key = f"({index_text(spec, t[1:])},)" if all(e == "i" for e in spec) else f"np.s_[{index_text(spec, t[1:])}]"
    return f"adc_arrays.last_writes({t[0]}, {key})"


structural("last_writes", _render_last_writes,
           lambda x, *idx, index=None: _last_writes(x, *idx, index=index),
           lambda ts, p: _getitem_type(ts, p).with_(kind="bool", dtype="bool"), differentiable=False, fresh=True,
           shape_args=(0,), imports=KERNELS, numba_imports=KERNELS,
           numba=lambda t, p, ts: f"adc_arrays.last_writes({t[0]}, {key_tuple(spec_of(p, len(t) - 1), t[1:])})")


# --- positions (issue 10): integer results that index, with no derivative of their own ---------------
def _positions(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    """``argsort``: shaped like its array (1-D without an axis); ``argmax``/``argmin``: reduced."""
    x, axis = ts[0], p.get("axis")
    everything = all(x.one(k) for k in range(x.ndim))  # a flattened array of one element
    if p.get("reduce"):
        ones = () if axis is None else tuple(x.one(k) for k in range(x.ndim) if k != axis % x.ndim)
    else:
        ones = (everything,) if axis is None and x.ndim != 1 else tuple(x.one(k) for k in range(x.ndim))
    return Type("int", len(ones), "int64", ones) if ones else Type("int")


def _axis_text(p: dict[str, Any]) -> str:
    return f", axis={p['axis']}" if "axis" in p else ""


def _numba_argsort(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    """Numba's ``np.argsort`` takes 1-D arrays: a flattened array, or ``adc_arrays.argsort_axis``."""
    if "axis" not in p:
        return f"np.argsort({t[0]})"
    if p["axis"] is None:
        return f"np.argsort(np.ravel({t[0]}))"
    return f"adc_arrays.argsort_axis({t[0]}, {p['axis']})"


for _fn, _reduce in (("argsort", False), ("argmax", True), ("argmin", True)):
    structural(_fn, (lambda n: lambda t, p: f"np.{n}({t[0]}{_axis_text(p)})")(_fn),
               (lambda f: lambda x, axis=None, reduce=False: f(x, axis=axis))(getattr(np, _fn)),
               _positions, differentiable=False, fresh=not _reduce,
               numba=None if _reduce else _numba_argsort, numba_imports="" if _reduce else KERNELS,
               names=lowered(_fn, (1, 2), f"numpy.{_fn}", f"ndarray.{_fn}"),
               note="an integer index: derivatives flow through the values it selects")
structural("searchsorted", lambda t, p: f"np.searchsorted({t[0]}, {t[1]}{', side=%r' % p['side'] if p.get('side') else ''})",
           lambda a, v, side="left": np.searchsorted(a, v, side=side),
           lambda ts: ts[1].with_(kind="int", dtype="int64") if ts[1].ndim else Type("int"), differentiable=False,
           names=lowered("searchsorted", (2, 2), "numpy.searchsorted"),
           note="an integer index: derivatives flow through the values it selects")
structural("shape", lambda t, p: f"{atomic(t[0])}.shape[{p['dim']}]", lambda x, dim=0: x.shape[dim], lambda ts: Type("int"),
           hoistable=True, recomputable=True, shape_args=(0,), differentiable=False,
           names=calls("numpy.shape"))

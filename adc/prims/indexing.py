"""Indexing primitives: element and slice reads (``getitem``), writes (``setitem``), adds
(``index_add``, ``iadd``) and one dimension of a shape (``shape``).

Arrays are mutable references: ``setitem`` is a statement that writes into its array (no new SSA
value), so the reverse sweep sees exactly which element each write overwrote.  An index is
described by the ``index`` parameter, one entry per position: ``"i"`` (an integer or an integer
array, one argument), ``"n"`` (``None``/``np.newaxis``) or ``("s", start?, stop?, step?)`` (a slice
whose present bounds are arguments).
"""
from __future__ import annotations

import ast
from typing import Any, Sequence

import numpy as np

from ..types import Type
from .registry import KERNELS, Render, calls, lowered, structural


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


def index_text(spec: Sequence[Any], texts: Sequence[str]) -> str:
    parts: list[str] = []
    it = iter(texts)
    for entry in spec:
        if entry == "i":
            parts.append(next(it))
        elif entry == "n":
            parts.append("None")
        else:
            _, a, b, c = entry
            text = f"{next(it) if a else ''}:{next(it) if b else ''}"
            if c:
                text += f":{next(it)}"
            parts.append(text)
    return ", ".join(parts) if parts else "()"


def _getitem_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    arr, idx = ts[0], list(ts[1:])
    spec = spec_of(p, len(idx))
    dims: list[bool] = []
    axis = 0
    advanced_done = False
    it = iter(idx)
    for entry in spec:
        if entry == "i":
            t = next(it)
            if t.ndim and not advanced_done:
                dims.extend([False] * t.ndim)
                advanced_done = True
            axis += 1
        elif entry == "n":
            dims.append(True)
        else:
            dims.append(False)
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


def _atomic(text: str) -> str:
    """``text`` parenthesized unless it is a name, a call, an attribute or a subscript: the base of
    ``(g * y)[::-1]`` needs its parentheses."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text
    return text if isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant)) else f"({text})"


def _render_getitem(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"{_atomic(t[0])}[{index_text(spec_of(p, len(t) - 1), t[1:])}]"


def _render_store(symbol: str) -> Render:
    def render(t: Sequence[str], p: dict[str, Any]) -> str:
        spec = spec_of(p, len(t) - 2)
        if symbol == "+=" and p.get("scatter"):
            return f"np.add.at({t[0]}, ({index_text(spec, t[1:-1])},), {t[-1]})"
        return f"{t[0]}[{index_text(spec, t[1:-1])}] {symbol} {t[-1]}"
    return render


def _numba_index_add(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    """``np.add.at`` with integer indices as ``adc_arrays.add_at`` (Numba has no ``np.add.at``)."""
    spec = spec_of(p, len(t) - 2)
    if p.get("scatter") and all(e == "i" for e in spec):
        return f"adc_arrays.add_at({t[0]}, ({index_text(spec, t[1:-1])},), {t[-1]})"
    return _render_store("+=")(t, p)


def _getitem_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    out = b.emit("getitem", ts[0], *op.args[1:], params=op.params)
    if ts[0].type is not None and ts[0].type.kind == "tape":  # a read of a record: typed like the value
        t = op.out.type
        out.type = t if t.kind == "float" else t.with_(kind="float", dtype="float64")
    return out


_STORE: dict[str, Any] = {"effect": True, "writes": True, "may_raise": True}
structural("getitem", _render_getitem, _getitem, _getitem_type, jvp=_getitem_jvp, view=True, recomputable=True,
           flows=True, buffered=("array",), may_raise=True,
           names=lowered("atleast_1d", (1, 1), "numpy.atleast_1d") + lowered("atleast_2d", (1, 1), "numpy.atleast_2d")
           + lowered("atleast_3d", (1, 1), "numpy.atleast_3d") + lowered("expand_dims", (2, 2), "numpy.expand_dims")
           + lowered("squeeze", (1, 2), "numpy.squeeze", "ndarray.squeeze")
           + lowered("flip", (1, 2), "numpy.flip") + lowered("fliplr", (1, 1), "numpy.fliplr")
           + lowered("flipud", (1, 1), "numpy.flipud") + lowered("item", (1, 1), "ndarray.item"))
structural("setitem", _render_store("="), _setitem, buffered=("array",), **_STORE)
structural("index_add", _render_store("+="), _index_add, buffered=("array",), numba=_numba_index_add,
           numba_imports=KERNELS, **_STORE)
structural("iadd", lambda t, p: f"{t[0]} += {t[1]}", lambda x, y: np.add(x, y, out=x, casting="unsafe"), buffered=("array",),
           **_STORE)
structural("shape", lambda t, p: f"{t[0]}.shape[{p['dim']}]", lambda x, dim=0: x.shape[dim], lambda ts: Type("int"),
           hoistable=True, recomputable=True, shape_args=(0,), differentiable=False,
           names=calls("numpy.shape"))

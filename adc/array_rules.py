"""The array part of the rule table: indexing, construction, reductions, linear algebra, shapes.

Input: nothing (it registers entries into ``rules.RULES``).  Output: one entry per array primitive
with its rendering, its result type (rank, dtype, axes known to be 1), an interpreter
implementation, and, for linear structural ops, ``jvp`` (tangent of the result) and ``vjp``
(cotangent contributions to the arguments).  Neither ever forms a Jacobian: the VJP of
``y = a @ b`` is ``g @ b.T`` and ``a.T @ g``, of a sum a broadcast view, of a reshape a reshape.

Arrays are mutable references: ``setitem`` is a statement that writes into its array (no new SSA
value), so the reverse sweep sees exactly which element each write overwrote.  An index is
described by the ``index`` parameter, one entry per position: ``"i"`` (an integer or an integer
array, one argument), ``"n"`` (``None``/``np.newaxis``) or ``("s", start?, stop?, step?)`` (a slice
whose present bounds are arguments).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .rules import P_MUL, Form, Type, defrule, defstructural, infix, RULES
from .types import FLOAT

# -- indexing -----------------------------------------------------------------------------------


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


def _render_getitem(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"{t[0]}[{index_text(spec_of(p, len(t) - 1), t[1:])}]"


def _render_store(symbol: str) -> Callable[[Sequence[str], dict[str, Any]], str]:
    def render(t: Sequence[str], p: dict[str, Any]) -> str:
        spec = spec_of(p, len(t) - 2)
        if symbol == "+=" and p.get("scatter"):
            return f"np.add.at({t[0]}, ({index_text(spec, t[1:-1])},), {t[-1]})"
        return f"{t[0]}[{index_text(spec, t[1:-1])}] {symbol} {t[-1]}"
    return render


def _getitem_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    return b.emit("getitem", ts[0], *op.args[1:], params=op.params)


defstructural("getitem", _render_getitem, _getitem, _getitem_type, jvp=_getitem_jvp)
defstructural("setitem", _render_store("="), _setitem, effect=True)
defstructural("index_add", _render_store("+="), _index_add, effect=True)
defstructural("iadd", lambda t, p: f"{t[0]} += {t[1]}", lambda x, y: np.add(x, y, out=x, casting="unsafe"), effect=True)
defstructural("shape", lambda t, p: f"{t[0]}.shape[{p['dim']}]", lambda x, dim=0: x.shape[dim],
              lambda ts: Type("int"))

# -- construction -----------------------------------------------------------------------------


def _float_like(ts: Sequence[Type]) -> Type:
    return ts[0].with_(kind="float", dtype=ts[0].dtype if ts[0].kind == "float" else "float64")


def _dims(texts: Sequence[str]) -> str:
    return texts[0] if len(texts) == 1 else f"({', '.join(texts)})"


def _new_array(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    kind = "int" if p.get("dtype") == "int64" else "float"
    return Type(kind, len(ts), p.get("dtype", "float64"), tuple(p.get("ones") or (False,) * len(ts)))


def _render_new(name: str) -> Callable[[Sequence[str], dict[str, Any]], str]:
    return lambda t, p: f"np.{name}({_dims(t)}{', np.' + p['dtype'] if p.get('dtype') else ''})"


def _make(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *dims, ones=None, dtype="float64": fn(tuple(int(d) for d in dims), dtype=dtype)


for _ctor in ("zeros", "ones", "empty"):
    defstructural(_ctor, _render_new(_ctor), _make(getattr(np, _ctor)), _new_array)
for _ctor in ("zeros_like", "ones_like", "empty_like"):
    defstructural(_ctor, (lambda n: lambda t, p: f"np.{n}({t[0]})")(_ctor), getattr(np, _ctor),
                  lambda ts: _float_like(ts))
defstructural("acopy", lambda t, p: f"{t[0]}.copy()", np.copy, lambda ts: _float_like(ts))
defstructural("arange", lambda t, p: f"np.arange({', '.join(t)})", lambda *a: np.arange(*[int(v) for v in a]),
              lambda ts: Type("int", 1, "int64", (False,)))
defstructural("pack", lambda t, p: f"np.array([{', '.join(t)}])", lambda *a: np.array(a, dtype=float),
              lambda ts: Type("float", 1, "float64", (len(ts) == 1,)),
              jvp=lambda b, op, ts: b.emit("pack", *[t if t is not None else 0.0 for t in ts]),
              vjp=lambda b, op, g: [b.emit("getitem", g, k) for k in range(len(op.args))])


def _seq(t: Sequence[str]) -> str:
    return f"({', '.join(t)}{',' if len(t) == 1 else ''})"


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


defstructural("concatenate", lambda t, p: f"np.concatenate({_seq(t)}, axis={p.get('axis', 0)})",
              lambda *a, axis=0: np.concatenate(a, axis=axis), lambda ts, p: _join_type(ts, p, 0),
              jvp=lambda b, op, ts: b.emit("concatenate", *_zeros_for(b, op, ts), params=op.params),
              vjp=_pieces)
defstructural("stack", lambda t, p: f"np.stack({_seq(t)}, axis={p.get('axis', 0)})",
              lambda *a, axis=0: np.stack(a, axis=axis), lambda ts, p: _join_type(ts, p, 1),
              jvp=lambda b, op, ts: b.emit("stack", *_zeros_for(b, op, ts), params=op.params),
              vjp=lambda b, op, g: [b.emit("getitem", g, k, params=(("index", (("s", False, False, False),)
                                                                             * op.param("axis", 0) + ("i",)),))
                                    for k in range(len(op.args))])

# -- reductions ----------------------------------------------------------------------------------


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


def _reduction(fn: str) -> Callable[[Sequence[str], dict[str, Any]], str]:
    return lambda t, p: f"np.{fn}({t[0]}{_reduce_args(p)})"


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
    return mask, b.emit("sum", mask, params=keep)


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


defstructural("sum", _reduction("sum"), _impl_reduce(np.sum), _reduce_type,
              jvp=lambda b, op, ts: b.emit("sum", ts[0], params=op.params),
              vjp=lambda b, op, g: [_broadcast_back(b, g, op.args[0], op.params)])
defstructural("mean", _reduction("mean"), _impl_reduce(np.mean), _reduce_type,
              jvp=lambda b, op, ts: b.emit("mean", ts[0], params=op.params),
              vjp=lambda b, op, g: [_broadcast_back(b, b.div(g, _count(b, op.args[0], op.params)),
                                                    op.args[0], op.params)])
defstructural("amax", _reduction("max"), _impl_reduce(np.max), _reduce_type, jvp=_extremum_jvp, vjp=_extremum_vjp)
defstructural("amin", _reduction("min"), _impl_reduce(np.min), _reduce_type, jvp=_extremum_jvp, vjp=_extremum_vjp)


def _render_broadcast(t: Sequence[str], p: dict[str, Any]) -> str:
    g = t[0]
    if p.get("axis") is not None and not p.get("keepdims"):
        g = f"np.expand_dims({g}, {p['axis']})"
    return f"np.broadcast_to({g}, {t[1]}.shape)"


def _impl_broadcast(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(x))


def _count_text(t: Sequence[str], p: dict[str, Any]) -> str:
    axis = p.get("axis")
    if axis is None:
        return f"{t[0]}.size"
    axes = axis if isinstance(axis, tuple) else (axis,)
    product = " * ".join(f"{t[0]}.shape[{a}]" for a in axes)
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




defstructural("broadcast", _render_broadcast, _impl_broadcast, lambda ts, p: _float_like(ts[1:]),
              jvp=lambda b, op, ts: b.emit("broadcast", ts[0], op.args[1], params=op.params),
              vjp=lambda b, op, g: [_unbroadcast_to(b, g, op), None])


def _unbroadcast_to(b: Any, g: Any, op: Any) -> Any:
    """The transpose of a broadcast: sum ``g`` back to the broadcast value's shape."""
    p = dict(op.params)
    if p.get("axis") is not None and not p.get("keepdims"):
        return b.emit("sum", g, params=(("axis", p["axis"]),))
    return unbroadcast(b, g, op.args[0].type)
defstructural("expand", lambda t, p: f"np.expand_dims({t[0]}, {p['axis']})",
              lambda y, axis=None, keepdims=False: np.expand_dims(y, axis), _expand_type)
defstructural("count", _count_text, _impl_count, lambda ts: Type("int"))

# -- linear algebra and shapes -----------------------------------------------------------------


def _matmul_type(ts: Sequence[Type]) -> Type:
    a, c = ts
    ndim = max(a.ndim + c.ndim - 2, 0)
    dtype = "float32" if a.dtype == c.dtype == "float32" else "float64"
    return Type("float", ndim, dtype, (False,) * ndim) if ndim else FLOAT


def _matmul_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    a, c = op.args
    terms = []
    if ts[0] is not None:
        terms.append(b.emit("matmul", ts[0], c))
    if ts[1] is not None:
        terms.append(b.emit("matmul", a, ts[1]))
    return terms[0] if len(terms) == 1 else b.add(*terms)


def _matmul_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    a, c = op.args
    na, nc = a.type.ndim, c.type.ndim
    if na == 2 and nc == 2:
        return [b.emit("matmul", g, b.emit("transpose", c)), b.emit("matmul", b.emit("transpose", a), g)]
    if na == 2 and nc == 1:
        return [b.emit("outer", g, c), b.emit("matmul", b.emit("transpose", a), g)]
    if na == 1 and nc == 2:
        return [b.emit("matmul", c, g), b.emit("outer", a, g)]
    if na == 1 and nc == 1:
        return [b.mul(g, c), b.mul(g, a)]
    from .errors import UnsupportedError

    raise UnsupportedError(f"reverse mode of `@` on {na}-D and {nc}-D arrays", op.loc,
                           "use 1-D or 2-D operands (batched matmul is not supported yet)")


RULES_MATMUL = Form("{0} @ {1}", P_MUL, (P_MUL, P_MUL + 1))
defrule("matmul", 2, RULES_MATMUL, RULES_MATMUL, lambda a, c: a @ c, None, _matmul_type)
RULES["matmul"] = RULES["matmul"].__class__(**{**RULES["matmul"].__dict__, "jvp": _matmul_jvp, "vjp": _matmul_vjp})


def _outer_type(ts: Sequence[Type]) -> Type:
    return Type("float", 2, "float64", (False, False))


defstructural("outer", lambda t, p: f"np.outer({t[0]}, {t[1]})", np.outer, _outer_type,
              jvp=lambda b, op, ts: _sum_terms(b, [b.emit("outer", ts[0], op.args[1]) if ts[0] is not None else None,
                                                   b.emit("outer", op.args[0], ts[1]) if ts[1] is not None else None]),
              vjp=lambda b, op, g: [b.emit("matmul", g, op.args[1]), b.emit("matmul", op.args[0], g)])


def _sum_terms(b: Any, terms: Sequence[Any]) -> Any:
    present = [t for t in terms if t is not None]
    total = present[0]
    for t in present[1:]:
        total = b.add(total, t)
    return total


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
    return f"np.transpose({t[0]}, {_seq([str(a) for a in p['axes']])})" if p.get("axes") else f"{t[0]}.T"


def transpose_params(axes: Sequence[int]) -> tuple[tuple[str, Any], ...]:
    """The op parameters of ``np.transpose(x, axes)``: none when ``axes`` reverses all axes."""
    axes = tuple(axes)
    return () if axes == tuple(reversed(range(len(axes)))) else (("axes", axes),)


def _transpose_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    axes = inverse_axes(permutation(dict(op.params), op.args[0].type.ndim))
    return [b.emit("transpose", g, params=transpose_params(axes))]


defstructural("transpose", _transpose_render, lambda x, axes=None: np.transpose(x, axes), _transpose_type,
              jvp=lambda b, op, ts: b.emit("transpose", ts[0], params=op.params), vjp=_transpose_vjp)


def _reshape_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    dims = p.get("dims")
    ones = tuple(d == 1 for d in dims) if dims else (False,) * (len(ts) - 1)
    return Type(ts[0].kind, len(ones), ts[0].dtype, ones)


def _reshape_render(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"{t[0]}.reshape({', '.join(t[1:])})"


defstructural("reshape", _reshape_render, lambda x, *d, dims=None: x.reshape(*[int(v) for v in d]),
              _reshape_type,
              jvp=lambda b, op, ts: b.emit("reshape", ts[0], *op.args[1:], params=op.params),
              vjp=lambda b, op, g: [b.emit("reshape_like", g, op.args[0])])
defstructural("reshape_like", lambda t, p: f"{t[0]}.reshape({t[1]}.shape)",
              lambda g, x: np.reshape(g, np.shape(x)), lambda ts: _float_like(ts[1:]))
defstructural("ravel", lambda t, p: f"{t[0]}.ravel()", np.ravel,
              lambda ts: Type(ts[0].kind, 1, ts[0].dtype, (False,)),
              jvp=lambda b, op, ts: b.emit("ravel", ts[0]),
              vjp=lambda b, op, g: [b.emit("reshape_like", g, op.args[0])])

# -- elementwise with several kinks --------------------------------------------------------------


def _clip_partials(b: Any, a: Sequence[Any], o: Any) -> tuple[Any, Any, Any]:
    x, lo, hi = a
    inside = b.emit("and", b.ge(x, lo), b.le(x, hi))
    return (b.select(inside, 1.0, 0.0), b.select(b.lt(x, lo), 1.0, 0.0), b.select(b.gt(x, hi), 1.0, 0.0))


defrule("clip", 3, Form("min(max({0}, {1}), {2})", 11, (0, 0, 0)), Form("np.clip({0}, {1}, {2})", 11, (0, 0, 0)),
        np.clip, _clip_partials)

# -- the reverse sweep's trip counts and stacks (lists, so Numba compiles them) -------------------


def _range_text(t: Sequence[str]) -> str:
    start, stop, step = t
    if step == "1":
        return stop if start == "0" else f"{start}, {stop}"
    return f"{start}, {stop}, {step}"


defstructural("len_range", lambda t, p: f"len(range({_range_text(t)}))", lambda a, b, c: len(range(a, b, c)),
              lambda ts: Type("int"))
def _tape_item(kind: object) -> str:
    """A placeholder element of a list that holds ``kind`` values: ``int``, ``float`` or an array
    kind ``(dtype, ndim)`` (a list of one typed element, emptied, is a typed list under Numba too)."""
    if kind == "int":
        return "0"
    if isinstance(kind, tuple):
        dtype, ndim = kind
        shape = "0" if ndim == 1 else "(" + ", ".join(["0"] * ndim) + ")"
        return f"np.empty({shape}, dtype=np.{dtype})"
    return "0.0"


defstructural("tape", lambda t, p: f"[{_tape_item(p.get('kind'))}] * 0",
              lambda kind="float": [], lambda ts: Type("tape"))
defstructural("record", lambda t, p: f"[{_tape_item(p.get('kind'))}] * {t[0]}",
              lambda n, kind="float": [0 if kind == "int" else 0.0] * int(n), lambda ts: Type("tape"))
defstructural("push", lambda t, p: f"{t[0]}.append({t[1]})", lambda tape, v: tape.append(v), effect=True)
defstructural("pop", lambda t, p: f"{t[0]}.pop()", lambda tape: tape.pop())

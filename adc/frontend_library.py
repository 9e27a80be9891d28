"""Front end, NumPy functions written with other primitives (issue 10's missing names):
``np.linalg.norm`` with ``ord``, ``np.linalg.svd``/``qr`` (tuples of primitives), ``np.add.at``;
sorting and gathering (``np.sort``, ``np.take``, ``np.take_along_axis``) as reads through integer
indices (``argsort``), so the derivative flows back through the elements they select; ``np.pad``
(constant) and ``np.split``/``np.array_split`` (views).

Input: the arguments of a call the array front end routes here (``LIBRARY``).  Output: ops of the
registered primitives; nothing here has a derivative rule of its own.
"""
from __future__ import annotations

import math
from typing import Any

import libcst as cst

from .ir import Atom, Const, Op
from .prims.kernels import PAD_MODES

# vector norms other than the 2-norm: |x| written sign(x) * x, whose derivative is sign(x) (0 at 0:
# the subgradient of least norm, as for the 2-norm), then a reduction
_VECTOR = {1: "sum", math.inf: "amax", -math.inf: "amin"}
# matrix norms: the extremum of the sums of |a| (over the rows for 1 and -1, the columns for inf, -inf)
_MATRIX = {1: "amax", -1: "amin", math.inf: "amax", -math.inf: "amin"}


class LibraryCalls:
    """Mixin for ``Lowerer`` (through ``ArrayExpressions``)."""

    b: Any

    def norm(self, args: list[Any], node: cst.Call) -> Atom:
        """``np.linalg.norm(x, ord=None, axis=None, keepdims=False)``."""
        kw = self.keywords(node, ("ord", "axis", "keepdims"))
        x = self.array_value(args[0], node)
        order = self.const_arg(args, 1, kw, "ord", node)
        axis = self.const_arg(args, 2, kw, "axis", node)
        keep = bool(kw.get("keepdims", False))
        nd = x.type.ndim
        matrix = isinstance(axis, tuple) or (axis is None and nd == 2)
        if isinstance(axis, tuple) and (len(axis) != 2 or len(set(self.axes_of(axis, nd, node))) != 2):
            raise self.fail(node, f"np.linalg.norm() over axes {axis}", "give one axis, or two distinct axes for a matrix norm")
        if order is None or order == "fro" and matrix or order == 2 and not matrix:
            return self.reduce("norm", x, axis, keep, node)
        if axis is None and nd > 2:
            raise self.fail(node, f"np.linalg.norm() with ord={order!r} of a {nd}-D array",
                            "give the axis of a vector norm, or the two axes of a matrix norm")
        if matrix:
            return self.matrix_norm(x, order, self.axes_of(axis or (0, 1), nd, node), keep, node)
        if order == 0:  # how many elements are not zero: a count, whose derivative is 0 (as JAX's)
            return self.reduce("sum", self.b.select(self.b.ne(x, 0.0), 1.0, 0.0), axis, keep, node)
        size = self.b.mul(self.b.emit("sign", x), x)
        if order in _VECTOR:
            return self.reduce(_VECTOR[order], size, axis, keep, node)
        if isinstance(order, (int, float)) and not isinstance(order, bool):
            total = self.reduce("sum", self.b.emit("nppow", size, float(order)), axis, keep, node)
            return self.b.emit("nppow", total, 1.0 / order)
        raise self.fail(node, f"np.linalg.norm() with ord={order!r}",
                        "adc supports ord None, 0, 1, 2, inf, -inf and other numbers for vectors")

    def matrix_norm(self, x: Any, order: Any, axes: tuple[int, ...], keep: bool, node: cst.Call) -> Atom:
        """Over ``axes`` (rows, columns) of ``x``: 'nuc', 2, -2 from the singular values (of a 2-D
        array); 1, -1 (column sums), inf, -inf (row sums): the extremum of the sums, as NumPy's."""
        rows, cols = axes
        if order in ("nuc", 2, -2):
            if x.type.ndim != 2:
                raise self.fail(node, f"np.linalg.norm() with ord={order!r} of a {x.type.ndim}-D array",
                                "adc takes the singular values of 2-D arrays: norms over the axes of one matrix at a time")
            s = self.b.emit("svdvals", x if axes == (0, 1) else self.b.emit("transpose", x))
            out = self.b.emit({"nuc": "sum", 2: "amax", -2: "amin"}[order], s)
        elif order in _MATRIX:
            summed, kept = (rows, cols) if order in (1, -1) else (cols, rows)
            sums = self.reduce("sum", self.b.mul(self.b.emit("sign", x), x), summed, False, node)
            out = self.reduce(_MATRIX[order], sums, kept - (kept > summed), False, node)
        else:
            raise self.fail(node, f"np.linalg.norm() of a matrix with ord={order!r}",
                            "adc supports ord None, 'fro', 'nuc', 1, -1, 2, -2, inf and -inf for matrices")
        return self.b.emit("expand", out, params=(("axis", tuple(sorted(axes))),)) if keep else out

    def svd(self, args: list[Any], node: cst.Call) -> Any:
        """``np.linalg.svd(a, full_matrices=True, compute_uv=True)`` as ``(u, s, vh)`` of the thin
        SVD, or ``s`` alone with ``compute_uv=False``."""
        kw = self.keywords(node, ("full_matrices", "compute_uv"))
        a = self.array_value(args[0], node)
        if a.type.ndim != 2:
            raise self.fail(node, f"np.linalg.svd() of a {a.type.ndim}-D array", "pass a 2-D array")
        full = self.const_arg(args, 1, kw, "full_matrices", node, True)
        if not kw.get("compute_uv", True):
            return self.b.emit("svdvals", a)
        if full:
            raise self.fail(node, "np.linalg.svd() with full_matrices=True (the default): adc computes the thin SVD",
                            "write np.linalg.svd(a, full_matrices=False), or compute_uv=False for the singular values")
        return self.b.emit("svd_u", a), self.b.emit("svdvals", a), self.b.emit("svd_vh", a)

    def qr(self, args: list[Any], node: cst.Call) -> tuple[Atom, Atom]:
        """``np.linalg.qr(a)``: the pair ``(q, r)`` of the reduced QR decomposition."""
        self.keywords(node, ())
        a = self.array_value(args[0], node)
        if a.type.ndim != 2:
            raise self.fail(node, f"np.linalg.qr() of a {a.type.ndim}-D array", "pass a 2-D array")
        return self.b.emit("qr_q", a), self.b.emit("qr_r", a)

    def add_at(self, args: list[Any], node: cst.Call) -> None:
        """``np.add.at(y, idx, v)``: ``y[idx] += v`` with repeated indices adding up (a statement)."""
        self.keywords(node, ())
        y = self.array_value(args[0], node)
        if y not in self.owned and not self.fresh_array(y):
            raise self.unwritable(node, y, "np.add.at() into")
        key = node.args[1].value
        if isinstance(key, cst.Tuple):  # np.add.at(z, (rows, cols), v)
            index = tuple(self.listed(v, el.value) for v, el in zip(args[1], key.elements))
        else:
            index = (self.listed(args[1], key),)
        atoms = [self.index_atom(i, node) for i in index]
        if len(atoms) > y.type.ndim:
            raise self.fail(node, f"too many indices for a {y.type.ndim}-D array", "index each axis at most once")
        self.b.append(Op("index_add", [y, *atoms, self.scalar(args[2], node)], [], (("scatter", True),)))

    def listed(self, value: Any, node: cst.BaseExpression) -> Any:
        """An index written as a list (``[0, 2, 2]``) as the integer array NumPy makes of it."""
        return self.array_of_items(value, node) if isinstance(node, (cst.List, cst.ListComp)) and value else value

    def positions(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        """``np.argsort(x, axis=-1)``, ``np.argmax(x, axis=None)``, ``np.argmin``: integer indices."""
        kw = self.keywords(node, ("axis",))
        x = self.array_value(args[0], node)
        axis = self.const_arg(args, 1, kw, "axis", node, -1 if name == "argsort" else None)
        if axis is not None:
            (axis,) = self.axes_of((axis,), x.type.ndim, node)
        if name == "argsort":  # of an N-D array, the axis is written out: None sorts the flattened array
            return self.b.emit(name, x, params=(("axis", axis),) if x.type.ndim != 1 else ())
        return self.b.emit(name, x, params=((("axis", axis),) if axis is not None else ()) + (("reduce", True),))

    def searchsorted(self, args: list[Any], node: cst.Call) -> Atom:
        kw = self.keywords(node, ("side",))
        if kw.get("side", "left") not in ("left", "right"):
            raise self.fail(node, f"np.searchsorted() with side={kw['side']!r}", "use side='left' or 'right'")
        a, v = self.array_value(args[0], node), self.scalar(args[1], node)
        return self.b.emit("searchsorted", a, v, params=(("side", "right"),) if kw.get("side") == "right" else ())

    def along(self, x: Any, idx: Atom, axis: int) -> Atom:
        """``np.take_along_axis(x, idx, axis)``: ``x`` read at ``idx`` along ``axis`` and at the
        broadcast positions ``arange(n)`` along every other axis."""
        nd = x.type.ndim
        if nd == 1:
            return self.b.emit("getitem", x, idx)
        keys = []
        for d in range(nd):
            if d == axis:
                keys.append(idx)
                continue
            ar = self.b.emit("arange", self.b.emit("shape", x, params=(("dim", d),)))
            spec = tuple(("s", False, False, False) if k == d else "n" for k in range(nd))
            keys.append(self.b.emit("getitem", ar, params=(("index", spec),)))
        return self.b.emit("getitem", x, *keys)

    def gather(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        """``np.sort(x, axis=-1)``, ``np.take(x, idx, axis=None)``, ``np.take_along_axis(x, idx, axis)``."""
        kw = self.keywords(node, ("axis",))
        x = self.array_value(args[0], node)
        k = 1 if name == "sort" else 2
        axis = self.const_arg(args, k, kw, "axis", node, -1 if name == "sort" else None)
        if axis is None and name in ("sort", "take"):
            x, axis = (x if x.type.ndim == 1 else self.b.emit("ravel", x)), 0
        if axis is None:
            raise self.fail(node, "np.take_along_axis() with axis=None", "name the axis, e.g. axis=1")
        (axis,) = self.axes_of((axis,), x.type.ndim, node)
        if name == "sort":
            order = self.b.emit("argsort", x, params=(("axis", axis),) if x.type.ndim > 1 else ())
            return self.along(x, order, axis)
        idx = self.index_atom(self.listed(args[1], node.args[1].value), node)
        if name == "take":
            full = ("s", False, False, False)
            out = self.b.emit("getitem", x, idx, params=(("index", (full,) * axis + ("i",)),) if axis else ())
            # np.take copies; with a number for an index the getitem is a view (``a[0]``)
            return self.b.emit("acopy", out) if out.type.is_array and not idx.type.is_array else out
        if idx.type.ndim != x.type.ndim:
            raise self.fail(node, "np.take_along_axis() with indices of another number of dimensions than the array",
                            "give the indices as many dimensions as the array")
        return self.along(x, idx, axis)

    def vander(self, args: list[Any], node: cst.Call) -> Atom:
        """``np.vander(x, N=len(x), increasing=False)`` of a 1-D ``x``; ``N`` may be computed
        (``x.shape[0]``), ``increasing`` is a constant."""
        n, increasing = (args[1] if len(args) > 1 else None), (self.positional(args, 2, node) if len(args) > 2 else False)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "N":
                n = self.expr(arg.value)
            elif arg.keyword is not None and arg.keyword.value == "increasing":
                increasing = self.static(self.literal(arg.value), arg.value)
            elif arg.keyword is not None:
                raise self.fail(arg, f"unsupported keyword argument `{arg.keyword.value}`", "supported here: N, increasing")
        x = self.array_value(args[0], node)
        if x.type.ndim != 1:
            raise self.fail(node, f"np.vander() of a {x.type.ndim}-D array", "pass a 1-D array, as NumPy requires")
        if not isinstance(increasing, bool):
            raise self.fail(node, "np.vander() with a computed `increasing`", "write increasing=True or increasing=False")
        count = self.b.emit("shape", x, params=(("dim", 0),)) if n is None else self.scalar(n, node)
        if isinstance(count, Const) and (not isinstance(count.value, int) or count.value < 1):
            raise self.fail(node, f"np.vander() with N={count.value!r}", "give N, the number of columns, as an integer >= 1")
        return self.b.emit("vander", x, count, params=(("increasing", True),) if increasing else ())

    def pad(self, args: list[Any], node: cst.Call) -> Atom:
        """``np.pad(x, pad_width, mode='constant', constant_values=c)`` with constant widths and ``c``;
        modes ``edge``, ``reflect``, ``symmetric`` and ``wrap`` (copies of ``x``'s elements)."""
        kw = self.keywords(node, ("mode", "constant_values"))
        x = self.array_value(args[0], node)
        widths = self.positional(args, 1, node)
        value, mode = kw.get("constant_values", 0.0), kw.get("mode", "constant")
        if mode not in PAD_MODES or not isinstance(value, (int, float)) or isinstance(value, bool) \
                or (mode != "constant" and "constant_values" in kw):
            raise self.fail(node, f"np.pad() with mode={mode!r}" + (" and these constant_values" if mode in PAD_MODES else ""),
                            "pad with mode 'constant' (a constant fill value), 'edge', 'reflect', 'symmetric' or "
                            "'wrap': np.pad(x, 1), np.pad(x, ((1, 0), (0, 2)), mode='reflect')")
        nd = x.type.ndim
        pairs = _pairs(widths, nd)
        if pairs is None:
            raise self.fail(node, f"np.pad() widths {widths!r} for a {nd}-D array",
                            "give constant nonnegative integers: n, (before, after) or one pair per axis")
        params = (("widths", pairs),) + ((("value", float(value)),) if value else ()) \
            + ((("mode", mode),) if mode != "constant" else ())
        return self.b.emit("pad", x, params=params)

    def split(self, name: str, args: list[Any], node: cst.Call) -> tuple[Atom, ...]:
        """``np.split(x, n_or_indices, axis=0)`` / ``np.array_split``: the views between the split points."""
        kw = self.keywords(node, ("axis",))
        x = self.array_value(args[0], node)
        (axis,) = self.axes_of((self.const_arg(args, 2, kw, "axis", node, 0),), x.type.ndim, node)
        where = self.positional(args, 1, node)
        n = self.b.emit("shape", x, params=(("dim", axis),))
        if isinstance(where, tuple) and all(isinstance(i, int) and not isinstance(i, bool) for i in where):
            points: list[Any] = [None, *where, None]
        elif isinstance(where, int) and not isinstance(where, bool) and where > 0:
            if name == "split":  # equal parts, or NumPy's ValueError
                size = self.b.emit("section", n, where)
                points = [None] + [self.b.mul(size, k) for k in range(1, where)] + [None]
            else:  # the first n % parts parts one longer
                size, extra = self.b.emit("floordiv", n, where), self.b.emit("mod", n, where)
                points = [None] + [self.b.add(self.b.mul(size, k), self.b.emit("min", extra, k))
                                   for k in range(1, where)] + [None]
        else:
            raise self.fail(node, f"np.{name}() with {where!r}", "split into a constant number of parts or at constant "
                                                                   "indices, e.g. np.split(x, 2) or np.split(x, [1, 3])")
        full = ("s", False, False, False)
        pieces = []
        for start, stop in zip(points, points[1:]):
            bounds = [p for p in (start, stop) if p is not None]
            entry = ("s", start is not None, stop is not None, False)
            pieces.append(self.b.emit("getitem", x, *bounds, params=(("index", (full,) * axis + (entry,)),)))
        return tuple(pieces)

    def einsum_plain(self, spec: str, operands: list[Any]) -> tuple[str, list[Any]]:
        """``spec`` without ``...`` (spelled with unused letters, right-aligned, as NumPy broadcasts
        them) and without a letter repeated in one operand (its second use a new letter, and an
        identity matrix joining the two: ``'ii->i'`` is ``'ij,ij->i'`` with ``np.eye``)."""
        inputs, arrow, out = spec.replace(" ", "").partition("->")
        subs = inputs.split(",")
        if len(subs) != len(operands) or not (("..." in spec) or any(len(set(s)) != len(s) for s in subs)):
            return spec, operands
        free = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec)
        width = max((o.type.ndim - len(s.replace("...", "")) for s, o in zip(subs, operands) if "..." in s), default=0)
        dots = "".join(next(free) for _ in range(max(width, 0)))
        subs = [s.replace("...", dots[len(dots) - (o.type.ndim - len(s.replace("...", ""))):] if "..." in s else "")
                for s, o in zip(subs, operands)]
        if not arrow:  # NumPy's implicit output: the broadcast letters, then the letters used once, sorted
            letters = "".join(s.replace("...", "") for s in inputs.split(","))
            out = dots + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
        out = out.replace("...", dots)
        operands = list(operands)
        for k, s in enumerate(list(subs)):
            seen = ""
            for pos, c in enumerate(s):
                if c in seen:
                    fresh = next(free)
                    subs[k] = subs[k][:pos] + fresh + subs[k][pos + 1:]
                    n = self.b.emit("shape", operands[k], params=(("dim", pos),))
                    operands.append(self.b.emit("eye", n))
                    subs.append(c + fresh)
                seen += c
        return ",".join(subs) + "->" + out, operands


def _pairs(widths: Any, nd: int) -> tuple[tuple[int, int], ...] | None:
    """NumPy's ``pad_width`` forms (``n``, ``(n,)``, ``(before, after)``, one pair per axis) as one
    pair per axis; ``None`` if they are not constant nonnegative integers."""
    def ok(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0
    if ok(widths):
        return ((widths, widths),) * nd
    if isinstance(widths, tuple) and len(widths) == 1 and ok(widths[0]):
        return ((widths[0], widths[0]),) * nd
    if isinstance(widths, tuple) and len(widths) == 2 and all(ok(w) for w in widths):
        return (tuple(widths),) * nd
    if isinstance(widths, tuple) and len(widths) == nd and all(
            isinstance(w, tuple) and len(w) == 2 and all(ok(v) for v in w) for w in widths):
        return tuple(tuple(w) for w in widths)
    return None


def _named(method: str, *names: str) -> dict[str, Any]:
    """Handlers ``self.<method>(name, args, node)`` for several NumPy names."""
    return {n: (lambda n: lambda self, args, node: getattr(self, method)(n, args, node))(n) for n in names}


def _single(*methods: str) -> dict[str, Any]:
    """Handlers ``self.<name>(args, node)``, one NumPy name each."""
    return {m: (lambda m: lambda self, args, node: getattr(self, m)(args, node))(m) for m in methods}


LIBRARY = {**_single("norm", "svd", "qr", "add_at", "searchsorted", "pad"), **_named("split", "split", "array_split"),
           **_named("positions", "argsort", "argmax", "argmin"), **_named("gather", "sort", "take", "take_along_axis")}

"""Front end, NumPy functions written with other primitives (issue 10's missing names):
``np.linalg.norm`` with ``ord``, ``np.linalg.svd``/``qr`` (tuples of primitives).

Input: the arguments of a call the array front end routes here (``LIBRARY``).  Output: ops of the
registered primitives; nothing here has a derivative rule of its own.
"""
from __future__ import annotations

import math
from typing import Any

import libcst as cst

from .ir import Atom

# vector norms other than the 2-norm: |x| written sign(x) * x, whose derivative is sign(x) (0 at 0:
# the subgradient of least norm, as for the 2-norm), then a reduction
_VECTOR = {1: "sum", math.inf: "amax", -math.inf: "amin"}
# matrix norms: (reduction of |a| along the first axis, then the extremum of the sums)
_MATRIX = {1: (0, "amax"), -1: (0, "amin"), math.inf: (1, "amax"), -math.inf: (1, "amin")}


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
        matrix = isinstance(axis, tuple) or (axis is None and x.type.ndim == 2)
        if order is None or order == "fro" and matrix or order == 2 and not matrix:
            return self.reduce("norm", x, axis, keep, node)
        if isinstance(axis, tuple) and (len(axis) != 2 or self.axes_of(axis, x.type.ndim, node) not in ((0, 1), (1, 0))
                                        or x.type.ndim != 2) or axis is None and x.type.ndim > 2:
            raise self.fail(node, f"np.linalg.norm() with ord={order!r} over axes {axis} of a {x.type.ndim}-D array",
                            "adc takes matrix norms of 2-D arrays (axis None or (0, 1)) and vector norms along one axis")
        if matrix:
            return self.matrix_norm(x, order, keep, node)
        size = self.b.mul(self.b.emit("sign", x), x)
        if order in _VECTOR:
            return self.reduce(_VECTOR[order], size, axis, keep, node)
        if isinstance(order, (int, float)) and not isinstance(order, bool) and order != 0:
            total = self.reduce("sum", self.b.emit("nppow", size, float(order)), axis, keep, node)
            return self.b.emit("nppow", total, 1.0 / order)
        raise self.fail(node, f"np.linalg.norm() with ord={order!r}",
                        "adc supports ord None, 1, 2, inf, -inf and other nonzero numbers for vectors")

    def matrix_norm(self, x: Any, order: Any, keep: bool, node: cst.Call) -> Atom:
        """'nuc', 2, -2 from the singular values; 1, -1, inf, -inf from column or row sums."""
        if order in ("nuc", 2, -2):
            s = self.b.emit("svdvals", x)
            out = self.b.emit({"nuc": "sum", 2: "amax", -2: "amin"}[order], s)
        elif order in _MATRIX:
            first, extremum = _MATRIX[order]
            out = self.b.emit(extremum, self.reduce("sum", self.b.mul(self.b.emit("sign", x), x), first, False, node))
        else:
            raise self.fail(node, f"np.linalg.norm() of a matrix with ord={order!r}",
                            "adc supports ord None, 'fro', 'nuc', 1, -1, 2, -2, inf and -inf for matrices")
        if keep:
            full = ("s", False, False, False)
            return self.b.emit("getitem", self.b.emit("pack", out), params=(("index", (full, "n")),))
        return out

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


LIBRARY = {
    "norm": lambda self, args, node: self.norm(args, node),
    "svd": lambda self, args, node: self.svd(args, node),
    "qr": lambda self, args, node: self.qr(args, node),
}

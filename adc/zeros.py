"""Derivatives of the right type: zeros (``0.0`` for a scalar, ``np.zeros_like(x)`` for an array) and
derivative arrays cast to the dtype of the value they belong to.

Input: a builder and the primal value (or type) the derivative belongs to.  Output: an atom.
"""
from __future__ import annotations

from .ir import Atom, Const
from .types import Type


def zero_like(b, primal: Atom) -> Atom:
    t = primal.type
    if t is None or not t.is_array:
        return Const(0.0)
    return b.emit("zeros_like", primal)


def keep_dtype(b, value: Atom, t: Type) -> Atom:
    """``value``, a derivative array, in the float dtype of ``t`` (its primal's derivative type): a
    tangent or adjoint keeps its primal's dtype, whatever a rule computed it in (``np.where(m, 1.0,
    -1.0)``, a count division: ``float64``), so a ``float32`` sweep stays ``float32``."""
    vt = value.type
    if vt is None or not (vt.is_array and t.is_array and vt.kind == t.kind == "float") or vt.dtype == t.dtype:
        return value
    return b.emit("astype", value, params=(("dtype", t.dtype),))

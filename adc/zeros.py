"""Zero derivatives of the right type: ``0.0`` for a scalar, ``np.zeros_like(x)`` for an array.

Input: a builder and the primal value whose derivative is zero.  Output: an atom.
"""
from __future__ import annotations

from .ir import Atom, Const


def zero_like(b, primal: Atom) -> Atom:
    t = primal.type
    if t is None or not t.is_array:
        return Const(0.0)
    return b.emit("zeros_like", primal)

"""Where an adjoint is zero by construction: the reverse sweep keeps it zero through partials.

``np.where(c, f(x), 0.0)`` has the adjoint ``where(c, g, 0)`` for ``f(x)``; multiplied by ``f``'s
partial it would be ``0 * inf`` or ``0 * nan`` (NaN) wherever the branch not taken has a singular
partial (``sqrt`` of a negative number, ``log`` of 0).  ``masked`` finds the condition such an
adjoint carries (through products, quotients and negations of it), so the sweep writes
``where(c, g * p, 0)`` instead, and the gradient is 0 where the other branch is taken
(docs/rules.md).
"""
from __future__ import annotations

from typing import Any

from .builder import is_zero
from .ir import Atom, Var

# ops whose result is zero wherever their first (or only adjoint) argument is
_THROUGH = ("mul", "div", "neg", "copy")


def zero_mask(b: Any, g: Atom, depth: int = 8) -> tuple[Atom, bool] | None:
    """``(c, kept)`` if ``g`` is zero wherever ``c`` is not ``kept``; ``None`` if not known."""
    op = b.defs.get(g) if isinstance(g, Var) else None
    if op is None or depth == 0:
        return None
    if op.prim == "select":
        c, x, y = op.args
        if is_zero(y) and not is_zero(x):
            return c, True
        if is_zero(x) and not is_zero(y):
            return c, False
        return None
    if op.prim in _THROUGH:
        factors = op.args[:1] if op.prim == "div" else op.args
        for a in factors:
            found = zero_mask(b, a, depth - 1)
            if found is not None:
                return found
    return None


def masked_product(b: Any, g: Atom, p: Atom) -> Atom:
    """``g * p``, kept exactly 0 where ``g`` is 0 by construction and ``p`` is a value (which may
    be infinite or NaN there)."""
    product = b.mul(g, p)
    found = zero_mask(b, g) if isinstance(p, Var) else None
    if found is None or product is g:
        return product
    c, kept = found
    return b.select(c, product, 0.0) if kept else b.select(c, 0.0, product)

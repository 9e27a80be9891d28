"""Abstract value types that the compiler specialises on.

Input: Python values or literals.  Output: ``Type`` objects: a scalar (``float``, ``int`` or
``bool``) or an array of known rank and dtype.  Code generation picks ``math.sin`` for a scalar and
``np.sin`` for an array from these, and reverse mode builds zeros of the right shape from them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Type:
    """``kind`` is ``"float"``, ``"int"`` or ``"bool"``; ``ndim`` is 0 for scalars.  ``ones`` marks
    the axes known to have length 1 (from the arguments' shapes, ``keepdims`` or ``None``
    indexing): reverse mode sums an adjoint over exactly the axes an operand was broadcast along."""

    kind: str
    ndim: int = 0
    dtype: str = "float64"
    ones: tuple[bool, ...] | None = None

    def one(self, axis: int) -> bool:
        return bool(self.ones and self.ones[axis])

    def with_(self, **changes: object) -> "Type":
        from dataclasses import replace

        return replace(self, **changes)

    @property
    def is_array(self) -> bool:
        return self.ndim > 0

    def __str__(self) -> str:
        if self.ndim == 0:
            return self.kind
        return f"{self.dtype}[{','.join(':' * self.ndim)}]"


FLOAT = Type("float")
INT = Type("int")
BOOL = Type("bool")


def scalar_of(value: object) -> Type:
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return INT
    return FLOAT


def type_of(value: object) -> Type:
    """The abstract type of a runtime argument (used as part of the specialisation key)."""
    if isinstance(value, np.ndarray):
        kind = "bool" if value.dtype == np.bool_ else "int" if value.dtype.kind in "iu" else "float"
        if not value.ndim:
            return scalar_of(value[()])
        return Type(kind, value.ndim, str(value.dtype), tuple(n == 1 for n in value.shape))
    return scalar_of(value)


def join(*types: Type) -> Type:
    """The result type of an elementwise op on ``types`` (NumPy's promotion, rank by broadcasting)."""
    order = {"bool": 0, "int": 1, "float": 2}
    kind = max((t.kind for t in types), key=order.__getitem__)
    ndim = max(t.ndim for t in types)
    if ndim == 0:
        return Type(kind)
    dtypes = [t.dtype for t in types if t.ndim and t.kind == "float"]
    dtype = "float32" if dtypes and all(d == "float32" for d in dtypes) else "float64"
    if kind != "float":
        dtype = "bool" if kind == "bool" else "int64"
    return Type(kind, ndim, dtype, broadcast_ones(types, ndim))


def broadcast_ones(types: "tuple[Type, ...] | list[Type]", ndim: int) -> tuple[bool, ...]:
    """Axes of a broadcast result known to be 1: those where every operand has length 1 (or none)."""
    ones = []
    for axis in range(ndim):
        flags = []
        for t in types:
            k = axis - (ndim - t.ndim)
            if k >= 0:
                flags.append(t.one(k))
        ones.append(all(flags))
    return tuple(ones)

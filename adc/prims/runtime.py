"""Primitives the reverse sweep emits for itself: trip counts (``len_range``) and the stacks it
keeps values on (``tape``, a growing list; ``record``, a preallocated one; ``push``, ``pop``).
They are lists, so Numba compiles them.  None is differentiable or spelled in user code.
"""
from __future__ import annotations

from typing import Sequence

from ..types import Type
from .registry import structural


def _range_text(t: Sequence[str]) -> str:
    start, stop, step = t
    if step == "1":
        return stop if start == "0" else f"{start}, {stop}"
    return f"{start}, {stop}, {step}"


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


structural("len_range", lambda t, p: f"len(range({_range_text(t)}))", lambda a, b, c: len(range(a, b, c)),
           lambda ts: Type("int"), differentiable=False)
structural("tape", lambda t, p: f"[{_tape_item(p.get('kind'))}] * 0", lambda kind="float": [], lambda ts: Type("tape"),
           fresh=True, foldable=False, differentiable=False)
structural("record", lambda t, p: f"[{_tape_item(p.get('kind'))}] * {t[0]}",
           lambda n, kind="float": [0 if kind == "int" else 0.0] * int(n), lambda ts: Type("tape"), fresh=True,
           differentiable=False)
structural("push", lambda t, p: f"{t[0]}.append({t[1]})", lambda tape, v: tape.append(v), effect=True,
           differentiable=False)
structural("pop", lambda t, p: f"{t[0]}.pop()", lambda tape: tape.pop(), stateful=True, foldable=False,
           may_raise=True, differentiable=False)

"""Primitives the reverse sweep emits for itself: trip counts (``len_range``) and the stacks it
keeps values on (``tape``, a growing list; ``record``, a preallocated one; ``push``, ``pop``).
They are lists, so Numba compiles them.  None is spelled in user code.

Their forward (JVP) rules let a derivative program be differentiated again (forward over
reverse): a tape or record of active values gets a parallel tangent tape or record of the same
length and kind (``tape``/``record``); a ``push`` also pushes the value's tangent, zero for a value
with none (``_push_tangent``), and a store into a record stores it (``Forward.structural``), so a
``pop`` or a read pops or reads the matching tangent.  A tangent push and pop keep the ``pair``
parameter of the primal ones (``passes.dead_stores`` removes a pair whose popped value is unread).  ``len_range`` is an integer: no derivative.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..types import Type
from .registry import STACKS, atomic, structural


def _range_text(t: Sequence[str]) -> str:
    start, stop, step = t
    if step == "1":
        return stop if start == "0" else f"{start}, {stop}"
    return f"{start}, {stop}, {step}"


def _tape_item(kind: object) -> str:
    """A placeholder element of a list that holds ``kind`` values: ``int``, ``bool``, ``float``, ``residuals``
    or an array kind ``(dtype, ndim)`` (a list of one typed element, emptied, is a typed list under Numba too)."""
    if kind == "int":
        return "0"
    if kind == "bool":
        return "False"
    if kind == "residuals":  # the residual tuples of kept calls (plain Python only)
        return "()"
    if isinstance(kind, tuple):
        dtype, ndim = kind
        shape = "0" if ndim == 1 else "(" + ", ".join(["0"] * ndim) + ")"
        return f"np.empty({shape}, dtype=np.{dtype})"
    return "0.0"


def _push_tangent(b: Any, op: Any, ts: Sequence[Any]) -> None:
    """``dtape.append(dv)`` beside ``tape.append(v)``: zero for a value with no tangent, so the
    tangent tape stays in step with the tape."""
    from ..ir import Op
    from ..zeros import zero_like

    b.append(Op("push", [ts[0], ts[1] if ts[1] is not None else zero_like(b, op.args[1])], [], op.params))


def _pop_tangent(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    """``dv = dtape.pop()``: the tangent of a popped value, typed like the value (a tape has no
    element type of its own)."""
    from ..ir import Op, Var

    t = op.out.type
    out = Var(type=t if t.kind == "float" else t.with_(kind="float", dtype="float64"), role=b.role)
    b.append(Op("pop", [ts[0]], [out], op.params))
    return out


def _push_numba(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    """Numba types a list by its items' layout: an array that may not be C-contiguous (a transpose
    taped by a derivative program differentiated again) is pushed as a C-contiguous one, the layout
    of the tape's placeholder item.  A tape kept calls share (``borrowing.py``) takes
    ``adc_stacks.push``."""
    item = ts[1] if len(ts) > 1 else None
    if p.get("shared"):  # an ``adc_stacks`` tape (``borrowing.py``)
        return f"adc_stacks.push({t[0]}, {t[1]})"
    return f"{t[0]}.append(np.ascontiguousarray({t[1]}))" if item is not None and item.is_array else \
        f"{t[0]}.append({t[1]})"


# the tapes of numbers kept calls share under Numba (``borrowing.py``), by kind: ``adc_stacks``'s classes
SHARED_TAPES = {"float": "FloatTape", "int": "IntTape", "bool": "BoolTape"}


def _shared_imports(p: dict[str, Any]) -> str:
    """``adc_stacks`` for the ops of a tape kept calls share (``borrowing.py``)."""
    return STACKS if p.get("shared") else ""


def _tape_numba(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    """A tape kept calls share (``borrowing.py``) is an ``adc_stacks`` tape under Numba; else a list."""
    if p.get("shared"):
        return f"adc_stacks.{SHARED_TAPES[p.get('kind', 'float')]}()"
    return f"[{_tape_item(p.get('kind'))}] * 0"


_RECORD_DTYPES = {"float": "float64", "int": "int64", "bool": "bool_"}


def _record_numba(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    """Under Numba a record of numbers is a NumPy array (a store and a read are a memory access; a
    typed list's checks its bounds and wraps negative indices); of arrays or residuals, a list."""
    dtype = _RECORD_DTYPES.get(p.get("kind", "float"))  # type: ignore[arg-type]
    return f"np.zeros({t[0]}, dtype=np.{dtype})" if dtype else f"[{_tape_item(p.get('kind'))}] * {atomic(t[0])}"


structural("len_range", lambda t, p: f"len(range({_range_text(t)}))", lambda a, b, c: len(range(a, b, c)),
           lambda ts: Type("int"), differentiable=False)
structural("tape", lambda t, p: f"[{_tape_item(p.get('kind'))}] * 0", lambda kind="float": [], lambda ts: Type("tape"),
           jvp=lambda b, op, ts: b.emit("tape", params=op.params), fresh=True, foldable=False, numba=_tape_numba,
           numba_imports=_shared_imports)
structural("record", lambda t, p: f"[{_tape_item(p.get('kind'))}] * {atomic(t[0])}",
           lambda n, kind="float": [{"int": 0, "bool": False}.get(kind, 0.0)] * int(n), lambda ts: Type("tape"), fresh=True,
           jvp=lambda b, op, ts: b.emit("record", *op.args, params=op.params), numba=_record_numba)
structural("push", lambda t, p: f"{t[0]}.append({t[1]})", lambda tape, v: tape.append(v), effect=True,
           jvp=lambda b, op, ts: _push_tangent(b, op, ts), numba=_push_numba, numba_imports=_shared_imports)
structural("pop", lambda t, p: f"{t[0]}.pop()", lambda tape: tape.pop(), stateful=True, foldable=False,
           may_raise=True, flows=True, jvp=lambda b, op, ts: _pop_tangent(b, op, ts),
           numba=lambda t, p, ts: f"adc_stacks.pop({t[0]})" if p.get("shared") else f"{t[0]}.pop()",
           numba_imports=_shared_imports)

"""Lists whose length is known only at run time: ``hs = []`` then ``hs.append(h)`` in a loop adc
does not unroll (``frontend_lists.py``).  A list is a Python list in the generated code, as in the
user's (Numba compiles a list of numbers or of arrays of one dtype and rank).

``list`` makes one (``hs = []``; its ``item`` parameter is the type of its items), ``push`` (in
``runtime.py``) appends, ``list_get`` reads an item, ``list_len`` its length and ``stack_list``
makes ``np.stack(hs)`` (``np.array(hs)`` of numbers).  Under Numba a list starts as a tape does,
from a placeholder item of its type, emptied (``[0.0] * 0``): Numba types a bare ``[]`` by what
follows, and in a function with two of them, one read by ``np.array``, it typed the other as an
array (``append`` then failed to compile: the tangent list beside a list of numbers).

The reverse sweep keeps one adjoint per item in a list of zeros made from the final list
(``zeros_list``); a read adds into its item's adjoint (``list_add``), a stack adds its adjoint's
rows (``add_rows``), and an append pops its item's adjoint, so the adjoint list shrinks with the
reverse sweep as the list grew (``reverse.tape_op``).  Each has a JVP rule: a tangent list beside
the list, so forward mode, and forward over reverse, work as they do for the reverse sweep's own
tapes.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..types import INT, Type
from .registry import KERNELS, atomic, structural

LIST = Type("tape")  # the IR type of a list (the reverse sweep's stacks are lists too)


def _tangent(t: Type) -> Type:
    return t if t.kind == "float" else t.with_(kind="float", dtype="float64")


def _item(op: Any) -> Type:
    return op.param("item")


def _make_numba(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    """A list of known items under Numba: a typed placeholder item, emptied (a tape's spelling)."""
    from .runtime import _tape_item

    item = p.get("item")
    if item is None:
        return "[]"
    return f"[{_tape_item((item.dtype, item.ndim) if item.ndim else item.kind)}] * 0"


def _make_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    return b.emit("list", params=(("item", _tangent(_item(op))),))


def _get_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    return b.emit("list_get", ts[0], *op.args[1:], params=(("item", _tangent(_item(op))),))


def _stack_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    t = p["item"]
    return Type(t.kind, t.ndim + 1, t.dtype if t.ndim else ("float64" if t.kind == "float" else "int64"),
                (False, *(t.ones or (False,) * t.ndim)))


def _stack_text(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"np.stack({t[0]})" if p["item"].ndim else f"np.array({t[0]})"


def _stack_numba(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    return f"adc_arrays.stack_list({t[0]})" if p["item"].ndim else f"np.array({t[0]})"


def _zeros_text(t: Sequence[str], p: dict[str, Any]) -> str:
    return f"[np.zeros_like(v) for v in {t[0]}]" if p["item"].ndim else f"[0.0] * len({t[0]})"


def _stack(items: list[Any], item: Type) -> Any:
    import numpy as np

    return np.stack(items) if item.ndim else np.array(items)


def _add(items: list[Any], i: int, g: Any) -> None:
    items[i] = items[i] + g


def _add_rows(items: list[Any], g: Any) -> None:
    for k in range(len(items)):
        items[k] = items[k] + g[k]


def _effect_jvp(prim: str) -> Any:
    """The tangent of a store into an adjoint list (forward over reverse): the same store into its
    tangent list."""
    from ..ir import Op
    from ..zeros import zero_like

    def jvp(b: Any, op: Any, ts: Sequence[Any]) -> None:
        value = ts[-1] if ts[-1] is not None else zero_like(b, op.args[-1])
        b.append(Op(prim, [ts[0], *op.args[1:-1], value], [], op.params))
    return jvp


_READ = {"foldable": False, "cse": False, "recomputable": False}  # the list may grow after the read
structural("list", lambda t, p: "[]", lambda item=None: [], lambda ts: LIST, fresh=True, foldable=False,
           jvp=_make_jvp, numba=_make_numba)
structural("list_get", lambda t, p: f"{atomic(t[0])}[{t[1]}]", lambda items, i, item=None: items[int(i)],
           lambda ts, p: p["item"], jvp=_get_jvp, flows=True, may_raise=True, **_READ)
structural("list_len", lambda t, p: f"len({t[0]})", lambda items: len(items), lambda ts: INT,
           differentiable=False, **_READ)
structural("stack_list", _stack_text, lambda items, item=None: _stack(items, item), _stack_type,
           jvp=lambda b, op, ts: b.emit("stack_list", ts[0], params=(("item", _tangent(_item(op))),)),
           numba=_stack_numba, numba_imports=KERNELS, fresh=True, may_raise=True, sized_at_run_time=lambda op, known: True,
           **_READ)
structural("zeros_list", _zeros_text, lambda items, item=None: [0.0 * v for v in items], lambda ts: LIST,
           jvp=lambda b, op, ts: b.emit("zeros_list", *op.args, params=op.params), fresh=True, foldable=False)
structural("list_add", lambda t, p: f"{t[0]}[{t[1]}] += {t[2]}", _add, effect=True,
           in_place=lambda t, p, ts: (f"{t[0]}[{t[1]}]", (2,)), numba_imports=KERNELS,
           jvp=_effect_jvp("list_add"))
structural("add_rows", lambda t, p: f"adc_arrays.add_rows({t[0]}, {t[1]})", lambda items, g: _add_rows(items, g),
           effect=True, imports=KERNELS, jvp=_effect_jvp("add_rows"))

"""Numba only: the tapes kept calls share, and arguments passed without reference counts.

Imported by ``jit=True`` code as ``adc_stacks`` when a module passes tapes or arrays into a kept
recursive call (``borrowing.py``).  A recursion such as det's expansion by minors makes about
e * n! calls, and Numba increments and decrements the reference count of every array and list a
compiled function is given, with atomic instructions, unless its pruning proves them unneeded: with
three or four such arguments per call that was most of the gradient's time.

- ``FloatTape``, ``IntTape``, ``BoolTape``: a stack of numbers, ``append`` and ``pop`` as a list's,
  kept in an array that doubles when full and never shrinks.  A tape of these is a ``jitclass``,
  whose value holds a pointer to its data apart from the pointer to its reference count.
- ``push(tape, x)`` and ``pop(tape)``: a shared tape's ``append`` and ``pop`` written into the
  caller (a method of a ``jitclass`` is a call Numba does not inline, with reference counting around
  it: that was half the forward sweep of det's expansion by minors); the growth is a call, taken
  when the tape is full.  The methods are the same two.
- ``borrowed(x)``: the same array or tape typed as uncounted (``UncountedArray``, of any layout,
  ``UncountedTape``: data models with no member to count, so Numba emits no increment or decrement
  for it), its reference-count pointer null.  It is valid only while the memory's owner keeps it
  alive, so ``borrowing.py`` borrows a parameter only where every caller holds the value for the
  whole call and the callee never lets it escape the call.
- ``any_layout(x)``: the same array typed as Numba's own array of any layout (a borrowed one too),
  or a borrowed tape as a tape, so that a recursive function is compiled once for every caller
  (``prims/runtime.py`` names the tapes by kind: ``SHARED_TAPES``).
"""
from __future__ import annotations

import numpy as np
from numba import boolean, float64, int64
from numba.core import cgutils, types
from numba.core.datamodel import models
from numba.core.datamodel.registry import register_default
from numba.core.imputils import impl_ret_borrowed, lower_cast
from numba.core.typing import signature
from numba.experimental import jitclass
from numba.experimental.jitclass.base import InstanceModel
from numba.extending import intrinsic, overload

_FIRST = 64  # the first capacity: a tape doubles when full


def _tape_methods(dtype: type) -> dict[str, object]:
    def __init__(self):  # noqa: ANN001, ANN202, N807 (Numba compiles it as written)
        self.items = np.empty(_FIRST, dtype=dtype)
        self.size = 0

    def append(self, value):  # noqa: ANN001, ANN202
        _push(self, value)

    def pop(self):  # noqa: ANN001, ANN202
        return _pop(self)

    return {"__init__": __init__, "append": append, "pop": pop}


def _tape_class(name: str, dtype: type, item: object) -> type:
    cls = type(name, (), {**_tape_methods(dtype), "__module__": __name__, "__qualname__": name,
                          "__doc__": f"A stack of {np.dtype(dtype).name} values (``append``, ``pop``)."})
    return jitclass([("items", item[::1]), ("size", int64)])(cls)  # type: ignore[index]


FloatTape = _tape_class("FloatTape", np.float64, float64)
IntTape = _tape_class("IntTape", np.int64, int64)
BoolTape = _tape_class("BoolTape", np.bool_, boolean)


class UncountedArray(types.Array):
    """The Numba type of a borrowed array: an array of any layout whose reference count no code
    touches (its data model has no member to count)."""

    def __init__(self, dtype, ndim, readonly=False, aligned=True):  # noqa: ANN001, ANN204
        super().__init__(dtype, ndim, "A", readonly=readonly, aligned=aligned,
                         name=f"borrowed array({dtype}, {ndim}d, A{', readonly' if readonly else ''})")

    @property
    def key(self):  # noqa: ANN201
        return "borrowed", super().key

    def copy(self, dtype=None, ndim=None, layout=None, readonly=None):  # noqa: ANN001, ANN201
        """An array type of Numba's own (what indexing or slicing a borrowed array gives)."""
        return types.Array(self.dtype if dtype is None else dtype, self.ndim if ndim is None else ndim,
                           self.layout if layout is None else layout,
                           readonly=not self.mutable if readonly is None else readonly, aligned=self.aligned)


class UncountedTape(types.ClassInstanceType):
    """The Numba type of a borrowed ``adc_stacks`` tape: the tape, uncounted."""

    name_prefix = "borrowed"

    @property
    def key(self):  # noqa: ANN201
        return "borrowed", self.class_type.key


class _Uncounted:
    """A data model whose reference count no code touches: no member is counted."""

    def traverse(self, builder):  # noqa: ANN001, ANN201, ARG002
        return []

    def has_nrt_meminfo(self) -> bool:
        return False

    def contains_nrt_meminfo(self) -> bool:
        return False


@register_default(UncountedArray)
class _UncountedArrayModel(_Uncounted, models.ArrayModel):
    pass


@register_default(UncountedTape)
class _UncountedTapeModel(_Uncounted, InstanceModel):
    pass


@lower_cast(UncountedArray, types.Array)
def _counted(context, builder, fromty, toty, value):  # noqa: ANN001, ANN202, ARG001
    """A borrowed array where Numba's own type is needed (its null count pointer: counted by no one)."""
    return value


def borrowed(value):  # noqa: ANN001, ANN201
    """``value`` (an array or a tape) typed under Numba as uncounted (``UncountedArray``, of any
    layout, or ``UncountedTape``), its reference-count pointer null: no code increments or
    decrements a count on passing or dropping it.  Valid while the owner of its memory lives.
    ``value`` itself in Python."""
    return value


def any_layout(array):  # noqa: ANN001, ANN201
    """``array`` typed under Numba as Numba's own array type of any layout (``'A'``: the same
    array; a borrowed one stays uncounted, its count pointer null), or a borrowed tape as a tape,
    so that a recursive function takes one type from every call (Numba compiles a version per type,
    and a process that loads two versions of a recursive function from its cache crashes).
    ``array`` itself in Python."""
    return array


def _retyped(value):  # noqa: ANN001, ANN202
    """Numba's own counted type for ``value``, an array's of any layout."""
    if isinstance(value, UncountedTape):
        return value.class_type.instance_type
    return value.copy(layout="A") if isinstance(value, types.Array) else value


def _uncounted_type(value):  # noqa: ANN001, ANN202
    if isinstance(value, (UncountedArray, UncountedTape)):
        return value
    if isinstance(value, types.Array):
        return UncountedArray(value.dtype, value.ndim, readonly=not value.mutable, aligned=value.aligned)
    if _is_stack(value):
        return UncountedTape(value.class_type)
    return None


@intrinsic
def _uncounted(typingctx, value):  # noqa: ANN001, ANN202, ARG001
    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202, ARG001
        if isinstance(signature.args[0], (UncountedArray, UncountedTape)):
            return args[0]
        view = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        return view._getvalue()  # (an array's data model is the same for every layout)

    uncounted = _uncounted_type(value)
    return (uncounted(value), codegen) if uncounted is not None else None


@intrinsic
def _any_layout(typingctx, array):  # noqa: ANN001, ANN202, ARG001
    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202, ARG001
        return impl_ret_borrowed(context, builder, signature.return_type, args[0])

    return _retyped(array)(array), codegen


@overload(borrowed, inline="always")
def _borrowed(value):  # noqa: ANN001, ANN202
    return lambda value: _uncounted(value)


@overload(any_layout, inline="always")
def _any(array):  # noqa: ANN001, ANN202
    if isinstance(array, (UncountedArray, UncountedTape)) or isinstance(array, types.Array) and array.layout != "A":
        return lambda array: _any_layout(array)
    return lambda array: array


def _grow(tape):  # noqa: ANN001, ANN202
    n = tape.size
    grown = np.empty(2 * n, dtype=tape.items.dtype)
    grown[:n] = tape.items
    tape.items = grown


def _members(context, builder, tape_type, tape):  # noqa: ANN001, ANN202
    """The members of a ``jitclass`` tape (``m_items``, ``m_size``), read and written in place."""
    instance = context.make_helper(builder, tape_type, value=tape)
    return context.make_data_helper(builder, tape_type.get_data_type(), ref=instance.data)


def _items(context, builder, tape_type, members):  # noqa: ANN001, ANN202
    return context.make_array(tape_type.struct["items"])(context, builder, value=members.m_items)


def push(tape, value):  # noqa: ANN001, ANN201
    """``tape.append(value)``; under Numba, for an ``adc_stacks`` tape, written into the caller."""
    tape.append(value)


def pop(tape):  # noqa: ANN001, ANN201
    """``tape.pop()``; under Numba, for an ``adc_stacks`` tape, written into the caller."""
    return tape.pop()


@overload(push, inline="always")
def _push_inline(tape, value):  # noqa: ANN001, ANN202
    return (lambda tape, value: _push(tape, value)) if _is_stack(tape) else None


@overload(pop, inline="always")
def _pop_inline(tape):  # noqa: ANN001, ANN202
    return (lambda tape: _pop(tape)) if _is_stack(tape) else None


@intrinsic
def _push(typingctx, tape, value):  # noqa: ANN001, ANN202, ARG001
    def codegen(context, builder, sig, args):  # noqa: ANN001, ANN202
        tape_type = sig.args[0]
        members = _members(context, builder, tape_type, args[0])
        size = members.m_size
        capacity = builder.extract_value(_items(context, builder, tape_type, members).shape, 0)
        with builder.if_then(builder.icmp_signed("==", size, capacity), likely=False):
            counted = tape_type.class_type.instance_type  # the same value: _grow reads it as a tape
            context.compile_internal(builder, _grow, signature(types.none, counted), [args[0]])
        items = tape_type.struct["items"]
        item = context.cast(builder, args[1], sig.args[1], items.dtype)
        context.pack_value(builder, items.dtype, item, builder.gep(_items(context, builder, tape_type, members).data, [size]))
        members.m_size = builder.add(size, size.type(1))
        return context.get_dummy_value()

    return (signature(types.none, tape, value), codegen) if _is_stack(tape) else None


@intrinsic
def _pop(typingctx, tape):  # noqa: ANN001, ANN202, ARG001
    def codegen(context, builder, sig, args):  # noqa: ANN001, ANN202
        tape_type = sig.args[0]
        members = _members(context, builder, tape_type, args[0])
        size = builder.sub(members.m_size, members.m_size.type(1))
        with builder.if_then(builder.icmp_signed("<", size, size.type(0)), likely=False):
            context.call_conv.return_user_exc(builder, IndexError, ("pop from an empty tape",))
        members.m_size = size
        where = builder.gep(_items(context, builder, tape_type, members).data, [size])
        return context.unpack_value(builder, tape_type.struct["items"].dtype, where)

    return (signature(tape.struct["items"].dtype, tape), codegen) if _is_stack(tape) else None


def _is_stack(tape) -> bool:  # noqa: ANN001
    """Is ``tape`` the Numba type of an ``adc_stacks`` tape, counted or borrowed?"""
    return isinstance(tape, types.ClassInstanceType) and \
        tape.class_type in {cls.class_type for cls in (FloatTape, IntTape, BoolTape)}


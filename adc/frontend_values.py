"""Structured values of the front end: tuples, lists and records (dicts, namedtuples, dataclass
instances) whose leaves are atoms.

Input: values the ``Lowerer`` binds to names (a ``Var``/``Const`` atom, a Python tuple of values, a
``Record``).  Output: their leaves, their skeleton (the structure without the leaves) and the value
rebuilt from a skeleton and new leaves.  Branches and loops merge a structured name leaf by leaf, so
``t = (t[0] * x, t[1])`` in a loop carries both leaves like two scalars.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .ir import Const, Var

Value = Any


@dataclass(frozen=True)
class Record:
    """A dict, namedtuple or dataclass instance inside the differentiated function: ``keys`` are
    the dict's keys or the fields' names, ``values`` the values (``cls`` the class, for messages)."""

    kind: str  # "dict" | "namedtuple" | "dataclass"
    keys: tuple[Any, ...]
    values: tuple[Value, ...]
    cls: Any = None

    def get(self, key: Any) -> Value:
        return self.values[self.keys.index(key)]

    @property
    def what(self) -> str:
        return "a dict" if self.kind == "dict" else f"a {getattr(self.cls, '__name__', self.kind)}"


def is_structured(value: Value) -> bool:
    return isinstance(value, (tuple, Record))


def children(value: Value) -> tuple[Value, ...]:
    return value.values if isinstance(value, Record) else value


def leaves(value: Value) -> list[Value]:
    """The non-structured values inside ``value``, depth first."""
    if not is_structured(value):
        return [value]
    return [leaf for child in children(value) for leaf in leaves(child)]


def data_leaves(value: Value) -> list[Var | Const] | None:
    """The atoms of ``value`` when every leaf is an atom (a number or array), else ``None``."""
    found = leaves(value)
    return found if all(isinstance(v, (Var, Const)) for v in found) else None


def skeleton(value: Value) -> Any:
    """``value``'s structure without its leaves (hashable, comparable)."""
    if isinstance(value, Record):
        return ("record", value.kind, value.keys, value.cls, tuple(skeleton(c) for c in value.values))
    if isinstance(value, tuple):
        return ("tuple", tuple(skeleton(c) for c in value))
    return "leaf"


def rebuild(skel: Any, atoms: Iterator[Value]) -> Value:
    """The value with structure ``skel`` whose leaves are taken in order from ``atoms``."""
    if skel == "leaf":
        return next(atoms)
    if skel[0] == "tuple":
        return tuple(rebuild(s, atoms) for s in skel[1])
    _, kind, keys, cls, subs = skel
    return Record(kind, keys, tuple(rebuild(s, atoms) for s in subs), cls)


def same(a: Value, b: Value) -> bool:
    """The same leaves in the same structure (a rebuilt tuple of unchanged atoms is unchanged)."""
    if is_structured(a) or is_structured(b):
        return skeleton(a) == skeleton(b) and all(x is y for x, y in zip(leaves(a), leaves(b)))
    return a is b


def describe(value: Value) -> str:
    """How a message names the kind of ``value``."""
    if isinstance(value, Record):
        return value.what
    if hasattr(value, "describe"):  # a list appended in a loop (``frontend_lists.DynamicList``)
        return value.describe()
    if isinstance(value, tuple):
        return f"{'a list' if type(value).__name__ == 'ListValue' else 'a tuple'} of {len(value)}"
    return "a number or array" if isinstance(value, (Var, Const)) else "a function or module"

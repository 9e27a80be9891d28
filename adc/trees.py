"""Pytrees at the API boundary: arguments and results that are dicts, lists, tuples, namedtuples
or dataclass instances of numbers and arrays.

Input: the arguments of a call.  Output: their leaves (what the generated code takes), the
structure of each argument (``TreeDef``) and, after the call, derivatives put back into that
structure.  JAX's convention, with one difference kept from adc's first API: a list or tuple that
nests only numbers is one array (``f([1.0, 2.0])`` differentiates a vector), while a list or tuple
holding an array, a dict or another container is a tree.  Dicts are flattened in insertion order
(the order the function's author wrote), and a derivative dict has the same keys in the same order.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from .errors import DifferentiationError
from .types import Type, type_of

NUMBERS = (bool, int, float, np.bool_, np.integer, np.floating)


@dataclass(frozen=True)
class TreeDef:
    """The structure of a tree without its leaves.  ``kind`` is ``"leaf"``, ``"tuple"``,
    ``"list"``, ``"dict"``, ``"namedtuple"`` or ``"dataclass"``; ``keys`` are a dict's keys or a
    class's fields; ``cls`` the namedtuple or dataclass."""

    kind: str
    keys: tuple[Any, ...] = ()
    children: tuple["TreeDef", ...] = ()
    cls: Any = None

    @property
    def size(self) -> int:
        """The number of leaves."""
        return 1 if self.kind == "leaf" else sum(c.size for c in self.children)


LEAF = TreeDef("leaf")


@dataclass(frozen=True)
class TreeType:
    """The abstract type of a tree argument: its structure and its leaves' types (part of the
    specialisation key, like ``Type`` for a number or an array)."""

    tree: TreeDef
    leaves: tuple[Type, ...]

    def __str__(self) -> str:
        return f"{self.tree.kind}[{', '.join(map(str, self.leaves))}]"


def _numeric(value: Any) -> bool:
    """A list or tuple that nests only numbers (adc passes it on as one array)."""
    if isinstance(value, (list, tuple)) and not _is_namedtuple(value):
        return all(_numeric(v) for v in value)
    return isinstance(value, NUMBERS)


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def is_tree(value: Any) -> bool:
    """A container adc flattens (not a number, an array, or a list of numbers)."""
    if isinstance(value, dict) or _is_namedtuple(value):
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return True
    return isinstance(value, (list, tuple)) and not _numeric(value)


def flatten(value: Any, where: str = "argument") -> tuple[list[Any], TreeDef]:
    """The leaves of ``value`` (depth first) and its structure."""
    if not is_tree(value):
        return [value], LEAF
    if isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, str)), None)
        if bad is not None:
            raise DifferentiationError(f"{where} is a dict with a key of type {type(bad).__name__} ({bad!r}); "
                                       "adc reads dicts with string keys (`params['W']`)")
        keys, items, cls, kind = tuple(value), list(value.values()), None, "dict"
    elif _is_namedtuple(value):
        keys, items, cls, kind = tuple(type(value)._fields), list(value), type(value), "namedtuple"
    elif isinstance(value, (list, tuple)):
        keys, items, cls, kind = (), list(value), None, type(value).__name__
    else:
        fields = dataclasses.fields(value)
        hidden = next((f.name for f in fields if not f.init), None)
        if hidden is not None:
            raise DifferentiationError(f"{where} is a {type(value).__name__} with field `{hidden}` set outside "
                                       "__init__ (init=False); adc rebuilds dataclasses from their __init__ fields")
        keys = tuple(f.name for f in fields)
        items, cls, kind = [getattr(value, k) for k in keys], type(value), "dataclass"
    leaves: list[Any] = []
    subs = []
    for k, item in enumerate(items):
        sub_leaves, sub = flatten(item, f"{where}{_path_part(kind, keys, k)}")
        leaves += sub_leaves
        subs.append(sub)
    return leaves, TreeDef(kind, keys, tuple(subs), cls)


def unflatten(tree: TreeDef, leaves: Sequence[Any]) -> Any:
    """The value with structure ``tree`` and the given leaves."""
    it = iter(leaves)
    value = _build(tree, it)
    assert next(it, None) is None, "more leaves than the tree has"
    return value


def _build(tree: TreeDef, leaves: Iterator[Any]) -> Any:
    if tree.kind == "leaf":
        return next(leaves)
    items = [_build(c, leaves) for c in tree.children]
    if tree.kind == "dict":
        return dict(zip(tree.keys, items))
    if tree.kind == "list":
        return items
    if tree.kind == "tuple":
        return tuple(items)
    if tree.kind == "namedtuple":
        return tree.cls(*items)
    return tree.cls(**dict(zip(tree.keys, items)))


def _path_part(kind: str, keys: tuple[Any, ...], k: int) -> str:
    if kind == "dict":
        return f"[{keys[k]!r}]"
    if kind in ("namedtuple", "dataclass"):
        return f".{keys[k]}"
    return f"[{k}]"


def leaf_paths(tree: TreeDef, name: str) -> list[str]:
    """How each leaf is reached from a parameter called ``name`` (``params['W']``, ``layers[0][1]``)."""
    if tree.kind == "leaf":
        return [name]
    return [p for k, c in enumerate(tree.children) for p in leaf_paths(c, name + _path_part(tree.kind, tree.keys, k))]


def leaf_hints(tree: TreeDef, name: str) -> list[str]:
    """Identifier-like names for the leaves (``params_W``, ``layers_0_1``) for generated code."""
    out = []
    for path in leaf_paths(tree, name):
        text = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in path)
        out.append("_".join(p for p in text.split("_") if p) or name)
    return out


@dataclass
class FlatArgs:
    """A call's arguments flattened: ``leaves`` in order, each argument's structure (``None`` for
    a plain number or array), and which leaves belong to which argument."""

    leaves: list[Any]
    trees: list[TreeDef | None]
    spans: list[range]

    def leaf_positions(self, argnums: Sequence[int]) -> list[int]:
        return [k for i in argnums for k in self.spans[i]]

    def regroup(self, argnums: Sequence[int], values: Sequence[Any]) -> list[Any]:
        """Values for the leaves of ``argnums`` (in leaf order) put back into their arguments' trees."""
        out, it = [], iter(values)
        for i in argnums:
            chunk = [next(it) for _ in self.spans[i]]
            tree = self.trees[i]
            out.append(chunk[0] if tree is None else unflatten(tree, chunk))
        return out


def flatten_args(args: Sequence[Any], names: Sequence[str]) -> FlatArgs:
    leaves: list[Any] = []
    trees: list[TreeDef | None] = []
    spans: list[range] = []
    for a, name in zip(args, names):
        sub, tree = flatten(a, f"argument {name}")
        spans.append(range(len(leaves), len(leaves) + len(sub)))
        leaves += sub
        trees.append(None if tree.kind == "leaf" else tree)
    return FlatArgs(leaves, trees, spans)


def type_of_argument(value: Any) -> Type | TreeType:
    """The abstract type of a (converted) argument: a ``Type``, or a ``TreeType`` for a tree."""
    if not is_tree(value):
        return type_of(value)
    leaves, tree = flatten(value)
    return TreeType(tree, tuple(type_of(leaf) for leaf in leaves))


def call_key(value: Any) -> Any:
    """What a call's argument contributes to the key of its compiled runner: the structure, and
    each leaf's dtype and shape (arrays) or type."""
    leaves, tree = flatten(value)
    return tree, tuple((a.dtype.char, a.shape) if isinstance(a, np.ndarray) else type(a) for a in leaves)


def leaves_of(args: Sequence[Any]) -> list[Any]:
    """The leaves of every argument, in order (what the generated code takes)."""
    return [leaf for a in args for leaf in flatten(a)[0]]


def leaves_like(value: Any, tree: TreeDef, what: str) -> list[Any]:
    """The leaves of ``value`` read along ``tree`` (a function's returned structure): a cotangent
    given as a dict, list, tuple or object of that shape.  A mismatch is an error naming ``what``."""
    if tree.kind == "leaf":
        return [value]
    try:
        if tree.kind == "dict":
            if not isinstance(value, dict) or list(value) != list(tree.keys):
                raise TypeError
            items = [value[k] for k in tree.keys]
        elif tree.kind == "dataclass":
            items = [getattr(value, k) for k in tree.keys]
        else:
            items = list(value)
            if len(items) != len(tree.children):
                raise TypeError
    except (TypeError, AttributeError):
        raise DifferentiationError(f"{what} must have the structure of the function's output "
                                   f"({describe_tree(tree)}); got {type(value).__name__}") from None
    return [leaf for item, sub in zip(items, tree.children) for leaf in leaves_like(item, sub, what)]


def describe_tree(tree: TreeDef) -> str:
    """How a message names a structure."""
    if tree.kind == "dict":
        return f"a dict with keys {', '.join(map(repr, tree.keys))}"
    if tree.kind in ("namedtuple", "dataclass"):
        return f"a {tree.cls.__name__}"
    return f"a tuple of {len(tree.children)}"

"""The per-call fast path of adc's transforms: runners cached by call signature.

Input: a user function, a transform's name and a call's arguments.  Output: the runner made for
calls with that signature (argument types, dtypes, ranks, shapes and tree structures), while the
function's dependencies are current, or ``None`` (the caller then makes one on the checked path and
stores it).  A runner does only what depends on the values: every check, conversion decision,
compilation and layout that the signature decides is done once, when it is made.

What stays per call: the signature itself, ``Dependencies.current()`` (a global or closure the
function reads rebound, or a global array changed in rank or dtype, drops every runner of the
function), and reading global and closure arrays (``failures.with_captured``).  A redefined
function (a notebook cell run again) is a new function object, so it has runners of its own.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Hashable

import numpy as np

from .identity import Dependencies, dependencies
from .trees import flatten, is_tree

Runner = Callable[..., Any]
PLAIN = (float, int, bool)  # argument types whose class alone keys a runner
MAX_RUNNERS = 256  # per function and transform; more signatures than this start a new table


def signature(args: Any) -> tuple[tuple[Any, ...], list[Any]] | None:
    """The key of a call's arguments and their leaves (what the generated code takes), in one
    walk: each argument's class (a number), dtype and shape (an array), or structure and leaves'
    keys (a dict, list, tuple, namedtuple or dataclass).  ``None`` when a list of numbers (an array
    whose shape only converting it tells) is among them: such calls take the checked path."""
    leaves: list[Any] = []
    key = _keys(args, leaves)
    return None if key is None else (key, leaves)


def _keys(items: Any, leaves: list[Any]) -> tuple[Any, ...] | None:
    """The keys of ``items`` (their leaves appended to ``leaves``), or ``None``."""
    keys = []
    for item in items:
        part = _key(item, leaves)
        if part is None:
            return None
        keys.append(part)
    return tuple(keys)


def _key(a: Any, leaves: list[Any]) -> Any:
    kind = type(a)
    if kind is np.ndarray:
        leaves.append(a)
        return a.dtype.char, a.shape
    if kind in PLAIN:
        leaves.append(a)
        return kind
    if kind is dict and all(type(k) is str for k in a):
        parts = _keys(a.values(), leaves)
        return None if parts is None else (dict, tuple(a), parts)
    if kind is list or kind is tuple:
        parts = _keys(a, leaves) if is_tree(a) else None  # numbers only: one array
        return None if parts is None else (kind, parts)
    sub, tree = flatten(a)  # namedtuples, dataclasses, NumPy scalars; a wrong argument fails later
    if any(type(leaf) is list or type(leaf) is tuple for leaf in sub):
        return None
    leaves += sub
    return tree, tuple((v.dtype.char, v.shape) if isinstance(v, np.ndarray) else type(v) for v in sub)


class Runners:
    """The runners of one transform of one function, by signature, with the ``Dependencies`` they
    were made under."""

    __slots__ = ("fn", "deps", "table", "on_forget")

    def __init__(self, fn: Callable[..., Any], on_forget: Callable[[], None] | None = None) -> None:
        self.fn = fn
        self.deps: Dependencies | None = None
        self.table: dict[Hashable, Runner] = {}
        self.on_forget = on_forget  # also undone when the runners are dropped (``grad``'s fast path)

    def get(self, key: Hashable) -> Runner | None:
        """The runner for ``key`` if the function still reads what it was made with."""
        runner = self.table.get(key)
        if runner is not None and self.deps is not None and self.deps.current():
            return runner
        if runner is not None:
            self.forget()
        return None

    def dependencies(self) -> Dependencies:
        """What the runners are made under (read when the first one is made); runners made under
        values since rebound are dropped first, so that none is kept beside a newer one."""
        if self.deps is not None and not self.deps.current():
            self.forget()
        if self.deps is None:
            self.deps = dependencies(self.fn)
        return self.deps

    def put(self, key: Hashable, runner: Runner) -> None:
        if len(self.table) >= MAX_RUNNERS:
            self.table.clear()
        self.table[key] = runner

    def forget(self) -> None:
        self.table.clear()
        self.deps = None
        if self.on_forget is not None:
            self.on_forget()


class Cache:
    """``Runners`` per (function, transform options).  Keyed weakly, but a runner refers to its
    function (as ``pipeline``'s cache of compiled derivatives does), so a function that has been
    called through a transform stays alive with its runners."""

    def __init__(self) -> None:
        self.by_fn: weakref.WeakKeyDictionary[Any, dict[Hashable, Runners]] = weakref.WeakKeyDictionary()

    def runners(self, fn: Any, options: Hashable) -> Runners | None:
        """The runners of ``fn`` under ``options`` (``None`` if ``fn`` cannot be held weakly)."""
        try:
            per_fn = self.by_fn.get(fn)
            if per_fn is None:
                per_fn = self.by_fn[fn] = {}
        except TypeError:
            return None
        found = per_fn.get(options)
        if found is None:
            found = per_fn[options] = Runners(fn)
        return found


def cached_call(cache: Cache, fn: Any, options: Hashable, key: Hashable | None,
                make: Callable[[], Runner], *args: Any) -> Any:
    """Call the runner of ``fn`` for ``key`` with ``args``, made by ``make()`` (the checked path)
    on a miss; ``key=None`` (a call the signature cannot describe) always takes the checked path."""
    runners = cache.runners(fn, options) if key is not None else None
    runner = runners.get(key) if runners is not None else None
    if runner is not None:
        return runner(*args)
    runner = make()  # checks the function and the arguments first
    if runners is not None:
        runners.dependencies()
    result = runner(*args)  # compiles under jit; a failure surfaces here, before it is stored
    if runners is not None:
        runners.put(key, runner)
    return result

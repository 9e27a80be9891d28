"""The front end's lexicon, generated from the registry: which Python objects (``math.sin``,
``np.maximum``, ``abs``) lower to which primitive, which ``np.<name>`` functions and ``x.<name>()``
methods the array front end lowers through which handler, and how many positional arguments each
handler takes.  Nothing here is written by hand: a primitive's ``names`` are the only source.
"""
from __future__ import annotations

import builtins
import importlib
import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from . import PRIMS
from .registry import Primitive, Spelling

METHOD = "ndarray"  # the module part of a method's path: ``ndarray.sum`` is ``x.sum()``
_MODULES = {"math": math, "numpy": np, "builtins": builtins}


@dataclass(frozen=True)
class Call:
    """A Python callable that lowers to a plain call of primitive ``name``."""

    name: str
    variadic: bool = False


def spellings() -> Iterator[tuple[Primitive, Spelling]]:
    """Every name of every primitive, in registration order."""
    for p in PRIMS:
        for s in p.names:
            yield p, s


def resolve(path: str) -> Any:
    """The Python object a ``module.name`` path names (``numpy.sin`` → ``np.sin``)."""
    module, _, attr = path.rpartition(".")
    return getattr(_MODULES.get(module) or importlib.import_module(module), attr)


def functions() -> dict[Any, Call]:
    """Python callables lowered to a call of their primitive (``math.sin``, ``np.zeros``, ``abs``)."""
    return {resolve(s.path): Call(p.name, s.variadic) for p, s in spellings() if s.arity is None}


def _handlers(methods: bool) -> dict[str, str]:
    return {s.attr: s.handler for _, s in spellings()
            if s.arity is not None and (s.module == METHOD) == methods}


def numpy_functions() -> dict[str, str]:
    """``np.<name>`` → the array front end's handler."""
    return _handlers(methods=False)


def array_methods() -> dict[str, str]:
    """``x.<name>(...)`` → the array front end's handler."""
    return _handlers(methods=True)


def arities() -> dict[str, tuple[int, int]]:
    """Each array handler's (least, most) positional arguments, the array of a method counted."""
    return {s.handler: s.arity for _, s in spellings() if s.arity is not None}


def handlers_of(name: str) -> frozenset[str]:
    """The array handlers that lower to primitive ``name`` (``transpose``, ``swapaxes`` ...)."""
    return frozenset(s.handler for s in PRIMS.get(name).names if s.arity is not None)

"""Which functions adc made, and by which transform.

A function made by ``adc.grad``, ``adc.jacrev``, ... is registered here, by identity: a user's
decorator that copies its attributes with ``functools.wraps`` (``__dict__`` included) makes a
function adc did not make, which adc reads through its source like any other wrapper, and never
takes for the adc-made function it wraps (that would drop what the decorator adds).
"""
from __future__ import annotations

import weakref
from typing import Any

_made: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


def mark(fn: Any, transform: str) -> Any:
    """Register ``fn`` as made by ``transform`` (``"adc.grad"``, ...); ``__adc_transform__`` shows it."""
    fn.__adc_transform__ = transform
    _made[fn] = transform
    return fn


def made_mark(fn: Any) -> str | None:
    """The transform that made ``fn``, or ``None`` for a function adc did not make."""
    try:
        return _made.get(fn)
    except TypeError:  # not weakly referable, or unhashable: not made by adc
        return None

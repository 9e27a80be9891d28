"""The exceptions adc raises.  Every error a user can cause derives from ``AdcError``.

Input: a message, optionally a source location and a hint.  Output: an exception whose text names
the file, line and column, shows the offending line with a caret, and says what to do instead.
"""
from __future__ import annotations

from .ir import Loc


class AdcError(Exception):
    """Base class of every error adc raises on purpose."""


class UnsupportedError(AdcError):
    """The function uses a construct adc cannot differentiate (yet)."""

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None) -> None:
        self.message, self.loc, self.hint = message, loc, hint
        super().__init__(format_located(message, loc, hint))


class SourceError(AdcError):
    """The function's source cannot be found or parsed."""


class DifferentiationError(AdcError):
    """The request itself is wrong: a non-scalar output for ``grad``, a bad ``argnums`` ..."""


class CompileError(AdcError):
    """The generated code could not be compiled (for example by Numba with ``jit=True``)."""


def format_located(message: str, loc: Loc | None, hint: str | None = None) -> str:
    if loc is None:
        text = message
    else:
        caret = " " * loc.col + "^"
        text = f"{loc.filename}:{loc.line}:{loc.col + 1}: {message}\n    {loc.text.rstrip()}\n    {caret}"
    if hint:
        text += f"\nhint: {hint}"
    return text

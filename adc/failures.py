"""Run-time failures of generated code, reported as located adc errors.

Input: a compiled derivative, the arguments it was called with, and the exception it raised.
Output: an ``EvaluationError`` (also an instance of the exception's own class, the original
chained) naming the user's file, line and column: where the user's function itself raises at these
arguments, or else the user line the failing generated statement came from (read from the
``# from line N:`` comments of the lecture layout of the same derivative).  Numba's compilation
failures on a first call become a ``CompileError``.
"""
from __future__ import annotations

import dataclasses
import linecache
from collections.abc import Mapping
import re
import warnings

import numpy as np
from typing import Any, Sequence

from .arguments import call_flat
from .errors import AdcError, CompileError, DifferentiationError, EvaluationError, ParallelFallbackWarning
from .ir import Loc, walk
from .pipeline import Compiled, checked_version, compile_derivative
from .prims.kernels import IndicesMayBeOutOfRange


def run_generated(compiled: Compiled, args: Sequence[Any]) -> Any:
    """Run the generated code; whatever it raises comes back as an adc error (see ``report``).
    The global and closure arrays the function reads are passed after its arguments' inputs, as
    they are now.  Where its guard of indices fails or Numba's parallel compilation fails, other
    code runs instead (``recover``)."""
    call_args = with_captured(compiled, args)
    try:
        return compiled.func(*call_args)
    except Exception as exc:
        return recover(compiled, exc, call_args, args)


def recover(compiled: Compiled, exc: Exception, call_args: Sequence[Any], args: Sequence[Any],
            failing: Any = None) -> Any:
    """The result of ``compiled``'s derivative where its code (``failing``: the function that ran,
    by default ``compiled.func``) raised ``exc``: where the guard of its unchecked indices failed,
    that of its bounds-checked version (``bounds.py``); where Numba's parallel compilation failed,
    that of the same code compiled without it (``without_parallel``); each of which may fail the
    other way in turn.  Anything else is reported (``failed``)."""
    if out_of_range_guard(compiled, exc):
        checked = checked_version(compiled, "parallel" if is_parallel(compiled.func) else True)
        try:
            return checked.func(*call_args)
        except Exception as again:
            return recover(checked, again, call_args, args)
    if parallel_failure(compiled.func if failing is None else failing, exc):
        return without_parallel(compiled, exc, call_args, args)
    failed(compiled, exc, args)


def out_of_range_guard(compiled: Compiled, exc: Exception) -> bool:
    """Did ``compiled``, which runs without bounds checks, find on entry that an index might be out of
    range (``bounds.py``)?"""
    return compiled.unchecked and isinstance(exc, IndicesMayBeOutOfRange)


def is_parallel(func: Any) -> bool:
    """Was ``func`` compiled by Numba with ``parallel=True`` (``jit="parallel"``)?"""
    return bool(getattr(func, "targetoptions", {}).get("parallel"))


def parallel_failure(func: Any, exc: Exception) -> bool:
    """Is ``exc`` Numba's parallel compilation of ``func`` failing (an internal assertion, say), or
    its parallel code's own run-time check (``Sizes of ... do not match``: arrays it cannot
    broadcast)?  The generated code has no ``assert`` of its own (user code cannot have one)."""
    return is_parallel(func) and (type(exc).__module__.startswith("numba") or raised_in_numba(exc)
                                  or isinstance(exc, AssertionError))


def without_parallel(compiled: Compiled, exc: Exception, call_args: Sequence[Any], args: Sequence[Any]) -> Any:
    """Run the code of ``compiled``, whose parallel compilation failed with ``exc``, compiled as with
    ``jit=True`` (its bounds-checked version where its guard fails: ``recover``).  If that runs, it
    replaces ``compiled.func`` (and its checked version) from now on, with one
    ``ParallelFallbackWarning``; if it fails too, that failure is reported (as ``jit=True``'s) and
    ``compiled`` is left as it was."""
    from . import backend

    serial = dataclasses.replace(compiled, func=backend.load(compiled.source, compiled.program.name, True,
                                                             compiled.unchecked), checked=None)
    try:
        result = serial.func(*call_args)
    except Exception as again:
        if not out_of_range_guard(serial, again):
            failed(serial, again, args)
        result = recover(serial, again, call_args, args)
    first = (str(exc).strip().splitlines() or [""])[0][:160]
    prog = compiled.primal  # the warning points at the user's function
    warnings.warn_explicit(f"adc: Numba's parallel compilation of the generated {compiled.program.name} failed "
                           f"({type(exc).__name__}: {first}); it runs compiled as with jit=True instead",
                           ParallelFallbackWarning, prog.filename, prog.firstline)
    compiled.func, compiled.checked = serial.func, serial.checked
    return result


def failed(compiled: Compiled, exc: Exception, args: Sequence[Any]) -> Any:
    """Raise what the generated code of ``compiled`` raised when called with ``args`` as adc
    reports it: an adc error as it is, a Numba typing or lowering problem (on the first call of
    a signature) as a ``CompileError``, anything else through ``report``."""
    if isinstance(exc, AdcError):
        raise exc
    compiled_by_numba = dispatcher_type() is not type(None) and isinstance(compiled.func, dispatcher_type())
    if type(exc).__module__.startswith("numba") or (
            compiled_by_numba and (isinstance(exc, ImportError) or raised_in_numba(exc))):
        raise CompileError(numba_message(compiled, exc)) from None
    report(compiled, exc, args)


def raised_in_numba(exc: BaseException) -> bool:
    """Was ``exc`` raised inside Numba's own code (its compiler failing on a first call, say with an
    ``AssertionError``), rather than by the compiled code, which runs with no Python frame?"""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module == "numba" or module.startswith("numba."):
            return True
        tb = tb.tb_next
    return False


def report(compiled: Compiled, exc: Exception, args: Sequence[Any]) -> Any:
    """Raise ``exc`` (raised by the generated code of ``compiled`` called with ``args``) as an
    ``EvaluationError`` that names the user's line it came from and is also an instance of the
    exception's own class; the original is chained, and the traceback ends where it was raised.
    When the user's function itself fails at these arguments with another exception, its own is
    the one reported (``math.log(0.0)``: the ``ValueError`` the function raises, not the
    ``ZeroDivisionError`` of the derivative ``1.0 / x``)."""
    fn = compiled.fn
    name = getattr(fn, "__name__", compiled.primal.name)
    own = _own_failure(compiled, user_arguments(compiled, args))
    if own is not None and isinstance(own[1], AdcError):
        raise own[1]  # a function adc made (``adc.grad(f)``) failing: its error already names f's line
    if own is not None:  # the function itself fails here: report its own exception (math.log(0): ValueError)
        loc, own_exc = own
        if type(own_exc) is not type(exc):
            exc = own_exc
        message = f"{_reason(exc)} (raised by {name} itself at these arguments, in this line)"
        hint = f"{name}(...) raises this when called with these arguments"
    else:
        what = {"jvp": "forward-mode derivative", "vjp": "reverse-mode derivative", "hvp": "Hessian-vector product"}.get(compiled.kind, "gradient")
        message = f"{_reason(exc)} (raised by the {what} of this line; {name} itself runs at these arguments)"
        loc = _user_line_by_rerun(compiled, args) or _user_line(compiled, exc) or _definition(compiled)
        hint = _known_hint(exc) or _numpy_math_hint(exc, loc) or (
            "the derivative of this line is not defined at these arguments (for example sqrt, or a "
            "power below 1, at 0): evaluate the derivative at another point")
    error = EvaluationError.like(exc)(message, loc, hint)
    raise error.with_traceback(exc.__traceback__) from exc


_BROADCAST_HINT = (
    "an array here has length 1 along an axis only when the code runs (a slice such as x[:n] with "
    "n == 1), and adc decides which axes broadcast when it compiles, so the adjoint is not summed "
    "over that axis: make the axis known to have length 1 (x[i:i + 1], x[0, None], keepdims=True, a "
    "literal 1 in reshape) or use mode='forward'")


_SQUEEZE_HINT = (
    "adc decides when it compiles which axes np.squeeze() without axis drops: those known to have "
    "length 1 (x[:, :1], x[:, None], keepdims=True); name the axes to drop: np.squeeze(x, axis=0)")

# run-time errors of generated code that a shape known only at run time explains: a part of the
# message (NumPy's, or that of a check in ``adc_arrays``), and what to write instead
_SHAPE_HINTS = (("non-broadcastable output operand", _BROADCAST_HINT),  # an adjoint added into another shape
                ("np.squeeze() without axis", _SQUEEZE_HINT))  # adc_arrays.sole_index


_NUMPY_MATH_HINT = (
    "adc computes np.sin, np.cos and np.tan of a number with Python's math module, which raises for an "
    "infinite argument where NumPy returns nan (NumPy's other functions of a number keep NumPy's inf and "
    "nan): evaluate at a finite point, pass the number in an array, or use jit=True (Numba's math "
    "functions return nan)")


_NUMPY_FLOAT_HINT = (
    "NumPy's functions of a number return NumPy floats, on which / gives inf or nan; adc follows them "
    "through the function, but a NumPy float passed to a function adc keeps as a function (a recursive "
    "one, or one called from many places) or to the function itself, or read from a global, is a "
    "Python float there, on which / raises: write np.divide(a, b) "
    "there, pass the number in an array, or use jit=True (Numba's / returns inf and nan)")
_COMPLEX_POWER_HINT = (
    "Python's ** of a negative float to a power that is not an integer is a complex number, which adc "
    "does not differentiate (its code computes the power with math.pow, which raises there; a NumPy "
    "number that adc computes as a Python float raises too): keep the base at least 0, or write "
    "np.power(x, y), which gives NumPy's nan")
_OVERFLOW_HINT = (
    "a number overflowed, which raises on Python floats where NumPy's give inf: pass the number in "
    "an array, or use jit=True (Numba's arithmetic returns inf)")


def _numpy_math_hint(exc: BaseException, loc: Loc | None) -> str | None:
    """The hint for ``math``'s domain error on a line that calls ``np.sin``, ``np.cos`` or
    ``np.tan`` (``np.sin(inf)``: NumPy's nan, where the generated ``math.sin`` raises), for Python's
    division by zero on a line that calls NumPy (``1.0 / np.sqrt(0.0)``: inf of a NumPy float), for
    a power that would be complex (``math.pow`` raises), and for an overflow, else ``None``."""
    if loc is None:
        return None
    if isinstance(exc, ValueError) and str(exc) == "math domain error" \
            and re.search(r"\b(np|numpy)\.(sin|cos|tan)\(", loc.text):
        return _NUMPY_MATH_HINT
    if isinstance(exc, ValueError) and str(exc) == "math domain error" and re.search(r"\*\*|\bpow\(", loc.text):
        return _COMPLEX_POWER_HINT
    if isinstance(exc, ZeroDivisionError) and re.search(r"\b(np|numpy)\.\w+\(", loc.text):
        return _NUMPY_FLOAT_HINT
    if isinstance(exc, OverflowError):
        return _OVERFLOW_HINT
    return None


def _known_hint(exc: BaseException) -> str | None:
    """The hint for a ``ValueError`` of ``_SHAPE_HINTS``, else ``None``."""
    if isinstance(exc, ValueError):
        return next((hint for part, hint in _SHAPE_HINTS if part in str(exc)), None)
    return None


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def with_captured(compiled: Compiled, args: Sequence[Any]) -> Sequence[Any]:
    """``args`` (the inputs of the arguments, then tangents or cotangents) with the current value
    of every global and closure array the function reads inserted after the arguments' inputs."""
    captured = compiled.primal.captured
    if not captured:
        return args
    params = compiled.primal.params
    k = len(params) - len(captured)
    values = []
    for (holder, name), param in zip(captured, params[k:]):
        value = holder.get(name) if isinstance(holder, Mapping) else holder.cell_contents
        if not isinstance(value, np.ndarray) or value.ndim != param.type.ndim or str(value.dtype) != param.type.dtype:
            raise DifferentiationError(f"the global or closure array `{name}` changed its rank or dtype in place since "
                                       f"{getattr(compiled.fn, '__name__', 'the function')} was compiled (it was "
                                       f"{param.type}); rebind it to a new array instead")
        values.append(value)
    return [*args[:k], *values, *args[k:]]


def user_arguments(compiled: Compiled, args: Sequence[Any]) -> list[Any]:
    """The user's arguments behind the generated code's leading ``args`` (tree arguments rebuilt
    from their leaves; derivative inputs such as tangents dropped)."""
    from .trees import TreeType, unflatten

    out: list[Any] = []
    k = 0
    for t in compiled.types or [None] * len(compiled.primal.params):
        if isinstance(t, TreeType):
            out.append(unflatten(t.tree, args[k:k + len(t.leaves)]))
            k += len(t.leaves)
        else:
            out.append(args[k])
            k += 1
    return out


def _own_failure(compiled: Compiled, args: list[Any]) -> tuple[Loc, Exception] | None:
    """Where the user's function, called with ``args``, raises, and what (``None`` if it does
    not): the innermost frame in one of the files the program was read from."""
    fn = compiled.fn
    if fn is None:
        return None
    try:
        call_flat(fn, args)
    except Exception as exc:
        return _where(compiled, exc), exc
    return None


def _where(compiled: Compiled, exc: Exception) -> Loc:
    """The innermost frame of ``exc``'s traceback in the files the program was read from."""
    files = {compiled.primal.filename} | {op.loc.filename for op in walk(compiled.primal.body) if op.loc}
    found = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in files:
            found = (code, tb.tb_lineno, tb.tb_lasti)
        tb = tb.tb_next
    if found is None:
        return _definition(compiled)
    code, line, lasti = found
    text = linecache.getline(code.co_filename, line).rstrip("\n")
    positions = list(code.co_positions())
    col = positions[lasti // 2][2] if 0 <= lasti // 2 < len(positions) else None
    return Loc(code.co_filename, line, col if col is not None else len(text) - len(text.lstrip()), text)


def report_user_failure(compiled: Compiled, args: Sequence[Any], problem: str) -> Any:
    """The generated code ran, but its result cannot be what ``fn`` computes (``problem``): the
    user's function itself fails at these arguments (an operation the derivative does not need
    to run); report that failure (``report``), or, should it not fail, the problem."""
    try:
        call_flat(compiled.fn, user_arguments(compiled, args))  # type: ignore[arg-type]
    except Exception as exc:
        report(compiled, exc, args)
    raise DifferentiationError(problem)


def _user_line(compiled: Compiled, exc: BaseException) -> Loc | None:
    """The user's line behind the generated line where ``exc`` was raised, read from the
    ``# from line N: <source>`` comment heading that generated statement."""
    code = getattr(compiled.func, "__code__", None)
    if code is None:
        return None
    number = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == code.co_filename:
            number = tb.tb_lineno
        tb = tb.tb_next
    if number is None:
        return None
    for text in reversed(compiled.source.splitlines()[:number]):
        text = text.strip()
        if text.startswith("# from line "):
            line, _, source = text[len("# from line "):].partition(": ")
            return _located(compiled, int(line), source)
        if text.startswith(("#", "def ")):  # a section comment (``# reverse sweep``) or the top
            return None
    return None


def _located(compiled: Compiled, line: int, source: str) -> Loc:
    """The ``Loc`` of the user's line ``line`` (whose text is ``source``): its file is the one an
    operation of the program records for that line (helpers may live in other files)."""
    filename = compiled.primal.filename
    for op in walk(compiled.primal.body):
        if op.loc is not None and op.loc.line == line and op.loc.text.strip() == source.strip():
            filename, source = op.loc.filename, op.loc.text
            break
    return Loc(filename, line, len(source) - len(source.lstrip()), source)


def _user_line_by_rerun(compiled: Compiled, args: Sequence[Any]) -> Loc | None:
    """Where the lecture layout (one block per user statement, each with its ``# from line``
    comment) of the same derivative raises, run as plain Python with ``args``."""
    if compiled.fn is None:
        return None
    types = compiled.types or tuple(p.type for p in compiled.primal.params)
    try:
        lecture = compile_derivative(compiled.fn, types, compiled.kind, compiled.wrt, jit=False, compact=False)
        lecture.func(*with_captured(lecture, args))
    except AdcError:
        return None
    except Exception as exc:
        return _user_line(lecture, exc)
    return None


def _definition(compiled: Compiled) -> Loc:
    """The ``def`` line of the function (when no better line is known)."""
    prog = compiled.primal
    text = linecache.getline(prog.filename, prog.firstline) or f"def {prog.name}(...):"
    return Loc(prog.filename, prog.firstline, 0, text.rstrip("\n"))


def numba_message(compiled: Compiled, exc: BaseException) -> str:
    """A one-paragraph account of a Numba failure: which generated line, which user line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # Numba's highlighting (terminal colour codes)
    lines_ = [line.strip() for line in text.splitlines() if line.strip()]
    generic = ("Failed in ", "During:", "File ", "^", "Resolution failure", "This error may have been")
    reasons = [line for line in lines_ if not line.startswith(generic)]
    first = (reasons or lines_ or [type(exc).__name__])[0]
    where = ""
    lines = compiled.source.splitlines()
    for match in re.finditer(r'File "([^"]+)", line (\d+)', text):
        if "adc_" not in match.group(1):
            continue
        number = int(match.group(2))
        if 0 < number <= len(lines):
            code = lines[number - 1].strip()
            origin = next((l.strip()[2:] for l in reversed(lines[:number]) if l.strip().startswith("# from line")), "")
            where = f" at generated line {number} `{code}`" + (f" ({origin})" if origin else "")
    instead = ("jit=True (the same code without Numba's parallel compilation) or jit=False" if is_parallel(compiled.func)
               else "jit=False")
    return (f"Numba could not compile the generated {compiled.program.name}{where}: "
            f"{type(exc).__name__}: {first}\nhint: call with {instead} (the same generated code runs as "
            f"plain Python), or look at it with adc.source(..., compact=True)")


def dispatcher_type() -> type:
    try:
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # pragma: no cover
        return type(None)
    return Dispatcher

"""The exceptions adc raises.  Every error a user can cause derives from ``AdcError``.

Input: a message, optionally a source location and a hint.  Output: an exception whose text names
the file, line and column, shows the offending line with a caret, and says what to do instead.
"""
from __future__ import annotations

from .ir import Loc


class AdcError(Exception):
    """Base class of every error adc raises on purpose.

    Catch it to handle any problem adc reports (an unsupported construct, a bad request, a failure
    of the generated code); anything else escaping adc is a bug.

    Example:
        >>> import adc
        >>> def f(x):
        ...     return x * x
        >>> try:
        ...     adc.grad(f, mode="sideways")
        ... except adc.AdcError as e:
        ...     print(type(e).__name__, e)
        DifferentiationError mode must be 'reverse' or 'forward', got 'sideways'
    """


class UnsupportedError(AdcError):
    """The function uses a construct adc cannot differentiate (yet).

    Raised before any code runs; the text names the file, line and column, shows the line with a
    caret, and ends with a hint.  ``message``, ``loc`` and ``hint`` are also attributes.

    Example:
        >>> import adc
        >>> def g(x):
        ...     return x + str(x)
        >>> adc.grad(g)(1.0)
        Traceback (most recent call last):
          ...
        adc.errors.UnsupportedError: <doctest adc.errors.UnsupportedError[1]>:2:16: unsupported builtin `str`
                return x + str(x)
                           ^
        hint: adc knows the math/NumPy functions listed in docs/language.md, numbers, and module-level functions
    """

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None) -> None:
        self.message, self.loc, self.hint = message, loc, hint
        super().__init__(format_located(message, loc, hint))


class SourceError(AdcError):
    """The function's source cannot be found or parsed, or its file changed after import.

    Example:
        >>> import adc
        >>> namespace = {}
        >>> exec("def f(x):\\n    return x * x\\n", namespace)
        >>> adc.grad(namespace["f"])
        Traceback (most recent call last):
          ...
        adc.errors.SourceError: cannot read the source of 'f': it was made from a string (`python -c`, or `exec`/`compile` of text); adc differentiates a function by reading its source
        hint: define it in a .py file and import it, or in a Jupyter/IPython cell (adc reads cells); for code made as a string, write the text to a file and import that (or register it with linecache under the file name passed to compile)
    """


class DifferentiationError(AdcError):
    """The request itself is wrong: a non-scalar output for ``grad``, a bad ``argnums`` ...

    Example:
        >>> import adc
        >>> def pair(x):
        ...     return x, 2.0 * x
        >>> adc.grad(pair)(1.0)
        Traceback (most recent call last):
          ...
        adc.errors.DifferentiationError: grad needs pair to return a scalar, but it returns a tuple of 2; use adc.vjp or adc.jacrev for vector outputs
    """


class CompileError(AdcError):
    """The generated code could not be compiled (for example by Numba with ``jit=True``).

    Numba reports typing problems on the first call; adc quotes the generated line and the user's
    line it came from.  The same function usually works with ``jit=False``.

    Example:
        ```python
        try:
            g = adc.grad(f, jit=True)(x)
        except adc.CompileError:
            g = adc.grad(f)(x)  # plain Python: the same derivative, not compiled
        ```
    """


def format_located(message: str, loc: Loc | None, hint: str | None = None) -> str:
    if loc is None:
        text = message
    else:
        # under the column, with the line's own tabs so that it lines up wherever tabs are expanded
        caret = "".join(c if c == "\t" else " " for c in loc.text[:loc.col]) + "^"
        text = f"{loc.filename}:{loc.line}:{loc.col + 1}: {message}\n    {loc.text.rstrip()}\n    {caret}"
    if hint:
        text += f"\nhint: {hint}"
    return text


class EvaluationError(AdcError):
    """Running the generated code raised an exception.  The text names the user's line that the
    failing generated statement came from; the original exception is chained (``__cause__``).
    ``EvaluationError.like(exc)`` is also an instance of the original exception's class, so
    ``except ZeroDivisionError`` around a call still catches it.

    Example:
        >>> import math, adc
        >>> def q(x):
        ...     return math.sqrt(x)
        >>> try:
        ...     adc.grad(q)(-1.0)
        ... except ValueError as e:  # also an adc.EvaluationError
        ...     print(isinstance(e, adc.EvaluationError), str(e).splitlines()[0])
        True <doctest adc.errors.EvaluationError[1]>:2:12: ValueError: math domain error (raised by q itself at these arguments, in this line)
    """

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None) -> None:
        self.message, self.loc, self.hint = message, loc, hint
        self.text = format_located(message, loc, hint)
        Exception.__init__(self, self.text)

    def __str__(self) -> str:
        return self.text

    @staticmethod
    def like(exc: BaseException) -> type["EvaluationError"]:
        """The subclass of ``EvaluationError`` and of ``type(exc)`` (or ``EvaluationError`` itself
        when the two cannot be combined)."""
        base = type(exc)
        cls = _evaluation_classes.get(base)
        if cls is None:
            try:
                cls = type(f"EvaluationError[{base.__name__}]", (EvaluationError, base), {})
                cls("probe")
            except Exception:
                cls = EvaluationError
            _evaluation_classes[base] = cls
        return cls


_evaluation_classes: dict[type, type[EvaluationError]] = {}


def transform_problem(fn: object) -> tuple[str, str] | None:
    """Why adc cannot differentiate ``fn`` as its source reads (message, hint), or ``None``.

    A function made by ``adc.grad``/``adc.value_and_grad`` is transformed through its derivative
    program (``compose.py``); other adc-made functions are refused there.  A function wrapped by a
    decorator (``functools.wraps`` sets ``__wrapped__``) computes what the decorator makes of the
    source that ``inspect`` would show."""
    name = getattr(fn, "__name__", type(fn).__name__)
    from .marks import made_mark

    if made_mark(fn) is not None:
        from .compose import problem

        return problem(fn)
    inner = getattr(fn, "__wrapped__", None)
    library = str(getattr(fn, "__module__", None) or "").split(".")[0] in ("numpy", "scipy")
    if inner is not None and not library and not _readable_wrapper(fn):  # NumPy wraps its own functions
        # (np.cumsum): not a user's decorator; a user's wrapper whose source adc reads is differentiated as it reads
        return (f"{name} is wrapped by a decorator ({_decorator_name(fn)}); adc would differentiate the "
                "undecorated function",
                f"write what the decorator does into the function itself, or, if the decorator does not "
                f"change what {name} computes, pass {name}.__wrapped__")
    return None


def _readable_wrapper(fn: object) -> bool:
    from .frontend import readable_wrapper

    return readable_wrapper(fn)


def _decorator_name(fn: object) -> str:
    """The decorator that made ``fn``, read from its inner function's qualified name."""
    qualname = getattr(getattr(fn, "__code__", None), "co_qualname", "") or ""
    outer = qualname.split(".<locals>.")[0] if ".<locals>." in qualname else ""
    return outer or "unknown decorator"


class ParallelFallbackWarning(UserWarning):
    """``jit="parallel"``: Numba's parallel compiler failed on a derivative, which runs compiled as
    with ``jit=True`` instead (said once per derivative, with Numba's message).  The answer is the
    same; only the fused loops are lost.

    Example:
        ```python
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", adc.ParallelFallbackWarning)  # parallel where Numba can
            g = adc.grad(f, jit="parallel")(x)
        ```
    """


class InternalError(AdcError):
    """adc itself failed (a bug in adc, not in the user's function); names the function.

    The text is located at the function's ``def`` line and suggests the other mode or
    ``jit=False`` meanwhile; please report it with the function.

    Example:
        ```python
        try:
            g = adc.grad(f)(x)
        except adc.InternalError as e:
            print(e)                              # which function, which stage, the cause
            g = adc.grad(f, mode="forward")(x)    # the other mode may work meanwhile
        ```
    """


def internal_error(fn: object, stage: str, exc: BaseException) -> InternalError:
    """An ``InternalError`` for ``exc``, raised by adc while ``stage`` (e.g. "compiling the
    gradient of") the function ``fn``: located at its ``def`` line."""
    import linecache

    code = getattr(fn, "__code__", None)
    name = getattr(fn, "__name__", type(fn).__name__)
    loc = None
    if code is not None:
        text = linecache.getline(code.co_filename, code.co_firstlineno).rstrip("\n")
        loc = Loc(code.co_filename, code.co_firstlineno, len(text) - len(text.lstrip()), text)
    message = f"adc failed while {stage} {name}: {type(exc).__name__}: {exc} (a bug in adc)"
    hint = ("please report it with this function; meanwhile the other mode (mode='forward' or "
            "mode='reverse') or jit=False may work")
    return InternalError(format_located(message, loc, hint))


def no_source(fn: object, reason: BaseException) -> SourceError:
    """The ``SourceError`` for a function whose source text Python did not keep: says where the
    function came from (``python -c``, ``exec`` of a string, the plain interactive prompt, a file
    since deleted) and what works instead."""
    import os

    name = getattr(fn, "__name__", repr(fn))
    filename = getattr(getattr(fn, "__code__", None), "co_filename", "") or ""
    if filename == "<string>":
        where = "it was made from a string (`python -c`, or `exec`/`compile` of text)"
    elif filename == "<stdin>":
        where = "it was typed at the plain `python` prompt (or piped to `python -`)"
    elif filename.startswith("<") and filename.endswith(">"):
        where = f"it was compiled from text named {filename}, which is not a file"
    elif filename and not os.path.exists(filename):
        where = f"its file {filename} no longer exists"
    else:
        where = f"Python has no source text for it ({reason})"
    return SourceError(
        f"cannot read the source of {name!r}: {where}; adc differentiates a function by reading its source\n"
        "hint: define it in a .py file and import it, or in a Jupyter/IPython cell (adc reads cells); for code "
        "made as a string, write the text to a file and import that (or register it with linecache under the "
        "file name passed to compile)")


def written_name(node: object) -> str:
    """The name as the user wrote it: ``W`` for a name node, ``np.linalg.det`` for an attribute
    chain (read from libcst nodes by their ``value``/``attr`` fields)."""
    value = getattr(node, "value", None)
    if isinstance(value, str):
        return value
    attr = getattr(getattr(node, "attr", None), "value", None)
    base = written_name(value) if value is not None else ""
    return f"{base}.{attr}" if base and attr else str(attr or "?")


def unsupported_value(obj: object, node: object, fn: object, closure: dict[str, object]) -> tuple[str, str]:
    """(message, hint) for a name in ``fn`` whose value adc cannot use: it names the variable the
    user wrote, where it comes from (global, closure, builtin, module attribute) and what it holds,
    and the hint is a rewrite that works."""
    import numpy as np

    name = written_name(node)
    fn_name = getattr(fn, "__name__", "f")
    plain = isinstance(getattr(node, "value", None), str)
    if plain and name in closure:
        where = "a closure variable"
    elif plain and name in getattr(fn, "__globals__", {}):
        where = "a global variable"
    elif plain:
        return (f"unsupported builtin `{name}`",
                "adc knows the math/NumPy functions listed in docs/language.md, numbers, and module-level functions")
    else:
        where = "a module attribute"
    if isinstance(obj, np.ndarray):
        import inspect

        try:
            params = list(inspect.signature(fn).parameters)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            params = ["x"]
        param = name.rsplit(".", 1)[-1]
        return (f"`{name}` is {where} holding a NumPy array ({obj.dtype}, shape {obj.shape}); adc reads numbers, "
                "modules and functions from globals and closures, not arrays",
                f"make it a parameter, `def {fn_name}({', '.join(params + [param])})`, and pass the array in each "
                f"call: adc.grad({fn_name})({', '.join(params)}, {name}) (argnums=0, the default, keeps it out of "
                "the gradient)")
    if not plain:
        return (f"unsupported function `{name}`" if callable(obj) else f"unsupported value `{name}` "
                f"({type(obj).__name__})",
                "adc knows the math/NumPy functions listed in docs/language.md; write it with those")
    what = f"a class ({obj.__name__})" if isinstance(obj, type) else f"a {type(obj).__module__}.{type(obj).__qualname__}" \
        if type(obj).__module__ not in ("builtins",) else f"a {type(obj).__name__}"
    origin = str(getattr(obj, "__module__", None) or "")
    if callable(obj) and origin.split(".")[0] in ("math", "numpy", "scipy", "cmath"):  # from math import gamma
        return (f"unsupported function `{name}` ({origin}.{getattr(obj, '__name__', name)})",
                "adc knows the math/NumPy functions listed in docs/language.md; write it with those")
    if callable(obj) and not isinstance(obj, type):
        return (f"`{name}` is {where} holding {what}; adc calls math/NumPy functions and plain functions "
                "defined with `def`",
                f"call a function defined with `def` at module level instead of `{name}`")
    if isinstance(obj, (str, bytes)):
        hint = f"adc differentiates numbers and arrays: use a number or an array instead of `{name}`"
    else:
        access = f"{name}[...]" if hasattr(obj, "__getitem__") and not isinstance(obj, type) else f"{name}.attribute"
        hint = (f"bind the number {fn_name} needs to a global of its own at module level (`{name.upper()}_VALUE = "
                f"{access}`) and use that name in {fn_name}, or pass it to {fn_name} as an argument")
    return (f"`{name}` is {where} holding {what}; adc reads numbers, arrays, modules and functions from "
            "globals and closures, not other objects", hint)

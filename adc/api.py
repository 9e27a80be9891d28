"""The public API: ``grad``, ``value_and_grad``, ``jvp``, ``vjp``, ``source``, ``trace``.

Input: user functions and arguments.  Output: derivatives with the type and shape of the
arguments, generated source, and SSA traces.  This layer only converts arguments, asks the pipeline
for the (cached) compiled derivative for the arguments' types, calls it and shapes the results.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Sequence

import numpy as np

from .errors import AdcError, CompileError, DifferentiationError, EvaluationError, format_located, transform_problem
from .ir import Loc
from .pipeline import Compiled, Dependencies, compile_derivative, dependencies, primal
from .trace import Trace
from .types import FLOAT, Type, type_of

Argnums = int | Sequence[int]


def _normalize_argnums(argnums: Argnums, nargs: int, name: str) -> tuple[list[int], bool]:
    _check_argnums_type(argnums)
    single = isinstance(argnums, (int, np.integer))
    nums = [int(argnums)] if single else [int(a) for a in argnums]  # type: ignore[arg-type, union-attr]
    if not nums:
        raise DifferentiationError(f"argnums of {name} is empty; name at least one argument")
    for a in nums:
        if not -nargs <= a < nargs:
            raise DifferentiationError(f"argnums={argnums!r} is out of range for {name}() called with {nargs} arguments")
    nums = [a % nargs for a in nums]
    if len(set(nums)) != len(nums):
        raise DifferentiationError(f"argnums={argnums!r} repeats an argument")
    return nums, single


def _check_argnums_type(argnums: Any) -> None:
    def is_int(a: Any) -> bool:
        return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))

    if is_int(argnums) or (isinstance(argnums, (tuple, list)) and all(is_int(a) for a in argnums)):
        return
    raise DifferentiationError(f"argnums must be an int or a tuple of ints (argument positions), got {argnums!r}")


def _names(fn: Callable[..., Any], n: int) -> list[str]:
    """The names of ``fn``'s first ``n`` parameters (for messages)."""
    from .frontend import param_names

    names = param_names(fn)
    return (names + [f"#{i}" for i in range(len(names), n)])[:n]


def _argument(value: Any, what: str, differentiated: bool) -> Any:
    """One argument as adc passes it on: NumPy arrays and numbers as they are, lists (and tuples)
    as float arrays, differentiated ones as floats (ints are promoted).  Anything else is an
    ``AdcError`` naming ``what`` (e.g. "argument x of f")."""
    kind = type(value)
    if kind is float or (kind is np.ndarray and value.dtype.kind == "f"):
        return value
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value, dtype=float)
        except (ValueError, TypeError) as exc:
            raise DifferentiationError(f"{what} is a {kind.__name__} that is not a rectangular array of real "
                                       f"numbers ({exc}); pass a NumPy float array") from None
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise DifferentiationError(f"{what} is an array of {value.dtype}; adc differentiates real "
                                       f"numbers: pass a float array{_complex_hint(value.dtype.kind == 'c')}")
        if differentiated and value.dtype.kind != "f":
            return value.astype(np.float64)
        return value
    if isinstance(value, (bool, np.bool_)):
        if differentiated:
            raise DifferentiationError(f"cannot differentiate with respect to an argument of type bool ({what}); "
                                       "pass a float")
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not differentiated:
            return value
        try:
            return float(value)
        except OverflowError:
            raise DifferentiationError(f"{what} is an int too large for a float (about 2**{int(value).bit_length()})") from None
    if isinstance(value, (complex, np.complexfloating)):
        raise DifferentiationError(f"{what} is complex ({value!r}); adc differentiates real-valued "
                                   f"functions of real numbers{_complex_hint(True)}")
    if differentiated:
        raise DifferentiationError(f"{what} has type {kind.__name__}; expected a float or a NumPy float array "
                                   f"(cannot differentiate with respect to an argument of type {kind.__name__})")
    raise DifferentiationError(f"{what} has type {kind.__name__}; adc passes numbers (float, int, bool) and "
                               "NumPy arrays to the function")


def _complex_hint(complex_: bool) -> str:
    return "; pass the real and imaginary parts as two float arguments" if complex_ else ""


def _prepare(fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int]) -> tuple[list[Any], tuple[Type, ...]]:
    """Differentiated arguments as floats, lists as arrays, and the arguments' types."""
    args = _coerce(fn, args, wrt)
    return args, tuple(type_of(a) for a in args)


def _coerce(fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int]) -> list[Any]:
    """Every argument checked and converted by ``_argument``."""
    names = _names(fn, len(args))
    return [_argument(a, f"argument {names[i]} of {fn.__name__}", i in wrt) for i, a in enumerate(args)]


def _like(original: Any, prepared: Any) -> Any:
    """What a derivative with respect to ``original`` looks like: an array of its (float) dtype, a
    NumPy float scalar of its own type (``np.float32``), or a float."""
    if isinstance(original, np.floating) and not isinstance(original, float):
        return original
    return prepared


def _unaliased(values: tuple[Any, ...], inputs: Sequence[Any]) -> tuple[Any, ...]:
    """Arrays the caller may write into: none is returned twice or is one of the inputs."""
    seen = {id(a) for a in inputs if isinstance(a, np.ndarray)}
    out = []
    for v in values:
        if isinstance(v, np.ndarray):
            if id(v) in seen:
                v = v.copy()
            seen.add(id(v))
        out.append(v)
    return tuple(out)


def _broadcasts(value: Any, like: Any) -> bool:
    try:
        np.broadcast_shapes(np.shape(value), np.shape(like))
    except ValueError:
        return False
    return np.broadcast_shapes(np.shape(value), np.shape(like)) == np.shape(like)


def _shape_like(value: Any, like: Any) -> Any:
    """A derivative with the type of its primal: float for a scalar (``np.float32`` for an
    ``np.float32``), an array of its dtype."""
    if isinstance(like, np.ndarray):
        if isinstance(value, np.ndarray) and value.dtype == like.dtype and value.shape == like.shape \
                and value.flags.writeable:
            return value
        return np.array(np.broadcast_to(value, like.shape), dtype=like.dtype)
    if isinstance(like, np.floating) and not isinstance(like, float):
        return type(like)(value)
    return float(value)


def _call(compiled: Compiled, args: Sequence[Any]) -> Any:
    """Run the generated code; whatever it raises comes back as an adc error (see ``_failed``)."""
    try:
        return compiled.func(*args)
    except AdcError:
        raise
    except Exception as exc:  # Numba reports typing/lowering problems on the first call
        if type(exc).__module__.startswith("numba") or (
                isinstance(exc, ImportError) and _dispatcher_type() is not type(None)
                and isinstance(compiled.func, _dispatcher_type())):
            raise CompileError(numba_message(compiled, exc)) from None
        _failed(compiled, exc, args)


def _failed(compiled: Compiled, exc: Exception, args: Sequence[Any]) -> Any:
    """Raise ``exc`` (raised by the generated code of ``compiled`` called with ``args``) as an
    ``EvaluationError`` that names the user's line it came from and is also an instance of the
    exception's own class; the original is chained, and the traceback ends where it was raised."""
    fn = compiled.fn
    name = getattr(fn, "__name__", compiled.primal.name)
    n = len(compiled.primal.params)
    own = _own_failure(compiled, list(args[:n]))
    if own is not None:
        message = f"{_reason(exc)} (raised by {name} itself at these arguments, in this line)"
        hint = f"{name}(...) raises this too when called with these arguments; adc runs the same operations"
        loc = own
    else:
        what = {"jvp": "forward-mode derivative", "vjp": "reverse-mode derivative"}.get(compiled.kind, "gradient")
        message = f"{_reason(exc)} (raised by the {what} of this line; {name} itself runs at these arguments)"
        hint = ("the derivative of this line is not defined at these arguments (for example sqrt, or a "
                "power below 1, at 0): evaluate the derivative at another point")
        loc = _user_line_by_rerun(compiled, args) or _user_line(compiled, exc) or _definition(compiled)
    error = EvaluationError.like(exc)(message, loc, hint)
    raise error.with_traceback(exc.__traceback__) from exc


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _own_failure(compiled: Compiled, args: list[Any]) -> Loc | None:
    """Where the user's function, called with ``args``, raises (``None`` if it does not): the
    innermost frame in one of the files the program was read from."""
    fn = compiled.fn
    if fn is None:
        return None
    try:
        fn(*args)
    except Exception as exc:
        from .ir import walk

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
        import linecache

        text = linecache.getline(code.co_filename, line).rstrip("\n")
        positions = list(code.co_positions())
        col = positions[lasti // 2][2] if 0 <= lasti // 2 < len(positions) else None
        return Loc(code.co_filename, line, col if col is not None else len(text) - len(text.lstrip()), text)
    return None


def _user_failure(compiled: Compiled, args: Sequence[Any], problem: str) -> Any:
    """The generated code ran, but its result cannot be what ``fn`` computes (``problem``): the
    user's function itself fails at these arguments (an operation the derivative does not need
    to run); report that failure, or, should it not fail, the problem."""
    n = len(compiled.primal.params)
    fn = compiled.fn
    try:
        fn(*args[:n])  # type: ignore[misc]
    except Exception as exc:
        loc = _own_failure(compiled, list(args[:n]))
        name = getattr(fn, "__name__", compiled.primal.name)
        error = EvaluationError.like(exc)(f"{_reason(exc)} (raised by {name} itself at these arguments, in "
                                          "this line)", loc, f"{name}(...) raises this too when called with "
                                          "these arguments; fix the function or its arguments")
        raise error from exc
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
    from .ir import walk

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
    types = tuple(p.type for p in compiled.primal.params)
    try:
        lecture = compile_derivative(compiled.fn, types, compiled.kind, compiled.wrt, jit=False, compact=False)
        lecture.func(*args)
    except AdcError:
        return None
    except Exception as exc:
        return _user_line(lecture, exc)
    return None


def _definition(compiled: Compiled) -> Loc:
    """The ``def`` line of the function (when no better line is known)."""
    prog = compiled.primal
    import linecache

    text = linecache.getline(prog.filename, prog.firstline) or f"def {prog.name}(...):"
    return Loc(prog.filename, prog.firstline, 0, text.rstrip("\n"))


def numba_message(compiled: Compiled, exc: BaseException) -> str:
    """A one-paragraph account of a Numba failure: which generated line, which user line."""
    import re

    text = str(exc)
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
    return (f"Numba could not compile the generated {compiled.program.name}{where}: "
            f"{type(exc).__name__}: {first}\nhint: call with jit=False (the same generated code runs as "
            f"plain Python), or look at it with adc.source(..., compact=True)")


def _check_function(fn: Any, transform: str = "adc") -> None:
    """adc reads Python source: built-ins and other callables without it, functions made by adc
    (composition is not built yet) and decorated functions (``inspect`` would show the source of
    the undecorated one) are rejected clearly; so are ``*args``, ``**kwargs`` and keyword-only
    parameters (located at the parameter)."""
    import types

    problem = transform_problem(fn)
    if problem is not None:
        raise DifferentiationError(format_located(f"{transform}: {problem[0]}", None, problem[1]))
    if not isinstance(fn, types.FunctionType):
        from .errors import SourceError

        name = getattr(fn, "__name__", repr(fn))
        raise SourceError(f"adc differentiates Python functions defined in source files; {name!r} is a "
                          f"{type(fn).__name__}; hint: wrap it, e.g. `def f(x): return math.sin(x)`")
    code = fn.__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_kwonlyargcount:
        from .builder import Builder
        from .frontend import Lowerer, read_source

        Lowerer(read_source(fn), Builder(simplify=False, role="primal")).bind_params([])  # raises, located


def _mark(fn: Callable[..., Any], transform: str) -> Callable[..., Any]:
    """Mark ``fn`` as made by ``transform`` (adc refuses to differentiate it; see ``_check_function``)."""
    fn.__adc_transform__ = transform  # type: ignore[attr-defined]
    return fn


def _bind(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The positional arguments of a call of ``fn`` with ``args`` and ``kwargs``, defaults filled in."""
    from .frontend import param_names

    names = param_names(fn)
    if not kwargs and len(args) == len(names):
        return tuple(args)
    try:
        bound = inspect.signature(fn, follow_wrapped=False).bind(*args, **(kwargs or {}))
    except TypeError as exc:
        raise DifferentiationError(f"{fn.__name__}() called with wrong arguments: {exc} "
                                   f"(its parameters: {', '.join(names)})") from None
    bound.apply_defaults()
    return tuple(bound.args)


def _check_arity(fn: Callable[..., Any], args: Sequence[Any]) -> None:
    from .frontend import param_names

    n = len(param_names(fn))
    if len(args) != n:
        raise DifferentiationError(f"{fn.__name__}() takes {n} positional arguments but {len(args)} were given")


def _checked(compiled: Compiled) -> Callable[..., Any]:
    """The compiled function; under ``jit`` wrapped so that a Numba compilation problem on its
    first call is reported as an adc error."""
    func = compiled.func
    if not isinstance(func, _dispatcher_type()):
        return func

    @functools.wraps(compiled.func.py_func)
    def call(*args: Any) -> Any:
        return _call(compiled, args)

    call.dispatcher = func  # type: ignore[attr-defined]  (the Numba dispatcher: stats, signatures)
    return call


def _dispatcher_type() -> type:
    try:
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # pragma: no cover
        return type(None)
    return Dispatcher


def _check_scalar_output(compiled: Compiled, name: str) -> None:
    prog = compiled.primal
    if prog.out_tree is not None:
        raise DifferentiationError(f"grad needs {name} to return a scalar, but it returns a tuple of "
                                   f"{prog.out_tree}; use adc.vjp or adc.jacrev for vector outputs")
    out = prog.outputs[0]
    if out.type is not None and out.type.is_array:
        raise DifferentiationError(f"grad needs {name} to return a scalar, but it returns an array "
                                   f"({out.type}); use adc.vjp or adc.jacrev for vector outputs")
    if out.type is not None and out.type.kind != "float":
        raise DifferentiationError(f"grad needs {name} to return a float, but it returns {out.type}")


class Transformed:
    """A function transformed by ``grad`` or ``value_and_grad``; call it like the original."""

    def __init__(self, fn: Callable[..., Any], argnums: Argnums, mode: str, jit: bool, with_value: bool) -> None:
        transform = "adc.value_and_grad" if with_value else "adc.grad"
        if mode not in ("reverse", "forward"):
            raise DifferentiationError(f"mode must be 'reverse' or 'forward', got {mode!r}")
        if not callable(fn):
            raise DifferentiationError(f"expected a function to differentiate, got {type(fn).__name__}")
        _check_function(fn, transform)
        _check_argnums_type(argnums)
        self.fn, self.argnums, self.mode, self.jit, self.with_value = fn, argnums, mode, jit, with_value
        self.transform = transform
        self.__adc_wrapped__ = fn
        # the wrapper made by ``as_function`` and its globals: its fast path is set there
        self.wrapper: Callable[..., Any] | None = None
        self.fast_globals: dict[str, Any] | None = None
        self.slow_code: Any = None  # the wrapper's code before a fast path is installed
        self.runners: dict[tuple[Any, ...], Callable[[tuple[Any, ...]], Any]] = {}
        self.deps: Dependencies | None = None  # what the runners were made with
        functools.update_wrapper(self, fn)

    def as_function(self) -> Callable[..., Any]:
        """A plain function with ``fn``'s parameters and defaults.  Until a scalar signature has
        compiled it sends every call to ``_call``; then ``_install_fast_path`` makes it the
        generated code itself (plain Python) or a check in front of the Numba function (``jit``)."""
        from .frontend import param_names

        names = param_names(self.fn)
        params = ", ".join(names)
        tuple_ = f"({params}{',' if len(names) == 1 else ''})"
        text = f"def {self.fn.__name__}({params}):\n    return _adc_slow_({tuple_})\n"
        namespace: dict[str, Any] = {"_adc_slow_": self._call}
        self.fast_globals = namespace
        exec(compile(text, f"<adc wrapper of {self.fn.__name__}>", "exec"), namespace)
        wrapper = self.wrapper = namespace[self.fn.__name__]
        self.slow_code = wrapper.__code__
        functools.update_wrapper(wrapper, self.fn)
        wrapper.__defaults__ = self.fn.__defaults__
        wrapper.__adc_wrapped__ = self.fn  # type: ignore[attr-defined]
        wrapper.specialize = self.specialize  # type: ignore[attr-defined]
        wrapper.__wrapped__ = self.fn  # type: ignore[attr-defined]
        return _mark(wrapper, self.transform)

    def _kind(self) -> str:
        return ("value_and_grad" if self.with_value else "grad") if self.mode == "reverse" else "jvp"

    def specialize(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """The generated derivative function for arguments like ``args``, with no wrapper at all
        (what ``adc.source`` shows); call it with arguments of the same types and shapes."""
        args = _bind(self.fn, args, kwargs)
        wrt, _ = _normalize_argnums(self.argnums, len(args), self.fn.__name__)
        _, types = _prepare(self.fn, args, wrt)
        compiled = compile_derivative(self.fn, types, self._kind(), wrt, self.jit)
        if self.mode == "reverse":
            _check_scalar_output(compiled, self.fn.__name__)
        return _checked(compiled)

    def _call(self, args: tuple[Any, ...]) -> Any:
        """Calls by argument signature: the first call of a signature checks, compiles and builds
        a small runner; later calls only compute the signature, check that no global the function
        reads has been rebound, and run it."""
        key = tuple((a.dtype.char, a.shape) if isinstance(a, np.ndarray) else type(a) for a in args)
        runner = self.runners.get(key)
        if runner is not None:
            if self.deps is not None and self.deps.current():
                return runner(args)
            self._forget()
        if self.deps is None:
            self.deps = dependencies(self.fn)
        runner, fast = self._runner(args)
        result = runner(args)  # compiles under jit; errors surface here, before caching
        self.runners[key] = runner
        if fast is not None and self.wrapper is not None and self.wrapper.__code__ is self.slow_code:
            self._install_fast_path(fast, args)
        return result

    def _forget(self) -> None:
        """A global or closure value the function reads has changed: drop every runner and the
        fast path (the next call compiles for the new values, or finds them cached)."""
        self.runners.clear()
        self.deps = None
        if self.wrapper is not None:
            self.wrapper.__code__ = self.slow_code

    def _install_fast_path(self, fast: Compiled, args: tuple[Any, ...]) -> None:
        """Calls with exactly the types of ``args`` (the first scalar signature), while the
        globals the function reads are unchanged, skip the dispatch.  Plain Python: the wrapper's
        code becomes the generated function's own, with a guard in place of its docstring line
        (no extra call frame; line numbers still match the generated file).  Numba: the wrapper
        checks and calls the dispatcher.  Either way an exception is reported by ``_failed``."""
        namespace = self.fast_globals
        assert namespace is not None and self.wrapper is not None and self.deps is not None
        if self.deps.arrays:
            return  # a global array could change in place: every call takes the checked path
        namespace["_adc_fast_"] = fast.func
        namespace["_adc_fail_"] = lambda exc, call_args: _failed(fast, exc, call_args)
        namespace.update({f"_adc_t{k}_": type(a) for k, a in enumerate(args)})
        unchanged = []
        for k, (where, name, value) in enumerate(self.deps.reads):
            namespace[f"_adc_w{k}_"], namespace[f"_adc_v{k}_"] = where, value
            now = f"_adc_w{k}_.get({name!r})" if isinstance(where, dict) else f"_adc_w{k}_.cell_contents"
            unchanged.append(f"{now} is _adc_v{k}_")
        mine = self.wrapper.__code__
        generated = getattr(fast.func, "__code__", None)
        if self.jit or generated is None or generated.co_varnames[:generated.co_argcount] != \
                mine.co_varnames[:mine.co_argcount]:  # keyword calls need the user's parameter names
            self.wrapper.__code__ = _checking_wrapper(self.wrapper, namespace, unchanged)
            return
        code = _guarded_code(fast, namespace, unchanged)
        if code is not None:
            self.wrapper.__code__ = code

    def _runner(self, args: tuple[Any, ...]) -> tuple[Callable[[tuple[Any, ...]], Any], Compiled | None]:
        _check_arity(self.fn, args)
        wrt, single = _normalize_argnums(self.argnums, len(args), self.fn.__name__)
        prepared, types = _prepare(self.fn, args, wrt)
        compiled = compile_derivative(self.fn, types, self._kind(), wrt, self.jit)
        _check_scalar_output(compiled, self.fn.__name__)
        with_value, reverse, fn = self.with_value, self.mode == "reverse", self.fn

        def run(call_args: tuple[Any, ...]) -> Any:
            converted = _coerce(fn, call_args, wrt)
            like = [_like(call_args[i], converted[i]) for i in wrt]
            call_args = converted
            if reverse:
                result = _call(compiled, call_args)
                if with_value:
                    value, grads = result[0], result[1:]
                else:
                    value, grads = None, ((result,) if len(wrt) == 1 else result)
            else:
                value, grads = _forward_gradient(compiled, call_args, wrt)
            if any(np.shape(g) != np.shape(a) and not _broadcasts(g, a) for g, a in zip(grads, like)):
                _user_failure(compiled, call_args, f"the gradient of {fn.__name__} does not have the shape of "
                              f"its argument ({[np.shape(g) for g in grads]} vs {[np.shape(a) for a in like]})")
            grads = _unaliased(tuple(_shape_like(g, a) for g, a in zip(grads, like)), call_args)
            out = grads[0] if single else grads
            return (_output(value), out) if with_value else out

        fast = None
        scalars = all(type(a) in (float, int, bool) for a in args) and all(type(args[i]) is float for i in wrt)
        if reverse and not with_value and scalars and single == (len(wrt) == 1):
            fast = compiled
        return run, fast


def _checking_wrapper(wrapper: Callable[..., Any], namespace: dict[str, Any], unchanged: list[str]) -> Any:
    """The code of a wrapper with ``wrapper``'s parameters that calls ``_adc_fast_`` when the
    arguments have the types ``_adc_tK_`` and the ``unchanged`` conditions hold (else
    ``_adc_slow_``), reporting what it raises through ``_adc_fail_``."""
    code = wrapper.__code__
    names = code.co_varnames[:code.co_argcount]
    params = ", ".join(names)
    tuple_ = f"({params}{',' if len(names) == 1 else ''})"
    checks = " and ".join([f"{n}.__class__ is _adc_t{k}_" for k, n in enumerate(names)] + unchanged) or "True"
    text = (f"def {code.co_name}({params}):\n"
            f"    if {checks}:\n"
            f"        try:\n"
            f"            return _adc_fast_({params})\n"
            f"        except Exception as _adc_exc_:\n"
            f"            return _adc_fail_(_adc_exc_, {tuple_})\n"
            f"    return _adc_slow_({tuple_})\n")
    exec(compile(text, code.co_filename, "exec"), namespace)
    return namespace.pop(code.co_name).__code__


def _guarded_code(compiled: Compiled, namespace: dict[str, Any], unchanged: list[str]) -> Any:
    """The code of the generated function with a guard in place of its docstring line (calls with
    other argument types, or after a global in ``unchanged`` was rebound, go to ``_adc_slow_``)
    and its body inside ``try``, reporting what it raises through ``_adc_fail_``; the ``def``
    moves up into the blank lines above it, so the body keeps its line numbers.  The module's
    imports go into ``namespace`` (the globals the code will run with).  ``None`` if the source
    does not have that shape."""
    import ast
    import types

    func = compiled.func
    if not isinstance(func, types.FunctionType):
        return None
    code = func.__code__
    lines = compiled.source.splitlines(True)
    head = code.co_firstlineno - 1  # the ``def`` line
    doc = lines[head + 1].strip() if head + 1 < len(lines) else ""
    if not (doc.startswith('"""') and doc.endswith('"""') and len(doc) > 6) or head < 2 \
            or lines[head - 1].strip() or lines[head - 2].strip():
        return None
    params = code.co_varnames[:code.co_argcount]
    tuple_ = f"({', '.join(params)}{',' if len(params) == 1 else ''})"
    stored = {n.id for n in ast.walk(ast.parse(compiled.source)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    keep = bool(stored & set(params))  # the body assigns a parameter: keep the arguments for the report
    checks = " or ".join([f"{p}.__class__ is not _adc_t{k}_" for k, p in enumerate(params)]
                         + [f"not ({u})" for u in unchanged])
    lines[head - 2] = lines[head]
    lines[head - 1] = f"    if {checks}: return _adc_slow_({tuple_})\n" if checks else "    pass\n"
    lines[head] = f"    _adc_args_ = {tuple_}\n" if keep else "\n"
    lines[head + 1] = "    try:\n"
    lines[head + 2:] = ["    " + line if line.strip() else line for line in lines[head + 2:]]
    lines.append("    except Exception as _adc_exc_:\n")
    lines.append(f"        return _adc_fail_(_adc_exc_, {'_adc_args_' if keep else tuple_})\n")
    module: dict[str, Any] = {"__name__": func.__module__}
    exec(compile("".join(lines), code.co_filename, "exec"), module)
    namespace.update({k: v for k, v in module.items() if not k.startswith("__") and k != code.co_name})
    return module[code.co_name].__code__


def _forward_gradient(compiled: Compiled, args: list[Any], wrt: list[int]) -> tuple[Any, list[Any]]:
    """A gradient by forward mode: one tangent pass per input component."""
    zeros = [np.zeros_like(args[i]) if isinstance(args[i], np.ndarray) else 0.0 for i in wrt]
    grads: list[Any] = []
    value = None
    for k, i in enumerate(wrt):
        if isinstance(args[i], np.ndarray):
            g = np.zeros(args[i].size, dtype=args[i].dtype)
            for j in range(args[i].size):
                seed = np.zeros(args[i].size, dtype=args[i].dtype)
                seed[j] = 1.0
                tangents = zeros[:k] + [seed.reshape(args[i].shape)] + zeros[k + 1:]
                value, g[j] = _call(compiled, [*args, *tangents])
            grads.append(g.reshape(args[i].shape))
        else:
            tangents = zeros[:k] + [1.0] + zeros[k + 1:]
            value, d = _call(compiled, [*args, *tangents])
            grads.append(d)
    return value, grads


def _output(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _decorator(with_value: bool) -> Callable[..., Any]:
    def transform(fn: Callable[..., Any] | None = None, argnums: Argnums = 0, *, mode: str = "reverse",
                  jit: bool = False) -> Any:
        if fn is None:
            return lambda f: Transformed(f, argnums, mode, jit, with_value).as_function()
        return Transformed(fn, argnums, mode, jit, with_value).as_function()

    return transform


grad = _decorator(False)
grad.__name__ = "grad"
grad.__doc__ = """``grad(f, argnums=0, *, mode="reverse", jit=False)``: the gradient of scalar-valued ``f``.

Returns a function with ``f``'s signature that returns ``df/dargs[argnums]`` (a tuple of gradients
when ``argnums`` is a tuple), each with the type and shape of its argument.  Usable as ``@grad`` or
``@grad(argnums=..., mode=..., jit=...)``.  ``mode="forward"`` computes the same gradient with one
tangent pass per input component; ``jit=True`` compiles the generated code with Numba."""
value_and_grad = _decorator(True)
value_and_grad.__name__ = "value_and_grad"
value_and_grad.__doc__ = """``value_and_grad(f, argnums=0, *, mode="reverse", jit=False)``: like ``grad``,
but the returned function gives ``(f(*args), gradient)``."""


def original(fn: Any) -> Callable[..., Any]:
    """The user's function behind an adc-transformed one (or ``fn`` itself); the command line
    uses it to read ``@adc.grad``-decorated functions in a file."""
    while hasattr(fn, "__adc_wrapped__"):
        fn = fn.__adc_wrapped__
    return fn


def _promoted(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[list[Any], tuple[Type, ...]]:
    """``jvp``/``vjp`` arguments: integer scalars count as real numbers (``f(2, 5)``) unless the
    function uses them as integers (an index, a range bound), then they pass through, like
    integer arrays (labels) always do."""
    from .errors import UnsupportedError
    from .pipeline import identity

    promoted: list[int] = []
    ident = identity(fn)
    for i, a in enumerate(args):
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            continue
        _, types = _prepare(fn, args, promoted + [i])
        key = (ident, types)
        ok = _promotable.get(key)
        if ok is None:
            try:
                primal(fn, types, ident)
                ok = True
            except UnsupportedError:
                ok = False
            _promotable[key] = ok
        if ok:
            promoted.append(i)
    return _prepare(fn, args, promoted)


_promotable: dict[tuple[Any, ...], bool] = {}  # (function, types) → lowers (ints promoted so far)


def _all_float_wrt(args: Sequence[Any]) -> list[int]:
    return [i for i, a in enumerate(args) if isinstance(a, (float, np.floating, np.ndarray))
            and (not isinstance(a, np.ndarray) or a.dtype.kind == "f")]


def _unflatten(values: Sequence[Any], tree: int | None) -> Any:
    values = [_output(v) for v in values]
    return values[0] if tree is None else tuple(values)


def _same_shape(value: Any, like: Any, what: str) -> Any:
    """``value`` (a tangent or cotangent) checked to have the shape of ``like``."""
    if np.shape(value) != np.shape(like):
        raise DifferentiationError(f"{what} has shape {np.shape(value)}, but it must have shape "
                                   f"{np.shape(like)}")
    return value


def _sequence(value: Any, what: str, call: str) -> tuple[Any, ...]:
    if not isinstance(value, (tuple, list)):
        raise DifferentiationError(f"adc.jvp takes {what} as a tuple, one entry per argument ({call}); "
                                   f"got {type(value).__name__}")
    return tuple(value)


def jvp(fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *, jit: bool = False) -> tuple[Any, Any]:
    """``(f(*primals), J(primals) @ tangents)`` by forward mode, in one pass.  ``primals`` and
    ``tangents`` are tuples (as in JAX); each tangent has the shape of its primal."""
    _check_function(fn, "adc.jvp")
    call = "adc.jvp(f, (x, y), (dx, dy))"
    primals, tangents = _sequence(primals, "primals", call), _sequence(tangents, "tangents", call)
    if len(primals) != len(tangents):
        raise DifferentiationError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    primals = _bind(fn, primals)
    tangents = tangents + tuple(np.zeros_like(p, dtype=float) if isinstance(p, np.ndarray) else 0.0
                                for p in primals[len(tangents):])  # parameters left at their defaults
    args, types = _promoted(fn, primals)
    wrt = _all_float_wrt(args)
    compiled = compile_derivative(fn, types, "jvp", wrt, jit)
    names = _names(fn, len(args))
    ts = [_same_shape(_argument(tangents[i], f"the tangent of {names[i]}", True), args[i],
                      f"the tangent of {names[i]}") for i in wrt]
    result = _call(compiled, [*args, *ts])
    n = len(compiled.primal.outputs)
    tree = compiled.primal.out_tree
    return _unflatten(result[:n], tree), _unflatten(result[n:], tree)


def vjp(fn: Callable[..., Any], *primals: Any, jit: bool = False) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(f(*primals), pullback)``; ``pullback(cotangent)`` returns one cotangent per primal.
    A cotangent has the shape of ``f``'s output (a tuple of them for a tuple output)."""
    _check_function(fn, "adc.vjp")
    primals = _bind(fn, primals)
    args, types = _promoted(fn, primals)
    wrt = list(range(len(args)))
    compiled = compile_derivative(fn, types, "vjp", wrt, jit)
    prog = compiled.primal
    n = len(prog.outputs)
    try:
        out = fn(*args)
    except Exception as exc:  # the function itself fails at this point: say where
        _failed(compiled, exc, args)
    outs = [out] if prog.out_tree is None else list(out)
    like = [_like(p, a) for p, a in zip(primals, args)]

    def pullback(cotangent: Any) -> tuple[Any, ...]:
        if prog.out_tree is None:
            cts = [cotangent]
        elif isinstance(cotangent, (tuple, list)):
            cts = list(cotangent)
        else:
            raise DifferentiationError(f"{fn.__name__} returns a tuple of {n}; its pullback takes a tuple "
                                       f"of {n} cotangents, got {type(cotangent).__name__}")
        if len(cts) != n:
            raise DifferentiationError(f"pullback expected {n} cotangents, got {len(cts)}")
        what = [f"the cotangent of {fn.__name__}'s output" + (f" #{k}" if prog.out_tree is not None else "")
                for k in range(n)]
        cts = [_same_shape(_argument(c, w, True), o, w) for c, o, w in zip(cts, outs, what)]
        result = _call(compiled, [*args, *cts])
        return _unaliased(tuple(_shape_like(g, a) if isinstance(a, (float, np.floating, np.ndarray)) else _output(g)
                                for g, a in zip(result[n:], like)), [*args, *cts])

    return out, _mark(pullback, "adc.vjp")


def _types_for(fn: Callable[..., Any], at: Sequence[Any] | None, wrt: Sequence[int] = ()) -> tuple[list[Any] | None, tuple[Type, ...]]:
    from .frontend import param_names

    if at is None:
        return None, tuple(FLOAT for _ in param_names(fn))
    _check_at(fn, at)
    return _prepare(fn, at, wrt)


def _check_at(fn: Callable[..., Any], at: Any) -> None:
    if not isinstance(at, (tuple, list)):
        raise DifferentiationError(f"at= takes a tuple of example arguments, one per parameter of "
                                   f"{fn.__name__} (e.g. at=(2.0, 5)); got {type(at).__name__}")
    _check_arity(fn, at)


def source(fn: Callable[..., Any], mode: str = "reverse", argnums: Argnums | None = 0, *,
           at: Sequence[Any] | None = None, compact: bool = False) -> str:
    """The generated derivative source, as ``adc source`` prints it.

    ``mode="reverse"`` gives the gradient function; ``mode="forward"`` the JVP (dual-number)
    function.  ``at`` gives example arguments whose types the code is specialised to (default: every
    argument a float); an int in a differentiated position counts as a float, as in ``grad``.
    ``argnums=None`` differentiates with respect to every argument that can be real (ints too,
    unless the function uses them as integers, as ``jvp`` does).  By default the code has the
    lecture layout: a seed, then one adjoint statement per primal statement.  ``compact=True``
    gives the code adc actually runs: the same derivative with the unit seed folded and every
    single-use scalar folded into its use."""
    _check_function(fn, "adc.source")
    if mode not in ("reverse", "forward"):
        raise DifferentiationError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    if argnums is None:
        if at is None:
            _, types = _types_for(fn, at)
        else:
            _check_at(fn, at)
            _, types = _promoted(fn, at)
        wrt = [i for i, t in enumerate(types) if t.kind == "float"]
        if not wrt:
            raise DifferentiationError(f"{fn.__name__} has no argument to differentiate with respect to: "
                                       "every one is used as an integer")
    else:
        _, types = _types_for(fn, at)
        wrt, _ = _normalize_argnums(argnums, len(types), fn.__name__)
        if at is not None:
            _, types = _types_for(fn, at, wrt)
    kind = "grad" if mode == "reverse" else "jvp"
    compiled = compile_derivative(fn, types, kind, wrt, load=False, compact=compact)
    if kind == "grad":
        _check_scalar_output(compiled, fn.__name__)
    return compiled.source


def trace(fn: Callable[..., Any], at: Sequence[Any] | None = None) -> Trace:
    """The SSA program of ``fn``; ``str()`` is the ``v0 = ...`` listing, ``.tables(*args)`` the
    evaluation, forward-derivative and adjoint traces with values."""
    _check_function(fn, "adc.trace")
    _, types = _types_for(fn, at)
    return Trace(fn, primal(fn, types), types)


def _plain(a: np.ndarray) -> Any:
    """A 0-d Jacobian (scalar in, scalar out) as a float."""
    return float(a) if a.shape == () else a


def _jacobian_args(fn: Callable[..., Any], argnums: Argnums, args: Sequence[Any],
                   kwargs: dict[str, Any]) -> tuple[list[int], bool, list[Any]]:
    args = _bind(fn, args, kwargs)
    wrt, single = _normalize_argnums(argnums, len(args), getattr(fn, "__name__", "f"))
    return wrt, single, _coerce(fn, args, wrt)


def jacfwd(fn: Callable[..., Any], argnums: Argnums = 0, *, jit: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fn`` by forward mode: one JVP per input component (use it for tall
    Jacobians, few inputs).  ``J[out_index + in_index]``, like ``jax.jacfwd``."""
    _check_function(fn, "adc.jacfwd")
    _check_argnums_type(argnums)

    def jacobian(*args: Any, **kwargs: Any) -> Any:
        wrt, single, args = _jacobian_args(fn, argnums, args, kwargs)
        zeros = [np.zeros_like(a, dtype=float) if isinstance(a, np.ndarray) else 0.0 for a in args]
        results = []
        for i in wrt:
            shape = np.shape(args[i])
            columns = []
            for j in range(int(np.prod(shape))):
                seed = np.zeros(shape)
                seed.flat[j] = 1.0
                tangents = list(zeros)
                tangents[i] = seed if shape else 1.0
                columns.append(np.asarray(jvp(fn, args, tangents, jit=jit)[1]))
            out_shape = columns[0].shape
            results.append(_plain(np.stack(columns, axis=-1).reshape(out_shape + shape)))
        return results[0] if single else tuple(results)

    return _mark(functools.wraps(fn)(jacobian), "adc.jacfwd")


def jacrev(fn: Callable[..., Any], argnums: Argnums = 0, *, jit: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fn`` by reverse mode: one VJP per output component (use it for wide
    Jacobians, few outputs).  ``J[out_index + in_index]``, like ``jax.jacrev``."""
    _check_function(fn, "adc.jacrev")
    _check_argnums_type(argnums)

    def jacobian(*args: Any, **kwargs: Any) -> Any:
        wrt, single, args = _jacobian_args(fn, argnums, args, kwargs)
        out, pullback = vjp(fn, *args, jit=jit)
        if isinstance(out, tuple):
            raise DifferentiationError("jacrev needs a function returning one scalar or array; "
                                       "stack tuple outputs into an array")
        out_shape = np.shape(out)
        rows: list[list[Any]] = [[] for _ in wrt]
        for j in range(int(np.prod(out_shape))):
            seed = np.zeros(out_shape)
            seed.flat[j] = 1.0
            cts = pullback(seed if out_shape else 1.0)
            for k, i in enumerate(wrt):
                rows[k].append(np.asarray(cts[i], dtype=float))
        results = [_plain(np.stack(r).reshape(out_shape + np.shape(args[i]))) for r, i in zip(rows, wrt)]
        return results[0] if single else tuple(results)

    return _mark(functools.wraps(fn)(jacobian), "adc.jacrev")


def hessian(fn: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """The Hessian of scalar ``fn`` w.r.t. ``args[argnums]``: forward mode over the *generated*
    reverse-mode gradient (adc differentiates its own output).  ``H[in_index + in_index]``.

    Works when the generated gradient uses only what adc reads (scalar code, and array code without
    loops); otherwise an ``AdcError`` says which generated statement it could not read."""
    _check_function(fn, "adc.hessian")
    if not isinstance(argnums, (int, np.integer)) or isinstance(argnums, (bool, np.bool_)):
        raise DifferentiationError(f"hessian takes one argument index (argnums=int), got {argnums!r}")
    gradient = grad(fn, int(argnums))

    def hess(*args: Any, **kwargs: Any) -> Any:
        args = _bind(fn, args, kwargs)
        generated = gradient.specialize(*args)
        try:
            return jacfwd(generated, int(argnums))(*args)
        except EvaluationError:
            raise
        except AdcError as exc:
            raise DifferentiationError(
                f"hessian: adc could not differentiate the generated gradient of {fn.__name__} "
                f"again:\n{exc}\n(second derivatives work where the generated gradient uses only what "
                "adc reads: scalar and array code, and loops that need no record; otherwise use "
                "jacfwd on a hand-written gradient)") from None

    return _mark(functools.wraps(fn)(hess), "adc.hessian")

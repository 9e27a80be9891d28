"""The public API: ``grad``, ``value_and_grad``, ``jvp``, ``vjp``, ``source``, ``trace``.

Input: user functions and arguments.  Output: derivatives with the type and shape of the
arguments, generated source, and SSA traces.  This layer only converts arguments, asks the pipeline
for the (cached) compiled derivative for the arguments' types, calls it and shapes the results.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from .errors import AdcError, CompileError, DifferentiationError
from .pipeline import Compiled, compile_derivative, primal
from .trace import Trace
from .types import FLOAT, Type, type_of

Argnums = int | Sequence[int]


def _normalize_argnums(argnums: Argnums, nargs: int, name: str) -> tuple[list[int], bool]:
    single = isinstance(argnums, (int, np.integer))
    nums = [int(argnums)] if single else [int(a) for a in argnums]
    if not nums:
        raise DifferentiationError(f"argnums of {name} is empty; name at least one argument")
    for a in nums:
        if not -nargs <= a < nargs:
            raise DifferentiationError(f"argnums={argnums!r} is out of range for {name}() called with {nargs} arguments")
    nums = [a % nargs for a in nums]
    if len(set(nums)) != len(nums):
        raise DifferentiationError(f"argnums={argnums!r} repeats an argument")
    return nums, single


def _as_float(x: Any) -> Any:
    """A differentiated argument as floating point (ints are promoted; float32 arrays are kept)."""
    if isinstance(x, np.ndarray):
        return x if x.dtype.kind == "f" else x.astype(np.float64)
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise DifferentiationError(f"cannot differentiate with respect to an argument of type {type(x).__name__}; "
                                   "pass a float or a NumPy float array")
    return float(x)


def _prepare(args: Sequence[Any], wrt: Sequence[int]) -> tuple[list[Any], tuple[Type, ...]]:
    """Differentiated arguments as floats, lists as arrays, and the arguments' types."""
    args = _coerce(args, wrt)
    return args, tuple(type_of(a) for a in args)


def _coerce(args: Sequence[Any], wrt: Sequence[int]) -> list[Any]:
    """Differentiated arguments as floats (ints promoted), lists and tuples as arrays."""
    args = list(args)
    for i in wrt:
        a = args[i]
        if type(a) is not float and not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
            args[i] = _as_float(a)
    for i, a in enumerate(args):
        if isinstance(a, (list, tuple)):
            args[i] = np.asarray(a, dtype=float)
    return args


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


def _shape_like(value: Any, like: Any) -> Any:
    """A derivative with the type of its primal: float for a scalar, an array of its dtype."""
    if isinstance(like, np.ndarray):
        if isinstance(value, np.ndarray) and value.dtype == like.dtype and value.shape == like.shape \
                and value.flags.writeable:
            return value
        return np.array(np.broadcast_to(value, like.shape), dtype=like.dtype)
    return float(value)


def _call(compiled: Compiled, args: Sequence[Any]) -> Any:
    try:
        return compiled.func(*args)
    except Exception as exc:  # Numba reports typing/lowering problems on the first call
        if type(exc).__module__.startswith("numba") or (
                isinstance(exc, ImportError) and _dispatcher_type() is not type(None)
                and isinstance(compiled.func, _dispatcher_type())):
            raise CompileError(numba_message(compiled, exc)) from None
        raise


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


def _check_function(fn: Any) -> None:
    """adc reads Python source: built-ins and other callables without it are rejected clearly."""
    import types

    if not isinstance(fn, types.FunctionType):
        from .errors import SourceError

        name = getattr(fn, "__name__", repr(fn))
        raise SourceError(f"adc differentiates Python functions defined in source files; {name!r} is a "
                          f"{type(fn).__name__}; hint: wrap it, e.g. `def f(x): return math.sin(x)`")


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
        if mode not in ("reverse", "forward"):
            raise DifferentiationError(f"mode must be 'reverse' or 'forward', got {mode!r}")
        if not callable(fn):
            raise DifferentiationError(f"expected a function to differentiate, got {type(fn).__name__}")
        _check_function(fn)
        self.fn, self.argnums, self.mode, self.jit, self.with_value = fn, argnums, mode, jit, with_value
        self.__adc_wrapped__ = fn
        # the wrapper made by ``as_function`` and its globals: its fast path is set there
        self.wrapper: Callable[..., Any] | None = None
        self.fast_globals: dict[str, Any] | None = None
        self.runners: dict[tuple[Any, ...], Callable[[tuple[Any, ...]], Any]] = {}
        functools.update_wrapper(self, fn)

    def as_function(self) -> Callable[..., Any]:
        """A plain function with ``fn``'s parameters.  Until a scalar signature has compiled it
        sends every call to ``_call``; then ``_install_fast_path`` makes it the generated code
        itself (plain Python) or a type check in front of the Numba function (``jit``)."""
        from .frontend import param_names

        names = param_names(self.fn)
        params = ", ".join(names)
        tuple_ = f"({params}{',' if len(names) == 1 else ''})"
        checks = " and ".join(f"{n}.__class__ is _adc_t{k}_" for k, n in enumerate(names)) or "_adc_fast_ is not None"
        text = (f"def {self.fn.__name__}({params}):\n"
                f"    if {checks}:\n"
                f"        return _adc_fast_({params})\n"
                f"    return _adc_slow_({tuple_})\n")

        class Never:  # no argument has this type until a fast signature is known
            pass

        namespace: dict[str, Any] = {"_adc_fast_": None, "_adc_slow_": self._call}
        namespace.update({f"_adc_t{k}_": Never for k in range(len(names))})
        self.fast_globals = namespace
        exec(compile(text, f"<adc wrapper of {self.fn.__name__}>", "exec"), namespace)
        wrapper = self.wrapper = namespace[self.fn.__name__]
        functools.update_wrapper(wrapper, self.fn)
        wrapper.__adc_wrapped__ = self.fn  # type: ignore[attr-defined]
        wrapper.specialize = self.specialize  # type: ignore[attr-defined]
        wrapper.__wrapped__ = self.fn  # type: ignore[attr-defined]
        return wrapper

    def specialize(self, *args: Any) -> Callable[..., Any]:
        """The generated derivative function for arguments like ``args``, with no wrapper at all
        (what ``adc.source`` shows); call it with arguments of the same types and shapes."""
        wrt, _ = _normalize_argnums(self.argnums, len(args), self.fn.__name__)
        _, types = _prepare(args, wrt)
        kind = ("value_and_grad" if self.with_value else "grad") if self.mode == "reverse" else "jvp"
        return _checked(compile_derivative(self.fn, types, kind, wrt, self.jit))

    def _call(self, args: tuple[Any, ...]) -> Any:
        """Calls by argument signature: the first call of a signature checks, compiles and builds
        a small runner; later calls only compute the signature and run it."""
        key = tuple((a.dtype.char, a.shape) if isinstance(a, np.ndarray) else type(a) for a in args)
        runner = self.runners.get(key)
        if runner is not None:
            return runner(args)
        runner, fast = self._runner(args)
        result = runner(args)  # compiles under jit; errors surface here, before caching
        self.runners[key] = runner
        if fast is not None and self.fast_globals is not None and self.fast_globals["_adc_fast_"] is None:
            self._install_fast_path(fast, args)
        return result

    def _install_fast_path(self, fast: Compiled, args: tuple[Any, ...]) -> None:
        """Calls with exactly the types of ``args`` (the first scalar signature) skip the dispatch.
        Plain Python: the wrapper's code becomes the generated function's own, with an argument
        type guard in place of its docstring line (no extra call frame; line numbers still match
        the generated file).  Numba: the wrapper checks the types and calls the dispatcher."""
        namespace = self.fast_globals
        assert namespace is not None and self.wrapper is not None
        namespace["_adc_fast_"] = fast.func
        namespace.update({f"_adc_t{k}_": type(a) for k, a in enumerate(args)})
        mine = self.wrapper.__code__
        generated = getattr(fast.func, "__code__", None)
        if self.jit or generated is None or generated.co_varnames[:generated.co_argcount] != \
                mine.co_varnames[:mine.co_argcount]:  # keyword calls need the user's parameter names
            return
        code = _guarded_code(fast, namespace)
        if code is not None:
            self.wrapper.__code__ = code

    def _runner(self, args: tuple[Any, ...]) -> tuple[Callable[[tuple[Any, ...]], Any], Compiled | None]:
        _check_arity(self.fn, args)
        wrt, single = _normalize_argnums(self.argnums, len(args), self.fn.__name__)
        prepared, types = _prepare(args, wrt)
        kind = ("value_and_grad" if self.with_value else "grad") if self.mode == "reverse" else "jvp"
        compiled = compile_derivative(self.fn, types, kind, wrt, self.jit)
        _check_scalar_output(compiled, self.fn.__name__)
        with_value, reverse = self.with_value, self.mode == "reverse"
        like = [prepared[i] for i in wrt]

        def run(call_args: tuple[Any, ...]) -> Any:
            call_args = _coerce(call_args, wrt)
            if reverse:
                result = _call(compiled, call_args)
                if with_value:
                    value, grads = result[0], result[1:]
                else:
                    value, grads = None, ((result,) if len(wrt) == 1 else result)
            else:
                value, grads = _forward_gradient(compiled, call_args, wrt)
            grads = _unaliased(tuple(_shape_like(g, a) for g, a in zip(grads, like)), call_args)
            out = grads[0] if single else grads
            return (_output(value), out) if with_value else out

        fast = None
        scalars = all(type(a) in (float, int, bool) for a in args) and all(type(args[i]) is float for i in wrt)
        if reverse and not with_value and scalars and single == (len(wrt) == 1):
            fast = compiled
        return run, fast


def _guarded_code(compiled: Compiled, namespace: dict[str, Any]) -> Any:
    """The code of the generated function with its docstring line replaced by a guard that sends
    calls with other argument types to ``_adc_slow_``; the module's imports go into ``namespace``
    (the globals the code will run with).  ``None`` if the source does not have that shape."""
    import types

    func = compiled.func
    if not isinstance(func, types.FunctionType):
        return None
    code = func.__code__
    lines = compiled.source.splitlines(True)
    head = code.co_firstlineno - 1  # the ``def`` line
    doc = lines[head + 1].strip() if head + 1 < len(lines) else ""
    if not (doc.startswith('"""') and doc.endswith('"""') and len(doc) > 6):
        return None
    params = code.co_varnames[:code.co_argcount]
    checks = " or ".join(f"{p}.__class__ is not _adc_t{k}_" for k, p in enumerate(params))
    call = f"_adc_slow_(({', '.join(params)}{',' if len(params) == 1 else ''}))"
    lines[head + 1] = f"    if {checks}: return {call}\n" if params else "    pass\n"
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
    """The user's function behind an adc-transformed one (or ``fn`` itself)."""
    while hasattr(fn, "__adc_wrapped__"):
        fn = fn.__adc_wrapped__
    return fn


def _promoted(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[list[Any], tuple[Type, ...]]:
    """``jvp``/``vjp`` arguments: integer scalars count as real numbers (``f(2, 5)``) unless the
    function uses them as integers (an index, a range bound), then they pass through, like
    integer arrays (labels) always do."""
    from .errors import UnsupportedError

    scalars = [i for i, a in enumerate(args) if not isinstance(a, (bool, np.bool_))
               and isinstance(a, (int, np.integer)) and not isinstance(a, np.ndarray)]
    if scalars:
        promoted, types = _prepare(args, scalars)
        try:
            primal(fn, types)
            return promoted, types
        except UnsupportedError:
            pass
    return _prepare(args, [])


def _all_float_wrt(args: Sequence[Any]) -> list[int]:
    return [i for i, a in enumerate(args) if isinstance(a, (float, np.floating, np.ndarray))
            and (not isinstance(a, np.ndarray) or a.dtype.kind == "f")]


def _unflatten(values: Sequence[Any], tree: int | None) -> Any:
    values = [_output(v) for v in values]
    return values[0] if tree is None else tuple(values)


def jvp(fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *, jit: bool = False) -> tuple[Any, Any]:
    """``(f(*primals), J(primals) @ tangents)`` by forward mode, in one pass."""
    fn = original(fn)
    _check_function(fn)
    primals, tangents = tuple(primals), tuple(tangents)
    _check_arity(fn, primals)
    if len(primals) != len(tangents):
        raise DifferentiationError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    args, types = _promoted(fn, primals)
    wrt = _all_float_wrt(args)
    compiled = compile_derivative(fn, types, "jvp", wrt, jit)
    ts = [_as_float(tangents[i]) for i in wrt]
    result = _call(compiled, [*args, *ts])
    n = len(compiled.primal.outputs)
    tree = compiled.primal.out_tree
    return _unflatten(result[:n], tree), _unflatten(result[n:], tree)


def vjp(fn: Callable[..., Any], *primals: Any, jit: bool = False) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(f(*primals), pullback)``; ``pullback(cotangent)`` returns one cotangent per primal."""
    fn = original(fn)
    _check_function(fn)
    _check_arity(fn, primals)
    args, types = _promoted(fn, primals)
    wrt = list(range(len(args)))
    compiled = compile_derivative(fn, types, "vjp", wrt, jit)
    prog = compiled.primal
    n = len(prog.outputs)
    out = fn(*primals)

    def pullback(cotangent: Any) -> tuple[Any, ...]:
        cts = [cotangent] if prog.out_tree is None else list(cotangent)
        if len(cts) != n:
            raise DifferentiationError(f"pullback expected {n} cotangents, got {len(cts)}")
        cts = [_as_float(c) for c in cts]
        result = _call(compiled, [*args, *cts])
        return _unaliased(tuple(_shape_like(g, a) if isinstance(a, (float, np.ndarray)) else _output(g)
                                for g, a in zip(result[n:], args)), [*args, *cts])

    return out, pullback


def _types_for(fn: Callable[..., Any], at: Sequence[Any] | None) -> tuple[list[Any] | None, tuple[Type, ...]]:
    from .frontend import param_names

    if at is None:
        return None, tuple(FLOAT for _ in param_names(fn))
    args, types = _prepare(at, [])
    return args, types


def source(fn: Callable[..., Any], mode: str = "reverse", argnums: Argnums = 0, *, at: Sequence[Any] | None = None,
           compact: bool = False) -> str:
    """The generated derivative source, as ``adc source`` prints it.

    ``mode="reverse"`` gives the gradient function; ``mode="forward"`` the JVP (dual-number)
    function.  ``at`` gives example arguments whose types the code is specialised to (default: every
    argument a float).  By default the code has the lecture layout: a seed, then one adjoint
    statement per primal statement.  ``compact=True`` gives the code adc actually runs: the same
    derivative with the unit seed folded and every single-use scalar folded into its use."""
    fn = original(fn)
    _check_function(fn)
    if mode not in ("reverse", "forward"):
        raise DifferentiationError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    _, types = _types_for(fn, at)
    wrt, _ = _normalize_argnums(argnums, len(types), fn.__name__)
    kind = "grad" if mode == "reverse" else "jvp"
    compiled = compile_derivative(fn, types, kind, wrt, load=False, compact=compact)
    if kind == "grad":
        _check_scalar_output(compiled, fn.__name__)
    return compiled.source


def trace(fn: Callable[..., Any], at: Sequence[Any] | None = None) -> Trace:
    """The SSA program of ``fn``; ``str()`` is the ``v0 = ...`` listing, ``.tables(*args)`` the
    evaluation, forward-derivative and adjoint traces with values."""
    fn = original(fn)
    _check_function(fn)
    _, types = _types_for(fn, at)
    return Trace(fn, primal(fn, types), types)


def _plain(a: np.ndarray) -> Any:
    """A 0-d Jacobian (scalar in, scalar out) as a float."""
    return float(a) if a.shape == () else a


def _jacobian_args(fn: Callable[..., Any], argnums: Argnums, args: Sequence[Any]) -> tuple[list[int], bool, list[Any]]:
    wrt, single = _normalize_argnums(argnums, len(args), getattr(fn, "__name__", "f"))
    args = _coerce(args, wrt)
    return wrt, single, args


def jacfwd(fn: Callable[..., Any], argnums: Argnums = 0, *, jit: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fn`` by forward mode: one JVP per input component (use it for tall
    Jacobians, few inputs).  ``J[out_index + in_index]``, like ``jax.jacfwd``."""
    fn = original(fn)
    _check_function(fn)

    def jacobian(*args: Any) -> Any:
        wrt, single, args = _jacobian_args(fn, argnums, args)
        zeros = [np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0 for a in args]
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

    return jacobian


def jacrev(fn: Callable[..., Any], argnums: Argnums = 0, *, jit: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fn`` by reverse mode: one VJP per output component (use it for wide
    Jacobians, few outputs).  ``J[out_index + in_index]``, like ``jax.jacrev``."""
    fn = original(fn)
    _check_function(fn)

    def jacobian(*args: Any) -> Any:
        wrt, single, args = _jacobian_args(fn, argnums, args)
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

    return jacobian


def hessian(fn: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """The Hessian of scalar ``fn`` w.r.t. ``args[argnums]``: forward mode over the *generated*
    reverse-mode gradient (adc differentiates its own output).  ``H[in_index + in_index]``.

    Works when the generated gradient uses only what adc reads (scalar code, and array code without
    loops); otherwise an ``AdcError`` says which generated statement it could not read."""
    fn = original(fn)
    _check_function(fn)
    if not isinstance(argnums, (int, np.integer)):
        raise DifferentiationError("hessian takes one argument index (argnums=int)")
    gradient = grad(fn, int(argnums))

    def hess(*args: Any) -> Any:
        generated = gradient.specialize(*args)
        try:
            return jacfwd(generated, int(argnums))(*args)
        except AdcError as exc:
            raise DifferentiationError(
                f"hessian: adc could not differentiate the generated gradient of {fn.__name__} "
                f"again:\n{exc}\n(second derivatives work where the generated gradient uses only what "
                "adc reads: scalar and array code, and loops that need no record; otherwise use "
                "jacfwd on a hand-written gradient)") from None

    return hess

"""The public API: ``grad``, ``value_and_grad``, ``jvp``, ``vjp``, ``source``, ``trace``.

Input: user functions and arguments.  Output: derivatives with the type and shape of the
arguments, generated source, and SSA traces.  This layer only converts arguments, asks the pipeline
for the (cached) compiled derivative for the arguments' types, calls it and shapes the results.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from .errors import CompileError, DifferentiationError
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
    args = list(args)
    for i in wrt:
        args[i] = _as_float(args[i])
    for i, a in enumerate(args):
        if isinstance(a, (list, tuple)):
            args[i] = np.asarray(a, dtype=float)
    return args, tuple(type_of(a) for a in args)


def _shape_like(value: Any, like: Any) -> Any:
    """A derivative with the type of its primal: float for a scalar, an array of its dtype."""
    if isinstance(like, np.ndarray):
        return np.asarray(value, dtype=like.dtype).reshape(like.shape)
    return float(value)


def _call(compiled: Compiled, args: Sequence[Any]) -> Any:
    try:
        return compiled.func(*args)
    except Exception as exc:  # Numba reports typing/lowering problems on the first call
        if type(exc).__module__.startswith("numba"):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CompileError(f"Numba could not compile the generated {compiled.program.name} "
                               f"({type(exc).__name__}: {first}); hint: call with jit=False, or see "
                               f"adc.source() for the generated code") from None
        raise


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
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any) -> Any:
        _check_arity(self.fn, args)
        wrt, single = _normalize_argnums(self.argnums, len(args), self.fn.__name__)
        args, types = _prepare(args, wrt)
        if self.mode == "reverse":
            kind = "value_and_grad" if self.with_value else "grad"
            compiled = compile_derivative(self.fn, types, kind, wrt, self.jit)
            _check_scalar_output(compiled, self.fn.__name__)
            result = _call(compiled, args)
            if self.with_value:
                value, grads = result[0], result[1:]
            else:
                value, grads = None, ((result,) if len(wrt) == 1 else result)
        else:
            compiled = compile_derivative(self.fn, types, "jvp", wrt, self.jit)
            _check_scalar_output(compiled, self.fn.__name__)
            value, grads = _forward_gradient(compiled, args, wrt)
        grads = tuple(_shape_like(g, args[i]) for g, i in zip(grads, wrt))
        out = grads[0] if single else grads
        return (_output(value), out) if self.with_value else out


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
            return lambda f: Transformed(f, argnums, mode, jit, with_value)
        return Transformed(fn, argnums, mode, jit, with_value)

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
    args, types = _prepare(primals, [i for i, a in enumerate(primals) if not isinstance(a, (bool, np.bool_))
                                     and isinstance(a, (int, float, np.integer, np.floating, np.ndarray))])
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
    args, types = _prepare(primals, [i for i, a in enumerate(primals) if not isinstance(a, (bool, np.bool_))
                                     and isinstance(a, (int, float, np.integer, np.floating, np.ndarray))])
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
        return tuple(_shape_like(g, a) if isinstance(a, (float, np.ndarray)) else _output(g)
                     for g, a in zip(result[n:], args))

    return out, pullback


def _types_for(fn: Callable[..., Any], at: Sequence[Any] | None) -> tuple[list[Any] | None, tuple[Type, ...]]:
    from .frontend import param_names

    if at is None:
        return None, tuple(FLOAT for _ in param_names(fn))
    args, types = _prepare(at, [])
    return args, types


def source(fn: Callable[..., Any], mode: str = "reverse", argnums: Argnums = 0, *, at: Sequence[Any] | None = None) -> str:
    """The generated derivative source, as ``adc source`` prints it.

    ``mode="reverse"`` gives the gradient function; ``mode="forward"`` the JVP (dual-number)
    function.  ``at`` gives example arguments whose types the code is specialised to (default: every
    argument a float)."""
    fn = original(fn)
    _check_function(fn)
    if mode not in ("reverse", "forward"):
        raise DifferentiationError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    _, types = _types_for(fn, at)
    wrt, _ = _normalize_argnums(argnums, len(types), fn.__name__)
    kind = "grad" if mode == "reverse" else "jvp"
    compiled = compile_derivative(fn, types, kind, wrt, load=False)
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

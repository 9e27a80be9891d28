"""Batched tangents: ``k`` Jacobian-vector products in one pass (vector forward mode).

Input: a function, its arguments, and for each argument a tangent of its shape plus a trailing
axis of length ``k`` (``None``: the argument is not differentiated).  Output: ``f(*primals)`` and
the output's tangents, each of the output's shape plus the same trailing axis: direction ``i`` of
the result is the JVP along direction ``i`` of the tangents, as
``jax.vmap(lambda *t: jax.jvp(f, primals, t)[1], in_axes=-1, out_axes=-1)(*tangents)``.

The pass is the vector-mode JVP program (``vector.py``), seeded with the given tangents instead of
the identity ``jacfwd`` uses: the primal is computed once for all ``k`` directions.  That is what a
Jacobian with a known structure needs, for example one block per observation of bundle adjustment
(``benchmarks/gradbench/evals/ba.py``: 15 directions give every observation's 2 x 15 block).  Where
an op of ``f`` has no batched rule, it runs one JVP per direction instead (the same numbers).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .arguments import bind, check_function, coerce, parameter_names, prepare
from .errors import DifferentiationError, UnsupportedError
from .failures import run_generated
from .fastpath import Cache, cached_call, signature
from .pipeline import compile_derivative, primal
from .backend import Jit, check_jit
from .trees import TreeType


def batched_jvp(fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *,
                jit: Jit = False) -> tuple[Any, Any]:
    """``(f(*primals), J(primals) @ T)`` for ``k`` tangent directions at once, by vector forward mode.

    Args:
        fn: the function to differentiate (numbers and arrays in; a number, an array or a flat
            tuple of them out).
        primals: a tuple of arguments, one per parameter (defaults fill the rest).
        tangents: a tuple with, for each primal, its tangents stacked along a new last axis (shape
            ``primal.shape + (k,)``, the same ``k`` for all), or ``None`` for an argument that is not
            differentiated (zero tangents, and none of their terms computed).
        jit: compile the generated code with Numba (``"parallel"``: with ``parallel=True``,
            as for ``grad``).

    Returns:
        ``(f(*primals), tangent_out)``; ``tangent_out`` has the output's shape plus the last axis
        ``k`` (a tuple of such arrays for a tuple output).

    Example:
        >>> import numpy as np, adc
        >>> def f(x, y):
        ...     return x * y
        >>> T = np.stack([np.array([1.0, 0.0]), np.array([0.0, 1.0])], axis=-1)  # two directions for x
        >>> adc.batched_jvp(f, (np.array([2.0, 3.0]), np.array([5.0, 7.0])), (T, None))[1]
        array([[5., 0.],
               [0., 7.]])
    """
    check_jit(jit)
    key = None
    if type(primals) is tuple and type(tangents) is tuple and len(primals) == len(tangents):
        found = signature(primals)
        if found is not None and all(t is None or type(t) is np.ndarray for t in tangents):
            key = (found[0], tuple(None if t is None else (t.dtype.char, t.shape) for t in tangents))
    return cached_call(_RUNNERS, fn, ("batched_jvp", jit), key, lambda: _runner(fn, primals, tangents, jit),
                       primals, tangents)


_RUNNERS = Cache()


def _runner(fn: Callable[..., Any], primals: Any, tangents: Any,
            jit: bool) -> Callable[[Sequence[Any], Sequence[Any]], tuple[Any, Any]]:
    """The checked path, once per call signature: the checks, the compiled program and what a call
    must convert; returns the runner for calls like this one."""
    check_function(fn, "adc.batched_jvp")
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple) or len(primals) != len(tangents):
        raise DifferentiationError("batched_jvp takes a tuple of primals and a tuple of as many tangents (None for "
                                   "an argument that is not differentiated): adc.batched_jvp(f, (x, y), (tx, None))")
    args = bind(fn, primals)
    tangents = tuple(tangents) + (None,) * (len(args) - len(tangents))
    wrt = [i for i, t in enumerate(tangents) if t is not None]
    if not wrt:
        raise DifferentiationError("batched_jvp got no tangent: give one for at least one argument")
    prepared, types = prepare(fn, args, wrt)
    if any(isinstance(t, TreeType) for t in types):
        raise UnsupportedError(f"batched_jvp of {fn.__name__} with a dict, list or tuple argument: not supported "
                               "yet", None, "pass the arrays as separate arguments")
    ts, k = _tangents(fn, prepared, tangents, wrt)
    prog = primal(fn, types)
    n_out = len(prog.outputs)
    from .vector import supports

    batched = supports(prog, wrt)
    compiled = compile_derivative(fn, types, "vjvp" if batched else "jvp", wrt, jit)
    same_args = len(args) == len(primals) and all(a is b for a, b in zip(args, prepared))
    same_tangents = all(tangents[i] is t for i, t in zip(wrt, ts))

    def run(primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
        call_args = primals if same_args else coerce(fn, bind(fn, primals), wrt)
        call_ts = [tangents[i] for i in wrt] if same_tangents else _tangents(fn, call_args, tangents, wrt)[0]
        if batched:
            result = run_generated(compiled, [*call_args, *call_ts])
            outs, touts = list(result[:n_out]), list(result[n_out:])
        else:  # one JVP per direction
            runs = [run_generated(compiled, [*call_args, *(t[..., i] for t in call_ts)]) for i in range(k)]
            outs = list(runs[0][:n_out]) if k else _outputs(fn, call_args, n_out)
            touts = [np.stack([np.asarray(r[n_out + j]) for r in runs], axis=-1) if k
                     else np.zeros(np.shape(outs[j]) + (0,)) for j in range(n_out)]
        touts = [_spread(t, o, k) for t, o in zip(touts, outs)]
        if prog.out_tree is None:
            return outs[0], touts[0]
        return tuple(outs), tuple(touts)

    return run


def _tangents(fn: Callable[..., Any], args: Sequence[Any], tangents: Sequence[Any],
              wrt: list[int]) -> tuple[list[np.ndarray], int]:
    """The tangents as float arrays (of their primal's dtype) of their primal's shape plus one common
    last axis, and its length."""
    names = parameter_names(fn, len(args))
    out, k = [], None
    for i in wrt:
        name = names[i] if i < len(names) else f"argument {i}"
        shape = np.shape(args[i])
        dtype = args[i].dtype if isinstance(args[i], np.ndarray) else np.float64
        t = np.asarray(tangents[i], dtype=dtype)  # the same array when it has the dtype already
        if t.shape[:-1] != shape or t.ndim != len(shape) + 1:
            raise DifferentiationError(f"the tangents of {name} must have shape {shape} + (k,) (the directions along "
                                       f"a new last axis), got {t.shape}")
        if k is not None and t.shape[-1] != k:
            raise DifferentiationError(f"the tangents of {name} give {t.shape[-1]} directions, those before {k}: "
                                       "every tangent needs the same number k of directions")
        k = t.shape[-1]
        out.append(t)
    return out, int(k or 0)


def _outputs(fn: Callable[..., Any], args: Sequence[Any], n_out: int) -> list[Any]:
    result = fn(*args)
    return list(result) if n_out > 1 else [result]


def _spread(t: Any, out: Any, k: int) -> np.ndarray:
    """An output tangent of the output's shape plus ``k`` (a narrower one, such as a zero tangent, spread)."""
    t = np.asarray(t)
    shape = np.shape(out) + (k,)
    return t if t.shape == shape else np.array(np.broadcast_to(t, shape))


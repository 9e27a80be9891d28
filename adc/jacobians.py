"""Jacobians of Jacobians: ``adc.jacfwd``, ``adc.jacrev`` and ``adc.hessian`` over functions made by
``adc.jacfwd``, ``adc.jacrev`` and ``adc.hessian``, in all four combinations of modes.

Input: a stack of Jacobian transforms (``levels``, innermost first) over a function adc reads,
and the arguments of a call.  Output: the Jacobian of the Jacobian ... with JAX's layout (each
``jacfwd``/``jacrev`` appends the differentiated argument's axes to its function's output axes).

A Jacobian is a loop over unit seeds (one JVP per input component, one VJP per output component).
Each level's seed becomes a parameter of the program: ``jacrev(f)`` is, per seed ``ct``, the VJP
program of ``f`` (``vjp(x, ct)``), ``jacfwd(f)`` per seed ``dx`` its JVP program (``jvp(x, dx)``).
The next level transforms that program in the IR with respect to ``x`` only (the seeds are inputs
it does not differentiate): forward over reverse, reverse over reverse, reverse over forward or
forward over forward, with the records, tapes, loops and array writes of the inner program handled
by the runtime primitives' own rules.  The API runs the outermost program once per combination of
unit seeds and places each result in the tensor.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .errors import DifferentiationError, UnsupportedError

Level = tuple[str, int]  # ("jacfwd" | "jacrev", the index of the differentiated argument)


@dataclass(frozen=True)
class Stack:
    """A function adc reads (``base``) under Jacobian transforms (``levels``, innermost first)."""

    base: Callable[..., Any]
    levels: tuple[Level, ...]


def stack_of(fn: Any) -> Stack | None:
    """The transforms behind a function made by ``adc.jacfwd``/``adc.jacrev``/``adc.hessian`` (one
    ``argnums`` each), or ``None``."""
    spec = getattr(fn, "__adc_jacobian__", None)
    if spec is None:
        return None
    inner, levels = spec
    deeper = stack_of(inner)
    return Stack(inner, levels) if deeper is None else Stack(deeper.base, deeper.levels + levels)


def mark_jacobian(made: Callable[..., Any], fn: Callable[..., Any], levels: tuple[Level, ...] | None) -> None:
    """Record on ``made`` (made from ``fn``) the Jacobian transforms it stands for; ``None`` (a tuple
    ``argnums``) leaves it a function adc does not transform again."""
    if levels is not None:
        made.__adc_jacobian__ = (fn, levels)  # type: ignore[attr-defined]


def seeded_program(base: Callable[..., Any], types: Sequence[Any], levels: Sequence[Level]) -> Any:
    """The program of ``levels`` over ``base``: parameters ``base``'s, then one seed per level;
    yields the derivative for those seeds (cached with ``base``'s programs)."""
    from .calls import Stacks
    from .compose import as_primal, copy_ops
    from .identity import identity
    from .ir import Program
    from .pipeline import checked, derivative_program, primal
    from .trees import LEAF

    key = (identity(base), tuple(types), tuple(levels))
    hit = _programs.get(key)
    if hit is not None:
        return hit
    prog = primal(base, types)
    name = getattr(base, "__name__", "f")
    if prog.captured:
        raise UnsupportedError(f"a Jacobian of a Jacobian of {name}, which reads global or closure arrays: not "
                               "supported yet", None, "pass the arrays as arguments")
    if prog.out_tree is not None:
        raise DifferentiationError(f"a Jacobian of a Jacobian needs {name} to return one number or array, not a "
                                   "tuple; stack the outputs into an array")
    for kind, argnum in levels:
        d = derivative_program(prog, "jvp" if kind == "jacfwd" else "vjp", [argnum], compact=True, stacks=Stacks())
        # one definition per value; the inner derivative's values (its seed too) are primal values
        # of the program the next level differentiates, named after what they were (dx, gx)
        params = [p if p.role == "primal" else as_primal(p) for p in d.params]
        body = copy_ops(d, dict(zip(d.params, params)), primal_roles=True)
        body.yields = body.yields[-1:]
        prog = checked(Program(d.name, params, body, None, prog.filename, prog.firstline,
                               set(prog.user_names), LEAF, []))
    _programs[key] = prog
    return prog


_programs: dict[tuple[Any, ...], Any] = {}


def jacobian(stack: Stack, args: Sequence[Any], kwargs: dict[str, Any], jit: bool) -> Any:
    """The value of the transforms ``stack`` at ``args``: the outermost level's derivative program
    run once per combination of unit seeds."""
    from .arguments import bind, normalize_argnums, prepare
    from .failures import report, run_generated
    from .identity import identity
    from .pipeline import compile_derivative
    from .trees import TreeType

    base, levels = stack.base, stack.levels
    name = getattr(base, "__name__", "f")
    args = bind(base, args, kwargs)
    wrt = sorted({normalize_argnums(a, len(args), name)[0][0] for _, a in levels})
    levels = tuple((kind, normalize_argnums(a, len(args), name)[0][0]) for kind, a in levels)
    prepared, types = prepare(base, args, wrt)
    for i in wrt:
        t = types[i]
        if isinstance(t, TreeType) or t.kind != "float":
            raise DifferentiationError(f"a Jacobian of a Jacobian of {name} needs argument #{i} to be a float or "
                                       f"a float array, got {'a dict, list or tuple' if isinstance(t, TreeType) else t}")
    if any(isinstance(t, TreeType) for t in types):
        raise UnsupportedError(f"a Jacobian of a Jacobian of {name} with a dict, list or tuple argument: not "
                               "supported yet", None, "pass the arrays as separate arguments")
    inner = seeded_program(base, types, levels[:-1])
    kind, argnum = levels[-1]
    compiled = compile_derivative(base, types, "jvp" if kind == "jacfwd" else "vjp", [argnum], jit,
                                  program=inner, ident=("jacobians", identity(base), levels[:-1]))
    try:
        out = base(*prepared)
    except Exception as exc:  # the function itself fails at these arguments: say where
        report(compiled, exc, prepared)
    seeds, value, order = _layout(np.shape(out), [np.shape(prepared[a]) for _, a in levels], levels)
    table = np.zeros(tuple(int(np.prod(s)) for s in seeds) + value)
    for combo in itertools.product(*[range(int(np.prod(s))) for s in seeds]):
        units = [_unit(s, j) for s, j in zip(seeds, combo)]
        result = run_generated(compiled, [*prepared, *units])
        table[combo] = np.asarray(result[-1], dtype=float)
    full = table.reshape(tuple(d for s in seeds for d in s) + value)
    return _arranged(full, seeds, value, order)


def _layout(out_shape: tuple[int, ...], arg_shapes: list[tuple[int, ...]], levels: Sequence[Level]
            ) -> tuple[list[tuple[int, ...]], tuple[int, ...], list[object]]:
    """Each level's seed shape, the value's shape and the order of the result's axis groups (seed
    indices and ``"value"``): ``jacrev`` seeds the value's axes and appends the argument's,
    ``jacfwd`` seeds the argument's and appends them after the value's."""
    value = out_shape
    order: list[object] = ["value"]
    seeds = []
    for k, ((kind, _), shape) in enumerate(zip(levels, arg_shapes)):
        if kind == "jacrev":
            seeds.append(value)
            order[order.index("value")] = k
            order.append("value")
            value = shape
        else:
            seeds.append(shape)
            order.append(k)
    return seeds, value, order


def _unit(shape: tuple[int, ...], j: int) -> Any:
    if not shape:
        return 1.0
    e = np.zeros(shape)
    e.flat[j] = 1.0
    return e


def _arranged(full: np.ndarray, seeds: list[tuple[int, ...]], value: tuple[int, ...], order: list[object]) -> Any:
    """``full`` (axes: every seed's, then the value's) transposed into ``order``; a float if 0-d."""
    starts, k = {}, 0
    for i, s in enumerate(seeds):
        starts[i] = list(range(k, k + len(s)))
        k += len(s)
    starts["value"] = list(range(k, k + len(value)))
    axes = [a for group in order for a in starts[group]]  # type: ignore[index]
    out = np.transpose(full, axes)
    return float(out) if out.shape == () else out

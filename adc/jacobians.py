"""Jacobians of Jacobians: ``adc.jacfwd``, ``adc.jacrev`` and ``adc.hessian`` over functions made by
``adc.jacfwd``, ``adc.jacrev`` and ``adc.hessian``, in all four combinations of modes.

Input: a stack of Jacobian transforms (``levels``, innermost first, each with an argument index or a
tuple of them) over a function adc reads, and the arguments of a call (numbers, arrays, and dicts,
lists, tuples, namedtuples and dataclasses of them).  Output: the Jacobian of the Jacobian ... with
JAX's layout: each level puts, in place of every leaf of its function's result, the structure of
the arguments it differentiates (a tuple of them for a tuple ``argnums``), each leaf of shape
``result_leaf.shape + argument_leaf.shape``; so ``hessian(f)`` of a dict argument is a dict of dicts.

A Jacobian is a loop over unit seeds (one JVP per input component, one VJP per output component).
Each level's seed becomes a parameter of the program: ``jacrev(f)`` is, per seed ``ct``, the VJP
program of ``f`` (``vjp(x, ct)``), ``jacfwd(f)`` per seed ``dx`` its JVP program (``jvp(x, dx)``).
The next level transforms that program in the IR with respect to ``x`` only (the seeds are inputs
it does not differentiate): forward over reverse, reverse over reverse, reverse over forward or
forward over forward, with the records, tapes, loops, array writes and kept calls of the inner
program handled by the runtime primitives' own rules (``calls.py``).  A level that differentiates
several leaves (a tuple ``argnums``, a dict argument) is one such program per leaf (a *chain* picks
one leaf per inner level); the outermost level takes all its leaves in one program.  The API runs
that program once per combination of unit seeds and places each result in the tensor.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .errors import DifferentiationError, UnsupportedError
from .trees import LEAF, TreeDef, unflatten

Level = tuple[str, Any]  # ("jacfwd" | "jacrev", an argument index or a tuple of them)


@dataclass(frozen=True)
class Stack:
    """A function adc reads (``base``) under Jacobian transforms (``levels``, innermost first)."""

    base: Callable[..., Any]
    levels: tuple[Level, ...]


def stack_of(fn: Any) -> Stack | None:
    """The transforms behind a function made by ``adc.jacfwd``/``adc.jacrev``/``adc.hessian``, or ``None``."""
    spec = getattr(fn, "__adc_jacobian__", None)
    if spec is None:
        return None
    inner, levels = spec
    deeper = stack_of(inner)
    return Stack(inner, levels) if deeper is None else Stack(deeper.base, deeper.levels + levels)


def mark_jacobian(made: Callable[..., Any], fn: Callable[..., Any], levels: tuple[Level, ...]) -> None:
    """Record on ``made`` (made from ``fn``) the Jacobian transforms it stands for."""
    made.__adc_jacobian__ = (fn, levels)  # type: ignore[attr-defined]


def level_argnums(argnums: Any) -> Any:
    """``argnums`` as a level keeps it: an int, or a tuple of ints."""
    return int(argnums) if isinstance(argnums, (int, np.integer)) else tuple(int(a) for a in argnums)


def seeded_program(base: Callable[..., Any], types: Sequence[Any], chain: Sequence[tuple[str, int]]) -> Any:
    """The program of the levels ``chain`` over ``base``, each with the index of the one leaf it
    differentiates among ``base``'s program parameters: parameters ``base``'s, then one seed per
    level; yields the derivative for those seeds (cached with ``base``'s programs)."""
    from .calls import Stacks
    from .compose import as_primal, copy_ops
    from .identity import identity
    from .ir import Program
    from .pipeline import checked, derivative_program, primal

    key = (identity(base), tuple(types), tuple(chain))
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
    for kind, leaf in chain:
        d = derivative_program(prog, "jvp" if kind == "jacfwd" else "vjp", [leaf], compact=True, stacks=Stacks())
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
    """The value of the transforms ``stack`` at ``args``: per chain of leaves of the inner levels,
    the outermost level's derivative program run once per combination of unit seeds; the blocks
    put in the levels' structures (the result's structure outside, each level's arguments inside)."""
    from .arguments import call_flat
    from .failures import report
    from .identity import identity
    from .pipeline import compile_derivative

    base, kinds = stack.base, [kind for kind, _ in stack.levels]
    prepared, types, layout, picked = _arguments(stack, args, kwargs)
    leaves = [layout.leaf_positions(nums) for nums, _ in picked]
    shapes = [np.shape(v) for v in layout.leaves]
    blocks: dict[tuple[int, ...], Any] = {}
    out_shape: tuple[int, ...] | None = None
    for chain in itertools.product(*leaves[:-1]):
        inner = tuple(zip(kinds[:-1], chain))
        compiled = compile_derivative(base, types, "jvp" if kinds[-1] == "jacfwd" else "vjp", leaves[-1], jit,
                                      program=seeded_program(base, types, inner),
                                      ident=("jacobians", identity(base), inner))
        if out_shape is None:
            try:  # (on copies of the arrays: the function may write into its arguments)
                out_shape = np.shape(call_flat(base, prepared))
            except Exception as exc:  # the function itself fails at these arguments: say where
                report(compiled, exc, prepared)
        found = _outer_blocks(compiled, layout.leaves, kinds, [shapes[j] for j in chain],
                              [shapes[j] for j in leaves[-1]], out_shape)
        blocks.update({(*chain, j): block for j, block in zip(leaves[-1], found)})
    structures = [(layout.trees[nums[0]] or LEAF) if single else
                  TreeDef("tuple", (), tuple(layout.trees[i] or LEAF for i in nums)) for nums, single in picked]
    return _assembled(structures, leaves, blocks, ())


def _arguments(stack: Stack, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The call's arguments prepared (differentiated ones as floats), their types, their leaves
    (``trees.FlatArgs``) and each level's argument indices and whether it names one; a
    differentiated leaf that is not real is an error naming it."""
    from .arguments import bind, normalize_argnums, parameter_names, prepare
    from .trees import TreeType, flatten_args, leaf_paths

    base = stack.base
    name = getattr(base, "__name__", "f")
    args = bind(base, args, kwargs)
    picked = [normalize_argnums(a, len(args), name) for _, a in stack.levels]
    wrt = sorted({i for nums, _ in picked for i in nums})
    prepared, types = prepare(base, args, wrt)
    names = parameter_names(base, len(args))
    layout = flatten_args(prepared, names)
    leaf_types = [t for a in types for t in (a.leaves if isinstance(a, TreeType) else (a,))]
    paths = [p for tree, n in zip(layout.trees, names) for p in leaf_paths(tree or LEAF, n)]
    for k in layout.leaf_positions(wrt):
        if leaf_types[k].kind != "float":
            raise DifferentiationError(f"a Jacobian of a Jacobian of {name} needs {paths[k]} to be a float or a float "
                                       f"array, got {leaf_types[k]}")
    return prepared, types, layout, picked


def _outer_blocks(compiled: Any, values: list[Any], kinds: list[str], chain_shapes: list[tuple[int, ...]],
                  outer_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...]) -> list[Any]:
    """The derivative blocks for one chain and each leaf of the outermost level: its VJP program
    gives every leaf's block from one pass per seed, its JVP program one leaf's per pass."""
    from .failures import run_generated

    layouts = [_layout(out_shape, chain_shapes + [s], kinds) for s in outer_shapes]
    tables = [np.zeros(_sizes(seeds) + value) for seeds, value, _ in layouts]
    if kinds[-1] == "jacrev":  # the seeds do not depend on the leaf: one VJP per seed fills every table
        for combo, units in _seeded(layouts[0][0]):
            result = run_generated(compiled, [*values, *units])
            for k, table in enumerate(tables):
                table[combo] = np.asarray(result[len(result) - len(tables) + k], dtype=float)
    else:  # one JVP per seed and leaf, the other leaves' tangents zero
        for m, (seeds, _, _) in enumerate(layouts):
            for combo, units in _seeded(seeds):
                tangents = [units[-1] if k == m else _zero(s) for k, s in enumerate(outer_shapes)]
                tables[m][combo] = np.asarray(run_generated(compiled, [*values, *units[:-1], *tangents])[-1], dtype=float)
    return [_arranged(table.reshape(tuple(d for s in seeds for d in s) + value), seeds, value, order)
            for table, (seeds, value, order) in zip(tables, layouts)]


def _assembled(structures: list[TreeDef], leaves: list[list[int]], blocks: dict[tuple[int, ...], Any],
               chain: tuple[int, ...]) -> Any:
    """The blocks under the chains that start with ``chain``, in the structure of the next level."""
    level = len(chain)
    items = [blocks[(*chain, j)] if level == len(structures) - 1 else _assembled(structures, leaves, blocks, (*chain, j))
             for j in leaves[level]]
    return unflatten(structures[level], items)


def _sizes(seeds: list[tuple[int, ...]]) -> tuple[int, ...]:
    return tuple(int(np.prod(s)) for s in seeds)


def _seeded(seeds: list[tuple[int, ...]]) -> Iterator[tuple[tuple[int, ...], list[Any]]]:
    """Every combination of unit seeds: ``(indices, seeds)``."""
    for combo in itertools.product(*[range(n) for n in _sizes(seeds)]):
        yield combo, [_unit(s, j) for s, j in zip(seeds, combo)]


def _layout(out_shape: tuple[int, ...], arg_shapes: list[tuple[int, ...]], kinds: Sequence[str]
            ) -> tuple[list[tuple[int, ...]], tuple[int, ...], list[object]]:
    """Each level's seed shape, the value's shape and the order of the result's axis groups (seed
    indices and ``"value"``): ``jacrev`` seeds the value's axes and appends the argument's,
    ``jacfwd`` seeds the argument's and appends them after the value's."""
    value = out_shape
    order: list[object] = ["value"]
    seeds = []
    for k, (kind, shape) in enumerate(zip(kinds, arg_shapes)):
        if kind == "jacrev":
            seeds.append(value)
            order[order.index("value")] = k
            order.append("value")
            value = shape
        else:
            seeds.append(shape)
            order.append(k)
    return seeds, value, order


def _zero(shape: tuple[int, ...]) -> Any:
    return np.zeros(shape) if shape else 0.0


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

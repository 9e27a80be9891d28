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

from .errors import DifferentiationError
from .failures import run_generated
from .trees import LEAF, TreeDef, unflatten

JACOBIANS = ("adc.jacfwd", "adc.jacrev", "adc.hessian")
Level = tuple[str, Any]  # ("jacfwd" | "jacrev", an argument index or a tuple of them)


@dataclass(frozen=True)
class Stack:
    """A function adc reads (``base``) under Jacobian transforms (``levels``, innermost first)."""

    base: Callable[..., Any]
    levels: tuple[Level, ...]


def stack_of(fn: Any) -> Stack | None:
    """The transforms behind a function made by ``adc.jacfwd``/``adc.jacrev``/``adc.hessian``, or ``None``."""
    from .marks import made_mark

    spec = getattr(fn, "__adc_jacobian__", None)
    if spec is None or made_mark(fn) not in JACOBIANS:  # (a copy of the attribute: not a Jacobian)
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


def seeded_program(base: Callable[..., Any], types: Sequence[Any], out: int, chain: Sequence[tuple[str, int]]) -> Any:
    """The program of the levels ``chain`` over output leaf ``out`` of ``base``, each level with the
    index of the one leaf it differentiates among ``base``'s program parameters: parameters
    ``base``'s inputs, then one seed per level, then the global and closure arrays ``base`` reads
    (``failures.with_captured`` passes them last); yields the derivative for those seeds (cached
    with ``base``'s programs)."""
    from .calls import Stacks
    from .compose import as_primal, copy_ops
    from .identity import identity
    from .ir import Program
    from .pipeline import checked, derivative_program, primal

    key = (identity(base), tuple(types), out, tuple(chain))
    hit = _programs.get(key)
    if hit is not None:
        return hit
    prog = primal(base, types)
    captured = prog.params[len(prog.params) - len(prog.captured):]
    body = copy_ops(prog, {p: p for p in prog.params}, primal_roles=False)
    body.yields = body.yields[out:out + 1]  # one output leaf: the others' statements are dead code
    prog = Program(prog.name, list(prog.params), body, None, prog.filename, prog.firstline, set(prog.user_names),
                   LEAF, list(prog.captured))
    for kind, leaf in chain:
        d = derivative_program(prog, "jvp" if kind == "jacfwd" else "vjp", [leaf], compact=True, stacks=Stacks())
        # one definition per value; the inner derivative's values (its seed too) are primal values
        # of the program the next level differentiates, named after what they were (dx, gx)
        params = [p if p.role == "primal" else as_primal(p) for p in d.params]
        body = copy_ops(d, dict(zip(d.params, params)), primal_roles=True)
        body.yields = body.yields[-1:]
        params = [p for p in params if p not in captured] + captured
        prog = checked(Program(d.name, params, body, None, prog.filename, prog.firstline,
                               set(prog.user_names), LEAF, list(prog.captured)))
    _programs[key] = prog
    return prog


_programs: dict[tuple[Any, ...], Any] = {}


@dataclass
class Setting:
    """A call of the transforms ``stack``: its arguments prepared, their types and leaves
    (``trees.FlatArgs``), each level's argument indices and whether it names one, the leaves each
    level differentiates, and the function's result structure and output leaves' shapes."""

    stack: Stack
    prepared: list[Any]
    types: tuple[Any, ...]
    layout: Any
    picked: list[tuple[list[int], bool]]
    leaves: list[list[int]]
    result: TreeDef
    out_shapes: list[tuple[int, ...]]

    @property
    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.stack.levels]

    def shape(self, k: int) -> tuple[int, ...]:
        return np.shape(self.layout.leaves[k])

    def compiled(self, out: int, chain: Sequence[tuple[str, int]], kind: str, wrt: Sequence[int], jit: bool) -> Any:
        """The ``kind`` ("jvp" or "vjp") program, with respect to the leaves ``wrt``, of the levels
        ``chain`` over output leaf ``out``."""
        from .identity import identity
        from .pipeline import compile_derivative

        base, chain = self.stack.base, tuple(chain)
        return compile_derivative(base, self.types, kind, wrt, jit, program=seeded_program(base, self.types, out, chain),
                                  ident=("jacobians", identity(base), out, chain))

    def structure(self) -> TreeDef:
        """The structure of the transforms' value: the result's, each leaf replaced by the first
        level's structure, each of its leaves by the next level's, ..."""
        tree = LEAF
        for sub in reversed([self.result, *self.level_structures()]):
            tree = _graft(sub, tree)
        return tree

    def level_structures(self) -> list[TreeDef]:
        return [(self.layout.trees[nums[0]] or LEAF) if single else
                TreeDef("tuple", (), tuple(self.layout.trees[i] or LEAF for i in nums)) for nums, single in self.picked]

    def chains(self, levels: int) -> Iterator[tuple[int, tuple[int, ...]]]:
        """Every output leaf with every chain of leaves of the first ``levels`` levels, in the
        order of the value's leaves."""
        for out in range(len(self.out_shapes)):
            for chain in itertools.product(*self.leaves[:levels]):
                yield out, chain


def setting(stack: Stack, args: Sequence[Any], kwargs: dict[str, Any], real: Sequence[int] = ()) -> Setting:
    """The call's ``Setting`` (the arguments ``real`` also read as floats); the function is run
    once (on copies of the arrays: it may write into its arguments) for the shapes of its output
    leaves."""
    from .arguments import call_flat
    from .failures import report
    from .pipeline import compile_derivative, primal
    from .trees import leaves_like

    base = stack.base
    prepared, types, layout, picked = _arguments(stack, args, kwargs, real)
    prog = primal(base, types)
    try:
        value = call_flat(base, prepared)
    except Exception as exc:  # the function itself fails at these arguments: say where
        report(compile_derivative(base, types, "jvp", [], False), exc, prepared)
    outs = leaves_like(value, prog.result, f"the output of {getattr(base, '__name__', 'f')}")
    return Setting(stack, prepared, types, layout, picked, [layout.leaf_positions(nums) for nums, _ in picked],
                   prog.result, [np.shape(o) for o in outs])


def jacobian(stack: Stack, args: Sequence[Any], kwargs: dict[str, Any], jit: bool) -> Any:
    """The value of the transforms ``stack`` at ``args``: per output leaf and chain of leaves of
    the inner levels, the outermost level's derivative program run once per combination of unit
    seeds; the blocks put in the levels' structures (the result's structure outside, each level's
    arguments inside)."""
    return _value(setting(stack, args, kwargs), jit)


def _value(s: Setting, jit: bool) -> Any:
    kinds = s.kinds
    blocks: dict[tuple[int, ...], Any] = {}
    for out, chain in s.chains(len(kinds) - 1):
        compiled = s.compiled(out, tuple(zip(kinds[:-1], chain)), "jvp" if kinds[-1] == "jacfwd" else "vjp",
                              s.leaves[-1], jit)
        found = _outer_blocks(compiled, s.layout.leaves, kinds, [s.shape(j) for j in chain],
                              [s.shape(j) for j in s.leaves[-1]], s.out_shapes[out])
        blocks.update({(out, *chain, j): block for j, block in zip(s.leaves[-1], found)})
    return _assembled([s.result, *s.level_structures()], [list(range(len(s.out_shapes))), *s.leaves], blocks, ())


def jvp(stack: Stack, primals: Sequence[Any], tangents: Sequence[Any], real: Sequence[int], jit: bool
        ) -> tuple[Any, Any]:
    """``(J(primals), dJ)``: the value of the transforms ``stack`` and its derivative along
    ``tangents`` (one per primal, each with its primal's structure; the arguments ``real`` read
    as floats): every level seeded, the JVP of each seeded program run once per combination of
    unit seeds."""
    s = setting(stack, primals, {}, real)
    wrt = _real_leaves(s)
    from .arguments import direction_leaves, parameter_names

    names = parameter_names(s.stack.base, len(s.prepared))
    t_leaves = direction_leaves(tangents, s.layout, range(len(s.prepared)), [f"the tangent of {n}" for n in names], names)
    values, derivatives = {}, {}
    for out, chain in s.chains(len(s.kinds)):
        compiled = s.compiled(out, tuple(zip(s.kinds, chain)), "jvp", wrt, jit)
        seeds, value, order = _layout(s.out_shapes[out], [s.shape(j) for j in chain], s.kinds)
        tables = [np.zeros(_sizes(seeds) + value) for _ in range(2)]
        for combo, units in _seeded(seeds):
            result = run_generated(compiled, [*s.layout.leaves, *units, *(t_leaves[k] for k in wrt)])
            tables[0][combo], tables[1][combo] = result[0], result[1]
        values[(out, *chain)], derivatives[(out, *chain)] = (_arranged(t.reshape(_full(seeds, value)), seeds, value, order)
                                                             for t in tables)
    structures, leaves = [s.result, *s.level_structures()], [list(range(len(s.out_shapes))), *s.leaves]
    return _assembled(structures, leaves, values, ()), _assembled(structures, leaves, derivatives, ())


def vjp(stack: Stack, args: Sequence[Any], kwargs: dict[str, Any], real: Sequence[int], jit: bool
        ) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(J(args), pullback)``: ``pullback(C)``, for ``C`` with ``J``'s structure, is one
    cotangent per argument (its structure; the arguments ``real`` read as floats), ``sum C *
    dJ/dargument``: every level seeded, the VJP of each seeded program run once per combination
    of unit seeds with the part of ``C`` that seed combination gives."""
    from .trees import leaves_like

    s = setting(stack, args, kwargs, real)
    value = _value(s, jit)
    wrt = _real_leaves(s)
    tree = s.structure()
    name = getattr(stack.base, "__name__", "f")

    def pullback(cotangent: Any) -> tuple[Any, ...]:
        cts = iter(leaves_like(cotangent, tree, f"the cotangent of the Jacobian of {name}"))
        grads = [np.zeros(s.shape(k)) for k in range(len(s.layout.leaves))]
        for out, chain in s.chains(len(s.kinds)):
            seeds, shape, order = _layout(s.out_shapes[out], [s.shape(j) for j in chain], s.kinds)
            ct = np.asarray(next(cts), dtype=float)
            full = _full(seeds, shape)
            if ct.shape != tuple(full[i] for i in _axes(seeds, shape, order)):
                raise DifferentiationError(f"the cotangent of the Jacobian of {name} has a block of shape {ct.shape}, "
                                           "but it must have the shape of the Jacobian's block")
            table = np.transpose(ct, np.argsort(_axes(seeds, shape, order))).reshape(_sizes(seeds) + shape)
            compiled = s.compiled(out, tuple(zip(s.kinds, chain)), "vjp", wrt, jit)
            for combo, units in _seeded(seeds):
                result = run_generated(compiled, [*s.layout.leaves, *units, table[combo] if shape else float(table[combo])])
                for k, g in zip(wrt, result[1:]):
                    grads[k] += g
        plain = [float(g) if g.shape == () else g for g in grads]
        return tuple(s.layout.regroup(range(len(s.prepared)), plain))

    return value, pullback


def _real_leaves(s: Setting) -> list[int]:
    """The leaves of the positional arguments that are real (what ``jvp``/``vjp`` differentiate)."""
    from .arguments import positional
    from .trees import TreeType

    leaf_types = [t for a in s.types for t in (a.leaves if isinstance(a, TreeType) else (a,))]
    kept = s.layout.leaf_positions(range(positional(s.stack.base, len(s.prepared))))
    return [k for k in kept if leaf_types[k].kind == "float"]


def _graft(tree: TreeDef, sub: TreeDef) -> TreeDef:
    """``tree`` with every leaf replaced by ``sub``."""
    if tree.kind == "leaf":
        return sub
    return TreeDef(tree.kind, tree.keys, tuple(_graft(c, sub) for c in tree.children), tree.cls)


def _arguments(stack: Stack, args: Sequence[Any], kwargs: dict[str, Any], real: Sequence[int]) -> tuple[Any, ...]:
    """The call's arguments prepared (differentiated ones as floats), their types, their leaves
    (``trees.FlatArgs``) and each level's argument indices and whether it names one; a
    differentiated leaf that is not real is an error naming it."""
    from .arguments import bind, normalize_argnums, parameter_names, prepare
    from .trees import TreeType, flatten_args, leaf_paths

    base = stack.base
    name = getattr(base, "__name__", "f")
    args = bind(base, args, kwargs)
    picked = [normalize_argnums(a, len(args), name) for _, a in stack.levels]
    wrt = sorted({i for nums, _ in picked for i in nums} | set(real))
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
    return [_arranged(table.reshape(_full(seeds, value)), seeds, value, order)
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
        yield combo, [unit(s, j) for s, j in zip(seeds, combo)]


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


def unit(shape: tuple[int, ...], j: int) -> Any:
    """The ``j``-th unit array of ``shape`` (1.0 for a scalar)."""
    if not shape:
        return 1.0
    e = np.zeros(shape)
    e.flat[j] = 1.0
    return e


def _full(seeds: list[tuple[int, ...]], value: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of a table of passes with every seed's axes, then the value's."""
    return tuple(d for s in seeds for d in s) + value


def _axes(seeds: list[tuple[int, ...]], value: tuple[int, ...], order: list[object]) -> list[int]:
    """The axes of a ``_full`` table in the order of the result's axis groups ``order``."""
    starts, k = {}, 0
    for i, s in enumerate(seeds):
        starts[i] = list(range(k, k + len(s)))
        k += len(s)
    starts["value"] = list(range(k, k + len(value)))
    return [a for group in order for a in starts[group]]  # type: ignore[index]


def _arranged(full: np.ndarray, seeds: list[tuple[int, ...]], value: tuple[int, ...], order: list[object]) -> Any:
    """``full`` (axes: every seed's, then the value's) transposed into ``order``; a float if 0-d."""
    out = np.transpose(full, _axes(seeds, value, order))
    return float(out) if out.shape == () else out

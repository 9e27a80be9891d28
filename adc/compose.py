"""Transforms of functions made by adc: the program of ``adc.grad(f)`` is ``f``'s derivative program.

Input: a function made by ``adc.grad`` or ``adc.value_and_grad`` and the types of its arguments.
Output: an SSA ``Program`` that computes what the made function returns (the gradient, or the
value and the gradient), built from ``f``'s program by the reverse transform (or, for
``mode="forward"`` of one scalar argument, the forward transform seeded with 1; a forward-mode
gradient of an array is one pass per component, not one program, so it composes through the
reverse-mode program, which computes the same gradient).  A call of such a function inside a
function adc differentiates inlines this program (``inline_program``).  Every other
transform takes it as it takes a user's program, so ``adc.jvp(adc.grad(f), ...)``,
``adc.jacfwd(adc.jacrev``-style compositions, ``adc.hessian(adc.grad(f))`` and
``adc.grad(adc.grad(f))`` are IR transforms of IR transforms: forward over reverse (every runtime
primitive of the reverse sweep has a forward rule) or reverse over reverse (tapes and records get
adjoint tapes and records, adjoint buffers' ``+=`` their transposes).  Other made functions (``jacfwd``, ``jacrev``, ``hessian``, ``vjp``
pullbacks, ``has_aux``) are refused (``problem``).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .ir import Const, Op, Program, Region
from .trees import LEAF, TreeDef, TreeType
from .types import FLOAT, Type

COMPOSABLE = ("adc.grad", "adc.value_and_grad")


def made_by(fn: Any) -> Any:
    """The ``Transformed`` behind a function made by ``adc.grad``/``adc.value_and_grad``, or ``None``."""
    from .api import Transformed

    from .marks import made_mark

    owner = getattr(getattr(fn, "specialize", None), "__self__", None)
    return owner if isinstance(owner, Transformed) and made_mark(fn) else None


def problem(fn: Any) -> tuple[str, str] | None:
    """Why adc cannot transform the adc-made ``fn`` (message, hint), or ``None`` if it can."""
    from .marks import made_mark

    made = made_mark(fn)
    name = getattr(fn, "__name__", type(fn).__name__)
    owner = made_by(fn)
    if owner is not None and made in COMPOSABLE and not owner.has_aux:
        return None
    if getattr(fn, "__adc_bound__", False):  # adc.grad(functools.partial(g, ...)): not a gradient of a program
        return (f"adc cannot differentiate a function made by {made} of a functools.partial ({name}): adc composes "
                f"its transforms over functions, not over partial applications",
                f"write a function that makes the call with the bound arguments (`def g(t): return f(t, 2.0)`), "
                f"then transform that function ({made}(g), and {made} of {made}(g))")
    what = f"{made} with has_aux=True" if owner is not None and owner.has_aux else \
        f"{made} of a Jacobian" if made in COMPOSABLE else made
    return (f"adc cannot differentiate a function made by {what} ({name}) this way: adc composes every "
            f"transform over functions made by adc.grad and adc.value_and_grad, and adc.jacfwd, adc.jacrev and "
            f"adc.hessian over functions made by adc.jacfwd, adc.jacrev and adc.hessian (adc.jvp, adc.vjp and "
            f"adc.grad too)",
            "differentiate the plain function with the transform you need (adc.hessian(f), adc.hvp(f), "
            "adc.jacfwd(adc.grad(f)), adc.jacfwd(adc.jacrev(f)), ...)")


def inner_function(fn: Any) -> Callable[..., Any]:
    """The user's function under a made function (for parameter names)."""
    owner = made_by(fn)
    return inner_function(owner.fn) if owner is not None else fn


def identity_of(fn: Any, inner_identity: Callable[[Any], tuple[Any, ...]]) -> tuple[Any, ...]:
    owner = made_by(fn)
    argnums = owner.argnums if not isinstance(owner.argnums, list) else tuple(owner.argnums)
    return ("made", owner.transform, owner.mode, argnums, *inner_identity(owner.fn))


def program(fn: Any, types: Sequence[Any]) -> Program:
    """The program of the made function ``fn`` for arguments of ``types``."""
    from .api import _check_scalar_output
    from .arguments import normalize_argnums, positional
    from .calls import Stacks
    from .pipeline import derivative_program, primal

    owner = made_by(fn)
    inner = owner.fn
    name = getattr(inner, "__name__", "f")
    wrt, single = normalize_argnums(owner.argnums, positional(owner.fn, len(types)), name)
    inner_types = [_real(t, i, f"{owner.transform}({name})") if i in wrt else t for i, t in enumerate(types)]
    _check_scalar_output(inner, inner_types)
    prog = primal(inner, inner_types)
    with_value = owner.with_value
    spans = _spans(inner_types)
    leaves = [k for i in wrt for k in spans[i]]  # the program's parameters for the arguments ``wrt``
    leaf_types = [leaf for t in inner_types for leaf in (t.leaves if isinstance(t, TreeType) else (t,))]
    if owner.mode == "reverse" or len(leaves) != 1 or leaf_types[leaves[0]].is_array:
        # (a forward-mode gradient of an array, or of several arguments, is one pass per component,
        # not one program: composed through the reverse-mode program, which computes the same gradient)
        # kept calls keep their residuals on tapes, which the next transform passes by reference (calls.py)
        out = derivative_program(prog, "value_and_grad" if with_value else "grad", leaves, compact=True,
                                 stacks=Stacks())
    else:
        out = derivative_program(prog, "jvp", leaves, compact=True)
        tangent = out.params[-1]  # the one tangent parameter: seeded with 1, as the gradient is
        body = Region([], [Op("copy", [Const(1.0)], [tangent])] + out.body.ops, list(out.body.yields))
        n = len(prog.outputs)
        body.yields = body.yields[:1] + body.yields[n:n + 1] if with_value else body.yields[n:n + 1]
        out = Program(out.name, out.params[:-1], body, out.out_tree, out.filename, out.firstline)
    trees = [types[i].tree if isinstance(types[i], TreeType) else LEAF for i in wrt]
    grads = trees[0] if single else TreeDef("tuple", (), tuple(trees))
    result = TreeDef("tuple", (), (LEAF, grads)) if with_value else grads
    n_yields = len(out.body.yields)
    body = copy_ops(out, {p: p for p in out.params}, primal_roles=False)  # one definition per value
    composed = Program(f"{prog.name}_{'value_and_grad' if with_value else 'grad'}", list(out.params), body,
                       None if n_yields == 1 else n_yields, prog.filename, prog.firstline,
                       set(prog.user_names), result, list(prog.captured))
    return composed


def _real(t: Any, i: int, what: str) -> Any:
    """The type a differentiated argument ``#i`` is read with: an int counts as a float; a tree's
    leaves must be floats (or ints, counted as floats)."""
    from .errors import DifferentiationError

    if isinstance(t, TreeType):
        return TreeType(t.tree, tuple(_real(leaf, i, what) for leaf in t.leaves))
    if t.kind == "int" and not t.is_array:
        return FLOAT
    if t.kind != "float":
        raise DifferentiationError(f"{what} needs a float argument #{i}, got {t}")
    return t


def _spans(types: Sequence[Any]) -> list[range]:
    """The program parameters each argument of ``types`` becomes (one per leaf of a tree)."""
    spans, k = [], 0
    for t in types:
        n = len(t.leaves) if isinstance(t, TreeType) else 1
        spans.append(range(k, k + n))
        k += n
    return spans


def copy_ops(prog: Program, env: dict[Any, Any], primal_roles: bool) -> Region:
    """A copy of ``prog``'s body in which every definition is a new value (a gradient program
    restores a loop's values into the variables they came from; copied, each definition is a value
    of its own, as SSA and the reverse transform want), parameters read from ``env``, the markers
    dropped.  ``primal_roles``: the new values are primal values of the program they go into,
    named after what they were (``gx`` for the adjoint of ``x``)."""
    from .ir import Var, fresh_copy

    def fresh(v: Var) -> Var:
        return as_primal(v) if primal_roles else Var(hint=v.hint, type=v.type, role=v.role, base=v.base)

    return fresh_copy(prog.body, env, fresh)


def as_primal(v: Any) -> Any:
    """A new primal value for ``v``, named after what it was (``gx`` for the adjoint of ``x``)."""
    from .ir import Var

    prefix = {"adjoint": "g", "tangent": "d"}.get(v.role, "")
    hint = prefix + v.base.hint if prefix and v.base is not None and v.base.hint else v.hint
    return Var(hint=hint, type=v.type, role="primal")


def inline_program(prog: Program, args: Sequence[Any], b: Any) -> list[Any]:
    """Append a copy of ``prog``'s body (``copy_ops``) to builder ``b`` with its parameters bound
    to ``args``; returns the atoms it yields."""
    body = copy_ops(prog, dict(zip(prog.params, args)), primal_roles=True)
    for op in body.ops:
        b.append(op)
    return list(body.yields)

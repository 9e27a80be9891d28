"""The primitives of custom derivative rules (``adc.custom_vjp``, ``adc.custom_jvp``).

``custom_vjp(out, *inputs, *residuals)`` and ``custom_jvp(out, *inputs)`` have the value of
``out`` (computed by the user's forward function, inlined before them); their derivative rule
lowers the user's rule function into the transform's builder, so the generated code shows the
rule's own lines (``# from line N:``).
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence

from ..frontend_values import leaves, rebuild
from .registry import structural


def _lower_rule(b: Any, fn: Any, args: Sequence[Any]) -> Any:
    """The value of ``fn(*args)``, lowered into builder ``b`` (the user's rule, read like any code)."""
    from ..frontend import Lowerer, read_source
    from ..ir import Region

    low = Lowerer(read_source(fn), b)
    low.bind_params(list(args), top=False)
    start = len(b.region.ops)
    value = low.run()
    low.follow_numbers(Region(ops=b.region.ops[start:]))
    return value


def _vjp(b: Any, op: Any, g: Any) -> list[Any]:
    """Reverse mode of a ``custom_vjp`` function: ``bwd(residuals, g)``, one cotangent per input,
    each of its input's rank (JAX refuses a cotangent whose shape is not its argument's; adc would
    broadcast a number over an array)."""
    from ..errors import UnsupportedError

    rule, n = op.param("rule"), op.param("n_inputs")
    residuals = rebuild(op.param("residuals"), iter(op.args[1 + n:]))
    cotangents = leaves(_of_passed(_lower_rule(b, rule.bwd, [residuals, g]), op))
    if len(cotangents) != n:
        raise UnsupportedError(f"the bwd rule of {rule.__name__} returns {len(cotangents)} cotangents for "
                               f"{n} inputs", op.loc, "return a tuple with one cotangent per argument")
    for k, (a, ct) in enumerate(zip(op.args[1:], cotangents)):
        rank, want = getattr(getattr(ct, "type", None), "ndim", None), a.type.ndim
        if rank is not None and rank != want:
            raise UnsupportedError(f"the bwd rule of {rule.__name__} returns {_rank(rank)} as the cotangent of its "
                                   f"input {k + 1}, {_rank(want)}: a cotangent has its input's shape",
                                   op.loc, "return an array of the input's shape (`np.full_like(x, v)`, "
                                           "`np.zeros_like(x)`)" if want else "return a number")
    return [None, *cotangents, *[None] * (len(op.args) - 1 - n)]


def _of_passed(out: Any, op: Any) -> Any:
    """The cotangents ``bwd`` returns for the arguments the call passes: as JAX requires, ``bwd``
    returns one per parameter of the function, defaults included (``pd(x, k=2)`` called as
    ``pd(x)``: ``(g * k * x ** (k - 1), 0.0)``), and those of defaults not passed are dropped."""
    passed = op.param("inputs")  # the skeleton of the call's arguments (a tuple)
    if passed is None or not isinstance(out, tuple):
        return out
    n = len(passed[1])
    return out[:n] if n < len(out) <= len(inspect.signature(op.param("rule").fun).parameters) else out


def _rank(ndim: int) -> str:
    return "a number" if ndim == 0 else f"an array of rank {ndim}"


def _jvp(b: Any, op: Any, tangents: Sequence[Any]) -> Any:
    from ..zeros import zero_like

    rule = op.param("rule")
    inputs = op.args[1:]
    primals = rebuild(op.param("inputs"), iter(inputs))
    ts = [t if t is not None else zero_like(b, a) for a, t in zip(inputs, tangents[1:])]
    return _pair(_lower_rule(b, rule.jvp, [primals, rebuild(op.param("inputs"), iter(ts))]), op)[1]


def _transposed(b: Any, op: Any, g: Any) -> list[Any]:
    """Reverse mode of a ``custom_jvp`` function: the transpose of the rule's tangent map ``t ->
    jvp(primals, t)[1]``, linear in ``t`` (JAX's approach).  The rule is read as a program of the
    primals and the tangents; its reverse mode with respect to the tangents at cotangent ``g`` is
    that transpose, inlined (the tangents it no longer reads are zeros, dropped as dead code).  A
    rule whose cotangents depend on the tangents is not linear: refused."""
    from ..activity import varied
    from ..builder import Builder
    from ..compose import inline_program
    from ..errors import UnsupportedError
    from ..forward import tangent_type
    from ..ir import Program, Var
    from ..reverse import reverse
    from ..zeros import zero_like

    rule, inputs, skeleton = op.param("rule"), op.args[1:], op.param("inputs")
    primals = [Var(hint=getattr(a, "hint", None), type=a.type) for a in inputs]
    tangents = [Var(hint="t", type=tangent_type(p.type)) for p in primals]
    rb = Builder(simplify=False, role="primal")
    out = _pair(_lower_rule(rb, rule.jvp, [rebuild(skeleton, iter(primals)), rebuild(skeleton, iter(tangents))]), op)
    rb.region.yields = [out[1]]
    prog = Program(f"{rule.__name__}_jvp", primals + tangents, rb.region)
    wrt = [len(primals) + k for k, p in enumerate(primals) if p.type.kind == "float"]
    transpose = reverse(prog, wrt, cotangent_params=True)
    cotangents = transpose.outputs[1:]
    if varied(transpose, wrt) & set(cotangents):
        raise UnsupportedError(f"the jvp rule of {rule.__name__} is not linear in the tangents, so reverse mode "
                               "cannot transpose it", op.loc,
                               "return a tangent linear in the tangents (a factor computed from the primals times "
                               "the tangent), or give the function a custom_vjp rule")
    outs = inline_program(transpose, [*inputs, *[zero_like(b, a) for a in inputs], g], b)
    by_input = dict(zip(wrt, outs[1:]))
    return [None, *[by_input.get(len(primals) + k) for k in range(len(primals))]]


def _pair(out: Any, op: Any) -> tuple[Any, Any]:
    if not (isinstance(out, tuple) and len(out) == 2):
        from ..errors import UnsupportedError

        raise UnsupportedError(f"the jvp rule of {op.param('rule').__name__} must return (primal_out, tangent_out)",
                               op.loc, "return a pair")
    return out


def _identity(out: Any, *rest: Any, **params: Any) -> Any:
    return out


def _through(b: Any, op: Any, tangents: Sequence[Any]) -> Any:
    """Forward mode of a ``custom_vjp`` function: the tangent of ``fwd``'s own computation."""
    from ..zeros import zero_like

    return tangents[0] if tangents[0] is not None else zero_like(b, op.args[0])


# the call's value is ``out`` itself (``v2 = v1``): for adc's memory model a view of ``out`` where
# ``out`` is not an array the function made (``return x``: a later write into ``x`` is seen through the
# call's value, as in NumPy, and a write into the value is refused like any view's), new memory where
# it is (param ``new``, ``Lowerer.made_here``); a marker, not a computation: never made again
_MARKER = dict(view=True, copies=lambda op: bool(op.param("new")), recomputable=False)
structural("custom_vjp", lambda t, p: t[0], _identity, lambda ts, p: ts[0], jvp=_through, vjp=_vjp,
           used_by_reverse=True, **_MARKER)
structural("custom_jvp", lambda t, p: t[0], _identity, lambda ts, p: ts[0], jvp=_jvp, vjp=_transposed, **_MARKER)

"""The primitives of custom derivative rules (``adc.custom_vjp``, ``adc.custom_jvp``).

``custom_vjp(out, *inputs, *residuals)`` and ``custom_jvp(out, *inputs)`` have the value of
``out`` (computed by the user's forward function, inlined before them); their derivative rule
lowers the user's rule function into the transform's builder, so the generated code shows the
rule's own lines (``# from line N:``).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..frontend_values import leaves, rebuild
from .registry import structural


def _lower_rule(b: Any, fn: Any, args: Sequence[Any]) -> Any:
    """The value of ``fn(*args)``, lowered into builder ``b`` (the user's rule, read like any code)."""
    from ..frontend import Lowerer, read_source

    low = Lowerer(read_source(fn), b)
    low.bind_params(list(args), top=False)
    return low.run()


def _vjp(b: Any, op: Any, g: Any) -> list[Any]:
    rule, n = op.param("rule"), op.param("n_inputs")
    residuals = rebuild(op.param("residuals"), iter(op.args[1 + n:]))
    cotangents = leaves(_lower_rule(b, rule.bwd, [residuals, g]))
    if len(cotangents) != n:
        from ..errors import UnsupportedError

        raise UnsupportedError(f"the bwd rule of {rule.__name__} returns {len(cotangents)} cotangents for "
                               f"{n} inputs", op.loc, "return a tuple with one cotangent per argument")
    return [None, *cotangents, *[None] * (len(op.args) - 1 - n)]


def _jvp(b: Any, op: Any, tangents: Sequence[Any]) -> Any:
    from ..zeros import zero_like

    rule = op.param("rule")
    inputs = op.args[1:]
    primals = rebuild(op.param("inputs"), iter(inputs))
    ts = [t if t is not None else zero_like(b, a) for a, t in zip(inputs, tangents[1:])]
    out = _lower_rule(b, rule.jvp, [primals, rebuild(op.param("inputs"), iter(ts))])
    if not (isinstance(out, tuple) and len(out) == 2):
        from ..errors import UnsupportedError

        raise UnsupportedError(f"the jvp rule of {rule.__name__} must return (primal_out, tangent_out)", op.loc,
                               "return a pair")
    return out[1]


def _no_reverse(b: Any, op: Any, g: Any) -> list[Any]:
    from ..errors import UnsupportedError

    raise UnsupportedError(f"{op.param('rule').__name__} has a custom_jvp rule, which reverse mode cannot use yet "
                           "(transposing the rule is not built)", op.loc,
                           "use mode='forward' (adc.grad(f, mode='forward'), adc.jvp, adc.jacfwd), or give it a "
                           "custom_vjp rule")


def _identity(out: Any, *rest: Any, **params: Any) -> Any:
    return out


def _through(b: Any, op: Any, tangents: Sequence[Any]) -> Any:
    """Forward mode of a ``custom_vjp`` function: the tangent of ``fwd``'s own computation."""
    from ..zeros import zero_like

    return tangents[0] if tangents[0] is not None else zero_like(b, op.args[0])


structural("custom_vjp", lambda t, p: t[0], _identity, lambda ts, p: ts[0], jvp=_through, vjp=_vjp)
structural("custom_jvp", lambda t, p: t[0], _identity, lambda ts, p: ts[0], jvp=_jvp, vjp=_no_reverse)

"""The primitives of kept calls (``adc/calls.py``): ``call`` of another generated function, and the
``residuals`` tuple a forward part returns for its reverse part.

``outs = call(args; fn)`` calls the ``calls.Function`` ``fn``: a kept user function (its primal
program), or one of its derivatives (``det_jvp``, ``det_fwd``, ``det_bwd``).  It may have several
results (``y, det_res = det_fwd(M)``).  The transforms derive it themselves (``forward._call``,
``reverse._call``), as they derive branches and loops.  A reverse part takes the residual tuple
spread into its parameters (``det_bwd(*det_res, g)``); a residual that only some paths of the
forward part define starts as ``unset`` (``None``).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..types import FLOAT, Type
from .registry import STACKS, seq_text, structural

RESIDUALS = Type("residuals")  # the opaque tuple of what a reverse part needs


def _render(texts: Sequence[str], params: dict[str, Any]) -> str:
    fn = params["fn"]
    args = list(texts)
    if fn.spread and args:
        args[0] = f"*{args[0]}"
    return f"{fn.name or fn.label}({', '.join(args)})"


def _render_numba(texts: Sequence[str], params: dict[str, Any], types: Sequence[Type]) -> str:
    """``_render``, with integer and boolean constants typed (``f_fwd(x, np.int64(2), tape)``):
    called with a literal, Numba would compile a second, literal-typed version of the callee, and a
    recursive function cached in two versions crashes the next process that loads it."""
    def typed(text: str, t: Type) -> str:
        if t.kind == "int" and not t.is_array and text.lstrip("-").isdigit():
            return f"np.int64({text})"
        if t.kind == "bool" and not t.is_array and text in ("True", "False"):
            return f"np.bool_({text})"
        return text

    borrowed = params.get("borrowed", ())  # passed without reference counts (``borrowing.py``)
    retyped = params.get("any_layout", ())  # arrays typed as of any layout

    def spelled(k: int, x: str, t: Type) -> str:
        if k in borrowed:
            return f"adc_stacks.borrowed({x})"
        return f"adc_stacks.any_layout({x})" if k in retyped else typed(x, t)

    return _render([spelled(k, x, t) for k, (x, t) in enumerate(zip(texts, types))], params)


def _run(*args: Any, fn: Any) -> Any:
    """The interpreter's call: evaluate the callee's program (``evaluate.run``)."""
    from ..evaluate import run

    if fn.spread:
        args = (*args[0], *args[1:])
    outs, _ = run(fn.program, list(args))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _stacks_import(params: dict[str, Any]) -> str:
    return STACKS if params.get("borrowed") or params.get("any_layout") else ""


structural("call", _render, _run, lambda ts, p: FLOAT, calls=True, cse=False, foldable=False, may_raise=True,
           numba=_render_numba, numba_imports=_stacks_import)
# a call of a part that pushes onto or pops from its caller's tapes (``calls.Stacks``): kept in place
structural("call_stacked", _render, _run, lambda ts, p: FLOAT, calls=True, stateful=True, foldable=False,
           may_raise=True, numba=_render_numba, numba_imports=_stacks_import)
# a residual that only some paths define (a value made in a branch), before the branches run
def _placeholder(kind: object) -> str:
    """``None``, or with a tape kind (residuals on tapes, for Numba) a value of that kind."""
    from .runtime import _tape_item

    return "None" if kind is None else _tape_item(kind)


structural("unset", lambda t, p: _placeholder(p.get("kind")), lambda kind=None: None, lambda ts: FLOAT, cse=False,
           differentiable=False)
structural("residuals", lambda t, p: seq_text(t), lambda *a: tuple(a), lambda ts: RESIDUALS,
           differentiable=False, foldable=False)

"""Vector forward mode: a primal ``Program`` → a JVP program that carries all tangent directions
in one pass.

Input: a typed program and the parameters to differentiate.  Output: ``f_vjvp(*params,
*tangents) -> (*outputs, *output_tangents)``, the forward transform (``forward.py``) with a trailing
batch axis of length ``k`` on every tangent: a scalar's tangent is a ``(k,)`` array, an ``(n,)``
array's an ``(n, k)`` array.  Seeded with the identity, its output tangents are the columns of the
Jacobian, so ``jacfwd`` costs one pass instead of one per input component.

Element-wise partials broadcast over the batch axis (``p[..., None]``); structural ops use their
batched rule ``Primitive.vjvp`` (``prims/batching.py``); zeros get the batch axis from the first
tangent parameter.  A program with an op that has no batched rule, or a kept call (whose JVP
function takes one direction), raises ``Unbatched``:
``supports`` answers whether a program can be batched, and ``jacfwd`` falls back to one JVP per
direction when it cannot.
"""
from __future__ import annotations

from typing import Any, Callable

from .forward import STRUCTURED, Forward
from .ir import Atom, Const, Op, Program, Var
from .memory import is_array
from .prims import Primitive
from .prims.batching import partial_over_batch
from .types import Type


class Unbatched(Exception):
    """The program uses a primitive that has no batched JVP rule (its name)."""


class VectorForward(Forward):
    """``Forward`` with a trailing batch axis on every tangent."""

    def tangent_type(self, t: Type) -> Type:
        dtype = t.dtype if t.kind == "float" and t.ndim else "float64"
        return Type("float", t.ndim + 1, dtype, tuple(t.one(k) for k in range(t.ndim)) + (False,))

    @property
    def seed(self) -> Var:
        """A tangent parameter: its last axis is the batch axis."""
        return self.tangent_params[0]

    def zero(self, primal: Atom) -> Atom:
        array = primal.type is not None and primal.type.is_array
        out = self.b.emit("vzeros", primal, self.seed, params=(("array", True),) if array else ())
        return out

    def zero_array(self, primal: Var) -> Atom:
        return self.zero(primal)

    def scale(self, tangent: Atom, partial: Atom) -> Atom:
        return self.b.mul(tangent, partial_over_batch(self.b, partial))

    def widen(self, value: Atom, base: Var) -> Atom:
        if not isinstance(value, Var):  # a constant (zero) tangent: a real array, the loops carry it
            return self.zero(base)
        t, p = value.type, base.type
        if is_array(base) and t is not None and p is not None and (
                t.ndim < p.ndim + 1 or any(t.one(k) and not p.one(k) for k in range(p.ndim))):
            return self.b.emit("vbroadcast", value, base)
        return value

    def rule(self, p: Primitive) -> Callable[..., Any] | None:
        if p.jvp is None:
            return None  # element-wise (partials) or a store or new array (``structural``)
        batched = p.vjvp
        if batched is None:
            raise Unbatched(p.name)

        def apply(b: Any, op: Any, ts: Any) -> Any:
            out = batched(b, op, ts, self.zero)
            if out is None:
                raise Unbatched(p.name)
            if p.view and not is_array(op.out) and self.write_targets:
                # a scalar read is a copy, its batched tangent a view: copied, or a later write
                # into the array would change it
                out = b.emit("acopy", out)
            return out
        return apply

    def run(self) -> Program:
        out = super().run()
        out.name = f"{self.program.name}_vjvp"
        return out


def _unbatched_call(fw: Forward, op: Op) -> None:
    """A kept call (``calls.py``): its JVP function takes one tangent per argument, not a batch of
    them, so the Jacobian is made one JVP per input component."""
    raise Unbatched(op.prim)


VectorForward.structured = {**STRUCTURED, "call": _unbatched_call, "call_stacked": _unbatched_call}


def vector_forward(program: Program, wrt: list[int]) -> Program:
    """The vector-mode JVP program of ``program`` with respect to ``program.params[wrt]``; raises
    ``Unbatched`` if an op has no batched rule."""
    return VectorForward(program, wrt).run()


_supported: dict[tuple[int, tuple[int, ...]], tuple[Program, bool]] = {}


def supports(program: Program, wrt: list[int]) -> bool:
    """Whether ``program`` can be differentiated in vector mode (cached per program)."""
    key = (id(program), tuple(wrt))
    known = _supported.get(key)
    if known is not None and known[0] is program:
        return known[1]
    try:
        vector_forward(program, wrt)
        ok = True
    except Unbatched:
        ok = False
    _supported[key] = (program, ok)
    return ok

"""Forward mode: a primal ``Program`` → its tangent (JVP) ``Program``.

Input: a typed program and the indices of the parameters to differentiate.  Output: a program
``f_jvp(*params, *tangents) -> (*outputs, *output_tangents)`` in which every active primal
statement is followed by its tangent statement ``dv = sum_i dv_i * partial_i`` (dual numbers), the
partials read from the primitive registry.  Structured ops keep their shape: an ``if`` also yields the
tangents of the values it merges, a loop also carries the tangents of its carried values, and an
array ``y`` written with active values gets a tangent array ``dy`` written alongside.  A kept call
(``calls.py``) calls the callee's JVP function.
"""
from __future__ import annotations

from typing import Any, Callable

from .activity import is_active_type, varied
from .builder import Builder, apply
from .calls import jvp_function, tape_args
from .ir import Atom, Const, Op, Program, Region, Var, walk
from .memory import Memory, is_array, is_view, writes
from .prims import prim
from .types import Type
from .zeros import keep_dtype, zero_like


def tangent_type(t: Type) -> Type:
    """A float's tangent is a float (of its dtype), an int's a float; a tape's is a tape."""
    return t if t.kind in ("float", "tape") else t.with_(kind="float", dtype="float64")


class Forward:
    structured: dict[str, Callable[["Forward", Op], None]]  # the handlers of structured ops (below)

    def __init__(self, program: Program, wrt: list[int]) -> None:
        self.program = program
        self.active = varied(program, wrt)
        self.b = Builder(simplify=True)
        self.tangent: dict[Var, Atom] = {}
        self.tangent_params = []
        # arrays the program writes into: their tangents are buffers of their own, written alongside
        self.write_targets = {op.args[0] for op in walk(program.body) if writes(op)}
        self.memory = Memory(program) if self.write_targets else None
        for i in wrt:
            p = program.params[i]
            t = Var(type=self.tangent_type(p.type), role="tangent", base=p)
            self.tangent_params.append(t)
            if p in self.active:
                self.tangent[p] = t

    # -- what vector mode (``vector.py``) changes: a tangent's type, zeros, partials, rules ---------
    def tangent_type(self, t: Type) -> Type:
        return tangent_type(t)

    def zero(self, primal: Atom) -> Atom:
        """A zero tangent for ``primal``."""
        return zero_like(self.b, primal)

    def zero_array(self, primal: Var) -> Atom:
        """A new zero array, the tangent of array ``primal``."""
        return self.b.emit("zeros_like", primal)

    def scale(self, tangent: Atom, partial: Atom) -> Atom:
        """An argument's tangent times the local partial of an element-wise op."""
        return self.b.mul(tangent, partial)

    def widen(self, value: Atom, base: Var) -> Atom:
        """``value``, a tangent of fewer dimensions than ``base`` (``a + x``, scalar ``a``), spread
        over the shape of ``base``."""
        return self.b.emit("broadcast", value, base) if _narrower(value, base) else value

    def rule(self, p: Any) -> Callable[..., Any] | None:
        """The JVP rule of primitive ``p`` (``None``: derived from its partials or by ``structural``)."""
        return p.jvp

    def new_tangent(self, primal: Var) -> Var:
        return Var(type=self.tangent_type(primal.type), role="tangent", base=primal)

    def name(self, value: Atom, base: Var, mark: int, fresh: bool, op: Op | None = None) -> Atom:
        """Make ``value`` the tangent of ``base``: rename it if it was made just now.  The tangent
        of an array the program writes into must be a new array (never a view, the caller's
        tangent or another value's tangent, which the writes would change too); so must the
        tangent of a new array (``fresh``: not a view, made by ``op``) in a program that writes
        arrays, since the tangent it would share may be written later (``y4 = y2 * 1.0`` then
        ``y2[0] = ...``), unless no array ``op`` reads or makes is ever written: a shared tangent
        is then only ever the tangent of arrays whose memory no write changes."""
        value = self.widen(value, base)  # a + x with scalar a: the tangent da has the shape of x
        value = keep_dtype(self.b, value, self.tangent_type(base.type))  # a float32 value has a float32 tangent
        made = next((op for op in self.b.region.ops[mark:] if value in op.outs), None)
        root = made  # a reshape of a new array made just now (``product.reshape(...)``) shares nothing
        while root is not None and root.prim == "reshape" and isinstance(root.args[0], Var):
            root = next((op for op in self.b.region.ops[mark:] if root.args[0] in op.outs), None)
        shared = root is None or is_view(root)
        if is_array(base) and shared and (base in self.write_targets
                                          or (fresh and self.write_targets and isinstance(value, Var)
                                              and self._may_be_written(op, base))):
            value = self.zero_array(base) if not isinstance(value, Var) else self.b.emit("acopy", value)
            made = self.b.region.ops[-1]
        if isinstance(value, Var) and value.role == "tmp" and made is not None:
            value.role, value.base = "tangent", base
        return value

    def _may_be_written(self, op: Op | None, base: Var) -> bool:
        """Can the memory of ``base`` or of an array argument of ``op`` (``None``: unknown) be written?"""
        if op is None or self.memory is None:
            return True
        return any(self.memory.written(v) for v in (base, *op.args) if isinstance(v, Var))

    def of(self, a: Atom) -> Atom:
        """The tangent of ``a`` (zero if it has none)."""
        if isinstance(a, Var) and a in self.tangent:
            return self.tangent[a]
        return self.zero(a)

    # -- statements ----------------------------------------------------------------------------
    def region(self, ops: list[Op]) -> None:
        for op in ops:
            apply(self, op, self.structured)

    def op(self, op: Op) -> None:
        self.b.append(op)
        rule = prim(op)
        if rule is None or not any(o in self.active for o in op.outs) and not (
                rule.effect and op.args and op.args[0] in self.active):
            return
        with self.b.at(op.loc):
            mark = len(self.b.region.ops)
            jvp = self.rule(rule)
            if jvp is not None and rule.effect:  # a push onto a tape of active values
                jvp(self.b, op, [self.tangent.get(a) if isinstance(a, Var) else None for a in op.args])
                return
            if jvp is not None:
                t = jvp(self.b, op, [self.tangent.get(a) if isinstance(a, Var) else None for a in op.args])
                self.tangent[op.out] = self.name(t, op.out, mark, not rule.view, op)
                return
            if rule.render is not None:
                self.structural(op)
                return
            partials = rule.partials(self.b, op.args, op.out)
            total: Atom = Const(0.0)
            for a, p in zip(op.args, partials):
                if p is None or not isinstance(a, Var) or a not in self.tangent:
                    continue
                total = self.b.add(total, self.scale(self.tangent[a], p))
            self.tangent[op.out] = self.name(total, op.out, mark, not rule.view, op)

    def structural(self, op: Op) -> None:
        """Tangents of indexing, stores and array construction (they are linear)."""
        args = op.args
        if op.prim in ("setitem", "index_add"):
            self.b.append(Op(op.prim, [self.tangent[args[0]], *args[1:-1], self.of(args[-1])], [], op.params))
        elif op.prim == "iadd":
            self.b.append(Op("iadd", [self.tangent[args[0]], self.of(args[1])], []))
        elif op.prim == "acopy" and args[0] in self.tangent:
            t = self.b.emit("acopy", self.tangent[args[0]])
            t.role, t.base = "tangent", op.out
            self.tangent[op.out] = t
        else:  # a new array (zeros, ones, empty, *_like): its tangent starts at zero
            t = self.zero_array(op.out)
            t.role, t.base = "tangent", op.out
            self.tangent[op.out] = t

    def run(self) -> Program:
        self.region(self.program.body.ops)
        outs = list(self.program.outputs)
        with self.b.at(None):
            touts = [self.of(o) for o in outs]
        body = self.b.region
        body.yields = outs + touts
        return Program(f"{self.program.name}_jvp", self.program.params + self.tangent_params, body,
                       len(body.yields), self.program.filename, self.program.firstline)

    # -- structured ops ------------------------------------------------------------------------
    def subregion(self, reg: Region, extra_args: list[Var]) -> Region:
        """``reg`` with its tangent statements and the extra (tangent) region arguments."""
        new = Region(args=[*reg.args, *extra_args])
        with self.b.into(new):
            self.region(reg.ops)
        return new


def _narrower(value: Atom, primal: Var) -> bool:
    """Is ``value`` (a nonzero tangent) of fewer dimensions, or of length 1 along more axes, than
    the array ``primal`` it is the tangent of?"""
    if not is_array(primal) or not isinstance(value, Var) or value.type is None:
        return False
    t, p = value.type, primal.type
    return t.ndim < p.ndim or any(t.one(k) and not p.one(k) for k in range(p.ndim))


def _active_slots(fw: Forward, op: Op, targets: list[Var]) -> list[int]:
    return [k for k, o in enumerate(targets) if o in fw.active]


def _if(fw: Forward, op: Op) -> None:
    slots = _active_slots(fw, op, op.outs)
    regions = []
    for reg in op.regions:
        new = fw.subregion(reg, [])
        with fw.b.into(new):
            new.yields = list(reg.yields) + [fw.of(reg.yields[k]) for k in slots]
        regions.append(new)
    touts = [fw.new_tangent(op.outs[k]) for k in slots]
    fw.b.append(Op("if", op.args, op.outs + touts, op.params, op.loc, regions))
    fw.tangent.update({op.outs[k]: t for k, t in zip(slots, touts)})


def _loop(fw: Forward, op: Op) -> None:
    is_for = op.prim == "for"
    head = 1 if is_for else 0
    body = op.regions[-1]
    carried_args = body.args[head:]
    n = len(carried_args)
    inits = op.args[3:] if is_for else op.args
    slots = [k for k in range(n) if carried_args[k] in fw.active]
    t_inits = [fw.of(inits[k]) for k in slots]
    for k, t in zip(slots, t_inits):  # zeros made just now: named as the tangent they start (``dh``)
        if isinstance(t, Var) and inits[k] not in fw.tangent:
            t.role, t.base = "tangent", carried_args[k]
    new_regions = []
    for reg in op.regions:
        args = reg.args[head:] if reg is body else reg.args
        t_args = [fw.new_tangent(args[k]) for k in slots]
        fw.tangent.update({args[k]: t for k, t in zip(slots, t_args)})
        new = fw.subregion(reg, t_args)
        with fw.b.into(new):
            if reg is body:
                ys = list(reg.yields)
                stop = ys[n:]
                new.yields = ys[:n] + [fw.of(ys[k]) for k in slots] + stop
            else:
                new.yields = list(reg.yields)
        new_regions.append(new)
    touts = [fw.new_tangent(op.outs[k]) for k in slots]
    args = (op.args[:3] if is_for else []) + list(inits) + t_inits
    fw.b.append(Op(op.prim, args, op.outs + touts, op.params, op.loc, new_regions))
    fw.tangent.update({op.outs[k]: t for k, t in zip(slots, touts)})


def _call(fw: Forward, op: Op) -> None:
    """A kept call with active arguments calls the callee's JVP function (``calls.py``):
    ``y, dy = f_jvp(x, n, dx)``; a tape it takes that holds active values has a tangent tape, which
    it takes too (a derivative's part differentiated again: ``f_fwd_jvp(x, tape, dx, dtape)``)."""
    wrt = tuple(k for k, a in enumerate(op.args) if isinstance(a, Var) and a in fw.tangent)
    if not wrt or not (any(o in fw.active for o in op.outs) or tape_args(op, wrt)):
        fw.b.append(op)
        return
    fn = jvp_function(op, wrt)
    touts = [fw.new_tangent(o) for o in op.outs]
    fw.b.append(Op(op.prim, [*op.args, *(fw.tangent[op.args[k]] for k in wrt)], op.outs + touts, (("fn", fn),),
                   op.loc))
    for o, t in zip(op.outs, touts):
        if o in fw.active and o in fw.write_targets and is_array(o):  # written: a tangent of its own
            t = fw.b.emit("acopy", t)
            t.role, t.base = "tangent", o
        if o in fw.active:
            fw.tangent[o] = t


STRUCTURED = {"if": _if, "for": _loop, "while": _loop, "call": _call, "call_stacked": _call}
Forward.structured = STRUCTURED


def forward(program: Program, wrt: list[int]) -> Program:
    """The JVP program of ``program`` with respect to ``program.params[wrt]``."""
    return Forward(program, wrt).run()

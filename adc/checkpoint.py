"""Checkpointed loops: reverse mode of a long loop in memory bounded by a number of snapshots.

Input: a ``for`` loop over a range of known length (step 1), or a ``while`` loop, with no
``break``, whose reverse body the reverse transform has built (``rev``: the adjoint of one
iteration, reading the primal values of that iteration), and the number of snapshots. Output: the
loop's statements in the forward sweep and in the reverse sweep, written into the program in place
of recording every iteration.

The forward sweep runs the plain loop and stores the carried state before the steps Revolve picks
(``x_snap[adc_revolve.forward(plan, i)] = x``).  The reverse sweep runs over the steps backwards;
for step ``step`` it takes the last snapshot at or before it, recomputes forward to ``step``
(storing new snapshots where Revolve says), runs that one step again with what its adjoint needs
kept in variables (nested branches and loops use their tapes, emptied by the adjoint right after)
and then the adjoint.  The schedule is computed online by the kernels of ``prims/revolve.py``;
memory holds at most ``snapshots`` states (plus a scratch slot) whatever the trip count.  A
``while`` loop differs only in its forward sweep: the plan is made without the trip count
(``adc_revolve.online``) and the loop counts its steps, the reverse loop's range.
"""
from __future__ import annotations

from typing import Callable

from .errors import UnsupportedError
from .ir import Const, Op, Program, Region, Var, defined_in, walk
from .memory import Memory
from .prims import prim
from .save_policy import free_vars, tape_kind
from .types import BOOL, INT, Type


PLAIN = (("break", False),)  # the loops it writes are plain loops (not checkpointed again)


def check(loop: Op, snapshots: int, nested: bool, memory: Memory) -> None:
    """Refuse a loop that cannot be checkpointed, at the loop, saying what to do instead."""
    what = f"`{loop.loc.text.strip()}`" if loop.loc is not None else "this loop"
    if loop.param("break"):
        raise UnsupportedError(f"checkpointing needs a loop with no `break` or `return`: {what}", loop.loc,
                               "move the early exit into a `while` condition or after the loop, or do not "
                               "checkpoint it")
    if loop.prim == "for" and not (isinstance(loop.args[2], Const) and loop.args[2].value == 1):
        raise UnsupportedError(f"checkpointing needs a loop over a range with step 1: {what}", loop.loc,
                               "loop over range(first, end) and compute the value from the index, or do not "
                               "checkpoint it")
    if nested:
        raise UnsupportedError(f"a checkpointed loop inside another loop is not supported: {what}", loop.loc,
                               "checkpoint the outermost loop (its inner loops are then recomputed per step)")
    if snapshots < 1 or isinstance(snapshots, bool):
        raise UnsupportedError(f"checkpointing needs at least one snapshot, got {snapshots!r}", loop.loc,
                               "pass snapshots=k (or checkpoints=k) with k >= 1")
    effects = [op for op in walk(loop.regions[-1]) if (p := prim(op)) is not None and p.side_effect]
    if any(op.prim == "push" and op.args[0].role == "primal" for op in effects):  # a list of the user's
        raise UnsupportedError(f"a checkpointed loop may not append to a list (a recomputed step would append "
                               f"again): {what}", loop.loc, "do not checkpoint this loop")
    if effects:  # a store into an array, or a tape's push or pop (a derivative program): not repeatable
        raise UnsupportedError(f"a checkpointed loop may not write into arrays (snapshots keep only the values "
                               f"the loop carries): {what}", loop.loc,
                               "make new arrays in the loop (np.where, np.concatenate), or do not checkpoint it")
    body = loop.regions[-1]
    for v in free_vars(body, defined_in(body)):
        if v.type is not None and v.type.is_array and memory.written(v):
            name = f"`{v.hint}`" if v.hint else "an array"
            raise UnsupportedError(f"a checkpointed loop reads {name}, which the function writes into: a "
                                   f"recomputed step could read it changed ({what})", loop.loc,
                                   f"read a copy made before the loop (`{v.hint or 'a'}_0 = {v.hint or 'a'}.copy()`), "
                                   "or do not checkpoint it")


def refuse_reverse_over(program: Program) -> None:
    """Reverse mode over a checkpointed gradient (its snapshot slots are overwritten, so their
    stores and reads do not transpose like a record's) is refused at the checkpointed loop."""
    made = next((op for op in walk(program.body) if op.prim in ("revolve_start", "revolve_online")), None)
    if made is not None:
        raise UnsupportedError("reverse mode over a gradient with a checkpointed loop is not supported", made.loc,
                               "differentiate that gradient in forward mode (adc.hessian, adc.hvp, "
                               "adc.jacfwd(adc.grad(f))), or do not checkpoint the loop")


def _parent(region: Region, op: Op) -> Region:
    """The region of ``region`` (nested ones included) whose statements include ``op``."""
    if op in region.ops:
        return region
    for inner in walk(region):
        for sub in inner.regions:
            if op in sub.ops:
                return sub
    raise ValueError("op not found")  # pragma: no cover - the forward sweep holds every loop


def _snapshot(snaps: list[Var], slot: Var, state: list[Var], memory: Memory, loc: object) -> list[Op]:
    """``x_snap[slot] = x`` for each carried value (a copy of an array whose memory is written)."""
    ops: list[Op] = []
    for store, v in zip(snaps, state):
        kept = v
        if v.type.is_array and memory.written(v):
            kept = Var(hint=v.hint, type=v.type)
            ops.append(Op("acopy", [v], [kept], loc=loc))
        ops.append(Op("setitem", [store, slot, kept], [], loc=loc))
    return ops


def _plain_loop(loop: Op, fwd_loop: Op, plan: Var, snaps: list[Var], memory: Memory,
                clone: Callable[[Region], Region]) -> Op:
    """The forward sweep's loop: ``loop`` again (not its forward copy, which fills tapes), storing
    the state before each step where the plan says, with the outputs of ``fwd_loop`` (a ``while``
    also counts its steps, as its forward copy does: the trip count, its last output)."""
    loc = loop.loc
    plain = clone(loop.regions[-1])
    slot = Var(hint="slot", type=INT)
    if loop.prim == "for":
        index, regions, args = plain.args[0], [plain], list(loop.args)
    else:
        index, done = Var(hint="n_iter", type=INT), Var(hint="n_iter", type=INT)
        cond = clone(loop.regions[0])
        cond.args = [*cond.args, Var(hint="n_iter", type=INT)]
        plain.args, plain.yields = [*plain.args, index], [*plain.yields, done]
        plain.ops = [Op("add", [index, Const(1)], [done], loc=loc), *plain.ops]
        regions, args = [cond, plain], [*loop.args, Const(0)]
    state = loop.regions[-1].args[1 if loop.prim == "for" else 0:]
    plain.ops = [Op("revolve_forward", [plan, index], [slot], loc=loc),
                 *_snapshot(snaps, slot, state, memory, loc), *plain.ops]
    return Op(loop.prim, args, list(fwd_loop.outs), PLAIN, loc, regions)


def build(loop: Op, fwd_loop: Op, recording: Region, rev: Region, forward_sweep: Region, memory: Memory,
          clone: Callable[[Region], Region], snapshots: int) -> None:
    """Rewrite the forward-sweep copy ``fwd_loop`` of ``loop`` (in ``forward_sweep``) into the plain
    loop that stores snapshots, and make ``rev`` (the adjoint of one iteration) the body of the
    checkpointed reverse loop: restore, recompute, run ``recording`` (the iteration with its
    nested tapes), then the adjoint.  ``clone`` copies a region (its structured ops anew).

    A ``for`` loop's plan is Revolve's for its range.  A ``while`` loop's (``adc_revolve.online``)
    snapshots equally spaced steps while it runs, at most half the slots; the reverse sweep, the
    same as a ``for`` loop's over the counted steps, reverses the segments between them with
    Revolve in the other slots.  ``fwd_loop`` of a ``while`` counts its steps (its last carried
    value, ``recording``'s last argument): the reverse loop runs over that count."""
    loc = loop.loc
    body = loop.regions[-1]
    is_for = loop.prim == "for"
    state = body.args[1:] if is_for else body.args
    index = body.args[0] if is_for else recording.args[-1]
    # -- forward sweep: a plan, snapshot lists, and the plain loop storing the snapshots
    plan = Var(hint="plan", type=Type("int", 1, "int64"))
    snaps = [Var(hint=f"{v.hint}_snap" if v.hint else "snap", type=Type("tape"), role="tmp") for v in state]
    made = Op("revolve_start", [loop.args[0], loop.args[1], Const(snapshots)], [plan], loc=loc) if is_for \
        else Op("revolve_online", [Const(snapshots)], [plan], loc=loc)
    setup = [made, *(Op("record", [Const(snapshots + 1)], [s], (("kind", tape_kind(v)),), loc)
                     for s, v in zip(snaps, state))]
    parent = _parent(forward_sweep, fwd_loop)
    at = parent.ops.index(fwd_loop)
    parent.ops[at:at + 1] = [*setup, _plain_loop(loop, fwd_loop, plan, snaps, memory, clone)]
    # -- reverse sweep, for step `step`: the state before it, then the step again, then its adjoint
    step = Var(hint="step", type=INT)
    slot = Var(hint="slot", type=INT)
    pos = Var(hint="at", type=INT)
    restored = [Var(hint=v.hint, type=v.type) for v in state]
    ops = [Op("revolve_restore", [plan, step], [slot], loc=loc)]
    ops += [Op("getitem", [s, slot], [r], loc=loc) for s, r in zip(snaps, restored)]
    ops.append(Op("revolve_position", [plan, slot], [pos], loc=loc))
    # while at < step: recompute to the next snapshot Revolve takes (or to step), store it there
    c_at, c_state = Var(hint="at", type=INT), [Var(hint=v.hint, type=v.type) for v in state]
    go = Var(type=BOOL, role="tmp")
    cond = Region([c_at, *c_state], [Op("lt", [c_at, step], [go], loc=loc)], [go])
    w_at, w_state = Var(hint="at", type=INT), [Var(hint=v.hint, type=v.type) for v in state]
    to = Var(hint="to", type=INT)
    moved = [Var(hint=v.hint, type=v.type) for v in state]
    again = clone(body)
    if not is_for:  # the steps of a while loop, run as a for loop (the condition held for them)
        again.args = [Var(hint="i", type=INT), *again.args]
    w_slot = Var(hint="slot", type=INT)
    inner = [Op("revolve_advance", [plan, w_at, step], [to], loc=loc),
             Op("for", [w_at, to, Const(1), *w_state], moved, PLAIN, loc, [again]),
             Op("revolve_take", [plan, to, step], [w_slot], loc=loc),
             *_snapshot(snaps, w_slot, moved, memory, loc)]
    outs = [Var(hint="at", type=INT), *(Var(hint=v.hint, type=v.type) for v in state)]
    ops.append(Op("while", [pos, *restored], outs, (("break", False),), loc,
                  [cond, Region([w_at, *w_state], inner, [to, *moved])]))
    ops.append(Op("copy", [step], [index], loc=loc))
    ops += [Op("copy", [o], [v], loc=loc) for o, v in zip(outs[1:], state)]
    rev.args[0] = step
    rev.ops = ops + recording.ops + rev.ops

"""Binomial checkpointing (Griewank's Revolve), computed online: the run-time kernels a
checkpointed loop's generated code calls (imported as ``adc_revolve``), their primitives, and
``checkpointed``, the marker users write around a loop's iterable (``adc.checkpointed``).

A *plan* is a small int64 array: the loop's first index and end, the number of snapshot slots,
how many snapshots are held (a stack of loop indices, increasing, each in a slot), the next index
the forward sweep snapshots, two counters (steps recomputed, most snapshots held at once) that
tests and benchmarks read, and for a ``while`` loop (``online``) the spacing of its snapshots and
how many it keeps.  Slot ``slots`` is a scratch slot: a store into it keeps nothing.

- ``start(first, end, slots)``: the plan of a loop over ``range(first, end)``.
- ``online(slots)``: the plan of a loop whose trip count is known when it ends (``while``): the
  forward sweep snapshots every ``stride``-th step, at most ``(slots + 1) // 2`` of them, dropping
  every other one and doubling ``stride`` when one more would be needed (``thin``).  The reverse
  sweep then reverses the segments between them with Revolve (the kernels below) in the free slots.

- ``forward(plan, i)``: the slot the forward sweep stores the state before step ``i`` into (the
  scratch slot when the plan keeps none there).
- ``restore(plan, i)``: drop the snapshots after ``i``; the slot of the last one at or before ``i``.
- ``advance(plan, at, i)``: how far to recompute from ``at`` towards ``i``: the next index Revolve
  snapshots (the optimal split of the ``i + 1 - at`` steps left with the free slots), else ``i``.
- ``take(plan, at, i)``: the slot the state at ``at`` goes into (scratch when ``at == i``).

The split is Revolve's (Griewank and Walther, ACM TOMS 26(1), 2000): reversing ``l`` steps with
``s`` free slots and the first state held costs ``t*l - C(s+t+1, t-1)`` recomputed steps, ``t`` the
least with ``C(s+t+1, t) >= l`` (``theory_steps``, which counts the first sweep too).  Every kernel is plain Python that Numba
compiles too (``register_jitable``), so ``jit=True`` runs the same generated line.
"""
from __future__ import annotations

from math import comb
from typing import Any, Sequence

import numpy as np

from ..types import Type
from .registry import structural

def checkpointed(iterable: object, snapshots: int = 16) -> object:
    """Mark a loop for checkpointing: ``for i in adc.checkpointed(range(n), snapshots=10):``, or
    ``while adc.checkpointed(s > tol, snapshots=10):`` (around the condition).

    Plain Python runs it unchanged (it returns ``iterable``, or the condition's value); when adc
    differentiates the function in reverse mode it keeps at most ``snapshots`` states of the loop
    and recomputes the rest (binomial checkpointing, Griewank's Revolve), instead of recording
    every iteration.
    ``adc.grad(f, checkpoints=k)`` does the same for every outermost loop of ``f``.

    Example:
        >>> import math, adc
        >>> def f(x, n):
        ...     for i in adc.checkpointed(range(n), snapshots=2):
        ...         x = math.sin(x)
        ...     return x
        >>> f(1.0, 3) == math.sin(math.sin(math.sin(1.0)))
        True
        >>> round(adc.grad(f)(1.0, 3), 12)
        0.264508270396
    """
    return iterable


FIRST, END, SLOTS, HELD, NEXT, STEPS, PEAK, STRIDE, KEEP = 0, 1, 2, 3, 4, 5, 6, 7, 8
HEAD = 9  # plan[HEAD + slot]: the loop index the snapshot in ``slot`` was taken before; then
# plan[HEAD + slots + s]: the slot of the ``s``-th snapshot held (a permutation, the free slots last)


def split(steps, free):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    """Revolve's first snapshot offset for reversing ``steps`` steps with ``free`` free slots."""
    ds = free + 1
    reps = 0
    rng = 1
    while rng < steps:
        reps += 1
        rng = rng * (reps + ds) // reps
    bino1 = rng * reps // (ds + reps)
    bino2 = bino1 * ds // (ds + reps - 1) if ds > 1 else 1
    bino3 = 0 if ds == 1 else (bino2 * (ds - 1) // (ds + reps - 2) if ds > 2 else 1)
    bino4 = bino2 * (reps - 1) // ds
    bino5 = 0 if ds < 3 else (bino3 * (ds - 2) // reps if ds > 3 else 1)
    if steps <= bino1 + bino3:
        m = bino4
    elif steps >= rng - bino5:
        m = bino1
    else:
        m = steps - bino2 - bino3
    return min(max(m, 1), steps - 1)


def start(first, end, slots):  # noqa: ANN001, ANN201
    """A plan for the loop indices ``first .. end - 1`` with ``slots`` snapshots."""
    plan = np.zeros(HEAD + 2 * slots, dtype=np.int64)
    plan[FIRST] = first
    plan[END] = end
    plan[SLOTS] = slots
    plan[NEXT] = first if end > first else -1
    for s in range(slots):
        plan[HEAD + slots + s] = s
    return plan


def online(slots):  # noqa: ANN001, ANN201
    """A plan for a loop whose trip count is known only when it ends (a ``while`` loop), indices
    from 0: the forward sweep keeps at most ``(slots + 1) // 2`` snapshots, equally spaced (the
    spacing doubles when they would be more), so that Revolve has the other slots to reverse
    the segments between them."""
    plan = start(0, -1, slots)
    plan[NEXT] = 0
    plan[STRIDE] = 1
    plan[KEEP] = (slots + 1) // 2
    return plan


def take(plan, at, i):  # noqa: ANN001, ANN201
    if at >= i or plan[HELD] >= plan[SLOTS]:
        return plan[SLOTS]
    slot = plan[HEAD + plan[SLOTS] + plan[HELD]]
    plan[HEAD + slot] = at
    plan[HELD] += 1
    if plan[HELD] > plan[PEAK]:
        plan[PEAK] = plan[HELD]
    return slot


def thin(plan):  # noqa: ANN001, ANN201
    """Drop every other snapshot held (the first stays) and double the spacing: the slots of the
    kept ones first, in order, then the freed ones."""
    order = HEAD + plan[SLOTS]
    held = plan[HELD]
    was = plan[order:order + held].copy()
    j = 0
    for parity in range(2):
        for s in range(parity, held, 2):
            plan[order + j] = was[s]
            j += 1
    plan[HELD] = (held + 1) // 2
    plan[STRIDE] *= 2
    plan[NEXT] = plan[HEAD + plan[order + plan[HELD] - 1]] + plan[STRIDE]


def forward(plan, i):  # noqa: ANN001, ANN201
    if i != plan[NEXT]:
        return plan[SLOTS]
    if plan[STRIDE] > 0:  # online: every STRIDE-th step, at most KEEP snapshots
        if plan[HELD] >= plan[KEEP]:
            thin(plan)
            if i != plan[NEXT]:
                return plan[SLOTS]
        plan[NEXT] = i + plan[STRIDE]
        return take(plan, i, i + 1)
    slot = take(plan, i, plan[END])
    free = plan[SLOTS] - plan[HELD]
    left = plan[END] - i
    plan[NEXT] = i + split(left, free) if free > 0 and left > 1 else -1
    return slot


def restore(plan, i):  # noqa: ANN001, ANN201
    order = HEAD + plan[SLOTS]
    while plan[HELD] > 1 and plan[HEAD + plan[order + plan[HELD] - 1]] > i:
        plan[HELD] -= 1
    return plan[order + plan[HELD] - 1]


def position(plan, slot):  # noqa: ANN001, ANN201
    return plan[HEAD + slot]


def advance(plan, at, i):  # noqa: ANN001, ANN201
    free = plan[SLOTS] - plan[HELD]
    left = i + 1 - at
    to = at + split(left, free) if free > 0 and left > 1 else i
    plan[STEPS] += to - at
    return to


def theory_steps(steps: int, slots: int) -> int:
    """Revolve's least number of forward steps (its first sweep to the last step included) for
    reversing ``steps`` steps with ``slots`` snapshots, the first state one of them.  adc's forward
    sweep runs all ``steps`` (the loop's results are needed), so it runs ``steps - 1 + plan[STEPS]``,
    at most this plus the last segment between snapshots, recomputed once more."""
    if steps <= 1:
        return 0
    if slots <= 1:
        return steps * (steps - 1) // 2
    t = 0
    while comb(slots + t, t) < steps:
        t += 1
    return t * steps - comb(slots + t, t - 1)


def simulate(n: int, slots: int, unknown: bool = False) -> tuple[int, int]:
    """Drive the kernels as a checkpointed loop's generated code does, with the loop index as the
    state (checked at every step): ``plan_stats`` after reversing ``n`` steps (``unknown``: as a
    ``while`` loop's, the plan made without the trip count)."""
    plan, snaps = online(slots) if unknown else start(0, n, slots), [-1] * (slots + 1)
    for i in range(n):
        snaps[forward(plan, i)] = i
    for step in range(n - 1, -1, -1):
        slot = restore(plan, step)
        state, at = snaps[slot], position(plan, slot)
        assert state == at, "a snapshot holds another step's state"
        while at < step:
            to = advance(plan, at, step)
            state, at = state + (to - at), to
            snaps[take(plan, at, step)] = state
        assert state == step, "the schedule did not reach the step to reverse"
    return plan_stats(plan)


KERNELS = (split, start, online, take, thin, forward, restore, position, advance)


def _install_numba() -> None:
    """Make the kernels callable from Numba-compiled code as they are (``jit=True`` compiles the
    generated calls); plain Python calls them unchanged."""
    try:
        from numba.extending import register_jitable
    except ImportError:  # pragma: no cover - numba is a dependency
        return
    for fn in KERNELS:
        register_jitable(fn)


_install_numba()

IMPORT = "import adc.prims.revolve as adc_revolve"
_INT_ARRAY = Type("int", 1, "int64")


def _kernel(name: str, result: Type, fresh: bool = False) -> None:
    fn = globals()[name]
    structural(f"revolve_{name}", lambda t, p, _n=name: f"adc_revolve.{_n}({', '.join(t)})", fn,
               lambda ts, _r=result: _r, differentiable=False, imports=IMPORT, fresh=fresh,
               stateful=not fresh, foldable=False)


_kernel("start", _INT_ARRAY, fresh=True)
_kernel("online", _INT_ARRAY, fresh=True)
for _name in ("forward", "restore", "position", "advance", "take"):
    _kernel(_name, Type("int"))


def kernel_names() -> Sequence[str]:
    """The primitives of this module, as the checkpoint transform emits them."""
    return [f"revolve_{fn.__name__}" for fn in KERNELS if fn.__name__ not in ("split", "thin")]


def plan_stats(plan: Any) -> tuple[int, int]:
    """``(steps recomputed, most snapshots held at once)`` of a plan after a run."""
    return int(plan[STEPS]), int(plan[PEAK])

"""Which loop-carried arrays keep their shape from one iteration to the next.

The reverse sweep reads some values for their shape only (``np.zeros_like(y)``, the split of a
``np.concatenate``'s adjoint at ``y.shape[0]``).  For a loop's carried array it reads the variable
as the forward loop left it, which is right only if every iteration keeps the array's shape
(``y = y + h * k``), not if one grows it (``y = np.concatenate([y, v])``): there the reverse must
get each iteration's array back (``save_policy.needed_values``).

Shapes are known to be equal, not computed: a value has the shape of another when it is a copy of
it or an ``np.zeros_like`` of it, an element-wise operation of arrays of one shape and numbers, a
branch whose paths yield arrays of one shape, or a loop's carried array whose iterations keep it.
A carried array is first assumed to keep its initial value's shape; each assumption that its
iteration does not confirm is dropped, until all that remain are confirmed.
"""
from __future__ import annotations

from .ir import Atom, Op, Program, Region, Var, first_carried
from .memory import is_array
from .prims import prim
from .prims.registry import broadcasts


class SameShapes:
    """The carried arrays of ``program``'s loops that keep their shape (``keeps``)."""

    def __init__(self, program: Program) -> None:
        self.slots: dict[Var, tuple[Atom, Atom]] = {}  # carried array -> (its initial value, what an iteration yields)
        self._slots(program.body)
        self.assumed = {v for v, (init, _) in self.slots.items() if isinstance(init, Var) and is_array(init)}
        while True:
            self.key: dict[Var, Var] = {}
            self._visit(program.body)
            broken = {v for v in self.assumed if self._of(self.slots[v][1]) is not self._of(v)}
            if not broken:
                return
            self.assumed -= broken

    def keeps(self, v: Var) -> bool:
        """Does every iteration of its loop keep the shape of the carried array ``v``?"""
        return v in self.assumed

    def _slots(self, region: Region) -> None:
        for op in region.ops:
            if op.prim in ("for", "while"):
                body, inits = op.regions[-1], op.args[first_carried(op):]
                head = 1 if op.prim == "for" else 0
                for k, (arg, init) in enumerate(zip(body.args[head:], inits)):
                    if is_array(arg) and k < len(body.yields):
                        self.slots[arg] = (init, body.yields[k])
                        if op.prim == "while":
                            self.slots[op.regions[0].args[k]] = (init, body.yields[k])
            for sub in op.regions:
                self._slots(sub)

    def _of(self, a: Atom) -> Var | None:
        return self.key.get(a, a) if isinstance(a, Var) else None

    def _visit(self, region: Region) -> None:
        for arg in region.args:
            if arg in self.assumed:
                init = self.slots[arg][0]
                self.key[arg] = self._of(init) or arg
        for op in region.ops:
            for sub in op.regions:
                self._visit(sub)
            self._outs(op)

    def _outs(self, op: Op) -> None:
        if op.prim in ("for", "while"):
            body, head = op.regions[-1], 1 if op.prim == "for" else 0
            for k, out in enumerate(op.outs):
                arg = body.args[head + k] if head + k < len(body.args) else None
                if arg is not None and arg in self.assumed:
                    self.key[out] = self._of(arg) or out
            return
        if op.prim == "if":
            for k, out in enumerate(op.outs):
                keys = {self._of(r.yields[k]) for r in op.regions}
                if is_array(out) and len(keys) == 1 and None not in keys:
                    self.key[out] = keys.pop()  # type: ignore[assignment]
            return
        p = prim(op)
        if p is None or len(op.outs) != 1 or not is_array(op.out) or not op.args:
            return
        if p.shape_of_first and isinstance(op.args[0], Var) and is_array(op.args[0]):
            self.key[op.out] = self._of(op.args[0])  # type: ignore[assignment]
        elif broadcasts(p):  # element-wise
            arrays = {self._of(a) for a in op.args if is_array(a)}
            numbers = all(is_array(a) or not isinstance(a, Var) or (a.type is not None and a.type.ndim == 0)
                          for a in op.args)
            if len(arrays) == 1 and numbers:
                self.key[op.out] = arrays.pop()  # type: ignore[assignment]

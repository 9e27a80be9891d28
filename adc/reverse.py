"""Reverse mode: a primal ``Program`` → its adjoint (VJP) ``Program``.

Input: a typed program, the indices of the parameters to differentiate, and how the output is
seeded (``1.0`` for a gradient, or cotangent parameters for ``vjp``).  Output: a program
``f_grad(*params[, *cotangents]) -> (*outputs, *param_adjoints)``: a forward sweep (the primal
statements) followed by the reverse sweep, which for each active primal statement, in reverse
order, emits ``g arg_i += g out * partial_i`` with partials from the primitive registry.  Only varied
values get adjoints.

Control flow keeps its structure.  The reverse of an ``if`` is an ``if`` on the same condition
whose branches run the branches' adjoints.  The reverse of a loop is a loop over the same
iterations backwards; its body first *restores* the primal values the adjoint reads that the
forward loop overwrote.  What is kept for that (recomputed, recorded in a preallocated list, pushed
on a tape, or checkpointed) is decided in one place, ``save_policy.py``.
Arrays are references: ``y[i] = v`` moves ``gy[i]`` into ``gv`` and clears it; ``x[i]`` adds into
``gx[i]``; each array read by element, written, copied or read inside a loop has one adjoint
buffer, allocated at the start of the reverse of the region that makes the array.  A derivative
reads an array as the primal statement saw it: a copy when its memory is written later
(``memory.py``); an array rebound by a branch or loop carries its adjoint like a number.  A
kept call (``calls.py``) calls the callee's forward part in the forward sweep, which also returns
its residuals, and its reverse part on them in the reverse sweep.
"""
from __future__ import annotations

from typing import Any

from . import checkpoint, save_policy
from .activity import is_active_type, varied
from .builder import Builder, apply
from .calls import Stacks, accumulated, is_tape, memory_copies, stacked_vjp_functions, tape_args, vjp_functions
from .ir import Atom, Const, Op, Program, Region, Var, defined_in, walk
from .memory import Memory, is_array, reread_views
from .masks import masked_product, skip_zero_adjoints, skipped_unless
from .passes import has_effect
from .prims import prim
from .prims.calls import RESIDUALS
from .prims.indexing import kept_writes
from .prims.reductions import shaped_like, unbroadcast
from .run_time_shapes import broadcast_unknown, sized_at_run_time, written_unknown
from .errors import UnsupportedError
from .save_policy import Record, Tapes, free_vars, shape_only, tape_kind
from .types import INT, Type
from .zeros import keep_dtype, zero_like


def clone(reg: Region) -> Region:
    """A copy of ``reg`` whose structured ops are copied too (simple ops are shared)."""
    return Region(list(reg.args), [clone_op(op) for op in reg.ops], list(reg.yields))


def clone_op(op: Op) -> Op:
    if not op.regions:
        return op
    return Op(op.prim, list(op.args), list(op.outs), op.params, op.loc, [clone(r) for r in op.regions])


class Reverse:
    def __init__(self, program: Program, wrt: list[int], stacks: "Stacks | None" = None,
                 checkpoints: int | None = None, branches: save_policy.Branches | None = None) -> None:
        self.program = program
        self.stacks = stacks
        self.wrt = wrt
        self.checkpoints = checkpoints  # snapshots per outermost loop (checkpoint.py), if asked
        checkpoint.refuse_reverse_over(program)
        self.active = varied(program, wrt)
        self.sized_at_run_time = sized_at_run_time(program)
        self.b = Builder(simplify=True)
        self.b.zero_skips = []  # reverse loops under a condition (``masks``)
        self.adjoint: dict[Var, Atom] = {}
        self.buffers: dict[Var, Var] = {}
        self.tapes = Tapes()
        if stacks is not None and stacks.params:  # a kept function's tapes are its caller's (Numba)
            self.tapes.tapes.update(stacks.params)
        self.tapes.stacked = stacks is not None and bool(stacks.params)
        self.fwd: dict[Op, Op] = {}  # original structured op -> its copy in the forward sweep
        # each reverse branch of an ``if`` -> its forward branch
        self.branches: save_policy.Branches = branches if branches is not None else {}
        self.loop_depth = 0  # > 0 while building the reverse of a loop body
        self.enclosing: list[Op] = []  # the primal loops around the one whose reverse is being built
        self.top_defs = set(program.params) | {o for op in program.body.ops for o in op.outs}
        self.memory = Memory(program)
        self.scopes = _scopes(program.body)
        # kept calls whose reverse part adds into this program's adjoint buffers: the arguments
        self.into: dict[Op, tuple[int, ...]] = {}
        self.call_args: dict[Op, list[Atom]] = {}  # the arguments a kept call's forward part was given
        self.buffered = self._buffered_arrays()
        # tapes and records of a derivative program differentiated again: their adjoint tapes
        self.tape_allocs = {op.out: op for op in walk(program.body) if op.prim in ("tape", "record", *LISTS)}
        self.top_level = {op.out for op in program.body.ops if op.prim == "record"}
        self.adjoint_tapes: dict[Var, Var] = {}
        # a tape parameter (a kept function's part differentiated again) holding active values: its
        # adjoint tape is a parameter too, the caller's, passed by reference (``calls.tape_args``)
        self.tape_params = [self._adjoint_tape_param(program.params[i]) for i in wrt
                            if is_tape(program.params[i]) and program.params[i] in self.active]
        # kept calls (``calls.py``): primal call -> (its residuals, differentiated arguments, reverse part)
        self.residuals: dict[Op, tuple[Var | None, tuple[int, ...], Any, list[Var]]] = {}

    def _adjoint_tape_param(self, tape: Var) -> Var:
        adj = Var(hint="gtape", type=tape.type, role="adjoint", base=tape)
        self.adjoint_tapes[tape] = adj
        return adj

    def adjoint_tape(self, tape: Var, loc: object) -> Var:
        """The adjoint tape (or record) of ``tape``: made at the start of the reverse sweep, where
        every use can see it (a record made inside a region, whose length is known only there, is
        made at the start of that region's reverse by ``allocate``)."""
        if tape not in self.adjoint_tapes:
            alloc = self.tape_allocs[tape]
            assert alloc.prim not in LISTS, "a list's adjoint is made where the list is (``allocate``)"
            adj = Var(hint="gtape" if alloc.prim == "tape" else "grec", type=Type("tape"), role="tmp")
            self.b.stack[0].ops.insert(0, _adjoint_alloc(alloc, adj))
            self.adjoint_tapes[tape] = adj
        return self.adjoint_tapes[tape]

    def tape_op(self, op: Op) -> bool:
        """Adjoints of the reverse sweep's own statements (reverse over reverse): a value popped
        from a tape pushes its adjoint onto the adjoint tape, and the push that put it there pops
        it back; a record's store and read swap the same way.  ``True`` if ``op`` was one."""
        a = op.args
        if not (a and isinstance(a[0], Var) and a[0].type is not None and a[0].type.kind == "tape"
                and a[0] in self.active):
            return op.prim in ("tape", "record") and op.out in self.active
        with self.b.at(op.loc):
            # a tape holds active and inactive values alike: every pop pushes an adjoint (zero if
            # there is none) and every push pops one, so the adjoint tape stays in step with it
            if op.prim == "pop":
                g = self.get(op.out)
                self.b.append(Op("push", [self.adjoint_tape(a[0], op.loc), g if g is not None else zero_like(self.b, op.out)], []))
            elif op.prim == "getitem":
                g = self.get(op.out)
                if g is not None:
                    self.b.append(Op("index_add", [self.adjoint_tape(a[0], op.loc), *a[1:], g], [], op.params))
            elif op.prim in LIST_READS:  # a list's item, or all of them stacked: into their adjoints
                g = self.get(op.out)
                if g is not None:
                    self.b.append(Op(LIST_READS[op.prim], [self.adjoint_tape(a[0], op.loc), *a[1:], g], []))
            elif op.prim in LIST_STORES:  # an adjoint list's item (or all) += g: g's adjoint reads them back
                v = a[-1]
                if isinstance(v, Var) and v in self.active:
                    mark = len(self.b.region.ops)
                    c = Var(type=_adjoint_type(v), role="tmp")
                    self.b.append(Op(LIST_STORES[op.prim], [self.adjoint_tape(a[0], op.loc), *a[1:-1]], [c],
                                     self.tape_allocs[a[0]].params))
                    self.accumulate(v, c, mark)
            elif op.prim == "push":
                v = a[-1]
                c = Var(type=_adjoint_type(v) if isinstance(v, Var) else Type("float"), role="tmp")
                if a[0] in self.tape_allocs and self.tape_allocs[a[0]].prim == "list":  # a user list's item
                    c.hint = f"g{a[0].hint}_item"
                mark = len(self.b.region.ops)
                self.b.append(Op("pop", [self.adjoint_tape(a[0], op.loc)], [c]))
                if isinstance(v, Var) and v in self.active:
                    self.accumulate(v, c, mark)
            elif op.prim == "setitem":
                v = a[-1]
                if isinstance(v, Var) and v in self.active:
                    mark = len(self.b.region.ops)
                    c = Var(type=_adjoint_type(v), role="tmp")
                    self.b.append(Op("getitem", [self.adjoint_tape(a[0], op.loc), *a[1:-1]], [c], op.params))
                    self.accumulate(v, c, mark)
        return True

    def _buffered_arrays(self) -> set[Var]:
        out: set[Var] = set()
        for op in walk(self.program.body):
            p = prim(op)  # arrays whose adjoints are buffers updated in place (element reads and writes, copies)
            if p is not None and p.buffered:
                for v in (*op.args[:1], *(op.outs if "result" in p.buffered else ())):
                    if isinstance(v, Var) and v in self.active and v.type.is_array:
                        out.add(v)
            if op.prim in ("call", "call_stacked") and self.stacks is not None and self.stacks.accumulate:
                wrt = tuple(k for k, a in enumerate(op.args) if isinstance(a, Var) and a in self.active)
                into = accumulated(op.param("fn"), wrt) if wrt else ()
                if into:  # its reverse part adds into the buffers of these arguments
                    self.into[op] = into
                    out.update(op.args[k] for k in into)
            if op.prim in ("for", "while"):  # arrays read inside a loop: adjoints summed over iterations
                inside = set()
                for reg in op.regions:
                    inside |= defined_in(reg)
                for reg in op.regions:
                    out.update(v for v in free_vars(reg, inside) if v in self.active and is_array(v))
        return out

    def allocate(self, region: Region, extra: set[Var] = frozenset()) -> None:
        """Adjoint buffers (zeros) for the buffered arrays ``region`` itself defines (and
        ``extra``), at the start of its reverse: an array made inside a branch or a loop body
        exists only on that path or in that iteration, and so does its adjoint."""
        here = set(region.args) | set(extra) | {o for op in region.ops for o in op.outs}
        for v in sorted(self.buffered & here, key=lambda v: v.id):
            if v in self.buffers:  # a parameter whose buffer is the caller's (``Stacks.into``)
                continue
            buf = self.b.emit("zeros_like", v)
            buf.role, buf.base = "adjoint", v
            self.buffers[v] = buf
            # a derivative program differentiated again reads a value made in a branch of its
            # forward sweep in the same branch of its reverse sweep, which the outer reverse meets
            # first: what it gave the value so far starts the buffer
            earlier = self.adjoint.pop(v, None)
            if earlier is not None:
                self.b.append(Op("iadd", [buf, earlier], []))
        for op in region.ops:  # a list the function appends to in a loop (or a gradient's list of its
            # items' adjoints, differentiated again): one adjoint per item, zeros
            if op.prim in LISTS and op.out in self.active:
                self.adjoint_tapes[op.out] = adj = Var(hint=op.out.hint, type=Type("tape"), role="adjoint", base=op.out)
                self.b.append(Op("zeros_list", [op.out], [adj], op.params, op.loc))
        for op in region.ops:  # a record of a gradient inlined into a loop body: one adjoint record per iteration
            if op.prim == "record" and op.out in self.active and op.out not in self.top_level:
                adj = Var(hint="grec", type=Type("tape"), role="tmp")
                self.b.append(_adjoint_alloc(op, adj))
                self.adjoint_tapes[op.out] = adj

    # -- accumulation --------------------------------------------------------------------------
    def accumulate(self, var: Var, contribution: Atom, mark: int) -> None:
        """``g var += contribution``; the first contribution defines ``g var``.  An adjoint keeps
        its primal's dtype (``keep_dtype``)."""
        contribution = keep_dtype(self.b, contribution, _adjoint_type(var))
        if var in self.buffers:
            self.b.append(Op("iadd", [self.buffers[var], contribution], []))
            return
        old = self.adjoint.get(var)
        if old is None:
            fresh = isinstance(contribution, Var) and contribution.role == "tmp" and \
                any(contribution in op.outs for op in self.b.region.ops[mark:])
            if fresh:
                contribution.role, contribution.base = "adjoint", var
                self.adjoint[var] = contribution
            else:
                self.adjoint[var] = self.b.emit("copy", contribution)
                self.adjoint[var].role, self.adjoint[var].base = "adjoint", var
            return
        total = self.b.add(old, contribution)
        if isinstance(total, Var) and total is not old:
            total.role, total.base = "adjoint", var
        self.adjoint[var] = total

    def get(self, var: Atom) -> Atom | None:
        if not isinstance(var, Var):
            return None
        if var in self.buffers:
            return self.buffers[var]
        return self.adjoint.get(var)

    # -- simple statements ---------------------------------------------------------------------
    def op(self, op: Op) -> None:
        """The adjoint statements of one primal statement."""
        rule = prim(op)
        if rule is None or self.tape_op(op):
            return
        if rule.vjp is not None:
            g = self.get(op.out)
            if g is None:
                return
            with self.b.at(op.loc):
                mark = len(self.b.region.ops)
                seen, snaps = self.as_seen(op)
                for a, c in zip(op.args, rule.vjp(self.b, seen, g)):
                    if c is not None and isinstance(a, Var) and a in self.active:
                        self.accumulate(a, c, mark)
                self.keep_snapshots(op, snaps, mark)
            return
        if rule.render is not None:
            with self.b.at(op.loc):
                self.structural(op)
            return
        g = self.get(op.out) if len(op.outs) == 1 else None
        if g is None or rule.partials is None:
            return
        with self.b.at(op.loc):
            mark = len(self.b.region.ops)
            seen, snaps = self.as_seen(op)
            wanted = [isinstance(a, Var) and a in self.active for a in op.args]
            partials = self.partials(rule, seen, wanted)
            summed: dict[Var, Atom] = {}  # an argument used twice (x * x) gets one contribution
            for a, p, w in zip(op.args, partials, wanted):
                if p is not None and w:
                    summed[a] = self.b.add(summed[a], p) if a in summed else p  # type: ignore[index]
            unknown = broadcast_unknown(op, self.sized_at_run_time)  # a broadcast only the run knows
            for a, p in summed.items():
                part = unbroadcast(self.b, masked_product(self.b, g, p), a.type)
                self.accumulate(a, shaped_like(self.b, part, a) if unknown and a.type.is_array else part, mark)
            self.keep_snapshots(op, snaps, mark)

    def partials(self, rule: Any, op: Op, wanted: list[bool]) -> list[Atom | None]:
        """``rule``'s partials of ``op``, emitting only the statements the ``wanted`` ones need
        (none for a constant operand: ``-(t / 6.0) / 6.0`` of ``t / 6.0`` would read ``t`` for
        nothing, and the reverse sweep would keep ``t`` for it)."""
        scratch = Region()
        with self.b.into(scratch):
            partials = rule.partials(self.b, op.args, op.out)
        needed = {p for p, w in zip(partials, wanted) if w and isinstance(p, Var)}
        if any(emitted.regions for emitted in scratch.ops):  # what a region reads inside: kept whole
            needed |= {o for emitted in scratch.ops for o in emitted.outs}
        kept: list[Op] = []
        for emitted in reversed(scratch.ops):
            if has_effect(emitted) or any(o in needed for o in emitted.outs):
                kept.append(emitted)
                needed.update(a for a in emitted.args if isinstance(a, Var))
        for emitted in reversed(kept):
            self.b.append(emitted)
        return partials

    # -- arrays as they were -------------------------------------------------------------------
    def as_seen(self, op: Op) -> tuple[Op, dict[Var, Var]]:
        """``op`` with every array it reads or makes whose memory is written later replaced by a
        snapshot value (the derivative must read the array as ``op`` saw it, not as it is at the
        end of the forward sweep)."""
        snaps: dict[Var, Var] = {}
        for v in (*op.args, *op.outs):
            if isinstance(v, Var) and v not in snaps and self.memory.written_after(op, v):
                snaps[v] = Var(hint=v.hint, type=v.type)
        if not snaps:
            return op, snaps
        return Op(op.prim, [snaps.get(a, a) if isinstance(a, Var) else a for a in op.args],
                  [snaps.get(o, o) for o in op.outs], op.params, op.loc), snaps

    def keep_snapshots(self, op: Op, snaps: dict[Var, Var], mark: int) -> None:
        """Copy, right after ``op`` in the forward sweep, the arrays whose snapshots the adjoint
        statements since ``mark`` read (where only a shape is read, the array itself serves)."""
        if not snaps:
            return
        back = {s: v for v, s in snaps.items()}
        needed: set[Var] = set()
        ops = self.b.region.ops
        for i in range(mark, len(ops)):
            emitted = ops[i]
            if not any(a in back for a in emitted.args if isinstance(a, Var)):
                continue
            args = list(emitted.args)
            for k, a in enumerate(args):
                if isinstance(a, Var) and a in back:
                    if shape_only(emitted, k):
                        args[k] = back[a]
                    else:
                        needed.add(a)
            ops[i] = Op(emitted.prim, args, emitted.outs, emitted.params, emitted.loc, emitted.regions)
            for o in emitted.outs:  # the builder looks through its definitions when it simplifies
                self.b.defs[o] = ops[i]
        if not needed:
            return
        region = self._forward_region_of(op)
        at = region.ops.index(op) + 1
        copies = [Op("acopy", [back[s]], [s], (), op.loc) for s in sorted(needed, key=lambda s: s.id)]
        region.ops[at:at] = copies

    def _forward_region_of(self, op: Op) -> Region:
        def find(reg: Region) -> Region | None:
            for inner in reg.ops:
                if inner is op:
                    return reg
                for sub in inner.regions:
                    found = find(sub)
                    if found is not None:
                        return found
            return None

        region = find(self.forward_sweep)
        assert region is not None, "every primal statement is in the forward sweep"
        return region

    def structural(self, op: Op) -> None:
        """Adjoints of element reads and writes and of array copies (transposes of linear maps)."""
        a = op.args
        if op.prim == "getitem" and a[0] in self.buffers:
            g = self.get(op.out)
            if g is not None:
                scatter = any(isinstance(i, Var) and i.type.is_array for i in a[1:])
                params = op.params + ((("scatter", True),) if scatter else ())
                self.b.append(Op("index_add", [self.buffers[a[0]], *a[1:], g], [], params))
        elif op.prim == "setitem" and a[0] in self.buffers:
            gy = self.buffers[a[0]]
            v = a[-1]
            # read the written elements' adjoint, clear it, then pass it on (in that order: the
            # value written may be the array itself, ``y[:] = y``)
            mark = len(self.b.region.ops)
            part = None
            if isinstance(v, Var) and v in self.active:
                part = self.b.emit("getitem", gy, *a[1:-1], params=op.params)
                if part.type.is_array:  # a view of the buffer, which is cleared next: take a copy
                    part = kept_writes(self.b, self.b.emit("acopy", part), op, gy)
            self.b.append(Op("setitem", [gy, *a[1:-1], Const(0.0)], [], op.params))
            if part is not None:
                self.accumulate(v, self.summed_back(part, v), mark)
        elif op.prim in ("index_add", "iadd") and a[0] in self.buffers:  # y[idx] += v, y += v (gradient code)
            v = a[-1]
            if isinstance(v, Var) and v in self.active:
                mark = len(self.b.region.ops)
                part = self.buffers[a[0]]
                if op.prim == "index_add":
                    part = self.b.emit("getitem", part, *a[1:-1], params=tuple(kv for kv in op.params if kv[0] != "scatter"))
                if part.type.is_array:  # the buffer changes later in the sweep: take a copy
                    part = self.b.emit("acopy", part)
                self.accumulate(v, self.summed_back(part, v), mark)
        elif op.prim == "acopy" and op.out in self.buffers and a[0] in self.active:
            self.accumulate(a[0], self.buffers[op.out], len(self.b.region.ops))

    def summed_back(self, part: Atom, v: Var) -> Atom:
        """The adjoint ``part`` of a value ``v`` written into (or added to) a part of an array,
        summed back to ``v``'s shape: where its type says (``unbroadcast``), and where only the run
        knows (``v`` sized at run time)."""
        part = unbroadcast(self.b, part, v.type)
        return shaped_like(self.b, part, v) if written_unknown(v, self.sized_at_run_time) else part

    def ops(self, ops: list[Op]) -> None:
        for op in reversed(ops):
            apply(self, op, STRUCTURED)

    # -- restoring overwritten values in loops -------------------------------------------------
    def restore(self, fwd: Region, rev: Region, exclude: set[Var] = frozenset(),
                record: "Record | None" = None, loop: Op | None = None) -> None:
        """Keep (or recompute) the primal values ``rev`` reads that ``fwd`` defines (the body of
        ``loop``, if given): ``save_policy.restore``."""
        fresh = self.stacks is not None and self.stacks.from_caller  # a recursion's node: no arrays taped
        save_policy.restore(fwd, rev, self.memory, self.tapes, exclude, record, loop, fresh, self.branches)

    # -- the whole program ---------------------------------------------------------------------
    def seed(self, outputs: list[Atom], cotangents: list[Var] | None) -> None:
        for i, out in enumerate(outputs):
            if not isinstance(out, Var) or out not in self.active:
                continue
            mark = len(self.b.region.ops)
            with self.b.at(None):
                value = cotangents[i] if cotangents is not None else Const(1.0)
                self.accumulate(out, value, mark)  # an array written element by element: into its buffer

    def run(self, cotangent_params: bool, seeded: int | None = None) -> Program:
        """The reverse-mode program: the outputs, then the gradients; with ``cotangent_params``
        the outputs' cotangents are parameters, else the first ``seeded`` outputs (all by
        default; 1 for ``has_aux``, whose other outputs are returned, not differentiated) are
        seeded with 1."""
        prog = self.program
        forward_sweep = self.forward_sweep = clone(prog.body)
        self.fwd = {}
        originals = [op for op in walk(prog.body) if op.regions]
        copies = [op for op in walk(forward_sweep) if op.regions]
        self.fwd = dict(zip(originals, copies))
        forward_parts(self, forward_sweep)
        outputs = list(prog.outputs)
        # loop results are restored by the reverse sweep: return copies made before it starts
        for k, out in enumerate(outputs):
            if isinstance(out, Var) and any(out in op.outs and op.prim in ("for", "while") for op in forward_sweep.ops):
                keep = Var(hint=out.hint, type=out.type)
                forward_sweep.ops.append(Op("copy", [out], [keep]))
                outputs[k] = keep
        cotangents = None
        if cotangent_params:
            cotangents = [Var(hint="ct", type=o.type if o.type.kind == "float" else o.type.with_(kind="float", dtype="float64"),
                              role="cotangent") for o in prog.outputs]
        into = self.stacks.into if self.stacks is not None else ()
        buffers = []  # the caller's adjoint buffers of the parameters ``into``: added into, not returned
        for i in into:
            p = prog.params[i]
            buffers.append(Var(hint=p.hint, type=_adjoint_type(p), role="adjoint", base=p))
            self.buffers[p] = buffers[-1]
        with self.b.at(None):
            self.allocate(prog.body, set(prog.params))
        self.seed(list(prog.outputs)[:seeded], cotangents)
        self.ops(prog.body.ops)
        with self.b.at(None):
            grads = [self.get(prog.params[i]) or zero_like(self.b, prog.params[i]) for i in self.wrt
                     if not is_tape(prog.params[i]) and i not in into]  # a tape's adjoint tape is passed by reference
        reverse_sweep = self.b.region
        _use_rules(forward_sweep, self.active)
        body = Region()
        body.ops = ([Op("comment", [], [], (("text", "forward sweep"),))] + self.tapes.allocs + forward_sweep.ops
                    + [Op("comment", [], [], (("text", "reverse sweep"),))] + reverse_sweep.ops)
        body.yields = outputs + grads
        skip_zero_adjoints(body, self.b.zero_skips)
        params = prog.params + self.tape_params + (cotangents or []) + buffers
        return Program(f"{prog.name}_vjp" if cotangent_params else f"{prog.name}_grad", params, body,
                       len(body.yields), prog.filename, prog.firstline)


# the reverse of reads of a list appended in a loop: into the adjoint list (``prims/lists.py``); of
# stores into a gradient's list of adjoints (reverse over reverse): reads of its adjoint list
LIST_READS = {"list_get": "list_add", "stack_list": "add_rows"}
LIST_STORES = {add: read for read, add in LIST_READS.items()}
LISTS = ("list", "zeros_list")  # the lists made in a program: a user's, and a gradient's adjoints of its items


def _adjoint_alloc(alloc: Op, adj: Var) -> Op:
    """The statement making ``adj``, the adjoint tape or record of what ``alloc`` makes, at the
    start of its reverse: an empty tape, or a record of zeros (of arrays: one zero array per entry
    of the record, filled by then, since ``grec[i] += g`` adds into an entry)."""
    kind = alloc.param("kind") if alloc.prim == "record" else None
    if isinstance(kind, tuple):
        dtype, ndim = kind
        return Op("zeros_list", [alloc.out], [adj], (("item", Type("float", ndim, dtype)),), alloc.loc)
    return Op(alloc.prim, list(alloc.args), [adj], alloc.params, alloc.loc)


def _use_rules(region: Region, active: set[Var]) -> None:
    """In the forward sweep, an active custom_vjp marker whose rule the reverse sweep has used
    becomes a copy of its value: differentiated again (a Hessian, ``grad(grad(f))``), the derivative
    program's own code is differentiated, ``fwd``'s and ``bwd``'s (JAX's semantics), not the rule
    applied a second time."""
    for k, op in enumerate(region.ops):
        p = prim(op)
        if p is not None and p.used_by_reverse and op.out in active:
            region.ops[k] = Op("copy", [op.args[0]], list(op.outs), (), op.loc)
        for sub in op.regions:
            _use_rules(sub, active)


# -- structured ops ------------------------------------------------------------------------------


def _if(rv: Reverse, op: Op) -> None:
    fwd_op = rv.fwd[op]
    cond = op.args[0]
    before = dict(rv.adjoint)
    local = set()
    for reg in op.regions:
        local |= defined_in(reg)
    results = []
    for reg, fwd_reg in zip(op.regions, fwd_op.regions):
        rv.adjoint = dict(before)
        rev = Region()
        with rv.b.into(rev):
            rv.allocate(reg)
            for out, y in zip(op.outs, reg.yields):
                g = rv.get(out)  # a value, or the buffer of an array read element by element
                if g is not None and isinstance(y, Var) and y in rv.active:
                    rv.accumulate(y, g, len(rv.b.region.ops))
            rv.ops(reg.ops)
        if rv.loop_depth:
            rv.restore(fwd_reg, rev)
        rv.branches[rev] = fwd_reg
        results.append((rev, rv.adjoint))
    changed = [v for v in results[0][1].keys() | results[1][1].keys()
               if v not in local and v not in rv.buffers and v not in op.outs
               and any(d.get(v) is not before.get(v) for _, d in results)]
    changed.sort(key=lambda v: v.id)
    outs = []
    for v in changed:
        for rev, d in results:
            with rv.b.into(rev):
                value = d.get(v) or before.get(v) or _zero_here(rv, v, op)
            rev.yields.append(value)
        outs.append(Var(type=_adjoint_type(v), role="adjoint", base=v))
    rv.adjoint = before
    for k in op.outs:
        rv.adjoint.pop(k, None)
    rv.b.append(Op("if", [cond], outs, (), op.loc, [results[0][0], results[1][0]]))
    rv.adjoint.update(zip(changed, outs))


def _scopes(body: Region) -> dict[Any, Any]:
    """For every value, the region that defines it; for every ``if``, the regions around it (by id)."""
    scopes: dict[Any, Any] = {}

    def visit(reg: Region, around: frozenset[int]) -> None:
        for a in reg.args:
            scopes[a] = id(reg)
        for op in reg.ops:
            for o in op.outs:
                scopes[o] = id(reg)
            if op.prim == "if":
                scopes[op] = around
            for sub in op.regions:
                visit(sub, around | {id(sub)})

    visit(body, frozenset({id(body)}))
    return scopes


def _zero_here(rv: Reverse, v: Var, op: Op) -> Atom:
    """A zero adjoint for ``v`` on a path of the ``if`` ``op`` that leaves it unchanged; a
    placeholder if ``v`` is an array made in a branch of another ``if`` (a derivative program's
    forward sweep makes it, its reverse sweep reads it in the same branch): ``v`` does not exist on
    this path, and neither is its adjoint read."""
    home = rv.scopes.get(v)
    if v.type.is_array and home is not None and home not in rv.scopes.get(op, ()):
        hole = Var(hint=v.hint, type=_adjoint_type(v), role="tmp")
        rv.b.append(Op("unset", [], [hole], (("kind", tape_kind(v)),)))
        return hole
    return zero_like(rv.b, v)


def _adjoint_type(v: Var) -> Type:
    t = v.type
    return t if t.kind == "float" else t.with_(kind="float", dtype="float64")


def _trip_count(rv: Reverse, op: Op, fwd_op: Op) -> Atom:
    """The number of iterations the forward loop ran: from the range, or counted."""
    if op.prim == "for" and not op.param("break"):
        return rv.b.emit("len_range", *op.args[:3])
    # count iterations: a new carried slot in the forward copy
    body = fwd_op.regions[-1]
    n_slots = len(fwd_op.outs)
    head = 1 if op.prim == "for" else 0
    counter = Var(hint="n_iter", type=INT)
    nxt = Var(hint="n_iter", type=INT)
    done = Var(hint="n_iter", type=INT)
    body.args.insert(head + n_slots, counter)
    body.ops.insert(0, Op("add", [counter, Const(1)], [nxt], loc=op.loc))
    body.yields.insert(n_slots, nxt)
    if op.prim == "while":
        fwd_op.regions[0].args.append(Var(hint="n_iter", type=INT))
        fwd_op.args = fwd_op.args + [Const(0)]
    else:
        fwd_op.args = fwd_op.args + [Const(0)]
    fwd_op.outs = fwd_op.outs + [done]
    return done


def _loop(rv: Reverse, op: Op) -> None:
    fwd_op = rv.fwd[op]
    snapshots = op.param("checkpoint") or (rv.checkpoints if rv.loop_depth == 0 else None)
    if snapshots is not None:
        checkpoint.check(op, snapshots, rv.loop_depth > 0, rv.memory)
    is_for = op.prim == "for"
    head = 1 if is_for else 0
    body = op.regions[-1]
    fwd_body = fwd_op.regions[-1]
    n = len(op.outs)
    carried = body.args[head:]
    inits = op.args[3:] if is_for else op.args
    local = defined_in(body)
    if is_for:
        local.discard(body.args[0])  # the index is restored by the reverse loop itself
    # adjoint slots: the loop's own carried values, and active scalars from outside it
    own = [k for k in range(n) if op.outs[k] in rv.active]
    outside = [v for v in free_vars(body, local | set(body.args)) if v in rv.active and not v.type.is_array]
    outside = [v for v in outside if v not in rv.buffers and v.type.kind != "tape"]  # lists: adjoint_tapes
    simple = is_for and isinstance(op.args[2], Const) and op.args[2].value == 1 and not op.param("break")
    count = None if simple else _trip_count(rv, op, fwd_op)
    init_vals: list[Atom] = []
    args: list[Var] = []
    for k in own:
        g = rv.get(op.outs[k])
        if g is None:  # nothing after the loop reads it: zeros, named as the adjoint they start (``gh``)
            g = zero_like(rv.b, op.outs[k])
            if isinstance(g, Var):
                g.role, g.base = "adjoint", carried[k]
        init_vals.append(g)
        args.append(Var(type=_adjoint_type(op.outs[k]), role="adjoint", base=carried[k]))
    saved = {v: rv.adjoint.get(v) for v in outside}
    for v in outside:
        g = rv.adjoint.get(v)
        init_vals.append(g if g is not None else zero_like(rv.b, v))
        arg = Var(type=_adjoint_type(v), role="adjoint", base=v)
        args.append(arg)
        rv.adjoint[v] = arg
    index = body.args[0] if is_for else Var(hint="it", type=INT)
    rev = Region(args=[index, *args])
    rv.loop_depth += 1
    rv.enclosing.append(op)
    outer = dict(rv.adjoint)
    with rv.b.into(rev):
        for reg in op.regions:
            rv.allocate(reg)
        for k, arg in zip(own, args):
            y = body.yields[k]
            if isinstance(y, Var) and y in rv.active:
                rv.accumulate(y, arg, len(rv.b.region.ops))
        rv.ops(body.ops)
        ys: list[Atom] = []
        for k in own:
            g = rv.get(carried[k])
            ys.append(g if g is not None else zero_like(rv.b, carried[k]))
        for v in outside:
            ys.append(rv.adjoint[v])
        rev.yields = ys
    rv.loop_depth -= 1
    rv.enclosing.pop()
    stacked = rv.stacks is not None and bool(rv.stacks.params)  # a kept function's tapes are its caller's
    policy = save_policy.plan(op, rv.loop_depth, fwd_op in rv.forward_sweep.ops, snapshots, stacked)
    # a record: the trip count is known before the loop runs, so arrays, not a growing stack
    record = Record(body.args[0], Var(hint="n_iter", type=INT)) if policy.kind == "record" else None
    nest = _nested_record(rv, op) if policy.kind == "tape" and not stacked else None
    if nest is not None:  # inside loops whose trip counts are known before the outermost starts
        record = Record(Var(hint="at", type=INT), Var(hint="n_iter", type=INT))
    undo = save_policy.undone_slots(fwd_body, head, n, bool(op.param("break"))) \
        if policy.kind == "tape" and record is None else {}
    if policy.kind == "checkpoint":
        checkpoint.build(op, fwd_op, fwd_body, rev, rv.forward_sweep, rv.memory, clone, policy.snapshots)
    else:
        made, ends = _undo_ops(undo, op.loc)
        rev.ops[0:0] = made  # before restoring, which then keeps what they read (a branch's condition)
        adjoint_ops = {id(o) for o in rev.ops[len(made):]}
        rv.restore(fwd_body, rev, ({fwd_body.args[0]} if is_for else set()) | set(undo)
                   | {y for y, _ in undo.values()}, record, op)
        # what restoring put before them (``keep_decisions`` may have moved some of them into the
        # forward sweep, so they are found by identity, not counted)
        restored = next((i for i, o in enumerate(rev.ops) if id(o) in adjoint_ops), len(rev.ops))
        rev.ops = _in_order(rev.ops[:restored]) + rev.ops[restored:]
        for v, end in ends.items():  # the reverse loop carries each, from the forward loop's last value
            rev.args.append(end)
            rev.yields.append(v)
            init_vals.append(fwd_op.outs[next(k for k, a in enumerate(fwd_body.args) if a is v) - head])
    if record is not None and record.allocs and nest is not None:
        counts, outermost = nest
        at = rv.forward_sweep.ops.index(rv.fwd[outermost])
        rv.forward_sweep.ops[at:at] = [*_flat(counts, [Op("len_range", list(lp.args[:3]), [c], loc=lp.loc)
                                                       for lp, c in counts], record.count, op.loc),
                                       *record.allocs]
        indices = [(lp.regions[-1].args[0], c) for lp, c in counts]
        fwd_body.ops[0:0] = _flat_index(indices, record.index, op.loc)
        rev.ops[0:0] = _flat_index(indices, record.index, op.loc)
    elif record is not None and record.allocs:
        at = rv.forward_sweep.ops.index(fwd_op)
        rv.forward_sweep.ops[at:at] = [Op("len_range", list(op.args[:3]), [record.count], loc=op.loc),
                                       *record.allocs]
    rv.adjoint = {k: v for k, v in outer.items() if k not in local}
    for v in outside:
        rv.adjoint[v] = saved[v] if saved[v] is not None else rv.adjoint.get(v)
    outs = [Var(type=a.type, role="adjoint", base=(op.outs[k] if i < len(own) else outside[i - len(own)]))
            for i, (k, a) in enumerate(zip(own + [None] * len(outside), args))]
    outs += [Var(hint=v.hint, type=v.type) for v in rev.yields[len(outs):]]  # the carried values undone
    if is_for and isinstance(op.args[2], Const) and op.args[2].value == 1 and not op.param("break"):
        start, stop, _ = op.args[:3]
        bounds = [rv.b.sub(stop, 1), rv.b.sub(start, 1), Const(-1)]
    elif is_for:
        start, _, step = op.args[:3]
        last = rv.b.add(start, rv.b.mul(rv.b.sub(count, 1), step))
        bounds = [last, rv.b.sub(start, step), rv.b.neg(step)]
    else:
        bounds = [rv.b.sub(count, 1), Const(-1), Const(-1)]
    loop = Op("for", [*bounds, *init_vals], outs, (), op.loc, [rev])
    if policy.kind != "checkpoint":  # run only where an adjoint flowing in can be nonzero
        loop = skipped_unless(rv.b, op, loop, init_vals[:len(own)], init_vals)
    rv.b.append(loop)
    for v, out in zip(outside, outs[len(own):]):  # first: the carried sums of outside adjoints
        out.base = v
        rv.adjoint[v] = out
    for k, out in zip(own, outs):  # then the loop's initial values receive their adjoints
        rv.adjoint.pop(op.outs[k], None)
        init = inits[k]
        if isinstance(init, Var) and init in rv.active:
            rv.accumulate(init, out, len(rv.b.region.ops))


def _undo_ops(undo: save_policy.Undone, loc: object) -> tuple[list[Op], dict[Var, Var]]:
    """The statements computing each carried value of ``undo`` back from a new loop argument that
    holds its value at the end of the iteration (which is also the value the body ends with: the
    reverse reads that one from the argument too), and those arguments."""
    ends: dict[Var, Var] = {}
    made: list[Op] = []
    for v, (y, paths) in undo.items():
        end = ends[v] = Var(hint=v.hint, type=v.type)
        made.append(Op("copy", [end], [y], loc=loc))
        values: list[Atom] = []
        for _, name, extra in paths:
            if name == "copy":
                values.append(end)
                continue
            out = v if len(paths) == 1 else Var(hint=v.hint, type=v.type)
            made.append(Op(name, [end, *extra], [out], loc=loc))
            values.append(out)
        if len(paths) == 2:
            made.append(Op("select", [paths[0][0], *values], [v], loc=loc))
    return made, ends


def _in_order(ops: list[Op]) -> list[Op]:
    """``ops`` (the statements at the start of a reverse loop body that bring back primal values:
    pops, recomputations, carried values computed back) with each after the statements among them
    it reads, otherwise in the given order (the pops keep theirs: they read nothing made here)."""
    made = {o: op for op in ops for o in op.outs}
    done: set[int] = set()
    out: list[Op] = []
    while len(out) < len(ops):
        for op in ops:
            if id(op) not in done and all(not isinstance(a, Var) or a not in made or id(made[a]) in done
                                          for a in op.args):
                done.add(id(op))
                out.append(op)
                break
        else:
            raise AssertionError("the statements restoring a loop's values read each other in a cycle")
    return out


def _nested_record(rv: Reverse, op: Op) -> tuple[list[tuple[Op, Var]], Op] | None:
    """For a loop nested in loops (``for j in range(k)`` in ``for i in range(n)``), all
    ``for x in range(m)`` with every bound defined before the outermost starts (so the trip counts
    are too): the loops from the outermost in, each with a variable for its trip count, and the
    outermost, whose forward copy is a statement of the forward sweep.  Its values can be kept in
    records of ``n * k`` entries indexed ``i * k + j`` instead of on a growing tape.  ``None``
    otherwise."""
    chain = [*rv.enclosing, op]
    if len(chain) < 2 or rv.checkpoints is not None or rv.fwd.get(chain[0]) not in rv.forward_sweep.ops:
        return None  # (a checkpointed loop keeps nothing per iteration)
    for lp in chain:
        if not (lp.prim == "for" and lp.args[0] == Const(0) and lp.args[2] == Const(1) and not lp.param("break")
                and not lp.param("checkpoint")):
            return None
        if not all(isinstance(a, Const) or a in rv.top_defs for a in lp.args[:3]):
            return None
    return [(lp, Var(hint="n_iter", type=INT)) for lp in chain], chain[0]


def _flat(counts: list[tuple[Op, Var]], lens: list[Op], total: Var, loc: object) -> list[Op]:
    """The trip counts of the loops ``counts`` (``lens``) and their product, ``total``."""
    ops = list(lens)
    acc: Var = counts[0][1]
    for k, (_, c) in enumerate(counts[1:]):
        out = total if k == len(counts) - 2 else Var(hint="n_iter", type=INT)
        ops.append(Op("mul", [acc, c], [out], loc=loc))
        acc = out
    return ops


def _flat_index(indices: list[tuple[Var, Var]], at: Var, loc: object) -> list[Op]:
    """``at = (i * k + j) * m + l`` for the indices ``i, j, l`` of loops of ``n, k, m`` trips."""
    ops: list[Op] = []
    acc: Var = indices[0][0]
    for k, (index, count) in enumerate(indices[1:]):
        last = k == len(indices) - 2
        scaled = Var(hint="at", type=INT)
        ops.append(Op("mul", [acc, count], [scaled], loc=loc))
        out = at if last else Var(hint="at", type=INT)
        ops.append(Op("add", [scaled, index], [out], loc=loc))
        acc = out
    return ops


def _call(rv: Reverse, op: Op) -> None:
    """The reverse of a kept call: its reverse part, fed the residuals its forward part returned in
    the forward sweep (``forward_parts``): ``gM = det_bwd(*det_res, g)``; and the adjoint tapes of
    the tapes it takes (``det_fwd_bwd(*res, gtape, g)``), run even with no cotangent so that the
    adjoint tapes stay in step with the tapes.  A forward part that pushed its residuals onto the
    caller's tapes has its reverse part run even with no cotangent too: it pops them, so that the
    calls reversed before it pop their own (``h(x) <= 1.0`` after a loop of calls)."""
    made = rv.residuals.get(op)
    if made is None:
        return
    res, wrt, bwd, tapes = made
    gs = [rv.get(o) for o in op.outs]
    taped = tape_args(op, wrt)
    if all(g is None for g in gs) and not taped and res is not None:
        return  # (a part that pushed onto the caller's tapes pops them even so: with zero cotangents)
    mark = len(rv.b.region.ops)
    cts: list[Atom] = []
    for o, g in zip(op.outs, gs):
        if g is None:
            g = zero_like(rv.b, o) if o.type.kind == "float" else Const(0.0)
        elif g in rv.buffers.values():  # a buffer changes later in the sweep: pass a copy
            g = rv.b.emit("acopy", g)
        cts.append(g)
    gtapes = [rv.adjoint_tape(op.args[k], op.loc) for k in taped]
    into = rv.into.get(op, ())  # adjoints added into these arguments' buffers by the call itself
    buffers = [rv.buffers[op.args[k]] for k in into]
    wrt = tuple(k for k in wrt if k not in taped and k not in into)
    adjoints = [Var(type=_adjoint_type(op.args[k]), role="tmp") for k in wrt]
    if res is None:  # it pops its residuals from the tapes
        params = (("fn", bwd), ("into", len(buffers))) if buffers else (("fn", bwd),)
        # the arguments as its forward part saw them: read by the reverse sweep like any value
        args = rv.call_args[op] if bwd.from_caller else []
        rv.b.append(Op("call_stacked", [*args, *tapes, *gtapes, *cts, *buffers], adjoints, params, op.loc))
    else:
        rv.b.append(Op("call_stacked" if gtapes else "call", [res, *gtapes, *cts], adjoints, (("fn", bwd),), op.loc))
    for k, c in zip(wrt, adjoints):
        rv.accumulate(op.args[k], c, mark)  # type: ignore[arg-type]


def forward_parts(rv: Reverse, region: Region) -> None:
    """Replace each active kept call in the forward sweep ``region`` (and the regions nested in it)
    by a call of the callee's forward part, which also returns the residuals (``calls.py``).  A
    call that takes tapes stays a ``call_stacked`` (it pushes onto them).  A ``while`` loop's
    condition is not: the reverse sweep reverses its body only (the condition yields a truth value,
    no adjoint flows back through it), so a forward part there would push residuals no reverse part
    pops, and the pops after it would read them."""
    ops: list[Op] = []
    for op in region.ops:
        for sub in op.regions[1:] if op.prim == "while" else op.regions:
            forward_parts(rv, sub)
        wrt = tuple(k for k, a in enumerate(op.args) if isinstance(a, Var) and a in rv.active)
        if op.prim not in ("call", "call_stacked") or not wrt or not (
                any(o in rv.active for o in op.outs) or tape_args(op, wrt)):
            ops.append(op)
            continue
        before, args, outs, after = memory_copies(op, rv.memory.written_after)
        if rv.stacks is not None:  # residuals on the caller's tapes
            fwd, bwd, kinds, into = stacked_vjp_functions(op, wrt, rv.stacks.accumulate)
            assert into == rv.into.get(op, ()), "the caller allocated the buffers the reverse part adds into"
            tapes = [rv.tapes.get(k) for k in kinds]
            ops += before + [Op("call_stacked", args + tapes, outs, (("fn", fwd),), op.loc)] + after
            rv.residuals[op] = (None, wrt, bwd, tapes)
            rv.call_args[op] = args
            continue
        fwd, bwd = vjp_functions(op, wrt)
        res = Var(hint=f"{fwd.callee.label}_res", type=RESIDUALS)
        ops += before + [Op(op.prim, args, outs + [res], (("fn", fwd),), op.loc)] + after
        rv.residuals[op] = (res, wrt, bwd, [])
    region.ops = ops


STRUCTURED = {"if": _if, "for": _loop, "while": _loop, "call": _call, "call_stacked": _call}


def reverse(program: Program, wrt: list[int], cotangent_params: bool = False, seeded: int | None = None,
            stacks: "Stacks | None" = None, checkpoints: int | None = None,
            branches: save_policy.Branches | None = None) -> Program:
    """The adjoint program of ``program`` with respect to ``program.params[wrt]``; with ``stacks``,
    kept calls keep their residuals on tapes (``calls.Stacks``); ``checkpoints``: checkpoint every
    outermost loop with that many snapshots; ``branches`` receives the forward branch of each
    reverse branch."""
    return Reverse(reread_views(program), wrt, stacks, checkpoints, branches).run(cotangent_params, seeded)

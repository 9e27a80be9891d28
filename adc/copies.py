"""Fewer array copies in derivative code: clean-up passes on the code adc runs.

``complement_adds``: the adjoint of ``z = x.copy(); z[1:] = v`` reads ``gz[1:]`` for ``v``, clears
it, then adds all of ``gz`` into ``gx``: a copy of the slice, a pass of zeros and a whole-array
addition whose cleared part adds nothing.  When nothing else reads ``gz``, the sweep instead reads
the slice as a view and adds only the rest, ``gx[:1] += gz[:1]`` (``x[:a]`` and ``x[a:]`` split an
array along its first axis for any integer ``a``).

``shared_copies``: ``y = x.copy()`` where ``x`` is a new array that nothing writes after the copy
and nothing reads once ``y`` is first written: ``y`` uses ``x``'s memory (the seed of an adjoint
buffer copied from a product that is not needed any more).  Both values must have one definition
in the program: a primal value the reverse sweep restores or computes again is another array there.

``masked_adds`` (on the code adc emits, not on a program differentiated again): ``h = g +
np.where(m, v, 0.0)`` where ``g`` is a new array nothing reads afterwards becomes ``np.add(g, v,
out=g, where=m)``: one pass over the mask instead of an array of values and zeros and a whole-array
addition (the adjoint of ``np.max``'s ties).  ``g += np.where(m, v, 0.0)`` into a buffer too.

``in_place_results`` (on the NumPy code adc emits): ``y = np.exp(v)``, ``y = c * v`` or ``y = v *
w``, an element-wise NumPy function of a new array ``v`` of the same type that nothing reads
afterwards, becomes ``y = np.exp(v, out=v)``: no new array, and the memory just read is written
(log-sum-exp's ``exp``, the gradient's scaling, vector mode's product rules).  With another array
operand it is ``adc_arrays.ufunc_into``, which writes into ``v`` only when the result has its shape
and dtype (``v`` of shape ``(1, 3)`` times one of ``(5, 3)``, int32 plus int64: a new array).

All of them run on one block at a time and leave alone any array that a nested region, a tape, a list or
a call sees.  Simple ops may be shared with the cached primal program, so ops are replaced, never
changed in place.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from heapq import heappop, heappush
from typing import Callable

import numpy as np

from .ir import (Atom, Const, Op, Program, Region, Var, blocks, copy_region, definitions, mentioned, mentions,
                 mentions_any, uses, walk)
from .memory import is_array, makes_new, reads_shape_only, writes, writes_memory
from .passes import substitute
from .types import Type
from .prims import prim


def complement_adds(program: Program) -> Program:
    """``t = g[K]; c = t.copy(); g[K] = 0.0; … h += g`` becomes ``c = g[K]; … h[~K] += g[~K]``
    (``K`` a slice along the first axis with one bound), where ``g`` is a new array of this block
    that nothing else reads or writes after ``g[K]`` is taken."""
    for region in blocks(program.body):
        while _complement_once(region):
            pass
    return program


def shared_copies(program: Program) -> Program:
    """``y = x.copy()`` becomes ``y = x`` (``y`` is replaced by ``x``) where ``x`` is a new array
    of this block that nothing writes after the copy and nothing reads after ``y``'s first write."""
    defined = definitions(program.body)  # (sharing removes a definition of the copy only)
    for region in blocks(program.body):
        while _share_once(region, program, defined):
            pass
    return program


def masked_adds(program: Program) -> Program:
    """A copy of ``program`` where ``t = np.where(m, v, 0.0); h = g + t`` (``t`` read there only)
    becomes ``np.add(g, v, out=g, where=m)`` and ``h`` is replaced by ``g``: ``g`` and ``h`` are
    adjoints of one value (so ``m`` and ``v`` broadcast to ``g``'s shape), ``g`` a new array of
    this block that is only read as a value before and not at all after.  The same for
    ``g += t`` into an adjoint buffer."""
    return _rewritten(program, _mask_once)


def in_place_results(program: Program) -> Program:
    """``y = f(v, c)`` (``f`` an element-wise NumPy function, not SciPy's; ``c`` numbers or arrays)
    becomes ``y = np.f(v, c, out=v)`` (``y = 1.0 * v``: ``v`` itself), where ``v`` has ``y``'s type
    and is (another name of) a new array of this block that is only read as a value before and not
    mentioned after; with another array operand, checked at run time (``y`` may be larger than
    ``v``, or of a wider dtype)."""
    return _rewritten(program, _into_once)


@dataclass
class _Scan:
    """The statements after a new array's definition read so far (``_dead_after``): its names and
    views ``names`` (``None``: one of them is written or kept there, or is yielded or defined
    twice), how often each was read, the names read elsewhere too (``open``), and the next
    statements that mention a name (``ahead``: a heap of position, name id, index into
    ``_Block.mentioned``), so a scan visits only the statements that mention the array."""
    names: set[Var] | None
    read: dict[Var, int] = field(default_factory=dict)
    open: set[Var] = field(default_factory=set)
    ahead: list[tuple[int, int, int, Var]] = field(default_factory=list)

    def follow(self, u: Var, after: int, mentioned: dict[Var, list[int]]) -> None:
        """Visit the statements after position ``after`` that mention ``u``."""
        at = mentioned.get(u, [])
        i = bisect_right(at, after)
        if i < len(at):
            heappush(self.ahead, (at[i], u.id, i, u))

    def next_before(self, k: int, mentioned: dict[Var, list[int]]) -> int | None:
        """The next statement before ``k`` that mentions a name (each once), or ``None``."""
        if not self.ahead or self.ahead[0][0] >= k:
            return None
        j = self.ahead[0][0]
        while self.ahead and self.ahead[0][0] == j:
            _, _, i, u = heappop(self.ahead)
            if i + 1 < len(mentioned[u]):
                heappush(self.ahead, (mentioned[u][i + 1], u.id, i + 1, u))
        return j

    def named(self, vs: list[Var], region: Region, defined: dict[Var, int], everywhere: dict[Var, int]) -> None:
        """``vs`` are names of the array too."""
        for u in vs:
            if self.names is None or u in region.yields or defined.get(u) != 1:
                self.names = None
                return
            self.names.add(u)
            if everywhere.get(u, 0):
                self.open.add(u)

    def reads(self, op: Op, everywhere: dict[Var, int]) -> None:
        """``op`` reads some of the names."""
        assert self.names is not None
        for u, n in uses(Region([], [op])).items():
            if u in self.names:
                self.read[u] = self.read.get(u, 0) + n
                if self.read[u] >= everywhere.get(u, 0):
                    self.open.discard(u)


@dataclass
class _Block:
    """A block being rewritten: where each of its values is defined and the scans from its new
    arrays' definitions (rewrites at the cursor leave both valid; removing a statement does not)."""
    region: Region
    made: dict[Var, int] = field(default_factory=dict)
    scans: dict[Var, _Scan] = field(default_factory=dict)
    mentioned: dict[Var, list[int]] = field(default_factory=dict)  # the statements that mention each value
    roots: dict[Var, tuple[Var, int | None]] = field(default_factory=dict)  # (``root``, for each name)
    check: bool = False  # ``pipeline.CHECK_IR``: check each answer against a full reading

    def __post_init__(self) -> None:
        self.moved()

    def moved(self) -> None:
        """Statements were removed: positions changed."""
        self.made = {o: j for j, op in enumerate(self.region.ops) for o in op.outs}
        self.mentioned = {}
        for j, op in enumerate(self.region.ops):
            for u in mentioned(op):
                self.mentioned.setdefault(u, []).append(j)
        self.scans, self.roots = {}, {}

    def root(self, v: Var, k: int) -> tuple[Var, int | None]:
        """The array ``v``, defined before statement ``k``, is another name of, and where that is
        defined (``gx = gv2``, ``v3 = np.exp(v2, out=v2)``: one array, two names)."""
        ops, root, at, trail = self.region.ops, v, _before(self.made, v, k), []
        while at is not None and ops[at].prim in ("copy", "ufunc_into") and isinstance(ops[at].args[0], Var):
            if root in self.roots:
                root, at = self.roots[root]
                break
            trail.append(root)
            root = ops[at].args[0]
            at = _before(self.made, root, at)
        self.roots.update((u, (root, at)) for u in trail)
        return root, at


def _rewritten(program: Program, once: Callable[[_Block, Program, dict[Var, int], dict[Var, int], int], int | None]
               ) -> Program:
    """A copy of ``program`` with ``once`` applied to each block from its first statement on.
    ``once`` rewrites the first statement from ``start`` on it can and returns where to go on, or
    ``None`` at the end: no rewrite makes an earlier statement rewritable (a rewrite adds reads of
    the values it reads; one that removes a statement renames its result to a value it read).
    The reads of each value are counted once and kept up to date by each rewrite."""
    from . import pipeline  # (pipeline imports this module)
    out = replace(program, body=copy_region(program.body))
    defined, reads = definitions(out.body), uses(out.body)
    for region in blocks(out.body):
        block, start = _Block(region, check=pipeline.CHECK_IR), 0
        while (start := once(block, out, defined, reads, start)) is not None:
            if block.check:
                assert {v: n for v, n in reads.items() if n} == uses(out.body), "copies: stale read counts"
    return out


def _recount(reads: dict[Var, int], old: list[Op], new: list[Op], renamed: dict[Var, Var] | None = None) -> None:
    """Update ``reads`` for the statements ``old`` (no nested regions) replaced by ``new`` and the
    values ``renamed`` replaced everywhere (by ``substitute``)."""
    for ops, sign in ((old, -1), (new, 1)):
        for op in ops:
            for a in op.args:
                if isinstance(a, Var):
                    reads[a] = reads.get(a, 0) + sign
    for old_var, new_var in (renamed or {}).items():
        reads[new_var] = reads.get(new_var, 0) + reads.pop(old_var, 0)


def _into_once(block: _Block, program: Program, defined: dict[Var, int], reads: dict[Var, int],
               start: int) -> int | None:
    region = block.region
    for k in range(start, len(region.ops)):
        op = region.ops[k]
        p = prim(op)
        if p is None or op.regions or len(op.outs) != 1 or not is_array(op.out) or p.structural \
                or not isinstance(p.impl, np.ufunc) or p.impl.nout != 1 or op.out in region.yields \
                or getattr(np, p.impl.__name__, None) is not p.impl \
                or defined.get(op.out) != 1:  # (a value the reverse sweep restores is another array there)
            continue
        arrays = [a for a in op.args if is_array(a)]
        if not arrays or not all(is_array(a) or _number(a) or isinstance(a, Const) for a in op.args):
            continue
        v = next((a for a in arrays if a.type == op.out.type and a not in region.yields
                  and _dead_after(reads, block, a, k, defined)), None)
        if v is None:
            continue
        if op.prim == "mul" and len(arrays) == 1 and any(isinstance(a, Const) and a.value == 1.0 for a in op.args):
            region.ops = region.ops[:k] + region.ops[k + 1:]
            substitute(program.body, {op.out: v})
            _recount(reads, [op], [], {op.out: v})
            block.moved()
            return k
        # another array operand may make the result larger than ``v`` (an axis of length 1 in ``v``
        # that it broadcasts; a length the type knows as 1 may be 0, ``x[n:n + 1]``) or of a wider
        # dtype (int32 and int64, float16 and float64: the types name both alike): checked at run time
        checked = any(a is not v for a in arrays)
        params = (("ufunc", p.impl.__name__),) + ((("checked", True),) if checked else ())
        into = Op("ufunc_into", [v, *op.args], list(op.outs), params, op.loc)
        region.ops[k] = into
        _recount(reads, [op], [into])
        return k + 1
    return None


def _dead_after(everywhere: dict[Var, int], block: _Block, v: Var, k: int, defined: dict[Var, int]) -> bool:
    """Is ``v`` (another name of) a new array of ``block``, which with its other names and views
    is only read as a value before the block's statement ``k`` and read nowhere else in the
    program (``everywhere``: its reads; a reverse sweep reads the forward sweep's values in other
    blocks too)?  The statements that mention the array are read once for all queries
    (``_Block.scans``)."""
    region = block.region
    root, at = block.root(v, k)
    if at is None or not (_new(region.ops[at]) or _new_in_every_branch(region.ops[at], root, everywhere)) \
            or defined.get(root) != 1:
        return False
    scan = block.scans.get(root)
    if scan is None:
        scan = block.scans[root] = _Scan(set())
        scan.named([root], region, defined, everywhere)
        scan.follow(root, at, block.mentioned)
    while scan.names is not None and (j := scan.next_before(k, block.mentioned)) is not None:
        op = region.ops[j]
        scan.reads(op, everywhere)
        outs = [u for u in op.outs if u not in scan.names]
        if not _read_as_value(op, scan.names, written=True):
            scan.names = None  # written, kept elsewhere, or seen by a nested region
            break
        views = [u for u in outs if u in scan.names]
        scan.named(views, region, defined, everywhere)
        for u in views:
            scan.follow(u, j, block.mentioned)
    here = uses(Region([], [region.ops[k]]))
    answer = scan.names is not None and v in scan.names \
        and all(everywhere.get(u, 0) == scan.read.get(u, 0) + here.get(u, 0) for u in scan.open)
    if block.check:
        assert answer == _read_through(everywhere, region, root, at, v, k, defined), "copies: a stale scan"
    return answer


def _read_through(everywhere: dict[Var, int], region: Region, root: Var, at: int, v: Var, k: int,
                  defined: dict[Var, int]) -> bool:
    """``_dead_after``'s answer found by reading the statements from ``at`` to ``k`` again (what the
    test suite checks its scans against)."""
    seen, _ = _read_only(region, at + 1, k, {root}, skip=k)
    if seen is None or v not in seen or any(u in region.yields or defined.get(u) != 1 for u in seen):
        return False
    here = uses(Region([], region.ops[at:k + 1]))
    return all(everywhere.get(u, 0) == here.get(u, 0) for u in seen)


def _before(made: dict[Var, int], v: Var, k: int) -> int | None:
    """Where ``v`` is defined in the block if that is before its statement ``k``."""
    at = made.get(v)
    return at if at is not None and at < k else None


def _new_in_every_branch(op: Op, v: Var, everywhere: dict[Var, int]) -> bool:
    """Is ``v`` a result of the ``if`` ``op`` that every branch gives as a new array it makes and
    reads nowhere else (``dv = dt + dp`` in one branch, ``dv = dvertices[idx]`` in the other)?"""
    if op.prim != "if" or v not in op.outs:
        return False
    j = op.outs.index(v)
    for reg in op.regions:
        y = reg.yields[j] if j < len(reg.yields) else None
        made = _definition(reg, y, len(reg.ops)) if isinstance(y, Var) else None
        if made is None or everywhere.get(y, 0) != 1 or not _new(reg.ops[made]):  # type: ignore[arg-type]
            return False
    return True


def masked_adds_skipped(program: Program) -> Program:
    """``np.add(g, q, out=g, where=m)`` where ``q`` is zero whenever a number ``f`` is (``f / n``,
    ``f * y``) runs under ``if f != 0.0:``, and so do the statements before it that only it reads
    (its mask ``m = x == a``, the count ``n``): the adjoint of ``np.max``'s ties costs nothing where
    the max's own adjoint is exactly zero (log-sum-exp: ``1.0 - s / s``).  Code adc emits only: a
    derivative of the skipped statements would not be zero where ``f`` is."""
    out = replace(program, body=copy_region(program.body))
    for region in blocks(out.body):
        for add in [op for op in region.ops if op.prim == "masked_add"]:
            _skip_unless_factor(out, region, add)
    return out


def _skip_unless_factor(program: Program, region: Region, add: Op) -> None:
    at = region.ops.index(add)
    made = {o: k for k, op in enumerate(region.ops[:at]) for o in op.outs}
    factor = _zero_factor(region, add.args[2], made)
    if factor is None:
        return
    moved: list[Op] = [add]
    everywhere = uses(program.body)
    for k in range(at - 1, -1, -1):  # the statements only the moved ones read, nothing written since
        # (also inside a branch or loop in between: a copy moved past ``if c: y[:-1] = v`` read the
        # written array, fuzz seed 421 program 810)
        op = region.ops[k]
        p = prim(op)
        if p is None or op.regions or p.side_effect or p.calls or factor in op.outs \
                or any(writes_memory(o) for o in region.ops[k + 1:at] if o not in moved):
            continue
        there = uses(Region([], moved))
        if all(o not in region.yields and everywhere.get(o, 0) == there.get(o, 0) for o in op.outs) \
                and any(there.get(o, 0) for o in op.outs):  # read by the moved statements alone
            moved.insert(0, op)
    cond = Var(hint="nonzero", type=Type("bool"), role="tmp")
    test = Op("ne", [factor, Const(0.0)], [cond], (), add.loc)
    skip = Op("if", [cond], [], (), add.loc, [Region([], moved), Region([], [])])
    region.ops = [o for o in region.ops[:at] if o not in moved] + [test, skip] + region.ops[at + 1:]


def _zero_factor(region: Region, q: Atom, made: dict[Var, int]) -> Var | None:
    """A number ``f`` such that ``q`` is zero wherever ``f`` is: ``q`` itself, or ``f / n`` or
    ``f * y`` (``y * f``) of such an ``f``."""
    if not isinstance(q, Var) or q.type is None or q.type.is_array or q.type.kind != "float":
        return None
    k = made.get(q)
    op = region.ops[k] if k is not None else None
    if op is not None and op.prim in ("div", "npdiv") and isinstance(op.args[0], Var):
        return _zero_factor(region, op.args[0], made)
    if op is not None and op.prim == "mul":
        for a in op.args:
            f = _zero_factor(region, a, made) if isinstance(a, Var) and not (a.type and a.type.is_array) else None
            if f is not None:
                return f
    return q


# -- shared helpers ----------------------------------------------------------------------------
def _new(op: Op) -> bool:
    """Does ``op`` make one new array (memory nothing else holds)?  An element read through an
    index array (``x[idx]``) does, though ``memory.py`` counts every ``getitem`` a view."""
    if op.regions or len(op.outs) != 1 or not is_array(op.out):
        return False
    return makes_new(op) or (op.prim == "getitem" and any(is_array(a) for a in op.args[1:]))


def _pure_read(op: Op) -> bool:
    """Does ``op`` only compute a new value from its arguments (keeping no reference to them): an
    operation, a copy, an element read, a reduction, or anything else whose results are numbers?"""
    p = prim(op)
    if p is None or op.regions or p.side_effect:
        return False
    if op.prim == "acopy" or (op.prim == "getitem" and not any(is_array(o) for o in op.outs)) \
            or (not p.view and (p.reduces or all(_number(o) for o in op.outs))):
        return True
    return p.render is None and not p.view


def _number(v: Var) -> bool:
    return v.type is not None and v.type.ndim == 0 and v.type.kind in ("float", "int", "bool")


def _definition(region: Region, v: Var, before: int) -> int | None:
    return next((k for k, op in enumerate(region.ops[:before]) if v in op.outs), None)


def _array_write(op: Op, vs: set[Var]) -> bool:
    """Is ``op`` a store into one of ``vs`` (``v[K] = a``, ``v += a``) that does not read it otherwise?"""
    v = op.args[0] if op.args else None
    return writes(op) and not op.regions and isinstance(v, Var) and v in vs and all(a is not v for a in op.args[1:])


# -- complement_adds ---------------------------------------------------------------------------
def _one_sided(op: Op) -> tuple[object, ...] | None:
    """The index of ``op`` if it is one slice with exactly one bound and no step, else ``None``."""
    spec = op.param("index")
    if not isinstance(spec, tuple) or len(spec) != 1 or not isinstance(spec[0], tuple):
        return None
    _, start, stop, step = spec[0]
    return spec if bool(start) != bool(stop) and not step else None


def _complement(spec: tuple[object, ...]) -> tuple[object, ...]:
    _, start, stop, step = spec[0]  # type: ignore[misc]
    return (("s", stop, start, step),)


def _complement_once(region: Region) -> bool:
    ops = region.ops
    for i, clear in enumerate(ops):
        if clear.prim != "setitem" or not isinstance(clear.args[-1], Const) or clear.args[-1].value != 0.0:
            continue
        g, key, spec = clear.args[0], clear.args[1:-1], _one_sided(clear)
        if spec is None or not isinstance(g, Var) or not is_array(g):
            continue
        made = _definition(region, g, i)
        if made is None or not _new(ops[made]):
            continue
        plan = _cleared_reads(region, made, i, g, key, clear.params)
        if plan is None:
            continue
        copies, add = plan
        h, loc = ops[add].args[0], ops[add].loc
        index = (("index", _complement(spec)),)
        part = Var(type=g.type, role="tmp")
        rest = [Op("getitem", [g, *key], [part], index, loc), Op("index_add", [h, *key, part], [], index, loc)]
        views = {ops[k].args[0]: ops[k].out for k in copies}  # the view takes its copy's name
        new: list[Op] = []
        for k, op in enumerate(ops):
            if k == add:
                new += rest
            elif op.outs and op.outs[0] in views:
                new.append(Op(op.prim, op.args, [views[op.outs[0]]], op.params, op.loc))
            elif k != i and k not in copies:
                new.append(op)
        region.ops = new
        return True
    return False


def _cleared_reads(region: Region, made: int, i: int, g: Var, key: list[Atom],
                   params: tuple[tuple[str, object], ...]) -> tuple[set[int], int] | None:
    """For ``g[K] = 0.0`` at ``i`` (``g`` made at ``made``): the positions of the copies
    ``c = t.copy()`` of views ``t = g[K]`` taken before it (each view read only by its copy, before
    the clearing), and of the one ``h += g`` after it, the last statement that mentions ``g``."""
    ops = region.ops
    copies: set[int] = set()
    for k in range(made + 1, i):
        op = ops[k]
        if not mentions(op, g) or _pure_read(op):
            continue
        if _array_write(op, {g}):
            if copies:
                return None  # a write after a copy was taken: that copy must stay a copy
            continue
        if op.prim != "getitem" or op.args[1:] != key or op.params != params or op.regions:
            return None
        readers = [j for j in range(k + 1, len(ops)) if mentions(ops[j], op.out)]
        if len(readers) != 1 or readers[0] > i or ops[readers[0]].prim != "acopy" \
                or ops[readers[0]].args != [op.out] or op.out in region.yields:
            return None
        copies.add(readers[0])
    after = [k for k in range(i + 1, len(ops)) if mentions(ops[k], g)]
    if len(after) != 1 or g in region.yields:
        return None
    add = ops[after[0]]
    h = add.args[0] if add.args else None
    if add.prim != "iadd" or add.regions or len(add.args) != 2 or add.args[1] is not g \
            or not isinstance(h, Var) or h is g or h.type != g.type or any(h in ops[k].outs for k in copies):
        return None
    return copies, after[0]


# -- shared_copies -----------------------------------------------------------------------------
def _share_once(region: Region, program: Program, defined: dict[Var, int]) -> bool:
    ops = region.ops
    for i, copy in enumerate(ops):
        if copy.prim != "acopy" or copy.regions or len(copy.args) != 1:
            continue
        x, y = copy.args[0], copy.out
        if not isinstance(x, Var) or not is_array(x) or x.type != y.type or x in region.yields:
            continue
        made = _definition(region, x, i)
        if made is None or not _new(ops[made]) or defined.get(x) != 1 or defined.get(y) != 1:
            continue  # (a value the reverse sweep defines again is another value there)
        if _shareable(region, made, i, x, y):
            region.ops = ops[:i] + ops[i + 1:]
            substitute(program.body, {y: x})
            return True
    return False


def _shareable(region: Region, made: int, i: int, x: Var, y: Var) -> bool:
    """Can ``y = x.copy()`` at ``i`` share ``x``'s memory?  After ``x``'s definition, ``x`` and
    its views are only read as values (no reference kept, no nested region), nothing writes them
    after the copy, and up to their last read ``y`` and its views are only read too."""
    ops = region.ops
    xs, last_read = _read_only(region, made + 1, len(ops), {x}, skip=i)
    if xs is None or any(v in region.yields for v in xs):
        return False
    ys, _ = _read_only(region, i + 1, last_read + 1, {y})
    return ys is not None


def _read_only(region: Region, start: int, stop: int, vs: set[Var], skip: int = -1) -> tuple[set[Var] | None, int]:
    """``vs`` with the views taken of them in ``region.ops[start:stop]`` and the position of the
    last statement there that mentions one, if those statements only read them (as values, or by
    taking a view), else ``None``.  Writes into ``vs`` before ``skip`` (the copy) are allowed."""
    vs, last = set(vs), skip
    for k in range(start, stop):
        op = region.ops[k]
        if k == skip or not mentions_any(op, vs) or _shape_only(op, vs):
            continue
        if not _read_as_value(op, vs, written=k < skip):
            return None, last  # written, kept elsewhere, or seen by a nested region
        last = k
    return vs, last


def _read_as_value(op: Op, vs: set[Var], written: bool) -> bool:
    """Does ``op``, which mentions ``vs``, only read them (as values, for their shape, or by taking
    a view, added to ``vs``), or (``written``) store into one of them?"""
    if _shape_only(op, vs):
        return True
    p = prim(op)
    if p is not None and p.view and not op.regions and op.args[0] in vs:
        vs.update(op.outs)
        return True
    return (written and _array_write(op, vs)) or _pure_read(op) or _reads_into(op, vs)


def _shape_only(op: Op, vs: set[Var]) -> bool:
    """Does ``op`` read ``vs`` only for their shapes, which no write changes?"""
    return not op.regions and not any(o in vs for o in op.outs) and reads_shape_only(op, vs)


def _reads_into(op: Op, vs: set[Var]) -> bool:
    """Is ``op`` a store into an array other than ``vs`` that reads ``vs`` only as values?"""
    target = op.args[0] if op.args else None
    return writes(op) and not op.regions and isinstance(target, Var) and is_array(target) and target not in vs


# -- masked_adds -------------------------------------------------------------------------------
def _masked(region: Region, t: Atom, at: int, defined: dict[Var, int], made: dict[Var, int]) -> Op | None:
    """The ``t = np.where(m, v, 0.0)`` that ``t`` is, if ``region.ops[at]`` alone reads it."""
    if not isinstance(t, Var) or not is_array(t) or defined.get(t) != 1 or t in region.yields:
        return None
    where = _before(made, t, at)
    select = region.ops[where] if where is not None else None
    mask = select.args[0] if select is not None else None
    if select is None or select.prim != "select" or not isinstance(select.args[2], Const) \
            or select.args[2].value != 0.0 or not is_array(mask) or mask.type.kind != "bool":  # type: ignore[union-attr]
        return None  # (``where=`` takes bools only; ``np.where`` any truth values)
    readers = [op for op in region.ops[where + 1:] if mentions(op, t)]
    return select if readers == [region.ops[at]] else None


def _mask_once(block: _Block, program: Program, defined: dict[Var, int], reads: dict[Var, int],
               start: int) -> int | None:
    region = block.region
    ops = region.ops
    for k in range(start, len(ops)):
        add = ops[k]
        if add.regions or len(add.args) != 2:
            continue
        if add.prim == "iadd":  # into an adjoint buffer, in place already
            pairs = [(add.args[0], add.args[1])]
        elif add.prim == "add" and add.out.role == "adjoint" and defined.get(add.out) == 1:
            pairs = [(add.args[0], add.args[1]), (add.args[1], add.args[0])]
        else:
            continue
        for g, t in pairs:
            select = _masked(region, t, k, defined, block.made)
            if select is None or not isinstance(g, Var) or g.type != t.type \
                    or any(isinstance(a, Var) and a is g for a in select.args):
                continue
            if add.prim == "add" and not _owned(reads, block, g, k, add.out, defined):
                continue
            masked = Op("masked_add", [g, *select.args[:2]], [], loc=add.loc)
            region.ops = [masked if op is add else op for op in ops if op is not select]
            renamed = {add.out: g} if add.prim == "add" else {}
            if renamed:
                substitute(program.body, renamed)
            _recount(reads, [select, add], [masked], renamed)
            block.moved()
            return k  # (``select`` came before: the next statement is at ``k`` now)
    return None


def _owned(everywhere: dict[Var, int], block: _Block, g: Var, k: int, h: Var, defined: dict[Var, int]) -> bool:
    """May ``h = g + t`` at ``k`` write its sum into ``g``: is ``g`` an adjoint of ``h``'s value
    and (another name of) a new array of this block, which with its other names and views is only
    read as a value or written before statement ``k`` of ``block`` and not mentioned after it?"""
    return g.role == "adjoint" and g.base is not None and g.base is h.base \
        and _dead_after(everywhere, block, g, k, defined)

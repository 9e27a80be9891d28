"""Clean-up passes on derivative programs, run between the transforms and code generation.

Input: a ``Program``.  Output: the same program, simplified, in this order:
``common_subexpressions`` computes a pure expression once per region; ``propagate_copies`` drops
copies of derivative values that add nothing (all of them inside loop bodies, the hot code;
top-level ones stay, lecture style); ``merge_scatter_adds`` joins ``g[i] += a`` … ``g[i] += b``
into one update; ``dead_code`` removes statements whose results nothing reads (partials of
inactive arguments, primal values the reverse sweep does not need), unused slots of branches and
loops, and section comments left with nothing under them; ``dead_stores`` then removes what is
kept but never read back: a record or tape push whose value the reverse sweep no longer reads
(with its pop), and arrays that are only written (the gradient inside a Hessian-vector product).
For the code adc runs (compact code), ``fold_constants`` first propagates the unit seed
(``gy = 1.0``) and refolds what reads it, so ``gx = gy * x2`` becomes ``gx = x2``, and
``first_writes`` last starts an adjoint buffer at its first contribution (``g = c.copy()``
instead of ``g = np.zeros_like(v)`` then ``g += c``; ``dead_stores`` again then drops what only
the zeros' shape needed; ``copies.py`` then removes array copies).  Other statements with effects (array writes, tape pushes and pops) are kept.  Simple ops may be shared with the cached primal program,
so passes replace ops instead of changing them.
"""
from __future__ import annotations

from .ir import Atom, Const, Op, Program, Region, Var, defined_in, definitions, first_carried, mentions, uses, walk
from .memory import Memory, is_array, writes_memory
from .prims import prim


def has_effect(op: Op) -> bool:
    p = prim(op)
    if op.prim == "comment" or (p is not None and p.side_effect):
        return True
    return any(has_effect(o) for r in op.regions for o in r.ops)


def _use(live: set[Var], atoms: list[Atom]) -> None:
    live.update(a for a in atoms if isinstance(a, Var))


def dead_code(program: Program, unread_pops: set[int] | None = None) -> Program:
    """Remove statements whose results are never read; ``unread_pops`` collects (by ``id``) the
    pops whose result nothing reads after them."""
    live: set[Var] = set()
    _use(live, program.body.yields)
    sweep(program.body, live, unread_pops)
    drop_empty_comments(program.body)
    return program


def dead_stores(program: Program) -> Program:
    """Remove stores nothing reads back, then what only they read (``dead_code``), until none is
    left: every write into, and the allocation of, a new array, record or tape that is never read
    (no read, view, pop or use as a value; only written), and each ``pair`` of a push and its pop
    (``save_policy.restore``) whose popped value is unread, when both ends are in ``program``.  The
    pops of a tape mirror its pushes, so dropping both ends of a pair keeps every other pop matched
    with its own push."""
    while True:
        unread: set[int] = set()
        dead_code(program, unread)
        if not _drop_unread_stores(program, unread):
            return program


def _drop_unread_stores(program: Program, unread_pops: set[int]) -> bool:
    """One round of ``dead_stores`` (``unread_pops``: the pops whose result is unread, by ``id``);
    did it remove anything?  A read of only an array's shape (``np.zeros_like(g)``) reads the array
    its allocation copied the shape from instead, where there is one of the same type."""
    fresh: dict[Var, Op] = {}
    read: set[Var] = set()
    shapes: dict[Var, list[tuple[Op, int]]] = {}
    stores: dict[Var, list[Op]] = {}
    pairs: dict[tuple[int, object], list[Op]] = {}
    read_pairs: set[tuple[int, object]] = set()
    for op in walk(program.body):
        p = prim(op)
        if p is not None and p.fresh and len(op.outs) == 1 and not op.regions:
            fresh[op.out] = op
        if op.prim in ("push", "pop") and op.param("pair") is not None and isinstance(op.args[0], Var):
            key = (op.args[0].id, op.param("pair"))
            pairs.setdefault(key, []).append(op)
            if op.prim == "pop" and id(op) not in unread_pops:
                read_pairs.add(key)
        for k, a in enumerate(op.args):
            if not isinstance(a, Var):
                continue
            if k == 0 and ((p is not None and p.writes) or op.prim == "push" or id(op) in unread_pops):
                stores.setdefault(a, []).append(op)
            elif p is not None and k in p.shape_args and not op.regions:
                shapes.setdefault(a, []).append((op, k))
            else:
                read.add(a)
        for reg in op.regions:
            read.update(a for a in (*reg.args, *reg.yields) if isinstance(a, Var))
    read.update(a for a in program.body.yields if isinstance(a, Var))
    unread = [v for v in fresh if v not in read and v in stores]
    dead = {id(op) for v in unread for op in stores[v]}
    for key, ops in pairs.items():  # both ends here (a kept callee's are split in two functions)
        if key not in read_pairs and {op.prim for op in ops} == {"push", "pop"}:
            dead |= {id(op) for op in ops}
    if not dead:
        return False
    _remove(program.body, dead)
    subst: dict[Var, Atom] = {}
    for v in unread:
        alloc = fresh[v]
        source = alloc.args[0] if prim(alloc).shape_args == (0,) and len(alloc.args) == 1 else None
        if isinstance(source, Var) and source.type == v.type and v in shapes:
            subst[v] = source
    if subst:
        substitute(program.body, subst)
    return True


def first_writes(program: Program) -> Program:
    """An adjoint buffer ``g = np.zeros_like(v)`` whose first use, in the same block, is
    ``g += c`` with ``c`` of ``g``'s type (shape included: the same axes of length 1) starts as
    ``c`` instead: ``g = c.copy()``, or, if ``c`` is a new array read only there, ``c``'s own
    statement assigns ``g`` (``g = a * b``): no zeros, no addition, one array fewer."""
    counts = uses(program.body)

    def visit(reg: Region) -> None:
        for op in reg.ops:
            for sub in op.regions:
                visit(sub)
        ops: list[Op | None] = list(reg.ops)
        for i, op in enumerate(reg.ops):
            if op.prim != "zeros_like" or len(op.args) != 1:
                continue
            g = op.out
            j = next((k for k in range(i + 1, len(ops)) if ops[k] is not None and mentions(ops[k], g)), None)
            if j is None or ops[j].prim != "iadd" or ops[j].args[0] is not g:
                continue
            c = ops[j].args[1]
            if not isinstance(c, Var) or c is g or c.type != g.type:
                continue
            made = next((k for k in range(j) if ops[k] is not None and c in ops[k].outs), None)
            p = prim(ops[made]) if made is not None else None
            ops[i] = None
            if made is not None and counts.get(c, 0) == 1 and p is not None and p.render is None \
                    and ops[made].prim != "copy" and len(ops[made].outs) == 1:
                src = ops[made]
                ops[made] = Op(src.prim, src.args, [g], src.params, src.loc)
                ops[j] = None
            else:
                ops[j] = Op("acopy", [c], [g], (), ops[j].loc)
        reg.ops = [op for op in ops if op is not None]

    visit(program.body)
    return program


def _remove(region: Region, dead: set[int]) -> None:
    region.ops = [op for op in region.ops if id(op) not in dead]
    for op in region.ops:
        for sub in op.regions:
            _remove(sub, dead)


def sweep(region: Region, live: set[Var], unread_pops: set[int] | None = None) -> None:
    """Walk ``region`` backwards keeping the ops that define live values or have effects;
    ``live`` holds on entry what is read after the region and on exit what is read in it."""
    kept: list[Op] = []
    for op in reversed(region.ops):
        if op.regions:
            if _structured(op, live, unread_pops):
                kept.append(op)
            continue
        if unread_pops is not None and op.prim == "pop" and not any(o in live for o in op.outs):
            unread_pops.add(id(op))
        if has_effect(op) or any(o in live for o in op.outs):
            kept.append(op)
            # above its definition a value is not read: this matters where the reverse sweep
            # computes a loop body's value again (the same variable), which leaves the forward
            # sweep's own definition dead unless the forward sweep reads it
            live.difference_update(op.outs)
            _use(live, op.args)
    region.ops = kept[::-1]


def _drop_slots(op: Op, keep: list[int]) -> None:
    """Keep only the slots ``keep`` of a structured op (outs, yields, carried args, inits)."""
    n = len(op.outs)
    op.outs = [op.outs[k] for k in keep]
    if op.prim == "if":
        for reg in op.regions:
            reg.yields = [reg.yields[k] for k in keep]
        return
    head = first_carried(op)
    inits = op.args[head:]
    op.args = op.args[:head] + [inits[k] for k in keep]
    for reg in op.regions:
        first = 1 if (op.prim == "for") else 0
        args = reg.args[first:]
        reg.args = reg.args[:first] + [args[k] for k in keep]
        if reg is op.regions[-1]:
            reg.yields = [reg.yields[k] for k in keep] + reg.yields[n:]


def _structured(op: Op, live: set[Var], unread_pops: set[int] | None = None) -> bool:
    """Sweep a structured op; drop its dead slots.  Is the op itself still needed?"""
    if op.prim == "if":
        keep = [k for k, o in enumerate(op.outs) if o in live]
        if not keep and not has_effect(op) and not any(
                v in live for reg in op.regions for v in defined_in(reg)):
            return False
        _drop_slots(op, keep)
        inner: set[Var] = set()
        for reg in op.regions:
            reg_live = set(live)
            _use(reg_live, reg.yields)
            sweep(reg, reg_live, unread_pops)
            inner |= reg_live
        live |= inner
        _use(live, op.args)
        return True
    # loops: a slot is live if its result is read after the loop or its argument inside it
    n = len(op.outs)
    body = op.regions[-1]
    keep = {k for k, o in enumerate(op.outs) if o in live}
    if not keep and not has_effect(op) and not any(v in live for reg in op.regions for v in defined_in(reg)):
        return False
    first = 1 if op.prim == "for" else 0
    while True:
        reg_live_all: set[Var] = set(live)
        for reg in op.regions:
            outs = [reg.yields[k] for k in keep] + reg.yields[n:] if reg is body else reg.yields
            reg_live_all |= reads(reg, live | {a for a in outs if isinstance(a, Var)})
        grown = set(keep)
        for reg in op.regions:
            args = reg.args[first:] if reg is body else reg.args
            grown |= {k for k, a in enumerate(args) if a in reg_live_all}
        if grown == keep:
            break
        keep = grown
    _drop_slots(op, sorted(keep))
    for reg in op.regions:
        reg_live = set(live)
        _use(reg_live, reg.yields)
        sweep(reg, reg_live, unread_pops)
        live |= reg_live - set(reg.args)  # the loop binds its index and carried values itself
    _use(live, op.args)
    return True


def _defined_outside(v: Var, reg: Region) -> bool:
    return v not in defined_in(reg)


def propagate_copies(program: Program, everywhere: bool = False) -> Program:
    """Drop ``ga = gb`` copies of derivative values when ``gb`` is read nowhere else: later
    statements read ``gb`` directly.  Copies of primal values and seeds (``gy = 1.0``) stay.
    ``everywhere`` (compact code) also drops top-level copies of a value whose Python name is
    never assigned again: the only version of its adjoint or tangent.  (Copies of primal values
    stay: the reverse sweep assigns a primal's name again when it restores the value.)"""
    counts = uses(program.body)
    subst: dict[Var, Atom] = {}
    versions: dict[tuple[str, int], int] = {}
    for op in walk(program.body):
        for o in op.outs:
            if o.base is not None:
                versions[(o.role, o.base.id)] = versions.get((o.role, o.base.id), 0) + 1

    def only_version(v: Var) -> bool:
        return everywhere and v.base is not None and versions.get((v.role, v.base.id)) == 1 \
            and not v.type.is_array

    def collect(reg: Region, hot: bool) -> None:
        kept = []
        here = uses(reg, nested=False)
        for op in reg.ops:
            src = op.args[0] if op.prim == "copy" else None
            if isinstance(src, Var) and op.out.role in ("adjoint", "tangent") and src.role in ("adjoint", "tangent") \
                    and (hot or counts.get(src, 0) == 1 or only_version(src)
                         or (here.get(src, 0) == 1 and src not in reg.yields and _defined_outside(src, reg))):
                subst[op.out] = op.args[0]
                continue
            kept.append(op)
            for sub in op.regions:
                collect(sub, hot or op.prim in ("for", "while"))
        reg.ops = kept

    collect(program.body, False)
    substitute(program.body, subst)
    return program


def substitute(region: Region, subst: dict[Var, Atom]) -> None:
    """Replace uses of ``subst``'s keys, making new ops (simple ops may be shared with the
    cached primal program, so they are never changed in place)."""
    def resolve(a: Atom) -> Atom:
        while isinstance(a, Var) and a in subst and subst[a] is not a:
            a = subst[a]
        return a

    for i, op in enumerate(region.ops):
        if any(isinstance(a, Var) and a in subst for a in op.args):
            region.ops[i] = op = Op(op.prim, [resolve(a) for a in op.args], op.outs, op.params, op.loc, op.regions)
        for sub in op.regions:
            substitute(sub, subst)
    region.yields = [resolve(y) for y in region.yields]


def fold_constants(program: Program) -> Program:
    """Propagate scalar constant copies (the seed ``gy = 1.0``) into their uses and simplify the
    scalar ops that then read a constant, with the builder's rules (``1.0 * x`` → ``x``,
    ``-(1.0)`` → ``-1.0``, ``-1.0 * c`` → ``-c``).  A result that is another value stays a copy
    (``propagate_copies`` and code generation decide): versions of one adjoint share a Python
    name, and the reverse sweep assigns a primal's name again when it restores it."""
    from .builder import Builder

    subst: dict[Var, Atom] = {}

    def resolve(a: Atom) -> Atom:
        return subst.get(a, a) if isinstance(a, Var) else a

    def visit(reg: Region) -> None:
        kept: list[Op] = []
        for op in reg.ops:
            args = [resolve(a) for a in op.args]
            if any(x is not y for x, y in zip(args, op.args)):
                op = Op(op.prim, args, op.outs, op.params, op.loc, op.regions)
            if op.prim in ("for", "while"):
                _constant_slots(op, subst)
            if op.prim == "if" and _number(args[0]):  # a branch decided when compiling (a recursion's constant)
                taken = op.regions[0 if args[0].value else 1]
                visit(taken)
                kept.extend(taken.ops)
                kept.extend(Op("copy", [y], [o], (), op.loc) for y, o in zip(taken.yields, op.outs))
                continue
            for sub in op.regions:
                visit(sub)
            p = prim(op)
            simple = len(op.outs) == 1 and not op.regions and p is not None and not p.effect \
                and op.out.type is not None and not op.out.type.is_array
            if not simple or not any(_number(a) for a in args) or not all(_number(a) or isinstance(a, Var) for a in args):
                kept.append(op)
                continue
            if op.prim == "copy":
                subst[op.out] = args[0]
                continue
            b = Builder(simplify=True, exact=op.out.role == "primal")  # a value of the user's function: every bit
            with b.at(op.loc):
                result = b.emit(op.prim, *args, params=op.params)
            if isinstance(result, Const) and not _number(result):
                kept.append(op)
            elif _number(result):
                subst[op.out] = result
            elif not b.region.ops:
                kept.append(Op("copy", [result], op.outs, (), op.loc) if result.type == op.out.type else op)
            else:
                last = b.region.ops[-1]
                if last.outs == [result] and result.type == op.out.type:
                    kept.extend(b.region.ops[:-1])
                    kept.append(Op(last.prim, last.args, op.outs, last.params, last.loc))
                else:
                    kept.append(op)
        reg.ops = kept
        reg.yields = [resolve(y) for y in reg.yields]

    visit(program.body)
    return program


def _number(a: Atom) -> bool:
    return isinstance(a, Const) and isinstance(a.value, (bool, int, float))


def _constant_slots(loop: Op, subst: dict[Var, Atom]) -> None:
    """A loop slot whose body yields it unchanged and that starts as a constant (the seed of a
    loop-carried adjoint, ``gs = 1.0``) is that constant everywhere."""
    head = 3 if loop.prim == "for" else 0
    first = 1 if loop.prim == "for" else 0
    body = loop.regions[-1]
    copied = {op.out: op.args[0] for op in body.ops if op.prim == "copy"}
    for k, init in enumerate(loop.args[head:]):
        value = body.yields[k]
        while value in copied:
            value = copied[value]
        if not _number(init) or value is not body.args[first + k]:
            continue
        for reg in loop.regions:
            subst[reg.args[(first if reg is body else 0) + k]] = init
        subst[loop.outs[k]] = init


def merge_scatter_adds(program: Program) -> Program:
    """``g[i] += a; ...; g[j] += b`` with ``j`` the same index and nothing else reading or
    writing ``g`` in between becomes one ``g[i] += a + b``: one element update instead of two
    (they are slow in plain Python).  Updates of other elements may sit in between."""
    from .builder import Builder

    def element(op: Op) -> tuple[object, ...]:
        return (op.args[0].id, op.params,
                *((a.id if isinstance(a, Var) else ("c", a.value)) for a in op.args[1:-1]))

    def visit(reg: Region) -> None:
        kept: list[Op] = []
        open_updates: dict[tuple[object, ...], Op] = {}
        for op in reg.ops:
            for sub in op.regions:
                visit(sub)
            if op.prim == "index_add" and not op.param("scatter"):
                first = open_updates.pop(element(op), None)
                if first is not None:
                    kept.remove(first)
                    b = Builder(simplify=True)
                    with b.at(op.loc):
                        total = b.add(first.args[-1], op.args[-1])
                    kept.extend(b.region.ops)
                    op = Op("index_add", [*op.args[:-1], total], [], op.params, op.loc)
                kept.append(op)
                open_updates[element(op)] = op
                continue
            used = {a.id for a in op.args if isinstance(a, Var)}
            if op.regions:
                open_updates = {}
            else:  # a read or write of the buffer: earlier updates must stay where they are
                open_updates = {k: v for k, v in open_updates.items() if k[0] not in used}
            kept.append(op)
        reg.ops = kept

    visit(program.body)
    return program


def hoist_invariants(program: Program) -> Program:
    """Move statements whose operands do not change in a loop (``-k`` in an ODE step) out of it:
    computed once instead of once per iteration, in the forward and in the reverse sweep."""
    def visit(reg: Region) -> None:
        out: list[Op] = []
        for op in reg.ops:
            for sub in op.regions:
                visit(sub)
            if op.prim in ("for", "while"):
                body = op.regions[-1]
                inside = defined_in(body)
                for cond in op.regions[:-1]:
                    inside |= defined_in(cond)
                moved: list[Op] = []
                # an array the loop writes into is not invariant, whatever its name
                mutates = any(writes_memory(inner) for reg in op.regions for inner in reg.ops)
                changed = True
                while changed:
                    changed = False
                    for inner in list(body.ops):
                        p = prim(inner)  # pure and cannot raise: safe even if the loop runs zero times
                        if p is not None and p.hoistable and not inner.regions and len(inner.outs) == 1 \
                                and not any(isinstance(a, Var) and a in inside for a in inner.args) \
                                and not (mutates and any(is_array(a) for a in inner.args)):
                            body.ops.remove(inner)
                            inside.discard(inner.out)
                            if inner.out not in {o.out for o in moved}:
                                moved.append(inner)
                            changed = True
                out.extend(moved)
            out.append(op)
        reg.ops = out

    visit(program.body)
    return program


def common_subexpressions(program: Program) -> Program:
    """Compute a pure expression once per region: a second ``x[i]`` or ``i + 1`` reads the first.
    Element reads are only shared while nothing writes in between.  A value defined in more than
    one place (a primal value the reverse sweep recomputes) is replaced only in the region where
    the duplicate is, so the forward sweep's uses keep reading their own definition."""
    subst: dict[Var, Atom] = {}
    scopes: list[dict[Var, Atom]] = []
    defined = definitions(program.body)
    reads_arrays: set[Var] = set()
    memory = Memory(program)

    def key_atom(a: Atom) -> object:
        if isinstance(a, Var):
            for scope in reversed(scopes):
                a = scope.get(a, a)
            a = subst.get(a, a)
        return ("v", a.id) if isinstance(a, Var) else ("c", type(a.value).__name__, a.value)

    def visit(reg: Region) -> None:
        seen: dict[tuple[object, ...], Var] = {}
        local: dict[Var, Atom] = {}
        scopes.append(local)
        kept = []
        for op in reg.ops:
            p = prim(op)  # new memory, a pop or a copy is never merged with another
            if op.regions or p is None or not p.cse or len(op.outs) != 1:
                if has_effect(op):  # memory may have changed: forget every expression that read an array
                    seen = {k: v for k, v in seen.items() if v not in reads_arrays}
                kept.append(op)
                for sub in op.regions:
                    visit(sub)
                continue
            key = (op.prim, op.params, *(key_atom(a) for a in op.args))
            earlier = seen.get(key)
            if earlier is op.out:
                continue  # the same statement again (recomputed, then hoisted from two loops)
            if earlier is not None and earlier.type == op.out.type \
                    and not memory.written(earlier) and not memory.written(op.out):  # two arrays, not one
                (subst if defined[op.out] == 1 else local)[op.out] = earlier
                continue
            seen[key] = op.out
            if op.prim == "getitem" or any(is_array(a) for a in op.args):
                reads_arrays.add(op.out)
            kept.append(op)
        scopes.pop()
        reg.ops = kept
        if local:
            substitute(reg, local)

    visit(program.body)
    substitute(program.body, subst)
    return program


def reads(region: Region, live_out: set[Var]) -> set[Var]:
    """What ``region`` reads, given what is live after it, without changing anything.  Nested
    structured ops count as reading everything inside them when they are needed at all."""
    live = set(live_out)
    for op in reversed(region.ops):
        if has_effect(op) or any(o in live for o in op.outs):
            _use(live, op.args)
            for reg in op.regions:
                live |= reads(reg, live | {a for a in reg.yields if isinstance(a, Var)})
    return live


def drop_empty_comments(region: Region) -> None:
    ops = region.ops
    region.ops = [op for i, op in enumerate(ops)
                  if op.prim != "comment" or (i + 1 < len(ops) and ops[i + 1].prim != "comment")]
    for op in region.ops:
        for sub in op.regions:
            drop_empty_comments(sub)

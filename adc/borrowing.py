"""Numba: the arguments of kept calls passed without reference counts (``prims/stacks.py``).

Input: the programs of a module Numba compiles, its main function's and its kept functions' (the
copies ``pipeline.named_module`` writes out; changed in place).  Output: on each ``call`` and
``call_stacked`` op, the parameter ``borrowed``, the positions whose argument its Numba spelling
passes as ``adc_stacks.borrowed(x)`` (typed as uncounted: no code touches its reference count),
and ``any_layout``, the other array arguments, passed as ``adc_stacks.any_layout(x)`` (both type
an array as of any layout: Numba compiles one version of a recursive function per type of its
arguments, and a process that loads two versions of one from Numba's cache crashes; so a parameter
is borrowed at every call or at none), and on each ``tape`` op whose tape such calls take, the
parameter ``shared``, which spells the tape as an ``adc_stacks`` tape instead of a list (and
its ``push`` and ``pop`` ops as ``adc_stacks.push`` and ``adc_stacks.pop``, written into the caller).

A parameter of a kept function is borrowed when both hold:

- every call passes a value its caller holds for the whole call (``_calls``, ``_held``): a
  parameter of the caller that it never assigns (its own caller holds it), or a value the caller
  assigns once and reads after the call or made outside a loop the call is in (a value the caller
  made and reads no more might be released as soon as it is read for the call, before the call
  returns; a value assigned again, as the reverse sweep recomputes some, is another object after);
- the callee never lets it escape the call: for an array, no value sharing its memory is returned,
  pushed onto a tape, or given to an op whose result is neither a number nor an array, or to a call
  that lets it escape (``escaping``); a tape is only pushed onto, popped from and passed on.

A tape is shared (and so borrowable) when every tape that reaches the same parameters (``_tape_groups``)
is made by a ``tape`` op of numbers and is used only that way: Numba compiles one version of each
function, so a parameter takes one kind of tape from every caller.
"""
from __future__ import annotations

from .calls import Function, is_tape
from .ir import Op, Program, Region, Var, defined_in, definitions, mentioned, walk
from .memory import Memory, is_array, makes_new
from .prims.runtime import SHARED_TAPES

CALLS = ("call", "call_stacked")

Slot = tuple[object, int]  # (function, position): a parameter; ("op", id(op)): a ``tape`` op


def borrow_arguments(main: Program, functions: dict[Function, Program]) -> None:
    """Mark the calls of ``main`` and ``functions`` (each kept function's program, as written) and
    their tapes (see the module docstring)."""
    programs: list[tuple[Function | None, Program]] = [(None, main), *functions.items()]
    shared = _shared_tapes(programs, functions)
    contained = _contained_arrays(functions)
    calls = [(op, held) for _, prog in programs for op, held in _calls(prog) if op.param("fn") in functions]
    borrowable = {(op.param("fn"), j) for op, _ in calls for j in range(len(op.args))} & (shared | contained)
    for op, held in calls:
        borrowable -= {(op.param("fn"), j) for j, h in enumerate(held) if not h}
    for fn, prog in programs:
        sources = _tape_sources(prog, fn)
        for op in walk(prog.body):
            if op.prim == "tape" and ("op", id(op)) in shared or \
                    op.prim in ("push", "pop") and sources.get(op.args[0]) in shared:  # type: ignore[arg-type]
                op.params = (*op.params, ("shared", True))
            callee = op.param("fn") if op.prim in CALLS else None
            if callee not in functions:
                continue
            borrowed = tuple(j for j in range(len(op.args)) if (callee, j) in borrowable)
            # every other array, and every other shared tape, is passed as Numba's own (counted)
            # type, an array as of any layout: one version of the callee per type, also where a
            # borrowed value is passed on into a slot that is not (``prims/stacks.py``, ``any_layout``)
            retyped = tuple(j for j, a in enumerate(op.args) if j not in borrowed
                            and (is_array(a) or (callee, j) in shared))
            op.params = (*op.params, *((("borrowed", borrowed),) if borrowed else ()),
                         *((("any_layout", retyped),) if retyped else ()))


def _calls(prog: Program) -> list[tuple[Op, list[bool]]]:
    """The call ops of ``prog``, each with whether its caller holds each argument for the whole
    call: a parameter it never assigns, or a value assigned once that ``_held`` finds alive."""
    found: list[tuple[Op, list[bool]]] = []
    # a value assigned again (the reverse sweep recomputes a primal value into the same variable)
    # is not the same object after it: a read after the assignment does not hold the first one
    assigned = definitions(prog.body)
    params = {p for p in prog.params if p not in assigned}
    lasts: dict[int, dict[Var, int]] = {}  # ``_last_mentions`` of each block, by ``id``
    made: dict[int, set[Var]] = {}  # the values each loop makes, by ``id``

    def held(a: object, path: list[tuple[Region, int, Op]]) -> bool:
        return isinstance(a, Var) and (a in params or assigned.get(a) == 1 and _held(a, path, lasts, made))

    def visit(block: Region, path: list[tuple[Region, int, Op]]) -> None:
        for i, op in enumerate(block.ops):
            inner = [*path, (block, i, op)]
            if op.prim in CALLS:
                found.append((op, [held(a, inner) for a in op.args]))
            for sub in op.regions:
                visit(sub, inner)

    visit(prog.body, [])
    return found


def _held(v: Var, path: list[tuple[Region, int, Op]], lasts: dict[int, dict[Var, int]],
          made: dict[int, set[Var]]) -> bool:
    """Is ``v`` alive for the whole of the call at the end of ``path`` (each enclosing block, the
    position in it and the op there, from the function's body in)?  It is if some enclosing block
    reads it after the op there (Numba releases a value after its last read), or an enclosing loop
    reads it (the call does) but did not make it (it is read again next time round).  ``lasts``
    and ``made`` keep what each block and loop was found to hold."""
    for block, i, op in path:
        last = lasts.get(id(block))
        if last is None:
            last = lasts[id(block)] = _last_mentions(block)
        if last.get(v, -1) > i:
            return True
        if op is not path[-1][2] and op.prim in ("for", "while"):
            inside = made.get(id(op))
            if inside is None:
                inside = made[id(op)] = {u for r in op.regions for u in defined_in(r)}
            if v not in inside:
                return True
    return False


def _last_mentions(block: Region) -> dict[Var, int]:
    """Where each value is last mentioned in ``block``: the position of the op (with its nested
    regions), or ``len(block.ops)`` for a value the block yields."""
    last: dict[Var, int] = {}
    for i, op in enumerate(block.ops):
        for v in mentioned(op):
            last[v] = i
    for y in block.yields:
        if isinstance(y, Var):
            last[y] = len(block.ops)
    return last


def _tape_sources(prog: Program, fn: Function | None) -> dict[Var, Slot]:
    """Where the tapes of ``prog`` that are parameters or ``tape`` ops' results come from: a slot
    (the main function's parameters are ``("main", i)``).  Any other tape (a record, a list, a value
    taken from a list) has none."""
    sources: dict[Var, Slot] = {p: ("main" if fn is None else fn, i) for i, p in enumerate(prog.params) if is_tape(p)}
    sources.update({op.out: ("op", id(op)) for op in walk(prog.body) if op.prim == "tape" and op.outs})
    return sources


def _shared_tapes(programs: list[tuple[Function | None, Program]], functions: dict[Function, Program]) -> set[object]:
    """The slots (tape ops by ``id``, and parameters) of the tapes spelled as ``adc_stacks`` tapes."""
    parent: dict[object, object] = {}

    def root(s: object) -> object:
        while parent.get(s, s) != s:
            s = parent[s]
        return s

    def join(a: object, b: object) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra

    bad: set[object] = set()
    makers: dict[object, Op] = {}
    for fn, prog in programs:
        sources = _tape_sources(prog, fn)
        for op in walk(prog.body):
            if op.prim == "tape":
                makers[("op", id(op))] = op
            for j, a in enumerate(op.args):
                if not is_tape(a):
                    continue
                source = sources.get(a)  # type: ignore[arg-type]
                callee = op.param("fn") if op.prim in CALLS else None
                if callee in functions:
                    if source is None:  # the callee's parameter takes something else: a list
                        bad.add((callee, j))
                    else:
                        join(source, (callee, j))
                elif source is not None and not (op.prim in ("push", "pop") and j == 0):
                    bad.add(source)
            for reg in op.regions:
                for a in (*reg.args, *reg.yields):
                    if is_tape(a):
                        bad.add(sources.get(a))  # type: ignore[arg-type]
        for a in prog.body.yields:
            if is_tape(a):
                bad.add(sources.get(a))  # type: ignore[arg-type]
    groups: dict[object, set[object]] = {}
    for s in {*parent, *parent.values(), *makers}:
        groups.setdefault(root(s), set()).add(s)
    shared: set[object] = set()
    for members in groups.values():
        kinds = {makers[s].param("kind", "float") for s in members if s in makers}
        made = all(s in makers or isinstance(s[0], Function) for s in members)  # type: ignore[index]
        called = any(isinstance(s[0], Function) for s in members)  # type: ignore[index]
        if made and called and len(kinds) == 1 and kinds <= set(SHARED_TAPES) and not members & bad:
            shared |= members
    return shared


def _contained_arrays(functions: dict[Function, Program]) -> set[Slot]:
    """The array parameters of kept functions that never escape a call (the largest such set:
    a recursive call is assumed not to let them escape unless something else does)."""
    contained: set[Slot] = {(fn, i) for fn, prog in functions.items() for i, p in enumerate(prog.params) if is_array(p)}
    memories = {fn: Memory(prog) for fn, prog in functions.items()}
    changed = True
    while changed:
        changed = False
        for slot in sorted(contained, key=lambda s: (s[0].label, s[1])):  # type: ignore[union-attr]
            fn, i = slot
            if escaping(functions[fn], functions[fn].params[i], memories[fn], contained, functions):  # type: ignore[index]
                contained.discard(slot)
                changed = True
    return contained


def _sharing(prog: Program, memory: Memory, v: Var) -> set[Var]:
    """The values that may share the memory of ``v``: its alias class (``memory.py``), and the
    array results of any op given one of them that is not known to make new memory."""
    shared = {v, *memory.members(v)}
    changed = True
    while changed:
        changed = False
        for op in walk(prog.body):
            if any(isinstance(a, Var) and a in shared for a in op.args) and not makes_new(op):
                for o in op.outs:
                    if is_array(o) and o not in shared:
                        shared |= {o, *memory.members(o)}
                        changed = True
    return shared


def escaping(prog: Program, param: Var, memory: Memory, contained: set[Slot],
             functions: dict[Function, Program]) -> bool:
    """Can the array ``param`` of ``prog``, or a value sharing its memory, outlive a call of it?"""
    shared = _sharing(prog, memory, param)
    if any(isinstance(a, Var) and a in shared for a in prog.body.yields):
        return True
    for op in walk(prog.body):
        given = [j for j, a in enumerate(op.args) if isinstance(a, Var) and a in shared]
        if not given or op.prim in ("if", "for", "while"):  # what flows through them is in ``shared``
            continue
        if op.prim in CALLS:
            callee = op.param("fn")
            if callee not in functions or any((callee, j) not in contained for j in given):
                return True
            continue
        if not op.outs:  # a store: into an array, a copy; into a tape or a list, a reference
            if not is_array(op.args[0]):
                return True
            continue
        if any(not (is_array(o) or o.type.kind in ("float", "int", "bool")) for o in op.outs):
            return True
    return False

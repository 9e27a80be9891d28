"""Kept calls: user functions that stay functions in the generated code.

Input: a ``Callee``, a user function the front end keeps as a function (a recursive one, or a
helper called from many sites; ``frontend_calls.py``) with its primal program, specialised to the
types of its arguments' leaves.  Output: its derivative functions, each a ``Function`` (a name and a
program) that a ``call`` op (``prims/calls.py``) calls, made once per callee and set of
differentiated arguments:

- forward mode: ``f_jvp(*args, *tangents) -> (*outs, *out_tangents)``, the forward transform of
  its program;
- reverse mode: ``f_fwd(*args) -> (*outs, residuals)`` and ``f_bwd(*residuals, *cotangents) ->
  argument adjoints``, the reverse transform of its program cut between the sweeps.  The residuals
  are the values the reverse sweep reads that the forward sweep made (primal values, tapes,
  records): one tuple, which the caller keeps like any value (on a tape inside a loop).  For Numba
  (``Stacks``), ``f_fwd(*args, *tapes) -> outs`` pushes them onto the caller's tapes instead and
  ``f_bwd(*tapes, *cotangents)`` pops them: flat typed lists, however deep the recursion.

Every ``Function`` is transformed the same way, a derivative function too: a derivative program
differentiated again (``adc.hessian``, ``grad(grad(f))``, Jacobians of Jacobians) calls
``f_fwd_jvp``, ``f_bwd_jvp``, ``f_jvp_fwd``, ... made from the callee's program by the same
transforms, once per function and set of differentiated arguments.  A derivative program that will
be differentiated again keeps its kept calls' residuals on tapes (``Stacks``), never in residual
tuples: tapes are passed by reference, so a tangent tape (forward mode) or an adjoint tape
(reverse mode) of a tape argument is one more argument passed by reference (``tape_args``).

A derivative asked for again while it is being made (recursion) is the same ``Function``: its
interface is known before its program is.  ``module_functions`` lists what a generated module must
define besides its main function, and names them.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

from .errors import UnsupportedError
from .ir import Atom, Op, Program, Region, Var, blocks, copy_region, defined_in, number_values, uses, walk
from .naming import Namer
from .prims.calls import RESIDUALS
from .types import Type

if TYPE_CHECKING:
    from .memory import Memory
    from .save_policy import Branches


@dataclass(eq=False)
class Function:
    """A function of the generated module that ``call`` ops call.  ``spread``: its first argument
    is a residual tuple, spread into its parameters (``det_bwd(*det_res, g)``)."""

    label: str  # what it is called unless that name is taken (``det_fwd``)
    kind: str  # "primal", "jvp", "fwd" or "bwd"
    callee: "Callee"  # the user function it comes from
    program: Program | None = None  # None while it is being made (a recursive call refers to it)
    spread: bool = False
    from_caller: bool = False  # a reverse part that takes its call's arguments first (``Stacks.from_caller``)
    name: str = ""  # given when a module is generated
    of: "Function | None" = None  # the function it is a derivative of (None: a kept function itself)
    view: Program | None = None  # what its transforms differentiate (``_program_of``)
    # values that stand for another (a residual made in a branch, as the branch's result): one number
    numbered_as: dict[Var, Var] = field(default_factory=dict)
    # (kind, differentiated arguments) -> its derivative functions (and, stacked, the tape kinds they take)
    derived: dict[tuple[str, tuple[int, ...]], tuple[Any, ...]] = field(default_factory=dict)

    def __repr__(self) -> str:  # IR listings show it by name (deterministic)
        return f"Function({self.label})"


@dataclass(eq=False)
class Callee:
    """A kept user function for one signature: the types of its arguments' leaves, their structure."""

    fn: Callable[..., Any]
    types: tuple[Type, ...]
    label: str
    out_types: list[Type]
    result: Any  # the returned value's skeleton (``frontend_values.skeleton``)
    referenced: bool = False  # a recursive call read ``out_types`` before the program was made

    def __post_init__(self) -> None:
        self.primal = Function(self.label, "primal", self)

    @property
    def program(self) -> Program:
        assert self.primal.program is not None
        return self.primal.program


def _clean(prog: Program) -> Program:
    from .pipeline import clean

    prog.user_names = set(prog.user_names)
    return clean(prog, compact=True)


def is_tape(v: Atom) -> bool:
    """A tape (a list the reverse sweep keeps values on), passed by reference."""
    return isinstance(v, Var) and v.type is not None and v.type.kind == "tape"


def holds_floats(v: Atom) -> bool:
    """A tape that can hold floats (not one of ints): a call that pushes onto it may push active values."""
    return is_tape(v) and v.type.dtype.startswith("float")  # type: ignore[union-attr]


def tape_args(op: Op, wrt: tuple[int, ...]) -> list[int]:
    """The differentiated arguments of a call that are tapes: their tangent or adjoint tapes are
    passed by reference too (after the other arguments' tangents; before the cotangents)."""
    return [k for k in wrt if is_tape(op.args[k])]


def _derivable(op: Op, what: str) -> Function:
    """The function ``op`` calls, checked to be one adc can differentiate (any kept function or
    derivative of one, but not a part that passes residuals in a tuple: the transform would not
    see what the tuple holds)."""
    fn = op.param("fn")
    if any(isinstance(v, Var) and v.type == RESIDUALS for v in (*op.args, *op.outs)):
        raise UnsupportedError(f"{what} of `{fn.label}`, a part of the reverse mode of the kept function "
                               f"`{fn.callee.fn.__name__}` that passes its residuals in a tuple, is not built", op.loc,
                               "differentiate the plain function with the transform you need (adc.hessian(f), "
                               "adc.jacfwd(adc.grad(f)), ...)")
    assert fn.program is not None, "a function is differentiated only once it is made"
    return fn


def _program_of(fn: Function) -> Program:
    """The program a transform of ``fn`` differentiates: a kept function's own; for a derivative
    function, a copy whose values are all primal values, named after what they were (``dx``,
    ``gx``: ``compose.copy_ops``), so that their own tangents and adjoints are named apart."""
    from .compose import as_primal, copy_ops

    prog = fn.program
    assert prog is not None
    if fn.of is None:
        return prog
    if fn.view is None:
        params = [p if p.role == "primal" else as_primal(p) for p in prog.params]
        body = copy_ops(prog, dict(zip(prog.params, params)), primal_roles=True)
        fn.view = Program(prog.name, params, body, prog.out_tree, prog.filename, prog.firstline, set(prog.user_names))
    return fn.view


def numbering(fn: Function) -> dict[Var, int]:
    """The trace numbers (``v3``) of the values of ``fn``'s program: those of the program it was
    made from (a kept function's values keep their numbers in its derivatives)."""
    made_from = fn.callee.program if fn.of is None else fn.of.view or fn.callee.program
    numbers = number_values(made_from)
    numbers.update({a: numbers[b] for a, b in fn.numbered_as.items() if b in numbers})
    return numbers


def jvp_function(op: Op, wrt: tuple[int, ...]) -> Function:
    """``f_jvp`` of the function ``op`` calls with respect to its arguments ``wrt``."""
    from .forward import forward

    fn = _derivable(op, "forward mode")
    key = ("jvp", wrt)
    if key not in fn.derived:
        made = Function(f"{fn.label}_jvp", "jvp", fn.callee, of=fn)
        fn.derived[key] = (made,)
        prog = _program_of(fn)
        out = forward(prog, list(wrt))
        out.name, out.user_names = made.label, prog.user_names
        made.program = _clean(out)
    return fn.derived[key][0]


def vjp_functions(op: Op, wrt: tuple[int, ...]) -> tuple[Function, Function]:
    """``(f_fwd, f_bwd)`` of the function ``op`` calls with respect to its arguments ``wrt``."""
    from .reverse import reverse

    fn = _derivable(op, "reverse mode")
    key = ("vjp", wrt)
    if key not in fn.derived:
        fwd = Function(f"{fn.label}_fwd", "fwd", fn.callee, of=fn)
        bwd = Function(f"{fn.label}_bwd", "bwd", fn.callee, spread=True, of=fn)
        fn.derived[key] = (fwd, bwd)
        prog = _program_of(fn)
        fwd.program, bwd.program = split(reverse(prog, list(wrt), cotangent_params=True), prog, fwd.label, bwd.label,
                                         same=fwd.numbered_as)
    fwd, bwd = fn.derived[key]
    return fwd, bwd


@dataclass
class Stacks:
    """Reverse mode with the residuals of kept calls on tapes instead of in tuples (what Numba
    compiles: a few flat typed lists, however deep the recursion; and what a derivative program
    differentiated again takes).  ``params``: the tape parameters of a kept function by kind, its
    caller's tapes; empty for the main function, which makes them."""

    params: dict[object, Var] = field(default_factory=dict)
    # the program is not differentiated again (``jit=True``'s final program): a kept call's reverse
    # part adds the adjoints of its array arguments into its caller's buffers (``accumulated``)
    accumulate: bool = False
    into: tuple[int, ...] = ()  # this function's parameters whose adjoint buffers are its caller's
    # the reverse part takes the call's arguments from its caller (``det_bwd(A, row, cols, ...)``),
    # which has them, or restores them as it restores any value its reverse sweep reads, instead of
    # every call pushing them onto the tapes (a kept user function's, with ``accumulate``)
    from_caller: bool = False


def accumulated(fn: Function, wrt: tuple[int, ...]) -> tuple[int, ...]:
    """The differentiated arguments of a call of ``fn`` whose adjoints its reverse part adds into
    the caller's adjoint buffer (``det_bwd(tape, ..., ct, gA)``: ``gA += ...`` in place) instead of
    returning a new array the caller adds (``t = det_bwd(...); gA += t``, with a ``zeros_like``
    per call): the float array parameters of a kept user function that it never writes into and
    does not return (or return a view of).  Its reverse part then only ever adds into that buffer
    (an adjoint is read back only for a value an op defines or a function returns), so adding in
    place gives the same sums."""
    if fn.of is not None:  # a derivative function (second derivatives): adjoints returned, as before
        return ()
    from .memory import Memory, is_array

    prog = _program_of(fn)
    memory = Memory(prog)
    returned = {memory.root(y) for y in prog.body.yields if is_array(y)}
    return tuple(k for k in wrt if is_array(prog.params[k]) and not is_tape(prog.params[k])
                 and prog.params[k].type.kind == "float" and not memory.written(prog.params[k])
                 and memory.root(prog.params[k]) not in returned)


def stack_kinds(fn: Function) -> tuple[object, ...]:
    """The kinds of tape a function's stacked parts take: every kind of value of its program and of
    the programs it calls (its residuals, its loops' tapes and its callees' are among them)."""
    from .save_policy import tape_kind

    assert fn.program is not None
    kinds: set[object] = {"float", "int"}
    for prog in [fn.program] + [f.program for f in called(fn.program)]:
        kinds |= {tape_kind(v) for v in prog.params}
        for op in walk(prog.body):
            kinds |= {tape_kind(v) for v in op.outs} | {tape_kind(a) for r in op.regions for a in r.args}
    return tuple(sorted(kinds, key=repr))


def stacked_vjp_functions(op: Op, wrt: tuple[int, ...], accumulate: bool = False
                          ) -> tuple[Function, Function, tuple[object, ...], tuple[int, ...]]:
    """``(f_fwd, f_bwd, kinds, into)``: ``f_fwd(*args, *tapes) -> outs`` pushes its residuals onto
    the caller's tapes of ``kinds``, ``f_bwd(*tapes, *cotangents, *buffers) -> adjoints`` pops them;
    with ``accumulate`` it adds the adjoints of the arguments ``into`` into the caller's
    ``buffers`` (``accumulated``) and returns the others'."""
    from .reverse import reverse
    from .save_policy import Branches, Tapes

    fn = _derivable(op, "reverse mode")
    into = accumulated(fn, wrt) if accumulate else ()
    from_caller = accumulate and fn.of is None
    key = ("stacked", wrt, into, from_caller)
    if key not in fn.derived:
        kinds = stack_kinds(fn)
        fwd = Function(f"{fn.label}_fwd", "fwd", fn.callee, of=fn)
        bwd = Function(f"{fn.label}_bwd", "bwd", fn.callee, of=fn, from_caller=from_caller)
        fn.derived[key] = (fwd, bwd, kinds)
        named = Tapes()
        stacks = Stacks({k: named.get(k) for k in kinds}, accumulate, into, from_caller)
        prog = _program_of(fn)
        branches: Branches = {}
        full = reverse(prog, list(wrt), cotangent_params=True, stacks=stacks, branches=branches)
        fwd.program, bwd.program = split(full, prog, fwd.label, bwd.label, stacks, fwd.numbered_as, branches)
    fwd, bwd, kinds = fn.derived[key]
    return fwd, bwd, kinds, into


def split(full: Program, prog: Program, fwd_name: str, bwd_name: str, stacks: Stacks | None = None,
          same: dict[Var, Var] | None = None, branches: Branches | None = None) -> tuple[Program, Program]:
    """Cut a VJP program between its sweeps: the forward part returns the outputs and the residuals
    (what the reverse part reads that the forward part made), the reverse part takes them; with
    ``stacks`` the forward part pushes them onto the tapes and the reverse part pops them.  The
    adjoint tapes of tape parameters (``Reverse``) are parameters of the reverse part.  ``same``
    receives the values that stand for a residual made in a branch (named as it).  A number made in
    a branch and read only in that branch's reverse (``branches`` pairs them) is pushed at the end
    of the branch and popped at the start of its reverse: kept only on the path that makes it."""
    from .memory import Memory
    from .save_policy import computed_again, tape_kind

    ops = full.body.ops
    cut = next(i for i, op in enumerate(ops) if op.prim == "comment" and op.param("text") == "reverse sweep")
    fwd_ops = [op for op in ops[:cut] if op.prim != "comment"]
    bwd_region = Region([], ops[cut + 1:], full.body.yields[len(prog.outputs):])
    extra = full.params[len(prog.params):]
    gtapes = [p for p in extra if is_tape(p)]
    cotangents = [p for p in extra if not is_tape(p) and p.role == "cotangent"]
    buffers = [p for p in extra if not is_tape(p) and p.role != "cotangent"]  # the caller's (``accumulated``)
    tapes = list(stacks.params.values()) if stacks is not None else []
    arguments = list(full.params[:len(prog.params)]) if stacks is not None and stacks.from_caller else []
    local = defined_in(bwd_region) | set(cotangents) | set(tapes) | set(gtapes) | set(buffers) | set(arguments)
    read = uses(bwd_region)
    residuals = [v for v in read if v not in local]
    bwd = _clean(Program(bwd_name, arguments + residuals + tapes + gtapes + cotangents + buffers, bwd_region, len(bwd_region.yields),
                         full.filename, full.firstline, prog.user_names))
    read = uses(bwd.body)
    residuals = [v for v in residuals if v in read]
    from_caller = stacks is not None and stacks.from_caller
    memory = Memory(prog) if from_caller else None  # the function's: what its reverse part computes again
    again = computed_again(fwd_ops, residuals, memory) if memory is not None and arguments else []
    residuals = [v for v in residuals if not any(v in op.outs for op in again)]
    bwd.out_tree = None if len(bwd.body.yields) == 1 else len(bwd.body.yields)  # as many results as the call
    top = set(prog.params) | {o for op in fwd_ops for o in op.outs}
    if stacks is not None and branches is not None:
        sunk, again_in_branches = _kept_in_branches(fwd_ops, bwd.body, [v for v in residuals if v not in top],
                                                    stacks, branches, memory)
        residuals = [v for v in residuals if v not in sunk]
        if again_in_branches:  # without what only the forward sweep's copy of a loop needed
            bwd = _clean(bwd)
    same = {} if same is None else same
    kept = {v: v if v in top else _from_branch(fwd_ops, v, (("kind", tape_kind(v)),) if stacks is not None else (),
                                               same) for v in residuals}
    if stacks is not None:
        tape = {v: stacks.params[tape_kind(v)] for v in residuals}
        bwd.params = arguments + tapes + gtapes + cotangents + buffers
        bwd.body.ops = again + [Op("pop", [tape[v]], [v]) for v in reversed(residuals)] + bwd.body.ops
        fwd_region = Region([], fwd_ops + [Op("push", [tape[v], kept[v]], []) for v in residuals],
                            full.body.yields[:len(prog.outputs)])
        params = list(prog.params) + tapes
    else:
        bwd.params = residuals + gtapes + cotangents
        res = Var(hint=f"{prog.name}_res", type=RESIDUALS)
        fwd_region = Region([], fwd_ops + [Op("residuals", [kept[v] for v in residuals], [res])],
                            full.body.yields[:len(prog.outputs)] + [res])
        params = list(prog.params)
    n = len(fwd_region.yields)
    fwd = _clean(Program(fwd_name, params, fwd_region, None if n == 1 else n, full.filename, full.firstline,
                         prog.user_names))
    return fwd, bwd


def _kept_in_branches(fwd_ops: list[Op], bwd_body: Region, made_in_branches: list[Var], stacks: Stacks,
                      branches: Branches, memory: "Memory | None") -> tuple[set[Var], bool]:
    """Push each number of ``made_in_branches`` that the reverse part reads only in the reverse of
    the branch that makes it at the end of that branch, and pop it at the start of its reverse, or,
    where the reverse part has the call's arguments and the number is computed from them alone,
    compute it again there (``memory``: the function's, when it has its arguments); the ones so
    kept, and whether any is computed again."""
    from .save_policy import computed_again, innermost_branch, is_scalar, keep_in_branch, tape_kind

    kept: dict[Region, tuple[Region, list[Var]]] = {}  # reverse branch -> (forward branch, its values)
    for v in made_in_branches:
        fwd, rev = innermost_branch(v, Region([], fwd_ops), bwd_body, branches)
        if rev is bwd_body or not is_scalar(v) or not any(v in op.outs for op in fwd.ops):
            continue  # read outside the branch, an array, or made on one path inside the branch only
        kept.setdefault(rev, (fwd, []))[1].append(v)
    again_anywhere = False
    for rev, (fwd, values) in kept.items():
        again = computed_again(fwd.ops, values, memory) if memory is not None else []  # from the arguments alone
        made = {o for op in again for o in op.outs}
        rev.ops[:0] = again  # the statements they need, once per branch
        again_anywhere = again_anywhere or bool(again)
        for v in values:
            if v not in made:
                tape = stacks.params[tape_kind(v)]
                keep_in_branch((fwd, rev), Op("push", [tape, v], []), Op("pop", [tape], [v]))
    return {v for _, values in kept.values() for v in values}, again_anywhere


def _from_branch(ops: list[Op], v: Var, params: tuple[Any, ...], same: dict[Var, Var]) -> Var:
    """A residual ``v`` made inside a branch among ``ops``, as a result of that branch (and of the
    branches around it), with a placeholder (``unset``) on the paths that do not make it: every
    value has one definition, so the forward part can be differentiated again.  The result and the
    placeholders are named as ``v`` (``same``)."""
    for op in ops:
        if op.prim != "if" or not any(v in defined_in(r) for r in op.regions):
            continue
        for r in op.regions:
            if v in r.args or any(v in o.outs for o in r.ops):
                made = v
            elif any(v in defined_in(o_r) for o in r.ops for o_r in o.regions):
                made = _from_branch(r.ops, v, params, same)
            else:
                made = Var(hint=v.hint, type=v.type)
                r.ops.append(Op("unset", [], [made], params))
                same[made] = v
            r.yields.append(made)
        out = Var(hint=v.hint, type=v.type)
        op.outs.append(out)
        same[out] = v
        return out
    raise AssertionError("a residual is made at the top level or in a branch")


def called(program: Program) -> list[Function]:
    """The functions ``program`` calls, and the ones they call, in the order first met."""
    found: dict[Function, None] = {}
    todo = [program]
    while todo:
        prog = todo.pop(0)
        for op in walk(prog.body):
            if op.prim in ("call", "call_stacked"):
                fn = op.param("fn")
                if fn not in found:
                    found[fn] = None
                    todo.append(fn.program)
    return list(found)


def module_functions(program: Program) -> list[Function]:
    """The functions a module whose main function is ``program`` must define, each given a name
    that no user name, no other function and the main function have."""
    functions = called(program)
    avoid = set(program.user_names) | {program.name}
    for fn in functions:
        avoid |= fn.program.user_names
    namer = Namer(avoid)
    for fn in functions:
        fn.name = namer.fresh(fn.label)
    return functions


def without_unused_tapes(program: Program, functions: list[Function]) -> dict[object, Program]:
    """Copies of the programs of a module (``program`` and its ``functions``) without the tape
    parameters no function uses: a stacked part takes a tape of every kind its program and its
    callees might push (``stack_kinds``), fixed before its program is made, and passes each on to
    the parts it calls; a tape that no function pushes onto or pops from (once the arguments come
    from the caller and new arrays are recomputed, those of arrays) is dropped from every
    definition and call (each one is an argument Numba passes by reference at every node).
    The allocations of the tapes so dropped go too.  Returns the copies by function (``None``:
    ``program``); the cached programs are unchanged."""
    own = {fn: fn.program for fn in functions if not fn.spread and fn.program is not None}
    tapes = {fn: {i for i, p in enumerate(prog.params) if is_tape(p)} for fn, prog in own.items()}
    live: set[tuple[Function, int]] = set()

    def position(prog: Program, v: Atom) -> int | None:
        for i, p in enumerate(prog.params):
            if p is v:
                return i
        return None

    changed = True
    while changed:
        changed = False
        for fn, prog in [*own.items(), (None, program)]:
            if fn is not None:  # a tape a region yields or carries, or the function returns: used
                for reg in blocks(prog.body):
                    for a in (*reg.args, *reg.yields):
                        i = position(prog, a)
                        if i is not None and i in tapes[fn] and (fn, i) not in live:
                            live.add((fn, i))
                            changed = True
            for op in walk(prog.body):
                callee = op.param("fn") if op.prim in ("call", "call_stacked") else None
                for j, a in enumerate(op.args):
                    if fn is None or not (isinstance(a, Var) and is_tape(a)):
                        continue
                    i = position(prog, a)
                    if i is None or (fn, i) in live:
                        continue
                    if callee in own and j in tapes[callee] and (callee, j) not in live:
                        continue  # only passed on to a part that does not use it (yet)
                    live.add((fn, i))
                    changed = True
    dead = {fn: {i for i in tapes[fn] if (fn, i) not in live} for fn in own}

    def kept_args(op: Op) -> list[Atom]:
        callee = op.param("fn") if op.prim in ("call", "call_stacked") else None
        drop = dead.get(callee, set())  # type: ignore[call-overload]
        return [a for j, a in enumerate(op.args) if j not in drop]

    def copy(prog: Program, drop: set[int]) -> Program:
        return replace(prog, params=[p for i, p in enumerate(prog.params) if i not in drop],
                       body=copy_region(prog.body, kept_args), user_names=set(prog.user_names),
                       captured=list(prog.captured))

    copies: dict[object, Program] = {fn: copy(prog, dead[fn]) for fn, prog in own.items()}
    copies[None] = copy(program, set())
    for prog in copies.values():  # and the tapes made only to be passed on to them
        read = uses(prog.body)
        prog.body.ops = [op for op in prog.body.ops if op.prim != "tape" or op.out in read]
    return copies


def memory_copies(op: Op, written_after: Callable[[Op, Var], bool]) -> tuple[list[Op], list[Atom], list[Var], list[Op]]:
    """The residuals of a kept call must hold its arrays as the call saw and made them: the array
    arguments and results of ``op`` whose memory is written after it are copies.  Returns the
    copies to make before the call, its arguments, its results, and the copies to make after."""
    def copied(v: Var) -> Var:
        return Var(hint=v.hint, type=v.type)

    before: list[Op] = []
    args: list[Atom] = []
    for a in op.args:
        if isinstance(a, Var) and a.type.is_array and written_after(op, a):
            kept = copied(a)
            before.append(Op("acopy", [a], [kept], loc=op.loc))
            a = kept
        args.append(a)
    outs: list[Var] = []
    after: list[Op] = []
    for o in op.outs:
        if o.type.is_array and written_after(op, o):
            made = copied(o)
            after.append(Op("acopy", [made], [o], loc=op.loc))  # the caller writes into the copy
            o = made
        outs.append(o)
    return before, args, outs, after


def function_doc(fn: Function) -> str:
    """The docstring of a generated function of a kept call (a derivative of a derivative names the
    function it derives: ``Jacobian-vector product of det_fwd``)."""
    of = fn.of
    name = fn.callee.fn.__name__ if of is None or of.kind == "primal" else of.name or of.label
    return {"primal": f"{name}, kept as a function (generated by adc).",
            "jvp": f"Jacobian-vector product of {name} (forward mode, generated by adc).",
            "fwd": f"Forward part of the reverse mode of {name}: its value and what the reverse part reads "
                   "(generated by adc).",
            "bwd": f"Reverse part of the reverse mode of {name}: the adjoints of its arguments "
                   "(generated by adc)."}[fn.kind]


def recursive(fn: Function) -> bool:
    """Does ``fn`` call itself, directly or through other functions?"""
    return fn in called(fn.program)  # type: ignore[arg-type]


def inline_helpers(program: Program) -> Program:
    """A copy of ``program`` in which every call of a kept function that is not recursive (a helper
    called from many sites, or a derivative of one) is replaced by the callee's body: what Numba
    compiles (one function, no dispatch per call).  A recursive function stays a call."""
    from .compose import copy_ops

    if not called(program):
        return program

    def expand(reg: Region) -> None:
        ops: list[Op] = []
        for op in reg.ops:
            for sub in op.regions:
                expand(sub)
            fn = op.param("fn") if op.prim == "call" else None
            if fn is None or recursive(fn):
                ops.append(op)
                continue
            body = copy_ops(fn.program, dict(zip(fn.program.params, op.args)), primal_roles=False)
            expand(body)
            ops += body.ops
            subst.update(zip(op.outs, body.yields))  # its results are the values its body yields
        reg.ops = ops

    def rename(reg: Region) -> None:
        for op in reg.ops:
            op.args = [resolve(a) for a in op.args]
            for sub in op.regions:
                rename(sub)
        reg.yields = [resolve(a) for a in reg.yields]

    def resolve(a: Atom) -> Atom:
        while isinstance(a, Var) and a in subst:
            a = subst[a]
        return a

    subst: dict[Var, Atom] = {}
    body = copy_ops(program, {p: p for p in program.params}, primal_roles=False)  # new ops: changed in place
    expand(body)
    rename(body)
    return Program(program.name, list(program.params), body, program.out_tree, program.filename, program.firstline,
                   set(program.user_names), program.result, list(program.captured), program.writes_arguments)


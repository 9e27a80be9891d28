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

A derivative asked for again while it is being made (recursion) is the same ``Function``: its
interface is known before its program is.  ``module_functions`` lists what a generated module must
define besides its main function, and names them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import UnsupportedError
from .ir import Atom, Op, Program, Region, Var, defined_in, uses, walk
from .naming import Namer
from .prims.calls import RESIDUALS
from .types import Type


@dataclass(eq=False)
class Function:
    """A function of the generated module that ``call`` ops call.  ``spread``: its first argument
    is a residual tuple, spread into its parameters (``det_bwd(*det_res, g)``)."""

    label: str  # what it is called unless that name is taken (``det_fwd``)
    kind: str  # "primal", "jvp", "fwd" or "bwd"
    callee: "Callee"
    program: Program | None = None  # None while it is being made (a recursive call refers to it)
    spread: bool = False
    name: str = ""  # given when a module is generated

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
    # (kind, differentiated arguments) -> its functions (and, stacked, the tape kinds they take)
    derived: dict[tuple[str, tuple[int, ...]], tuple[Any, ...]] = field(default_factory=dict)

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


def _callee(op: Op, what: str) -> Callee:
    """The callee of a ``call`` of a kept function's primal; a derivative of a derivative is refused."""
    fn = op.param("fn")
    if fn.kind != "primal":
        raise UnsupportedError(f"{what} of a derivative of the kept function `{fn.callee.fn.__name__}` (a recursive "
                               "function, or a helper called from many sites) is not built yet", op.loc,
                               "differentiate once (adc.grad, adc.jvp, adc.vjp); for second derivatives, rewrite "
                               "the recursion as a loop")
    return fn.callee


def jvp_function(op: Op, wrt: tuple[int, ...]) -> Function:
    """``f_jvp`` of the callee of ``op`` with respect to its arguments ``wrt``."""
    from .forward import forward

    callee = _callee(op, "forward mode")
    key = ("jvp", wrt)
    if key not in callee.derived:
        fn = Function(f"{callee.label}_jvp", "jvp", callee)
        callee.derived[key] = (fn,)
        out = forward(callee.program, list(wrt))
        out.name, out.user_names = fn.label, callee.program.user_names
        fn.program = _clean(out)
    return callee.derived[key][0]


def vjp_functions(op: Op, wrt: tuple[int, ...]) -> tuple[Function, Function]:
    """``(f_fwd, f_bwd)`` of the callee of ``op`` with respect to its arguments ``wrt``."""
    from .reverse import reverse

    callee = _callee(op, "reverse mode")
    key = ("vjp", wrt)
    if key not in callee.derived:
        fwd = Function(f"{callee.label}_fwd", "fwd", callee)
        bwd = Function(f"{callee.label}_bwd", "bwd", callee, spread=True)
        callee.derived[key] = (fwd, bwd)
        prog = callee.program
        fwd.program, bwd.program = split(reverse(prog, list(wrt), cotangent_params=True), prog, fwd.label, bwd.label)
    fwd, bwd = callee.derived[key]
    return fwd, bwd


@dataclass
class Stacks:
    """Reverse mode with the residuals of kept calls on tapes instead of in tuples (what Numba
    compiles: a few flat typed lists, however deep the recursion).  ``params``: the tape parameters
    of a kept function by kind, its caller's tapes; empty for the main function, which makes them."""

    params: dict[object, Var] = field(default_factory=dict)


def stack_kinds(callee: Callee) -> tuple[object, ...]:
    """The kinds of tape a kept function's stacked parts take: every kind of value of its program
    and of the programs it calls (its residuals, its loops' tapes and its callees' are among them)."""
    from .save_policy import tape_kind

    kinds: set[object] = {"float", "int"}
    for prog in [callee.program] + [f.program for f in called(callee.program) if f.kind == "primal"]:
        kinds |= {tape_kind(v) for v in prog.params}
        for op in walk(prog.body):
            kinds |= {tape_kind(v) for v in op.outs} | {tape_kind(a) for r in op.regions for a in r.args}
    return tuple(sorted(kinds, key=repr))


def stacked_vjp_functions(op: Op, wrt: tuple[int, ...]) -> tuple[Function, Function, tuple[object, ...]]:
    """``(f_fwd, f_bwd, kinds)``: ``f_fwd(*args, *tapes) -> outs`` pushes its residuals onto the
    caller's tapes of ``kinds``, ``f_bwd(*tapes, *cotangents) -> adjoints`` pops them."""
    from .reverse import reverse
    from .save_policy import Tapes

    callee = _callee(op, "reverse mode")
    key = ("stacked", wrt)
    if key not in callee.derived:
        kinds = stack_kinds(callee)
        fwd = Function(f"{callee.label}_fwd", "fwd", callee)
        bwd = Function(f"{callee.label}_bwd", "bwd", callee)
        callee.derived[key] = (fwd, bwd, kinds)
        named = Tapes()
        stacks = Stacks({k: named.get(k) for k in kinds})
        full = reverse(callee.program, list(wrt), cotangent_params=True, stacks=stacks)
        fwd.program, bwd.program = split(full, callee.program, fwd.label, bwd.label, stacks)
    fwd, bwd, kinds = callee.derived[key]
    return fwd, bwd, kinds


def split(full: Program, prog: Program, fwd_name: str, bwd_name: str,
          stacks: Stacks | None = None) -> tuple[Program, Program]:
    """Cut a VJP program between its sweeps: the forward part returns the outputs and the residuals
    (what the reverse part reads that the forward part made), the reverse part takes them; with
    ``stacks`` the forward part pushes them onto the tapes and the reverse part pops them."""
    from .save_policy import tape_kind

    ops = full.body.ops
    cut = next(i for i, op in enumerate(ops) if op.prim == "comment" and op.param("text") == "reverse sweep")
    fwd_ops = [op for op in ops[:cut] if op.prim != "comment"]
    bwd_region = Region([], ops[cut + 1:], full.body.yields[len(prog.outputs):])
    cotangents = full.params[len(prog.params):]
    tapes = list(stacks.params.values()) if stacks is not None else []
    local = defined_in(bwd_region) | set(cotangents) | set(tapes)
    read = uses(bwd_region)
    residuals = [v for v in read if v not in local]
    bwd = _clean(Program(bwd_name, residuals + tapes + cotangents, bwd_region, len(bwd_region.yields),
                         full.filename, full.firstline, prog.user_names))
    read = uses(bwd.body)
    residuals = [v for v in residuals if v in read]
    bwd.out_tree = None if len(bwd.body.yields) == 1 else len(bwd.body.yields)  # as many results as the call
    if stacks is not None:
        tape = {v: stacks.params[tape_kind(v)] for v in residuals}
        bwd.params = tapes + cotangents
        bwd.body.ops = [Op("pop", [tape[v]], [v]) for v in reversed(residuals)] + bwd.body.ops
        fwd_region = Region([], fwd_ops + [Op("push", [tape[v], v], []) for v in residuals],
                            full.body.yields[:len(prog.outputs)])
        params = list(prog.params) + tapes
    else:
        bwd.params = residuals + cotangents
        res = Var(hint=f"{prog.name}_res", type=RESIDUALS)
        fwd_region = Region([], fwd_ops + [Op("residuals", list(residuals), [res])],
                            full.body.yields[:len(prog.outputs)] + [res])
        params = list(prog.params)
    n = len(fwd_region.yields)
    fwd = _clean(Program(fwd_name, params, fwd_region, None if n == 1 else n, full.filename, full.firstline,
                         prog.user_names))
    _placeholders(fwd, stacks is not None)
    return fwd, bwd


def _placeholders(fwd: Program, stacked: bool) -> None:
    """A residual made in a branch not taken still goes into the tuple or onto its tape: the values
    the forward part's top level reads but makes only inside a branch get an ``unset`` placeholder
    first.  Added after the clean-up passes, which then see one definition of each value (and
    replace a residual by an equal value or a constant everywhere, the tuple included)."""
    from .save_policy import tape_kind

    top = set(fwd.params) | {o for op in fwd.body.ops for o in op.outs}
    inner: dict[Var, None] = {}
    for op in fwd.body.ops:
        inner.update((a, None) for a in op.args if isinstance(a, Var) and a not in top)
    inner.update((y, None) for y in fwd.body.yields if isinstance(y, Var) and y not in top)
    fwd.body.ops = [Op("unset", [], [v], (("kind", tape_kind(v)),) if stacked else ()) for v in inner] + fwd.body.ops


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
    """The docstring of a generated function of a kept call."""
    name = fn.callee.fn.__name__
    return {"primal": f"{name}, kept as a function (generated by adc).",
            "jvp": f"Jacobian-vector product of {name} (forward mode, generated by adc).",
            "fwd": f"Forward part of the reverse mode of {name}: its value and what the reverse part reads "
                   "(generated by adc).",
            "bwd": f"Reverse part of the reverse mode of {name}: the adjoints of its arguments "
                   "(generated by adc)."}[fn.kind]


def recursive(fn: Function) -> bool:
    """Does ``fn`` call itself, directly or through other functions?"""
    return fn in called(fn.program)  # type: ignore[arg-type]


def inline_calls(program: Program, why: str, hint: str, keep_recursive: bool = False) -> Program:
    """A copy of ``program`` in which every kept call is replaced by the callee's body, for what
    does not take kept calls yet (Numba, a derivative differentiated again); a recursive function
    cannot be inlined: it stays a call with ``keep_recursive``, else ``UnsupportedError`` with
    ``why`` and ``hint``."""
    from .compose import copy_ops

    if not called(program):
        return program

    def expand(reg: Region, stack: tuple[Function, ...]) -> None:
        ops: list[Op] = []
        for op in reg.ops:
            for sub in op.regions:
                expand(sub, stack)
            if op.prim != "call":
                ops.append(op)
                continue
            fn = op.param("fn")
            if keep_recursive and recursive(fn):
                ops.append(op)
                continue
            if fn in stack:
                raise UnsupportedError(f"{why}: `{fn.callee.fn.__name__}` is recursive, and adc keeps a recursive "
                                       "function a function of its own, which this does not take yet", op.loc, hint)
            body = copy_ops(fn.program, dict(zip(fn.program.params, op.args)), primal_roles=False)
            expand(body, stack + (fn,))
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
    expand(body, ())
    rename(body)
    return Program(program.name, list(program.params), body, program.out_tree, program.filename, program.firstline,
                   set(program.user_names), program.result, list(program.captured), program.writes_arguments)


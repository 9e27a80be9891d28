"""Front end, control flow: ``if``/``elif``/``else``, ``for``, ``while``, ``break``, ``continue``,
early ``return`` and conditional expressions → structured SSA ops.

Input: libcst statements, lowered by the ``Lowerer`` this class is mixed into.  Output: ``if`` ops
(two regions yielding the values that differ between the branches), ``for`` ops (``range`` bounds
and loop-carried values as region arguments) and ``while`` ops (a condition region and a body).
``break`` and early ``return`` become a boolean the body yields (the loop stops when it is true);
the statements after an ``if`` that may leave the block are lowered inside its branches
(continuation), so every path yields the values it defines and no phi nodes are needed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import libcst as cst

from .frontend_lists import UNROLL_APPENDS, DynamicList, ListIteration, ListValue, same_kind
from .frontend_values import data_leaves, describe, leaves, rebuild, same, skeleton
from .ir import Atom, Const, Op, Region, Var
from .prims.revolve import checkpointed
from .types import BOOL, INT, Type, join

TRUE = Const(True)
FALSE = Const(False)


@dataclass
class Flow:
    """How a lowered block ended: ``ret`` (returned), ``brk`` (leaves the enclosing loop),
    ``value`` (the return value when ``ret``), ``done`` (the rest of the block was consumed)."""

    ret: Atom = FALSE
    brk: Atom = FALSE
    value: Any = None
    done: bool = False


class _Finder(cst.CSTVisitor):
    """Finds ``return`` (anywhere) and ``break``/``continue`` (not inside nested loops)."""

    def __init__(self) -> None:
        self.returns = self.exits = self.breaks = self.continues = False
        self.depth = 0

    def visit_Return(self, node: cst.Return) -> None:
        self.returns = self.exits = True

    def visit_Break(self, node: cst.Break) -> None:
        if self.depth == 0:
            self.exits = self.breaks = True

    def visit_Continue(self, node: cst.Continue) -> None:
        if self.depth == 0:
            self.exits = self.continues = True

    def visit_For(self, node: cst.For) -> None:
        self.depth += 1

    def leave_For(self, node: cst.For) -> None:
        self.depth -= 1

    def visit_While(self, node: cst.While) -> None:
        self.depth += 1

    def leave_While(self, node: cst.While) -> None:
        self.depth -= 1


def _find(nodes: Sequence[cst.CSTNode]) -> _Finder:
    finder = _Finder()
    for n in nodes:
        n.visit(finder)
    return finder


def has_exit(node: cst.CSTNode) -> bool:
    """Does ``node`` contain a return, or a break/continue of the enclosing loop?"""
    return _find([node]).exits


def loop_has_break(body: Sequence[cst.CSTNode]) -> bool:
    """Can the loop stop early (``break``, or ``return``)?  ``continue`` does not stop it."""
    finder = _find(body)
    return finder.breaks or finder.returns


class _Assigned(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def _add(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            if target.value not in self.names:
                self.names.append(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._add(el.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target)


def _target_names(target: cst.BaseExpression) -> list[str]:
    """The names a ``for`` loop's target binds (``t``; ``i, v``)."""
    visitor = _Assigned()
    visitor._add(target)
    return visitor.names


def assigned_names(nodes: Sequence[cst.CSTNode]) -> list[str]:
    """Names (re)bound anywhere in ``nodes``, in order of first appearance."""
    visitor = _Assigned()
    for n in nodes:
        n.visit(visitor)
    return visitor.names


def _atom_type(a: Atom) -> Type:
    return a.type


def _is_true(test: cst.BaseExpression) -> bool:
    return isinstance(test, cst.Name) and test.value == "True"


def _hint(name: str) -> str:
    """The user-facing hint of a carried name (``%returned`` → ``returned``, ``%result0`` → ``result``)."""
    return "returned" if name == "%returned" else "result" if name.startswith("%result") else name.split("%")[0]


def _number_value(value: Any) -> bool:
    """A number (not an array or a container): what a loop variable bound before its loop is
    carried out of it as."""
    return isinstance(value, (Var, Const)) and (value.type is None or not value.type.is_array)


class ControlFlow:
    """Mixin for ``Lowerer``: the methods that create structured ops."""

    b: Any
    env: dict[str, Any]
    loop_depth: int
    kind_errors: list[list[Exception]]  # per loop being lowered: ``refuse_kinds``
    loop_only: dict[str, cst.CSTNode]  # names bound inside a loop but not before it: the loop

    # -- branches ------------------------------------------------------------------------------
    def branches(self, cond: Atom, then: Callable[[], Flow], orelse: Callable[[], Flow], node: cst.CSTNode) -> Flow:
        """Lower two branches into an ``if`` op, merging the names they rebind and their flows.
        A condition known while compiling (``activation == "tanh"``, ``len(layers) > 1``) lowers
        only the branch it takes, in place."""
        if isinstance(cond, Const) and isinstance(cond.value, bool):
            return (then if cond.value else orelse)()
        env0 = self.env
        regions, flows, envs = [], [], []
        for lower_branch in (then, orelse):
            self.env = dict(env0)
            with self.b.into(Region()) as reg:
                flow = lower_branch()
            regions.append(reg)
            flows.append(flow)
            envs.append(self.env)
        self.env = env0
        # a branch that returns never reaches the merge; one that breaks does reach the loop's end,
        # and the values it leaves are what the loop yields
        dead = [f.ret is TRUE for f in flows]
        live_envs = [e for e, d in zip(envs, dead) if not d] or [env0]
        names = [n for n in live_envs[0]
                 if all(n in e for e in live_envs) and data_leaves(live_envs[0][n]) is not None
                 and any(not same(e[n], env0.get(n)) for e in live_envs)]
        skeletons = [self.merged_skeleton(n, [e[n] for e in live_envs], node) for n in names]
        for n in names:
            self.check_one_kind(n, [leaves(e[n]) for e in live_envs], node, "if")
        per_branch: list[list[Atom]] = [[], []]
        for k in range(2):
            for n in names:
                live = leaves(live_envs[0][n])
                if not dead[k]:
                    per_branch[k].extend(leaves(envs[k][n]))
                    continue
                before = env0.get(n)
                befores = leaves(before) if before is not None and skeleton(before) == skeleton(live_envs[0][n]) \
                    else [None] * len(live)
                per_branch[k].extend(self.placeholder(b, a.type, n) for b, a in zip(befores, live))
        # flags and return values
        extra: list[tuple[str, list[Atom]]] = []
        for flag in ("ret", "brk"):
            vals = [getattr(f, flag) for f in flows]
            extra.append((flag, vals))
        returns_value = any(f.ret is not FALSE for f in flows)
        value_shape = None
        if returns_value:
            value_shape = next(f.value for f in flows if f.ret is not FALSE)
            flat_values = []
            for f in flows:
                flat_values.append(self.flatten_value(f.value if f.ret is not FALSE else None, value_shape, node))
            self.check_one_kind("the returned value", [v for v, f in zip(flat_values, flows) if f.ret is not FALSE],
                                node, "return")
        outs_by_name: dict[str, Atom] = {}
        yields: list[list[Atom]] = [list(per_branch[0]), list(per_branch[1])]
        out_types: list[Type] = [join(_atom_type(a), _atom_type(b)) for a, b in zip(*per_branch)]
        flag_slots: dict[str, int | Atom] = {}
        for flag, vals in extra:
            if vals[0] is vals[1] or (isinstance(vals[0], Const) and isinstance(vals[1], Const) and vals[0].value == vals[1].value):
                flag_slots[flag] = vals[0]
            else:
                flag_slots[flag] = len(out_types)
                yields[0].append(vals[0])
                yields[1].append(vals[1])
                out_types.append(BOOL)
        value_slot = None
        if returns_value:
            value_slot = len(out_types)
            for a, c in zip(*flat_values):
                yields[0].append(a)
                yields[1].append(c)
                out_types.append(join(_atom_type(a), _atom_type(c)))
        if not regions[0].ops and not regions[1].ops and not any(t.is_array for t in out_types):
            # nothing to evaluate lazily: select between numbers already computed (arrays stay in an
            # `if`: np.where would broadcast two arrays of different shapes)
            outs = [self.select(cond, a, c) for a, c in zip(*yields)]
        else:
            outs = [Var(type=t) for t in out_types]
            regions[0].yields, regions[1].yields = yields
            self.b.append(Op("if", [cond], outs, regions=regions))
        merged = iter(outs)
        for n, skel in zip(names, skeletons):
            value = same_kind(live_envs[0][n], rebuild(skel, merged))
            for v in leaves(value):
                if isinstance(v, Var) and v.hint is None:
                    v.hint = n
            outs_by_name[n] = value
        self.env.update(outs_by_name)
        self.merge_lists(env0, live_envs)
        flow = Flow()
        for flag, slot in flag_slots.items():
            setattr(flow, flag, outs[slot] if isinstance(slot, int) else slot)
        if returns_value:
            n_values = len(flat_values[0])
            vals = outs[value_slot:value_slot + n_values]
            for v in vals:
                if isinstance(v, Var):  # (a constant both paths return is no variable)
                    v.hint = "result"
            flow.value = rebuild(skeleton(value_shape), iter(vals))
        return flow

    def select(self, cond: Atom, a: Atom, c: Atom) -> Atom:
        if a is c or (isinstance(a, Const) and isinstance(c, Const) and a == c):
            return a
        if a == TRUE and c == FALSE:
            return cond
        if a == FALSE and c == TRUE:
            return self.b.emit("not", cond)
        return self.b.emit("select", cond, a, c)

    def merged_skeleton(self, name: str, values: list[Any], node: cst.CSTNode) -> Any:
        """The common structure of the values ``name`` has where paths meet (a number, or a
        tuple/record merged leaf by leaf); different structures are an error."""
        skel = skeleton(values[0])
        for v in values[1:]:
            if skeleton(v) != skel:
                grows = isinstance(v, ListValue) or isinstance(values[0], ListValue)
                raise self.fail(node, f"`{name}` is {describe(values[0])} on one path and {describe(v)} on another",
                                f"append to `{name}` on every path alike (its length must be known while "
                                "compiling), or preallocate an array and write into it" if grows else
                                f"give `{name}` values of the same structure on every path")
        return skel

    def check_one_kind(self, name: str, values: list[list[Atom]], node: cst.CSTNode, where: str) -> None:
        """Refuse a name that is an array on one path and a computed number on another where the
        paths meet: the number's adjoint would be an array.  A constant number is allowed
        (``acc = 0.0`` before ``acc = acc + x``, ``y = x * 2.0 if c else 1.0``): nothing flows into
        it, and NumPy broadcasts it.  ``values``: the leaves on each live path."""
        for first in zip(*values) if values else ():
            arrays = [a for a in first if a.type is not None and a.type.is_array]
            numbers = [a for a in first if a.type is not None and not a.type.is_array
                       and a.type.kind in ("bool", "int", "float") and not isinstance(a, Const)]
            if arrays and numbers:
                self.refuse_kinds(self.one_kind_error(name, numbers[0], node, where))

    def refuse_kinds(self, error: Exception) -> None:
        """Raise ``error``, or, inside a loop whose types are still being found (a carried
        ``s = 0.0`` is a number in the first pass and an array once ``s = s + x`` joins), keep it
        until they settle: the pass that settles them raises what it still finds."""
        if self.kind_errors:
            self.kind_errors[-1].append(error)
        else:
            raise error

    def one_kind_error(self, name: str, number: Atom, node: cst.CSTNode, where: str) -> Exception:
        """The error of ``check_one_kind`` (``where``: ``if``, ``return``, ``loop-before``: a number
        before the loop, ``loop-after``: a number after an iteration)."""
        if name.startswith("%"):  # ``a if c else b``
            name, where = "the value of this conditional expression", "return"
        what = f"`{name}`" if not name.startswith("the ") else name
        text = {"if": "is an array on one path of this `if` and a number on the other",
                "return": "is an array on one path and a number on another",
                "loop-before": "is a number before this loop (not a constant) and an array in it",
                "loop-after": "is an array before this loop and a number after an iteration of it"}[where]
        example = f"np.full_like(x, {number.value!r})" if isinstance(number, Const) else "np.full_like(x, value)"
        return self.fail(node, f"{what} {text}: adc needs one kind (array or number) where paths meet",
                         f"make the number an array of the array's shape (`{example}`), or give it another name")

    def placeholder(self, before: Any, t: Type | None, hint: str | None = None) -> Atom:
        """A value of type ``t`` for a path on which its slot is never read (the path returned,
        broke, or has not returned yet): the value from before the branch, else a zero (an empty
        array of ``t``'s rank and dtype, made before the ``if`` or loop)."""
        if isinstance(before, (Var, Const)) and (t is None or before.type is None or before.type.is_array == t.is_array):
            return before  # (not an array for a number: it would make the merged value an array)
        if t is not None and t.is_array:
            ones = tuple(t.one(k) for k in range(t.ndim))
            dtype = () if t.dtype == "float64" else (("dtype", t.dtype),)
            out = self.b.emit("empty", *[Const(int(one)) for one in ones], params=(("ones", ones), *dtype))
            out.hint = hint
            return out
        return Const(0 if t is not None and t.kind == "int" else False if t == BOOL else 0.0)

    def flatten_value(self, value: Any, shape: Any, node: cst.CSTNode) -> list[Atom]:
        """The atoms of a returned value, which must have the structure of ``shape`` (what
        another ``return`` returns); ``None``: placeholders for a path that does not return."""
        if value is None:  # in a loop that returns, the result so far; else a placeholder
            return [self.placeholder(self.env.get(f"%result{k}"), s.type, "result") for k, s in enumerate(leaves(shape))]
        if skeleton(value) != skeleton(shape):
            raise self.fail(node, "the `return` statements return different numbers of values",
                            "return the same number of values on every path")
        return [self.scalar(v, node) for v in leaves(value)]

    def if_statement(self, node: cst.If, rest: list[cst.CSTNode]) -> Flow:
        with self.b.at(self.loc(node.test)):
            cond = self.condition(node.test)
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            else_body: Callable[[], Flow] = lambda: self.block([orelse, *rest])
        elif isinstance(orelse, cst.Else):
            else_body = lambda: self.block([*orelse.body.body, *rest])
        else:
            else_body = lambda: self.block(rest)
        with self.b.at(self.loc(node)):
            flow = self.branches(cond, lambda: self.block([*node.body.body, *rest]), else_body, node)
        flow.done = bool(rest) or flow.ret is not FALSE or flow.brk is not FALSE
        return flow

    def guard_rest(self, flow: Flow, rest: list[cst.CSTNode], node: cst.CSTNode) -> Flow:
        """After a loop that may have returned: return its value, else run the rest."""
        value = flow.value
        in_loop = self.loop_depth > 0
        with self.b.at(self.loc(node)):
            out = self.branches(flow.ret, lambda: Flow(ret=TRUE, brk=TRUE if in_loop else FALSE, value=value, done=True),
                                lambda: self.block(rest), node)
        out.done = True
        return out

    def condition(self, node: cst.BaseExpression) -> Atom:
        cond = self.scalar(self.expr(node), node)
        if cond.type is not None and cond.type.is_array:
            raise self.fail(node, "the truth value of an array is ambiguous here",
                            "reduce it first, e.g. np.any(...) or a comparison of scalars")
        return cond

    def if_expression(self, node: cst.IfExp) -> Atom:
        cond = self.condition(node.test)
        holder: dict[str, Any] = {}

        def side(expr: cst.BaseExpression) -> Callable[[], Flow]:
            def lower() -> Flow:
                self.env["%value"] = self.scalar(self.expr(expr), expr)
                return Flow()
            return lower

        saved = self.env
        self.env = dict(saved)
        self.env["%value"] = Const(0.0)
        self.branches(cond, side(node.body), side(node.orelse), node)
        holder["v"] = self.env.pop("%value")
        merged = {k: v for k, v in self.env.items() if k in saved}
        self.env = saved
        self.env.update(merged)
        out = holder["v"]
        if isinstance(out, Var) and out.hint == "%value":
            out.hint = None
        return out

    def lazy_bool(self, prim: str, node: cst.BooleanOperation) -> Atom:
        """``a and b`` / ``a or b`` with Python's short-circuit (``b`` only evaluated if needed)."""
        left = self.condition(node.left)
        if left.type.kind == "float":
            return self.numeric_bool(prim, left, node)
        trial = Region()
        with self.b.into(trial):
            right = self.condition(node.right)
        if not trial.ops:
            return self.b.emit(prim, left, right)
        saved = self.env
        self.env = dict(saved)
        self.env["%value"] = Const(False)

        def rhs() -> Flow:
            self.env["%value"] = self.condition(node.right)
            return Flow()

        def short() -> Flow:
            self.env["%value"] = left
            return Flow()

        then, orelse = (rhs, short) if prim == "and" else (short, rhs)
        self.branches(left, then, orelse, node)
        out = self.env.pop("%value")
        self.env = saved
        if isinstance(out, Var):
            out.hint = None
        return out

    def numeric_bool(self, prim: str, left: Atom, node: cst.BooleanOperation) -> Atom:
        """``a or b`` on numbers is ``a if a else b`` (``a and b`` is ``b if a else a``): the value,
        not a truth value, so it stays differentiable."""
        saved = self.env
        self.env = dict(saved)
        self.env["%value"] = left

        def right() -> Flow:
            self.env["%value"] = self.scalar(self.expr(node.right), node.right)
            return Flow()

        def keep() -> Flow:
            return Flow()

        truth = self.b.emit("ne", left, Const(0.0))
        self.branches(truth, keep if prim == "or" else right, right if prim == "or" else keep, node)
        out = self.env.pop("%value")
        self.env = saved
        if isinstance(out, Var) and out.hint == "%value":
            out.hint = None
        return out

    # -- loops ------------------------------------------------------------------------------
    def carried_names(self, body: Sequence[cst.CSTNode], targets: Sequence[str] = ()) -> list[str]:
        return [n for n in dict.fromkeys([*targets, *assigned_names(body)])
                if n in self.env and data_leaves(self.env[n]) is not None]

    def loop(self, node: cst.CSTNode, body: Sequence[cst.CSTNode], head: list[Var],
             bind_head: Callable[[list[Var]], None], cond: Callable[[], Atom] | None,
             target: cst.BaseExpression | None = None
             ) -> tuple[Flow, dict[str, Any], list[Var], list[Region], list[Atom], bool]:
        """Lower a loop body (and a while condition) with loop-carried values as region arguments.

        The carried values are the names the body (or the ``for`` loop's ``target``) rebinds that
        exist before the loop, plus ``%returned`` and ``%result<k>`` when the body can return: a
        loop variable bound before the loop is, after it, its last value (the one before if the loop
        did not run), as in Python.  The body also yields a stop flag when it can break or return.
        Types are iterated to a fixpoint (``s = 0`` followed by ``s += x`` carries a float)."""
        env0 = self.env
        targets = _target_names(target) if target is not None else []
        # bound only in the loop: not defined after it (Python: only if it ran); so is a loop variable
        # that was not a number before (it is not carried: `t = x * 2.0` then `for t in range(3)`)
        only = [n for n in [*targets, *assigned_names(body)] if n not in env0]
        dropped = [n for n in targets if n in env0 and not _number_value(env0[n])]
        carried_names = self.carried_names(body, [n for n in targets if n not in dropped])
        skeletons = [skeleton(env0[n]) for n in carried_names]
        carried = [n if skel == "leaf" else f"{n}%{k}" for n, skel in zip(carried_names, skeletons)
                   for k in range(len(leaves(env0[n])))]  # one slot per leaf
        returns = _find(list(body)).returns
        breaks = loop_has_break(body)
        ret_types: list[Type] = []
        ret_shape: Any = None
        inits = [a for n in carried_names for a in leaves(env0[n])]  # what the carried slots start as
        types = [a.type for a in inits]

        def bound(atoms: list[Var], flags: list[str]) -> dict[str, Any]:
            """The carried names (structured ones rebuilt from their leaves) and then ``flags``
            bound to ``atoms``."""
            slots = iter(atoms)
            env = {n: rebuild(skel, slots) for n, skel in zip(carried_names, skeletons)}
            env.update(zip(flags, slots))
            return env

        for _ in range(8):
            versions = self.list_versions(env0)
            names = carried + (["%returned"] + [f"%result{k}" for k in range(len(ret_types))] if returns else [])
            all_types = types + ([BOOL] + ret_types if returns else [])

            def region_args() -> list[Var]:
                return [Var(hint=_hint(n), type=t) for n, t in zip(names, all_types)]

            regions: list[Region] = []
            self.kind_errors.append([])  # known only once the loop's types settle
            if cond is not None:
                cargs = region_args()
                self.carried_from.update(zip(cargs, inits))
                self.env = {**env0, **bound(cargs, names[len(carried):])}
                try:
                    with self.b.into(Region(args=cargs)) as creg:
                        creg.yields = [cond()]
                except BaseException:
                    self.kind_errors.pop()
                    raise
                regions.append(creg)
            bargs = region_args()
            self.carried_from.update(zip(bargs, inits))
            self.env = {**env0, **bound(bargs, names[len(carried):])}
            self.loop_depth += 1
            try:
                with self.b.into(Region(args=[*head, *bargs])) as reg:
                    bind_head(head)
                    flow = self.block(list(body))
            finally:
                self.loop_depth -= 1
                kind_errors = self.kind_errors.pop()
            if returns and flow.ret is not FALSE:
                if ret_shape is None:
                    ret_shape = flow.value
                flat = self.flatten_value(flow.value, ret_shape, node)
                if len(flat) != len(ret_types):
                    ret_types = [a.type for a in flat]
                    continue
                self.env["%returned"] = flow.ret
                self.env.update({f"%result{k}": a for k, a in enumerate(flat)})
            self.check_rebound_lists(assigned_names(body), env0, node)
            yields = []
            for n in carried_names:
                self.merged_skeleton(n, [env0[n], self.env[n]], node)
                yields += leaves(self.env[n])
            self.check_carried_in_place(body, {n: leaves(self.env[n]) for n in carried_names})
            yields += [self.env[n] for n in names[len(carried):]] + ([flow.brk] if breaks else [])
            new_types = [join(t, y.type) for t, y in zip(all_types, yields)]
            if new_types == all_types and self.list_versions(env0) == versions:
                for k, n in enumerate(carried):  # a number before an array: only a constant starts one
                    start = inits[k]
                    if all_types[k].is_array and (not start.type.is_array and not isinstance(start, Const)
                                                  or not yields[k].type.is_array):
                        before = not start.type.is_array
                        kind_errors.append(self.one_kind_error(n.split("%")[0], start if before else yields[k], node,
                                                               "loop-before" if before else "loop-after"))
                for error in kind_errors:
                    self.refuse_kinds(error)
                break
            types = new_types[:len(carried)]
            ret_types = new_types[len(carried) + 1:] if returns else []
        else:  # pragma: no cover - float is the top of the type lattice
            raise self.fail(node, "could not infer the types of the loop's variables")
        reg.yields = yields
        regions.append(reg)
        self.env = env0
        inits: list[Atom] = [a for n in carried_names for a in leaves(env0[n])]
        if returns:
            inits += [FALSE] + [self.placeholder(None, t, "result") for t in ret_types]
        outs = [Var(hint=_hint(n), type=t) for n, t in zip(names, all_types)]
        flow_out = Flow()
        if returns:
            flow_out.ret = outs[len(carried)]
            vals = outs[len(carried) + 1:]
            flow_out.value = rebuild(skeleton(ret_shape), iter(vals)) if vals else Const(0.0)
        self.loop_only.update({n: node for n in [*only, *dropped]})
        for n in dropped:
            self.env.pop(n, None)
        return flow_out, bound(outs, []), outs, regions, inits, breaks

    def for_statement(self, node: cst.For, rest: Sequence[Any] = ()) -> Flow:
        if node.orelse is not None:
            raise self.fail(node.orelse, "unsupported construct: for/else", "use a flag variable instead")
        if node.asynchronous is not None:
            raise self.unsupported(node)
        self.check_not_iterated(node)
        with self.b.at(self.loc(node)):
            it, snapshots = self.checkpoint_marker(node.iter)
            if self.grows_outer_list(node.body):  # `hs.append(h)` in `for t in range(3)`: unrolled
                indices = self.constant_range(it)
                if indices is not None and (len(indices) <= UNROLL_APPENDS or not self.can_make_dynamic()):
                    return self.unrolled_for(node, indices, rest, "a loop that appends to a list")
            items, value, call_args = self.static_iterable(it)
        if items is not None:
            return self.unrolled_for(node, items, rest)
        with self.b.at(self.loc(node)):
            self.make_dynamic(node.body)  # lists appended in this loop: Python lists at run time
        return self.indexed_loop(node, node.target, node.body.body, it, value, call_args, snapshots)

    def indexed_loop(self, node: cst.CSTNode, target: cst.BaseExpression, body: Sequence[Any],
                     it: cst.BaseExpression, value: Any = None, call_args: list[Any] | None = None,
                     snapshots: int | None = None) -> Flow:
        """A ``for`` op over ``it`` (a range, an array, ``enumerate``, a run-time list) binding
        ``target``, its body the statements ``body`` (``value``, ``call_args``: what
        ``static_iterable`` lowered already)."""
        with self.b.at(self.loc(node)):
            start, stop, step, element_of = self.iteration(it, value, call_args)
            index = Var(hint=self.index_hint(target, element_of), type=INT)

            def bind(head_vars: list[Var]) -> None:
                self.bind_target(target, head_vars[0], element_of, node)

            flow, carried, outs, regions, inits, breaks = self.loop(node, body, [index], bind, None, target)
            params = (("break", breaks),) + ((("checkpoint", snapshots),) if snapshots is not None else ())
            self.b.append(Op("for", [start, stop, step, *inits], outs, params, regions=regions))
        self.env.update(carried)
        return flow

    def checkpoint_marker(self, it: cst.BaseExpression,
                          what: str = "iterable") -> tuple[cst.BaseExpression, int | None]:
        """``adc.checkpointed(iterable, snapshots=k)`` (or a ``while`` loop's condition in place of
        the iterable) → ``(iterable, k)``; any other expression → ``(it, None)`` (see ``checkpoint.py``)."""
        if not (isinstance(it, cst.Call) and self.expr(it.func) is checkpointed):
            return it, None
        example = "range(n)" if what == "iterable" else "s > tol"
        positional = [a for a in it.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a for a in it.args if a.keyword is not None}
        if not positional or len(positional) > 2 or set(keywords) - {"snapshots"} or any(a.star for a in it.args) \
                or (len(positional) == 2 and keywords):
            raise self.fail(it, f"adc.checkpointed takes the loop's {what} and snapshots=k",
                            f"write `adc.checkpointed({example}, snapshots=10)`")
        given = positional[1] if len(positional) == 2 else keywords.get("snapshots")
        snapshots = self.expr(given.value) if given is not None else Const(16)
        if not (isinstance(snapshots, Const) and type(snapshots.value) is int and snapshots.value >= 1):
            raise self.fail(given.value if given is not None else it, "snapshots must be an integer >= 1 known "
                            "before the function runs", "write a literal, e.g. snapshots=10")
        return positional[0].value, snapshots.value

    def while_statement(self, node: cst.While) -> Flow:
        if node.orelse is not None:
            raise self.fail(node.orelse, "unsupported construct: while/else", "use a flag variable instead")
        with self.b.at(self.loc(node)):
            test, snapshots = self.checkpoint_marker(node.test, "condition")
            self.make_dynamic(node.body)
            flow, carried, outs, regions, inits, breaks = self.loop(
                node, node.body.body, [], lambda head: None, lambda: self.condition(test))
            params = (("break", breaks),) + ((("checkpoint", snapshots),) if snapshots is not None else ())
            self.b.append(Op("while", inits, outs, params, regions=regions))
        self.env.update(carried)
        if _is_true(test) and not _find(list(node.body.body)).breaks and flow.ret is not FALSE:
            # `while True:` left only by `return`: the loop returns whenever it ends
            flow.ret = TRUE
        return flow

    def index_hint(self, target: cst.BaseExpression, element_of: Any = None) -> str:
        if element_of is not None and element_of[0] == "items":
            return "i"
        if isinstance(target, cst.Name):
            return target.value
        if isinstance(target, cst.Tuple) and target.elements and isinstance(target.elements[0].value, cst.Name):
            return target.elements[0].value.value
        return "i"

    def bind_target(self, target: cst.BaseExpression, index: Var, element_of: Callable[[Var], Any] | None,
                    node: cst.CSTNode) -> None:
        if element_of is None:
            self.assign(target, index)
            return
        kind, fn = element_of
        if kind == "items":
            self.assign(target, fn(index))
        else:  # enumerate
            if not (isinstance(target, cst.Tuple) and len(target.elements) == 2):
                raise self.fail(target, "enumerate() needs two loop variables", "write `for i, v in enumerate(x):`")
            self.assign(target.elements[0].value, index)
            self.assign(target.elements[1].value, fn(index))

    def iteration(self, it: cst.BaseExpression, value: Any = None, call_args: list[Any] | None = None
                  ) -> tuple[Atom, Atom, Atom, Any]:
        """``range(...)``, an array (its first axis) or ``enumerate(array)`` → bounds and element
        (``value``: the iterable, ``call_args``: the arguments of its call, if lowered already)."""
        if isinstance(value, (DynamicList, ListIteration)):  # a list appended in a loop, zip/reversed of such
            return self.list_iteration(value, it)
        if isinstance(it, cst.Call):
            func = self.expr(it.func)
            name = getattr(func, "name", None)
            extra = next((a for a in it.args if a.keyword is not None or a.star), None)
            if extra is not None:  # range(3, step=2) is a TypeError in Python: never reinterpret it
                raise self.fail(extra, "keyword or starred argument in a loop's iterable",
                                "pass the bounds by position")
            values = call_args or [self.expr(a.value) for a in it.args]
            if name == "enumerate" and len(values) == 1 and isinstance(values[0], DynamicList):
                start, stop, step, (_, item) = self.list_iteration(values[0], it)
                return start, stop, step, ("enumerate", item)
            args = [self.scalar(v, a.value) for v, a in zip(values, it.args)]
            if name == "range":
                if not 1 <= len(args) <= 3:
                    raise self.fail(it, "range() takes 1 to 3 arguments")
                for a, n in zip(args, it.args):
                    if a.type.kind not in ("int", "bool"):
                        raise self.fail(n.value, "range() needs integer bounds", "convert with int(...)")
                if len(args) == 1:
                    return Const(0), args[0], Const(1), None
                if len(args) == 2:
                    return args[0], args[1], Const(1), None
                if isinstance(args[2], Const) and args[2].value == 0:
                    raise self.fail(it, "range() step must not be zero", "use a positive or negative step")
                return args[0], args[1], args[2], None
            if name == "enumerate":
                if len(args) != 1:
                    raise self.fail(it, "enumerate() takes one array")
                arr = self.array_value(args[0], it.args[0].value)
                return Const(0), self.b.emit("shape", arr, params=(("dim", 0),)), Const(1), \
                    ("enumerate", lambda i: self.b.emit("getitem", arr, i))
        value = self.expr(it) if value is None else value
        if isinstance(value, DynamicList):
            return self.list_iteration(value, it)
        if isinstance(value, (Var, Const)) and value.type is not None and value.type.is_array:
            arr = value
            return Const(0), self.b.emit("shape", arr, params=(("dim", 0),)), Const(1), \
                ("items", lambda i: self.b.emit("getitem", arr, i))
        raise self.fail(it, f"unsupported loop iterable: {self.describe_value(value)}",
                        "loop over Python's range(...), an array, enumerate(array), or a list, tuple or dict written "
                        "in the function")

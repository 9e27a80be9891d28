"""Front end, lists the function builds: ``hs = []`` then ``hs.append(h)`` (or ``hs.extend(t)``).

Input: libcst expression statements and loops, lowered by the ``Lowerer`` this class is mixed into.
A list starts as a front-end value whose length is known while compiling (``ListValue``, like a
tuple): ``append`` rebinds its name to the longer list, so a list may grow in straight-line code,
in branches that append alike, and in loops adc unrolls (over containers, and ``for`` over a
constant ``range`` of at most ``UNROLL_APPENDS`` iterations).

A list appended in a loop adc does not unroll (``for`` over ``range(n)``, over an array, a long
constant ``range``, a ``while``) becomes a ``DynamicList`` just before that loop: a Python list in
the generated code (``prims/lists.py``), appended where the user appends, in any control flow, and
read by index, length, iteration, ``sum``, ``np.stack``/``np.array`` (and any NumPy function, which
reads it as ``np.array(hs)``).  Items are numbers, arrays of one dtype and rank, or tuples of them
(one IR list per leaf).  It refers to one list, as Python does, so appends through an alias or in a
helper are seen by every name.  What would be unsound is refused at the user's line: a list made
inside a loop and appended in a loop within it, an array written after it was appended (the list
holds the array itself), and reads before adc has seen what is appended.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from .frontend_values import children, data_leaves, describe, is_structured, leaves, rebuild, skeleton
from .ir import Atom, Const, Loc, Op, Program, Region, Var, walk
from .memory import Memory
from .prims.shapes import transpose_params
from .types import Type, join

if TYPE_CHECKING:
    from .controlflow import Flow

Value = Any
GROW = ("append", "extend")
UNROLL_APPENDS = 16  # a `for` over a constant range with at most this many iterations that appends is unrolled
LIST = Type("tape")  # the IR type of a list (``prims/lists.py``)
READ_FIRST = "append the first item before the loop (`hs = [h0]`), or keep the previous value in a variable"


class ListValue(tuple):
    """A list made by the function being lowered (``[]``, ``[a, b]``, a list comprehension,
    ``list(...)``): ``maker`` is the lowerer that made it, ``depth`` the loop depth it was made at,
    ``loc`` and ``at`` where (the source line; the region and the op after which it was made)."""

    maker: Any
    depth: int
    loc: Loc | None
    at: tuple[Region, Op | None]


def make_list(items: Any, maker: Any) -> ListValue:
    out = ListValue(items)
    region = maker.b.region
    out.maker, out.depth, out.loc = maker, maker.loop_depth, maker.b.loc
    out.at = (region, region.ops[-1] if region.ops else None)
    return out


def same_kind(old: Value, new: Value) -> Value:
    """``new`` (merged where paths meet) as a list again if ``old`` was one."""
    if not isinstance(old, ListValue):
        return new
    out = make_list(new, old.maker)
    out.depth, out.loc = old.depth, old.loc
    return out


@dataclass(eq=False)
class DynamicList:
    """A list whose length is known only at run time: one IR list per leaf of its items
    (``vars``, made by the ``allocs`` in ``region``), their structure ``skel`` and leaf ``types``
    (``None`` until the first append); ``version`` counts changes of the items' type (a loop is
    lowered again)."""

    name: str
    vars: list[Var]
    allocs: list[Op]
    region: Region
    skel: Any = None
    types: list[Type] = field(default_factory=list)
    version: int = 0

    def describe(self) -> str:
        what = f"`{self.name}`, a list" if self.name else "a list"
        return f"{what} appended in a loop (its length is known only at run time)"


@dataclass(frozen=True)
class Unmerged:
    """A name that holds a different list on each path of a branch (a list appended in a loop on
    one of them): refused where it is read."""

    name: str


class RunTimeLength(Exception):
    """A comprehension whose length is known only at run time (lowered as a ``DynamicList``)."""


@dataclass(frozen=True)
class CompBody:
    """The body of a loop of a comprehension with a run-time length: its clause's filters, then
    its inner clause or the append of its element (a statement the ``Lowerer`` lowers)."""

    clause: cst.CompFor
    element: cst.BaseExpression
    out: "DynamicList"

    def visit(self, visitor: cst.CSTVisitor) -> None:  # what the loop lowering looks for (returns, names)
        self.clause.visit(visitor)


@dataclass(frozen=True)
class ListIteration:
    """``zip(...)``, ``reversed(hs)`` of lists appended in loops (and arrays): the iterable of a loop."""

    kind: str  # "zip" | "reversed"
    parts: tuple[Any, ...]


def dynamic_lists(value: Value) -> list[DynamicList]:
    """The dynamic lists in ``value`` (a list, or a container holding some)."""
    if isinstance(value, DynamicList):
        return [value]
    return [d for c in children(value) for d in dynamic_lists(c)] if is_structured(value) else []


def _growth(node: cst.CSTNode) -> tuple[str, cst.Call] | None:
    """``(name, call)`` when ``node`` is the statement ``name.append(...)`` / ``name.extend(...)``."""
    call = node.value if isinstance(node, cst.Expr) else None
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value in GROW \
            and isinstance(call.func.value, cst.Name):
        return call.func.value.value, call
    return None


def appended_names(body: cst.CSTNode) -> list[str]:
    """The names ``body`` appends to (``name.append(...)``), in order."""
    found: list[str] = []

    class Find(cst.CSTVisitor):
        def visit_Expr(self, node: cst.Expr) -> None:
            growth = _growth(node)
            if growth is not None and growth[0] not in found:
                found.append(growth[0])

    body.visit(Find())
    return found


def names_in(node: cst.CSTNode) -> list[str]:
    found: list[str] = []

    class Find(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.append(name.value)

    node.visit(Find())
    return found


def _holds(value: Value, target: Any) -> bool:
    return value is target or (is_structured(value) and any(_holds(c, target) for c in children(value)))


def _merged_item(old: Type, new: Type) -> Type | None:
    """The type of items ``old`` after appending a ``new`` (numbers promote, arrays of one rank and
    dtype keep the axes both have of length 1), or ``None`` if a list cannot hold both."""
    if old.ndim != new.ndim:
        return None
    if not old.ndim:
        return join(old, new)
    if old.dtype != new.dtype:
        return None
    return old.with_(ones=tuple(old.one(k) and new.one(k) for k in range(old.ndim)))


class ListStatements:
    """Mixin for ``Lowerer``: growing lists, and the lists appended in loops adc does not unroll."""

    env: dict[str, Value]
    loop_depth: int
    outer_loops: int
    b: Any

    # -- appends ---------------------------------------------------------------------------------
    def grow_list(self, node: cst.Expr) -> bool:
        """Lower ``name.append(v)`` / ``name.extend(t)`` if ``node`` is one (else ``False``)."""
        found = _growth(node)
        if found is None or found[0] not in self.env:
            return False
        name, call = found
        value, how = self.env[name], call.func.attr.value
        if isinstance(value, Unmerged):
            raise self.unmerged(value, call)
        if isinstance(value, DynamicList):
            for item in self.appended_items(name, how, call):
                self.push(value, item, call)
            return True
        if not isinstance(value, tuple):
            return False  # an array's method (no `append`): the effects' message
        text = f"`{name}.{how}(...)`"
        if not isinstance(value, ListValue) or value.maker is not self:
            raise self.fail(call, f"{text}: `{name}` is not a list made in this function (`{name} = []`, a list "
                                  "display or comprehension); the function that made it would see the append",
                            f"make the list in the function that appends (or return the new list), or build it "
                            f"with a comprehension: `{name} = [f(v) for v in ...]`")
        if self.loop_depth > value.depth:
            known = next((n for n, v in self.env.items() if n != name and v is value), name)
            raise self.fail(call, f"{text} in a loop, to a list the loop's body does not append to under the name "
                                  "it has before the loop (it is reached through another name or a helper here): adc "
                                  "cannot tell before the loop that the list grows",
                            f"append in the loop's own body, under that name: `{known}.{how}(...)`")
        others = [n for n, v in self.env.items() if n != name and _holds(v, value)]
        if others:
            raise self.fail(call, f"{text}: `{others[0]}` refers to the same list, and adc's lists are values",
                            f"append and read the list through one name, or copy it where the two may differ: "
                            f"`{name} = list({others[0]})`")
        items = self.appended_items(name, how, call)
        self.env[name] = same_kind(value, value + items)
        return True

    def appended_items(self, name: str, how: str, call: cst.Call) -> tuple[Value, ...]:
        args = call.args
        if len(args) != 1 or args[0].keyword is not None or args[0].star:
            raise self.fail(call, f"list.{how}() takes one argument", "pass one value")
        item = self.expr(args[0].value)
        if how == "append":
            return (item,)
        if isinstance(item, DynamicList):
            raise self.fail(args[0].value, f"`{name}.extend(...)` of {item.describe()}",
                            f"append its items in a loop: `for v in {item.name}: {name}.append(v)`")
        if not isinstance(item, tuple):
            raise self.fail(args[0].value, "list.extend() of something that is not a list or tuple",
                            f"append the value: `{name}.append(...)`")
        return tuple(item)

    def grows_outer_list(self, body: cst.CSTNode) -> bool:
        """Does a loop body append to a list made before the loop?"""
        return any(isinstance(self.env.get(n), ListValue) for n in appended_names(body))

    # -- lists appended in loops adc does not unroll ----------------------------------------------
    def make_dynamic(self, body: cst.CSTNode) -> None:
        """Before a loop adc does not unroll: each list made before it that its body appends to
        becomes a ``DynamicList`` holding the same items, bound to every name that refers to it."""
        for name in appended_names(body):
            value = self.env.get(name)
            if not isinstance(value, ListValue) or value.maker is not self:
                continue  # a dynamic list already, or refused at the append
            node = self.appended_at(body, name)
            if not self.can_make_dynamic():
                raise self.fail(node, f"`{name}` is made inside a loop and appended in a loop within it: its length "
                                      "is known only at run time, and adc keeps such a list only when it is made "
                                      "outside every loop", f"make `{name}` before the outer loop, or preallocate "
                                      f"an array (`{name} = np.zeros((n, ...))`) and write `{name}[i] = v`")
            nested = [n for n, v in self.env.items() if v is not value and _holds(v, value)]
            if nested:
                raise self.fail(node, f"`{name}` is appended in a loop and `{nested[0]}` holds it too",
                                f"read the list through `{name}` only")
            with self.b.at(value.loc):
                dyn = self.new_list(name, value.at)
                for item in value:
                    self.push(dyn, item, node)
            for n in [n for n, v in self.env.items() if v is value]:
                self.env[n] = dyn

    def can_make_dynamic(self) -> bool:
        """Can a list made here have a run-time length (is no loop of the program around here)?"""
        return self.outer_loops + self.loop_depth == 0

    def appended_at(self, body: cst.CSTNode, name: str) -> cst.Call:
        found: list[cst.Call] = []

        class Find(cst.CSTVisitor):
            def visit_Expr(self, node: cst.Expr) -> None:
                growth = _growth(node)
                if growth is not None and growth[0] == name and not found:
                    found.append(growth[1])

        body.visit(Find())
        return found[0]

    def new_list(self, name: str, at: tuple[Region, Op | None] | None = None) -> DynamicList:
        """An empty run-time list, made where the user made it (``at``: the region, and the op
        after which) when that region is around here, else here."""
        var = Var(hint=name or None, type=LIST)
        alloc = Op("list", [], [var], (("item", None),), self.b.loc)
        region, after = at if at is not None else (None, None)
        if any(r is region for r in self.b.stack) and (after is None or after in region.ops):
            region.ops.insert(region.ops.index(after) + 1 if after is not None else 0, alloc)
            self.b.defs[var] = alloc
        else:
            region = self.b.region
            self.b.append(alloc)
        return DynamicList(name, [var], [alloc], region)

    def push(self, dyn: DynamicList, item: Value, node: cst.CSTNode) -> None:
        """``dyn.append(item)``: one ``push`` per leaf, after checking the item fits the list."""
        atoms = data_leaves(item)
        if atoms is None:
            raise self.fail(node, f"appending {describe(item)} to {dyn.describe()}",
                            "append numbers, arrays or tuples of them")
        if dyn.skel is None:
            self.first_item(dyn, item, atoms)
        elif skeleton(item) != dyn.skel:
            raise self.fail(node, f"`{dyn.name}` holds items of one structure; this appends {describe(item)}",
                            "append items of the same structure (numbers, arrays, or tuples of the same length)")
        for k, a in enumerate(atoms):
            merged = _merged_item(dyn.types[k], a.type)
            if merged is None:
                raise self.fail(node, f"`{dyn.name}` holds {_kind(dyn.types[k])}; this appends {_kind(a.type)}",
                                "append values of one kind: numbers, or arrays of one rank and dtype")
            if merged != dyn.types[k]:
                dyn.types[k] = merged
                dyn.version += 1
                dyn.allocs[k].params = (("item", merged),)
            if merged.kind == "float" and a.type.kind != "float":
                a = Const(float(a.value)) if isinstance(a, Const) else self.b.emit("float", a)
            if isinstance(a, Var) and a.type.is_array:
                self.held_by_lists.add(a)  # the list holds the array itself (``check_in_place``)
            self.b.append(Op("push", [dyn.vars[k], a], []))

    def first_item(self, dyn: DynamicList, item: Value, atoms: list[Atom]) -> None:
        """The structure of ``dyn``'s items: one IR list per leaf, made beside the first one."""
        dyn.skel, dyn.types = skeleton(item), [_plain(a.type) for a in atoms]
        dyn.version += 1
        first = dyn.allocs[0]
        first.params = (("item", dyn.types[0]),)
        for t in dyn.types[1:]:
            var = Var(hint=dyn.name or None, type=LIST)
            alloc = Op("list", [], [var], (("item", t),), first.loc)
            dyn.region.ops.insert(dyn.region.ops.index(dyn.allocs[-1]) + 1, alloc)
            dyn.vars.append(var)
            dyn.allocs.append(alloc)

    # -- comprehensions with a run-time length -------------------------------------------------------
    def dynamic_comprehension(self, node: cst.ListComp | cst.GeneratorExp) -> DynamicList:
        """``[f(x[i]) for i in range(n) if c]``: a list made here and appended in the loops of its
        clauses (unrolled over containers and short constant ranges), under its filters."""
        if not self.can_make_dynamic():
            raise self.fail(node, "a comprehension whose length is known only at run time, inside a loop",
                            "append to a list made before the outer loop, or preallocate an array and write into it")
        with self.b.at(self.loc(node)):
            out = self.new_list("")
        self.comprehension_clause(node.for_in, node.elt, out)
        return out

    def comprehension_clause(self, clause: cst.CompFor, element: cst.BaseExpression, out: DynamicList) -> None:
        if clause.asynchronous is not None:
            raise self.unsupported(clause)
        items, value, call_args = self.static_iterable(clause.iter)
        if items is None:
            short = self.constant_range(clause.iter)
            items = short if short is not None and len(short) <= UNROLL_APPENDS else None
        if items is None:
            self.indexed_loop(clause, clause.target, [CompBody(clause, element, out)], clause.iter, value, call_args)
            return
        for item in items:
            with self.b.at(self.loc(clause)):
                self.assign(clause.target, item)
            self.comprehension_body(CompBody(clause, element, out))

    def comprehension_body(self, body: CompBody, ifs: int = 0) -> Flow:
        """The filters of ``body``'s clause from ``ifs`` on (decided while compiling, or a branch),
        then its inner clause or the append of its element."""
        from .controlflow import Flow

        clause = body.clause
        if ifs < len(clause.ifs):
            test = clause.ifs[ifs].test
            known = self.static_value(test)
            if known is not None:
                return self.comprehension_body(body, ifs + 1) if known else Flow()
            with self.b.at(self.loc(test)):
                return self.branches(self.condition(test), lambda: self.comprehension_body(body, ifs + 1),
                                     lambda: Flow(), test)
        if clause.inner_for_in is not None:
            self.comprehension_clause(clause.inner_for_in, body.element, body.out)
        else:
            with self.b.at(self.loc(body.element)):
                self.push(body.out, self.expr(body.element), body.element)
        return Flow()

    def named_list(self, value: Value, name: str) -> None:
        """A comprehension's list takes the name it is first bound to (``hs = [... for ...]``)."""
        if isinstance(value, DynamicList) and not value.name:
            value.name = name
            for v in value.vars:
                v.hint = name

    # -- reads -------------------------------------------------------------------------------------
    def list_length(self, dyn: DynamicList) -> Atom:
        return self.b.emit("list_len", dyn.vars[0])

    def list_item(self, dyn: DynamicList, index: Atom, node: cst.CSTNode) -> Value:
        """``hs[i]`` (``i`` may be negative, as in Python)."""
        if dyn.skel is None:
            raise self.fail(node, f"reading {dyn.describe()} before adc has seen what is appended to it",
                            READ_FIRST)
        atoms = [self.b.emit("list_get", v, index, params=(("item", t),)) for v, t in zip(dyn.vars, dyn.types)]
        return rebuild(dyn.skel, iter(atoms))

    def list_subscript(self, dyn: DynamicList, node: cst.Subscript) -> Value:
        part = node.slice[0].slice if len(node.slice) == 1 else None
        if not isinstance(part, cst.Index):
            raise self.fail(node, f"slicing {dyn.describe()}",
                            f"index one item (`{dyn.name}[i]`), or stack it first: `np.stack({dyn.name})[1:]`")
        index = self.scalar(self.expr(part.value), part.value)
        if index.type.kind != "int" or index.type.is_array:
            raise self.fail(part, "a list index must be an integer", "convert it with int(...)")
        return self.list_item(dyn, index, node)

    def stacked(self, dyn: DynamicList, node: cst.CSTNode) -> Var:
        """``np.stack(hs)`` (``np.array(hs)`` of numbers): a new array."""
        if dyn.skel is None:
            raise self.fail(node, f"stacking {dyn.describe()} before adc has seen what is appended to it",
                            READ_FIRST)
        if dyn.skel != "leaf":
            raise self.fail(node, f"an array of {dyn.describe()}, whose items are tuples",
                            f"stack one part at a time: `np.stack([h for h, c in {dyn.name}])`")
        out = self.b.emit("stack_list", dyn.vars[0], params=(("item", dyn.types[0]),))
        self.owned.add(out)
        return out

    def list_as_array(self, name: str, dyn: DynamicList, node: cst.Call) -> Var:
        """``np.stack(hs, axis=k)``, ``np.array(hs)``, ``np.concatenate(hs, axis=0 or None)``."""
        kw = self.keywords(node, ("axis",) if name in ("stack", "concatenate") else ())
        arr = self.stacked(dyn, node)
        if name == "stack" and kw.get("axis", 0) != 0:
            (axis,) = self.axes_of((kw["axis"],), arr.type.ndim, node)
            order = [k for k in range(1, arr.type.ndim)]
            order.insert(axis, 0)
            return self.b.emit("transpose", arr, params=transpose_params(tuple(order))) if axis else arr
        if name != "concatenate":
            return arr
        if "axis" in kw and kw["axis"] is None:
            return self.b.emit("ravel", arr)
        if arr.type.ndim < 2 or kw.get("axis", 0) != 0:
            raise self.fail(node, f"np.concatenate of {dyn.describe()}" + (" of numbers" if arr.type.ndim < 2 else
                                                                             " along an axis other than 0"),
                            f"stack it (`np.stack({dyn.name})`) and reshape or move axes")
        dims = [Const(-1), *(self.b.emit("shape", arr, params=(("dim", d),)) for d in range(2, arr.type.ndim))]
        return self.b.emit("reshape", arr, *dims, params=(("dims", (-1, *[None] * (len(dims) - 1))),))

    def list_reduction(self, name: str, dyn: DynamicList, start: Value, node: cst.CSTNode) -> Atom:
        """``sum(hs)``, ``sum(hs, start)``, ``max(hs)``, ``min(hs)``: through ``np.stack(hs)``."""
        arr = self.stacked(dyn, node)
        if name != "sum":
            if arr.type.ndim != 1:
                raise self.fail(node, f"{name}() of {dyn.describe()} holding arrays (Python compares the arrays "
                                      "whole, which is ambiguous)", f"use np.{name}(np.stack({dyn.name}), axis=0)")
            return self.reduce("amax" if name == "max" else "amin", arr, None, False, node)
        total = self.reduce("sum", arr, 0, False, node)
        return total if isinstance(start, Const) and start.value == 0 else self.binary("add", start, total, node)

    def list_iteration(self, value: Any, node: cst.CSTNode) -> tuple[Atom, Atom, Atom, Any]:
        """Bounds and items of ``for v in hs``, ``enumerate(hs)``, ``reversed(hs)``, ``zip(hs, ...)``."""
        if isinstance(value, DynamicList):
            return Const(0), self.list_length(value), Const(1), ("items", lambda i: self.list_item(value, i, node))
        if value.kind == "reversed":
            (dyn,) = value.parts
            last = self.b.emit("sub", self.list_length(dyn), Const(1))
            return last, Const(-1), Const(-1), ("items", lambda i: self.list_item(dyn, i, node))
        lengths = [self.list_length(p) if isinstance(p, DynamicList) else self.b.emit("shape", p, params=(("dim", 0),))
                   for p in value.parts]
        stop = lengths[0]
        for n in lengths[1:]:
            stop = self.b.emit("min", stop, n)
        parts = value.parts

        def items(i: Var) -> tuple[Value, ...]:
            return tuple(self.list_item(p, i, node) if isinstance(p, DynamicList) else self.b.emit("getitem", p, i)
                         for p in parts)
        return Const(0), stop, Const(1), ("items", items)

    def sequence_of_lists(self, name: str, args: list[Value], node: cst.Call) -> Any:
        """``zip``/``reversed``/``enumerate``/``list``/``tuple``/``sum`` with a dynamic list argument."""
        if name == "sum":
            return self.list_reduction("sum", args[0], args[1] if len(args) == 2 else Const(0), node)
        if name == "zip" and all(isinstance(a, DynamicList) or (isinstance(a, Var) and a.type.is_array)
                                 for a in args):
            return ListIteration("zip", tuple(args))
        if name == "reversed" and len(args) == 1:
            return ListIteration("reversed", tuple(args))
        what = next(a for a in args if isinstance(a, DynamicList)).describe()
        raise self.fail(node, f"{name}() of {what}" + (" and a tuple or number" if name == "zip" else ""),
                        "loop over it (`for v in hs`, `enumerate(hs)`, `reversed(hs)`, `zip` of such lists and "
                        "arrays), index it, or stack it: `np.stack(hs)`")

    def unmerged(self, value: Unmerged, node: cst.CSTNode) -> Exception:
        return self.fail(node, f"`{value.name}` is a list appended in a loop on one path of a branch and "
                               "something else on another", f"read `{value.name}` inside that branch only, or run "
                                                            "the loop on every path (a loop of no iterations "
                                                            f"appends nothing: `range(n if c else 0)`)")

    # -- loops and branches ------------------------------------------------------------------------
    def check_not_iterated(self, node: cst.For) -> None:
        """Refuse a loop over a list whose body appends to it (Python would visit the new items
        too; adc reads the length once)."""
        lists = {id(v) for n in names_in(node.iter) if isinstance(v := self.env.get(n), (ListValue, DynamicList))}
        for name in appended_names(node.body):
            if id(self.env.get(name)) in lists:
                raise self.fail(self.appended_at(node.body, name), f"appending to `{name}` while looping over it "
                                                                   "(Python would visit the new items too)",
                                f"take the length before the loop and loop over the indices: `n = len({name})`, "
                                f"`for i in range(n):`, `{name}[i]`")

    def list_versions(self, env: dict[str, Value]) -> dict[int, int]:
        """The type versions of the dynamic lists ``env`` reaches (a loop is lowered again when an
        append inside it changed one)."""
        return {id(d): d.version for v in env.values() for d in dynamic_lists(v)}

    def check_rebound_lists(self, names: list[str], before: dict[str, Value], node: cst.CSTNode) -> None:
        """A loop body may not rebind a name that holds a dynamic list (or bind one to a dynamic
        list made elsewhere): the loop would carry a list, which adc keeps only as one list."""
        for n in names:
            old, new = before.get(n), self.env.get(n)
            if n in before and old is not new and (isinstance(old, DynamicList) or isinstance(new, DynamicList)):
                raise self.fail(node, f"`{n}` is rebound inside this loop, to or from a list appended in a loop "
                                      "(adc keeps such a list as one list, not as a value the loop carries)",
                                f"keep `{n}` bound to one list (append to it), and use another name for the rest")

    def merge_lists(self, env0: dict[str, Value], envs: list[dict[str, Value]]) -> None:
        """After a branch: a name bound to different dynamic lists on its paths is refused where read."""
        for n in {n for e in envs for n in e}:
            values = [e.get(n) for e in envs]
            if any(isinstance(v, DynamicList) for v in values) and any(v is not env0.get(n) for v in values) \
                    and not all(v is values[0] for v in values):
                self.env[n] = Unmerged(n)
            elif all(isinstance(v, DynamicList) and v is values[0] for v in values):
                self.env[n] = values[0]


def _plain(t: Type) -> Type:
    return t.with_(ones=tuple(t.one(k) for k in range(t.ndim))) if t.ndim else t


def _kind(t: Type) -> str:
    return f"{t.kind} numbers" if not t.ndim else f"{t.ndim}-D {t.dtype} arrays"


# -- checks of the whole program --------------------------------------------------------------------
def check_lists(body: Region, fail: Any) -> None:
    """Refuse, at the append, an array written after it was appended (the list holds the array
    itself: the reverse sweep would give the append the adjoint of the array as it was appended);
    and a read typed before the last append changed the items' type.  ``fail(loc, message, hint)``."""
    lists = {op.out: op for op in walk(body) if op.prim == "list"}
    if not lists:
        return
    memory = Memory(Program("check", [], body))
    for op in walk(body):
        if op.prim == "push" and op.args[0] in lists:
            item, kind = op.args[1], lists[op.args[0]].param("item").kind
            if isinstance(item, Const) and item.type.kind != kind:  # `hs = [0]`, then floats appended
                op.args[1] = Const(float(item.value))
            elif item.type.kind != kind:
                raise fail(op.loc, f"`{op.args[0].hint}` holds {kind} numbers, and this appends {item.type.kind} "
                                   "ones", "append numbers of one kind from the start (`float(n)`)")
            if isinstance(item, Var) and memory.written_after(op, item):
                raise fail(op.loc, f"an array appended to `{op.args[0].hint}` is written after the append (the list "
                                   "holds the array itself, and adc does not follow writes into it)",
                           "append a copy: `hs.append(h.copy())`, or write before appending")
        elif op.prim in ("list_get", "stack_list") and op.args[0] in lists:
            if op.param("item") != lists[op.args[0]].param("item"):
                raise fail(op.loc, f"the items of `{op.args[0].hint}` change type after this read (adc types "
                                   "each read by the items appended before it)",
                           "append items of one type from the start (`0.0`, not `0`; arrays of one shape kind)")

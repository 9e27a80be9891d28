"""Front end, lists the function builds: ``hs = []`` then ``hs.append(h)`` (or ``hs.extend(t)``).

Input: libcst expression statements and ``for`` loops, lowered by the ``Lowerer`` this class is
mixed into.  Output: nothing in the IR.  A list is a front-end value whose length is known while
compiling (like a tuple); ``append`` rebinds its name to the longer list.  So a list may grow in
straight-line code, in branches that append the same number of items, and in loops adc unrolls:
loops over containers and ``for`` loops over ``range`` with constant bounds that append to a list
made before them.  Anything else that would make the length depend on data (a ``while``, a
``range(n)`` with ``n`` known only at run time), and any append that Python would make visible
through another name (an alias, a helper's parameter), is refused at the call.
"""
from __future__ import annotations

from typing import Any

import libcst as cst

from .frontend_values import children, is_structured

Value = Any
GROW = ("append", "extend")


class ListValue(tuple):
    """A list made by the function being lowered (``[]``, ``[a, b]``, a list comprehension,
    ``list(...)``): ``maker`` is the lowerer that made it, ``depth`` the loop depth it was made at."""

    maker: Any
    depth: int


def make_list(items: Any, maker: Any) -> ListValue:
    out = ListValue(items)
    out.maker, out.depth = maker, maker.loop_depth
    return out


def same_kind(old: Value, new: Value) -> Value:
    """``new`` (merged where paths meet) as a list again if ``old`` was one."""
    if not isinstance(old, ListValue):
        return new
    out = make_list(new, old.maker)
    out.depth = old.depth
    return out


def _growth(node: cst.CSTNode) -> tuple[str, cst.Call] | None:
    """``(name, call)`` when ``node`` is the statement ``name.append(...)`` / ``name.extend(...)``."""
    call = node.value if isinstance(node, cst.Expr) else None
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value in GROW \
            and isinstance(call.func.value, cst.Name):
        return call.func.value.value, call
    return None


def _holds(value: Value, target: ListValue) -> bool:
    return value is target or (is_structured(value) and any(_holds(c, target) for c in children(value)))


class ListStatements:
    """Mixin for ``Lowerer``: growing lists, and unrolling the loops that grow them."""

    env: dict[str, Value]
    loop_depth: int

    def grow_list(self, node: cst.Expr) -> bool:
        """Lower ``name.append(v)`` / ``name.extend(t)`` if ``node`` is one (else ``False``)."""
        found = _growth(node)
        if found is None or found[0] not in self.env:
            return False
        name, call = found
        value, how = self.env[name], call.func.attr.value
        if not isinstance(value, tuple):
            return False  # an array's method (no `append`): the effects' message
        text = f"`{name}.{how}(...)`"
        if not isinstance(value, ListValue) or value.maker is not self:
            raise self.fail(call, f"{text}: `{name}` is not a list made in this function (`{name} = []`, a list "
                                  "display or comprehension); the function that made it would see the append",
                            f"make the list in the function that appends (or return the new list), or build it "
                            f"with a comprehension: `{name} = [f(v) for v in ...]`")
        if self.loop_depth > value.depth:
            raise self.fail(call, f"{text} in a loop adc does not unroll: the length of `{name}` would depend on "
                                  "the data (adc unrolls loops over lists, tuples and dicts, and `for` loops over "
                                  "`range` with constant bounds)",
                            f"loop over range(<constant>), or preallocate an array (`{name} = np.zeros((n, ...))`) "
                                  f"and write `{name}[i] = v` in the loop")
        others = [n for n, v in self.env.items() if n != name and _holds(v, value)]
        if others:
            raise self.fail(call, f"{text}: `{others[0]}` refers to the same list, and adc's lists are values",
                            f"append and read the list through one name, or copy it where the two may differ: "
                            f"`{name} = list({others[0]})`")
        args = call.args
        if len(args) != 1 or args[0].keyword is not None or args[0].star:
            raise self.fail(call, f"list.{how}() takes one argument", "pass one value")
        item = self.expr(args[0].value)
        if how == "extend" and not isinstance(item, tuple):
            raise self.fail(args[0].value, "list.extend() of something that is not a list or tuple",
                            f"append the value: `{name}.append(...)`")
        self.env[name] = same_kind(value, value + (item if how == "extend" else (item,)))
        return True

    def grows_outer_list(self, body: cst.CSTNode) -> bool:
        """Does a loop body append to a list made before the loop?"""
        found: list[str] = []

        class Find(cst.CSTVisitor):
            def visit_Expr(self, node: cst.Expr) -> None:
                growth = _growth(node)
                if growth is not None:
                    found.append(growth[0])

        body.visit(Find())
        return any(isinstance(self.env.get(n), ListValue) for n in found)

"""Front end, containers: dicts, namedtuples, dataclass instances, lists and tuples inside the
differentiated function (the pytree model: ``params['W']``, ``cfg.scale``, ``for W, b in layers``).

Input: libcst expressions whose values are ``Record`` or tuple values (built from tree arguments,
tuple literals and unpacking), lowered by the ``Lowerer`` this class is mixed into.  Output: the
values inside them; nothing is emitted, since a container's structure is known when the function
is specialised.  Loops over containers are unrolled (their length is part of the structure).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import libcst as cst

from .controlflow import Flow, _find
from .frontend_lists import UNROLL_APPENDS, DynamicList, ListIteration, RunTimeLength, make_list
from .frontend_values import Record, children
from .ir import Const, Region, Var
from .prims import evaluate
from .trees import LEAF, TreeDef, TreeType, leaf_hints

Value = Any


@dataclass(frozen=True)
class RecordMethod:
    """``d.items``, ``d.keys`` or ``d.values`` of a dict value."""

    name: str
    record: Record


@dataclass(frozen=True)
class SequenceFn:
    """``zip`` or ``reversed``: usable as the iterable of a loop over lists and tuples."""

    name: str


SEQUENCE_BUILTINS = {zip: SequenceFn("zip"), reversed: SequenceFn("reversed"), sum: SequenceFn("sum"),
                     list: SequenceFn("list"), tuple: SequenceFn("tuple")}


def tree_value(tree: TreeDef, leaves: Sequence[Value]) -> Value:
    """The front-end value of a tree argument whose leaves are ``leaves`` (tuples for lists and
    tuples, records for dicts, namedtuples and dataclass instances)."""
    it = iter(leaves)

    def build(t: TreeDef) -> Value:
        if t.kind == "leaf":
            return next(it)
        items = tuple(build(c) for c in t.children)
        return items if t.kind in ("list", "tuple") else Record(t.kind, t.keys, items, t.cls)

    return build(tree)


def tree_params(name: str, t: TreeType) -> tuple[Value, list[Var]]:
    """One input per leaf of a tree parameter (named ``params_W`` ...) and the value they form."""
    inputs = [Var(hint=h, type=lt) for h, lt in zip(leaf_hints(t.tree, name), t.leaves)]
    return tree_value(t.tree, inputs), inputs


def tree_of(skel: Any) -> TreeDef:
    """The ``TreeDef`` of a value's skeleton (how the API rebuilds a returned container; lists
    built inside the function are tuples)."""
    if skel == "leaf":
        return LEAF
    if skel[0] == "tuple":
        return TreeDef("tuple", (), tuple(tree_of(s) for s in skel[1]))
    _, kind, keys, cls, subs = skel
    return TreeDef(kind, keys, tuple(tree_of(s) for s in subs), cls)


def is_container(value: Value) -> bool:
    return isinstance(value, (tuple, Record))


@dataclass(frozen=True)
class NextItem:
    """A marker in a statement list: the iterations ``items`` of the unrolled loop ``node`` come next."""

    node: cst.For
    items: tuple[Value, ...]


class ContainerExpressions:
    """Mixin for ``Lowerer``: reading containers, and loops over them."""

    b: Any

    def container_subscript(self, base: Value, node: cst.Subscript) -> Value:
        """``t[0]``, ``t[1:]``, ``params['W']``: a constant index into a tuple, list or dict."""
        if len(node.slice) != 1:
            raise self.fail(node, "a tuple, list or dict takes one index", "index it with one constant")
        part = node.slice[0].slice
        if isinstance(part, cst.Slice):
            bounds = [None if p is None else self.constant_int(p) for p in (part.lower, part.upper, part.step)]
            if not isinstance(base, tuple):
                raise self.fail(node, f"slicing {base.what}", "index it by key")
            return base[slice(*bounds)]
        folded = self.static_value(part.value)  # t[-1], t[len(t) - 1]: folded while compiling
        key_value = Const(folded) if type(folded) is int else self.expr(part.value)
        if isinstance(base, Record) and base.kind == "dict":
            if not isinstance(key_value, str):
                raise self.fail(part, "a dict is indexed by a string constant here",
                                "write the key, e.g. params['W'], or loop over params.items()")
            if key_value not in base.keys:
                raise self.fail(node, f"the dict has no key {key_value!r} (its keys: "
                                      f"{', '.join(map(repr, base.keys))})", "use one of its keys")
            return base.get(key_value)
        items = children(base)
        if not (isinstance(key_value, Const) and type(key_value.value) is int):
            raise self.fail(node, "a tuple can only be indexed by a constant",
                            "unpack it instead, or loop over it with `for item in t:`")
        try:
            return items[key_value.value]
        except IndexError:
            raise self.fail(node, "tuple index out of range", f"the tuple has {len(items)} elements") from None

    def constant_int(self, node: cst.BaseExpression) -> int:
        value = self.static_value(node)
        if type(value) is not int:
            raise self.fail(node, "a slice of a tuple or list needs constant bounds", "use integer literals")
        return value

    def static_value(self, node: cst.BaseExpression) -> Any:
        """The value of an expression computed from constants only (``-1``, ``len(layers) - 1``,
        ``k != 0``), evaluated while compiling; ``None`` if it reads data."""
        with self.b.into(Region()) as trial:
            value = self.expr(node)
        env: dict[Var, Any] = {}
        for op in trial.ops:
            if op.regions or not all(isinstance(a, Const) or a in env for a in op.args):
                return None
            args = [a.value if isinstance(a, Const) else env[a] for a in op.args]
            env[op.out] = evaluate(op.prim, args, dict(op.params))
        if isinstance(value, Const):
            return value.value
        return env.get(value) if isinstance(value, Var) else None

    def dict_display(self, node: cst.Dict) -> Record:
        """``{"pred": p, "loss": l}``: a dict with string keys (``**`` unpacking is not read)."""
        keys: list[str] = []
        values: list[Value] = []
        for el in node.elements:
            if not isinstance(el, cst.DictElement):
                raise self.fail(el, "unsupported construct: `**` in a dict display", "write each key")
            key = self.expr(el.key)
            if not isinstance(key, str):
                raise self.fail(el.key, "a dict key must be a string here", "use string keys, e.g. {'loss': l}")
            value = self.expr(el.value)
            if key in keys:
                values[keys.index(key)] = value
            else:
                keys.append(key)
                values.append(value)
        return Record("dict", tuple(keys), tuple(values))

    def record_attribute(self, base: Record, attr: str, node: cst.Attribute) -> Value:
        if base.kind == "dict":
            if attr in ("items", "keys", "values"):
                return RecordMethod(attr, base)
            raise self.fail(node, f"unsupported dict attribute `.{attr}`", "index the dict (`d['key']`) or use "
                                                                           "d.items(), d.keys(), d.values()")
        if attr not in base.keys:
            raise self.fail(node, f"{base.what} has no field `{attr}` (its fields: {', '.join(base.keys)})",
                            "use one of its fields")
        return base.get(attr)

    def record_method(self, method: RecordMethod, args: list[Value], node: cst.Call) -> tuple[Value, ...]:
        if args:
            raise self.fail(node, f"dict.{method.name}() takes no arguments", f"write d.{method.name}()")
        rec = method.record
        if method.name == "keys":
            return rec.keys
        if method.name == "values":
            return rec.values
        return tuple(zip(rec.keys, rec.values))

    def sequence_items(self, value: Value, node: cst.CSTNode) -> tuple[Value, ...]:
        """What a loop over a container visits: a tuple's or list's items, a dict's keys, a
        namedtuple's or dataclass's values."""
        if isinstance(value, tuple):
            return value
        if isinstance(value, Record):
            return value.keys if value.kind == "dict" else value.values
        raise self.fail(node, "zip() and reversed() are supported over lists and tuples, not arrays",
                        "loop over range(len(x)) and index the arrays")

    def sequence_call(self, name: str, args: list[Value], node: cst.Call) -> Value:
        """``zip(a, b)``, ``reversed(a)``, ``enumerate(a)``, ``list(a)``, ``tuple(a)`` of lists
        and tuples (a tuple), and ``sum(a)``, ``sum(a, start)`` (the items added left to right)."""
        if any(isinstance(a, DynamicList) for a in args):
            return self.sequence_of_lists(name, args, node)
        if name == "sum":
            if not 1 <= len(args) <= 2 or not is_container(args[0]):
                raise self.fail(node, "sum() of something that is not a list, tuple or generator expression",
                                "use np.sum(x) for an array")
            total = args[1] if len(args) == 2 else Const(0)
            for item in self.sequence_items(args[0], node):
                total = self.binary("add", total, item, node)
            return total
        if not args:
            raise self.fail(node, f"{name}() needs a list or tuple")
        seqs = [self.sequence_items(v, node) for v in args]
        if name == "zip":
            return tuple(zip(*seqs))
        if len(seqs) != 1:
            raise self.fail(node, f"{name}() takes one list or tuple here")
        if name == "reversed":
            return tuple(reversed(seqs[0]))
        if name in ("list", "tuple"):
            return make_list(seqs[0], self) if name == "list" else tuple(seqs[0])
        return tuple((Const(k), v) for k, v in enumerate(seqs[0]))

    def comprehension(self, node: cst.ListComp | cst.GeneratorExp) -> Value:
        """``[f(w) for w in ws if c]`` and ``(f(w) for w in ws)`` over containers or ``range``
        with constant bounds: unrolled into a tuple (the loop variables do not leak, as in
        Python), when every filter is decidable while compiling (it tests the items' structure or
        constant indices, not data).  Otherwise (``range(n)``, an array, a filter on data) a list
        whose length is known only at run time (``frontend_lists.py``)."""
        saved = dict(self.env)
        try:
            items: list[Value] | None = []
            with self.b.into(Region()) as trial:
                try:
                    self.unroll_clauses(node.for_in, node.elt, items)
                except RunTimeLength:
                    items = None
            if items is None:
                self.env = dict(saved)
                return self.dynamic_comprehension(node)
            self.b.region.ops.extend(trial.ops)
            return make_list(items, self) if isinstance(node, cst.ListComp) else tuple(items)
        finally:
            self.env = saved

    def unroll_clauses(self, clause: cst.CompFor, element: cst.BaseExpression, out: list[Value]) -> None:
        if clause.asynchronous is not None:
            raise self.unsupported(clause)
        for item in self.comprehension_items(clause.iter):
            with self.b.at(self.loc(clause)):
                self.assign(clause.target, item)
            if not all(self.static_truth(cond.test) for cond in clause.ifs):
                continue
            if clause.inner_for_in is not None:
                self.unroll_clauses(clause.inner_for_in, element, out)
            else:
                out.append(self.expr(element))

    def comprehension_items(self, it: cst.BaseExpression) -> tuple[Value, ...]:
        items, value, call_args = self.static_iterable(it)
        if items is not None:
            return items
        items = self.constant_range(it)
        if items is not None and (len(items) <= UNROLL_APPENDS or not self.can_make_dynamic()):
            return items
        raise RunTimeLength()

    def constant_range(self, it: cst.BaseExpression) -> tuple[Const, ...] | None:
        """The indices of ``range(...)`` with bounds known while compiling, else ``None``."""
        if not (isinstance(it, cst.Call) and getattr(self.expr(it.func), "name", None) == "range"
                and 1 <= len(it.args) <= 3 and not any(a.keyword or a.star for a in it.args)):
            return None
        bounds = [self.static_value(a.value) for a in it.args]
        if not all(type(b) is int for b in bounds) or bounds[-1] == 0 and len(bounds) == 3:
            return None
        return tuple(Const(k) for k in range(*bounds))

    def static_truth(self, test: cst.BaseExpression) -> bool:
        """The value of a filter computed from constants only (``len(layers) > 1``, ``k != 0``),
        evaluated while compiling (``RunTimeLength`` if it reads data)."""
        value = self.static_value(test)
        if value is None:
            raise RunTimeLength()
        return bool(value)

    def static_iterable(self, it: cst.BaseExpression) -> tuple[tuple[Value, ...] | None, Value, list[Value] | None]:
        """The items of a loop's iterable when it is a container (the loop is unrolled), else
        ``None`` and what was lowered to find out: the iterable's value, or the arguments of its
        ``enumerate(...)`` call (so nothing is lowered twice)."""
        if isinstance(it, cst.Call) and not any(a.keyword or a.star for a in it.args):
            func = self.expr(it.func)
            if isinstance(func, (RecordMethod, SequenceFn)):
                value = self.call(it)
                return (None, value, None) if isinstance(value, ListIteration) else (value, None, None)
            if getattr(func, "name", None) == "enumerate" and len(it.args) == 1:
                values = [self.expr(it.args[0].value)]
                if is_container(values[0]):
                    return self.sequence_call("enumerate", values, it), None, None
                return None, None, values
            return None, None, None
        if isinstance(it, (cst.Name, cst.Attribute, cst.Subscript, cst.Tuple, cst.List)):
            value = self.expr(it)
            return (self.sequence_items(value, it) if is_container(value) else None), value, None
        return None, None, None

    def unrolled_for(self, node: cst.For, items: Sequence[Value], rest: Sequence[Any] = (),
                     what: str = "a loop over a list, tuple or dict") -> Flow:
        """A loop over a container (or ``what`` else adc unrolls): the body once per item, in order.
        A ``return`` in the body makes the later iterations and ``rest`` (the statements after the
        loop) its continuation, lowered as one block (so the flow is ``done``)."""
        if node.orelse is not None:
            raise self.fail(node.orelse, "unsupported construct: for/else", "use a flag variable instead")
        found = _find(list(node.body.body))
        if found.breaks or found.continues:
            raise self.fail(node, f"`break` or `continue` in {what}",
                            "adc unrolls this loop; use an `if` in the body (`return` works)")
        if found.returns:
            flow = self.block([NextItem(node, tuple(items)), *rest])
            flow.done = True
            return flow
        for item in items:
            with self.b.at(self.loc(node)):
                self.assign(node.target, item)
            self.block(list(node.body.body))
        return Flow()

    def next_item(self, step: "NextItem", rest: Sequence[Any]) -> Flow:
        """The next iteration of an unrolled loop with a ``return``: its body, then the iterations
        after it, then ``rest``."""
        if not step.items:
            return self.block(list(rest))
        with self.b.at(self.loc(step.node)):
            self.assign(step.node.target, step.items[0])
        return self.block([*step.node.body.body, NextItem(step.node, step.items[1:]), *rest])

"""Front end, NumPy arrays: indexing and slicing, array construction, reductions, linear algebra
and shape functions, as functions (``np.sum(x, axis=1)``) or methods (``x.sum(axis=1)``, ``x.T``).

Input: libcst expressions lowered by the ``Lowerer`` this class is mixed into.  Output: ops of the
array primitives (``adc/prims/``), with ``axis``/``keepdims`` and index
descriptions as op parameters.
"""
from __future__ import annotations

from typing import Any, Sequence

import libcst as cst
import numpy as np

from .frontend_library import LIBRARY, LibraryCalls
from .frontend_lists import DynamicList
from .frontend_values import Record, leaves
from .ir import Atom, Const, Op, Var, first_carried
from .memory import is_view
from .prims import PRIMS, get, lexicon
from .prims.shapes import transpose_params


class NoneIndex:
    """``None`` / ``np.newaxis`` inside an index."""


NONE = NoneIndex()

# the lexicon, generated from the primitives' names: np.<name> → handler, x.<name>(...) → handler, and
# how many positional arguments (the array of a method counted) each handler takes
NUMPY_FUNCTIONS = lexicon.numpy_functions()
ARRAY_METHODS = lexicon.array_methods()
ARITY = lexicon.arities()
PERMUTATIONS = lexicon.handlers_of("transpose")


class ArrayExpressions(LibraryCalls):
    """Mixin for ``Lowerer``: array expressions."""

    b: Any

    # -- indexing ------------------------------------------------------------------------------
    def index_spec(self, node: cst.Subscript, arr: Var) -> tuple[tuple[Any, ...], list[Atom], bool, tuple[int, ...]]:
        """The index description, its arguments, whether it picks one element, and the positions of
        the slices that have at most one element (``unit_slice``)."""
        spec: list[Any] = []
        atoms: list[Atom] = []
        units: list[int] = []
        scalar_ints = 0
        for el in node.slice:
            if isinstance(el.slice, cst.Slice):
                parts = [el.slice.lower, el.slice.upper, el.slice.step]
                present = []
                bounds: list[Atom | None] = []
                for part in parts:
                    if part is None:
                        present.append(False)
                        bounds.append(None)
                        continue
                    atom = self.index_atom(self.expr(part), part)
                    if part is el.slice.step and isinstance(atom, Const) and atom.value == 0:
                        raise self.fail(part, "slice step cannot be zero", "use a nonzero step, e.g. x[::2]")
                    atoms.append(atom)
                    bounds.append(atom)
                    present.append(True)
                if unit_slice(el.slice, *bounds):
                    units.append(len(spec))
                spec.append(("s", *present))
                continue
            value = self.expr(el.slice.value)
            value = self.listed(value, el.slice.value)  # x[[0, 2]]: an integer-array index
            values = value if isinstance(value, tuple) else (value,)
            for v in values:
                if v is NONE:
                    spec.append("n")
                    continue
                atom = self.index_atom(v, el)
                spec.append("i")
                atoms.append(atom)
                if not atom.type.is_array:
                    scalar_ints += 1
                elif atom.type.kind == "bool":  # a mask takes as many axes as it has
                    scalar_ints -= atom.type.ndim
        masks = sum(a.type.ndim - 1 for a in atoms if a.type.kind == "bool" and a.type.is_array)
        consumed = sum(1 for e in spec if e != "n") + masks
        if consumed > arr.type.ndim:
            raise self.fail(node, f"too many indices for a {arr.type.ndim}-D array",
                            f"index with at most {arr.type.ndim} integers or slices")
        single = scalar_ints == arr.type.ndim and len(spec) == scalar_ints
        return tuple(spec), atoms, single, tuple(units)

    def index_atom(self, value: Any, node: cst.CSTNode) -> Atom:
        atom = self.scalar(value, node)
        if atom.type.kind not in ("int", "bool"):
            raise self.fail(node, "array index must be an integer", "convert it with int(...)")
        return atom

    def subscript(self, node: cst.Subscript) -> Any:
        base = self.expr(node.value)
        if isinstance(base, (tuple, Record)):
            return self.container_subscript(base, node)
        if isinstance(base, DynamicList):
            return self.list_subscript(base, node)
        arr = self.array_value(base, node.value)
        spec, atoms, single, units = self.index_spec(node, arr)
        return self.b.emit("getitem", arr, *atoms, params=index_params(spec, units))

    def store(self, target: cst.Subscript, value: Any) -> None:
        base = self.expr(target.value)
        if isinstance(base, DynamicList):
            raise self.fail(target, f"assigning to an item of {base.describe()}",
                            f"append the new value, or build an array (`np.stack({base.name})`) and write into it")
        arr = self.array_value(base, target.value)
        if arr not in self.owned and not self.fresh_array(arr):
            raise self.unwritable(target, arr, "writing into")
        self.check_carried_alias(target, arr)
        spec, atoms, single, units = self.index_spec(target, arr)
        v = self.scalar(value, target)
        params = index_params(spec, units)
        slot = get("getitem").result_type([arr.type, *(a.type for a in atoms)], {"index": spec, **dict(params)})
        if v.type.ndim > slot.ndim:
            raise self.fail(target, f"assigning a {v.type.ndim}-D array to a {slot.ndim}-D "
                                    f"{'element' if not slot.ndim else 'part'} of `{self.src_text(target.value)}`",
                            "index the value down to the target's shape, or write a slice of the same rank")
        self.b.append(Op("setitem", [arr, *atoms, v], [], params))

    def copy_written_arguments(self) -> bool:
        """Writes into an argument array (``x[0] = v``, ``x[i] += v``, ``np.add.at(x, ...)``) act on
        a copy made on entry, as if the function began with ``x = x.copy()``: the caller's array is
        never modified, and a view taken before the write sees it, as it would see the copy's.
        Returns whether some argument is copied."""
        copied = False
        for name, node in written_arrays(self.src.node).items():
            value = self.env.get(name)
            if isinstance(value, Var) and value.type.is_array and value not in self.owned:
                with self.b.at(self.loc(node)):
                    copy = self.b.emit("acopy", value, hint=name)
                self.owned.add(copy)
                self.env[name] = copy
                copied = True
        return copied

    def unwritable(self, node: cst.CSTNode, arr: Var, what: str) -> Exception:
        """The located error for ``what`` (``writing into``, ``np.add.at() into``) an array adc
        cannot write into: one a branch or loop merges (it may share memory with another name),
        or one the function did not create."""
        op = self.b.defs.get(arr)
        if op is not None and op.regions:
            return self.fail(node, f"{what} an array that a branch or loop rebinds (where the paths meet it may "
                                   "share memory with another name)",
                             "copy it after the branch or loop (`y = y.copy()`), then write into the copy")
        if arr in self.carried_from:
            return self.fail(node, f"{what} an array the loop carries from one iteration to the next (it may share "
                                   "memory with another name there)",
                             "copy it first in the loop's body (`y = y.copy()`), then write into the copy")
        return self.fail(node, f"{what} an array the function did not create (a view, a global, or an argument "
                               "reached through another name)", "copy it first: `y = x.copy()`, then write into `y`")

    def check_in_place(self, node: cst.AugAssign) -> None:
        """``a += v`` on an array name changes the array in place in Python; adc rebinds ``a`` to
        the new array, which is the same only when no other name, container or view shows that
        memory (also through a loop that carries ``a`` or a branch that chose it).  Refuse the
        others (a silently different derivative otherwise)."""
        target = node.target
        arr = self.env.get(target.value) if isinstance(target, cst.Name) else None
        if not (isinstance(arr, Var) and arr.type.is_array):
            return
        text = f"`{self.src_text(node).strip()}`"
        hint = _new_array(node, "or copy it first (`y = x.copy()`) and update the copy")
        op = self.b.defs.get(arr)
        if op is not None and is_view(op):
            raise self.fail(node, f"{text} changes in place `{target.value}`, a view of another array, which "
                                  "changes too: adc cannot follow that", hint)
        memory = self.memory_of(arr)
        if memory & self.held_by_lists or any((d := self.b.defs.get(v)) is not None and d.prim == "list_get" for v in memory):
            raise self.fail(node, f"{text} changes in place `{target.value}`, an array a list holds, which "
                                  "changes too: adc cannot follow that", hint)
        scope: Any = self
        rebound = {target.value}  # names that no longer show the old array once the statement is done
        while scope is not None:  # this function's names, then its callers' (an inlined helper's)
            if memory & scope.kept_params:
                raise self.fail(node, f"{text} changes in place `{target.value}`, an argument of a function adc "
                                      "keeps as a function: the caller's array changes too", hint)
            for name, value in scope.env.items():
                if name not in rebound and any(
                        isinstance(v, Var) and v.type.is_array and memory & self.memory_of(v) for v in leaves(value)):
                    raise self.fail(node, f"{text} changes in place the array `{target.value}` shares with "
                                          f"`{name}`, which changes too: adc cannot follow that", hint)
            rebound = scope.caller_rebinds  # `w = step(w, g)`: the caller's `w` is the result next
            scope = scope.outer

    def check_carried_alias(self, node: cst.CSTNode, arr: Var) -> None:
        """Refuse writing into ``arr`` where another name holds a value a loop carries that may be
        the same array (``y = y0`` before the loop, ``y0[0] = s`` and ``y = y * 3.0`` in it: the
        write changes ``y`` in the first iteration only), which the reverse sweep cannot follow."""
        memory: set[Var] | None = None
        scope: Any = self
        while scope is not None:  # this function's names, then its callers' (an inlined helper's)
            for name, value in scope.env.items():
                for v in leaves(value):
                    if not (isinstance(v, Var) and v is not arr and v in self.carried_from and v.type.is_array):
                        continue
                    memory = self.memory_of(arr) if memory is None else memory
                    if memory & self.memory_of(v):
                        raise self.fail(node, f"writing into `{self.src_text(node.value)}`, which `{name}` may also "
                                              "show: a loop carries it, so the two share memory in some iterations "
                                              "only, and adc cannot follow that",
                                        f"copy it where the names start to share it (`{name} = "
                                        f"{self.src_text(node.value)}.copy()`), or write through `{name}`")
            scope = scope.outer

    def check_carried_in_place(self, body: Sequence[cst.CSTNode], slots: dict[str, list[Any]]) -> None:
        """After a loop body: refuse ``a += v`` in it when the values its carried names pass to the
        next iteration may share memory (``b = a`` in one iteration, ``a += x`` in the next changes
        ``b`` too in Python)."""
        updated = {n.target.value: n for n in _augmented(body) if isinstance(n.target, cst.Name)}
        if not updated:
            return
        memory = {name: set().union(*(self.memory_of(v) for v in values if isinstance(v, Var) and v.type.is_array))
                  for name, values in slots.items()}
        for name, node in updated.items():
            other = next((o for o, m in memory.items() if o != name and memory.get(name, set()) & m), None)
            if other is not None:
                raise self.fail(node, f"`{self.src_text(node).strip()}` changes in place the array `{name}`, which "
                                      f"`{other}` also holds from one iteration to the next: adc cannot follow that",
                                _new_array(node, f"or copy it where the names start to share it (`{other} = {name}.copy()`)"))

    def memory_of(self, arr: Var) -> set[Var]:
        """The values whose memory ``arr`` may be: itself, what it is a view of, what a loop
        carrying it started as, what a branch or loop result may be."""
        found: set[Var] = set()
        todo = [arr]
        while todo:
            v = todo.pop()
            if not isinstance(v, Var) or v in found:
                continue
            found.add(v)
            op = self.b.defs.get(v)
            if op is None:
                todo.append(self.carried_from.get(v))  # type: ignore[arg-type]
            elif is_view(op) and op.args:
                todo.append(op.args[0])  # type: ignore[arg-type]
            elif op.prim == "if":
                k = op.outs.index(v)
                todo += [r.yields[k] for r in op.regions if k < len(r.yields)]  # type: ignore[misc]
            elif op.prim in ("for", "while"):
                k = op.outs.index(v) + first_carried(op)
                todo += op.args[k:k + 1]  # type: ignore[misc]
        return found

    def fresh_array(self, arr: Var) -> bool:
        """Made by arithmetic here (``a * 2``, ``a @ b``): a new array, not an argument or a view."""
        op = self.b.defs.get(arr)
        return op is not None and not op.regions and not is_view(op)

    # -- calls -----------------------------------------------------------------------------------
    def keywords(self, node: cst.Call, allowed: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for arg in node.args:
            if arg.keyword is None:
                continue
            name = arg.keyword.value
            if name not in allowed:
                raise self.fail(arg, f"unsupported keyword argument `{name}`",
                                f"supported here: {', '.join(allowed) or 'none'}")
            found[name] = self.static(self.literal(arg.value), arg.value)
        return found

    def literal(self, node: cst.BaseExpression) -> Any:
        """A keyword argument's value; negative literals (``axis=-1``, ``ord=-np.inf``) stay constants."""
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) \
                and isinstance(node.expression, cst.Integer):
            return Const(-int(node.expression.value, 0))
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):  # ord=-np.inf
            inner = self.literal(node.expression)
            if isinstance(inner, Const) and isinstance(inner.value, float):
                return Const(-inner.value)
        if isinstance(node, cst.Tuple):
            return tuple(self.literal(el.value) for el in node.elements)
        return self.expr(node)

    def static(self, value: Any, node: cst.CSTNode) -> Any:
        """A compile-time constant (``axis=1``, ``keepdims=True``)."""
        if value is NONE:
            return None
        if isinstance(value, Const):
            return value.value
        if isinstance(value, str):  # ord="fro"
            return value
        if isinstance(value, tuple):
            return tuple(self.static(v, node) for v in value)
        raise self.fail(node, "this argument must be a constant", "write a literal such as axis=1")

    def array_call(self, name: str, args: list[Any], node: cst.Call, method_of: Var | None = None) -> Any:
        """``np.<name>(...)`` or ``x.<name>(...)`` (then ``method_of`` is ``x``)."""
        if method_of is not None:
            args = [method_of, *args]
        if any(isinstance(a, DynamicList) for a in args):  # NumPy reads a list as np.array(hs)
            if name in ("stack", "array", "concatenate") and len(args) == 1:
                return self.list_as_array(name, args[0], node)
            args = [self.stacked(a, node) if isinstance(a, DynamicList) else a for a in args]
        low, high = ARITY.get(name, (0, 64))
        if not low <= len(args) <= high:
            what = f"x.{_method_name(name)}()" if method_of is not None else f"np.{_function_name(name)}()"
            count = f"{low}" if low == high else f"{low} to {high}"
            raise self.fail(node, f"{what} takes {count} positional argument{'s' if high > 1 else ''} here "
                                  f"(the array included), got {len(args)}",
                            "pass the arguments NumPy documents, by position (keywords: see docs/arrays.md)")
        if name in COMPOSED:
            return COMPOSED[name](self, args, node)
        if name in PRIMS and get(name).reduces:
            kw = self.keywords(node, ("axis", "keepdims"))
            if "axis" in kw and len(args) == 2:
                raise self.fail(node, "axis given twice", "pass the axis once")
            if len(args) == 2 and "axis" not in kw:
                kw["axis"] = self.static(args.pop(), node)
            if kw.get("axis") is None and self.is_number(args[0]):  # np.sum(2.0): NumPy's one-element array
                return self.reduce(name, self.one_element(args[0], node), None, False, node)
            x = self.array_value(args[0], node)
            return self.reduce(name, x, kw.get("axis"), bool(kw.get("keepdims", False)), node)
        if name in PERMUTATIONS:
            return self.permute(name, args, node, method_of is not None)
        self.keywords(node, ("axis",) if name in ("concatenate", "stack") else ())
        if name == "matmul":
            return self.matmul(args[0], args[1], node)
        if name == "outer":
            return self.b.emit("outer", *[self.array_value(a, node) for a in args])
        if name == "reshape":
            x = self.array_value(args[0], node)
            dims = args[1] if len(args) == 2 and isinstance(args[1], tuple) else tuple(args[1:])
            atoms = [self.scalar(d, node) for d in dims]
            shape = tuple(a.value if isinstance(a, Const) else None for a in atoms)
            return self.b.emit("reshape", x, *atoms, params=(("dims", shape),))
        if name == "ravel":
            return self.b.emit("ravel", self.array_value(args[0], node))
        if name == "flatten":  # always a copy, where ravel is a view when it can be
            return self.construct("acopy", [self.b.emit("ravel", self.array_value(args[0], node))], node)
        if name == "acopy":
            return self.construct("acopy", args[:1], node)
        if name == "where":
            if len(args) != 3:
                raise self.fail(node, "np.where() with one argument (the indices where a condition holds: their "
                                      "number depends on the data)" if len(args) == 1 else
                                f"np.where() takes 3 arguments, got {len(args)}",
                                "adc supports the elementwise choice np.where(condition, x, y); to mask values, "
                                "np.where(condition, values, 0.0) keeps the shape; otherwise compute the indices "
                                "outside the differentiated function")
            c, a, v = [self.scalar(x, node) for x in args]
            return self.b.emit("select", c, a, v)
        if name == "clip":
            return self.b.emit("clip", *[self.scalar(x, node) for x in args])
        if name in ("concatenate", "stack"):
            kw = self.keywords(node, ("axis",))
            if len(args) != 1 or not isinstance(args[0], tuple):
                raise self.fail(node, f"np.{name}() takes a list of arrays", f"write np.{name}([a, b])")
            arrays = [self.array_value(a, node) for a in args[0]]
            if not arrays:
                raise self.fail(node, f"np.{name}() of an empty list", "pass at least one array")
            axis = kw.get("axis", 0)
            if axis is None and name == "concatenate":  # NumPy flattens every array first
                arrays = [a if a.type.ndim == 1 else self.b.emit("ravel", a) for a in arrays]
                axis = 0
            if len({a.type.ndim for a in arrays}) != 1:
                raise self.fail(node, f"np.{name}() of arrays with different numbers of dimensions",
                                "give every array the same number of dimensions (reshape them first)")
            ndim = arrays[0].type.ndim + (1 if name == "stack" else 0)
            (axis,) = self.axes_of((axis,), ndim, node)
            return self.b.emit(name, *arrays, params=(("axis", axis),))
        if name == "array" and len(args) == 1 and isinstance(args[0], Var) and args[0].type.is_array:
            # np.array(x) copies an array, np.asarray(x) is x itself
            return self.construct("acopy", args, node) if _function_name(name) == "array" and \
                self.src_text(node.func).endswith("array") and not self.src_text(node.func).endswith("asarray") else args[0]
        if name == "array":
            if len(args) != 1 or not isinstance(args[0], tuple):
                raise self.fail(node, "np.array() of something other than a list of numbers",
                                "write np.array([a, b, c]) with scalars")
            return self.array_of_items(args[0], node)
        if name == "broadcast_to":  # as adc itself writes it: np.broadcast_to(g, x.shape)
            shape = node.args[1].value
            if not (isinstance(shape, cst.Attribute) and shape.attr.value == "shape"):
                raise self.fail(node, "np.broadcast_to() with a shape other than `x.shape`",
                                "write np.broadcast_to(g, x.shape) or use broadcasting arithmetic")
            return self.b.emit("broadcast", self.scalar(args[0], node), self.array_value(self.expr(shape.value), node))
        if name == "arange":
            return self.b.emit("arange", *[self.scalar(a, node) for a in args])
        if name in PRIMS and get(name).structural:  # np.linalg.inv(a), np.linalg.solve(a, b) ...
            return self.b.emit(name, *[self.array_value(a, node) for a in args])
        raise self.fail(node, f"unsupported NumPy function `{name}`", "see docs/arrays.md for the supported ones")

    def is_number(self, value: Any) -> bool:
        """Is ``value`` a number (a 0-d array is one too, in adc's types)?"""
        return isinstance(value, (Var, Const)) and (value.type is None or not value.type.is_array)

    def one_element(self, number: Any, node: cst.CSTNode) -> Var:
        """The one-element array NumPy reduces a number as (``np.sum(2.0)``, ``np.max(i)``): a
        reduction of it without ``keepdims`` is the reduction of the number (with it, NumPy's 0-d
        array, which adc's types make a number)."""
        return self.array_of_items((number,), node)

    def array_of_items(self, items: tuple[Any, ...], node: cst.Call) -> Var:
        """``np.array([a, b, c])`` of numbers (a new array), of arrays (stacked), or of nested
        lists (``[[x, 0.0], [0.0, x]]``: each row made first, then stacked)."""
        atoms = [self.array_of_items(i, node) if isinstance(i, tuple) else self.scalar(i, node) for i in items]
        if any(a.type.is_array for a in atoms):
            out = self.b.emit("stack", *atoms, params=(("axis", 0),))
        elif all(a.type.kind == "int" and not isinstance(getattr(a, "value", 0), bool) for a in atoms):
            # np.array([0, i]): an integer array, as NumPy makes it (an index)
            out = self.b.emit("pack", *atoms, params=(("dtype", "int64"),))
        else:
            out = self.b.emit("pack", *atoms)
        self.owned.add(out)
        return out

    # -- functions written with other primitives ---------------------------------------------------
    def axis_keywords(self, args: list[Any], node: cst.Call, allowed: Sequence[str]) -> tuple[Var, dict[str, Any]]:
        """The array and the keywords of a reduction-like call; a second positional is ``axis``."""
        kw = self.keywords(node, allowed)
        if len(args) == 2:
            if "axis" in kw:
                raise self.fail(node, "axis given twice", "pass the axis once")
            kw["axis"] = self.static(args.pop(), node)
        return self.array_value(args[0], node), kw

    def variance(self, args: list[Any], node: cst.Call, root: bool) -> Atom:
        """``np.var(x, axis, ddof=0, keepdims)``: ``sum((x - mean)**2) / (n - ddof)``; ``np.std`` its sqrt."""
        number = len(args) == 1 and self.is_number(args[0])  # np.var(2.0): that of a one-element array
        x, kw = self.axis_keywords([self.one_element(args[0], node)] if number else args, node, ("axis", "ddof", "keepdims"))
        if number and kw.get("axis") is not None:
            raise self.fail(node, "an axis of a number (NumPy raises AxisError)", "drop the axis")
        axis, keepdims, ddof = kw.get("axis"), bool(kw.get("keepdims", False)) and not number, kw.get("ddof", 0)
        centred = self.b.sub(x, self.reduce("mean", x, axis, True, node) if axis is not None
                             else self.reduce("mean", x, None, False, node))
        total = self.reduce("sum", self.b.mul(centred, centred), axis, keepdims, node)
        count = self.b.emit("count", x, params=tuple((k, v) for k, v in self.b.defs[total].params if k == "axis"))
        out = self.b.div(total, self.b.sub(count, ddof) if ddof else count)
        return self.b.sqrt(out) if root else out

    def softmax(self, args: list[Any], node: cst.Call, log: bool) -> Atom:
        """``scipy.special.softmax(x, axis)`` as ``exp(x - logsumexp(x))``; ``log_softmax`` without the exp."""
        x, kw = self.axis_keywords(args, node, ("axis",))
        axis = kw.get("axis")
        lse = self.reduce("logsumexp", x, axis, axis is not None, node)
        out = self.b.sub(x, lse)
        return out if log else self.b.exp(out)

    def slogdet(self, args: list[Any], node: cst.Call) -> tuple[Atom, Atom]:
        """``np.linalg.slogdet(a)``: the pair ``(sign(det(a)), logabsdet(a))``."""
        a = self.array_value(args[0], node)
        return self.b.emit("sign", self.b.emit("det", a)), self.b.emit("logabsdet", a)

    # -- issue 10, round 2: products, shapes, construction, linear algebra ----------------------------
    def const_arg(self, args: list[Any], k: int, kw: dict[str, Any], key: str, node: cst.Call, default: Any = None) -> Any:
        """The constant argument ``k`` (positional) or ``key`` (keyword) of a call."""
        if len(args) > k:
            if key in kw:
                raise self.fail(node, f"{key} given twice", f"pass {key} once")
            return self.positional(args, k, node)
        return kw.get(key, default)

    def positional(self, args: list[Any], k: int, node: cst.Call) -> Any:
        """Positional argument ``k`` (the array of a method counted) as a constant: ``-1``, ``'ij->j'``."""
        given = [a.value for a in node.args if a.keyword is None]
        at = k - (len(args) - len(given))
        if 0 <= at < len(given):
            if isinstance(given[at], cst.SimpleString):
                return given[at].evaluated_value
            return self.static(self.literal(given[at]), given[at])
        return self.static(args[k], node)

    def running(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        """``np.cumsum(x, axis)`` / ``np.cumprod``: a flattened array without ``axis``, as NumPy."""
        kw = self.keywords(node, ("axis",))
        x = self.array_value(args[0], node)
        axis = self.const_arg(args, 1, kw, "axis", node)
        if axis is None:
            if x.type.ndim != 1:
                x = self.b.emit("ravel", x)
            return self.b.emit(name, x)
        (axis,) = self.axes_of((axis,), x.type.ndim, node)
        return self.b.emit(name, x, params=(("axis", axis),) if x.type.ndim > 1 else ())

    def ptp(self, args: list[Any], node: cst.Call) -> Atom:
        x, kw = self.axis_keywords(args, node, ("axis", "keepdims"))
        axis, keep = kw.get("axis"), bool(kw.get("keepdims", False))
        return self.b.sub(self.reduce("amax", x, axis, keep, node), self.reduce("amin", x, axis, keep, node))

    def average(self, args: list[Any], node: cst.Call) -> Atom:
        """``np.average(x, axis, weights)``: ``sum(w * x) / sum(w)``, weights shaped like ``x`` (or 1-D along axis)."""
        kw = {k: v for k, v in ((a.keyword.value, a.value) for a in node.args if a.keyword is not None)}
        if set(kw) - {"axis", "weights"}:
            raise self.fail(node, f"unsupported keyword argument of np.average(): {sorted(set(kw) - {'axis', 'weights'})}",
                            "supported here: axis, weights")
        x = self.array_value(args[0], node)
        axis = self.static(self.literal(kw["axis"]), node) if "axis" in kw else (
            self.static(args[1], node) if len(args) > 1 else None)
        if "weights" not in kw:
            return self.reduce("mean", x, axis, False, node)
        w = self.array_value(self.expr(kw["weights"]), node)
        if w.type.ndim != x.type.ndim:
            if w.type.ndim != 1 or axis is None:
                raise self.fail(node, "np.average() weights of another shape than the array, without an axis",
                                "give weights shaped like the array, or 1-D weights with axis=")
            (a,) = self.axes_of((axis,), x.type.ndim, node)
            full = ("s", False, False, False)
            w = self.b.emit("getitem", w, params=(("index", tuple("n" if k != a else full for k in range(x.type.ndim))),))
        total = self.reduce("sum", self.b.mul(w, x), axis, False, node)
        return self.b.div(total, self.reduce("sum", self.b.mul(w, self.b.emit("ones_like", x)), axis, False, node))

    def diagonal(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        kw = self.keywords(node, ("offset", "k"))
        x = self.array_value(args[0], node)
        k = self.const_arg(args, 1, kw, "k" if name == "diag" else "offset", node, 0)
        if not isinstance(k, int):
            raise self.fail(node, "the diagonal's offset must be a constant integer", "write e.g. np.diag(x, 1)")
        params = (("k", k),) if k else ()
        if name == "diag" and x.type.ndim == 1:
            return self.b.emit("diagm", x, params=params)
        if x.type.ndim != 2:
            raise self.fail(node, f"np.{name}() of a {x.type.ndim}-D array", "adc takes diagonals of 2-D arrays")
        d = self.b.emit("diagonal", x, params=params)
        return self.b.emit("sum", d) if name == "trace" else d

    def einsum(self, args: list[Any], node: cst.Call) -> Atom:
        self.keywords(node, ())
        spec = self.positional(args, 0, node)
        operands = [self.array_value(a, node) for a in args[1:]]
        if not isinstance(spec, str):
            raise self.fail(node, "np.einsum() needs constant subscripts", "write e.g. np.einsum('ij,jk->ik', a, b)")
        from .prims.linalg import einsum_parts

        subs, out = einsum_parts(spec)
        if len(operands) == 1 and len(subs) == 1 and len(subs[0]) == 2 and subs[0][0] == subs[0][1] == out \
                and operands[0].type.ndim == 2:  # 'ii->i': NumPy's view of the diagonal
            return self.b.emit("diagonal", operands[0])
        spec, operands = self.einsum_plain(spec, operands)
        subs, out = einsum_parts(spec)
        bad = ("..." in spec or len(subs) != len(operands) or any(len(set(s)) != len(s) for s in subs)
               or len(set(out)) != len(out) or any(not (s.isalpha() and s.isascii()) for s in subs if s)
               or any(len(s) != o.type.ndim for s, o in zip(subs, operands))
               or any(c not in "".join(subs) for c in out))
        if bad:
            raise self.fail(node, f"np.einsum({spec!r}, ...) on {len(operands)} operand(s) of "
                                  f"{', '.join(str(o.type.ndim) for o in operands)} dimensions",
                            "adc supports operands whose subscripts match their dimensions")
        return self.b.emit("einsum", *operands, params=(("spec", spec),))

    def tensordot(self, args: list[Any], node: cst.Call) -> Atom:
        """``np.tensordot(a, b, axes)`` (an integer or a pair of axis lists) as an einsum."""
        kw = self.keywords(node, ("axes",))
        a, c = [self.array_value(v, node) for v in args[:2]]
        axes = self.const_arg(args, 2, kw, "axes", node, 2)
        if isinstance(axes, int):
            pairs = (tuple(range(a.type.ndim - axes, a.type.ndim)), tuple(range(axes)))
        else:
            pairs = tuple(tuple(p) if isinstance(p, tuple) else (p,) for p in axes)
        if len(pairs) != 2 or len(pairs[0]) != len(pairs[1]):
            raise self.fail(node, "np.tensordot() axes must be an integer or two lists of the same length",
                            "write axes=1 or axes=((1,), (0,))")
        pa, pc = self.axes_of(pairs[0], a.type.ndim, node), self.axes_of(pairs[1], c.type.ndim, node)
        letters = iter("abcdefghijklmnopqrstuvwxyz")
        sa = [next(letters) for _ in range(a.type.ndim)]
        sc = [next(letters) for _ in range(c.type.ndim)]
        for i, j in zip(pa, pc):
            sc[j] = sa[i]
        out = "".join(x for k, x in enumerate(sa) if k not in pa) + "".join(x for k, x in enumerate(sc) if k not in pc)
        return self.b.emit("einsum", a, c, params=(("spec", f"{''.join(sa)},{''.join(sc)}->{out}"),))

    def inner(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        self.keywords(node, ())
        a, c = [self.scalar(v, node) for v in args]
        if not a.type.is_array or not c.type.is_array:
            return self.b.mul(a, c)
        if name == "vdot":
            return self.b.emit("matmul", self.b.emit("ravel", a) if a.type.ndim != 1 else a,
                               self.b.emit("ravel", c) if c.type.ndim != 1 else c)
        if name == "inner":
            sa, sc = "abcdefgh"[:a.type.ndim], "ijklmnop"[:c.type.ndim]
            sc = sc[:-1] + sa[-1]
            return self.b.emit("einsum", a, c, params=(("spec", f"{sa},{sc}->{sa[:-1]}{sc[:-1]}"),))
        # kron
        if a.type.ndim != c.type.ndim or a.type.ndim not in (1, 2):
            raise self.fail(node, "np.kron() of arrays of different or more than 2 dimensions",
                            "adc supports np.kron of two 1-D or two 2-D arrays")
        if a.type.ndim == 1:
            return self.b.emit("ravel", self.b.emit("outer", a, c))
        prod = self.b.emit("einsum", a, c, params=(("spec", "ij,kl->ikjl"),))
        dims = [self.b.mul(self.b.emit("shape", a, params=(("dim", d),)), self.b.emit("shape", c, params=(("dim", d),)))
                for d in (0, 1)]
        return self.b.emit("reshape", prod, *dims, params=(("dims", (None, None)),))

    def new_array(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        """``np.eye(n, m, k=0)``, ``np.identity(n)``, ``np.full(shape, v)``, ``np.full_like(x, v)``,
        ``np.linspace(a, b, num)``."""
        kw = self.keywords(node, ("k",) if name == "eye" else ("num",) if name == "linspace" else ())
        if name in ("eye", "identity"):
            out = self.b.emit(name, *[self.scalar(a, node) for a in args], params=(("k", kw["k"]),) if kw.get("k") else ())
        elif name == "full":
            dims = args[0] if isinstance(args[0], tuple) else (args[0],)
            v = self.scalar(args[1], node)
            if v.type.is_array:
                raise self.fail(node, "np.full() with an array fill value", "fill with a number, or use broadcasting")
            atoms = [self.scalar(d, node) for d in dims]
            ones = tuple(self.length_one(a) for a in atoms)
            out = self.b.emit("full", v, *atoms, params=(("ones", ones),))
        elif name == "full_like":
            v = self.scalar(args[1], node)
            if v.type.is_array:
                raise self.fail(node, "np.full_like() with an array fill value", "fill with a number")
            out = self.b.emit("full_like", self.array_value(args[0], node), v)
        else:
            if len(args) + len(kw) != 3:
                raise self.fail(node, "np.linspace() without `num`", "write np.linspace(a, b, num)")
            a, c = [self.scalar(v, node) for v in args[:2]]
            n = self.scalar(args[2], node) if len(args) == 3 else Const(kw["num"])
            if a.type.is_array or c.type.is_array:
                raise self.fail(node, "np.linspace() between arrays", "adc supports ends that are numbers")
            out = self.b.emit("linspace", a, c, n)
        self.owned.add(out)
        return out

    def reshaped_view(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        """``atleast_1d/2d/3d``, ``expand_dims``, ``squeeze``, ``flip``, ``fliplr``, ``flipud``, ``x.item()``:
        one ``getitem`` view (``None`` for a new axis, 0 for a dropped one, step -1 to flip)."""
        kw = self.keywords(node, ("axis",))
        x = self.scalar(args[0], node)
        nd = x.type.ndim
        full = ("s", False, False, False)
        if name.startswith("atleast_"):
            want = int(name[-2])
            if nd >= want:
                return x
            if nd == 0:
                x, nd = self.b.emit("pack", x), 1
                if want == 1:
                    self.owned.add(x)
                    return x
            spec = {(1, 2): ("n", full), (1, 3): ("n", full, "n"), (2, 3): (full, full, "n")}[(nd, want)]
            return self.b.emit("getitem", x, params=(("index", spec),))
        if not x.type.is_array:
            raise self.fail(node, f"{name}() of a number", "pass an array")
        if name == "item":
            return self.b.emit("getitem", self.b.emit("ravel", x), self.sole_index(x, tuple(range(nd)), False))
        axis = self.const_arg(args, 1, kw, "axis", node)
        if name == "expand_dims":  # the new axes' places in the result (NumPy: counted in its ndim)
            added = axis if isinstance(axis, tuple) else (axis,)
            places = self.axes_of(added, nd + len(added), node)
            spec = tuple("n" if k in places else full for k in range(nd + len(added)))
            return self.b.emit("getitem", x, params=(("index", spec),))
        if name == "squeeze":
            axes = (axis if isinstance(axis, tuple) else (axis,)) if axis is not None else \
                tuple(k for k in range(nd) if x.type.one(k))
            axes = self.axes_of(axes, nd, node)
            if axis is None and not axes:
                raise self.fail(node, "np.squeeze() without axis on an array whose length-1 axes are not known "
                                      "while compiling", "name the axis: np.squeeze(x, axis=0)")
            spec = tuple("i" if k in axes else full for k in range(nd))
            first = self.sole_index(x, axes, axis is None)
            return self.b.emit("getitem", x, first, *[0] * (len(axes) - 1), params=(("index", spec),))
        if name in ("fliplr", "flipud"):
            axes = (1,) if name == "fliplr" else (0,)
            if nd < axes[0] + 1:
                raise self.fail(node, f"np.{name}() of a {nd}-D array", "pass an array with enough dimensions")
        else:
            axes = tuple(range(nd)) if axis is None else self.axes_of(axis if isinstance(axis, tuple) else (axis,),
                                                                        nd, node)
        spec = tuple(("s", False, False, True) if k in axes else full for k in range(max(axes) + 1))
        return self.b.emit("getitem", x, *[-1] * len(axes), params=(("index", spec),))

    def sole_index(self, x: Atom, axes: tuple[int, ...], exact: bool) -> Atom:
        """The index 0 of the length-1 ``axes`` of ``x``: a literal where the type knows their length
        (and, with ``exact``, that no other axis has length 1), else ``sole_index``, which checks it
        when the code runs."""
        if all(x.type.one(k) for k in axes) and (not exact or len(axes) == x.type.ndim):
            return 0
        return self.b.emit("sole_index", x, params=(("axes", tuple(axes)), ("exact", exact)))

    def stacks(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        """``np.hstack``, ``np.vstack``, ``np.column_stack``: a ``concatenate`` after NumPy's reshapes."""
        self.keywords(node, ())
        if len(args) != 1 or not isinstance(args[0], tuple) or not args[0]:
            raise self.fail(node, f"np.{name}() takes a list of arrays", f"write np.{name}([a, b])")
        arrays = [self.array_value(a, node) for a in args[0]]
        full = ("s", False, False, False)
        if name == "vstack":
            arrays = [self.b.emit("getitem", a, params=(("index", ("n", full)),)) if a.type.ndim == 1 else a
                      for a in arrays]
            axis = 0
        elif name == "column_stack":
            arrays = [self.b.emit("getitem", a, params=(("index", (full, "n")),)) if a.type.ndim == 1 else a
                      for a in arrays]
            axis = 1
        else:
            axis = 0 if arrays[0].type.ndim == 1 else 1
        if len({a.type.ndim for a in arrays}) != 1:
            raise self.fail(node, f"np.{name}() of arrays with different numbers of dimensions",
                            "give every array the same number of dimensions")
        return self.b.emit("concatenate", *arrays, params=(("axis", axis),))

    def shaped(self, name: str, args: list[Any], node: cst.Call) -> Atom:
        """``np.roll``, ``np.tile``, ``np.repeat``, ``np.triu``, ``np.tril``: constant shifts, counts, offsets."""
        kw = self.keywords(node, ("axis",) if name in ("roll", "repeat") else ("k",) if name in ("triu", "tril") else ())
        x = self.array_value(args[0], node)
        if name in ("triu", "tril"):
            k = self.const_arg(args, 1, kw, "k", node, 0)
            if x.type.ndim != 2 or not isinstance(k, int):
                raise self.fail(node, f"np.{name}() of a {x.type.ndim}-D array or a variable offset",
                                "adc takes triangles of 2-D arrays with a constant k")
            return self.b.emit(name, x, params=(("k", k),) if k else ())
        if name == "tile":
            reps = self.positional(args, 1, node)
            reps = reps if isinstance(reps, tuple) else (reps,)
            if not all(isinstance(r, int) and r >= 1 for r in reps):
                raise self.fail(node, "np.tile() with repetitions that are not constant positive integers",
                                "write e.g. np.tile(x, (2, 1))")
            return self.b.emit("tile", x, params=(("reps", reps),))
        count = self.positional(args, 1, node)
        if not isinstance(count, int) or (name == "repeat" and count < 1):
            raise self.fail(node, f"np.{name}() with a {'shift' if name == 'roll' else 'count'} that is not a "
                                  "constant integer", f"write e.g. np.{name}(x, 2)")
        axis = self.const_arg(args, 2, kw, "axis", node)
        if axis is not None:
            (axis,) = self.axes_of((axis,), x.type.ndim, node)
        key = "shift" if name == "roll" else "repeats"
        return self.b.emit(name, x, params=((key, count),) + ((("axis", axis),) if axis is not None else ()))

    def astype(self, args: list[Any], node: cst.Call) -> Atom:
        self.keywords(node, ())
        target = node.args[0].value
        text = self.src_text(target)
        if text not in ("float", "np.float64", "numpy.float64", "'float64'", '"float64"'):
            raise self.fail(node, f"x.astype({text})", "adc converts to float (x.astype(float)) only")
        return self.construct("acopy", args[:1], node)

    def eigh(self, args: list[Any], node: cst.Call) -> tuple[Atom, Atom]:
        """``np.linalg.eigh(a)``: the pair ``(eigvalsh(a), eigenvectors)``."""
        self.keywords(node, ())
        a = self.array_value(args[0], node)
        return self.b.emit("eigvalsh", a), self.b.emit("eigvecsh", a)

    def matrix_power(self, args: list[Any], node: cst.Call) -> Atom:
        a = self.array_value(args[0], node)
        n = self.positional(args, 1, node)
        if not isinstance(n, int) or a.type.ndim != 2:
            raise self.fail(node, "np.linalg.matrix_power() with a variable exponent or a non-2-D array",
                            "write np.linalg.matrix_power(a, 3) with a constant integer")
        if n == 0:
            return self.b.emit("identity", self.b.emit("shape", a, params=(("dim", 0),)))
        if n < 0:
            a, n = self.b.emit("inv", a), -n
        out, base, first = None, a, True
        while n:  # binary powering: about log2(n) products
            if n & 1:
                out = base if first else self.b.emit("matmul", out, base)
                first = False
            n >>= 1
            if n:
                base = self.b.emit("matmul", base, base)
        return out

    def permute(self, name: str, args: list[Any], node: cst.Call, is_method: bool) -> Any:
        """``np.transpose(x, axes)``, ``x.transpose(1, 0, 2)``, ``np.swapaxes``, ``np.moveaxis``: one
        ``transpose`` op with the axis order as a parameter (none when it reverses all axes)."""
        kw = self.keywords(node, ("axes",) if name == "transpose" else ())
        x = self.array_value(args[0], node)
        given = [a.value for a in node.args if a.keyword is None][0 if is_method else 1:]
        statics = [self.static(self.literal(v), v) for v in given]
        ndim = x.type.ndim
        if name == "transpose":
            if "axes" in kw:
                if statics:
                    raise self.fail(node, "axes given twice", "pass the axis order once")
                statics = [kw["axes"]]
            if len(statics) == 1 and (statics[0] is None or isinstance(statics[0], tuple)):
                statics = list(statics[0]) if statics[0] is not None else []
            axes = self.axes_of(statics, ndim, node) if statics else tuple(reversed(range(ndim)))
            if len(axes) != ndim or sorted(axes) != list(range(ndim)):
                raise self.fail(node, f"axes {tuple(statics)} are not a permutation of the {ndim} axes of x",
                                f"list each of the axes 0..{ndim - 1} once")
        else:
            if len(statics) != 2:
                raise self.fail(node, f"np.{name}() takes an array and two axes")
            a, c = self.axes_of(statics, ndim, node)
            order = list(range(ndim))
            if name == "swapaxes":
                order[a], order[c] = order[c], order[a]
            else:
                order.remove(a)
                order.insert(c, a)
            axes = tuple(order)
        if axes == tuple(range(ndim)):
            return x  # the identity permutation: the array itself
        return self.b.emit("transpose", x, params=transpose_params(axes))

    def axes_of(self, values: Sequence[Any], ndim: int, node: cst.CSTNode) -> tuple[int, ...]:
        """Constant axis numbers, negative ones counted from the end, each once (NumPy refuses a
        repeated axis)."""
        if any(not isinstance(a, int) or isinstance(a, bool) or not -ndim <= a < ndim for a in values):
            what = f"axis {values[0]} is" if len(values) == 1 else f"axes {tuple(values)} are"
            raise self.fail(node, f"{what} out of range for a {ndim}-D array",
                            f"use constant integer axes between {-ndim} and {ndim - 1}")
        axes = tuple(a % ndim for a in values)
        if len(set(axes)) != len(axes):  # (1, -1) of a 2-D array too
            raise self.fail(node, f"axes {tuple(values)} name an axis twice (NumPy raises a ValueError)",
                            "name each axis once")
        return axes

    def reduce(self, name: str, x: Var, axis: Any, keepdims: bool, node: cst.CSTNode) -> Atom:
        if axis is not None:
            norm = self.axes_of(axis if isinstance(axis, tuple) else (axis,), x.type.ndim, node)
            axis = norm if isinstance(axis, tuple) else norm[0]
        params: tuple[tuple[str, Any], ...] = (("axis", axis),) if axis is not None else ()
        if keepdims:
            params += (("keepdims", True),)
        return self.b.emit(name, x, params=params)

    def logical(self, prim: str, args: list[Any], node: cst.Call) -> Atom:
        """``np.logical_and(a, b)`` as ``a & b`` (``np.logical_not(a)`` as ``not a``) of the
        arguments' truth values: a number or array that is not bool is compared with 0 first."""
        atoms = [self.scalar(a, node) for a in args]
        truths = [a if a.type.kind == "bool" else self.b.emit("ne", a, Const(0)) for a in atoms]
        return self.b.emit(prim, *truths)

    def matmul(self, a: Any, c: Any, node: cst.CSTNode) -> Atom:
        x, y = self.scalar(a, node), self.scalar(c, node)
        if not x.type.is_array or not y.type.is_array:
            return self.b.emit("mul", x, y)  # np.dot with a scalar is a product
        if x.type.ndim > 2 or y.type.ndim > 2:
            raise self.fail(node, "`@` on arrays of more than 2 dimensions", "reshape to 2-D first")
        return self.b.emit("matmul", x, y)


# handlers the array front end writes with other primitives (their spellings belong to those)
COMPOSED = {
    **{f"logical_{n}": (lambda p: lambda self, args, node: self.logical(p, args, node))(p)
       for n, p in (("and", "bitand"), ("or", "bitor"), ("xor", "bitxor"), ("not", "not"))},
    "var": lambda self, args, node: self.variance(args, node, root=False),
    "std": lambda self, args, node: self.variance(args, node, root=True),
    "softmax": lambda self, args, node: self.softmax(args, node, log=False),
    "log_softmax": lambda self, args, node: self.softmax(args, node, log=True),
    "slogdet": lambda self, args, node: self.slogdet(args, node),
    "cumsum": lambda self, args, node: self.running("cumsum", args, node),
    "cumprod": lambda self, args, node: self.running("cumprod", args, node),
    "ptp": lambda self, args, node: self.ptp(args, node),
    "average": lambda self, args, node: self.average(args, node),
    "einsum": lambda self, args, node: self.einsum(args, node),
    "tensordot": lambda self, args, node: self.tensordot(args, node),
    "astype": lambda self, args, node: self.astype(args, node),
    "eigh": lambda self, args, node: self.eigh(args, node),
    "matrix_power": lambda self, args, node: self.matrix_power(args, node),
    "vander": lambda self, args, node: self.vander(args, node),
    **{n: (lambda n: lambda self, args, node: self.diagonal(n, args, node))(n) for n in ("diag", "diagonal", "trace")},
    **{n: (lambda n: lambda self, args, node: self.inner(n, args, node))(n) for n in ("vdot", "inner", "kron")},
    **{n: (lambda n: lambda self, args, node: self.new_array(n, args, node))(n)
       for n in ("eye", "identity", "full", "full_like", "linspace")},
    **{n: (lambda n: lambda self, args, node: self.reshaped_view(n, args, node))(n)
       for n in ("atleast_1d", "atleast_2d", "atleast_3d", "expand_dims", "squeeze", "flip", "fliplr", "flipud", "item")},
    **{n: (lambda n: lambda self, args, node: self.stacks(n, args, node))(n) for n in ("hstack", "vstack", "column_stack")},
    **{n: (lambda n: lambda self, args, node: self.shaped(n, args, node))(n) for n in ("roll", "tile", "repeat", "triu", "tril")},
    **LIBRARY,
}


def unit_slice(node: cst.Slice, lower: Atom | None, upper: Atom | None, step: Atom | None) -> bool:
    """Does the slice have at most one element whatever the array's length: ``x[:1]``, ``x[-1:]``,
    ``x[2:3]``, ``x[-3:-2]``, ``x[i:i + 1]``?  Its axis then has a known length of 1 in the type, so
    reverse mode sums an adjoint over it where it broadcasts (an empty slice makes the primal fail
    to broadcast, or its adjoint empty)."""
    low, high = _literal(node.lower, lower), _literal(node.upper, upper)
    if step is not None and _literal(node.step, step) != 1:
        return False
    if upper is None:
        return low == -1
    if lower is None:
        return high == 1
    if low is not None and high is not None:
        return (low >= 0) == (high >= 0) and high - low == 1
    end = node.upper
    return isinstance(end, cst.BinaryOperation) and isinstance(end.operator, cst.Add) \
        and _literal(end.right, None) == 1 and node.lower is not None and end.left.deep_equals(node.lower)


def _literal(node: cst.BaseExpression | None, atom: Atom | None) -> int | None:
    """The integer a slice bound is known to be: a constant atom, or a literal such as ``-1``."""
    if isinstance(atom, Const):
        return int(atom.value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        value = _literal(node.expression, None)
        return None if value is None else -value
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    return None


def index_params(spec: tuple[Any, ...], units: tuple[int, ...]) -> tuple[tuple[str, Any], ...]:
    """A ``getitem``/``setitem``'s parameters: none for integers only, else the ``index`` and the
    positions of its slices of at most one element (``unit_slices``)."""
    if all(e == "i" for e in spec):
        return ()
    return (("index", spec),) + ((("unit_slices", units),) if units else ())


def _function_name(handler: str) -> str:
    return next(k for k, v in NUMPY_FUNCTIONS.items() if v == handler) if handler in NUMPY_FUNCTIONS.values() \
        else handler


def _method_name(handler: str) -> str:
    return next(k for k, v in ARRAY_METHODS.items() if v == handler) if handler in ARRAY_METHODS.values() \
        else handler


# by the identity of a function object that lives as long as its module (not a bound method made at
# each access, ``np.add.at``, which the front end recognizes by its syntax)
_HANDLERS_BY_OBJECT = {id(lexicon.resolve(s.path)): s.handler for _, s in lexicon.spellings()
                       if s.arity is not None and s.module != lexicon.METHOD
                       and lexicon.resolve(s.path) is lexicon.resolve(s.path)}


def numpy_handler(obj: Any) -> str | None:
    """The handler name of a NumPy (or SciPy) function object, if the front end knows it."""
    return _HANDLERS_BY_OBJECT.get(id(obj))


def written_arrays(function: cst.FunctionDef) -> dict[str, cst.CSTNode]:
    """The names written into through a subscript (``x[i] = v``, ``x[i] += v``, ``x[i][j] = v``)
    or by ``np.add.at(x, ...)`` anywhere in ``function``, each with its first such statement."""
    found: dict[str, cst.CSTNode] = {}

    def base(target: cst.BaseExpression, node: cst.CSTNode) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                base(el.value, node)
            return
        if not isinstance(target, cst.Subscript):
            return
        while isinstance(target, cst.Subscript):
            target = target.value
        if isinstance(target, cst.Name):
            found.setdefault(target.value, node)

    class Writes(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                base(t.target, node)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            base(node.target, node)

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "at" and isinstance(func.value, cst.Attribute) \
                    and func.value.attr.value == "add" and node.args and isinstance(node.args[0].value, cst.Name):
                found.setdefault(node.args[0].value.value, node)

    function.body.visit(Writes())
    return found


def _new_array(node: cst.AugAssign, otherwise: str) -> str:
    """The hint for a refused ``a += v``: ``a = a + v`` makes a new array, ``otherwise`` ..."""
    name = node.target.value  # type: ignore[attr-defined]
    return f"write `{name} = {name} {node.operator._get_token()[:-1]} ...` for a new array, {otherwise}"


def _augmented(nodes: Sequence[cst.CSTNode]) -> list[cst.AugAssign]:
    """The augmented assignments in ``nodes`` (not in functions defined there; a comprehension's
    body, ``CompBody``, holds none)."""
    found: list[cst.AugAssign] = []
    todo = list(nodes)
    while todo:
        node = todo.pop()
        if isinstance(node, cst.AugAssign):
            found.append(node)
        elif isinstance(node, cst.CSTNode) and not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            todo += list(node.children)
    return found

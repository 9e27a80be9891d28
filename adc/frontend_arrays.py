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

from .frontend_values import Record
from .ir import Atom, Const, Op, Var
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


class ArrayExpressions:
    """Mixin for ``Lowerer``: array expressions."""

    b: Any

    # -- indexing ------------------------------------------------------------------------------
    def index_spec(self, node: cst.Subscript, arr: Var) -> tuple[tuple[Any, ...], list[Atom], bool]:
        """The index description, its arguments, and whether it picks one element."""
        spec: list[Any] = []
        atoms: list[Atom] = []
        scalar_ints = 0
        for el in node.slice:
            if isinstance(el.slice, cst.Slice):
                parts = [el.slice.lower, el.slice.upper, el.slice.step]
                present = []
                for part in parts:
                    if part is None:
                        present.append(False)
                        continue
                    atom = self.index_atom(self.expr(part), part)
                    if part is el.slice.step and isinstance(atom, Const) and atom.value == 0:
                        raise self.fail(part, "slice step cannot be zero", "use a nonzero step, e.g. x[::2]")
                    atoms.append(atom)
                    present.append(True)
                spec.append(("s", *present))
                continue
            value = self.expr(el.slice.value)
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
        consumed = sum(1 for e in spec if e != "n")
        if consumed > arr.type.ndim:
            raise self.fail(node, f"too many indices for a {arr.type.ndim}-D array",
                            f"index with at most {arr.type.ndim} integers or slices")
        single = scalar_ints == arr.type.ndim and len(spec) == scalar_ints
        return tuple(spec), atoms, single

    def index_atom(self, value: Any, node: cst.CSTNode) -> Atom:
        atom = self.scalar(value, node)
        if atom.type.kind not in ("int", "bool") or (atom.type.kind == "bool" and atom.type.is_array):
            if atom.type.kind == "bool" and atom.type.is_array:
                raise self.fail(node, "boolean mask indexing (the result's shape depends on the data)",
                                "use np.where(mask, x, 0.0) instead")
            raise self.fail(node, "array index must be an integer", "convert it with int(...)")
        return atom

    def subscript(self, node: cst.Subscript) -> Any:
        base = self.expr(node.value)
        if isinstance(base, (tuple, Record)):
            return self.container_subscript(base, node)
        arr = self.array_value(base, node.value)
        spec, atoms, single = self.index_spec(node, arr)
        params = () if all(e == "i" for e in spec) else (("index", spec),)
        return self.b.emit("getitem", arr, *atoms, params=params)

    def store(self, target: cst.Subscript, value: Any) -> None:
        arr = self.array_value(self.expr(target.value), target.value)
        if arr not in self.owned and not self.fresh_array(arr):
            raise self.fail(target, "writing into an array the function did not create (an argument, or a view)",
                            "copy it first: `y = x.copy()`, then write into `y`")
        spec, atoms, single = self.index_spec(target, arr)
        if any(isinstance(a, Var) and a.type.is_array for a in atoms):
            raise self.fail(target, "writing through an integer-array index",
                            "write single elements or basic slices, e.g. y[i] = ... or y[1:] = ...")
        v = self.scalar(value, target)
        slot = get("getitem").result_type([arr.type, *(a.type for a in atoms)], {"index": spec})
        if v.type.ndim > slot.ndim:
            raise self.fail(target, f"assigning a {v.type.ndim}-D array to a {slot.ndim}-D "
                                    f"{'element' if not slot.ndim else 'part'} of `{self.src_text(target.value)}`",
                            "index the value down to the target's shape, or write a slice of the same rank")
        params = () if all(e == "i" for e in spec) else (("index", spec),)
        self.b.append(Op("setitem", [arr, *atoms, v], [], params))

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
        """A keyword argument's value; negative literals (``axis=-1``) stay constants."""
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) \
                and isinstance(node.expression, cst.Integer):
            return Const(-int(node.expression.value, 0))
        if isinstance(node, cst.Tuple):
            return tuple(self.literal(el.value) for el in node.elements)
        return self.expr(node)

    def static(self, value: Any, node: cst.CSTNode) -> Any:
        """A compile-time constant (``axis=1``, ``keepdims=True``)."""
        if value is NONE:
            return None
        if isinstance(value, Const):
            return value.value
        if isinstance(value, tuple):
            return tuple(self.static(v, node) for v in value)
        raise self.fail(node, "this argument must be a constant", "write a literal such as axis=1")

    def array_call(self, name: str, args: list[Any], node: cst.Call, method_of: Var | None = None) -> Any:
        """``np.<name>(...)`` or ``x.<name>(...)`` (then ``method_of`` is ``x``)."""
        if method_of is not None:
            args = [method_of, *args]
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
        if name == "array":
            if len(args) != 1 or not isinstance(args[0], tuple):
                raise self.fail(node, "np.array() of something other than a list of numbers",
                                "write np.array([a, b, c]) with scalars")
            items = [self.scalar(a, node) for a in args[0]]
            if any(i.type.is_array for i in items):
                return self.b.emit("stack", *items, params=(("axis", 0),))
            out = self.b.emit("pack", *items)
            self.owned.add(out)
            return out
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
        x, kw = self.axis_keywords(args, node, ("axis", "ddof", "keepdims"))
        axis, keepdims, ddof = kw.get("axis"), bool(kw.get("keepdims", False)), kw.get("ddof", 0)
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
        """Constant axis numbers, negative ones counted from the end."""
        if any(not isinstance(a, int) or isinstance(a, bool) or not -ndim <= a < ndim for a in values):
            raise self.fail(node, f"axes {tuple(values)} out of range for a {ndim}-D array",
                            f"use constant integer axes between {-ndim} and {ndim - 1}")
        return tuple(a % ndim for a in values)

    def reduce(self, name: str, x: Var, axis: Any, keepdims: bool, node: cst.CSTNode) -> Atom:
        if axis is not None:
            axes = axis if isinstance(axis, tuple) else (axis,)
            if any(not isinstance(a, int) or not -x.type.ndim <= a < x.type.ndim for a in axes):
                raise self.fail(node, f"axis {axis} is out of range for a {x.type.ndim}-D array",
                                f"use a constant axis between {-x.type.ndim} and {x.type.ndim - 1}")
            norm = tuple(a % x.type.ndim for a in axes)
            axis = norm if isinstance(axis, tuple) else norm[0]
        params: tuple[tuple[str, Any], ...] = (("axis", axis),) if axis is not None else ()
        if keepdims:
            params += (("keepdims", True),)
        return self.b.emit(name, x, params=params)

    def matmul(self, a: Any, c: Any, node: cst.CSTNode) -> Atom:
        x, y = self.scalar(a, node), self.scalar(c, node)
        if not x.type.is_array or not y.type.is_array:
            return self.b.emit("mul", x, y)  # np.dot with a scalar is a product
        if x.type.ndim > 2 or y.type.ndim > 2:
            raise self.fail(node, "`@` on arrays of more than 2 dimensions", "reshape to 2-D first")
        return self.b.emit("matmul", x, y)


# handlers the array front end writes with other primitives (their spellings belong to those)
COMPOSED = {
    "var": lambda self, args, node: self.variance(args, node, root=False),
    "std": lambda self, args, node: self.variance(args, node, root=True),
    "softmax": lambda self, args, node: self.softmax(args, node, log=False),
    "log_softmax": lambda self, args, node: self.softmax(args, node, log=True),
    "slogdet": lambda self, args, node: self.slogdet(args, node),
}


def _function_name(handler: str) -> str:
    return next(k for k, v in NUMPY_FUNCTIONS.items() if v == handler) if handler in NUMPY_FUNCTIONS.values() \
        else handler


def _method_name(handler: str) -> str:
    return next(k for k, v in ARRAY_METHODS.items() if v == handler) if handler in ARRAY_METHODS.values() \
        else handler


_HANDLERS_BY_OBJECT = {id(lexicon.resolve(s.path)): s.handler for _, s in lexicon.spellings()
                       if s.arity is not None and s.module != lexicon.METHOD}


def numpy_handler(obj: Any) -> str | None:
    """The handler name of a NumPy (or SciPy) function object, if the front end knows it."""
    return _HANDLERS_BY_OBJECT.get(id(obj))

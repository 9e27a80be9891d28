"""Element-wise array statements on 1-D arrays fused into loops over the elements (Numba code).

Input: a program as it is emitted for Numba without bounds checks (``bounds.without_checks``).
Output: ``fused(program)``, the same program in which each run of consecutive statements that only
make, slice, copy and write 1-D float arrays element-wise (``z = x.copy()``, ``z[1:] = x[1:] *
y[:-1]``, ``k = y + h * z``, ``g[:-1] += t``) is one loop over the elements, or a few, where Numba
would make an array per statement.

The statements are read as functions of the element index: a slice shifts the index
(``y[:-1]`` at ``i`` is ``y[i]``, ``x[1:]`` at ``i`` is ``x[i + 1]``), a write into a slice
makes the array's elements piecewise (``i >= 1``), an element-wise operation applies to the
elements.  Only the arrays the rest of the program reads are written, each element computed from
the arrays read from memory, so an array read at a shifted index is computed again where it is read
(as XLA's fusion does) instead of passing through memory.  Inside (``A <= i < n - B``) every piece
is known and the loop has no branch; the first ``A`` and last ``B`` elements take a loop that
selects.  Arrays the run writes and the program made elsewhere (``gx += ...``) must be its own
(``_Private``), and read at no element before the one written.

The lengths the statements need to be equal (``x[1:] * y[:-1]``: ``len(x) == len(y)``), or long
enough for a slice, are conditions of the guard in front of the loops: where one fails (an array
that broadcasts, say), the generated code raises ``IndicesMayBeOutOfRange`` and the caller runs the
bounds-checked version, which is not fused (``failures.recover``).  Anything else (another dtype,
another rank, a slice with a step, a statement the run cannot read) ends the run; a run that cannot
be fused stays as it was.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterator, Union

from .ir import Atom, Const, Op, Program, Region, Var, copy_region
from .passes import dead_code
from .prims import get, prim
from .prims.registry import broadcasts
from .types import BOOL, FLOAT, INT, Type

MAX_NODES = 600  # element expressions larger than this (recomputed shifted values) stay unfused
MAX_DEPTH = 150  # nested deeper, they stay unfused too: the expansion recurses (four frames a level)


class _Refuse(Exception):
    """The run cannot be fused as a whole."""


Len = tuple[Union[Var, None], int]  # len(var) + offset, or the constant offset (var None)
Pos = tuple[int, int]  # (c, e): an index c + e * n, n the length the lengths are counted from
Conditions = dict[tuple[Len, Var], None]  # ``len(a) + k <= len(b)`` / ``k <= len(b)``, an ordered set


@dataclass(eq=False)
class _Storage:
    """The memory of one array: made in the run (``var``: its first name) or read from outside."""

    var: Var
    length: Len
    base: tuple[Any, ...]  # ("mem",) outside the run, ("fill", 0.0), ("copy", ref), ("elem", prim, args)
    outer: bool = False
    layers: list["_Layer"] = field(default_factory=list)  # writes, in order


@dataclass(frozen=True, eq=False)
class _View:
    storage: _Storage
    start: int  # the view's first element in its storage
    length: Len


@dataclass(frozen=True, eq=False)
class _Ref:
    """An array as an op read it: its view, and how many writes into the storage came before."""

    view: _View
    version: int


@dataclass(frozen=True, eq=False)
class _Layer:
    """``storage[lo:hi] = value`` or ``+= value`` (``value``: a ``_Ref`` or a number)."""

    lo: Len
    hi: Len
    add: bool
    value: Any


Node = tuple[Any, ...]  # ("num", atom, key) | ("mem", var, pos) | ("op", prim, args) | ("sel", cond, a, b)
TRUE, FALSE = ("true",), ("false",)


def fused(program: Program) -> Program:
    """``program`` with its runs of element-wise statements on 1-D arrays fused (module docstring),
    and without the views nothing reads any more."""
    private = _Private(program)
    body = _region(program.body, private)
    if body is program.body:
        return program
    return dead_code(dataclasses.replace(program, body=copy_region(body)))  # regions of its own: the sweep edits them


def _region(region: Region, private: "_Private") -> Region:
    ops: list[Op] = []
    changed = False
    run: list[Op] = []

    def flush() -> None:
        nonlocal changed
        if run:
            made = _fuse(run, private)
            changed |= made is not None
            ops.extend(run if made is None else made)
            run.clear()

    for op in region.ops:
        if _fusable(op):
            run.append(op)
            continue
        flush()
        if op.regions:
            regions = [_region(r, private) for r in op.regions]
            if any(a is not b for a, b in zip(regions, op.regions)):
                op = Op(op.prim, op.args, op.outs, op.params, op.loc, regions)
                changed = True
        ops.append(op)
    flush()
    return Region(region.args, ops, region.yields) if changed else region


def _vector(a: Any) -> bool:
    """A 1-D float64 array not known to have one element (which would broadcast)."""
    t = getattr(a, "type", None)
    return (isinstance(a, Var) and t is not None and t.kind == "float" and t.ndim == 1 and t.dtype == "float64"
            and not t.one(0))


def _number(a: Any) -> bool:
    t = a.type if isinstance(a, (Var, Const)) else None
    return t is not None and t.ndim == 0 and t.kind in ("float", "int", "bool")


def _slice_spec(op: Op) -> tuple[int | None, int | None] | None:
    """A slice key with constant bounds and no step: (start, stop), else ``None``."""
    spec = op.param("index")
    if not (isinstance(spec, tuple) and len(spec) == 1 and isinstance(spec[0], tuple) and len(spec[0]) == 4
            and spec[0][0] == "s"):
        return None
    _, has_start, has_stop, has_step = spec[0]
    if has_step:
        return None
    bounds = op.args[1:1 + has_start + has_stop]
    if any(not (isinstance(b, Const) and type(b.value) is int) for b in bounds):
        return None
    it = iter(b.value for b in bounds)
    return (next(it) if has_start else None, next(it) if has_stop else None)


def _int_index(op: Op) -> int | None:
    if op.param("index") is not None or len(op.args) != 3:
        return None
    k = op.args[1]
    return k.value if isinstance(k, Const) and type(k.value) is int else None


def _fusable(op: Op) -> bool:
    """Can ``op`` be part of a run (given that the arrays it names are 1-D float arrays)?"""
    if op.prim == "comment":
        return True
    if op.regions:
        return False
    if op.prim in ("acopy", "zeros_like", "empty_like"):
        return _vector(op.args[0]) and _vector(op.outs[0]) and len(op.args) == 1
    if op.prim == "getitem":
        return len(op.outs) == 1 and _vector(op.args[0]) and _vector(op.outs[0]) and _slice_spec(op) is not None
    if op.prim == "copy":  # ``y = x``: another name for the same memory
        return _vector(op.args[0]) and _vector(op.outs[0])
    if op.prim in ("setitem", "index_add"):
        if op.outs or not _vector(op.args[0]):
            return False
        value = op.args[-1]
        if not (_vector(value) or _number(value)):
            return False
        return _slice_spec(op) is not None or (_int_index(op) is not None and _number(value))
    if op.prim == "iadd":
        return not op.outs and _vector(op.args[0]) and (_vector(op.args[1]) or _number(op.args[1]))
    rule = prim(op)
    if rule is None or not broadcasts(rule) or not rule.element:
        return False
    return (len(op.outs) == 1 and _vector(op.outs[0]) and all(_vector(a) or _number(a) for a in op.args)
            and any(_vector(a) for a in op.args))


def _alias(op: Op) -> bool:
    """Does ``op`` give another name to (part of) its first argument's memory (a view, ``y = x``)?
    Any array an index makes counts, the copy of an index array too."""
    if not (op.outs and op.args and isinstance(op.args[0], Var)):
        return False
    rule = prim(op)
    return rule is not None and rule.view or op.prim == "getitem" and any(o.type is not None and o.type.ndim for o in op.outs)


class _Private:
    """The arrays a run may write into although they were made before it: made by a statement
    that returns new memory, and neither they nor views of them reach anything but reads into new
    memory (element-wise operations, reductions, copies), writes into them, copies into other
    arrays and the program's result (no loop carries them, no tape or list keeps them)."""

    def __init__(self, program: Program) -> None:
        self.defs: dict[Var, list[Op]] = {}
        self.uses: dict[Var, list[tuple[Op | None, int]]] = {}
        self.block_args: set[Var] = set()
        self.outputs = {y for y in program.body.yields if isinstance(y, Var)}
        self.views: dict[Var, list[Var]] = {}
        self._visit(program.body, top=True)
        self._cache: dict[Var, bool] = {}

    def _visit(self, region: Region, top: bool) -> None:
        self.block_args.update(region.args)
        for op in region.ops:
            for o in op.outs:
                self.defs.setdefault(o, []).append(op)
            for k, a in enumerate(op.args):
                if isinstance(a, Var):
                    self.uses.setdefault(a, []).append((op, k))
            if _alias(op):
                self.views.setdefault(op.args[0], []).extend(op.outs)
            for r in op.regions:
                self._visit(r, top=False)
        if not top:
            for y in region.yields:
                if isinstance(y, Var):
                    self.uses.setdefault(y, []).append((None, -1))

    def read_elsewhere(self, values: set[Var], ops: list[Op]) -> set[Var]:
        """Those of ``values`` some statement other than ``ops`` reads, or a region yields."""
        inside = {id(op) for op in ops}
        read = {v for v in values if any(op is None or id(op) not in inside for op, _ in self.uses.get(v, []))}
        return read | (values & self.outputs)

    def family(self, v: Var) -> set[Var]:
        """``v`` and every view of it, of its views, ..."""
        out, todo = {v}, [v]
        while todo:
            for w in self.views.get(todo.pop(), ()):
                if w not in out:
                    out.add(w)
                    todo.append(w)
        return out

    def __call__(self, v: Var) -> bool:
        if v not in self._cache:
            self._cache[v] = self._private(v)
        return self._cache[v]

    def _private(self, v: Var) -> bool:
        defs = self.defs.get(v, [])
        if len(defs) != 1 or v in self.block_args:
            return False
        rule = prim(defs[0])
        if rule is None or rule.view or not (rule.fresh or broadcasts(rule)):
            return False
        for member in self.family(v):
            if member in self.block_args or len(self.defs.get(member, [])) != 1:
                return False
            for op, k in self.uses.get(member, []):
                if op is None:
                    return False  # a region yields it: a loop carries it, a branch passes it on
                rule = prim(op)
                if rule is None:
                    return False
                writes_into = k == 0 and rule.writes
                copied_in = op.prim in ("setitem", "index_add", "iadd") and k == len(op.args) - 1 and _vector(op.args[0])
                # read into new memory (an element-wise result, a reduction, a copy), or for the shape
                read = broadcasts(rule) and not rule.view or rule.reduces or rule.shape_of_first or k in rule.shape_args
                if not (writes_into or copied_in or read or (k == 0 and _alias(op))):
                    return False
        return True


def _plus(n: Len, k: int) -> Len:
    return (n[0], n[1] + k)


def _difference(a: Len, b: Len) -> Len:
    """``a - b`` (of one array's lengths, or a constant from either)."""
    if b[0] is None:
        return (a[0], a[1] - b[1])
    if a[0] is b[0]:
        return (None, a[1] - b[1])
    raise _Refuse("lengths not known to be related")


def _sum(a: Len, b: Len) -> Len:
    if a[0] is not None and b[0] is not None:
        raise _Refuse("an index the loop cannot state")
    return (a[0] if b[0] is None else b[0], a[1] + b[1])


class _Run:
    """One run of statements read as functions of the element index."""

    def __init__(self, ops: list[Op], private: _Private) -> None:
        self.private = private
        self.arrays: dict[Var, _View] = {}
        self.storages: list[_Storage] = []
        self.parent: dict[Var, tuple[Var, int]] = {}  # len(key) == len(parent) + offset
        self.conditions: Conditions = {}  # len-or-number <= len(var), in the order found
        self.computed = 0  # element-wise operations: what fusing saves (an array made and read again each)
        for op in ops:
            if op.prim != "comment":
                self._read(op)

    # -- lengths ------------------------------------------------------------------------------
    def find(self, v: Var) -> tuple[Var, int]:
        d = 0
        while v in self.parent:
            v, k = self.parent[v]
            d += k
        return v, d

    def norm(self, n: Len) -> Len:
        if n[0] is None:
            return n
        root, d = self.find(n[0])
        return root, d + n[1]

    def at_least(self, k: int, n: Len) -> None:
        """Require ``k <= n``."""
        if n[0] is None:
            if k > n[1]:
                raise _Refuse("a slice beyond a constant length")
        elif k - n[1] > 0:
            self.conditions[((None, k - n[1]), n[0])] = None

    def equal(self, a: Len, b: Len) -> None:
        if a[0] is None and b[0] is None:
            if a[1] != b[1]:
                raise _Refuse("lengths differ")
            return
        if a[0] is None or b[0] is None:
            raise _Refuse("a constant length against a length")  # not a condition the guard states
        ra, da = self.norm(a)
        rb, db = self.norm(b)
        if ra is rb:
            if da != db:
                raise _Refuse("lengths differ")
            return
        self.parent[rb] = (ra, da - db)
        self.conditions[((a[0], a[1] - b[1]), b[0])] = None  # len(a) + oa - ob <= len(b)
        self.conditions[((b[0], b[1] - a[1]), a[0])] = None

    # -- statements ---------------------------------------------------------------------------
    def view(self, a: Var) -> _View:
        if a not in self.arrays:
            st = _Storage(a, (a, 0), ("mem",), outer=True)
            self.storages.append(st)
            self.arrays[a] = _View(st, 0, (a, 0))
        return self.arrays[a]

    def ref(self, a: Atom) -> Any:
        if _vector(a):
            v = self.view(a)
            return _Ref(v, len(v.storage.layers))
        return a

    def new(self, out: Var, length: Len, base: tuple[Any, ...]) -> None:
        st = _Storage(out, length, base)
        self.storages.append(st)
        self.arrays[out] = _View(st, 0, length)
        self.computed += base[0] == "elem"

    def sliced(self, v: _View, bounds: tuple[int | None, int | None]) -> tuple[Len, Len]:
        """A slice's first element in the view and its length."""
        def bound(k: int | None, default: Len) -> Len:
            if k is None:
                return default
            self.at_least(abs(k), v.length)  # NumPy would clip a bound beyond the ends
            return (None, k) if k >= 0 else _plus(v.length, k)

        start, end = bound(bounds[0], (None, 0)), bound(bounds[1], v.length)
        length = _difference(end, start)
        if length[0] is None and length[1] < 0:
            raise _Refuse("an empty slice")
        self.at_least(0, length)  # not empty the other way round
        return start, length

    def _read(self, op: Op) -> None:
        if op.prim in ("acopy", "zeros_like", "empty_like"):
            src = self.view(op.args[0])
            base = ("copy", self.ref(op.args[0])) if op.prim == "acopy" else ("fill", 0.0)
            self.new(op.outs[0], src.length, base)
        elif op.prim == "getitem":
            v = self.view(op.args[0])
            start, length = self.sliced(v, _slice_spec(op))
            if start[0] is not None:
                raise _Refuse("a view counted from the end")
            self.arrays[op.outs[0]] = _View(v.storage, v.start + start[1], length)
        elif op.prim == "copy":
            self.arrays[op.outs[0]] = self.view(op.args[0])
        elif op.prim in ("setitem", "index_add", "iadd"):
            target = self.view(op.args[0])
            st = target.storage
            if st.outer and not self.private(st.var):
                raise _Refuse("a write into an array the run does not own")
            k = _int_index(op)
            if op.prim == "iadd":
                start, length = (None, 0), target.length
            elif k is not None:
                self.at_least(k + 1 if k >= 0 else -k, target.length)
                start, length = ((None, k) if k >= 0 else _plus(target.length, k)), (None, 1)
            else:
                start, length = self.sliced(target, _slice_spec(op))
            value = op.args[-1]
            if _vector(value):
                self.equal(self.view(value).length, length)
            lo = _plus(start, target.start)
            st.layers.append(_Layer(lo, _sum(lo, length), op.prim != "setitem", self.ref(value)))
        else:
            vectors = [a for a in op.args if _vector(a)]
            lengths = [self.view(a).length for a in vectors]
            for n in lengths[1:]:
                self.equal(lengths[0], n)
            # (``npdiv`` by a constant other than zero renders as ``/``: ``Form.at``)
            self.new(op.outs[0], lengths[0], ("elem", get(op.prim).element, tuple(self.ref(a) for a in op.args)))


class _Expand:
    """The element expressions of a run's outputs at index ``i`` (``Pos`` (0, 0)), lengths counted
    from ``len(rep)``; the output loop runs over ``range(len(rep) + d_out)``."""

    def __init__(self, run: _Run, rep: Var, d_out: int) -> None:
        self.run, self.rep, self.d_out = run, rep, d_out
        self.memo: dict[tuple[int, int, Pos], Node] = {}
        self.count = 0
        self.depth = 0  # ``content`` calls under way

    def pos(self, n: Len) -> Pos:
        """A length (or an index made of one) as a ``Pos``."""
        if n[0] is None:
            return (n[1], 0)
        root, d = self.run.norm(n)
        if root is not self.rep:
            raise _Refuse("lengths not known to be related")
        return (d, 1)

    def ge(self, p: Pos, bound: Pos) -> Node:
        """``i + p >= bound`` as a condition on ``i``."""
        c, e = bound[0] - p[0], bound[1] - p[1]
        if e == 0:
            return TRUE if c <= 0 else ("ge", c, 0)
        if e == 1:
            return FALSE if c >= self.d_out else ("ge", c, 1)
        raise _Refuse("an index the loop cannot state")

    def content(self, st: _Storage, version: int, p: Pos) -> Node:
        if p[1] not in (0, 1):  # ``i - n + c``: a write counted from the end with a value from the start
            raise _Refuse("an index the loop cannot state")
        key = (id(st), version, p)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        self.count += 1
        if self.count > MAX_NODES or self.depth > MAX_DEPTH:
            raise _Refuse("element expressions too large")
        self.depth += 1
        try:
            out = self._content(st, version, p)
        finally:
            self.depth -= 1
        self.memo[key] = out
        return out

    def _content(self, st: _Storage, version: int, p: Pos) -> Node:
        if version == 0:
            out = self.base(st, p)
        else:
            layer = st.layers[version - 1]
            below = self.content(st, version - 1, p)
            lo, hi = self.pos(layer.lo), self.pos(layer.hi)
            inside = _and(self.ge(p, lo), _not(self.ge(p, hi)))
            if inside == FALSE:
                out = below
            else:
                value = self.value(layer.value, (p[0] - lo[0], p[1] - lo[1]))
                out = _select(inside, ("op", "add", (below, value)) if layer.add else value, below)
        return out

    def base(self, st: _Storage, p: Pos) -> Node:
        kind = st.base[0]
        if kind == "mem":
            return ("mem", st.var, p)
        if kind == "fill":
            return _num(Const(st.base[1]))
        if kind == "copy":
            return self.value(st.base[1], p)
        _, name, args = st.base
        return ("op", name, tuple(self.value(a, p) for a in args))

    def value(self, a: Any, p: Pos) -> Node:
        if isinstance(a, _Ref):
            return self.content(a.view.storage, a.version, (p[0] + a.view.start, p[1]))
        return _num(a)


def _num(a: Atom) -> Node:
    """A number's node: constants equal as nodes only when they are the same number of the same
    type (``-0.0`` is not ``0.0``, ``1`` is not ``1.0``), values by identity."""
    key = (type(a.value).__name__, repr(a.value)) if isinstance(a, Const) else id(a)
    return ("num", a, key)


def _not(c: Node) -> Node:
    return FALSE if c == TRUE else TRUE if c == FALSE else ("not", c)


def _and(a: Node, b: Node) -> Node:
    if a == FALSE or b == FALSE:
        return FALSE
    return b if a == TRUE else a if b == TRUE else ("and", a, b)


def _select(c: Node, a: Node, b: Node) -> Node:
    if c == TRUE or a == b:
        return a
    return b if c == FALSE else ("sel", c, a, b)


def _nodes(node: Node, seen: set[int] | None = None) -> Iterator[Node]:
    """Every node of ``node`` once (by identity of the tuple)."""
    seen = set() if seen is None else seen
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        kind = n[0]
        if kind == "op":
            stack.extend(n[2])
        elif kind == "sel":
            stack.extend(n[1:])
        elif kind in ("and",):
            stack.extend(n[1:])
        elif kind == "not":
            stack.append(n[1])


def _resolve(node: Node, memo: dict[int, Node]) -> Node:
    """``node`` inside the loop's middle part, where every condition is true or false: ``("ge", c,
    0)`` true, ``("ge", c, 1)`` false."""
    hit = memo.get(id(node))
    if hit is not None:
        return hit
    kind = node[0]
    if kind == "ge":
        out = TRUE if node[2] == 0 else FALSE
    elif kind == "not":
        out = _not(_resolve(node[1], memo))
    elif kind == "and":
        out = _and(_resolve(node[1], memo), _resolve(node[2], memo))
    elif kind == "sel":
        c = _resolve(node[1], memo)
        out = _resolve(node[2], memo) if c == TRUE else _resolve(node[3], memo) if c == FALSE else node
    elif kind == "op":
        out = ("op", node[1], tuple(_resolve(a, memo) for a in node[2]))
    else:
        out = node
    memo[id(node)] = out
    return out


class _Emit:
    """Ops computing nodes at index ``i`` into ``ops``; ``clamp``: reads clamped into the array
    (the ends, where a select computes both of its values)."""

    def __init__(self, i: Var, n: Atom, clamp: bool, loc: Any) -> None:
        self.i, self.n, self.clamp, self.loc = i, n, clamp, loc
        self.ops: list[Op] = []
        self.memo: dict[Any, Atom] = {}
        self.lengths: dict[Var, Atom] = {}

    def op(self, name: str, args: list[Atom], t: Type, params: tuple[tuple[str, object], ...] = ()) -> Var:
        out = Var(None, t)
        self.ops.append(Op(name, args, [out], params, self.loc))
        return out

    def index(self, p: Pos) -> Atom:
        key = ("index", p)
        if key not in self.memo:
            at: Atom = self.i
            if p[1]:
                at = self.op("add", [at, self.n], INT)
            if p[0]:
                at = self.op("add" if p[0] > 0 else "sub", [at, Const(abs(p[0]))], INT)
            self.memo[key] = at
        return self.memo[key]

    def __call__(self, node: Node) -> Atom:
        key = node if node[0] in ("num", "mem", "ge", "true", "false") else id(node)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        kind = node[0]
        if kind == "num":
            out = node[1]
        elif kind == "true" or kind == "false":
            out = Const(kind == "true")
        elif kind == "mem":
            out = self.read(node[1], node[2])
        elif kind == "ge":
            bound: Atom = Const(node[1])
            if node[2]:
                bound = self.op("add" if node[1] > 0 else "sub", [self.n, Const(abs(node[1]))], INT) if node[1] else self.n
            out = self.op("ge", [self.i, bound], BOOL)
        elif kind == "not":
            out = self.op("not", [self(node[1])], BOOL)
        elif kind == "and":
            out = self.op("and", [self(node[1]), self(node[2])], BOOL)
        elif kind == "sel":
            out = self.op("select", [self(node[1]), self(node[2]), self(node[3])], FLOAT)
        else:
            out = self.op(node[1], [self(a) for a in node[2]], FLOAT)
        self.memo[key] = out
        return out

    def read(self, var: Var, p: Pos) -> Var:
        at = self.index(p)
        if self.clamp:  # a select computes both of its values: every read stays inside its array
            if var not in self.lengths:
                self.lengths[var] = self.op("shape", [var], INT, (("dim", 0),))
            last = self.op("sub", [self.lengths[var], Const(1)], INT)
            at = self.op("max", [self.op("min", [at, last], INT), Const(0)], INT)
        return self.op("getitem", [var, at], FLOAT)


def _fuse(ops: list[Op], private: _Private) -> list[Op] | None:
    """The run ``ops`` as loops over the elements, or ``None`` where it stays as it is."""
    try:
        return _fused_run(ops, private)
    except _Refuse:
        return None


def _fused_run(ops: list[Op], private: _Private) -> list[Op] | None:
    run = _Run(ops, private)
    if run.computed < 2:
        return None  # zeros and writes of numbers (an adjoint's seed) stay as they are
    for st in run.storages:  # a view made before the run of an array it writes would read it stale
        if st.outer and st.layers and any(other.outer and other is not st and other.var in private.family(st.var)
                                           for other in run.storages):
            raise _Refuse("an array written and read through a view")
    defined = {o for op in ops for o in op.outs}
    live = private.read_elsewhere(defined, ops)  # what the rest of the program reads of the run's values
    aliases = [op for op in ops if op.prim in ("getitem", "copy")]  # views, and other names of an array
    needed = set(live)
    for op in reversed(aliases):  # a kept view of a view keeps that view
        if op.outs[0] in needed and op.args[0] in defined:
            needed.add(op.args[0])
    kept_views = [op for op in aliases if op.outs[0] in needed]
    outputs: list[_Storage] = []
    for st in run.storages:
        if st.outer and st.layers or not st.outer and any(
                v in needed and run.arrays[v].storage is st for v in run.arrays if v in defined):
            outputs.append(st)
    if not outputs:
        return None
    lengths = list(dict.fromkeys(run.norm(st.length) for st in outputs))  # in program order: deterministic
    if any(n[0] is None for n in lengths):
        raise _Refuse("a constant length")
    in_place = {run.norm(st.length) for st in outputs if st.outer}
    if len(in_place) > 1:
        raise _Refuse("arrays of different lengths written in place")
    lengths.sort(key=lambda n: n in in_place)  # last: the others' loops read those arrays before they change
    conditions = dict(run.conditions)
    loops: list[Op] = []
    for n in lengths:
        loops.extend(_loops(run, [st for st in outputs if run.norm(st.length) == n], n, conditions))
    return [_note(ops), *_guard(conditions), *loops, *kept_views]


def _note(ops: list[Op]) -> Op:
    lines = sorted({op.loc.line for op in ops if op.loc is not None})
    text = (f"lines {lines[0]}-{lines[-1]}" if len(lines) > 1 else f"line {lines[0]}") if lines else "these statements"
    return Op("comment", [], [], (("text", f"{text}: element by element, in one pass over the arrays (fused)"),))


def _guard(conditions: Conditions) -> list[Op]:
    """``adc_arrays.indices_in_range(...)`` of ``conditions`` (``len(a) + k <= len(b)``, ``k <=
    len(b)``) in the order found, the constant ones merged per array (the largest ``k``)."""
    least: dict[Var, int] = {}
    for left, right in conditions:
        if left[0] is None:
            least[right] = max(least.get(right, 0), left[1])
    conds: list[tuple[Len, Var]] = []
    for left, right in conditions:
        if left[0] is not None:
            conds.append((left, right))
        elif right in least:
            conds.append(((None, least.pop(right)), right))
    if not conds:
        return []
    args = [a for (left, right) in conds for a in ((Const(left[1]) if left[0] is None else left[0]), right)]
    bounds = tuple((left[1], None, 0, 0) if left[0] is None else (None, 0, left[1], 0) for left, _ in conds)
    return [Op("indices_in_range", args, [], (("bounds", bounds),))]


def _loops(run: _Run, outputs: list[_Storage], length: Len, guard_conds: Conditions) -> list[Op]:
    """The allocations and the loops that write ``outputs``, all of ``length``; the conditions
    they need go into ``guard_conds``."""
    rep, d_out = length
    assert rep is not None
    expand = _Expand(run, rep, d_out)
    values = [expand.content(st, len(st.layers), (0, 0)) for st in outputs]
    written = {st.var for st in outputs if st.outer}
    starts, ends, reads = [0], [d_out], []
    for node in _nodes(("op", "", tuple(values))):
        if node[0] == "ge":
            (starts if node[2] == 0 else ends).append(node[1])
        elif node[0] == "mem":
            reads.append(node)
            if node[1] in written and (node[2][1] or node[2][0] < 0):
                raise _Refuse("an element read after the loop wrote it")
    head = max(starts)
    tail = min(ends) - d_out  # <= 0: the loop's middle part ends at len(rep) + d_out + tail
    loc = None  # the note in front says which lines the loops compute
    if head - tail - d_out > 0:
        guard_conds[((None, head - tail - d_out), rep)] = None  # the middle part is not negative
    if head or tail:
        for node in reads:
            guard_conds[((None, 1), node[1])] = None  # clamped reads at the ends
    new_ops: list[Op] = []
    n = Var("n", INT)
    new_ops.append(Op("shape", [rep], [n], (("dim", 0),), loc))
    stop: Atom = n
    if d_out:
        stop = Var(None, INT)
        new_ops.append(Op("add", [n, Const(d_out)], [stop], (), loc))
    for st in outputs:
        if not st.outer:
            new_ops.append(Op("empty", [stop], [st.var], (("ones", (False,)),), loc))
    middle_stop: Atom = stop
    if tail:
        middle_stop = Var(None, INT)
        new_ops.append(Op("sub", [stop, Const(-tail)], [middle_stop], (), loc))

    def loop(start: Atom, end: Atom, clamp: bool, nodes: list[Node]) -> Op:
        i = Var("i", INT)
        emit = _Emit(i, n, clamp, loc)
        results = [emit(v) for v in nodes]
        for st, r in zip(outputs, results):
            emit.ops.append(Op("setitem", [st.var, i, r], [], (), loc))
        return Op("for", [start, end, Const(1)], [], (("break", False),), loc, [Region([i], emit.ops, [])])

    if head:
        new_ops.append(loop(Const(0), Const(head), True, values))
    memo: dict[int, Node] = {}
    new_ops.append(loop(Const(head), middle_stop, False, [_resolve(v, memo) for v in values]))
    if tail:
        new_ops.append(loop(middle_stop, stop, True, values))
    return new_ops

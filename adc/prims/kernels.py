"""Run-time kernels for array transposes NumPy does not spell, and for the NumPy forms Numba lacks:
imported by generated code as ``adc_arrays`` only when a program uses one (``codegen.header``).

``pad``/``unpad`` are ``np.pad`` in its constant, edge, reflect, symmetric and wrap modes and its
transpose (each element of the padded array added back into the element it copies), through one
index map (``pad_source``) under Numba.  ``diag_embed(g, x, k)`` puts ``g`` on the ``k``-th
diagonal of a zero array shaped like ``x`` (the transpose of ``np.diag(x, k)``); it is a loop, so
Numba compiles the same function (an ``overload``).  ``untile``/``unrepeat`` sum a
``np.tile``/``np.repeat`` result back to its argument's shape (reshapes and sums here, loops over
``source`` under Numba).

``fits(x, v)`` raises unless ``v`` broadcasts to ``x``: Numba code checks an in-place add with it.
``real_power(x, y)`` is ``x ** y`` of a negative number as adc computes it (``fpow``).  ``fmod`` and
``matmul`` are NumPy's ``np.fmod`` and ``@`` under Numba, whose own are wrong for integers and bools.

``stack_list`` is ``np.stack`` of a list (Numba's takes a tuple: a loop there), and ``add_rows`` adds
the rows of a stack's adjoint into the list of its items' adjoints (``prims/lists.py``).

The Numba dialect (``Primitive.numba``) spells what Numba cannot compile with the kernels below:
reductions along one axis (``sum_axis``, ``mean_axis``, ``prod_axis``, ``amax_axis``,
``amin_axis``, ``nansum_axis``, ``logsumexp_axis``, ``any_axis``, ``all_axis``,
``count_nonzero_axis``; several axes nest them), ``argsort_axis``,
``tile``, ``repeat_axis``, ``roll_axis``, ``cumprod_axis``, ``vander``, and reads and writes through index
arrays and masks (``gather``, ``put``, ``add_at`` for ``np.add.at``, ``last_writes``; see
``positions``).  Each is NumPy here and a loop under Numba (an ``overload``); a result keeps its
argument's float dtype, as NumPy's does.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def real_power(x, y):  # noqa: ANN001, ANN201
    """``x ** y`` of a negative ``x`` (``fpow``'s other branch): NumPy's nan where an operand is a
    NumPy number, as the user's ``**`` gives; else ``math.pow``, which raises where Python's float
    would give a complex number (adc differentiates real functions) and is ``**`` elsewhere."""
    if isinstance(x, np.generic) or isinstance(y, np.generic):
        return np.power(x, y)
    return math.pow(x, y)


def _diag_embed_loop(g, x, k):  # noqa: ANN001, ANN202 (Numba compiles it as written)
    out = np.zeros(x.shape)
    for i in range(g.shape[0]):
        if k >= 0:
            out[i, i + k] = g[i]
        else:
            out[i - k, i] = g[i]
    return out


def diag_embed(g, x, k):  # noqa: ANN001, ANN201
    return _diag_embed_loop(g, x, k)


def untile(g, x, reps):  # noqa: ANN001, ANN201
    shape = np.shape(x)
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + tuple(shape)
    reps = (1,) * (ndim - len(reps)) + tuple(reps)
    split = [d for pair in zip(reps, shape) for d in pair]
    return np.reshape(np.reshape(g, split).sum(axis=tuple(range(0, 2 * ndim, 2))), np.shape(x))


def shaped_like(g, x):  # noqa: ANN001, ANN201
    """``g``, an adjoint of ``x`` of its rank, summed over the axes where ``x`` has length 1 and
    ``g`` not, and spread over those where ``g`` has length 1 and ``x`` not: an elementwise adjoint
    where a broadcast of length-1 axes only the running code knew took place
    (``run_time_shapes.py``); ``g`` itself where the shapes agree."""
    shape = np.shape(x)
    if g.shape == shape:
        return g
    axes = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
    return np.array(np.broadcast_to(g.sum(axis=axes, keepdims=True) if axes else g, shape))


def unrepeat(g, x, repeats, axis):  # noqa: ANN001, ANN201
    if axis is None:
        return np.reshape(np.reshape(g, (-1, repeats)).sum(axis=1), np.shape(x))
    shape = np.shape(x)
    return np.reshape(g, shape[:axis] + (shape[axis], repeats) + shape[axis + 1:]).sum(axis=axis + 1)


# np.pad's modes, in the order of the codes the Numba kernels use
PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad_source(i, n, mode):  # noqa: ANN001, ANN201 (Numba compiles it as written)
    """The index, in an axis of length ``n``, of the element that pad mode ``mode`` (a code of
    ``PAD_MODES``) puts at index ``i`` (counted from the first original element, so negative in the
    padding before it); -1 where mode ``constant`` puts its value."""
    if 0 <= i < n:
        return i
    if mode == 0:
        return -1
    if mode == 1:
        return 0 if i < 0 else n - 1
    if mode == 2:
        if n == 1:
            return 0
        j = i % (2 * n - 2)
        return j if j < n else 2 * n - 2 - j
    if mode == 3:
        j = i % (2 * n)
        return j if j < n else 2 * n - 1 - j
    return i % n


def pad(x, widths, mode, value):  # noqa: ANN001, ANN201
    """``np.pad(x, widths, mode)`` (``constant_values=value`` in mode ``constant``)."""
    if mode == "constant":
        return np.pad(x, widths, mode=mode, constant_values=value)
    return np.pad(x, widths, mode=mode)


def unpad(g, x, widths, mode):  # noqa: ANN001, ANN201
    """The transpose of ``pad``: each element of ``g`` added into the element of ``x`` it copies."""
    source = pad(np.arange(np.size(x)).reshape(np.shape(x)), widths, mode, -1)
    copied = source >= 0
    g = np.asarray(g)
    total = np.bincount(source[copied], weights=g[copied], minlength=np.size(x))
    return total.reshape(np.shape(x)).astype(g.dtype)


def last_writes(x, key):  # noqa: ANN001, ANN201
    """Where ``x[key] = v`` keeps the element of ``v`` (NumPy keeps the last of repeated indices)."""
    ids = np.full(np.shape(x), -1, dtype=np.int64)
    order = np.arange(np.size(ids[key])).reshape(np.shape(ids[key]))
    ids[key] = order
    return ids[key] == order


def section(n, parts):  # noqa: ANN001, ANN201
    """The length of each of ``parts`` equal parts of ``n`` (``np.split``), or NumPy's error."""
    if parts <= 0 or n % parts:
        raise ValueError("array split does not result in an equal division")
    return n // parts


class IndicesMayBeOutOfRange(Exception):
    """Raised by a function compiled without bounds checks, before its first index that needs it,
    when a condition its indices were proved under does not hold (``bounds.py``): the caller runs
    the bounds-checked version."""


def materialized(x):  # noqa: ANN001, ANN201
    """A copy of ``x``, made by a call Numba's parallel compiler does not fuse with the statements
    around it (``parallel_stores.py``)."""
    return x.copy()


def indices_in_range(*conditions):  # noqa: ANN002, ANN201 (Numba compiles it as written)
    """Raise ``IndicesMayBeOutOfRange`` unless every condition holds."""
    for holds in conditions:
        if not holds:
            raise IndicesMayBeOutOfRange("an index may be out of range: run the bounds-checked code")


def sole_index(x, axes, exact):  # noqa: ANN001, ANN201
    """0, the index of the one element along each of ``axes`` of ``x`` (``np.squeeze(x, axis)``,
    ``x.item()``), or an error where one of them has another length.  With ``exact``
    (``np.squeeze(x)``), also an error where another axis has length 1: NumPy would drop it too,
    and the code adc made for this call keeps it."""
    return _sole_index_loop(x, axes, exact)


def _sole_index_loop(x, axes, exact):  # noqa: ANN001, ANN202 (Numba compiles it as written)
    for k in range(x.ndim):
        named = False
        for a in axes:
            if a == k:
                named = True
        if named and x.shape[k] != 1:
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
        if exact and not named and x.shape[k] == 1:
            raise ValueError("np.squeeze() without axis: NumPy drops an axis here that has length 1 "
                             "only at run time, and adc keeps it")
    return 0


def rows_used(idx, n):  # noqa: ANN001, ANN201
    """The rows ``idx`` reads of an array of ``n`` rows, once each and in order (``row_gathers.py``);
    every row (``arange(n)``) when an index is out of range, so the array is made whole, as written,
    and its read raises where NumPy's does."""
    idx = np.asarray(idx)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        return np.arange(n)
    mark = np.zeros(n, dtype=np.bool_)
    mark[idx] = True
    return np.flatnonzero(mark)


def row_positions(idx, rows, n):  # noqa: ANN001, ANN201
    """Where each row of ``idx`` is in ``rows`` (``rows_used(idx, n)``): ``rows[row_positions(...)]``
    is ``idx`` with negative indices counted from the end; ``IndexError`` for an index out of range
    (a later read, whose branch the first read's rows chose)."""
    where = np.empty(n, dtype=np.int64)
    where[rows] = np.arange(len(rows))
    return where[idx]


def _rows_used_loop(idx, n):  # noqa: ANN001, ANN202 (Numba compiles it as written)
    mark = np.zeros(n, dtype=np.bool_)
    for i in range(idx.shape[0]):
        k = np.int64(idx[i])  # an unsigned index past int64's range wraps negative: out of range too
        if k < -n or k >= n:
            return np.arange(n)
        mark[k + n if k < 0 else k] = True
    return np.flatnonzero(mark)


def _row_positions_loop(idx, rows, n):  # noqa: ANN001, ANN202 (Numba compiles it as written)
    where = np.empty(n, dtype=np.int64)
    for j in range(rows.shape[0]):
        where[rows[j]] = j
    out = np.empty(idx.shape[0], dtype=np.int64)
    for i in range(idx.shape[0]):
        k = np.int64(idx[i])
        if k < -n or k >= n:
            raise IndexError("index is out of bounds")
        out[i] = where[k + n if k < 0 else k]
    return out


def _stack_rows(items):  # noqa: ANN001, ANN202 (Numba compiles it as written)
    if len(items) == 0:
        raise ValueError("need at least one array to stack")
    first = items[0]
    out = np.empty((len(items),) + first.shape, first.dtype)
    for k in range(len(items)):
        if items[k].shape != first.shape:
            raise ValueError("all input arrays must have the same shape")
        out[k] = items[k]
    return out


def stack_list(items):  # noqa: ANN001, ANN201
    """``np.stack(items)`` of a list of arrays (Numba's ``np.stack`` takes a tuple): an ``overload``."""
    return np.stack(items)


def _add_rows_loop(items, g):  # noqa: ANN001, ANN202 (Numba compiles it as written)
    for k in range(len(items)):
        items[k] += g[k]


def add_rows(items, g):  # noqa: ANN001, ANN201
    """``items[k] += g[k]`` for every item: the adjoint of ``np.stack(items)`` added into the items'."""
    _add_rows_loop(items, g)


# -- reductions along one axis and scatter-adds, for the Numba dialect (``numba_dialect.py``) ------------
# NumPy versions here, loops under Numba (overloads registered below): Numba's np.max, np.mean,
# np.prod take no ``axis`` and it has no ``np.add.at``.


def sum_axis(x, axis):  # noqa: ANN001, ANN201
    return np.sum(x, axis=axis)


def mean_axis(x, axis):  # noqa: ANN001, ANN201
    return np.mean(x, axis=axis)


def prod_axis(x, axis):  # noqa: ANN001, ANN201
    return np.prod(x, axis=axis)


def amax_axis(x, axis):  # noqa: ANN001, ANN201
    return np.max(x, axis=axis)


def amin_axis(x, axis):  # noqa: ANN001, ANN201
    return np.min(x, axis=axis)


def logsumexp_axis(x, axis):  # noqa: ANN001, ANN201
    import scipy.special

    return scipy.special.logsumexp(x, axis=axis)


def add_at(x, key, v):  # noqa: ANN001, ANN201
    np.add.at(x, key, v)


# -- reads and writes through index arrays, for the Numba dialect ----------------------------------
# Numba indexes with integer arrays of any rank, mixed with integers and slices, as NumPy does; it
# lacks np.add.at and boolean masks of more than one dimension, and misplaces the axes of ``None``
# among index arrays.  The kernels below take a key (a tuple of integers, integer or boolean arrays,
# slices and None) and work through ``positions``: the C-order position in ``x`` of each element of
# ``x[key]``, found by indexing an ``arange`` the way NumPy indexes ``x`` (masks as their
# ``np.nonzero``, each ``None`` as a full slice of a length-1 axis), after checking every index.


def gather(x, key):  # noqa: ANN001, ANN201
    """``x[key]``."""
    return x[key]


def put(x, key, v):  # noqa: ANN001, ANN201
    """``x[key] = v``."""
    x[key] = v


def tile(x, reps):  # noqa: ANN001, ANN201
    return np.tile(x, reps)


def repeat_axis(x, repeats, axis):  # noqa: ANN001, ANN201
    return np.repeat(x, repeats, axis)


def roll_axis(x, shift, axis):  # noqa: ANN001, ANN201
    return np.roll(x, shift, axis)


def cumprod_axis(x, axis):  # noqa: ANN001, ANN201
    return np.cumprod(x, axis=axis)


def vander(x, n, increasing):  # noqa: ANN001, ANN201
    return np.vander(x, n, increasing=increasing)


def _vander_loop(x, n, increasing):  # noqa: ANN001, ANN202 (Numba compiles it as written)
    """``np.vander`` by running products along each row (Numba's own takes 6x as long)."""
    out = np.empty((x.shape[0], n), dtype=x.dtype)
    for i in range(x.shape[0]):
        power = 1.0
        for j in range(n):
            out[i, j if increasing else n - 1 - j] = power
            power *= x[i]
    return out


def argsort_axis(x, axis):  # noqa: ANN001, ANN201
    return np.argsort(x, axis=axis)


def nansum_axis(x, axis):  # noqa: ANN001, ANN201
    return np.nansum(x, axis=axis)


def any_axis(x, axis):  # noqa: ANN001, ANN201
    return np.any(x, axis=axis)


def all_axis(x, axis):  # noqa: ANN001, ANN201
    return np.all(x, axis=axis)


def count_nonzero_axis(x, axis):  # noqa: ANN001, ANN201
    return np.count_nonzero(x, axis=axis)


def einsum(spec, *operands):  # noqa: ANN001, ANN201
    return np.einsum(spec, *operands)


def flat_of(x):  # noqa: ANN001, ANN201
    """An array's (or a number's) elements in C order, as a 1-D array."""
    return np.ravel(x)


def letters_of(spec: str) -> tuple[tuple[int, ...], ...]:
    """For each operand of ``spec`` and then its result, the position of each axis's letter in the
    sorted letters of ``spec`` (``'ij,jk->ik'``: ``((0, 1), (1, 2), (0, 2))``)."""
    from .linalg import einsum_parts

    subs, out = einsum_parts(spec)
    letters = sorted(set("".join(subs)))
    return tuple(tuple(letters.index(c) for c in s) for s in (*subs, out))


# how an output element of tile / repeat / roll finds its source element (``source`` below)
TILE, REPEAT, ROLL = 0, 1, 2


def source(o, out_dims, in_dims, kind, axis, p):  # noqa: ANN001, ANN201 (Numba compiles it as written)
    """The flat (C-order) index in an array of shape ``in_dims`` of the element that lands at flat
    index ``o`` of the ``out_dims``-shaped result of tile (``kind`` TILE), repeat along ``axis``
    ``p`` times (REPEAT) or roll along ``axis`` by ``p`` (ROLL)."""
    rem, src, stride = o, 0, 1
    for k in range(len(out_dims) - 1, -1, -1):
        i = rem % out_dims[k]
        rem //= out_dims[k]
        if kind == TILE:
            i = i % in_dims[k]
        elif k == axis:
            i = i // p if kind == REPEAT else (i - p) % in_dims[k]
        src += i * stride
        stride *= in_dims[k]
    return src


def lanes(x, axis):  # noqa: ANN001, ANN201 (Numba compiles it as written)
    """``x`` as a C-contiguous ``(outer, n, inner)`` array whose middle axis is ``axis``."""
    a = axis + x.ndim if axis < 0 else axis
    outer = 1
    for k in range(a):
        outer *= x.shape[k]
    inner = 1
    for k in range(a + 1, x.ndim):
        inner *= x.shape[k]
    return np.ascontiguousarray(x).reshape((outer, x.shape[a], inner))


def ufunc_into(ufunc, *operands, out):  # noqa: ANN001, ANN201
    """``ufunc(*operands)`` written into ``out`` (an operand nothing reads afterwards:
    ``copies.in_place_results``) when the result has ``out``'s shape and dtype; else a new array
    (an operand broadcasts ``out`` along an axis of length 1, or has a wider dtype)."""
    shape, dtype, plain = out.shape, out.dtype, True
    for a in operands:
        s = np.shape(a)
        if s != shape and (len(s) > len(shape) or any(m != 1 and m != n for m, n in zip(s[::-1], shape[::-1]))):
            return ufunc(*operands)
        if isinstance(a, (np.ndarray, np.generic)):
            plain = plain and a.dtype == dtype
        else:  # a Python number: weak, unless a float meets integers
            plain = plain and not (isinstance(a, (float, complex)) and dtype.kind in "biu")
    if not plain and ufunc.resolve_dtypes(tuple(_dtype_of(a) for a in operands) + (None,))[-1] != dtype:
        return ufunc(*operands)
    return ufunc(*operands, out=out)


def _dtype_of(a):  # noqa: ANN001, ANN202
    """What ``ufunc.resolve_dtypes`` takes for an operand: a dtype, or a Python number's type."""
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype
    return np.dtype(bool) if isinstance(a, bool) else type(a)


def fits(x, *values):  # noqa: ANN001, ANN201
    """Raise NumPy's ``ValueError`` unless each array of ``values`` broadcasts to ``x``'s shape:
    Numba code runs it before ``x += ...``, since Numba's in-place operators do not check (they read
    past a shorter operand and stop early in a longer one)."""
    for v in values:
        _fits_check(x, v)


def _fits_check(x, v):  # noqa: ANN001, ANN202 (Numba compiles it as written)
    extra = x.ndim - v.ndim
    if extra < 0:
        raise ValueError("non-broadcastable output operand")
    for k in range(v.ndim):
        if v.shape[k] != 1 and v.shape[k] != x.shape[extra + k]:
            raise ValueError("non-broadcastable output operand")


def fmod(x, y):  # noqa: ANN001, ANN201
    """``np.fmod(x, y)``, C's remainder (the sign of ``x``): NumPy's here; under Numba, whose own
    ``np.fmod`` of integers is wrong (``np.fmod(-7, 3)`` is 0 there), the remainder of integers is
    made from ``np.remainder`` (the sign of ``y``), which Numba computes as NumPy does."""
    return np.fmod(x, y)


def matmul(a, c):  # noqa: ANN001, ANN201
    """``a @ c`` as NumPy computes it: Numba's ``@`` takes float operands of one dtype, so each
    operand is cast to the dtype of the product (``float32`` of ``float32`` arrays, else
    ``float64``), and the product of two bool arrays is NumPy's logical one (true where some term
    is), not Numba's sum."""
    return a @ c


def _integral(t: Any) -> bool:
    """Is Numba type ``t`` an integer, or an array of integers?"""
    from numba.core import types

    return isinstance(getattr(t, "dtype", t), types.Integer)


def _register_numba() -> None:
    try:
        import numba
        from numba.core import types
        from numba.extending import overload
        from numba.np.numpy_support import as_dtype
        from numba.np.unsafe.ndarray import to_fixed_tuple
    except ImportError:  # pragma: no cover - numba is a dependency
        return

    @overload(diag_embed)
    def _diag_embed(g, x, k):  # noqa: ANN001, ANN202
        return _diag_embed_loop

    @overload(fmod)
    def _fmod(x, y):  # noqa: ANN001, ANN202
        if _integral(x) and _integral(y):
            def truncated(x, y):  # noqa: ANN001, ANN202 (the floored remainder, moved to the sign of x)
                m = np.remainder(x, y)
                return m - y * ((m != 0) & ((x < 0) != (y < 0)))
            return truncated
        return lambda x, y: np.fmod(x, y)

    @overload(matmul)
    def _matmul(a, c):  # noqa: ANN001, ANN202
        if not (isinstance(a, types.Array) and isinstance(c, types.Array)):
            return None
        if isinstance(a.dtype, types.Boolean) and isinstance(c.dtype, types.Boolean):
            def logical(a, c):  # noqa: ANN001, ANN202
                return (a.astype(np.float64) @ c.astype(np.float64)) != 0
            return logical
        single = a.dtype == types.float32 and c.dtype == types.float32
        target = types.float32 if single else types.float64
        dtype = np.float32 if single else np.float64
        if a.dtype == target and c.dtype == target:
            return lambda a, c: a @ c
        if a.dtype == target:
            return lambda a, c: a @ c.astype(dtype)
        if c.dtype == target:
            return lambda a, c: a.astype(dtype) @ c
        return lambda a, c: a.astype(dtype) @ c.astype(dtype)

    check_nb = numba.njit(_fits_check)

    @overload(fits)
    def _fits(x, *values):  # noqa: ANN001, ANN202 (one check per operand, unrolled: they differ in type)
        n = len(values[0]) if len(values) == 1 and isinstance(values[0], types.StarArgTuple) else len(values)
        body = "".join(f"    check(x, values[{k}])\n" for k in range(n)) or "    pass\n"
        scope: dict[str, Any] = {}
        exec("def impl(x, *values):\n" + body, {"check": check_nb}, scope)  # noqa: S102
        return scope["impl"]

    @overload(materialized, inline="never")
    def _materialized(x):  # noqa: ANN001, ANN202
        return materialized

    @overload(indices_in_range)
    def _indices_in_range(*conditions):  # noqa: ANN002, ANN202
        return indices_in_range

    @overload(sole_index)
    def _sole_index(x, axes, exact):  # noqa: ANN001, ANN202
        return _sole_index_loop

    @overload(rows_used)
    def _rows_used(idx, n):  # noqa: ANN001, ANN202
        return _rows_used_loop

    @overload(row_positions)
    def _row_positions(idx, rows, n):  # noqa: ANN001, ANN202
        return _row_positions_loop

    @overload(stack_list)
    def _stack_list(items):  # noqa: ANN001, ANN202
        return _stack_rows

    @overload(add_rows)
    def _add_rows(items, g):  # noqa: ANN001, ANN202
        return _add_rows_loop

    @overload(section)
    def _section(n, parts):  # noqa: ANN001, ANN202
        def checked(n, parts):  # noqa: ANN001, ANN202
            if parts <= 0 or n % parts:
                raise ValueError("array split does not result in an equal division")
            return n // parts
        return checked
    lanes_nb = numba.njit(lanes)

    def result_dtype(dtype: Any, counts: bool) -> np.dtype:
        """A float input keeps its dtype; sums and products of integers or bools are int64, the
        rest of them float64 (NumPy's rules)."""
        if isinstance(dtype, types.Float):
            return as_dtype(dtype)
        return np.dtype("int64" if counts else "float64")

    def along_axis(fn: Any, fold: Any, counts: bool, dtype: str = "") -> None:
        """Register the Numba form of ``fn(x, axis)``: ``fold(lanes, out)`` reduces each lane
        (into ``dtype``, if given: ``bool`` for ``np.any``)."""
        @overload(fn)
        def _typed(x, axis):  # noqa: ANN001, ANN202
            if not isinstance(x, types.Array) or not isinstance(axis, types.Integer):
                return None
            nd, dt = x.ndim, np.dtype(dtype) if dtype else result_dtype(x.dtype, counts)
            if nd == 1:
                def whole(x, axis):  # noqa: ANN001, ANN202
                    out = np.empty((1, 1), dt)
                    fold(lanes_nb(x, axis), out)
                    return out[0, 0]
                return whole

            kept = nd - 1

            def impl(x, axis):  # noqa: ANN001, ANN202
                lane = lanes_nb(x, axis)
                out = np.empty((lane.shape[0], lane.shape[2]), dt)
                fold(lane, out)
                a = axis + nd if axis < 0 else axis
                dims = np.empty(kept, np.intp)
                m = 0
                for k in range(nd):
                    if k != a:
                        dims[m] = x.shape[k]
                        m += 1
                return out.reshape(to_fixed_tuple(dims, kept))
            return impl

    def folding(combine: Any, empty: float, finish: Any = None) -> Any:
        """A lane fold: the first element combined with the others in order (``empty`` for an empty
        lane, NaN to raise as NumPy's max does), then ``finish(acc, n)``."""
        combine_nb = numba.njit(combine)
        finish_nb = numba.njit(finish or (lambda acc, n: acc))
        raises = empty != empty

        def fold(lane, out):  # noqa: ANN001, ANN202
            outer, n, inner = lane.shape
            if n == 0:
                if raises:
                    raise ValueError("zero-size array to reduction operation which has no identity")
                out[:] = empty
                return
            for i in range(outer):
                for k in range(inner):
                    out[i, k] = lane[i, 0, k]
                for j in range(1, n):
                    for k in range(inner):
                        out[i, k] = combine_nb(out[i, k], lane[i, j, k])
                for k in range(inner):
                    out[i, k] = finish_nb(out[i, k], n)
        return numba.njit(fold)

    along_axis(sum_axis, folding(lambda a, b: a + b, 0.0), True)
    along_axis(mean_axis, folding(lambda a, b: a + b, math.nan, lambda acc, n: acc / n), False)
    along_axis(prod_axis, folding(lambda a, b: a * b, 1.0), True)
    along_axis(nansum_axis, folding(lambda a, b: (a if a == a else 0.0) + (b if b == b else 0.0), 0.0,
                                    lambda acc, n: acc if acc == acc or n > 1 else 0.0), True)
    along_axis(amax_axis, folding(lambda a, b: a if a >= b or a != a else b, math.nan), False)
    along_axis(amin_axis, folding(lambda a, b: a if a <= b or a != a else b, math.nan), False)

    def truths(any_true: bool) -> Any:
        """The fold of ``np.any`` (``any_true``) or ``np.all``: whether some (every) element is
        nonzero; ``np.count_nonzero``'s when ``any_true`` is ``None``."""
        def fold(lane, out):  # noqa: ANN001, ANN202
            outer, n, inner = lane.shape
            for i in range(outer):
                for k in range(inner):
                    hits = 0
                    for j in range(n):
                        if lane[i, j, k] != 0:
                            hits += 1
                    if any_true is None:
                        out[i, k] = hits
                    else:
                        out[i, k] = hits > 0 if any_true else hits == n
        return numba.njit(fold)

    along_axis(any_axis, truths(True), False, "bool")
    along_axis(all_axis, truths(False), False, "bool")
    along_axis(count_nonzero_axis, truths(None), True, "int64")

    @numba.njit
    def logsumexp_fold(lane, out):  # noqa: ANN001, ANN202
        outer, n, inner = lane.shape
        for i in range(outer):
            for k in range(inner):
                m = -math.inf
                for j in range(n):
                    m = max(m, lane[i, j, k])
                if not math.isfinite(m):
                    m = 0.0
                s = 0.0
                for j in range(n):
                    s += math.exp(lane[i, j, k] - m)
                out[i, k] = m + math.log(s)

    along_axis(logsumexp_axis, logsumexp_fold, False)

    @numba.njit
    def running_product(lane):  # noqa: ANN001, ANN202
        out = lane.copy()
        for j in range(1, lane.shape[1]):
            out[:, j, :] *= out[:, j - 1, :]
        return out

    @overload(argsort_axis)
    def _argsort_axis(x, axis):  # noqa: ANN001, ANN202 (each lane sorted by Numba's 1-D argsort)
        if not isinstance(x, types.Array) or not isinstance(axis, types.Integer):
            return None

        def impl(x, axis):  # noqa: ANN001, ANN202
            lane = lanes_nb(x, axis)
            out = np.empty(lane.shape, np.int64)
            for i in range(lane.shape[0]):
                for k in range(lane.shape[2]):
                    out[i, :, k] = np.argsort(lane[i, :, k])
            return out.reshape(x.shape)
        return impl

    @overload(vander)
    def _vander(x, n, increasing):  # noqa: ANN001, ANN202
        return _vander_loop

    @overload(cumprod_axis)
    def _cumprod_axis(x, axis):  # noqa: ANN001, ANN202
        if isinstance(x, types.Array) and isinstance(axis, types.Integer):
            return lambda x, axis: running_product(lanes_nb(x, axis)).reshape(x.shape)
        return None

    source_nb = numba.njit(source)

    @numba.njit
    def gather(x, out_dims, in_dims, kind, axis, p):  # noqa: ANN001, ANN202
        flat = np.ascontiguousarray(x).reshape(x.size)
        out = np.empty(out_dims.prod(), x.dtype)
        for o in range(out.size):
            out[o] = flat[source_nb(o, out_dims, in_dims, kind, axis, p)]
        return out

    @numba.njit
    def scatter(g, out_dims, in_dims, kind, axis, p):  # noqa: ANN001, ANN202
        """The transpose of ``gather``: ``g`` (shaped ``out_dims``) summed into ``in_dims``."""
        flat = np.ascontiguousarray(g).reshape(g.size)
        out = np.zeros(in_dims.prod(), g.dtype)
        for o in range(flat.size):
            out[source_nb(o, out_dims, in_dims, kind, axis, p)] += flat[o]
        return out

    @numba.njit
    def dims_of(shape, nd):  # noqa: ANN001, ANN202
        """``shape`` padded with leading 1s to ``nd`` entries, as an array."""
        out = np.ones(nd, np.intp)
        for k in range(len(shape)):
            out[nd - len(shape) + k] = shape[k]
        return out

    @numba.njit
    def letter_strides(shape, letters, dims, n):  # noqa: ANN001, ANN202
        """The C-order stride of each letter in an array whose axes carry ``letters``; records the
        letters' lengths in ``dims``."""
        out = np.zeros(n, np.intp)
        stride = 1
        for k in range(len(letters) - 1, -1, -1):
            dims[letters[k]] = shape[k]
            out[letters[k]] += stride
            stride *= shape[k]
        return out

    @numba.njit
    def contract(af, bf, dims, sa, sb, so, out):  # noqa: ANN001, ANN202
        """``out[io] += af[ia] * bf[ib]`` over every combination of the letters' indices."""
        for f in range(dims.prod()):
            rem, ia, ib, io = f, 0, 0, 0
            for k in range(dims.size - 1, -1, -1):
                i = rem % dims[k]
                rem //= dims[k]
                ia += i * sa[k]
                ib += i * sb[k]
                io += i * so[k]
            out[io] += af[ia] * bf[ib]

    @overload(flat_of)
    def _flat_of(x):  # noqa: ANN001, ANN202
        if isinstance(x, types.Array):
            return lambda x: np.ascontiguousarray(x).reshape(x.size)
        if isinstance(x, types.Number):
            return lambda x: np.full(1, x)
        return None

    @overload(einsum, prefer_literal=True)
    def _einsum(spec, a, b=None):  # noqa: ANN001, ANN202
        if not isinstance(spec, types.StringLiteral):
            return None
        plan = letters_of(spec.literal_value)
        two = len(plan) == 3
        if not all(isinstance(x, (types.Array, types.Number)) for x in ((a, b) if two else (a,))):
            return None
        la, lb, lo = (np.array(p, dtype=np.intp) for p in (plan if two else (plan[0], (), plan[1])))
        n = len(set(la.tolist()) | set(lb.tolist()))
        no = lo.size
        dt = np.result_type(*(as_dtype(getattr(x, "dtype", x)) for x in ((a, b) if two else (a,))), np.float32)

        def impl(spec, a, b=None):  # noqa: ANN001, ANN202
            dims = np.ones(n, np.intp)
            sa = letter_strides(np.shape(a), la, dims, n)
            if two:
                sb, bf = letter_strides(np.shape(b), lb, dims, n), flat_of(b)
            else:
                sb, bf = np.zeros(n, np.intp), np.ones(1, dt)
            out_dims = np.ones(max(no, 1), np.intp)
            for k in range(no):
                out_dims[k] = dims[lo[k]]
            so = letter_strides(out_dims[:no], lo, dims.copy(), n)
            out = np.zeros(out_dims.prod(), dt)
            contract(flat_of(a), bf, dims, sa, sb, so, out)
            return out.reshape(to_fixed_tuple(out_dims, no)) if no else out[0]
        return impl

    @overload(tile)
    def _tile(x, reps):  # noqa: ANN001, ANN202
        if not isinstance(x, types.Array) or not isinstance(reps, types.BaseTuple):
            return None
        nd = max(x.ndim, len(reps))

        def impl(x, reps):  # noqa: ANN001, ANN202
            in_dims = dims_of(x.shape, nd)
            out_dims = in_dims * dims_of(reps, nd)
            return gather(x, out_dims, in_dims, TILE, 0, 0).reshape(to_fixed_tuple(out_dims, nd))
        return impl

    @overload(untile)
    def _untile(g, x, reps):  # noqa: ANN001, ANN202
        if not isinstance(g, types.Array) or not isinstance(reps, types.BaseTuple):
            return None
        nd = g.ndim

        def impl(g, x, reps):  # noqa: ANN001, ANN202
            in_dims = dims_of(np.shape(x), nd)
            return scatter(g, dims_of(g.shape, nd), in_dims, TILE, 0, 0).reshape(np.shape(x))
        return impl

    @overload(repeat_axis)
    def _repeat_axis(x, repeats, axis):  # noqa: ANN001, ANN202
        if not isinstance(x, types.Array) or not isinstance(axis, types.Integer):
            return None
        nd = x.ndim

        def impl(x, repeats, axis):  # noqa: ANN001, ANN202
            in_dims, a = dims_of(x.shape, nd), axis % nd
            out_dims = in_dims.copy()
            out_dims[a] *= repeats
            return gather(x, out_dims, in_dims, REPEAT, a, repeats).reshape(to_fixed_tuple(out_dims, nd))
        return impl

    @overload(shaped_like)
    def _shaped_like(g, x):  # noqa: ANN001, ANN202
        if not isinstance(g, types.Array):
            return None
        nd = g.ndim

        def impl(g, x):  # noqa: ANN001, ANN202
            if g.shape == np.shape(x):  # the usual case: no allocation
                return g
            g_dims, x_dims = dims_of(g.shape, nd), dims_of(np.shape(x), nd)
            summed = np.where(x_dims == 1, 1, g_dims)  # summed where x is 1, then spread where g is
            flat = scatter(g, g_dims, summed, TILE, 0, 0)
            return gather(flat, x_dims, summed, TILE, 0, 0).reshape(np.shape(x))
        return impl

    @overload(unrepeat)
    def _unrepeat(g, x, repeats, axis):  # noqa: ANN001, ANN202
        if not isinstance(g, types.Array):
            return None
        if isinstance(axis, (types.NoneType, types.Omitted)):
            def flat(g, x, repeats, axis):  # noqa: ANN001, ANN202
                n = np.full(1, g.size, np.intp)
                return scatter(g, n, n // repeats, REPEAT, 0, repeats).reshape(np.shape(x))
            return flat

        def impl(g, x, repeats, axis):  # noqa: ANN001, ANN202
            out_dims, a = dims_of(g.shape, g.ndim), axis % g.ndim
            in_dims = out_dims.copy()
            in_dims[a] //= repeats
            return scatter(g, out_dims, in_dims, REPEAT, a, repeats).reshape(np.shape(x))
        return impl

    @overload(roll_axis)
    def _roll_axis(x, shift, axis):  # noqa: ANN001, ANN202
        if not isinstance(x, types.Array) or not isinstance(axis, types.Integer):
            return None

        def impl(x, shift, axis):  # noqa: ANN001, ANN202
            dims = dims_of(x.shape, x.ndim)
            return gather(x, dims, dims, ROLL, axis % x.ndim, shift).reshape(x.shape)
        return impl

    pad_source_nb = numba.njit(pad_source)

    @numba.njit
    def padded_from(o, out_dims, in_dims, before, mode):  # noqa: ANN001, ANN202
        """The flat index in ``x`` of the element at flat index ``o`` of its padded array, or -1."""
        rem, src, stride = o, 0, 1
        for k in range(len(out_dims) - 1, -1, -1):
            s = pad_source_nb(rem % out_dims[k] - before[k], in_dims[k], mode)
            if s < 0:
                return -1
            rem //= out_dims[k]
            src += s * stride
            stride *= in_dims[k]
        return src

    @numba.njit
    def pad_plan(shape, widths, mode):  # noqa: ANN001, ANN202
        """The input's and the padded array's lengths and the widths before, as arrays."""
        nd = len(shape)
        in_dims, before = np.empty(nd, np.intp), np.empty(nd, np.intp)
        out_dims = np.empty(nd, np.intp)
        for k in range(nd):
            in_dims[k], before[k] = shape[k], widths[k][0]
            out_dims[k] = shape[k] + widths[k][0] + widths[k][1]
            if shape[k] == 0 and mode != 0 and out_dims[k]:
                raise ValueError("can't extend empty axis using modes other than 'constant' or 'empty'")
        return in_dims, out_dims, before

    @numba.njit
    def pad_code(mode):  # noqa: ANN001, ANN202
        for code in range(len(PAD_MODES)):
            if PAD_MODES[code] == mode:
                return code
        raise ValueError("np.pad mode not supported")

    @overload(pad)
    def _pad(x, widths, mode, value):  # noqa: ANN001, ANN202
        if not isinstance(x, types.Array):
            return None
        nd = x.ndim

        def impl(x, widths, mode, value):  # noqa: ANN001, ANN202
            code = pad_code(mode)
            in_dims, out_dims, before = pad_plan(x.shape, widths, code)
            flat = np.ascontiguousarray(x).reshape(x.size)
            out = np.empty(out_dims.prod(), x.dtype)
            for o in range(out.size):
                s = padded_from(o, out_dims, in_dims, before, code)
                out[o] = value if s < 0 else flat[s]
            return out.reshape(to_fixed_tuple(out_dims, nd))
        return impl

    @overload(unpad)
    def _unpad(g, x, widths, mode):  # noqa: ANN001, ANN202
        if not isinstance(g, types.Array):
            return None

        def impl(g, x, widths, mode):  # noqa: ANN001, ANN202
            code = pad_code(mode)
            in_dims, out_dims, before = pad_plan(np.shape(x), widths, code)
            flat = np.ascontiguousarray(g).reshape(g.size)
            out = np.zeros(in_dims.prod(), g.dtype)
            for o in range(flat.size):
                s = padded_from(o, out_dims, in_dims, before, code)
                if s >= 0:
                    out[s] += flat[o]
            return out.reshape(np.shape(x))
        return impl

    _register_indexing(numba, types, overload)


def _key_plan(x: Any, key: Any) -> tuple[list[str], str, str]:
    """For Numba types of ``x`` and ``key``: the statements that check the key against ``x``'s shape,
    the shape of ``x`` with a length-1 axis at each ``None``, and the key that indexes an array of
    that shape (each ``None`` a full slice, each mask its ``np.nonzero``), as source text."""
    from numba.core import types

    checks, dims, parts = [], [], []
    axis = 0  # the next axis of x
    for k, t in enumerate(key):
        if isinstance(t, (types.NoneType, types.Omitted)):
            dims.append("1")
            parts.append("(slice(None),)")
            continue
        if isinstance(t, types.Array) and isinstance(t.dtype, types.Boolean):
            checks.append(f"check_mask(key[{k}], x.shape, {axis})")
            parts.append(f"np.nonzero(key[{k}])")
            width = t.ndim
        else:
            if isinstance(t, types.Integer):
                checks.append(f"check_index(np.full(1, key[{k}]), x.shape[{axis}])")
            elif isinstance(t, types.Array):
                checks.append(f"check_index(key[{k}], x.shape[{axis}])")
            parts.append(f"(key[{k}],)")
            width = 1
        dims += [f"x.shape[{a}]" for a in range(axis, axis + width)]
        axis += width
    dims += [f"x.shape[{a}]" for a in range(axis, x.ndim)]
    return checks, f"({', '.join(dims)},)", " + ".join(parts) or "()"


def check_index(i, n):  # noqa: ANN001, ANN201
    """Raise NumPy's IndexError unless every index in ``i`` is in ``[-n, n)``."""
    for k in i.flat:
        if k < -n or k >= n:
            raise IndexError("index out of bounds")


def check_mask(m, shape, axis):  # noqa: ANN001, ANN201
    """Raise NumPy's IndexError unless boolean mask ``m`` has the lengths of ``shape[axis:]``."""
    for k in range(m.ndim):
        if axis + k >= len(shape) or m.shape[k] != shape[axis + k]:
            raise IndexError("boolean index did not match indexed array")


def positions(x, key):  # noqa: ANN001, ANN201
    """The C-order position in ``x`` of each element of ``x[key]``."""
    return np.arange(np.size(x)).reshape(np.shape(x))[key]


def _register_indexing(numba: Any, types: Any, overload: Any) -> None:
    """The Numba forms of ``positions`` and of the kernels that read and write through it."""
    check_index_nb, check_mask_nb = numba.njit(check_index), numba.njit(check_mask)

    @overload(positions)
    def _positions(x, key):  # noqa: ANN001, ANN202 (source made for the key's types)
        if not isinstance(x, types.Array) or not isinstance(key, types.BaseTuple):
            return None
        checks, shape, index = _key_plan(x, key)
        body = "".join(f"    {c}\n" for c in checks)
        source = f"def impl(x, key):\n{body}    return np.arange(x.size).reshape({shape})[{index}]\n"
        scope: dict[str, Any] = {}
        exec(source, {"np": np, "check_index": check_index_nb, "check_mask": check_mask_nb}, scope)  # noqa: S102
        return scope["impl"]

    @overload(gather)
    def _gather(x, key):  # noqa: ANN001, ANN202
        def impl(x, key):  # noqa: ANN001, ANN202
            at = positions(x, key)
            out = np.empty(at.shape, x.dtype)
            for k in range(at.size):
                out.flat[k] = x.flat[at.flat[k]]
            return out
        return impl

    @overload(put)
    def _put(x, key, v):  # noqa: ANN001, ANN202
        def impl(x, key, v):  # noqa: ANN001, ANN202 (in C order: a repeated index keeps the last value)
            at = positions(x, key)
            values = np.broadcast_to(v, at.shape)
            for k in range(at.size):
                x.flat[at.flat[k]] = values.flat[k]
        return impl

    @overload(add_at)
    def _add_at(x, key, v):  # noqa: ANN001, ANN202
        def impl(x, key, v):  # noqa: ANN001, ANN202
            at = positions(x, key)
            values = np.broadcast_to(v, at.shape)
            for k in range(at.size):
                x.flat[at.flat[k]] += values.flat[k]
        return impl

    @overload(last_writes)
    def _last_writes(x, key):  # noqa: ANN001, ANN202
        def impl(x, key):  # noqa: ANN001, ANN202
            at = positions(x, key)
            last = np.full(x.size, -1, np.int64)
            for k in range(at.size):
                last[at.flat[k]] = k
            out = np.empty(at.shape, np.bool_)
            for k in range(at.size):
                out.flat[k] = last[at.flat[k]] == k
            return out
        return impl


_register_numba()

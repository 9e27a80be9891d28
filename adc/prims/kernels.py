"""Run-time kernels for array transposes NumPy does not spell: imported by generated code as
``adc_arrays`` only when a program uses one (``codegen.header``).

Numba also gets ``np.pad`` of 1-D and 2-D arrays in constant mode (an ``overload`` of NumPy's own
function, so generated code keeps writing ``np.pad``).  ``diag_embed(g, x, k)`` puts ``g`` on the ``k``-th diagonal of a zero array shaped like ``x`` (the
transpose of ``np.diag(x, k)``); it is a loop, so Numba compiles the same function (an
``overload``).  ``untile``/``unrepeat`` sum a ``np.tile``/``np.repeat`` result back to its
argument's shape (NumPy only: ``tile`` and ``repeat`` are ``nojit``).
"""
from __future__ import annotations

import numpy as np


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


def unrepeat(g, x, repeats, axis):  # noqa: ANN001, ANN201
    if axis is None:
        return np.reshape(np.reshape(g, (-1, repeats)).sum(axis=1), np.shape(x))
    shape = np.shape(x)
    return np.reshape(g, shape[:axis] + (shape[axis], repeats) + shape[axis + 1:]).sum(axis=axis + 1)


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


def _register_numba() -> None:
    try:
        from numba.extending import overload
    except ImportError:  # pragma: no cover - numba is a dependency
        return

    @overload(diag_embed)
    def _diag_embed(g, x, k):  # noqa: ANN001, ANN202
        return _diag_embed_loop

    @overload(np.pad)
    def _pad(array, pad_width, constant_values=0):  # noqa: ANN001, ANN202 (np.pad of 1-D and 2-D arrays, constant)
        from numba.core import types

        if not isinstance(array, types.Array) or array.ndim not in (1, 2):
            return None
        if array.ndim == 1:
            def pad_1d(array, pad_width, constant_values=0):  # noqa: ANN001, ANN202
                before, after = pad_width[0]
                n = array.shape[0]
                out = np.full(n + before + after, constant_values, array.dtype)
                out[before:before + n] = array
                return out
            return pad_1d

        def pad_2d(array, pad_width, constant_values=0):  # noqa: ANN001, ANN202
            (top, bottom), (left, right) = pad_width[0], pad_width[1]
            n, m = array.shape
            out = np.full((n + top + bottom, m + left + right), constant_values, array.dtype)
            out[top:top + n, left:left + m] = array
            return out
        return pad_2d

    @overload(last_writes)
    def _last_writes(x, key):  # noqa: ANN001, ANN202 (one integer array into a 1-D array)
        from numba.core import types

        if not (isinstance(x, types.Array) and x.ndim == 1 and isinstance(key, types.BaseTuple) and len(key) == 1
                and isinstance(key[0], types.Array) and key[0].ndim == 1 and isinstance(key[0].dtype, types.Integer)):
            return None

        def kept(x, key):  # noqa: ANN001, ANN202
            idx, n = key[0], x.shape[0]
            last = np.full(n, -1, np.int64)
            for k in range(idx.shape[0]):
                last[idx[k] % n] = k
            out = np.empty(idx.shape[0], np.bool_)
            for k in range(idx.shape[0]):
                out[k] = last[idx[k] % n] == k
            return out
        return kept

    @overload(section)
    def _section(n, parts):  # noqa: ANN001, ANN202
        def checked(n, parts):  # noqa: ANN001, ANN202
            if parts <= 0 or n % parts:
                raise ValueError("array split does not result in an equal division")
            return n // parts
        return checked


_register_numba()

"""A loop-carried array whose shape changes from one iteration to the next (``y =
np.concatenate([y, v])``): the reverse sweep reads its shape (to split the concatenation's
adjoint), and must read each iteration's, not the last one's.  Before, it read the array as the
loop left it: plain code raised a broadcasting error and ``jit=True`` returned a wrong gradient
silently (found by review).  ``same_shapes.py`` tells which carried arrays keep their shape; the
others are kept per iteration (a reference, not a copy); for those that keep it, the reverse reads
the loop's result, which an enclosing reverse loop restores per iteration.  A loop that keeps its
shape (RK4's ``y = y + h * k``) keeps nothing more.  The functions are module-level so adc can read their
source."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc import pipeline
from adc.api import _types_for
from adc.ir import Const, Op, Program, Region, Var
from adc.same_shapes import SameShapes
from adc.types import Type


def grows(x):
    y = x * 1.0
    for e in x:
        y = np.concatenate([y, x * e])
    return np.sum(y * y)


def grows_in_recursion(p, q, d):
    y = q
    for e in p:
        if y[0] > 2.0:
            return 0.5
        y = np.concatenate([y, p * 0.5])
    if d > 1:
        return np.sum(y * y)
    return grows_in_recursion(p, y[:3] * 1.0, d + 1) * np.sum(p)


def recursion(x):
    return grows_in_recursion(x, x, 0)


def nested_starts(x):
    """The inner loop keeps ``acc``'s shape, but starts from another shape in each outer iteration:
    its reverse reads the inner loop's result, restored per outer iteration (review: under
    ``jit=True`` the gradient was wrong, read from the last outer iteration's ``acc``)."""
    s = 0.0
    n = x.shape[0]
    for i in range(2):
        acc = x[:1 + i * (n - 1)] * 1.0
        for j in range(2):
            w = np.concatenate([acc, x])
            acc = acc * 2.0
            s = s + np.sum(w * np.arange(w.shape[0]))
    return s


def steps(x, n):
    """RK-like steps: ``y`` keeps the shape of ``np.zeros_like(x)``."""
    y = np.zeros_like(x)
    for i in range(n):
        k = x.copy()
        k[1:] = x[1:] * y[:-1]
        y = y + 0.1 * k
    return y[-1]


def transposed(x):
    """A carried array that is a transpose after its first iteration: under ``jit=True`` the record
    of it (a list of C-contiguous arrays) could not take it (a Numba typing error, session 13)."""
    y = np.outer(x, x)
    for i in range(2):
        y = np.concatenate([y, y * 0.5], axis=0).T
    return np.sum(y * y)


def central(fn, x, *rest, h=1e-6):
    return np.array([(fn(x + e, *rest) - fn(x - e, *rest)) / (2 * h) for e in np.eye(x.size) * h])


@pytest.mark.parametrize("fn, args", [(grows, (np.array([0.3, 0.1, 0.5]),)), (recursion, (np.array([0.3, 0.1, 0.5]),)),
                                      (nested_starts, (np.array([0.3, -0.2, 0.5, 0.7]),)),
                                      (steps, (np.array([0.3, -0.7, 1.1, 0.4]), 3)),
                                      (transposed, (np.array([0.3, -0.2, 0.5]),))])
def test_gradients(fn, args):
    want = central(fn, *args)
    for jit in (False, True):
        for mode in ("reverse", "forward"):
            np.testing.assert_allclose(adc.grad(fn, jit=jit, mode=mode)(*args), want, rtol=1e-6, atol=1e-8,
                                       err_msg=f"jit={jit}, {mode}")


def test_only_the_array_whose_shape_changes_is_kept():
    x = np.array([0.3, 0.1, 0.5])
    _, types = _types_for(grows, (x,))
    code = pipeline.compile_derivative(grows, types, "grad", [0], load=False).source
    assert "y_rec[i] = y" in code and "y = y_rec[i]" in code, code  # each iteration's y, for its shape
    _, types = _types_for(steps, (x, 3))
    code = pipeline.compile_derivative(steps, types, "grad", [0], load=False).source
    assert "y_rec" not in code and "ytape" not in code, code


VEC = Type("float", 1, "float64", (False,))


def _loop(body_op: str) -> tuple[Program, Var]:
    """``y = zeros_like(x); for i in range(3): y = y <op> ...``: ``add`` with ``x * 2.0`` (the shape
    of ``x``), ``add`` with ``w`` (another array), or ``concatenate`` with ``x``."""
    x, w, y0, y, i, t, y1, out = (Var(n, VEC) if n != "i" else Var(n, Type("int")) for n in
                                  ("x", "w", "y0", "y", "i", "t", "y1", "out"))
    ops = {"same": [Op("mul", [x, Const(2.0)], [t]), Op("add", [y, t], [y1])],
           "other": [Op("add", [y, w], [y1])],
           "grows": [Op("concatenate", [y, x], [y1], (("axis", 0),))]}[body_op]
    body = Region([i, y], ops, [y1])
    loop = Op("for", [Const(0), Const(3), Const(1), y0], [out], (), None, [body])
    prog = Program("f", [x, w], Region([], [Op("zeros_like", [x], [y0]), loop], [out]))
    return prog, y


@pytest.mark.parametrize("body, keeps", [("same", True), ("other", False), ("grows", False)])
def test_a_carried_array_keeps_its_shape_only_where_shown(body, keeps):
    prog, y = _loop(body)
    assert SameShapes(prog).keeps(y) == keeps

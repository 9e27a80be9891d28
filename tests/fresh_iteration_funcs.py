"""Loops whose every iteration makes its arrays anew (``y_new = np.empty(n)``), for
test_fresh_iterations.py, and look-alikes that do write the array an iteration starts with."""
import math

import numpy as np


def relax(x, s):
    """The carried ``y`` is read element by element; only the new ``y_new`` is written."""
    n = x.shape[0]
    y = x * 0.5
    for _ in range(s):
        y_new = np.empty(n)
        y_new[0] = y[0]
        for i in range(1, n):
            y_new[i] = y[i] * 0.5 + math.sin(y[i - 1]) * x[i]
        y = y_new
    return np.sum(y * y)


def written_later(x, s):
    """``y``, made before the loop, is read element by element, then written in the same
    iteration: the next iteration reads other numbers."""
    n = x.shape[0]
    y = x * 0.5
    acc = 0.0
    for _ in range(s):
        total = 0.0
        for i in range(1, n):
            total = total + math.sin(y[i - 1]) * y[i]
        y[0] = math.cos(total)
        acc = acc + total
    return acc


def written_through_alias(x, s):
    """As ``written_later``, the write going through another name for ``y``."""
    n = x.shape[0]
    y = x * 0.5
    acc = 0.0
    for _ in range(s):
        total = 0.0
        for i in range(1, n):
            total = total + math.sin(y[i - 1]) * y[i]
        z = y
        z[0] = math.cos(total)
        acc = acc + total
    return acc


def copied_then_written(x, s):
    """Each iteration copies the array it starts with and writes the copy after reading it."""
    n = x.shape[0]
    y = x * 0.5
    for _ in range(s):
        y = y.copy()
        total = 0.0
        for i in range(1, n):
            total = total + math.sin(y[i - 1]) * y[i]
        y[0] = math.cos(total)
    return np.sum(y * y)


def stages(x, s):
    """RK4-like stages, each an array made by ``np.empty_like`` and filled by a loop; the reverse
    sweep reads the stages only for their shape."""
    n = x.shape[0]
    h = 1.0 / s
    y = np.zeros(n)
    for _ in range(s):
        k1 = np.empty_like(x)
        k1[0] = x[0]
        for i in range(1, n):
            k1[i] = x[i] * y[i - 1]
        t = np.empty(n)
        for i in range(n):
            t[i] = y[i] + h * k1[i] / 2.0
        k2 = np.empty_like(x)
        k2[0] = x[0]
        for i in range(1, n):
            k2[i] = x[i] * t[i - 1]
        y_new = np.empty(n)
        for i in range(n):
            y_new[i] = y[i] + h * (k1[i] + k2[i]) / 2.0
        y = y_new
    return y[n - 1] + y[n - 2]


def divided(x, s):
    """A stage used only divided by a constant: the partial with respect to the divisor, which
    would read the stage's elements, is not needed, so the stage is not kept."""
    n = x.shape[0]
    y = np.zeros(n)
    for _ in range(s):
        k = np.empty_like(x)
        for i in range(n):
            k[i] = math.sin(x[i] + y[i])
        y_new = np.empty(n)
        for i in range(n):
            y_new[i] = y[i] + k[i] / 6.0
        y = y_new
    return np.sum(y * y)


def written_then_read(a):
    """``y0`` is read for its shape (its adjoint's zeros) and, after a write, for an element: made
    again for the shape, it would not hold the written element (fuzzing, seed 551, program 1802)."""
    y1 = np.ones(4)
    y1[-1] = a
    for k in range(2):
        y0 = np.array([0.5, 0.5, 0.5, a])
        y0[0] += 0.5 * a
        y1[:] = y0[0] * y1
    return np.sum(y1)

"""Programs whose Numba derivatives fuse element-wise statements on 1-D arrays (``adc/fusion.py``):
shifted slices, writes into slices and elements, in-place adds, and the runs fusion must leave
alone (an array read at an element the loop already wrote, an array read through a view)."""
import numpy as np


def rk4_last(x, s):
    """GradBench's ode: the RK4 step reads each stage one element back (``y[:-1]``)."""
    h = 2.0 / s
    y = np.zeros_like(x)
    for _ in range(s):
        k1 = x.copy()
        k1[1:] = x[1:] * y[:-1]
        t = y + h * k1 / 2.0
        k2 = x.copy()
        k2[1:] = x[1:] * t[:-1]
        t = y + h * k2 / 2.0
        k3 = x.copy()
        k3[1:] = x[1:] * t[:-1]
        t = y + h * k3
        k4 = x.copy()
        k4[1:] = x[1:] * t[:-1]
        y = y + h * (k1 + 2.0 * k2 + 2.0 * k3 + k4) / 6.0
    return y[-1] + 0.5 * y[0]


def neighbours(x):
    """Products of neighbours, the end read from both sides."""
    return np.sum(x[1:] * x[:-1] + 2.0 * x[:-1] - x[1:] / 3.0)


def smoothed(x, y):
    """A three-point stencil written into the middle of a copy, then into its first element."""
    z = x.copy()
    z[1:-1] = (x[:-2] + x[2:]) / 2.0 - y[1:-1] * x[1:-1]
    z[:1] = 0.5 * z[:1]
    return np.sum(z * z)


def accumulated(x):
    """In-place adds into an array, through slices and whole, then read one element back."""
    w = np.zeros_like(x)
    w[:-1] += x[1:] * 2.0
    w += x * x
    w[1:] += w[:-1] * 0.5
    return np.sum(w * x)


def ratio(x, y):
    """A division by an array (NumPy's ``inf``, never ``ZeroDivisionError``) and by a number."""
    r = x / y + x / 4.0
    r[-1:] = 1.0
    return np.sum(r * x)


def read_after_write(x):
    """``g[1:] += g[:-1] * s`` after ``np.sum`` (which ends the run): the loop would read ``g``
    one element back after writing it, so the statement stays unfused."""
    g = x * 2.0
    s = np.sum(x)
    g[1:] += g[:-1] * s
    return np.sum(g * x)


def through_a_view(x):
    """``v``, a view of ``g`` made before the run that writes ``g``: left unfused."""
    g = x * 2.0
    v = g[:-1]
    s = np.sum(v)
    g[1:] += v * s
    return np.sum(g * x)


def scaled(x, w):
    """``w`` may broadcast (one element): the guard fails and the unfused code runs."""
    return np.sum(x * w + x)


def rk4_four_steps(x):
    return rk4_last(x, 4)


def tail_written_from_the_front(x):
    """A slice counted from the end written with elements counted from the start: the element at
    ``i`` reads ``x[i - n + 2]``, which the loop cannot state (left unfused; found by review)."""
    z = x * 2.0
    z[-2:] = x[:2] * 3.0
    return np.sum(z * z)


def stale_view(x):
    """``v``, made before the run that writes ``g``, is read after the write and must see it
    (a loop of another length read it before ``g``'s loop wrote it; found by review)."""
    g = x * 2.0
    v = g[1:]
    s = np.sum(x)
    g[:] = x * s
    w = v * 3.0
    return np.sum(w * w)


def signed_zero(x):
    """``-0.0`` written into zeros: ``1 / z`` is ``-inf`` there, ``inf`` elsewhere (the two zeros
    were taken for one number; found by review)."""
    z = np.zeros_like(x)
    z[:2] = -0.0
    w = 1.0 / z
    w2 = w * 2.0
    return np.sum(np.arctan(w2) * x)

"""Programs for the nested-differentiation tests (tests/test_nested.py): loops that record values
(top-level ``for``), loops that push onto tapes (nested loops, ``while``), branches and array
writes, each with its gradient written by hand."""
from __future__ import annotations

import math

import numpy as np


def recorded(x):  # a top-level ``for``: the reverse sweep reads ``s`` from a preallocated record
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i]) * s + x[i] * x[i]
    return s


def recorded_grad(x):
    n = len(x)
    ss = [0.0]
    for i in range(n):
        ss.append(ss[-1] + math.sin(x[i]) * ss[-1] + x[i] * x[i])
    g = np.zeros(n)
    gs = 1.0
    for i in range(n - 1, -1, -1):
        s = ss[i]
        g[i] = gs * (math.cos(x[i]) * s + 2 * x[i])
        gs = gs * (1.0 + math.sin(x[i]))
    return g


def nested_loops(x):  # an inner loop: its carried values go on a tape
    s = 1.0
    for i in range(len(x)):
        t = x[i]
        for k in range(3):
            t = math.sin(t + 0.3 * s) * x[i]
        s = s + t * t
    return s


def halving(x):  # ``while``: the trip count is counted, the carried value taped
    s = x
    while s < 10.0:
        s = s * 1.5 + math.sin(s)
    return s * s


def halving_grad(x):
    s, ds = x, 1.0
    while s < 10.0:
        s, ds = s * 1.5 + math.sin(s), ds * (1.5 + math.cos(s))
    return 2 * s * ds


def branchy(x):  # branches inside a loop over an array
    s = 0.0
    for i in range(len(x)):
        if x[i] > 0.0:
            s = s + x[i] ** 3 * s + 1.0
        else:
            s = s * math.exp(x[i])
    return s


def writes(x):  # element writes into a new array, read back in a loop
    y = np.zeros_like(x)
    for i in range(len(x)):
        y[i] = x[i] * x[(i + 1) % len(x)]
    y[0] = y[0] * x[1]
    return np.sum(y * y) + np.sum(np.sin(y) * x)


def two_args(a, b):  # a scalar program of two arguments with a loop and a branch
    s = a
    for k in range(4):
        if s > b:
            s = s - math.sin(b * s)
        else:
            s = s + a * b
    return s * math.exp(0.1 * b)


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_grad(x):
    g = np.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] += -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * d
    return g


def reshaped(x):  # gradients with reshape_like and expand_dims (reductions along an axis)
    X = x.reshape(2, 2)
    return np.sum(np.sum(X ** 2, axis=1) ** 2) + np.sum((np.sum(np.sin(X), axis=0) / 2.0) ** 2)


# -- adc-made gradients called inside differentiated functions (nested AD) ------------------------
import adc  # noqa: E402


def cube(x):
    return x * x * x


cube_grad = adc.grad(cube)


def calls_cube_grad(x):  # 3 x^3: its derivative is 9 x^2
    return cube_grad(x) * x


def potential(x, w):
    d1 = x - np.array([10.0, 10.0 - w])
    d2 = x - np.array([10.0, 0.0])
    return 1.0 / np.sqrt(np.sum(d1 * d1)) + 1.0 / np.sqrt(np.sum(d2 * d2))


force = adc.grad(potential)
force_forward = adc.grad(potential, mode="forward")


def euler(w, grad_p):  # GradBench's particle, with the loop's exit in its condition
    x = np.array([0.0, 8.0])
    xdot = np.array([0.75, 0.0])
    dt = 0.1
    while x[1] + dt * xdot[1] > 0.0:
        xddot = -grad_p(x, w)
        x = x + dt * xdot
        xdot = xdot + dt * xddot
    dt_f = -x[1] / xdot[1]
    x_t_f = x + dt_f * xdot
    return x_t_f[0] * x_t_f[0]


def miss(w):
    return euler(w, force)


def miss_forward(w):
    return euler(w, force_forward)


def neg_f(y, x):
    return -((x[0] * x[0] + x[1] * x[1]) * y[0] - (y[0] * y[0] + y[1] * y[1]))


grad_y = adc.grad(neg_f)


def ascend(x):  # GradBench's saddle, simplified: a fixed number of steps of the inner descent
    y = np.array([1.0, 0.5])
    for k in range(5):
        y = y - 0.3 * grad_y(y, x)
    return np.sum(x * x) - np.sum(y * y) + y[0] * x[1]


def ascend_while(x):  # the same with a data-dependent ``while``
    y = np.array([1.0, 0.5])
    g = grad_y(y, x)
    while np.sum(g * g) > 1e-3:
        y = y - 0.3 * g
        g = grad_y(y, x)
    return np.sum(x * x) - np.sum(y * y) + y[0] * x[1]


recorded_grad_by_adc = adc.grad(recorded)


def calls_recorded_grad_in_a_loop(x):
    s = 0.5
    for k in range(2):
        s = s + np.sum(recorded_grad_by_adc(x * s))
    return s


def vector_loop(x):  # R^n -> R^n: a record of a top-level loop and element writes
    y = np.zeros_like(x)
    s = 0.0
    for i in range(len(x)):
        s = s + math.sin(x[i]) * x[(i + 1) % len(x)]
        y[i] = s * x[i]
    return y


def vector_while(x):  # R^n -> R^2: a ``while`` loop (a tape) and a branch
    s = x[0]
    t = 1.0
    while s < 4.0:
        if x[1] > 0.0:
            s = s * 1.3 + math.sin(s * x[1])
        else:
            s = s * 1.7
        t = t * math.cos(0.1 * s)
    return np.array([s * x[2], t + x[1] * x[2]])


def written_in_branch(x):  # a branch copies y (written after): the gradient reads the copy in its mirror branch
    y = x * 1.0
    if x[0] > 0:
        z = np.sin(y) * y
    else:
        z = y * 2.0
    y[0] = 5.0
    return np.sum(z * y)

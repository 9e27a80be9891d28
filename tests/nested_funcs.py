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

"""Functions for tests/test_composed_trees.py and tests/test_jacobian_derivatives.py: container
arguments, loops, global arrays and tuple results under composed transforms."""
from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

import adc

Pair = collections.namedtuple("Pair", "w c")


@dataclass
class Line:
    a: np.ndarray
    b: float


def dict_loop(p, x):  # a dict of an array and a number; a top-level loop (a record)
    s = 0.0
    for i in range(len(x)):
        s = s + np.tanh(p["w"][i] * x[i] + p["b"]) ** 2
    return s + np.sum(p["w"] ** 2) * p["b"]


def pair_while(p, n):  # a namedtuple; a ``while`` loop (a tape) and a branch
    s = 0.0
    k = 0
    while k < n:
        if s > 1.0:
            s = s * p.c
        s = s + np.sum(np.sin(p.w * (k + 1)))
        k += 1
    return s * s


def line_list(m, xs):  # a dataclass and a list of arrays (the loop over the list is unrolled)
    total = 0.0
    for x in xs:
        total = total + (np.sum(m.a * x) + m.b) ** 2 * m.b
    return total


def scaled(s, p):  # a scalar and a dict: grad w.r.t. s, then w.r.t. p
    return s ** 3 * np.sum(np.sin(p["a"]) * p["b"])


dict_loop_grad = adc.grad(dict_loop)


def calls_dict_grad(p, x):  # a gradient of a dict, called inside: its result read by key
    g = dict_loop_grad(p, x)
    return np.sum(g["w"] * x) + g["b"] * p["b"]


W = np.array([0.5, -1.5, 2.0])
C = 2.0


def reads_global(x):  # a global array (an input of the generated code) and a global number
    return np.sum(W * np.sin(x) ** 2) * C


reads_global_grad = adc.grad(reads_global)


def calls_global_grad(x):
    return np.sum(reads_global_grad(x) * x)


def two_outputs(x):  # a tuple of an array and a number; a loop
    y = x * x
    s = 0.0
    for i in range(len(x)):
        s = s + np.sin(x[i]) * y[i]
    return y * s, s


def vector_of(x):  # R^3 -> R^2 with a loop (a record) and a branch
    out = np.zeros(2)
    for i in range(len(x)):
        if x[i] > 0.0:
            out[0] = out[0] + x[i] ** 3
        else:
            out[1] = out[1] + np.sin(x[i]) * x[0]
    return out * np.sum(x)


def quartic(x):  # R -> R: its derivatives are known
    return x ** 4 + np.sin(x)


def first_output(x):
    return two_outputs(x)[0]


def second_output(x):
    return two_outputs(x)[1]


def array_state(xs, W):  # a loop carrying an array: a record of arrays; its gradient uses W.T in the loop
    h = np.zeros(2)
    s = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        s = s + np.sum(h ** 2)
    return s

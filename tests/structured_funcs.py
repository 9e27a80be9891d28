"""Programs whose names hold tuples (and records) rebound in branches and loops: each leaf of a
structured name is merged like a scalar (these gave silently wrong values before)."""
import numpy as np


def tuple_rebound_in_branch(x):
    t = (x, 1.0)
    if x > 0:
        t = (2.0 * x, 1.0)
    return t[0] * x


def tuple_carried_by_loop(x):
    t = (x, 1.0)
    for i in range(3):
        t = (t[0] * x, t[1])
    return t[0]


def tuple_loop_with_break(x):
    t = (x, 2.0)
    for i in range(4):
        if t[0] > 5.0:
            break
        t = (t[0] * x, t[1] + x)
    return t[0] + t[1]


def array_pair_in_loop(x):
    a = np.ones(3) * x
    pair = (a, x)
    for i in range(3):
        pair = (pair[0] * x, pair[1] + 1.0)
    return np.sum(pair[0]) * pair[1]


def tuple_with_early_return(x):
    t = (x, x)
    if x > 1.0:
        return x
    else:
        t = (x * x, x)
    return t[0] * t[1]


def tuple_in_while(x):
    state = (x, 0.0)
    while state[0] < 10.0:
        state = (state[0] * 2.0, state[1] + state[0])
    return state[1]


def nested_tuple_unpacked(x):
    acc = ((x, 1.0), x)
    for i in range(2):
        (a, b), c = acc
        acc = ((a * c, b + a), c)
    return acc[0][0] + acc[0][1]


def mismatched_tuples(x):
    t = (x, 1.0)
    if x > 0:
        t = (x, 1.0, 2.0)
    return t[0]

"""Functions for tests/test_dynamic_lists.py: lists appended in loops whose trip count is known only
at run time (``range(n)``, ``while``, a long constant ``range``), and what reads them."""
from __future__ import annotations

import math

import numpy as np


def rnn(xs, W):
    """The hidden states of an RNN, appended and stacked."""
    hs = []
    h = np.zeros(2)
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def rnn_steps(xs, W, T):
    """`range(T)` with an int argument; the last state, the length, and a loop over the list."""
    hs = []
    h = np.zeros(2)
    for t in range(T):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    total = 0.0
    for h in hs:
        total = total + np.sum(h * h)
    return total + np.sum(hs[-1]) * len(hs) + np.sum(hs[T // 2])


def states(xs, W):
    """The stacked states themselves: an array result (jvp, vjp, Jacobians)."""
    hs = []
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.stack(hs, axis=1)


def strided(x, w):
    """`range(1, n, 2)`; numbers appended: `sum`, `max`, `np.array`, `reversed`, `enumerate`."""
    vals = []
    for i in range(1, x.shape[0], 2):
        vals.append(math.sin(w * x[i]) * x[i - 1])
    s = 0.0
    for k, v in enumerate(vals):
        s = s + (k + 1.0) * v
    r = 0.0
    for v in reversed(vals):
        r = r * 0.5 + v
    return sum(vals) + max(vals) + np.sum(np.array(vals) ** 2) + s + r


def long_constant_range(x):
    """A constant `range` longer than adc unrolls: one loop in the generated code."""
    ys = []
    y = x
    for t in range(40):
        y = np.sin(y) * 1.01 + 0.01 * t
        ys.append(y)
    return np.sum(np.mean(np.stack(ys), axis=0) ** 2)


def recurrence(x, a):
    """Items read back inside the loop that appends (`xs[-1]`, `xs[-2]`), a list with items before
    the loop."""
    xs = [x, x * a]
    for t in range(x.shape[0] + 3):
        xs.append(np.tanh(a * xs[-1] - 0.5 * xs[-2]))
    return np.sum(np.stack(xs, axis=1) * np.arange(1.0, len(xs) + 1.0))


def appended_if(x, w):
    """Appends in an `if` inside the loop: the length depends on the data."""
    pos = []
    neg = []
    for i in range(x.shape[0]):
        v = w * x[i]
        if v > 0.0:
            pos.append(v * v)
        else:
            neg.append(np.exp(v))
    return sum(pos, 0.5) + sum(neg) * len(pos)


def nested(A, x):
    """Appends in a loop nested in another, to one list made before both; zip with an array."""
    out = []
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            out.append(A[i, j] * x[j])
    s = 0.0
    for v, y in zip(out, np.arange(len(out)) * 0.5):
        s = s + v * y
    return s + np.sum(np.array(out) ** 3)


def grown_in_while(x, c):
    """A `while` loop whose test reads the list's length."""
    out = []
    s = x
    while len(out) < 3 or s < c:
        s = s * 1.5 + 0.1
        out.append(s)
    return out[-1] * out[0] + sum(out)


def pairs(x, W):
    """Tuples appended: one list per part, read back by a loop that unpacks them."""
    cells = []
    h = np.zeros(2)
    c = np.zeros(2)
    for t in range(x.shape[0]):
        c = 0.5 * c + np.tanh(W @ h + x[t])
        h = np.tanh(c) * 0.9
        cells.append((h, c))
    s = 0.0
    for h, c in cells:
        s = s + np.sum(h * c)
    return s + np.sum(cells[0][1])


def numpy_reads(xs, W):
    """NumPy functions read the list as `np.array(hs)`; appends after the loop and in a second loop."""
    hs = []
    h = np.zeros(2)
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    hs.append(h * h)
    for t in range(2):
        hs.append(hs[t] * hs[-1])
    flat = np.concatenate(hs)
    return np.sum(np.mean(hs, axis=0) ** 2) + np.sum(flat * np.arange(flat.shape[0])) + np.max(hs)


def comprehensions(x, w):
    """Comprehensions whose length is known only at run time: over `range(n)`, an array with a
    filter on data (a generator), a list appended in a loop, and one nesting a constant range."""
    sq = [np.sin(w * x[i]) * x[i] for i in range(x.shape[0])]
    pos = sum(w * v ** 2 for v in x if v > 0.0)
    outer = np.array([sq[i] * x[j] for i in range(len(sq)) for j in range(2)])
    return sum([s * s for s in sq]) + pos + np.sum(outer ** 2) + len(sq) + sum([np.cos(w * k) for k in range(30)])


def push_state(hs, h):
    hs.append(h)
    return h * 0.5


def through_helper(xs, W):
    """A helper that appends to the caller's list (the list is one object, as in Python), and an
    alias of the list."""
    hs = []
    alias = hs
    h = np.zeros(2)
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        h = push_state(hs, h) * 2.0
        alias.append(h * 0.1)
    return np.sum(np.stack(alias) ** 2) + len(hs)


def char_rnn(params, inputs, targets):
    """A character-level RNN: one-hot inputs, hidden states, softmax outputs, cross-entropy over
    the sequence; the states and probabilities kept in lists, as in Karpathy's min-char-rnn."""
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    hs = []
    ps = []
    h = np.zeros(Whh.shape[0])
    for t in range(inputs.shape[0]):
        h = np.tanh(Wxh @ inputs[t] + Whh @ h)
        y = Why @ h
        p = np.exp(y - np.max(y))
        p = p / np.sum(p)
        hs.append(h)
        ps.append(p)
    loss = 0.0
    for t, p in enumerate(ps):
        loss = loss - np.log(p[targets[t]])
    return loss / len(ps) + 1e-3 * np.sum(np.stack(hs) ** 2) + 1e-2 * np.sum(hs[-1])


# -- refused ----------------------------------------------------------------------------------------
def made_in_loop(x):
    total = 0.0
    for i in range(x.shape[0]):
        row = []
        for j in range(i + 1):
            row.append(x[j] * x[i])
        total = total + sum(row)
    return total


def written_after_append(x):
    hs = []
    h = np.zeros(2)
    for t in range(x.shape[0]):
        h[0] = x[t]
        hs.append(h)
    return np.sum(np.stack(hs))


def read_before_append(x):
    hs = []
    for t in range(x.shape[0]):
        prev = hs[t - 1] if t > 0 else 0.0
        hs.append(x[t] + prev)
    return sum(hs)


def sliced(x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(x[t] * 2.0)
    return sum(hs[1:])


def returned(x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(x[t] * 2.0)
    return hs


def mixed_items(x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(x)
        hs.append(x[t])
    return len(hs) * 1.0


def rebound_in_loop(x):
    hs = []
    gs = []
    for t in range(x.shape[0]):
        hs.append(x[t])
        gs = hs
    return sum(gs)


def used_after_branch(x):
    hs = []
    if x[0] > 0.0:
        for t in range(x.shape[0]):
            hs.append(x[t])
    return sum(hs)

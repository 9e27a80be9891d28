"""Functions of pytrees (dicts, lists, tuples, namedtuples, dataclasses of numbers and arrays) for
tests/test_pytrees.py; adc reads their source."""
import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

Point = namedtuple("Point", "x y")


@dataclass
class Config:
    scale: float
    shift: np.ndarray


def mlp_loss(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def layers_loss(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(W @ h + b)
    return np.sum(h * h)


def distance(p, q):
    return math.sqrt((p.x - q.x) ** 2 + (p.y - q.y) ** 2)


def unpacked_point(p):
    a, b = p
    return a * b + p[0]


def configured(c, x):
    return c.scale * np.sum((x - c.shift) ** 2)


def over_items(d):
    s = 0.0
    for k, v in d.items():
        s = s + np.sum(v * v) * len(k)
    return s


def over_values_and_keys(d):
    s = 0.0
    for v in d.values():
        s = s + np.sum(np.sin(v))
    for k in d:
        s = s + np.sum(d[k]) * len(d)
    return s


def zipped(ws, xs):
    s = 0.0
    for i, (w, x) in enumerate(zip(ws, xs)):
        s = s + (i + 1) * np.sum(w * x)
    for w in reversed(ws):
        s = s * 0.5 + np.sum(w)
    return s


def nested(tree):
    inner = tree["inner"]
    return np.sum(inner[0] * inner[1]["v"]) + tree["c"] ** 2


def _penalty(params):
    return 0.1 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))


def with_helper(params, X, y):
    return mlp_loss(params, X, y) + _penalty(params)


def with_data(w, data):
    s = 0.0
    for i in range(data["n"]):
        s = s + np.sum(w * data["X"][i])
    return s


def vector_out(params, x):
    return np.tanh(params["W"] @ x + params["b"])


def data_dependent_tuple_loop(p, x):
    state = (p["a"], x)
    for i in range(3):
        state = (state[0] * np.cos(state[1]), state[1] + p["b"])
    return np.sum(state[0])


def missing_key(params):
    return params["nope"]


def variable_key(params, k):
    return params[k]


def break_in_container_loop(layers):
    s = 0.0
    for w in layers:
        if s > 1.0:
            break
        s = s + np.sum(w)
    return s


def returns_dict_value(params):
    return params


def loss_with_aux(params, x):
    pred = np.tanh(params["W"] @ x + params["b"])
    loss = np.sum(pred ** 2)
    return loss, {"pred": pred, "norm": np.sum(np.abs(params["W"]))}


def not_a_pair(params, x):
    return np.sum(params["b"] * x)


def scaled_sum(x, scale, offset):
    return scale * np.sum(x) + offset ** 2


def l2_penalty(params):
    return 0.5 * sum(np.sum(w ** 2) for w in params.values())


def stacked_rows(ws, x):
    rows = [np.tanh(w * x) for w in ws]
    return np.sum(np.stack(rows) ** 2)


def comprehension_over_range(x):
    powers = [x ** k for k in range(1, 4)]
    return sum(powers) + max(powers) + min(p * 2.0 for p in powers)


def nested_comprehension(layers):
    return sum([np.sum(a * b) for a, b in layers if len(layers) > 1])


def comprehension_over_data(x, n):
    return sum(x * k for k in range(n))


def comprehension_filter_on_data(xs):
    return sum(x for x in xs if x > 0.0)


def returns_packed_array(x):
    return np.array([x, x])


def _layer(h, W, b=0.0, *, activation="tanh", scale=1.0):
    z = W @ h + b
    return scale * (np.tanh(z) if activation == "tanh" else np.maximum(z, 0.0))


def _total(*terms, **weights):
    s = 0.0
    for t in terms:
        s = s + np.sum(t)
    for k, w in weights.items():
        s = s + w * len(k)
    return s


def keyword_calls(W, x):
    h = _layer(x, W, activation="relu")
    h = _layer(h, W=W, b=0.5, scale=2.0)
    args = (h, x)
    return _total(*args, extra=0.5, **{"more": 2.0})


def nested_list_array(x):
    return np.sum(np.array([[x, 0.0], [0.0, x * x]]) ** 2)


def rotation(theta, y):
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return np.sum(R @ y)

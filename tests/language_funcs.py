"""Programs for tests/test_language.py (issue 11: early return of arrays and tuples from loops and
branches, lists built with `append`, bound and static methods, `*args` and keyword-only parameters
of the differentiated function)."""
import numpy as np


# -- early return of arrays and tuples ------------------------------------------------------------
def array_returned_in_while(x, t):
    """GradBench saddle's argmax: the array is returned from inside the `while`."""
    y = x * 1.0
    i = 0
    while i < 6:
        y_new = y * 1.2
        if np.sum(y_new) > t:
            return y
        y = y_new + 0.1 * np.sin(y_new)
        i = i + 1
    return y * 0.5


def array_returned_in_for(x, t):
    y = x * 1.0
    for k in range(4):
        y = np.tanh(y) + x * k
        if np.max(y) > t:
            return y * y
    return y


def array_returned_in_nested_if(x, t):
    y = x * 1.0
    for k in range(3):
        if k > 0:
            if np.sum(y) > t:
                return np.sin(y)
            y = y * x
        else:
            y = y + 1.0
    return y


def matrix_returned_in_while(A, t):
    B = A * 1.0
    while np.sum(B) < t:
        C = B @ A
        if np.max(C) > 0.1 * t:
            return C
        B = B + C
    return B


def tuple_returned_early(x, t):
    y = x * 1.0
    s = 0.0
    for k in range(3):
        s = s + np.sum(y * y)
        if s > t:
            return y * s, s
        y = np.cos(y)
    return y, s


def summed(f):
    """A scalar function of ``f``'s result (adc inlines ``f``)."""
    def loss(x, t):
        out = f(x, t)
        return np.sum(out * out)
    return loss


def tuple_loss(x, t):
    y, s = tuple_returned_early(x, t)
    return np.sum(y) * s


# -- lists built with `append` ---------------------------------------------------------------------
def rnn_states_stacked(W, x):
    """The hidden states of a small RNN, collected with `append` and stacked."""
    h = np.zeros(2)
    hs = []
    for t in range(3):
        h = np.tanh(W @ h + x[t])
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H * H)


def appended_then_summed(x):
    terms = []
    for k in range(1, 4):
        terms.append(np.sin(k * x))
    return np.sum(sum(terms) ** 2)


def appended_then_iterated(x, c):
    out = [x * c]
    for k in range(2):
        for j in range(2):
            out.append(np.cos(out[-1]) * (k + j + 1.0))
    s = 0.0
    for v in out:
        s = s + np.sum(v)
    return s + len(out)


def appended_in_both_branches(x, c):
    parts = []
    for layer in range(2):
        if c > 0.0:
            parts.append(x * c)
        else:
            parts.append(np.exp(x))
        x = np.tanh(x)
    parts.extend([x, x * x])
    return np.sum(np.stack(parts)[1:] ** 3)


def appended_scalars(x):
    vals = []
    for i in range(3):
        vals.append(x[i] * x[2 - i])
    return max(vals) + sum(vals) + np.sum(np.array(vals) ** 2)


def appended_in_unknown_loop(x):
    out = []
    for i in range(len(x)):
        out.append(x[i])
    return sum(out)


def appended_in_while(x):
    out = []
    while len(out) < 2:
        out.append(x)
    return np.sum(out[0])


def appended_to_alias(x):
    a = []
    b = a
    b.append(x)
    return np.sum(a[0])


def fill(out, x):
    out.append(x)
    return 0.0


def appended_in_helper(x):
    out = []
    z = fill(out, x)
    return np.sum(out[0]) + z


def appended_on_one_path(x):
    out = [x]
    if np.sum(x) > 0.0:
        out.append(x * 2.0)
    return np.sum(out[0])


# -- objects: bound methods, static and class methods ------------------------------------------------
class Model:
    """A plain class holding arrays and a number."""

    eps = 0.01

    def __init__(self, W, b, scale):
        self.W = W
        self.b = b
        self.scale = scale

    def predict(self, x):
        return np.tanh(self.W @ x + self.b)

    def loss(self, x, y):
        p = self.predict(x)
        return self.scale * np.sum((p - y) ** 2) + self.penalty(x) + self.eps * self.ridge(x)

    @staticmethod
    def penalty(x):
        return 0.1 * np.sum(x * x)

    @classmethod
    def ridge(cls, x):
        return cls.penalty(x) * 2.0 + np.sum(np.sin(x))

    @property
    def size(self):
        return self.W.shape[0]

    def uses_property(self, x):
        return np.sum(x) * self.size


MODEL = Model(np.array([[0.5, -0.3], [0.2, 0.4]]), np.array([0.1, 0.2]), 2.0)


def global_model_loss(x, y):
    return MODEL.loss(x, y) + Model.penalty(x)


class Layer:
    """Called like a function (`__call__`), with a string option read as a constant."""

    def __init__(self, W, act):
        self.W = W
        self.act = act

    def __call__(self, x):
        h = self.W @ x
        if self.act == "tanh":
            return np.tanh(h)
        return h


class Net:
    """Objects holding objects."""

    def __init__(self, first, second):
        self.first = first
        self.second = second

    def loss(self, x):
        return np.sum(self.second(self.first(x)) ** 2)

    def times_self(self, x):
        return self * x


# -- *args and keyword-only parameters of the differentiated function ----------------------------------
def with_star(x, *rest):
    s = np.sum(x * x)
    for r in rest:
        s = s + np.sum(np.sin(r * x))
    return s


def with_kwonly(x, *, scale=2.0, power=2):
    return scale * np.sum(x ** power)


def with_both(x, *ws, scale=2.0):
    return scale * sum(np.sum(w * x) for w in ws) + np.sum(np.cos(x))


def with_kwargs(x, **options):
    return x * x


def arrays_of_two_shapes_merged(x, t):
    """A merge of arrays of different shapes (np.where would broadcast them to the larger one)."""
    a = x[:1]
    if t > 0.0:
        y = a
    else:
        y = x
    return np.sum(y * y)


class HoldsList:
    def __init__(self):
        self.layers = [np.ones(2), np.ones(2)]

    def loss(self, x):
        return np.sum(self.layers[0] * x)


# -- `return` inside loops adc unrolls --------------------------------------------------------------
def first_layer_over(layers, x, t):
    """Returns from inside a loop over a list of (W, b) pairs."""
    h = x
    for W, b in layers:
        h = np.tanh(W @ h + b)
        if np.sum(h) > t:
            return np.sum(h * h)
    return np.sum(h)


def return_in_append_loop(x, t):
    hs = []
    for k in range(3):
        hs.append(np.sin(x * (k + 1.0)))
        if np.sum(hs[-1]) > t:
            return np.sum(np.stack(hs) ** 2)
    return np.sum(sum(hs))


def continue_in_list_loop(ws, x):
    s = 0.0
    for w in ws:
        if np.sum(w) > 0.0:
            continue
        s = s + np.sum(w * x)
    return s

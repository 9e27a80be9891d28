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

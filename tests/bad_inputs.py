"""Module-level functions that use constructs adc does not support (used by test_errors.py).

Each offending construct sits on its own line; test_errors.py locates it by its text, so the
functions may move, but keep every marker text unique within its function.
"""
import math

import numpy as np

SCALE = 3.0


def helper(x):
    return x * SCALE


def uses_lambda(x):
    g = lambda t: t * 2.0
    return x


def uses_listcomp(x):
    for t in range(2):
        ys = [x * k for k in range(int(x))]
    return x


def uses_genexp(x):
    for t in range(2):
        s = max(x * k for k in range(int(x)))
    return x


def uses_try(x):
    y = x * 2.0
    try:
        y = math.log(x)
    except ValueError:
        y = 0.0
    return y


def uses_with(x):
    with np.errstate(all="ignore"):
        y = math.log(x)
    return y


def uses_global(x):
    global SCALE
    return x * SCALE


def uses_nested_def(x):
    def inner(t):
        return t * 2.0
    return inner(x)


def uses_class(x):
    class Box:
        pass
    return x


def uses_string(x):
    y = x * 2.0
    label = "value"
    return y * label


def uses_dict(x):
    d = {"a": x, **{"b": x}}
    return x


def uses_starred_call(x, y):
    args = (x, y)
    return math.atan2(*args)


def uses_keyword_call(x):
    return math.log(x, base=2.0)


def recursive(x):
    return x * recursive(x - 1.0)


def uses_undefined(x):
    return x * not_defined_anywhere


def uses_print(x):
    y = x * x
    print(y)
    return y


def returns_tuple(x, y):
    return x * y, x + y


def returns_array(x):
    return np.zeros(3)


def uses_fstring(x):
    label = f"{x}"
    return x


def uses_set(x):
    s = {x, 2.0}
    return x


def uses_walrus(x):
    y = (z := x * 2.0) + 1.0
    return y


def uses_import(x):
    import cmath
    return x


def uses_assert(x):
    assert x > 0.0
    return x


def uses_raise(x):
    raise ValueError
    return x


def uses_del(x):
    y = x * 2.0
    del y
    return x


def uses_yield(x):
    y = yield x
    return x


def uses_kwargs_param(x, **options):
    return x


def uses_complex(x):
    return x * 2j


def uses_attribute(x):
    return x.real


def calls_bad_helper(x):
    return bad_helper(x) + 1.0


def bad_helper(t):
    d = {t, 2.0}
    return t


def fine(x, y):
    return helper(x) * math.sin(y)


def compiled_once(x):  # compiled only by the test of Numba failing inside its own compiler
    return math.sin(x) * x + 0.25 * x

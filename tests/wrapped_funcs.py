"""Functions decorated with the user's own ``functools.wraps`` decorators (tests/test_wrapped.py)."""
import functools
import math

import numpy as np


def doubled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2 * fn(*args, **kwargs)
    return wrapper


def logged(fn):  # changes nothing the derivative sees
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def shifted(fn):  # a wrapper with parameters of its own
    @functools.wraps(fn)
    def wrapper(x, y=0.5):
        return fn(x + 1.0, y) * x
    return wrapper


@doubled
def poly(x, y):
    return x ** 3 * y + math.sin(y)


@logged
@doubled
def squares(x):
    return np.sum(x ** 2 * np.arange(1.0, 1.0 + len(x)))


@shifted
def product(x, y):
    return x * y * y


def calls_decorated(x):  # a decorated function called inside a differentiated one
    return poly(x, 2.0) + x


class Counted:  # a class-based decorator: adc cannot read a wrapper function
    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        return self.fn(*args)


@Counted
def counted(x):
    return x * x


@doubled
def with_default(x, y=2.0):
    return x * x * y


def cube(x):
    return x ** 3

"""Functions that read globals and closure variables adc cannot use (tests/test_error_names.py)."""
import functools

import numpy as np

WEIGHTS = np.array([1.0, 2.0, 3.0])
PARAMS = {"scale": 2.0}
LABEL = "text"


class Config:
    scale = 2.0


def _twice(a, b):
    return a * b


TWICE = functools.partial(_twice, 2.0)


def global_array(x):
    return np.sum(WEIGHTS * x)


def global_array_fixed(x, WEIGHTS):
    return np.sum(WEIGHTS * x)


def make_closure():
    A = np.array([1.0, -1.0])

    def inner(x):
        return np.sum(A * x ** 2)

    return inner


def closure_fixed(x, A):
    return np.sum(A * x ** 2)


def global_dict(x):
    return PARAMS["scale"] * x


PARAMS_VALUE = PARAMS["scale"]  # what the hint says to write


def global_dict_fixed(x):
    return PARAMS_VALUE * x


def global_class(x):
    return Config.scale * x


def global_string(x):
    return LABEL * x


def global_partial(x):
    return TWICE(x)


def numpy_cumsum(x):
    return np.sum(np.nancumsum(x))


def builtin_divmod(x):
    return divmod(x, 2.0)[0] * x


from math import fmod  # noqa: E402


def imported_fmod(x):
    return fmod(x, 2.0)

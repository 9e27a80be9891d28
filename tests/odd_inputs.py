"""Odd but plausible inputs for the front-end audit (used by test_odd_inputs.py).

Each function uses one construct adc refuses; the marker text in the table of test_odd_inputs.py
is where the caret must point (unique within its function).  Array functions take ``x`` as an
array, the others a float.
"""
import math
from math import fmod

import numpy as np

try:
    import scipy.special as special
except ImportError:  # pragma: no cover - scipy is optional
    special = None

TABLE = np.ones(3)


def class_def(x):
    class Box:
        pass
    return x


def with_statement(x):
    with np.errstate(all="ignore"):
        y = x * 2.0
    return y


def try_finally(x):
    try:
        y = x * 2.0
    finally:
        y = 1.0
    return y


def global_statement(x):
    global TABLE
    return x


def nonlocal_in_nested(x):
    def inner():
        nonlocal x
    return x


def lambda_call(x):
    return (lambda t: t * 2.0)(x)


def list_comprehension(x):
    s = 0.0
    for t in range(2):
        s = s + max([x * k for k in range(int(x))])
    return s


def set_comprehension(x):
    s = {x * k for k in (1.0, 2.0)}
    return x


def dict_comprehension(x):
    d = {k: x for k in (1, 2)}
    return x


def generator_expression(x):
    s = 0.0
    for t in range(2):
        s = s + max(x * k for k in range(int(x)))
    return s


def walrus(x):
    y = (z := x * 2.0) + z
    return y


def starred_target(x):
    a, *rest = (x, x, x)
    return a


def starred_of_number(x):
    t = (*x, 1.0)
    return x


def fstring(x):
    label = f"{x:.2f}"
    return x


def assert_statement(x):
    assert x > 0.0, "positive"
    return x


def del_statement(x):
    y = x * 2.0
    del y
    return x


async def async_function(x):
    return x


def match_statement(x):
    match x:
        case 1.0:
            return x
    return 2.0 * x


def decorated_inner(x):
    @staticmethod
    def inner(t):
        return t
    return x


def attribute_assignment(x):
    x.scale = 2.0
    return x


def augmented_attribute(x):
    y = np.zeros(3)
    y.scale += 1.0
    return np.sum(y)


def is_comparison(x):
    if x is None:
        return 0.0
    return x


def is_not_comparison(x):
    if x is not None:
        return x
    return 0.0


def in_comparison(x):
    if x in (1.0, 2.0):
        return 0.0
    return x


def not_in_comparison(x):
    if x not in (1.0, 2.0):
        return x
    return 0.0


def string_constant(x):
    return "x"


def bytes_constant(x):
    tag = b"x"
    return x


def returns_none(x):
    return None


def bare_return(x):
    return


def numpy_cumsum(x):
    return np.sum(np.nancumsum(x))


def numpy_linalg_lstsq(x):
    return np.linalg.lstsq(x, x)


def numpy_random(x):
    return x * np.random.rand()


def numpy_float64(x):
    return np.float64(x) * 2.0


def scipy_erfcinv(x):
    return special.erfcinv(x)


def math_fmod(x):
    return math.fmod(x, 2.0)


def imported_fmod(x):
    return fmod(x, 2.0)


def array_unknown_attribute(x):
    return np.sum(x.foo)


def array_unknown_method(x):
    return np.sum(x.nonzero())


def array_dtype(x):
    return x.dtype


def scalar_attribute(x):
    return x.real


def bit_and(x):
    return x & 1


def bit_invert(x):
    return ~x


def shift(x):
    return x << 1


def call_a_number(x):
    return x(1.0)


def call_a_module(x):
    return np(x)


def builtin_divmod(x):
    return divmod(x, 2.0)[0]


def builtin_sum(x):
    return sum(x)


def builtin_isinstance(x):
    if isinstance(x, float):
        return x
    return 2.0 * x


def builtin_zip(x):
    s = 0.0
    for a, b in zip(x, x):
        s = s + a * b
    return s


def builtin_complex(x):
    return complex(x, 0.0)


def builtin_type(x):
    return type(x)(x)


def tuple_arithmetic(x):
    t = (x,) + (x,)
    return t[0]


def tuple_compare(x):
    if (x, x) < (1.0, 1.0):
        return x
    return 0.0


def ellipsis_index(x):
    return np.sum(x[..., 0])


def dot_one_argument(x):
    return np.dot(x)


def clip_two_arguments(x):
    return np.sum(np.clip(x, 0.0))


def outer_one_argument(x):
    return np.sum(np.outer(x))


def mean_with_dtype(x):
    return np.mean(x, 0, float)


def float_of_array(x):
    return float(x) * 2.0


def array_into_element(x):
    y = np.zeros(3)
    y[0] = x
    return np.sum(y)


def slice_step_zero(x):
    return np.sum(x[::0])


def matmul_of_numbers(x):
    return x @ x


def max_of_one(x):
    return max(x)


def range_keyword(x):
    s = 0.0
    for i in range(3, step=1):
        s = s + x
    return s


def helper(a, b=1.0):
    return a * b


def helper_too_many(x):
    return helper(x, x, x)


def helper_keyword(x):
    return helper(x, c=2.0)


def writes_global_array(x):
    TABLE[0] = x
    return x


def shape_of_two(x):
    return np.shape(x, x)[0] * np.sum(x)


def where_one_argument(x):
    return np.sum(x[np.where(x > 0.0)])


def sort_in_place(x):
    y = x.copy()
    y.sort()
    return np.sum(y)


def yields(x):
    yield x
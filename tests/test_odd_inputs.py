"""The front-end audit: odd but plausible inputs (tests/odd_inputs.py) each raise a located
``adc.UnsupportedError`` -- the user's file, line and column, the line with a caret, and a hint --
in both modes; never a raw exception, never a location inside adc, NumPy or SciPy.

Each row: the function, its argument (a float or an array), the text the caret must point at (on
the ``def`` line when it starts with ``@def:``, on another function's ``def`` line with
``@name:``), and words the message must contain.
"""
from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import adc
import odd_inputs as odd
from test_errors import check_located

FILE = Path(odd.__file__).resolve()
LINES = FILE.read_text().splitlines()
S, A = 1.5, "array"

CASES = [
    # statements
    ("class_def", S, "class Box", ["class"]),
    ("with_statement", S, "with np.errstate", ["with"]),
    ("try_finally", S, "try:", ["try"]),
    ("global_statement", S, "global TABLE", ["global"]),
    ("nonlocal_in_nested", S, "def inner", ["nested function"]),
    ("assert_statement", S, "assert x", ["assert"]),
    ("del_statement", S, "del y", ["del"]),
    ("match_statement", S, "match x", ["match"]),
    ("decorated_inner", S, "def inner", ["nested function"]),
    ("attribute_assignment", S, "x.scale", ["Attribute"]),
    ("augmented_attribute", A, "y.scale", [".scale"]),
    ("bare_return", S, "return", ["without a value"]),
    ("returns_none", S, "return None", ["None"]),
    ("range_keyword", S, "step=1", ["keyword"]),
    ("sort_in_place", A, "y.sort()", ["y.sort()", "in-place"]),
    ("yields", S, "yield x", ["generator"]),
    ("async_function", S, "@def:async def", ["async"]),
    # expressions
    ("lambda_call", S, "lambda t", ["lambda"]),
    ("list_comprehension", S, "[x * k", ["comprehension whose length is known only at run time, inside a loop"]),
    ("set_comprehension", S, "{x * k", ["set comprehension"]),
    ("dict_comprehension", S, "{k: x", ["dict comprehension"]),
    ("generator_expression", S, "x * k for", ["comprehension whose length is known only at run time, inside a loop"]),
    ("walrus", S, "z := x", [":="]),
    ("starred_target", S, "*rest", ["starred"]),
    ("starred_of_number", S, "*x", ["starred"]),
    ("fstring", S, 'f"{x', ["f-string"]),
    ("string_constant", S, '"x"', ["string"]),
    ("bytes_constant", S, 'b"x"', ["string"]),
    ("is_comparison", S, "x is None", ["`is`"]),
    ("is_not_comparison", S, "x is not None", ["`is not`"]),
    ("in_comparison", S, "x in (", ["`in`"]),
    ("not_in_comparison", S, "x not in", ["`not in`"]),
    ("bit_and", S, "x & 1", ["&"]),
    ("bit_invert", S, "~x", ["~"]),
    ("shift", S, "x << 1", ["<<"]),
    ("tuple_arithmetic", S, "(x,) + (x,)", ["tuple"]),
    ("tuple_compare", S, "x, x) <", ["tuple"]),
    ("matmul_of_numbers", S, "x @ x", ["@"]),
    ("call_a_number", S, "x(1.0)", ["not a function"]),
    ("call_a_module", S, "np(x)", ["not a function"]),
    # names: unsupported math / NumPy / SciPy / builtins, globals
    ("numpy_cumsum", A, "np.nancumsum", ["nancumsum"]),
    ("numpy_linalg_lstsq", A, "np.linalg.lstsq", ["lstsq"]),
    ("numpy_random", S, "np.random.rand", ["rand"]),
    ("numpy_float64", S, "np.float64", ["float64"]),
    ("scipy_erfcinv", S, "special.erfcinv", ["erfcinv"]),
    ("math_fmod", S, "math.fmod", ["fmod"]),
    ("imported_fmod", S, "fmod(x", ["fmod"]),
    ("builtin_divmod", S, "divmod(x", ["divmod"]),
    ("builtin_sum", S, "sum(x)", ["sum() of something that is not a list"]),
    ("builtin_isinstance", S, "isinstance(", ["isinstance"]),
    ("builtin_zip", A, "zip(x", ["zip"]),
    ("builtin_complex", S, "complex(", ["complex"]),
    ("builtin_type", S, "type(x)", ["type"]),
    ("writes_global_array", S, "TABLE[0]", ["array"]),
    # attributes
    ("array_unknown_attribute", A, "x.foo", [".foo"]),
    ("array_unknown_method", A, "x.nonzero", [".nonzero"]),
    ("array_dtype", A, "x.dtype", [".dtype"]),
    ("scalar_attribute", S, "x.real", [".real"]),
    # arguments of supported functions
    ("dot_one_argument", A, "np.dot(x)", ["np.dot()", "got 1"]),
    ("clip_two_arguments", A, "np.clip", ["np.clip()", "got 2"]),
    ("outer_one_argument", A, "np.outer", ["np.outer()"]),
    ("mean_with_dtype", A, "np.mean", ["np.mean()", "got 3"]),
    ("shape_of_two", A, "np.shape", ["np.shape()"]),
    ("where_one_argument", A, "np.where", ["np.where()", "one argument"]),
    ("max_of_one", A, "max(x)", ["max()", "np.max"]),
    ("helper_keyword", S, "@helper:def helper", ["helper() has no parameter `c`"]),
    ("helper_too_many", S, "@helper:def helper", ["helper() takes 2 positional arguments", "called with 3"]),
    ("float_of_array", A, "float(x)", ["float() of an array"]),
    # indexing
    ("ellipsis_index", A, "...", ["Ellipsis"]),
    ("slice_step_zero", A, "0]", ["step"]),
    ("array_into_element", A, "y[0]", ["1-D array", "0-D element"]),
]


def locate(name: str, marker: str) -> tuple[int, int, str]:
    """Where ``marker`` is in function ``name`` (``@def:text`` on its def line, ``@other:text`` on the
    def line of function ``other``)."""
    on_def = marker.startswith("@")
    if on_def:
        other, marker = marker[1:].split(":", 1)
        name = name if other == "def" else other
    _, first = inspect.getsourcelines(getattr(odd, name))
    needle = marker
    for i in (range(first - 1, first) if on_def else range(first, len(LINES))):
        if needle in LINES[i]:
            return i + 1, LINES[i].index(needle) + 1, LINES[i]
    raise AssertionError(f"{marker!r} not in {name}")


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name,arg,marker,words", CASES, ids=[c[0] for c in CASES])
def test_odd_input_is_a_located_adc_error(name, arg, marker, words, mode):
    if name == "scipy_erfinv" and odd.special is None:
        pytest.skip("scipy is not installed")
    fn = getattr(odd, name)
    value = np.array([0.5, 1.5, 2.0]) if arg is A else arg
    line, col, text = locate(name, marker)
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn, mode=mode)(value)
    check_located(info.value, line, col, text, FILE, *words)
    assert info.value.loc.filename == str(FILE)


def test_the_table_covers_every_function():
    names = {n for n, f in inspect.getmembers(odd, inspect.isfunction) if f.__module__ == odd.__name__}
    assert names - {c[0] for c in CASES} == {"helper"}


# --- neighbours that are supported: the same syntax, correct values ----------------------------


def chained(x):
    if 0.0 < x < 2.0:
        return x * x
    return 2.0 * x


def helper_default(a, b=3.0):
    return a * b


def uses_default(x):
    return helper_default(x) + helper_default(x, 0.5)


def starred_tuple(x):
    t = (*(x, 2.0 * x), x * x)
    return t[0] + t[1] + t[2]


def huge_power(x):
    return x * 10 ** 20


@pytest.mark.parametrize("fn,x,want_value,want_grad", [
    (chained, 1.5, 2.25, 3.0), (chained, 2.5, 5.0, 2.0), (chained, -1.0, -2.0, 2.0),
    (uses_default, 2.0, 7.0, 3.5),
    (starred_tuple, 3.0, 18.0, 9.0),
    (huge_power, 2.0, 2e20, 1e20),
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_supported_neighbours(fn, x, want_value, want_grad, mode):
    value, grad = adc.value_and_grad(fn, mode=mode)(x)
    assert value == pytest.approx(fn(x), rel=1e-15) == pytest.approx(want_value)
    assert grad == pytest.approx(want_grad, rel=1e-12)


def huge_int_power(x):
    return x * 10 ** 400


def test_integer_literal_powers_are_exact():
    # NumPy's int64 would wrap 10 ** 400 to 0 (a silently zero value and gradient); Python raises
    with pytest.raises(OverflowError):
        huge_int_power(1.5)
    with pytest.raises(OverflowError):
        adc.value_and_grad(huge_int_power)(1.5)

"""The call path of the function ``adc.grad`` returns.

After the first call with scalar arguments, that function *is* the generated code adc runs (the
code ``adc source --compact`` prints, with an argument-type guard in place of its docstring
line); calls with other argument types still take the checked path.
"""
from __future__ import annotations

import math
import traceback
from pathlib import Path

import numpy as np
import pytest

import adc
from test_lecture import f, neuron  # the functions of examples/lecture.py

EXPECTED = (1.0 / 2.0 + 5.0, 2.0 - math.cos(5.0))


def square_root_sum(x, y):
    return math.sqrt(x) + x * y


def scaled(x, n):
    return n * x * x


def test_first_call_installs_the_compact_generated_code():
    g = adc.grad(f, argnums=(0, 1))
    assert g(2.0, 5.0) == pytest.approx(EXPECTED, rel=1e-15)
    code = g.__code__
    assert code.co_name == "f_grad"
    text = Path(code.co_filename).read_text()
    assert text == adc.source(f, argnums=(0, 1), compact=True)
    assert "return x2 + 1.0 / x1, x1 - math.cos(x2)" in text
    assert g(2.0, 5.0) == pytest.approx(EXPECTED, rel=1e-15)  # now straight through the generated code
    assert g.__name__ == "f" and g.__wrapped__ is f


@pytest.mark.parametrize("args", [(2, 5), (np.float64(2.0), 5.0), (2.0, 5), (True, 5.0)],
                         ids=["ints", "np.float64", "int-second", "bool"])
def test_other_argument_types_after_the_fast_path(args):
    g = adc.grad(f, argnums=(0, 1))
    g(2.0, 5.0)
    if args[0] is True:
        with pytest.raises(adc.AdcError, match="cannot differentiate with respect to an argument of type bool"):
            g(*args)
        return
    want = (1.0 / float(args[0]) + float(args[1]), float(args[0]) - math.cos(float(args[1])))
    got = g(*args)
    assert got == pytest.approx(want, rel=1e-15)
    assert all(type(c) is float for c in got)


def test_keyword_arguments_before_and_after_the_fast_path():
    g = adc.grad(f, argnums=(0, 1))
    assert g(x1=2.0, x2=5.0) == pytest.approx(EXPECTED, rel=1e-15)
    assert g(x1=2.0, x2=5.0) == pytest.approx(EXPECTED, rel=1e-15)


def test_a_bad_argument_after_the_fast_path_is_an_adc_error():
    g = adc.grad(f, argnums=(0, 1))
    g(2.0, 5.0)
    with pytest.raises(adc.AdcError, match="type str"):
        g("2.0", 5.0)


def test_int_non_differentiated_argument_keeps_its_own_fast_path():
    g = adc.grad(scaled)
    assert g(1.5, 3) == pytest.approx(9.0, rel=1e-15)
    assert g(1.5, 3) == pytest.approx(9.0, rel=1e-15)
    assert g(1.5, 2.5) == pytest.approx(7.5, rel=1e-15)  # a float n: another signature, same answer


def test_errors_inside_the_generated_code_point_at_its_line():
    g = adc.grad(square_root_sum, argnums=(0, 1))
    assert g(4.0, 3.0) == pytest.approx((0.25 + 3.0, 4.0), rel=1e-15)
    with pytest.raises(ValueError) as info:
        g(-4.0, 3.0)
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert frame.filename == g.__code__.co_filename
    assert "math.sqrt(x)" in frame.line  # line numbers match the generated file


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_single_argnum_returns_a_float(jit):
    g = adc.grad(neuron, argnums=4, jit=jit)
    point = (2.0, -1.0, -3.0, -2.0, -3.0)
    s = 1.0 / (1.0 + math.exp(-(2.0 * -1.0 + -3.0 * -2.0 - 3.0)))
    for _ in range(2):
        got = g(*point)
        assert type(got) is float and got == pytest.approx(s * (1.0 - s), rel=1e-14)
    assert g(2, -1, -3, -2, -3) == pytest.approx(s * (1.0 - s), rel=1e-14)


def uses_np_as_a_name(np, y):
    return np * np * y


def test_keyword_arguments_when_the_generated_code_renames_a_parameter():
    g = adc.grad(uses_np_as_a_name)  # the generated code calls the parameter `np_1`
    assert g(2.0, 3.0) == pytest.approx(12.0, rel=1e-15)
    assert g(np=2.0, y=3.0) == pytest.approx(12.0, rel=1e-15)
    assert g(2.0, 3.0) == pytest.approx(12.0, rel=1e-15)

"""An unsupported global or closure value is reported by the name the user wrote, with where it
comes from, what it holds, and a hint that works (applied here)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import adc
import error_names_funcs as m

FILE = m.__file__


def error(fn, *args) -> str:
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn)(*args)
    return str(info.value)


def test_global_array_names_the_variable_and_the_hint_works():
    text = error(m.global_array, np.ones(3))
    first = text.splitlines()[0]
    assert re.match(rf"{re.escape(FILE)}:\d+:19: `WEIGHTS` is a global variable holding a NumPy array \(float64, "
                    r"shape \(3,\)\); adc reads numbers, modules and functions from globals and closures, not arrays$",
                    first), first
    assert text.splitlines()[-1] == ("hint: make it a parameter, `def global_array(x, WEIGHTS)`, and pass the array in "
                                     "each call: adc.grad(global_array)(x, WEIGHTS) (argnums=0, the default, keeps it "
                                     "out of the gradient)")
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_array_equal(adc.grad(m.global_array_fixed)(x, m.WEIGHTS), m.WEIGHTS)


def test_closure_array():
    text = error(m.make_closure(), np.ones(2))
    assert "`A` is a closure variable holding a NumPy array (float64, shape (2,))" in text
    assert "`def inner(x, A)`" in text and "adc.grad(inner)(x, A)" in text


def test_global_dict_and_the_hint_works():
    text = error(m.global_dict, 1.0)
    assert "`PARAMS` is a global variable holding a dict; adc reads numbers, modules and functions" in text
    assert "(`PARAMS_VALUE = PARAMS[...]`) and use that name in global_dict" in text
    assert adc.grad(m.global_dict_fixed)(1.0) == 2.0


def test_global_class_string_and_callable_object():
    assert "`Config` is a global variable holding a class (Config)" in error(m.global_class, 1.0)
    assert "`CONFIG_VALUE = Config.attribute`" in error(m.global_class, 1.0)
    text = error(m.global_string, 1.0)
    assert "`LABEL` is a global variable holding a str" in text and "instead of `LABEL`" in text
    text = error(m.global_partial, 1.0)
    assert "`TWICE` is a global variable holding a functools.partial" in text
    assert "hint: call a function defined with `def` at module level instead of `TWICE`" in text


def test_module_functions_and_builtins_are_named_as_written():
    assert "unsupported function `np.cumsum`" in error(m.numpy_cumsum, np.ones(3))
    assert "unsupported builtin `round`" in error(m.builtin_round, 1.5)
    assert "unsupported function `gamma` (math.gamma)" in error(m.imported_gamma, 1.5)

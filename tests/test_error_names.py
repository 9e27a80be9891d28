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


@pytest.mark.parametrize("jit", [False, True])
def test_global_and_closure_arrays_are_read_at_every_call(jit, monkeypatch):
    """A global or closure array is an input of the generated code, read when it is called: a
    change in place and a rebinding are both seen (issue 11, item 3)."""
    x = np.array([0.5, -1.0, 2.0])
    g = adc.grad(m.global_array, jit=jit)
    np.testing.assert_array_equal(g(x), m.WEIGHTS)
    np.testing.assert_array_equal(g(x), adc.grad(m.global_array_fixed)(x, m.WEIGHTS))
    monkeypatch.setattr(m, "WEIGHTS", m.WEIGHTS.copy())
    m.WEIGHTS[1] = 7.0  # in place
    np.testing.assert_array_equal(g(x), [1.0, 7.0, 3.0])
    monkeypatch.setattr(m, "WEIGHTS", np.array([4.0, 5.0, 6.0]))  # rebound
    np.testing.assert_array_equal(g(x), [4.0, 5.0, 6.0])
    inner = m.make_closure()
    y = np.array([0.3, 0.4])
    assert np.allclose(adc.grad(inner, jit=jit)(y), adc.grad(m.closure_fixed)(y, inner.__closure__[0].cell_contents))


def test_global_dict_and_the_hint_works():
    text = error(m.global_dict, 1.0)
    assert "`PARAMS` is a global variable holding a dict; adc reads numbers, arrays, modules and functions" in text
    assert "(`PARAMS_VALUE = PARAMS[...]`) and use that name in global_dict" in text
    assert adc.grad(m.global_dict_fixed)(1.0) == 2.0


def test_global_class_string_and_callable_object():
    # a class's attributes are read like globals since issue 11 (docs/language.md, objects)
    assert adc.grad(m.global_class)(1.0) == m.Config.scale
    assert adc.grad(m.global_class, mode="forward")(1.0) == m.Config.scale
    text = error(m.global_string, 1.0)
    assert "`LABEL` is a global variable holding a str" in text and "instead of `LABEL`" in text
    text = error(m.global_partial, 1.0)
    assert "`TWICE` is a global variable holding a functools.partial" in text
    assert "hint: call a function defined with `def` at module level instead of `TWICE`" in text


def test_module_functions_and_builtins_are_named_as_written():
    assert "unsupported function `np.nancumsum`" in error(m.numpy_cumsum, np.ones(3))
    assert "unsupported builtin `divmod`" in error(m.builtin_divmod, 1.5)
    assert "unsupported function `fmod` (math.fmod)" in error(m.imported_fmod, 1.5)

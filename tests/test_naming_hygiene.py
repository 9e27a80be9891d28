"""Names and the values behind them, as Python reads them (a review of names and caching).

- A number or function read as an attribute of the user's module (``names_params.SCALE``) was
  baked into the derivative and never read again: after ``names_params.SCALE = 7.0`` the gradient
  stayed 2.0 (and ``value_and_grad``'s value too).  Now such attributes are dependencies, like
  globals.
- A helper's changed ``__defaults__`` left a derivative made with the old default.
- A global read before a local of the same name is assigned raises ``UnboundLocalError`` in
  Python; adc read the global and returned numbers.
- A parameter named like a module generated code imports (``adc_revolve``, ``adc_stacks``) hid it:
  an ``AttributeError`` blamed on the derivative, or a failed compile; one named like the call
  wrapper's globals (``_adc_slow_``) raised a raw ``TypeError``.
- A method reading a private attribute (``self.__s``) was refused as "edited after import".
"""
from __future__ import annotations

import math
import pathlib
import re

import numpy as np
import pytest

import adc
import names_params
from adc.errors import DifferentiationError, UnsupportedError
from adc.naming import RESERVED
from fd import fd_grad
from modules import load_module

K = 2.0


def scaled(x):
    return x * x * names_params.SCALE


def activated(x):
    return names_params.act(x) * 2.0


def weighted(x):
    return np.sum(x * names_params.WEIGHTS)


def with_default(x, s=2.0):
    return x * x * s


def calls_with_default(x):
    return with_default(x)


def reads_before_assigning(x):
    y = x * K
    K = 3.0  # noqa: F841 - the point: K is local to all of the function
    return y * K


def numpy_before_assigning(x):
    y = np.sin(x)
    np = 2.0  # noqa: F841
    return y * np


def revolved(x, n, adc_revolve):
    s = x
    for i in range(n):
        s = math.sin(s * adc_revolve) + x
    return s


def stacked(v, n, adc_stacks):
    if n == 0:
        return np.sum(v) * adc_stacks
    t = 0.0
    for j in range(2):
        t = t + np.sin(stacked(v * 0.5, n - 1, adc_stacks))
    return t


def calls_stacked(v):
    return stacked(v, 2, 1.5)


def wrapper_name(x, _adc_slow_=2.0):
    return x * _adc_slow_


@pytest.mark.parametrize("kw", [{}, {"jit": True}, {"mode": "forward"}])
def test_module_attributes_are_read_again(monkeypatch, kw):
    grad, both = adc.grad(scaled, **kw), adc.value_and_grad(scaled, **kw)
    assert grad(1.5) == 6.0
    monkeypatch.setattr(names_params, "SCALE", 7.0)
    assert grad(1.5) == 21.0 and adc.grad(scaled, **kw)(1.5) == 21.0
    assert tuple(both(1.5)) == (15.75, 21.0)
    g = adc.grad(activated, **kw)
    assert g(3.0) == 12.0
    monkeypatch.setattr(names_params, "act", lambda t: t * t * t)
    assert g(3.0) == 54.0
    x = np.array([0.5, -1.0])
    assert list(adc.grad(weighted, **kw)(x)) == [1.0, 2.0]
    monkeypatch.setattr(names_params, "WEIGHTS", np.array([3.0, -1.0]))
    assert list(adc.grad(weighted, **kw)(x)) == [3.0, -1.0]


def test_module_attributes_through_jvp_and_jacobians(monkeypatch):
    monkeypatch.setattr(names_params, "SCALE", 2.0)
    assert adc.jvp(scaled, (1.5,), (1.0,)) == (4.5, 6.0)
    monkeypatch.setattr(names_params, "SCALE", -1.0)
    assert adc.jvp(scaled, (1.5,), (1.0,)) == (-2.25, -3.0)
    assert adc.hessian(scaled)(1.5) == -2.0


def test_changed_defaults_of_a_helper_are_read_again(monkeypatch):
    grad = adc.grad(calls_with_default)
    assert grad(1.5) == 6.0
    monkeypatch.setattr(with_default, "__defaults__", (5.0,))
    assert calls_with_default(1.5) == 11.25
    assert grad(1.5) == 15.0 and tuple(adc.value_and_grad(calls_with_default)(1.5)) == (11.25, 15.0)
    assert adc.grad(calls_with_default, jit=True)(1.5) == 15.0


@pytest.mark.parametrize("fn", [reads_before_assigning, numpy_before_assigning])
def test_a_local_read_before_it_is_assigned_is_refused(fn):
    with pytest.raises(UnboundLocalError):
        fn(1.5)
    for kw in ({}, {"mode": "forward"}):
        with pytest.raises(UnsupportedError, match="(?s)may be unassigned here.*UnboundLocalError") as err:
            adc.grad(fn, **kw)(1.5)
        assert f"test_naming_hygiene.py:{fn.__code__.co_firstlineno + 1}:" in str(err.value)


def test_parameters_named_like_generated_modules():
    want = fd_grad(lambda x: revolved(x, 6, 0.5), (0.7,))[0]
    for kw in ({}, {"checkpoints": 2}):
        assert adc.grad(revolved, **kw)(0.7, 6, 0.5) == pytest.approx(want, rel=1e-7)
    v = np.array([0.3, 0.7])
    plain, jitted = adc.grad(calls_stacked)(v), adc.grad(calls_stacked, jit=True)(v)
    np.testing.assert_allclose(jitted, plain, rtol=1e-13)
    h = 1e-6
    fd = [(calls_stacked(v + h * e) - calls_stacked(v - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(plain, fd, rtol=1e-6)


def test_a_parameter_named_like_the_wrappers_globals_is_refused():
    with pytest.raises(DifferentiationError, match="`_adc_slow_`.*rename the parameter"):
        adc.grad(wrapper_name)(1.5)


class Private:
    """Private names (``self.__s``) are compiled mangled (``self._Private__s``): adc took the method's
    file for edited (a ``SourceError``)."""

    def __init__(self, s):
        self.__s = s

    def __scaled(self, x):
        return x * self.__s

    def loss(self, x):
        return self.__scaled(x) * x


def test_private_names_in_methods():
    model = Private(2.0)
    assert model.loss(1.5) == 4.5
    for kw in ({}, {"mode": "forward"}, {"jit": True}):
        assert tuple(adc.value_and_grad(model.loss, **kw)(1.5)) == (4.5, 6.0)
    model._Private__s = 3.0  # seen on the next call, as any attribute
    assert adc.grad(model.loss)(1.5) == 9.0


class PrivateOfTheClass:
    __G = 5.0

    def loss(self, x):
        return x * x * PrivateOfTheClass.__G  # the class by name: a global of the method


def test_a_private_name_of_the_class_read_by_name():
    """Recompiled in a stand-in function the class was a closure variable: a false SourceError."""
    assert adc.grad(PrivateOfTheClass().loss)(1.5) == 15.0


def test_every_module_alias_generated_code_imports_is_reserved():
    source = pathlib.Path(adc.__file__).parent
    aliases = {m for path in source.rglob("*.py") for m in re.findall(r"import adc[\w.]* as (\w+)", path.read_text())}
    assert aliases and aliases <= RESERVED, aliases - RESERVED


def test_the_caret_keeps_the_lines_tabs(tmp_path):
    """With tab indentation the caret sat under another column wherever tabs are expanded."""
    module = load_module(tmp_path, "tabbed", "def f(x):\n\ty = x * 2.0\n\tif y > 0:\n\t\tz = {y}\n\treturn y\n")
    with pytest.raises(UnsupportedError) as err:
        adc.grad(module.f)(1.0)
    source, caret = str(err.value).splitlines()[1:3]
    assert source == "    \t\tz = {y}" and caret == "    \t\t    ^"
    assert source.expandtabs().index("{") == caret.expandtabs().index("^")


def test_a_loop_over_the_users_own_range_says_what_it_got(tmp_path):
    module = load_module(tmp_path, "own_range", "def range(n):\n    return [1.0, 2.0]\n\n\ndef f(x):\n    s = 0.0\n"
                                           "    for r in range(3):\n        s = s + x * r\n    return s\n")
    with pytest.raises(UnsupportedError, match=r"(?s)unsupported loop iterable: a list.*Python's range"):
        adc.grad(module.f)(1.5)

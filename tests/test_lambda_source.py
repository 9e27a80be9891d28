"""A lambda whose source lines do not parse on their own (a call's argument on the line after
``adc.grad(``, a dict entry, two lambdas on one line): adc reads it from its whole file, with
errors and generated-code comments pointing at its own line."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import adc

X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.3]])
Y = np.array([1.0, 0.0, 2.0])
W = np.array([0.3, -0.4])


def loss(w, data, target):
    return np.sum((data @ w - target) ** 2)


WRAPPED = adc.grad(
    lambda w: loss(w, X, Y))
TABLE = {
    "square": adc.grad(lambda x: x * x),
    "cube": adc.grad(lambda x: x ** 3),
}
BROKEN = {"missing": lambda x: np.sin(x) + not_defined_anywhere}  # noqa: F821
TWINS = (lambda x: x * 2.0, lambda x: x * 3.0)
PAIR = {
    "a": (lambda x: np.sum(x ** 2)), "b": (lambda y: np.sum(y ** 3)),
}
SAME_LINE = (lambda x: x ** 2, lambda y: y ** 3)
ENDS_INSIDE = (
    lambda x: x ** 2 + 1.0,)


def central(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


@pytest.mark.parametrize("jit", [False, True])
def test_a_lambda_on_the_line_after_its_call(jit):
    f = lambda w: loss(w, X, Y)  # noqa: E731  (the reference; WRAPPED's lambda is the same maths)
    np.testing.assert_allclose(WRAPPED(W), central(f, W), rtol=1e-6)
    np.testing.assert_allclose(WRAPPED(W), 2 * X.T @ (X @ W - Y), rtol=1e-13)
    again = adc.grad(
        lambda w: loss(w, X, Y), jit=jit)
    np.testing.assert_allclose(again(W), WRAPPED(W), rtol=1e-13)


def test_lambdas_in_a_dict():
    assert TABLE["square"](3.0) == 6.0
    assert TABLE["cube"](2.0) == 12.0
    assert adc.hessian(ENDS_INSIDE[0])(np.array(1.5)) == pytest.approx(2.0)


def test_an_error_points_into_the_lambda():
    fn = BROKEN["missing"]
    line = fn.__code__.co_firstlineno
    text = inspect.getsourcelines(fn)[0][0]
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn)(1.0)
    message = str(info.value)
    column = text.index("not_defined_anywhere")  # messages count columns from 1
    assert f"test_lambda_source.py:{line}:{column + 1}: name `not_defined_anywhere` is not defined" in message, message
    assert text.rstrip() in message and " " * column + "^" in message, message


def test_the_generated_code_names_the_lambdas_line():
    line = ENDS_INSIDE[0].__code__.co_firstlineno
    source = adc.source(ENDS_INSIDE[0])
    assert "def lambda__grad(x):" in source, source
    assert f"# from line {line}: lambda x: x ** 2 + 1.0,)" in source, source


def test_two_lambdas_with_the_same_parameters_on_one_line():
    with pytest.raises(adc.SourceError, match=r"several lambdas with parameters \(x\).*define the function with `def`"):
        adc.grad(TWINS[1])(1.0)


def test_two_lambdas_with_other_parameters_on_one_line():
    """Each is its own function (the check that the file still holds the running code compares the
    one with its parameters on its line)."""
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(adc.grad(PAIR["a"])(x), 2 * x)
    np.testing.assert_allclose(adc.grad(PAIR["b"])(x), 3 * x ** 2)
    assert adc.grad(SAME_LINE[0])(1.5) == pytest.approx(3.0)
    assert adc.grad(SAME_LINE[1])(1.5) == pytest.approx(3 * 1.5 ** 2)

"""An axis named twice is refused when compiling, as NumPy refuses it when running.

Before, ``np.squeeze(x, axis=(0, 0))``, ``np.sum(x, axis=(1, -1))`` and the like compiled and gave a
gradient (of squeezing or summing once) where the function itself raises ``ValueError``.  The
functions are module-level so adc can read their source."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.errors import AdcError

from fd import fd_jacobian_of


def squeeze_twice(x):
    return np.sum(np.squeeze(x, axis=(0, 0)) ** 2)


def sum_twice(x):
    return np.sum(np.sin(np.sum(x, axis=(1, -1))))


def mean_twice(x):
    return np.sum(np.mean(x, axis=(0, -2)) ** 2)


def flip_twice(x):
    return np.sum(np.flip(x, axis=(0, 0)) * x)


def transpose_twice(x):
    return np.sum(np.transpose(x, (0, 0)) * x)


def tensordot_twice(x):
    return np.sum(np.tensordot(x, x, axes=([0, 0], [1, 1])))


def distinct_axes(x):
    return np.sin(np.sum(x, axis=(0, -1))) + np.sum(np.squeeze(x[:1], axis=(0,)) ** 2)


X = np.array([[0.3, -1.2, 0.8]])
REPEATED = [squeeze_twice, sum_twice, mean_twice, flip_twice, transpose_twice, tensordot_twice]


@pytest.mark.parametrize("fn", REPEATED, ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_an_axis_named_twice_is_refused_as_numpy_refuses_it(fn, mode):
    x = X if fn is not tensordot_twice else np.ones((2, 2))
    with pytest.raises(ValueError):
        fn(x)
    with pytest.raises(AdcError) as info:
        adc.grad(fn, mode=mode)(x)
    assert "name an axis twice" in str(info.value) and "name each axis once" in str(info.value)
    assert f"def {fn.__name__}" not in str(info.value)  # the caret is on the call, not the definition


def test_distinct_axes_are_unchanged():
    x = np.array([[0.3, -1.2, 0.8], [0.5, 0.1, -0.4]])
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(distinct_axes, jit=jit)(x), fd_jacobian_of(distinct_axes, x),
                                   rtol=1e-6, atol=1e-9)


def expand_twice(x):
    return np.sum(np.expand_dims(x, (0, 0)) ** 2)


def expand_axes(x):
    y = np.expand_dims(x, (0, -1))  # (1, 2, 3, 1)
    return np.sum(np.sin(y) * np.expand_dims(x[0], (0, 2)))


def test_expand_dims_takes_several_axes():
    x = np.array([[0.3, -1.2, 0.8], [0.5, 0.1, -0.4]])
    assert np.expand_dims(x, (0, -1)).shape == (1, 2, 3, 1)
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(expand_axes, jit=jit)(x), fd_jacobian_of(expand_axes, x), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(adc.grad(expand_axes, mode="forward")(x), adc.grad(expand_axes)(x), rtol=1e-13)
    with pytest.raises(ValueError):
        expand_twice(x)
    with pytest.raises(AdcError, match="name an axis twice"):
        adc.grad(expand_twice)(x)

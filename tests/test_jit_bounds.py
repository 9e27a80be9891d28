"""An index out of range under ``jit=True`` raises, as the function itself does in NumPy.

Numba does not check indices unless asked, so before ``boundscheck=True`` (``backend.njit``) the
compiled derivative of ``x[i] * x[0]`` at ``i = 7`` for a 3-element ``x`` read past the array and
returned a gradient (``[nan, 0, 0]``) where ``f`` itself raises ``IndexError``, and a write past the
end went into memory adc does not own.  The functions are module-level so adc can read their
source."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adc
from adc.errors import EvaluationError

from fd import fd_jacobian_of


def read_at(x, i):
    return x[i] * x[0]


def off_by_one(x):
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i]) * x[i + 1]
    return s


def write_at(x, i):
    y = np.zeros(3)
    y[i] = x[0] * x[1]
    return np.sum(y * x)


def from_the_end(x):
    s = 0.0
    for i in range(1, len(x) + 1):
        s += x[-i] * x[i - 1] ** 2
    return s


X = np.array([0.3, -1.2, 0.8])


@pytest.mark.parametrize("jit", [True, "parallel"])
@pytest.mark.parametrize("fn, args", [(read_at, (X, 7)), (read_at, (X, -4)), (off_by_one, (X,)), (write_at, (X, 5))],
                         ids=["read", "read-negative", "loop", "write"])
def test_an_index_out_of_range_raises_as_in_numpy(fn, args, jit):
    with pytest.raises(IndexError):
        fn(*args)
    with pytest.raises(EvaluationError) as info:
        adc.grad(fn, jit=jit)(*args)
    assert isinstance(info.value, IndexError)
    assert "itself at these arguments" in str(info.value)
    with pytest.raises(IndexError):
        adc.jvp(fn, args, (np.ones(3), *[0] * (len(args) - 1)), jit=jit)


@pytest.mark.parametrize("jit", [True, "parallel"])
@pytest.mark.parametrize("fn, args", [(read_at, (X, 2)), (read_at, (X, -3)), (write_at, (X, 2)), (from_the_end, (X,))],
                         ids=["read", "read-negative", "write", "from-the-end"])
def test_indices_in_range_are_unchanged(fn, args, jit):
    got = adc.grad(fn, jit=jit)(*args)
    np.testing.assert_allclose(got, fd_jacobian_of(lambda v: fn(v, *args[1:]), args[0]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got, adc.grad(fn)(*args), rtol=1e-13, atol=1e-15)

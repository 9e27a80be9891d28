"""What the reverse sweep keeps of loops that make their arrays anew each iteration.

A write into an array made during an iteration (``y_new[i] = ...``) cannot change the array the
iteration started with (``y``), so ``y``'s elements are read back from ``y`` itself, kept by
reference, instead of going on a tape one by one; an array the reverse sweep reads only for its
shape (``np.zeros_like(k1)``) and that is made from shapes alone (``np.empty_like(x)``) is made
again instead of kept; a partial nobody needs (of ``t / 6.0`` with respect to ``6.0``) is not
computed, so what it would read is not kept.  Every gradient is checked against central
differences in reverse, forward and jit modes, and the generated code for what it keeps."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from fd import fd_jacobian_of
from fresh_iteration_funcs import copied_then_written, divided, written_then_read, relax, stages, written_later, written_through_alias

X = np.array([0.3, 0.8, -0.4, 0.6, 0.9, 0.25])
S = 4
MODES = (("reverse", False), ("forward", False), ("reverse", True))


def _check(fn, *rest):
    want = fd_jacobian_of(lambda x: fn(x, *rest), X)
    for mode, jit in MODES:
        got = adc.grad(fn, mode=mode, jit=jit)(X, *rest)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=f"{mode}, jit={jit}")


def _source(fn, *rest):
    return adc.source(fn, argnums=0, at=[X, *rest], compact=True)


@pytest.mark.parametrize("fn", [relax, written_later, written_through_alias, copied_then_written, stages, divided],
                         ids=lambda f: f.__name__)
def test_gradients_agree_with_differences(fn):
    _check(fn, S)
    assert np.any(adc.grad(fn)(X, S) != 0.0)


def test_elements_of_the_array_an_iteration_starts_with_are_read_from_it():
    code = _source(relax, S)
    assert "tape" not in code  # no element of y goes on a tape
    assert "y_rec[_] = y\n" in code  # y itself, by reference
    assert " y.copy()" not in code


@pytest.mark.parametrize("fn", [written_later, written_through_alias, copied_then_written], ids=lambda f: f.__name__)
def test_numbers_of_an_array_written_later_are_kept(fn):
    code = _source(fn, S)
    assert "tape.append(" in code  # each y[i] as the reverse sweep needs it, before the write


def test_arrays_read_for_their_shape_are_made_again():
    code = _source(stages, S)
    assert "k1_rec" not in code and "k2_rec" not in code
    assert "t_rec" in code and "y_rec" in code  # read for their values: kept


def test_a_partial_nobody_needs_keeps_nothing():
    code = _source(divided, S)
    assert "k_rec" not in code and "tape" not in code  # k is read for its shape alone
    assert "y_rec" in code


def test_an_array_made_again_for_its_shape_gives_no_values():
    h = 1e-6
    for a in (0.625, -1.3):
        want = (written_then_read(a + h) - written_then_read(a - h)) / (2 * h)
        for mode, jit in MODES:
            assert adc.grad(written_then_read, mode=mode, jit=jit)(a) == pytest.approx(want, rel=1e-6, abs=1e-7)

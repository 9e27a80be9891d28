"""Central finite differences: the reference every derivative test compares against."""
import math

import numpy as np
import pytest

H = 1e-6
RTOL = 1e-6
ATOL = 1e-7


def _shift(args, i, delta):
    out = [float(a) for a in args]
    out[i] += delta
    return out


def fd_grad(fn, args, h=H):
    """The gradient of scalar ``fn`` at ``args`` by central differences, one entry per argument."""
    return tuple((fn(*_shift(args, i, h)) - fn(*_shift(args, i, -h))) / (2 * h) for i in range(len(args)))


def fd_jacobian(fn, args, h=H):
    """``J[k][i] = d out_k / d args_i`` of a tuple-valued (or scalar) ``fn`` by central differences."""
    cols = []
    for i in range(len(args)):
        plus, minus = fn(*_shift(args, i, h)), fn(*_shift(args, i, -h))
        if not isinstance(plus, tuple):
            plus, minus = (plus,), (minus,)
        cols.append([(p - m) / (2 * h) for p, m in zip(plus, minus)])
    return [[cols[i][k] for i in range(len(args))] for k in range(len(cols[0]))]


def close(a, b, rtol=RTOL, atol=ATOL):
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= atol + rtol * abs(b)


def assert_close_seq(got, want, rtol=RTOL, atol=ATOL, what="gradient"):
    """Element-wise closeness, with a message listing every mismatching component."""
    got, want = tuple(got), tuple(want)
    assert len(got) == len(want), f"{what}: {len(got)} components, expected {len(want)}"
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if not close(g, w, rtol, atol)]
    assert not bad, f"{what} mismatch (index, got, expected): {bad}"


def fd_jacobian_of(g, x, h=H):
    """Central differences of the array function ``g`` at the array ``x``: ``J[out + in]`` (the
    Hessian when ``g`` is a gradient)."""
    import numpy as np

    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e.flat[j] = h
        cols.append((np.asarray(g(x + e), dtype=float) - np.asarray(g(x - e), dtype=float)) / (2 * h))
    return np.stack(cols, axis=-1).reshape(np.shape(g(x)) + x.shape)


def check_tied_gradient(f, args, g, at=0, h=1e-7):
    """``g``, the gradient of ``f`` with respect to the array ``args[at]``, against central
    differences that move each group of equal elements together: along that direction a tie
    stays a tie (a max is smooth there), and its derivative is the sum of the group's components
    (adc splits a tie's share equally among them)."""
    x = np.asarray(args[at])
    flat = x.ravel()
    groups: dict[float, list[int]] = {}
    for i, v in enumerate(flat):
        groups.setdefault(float(v), []).append(i)
    for members in groups.values():
        e = np.zeros_like(flat)
        e[members] = h
        plus, minus = list(args), list(args)
        plus[at], minus[at] = (flat + e).reshape(x.shape), (flat - e).reshape(x.shape)
        d = (f(*plus) - f(*minus)) / (2 * h)
        got = float(np.sum(np.asarray(g).ravel()[members]))
        assert got == pytest.approx(d, rel=1e-6, abs=1e-7), (f.__name__, members)


def assert_raises_as_the_function(fn, args, error):
    """Where the user's ``fn`` raises ``error`` at ``args``, adc's ``value_and_grad`` raises it too:
    an ``adc.EvaluationError`` that is also an instance of ``error``."""
    import adc

    with pytest.raises(error):
        fn(*args)
    with pytest.raises(adc.EvaluationError) as info:
        adc.value_and_grad(fn)(*args)
    assert isinstance(info.value, error)

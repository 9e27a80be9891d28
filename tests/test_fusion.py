"""Element-wise statements on 1-D arrays fused into loops over the elements in Numba code
(``adc/fusion.py``).  Every fused derivative is compared with ``jit=False`` (the same maths, array
by array), with finite differences, and across modes (``<vjp(u), v> == <u, jvp(v)>``); the runs
fusion must leave alone stay array statements and still give the right answer, as do calls whose
arrays break the guard's length conditions (the unfused, checked code runs)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import adc
from adc.pipeline import compile_derivative
from adc.types import type_of

import fusion_funcs as ff
from fd import fd_jacobian_of

RNG = np.random.default_rng(11)
FUSED = "(fused)"


def _source(fn, *args, kind="grad"):
    return compile_derivative(fn, [type_of(a) for a in args], kind, [0], jit=True).source


def _check(fn, args, jit=True):
    got = adc.grad(fn, jit=jit)(*args)
    want = adc.grad(fn)(*args)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    fd = fd_jacobian_of(lambda v: fn(v, *args[1:]), args[0]).reshape(args[0].shape)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)
    return got


CASES = [  # the program, its arguments at length n, and text the generated module keeps unfused
    ("rk4", ff.rk4_last, lambda n: (RNG.uniform(0.5, 1.5, n), 3), None),
    ("neighbours", ff.neighbours, lambda n: (RNG.normal(size=n),), None),
    ("smoothed", ff.smoothed, lambda n: (RNG.normal(size=n), RNG.normal(size=n)), None),
    ("accumulated", ff.accumulated, lambda n: (RNG.normal(size=n),), None),
    ("ratio", ff.ratio, lambda n: (RNG.normal(size=n), RNG.uniform(1.0, 2.0, n)), None),
    ("read_after_write", ff.read_after_write, lambda n: (RNG.normal(size=n),), "g[:-1]"),
    ("through_a_view", ff.through_a_view, lambda n: (RNG.normal(size=n),), "v * s"),
]


@pytest.mark.parametrize("name, fn, make, unfused", CASES, ids=[c[0] for c in CASES])
def test_fused_gradients_match_numpy_and_finite_differences(name, fn, make, unfused):
    args = make(12)
    source = _source(fn, *args)
    assert FUSED in source
    assert unfused is None or unfused in source
    for jit in (True, "parallel"):
        _check(fn, args, jit)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 9])
def test_short_arrays_take_the_unfused_code_where_the_guard_fails(n):
    """The RK4 loop reads four elements back: shorter arrays fail the guard, longer ones take
    the ends' loops and the middle one; every length gives NumPy's answer."""
    x = RNG.uniform(0.5, 1.5, n)
    for s in (1, 2):
        _check(ff.rk4_last, (x, s))
        _check(ff.smoothed, (x, RNG.normal(size=n))) if n >= 3 else None
        _check(ff.neighbours, (x,)) if n >= 2 else None


def test_a_broadcast_operand_runs_the_unfused_code():
    x = RNG.normal(size=7)
    assert FUSED in _source(ff.scaled, x, RNG.normal(size=7))
    grad = adc.grad(ff.scaled, jit=True)
    for w in (RNG.normal(size=7), RNG.normal(size=1), RNG.normal(size=7)):
        np.testing.assert_allclose(grad(x, w), adc.grad(ff.scaled)(x, w), rtol=1e-13)
    with pytest.raises(ValueError):
        grad(x, RNG.normal(size=3))  # as NumPy: the shapes do not broadcast


@pytest.mark.parametrize("fn", [ff.tail_written_from_the_front, ff.stale_view, ff.signed_zero],
                         ids=lambda f: f.__name__)
def test_found_by_review(fn):
    """Three wrong results of the pass before its commit, in both modes."""
    x = np.arange(1.0, 7.0)
    for jit in (True, "parallel"):
        np.testing.assert_array_equal(adc.grad(fn, jit=jit)(x), adc.grad(fn)(x))
        (value, tangent), (want_value, want_tangent) = (adc.jvp(fn, (x,), (np.ones(6),), jit=jit),
                                                         adc.jvp(fn, (x,), (np.ones(6),)))
        assert (value, tangent) == (want_value, want_tangent)


def test_division_by_zero_gives_numpys_inf_not_an_exception():
    x, y = RNG.normal(size=6), RNG.uniform(1.0, 2.0, 6)
    y[2] = 0.0
    got, want = adc.grad(ff.ratio, jit=True)(x, y), adc.grad(ff.ratio)(x, y)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
    np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], rtol=1e-13)


def test_jvp_and_vjp_agree_through_fused_code():
    x = RNG.uniform(0.5, 1.5, 10)
    u, v = RNG.normal(size=10), RNG.normal()
    f = ff.rk4_four_steps
    _, tangent = adc.jvp(f, (x,), (u,), jit=True)
    _, pullback = adc.vjp(f, x, jit=True)
    (cot,) = pullback(v)
    np.testing.assert_allclose(np.dot(cot, u), v * tangent, rtol=1e-12)
    np.testing.assert_allclose(tangent, adc.jvp(f, (x,), (u,))[1], rtol=1e-12)


def test_the_fused_loops_are_in_the_generated_module():
    source = _source(ff.rk4_last, RNG.normal(size=8), 2)
    assert source.count(FUSED) == 2  # the forward sweep's step and the reverse sweep's
    code = [line for line in source.splitlines() if not line.strip().startswith("#")]
    assert not any("[:-1]" in line and "*" in line for line in code) and "np.empty(n)" in source
    assert source == _source(ff.rk4_last, RNG.normal(size=8), 2)  # deterministic


def _random_stencil_program(seed: int) -> str:
    """A function of two arrays of one length: copies, shifted products written into slices,
    in-place adds through slices and whole, in a loop that rebinds its arrays (so the reverse
    sweep's statements fuse too), then a sum of squares."""
    rng = np.random.default_rng(seed)
    names, lines = ["x", "y"], []
    for k in range(int(rng.integers(3, 7))):
        a, b = (str(v) for v in rng.choice(names, 2))
        s, c = int(rng.integers(1, 4)), round(float(rng.uniform(-1.5, 1.5)), 2)
        new = f"t{k}"
        form = int(rng.integers(0, 4))
        if form == 0:
            lines += [f"{new} = {a}.copy()", f"{new}[{s}:] = {a}[{s}:] * {b}[:-{s}]"]
        elif form == 1:
            lines += [f"{new} = {b} * {c} - {a} / 3.0", f"{new}[:-{s}] += {a}[{s}:] * {c}"]
        elif form == 2:
            lines += [f"{new} = {a} + {c} * {b}", f"{new} += {a} * {b}"]
        else:
            lines += [f"{new} = np.zeros_like({a})", f"{new}[{s}:-{s}] = {a}[:-{2 * s}] - {b}[{2 * s}:]"]
        names.append(new)
    last, other = names[-1], names[-2]
    body = "\n".join("        " + line for line in lines)
    return ("import numpy as np\n\n\ndef f(x, y):\n    for _ in range(2):\n" + body
            + f"\n        x = x + 0.25 * {last}\n        y = y - 0.125 * {other}\n"
            + "    return np.sum(x * x) + np.sum(x * y)\n")


@pytest.mark.parametrize("seed", range(6))
def test_random_stencils_fused_agree_with_numpy(seed, tmp_path):
    path = tmp_path / f"stencil_{seed}.py"
    path.write_text(_random_stencil_program(seed))
    spec = importlib.util.spec_from_file_location(f"stencil_{seed}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, y = RNG.normal(size=16), RNG.normal(size=16)
    assert FUSED in _source(module.f, x, y)
    got = adc.grad(module.f, argnums=(0, 1), jit=True)(x, y)
    want = adc.grad(module.f, argnums=(0, 1))(x, y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-12)
    fd = fd_jacobian_of(lambda v: module.f(v, y), x).reshape(x.shape)
    np.testing.assert_allclose(got[0], fd, rtol=1e-5, atol=1e-6)

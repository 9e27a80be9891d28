"""Coverage (issue 10): every differentiable name added from the registry, table-driven.

Each row is a function of ``coverage_funcs.py`` and the shapes to try it on (numbers, 1-D, 2-D,
broadcasting pairs).  For random tangents ``v`` (float arguments) and a random cotangent ``u``:

* forward mode: ``jvp(v)`` equals the central finite difference of ``f`` along ``v``;
* reverse mode: ``<vjp(u), v>`` equals ``<u, FD>``, and ``<vjp(u), v> == <u, jvp(v)>``;
* the ``jit_*`` rows, several names per program, run the same checks with ``jit=True``.

Then: the coverage table docs/coverage.md is the one the registry generates.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import adc
import coverage_funcs as cf

H = 1e-6
_rng = np.random.default_rng(1010)


def _sample(low: float, high: float, signed: bool = False) -> Callable[[tuple], Any]:
    def draw(shape: tuple) -> Any:
        v = _rng.uniform(low, high, size=shape)
        if signed:
            v = v * _rng.choice([-1.0, 1.0], size=shape)
        return float(v) if shape == () else v
    return draw


R = _sample(0.2, 1.4, signed=True)  # away from 0 and from the integers' and halves' jumps ...
P = _sample(0.5, 2.0)  # positive
U = _sample(-0.8, 0.8)  # inside (-1, 1)
G = _sample(1.2, 2.5)  # above 1
S = _sample(0.1, 0.9)  # inside (0, 1)


def M(shape: tuple) -> np.ndarray:
    """A well-conditioned square matrix (identity plus a small random part)."""
    return np.eye(shape[0]) * 2.0 + _rng.uniform(-0.5, 0.5, size=shape)

SCALAR = [()]
UNARY = [(), (3,), (2, 3)]
BINARY = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]


# issue 10, round 2: products, shapes and construction, linear algebra
ROUND2 = [("np_prod", (R,), [(4,), (2, 3)]), ("np_prod_axis", (R,), [(2, 3)]), ("np_prod_method", (R,), [(2, 3)]),
 ("np_cumsum", (R,), [(4,), (2, 3)]), ("np_cumsum_axis", (R,), [(2, 3)]), ("np_cumsum_method", (R,), [(2, 3)]),
 ("np_cumprod", (R,), [(4,), (2, 3)]), ("np_cumprod_axis", (R,), [(2, 3)]), ("np_ptp", (R,), [(4,), (2, 3)]),
 ("np_average", (R, P), [((4,), (4,)), ((2, 3), (2, 3))]), ("np_average_axis", (R, P), [((2, 3), (2, 3)), ((2, 3), (3,))]),
 ("np_trace", (R,), [(3, 3), (2, 4)]), ("np_vdot", (R, R), [((3,), (3,)), ((2, 3), (2, 3))]),
 ("np_inner", (R, R), [((3,), (3,)), ((2, 3), (4, 3))]), ("np_tensordot", (R, R), [((2, 3), (3, 4))]),
 ("np_tensordot_pairs", (R, R), [((2, 3), (4, 2))]), ("np_kron", (R, R), [((2,), (3,)), ((2, 2), (3, 2))]),
 ("np_einsum_matmul", (R, R), [((2, 3), (3, 4))]), ("np_einsum_dot", (R, R), [((2, 3), (2, 3))]), ("np_einsum_one", (R,), [(2, 3)]),
 ("np_diag", (R,), [(3,), (3, 3), (2, 4)]), ("np_diag_k", (R,), [(3,), (3, 4)]), ("np_diagonal", (R,), [(3, 3), (3, 4)]),
 ("np_eye", (R,), [(3, 3)]), ("np_full", (R,), [()]), ("np_full_like", (R, R), [((2, 3), ())]), ("np_linspace", (R, R), [((), ())]),
 ("np_atleast", (R,), [(), (3,), (2, 3)]), ("np_expand_squeeze", (R,), [(3,), (2, 3)]), ("np_flip", (R,), [(3,), (2, 3)]),
 ("np_flip_lr_ud", (R,), [(2, 3)]), ("np_roll", (R,), [(4,), (2, 3)]), ("np_roll_axis", (R,), [(2, 3)]), ("np_tile", (R,), [(3,), (2, 3)]),
 ("np_repeat", (R,), [(3,), (2, 3)]), ("np_stacks", (R, R), [((3,), (3,)), ((2, 3), (2, 3))]), ("np_triangles", (R,), [(3, 3), (3, 4)]),
 ("np_astype_item", (R,), [(1,), (1, 1)]), ("la_cholesky", (M,), [(3, 3)]), ("la_cholesky_lower", (M,), [(3, 3)]),
 ("np_vander", (R,), [(4,)]), ("np_vander_increasing", (R,), [(4,)]), ("np_vander_n", (R,), [(3,)]),
 ("la_eigvalsh", (M,), [(3, 3)]), ("la_eigh", (M,), [(3, 3)]), ("la_matrix_power", (M,), [(3, 3)])]


def rows() -> list[tuple[str, Callable, tuple, list]]:
    """(id, function, samplers, shapes): one row per name."""
    table: list[tuple[Callable, tuple, list]] = []
    for name in ("sinh", "cosh", "arcsinh", "expm1", "exp2", "square", "negative", "positive", "deg2rad",
                 "rad2deg", "radians", "degrees", "sinc", "sign", "floor", "ceil", "trunc", "fix", "rint", "round",
                 "around"):
        table.append((getattr(cf, "np_" + name), (R,), UNARY))
    for name in ("arcsin", "arccos", "arctanh"):
        table.append((getattr(cf, "np_" + name), (U,), UNARY))
    table.append((cf.np_arccosh, (G,), UNARY))
    for name in ("log2", "log10", "cbrt", "reciprocal"):
        table.append((getattr(cf, "np_" + name), (P,), UNARY))
    for name in ("add", "subtract", "multiply", "logaddexp", "logaddexp2", "hypot", "copysign"):
        table.append((getattr(cf, "np_" + name), (R, R), BINARY))
    table.append((cf.np_true_divide, (R, P), BINARY))
    table.append((cf.np_float_power, (P, R), BINARY))
    for name in ("sinh", "cosh", "asinh", "erf", "erfc", "expm1", "radians", "degrees"):
        table.append((getattr(cf, "m_" + name), (R,), SCALAR))
    for name in ("asin", "acos", "atanh"):
        table.append((getattr(cf, "m_" + name), (U,), SCALAR))
    for name in ("acosh",):
        table.append((getattr(cf, "m_" + name), (G,), SCALAR))
    for name in ("log2", "log10", "lgamma", "gamma"):
        table.append((getattr(cf, "m_" + name), (P,), SCALAR))
    table += [(cf.m_hypot, (R, R), [((), ())]), (cf.m_copysign, (R, R), [((), ())])]
    for name in ("gammaln", "gamma", "digamma", "psi", "polygamma"):
        table.append((getattr(cf, "sp_" + name), (P,), UNARY))
    for name in ("erf", "erfc", "expit"):
        table.append((getattr(cf, "sp_" + name), (R,), UNARY))
    table.append((cf.sp_logit, (S,), UNARY))
    table += [(cf.sp_xlogy, (R, P), BINARY), (cf.sp_xlog1py, (R, P), BINARY)]
    for name in ("np_var", "np_std", "np_norm", "sp_logsumexp", "sp_softmax", "sp_log_softmax"):
        table.append((getattr(cf, name), (R,), [(4,), (2, 3)]))
    for name in ("np_var_axis", "np_var_keepdims", "np_std_axis", "np_std_method", "np_norm_axis",
                 "np_norm_keepdims", "sp_logsumexp_axis", "sp_logsumexp_keepdims", "sp_softmax_axis",
                 "sp_log_softmax_axis"):
        table.append((getattr(cf, name), (R,), [(2, 3)]))
    table += [(cf.la_inv, (M,), [(3, 3)]), (cf.la_det, (M,), [(3, 3)]), (cf.la_slogdet, (M,), [(3, 3)]),
              (cf.la_solve, (M, R), [((3, 3), (3,)), ((3, 3), (3, 2))])]
    table += [(getattr(cf, n), samplers, shapes) for n, samplers, shapes in ROUND2]
    out = []
    for fn, samplers, shapes in table:
        for shape in shapes:
            shape = shape if isinstance(shape[0] if shape else None, tuple) else (shape,) * len(samplers)
            out.append((f"{fn.__name__}[{'|'.join('x'.join(map(str, s)) or 's' for s in shape)}]", fn, samplers,
                        shape))
    return out


# Numba compiles slowly (about a second per derivative program, more for long ones): one program per
# family, reverse mode only unless marked (the forward code calls the same functions, and a reverse
# program holds the primal's own ops: tile and untile, a reduction and its broadcast back)
JIT_ROWS = [(cf.jit_hyperbolic, (R, U), ((3,), (3,)), False), (cf.jit_powers, (R, P), ((3,), (3,)), False),
            (cf.jit_steps, (R,), ((4,),), False), (cf.jit_binary, (R, R), ((3,), (3,)), False),
            (cf.jit_special, (R, P), ((3,), (3,)), False), (cf.jit_math, (R, P), ((), ()), True),
            (cf.jit_reductions, (R, M, R), ((4,), (3, 3), (3,)), False),
            (cf.jit_products, (R, M), ((3,), (3, 3)), False), (cf.jit_shapes, (R, M), ((3,), (3, 3)), False),
            (cf.jit_linalg, (M,), ((3, 3),), False),
            (cf.jit_axes, (R, P), ((2, 3), (2, 3)), False), (cf.jit_axes3, (R,), ((2, 3, 4),), False),
            (cf.jit_index_maps, (R,), ((2, 3),), False), (cf.jit_einsum, (R, R), ((2, 3), (3, 4)), False)]


def _vdot(a: Any, b: Any) -> float:
    return float(np.sum(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)))


def _along(args: tuple, v: tuple, t: float) -> list:
    """``args + t v`` in float64 (a float32 argument's finite difference is taken in float64)."""
    return [(a.astype(np.float64) if isinstance(a, np.ndarray) else a) + t * d if d is not None else a
            for a, d in zip(args, v)]


def _real(a: Any) -> bool:
    """Does argument ``a`` get a tangent (not an int, not an integer array)?"""
    return not isinstance(a, (int, np.integer)) and not (isinstance(a, np.ndarray) and a.dtype.kind in "iub")


def check(fn: Callable, args: tuple, jit: bool = False, forward_jit: bool = True, rtol: float = 1e-5,
          atol: float = 1e-6) -> None:
    """Forward and reverse mode of ``fn`` at ``args`` against central differences (taken in float64),
    and ``<vjp(u), v> == <u, jvp(v)>``; float32 arguments get float32 derivatives, at float32 tolerance."""
    single = any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)
    if single:
        rtol, atol = max(rtol, 2e-3), max(atol, 2e-4)
    v = tuple(np.asarray(R(np.shape(a)), dtype=a.dtype) if isinstance(a, np.ndarray) and _real(a)
              else R(np.shape(a)) if _real(a) else None for a in args)
    out = fn(*args)
    u = R(np.shape(out))
    fd = (np.asarray(fn(*_along(args, v, H)), dtype=np.float64)
          - np.asarray(fn(*_along(args, v, -H)), dtype=np.float64)) / (2 * H)
    same = dict(rtol=1e-5, atol=1e-6) if single else dict(rtol=1e-12, atol=1e-12)
    out_f, t = adc.jvp(fn, args, v, jit=jit and forward_jit)
    np.testing.assert_allclose(out_f, out, **same, err_msg="jvp's primal output")
    assert np.shape(t) == np.shape(out), f"tangent shape {np.shape(t)}, expected {np.shape(out)}"
    np.testing.assert_allclose(t, fd, rtol=rtol, atol=atol, err_msg="forward mode against finite differences")
    out_r, pullback = adc.vjp(fn, *args, jit=jit)
    np.testing.assert_allclose(out_r, out, **same, err_msg="vjp's primal output")
    cts = pullback(u)
    for c, a in zip(cts, args):
        if _real(a):
            assert np.shape(c) == np.shape(a), f"cotangent shape {np.shape(c)}, expected {np.shape(a)}"
        if isinstance(a, np.ndarray) and a.dtype == np.float32:
            assert c.dtype == np.float32, f"the cotangent of a float32 argument is {c.dtype}"
    lhs = sum(_vdot(c, d) for c, d in zip(cts, v) if d is not None)
    assert lhs == pytest.approx(_vdot(u, fd), rel=rtol, abs=atol * 10), "reverse mode against finite differences"
    assert lhs == pytest.approx(_vdot(u, t), rel=1e-4 if single else 1e-9, abs=1e-4 if single else 1e-9), \
        "<vjp(u), v> == <u, jvp(v)>"


@pytest.mark.parametrize("fn, samplers, shapes", [r[1:] for r in rows()], ids=[r[0] for r in rows()])
def test_name(fn: Callable, samplers: tuple, shapes: tuple) -> None:
    check(fn, tuple(s(shape) for s, shape in zip(samplers, shapes)))


@pytest.mark.parametrize("fn, samplers, shapes, forward", JIT_ROWS, ids=[r[0].__name__ for r in JIT_ROWS])
def test_jit(fn: Callable, samplers: tuple, shapes: tuple, forward: bool) -> None:
    check(fn, tuple(s(shape) for s, shape in zip(samplers, shapes)), jit=True, forward_jit=forward)


def _single(args: tuple) -> tuple:
    return tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args)


# float32: every row with an array argument, at float32 tolerance; float32 derivatives
F32_ROWS = [r for r in rows() if any(s != () for s in r[3])]


@pytest.mark.parametrize("fn, samplers, shapes", [r[1:] for r in F32_ROWS], ids=[r[0] for r in F32_ROWS])
def test_name_float32(fn: Callable, samplers: tuple, shapes: tuple) -> None:
    check(fn, _single(tuple(s(shape) for s, shape in zip(samplers, shapes))))


def test_jit_network_and_float32() -> None:
    """A bias of shape (1, D) and a cross-entropy read with integer arrays (``np.add.at`` in the
    reverse sweep) under jit, in float32 (its axis reductions: the float32 kernels; the float64
    forms of the same kernels are the rows of ``jit_axes``); the float64 network without jit."""
    y = np.array([0, 2, 1, 2])
    args = (R((3, 3)), R((1, 3)), R((4, 3)), y)
    check(cf.jit_network, args)
    check(cf.jit_network32, _single(args), jit=True, forward_jit=False)


# --- conventions and stability -------------------------------------------------------------------------
def test_large_inputs_keep_finite_derivatives() -> None:
    x = np.array([800.0, -900.0, 1000.0, 999.0])
    for fn in (cf.sp_logsumexp, cf.sp_softmax, cf.sp_log_softmax):
        out, pullback = adc.vjp(fn, x)
        (g,) = pullback(np.ones_like(out) if np.ndim(out) else 1.0)
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(g)), fn.__name__
    g = adc.grad(cf.sp_logsumexp)(x)
    np.testing.assert_allclose(g, [0.0, 0.0, 1 / (1 + np.exp(-1.0)), np.exp(-1.0) / (1 + np.exp(-1.0))], atol=1e-15)


def test_kinks_follow_the_documented_conventions() -> None:
    assert adc.grad(cf.np_norm)(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]  # the subgradient 0
    assert adc.grad(cf.np_norm, mode="forward")(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    assert adc.grad(cf.m_hypot, argnums=(0, 1))(0.0, 0.0) == (0.0, 0.0)
    assert adc.grad(cf.np_sign)(0.0) == 0.0 and adc.grad(cf.np_floor)(2.0) == 1.0  # floor' = 0 at the jump
    assert adc.grad(cf.np_sinc)(0.0) == 0.0
    assert adc.grad(cf.np_cbrt)(0.0) == np.inf  # NumPy's division, never a ZeroDivisionError
    assert adc.grad(cf.sp_xlogy, argnums=(0, 1))(0.0, 0.0) == (-np.inf, 0.0)


def test_unsupported_numpy_function_is_located_at_the_users_line() -> None:
    with pytest.raises(adc.errors.UnsupportedError) as info:
        adc.grad(cf.unsupported)(np.ones(3))
    assert "coverage_funcs.py" in str(info.value) and "unwrap" in str(info.value)


def test_coverage_table_is_generated_from_the_registry() -> None:
    from pathlib import Path

    from adc.prims.lexicon import markdown

    committed = (Path(__file__).resolve().parent.parent / "docs" / "coverage.md").read_text()
    assert committed == markdown(), "docs/coverage.md is stale: python -m adc.prims.coverage_table > docs/coverage.md"


def test_special_kernels_keep_float32_under_numba() -> None:
    """The Numba forms of the special functions return float32 for float32 arrays, as SciPy does."""
    from numba import njit

    import adc.prims.special as sp

    x = np.linspace(0.2, 0.8, 5).astype(np.float32)
    for f in (sp.gammaln, sp.expit):
        compiled = njit(lambda x, f=f: f(x))
        assert compiled(x).dtype == np.float32 and compiled(x.astype(np.float64)).dtype == np.float64
        np.testing.assert_allclose(compiled(x), f(x.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("fn, arg, message", [(cf.bad_vander_2d, np.ones((2, 2)), "np.vander\\(\\) of a 2-D array"),
                                             (cf.bad_vander_zero, np.ones(3), "np.vander\\(\\) with N=0")])
def test_vander_refuses_what_numpy_does_not_define(fn, arg, message):
    with pytest.raises(adc.UnsupportedError, match=message):
        adc.grad(fn)(arg)

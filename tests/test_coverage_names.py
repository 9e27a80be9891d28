"""Coverage of the names added for issue 10's "still missing" list, table-driven like
tests/test_coverage.py (whose ``check`` runs central finite differences in forward and reverse
mode and the identity ``<vjp(u), v> == <u, jvp(v)>``), and the numerics conventions of
docs/rules.md that came with them.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import adc
import coverage_names_funcs as nf
from test_coverage import BINARY, SCALAR, UNARY, M, P, R, U, _single, check

_rng = np.random.default_rng(1011)


def N(shape: tuple) -> np.ndarray:
    """A random (rectangular) matrix: distinct nonzero singular values, full rank."""
    return _rng.normal(size=shape)


ROWS = [(nf.np_fmod, (R, P), BINARY), (nf.np_mod, (P, P), BINARY), (nf.py_round, (R,), SCALAR),
        (nf.sp_erfinv, (U,), UNARY), (nf.np_nansum, (R,), [(4,), (2, 3)]), (nf.np_nansum_axis, (R,), [(2, 3)]),
        (nf.norm_vector_ords, (R,), [(4,)]), (nf.norm_axis_ords, (R,), [(2, 3)]),
        (nf.norm_matrix_ords, (N,), [(3, 3), (2, 3)]), (nf.la_svdvals, (N,), [(3, 2), (2, 3)]),
        (nf.la_svd_s, (N,), [(2, 3)]), (nf.la_svd_u, (N,), [(3, 2), (2, 3), (3, 3)]),
        (nf.la_svd_vh, (N,), [(3, 2), (2, 3), (3, 3)]), (nf.la_pinv, (N,), [(3, 2), (2, 3)]), (nf.la_pinv, (M,), [(3, 3)]),
        (nf.la_qr, (N,), [(3, 2), (3, 3)]), (nf.la_qr_q, (N,), [(4, 3)]), (nf.la_qr_r, (M,), [(3, 3)]),
        (nf.mask_read, (R,), [(5,)]), (nf.mask_read_2d, (R,), [(3, 2)]), (nf.int_read, (R,), [(4,)]),
        (nf.int_read_2d, (R,), [(3, 3)]), (nf.int_write, (R,), [(4,)]), (nf.mask_write, (R,), [(5,)]),
        (nf.add_at, (R,), [(4,)]), (nf.take, (R,), [(4,)]), (nf.take_axis, (R,), [(2, 3)]),
        (nf.take_along, (R,), [(3, 2)]), (nf.sort, (R,), [(5,), (2, 3)]), (nf.sort_axes, (R,), [(3, 2)]),
        (nf.positions, (R,), [(5,)]), (nf.positions_axis, (R,), [(2, 3)]),
        (nf.pad, (R,), [(3,), (2, 2)]), (nf.pad_2d, (R,), [(2, 3)]), (nf.split, (R,), [(4,), (6,)]),
        (nf.split_axis, (R,), [(2, 3)]), (nf.einsum_ellipsis, (R, R), [((2, 3), (3, 4))]),
        (nf.einsum_diagonal, (R,), [(3, 3)]), (nf.einsum_implicit, (R, R), [((2, 3), (2, 3))]),
        (nf.int_read_nd, (R,), [(3, 4)]), (nf.mask_read_nd, (R,), [(3, 4)]), (nf.write_nd, (R,), [(3, 4)]),
        (nf.sort_take_nd, (R,), [(3, 4)]), (nf.pad_modes, (R,), [(4,), (1,)]), (nf.pad_modes_2d, (R,), [(2, 3)]),
        (nf.pad_3d, (R,), [(1, 2, 2)]), (nf.norm_zero, (R,), [(4,)]), (nf.norm_matrix_axes, (R,), [(2, 3, 4)]),
        (nf.norm_axes_swapped, (R,), [(3, 4)])]
# one program each (Numba compiles slowly): reverse mode, whose forward sweep holds the primal's reads too
JIT_ROWS = [(nf.jit_names, (R, U), ((4,), (4,))), (nf.jit_linalg, (M,), ((3, 3),)),
            (nf.jit_indexing, (R, R), ((4,), (3, 4)))]


def _rows() -> list[tuple[str, Callable, tuple, tuple]]:
    out = []
    for fn, samplers, shapes in ROWS:
        for shape in shapes:
            shape = shape if isinstance(shape[0] if shape else None, tuple) else (shape,) * len(samplers)
            out.append((f"{fn.__name__}[{'|'.join('x'.join(map(str, s)) or 's' for s in shape)}]", fn, samplers, shape))
    return out


@pytest.mark.parametrize("fn, samplers, shapes", [r[1:] for r in _rows()], ids=[r[0] for r in _rows()])
def test_name(fn: Callable, samplers: tuple, shapes: tuple) -> None:
    check(fn, tuple(s(shape) for s, shape in zip(samplers, shapes)))


@pytest.mark.parametrize("fn, samplers, shapes", JIT_ROWS, ids=[r[0].__name__ for r in JIT_ROWS])
def test_jit(fn: Callable, samplers: tuple, shapes: tuple) -> None:
    check(fn, tuple(s(shape) for s, shape in zip(samplers, shapes)), jit=True, forward_jit=False)


# --- conventions -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_branch_not_taken_has_gradient_zero(mode: str) -> None:
    x = np.array([-2.0, 0.0, 4.0])
    with np.errstate(all="ignore"):
        g = adc.grad(nf.where_sqrt, mode=mode)(x)
        np.testing.assert_array_equal(g, [0.0, 0.0, 0.25])  # not NaN (0 * nan) at -2, not inf at 0
        g = adc.grad(nf.where_log_chain, mode=mode)(x)
        np.testing.assert_allclose(g, [1.0, 1.0, 2.0 * np.log(4.0) + 2.0])
        g = adc.grad(nf.nansum_of_nan, mode=mode)(np.array([-1.0, 2.0]))
        np.testing.assert_array_equal(g, [0.0, 0.5])  # log(-1) is NaN: skipped by nansum, derivative 0


def test_erfinv_kernel_matches_scipy() -> None:
    import scipy.special

    from adc.prims.special import erfinv_scalar

    xs = np.concatenate([np.linspace(-0.999999, 0.999999, 401), [0.0, 1e-300, 0.9999999999, -0.99999999999999]])
    np.testing.assert_allclose([erfinv_scalar(x) for x in xs], scipy.special.erfinv(xs), rtol=1e-11, atol=1e-300)
    assert erfinv_scalar(1.0) == np.inf and erfinv_scalar(-1.0) == -np.inf and np.isnan(erfinv_scalar(1.5))


def test_norms_at_zero_have_gradient_zero() -> None:
    for order in (None, 1, 2, np.inf, -np.inf):
        for mode in ("reverse", "forward"):
            g = adc.grad(lambda x: np.linalg.norm(x, order), mode=mode)(np.zeros(3))
            assert g.tolist() == [0.0, 0.0, 0.0], (order, mode)


def test_wide_qr_is_refused_when_differentiated() -> None:
    with pytest.raises(np.linalg.LinAlgError):
        adc.grad(lambda a: np.sum(np.linalg.qr(a)[1]))(np.ones((2, 3)))


def test_writes_through_integer_arrays_follow_numpy() -> None:
    """``y[idx] = v`` keeps the last write of a repeated index and ``y[idx] += v`` does not add up
    (both as NumPy); ``np.add.at`` adds up.  Worked numbers, both modes."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    # int_write: y = [2 x0, x2, 2 x2, 0, x3] -> y * x0; d sum / dx
    for mode in ("reverse", "forward"):
        g = adc.grad(lambda x: np.sum(nf.int_write(x)), mode=mode)(x)
        np.testing.assert_allclose(g, [4 * 1.0 + 3 * 3.0 + 4.0, 0.0, 3 * 1.0, 1.0])  # 2 x0^2 + 3 x0 x2 + x0 x3
        g = adc.grad(lambda x: np.sum(nf.add_at(x)), mode=mode)(x)
        # y = [x0, 0, x1 + x2, 0, x3]; z[1, 2] = x0^2 + x1^2, z[0] = [x2^2 + x1, x1, x1]; add_at returns
        # y * x0 + sum(z^2), so the sum is x0 (x0 + x1 + x2 + x3) + 5 sum(z^2)
        z12, z00 = 1.0 + 4.0, 9.0 + 2.0
        want = [2 * 1.0 + 2.0 + 3.0 + 4.0 + 5 * 2 * z12 * 2 * 1.0, 1.0 + 5 * (2 * z12 * 2 * 2.0 + 2 * z00 + 4 * 2.0),
                1.0 + 5 * 2 * z00 * 2 * 3.0, 1.0]
        np.testing.assert_allclose(g, want)


def test_list_index_is_an_integer_array() -> None:
    a = np.arange(9.0).reshape(3, 3)
    f = lambda a: np.sum(a[[0, 2]] * np.arange(3.0))  # noqa: E731 -- rows 0 and 2, not a[0, 2]
    assert adc.value_and_grad(f)(a)[0] == f(a) == 28.0
    np.testing.assert_array_equal(adc.grad(f)(a), [[0.0, 1.0, 2.0], [0.0, 0.0, 0.0], [0.0, 1.0, 2.0]])


def test_split_into_unequal_parts_raises_as_numpy() -> None:
    with pytest.raises(adc.errors.AdcError, match="equal division") as info:
        adc.grad(nf.split)(np.ones(5))
    assert "coverage_names_funcs.py" in str(info.value)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_sqrt_at_zero_is_inf_never_zero_division(mode: str) -> None:
    import math

    assert adc.grad(lambda x: math.sqrt(x), mode=mode)(0.0) == np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        g = adc.grad(lambda x: np.sum(np.sqrt(x)), mode=mode)(np.array([0.0, 4.0]))
    # forward mode pushes the tangent (0, 1) through sqrt'(0) = inf too: 0 * inf is NaN, as in JAX
    np.testing.assert_array_equal(g, [np.inf, 0.25 if mode == "reverse" else np.nan])
    assert adc.grad(lambda x, y: x ** y, argnums=(0, 1), mode=mode)(0.0, 2.0) == (0.0, 0.0)


F32 = [(nf.np_fmod, (R, P), ((3,), (3,))), (nf.np_nansum, (R,), ((4,),)), (nf.norm_vector_ords, (R,), ((4,),)),
       (nf.int_read_nd, (R,), ((3, 4),)), (nf.pad_modes, (R,), ((4,),)), (nf.float32_products, (R, R, R), ((3,), (3, 3), (3, 3))),
       (nf.norm_matrix_ords, (N,), ((3, 3),)), (nf.sort, (R,), ((5,),)), (nf.take, (R,), ((4,),)),
       (nf.pad, (R,), ((3,),)), (nf.split, (R,), ((4,),)), (nf.la_svd_u, (N,), ((3, 2),)), (nf.la_qr, (N,), ((3, 2),)),
       (nf.la_pinv, (N,), ((3, 2),)), (nf.mask_read, (R,), ((5,),)), (nf.int_write, (R,), ((4,),)),
       (nf.add_at, (R,), ((4,),)), (nf.sp_erfinv, (U,), ((3,),)), (nf.einsum_diagonal, (R,), ((3, 3),))]


@pytest.mark.parametrize("fn, samplers, shapes", F32, ids=[r[0].__name__ for r in F32])
def test_float32(fn: Callable, samplers: tuple, shapes: tuple) -> None:
    """float32 arguments: NumPy's result dtype, cotangents in float32, the float64 gradient to float32
    precision."""
    wide = tuple(s(shape) for s, shape in zip(samplers, shapes))
    narrow = tuple(np.asarray(a, dtype=np.float32) for a in wide)
    wide = tuple(a.astype(np.float64) for a in narrow)
    out, pullback = adc.vjp(fn, *narrow)
    assert np.asarray(out).dtype == np.asarray(fn(*narrow)).dtype
    u = np.ones_like(out)
    cts = pullback(u)
    _, pullback64 = adc.vjp(fn, *wide)
    for c, c64, a in zip(cts, pullback64(u.astype(np.float64)), narrow):
        assert np.asarray(c).dtype == np.float32
        np.testing.assert_allclose(c, c64, rtol=2e-3, atol=2e-3)


def test_float32_under_jit() -> None:
    """float32 arrays under jit: np.max/np.min's adjoint (a division by a count) and the 1.0 seed
    meet `@` in float32, and a float64 matrix meets a float32 vector (Numba's `@` takes one dtype);
    each gradient in its argument's dtype, the float32 sweep in float32 (docs/arrays.md#float32)."""
    x, w = _single((R((3,)), R((3, 3))))
    check(nf.float32_products, (x, w, R((3, 3))), jit=True, forward_jit=False)


def test_numba_kernels_match_numpy() -> None:
    """The Numba forms of the kernels new names compile to under jit (argsort and nansum along an
    axis, pad of a 3-D array in modes reflect and wrap and its transpose) against NumPy's, in one
    compiled function."""
    from numba import njit

    import adc.prims.kernels as k

    @njit
    def kernels(a, t, g):  # noqa: ANN001, ANN202
        w = ((1, 0), (0, 2), (3, 1))
        return (k.argsort_axis(a, 1), k.nansum_axis(a, 0), k.pad(t, w, "reflect", 0.0), k.pad(t, w, "wrap", 0.0),
                k.unpad(g, t, w, "reflect"), k.unpad(g, t, w, "symmetric"))

    a, t = np.array([[3.0, np.nan, 1.0], [0.5, 2.0, -1.0]]), R((2, 2, 3))
    g = R((3, 4, 7))
    got = kernels(a, t, g)
    w = ((1, 0), (0, 2), (3, 1))
    want = (np.argsort(a, axis=1), np.nansum(a, axis=0), np.pad(t, w, mode="reflect"), np.pad(t, w, mode="wrap"),
            k.unpad(g, t, w, "reflect"), k.unpad(g, t, w, "symmetric"))
    for x, y in zip(got[:4], want[:4]):
        np.testing.assert_array_equal(x, y)
    for x, y, mode in zip(got[4:], want[4:], ("reflect", "symmetric")):  # the transpose of pad: <pad(u), g> == <u, unpad(g)>
        np.testing.assert_allclose(x, y, rtol=1e-12)
        assert np.sum(np.pad(t, w, mode=mode) * g) == pytest.approx(np.sum(t * x), rel=1e-12)


def test_index_arrays_apart_put_their_axes_first() -> None:
    """``a[0, None, idx]`` is 2 x 1, not 1 x 2 (NumPy puts the axes of index arrays that do not
    stand together first): the forward mode was wrong, the reverse mode raised."""
    check(nf.index_apart, (R((2, 3)), R((1, 3))))


def test_matrix_norm_axes_in_either_order() -> None:
    """``np.linalg.norm(a, 1, axis=(1, 0))`` is the largest row sum (rows and columns swapped): it
    was computed as the largest column sum, value and derivative."""
    a = np.array([[-2.0, -1.0, 0.0], [1.0, 2.0, 3.0]])
    assert adc.value_and_grad(nf.norm_ones_swapped)(a)[0] == nf.norm_ones_swapped(a) == 6.0
    check(nf.norm_axes_swapped, (R((3, 4)),))


@pytest.mark.parametrize("fn, words", [(nf.svd_full, "full_matrices"), (nf.pad_ramp, "mode='linear_ramp'"), (nf.norm_ord_zero, "ord=0")])
def test_refused_forms_are_located_adc_errors(fn: Callable, words: str) -> None:
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn)(np.ones((3, 3)))
    assert words in str(info.value) and "coverage_names_funcs.py" in str(info.value), str(info.value)

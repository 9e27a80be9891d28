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
from test_coverage import BINARY, SCALAR, UNARY, M, P, R, U, check

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
        (nf.la_qr, (N,), [(3, 2), (3, 3)]), (nf.la_qr_q, (N,), [(4, 3)]), (nf.la_qr_r, (M,), [(3, 3)])]
JIT_ROWS = [(nf.jit_elementwise, (R, U), ((3,), (3,))), (nf.jit_linalg, (M,), ((3, 3),))]


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

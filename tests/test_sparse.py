"""Sparse Jacobians and Hessians (issue 12): ``adc.sparse_jacobian`` and ``adc.sparse_hessian``
equal the dense ``jacfwd``/``jacrev``/``hessian`` on several patterns, take one pass per color
(counted), and refuse a pattern that misses an entry."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import adc
import adc.sparse
import sparse_funcs as S

X = np.array([0.3, -0.7, 1.1, 0.4, 0.9, -0.2])


@pytest.fixture
def passes(monkeypatch):
    """How many times generated code runs: a whole derivative program, or the reverse part of a
    VJP cut between its sweeps (its forward part runs once per call, ``vjp_parts.py``)."""
    count = [0]
    run = adc.sparse.run_generated
    backward = adc.vjp_parts.VjpParts._backward

    def counting(*args):
        count[0] += 1
        return run(*args)

    def counting_backward(self, *args):
        count[0] += 1
        return backward(self, *args)

    monkeypatch.setattr(adc.sparse, "run_generated", counting)
    monkeypatch.setattr(adc.vjp_parts.VjpParts, "_backward", counting_backward)
    return count


def test_reverse_mode_runs_one_forward_sweep(monkeypatch):
    """Each color's VJP is a reverse sweep on the residuals of one forward sweep."""
    forwards, backwards = [0], [0]
    sweep, backward = adc.vjp_parts.VjpParts.sweep, adc.vjp_parts.VjpParts._backward

    def counted(counter, method):
        def run(self, *args):
            counter[0] += 1
            return method(self, *args)
        return run

    monkeypatch.setattr(adc.vjp_parts.VjpParts, "sweep", counted(forwards, sweep))
    monkeypatch.setattr(adc.vjp_parts.VjpParts, "_backward", counted(backwards, backward))
    band = np.zeros((4, 6), dtype=bool)
    for i in range(4):
        band[i, i:i + 3] = True
    J = adc.sparse_jacobian(S.stencil, band, mode="reverse", check=False)(X)
    assert forwards[0] == 1 and backwards[0] == 3  # rows i and i + 3 share a color
    np.testing.assert_allclose(J.toarray(), adc.jacfwd(S.stencil)(X), rtol=1e-14, atol=1e-15)


def tridiagonal(n):
    return np.eye(n, dtype=bool) | np.eye(n, k=1, dtype=bool) | np.eye(n, k=-1, dtype=bool)


HESSIANS = [(S.chain, tridiagonal(6), 3), (S.pairs, ("block", 2), 2), (S.elementwise_sum, "diagonal", 1)]


@pytest.mark.parametrize("fn,pattern,colors", HESSIANS, ids=lambda c: getattr(c, "__name__", None))
def test_sparse_hessian_equals_the_dense_one_in_one_pass_per_color(fn, pattern, colors, passes):
    H = adc.sparse_hessian(fn, pattern, check=False)(X)
    assert isinstance(H, sp.csr_array) and passes[0] == colors
    dense = adc.hessian(fn)(X)
    np.testing.assert_allclose(H.toarray(), dense, rtol=1e-12, atol=1e-14)
    passes[0] = 0
    adc.sparse_hessian(fn, pattern)(X)  # the check: one more pass along a random direction
    assert passes[0] == colors + 1


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_diagonal_and_banded_jacobians(mode, passes):
    J = adc.sparse_jacobian(S.elementwise, "diagonal", mode=mode, check=False)(X)
    assert passes[0] == 1
    np.testing.assert_allclose(J.toarray(), np.diag(np.sin(X) + X * np.cos(X) + 2 * X), rtol=1e-14)
    band = np.zeros((4, 6), dtype=bool)
    for i in range(4):
        band[i, i:i + 3] = True
    passes[0] = 0
    J = adc.sparse_jacobian(S.stencil, band, mode=mode, check=False)(X)
    # forward: columns j, j + 3 never share a row (3 colors); reverse: rows i, i + 3 (3 colors)
    assert passes[0] == 3 == adc.sparse.color(band if mode == "forward" else band.T).max() + 1
    np.testing.assert_allclose(J.toarray(), adc.jacfwd(S.stencil)(X), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_bundle_adjustment_like_pattern_over_two_arguments(mode, passes):
    rng = np.random.default_rng(3)
    cam, pts = rng.normal(size=(3, 2)), rng.normal(size=5)
    obs_cam, obs_pt = np.array([0, 1, 2, 0, 1, 2, 0]), np.array([0, 1, 2, 3, 4, 0, 2])
    rows = len(obs_cam)
    pattern = sp.lil_array((rows, 6 + 5), dtype=bool)
    for k, (c, p) in enumerate(zip(obs_cam, obs_pt)):
        pattern[k, 2 * c:2 * c + 2] = True
        pattern[k, 6 + p] = True
    J = adc.sparse_jacobian(S.residuals, pattern, argnums=(0, 1), mode=mode)(cam, pts, obs_cam, obs_pt)
    ran = passes[0]
    dense = np.hstack([a.reshape(rows, -1) for a in adc.jacrev(S.residuals, argnums=(0, 1))(cam, pts, obs_cam, obs_pt)])
    np.testing.assert_allclose(J.toarray(), dense, rtol=1e-13, atol=1e-15)
    colors = adc.sparse.color(pattern if mode == "forward" else pattern.T).max() + 1
    assert ran == colors + 1 and colors < (11 if mode == "forward" else rows)


def test_kmeans_newton_step_needs_one_pass(passes):
    rng = np.random.default_rng(1)
    C, P = rng.normal(size=(3, 2)), rng.normal(size=(20, 2))
    H = adc.sparse_hessian(S.kmeans_cost, "diagonal", check=False)(C, P)
    assert passes[0] == 1
    np.testing.assert_allclose(H.diagonal(), np.diagonal(adc.hessian(S.kmeans_cost)(C, P).reshape(6, 6)), rtol=1e-14)


def test_jit():
    H = adc.sparse_hessian(S.chain, tridiagonal(6), jit=True)(X)
    np.testing.assert_allclose(H.toarray(), adc.hessian(S.chain)(X), rtol=1e-12, atol=1e-14)


def test_a_pattern_that_misses_an_entry_is_refused():
    with pytest.raises(adc.DifferentiationError, match="does not have the stated sparsity pattern"):
        adc.sparse_hessian(S.chain, "diagonal")(X)  # every row has its diagonal entry: found by the check
    missing = np.eye(4, 6, dtype=bool)
    missing[3, 3] = False  # row 3 states no entry at all, yet its product is non-zero
    with pytest.raises(adc.DifferentiationError, match="non-zero in row 3 outside the stated sparsity pattern"):
        adc.sparse_jacobian(S.stencil, missing, check=False)(X)
    with pytest.raises(adc.DifferentiationError, match=r"\(4, 5\).*6 columns"):
        adc.sparse_jacobian(S.stencil, np.ones((4, 5), dtype=bool))(X)
    with pytest.raises(adc.DifferentiationError, match="block size"):
        adc.sparse_hessian(S.pairs, ("block", 4))(X)


def test_the_output_size_must_match_the_pattern():
    with pytest.raises(adc.DifferentiationError, match="has 5 rows, but stencil returns 4 numbers"):
        adc.sparse_jacobian(S.stencil, np.ones((5, 6), dtype=bool))(X)
    with pytest.raises(adc.DifferentiationError, match="has 5 rows, but its output has 4 entries"):
        adc.sparse_jacobian(S.stencil, np.ones((5, 6), dtype=bool), mode="reverse")(X)

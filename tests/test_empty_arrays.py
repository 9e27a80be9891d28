"""Empty arrays as the arguments differentiated (as JAX): a gradient of the argument's shape, a
Jacobian of shape ``out.shape + in.shape`` (``(0, 0)`` for R^0 -> R^0, ``(0,)`` for a number of
R^0), in forward mode, reverse mode and under jit, alone and beside arguments that are not empty
(whose derivatives still match central differences).  Forward mode once seeded nothing and read
the value from no pass (IndexError), and the Jacobians stacked no column or row (ValueError)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

import adc
from fd import fd_jacobian_of

EMPTY = np.zeros(0)
B = np.array([1.0, -2.0])


def total(x):
    return np.sum(np.sin(x)) + 1.0


def doubled_sines(x):
    return np.sin(x) * 2.0


def scaled(x, y):
    return np.sum(np.sin(x)) * y + y * y


def with_aux(x):
    return np.sum(np.sin(x)) + 1.0, np.cos(x)


def mean(x):
    return np.mean(x) + 1.0


def variance(x):
    return np.var(x) + 1.0


def lse(x):
    return logsumexp(x)


def norm(x):
    return np.linalg.norm(x) + 1.0


def product(x):
    return np.prod(x)


def cumulative(x):
    return np.sum(np.cumsum(x)) + 1.0


def gram(x):
    return np.sum(x @ x.T) + 1.0


def tree_total(p):
    return np.sum(np.sin(p["a"])) + np.sum(p["b"] ** 2) + 1.0


def tree_vector(p):
    return np.concatenate([np.sin(p["a"]), p["b"] ** 2])


def _empty_like(g, x):
    assert isinstance(g, np.ndarray) and g.shape == np.shape(x) and g.dtype == np.float64, g


@pytest.mark.parametrize("jit", [False, True])
def test_gradient_of_an_empty_array(jit):
    """f(empty) = 1 in every mode; its gradient an empty array, forward == reverse."""
    for mode in ("forward", "reverse"):
        value, g = adc.value_and_grad(total, mode=mode, jit=jit)(EMPTY)
        assert value == 1.0 and type(value) is float
        _empty_like(g, EMPTY)
        _empty_like(adc.grad(total, mode=mode, jit=jit)(EMPTY), EMPTY)
        (value, aux), g = adc.value_and_grad(with_aux, has_aux=True, mode=mode, jit=jit)(EMPTY)
        assert value == 1.0
        _empty_like(aux, EMPTY)
        _empty_like(g, EMPTY)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_beside_a_number(mode):
    """scaled(empty, y) = y^2: the empty part's gradient is empty, y's is 2y (argnums (0, 1) and 0)."""
    value, (gx, gy) = adc.value_and_grad(scaled, argnums=(0, 1), mode=mode)(EMPTY, 1.5)
    assert value == 2.25 and gy == pytest.approx(3.0, rel=1e-15)
    _empty_like(gx, EMPTY)
    value, gx = adc.value_and_grad(scaled, mode=mode)(EMPTY, 1.5)
    assert value == 2.25
    _empty_like(gx, EMPTY)


@pytest.mark.parametrize("fn", [mean, variance, lse, norm, product, cumulative])
def test_reductions_forward(fn):
    """NumPy's value (nan for the mean and the variance of nothing, -inf for its log-sum-exp, 1 for
    its product), and an empty gradient."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "mean of empty slice"
        want = fn(EMPTY)
        value, g = adc.value_and_grad(fn, mode="forward")(EMPTY)
    np.testing.assert_array_equal(value, want)
    assert {mean: np.isnan(want), variance: np.isnan(want), lse: want == -np.inf, norm: want == 1.0,
            product: want == 1.0, cumulative: want == 1.0}[fn]
    _empty_like(g, EMPTY)
    if fn not in (mean, variance):
        value, g = adc.value_and_grad(fn)(EMPTY)
        assert value == want
        _empty_like(g, EMPTY)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
def test_matrix_product_forward(shape):
    """x @ x.T of a matrix with no elements: 1 + a sum of nothing or of zeros, a gradient of x's shape."""
    x = np.zeros(shape)
    for mode in ("forward", "reverse"):
        value, g = adc.value_and_grad(gram, mode=mode)(x)
        assert value == 1.0
        _empty_like(g, x)


@pytest.mark.parametrize("jit", [False, True])
def test_jacobians(jit):
    """R^0 -> R^0: shape (0, 0); R^0 -> R: shape (0,); of a (0, 3) matrix, (0, 3, 0, 3)."""
    for jac in (adc.jacfwd, adc.jacrev):
        for fn, x, shape in ((doubled_sines, EMPTY, (0, 0)), (total, EMPTY, (0,)),
                             (doubled_sines, np.zeros((0, 3)), (0, 3, 0, 3)), (total, np.zeros((0, 3)), (0, 3))):
            J = jac(fn, jit=jit)(x)
            assert isinstance(J, np.ndarray) and J.shape == shape and J.dtype == np.float64, (jac.__name__, J)


@pytest.mark.parametrize("jac", [adc.jacfwd, adc.jacrev])
def test_jacobian_beside_a_number(jac):
    """d scaled / d(x, y) at (empty, 1.5): (an empty array, 2y = 3)."""
    Jx, Jy = jac(scaled, argnums=(0, 1))(EMPTY, 1.5)
    _empty_like(Jx, EMPTY)
    assert Jy == pytest.approx(3.0, rel=1e-15)


def test_tree_with_an_empty_leaf():
    """{"a": empty, "b": [1, -2]}: value 6; gradient {"a": empty, "b": 2b}; the Jacobian of
    [sin(a), b^2] {"a": (2, 0), "b": diag(2b)}: forward == reverse == central differences."""
    p = {"a": EMPTY, "b": B}
    for mode in ("forward", "reverse"):
        value, g = adc.value_and_grad(tree_total, mode=mode)(p)
        assert value == pytest.approx(6.0, rel=1e-15) and set(g) == {"a", "b"}
        _empty_like(g["a"], EMPTY)
        np.testing.assert_allclose(g["b"], 2 * B, rtol=1e-15)
    want = fd_jacobian_of(lambda b: tree_vector({"a": EMPTY, "b": b}), B)
    for jac in (adc.jacfwd, adc.jacrev):
        J = jac(tree_vector)(p)
        assert J["a"].shape == (2, 0), jac.__name__
        np.testing.assert_allclose(J["b"], want, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(J["b"], np.diag(2 * B), rtol=1e-15)


def test_tree_of_empty_leaves():
    """Every leaf empty: the Jacobian of R^0 -> R^0 per leaf, shape (0, 0); the gradient's leaves empty."""
    p = {"a": EMPTY, "b": EMPTY}
    for jac in (adc.jacfwd, adc.jacrev):
        J = jac(tree_vector)(p)
        assert set(J) == {"a", "b"} and J["a"].shape == (0, 0) and J["b"].shape == (0, 0), jac.__name__
    for mode in ("forward", "reverse"):
        value, g = adc.value_and_grad(tree_total, mode=mode)(p)
        assert value == 1.0
        _empty_like(g["a"], EMPTY)
        _empty_like(g["b"], EMPTY)

"""Functions for tests/test_coverage.py: one per differentiable name (adc reads their source).

``np_<name>`` uses ``np.<name>``, ``m_<name>`` ``math.<name>``, ``sp_<name>`` ``scipy.special.<name>``;
the ``jit_*`` functions put several names in one program, so one Numba compilation checks them all.
"""
import math

import numpy as np
import scipy.special as ss

# --- element-wise, NumPy ---------------------------------------------------------------------------
def np_sinh(x): return np.sinh(x)
def np_cosh(x): return np.cosh(x)
def np_arcsin(x): return np.arcsin(x)
def np_arccos(x): return np.arccos(x)
def np_arcsinh(x): return np.arcsinh(x)
def np_arccosh(x): return np.arccosh(x)
def np_arctanh(x): return np.arctanh(x)
def np_expm1(x): return np.expm1(x)
def np_exp2(x): return np.exp2(x)
def np_log2(x): return np.log2(x)
def np_log10(x): return np.log10(x)
def np_cbrt(x): return np.cbrt(x)
def np_square(x): return np.square(x)
def np_reciprocal(x): return np.reciprocal(x)
def np_negative(x): return np.negative(x)
def np_positive(x): return np.positive(x)
def np_deg2rad(x): return np.deg2rad(x)
def np_rad2deg(x): return np.rad2deg(x)
def np_radians(x): return np.radians(x)
def np_degrees(x): return np.degrees(x)
def np_sinc(x): return np.sinc(x)
def np_sign(x): return np.sign(x) * x
def np_floor(x): return np.floor(x) + x
def np_ceil(x): return np.ceil(x) + x
def np_trunc(x): return np.trunc(x) + x
def np_fix(x): return np.fix(x) + x
def np_rint(x): return np.rint(x) + x
def np_round(x): return np.round(x) + x
def np_around(x): return np.around(x) + x
def np_add(x, y): return np.add(x, y)
def np_subtract(x, y): return np.subtract(x, y)
def np_multiply(x, y): return np.multiply(x, y)
def np_true_divide(x, y): return np.true_divide(x, y)
def np_float_power(x, y): return np.float_power(x, y)
def np_logaddexp(x, y): return np.logaddexp(x, y)
def np_logaddexp2(x, y): return np.logaddexp2(x, y)
def np_hypot(x, y): return np.hypot(x, y)
def np_copysign(x, y): return np.copysign(x, y)

# --- element-wise, math ----------------------------------------------------------------------------
def m_sinh(x): return math.sinh(x)
def m_cosh(x): return math.cosh(x)
def m_asin(x): return math.asin(x)
def m_acos(x): return math.acos(x)
def m_asinh(x): return math.asinh(x)
def m_acosh(x): return math.acosh(x)
def m_atanh(x): return math.atanh(x)
def m_erf(x): return math.erf(x)
def m_erfc(x): return math.erfc(x)
def m_expm1(x): return math.expm1(x)
def m_log2(x): return math.log2(x)
def m_log10(x): return math.log10(x)
def m_lgamma(x): return math.lgamma(x)
def m_gamma(x): return math.gamma(x)
def m_radians(x): return math.radians(x)
def m_degrees(x): return math.degrees(x)
def m_hypot(x, y): return math.hypot(x, y)
def m_copysign(x, y): return math.copysign(x, y)

# --- element-wise, scipy.special -------------------------------------------------------------------
def sp_gammaln(x): return ss.gammaln(x)
def sp_gamma(x): return ss.gamma(x)
def sp_digamma(x): return ss.digamma(x)
def sp_psi(x): return ss.psi(x)
def sp_polygamma(x): return ss.polygamma(2, x)
def sp_erf(x): return ss.erf(x)
def sp_erfc(x): return ss.erfc(x)
def sp_expit(x): return ss.expit(x)
def sp_logit(x): return ss.logit(x)
def sp_xlogy(x, y): return ss.xlogy(x, y)
def sp_xlog1py(x, y): return ss.xlog1py(x, y)


# --- several names per program, for jit=True ---------------------------------------------------------
def jit_hyperbolic(x, u):
    return np.sinh(x) + np.cosh(x) * 0.5 + np.arcsin(u) - np.arccos(u) * 0.3 + np.arcsinh(x) + np.arctanh(u) \
        + np.arccosh(x * x + 1.5)


def jit_powers(x, p):
    return np.expm1(x) + np.exp2(x) + np.log2(p) + np.log10(p) + np.cbrt(p) + np.square(x) + np.reciprocal(p) \
        + np.sinc(x) + np.deg2rad(x) + np.rad2deg(x) * 0.01 + np.negative(x) + np.positive(p)


def jit_steps(x):
    return np.sign(x) * x + np.floor(x) + np.ceil(x) + np.trunc(x) + np.rint(x) + np.round(x) + np.fix(x)


def jit_binary(x, y):
    return np.add(x, y) * np.subtract(x, y) + np.multiply(x, y) + np.true_divide(x, y * y + 1.0) \
        + np.logaddexp(x, y) + np.logaddexp2(x, y) + np.hypot(x, y) + np.copysign(x, y) \
        + np.float_power(x * x + 1.0, y)


def jit_special(x, p):
    return ss.gammaln(p) + ss.gamma(p) + ss.digamma(p) + ss.polygamma(1, p) + ss.erf(x) + ss.erfc(x) \
        + ss.expit(x) + ss.logit(p * 0.3) + ss.xlogy(x, p) + ss.xlog1py(x, p)


def jit_math(x, y):
    return math.sinh(x) + math.cosh(x) + math.asin(x * 0.5) + math.acos(x * 0.5) + math.asinh(x) \
        + math.acosh(x * x + 1.5) + math.atanh(x * 0.5) + math.erf(x) + math.erfc(x) + math.expm1(x) \
        + math.log2(y) + math.log10(y) + math.lgamma(y) + math.gamma(y) + math.radians(x) + math.degrees(x) \
        + math.hypot(x, y) + math.copysign(x, y) + ss.digamma(y) + ss.expit(x)


# --- reductions and linear algebra -------------------------------------------------------------------
def np_var(x): return np.var(x)
def np_var_axis(x): return np.var(x, axis=1, ddof=1)
def np_var_keepdims(x): return x.var(axis=0, keepdims=True)
def np_std(x): return np.std(x)
def np_std_axis(x): return np.std(x, 1, ddof=1, keepdims=True)
def np_std_method(x): return x.std(axis=0)
def np_norm(x): return np.linalg.norm(x)
def np_norm_axis(x): return np.linalg.norm(x, axis=1)
def np_norm_keepdims(x): return np.linalg.norm(x, axis=0, keepdims=True)
def sp_logsumexp(x): return ss.logsumexp(x)
def sp_logsumexp_axis(x): return ss.logsumexp(x, axis=1)
def sp_logsumexp_keepdims(x): return ss.logsumexp(x, 0, keepdims=True)
def sp_softmax(x): return ss.softmax(x)
def sp_softmax_axis(x): return ss.softmax(x, axis=1)
def sp_log_softmax(x): return ss.log_softmax(x)
def sp_log_softmax_axis(x): return ss.log_softmax(x, axis=-1)
def la_inv(a): return np.linalg.inv(a)
def la_det(a): return np.linalg.det(a)
def la_solve(a, b): return np.linalg.solve(a, b)


def la_slogdet(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet


def jit_reductions(x, a, b):
    return np.var(x) + np.std(x, ddof=1) + np.linalg.norm(x) + ss.logsumexp(x) + np.sum(ss.softmax(x) * x) \
        + np.sum(ss.log_softmax(x)) + np.linalg.det(a) + np.sum(np.linalg.inv(a)) + np.sum(np.linalg.solve(a, b)) \
        + np.linalg.slogdet(a)[1]


def unsupported(x): return np.sum(np.unwrap(x))


# --- issue 10, round 2: products, shapes and construction, linear algebra ---------------------------
def np_prod(x): return np.prod(x)
def np_prod_axis(x): return np.prod(x, axis=1)
def np_prod_method(x): return x.prod(axis=0, keepdims=True)
def np_cumsum(x): return np.cumsum(x)
def np_cumsum_axis(x): return np.cumsum(x, axis=1)
def np_cumsum_method(x): return x.cumsum()
def np_cumprod(x): return np.cumprod(x)
def np_cumprod_axis(x): return x.cumprod(axis=0)
def np_ptp(x): return np.ptp(x, axis=-1)
def np_vander(x): return np.vander(x)
def np_vander_increasing(x): return np.vander(x, 3, increasing=True)
def np_vander_n(x): return np.vander(x * x, N=x.shape[0] + 1)
def np_average(x, w): return np.average(x, weights=w)
def np_average_axis(x, w): return np.average(x, axis=1, weights=w)
def np_trace(a): return np.trace(a) + a.trace(1)
def np_vdot(a, b): return np.vdot(a, b)
def np_inner(a, b): return np.inner(a, b)
def np_tensordot(a, b): return np.tensordot(a, b, axes=1)
def np_tensordot_pairs(a, b): return np.tensordot(a, b, axes=((0,), (1,)))
def np_kron(a, b): return np.kron(a, b)
def np_einsum_matmul(a, b): return np.einsum("ij,jk->ik", a, b)
def np_einsum_dot(a, b): return np.einsum("ij,ij", a, b)
def np_einsum_one(a): return np.einsum("ij->j", a) * np.einsum("ij->ji", a)[:, 0]
def np_diag(x): return np.diag(x)
def np_diag_k(x): return np.diag(x, -1)
def np_diagonal(a): return np.sum(np.diagonal(a, 1) ** 2) + a.diagonal()
def np_eye(x): return x @ np.eye(3) + np.identity(3) @ x + x @ np.eye(3, 3, k=1)
def np_full(v): return np.full((2, 3), v) * np.full(2, v)[0]
def np_full_like(x, v): return x * np.full_like(x, v)
def np_linspace(a, b): return np.linspace(a, b, 5) ** 2
def np_atleast(x): return np.sum(np.atleast_1d(x)) + np.sum(np.atleast_2d(x) ** 2) + np.sum(np.atleast_3d(x) ** 3)
def np_expand_squeeze(x): return np.squeeze(np.expand_dims(x, 0) * 2.0, axis=0) + np.squeeze(x[None] * x, 0)
def np_flip(x): return np.flip(x) * np.arange(1, x.shape[-1] + 1)
def np_flip_lr_ud(x): return np.fliplr(x) + np.flipud(x) * 2.0 + np.flip(x, axis=1) * x
def np_roll(x): return np.roll(x, 1) * np.arange(x.size).reshape(x.shape)
def np_roll_axis(x): return np.roll(x, -1, axis=1) * x
def np_tile(x): return np.tile(x, (2, 1)) ** 2
def np_repeat(x): return np.repeat(x, 2) ** 2 + np.sum(x.repeat(3, axis=0))
def np_stacks(x, y): return np.hstack([x, y]) ** 2 + np.sum(np.vstack([x, y]) * 2.0) + np.sum(np.column_stack([x, y]) ** 3)
def np_triangles(a): return np.triu(a) ** 2 + np.tril(a, -1) * 3.0 + np.triu(a, 1)
def np_astype_item(x): return x.astype(float) * x.item() + np.array(x) * np.asarray(x)
def la_cholesky(a): return np.linalg.cholesky(a @ a.T)
def la_cholesky_lower(a): return np.linalg.cholesky(a)
def la_eigvalsh(a): return np.linalg.eigvalsh(a + a.T)


def la_eigh(a):
    w, v = np.linalg.eigh(a + a.T)
    return w * 2.0 + np.sum(v * v * np.arange(1.0, 4.0), axis=0)


def la_matrix_power(a): return np.linalg.matrix_power(a, 3) + np.linalg.matrix_power(a, -2) + np.linalg.matrix_power(a, 0)


def jit_products(x, a):
    return np.prod(x) + np.sum(np.cumsum(x) * x) + np.sum(np.cumprod(x)) + np.ptp(x) \
        + np.average(x, weights=x * x) + np.trace(a) + np.vdot(x, x) \
        + np.sum(np.vander(x, 4, increasing=True) ** 2) + np.sum(np.vander(x) * x[0])


def jit_shapes(x, a):
    return np.sum(np.diag(x) * a) + np.sum(np.diagonal(a, 1)) + np.sum(a @ np.eye(3)) + np.sum(np.full(3, x[0])) \
        + np.sum(np.full_like(x, x[1]) * x) + np.sum(np.linspace(x[0], x[1], 4) ** 2) + np.sum(np.atleast_2d(x) ** 2) \
        + np.sum(np.flip(x) * x) + np.sum(np.fliplr(a) * a) + np.sum(np.roll(x, 1) * x) \
        + np.sum(np.hstack((x, x)) ** 2) + np.sum(np.vstack((x, x)) ** 2) + np.sum(np.column_stack((x, x)) ** 3) \
        + np.sum(np.triu(a) * a) + np.sum(np.tril(a, -1) ** 2) + x.astype(float)[0] + a[:1, :1].item()


def jit_linalg(a):
    return np.sum(np.linalg.cholesky(a @ a.T)) + np.sum(np.linalg.eigvalsh(a + a.T) ** 2) \
        + np.sum(np.linalg.matrix_power(a, 3))


# --- jit=True: what Numba lacks, spelled by the Numba dialect (adc/prims/kernels.py) ------------------
def jit_axes(x, w):
    return np.sum(np.sum(x, axis=1, keepdims=True) * x) + np.sum(np.mean(x, axis=0) ** 2) \
        + np.sum(np.max(x, axis=1)[:, None] * np.min(x, axis=0, keepdims=True)) + np.sum(np.prod(x, axis=1)) \
        + np.sum(np.var(x, axis=1, ddof=1)) + np.sum(np.std(x, axis=0, keepdims=True)) \
        + np.sum(np.linalg.norm(x, axis=1)) + np.sum(ss.logsumexp(x, axis=1)) + np.sum(ss.softmax(x, axis=0) * w) \
        + np.sum(ss.log_softmax(x, axis=-1) * w) + np.sum(np.cumsum(x, axis=1) * w) + np.sum(np.ptp(x, axis=1)) \
        + np.sum(np.average(x, axis=1, weights=w[0]) ** 2) + np.sum(np.amax(x, axis=-1, keepdims=True) * x)


def jit_axes3(x):
    return np.sum(np.sum(x, axis=(0, 2), keepdims=True) * x) + np.sum(np.max(x, axis=(1, 2)) ** 2) \
        + np.sum(np.mean(x, axis=(0, 1)) * x) + np.sum(x[:, None, 0] * x[None, 1])


def jit_network(w, b, x, y):
    """A bias of shape (1, D), a softmax cross-entropy read with integer arrays (np.add.at in reverse)."""
    s = x @ w + b
    s = s - np.max(s, axis=1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(x.shape[0]), y]) + np.sum(logp[y, 0] * 0.5)


def jit_network32(w, b, x, y):
    """jit_network with logsumexp: its float32 reverse sweep stays float32 up to the matmuls."""
    s = x @ w + b
    logp = s - ss.logsumexp(s, axis=1, keepdims=True)
    return -np.mean(logp[np.arange(x.shape[0]), y])


def jit_index_maps(x):
    return np.sum(np.tile(x, (2, 1)) ** 2) + np.sum(np.tile(x[0], 2)[:3] * np.tile(x, (1, 1, 2))[0, :, :3]) \
        + np.sum(np.repeat(x, 2) ** 2) + np.sum(x.repeat(3, axis=0)[::3] * np.repeat(x, 2, axis=-1)[:, ::2]) \
        + np.sum(np.roll(x, -1, axis=1) * x) + np.sum(np.roll(x, 1, axis=0) ** 3) \
        + np.sum(np.cumprod(x, axis=0) * x) + np.sum(np.cumsum(x, axis=1) ** 2) + np.sum(x.cumprod(axis=1))


def jit_einsum(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b) ** 2) + np.einsum("ij,ij", a, a) \
        + np.sum(np.einsum("ij->j", a) * np.einsum("ij->ji", b)[:3, 0]) + np.sum(np.tensordot(a, b, axes=1)) \
        + np.sum(np.inner(a, b.T[:2]) ** 2) + np.sum(np.kron(a, b) * 0.5) + np.sum(np.kron(a[0], b[1]) ** 2)


def bad_vander_2d(a): return np.sum(np.vander(a))
def bad_vander_zero(x): return np.sum(np.vander(x, 0))

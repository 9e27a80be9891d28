"""Module-level NumPy functions differentiated by tests/test_arrays.py (adc reads their source).

Naming: a function whose name ends in ``_a`` (or starts with ``r_``) returns an array or a raw
reduction, and is checked through ``adc.vjp``/``adc.jvp`` Jacobians; the others return a scalar and
are checked through ``adc.grad``.  Shape-changing ops are multiplied by a second argument ``c`` so a
gradient routed to the wrong element would be caught, not only one with the wrong shape.
"""
import numpy as np


# --- elementwise binary operators, with broadcasting (scalar output) ---------------------------

def ew_add(a, b):
    return np.sum(np.sin(a + b))


def ew_sub(a, b):
    return np.sum(np.sin(a - b))


def ew_mul(a, b):
    return np.sum(np.sin(a * b))


def ew_div(a, b):
    return np.sum(np.sin(a / b))


def ew_pow(a, b):
    return np.sum(np.sin(a ** b))


def ew_maximum(a, b):
    return np.sum(np.sin(np.maximum(a, b)))


def ew_minimum(a, b):
    return np.sum(np.sin(np.minimum(a, b)))


# --- the same, returning the broadcast array ----------------------------------------------------

def add_a(a, b):
    return a + b


def sub_a(a, b):
    return a - b


def mul_a(a, b):
    return a * b


def div_a(a, b):
    return a / b


def pow_a(a, b):
    return a ** b


def maximum_a(a, b):
    return np.maximum(a, b)


def minimum_a(a, b):
    return np.minimum(a, b)


# --- elementwise unary functions ----------------------------------------------------------------

def u_neg(x):
    return np.sum(np.sin(-x))


def u_exp(x):
    return np.sum(np.sin(np.exp(x)))


def u_log(x):
    return np.sum(np.sin(np.log(x)))


def u_log1p(x):
    return np.sum(np.sin(np.log1p(x)))


def u_sqrt(x):
    return np.sum(np.sin(np.sqrt(x)))


def u_tanh(x):
    return np.sum(np.exp(np.tanh(x)))


def u_sin(x):
    return np.sum(np.exp(np.sin(x)))


def u_cos(x):
    return np.sum(np.exp(np.cos(x)))


def u_abs(x):
    return np.sum(np.sin(np.abs(x)))


def neg_a(x):
    return -x


def exp_a(x):
    return np.exp(x)


def log_a(x):
    return np.log(x)


def log1p_a(x):
    return np.log1p(x)


def sqrt_a(x):
    return np.sqrt(x)


def tanh_a(x):
    return np.tanh(x)


def sin_a(x):
    return np.sin(x)


def cos_a(x):
    return np.cos(x)


def abs_a(x):
    return np.abs(x)


# --- array with Python literals -----------------------------------------------------------------

def lit_scale(x):
    return np.sum(np.sin(2.0 * x - 1.5))


def lit_rdiv(x):
    return np.sum(np.sin(1.0 / x + x / 4.0))


def lit_square(x):
    return np.sum(np.sin(x ** 2))


def lit_half_power(x):
    return np.sum(np.sin(x ** 0.5))


def lit_rpow(x):
    return np.sum(np.sin(3.0 ** x))


def lit_rsub(x):
    return np.sum((3.0 - x) * x)


def lit_chain_a(x):
    return 1.0 - 2.0 * x ** 3 / (1.0 + x * x)


# --- comparisons, np.where, np.clip ---------------------------------------------------------------

def w_relu(x):
    return np.sum(np.sin(np.where(x > 0, x, 0.0)))


def w_leaky(x):
    return np.sum(np.where(x >= 0.0, x, 0.1 * x) ** 2)


def w_lt(a, b):
    return np.sum(np.sin(np.where(a < b, a * b, a - b)))


def w_le(a, b):
    return np.sum(np.sin(np.where(a <= b, np.exp(a), b * b)))


def w_ne(a, b):
    return np.sum(np.sin(np.where(a != b, a / b, 0.0)))


def w_scalar_branch(x, s):
    return np.sum(np.sin(np.where(x > s, s * x, s)))


def where_a(a, b):
    return np.where(a > b, a * a, 2.0 * b)


def c_const(x):
    return np.sum(np.sin(np.clip(x, -0.5, 0.7)))


def c_args(x, lo, hi):
    return np.sum(np.sin(np.clip(x, lo, hi)) * x)


def c_row_bound(x, lo):
    return np.sum(np.sin(np.clip(x, lo, 0.8)))


def clip_a(x, lo, hi):
    return np.clip(x, lo, hi)


# --- reductions, method forms --------------------------------------------------------------------

def m_sum(x):
    return (x * x).sum()


def m_mean(x):
    return np.sin(x).mean()


def m_max(x):
    return np.sin(x.max())


def m_min(x):
    return np.sin(x.min())


def m_min_axis(x):
    return np.sum(np.sin(x.min(axis=0)))


def m_max_axis_kd(x):
    return np.sum(np.sin(x.max(axis=1, keepdims=True)))


def m_sum_axis_a(x):
    return x.sum(axis=1)


def m_mean_axis_a(x):
    return x.mean(axis=-1, keepdims=True)


def m_max_positional_a(x):
    return x.max(0)


def m_min_axis_a(x):
    return x.min(axis=1)


# --- linear algebra --------------------------------------------------------------------------------

def la_mm(a, b):
    return np.sum(np.sin(a @ b))


def la_mv(a, v):
    return np.sum(np.sin(a @ v))


def la_vm(v, a):
    return np.sum(np.sin(v @ a))


def la_vv(u, v):
    return np.sin(u @ v)


def la_dot_mm(a, b):
    return np.sum(np.sin(np.dot(a, b)))


def la_dot_mv(a, v):
    return np.sum(np.sin(np.dot(a, v)))


def la_dot_vm(v, a):
    return np.sum(np.sin(np.dot(v, a)))


def la_dot_vv(u, v):
    return np.sin(np.dot(u, v))


def la_matmul_mm(a, b):
    return np.sum(np.sin(np.matmul(a, b)))


def la_matmul_mv(a, v):
    return np.sum(np.sin(np.matmul(a, v)))


def la_outer(u, v):
    return np.sum(np.sin(np.outer(u, v)))


def la_dot_T(a, b):
    return np.sum(np.sin(a.T @ b))


def la_method_dot(a, b):
    return np.sum(np.sin(a.dot(b)))


def mm_a(a, b):
    return a @ b


def mv_a(a, v):
    return a @ v


def vm_a(v, a):
    return v @ a


def vv_a(u, v):
    return u @ v


def outer_a(u, v):
    return np.outer(u, v)


def bilinear(x, w, y):
    return x @ w @ y


# --- shapes: transpose, reshape, ravel, new axes ---------------------------------------------------

def s_T(x, c):
    return np.sum(x.T * c)


def s_transpose(x, c):
    return np.sum(np.transpose(x) * c)


def s_reshape_tuple(x, c):
    return np.sum(np.sin(x.reshape((2, 6)) * c))


def s_reshape_ints(x, c):
    return np.sum(np.sin(x.reshape(2, 6) * c))


def s_reshape_minus1(x, c):
    return np.sum(np.sin(x.reshape(-1, 3) * c))


def s_reshape_flat(x, c):
    return np.sum(np.sin(x.reshape(-1) * c))


def s_np_reshape(x, c):
    return np.sum(np.sin(np.reshape(x, (6, 2)) * c))


def s_ravel(x, c):
    return np.sum(np.sin(x.ravel() * c))


def s_flatten(x, c):
    return np.sum(np.sin(x.flatten() * c))


def s_col(x, c):
    return np.sum(np.sin(x[:, None] * c))


def s_row(x, c):
    return np.sum(np.sin(x[None, :] * c))


def s_newaxis(x, y):
    return np.sum(np.sin(x[:, np.newaxis] * y[np.newaxis, :]))


def transpose_a(x):
    return x.T


def np_transpose_a(x):
    return np.transpose(x)


def reshape_a(x):
    return x.reshape(2, 6)


def reshape_tuple_a(x):
    return x.reshape((6, 2))


def reshape_minus1_a(x):
    return x.reshape(4, -1)


def np_reshape_a(x):
    return np.reshape(x, (2, 3, 2))


def ravel_a(x):
    return x.ravel()


def flatten_a(x):
    return x.flatten()


def col_a(x):
    return x[:, None]


def row_a(x):
    return x[np.newaxis, :]


# --- indexing ----------------------------------------------------------------------------------------

def i_tail(x, c):
    return np.sum(np.sin(x[1:] * c))


def i_head(x, c):
    return np.sum(np.sin(x[:-1] * c))


def i_step(x, c):
    return np.sum(np.sin(x[::2] * c))


def i_start_stop_step(x, c):
    return np.sum(np.sin(x[1:4:2] * c))


def i_row(a, c):
    return np.sum(np.sin(a[0] * c))


def i_col(a, c):
    return np.sum(np.sin(a[:, 1] * c))


def i_block(a, c):
    return np.sum(np.sin(a[1:, :2] * c))


def i_elements(a):
    return a[1, 2] * a[0, 3] - np.sin(a[2, 0])


def i_last(x):
    return x[-1] * x[0] + x[2] ** 2


def i_pick(p, y):
    n = p.shape[0]
    return -np.sum(np.log(p[np.arange(n), y]))


def tail_a(x):
    return x[1:]


def head_a(x):
    return x[:-1]


def step_a(x):
    return x[::2]


def start_stop_step_a(x):
    return x[1:4:2]


def row0_a(a):
    return a[0]


def col1_a(a):
    return a[:, 1]


def block_a(a):
    return a[1:, :2]


def pick_a(p, y):
    return p[np.arange(p.shape[0]), y]


def gather_a(x, idx):
    return x[idx]


def gather_sum(x, idx):
    return np.sum(np.sin(x[idx]))


# --- construction --------------------------------------------------------------------------------------

def k_zeros(x):
    z = np.zeros((3, 4))
    return np.sum(np.sin(z + x * x))


def k_zeros_fill(x):
    out = np.zeros(3)
    out[0] = x[0] * x[1]
    out[1] = np.sum(x)
    out[2] = np.sin(x[2])
    return np.sum(out ** 2)


def k_ones(x):
    return np.sum(np.sin(np.ones(4) * x ** 2))


def k_ones_2d(x):
    return np.sum(np.sin(np.ones((3, 4)) + x ** 2))


def k_zeros_like(x):
    z = np.zeros_like(x)
    return np.sum((z + x) ** 3)


def k_ones_like(x):
    return np.sum(np.ones_like(x) / x)


def k_array(a, b, c):
    v = np.array([a * b, b, c])
    return np.sum(np.sin(v * np.array([1.0, 2.0, 3.0])))


def k_array_derived(x):
    v = np.array([np.sum(x), x[0] * x[1], np.max(x)])
    return np.sum(v ** 2)


def k_concat0(a, b, c):
    return np.sum(np.sin(np.concatenate([a, b]) * c))


def k_concat0_2d(a, b, c):
    return np.sum(np.sin(np.concatenate([a, b], axis=0) * c))


def k_concat1_2d(a, b, c):
    return np.sum(np.sin(np.concatenate([a, b], axis=1) * c))


def k_stack0(a, b, c):
    return np.sum(np.sin(np.stack([a, b]) * c))


def k_stack1(a, b, c):
    return np.sum(np.sin(np.stack([a, b], axis=1) * c))


def array_a(a, b, c):
    return np.array([a, b * c, c])


def concat0_a(a, b):
    return np.concatenate([a, b])


def concat1_a(a, b):
    return np.concatenate([a, b], axis=1)


def stack0_a(a, b):
    return np.stack([a, b])


def stack1_a(a, b):
    return np.stack([a, b], axis=1)


# --- the lectures' worked examples (worked-examples.md §4 and §5) ----------------------------------

def norm_wx(x, W):
    q = W @ x
    return np.sum(q ** 2)


def wx(x, W):
    return W @ x


def sum_squares(q):
    return np.sum(q ** 2)


def softmax_ce(s, y):
    e = np.exp(s - np.max(s))
    p = e / np.sum(e)
    return -np.log(p[y])


def softmax_ce_plain(s, y):
    p = np.exp(s) / np.sum(np.exp(s))
    return -np.log(p[y])


# --- the lectures' networks: 2-layer MLP with softmax or multiclass SVM loss ----------------------

def mlp_softmax_loss(W1, b1, W2, b2, X, y):
    n = X.shape[0]
    h = np.maximum(0.0, X @ W1.T + b1)
    s = h @ W2.T + b2
    shifted = s - np.max(s, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    data = -np.mean(logp[np.arange(n), y])
    return data + 0.05 * (np.sum(W1 ** 2) + np.sum(W2 ** 2))


def mlp_svm_loss(W1, b1, W2, b2, X, y):
    n = X.shape[0]
    h = np.maximum(0.0, X @ W1.T + b1)
    s = h @ W2.T + b2
    margins = np.maximum(0.0, s - s[np.arange(n), y][:, None] + 1.0)
    data = (np.sum(margins) - n) / n
    return data + 0.05 * (np.sum(W1 ** 2) + np.sum(W2 ** 2))


def mlp_svm_loss_mask(W1, b1, W2, b2, X, y):
    n = X.shape[0]
    h = np.maximum(0.0, X @ W1.T + b1)
    s = h @ W2.T + b2
    margins = np.maximum(0.0, s - s[np.arange(n), y][:, None] + 1.0)
    onehot = np.arange(s.shape[1])[None, :] == y[:, None]
    data = np.sum(np.where(onehot, 0.0, margins)) / n
    return data + 0.05 * (np.sum(W1 ** 2) + np.sum(W2 ** 2))


def mlp_softmax_onehot(W1, b1, W2, b2, X, Y):
    h = np.maximum(0.0, X @ W1.T + b1)
    s = h @ W2.T + b2
    shifted = s - np.max(s, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0] + 0.05 * (np.sum(W1 ** 2) + np.sum(W2 ** 2))


def mlp_scores_a(W1, b1, W2, b2, X):
    h = np.maximum(0.0, X @ W1.T + b1)
    return h @ W2.T + b2


# --- unsupported -------------------------------------------------------------------------------------

def boolean_mask(x):
    return np.sum(x[x > 0])


# --- reductions: np.sum / np.mean / np.max / np.min x axis x keepdims (generated list) -------------
# r_*: the raw reduction (array, or scalar for a full reduction); rs_*: a scalar function of it.

def r_sum_none(x):
    return np.sum(x)


def rs_sum_none(x):
    return np.sin(np.sum(x)) * 2.0


def r_sum_none_kd(x):
    return np.sum(x, keepdims=True)


def rs_sum_none_kd(x):
    return np.sum(np.sin(np.sum(x, keepdims=True)))


def r_sum_0(x):
    return np.sum(x, axis=0)


def rs_sum_0(x):
    return np.sum(np.sin(np.sum(x, axis=0)))


def r_sum_0_kd(x):
    return np.sum(x, axis=0, keepdims=True)


def rs_sum_0_kd(x):
    return np.sum(np.sin(np.sum(x, axis=0, keepdims=True)))


def r_sum_1(x):
    return np.sum(x, axis=1)


def rs_sum_1(x):
    return np.sum(np.sin(np.sum(x, axis=1)))


def r_sum_1_kd(x):
    return np.sum(x, axis=1, keepdims=True)


def rs_sum_1_kd(x):
    return np.sum(np.sin(np.sum(x, axis=1, keepdims=True)))


def r_sum_m1(x):
    return np.sum(x, axis=-1)


def rs_sum_m1(x):
    return np.sum(np.sin(np.sum(x, axis=-1)))


def r_sum_m1_kd(x):
    return np.sum(x, axis=-1, keepdims=True)


def rs_sum_m1_kd(x):
    return np.sum(np.sin(np.sum(x, axis=-1, keepdims=True)))


def r_sum_01(x):
    return np.sum(x, axis=(0, 1))


def rs_sum_01(x):
    return np.sin(np.sum(x, axis=(0, 1))) * 2.0


def r_sum_01_kd(x):
    return np.sum(x, axis=(0, 1), keepdims=True)


def rs_sum_01_kd(x):
    return np.sum(np.sin(np.sum(x, axis=(0, 1), keepdims=True)))


def r_mean_none(x):
    return np.mean(x)


def rs_mean_none(x):
    return np.sin(np.mean(x)) * 2.0


def r_mean_none_kd(x):
    return np.mean(x, keepdims=True)


def rs_mean_none_kd(x):
    return np.sum(np.sin(np.mean(x, keepdims=True)))


def r_mean_0(x):
    return np.mean(x, axis=0)


def rs_mean_0(x):
    return np.sum(np.sin(np.mean(x, axis=0)))


def r_mean_0_kd(x):
    return np.mean(x, axis=0, keepdims=True)


def rs_mean_0_kd(x):
    return np.sum(np.sin(np.mean(x, axis=0, keepdims=True)))


def r_mean_1(x):
    return np.mean(x, axis=1)


def rs_mean_1(x):
    return np.sum(np.sin(np.mean(x, axis=1)))


def r_mean_1_kd(x):
    return np.mean(x, axis=1, keepdims=True)


def rs_mean_1_kd(x):
    return np.sum(np.sin(np.mean(x, axis=1, keepdims=True)))


def r_mean_m1(x):
    return np.mean(x, axis=-1)


def rs_mean_m1(x):
    return np.sum(np.sin(np.mean(x, axis=-1)))


def r_mean_m1_kd(x):
    return np.mean(x, axis=-1, keepdims=True)


def rs_mean_m1_kd(x):
    return np.sum(np.sin(np.mean(x, axis=-1, keepdims=True)))


def r_mean_01(x):
    return np.mean(x, axis=(0, 1))


def rs_mean_01(x):
    return np.sin(np.mean(x, axis=(0, 1))) * 2.0


def r_mean_01_kd(x):
    return np.mean(x, axis=(0, 1), keepdims=True)


def rs_mean_01_kd(x):
    return np.sum(np.sin(np.mean(x, axis=(0, 1), keepdims=True)))


def r_max_none(x):
    return np.max(x)


def rs_max_none(x):
    return np.sin(np.max(x)) * 2.0


def r_max_none_kd(x):
    return np.max(x, keepdims=True)


def rs_max_none_kd(x):
    return np.sum(np.sin(np.max(x, keepdims=True)))


def r_max_0(x):
    return np.max(x, axis=0)


def rs_max_0(x):
    return np.sum(np.sin(np.max(x, axis=0)))


def r_max_0_kd(x):
    return np.max(x, axis=0, keepdims=True)


def rs_max_0_kd(x):
    return np.sum(np.sin(np.max(x, axis=0, keepdims=True)))


def r_max_1(x):
    return np.max(x, axis=1)


def rs_max_1(x):
    return np.sum(np.sin(np.max(x, axis=1)))


def r_max_1_kd(x):
    return np.max(x, axis=1, keepdims=True)


def rs_max_1_kd(x):
    return np.sum(np.sin(np.max(x, axis=1, keepdims=True)))


def r_max_m1(x):
    return np.max(x, axis=-1)


def rs_max_m1(x):
    return np.sum(np.sin(np.max(x, axis=-1)))


def r_max_m1_kd(x):
    return np.max(x, axis=-1, keepdims=True)


def rs_max_m1_kd(x):
    return np.sum(np.sin(np.max(x, axis=-1, keepdims=True)))


def r_max_01(x):
    return np.max(x, axis=(0, 1))


def rs_max_01(x):
    return np.sin(np.max(x, axis=(0, 1))) * 2.0


def r_max_01_kd(x):
    return np.max(x, axis=(0, 1), keepdims=True)


def rs_max_01_kd(x):
    return np.sum(np.sin(np.max(x, axis=(0, 1), keepdims=True)))


def r_min_none(x):
    return np.min(x)


def rs_min_none(x):
    return np.sin(np.min(x)) * 2.0


def r_min_none_kd(x):
    return np.min(x, keepdims=True)


def rs_min_none_kd(x):
    return np.sum(np.sin(np.min(x, keepdims=True)))


def r_min_0(x):
    return np.min(x, axis=0)


def rs_min_0(x):
    return np.sum(np.sin(np.min(x, axis=0)))


def r_min_0_kd(x):
    return np.min(x, axis=0, keepdims=True)


def rs_min_0_kd(x):
    return np.sum(np.sin(np.min(x, axis=0, keepdims=True)))


def r_min_1(x):
    return np.min(x, axis=1)


def rs_min_1(x):
    return np.sum(np.sin(np.min(x, axis=1)))


def r_min_1_kd(x):
    return np.min(x, axis=1, keepdims=True)


def rs_min_1_kd(x):
    return np.sum(np.sin(np.min(x, axis=1, keepdims=True)))


def r_min_m1(x):
    return np.min(x, axis=-1)


def rs_min_m1(x):
    return np.sum(np.sin(np.min(x, axis=-1)))


def r_min_m1_kd(x):
    return np.min(x, axis=-1, keepdims=True)


def rs_min_m1_kd(x):
    return np.sum(np.sin(np.min(x, axis=-1, keepdims=True)))


def r_min_01(x):
    return np.min(x, axis=(0, 1))


def rs_min_01(x):
    return np.sin(np.min(x, axis=(0, 1))) * 2.0


def r_min_01_kd(x):
    return np.min(x, axis=(0, 1), keepdims=True)


def rs_min_01_kd(x):
    return np.sum(np.sin(np.min(x, axis=(0, 1), keepdims=True)))

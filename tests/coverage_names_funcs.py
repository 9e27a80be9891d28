"""Functions for tests/test_coverage_names.py: names added for issue 10's missing list (adc reads
their source).  ``np_<name>`` uses ``np.<name>``; ``jit_*`` put several names in one program.
"""
import numpy as np
import scipy.special as ss


# --- element-wise and reductions ---------------------------------------------------------------------
def np_fmod(x, y): return np.fmod(x, y) * x
def np_mod(x, y): return np.mod(x, y) * x + np.remainder(y, x)
def py_round(x): return round(x) * x + x
def sp_erfinv(x): return ss.erfinv(x)
def np_nansum(x): return np.nansum(x * x)
def np_nansum_axis(x): return np.nansum(x * x, axis=1) * np.nansum(x, 0, keepdims=True)[:, :2]




# --- the gradient of a branch not taken ---------------------------------------------------------------
def where_sqrt(x): return np.sum(np.where(x > 0, np.sqrt(x), 0.0))
def where_log_chain(x): return np.sum(np.where(x > 0, 2.0 * np.log(x) * x, x))
def nansum_of_nan(x): return np.nansum(np.log(x))


# --- norms and decompositions --------------------------------------------------------------------------
def norm_vector_ords(x): return np.linalg.norm(x, 1) + np.linalg.norm(x, np.inf) * 2.0 + np.linalg.norm(x, -np.inf) \
    + np.linalg.norm(x, ord=3) + np.linalg.norm(x, 2)
def norm_axis_ords(x): return np.linalg.norm(x, 1, axis=1) + np.linalg.norm(x, ord=np.inf, axis=1, keepdims=True)[:, 0] \
    + np.linalg.norm(x, 0.5, 1)
def norm_matrix_ords(a): return np.linalg.norm(a, "fro") + np.linalg.norm(a, 1) + np.linalg.norm(a, -1) * 0.5 \
    + np.linalg.norm(a, np.inf) * 0.3 + np.linalg.norm(a, ord=-np.inf) + np.linalg.norm(a, 2) * 0.7 \
    + np.linalg.norm(a, -2) + np.linalg.norm(a, "nuc", keepdims=True)[0, 0] + np.linalg.norm(a, ord="fro", axis=(0, 1))
def la_svdvals(a): return np.linalg.svd(a, compute_uv=False) * np.arange(1.0, 3.0 + 0 * a.shape[0])[:2]
def la_svd_s(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return s ** 2
def la_pinv(a): return np.linalg.pinv(a)
def la_qr(a):
    q, r = np.linalg.qr(a)
    return np.sum(q * np.arange(q.size).reshape(q.shape)) + np.sum(r * r * np.arange(r.size).reshape(r.shape))
def la_qr_q(a): return np.linalg.qr(a)[0]
def la_qr_r(a): return np.linalg.qr(a)[1]


def jit_linalg(a):
    q, r = np.linalg.qr(a)
    return np.sum(np.linalg.svd(a, compute_uv=False)) + np.sum(np.linalg.pinv(a) ** 2) + np.sum(q * a) + np.sum(r)


def svd_vectors(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u)
def la_svd_u(a): return np.linalg.svd(a, full_matrices=False)[0]
def la_svd_vh(a): return np.linalg.svd(a, full_matrices=False)[2]


# --- indexing: masks, integer arrays, sorting, gathers -------------------------------------------------
def mask_read(x): return x[x > 0.3] ** 2
def mask_read_2d(x): return np.sum(x[x > 0.3] ** 3) + x[x[:, 0] > 0.3] * 2.0
def int_read(x): return x[np.array([0, 2, 2])] * x[[1, 0, 1]]
def int_read_2d(x): return x[[1, 0, 1]] ** 2 + x[np.array([0, 1, 1]), np.array([2, 2, 0])][:, None]


def int_write(x):
    y = np.zeros(5)
    y[np.array([0, 2, 2])] = x[:3] * 2.0  # repeated index: NumPy keeps the last write
    y[[1, 1]] += x[1:3]  # buffered, as NumPy: y[1] = y[1] + x[2]
    y[np.array([4])] = x[3]
    return y * x[0]


def mask_write(x):
    y = x * 1.0
    y[x < 0.0] = 0.0
    y[y > 0.5] *= 3.0
    return y * x


def add_at(x):
    y = np.zeros(5)
    np.add.at(y, np.array([0, 2, 2, 4]), x)  # repeated indices add up
    z = np.zeros((2, 3))
    np.add.at(z, ([1, 1, 0], [2, 2, 0]), x[:3] ** 2)
    np.add.at(z, 0, x[1])
    return y * x[0] + np.sum(z * z)


def take(x): return np.take(x, np.array([2, 0, 2])) * np.take(x, [1, 1, 0]) ** 2
def take_axis(x): return np.take(x, [2, 0, 2], axis=1) ** 2 + np.take(x, [5, 0, 1])
def take_along(x): return np.take_along_axis(x, np.argsort(x, axis=0), axis=0) * np.take_along_axis(x, np.argsort(x), 1)
def sort(x): return np.sort(x) * np.arange(1.0, x.size + 1.0).reshape(x.shape)
def sort_axes(x): return np.sort(x, axis=0) ** 2 + np.sort(x, None).reshape(x.shape) * x
def positions(x): return x[np.argmax(x)] * x[x.argmin()] + x[np.argsort(x)[1]] + x[np.searchsorted(np.sort(x), x[0])] ** 2
def positions_axis(x): return np.take_along_axis(x, np.argmax(x, axis=1)[:, None], axis=1) * x[0, x.argmin(axis=1)]


def jit_names(x, u):
    """The new names Numba compiles, in one program: element-wise ones, positions, split, pad, a
    write through an integer array with a repeated index."""
    y = np.zeros(5)
    y[np.array([0, 2, 2])] = x[:3] * u[1:]
    a, b = np.split(x, 2)
    c, d, e = np.array_split(x, 3)
    return x[np.argmax(x)] * x[x.argmin()] + x[np.argsort(x)[1]] + x[np.searchsorted(np.array([0.0, 0.5]), x[0])] ** 2 \
        + np.sum(a * b) + np.sum(c ** 2) + np.sum(d * 3.0) + np.sum(e ** 3) \
        + np.fmod(x, 0.7) * x + np.mod(x, 0.3) + ss.erfinv(u) + round(x[0]) * x + np.nansum(x * u) \
        + np.sum(np.pad(x, 1) * np.pad(u, (2, 0), constant_values=0.5)) + np.sum(y * y)


# --- shapes: pad, split ------------------------------------------------------------------------------------
def pad(x): return np.pad(x, 1) ** 2 + np.pad(x, (2, 0), constant_values=0.5) * np.pad(x, (1,))


def pad_2d(x): return np.pad(x, ((1, 0), (0, 2))) ** 2 + np.pad(x * 2.0, (1, 1), constant_values=1.5)[:3, :5]


def split(x):
    a, b = np.split(x, 2)
    c, d, e = np.array_split(x, 3)
    return np.sum(a * b) + np.sum(c ** 2) + np.sum(d * 3.0) + np.sum(e ** 3) + np.sum(np.split(x, [1, 3])[1] ** 2)


def split_axis(x):
    parts = np.split(x, 3, axis=1)
    return parts[0] * parts[2] + np.array_split(x, 2, 1)[1][:, :1] ** 2




# --- einsum: ellipsis, repeated letters, three operands ---------------------------------------------
def einsum_ellipsis(a, b): return np.einsum("...j,jk->...k", a, b) + np.einsum("ij...,j...->i...", a[:, :, None], b[:, 0][:, None])
def einsum_diagonal(a): return np.einsum("ii->i", a) * np.einsum("ii", a) + np.einsum("ij,jj,kj->ik", a, a, a)
def einsum_implicit(a, b): return np.einsum("...i,...i", a, b) * np.sum(np.einsum("i...,i...", a, b))


# --- refused, with an adc error at the user's line --------------------------------------------------------
def svd_full(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(s)


def pad_ramp(x): return np.sum(np.pad(x, 1, mode="linear_ramp"))
def norm_ord_zero(x): return np.linalg.norm(x, 0)


# --- the remaining gaps of issue 10: index arrays of any rank, masks, pad modes, norms over axes ---------
def int_read_nd(a):
    """N-D integer arrays, several at once, mixed with slices and None (NumPy puts the index arrays'
    axes first when they do not stand together: ``a[0, None, idx]`` is 2 x 1)."""
    i2 = np.array([[0, 2], [2, 1]])
    return np.sum(a[i2] ** 2) + np.sum(a[i2, 1:] * 0.5) + np.sum(a[np.array([0, 2, 2]), np.array([3, 3, 0])] ** 3) \
        + np.sum(a[i2[:, :1], np.array([3, 0])] * a[:2, :2]) + np.sum(a[:, np.array([1, 1, 3])] * a[:, :3]) \
        + np.sum(a[None, np.array([2, 0])] ** 2) + np.sum(a[0, None, np.array([1, 3])] + a[1:, :2] * 2.0)


def mask_read_nd(a):
    """Boolean masks of two dimensions, of rows, of columns, after None."""
    return np.sum(a[a > 0.2] ** 3) + np.sum(a[a[:, 0] > 0.0] * 2.0) + np.sum(a[:, a[0] > 0.0] ** 2) \
        + np.sum(a[None, a < 0.5] ** 2)


def write_nd(a):
    """Writes through a 2-D mask and through index arrays (a repeated index keeps the last value),
    np.add.at with 2-D index arrays (they add up), += through an index array and a slice."""
    y = np.zeros((3, 4))
    y[a > 0.5] = a[a > 0.5] * 2.0
    y[np.array([0, 0]), np.array([1, 1])] = a[0, :2] * 3.0
    z = np.zeros((3, 4))
    np.add.at(z, (np.array([[0, 2], [2, 2]]), np.array([[1, 1], [0, 1]])), a[:2, :2] ** 2)
    z[np.array([[1], [2]]), 1:3] += a[:2, None, :2]
    return np.sum(y * a) + np.sum(z * z)


def sort_take_nd(a):
    """np.sort, np.take and np.take_along_axis of 2-D arrays (reads through N-D index arrays)."""
    return np.sum(np.sort(a, axis=0) * np.arange(12.0).reshape(3, 4)) + np.sum(np.take(a, np.array([[2, 0], [3, 3]]), axis=1) ** 2) \
        + np.sum(np.take_along_axis(a, np.argsort(a, axis=1), axis=1) * np.arange(4.0)) \
        + np.sum(a.ravel()[np.argsort(a, axis=None)] * np.arange(12.0))


def pad_modes(x): return np.sum(np.pad(x, (2, 5), mode="reflect") * np.arange(x.size + 7.0)) + np.sum(np.pad(x, 1, mode="edge") ** 2) \
    + np.sum(np.pad(x, (0, 4), mode="wrap") ** 3) + np.sum(np.pad(x, 3, mode="symmetric") * np.arange(x.size + 6.0))
def pad_modes_2d(x): return np.pad(x, ((1, 1), (2, 0)), mode="reflect") * 2.0 + np.pad(x, 1, mode="edge") ** 2
def pad_3d(x): return np.pad(x, ((0, 1), (1, 0), (2, 2)), constant_values=0.5) ** 2 + np.pad(x, ((1, 0), (1, 0), (1, 3)), mode="wrap")
def norm_zero(x): return np.linalg.norm(x, 0) * np.sum(x) + np.sum(np.linalg.norm(x.reshape(2, 2), ord=0, axis=1, keepdims=True) * x[:2])
def norm_matrix_axes(a): return np.sum(np.linalg.norm(a, 1, axis=(1, 2)) ** 2) + np.sum(np.linalg.norm(a, np.inf, axis=(2, 0), keepdims=True) * a) \
    + np.sum(np.linalg.norm(a, -1, axis=(0, 2))) + np.sum(np.linalg.norm(a, -np.inf, axis=(1, 2))) + np.sum(np.linalg.norm(a, "fro", axis=(0, 1)))
def index_apart(x, c): return np.sum(x[0, None, np.array([1, 0])] + c)
def norm_ones_swapped(a): return np.linalg.norm(a, 1, axis=(1, 0))
def norm_axes_swapped(a): return np.linalg.norm(a, 1, axis=(1, 0)) + np.linalg.norm(a, np.inf, axis=(1, 0)) * 2.0 \
    + np.linalg.norm(a, 2, axis=(1, 0)) + np.linalg.norm(a, -1, keepdims=True)[0, 0] * 3.0


def jit_indexing(x, a):
    """Under jit, in one program (Numba compiles each kernel for each key's types, slowly): reads
    through a 2-D integer array, an index array and a slice, None among index arrays, a 2-D mask;
    writes through a 2-D mask and with a repeated index (np.add.at and the kernels of reads and
    writes in the reverse sweep)."""
    i2 = np.array([[0, 3], [1, 1]])
    y = np.zeros((3, 4))
    y[a > 0.5] = a[a > 0.5] * 2.0
    y[np.array([0, 0]), np.array([1, 1])] = a[0, :2] * 3.0
    return np.sum(x[i2] * x[:2]) + np.sum(a[i2[:, :1], 1:] ** 2) + np.sum(a[0, None, np.array([1, 3])] + a[1:, :2] * 2.0) \
        + np.sum(a[a > 0.2] ** 3) + np.sum(y * a)


def float32_products(x, w, v):
    """float32 under jit: the adjoint of np.max/np.min (a division by a count) and the seed meet `@`;
    a float64 matrix times a float32 vector (Numba's `@` takes one dtype)."""
    q = w @ x
    r = w.T @ (q * np.max(q))
    return np.sum(q ** 2) + np.min(r) * np.sum(w @ r) + np.sum(np.abs(q) * 2.0) + np.sum(v @ x)

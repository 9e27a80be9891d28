"""Copies and views read after a write into their array (review, twenty-sixth session).

NumPy's advanced indexing (``a[[0, 1]]``, ``a[mask]``, ``np.sort``, ``np.take``) and ``flatten``
copy; slices, transposes and reshapes are views.  adc took every index as a view and read the copy
again after the write (``c = a[[0, 1]]; a[0] = 5.0; return c[0]`` gave 5.0 and a zero gradient in
reverse mode), and ``flatten`` as ``ravel``.  A reshape is a view or a copy depending on the
array's memory layout: read after a write into its array, it is a located error.
"""
import numpy as np
import pytest

import adc

X = np.array([2.0, 3.0, -1.5])
M = np.array([[2.0, 3.0], [-1.0, 0.5]])
IDX = np.array([2, 0])


def listed(x):
    a = x * 1.0
    c = a[[0, 1]]
    a[0] = 5.0 * x[2]
    return c[0] * c[1] + a[0]


def index_argument(x, k):
    a = x * x
    c = a[k]
    a[2] = 7.0 * x[1]
    return np.sum(c * x[0]) + a[2]


def masked(x):
    a = x * 1.0
    c = a[a > 0.0]
    a[0] = -a[1] * x[2]
    return np.sum(c * c) + a[0]


def sorted_copy(x):
    a = x * 2.0
    c = np.sort(a)
    a[:] = 0.5
    return c[0] * c[2] + np.sum(a * x)


def taken(x):
    a = x * 1.0
    c = np.take(a, [2, 1])
    a[2] = a[0] ** 2
    return c[0] * c[1] + a[2]


def along(x):
    a = np.outer(x, x)
    c = np.take_along_axis(a, np.argsort(a, axis=1), axis=1)
    a[0, 0] = 3.0 * x[1]
    return np.sum(c[:, 0] * c[:, 2]) + a[0, 0]


def argsorted(x):
    a = x * 1.0
    c = a[np.argsort(a)]
    a[1] = x[0] * x[2]
    return c[0] - 2.0 * c[2] + a[1]


def in_a_loop(x):
    a = x * 1.0
    s = 0.0
    for i in range(3):
        c = a[[0, 1]]
        a[0] = a[0] * 3.0 + x[1]
        s += c[0] * c[1]
    return s


def appended(x):
    a = x * 1.0
    hs = []
    for i in range(3):
        hs.append(a[[0, 2]])
        a[0] = a[0] * x[1]
    return sum(np.sum(h * h) for h in hs)


def flattened(x):
    a = x * 1.0
    c = a.flatten()
    a[0] = 5.0 * x[1]
    return c[0] * c[2] + a[0]


def flattened_reversed(x):
    a = x * 1.0
    c = a[::-1].flatten()
    a[2] = 5.0 * x[1]
    return c[0] * c[1] + a[2]


CASES = [(listed, (X,)), (index_argument, (X, IDX)), (masked, (X,)), (sorted_copy, (X,)), (taken, (X,)),
         (along, (X,)), (argsorted, (X,)), (in_a_loop, (X,)), (appended, (X,)), (flattened, (X,)),
         (flattened_reversed, (X,))]


def _central(f, args, h=1e-6):
    x = args[0]
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e, *args[1:]) - f(x - e, *args[1:])) / (2 * h)
    return g


def _agrees_in_every_mode(f, args, atol=1e-7):
    """Value and gradient, plain, jit and forward, against the function and central differences."""
    want_value, want = f(*[np.copy(a) for a in args]), _central(f, args)
    for kw in ({}, {"jit": True}, {"mode": "forward"}):
        value, g = adc.value_and_grad(f, **kw)(*args)
        assert value == pytest.approx(want_value, rel=1e-12), kw
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=atol, err_msg=str(kw))


def _refused_in_every_mode(f, match):
    """A located ``UnsupportedError`` at the line after the function's first (its copy or view)."""
    for kw in ({}, {"jit": True}, {"mode": "forward"}):
        with pytest.raises(adc.UnsupportedError, match=match) as e:
            adc.value_and_grad(f, **kw)(M)
        assert e.value.loc is not None and e.value.loc.line == f.__code__.co_firstlineno + 2


@pytest.mark.parametrize("f, args", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_copy_keeps_the_values_from_before_the_write(f, args):
    _agrees_in_every_mode(f, args)
    want_value = f(*[np.copy(a) for a in args])
    value, pullback = adc.vjp(f, *args)
    assert value == pytest.approx(want_value, rel=1e-12)
    u = np.array([0.3, -1.1, 0.7])
    _, tangent = adc.jvp(f, args, (u, *[np.zeros_like(a) for a in args[1:]]))
    assert np.dot(pullback(1.0)[0], u) == pytest.approx(tangent, rel=1e-10)


def test_a_flatten_is_a_copy_in_the_code():
    code = adc.source(flattened, at=(X,))
    assert "v2 = a.ravel()\n    c = v2.copy()\n" in code, code


def reshaped_then_written(x):
    a = x * 1.0
    c = a.reshape(4)
    a[0, 1] = 5.0 * x[1, 1]
    return c[1]


def transposed_then_written(x):
    a = x * 1.0
    c = a.T.ravel()
    d = c[1:]
    a[0, 1] = 5.0 * x[1, 1]
    return d[0]


def reshaped_after_the_write(x):
    a = x * 1.0
    a[0, 1] = 5.0 * x[1, 1]
    c = a.reshape(4)
    return c[1] + c[2]


def reshaped_before_the_write_and_read_before(x):
    a = x * 1.0
    c = a.reshape(4)
    s = c[1] * c[2]
    a[0, 1] = 5.0 * x[1, 1]
    return s + a[0, 1]


@pytest.mark.parametrize("f", [reshaped_then_written, transposed_then_written])
def test_a_reshape_read_after_a_write_into_its_array_is_an_error(f):
    """``a.reshape(4)`` is a view of a C-ordered ``a`` (the read sees the write) and a copy of
    ``a.T`` (it does not): adc's types do not know the layout, so it says so."""
    _refused_in_every_mode(f, "read after a write into the array it was reshaped from")


@pytest.mark.parametrize("f", [reshaped_after_the_write, reshaped_before_the_write_and_read_before])
def test_a_reshape_read_before_the_write_or_made_after_it_works(f):
    _agrees_in_every_mode(f, (M,))


def diagonal_then_written(x):
    a = x * 1.0
    c = np.diagonal(a)
    a[0, 0] = 5.0 * x[1, 1]
    return c[0]


def diag_then_written(x):
    a = x * 1.0
    c = np.diag(a)[1:]
    a[1, 1] = 5.0 * x[0, 1]
    return c[0]


def einsum_transposed_then_written(x):
    a = x * 1.0
    c = np.einsum("ij->ji", a)
    a[0, 0] = 5.0 * x[1, 1]
    return c[0, 0]


def diagonal_copied_then_written(x):
    a = x * 1.0
    c = np.diagonal(a).copy()
    a[0, 0] = 5.0 * x[1, 1]
    return c[0] * c[1] + a[0, 0]


def einsum_summed_then_written(x):
    a = x * x
    c = np.einsum("ij->i", a)
    a[0, 0] = 5.0 * x[1, 1]
    return c[0] * c[1] + a[0, 0]


def diagonal_after_the_write(x):
    a = x * 1.0
    a[0, 0] = 5.0 * x[1, 1]
    return np.sum(np.diagonal(a) * np.einsum("ij->ji", a)[0])


@pytest.mark.parametrize("f", [diagonal_then_written, diag_then_written, einsum_transposed_then_written])
def test_a_numpy_view_adc_copies_read_after_a_write_is_an_error(f):
    """``np.diagonal(a)`` and ``np.einsum('ij->ji', a)`` are views of ``a`` in NumPy (the read sees
    the write) and new arrays in adc's and Numba's code: reverse mode gave the gradient of the old
    value, and jit the old value itself."""
    _refused_in_every_mode(f, "read after a write into the array it was taken from")


@pytest.mark.parametrize("f", [diagonal_copied_then_written, einsum_summed_then_written, diagonal_after_the_write])
def test_a_diagonal_copied_summed_or_taken_after_the_write_works(f):
    _agrees_in_every_mode(f, (M,))


# -- reverse over reverse: a gradient's own gathers (``gv = ga[mask]`` before ``ga[mask] = 0.0``) --
def mask_written(x):
    a = np.zeros(2)
    a[x > 0.0] = x[x > 0.0]
    return np.sum(a ** 3)


def mask_scaled(x):
    a = x * 1.0
    a[a > 0.0] *= a[0]
    return np.sum(a ** 3)


def index_squared(x):
    a = x * 1.0
    a[[0]] = a[[0]] * a[[0]]
    return np.sum(a * a)


def index_scaled(x):
    a = x * 1.0
    a[[0]] *= x[[1]]
    return np.sum(a ** 3) + a[0] * a[1]


def element_scaled(x):
    a = x * 1.0
    a[0] *= x[1]
    return np.sum(a ** 3)


@pytest.mark.parametrize("f", [mask_written, mask_scaled, index_squared, index_scaled, element_scaled])
def test_reverse_over_reverse_through_writes(f):
    """``jacrev(grad(f))`` was zero (or off) where the gradient reads ``ga[mask]`` and then zeroes
    it: the read, a copy, was taken again after the write."""
    x = np.array([0.3, 0.9])
    g = adc.grad(f)
    h = 1e-6
    want = np.array([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(2)]).T
    np.testing.assert_allclose(adc.hessian(f)(x), want, rtol=1e-6, atol=1e-8)
    for kw in ({}, {"jit": True}):
        np.testing.assert_allclose(adc.jacrev(g, **kw)(x), want, rtol=1e-6, atol=1e-8, err_msg=str(kw))
    np.testing.assert_allclose(adc.jacrev(adc.jacrev(f))(x), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.vjp(g, x)[1](np.ones(2))[0], want.T @ np.ones(2), rtol=1e-6, atol=1e-8)


# -- the review of the session's change (twenty-sixth session) -------------------------------------
def einsum_diagonal_then_written(x):
    a = x * 1.0
    m = np.einsum("ii->i", a)
    a[0, 0] = 7.0 * x[1, 1]
    return np.sum(m ** 3) + np.sum(a)


def taken_row_then_written(x):
    a = x * 1.0
    m = np.take(a, 0, axis=0)
    a[0, 0] = 7.0 * x[1, 1]
    return np.sum(m ** 3) + np.sum(a)


def diagonal_read_before_the_write(x):
    a = x * 1.0
    t = np.sum(np.diagonal(a) ** 3)
    a[0, 0] = 0.0
    return t + np.sum(a)


def relabelled_read_before_the_write(x):
    a = x * 1.0
    t = np.sum(np.einsum("ij->ji", a) ** 3 * x[0, 1])
    a[0, 0] = 0.0
    return t + np.sum(a)


def reshape_whose_shape_is_read(x):
    a = x * 1.0
    m = a.reshape(4)
    a[0, 0] = 3.0 * x[1, 1]
    return np.sum(a * a) * len(m) + np.sum(np.zeros_like(m))


def test_einsum_of_a_diagonal_read_after_a_write_is_an_error():
    """``np.einsum('ii->i', a)`` is NumPy's view of the diagonal: adc lowered it through ``np.eye``,
    which the check did not see, and gave the old diagonal's value in every mode."""
    _refused_in_every_mode(einsum_diagonal_then_written, "read after a write into the array it was taken from")


@pytest.mark.parametrize("f", [taken_row_then_written, diagonal_read_before_the_write, relabelled_read_before_the_write,
                               reshape_whose_shape_is_read])
def test_copies_taken_before_a_write_and_shapes_read_after_it(f):
    """``np.take(a, 0, axis=0)`` copies (it was ``a[0]``, a view, read again after the write); a
    diagonal or a relabelling einsum read before the write is kept for the reverse sweep as a copy
    (plain NumPy's is a view, which the write changed: the gradient missed ``3 x00**2``); only the
    shape of a reshape read after a write is no reason to refuse it."""
    _agrees_in_every_mode(f, (M,), atol=1e-6)
    h = 1e-6
    grad = adc.grad(f)
    fd_h = np.array([((grad(M + h * e.reshape(2, 2)) - grad(M - h * e.reshape(2, 2))) / (2 * h)).ravel()
                     for e in np.eye(4)])
    np.testing.assert_allclose(adc.hessian(f)(M).reshape(4, 4), fd_h, rtol=1e-5, atol=1e-6)

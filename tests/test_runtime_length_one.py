"""Axes of length 1 in slices: known when compiling (``x[:1]``, ``x[-1:]``, ``x[i:i + 1]``) or only
when the code runs (``x[:n]``).

adc decides when it compiles which axes of an operand broadcast (``Type.ones``).  A slice of at most
one element now has a known length-1 axis (``frontend_arrays.unit_slice``), so the adjoint of
``y + x`` is summed over it: GradBench ht's ``u0 = us[:, 0:1]`` differentiates in reverse mode.
Before, such a slice was typed as a full axis: NumPy refused to add the adjoint back
(``non-broadcastable output operand``), and Numba's in-place operators, which do not check shapes,
gave a silently wrong gradient under ``jit=True`` (``[9.6, -1.8, 10.8]`` against the worked
``[12.6, -1.8, 10.8]`` for ``slice_in_loop``).  A slice whose length only the running code knows
(``x[:n]`` with ``n == 1``) raised NumPy's error; since the twenty-seventh session its adjoints are
fitted to its shape when the code runs (``adc_arrays.shaped_like``, ``run_time_shapes.py``), so its
gradient is right in every mode.  Numba code checks shapes before adding arrays in place
(``adc_arrays.fits``), so what is still refused raises there too, with a hint.  The functions
are module-level so adc can read their source."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.errors import EvaluationError

from fd import fd_jacobian_of


def slice_plus(x):
    y = x[:1] * 1.0
    z = y + x
    return np.sum(z * z)


def slice_times(x):
    y = x[1:2]
    z = y * x
    return np.sum(z * z)


def slice_in_loop(x):
    y = x[:1] * 1.0
    for i in range(3):
        y = y + x
    return np.sum(y * y)


def last_and_one_before(x):
    return np.sum(np.sin(x[-1:] * x + x[-3:-2] * x * x))


def slice_at_i(x, i):
    return np.sum((x[i:i + 1] * x) ** 2)


def columns(us, v):
    u0, u1 = us[:, 0:1], us[:, 1:2]
    return np.sum((u0 * v + u1 * v * v + (1.0 - u0 - u1) * np.cos(v)) ** 2)


def row_written(a, b):
    c = a * 1.0
    c[0:1] = b[1:2] * 2.0
    return np.sum(c * c * a)


def known_one(x):
    y = x[0, None] * 1.0
    for i in range(3):
        y = y + x
    return np.sum(y * y)


def slice_to_n(x, n):
    y = x[:n] * 1.0
    z = y + x
    return np.sum(z * z)


def columns_to_n(a, n):
    return np.sum(np.sin(a[:, :n] * a))


def slice_to_n_in_loop(x, n):
    y = x[:n] * 1.0
    for i in range(3):
        y = y + x
    return np.sum(y * y)


X = np.array([0.3, -0.2, 0.5])
A = np.array([[0.1, 0.7, -0.4], [0.9, -0.3, 0.2]])
US = np.array([[0.2, 0.3], [0.5, 0.1], [0.4, 0.4], [0.1, 0.6]])
V = np.linspace(-1.0, 1.3, 12).reshape(4, 3)
KNOWN_ONE = [(slice_plus, (X,)), (slice_times, (X,)), (slice_in_loop, (X,)), (last_and_one_before, (X,)),
             (slice_at_i, (X, 1)), (slice_at_i, (X, 2)), (columns, (US, V)), (row_written, (A, A[::-1] * 0.5)),
             (known_one, (X,))]
RUNTIME_ONE = [(slice_to_n, (X, 1)), (columns_to_n, (A, 1)), (slice_to_n_in_loop, (X, 1))]


def _fd(fn, args, argnum):
    def at(v):
        return fn(*args[:argnum], v, *args[argnum + 1:])
    return fd_jacobian_of(at, args[argnum])


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn, args", KNOWN_ONE, ids=[f"{f.__name__}{len(a)}" for f, a in KNOWN_ONE])
def test_a_slice_of_at_most_one_element_broadcasts_in_reverse_mode(fn, args, jit):
    arrays = [k for k, a in enumerate(args) if isinstance(a, np.ndarray)]
    got = adc.grad(fn, argnums=tuple(arrays), jit=jit)(*args)
    got = got if isinstance(got, tuple) else (got,)
    forward = adc.grad(fn, argnums=tuple(arrays), mode="forward")(*args)
    forward = forward if isinstance(forward, tuple) else (forward,)
    for k, g, fw in zip(arrays, got, forward):
        np.testing.assert_allclose(g, _fd(fn, args, k), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(g, fw, rtol=1e-12, atol=1e-14)


def test_the_worked_gradient_of_the_slice_in_a_loop():
    # y = x0 + 3 x, d/dx_j = 6 y_j + [j == 0] * 2 * sum(y)
    y = X[0] + 3 * X
    want = 6 * y
    want[0] += 2 * np.sum(y)
    for jit in (False, True):
        np.testing.assert_allclose(adc.grad(slice_in_loop, jit=jit)(X), want, rtol=1e-12)


@pytest.mark.parametrize("source, units", [("x[:1]", (0,)), ("x[-1:]", (0,)), ("x[2:3]", (0,)), ("x[-3:-2]", (0,)),
                                           ("x[i:i + 1]", (0,)), ("x[:, 0:1]", (1,)), ("x[0:1, 1:2]", (0, 1)),
                                           ("x[:2]", ()), ("x[-1:1]", ()), ("x[i:i + 2]", ()), ("x[i:j + 1]", ()),
                                           ("x[0:1:2]", ()), ("x[i + 1:i]", ()), ("x[:n]", ())])
def test_which_slices_have_at_most_one_element(source, units):
    from adc.frontend_arrays import unit_slice
    from adc.ir import Const, Var
    import libcst as cst

    node = cst.parse_expression(source)
    found = []
    for k, el in enumerate(node.slice):
        part = el.slice
        if not isinstance(part, cst.Slice):
            continue

        def atom(e):
            if e is None:
                return None
            try:
                return Const(int(eval(cst.Module([]).code_for_node(e))))  # noqa: S307 (literal bounds)
            except NameError:
                return Var("i")
        if unit_slice(part, atom(part.lower), atom(part.upper), atom(part.step)):
            found.append(k)
    assert tuple(found) == units


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn, args", RUNTIME_ONE, ids=[f.__name__ for f, _ in RUNTIME_ONE])
def test_a_length_one_axis_known_only_at_run_time_is_summed_when_the_code_runs(fn, args, jit):
    got = adc.grad(fn, jit=jit)(*args)
    np.testing.assert_allclose(got, _fd(fn, args, 0), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn, args", RUNTIME_ONE, ids=[f.__name__ for f, _ in RUNTIME_ONE])
def test_forward_mode_is_right_there(fn, args):
    got = adc.grad(fn, mode="forward")(*args)
    np.testing.assert_allclose(got, _fd(fn, args, 0), rtol=1e-6, atol=1e-8)


def test_numba_code_checks_the_shapes_before_an_in_place_add():
    """The code without bounds checks fuses the adds into loops behind a guard on the lengths
    (``fusion.py``); the checked code, which runs where the guard fails, checks before each add."""
    types = adc.api._types_for(slice_to_n, (X, 1))[1]
    compiled = adc.pipeline.compile_derivative(slice_to_n, types, "grad", (0,), jit=True, load=False)
    assert "(fused)" in compiled.source and "indices_in_range" in compiled.source, compiled.source
    source = adc.pipeline.checked_version(compiled, True).source
    # ``gy``, the adjoint fitted to ``y``'s shape (``x[:n]``'s) when the code runs
    assert "    gy = adc_arrays.shaped_like(gz, y)\n" in source and "    adc_arrays.fits(gx[:n], gy)\n    gx[:n] += gy\n" in source, source
    plain = adc.pipeline.compile_derivative(slice_to_n, types, "grad", (0,), jit=False, load=False).source
    assert "fits" not in plain  # NumPy checks by itself


@pytest.mark.parametrize("target, values", [((3,), [(3,)]), ((3,), [(1,), (3,)]), ((2, 3), [(3,)]),
                                            ((2, 3), [(2, 1), (1, 3)]), ((2, 3), [(1, 1)]), ((2, 3), [])])
def test_the_check_passes_what_numpy_adds(target, values):
    numba = pytest.importorskip("numba")
    from adc.prims import kernels

    arrays = [np.linspace(1.0, 2.0, int(np.prod(v))).reshape(v) for v in values]
    x = np.zeros(target)
    for v in arrays:
        x += v  # NumPy adds each
    kernels.fits(np.zeros(target), *arrays)  # plain Python
    numba.njit(lambda x, *vs: kernels.fits(x, *vs))(np.zeros(target), *arrays)


@pytest.mark.parametrize("target, values", [((1,), [(3,)]), ((3,), [(2,)]), ((3,), [(3,), (2,)]),
                                            ((2, 3), [(2, 3, 1)]), ((2, 1), [(2, 3)])])
def test_the_check_refuses_what_numpy_refuses(target, values):
    numba = pytest.importorskip("numba")
    from adc.prims import kernels

    arrays = [np.ones(v) for v in values]
    with pytest.raises(ValueError):
        x = np.zeros(target)
        for v in arrays:
            x += v
    with pytest.raises(ValueError, match="non-broadcastable"):
        kernels.fits(np.zeros(target), *arrays)
    with pytest.raises(ValueError, match="non-broadcastable"):
        numba.njit(lambda x, *vs: kernels.fits(x, *vs))(np.zeros(target), *arrays)


def test_parallel_code_checks_after_the_adds_and_raises_there_too():
    """Under ``jit="parallel"`` a call between two element-wise statements keeps Numba from fusing
    their loops, so the checks wait until the block ends (or a name they read is assigned)."""
    types = adc.api._types_for(slice_to_n, (X, 1))[1]
    compiled = adc.pipeline.compile_derivative(slice_to_n, types, "grad", (0,), jit="parallel", load=False)
    source = adc.pipeline.checked_version(compiled, "parallel").source  # the unfused code (``fusion.py``)
    key = "gx[:(0 if t_1 < 0 else t_1) if n < 0 else n]"  # ``n`` from the start (``parallel_slices.py``)
    assert f"    {key} += gy\n    adc_arrays.fits({key}, gy)\n    return gx\n" in source, source
    np.testing.assert_allclose(adc.grad(slice_to_n, jit="parallel")(X, 1), _fd(slice_to_n, (X, 1), 0), rtol=1e-6)


# --- np.squeeze and x.item() on axes whose length is known only at run time ------------------------
# Both index each dropped axis with 0.  Before, an axis not known to have length 1 was indexed
# without a check: ``np.squeeze(x, axis=0)`` of a (3, 2) array, which NumPy refuses, gave the
# gradient of ``x[0]``, and ``np.squeeze(x)`` kept an axis that had length 1 only at run time
# (NumPy drops it), so later shapes could differ from NumPy's.  Now ``adc_arrays.sole_index``
# checks those axes when the code runs.

def squeeze_axis(a):
    return np.sum(np.sin(np.squeeze(a, axis=0)) * a[0])


def squeeze_rows_to_n(a, n):
    y = np.squeeze(a[:n] * 2.0, axis=0)
    return np.sum(y * y * a[1])


def squeeze_all(a):
    y = a[:, :1] * 3.0
    return np.sum(np.cos(np.squeeze(y)) * a[:, 0])


def squeeze_first_rows(a, n):
    y = a[:n, :1] * 3.0
    return np.sum(np.cos(np.squeeze(y)) * a[:n, 0])


def item_of_slice(x, n):
    return x[:n].item() * np.sum(x * x)


B = np.array([[0.4, -0.7, 0.2]])  # one row, known only at run time


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn, args", [(squeeze_axis, (B,)), (squeeze_rows_to_n, (A, 1)), (squeeze_all, (A,)),
                                      (item_of_slice, (X, 1))], ids=lambda v: getattr(v, "__name__", ""))
def test_squeeze_and_item_of_an_axis_of_length_one_at_run_time(fn, args, jit):
    got = adc.grad(fn, jit=jit)(*args)
    np.testing.assert_allclose(got, _fd(fn, args, 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.grad(fn, mode="forward")(*args), got, rtol=1e-12, atol=1e-14)
    assert np.isclose(adc.value_and_grad(fn, jit=jit)(*args)[0], fn(*args), rtol=1e-14)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn, args", [(squeeze_axis, (A,)), (squeeze_rows_to_n, (A, 2)), (item_of_slice, (X, 2))],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_squeeze_or_item_of_a_longer_axis_raises_as_numpy_does(fn, args, jit):
    with pytest.raises(ValueError):
        fn(*args)  # NumPy refuses
    for mode in ("reverse", "forward"):
        with pytest.raises(EvaluationError) as info:
            adc.grad(fn, jit=jit and mode == "reverse", mode=mode)(*args)
        assert isinstance(info.value, ValueError)
        assert "itself at these arguments" in str(info.value)


@pytest.mark.parametrize("jit", [False, True])
def test_squeeze_without_axis_of_an_axis_of_length_one_only_at_run_time_raises_with_a_hint(jit):
    one_row = A[:1]  # a slice of an argument's length-1 axis: adc knows both of y's axes
    np.testing.assert_allclose(adc.grad(squeeze_all, jit=jit)(one_row), _fd(squeeze_all, (one_row,), 0), rtol=1e-6)
    assert np.ndim(np.squeeze(A[:1, :1])) == 0  # squeeze_first_rows's y at n = 1: adc knows only the second
    with pytest.raises(EvaluationError) as info:
        adc.grad(squeeze_first_rows, jit=jit)(A, 1)
    assert isinstance(info.value, ValueError)
    assert "np.squeeze() without axis" in str(info.value)
    assert "name the axes to drop: np.squeeze(x, axis=0)" in str(info.value)


def test_squeeze_of_known_axes_has_no_check():
    types = adc.api._types_for(squeeze_all, (A,))[1]
    source = adc.pipeline.compile_derivative(squeeze_all, types, "grad", (0,), jit=False, load=False).source
    assert "adc_arrays.sole_index(" in source, source  # the first axis may have length 1
    known = adc.pipeline.compile_derivative(known_one_squeezed, types, "grad", (0,), jit=False, load=False).source
    assert "sole_index" not in known, known


def known_one_squeezed(a):
    return np.sum(np.squeeze(a[:1, 1:2] * a[0, None, :1]) * a)

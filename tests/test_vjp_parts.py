"""``adc.vjp``'s pullback runs only the reverse sweep on the residuals of one forward sweep
(``adc/vjp_parts.py``), where that sweep can run again; elsewhere the whole VJP program, as before.
Every pullback is checked against central differences and against the uncut program."""
import math

import numpy as np
import pytest

import adc
from adc import pipeline
from adc.errors import EvaluationError
from adc.arguments import call_flat as api_call

SCALE = np.array([0.5, -1.5, 2.0])


def two_outputs(x, y):
    return np.sin(x) * y + x ** 2, np.sum(x * y)


def returns_a_residual(x):
    e = np.exp(x)
    return e, np.sum(e * x)  # the reverse sweep reads e (the first output)


def records_state(x, n):
    y = x.copy()
    for i in range(n):
        y[i % 3] = y[i % 3] * y[(i + 1) % 3]  # the overwritten entries are kept in records
    return np.sum(y * y)


def nested_tape(x, n):
    s = 0.0
    for i in range(n):
        for j in range(i + 1):
            s = s * 0.5 + np.sin(x[j % 3] * s + 1.0)  # an inner loop: its values go on tapes, popped
    return s


def while_tape(x):
    s = x
    while s < 10.0:
        s = s * 1.5 + math.sin(s)
    return s


def fact(x, n):
    return x if n <= 1 else x * fact(x * 0.9, n - 1)  # a kept recursive function


def writes_argument(x):
    x[0] = 2.0 * x[1]
    return np.sum(x ** 3)


def reads_global(x):
    return np.sum(np.tanh(x * SCALE))


def dict_output(p):
    return {"a": p["w"] * p["b"], "b": np.sum(p["w"] ** 2)}


def log_at(x):
    return math.log(x) * 2.0


def parts_of(fn, jit=None):
    """The cut VJP compiled for ``fn`` (any signature; ``jit`` given: with it), or ``None`` where adc
    runs the whole program."""
    found = [v for k, v in pipeline._parts_cache.items() if v is not None and (jit is None or k[3] == jit) and
             f"def {fn.__name__}_vjp_fwd" in v.fwd_source]
    return found[0] if found else None


def fd_rows(fn, x, outputs, h=1e-6):
    """``J`` of ``fn`` (flat outputs) at array ``x`` by central differences: (outputs, x.size)."""
    cols = []
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[i] += h
        xm.flat[i] -= h
        cols.append((outputs(fn(xp)) - outputs(fn(xm))) / (2 * h))
    return np.array(cols).T


@pytest.mark.parametrize("jit", [False, True])
def test_many_pullbacks_after_one_forward_sweep(jit):
    x, y = np.array([0.3, 1.2, -0.7]), np.array([2.0, -1.0, 0.5])
    out, pullback = adc.vjp(two_outputs, x, y, jit=jit)
    np.testing.assert_allclose(out[0], np.sin(x) * y + x ** 2)
    assert out[1] == pytest.approx(np.sum(x * y))
    assert parts_of(two_outputs) is not None
    flat = lambda o: np.concatenate([np.ravel(o[0]), [o[1]]])  # noqa: E731
    jx = fd_rows(lambda v: two_outputs(v, y), x, flat)
    jy = fd_rows(lambda v: two_outputs(x, v), y, flat)
    for k in range(4):  # each row of the Jacobian, then a mixed cotangent
        ct = (np.eye(4)[k][:3], float(np.eye(4)[k][3]))
        gx, gy = pullback(ct)
        np.testing.assert_allclose(gx, jx[k], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(gy, jy[k], rtol=1e-6, atol=1e-8)
    u = (np.array([0.2, -0.4, 1.0]), 0.7)
    gx, gy = pullback(u)
    np.testing.assert_allclose(gx, np.concatenate([u[0], [u[1]]]) @ jx, rtol=1e-6, atol=1e-8)
    # <vjp(u), v> == <u, jvp(v)>
    v = (np.array([1.0, 0.5, -2.0]), np.array([0.3, 0.1, 0.2]))
    _, t = adc.jvp(two_outputs, (x, y), v)
    assert gx @ v[0] + gy @ v[1] == pytest.approx(u[0] @ t[0] + u[1] * t[1], rel=1e-10)


@pytest.mark.parametrize("jit", [False, True])
def test_jacrev_runs_one_forward_sweep(jit):
    x = np.array([0.3, 1.2, -0.7])
    jac = adc.jacrev(returns_a_residual, jit=jit)(x)
    np.testing.assert_allclose(jac[0], np.diag(np.exp(x)), rtol=1e-12)
    np.testing.assert_allclose(jac[1], np.exp(x) * (1.0 + x), rtol=1e-12)
    fwd = adc.jacfwd(returns_a_residual)(x)
    np.testing.assert_allclose(jac[0], fwd[0], rtol=1e-12)
    np.testing.assert_allclose(jac[1], fwd[1], rtol=1e-12)


def test_an_output_the_reverse_sweep_reads_is_the_callers_to_change():
    x = np.array([0.3, 1.2, -0.7])
    (e, s), pullback = adc.vjp(returns_a_residual, x)
    assert parts_of(returns_a_residual) is not None
    e[:] = 0.0  # the caller writes into the output it got
    (g,) = pullback((np.zeros(3), 1.0))
    np.testing.assert_allclose(g, np.exp(x) * (1.0 + x), rtol=1e-12)


@pytest.mark.parametrize("fn, args, cut", [
    (records_state, (np.array([0.9, 1.1, 0.8]), 5), True),  # records read by index: the sweep can run again
    (nested_tape, (np.array([0.9, 1.1, 0.8]), 4), False),  # popped tapes: it cannot
    (while_tape, (1.3,), False),
    (fact, (1.3, 4), False),  # a kept call's reverse part
])
def test_pullbacks_where_the_reverse_sweep_may_change_its_residuals(fn, args, cut):
    """Where the reverse sweep would read changed residuals the second time (a popped tape, a
    kept call's residuals), adc runs the whole program for every pullback; the answers stay right."""
    out, pullback = adc.vjp(fn, *args)
    first = pullback(1.0)[0]
    again = pullback(1.0)[0]
    assert (parts_of(fn) is not None) == cut
    np.testing.assert_allclose(again, first, rtol=0, atol=0)
    np.testing.assert_allclose(first, adc.grad(fn)(*args), rtol=1e-12)
    x, h = args[0], 1e-6
    if isinstance(x, np.ndarray):
        fd = [(fn(x + h * e, *args[1:]) - fn(x - h * e, *args[1:])) / (2 * h) for e in np.eye(x.size)]
    else:
        fd = (fn(x + h, *args[1:]) - fn(x - h, *args[1:])) / (2 * h)
    np.testing.assert_allclose(first, fd, rtol=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_a_function_that_writes_its_argument(jit):
    x = np.array([0.5, 1.5, -1.0])
    kept = x.copy()
    out, pullback = adc.vjp(writes_argument, x, jit=jit)
    np.testing.assert_array_equal(x, kept)  # the caller's array is left alone
    assert out == pytest.approx(writes_argument(kept.copy()))
    (g,) = pullback(1.0)
    (g2,) = pullback(2.0)
    np.testing.assert_array_equal(x, kept)
    want = np.array([0.0, 3 * (2 * 1.5) ** 2 * 2 + 3 * 1.5 ** 2, 3.0])
    np.testing.assert_allclose(g, want, rtol=1e-12)
    np.testing.assert_allclose(g2, 2 * want, rtol=1e-12)


@pytest.mark.parametrize("jit", [False, True])
def test_a_global_array_and_a_dict(jit):
    x = np.array([0.1, -0.2, 0.3])
    out, pullback = adc.vjp(reads_global, x, jit=jit)
    (g,) = pullback(1.0)
    np.testing.assert_allclose(g, SCALE / np.cosh(x * SCALE) ** 2, rtol=1e-12)
    p = {"w": np.array([1.0, 2.0]), "b": np.array([0.5, -0.5])}
    out, pullback = adc.vjp(dict_output, p)
    np.testing.assert_allclose(out["a"], p["w"] * p["b"])
    assert out["b"] == pytest.approx(5.0)
    for _ in range(2):
        (g,) = pullback({"a": np.array([1.0, 0.0]), "b": 1.0})
        np.testing.assert_allclose(g["w"], [0.5 + 2.0, 4.0])
        np.testing.assert_allclose(g["b"], [1.0, 0.0])


def test_a_function_failing_at_its_arguments_is_reported_as_before():
    with pytest.raises(EvaluationError) as info:
        adc.vjp(log_at, -1.0)
    assert isinstance(info.value, ValueError) and "log_at" in str(info.value)
    out, pullback = adc.vjp(log_at, 4.0)  # the same signature, at a point where it is defined
    assert out == pytest.approx(2.0 * math.log(4.0))
    assert pullback(1.0)[0] == pytest.approx(0.5)
    assert parts_of(log_at).usable  # the function's own failure says nothing against the parts


@pytest.mark.parametrize("fn, args, cotangent", [
    (two_outputs, (np.array([0.3, 1.2, -0.7]), np.array([2.0, -1.0, 0.5])), (np.ones(3), 1.0)),  # cut
    (nested_tape, (np.array([0.9, 1.1, 0.8]), 3), 1.0),  # not cut: the whole program at each pullback
])
@pytest.mark.parametrize("jit", [False, True])
def test_the_pullback_stays_at_the_primals_vjp_was_given(fn, args, cotangent, jit):
    want = adc.vjp(fn, *[a.copy() if isinstance(a, np.ndarray) else a for a in args], jit=jit)[1](cotangent)
    out, pullback = adc.vjp(fn, *args, jit=jit)
    for a in args:  # the caller reuses its arrays before pulling back, as JAX allows
        if isinstance(a, np.ndarray):
            a[:] = 5.0
    got = pullback(cotangent)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-15)


def indexed(x, i):
    return x[i] * 2.0


def list_output(x):
    return [np.sum(x), np.argmax(x), x * 2.0]


@pytest.mark.parametrize("jit", [False, True])
def test_the_primal_output_is_the_functions(jit):
    """The forward part's output where the function returns one value, with the function's
    errors (an index out of bounds raises under jit too: Numba checks indices); a list is the
    function's own, with its types."""
    x = np.array([1.0, 3.0, 2.0])
    for _ in range(2):
        out, pullback = adc.vjp(indexed, x, 1, jit=jit)
        assert out == 6.0 and pullback(1.0)[0].tolist() == [0.0, 2.0, 0.0]
        with pytest.raises(EvaluationError) as info:
            adc.vjp(indexed, x, 5, jit=jit)
        assert isinstance(info.value, IndexError)
        out, pullback = adc.vjp(list_output, x, jit=jit)
        assert type(out) is list and type(out[0]) is np.float64 and out[1] == 1
        np.testing.assert_allclose(pullback([1.0, 0, np.ones(3)])[0], [3.0, 3.0, 3.0])


def cross_rows(a, b):
    """Each factor is read by two products: the forward part's clean-up merges residuals, which
    the cut passes once each (once made the reverse part impossible to name, and the cut fell back)."""
    c = np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])
    return np.sin(c) * a


@pytest.mark.parametrize("jit", [False, True])
def test_merged_residuals_are_passed_once(jit):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    out, pullback = adc.vjp(cross_rows, a, b, jit=jit)
    parts = parts_of(cross_rows, jit)
    assert parts is not None
    u = rng.normal(size=(3, 5))
    ga, gb = pullback(u)
    ga2, gb2 = pullback(u)
    np.testing.assert_array_equal(ga, ga2)
    v = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    _, t = adc.jvp(cross_rows, (a, b), v)
    assert np.sum(ga * v[0]) + np.sum(gb * v[1]) == pytest.approx(np.sum(u * t), rel=1e-12)
    h = 1e-6
    fd = (np.sum(u * cross_rows(a + h * v[0], b + h * v[1])) - np.sum(u * cross_rows(a - h * v[0], b - h * v[1]))) / (2 * h)
    assert np.sum(ga * v[0]) + np.sum(gb * v[1]) == pytest.approx(fd, rel=1e-6)


def log_twice(x):
    return np.log(x) * 2.0 + np.sum(x)


def test_the_function_runs_once_and_again_where_an_output_is_not_finite(monkeypatch):
    """vjp takes its primal output from the forward part, so the function does not run a second
    time; where an output is nan or inf, the function runs (Python may raise there)."""
    calls = []
    real = adc.api.call_flat
    monkeypatch.setattr(adc.api, "call_flat", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = np.array([0.5, 2.0])
    y, pullback = adc.vjp(log_twice, x)
    np.testing.assert_allclose(y, 2.0 * np.log(x) + 2.5, rtol=1e-15)
    y[:] = 0.0  # the caller's to change: the reverse sweep does not read it
    assert not calls
    np.testing.assert_allclose(pullback(np.array([1.0, -2.0]))[0], [2.0 * 1.0 / 0.5 - 1.0, 2.0 * -2.0 / 2.0 - 1.0], rtol=1e-14)
    with np.errstate(all="ignore"):
        y, _ = adc.vjp(log_twice, np.array([-1.0, 2.0]))
    assert np.isnan(y[0]) and calls == [1]


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def sqrt_branch(x):
    s = math.sqrt(x)
    return x * 2.0 if s > 1.0 else x * 3.0


def floor_divides(x):
    return x * (10 // (len(x) - 3))


W32 = np.ones(3, dtype=np.float32)


def times_float32_global(x):
    return np.sum(x) * W32


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn, arg, error", [(logistic, -1000.0, OverflowError), (sqrt_branch, -1.0, ValueError),
                                            (floor_divides, np.array([1.0, 2.0, 3.0]), ZeroDivisionError)],
                         ids=["overflow", "domain", "zero-division"])
def test_vjp_raises_where_the_function_does(fn, arg, error, jit):
    """Numba code gives inf, nan or 0 where Python raises: under jit the function itself runs for
    the primal output (a review found these returning 0.0, -3.0 and [0, 0, 0])."""
    with pytest.raises(EvaluationError) as info:
        adc.vjp(fn, arg, jit=jit)
    assert isinstance(info.value, error)


@pytest.mark.parametrize("jit", [False, True])
def test_the_output_of_a_float32_global_has_numpys_dtype(jit):
    x = np.array([1.0, 2.0, 3.0])
    y, pullback = adc.vjp(times_float32_global, x, jit=jit)
    assert y.dtype == times_float32_global(x).dtype == np.float64
    np.testing.assert_array_equal(pullback(np.array([0.1, 0.2, 0.3]))[0], np.full(3, 0.1 + 0.2 + 0.3))


def residual_rows(cam, X):
    """ba's shape: every operation on arrays, one observation per column."""
    theta = np.sqrt(cam[0] * cam[0] + cam[1] * cam[1])
    proj = X[0:2] / (X[2] + theta)
    return proj * np.cos(theta) * cam[2]


def scalar_division(x):
    return x[0] / (x[1] - 1.0) * np.sum(x)


def test_under_jit_an_array_function_does_not_run_again_for_its_output(monkeypatch):
    """Its Numba code raises where the function does (``vjp_parts.raises_alike``), so ``vjp`` returns
    the forward part's output and the function runs only once, compiled."""
    rng = np.random.default_rng(5)
    cam, X = rng.normal(size=(3, 6)), rng.normal(size=(3, 6)) + 4.0
    want = residual_rows(cam, X)
    adc.vjp(residual_rows, cam, X, jit=True)  # compiled
    monkeypatch.setattr("adc.api.call_flat", lambda *a, **k: pytest.fail("the function ran again"))
    out, pullback = adc.vjp(residual_rows, cam, X, jit=True)
    np.testing.assert_allclose(out, want, rtol=1e-13)
    ct = rng.normal(size=want.shape)
    g_cam, g_x = pullback(ct)
    f = lambda c: np.sum(residual_rows(c.reshape(cam.shape), X) * ct)  # noqa: E731
    h = 1e-6
    fd = np.array([(f(cam.ravel() + h * e) - f(cam.ravel() - h * e)) / (2 * h) for e in np.eye(cam.size)])
    np.testing.assert_allclose(g_cam.ravel(), fd, rtol=1e-6, atol=1e-8)


def test_under_jit_a_division_of_numbers_still_runs_the_function(monkeypatch):
    """Python's numbers raise where Numba's give inf (``x / 0``): the function gives the output."""
    x = np.array([1.0, 3.0, 2.0])
    assert not pipeline.raises_alike(pipeline.primal(scalar_division, [adc.types.type_of(x)]))
    ran = []
    monkeypatch.setattr("adc.api.call_flat", lambda *a, **k: ran.append(1) or api_call(*a, **k))
    out, pullback = adc.vjp(scalar_division, x, jit=True)
    assert ran and out == pytest.approx(scalar_division(x), rel=1e-14)
    np.testing.assert_allclose(pullback(1.0)[0], adc.grad(scalar_division)(x), rtol=1e-13)


def test_numpy_set_to_raise_runs_the_function_again():
    rng = np.random.default_rng(6)
    cam, X = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    X[2, 0] = -np.sqrt(cam[0, 0] ** 2 + cam[1, 0] ** 2)  # a division by zero in column 0
    with np.errstate(divide="raise", invalid="raise"):
        with pytest.raises(FloatingPointError):
            residual_rows(cam, X)
        with pytest.raises(FloatingPointError):
            adc.vjp(residual_rows, cam, X, jit=True)


def sin_branch(x, y):
    if math.sin(y) > 0.5:
        return x * 2.0
    return x * 3.0


def log_exp(x):
    return np.exp(np.log(x)) * 2.0


def int32_scale(x, k):
    return x * (k * 100000)


def test_under_jit_the_function_runs_where_its_numbers_raise():
    """Found by review: ``math.sin(inf)`` raises in Python and not in Numba code."""
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError):
        sin_branch(x, math.inf)
    with pytest.raises(ValueError):
        adc.vjp(sin_branch, x, math.inf, jit=True)
    out, pullback = adc.vjp(sin_branch, x, 0.0, jit=True)
    np.testing.assert_allclose(out, 3.0 * x)


@pytest.mark.parametrize("how", ["warnings as errors", "seterr call"])
def test_under_jit_the_function_runs_where_numpy_is_set_to_stop(how):
    """Found by review: NumPy's warnings made errors, or a callback that raises, stop the function;
    Numba code emits neither."""
    import warnings

    z = np.array([0.0, 1.0])

    def stop(kind, flag):
        raise FloatingPointError(kind)

    with warnings.catch_warnings(), np.errstate(all="call" if how == "seterr call" else "warn"):
        old = np.seterrcall(stop)
        try:
            if how == "warnings as errors":
                warnings.simplefilter("error", RuntimeWarning)
            with pytest.raises((RuntimeWarning, FloatingPointError)):
                log_exp(z)
            with pytest.raises((RuntimeWarning, FloatingPointError)):
                adc.vjp(log_exp, z, jit=True)
        finally:
            np.seterrcall(old)
    with np.errstate(divide="ignore"):
        out, _ = adc.vjp(log_exp, z, jit=True)  # quiet NumPy: the forward part's output
    np.testing.assert_allclose(out, [0.0, 2.0])


def test_under_jit_int32_arguments_get_the_function_s_own_output():
    """Found by review: NumPy wraps int32 products; adc's code computes in int64."""
    x, k = np.array([1.0, 2.0]), np.array([60000, 1], dtype=np.int32)
    with np.errstate(over="ignore"):
        want = int32_scale(x, k)
        out, _ = adc.vjp(int32_scale, x, k, jit=True)
    np.testing.assert_array_equal(out, want)

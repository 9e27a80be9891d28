"""Nested differentiation: forward over reverse in the IR (``adc.hessian``, ``adc.hvp``).

Second derivatives are checked against central finite differences of gradients (written by hand
where the program is small enough, else ``adc.grad``'s, which the rest of the suite checks) and
against the symmetry of the Hessian, for programs with records, tapes, ``while``, branches and
array writes, with and without ``jit``."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import adc
import nested_funcs as N
from fd import fd_jacobian_of as fd_jacobian
from test_control_flow import CASES as CONTROL_FLOW_CASES

X = np.array([0.3, -0.7, 1.1, 0.4])


ARRAY_CASES = [
    (N.recorded, N.recorded_grad),
    (N.nested_loops, None),
    (N.branchy, None),
    (N.writes, None),
    (N.rosen, N.rosen_grad),
    (N.reshaped, None),
]
JIT = [False, True]


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("fn,analytic", ARRAY_CASES, ids=lambda c: getattr(c, "__name__", "adc"))
def test_hessian_matches_differences_of_the_gradient(fn, analytic, jit):
    H = adc.hessian(fn, jit=jit)(X)
    gradient = analytic or adc.grad(fn)
    np.testing.assert_allclose(H, fd_jacobian(gradient, X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("fn,analytic", ARRAY_CASES, ids=lambda c: getattr(c, "__name__", "adc"))
def test_hvp_matches_differences_of_the_gradient(fn, analytic, jit):
    v = np.array([0.5, -1.0, 0.25, 2.0])
    gradient = analytic or adc.grad(fn)
    h = 1e-6
    fd = (np.asarray(gradient(X + h * v)) - np.asarray(gradient(X - h * v))) / (2 * h)
    np.testing.assert_allclose(adc.hvp(fn, jit=jit)(X, v), fd, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(adc.hvp(fn, jit=jit)(X, v), adc.hessian(fn)(X) @ v, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("x", [0.3, 2.0, 5.0])
def test_while_loop_second_derivative(x, jit):
    h = 1e-6
    fd = (N.halving_grad(x + h) - N.halving_grad(x - h)) / (2 * h)
    assert adc.hessian(N.halving, jit=jit)(x) == pytest.approx(fd, rel=1e-5)
    assert adc.hvp(N.halving, jit=jit)(x, 2.0) == pytest.approx(2 * fd, rel=1e-5)


def test_two_arguments_mixed_block_and_symmetry():
    a, b = 0.8, 1.3
    gab = adc.grad(N.two_args, argnums=(0, 1))
    h = 1e-6
    d_da = (np.array(gab(a + h, b)) - np.array(gab(a - h, b))) / (2 * h)
    d_db = (np.array(gab(a, b + h)) - np.array(gab(a, b - h))) / (2 * h)
    fd = np.stack([d_da, d_db], axis=-1)
    assert adc.hessian(N.two_args, 0)(a, b) == pytest.approx(fd[0, 0], rel=1e-5)
    assert adc.hessian(N.two_args, 1)(a, b) == pytest.approx(fd[1, 1], rel=1e-5)
    # the mixed block by a tuple argnums: H @ (va, vb)
    ha, hb = adc.hvp(N.two_args, argnums=(0, 1))(a, b, (1.0, 0.0))
    assert ha == pytest.approx(fd[0, 0], rel=1e-5) and hb == pytest.approx(fd[1, 0], rel=1e-5)
    ha, hb = adc.hvp(N.two_args, argnums=(0, 1))(a, b, (0.0, 1.0))
    assert ha == pytest.approx(fd[0, 1], rel=1e-5) and hb == pytest.approx(fd[1, 1], rel=1e-5)
    assert fd[0, 1] == pytest.approx(fd[1, 0], rel=1e-5)


def test_hvp_source_shows_tangent_records_and_tapes():
    text = adc.source(N.recorded, mode="hvp", at=(X,))
    assert "s_rec" in text and "ds_rec" in text and "Hessian-vector product" in text
    text = adc.source(N.halving, mode="hvp", at=(1.0,))
    assert "dtape.append(" in text and "dtape.pop()" in text


def test_hvp_checks_its_vector():
    with pytest.raises(adc.DifferentiationError, match="shape"):
        adc.hvp(N.rosen)(X, np.ones(3))
    with pytest.raises(adc.DifferentiationError, match="grad needs"):
        adc.hvp(lambda x: x * np.ones(2))(1.0, 1.0)


SWEEP = [c for c in CONTROL_FLOW_CASES if not c.id.startswith("memory_loop")]


@pytest.mark.parametrize("case", SWEEP, ids=lambda c: c.id)
def test_hvp_of_every_control_flow_program(case):
    """Every program of tests/test_control_flow.py (branches, for, while, break/continue/return,
    array writes, calls): ``hvp`` along a random direction equals central differences of the
    gradient along it."""
    nums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    args = [float(a) if k in nums and not isinstance(a, np.ndarray) else a for k, a in enumerate(case.args)]
    rng = np.random.default_rng(7)
    vs = tuple(rng.normal(size=np.shape(args[k])) if isinstance(args[k], np.ndarray) else float(rng.normal())
               for k in nums)
    got = adc.hvp(case.fn, argnums=nums)(*args, vs)
    gradient = adc.grad(case.fn, argnums=nums)
    h = 1e-6

    def along(s):
        a = list(args)
        for k, v in zip(nums, vs):
            a[k] = a[k] + s * v
        return gradient(*a)

    for x, p, m in zip(got, along(h), along(-h)):
        np.testing.assert_allclose(x, (np.asarray(p) - np.asarray(m)) / (2 * h), rtol=1e-4, atol=1e-5)


# -- transforming functions made by adc.grad / adc.value_and_grad -------------------------------


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("fn,analytic", ARRAY_CASES, ids=lambda c: getattr(c, "__name__", "adc"))
def test_jacfwd_and_jvp_of_an_adc_gradient(fn, analytic, jit):
    """Forward over reverse through the API: the program of adc.grad(f) is f's gradient program."""
    g = adc.grad(fn, jit=jit)
    H = adc.hessian(fn)(X)
    np.testing.assert_allclose(adc.jacfwd(g, jit=jit)(X), H, rtol=1e-10, atol=1e-10)
    v = np.array([0.5, -1.0, 0.25, 2.0])
    value, product = adc.jvp(g, (X,), (v,), jit=jit)
    np.testing.assert_allclose(value, g(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(product, H @ v, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("fn,analytic", ARRAY_CASES, ids=lambda c: getattr(c, "__name__", "adc"))
def test_jacrev_of_an_adc_gradient(fn, analytic, jit):
    """Reverse over reverse: the tapes and records of the gradient program get adjoint tapes."""
    H = adc.jacrev(adc.grad(fn), jit=jit)(X)
    np.testing.assert_allclose(H, adc.hessian(fn)(X), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(H, fd_jacobian(analytic or adc.grad(fn), X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("x", [0.3, 2.0, 5.0])
def test_grad_of_grad_scalar(x):
    h = 1e-6
    fd = (N.halving_grad(x + h) - N.halving_grad(x - h)) / (2 * h)
    # forward over reverse and reverse over reverse (the gradient of a while loop keeps a tape)
    assert adc.grad(adc.grad(N.halving), mode="forward")(x) == pytest.approx(fd, rel=1e-5)
    assert adc.grad(adc.grad(N.halving))(x) == pytest.approx(fd, rel=1e-5)
    assert adc.grad(adc.grad(N.halving), jit=True)(x) == pytest.approx(fd, rel=1e-5)
    # the inner gradient by forward mode, the outer by either
    inner = adc.grad(N.halving, mode="forward")
    assert adc.grad(inner, mode="forward")(x) == pytest.approx(fd, rel=1e-5)
    value, d2 = adc.value_and_grad(adc.grad(N.halving), mode="forward")(x)
    assert value == pytest.approx(N.halving_grad(x), rel=1e-12) and d2 == pytest.approx(fd, rel=1e-5)


def straight(a, b):
    return a ** 3 * b + np.sin(a * b)


def test_grad_of_grad_reverse_over_reverse_and_mixed_partials():
    a, b = 0.7, -1.3
    d_aa = 6 * a * b - b * b * np.sin(a * b)
    d_ab = 3 * a * a + np.cos(a * b) - a * b * np.sin(a * b)
    assert adc.grad(adc.grad(straight))(a, b) == pytest.approx(d_aa, rel=1e-12)
    assert adc.grad(adc.grad(straight), argnums=1)(a, b) == pytest.approx(d_ab, rel=1e-12)
    assert adc.grad(adc.grad(straight, argnums=1))(a, b) == pytest.approx(d_ab, rel=1e-12)
    value, grads = adc.value_and_grad(straight, argnums=(0, 1))(a, b)
    # value_and_grad as the inner transform: its program returns (value, (ga, gb))
    out, tangents = adc.jvp(adc.value_and_grad(straight, argnums=(0, 1)), (a, b), (1.0, 0.0))
    assert out[0] == pytest.approx(value) and out[1][0] == pytest.approx(grads[0])
    assert tangents[0] == pytest.approx(grads[0]) and tangents[1][0] == pytest.approx(d_aa, rel=1e-12)
    assert tangents[1][1] == pytest.approx(d_ab, rel=1e-12)


def quartic(x, y):
    return x ** 4 * y + np.sin(x * y)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_third_and_fourth_derivatives_by_nesting_grad(mode):
    """``adc.grad(adc.grad(adc.grad(f)))`` was the second derivative: the outer ``Transformed``
    took the attributes of the function it wraps, ``specialize`` among them, and so composed the
    innermost gradient (review, twenty-sixth session)."""
    x, y = 0.8, -1.3
    d3 = 24 * x * y - y ** 3 * np.cos(x * y)
    d4 = 24 * y + y ** 4 * np.sin(x * y)
    g3 = adc.grad(adc.grad(adc.grad(quartic), mode=mode))
    assert g3(x, y) == pytest.approx(d3, rel=1e-12)
    assert adc.grad(g3, mode=mode)(x, y) == pytest.approx(d4, rel=1e-12)
    assert adc.grad(adc.grad(adc.grad(adc.grad(quartic))), jit=True)(x, y) == pytest.approx(d4, rel=1e-12)
    value, d = adc.value_and_grad(g3)(x, y)
    assert value == pytest.approx(d3, rel=1e-12) and d == pytest.approx(d4, rel=1e-12)
    d3y = 12 * x * x - 2 * y * np.sin(x * y) - x * y * y * np.cos(x * y)  # d/dy of d2f/dx2
    assert adc.grad(adc.grad(adc.grad(quartic)), argnums=1)(x, y) == pytest.approx(d3y, rel=1e-12)


def quintic(t):
    return t ** 5 + np.sin(t)


def scaled_quartic(a, t):
    return a * t ** 4 + np.sin(t)


def makes_a_gradient_inside(x):
    return adc.grad(np.sum)(x)[0] * x[1]


def test_transforms_of_made_functions_never_drop_a_level():
    """The review of d7ffcec: the functions adc makes around a Jacobian's gradient and around a
    ``functools.partial`` took the attributes of the function they wrap, so a transform of them
    worked on the innermost gradient (the gradient of ``adc.grad(adc.jacrev(adc.grad(f)))`` was
    the second derivative, its ``adc.jvp`` the first and the second).  Now each is either right or
    refused with a message that says what to write."""
    t = 0.7
    G = adc.grad(adc.jacrev(adc.grad(quintic)))
    assert G(t) == pytest.approx(60 * t * t - np.cos(t), rel=1e-12)  # the third derivative
    for transform in (adc.grad, adc.jacfwd, adc.hessian):
        with pytest.raises(adc.DifferentiationError, match="of a Jacobian"):
            transform(G)(t)
    with pytest.raises(adc.DifferentiationError, match="of a Jacobian"):
        adc.jvp(G, (t,), (1.0,))
    X = adc.grad(functools.partial(adc.grad(quintic)))
    assert X(t) == pytest.approx(20 * t ** 3 - np.sin(t), rel=1e-12)  # the second derivative
    Y = adc.grad(functools.partial(scaled_quartic, 2.0))
    assert Y(t) == pytest.approx(8 * t ** 3 + np.cos(t), rel=1e-12)
    for made in (X, Y):
        with pytest.raises(adc.DifferentiationError, match="of a functools.partial") as e:
            adc.grad(made)(t)
        assert "def g(t)" in str(e.value)
        with pytest.raises(adc.DifferentiationError, match="of a functools.partial"):
            adc.jvp(made, (t,), (1.0,))


def with_units(x):
    return x ** 3


with_units.units = "m"


def test_a_made_function_keeps_the_users_attributes_not_adcs():
    """As ``functools.wraps`` does, but without adc's own (``specialize``, ``__adc_jacobian__``)."""
    for made in (adc.grad(with_units), adc.value_and_grad(with_units), adc.jacfwd(with_units),
                 adc.hessian(with_units), adc.grad(adc.grad(with_units))):
        assert made.units == "m" and made.__name__ == "with_units"
    assert adc.grad(adc.grad(adc.grad(with_units)))(2.0) == 6.0


def test_a_transform_made_inside_the_function_is_a_located_error():
    """``adc.grad(np.sum)(x)`` inside: adc's own function, not inlined from api.py (and the source
    check no longer takes 3.11's ``PUSH_NULL`` for an edited file)."""
    with pytest.raises(adc.UnsupportedError, match="a call of adc's own `adc.grad`") as e:
        adc.grad(makes_a_gradient_inside)(X)
    assert e.value.loc is not None and e.value.loc.line == makes_a_gradient_inside.__code__.co_firstlineno + 1


def test_reverse_over_a_record_made_inside_a_loop():
    # the gradient of ``recorded`` (a record of its loop) called inside a loop: the record's length
    # is known only inside the loop, so its adjoint record is made at the start of each reverse iteration
    want = fd_grad(N.calls_recorded_grad_in_a_loop, X)
    got = adc.grad(N.calls_recorded_grad_in_a_loop)(X)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got, adc.grad(N.calls_recorded_grad_in_a_loop, mode="forward")(X), rtol=1e-12)
    assert "grec = [0.0] * n_iter" in adc.source(N.calls_recorded_grad_in_a_loop, at=(X,), compact=True)
    # the outer loop records the inner record (a list of lists), which Numba cannot type: an adc error
    # naming the generated line and the user's line, without Numba's terminal colour codes
    with pytest.raises(adc.CompileError, match="s_rec_rec") as info:
        adc.grad(N.calls_recorded_grad_in_a_loop, jit=True)(X)
    text = str(info.value)
    assert "at generated line" in text and "(from line" in text and "jit=False" in text and "\x1b" not in text


def test_other_adc_made_functions_are_refused():
    with pytest.raises(adc.DifferentiationError, match="over functions made by adc.grad and adc.value_and_grad"):
        adc.jacfwd(adc.hvp(N.rosen))(X)
    (H,) = adc.jacfwd(adc.jacrev(N.rosen, argnums=(0,)))(X)  # a tuple argnums: a tuple of blocks, as in JAX
    np.testing.assert_allclose(H, adc.hessian(N.rosen)(X), rtol=1e-12)
    for made in (adc.jacfwd(N.rosen), adc.jacrev(N.rosen), adc.hessian(N.rosen)):  # not one number
        with pytest.raises(adc.DifferentiationError, match=r"grad needs adc\.\w+\(rosen\) to return a scalar, but it "
                                                             r"returns an array of shape"):
            adc.grad(made)(X)


# -- calling an adc-made gradient inside a differentiated function -------------------------------


def fd_grad(fn, x, h=1e-6):
    if not isinstance(x, np.ndarray):
        return (fn(x + h) - fn(x - h)) / (2 * h)
    return np.array([(fn(x + h * e) - fn(x - h * e)) / (2 * h) for e in np.eye(x.size)])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_gradient_called_inside_is_differentiated(mode):
    assert adc.grad(N.calls_cube_grad, mode=mode)(2.0) == pytest.approx(36.0, rel=1e-14)
    assert adc.hessian(N.calls_cube_grad)(2.0) == pytest.approx(36.0, rel=1e-14)  # 18 x


@pytest.mark.parametrize("fn", [N.miss, N.miss_forward], ids=["inner_reverse", "inner_forward"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_particle_nested_ad_in_a_while_loop(fn, mode):
    for w in (0.0, 0.3):
        assert adc.grad(fn, mode=mode)(w) == pytest.approx(fd_grad(fn, w), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn", [N.ascend, N.ascend_while], ids=["for", "while"])
def test_saddle_nested_ad_in_a_loop(fn, mode):
    x = np.array([0.4, -0.3])
    np.testing.assert_allclose(adc.grad(fn, mode=mode)(x), fd_grad(fn, x), rtol=1e-5, atol=1e-8)


def test_the_inlined_gradient_shows_in_the_generated_source():
    text = adc.source(N.calls_cube_grad, compact=True)
    assert "def calls_cube_grad_grad(x)" in text
    assert "from line" in text  # the inlined statements keep the lines of cube they come from


# -- second derivatives through kept calls; reverse over reverse of a value made in a branch ------


def test_hvp_of_a_recursive_function():
    """``hvp`` and ``jvp(grad(f))`` of an array recursion (its parts' tangents: ``vec_rec_fwd_jvp``),
    against the Hessian and central differences of the gradient along ``v``."""
    from call_funcs import vec_loss

    x, v = np.array([0.3, -0.5, 0.8]), np.array([0.5, -1.0, 2.0])
    gradient = adc.grad(vec_loss)
    fd = (gradient(x + 1e-6 * v, 3) - gradient(x - 1e-6 * v, 3)) / 2e-6
    np.testing.assert_allclose(adc.hvp(vec_loss)(x, 3, v), fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.hvp(vec_loss)(x, 3, v), adc.hessian(vec_loss)(x, 3) @ v, rtol=1e-12)
    value, product = adc.jvp(gradient, (x, 3), (v, 0))
    np.testing.assert_allclose(product, adc.hvp(vec_loss)(x, 3, v), rtol=1e-12)


@pytest.mark.parametrize("x0", [0.3, -0.3])
def test_reverse_over_reverse_of_a_copy_made_in_a_branch(x0):
    """The gradient program reads, in the reverse sweep's branch, a copy its forward sweep's branch
    made (``y`` is written after): reverse over reverse meets that read first, and its adjoint must
    reach the copy's adjoint buffer (it was lost: a wrong Hessian)."""
    x = np.array([x0, -0.5, 0.8])
    H = adc.hessian(N.written_in_branch)(x)
    np.testing.assert_allclose(H, fd_jacobian(adc.grad(N.written_in_branch), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.jacrev(adc.grad(N.written_in_branch))(x), H, rtol=1e-12, atol=1e-12)

"""Composed gradients of dict, list, tuple, namedtuple and dataclass arguments (issue 12):
``adc.jvp(adc.grad(f), ...)``, ``adc.vjp(adc.grad(f), ...)``, ``adc.grad(adc.grad(f))`` and
``adc.hvp(f)`` take pytrees and answer in their structure; a gradient called inside a
differentiated function takes containers and reads global arrays.  Against central differences
of the (tree) gradient, ``<u, jvp(v)> == <vjp(u), v>`` and each other."""
from __future__ import annotations

import numpy as np
import pytest

import adc
import composed_funcs as F
from adc.trees import flatten, unflatten

H = 1e-6
P = {"w": np.array([0.4, -0.3, 0.8]), "b": 0.3}
VP = {"w": np.array([1.0, -0.5, 0.25]), "b": -0.7}
X = np.array([0.5, 1.5, -0.2])
PAIR, VPAIR = F.Pair(np.array([0.3, 0.7]), 0.9), F.Pair(np.array([-0.4, 1.0]), 0.5)
LINE, VLINE = F.Line(np.array([0.2, -0.6]), 1.3), F.Line(np.array([0.5, 0.5]), -1.0)
XS = [np.array([1.0, 2.0]), np.array([-0.5, 0.3])]
CASES = {  # function, arguments, tangent of the first argument
    "dict_loop": (F.dict_loop, (P, X), VP),
    "pair_while": (F.pair_while, (PAIR, 3), VPAIR),
    "line_list": (F.line_list, (LINE, XS), VLINE),
}


def axpy(a, x, y):
    """``a * x + y`` leaf by leaf, in ``y``'s structure."""
    lx, _ = flatten(x)
    ly, tree = flatten(y)
    return unflatten(tree, [a * u + w for u, w in zip(lx, ly)])


def dot(x, y):
    return sum(float(np.sum(np.asarray(u) * np.asarray(w))) for u, w in zip(flatten(x)[0], flatten(y)[0]))


def assert_tree_close(got, want, rtol=1e-6, atol=1e-7):
    lg, tg = flatten(got)
    lw, tw = flatten(want)
    assert tg == tw, (tg, tw)
    for g, w in zip(lg, lw):
        assert type(g) is type(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def fd_along(g, args, v):
    """Central differences of ``g`` (a tree-valued function) along ``v`` in its first argument."""
    plus, minus = g(axpy(H, v, args[0]), *args[1:]), g(axpy(-H, v, args[0]), *args[1:])
    return axpy(-1 / (2 * H), minus, axpy(1 / (2 * H), plus, zero(plus)))


def zero(x):
    return unflatten(flatten(x)[1], [0 * np.asarray(u) if isinstance(u, np.ndarray) else 0.0 for u in flatten(x)[0]])


@pytest.mark.parametrize("case", list(CASES))
def test_jvp_of_grad_and_hvp_of_a_tree(case):
    fn, args, v = CASES[case]
    g = adc.grad(fn)
    zeros = tuple(zero(a) for a in args[1:])
    grad, hv = adc.jvp(g, args, (v, *zeros))
    assert_tree_close(grad, g(*args), rtol=1e-14, atol=0)  # the gradient itself, in the tree's structure
    assert_tree_close(hv, fd_along(g, args, v), rtol=1e-5, atol=1e-7)
    assert_tree_close(adc.hvp(fn)(*args, v), hv, rtol=1e-12, atol=1e-14)


def test_vjp_of_grad_is_the_transpose_of_its_jvp():
    g = adc.grad(F.dict_loop, argnums=(0, 1))
    u = ({"w": np.array([0.3, 0.1, -2.0]), "b": 0.6}, np.array([1.0, -1.0, 0.5]))
    v = (VP, np.array([0.2, 0.4, -0.1]))
    grad, pullback = adc.vjp(g, P, X)
    assert_tree_close(grad, g(P, X), rtol=1e-14, atol=0)
    ct = pullback(u)
    assert dot(u, adc.jvp(g, (P, X), v)[1]) == pytest.approx(dot(ct, v), rel=1e-12)
    # the Hessian is symmetric: <u, H v> == <v, H u>, and hvp with a tuple argnums agrees
    assert_tree_close(adc.hvp(F.dict_loop, argnums=(0, 1))(P, X, u), ct, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("inner,outer", [("reverse", "reverse"), ("forward", "reverse"), ("reverse", "forward")])
def test_grad_of_grad_with_respect_to_a_dict(inner, outer):
    p = {"a": np.array([0.3, -0.8]), "b": np.array([1.5, 0.5])}
    mixed = adc.grad(adc.grad(F.scaled, mode=inner), argnums=1, mode=outer)(0.7, p)  # d/dp d/ds
    want = {"a": 3 * 0.7 ** 2 * np.cos(p["a"]) * p["b"], "b": 3 * 0.7 ** 2 * np.sin(p["a"])}
    assert_tree_close(mixed, want, rtol=1e-12, atol=1e-14)


def test_hvp_of_a_dict_under_jit():
    np.testing.assert_allclose(adc.hvp(F.dict_loop, jit=True)(P, X, VP)["w"], adc.hvp(F.dict_loop)(P, X, VP)["w"],
                               rtol=1e-12)


def test_a_gradient_of_a_dict_called_inside():
    g = adc.grad(F.calls_dict_grad)
    assert_tree_close(adc.jvp(g, (P, X), (VP, 0 * X))[1], fd_along(g, (P, X), VP), rtol=1e-5, atol=1e-7)
    assert_tree_close(g(P, X), {"w": fd_grad_leafwise(F.calls_dict_grad, P, X, "w"),
                                "b": fd_grad_leafwise(F.calls_dict_grad, P, X, "b")}, rtol=1e-6, atol=1e-7)


def fd_grad_leafwise(fn, p, x, key):
    value = np.asarray(p[key], dtype=float)
    out = np.zeros(value.shape)
    for j in range(value.size):
        e = np.zeros(value.shape)
        e.flat[j] = H
        plus = fn({**p, key: value + e if value.shape else float(value + e)}, x)
        minus = fn({**p, key: value - e if value.shape else float(value - e)}, x)
        out.flat[j] = (plus - minus) / (2 * H)
    return out if value.shape else float(out)


def test_a_gradient_reading_global_arrays_called_inside(monkeypatch):
    """The global array is an input of the caller's program too, read at every call; a global number
    the called gradient's function reads is part of the caller's cache key."""
    x = np.array([0.4, -1.0, 0.9])
    g = adc.grad(F.calls_global_grad)

    def want():  # d/dx sum(2 C W sin x cos x * x) = C W (sin 2x + 2x cos 2x)
        return F.C * F.W * (np.sin(2 * x) + 2 * x * np.cos(2 * x))

    np.testing.assert_allclose(g(x), want(), rtol=1e-12)
    monkeypatch.setattr(F, "W", np.array([1.0, 2.0, -3.0]))
    np.testing.assert_allclose(g(x), want(), rtol=1e-12)
    monkeypatch.setattr(F, "C", 0.5)
    np.testing.assert_allclose(g(x), want(), rtol=1e-12)
    np.testing.assert_allclose(adc.grad(F.calls_global_grad, jit=True)(x), want(), rtol=1e-12)


def test_grad_of_a_gradient_that_is_a_dict_is_refused():
    with pytest.raises(adc.DifferentiationError, match=r"grad needs adc.grad\(dict_loop\) to return a scalar, but "
                                                       r"it returns a dict with keys 'w', 'b'"):
        adc.grad(adc.grad(F.dict_loop))(P, X)


def sin_dot(x, y):
    return np.sum(np.sin(x) * y)


def sin_of_dict(p):
    return np.sum(np.sin(p["a"]))


def test_jacobians_and_pullbacks_of_a_gradient_that_is_a_container_of_one():
    """``grad(f, argnums=(0,))`` returns a tuple of one and the gradient of a one-key dict a dict:
    ``jacrev`` and ``vjp`` of it refused ("a tuple of 1; got ndarray": the forward part's one output
    was taken as the value) and ``jacfwd`` dropped the container (review C). JAX's structures:
    the output's around the input's."""
    x, y = np.array([0.1, 0.2]), 2.0
    J = np.diag(-np.sin(x) * y)
    g1 = adc.grad(sin_dot, argnums=(0,))
    for jac in (adc.jacfwd(g1), adc.jacrev(g1)):
        (block,) = jac(x, y)
        np.testing.assert_allclose(block, J, rtol=1e-13)
    (value,), pullback = adc.vjp(g1, x, y)
    np.testing.assert_allclose(value, np.cos(x) * y, rtol=1e-13)
    u, v = np.array([0.3, -1.2]), np.array([0.7, 0.4])
    gx, gy = pullback((u,))
    _, (tangent,) = adc.jvp(g1, (x, y), (v, 0.0))
    assert np.dot(gx, v) == pytest.approx(np.dot(u, tangent), rel=1e-12)
    assert gy == pytest.approx(np.dot(u, np.cos(x)), rel=1e-12)
    gd = adc.grad(sin_of_dict)
    for jac in (adc.jacfwd(gd), adc.jacrev(gd)):
        np.testing.assert_allclose(jac({"a": x})["a"]["a"], np.diag(-np.sin(x)), rtol=1e-13)

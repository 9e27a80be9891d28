"""Vector forward mode: ``jacfwd`` carries every tangent direction in one pass (adc/vector.py).

Each program's Jacobian by vector mode equals the per-component forward Jacobian (one ``jvp`` per
input component), the reverse-mode Jacobian (``jacrev``) and central finite differences; the
programs cover scalars, arrays, loops, branches, ``while``, array writes and products with data.
Programs with an op that has no batched rule fall back to one pass per component.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import adc
from adc.arguments import prepare
from adc.pipeline import compile_derivative, primal
from adc.vector import supports

DATA = np.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]])


def scalars(a, b):
    return math.sin(a * b) + a * a / b


def elementwise(x):
    return np.exp(np.sin(x) * x[0]) + np.sum(x * x) * 0.5


def loop(x, n):
    s = 0.0
    y = np.zeros_like(x)
    for i in range(n):
        s = s + x[i] * x[(i + 1) % n]
        y[i] = s * x[i]
    return y + s


def branch(x):
    if np.sum(x) > 0:
        y = x * np.sum(x * x)
    else:
        y = -x
    return y


def while_(x, t):
    k = 0
    while t > 0.1 and k < 20:
        t = t * 0.5 + 0.01 * np.sum(x)
        k += 1
    return x * t


def products(w, b):
    return np.tanh(DATA @ w + b) * np.mean(w)


def quadratic(x):
    return x @ DATA.T @ DATA @ x


def writes(x):
    y = np.zeros_like(x)
    for i in range(len(x)):
        y[i] = x[i] * x[(i + 1) % len(x)]
    y[0] = y[0] * x[1]
    return np.sin(y) * x


def matrices(x, W):
    """Products of matrices with tangents on either side, einsum, transpose, reshape and ravel
    (ht's skinning: blended transforms applied per vertex)."""
    A = x.reshape(2, 3)
    B = np.transpose(A, (1, 0)) @ (W * x[0])  # (3, 3): both operands have a tangent
    blended = (W @ B).reshape(-1, 3, 1)  # (2, 3) -> (2, 3, 1)
    applied = np.einsum("vij,vj->vi", blended, A[:, 0:1])
    return np.concatenate([applied.ravel(), (A @ A.T).ravel()]) * x[1]


def written_product(x, W):
    """Data times an array that is written (``T``): the batched tangent of the product, a reshape
    of a new product, needs no copy (nothing else holds it); and a stack of matrices times a
    matrix, ``np.matmul(T.T, dA)`` in the NumPy code."""
    T = W * 1.0
    T[0, 0] = x[0] * x[1]
    P = DATA.T @ T
    A = x.reshape(3, 2)
    S = A @ T
    return np.concatenate([P.ravel(), S.ravel()]) * x[2]


def unbatched(x):  # np.max has no batched rule: one pass per component
    return np.max(x) * x


CASES = [
    (scalars, (0.7, 1.3), (0, 1)),
    (elementwise, (np.array([0.2, -0.4, 0.9]),), 0),
    (loop, (np.array([0.5, -1.0, 1.5, 0.25]), 4), 0),
    (branch, (np.array([0.5, -1.0, 1.5]),), 0),
    (branch, (np.array([-0.5, -1.0, 0.5]),), 0),
    (while_, (np.array([0.5, 0.2]), 3.0), (0, 1)),
    (products, (np.array([0.3, -0.2, 0.6]), np.array([0.1, -0.1])), (0, 1)),
    (quadratic, (np.array([0.3, -0.2, 0.6]),), 0),
    (writes, (np.array([0.3, -0.7, 1.1, 0.4]),), 0),
    (matrices, (np.array([0.3, -0.7, 1.1, 0.4, 0.9, -0.2]), np.array([[0.5, 1.5, -1.0], [2.0, 0.1, 0.3]])), (0, 1)),
    (written_product, (np.array([0.3, -0.7, 1.1, 0.4, 0.9, -0.2]), np.array([[0.5, 1.5, -1.0], [2.0, 0.1, 0.3]])),
     (0, 1)),
]
IDS = ["scalars", "elementwise", "loop", "branch-then", "branch-else", "while", "products", "quadratic", "writes",
       "matrices", "written_product"]


def by_columns(args, argnums, column):
    """A Jacobian (J[out + in]) from ``column(i, x, e)``: its column for the unit direction ``e``
    (a flat array) of argument ``i`` (whose value is ``x``)."""
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    blocks = []
    for i in nums:
        x = np.asarray(args[i], dtype=float)
        out = np.stack([column(i, x, e) for e in np.eye(x.size)], axis=-1)
        blocks.append(out.reshape(out.shape[:-1] + x.shape))
    return blocks if isinstance(argnums, tuple) else blocks[0]


def moved(args, i, x, step):
    """``args`` with argument ``i`` (value ``x``) moved by the flat ``step``."""
    out = list(args)
    out[i] = (x.ravel() + step).reshape(x.shape) if x.shape else float(x) + float(step[0])
    return out


def central(fn, args, argnums, h=1e-6):
    """The Jacobian of ``fn`` w.r.t. ``args[argnums]`` by central differences (J[out + in])."""
    return by_columns(args, argnums, lambda i, x, e: (np.asarray(fn(*moved(args, i, x, h * e)))
                                                        - np.asarray(fn(*moved(args, i, x, -h * e)))) / (2 * h))


def per_component(fn, args, argnums):
    """The forward Jacobian by one ``jvp`` per input component."""
    def column(i, x, e):
        tangents = [np.zeros_like(a, dtype=float) if isinstance(a, np.ndarray) else 0.0 for a in args]
        tangents[i] = e.reshape(x.shape) if x.shape else 1.0
        return np.asarray(adc.jvp(fn, tuple(args), tuple(tangents))[1])
    return by_columns(args, argnums, column)


def as_list(value, argnums):
    return list(value) if isinstance(argnums, tuple) else [value]


@pytest.mark.parametrize("fn,args,argnums", CASES, ids=IDS)
def test_vector_jacfwd_equals_per_component_jacrev_and_fd(fn, args, argnums):
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    _, types = prepare(fn, args, nums)
    assert supports(primal(fn, types), list(nums))  # the one-pass mode is the one tested
    got = as_list(adc.jacfwd(fn, argnums=argnums)(*args), argnums)
    for g, c, r, d in zip(got, as_list(per_component(fn, args, argnums), argnums),
                          as_list(adc.jacrev(fn, argnums=argnums)(*args), argnums),
                          as_list(central(fn, args, argnums), argnums)):
        np.testing.assert_allclose(g, c, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g, d, rtol=1e-6, atol=1e-7)


def test_one_pass_carries_every_direction():
    """The generated code takes one tangent per input with a trailing batch axis, and is called once."""
    x = np.array([0.2, -0.4, 0.9])
    _, types = prepare(elementwise, (x,), [0])
    compiled = compile_derivative(elementwise, types, "vjvp", [0])
    assert "vector forward mode" in compiled.source and "[..., None]" in compiled.source
    seeds = np.eye(3)
    value, columns = compiled.func(x, seeds)
    np.testing.assert_allclose(value, elementwise(x), rtol=1e-15)
    np.testing.assert_allclose(columns, adc.jacrev(elementwise)(x), rtol=1e-13)


def test_unbatched_primitive_falls_back_to_per_component_passes():
    x = np.array([0.5, 2.0, -1.0])
    _, types = prepare(unbatched, (x,), [0])
    assert not supports(primal(unbatched, types), [0])
    want = np.max(x) * np.eye(3)
    want[:, 1] += x  # d max(x) / dx = e_1
    np.testing.assert_allclose(adc.jacfwd(unbatched)(x), want, rtol=1e-15)
    np.testing.assert_allclose(adc.jacfwd(unbatched)(x), central(unbatched, (x,), 0), rtol=1e-6, atol=1e-7)


def test_a_tree_argument_in_vector_mode():
    def loss_like(p):
        return np.tanh(DATA @ p["w"] + p["b"])

    p = {"w": np.array([0.3, -0.2, 0.6]), "b": np.array([0.1, -0.1])}
    got = adc.jacfwd(loss_like)(p)
    assert list(got) == ["w", "b"]
    want = adc.jacrev(loss_like)(p)
    for k in ("w", "b"):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-12)


def mixed(w, n):  # a loop, a branch, an array write and a product with data, for jit
    s = 0.0
    y = np.zeros_like(w)
    for i in range(n):
        if w[i] > 0:
            s = s + w[i] * w[(i + 1) % n]
        else:
            s = s - w[i]
        y[i] = s
    return np.tanh(DATA @ w + y[:2]) * np.mean(w)


@pytest.mark.parametrize("fn,args", [(mixed, (np.array([0.5, -1.0, 1.5]), 3))], ids=["mixed"])
def test_vector_jacfwd_under_jit_equals_plain(fn, args):
    _, types = prepare(fn, args, [0])
    assert supports(primal(fn, types), [0])
    plain = adc.jacfwd(fn)(*args)
    jitted = adc.jacfwd(fn, jit=True)(*args)
    np.testing.assert_allclose(jitted, plain, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(plain, adc.jacrev(fn)(*args), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jitted, central(fn, args, 0), rtol=1e-6, atol=1e-7)


# --- adc.batched_jvp: given tangents, k directions in one pass ------------------------------------
def stacked(x, y):
    a = np.array([x[0] * y[1], np.sin(x[1]), x[0] + x[1]])
    return np.stack([a * y[0], np.concatenate([a, x])[1:4]], axis=0), np.sum(a * a)


def with_max(x):
    return x * np.max(x)


@pytest.mark.parametrize("jit", [False, True])
def test_batched_jvp_equals_one_jvp_per_direction(jit):
    """Each direction of the batched tangents gives the JVP along it; an argument with tangent None
    is not differentiated (as a zero tangent); a tuple output gives a tuple of tangents."""
    x, y = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    T = np.random.default_rng(3).standard_normal((2, 4))
    assert supports(primal(stacked, prepare(stacked, (x, y), [0])[1]), [0])  # np.array, stack, concatenate
    out, (t_a, t_s) = adc.batched_jvp(stacked, (x, y), (T, None), jit=jit)
    assert t_a.shape == (2, 3, 4) and t_s.shape == (4,)
    for i in range(4):
        value, (d_a, d_s) = adc.jvp(stacked, (x, y), (T[:, i], np.zeros(2)))
        np.testing.assert_allclose(t_a[..., i], d_a, rtol=1e-13, atol=1e-14)
        assert t_s[i] == pytest.approx(d_s, rel=1e-13)
    np.testing.assert_allclose(out[0], value[0])


def test_batched_jvp_without_a_batched_rule_runs_one_jvp_per_direction():
    x, T = np.array([0.5, 2.0, -1.0]), np.eye(3)[:, :2]
    assert not supports(primal(with_max, prepare(with_max, (x,), [0])[1]), [0])
    _, t = adc.batched_jvp(with_max, (x,), (T,))
    np.testing.assert_allclose(t, adc.jacfwd(with_max)(x)[:, :2], rtol=1e-14)


def test_batched_jvp_checks_its_tangents():
    x = np.array([0.5, 2.0])
    with pytest.raises(adc.DifferentiationError, match=r"shape \(2,\) \+ \(k,\)"):
        adc.batched_jvp(with_max, (x,), (np.ones(2),))
    with pytest.raises(adc.DifferentiationError, match="same number k"):
        adc.batched_jvp(stacked, (x, x), (np.ones((2, 3)), np.ones((2, 2))))
    with pytest.raises(adc.DifferentiationError, match="no tangent"):
        adc.batched_jvp(with_max, (x,), (None,))


def test_the_tangent_of_a_reshaped_product_is_not_copied_and_a_stack_times_a_matrix_is_a_matmul():
    x, W = CASES[-1][1]
    _, types = prepare(written_product, (x, W), [0, 1])
    source = compile_derivative(written_product, types, "vjvp", [0, 1], load=False).source
    product = next(line for line in source.splitlines() if line.strip().startswith("dP = "))
    assert ".copy()" not in product, source
    assert "np.matmul(T.T, dA)" in source and "'ijz,jl->ilz'" not in source, source
    jit = compile_derivative(written_product, types, "vjvp", [0, 1], jit=True, load=False).source
    assert "adc_arrays.einsum('ijz,jl->ilz'" in jit  # Numba: the kernel


@pytest.mark.parametrize("spec, shapes, as_matmul", [
    ("ijz,jl->ilz", [(5, 3, 7), (3, 4)], True), ("jz,jl->lz", [(3, 7), (3, 4)], True),
    ("ijz,jl->izl", [(5, 3, 7), (3, 4)], False), ("ijz,lj->ilz", [(5, 3, 7), (4, 3)], False),
    ("vijz,vj->viz", [(5, 3, 4, 7), (5, 4)], False), ("ij,jk->ik", [(3, 4), (4, 5)], False),
    ("iiz,il->ilz", [(3, 3, 2), (3, 4)], False)])
def test_einsum_spelled_as_matmul_only_where_it_is_one(spec, shapes, as_matmul):
    from adc.prims.linalg import _einsum_render

    rng = np.random.default_rng(3)
    a, c = (rng.random(s) for s in shapes)
    text = _einsum_render(["a", "c"], {"spec": spec})
    assert text.startswith("np.matmul(") == as_matmul, text
    np.testing.assert_allclose(eval(text), np.einsum(spec, a, c), rtol=1e-14)

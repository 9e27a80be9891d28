"""Pytrees (JAX's convention): dicts, lists, tuples, namedtuples and dataclass instances of numbers
and arrays as arguments of every transform; derivatives come back in the same structure, checked
against central finite differences leaf by leaf, across modes and jit, and by
``<vjp(u), v> == <u, jvp(v)>``.  Inside the function, containers are indexed, unpacked and looped
over (the loops are unrolled: a container's length is part of its structure)."""
from __future__ import annotations

import numpy as np
import pytest

import adc
import tree_funcs as T
from fd import fd_jacobian_of
from adc.trees import flatten, unflatten

RTOL, ATOL = 1e-6, 1e-8


def fd_tree_grad(fn, args, argnum, h=1e-6):
    """Central differences of scalar ``fn`` with respect to every component of every leaf of
    ``args[argnum]``, in the argument's structure."""
    leaves, tree = flatten(args[argnum])
    grads = []
    for k, leaf in enumerate(leaves):
        arr = np.array(leaf, dtype=float)
        g = np.zeros_like(arr)
        for j in range(arr.size):
            def at(delta):
                bumped = arr.copy()
                bumped.flat[j] += delta
                new = list(leaves)
                new[k] = bumped if isinstance(leaf, np.ndarray) else float(bumped)
                call = list(args)
                call[argnum] = unflatten(tree, new)
                return fn(*call)
            g.flat[j] = (at(h) - at(-h)) / (2 * h)
        grads.append(g if isinstance(leaf, np.ndarray) else float(g))
    return unflatten(tree, grads)


def assert_tree_close(got, want, what=""):
    got_leaves, got_tree = flatten(got)
    want_leaves, want_tree = flatten(want)
    assert got_tree == want_tree, f"{what}: structure {got_tree} != {want_tree}"
    for k, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        assert type(g) is type(w) or isinstance(g, np.ndarray) == isinstance(w, np.ndarray), (what, k, type(g), type(w))
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7, err_msg=f"{what} leaf {k}")


rng = np.random.default_rng(7)
PARAMS = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=4), "b2": 0.3}
X, Y = rng.normal(size=(5, 3)), rng.normal(size=5)
LAYERS = [(rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3)) for _ in range(3)]

CASES = [
    ("dict_mlp", T.mlp_loss, (PARAMS, X, Y)),
    ("list_of_tuples_loop", T.layers_loss, (LAYERS, rng.normal(size=3))),
    ("namedtuple", T.distance, (T.Point(1.0, 2.0), T.Point(4.0, 6.5))),
    ("namedtuple_unpacked", T.unpacked_point, (T.Point(1.5, -2.0),)),
    ("dataclass", T.configured, (T.Config(2.0, rng.normal(size=3)), rng.normal(size=3))),
    ("dict_items_loop", T.over_items, ({"a": rng.normal(size=2), "bb": rng.normal(size=(2, 2))},)),
    ("dict_values_and_keys", T.over_values_and_keys, ({"a": rng.normal(size=2), "b": rng.normal(size=3)},)),
    ("zip_enumerate_reversed", T.zipped, ([rng.normal(size=2) for _ in range(3)], [rng.normal(size=2) for _ in range(3)])),
    ("nested", T.nested, ({"inner": (rng.normal(size=3), {"v": rng.normal(size=3)}), "c": 1.5},)),
    ("helper_takes_dict", T.with_helper, (PARAMS, X, Y)),
    ("tuple_state_loop", T.data_dependent_tuple_loop, ({"a": rng.normal(size=3), "b": 0.4}, rng.normal(size=3))),
    # comprehensions and sum/max/min over containers (unrolled while compiling)
    ("l2_penalty_generator", T.l2_penalty, ({"a": rng.normal(size=2), "b": rng.normal(size=(2, 3))},)),
    ("list_comprehension_stacked", T.stacked_rows, ([rng.normal(size=2) for _ in range(3)], 0.7)),
    ("comprehension_over_range", T.comprehension_over_range, (1.5,)),
    ("nested_comprehension_with_static_filter", T.nested_comprehension, (LAYERS[:2],)),
    # helpers called with keywords, keyword-only parameters, string options, *args and **kwargs
    ("keyword_and_star_calls", T.keyword_calls, (rng.normal(size=(2, 2)), rng.normal(size=2))),
]


@pytest.mark.parametrize("mode,jit", [("reverse", False), ("forward", False), ("reverse", True)],
                         ids=["reverse", "forward", "reverse-jit"])
@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_gradient_has_the_arguments_structure_and_matches_finite_differences(name, fn, args, mode, jit):
    value, grad = adc.value_and_grad(fn, mode=mode, jit=jit)(*args)
    assert np.isclose(value, fn(*args), rtol=1e-12)
    assert_tree_close(grad, fd_tree_grad(fn, args, 0), f"{name} {mode} jit={jit}")


def test_every_argument_at_once_and_int_data_keep_their_types():
    w = rng.normal(size=2)
    data = {"X": rng.normal(size=(3, 2)), "n": 2}
    g = adc.grad(T.with_data)(w, data)
    np.testing.assert_allclose(g, data["X"][0] + data["X"][1], rtol=1e-12)
    assert data["n"] == 2 and type(data["n"]) is int  # the caller's tree is untouched
    g0, g1 = adc.grad(T.mlp_loss, argnums=(0, 1))(PARAMS, X, Y)
    assert set(g0) == set(PARAMS) and list(g0) == list(PARAMS) and g1.shape == X.shape
    assert_tree_close(g0, fd_tree_grad(T.mlp_loss, (PARAMS, X, Y), 0))
    np.testing.assert_allclose(g1, fd_tree_grad(T.mlp_loss, (PARAMS, X, Y), 1), rtol=1e-5, atol=1e-7)


def test_float32_leaves_keep_their_dtype():
    p32 = {k: (np.asarray(v, dtype=np.float32) if isinstance(v, np.ndarray) else v) for k, v in PARAMS.items()}
    g = adc.grad(T.mlp_loss)(p32, X, Y)
    assert g["W1"].dtype == np.float32 and type(g["b2"]) is float


def test_runners_are_keyed_by_structure_and_shapes():
    f = adc.grad(T.over_values_and_keys)
    for d in ({"a": np.ones(2)}, {"a": np.ones(2), "b": np.ones(3)}, {"a": np.ones(4), "b": np.ones(3)},
              {"b": np.ones(3), "a": np.ones(2)}):
        assert_tree_close(f(d), fd_tree_grad(T.over_values_and_keys, (d,), 0), str({k: v.shape for k, v in d.items()}))


def test_jvp_and_vjp_take_and_return_trees_and_are_adjoint():
    tangent = {k: rng.normal(size=np.shape(v)) if np.shape(v) else 0.7 for k, v in PARAMS.items()}
    primal_out, tangent_out = adc.jvp(T.mlp_loss, (PARAMS, X, Y), (tangent, np.zeros_like(X), np.zeros_like(Y)))
    out, pullback = adc.vjp(T.mlp_loss, PARAMS, X, Y)
    assert np.isclose(primal_out, out) and np.isclose(out, T.mlp_loss(PARAMS, X, Y))
    u = 1.7
    cts = pullback(u)
    assert isinstance(cts[0], dict) and list(cts[0]) == list(PARAMS)
    inner = sum(np.sum(cts[0][k] * tangent[k]) for k in PARAMS)
    assert np.isclose(inner, u * tangent_out, rtol=1e-10)


def test_vector_output_jacobians_of_a_tree_agree():
    params = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=2)}
    x = rng.normal(size=3)
    jf, jr = adc.jacfwd(T.vector_out)(params, x), adc.jacrev(T.vector_out)(params, x)
    assert jf["W"].shape == (2, 2, 3) and jf["b"].shape == (2, 2)
    assert_tree_close(jf, jr)
    h = 1e-6
    for k in params:
        for j in range(params[k].size):
            plus = {n: v.copy() for n, v in params.items()}
            minus = {n: v.copy() for n, v in params.items()}
            plus[k].flat[j] += h
            minus[k].flat[j] -= h
            col = (T.vector_out(plus, x) - T.vector_out(minus, x)) / (2 * h)
            np.testing.assert_allclose(jf[k].reshape(2, -1)[:, j], col, rtol=1e-5, atol=1e-8)


def test_generated_code_names_the_leaves():
    text = adc.source(T.layers_loss, at=(LAYERS[:1], np.ones(3)))
    assert "def layers_loss_grad(layers_0_0, layers_0_1, x):" in text
    assert "return glayers_0_0, glayers_0_1" in text


@pytest.mark.parametrize("fn,args,message", [
    (T.missing_key, ({"a": 1.0},), r"tree_funcs.py:\d+:\d+: the dict has no key 'nope' \(its keys: 'a'\)"),
    (T.break_in_container_loop, ([np.ones(2), np.ones(2)],), r"`break` or `continue` in a loop over a list"),
    (T.returns_dict_value, ({"a": 1.0},), r"grad needs returns_dict_value to return a scalar, but it returns a dict "
                                          r"with keys 'a'; use adc.vjp or adc.jacrev"),
])
def test_unsupported_uses_of_containers_are_located_errors(fn, args, message):
    with pytest.raises(adc.AdcError, match=message):
        adc.grad(fn)(*args)


def test_boundary_errors_name_the_leaf():
    with pytest.raises(adc.AdcError, match=r"argument params\['W'\] of mlp_loss is complex"):
        adc.grad(T.mlp_loss)({**PARAMS, "W": 1j}, X, Y)
    with pytest.raises(adc.AdcError, match="a dict with a key of type int"):
        adc.grad(T.over_items)({1: np.ones(2)})
    with pytest.raises(adc.AdcError, match="the tangent of params must have the structure of params"):
        adc.jvp(T.mlp_loss, (PARAMS, X, Y), (np.ones(3), X, Y))
    with pytest.raises(adc.AdcError, match="the vector v of hvp must have the structure of params"):
        adc.hvp(T.mlp_loss)(PARAMS, X, Y, np.ones(3))


def test_hessian_of_a_dict_of_parameters():
    """JAX's structure (a dict of dicts, ``H[k][m]`` of shape ``params[k].shape + params[m].shape``),
    against central differences of the (dict) gradient for one block, symmetric."""
    H = adc.hessian(T.mlp_loss)(PARAMS, X, Y)
    assert list(H) == list(PARAMS) and all(list(row) == list(PARAMS) for row in H.values())
    for k in PARAMS:
        for m in PARAMS:
            assert np.shape(H[k][m]) == np.shape(PARAMS[k]) + np.shape(PARAMS[m])
    np.testing.assert_allclose(H["W1"]["b1"], np.moveaxis(H["b1"]["W1"], 0, -1), rtol=1e-10, atol=1e-12)
    shifted = lambda b1: adc.grad(T.mlp_loss)({**PARAMS, "b1": b1}, X, Y)["W1"]  # noqa: E731
    np.testing.assert_allclose(H["W1"]["b1"], fd_jacobian_of(shifted, PARAMS["b1"]), rtol=1e-5, atol=1e-7)


def test_outputs_that_are_trees_come_back_in_their_structure():
    params = {"a": 1.5, "b": np.array([2.0, 3.0])}
    tangent = {"a": 1.0, "b": np.array([0.0, 1.0])}
    out, t_out = adc.jvp(T.returns_dict_value, (params,), (tangent,))
    assert_tree_close(out, params)
    assert_tree_close(t_out, tangent)
    out, pullback = adc.vjp(T.returns_dict_value, params)
    (ct,) = pullback({"a": 2.0, "b": np.array([5.0, 7.0])})
    assert_tree_close(ct, {"a": 2.0, "b": np.array([5.0, 7.0])})
    with pytest.raises(adc.AdcError, match="must have the structure of the function's output .a dict with keys 'a', 'b'"):
        pullback({"a": 2.0})


@pytest.mark.parametrize("mode,jit", [("reverse", False), ("forward", False), ("reverse", True)])
def test_has_aux_returns_the_auxiliary_tree_beside_the_gradient(mode, jit):
    params = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=2)}
    x = rng.normal(size=3)
    loss, aux = T.loss_with_aux(params, x)
    grad, got_aux = adc.grad(T.loss_with_aux, has_aux=True, mode=mode, jit=jit)(params, x)
    (value, aux2), grad2 = adc.value_and_grad(T.loss_with_aux, has_aux=True, mode=mode, jit=jit)(params, x)
    assert np.isclose(value, loss)
    for a in (got_aux, aux2):
        assert list(a) == ["pred", "norm"] and type(a["norm"]) is float
        np.testing.assert_allclose(a["pred"], aux["pred"], rtol=1e-12)
        assert np.isclose(a["norm"], aux["norm"])
    want = fd_tree_grad(lambda p, x: T.loss_with_aux(p, x)[0], (params, x), 0)
    assert_tree_close(grad, want)
    assert_tree_close(grad2, want)


def test_has_aux_needs_a_pair():
    with pytest.raises(adc.AdcError, match=r"has_aux=True needs not_a_pair to return a pair \(value, aux\)"):
        adc.grad(T.not_a_pair, has_aux=True)({"b": np.ones(2)}, np.ones(2))


def test_argnames_select_parameters_by_name():
    x = rng.normal(size=3)
    assert adc.grad(T.scaled_sum, argnames="scale")(x, 2.0, 3.0) == pytest.approx(np.sum(x))
    g_offset, g_scale = adc.grad(T.scaled_sum, argnames=("offset", "scale"))(x, 2.0, 3.0)
    assert g_offset == pytest.approx(6.0) and g_scale == pytest.approx(np.sum(x))
    with pytest.raises(adc.AdcError, match="argnames='nope' must name parameters of scaled_sum"):
        adc.grad(T.scaled_sum, argnames="nope")
    with pytest.raises(adc.AdcError, match="either argnums or argnames"):
        adc.grad(T.scaled_sum, argnums=1, argnames="scale")


def test_comprehensions_that_cannot_be_unrolled():
    """Over `range(n)`, or with a filter on data: a list whose length is known only at run time
    (tests/test_dynamic_lists.py); a filter on arrays is Python's ambiguous truth value, located."""
    assert adc.grad(T.comprehension_over_data)(1.0, 3) == pytest.approx(3.0)
    np.testing.assert_array_equal(adc.grad(T.comprehension_filter_on_data)(np.array([1.5, -2.0, 0.5])), [1.0, 0.0, 1.0])
    with pytest.raises(adc.AdcError, match=r"tree_funcs.py:\d+:\d+: the truth value of an array is ambiguous"):
        adc.grad(T.comprehension_filter_on_data)([np.ones(2), np.zeros(2)])


def test_a_failure_of_the_generated_code_is_located_with_tree_arguments():
    """The user's function is rerun with its containers rebuilt from the leaves (not the leaves)
    to tell whether it fails itself."""
    from adc.failures import user_arguments
    from adc.pipeline import compile_derivative
    from adc.arguments import prepare

    args, types = prepare(T.mlp_loss, (PARAMS, X, Y), [0])
    compiled = compile_derivative(T.mlp_loss, types, "grad", list(range(4)))
    leaves = [*flatten(args[0])[0], X, Y]
    rebuilt = user_arguments(compiled, leaves)
    assert list(rebuilt[0]) == list(PARAMS) and rebuilt[1] is X and rebuilt[2] is Y
    assert np.isclose(T.mlp_loss(*rebuilt), T.mlp_loss(PARAMS, X, Y))


@pytest.mark.parametrize("mode,jit", [("reverse", False), ("forward", False), ("reverse", True)])
def test_np_array_of_nested_lists(mode, jit):
    assert adc.grad(T.nested_list_array, mode=mode, jit=jit)(1.5) == pytest.approx(2 * 1.5 + 4 * 1.5 ** 3)
    y = np.array([0.3, 0.7])
    h = 1e-6
    want = (T.rotation(0.4 + h, y) - T.rotation(0.4 - h, y)) / (2 * h)
    assert adc.grad(T.rotation, mode=mode, jit=jit)(0.4, y) == pytest.approx(want, rel=1e-7)

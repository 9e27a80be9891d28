"""The examples written as practitioners write them (issue 11): examples/params_mlp.py (a list of
(W, b) pairs, a `for W, b in layers` loop, a generator-expression penalty),
examples/char_rnn.py (a dict of parameters, hidden state rebound at every time step, reverse mode
under jit) and examples/det_minors.py (the recursive determinant by minors, reverse mode).  Their
gradients against central finite differences leaf by leaf, both modes, and their training runs."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import adc
from adc.trees import flatten, unflatten

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


params_mlp = _load("params_mlp")
char_rnn = _load("char_rnn")
det_minors = _load("det_minors")


def fd_tree(f, tree, h=1e-6):
    leaves, structure = flatten(tree)
    out = []
    for k, leaf in enumerate(leaves):
        g = np.zeros_like(leaf)
        for j in range(leaf.size):
            plus, minus = [x.copy() for x in leaves], [x.copy() for x in leaves]
            plus[k].flat[j] += h
            minus[k].flat[j] -= h
            g.flat[j] = (f(unflatten(structure, plus)) - f(unflatten(structure, minus))) / (2 * h)
        out.append(g)
    return unflatten(structure, out)


def assert_tree_close(got, want):
    got_leaves, got_tree = flatten(got)
    want_leaves, want_tree = flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_params_mlp_gradient(mode):
    X, y = params_mlp.spirals(4)
    layers = params_mlp.init([2, 3, 3, 2])
    grads = adc.grad(params_mlp.loss, mode=mode)(layers, X, y)
    assert isinstance(grads, list) and all(isinstance(pair, tuple) for pair in grads)
    assert_tree_close(grads, fd_tree(lambda ls: params_mlp.loss(ls, X, y), layers))


def test_params_mlp_trains():
    _, history, accuracy = params_mlp.train(quiet=True)
    assert history[-1] < 0.25 * history[0] and accuracy >= 0.95, (history[0], history[-1], accuracy)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_char_rnn_gradient(mode):
    vocabulary = "abc"
    encoded = char_rnn.one_hot("abcab", vocabulary)
    params = char_rnn.init(3, 4, seed=3)
    h0 = np.zeros(4)
    grads = adc.grad(char_rnn.loss, mode=mode)(params, encoded[:-1], encoded[1:], h0)
    assert list(grads) == list(params)
    assert_tree_close(grads, fd_tree(lambda p: char_rnn.loss(p, encoded[:-1], encoded[1:], h0), params))


def test_char_rnn_trains_in_reverse_mode():
    _, history = char_rnn.train(steps=40, jit=False, quiet=True)
    assert history[-1] < 0.25 * history[0], (history[0], history[-1])


def test_det_minors_gradient_is_jacobis_formula():
    """The recursive determinant (examples/det_minors.py) in reverse mode: det(A) inv(A)^T, and
    central finite differences on a 4 x 4 matrix."""
    assert det_minors.main(n=6, quiet=True) < 1e-12
    A = np.random.default_rng(7).standard_normal((4, 4))
    g = adc.grad(det_minors.det)(A)
    want = np.zeros_like(A)
    for k in range(A.size):
        e = np.zeros_like(A)
        e.flat[k] = 1e-6
        want.flat[k] = (det_minors.det(A + e) - det_minors.det(A - e)) / 2e-6
    np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8)

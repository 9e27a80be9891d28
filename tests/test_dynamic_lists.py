"""Lists appended in loops whose trip count is known only at run time (issue 11, item 5): the RNN
pattern `hs = []` ... `hs.append(h)` in `for t in range(n)` / `while`, read by `np.stack`, indexing,
`len`, loops, `sum`, `zip`; and comprehensions over `range(n)` or with filters on data.  Each
program: its value, and its gradient against central finite differences in both modes, forward ==
reverse, the caller's arrays unchanged; each also in forward mode under jit, and a character-level
RNN over 30 steps in both modes under jit (Numba once typed a function's second `[]`, the tangent
list beside the list, as an array: `dhs.append` did not compile); second derivatives; the generated
code; and the refusals, at the user's line."""
from __future__ import annotations

import numpy as np
import pytest

import adc
import dynamic_lists_funcs as F
import language_funcs as L
from test_array_state import fd_gradient
from test_language import check_gradient

RNG = np.random.default_rng(11)
XS = RNG.normal(size=(6, 2))
W = np.array([[0.5, -0.3], [0.2, 0.4]])
X = RNG.normal(size=7)
A = RNG.normal(size=(3, 4))
V, H, T = 6, 5, 30
PARAMS = {"Wxh": RNG.normal(size=(H, V)) * 0.5, "Whh": RNG.normal(size=(H, H)) * 0.5,
          "Why": RNG.normal(size=(V, H)) * 0.5}
SEQ = RNG.integers(0, V, size=T + 1)
INPUTS, TARGETS = np.eye(V)[SEQ[:-1]], SEQ[1:]

CASES = [
    (F.rnn, (XS, W), 0), (F.rnn, (XS, W), 1),
    (F.rnn_steps, (XS, W, 5), 1), (F.rnn_steps, (XS, W, 1), 1),
    (F.strided, (X, 0.7), 0), (F.strided, (X, 0.7), 1),
    (F.long_constant_range, (X[:3],), 0),
    (F.recurrence, (X[:3], 0.8), 0), (F.recurrence, (X[:3], 0.8), 1),
    (F.appended_if, (X, 0.9), 0), (F.appended_if, (X, 0.9), 1), (F.appended_if, (X, -50.0), 1),
    (F.nested, (A, X[:4]), 0), (F.nested, (A, X[:4]), 1),
    (F.grown_in_while, (0.3, 2.0), 0), (F.grown_in_while, (0.3, 0.1), 0),
    (F.pairs, (XS, W), 0), (F.pairs, (XS, W), 1),
    (F.through_helper, (XS, W), 1),
    (F.numpy_reads, (XS, W), 0), (F.numpy_reads, (XS, W), 1),
    (F.comprehensions, (X, 0.7), 0), (F.comprehensions, (X, 0.7), 1),
]


def _id(case):
    fn, args, argnum = case
    return f"{fn.__name__}-{argnum}-{args[-1] if np.isscalar(args[-1]) else ''}"


@pytest.mark.parametrize("fn,args,argnum", CASES, ids=[_id(c) for c in CASES])
def test_gradient(fn, args, argnum):
    grads = [check_gradient(fn, args, mode, argnums=argnum) for mode in ("reverse", "forward")]
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-14, err_msg="forward != reverse")


@pytest.mark.parametrize("fn,args,argnum", CASES, ids=[_id(c) for c in CASES])
def test_gradient_forward_jit(fn, args, argnum):
    """Forward mode under jit == plain forward mode == reverse mode == central differences."""
    got = check_gradient(fn, args, "forward", jit=True, argnums=argnum)
    for mode in ("forward", "reverse"):
        plain = adc.grad(fn, argnums=argnum, mode=mode)(*args)
        np.testing.assert_allclose(got, plain, rtol=1e-12, atol=1e-14, err_msg=f"forward jit != {mode}")


def squares(x, n):
    """Numbers appended in a loop of a run-time length (the program of the report)."""
    hs = []
    for i in range(n):
        hs.append(x[i] * x[i])
    return sum(hs)


def odd_multiples(x, n):
    """A generator over `range(1, n, 2)`: a list adc makes and appends in a loop."""
    return sum(x * k for k in range(1, n, 2))


def copied(a, n):
    """Items read from an array; no item at all for n = 0."""
    hs = []
    for i in range(n):
        hs.append(a[i])
    return sum(hs, 0.0) + np.sum(a * a)


def counted(x, n):
    """Two lists, one of ints (a function's second `[]` was typed as an array, reverse mode too)."""
    hs = []
    ks = []
    for i in range(n):
        hs.append(x[i] * 2.0)
        ks.append(i)
    return sum(hs) * len(ks)


P = np.array([0.3, -0.7, 0.9])


@pytest.mark.parametrize("fn,args,value,grad", [
    (squares, (P, 3), 1.39, 2 * P),
    (odd_multiples, (0.7, 6), 6.3, 9.0),  # (1 + 3 + 5) x
    (copied, (P, 0), 1.39, 2 * P),
    (copied, (P, 2), 0.99, 2 * P + [1.0, 1.0, 0.0]),
    (counted, (P, 3), 3.0, np.full(3, 6.0)),  # 2 (x0 + x1 + x2) * 3
], ids=["squares", "odd-multiples", "copied-none", "copied-two", "counted"])
def test_appended_in_loop_jit(fn, args, value, grad):
    """Forward mode under jit == plain forward == reverse (plain and jit) == central differences
    == the worked numbers."""
    grads = [check_gradient(fn, args, mode, jit) for mode, jit in
             (("forward", True), ("forward", False), ("reverse", False), ("reverse", True))]
    for g in grads:
        np.testing.assert_allclose(g, grads[0], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grads[0], grad, rtol=1e-13)
    for jit in (False, True):
        np.testing.assert_allclose(adc.value_and_grad(fn, mode="forward", jit=jit)(*args)[0], value, rtol=1e-13)


def fd_of_dict(fn, params, *rest):
    return {k: fd_gradient(lambda v, k=k: fn({**params, k: v}, *rest), (params[k],), 0) for k in params}


def test_char_rnn_jit():
    """A character-level RNN over 30 steps (states and probabilities kept in lists, read by
    `enumerate`, `np.stack`, `hs[-1]`, `len`): both modes, plain and under jit, against finite
    differences and one another."""
    want = fd_of_dict(F.char_rnn, PARAMS, INPUTS, TARGETS)
    got = []
    for mode, jit in (("reverse", False), ("forward", False), ("reverse", True), ("forward", True)):
        given = {k: v.copy() for k, v in PARAMS.items()}
        value, grads = adc.value_and_grad(F.char_rnn, mode=mode, jit=jit)(given, INPUTS, TARGETS)
        np.testing.assert_allclose(value, F.char_rnn(PARAMS, INPUTS, TARGETS), rtol=1e-12)
        for k in PARAMS:
            np.testing.assert_allclose(grads[k], want[k], rtol=1e-6, atol=1e-7, err_msg=f"{k}, {mode}, jit={jit}")
            np.testing.assert_array_equal(given[k], PARAMS[k], err_msg="the caller's parameters changed")
        got.append(grads)
    for grads in got[1:]:
        for k in PARAMS:
            np.testing.assert_allclose(grads[k], got[0][k], rtol=1e-11, atol=1e-14)


def test_array_result():
    """The stacked states as the result: <vjp(u), v> == <u, jvp(v)>, jacfwd == jacrev == FD."""
    v, u = RNG.normal(size=W.shape), RNG.normal(size=(2, XS.shape[0]))
    out, tangent = adc.jvp(F.states, (XS, W), (np.zeros_like(XS), v))
    value, pullback = adc.vjp(F.states, XS, W)
    np.testing.assert_allclose(out, F.states(XS, W), rtol=1e-12)
    np.testing.assert_allclose(np.sum(pullback(u)[1] * v), np.sum(u * tangent), rtol=1e-10)
    jac = adc.jacfwd(F.states, argnums=1)(XS, W)
    np.testing.assert_allclose(adc.jacrev(F.states, argnums=1)(XS, W), jac, rtol=1e-12, atol=1e-14)
    e = np.zeros_like(W)
    e[1, 0] = 1e-6
    np.testing.assert_allclose(jac[..., 1, 0], (F.states(XS, W + e) - F.states(XS, W - e)) / 2e-6, rtol=1e-6, atol=1e-8)


def test_second_derivatives():
    """Forward over reverse (hessian, hvp, jacfwd of grad) and reverse over reverse (the gradient's
    list of its items' adjoints gets an adjoint list of its own) agree."""
    hess = adc.hessian(F.rnn, argnums=1)(XS, W)
    np.testing.assert_allclose(adc.jacfwd(adc.grad(F.rnn, argnums=1), argnums=1)(XS, W), hess, rtol=1e-12)
    grad = adc.grad(F.rnn, argnums=1)
    e = np.zeros_like(W)
    e[0, 1] = 1e-5
    np.testing.assert_allclose(hess[..., 0, 1], (grad(XS, W + e) - grad(XS, W - e)) / 2e-5, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(adc.hvp(F.rnn, argnums=1)(XS, W, e * 1e5), hess[..., 0, 1], rtol=1e-12)
    second = adc.grad(adc.grad(F.strided, argnums=1), argnums=1)(X, 0.7)
    assert second == pytest.approx(adc.hessian(F.strided, argnums=1)(X, 0.7), rel=1e-12)


SECOND = [(F.rnn, (XS, W), 1), (F.recurrence, (X[:3], 0.8), 0), (F.appended_if, (X, 0.9), 0),
          (F.nested, (A, X[:4]), 1), (F.grown_in_while, (0.3, 2.0), 0), (F.pairs, (XS, W), 0),
          (F.numpy_reads, (XS, W), 1), (F.comprehensions, (X, 0.7), 0)]


@pytest.mark.parametrize("fn,args,argnum", SECOND, ids=[_id(c) for c in SECOND])
def test_reverse_over_reverse_equals_forward_over_reverse(fn, args, argnum):
    hess = adc.hessian(fn, argnums=argnum)(*args)
    np.testing.assert_allclose(adc.jacrev(adc.grad(fn, argnums=argnum), argnums=argnum)(*args), hess,
                               rtol=1e-11, atol=1e-13)


def test_generated_code():
    """The list stays a list (`hs.append`, a loop, no unrolling); the reverse sweep keeps one
    adjoint per item and pops them as the loop runs backwards; small constant loops still unroll."""
    src = adc.source(F.rnn, argnums=1, at=(XS, W))
    for line in ("hs = []", "hs.append(h_1)", "v13 = np.stack(hs)", "ghs = [np.zeros_like(v) for v in hs]",
                 "adc_arrays.add_rows(ghs, gv13)", "ghs_item = ghs.pop()", "gh_1 = gh + ghs_item",
                 "for t in range(v4 - 1, -1, -1):"):
        assert line in src, line
    long = adc.source(F.long_constant_range, at=(X[:3],))
    lines = [line.strip() for line in long.splitlines()]
    assert lines.count("for t in range(40):") == 1 and len(lines) < 80
    short = adc.source(L.rnn_states_stacked, at=(W, X[:3]))
    assert "append" not in short and "for t in" not in short


@pytest.mark.parametrize("fn,line,message", [
    (F.made_in_loop, "row.append(x[j] * x[i])", "`row` is made inside a loop and appended in a loop within it"),
    (F.written_after_append, "hs.append(h)", "an array appended to `hs` is written after the append"),
    (F.read_before_append, "prev = hs[t - 1] if t > 0 else 0.0", "before adc has seen what is appended to it"),
    (F.sliced, "return sum(hs[1:])", "slicing `hs`, a list appended in a loop"),
    (F.returned, "return hs", "`return` of `hs`, a list appended in a loop"),
    (F.mixed_items, "hs.append(x[t])", "`hs` holds 1-D float64 arrays; this appends float numbers"),
    (F.rebound_in_loop, "for t in range(x.shape[0]):", "`gs` is rebound inside this loop"),
    (F.used_after_branch, "return sum(hs)", "`hs` is a list appended in a loop on one path of a branch"),
])
def test_refused(fn, line, message):
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn)(X)
    text = str(info.value)
    assert message in text and line in text and "dynamic_lists_funcs.py:" in text and "hint:" in text, text


def test_checkpointed_loop_that_appends_refused():
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(F.rnn, argnums=1, checkpoints=2)(XS, W)
    assert "a checkpointed loop may not append to a list" in str(info.value)


def test_language_md_listing(tmp_path, monkeypatch):
    """The RNN of docs/language.md#lists-appended-in-loops and its gradient code are real."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text()
    section = page[page.index("## Lists appended in loops"):]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    (tmp_path / "rnn_doc.py").write_text(blocks[0])
    monkeypatch.syspath_prepend(str(tmp_path))
    import rnn_doc

    xs, w = np.array([[0.5, -1.0], [0.3, 0.8], [-0.2, 0.1]]), np.array([[0.5, -0.3], [0.2, 0.4]])
    assert adc.source(rnn_doc.rnn, argnums=1, at=(xs, w)).split("\n\n\n", 1)[1] == blocks[1]
    shown = np.array(eval(blocks[2].split("\n", 1)[1].replace("array", "")))
    for mode, jit in (("reverse", False), ("forward", False)):
        np.testing.assert_allclose(adc.grad(rnn_doc.rnn, argnums=1, mode=mode, jit=jit)(xs, w), shown, rtol=1e-7)

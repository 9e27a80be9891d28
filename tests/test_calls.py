"""User functions that stay functions (adc/calls.py, adc/frontend_calls.py): direct and mutual
recursion and helpers called from many sites, in both modes, against central finite differences,
forward == reverse, <vjp(u), v> == <u, jvp(v)>, and the structure of the generated module."""
import importlib
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import adc
from call_funcs import (eight_sites, few_sites, in_branch, in_loop, in_while, int_recursion, is_even, many_sites,
                        mutual_a, mutual_b, pair_loss, pw, rec_loss, rec_while, recursive_in_loop, sin_chain, three_deep,
                        through_kept_call, tree_loss, vec3, vec_loss, written_after, written_result)
from fd import assert_close_seq, fd_grad, fd_jacobian_of

# the GradBench eval's determinant by minors (recursive, with np.concatenate minors), from its package
_EVALS = Path(__file__).resolve().parent.parent / "benchmarks" / "gradbench" / "evals"
_spec = importlib.util.spec_from_file_location("gradbench_evals", _EVALS / "__init__.py",
                                               submodule_search_locations=[str(_EVALS)])
sys.modules["gradbench_evals"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sys.modules["gradbench_evals"])
det = importlib.import_module("gradbench_evals.det").det

SCALAR_CASES = [
    (pw, (1.3, 4)), (pw, (-0.7, 0)), (is_even, (0.7, 5)), (is_even, (0.4, 2)), (pair_loss, (0.3, 3)),
    (in_loop, (0.4, 4)), (in_while, (0.4, 3)), (in_branch, (0.8, 3)), (in_branch, (-0.8, 3)),
    (many_sites, (0.3, 0.6)), (few_sites, (0.3, 0.6)), (recursive_in_loop, (1.5, 3)), (mutual_a, (1.5, 3)),
    (mutual_b, (1.5, 4)), (int_recursion, (1.3, 9)), (rec_while, (0.4, 3)), (tree_loss, (0.6, 3)),
]


@pytest.mark.parametrize("fn, args", SCALAR_CASES, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_scalar_recursion_matches_finite_differences(fn, args, mode):
    x, rest = args[0], args[1:]
    got = adc.grad(fn, mode=mode)(*args)
    want = fd_grad(lambda v: fn(v, *rest), (x,))
    assert_close_seq((got,), want, rtol=1e-5)


def test_worked_numbers():
    """d/dx x**4 = 4 x**3; the mutual recursion is_even(x, 2) = sin(2 x) has derivative 2 cos(2 x)."""
    assert adc.grad(pw)(1.5, 4) == pytest.approx(4 * 1.5 ** 3, rel=1e-14)
    assert adc.grad(is_even)(0.3, 2) == pytest.approx(2 * np.cos(0.6), rel=1e-14)
    assert adc.grad(is_even, mode="forward")(0.3, 2) == pytest.approx(2 * np.cos(0.6), rel=1e-14)


@pytest.mark.parametrize("fn, extra", [(vec_loss, (3,)), (written_after, ()), (written_result, ())],
                         ids=["vec_loss", "written_after", "written_result"])
def test_array_recursion_both_modes(fn, extra):
    x = np.array([0.3, -0.5, 0.8])
    before = x.copy()
    want = fd_jacobian_of(lambda v: fn(v, *extra), x)
    reverse = adc.grad(fn)(x, *extra)
    forward = adc.grad(fn, mode="forward")(x, *extra)
    np.testing.assert_allclose(reverse, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(x, before)  # the caller's array is unchanged


def test_det_by_minors_reverse_mode():
    """The recursive determinant: its gradient is det(A) inv(A)^T."""
    A = np.random.default_rng(3).standard_normal((5, 5))
    g = adc.grad(det)(A)
    np.testing.assert_allclose(g, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-9, atol=1e-12)
    B = A[:3, :3].copy()
    np.testing.assert_allclose(adc.grad(det, mode="forward")(B), adc.grad(det)(B), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(adc.grad(det)(B), fd_jacobian_of(det, B), rtol=1e-6, atol=1e-8)


def test_vjp_and_jvp_are_adjoint():
    x = np.array([0.3, -0.5, 0.8])
    u = np.array([0.2, 1.1, -0.4])
    v = np.array([-0.7, 0.5, 0.9])
    y, pullback = adc.vjp(vec3, x)
    y2, jv = adc.jvp(vec3, (x,), (v,))
    np.testing.assert_allclose(y, vec3(x))
    np.testing.assert_allclose(y2, vec3(x))
    (ux,) = pullback(u)
    assert np.dot(ux, v) == pytest.approx(np.dot(u, jv), rel=1e-12)
    e = np.zeros(3)
    e[1] = 1e-6
    np.testing.assert_allclose(jv, sum(v[k] * (vec3(x + np.eye(3)[k] * 1e-6) - vec3(x - np.eye(3)[k] * 1e-6)) / 2e-6
                                       for k in range(3)), rtol=1e-6)


def test_recursive_function_is_defined_once():
    """det_of_minor's forward and reverse parts are functions of the generated module, called
    recursively."""
    text = adc.source(det, at=(np.eye(3),), compact=True)
    assert text.count("def det_of_minor_fwd(") == 1 and text.count("def det_of_minor_bwd(") == 1
    assert "det_of_minor_fwd(" in text.split("def det_of_minor_fwd(")[1].split("def det_of_minor_bwd(")[0]  # calls itself
    assert text.index("def det_of_minor_bwd(") < text.index("def det_grad(")  # the main function comes last
    forward = adc.source(pw, mode="forward", at=(1.0, 3), compact=True)
    assert forward.count("def pw_jvp_1(") == 1
    # calls with no differentiated argument call the function itself (an int-valued recursion here)
    text = adc.source(int_recursion, at=(1.3, 9), compact=True)
    assert text.count("def halvings_1(n):") == 1 and "halvings_1(n // 2)" in text


def test_helper_called_from_many_sites_is_defined_once():
    """Ten calls, one forward and one reverse part per set of differentiated arguments (both, only the
    first, only the second: `helper(s, 0.5)`, `helper(0.25, s)`)."""
    text = adc.source(many_sites, at=(0.3, 0.6), compact=True)
    for part in ("fwd", "bwd"):
        assert len(re.findall(rf"^def helper_{part}(_\d)?\(", text, re.M)) == 3
        assert len(re.findall(rf"= helper_{part}(_\d)?\(", text)) == 10
    assert "def helper" not in adc.source(few_sites, at=(0.3, 0.6), compact=True)  # inlined as before


def test_jit_compiles_recursion_in_both_modes():
    """Numba compiles the recursive functions with the main one; in reverse mode their residuals go
    on the caller's tapes (calls.Stacks), a kept call inside a loop included."""
    assert adc.grad(pw, mode="forward", jit=True)(1.5, 4) == pytest.approx(4 * 1.5 ** 3, rel=1e-14)
    assert adc.grad(in_loop, jit=True)(0.4, 4) == pytest.approx(adc.grad(in_loop)(0.4, 4), rel=1e-14)


def test_jit_inlines_kept_helpers_and_second_derivatives_keep_them():
    """Numba takes the helper inlined again; forward over reverse keeps it a function (its parts'
    tangents, ``sq_fwd_jvp``): the same numbers."""
    x = 0.7
    assert "def sq_fwd(" in adc.source(eight_sites, at=(x,), compact=True)
    assert "def sq_fwd_jvp(" in adc.source(eight_sites, mode="hvp", at=(x,), compact=True)
    want = 2 * x + 4 * x ** 3 + 2 * (x + 1) + 2 * (x - 1) + 8 * x + 2 * np.sin(x) * np.cos(x)
    assert adc.grad(eight_sites)(x) == pytest.approx(want, rel=1e-13)
    assert adc.grad(eight_sites, jit=True)(x) == pytest.approx(want, rel=1e-13)
    want2 = 2 + 12 * x ** 2 + 2 + 2 + 8 + 2 * np.cos(2 * x)
    assert adc.hessian(eight_sites)(np.array(x)) == pytest.approx(want2, rel=1e-12)


SECOND_CASES = [(sin_chain, (0.7, 3)), (pw, (1.3, 4)), (is_even, (0.4, 3)), (pair_loss, (0.3, 3)), (in_loop, (0.4, 4)),
                (in_while, (0.4, 3)), (in_branch, (0.8, 3)), (rec_while, (0.4, 3)), (tree_loss, (0.6, 3)),
                (many_sites, (0.3, 0.6))]
SECOND_ORDER = {  # every way adc makes a second derivative of a scalar function of its first argument
    "hessian": lambda f: adc.hessian(f),
    "fwd_over_rev": lambda f: adc.grad(adc.grad(f), mode="forward"),
    "rev_over_rev": lambda f: adc.grad(adc.grad(f)),
    "fwd_over_fwd": lambda f: adc.grad(adc.grad(f, mode="forward"), mode="forward"),
    "rev_over_fwd": lambda f: adc.grad(adc.grad(f, mode="forward")),
    "hvp": lambda f: lambda x, *rest: adc.jvp(adc.grad(f), (x, *rest), (1.0, *[0.0] * len(rest)))[1],
    "jacfwd_jacrev": lambda f: adc.jacfwd(adc.jacrev(f)),
    "jacrev_jacrev": lambda f: adc.jacrev(adc.jacrev(f)),
}


@pytest.mark.parametrize("fn, args", SECOND_CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_second_derivatives_of_kept_calls(fn, args):
    """Recursion (direct, mutual, in loops, branches and `while`) and a helper kept for its many sites:
    the derivative programs' calls of f_fwd, f_bwd and f_jvp are differentiated again (f_fwd_jvp,
    f_bwd_bwd, f_jvp_fwd, ...) in every combination of modes, against central differences of the
    (separately tested) gradient, and all equal."""
    x, rest = float(args[0]), args[1:]
    gradient = adc.grad(fn)
    want = (gradient(x + 1e-5, *rest) - gradient(x - 1e-5, *rest)) / 2e-5
    got = {name: make(fn)(x, *rest) for name, make in SECOND_ORDER.items()}
    for name, value in got.items():
        assert value == pytest.approx(want, rel=1e-6, abs=1e-8), name
        assert value == pytest.approx(got["hessian"], rel=1e-12, abs=1e-13), name


def test_hessians_of_array_recursion():
    """The determinant by minors (arrays, `np.concatenate`, a loop of recursive calls) and an
    array-valued recursion: Hessians by the four Jacobian-of-Jacobian combinations, against central
    differences of the analytic gradient det(A) inv(A)^T, symmetric."""
    A = np.random.default_rng(5).standard_normal((3, 3))
    want = fd_jacobian_of(lambda M: np.linalg.det(M) * np.linalg.inv(M).T, A)
    H = adc.hessian(det)(A)
    np.testing.assert_allclose(H, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H.reshape(9, 9), H.reshape(9, 9).T, rtol=1e-12, atol=1e-13)
    for outer in (adc.jacfwd, adc.jacrev):
        for inner in (adc.jacfwd, adc.jacrev):
            np.testing.assert_allclose(outer(inner(det))(A), H, rtol=1e-12, atol=1e-13)
    x = np.array([0.3, -0.5, 0.8])
    H = adc.hessian(vec_loss)(x, 3)
    np.testing.assert_allclose(H, fd_jacobian_of(lambda v: adc.grad(vec_loss)(v, 3), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adc.jacrev(adc.grad(vec_loss))(x, 3), H, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(adc.hessian(written_after)(x), adc.jacrev(adc.grad(written_after))(x), rtol=1e-12)


def test_second_derivative_source_defines_each_part_once():
    """The Hessian-vector product's module: the tangents of the forward and reverse parts, each
    defined once and recursive, their tapes' tangent tapes passed by reference."""
    text = adc.source(sin_chain, mode="hvp", at=(0.7, 3), compact=True)
    assert text.count("def sin_chain_fwd_jvp(x, n, tape, itape, dx, dtape):") == 1
    assert text.count("def sin_chain_bwd_jvp(tape, itape, ct, dtape, dct):") == 1
    assert "Jacobian-vector product of sin_chain_fwd (forward mode" in text
    part = text.split("def sin_chain_fwd_jvp(")[1].split("def ")[0]
    assert "sin_chain_fwd_jvp(x, n - 1, tape, itape, dx, dtape)" in part and "dtape.append(" in part
    assert adc.source(sin_chain, mode="hvp", at=(0.7, 3), compact=True) == text


def test_second_derivatives_of_recursion_under_jit():
    """Numba compiles the second-order parts (forward over reverse, and reverse over reverse with
    adjoint tapes passed by reference); the plain module is another module (its functions are not
    replaced by Numba's)."""
    want = adc.hessian(sin_chain)(0.7, 3)
    assert adc.hessian(sin_chain, jit=True)(0.7, 3) == pytest.approx(want, rel=1e-12)
    assert adc.grad(adc.grad(sin_chain), jit=True)(0.7, 3) == pytest.approx(want, rel=1e-12)
    assert adc.hessian(sin_chain)(0.7, 3) == want


def test_numba_calls_get_typed_constants():
    """A kept call with a constant int argument (here the depth, folded) is written with a typed
    constant under jit: a literal-typed second version of a recursive function in Numba's cache
    crashed the next process that loaded it."""
    from adc.pipeline import compile_derivative
    from adc.types import FLOAT

    text = compile_derivative(three_deep, [FLOAT], "grad", [0], jit=True, load=False).source
    assert "sin_chain_fwd(x, np.int64(2), adc_stacks.borrowed(tape))" in text
    assert "sin_chain_fwd(x, 2)" in adc.source(three_deep, at=(0.7,), compact=True)


def test_jacfwd_through_a_kept_call_is_one_jvp_per_direction():
    """Vector forward mode would pass a batch of directions to the kept function's JVP, which takes
    one: the Jacobian is made one JVP per direction, equal to reverse mode's."""
    x = np.array([0.3, -0.5, 0.7])
    np.testing.assert_allclose(adc.jacfwd(through_kept_call)(x), adc.jacrev(through_kept_call)(x), rtol=1e-12)
    np.testing.assert_allclose(adc.jacrev(through_kept_call)(x), fd_jacobian_of(through_kept_call, x), rtol=1e-6)


def test_result_sharing_argument_memory_is_refused():
    with pytest.raises(adc.UnsupportedError, match="shares memory with its argument") as info:
        adc.grad(rec_loss)(np.ones(2), 2)
    assert "call_funcs.py" in str(info.value) and "copy()" in str(info.value)


def test_recursion_without_a_base_case_is_the_users_error():
    """adc compiles it (it stays a function); running it raises Python's RecursionError, reported at
    the user's line as the function's own failure."""
    from bad_inputs import recursive

    for mode in ("reverse", "forward"):
        with pytest.raises(adc.EvaluationError, match="RecursionError") as info:
            adc.grad(recursive, mode=mode)(2.0)
        assert "bad_inputs.py" in str(info.value) and "raised by recursive itself" in str(info.value)


def test_recursion_that_changes_argument_ranks_is_refused():
    """Each call adds an axis: every level is a new signature, refused after MAX_SIGNATURES."""
    from call_funcs import grows

    with pytest.raises(adc.UnsupportedError, match="calls itself with 8 different kinds of arguments") as info:
        adc.grad(grows)(np.ones(2), 3)
    assert "grows(x[None], n - 1)" in str(info.value) and "hint:" in str(info.value)


def test_helper_that_cannot_stand_alone_is_inlined():
    """Eight sites, but the helper needs its axis argument as a constant: inlined at every site, as
    before (found once, not tried again at every site)."""
    from call_funcs import axis_sites

    x = np.arange(4.0).reshape(2, 2) / 3.0
    np.testing.assert_allclose(adc.grad(axis_sites)(x), fd_jacobian_of(axis_sites, x), rtol=1e-6, atol=1e-8)
    assert "def axis_helper" not in adc.source(axis_sites, at=(x,), compact=True)


def test_two_hundred_sites_define_the_helper_once(tmp_path, monkeypatch):
    """benchmarks/bench_calls.py's program: one helper, 200 sites (its first-call time is in
    docs/performance.md, not asserted here)."""
    spec = importlib.util.spec_from_file_location(
        "bench_calls", Path(__file__).resolve().parent.parent / "benchmarks" / "bench_calls.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (tmp_path / "two_hundred_sites.py").write_text(bench.program(200))
    monkeypatch.syspath_prepend(str(tmp_path))
    from two_hundred_sites import helper, many

    got = adc.grad(many)(0.3, 0.2)
    assert got == pytest.approx(fd_grad(lambda x: many(x, 0.2), (0.3,))[0], rel=1e-5)
    text = adc.source(many, at=(0.3, 0.2), compact=True)  # with respect to x: y is data at some sites
    for part in ("fwd", "bwd"):  # one per set of differentiated arguments: (a,) and (a, b)
        assert len(re.findall(rf"^def helper_{part}(_\d)?\(", text, re.M)) == 2
        assert len(re.findall(rf"= helper_{part}(_\d)?\(", text)) == 200
    want = (helper(0.3 + 1e-6, 0.2) - helper(0.3 - 1e-6, 0.2)) / 2e-6
    assert adc.grad(helper)(0.3, 0.2) == pytest.approx(want, rel=1e-6)


def test_code_for_numba_with_an_inlined_helper_whose_result_is_written():
    """The module jit=True compiles (the kept helper `ex` inlined again), run as plain Python here
    (Numba's compile time is not needed for the values): the same gradient as finite differences."""
    from adc.backend import load_module
    from adc.pipeline import compile_derivative
    from adc.types import type_of

    x = np.array([0.3, -0.5, 0.8])
    compiled = compile_derivative(written_result, [type_of(x)], "grad", [0], jit=True, load=False)
    assert "def ex_" not in compiled.source
    grad = load_module(compiled.source, compiled.program.name)[compiled.program.name]
    np.testing.assert_allclose(grad(x), fd_jacobian_of(written_result, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jit", [False, True])
def test_residuals_made_in_a_branch_of_a_kept_helper(jit):
    from call_funcs import branch_residual_sites

    x = np.array([-0.422, -0.198, -1.399, 0.994])
    grads = [adc.grad(branch_residual_sites, mode=mode, jit=jit)(x) for mode in ("reverse", "forward")]
    h = 1e-6
    fd = np.array([(branch_residual_sites(x + h * e) - branch_residual_sites(x - h * e)) / (2 * h) for e in np.eye(4)])
    for g in grads:
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)

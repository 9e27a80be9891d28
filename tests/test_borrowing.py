"""Kept recursive calls under jit=True pass their arguments without reference counts where that
is safe (adc/borrowing.py, adc/prims/stacks.py): a value every caller holds for the whole call that
the callee never lets escape, and the tapes of numbers the calls share, which are ``adc_stacks``
tapes instead of lists.  Checked: the values (Jacobi's formula, finite differences, jit=False, the
Hessian), what is and is not borrowed in the generated module, and the tapes themselves."""
import re
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import adc
from accumulate_funcs import det_by_index, ping_pong, tail_sums
from adc.pipeline import compile_derivative
from adc.prims.stacks import BoolTape, FloatTape, IntTape, borrowed, pop, push
from adc.types import type_of
from fd import fd_jacobian_of


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks" / "gradbench"))
from evals.det import det as det_by_bits  # noqa: E402  (GradBench's det: the free columns as bits)


def numba_source(fn, x, kind="grad"):
    return compile_derivative(fn, [type_of(x)], kind, [0], jit=True, load=False).source


def jacobi(A):
    return np.linalg.det(A) * np.linalg.inv(A).T


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6])
@pytest.mark.parametrize("fn", [det_by_bits, det_by_index])
def test_det_gradient_is_jacobis_formula(fn, n):
    """n = 6 pushes 1,237 numbers per gradient: the tape grows from 64 five times."""
    A = np.random.default_rng(n).standard_normal((n, n))
    got = adc.grad(fn, jit=True)(A)
    np.testing.assert_allclose(got, jacobi(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, adc.grad(fn)(A), rtol=1e-13, atol=1e-14)


def test_det_module_borrows_its_parameters_and_shares_one_float_tape():
    source = numba_source(det_by_bits, np.eye(4))
    assert "import adc.prims.stacks as adc_stacks" in source
    assert source.count("adc_stacks.FloatTape()") == 1 and "[0.0] * 0" not in source
    fwd = source[source.index("def det_of_minor_fwd"):source.index("def det_of_minor_bwd")]
    bwd = source[source.index("def det_of_minor_bwd"):source.index("def det_grad")]
    main = source[source.index("def det_grad"):]
    assert re.search(r"det_of_minor_fwd\(adc_stacks.borrowed\(A\), [^\n]*, adc_stacks.borrowed\(tape\)\)", fwd)
    assert re.search(r"det_of_minor_bwd\(adc_stacks.borrowed\(A\), [^\n]*, adc_stacks.borrowed\(tape\), "
                     r"[^\n]*, adc_stacks.borrowed\(gA\)\)", bwd)
    # the main function made the tape and gA, and holds them for the whole of each call (it pops the
    # tape after the forward call, and the reverse calls are in a loop it made both outside);
    # A is its parameter, which its caller holds
    assert main.count("adc_stacks.borrowed(tape)") == 2 and "adc_stacks.borrowed(gA)" in main
    assert "adc_stacks.borrowed(A)" in main and "any_layout" not in source
    # the shared tape's pushes and pops are written into the caller, not a method of the tape
    assert "adc_stacks.push(tape, v25)" in fwd and "adc_stacks.pop(tape)" in bwd
    assert ".append(" not in source and ".pop()" not in source


def test_an_argument_pushed_onto_a_tape_is_passed_counted():
    """``scaled_tail_sum`` pushes ``x[1:]``, a view of its argument, onto a tape the caller pops
    after the call returns: the view must keep its owner alive."""
    x = np.array([0.3, -0.7, 1.1, 0.45, 0.9])
    source = numba_source(tail_sums, x)
    assert "atape.append(np.ascontiguousarray(v5))" in source and "borrowed(x)" not in source
    got = adc.grad(tail_sums, jit=True)(x)
    np.testing.assert_allclose(got, fd_jacobian_of(tail_sums, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, adc.grad(tail_sums)(x), rtol=1e-13, atol=1e-14)


def scaled_sum(v, n):
    """A kept recursion on an array it never lets escape."""
    if n == 0:
        return np.sum(v * v)
    return v[0] * scaled_sum(v, n - 1)


def made_and_read_after(x):
    y = x * 2.0
    s = scaled_sum(y, 3)
    return s + np.sum(y)


def made_outside_a_loop(x):
    y = x * 2.0
    s = 0.0
    for i in range(3):
        s = s + scaled_sum(y, i)
    return s


def made_and_dropped(x):
    return scaled_sum(x * 2.0, 3)


@pytest.mark.parametrize("fn, fwd, bwd", [(made_and_read_after, "borrowed", "any_layout"),
                                           (made_outside_a_loop, "borrowed", "borrowed"),
                                           (made_and_dropped, "borrowed", "any_layout")])
def test_a_value_the_caller_made_is_borrowed_where_it_holds_it_for_every_call(fn, fwd, bwd):
    """The caller's ``y`` is borrowed by the forward call (the reverse call reads it later) and by
    both calls in a loop made after it; the reverse call that reads it last passes it counted, and
    so does every call of that function (one type per parameter: the recursion's own call too)."""
    x = np.array([0.3, -0.5, 0.7])
    source = numba_source(fn, x)
    calls = [line.strip() for line in source.splitlines() if "scaled_sum_" in line and "def " not in line
             and '"""' not in line]
    fwd_calls = [c for c in calls if "scaled_sum_fwd(" in c]
    bwd_calls = [c for c in calls if "scaled_sum_bwd(" in c]
    assert len(fwd_calls) == len(bwd_calls) == 2
    assert all(f"scaled_sum_fwd(adc_stacks.{fwd}(" in c for c in fwd_calls)
    assert all(f"scaled_sum_bwd(adc_stacks.{bwd}(" in c for c in bwd_calls)
    got = adc.grad(fn, jit=True)(x)
    np.testing.assert_allclose(got, fd_jacobian_of(fn, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, adc.grad(fn)(x), rtol=1e-13, atol=1e-14)


def test_a_local_array_passed_to_a_recursion_stays_counted():
    """``det_by_index`` passes ``rest = np.concatenate(...)``, made in the caller, to its recursive
    call: the caller may release it after its last read, so it is not borrowed."""
    source = numba_source(det_by_index, np.eye(3))
    assert "rest = np.concatenate(" in source and "borrowed(rest)" not in source
    assert "adc_stacks.borrowed(A)" in source


@pytest.mark.parametrize("jit", [True, "parallel"])
def test_det_hessian_under_jit(jit):
    """Forward over reverse: the derivative functions of the kept functions take the tapes and
    their tangent tapes, all shared."""
    A = np.random.default_rng(4).standard_normal((4, 4))
    H = adc.hessian(det_by_bits, jit=jit)(A)
    np.testing.assert_allclose(H, adc.hessian(det_by_bits)(A), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H, fd_jacobian_of(lambda M: jacobi(M), A), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.transpose(2, 3, 0, 1), atol=1e-12)


def test_det_parallel_gradient_and_vjp():
    A = np.random.default_rng(5).standard_normal((5, 5))
    np.testing.assert_allclose(adc.grad(det_by_bits, jit="parallel")(A), jacobi(A), rtol=1e-10, atol=1e-12)
    y, pullback = adc.vjp(det_by_bits, A, jit=True)
    assert y == pytest.approx(np.linalg.det(A), rel=1e-12)
    np.testing.assert_allclose(pullback(2.0)[0], 2.0 * jacobi(A), rtol=1e-10, atol=1e-12)


@numba.njit
def _fill_and_empty(tape, values):
    for v in values:
        tape.append(v)
    out = np.empty_like(values)
    for k in range(values.shape[0] - 1, -1, -1):
        out[k] = tape.pop()
    return out


@numba.njit
def _pop_through_a_borrowed_tape(values):
    tape = FloatTape()
    for v in values:
        borrowed(tape).append(v)  # the same tape: pushes through a borrowed one are seen
    return tape.pop(), tape.size


@numba.njit
def _push_and_pop(tape, values):
    """``_fill_and_empty`` through ``adc_stacks.push`` and ``pop``, as generated code spells them."""
    for v in values:
        push(tape, v)
    out = np.empty_like(values)
    for k in range(values.shape[0] - 1, -1, -1):
        out[k] = pop(tape)
    return out, tape.size


@pytest.mark.parametrize("make, values", [(FloatTape, np.linspace(-1.0, 1.0, 1000)),
                                          (IntTape, np.arange(-300, 700)),
                                          (BoolTape, np.arange(200) % 3 == 0)])
def test_tapes_grow_and_pop_in_reverse(make, values):
    @numba.njit
    def run(values):
        return _fill_and_empty(make(), values)

    @numba.njit
    def run_inline(values):
        return _push_and_pop(make(), values)

    np.testing.assert_array_equal(run(values), values)
    out, size = run_inline(values)
    np.testing.assert_array_equal(out, values)
    assert out.dtype == values.dtype and size == 0


def test_push_and_pop_mix_with_the_methods_and_are_a_lists_in_python():
    @numba.njit
    def mixed(values):
        tape = FloatTape()
        for v in values:
            push(tape, v)
        tape.append(-1.0)
        return tape.pop(), pop(tape), pop(tape), tape.size

    assert mixed(np.arange(130.0)) == (-1.0, 129.0, 128.0, 128)
    items = [1.0]
    push(items, 2.0)
    assert pop(items) == 2.0 and items == [1.0]


def test_a_borrowed_tape_is_the_same_tape_and_python_borrowed_is_identity():
    values = np.arange(100.0)
    assert _pop_through_a_borrowed_tape(values) == (99.0, 99)
    x = np.ones(3)
    assert borrowed(x) is x


def test_popping_an_empty_tape_raises():
    @numba.njit
    def pop_one():
        return FloatTape().pop()

    @numba.njit
    def pop_past_the_end():
        tape = IntTape()
        push(tape, 3)
        return pop(tape) + pop(tape)

    with pytest.raises(IndexError, match="empty tape"):
        pop_one()
    with pytest.raises(IndexError, match="empty tape"):
        pop_past_the_end()


def test_a_recursion_given_two_layouts_loads_from_numbas_cache(tmp_path):
    """Every array a kept call passes is typed as of any layout, so Numba compiles one version of
    each recursive function: a second process loads the module from the cache and runs it (it
    crashed with two versions cached)."""
    import subprocess

    script = ("import sys; sys.path.insert(0, sys.argv[1]); import numpy as np, adc, accumulate_funcs as m; "
              "x = np.array([0.3, -0.5, 0.9]); print(repr(adc.grad(m.ping_pong, jit=True)(x).tolist()))")
    # Numba's default optimisation level (the suite compiles at 0, where the crash did not show)
    env = {**__import__("os").environ, "ADC_CACHE_DIR": str(tmp_path / "cache"), "NUMBA_OPT": "3"}
    here = str(Path(__file__).resolve().parent)
    x = np.array([0.3, -0.5, 0.9])
    want = adc.grad(ping_pong)(x)
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script, here], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        np.testing.assert_allclose(eval(done.stdout), want, rtol=1e-12)  # noqa: S307 (a list of floats)
    np.testing.assert_allclose(want, fd_jacobian_of(ping_pong, x), rtol=1e-6, atol=1e-8)
    assert any((tmp_path / "cache" / "__pycache__").glob("*.ping_fwd-*.nbi"))  # Numba's cache was used


def scaled_then_summed(v, n):
    if n == 0:
        w = v * 3.0 + 1.0  # a new array the size of v, then v read again
        return np.sum(w * v)
    return scaled_then_summed(v, n - 1) * 1.5


def made_in_a_loop(x):
    s = 0.0
    for i in range(3):
        s = s + np.sin(scaled_then_summed(x * (i + 1.0), 2))
    return s


@pytest.mark.parametrize("jit", [True, "parallel"])
def test_a_value_recomputed_by_the_reverse_sweep_is_not_held_by_its_recomputation(jit):
    """The forward loop makes ``x * (i + 1.0)`` and passes it to the kept call as its last read;
    the reverse loop computes it again into the same variable and reads that.  The later read is
    of a new array, so the first is not held for the call: it is passed counted (it was borrowed,
    and released during the call: a wrong gradient under jit="parallel", found by review)."""
    x = np.linspace(0.2, 0.9, 5)
    got = adc.grad(made_in_a_loop, jit=jit)(x)
    np.testing.assert_allclose(got, fd_jacobian_of(made_in_a_loop, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, adc.grad(made_in_a_loop)(x), rtol=1e-13, atol=1e-14)
    source = numba_source(made_in_a_loop, x)
    assert "scaled_then_summed_fwd(adc_stacks.any_layout(" in source and "_fwd(adc_stacks.borrowed(" not in source


def powered_sum(u, m):
    if m <= 0:
        return np.sum(u * u)
    return np.sin(powered_sum(u, m - 1)) * u[0]


def passes_its_own_on(v, n, m):
    """Its ``v`` is borrowed; it passes it on to ``powered_sum``, which another caller gives a
    value it makes and drops (so ``powered_sum``'s parameters are counted)."""
    if n <= 0:
        return powered_sum(v, m)
    return np.cos(passes_its_own_on(v, n - 1, m)) * v[1]


def both_callers(x):
    m = int(x.shape[0]) - 3
    return powered_sum(x * 2.0, m) + passes_its_own_on(x, m, m)


def test_a_borrowed_value_passed_into_a_counted_slot_makes_no_second_version(tmp_path, monkeypatch):
    """Numba compiles one version of a function per type of its arguments: a borrowed array or tape
    passed on into a parameter that is counted is retyped as Numba's own (``any_layout``), so each
    kept function has one version (two versions of a recursive function in Numba's cache crash a
    process that loads them)."""
    monkeypatch.setenv("ADC_CACHE_DIR", str(tmp_path))
    x = np.array([0.3, -0.5, 0.7, 0.4, 0.9, -0.2])
    got = adc.grad(both_callers, jit=True)(x)
    np.testing.assert_allclose(got, fd_jacobian_of(both_callers, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, adc.grad(both_callers)(x), rtol=1e-13, atol=1e-14)
    modules = [m for name, m in sys.modules.items() if name.startswith("adc_both_callers_grad")]
    assert modules
    kept = [f for m in modules for name, f in vars(m).items() if name.endswith(("_fwd", "_bwd"))
            and hasattr(f, "signatures")]
    assert kept and all(len(f.signatures) == 1 for f in kept), [(f, f.signatures) for f in kept]

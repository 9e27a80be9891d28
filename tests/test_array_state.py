"""Array state (issue 9, families 1, 2 and 4; arrays rebound in loops and branches, issue 11): arrays are mutated in place, so every pass and both
transforms must read an array as it was when the program read it.  Each case: value and gradient
against the function itself and central finite differences, reverse == forward == jit, both
layouts of the generated code, the caller's arrays (and tangents) unchanged, and the inner-product
identity <vjp(u), v> == <u, jvp(v)>."""
from __future__ import annotations

import numpy as np
import pytest

import adc
import array_state_funcs as F
from cflow_regression_funcs import array_after_early_return
from layouts import assert_layouts_agree

RNG = np.random.default_rng(9)

CASES = [
    (F.sum_in_loop, (np.array([1.0, 2.0, 3.0]),)),
    (F.dot_rows_in_loop, (RNG.normal(size=(3, 2)), RNG.normal(size=2))),
    (F.written_then_squared, (1.2,)),
    (F.read_then_overwritten, (np.array([0.1, 0.2, 0.3]),)),
    (F.whole_read_in_loop_that_writes, (1.0,)),
    (F.exp_then_scaled, (np.array([0.1, 0.2, 0.3]),)),
    (F.slice_view_overwritten, (np.array([0.1, 0.2, 0.3]),)),
    (F.broadcast_scalar_minus, (0.5, np.array([0.1, 0.2, 0.3, 0.4]))),
    (F.times_one_then_written, (np.array([0.1, 0.2, 0.3]),)),
    (F.read_before_slice_update, (0.5, np.array([0.1, 0.2, 0.3]))),
    (F.dot_with_itself_written, (np.array([0.1, 0.2, 0.3]),)),
    (F.write_active_into_inactive, (0.7, np.array([0.1, 0.2, 0.3]))),
    (F.array_read_in_branch_in_loop, (np.array([0.1, 0.2, 0.3]), 0.9)),
    (F.array_read_in_branch_in_loop, (np.array([0.1, 0.2, 0.3]), 0.1)),
    (array_after_early_return, (0.7, -1.0)),
    (array_after_early_return, (0.7, 1.0)),
    (F.copy_made_in_loop, (np.array([0.4, -0.2, 0.3, 1.3]), 0.7)),
    (F.unused_copy_in_loop, (np.array([0.4, -0.2, 0.3, 1.3]),)),
    (F.scalar_plus_ones_then_written, (1.075,)),
    (F.scalar_broadcast_tangent, (-1.37,)),
    (F.view_read_after_write, (np.array([-1.057, -0.553, -0.286, 0.726]),)),
    (F.dot_read_then_written_in_loop, (0.5, np.array([0.1, 0.2, 0.3]))),
    (F.rows_of_written_matrix_in_while, (np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.2]]), 0.8)),
    (F.rnn_state_rebound, (RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=3), RNG.normal(size=4))),
    (F.array_rebound_in_branch, (RNG.normal(size=3), 0.5)),
    (F.array_rebound_in_branch, (RNG.normal(size=3), -0.5)),
    (F.euler_array_state, (RNG.normal(size=3), 0.7)),
    (F.array_rebound_in_while, (RNG.normal(size=3),)),
    (F.assign_array_to_itself, (np.array([0.3, 0.5, 0.7]),)),
    (F.times_one_of_array_written_later, (np.array([0.3, 0.5, 0.7]), 0.8)),
    (F.same_expression_twice_one_written, (np.array([-1.3, 0.9, -0.1]),)),
    (F.shift_register, (RNG.normal(size=4), 3)),
    (F.rnn_reads_its_state, (RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=(3, 3)) * 0.5)),
    (F.euler_reads_an_element, (RNG.normal(size=3), 0.7)),
    (F.branch_rebinds_then_indexed, (np.array([0.5, 0.2, 0.3]),)),
    (F.branch_rebinds_then_indexed, (np.array([-0.5, 0.2, 0.3]),)),
    (F.while_reads_its_state, (np.array([0.5, 0.2, 0.3]),)),
    (F.rebound_and_written_in_loop, (np.array([0.3, 0.5, 0.7]),)),
    (F.written_copy_of_carried, (np.array([0.3, 0.5, 0.7]),)),
    (F.branch_rebinds_and_writes, (np.array([0.3, 0.5, 0.7]), 1.0)),
    (F.branch_rebinds_and_writes, (np.array([0.3, 0.5, 0.7]), -1.0)),
    (F.lstm_like_rows, (RNG.normal(size=(3, 2)) * 0.5, RNG.normal(size=2))),
]
IDS = [f"{fn.__name__}-{k}" for k, (fn, _) in enumerate(CASES)]


def copies(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def fd_gradient(fn, args, i, h=1e-6):
    """Central differences of scalar ``fn`` w.r.t. ``args[i]`` (a float or a float array)."""
    def at(delta, k=None):
        moved = list(copies(args))
        if k is None:
            moved[i] = moved[i] + delta
        else:
            moved[i][k] += delta
        return fn(*moved)

    if not isinstance(args[i], np.ndarray):
        return (at(h) - at(-h)) / (2 * h)
    out = np.zeros_like(args[i])
    for k in np.ndindex(args[i].shape):
        out[k] = (at(h, k) - at(-h, k)) / (2 * h)
    return out


def float_args(fn, args):
    return [i for i, a in enumerate(args) if isinstance(a, (float, np.ndarray))]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn,args", CASES, ids=IDS)
def test_value_and_gradient(fn, args, mode, jit):
    argnums = tuple(float_args(fn, args))
    want_value = fn(*copies(args))
    given = copies(args)
    value, grads = adc.value_and_grad(fn, argnums=argnums, mode=mode, jit=jit)(*given)
    np.testing.assert_allclose(value, want_value, rtol=1e-12, atol=1e-12)
    for i, g in zip(argnums, grads):
        np.testing.assert_allclose(g, fd_gradient(fn, args, i), rtol=1e-6, atol=1e-7,
                                   err_msg=f"d/d arg {i} ({mode}, jit={jit})")
    for a, b in zip(given, args):
        np.testing.assert_array_equal(a, b, err_msg="the caller's argument changed")


@pytest.mark.parametrize("fn,args", CASES, ids=IDS)
def test_layouts_agree(fn, args):
    argnums = tuple(float_args(fn, args))
    for mode in ("reverse", "forward"):
        assert_layouts_agree(fn, args, argnums, mode)


@pytest.mark.parametrize("fn,args", CASES, ids=IDS)
def test_vjp_jvp_inner_product(fn, args):
    """<vjp(u), v> == <u, jvp(v)>, and neither touches the caller's primals or tangents."""
    argnums = float_args(fn, args)
    primals = copies(args)
    tangents = tuple(RNG.normal(size=np.shape(a)) if i in argnums and isinstance(a, np.ndarray)
                     else (0.3 if i in argnums else 0.0) for i, a in enumerate(args))
    kept = copies(tangents)
    _, tangent_out = adc.jvp(fn, primals, tangents)
    _, pullback = adc.vjp(fn, *primals)
    u = 1.7
    cotangents = pullback(u)
    lhs = sum(float(np.sum(np.asarray(cotangents[i]) * np.asarray(tangents[i]))) for i in argnums)
    np.testing.assert_allclose(lhs, u * tangent_out, rtol=1e-10, atol=1e-12)
    for a, b in zip(tangents, kept):
        np.testing.assert_array_equal(a, b, err_msg="jvp changed the caller's tangent")
    for a, b in zip(primals, args):
        np.testing.assert_array_equal(a, b, err_msg="a transform changed the caller's argument")



def test_a_write_into_an_array_a_loop_carries_under_another_name_is_refused():
    x = np.array([0.3, 0.8, -0.4, 0.6, 0.9])
    for mode in ("reverse", "forward"):
        with pytest.raises(adc.UnsupportedError, match=r"writing into `y0`, which `y` may also show") as info:
            adc.grad(F.written_while_a_loop_carries_it, mode=mode)(x)
        assert "y = y0.copy()" in str(info.value)
    want = np.array([(F.copied_before_a_loop_carries_it(x + e) - F.copied_before_a_loop_carries_it(x - e)) / 2e-6
                     for e in np.eye(5) * 1e-6])
    for mode, jit in (("reverse", False), ("forward", False), ("reverse", True)):
        got = adc.grad(F.copied_before_a_loop_carries_it, mode=mode, jit=jit)(x)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
